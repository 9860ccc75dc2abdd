"""An operator confirmation the run stops at (sequences/engine/wafer.py, `_confirm`): however
the stop reaches the open question (a terminate, an abort that cancels the wafer's task, the
terminal gone), it ends unanswered and is recorded as such once, saying how the run stopped
and why; an answered one is not. And a step declared a load or unload that holds no tool is
the script's mistake, refused before anything runs or is recorded; a stage inside another gives
the outer one back, so the outer stage's unload after it is its own."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from packline.clock import ScaledClock
from packline.drivers.roles import Laminator, WireBonder
from packline.sequences import bump_seal_clean
from packline.sequences.engine import RunRequest, open_run, prepare
from packline.sequences.engine.control import RunControl
from packline.sequences.engine.errors import RunTerminated
from packline.sequences.engine.stage import Handling
from packline.sequences.engine.wafer import _confirm, execute_step

PROMPT = "wafers W01, W02 seated in the chamber slots"
#: Wall seconds an unanswered question may wait in a test before it fails it.
WAIT_S = 30.0


class Recorder:
    """The run's recorder as `_confirm` uses it: a question answered by `answer` (waiting
    until the test's stop ends it when None), and the unanswered questions it records."""

    def __init__(self, answer: BaseException | None = None) -> None:
        self.answer = answer
        self.unanswered_calls: list[tuple[list[str], str, str, str]] = []

    async def confirm(self, wafers: list[Any], prompt: str) -> None:
        if self.answer is not None:
            raise self.answer
        await asyncio.wait_for(asyncio.Event().wait(), WAIT_S)

    def unanswered(self, wafers: list[Any], prompt: str, stopped: str, reason: str) -> None:
        self.unanswered_calls.append(([w.id for w in wafers], prompt, stopped, reason))


def _run(recorder: Recorder) -> Any:
    """A run context of `recorder` and a run control of its own, all `_confirm` reads."""
    control = RunControl(ScaledClock(1000), lambda state, reason, by: None)
    return SimpleNamespace(recorder=recorder, control=control)


WAFERS = [SimpleNamespace(id="W01"), SimpleNamespace(id="W02")]


async def test_a_terminate_ends_the_open_question_recorded_unanswered():
    run = _run(Recorder())
    asking = asyncio.create_task(_confirm(run, WAFERS, PROMPT))
    await asyncio.sleep(0)  # the question is open
    run.control.terminate("terminate requested by ana from another process", "ana")
    with pytest.raises(RunTerminated):
        await asyncio.wait_for(asking, WAIT_S)
    assert run.recorder.unanswered_calls == [
        (["W01", "W02"], PROMPT, "terminated", "terminate requested by ana from another process")
    ]


async def test_an_abort_that_cancels_the_wafers_task_records_it_unanswered_once():
    """The engine's abort cancels the wafers' tasks as it sets the run stopping: the question
    ends by the cancellation, not by the stop, and is recorded all the same."""
    run = _run(Recorder())
    asking = asyncio.create_task(_confirm(run, WAFERS, PROMPT))
    await asyncio.sleep(0)
    run.control.abort("abort requested by ana from another process", "ana")
    asking.cancel()  # as `Engine._on_control` does
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(asking, WAIT_S)
    assert run.recorder.unanswered_calls == [
        (["W01", "W02"], PROMPT, "aborted", "abort requested by ana from another process")
    ]


async def test_a_terminal_gone_while_asking_records_it_unanswered_with_the_terminals_reason():
    """The terminal's own end of the question (`RunTerminated` from the console) before any
    terminate reached the run: recorded unanswered with the terminal's words; once the run is
    terminating, with the terminate's (its event's, which names the resume)."""
    gone = "the terminal's input ended, nobody is left to answer: end of file"
    run = _run(Recorder(RunTerminated(gone)))
    with pytest.raises(RunTerminated):
        await _confirm(run, WAFERS, PROMPT)
    assert run.recorder.unanswered_calls == [(["W01", "W02"], PROMPT, "terminated", gone)]
    run = _run(Recorder(RunTerminated(gone)))
    run.control.terminate(f"{gone}; `packline resume R` goes on from its records")
    with pytest.raises(RunTerminated):
        await _confirm(run, WAFERS, PROMPT)
    assert run.recorder.unanswered_calls[0][3].endswith("goes on from its records")


async def test_an_answered_question_records_nothing_unanswered():
    class Answered(Recorder):
        async def confirm(self, wafers: list[Any], prompt: str) -> None:
            return None

    run = _run(Answered())
    await _confirm(run, WAFERS, PROMPT)
    assert run.recorder.unanswered_calls == []


async def test_a_load_outside_any_stage_is_refused_as_the_scripts_mistake():
    """Declared a load, a step outside `wafer.use(...)` and a batch body would be a wafer put
    on no tool: refused naming the step, before the run's boundary, its records or its
    action are touched (the run context here has none of them)."""
    ran: list[str] = []

    async def load() -> None:
        ran.append("load")

    with pytest.raises(TypeError, match=r"step 'load board' is declared a load .* holds no tool"):
        await execute_step(
            SimpleNamespace(),
            [],
            "load board",
            load,
            (),
            {},
            claims=(),
            repeatable=None,
            handling=Handling.LOAD,
            kind="step",
            stage=None,
        )
    assert ran == []


async def test_a_stage_inside_another_gives_the_outer_one_back(store, monkeypatch):
    """bump-seal-clean's bonder stage taking the laminator before its unload (a tool taken
    while the wafer holds another): the unload after the inner stage is the bonder stage's,
    recorded in it and run as its declared unload. The inner stage's end had left the wafer
    in no stage, and the unload was refused as one that holds no tool."""

    async def bumps_then_a_laminator(wafer, bumps, claims=("003:7.1", "003:22")) -> None:
        async with wafer.use(WireBonder) as bonder:
            await wafer.step("load on bonder", bonder.load, wafer.id, handling=Handling.LOAD)
            await wafer.step("form bumps", bonder.form_stud_bumps, bumps.program(), claims=claims)
            async with wafer.use(Laminator):
                pass
            await wafer.step(
                "unload from bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD
            )

    monkeypatch.setattr(bump_seal_clean, "form_bumps", bumps_then_a_laminator)
    async with open_run(store, prepare(RunRequest("bump-seal-clean"))) as engine:
        assert await engine.run() == "completed"
    steps = {row["name"]: row for row in store.table("steps", engine.run_id)}
    bonder_stage = steps["load on bonder"]["stage"]
    assert bonder_stage is not None
    assert steps["unload from bonder"]["stage"] == bonder_stage
    assert steps["unload from bonder"]["status"] == "completed"
