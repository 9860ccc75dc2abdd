"""Where a run cut off left its wafers, as `show` and `wafer` say it, and a run's status in
words."""

from __future__ import annotations

import pytest

from packline.sequences.engine.liveness import cut_off_reason, status_text, where_it_stands

LABELS = {1: "load", 2: "plasma clean", 3: "unload"}


def step(step_id: int, status: str) -> dict:
    return {"id": step_id, "status": status}


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ([], "cut off before its first step"),
        ([step(1, "completed"), step(2, "running")], "cut off in plasma clean"),
        ([step(1, "completed"), step(2, "completed")], "cut off after plasma clean"),
        # a later session closed the step its predecessor was cut off in, and was cut off
        # before it ran it again: the wafer is still in it
        ([step(1, "completed"), step(2, "interrupted")], "cut off in plasma clean"),
        ([step(2, "interrupted"), step(2, "completed"), step(3, "completed")],
         "cut off after unload"),
    ],
)  # fmt: skip
def test_a_wafer_cut_off_is_in_the_last_step_it_started_or_after_it(steps, reason):
    assert cut_off_reason(steps, LABELS) == reason


def test_a_wafer_of_a_run_still_driven_is_after_a_step_a_resume_closed():
    """A step a resume closed `interrupted` has ended for the session that goes on: the wafer
    stands after it (queued to run it again), not in it as a run cut off leaves it."""
    steps = [step(1, "completed"), step(2, "interrupted")]
    assert where_it_stands(steps, LABELS) == "after plasma clean"
    assert where_it_stands([*steps, step(2, "running")], LABELS) == "in plasma clean"
    assert where_it_stands([], LABELS) == "before its first step"


@pytest.mark.parametrize(
    ("status", "completed", "scrapped", "text"),
    [
        ("completed", 1, 1, "completed, 1 of 2 wafers scrapped"),
        ("completed", 0, 2, "completed, every wafer scrapped"),
        ("completed", 2, 0, "completed"),
        ("held", 1, 1, "held"),  # its wafers are not all decided: `held` says so
    ],
)
def test_a_completed_run_that_scrapped_a_wafer_says_what_its_lot_lost(
    status, completed, scrapped, text
):
    """A lot of 2 whose W01 was scrapped read plain `completed` beside `2 (1 done, 0 held, 1
    scrapped)`, as if it had yielded every wafer."""
    assert status_text(status, False, wafers_completed=completed, wafers_scrapped=scrapped) == (
        text
    )
