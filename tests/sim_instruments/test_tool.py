"""What every simulated tool shares (`sim_instruments/tool.py`): its held replies, its
interlocks and how it tells a job's end, on tools served by no one (the base's behaviour, not
the tools')."""

from __future__ import annotations

import asyncio

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.registry import TOOL_KINDS
from packline.sim_instruments.dc_supply import SimDcSupply
from packline.sim_instruments.dicing_saw import SimDicingSaw
from packline.sim_instruments.electroplater import SimElectroplater
from packline.sim_instruments.families.ascii_host import HostLinkTool
from packline.sim_instruments.families.modbus_plc import ModbusPlcSimulator
from packline.sim_instruments.oven import SimOven
from packline.sim_instruments.tool import HOLD_SCAN_S, EndedJob
from packline.sim_instruments.twin import JobEnd, TwinStore


async def test_a_change_ends_every_hold_open_on_the_tool_at_once() -> None:
    """Two replies held on one tool, begun at different times: a command that changes the
    tool (`changed`) has both look at it at that instant, not at their next scan."""
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    clock = supply.clock
    answered: list[float] = []

    async def held() -> None:
        await supply.hold(lambda: not supply.output_on, given_up_by_next_line=False)
        answered.append(clock.now())

    first = asyncio.create_task(held())
    await clock.sleep(0.25)
    second = asyncio.create_task(held())
    await clock.sleep(10.5)
    supply.output_on = True
    supply.changed()
    await asyncio.gather(first, second)
    assert answered == [10.75, 10.75]


@pytest.mark.parametrize("ticks_after_the_change", range(6))
@pytest.mark.parametrize("ticks_after_the_hold", range(6))
async def test_a_change_while_another_hold_wakes_is_not_lost(
    ticks_after_the_change: int, ticks_after_the_hold: int
) -> None:
    """A change wakes one hold, a second begins its wait some loop iterations later and a
    second change comes some iterations after that: whatever the iterations, the second hold
    answers at once. (Holds that had waited on one shared event lost the second change when
    the first, on its way back to wait, cleared the event before the second's wait had begun:
    it answered at its next scan, 1 s late, with 3 and 1 iterations.)"""
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    clock = supply.clock
    ready = False
    answered: list[float] = []

    async def second() -> None:
        await supply.hold(lambda: not ready, given_up_by_next_line=False)
        answered.append(clock.now())

    first = asyncio.create_task(supply.hold(lambda: True, 60.0, given_up_by_next_line=False))
    for _ in range(5):  # the first hold is waiting
        await asyncio.sleep(0)
    supply.changed()
    for _ in range(ticks_after_the_change):
        await asyncio.sleep(0)
    late = asyncio.create_task(second())
    for _ in range(ticks_after_the_hold):
        await asyncio.sleep(0)
    ready = True
    supply.changed()
    await late
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert answered == [0.0]


async def test_a_held_reply_looks_at_its_tool_without_a_task_per_look() -> None:
    """A reply held for a minute looks at its tool each `HOLD_SCAN_S` (its model tells no
    change sooner) and starts no task to do it: a held look had cost a task, its cancel and a
    gather, thousands of times a lot."""
    supply = SimDcSupply("supply", TwinStore(), VirtualClock())
    looks = testing.count_looks(supply)
    loop = asyncio.get_running_loop()
    started: list[str] = []  # the coroutine of each task, by name
    factory = loop.get_task_factory()

    def counted(loop: asyncio.AbstractEventLoop, coroutine, **kwargs):  # type: ignore[no-untyped-def]
        started.append(coroutine.__qualname__)
        return (factory or asyncio.Task)(coroutine, loop=loop, **kwargs)  # type: ignore[arg-type]

    loop.set_task_factory(counted)
    try:
        held = await supply.hold(lambda: True, 60.0, given_up_by_next_line=False)
    finally:
        loop.set_task_factory(factory)
    assert held
    assert supply.clock.now() == 60.0
    assert len(looks) == 60 / HOLD_SCAN_S
    assert started == []  # the clock jumps in callbacks of the loop (decision 0089)


