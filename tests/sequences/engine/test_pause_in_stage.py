"""A pause never separates the steps a wafer does on one tool (decision 0097): a pause taken
while a wafer is in a stage (a laminator's laminate, cool and unload) lets the stage run to its
end, says what it waits for, and the wafer waits once it is off the tool; a new-user trial had
a wafer sit paused in a heated laminator between `laminate resin film` and `cool`."""

from __future__ import annotations

import asyncio
import io
import time

from rich.console import Console

from packline.sequences.engine import LiveView, RunRequest, open_run, prepare, run_report
from packline.sequences.engine.control import RunState
from packline.sequences.engine.events import NOTHING_TO_PAUSE, PAUSING
from packline.sequences.engine.progress import PlainLog
from packline.sequences.engine.report import IN_STEP_AT_PAUSE, in_stage_at_pause, shown_wafer

from ..helpers import TwoToolLine
from .test_progress import served_run

#: Wall seconds the test gives the paused run to finish the stage it is in.
STAGE_END_WAIT_S = 10.0


async def _until(condition, what: str) -> None:
    """Wait (wall clock, bounded) until `condition()` holds; fail naming `what` otherwise."""
    deadline = time.monotonic() + STAGE_END_WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {STAGE_END_WAIT_S:g} s: {what}")
        await asyncio.sleep(0.02)


async def test_a_pause_in_a_stage_lets_it_run_to_its_unload_then_waits(store):
    """W01 is paused in `etch A` on pc_a: it vents, opens the door and unloads (its stage on
    pc_a ends) before it waits; it starts nothing on pc_b until the resume, the clock stands
    still once it waits, `pausing` names what the pause waits for, `show` says it of the
    wafer while it does, and the resumed run completes."""
    events = []
    seen_in_stage: list[tuple[str, str | None]] = []

    def observe(event):
        events.append(event)
        if event.kind == "step-started" and event.step == "etch A":
            engine.request("pause", "pause requested by ana from another process", "ana")
        if event.kind == PAUSING:
            (wafer,) = run_report(store, engine.run_id)["wafers"]
            seen_in_stage.append((wafer["status"], wafer["reason"]))

    def steps():
        return {(s["name"], s["tool"]): s["status"] for s in store.table("steps", engine.run_id)}

    prepared = prepare(RunRequest("test-two-tools", lot=1))
    async with open_run(store, prepared, observers=[observe], line_factory=TwoToolLine) as engine:
        running = asyncio.create_task(engine.run())
        try:
            await _until(
                lambda: steps().get(("use pc_a", "pc_a")) == "completed",
                "W01's stage on pc_a ran to its end while the run paused",
            )
            assert engine.control.state is RunState.PAUSED
            on_pc_b = [name for name, tool in steps() if tool == "pc_b"]
            assert on_pc_b == []  # the pause holds it before its next stage
            assert engine.keeper.pool.tools["pc_b"].free == 1  # and before it takes the tool
            stood_at = engine.t()
            await asyncio.sleep(0.2)
            assert engine.t() == stood_at  # paused, nothing under way: the clock stands
            (report,) = run_report(store, engine.run_id)["wafers"]
            assert (report["status"], report["reason"]) == ("paused", "after unload")
            engine.request("resume", "resumed by ana", "ana")
            status = await asyncio.wait_for(running, STAGE_END_WAIT_S)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    assert status == "completed"
    (pausing,) = [e for e in events if e.kind == PAUSING]
    assert pausing.wafer == "W01" or pausing.wafer.endswith("-W01")
    assert pausing.tool == "pc_a"
    assert pausing.message == (
        "finishes its stage on pc_a first (in etch A; its steps on it, to the unload), then waits"
    )
    assert seen_in_stage == [
        (
            "running",
            "in etch A, pausing: the wafer finishes its stage on pc_a first (its steps on it, "
            "to the unload), then waits",
        )
    ]
    kinds = [(e.kind, e.step) for e in events]
    order = [
        kinds.index(("paused", None)),
        kinds.index(("step-finished", "unload")),
        kinds.index(("resumed", None)),
        kinds.index(("step-started", "etch B")),
    ]
    assert order == sorted(order)
    recorded = [row["kind"] for row in store.events(engine.run_id)]
    assert PAUSING in recorded
    printed = io.StringIO()
    PlainLog(Console(file=printed, width=80))(pausing)  # a run without a live view says it
    assert f"pausing {pausing.wafer} finishes its stage on pc_a first" in printed.getvalue()


