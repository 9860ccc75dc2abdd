"""Held wafers: a named person releases, reworks or scraps each, and a resume carries it out
(a release never repeats the irreversible step that held the wafer)."""

from __future__ import annotations

import asyncio
import html
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from packline.cli import main
from packline.clock import ScaledClock
from packline.drivers.errors import InterlockOpen, ToolAlarm
from packline.sequences.engine import (
    BadInput,
    Decision,
    RunRequest,
    RunStore,
    open_resume,
    open_run,
    prepare,
    record_disposition,
    wafer_history,
)
from packline.sequences.engine.clearances import out_of_service_text, record_clearance
from packline.sequences.engine.dispositions import IN_ADVANCE, pending_decisions, resume_command
from packline.sequences.engine.launch import what_held_wafers_need
from packline.sequences.engine.plan import RELEASED_IN_A_BATCH
from packline.sequences.engine.stage import Stage
from packline.sequences.engine.wafer import _refused
from packline.sim_instruments.line import SimulatedLine

from .helpers import station_lot, stopped_at


async def held_lot(store, wafer_ids: list[str] | None = None) -> str:
    """A lot of 5 (`wafer_ids`, else W01...) aborted inside the irreversible plasma clean of
    its first batch of four, then resumed: those four are held for an operator, the fifth
    completes."""
    request = RunRequest("plasma-clean", lot=5, wafer_ids=wafer_ids)
    run_id = await stopped_at(store, request, "plasma clean", command="abort")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "held"
    return run_id


def held_lot_in(db, wafer_ids: list[str] | None = None) -> str:
    """`held_lot` in the run database at `db`, closed again for the commands to open."""
    store = RunStore(db)
    try:
        return asyncio.run(held_lot(store, wafer_ids))
    finally:
        store.close()


def clean_rows(store, run_id, wafer_id):
    return [
        s
        for s in store.table("steps", run_id)
        if s["wafer_id"] == wafer_id and s["name"] == "plasma clean"
    ]


async def test_release_rework_and_scrap_are_carried_out_by_the_next_resume(store):
    run_id = await held_lot(store)
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "inspected: clean")
    record_disposition(store, run_id, "W02", Decision.REWORK, "ana", "residue left: again")
    record_disposition(store, run_id, "W03", Decision.SCRAP, "ben", "chipped edge")
    wafers = {w["wafer_id"]: w for w in store.wafers(run_id)}
    assert wafers["W03"]["status"] == "scrapped"
    assert wafers["W03"]["reason"] == "scrapped by ben: chipped edge"
    events = [e for e in store.table("events", run_id) if e["kind"] == "disposition"]
    assert [(e["wafer_id"], e["message"]) for e in events] == [
        ("W01", "release by ana: inspected: clean"),
        ("W02", "rework by ana: residue left: again"),
        ("W03", "scrap by ben: chipped edge"),
    ]

    async with open_resume(store, run_id) as resumed:
        assert resumed.session == 3
        assert await resumed.run() == "held"  # W04 is still waiting for a decision
    wafers = {w["wafer_id"]: w for w in store.wafers(run_id)}
    assert [wafers[w]["status"] for w in ("W01", "W02", "W03", "W04", "W05")] == [
        "completed", "completed", "scrapped", "held", "completed",
    ]  # fmt: skip
    # released: the cut-off clean is never started again; the wafer went on after it
    assert [s["session"] for s in clean_rows(store, run_id, "W01")] == [1, 3]
    assert clean_rows(store, run_id, "W01")[-1]["status"] == "skipped"
    # reworked: the clean ran again, to completion
    again = clean_rows(store, run_id, "W02")[-1]
    assert (again["session"], again["status"]) == (3, "completed")
    unload = [
        s for s in store.table("steps", run_id) if s["wafer_id"] == "W01" and s["session"] == 3
    ]
    assert "unload" in {s["name"] for s in unload if s["status"] == "completed"}
    # nothing more to decide for them: a second resume has nothing to do but W04
    with pytest.raises(BadInput, match="release or rework a held wafer first"):
        async with open_resume(store, run_id):
            pass


async def test_a_wafer_decided_twice_is_told_once_on_resume_with_the_decision_carried_out(store):
    """A new user's resume listed both decisions for a wafer, as if both were carried out:
    the latest alone is (`pending_dispositions`), and the earlier is named as replaced."""
    run_id = await held_lot(store)
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks clean")
    record_disposition(store, run_id, "W01", Decision.REWORK, "ben", "residue: again")
    record_disposition(store, run_id, "W02", Decision.RELEASE, "ana", "clean")
    told = []
    async with open_resume(store, run_id, observers=[told.append]) as resumed:
        await resumed.run()
    assert [(e.wafer, e.message) for e in told if e.kind == "disposition"] == [
        ("W01", "rework by ben: residue: again (replaces release by ana: looks clean)"),
        ("W02", "release by ana: clean"),
    ]
    # carried out as told: W01's clean ran again
    assert clean_rows(store, run_id, "W01")[-1]["status"] == "completed"
    # the records keep every decision as it was made
    recorded = [e["message"] for e in store.table("events", run_id) if e["kind"] == "disposition"]
    assert recorded == [
        "release by ana: looks clean", "rework by ben: residue: again", "release by ana: clean",
    ]  # fmt: skip


async def test_a_wafer_decided_again_on_a_clock_stepped_back_is_told_the_decision_carried_out(
    store, monkeypatch
):
    """Decisions of a stopped run share one run clock time, so their time order goes by wall:
    a second decision made on a clock stepped back (or on a host whose clock is behind) had
    read before the first. The resume told the first (`recorded_while_stopped`, by time) and
    carried out the second (`pending_decisions`, by id); a stopped run's event is stamped no
    earlier than what is recorded at its time, so both read the second."""
    run_id = await held_lot(store)
    first = record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks clean")
    monkeypatch.setattr(time, "time", lambda: first["wall"] - 3600.0)  # stepped back an hour
    record_disposition(store, run_id, "W01", Decision.REWORK, "ben", "residue: again")
    monkeypatch.undo()
    assert pending_decisions(store, run_id)["W01"]["decision"] == "rework"
    told = []
    async with open_resume(store, run_id, observers=[told.append]) as resumed:
        await resumed.run()
    assert [(e.wafer, e.message) for e in told if e.kind == "disposition"] == [
        ("W01", "rework by ben: residue: again (replaces release by ana: looks clean)"),
    ]
    assert clean_rows(store, run_id, "W01")[-1]["status"] == "completed"  # the rework's clean


async def test_the_last_held_wafer_scrapped_finishes_the_run(store):
    run_id = await held_lot(store)
    for wafer in ("W01", "W02", "W03", "W04"):
        record_disposition(store, run_id, wafer, Decision.SCRAP, "ana", "lot split")
    assert store.run(run_id)["status"] == "completed"


async def test_a_scrap_that_cannot_be_written_records_no_decision(store, monkeypatch):
    run_id = await held_lot(store)

    def broken(*args, **values):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "update_wafer", broken)
    with pytest.raises(sqlite3.OperationalError):
        record_disposition(store, run_id, "W01", Decision.SCRAP, "ana", "chipped edge")
    assert store.table("dispositions", run_id) == []
    assert [e for e in store.table("events", run_id) if e["kind"] == "disposition"] == []
    assert {w["wafer_id"]: w["status"] for w in store.wafers(run_id)}["W01"] == "held"


