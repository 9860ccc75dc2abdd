"""Archive and prune: a run kept whole in one zip file, runs deleted with nothing else lost."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from packline.cli import main
from packline.records import RunRecords
from packline.records.retention import archive_run, plan_prune, prune_runs
from packline.sequences.engine import BadInput, RunStore

#: The tables of a run compared between a database and its archive.
COMPARED = ("wafers", "steps", "measurements", "traces", "alarms", "claim_checks", "tools")


@pytest.fixture(scope="module")
def two_runs_db(run_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`run_db`'s dry run of bump-seal-clean (2 wafers), then a second one of 1 wafer."""
    path = tmp_path_factory.mktemp("retention") / "runs.db"
    shutil.copy(run_db, path)
    args = ["run", "bump-seal-clean", "--sim", "--lot", "1", "--quiet", "--db", str(path)]
    assert main(args) == 0
    return path


@pytest.fixture
def db(two_runs_db: Path, tmp_path: Path) -> Path:
    """A copy of `two_runs_db` a test may change."""
    shutil.copy(two_runs_db, tmp_path / "runs.db")
    return tmp_path / "runs.db"


def run_ids(path: Path) -> list[str]:
    store = RunStore(path, create=False)
    try:
        return [run["id"] for run in store.runs()][::-1]
    finally:
        store.close()


def rows_of(path: Path, run_id: str) -> dict[str, int]:
    """How many rows each table holds of run `run_id`."""
    db = sqlite3.connect(path)
    try:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        counts = {}
        for table in tables:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            key = "run_id" if "run_id" in columns else "id" if table == "runs" else None
            if key:
                counts[table] = db.execute(
                    f"SELECT count(*) FROM {table} WHERE {key} = ?", (run_id,)
                ).fetchone()[0]
        return counts
    finally:
        db.close()


def test_an_archive_holds_the_run_whole(db, tmp_path):
    first, _ = run_ids(db)
    store = RunStore(db, create=False)
    try:
        records = RunRecords(store, first)
        path = archive_run(records, tmp_path / "lot.zip")
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            manifest = json.loads(archive.read("archive.json"))
            for name, digest in manifest["files"].items():
                assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
            archive.extractall(tmp_path / "out")
        assert {"archive.json", "runs.db", "report.html", "export/run.json"} <= names
        assert {f"export/{t}.parquet" for t in COMPARED} <= names
        assert manifest["run_id"] == first
        copy = RunStore(tmp_path / "out" / "runs.db", create=False)
        try:
            assert [run["id"] for run in copy.runs()] == [first]
            kept = RunRecords(copy, first)
            for table in COMPARED:
                pd.testing.assert_frame_equal(kept.table(table), records.table(table))
            # the twin: every snapshot of the run reads back the same
            for wafer, step in records.snapshots()[["wafer_id", "step_id"]].itertuples(index=False):
                pd.testing.assert_frame_equal(
                    kept.site_map(wafer, int(step)), records.site_map(wafer, int(step))
                )
        finally:
            copy.close()
        exported = pd.read_parquet(tmp_path / "out" / "export" / "measurements.parquet")
        pd.testing.assert_frame_equal(exported, records.measurements())
        events = records.events()
        assert events["kind"].iloc[-1] == "archived"
        assert events["message"].iloc[-1] == str(path.resolve())
        with pytest.raises(BadInput, match="the file exists"):
            archive_run(records, path)
    finally:
        store.close()
    assert plan_prune(RunStore(db, create=False), keep=1).runs[0]["archived"] == str(path.resolve())


#: How many stored twin parts no snapshot uses, directly or as the base of a part it uses:
#: written here in SQL, apart from the helper that prune itself relies on.
UNUSED_TWIN_PARTS = """
    WITH RECURSIVE used(id) AS (
        SELECT j.value FROM twin_blobs b, json_each(b.parts) j WHERE b.parts IS NOT NULL
        UNION
        SELECT p.base FROM twin_parts p JOIN used u ON p.id = u.id WHERE p.base IS NOT NULL)
    SELECT count(*) FROM twin_parts WHERE id NOT IN (SELECT id FROM used)
"""


