"""The live view's time left, from the line's schedule (issue 15): 2 to 4 times too high and
jumping when it was the elapsed time times the wafers left over the wafers finished.

A dry run of a lot records the schedule; a second dry run of the same recipe and lot is then
measured against it, and its estimate at each event compared with the time it really had left
(its own final run clock less the clock then).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sqlite3
import time

import pytest
from rich.console import Console

from packline.sequences.engine import LiveView, RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.eta import NO_BASIS, Estimate, eta_text, run_eta
from packline.sequences.engine.events import Event
from packline.sequences.engine.live_view import PLANNING
from packline.sequences.engine.lot_state import LotState
from packline.sequences.engine.schedule import (
    COUNTED_KINDS,
    RECIPE_BASIS,
    RecipeOutline,
    Schedule,
    ScheduledStep,
    recipe_outline,
    recorded_schedule,
)

LOT = 25


async def _dry_run(store, observers=(), attach=None, lot=LOT, method="plasma-clean"):
    prepared = prepare(RunRequest(method, lot=lot))
    async with open_run(store, prepared, observers=list(observers)) as engine:
        if attach is not None:
            attach(engine)
        assert await engine.run() == "completed"
    return engine.run_id


async def test_the_time_left_at_a_quarter_half_and_three_quarters_of_a_dry_run_lot(store):
    first = await _dry_run(store)
    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    samples: list[tuple[float, float | None]] = []
    second = await _dry_run(
        store,
        observers=[view, lambda event: samples.append((event.t, view.remaining_s()))],
        attach=view.attach,
    )
    assert view.state.schedule_note == f"from dry run {first}"
    run = store.run(second)
    final_s = run["stopped_t"] - run["started_t"]
    assert final_s > 30 * 60
    for fraction in (0.25, 0.5, 0.75):
        t, estimate = next((t, e) for t, e in samples if t >= fraction * final_s)
        true_left = final_s - t
        assert estimate == pytest.approx(true_left, rel=0.10), (fraction, t, estimate)
    # it does not jump: at every event the estimate and the clock add up to the same end
    ends = [t + estimate for t, estimate in samples if estimate is not None]
    assert max(ends) - min(ends) <= 0.01 * final_s


async def test_the_schedule_of_a_lot_a_dry_run_of_its_size_else_a_run_of_its_recipe_scaled(
    store,
):
    await _dry_run(store, lot=5)
    (run,) = store.runs(method="plasma-clean")
    recipe = run["recipe_hash"]
    assert recorded_schedule(store, "plasma-clean", "0" * 64, 5) is None
    assert recorded_schedule(store, "plasma-clean", recipe, 5, exclude_run=run["id"]) is None
    found = recorded_schedule(store, "plasma-clean", recipe, 5, time_scale=60)
    assert found is not None
    assert found.basis == f"from dry run {run['id']}"
    assert found.makespan_s == pytest.approx((run["stopped_t"] - run["started_t"]) / 60)
    assert {found.steps_of(p) for p in range(5)} == {8}
    scaled = recorded_schedule(store, "plasma-clean", recipe, 7)
    assert scaled is not None
    assert scaled.basis == f"from dry run {run['id']} of 5, scaled"
    assert {scaled.steps_of(p) for p in range(7)} == {8}
    # the chamber takes 4: the 5 ran in two batches (4 + 1), and so do 7 (4 + 3)
    assert scaled.makespan_s == pytest.approx(found.makespan_s * 60)
    await _dry_run(store, lot=7)
    exact = recorded_schedule(store, "plasma-clean", recipe, 7)
    assert exact is not None
    assert exact.basis.startswith("from dry run ")
    assert "scaled" not in exact.basis


async def test_a_station_run_of_the_lot_s_size_is_its_basis_unscaled(store):
    """A run on a station of the same recipe and lot size is the lot's schedule as it ran:
    its basis says 'scaled' only for another lot size, which it was scaled to."""
    run_id = await _dry_run(store, lot=3)
    with sqlite3.connect(store.path) as db:  # as a run on real tools records it
        db.execute("UPDATE runs SET simulated = 0 WHERE id = ?", (run_id,))
    recipe = store.run(run_id)["recipe_hash"]
    same = recorded_schedule(store, "plasma-clean", recipe, 3)
    assert same is not None
    assert same.basis == f"from run {run_id}"
    other = recorded_schedule(store, "plasma-clean", recipe, 5)
    assert other is not None
    assert other.basis == f"from run {run_id} of 3, scaled"


async def test_a_recipe_s_outline_names_a_station_run_s_tools_by_their_roles(store):
    """A `--fault` names a dry run's tool by its role; a run on a station records its tools
    by the station's names (`pc`): the recipe's outline from it gives their roles, and no
    tools (not known) from a run that recorded none of their roles (before schema 3)."""
    run_id = await _dry_run(store, lot=1)
    with sqlite3.connect(store.path) as db:  # as a station whose chamber is `pc` records it
        db.execute("UPDATE runs SET simulated = 0 WHERE id = ?", (run_id,))
        db.execute("UPDATE steps SET tool = 'pc' WHERE run_id = ?", (run_id,))
        db.execute("UPDATE tools SET name = 'pc' WHERE run_id = ?", (run_id,))
    run = store.run(run_id)
    text, recipe = run["recipe_text"], run["recipe_hash"]
    on_station = recipe_outline(store.path, "plasma-clean", text, recipe, {})
    assert isinstance(on_station, RecipeOutline)
    assert on_station.tools == ["plasma_cleaner"]
    assert on_station.steps[:3] == ["batch plasma_cleaner", "open door", "load"]
    assert on_station.confirmations == ["wafers W01 seated in the chamber slots"]
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM tools WHERE run_id = ?", (run_id,))
    unnamed = recipe_outline(store.path, "plasma-clean", text, recipe, {})
    assert unnamed == RecipeOutline(on_station.steps, None, on_station.confirmations)


async def test_a_recipe_s_outline_names_the_confirmations_its_steps_ask(store):
    """What a run on real tools that nobody can answer at is refused by: bump-seal-clean asks
    the operator to confirm the wafers seated in the plasma chamber, and not with the laser
    recipe, which cleans the tips without the chamber."""
    for recipe_name, asked in [
        (None, ["wafers W01 seated in the chamber slots"]),
        ("bump-seal-clean-laser", []),
    ]:
        prepared = prepare(RunRequest("bump-seal-clean", lot=1, recipe_path=recipe_name))
        async with open_run(store, prepared) as engine:
            assert await engine.run() == "completed"
        text, recipe = prepared.recipe_text, prepared.recipe.recipe_hash()
        outline = recipe_outline(store.path, "bump-seal-clean", text, recipe, {})
        assert isinstance(outline, RecipeOutline)
        assert outline.confirmations == asked, recipe_name


@pytest.mark.parametrize(
    ("method", "recorded", "lot", "tolerance"),
    [
        # a batch tool (the chamber takes 4): 25 wafers are 7 of its batches, exactly
        ("plasma-clean", 2, 25, 0.005),
        # serial tools, the wire bonder the slowest: 2 wafers leave at the saw's pace, not its
        ("bump-seal-clean", 2, 6, 0.03),
    ],
)
async def test_a_lot_scaled_from_a_smaller_dry_run_takes_the_makespan_a_dry_run_of_it_takes(
    store, method, recorded, lot, tolerance
):
    """Scaled at its bottleneck's pace (a batch tool's load leaving together), a smaller dry
    run's schedule ends when a dry run of the lot does: it took the 2-wafer time for a lot of
    25 (one batch, 292 s, for 7) and was 38 % short for bump-seal-clean's 6."""
    await _dry_run(store, lot=recorded, method=method)
    (run,) = store.runs(method=method)
    scaled = recorded_schedule(store, method, run["recipe_hash"], lot)
    assert scaled is not None
    assert scaled.basis.endswith(f"of {recorded}, scaled")
    truth = store.run(await _dry_run(store, lot=lot, method=method))
    true_makespan_s = truth["stopped_t"] - truth["started_t"]
    assert scaled.makespan_s == pytest.approx(true_makespan_s, rel=tolerance)


