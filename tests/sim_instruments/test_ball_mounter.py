"""The ball mounter: its physics on the workpiece twin, with numbers, and the real driver against
the simulated cell on loopback (hardware in the loop, on a virtual clock).

The twin's die of 4 mm with 4 pads a side puts its pads 1 mm apart along an edge and the two
pads beside a corner 283 um apart (0.5 mm in, 0.3 mm from the edge): balls of 300 um bridge
there, balls of 200 um do not, unless too much flux spreads them together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.ball_mounter import ModbusBallMounter
from packline.drivers.errors import CommandRefused, InterlockOpen, ToolAlarm
from packline.drivers.roles.ball_mounter import (
    FLUX_SPREAD,
    FLUX_SPREAD_SIGMAS,
    BallAlloy,
    BallMap,
    BallMounterPhase,
    CycleResult,
    FluxMethod,
    Inspection,
    Side,
)
from packline.drivers.roles.oven import LastResult
from packline.sim_instruments.ball_mounter import SimBallMounter
from packline.sim_instruments.physics.ball_mounter import (
    BallMountPhysics,
    apply_flux,
    inspect,
    mapped_sites,
    mount_balls,
    reach_past_the_resist_um,
    repair_balls,
    repair_sites,
    site_positions,
    touching,
)
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.twin import (
    Face,
    PanelSpec,
    ResinKind,
    TwinStore,
    WaferSpec,
    Workpiece,
    new_panel,
    new_wafer,
)
from packline.sim_instruments.twin.parts import OpeningProcess
from packline.sim_instruments.twin.resolution import on_map_grid
from packline.testing import Rig, count_looks, open_rig

SMALL_DIES = WaferSpec(diameter_mm=60, die_size_mm=(4.0, 4.0), pads_per_die_side=4)
EVERY = BallMap.every(16)
PHYSICS = BallMountPhysics()


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def mounted(
    workpiece: Workpiece,
    *,
    diameter_um: float,
    flux_um: float,
    ball_map: BallMap = EVERY,
    method: FluxMethod = FluxMethod.PRINT,
) -> Inspection:
    """Flux, mount and inspect every mapped site on the front; the inspection's counts."""
    mapped = mapped_sites(workpiece, ball_map.positions)
    apply_flux(workpiece, Face.FRONT, mapped, method, flux_um, PHYSICS, rng())
    mount_balls(workpiece, Face.FRONT, mapped, diameter_um, "SAC305", PHYSICS, rng(2))
    return inspect(workpiece, Face.FRONT, mapped)


# ----------------------------------------------------------------- physics


def test_a_sites_position_counts_from_its_units_first_site():
    wafer = new_wafer("W1", SMALL_DIES)
    positions = site_positions(wafer.geometry)
    assert positions.max() == 15
    assert np.array_equal(positions[:16], np.arange(16))
    assert np.bincount(positions).tolist() == [wafer.geometry.unit_count] * 16


def test_the_band_search_finds_every_overlapping_pair_and_no_other():
    generator = rng(7)
    x, y = generator.uniform(0, 5000, (2, 600))
    reach = generator.uniform(20, 120, 600)
    a, b = touching(x, y, reach)
    found = {tuple(sorted(pair)) for pair in zip(a.tolist(), b.tolist(), strict=True)}
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    overlap = np.triu(distance < reach[:, None] + reach[None, :], k=1)
    assert found == set(zip(*np.nonzero(overlap), strict=True))
    assert len(found) == len(a) > 0


def test_balls_go_on_every_open_mapped_site_with_none_missing_extra_or_bridged():
    wafer = new_wafer("W1", SMALL_DIES)
    counts = mounted(wafer, diameter_um=200, flux_um=60)
    sites = wafer.geometry.site_count
    assert counts == Inspection(sites_inspected=sites, missing=0, extra=0, bridged=0)
    assert wafer.balls.present.all()
    assert set(np.unique(wafer.balls.diameter_um)) == {200}


