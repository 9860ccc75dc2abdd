"""Hardware-in-the-loop: the real deposition driver against the simulated chamber on loopback,
and the deposition physics on the workpiece twin, with numbers.

Process time runs on a VirtualClock shared by driver and simulator, so a pump-down to high
vacuum and minutes of deposition cost milliseconds.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import CommandRefused, ToolAlarm, ToolTimeout
from packline.drivers.roles.deposition import (
    ULTIMATE_PRESSURE_UTORR,
    DepositionRecipe,
    DepositionStep,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.specs.deposition import SPEC
from packline.sim_instruments.deposition import SimDepositionTool
from packline.sim_instruments.physics.deposition import DepositionPhysics, deposit_film
from packline.sim_instruments.tool import HOLD_SCAN_S
from packline.sim_instruments.twin import ResinKind, TwinStore, WaferSpec
from packline.units import to_magnitude

Rig = testing.Rig[SimDepositionTool, ModbusDepositionTool]
PHYSICS = DepositionPhysics()


def sputter(material: Material, **values: float) -> DepositionStep:
    """A DC sputter step at 1 kW, 3 mTorr Ar, 40 sccm, timed unless a thickness is given."""
    conditions: dict[str, float] = {"time_s": 600, "power_w": 1000, "pressure_mtorr": 3}
    return DepositionStep(
        Method.SPUTTER, material, gas=ProcessGas.AR, flow_sccm=40, **(conditions | values)
    )


def evaporate(material: Material, thickness_nm: float) -> DepositionStep:
    return DepositionStep(
        Method.EVAPORATE, material, time_s=3600, thickness_nm=thickness_nm, rate_nm_s=1.0
    )


def sin(thickness_nm: float) -> DepositionStep:
    return DepositionStep(
        Method.CVD,
        Material.SIN,
        time_s=3600,
        thickness_nm=thickness_nm,
        power_w=100,
        pressure_mtorr=900,
        gas=ProcessGas.SIH4_NH3,
        flow_sccm=500,
    )


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = SimDepositionTool(
        "deposition", TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)), VirtualClock()
    )
    rig = await testing.open_rig(sim, ModbusDepositionTool, timeout_s=2.0)
    yield rig
    await rig.close()


async def load_and_evacuate(rig: Rig, *wafer_ids: str) -> None:
    await rig.driver.open_door()
    for wafer_id in wafer_ids:
        await rig.driver.load(wafer_id)
    await rig.driver.close_door()
    await rig.driver.pump_down()


def bumped(rig: Rig, wafer_id: str, bump_um: float = 45.0, resin_um: float = 30.0) -> None:
    """Stud bumps under a resin film thinner than them, the tips cleaned (003:7)."""
    wafer = rig.twin.get(wafer_id)
    wafer.bumps.height_um[:] = bump_um
    wafer.bumps.material = "Au"
    wafer.add_resin(ResinKind.THERMOSET, resin_um, cure=1.0)
    wafer.surface.residue_nm[:] = 0
    wafer.surface.oxide_nm[:] = 0


# ----------------------------------------------------------------- rate x time, end points


async def test_a_timed_sputter_lays_rate_times_time_and_the_crystal_reads_it(rig: Rig):
    await load_and_evacuate(rig, "W01", "W02")
    result = await rig.driver.deposit(DepositionRecipe((sputter(Material.CU, time_s=120),)))
    rate = 1.5 * 1.0 / (1 + 3 / 30)  # nm/s: Cu 1.5 nm/s per kW, scattered at 3 mTorr
    assert result.wafer_ids == ("W01", "W02")
    assert result.process_time_s == 120.0
    assert result.thickness_nm[0] == pytest.approx(rate * 120, abs=0.1)  # 163.6 nm
    assert await rig.driver.request_film_thickness_nm() == result.thickness_nm[0]
    for wafer_id in ("W01", "W02"):
        (film,) = rig.twin.get(wafer_id).films.layers
        assert film.material == "Cu"
        assert film.thickness_um.max() * 1000 == pytest.approx(rate * 120, rel=0.01)
        # thinner towards the edge, by at most the sputter's 5 %
        assert film.thickness_um.min() >= 0.95 * film.thickness_um.max()
        assert film.connected.all()  # bare pads: every one is joined


async def test_a_thickness_step_ends_at_the_crystal_end_point(rig: Rig):
    await load_and_evacuate(rig, "W01")
    recipe = DepositionRecipe((sputter(Material.TI, thickness_nm=50), sputter(Material.CU)))
    result = await rig.driver.deposit(recipe)
    ti_rate = 0.5 / 1.1
    assert result.thickness_nm[0] == pytest.approx(50.0, abs=0.1)
    assert result.process_time_s == pytest.approx(50 / ti_rate + 600, abs=0.1)
    ti, cu = rig.twin.get("W01").films.layers
    assert (ti.material, cu.material) == ("Ti", "Cu")
    assert "deposition" in rig.twin.get("W01").operations()


async def test_an_end_point_not_reached_in_its_time_faults_and_leaves_what_grew(rig: Rig):
    await load_and_evacuate(rig, "W01")
    recipe = DepositionRecipe((sputter(Material.TI, thickness_nm=500, time_s=60),))
    with pytest.raises(ToolAlarm, match="END_POINT_NOT_REACHED"):
        await rig.driver.deposit(recipe)
    (film,) = rig.twin.get("W01").films.layers
    assert film.thickness_um.max() * 1000 == pytest.approx(60 * 0.5 / 1.1, rel=0.01)


# ----------------------------------------------------------------- coverage and connection


async def test_a_sputtered_seed_covers_the_resin_and_joins_every_projecting_tip(rig: Rig):
    bumped(rig, "W01")
    await load_and_evacuate(rig, "W01")
    await rig.driver.deposit(DepositionRecipe((sputter(Material.CU, thickness_nm=300),)))
    (film,) = rig.twin.get("W01").films.layers
    assert film.present.all()  # blanket: the resin top and every tip
    # sidewall 0.3 x 300 nm = 90 nm over the 15 um the tips stand out: continuous
    assert film.connected.all()
    assert film.contact_mohm.max() == pytest.approx(2.0)  # on cleaned tips


async def test_an_evaporated_film_breaks_on_the_tip_sidewalls_and_joins_nothing(rig: Rig):
    bumped(rig, "W01")
    await load_and_evacuate(rig, "W01")
    await rig.driver.deposit(DepositionRecipe((evaporate(Material.CU, 100),)))
    (film,) = rig.twin.get("W01").films.layers
    # line of sight: 0.05 x 100 nm = 5 nm on the sidewalls, below the 10 nm that is continuous
    assert not film.connected.any()
    assert film.thickness_um.max() * 1000 == pytest.approx(100, abs=0.1)


async def test_buried_tips_are_not_joined(rig: Rig):
    bumped(rig, "W01", bump_um=45, resin_um=50)  # the resin covers the bumps
    await load_and_evacuate(rig, "W01")
    await rig.driver.deposit(DepositionRecipe((sputter(Material.CU, thickness_nm=300),)))
    (film,) = rig.twin.get("W01").films.layers
    assert not film.connected.any()


async def test_a_seed_on_uncleaned_tips_makes_a_poor_contact(rig: Rig):
    """Incoming residue (about 4 nm) and oxide (3 nm) stay under the film: 2 + 10 x 3 + 20 x
    residue mOhm instead of 2."""
    await load_and_evacuate(rig, "W01")
    wafer = rig.twin.get("W01")
    residue = wafer.surface.residue_nm.copy()
    await rig.driver.deposit(DepositionRecipe((sputter(Material.TI, thickness_nm=50),)))
    (film,) = wafer.films.layers
    np.testing.assert_allclose(film.contact_mohm, 2 + 10 * 3 + 20 * residue, rtol=1e-5)
    assert film.contact_mohm.min() > 50
    assert wafer.surface.residue_nm.max() == 0  # the fresh film is the new surface


async def test_a_base_pressure_too_high_oxidises_a_titanium_film(rig: Rig):
    """A leaking chamber stalls at 2e-5 Torr: a recipe that accepts 50 uTorr starts once the
    ion gauge reads it (the held read answers as the interlock closes, the pressure then up
    to half the gauge's 0.01 uTorr step above it), and its Ti takes up 0.03 x (20 to 50)
    monolayers/s of gas against 1.8 of its own: 25 to 45 %, above the 20 % of an oxidised
    film."""
    rig.sim.inject_fault("chamber_leak")
    await load_and_evacuate(rig, "W01")
    recipe = DepositionRecipe((sputter(Material.TI, thickness_nm=50),), base_pressure_utorr=50)
    await rig.driver.deposit(recipe)
    (film,) = rig.twin.get("W01").films.layers
    ti_monolayers = 0.5 / 1.1 / 0.25
    low, high = (0.03 * p / (0.03 * p + ti_monolayers) for p in (20.0, 50.005))
    assert low <= film.oxygen_fraction <= high
    assert film.oxygen_fraction > PHYSICS.oxidised_fraction
    assert film.contact_mohm.min() >= 50


async def test_a_leak_keeps_a_strict_base_pressure_from_being_reached(rig: Rig):
    rig.sim.inject_fault("chamber_leak")
    await load_and_evacuate(rig, "W01")
    with pytest.raises(ToolTimeout, match="above the base pressure 5 uTorr"):
        await rig.driver.deposit(DepositionRecipe((sputter(Material.TI, thickness_nm=50),)))
    assert rig.twin.get("W01").films.layers == []


async def test_the_base_pressure_wait_over_modbus_rtu_polls_every_10_s():
    """Modbus RTU cannot carry a held reply: the wait polls, every 10 s of process time (its
    interval), not every second, and ends at the first poll after the gauge reads 5.00
    (372.58 s)."""
    clock = VirtualClock()
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))
    sim = SimDepositionTool("deposition", twin, clock, transport="rtu-tcp")
    rig = await testing.open_rig(sim, ModbusDepositionTool, timeout_s=2.0)
    try:
        assert rig.driver.address.startswith("modbus+rtu:")
        await load_and_evacuate(rig, "W01")
        started, before = rig.clock.now(), len(rig.driver.readings)
        await rig.driver.deposit(DepositionRecipe((sputter(Material.CU, time_s=60),)))
    finally:
        await rig.close()
    waited = [r for r in list(rig.driver.readings)[before:] if r.name == "high_vacuum"]
    waited = waited[: next(i for i, r in enumerate(waited) if r.value <= 5.0) + 1]
    assert [round(r.time_s - started, 6) for r in waited] == [10.0 * i for i in range(38)]


async def test_the_least_base_pressure_the_spec_takes_is_reached_the_pumps_floor_is_not(
    rig: Rig,
):
    """The pump tends to ULTIMATE_PRESSURE_UTORR and never passes it: the tool's range starts a
    register step above it (0.6 uTorr), which a recipe reaches and starts at; the floor
    itself (register 201 = 5) is refused with exception 3, reason 4, nothing written."""
    assert SPEC.setpoint_by_name["base_pressure_utorr"].machine_range.minimum == pytest.approx(
        ULTIMATE_PRESSURE_UTORR + 0.1
    )
    assert PHYSICS.high_vacuum_floor_torr == ULTIMATE_PRESSURE_UTORR * 1e-6
    await load_and_evacuate(rig, "W01")
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
        await rig.driver.link.write_register(201, 5)
    assert await rig.driver.link.read_holding_registers(22, 2) == [201, 4]  # out of range
    assert rig.sim.base_pressure_utorr == 0.0
    recipe = DepositionRecipe((sputter(Material.CU, time_s=60),), base_pressure_utorr=0.6)
    result = await rig.driver.deposit(recipe)
    assert result.process_time_s == 60.0  # started: the interlock closed at 0.6 uTorr


async def test_passivation_insulates_and_a_metal_on_it_joins_nothing(rig: Rig):
    bumped(rig, "W01")
    await load_and_evacuate(rig, "W01")
    recipe = DepositionRecipe((sin(200), sputter(Material.CU, thickness_nm=300)))
    result = await rig.driver.deposit(recipe)
    assert result.thickness_nm == pytest.approx((200.0, 300.0), abs=0.1)
    passivation, copper = rig.twin.get("W01").films.layers
    assert passivation.material == "SiN"
    assert not passivation.connected.any()
    assert not copper.connected.any()


# ----------------------------------------------------------------- the physics alone


def test_the_oxygen_uptake_follows_the_langmuir_arrival_against_the_growth():
    # 1e-6 Torr brings one monolayer/s; Ti sticks 3 % of it; 1 nm/s is 4 monolayers/s
    assert PHYSICS.oxygen_fraction(Material.TI, 1e-6, 1.0) == pytest.approx(0.03 / 4.03)
    assert PHYSICS.oxygen_fraction(Material.AU, 1e-4, 1.0) == 0.0


def test_the_rates_of_the_three_methods():
    assert PHYSICS.rate_nm_s(Method.SPUTTER, Material.AU, 2000, 0, 0) == pytest.approx(3.6)
    assert PHYSICS.rate_nm_s(Method.EVAPORATE, Material.NI, 0, 0.8, 0) == 0.8
    assert PHYSICS.rate_nm_s(Method.CVD, Material.SIO2, 300, 0, 900) == pytest.approx(3.6)


def test_no_film_where_resist_masks_the_site_and_a_second_metal_joins_through_the_first():
    wafer = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)).get("W01")
    wafer.surface.residue_nm[:] = 0
    wafer.surface.oxide_nm[:] = 0
    wafer.resist.thickness_um[:2] = 5.0  # resist over the first two sites only
    ti = deposit_film(wafer, Method.SPUTTER, Material.TI, 50, 0.0, PHYSICS)
    assert ti.present.tolist()[:3] == [False, False, True]
    assert not ti.connected[:2].any()
    assert ti.connected[2:].all()
    cu = deposit_film(wafer, Method.EVAPORATE, Material.CU, 100, 0.0, PHYSICS)
    # on the Ti, not on a step: it joins wherever the Ti does, with the Ti's contact
    assert cu.connected.tolist() == ti.connected.tolist()
    np.testing.assert_array_equal(cu.contact_mohm, ti.contact_mohm)


def test_a_metal_film_lies_as_thick_in_the_field_between_the_patterns_a_dielectric_not():
    """A seed is the metal the etch after its wiring's plating must clear between the
    patterns (`Film.field_um`): as thick there as it was laid, nothing etched past it yet; a
    passivation is no wiring's metal."""
    wafer = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4)).get("W01")
    wafer.resist.thickness_um[:2] = 5.0  # a lift-off mask over the first two sites
    cu = deposit_film(wafer, Method.SPUTTER, Material.CU, 300, 0.0, PHYSICS)
    np.testing.assert_array_equal(cu.field_um, np.where(cu.present, cu.thickness_um, 0))
    assert cu.field_um[:2].tolist() == [0.0, 0.0]
    assert cu.field_um.max() == pytest.approx(0.3, rel=1e-3)  # the centre; thinner to the edge
    np.testing.assert_array_equal(cu.field_overetch_um, 0.0)
    sio2 = deposit_film(wafer, Method.CVD, Material.SIO2, 500, 0.0, PHYSICS)
    assert sio2.field_um.size == sio2.field_overetch_um.size == 0


