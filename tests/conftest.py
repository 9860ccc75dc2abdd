"""Suite-wide fixtures: every test must leave no asyncio task behind."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture(autouse=True)
async def fail_on_leaked_tasks():
    """Fail a test that leaves asyncio tasks running (a forgotten server, poller or timer)."""
    before = asyncio.all_tasks()
    yield
    # Give tasks that are finishing their cancellation one pass of the loop.
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = [
        t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()
    ]
    if leaked:
        for task in leaked:
            task.cancel()
        await asyncio.gather(*leaked, return_exceptions=True)
        names = ", ".join(sorted(repr(t.get_coro()) for t in leaked))
        pytest.fail(f"test leaked {len(leaked)} asyncio task(s): {names}")
