"""Hardware in the loop: the flip-chip bonder driver against the simulated bonder on the wire.

The physics with numbers: the run's process time, the filler rising by the terminals' volume
(filler + terminal equal to the hole within 5 % leaves neither overflow nor void, 10 % more
overflows, 10 % less leaves a void), a misaligned die held off its holes, a joint only above
the filler's liquidus, a paste filler's gel, gold thermocompression on pads (003:24) and a
eutectic layer wetting there; the claim conditions 000:c, 000:d and 003:24 true for a right
process and false for a wrong one; a eutectic layer transferred onto high-melting bumps
above its liquidus with their cores solid (003:20-21), none below it, and a bump too low for
the sheet's film missed; a chip-size package's solder balls joined on a board's pads above
their liquidus (002:7), none below it; and the bonder's refusals (misfit, an undiced source,
an occupied unit, too few dies, another solder on the bumps).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import CommandRefused, ToolAlarm
from packline.drivers.flip_chip_bonder import AsciiFlipChipBonder
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.flip_chip_bonder import BondRecipe, SolderTransfer, TransferAlloy
from packline.sequences.conditions import (
    dies_bonded_face_down,
    filler_at_hole_tops,
    joint_at_every_terminal,
    layer_reflowed_core_solid,
    terminals_seated,
)
from packline.sim_instruments.flip_chip_bonder import SimFlipChipBonder
from packline.sim_instruments.physics.flip_chip_bonder import (
    FlipChipPhysics,
    Placement,
    bond_dies,
    fit_terminals,
    free_dies,
    place,
    terminal_layout,
)
from packline.sim_instruments.physics.flip_chip_transfer import (
    closed_gap_um,
    kept_layer_um,
    least_layer,
    transfer_layer,
)
from packline.sim_instruments.twin import TwinStore, WaferSpec, Workpiece
from packline.sim_instruments.twin.resolution import on_map_grid
from packline.station import Station
from packline.testing import open_rig
from packline.testing.twin import DIE_WAFER, bumped_dies, filled_panel, form_solder_bumps

SEATED = terminals_seated("000:c")
AT_TOP = filler_at_hole_tops("000:c")
BONDED = dies_bonded_face_down("000:d")
JOINED = joint_at_every_terminal("003:24")
#: The layer melted on, the Pb95Sn5 cores solid, by the joint the transfer recorded.
CORES_SOLID = layer_reflowed_core_solid("003:20", "Sn63Pb37", "Pb95Sn5")
#: A solder filler wets: the joint at 150 + 0.9 * 100 = 240 degC, above Sn42Bi58's 138 degC.
SOLDER = BondRecipe(head_temperature_c=250, stage_temperature_c=150, bond_force_n=20, bond_time_s=5)
#: The page's numbers, restated: a 150 um hole 75 um deep; a 60 um stud of 100 um base.
HOLE_NL = math.pi / 4 * 150**2 * 75 * 1e-6
TERMINAL_NL = 0.6 * math.pi / 4 * 100**2 * 60 * 1e-6
#: What the bond and the transfer below write on the twin, taken from the model before a
#: step's layouts and hole areas were worked out once (bench/twin.py).
BOND_SHA256 = "6b4c583f9573d929c85124df3dc75e58acc7fa3dc45540d848eb0fa24de8f70f"
#: (The transfer's, retaken when the sheet's tolerance and the tips' coplanarity entered it.)
TRANSFER_SHA256 = "d72267030e79ffc216cab9258b1ac6c3dff0b6d467b75ddbf2bd7270dc972df0"


def holds(condition, workpiece: Workpiece) -> bool:
    checked, passing = condition.sites(workpiece)
    return checked > 0 and checked == passing


@asynccontextmanager
async def bonder_on_line(
    twin: TwinStore, transport: str = "socket"
) -> AsyncIterator[tuple[SimFlipChipBonder, AsciiFlipChipBonder]]:
    """A simulated bonder served on `transport` and the driver connected to it, on one clock."""
    sim = SimFlipChipBonder("fc", twin, VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, AsciiFlipChipBonder, poll_interval_s=5.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_dies_go_into_the_filled_holes_and_bond(transport):
    twin = TwinStore()
    panel = filled_panel(twin, "P1")
    source = bumped_dies(twin, "W1")
    async with bonder_on_line(twin, transport) as (sim, bonder):
        await bonder.load("P1")
        assert await bonder.load_die_source("W1") == source.geometry.unit_count == 88
        started = sim.clock.now()
        result = await bonder.bond_dies(SOLDER)
        ended = sim.last.ends_s if sim.last else math.nan
        status = await bonder.request_status()
    # the stage's ramp from the room at 2 degC/s, then 3 s + 100 degC at 100 degC/s + 5 s a die
    assert ended - started == pytest.approx((150 - AMBIENT_C) / 2 + 6 * 9.0)
    assert (result.dies_placed, result.dies_bonded, result.terminals) == (6, 6, 144)
    assert (result.terminals_seated, result.terminals_joined) == (144, 144)
    assert result.max_offset_um < 4 * 2.0 * math.sqrt(2)
    assert result.fill_level_min_percent == result.fill_level_max_percent == 100.0
    assert result.holes_spilled == 0
    assert status.dies_left == 82
    assert panel.fill.level_um == pytest.approx(np.full(144, 75.0), abs=0.01)
    assert panel.dies.terminal_nl == pytest.approx(np.full(144, TERMINAL_NL), rel=1e-4)
    assert panel.dies.face_down.all()
    assert list(panel.dies.unit) == [0, 1, 2, 3, 4, 5]
    assert source.singulation.picked == list(range(6))
    assert all(holds(c, panel) for c in (SEATED, AT_TOP, BONDED, JOINED))
    assert panel.operations() == ["flip-chip bond"] * len(panel.history)


async def test_a_panel_draws_its_placement_whatever_the_bonder_bonded_before():
    """A panel's dies land where they land on a bonder that bonded another panel first as on a
    fresh one, as a resumed run's fresh simulated line bonds the panels after the stop: the
    vision's errors are drawn from the panel's generator (`Workpiece.draws`), not the tool's."""
    offsets = []
    for panels in (["P1", "P2"], ["P2"]):
        twin = TwinStore()
        bumped_dies(twin, "W1")
        async with bonder_on_line(twin) as (_, bonder):
            await bonder.load_die_source("W1")
            for panel_id in panels:
                filled_panel(twin, panel_id)
                await bonder.load(panel_id)
                await bonder.bond_dies(SOLDER)
                await bonder.unload(panel_id)
        offsets.append(twin.get("P2").dies.offset_um)
    after_another, first = offsets
    assert first.any()  # the vision's errors are drawn, not nil
    np.testing.assert_array_equal(after_another, first)


