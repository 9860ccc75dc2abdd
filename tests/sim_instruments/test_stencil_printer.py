"""Hardware in the loop: the stencil printer driver against the simulated printer on the wire.

The physics with numbers: the transfer efficiency following the area-ratio law (a 30 um
stencil with 100 um apertures, AR 0.83: 91.1 %), a narrow aperture (AR 0.5) leaving every
deposit insufficient and one below AR 0.45 transferring nothing, a squeegee too fast
underfilling and one too light printing its film with every deposit; each bump's paste and the
eutectic layer its metal makes (13.7 um over a 100 um cap); the oven then melting that layer
while the high-melting core stays solid (003:19-21); a print stopped mid-stroke printing only
the bumps the squeegee passed; a wafer without bumps refused; deposits closer than their
aperture and slump bridging, and no deposit scattering past its 3-sigma clip.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.roles.oven import LastResult
from packline.drivers.roles.stencil_printer import PrintRecipe, SolderPaste
from packline.drivers.stencil_printer import ModbusStencilPrinter
from packline.sequences.conditions import cores_solid_under_reflowed_layers
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.physics.stencil_printer import (
    PrintPhysics,
    bridged_um,
    least_transfer_efficiency,
    print_paste,
    transfer_efficiency,
)
from packline.sim_instruments.stencil_printer import SimStencilPrinter
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.station import Station
from packline.testing import count_looks, open_rig
from packline.testing.twin import form_solder_bumps

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)
BUMP_UM = 100.0
#: The page's print: a 30 um stencil, 100 um apertures, 60 N, 40 mm/s, 1.0 mm/s.
RECIPE = PrintRecipe(SolderPaste.SNPB_EUTECTIC, 30, 100, 60, 40, 1.0)


def release(area_ratio: float) -> float:
    """The page's release law, restated: 0.95 (1 - e^-(AR - 0.45) / 0.12), 0 below 0.45."""
    return max(0.95 * (1 - math.exp(-(area_ratio - 0.45) / 0.12)), 0.0)