def test_a_schedule_scaled_to_a_larger_lot_repeats_its_last_wafer_at_its_pace():
    schedule = _pipeline()  # wafers leave at 200 and 300 s: one every 100 s
    assert schedule.interval_s == 100.0
    larger = schedule.for_lot(4, "from dry run D1 of 2, scaled")
    assert [step.end_s for step in larger.steps if step.position == 3] == [400.0, 500.0]
    assert larger.makespan_s == 500.0
    smaller = schedule.for_lot(1, "scaled")
    assert smaller.steps_of(0) == 2
    assert smaller.steps_of(1) == 0
    assert smaller.makespan_s == 200.0


def test_a_dry_run_scaled_to_a_served_line_s_lot_keeps_its_pace_in_the_line_s_time():
    """A dry run of 2 wafers (leaving at 200 and 300 s of process time) for a lot of 4 on a
    line served 60 times faster: each further wafer 100 s / 60 later, not 100 s / 3600 (the
    pace was divided by the time scale twice, leaving the lot the 2-wafer time)."""
    rows = [
        {"id": step_id, "session": 1, "wafer_id": wafer, "key": key, "stage": None,
         "kind": "step", "status": "completed", "started_t": end - 100.0, "stopped_t": end}
        for step_id, (end, wafer, key) in enumerate(
            [(100, "W0", "a#1"), (200, "W0", "b#1"), (200, "W1", "a#1"), (300, "W1", "b#1")]
        )
    ]  # fmt: skip
    schedule = Schedule.from_rows(rows, {"W0": 0, "W1": 1}, 0.0, 300.0, time_scale=60)
    assert schedule.interval_s == pytest.approx(100.0 / 60)
    assert schedule.for_lot(4, "scaled").makespan_s == pytest.approx(500.0 / 60)


