"""Run records: one SQLite file (`database.py`), written as the run goes, read by `runs`, `show`
and `resume`.

Every write is a transaction committed before the engine goes on (each step's start and end,
with the step's measurements, alarms, confirmations and twin snapshots), so a killed process
loses none of them. Most are on disk at once too (`durable`); the engine's frequent writes
(a reversible step's start, any step's end, its rows and events) are on disk with the next
durable one, at the latest the start of the next irreversible step (decision 0032). Process
traces are the one batched stream: their rows wait in memory and go to disk with the next
step transaction (or every `TRACE_BATCH` rows), so a crash loses at most the readings taken
since the last step boundary, never a step or a measurement.

Twin snapshots are stored by part and a step's trace rows are packed per series when the step
ends, in the transaction that records its end (`packing.py`): from the samples the store wrote
of it, kept in memory until then, when the store started the step (its samples still buffered
then are packed without being written as rows first), else read back. The rows a run's session
took outside a step are packed when it closes the store. Every reader sees the
same records either way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import packing
from .database import ROW_TABLES, RunDatabase
from .errors import RecordsUnwritable
from .schema import INJECTED_FAULT_OF_ALARM

if TYPE_CHECKING:
    from packline.sim_instruments.twin.snapshot import Snapshot

TRACE_BATCH = 2000
#: SQLite's primary result codes of a write the storage refused (`_unwritable`).
_STORAGE_FAILURES = frozenset(
    {
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)
#: Statuses of a run that no engine is driving any more and `resume` may continue.
RESUMABLE = ("running", "paused", "terminated", "aborted", "failed")


def default_db_path() -> Path:
    """`$PACKLINE_DB`, else `runs.db` in `$PACKLINE_DATA`, else in `$XDG_DATA_HOME/packline`."""
    if os.environ.get("PACKLINE_DB"):
        return Path(os.environ["PACKLINE_DB"])
    if os.environ.get("PACKLINE_DATA"):
        return Path(os.environ["PACKLINE_DATA"]) / "runs.db"
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "packline" / "runs.db"


def db_option(db: str | Path) -> str:
    """What a command named for the user to run next on database `db` needs to find it:
    nothing for the default one (`default_db_path`), else ` --db PATH` (absolute, quoted
    for the shell), since the named command would otherwise look in the default one. (Only
    in what is printed: a text the records keep names no path, which moves with them.)"""
    import shlex

    path = Path(db).resolve()
    return "" if path == default_db_path().resolve() else f" --db {shlex.quote(str(path))}"


class RunStore(RunDatabase):
    """The records of every run in one SQLite file, and what a run writes to them."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        super().__init__(path, create=create)
        #: Whether `transaction()` is open (a transaction opened inside it joins it).
        self._in_transaction = False
        #: Whether the open transaction is durable (one opened inside it must not be more).
        self._durable = True
        #: Whether a transaction committed since the write-ahead log was last synced.
        self._unsynced = False
        #: The write-ahead log, named as SQLite names it: its database file's full name + -wal.
        self._wal = self._db.execute("PRAGMA database_list").fetchone()["file"] + "-wal"
        # Commits reach the operating system (a killed process loses nothing committed); a
        # durable transaction syncs the log to disk itself (`_sync`), with every commit before.
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._traces: list[tuple[Any, ...]] = []
        #: The trace samples written of each step this store started and has not finished yet
        #: (packed from here when it finishes, not read back); dropped when a transaction rolls
        #: back, its steps' samples read back instead.
        self._step_samples: dict[int, packing.StepSamples] = {}
        #: The run of each step this store started and has not finished yet (a finish need not
        #: read it back).
        self._step_runs: dict[int, str] = {}
        self._twins = packing.TwinWriter()
        #: The runs this store wrote trace rows of (packed when it is closed).
        self._traced: set[str] = set()

    def close(self) -> None:
        """Write the buffered traces, pack every trace row of the runs this store traced (and
        give the pages they leave free back, in a file created with schema 6), and close the
        database. Records that cannot be written now (`RecordsUnwritable`, which the run that
        wrote them has met and reported) leave the readings since the run's last step
        boundary unwritten, as a crash would: the database is closed all the same."""
        with suppress(RecordsUnwritable):
            self.flush_traces()
            if self._traced:
                with self.transaction() as db:
                    for run_id in sorted(self._traced):
                        packing.pack_traces(db, run_id, None)
                self._db.executescript("PRAGMA incremental_vacuum;")  # to the end (one page)
            if self._unsynced:
                self._sync()
        super().close()

    @contextmanager
    def transaction(
        self, *, durable: bool = True, traces: bool = False, packed: Collection[int] = ()
    ) -> Iterator[sqlite3.Connection]:
        """One transaction, committed when the block ends; the buffered traces go with it when
        it is a step's (`traces`: a step's start or end, or a batch of them), those of the steps
        it packs from their samples in memory (`packed`) only given their ids, not written as
        rows it would delete again (`packing.write_traces`).

        A durable one is on disk when it returns, and so is every transaction committed
        before it; one not durable is committed (another process reads it, a killed one
        loses nothing of it) and on disk with the next durable one. Opened inside another,
        it is part of that one (its writes commit or roll back with the outer ones), which
        must then be durable if it is."""
        if self._in_transaction:
            if durable and not self._durable:
                raise RuntimeError("a durable transaction cannot join one that is not durable")
            yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            if unwritable := self._unwritable(error):
                raise unwritable from error
            raise
        self._in_transaction, self._durable = True, durable
        buffered = self._traces
        try:
            if traces:
                self._write_traces(packed)
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as error:
            # a COMMIT that failed (a full disk, an I/O error) may have rolled back itself
            if self._db.in_transaction:
                with suppress(sqlite3.Error):  # failing as the COMMIT did: that error is told
                    self._db.execute("ROLLBACK")
            if traces:  # not written: keep them for the next one
                self._traces = buffered + self._traces
            self._step_samples.clear()  # the ids they were given are not the ones written
            self._twins.forget()  # nor, perhaps, the snapshots and parts it stored
            if isinstance(error, sqlite3.Error) and (unwritable := self._unwritable(error)):
                raise unwritable from error
            raise
        finally:
            self._in_transaction = False
        if durable:
            self._sync()
        else:
            self._unsynced = True

    def _unwritable(self, error: sqlite3.Error) -> RecordsUnwritable | None:
        """`RecordsUnwritable` for a write that SQLite refused because of the storage (the disk
        full, failing or read-only, the database busy past its timeout, its file damaged);
        None for any other error, a mistake in a statement, which is a bug, not the disk."""
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
        return RecordsUnwritable(str(self.path), error) if code in _STORAGE_FAILURES else None

    def _sync(self) -> None:
        """Put the write-ahead log on disk (fsync), and with it every transaction committed.

        The log is appended to in commit order and a checkpoint syncs it before it copies it
        into the database, so one sync of the file makes every earlier commit durable."""
        try:
            descriptor = os.open(self._wal, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise RecordsUnwritable(str(self.path), error) from error
        self._unsynced = False

    # ----------------------------------------------------------------- runs and wafers

    def create_run(self, run: dict[str, Any], wafer_ids: Sequence[str]) -> None:
        columns = ", ".join(run)
        marks = ", ".join("?" for _ in run)
        with self.transaction() as db:
            db.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", tuple(run.values()))
            db.executemany(
                "INSERT INTO wafers (run_id, wafer_id, position, status) "
                "VALUES (?, ?, ?, 'pending')",
                [(run["id"], wafer_id, i) for i, wafer_id in enumerate(wafer_ids)],
            )

    def update_run(self, run_id: str, **values: Any) -> None:
        sets = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as db:
            db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))

    def start_session(
        self, run_id: str, session: int, cut_off: Mapping[int, str], **values: Any
    ) -> bool:
        """Take over run `run_id` as its session `session` (setting `values` too), only if no
        other process has started that session meanwhile: the check and the write are one
        transaction, so two `packline resume` of one run cannot both drive it. The steps the
        last session left running (`cut_off`: step id -> what this session decided for it) are
        closed as interrupted in the same transaction."""
        sets = ", ".join(f"{column} = ?" for column in ("sessions", *values))
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE runs SET {sets} WHERE id = ? AND sessions = ?",
                (session, *values.values(), run_id, session - 1),
            )
            if cursor.rowcount != 1:
                return False
            db.executemany(
                "UPDATE steps SET status = 'interrupted', error = ? "
                "WHERE id = ? AND status = 'running'",
                [(decision, step_id) for step_id, decision in cut_off.items()],
            )
            return True

    def update_wafer(self, run_id: str, wafer_id: str, **values: Any) -> None:
        sets = ", ".join(f"{column} = ?" for column in values)
        with self.transaction() as db:
            db.execute(
                f"UPDATE wafers SET {sets} WHERE run_id = ? AND wafer_id = ?",
                (*values.values(), run_id, wafer_id),
            )

    def trace_summary(self, run_id: str) -> list[dict[str, Any]]:
        """Per tool, trace name and unit: the samples, their min and max."""
        self.flush_traces()
        return packing.summarise_traces(self._db, run_id)

    def traces(self, run_id: str) -> dict[str, list[Any]]:
        """Every trace sample of the run (written ones and buffered) as columns, those of the
        traces table, by tool, name and time."""
        self.flush_traces()
        return packing.read_traces(self._db, run_id)

    # ----------------------------------------------------------------- steps

    def start_steps(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert step rows (one per wafer): as running before they run, or, for a skip on
        resume, already finished. Rows of an irreversible step are on disk before it runs, with
        every record before them; a reversible step's are on disk with the next durable write."""
        ids = []
        durable = any(row["irreversible"] for row in rows)
        with self.transaction(durable=durable, traces=True) as db:
            for row in rows:
                row = {**row, "claims": json.dumps(list(row["claims"]))}
                columns = ", ".join(row)
                cursor = db.execute(
                    f"INSERT INTO steps ({columns}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
                ids.append(int(cursor.lastrowid or 0))
        for row, step_id in zip(rows, ids, strict=True):
            if row["status"] == "running":
                self._step_samples[step_id] = {}
                self._step_runs[step_id] = row["run_id"]
        return ids

    def finish_steps(
        self,
        step_ids: Sequence[int],
        status: str,
        t: float,
        wall: float,
        error: str | None = None,
        twins: Sequence[tuple[int, str, Snapshot]] = (),
    ) -> None:
        """Record how steps ended, with a dry run's twin snapshots (step id, wafer, snapshot);
        the trace rows taken during them are packed in the same transaction. Committed, and on
        disk with the next durable write: at the latest the next irreversible step's start."""
        if not step_ids:
            return
        # their trace samples packed from those the store wrote of them when it started every
        # one (those still buffered not written as rows), else read back
        packed = set(step_ids) if all(i in self._step_samples for i in step_ids) else set()
        with self.transaction(durable=False, traces=True, packed=packed) as db:
            db.executemany(
                "UPDATE steps SET status = ?, stopped_t = ?, stopped_wall = ?, error = ? "
                "WHERE id = ?",
                [(status, t, wall, error, step_id) for step_id in step_ids],
            )
            run_id = self._step_runs.get(step_ids[0])
            if run_id is None:  # a step another store started
                (run_id,) = db.execute(
                    "SELECT run_id FROM steps WHERE id = ?", (step_ids[0],)
                ).fetchone()
            for step_id, wafer_id, taken in twins:
                self._twins.save(db, run_id, wafer_id, step_id, t, taken)
            written = {i: self._step_samples.pop(i) for i in step_ids if i in self._step_samples}
            packing.pack_traces(db, run_id, step_ids, written if packed else None)
        for step_id in step_ids:
            self._step_runs.pop(step_id, None)

    def _twin_header(self, digest: str) -> bytes | None:
        """The header of snapshot `digest` when it is a wafer's last this store recorded: a
        completed wafer's twin read back (its claim check, a lot's report) does not decode
        the wafer's chain of headers again."""
        return self._twins.header(digest)

    def latest_twin_hash(self, run_id: str, wafer_id: str) -> str | None:
        """The hash of wafer `wafer_id`'s most recent twin snapshot (None: it has none)."""
        row = self._db.execute(
            "SELECT hash FROM twin_snapshots WHERE run_id = ? AND wafer_id = ? "
            "ORDER BY step_id DESC LIMIT 1",
            (run_id, wafer_id),
        ).fetchone()
        return None if row is None else str(row["hash"])

    # ----------------------------------------------------------------- what happens in steps

    def add_rows(self, table: str, rows: Sequence[dict[str, Any]], *, durable: bool = True) -> None:
        """Add measurement, alarm, confirmation, event, tool (identity) or disposition rows,
        on disk at once, or (not `durable`: what a run records in its steps) with the next
        durable write."""
        if table not in ROW_TABLES:
            raise ValueError(f"no row table {table!r}")
        if not rows:
            return
        columns = list(rows[0])
        with self.transaction(durable=durable) as db:
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [tuple(row[c] for c in columns) for row in rows],
            )

    def mark_injected_alarms(self, run_id: str) -> None:
        """Set the fault injected that raised each alarm of run `run_id`
        (`alarms.injected_fault`, decision 0110), by the rule the records were migrated by
        (`INJECTED_FAULT_OF_ALARM`): after its alarms are recorded, and after the run learns
        of a fault injected or cleared, which it may learn of after the alarm it raised (the
        rule goes by when the line injected it). Set anew each time: the rule gives each alarm
        the same fault whatever the order the run learnt them in."""
        with self.transaction(durable=False) as db:
            db.execute(
                f"UPDATE alarms SET injected_fault = {INJECTED_FAULT_OF_ALARM} WHERE run_id = ?",
                (run_id,),
            )

    def add_stopped_run_event(
        self,
        run: Mapping[str, Any],
        kind: str,
        message: str,
        *,
        not_before: float = 0.0,
        **more: Any,
    ) -> dict[str, Any]:
        """Record, at once, an event of `run` (its row) that no process is driving: a clear, a
        disposition, a fault injected, an archive. It goes in its last session, at the run
        clock where its records end (`records_end_t`: which stands still between sessions, a
        resume's going on from there; after the run's `run-finished`, or the last record of a
        run cut off), or at `not_before` if that is later; `more` sets its other columns
        (`wafer_id`, `tool`, `status`, `data` as JSON; `wall` taken as given: when what it
        tells happened, a fault's or a cut-off's). Its `wall`, if not given, is now, or the
        latest wall of the run's events at that time if that is later: the events of the
        stopped run share one `t`, so their time order (`EVENTS_ORDER`: t, wall, id) goes by
        wall, and a clock stepped back, or one host's behind another's, would read a later
        record before an earlier one. Stamped so, they read in the order they were recorded
        (their ids), and the readers of a wafer's latest decision agree: the resume's telling
        (`clearances.recorded_while_stopped`, by time) and its carrying out
        (`dispositions.pending_decisions`, by id). The row written."""
        t = max(self.records_end_t(run), not_before)
        if "wall" not in more:
            (latest,) = self._db.execute(
                "SELECT MAX(wall) FROM events WHERE run_id = ? AND t >= ?", (run["id"], t)
            ).fetchone()
            more["wall"] = max(time.time(), latest or 0.0)
        row = {
            "run_id": run["id"],
            "session": run["sessions"],
            "kind": kind,
            "message": message,
            "t": t,
            **more,
        }
        self.add_rows("events", [row])
        return row

    def add_trace(
        self,
        run_id: str,
        tool: str,
        step_id: int | None,
        name: str,
        value: float,
        unit: str,
        t: float,
        wall: float,
    ) -> None:
        """Buffer one trace sample; written with the next transaction or every TRACE_BATCH."""
        self._traces.append((run_id, tool, step_id, name, value, unit, t, wall))
        self._traced.add(run_id)
        if len(self._traces) >= TRACE_BATCH:
            with self.transaction(durable=False, traces=True):
                pass  # written as it opens

    def flush_traces(self) -> None:
        if self._traces:
            with self.transaction(traces=True):
                pass

    def _write_traces(self, packed: Collection[int]) -> None:
        if self._traces:
            rows, self._traces = self._traces, []
            first_id = packing.write_traces(self._db, rows, packed)
            for row_id, (_, tool, step_id, name, value, unit, t, wall) in enumerate(rows, first_id):
                samples = self._step_samples.get(step_id)
                if samples is not None:  # + 0.0: as the REAL column gives them back (-0.0 is 0.0)
                    samples.setdefault((tool, name, unit), []).append(
                        (row_id, float(t) + 0.0, float(value) + 0.0, float(wall) + 0.0)
                    )

    def replace_claim_checks(self, run_id: str, rows: Sequence[dict[str, Any]]) -> None:
        """Durably record the claim check of the run as it stands now (a resumed run checks
        every completed wafer again, so its check replaces the earlier session's)."""
        with self.transaction() as db:
            db.execute("DELETE FROM claim_checks WHERE run_id = ?", (run_id,))
            if rows:
                columns = list(rows[0])
                db.executemany(
                    f"INSERT INTO claim_checks ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [
                        tuple(json.dumps(v) if isinstance(v, list) else v for v in row.values())
                        for row in rows
                    ],
                )

    # ----------------------------------------------------------------- control from other processes

    def post_control(self, run_id: str, command: str, wall: float) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO control (run_id, command, requested_wall) VALUES (?, ?, ?)",
                (run_id, command, wall),
            )

    def take_control(self, run_id: str, wall: float) -> list[str]:
        """The commands posted for `run_id` not yet handled, oldest first; marks them handled."""
        rows = self._db.execute(
            "SELECT id, command FROM control WHERE run_id = ? AND handled_wall IS NULL ORDER BY id",
            (run_id,),
        ).fetchall()
        if not rows:
            return []
        with self.transaction() as db:
            db.executemany(
                "UPDATE control SET handled_wall = ? WHERE id = ?",
                [(wall, row["id"]) for row in rows],
            )
        return [row["command"] for row in rows]
