"""Hardware in the loop: the dispenser driver against the simulated dispenser on the wire.

The physics with numbers: a hole's volume from its diameter and depth; filler + terminal equal
to the hole's volume within 5 % is neither over- nor underfilled, 10 % more overfills every
hole (the filler stops at the hole's top), 10 % less underfills every one; a job stopped early
fills only the holes it reached; the sealing resin levels at its height around every die, its
volume per die, dies taller than it left exposed, units without a die left bare; a panel
without holes or without dies refused.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.dispenser import AsciiDispenser
from packline.drivers.equipment import ToolState
from packline.drivers.errors import CommandRefused
from packline.drivers.roles.dispenser import FillMaterial, SealResin
from packline.sim_instruments.dispenser import SimDispenser
from packline.sim_instruments.physics.dispenser import hole_volume_nl
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, WaferSpec
from packline.sim_instruments.twin.parts import Face
from packline.station import Station
from packline.testing import open_rig
from packline.testing.twin import drill_holes, place_dies

#: 2 x 3 units of 12 mm, an 8 mm die on each with 4 terminals a side: 96 holes.
PANEL = PanelSpec(rows=2, columns=3, holes_per_die_side=4)
HOLE_UM = 100.0
#: The page's figure: a 100 um hole through 75 um of tape.
HOLE_NL = 0.589


@asynccontextmanager
async def dispenser_on_line(
    transport: str = "socket",
) -> AsyncIterator[tuple[SimDispenser, AsciiDispenser]]:
    """A simulated dispenser served on `transport` and the driver connected to it, on one clock;
    panel P1 drilled."""
    store = TwinStore(PANEL)
    drill_holes(store.receive("P1"), HOLE_UM)
    sim = SimDispenser("disp", store, VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, AsciiDispenser, poll_interval_s=5.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


def test_a_hole_holds_its_cylinder():
    panel = TwinStore(PANEL).receive("P1")
    assert not hole_volume_nl(panel).any()  # not drilled yet
    drill_holes(panel, HOLE_UM)
    volume = hole_volume_nl(panel)
    assert np.allclose(volume, math.pi * (HOLE_UM / 2) ** 2 * PANEL.tape_thickness_um / 1e6)
    assert volume[0] == pytest.approx(HOLE_NL, abs=5e-4)


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_filler_and_terminal_equal_to_the_hole_neither_over_nor_underfill(transport):
    terminal_nl = 0.25
    async with dispenser_on_line(transport) as (sim, disp):
        await disp.load("P1")
        result = await disp.fill_holes(FillMaterial.AG_PASTE, HOLE_NL - terminal_nl, terminal_nl)
        panel = sim.twin.get("P1")
    assert (result.holes, result.hole_volume_nl) == (96, pytest.approx(HOLE_NL, abs=1e-3))
    assert (result.overfilled, result.underfilled) == (0, 0)
    assert result.worst_error < 0.05
    fill = panel.fill
    assert fill.material == "AG-PASTE"
    assert np.allclose(fill.volume_nl, HOLE_NL - terminal_nl, rtol=0.05)
    # the level by volume over the hole's cross-section, short of the top by the terminal's share
    expected_level = PANEL.tape_thickness_um * fill.volume_nl / HOLE_NL
    assert np.allclose(fill.level_um, expected_level, rtol=1e-3)
    assert fill.level_um.max() < PANEL.tape_thickness_um


@pytest.mark.parametrize(("excess", "over", "under"), [(0.10, 96, 0), (-0.10, 0, 96)])
async def test_ten_percent_more_overfills_every_hole_ten_percent_less_underfills(
    excess, over, under
):
    terminal_nl = 0.25
    async with dispenser_on_line() as (sim, disp):
        await disp.load("P1")
        volume_nl = HOLE_NL * (1 + excess) - terminal_nl
        result = await disp.fill_holes(FillMaterial.SNBI, volume_nl, terminal_nl)
        fill = sim.twin.get("P1").fill
    assert (result.overfilled, result.underfilled) == (over, under)
    assert result.worst_error == pytest.approx(0.10, abs=0.03)
    # the filler alone fits either way: the terminal pressed in later is what overflows
    assert np.allclose(fill.volume_nl, volume_nl, rtol=0.05)
    assert (fill.level_um < PANEL.tape_thickness_um).all()


async def test_an_overflowing_fill_stops_at_the_hole_top():
    async with dispenser_on_line() as (sim, disp):
        await disp.load("P1")
        result = await disp.fill_holes(FillMaterial.CU_PASTE, 2 * HOLE_NL, 0)
        fill = sim.twin.get("P1").fill
    assert result.overfilled == 96
    assert np.allclose(fill.level_um, PANEL.tape_thickness_um)
    # the hole holds its volume, the rest of what was jetted spilt over its top
    assert (fill.volume_nl + fill.overflow_nl).min() > 1.8 * HOLE_NL
    assert np.allclose(fill.volume_nl, hole_volume_nl(sim.twin.get("P1")))


async def test_a_stopped_fill_fills_only_the_holes_it_reached():
    store = TwinStore(PANEL)
    drill_holes(store.receive("P1"), HOLE_UM)
    sim = SimDispenser("disp", store, VirtualClock())
    assert await sim.handle("LOAD P1") == "OK"
    assert await sim.handle("FILL AG-PASTE 0.300 0.289") == "OK"
    # alignment 10 s, then 96 holes at 20 per second: half of them after 12.4 s
    await sim.clock.sleep(12.4)
    assert await sim.handle("STOP") == "OK"
    assert await sim.handle("FILL?") == (
        "OK WAFER=P1 MATERIAL=AG-PASTE HOLES=48 HOLE=0.589 FILL=0.299 TERMINAL=0.289 OVER=0 "
        "UNDER=0 WORST=0.012"
    )
    volume = store.get("P1").fill.volume_nl
    assert np.count_nonzero(volume[:48]) == 48
    assert not volume[48:].any()
    assert store.get("P1").history[-1].detail["result"] == "aborted"  # not told as done


async def test_a_panel_without_drilled_holes_is_refused():
    async with dispenser_on_line() as (sim, disp):
        await disp.load("P2")  # received fresh: not drilled
        with pytest.raises(CommandRefused, match="no drilled through-hole") as refused:
            await disp.fill_holes(FillMaterial.AG_PASTE, 0.3, 0.289)
        assert refused.value.code == "8"
        assert disp.state is ToolState.IDLE
        assert not sim.twin.get("P2").fill.volume_nl.any()


async def test_a_wafer_is_refused_as_a_wafer_not_as_a_panel():
    """What `sim serve` receives for an id it has not seen is a wafer: its refusal says so."""
    async with dispenser_on_line() as (sim, disp):
        sim.twin.receive("W1", WaferSpec())
        await disp.load("W1")
        with pytest.raises(CommandRefused, match="wafer W1 has no drilled through-hole"):
            await disp.fill_holes(FillMaterial.AG_PASTE, 0.3, 0.289)
        with pytest.raises(CommandRefused, match="wafer W1 carries no die"):
            await disp.seal_dies(SealResin.EPOXY, 300.0)


async def test_the_resin_levels_around_every_die():
    async with dispenser_on_line() as (sim, disp):
        panel = sim.twin.get("P1")
        place_dies(panel, 300.0)
        await disp.load("P1")
        result = await disp.seal_dies(SealResin.EPOXY, 400)
    # (144 - 64) mm2 x 0.4 mm around the die, 64 mm2 x 0.1 mm over its back: 38.4 ul
    assert (result.dies, result.height_um, result.exposed) == (6, 400.0, 0)
    assert result.volume_ul == pytest.approx(38.4, abs=0.01)
    layer = panel.resins.top(Face.FRONT)
    assert layer is not None
    assert (layer.kind, layer.cure) == (ResinKind.SEALING, 0.0)
    assert np.allclose(layer.thickness_um, 400.0)


async def test_dies_taller_than_the_resin_are_exposed_and_bare_units_stay_bare():
    async with dispenser_on_line() as (sim, disp):
        panel = sim.twin.get("P1")
        place_dies(panel, 300.0, units=np.array([0, 2, 4]))
        await disp.load("P1")
        result = await disp.seal_dies(SealResin.SILICONE, 200)
    assert (result.dies, result.exposed) == (3, 3)
    # (144 - 64) mm2 x 0.2 mm: 16 ul, nothing over the backs
    assert result.volume_ul == pytest.approx(16.0, abs=0.01)
    layer = panel.resins.top(Face.FRONT)
    assert layer is not None
    on_die = np.isin(panel.geometry.site_unit, [0, 2, 4])
    assert np.allclose(layer.thickness_um[on_die], 200.0)
    assert not layer.thickness_um[~on_die].any()


async def test_a_panel_without_dies_is_refused_a_seal():
    async with dispenser_on_line() as (sim, disp):
        await disp.load("P1")
        with pytest.raises(CommandRefused, match="no die") as refused:
            await disp.seal_dies(SealResin.EPOXY, 400)
        assert refused.value.code == "9"
        assert not sim.twin.get("P1").resins.on(Face.FRONT)


async def test_the_jobs_are_recorded_on_the_panel():
    async with dispenser_on_line() as (sim, disp):
        place_dies(sim.twin.get("P1"), 300.0)
        await disp.load("P1")
        await disp.fill_holes(FillMaterial.AG_PASTE, 0.3, 0.289)
        await disp.seal_dies(SealResin.EPOXY, 400)
    assert sim.twin.get("P1").operations() == ["fill holes", "seal dies"]


async def test_the_station_fixture_reaches_the_dispenser(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real dispenser (it dispenses nothing: it reads the dispenser, loads and unloads)."""
    (name,) = station.tools_for_role("dispenser")
    async with station.open_tool(name) as disp:
        assert isinstance(disp, AsciiDispenser)
        status = await disp.request_status()
        if disp.state is ToolState.IDLE and status.wafer_id is None:
            await disp.load("HIL01")
            assert (await disp.request_status()).wafer_id == "HIL01"
            await disp.unload("HIL01")
            assert (await disp.request_status()).wafer_id is None
