"""What a resume runs, as its plan says it before it drives anything (sequences/engine/plan.py)."""

from __future__ import annotations

from packline.sequences.engine.plan import Plan


def step(id: int, wafer_id: str, key: str, status: str, irreversible: int = 0) -> dict[str, object]:
    """Step record `id` of `wafer_id` as `Plan.from_records` reads it."""
    return {"id": id, "wafer_id": wafer_id, "key": key, "name": key.partition("#")[0],
            "kind": "step", "status": status, "irreversible": irreversible, "error": None,
            "stage": None}  # fmt: skip


def test_the_resume_names_the_wafers_it_runs_and_those_not_started_yet():
    """W01 was cut off in a repeatable step (it runs on), W02 completed, W03 was cut off in
    an irreversible one (held again, for a decision), W04 never started (it runs from its
    first step): a trial's resume had run such a wafer unannounced."""
    steps = [
        step(1, "W01", "clean#0", "interrupted"),
        step(2, "W02", "clean#0", "completed"),
        step(3, "W03", "bump#0", "interrupted", irreversible=1),
    ]
    statuses = {"W01": "terminated", "W02": "completed", "W03": "terminated", "W04": "terminated"}
    wafers = [{"wafer_id": wafer, "status": status} for wafer, status in statuses.items()]
    plan = Plan.from_records(steps, wafers)
    assert plan.wafers_to_run(statuses) == ["W01", "W04"]
    assert plan.wafers_to_run_text(["W01", "W04"]) == "runs W01, W04 (not started yet)"
    assert [plan.started(wafer) for wafer in ("W01", "W04")] == [True, False]
    finished = Plan.from_records(steps[1:2], wafers[1:2])
    assert finished.wafers_to_run(["W02"]) == []
    assert finished.wafers_to_run_text([]) == "runs no wafer"


async def test_a_rework_a_later_decision_replaced_is_not_said_carried_out(store):
    """A rework replaced before the resume by a release is not carried out: the resume
    carries out the release. The wafer read as both released and reworked; it reads as
    released, and a rework carried out reads with the session that did it."""
    from packline.sequences.engine import Decision, open_resume, record_disposition
    from packline.sequences.engine.plan import releases_carried_out, reworks_carried_out
    from packline.sequences.engine.report import run_report

    from ..test_dispositions import held_lot

    run_id = await held_lot(store)  # W01-W04 held in their cut-off plasma clean
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "clean again")
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ben", "looks clean")
    record_disposition(store, run_id, "W02", Decision.RELEASE, "ana", "looks clean")
    record_disposition(store, run_id, "W02", Decision.REWORK, "ben", "residue left")
    async with open_resume(store, run_id) as resumed:
        await resumed.run()
    reworks = reworks_carried_out(store, run_id)
    assert list(reworks) == ["W02"]
    assert [(r["by"], r["reason"], r["session"]) for r in reworks["W02"]] == [
        ("ben", "residue left", 3)
    ]
    assert list(releases_carried_out(store, run_id)) == ["W01"]
    # the report and show --json say which decision replaced which
    decided = {(d["wafer_id"], d["decision"]): d for d in run_report(store, run_id)["dispositions"]}
    assert decided["W01", "rework"]["replaced_by"] == decided["W01", "release"]["id"]
    assert decided["W02", "release"]["replaced_by"] == decided["W02", "rework"]["id"]
    assert decided["W01", "release"]["replaced_by"] is None
    assert decided["W02", "rework"]["replaced_by"] is None
