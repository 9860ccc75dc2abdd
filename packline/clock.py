"""Process time: the wall clock on real tools, a virtual clock on the in-process simulated line.

Drivers and sequences measure process time (a recipe step, a cure, a poll interval, a batch
timeout) on a `Clock`, never on `time` or `asyncio.sleep` directly. Against real tools that is
the wall clock. In a dry run with the simulated line in the same process it is a `VirtualClock`:
a discrete-event clock that jumps to the next wake-up as soon as every task is waiting on it, so
a 60-minute cure costs only the computation around it, and several wafers on several tools still
overlap in simulated time exactly as they would on the line.

I/O timeouts (a tool that does not answer) stay on the wall clock: they guard the wire, not the
process.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

T = TypeVar("T")


class ClockTimeout(TimeoutError):
    """A wait measured on a `Clock` ran out."""


class Clock(Protocol):
    """What drivers, simulated tools and the engine need of time."""

    simulated: bool

    def now(self) -> float:
        """Seconds since an arbitrary origin; differences are process time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` of process time pass."""
        ...

    @contextmanager
    def activity(self) -> Iterator[None]:
        """Mark work in flight that a virtual clock must not jump over (a wire exchange)."""
        ...


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout_s: float, what: str) -> T:
    """Await `awaitable`, giving up after `timeout_s` of the clock's time.

    Raises `ClockTimeout` naming `what`; the awaitable is cancelled then.
    """
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(timeout_s))
    try:
        done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        timer.cancel()
        await asyncio.gather(task, timer, return_exceptions=True)
        raise
    timer.cancel()
    await asyncio.gather(timer, return_exceptions=True)
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise ClockTimeout(f"{what}: no result within {timeout_s:g} s")


class WallClock:
    """The real clock: monotonic seconds and `asyncio.sleep`."""

    simulated = False

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        if math.isnan(seconds):
            raise ValueError("cannot sleep for NaN seconds")
        await asyncio.sleep(max(0.0, seconds))

    @contextmanager
    def activity(self) -> Iterator[None]:
        yield


class ScaledClock:
    """The wall clock, sped up: process time passes `factor` times as fast as wall time.

    For a standalone simulated line driven from another process (`packline sim serve
    --time-scale 60`): a 10-minute clean takes 10 seconds, while the drivers on the other side
    keep their wall clock and simply see a fast tool.
    """

    simulated = True

    def __init__(self, factor: float) -> None:
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"time scale must be a positive number, got {factor!r}")
        self.factor = factor
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.factor

    async def sleep(self, seconds: float) -> None:
        if math.isnan(seconds):
            raise ValueError("cannot sleep for NaN seconds")
        await asyncio.sleep(max(0.0, seconds) / self.factor)

    @contextmanager
    def activity(self) -> Iterator[None]:
        yield


def _callbacks_ready() -> bool:
    """Whether the running loop has callbacks queued to run (a woken task not yet resumed).

    Read from the loop's ready queue where the loop has one (CPython's event loops do); a loop
    without it leaves the decision to the quiet passes alone.
    """
    ready = getattr(asyncio.get_running_loop(), "_ready", None)
    return bool(ready)


class VirtualClock:
    """A discrete-event clock for dry runs with every simulated tool in this process.

    Time stands still while anything runs; when every task is blocked and no wire exchange is
    in flight (see `activity`), the clock jumps to the earliest pending `sleep` and wakes it.
    Before each jump the loop must pass `settle_iterations` times in a row with nothing queued
    to run (a woken task not yet resumed keeps the clock where it is) and no new sleeper, so
    that loopback I/O and freshly woken tasks have run. Tasks that wait on something other than
    this clock or the wire (a lock held by a sleeping task, a queue fed by one) are fine: they
    follow the sleeper.
    """

    simulated = True

    def __init__(self, start_s: float = 0.0, settle_iterations: int = 8) -> None:
        self._now = start_s
        self._settle_iterations = settle_iterations
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._busy = 0
        self._epoch = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._advancer: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if not math.isfinite(seconds):
            # NaN would corrupt the wake-up heap; infinity would make the clock jump to it.
            raise ValueError(f"a virtual clock sleeps a finite time, not {seconds!r} s")
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        self._epoch += 1
        if self._advancer is None or self._advancer.done():
            self._advancer = asyncio.get_running_loop().create_task(
                self._advance(), name="packline-virtual-clock"
            )
        await future

    @contextmanager
    def activity(self) -> Iterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            self._epoch += 1
            if self._busy == 0:
                self._idle.set()

    def _has_sleepers(self) -> bool:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleepers
        return bool(self._sleepers)

    async def _advance(self) -> None:
        while True:
            await self._settle()
            if not self._has_sleepers():
                return
            self._now = max(self._now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
            self._epoch += 1

    async def _settle(self) -> None:
        quiet = 0
        while quiet < self._settle_iterations and self._has_sleepers():
            if self._busy:
                await self._idle.wait()
                quiet = 0
                continue
            epoch = self._epoch
            await asyncio.sleep(0)
            settled = epoch == self._epoch and not self._busy and not _callbacks_ready()
            quiet = quiet + 1 if settled else 0
