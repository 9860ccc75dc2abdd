"""An operator confirmation the run stops at (sequences/engine/wafer.py, `_confirm`): however
the stop reaches the open question (a terminate, an abort that cancels the wafer's task, the
terminal gone), it ends unanswered and is recorded as such once, saying how the run stopped
and why; an answered one is not. And a step declared a load or unload that holds no tool is
the script's mistake, refused before anything runs or is recorded; a stage inside another gives
the outer one back, so the outer stage's unload after it is its own. A stage a resumed wafer
completed before is passed without its tool (decision 0122): no wait for it, no hold of it, no
load on it, whether the tool is busy or out of service; a confirmation in it is not asked; a
step its script calls there since fails, and its rework (or release) runs the stage again
on its tool, once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from packline.clock import ScaledClock
from packline.drivers.roles import Laminator, WireBonder
from packline.sequences import bump_seal_clean
from packline.sequences.engine import RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.clearances import record_clearance
from packline.sequences.engine.control import RunControl
from packline.sequences.engine.dispositions import Decision, record_disposition
from packline.sequences.engine.errors import RunTerminated
from packline.sequences.engine.plan import PASSED_WITHOUT_ITS_TOOL
from packline.sequences.engine.stage import Handling
from packline.sequences.engine.wafer import _confirm, execute_step
from packline.sim_instruments.line import SimulatedLine

from ..helpers import stopped_at

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


class LineLoads:
    """The simulated line of each session of a dry run, and every load of a workpiece on a
    tool its twin saw (`TwinStore.load`, which every simulated tool's load calls), by session:
    (workpiece, tool)."""

    def __init__(self) -> None:
        self.lines: list[SimulatedLine] = []
        self.loads: list[list[tuple[str, str]]] = []

    def __call__(self, line: SimulatedLine) -> None:
        loads: list[tuple[str, str]] = []
        load = line.twin.load

        def recorded(wafer_id: str, tool: str, *, rework: bool = False) -> Any:
            loads.append((wafer_id, tool))
            return load(wafer_id, tool, rework=rework)

        line.twin.load = recorded  # type: ignore[method-assign]  # what the test is about
        self.lines.append(line)
        self.loads.append(loads)


def lot_of(wafers: int) -> RunRequest:
    """A dry run of bump-seal-clean, a lot of `wafers`, its default recipe."""
    return RunRequest("bump-seal-clean", lot=wafers)


def passes(store, run_id: str, session: int) -> list[tuple[str, str, str, str]]:
    """The stages (tool uses) the wafers of run `run_id` passed in `session`, completed before:
    (wafer, stage, tool, why)."""
    return [
        (s["wafer_id"], s["name"], s["tool"], s["error"])
        for s in store.table("steps", run_id)
        if s["session"] == session and s["kind"] == "stage" and s["status"] == "skipped"
    ]


async def test_a_resume_takes_no_tool_for_a_stage_its_wafer_completed_before(store):
    """bump-seal-clean, a lot of 2, terminated as W02 starts its lamination: W01, bonded and
    laminated, waits for the chamber's batch; W02 is bonded. The resume passes W01's bonder and
    laminator stages and W02's bonder stage: the bonder is given to nobody and loads nothing,
    and the laminator loads W02 alone, for its stage the terminate cut off. The wafers had
    taken (waited for, held) each tool to skip every step on it, and a lot queued behind the
    tools it no longer needed."""
    line = LineLoads()
    run_id = await stopped_at(store, lot_of(2), "load on laminator", wafer="W02", line_ready=line)
    events: list = []
    async with open_resume(store, run_id, observers=[events.append], line_ready=line) as resumed:
        assert await resumed.run() == "completed"
        granted = {name: tool.grants for name, tool in resumed.keeper.pool.tools.items()}
    assert passes(store, run_id, 2) == [
        ("W01", "use wire_bonder", "wire_bonder", PASSED_WITHOUT_ITS_TOOL),
        ("W01", "use laminator", "laminator", PASSED_WITHOUT_ITS_TOOL),
        ("W02", "use wire_bonder", "wire_bonder", PASSED_WITHOUT_ITS_TOOL),
    ]
    assert granted["wire_bonder"] == 0
    assert granted["laminator"] == 1
    first, again = line.loads
    assert {("W01", "wire_bonder"), ("W01", "laminator")} <= set(first)
    assert [load for load in again if load[1] in ("wire_bonder", "laminator")] == [
        ("W02", "laminator")
    ]
    started = [e for e in events if e.kind == "step-started"]
    assert not [e for e in started if e.tool == "wire_bonder"]
    assert {e.wafer for e in started if e.tool == "laminator"} == {"W02"}
    # the steps in a passed stage are still met, each skipped as done before, once
    skipped = [
        (s["wafer_id"], s["name"])
        for s in store.table("steps", run_id)
        if s["session"] == 2 and s["stage"] == "use wire_bonder#0"
    ]
    bonder_steps = ["load on bonder", "form bumps", "inspect bump heights", "unload from bonder"]
    assert skipped == [("W01", name) for name in bonder_steps] + [
        ("W02", name) for name in bonder_steps
    ]


async def test_a_resume_passes_a_stage_done_before_on_a_tool_out_of_service(store):
    """bump-seal-clean, a lot of 3: the bonder alarms under W03's bumping (held, the bonder out
    of service until cleared), and the run is terminated in the chamber's batch of W01 and
    W02. Resumed with the bonder not cleared (as on a station; a dry run's command line
    refuses it first, `refuse_uncleared`), W01 and W02 no longer need the bonder: they pass
    its stage and complete. They had been held for want of it ('no wire_bonder in service')."""
    line = LineLoads()

    def break_the_wire_under_w03(event) -> None:
        if event.kind == "step-started" and (event.wafer, event.step) == ("W03", "form bumps"):
            line.lines[-1].tools["wire_bonder"].inject_fault("wire_break")

    run_id = await stopped_at(
        store,
        lot_of(3),
        "open door",
        wafer="W01",
        line_ready=line,
        observers=[break_the_wire_under_w03],
    )
    assert {w["wafer_id"]: w["status"] for w in store.wafers(run_id)}["W03"] == "held"
    events: list = []
    async with open_resume(store, run_id, observers=[events.append], line_ready=line) as resumed:
        assert await resumed.run() == "held"  # W03, undecided
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    assert out.tool == "wire_bonder"
    assert not [e for e in events if e.kind == "held"]
    statuses = {w["wafer_id"]: w["status"] for w in store.wafers(run_id)}
    assert statuses == {"W01": "completed", "W02": "completed", "W03": "held"}
    assert [(wafer, stage) for wafer, stage, *_ in passes(store, run_id, 2)] == [
        ("W01", "use wire_bonder"),
        ("W01", "use laminator"),
        ("W02", "use wire_bonder"),
        ("W02", "use laminator"),
    ]
    assert not [load for load in line.loads[1] if load[1] == "wire_bonder"]


async def bonding_script_of(monkeypatch, *, confirm: str = "", then: str = "") -> None:
    """bump-seal-clean's bonder stage, its operator asked to confirm `confirm` once the wafer
    is loaded (when given), and a step `then` (when given) after its inspection: what a method
    changed since a run began calls there."""

    async def form_bumps(wafer, bumps, claims=("003:7.1", "003:22")) -> None:
        async with wafer.use(WireBonder) as bonder:
            await wafer.step("load on bonder", bonder.load, wafer.id, handling=Handling.LOAD)
            if confirm:
                await wafer.confirm(confirm)
            await wafer.step("form bumps", bonder.form_stud_bumps, bumps.program(), claims=claims)
            if then:
                await wafer.step(then, bonder.request_site_count)
            await wafer.step(
                "unload from bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD
            )

    monkeypatch.setattr(bump_seal_clean, "form_bumps", form_bumps)


async def test_a_confirmation_in_a_stage_a_resume_passes_is_not_asked(store, monkeypatch):
    """A stage passed does nothing on its tool: its operator is not asked to confirm a
    seating that does not happen (on real tools without an operator, declined, it held the
    wafer at a stage it did not need)."""
    seated = "wafer seated on the bonder chuck"
    await bonding_script_of(monkeypatch, confirm=seated)
    run_id = await stopped_at(store, lot_of(1), "load on laminator")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    asked = [c["prompt"] for c in store.table("confirmations", run_id)]
    assert asked.count(seated) == 1  # in the first session, as the wafer was seated


async def test_a_step_added_to_a_stage_done_before_fails_and_its_rework_replays_the_stage(
    store, monkeypatch
):
    """A method changed since the run began calls a step in a stage the wafer completed: the
    records have it not done, and nothing of the stage is on the bonder (the resume passes it
    without the tool), so the step fails, touching no tool, and holds the wafer saying why.
    Reworked, the stage is replayed on the bonder: the wafer loaded again, its bumping (done,
    irreversible) skipped, the new step run."""
    line = LineLoads()
    run_id = await stopped_at(store, lot_of(1), "load on laminator", line_ready=line)
    await bonding_script_of(monkeypatch, then="count sites")
    async with open_resume(store, run_id, line_ready=line) as resumed:
        assert await resumed.run() == "held"
    (wafer,) = store.wafers(run_id)
    assert wafer["reason"] == (
        "step 'count sites' of W01 failed: the wafer completed stage 'use wire_bonder' in an "
        "earlier session without this step (the method's script calls it there since), so "
        "this resume passes the stage without wire_bonder and the step cannot run: rework "
        "it, and the next resume runs the stage again on its tool"
    )
    assert not [load for load in line.loads[1] if load[1] == "wire_bonder"]
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "count its sites")
    async with open_resume(store, run_id, line_ready=line) as resumed:
        assert await resumed.run() == "completed"
    third = [
        (s["kind"], s["name"], s["status"])
        for s in store.table("steps", run_id)
        if s["session"] == 3 and (s["stage"] or s["key"]) == "use wire_bonder#0"
    ]
    assert third == [
        ("stage", "use wire_bonder", "completed"),
        ("step", "load on bonder", "completed"),
        ("step", "form bumps", "skipped"),
        ("step", "count sites", "completed"),
        ("step", "unload from bonder", "completed"),
    ]
    assert ("W01", "wire_bonder") in line.loads[2]


def laminator_stage(store, run_id: str, session: int) -> list[tuple[str, str]]:
    """W01's laminator stage in `session` of run `run_id` (a lot of 1), its steps after it:
    (name, status)."""
    return [
        (s["name"], s["status"])
        for s in store.table("steps", run_id)
        if s["session"] == session and (s["stage"] or s["key"]) == "use laminator#0"
    ]


async def resume_terminated_past_the_bonder(store, run_id: str, line: LineLoads) -> None:
    """Resume run `run_id` (a lot of 1) and terminate the resume as W01 passes its bonder
    stage, before it is back in its laminator stage."""
    await stopped_at(store, run_id, "unload from bonder", event="step-finished", line_ready=line)


async def test_a_stage_failed_before_is_replayed_by_a_later_resume_than_the_one_deciding(store):
    """bump-seal-clean, a lot of 1: the laminator's chamber leaks under W01's lamination (held,
    the laminator out of service). The laminator is cleared and W01 reworked, and the resume
    carrying that out is terminated as W01 passes its bonder stage, before it is back in the
    laminator stage. The next resume still replays that stage: the laminator's recovery took
    W01 off as the stage failed, so its load is done again. The stage's record read `failed`
    (neither completed nor cut off), and the resume had entered it without replaying it: its
    load skipped as done, the lamination ran on a laminator without the wafer."""
    line = LineLoads()

    def leak(event) -> None:
        if event.kind == "step-started" and event.step == "laminate resin film":
            line.lines[-1].tools["laminator"].inject_fault("chamber_leak")

    prepared = prepare(lot_of(1))
    async with open_run(store, prepared, observers=[leak], line_ready=line) as engine:
        assert await engine.run() == "held"
    run_id = engine.run_id
    record_clearance(store, run_id, "laminator", "ana")
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "leak fixed: laminate again")
    await resume_terminated_past_the_bonder(store, run_id, line)
    assert not [
        s for s in store.table("steps", run_id) if s["session"] == 2 and s["tool"] == "laminator"
    ]
    async with open_resume(store, run_id, line_ready=line) as again:
        assert await again.run() == "completed"
    third = laminator_stage(store, run_id, 3)
    assert third == [
        ("use laminator", "completed"),
        ("load on laminator", "completed"),
        ("laminate resin film", "completed"),
        ("cool", "completed"),
        ("peel support", "completed"),
        ("unload from laminator", "completed"),
    ]
    assert ("W01", "laminator") in line.loads[2]


async def held_at_a_step_added_to_its_laminator_stage(store, monkeypatch, line: LineLoads) -> str:
    """bump-seal-clean, a lot of 1, terminated as W01 opens the chamber's door, W01's
    laminator stage completed; its method then changed to cool W01 again in that stage, and
    the resume, passing the stage without the laminator, fails the new step and holds W01:
    the run's id."""
    run_id = await stopped_at(store, lot_of(1), "open door", line_ready=line)

    async def seal_with_resin(wafer, resin) -> None:
        async with wafer.use(Laminator) as laminator:
            await wafer.step("load on laminator", laminator.load, wafer.id, handling=Handling.LOAD)
            await wafer.step("laminate resin film", laminator.laminate, resin.job())
            await wafer.step("cool", laminator.cool, resin.peel_below_c)
            await wafer.step("cool again", laminator.cool, resin.peel_below_c)
            await wafer.step("peel support", laminator.peel_support)
            await wafer.step("unload from laminator", laminator.unload, handling=Handling.UNLOAD)

    monkeypatch.setattr(bump_seal_clean, "seal_with_resin", seal_with_resin)
    async with open_resume(store, run_id, line_ready=line) as resumed:
        assert await resumed.run() == "held"
    return run_id