def test_balls_bigger_than_the_corner_pitch_bridge_there_and_only_there():
    wafer = new_wafer("W1", SMALL_DIES)
    corner = np.isin(site_positions(wafer.geometry), [0, 3, 4, 7, 8, 11, 12, 15])
    counts = mounted(wafer, diameter_um=400, flux_um=120)  # ratio 0.3: no swim
    # two pads 283 um apart beside each of a die's 4 corners; the next pads are 1 mm away
    assert counts.bridged == 8 * wafer.geometry.unit_count
    assert np.array_equal(wafer.balls.bridged, corner)
    # 300 um balls overlap the corner gap by 17 um: the placement spread (8 um a ball, per
    # axis) opens some of those
    close = new_wafer("W2", SMALL_DIES)
    counts = mounted(close, diameter_um=300, flux_um=90)
    assert 0.8 * corner.sum() < counts.bridged < corner.sum()
    assert not close.balls.bridged[~corner].any()


def test_too_much_flux_spreads_balls_of_a_safe_pitch_into_bridges():
    safe = mounted(new_wafer("W1", SMALL_DIES), diameter_um=200, flux_um=60)
    flooded = mounted(new_wafer("W2", SMALL_DIES), diameter_um=200, flux_um=240)
    corners = 8 * new_wafer("W3", SMALL_DIES).geometry.unit_count
    assert safe.bridged == 0
    # flux 240 um on 200 um balls: 120 um beyond the swim ratio widens each reach by 60 um,
    # 2 x 160 = 320 um against the corner pads' 283 um; the swimming balls' placement spread
    # (38 um a ball, per axis) opens about a quarter of them again
    assert 0.6 * corners <= flooded.bridged < corners


def test_too_little_flux_leaves_balls_missing_in_proportion():
    wafer = new_wafer("W1", SMALL_DIES)
    counts = mounted(wafer, diameter_um=200, flux_um=10)  # ratio 0.05: a third hold
    assert counts.missing / counts.sites_inspected == pytest.approx(2 / 3, abs=0.05)
    assert counts.missing == np.count_nonzero(~wafer.balls.present)


def test_pin_transfer_spreads_the_flux_more_than_a_print():
    printed, pinned = new_wafer("W1", SMALL_DIES), new_wafer("W2", SMALL_DIES)
    mapped = mapped_sites(printed, EVERY.positions)
    apply_flux(printed, Face.FRONT, mapped, FluxMethod.PRINT, 50, PHYSICS, rng())
    apply_flux(pinned, Face.FRONT, mapped, FluxMethod.PIN_TRANSFER, 50, PHYSICS, rng())
    assert printed.balls.flux_um.std() / 50 == pytest.approx(FLUX_SPREAD[FluxMethod.PRINT], rel=0.2)
    pin_spread = FLUX_SPREAD[FluxMethod.PIN_TRANSFER]
    assert pinned.balls.flux_um.std() / 50 == pytest.approx(pin_spread, rel=0.2)
    least = 50 * (1 - FLUX_SPREAD_SIGMAS * pin_spread)  # clipped: no site gets less
    assert pinned.balls.flux_um[pinned.balls.flux_um > 0].min() >= least - 1e-3


def test_a_peripheral_map_puts_balls_on_its_positions_only():
    wafer = new_wafer("W1", SMALL_DIES)
    corners = BallMap.of([0, 3, 4, 7, 8, 11, 12, 15])
    counts = mounted(wafer, diameter_um=200, flux_um=60, ball_map=corners)
    assert counts.sites_inspected == 8 * wafer.geometry.unit_count
    assert (counts.missing, counts.extra) == (0, 0)
    assert np.array_equal(wafer.balls.present, mapped_sites(wafer, corners.positions))
    # the full map inspected against the corner balls: the other eight are missing
    assert inspect(wafer, Face.FRONT, mapped_sites(wafer, EVERY.positions)).missing == (
        8 * wafer.geometry.unit_count
    )


def test_balls_only_on_openings_down_to_metal():
    wafer = new_wafer("W1", SMALL_DIES)
    _, openings = wafer.add_resin(ResinKind.SOLDER_RESIST, 20, cure=1.0)
    opened = site_positions(wafer.geometry) < 8
    openings.depth_um[opened] = 20
    openings.open[opened] = True
    counts = mounted(wafer, diameter_um=200, flux_um=60)
    assert np.array_equal(wafer.balls.present, opened)
    assert counts.missing == np.count_nonzero(~opened)
    assert not wafer.balls.flux_um[~opened].any()


