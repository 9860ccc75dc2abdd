"""Hardware in the loop: the litho cell driver against the simulated cell on the wire.

The process rules and the physics with numbers: the spin speed law, the soft bake, a dose
below the clearing dose leaving film at the bottom of the openings (002:1f), an over-dosed
plating mould bridging, a negative film thinning under too little dose, a lamp failure leaving
dies unexposed, and the cell's refusals of a job the film does not allow.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import CommandRefused, ToolAlarm
from packline.drivers.lithography import AsciiLithography
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.lithography import (
    RETICLES,
    CoatMaterial,
    Film,
    Tone,
    coated_film_um,
)
from packline.sequences.conditions import concave_portions_with_resin_below
from packline.sim_instruments.lithography import SimLithography
from packline.sim_instruments.physics.lithography import LithoPhysics, bridged
from packline.sim_instruments.twin import ResinKind, TwinStore, WaferSpec
from packline.station import Station
from packline.testing import open_rig, run_until

#: A small wafer: 52 dies of 16 pads.
SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)
#: 002:1f's afterwards condition, as the claim check of a method evaluates it.
CONCAVE = concave_portions_with_resin_below("002:1f")


@asynccontextmanager
async def cell_on_line(
    transport: str = "socket",
) -> AsyncIterator[tuple[SimLithography, AsciiLithography]]:
    """A simulated cell served on `transport` and the driver connected to it, on one clock."""
    sim = SimLithography("litho", TwinStore(SMALL), VirtualClock(), transport=transport)  # type: ignore[arg-type]
    rig = await open_rig(sim, AsciiLithography, poll_interval_s=2.0, timeout_s=1.0)
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


async def coated_and_baked(
    cell: AsciiLithography, material: CoatMaterial, spin_rpm: int = 1500, wafer: str = "W1"
) -> Film:
    await cell.load(wafer)
    await cell.coat(material, spin_rpm)
    return await cell.bake(110, 90)


# ------------------------------------------------------------------ coat and bake


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_the_spin_speed_law_within_5_percent(transport):
    """t = 0.65 um * sqrt(viscosity / cP) / sqrt(rpm / 1000): the page's law, by hand."""
    async with cell_on_line(transport) as (_sim, cell):
        thickness = {}
        for index, rpm in enumerate((1000, 2000, 4000)):
            await cell.load(f"W{index}")
            thickness[rpm] = (await cell.coat(CoatMaterial.PR_THICK, rpm)).thickness_um
            await cell.unload(f"W{index}")
    for rpm, measured in thickness.items():
        law = 0.65 * math.sqrt(1500) / math.sqrt(rpm / 1000)
        assert measured == pytest.approx(law, rel=0.05)
    assert thickness[1000] / thickness[4000] == pytest.approx(2.0, rel=0.05)


async def test_a_soft_bake_drives_the_solvent_out_and_shrinks_the_film():
    async with cell_on_line() as (_sim, cell):
        await cell.load("W1")
        spun = await cell.coat(CoatMaterial.PR_THICK, 4000)
        cool = await cell.bake(60, 30)
        hot = await cell.bake(120, 120)
    assert spun.residual_solvent_percent == pytest.approx(20 * math.exp(-0.5), abs=0.1)
    assert hot.residual_solvent_percent < 0.1 < 10.0 < cool.residual_solvent_percent
    assert hot.thickness_um < cool.thickness_um < spun.thickness_um
    assert hot.thickness_um == pytest.approx(spun.thickness_um * (1 - 0.121), rel=0.01)


async def test_a_hotplate_set_below_the_room_bakes_at_the_room():
    """No chiller: a bake set below the 22 degC room (the tool's range starts at 20 degC)
    bakes at the room, where the hotplate stays, not at its set point."""
    async with cell_on_line() as (sim, cell):
        await cell.load("W1")
        await cell.coat(CoatMaterial.PR_THICK, 4000)
        assert await sim.handle("BAKE 20 30") == "OK"
        await sim.clock.sleep(60)
        assert "HOTPLATE=22.0" in (await sim.handle("STAT?") or "")
        assert sim.loaded().history[-1].detail["temperature_c"] == AMBIENT_C


@pytest.mark.parametrize("material", [CoatMaterial.PR_THICK, CoatMaterial.NR_THICK])
async def test_the_film_the_cell_coats_and_bakes_is_the_one_validate_works_out(material):
    """The line's `coated_film_um` (what validate holds a strip to) is the film the cell
    measures after its spin and bake: one law, read by both."""
    async with cell_on_line() as (_sim, cell):
        await cell.load("W1")
        await cell.coat(material, 1500, spin_time_s=45)
        film = await cell.bake(95, 120)
    worked_out = coated_film_um(material, 1500, 45, 95, 120)
    assert film.thickness_um == pytest.approx(worked_out, abs=0.01)  # the page's 0.01 um