async def test_the_held_wait_is_answered_as_the_run_ends():
    """Holding the driver's wait, the bonder looks at itself when its stage is at temperature
    and when the run's last die is due: the driver sees the run end as it ends."""
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    async with bonder_on_line(twin) as (sim, bonder):
        await bonder.load("P1")
        await bonder.load_die_source("W1")
        await bonder.bond_dies(SOLDER)
        assert sim.last is not None
        assert sim.clock.now() == pytest.approx(sim.last.ends_s, abs=1e-6)


@pytest.mark.parametrize(
    ("fill_ratio", "level_percent", "spilt_of_hole", "spilled", "at_top"),
    [
        (1.0, 100.0, 0.0, 0, True),
        (1.04, 104.0, 0.0, 0, True),
        (0.96, 96.0, 0.0, 0, True),
        (1.10, 105.0, 0.05, 144, False),  # overflows: the level in tolerance, the X-ray's spill
        (0.90, 90.0, 0.0, 0, False),  # a void under the die
    ],
)
async def test_filler_and_terminal_against_the_hole_volume(
    fill_ratio, level_percent, spilt_of_hole, spilled, at_top
):
    twin = TwinStore()
    panel = filled_panel(twin, "P1", fill_ratio=fill_ratio)
    bumped_dies(twin, "W1")
    assert panel.fill.volume_nl + TERMINAL_NL == pytest.approx(
        np.full(144, fill_ratio * HOLE_NL), rel=1e-5
    )
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        await bonder.load_die_source("W1")
        result = await bonder.bond_dies(SOLDER)
    assert result.fill_level_min_percent == pytest.approx(level_percent, abs=0.05)
    assert result.holes_spilled == spilled
    assert panel.fill.overflow_nl / HOLE_NL == pytest.approx(np.full(144, spilt_of_hole), abs=1e-5)
    assert holds(AT_TOP, panel) is at_top
    assert holds(SEATED, panel)
    # the claim check's margin reads a hole that spilt as over, not held at its meniscus
    assert AT_TOP.margin is not None
    worst = AT_TOP.margin.worst_site(panel, panel.geometry.hole).value
    assert worst == pytest.approx(100 * abs(fill_ratio - 1), abs=0.05)
    assert (AT_TOP.margin.distance(worst) >= 0) is at_top


