"""Process time: the wall clock on real tools, a virtual clock on the in-process simulated line.

Drivers and sequences measure process time (a recipe step, a cure, a poll interval, a batch
timeout) on a `Clock`, never on `time` or `asyncio.sleep` directly. Against real tools that is
the wall clock. In a dry run with the simulated line in the same process it is a `VirtualClock`:
a discrete-event clock that jumps to the next wake-up as soon as every task is waiting on it, so
a 60-minute cure costs only the computation around it, and several wafers on several tools still
overlap in simulated time exactly as they would on the line.

I/O timeouts (a tool that does not answer) stay on the wall clock: they guard the wire, not the
process. What links and servers owe a virtual clock (every other wait inside `activity()`, each
accepted connection given to `watch_served`) is written in docs/simulated-line.md. A dry run's
clock also carries the in-memory wires its tools and links meet on (`wires`, decision 0063).
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import functools
import heapq
import itertools
import math
import os
import socket
import struct
import termios
import time
from asyncio.trsock import TransportSocket
from collections.abc import Awaitable, Callable, Sized
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from packline.memory_wires import MemoryTransport, MemoryWires

T = TypeVar("T")

#: The environment variable that turns on every `VirtualClock`'s checks before each jump
#: (`1`; `0` or unset leaves them off); a clock's `checks` argument overrides it.
CHECKS_VARIABLE = "PACKLINE_CLOCK_CHECKS"


class ClockTimeout(TimeoutError):
    """A wait measured on a `Clock` ran out."""


class UnobservableLoop(RuntimeError):
    """The running event loop does not let a `VirtualClock` see whether any task is runnable."""


class ClockCheckFailed(RuntimeError):
    """A `VirtualClock` with checks on found work in flight when it was about to jump.

    The sleepers the jump would have woken get this error instead, and time stays where it was.
    """


@runtime_checkable
class SupportsFileno(Protocol):
    """An open file, socket or pty end: `fileno()` is its descriptor, negative once closed."""

    def fileno(self) -> int: ...


#: A server's end of a connection, as it hands it to `Clock.watch_served`: the asyncio
#: transport of an accepted connection, or a socket or other object with `fileno()`.
ServedEnd = asyncio.BaseTransport | SupportsFileno


class Clock(Protocol):
    """What drivers, simulated tools and the engine need of time."""

    #: How many seconds of this clock pass in a second of the run clock a run's records keep,
    #: the scale their readers multiply them by (`recorded_station.process_time`): 1 on the
    #: wall clock and on a dry run's virtual clock (its records keep its simulated time), S on
    #: a line served S times as fast as the wall clock (`ScaledClock`).
    time_scale: float
    #: Where the simulated tools of this process and the links on this clock meet in memory
    #: (`packline.memory_wires`); None: over the wire only.
    wires: MemoryWires | None

    def now(self) -> float:
        """Seconds since an arbitrary origin; differences are process time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` of process time pass."""
        ...

    def timer(self, seconds: float) -> asyncio.Future[None]:
        """A future done once `seconds` of process time have passed (cancelling it stops it):
        a bound on a wait that costs no task of its own (`wait_for`, a link's held reply)."""
        ...

    def activity(self) -> AbstractContextManager[None]:
        """Mark work in flight that a virtual clock must not jump over (a wire exchange)."""
        ...

    def exchange(self) -> AbstractAsyncContextManager[None]:
        """Mark one wire exchange, from its request to its reply read: work in flight (as
        `activity`) that a virtual clock lets go on, once its reply is in, in the order the
        exchanges began, so a dry run does the same things in the same order every time."""
        ...

    def watch_served(self, end: ServedEnd) -> None:
        """Register a server's end of a connection whose unread bytes a checking clock watches.

        A simulated tool's server calls it for every connection it accepts; a closed end drops
        out by itself. Clocks that never jump ignore it.
        """
        ...


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    """Await `awaitable`, giving up after `timeout_s` of the clock's time.

    Raises `ClockTimeout` naming `what`; the awaitable is cancelled then. It runs in the
    caller's task, which the clock's `timer` cancels when the time is up (as `asyncio.timeout`
    does): no task of its own, and no loop pass to go on after it.
    """
    try:
        bound = _TimeBound(clock.timer(timeout_s))
    except BaseException:  # a bound refused (NaN, no task): the awaitable is not awaited
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise
    try:
        result = await awaitable
    except BaseException:
        if not bound.ran_out():
            raise
    else:
        if not bound.ran_out():
            return result
    bound.timer.result()  # a clock that refused its jump (`ClockCheckFailed`) says so here
    raise ClockTimeout(f"{what}: no result within {timeout_s:g} s") from None


class _TimeBound:
    """`wait_for`'s bound on the task running it: when `timer` is done first, the task is
    cancelled, and that cancellation, taken back, is the wait running out (`ran_out`)."""

    __slots__ = ("_cancelling", "_expired", "_task", "timer")

    def __init__(self, timer: asyncio.Future[None]) -> None:
        # The timer's loop is the running one: asked of it, the running loop is not looked up
        # again (which costs a system call, `getpid`, on every wait).
        task = asyncio.current_task(timer.get_loop())
        if task is None:
            timer.cancel()
            raise RuntimeError("wait_for runs in a task")
        self._task: asyncio.Task[Any] | None = task
        self._cancelling = task.cancelling()
        self._expired = False
        self.timer = timer
        timer.add_done_callback(self._expire)

    def _expire(self, timer: asyncio.Future[None]) -> None:
        if timer.cancelled():
            return
        timer.exception()  # seen: `wait_for` raises it when the wait ran out, else none will
        if self._task is not None:
            self._expired = True
            self._task.cancel()

    def ran_out(self) -> bool:
        """The wait is over: whether its time ran out (the timer cancelled the task, and no
        one else did: their cancellation goes on). The timer is stopped either way."""
        task, self._task = self._task, None
        self.timer.remove_done_callback(self._expire)  # stopped, it costs no callback
        self.timer.cancel()
        return self._expired and task is not None and task.uncancel() <= self._cancelling


class WallClock:
    """The real clock: monotonic seconds and `asyncio.sleep`."""

    time_scale = 1.0
    wires: MemoryWires | None = None

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        if math.isnan(seconds):
            raise ValueError("cannot sleep for NaN seconds")
        await asyncio.sleep(max(0.0, seconds))

    def timer(self, seconds: float) -> asyncio.Future[None]:
        return _loop_timer(seconds)

    def activity(self) -> AbstractContextManager[None]:
        return nullcontext()

    def exchange(self) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    def watch_served(self, end: ServedEnd) -> None:
        _watchable(end)  # refused alike on every clock; nothing to watch without jumps


class ScaledClock:
    """The wall clock, sped up: process time passes `time_scale` times as fast as wall time.

    For a standalone simulated line driven from another process (`packline sim serve
    --time-scale 60`): a 10-minute clean takes 10 seconds. A run on that line waits on the same
    pace (`clock_at`, decision 0125), so its holds and poll intervals pass in the line's time.
    """

    wires: MemoryWires | None = None

    def __init__(self, time_scale: float) -> None:
        if not (math.isfinite(time_scale) and time_scale > 0):
            raise ValueError(f"time scale must be a positive number, got {time_scale!r}")
        self.time_scale = time_scale
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.time_scale

    async def sleep(self, seconds: float) -> None:
        if math.isnan(seconds):
            raise ValueError("cannot sleep for NaN seconds")
        await asyncio.sleep(max(0.0, seconds) / self.time_scale)

    def timer(self, seconds: float) -> asyncio.Future[None]:
        return _loop_timer(seconds / self.time_scale)

    def activity(self) -> AbstractContextManager[None]:
        return nullcontext()

    def exchange(self) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    def watch_served(self, end: ServedEnd) -> None:
        _watchable(end)  # refused alike on every clock; nothing to watch without jumps


def clock_at(time_scale: float) -> Clock:
    """The clock of a line whose process time passes `time_scale` times as fast as wall time:
    the wall clock at 1 (real tools), else the wall clock sped up as much (`ScaledClock`; a
    scale that is not a positive number is a ValueError)."""
    return WallClock() if time_scale == 1.0 else ScaledClock(time_scale)


def _loop_timer(delay_s: float) -> asyncio.Future[None]:
    """A future the running loop completes `delay_s` of wall time from now (at once for a
    delay past; NaN refused); cancelling it cancels the loop's timer."""
    if math.isnan(delay_s):
        raise ValueError("cannot time NaN seconds")
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    handle = loop.call_later(max(0.0, delay_s), _complete, future)
    future.add_done_callback(lambda _: handle.cancel())
    return future


def _complete(future: asyncio.Future[None]) -> None:
    """Complete a timer's `future` (unless it was cancelled meanwhile)."""
    if not future.done():
        future.set_result(None)


def ready_queue(loop: asyncio.AbstractEventLoop) -> collections.deque[asyncio.Handle]:
    """The queue of callbacks `loop` is about to run, where a virtual clock sees woken tasks
    (and `packline.tasks.step_now` the step a protocol's callback just queued).

    asyncio has no public way to ask whether anything is runnable. CPython's own loops
    (`asyncio.BaseEventLoop`: the selector and proactor loops) keep their ready callbacks in the
    deque `_ready`; any other loop (uvloop, a framework's own) is refused here, because a clock
    that cannot see a woken task could jump before that task has run.
    """
    ready = getattr(loop, "_ready", None)
    if isinstance(loop, asyncio.BaseEventLoop) and isinstance(ready, collections.deque):
        return ready
    loop_class = f"{type(loop).__module__}.{type(loop).__qualname__}"
    raise UnobservableLoop(
        f"VirtualClock cannot run on the event loop {loop_class}: it must see whether a task "
        "is ready to run before it jumps, which it reads from the ready queue (`_ready`) of "
        "CPython's asyncio.BaseEventLoop; run the dry run on the default asyncio loop"
    )


def _check_finite(seconds: float) -> None:
    """Refuse a virtual wait that is not finite: NaN would corrupt the wake-up heap, infinity
    would make the clock jump to it."""
    if not math.isfinite(seconds):
        raise ValueError(f"a virtual clock sleeps a finite time, not {seconds!r} s")


def _checks_from_environment() -> bool:
    """Whether `CHECKS_VARIABLE` turns the checks on; anything but 1, 0 or unset is refused."""
    value = os.environ.get(CHECKS_VARIABLE, "")
    if value not in ("", "0", "1"):
        raise ValueError(f"{CHECKS_VARIABLE} must be 1 (check every jump) or 0, got {value!r}")
    return value == "1"


def _watchable(end: ServedEnd) -> SupportsFileno | None:
    """What holds `end`'s unread bytes (None for an in-memory end, whose bytes in flight are
    callbacks in the ready queue); refuses an end whose unread bytes cannot be counted."""
    if isinstance(end, MemoryTransport):
        return None
    if isinstance(end, asyncio.BaseTransport):
        held: SupportsFileno | None = end.get_extra_info("socket") or end.get_extra_info("pipe")
        if held is None:
            raise TypeError(f"watch_served: {end!r} has no socket or pipe to watch")
    elif isinstance(end, SupportsFileno) and not isinstance(end, int):
        held = end
    else:
        raise TypeError(
            f"watch_served takes a transport or an object with fileno(), not "
            f"{type(end).__name__} (a bare descriptor number is reused once its file closes)"
        )
    try:
        _unread_bytes(held.fileno())
    except OSError as error:
        raise ValueError(f"watch_served: cannot count unread bytes on {end!r}: {error}") from None
    return held


def _unread_bytes(descriptor: int) -> int:
    """Bytes received on `descriptor` that no reader has taken yet (FIONREAD)."""
    answer = fcntl.ioctl(descriptor, termios.FIONREAD, struct.pack("i", 0))
    unread: int = struct.unpack("i", answer)[0]
    return unread


def _describe(held: SupportsFileno) -> str:
    """`held` in an error message: its addresses when it is a connected socket."""
    if not isinstance(held, socket.socket | TransportSocket):
        return repr(held)
    try:
        return f"served socket {held.getsockname()} (peer {held.getpeername()})"
    except OSError:  # not connected
        return f"served socket {held.getsockname()}"


@dataclass(frozen=True)
class _Served:
    """One registered server end: what closes it and where its unread bytes are counted."""

    end: ServedEnd
    held: SupportsFileno
    label: str

    @cached_property
    def socket(self) -> bool:
        """Whether it is a socket, whose bytes are in its peer's receive queue once `send`
        returns (loopback); a pty's reach the other end later, from the tty layer's worker.
        (Asked before every jump and by every exchange alone, `VirtualClock._quiet_passes`:
        worked out once.)"""
        return isinstance(self.held, socket.socket | TransportSocket)

    def closed(self) -> bool:
        if isinstance(self.end, asyncio.BaseTransport) and self.end.is_closing():
            return True
        try:
            return self.held.fileno() < 0
        except (OSError, ValueError):  # a closed file object refuses fileno()
            return True


def running_task() -> asyncio.Task[Any] | None:
    """The task running now; None when called from a callback or with no loop running."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop: called from plain synchronous code
        return None


_Step = TypeVar("_Step", bound=Callable[..., None])


def _settling_step(step: _Step) -> _Step:
    """A callback of the virtual clock's settling (`VirtualClock._settle`) that leaves none
    behind if it fails: the next sleeper starts settling afresh, where a settling marked as
    going on with nothing queued would leave every later sleeper of its loop asleep."""

    @functools.wraps(step)
    def settling(clock: VirtualClock, *args: Any) -> None:
        try:
            step(clock, *args)
        except BaseException:
            clock._settling_on = None
            raise

    return cast(_Step, settling)


class VirtualClock:
    """A discrete-event clock for dry runs with every simulated tool in this process.

    Time stands still while anything runs; when every task is blocked and no wire exchange is
    in flight (see `activity`), the clock jumps to the earliest pending `sleep` and wakes it.
    Before each jump the loop must pass `settle_iterations` times in a row with nothing queued
    to run (a woken task not yet resumed keeps the clock where it is) and no new sleeper, so
    that loopback I/O and freshly woken tasks have run; with `wires_in_memory` (a dry run's
    clock: `wires`, where its tools and links meet in memory) fewer passes (`_quiet_passes`),
    the pass it begins to wait in counting (`_quiet_already`).
    Tasks that wait on something other than this clock or the wire (a lock held by a sleeping
    task, a queue fed by one) are fine: they follow the sleeper.

    The clock reads the running loop's ready queue, so it runs only on CPython's asyncio loops:
    its first `sleep` on another loop raises `UnobservableLoop`. With `checks` (default: the
    environment variable `PACKLINE_CLOCK_CHECKS=1`) it verifies before each jump that no
    exchange is open and that no served end registered with `watch_served` holds unread bytes;
    if either is found, the sleepers that jump would wake raise `ClockCheckFailed` saying what.
    """

    time_scale = 1.0

    def __init__(
        self,
        start_s: float = 0.0,
        settle_iterations: int = 8,
        *,
        checks: bool | None = None,
        wires_in_memory: bool = False,
    ) -> None:
        if not math.isfinite(start_s):
            raise ValueError(f"a virtual clock starts at a finite time, not {start_s!r} s")
        if isinstance(settle_iterations, bool) or not isinstance(settle_iterations, int):
            raise TypeError(f"settle_iterations must be an int, got {settle_iterations!r}")
        if settle_iterations < 0:
            raise ValueError(f"settle_iterations must be 0 or more, got {settle_iterations}")
        self._now = start_s
        self._settle_iterations = settle_iterations
        self.wires = MemoryWires() if wires_in_memory else None
        self._checks = _checks_from_environment() if checks is None else checks
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._exchanges: dict[_Activity, None] = {}  # open, in the order they opened
        self._served: list[_Served] = []
        self._epoch = 0
        #: How many activities have ended: each may have left bytes on a socket that only the
        #: loop's next select sees.
        self._ended = 0
        #: `_ended` as the clock began to settle, started by a new sleeper.
        self._ended_at_start = 0
        #: The loop the clock settles on towards its next jump (`_settle`), from a new
        #: sleeper until no sleeper is left; None while it does not.
        self._settling_on: asyncio.AbstractEventLoop | None = None
        #: While settling waits for the last activity open to end: `_ended` once it has.
        self._idle_at: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: Sized = ()
        #: The exchanges begun and not yet gone on, in the order they began: whether each
        #: one's reply is in (`exchange`).
        self._turns: dict[asyncio.Future[None], bool] = {}
        #: The timers among the sleepers (`timer`): whether each was put back once at its
        #: instant. One leaves as the clock takes it off the heap (done, or cancelled), which
        #: costs no callback of the loop.
        self._timers: dict[asyncio.Future[None], bool] = {}

    @property
    def checks(self) -> bool:
        """Whether the clock checks for work in flight before each jump; fixed as the clock is
        made (an activity names its task for the check's message only with them on)."""
        return self._checks

    def now(self) -> float:
        return self._now

    def _bind(self) -> asyncio.AbstractEventLoop:
        """The running loop, whose ready queue the clock watches."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._ready = ready_queue(loop)
            self._loop = loop
        return loop

    async def sleep(self, seconds: float) -> None:
        loop = self._bind()
        _check_finite(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        await self._wake_up(loop, seconds)

    def timer(self, seconds: float) -> asyncio.Future[None]:
        """A future done once the clock has jumped `seconds` on, after the sleepers due at
        that instant and what they wake have settled: a wait whose result comes at its
        bound's very instant gets its result, not a timeout (as on the wall clock, where a
        result in before the timer's callback runs wins)."""
        loop = self._bind()
        _check_finite(seconds)
        if seconds > 0:
            timer = self._wake_up(loop, seconds)
            self._timers[timer] = False
            return timer
        future: asyncio.Future[None] = loop.create_future()
        loop.call_soon(_complete, future)  # as `sleep(0)`: after what is queued now
        return future

    def _wake_up(self, loop: asyncio.AbstractEventLoop, seconds: float) -> asyncio.Future[None]:
        """A sleeper's future, which the clock completes when it has jumped `seconds` on."""
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        self._epoch += 1
        if self._settling_on is not loop:
            self._settling_on = loop
            self._ended_at_start = self._ended
            loop.call_soon(self._begin_settling, loop)
        return future

    def activity(self) -> AbstractContextManager[None]:
        return _Activity(self)

    def exchange(self) -> AbstractAsyncContextManager[None]:
        return _Exchange(self)

    def _take_turn(self) -> asyncio.Future[None]:
        """An exchange begins: its place in the order exchanges go on in (`_wait_turn`)."""
        loop = self._bind()
        turn: asyncio.Future[None] = loop.create_future()
        self._turns[turn] = False
        return turn

    async def _wait_turn(self, turn: asyncio.Future[None], ended: int) -> None:
        """An exchange's reply is in: its task goes on in the order the exchanges began, once
        its exchange is the first and nothing else can run (every task has gone as far as it
        can, so what the task does next comes after all of that). A reply's arrival is the
        one thing of a dry run whose order the operating system decides (a pty's, a
        socket's); the tasks' order of going on after it is the clock's.

        The task looks for itself, a pass of the loop after each look; one behind the first
        waits on its turn, which `_end_turn` of the one before it sets. An exchange alone
        (`_alone`; `ended` is `_ended` as it began) goes on at once: nothing could come
        before it."""
        self._turns[turn] = True
        try:
            if next(iter(self._turns)) is not turn:
                await turn
            while not self._alone(ended):
                await asyncio.sleep(0)
                if not self._ready and next(iter(self._turns)) is turn:
                    return
        finally:
            self._end_turn(turn)

    def _alone(self, ended: int) -> bool:
        """Whether the one exchange open (the caller's) is the only one begun, no activity
        has ended since it began (`ended`: none left bytes for the next select), nothing is
        queued to run and, with the wires in memory and no pty served (`_quiet_passes`),
        nothing is on its way: whatever else the dry run does waits on the clock, so what the
        exchange's task does next comes after all of it now as surely as after more passes
        of the loop."""
        return (
            len(self._turns) == 1
            and len(self._exchanges) == 1
            and self._ended == ended
            and not self._ready
            and self.wires is not None
            and not self.wires.in_flight
            and self._quiet_passes() <= 1
        )

    def _end_turn(self, turn: asyncio.Future[None]) -> None:
        """`turn` is over (gone on, or cancelled: an abort): when it was the first, the
        exchange begun next, if its reply is in, looks for its turn (`_wait_turn`)."""
        first = next(iter(self._turns), None)
        self._turns.pop(turn, None)
        if first is turn and self._turns:
            after, arrived = next(iter(self._turns.items()))
            if arrived and not after.done():
                after.set_result(None)

    def watch_served(self, end: ServedEnd) -> None:
        held = _watchable(end)
        if held is not None:
            self._served = [served for served in self._served if not served.closed()]
            self._served.append(_Served(end, held, _describe(held)))

    def _has_sleepers(self) -> bool:
        while self._sleepers and self._sleepers[0][2].done():
            _, _, cancelled = heapq.heappop(self._sleepers)
            self._timers.pop(cancelled, None)
        return bool(self._sleepers)

    def _jump(self) -> None:
        """Jump to the earliest sleeper's time and wake every sleeper due then (a timer after
        what its instant woke, `timer`); with the checks on and work in flight, give them
        `ClockCheckFailed` instead, time unchanged."""
        target_s = max(self._now, self._sleepers[0][0])
        in_flight = self._work_in_flight() if self._checks else []
        if not in_flight:
            self._now = target_s
        woken = False
        timers: list[asyncio.Future[None]] = []
        while self._sleepers and self._sleepers[0][0] <= target_s:
            _, _, future = heapq.heappop(self._sleepers)
            put_back = self._timers.pop(future, None)
            if future.done():
                continue
            if in_flight:
                future.set_exception(
                    ClockCheckFailed(
                        f"virtual clock: no jump from {self._now:g} s to {target_s:g} s "
                        f"with work in flight: {'; '.join(in_flight)}"
                    )
                )
            elif put_back is False:
                timers.append(future)
            else:
                future.set_result(None)
                woken = True
        for timer in timers:
            if woken:  # a timer is done after what its instant woke (`timer`)
                self._timers[timer] = True
                heapq.heappush(self._sleepers, (target_s, next(self._order), timer))
            else:
                timer.set_result(None)
        self._epoch += 1

    def _work_in_flight(self) -> list[str]:
        """What a jump now would skip: open exchanges and served ends with unread bytes."""
        found = [f"exchange open, {exchange}" for exchange in self._exchanges]
        if self.wires is not None and self.wires.in_flight:
            found.append("bytes on their way in memory")
        self._served = [served for served in self._served if not served.closed()]
        for served in self._served:
            unread = _unread_bytes(served.held.fileno())
            if unread:
                found.append(f"{served.label} has {unread} unread bytes")
        return found

    def _quiet_passes(self) -> int:
        """The quiet passes of the loop a jump waits for: `settle_iterations`; with the wires
        in memory (`wires`), whose bytes on their way it sees, one (what goes over a socket is
        written inside an activity, whose end starts the count again on a pass that looks at
        the wire, decision 0063), but `settle_iterations` while a pty is served (the tty
        layer delivers its bytes later)."""
        if self.wires is None:
            return self._settle_iterations
        for served in self._served:
            if not served.socket and not served.closed():
                return self._settle_iterations
        return min(1, self._settle_iterations)

    @_settling_step
    def _begin_settling(self, loop: asyncio.AbstractEventLoop) -> None:
        """Settle towards the next jump, as a new sleeper started it or after a jump."""
        self._settle(loop, self._quiet_already(self._ended_at_start), self._quiet_passes())

    def _settle(self, loop: asyncio.AbstractEventLoop, quiet: int, needed: int) -> None:
        """Jump once the loop has passed `needed` times in a row with nothing to run (`quiet`
        so far), then settle towards the next jump, until no sleeper is left.

        Callbacks of the loop, not a task: where a task would wait a pass (`sleep(0)`) or for
        the last activity open to end, the clock queues its next look (`_after_pass`,
        `_after_idle`) where that task's wake-up would be queued, so it looks in the same
        passes and at the same places in them as a task would, without a task's step and
        future on each (docs/decisions/0089)."""
        while True:
            if quiet < needed and self._has_sleepers():
                if self._exchanges:
                    # Woken by the end of the last activity open: none other may end before.
                    self._idle_at = self._ended + 1
                else:
                    loop.call_soon(self._after_pass, loop, self._epoch, quiet, needed)
                return
            if not self._has_sleepers():
                self._settling_on = None
                return
            self._jump()
            quiet, needed = self._quiet_already(self._ended_at_start), self._quiet_passes()

    @_settling_step
    def _after_pass(
        self, loop: asyncio.AbstractEventLoop, epoch: int, quiet: int, needed: int
    ) -> None:
        """A pass of the loop since the clock looked: quiet if nothing came (no new sleeper,
        activity or jump: `epoch`) and nothing is left to run."""
        if epoch == self._epoch and self._nothing_to_run():
            quiet += 1
        else:
            quiet, needed = 0, self._quiet_passes()
        self._settle(loop, quiet, needed)

    def _idle(self) -> None:
        """The last activity open ended while the clock's settling waited for it
        (`_idle_at`): it looks again a pass on (`_after_idle`), as a task woken now would."""
        ended, self._idle_at = self._idle_at, None
        if (loop := self._settling_on) is not None and ended is not None:
            loop.call_soon(self._after_idle, loop, ended)

    @_settling_step
    def _after_idle(self, loop: asyncio.AbstractEventLoop, ended: int) -> None:
        """Settle on after the last activity open ended (`ended`: `_ended` then)."""
        self._settle(loop, self._quiet_already(ended), self._quiet_passes())

    def _quiet_already(self, ended: int) -> int:
        """The quiet passes the clock counts as it begins to settle, started by a new sleeper
        or woken by the last activity's end in an earlier pass: with the wires in memory, the
        pass it runs in is one when no activity has ended since (`_ended` is still `ended`)
        and nothing is queued after it nor on its way, since that pass began with a select
        after whatever started it and what ran since queued nothing; else none."""
        return int(self.wires is not None and self._ended == ended and self._nothing_to_run())

    def _nothing_to_run(self) -> bool:
        """Whether no exchange is open, nothing is queued to run and no bytes are on their
        way in memory."""
        return (
            not self._exchanges
            and not self._ready
            and not (self.wires is not None and self.wires.in_flight)
        )


class _Exchange:
    """One `VirtualClock.exchange()`: an activity from its request to its reply read, whose
    task goes on after it in its turn (`VirtualClock._wait_turn`). A cancelled one (an abort)
    goes on at once: its order is the abort's."""

    __slots__ = ("_activity", "_clock", "_ended", "_turn")

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._activity = _Activity(clock)
        self._turn: asyncio.Future[None] | None = None
        self._ended = 0

    async def __aenter__(self) -> None:
        self._activity.__enter__()
        self._turn = self._clock._take_turn()
        self._ended = self._clock._ended

    async def __aexit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        turn = self._turn
        try:
            if turn is not None:
                if kind is not None and issubclass(kind, asyncio.CancelledError):
                    self._clock._end_turn(turn)
                else:
                    await self._clock._wait_turn(turn, self._ended)
        finally:
            self._activity.__exit__(kind, *exc_info)


class _Activity:
    """One `VirtualClock.activity()`, an exchange in flight from `__enter__` to `__exit__`:
    who opened it and when, for a failed check's message (the task only with the clock's
    checks on: nothing else reads it, and looking it up costs every exchange a system call).

    A class rather than a generator-based context manager: every wire exchange of a dry run
    opens one, and this costs less than two thirds as much.
    """

    __slots__ = ("_clock", "_opened_at_s", "_task")

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> None:
        clock = self._clock
        self._opened_at_s = clock.now()
        if clock._checks:
            self._task = running_task()
        clock._exchanges[self] = None

    def __exit__(self, *exc_info: object) -> None:
        clock = self._clock
        del clock._exchanges[self]
        clock._epoch += 1
        clock._ended += 1
        if not clock._exchanges and clock._idle_at is not None:
            clock._idle()

    def __str__(self) -> str:
        where = f"task {self._task.get_name()!r}" if self._task is not None else "outside a task"
        return f"opened by {where} at {self._opened_at_s:g} s"
