"""Records that do not grow without bound: a run archived to one file, runs pruned.

`archive_run` writes one zip file that keeps a run whole: `runs.db`, a run database holding
that run alone (every record, its twin snapshots and traces: `packline show RUN --db runs.db`
reads it once unzipped), `report.html`, its report, `export/`, every table as Parquet with
`run.json` (`packline export`), and `archive.json`, what the archive holds with each file's
sha256. It refuses to overwrite a file and to archive a run a process still drives, and
records an `archived` event in the run (so `prune --dry-run` shows which runs are kept
elsewhere).

`plan_prune` chooses the runs to delete: those started before a date, and/or all but the
newest N; a run a live process drives (running or paused) is never chosen, however old, nor
is a run whose lot is not finished (a wafer neither completed nor scrapped: held for a
decision, or left for a resume): its records are what its resume and its dispositions read,
and why its wafers are held; deciding, scrapping or finishing them makes it one to prune. Nor
is a run that left wafers on a tool (`left_on_tools`: an abort's, scrapped or not) or a tool
of which waits for its resume's recovery (`awaiting_recovery`: its recovery failed, or its
abort's safe state was not confirmed): they may be on the tool still, and only that resume,
which reads those records, takes them off.
`prune_runs` deletes the chosen runs' every record in one transaction, the twin snapshots and
parts no remaining run uses, then gives the freed pages back to the file system where the
database allows it (databases created since schema 6: `auto_vacuum` incremental); every
table with a `run_id` column is cleared, so a table a later migration adds is too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packline import __version__
from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.clearances import awaiting_recovery
from packline.sequences.engine.dispositions import DONE
from packline.sequences.engine.events import ARCHIVED
from packline.sequences.engine.left_on_tools import WafersLeft, wafers_left
from packline.sequences.engine.liveness import DRIVEN, shown_run
from packline.sequences.engine.packing import drop_unused_twins, twin_blobs_of, twin_parts_of

from .export import export_run
from .reader import RunRecords, runs_since
from .report import write_report

#: The run database inside an archive.
ARCHIVED_DB = "runs.db"
#: SQLite's `auto_vacuum` mode in which a database gives free pages back on request.
INCREMENTAL = 2


@dataclass(frozen=True)
class PrunePlan:
    """The runs `prune_runs` would delete (`runs`, oldest first, rows as `RunStore.runs`
    lists them, with `archived`: where each was archived, or None) and the runs the criteria
    chose but that it keeps: those `driven` (running or paused in a live process), and those
    whose lot is `unfinished` (each with `unfinished`: its wafers neither completed nor
    scrapped, by status), and those `unrecovered`, whose lot is finished but that left wafers
    on a tool or a tool of which waits for their resume's recovery (each with `unrecovered`:
    each such tool and the
    wafers the records say are left on it, perhaps none; and `unrecovered_may_be`, those of
    them that only may be there: `WafersLeft.may_be`)."""

    runs: list[dict[str, Any]]
    driven: list[dict[str, Any]] = field(default_factory=list)
    unfinished: list[dict[str, Any]] = field(default_factory=list)
    unrecovered: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Pruned:
    """What `prune_runs` did: the `runs` deleted, the bytes the database gave back to the
    file system (`returned_bytes`; on disk once the last connection checkpoints) and those
    left free inside it for new records (`free_bytes`: a database created before schema 6
    keeps them; `sqlite3 runs.db VACUUM` gives them back)."""

    runs: list[str]
    returned_bytes: int
    free_bytes: int


def plan_prune(
    store: RunStore, *, before_wall: float | None = None, keep: int | None = None
) -> PrunePlan:
    """The runs started before Unix time `before_wall` and not among the newest `keep` (each
    criterion when given; at least one must be)."""
    if before_wall is None and keep is None:
        raise BadInput("prune: say which runs: --before DATE, --keep N or both")
    if keep is not None and keep < 0:
        raise BadInput(f"prune --keep {keep}: a number of runs, 0 or more")
    runs = runs_since(store)
    chosen = runs[: max(0, len(runs) - keep)] if keep is not None else runs
    if before_wall is not None:
        chosen = [run for run in chosen if run["started_wall"] < before_wall]
    shown = [shown_run(run) for run in chosen]
    archived = _archives(store, [run["id"] for run in shown])
    open_lots = {
        run["id"]: left for run in shown if not _driven(run) and (left := _unfinished(store, run))
    }
    owed = {
        run["id"]: tools
        for run in shown
        if not _driven(run)
        and run["id"] not in open_lots
        and (tools := _unrecovered(store, run["id"])).tools
    }
    return PrunePlan(
        runs=[
            {**run, "archived": archived.get(run["id"])}
            for run in shown
            if not _driven(run) and run["id"] not in open_lots and run["id"] not in owed
        ],
        driven=[run for run in shown if _driven(run)],
        unfinished=[
            {**run, "unfinished": open_lots[run["id"]]} for run in shown if run["id"] in open_lots
        ],
        unrecovered=[
            {
                **run,
                "unrecovered": owed[run["id"]].tools,
                "unrecovered_may_be": owed[run["id"]].may_be,
            }
            for run in shown
            if run["id"] in owed
        ],
    )


def _unfinished(store: RunStore, run: dict[str, Any]) -> dict[str, list[str]]:
    """The wafers of `run` neither completed nor scrapped (held, or left for a resume), by
    status: none for a run whose lot is finished."""
    left: dict[str, list[str]] = {}
    for wafer in store.wafers(run["id"]):
        if wafer["status"] not in DONE:
            left.setdefault(wafer["status"], []).append(wafer["wafer_id"])
    return left


def _unrecovered(store: RunStore, run_id: str) -> WafersLeft:
    """The tools run `run_id` left wafers on and those that wait for its resume's recovery,
    each with the wafers the records say are left on it (none: a tool awaiting recovery may
    hold none, or ones the records cannot name), and of them those that only may be there
    (`wafers_left`)."""
    left = wafers_left(store, run_id)
    tools = sorted({*left.tools, *awaiting_recovery(store, run_id)})
    return WafersLeft(
        {tool: left.tools.get(tool, []) for tool in tools},
        {tool: left.may_be[tool] for tool in tools if tool in left.may_be},
    )


def prune_runs(store: RunStore, plan: PrunePlan) -> Pruned:
    """Delete every record of the runs of `plan` (checking again, in the same transaction,
    that no process has taken one over meanwhile) and what only they used, then give the
    pages freed back where the database allows it."""
    ids = [run["id"] for run in plan.runs]
    with store.transaction() as db:
        before = _pages(db)
        for run_id in ids:
            row = dict(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
            if _driven(shown_run(row)):
                raise BadInput(f"prune: run {run_id} is driven again meanwhile; nothing deleted")
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "run_id" in store.columns(name)
        ]
        marks = ", ".join("?" for _ in ids)
        for table in tables:
            db.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", ids)
        db.execute(f"DELETE FROM runs WHERE id IN ({marks})", ids)
        drop_unused_twins(db)
    with store.transaction() as db:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
            # each step of the pragma gives one free page back
            while db.execute("PRAGMA freelist_count").fetchone()[0]:
                db.execute("PRAGMA incremental_vacuum")
        size = db.execute("PRAGMA page_size").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return Pruned(ids, (before - _pages(db)) * size, free * size)


def archive_run(records: RunRecords, path: str | Path) -> Path:
    """Write run `records` to the zip file `path` (see the module docstring), which must
    not exist, and record the archive in the run; the path."""
    target = Path(path)
    run = records.header()
    if target.exists():
        raise BadInput(f"archive {target}: the file exists (an archive never overwrites)")
    if run["status"] in DRIVEN:
        raise BadInput(
            f"archive: run {records.run_id} is {run['status']} in a live process; archive it "
            "once it has ended"
        )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        copy_run(records.store, records.run_id, folder / ARCHIVED_DB)
        write_report(records, folder / "report.html")
        export_run(records, folder / "export", "parquet")
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        manifest = {
            "run_id": records.run_id,
            "method": run["method"],
            "status": run["status"],
            "archived_wall": time.time(),
            "packline": __version__,
            "files": {str(p.relative_to(folder)): _sha256(p) for p in files},
        }
        try:
            with zipfile.ZipFile(target, "x", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("archive.json", json.dumps(manifest, indent=2))
                for file in files:
                    archive.write(file, str(file.relative_to(folder)))
        except OSError as error:
            target.unlink(missing_ok=True)
            raise BadInput(f"archive {target}: cannot write it ({error.strerror})") from None
    records.store.add_stopped_run_event(run, ARCHIVED, str(target.resolve()), wafer_id=None)
    return target


def copy_run(store: RunStore, run_id: str, path: Path) -> None:
    """Write a new run database at `path` holding run `run_id` of `store` alone: every row
    of it, and the twin snapshots and parts its snapshot rows refer to (with the snapshots
    their headers are coded against)."""
    RunStore(path).close()  # the schema, as every packline creates it
    source = sqlite3.connect(store.path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        source.execute("ATTACH DATABASE ? AS copy", (str(path),))
        source.execute("BEGIN")
        tables = [
            name
            for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "run_id" in store.columns(name)
        ]
        source.execute("INSERT INTO copy.runs SELECT * FROM runs WHERE id = ?", (run_id,))
        for table in tables:
            source.execute(
                f"INSERT INTO copy.{table} SELECT * FROM {table} WHERE run_id = ?", (run_id,)
            )
        hashes = sorted(
            twin_blobs_of(
                source,
                [h for (h,) in source.execute("SELECT DISTINCT hash FROM copy.twin_snapshots")],
            )
        )
        source.execute(
            "INSERT INTO copy.twin_blobs SELECT * FROM twin_blobs "
            "WHERE hash IN (SELECT value FROM json_each(?))",
            (json.dumps(hashes),),
        )
        source.execute(
            "INSERT INTO copy.twin_parts SELECT * FROM twin_parts "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(twin_parts_of(source, hashes))),),
        )
        source.execute("COMMIT")
    finally:
        source.close()


def _archives(store: RunStore, run_ids: list[str]) -> dict[str, str]:
    """Where each of these runs was last archived (the message of its `archived` event)."""
    found: dict[str, str] = {}
    for run_id in run_ids:
        for event in store.table("events", run_id):
            if event["kind"] == ARCHIVED:
                found[run_id] = event["message"]
    return found


def _driven(run: dict[str, Any]) -> bool:
    return run["status"] in DRIVEN


def _pages(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA page_count").fetchone()[0])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
