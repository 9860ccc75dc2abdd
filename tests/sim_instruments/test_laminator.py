"""Hardware-in-the-loop: the real laminator driver against the simulated laminator on loopback.

Process time runs on a VirtualClock shared by driver and simulator, so a six-minute lamination
costs milliseconds. The physics the claims need (001:7, 001:10, 003:7.2) is checked on the
workpiece twin after the driver ran the tool.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
import pytest
import pytest_asyncio

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, Reading, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
)
from packline.drivers.laminator import Command, CommandError, ModbusLaminator
from packline.drivers.links import ModbusLink
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.laminator import (
    SMEAR,
    JobResult,
    LaminationJob,
    LaminatorPhase,
    PressRecipe,
    ResinSheet,
    SupportKind,
)
from packline.drivers.specs.laminator import SPEC, SUPPORT_CODES
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.physics.laminator import (
    LaminatorPhysics,
    laminate_sheet,
    void_fraction,
)
from packline.sim_instruments.tool import EndedJob
from packline.sim_instruments.twin import JobEnd, Support, TwinStore, WaferSpec, new_wafer

RECIPE = PressRecipe(
    vacuum_pa=100,
    vacuum_hold_s=20,
    temperature_c=100,
    press_pressure_mpa=0.5,
    press_time_s=60,
    cool_to_c=35,
)
FILM_45 = LaminationJob(ResinSheet(45, SupportKind.FILM), RECIPE)

MAP = SPEC.wire


Rig = testing.Rig[SimLaminator, ModbusLaminator]


async def open_rig(transport: str = "tcp") -> Rig:
    sim = SimLaminator("laminator", TwinStore(), VirtualClock(), transport=transport)
    return await testing.open_rig(sim, ModbusLaminator, timeout_s=2.0)


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await open_rig()
    yield rig
    await rig.close()


def bumped_wafer(rig: Rig, wafer_id: str, height_um: float) -> np.ndarray:
    """Give every site of a twin wafer a bump of `height_um`; returns the incoming residue."""
    wafer = rig.twin.get(wafer_id)
    wafer.bumps.height_um[:] = height_um
    wafer.bumps.stack[:] = 1
    wafer.bumps.material = "Au"
    return wafer.surface.residue_nm.copy()


async def wait_for_phase(rig: Rig, phase: LaminatorPhase) -> None:
    """Let process time pass until the simulated tool is in `phase`."""
    async with asyncio.timeout(5):
        while rig.sim.phase is not phase:
            await rig.clock.sleep(1)


# ----------------------------------------------------------------- the process and its physics


async def test_identity_and_standby_after_connect(rig: Rig):
    assert str(rig.driver.identity) == "packline VL-2 s/n VL-2-0001 fw 1.0"
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.e10_state is E10State.STANDBY
    assert rig.sim.received == []  # connecting only reads


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp", "rtu-pty"])
async def test_45_um_sheet_over_60_um_bumps_leaves_15_um_of_every_tip_projecting(transport):
    rig = await open_rig(transport)
    try:
        incoming = bumped_wafer(rig, "W01", 60.0)
        states: list[tuple[ToolState, E10State]] = []
        rig.driver.add_reading_listener(
            lambda _: states.append((rig.driver.state, rig.driver.e10_state))
        )
        await rig.driver.load("W01")
        result = await rig.driver.laminate(FILM_45)

        wafer = rig.twin.get("W01")
        np.testing.assert_allclose(wafer.resin_um, 45.0, atol=1.5)
        np.testing.assert_allclose(wafer.tip_projection_um, 15.0, atol=1.5)
        assert wafer.resin_um.std() > 0  # a real sheet has some spread
        smear = wafer.surface.residue_nm - incoming
        assert 100.0 < smear.mean() < 1000.0  # hundreds of nm of resin on the tips
        assert smear.min() > 0
        assert wafer.resins.support is Support.FILM
        assert wafer.resins.layers[-1].cure == 0.0  # not cured
        assert wafer.operations() == ["laminate"]
        event = wafer.history[0]
        assert event.detail["tips_projecting"] == wafer.geometry.site_count
        assert event.detail["support"] == "film"

        assert result.wafer_id == "W01"
        assert result.peak_temperature_c == pytest.approx(100.0)
        assert result.best_vacuum_pa == pytest.approx(100.0)
        assert result.peak_press_pressure_mpa == pytest.approx(0.5)
        assert result.process_time_s >= 20 + 60  # hold and press at least
        status = await rig.driver.request_status()
        assert status.platen_temperature_c <= 35.0
        assert status.last_result is JobResult.COMPLETED
        assert status.progress_pct == 100.0
        assert (ToolState.BUSY, E10State.PRODUCTIVE) in states
        assert rig.driver.state is ToolState.IDLE
    finally:
        await rig.close()


async def test_traces_of_temperature_pressure_and_vacuum_follow_the_cycle(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    await rig.driver.laminate(FILM_45)
    trace: dict[str, list[Reading]] = {}
    for reading in rig.driver.readings:
        trace.setdefault(reading.name, []).append(reading)
    assert set(trace) == {"temperature", "vacuum", "press_pressure", "progress"}
    assert {r.unit for r in trace["temperature"]} == {"degC"}
    assert {r.unit for r in trace["vacuum"]} == {"Pa"}
    assert {r.unit for r in trace["press_pressure"]} == {"MPa"}
    temperatures = [r.value for r in trace["temperature"]]
    assert temperatures[0] == pytest.approx(AMBIENT_C)
    assert max(temperatures) == pytest.approx(100.0)
    vacuum = [r.value for r in trace["vacuum"]]
    assert vacuum[0] == vacuum[-1] == 101_325
    assert min(vacuum) == 100
    pressed = [r for r in trace["press_pressure"] if r.value > 0]
    assert {r.value for r in pressed} == {0.5}
    # read as the press starts and ends (the held status read answers each phase change)
    released = next(r for r in trace["press_pressure"] if r.time_s > pressed[-1].time_s)
    assert released.value == 0
    assert released.time_s - pressed[0].time_s == pytest.approx(60.0, abs=1.0)
    progress = [r.value for r in trace["progress"]]
    assert progress == sorted(progress)
    assert progress[-1] == 100.0
    times = [r.time_s for r in trace["temperature"]]
    assert times == sorted(times)


async def test_the_plc_keeps_each_jobs_extremes_from_its_start(rig: Rig):
    """JOB_PEAK_TEMPERATURE, JOB_BEST_VACUUM and JOB_PEAK_PRESS (38-41) read 0 before the
    first job, the job's extremes after it, and start again at the next START_JOB: a cooler,
    gentler job's are its own."""

    async def extremes() -> list[int]:
        return await rig.driver.link.read_holding_registers(38, 4)

    assert await extremes() == [0, 0, 0, 0]
    await rig.driver.load("W01")
    await rig.driver.laminate(FILM_45)
    assert await extremes() == [1000, 0, 100, 500]
    await rig.driver.unload()
    await rig.driver.load("W02")
    gentler = replace(RECIPE, vacuum_pa=200, temperature_c=80, press_pressure_mpa=0.3)
    result = await rig.driver.laminate(replace(FILM_45, recipe=gentler))
    assert await extremes() == [800, 0, 200, 300]
    assert (result.peak_temperature_c, result.best_vacuum_pa) == (80.0, 200.0)
    assert result.peak_press_pressure_mpa == 0.3


