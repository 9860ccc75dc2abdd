"""The virtual clock: process time that jumps, overlaps like the line, never skips the wire."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import select
import socket
import tty
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packline import testing
from packline.clock import (
    CHECKS_VARIABLE,
    Clock,
    ClockCheckFailed,
    ClockTimeout,
    ScaledClock,
    UnobservableLoop,
    VirtualClock,
    WallClock,
    clock_at,
    wait_for,
)
from packline.testing.timing import Stopwatch


async def test_sleep_jumps_to_the_deadline_without_wall_time():
    clock = VirtualClock()
    watch = Stopwatch()
    await clock.sleep(3600)
    assert clock.now() == 3600
    assert watch.elapsed_s() < watch.bound_s(1.0)


async def test_concurrent_sleepers_overlap_in_simulated_time():
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def worker(name: str, period_s: float, times: int) -> None:
        for _ in range(times):
            await clock.sleep(period_s)
            woke.append((name, clock.now()))

    await asyncio.gather(worker("a", 10, 6), worker("b", 15, 4))
    assert clock.now() == 60  # not 120: the two overlapped
    assert woke[:3] == [("a", 10), ("b", 15), ("a", 20)]


async def test_the_clock_does_not_jump_over_a_wire_exchange():
    clock = VirtualClock()
    seen: list[float] = []

    async def exchange() -> None:
        with clock.activity():
            await asyncio.sleep(0.05)  # a reply on its way over loopback
            seen.append(clock.now())

    await asyncio.gather(exchange(), clock.sleep(100))
    assert seen == [0.0]
    assert clock.now() == 100


async def test_wait_for_times_out_on_the_clock():
    clock = VirtualClock()
    with pytest.raises(ClockTimeout, match="batch of 4: no result within 30 s"):
        await wait_for(clock, clock.sleep(60), 30, "batch of 4")
    assert clock.now() == 30
    assert await wait_for(clock, asyncio.sleep(0, result="done"), 30, "quick") == "done"


@pytest.mark.parametrize("clock", [VirtualClock(), WallClock(), ScaledClock(1000)])
async def test_a_timer_is_a_future_done_once_its_time_has_passed(clock: Clock):
    start_s = clock.now()
    timer = clock.timer(5)
    assert not timer.done()
    await timer
    assert clock.now() - start_s >= 5
    stopped = clock.timer(1)
    stopped.cancel()  # cancelling stops it: nothing completes it later
    await clock.sleep(2)
    assert stopped.cancelled()


async def test_a_cancelled_timer_does_not_hold_virtual_time_back():
    clock = VirtualClock()
    clock.timer(10).cancel()
    await clock.sleep(50)
    assert clock.now() == 50


async def test_wait_for_runs_its_awaitable_in_the_callers_task():
    clock = VirtualClock()

    async def whose() -> asyncio.Task[object] | None:
        await clock.sleep(1)
        return asyncio.current_task()

    assert await wait_for(clock, whose(), 30, "quick") is asyncio.current_task()
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    with pytest.raises(ClockTimeout):
        await wait_for(clock, clock.sleep(60), 30, "slow")
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_wait_for_gives_the_result_that_comes_at_its_bounds_very_instant():
    """The bound's timer is done after what its instant wakes has settled: a result, or an
    error, that comes at the deadline itself is the wait's, not a timeout."""
    clock = VirtualClock()
    assert await wait_for(clock, clock.sleep(30), 30, "sleep") is None
    made: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def make() -> None:
        await clock.sleep(30)
        await asyncio.sleep(0)
        made.set_result("made")

    maker = asyncio.create_task(make())
    assert await wait_for(clock, asyncio.shield(made), 30, "made elsewhere") == "made"
    await maker

    async def fails() -> None:
        await clock.sleep(30)
        raise ValueError("the tool's own error")

    with pytest.raises(ValueError, match="the tool's own error"):
        await wait_for(clock, fails(), 30, "fails")
    with pytest.raises(ClockTimeout):  # a moment later is still a timeout
        await wait_for(clock, clock.sleep(30.001), 30, "late")
    assert clock.now() == 120.0


async def test_wait_for_closes_its_awaitable_when_its_bound_is_refused():
    """A bound the clock refuses (NaN) raises at once, and the coroutine it was given is
    closed, not left unawaited."""
    clock = VirtualClock()
    waited = clock.sleep(1)
    with pytest.raises(ValueError, match="finite"):
        await wait_for(clock, waited, math.nan, "nan")
    assert waited.cr_frame is None  # closed


