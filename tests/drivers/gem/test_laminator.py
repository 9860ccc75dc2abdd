"""The GEM laminator driver against the simulated GEM laminator: the role over E30, its waits
ended by pushed events and alarms, its platen, vacuum and press traced rather than polled, to
what the Modbus driver measures of the same job."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
    WorkpieceHeld,
)
from packline.drivers.laminator import VENT_TIMEOUT_S, ModbusLaminator
from packline.drivers.links import ReconnectPolicy
from packline.drivers.roles.laminator import (
    JobResult,
    LaminationJob,
    LaminatorPhase,
    PressRecipe,
    ResinSheet,
    SupportKind,
)
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.twin import TwinStore

from .conftest import SMALL, GemBench

RECIPE = PressRecipe(
    vacuum_pa=100, vacuum_hold_s=20, temperature_c=100, press_pressure_mpa=0.5, press_time_s=60
)
JOB = LaminationJob(ResinSheet(45, SupportKind.FILM), RECIPE)
#: The Modbus driver's traces of a job: its status's traced values, by name and unit.
TRACES = {"temperature": "degC", "vacuum": "Pa", "press_pressure": "MPa", "progress": "%"}
STAGES = ["vacuum_reached", "vacuum_held", "press_reached", "pressed", "vented", "run_ended"]


async def loaded(bench: GemBench, wafer_id: str = "W1"):
    """The driver with `wafer_id` received and on the platen."""
    laminator = await bench.driver()
    bench.twin.receive(wafer_id)
    await laminator.load(wafer_id)
    return laminator


async def test_identity_status_load_unload_and_their_refusals(laminator_bench) -> None:
    laminator = await laminator_bench.driver()
    assert str(laminator.identity) == "packline VL-2 s/n VL-2-0001 fw 1.0"
    status = await laminator.request_status()
    assert (status.phase, status.wafer_loaded, status.last_result) == (
        LaminatorPhase.READY,
        False,
        JobResult.NONE,
    )
    assert await laminator.request_wafer() is None
    with pytest.raises(ToolStateError, match="no wafer on the platen"):
        await laminator.unload()
    laminator_bench.twin.receive("W1")
    with pytest.raises(ValueError, match="must be 1-16 printable ASCII"):
        await laminator.load("W" * 17)
    await laminator.load("W1")
    assert await laminator.request_workpieces() == ("W1",)
    with pytest.raises(WorkpieceHeld, match="wafer W1 is already on the platen"):
        await laminator.load("W2")
    assert (await laminator.request_interlocks())["wafer_present"]
    assert await laminator.unload() == "W1"
    assert await laminator.request_wafer() is None


async def test_a_job_ends_on_its_event_and_traces_every_poll(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    heard = laminator_bench.heard_at_events()
    sent = laminator_bench.events_sent()
    started = laminator_bench.clock.now()
    result = await laminator.laminate(JOB)
    assert heard["run_ended"][-1] == "S2F41 START"  # no polling while it laminated
    assert sent == STAGES
    assert result.wafer_id == "W1"
    assert result.peak_temperature_c == pytest.approx(100, abs=0.5)
    assert result.best_vacuum_pa <= 100
    assert result.peak_press_pressure_mpa == 0.5
    status = await laminator.request_status()
    assert (status.phase, status.jobs_completed, status.last_result) == (
        LaminatorPhase.READY,
        1,
        JobResult.COMPLETED,
    )
    assert status.platen_temperature_c <= RECIPE.cool_to_c
    assert status.support_on_wafer is SupportKind.FILM
    assert [e.operation for e in laminator_bench.twin.get("W1").history] == ["laminate"]
    assert {(r.name, r.unit) for r in laminator.readings} == set(TRACES.items())
    times = [r.time_s - started for r in laminator.readings if r.name == "temperature"]
    assert times == [pytest.approx(n * 1.0) for n in range(len(times))]
    assert len(times) >= result.process_time_s


async def test_the_watcher_looks_at_the_laminator_once_a_stage(laminator_bench) -> None:
    """The face's watcher wakes when a phase of the job ends (`SimLaminator.next_change_s`),
    not every second of a job of minutes: a look a stage, and one the command's."""
    laminator = await loaded(laminator_bench)
    sim = laminator_bench.model.tool
    looks = testing.count_looks(sim)
    result = await laminator.laminate(JOB)
    assert result.process_time_s > 120
    assert len(looks) <= 2 * len(STAGES)