def test_a_ball_in_a_front_via_joins_only_where_it_sinks_to_the_interconnect():
    """002:1i: 300 um balls on the open vias of a 12 um resin. Where a laser drilled 130 um
    vias through, a ball sinks 14.8 um (`ball_sag_um`), 2.8 um past the resin, and the
    reflow joins it; where a 146 um concave portion was developed 10 um down and a 40 um hole
    lasered through its bottom, the ball rests on the hole's rim, 10 + 1.3 um down, 0.7 um
    short of the metal, and stays unjoined; a 60 um via sinks it 3 um only, short by 9 um."""
    wafer = new_wafer("W1", SMALL_DIES)
    layer, openings = wafer.add_resin(ResinKind.THERMOSET, 12.0, cure=1.0)
    sites = wafer.geometry.site_count
    lasered, stepped = np.arange(sites) % 3 == 0, np.arange(sites) % 3 == 1
    narrow = ~lasered & ~stepped
    openings.depth_um[stepped] = 10.0
    openings.diameter_um[stepped] = 146.0
    openings.record(OpeningProcess.DEVELOP, layer.thickness_um)
    openings.depth_um[:] = 12.0
    openings.diameter_um[lasered] = 130.0
    openings.diameter_um[narrow] = 60.0
    openings.open[:] = True
    openings.record(OpeningProcess.LASER, layer.thickness_um, (np.flatnonzero(lasered), 130.0))
    openings.record(OpeningProcess.LASER, layer.thickness_um, (np.flatnonzero(stepped), 40.0))
    openings.record(OpeningProcess.LASER, layer.thickness_um, (np.flatnonzero(narrow), 60.0))
    assert mounted(wafer, diameter_um=300, flux_um=100).missing == 0
    reach = reach_past_the_resist_um(wafer)
    assert reach[lasered] == pytest.approx(150 - np.sqrt(150**2 - 65**2) - 12, abs=1e-4)
    assert reach[stepped] == pytest.approx(10 + 150 - np.sqrt(150**2 - 20**2) - 12, abs=1e-4)
    assert reach[narrow] == pytest.approx(150 - np.sqrt(150**2 - 30**2) - 12, abs=1e-4)
    apply_run(wafer, reflow_history(245), ReflowPhysics(), "oven", 700, LastResult.COMPLETED)
    assert np.array_equal(wafer.balls.joined, lasered)


def test_a_panel_takes_balls_on_its_back_only_through_the_solder_resist_openings():
    panel = new_panel("P1", PanelSpec(rows=2, columns=3))
    every = mapped_sites(panel, frozenset(range(24)))
    assert not panel.exposed_metal_on(Face.BACK).any()  # the resist covers the interconnect
    assert not panel.exposed_metal_on(Face.FRONT).any()  # the holes are not drilled yet
    resist = panel.top_resin(Face.BACK)
    assert resist is not None
    resist[1].open[:] = True
    apply_flux(panel, Face.BACK, every, FluxMethod.PRINT, 60, PHYSICS, rng())
    mount_balls(panel, Face.BACK, every, 250, "Sn63Pb37", PHYSICS, rng(2))
    assert panel.balls.present.all()
    assert panel.balls.face is Face.BACK
    assert inspect(panel, Face.FRONT, every).missing == panel.geometry.site_count


def test_a_second_mount_on_the_same_sites_counts_every_ball_extra():
    wafer = new_wafer("W1", SMALL_DIES)
    mounted(wafer, diameter_um=200, flux_um=60)
    again = mounted(wafer, diameter_um=200, flux_um=60)
    assert again.extra == wafer.geometry.site_count


def reflow_history(peak_c: float) -> LoadHistory:
    history = LoadHistory()
    for time_s, temperature_c in ((0, 25), (300, 180), (390, peak_c), (480, 180), (700, 50)):
        history.add(time_s, temperature_c, 50)
    return history


