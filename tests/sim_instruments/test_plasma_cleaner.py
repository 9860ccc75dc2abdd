"""Hardware-in-the-loop: the real plasma cleaner driver against the simulated chamber on loopback.

Process time runs on a VirtualClock shared by driver and simulator, so minutes of pumping and
cleaning cost milliseconds.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
)
from packline.drivers.links import ModbusLink
from packline.drivers.plasma_cleaner import LastResult, ModbusPlasmaCleaner
from packline.drivers.roles.plasma_cleaner import ChamberState, Gas, PlasmaRecipe, PlasmaStep
from packline.sim_instruments.physics.plasma_cleaner import PlasmaPhysics
from packline.sim_instruments.plasma_cleaner import ATMOSPHERE_MTORR, SimPlasmaCleaner
from packline.sim_instruments.twin import ResinKind, TwinStore

O2_THEN_AR = PlasmaRecipe(
    (PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep(Gas.AR, 100, 100, 500, 120))
)


Rig = testing.Rig[SimPlasmaCleaner, ModbusPlasmaCleaner]


async def open_rig() -> Rig:
    sim = SimPlasmaCleaner("plasma", TwinStore(), VirtualClock())
    return await testing.open_rig(sim, ModbusPlasmaCleaner, timeout_s=2.0)


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await open_rig()
    yield rig
    await rig.close()


async def load_and_evacuate(rig: Rig, *wafer_ids: str) -> None:
    await rig.driver.open_door()
    for wafer_id in wafer_ids:
        await rig.driver.load(wafer_id)
    await rig.driver.close_door()
    await rig.driver.pump_down()


async def test_identity_and_standby_after_connect(rig: Rig):
    assert str(rig.driver.identity) == "packline PC-4 s/n PC-4-0001 fw 1.0"
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.e10_state is E10State.STANDBY
    assert rig.sim.received == []  # connecting only reads


async def test_full_cycle_cleans_every_loaded_wafer(rig: Rig):
    await load_and_evacuate(rig, "W01", "W02")
    assert (await rig.driver.request_status()).chamber is ChamberState.EVACUATED
    result = await rig.driver.clean(O2_THEN_AR)
    await rig.driver.vent()
    await rig.driver.open_door()
    await rig.driver.unload("W01")
    await rig.driver.unload("W02")

    assert result.wafer_ids == ("W01", "W02")
    assert result.process_time_s == 180.0
    for wafer_id in ("W01", "W02"):
        wafer = rig.twin.get(wafer_id)
        assert wafer.surface.residue_nm.max() == 0.0
        assert wafer.surface.oxide_nm.max() == 0.0
        assert wafer.surface.activated.all()
        assert "plasma clean" in wafer.operations()
    assert await rig.driver.request_slots() == [None] * 4
    assert rig.driver.state is ToolState.IDLE
    forward = [r.value for r in rig.driver.readings if r.name == "rf_forward"]
    assert 300.0 in forward
    assert 500.0 in forward
    assert rig.clock.now() >= 180.0 + 30.0  # pump-down, clean and vent took process time


async def test_o2_alone_leaves_oxide_and_a_short_ar_step_leaves_some(rig: Rig):
    await load_and_evacuate(rig, "W01")
    await rig.driver.clean(PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 300, 60),)))
    wafer = rig.twin.get("W01")
    assert wafer.surface.residue_nm.max() == 0.0
    assert wafer.surface.oxide_nm.min() > 3.0  # O2 grows oxide on the Al pads
    await rig.driver.clean(PlasmaRecipe((PlasmaStep(Gas.AR, 100, 100, 100, 30),)))
    assert wafer.surface.oxide_nm.min() > 0.0  # 30 s of Ar at 100 W sputters only 0.5 nm


async def test_a_miscalibrated_generator_reads_its_setpoint_and_cleans_as_a_third_of_it(rig: Rig):
    """`rf_calibration`: no alarm, the forward power reads the setpoint, the cycle completes in
    its time; the plasma is a third as strong, so the Ar step leaves oxide a calibrated one
    takes off (the dry run's claim check is what finds it)."""
    rig.sim.inject_fault("rf_calibration")
    await load_and_evacuate(rig, "W01")
    result = await rig.driver.clean(O2_THEN_AR)
    assert result.process_time_s == 180.0
    assert rig.driver.active_alarms == {}
    forward = [r.value for r in rig.driver.readings if r.name == "rf_forward"]
    assert 500.0 in forward
    wafer = rig.twin.get("W01")
    assert wafer.surface.oxide_nm.min() > 0.5


async def test_forming_gas_reduces_the_oxide(rig: Rig):
    await load_and_evacuate(rig, "W01")
    await rig.driver.clean(
        PlasmaRecipe(
            (PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep(Gas.FORMING_GAS, 200, 300, 800, 180))
        )
    )
    wafer = rig.twin.get("W01")
    assert wafer.surface.residue_nm.max() == 0.0
    assert wafer.surface.oxide_nm.max() == 0.0


async def test_pump_down_with_the_door_open_is_refused_by_the_interlock(rig: Rig):
    with pytest.raises(InterlockOpen, match="pump down: interlock open: door_closed"):
        await rig.driver.pump_down()
    assert rig.sim.received == []
    assert rig.driver.state is ToolState.IDLE


async def test_clean_at_atmosphere_is_refused_by_the_base_pressure_interlock(rig: Rig):
    await rig.driver.close_door()
    rig.sim.received.clear()
    with pytest.raises(InterlockOpen, match="base_pressure"):
        await rig.driver.clean(O2_THEN_AR)
    assert rig.sim.received == []


async def test_out_of_limit_setpoint_is_refused_and_nothing_is_sent(rig: Rig):
    await load_and_evacuate(rig, "W01")
    rig.sim.received.clear()
    with pytest.raises(LimitViolation, match=r"clean step 2: .*time_s = 900 s"):
        await rig.driver.clean(
            PlasmaRecipe(
                (PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep(Gas.AR, 100, 100, 300, 900))
            )
        )
    assert rig.sim.received == []


async def test_the_tool_refuses_a_value_beyond_its_range_with_its_own_error():
    rig = await open_rig()
    testing.force_limits(rig.driver, {"rf_power_w": (100, 2000)})
    try:
        await load_and_evacuate(rig, "W01")
        with pytest.raises(CommandRefused, match="write recipe: value out of range"):
            await rig.driver.clean(PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 1500, 60),)))
        assert rig.sim.run is None
    finally:
        await rig.close()


