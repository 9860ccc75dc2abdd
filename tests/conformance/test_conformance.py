"""The conformance suite: what every tool must do, whatever its kind, run for every tool kind.

Each test runs the real driver against its simulated tool over the wire (a `Rig` on a virtual
clock), using the tool's spec for what it declares (identity, limits, machine ranges, alarms,
interlocks) and its adapter (`adapters.py`) for how to drive it. The per-tool test files keep
only what is specific to one tool: its physics and its process rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    ConnectionLost,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
    WorkpieceHeld,
)
from packline.drivers.families.ascii_host_wire import HostCommand, HostLink
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.links import ReconnectPolicy, open_link
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.batch import BatchTool
from packline.drivers.specs import ToolSpec
from packline.sim_instruments.gem.equipment import GemEquipment
from packline.testing.dry_jobs import DRY_JOBS, DUMMY_WAFER_ID
from packline.testing.timing import Stopwatch

from .adapters import ADAPTERS, ToolAdapter

#: Bounds every wait on a driver task in wall time: a hang guard, which no assertion depends
#: on. The oven's operation alone is some 1700 Modbus RTU exchanges, 7 ms each at a load of 13
#: (12 s); at a load of 20 with a second test worker it passed the 20 s this once was.
WALL_LIMIT_S = 120.0
#: The process time an overrunning operation is given, far less than any operation takes.
OVERRUN_ALLOWANCE_S = 0.5
#: Every workpiece the suite puts on a tool (the adapters' wafers, the bonder's die source):
#: what a recovery may take off.
OWN = ("W01", "W02", "W07", "S01")


def test_every_registered_kind_has_an_adapter():
    assert set(ADAPTERS) == set(TOOL_KINDS)


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> ToolAdapter:
    return ADAPTERS[request.param]


@pytest.fixture
def spec(adapter: ToolAdapter) -> ToolSpec:
    return TOOL_KINDS[adapter.kind].load_spec()


@pytest.fixture
async def rig(adapter: ToolAdapter) -> AsyncIterator[testing.Rig[Any, Any]]:
    kind = TOOL_KINDS[adapter.kind]
    sim = kind.load_simulator()(adapter.kind, adapter.twin(), VirtualClock())
    rig = await testing.open_rig(
        sim, kind.load_driver(), timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    yield rig
    await rig.close()


async def bounded(awaitable: Any) -> Any:
    async with asyncio.timeout(WALL_LIMIT_S):
        return await awaitable


# ----------------------------------------------------------------- the spec and the driver


def test_the_driver_limits_are_the_specs(adapter: ToolAdapter, spec: ToolSpec):
    kind = TOOL_KINDS[adapter.kind]
    assert (spec.kind, spec.role) == (kind.name, kind.role)
    assert dict(kind.load_driver().limits) == spec.limits()
    assert adapter.probe in spec.setpoint_by_name
    assert adapter.interlock_fault[1] in spec.interlock_by_name
    assert adapter.alarm_fault[1] in spec.alarm_by_code


async def test_identity_and_standby_after_connect(rig: testing.Rig[Any, Any], spec: ToolSpec):
    identity = rig.driver.identity
    assert (identity.vendor, identity.model) == (spec.identity.vendor, spec.identity.model)
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.e10_state is E10State.STANDBY


# ----------------------------------------------------------------- limits and refusals


async def test_an_out_of_limit_setpoint_is_refused_with_nothing_sent(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter, spec: ToolSpec
):
    await adapter.prepare(rig)
    limit = spec.setpoint_by_name[adapter.probe].limit
    sent = len(rig.sim.received)
    with pytest.raises(LimitViolation, match=adapter.probe):
        await adapter.operate(rig, **{adapter.probe: limit.maximum * 2})
    assert rig.sim.received[sent:] == []
    assert rig.driver.state is ToolState.IDLE


async def test_the_tools_own_range_refusal_becomes_command_refused(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter, spec: ToolSpec
):
    await adapter.prepare(rig)
    machine = spec.setpoint_by_name[adapter.probe].machine_range
    beyond = machine.maximum * 1.5
    testing.force_limits(rig.driver, {adapter.probe: (machine.minimum, beyond)})
    with pytest.raises(CommandRefused) as refused:
        await bounded(adapter.operate(rig, **{adapter.probe: beyond}))
    code, words = adapter.range_refusal
    assert refused.value.code == code
    assert words in str(refused.value)
    assert rig.driver.state is ToolState.IDLE
    assert adapter.safe(rig.sim)


async def test_an_open_interlock_refuses_the_operation(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig)
    fault, interlock = adapter.interlock_fault
    rig.sim.inject_fault(fault)
    with pytest.raises(InterlockOpen, match=interlock):
        await bounded(adapter.operate(rig))
    assert (await rig.driver.request_interlocks())[interlock] is False
    assert rig.driver.state is ToolState.IDLE
    assert adapter.safe(rig.sim)


async def test_every_interlock_made_at_rest_is_made_and_a_fault_opens_it(
    rig: testing.Rig[Any, Any], spec: ToolSpec
):
    """An interlock no step makes (a supply, a set-up: `Made.at_rest`) is made on the fresh
    simulated tool, so its line is ready, and one of its faults opens it at rest, so a test or
    a served line (`packline sim fault`) can show `station check` catching it."""
    at_rest = {interlock.name for interlock in spec.interlocks if interlock.made.at_rest}
    fresh = await rig.driver.request_interlocks()
    assert {name for name in at_rest if not fresh[name]} == set()
    opened: set[str] = set()
    for fault in rig.sim.faults:
        rig.sim.inject_fault(fault)
        interlocks = await rig.driver.request_interlocks()
        opened |= {name for name in at_rest if not interlocks[name]}
        rig.sim.clear_fault(fault)
    assert opened == at_rest


# ----------------------------------------------------------------- alarms


async def test_an_alarm_faults_the_tool_until_it_is_reset(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig)
    fault, code = adapter.alarm_fault
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)
    rig.sim.inject_fault(fault)
    with pytest.raises(ToolAlarm, match=code):
        await bounded(task)
    assert rig.driver.state is ToolState.FAULT
    assert rig.driver.e10_state is E10State.UNSCHEDULED_DOWNTIME
    assert code in rig.driver.active_alarms
    assert adapter.safe(rig.sim)
    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await adapter.operate(rig)
    rig.sim.clear_fault(fault)
    await bounded(rig.driver.reset())
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert [alarm.code for alarm in rig.driver.alarm_history] == [code]


async def holds_what_it_was_given(rig: testing.Rig[Any, Any], adapter: ToolAdapter) -> None:
    """The tool's `request_workpieces` follows the simulated tool: empty, then the wafer the
    adapter loaded, then empty again once recovery took it off."""
    assert await rig.driver.request_workpieces() == ()
    await adapter.prepare(rig, "W07")
    held = await rig.driver.request_workpieces()
    assert "W07" in held, held
    assert not adapter.empty(rig.sim)
    await bounded(rig.driver.recover(OWN))
    assert adapter.empty(rig.sim)
    assert await rig.driver.request_workpieces() == ()


async def refuses_a_load_naming_what_it_holds(rig: testing.Rig[Any, Any], adapter: ToolAdapter):
    """A tool that takes one workpiece at a time refuses a second, and the error names the
    first (not only the tool's refusal code); nothing moved."""
    if isinstance(rig.driver, BatchTool):
        pytest.skip("a batch tool takes a wafer into each free slot")
    await adapter.prepare(rig, "W01")
    with pytest.raises(WorkpieceHeld, match="already") as refused:
        await bounded(adapter.prepare(rig, "W02"))
    assert refused.value.workpieces == ("W01",)
    assert "W02" not in await rig.driver.request_workpieces()


async def leaves_what_it_was_not_given(rig: testing.Rig[Any, Any], adapter: ToolAdapter) -> None:
    """A recovery that finds a workpiece its caller did not put there commands the safe state
    and leaves it on the tool, naming it."""
    await adapter.prepare(rig, "W01")
    with pytest.raises(WorkpieceHeld, match="W01") as held:
        await bounded(rig.driver.recover(OWN[1:]))
    assert held.value.workpieces == ("W01",)
    assert adapter.safe(rig.sim)
    assert not adapter.empty(rig.sim)
    assert "W01" in await rig.driver.request_workpieces()
    await bounded(rig.driver.recover(OWN))  # its owner's recovery takes it off
    assert adapter.empty(rig.sim)


async def test_the_tool_reports_the_workpieces_it_holds(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await holds_what_it_was_given(rig, adapter)


async def takes_what_it_reports(rig: testing.Rig[Any, Any]) -> None:
    """The tool's `request_capacity` is what the simulated tool takes at once: a batch tool's
    slots (as the line serves it, its station entry's `capacity`), one for any other."""
    assert await rig.driver.request_capacity() == getattr(rig.sim, "capacity", 1)


async def test_the_tool_reports_how_many_wafers_it_takes(rig: testing.Rig[Any, Any]):
    await takes_what_it_reports(rig)


async def test_a_load_onto_an_occupied_tool_names_what_it_holds(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await refuses_a_load_naming_what_it_holds(rig, adapter)


async def test_recover_leaves_a_workpiece_it_was_not_given_on_the_tool(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await leaves_what_it_was_not_given(rig, adapter)


@pytest.fixture(params=sorted(kind for kind in ADAPTERS if TOOL_KINDS[kind].gem_driver))
async def gem_rig(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[ToolAdapter, testing.Rig[Any, Any]]]:
    """A kind's simulated tool served as GEM equipment, with the kind's GEM driver connected."""
    adapter = ADAPTERS[request.param]
    kind = TOOL_KINDS[adapter.kind]
    clock = VirtualClock()
    model = kind.load_gem_simulator()(adapter.kind, adapter.twin(), clock)
    equipment = GemEquipment(load_dictionary(adapter.kind), model, clock=clock)
    address = await equipment.start()
    try:
        link = open_link(address, tool=adapter.kind, clock=clock, timeout_s=2.0)
        driver = kind.load_gem_driver()(link, dictionary=adapter.kind)
        await driver.connect()
        try:
            yield adapter, testing.Rig(model.tool, driver)
        finally:
            await driver.close()
    finally:
        await equipment.stop()


async def test_a_gem_tool_reports_the_workpieces_it_holds(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    await holds_what_it_was_given(rig, adapter)


async def test_a_gem_tool_reports_how_many_wafers_it_takes(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    await takes_what_it_reports(gem_rig[1])


async def test_a_gem_tool_names_what_it_holds_when_it_refuses_a_load(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    await refuses_a_load_naming_what_it_holds(rig, adapter)


async def test_a_gem_tools_recovery_leaves_a_workpiece_it_was_not_given(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    await leaves_what_it_was_not_given(rig, adapter)


async def test_a_gem_tool_refuses_a_reading_as_its_other_face_does(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    """A reading the kind's other face refuses on the fresh tool (a declared reply whose
    query's preconditions a fresh tool does not meet: the bonder's bump heights with no wafer,
    `ERR 6`) the GEM face refuses too, never answering zeros: the same `CommandRefused`, of
    the same action, in the same words."""
    adapter, rig = gem_rig
    kind = TOOL_KINDS[adapter.kind]
    spec = kind.load_spec()
    wire = spec.wire
    replies = [
        reply
        for reply in (wire.replies if isinstance(wire, HostLink) else ())
        if isinstance(query := spec.command_by_name[reply.query], HostCommand)
        and query.preconditions
    ]
    if not replies:
        pytest.skip(f"{adapter.kind}: no reading of its other face has a precondition")
    sim = kind.load_simulator()(adapter.kind, adapter.twin(), VirtualClock())
    other = await testing.open_rig(
        sim, kind.load_driver(), timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    try:
        for reply in replies:
            with pytest.raises(CommandRefused) as on_other:
                await bounded(other.driver.request_reply("read", reply))
            with pytest.raises(CommandRefused) as on_gem:
                await bounded(rig.driver.request_reply("read", reply))
            assert (on_gem.value.action, on_gem.value.reason) == (
                on_other.value.action,
                on_other.value.reason,
            )
    finally:
        await other.close()


async def test_recover_leaves_the_tool_safe_idle_and_empty(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig, "W01")
    assert not adapter.empty(rig.sim)
    await bounded(rig.driver.recover(OWN))
    assert rig.driver.state is ToolState.IDLE
    assert adapter.safe(rig.sim)
    assert adapter.empty(rig.sim)
    await adapter.prepare(rig, "W02")  # and it takes the next wafer


async def test_the_kinds_dry_job_processes_nothing_and_leaves_the_tool_safe_idle_and_empty(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    """The dry job the hardware-in-the-loop set runs on a real tool of this kind
    (`packline.testing.dry_jobs`): on the simulated tool it ends idle, safe, empty and without
    an alarm, and it processed no workpiece of the twin (only a job that needs the dummy wafer
    brought it onto the line)."""
    job = DRY_JOBS[adapter.kind]
    await bounded(job.run(rig.driver, DUMMY_WAFER_ID))
    assert rig.driver.state is ToolState.IDLE
    assert not await rig.driver.refresh_alarms()
    assert adapter.safe(rig.sim)
    assert adapter.empty(rig.sim)
    assert [workpiece.history for workpiece in rig.twin if workpiece.history] == []
    assert (DUMMY_WAFER_ID in rig.twin) is job.dummy_wafer


async def test_recover_after_an_alarm_resets_and_empties_the_tool(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig, "W01")
    fault, _ = adapter.alarm_fault
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)
    rig.sim.inject_fault(fault)
    with pytest.raises(ToolAlarm):
        await bounded(task)
    rig.sim.clear_fault(fault)
    await bounded(rig.driver.recover(OWN))
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert adapter.empty(rig.sim)
    await adapter.prepare(rig, "W02")


async def test_a_wafer_the_tool_processed_is_refused_unless_it_is_a_rework(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await reloads_only_as_a_rework(rig, adapter)


async def test_a_gem_tool_takes_a_wafer_it_processed_only_as_a_rework(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    await reloads_only_as_a_rework(rig, adapter)


async def reloads_only_as_a_rework(rig: testing.Rig[Any, Any], adapter: ToolAdapter) -> None:
    """A wafer the tool processed last is refused a plain load, the refusal naming it and the
    rework load; the driver's rework load (`Equipment.reloading`) takes it, on the wire."""
    await adapter.prepare(rig, "W01")
    await bounded(adapter.operate(rig))
    await bounded(rig.driver.recover(OWN))
    with pytest.raises(CommandRefused, match=r"W01.*rework") as refused:  # names how to reload
        await adapter.prepare(rig, "W01")  # a second lot reusing the id, on a shared line
    assert str(refused.value).count(f"tool error {refused.value.code}") == 1
    await bounded(rig.driver.recover(OWN))
    with rig.driver.reloading(["W01"]):  # the host says it is a rework, on the wire
        await adapter.prepare(rig, "W01")
    rig.twin.allow_rework("W01")
    await bounded(rig.driver.recover(OWN))
    await adapter.prepare(rig, "W01")


# ----------------------------------------------------------------- abort, overrun, lost tool


async def test_a_cancelled_operation_commands_the_safe_state(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig)
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert adapter.safe(rig.sim)
    assert rig.driver.state is ToolState.IDLE


async def aborted_on_a_hung_tool(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
) -> asyncio.Task[Any]:
    """The adapter's operation, cancelled while it runs on a tool that takes its safe-state
    command but does not act on it (`abort_ignored`): the task, commanding the safe state (as
    a terminated run's operation does) and waiting on the tool to show it."""
    if "abort_ignored" not in rig.sim.faults:
        pytest.skip("a tool whose abort is confirmed otherwise (SCPI *OPC?)")
    await adapter.prepare(rig)
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)
    rig.sim.inject_fault("abort_ignored")
    task.cancel()
    return task


async def returns_once_the_safe_state_shows(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
) -> None:
    """A tool that acts on its safe-state command 3 s late is waited for, the abort returning
    once the safe state shows."""
    sim = rig.sim
    task = await aborted_on_a_hung_tool(rig, adapter)
    late_s = sim.clock.now() + 3
    # fails if the abort returned before the tool acted on it
    await testing.run_until(task, lambda: sim.clock.now() >= late_s, sim, timeout_s=WALL_LIMIT_S)
    assert not adapter.safe(sim)
    sim.clear_fault("abort_ignored")  # the hung sequence steps on and takes the command
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert adapter.safe(sim)
    assert rig.driver.state is ToolState.IDLE


async def raises_when_the_safe_state_never_shows(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter, still_on: str = ".*"
) -> None:
    """A tool that never acts on its safe-state command within the driver's
    `safe_state_timeout_s` makes the abort raise `ToolTimeout` naming what was not confirmed
    (`still_on`, a pattern); the driver is then in fault."""
    sim = rig.sim
    task = await aborted_on_a_hung_tool(rig, adapter)
    started_s = sim.clock.now()
    with pytest.raises(ToolTimeout, match=rf"abort: safe state not confirmed: {still_on} after "):
        await bounded(task)
    assert sim.clock.now() - started_s >= type(rig.driver).safe_state_timeout_s
    assert rig.driver.state is ToolState.FAULT
    assert not adapter.safe(sim)


async def test_an_abort_returns_once_the_safe_state_shows(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    """A PLC or host-link tool's abort is confirmed by its status (`abort_confirmed`,
    `HostLinkDriver._command_safe_state`)."""
    await returns_once_the_safe_state_shows(rig, adapter)


async def test_an_abort_raises_when_the_safe_state_never_shows(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await raises_when_the_safe_state_never_shows(rig, adapter)


#: What each GEM face's abort names as still on when its tool took `abort` mid-operation and
#: never acted on it: what its status variables show, judged as the kind's other face judges.
GEM_STILL_ON = {
    "deposition": "chamber still processing, source power 1000 W, gas flow 40 sccm",
    "dicing_saw": "still cutting, spindle at 30000 rpm",
    "flip_chip_bonder": "still heating",
    "grinder": "still coarse",
    "laminator": "still cooling",
    "oven": r"heater supply still on \(running\)",
    "plasma_cleaner": "chamber still processing, RF forward 300 W, gas flow 100 sccm",
    "wire_bonder": "still bumping",
}


def test_every_gem_face_names_what_its_abort_leaves_on():
    assert set(GEM_STILL_ON) == {kind for kind in ADAPTERS if TOOL_KINDS[kind].gem_driver}


async def test_a_gem_tools_abort_returns_once_the_safe_state_shows(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    """A GEM tool's abort is confirmed by its status variables, not by the remote command's
    HCACK (`GemEquipment._command_safe_state`); every GEM face's tool can hang on it."""
    adapter, rig = gem_rig
    assert "abort_ignored" in rig.sim.faults  # never skipped
    await returns_once_the_safe_state_shows(rig, adapter)


async def test_a_gem_tools_abort_raises_when_the_safe_state_never_shows(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    assert "abort_ignored" in rig.sim.faults  # never skipped
    await raises_when_the_safe_state_never_shows(rig, adapter, GEM_STILL_ON[adapter.kind])


async def test_an_overrun_is_aborted_before_the_timeout_is_raised(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter, monkeypatch: pytest.MonkeyPatch
):
    await adapter.prepare(rig)
    driver = rig.driver
    wait_until = driver.wait_until

    async def overrunning(action, poll, timeout_s, *args, **kwargs):
        if action != "abort":  # every process wait but the safe state's own
            timeout_s = min(timeout_s, OVERRUN_ALLOWANCE_S)
        return await wait_until(action, poll, timeout_s, *args, **kwargs)

    monkeypatch.setattr(driver, "wait_until", overrunning)
    with pytest.raises(ToolTimeout):
        await bounded(adapter.operate(rig))
    assert adapter.safe(rig.sim)
    assert driver.state is ToolState.IDLE


async def test_a_tool_that_dies_mid_operation_is_connection_lost_within_its_timeout(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await adapter.prepare(rig)
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)
    watch = Stopwatch()
    await rig.sim.stop()
    async with asyncio.timeout(rig.driver.link.timeout_s * 3 + 2):
        with pytest.raises(ConnectionLost):
            await task
    assert watch.elapsed_s() < watch.bound_s(rig.driver.link.timeout_s + 1.0)
    assert rig.driver.state is ToolState.FAULT


# ----------------------------------------------------------------- a tool found working


async def left_working(rig: testing.Rig[Any, Any], adapter: ToolAdapter) -> None:
    """`rig`'s tool left in the middle of its operation by a controller that died (`kill -9`):
    the operation under way, then the driver gone without commanding anything."""
    await adapter.prepare(rig, "W01")
    task = asyncio.create_task(adapter.operate(rig))
    await testing.run_until(task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S)

    async def nothing() -> None:  # a dead controller commands no safe state
        pass

    rig.driver._command_safe_state = nothing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    await rig.driver.close()
    assert adapter.running(rig.sim)


async def is_busy_until_recovered(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter, fresh: Any
) -> None:
    """`fresh`, a driver connected to `rig`'s tool left working, finds it busy (E10
    productive), saying what it does; it refuses an operation until a recovery commands the
    safe state, which leaves the tool idle, safe and empty."""
    assert fresh.state is ToolState.BUSY
    assert fresh.e10_state is E10State.PRODUCTIVE
    assert fresh.found_working
    assert await fresh.request_activity()
    sent = len(rig.sim.received)
    with pytest.raises(ToolStateError, match="not allowed while busy"):
        await adapter.operate(testing.Rig(rig.sim, fresh))
    assert rig.sim.received[sent:] == []
    await bounded(fresh.recover(OWN))
    assert fresh.state is ToolState.IDLE
    assert await fresh.request_activity() is None
    assert adapter.safe(rig.sim)
    assert adapter.empty(rig.sim)


async def test_a_tool_found_working_is_busy_until_its_recovery(
    rig: testing.Rig[Any, Any], adapter: ToolAdapter
):
    await left_working(rig, adapter)
    kind = TOOL_KINDS[adapter.kind]
    rig.driver = await testing.connect_driver(
        rig.sim, kind.load_driver(), timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    await is_busy_until_recovered(rig, adapter, rig.driver)


async def test_a_gem_tool_found_working_is_busy_until_its_recovery(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]],
):
    adapter, rig = gem_rig
    await left_working(rig, adapter)
    link = open_link(rig.driver.address, tool=adapter.kind, clock=rig.clock, timeout_s=2.0)
    fresh = TOOL_KINDS[adapter.kind].load_gem_driver()(link, dictionary=adapter.kind)
    await fresh.connect()
    try:
        await is_busy_until_recovered(rig, adapter, fresh)
    finally:
        await fresh.close()


# ----------------------------------------------------------------- E10 states


async def test_engineering_and_maintenance_states(rig: testing.Rig[Any, Any], adapter: ToolAdapter):
    driver = rig.driver
    await driver.enter_engineering()
    assert driver.e10_state is E10State.ENGINEERING
    await adapter.prepare(rig)
    await bounded(adapter.operate(rig))
    assert driver.state is ToolState.ENGINEERING
    await driver.leave_engineering()
    await driver.start_maintenance()
    assert driver.e10_state is E10State.SCHEDULED_DOWNTIME
    with pytest.raises(ToolStateError, match="not allowed while maintenance"):
        await adapter.operate(rig)
    await driver.end_maintenance()
    assert driver.e10_state is E10State.STANDBY


async def test_close_gives_non_scheduled(rig: testing.Rig[Any, Any]):
    await rig.driver.close()
    assert rig.driver.e10_state is E10State.NON_SCHEDULED


async def test_a_gem_tool_is_not_polled_while_it_runs_its_operation(
    gem_rig: tuple[ToolAdapter, testing.Rig[Any, Any]], monkeypatch: pytest.MonkeyPatch
):
    """A GEM tool pushes its events (the job's end, an alarm): its driver reads no status
    variable (S1F3) while the tool runs the operation, whatever it lasts (decision 0041)."""
    adapter, rig = gem_rig
    await adapter.prepare(rig, "W01")
    gem = rig.driver.gem
    request = gem.request_status_variables
    running_at_reads: list[bool] = []

    async def watched(ids: list[object]) -> object:
        rig.sim.advance()  # the model is lazy: bring it to now before looking
        running_at_reads.append(adapter.running(rig.sim))
        return await request(ids)

    monkeypatch.setattr(gem, "request_status_variables", watched)
    await bounded(adapter.operate(rig))
    assert running_at_reads  # the driver does read the tool, before and after
    assert not any(running_at_reads)
