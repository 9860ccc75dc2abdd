"""Work that finishes even when its caller is cancelled (safe states, shutdown); a task's step
run at once from a protocol's callback."""

from __future__ import annotations

import asyncio

import pytest

from packline.tasks import finish_shielded, step_now


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


async def test_a_task_woken_or_begun_by_a_callback_steps_in_that_callback():
    """`step_now` from a callback runs the step of a task the callback just began, or woke by
    completing the future it awaits, before the callback returns; the task gets as far as it
    can there (here: to its next wait)."""
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[str] = loop.create_future()
    seen: list[str] = []

    async def asker() -> None:
        seen.append("asked")
        seen.append(await reply)

    def request_arrives() -> None:
        step_now(loop.create_task(asker()))
        seen.append("request taken")

    def reply_arrives() -> None:
        reply.set_result("answered")
        step_now(asker_task)
        seen.append("reply taken")

    loop.call_soon(request_arrives)
    await asyncio.sleep(0)
    (asker_task,) = [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "asker"]
    assert seen == ["asked", "request taken"]
    loop.call_soon(reply_arrives)
    await asyncio.sleep(0)
    assert seen == ["asked", "request taken", "answered", "reply taken"]
    assert asker_task.done()


async def test_a_step_not_queued_last_or_asked_for_inside_a_task_waits_its_turn():
    """Nothing runs out of turn: not a task whose step another callback was queued after, not
    one asked for from inside a task (where only the loop may switch tasks), and not none."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    async def note(what: str) -> None:
        seen.append(what)

    def queued_before_another() -> None:
        task = loop.create_task(note("task"))
        loop.call_soon(seen.append, "callback")
        step_now(task)
        seen.append("returned")

    loop.call_soon(queued_before_another)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert seen == ["returned", "task", "callback"]
    seen.clear()
    inside = loop.create_task(note("inside"))
    step_now(inside)  # from this test's own task
    step_now(None)
    assert seen == []
    await inside
    assert seen == ["inside"]
