"""A run's report says why a dry run has no claim check: not yet, cut off, ended early, or a
method that declares none, and how long a run ran by its clock (sequences/engine/report.py)."""

from __future__ import annotations

import pytest

from packline.cli.summary import clocks_text
from packline.sequences.engine.cut_off import record_cut_off_session
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.report import (
    claim_check_report,
    run_report,
    station_claim_check,
    tool_waits,
)

from ..processes import killed_in_step


class NoClaimChecks:
    """A run store whose run recorded no claim check."""

    def table(self, name: str, run_id: str) -> list[dict[str, object]]:
        assert name == "claim_checks"
        return []


@pytest.mark.parametrize(
    ("status", "note"),
    [
        ("running", "not made yet: the run is running; it is made at the run's end"),
        ("paused", "not made yet: the run is paused; it is made at the run's end"),
        (
            "interrupted",
            "not made: the run was cut off before its end; a resume that ends it makes it",
        ),
        ("aborted", "not made: the run ended aborted before it"),
        ("completed", "none: the method declares no claim conditions"),
    ],
)
def test_a_dry_run_without_a_claim_check_says_why(status, note):
    run = {"id": "r", "simulated": 1, "status": status}
    report = claim_check_report(NoClaimChecks(), run, [])  # type: ignore[arg-type]
    assert (report["status"], report["note"]) == ("not run", note)


def _event(n: int, session: int, kind: str, t: float, **fields: object) -> dict[str, object]:
    """A run's events row (`RunStore.events`): id `n`, at run clock and wall time `t`."""
    return {
        "id": n,
        "session": session,
        "kind": kind,
        "t": t,
        "wall": t,
        "wafer_id": None,
        "tool": None,
        "message": "",
        "data": {},
        **fields,
    }


def _step(n: int, session: int, name: str, t: float, wafer: str = "W01") -> dict[str, object]:
    """`wafer`'s step record `n`, started at run clock and wall time `t`."""
    return {"id": n, "session": session, "wafer_id": wafer, "kind": "step", "name": name,
            "started_t": t, "started_wall": t}  # fmt: skip


def _oven_out_w01_held() -> list[dict[str, object]]:
    """A run's first events: the oven out of service (its recovery failed: it takes no
    clear), the saw out until cleared, and W01 held for want of the oven."""
    out = {"cause": "recovery failed", "until_cleared": False}
    return [
        _event(1, 1, "run-started", 0.0, message="cure session 1"),
        _event(2, 1, "tool-out-of-service", 90.0, tool="oven", message="oven: no reset", data=out),
        _event(3, 1, "tool-out-of-service", 91.0, tool="saw", data={"until_cleared": True}),
        _event(
            4,
            1,
            "held",
            95.0,
            wafer_id="W01",
            message="no oven in service: ...",
            data={"tool_unavailable": True, "tools": ["oven"]},
        ),
    ]


def test_a_hold_for_want_of_a_tool_a_resumes_recovery_ended_reads_as_the_gap_it_left():
    """W01 baked, then was held for want of the oven (its recovery had failed: it takes no
    clear), and cured after a resume whose recovery brought the oven back: the gap between
    its steps reads held, resumed, the oven recovered; W02, held by nothing of the kind, has
    no such row, and a clear of another tool ends no wait of W01's."""
    events = [
        *_oven_out_w01_held(),
        _event(5, 1, "held", 96.0, wafer_id="W02", message="step 'bake' failed"),
        _event(6, 1, "tool-cleared", 97.0, tool="saw", data={"by": "ana", "cleared": True}),
        _event(7, 2, "run-started", 500.0, message="cure session 2, resumed by bo"),
        _event(8, 2, "tool-recovered", 501.0, tool="oven", message="oven safe and empty"),
    ]
    steps = [_step(1, 1, "bake", 10.0), _step(2, 2, "cure", 510.0)]
    waits = tool_waits(events, steps)
    rows = [(r["t"], r["what"], r["detail"], r["status"]) for r in waits["W01"]]
    assert rows == [
        (95.0, "held for want of a tool", "no oven in service: ...", "held"),
        (501.0, "oven recovered", "oven safe and empty", "back in service: runs the wafer again"),
        (500.0, "run resumed", "cure session 2, resumed by bo", "resumed"),
    ]
    assert "W02" not in waits
    # a hold that waited for no tool out of service (none served it for the tool wait): the
    # resume that ran it again
    events[3] = {**events[3], "data": {"tool_unavailable": True, "tools": []}}
    rows = [(r["what"], r["status"]) for r in tool_waits(events, steps)["W01"]]
    assert rows == [("held for want of a tool", "held"), ("run resumed", "runs the wafer again")]


