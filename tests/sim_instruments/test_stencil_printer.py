"""Hardware in the loop: the stencil printer driver against the simulated printer on the wire.

The physics with numbers, on the line's bumps (100 um balls reflowed on 70 um pads, 87.8 um)
sealed by a 60 um film, the 30 um stencil lying on it: the transfer efficiency following the
area-ratio law (100 um apertures, AR 0.83: 91.1 %), a narrow aperture (AR 0.5) leaving every
deposit insufficient and one below AR 0.45 transferring nothing, a squeegee too fast
underfilling and one too light printing its film with every deposit; each bump's paste, the
aperture's open volume beside the tip standing in it, and the eutectic layer its metal makes
reflowed over the tip above the film (a cap on the tip's footprint, 12.1 um over its apex);
a barely projecting tip getting a ball of its metal, never more; the reflowed solder narrower
than a deposit's reach; a stencil standing on tips that overreach it bleeding paste
(bridged); the oven then melting that layer while the high-melting core stays solid
(003:19-21); a print stopped mid-stroke printing only the bumps the squeegee passed; a wafer
without bumps refused; deposits closer than their aperture and slump bridging, and no deposit
scattering past its 3-sigma clip.
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
from packline.sequences.conditions import layer_reflowed_core_solid
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.physics.stencil_printer import (
    PrintPhysics,
    ProjectingTips,
    bridged_um,
    inspected_deposit_nl,
    inspected_share,
    least_transfer_efficiency,
    open_nl,
    print_paste,
    printed_solder,
    seated,
    transfer_efficiency,
)
from packline.sim_instruments.stencil_printer import SimStencilPrinter
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.station import Station
from packline.testing import count_looks, open_rig
from packline.testing.twin import sealed_solder_bumps

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)
#: The film the line's 87.8 um bumps project through: their tips stand 27.8 um above it, up to
#: 90.7 um wide there, so the 30 um stencil with 100 um apertures lies on it.
FILM_UM = 60.0
#: The page's print: a 30 um stencil, 100 um apertures, 60 N, 40 mm/s, 1.0 mm/s.
RECIPE = PrintRecipe(SolderPaste.SNPB_EUTECTIC, 30, 100, 60, 40, 1.0)
#: The share of the page's aperture, pi 50^2 x 30 um^3 = 0.235619 nl, the line's tip over
#: `FILM_UM` leaves open: what turns a transfer efficiency of the open volume into the SPI's, of
#: the whole aperture. Worked out once with a calculator from the geometry, not by the
#: printer's physics: the tip, a sphere of radius (35^2 + 87.8186^2) / (2 x 87.8186) =
#: 50.884 um standing p = 27.8186 um above the film, takes pi p^2 (3R - p) / 3 = 0.101165 nl
#: of it, leaving 0.134455 nl.
OPEN_SHARE = 0.570644


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
    sealed_solder_bumps(store.receive("W1"), FILM_UM)
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
    # the tip, a sphere of radius (35^2 + 87.8^2) / (2 * 87.8) = 50.9 um, stands p = 27.8 um
    # above the film into the 0.2356 nl aperture, taking pi p^2 (3R - p) / 3 = 0.1012 nl of it
    radius, p = 50.884, 27.819
    tip_nl = math.pi * p**2 * (3 * radius - p) / 3 / 1e6
    aperture_nl = math.pi * 50**2 * 30 / 1e6
    open_volume_nl = aperture_nl - tip_nl
    assert open_volume_nl == pytest.approx(0.1345, abs=1e-4)
    assert result.deposit_nl == pytest.approx(0.911 * open_volume_nl, rel=0.01)
    # the SPI, told nothing of the tip, measures each deposit against the whole aperture:
    # 91.1 % of the open volume reads 52.0 %, and the deposits under 50 % of it are counted
    # insufficient (the scatter takes about a fifth of them there)
    assert result.transfer_efficiency_pct == pytest.approx(
        91.1 * open_volume_nl / aperture_nl, abs=1.0
    )
    assert result.transfer_efficiency_pct == pytest.approx(52.0, abs=0.5)
    printed = bumps.paste_nl[bumps.present]
    short = int(np.count_nonzero(printed < 0.5 * aperture_nl))
    assert 0 < short < printed.size // 3
    assert (result.deposits, result.insufficient, result.excessive) == (printed.size, short, 0)
    assert np.allclose(bumps.paste_nl.mean(), 0.911 * open_volume_nl, rtol=0.01)
    # half the paste is metal, 0.0612 nl: molten, it and the 0.1012 nl of tip are a spherical
    # cap on the tip's footprint at the film, a^2 = p (2R - p), of volume pi H (3 a^2 + H^2) / 6
    # (the cubic solved here by numpy): 39.94 um above the film, 12.1 um over the tip's apex
    footprint_sq = p * (2 * radius - p)
    volume = tip_nl * 1e6 + 0.5 * 0.911 * open_volume_nl * 1e6
    roots = np.roots([math.pi / 6, 0, math.pi * footprint_sq / 2, -volume])
    cap_um = float(roots[np.isreal(roots)].real[0])
    assert bumps.layer_um.mean() == pytest.approx(cap_um - p, rel=0.01)
    assert bumps.layer_um.mean() == pytest.approx(12.1, abs=0.1)
    assert bumps.height_um[bumps.present] == pytest.approx(
        87.8186 + bumps.layer_um[bumps.present], abs=1e-3
    )
    assert not bumps.bridged.any()
    assert bumps.layer_alloy == "Sn63Pb37"
    assert bumps.material == "Pb95Sn5"


def test_the_inspected_share_undone_is_the_deposit_the_spi_read():
    """The SPI reads a deposit against the 30 um stencil's whole 100 um aperture, pi 50^2 x
    30 um^3 = 0.235619 nl: 52 % of it is 0.122522 nl (by hand), which reads 52 % again."""
    deposit_nl = inspected_deposit_nl(0.52, RECIPE)
    assert deposit_nl == pytest.approx(0.122522, abs=1e-6)
    assert inspected_share(np.array(deposit_nl), RECIPE) == pytest.approx(0.52)


@pytest.mark.parametrize(
    ("stencil_um", "te_pct", "open_share"),
    # AR 0.5: 32 %; AR 0.42, below 0.45: nothing. The open shares as `OPEN_SHARE`'s, by hand:
    # the same 0.101165 nl of tip in apertures of pi 50^2 t, 0.392699 nl (50 um) and
    # 0.471239 nl (60 um)
    [(50, 100 * release(0.5), 0.742386), (60, 0.0, 0.785322)],
)
async def test_a_narrow_aperture_leaves_the_deposits_insufficient(stencil_um, te_pct, open_share):
    narrow = replace(RECIPE, stencil_thickness_um=stencil_um)
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        result = await printer.print_paste(narrow)
    assert result.transfer_efficiency_pct == pytest.approx(te_pct * open_share, abs=1.0)
    assert result.insufficient == result.deposits > 0


async def test_a_fast_squeegee_underfills_and_a_light_one_prints_its_film():
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        fast = await printer.print_paste(replace(RECIPE, squeegee_speed_mm_s=150))
    async with printer_on_line() as (_, printer):
        await printer.load("W1")
        light = await printer.print_paste(replace(RECIPE, squeegee_force_n=20))
    # 50 mm/s beyond 100 mm/s: 10 % less; 20 N leaves 20 um x (1 - 20/40) = 10 um of film;
    # each of the open volume, which the SPI reads as a share of the whole aperture
    assert fast.transfer_efficiency_pct == pytest.approx(0.9 * 91.1 * OPEN_SHARE, abs=1.0)
    assert light.transfer_efficiency_pct == pytest.approx(
        (91.1 + 100 * 10 / 30) * OPEN_SHARE, abs=1.0
    )


async def test_the_oven_melts_the_printed_layer_and_leaves_the_core_solid():
    async with printer_on_line() as (sim, printer):
        await printer.load("W1")
        await printer.print_paste(RECIPE)
        wafer = sim.twin.get("W1")
    melted, solid = layer_reflowed_core_solid("003:20", RECIPE.paste.value, "Pb95Sn5")
    checked, passing = melted.evaluate(wafer)
    assert checked.sum() == wafer.bumps.present.sum()  # every bump carries a printed layer
    assert not (checked & passing).any()  # not reflowed yet
    history = LoadHistory()
    for time_s, temperature_c in ((0, 25), (90, 150), (150, 220), (210, 220), (300, 50)):
        history.add(time_s, temperature_c, 50)
    apply_run(wafer, history, ReflowPhysics(), "oven", 300, LastResult.COMPLETED)
    for condition in (melted, solid):
        checked, passing = condition.evaluate(wafer)
        assert checked.sum() == wafer.bumps.present.sum()
        assert (checked & passing).sum() == checked.sum()


def test_a_print_stopped_mid_stroke_printed_only_the_bumps_passed():
    wafer = TwinStore(SMALL).receive("W1")
    sealed_solder_bumps(wafer, FILM_UM)
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
    sealed_solder_bumps(wafer, FILM_UM)
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
        sealed_solder_bumps(wafer, FILM_UM)
        outcome = print_paste(wafer, RECIPE, 3600.0, physics, np.random.default_rng(seed))
        assert outcome.min_transfer_efficiency / OPEN_SHARE >= least - 1e-6


@pytest.mark.parametrize(
    ("film_um", "aperture_um", "seats"),
    [
        (FILM_UM, 100.0, True),  # 27.8 um of tip, 90.7 um wide: under the stencil's 30 and 100
        (50.0, 100.0, False),  # 37.8 um of tip: the 30 um stencil stands on it
        (FILM_UM, 90.0, False),  # 90.7 um wide: the 90 um aperture's rim rests on it
    ],
)
def test_a_stencil_standing_on_the_tips_bleeds_paste_under_it(film_um, aperture_um, seats):
    """The stencil lies on the film only over tips no taller above it than the stencil is
    thick and no wider there than its aperture (the rule a method's validate holds a print
    to); standing on them, it seals on nothing, and the paste bleeds under it: every bump it
    stands on is bridged, though its apertures' pitch leaves the deposits apart."""
    wafer = TwinStore(SMALL).receive("W1")
    sealed_solder_bumps(wafer, film_um)
    recipe = replace(RECIPE, aperture_um=aperture_um)
    bumps = wafer.bumps
    tips = ProjectingTips.of(bumps.height_um, bumps.base_diameter_um, wafer.resin_um)
    assert seated(recipe, tips).all() is np.bool_(seats)
    print_paste(wafer, recipe, 3600.0, PrintPhysics(), np.random.default_rng(0))
    assert bumps.bridged[bumps.present].all() is np.bool_(not seats)