def test_the_eta_names_its_basis_and_on_a_station_the_time_of_day_it_ends():
    noon = time.mktime((2026, 11, 30, 12, 0, 0, 0, 0, -1))
    station = eta_text(3600.0, "from dry run D1", simulated=False, now_wall=noon)
    assert station == "left about 1:00:00, ETA 13:00 (from dry run D1)"
    dry = eta_text(90.0, RECIPE_BASIS, simulated=True, now_wall=noon)
    assert dry == "left about 0:01:30 (from the recipe's step times)"
    assert eta_text(None, NO_BASIS, simulated=False) == f"ETA unknown: {NO_BASIS}"
    tomorrow = eta_text(14 * 3600.0, "from dry run D1", simulated=False, now_wall=noon)
    assert ", ETA Tue 02:00 " in tomorrow


def _pipeline() -> Schedule:
    """Two wafers through two 100 s tools, the second a tool behind the first: a = wafer 0
    on tool A 0-100, then B 100-200; wafer 1 on A 100-200, then B 200-300."""
    steps = [(100, 0, "a#1"), (200, 0, "b#1"), (200, 1, "a#1"), (300, 1, "b#1")]
    return Schedule(tuple(ScheduledStep(*s) for s in steps), 300.0, "D1", 100.0)


def test_the_estimate_runs_down_with_the_clock_and_holds_while_a_step_overruns():
    estimate = Estimate(_pipeline())
    estimate.start(0.0)
    assert estimate.remaining_s(0.0) == 300.0
    assert estimate.remaining_s(60.0) == 240.0
    assert estimate.remaining_s(150.0) == 200.0  # the first step is late: the estimate holds
    estimate.progressed(0, 1, 150.0)
    assert estimate.remaining_s(150.0) == 200.0
    assert estimate.remaining_s(200.0) == 150.0
    estimate.progressed(0, 2, 250.0)
    estimate.progressed(1, 1, 250.0)
    assert estimate.remaining_s(250.0) == 100.0