# ------------------------------------------------------------------ expose and develop


async def test_half_the_clearing_dose_leaves_resin_at_the_bottom_of_every_opening():
    """002:1f with 002:3: concave portions in a radiation-sensitive resin, resin below."""
    async with cell_on_line() as (sim, cell):
        baked = await coated_and_baked(cell, CoatMaterial.PBO_P)
        await cell.expose("openings", baked.clearing_dose_mj_cm2 / 2)
        pattern = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
        wafer = sim.twin.get("W1")
    sites = wafer.geometry.site_count
    assert pattern.sites == sites
    assert pattern.closed == 0
    assert pattern.cleared == 0
    assert pattern.residual_um == pytest.approx(baked.thickness_um / 2, rel=0.05)
    assert pattern.depth_um == pytest.approx(baked.thickness_um / 2, rel=0.05)
    top = wafer.top_resin()
    assert top is not None
    layer, openings = top
    assert (layer.kind, layer.cure) == (ResinKind.RADIATION_SENSITIVE, 0.0)
    assert not openings.open.any()
    assert openings.left_below_um(layer.thickness_um).min() > 0.45 * baked.thickness_um
    assert CONCAVE.sites(wafer) == (sites, sites)


async def test_the_dose_to_size_clears_every_opening_at_its_drawn_width():
    async with cell_on_line() as (sim, cell):
        baked = await coated_and_baked(cell, CoatMaterial.PBO_P)
        await cell.expose("openings", 1.25 * baked.clearing_dose_mj_cm2)
        pattern = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
        wafer = sim.twin.get("W1")
    assert pattern.all_cleared
    assert pattern.residual_um == 0.0
    assert pattern.cd_um == pytest.approx(40.0, abs=0.05)
    top = wafer.top_resin()
    assert top is not None
    assert top[1].open.all()
    assert top[1].diameter_um.min() == pytest.approx(40.0, abs=0.05)
    sites = wafer.geometry.site_count
    assert CONCAVE.sites(wafer) == (sites, 0)  # opened through: no resin below, not 002:1f


async def test_an_over_dosed_plating_mould_widens_its_lines_until_they_bridge():
    """A 11 um PR-THICK mould on 15/10 um lines: its walls fall above about 4.7 E0."""
    results, moulds = {}, {}
    async with cell_on_line() as (sim, cell):
        for index, factor in enumerate((1.25, 2.5, 6.0)):
            baked = await coated_and_baked(cell, CoatMaterial.PR_THICK, 4000, f"W{index}")
            await cell.expose("wiring-level-1", factor * baked.clearing_dose_mj_cm2)
            results[factor] = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
            await cell.unload(f"W{index}")
            moulds[factor] = sim.twin.get(f"W{index}").resist
    assert results[1.25].cd_um == pytest.approx(15.0, abs=0.05)
    assert results[1.25].bridged == 0
    assert 15.0 + 3.0 < results[2.5].cd_um < 25.0 - 2.75
    assert results[2.5].bridged == 0
    assert results[6.0].bridged == results[6.0].sites
    assert all(result.cleared == result.sites for result in results.values())
    # on the product: the mould is open to the seed everywhere, its walls gone at 6 E0
    reticle, physics = RETICLES["wiring-level-1"], LithoPhysics()
    for factor, resist in moulds.items():
        assert resist.open.all()
        assert resist.opening_um is not None
        merged = bridged(reticle, resist.opening_um, resist.thickness_um, physics)
        assert merged.all() == (factor == 6.0)


async def test_a_land_reticle_keeps_an_island_over_every_site_which_over_dose_narrows():
    """000:x3: a positive resist through interconnect-lands keeps a 300 um island over each
    site and clears the field around it; more dose spreads light under the island's edge."""
    results, resists = {}, {}
    async with cell_on_line() as (sim, cell):
        for index, factor in enumerate((1.25, 2.5, 0.5)):
            baked = await coated_and_baked(cell, CoatMaterial.PR_THICK, 4000, f"W{index}")
            await cell.expose("interconnect-lands", factor * baked.clearing_dose_mj_cm2)
            results[factor] = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
            await cell.unload(f"W{index}")
            resists[factor] = sim.twin.get(f"W{index}").resist
    assert results[1.25].cd_um == pytest.approx(300.0, abs=0.05)
    assert results[1.25].cleared == results[1.25].sites
    assert 300.0 - 15.0 < results[2.5].cd_um < 300.0 - 3.0
    for factor in (1.25, 2.5):
        resist = resists[factor]
        assert resist.islands
        assert resist.open.all()  # the field around every island cleared
        assert resist.thickness_um.min() > 10.0  # the islands stand
    # half the clearing dose leaves resist in the field: nothing is open around the islands
    assert results[0.5].cleared == 0
    assert not resists[0.5].open.any()