async def test_load_with_the_door_closed_is_refused_by_the_tool(rig: Rig):
    await rig.driver.close_door()
    with pytest.raises(CommandRefused, match="load wafer W01: not allowed in the chamber's"):
        await rig.driver.load("W01")


async def test_load_refuses_bad_ids_and_a_full_chamber(rig: Rig):
    await rig.driver.open_door()
    with pytest.raises(ValueError, match="must be 1-16 printable ASCII characters"):
        await rig.driver.load("W" * 17)
    for index in range(4):
        await rig.driver.load(f"W{index}")
    with pytest.raises(ValueError, match="all 4 slots are full"):
        await rig.driver.load("W9")
    with pytest.raises(ValueError, match="already in slot 0"):
        await rig.driver.load("W0")


async def wait_for_processing(rig: Rig) -> None:
    async with asyncio.timeout(5):
        while rig.sim.chamber is not ChamberState.PROCESSING:
            await rig.clock.sleep(1)


@pytest.mark.parametrize(
    ("fault", "alarm"),
    [
        ("rf_mismatch", "REFLECTED_POWER"),
        ("gas_supply", "GAS_FLOW"),
        ("door_switch", "DOOR_OPENED_IN_PROCESS"),
        ("throttle_valve", "PRESSURE_CONTROL"),
    ],
)
async def test_alarm_during_clean_faults_the_tool_until_reset(rig: Rig, fault: str, alarm: str):
    await load_and_evacuate(rig, "W01")
    clean = asyncio.create_task(rig.driver.clean(O2_THEN_AR))
    await wait_for_processing(rig)
    rig.sim.inject_fault(fault)
    with pytest.raises(ToolAlarm, match=alarm):
        await clean
    assert rig.driver.state is ToolState.FAULT
    assert rig.driver.e10_state is E10State.UNSCHEDULED_DOWNTIME
    assert rig.sim.last_result is LastResult.FAULTED
    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await rig.driver.clean(O2_THEN_AR)
    rig.sim.clear_fault(fault)
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert [a.code for a in rig.driver.alarm_history] == [alarm]