@pytest.mark.parametrize(("peak_c", "joined"), [(245, True), (210, False)])
def test_the_ovens_reflow_joins_the_mounted_sac305_balls_only_above_liquidus(peak_c, joined):
    """On the bare pads of a wafer the joined balls are its solder bumps (003:7.1)."""
    wafer = new_wafer("W1", SMALL_DIES)
    mounted(wafer, diameter_um=200, flux_um=60)
    apply_run(wafer, reflow_history(peak_c), ReflowPhysics(), "oven", 700, LastResult.COMPLETED)
    assert bool(wafer.bumps.present.all()) is joined
    assert bool(wafer.balls.present.any()) is not joined


def test_a_repair_sets_a_ball_on_every_site_a_mount_missed_and_none_on_the_others():
    """Flux too thin for a third of the balls, and a site with a second ball, then a repair
    with flux enough: the repair head picks the second ball off and fills the missing sites
    only (no extra ball), in 10 s and 2 s a site."""
    wafer = new_wafer("W1", SMALL_DIES)
    mapped = mapped_sites(wafer, EVERY.positions)
    apply_flux(wafer, Face.FRONT, mapped, FluxMethod.PRINT, 10, PHYSICS, rng())
    mount_balls(wafer, Face.FRONT, mapped, 200, "SAC305", PHYSICS, rng(2))
    missing = repair_sites(wafer, Face.FRONT, mapped)
    assert np.count_nonzero(missing) == inspect(wafer, Face.FRONT, mapped).missing > 0
    second = np.flatnonzero(wafer.balls.present)[0]
    wafer.balls.extra[second] = True  # a site that caught a second ball
    assert repair_sites(wafer, Face.FRONT, mapped)[second]
    wafer.balls.flux_um[missing] = 60.0  # flux enough for the repair head's balls
    placed = repair_balls(wafer, Face.FRONT, mapped, 200, "SAC305", PHYSICS, rng(3))
    assert placed == np.count_nonzero(missing)
    assert inspect(wafer, Face.FRONT, mapped) == Inspection(wafer.geometry.site_count, 0, 0, 0)
    assert PHYSICS.repair_time_s(placed) == 10 + 2 * placed


def test_the_flux_and_the_balls_placement_are_drawn_on_the_map_grid():
    """The flux deposit and each ball's offset, a mount's and a repair's, are kept on the map
    grid (decision 0123: a value `on_map_grid` leaves as it is), still spread per site."""
    wafer = new_wafer("W1", SMALL_DIES)
    mapped = mapped_sites(wafer, EVERY.positions)
    apply_flux(wafer, Face.FRONT, mapped, FluxMethod.PRINT, 10, PHYSICS, rng())
    mount_balls(wafer, Face.FRONT, mapped, 200, "SAC305", PHYSICS, rng(2))
    missed = ~wafer.balls.present
    repair_balls(wafer, Face.FRONT, mapped, 200, "SAC305", PHYSICS, rng(3))  # holds a third
    balls = wafer.balls
    repaired = missed & balls.present
    assert repaired.any()
    for drawn in (balls.flux_um, balls.offset_um[~missed], balls.offset_um[repaired]):
        assert np.array_equal(on_map_grid(drawn), drawn)
        assert np.unique(drawn).size > 50


# ----------------------------------------------------------------- the cell on the wire

Cell = Rig[SimBallMounter, ModbusBallMounter]


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Cell]:
    sim = SimBallMounter("ball_mounter", TwinStore(SMALL_DIES), VirtualClock())
    rig = await open_rig(sim, ModbusBallMounter, timeout_s=2.0)
    yield rig
    await rig.close()


async def test_flux_mount_and_inspect_through_the_driver(rig: Cell):
    await rig.driver.load("W01")
    flux = await rig.driver.apply_flux(EVERY, FluxMethod.PIN_TRANSFER, 60)
    wafer = rig.twin.get("W01")
    units = wafer.geometry.unit_count
    assert flux.process_time_s == pytest.approx(PHYSICS.flux_time_s(FluxMethod.PIN_TRANSFER, units))
    mount = await rig.driver.mount_balls(EVERY, 200, BallAlloy.SNPB_EUTECTIC)
    assert mount.balls_placed == wafer.geometry.site_count
    assert wafer.balls.alloy == "Sn63Pb37"
    counts = await rig.driver.request_inspection()
    assert counts == Inspection(wafer.geometry.site_count, 0, 0, 0)
    assert wafer.operations()[-3:] == ["apply flux", "mount balls", "inspect balls"]
    assert await rig.driver.unload() == "W01"


