"""A wafer waits for a busy tool as long as the tool serves others, and no longer for a tool
that serves nobody; not at all for a kind with no tool in service (sequences/engine/tools.py)."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import Equipment
from packline.sequences.engine.errors import StepError, ToolUnavailable
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


def pool_of_two_chambers(clock: VirtualClock) -> tuple[ToolPool, Tool, Tool]:
    pool = ToolPool(clock)
    chambers = [
        Tool(name, "plasma_cleaner", cast(Equipment, None), capacity=1) for name in ("pc_a", "pc_b")
    ]
    for chamber in chambers:
        pool.add(chamber)
    return pool, chambers[0], chambers[1]


async def test_a_kind_with_no_tool_in_service_is_refused_at_once_naming_each_tool():
    """Not after the 24 h wait: no operator can clear a tool during a dry run's wait, and on
    real tools the wafer's hold says at once what it needs."""
    clock = VirtualClock()
    pool, pc_a, pc_b = pool_of_two_chambers(clock)
    pool.put_out_of_service(pc_a, "alarmed (REFLECTED_POWER)", until_cleared=True)
    pool.put_out_of_service(pc_b, "holds ENG01", until_cleared=True)
    with pytest.raises(ToolUnavailable) as refused:
        await pool.acquire("plasma_cleaner", whole=False, timeout_s=24 * HOUR_S)
    assert clock.now() == 0
    assert str(refused.value) == (
        "no plasma_cleaner in service: pc_a is out of service: alarmed (REFLECTED_POWER); "
        "pc_b is out of service: holds ENG01"
    )
    assert refused.value.tools == ("pc_a", "pc_b")
    # one tool asked for by its name: that tool, though its kind has another in service
    pool.return_to_service(pc_b)
    with pytest.raises(ToolUnavailable, match=r"^no tool pc_a in service: pc_a is out of"):
        await pool.acquire("pc_a", whole=False, timeout_s=24 * HOUR_S)
    assert (await pool.acquire("plasma_cleaner", whole=False, timeout_s=1)) is pc_b


async def test_a_waiting_wafer_is_refused_when_the_last_tool_of_its_kind_goes_out():
    clock = VirtualClock()
    pool, bonder = pool_of_one_bonder(clock)
    taken = await pool.acquire("wire_bonder", whole=False, timeout_s=1)
    waiting = asyncio.create_task(pool.acquire("wire_bonder", whole=False, timeout_s=24 * HOUR_S))
    await clock.sleep(60)
    pool.put_out_of_service(taken, "alarmed (DRIFT); clear it with ...", until_cleared=True)
    with pytest.raises(ToolUnavailable, match=r"^no wire_bonder in service: wire_bonder is out"):
        await waiting
    assert clock.now() == 60
    pool.release(taken, whole=False)
    assert bonder.free == 1
