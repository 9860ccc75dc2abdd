"""Work that must finish even when the task that started it is cancelled.

Commanding tools to their safe state (a driver's `abort()`, the engine's shutdown) cannot be
cut short by a terminate, a Ctrl-C or a failing sibling: the work runs in its own task and the
caller waits for its end, holding a cancellation back until then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def finish_shielded(work: Awaitable[T]) -> tuple[asyncio.Future[T], bool]:
    """Run `work` to its end whatever happens to the caller meanwhile.

    Returns the finished future (its result or exception for the caller to take) and whether
    a cancellation of the caller arrived, for the caller to pass on once it has done so.
    """
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task})  # never cancels `task`, never raises its exception
        except asyncio.CancelledError:
            cancelled = True
    return task, cancelled
