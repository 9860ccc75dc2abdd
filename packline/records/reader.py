"""A run's records as tables: what a process engineer opens in pandas, JMP or Excel.

`RunRecords` reads one run of a run database (the SQLite file `packline run` writes; see
docs/engine.md) and returns each kind of record as a pandas DataFrame, one row per record,
columns as the records schema names them (docs/decisions/0001): steps, measurements, traces,
alarms, events, confirmations, claim checks, tool identities. A dry run's workpiece twin,
stored as a compressed snapshot with every completed step, comes back as a `Workpiece` or as
a table of its sites (`site_map`, `maps`), so nobody needs to know the snapshot format.

Reading changes nothing in a run (a database written by an older packline is brought up to
date first, as every command does), and works while a run is still going.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from packline.sequences.engine import BadInput, RunStore, default_db_path, shown_status
from packline.sequences.engine.claim_check import overall
from packline.sequences.engine.clearances import clear_wait
from packline.sequences.engine.confirmations import ASKED_COLUMNS
from packline.sequences.engine.injected_faults import faults_injected
from packline.sequences.engine.liveness import shown_run, status_text
from packline.sequences.engine.report import (
    clock_stands_at,
    first_step_starts,
    first_steps,
    measurement_attempts,
    recovery_unloads,
    run_confirmation_answers,
    run_confirmations,
    step_keys,
    step_labels,
    taken_off_at,
    time_on_line,
)
from packline.sequences.engine.verdicts import judged_passed, measurement_verdict
from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.snapshot import read_snapshot

from .sites import site_table

#: The tables `RunRecords.table` returns and `packline export` writes, in that order.
TABLES = (
    "wafers",
    "steps",
    "measurements",
    "traces",
    "alarms",
    "events",
    "confirmations",
    "claim_checks",
    "tools",
    "dispositions",
    "maps",
)

#: Which snapshots `maps` lays out: each wafer's last, or also those after irreversible steps.
MAP_POINTS = ("last", "irreversible")
#: `RunStore.runs`'s limit for every run (SQLite reads a negative LIMIT as none).
EVERY_RUN = -1


@contextmanager
def open_records(run: str = "last", db: str | Path | None = None) -> Iterator[RunRecords]:
    """The records of run `run` (an id, a unique prefix of one, or 'last') in database `db`
    (default: `$PACKLINE_DB`, else runs.db in the data directory), closed on leaving."""
    store = RunStore(db or default_db_path(), create=False)
    try:
        yield RunRecords(store, store.resolve_run(run))
    finally:
        store.close()


def runs_since(
    store: RunStore,
    *,
    method: str | None = None,
    since_wall: float | None = None,
    recipe: str | None = None,
) -> list[dict[str, Any]]:
    """Every run of `store` (of `method`; started at or after Unix time `since_wall`; of
    recipe `recipe`, its name or the start of its sha256) as `RunStore.runs` lists it, oldest
    first: what a figure across runs reads."""
    return store.runs(EVERY_RUN, method=method, since_wall=since_wall, recipe=recipe)[::-1]


class RunRecords:
    """One run's records, each kind as a DataFrame (see the module docstring)."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._workpieces: dict[str, Workpiece] = {}

    # ----------------------------------------------------------------- the run

    def header(self) -> dict[str, Any]:
        """The run: id, method, status as shown (a run nobody drives any more is
        'interrupted'), lot, operator, station, the recipe as validated (`recipe`, values in
        their declared units) and as written (`recipe_text`), clocks and sessions."""
        run = self.store.run(self.run_id)
        return {
            **{k: v for k, v in run.items() if k not in ("recipe_json", "station_yaml")},
            "status": shown_status(run),
            "recipe": json.loads(run["recipe_json"]),
            "station_yaml": run["station_yaml"],
        }

    def status_words(self) -> str:
        """The run's status in words, as `show` prints it (`status_text`): `completed, claim
        check failed; fault injected: plasma_cleaner rf_mismatch`, with its claim check's
        failure, the wafers it scrapped, its wait for a clear while it waits
        (`clear_wait`) and the faults injected on its tools (`faults_injected`). The header's
        `status` is the word alone, which `export` and the readers compare; the report had
        shown that, a run whose product failed its claim check or whose alarms a fault raised
        reading plain `completed` or `held`."""
        run = shown_run(self.store.run(self.run_id))
        wait = clear_wait(self.store, run)
        statuses = [wafer["status"] for wafer in self.store.wafers(self.run_id)]
        return status_text(
            run["status"],
            overall(list(self.claim_checks()["verdict"])) == "failed",
            waiting=None if wait is None else wait.as_json(),
            injected=faults_injected(self.store, [self.run_id]).get(self.run_id, []),
            wafers_completed=statuses.count("completed"),
            wafers_scrapped=statuses.count("scrapped"),
        )

    def table(self, name: str) -> pd.DataFrame:
        """One of `TABLES` by name."""
        if name not in TABLES:
            raise BadInput(f"no records table {name!r}; the tables: {', '.join(TABLES)}")
        frame: pd.DataFrame = getattr(self, name)()
        return frame

    def wafers(self) -> pd.DataFrame:
        """One row per wafer of the lot: position, status, why held, its clocks, and last
        `time_on_line_s`. Its start (`started_t`, `started_wall`) is its first step's, as
        `show`, the summary and the report count a wafer's time on the line (`time_on_line`):
        the records' own start of a wafer is its task's, the run's, where a wafer queued
        behind the lot waits before it is on the line (the 25th of a lot read 4:21:20 on the
        line for its 0:27:04); empty for a wafer that started no step. `time_on_line_s` is
        that time (so far, or to the cut, for a wafer not stopped in a run not ended)."""
        run = self.store.run(self.run_id)
        steps = self.store.steps(self.run_id)
        rows = self.store.wafers(self.run_id)
        first = first_steps(steps)
        first_t = first_step_starts(steps)
        taken_off_t = taken_off_at(recovery_unloads(self.store.events(self.run_id)))
        end_t = clock_stands_at(self.store, run, steps)
        on_line = []
        for row in rows:
            times = time_on_line(row, first_t, taken_off_t, run, end_t)
            step = first.get(row["wafer_id"])
            row["started_t"] = times.started
            row["started_wall"] = None if step is None else step["started_wall"]
            on_line.append(times.seconds)
        frame = _frame(rows, self.store.columns("wafers"))
        frame["time_on_line_s"] = pd.Series(on_line, dtype=float)
        return frame

    def wafer_named(self, ref: str) -> str:
        """The id of this run's workpiece that `ref` names, by the rule every command that
        takes a wafer of a run reads it by (`RunDatabase.resolve_wafer`: a whole id, or a
        unique end of one): one of its lot's wafers, or a workpiece with a twin beside them (a
        board, a die wafer); bad input naming the run's wafers otherwise, on real tools as in
        a dry run."""
        return self.store.resolve_wafer(ref, self.run_id, beside=True)

    def steps(self) -> pd.DataFrame:
        """One row per step of each wafer (and per stage and batch around them): its key, name,
        label (`step_labels`: the name, `inspect bump heights #2` for the second run of a step
        the script runs twice), the claim ids it carries out (comma-separated), tool,
        irreversible, status, clocks."""
        rows = self.store.steps(self.run_id)
        frame = _frame(rows, self.store.columns("steps"))
        labels = step_labels(rows)
        frame.insert(list(frame.columns).index("name") + 1, "label", frame["id"].map(labels))
        if not frame.empty:
            frame["claims"] = [",".join(claims) for claims in frame["claims"]]
        return frame

    def measurements(self) -> pd.DataFrame:
        """One row per measured value of a wafer: the step that took it (`step_id`, and its
        label `step`, as `steps` gives it: two-process-via's two `plasma process time` rows,
        `descum pads` and `dry etch via bottoms`, and sprout-bump-csp's bump heights of each
        level, `inspect bump heights #1` and `#2`, are told apart by it without a join; empty
        for a wafer's own, taken outside its steps), name, value, unit, `resolution` (the step
        its instrument read it to, in its unit: a grinder's gauge's, which its high limit
        allows for; empty where the records do not say), limits: `low`, `low_exclusive` beside
        it (1 where the value had to pass it, not reach it, as a reflow's peak its solder's
        liquidus; 0 where it may reach it; empty without a low limit, and in runs recorded
        before schema 19, whose limits were reached) and `high`,
        `passed` (1 or 0; empty for a value without limits, which nothing judged), `verdict`
        beside it in words (pass, fail, or recorded, as `show` reads it: `verdicts`), source
        (the tool, the twin of a dry run, or the sequence), clocks, and last `attempt`:
        which try of its step it is where the wafer's rework measured it again (1, 2...;
        empty where the wafer measured it once, `measurement_attempts`)."""
        frame = self._table("measurements")
        frame.insert(list(frame.columns).index("unit") + 1, "resolution", frame.pop("resolution"))
        low_exclusive = frame.pop("low_exclusive").astype("Int64")
        frame.insert(list(frame.columns).index("low") + 1, "low_exclusive", low_exclusive)
        steps = self.store.table("steps", self.run_id)
        after_step_id = list(frame.columns).index("step_id") + 1
        frame.insert(after_step_id, "step", frame["step_id"].map(step_labels(steps)))
        keys = step_keys(steps)
        taken = zip(frame["wafer_id"], frame["name"], frame["step_id"].map(keys), strict=True)
        frame["attempt"] = pd.array(measurement_attempts(list(taken)), dtype="Int64")
        limits = list(zip(frame["low"], frame["high"], frame["passed"], strict=True))
        judged = [judged_passed(*limit) for limit in limits]
        frame["passed"] = pd.array([None if p is None else int(p) for p in judged], dtype="Int64")
        frame.insert(
            list(frame.columns).index("passed") + 1,
            "verdict",
            [measurement_verdict(*limit) for limit in limits],
        )
        return frame

    def traces(self) -> pd.DataFrame:
        """One row per sample of a tool's process trace: tool, name, value, unit, run clock
        `t` and wall clock."""
        return pd.DataFrame(self.store.traces(self.run_id), columns=self.store.columns("traces"))

    def alarms(self) -> pd.DataFrame:
        """One row per tool alarm that failed a step of a wafer."""
        return self._table("alarms")

    def events(self) -> pd.DataFrame:
        """The run-level events: started, holds, batches formed, tools out of service or
        cleared, the claim check, finished."""
        return self._table("events")

    def confirmations(self) -> pd.DataFrame:
        """One row per operator confirmation asked of a wafer, answered or not
        (`confirmations_asked`), in the order they ended: the step that asked it (`step_id`,
        and its label `step`, as `measurements` gives it; empty for one asked between steps),
        the prompt, yes or no (`confirmed`, 1 or 0) and by whom as recorded (`by`), `outcome`
        (confirmed, declined, or unanswered: nobody in time, no operator, or the run stopped
        while it waited), `answer`: the outcome in words (`confirmed by ana, answered at the
        terminal`; `unanswered: the run was terminated (...)`), and for one the run stopped
        at, `confirmed`, `by` and `id` empty, `stopped` (terminated or aborted) and its
        `reason`; `t` and `wall` when it was answered, or when the run stopped."""
        asked = run_confirmations(
            self.store, self.store.run(self.run_id), self.store.events(self.run_id)
        )
        frame = _frame(asked, list(ASKED_COLUMNS))
        for column in ("id", "confirmed"):  # empty for an unanswered one, not a float
            frame[column] = frame[column].astype("Int64")
        steps = self.store.table("steps", self.run_id)
        after_step_id = list(frame.columns).index("step_id") + 1
        frame.insert(after_step_id, "step", frame["step_id"].map(step_labels(steps)))
        return frame

    def confirmation_answers(self) -> dict[int, str]:
        """What became of each confirmation put to an operator, in words, by its
        `confirmation-asked` event's id (`answers_to_asks`), as `show`'s events list it."""
        run = self.store.run(self.run_id)
        return run_confirmation_answers(self.store, run, self.store.events(self.run_id))

    def claim_checks(self) -> pd.DataFrame:
        """A dry run's claim check: one row per condition, with sites checked and passing and
        what they count (`counted`: pad, die, wafer; a panel's site, unit, panel; null before
        schema 12), the failing wafers (comma-separated), the verdict, and the margin with
        where its worst site is (`margin_entry` a site's or unit's number, and of a site
        `margin_entry_unit` the unit it belongs to, empty where there is none, not a float: a
        new user's export read `1092.0`); empty on real tools."""
        frame = self._table("claim_checks")
        if not frame.empty:
            frame["failing_wafers"] = [",".join(json.loads(w)) for w in frame["failing_wafers"]]
            for column in ("margin_entry", "margin_entry_unit"):
                frame[column] = frame[column].astype("Int64")
        return frame

    def tools(self) -> pd.DataFrame:
        """Each session's tools as read from them at connect: role, driver, address, vendor,
        model, serial number, firmware; and `sim_options`, the options the session's command
        gave a dry run's simulated tool (`--sim-option`), as JSON (empty: none given)."""
        return self._table("tools")

    def dispositions(self) -> pd.DataFrame:
        """What operators decided for held wafers: release, rework or scrap, by whom, why,
        and the hold it answered."""
        return self._table("dispositions")

    def _table(self, name: str) -> pd.DataFrame:
        return _frame(self.store.table(name, self.run_id), self.store.columns(name))

    # ----------------------------------------------------------------- the workpiece twin

    def snapshots(self) -> pd.DataFrame:
        """Which twin snapshots the run holds (a dry run: one per wafer per step that ended,
        completed, or failed or cut off as it left the wafer: decision 0108): wafer, step id,
        the step's key, name, label, kind, tool, irreversible flag and status, and `t`."""
        snaps = _frame(self.store.twin_snapshots(self.run_id), ["wafer_id", "step_id", "t", "hash"])
        columns = ["key", "name", "label", "kind", "tool", "irreversible", "status"]
        steps = self.steps()[["id", *columns]]
        joined = snaps.merge(steps, left_on="step_id", right_on="id", how="left")
        return joined[["wafer_id", "step_id", *columns, "t"]]

    def workpiece(self, wafer_id: str, step_id: int | None = None) -> Workpiece:
        """The twin of `wafer_id` as it was after step `step_id` (default: its last
        snapshot); BadInput when the run holds none (a run on real tools, or no step done)."""
        snaps = [s for s in self.store.twin_snapshots(self.run_id) if s["wafer_id"] == wafer_id]
        if step_id is not None:
            snaps = [s for s in snaps if s["step_id"] == step_id]
        if not snaps:
            after = "" if step_id is None else f" after step {step_id}"
            raise BadInput(
                f"run {self.run_id}: no twin snapshot of wafer {wafer_id!r}{after} (a dry run "
                "keeps one per step that ended; a run on real tools has none)"
            )
        digest = snaps[-1]["hash"]
        if digest not in self._workpieces:
            self._workpieces[digest] = read_snapshot(self.store.twin_blob(digest))
        return self._workpieces[digest]

    def site_map(self, wafer_id: str, step_id: int | None = None) -> pd.DataFrame:
        """The twin of `wafer_id` after step `step_id` (default: its last) as one row per site
        (`packline.records.sites.site_table`: site, unit, x_mm, y_mm, every per-site
        property)."""
        return site_table(self.workpiece(wafer_id, step_id))

    def map_points(self, after: str = "last") -> pd.DataFrame:
        """The snapshots `maps` lays out (rows of `snapshots`): each wafer after its last
        step (`after="last"`), or after each of its irreversible steps and its last
        (`after="irreversible"`)."""
        if after not in MAP_POINTS:
            raise BadInput(f"maps after {after!r}: one of {', '.join(MAP_POINTS)}")
        snaps = self.snapshots()
        last = snaps.groupby("wafer_id")["step_id"].transform("max") == snaps["step_id"]
        chosen = snaps[last | ((snaps["irreversible"] == 1) & (after == "irreversible"))]
        return chosen.reset_index(drop=True)

    def maps(self, after: str = "last") -> pd.DataFrame:
        """Workpiece maps in one tidy table: for each snapshot of `map_points(after)`, one row
        per site, led by `wafer_id`, `step_id` and `step` (the step's label, as `steps` and
        `measurements` give it). A property a wafer does not have at that step (a resin layer
        before lamination) is empty."""
        frames = []
        points = self.map_points(after)
        for wafer_id, step_id, label in zip(
            points["wafer_id"], points["step_id"], points["label"], strict=True
        ):
            sites = self.site_map(str(wafer_id), int(step_id))
            sites.insert(0, "step", str(label))
            sites.insert(0, "step_id", int(step_id))
            sites.insert(0, "wafer_id", str(wafer_id))
            frames.append(sites)
        if not frames:
            return pd.DataFrame(columns=["wafer_id", "step_id", "step", "site"])
        maps = pd.concat(frames, ignore_index=True)
        # a yes/no property some snapshots lack stays yes/no, with gaps (not mixed objects)
        flags = {c for f in frames for c in f.columns if f[c].dtype == bool}
        for column in flags:
            if maps[column].dtype != bool:
                maps[column] = maps[column].astype("boolean")
        return maps


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's columns, also when there are none."""
    return pd.DataFrame.from_records(rows, columns=columns)