async def test_a_repair_through_the_driver_fills_the_balls_the_mount_missed(rig: Cell):
    await rig.driver.load("W01")
    await rig.driver.apply_flux(EVERY, FluxMethod.PRINT, 28)  # ratio 0.14: 93 % hold
    await rig.driver.mount_balls(EVERY, 200, BallAlloy.HIGH_LEAD)
    missing = (await rig.driver.request_inspection()).missing
    assert missing > 0
    wafer = rig.twin.get("W01")
    wafer.balls.flux_um[:] = 60.0  # enough flux for every ball from here on
    repair = await rig.driver.repair_balls(EVERY, 200, BallAlloy.HIGH_LEAD)
    assert repair.balls_placed == missing
    assert repair.process_time_s == pytest.approx(PHYSICS.repair_time_s(missing))
    assert await rig.driver.request_inspection() == Inspection(wafer.geometry.site_count, 0, 0, 0)
    assert wafer.operations()[-2:] == ["repair balls", "inspect balls"]


async def test_balls_without_flux_are_refused(rig: Cell):
    await rig.driver.load("W01")
    with pytest.raises(CommandRefused, match="apply flux first"):
        await rig.driver.mount_balls(EVERY, 200, BallAlloy.SAC305)
    assert not rig.twin.get("W01").balls.present.any()


async def test_balls_on_the_other_side_are_refused(rig: Cell):
    await rig.driver.load("W01")
    await rig.driver.apply_flux(EVERY, FluxMethod.PRINT, 60)
    await rig.driver.mount_balls(EVERY, 200, BallAlloy.SAC305)
    with pytest.raises(CommandRefused, match="other side"):
        await rig.driver.mount_balls(BallMap.every(16, Side.BACK), 200, BallAlloy.SAC305)


async def test_an_empty_reservoir_keeps_the_head_from_mounting(rig: Cell):
    await rig.driver.load("W01")
    await rig.driver.apply_flux(EVERY, FluxMethod.PRINT, 60)
    rig.sim.inject_fault("ball_supply_empty")
    with pytest.raises(InterlockOpen, match="ball_supply"):
        await rig.driver.mount_balls(EVERY, 200, BallAlloy.SAC305)


async def test_a_head_vacuum_loss_stops_the_mount_with_the_units_done_so_far(rig: Cell):
    await rig.driver.load("W01")
    await rig.driver.apply_flux(EVERY, FluxMethod.PRINT, 60)
    mount = asyncio.create_task(rig.driver.mount_balls(EVERY, 200, BallAlloy.SAC305))
    wafer = rig.twin.get("W01")
    units = wafer.geometry.unit_count
    halfway = PHYSICS.mount_setup_s + PHYSICS.mount_per_unit_s * units / 2
    async with asyncio.timeout(5):
        while rig.sim.phase is not BallMounterPhase.MOUNTING:
            await rig.clock.sleep(1)
        await rig.clock.sleep(halfway)
    rig.sim.inject_fault("head_vacuum_leak")
    with pytest.raises(ToolAlarm, match="HEAD_VACUUM_LOST"):
        await mount
    assert rig.sim.last_result is CycleResult.FAULTED
    placed = np.count_nonzero(wafer.balls.present)
    assert 0 < placed < wafer.geometry.site_count
    assert wafer.balls.present.sum() % 16 == 0  # whole units


async def test_the_held_status_read_is_answered_as_each_cycle_ends(rig: Cell):
    """The cell holding the driver's status read looks at itself when its cycle ends, so each
    wait ends at the cycle's end to the clock's resolution, after a few looks rather than one
    a second."""
    looks = count_looks(rig.sim)
    await rig.driver.load("W01")
    wafer = rig.twin.get("W01")
    await rig.driver.apply_flux(EVERY, FluxMethod.PIN_TRANSFER, 60)
    assert rig.clock.now() == pytest.approx(wafer.history[-1].time_s, abs=1e-6)
    await rig.driver.mount_balls(EVERY, 200, BallAlloy.SNPB_EUTECTIC)
    assert rig.clock.now() == pytest.approx(wafer.history[-1].time_s, abs=1e-6)
    assert len(looks) <= 4