async def test_wait_for_passes_on_a_cancellation_of_its_caller():
    clock = VirtualClock()
    waiting = asyncio.create_task(wait_for(clock, asyncio.Event().wait(), 30, "batch of 4"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await clock.sleep(60)  # its timer is stopped: nothing cancels anything at 30 s
    assert clock.now() == 60


async def test_wait_for_times_out_when_its_awaitable_swallows_the_cancellation():
    clock = VirtualClock()

    async def stubborn() -> str:
        try:
            await clock.sleep(60)
        except asyncio.CancelledError:
            return "late"
        return "never"

    with pytest.raises(ClockTimeout, match="stubborn: no result within 30 s"):
        await wait_for(clock, stubborn(), 30, "stubborn")
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_cancelled_sleeper_does_not_hold_time_back():
    clock = VirtualClock()
    sleeper = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    sleeper.cancel()
    await asyncio.gather(sleeper, return_exceptions=True)
    await clock.sleep(50)
    assert clock.now() == 50


async def test_wall_clock_is_monotonic_seconds():
    clock = WallClock()
    before = clock.now()
    await clock.sleep(0.01)
    assert clock.now() - before >= 0.01
    assert clock.time_scale == VirtualClock().time_scale == 1.0  # records keep their time


@pytest.mark.parametrize("seconds", [float("nan"), float("inf")])
async def test_virtual_clock_refuses_a_sleep_it_cannot_schedule(seconds: float):
    clock = VirtualClock()
    with pytest.raises(ValueError, match="finite time"):
        await clock.sleep(seconds)
    await clock.sleep(5)  # the heap was not touched: time still runs
    assert clock.now() == 5


async def test_wall_clock_refuses_a_nan_sleep():
    with pytest.raises(ValueError, match="NaN"):
        await WallClock().sleep(float("nan"))


async def test_a_task_still_running_on_the_loop_holds_the_clock_back():
    """A woken task that takes many loop passes to get going runs before time jumps."""
    clock = VirtualClock()
    seen: list[float] = []

    async def relay(passes: int) -> None:  # runs on the loop without touching the clock
        for _ in range(passes):
            await asyncio.sleep(0)
        seen.append(clock.now())

    timer = asyncio.create_task(clock.sleep(100))
    await asyncio.sleep(0)
    await relay(50)
    await timer
    assert seen == [0.0]
    assert clock.now() == 100


async def test_a_scaled_clock_runs_process_time_faster_than_the_wall():
    clock = ScaledClock(6000)
    async with asyncio.timeout(5):
        await clock.sleep(60)  # 10 ms of wall time
    assert clock.now() >= 60
    assert clock.time_scale == 6000
    for factor in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time scale must be a positive number"):
            ScaledClock(factor)


def test_a_line_at_scale_1_has_the_wall_clock_and_a_faster_one_its_scaled_clock():
    """`clock_at`: what `sim serve --time-scale` serves a line on and a run on it waits on."""
    assert isinstance(clock_at(1.0), WallClock)
    faster = clock_at(60.0)
    assert isinstance(faster, ScaledClock)
    assert faster.time_scale == 60.0
    with pytest.raises(ValueError, match="time scale must be a positive number, got 0"):
        clock_at(0.0)


class _ForeignLoop(asyncio.AbstractEventLoop):
    """A stand-in for a loop that is not CPython's own (uvloop, say): it has no `_ready` queue."""


async def test_a_loop_the_clock_cannot_observe_is_refused_at_first_use(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = VirtualClock()
    with monkeypatch.context() as patched:
        patched.setattr(asyncio, "get_running_loop", _ForeignLoop)
        with pytest.raises(
            UnobservableLoop,
            match=rf"cannot run on the event loop {re.escape(_ForeignLoop.__module__)}\."
            r"_ForeignLoop: .* ready queue \(`_ready`\) of CPython's asyncio\.BaseEventLoop",
        ):
            await clock.sleep(5)
    assert clock.now() == 0
    await clock.sleep(5)  # the refusal changed nothing: on the default loop the clock runs
    assert clock.now() == 5


async def test_an_exchange_open_at_a_jump_fails_the_checks_instead_of_being_skipped():
    """Without settling passes the clock jumps at once; only the checks notice the exchange."""
    reply_arrived = asyncio.Event()

    async def exchange(clock: VirtualClock) -> None:
        with clock.activity():
            async with asyncio.timeout(5):
                await reply_arrived.wait()

    unchecked = VirtualClock(settle_iterations=0, checks=False)
    async with asyncio.TaskGroup() as group:
        group.create_task(exchange(unchecked), name="plc read")
        await asyncio.sleep(0)
        await unchecked.sleep(10)
        assert unchecked.now() == 10  # the fault: time passed over a read in flight
        reply_arrived.set()

    reply_arrived.clear()
    checked = VirtualClock(settle_iterations=0, checks=True)
    async with asyncio.TaskGroup() as group:
        group.create_task(exchange(checked), name="plc read")
        await asyncio.sleep(0)
        with pytest.raises(
            ClockCheckFailed,
            match=r"no jump from 0 s to 10 s with work in flight: "
            r"exchange open, opened by task 'plc read' at 0 s$",
        ):
            await checked.sleep(10)
        assert checked.now() == 0
        reply_arrived.set()
    await checked.sleep(10)  # nothing in flight any more: the jump goes ahead
    assert checked.now() == 10


@asynccontextmanager
async def _paused_connection(clock: VirtualClock) -> AsyncIterator[asyncio.StreamWriter]:
    """A client connected to a server that registered its end with `watch_served` and, paused,
    leaves what arrives unread in the socket (a tool server that has not run yet)."""
    accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clock.watch_served(writer.transport)  # the line a tool server adds per connection
        writer.transport.pause_reading()
        await accepted.put(writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        _reader, client = await asyncio.open_connection(*server.sockets[0].getsockname())
        async with asyncio.timeout(5):
            served = await accepted.get()
        try:
            yield client
        finally:
            client.close()
            served.close()
            await asyncio.gather(client.wait_closed(), served.wait_closed())


async def test_unread_bytes_on_a_served_socket_fail_the_checks():
    clock = VirtualClock(checks=True)
    async with _paused_connection(clock) as client:
        client.write(b"RF?\r\n")  # outside any activity(): the fault the checks catch
        await client.drain()
        with pytest.raises(
            ClockCheckFailed,
            match=r"no jump from 0 s to 30 s with work in flight: served socket "
            r"\('127\.0\.0\.1', \d+\) \(peer \('127\.0\.0\.1', \d+\)\) has 5 unread bytes",
        ):
            await clock.sleep(30)
        assert clock.now() == 0
    await clock.sleep(30)  # the connection closed, so it dropped out of the registry
    assert clock.now() == 30


async def test_a_served_socket_read_to_the_end_lets_the_clock_jump():
    clock = VirtualClock(checks=True)
    served, client = socket.socketpair()
    with served, client:
        clock.watch_served(served)
        client.sendall(b"MEAS?\n")
        assert served.recv(64) == b"MEAS?\n"
        await clock.sleep(30)
        assert clock.now() == 30
        client.sendall(b"MEAS?\n")
        with pytest.raises(ClockCheckFailed, match="has 6 unread bytes"):
            await clock.sleep(30)
        served.close()  # a closed end drops out by itself
        await clock.sleep(30)
    assert clock.now() == 60


class _PtyMaster:
    """A pty server's master end, as `watch_served` sees it: `fileno()` is -1 once closed."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def fileno(self) -> int:
        return self.descriptor

    def close(self) -> None:
        os.close(self.descriptor)
        self.descriptor = -1


async def test_a_served_pty_end_is_watched_through_its_fileno():
    clock = VirtualClock(checks=True)
    master_fd, slave_fd = os.openpty()
    tty.setraw(slave_fd)
    master = _PtyMaster(master_fd)
    try:
        clock.watch_served(master)
        os.write(slave_fd, b"STAT\r")  # a serial client's command, not yet read by the tool
        # the tty layer hands the bytes to the master end a moment later: wait until it has them
        readable, _, _ = select.select([master_fd], [], [], 5)
        assert readable, "the pty never delivered the bytes"
        with pytest.raises(ClockCheckFailed, match=r"_PtyMaster .* has 5 unread bytes"):
            await clock.sleep(1)
    finally:
        master.close()
        os.close(slave_fd)
    await clock.sleep(1)  # a closed end is no longer watched
    assert clock.now() == 1


async def test_wait_for_reports_a_failed_check_not_a_timeout():
    clock = VirtualClock(settle_iterations=0, checks=True)
    with clock.activity(), pytest.raises(ClockCheckFailed, match="exchange open"):
        await wait_for(clock, asyncio.Event().wait(), 30, "batch of 4")
    assert clock.now() == 0


@pytest.mark.parametrize("clock", [VirtualClock(checks=True), WallClock(), ScaledClock(60)])
async def test_watch_served_refuses_what_it_cannot_watch(clock: Clock):
    with pytest.raises(TypeError, match=r"not int .*descriptor number is reused"):
        clock.watch_served(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not str"):
        clock.watch_served("127.0.0.1:5025")  # type: ignore[arg-type]
    listening = socket.create_server(("127.0.0.1", 0))  # not a connection: no unread bytes
    with listening, pytest.raises(ValueError, match=r"cannot count unread bytes on <socket\.soc"):
        clock.watch_served(listening)


def test_the_checks_follow_the_environment_unless_told(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(CHECKS_VARIABLE, raising=False)
    assert not VirtualClock().checks
    monkeypatch.setenv(CHECKS_VARIABLE, "1")
    assert VirtualClock().checks
    assert not VirtualClock(checks=False).checks
    monkeypatch.setenv(CHECKS_VARIABLE, "0")
    assert not VirtualClock().checks
    assert VirtualClock(checks=True).checks
    monkeypatch.setenv(CHECKS_VARIABLE, "yes")
    with pytest.raises(ValueError, match=r"PACKLINE_CLOCK_CHECKS must be 1 .* or 0, got 'yes'"):
        VirtualClock()


async def test_the_checks_stay_as_the_clock_was_made():
    """An activity names its task for a failed check only on a clock made with the checks on
    (looking the task up costs every exchange a system call): checks turned on later would
    name no task, so they cannot be."""
    clock = VirtualClock(checks=False)
    with pytest.raises(AttributeError):
        clock.checks = True  # type: ignore[misc]
    assert not clock.checks
    with clock.activity():
        pass  # no task looked up, none named: the clock can still jump
    await clock.sleep(1)
    assert clock.now() == 1


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"start_s": float("nan")}, ValueError, "starts at a finite time"),
        ({"settle_iterations": -1}, ValueError, "settle_iterations must be 0 or more, got -1"),
        ({"settle_iterations": 2.5}, TypeError, "settle_iterations must be an int, got 2.5"),
        ({"settle_iterations": True}, TypeError, "settle_iterations must be an int, got True"),
    ],
)
def test_a_virtual_clock_refuses_bad_settings(
    arguments: dict[str, object], error: type[Exception], message: str
):
    with pytest.raises(error, match=message):
        VirtualClock(**arguments)  # type: ignore[arg-type]


#: How one hop of a wake-up chain wakes the next: resolving a future it awaits, setting an
#: event, a callback queued with call_soon (twice over for "nested"), a queue item, or
#: starting the next hop as a new task.
HANDOFFS = ("future", "event", "call_soon", "nested_call_soon", "queue", "new_task")

#: What a hop does before it wakes the next: sleep on the clock, yield to the loop a number of
#: times, or yield inside an `activity()`, as a link does while a reply is on its way.
_STEPS = st.one_of(
    st.tuples(st.just("sleep"), st.sampled_from([0.0, 0.25, 1.0, 3.0, 60.0])),
    st.tuples(st.sampled_from(["passes", "exchange"]), st.integers(0, 12)),
)
_CHAINS = st.lists(
    st.lists(
        st.tuples(st.lists(_STEPS, max_size=4), st.sampled_from(HANDOFFS)), min_size=1, max_size=6
    ),
    min_size=1,
    max_size=4,
)

Hop = tuple[list[tuple[str, float]], str]


class _Handoff:
    """The way one hop is woken, carrying the clock's time when its waker woke it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._woken_at: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._event = asyncio.Event()
        self._queue: asyncio.Queue[float] = asyncio.Queue()

    def wake(self, now_s: float) -> None:
        loop = asyncio.get_running_loop()
        if self.kind == "future":
            self._woken_at.set_result(now_s)
        elif self.kind == "event":
            self._woken_at.set_result(now_s)  # read once the event is seen
            self._event.set()
        elif self.kind == "call_soon":
            loop.call_soon(self._woken_at.set_result, now_s)
        elif self.kind == "nested_call_soon":
            loop.call_soon(loop.call_soon, self._woken_at.set_result, now_s)
        else:
            self._queue.put_nowait(now_s)

    async def woken(self) -> float:
        if self.kind == "queue":
            return await self._queue.get()
        if self.kind == "event":
            await self._event.wait()
        return await self._woken_at


async def _run_chains(clock: VirtualClock, chains: list[list[Hop]]) -> list[str]:
    """Run every chain at once; return each time a task saw the clock move while it was runnable.

    A hop checks that it runs at the time its waker woke it, that yielding (in or out of an
    exchange) leaves the time alone and that a sleep ends exactly at its deadline.
    """
    seen_moving: list[str] = []

    def expect(where: str, expected_s: float) -> None:
        if clock.now() != expected_s:
            seen_moving.append(f"{where}: at {clock.now():g} s, expected {expected_s:g} s")

    async def run_hop(
        group: asyncio.TaskGroup, chain: list[Hop], handoffs: list[_Handoff | None], index: int
    ) -> None:
        where = f"hop {index} of {chain}"
        handoff = handoffs[index]
        if handoff is not None:
            expect(f"{where}, woken by {handoff.kind}", await handoff.woken())
        steps, wake_next = chain[index]
        for kind, amount in steps:
            before_s = clock.now()
            if kind == "sleep":
                await clock.sleep(amount)
                expect(f"{where}, after sleeping {amount:g} s", before_s + amount)
                continue
            with clock.activity() if kind == "exchange" else contextlib.nullcontext():
                for _ in range(int(amount)):
                    await asyncio.sleep(0)
            expect(f"{where}, after {kind} of {amount} loop passes", before_s)
        if index + 1 == len(chain):
            return
        if wake_next == "new_task":
            group.create_task(run_hop(group, chain, handoffs, index + 1))
            return
        next_handoff = handoffs[index + 1]
        assert next_handoff is not None
        next_handoff.wake(clock.now())

    async with asyncio.timeout(10), asyncio.TaskGroup() as group:
        for chain in chains:
            # Hop i is woken the way hop i - 1 says; a new task is started, not woken.
            handoffs = [None] + [
                None if wake_next == "new_task" else _Handoff(wake_next)
                for _steps, wake_next in chain[:-1]
            ]
            for index, handoff in enumerate(handoffs):
                if index == 0 or handoff is not None:
                    group.create_task(run_hop(group, chain, handoffs, index))
    return seen_moving


@settings(max_examples=150, deadline=None)
@given(chains=_CHAINS)
async def test_no_jump_while_anything_is_runnable(chains: list[list[Hop]]):
    """Random chains of tasks waking each other: a woken task always runs before time moves."""
    clock = VirtualClock(checks=True)  # an exchange open at a jump would fail its sleepers
    assert await _run_chains(clock, chains) == []
    chain_spans_s = [
        sum(amount for steps, _ in chain for kind, amount in steps if kind == "sleep")
        for chain in chains
    ]
    assert clock.now() == max(chain_spans_s)  # the chains overlapped in simulated time


async def test_the_clock_settles_in_callbacks_of_the_loop_in_the_passes_a_task_would():
    """The clock settles towards a jump in callbacks of the loop, not a task of its own
    (docs/decisions/0089), looking in the passes its task looked in: an exchange and a sleep
    after it, or an activity and a sleep, take as many passes of the loop as they did with
    the task (pinned on the tree before), and a sleeper among others is woken in its turn."""
    clock = VirtualClock(wires_in_memory=True)
    before = asyncio.all_tasks()
    other = asyncio.create_task(clock.sleep(0.5))
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == {other}  # the clock runs no task
    with testing.counting_loop_passes() as passes:
        async with clock.exchange():
            pass
        await clock.sleep(1)
    assert passes == [4]
    assert clock.now() == 1
    assert other.done()
    with testing.counting_loop_passes() as passes:
        with clock.activity():
            await asyncio.sleep(0)
        await clock.sleep(1)
    assert passes == [3]
    assert clock.now() == 2


async def test_a_look_of_the_settling_that_fails_leaves_the_next_sleeper_to_start_afresh(
    monkeypatch,
):
    """A callback of the clock's settling that raised had left its settling marked as going
    on with nothing queued: every later sleeper of the loop slept for ever."""
    clock = VirtualClock()
    loop = asyncio.get_running_loop()
    failed: list[dict] = []
    loop.set_exception_handler(lambda _, context: failed.append(context))
    passes = clock._quiet_passes

    def fails_once() -> int:
        monkeypatch.setattr(clock, "_quiet_passes", passes)
        raise RuntimeError("a look that failed")

    monkeypatch.setattr(clock, "_quiet_passes", fails_once)
    try:
        first = asyncio.ensure_future(clock.sleep(1))
        for _ in range(3):
            await asyncio.sleep(0)
        assert [str(context["exception"]) for context in failed] == ["a look that failed"]
        await asyncio.wait_for(clock.sleep(2), timeout=5)  # wall seconds: it did not hang
        await asyncio.wait_for(first, timeout=5)
    finally:
        loop.set_exception_handler(None)
    assert clock.now() == 2
