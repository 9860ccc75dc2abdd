"""Tasks: work that must finish even when the task that started it is cancelled, and a task's
step run at once from a protocol's callback.

Commanding tools to their safe state (a driver's `abort()`, the engine's shutdown) cannot be
cut short by a terminate, a Ctrl-C or a failing sibling: the work runs in its own task and the
caller waits for its end, holding a cancellation back until then (`finish_shielded`).

A protocol's callback that wakes a task (a reply that completes the future a link's task
awaits, a request a server's task answers) may run that task's step there and then
(`step_now`), rather than on the loop's next pass: the dry run's wire exchanges cost a pass
fewer each (decision 0075).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from packline.clock import UnobservableLoop, ready_queue

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


def step_now(task: asyncio.Task[Any] | None) -> None:
    """Run `task`'s step now when it is what the caller just queued, last on the loop's ready
    queue (a new task's first step, or its wake-up by a future the caller completed), and no
    task is running (the caller is a protocol's callback): the task goes as far as it can in
    the caller's pass of the loop instead of the next (as Python 3.12's eager tasks do a new
    task's first step). Otherwise nothing happens and the task runs in its turn, as any does.

    The queue is CPython's (`BaseEventLoop._ready`), read as the virtual clock reads it
    (`packline.clock.ready_queue`, decision 0004); on a loop without it, nothing happens.
    """
    if task is None:
        return
    loop = task.get_loop()
    try:
        ready = ready_queue(loop)
    except UnobservableLoop:
        return
    if (
        ready
        and getattr(getattr(ready[-1], "_callback", None), "__self__", None) is task
        and asyncio.current_task(loop) is None
    ):
        ready.pop()._run()