def test_a_paused_run_s_estimate_stands_still_and_a_held_wafer_s_steps_leave_it():
    estimate = Estimate(_pipeline())
    estimate.start(0.0)
    estimate.pause(50.0)
    assert estimate.remaining_s(500.0) == 250.0
    estimate.resume(500.0)
    assert estimate.remaining_s(520.0) == 230.0
    estimate.progressed(0, 1, 600.0)
    estimate.wafer_stopped(1, 600.0)  # held before its first step: only wafer 0's b is left
    assert estimate.remaining_s(600.0) == 100.0


def test_a_schedule_found_mid_run_counts_the_steps_done_and_the_wafers_stopped():
    """A schedule that comes while the run goes (a planning pass ended) is measured from what
    the run did: wafer 0 finished its first step at 150 s and started its second, and wafer 1
    was held, so only wafer 0's second step (ending at 200 s by the schedule) is left, 50 s
    after the point it reached."""
    state = LotState()
    state.apply(Event("run-started", "R1", 0.0, 0.0, data={"wafers": ["W0", "W1"]}))
    step = {"wafer": "W0", "step": "a", "tool": "A"}
    state.apply(Event("step-started", "R1", 0.0, 0.0, **step, data={"step_id": 1, "key": "a#1"}))
    state.apply(
        Event("step-finished", "R1", 150.0, 0.0, **step, status="completed", data={"step_id": 1})
    )
    state.apply(Event("wafer-finished", "R1", 150.0, 0.0, wafer="W1", status="held"))
    second = {"wafer": "W0", "step": "b", "tool": "B"}
    state.apply(
        Event("step-started", "R1", 150.0, 0.0, **second, data={"step_id": 2, "key": "b#1"})
    )
    state.set_schedule(_pipeline(), t=150.0)
    assert state.remaining_s(150.0) == 100.0
    assert state.remaining_s(180.0) == 70.0


async def test_the_dashboard_s_eta_from_the_records_is_the_live_view_s(store):
    """The dashboard replays a run's records into the same estimate the live view feeds
    from the engine's events: at every step's start, and while the run is paused,
    both say the same time left and why it stands still (`(paused)`, `(waiting)`), and the
    dashboard's text says why as the view's does."""
    first = await _dry_run(store, lot=3)
    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    pairs: list[tuple[float | None, str, tuple[float | None, str, str]]] = []
    texts: list[str] = []
    box: list = []

    def compare(event) -> None:
        # at a start (a batch's steps end together, told to the view one wafer at a time)
        if event.kind in ("step-started", "paused"):
            live = (view.remaining_s(), view.state.holding())
            pairs.append((*live, run_eta(store, event.run_id)))
        if event.kind == "step-finished" and event.step == "pump down" and not texts:
            box[0].request("pause", "test", "ana")
        if event.kind == "paused":
            texts.append(eta_text(*run_eta(store, event.run_id), simulated=False, left=False))
            asyncio.get_running_loop().call_soon(box[0].request, "resume", "test", "ana")

    await _dry_run(
        store, observers=[view, compare], attach=lambda e: (view.attach(e), box.append(e)), lot=4
    )
    assert len(pairs) > 20
    basis = f"from dry run {first} of 3, scaled"
    for live, live_holding, (recorded, recorded_basis, recorded_holding) in pairs:
        assert recorded_basis == basis
        assert recorded == pytest.approx(live, abs=1.0)
        assert recorded_holding == live_holding
    assert {holding for _, holding, _ in pairs} == {"", "waiting", "paused"}
    (paused,) = texts
    assert re.fullmatch(rf"left about \d:\d\d:\d\d \(paused\), ETA .* \({basis}\)", paused)


