"""An exchange's deadline ends it as `asyncio.timeout` would, with one timer per link.

Where a cancel from outside and the deadline must meet, the test blocks the event loop past
both (`time.sleep`), so that both are due in the same turn of the loop, before the exchange's
task resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from packline.drivers.links.deadline import ExchangeDeadline

#: A hang guard only: every wait here ends long before it.
GUARD_S = 10.0

#: A deadline that passes during the test, and a wait that outlasts it.
SHORT_S = 0.01
PAST_SHORT_S = 0.05


async def wait_forever(deadline: ExchangeDeadline, timeout_s: float | None) -> None:
    """An exchange that never ends by itself."""
    with deadline.within(timeout_s):
        await asyncio.Event().wait()


async def started(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """`coroutine` as a task that has run up to its first wait."""
    task = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0)
    return task


async def test_an_exchange_past_its_deadline_is_timed_out_and_its_task_not_left_cancelling():
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(TimeoutError):
            await wait_forever(ExchangeDeadline(), SHORT_S)
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_a_timeout_around_the_exchange_still_fires_after_the_exchange_timed_out():
    """The deadline takes back its own cancellation (`uncancel`): an `asyncio.timeout`
    around it counts on that to tell its own expiry from a cancel from outside."""

    async def exchange_then_wait() -> None:
        async with asyncio.timeout(PAST_SHORT_S):
            with pytest.raises(TimeoutError):
                await wait_forever(ExchangeDeadline(), SHORT_S)
            await asyncio.sleep(GUARD_S)

    with pytest.raises(TimeoutError):
        await exchange_then_wait()


async def test_an_exchange_that_begins_after_others_ended_is_timed_out_at_its_own_deadline():
    """The timer armed for the first exchange fires while a later one runs: it is armed
    again for that one's deadline, which then ends it."""
    deadline = ExchangeDeadline()
    with deadline.within(PAST_SHORT_S):
        pass
    await asyncio.sleep(SHORT_S)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(TimeoutError):
            await wait_forever(deadline, PAST_SHORT_S)


async def test_a_late_timer_cancels_neither_the_task_it_was_armed_for_nor_a_later_exchange():
    deadline = ExchangeDeadline()
    with deadline.within(SHORT_S):
        pass
    await asyncio.sleep(PAST_SHORT_S)  # this task runs on past the exchange's deadline

    async def later_exchange() -> str:
        with deadline.within(GUARD_S):
            await asyncio.sleep(PAST_SHORT_S)
        return "answered"

    with deadline.within(SHORT_S):
        pass
    # A later exchange, in a task of its own, runs on past the one before's deadline.
    assert await asyncio.ensure_future(later_exchange()) == "answered"


async def test_a_cancel_from_outside_stays_a_cancel():
    task = await started(wait_forever(ExchangeDeadline(), GUARD_S))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancel_from_outside_as_the_deadline_passes_stays_a_cancel():
    """Cancelled by someone else and by its deadline at once, the exchange is cancelled, not
    timed out: the cancel from outside (a pause, an abort) must go on."""
    task = await started(wait_forever(ExchangeDeadline(), SHORT_S))
    asyncio.get_running_loop().call_later(SHORT_S / 2, task.cancel)
    time.sleep(PAST_SHORT_S)  # noqa: ASYNC251 - both due in one turn of the loop
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_task_group_tearing_down_as_the_deadline_passes_cancels_the_exchange():
    """A sibling fails as the exchange's deadline passes: the group cancels the exchange,
    which ends cancelled, and the group raises the sibling's error alone."""

    async def failing_sibling() -> None:
        time.sleep(PAST_SHORT_S)  # noqa: ASYNC251 - past the deadline, loop blocked
        await asyncio.sleep(0)
        raise ValueError("the sibling failed")

    async def group() -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(wait_forever(ExchangeDeadline(), SHORT_S))
            tasks.create_task(failing_sibling())

    with pytest.raises(ExceptionGroup) as raised:
        await group()
    assert [type(error) for error in raised.value.exceptions] == [ValueError]


async def test_a_deadline_set_later_ends_the_exchange():
    """A held reply: no deadline until `reschedule` sets one, even one earlier than a timer
    already armed."""
    deadline = ExchangeDeadline()
    with deadline.within(GUARD_S):
        pass
    loop = asyncio.get_running_loop()

    async def held() -> None:
        with deadline.within(None):
            await asyncio.sleep(SHORT_S)
            deadline.reschedule(loop.time() + SHORT_S)
            await asyncio.Event().wait()

    async with asyncio.timeout(GUARD_S):
        with pytest.raises(TimeoutError):
            await held()


@pytest.mark.parametrize("first_timeout_s", [SHORT_S, GUARD_S])
def test_an_exchange_in_a_second_event_loop_is_timed_out_at_its_deadline(first_timeout_s: float):
    """Each loop gets its own timer: one armed in a loop that ended, earlier or later than
    the new deadline, neither hides it nor is armed again."""
    deadline = ExchangeDeadline()

    async def exchange_that_ends() -> None:
        with deadline.within(first_timeout_s):
            pass

    async def exchange_that_hangs() -> None:
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(TimeoutError):
                await wait_forever(deadline, PAST_SHORT_S)

    asyncio.run(exchange_that_ends())
    asyncio.run(exchange_that_hangs())


def test_an_exchange_left_running_by_a_loop_that_stopped_does_not_block_a_second_loop():
    deadline = ExchangeDeadline()
    first_loop = asyncio.new_event_loop()
    try:
        left_running = first_loop.run_until_complete(started(wait_forever(deadline, GUARD_S)))

        async def exchange_that_hangs() -> None:
            async with asyncio.timeout(GUARD_S):
                with pytest.raises(TimeoutError):
                    await wait_forever(deadline, SHORT_S)

        asyncio.run(exchange_that_hangs())
        left_running.cancel()
        with pytest.raises(asyncio.CancelledError):
            first_loop.run_until_complete(left_running)
    finally:
        first_loop.close()


async def test_blocks_are_one_at_a_time():
    deadline = ExchangeDeadline()
    with (
        deadline.within(GUARD_S),
        pytest.raises(RuntimeError, match="one block at a time"),
        deadline.within(GUARD_S),
    ):
        pass