async def test_a_sample_works_the_laminators_status_values_out_once(laminator_bench) -> None:
    """A trace sample reads its status variables at one held instant: the laminator's status
    values, which four of them come of, are worked out once for it; outside a sample, each
    read works them out afresh (the laminator may have changed in between)."""
    await loaded(laminator_bench)
    model = laminator_bench.model
    worked_out: list[float] = []
    status_values = model.tool.status_values

    def counted() -> dict[str, object]:
        worked_out.append(model.clock.now())
        return status_values()

    model.tool.status_values = counted  # type: ignore[method-assign]
    names = ["platen_temperature_c", "chamber_pressure_pa", "press_pressure_mpa", "progress_pct"]
    with model.clock.at(model.clock.now()):
        sampled = [model.status(name) for name in names]
    assert len(worked_out) == 1
    assert [model.status(name) for name in names] == sampled
    assert len(worked_out) == 5


async def overshoot_mid_press(sim: SimLaminator) -> None:
    """The platen's controller lost for 5 s from 5 s into the press: the platen runs away to
    7.5 degC above its setpoint, then cools back slowly, a peak between two of the host's reads
    that the tool's job extremes keep."""
    async with asyncio.timeout(5):
        while sim.phase is not LaminatorPhase.PRESSING:
            await sim.clock.sleep(1)
    await sim.clock.sleep(5)
    sim.inject_fault("heater_runaway")
    await sim.clock.sleep(5)
    sim.clear_fault("heater_runaway")


