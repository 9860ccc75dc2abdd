"""The GEM plasma cleaner driver against the simulated GEM chamber: the role over E30, its
waits ended by pushed events and alarms, its signals traced rather than polled."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.gem.plasma_cleaner import TRACE_GROUP
from packline.drivers.roles.plasma_cleaner import (
    ChamberState,
    Gas,
    LastResult,
    PlasmaRecipe,
    PlasmaStep,
)
from packline.drivers.secs.frames import data_frame
from packline.drivers.secs.hsms import HsmsLink
from packline.drivers.secs.items import F8, A
from packline.drivers.secs.messages import SecsMessage

from .conftest import GemBench

RECIPE = PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep(Gas.AR, 80, 150, 200, 45)))
TRACES = {"pressure": "mTorr", "rf_forward": "W", "rf_reflected": "W", "gas_flow": "sccm"}


async def evacuated(bench, *wafer_ids: str):
    """The driver, with `wafer_ids` received, loaded and the chamber pumped down."""
    chamber = await bench.driver()
    await chamber.open_door()
    for wafer_id in wafer_ids:
        bench.twin.receive(wafer_id)
        await chamber.load(wafer_id)
    await chamber.close_door()
    await chamber.pump_down()
    return chamber


async def test_identity_slots_door_and_their_refusals(plasma_bench) -> None:
    chamber = await plasma_bench.driver()
    assert str(chamber.identity) == "packline PC-4 s/n PC-4-0001 fw 1.0"
    assert await chamber.request_e10_state() is E10State.STANDBY
    assert await chamber.request_slots() == [None] * 4
    plasma_bench.twin.receive("W1")
    await chamber.close_door()
    with pytest.raises(CommandRefused, match="HCACK 2: cannot perform now"):
        await chamber.load("W1")  # through a closed door
    await chamber.open_door()
    assert await chamber.load("W1", slot=2) == 2
    assert await chamber.request_slots() == [None, None, "W1", None]
    with pytest.raises(ValueError, match="wafer W1 is already in slot 2"):
        await chamber.load("W1")
    with pytest.raises(ValueError, match="slot 4 does not exist"):
        await chamber.load("W2", slot=4)
    with pytest.raises(ValueError, match="wafer W2 is not in any slot"):
        await chamber.unload("W2")
    assert (await chamber.request_status()).door_closed is False
    await chamber.unload("W1")
    assert await chamber.request_workpieces() == ()


async def test_a_clean_is_waited_out_on_events_and_traced_every_second(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1", "W2")
    readings = len(chamber.readings)
    heard = plasma_bench.heard_at_events()
    reports: list[object] = []
    chamber.gem.add_trace_listener(reports.append)
    started = plasma_bench.clock.now()
    result = await chamber.clean(RECIPE)
    assert (result.wafer_ids, result.process_time_s, result.steps) == (("W1", "W2"), 105.0, 2)
    assert heard["run_ended"][-1] == "S2F41 START"  # no polling while it ran
    assert heard["step_started"][-1] == "S2F41 START"
    status = await chamber.request_status()
    assert (status.chamber, status.recipes_completed) == (ChamberState.EVACUATED, 1)
    assert "plasma clean" in [event.operation for event in plasma_bench.twin.get("W1").history]
    # the Modbus driver's traces, a sample every second of the run, dated when it was taken
    traced = list(chamber.readings)[readings:]
    assert {(r.name, r.unit) for r in traced} == set(TRACES.items())
    forward = [r for r in traced if r.name == "rf_forward"]
    times = [r.time_s - started for r in forward]
    assert times == [pytest.approx(n * chamber.poll_interval_s) for n in range(len(times))]
    assert len(forward) >= result.process_time_s / chamber.poll_interval_s
    assert {r.value for r in forward} >= {300.0, 200.0}  # both steps' RF
    assert len(reports) == -(-len(forward) // TRACE_GROUP)  # pushed, TRACE_GROUP a report


async def pushed_in_a_clean(bench: GemBench, *, wake_each_sample: bool) -> list[bytes]:
    """What the equipment pushes (S6F1, S6F11, S5F1, in order, encoded) from the pump-down to
    the end of a clean, its TIME run from a fixed moment; with `wake_each_sample`, a task looks
    at the chamber at each trace sample's instant, as the equipment did before it took its
    samples only when something looked at the chamber or a report was due."""
    assert bench.equipment is None
    chamber = await bench.driver()
    equipment = bench.equipment
    assert equipment is not None
    equipment._clock_origin = (dt.datetime(2026, 1, 1), bench.clock.now())
    pushed: list[bytes] = []
    push = equipment._push

    async def spy(link: HsmsLink, message: SecsMessage) -> None:
        pushed.append(data_frame(message, system=0, session=0))
        await push(link, message)

    equipment._push = spy  # type: ignore[method-assign]
    clock = bench.model.clock

    async def look_at_each_sample() -> None:
        while True:
            await bench.clock.sleep(min(clock.due_s, bench.clock.now() + 1.0) - bench.clock.now())
            clock.now()  # a look at the chamber: the sample due now taken now

    looker = asyncio.create_task(look_at_each_sample()) if wake_each_sample else None
    try:
        await chamber.open_door()
        bench.twin.receive("W1")
        await chamber.load("W1")
        await chamber.close_door()
        await chamber.pump_down()
        await chamber.clean(RECIPE)
    finally:
        if looker is not None:
            looker.cancel()
            await asyncio.gather(looker, return_exceptions=True)
    return pushed


async def test_the_samples_are_the_chambers_state_at_their_instants_however_often_it_wakes() -> (
    None
):
    """The equipment takes a trace's samples when something looks at the chamber or a report
    is due, each at its own instant: what it pushes (its S6F1's samples, their times, their
    order among the S6F11 and S5F1) is byte for byte what it pushes when woken at each sample,
    for a chamber whose pump-down ends at the look that finds it evacuated."""
    benches = [GemBench("plasma_cleaner"), GemBench("plasma_cleaner")]
    try:
        lazily = await pushed_in_a_clean(benches[0], wake_each_sample=False)
        eagerly = await pushed_in_a_clean(benches[1], wake_each_sample=True)
    finally:
        for bench in benches:
            await bench.close()
    assert sum(frame[6:8] == b"\x86\x01" for frame in lazily) >= 10  # S6F1 W, several
    assert lazily == eagerly


async def test_the_trace_period_is_the_stations_poll_interval(plasma_bench) -> None:
    chamber = await plasma_bench.driver()
    chamber.poll_interval_s = 2.5  # a station's `poll_interval_s: 2.5`
    await chamber.close_door()
    started = plasma_bench.clock.now()
    await chamber.pump_down()
    pressure = [r for r in chamber.readings if r.name == "pressure"]
    assert [r.time_s - started for r in pressure[:3]] == [0.0, 2.5, 5.0]
    assert pressure[0].value > pressure[1].value > pressure[2].value


async def test_limits_are_refused_before_anything_is_sent(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    plasma_bench.equipment.received.clear()
    with pytest.raises(LimitViolation, match="clean step 2: rf_power_w"):
        await chamber.clean(PlasmaRecipe((RECIPE.steps[0], PlasmaStep(Gas.AR, 80, 150, 2000, 45))))
    with pytest.raises(ValueError, match="clean step 1: gas 'N2' is not one of O2"):
        await chamber.clean(PlasmaRecipe((PlasmaStep("N2", 80, 150, 200, 45),)))  # type: ignore[arg-type]
    assert plasma_bench.equipment.received == []
    assert chamber.state is ToolState.IDLE


async def test_the_tool_refuses_a_constant_out_of_its_range_and_any_while_it_runs(
    plasma_bench,
) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    with pytest.raises(CommandRefused, match="EAC 3"):
        await chamber.set_constants("set", {"step_rf_power_w": (300.0, 1500.0)})
    with pytest.raises(CommandRefused, match="EAC 3"):
        await chamber.set_constants("set", {"step_time_s": (60.0,) * 9})  # 8 steps at most
    assert await chamber.request_constants("read", "step_rf_power_w") == [()]
    clean = asyncio.create_task(chamber.clean(RECIPE))
    while "S2F41 START" not in plasma_bench.equipment.received:
        await plasma_bench.clock.sleep(1)
    with pytest.raises(CommandRefused, match="EAC 2"):
        await chamber.set_constants("set", {"step_rf_power_w": (250.0, 250.0)})
    await clean
    assert await chamber.request_constants("read", "step_rf_power_w") == [(300.0, 200.0)]


async def test_a_start_without_a_whole_recipe_is_refused(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await chamber.command("start")  # no recipe set
    await chamber.set_constants("set", {"step_time_s": (60.0, 30.0)})
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await chamber.command("start")  # the other constants have no steps


async def test_interlocks_are_checked_before_the_start(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    plasma_bench.model.tool.inject_fault("gas_supply")
    with pytest.raises(InterlockOpen, match="gas_supply"):
        await chamber.clean(RECIPE)
    assert "S2F41 START" not in plasma_bench.equipment.received


async def test_an_alarm_mid_run_is_pushed_at_once_and_ends_the_wait(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    clean = asyncio.create_task(chamber.clean(RECIPE))
    while plasma_bench.model.tool.chamber is not ChamberState.PROCESSING:
        await plasma_bench.clock.sleep(0.5)
    await plasma_bench.clock.sleep(20.3)
    plasma_bench.model.tool.inject_fault("rf_mismatch")
    injected_s = plasma_bench.clock.now()
    with pytest.raises(ToolAlarm, match="REFLECTED_POWER"):
        await clean
    assert plasma_bench.clock.now() == injected_s  # no poll interval: the tool pushed it
    assert chamber.state is ToolState.FAULT
    status = await chamber.request_status()
    assert status.chamber is ChamberState.FAULT
    assert await chamber.request_values("read", "last_result") == [LastResult.FAULTED.name.lower()]
    plasma_bench.model.tool.clear_fault("rf_mismatch")
    await chamber.reset()
    assert chamber.state is ToolState.IDLE
    assert (await chamber.request_status()).chamber is ChamberState.EVACUATED


async def test_a_pump_down_that_never_reaches_its_base_pressure_is_an_alarm(plasma_bench) -> None:
    chamber = await plasma_bench.driver()
    await chamber.close_door()
    plasma_bench.model.tool.inject_fault("chamber_leak")
    with pytest.raises(ToolAlarm, match="BASE_PRESSURE_NOT_REACHED"):
        await chamber.pump_down()
    assert chamber.state is ToolState.FAULT


async def test_a_run_whose_end_never_comes_times_out_and_aborts(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    plasma_bench.equipment.enabled_events.clear()  # the tool forgets to report
    started = plasma_bench.clock.now()
    with pytest.raises(ToolTimeout, match="recipe of 105 s not finished after 225 s; aborted"):
        await chamber.clean(RECIPE)
    assert plasma_bench.clock.now() - started == pytest.approx(225)
    assert "S2F41 STOP" in plasma_bench.equipment.received
    assert chamber.state is ToolState.IDLE


async def test_an_abort_mid_run_ends_it_aborted(plasma_bench) -> None:
    chamber = await evacuated(plasma_bench, "W1")
    clean = asyncio.create_task(chamber.clean(RECIPE))
    while plasma_bench.model.tool.chamber is not ChamberState.PROCESSING:
        await plasma_bench.clock.sleep(0.5)
    await plasma_bench.clock.sleep(10)
    await chamber.command("abort")
    with pytest.raises(ToolAlarm, match="recipe ended aborted"):
        await clean
    assert plasma_bench.model.tool.chamber is ChamberState.EVACUATED


async def test_a_vent_mid_pump_down_is_followed_to_its_own_end(plasma_bench) -> None:
    chamber = await plasma_bench.driver()
    await chamber.close_door()
    await chamber.command("pump_down")
    await plasma_bench.clock.sleep(5)
    await chamber.vent()  # the pump-down's watcher gives way to the vent's
    assert (await chamber.request_status()).chamber is ChamberState.VENTED


async def test_s2f30_gives_each_recipe_arrays_element_range(plasma_bench) -> None:
    """A conformance trial read ECMIN and ECMAX empty for the step arrays that S2F15 then
    refused values of (EAC 3): a host could not learn what the tool takes. Each array's range
    is its elements', as its step register takes them (the Modbus page's); a gas, a code, has
    none."""
    chamber = await plasma_bench.driver()
    constants = await chamber.gem.request_equipment_constant_namelist([2001, 2004, 2005])
    power, time = constants[2004], constants[2005]
    assert (power.name, power.minimum, power.maximum) == ("step_rf_power_w", F8(100), F8(1000))
    assert (time.minimum, time.maximum) == (F8(30), F8(600))
    assert (constants[2001].minimum, constants[2001].maximum) == (A(), A())
