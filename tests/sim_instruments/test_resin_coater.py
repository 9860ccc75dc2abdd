"""Hardware in the loop: the resin coater driver against the simulated coater on the wire.

The physics with numbers: the spun film following the speed law within 5 % at two speeds and
two resins, the edge bead, the slot die's wet-to-dry shrink, planarisation over bumps (thinner
over tall features), the soft bake's shrink without a cure, 002:1e's condition that the
interconnects are covered (true for a thick coat, false for one too thin), a radiation-
sensitive layer the litho cell can expose, and a bake refused without a coat.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import CommandRefused
from packline.drivers.resin_coater import AsciiResinCoater
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.resin_coater import CoatResin
from packline.sequences.conditions import interconnects_covered
from packline.sim_instruments.physics.lithography import litho_film
from packline.sim_instruments.resin_coater import SimResinCoater
from packline.sim_instruments.twin import ResinKind, TwinStore, WaferSpec
from packline.sim_instruments.twin.parts import Film, FilmMaterial
from packline.station import Station
from packline.testing import open_rig

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)
COVERED = interconnects_covered("002:1e")


@asynccontextmanager
async def coater_on_line(
    transport: str = "socket",
) -> AsyncIterator[tuple[SimResinCoater, AsciiResinCoater]]:
    """A simulated coater served on `transport` and the driver connected to it, on one clock."""
    sim = SimResinCoater("coat", TwinStore(SMALL), VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, AsciiResinCoater, poll_interval_s=10.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


def speed_law_um(viscosity_cp: float, spin_rpm: float) -> float:
    """The page's speed law, restated: 0.65 um · η^0.5 / √(ω / 1000 rpm)."""
    return 0.65 * math.sqrt(viscosity_cp) / math.sqrt(spin_rpm / 1000.0)


@pytest.mark.parametrize(
    ("resin", "viscosity_cp", "spin_rpm", "expected_um"),
    [
        (CoatResin.THERMOSET, 1500.0, 2000.0, 17.80),
        (CoatResin.THERMOSET, 1500.0, 4000.0, 12.59),
        (CoatResin.SOLDER_RESIST, 3000.0, 1000.0, 35.60),
    ],
)
@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_a_spun_film_follows_the_speed_law(
    transport, resin, viscosity_cp, spin_rpm, expected_um
):
    async with coater_on_line(transport) as (sim, coater):
        await coater.load("W1")
        result = await coater.coat_resin(resin, spin_rpm, 30)
        wafer = sim.twin.get("W1")
    assert expected_um == pytest.approx(speed_law_um(viscosity_cp, spin_rpm), abs=0.01)
    assert result.field_um == pytest.approx(expected_um, rel=0.05)
    layer = wafer.resins.top()
    assert layer is not None
    assert layer.cure == 0.0
    edge = np.hypot(wafer.geometry.site_x_mm, wafer.geometry.site_y_mm) > 42.0
    assert edge.any()
    assert (~edge).any()
    assert np.allclose(layer.thickness_um[~edge], expected_um, rtol=0.05)
    # the edge bead: 1.3 times the field within 8 mm of the rim
    assert np.allclose(layer.thickness_um[edge], 1.3 * expected_um, rtol=0.05)
    assert result.edge_um == pytest.approx(1.3 * expected_um, rel=0.05)


async def test_four_times_the_speed_halves_the_film():
    async with coater_on_line() as (_sim, coater):
        await coater.load("W1")
        slow = await coater.coat_resin(CoatResin.STRESS_RELIEF, 1000, 30)
        await coater.unload("W1")
        await coater.load("W2")
        fast = await coater.coat_resin(CoatResin.STRESS_RELIEF, 4000, 30)
    assert fast.field_um / slow.field_um == pytest.approx(0.5, rel=0.01)


async def test_a_slot_die_film_shrinks_to_its_solids_in_the_bake():
    async with coater_on_line() as (sim, coater):
        await coater.load("W1")
        wet = await coater.coat_resin_slot(CoatResin.SOLDER_RESIST, 120)
        dry = await coater.soft_bake(120, 900)
        layer = sim.twin.get("W1").resins.top()
    assert (wet.field_um, wet.edge_um, wet.solvent) == (60.0, 60.0, 0.4)  # half the gap, no bead
    # solids 0.60: the fully baked film is 60 % of the wet one
    assert dry.field_um == pytest.approx(36.0, rel=0.01)
    assert dry.solvent < 0.001
    assert layer is not None
    assert layer.kind is ResinKind.SOLDER_RESIST
    assert layer.cure == 0.0