def test_the_layer_is_the_metal_of_the_open_volume_reflowed_over_the_tip():
    """One tip by the physics' functions, as a method's validate reckons a print: the 87.8 um
    bump over the 60 um film leaves the 30 um stencil's 100 um aperture 0.1345 nl of its
    0.2356 nl; a deposit of all of it is 0.0672 nl of metal, with the 0.1012 nl of tip a cap
    40.97 um above the film on the tip's 90.7 um footprint: 13.15 um over the apex, as wide
    as the footprint (less than a hemisphere over it). Over a thicker film the tip stands lower:
    more paste, less tip, a thicker layer; a buried tip takes the whole aperture and keeps
    no layer, and no solder."""
    tips = ProjectingTips.of(87.819, 70.0, np.array([FILM_UM, 70.0, 90.0]))
    volumes = open_nl(RECIPE, tips)
    solder = printed_solder(1.0, RECIPE, tips, PrintPhysics())
    assert volumes[0] == pytest.approx(0.13445, abs=1e-4)
    assert solder.layer_um[0] == pytest.approx(13.15, abs=0.01)
    assert solder.height_um[0] == pytest.approx(40.97, abs=0.01)
    assert solder.width_um[0] == pytest.approx(90.71, abs=0.01)
    assert volumes[1] > volumes[0]
    assert solder.layer_um[1] > solder.layer_um[0]
    assert volumes[2] == pytest.approx(math.pi * 50**2 * 30 / 1e6)
    assert (solder.layer_um[2], solder.width_um[2]) == (0.0, 0.0)


