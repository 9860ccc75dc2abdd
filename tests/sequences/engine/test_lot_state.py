"""What the live view knows of a run waiting for a clear (sequences/engine/lot_state.py): its
title's state, through a pause, and its ETA, which it has none of (decision 0104)."""

from __future__ import annotations

from packline.sequences.engine.eta import TERMINATING, WAITING_FOR_A_CLEAR, eta_text
from packline.sequences.engine.events import Event
from packline.sequences.engine.lot_state import LotState


def event(kind: str, t: float, message: str = "", **data) -> Event:
    return Event(kind, "R", t, t, message=message, data=data)


def test_a_run_waiting_for_a_clear_has_no_eta_and_waits_again_after_a_pause():
    state = LotState("plasma-clean")
    state.apply(event("run-started", 0.0, wafers=["W01"]))
    state.apply(event("waiting-for-clear", 5.0, "every wafer left is held; ..."))
    assert (state.run_state, state.holding()) == (WAITING_FOR_A_CLEAR, WAITING_FOR_A_CLEAR)
    # it had read `left about 0:00:00 (waiting), ETA` the time of day now
    assert eta_text(0.0, "basis", state.holding(), simulated=False) == (
        "no ETA while the run is waiting for a clear"
    )
    state.apply(event("paused", 6.0, "pause requested by ana"))
    assert state.run_state == "paused"
    state.apply(event("resumed", 7.0, "resume requested by ana"))  # it had read running
    assert (state.run_state, state.run_note) == (
        WAITING_FOR_A_CLEAR,
        "every wafer left is held; ...",
    )
    state.apply(event("terminating", 8.0, "terminate requested by ana"))
    state.apply(event("paused", 9.0))
    state.apply(event("resumed", 10.0))
    assert state.run_state == "running"  # the wait ended with the terminate


def test_a_run_being_terminated_has_no_eta():
    """A tester's dashboard gave `ETA 22:32` beside `running, terminating since 22:31:49`: a
    terminate stops each wafer at its next step boundary, which no schedule of the whole lot
    says when comes."""
    state = LotState("plasma-clean")
    state.apply(event("run-started", 0.0, wafers=["W01"]))
    state.apply(event("terminating", 8.0, "terminate requested by ana"))
    assert state.holding() == TERMINATING
    assert eta_text(120.0, "basis", state.holding(), simulated=False) == (
        "no ETA while the run is terminating: each wafer stops at its next step boundary"
    )


def test_a_wafer_is_on_the_line_from_its_first_counted_step_not_its_batch():
    """The view started a wafer's time on the line at its first step of any kind, the batch
    it joins, where the records start it at its first counted step (`report.first_steps`):
    W01 waited 4 s in its batch before its first step and read 4 s more on the line than
    `show` gave it."""
    state = LotState("plasma-clean")
    state.apply(event("run-started", 0.0, wafers=["W01"]))
    batch = {"step_id": 1, "key": "batch plasma_cleaner#1", "kind": "batch"}
    state.apply(Event("step-started", "R", 1.0, 1.0, wafer="W01", data=batch))
    assert (state.wafers["W01"].status, state.wafers["W01"].started_t) == ("running", None)
    first = {"step_id": 2, "key": "load#1", "kind": "step"}
    state.apply(Event("step-started", "R", 5.0, 5.0, wafer="W01", data=first))
    assert state.wafers["W01"].started_t == 5.0
