"""Records that cannot be written: a full, failing or read-only disk is `RecordsUnwritable`,
its transaction rolled back whole (sequences/engine/records.py); a run that meets it starts no
step its records do not hold, stops as a terminate stops it and says how to go on, and a
resume once the disk has room carries the lot to its end (sequences/engine/engine.py). The
disk is filled by SQLite's own limit on the database's pages, which refuses a write that
needs one more page as a full disk does (SQLITE_FULL)."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from packline.cli import main
from packline.sequences.engine import (
    Decision,
    RecordsUnwritable,
    RunNotRecorded,
    RunRequest,
    RunStore,
    open_resume,
    open_run,
    prepare,
    record_disposition,
    run_report,
)
from packline.sequences.engine import records as records_module

EVENT = {
    "run_id": "r1",
    "session": 1,
    "kind": "note",
    "wafer_id": None,
    "tool": None,
    "status": None,
    "data": None,
    "t": 0.0,
    "wall": 0.0,
}


def fill_the_disk(store: RunStore) -> None:
    """Let the database grow by no page more: the next write that needs one is refused."""
    with store.transaction() as db:
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        db.execute(f"PRAGMA max_page_count = {pages}")


def make_room(store: RunStore) -> None:
    with store.transaction() as db:
        db.execute("PRAGMA max_page_count = 1073741823")


def events_written(store: RunStore) -> int:
    return len(store.table("events", "r1"))


def test_a_write_the_full_disk_refuses_is_records_unwritable_and_changes_nothing(store):
    store.add_rows("events", [{**EVENT, "message": "before"}])
    fill_the_disk(store)
    with pytest.raises(RecordsUnwritable) as refused:
        store.add_rows("events", [{**EVENT, "message": "x" * 4000}] * 50)
    assert str(refused.value) == (
        f"the records at {store.path} could not be written (database or disk is full)"
    )
    assert isinstance(refused.value.cause, sqlite3.OperationalError)
    assert events_written(store) == 1  # rolled back whole: none of the 50
    make_room(store)
    store.add_rows("events", [{**EVENT, "message": "after"}])
    assert events_written(store) == 2


def test_a_sync_the_disk_fails_is_records_unwritable(store, monkeypatch):
    """A durable write whose log cannot be put on disk is not on disk: the caller (an
    irreversible step's start) must not go on as if it were."""

    def failing_fsync(descriptor: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(records_module.os, "fsync", failing_fsync)
    with pytest.raises(RecordsUnwritable, match=r"could not be written \(\[Errno 5\]"):
        store.add_rows("events", [{**EVENT, "message": "durable"}])


def test_a_mistake_in_a_statement_is_not_taken_for_the_disk(store):
    """Only the storage's refusals are `RecordsUnwritable`: a statement SQLite cannot run is a
    bug, raised as SQLite says it."""
    with pytest.raises(sqlite3.OperationalError, match="no column named nosuch"):
        store.add_rows("events", [{**EVENT, "message": "m", "nosuch": 1}])


@pytest.mark.parametrize("full_after_steps", [2, 40])
async def test_a_run_whose_records_cannot_be_written_stops_and_a_resume_ends_it(
    store, full_after_steps
):
    """bump-seal-clean for a lot of 3; the disk fills once `full_after_steps` steps have
    finished. No step started that the records do not hold; the run stops naming the
    database and the resume, and is left as a crash leaves it. Once
    there is room, a resume carries every wafer to its end: a wafer whose irreversible step
    was under way, unrecorded, is held for a disposition, reworked here, and the product
    passes the claim check."""
    told: list = []

    def observe(event) -> None:
        told.append(event)
        finished = [e for e in told if e.kind == "step-finished"]
        if event.kind == "step-finished" and len(finished) == full_after_steps:
            fill_the_disk(store)

    prepared = prepare(RunRequest("bump-seal-clean", lot=3))
    async with open_run(store, prepared, observers=[observe]) as engine:
        with pytest.raises(RunNotRecorded) as stopped:
            await engine.run()
    run_id = engine.run_id
    assert str(stopped.value).startswith(
        f"run {run_id} stopped: the records at {store.path} could not be written "
        "(database or disk is full). No step started that the records do not hold"
    )
    assert f"then `packline resume {run_id}`" in str(stopped.value)
    (terminating,) = [e for e in told if e.kind == "terminating"]
    assert "could not be written (database or disk is full)" in terminating.message

    make_room(store)
    recorded = {row["id"] for row in store.table("steps", run_id)}
    started = [e.data["step_id"] for e in told if e.kind == "step-started"]
    assert set(started) <= recorded
    assert store.run(run_id)["status"] == "running"  # as a crash leaves it

    async with open_resume(store, run_id) as resumed:
        status = await resumed.run()
    for wafer in store.wafers(run_id):
        if wafer["status"] == "held":
            assert "was running when the run stopped" in wafer["reason"]
            record_disposition(store, run_id, wafer["wafer_id"], Decision.REWORK, "ana", "ok")
    if status == "held":
        async with open_resume(store, run_id) as resumed:
            status = await resumed.run()
    assert status == "completed"
    assert {w["status"] for w in store.wafers(run_id)} == {"completed"}
    assert run_report(store, run_id)["claim_check"]["status"] == "passed"


def test_the_command_line_says_why_the_run_stopped_and_how_to_go_on(db, monkeypatch, capsys):
    """`packline run` on a disk that fills mid-run: exit 1, one message naming the database,
    the cause and the resume, and no traceback."""
    finish_steps = RunStore.finish_steps
    calls = []

    def filling(self: RunStore, *args, **kwargs) -> None:
        finish_steps(self, *args, **kwargs)
        calls.append(None)
        if len(calls) == 2:
            fill_the_disk(self)

    monkeypatch.setattr(RunStore, "finish_steps", filling)
    assert main(["run", "plasma-clean", "--sim", "--lot", "4", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    (line,) = [line for line in captured.err.splitlines() if line.startswith("packline: error")]
    assert f"the records at {db} could not be written (database or disk is full)" in line
    assert "then `packline resume " in line