def test_an_injected_fault_opens_its_interlock_and_the_tools_conditions_the_rest() -> None:
    """`interlocks`: every interlock of the spec, open where a fault that opens it is injected
    or the tool's own condition does not hold, closed otherwise."""
    cell = SimElectroplater("electroplater", TwinStore(), VirtualClock())
    assert cell.interlocks() == {
        "lid_closed": True,
        "bath_level": True,
        "cathode_contact": False,  # no wafer
        "wafer_immersed": False,
    }
    cell.inject_fault("lid_opened")
    cell.inject_fault("heater_runaway")  # opens none
    assert cell.interlocks() == {
        "lid_closed": False,
        "bath_level": True,
        "cathode_contact": False,
        "wafer_immersed": False,
    }


def test_a_tool_whose_safe_state_its_status_confirms_suffers_abort_ignored() -> None:
    """A PLC or host-link tool (their drivers confirm the safe state by the tool's status)
    suffers `abort_ignored` after its own faults without naming it; a SCPI tool (`*OPC?`) does
    not; a new tool of a family gets it by being one."""

    class Newcomer(SimDicingSaw):
        faults = {"blade_crack": "the blade cracks"}

    assert list(Newcomer.faults) == ["blade_crack", "abort_ignored"]
    for kind in TOOL_KINDS.values():
        simulator = kind.load_simulator()
        confirmed = issubclass(simulator, ModbusPlcSimulator | HostLinkTool)
        assert ("abort_ignored" in simulator.faults) is confirmed, kind.name
        assert not confirmed or list(simulator.faults)[-1] == "abort_ignored", kind.name


def test_a_job_broken_off_by_an_alarm_names_the_alarm_latched_last() -> None:
    """`job_ended` tells every listener each job's end; a job an alarm broke off names the
    alarm the tool latched last (a tool latches it, then ends the job), unless it names one."""
    oven = SimOven("oven", TwinStore(), VirtualClock())
    told: list[EndedJob] = []
    oven.job_listeners.append(told.append)
    oven.latch("O2_HIGH")
    oven.latch("ZONE_ALARM")
    oven.job_ended("oven run", ["W01", "W02"], 330.0, JobEnd.FAULTED)
    oven.job_ended("oven run", ["W03"], 400.0, JobEnd.FAULTED, alarm="O2_HIGH")
    oven.job_ended("oven run", [], 500.0, JobEnd.ABORTED)
    assert told == [
        EndedJob("oven", "oven run", ("W01", "W02"), 330.0, JobEnd.FAULTED, "ZONE_ALARM"),
        EndedJob("oven", "oven run", ("W03",), 400.0, JobEnd.FAULTED, "O2_HIGH"),
        EndedJob("oven", "oven run", (), 500.0, JobEnd.ABORTED),
    ]


def test_a_job_end_that_contradicts_itself_is_refused_telling_no_one() -> None:
    """A job broken off by an alarm on a tool that latched none, or an alarm named for a job
    that completed, is a tool's mistake: refused, naming the tool and the job."""
    oven = SimOven("oven", TwinStore(), VirtualClock())
    told: list[EndedJob] = []
    oven.job_listeners.append(told.append)
    with pytest.raises(ValueError, match="oven: oven run broken off by an alarm, but no alarm"):
        oven.job_ended("oven run", ["W01"], 1.0, JobEnd.FAULTED)
    with pytest.raises(ValueError, match="oven: oven run ended completed, not by alarm ZONE"):
        oven.job_ended("oven run", ["W01"], 1.0, JobEnd.COMPLETED, alarm="ZONE_ALARM")
    assert told == []


async def test_a_fault_the_tool_cures_itself_goes_as_a_cleared_one_does() -> None:
    """A dicing saw's new blade cures its crack (`cure_fault`): a reply held on the saw till
    the crack was gone had looked again only at its next scan, 0.5 s late, for the cure
    skipped the `changed` `clear_fault` tells; it looks at once now, and the cure is told to
    the fault listeners, once."""
    saw = SimDicingSaw("dicing_saw", TwinStore(), VirtualClock())
    clock = saw.clock
    cured: list[tuple[str, str, str]] = []
    saw.fault_listeners.append(lambda *told: cured.append(told))
    saw.inject_fault("blade_crack")

    async def held() -> float:
        await saw.hold(lambda: "blade_crack" in saw.injected, given_up_by_next_line=False)
        return clock.now()

    waiting = asyncio.create_task(held())
    await clock.sleep(10.5)
    saw.cure_fault("blade_crack", "a new blade installed")
    saw.cure_fault("blade_crack", "a new blade installed")  # an intact blade: nothing to tell
    assert await waiting == 10.5
    assert cured == [("dicing_saw", "blade_crack", "a new blade installed")]