async def test_a_disposition_is_refused_unless_the_wafer_is_held_and_the_run_stopped(store):
    run_id = await held_lot(store)
    before = store.table("dispositions", run_id)
    with pytest.raises(BadInput, match=r"wafer W05 of run .* is completed, not held"):
        record_disposition(store, run_id, "W05", Decision.RELEASE, "ana", "looks fine")
    with pytest.raises(BadInput, match="has no wafer 'W09'; its wafers: W01, W02"):
        record_disposition(store, run_id, "W09", Decision.RELEASE, "ana", "looks fine")
    with pytest.raises(BadInput, match="--reason: say why"):
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "  ")
    store.update_run(run_id, status="running", pid=os.getppid(), host=socket.gethostname())
    with pytest.raises(BadInput, match="is being driven by"):
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks fine")
    assert store.table("dispositions", run_id) == before  # nothing recorded


def test_a_dry_runs_wafer_is_its_own_with_its_disposition(db, capsys):
    run_id = held_lot_in(db)
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok"]) == 0
    assert "packline resume" in capsys.readouterr().out
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet"]) == 0
    capsys.readouterr()
    # W01 of the second dry run is another simulated wafer: shown alone, the first one named
    assert main(["wafer", "W01", "--json"]) == 0
    (latest,) = json.loads(capsys.readouterr().out)
    assert latest["run_id"] != run_id
    assert latest["status"] == "completed"
    assert any(m["name"] == "residue after" for m in latest["measurements"])
    assert main(["wafer", "W01"]) == 0
    assert f"W01 also names another wafer in run(s) {run_id}" in capsys.readouterr().out
    assert main(["wafer", "W01", "--run", run_id, "--json"]) == 0
    (held,) = json.loads(capsys.readouterr().out)
    assert held["dispositions"][0]["decision"] == "release"
    assert "never repeated" in held["dispositions"][0]["held_reason"]
    assert main(["wafer", "W01", "--run", run_id]) == 0
    # the decision is a row of the wafer's timeline, where it was made (after its hold)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    held_at = next(n for n, row in enumerate(rows) if "│ held " in row)
    (decided,) = [row for row in rows[held_at:] if "│ disposition " in row]
    assert "release by ana: ok" in decided
    assert "decided" in decided
    assert main(["wafer", "NOPE"]) == 2
    assert "in no run of" in capsys.readouterr().err
    store = RunStore(db)
    try:
        assert wafer_history(store, "W02")[0]["status"] == "held"
    finally:
        store.close()


#: Why a release past a step its tool carried nothing out in is warned of (decision 0108).
LEFT_AS_FOUND = "that step left its simulated wafer as it found it (its tool changed nothing on it)"


def released_with_warning(run_id: str, wafer_id: str, why: str = LEFT_AS_FOUND) -> str:
    """What `disposition RUN WAFER release` of a dry run's wafer warns on stderr (`why`: why
    the step never changed the simulated wafer the resume goes on with)."""
    return (
        f"packline: warning: wafer {wafer_id} of run {run_id} is released past the step that "
        f"held it, in a dry run: {why}, so the next steps meet a wafer the step never "
        "changed and the claim check fails where it mattered; to carry the step out on it, "
        f"rework it instead (`packline disposition {run_id} {wafer_id} rework --by NAME "
        "--reason TEXT`, before the resume)\n"
    )


