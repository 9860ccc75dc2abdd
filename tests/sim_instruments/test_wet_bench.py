"""Hardware in the loop: the wet bench driver against the simulated bench on the wire.

The chemistry with numbers: the strip rate and a strip too short, the etch rate and its
doubling per 10 degC, resist and a nobler metal stopping the etchant, an over-etch cutting
through a plated line, electroless copper joining the metal below where it is exposed, and a
cold bath refusing a dip.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import CommandRefused
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.lithography import RETICLES, CoatMaterial
from packline.drivers.roles.wet_bench import Tank
from packline.drivers.wet_bench import AsciiWetBench
from packline.sim_instruments.physics.lithography import (
    LithoPhysics,
    clearing_dose_mj_cm2,
    coat,
    develop_film,
    expose,
)
from packline.sim_instruments.twin import ResinKind, TwinStore, WaferSpec, Workpiece
from packline.sim_instruments.twin.parts import Film, FilmMaterial
from packline.sim_instruments.wet_bench import SimWetBench
from packline.station import Station
from packline.testing import open_rig

SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)


@asynccontextmanager
async def bench_on_line(
    transport: str = "socket",
) -> AsyncIterator[tuple[SimWetBench, AsciiWetBench]]:
    """A simulated bench served on `transport` and the driver connected to it, on one clock."""
    sim = SimWetBench("wet", TwinStore(SMALL), VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, AsciiWetBench, poll_interval_s=10.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


def plated_wiring(wafer: Workpiece, plated_um: float = 5.0) -> tuple[Film, Film]:
    """A 0.3 um Cu seed over every site and a plated Cu line on it at every site."""
    sites = wafer.geometry.site_count
    seed = Film.blanket(FilmMaterial.CU, 0.3, sites)
    line = Film.blanket(FilmMaterial.CU, plated_um, sites)
    wafer.films.layers += [seed, line]
    return seed, line


# ------------------------------------------------------------------ strip


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_a_strip_dissolves_the_resist_at_the_baths_rate(transport):
    async with bench_on_line(transport) as (sim, bench):
        wafer = sim.twin.get("W1")
        thickness = coat(wafer, CoatMaterial.PR_THICK, 4000, 30, LithoPhysics())
        await bench.load("W1")
        short = await bench.strip_resist(60)  # 0.05 um/s at 60 degC: 3 um
        assert short.change_um == pytest.approx(-3.0, rel=0.01)
        assert short.left_sites == wafer.geometry.site_count
        assert wafer.resist.thickness_um.max() == pytest.approx(thickness - 3.0, rel=0.01)
        assert not wafer.resist.open.any()
        done = await bench.strip_resist(300)
    assert done.left_sites == 0
    assert wafer.resist.photo is None
    assert wafer.resist.open.all()


# ------------------------------------------------------------------ etch


async def test_the_etch_rate_doubles_every_10_degc():
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        _, line = plated_wiring(wafer)
        await bench.load("W1")
        cold = await bench.etch(Tank.CU_ETCH, 60)  # 0.01 um/s at 30 degC
        await bench.heat_bath(Tank.CU_ETCH, 40)
        hot = await bench.etch(Tank.CU_ETCH, 60)
    assert cold.change_um == pytest.approx(-0.6, rel=0.01)
    assert hot.change_um == pytest.approx(-1.2, rel=0.01)
    assert hot.temperature_c == 40.0
    assert line.thickness_um.max() == pytest.approx(5.0 - 1.8, rel=0.01)
    assert (hot.opened_sites, hot.left_sites) == (0, wafer.geometry.site_count)


async def test_an_over_etch_cuts_through_the_plated_lines():
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        seed, line = plated_wiring(wafer, plated_um=2.0)
        await bench.load("W1")
        result = await bench.etch(Tank.CU_ETCH, 240)  # 2.4 um: the line and its seed
    sites = wafer.geometry.site_count
    assert result.opened_sites == sites
    assert result.left_sites == 0
    assert not line.present.any()
    assert not seed.connected.any()


async def test_a_plating_etched_away_over_its_foil_leaves_the_foils_wiring_uncut():
    """001:11's metal support: the 3 um Cu foil is the wiring's own metal under the plating.
    An etch of 1.0 um takes the 0.5 um plating and 0.5 um of the foil: no pattern is cut
    through (the foil still carries it, 2.5 um), though the plating film is gone."""
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        foil, plating = plated_wiring(wafer, plated_um=0.5)
        foil.thickness_um[:] = 3.0
        await bench.load("W1")
        result = await bench.etch(Tank.CU_ETCH, 100)  # 1.0 um
    assert result.opened_sites == 0
    assert not plating.present.any()
    assert foil.connected.all()
    assert foil.thickness_um.max() == pytest.approx(2.5, abs=1e-4)


async def test_the_etch_clears_a_metal_supports_foil_between_the_patterns_past_the_mould():
    """001:11: the 3 um foil lies in the field between the plated patterns as well as under
    them. Under the mould the field keeps it; once the mould is gone the etch takes as much
    off the field as off the patterns' top: 2 um leave 1 um of foil joining the patterns, 4 um
    clear it with 1 um of over-etch, the patterns keep their foil and 1 um of plating."""
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        foil, plating = plated_wiring(wafer, plated_um=5.0)
        foil.thickness_um[:] = 3.0
        foil.field_um = foil.thickness_um.copy()
        foil.field_overetch_um = np.zeros_like(foil.thickness_um)
        coat(wafer, CoatMaterial.PR_THICK, 4000, 30, LithoPhysics())
        await bench.load("W1")
        await bench.etch(Tank.CU_ETCH, 200)
        np.testing.assert_array_equal(foil.field_um, 3.0)  # the mould covers the field
        await bench.strip_resist(600)
        short = await bench.etch(Tank.CU_ETCH, 200)  # 2 um at 30 degC
        np.testing.assert_allclose(foil.field_um, 1.0, rtol=1e-5)
        np.testing.assert_array_equal(foil.field_overetch_um, 0.0)
        through = await bench.etch(Tank.CU_ETCH, 200)
    np.testing.assert_array_equal(foil.field_um, 0.0)
    np.testing.assert_allclose(foil.field_overetch_um, 1.0, rtol=1e-5)
    np.testing.assert_allclose(plating.thickness_um, 1.0, rtol=1e-5)
    np.testing.assert_array_equal(foil.thickness_um, 3.0)
    assert short.opened_sites == through.opened_sites == 0


async def test_the_etches_clear_a_seed_and_its_barrier_between_the_patterns():
    """001:8: a 0.05 um Ti adhesion layer and a 0.3 um Cu seed lie in the field between the
    plated patterns. The copper etch takes the Cu there (0.2 um in 20 s at 30 degC leave 0.1
    um; 20 s more clear it, 0.1 um past it) and stops at the Ti, which only the barrier etch
    takes (0.025 um in 5 s at 40 degC; 10 s more clear it, 0.025 um past it). A seed of the
    wiring level below, under its resin, is out of the etchant's reach."""
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        sites = wafer.geometry.site_count
        below = Film.blanket(FilmMaterial.TI, 0.05, sites)
        wafer.add_resin(ResinKind.THERMOSET, 30.0, cure=1.0)
        barrier = Film.blanket(FilmMaterial.TI, 0.05, sites, level=1)
        seed = Film.blanket(FilmMaterial.CU, 0.3, sites, level=1)
        plating = Film.blanket(FilmMaterial.CU, 5.0, sites, level=1)
        wafer.films.layers += [below, barrier, seed, plating]
        for film in (below, barrier, seed):
            film.track_field()
        below.field_um[:] = 0.0  # etched through between its own patterns
        await bench.load("W1")
        await bench.etch(Tank.CU_ETCH, 20)
        np.testing.assert_allclose(seed.field_um, 0.1, rtol=1e-4)
        await bench.etch(Tank.CU_ETCH, 20)
        np.testing.assert_allclose(seed.field_overetch_um, 0.1, rtol=1e-4)
        np.testing.assert_array_equal(barrier.field_um, barrier.thickness_um)  # Cu etch stops
        await bench.heat_bath(Tank.TI_ETCH, 40)
        await bench.etch(Tank.TI_ETCH, 5)
        np.testing.assert_allclose(barrier.field_um, 0.025, rtol=1e-4)
        await bench.etch(Tank.TI_ETCH, 10)
    np.testing.assert_array_equal(barrier.field_um, 0.0)
    np.testing.assert_allclose(barrier.field_overetch_um, 0.025, rtol=1e-4)
    np.testing.assert_array_equal(below.field_overetch_um, 0.0)