async def test_leak_raises_base_pressure_not_reached(rig: Rig):
    rig.sim.inject_fault("chamber_leak")
    await rig.driver.close_door()
    started = rig.clock.now()
    with pytest.raises(ToolAlarm, match="BASE_PRESSURE_NOT_REACHED"):
        await rig.driver.pump_down()
    # the held read answers as the pump-down gives up, not at a later look
    limit_s = rig.sim.physics.pump_down_limit_s
    assert rig.clock.now() - started >= limit_s
    assert rig.clock.now() - started == pytest.approx(limit_s, abs=1e-3)
    await rig.driver.reset()  # latched alarm cleared; the chamber vents
    assert rig.driver.state is ToolState.IDLE


async def test_reset_refused_while_the_cause_is_reported(rig: Rig):
    await load_and_evacuate(rig, "W01")
    clean = asyncio.create_task(rig.driver.clean(O2_THEN_AR))
    await wait_for_processing(rig)
    rig.sim.inject_fault("rf_mismatch")
    with pytest.raises(ToolAlarm):
        await clean
    await rig.driver.reset()
    # the mismatch persists: the next run faults again
    with pytest.raises(ToolAlarm, match="REFLECTED_POWER"):
        await rig.driver.clean(O2_THEN_AR)


async def test_cancelled_clean_commands_the_safe_state(rig: Rig):
    await load_and_evacuate(rig, "W01")
    clean = asyncio.create_task(rig.driver.clean(O2_THEN_AR))
    await wait_for_processing(rig)
    clean.cancel()
    with pytest.raises(asyncio.CancelledError):
        await clean
    assert rig.sim.last_result is LastResult.ABORTED
    status = await rig.driver.request_status()
    assert status.chamber is ChamberState.EVACUATED
    assert status.rf_forward_w == 0.0
    assert rig.driver.state is ToolState.IDLE


async def test_engineering_mode_runs_operations_and_reports_e10_engineering(rig: Rig):
    await rig.driver.enter_engineering()
    assert rig.driver.e10_state is E10State.ENGINEERING
    await load_and_evacuate(rig, "W01")
    assert rig.driver.state is ToolState.ENGINEERING
    await rig.driver.leave_engineering()
    await rig.driver.start_maintenance()
    assert rig.driver.e10_state is E10State.SCHEDULED_DOWNTIME
    with pytest.raises(ToolStateError, match="vent: not allowed while maintenance"):
        await rig.driver.vent()
    await rig.driver.end_maintenance()


async def test_o2_dry_etch_opens_the_bottom_of_concave_portions(rig: Rig):
    """002:4: the resin left at the bottom of a concave portion is etched down to the metal."""
    wafer = rig.twin.get("W01")
    wafer.add_resin(ResinKind.THERMOSET, 20.0)
    wafer.openings.layers[-1].depth_um[:100] = (
        18.5  # concave portions with 1.5 µm of resin at the bottom
    )
    await load_and_evacuate(rig, "W01")
    await rig.driver.clean(PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 500, 60),)))
    assert not wafer.openings.layers[-1].open.any()  # 0.6 µm removed: the bottoms are still closed
    await rig.driver.clean(PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 1000, 120),)))
    assert wafer.openings.layers[-1].open[:100].all()
    assert not wafer.openings.layers[-1].open[100:].any()
    assert wafer.resin_um[100:].max() < 20.0 - 2.0  # the top surface came down as well