async def test_a_resume_s_estimate_counts_the_steps_its_wafers_completed_before(store):
    """A resume skips the steps a wafer completed before a whole stage at a time (a stage done
    is not entered), so few of them are recorded as skipped: its estimate had counted those
    alone, 9 of W02's 17 steps in the trial's resume, and read 43 min for 19.5. The live view's
    estimate counts every step each wafer completed in the session before, as the dashboard's
    does from the records: bump-seal-clean aborted as W01 starts its dicing, the last step of
    its script, is measured at the resume's first step from where each wafer got to."""
    first = await _dry_run(store, lot=2, method="bump-seal-clean")
    box: list = []

    def abort_at_the_dicing(event) -> None:
        if event.kind == "step-started" and (event.wafer, event.step) == ("W01", "dice"):
            box[0].request("abort", "test", "ana")

    prepared = prepare(RunRequest("bump-seal-clean", lot=2))
    async with open_run(store, prepared, observers=[abort_at_the_dicing]) as engine:
        box.append(engine)
        assert await engine.run() == "aborted"
    with sqlite3.connect(store.path) as db:
        completed = dict(
            db.execute(
                "SELECT wafer_id, COUNT(DISTINCT key) FROM steps WHERE run_id = ? "
                "AND kind IN ('step', 'batch-step') AND status = 'completed' GROUP BY wafer_id",
                (engine.run_id,),
            ).fetchall()
        )
    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    seen: list[tuple[dict[int, int], float | None, float | None]] = []

    def at_the_first_step(event) -> None:
        if event.kind == "step-started" and event.data.get("kind") == "step" and not seen:
            estimate = view.state.estimate
            assert estimate is not None
            recorded, _, _ = run_eta(store, event.run_id)
            seen.append((dict(estimate.done), view.remaining_s(), recorded))

    async with open_resume(store, engine.run_id, observers=[view, at_the_first_step]) as resumed:
        view.attach(resumed)
        assert view.state.schedule_note == f"from dry run {first}"
        assert await resumed.run() == "held"  # W01, its dicing cut off; W02 completed
    ((done, live, recorded),) = seen
    assert completed["W01"] > 10  # its bonding, sealing and cleaning stages
    assert done == {0: completed["W01"], 1: completed["W02"]}
    assert recorded == pytest.approx(live, abs=1.0)


async def test_without_any_run_of_the_recipe_the_view_plans_it_from_its_step_times(store):
    """No ETA until a dry run of the recipe and lot size existed: the view plans the recipe
    (a dry run of one wafer in a process of its own) and scales it to the lot."""
    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    samples: list[tuple[float, float | None]] = []
    prepared = prepare(RunRequest("plasma-clean", lot=LOT))
    async with open_run(
        store, prepared, observers=[view, lambda e: samples.append((e.t, view.remaining_s()))]
    ) as engine:
        view.attach(engine)
        assert view.state.schedule_note == PLANNING
        with view:
            assert view.planner is not None
            # out of the terminal's process group: a Ctrl-C that pauses the run spares it
            assert os.getpgid(view.planner.pid) != os.getpgrp()
            assert view.planner.wait(timeout=300) == 0
            assert await engine.run() == "completed"
        assert view.planner is None
    assert view.state.schedule_note == RECIPE_BASIS
    assert store.runs(method="plasma-clean")[0]["id"] == engine.run_id  # planned elsewhere
    run = store.run(engine.run_id)
    final_s = run["stopped_t"] - run["started_t"]
    for fraction in (0.25, 0.5, 0.75):
        t, estimate = next((t, e) for t, e in samples if t >= fraction * final_s)
        assert estimate == pytest.approx(final_s - t, rel=0.10), (fraction, t, estimate)


async def test_a_stacked_recipe_s_view_plans_a_whole_stack(store):
    """tape-substrate-stacked refuses a lot of one panel (stack.levels = 5), so the view's
    plan of one wafer failed and a lot of it ran without an ETA: the view plans the least lot
    the recipe makes, a whole stack, and the run is measured against it."""
    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    prepared = prepare(RunRequest("tape-substrate", lot=5, recipe_path="tape-substrate-stacked"))
    async with open_run(store, prepared, observers=[view]) as engine:
        view.attach(engine)
        assert view.state.schedule_note == PLANNING
        with view:
            assert view.planner is not None
            assert view.planner.wait(timeout=300) == 0
            assert await engine.run() == "completed"
    assert view.state.schedule_note == RECIPE_BASIS
    assert view.remaining_s() == 0