async def test_an_under_dosed_plating_mould_stays_closed_over_the_seed():
    async with cell_on_line() as (sim, cell):
        baked = await coated_and_baked(cell, CoatMaterial.PR_THICK, 4000)
        await cell.expose("wiring-level-1", 0.6 * baked.clearing_dose_mj_cm2)
        pattern = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
        resist = sim.twin.get("W1").resist
    assert pattern.cleared == 0
    assert pattern.residual_um == pytest.approx(0.4 * baked.thickness_um, rel=0.05)
    assert not resist.open.any()  # the plating finds resist, not seed, at every site


async def test_an_under_dosed_negative_film_thins_and_its_openings_grow():
    async with cell_on_line() as (_sim, cell):
        baked = await coated_and_baked(cell, CoatMaterial.PI_N)
        await cell.expose("openings", baked.clearing_dose_mj_cm2 / 2)
        pattern = await cell.develop(Tone.NEGATIVE, baked.nominal_develop_s)
        left = await cell.request_film()
    assert left is not None
    assert left.developed
    assert left.thickness_um == pytest.approx(baked.thickness_um / 2, rel=0.05)
    assert pattern.cleared == pattern.sites
    assert pattern.cd_um > 40.0 + 5.0


async def test_an_unbaked_film_loses_thickness_in_the_developer():
    fields = {}
    async with cell_on_line() as (_sim, cell):
        for wafer, bake in (("W1", True), ("W2", False)):
            await cell.load(wafer)
            await cell.coat(CoatMaterial.PR_THICK, 4000)
            if bake:
                await cell.bake(110, 90)
            await cell.expose("pads", 500)
            await cell.develop(Tone.POSITIVE, 120)
            film = await cell.request_film()
            assert film is not None
            fields[wafer] = film.thickness_um
            await cell.unload(wafer)
    unbaked_spun = 0.65 * math.sqrt(1500) / 2
    assert fields["W2"] < unbaked_spun - 2.0  # 0.2 um/s per solvent fraction over 120 s
    assert fields["W1"] > fields["W2"]


async def test_a_lamp_failure_leaves_the_dies_not_yet_shot_unexposed():
    async with cell_on_line() as (sim, cell):
        baked = await coated_and_baked(cell, CoatMaterial.PBO_P)
        exposing = asyncio.create_task(cell.expose("openings", 1.25 * baked.clearing_dose_mj_cm2))
        # ten shots by the cell's clock: the driver, its held wait not yet answered (nothing
        # changed), may not have read them
        await run_until(exposing, lambda: sim.shots_done >= 10, sim, timeout_s=10)
        sim.inject_fault("lamp_failure")
        with pytest.raises(ToolAlarm, match="LAMP_FAILURE"):
            await exposing
        sim.clear_fault("lamp_failure")
        await cell.reset()
        shots = (await cell.request_status()).shots_done
        pattern = await cell.develop(Tone.POSITIVE, baked.nominal_develop_s)
    assert 10 <= shots < 52
    assert pattern.cleared == 16 * shots
    assert pattern.closed == pattern.sites - 16 * shots
    wafer = sim.twin.get("W1")
    top = wafer.top_resin()
    assert top is not None
    shot = wafer.geometry.site_unit < shots
    assert (top[1].open == shot).all()


# ------------------------------------------------------------------ what the film allows


async def test_jobs_the_film_does_not_allow_are_refused_and_change_nothing():
    async with cell_on_line() as (_sim, cell):
        await cell.load("W1")
        with pytest.raises(CommandRefused, match="no film") as refused:
            await cell.expose("pads", 300)
        assert refused.value.code == "8"
        await cell.coat(CoatMaterial.PR_THICK, 4000)
        with pytest.raises(CommandRefused, match="not exposed"):
            await cell.develop(Tone.POSITIVE, 60)
        with pytest.raises(CommandRefused, match="carries PR-THICK"):
            await cell.coat(CoatMaterial.PR_THIN, 3000)
        await cell.expose("pads", 400)
        with pytest.raises(CommandRefused, match="PR-THICK is POS, not NEG") as refused:
            await cell.develop(Tone.NEGATIVE, 60)
        assert refused.value.code == "10"
        film = await cell.request_film()
    assert film is not None
    assert not film.developed
    assert film.dose_mj_cm2 == 400.0


async def test_the_station_fixture_reaches_the_litho_cell(station: Station):
    """Hardware in the loop through the plugin: `pytest --station line.yaml` runs this against
    a real cell (it coats nothing: it reads the cell and its library, loads and unloads)."""
    (name,) = station.tools_for_role("lithography")
    async with station.open_tool(name) as cell:
        assert isinstance(cell, AsciiLithography)
        assert await cell.request_masks()
        status = await cell.request_status()
        if cell.state is ToolState.IDLE and status.wafer_id is None:
            await cell.load("HIL01")
            assert (await cell.request_status()).wafer_id == "HIL01"
            await cell.unload("HIL01")