async def test_unused_recipe_registers_take_any_value(rig: Rig):
    """201-209 are not step fields: one FC16 from 200 through step 1 is accepted."""
    await rig.driver.link.write_registers(200, [1] + [0] * 9 + [1, 100, 200, 300, 600, 7])
    assert rig.sim.command_error.value == 0
    assert await rig.driver.link.read_holding_registers(200, 16) == (
        [1] + [0] * 9 + [1, 100, 200, 300, 600, 7]
    )


async def test_reflected_power_above_10_percent_alarms_whatever_the_cause():
    """The page's REFLECTED_POWER rule holds for the physics, not only the injected fault."""
    physics = PlasmaPhysics(reflected_fraction=0.12)
    sim = SimPlasmaCleaner("plasma", TwinStore(), VirtualClock(), physics=physics)
    rig = await testing.open_rig(sim, ModbusPlasmaCleaner)
    try:
        await load_and_evacuate(rig, "W01")
        with pytest.raises(ToolAlarm, match="REFLECTED_POWER"):
            await rig.driver.clean(O2_THEN_AR)
        assert sim.last_result is LastResult.FAULTED
    finally:
        await rig.close()


def test_faults_are_cleared_by_their_documented_names():
    sim = SimPlasmaCleaner("plasma", TwinStore())
    sim.inject_fault("rf_mismatch")
    with pytest.raises(
        ValueError,
        match=r"has no fault 'rf_mismach'; known: rf_mismatch, .* \(did you mean 'rf_mismatch'\?\)",
    ):
        sim.clear_fault("rf_mismach")
    assert sim.injected == {"rf_mismatch"}
    sim.clear_fault("rf_mismatch")
    sim.clear_fault("rf_mismatch")  # clearing twice is fine
    assert sim.injected == set()


async def test_the_chamber_plc_also_answers_over_modbus_rtu():
    """RS-485 PLCs speak RTU: the same map over RTU framing behind a serial device server."""
    clock = VirtualClock()
    sim = SimPlasmaCleaner("plasma", TwinStore(), clock, transport="rtu-tcp")
    address = await sim.start()
    assert address.startswith("modbus+rtu:socket://127.0.0.1:")
    driver = ModbusPlasmaCleaner(ModbusLink(address, tool="plasma", clock=clock), name="plasma")
    try:
        await driver.connect()
        assert str(driver.identity) == "packline PC-4 s/n PC-4-0001 fw 1.0"
        await driver.close_door()
        await driver.pump_down()
        assert (await driver.request_status()).chamber is ChamberState.EVACUATED
    finally:
        await driver.close()
        await sim.stop()


async def test_the_held_status_read_is_answered_as_the_chamber_changes(rig: Rig):
    """The chamber holding the driver's status read looks at itself when its model says it
    changes (the base pressure reached, a step's and the run's end, the vent's end), so each
    wait ends then to the clock's resolution, after a few looks rather than one a second."""
    physics = rig.sim.physics
    looks = testing.count_looks(rig.sim)
    await rig.driver.open_door()
    await rig.driver.load("W01")
    await rig.driver.close_door()
    started_s = rig.clock.now()
    await rig.driver.pump_down()
    floor = physics.base_pressure_mtorr
    pumped_s = physics.pump_time_constant_s * math.log(
        (ATMOSPHERE_MTORR - floor) / (physics.base_pressure_ok_mtorr - floor)
    )
    assert rig.clock.now() - started_s == pytest.approx(pumped_s, abs=1e-5)
    started_s = rig.clock.now()
    await rig.driver.clean(O2_THEN_AR)
    assert rig.clock.now() - started_s == pytest.approx(180, abs=1e-5)
    started_s = rig.clock.now()
    await rig.driver.vent()
    assert rig.clock.now() - started_s == pytest.approx(physics.vent_time_s, abs=1e-5)
    assert len(looks) <= 12
