"""The run database: one SQLite file, opened durable and migrated, and what its readers ask.

Durability: WAL journal, so a SIGKILL loses nothing committed; what a run writes is on disk
(the log synced) when `records.py` says (decision 0032), every other write at once. A new file is
readable by its user alone (it holds recipes, station addresses and operator names). A file of
an older schema is migrated on open, a newer or foreign one refused untouched (`schema.py`).

One connection per process; other processes (`packline pause RUN`, `packline show RUN`) open
their own and see committed data thanks to WAL. Writes from several processes serialise on
SQLite's lock, waited for up to `BUSY_TIMEOUT_MS`. `RunDatabase` answers the readers (`runs`,
`show`, `resume`, reports); `RunStore` (`records.py`) extends it with what a run writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packline.spelling import did_you_mean

from . import packing
from .errors import BadInput
from .liveness import shown_status
from .progress import wall_text
from .schema import migrate, schema_version

BUSY_TIMEOUT_MS = 10_000
#: The page size of a run database packline creates, bytes (an existing file keeps its own):
#: 2 KB, not SQLite's 4 KB, since most of a dry run's records are the twin's parts, compressed
#: blobs of a few KB each whose last page is on average half empty (decision 0124).
PAGE_SIZE = 2048
#: The most runs an ambiguous run-id prefix lists (the newest).
AMBIGUOUS_LISTED = 10
#: The most wafer ids of a run a refused wafer id lists (in lot order; `listed_ids`).
WAFERS_LISTED = 25
#: The order a run's events are read in, the order they happened (decision 0120): by the run
#: clock, then, where it stood still (between two sessions; a dry run's simulated clock while
#: nothing waited), by the wall clock (a fault a resume found as it connected, recorded when
#: the line did it, before a clear another process recorded later), then as recorded.
EVENTS_ORDER = "t, wall, id"
#: The per-run tables whose rows are written as they come (`RunStore.add_rows`).
ROW_TABLES = ("measurements", "alarms", "confirmations", "events", "tools", "dispositions")
#: How a run's `recipe_source` says it ran a recipe shipped with packline, before the file's
#: name: the method's default, or a reference recipe named by `--recipe NAME`; or, without
#: `--recipe` for a method that ships no default recipe, its recipe model's defaults, before
#: the method's name. A recipe file is recorded by its path as given.
DEFAULT_RECIPE, REFERENCE_RECIPE, METHOD_DEFAULTS = (
    "default recipe",
    "reference recipe",
    "defaults of method",
)
#: How many hex digits a recipe filter (`runs --recipe`, `spc --recipe`) needs at least to be
#: read as the start of a recipe's sha256 as well as a name: fewer, or a name that is not hex,
#: matched every run whose sha256 starts so by chance (a recipe named `face` or `add`).
HASH_PREFIX_MIN = 6


def recipe_name(source: str) -> str:
    """The name of the recipe a run's `recipe_source` records, or that `runs --recipe` is
    given: a shipped recipe's (`bump-seal-clean-laser`), a method's defaults by the method's
    name (as its default recipe is named), else the file's without its folder and `.yaml`
    (`laser` for `recipes/laser.yaml`); a name is its own."""
    for shipped in (DEFAULT_RECIPE, REFERENCE_RECIPE, METHOD_DEFAULTS):
        if source.startswith(f"{shipped} "):
            source = source.removeprefix(f"{shipped} ")
            break
    return Path(source).name.removesuffix(".yaml")


def is_hash_prefix(text: str) -> bool:
    """Whether a recipe filter `text` is read as the start of a sha256 too, besides a name:
    lowercase hex, as a run's `recipe_hash` is, of `HASH_PREFIX_MIN` digits or more."""
    return len(text) >= HASH_PREFIX_MIN and all(digit in "0123456789abcdef" for digit in text)


