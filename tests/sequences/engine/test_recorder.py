"""What a run records as it goes and the events that tell it (sequences/engine/recorder.py):
each moment at one reading of the clocks, its records and its events alike."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from packline.sequences.engine.recorder import EventLog, StepRecorder

from .test_progress import served_run


async def test_a_step_s_events_read_the_times_its_record_reads(store, tmp_path):
    """On a line served at x300 a step's `step-started` event was stamped with a second
    reading of the clock, after the write of its record, and read later than the record
    `show` and the summary read (the view's time on the line of a wafer with it); its
    `step-finished` likewise. Each step's record and its events are one reading now."""
    told: list = []
    run_id = await served_run(store, tmp_path, [told.append])
    recorded = {
        row["id"]: (
            (row["started_t"], row["started_wall"]),
            (row["stopped_t"], row["stopped_wall"]),
        )
        for row in store.table("steps", run_id)
    }
    started = {e.data["step_id"]: (e.t, e.wall) for e in told if e.kind == "step-started"}
    finished = {e.data["step_id"]: (e.t, e.wall) for e in told if e.kind == "step-finished"}
    assert len(recorded) > 2
    assert {step: (started[step], finished[step]) for step in recorded} == recorded


async def test_a_run_s_start_is_its_run_started_event_s_time(store, tmp_path):
    """On a line served at x300 the run's start was read three times: its runs row's
    `started_t`, its `started_wall` a moment apart, and its `run-started` event later still,
    once the line had said which faults it had injected. The live view's ETA counts the run
    from its `run-started` (`Estimate.start`), a reference run's schedule from its row's
    `started_t` (`schedule._schedule_of`): the two were that much apart. The row and the
    event are one reading now."""
    told: list = []
    run_id = await served_run(store, tmp_path, [told.append])
    run = store.run(run_id)
    (began,) = [(e.t, e.wall) for e in told if e.kind == "run-started"]
    assert began == (run["started_t"], run["started_wall"])


@pytest.mark.parametrize(
    ("low", "above", "recorded"),
    [(183.0, True, 1), (183.0, False, 0), (None, True, None), (None, False, None)],
    ids=["to-pass", "to-reach", "no-low-above", "no-low"],
)
def test_a_measurement_records_whether_its_low_limit_was_to_pass(store, low, above, recorded):
    """`measure(..., above=True)` judges a value that must pass `low`, not reach it (a reflow's
    peak, its solder's liquidus), and the records had kept `low` alone, which every reader
    read as a limit reached. The row and the `measurement` event say which (`low_exclusive`
    1 or 0; None without a low limit, where there is nothing to pass), decision 0129."""
    told: list = []
    events = EventLog("R1", 1, store, lambda: 0.0, [told.append])
    recorder = StepRecorder(events, store, None, side_workpieces=None, simulated=True, confirm=None)
    wafer = SimpleNamespace(id="W01", step_id=None)
    recorder.measure([wafer], "reflow peak", 219.8, "degC", low, 308.0, "tool", above=above)
    (row,) = store.table("measurements", "R1")
    (event,) = [e for e in told if e.kind == "measurement"]
    assert (row["low"], row["low_exclusive"], row["passed"]) == (low, recorded, 1)
    assert (event.data["low"], event.data["low_exclusive"]) == (low, recorded)