async def test_gem_measures_the_job_as_the_modbus_driver_does(laminator_bench) -> None:
    """The same job with the same overshoot on the Modbus laminator and on the GEM laminator:
    the same extremes, the tool's own (the Modbus map's to its registers' resolution), the
    overshoot's peak among them, which neither host's reads caught."""
    sim = SimLaminator("laminator", TwinStore(SMALL), VirtualClock())
    rig = await testing.open_rig(
        sim, ModbusLaminator, timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    try:
        rig.twin.receive("W1")
        await rig.driver.load("W1")
        overshoot = asyncio.ensure_future(overshoot_mid_press(sim))
        polled = await rig.driver.laminate(JOB)
        await overshoot
    finally:
        await rig.close()
    laminator = await loaded(laminator_bench)
    overshoot = asyncio.ensure_future(overshoot_mid_press(laminator_bench.model.tool))
    traced = await laminator.laminate(JOB)
    await overshoot
    assert traced.peak_temperature_c == pytest.approx(107.5)
    assert polled.peak_temperature_c == pytest.approx(traced.peak_temperature_c, abs=0.05)
    assert polled.best_vacuum_pa == pytest.approx(traced.best_vacuum_pa, abs=0.5)
    assert traced.peak_press_pressure_mpa == polled.peak_press_pressure_mpa == 0.5
    assert traced.process_time_s == pytest.approx(polled.process_time_s, abs=0.05)
    readings = [r.value for r in rig.driver.readings if r.name == "temperature"]
    assert max(readings) < 107.0  # what the Modbus host's own reads saw of it


async def test_a_bad_job_is_refused_as_the_modbus_driver_refuses_it_before_anything_is_sent(
    laminator_bench,
) -> None:
    laminator = await loaded(laminator_bench)
    sim = SimLaminator("laminator", TwinStore(SMALL), VirtualClock())
    rig = await testing.open_rig(
        sim, ModbusLaminator, timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    laminator_bench.equipment.received.clear()
    try:
        for recipe in (replace(RECIPE, temperature_c=200), replace(RECIPE, vacuum_pa=10)):
            bad = replace(JOB, recipe=recipe)
            with pytest.raises(LimitViolation) as modbus:
                await rig.driver.laminate(bad)
            with pytest.raises(LimitViolation) as gem:
                await laminator.laminate(bad)
            assert str(gem.value) == str(modbus.value).replace(
                rig.driver.address, laminator.address
            )
        with pytest.raises(LimitViolation, match="cool_to_c"):
            await laminator.cool(90)
    finally:
        await rig.close()
    assert laminator_bench.equipment.received == []
    assert laminator.state is ToolState.IDLE


async def test_the_laminator_refuses_a_constant_out_of_range_a_job_in_a_job_and_no_job(
    laminator_bench,
) -> None:
    laminator = await loaded(laminator_bench)
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await laminator.command("start")  # no job set: its registers are out of range
    with pytest.raises(CommandRefused, match="EAC 3"):
        await laminator.set_constants("set", {"temperature_c": 200.0})  # 60-130 degC
    with pytest.raises(CommandRefused, match="EAC 3"):
        await laminator.set_constants("set", {"support_kind": "none"})
    assert await laminator.request_constants("read", "support_kind") == ["none"]
    job = asyncio.create_task(laminator.laminate(JOB))
    while "S2F41 START" not in laminator_bench.equipment.received:
        await laminator_bench.clock.sleep(1)
    with pytest.raises(CommandRefused, match="EAC 2"):
        await laminator.set_constants("set", {"temperature_c": 110.0})
    await job
    assert await laminator.request_constants("read", "temperature_c", "support_kind") == [
        100.0,
        "film",
    ]
    await laminator.set_constants("set", {"foil_thickness_um": 5.0})  # a foil on a film
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await laminator.command("start")
    assert laminator_bench.model.tool.phase is LaminatorPhase.READY


async def test_interlocks_are_checked_before_the_start(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    laminator_bench.model.tool.inject_fault("lid_switch")
    with pytest.raises(InterlockOpen, match="lid_closed"):
        await laminator.laminate(JOB)
    assert "S2F41 START" not in laminator_bench.equipment.received


async def test_an_alarm_mid_job_is_pushed_at_once_and_ends_the_wait(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    sim = laminator_bench.model.tool
    job = asyncio.create_task(laminator.laminate(JOB))
    while sim.phase is not LaminatorPhase.HEATING:
        await laminator_bench.clock.sleep(0.5)
    latched: list[float] = []
    sim.alarm_listeners.append(lambda _name, _code: latched.append(sim.clock.now()))
    sim.inject_fault("heater_runaway")
    with pytest.raises(ToolAlarm, match="OVER_TEMPERATURE"):
        await job
    assert laminator_bench.clock.now() - latched[0] < 0.1  # at once, not a poll later
    assert laminator.state is ToolState.FAULT
    status = await laminator.request_status()
    assert (status.phase, status.last_result) == (LaminatorPhase.FAULT, JobResult.FAULTED)
    sim.clear_fault("heater_runaway")
    await laminator.reset()  # the faulted chamber vents, waited out on its event
    assert laminator.state is ToolState.IDLE
    assert sim.phase is LaminatorPhase.READY
    assert await laminator.unload() == "W1"


async def test_a_job_whose_end_never_comes_times_out_and_aborts(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    dictionary = laminator.dictionary
    laminator_bench.equipment.enabled_events.discard(
        dictionary.collection_events["run_ended"].id
    )  # the tool forgets to report the end
    started = laminator_bench.clock.now()
    with pytest.raises(ToolTimeout, match="job not ended after 980 s; aborted"):
        await laminator.laminate(JOB)
    assert laminator_bench.clock.now() - started == pytest.approx(980)
    assert "S2F41 STOP" in laminator_bench.equipment.received
    assert laminator_bench.model.tool.last_result is JobResult.COMPLETED  # ended unreported
    assert laminator.state is ToolState.IDLE


async def test_an_abort_mid_job_ends_it_aborted_and_waits_out_the_vent(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    sim = laminator_bench.model.tool
    job = asyncio.create_task(laminator.laminate(JOB))
    while sim.phase is not LaminatorPhase.VACUUM_HOLD:
        await laminator_bench.clock.sleep(0.5)
    job.cancel()  # the driver commands the safe state, then the cancellation goes on
    with pytest.raises(asyncio.CancelledError):
        await job
    assert sim.phase is LaminatorPhase.READY  # vented before the abort returned
    assert sim.last_result is JobResult.ABORTED
    assert laminator.state is ToolState.IDLE
    assert await laminator.unload() == "W1"


async def test_cool_and_peel_end_on_their_events(laminator_bench) -> None:
    laminator = await loaded(laminator_bench)
    await laminator.laminate(replace(JOB, recipe=replace(RECIPE, cool_to_c=60)))
    heard = laminator_bench.heard_at_events()
    assert await laminator.cool(35) == pytest.approx(35)  # below the peel's 40 degC
    assert heard["cooled"][-1] == "S2F41 COOL"
    await laminator.peel_support()
    assert heard["peeled"][-1] == "S2F41 PEEL"
    assert (await laminator.request_status()).support_on_wafer is None
    with pytest.raises(ToolStateError, match="no film support on the wafer to peel"):
        await laminator.peel_support()
    history = [e.operation for e in laminator_bench.twin.get("W1").history]
    assert history == ["laminate", "peel support"]


async def test_a_cool_past_its_bound_by_rounding_reaches_the_laminator_as_the_bound(
    laminator_bench,
) -> None:
    """A target a unit conversion left an ulp past its bound is taken, and the laminator is
    sent the bound itself (`Limit.held`), never the value past it."""
    laminator = await loaded(laminator_bench)
    await laminator.laminate(JOB)
    received = laminator_bench.values_received()
    assert await laminator.cool(math.nextafter(30, -math.inf)) <= 30
    assert received == {"cool_to_c": 30}


async def test_an_abort_is_confirmed_by_the_status_not_by_an_event(laminator_bench) -> None:
    """The abort reads the phase back until the venting is over: a tool that does not report
    its vent is confirmed all the same, and only once it is vented."""
    laminator = await loaded(laminator_bench)
    sim = laminator_bench.model.tool
    job = asyncio.create_task(laminator.laminate(JOB))
    while sim.phase is not LaminatorPhase.VACUUM_HOLD:
        await laminator_bench.clock.sleep(0.5)
    laminator_bench.equipment.enabled_events.discard(
        laminator.dictionary.collection_events["vented"].id
    )  # the tool forgets to report the vent
    await laminator.abort()
    assert sim.phase is LaminatorPhase.READY
    assert laminator_bench.equipment.received.count("S2F41 STOP") == 1
    job.cancel()
    with pytest.raises((asyncio.CancelledError, ToolAlarm)):
        await job


async def test_a_vent_whose_end_never_comes_times_out_without_a_second_stop(
    laminator_bench,
) -> None:
    """The safe state's own wait (STOP, then the phase read back) is bounded by the vent's
    allowance and, past it, says what the laminator still shows without commanding STOP
    again."""
    laminator = await loaded(laminator_bench)
    sim = laminator_bench.model.tool
    job = asyncio.create_task(laminator.laminate(JOB))
    while sim.phase is not LaminatorPhase.VACUUM_HOLD:
        await laminator_bench.clock.sleep(0.5)
    sim.inject_fault("abort_ignored")  # the tool takes STOP and carries on
    started = laminator_bench.clock.now()
    with pytest.raises(
        ToolTimeout, match=rf"safe state not confirmed: still [a-z ]+ after {VENT_TIMEOUT_S:g} s$"
    ):
        await laminator.abort()
    assert laminator_bench.clock.now() - started == pytest.approx(VENT_TIMEOUT_S)
    assert laminator_bench.equipment.received.count("S2F41 STOP") == 1
    job.cancel()
    with pytest.raises((asyncio.CancelledError, ToolTimeout, ToolAlarm)):
        await job