async def test_the_chamber_tells_when_it_changes_next_by_itself() -> None:
    """`next_change_s` is the moment each phase ends: a millisecond before it the chamber is
    as it was, at it the change has come (the crossover, the base pressure written, the vent's
    end)."""
    clock = VirtualClock()
    sim = SimDepositionTool("deposition", TwinStore(), clock)
    sim.execute("CLOSE_DOOR", {}, [], 0)
    looked: list[str] = []

    async def at_next_change(state: str) -> None:
        """Sleep to a millisecond before the change the model foresees, then to it."""
        change_s = sim.next_change_s(clock.now())
        await clock.sleep(change_s - clock.now() - 1e-3)
        sim.advance()
        looked.append(f"{sim.state_name()} {sim.interlocks()['base_pressure']}")
        await clock.sleep(change_s - clock.now())
        sim.advance()
        looked.append(f"{sim.state_name()} {sim.interlocks()['base_pressure']}")
        assert looked[-1].startswith(state)

    sim.execute("PUMP_DOWN", {}, [], 0)
    await at_next_change("evacuated")
    sim.take_setpoints({"base_pressure_utorr": 5.0})
    await at_next_change("evacuated True")
    sim.run = None
    sim.execute("VENT", {}, [], 0)
    await at_next_change("vented")
    assert looked == [
        "pumping False",
        "evacuated False",
        "evacuated False",
        "evacuated True",
        "venting False",
        "vented False",
    ]