def test_a_dry_run_s_release_past_a_cut_off_step_warns_that_the_step_never_happened(db, capsys):
    """W01's plasma clean was cut off as it started: the simulated wafer the resume goes on
    with, as the clean left it (decision 0108), is as it was before it, so a release goes on
    with its residue and the claim check fails. The release is recorded (a dry run rehearses
    it) with a warning naming the rework; a rework says nothing of it."""
    run_id = held_lot_in(db)
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok"]) == 0
    captured = capsys.readouterr()
    assert f"wafer W01 of run {run_id}: release by ana" in captured.out
    assert captured.err == released_with_warning(run_id, "W01")
    assert main(["disposition", run_id, "W02", "rework", "--by", "ana", "--reason", "ok"]) == 0
    assert capsys.readouterr().err == ""
    # a script reading `--json` is told it too, in the answer it reads
    assert main(["disposition", run_id, "W03", "release", "--by", "ana", "--reason", "ok",
                 "--json"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == released_with_warning(run_id, "W03")
    warning = released_with_warning(run_id, "W03").removeprefix("packline: warning: ")
    assert json.loads(captured.out)["warning"] == warning.rstrip("\n")
    assert main(["disposition", run_id, "W04", "rework", "--by", "ana", "--reason", "again",
                 "--json"]) == 0  # fmt: skip
    assert "warning" not in json.loads(capsys.readouterr().out)
    assert main(["resume", run_id, "--quiet"]) == 1  # the claim check fails: W01, W03 released
    resumed = capsys.readouterr()
    # said once, when the release is recorded and a rework can still replace it: a copy at
    # the resume's end would come after the step it warns of was skipped (a trial's report)
    assert "released past the step" not in resumed.out + resumed.err
    assert main(["show", run_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["claim_check"]["status"] == "failed"  # what the warning said of W01


def test_a_dry_run_s_release_past_a_step_its_process_stopped_under_warns_so(db, capsys):
    """A step cut off with its process (killed: no end of it recorded) left no snapshot of its
    wafer as it ended, as no held step did in records from before decision 0108: the resume
    goes on with the wafer as its last completed step left it, and the release says so."""
    run_id = held_lot_in(db)
    with sqlite3.connect(db) as crashed:  # the clean's snapshot as a killed process leaves it
        crashed.execute(
            "DELETE FROM twin_snapshots WHERE step_id IN (SELECT id FROM steps "
            "WHERE wafer_id = 'W01' AND name = 'plasma clean')"
        )
    crashed.close()
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok"]) == 0
    why = (
        "no snapshot of its simulated wafer was taken as that step ended (its process was "
        "killed under it, or packline kept none then), so the wafer goes on as its last "
        "completed step left it"
    )
    assert capsys.readouterr().err == released_with_warning(run_id, "W01", why)


def test_the_commands_a_hint_names_take_the_database_it_was_given(db, tmp_path, capsys):
    """Records kept in a database other than the default one: every command printed for the
    operator to run next names it (`--db PATH`), else it would look in the default one; the
    texts the records keep name no path."""
    other = tmp_path / "line 3" / "runs.db"
    other.parent.mkdir()
    run_id = held_lot_in(other)
    db_option = f" --db '{other}'"
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok",
                 "--db", str(other)]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert f"carried out by `packline resume {run_id}{db_option}`" in captured.out
    assert f"rework --by NAME --reason TEXT{db_option}`, before the resume" in captured.err
    assert main(["resume", run_id, "--db", str(other), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert f"(why it is held: `packline show {run_id}{db_option}`)" in out
    assert f"--by NAME --reason TEXT{db_option}`" in out
    assert f"then `packline resume {run_id}{db_option}`" in out
    assert main(["show", run_id, "--db", str(other)]) == 0
    assert f"records in {other} (packline show {run_id}{db_option})" in capsys.readouterr().out
    store = RunStore(other)
    try:
        assert not any(str(other) in (e["message"] or "") for e in store.events(run_id))
    finally:
        store.close()


def test_a_dry_run_s_release_past_a_failed_step_warns_too(db, capsys):
    """An RF mismatch fails W01's plasma clean: its wafer was never cleaned, and a resume
    goes on with it as the clean left it, as it found it, as after a cut-off step (from a new
    user's trial, whose released wafer failed 003:9-11 with no warning). The disposition names
    the chamber's clear before the resume it names, which a dry run refuses until then."""
    run_id = alarmed_dry_run(db, capsys, 1)
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok"]) == 0
    captured = capsys.readouterr()
    assert captured.err == released_with_warning(run_id, "W01")
    # the resume named would be refused while the chamber waits for its clear: that comes first
    assert captured.out == (
        f"wafer W01 of run {run_id}: release by ana; plasma_cleaner is out of service until "
        "someone clears it (alarm): once its cause is fixed, `packline clear-tool "
        f"{run_id} plasma_cleaner --by NAME`; then carried out by `packline resume "
        f"{run_id}`\n"
    )


def test_a_wafer_released_past_a_dicing_its_blade_cut_short_reads_so_and_fails_its_claim(
    db, capsys, tmp_path
):
    """A new user's note: a blade that broke under bump-seal-clean's dicing held W01, whose
    release ran it on to `completed`, as the summary and `show` then said of it, with nothing
    beside it: a finished wafer whose dies were never cut apart. The claim check judges it as
    the cut left it and fails 003:23 naming W01; `show` and the resume's summary say, beside
    `completed`, that the dicing was accepted as done on ana's release though it failed, and
    `wafer` says it of the wafer's run too, and the report among its holds (it had said
    `None: every wafer completed.` and nothing else of W01)."""
    run_id = faulted_dry_run(db, capsys, "bump-seal-clean", "dicing_saw:blade_crack@dice", 1)
    said = ["--by", "ana", "--reason", "kerfs look through"]
    assert main(["disposition", run_id, "W01", "release", *said]) == 0
    assert main(["clear-tool", run_id, "dicing_saw", "--by", "ana"]) == 0
    capsys.readouterr()
    released = "step 'dice' released by ana (kerfs look through): accepted as done though it failed"
    assert main(["resume", run_id]) == 1  # the claim check fails
    assert released in capsys.readouterr().out  # the summary's reason for W01
    assert main(["show", run_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (wafer,) = report["wafers"]
    assert wafer["status"] == "completed"
    (release,) = wafer["released"]
    assert {k: v for k, v in release.items() if k != "held"} == {
        "step": "dice",
        "ended": "failed",
        "by": "ana",
        "reason": "kerfs look through",
        "session": 2,
    }
    assert release["held"].startswith("step 'dice' of W01 failed: ")  # the hold it answered
    assert report["claim_check"]["status"] == "failed"
    (dicing,) = [c for c in report["claim_check"]["conditions"] if c["claim"] == "003:23"]
    assert (dicing["verdict"], dicing["failing_wafers"]) == ("fail", ["W01"])
    assert main(["show", run_id]) == 0
    assert f"wafer W01: completed, {released}" in capsys.readouterr().out
    # `wafer` says it beside the wafer's outcome in the run, as `show` does
    assert main(["wafer", "W01", "--run", run_id]) == 0
    assert f"): completed, {released}" in capsys.readouterr().out
    assert main(["wafer", "W01", "--run", run_id, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["released"] == wafer["released"]
    page = tmp_path / "report.html"
    assert main(["report", run_id, "--to", str(page)]) == 0
    assert (
        "<h3>Wafers completed on an operator's decision (1)</h3>\n<table><thead><tr><th>wafer "
        f"id</th><th>status</th></tr></thead><tbody><tr><td>W01</td><td>completed, "
        f"{html.escape(released)}</td></tr></tbody></table>"
    ) in page.read_text()


def test_a_reworked_wafer_reads_so_beside_its_outcome_not_as_a_first_pass(db, capsys, tmp_path):
    """A re-trial's reworked wafer read `wafer W02: completed` with nothing beside it, and
    `--json` gave it `"released": []`, as a first pass reads: only the dispositions and the
    timeline said it went through the chamber twice. `show`, `wafer` and the report say,
    beside `completed`, who reworked it and why and the session that sent it back through
    its held step; a rework a resume has not carried out yet is not said."""
    run_id = held_lot_in(db)
    said = ["--by", "ana", "--reason", "residue left: again"]
    assert main(["disposition", run_id, "W02", "rework", *said]) == 0
    capsys.readouterr()
    assert main(["show", run_id, "--json"]) == 0
    (pending,) = [w for w in json.loads(capsys.readouterr().out)["wafers"] if w["wafer"] == "W02"]
    assert (pending["status"], pending["reworked"]) == ("held", [])
    assert main(["resume", run_id]) == 1  # W01, W03 and W04 are still held
    reworked = (
        "reworked by ana (residue left: again): sent back through step 'plasma clean' in session 3"
    )
    assert "reworked by ana (residue left: again)" in capsys.readouterr().out  # W02's reason
    assert main(["show", run_id, "--json"]) == 0
    (wafer,) = [w for w in json.loads(capsys.readouterr().out)["wafers"] if w["wafer"] == "W02"]
    assert wafer["status"] == "completed"
    (rework,) = wafer["reworked"]
    assert {k: v for k, v in rework.items() if k != "held"} == {
        "step": "plasma clean", "by": "ana", "reason": "residue left: again", "session": 3,
    }  # fmt: skip
    assert "plasma clean" in rework["held"]
    assert main(["show", run_id]) == 0
    assert f"wafer W02: completed, {reworked}" in capsys.readouterr().out
    assert main(["wafer", "W02", "--run", run_id]) == 0
    assert f"): completed, {reworked}" in capsys.readouterr().out
    assert main(["wafer", "W02", "--run", run_id, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["reworked"] == wafer["reworked"]
    page = tmp_path / "report.html"
    assert main(["report", run_id, "--to", str(page)]) == 0
    assert (
        "<h3>Wafers completed on an operator's decision (1)</h3>\n<table><thead><tr><th>wafer "
        f"id</th><th>status</th></tr></thead><tbody><tr><td>W02</td><td>completed, "
        f"{html.escape(reworked)}</td></tr></tbody></table>"
    ) in page.read_text()


def alarmed_dry_run(db, capsys, lot: int) -> str:
    """The id of a dry run of plasma-clean for a lot of `lot` in `db`, its chamber alarmed
    (an RF mismatch) under its first batch's clean (`faulted_dry_run`)."""
    return faulted_dry_run(
        db, capsys, "plasma-clean", "plasma_cleaner:rf_mismatch@plasma clean", lot
    )


def faulted_dry_run(db, capsys, method: str, fault: str, lot: int) -> str:
    """The id of a dry run of `method` for a lot of `lot` in `db` with `--fault FAULT` and
    the failure policy hold, run from the command line (its output read away)."""
    args = ["--sim", "--lot", str(lot), "--failure-policy", "hold", "--quiet", f"--fault={fault}"]
    assert main(["run", method, *args]) == 1
    capsys.readouterr()
    store = RunStore(db)
    try:
        (run,) = store.runs()
    finally:
        store.close()
    return str(run["id"])


def test_a_dry_run_s_release_warns_only_where_it_accepts_a_step_never_done(db, capsys):
    """The chamber alarms under W01-W04's plasma clean; W05 and W06, queued for it, are held
    only for want of it: nothing happened to them there. A release of such a wafer is refused
    today, warning of nothing; in records written before such a hold said so (its held
    event's data empty, as before 2026-12-01), it is taken and runs the wafer again, accepting
    no step: the warning that a step never done is accepted is not given, on stderr nor in
    `--json` (it was, for a wafer no step held). W01's release, past the clean that failed on
    it, warns as before, in both."""
    run_id = alarmed_dry_run(db, capsys, 6)

    def release(wafer: str) -> tuple[int, str, dict]:
        said = ["disposition", run_id, wafer, "release", "--by", "ana", "--reason", "ok"]
        code = main([*said, "--json"])
        captured = capsys.readouterr()
        return code, captured.err, json.loads(captured.out) if code == 0 else {}

    code, err, _ = release("W05")
    assert code == 2
    assert "held only because no tool was in service" in err
    assert "released past the step" not in err
    with sqlite3.connect(db) as legacy:  # as the hold was recorded before it said why
        legacy.execute(
            "UPDATE events SET data = '{}' WHERE kind = 'held' AND wafer_id IN ('W05', 'W06')"
        )
    legacy.close()
    code, err, answer = release("W05")
    assert (code, err) == (0, "")
    assert answer["decision"] == "release"
    assert "warning" not in answer
    code, err, answer = release("W01")
    assert code == 0
    assert err == released_with_warning(run_id, "W01")
    assert answer["warning"] == err.removeprefix("packline: warning: ").rstrip("\n")


def test_a_scrap_says_what_comes_next_for_the_run(db, capsys):
    """A trial's scrap said `wafer W03 of run R scrapped by ben` and nothing more, whether
    the run still waited for decisions, had a resume to run or was completed by it (the
    last held wafer scrapped). It names the held wafers still to decide, then the resume;
    with nothing left undecided, the resume that runs the rest; with nothing left to run,
    that the run is completed."""
    run_id = held_lot_in(db)  # W01-W04 held, W05 completed
    disposition = f"`packline disposition {run_id} WAFER release|rework|scrap --by NAME"
    resume = f"`packline resume {run_id}`"

    def decide(wafer: str, decision: str) -> str:
        said = ["--by", "ben", "--reason", "chipped"]
        assert main(["disposition", run_id, wafer, decision, *said]) == 0
        return capsys.readouterr().out

    assert decide("W01", "scrap") == (
        f"wafer W01 of run {run_id} scrapped by ben; W02, W03, W04 still held: decide each "
        f"with {disposition} --reason TEXT`; then {resume}\n"
    )
    decide("W02", "rework")
    # one left to decide: named in the command
    one = f"`packline disposition {run_id} W04 release|rework|scrap --by NAME --reason TEXT`"
    assert decide("W03", "scrap") == (
        f"wafer W03 of run {run_id} scrapped by ben; W04 still held: decide it with {one}; "
        f"then {resume}\n"
    )
    assert decide("W04", "scrap") == (
        f"wafer W04 of run {run_id} scrapped by ben; the rest is run by {resume}\n"
    )
    said = ["--by", "ben", "--reason", "chipped", "--json"]
    assert main(["disposition", run_id, "W02", "scrap", *said]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["replaces"] == "rework by ben: chipped"
    assert answer["next"] == f"run {run_id} is completed: no wafer of it is left to run"
    store = RunStore(db, create=False)
    try:
        assert store.run(run_id)["status"] == "completed"
    finally:
        store.close()


def test_a_scrap_of_an_aborted_runs_last_held_wafer_says_nothing_is_left_to_run(db, capsys):
    """A lot of one aborted inside its irreversible plasma clean: its wafer held, the run
    aborted, its tools safe. Scrapping the wafer leaves nothing to run and no recovery to
    wait for, but the run stays aborted (a scrap completes only a run that ended held): the
    scrap says so, naming no resume, and `--json`'s `next` says the same."""
    store = RunStore(db)
    try:
        run_id = asyncio.run(
            stopped_at(store, RunRequest("plasma-clean", lot=1), "plasma clean", command="abort")
        )
        assert [w["status"] for w in store.wafers(run_id)] == ["held"]
    finally:
        store.close()
    said = ["--by", "ben", "--reason", "chipped", "--json"]
    assert main(["disposition", run_id, "W01", "scrap", *said]) == 0
    assert json.loads(capsys.readouterr().out)["next"] == (
        f"no wafer of run {run_id} is left to run"
    )
    store = RunStore(db, create=False)
    try:
        assert store.run(run_id)["status"] == "aborted"
    finally:
        store.close()


def test_a_wafer_is_named_by_a_unique_end_of_its_id_and_runs_count_the_scrapped(db, capsys):
    """`disposition RUN W03` for a station lot's `...-W03`, as docs/engine.md writes it."""
    store = RunStore(db)
    try:
        ids = [*(f"123456-ab12-W0{n}" for n in range(1, 5)), "OTHER-W01"]
        run_id = asyncio.run(held_lot(store, ids))
    finally:
        store.close()
    assert main(["disposition", run_id, "W03", "scrap", "--by", "ana", "--reason", "chip"]) == 0
    assert f"wafer 123456-ab12-W03 of run {run_id} scrapped by ana" in capsys.readouterr().out
    assert main(["disposition", run_id, "W01", "release", "--by", "ana", "--reason", "ok"]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: wafer 'W01' is the end of 2 wafer ids of run {run_id}; give the "
        "whole id; they are:\n  123456-ab12-W01\n  OTHER-W01\n"
    )
    assert main(["disposition", run_id, "W09", "release", "--by", "ana", "--reason", "ok"]) == 2
    assert "has no wafer 'W09'" in capsys.readouterr().err
    assert main(["runs"]) == 0
    assert "5 (1 done, 3 held, 1 scrapped)" in capsys.readouterr().out


def test_a_released_step_stays_released_when_the_wafer_is_held_again_and_reworked():
    from packline.sequences.engine.plan import Plan

    def row(key, status, irreversible=0, kind="step"):
        return {"wafer_id": "W01", "key": key, "kind": kind, "status": status,
                "irreversible": irreversible, "error": None, "stage": None}  # fmt: skip

    steps = [
        row("laminate#0", "interrupted", irreversible=1),  # session 1: cut off, then released
        row("laminate#0", "skipped", irreversible=1),  # session 2: the release carried out
        row("peel support#0", "failed"),  # session 2: held again, now reworked
    ]
    wafers = [{"wafer_id": "W01", "status": "held"}]
    plan = Plan.from_records(steps, wafers, {"W01": Decision.REWORK})
    assert plan.status("W01", "laminate#0") == "completed"  # never run twice
    assert plan.status("W01", "peel support#0") is None  # done again
    assert plan.hold_reason("W01") is None


def test_a_rework_stands_when_the_wafer_is_held_for_want_of_a_tool_before_the_step():
    """The new user's served line: a reflow failed on an oven alarm, its rework carried out by
    a resume whose recovery of the oven failed (the sensor still broken), so the wafer was held
    for want of the oven on its way back, before the reworked step. The next resume runs it
    again, the reflow still to do: it had held it again on the reflow's old failure, asking
    for a release or rework the operator had already given."""
    from packline.sequences.engine.plan import Plan

    def row(key, status):
        return {"wafer_id": "W01", "key": key, "kind": "step", "status": status,
                "irreversible": 0, "error": "alarm ZONE_ALARM", "stage": None}  # fmt: skip

    steps = [row("unload from ball mounter#0", "completed"), row("reflow balls#0", "failed")]
    wafers = [{"wafer_id": "W01", "status": "held"}]
    plan = Plan.from_records(steps, wafers, {}, {"W01": {"tool_unavailable": True}})
    assert plan.run_again == {"W01"}
    assert plan.status("W01", "unload from ball mounter#0") == "completed"
    assert plan.status("W01", "reflow balls#0") is None  # done again
    assert plan.hold_reason("W01") is None


def test_a_rework_stands_when_its_session_stopped_before_the_step():
    """A plasma clean failed and reworked; the resume that carries the rework out is killed
    in the replayed batch, before the clean. The next resume runs the wafer on, the clean
    still to do: the clean's old failure is an earlier hold, not one to hold it at again."""
    from packline.sequences.engine.plan import Plan

    def row(id, key, status, kind="batch-step"):
        return {"id": id, "wafer_id": "W01", "key": key, "name": key.partition("#")[0],
                "kind": kind, "status": status, "irreversible": 0, "error": None,
                "stage": "batch plasma_cleaner#0"}  # fmt: skip

    steps = [
        row(1, "load#0", "completed"),
        row(2, "plasma clean#0", "failed"),  # session 1: held, then reworked
        row(3, "batch plasma_cleaner#0", "interrupted", kind="batch"),  # session 2: killed
        row(4, "load#0", "completed"),
    ]
    plan = Plan.from_records(steps, [{"wafer_id": "W01", "status": "running"}])
    assert plan.hold_reason("W01") is None
    assert plan.status("W01", "plasma clean#0") is None  # done again


async def test_an_oven_whose_recovery_failed_is_named_with_what_brings_it_back(store):
    """The oven's sensor breaks in the reflow: its alarm holds the wafer, and its reset fails
    while the sensor is still broken, so the oven is out of service with no clear to give.
    The run's advice names the oven and what brings it back (its cause fixed, a resume), and
    a clear of it is refused saying the same, recording nothing."""
    run_id, _ = await held_by_a_fault(
        store, "sprout-bump-csp", "reflow balls", "oven", "zone_sensor_break"
    )
    advice = what_held_wafers_need(store, run_id)
    assert "W01 held: decide it (why it is held" in advice
    assert f"`packline disposition {run_id} W01 release|rework|scrap" in advice
    assert "; oven is out of service: its recovery failed (oven: oven at " in advice
    assert "it takes no clear: fix its cause, and a resume's recovery tries it again" in advice
    assert advice.endswith(f"; then `packline resume {run_id}`")
    with pytest.raises(
        BadInput,
        match=rf"tool oven is out of service: its recovery failed .* `packline resume "
        rf"{run_id}` once it is fixed; nothing cleared",
    ):
        record_clearance(store, run_id, "oven", "ana")
    assert [e for e in store.events(run_id) if e["kind"] == "tool-cleared"] == []
    # the sensor replaced: the resume's recovery brings the oven back, and nothing names it
    # out of service any more (it did, after the run had completed on it)
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "sensor replaced")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    assert out_of_service_text(store, run_id) == ""


async def load_refused_on_resume(store) -> str:
    """A dry run of bump-seal-clean on the GEM faces (the new user's line), terminated after
    its bonder formed the bumps, resumed with the bonder's cover open: the replayed stage's
    load is refused (interlock open), so the wafer is held on a step that did not happen."""

    def open_cover(line):
        line.tools["wire_bonder"].inject_fault("cover_open")

    request = RunRequest("bump-seal-clean", lot=1, gem=True)
    run_id = await stopped_at(store, request, "form bumps", event="step-finished")
    async with open_resume(store, run_id, line_ready=open_cover) as resumed:
        assert await resumed.run() == "held"
    (wafer,) = store.wafers(run_id)
    assert "step 'load on bonder' of W01 was refused" in wafer["reason"]
    assert "interlock open: cover_closed" in wafer["reason"]
    return run_id


async def test_a_step_its_tool_refused_is_reworked_never_released(store):
    """Released, the refused load would be skipped and the bonder's empty chuck inspected;
    the release is refused naming the rework, which loads the wafer again and completes it
    (its bumps, formed before the terminate, are not formed again)."""
    run_id = await load_refused_on_resume(store)
    with pytest.raises(
        BadInput,
        match=r"its tool refused a step, which so did not happen .*"
        r"rework it to do the step again \(`packline disposition .* W01 rework --by ana "
        r"--reason TEXT`\)",
    ):
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "cover closed")
    assert store.table("dispositions", run_id) == []
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "cover closed")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    bumps = [s["status"] for s in store.table("steps", run_id) if s["name"] == "form bumps"]
    assert bumps == ["completed", "skipped"]  # session 2 stopped at the load


def release_recorded_anyway(store, run_id: str) -> None:
    """A release of held W01 recorded as packline recorded one before it refused a release
    of a refused step (straight into the dispositions table)."""
    (wafer,) = store.wafers(run_id)
    decision = {"decision": "release", "by": "ana", "reason": "cover closed", "held_reason": ""}
    row = {"run_id": run_id, "wafer_id": "W01", **decision, "wall": wafer["stopped_wall"] + 1}
    store.add_rows("dispositions", [row])


async def test_a_refused_load_released_earlier_is_reworked_and_said_so(store):
    """The new user's case: a refused load released (as an earlier packline recorded it)
    stayed skipped, and the wafer met an empty bonder. The resume carries the release out as
    a rework, says so in the wafer's records, and the load is done again."""
    run_id = await load_refused_on_resume(store)
    release_recorded_anyway(store, run_id)
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    loads = [
        (s["session"], s["status"])
        for s in store.table("steps", run_id)
        if s["name"] == "load on bonder"
    ]
    assert loads == [(1, "completed"), (2, "failed"), (3, "completed")]
    (carried_out,) = [
        e for e in store.events(run_id) if e["kind"] == "disposition" and e["session"] == 3
    ]
    assert carried_out["wafer_id"] == "W01"
    assert carried_out["data"] == {"decision": "release", "carried_out": "rework"}
    assert "carried out as a rework: its tool refused the held step" in carried_out["message"]


async def test_bump_heights_are_inspected_only_on_the_bonder_holding_the_wafer(store):
    """A refused load released before packline said which holds were refusals (its held
    event without `refused`) was skipped, and the empty bonder's answer passed as the
    wafer's ('bumped sites 0 in [0, 0]'). The inspection asks the bonder what it holds
    first, and holds the wafer naming why."""
    run_id = await load_refused_on_resume(store)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE events SET data = '{}' WHERE run_id = ? AND kind = 'held'", (run_id,))
    release_recorded_anyway(store, run_id)
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "held"
    (wafer,) = store.wafers(run_id)
    assert "step 'inspect bump heights' of W01 failed" in wafer["reason"]
    assert "wire_bonder does not hold W01 (it holds nothing)" in wafer["reason"]
    inspected = [m["name"] for m in store.table("measurements", run_id)]
    assert "bumped sites" not in inspected


async def reworked_never_released(store, run_id: str, cleared: str | None = None) -> None:
    """Held W01's release is refused, recording nothing; its rework is recorded (and the tool
    `cleared`, one out of service for the supply it found off), and the resume that carries
    it out completes the run."""
    with pytest.raises(BadInput, match=r"its tool refused a step, which so did not happen"):
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks done")
    assert store.table("dispositions", run_id) == []
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "do it again")
    if cleared is not None:
        record_clearance(store, run_id, cleared, "ana")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"


async def test_a_batch_load_its_tool_refused_is_reworked_never_released(store):
    """The new user's case: the plasma chamber refuses a plain load of a wafer it cleaned last
    (PROCESSED_HERE). The batch's load (one tool load per wafer, no process operation carried
    out before it) is held as refused: released, it was skipped, and a clean ran on an empty
    chamber with a passing process time. The release is refused; a rework loads it again and
    completes it."""

    def cleaned_here_last(line):
        line.twin.get("W01").record("plasma_cleaner", "plasma clean", 0.0)

    prepared = prepare(RunRequest("plasma-clean", lot=1))
    async with open_run(store, prepared, line_ready=cleaned_here_last) as engine:
        assert await engine.run() == "held"
    (wafer,) = store.wafers(engine.run_id)
    assert "step 'load' of W01 was refused" in wafer["reason"]
    assert "load it again only as a rework" in wafer["reason"]
    await reworked_never_released(store, engine.run_id)
    cleans = [
        s["status"] for s in store.table("steps", engine.run_id) if s["name"] == "plasma clean"
    ]
    assert cleans == ["completed"]


async def held_by_a_fault(
    store, method: str, step: str, tool: str, fault: str | Callable, *, gem: bool = False
) -> tuple[str, dict]:
    """A dry run of `method` (lot 1) whose `tool` suffers `fault` as step `step` starts (a
    fault's name, injected; else a function given the simulated tool), held there: its run id
    and its wafer."""
    lines: list = []

    def fault_at_step(event):
        if event.kind == "step-started" and event.step == step:
            simulated = lines[0].tools[tool]
            if callable(fault):
                fault(simulated)
            else:
                simulated.inject_fault(fault)

    prepared = prepare(RunRequest(method, lot=1, gem=gem))
    async with open_run(
        store, prepared, observers=[fault_at_step], line_ready=lines.append
    ) as engine:
        assert await engine.run() == "held"
    (wafer,) = store.wafers(engine.run_id)
    return engine.run_id, wafer


def statuses(store, run_id: str, step: str) -> list[str]:
    """The status of each record of the steps named `step` of run `run_id`, in order."""
    return [s["status"] for s in store.table("steps", run_id) if s["name"] == step]


async def test_a_plating_the_cell_refused_is_reworked_never_released(store):
    """The contact ring misses the seed: the cell refuses to plate (interlock open) and the
    wafer leaves it unplated. `plate_and_measure` is the cell's `plate` and the records of
    its result, refused before the cell carried out anything, so the hold is a refusal:
    released, the next steps would go on as if the wafer were plated. A rework plates it,
    and the resume goes on through the oven: its `open door` is not the `open door` of the
    plasma batch the resume skipped whole (it took that step's key, and the oven's door
    stayed shut)."""
    step = "electroplate wiring"
    run_id, wafer = await held_by_a_fault(
        store, "two-process-via", step, "electroplater", "contact_open"
    )
    assert "step 'electroplate wiring' of W01 was refused" in wafer["reason"]
    assert "interlock open: cathode_contact" in wafer["reason"]
    await reworked_never_released(store, run_id)
    assert statuses(store, run_id, step) == ["failed", "completed"]


@pytest.mark.parametrize("gem", [False, True], ids=["modbus", "gem"])
async def test_a_reflow_its_oven_refused_is_reworked_never_released(store, gem):
    """The new user's case, on either face of the oven: the nitrogen supply is lost as the
    reflow starts, so the oven refuses the run (interlock open: n2_supply) and no heat is
    applied. The step is a script function (`run_reflow`: the oven's `run_profile`, then the
    records of its result) that the oven refused before it carried out anything in the step,
    so it is held as refused (released, the wafer had gone on with its solder never melted),
    and its record says so, and the oven is out of service until someone clears it (the
    supply back: no step makes it); a rework reflows it and the run completes."""
    step = "reflow balls"
    run_id, wafer = await held_by_a_fault(
        store, "sprout-bump-csp", step, "oven", "n2_supply", gem=gem
    )
    assert "step 'reflow balls' of W01 was refused" in wafer["reason"]
    assert "run profile: interlock open: n2_supply" in wafer["reason"]
    (refused,) = [s for s in store.table("steps", run_id) if s["name"] == step]
    assert refused["error"].startswith("refused by its tool, nothing done: oven at ")
    (out,) = [e for e in store.events(run_id) if e["kind"] == "tool-out-of-service"]
    assert out["data"] == {
        "cause": "interlock open",
        "until_cleared": True,
        "interlocks": ["n2_supply"],
    }
    await reworked_never_released(store, run_id, cleared="oven")
    assert statuses(store, run_id, step) == ["failed", "completed"]


def test_a_refusal_after_an_operation_its_tool_carried_out_in_the_step_is_no_refusal():
    """A step refused by its tool only while the tool carried out no process operation in
    it: a repair refused after the mount the mounter carried out changed the wafer (its hold
    may be released), and so does any failure but a refusal, or another tool's refusal."""
    mounter = SimpleNamespace(name="ball_mounter", operations_carried_out=4)
    stage = Stage("use ball_mounter#0", SimpleNamespace(driver=mounter), replay=False)
    refusal = InterlockOpen("ball_mounter", "modbus://m", "repair balls", ["ball_supply"])
    assert _refused(refusal, stage, carried_out=4, preparation=False)
    # the mount ended in the step
    assert not _refused(refusal, stage, carried_out=3, preparation=False)
    # a preparation of the tool, nothing of the wafer on it: what ended did not touch it
    assert _refused(refusal, stage, carried_out=3, preparation=True)
    assert not _refused(refusal, None, carried_out=4, preparation=False)  # no tool held
    other = InterlockOpen("oven", "modbus://o", "run profile", ["n2_supply"])
    assert not _refused(other, stage, carried_out=4, preparation=True)
    alarm = ToolAlarm("ball_mounter", "modbus://m", "repair balls", ["HEAD_JAM"])
    assert not _refused(alarm, stage, carried_out=4, preparation=True)


@pytest.mark.parametrize(
    ("method", "step", "tool", "fault", "refusal", "cleared"),
    [
        # the lid is an interlock a step makes (closed as it loads): nothing to clear
        (
            "bump-seal-clean",
            "laminate resin film",
            "laminator",
            "lid_switch",
            "interlock open: lid_closed",
            None,
        ),
        # the spindle started (an operation the saw carried out), then the dress refused:
        # nothing of the panel was on the saw, so the step did nothing to it
        (
            "tape-substrate",
            "prepare blade",
            "dicing_saw",
            "water_loss",
            "dress blade: interlock open: cutting_water",
            "dicing_saw",
        ),
    ],
    ids=["laminator-lid", "saw-water"],
)
async def test_a_step_refused_on_an_open_interlock_is_held_as_refused(
    store, method, step, tool, fault, refusal, cleared
):
    """The new tester's two faults: the laminator's lid open as it laminates, the saw's
    cutting water lost as it prepares its blade for the panel (a blade dressed after the
    spindle started, before the mount). Each step is recorded refused, its hold is a refusal
    whose release is refused (the saw's had been accepted, and the resume skipped a blade
    preparation that never finished, the panel not even mounted), and a rework completes it."""
    run_id, wafer = await held_by_a_fault(store, method, step, tool, fault)
    assert f"step {step!r} of W01 was refused" in wafer["reason"]
    assert refusal in wafer["reason"]
    (refused,) = [s for s in store.table("steps", run_id) if s["name"] == step]
    assert refused["error"].startswith(f"refused by its tool, nothing done: {tool} at ")
    await reworked_never_released(store, run_id, cleared=cleared)
    assert statuses(store, run_id, step) == ["failed", "completed"]


async def test_a_tool_preparation_that_failed_is_reworked_never_released(store):
    """The saw's cutting water is lost while it dresses its blade for the panel, before the
    mount: the dress stops on an alarm, a failure, not a refusal, but of a step that did
    nothing to the panel. A release vouches for work on the wafer: accepted, the resume would
    skip the preparation that did not finish, so it is refused, recording nothing; a rework
    prepares the blade again and completes the run."""

    def dress_losing_water(saw):
        ended = type(saw).handlers["DRESS"](saw)
        saw.inject_fault("water_loss")  # as the dress starts: its next status is an alarm
        return ended

    def water_lost_in_the_dress(saw):
        saw.handlers = {**type(saw).handlers, "DRESS": dress_losing_water}

    run_id, wafer = await held_by_a_fault(
        store, "tape-substrate", "prepare blade", "dicing_saw", water_lost_in_the_dress
    )
    assert "step 'prepare blade' of W01 failed" in wafer["reason"]
    assert "WATER_FLOW" in wafer["reason"]
    (held,) = [e for e in store.events(run_id) if e["kind"] == "held"]
    assert held["data"] == {"preparation": True}
    with pytest.raises(
        BadInput,
        match=r"held at a step that prepared its tool, nothing of the wafer on it, and did not "
        r"finish .*rework it to do the step again",
    ):
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks done")
    assert store.table("dispositions", run_id) == []
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "do it again")
    record_clearance(store, run_id, "dicing_saw", "ana")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    assert statuses(store, run_id, "prepare blade") == ["failed", "completed"]


async def test_a_release_stands_when_the_wafer_is_held_again_before_it_reaches_the_step(store):
    """A new user's station run: a plasma clean released, the wafer held again on its way
    back into the chamber (before the released clean), that hold reworked: the next resume ran
    the released clean a second time. The release is on disk when the resume that carries it
    out starts, so no later resume counts the clean as failed."""
    run_id = await held_lot(store)
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "inspected: clean")

    def leak(line):
        line.tools["plasma_cleaner"].inject_fault("chamber_leak")

    async with open_resume(store, run_id, line_ready=leak) as resumed:
        assert await resumed.run() == "held"
    wafer = {w["wafer_id"]: w for w in store.wafers(run_id)}["W01"]
    assert "pump down" in wafer["reason"]
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "leak found: pump again")
    record_clearance(store, run_id, "plasma_cleaner", "ana")
    async with open_resume(store, run_id) as again:
        await again.run()
    assert {w["wafer_id"]: w["status"] for w in store.wafers(run_id)}["W01"] == "completed"
    cleans = clean_rows(store, run_id, "W01")
    assert [(s["session"], s["status"]) for s in cleans] == [
        (1, "interrupted"), (3, "skipped"), (4, "skipped"),
    ]  # fmt: skip
    assert cleans[1]["error"] == cleans[2]["error"] == RELEASED_IN_A_BATCH  # a batch tool's


async def test_a_released_reversible_step_its_batch_runs_again_reads_as_it_happened(store):
    """A trial's timeline read `pump down ... skipped: released by an operator's disposition:
    accepted as done, never run again`, then `pump down (attempt 2, session 2) ... completed`:
    a released wafer batched with reworked ones is loaded with them, and the chamber pumps
    down with every wafer in it. The release accepts the step as done; it does not promise
    the wafer a chamber of its own."""

    def leak(line):
        line.tools["plasma_cleaner"].inject_fault("chamber_leak")

    async with open_run(store, prepare(RunRequest("plasma-clean", lot=4)), line_ready=leak) as run:
        assert await run.run() == "held"  # the pump-down of W01 to W04 failed
    run_id = run.run_id
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "vacuum was fine")
    for wafer in ("W02", "W03", "W04"):
        record_disposition(store, run_id, wafer, Decision.REWORK, "ana", "pump again")
    record_clearance(store, run_id, "plasma_cleaner", "ana")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    pump = [
        (s["session"], s["status"], s["batch"], s["error"])
        for s in store.table("steps", run_id)
        if s["wafer_id"] == "W01" and s["name"] == "pump down"
    ]
    assert [row[:2] for row in pump] == [(1, "failed"), (2, "skipped"), (2, "completed")]
    assert pump[1][3] == RELEASED_IN_A_BATCH
    assert "never run again" not in RELEASED_IN_A_BATCH
    assert pump[2][2] == next(  # with the reworked wafers, in their batch
        s["batch"]
        for s in store.table("steps", run_id)
        if s["wafer_id"] == "W02" and s["name"] == "pump down" and s["session"] == 2
    )


async def confirm_yes(wafers: str, prompt: str) -> tuple[bool, str]:
    return True, "ana" + IN_ADVANCE


async def test_a_release_of_a_later_hold_leaves_an_earlier_holds_rework_standing(store, tmp_path):
    """A new user's served line: the plasma clean failed on a reflected-power alarm, its
    rework's resume was run without --confirmed-by and held the lot again at the seating
    confirmation before the clean, and that hold was released. The next resume skipped the
    clean as released, the lot read completed with no plasma on it. The release answers the
    confirmation's hold: the rework of the clean stands, and the clean runs."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        station = tmp_path / "line.yaml"
        station.write_text(line.station.to_yaml())
        prepared = prepare(station_lot(station, 3))
        chamber = line.tools["plasma_cleaner"]
        chamber.inject_fault("rf_mismatch")
        async with open_run(store, prepared, confirm=confirm_yes) as engine:
            assert await engine.run() == "held"
        run_id = engine.run_id
        wafer_ids = [w["wafer_id"] for w in store.wafers(run_id)]
        assert all("REFLECTED_POWER" in w["reason"] for w in store.wafers(run_id))
        # the hint `disposition` and `clear-tool` print carries the session's --confirmed-by,
        # read back from its confirmations: the new user's bare `packline resume` held again
        assert resume_command(store, run_id).startswith(
            f"`packline resume {run_id} --confirmed-by ana` (its confirmations were answered "
        )
        chamber.clear_fault("rf_mismatch")
        record_clearance(store, run_id, "plasma_cleaner", "ana")
        for wafer_id in wafer_ids:
            record_disposition(store, run_id, wafer_id, Decision.REWORK, "ana", "clean again")
        async with open_resume(store, run_id) as unattended:  # no --confirmed-by
            assert await unattended.run() == "held"
        reasons = [w["reason"] for w in store.wafers(run_id)]
        assert all("operator confirmation refused (no operator)" in r for r in reasons)
        for wafer_id in wafer_ids:
            record_disposition(store, run_id, wafer_id, Decision.RELEASE, "ana", "confirmed seated")
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "completed"
    for wafer_id in wafer_ids:
        cleans = [(s["session"], s["status"]) for s in clean_rows(store, run_id, wafer_id)]
        assert cleans == [(1, "failed"), (3, "completed")]  # redone, never skipped
    times = [m for m in store.table("measurements", run_id) if m["name"] == "plasma process time"]
    assert {m["wafer_id"] for m in times} == set(wafer_ids)


async def test_the_hints_resume_with_confirmed_by_while_a_confirmation_had_no_operator(
    store, tmp_path, capsys
):
    """A session that held wafers at a confirmation no operator was there to answer: the
    resume its end, `disposition` and `clear-tool` name is `packline resume RUN
    --confirmed-by NAME`, saying which wafers and why; a bare `packline resume RUN` (the
    new user's hint) held them there again. Here the first batch's seating goes unanswered
    and the second batch's clean alarms, putting the chamber out of service."""

    async def no_operator_for_the_first_batch(wafers: str, prompt: str) -> tuple[bool, str]:
        return (False, "no operator") if wafers.endswith("W04") else (True, "ci")

    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        station = tmp_path / "line.yaml"
        station.write_text(line.station.to_yaml())
        prepared = prepare(station_lot(station, 5))

        def alarm_in_second_clean(event):
            if event.kind == "step-started" and event.step == "plasma clean":
                line.tools["plasma_cleaner"].inject_fault("rf_mismatch")

        async with open_run(
            store,
            prepared,
            observers=[alarm_in_second_clean],
            confirm=no_operator_for_the_first_batch,
        ) as engine:
            assert await engine.run() == "held"
    run_id = engine.run_id
    wafers = store.wafers(run_id)
    assert all("confirmation refused (no operator)" in w["reason"] for w in wafers[:4])
    assert "REFLECTED_POWER" in wafers[4]["reason"]
    wafer_ids = [w["wafer_id"] for w in wafers]
    unanswered = ", ".join(wafer_ids[:4])
    resume = (
        f"`packline resume {run_id} --confirmed-by NAME` ({unanswered} held at an operator "
        "confirmation no operator answered: a resume without --confirmed-by, and without a "
        "terminal, holds them there again)"
    )
    advice = what_held_wafers_need(store, run_id)
    assert "plasma_cleaner is out of service" in advice
    assert advice.endswith(f"; then {resume}")
    db = ["--db", str(tmp_path / "runs.db")]
    assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana", *db]) == 0
    # every wafer waits for a decision: a resume now would be refused, so that comes first
    assert capsys.readouterr().out.endswith(
        f"(recorded in run {run_id}; {', '.join(wafer_ids)} held: a resume runs them only "
        f"once each is decided (`packline disposition {run_id} WAFER release|rework|scrap --by "
        f"NAME --reason TEXT`); then {resume})\n"
    )
    assert (
        main(["disposition", run_id, "W05", "rework", "--by", "ana", "--reason", "again", *db]) == 0
    )
    # the others still to decide first, which the resume would otherwise leave held
    assert capsys.readouterr().out.endswith(
        f"rework by ana; {', '.join(wafer_ids[:4])} still held: decide each with `packline "
        f"disposition {run_id} WAFER release|rework|scrap --by NAME --reason TEXT`; then carried "
        f"out by {resume}\n"
    )
    for wafer_id in wafer_ids[:4]:
        record_disposition(store, run_id, wafer_id, Decision.SCRAP, "ana", "lot split")
    assert what_held_wafers_need(store, run_id).endswith(f"; then `packline resume {run_id}`")


async def test_an_identical_second_decision_is_refused_naming_who_made_the_first(store):
    """A new user's second `release` of a wafer already released was recorded silently; the
    same decision twice for one hold is a double entry: refused, naming the first."""
    run_id = await held_lot(store)
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "looks clean")
    with pytest.raises(BadInput) as refused:
        record_disposition(store, run_id, "W01", Decision.RELEASE, "ben", "clean to me too")
    assert str(refused.value).startswith(
        f"wafer W01 of run {run_id} is already decided: release by ana (looks clean), "
        "carried out by the next resume; nothing recorded"
    )
    assert "a different decision replaces it" in str(refused.value)
    decided = [(d["decision"], d["by"]) for d in store.table("dispositions", run_id)]
    assert decided == [("release", "ana")]


def test_a_different_second_decision_says_what_it_replaces(tmp_path, capsys):
    db = tmp_path / "runs.db"
    run_id = held_lot_in(db)
    common = ["--by", "ana", "--reason", "looks clean", "--db", str(db)]
    assert main(["disposition", run_id, "W01", "release", *common]) == 0
    assert "replaces" not in capsys.readouterr().out
    again = ["--by", "ben", "--reason", "residue: again", "--db", str(db)]
    assert main(["disposition", run_id, "W01", "rework", *again]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"wafer W01 of run {run_id}: rework by ben (replaces release by ana: looks clean); "
    )
    assert main(["disposition", run_id, "W02", "rework", *again, "--json"]) == 0
    assert "replaces" not in json.loads(capsys.readouterr().out)
    assert main(["disposition", run_id, "W02", "release", *common, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaces"] == "rework by ben: residue: again"


def test_show_json_says_what_the_held_wafers_need_as_the_text_does(db, capsys):
    """A newcomer's `show --json` of a held run had every next step the text ends with
    (the decisions, the clears, the resume) nowhere: its `next` says them, as the text does,
    and is empty once nothing is held."""
    run_id = held_lot_in(db)  # W01-W04 held, W05 completed
    assert main(["show", run_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["next"]
    store = RunStore(db, create=False)
    try:
        assert shown == what_held_wafers_need(store, run_id)
    finally:
        store.close()
    assert shown.startswith(
        f"W01, W02, W03, W04 held: decide each (why it is held: `packline show {run_id}"
    )
    assert shown.endswith(f"; then `packline resume {run_id}`")  # `db` is the default
    for wafer in ("W01", "W02", "W03", "W04"):
        said = ["--by", "ben", "--reason", "chipped"]
        assert main(["disposition", run_id, wafer, "scrap", *said]) == 0
    capsys.readouterr()
    assert main(["show", run_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["next"] == ""