async def test_a_sheet_thicker_than_the_bumps_leaves_them_buried(rig: Rig):
    incoming = bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    await rig.driver.laminate(replace(FILM_45, sheet=ResinSheet(80, SupportKind.FILM)))
    wafer = rig.twin.get("W01")
    assert wafer.tip_projection_um.max() < -15.0
    np.testing.assert_array_equal(wafer.surface.residue_nm, incoming)  # buried tips get no smear
    assert wafer.history[0].detail["bumps_buried"] == wafer.geometry.site_count


async def test_a_metal_film_support_stays_and_the_tips_touch_it(rig: Rig):
    incoming = bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    await rig.driver.laminate(replace(FILM_45, sheet=ResinSheet(45, SupportKind.METAL_FILM, 5)))
    wafer = rig.twin.get("W01")
    assert wafer.resins.support is Support.METAL_FILM
    assert (wafer.tip_projection_um > 0).all()  # every tip reaches the film through the resin
    (foil,) = wafer.films.layers  # the sheet's 5 um foil, as thick between the patterns
    np.testing.assert_array_equal(foil.thickness_um, 5.0)
    np.testing.assert_array_equal(foil.field_um, 5.0)
    assert foil.connected.all()
    np.testing.assert_array_equal(wafer.surface.residue_nm, incoming)  # the film squeezed it off
    assert (await rig.driver.request_status()).support_on_wafer is SupportKind.METAL_FILM

    sent = len(rig.sim.received)
    with pytest.raises(ToolStateError, match="metal film, which stays on the wafer"):
        await rig.driver.peel_support()
    assert rig.sim.received[sent:] == []
    with pytest.raises(CommandRefused):  # and the tool itself refuses it too
        await rig.driver.link.write_register(MAP.command_register, Command.PEEL_SUPPORT)
    assert rig.sim.command_error is CommandError.SUPPORT_STAYS
    assert wafer.resins.support is Support.METAL_FILM