@pytest.mark.parametrize(
    ("base_pressure", "written_utorr"),
    [("5 uTorr", 5.0), ("5.06 uTorr", 5.1), ("0.675 mPa", 5.1)],  # 0.675 mPa: 5.063 uTorr
)
async def test_the_base_pressure_wait_is_answered_as_the_interlock_closes(
    rig: Rig, base_pressure: str, written_utorr: float
):
    """The wait's reads are held by the chamber (decision 0081): the trace has the wait's
    start, a sample every `HOLD_S` (the hold) while the turbo pumps on, and the high vacuum
    the moment the ion gauge reads the base pressure as written (register 201, 0.1 uTorr: the
    `base_pressure` interlock closing), not up to a poll's 10 s after it, nor a hold's
    `HOLD_S` for a base pressure off the register's grid."""
    await load_and_evacuate(rig, "W01")
    started, before = rig.clock.now(), len(rig.driver.readings)
    base_utorr = to_magnitude(base_pressure, "uTorr")
    async with asyncio.timeout(20):
        await rig.driver.deposit(
            DepositionRecipe((sputter(Material.CU, time_s=60),), base_pressure_utorr=base_utorr)
        )
    readings = list(rig.driver.readings)[before:]
    waited = [r for r in readings if r.name == "high_vacuum"]
    *pumping, reached = waited[
        : next(i for i, r in enumerate(waited) if r.value <= written_utorr) + 1
    ]
    assert reached.value == written_utorr
    started_run = waited[len(pumping) + 1]  # the run's first read: it started at the crossing
    assert started_run.time_s == reached.time_s
    # the gauge reads the base pressure once the turbo's curve from the crossover is half a
    # register step above it
    floor_torr = PHYSICS.high_vacuum_floor_torr
    crossing_s = PHYSICS.high_vacuum_time_constant_s * np.log(
        (PHYSICS.crossover_torr - floor_torr) / ((written_utorr + 0.005) * 1e-6 - floor_torr)
    )
    assert reached.time_s - started == pytest.approx(crossing_s, abs=1e-3)
    # some 373 s: held reads answered at the wait's start and every HOLD_S before it
    held = [HOLD_S * i for i in range(math.ceil(crossing_s / HOLD_S))]
    assert len(held) > 2
    assert [round(r.time_s - started, 6) for r in pumping] == held
    assert all(r.value > written_utorr for r in pumping)