async def _resumed_with_the_dashboard(store, run_id, compared_at, line_ready=None):
    """Resume run `run_id` under a live view (its simulated line handed to `line_ready`);
    at each of its events of a kind in
    `compared_at`, whether a wafer had started in the resume yet, the time left as the view
    says it and as the dashboard reads it from the records (`run_eta`), and the steps each
    counts done by position (the dashboard's: the `Estimate` `run_eta` made)."""
    from packline.sequences.engine import eta

    estimates: list[Estimate] = []

    class Kept(Estimate):
        def __init__(self, schedule: Schedule) -> None:
            super().__init__(schedule)
            estimates.append(self)

    view = LiveView(Console(file=io.StringIO(), force_terminal=True))
    seen: list[tuple[bool, float | None, float | None, dict[int, int], dict[int, int]]] = []
    started: list[str] = []

    def compare(event) -> None:
        if event.kind == "wafer-started":
            started.append(event.wafer)
        if event.kind in compared_at:
            estimate = view.state.estimate
            assert estimate is not None
            recorded, _, _ = run_eta(store, event.run_id)
            done = {p: n for p, n in estimate.done.items() if n}
            seen.append((bool(started), view.remaining_s(), recorded, done, estimates[-1].done))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eta, "Estimate", Kept)
        async with open_resume(
            store, run_id, observers=[view, compare], line_ready=line_ready
        ) as resumed:
            view.attach(resumed)
            await resumed.run()
    return seen


async def test_a_step_released_in_an_earlier_session_counts_as_done_on_the_dashboard_too(store):
    """The live view of a resume counts a step an operator released as done (its plan's
    `completed_steps`); the dashboard counted the sessions before's completed steps alone, so
    the plasma clean released in session 3 was left to do in its estimate of session 4 (4
    steps done of each released wafer's 8, where the view had 5). Both count it from the
    resume's first step."""
    from packline.sequences.engine import Decision, record_disposition

    from ..test_dispositions import held_lot

    await _dry_run(store, lot=5)
    run_id = await held_lot(store)  # W01-W04 held in their cut-off plasma clean
    for wafer in ("W01", "W02", "W03", "W04"):
        record_disposition(store, run_id, wafer, Decision.RELEASE, "ana", "inspected: clean")
    box: list = []

    def abort_at_a_step(event) -> None:
        if event.kind == "step-started" and not box[1:]:
            box.append(event)
            box[0].request("abort", "test", "ana")

    async with open_resume(store, run_id, observers=[abort_at_a_step]) as resumed:
        box.append(resumed)
        assert await resumed.run() == "aborted"
    released = [s for s in store.steps(run_id) if s["session"] == 3 and s["status"] == "skipped"]
    assert {s["wafer_id"] for s in released} == {"W01", "W02", "W03", "W04"}
    ((_, live, recorded, done, recorded_done), *_) = await _resumed_with_the_dashboard(
        store, run_id, ("step-started",)
    )
    assert done == {0: 5, 1: 5, 2: 5, 3: 5, 4: 8}  # W05 completed in session 2
    assert recorded_done == done
    assert recorded == pytest.approx(live, abs=1.0)


async def test_a_resume_s_wafers_the_earlier_session_terminated_count_until_they_run_again(store):
    """A resume's wafers an earlier session terminated keep that status in their records
    until their tasks start in it, while the resume reaches and recovers its tools: the
    dashboard counted them stopped, every step of theirs out of its estimate, and read
    `left about 0:00:00` for a lot of 6 whose live view, seeded by the resume's plan, read
    501 s. It counts the wafers the resume's plan runs, as the view does."""
    from ..helpers import stopped_at

    await _dry_run(store, lot=6)
    run_id = await stopped_at(store, RunRequest("plasma-clean", lot=6), "pump down")
    assert {w["status"] for w in store.wafers(run_id)} == {"terminated"}
    seen = await _resumed_with_the_dashboard(store, run_id, ("tool-recovered", "step-started"))
    started, live, _, _, _ = seen[0]
    assert not started  # the tool recovered before a wafer started
    assert live is not None
    assert live > 300
    for _, live, recorded, live_done, recorded_done in seen:
        assert recorded == pytest.approx(live, abs=1.0)
        assert recorded_done == live_done