@pytest.mark.parametrize(
    ("decision", "cooled_again"), [(Decision.REWORK, "completed"), (Decision.RELEASE, "skipped")]
)
async def test_a_stage_a_step_failed_in_as_passed_is_replayed_by_a_later_resume_than_the_deciding(
    store, monkeypatch, decision: Decision, cooled_again: str
):
    """A method changed since the run began calls a step in W01's laminator stage, completed
    in the first session: the resume passing the stage fails it (held). W01 is reworked (or
    the step released), and the resume carrying that out is terminated as W01 passes its
    bonder stage, before it is back in the laminator stage. The next resume still replays that
    stage on the laminator, and runs the new step (or skips it, released): reworked, it had
    read the stage completed (its rework forgotten with the failed step, which the wafer's
    later records outdate), passed it again and failed the step again; released, it had read
    the stage completed (the released step no longer failed) and passed it without the
    laminator."""
    line = LineLoads()
    run_id = await held_at_a_step_added_to_its_laminator_stage(store, monkeypatch, line)
    record_disposition(store, run_id, "W01", decision, "ana", "cool it again")
    await resume_terminated_past_the_bonder(store, run_id, line)
    async with open_resume(store, run_id, line_ready=line) as again:
        assert await again.run() == "completed"
    fourth = laminator_stage(store, run_id, 4)
    assert fourth == [
        ("use laminator", "completed"),
        ("load on laminator", "completed"),
        ("laminate resin film", "skipped"),
        ("cool", "completed"),
        ("cool again", cooled_again),
        ("peel support", "skipped"),
        ("unload from laminator", "completed"),
    ]
    assert ("W01", "laminator") in line.loads[3]


async def test_a_stage_replayed_after_a_release_of_a_step_failed_in_its_pass_is_passed_after(
    store, monkeypatch
):
    """W01's step added to its laminator stage, failed as a resume passed the stage, is
    released; the resume carrying that out replays the stage on the laminator (the step
    skipped, released) and is terminated as W01 opens the chamber's door. The next resume
    passes the laminator stage, completed again: the failure its release accepted is older
    than that completion, and no cause to take the laminator again."""
    line = LineLoads()
    run_id = await held_at_a_step_added_to_its_laminator_stage(store, monkeypatch, line)
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "cooled enough")
    await stopped_at(store, run_id, "open door", line_ready=line)
    assert ("use laminator", "completed") in laminator_stage(store, run_id, 3)  # replayed
    async with open_resume(store, run_id, line_ready=line) as again:
        assert await again.run() == "completed"
    fourth = laminator_stage(store, run_id, 4)
    assert fourth == [("use laminator", "skipped")] + [
        (name, "skipped")
        for name in (
            "load on laminator",
            "laminate resin film",
            "cool",
            "cool again",
            "peel support",
            "unload from laminator",
        )
    ]
    assert not [load for load in line.loads[3] if load[1] == "laminator"]
