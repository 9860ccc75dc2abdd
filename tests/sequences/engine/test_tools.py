"""A wafer waits for a busy tool as long as the tool serves others, and no longer for a tool
that serves nobody (sequences/engine/tools.py)."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import Equipment
from packline.sequences.engine.errors import StepError
from packline.sequences.engine.tools import Tool, ToolPool

HOUR_S = 3600.0


def pool_of_one_bonder(clock: VirtualClock) -> tuple[ToolPool, Tool]:
    pool = ToolPool(clock)
    bonder = Tool("wire_bonder", "wire_bonder", cast(Equipment, None), capacity=1)
    pool.add(bonder)
    return pool, bonder


async def use(pool: ToolPool, clock: VirtualClock, hours: float, timeout_s: float) -> float:
    """Take the bonder, hold it for `hours`, give it back; the process time it was taken at."""
    tool = await pool.acquire("wire_bonder", whole=False, timeout_s=timeout_s)
    taken_s = clock.now()
    await clock.sleep(hours * HOUR_S)
    pool.release(tool, whole=False)
    return taken_s


async def test_a_queue_longer_than_the_wait_is_served_while_the_tool_serves_others():
    clock = VirtualClock()
    pool, _ = pool_of_one_bonder(clock)
    # Ten wafers of 5 h each behind one bonder: the last waits 45 h, the bound is 24 h.
    taken = await asyncio.gather(*(use(pool, clock, 5, 24 * HOUR_S) for _ in range(10)))
    assert sorted(taken) == [5 * HOUR_S * n for n in range(10)]


async def test_a_tool_that_serves_nobody_ends_the_wait_at_its_bound_naming_it():
    clock = VirtualClock()
    pool, bonder = pool_of_one_bonder(clock)
    holder = asyncio.create_task(use(pool, clock, 30, 24 * HOUR_S))  # a step stuck for 30 h
    await clock.sleep(1)
    with pytest.raises(StepError, match=r"no free tool \(wire_bonder\).* for 86400 s"):
        await pool.acquire("wire_bonder", whole=False, timeout_s=24 * HOUR_S)
    assert clock.now() == pytest.approx(24 * HOUR_S + 1)
    await holder
    assert bonder.free == 1  # the wait that gave up holds nothing