async def test_a_step_done_under_its_name_before_a_rename_counts_once_on_the_dashboard(store):
    """A step an earlier session completed under its name before a rename
    (`Method.renamed_steps`: two-process-via's 'mount chips', now 'mount devices') is the
    step of its new name, which the resume records as skipped in the stage it replays: the
    live view's plan reads it so, and the dashboard counted it twice (W01's done one step
    ahead of the view's from the skip on), its estimate short by that step's share."""
    from ..test_recorded_runs import NEW_STEP, mounting_recorded_before_the_rename

    await _dry_run(store, lot=1, method="two-process-via")
    run_id = await mounting_recorded_before_the_rename(store, "completed")
    seen = await _resumed_with_the_dashboard(store, run_id, ("step-started",))
    skipped = [s for s in store.steps(run_id) if s["session"] == 2 and s["status"] == "skipped"]
    assert NEW_STEP in {s["name"] for s in skipped}
    assert len(seen) >= 5
    for _, live, recorded, live_done, recorded_done in seen:
        assert recorded_done == live_done
        assert recorded == pytest.approx(live, abs=1.0)


async def test_a_schedule_counts_from_the_recorded_run_s_start_after_its_tools_were_reached(
    store,
):
    """A station run records its start once its tools are reached, after its run clock
    began (`started_t`): the schedule it gives counts from there, as the run measured
    against it does from its own start, so the same lot recorded 1.6 s into its clock gives
    the same schedule (from the clock's zero, every step 1.6 s later and the ETA that high)."""
    run_id = await _dry_run(store, lot=2)
    run = store.run(run_id)
    lot = (run["method"], run["recipe_hash"], 2)
    from_zero = recorded_schedule(store, *lot)
    assert run["started_t"] == 0.0  # a dry run's start is its clock's zero
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE runs SET started_t = started_t + 1.6, stopped_t = stopped_t + 1.6 WHERE id = ?",
            (run_id,),
        )
        db.execute(
            "UPDATE steps SET started_t = started_t + 1.6, stopped_t = stopped_t + 1.6 "
            "WHERE run_id = ?",
            (run_id,),
        )
    reached_later = recorded_schedule(store, *lot)
    assert from_zero is not None
    assert reached_later is not None
    assert [s.end_s for s in reached_later.steps] == pytest.approx(
        [s.end_s for s in from_zero.steps]
    )
    assert reached_later.makespan_s == pytest.approx(from_zero.makespan_s)
    assert Estimate(reached_later).remaining_s(0.0) == pytest.approx(from_zero.makespan_s)


def idle_inserted(db, run_id: str, at_t: float, idle_s: float) -> None:
    """Run `run_id`'s records in run database `db` as if its line had stood idle for `idle_s`
    from run clock `at_t`, a moment no step ran: every step (and stage) that ended after it
    or started from then on ends later by `idle_s`, every one that started from then on starts
    later by as much, and so do every event after it and the run's end."""
    db.execute(
        "UPDATE steps SET stopped_t = stopped_t + ?1 "
        "WHERE run_id = ?2 AND (stopped_t > ?3 OR started_t >= ?3)",
        (idle_s, run_id, at_t),
    )
    db.execute(
        "UPDATE steps SET started_t = started_t + ?1 WHERE run_id = ?2 AND started_t >= ?3",
        (idle_s, run_id, at_t),
    )
    db.execute("UPDATE events SET t = t + ? WHERE run_id = ? AND t > ?", (idle_s, run_id, at_t))
    db.execute("UPDATE runs SET stopped_t = stopped_t + ? WHERE id = ?", (idle_s, run_id))