@pytest.mark.parametrize("film_um", [47.9, 80.0, 85.0, 87.8])
def test_a_barely_projecting_tip_gets_a_ball_of_its_metal_never_more(film_um):
    """As the tip's projection goes to 0 its cap wets less and less, but the metal does not
    spread thinner and thinner over it to a layer without bound: molten it is a ball of its
    own volume on the tip, at most as tall and as wide as a sphere of the metal and the tip
    (a 50 um stencil's 140 um aperture over the line's 87.8 um bumps: under 100 um), never
    the layer without bound a film spread over the wetted cap would be (303 um at 85 um)."""
    recipe = replace(RECIPE, stencil_thickness_um=50, aperture_um=140)
    tips = ProjectingTips.of(87.819, 70.0, film_um)
    physics = PrintPhysics()
    deposit_nl = float(open_nl(recipe, tips))
    solder = printed_solder(1.0, recipe, tips, physics)
    sphere_um = (6 / math.pi * (deposit_nl * 1e6 * 0.5 + float(tips.volume_um3))) ** (1 / 3)
    assert float(solder.height_um) <= sphere_um + 1e-9
    assert float(solder.width_um) >= sphere_um - 1e-9  # no narrower than the sphere
    assert float(solder.layer_um) < sphere_um < 100.0


@pytest.mark.parametrize("stencil_um", [25.0, 50.0, 100.0, 200.0])
def test_the_reflowed_solder_stays_narrower_than_the_deposits_reach(stencil_um):
    """What bridges is the deposits' slump (`bridged_um`): over the printer's apertures for a
    stencil, on the line's bumps over films that seat it (tips up to as tall and as wide as
    it allows), the largest deposit's reflowed solder is narrower than a deposit reaches."""
    physics = PrintPhysics()
    for aperture_um in np.linspace(40.0, 800.0, 39):
        recipe = replace(RECIPE, stencil_thickness_um=stencil_um, aperture_um=aperture_um)
        tips = ProjectingTips.of(87.819, 70.0, np.linspace(0.0, 87.8, 89))
        solder = printed_solder(1.15 * transfer_efficiency(recipe, physics), recipe, tips, physics)
        widths = solder.width_um[seated(recipe, tips)]
        assert (widths < bridged_um(recipe, physics)).all()
