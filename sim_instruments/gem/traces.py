"""Trace data collection on the simulated GEM equipment (E30 4.2.3; S2F23, S6F1).

The host asks for a trace (S2F23: TRID, sample period DSPER, total samples TOTSMP, report
group size REPGSZ, SVIDs); the equipment then samples those status variables every period on
its own clock (the line's: a virtual clock's traces cost no wall time) and sends each group of
REPGSZ samples as one S6F1, its SMPLN and STIME those of the group's last sample. A trace ends
after TOTSMP samples, when the host sends TOTSMP 0 for its TRID (the samples not yet reported
are sent first), or when the equipment stops; an S2F23 for a TRID that runs replaces it. What
the equipment takes (how many traces, SVIDs, the shortest period) is its dictionary's `trace`;
more is refused with TIAACK 2, 1 and 3. While no host is selected the samples are dropped.

A sample is the tool's state at its instant, but the equipment does not wake for each: the
tool reads the time through a `SampledClock`, which takes every sample due first, each with
the time held at its instant, whenever anything asks the tool's time (a look at the tool: a
query, a command, a fault, its watcher); and a trace wakes when a report is due (its group's
last sample). So the samples are what they would be if taken each at its instant, in the same
order among the tool's other looks, and a virtual clock jumps once a report, not once a sample.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from packline.clock import Clock, ServedEnd
from packline.drivers.errors import ToolError
from packline.drivers.gem.entries import TraceCapacity
from packline.drivers.secs.data_items import parse_period
from packline.drivers.secs.items import U4, A, B, Item, L

from .bodies import Malformed, ids_of, list_of, scalar

log = logging.getLogger(__name__)


class SampledClock:
    """The line's clock as a simulated GEM tool and its equipment read it: the line's time,
    but what is due by then (a trace's samples: `due_s`, `take_due`) is taken first, each with
    the time held at its own instant (`at`). Waits are the line's."""

    def __init__(self, line: Clock) -> None:
        self.line = line
        self.time_scale = line.time_scale
        self.wires = line.wires
        #: The earliest instant something is due (infinity: nothing), and what takes every
        #: due thing up to the instant it is given, in order.
        self.due_s = math.inf
        self.take_due: Callable[[float], None] = lambda now: None
        self._held: float | None = None
        #: How many times the time was held (`at`): the number of the sample being taken.
        self._holds = 0

    def now(self) -> float:
        if self._held is not None:
            return self._held
        now = self.line.now()
        if self.due_s <= now:
            self.take_due(now)
        return now

    @contextmanager
    def at(self, instant_s: float) -> Iterator[None]:
        """The time held at `instant_s` (nothing due is taken meanwhile)."""
        self._held = instant_s
        self._holds += 1
        try:
            yield
        finally:
            self._held = None

    @property
    def holding(self) -> int | None:
        """While the time is held (`at`: a sample being taken, synchronously, so that nothing
        else changes the tool meanwhile), which hold it is; else None."""
        return None if self._held is None else self._holds

    async def sleep(self, seconds: float) -> None:
        await self.line.sleep(seconds)

    def timer(self, seconds: float) -> asyncio.Future[None]:
        return self.line.timer(seconds)

    def activity(self) -> AbstractContextManager[None]:
        return self.line.activity()

    def exchange(self) -> AbstractAsyncContextManager[None]:
        return self.line.exchange()

    def watch_served(self, end: ServedEnd) -> None:
        self.line.watch_served(end)


@dataclass
class _Trace:
    """One running trace: what the host asked, when its next sample is due, and the samples
    not yet reported."""

    trid: Any
    svids: list[Any]
    period_s: float
    total: int
    group: int
    first_s: float
    #: The next sample's instant: the last one's, plus the time to the next's due instant
    #: (its number's periods after the first's).
    next_s: float
    taken: int = 0
    pending: list[list[Item]] = field(default_factory=list)
    time: str = ""
    task: asyncio.Task[None] | None = None

    def after(self, instant_s: float, taken: int) -> float:
        """The instant of the sample after the one taken at `instant_s` (`taken` so far)."""
        return instant_s + max(self.first_s + taken * self.period_s - instant_s, 0.0)


def _count(value: Item) -> int:
    """TOTSMP and REPGSZ: an integer, or one written as text (E5 allows both)."""
    raw = scalar(value)
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Malformed(f"expected a count, got {value.format.name}")
    return raw


class Traces:
    """The traces the host initialized, their samples taken on `clock` (the tool's) and each
    reported by a task of its own.

    `sample(svid)` is a status variable's item now, `time()` the equipment's TIME now, and
    `send(body)` sends an S6F1 with that body to the host (waiting for its S6F2), `id_item(id)`
    is an id as the dictionary's id format has it. With `wake_each_sample` each trace wakes at
    every sample's instant too (a tool whose looks may latch an alarm to push at once).
    """

    def __init__(
        self,
        capacity: TraceCapacity,
        svids: Collection[Any],
        clock: SampledClock,
        *,
        sample: Callable[[Any], Item],
        time: Callable[[], str],
        send: Callable[[Item], Awaitable[None]],
        id_item: Callable[[Any], Item],
        tool: str,
        wake_each_sample: bool = False,
    ) -> None:
        self.capacity = capacity
        self._svids = svids
        self._clock = clock
        clock.take_due = self._take_due
        self._sample = sample
        self._time = time
        self._send = send
        self._id_item = id_item
        self._tool = tool
        self._wake_each_sample = wake_each_sample
        #: The traces still sampling, by TRID.
        self.running: dict[Any, _Trace] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def initialize(self, body: Item | None) -> Item:
        """S2F23 in, its TIAACK out: start (or replace, or with TOTSMP 0 end) a trace."""
        trid_item, dsper, totsmp, repgsz, svid_list = list_of(body, 5)
        trid, total, group = scalar(trid_item), _count(totsmp), _count(repgsz)
        svids = ids_of(svid_list)
        if total == 0:
            await self.end(trid)
            return B(b"\x00")
        capacity = self.capacity
        if len(svids) > capacity.max_variables:
            return B(b"\x01")
        if trid not in self.running and len(self.running) >= capacity.max_traces:
            return B(b"\x02")
        try:
            period_s = parse_period(str(scalar(dsper)))
        except ValueError:
            return B(b"\x03")
        if period_s < capacity.min_period_s:
            return B(b"\x03")
        if not svids or any(svid not in self._svids for svid in svids):
            return B(b"\x04")
        if not 1 <= group <= total:
            return B(b"\x05")
        await self.end(trid)
        now = self._clock.now()
        trace = _Trace(trid, svids, period_s, total, group, first_s=now, next_s=now)
        trace.task = asyncio.get_running_loop().create_task(
            self._run(trace), name=f"{self._tool} trace {trid}"
        )
        self._tasks.add(trace.task)
        trace.task.add_done_callback(self._tasks.discard)
        self.running[trid] = trace
        self._clock.due_s = min(self._clock.due_s, now)
        return B(b"\x00")

    async def end(self, trid: Any) -> None:
        """End trace `trid` (if it runs), sending the samples it has not reported."""
        if trid not in self.running:
            return
        self._clock.now()  # the samples due so far taken
        trace = self.running.pop(trid, None)
        self._due_again()
        if trace is None or trace.task is None:
            return
        trace.task.cancel()
        await asyncio.wait([trace.task])
        if trace.pending:
            await self._report(trace)

    async def stop(self) -> None:
        """End every trace without reporting (the equipment stops)."""
        self.running = {}
        self._due_again()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _take_due(self, now: float) -> None:
        """Take every running trace's samples due by `now`, the earliest first, each with the
        tool's time held at its instant."""
        running = self.running
        while running:
            trace = min(running.values(), key=lambda trace: trace.next_s)
            instant_s = trace.next_s
            if instant_s > now:
                break
            with self._clock.at(instant_s):
                trace.pending.append([self._sample(svid) for svid in trace.svids])
                trace.time = self._time()
            trace.taken += 1
            if trace.taken >= trace.total:
                del running[trace.trid]  # sampling is over once the last is taken
            else:
                trace.next_s = trace.after(instant_s, trace.taken)
        self._due_again()

    def _due_again(self) -> None:
        """The clock's next due instant: the earliest next sample of a running trace."""
        self._clock.due_s = min((trace.next_s for trace in self.running.values()), default=math.inf)

    async def _run(self, trace: _Trace) -> None:
        """Report the trace's samples: each full group once its last sample is due (waking at
        each sample with `wake_each_sample`), and the last group at the trace's end. The
        samples' instants: the first at once, then one every period from it (a report's wait
        for its S6F2 does not push the next later)."""
        while True:
            instant_s, taken = trace.next_s, trace.taken
            group_end = min(taken - len(trace.pending) + trace.group, trace.total)
            last = taken if self._wake_each_sample else group_end - 1  # the sample to wake at
            while taken < last:
                taken += 1
                instant_s = trace.after(instant_s, taken)
            line = self._clock.line
            await line.sleep(max(instant_s - line.now(), 0.0))
            self._clock.now()  # the samples due so far taken
            if trace.taken >= trace.total:
                await self._report(trace)
                return
            if len(trace.pending) >= trace.group:
                await self._report(trace)

    async def _report(self, trace: _Trace) -> None:
        """Send the trace's pending samples as one S6F1 (dropped, logged, if the host is gone)."""
        samples, trace.pending = trace.pending, []
        body = L(
            self._id_item(trace.trid),
            U4(trace.taken),
            A(trace.time),
            L(*(value for sample in samples for value in sample)),
        )
        try:
            await self._send(body)
        except ToolError as error:
            log.warning(
                "%s: trace %s to sample %d not reported: %s",
                self._tool,
                trace.trid,
                trace.taken,
                error,
            )