async def test_planarisation_thins_the_film_over_bumps_and_002_1e_holds_for_a_thick_coat():
    async with coater_on_line() as (sim, coater):
        wafer = sim.twin.get("W1")
        wafer.bumps.height_um[:] = 20.0
        await coater.load("W1")
        result = await coater.coat_resin(CoatResin.THERMOSET, 1000, 30)
        checked, passing = COVERED.sites(wafer)
    field = speed_law_um(1500.0, 1000.0)  # 25.17 um
    # over a 20 um bump: t² / (t + 0.6 · 20) = 17.04 um, thinner than on the field
    assert result.field_um == pytest.approx(field, rel=0.05)
    assert result.min_cover_um == pytest.approx(field**2 / (field + 12.0), rel=0.05)
    assert result.min_cover_um < result.field_um
    assert checked == wafer.geometry.site_count
    assert passing == checked
    assert wafer.tip_projection_um.max() < 0  # every bump buried


async def test_too_thin_a_coat_leaves_the_interconnects_uncovered():
    async with coater_on_line() as (sim, coater):
        wafer = sim.twin.get("W1")
        wafer.bumps.height_um[:] = 120.0
        await coater.load("W1")
        result = await coater.coat_resin(CoatResin.STRESS_RELIEF, 5000, 30)
        checked, passing = COVERED.sites(wafer)
    field = speed_law_um(800.0, 5000.0)  # 8.22 um
    # it only skins a 120 um bump: 8.22² / (8.22 + 0.6 · 120) = 0.84 um, under the 1 um asked;
    # only the edge bead (1.3 times thicker) covers its bumps
    assert result.min_cover_um == pytest.approx(field**2 / (field + 72.0), rel=0.05)
    assert result.min_cover_um < 1.0
    edge = np.hypot(wafer.geometry.site_x_mm, wafer.geometry.site_y_mm) > 42.0
    assert checked == wafer.geometry.site_count
    assert passing == int(edge.sum()) < checked


async def test_wiring_counts_as_an_interconnect_and_a_bake_shrinks_its_cover():
    async with coater_on_line() as (sim, coater):
        wafer = sim.twin.get("W1")
        sites = wafer.geometry.site_count
        wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, sites))
        await coater.load("W1")
        coated = await coater.coat_resin(CoatResin.THERMOSET, 3000, 10)
        baked = await coater.soft_bake(90, 300)
        covered = COVERED.sites(wafer)
    assert covered == (sites, sites)
    assert baked.min_cover_um < coated.min_cover_um
    assert baked.field_um < coated.field_um
    assert wafer.resins.top().cure == 0.0  # type: ignore[union-attr]


async def test_a_photo_resin_is_the_litho_cells_film():
    async with coater_on_line() as (sim, coater):
        await coater.load("W1")
        await coater.coat_resin(CoatResin.PHOTO, 2000, 30)
        await coater.soft_bake(100, 120)
        wafer = sim.twin.get("W1")
    film = litho_film(wafer)
    assert film is not None
    assert film.material.value == "PI-N"
    assert wafer.resins.top().kind is ResinKind.RADIATION_SENSITIVE  # type: ignore[union-attr]
    assert film.photo.solvent < 0.01


async def test_a_bake_set_below_the_room_bakes_at_the_room():
    """No chiller: a bake set below the 22 degC room (the tool's range starts at 20 degC)
    bakes at the room, and the wafer's history says so."""
    async with coater_on_line() as (sim, coater):
        await coater.load("W1")
        await coater.coat_resin(CoatResin.THERMOSET, 2000, 30)
        assert await sim.handle("BAKE 20 60") == "OK"
        await sim.clock.sleep(120)
        await sim.handle("STAT?")
    assert sim.twin.get("W1").history[-1].detail["temperature_c"] == AMBIENT_C


async def test_a_bake_without_a_coat_is_refused():
    async with coater_on_line() as (sim, coater):
        await coater.load("W1")
        with pytest.raises(CommandRefused, match="no film") as refused:
            await coater.soft_bake(100, 60)
    assert refused.value.code == "8"
    assert sim.twin.get("W1").resins.layers == []


async def test_the_coat_is_recorded_on_the_wafer():
    async with coater_on_line() as (sim, coater):
        await coater.load("W1")
        await coater.coat_resin(CoatResin.THERMOSET, 2000, 30)
        await coater.soft_bake(100, 60)
    assert sim.twin.get("W1").operations() == ["resin coat", "soft bake"]


async def test_the_station_fixture_reaches_the_resin_coater(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real coater (it coats nothing: it reads the coater, loads and unloads)."""
    (name,) = station.tools_for_role("resin_coater")
    async with station.open_tool(name) as coater:
        assert isinstance(coater, AsciiResinCoater)
        status = await coater.request_status()
        if coater.state is ToolState.IDLE and status.wafer_id is None:
            await coater.load("HIL01")
            assert (await coater.request_status()).wafer_id == "HIL01"
            await coater.unload("HIL01")
            assert (await coater.request_status()).wafer_id is None