async def test_a_misaligned_die_is_held_off_its_holes():
    twin = TwinStore()
    panel = filled_panel(twin, "P1")
    bumped_dies(twin, "W1")
    async with bonder_on_line(twin) as (sim, bonder):
        sim.inject_fault("vision_drift")  # 40 um off: beyond the (150 - 100) / 2 um clearance
        await bonder.load("P1")
        await bonder.load_die_source("W1")
        result = await bonder.bond_dies(SOLDER, unit_count=2)
    assert (result.dies_placed, result.terminals_seated, result.dies_bonded) == (2, 0, 0)
    assert result.max_offset_um > 30
    assert not holds(SEATED, panel)
    assert not holds(BONDED, panel)
    assert not holds(AT_TOP, panel)  # no terminal pushed the filler up


@pytest.mark.parametrize(
    ("filler", "recipe", "joined"),
    [
        ("SNBI", SOLDER, True),
        # joint at 100 + 0.9 * 30 = 127 degC: below the liquidus, the solder never melts
        ("SNBI", BondRecipe(130, 100, 20, 5), False),
        # above the liquidus but for 1 s: too short to wet
        ("SNBI", BondRecipe(250, 150, 20, 1), False),
        # a conductive paste gels around the terminal above 150 degC for 5 s
        ("AG-PASTE", BondRecipe(200, 120, 20, 6), True),
        ("CU-PASTE", BondRecipe(200, 120, 20, 3), False),
    ],
)
async def test_the_joint_in_the_hole_follows_the_filler(filler, recipe, joined):
    twin = TwinStore()
    panel = filled_panel(twin, "P1", filler=filler)
    bumped_dies(twin, "W1")
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("P1")
        await bonder.load_die_source("W1")
        result = await bonder.bond_dies(recipe, unit_count=1)
    assert result.terminals_seated == 24
    assert result.terminals_joined == (24 if joined else 0)
    assert holds(BONDED, panel) is False  # one die of six units
    assert bool(panel.dies.bonded[0]) is joined


@pytest.mark.parametrize(
    ("material", "layer", "recipe", "joined"),
    [
        # gold on the pads by thermocompression: joint 150 + 0.9 * 200 = 330 degC, 30 N / 32
        ("Au", None, BondRecipe(350, 150, 30, 2), True),
        ("Au", None, BondRecipe(300, 150, 30, 2), False),  # joint 285 degC: too cold
        ("Au", None, BondRecipe(350, 150, 5, 2), False),  # 0.16 N a terminal: too little
        # a eutectic layer on high-melting bumps (003:21) wets above 183 degC
        ("Pb95Sn5", "Sn63Pb37", BondRecipe(230, 100, 10, 3), True),
        ("Pb95Sn5", None, BondRecipe(230, 100, 10, 3), False),
    ],
)
async def test_a_chip_mounted_on_pads_by_its_bumps(material, layer, recipe, joined):
    # 003:24: the substrate's sites are pads (no holes); a wafer of the source's layout
    spec = WaferSpec(diameter_mm=100, pads_per_die_side=8)
    twin = TwinStore()
    board = twin.receive("B1", spec)
    source = bumped_dies(twin, "W1", spec=spec, material=material)
    if layer is not None:
        source.bumps.layer_um[:] = 8.0
        source.bumps.layer_alloy = layer
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("B1")
        await bonder.load_die_source("W1")
        result = await bonder.bond_dies(recipe, unit_count=3)
    assert (result.terminals, result.terminals_seated) == (96, 96)
    assert result.fill_level_max_percent == 0.0  # no hole
    assert holds(JOINED, board) is joined
    assert result.every_die_bonded is joined


