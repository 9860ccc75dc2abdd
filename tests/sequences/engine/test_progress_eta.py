"""The live view's time left, from the line's schedule (issue 15): 2 to 4 times too high and
jumping when it was the elapsed time times the wafers left over the wafers finished.

A dry run of a lot records the schedule; a second dry run of the same recipe and lot is then
measured against it, and its estimate at each event compared with the time it really had left
(its own final run clock less the clock then).
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from packline.sequences.engine import LiveView, RunRequest, open_run, prepare
from packline.sequences.engine.schedule import Estimate, Schedule, ScheduledStep, recorded_schedule

LOT = 25


async def _dry_run(store, observers=(), attach=None, lot=LOT):
    prepared = prepare(RunRequest("plasma-clean", lot=lot))
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
    assert view.state.schedule_note == f"by dry run {first}"
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


async def test_no_schedule_without_a_completed_dry_run_of_the_same_recipe_and_lot(store):
    await _dry_run(store, lot=5)
    (run,) = store.runs(method="plasma-clean")
    assert recorded_schedule(store, "plasma-clean", "0" * 64, 5) is None
    assert recorded_schedule(store, "plasma-clean", run["recipe_hash"], 6) is None
    assert (
        recorded_schedule(store, "plasma-clean", run["recipe_hash"], 5, exclude_run=run["id"])
        is None
    )
    found = recorded_schedule(store, "plasma-clean", run["recipe_hash"], 5, time_scale=60)
    assert found is not None
    assert found.run_id == run["id"]
    assert found.makespan_s == pytest.approx((run["stopped_t"] - run["started_t"]) / 60)
    assert {found.steps_of(p) for p in range(5)} == {8}


def _pipeline() -> Schedule:
    """Two wafers through two 100 s tools, the second a tool behind the first: a = wafer 0
    on tool A 0-100, then B 100-200; wafer 1 on A 100-200, then B 200-300."""
    steps = [(100, 0, "a#1"), (200, 0, "b#1"), (200, 1, "a#1"), (300, 1, "b#1")]
    return Schedule("D1", tuple(ScheduledStep(*s) for s in steps), 300.0)


def test_the_estimate_runs_down_with_the_clock_and_holds_while_a_step_overruns():
    estimate = Estimate(_pipeline())
    estimate.start(0.0)
    assert estimate.remaining_s(0.0) == 300.0
    assert estimate.remaining_s(60.0) == 240.0
    assert estimate.remaining_s(150.0) == 200.0  # the first step is late: the estimate holds
    estimate.step_done(0, 150.0)
    assert estimate.remaining_s(150.0) == 200.0
    assert estimate.remaining_s(200.0) == 150.0
    estimate.step_done(0, 250.0)
    estimate.step_done(1, 250.0)
    assert estimate.remaining_s(250.0) == 100.0


def test_a_paused_run_s_estimate_stands_still_and_a_held_wafer_s_steps_leave_it():
    estimate = Estimate(_pipeline())
    estimate.start(0.0)
    estimate.pause(50.0)
    assert estimate.remaining_s(500.0) == 250.0
    estimate.resume(500.0)
    assert estimate.remaining_s(520.0) == 230.0
    estimate.step_done(0, 600.0)
    estimate.wafer_stopped(1, 600.0)  # held before its first step: only wafer 0's b is left
    assert estimate.remaining_s(600.0) == 100.0
