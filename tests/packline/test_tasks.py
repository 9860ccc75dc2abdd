"""Work that finishes even when its caller is cancelled (safe states, shutdown)."""

from __future__ import annotations

import asyncio

import pytest

from packline.tasks import finish_shielded


async def test_the_work_finishes_and_the_cancellation_is_reported_for_the_caller():
    finished = asyncio.Event()

    async def safe_state() -> str:
        await asyncio.sleep(0.05)
        finished.set()
        return "safe"

    async def caller() -> tuple[str, bool]:
        work, cancelled = await finish_shielded(safe_state())
        return work.result(), cancelled

    task = asyncio.create_task(caller())
    await asyncio.sleep(0.01)
    task.cancel()  # the work is half done
    result, cancelled = await task
    assert finished.is_set()
    assert (result, cancelled) == ("safe", True)


async def test_the_works_own_failure_is_left_for_the_caller():
    async def failing() -> None:
        raise RuntimeError("tool did not answer")

    work, cancelled = await finish_shielded(failing())
    assert not cancelled
    with pytest.raises(RuntimeError, match="tool did not answer"):
        work.result()
