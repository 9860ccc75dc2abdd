"""`packline runs`: the runs in the records, newest first, filtered."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from packline.rendering import RECIPE_SHOWN, DataTable
from packline.sequences.engine.catalogue import read_catalogue
from packline.sequences.engine.database import HASH_PREFIX_MIN, is_hash_prefix, recipe_name
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.injected_faults import faults_injected
from packline.sequences.engine.liveness import (
    DRIVEN,
    INTERRUPTED,
    SHOWN_STATUSES,
    is_cut_off,
    listed_run,
    listed_status,
)
from packline.sequences.engine.progress import clock_text, run_clock_text, wall_text
from packline.sequences.engine.recorded_station import line_text
from packline.sequences.engine.records import RunStore, default_db_path
from packline.spelling import did_you_mean

from .output import answer_table, db_path, open_store
from .parser import add_common, add_recipe_filter, at_least_one, local_date

#: The most runs `runs --status` looks through (the status shown is decided per run).
MAX_LISTED = 100_000
#: The most lot ids or recipes `runs --lot` or `--recipe` names when no run has the one asked for.
NAMED = 10


def cmd_runs(args: argparse.Namespace) -> int:
    # no default database yet: no runs, and none created; a --db that names none is refused
    # as every other command refuses it (a path mistyped listed nothing, as if it were empty)
    exists = args.db is not None or Path(default_db_path()).exists()
    store = open_store(args, create=False) if exists else None
    try:
        _refuse_unknown(args, store)
        runs = [] if store is None else _listed(args, store)
    finally:
        if store is not None:
            store.close()
    title = f"runs in {db_path(args)}"
    return answer_table(args, runs, lambda: runs_table(runs, title=title))


def _listed(args: argparse.Namespace, store: RunStore) -> list[dict[str, Any]]:
    """The runs the filters let through, newest first, with their status as shown."""
    found = store.runs(
        args.limit if args.status is None else MAX_LISTED,
        method=args.method,
        recipe=args.recipe,
        wafer=args.wafer,
        since_wall=args.since,
        lot=args.lot,
    )
    runs = [listed_run(run) for run in found]
    if args.status is not None:
        runs = [run for run in runs if run["status"] == args.status][: args.limit]
    injected = faults_injected(store, [run["id"] for run in runs])
    for run in runs:
        run["line"] = line_text(store.run(run["id"]))  # its station as recorded: not listed
        run["waiting_for_clear"] = _clear_wait(store, run)
        run["terminating"] = _terminating(store, run)
        run["faults_injected"] = injected.get(run["id"], [])
        run["last_record_t"] = _last_record_t(store, run)
        run["under_way"] = _under_way(store, run) if run["in_progress"] else {}
        run["left_on_tools"] = _left_on_tools(store, run)
    return runs


def _left_on_tools(store: RunStore, run: dict[str, Any]) -> dict[str, Any] | None:
    """What a stopped run left on its tools (`left_report`: the wafers and where, the tools
    whose safe state its abort could not confirm, the resume that takes them off), as its
    summary and `show` give it; None for one that left nothing, as a run completed or still
    driven (`runs` of those loads no further engine module)."""
    if run["status"] in ("completed", *DRIVEN):
        return None
    from packline.sequences.engine.left_on_tools import left_report

    return left_report(store, run["id"])


def _clear_wait(store: RunStore, run: dict[str, Any]) -> dict[str, Any] | None:
    """What a running run waits for, as its status says (`clear_wait`: its tools and since
    when, decision 0104); None for any other (`runs` of runs that ended reads no events)."""
    if run["status"] != "running":
        return None
    from packline.sequences.engine.clearances import clear_wait

    wait = clear_wait(store, run)
    return None if wait is None else wait.as_json()


def _terminating(store: RunStore, run: dict[str, Any]) -> dict[str, Any] | None:
    """The terminate a run still driven is carrying out, as its status says (`terminating`:
    since when, why and by whom, from its `terminating` event); None for any other (`runs`
    of runs that ended reads no events, nor loads the engine's control to ask: the start-up
    of `runs`, issue 17)."""
    if run["status"] not in DRIVEN:
        return None
    from packline.sequences.engine.control import terminating_json

    return terminating_json(store, run)


def _under_way(store: RunStore, run: dict[str, Any]) -> dict[str, int]:
    """How many of the run's wafers under way (recorded `running`) are doing what, as `show`
    reads them (`shown_wafer`): of a run still driven, `running`, `waiting`, `paused` or
    `queued` (the live view's order); of one cut off, `interrupted`."""
    # only for a run with wafers under way: `runs` of runs that ended loads no engine module
    from packline.sequences.engine.report import shown_wafer, step_labels
    from packline.sequences.engine.wafer_status import UNDER_WAY

    steps = store.steps(run["id"])
    labels = step_labels(steps)
    shown = Counter(
        shown_wafer(wafer, steps, labels, run)[0]
        for wafer in store.wafers(run["id"])
        if wafer["status"] == "running"
    )
    return {status: shown[status] for status in (*UNDER_WAY, INTERRUPTED) if shown[status]}


def _last_record_t(store: RunStore, run: dict[str, Any]) -> float | None:
    """Where the run clock of a run cut off (no end recorded, nothing driving it) stood at its
    last record, step or event (`RunStore.records_end_t`, where a resume continues it); None
    for any other run."""
    if not is_cut_off(run):
        return None
    return store.records_end_t(run)


def _refuse_unknown(args: argparse.Namespace, store: RunStore | None) -> None:
    """BadInput for a filter no run can match, whatever the others: a day still to come, a
    method neither the catalogue nor the records (`store`, when there is one) know, a recipe,
    wafer or lot id no run has; the message names what there is instead."""
    if args.since is not None and args.since > time.time():
        raise BadInput(
            f"--since {wall_text(args.since, day=True)}: that day has not come yet; no run "
            "started on it"
        )
    if args.method is not None:
        known = {method["name"] for method in read_catalogue()}
        if args.method not in known and not (store and store.runs(1, method=args.method)):
            known |= {run["method"] for run in store.runs(-1)} if store else set()
            raise BadInput(
                f"--method {args.method}: unknown method{did_you_mean(args.method, sorted(known))}"
                f"; known methods: {', '.join(sorted(known))} (`packline methods`)"
            )
    if store is None:
        return
    if args.wafer is not None:  # a whole id or a unique end of one, as `wafer` reads it
        args.wafer = store.resolve_wafer(args.wafer, beside=True)
    for option, value, why in (
        ("recipe", args.recipe, _no_recipe),
        ("lot", args.lot, _no_lot),
    ):
        if value is not None and not store.runs(1, **{option: value}):
            raise BadInput(f"--{option} {value}: {why(store, value)}")


def _no_recipe(store: RunStore, given: str) -> str:
    """Why no run is of recipe `given` (a name, or the start of a sha256 when it is read as
    one): the newest `NAMED` recipes the database holds (their name, method and the start of
    their sha256)."""
    recipes = dict.fromkeys(
        f"{recipe_name(run['recipe_source'])} ({run['method']}, "
        f"{run['recipe_hash'][:RECIPE_SHOWN]})"
        for run in store.runs(-1)
    )
    read = (
        "of that name, or whose sha256 starts so,"
        if is_hash_prefix(given)
        else f"of that name (a sha256's start is of {HASH_PREFIX_MIN} hex digits or more)"
    )
    return f"no run of a recipe {read} in {store.path}; {_named('recipes', recipes)}"


def _no_lot(store: RunStore, lot: str) -> str:
    """Why no run is of lot `lot`: the lots the database holds (the newest `NAMED`), or
    that no run has a lot id."""
    lots = dict.fromkeys(r["lot_id"] for r in store.runs(-1) if r["lot_id"] is not None)
    if not lots:
        return (
            f"no run of {store.path} has a lot id (`packline run --lot-id LOT` or `--lot-file` "
            "gives one)"
        )
    return f"no run of lot {lot!r} in {store.path}; {_named('lots', lots)}"


def _named(what: str, names: Iterable[str]) -> str:
    """`its WHAT: ` the first `NAMED` of `names`, and how many there are when there are more."""
    listed = list(names)
    more = (
        f", ... ({len(listed)} {what}; `packline runs` lists them)" if len(listed) > NAMED else ""
    )
    return f"its {what}: {', '.join(listed[:NAMED])}{more}"


def runs_table(runs: list[dict[str, Any]], *, title: str) -> DataTable:
    """One row per run: its id and lot id (whole: they are copied from here), method, status,
    wafers (how many completed, held, scrapped), its line (`line_text`: a dry run, a station,
    a served simulated line), operator, start and run clock."""
    from rich import box  # its boxes alone: rich's console and tables are not imported

    table = DataTable(
        "run", "lot", "method", "status", "wafers", "line", "operator", "started", "run clock",
        title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True,
    )  # fmt: skip
    for column, key in ((0, "id"), (1, "lot_id")):
        table.columns[column].no_wrap = True
        table.columns[column].min_width = max((len(run[key] or "-") for run in runs), default=0)
    for run in runs:
        table.add_row(
            run["id"],
            run["lot_id"] or "-",
            run["method"],
            listed_status(run),
            _wafers_text(run),
            run["line"],
            run["operator"],
            wall_text(run["started_wall"]),
            _run_clock(run),
        )
    return table


def _wafers_text(run: dict[str, Any]) -> str:
    """The lot size and its wafers' outcomes so far: `10 (7 done, 2 held, 1 scrapped)`, those
    a terminated or aborted run stopped (`, 2 terminated`: a lot of 2 had read `0 done, 0
    held`), with the wafers under way by what they are doing (`_under_way`: `, 4 running, 2
    paused`), or where a run cut off left them (`, 1 interrupted`), as `show` reads them; and
    what a stopped run left on its tools (`; left on tools: W02 in dicing_saw`,
    `left_brief`)."""
    counts = f"{run['completed']} done, {run['held']} held"
    for outcome in ("scrapped", "terminated"):
        if run[outcome]:
            counts += f", {run[outcome]} {outcome}"
    for status, count in run["under_way"].items():
        counts += f", {count} {status}"
    if run["left_on_tools"] is not None:
        from packline.sequences.engine.left_on_tools import left_brief

        counts += f"; left on tools: {left_brief(run['left_on_tools'])}"
    return f"{run['lot_size']} ({counts})"


def _run_clock(run: dict[str, Any]) -> str:
    """How long the run took by its clock, saying which (a dry run's is simulated time, a
    station run's the wall clock); for a run still driven, its wall time so far; for one cut
    off, up to its last record. Where its clock stands then, from its zero where the run began,
    as `show` gives it (the report's `duration_s`)."""
    stopped_t = run["stopped_t"] if run["stopped_t"] is not None else run["last_record_t"]
    if stopped_t is not None:
        return run_clock_text(stopped_t, simulated=run["simulated"])
    return f"{clock_text(time.time() - run['started_wall'])} wall so far"


def _runs_arguments(runs: argparse.ArgumentParser) -> None:
    add_common(runs)
    runs.add_argument("--limit", type=at_least_one, default=50, help="at most N runs (50)")
    runs.add_argument("--method", help="only runs of this method")
    runs.add_argument(
        "--status",
        choices=SHOWN_STATUSES,
        help="only runs with this status (as shown: a run nobody drives any more is interrupted)",
    )
    add_recipe_filter(runs, "only runs of this recipe")
    runs.add_argument(
        "--wafer",
        metavar="WAFER",
        help="only runs that had this wafer id (or the id it is the end of alone, as W06 of a "
        "station lot's 101813-c46c-W06), or a workpiece beside one (a wafer's board, BW01)",
    )
    runs.add_argument("--lot", metavar="LOT", help="only runs of this lot id")
    runs.add_argument(
        "--since", type=local_date, metavar="YYYY-MM-DD", help="only runs started on or after"
    )
    runs.set_defaults(handler=cmd_runs)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"runs": _runs_arguments}