async def test_a_basis_run_s_pause_and_waits_for_an_operator_are_no_time_of_its_schedule(
    store,
):
    """The new tester's case: a run paused 22 s became the basis of the next lot's ETA,
    which read its 124.9 s with the pause in it, 8 % high (a pause can last a night, an
    operator answer a confirmation late). The spans a run's line stood idle for an
    operator are taken out of its schedule: the same lot recorded with an 8 h pause and a
    confirmation answered 20 min after it was asked gives the schedule it gave without."""
    run_id = await _dry_run(store, lot=2)
    run = store.run(run_id)
    lot = (run["method"], run["recipe_hash"], 2)
    unpaused = recorded_schedule(store, *lot)
    steps = [s for s in store.table("steps", run_id) if s["kind"] in COUNTED_KINDS]
    ends = {s["stopped_t"] for s in steps}
    between = sorted(t for t in ends if not any(s["started_t"] < t < s["stopped_t"] for s in steps))
    paused_t, asked_t = between[len(between) // 3], between[2 * len(between) // 3]
    assert 0 < paused_t < asked_t < run["stopped_t"]
    step = next(s for s in steps if s["stopped_t"] == asked_t)
    night, late = 8 * 3600.0, 20 * 60.0
    with sqlite3.connect(store.path) as db:
        idle_inserted(db, run_id, asked_t, late)
        idle_inserted(db, run_id, paused_t, night)
        asked_t += night
        events = [
            ("paused", None, paused_t, {}),
            ("resumed", None, paused_t + night, {}),
            (
                "confirmation-asked",
                step["wafer_id"],
                asked_t,
                {"step_id": step["id"], "prompt": "ok?"},
            ),
        ]
        for kind, wafer_id, t, data in events:
            db.execute(
                "INSERT INTO events (run_id, session, kind, wafer_id, message, t, wall, data) "
                "VALUES (?, 1, ?, ?, '', ?, ?, ?)",
                (run_id, kind, wafer_id, t, run["started_wall"] + t, json.dumps(data)),
            )
        db.execute(
            "INSERT INTO confirmations (run_id, wafer_id, step_id, prompt, confirmed, by, t, wall) "
            "VALUES (?, ?, ?, 'ok?', 1, 'ana', ?, ?)",
            (
                run_id,
                step["wafer_id"],
                step["id"],
                asked_t + late,
                run["started_wall"] + asked_t + late,
            ),
        )
    recorded = recorded_schedule(store, *lot)
    assert store.run(run_id)["stopped_t"] == pytest.approx(run["stopped_t"] + night + late)
    assert unpaused is not None
    assert recorded is not None
    assert [s.end_s for s in recorded.steps] == pytest.approx([s.end_s for s in unpaused.steps])
    assert recorded.makespan_s == pytest.approx(unpaused.makespan_s)
    assert recorded.interval_s == pytest.approx(unpaused.interval_s)


async def test_the_dashboard_s_eta_of_a_run_of_a_method_this_release_does_not_have(store):
    """Records of a method this install does not have (another install's, or one retired)
    still get their time left on the dashboard, their steps under the names they were
    recorded with, rather than an error naming the unknown method."""
    await _dry_run(store, lot=2)
    second = await _dry_run(store, lot=2)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET method = 'retired-method'")
    left, basis, _ = run_eta(store, second)
    assert left is not None
    assert basis.startswith("from dry run")


async def test_a_resume_s_wafer_held_again_in_it_leaves_the_dashboard_s_estimate(store):
    """A wafer a resume runs again and stops in the same session (held: the chamber leaked
    in its batch's pump down) leaves the live view's estimate at its `wafer-finished`; the
    dashboard, which looked for that event in the records, where it is not kept, went on
    counting the wafer as running again, its steps still to do. It reads the wafer's end
    from its record, as the view does from the event."""
    from ..helpers import stopped_at

    await _dry_run(store, lot=5)
    run_id = await stopped_at(store, RunRequest("plasma-clean", lot=5), "pump down")

    def leak(line) -> None:
        line.tools["plasma_cleaner"].inject_fault("chamber_leak")

    seen = await _resumed_with_the_dashboard(
        store, run_id, ("wafer-finished", "waiting-for-clear", "run-finished"), leak
    )
    held = {w["wafer_id"] for w in store.wafers(run_id) if w["status"] == "held"}
    assert held
    assert len(seen) > len(held)
    for _, live, recorded, live_done, recorded_done in seen:
        assert recorded == pytest.approx(live, abs=1.0)
        assert recorded_done == live_done