@pytest.mark.parametrize(
    ("head_c", "joined"),
    [
        (270, True),  # the joint at 100 + 0.9 x 170 = 253 degC: SAC305 (220 degC) wets
        (220, False),  # 208 degC: the balls stay solid on the pads
    ],
)
async def test_a_chip_size_package_mounted_on_pads_by_its_solder_balls(head_c, joined):
    # 002:7: the dies of a diced wafer whose terminals are SAC305 balls joined on its lands
    # (no bumps), on a board of the same layout
    spec = WaferSpec(diameter_mm=100, pads_per_die_side=8)
    twin = TwinStore()
    board = twin.receive("B1", spec)
    source = twin.receive("W1", spec)
    balls = source.balls
    balls.present[:] = balls.joined[:] = True
    balls.diameter_um[:] = 300.0
    balls.alloy = "SAC305"
    source.singulation.units = source.geometry.unit_count
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("B1")
        await bonder.load_die_source("W1")
        result = await bonder.bond_dies(BondRecipe(head_c, 100, 10, 3), unit_count=2)
    assert (result.terminals, result.terminals_seated) == (64, 64)
    assert result.terminals_joined == (64 if joined else 0)
    assert holds(JOINED, board) is joined


async def test_the_bonder_refuses_what_it_cannot_bond():
    twin = TwinStore()
    filled_panel(twin, "P1")
    bumped_dies(twin, "W1", spec=WaferSpec(diameter_mm=100, pads_per_die_side=4))  # 10 mm dies
    bumped_dies(twin, "W2")
    twin.receive("W3", DIE_WAFER)  # not diced, no bumps
    async with bonder_on_line(twin) as (sim, bonder):
        await bonder.load("P1")
        with pytest.raises(CommandRefused, match="not diced into its 88 dies") as undiced:
            await bonder.load_die_source("W3")
        await bonder.load_die_source("W1")
        with pytest.raises(CommandRefused, match="terminals") as misfit:
            await bonder.bond_dies(SOLDER)
        await bonder.unload_die_source("W1")
        await bonder.load_die_source("W2")
        await bonder.bond_dies(SOLDER, unit_count=2)
        with pytest.raises(CommandRefused, match="unit 1 already carries a die") as occupied:
            await bonder.bond_dies(SOLDER, first_unit=1, unit_count=2)
        sim.twin.get("W2").singulation.picked.extend(range(2, 85))  # three dies left
        with pytest.raises(CommandRefused, match="3 dies left") as few:
            await bonder.bond_dies(SOLDER, first_unit=2)
        assert bonder.state is ToolState.IDLE
    codes = [info.value.code for info in (undiced, misfit, occupied, few)]
    assert codes == ["9", "11", "10", "8"]


async def test_an_alarm_keeps_the_dies_bonded_and_rejects_the_one_on_the_head():
    twin = TwinStore()
    panel = filled_panel(twin, "P1")
    source = bumped_dies(twin, "W1")
    async with bonder_on_line(twin) as (sim, bonder):
        await bonder.load("P1")
        await bonder.load_die_source("W1")
        task = asyncio.create_task(bonder.bond_dies(SOLDER))
        while sim.run is None or sim.run.done < 2:
            await sim.clock.sleep(1.0)
            sim.advance()  # the model to now: the driver's held wait does not look meanwhile
        sim.inject_fault("air_loss")
        with pytest.raises(ToolAlarm, match="AIR_LOST"):
            await task
        assert bonder.state is ToolState.FAULT
    assert panel.dies.count == 2
    assert panel.dies.bonded.all()
    assert source.singulation.picked == [0, 1, 2]  # the third went to the reject bin