def test_prune_deletes_every_record_of_the_old_run_and_keeps_the_new_ones_twins(db):
    first, second = run_ids(db)
    store = RunStore(db, create=False)
    try:
        kept = RunRecords(store, second)
        snapshots = kept.snapshots()[["wafer_id", "step_id"]].itertuples(index=False)
        before = {(w, s): kept.site_map(w, int(s)) for w, s in snapshots}
        with store.transaction() as sql:
            parts_before = sql.execute("SELECT count(*) FROM twin_parts").fetchone()[0]
        plan = plan_prune(store, keep=1)
        assert [run["id"] for run in plan.runs] == [first]
        pruned = prune_runs(store, plan)
        assert pruned.runs == [first]
        assert pruned.returned_bytes > 0  # a new database gives its free pages back
        for (wafer, step), sites in before.items():
            pd.testing.assert_frame_equal(kept.site_map(wafer, step), sites)
        with store.transaction() as sql:
            parts_after = sql.execute("SELECT count(*) FROM twin_parts").fetchone()[0]
            assert 0 < parts_after < parts_before  # the old run's own parts went, shared ones stay
            assert sql.execute(UNUSED_TWIN_PARTS).fetchone()[0] == 0
            orphans = sql.execute(
                "SELECT count(*) FROM twin_blobs WHERE hash NOT IN "
                "(SELECT hash FROM twin_snapshots)"
            ).fetchone()[0]
            assert orphans == 0
    finally:
        store.close()
    assert set(rows_of(db, first).values()) == {0}
    assert rows_of(db, second)["steps"] > 0
    assert run_ids(db) == [second]


def test_a_run_a_live_process_drives_is_never_pruned(db):
    first, second = run_ids(db)
    store = RunStore(db, create=False)
    try:
        # the process that started the tests is alive and is not this one
        store.update_run(first, status="running", pid=os.getppid(), host=socket.gethostname())
        plan = plan_prune(store, before_wall=4e9)
        assert [run["id"] for run in plan.runs] == [second]
        assert [run["id"] for run in plan.driven] == [first]
        with pytest.raises(BadInput, match="is running in a live process"):
            archive_run(RunRecords(store, first), db.parent / "a.zip")
        assert not (db.parent / "a.zip").exists()
    finally:
        store.close()


def test_a_run_whose_lot_is_not_finished_is_kept_until_its_wafers_are(db, capsys):
    """A trial's `prune --dry-run` listed an aborted run of four held wafers among those it
    would delete: the records its dispositions and resume read, and why its wafers are held."""
    first, second = run_ids(db)
    store = RunStore(db, create=False)
    try:
        store.update_run(first, status="held")
        store.update_wafer(first, "W02", status="held", reason="step 'bump' failed")
    finally:
        store.close()
    assert main(["prune", "--db", str(db), "--before", "2100-01-01", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert second in out.split("kept:")[0]
    # each command with the database it needs (a re-trial pasted `packline resume RUN`, which
    # looked in the default database)
    db_option = f" --db {db.resolve()}"
    assert (
        f"kept: run {first}'s lot is not finished: 1 held (W02); its records are what its "
        f"dispositions and resume read: decide or scrap its held wafers (`packline "
        f"disposition {first} WAFER ...{db_option}`) or resume it (`packline resume "
        f"{first}{db_option}`), then prune"
    ) in " ".join(out.split())
    assert main(["prune", "--db", str(db), "--before", "2100-01-01", "--yes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deleted"] == [second]
    assert data["kept_unfinished"] == {first: {"held": ["W02"]}}
    assert run_ids(db) == [first]
    # scrapped, the wafer is done with: the run goes with the next prune
    assert main(["disposition", first, "W02", "scrap", "--db", str(db), "--by", "ana",
                 "--reason", "cracked"]) == 0  # fmt: skip
    assert main(["prune", "--db", str(db), "--before", "2100-01-01", "--yes"]) == 0
    assert run_ids(db) == []


def test_the_commands_list_first_and_delete_only_when_asked(db, tmp_path, capsys):
    first, second = run_ids(db)
    counts = rows_of(db, first)
    assert main(["prune", "--db", str(db), "--keep", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete" in out
    assert first in out
    assert "not archived" in out
    assert rows_of(db, first) == counts
    # no terminal to ask and no --yes: refused, nothing deleted
    assert main(["prune", "--db", str(db), "--keep", "1"]) == 2
    assert "nothing was" in capsys.readouterr().err
    assert rows_of(db, first) == counts
    with pytest.raises(SystemExit):
        main(["prune", "--db", str(db), "--keep", "0", "--yes"])
    assert main(["prune", "--db", str(db), "--yes"]) == 2
    assert "--before DATE, --keep N or both" in capsys.readouterr().err
    assert main(["archive", first, "--db", str(db), "--to", str(tmp_path / "a.zip")]) == 0
    capsys.readouterr()
    assert main(["prune", "--db", str(db), "--keep", "1", "--yes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deleted"] == [first]
    assert data["runs"][0]["archived"] == str((tmp_path / "a.zip").resolve())
    assert run_ids(db) == [second]