def test_show_says_a_wafer_in_a_stage_finishes_it_and_one_in_a_lone_step_finishes_that():
    """A paused run's wafer in a stage reads `running`, finishing its stage on the tool; one in
    a step that holds no tool finishes the step; one between stages is `paused`."""
    run = {"status": "paused", "sessions": 1, "stopped_t": None}

    def shown(*steps):
        rows = [{"id": n, "wafer_id": "W01", "session": 1, **step} for n, step in enumerate(steps)]
        wafer = {"wafer_id": "W01", "status": "running", "reason": None}
        return shown_wafer(wafer, rows, {row["id"]: row["name"] for row in rows}, run)

    stage = {"name": "use laminator", "kind": "stage", "tool": "laminator"}
    laminate = {"name": "laminate resin film", "kind": "step", "tool": "laminator"}
    assert shown({**stage, "status": "running"}, {**laminate, "status": "completed"}) == (
        "running",
        f"after laminate resin film{in_stage_at_pause('laminator')}",
    )
    assert shown({"name": "inspect", "kind": "step", "tool": None, "status": "running"}) == (
        "running",
        f"in inspect{IN_STEP_AT_PAUSE}",
    )
    assert shown({**stage, "status": "completed"}, {**laminate, "status": "completed"}) == (
        "paused",
        "after laminate resin film",
    )


async def test_a_pause_in_a_batch_lets_the_batch_finish_and_names_its_wafers(store):
    """A pause in plasma-clean's `plasma clean` waits for the batch's chamber cycle: the
    `pausing` event names the batch's wafers, nothing of theirs waits inside the chamber, and
    the run resumes once the batch's stage has ended."""
    events = []

    def observe(event):
        events.append(event)
        if event.kind == "step-started" and event.step == "plasma clean":
            engine.request("pause", "a look at the line", "ana")
        if event.kind == "step-finished" and event.step == "batch plasma_cleaner":
            assert engine.control.state is RunState.PAUSED  # paused throughout the batch
            asyncio.get_running_loop().call_soon(engine.request, "resume", "looked", "ana")

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[observe]) as engine:
        assert await engine.run() == "completed"
    (pausing,) = [e for e in events if e.kind == PAUSING]
    w01, w02 = (w["wafer_id"] for w in store.wafers(engine.run_id))
    assert (pausing.wafer, pausing.tool, pausing.data) == (
        None,
        "plasma_cleaner",
        {"wafers": [w01, w02]},
    )
    assert pausing.message == (
        f"{w01}, {w02} finish their batch on plasma_cleaner first (in plasma clean; their "
        "steps on it, to the unload), then wait"
    )
    steps = [(e.kind, e.step) for e in events]
    assert steps.index(("step-finished", "unload")) < steps.index(("resumed", None))


async def test_a_pause_the_lot_finishes_under_says_it_had_nothing_left_to_pause(store):
    """The trial: `packline pause --by bo` while plasma-clean's one batch was in the chamber.
    The log read `paused`, `pausing ... then wait`, then `run-finished completed`, and the
    resume the pause seemed to wait for found nothing to resume: the batch was the lot's last
    stage, and no wafer was left to hold. The run says so, naming who paused it, before it
    ends completed, in its records, its piped log and above its live view."""
    events = []

    def observe(event):
        events.append(event)
        if event.kind == "step-started" and event.step == "plasma clean":
            engine.request("pause", "pause requested by bo from another process", "bo")

    drawn = io.StringIO()
    view = LiveView(Console(file=drawn, force_terminal=True, width=100, height=30))
    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[observe, view]) as engine:
        view.attach(engine, plan=False)
        with view:
            assert await engine.run() == "completed"
    kinds = [e.kind for e in events]
    last_wafer = max(i for i, kind in enumerate(kinds) if kind == "wafer-finished")
    order = [kinds.index(k) for k in ("paused", NOTHING_TO_PAUSE, "run-finished")]
    assert order == sorted(order)
    assert last_wafer < order[1]  # said once every wafer had ended
    (moot,) = [e for e in events if e.kind == NOTHING_TO_PAUSE]
    assert moot.message == (
        "pause requested by bo from another process: the lot finished before the pause held "
        "any wafer, nothing left to pause; the run ends completed"
    )
    assert moot.data == {"by": "bo"}
    (recorded,) = [e for e in store.events(engine.run_id) if e["kind"] == NOTHING_TO_PAUSE]
    assert (recorded["message"], recorded["data"]) == (moot.message, {"by": "bo"})
    assert store.run(engine.run_id)["status"] == "completed"
    printed = io.StringIO()
    PlainLog(Console(file=printed, width=200))(moot)
    assert f"] nothing-to-pause {moot.message}\n" in printed.getvalue()
    assert f"] nothing-to-pause {moot.message}\n" in drawn.getvalue()


async def test_a_pause_and_what_it_waits_for_read_one_moment(store, tmp_path):
    """The trial, on a line served at x60: `paused` read 0:00:46 and its `pausing` 0:00:52,
    the write of the run's paused status between two readings of the clock. The pause is one
    moment: its events read one time, as printed and as recorded."""
    told: list = []
    box: list = []

    def observe(event):
        told.append(event)
        if event.kind == "step-started" and event.step == "plasma clean":
            box[0].request("pause", "pause requested by bo from another process", "bo")

    run_id = await served_run(store, tmp_path, [observe], opened=box.append)
    (paused,) = [(e.t, e.wall) for e in told if e.kind == "paused"]
    (pausing,) = [(e.t, e.wall) for e in told if e.kind == PAUSING]
    assert pausing == paused
    recorded = {e["kind"]: (e["t"], e["wall"]) for e in store.events(run_id)}
    assert (recorded["paused"], recorded[PAUSING]) == (paused, paused)