@pytest.mark.parametrize(
    ("alloy", "recipe", "coated"),
    [
        # joint 100 + 0.9 * 130 = 217 degC: above Sn63Pb37's 183, below the core's 314
        (TransferAlloy.SN63PB37, BondRecipe(230, 100, 10, 3), True),
        # joint 100 + 0.9 * 70 = 163 degC: the sheet's solder never melts
        (TransferAlloy.SN63PB37, BondRecipe(170, 100, 10, 3), False),
        # joint 130 + 0.9 * 100 = 220 degC: SAC305's liquidus, not above it
        (TransferAlloy.SAC305, BondRecipe(230, 130, 10, 3), False),
    ],
)
async def test_a_eutectic_layer_is_transferred_onto_high_melting_bumps(alloy, recipe, coated):
    # 003:21-22: a wafer of Pb95Sn5 bumps, bumps up on the stage, the sheet's 20 um film
    twin = TwinStore()
    wafer = bumped_dies(twin, "W1", material="Pb95Sn5")
    heights = wafer.bumps.height_um.copy()
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("W1")
        result = await bonder.transfer_solder_layer(SolderTransfer(alloy, 20, recipe))
    assert (result.wafer_id, result.alloy, result.dies) == ("W1", alloy, 88)
    assert result.bumps == 88 * 24
    # the bonder reports the joint it heated every die's bumps to, coated or not
    assert result.joint_max_c == pytest.approx(
        recipe.stage_temperature_c + 0.9 * (recipe.head_temperature_c - recipe.stage_temperature_c)
    )
    layered = wafer.bumps.layer_um > 0
    if coated:
        # half the film each tip dips through stays on it, every tip reaching the film; no
        # thinner than the least the physics gives (a film 9 % thin, the lowest tip 6 um down,
        # 10 N on 24 tips closing 3.3 um of it), no thicker than half a film 9 % thick
        least = least_layer(20, 10 / 24, FlipChipPhysics())
        assert (least.film_um, least.gap_um, least.closed_um) == pytest.approx(
            (18.2, 6, 3.333), abs=1e-3
        )
        assert least.layer_um == pytest.approx(0.5 * (18.2 - (6 - 3.333)), abs=1e-3)
        assert result.every_bump_coated
        assert least.layer_um - 0.01 <= result.layer_min_um < result.layer_mean_um < 10.9
        assert result.layer_mean_um == pytest.approx(10.0, abs=0.3)
        assert wafer.bumps.layer_um[layered].min() >= least.layer_um - 1e-4
        assert wafer.bumps.height_um == pytest.approx(heights + wafer.bumps.layer_um)
        assert wafer.bumps.layer_alloy == alloy.value
        assert all(holds(condition, wafer) for condition in CORES_SOLID)
    else:
        assert (result.bumps_coated, result.layer_mean_um) == (0, 0.0)
        assert not layered.any()
        assert not any(holds(condition, wafer) for condition in CORES_SOLID)
    assert wafer.operations()[-1] == "solder transfer"


@pytest.mark.parametrize(
    ("head_c", "joint_c"), [(230, AMBIENT_C + 0.9 * (230 - AMBIENT_C)), (20, AMBIENT_C)]
)
async def test_a_stage_set_below_the_room_holds_the_room_and_the_run_bonds_at_it(head_c, joint_c):
    """No chiller: a tester's `XFER` with the stage at 20 degC (the tool's range starts there)
    read `STAGE=20.0` and joined at a joint worked out from 20 degC; the stage stays at the
    22 degC room, as docs/simulated-line.md says, and the run heats the joint from there. A
    head set below the room is at the room too: a joint never below it."""
    twin = TwinStore()
    bumped_dies(twin, "W1", material="Pb95Sn5")
    async with bonder_on_line(twin) as (sim, bonder):
        await bonder.load("W1")
        assert await sim.handle(f"XFER 0 1 Sn63Pb37 20 {head_c} 20 10 3") == "OK 1"
        await sim.clock.sleep(60)
        assert "STAGE=22.0" in (await sim.handle("STAT?") or "")
        result = await bonder.request_last_transfer()
    assert result is not None
    assert result.joint_max_c == pytest.approx(joint_c)


