"""The virtual clock: process time that jumps, overlaps like the line, never skips the wire."""

from __future__ import annotations

import asyncio
import time

import pytest

from packline.clock import ClockTimeout, ScaledClock, VirtualClock, WallClock, wait_for


async def test_sleep_jumps_to_the_deadline_without_wall_time():
    clock = VirtualClock()
    started = time.perf_counter()
    await clock.sleep(3600)
    assert clock.now() == 3600
    assert time.perf_counter() - started < 1.0


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
    assert not clock.simulated
    assert VirtualClock().simulated


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
    assert clock.simulated
    for factor in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time scale must be a positive number"):
            ScaledClock(factor)