async def test_peel_is_refused_while_hot_and_done_once_cooled(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    warm = replace(FILM_45, recipe=replace(RECIPE, temperature_c=120, cool_to_c=60))
    await rig.driver.laminate(warm)
    assert (await rig.driver.request_status()).platen_temperature_c > 40.0

    sent = len(rig.sim.received)
    with pytest.raises(InterlockOpen, match="peel support: interlock open: peel_temperature"):
        await rig.driver.peel_support()
    assert rig.sim.received[sent:] == []
    assert rig.driver.state is ToolState.IDLE
    # the tool's own refusal, for a peel sent past the driver
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
        await rig.driver.link.write_register(MAP.command_register, Command.PEEL_SUPPORT)
    reason = await rig.driver.link.read_holding_registers(
        MAP.status_address(SPEC, "COMMAND_ERROR"), 1
    )
    assert reason == [CommandError.INTERLOCK_OPEN]

    assert await rig.driver.cool(35) <= 35.0
    await rig.driver.peel_support()
    wafer = rig.twin.get("W01")
    assert wafer.resins.support is Support.NONE
    assert wafer.operations() == ["laminate", "peel support"]
    assert wafer.history[-1].detail["temperature_c"] < 40.0
    assert await rig.driver.unload() == "W01"
    assert await rig.driver.request_wafer() is None


async def test_a_peel_tells_its_end_as_a_lamination_does(rig: Rig):
    """A peel is a job of its own (PEEL_SUPPORT), which `sim serve` tells as it ends, left to
    its end or aborted as it runs (the ABORT had left it unsaid)."""
    told: list[EndedJob] = []
    rig.sim.job_listeners.append(told.append)
    for wafer_id in ("W01", "W02"):
        bumped_wafer(rig, wafer_id, 60.0)
    await rig.driver.load("W01")
    await rig.driver.laminate(FILM_45)
    await rig.driver.peel_support()
    await rig.driver.unload()
    await rig.driver.load("W02")
    await rig.driver.laminate(FILM_45)
    peel = asyncio.create_task(rig.driver.peel_support())
    peeling = lambda: rig.sim.phase is LaminatorPhase.PEELING  # noqa: E731
    await testing.run_until(peel, peeling, rig.sim, timeout_s=10)
    peel.cancel()  # the driver commands ABORT
    with pytest.raises(asyncio.CancelledError):
        await peel
    assert [(job.operation, job.workpieces, job.end) for job in told] == [
        ("laminate", ("W01",), JobEnd.COMPLETED),
        ("peel support", ("W01",), JobEnd.COMPLETED),
        ("laminate", ("W02",), JobEnd.COMPLETED),
        ("peel support", ("W02",), JobEnd.ABORTED),
    ]
    assert rig.twin.get("W02").resins.support is Support.FILM  # the peel cut off


async def test_peel_without_a_support_is_refused(rig: Rig):
    await rig.driver.load("W01")
    with pytest.raises(ToolStateError, match="no film support on the wafer"):
        await rig.driver.peel_support()
    await rig.driver.unload()
    with pytest.raises(ToolStateError, match="no wafer on the platen"):
        await rig.driver.peel_support()


async def test_poor_vacuum_and_a_short_hold_leave_voids(rig: Rig):
    good = replace(RECIPE, vacuum_pa=50, vacuum_hold_s=60)
    poor = replace(RECIPE, vacuum_pa=500, vacuum_hold_s=10)
    voids = {}
    for wafer_id, recipe in (("GOOD", good), ("POOR", poor)):
        bumped_wafer(rig, wafer_id, 60.0)
        await rig.driver.load(wafer_id)
        await rig.driver.laminate(replace(FILM_45, recipe=recipe))
        await rig.driver.unload()
        voids[wafer_id] = rig.twin.get(wafer_id).resins.layers[-1].voids
    assert voids["GOOD"] < 0.001
    assert voids["POOR"] > 10 * voids["GOOD"]
    assert voids["POOR"] == pytest.approx(void_fraction(500, 10, LaminatorPhysics()))


def test_residue_smear_thins_with_heat_and_pressure():
    cold_soft = SMEAR.mean_nm(60, 0.2)
    reference = SMEAR.mean_nm(100, 0.5)
    hot_hard = SMEAR.mean_nm(130, 1.0)
    assert cold_soft > reference > hot_hard
    assert reference == pytest.approx(SMEAR.nm)
    assert hot_hard > 50  # hundreds of nm across the window
    assert cold_soft < 2000


def test_laminate_sheet_on_a_300_mm_wafer_with_60000_sites():  # its cost: bench/twin.py
    wafer = new_wafer("BIG", WaferSpec(diameter_mm=300, pads_per_die_side=25))
    assert wafer.geometry.site_count >= 60_000
    wafer.bumps.height_um[:] = 60.0
    physics = LaminatorPhysics()
    rng = np.random.default_rng(0)
    laminate_sheet(wafer, 45.0, Support.FILM, 0.0, 100, 0.5, 100, 20, physics, rng)
    assert (wafer.tip_projection_um > 10).all()


# ----------------------------------------------------------------- alarms


async def test_chamber_leak_raises_vacuum_not_reached_until_reset(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    rig.sim.inject_fault("chamber_leak")
    with pytest.raises(ToolAlarm, match="VACUUM_NOT_REACHED"):
        await rig.driver.laminate(FILM_45)
    assert rig.clock.now() >= LaminatorPhysics().evacuation_limit_s
    assert rig.driver.state is ToolState.FAULT
    assert rig.driver.e10_state is E10State.UNSCHEDULED_DOWNTIME
    assert rig.sim.last_result is JobResult.FAULTED
    wafer = rig.twin.get("W01")
    assert wafer.resin_um.max() == 0.0  # never pressed
    assert wafer.operations() == ["laminate faulted"]
    vacuum = [r.value for r in rig.driver.readings if r.name == "vacuum"]
    assert min(vacuum) > 500  # it never got below the leak floor
    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await rig.driver.laminate(FILM_45)
    with pytest.raises(CommandRefused):  # the tool refuses work while the alarm is latched
        await rig.driver.link.write_register(MAP.command_register, Command.START_JOB)
    assert rig.sim.command_error is CommandError.ALARM_ACTIVE

    rig.sim.clear_fault("chamber_leak")
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert [a.code for a in rig.driver.alarm_history] == ["VACUUM_NOT_REACHED"]
    assert rig.sim.phase is LaminatorPhase.READY
    await rig.driver.laminate(FILM_45)  # repaired: it laminates again
    assert (wafer.tip_projection_um > 10).all()


async def test_heater_runaway_trips_over_temperature_until_reset(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    rig.sim.inject_fault("heater_runaway")
    with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
        await rig.driver.laminate(FILM_45)
    temperatures = [r.value for r in rig.driver.readings if r.name == "temperature"]
    assert max(temperatures) > 100.0  # the platen overshot its setpoint before the trip
    assert rig.driver.state is ToolState.FAULT
    assert rig.twin.get("W01").resin_um.max() == 0.0
    status = await rig.driver.request_status()
    assert status.press_pressure_mpa == 0.0
    rig.sim.clear_fault("heater_runaway")
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE
    assert [a.code for a in rig.driver.alarm_history] == ["OVER_TEMPERATURE"]


async def test_a_hot_platen_meets_a_low_setpoint_and_trips_by_physics(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    hot = replace(FILM_45, recipe=replace(RECIPE, temperature_c=130))
    task = asyncio.create_task(rig.driver.laminate(hot))
    await wait_for_phase(rig, LaminatorPhase.PRESSING)
    task.cancel()  # aborted while pressing at 130 degC: the platen stays hot
    with pytest.raises(asyncio.CancelledError):
        await task
    cool_setpoint = replace(FILM_45, recipe=replace(RECIPE, temperature_c=60))
    with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
        await rig.driver.laminate(cool_setpoint)
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE


# ----------------------------------------------------------------- interlocks and refusals


async def test_laminate_without_a_wafer_is_refused_by_the_interlock(rig: Rig):
    with pytest.raises(InterlockOpen, match="laminate: interlock open: wafer_present"):
        await rig.driver.laminate(FILM_45)
    assert rig.sim.received == []
    assert rig.driver.state is ToolState.IDLE


async def test_laminate_with_the_lid_open_is_refused_by_the_interlock(rig: Rig):
    await rig.driver.load("W01")
    rig.sim.inject_fault("lid_switch")
    sent = len(rig.sim.received)
    with pytest.raises(InterlockOpen, match="lid_closed"):
        await rig.driver.laminate(FILM_45)
    assert rig.sim.received[sent:] == []
    # past the driver, the tool refuses the start itself, naming an open interlock
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
        await rig.driver.link.write_register(MAP.command_register, Command.START_JOB)
    assert await rig.driver.link.read_holding_registers(
        MAP.status_address(SPEC, "REFUSED_REGISTER"), 2
    ) == [
        MAP.command_register,
        CommandError.INTERLOCK_OPEN,
    ]
    assert (await rig.driver.request_interlocks())["lid_closed"] is False
    assert rig.sim.job is None


async def test_out_of_limit_setpoint_is_refused_and_nothing_is_sent(rig: Rig):
    await rig.driver.load("W01")
    rig.sim.received.clear()
    with pytest.raises(
        LimitViolation, match=r"vacuum_hold_s = 5 s is outside the limits \[10, 60\]"
    ):
        await rig.driver.laminate(replace(FILM_45, recipe=replace(RECIPE, vacuum_hold_s=5)))
    with pytest.raises(LimitViolation, match="resin_thickness_um = 150 um"):
        await rig.driver.laminate(replace(FILM_45, sheet=ResinSheet(150, SupportKind.FILM)))
    assert rig.sim.received == []
    assert rig.driver.state is ToolState.IDLE


def test_a_sheet_states_a_foil_exactly_when_its_support_is_metal():
    with pytest.raises(ValueError, match="foil_thickness_um = 0 um with a metal-film support"):
        ResinSheet(45, SupportKind.METAL_FILM)
    with pytest.raises(ValueError, match="foil_thickness_um = 3 um with a film support"):
        ResinSheet(45, SupportKind.FILM, 3)


def test_a_sheet_states_its_foil_on_the_laminators_step():
    """Register 208 counts tenths of a micrometre: a 3.05 um foil would be laid as another
    one, so the sheet refuses it naming the foils either side; 3.1 and 0.3 um are on it."""
    with pytest.raises(
        ValueError,
        match=re.escape("3.05 um: the laminator takes the foil in 0.1 um steps: 3 um or 3.1 um"),
    ):
        ResinSheet(45, SupportKind.METAL_FILM, 3.05)
    for foil_um in (3.1, 0.3, 20.0):
        assert ResinSheet(45, SupportKind.METAL_FILM, foil_um).foil_thickness_um == foil_um


@pytest.mark.parametrize(("support", "foil"), [(SupportKind.METAL_FILM, 0), (SupportKind.FILM, 30)])
async def test_the_tool_refuses_a_job_whose_foil_does_not_match_its_support(
    rig: Rig, support: SupportKind, foil: int
):
    await rig.driver.load("W01")
    code = dict((text, code) for code, text in SUPPORT_CODES)[support.value]
    await rig.driver.link.write_registers(200, [450, code, 100, 20, 1000, 500, 60, 350, foil])
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
        await rig.driver.link.write_register(MAP.command_register, Command.START_JOB)
    assert await rig.driver.link.read_holding_registers(
        MAP.status_address(SPEC, "REFUSED_REGISTER"), 2
    ) == [208, CommandError.OUT_OF_RANGE]
    assert rig.sim.job is None
    assert rig.twin.get("W01").films.layers == []


async def test_the_tool_refuses_a_value_beyond_its_range_with_its_own_error():
    rig = await open_rig()
    testing.force_limits(rig.driver, {"temperature_c": (60, 200)})
    try:
        await rig.driver.load("W01")
        with pytest.raises(CommandRefused) as refused:
            await rig.driver.laminate(replace(FILM_45, recipe=replace(RECIPE, temperature_c=180)))
        message = str(refused.value)
        assert "write job: value out of range: temperature_c (register 204)" in message
        assert refused.value.code == "ILLEGAL_DATA_VALUE"
        assert rig.sim.received[-1] == "FC16 write 200 [450, 1, 100, 20, 1800, 500, 60, 350, 0]"
        assert rig.sim.job is None
        assert rig.driver.state is ToolState.IDLE
    finally:
        await rig.close()


async def test_load_and_unload_refusals(rig: Rig):
    with pytest.raises(ValueError, match="1-16 printable ASCII characters"):
        await rig.driver.load("W" * 17)
    with pytest.raises(ToolStateError, match="no wafer on the platen"):
        await rig.driver.unload()
    await rig.driver.load("W01")
    with pytest.raises(ToolStateError, match="wafer W01 is already on the platen"):
        await rig.driver.load("W02")
    with pytest.raises(CommandRefused):  # sent past the driver, the tool refuses it too
        await rig.driver.link.write_register(MAP.command_register, Command.LOAD_WAFER)
    assert rig.sim.command_error is CommandError.WAFER_PRESENT
    assert await rig.driver.request_wafer() == "W01"


async def test_commands_while_laminating_are_refused_by_the_tool(rig: Rig):
    await rig.driver.load("W01")
    task = asyncio.create_task(rig.driver.laminate(FILM_45))
    await wait_for_phase(rig, LaminatorPhase.HEATING)
    # on a connection of its own, so that each write reaches the tool while it heats, not
    # after the driver's held status read (answered at the next phase or after HOLD_S)
    address = rig.driver.link.address
    async with ModbusLink(address, tool="laminator", clock=rig.clock, timeout_s=2.0) as link:
        for command in (Command.UNLOAD_WAFER, Command.COOL, Command.PEEL_SUPPORT):
            with pytest.raises(CommandRefused):
                await link.write_register(MAP.command_register, command)
            assert rig.sim.command_error is CommandError.WRONG_STATE
        with pytest.raises(CommandRefused):  # nor may the job change under a running press
            await link.write_register(SPEC.setpoint_by_name["temperature_c"].register, 1100)
        assert rig.sim.command_error is CommandError.WRONG_STATE
    assert rig.sim.phase is LaminatorPhase.HEATING  # all of it while the tool heated
    await task
    assert rig.sim.last_result is JobResult.COMPLETED


# ----------------------------------------------------------------- states, abort, lost tool


async def test_cancelled_laminate_commands_the_safe_state(rig: Rig):
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    task = asyncio.create_task(rig.driver.laminate(FILM_45))
    await wait_for_phase(rig, LaminatorPhase.PRESSING)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.sim.last_result is JobResult.ABORTED
    status = await rig.driver.request_status()
    assert status.phase is LaminatorPhase.READY  # abort() waited for the venting to end
    assert status.chamber_pressure_pa == pytest.approx(101_325, rel=0.01)
    assert status.press_pressure_mpa == 0.0
    assert rig.sim.platen.drive == "off"  # heater off
    assert rig.driver.state is ToolState.IDLE
    assert rig.twin.get("W01").resin_um.max() == 0.0  # the press never finished
    assert await rig.driver.unload() == "W01"  # what tool_recovery.recover_laminator does next


async def test_progress_stays_where_an_aborted_or_faulted_job_ended(rig: Rig):
    """PROGRESS is % of the running or last job (the page): an abort or a fault keeps it."""
    bumped_wafer(rig, "W01", 60.0)
    await rig.driver.load("W01")
    task = asyncio.create_task(rig.driver.laminate(FILM_45))
    await wait_for_phase(rig, LaminatorPhase.PRESSING)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    status = await rig.driver.request_status()
    assert status.last_result is JobResult.ABORTED
    assert 3 / 6 * 100 <= status.progress_pct < 4 / 6 * 100  # ended in the 4th of 6 phases

    rig.sim.inject_fault("chamber_leak")
    with pytest.raises(ToolAlarm, match="VACUUM_NOT_REACHED"):
        await rig.driver.laminate(FILM_45)
    status = await rig.driver.request_status()
    assert status.last_result is JobResult.FAULTED
    assert status.progress_pct == pytest.approx(100 / 6, abs=0.5)  # evacuation (1 of 6) ran out


async def test_a_job_past_its_allowance_is_aborted_before_the_timeout_is_raised(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("packline.drivers.laminator.JOB_ALLOWANCE_S", 10.0)
    await rig.driver.load("W01")
    with pytest.raises(ToolTimeout, match=r"after 90 s; aborted"):
        await rig.driver.laminate(FILM_45)
    assert rig.sim.received[-1] == f"FC6 write {int(MAP.command_register)} [{int(Command.ABORT)}]"
    assert rig.sim.last_result is JobResult.ABORTED
    assert rig.sim.phase is LaminatorPhase.READY  # vented, heater off
    assert rig.sim.platen.drive == "off"
    assert rig.driver.state is ToolState.IDLE