class RunDatabase:
    """An open run database and the questions asked of the runs it holds."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
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
            self._db.create_function("recipe_name", 1, recipe_name, deterministic=True)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # refuse a newer or foreign file before anything (even the journal mode) is written
            if schema_version(self._db, self.path) == 0:
                # first: auto_vacuum writes a new file's first page, which fixes its page size
                self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
                # a new file gives back the pages packed trace rows leave free (`RunStore.close`)
                self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            migrate(self._db, self.path)
        except (sqlite3.DatabaseError, BadInput) as error:
            self._db.close()
            if isinstance(error, BadInput):
                raise
            raise BadInput(f"run database {self.path}: {error}") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

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
            "SELECT id, method, started_wall, status, pid, host FROM runs "
            "WHERE substr(id, 1, length(?)) = ? ORDER BY started_wall DESC",
            (ref, ref),
        ).fetchall()
        if not rows:
            raise BadInput(f"run {ref!r}: no run with that id in {self.path} (see `packline runs`)")
        if len(rows) > 1:
            raise BadInput(f"run {ref!r}: {len(rows)} runs in {self.path} start so; {_pick(rows)}")
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
        recipe_hash: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest runs first, at most `limit`, of `method`, of recipe `recipe` (its name,
        `recipe_name`, or the start of its sha256 when `is_hash_prefix`: a user's filter),
        that had `wafer` in their lot or beside one of its wafers (a wafer's board: its twin
        recorded), started at or after `since_wall`, of lot id `lot`, of the recipe whose
        whole sha256 is `recipe_hash`."""
        where: list[str] = []
        values: list[str | float] = []
        if method is not None:
            where.append("r.method = ?")
            values.append(method)
        if lot is not None:
            where.append("r.lot_id = ?")
            values.append(lot)
        if recipe is not None and is_hash_prefix(recipe):
            where.append(
                "(recipe_name(r.recipe_source) = ? OR substr(r.recipe_hash, 1, length(?)) = ?)"
            )
            values += [recipe_name(recipe), recipe, recipe]
        elif recipe is not None:
            where.append("recipe_name(r.recipe_source) = ?")
            values.append(recipe_name(recipe))
        if recipe_hash is not None:
            where.append("r.recipe_hash = ?")
            values.append(recipe_hash)
        if wafer is not None:  # a lot's wafer, or a workpiece beside one (its twin recorded)
            where.append(
                "(EXISTS (SELECT 1 FROM wafers w WHERE w.run_id = r.id AND w.wafer_id = ?) "
                "OR EXISTS (SELECT 1 FROM twin_snapshots s WHERE s.run_id = r.id "
                "AND s.wafer_id = ?))"
            )
            values += [wafer, wafer]
        if since_wall is not None:
            where.append("r.started_wall >= ?")
            values.append(since_wall)
        rows = self._db.execute(
            f"""SELECT r.id, r.method, r.status, r.pid, r.host, r.operator, r.lot_size, r.simulated,
                      r.sessions, r.station_name, r.lot_id, r.recipe_source, r.recipe_hash,
                      r.started_wall, r.stopped_wall, r.started_t, r.stopped_t,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'completed') AS completed,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'held') AS held,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'scrapped') AS scrapped,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'terminated') AS terminated,
                      (SELECT count(*) FROM wafers w
                       WHERE w.run_id = r.id AND w.status = 'running') AS in_progress,
                      EXISTS (SELECT 1 FROM claim_checks c
                              WHERE c.run_id = r.id AND c.verdict = 'fail') AS claim_check_failed
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

    def workpieces_beside(
        self, run_id: str | None = None, workpiece_id: str | None = None
    ) -> list[dict[str, str]]:
        """The workpieces with a twin beside the lots' wafers (a wafer's board, a panel's die
        wafer: decision 0048) of every run (or of run `run_id`; or of that id alone), in the
        order the runs started: each one's `run_id`, `workpiece_id` and `wafer_id`, the lot's
        wafer whose steps the recorder snapshotted it with (the wafer it is beside)."""
        rows = self._db.execute(
            "SELECT DISTINCT s.run_id, s.wafer_id AS workpiece_id, st.wafer_id "
            "FROM twin_snapshots s JOIN steps st ON st.id = s.step_id "
            "JOIN runs r ON r.id = s.run_id "
            "WHERE (? IS NULL OR s.run_id = ?) AND (? IS NULL OR s.wafer_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM wafers w "
            "WHERE w.run_id = s.run_id AND w.wafer_id = s.wafer_id) "
            "ORDER BY r.started_wall, s.wafer_id, st.wafer_id",
            (run_id, run_id, workpiece_id, workpiece_id),
        )
        return [dict(row) for row in rows]

    def wafer_lots(self, run_id: str | None = None) -> dict[str, list[str]]:
        """Every wafer id in the lots of every run (or of run `run_id`), in the order the runs
        started and their lots', each with the ids of the runs that had it, oldest first."""
        rows = self._db.execute(
            "SELECT w.wafer_id, r.id FROM wafers w JOIN runs r ON r.id = w.run_id "
            "WHERE ? IS NULL OR r.id = ? ORDER BY r.started_wall, w.position",
            (run_id, run_id),
        )
        lots: dict[str, list[str]] = {}
        for row in rows:
            lots.setdefault(str(row["wafer_id"]), []).append(str(row["id"]))
        return lots

    def resolve_wafer(self, ref: str, run_id: str | None = None, *, beside: bool = False) -> str:
        """The wafer id that `ref` names in the lots of every run (or of run `run_id`): a
        whole id, or else the end of one id alone (`W06` for `055012-3f2a-W06`, as a station
        lot numbers its wafers after its run id). Refused as bad input when it is the end of
        several (each listed with its runs) or names none (the ids spelt closest named, and of
        one run its wafers). The one rule by which every command that takes a wafer of a run
        reads it (`wafer`, `disposition`, `report --wafer`); with `beside`, the workpieces
        beside the lots' wafers (`workpieces_beside`: a board, a die wafer), whose history
        `wafer` shows and whose twin the report maps, are named as the wafers are (a
        disposition is for a lot's wafer alone)."""
        lots = self.wafer_lots(run_id)
        if ref in lots:
            return ref
        if beside:  # read only for an id no lot has: the query reads every run's snapshots
            for row in self.workpieces_beside(run_id):
                runs = lots.setdefault(row["workpiece_id"], [])
                if row["run_id"] not in runs:
                    runs.append(row["run_id"])
            if ref in lots:
                return ref
        ending = ids_ending(ref, lots)
        if len(ending) == 1:
            return ending[0]
        if ending:
            # of one run, the ids alone; across runs, each with its runs and how to pick one
            listed = [
                f"  {wafer_id}" + ("" if run_id else f"  in run {', '.join(lots[wafer_id])}")
                for wafer_id in ending
            ]
            more = len(listed) - AMBIGUOUS_LISTED
            listed = listed[:AMBIGUOUS_LISTED] + ([f"  ... and {more} more"] if more > 0 else [])
            raise BadInput(
                f"wafer {ref!r} is the end of {len(ending)} wafer ids"
                + (
                    f" of run {run_id}; give the whole id"
                    if run_id is not None
                    else f" in {self.path}; give the whole id (or its run, --run RUN)"
                )
                + "; they are:\n"
                + "\n".join(listed)
            )
        # a station lot's wafers by their number in the run too (`W06`), as `ref` may end one
        hint = did_you_mean(ref, [*lots, *(wafer_id.rpartition("-")[2] for wafer_id in lots)])
        if run_id is not None:
            raise BadInput(
                f"run {run_id} has no wafer {ref!r}; its wafers: {listed_ids(lots)}{hint}"
            )
        raise BadInput(f"wafer {ref!r}: in no run of {self.path}{hint}")

    def table(self, name: str, run_id: str) -> list[dict[str, Any]]:
        """Every row of one per-run table (steps, measurements, alarms, confirmations, events,
        claim_checks, tools), in the order they were recorded; events in the order they
        happened (`EVENTS_ORDER`)."""
        if name not in ("steps", "claim_checks", *ROW_TABLES):
            raise ValueError(f"no per-run table {name!r}")
        order = EVENTS_ORDER if name == "events" else "id"
        query = f"SELECT * FROM {name} WHERE run_id = ? ORDER BY {order}"
        rows = self._db.execute(query, (run_id,))
        return [dict(row) for row in rows]

    def steps(self, run_id: str) -> list[dict[str, Any]]:
        """The run's steps rows in order, each `claims` read from its JSON into a list of claim
        ids: what the readers that hand steps on whole (`show --json`, a resume's plan) ask."""
        return [{**row, "claims": json.loads(row["claims"])} for row in self.table("steps", run_id)]

    def tools(self, run_id: str) -> list[dict[str, Any]]:
        """The run's tools rows in order, each `sim_options` read from its JSON into a dict
        (empty where a session's command gave its tool none): what `show` hands on whole."""
        return [
            {**row, "sim_options": json.loads(row["sim_options"]) if row["sim_options"] else {}}
            for row in self.table("tools", run_id)
        ]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        """The run's events rows in the order they happened (`EVENTS_ORDER`), each `data` read
        from its JSON into a dict (empty when the event has none): what the readers of a
        tool's clears and states ask, and every list of a run's events (`show`, the report,
        the export, the dashboard)."""
        return [
            {**row, "data": json.loads(row["data"]) if row["data"] else {}}
            for row in self.table("events", run_id)
        ]

    def records_end_t(self, run: Mapping[str, Any]) -> float:
        """Where the run clock of `run` (its runs row) stands once no session drives it: the
        latest time its records hold, its end (`stopped_t`, its `run-finished`'s time), or, of
        a run cut off with no end recorded, its latest step record or event, and what other
        processes recorded of it since (a clear, a disposition). The clock stands still between
        sessions: what is recorded of the stopped run goes there (`add_stopped_run_event`), and
        a resume's clock goes on from there, so that no record of it reads earlier than one
        before it (decision 0120)."""
        latest = self._db.execute(
            "SELECT MAX(t) FROM (SELECT MAX(t) AS t FROM events WHERE run_id = ? "
            "UNION ALL SELECT MAX(COALESCE(stopped_t, started_t)) "
            "FROM steps WHERE run_id = ?)",
            (run["id"], run["id"]),
        ).fetchone()[0]
        return max(float(x) for x in (run["started_t"], run["stopped_t"], latest) if x is not None)

    def events_of_kind(self, kind: str, run_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The events rows of `kind` of the runs `run_ids`, in the order they happened
        (`EVENTS_ORDER`; `data` as its JSON text): one query for a list of runs (`packline
        runs`)."""
        marks = ", ".join("?" for _ in run_ids)
        rows = self._db.execute(
            f"SELECT * FROM events WHERE kind = ? AND run_id IN ({marks}) ORDER BY {EVENTS_ORDER}",
            (kind, *run_ids),
        )
        return [dict(row) for row in rows]

    def columns(self, table: str) -> list[str]:
        """The column names of one of the records' tables, in schema order."""
        rows = self._db.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
        if not rows:
            raise ValueError(f"no records table {table!r}")
        return [str(row["name"]) for row in rows]

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
        data = packing.load_twin(self._db, digest, self._twin_header(digest))
        if data is None:
            raise BadInput(f"run database {self.path}: no twin snapshot {digest}")
        return data

    def _twin_header(self, digest: str) -> bytes | None:
        """The header of the twin snapshot stored under `digest` when it is known without
        decoding it from the records (None: it is decoded)."""
        return None

    def step_name(self, step_id: int) -> str:
        """The name of step record `step_id` (for the events that name the step)."""
        row = self._db.execute("SELECT name FROM steps WHERE id = ?", (step_id,)).fetchone()
        if row is None:
            raise ValueError(f"run database {self.path}: no step record {step_id}")
        return str(row["name"])

    def latest_twins(self, run_id: str, released: Collection[int] = ()) -> dict[str, bytes]:
        """Each workpiece's twin (the lot's wafers and the workpieces beside them, by id) as
        the latest step it counts as done left it: a completed step, or one of `released`, the
        records of steps that held their wafer and that an operator released, whose snapshot
        is the wafer as the failed or cut-off step left it (decision 0108). A step that failed
        or was cut off and is done again (reworked, replayed) is not counted: the wafer goes
        back to it as it was before it."""
        rows = self._db.execute(
            "SELECT s.wafer_id, s.step_id, s.hash, st.status FROM twin_snapshots s "
            "JOIN steps st ON st.id = s.step_id WHERE s.run_id = ? ORDER BY s.step_id",
            (run_id,),
        ).fetchall()
        latest = {
            row["wafer_id"]: row["hash"]
            for row in rows
            if row["status"] == "completed" or row["step_id"] in released
        }
        return {workpiece_id: self.twin_blob(digest) for workpiece_id, digest in latest.items()}


def listed_ids(wafer_ids: Iterable[str]) -> str:
    """A run's wafer ids as a refusal names them, in lot order: every one of a lot of up to
    `WAFERS_LISTED`, else the first ones and how many more (a lot of 200 on one line)."""
    ids = list(wafer_ids)
    more = len(ids) - WAFERS_LISTED
    return ", ".join(ids[:WAFERS_LISTED]) + (f" and {more} more" if more > 0 else "")


def ids_ending(ref: str, wafer_ids: Iterable[str]) -> list[str]:
    """The `wafer_ids` that `ref` is the end of, other than `ref` itself (`055012-3f2a-W06`
    for `W06`): a short id names one of them alone (`RunDatabase.resolve_wafer`)."""
    return [
        wafer_id for wafer_id in wafer_ids if ref and wafer_id != ref and wafer_id.endswith(ref)
    ]


def _pick(runs: list[sqlite3.Row]) -> str:
    """The runs an ambiguous prefix matches (newest first, at most `AMBIGUOUS_LISTED`), a
    line each with its id, method, start and status as shown, for the user to pick one."""
    lines = [
        f"  {run['id']}  {run['method']}  started {wall_text(run['started_wall'])}  "
        f"{shown_status(dict(run))}"
        for run in runs[:AMBIGUOUS_LISTED]
    ]
    more = len(runs) - len(lines)
    if more:
        lines.append(f"  ... and {more} more (`packline runs` lists them)")
    return "give more of the id; they are:\n" + "\n".join(lines)
