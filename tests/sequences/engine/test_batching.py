"""Batches gather the wafers that reach a batch tool: up to its capacity, for at most the
recipe's batch timeout, and, while the tool is still busy after that, every wafer that arrives
before it frees (sequences/engine/batching.py, decision 0090)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import Equipment
from packline.sequences.engine.batching import Batcher
from packline.sequences.engine.errors import RunTerminated
from packline.sequences.engine.tools import Tool, ToolPool

HOUR_S = 3600.0
#: The oven's slots.
CAPACITY = 8
#: How long one batch keeps the oven (process time).
CYCLE_S = 10 * HOUR_S
#: How long the first wafer of a batch waits for others before it asks for the oven.
BATCH_TIMEOUT_S = HOUR_S


@dataclass(frozen=True)
class Wafer:
    id: str


class Line:
    """One batch oven, its batcher, and what each batch ran: (start, batch id, wafer ids)."""

    def __init__(self, wafer_count: int) -> None:
        self.clock = VirtualClock()
        self.pool = ToolPool(self.clock)
        self.oven = Tool("oven", "oven", cast(Equipment, None), capacity=CAPACITY)
        self.pool.add(self.oven)
        self.batcher = Batcher(
            self.clock, self.pool, 1, tool_wait_timeout_s=48 * HOUR_S, stage_timeout_s=48 * HOUR_S
        )
        self.wafers = [Wafer(f"W{number:02d}") for number in range(1, wafer_count + 1)]
        for wafer in self.wafers:
            self.batcher.expect(wafer.id)
        self.batches: list[tuple[float, str, list[str]]] = []

    async def cure(self, members: list[Wafer], tool: Tool, batch_id: str) -> str:
        self.batches.append((self.clock.now(), batch_id, [m.id for m in members]))
        await self.clock.sleep(CYCLE_S)
        return batch_id

    async def arrive(self, wafer: Wafer, at_s: float) -> str:
        """`wafer` reaches the oven's stage at `at_s`; the batch it was cured in."""
        await self.clock.sleep(at_s)
        batch_id = await self.batcher.join(
            wafer,
            "cure",
            "oven",
            self.cure,
            signature=frozenset(),
            timeout_s=BATCH_TIMEOUT_S,
            size=None,
        )
        self.batcher.wafer_done(wafer.id)
        return batch_id

    async def hold_oven(self, hours: float) -> None:
        """Another stage's batch keeps the oven for `hours`."""
        tool = await self.pool.acquire("oven", whole=True, timeout_s=HOUR_S)
        await self.clock.sleep(hours * HOUR_S)
        self.pool.release(tool, whole=True)


async def test_the_wafers_that_arrive_while_a_timed_out_batch_waits_for_its_oven_go_in_with_it():
    """The first wafer's batch times out after 1 h with the oven busy until 10 h: the wafers
    arriving at 2 h and 5 h go in with it when the oven frees, not into a second, later batch
    (before decision 0090 they waited a whole further cycle). One arriving after the oven
    started forms the next batch."""
    line = Line(4)
    busy = asyncio.create_task(line.hold_oven(10))
    cured = await asyncio.gather(
        *(
            line.arrive(w, at_s)
            for w, at_s in zip(line.wafers, (0, 2 * HOUR_S, 5 * HOUR_S, 11 * HOUR_S), strict=True)
        )
    )
    await busy
    assert [(start, ids) for start, _, ids in line.batches] == [
        (10 * HOUR_S, ["W01", "W02", "W03"]),
        (20 * HOUR_S, ["W04"]),  # waits out its own oven cycle's end, no other wafer can come
    ]
    assert cured[0] == cured[1] == cured[2] != cured[3]


async def test_a_queued_batch_takes_no_more_than_the_oven_holds_and_the_next_one_forms_apart():
    """Ten wafers an hour apart behind a 20 h batch: the first eight fill the queued batch;
    the ninth and tenth form the next, which the first batch's start leaves alone."""
    line = Line(10)
    busy = asyncio.create_task(line.hold_oven(20))
    await asyncio.gather(*(line.arrive(w, n * HOUR_S) for n, w in enumerate(line.wafers)))
    await busy
    assert [(start, ids) for start, _, ids in line.batches] == [
        (20 * HOUR_S, [w.id for w in line.wafers[:8]]),
        (30 * HOUR_S, ["W09", "W10"]),
    ]


async def test_a_batch_with_its_oven_free_at_its_timeout_runs_with_whom_it_has():
    """A free oven is taken at the timeout: the batch does not wait on for a fuller load."""
    line = Line(2)
    await asyncio.gather(
        *(line.arrive(w, at_s) for w, at_s in zip(line.wafers, (0, 2 * HOUR_S), strict=True))
    )
    assert [(start, ids) for start, _, ids in line.batches] == [
        (BATCH_TIMEOUT_S, ["W01"]),
        (BATCH_TIMEOUT_S + CYCLE_S, ["W02"]),
    ]


async def test_a_terminated_run_ends_a_batch_queued_for_its_oven_through_the_oven_s_queue():
    """Terminating stops every forming batch; one already queued for the oven ends as the
    oven's queue is stopped, with the run's reason, and no wafer joins it meanwhile."""
    line = Line(3)
    busy = asyncio.create_task(line.hold_oven(10))
    queued = asyncio.create_task(line.arrive(line.wafers[0], 0))
    await line.clock.sleep(2 * HOUR_S)  # the batch of W01 is queued for the oven
    line.batcher.stop_forming("stopped by the operator")
    line.pool.stop_waiting(RunTerminated("stopped by the operator"))
    with pytest.raises(RunTerminated, match="stopped by the operator"):
        await queued
    assert line.batches == []
    await busy