def test_the_holds_of_several_wafers_are_read_in_one_pass_each_wafers_own():
    """A lot of four: W01 held for want of the oven (its recovery failed), run again after a
    resume recovered it; W02 held for want of the saw, cleared while the run went on and run
    again in that session; W03 held for want of the oven too, by a hold that named no tools
    (recorded before holds did), not run again (the run ended); W04 held by a step's
    failure. Read once for the lot, each wafer gets its own rows, as it would alone; no
    wafer's rows name another's steps."""
    unavailable = {"tool_unavailable": True}
    events = [
        *_oven_out_w01_held(),
        _event(
            5,
            1,
            "held",
            96.0,
            wafer_id="W02",
            message="no saw",
            data={**unavailable, "tools": ["saw"]},
        ),
        _event(6, 1, "held", 96.5, wafer_id="W04", message="step 'bake' failed"),
        _event(
            7,
            1,
            "tool-cleared",
            97.0,
            tool="saw",
            message="saw cleared by ana",
            data={"by": "ana", "cleared": True},
        ),
        # recorded as before holds named their tools: it waited for those out then, the oven
        _event(8, 1, "held", 98.0, wafer_id="W03", message="no oven either", data=unavailable),
        _event(9, 2, "run-started", 500.0, message="cure session 2, resumed by bo"),
        _event(10, 2, "tool-recovered", 501.0, tool="oven", message="oven safe and empty"),
    ]
    steps = [
        _step(1, 1, "bake", 10.0),
        _step(2, 1, "bake", 11.0, "W02"),
        _step(3, 1, "saw", 99.0, "W02"),
        _step(4, 1, "bake", 12.0, "W03"),
        _step(5, 1, "bake", 13.0, "W04"),
        _step(6, 2, "cure", 510.0),
    ]
    waits = tool_waits(events, steps)
    rows = {w: [(r["t"], r["what"], r["detail"], r["status"]) for r in waits[w]] for w in waits}
    assert rows == {
        "W01": [
            (95.0, "held for want of a tool", "no oven in service: ...", "held"),
            (
                501.0,
                "oven recovered",
                "oven safe and empty",
                "back in service: runs the wafer again",
            ),
            (500.0, "run resumed", "cure session 2, resumed by bo", "resumed"),
        ],
        "W02": [
            (96.0, "held for want of a tool", "no saw", "held"),
            (97.0, "saw cleared", "saw cleared by ana", "back in service: runs the wafer again"),
        ],
        "W03": [  # waited for the tools out of service then: the oven, not the saw (cleared)
            (98.0, "held for want of a tool", "no oven either", "held"),
            (501.0, "oven recovered", "oven safe and empty", "back in service"),
        ],
    }
    for wafer in waits:  # the lot read once gives each wafer what its own records give it
        alone = [s for s in steps if s["wafer_id"] == wafer]
        assert tool_waits(events, alone)[wafer] == waits[wafer]


def test_a_station_runs_claim_check_counts_what_was_judged_and_never_claims_the_conditions():
    status, note = station_claim_check(["pass", "recorded", "fail", "pass"])
    assert status == "measured"
    assert "3 measurement(s) of the sequence judged against their limits, 1 outside them" in note
    assert "not every condition of the claims" in note
    # a run that took no measurement with limits (all held before one, or none has limits)
    # checked nothing, and says so rather than 'measured'
    for verdicts in ([], ["recorded", "recorded"]):
        status, note = station_claim_check(verdicts)
        assert status == "not measured"
        assert "nothing checked them" in note


def test_a_run_cut_off_ran_by_its_clock_to_the_time_its_cut_off_reads(db, store):
    """The trial: a run on a line served at x60, killed mid-lot and resumed, read `0:31:11`
    at its `session-cut-off` event and `0:31:09 when cut off` in its summary, for one moment:
    the run clock's zero is where the run began, before it reached its tools, and its start
    is recorded once they are reached (`started_t`, a station's connect later: 2 s of
    process time at x60); the summary had counted from there. Its clocks read where the run
    clock stands, the time of the event that says where it was cut off."""
    killed_in_step(db, "plasma-clean", 2, "plasma clean")
    run_id = store.resolve_run("last")
    store.update_run(run_id, started_t=1.6)  # its tools reached 1.6 s after the run began
    report = run_report(store, run_id)
    cut = record_cut_off_session(store, store.run(run_id), {})
    assert report["duration_s"] == cut["t"]
    assert clocks_text(report).startswith(f"simulated time {clock_text(cut['t'])} when cut off")


def test_a_decision_replaced_before_a_resume_reads_replaced_in_the_timeline():
    """A trial released W01, then reworked it before the resume: its timeline read both
    decisions as `decided`. The release reads `replaced`; a decision of a later hold, after
    a session began, replaces none (W02's release stands, and its rework after the resume
    is one of its own)."""
    from packline.sequences.engine.report import holds_and_decisions

    events = [
        _event(1, 1, "held", 10.0, wafer_id="W01", message="clean cut off"),
        _event(2, 1, "held", 10.0, wafer_id="W02", message="clean cut off"),
        _event(3, 1, "disposition", 20.0, wafer_id="W01", message="release by ana: ok"),
        _event(4, 1, "disposition", 21.0, wafer_id="W02", message="release by ana: ok"),
        _event(5, 1, "disposition", 22.0, wafer_id="W01", message="rework by ben: no"),
        _event(6, 2, "run-started", 30.0, message="session 2"),
        _event(7, 2, "held", 40.0, wafer_id="W02", message="held again"),
        _event(8, 2, "disposition", 50.0, wafer_id="W02", message="rework by ana: again"),
    ]
    rows = holds_and_decisions(events)
    statuses = {w: [(r["detail"], r["status"]) for r in rows[w]] for w in rows}
    assert statuses == {
        "W01": [
            ("clean cut off", "held"),
            ("release by ana: ok", "replaced"),
            ("rework by ben: no", "decided"),
        ],
        "W02": [
            ("clean cut off", "held"),
            ("release by ana: ok", "decided"),
            ("held again", "held"),
            ("rework by ana: again", "decided"),
        ],
    }