async def test_a_read_held_past_the_base_pressure_is_answered_after_its_hold(rig: Rig):
    """Once the gauge has read the base pressure written, the chamber foresees no change
    there: a status read held then is answered when its hold (`HOLD_S`) has passed, after a
    look each scan (1 s), not a look every microsecond (hours of wall time)."""
    await load_and_evacuate(rig, "W01")
    rig.sim.take_setpoints({"base_pressure_utorr": 5.0})
    await rig.clock.sleep(600.0)  # the gauge reads 5.00 after some 373 s
    assert (await rig.driver.request_interlocks())["base_pressure"]
    started = rig.clock.now()
    looks = testing.count_looks(rig.sim)

    async def poll() -> float | None:
        """The second read, the held one, ends the wait."""
        await rig.driver.traced_status()
        return rig.clock.now() if rig.clock.now() > started else None

    async with asyncio.timeout(20):
        answered = await rig.driver.wait_until_held("wait", poll, 2 * HOLD_S, lambda: "")
    assert answered - started == pytest.approx(HOLD_S)
    assert len(looks) <= HOLD_S / HOLD_SCAN_S + 1


async def test_an_alarm_while_the_turbo_pumps_on_ends_the_base_pressure_wait_as_it_latches(
    rig: Rig,
):
    """The held read is answered as the alarm latches (a counted change), mid-hold, where a
    poll every 10 s saw it up to 10 s later."""
    await load_and_evacuate(rig, "W01")
    recipe = DepositionRecipe((sputter(Material.CU, time_s=60),))
    run = asyncio.create_task(rig.driver.deposit(recipe))
    await rig.clock.sleep(95.0)  # the wait's reads at 0, 30, 60 and 90 s: mid-hold
    alarmed_s = rig.clock.now()
    rig.sim.fault("COOLING_WATER")  # the PLC latches it (no fault of the model does here)
    rig.sim.changed()  # and its scan sees it
    with pytest.raises(ToolAlarm, match="COOLING_WATER"):
        await run
    seen_s = min(r.time_s for r in rig.driver.readings if r.time_s >= alarmed_s)
    assert seen_s == alarmed_s