async def test_resist_and_a_nobler_metal_on_top_stop_the_etchant():
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        _, line = plated_wiring(wafer, plated_um=0.5)
        sites = wafer.geometry.site_count
        cap = Film.blanket(FilmMaterial.AU, 0.1, sites)
        cap.present[: sites // 2] = False  # gold on the second half only
        wafer.films.layers.append(cap)
        await bench.load("W1")
        result = await bench.etch(Tank.CU_ETCH, 120)  # 1.2 um where nothing covers Cu
    half = sites // 2
    assert result.opened_sites == half
    assert not line.present[:half].any()
    assert line.present[half:].all()
    assert line.thickness_um[half:].min() == pytest.approx(0.5)


async def test_no_etch_under_the_resist():
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        _, line = plated_wiring(wafer)
        coat(wafer, CoatMaterial.PR_THICK, 4000, 30, LithoPhysics())
        await bench.load("W1")
        result = await bench.etch(Tank.CU_ETCH, 300)
    assert result.change_um == 0.0
    assert line.thickness_um.min() == pytest.approx(5.0)


async def test_through_islands_the_etch_clears_the_field_and_undercuts_the_lands():
    """000:x3: a 35 um copper plate under 300 um resist islands: 0.04 um/s at 50 degC clears
    the field after 875 s and narrows each land by twice what it etched."""
    physics = LithoPhysics()
    reticle = RETICLES["interconnect-lands"]
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        sites = wafer.geometry.site_count
        plate = Film.blanket(FilmMaterial.CU, 35.0, sites)
        wafer.films.layers.append(plate)
        thickness = coat(wafer, CoatMaterial.PR_THICK, 4000, 30, physics)
        dose = 1.25 * clearing_dose_mj_cm2(CoatMaterial.PR_THICK, thickness)
        expose(wafer, reticle, dose, wafer.geometry.unit_count)
        develop_film(wafer, reticle, 120.0, physics)
        await bench.load("W1")
        await bench.heat_bath(Tank.CU_ETCH, 50)
        short = await bench.etch(Tank.CU_ETCH, 500)  # 20 um: the field not through yet
        assert plate.field_um.min() == pytest.approx(15.0, rel=0.01)
        assert short.opened_sites == 0
        through = await bench.etch(Tank.CU_ETCH, 500)  # 20 um more: through, 5 um over
    assert plate.field_um.max() == 0.0
    assert plate.thickness_um.min() == pytest.approx(35.0)  # the lands keep their thickness
    assert plate.land_um.max() == pytest.approx(300.0 - 2 * 40.0, abs=0.5)
    assert (through.opened_sites, through.left_sites) == (0, sites)


# ------------------------------------------------------------------ electroless copper


async def test_electroless_copper_joins_the_metal_it_touches():
    async with bench_on_line() as (sim, bench):
        wafer = sim.twin.get("W1")
        sites = wafer.geometry.site_count
        wafer.bumps.height_um[:] = 60.0
        wafer.bumps.height_um[0] = 30.0  # one bump buried under the resin
        wafer.add_resin(ResinKind.THERMOSET, 45.0, cure=1.0)
        await bench.load("W1")
        result = await bench.plate_electroless(600)  # 0.001 um/s at 60 degC
    film = wafer.films.layers[-1]
    assert film.material is FilmMaterial.CU
    assert result.change_um == pytest.approx(0.6, rel=0.01)
    assert np.allclose(film.thickness_um, 0.6)
    np.testing.assert_array_equal(film.field_um, film.thickness_um)  # the seed between patterns
    assert film.present.all()
    assert film.connected.sum() == sites - 1
    assert not film.connected[0]


async def test_a_cold_bath_refuses_the_dip():
    async with bench_on_line() as (sim, bench):
        await bench.load("W1")
        sim.inject_fault("heater_failure")
        await sim.clock.sleep(120)  # the strip bath cools 0.5 degC/s towards the room
        with pytest.raises(CommandRefused, match=r"STRIP is at 22\.0 degC") as refused:
            await bench.strip_resist(60)
        assert refused.value.code == "8"
        assert (await bench.request_tank(Tank.STRIP)).temperature_c == AMBIENT_C


async def test_a_bath_set_below_the_room_cools_to_the_room_and_no_further():
    """No chiller: a tester's `TEMP TI-ETCH 20` (the tool's range starts there) read
    `TEMP=20.0` and the dip ran; the bath cools to the 22 degC room and stays, and a dip
    into it is refused as not at its temperature."""
    async with bench_on_line() as (sim, bench):
        await bench.load("W1")
        assert await sim.handle("TEMP TI-ETCH 20") == "OK"
        await sim.clock.sleep(600)  # from 40 degC at 0.5 degC/s: at the room after 36 s
        assert await sim.handle("TANK? TI-ETCH") == "OK TANK=TI-ETCH TEMP=22.0 SET=20.0 DIPS=0"
        assert await sim.handle("DIP TI-ETCH 5") == ("ERR 8 TI-ETCH is at 22.0 degC, set 20.0")


async def test_a_failed_heater_cools_the_baths_from_where_they_are():
    # The baths sit at their set temperatures for an hour; the heaters fail, and each bath
    # cools from there at its rate (0.5 degC/s) rather than as if it had cooled all along;
    # repaired, it warms again from where it cooled to.
    async with bench_on_line() as (sim, bench):
        await sim.clock.sleep(3600)
        sim.inject_fault("heater_failure")
        assert (await bench.request_tank(Tank.STRIP)).temperature_c == 60.0
        await sim.clock.sleep(20)
        assert (await bench.request_tank(Tank.STRIP)).temperature_c == 50.0
        sim.clear_fault("heater_failure")
        assert (await bench.request_tank(Tank.STRIP)).temperature_c == 50.0
        await sim.clock.sleep(10)
        assert (await bench.request_tank(Tank.STRIP)).temperature_c == 55.0


async def test_the_station_fixture_reaches_the_wet_bench(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real bench (it dips nothing: it reads the bench and its tanks, loads and unloads)."""
    (name,) = station.tools_for_role("wet_bench")
    async with station.open_tool(name) as bench:
        assert isinstance(bench, AsciiWetBench)
        for tank in Tank:
            assert (await bench.request_tank(tank)).tank is tank
        status = await bench.request_status()
        if bench.state is ToolState.IDLE and status.wafer_id is None:
            await bench.load("HIL01")
            assert (await bench.request_status()).wafer_id == "HIL01"
            await bench.unload("HIL01")
