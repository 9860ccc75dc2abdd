"""Run records: one SQLite file, written as the run goes, read by `runs`, `show` and `resume`.

Durability: WAL journal with `synchronous=FULL`, so every committed transaction (each step's
start and end, with the step's measurements, alarms, confirmations and twin snapshots) is on
disk before the engine goes on: a SIGKILL or a power cut loses nothing committed. Process
traces are the one batched stream: their rows wait in memory and go to disk with the next step
transaction (or every `TRACE_BATCH` rows), so a crash loses at most the readings taken since
the last step boundary, never a step or a measurement.

Twin snapshots are stored by part and a step's trace rows are packed per series when the step
ends, in the transaction that records its end (`packing.py`); the rows a run's session took
outside a step are packed when it closes the store. Every reader sees the same records either
way.

One connection per process; other processes (`packline pause RUN`, `packline show RUN`) open
their own and see committed data thanks to WAL. Writes from several processes serialise on
SQLite's lock, waited for up to `BUSY_TIMEOUT_MS`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import packing
from .errors import BadInput
from .schema import migrate, schema_version

BUSY_TIMEOUT_MS = 10_000
TRACE_BATCH = 2000
#: The per-run tables whose rows `add_rows` writes as they come.
ROW_TABLES = ("measurements", "alarms", "confirmations", "events", "tools", "dispositions")
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


class RunStore:
    """The records of every run in one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        #: Whether `transaction()` is open (a transaction opened inside it joins it).
        self._in_transaction = False
        if not create and not self.path.exists():
            raise BadInput(f"run database {self.path} does not exist (use --db or PACKLINE_DB)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # recipes, station addresses and operator names: readable by the user alone (SQLite
            # gives the WAL and shared-memory files the database file's mode)
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as error:
            raise BadInput(
                f"run database {self.path}: cannot create it ({error.strerror})"
            ) from None
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.DatabaseError as error:
            raise BadInput(f"run database {self.path}: {error}") from None
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # refuse a newer or foreign file before anything (even the journal mode) is written
            if schema_version(self._db, self.path) == 0:
                # a new file gives back the pages its packed trace rows leave free (`close`)
                self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            migrate(self._db, self.path)
        except (sqlite3.DatabaseError, BadInput) as error:
            self._db.close()
            if isinstance(error, BadInput):
                raise
            raise BadInput(f"run database {self.path}: {error}") from None
        self._traces: list[tuple[Any, ...]] = []
        #: The runs this store wrote trace rows of (packed when it is closed).
        self._traced: set[str] = set()

    def close(self) -> None:
        """Write the buffered traces, pack every trace row of the runs this store traced (and
        give the pages they leave free back, in a file created with schema 6), and close the
        database."""
        self.flush_traces()
        if self._traced:
            with self.transaction() as db:
                for run_id in sorted(self._traced):
                    packing.pack_traces(db, run_id, None)
            self._db.executescript("PRAGMA incremental_vacuum;")  # to the end (execute: one page)
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable transaction; buffered traces go with it. Opened inside another, it is
        part of that one (its writes commit or roll back with the outer ones)."""
        if self._in_transaction:
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        traces = self._traces
        try:
            self._write_traces()
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            self._traces = traces + self._traces  # not written: keep them for the next one
            raise
        finally:
            self._in_transaction = False
        self._db.execute("COMMIT")

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

    def resolve_run(self, ref: str) -> str:
        """The run id that `ref` names (a whole id, a unique prefix, or 'last')."""
        if ref == "last":
            row = self._db.execute(
                "SELECT id FROM runs ORDER BY started_wall DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise BadInput(f"run database {self.path} holds no runs")
            return str(row["id"])
        rows = self._db.execute(
            "SELECT id FROM runs WHERE substr(id, 1, length(?)) = ?", (ref, ref)
        ).fetchall()
        if len(rows) != 1:
            what = "no run" if not rows else f"{len(rows)} runs"
            raise BadInput(f"run {ref!r}: {what} with that id in {self.path} (see `packline runs`)")
        return str(rows[0]["id"])

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())

    def runs(
        self,
        limit: int = 50,
        *,
        method: str | None = None,
        recipe: str | None = None,
        wafer: str | None = None,
        since_wall: float | None = None,
        lot: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest runs first, at most `limit`, of `method`, of a recipe whose hash starts
        with `recipe`, that had `wafer` in their lot, started at or after `since_wall`, of lot
        id `lot`."""
        where: list[str] = []
        values: list[str | float] = []
        if method is not None:
            where.append("r.method = ?")
            values.append(method)
        if lot is not None:
            where.append("r.lot_id = ?")
            values.append(lot)
        if recipe is not None:
            where.append("substr(r.recipe_hash, 1, length(?)) = ?")
            values += [recipe, recipe]
        if wafer is not None:
            where.append("EXISTS (SELECT 1 FROM wafers w WHERE w.run_id = r.id AND w.wafer_id = ?)")
            values.append(wafer)
        if since_wall is not None:
            where.append("r.started_wall >= ?")
            values.append(since_wall)
        rows = self._db.execute(
            f"""SELECT r.id, r.method, r.status, r.pid, r.host, r.operator, r.lot_size, r.simulated,
                      r.station_name, r.lot_id,
                      r.recipe_hash, r.started_wall, r.stopped_wall, r.started_t, r.stopped_t,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'completed') AS completed,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'held') AS held
               FROM runs r {"WHERE " + " AND ".join(where) if where else ""}
               ORDER BY r.started_wall DESC LIMIT ?""",
            (*values, limit),
        )
        return [dict(row) for row in rows]

    def wafers(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM wafers WHERE run_id = ? ORDER BY position", (run_id,)
        )
        return [dict(row) for row in rows]

    def runs_of_wafer(self, wafer_id: str) -> list[str]:
        """The ids of the runs that had this wafer id in their lot, oldest first."""
        rows = self._db.execute(
            "SELECT r.id FROM wafers w JOIN runs r ON r.id = w.run_id WHERE w.wafer_id = ? "
            "ORDER BY r.started_wall",
            (wafer_id,),
        )
        return [str(row["id"]) for row in rows]

    def table(self, name: str, run_id: str) -> list[dict[str, Any]]:
        """Every row of one per-run table (steps, measurements, alarms, confirmations, events,
        claim_checks, tools)."""
        if name not in ("steps", "claim_checks", *ROW_TABLES):
            raise ValueError(f"no per-run table {name!r}")
        rows = self._db.execute(f"SELECT * FROM {name} WHERE run_id = ? ORDER BY id", (run_id,))
        return [dict(row) for row in rows]

    def columns(self, table: str) -> list[str]:
        """The column names of one of the records' tables, in schema order."""
        rows = self._db.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
        if not rows:
            raise ValueError(f"no records table {table!r}")
        return [str(row["name"]) for row in rows]

    def trace_summary(self, run_id: str) -> list[dict[str, Any]]:
        """Per tool, trace name and unit: the samples, their min and max."""
        self.flush_traces()
        return packing.summarise_traces(self._db, run_id)

    def traces(self, run_id: str) -> dict[str, list[Any]]:
        """Every trace sample of the run (written ones and buffered) as columns, those of the
        traces table, by tool, name and time."""
        self.flush_traces()
        return packing.read_traces(self._db, run_id)

    def twin_snapshots(self, run_id: str) -> list[dict[str, Any]]:
        """Where the run's twin snapshots are: wafer, step id, time and the blob's hash, in
        step order (the data itself: `twin_blob`)."""
        rows = self._db.execute(
            "SELECT wafer_id, step_id, t, hash FROM twin_snapshots WHERE run_id = ? "
            "ORDER BY wafer_id, step_id",
            (run_id,),
        )
        return [dict(row) for row in rows]

    def twin_blob(self, digest: str) -> bytes:
        """The twin snapshot stored under `digest` (a hash from `twin_snapshots`), as it was
        taken."""
        data = packing.load_twin(self._db, digest)
        if data is None:
            raise BadInput(f"run database {self.path}: no twin snapshot {digest}")
        return data

    # ----------------------------------------------------------------- steps

    def start_steps(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert step rows (one per wafer) durably: as running before they run, or, for a
        skip on resume, already finished."""
        ids = []
        with self.transaction() as db:
            for row in rows:
                row = {**row, "claims": json.dumps(list(row["claims"]))}
                columns = ", ".join(row)
                cursor = db.execute(
                    f"INSERT INTO steps ({columns}) VALUES ({', '.join('?' for _ in row)})",
                    tuple(row.values()),
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def step_name(self, step_id: int) -> str:
        """The name of step record `step_id` (for the events that name the step)."""
        row = self._db.execute("SELECT name FROM steps WHERE id = ?", (step_id,)).fetchone()
        if row is None:
            raise ValueError(f"run database {self.path}: no step record {step_id}")
        return str(row["name"])

    def finish_steps(
        self,
        step_ids: Sequence[int],
        status: str,
        t: float,
        wall: float,
        error: str | None = None,
        twins: Sequence[tuple[int, str, bytes]] = (),
    ) -> None:
        """Record how steps ended, with a dry run's twin snapshots (step id, wafer, snapshot);
        the trace rows taken during them are packed in the same transaction."""
        if not step_ids:
            return
        with self.transaction() as db:
            db.executemany(
                "UPDATE steps SET status = ?, stopped_t = ?, stopped_wall = ?, error = ? "
                "WHERE id = ?",
                [(status, t, wall, error, step_id) for step_id in step_ids],
            )
            (run_id,) = db.execute(
                "SELECT run_id FROM steps WHERE id = ?", (step_ids[0],)
            ).fetchone()
            db.executemany(
                "INSERT INTO twin_snapshots (run_id, wafer_id, step_id, hash, t) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, wafer_id, step_id, packing.save_twin(db, run_id, wafer_id, data), t)
                    for step_id, wafer_id, data in twins
                ],
            )
            packing.pack_traces(db, run_id, step_ids)

    def latest_twins(self, run_id: str) -> dict[str, bytes]:
        """Each wafer's most recent twin snapshot."""
        rows = self._db.execute(
            """SELECT s.wafer_id, s.hash FROM twin_snapshots s
               WHERE s.run_id = ? AND s.step_id = (
                   SELECT max(step_id) FROM twin_snapshots x
                   WHERE x.run_id = s.run_id AND x.wafer_id = s.wafer_id)""",
            (run_id,),
        ).fetchall()
        return {row["wafer_id"]: self.twin_blob(row["hash"]) for row in rows}

    # ----------------------------------------------------------------- what happens in steps

    def add_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Durably add measurement, alarm, confirmation, event, tool (identity) or
        disposition rows."""
        if table not in ROW_TABLES:
            raise ValueError(f"no row table {table!r}")
        if not rows:
            return
        columns = list(rows[0])
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [tuple(row[c] for c in columns) for row in rows],
            )

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
            self.flush_traces()

    def flush_traces(self) -> None:
        if self._traces:
            with self.transaction():
                pass

    def _write_traces(self) -> None:
        if self._traces:
            rows, self._traces = self._traces, []
            packing.write_traces(self._db, rows)

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