async def test_unloading_a_source_that_is_not_loaded_says_what_is():
    """A tester's `SRC:UNLOAD W1` with no source loaded read `die source none is loaded`."""
    twin = TwinStore()
    bumped_dies(twin, "W1")
    bumped_dies(twin, "W2")
    sim = SimFlipChipBonder("fc", twin, VirtualClock())
    assert await sim.handle("SRC:UNLOAD W1") == "ERR 8 no die source is loaded, not W1"
    assert await sim.handle("SRC:LOAD W2") == "OK 88"
    assert await sim.handle("SRC:UNLOAD W1") == "ERR 8 die source W2 is loaded, not W1"


async def test_the_flat_sheet_misses_a_bump_lower_than_its_film():
    twin = TwinStore()
    wafer = bumped_dies(twin, "W1", material="Pb95Sn5")
    wafer.bumps.height_um[5] -= 25.0  # 25 um lower than its die's others: out of a 20 um film
    async with bonder_on_line(twin) as (_, bonder):
        await bonder.load("W1")
        transfer = SolderTransfer(TransferAlloy.SN63PB37, 20, BondRecipe(230, 100, 10, 3))
        result = await bonder.transfer_solder_layer(transfer, unit_count=1)
        with pytest.raises(CommandRefused, match="Sn63Pb37 layer") as other:
            await bonder.transfer_solder_layer(
                SolderTransfer(TransferAlloy.SAC305, 20, BondRecipe(260, 100, 10, 3))
            )
    assert (result.dies, result.bumps, result.bumps_coated) == (1, 24, 23)
    assert wafer.bumps.layer_um[5] == 0.0
    assert other.value.code == "12"


def test_a_placement_is_drawn_on_the_map_grid():
    """Each die's offset (about a bias off the grid) and rotation are kept on the map grid
    (decision 0123: a value `on_map_grid` leaves as it is), still spread die by die."""
    placement = place(500, (1.3, -0.7), FlipChipPhysics(), np.random.default_rng(0))
    for drawn in (placement.offset_um, placement.rotation_mdeg):
        assert drawn.dtype == np.float32
        assert np.array_equal(on_map_grid(drawn), drawn)
        assert np.unique(drawn).size > 400


def test_a_lower_tip_dips_less_far_into_the_film():
    """The layer a tip keeps, restated: the head's 20 N on 32 tips (0.625 N each) presses the
    sheet 8 um/N x 0.625 = 5 um below the die's tallest tip; a tip 5 um below it still dips
    through the whole 20 um film (10 um of layer), one 8 um below through 17 um (8.5 um), one
    25 um below through none."""
    physics = FlipChipPhysics()
    closed = float(closed_gap_um(20 / 32, physics))
    assert closed == pytest.approx(5.0)
    layers = kept_layer_um(20.0, np.array([0.0, 5.0, 8.0, 24.9, 25.0, 40.0]), closed, physics)
    assert layers == pytest.approx([10.0, 10.0, 8.5, 0.05, 0.0, 0.0])


