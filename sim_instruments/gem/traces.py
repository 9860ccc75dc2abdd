"""Trace data collection on the simulated GEM equipment (E30 4.2.3; S2F23, S6F1).

The host asks for a trace (S2F23: TRID, sample period DSPER, total samples TOTSMP, report
group size REPGSZ, SVIDs); the equipment then samples those status variables every period on
its own clock (the line's: a virtual clock's traces cost no wall time) and sends each group of
REPGSZ samples as one S6F1, its SMPLN and STIME those of the group's last sample. A trace ends
after TOTSMP samples, when the host sends TOTSMP 0 for its TRID (the samples not yet reported
are sent first), or when the equipment stops; an S2F23 for a TRID that runs replaces it. What
the equipment takes (how many traces, SVIDs, the shortest period) is its dictionary's `trace`;
more is refused with TIAACK 2, 1 and 3. While no host is selected the samples are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from packline.clock import Clock
from packline.drivers.errors import ToolError
from packline.drivers.gem.entries import TraceCapacity
from packline.drivers.secs.data_items import parse_period
from packline.drivers.secs.items import U4, A, B, Item, L

from .bodies import Malformed, ids_of, list_of, scalar

log = logging.getLogger(__name__)


@dataclass
class _Trace:
    """One running trace: what the host asked, and the samples not yet reported."""

    trid: Any
    svids: list[Any]
    period_s: float
    total: int
    group: int
    taken: int = 0
    pending: list[list[Item]] = field(default_factory=list)
    time: str = ""
    task: asyncio.Task[None] | None = None


def _count(value: Item) -> int:
    """TOTSMP and REPGSZ: an integer, or one written as text (E5 allows both)."""
    raw = scalar(value)
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Malformed(f"expected a count, got {value.format.name}")
    return raw


class Traces:
    """The traces the host initialized, each sampled by a task of its own on `clock`.

    `sample(svid)` is a status variable's item now, `time()` the equipment's TIME now, and
    `send(body)` sends an S6F1 with that body to the host (waiting for its S6F2), `id_item(id)`
    is an id as the dictionary's id format has it.
    """

    def __init__(
        self,
        capacity: TraceCapacity,
        svids: Collection[Any],
        clock: Clock,
        *,
        sample: Callable[[Any], Item],
        time: Callable[[], str],
        send: Callable[[Item], Awaitable[None]],
        id_item: Callable[[Any], Item],
        tool: str,
    ) -> None:
        self.capacity = capacity
        self._svids = svids
        self._clock = clock
        self._sample = sample
        self._time = time
        self._send = send
        self._id_item = id_item
        self._tool = tool
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
        trace = _Trace(trid, svids, period_s, total, group)
        trace.task = asyncio.get_running_loop().create_task(
            self._run(trace), name=f"{self._tool} trace {trid}"
        )
        self._tasks.add(trace.task)
        trace.task.add_done_callback(self._tasks.discard)
        self.running[trid] = trace
        return B(b"\x00")

    async def end(self, trid: Any) -> None:
        """End trace `trid` (if it runs), sending the samples it has not reported."""
        trace = self.running.pop(trid, None)
        if trace is None or trace.task is None:
            return
        trace.task.cancel()
        await asyncio.wait([trace.task])
        if trace.pending:
            await self._report(trace)

    async def stop(self) -> None:
        """End every trace without reporting (the equipment stops)."""
        self.running = {}
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, trace: _Trace) -> None:
        """Take the trace's samples, the first at once, then one every period from it (a
        report's wait for its S6F2 does not push the next sample later); report each full
        group, and the last one at the end."""
        first_s = self._clock.now()
        while True:
            trace.pending.append([self._sample(svid) for svid in trace.svids])
            trace.taken += 1
            trace.time = self._time()
            if trace.taken >= trace.total:
                self.running.pop(trace.trid, None)  # sampling is over once the last is taken
                await self._report(trace)
                return
            if len(trace.pending) >= trace.group:
                await self._report(trace)
            due_s = first_s + trace.taken * trace.period_s
            await self._clock.sleep(max(due_s - self._clock.now(), 0.0))

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