@asynccontextmanager
async def printer_on_line(
    transport: str = "tcp",
) -> AsyncIterator[tuple[SimStencilPrinter, ModbusStencilPrinter]]:
    """A simulated printer served on `transport` and the driver connected to it, on one clock;
    wafer W1 carries high-melting Pb95Sn5 bumps."""
    store = TwinStore(SMALL)
    form_solder_bumps(store.receive("W1"), 80.0, BUMP_UM)
    sim = SimStencilPrinter("sp", store, VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, ModbusStencilPrinter, poll_interval_s=5.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_the_transfer_efficiency_follows_the_area_ratio(transport):
    async with printer_on_line(transport) as (sim, printer):
        await printer.load("W1")
        result = await printer.print_paste(RECIPE)
        bumps = sim.twin.get("W1").bumps
    assert RECIPE.area_ratio == pytest.approx(0.8333, abs=1e-4)
    assert release(RECIPE.area_ratio) == pytest.approx(0.911, abs=1e-3)
    sites = int(bumps.present.sum())
    assert (result.deposits, result.insufficient, result.excessive) == (sites, 0, 0)
    assert result.transfer_efficiency_pct == pytest.approx(91.1, abs=1.0)
    aperture_nl = math.pi * 50**2 * 30 / 1e6  # 0.2356 nl
    assert result.deposit_nl == pytest.approx(0.911 * aperture_nl, rel=0.01)
    assert np.allclose(bumps.paste_nl.mean(), 0.911 * aperture_nl, rtol=0.01)
    # half the paste is metal: 0.107 nl over the 100 um cap is a 13.7 um eutectic layer
    assert bumps.layer_um.mean() == pytest.approx(13.67, rel=0.01)
    assert bumps.height_um[bumps.present] == pytest.approx(80.0 + bumps.layer_um[bumps.present])
    assert bumps.layer_alloy == "Sn63Pb37"
    assert bumps.material == "Pb95Sn5"


@pytest.mark.parametrize(
    ("stencil_um", "te_pct"),
    [(50, 100 * release(0.5)), (60, 0.0)],  # AR 0.5: 32 %; AR 0.42, below 0.45: nothing
)
async def test_a_narrow_aperture_leaves_the_deposits_insufficient(stencil_um, te_pct):
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        result = await printer.print_paste(replace(RECIPE, stencil_thickness_um=stencil_um))
    assert result.transfer_efficiency_pct == pytest.approx(te_pct, abs=1.0)
    assert result.insufficient == result.deposits > 0


async def test_a_fast_squeegee_underfills_and_a_light_one_prints_its_film():
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        fast = await printer.print_paste(replace(RECIPE, squeegee_speed_mm_s=150))
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        light = await printer.print_paste(replace(RECIPE, squeegee_force_n=20))
    # 50 mm/s beyond 100 mm/s: 10 % less; 20 N leaves 20 um x (1 - 20/40) = 10 um of film
    assert fast.transfer_efficiency_pct == pytest.approx(0.9 * 91.1, abs=1.0)
    assert light.transfer_efficiency_pct == pytest.approx(91.1 + 100 * 10 / 30, abs=1.0)


async def test_the_oven_melts_the_printed_layer_and_leaves_the_core_solid():
    async with printer_on_line() as (sim, printer):
        await printer.load("W1")
        await printer.print_paste(RECIPE)
        wafer = sim.twin.get("W1")
    condition = cores_solid_under_reflowed_layers("003:20")
    checked, passing = condition.evaluate(wafer)
    assert checked.sum() == wafer.bumps.present.sum()  # every bump carries a printed layer
    assert not (checked & passing).any()  # not reflowed yet
    history = LoadHistory()
    for time_s, temperature_c in ((0, 25), (90, 150), (150, 220), (210, 220), (300, 50)):
        history.add(time_s, temperature_c, 50)
    apply_run(wafer, history, ReflowPhysics(), "oven", 300, LastResult.COMPLETED)
    checked, passing = condition.evaluate(wafer)
    assert checked.sum() == wafer.bumps.present.sum()
    assert (checked & passing).sum() == checked.sum()


def test_a_print_stopped_mid_stroke_printed_only_the_bumps_passed():
    wafer = TwinStore(SMALL).receive("W1")
    form_solder_bumps(wafer, 80.0, BUMP_UM)
    # alignment 15 s, then (100 + 40) mm at 40 mm/s: the squeegee is at the middle at 16.75 s
    outcome = print_paste(wafer, RECIPE, 16.75, PrintPhysics(), np.random.default_rng(0))
    printed = wafer.bumps.paste_nl > 0
    x = wafer.geometry.site_x_mm
    assert outcome.deposits == int(printed.sum()) > 0
    assert (~printed).any()
    assert (x[printed] <= 0.0).all()
    assert (x[~printed] > 0.0).all()
    assert print_paste(wafer, RECIPE, 10.0, PrintPhysics(), np.random.default_rng(0)).deposits == 0


async def test_a_wafer_without_bumps_is_refused():
    async with printer_on_line() as (sim, printer):
        await printer.load("W2")
        with pytest.raises(CommandRefused, match="no bumps to print on"):
            await printer.print_paste(RECIPE)
        assert not sim.twin.get("W2").bumps.paste_nl.any()


async def test_the_station_fixture_reaches_the_stencil_printer(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real printer (it prints nothing: it reads the printer, loads and unloads)."""
    (name,) = station.tools_for_role("stencil_printer")
    async with station.open_tool(name) as printer:
        assert isinstance(printer, ModbusStencilPrinter)
        if await printer.request_wafer() is None:
            await printer.load("HIL01")
            assert await printer.request_wafer() == "HIL01"
            assert await printer.unload() == "HIL01"


async def test_the_held_status_read_is_answered_as_the_print_ends():
    """The printer holding the driver's status read looks at itself when the print ends, so
    the wait ends then to the clock's resolution, after a look or two rather than one a
    second."""
    async with printer_on_line() as (sim, printer):
        looks = count_looks(sim)
        await printer.load("W1")
        await printer.print_paste(RECIPE)
        printed = sim.twin.get("W1").history[-1]
        assert printed.operation == "print paste"
        assert sim.clock.now() == pytest.approx(printed.time_s, abs=1e-6)
        assert len(looks) <= 2


@pytest.mark.parametrize(("aperture_um", "bridged"), [(569.0, False), (571.0, True)])
def test_deposits_closer_than_their_aperture_and_slump_bridge(aperture_um, bridged):
    """A deposit slumps beyond its aperture by half the 30 um stencil's thickness on every
    side: at the small wafer's least pitch, 600 um (the pads either side of the line between
    two dies), 569 um apertures leave the deposits apart (569 + 30 < 600) and 571 um ones
    touch, marking exactly the sites that have a neighbour that close, both of each pair."""
    wafer = TwinStore(SMALL).receive("W1")
    form_solder_bumps(wafer, 80.0, BUMP_UM)
    recipe = replace(RECIPE, aperture_um=aperture_um)
    assert bridged_um(recipe, PrintPhysics()) == aperture_um + 30
    print_paste(wafer, recipe, 3600.0, PrintPhysics(), np.random.default_rng(0))
    x, y = wafer.geometry.site_x_mm * 1000, wafer.geometry.site_y_mm * 1000
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(distance, np.inf)
    near = distance.min(axis=1) < aperture_um + 30
    assert bool(near.any()) is bridged
    assert (wafer.bumps.bridged == near).all()


def test_no_deposit_scatters_past_its_clip():
    """Each deposit scatters 5 % about the mean, clipped at 3 sigma: over every bump of
    twenty wafers none gets less than the least the validate of a method reckons with."""
    physics = PrintPhysics()
    least = least_transfer_efficiency(RECIPE, physics)
    assert least == pytest.approx(transfer_efficiency(RECIPE, physics) * 0.85)
    for seed in range(20):
        wafer = TwinStore(SMALL).receive(f"W{seed}")
        form_solder_bumps(wafer, 80.0, BUMP_UM)
        outcome = print_paste(wafer, RECIPE, 3600.0, physics, np.random.default_rng(seed))
        assert outcome.min_transfer_efficiency >= least - 1e-6