def test_the_transfer_spread_is_the_wafers_own_however_its_dies_are_stepped():
    """Each die's film and tips are drawn from the wafer's seed, its id and the die's index:
    one run over ten dies and another stepped three then seven leave the same layers to the
    bit; another wafer's differ; every layer lies between the least (`least_layer`) and half
    the thickest film the tolerance lets (20 um x 1.09)."""

    def layers(wafer_id: str, steps: list[slice]) -> np.ndarray:
        wafer = TwinStore().receive(wafer_id, DIE_WAFER)
        form_solder_bumps(wafer, 80.0, 100.0)
        for step in steps:
            transfer_layer(wafer, np.arange(10)[step], "Sn63Pb37", 20.0, SOLDER, FlipChipPhysics())
        return wafer.bumps.layer_um.copy()

    whole = layers("W1", [slice(None)])
    assert np.array_equal(whole, layers("W1", [slice(0, 3), slice(3, None)]))
    assert not np.array_equal(whole, layers("W2", [slice(None)]))
    tips = terminal_layout(TwinStore().receive("W1", DIE_WAFER).geometry).sites[:10].size
    coated = whole[whole > 0]
    assert coated.size == tips
    least = least_layer(20.0, SOLDER.bond_force_n / (tips // 10), FlipChipPhysics()).layer_um
    assert least - 1e-4 <= coated.min() < coated.max() <= 0.5 * 20.0 * 1.09 + 1e-4


async def test_the_station_fixture_reaches_the_flip_chip_bonder(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real bonder (it bonds nothing: it reads the bonder, loads and unloads a substrate)."""
    (name,) = station.tools_for_role("flip_chip_bonder")
    async with station.open_tool(name) as bonder:
        assert isinstance(bonder, AsciiFlipChipBonder)
        status = await bonder.request_status()
        if bonder.state is ToolState.IDLE and status.substrate_id is None:
            await bonder.load("HIL01")
            assert (await bonder.request_status()).substrate_id == "HIL01"
            assert await bonder.request_unit_count() > 0
            await bonder.unload("HIL01")
            assert (await bonder.request_status()).substrate_id is None


def _digest(*values: object) -> str:
    """A sha256 over the bytes of `values` (arrays, and lists or text as their text)."""
    digest = hashlib.sha256()
    for value in values:
        data = value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode()
        digest.update(data)
    return digest.hexdigest()


def _bond_outcome(substrate: Workpiece) -> tuple[object, ...]:
    """What a bond writes on its substrate: the dies part and the filler."""
    dies, fill = substrate.dies, substrate.fill
    return (
        *(dies.unit, dies.offset_um, dies.rotation_mdeg, dies.thickness_um, dies.bonded),
        *(dies.face_down, dies.source_unit, dies.source, dies.seated, dies.joined),
        *(dies.terminal_nl, fill.volume_nl, fill.level_um, fill.overflow_nl),
    )


#: Dies placed off nominal by hand (no random draw: the pin holds whatever the generator's
#: stream): on, a little off, off by more than the hole's clearance, turned.
HAND_PLACED = Placement(
    np.array([[0, 0], [8, -3], [0, 30], [-12, 5], [2, 2], [-40, 0]], np.float32),
    np.array([0, 20, 0, -50, 900, 0], np.float32),
)


def _bonded_panel_and_chips_on_a_wafer() -> str:
    """Dies into an over-filled panel's holes (some held off), and dies on a wafer's pads by
    thermocompression, as `bench/twin.py` times them."""
    twin, physics = TwinStore(), FlipChipPhysics()
    panel = filled_panel(twin, "P1", fill_ratio=1.08)
    source = bumped_dies(twin, "W1")
    match = fit_terminals(
        terminal_layout(panel.geometry), terminal_layout(source.geometry), physics
    )
    units = np.arange(panel.geometry.unit_count)
    on_panel = bond_dies(
        panel, source, units, free_dies(source)[: units.size], match, HAND_PLACED, SOLDER, physics
    )
    wafer = twin.receive("W2", DIE_WAFER)
    hot = BondRecipe(
        head_temperature_c=350, stage_temperature_c=150, bond_force_n=20, bond_time_s=5
    )
    pads = fit_terminals(terminal_layout(wafer.geometry), terminal_layout(source.geometry), physics)
    on_wafer = bond_dies(
        wafer, source, np.arange(6), free_dies(source)[:6], pads, HAND_PLACED, hot, physics
    )
    return _digest(
        on_panel,
        on_wafer,
        *_bond_outcome(panel),
        *_bond_outcome(wafer),
        source.singulation.picked,
    )


def _layer_transferred() -> str:
    """A Sn63Pb37 layer transferred onto high-melting bumps of uneven height."""
    twin = TwinStore()
    wafer = twin.receive("W1", DIE_WAFER)
    form_solder_bumps(wafer, 80.0, 100.0)
    wafer.bumps.height_um[::7] -= 25.0  # lower than the film reaches
    coated = transfer_layer(wafer, np.arange(10), "Sn63Pb37", 20.0, SOLDER, FlipChipPhysics())
    bumps = wafer.bumps
    return _digest(coated, bumps.height_um, bumps.layer_um, bumps.solid_core, bumps.layer_alloy)


def test_the_bond_and_transfer_physics_lay_the_same_bits():
    """What the bond and the transfer leave on the twin, to the bit (digests taken before the
    layouts and hole areas were computed once per step): a speed-up changes no result."""
    assert _bonded_panel_and_chips_on_a_wafer() == BOND_SHA256
    assert _layer_transferred() == TRANSFER_SHA256
