"""`packline runs`: the runs in the records, newest first, filtered."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.liveness import DRIVEN, SHOWN_STATUSES, shown_status
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.records import RunStore, default_db_path

from .output import answer, open_store
from .parser import add_common, at_least_one, local_date

#: The most runs `runs --status` looks through (the status shown is decided per run).
MAX_LISTED = 100_000
#: The most lot ids `runs --lot` names when it finds no run of the lot asked for.
LOTS_NAMED = 10


def cmd_runs(args: argparse.Namespace) -> int:
    runs: list[dict[str, Any]] = []
    if Path(args.db or default_db_path()).exists():  # no database yet: no runs, none created
        store = open_store(args, create=False)
        try:
            found = store.runs(
                args.limit if args.status is None else MAX_LISTED,
                method=args.method,
                recipe=args.recipe,
                wafer=args.wafer,
                since_wall=args.since,
                lot=args.lot,
            )
            runs = [{**run, "status": shown_status(run)} for run in found]
            if args.status is not None:
                runs = [run for run in runs if run["status"] == args.status][: args.limit]
            if args.lot is not None and not store.runs(1, lot=args.lot):
                raise BadInput(f"--lot {args.lot}: {_no_lot(store, args.lot)}")
        finally:
            store.close()
    title = f"runs in {args.db or default_db_path()}"
    return answer(args, runs, lambda console: print_runs(console, runs, title=title))


def _no_lot(store: RunStore, lot: str) -> str:
    """Why no run is of lot `lot`: the lots the database holds (the newest `LOTS_NAMED`), or
    that no run has a lot id."""
    lots = list(dict.fromkeys(r["lot_id"] for r in store.runs(-1) if r["lot_id"] is not None))
    if not lots:
        return (
            f"no run of {store.path} has a lot id (`packline run --lot-id LOT` or `--lot-file` "
            "gives one)"
        )
    more = f", ... ({len(lots)} lots; `packline runs` lists them)" if len(lots) > LOTS_NAMED else ""
    return f"no run of lot {lot!r} in {store.path}; its lots: {', '.join(lots[:LOTS_NAMED])}{more}"


def print_runs(console: Console, runs: list[dict[str, Any]], *, title: str) -> None:
    """One row per run: its id and lot id (whole: they are copied from here), method, status,
    wafers (how many completed, how many are held), where (simulated or a station), operator, start
    and run clock."""
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
            run["status"],
            f"{run['lot_size']} ({run['completed']} done, {run['held']} held)",
            "simulated" if run["simulated"] else run["station_name"],
            run["operator"],
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started_wall"])),
            _run_clock(run),
        )
    console.print(table)


def _run_clock(run: dict[str, Any]) -> str:
    """How long the run took by its clock; for a run still driven, its wall time so far."""
    if run["stopped_t"] is not None:
        return clock_text(run["stopped_t"] - run["started_t"])
    if run["status"] in DRIVEN:
        return f"{clock_text(time.time() - run['started_wall'])} wall so far"
    return "-"


def _runs_arguments(runs: argparse.ArgumentParser) -> None:
    add_common(runs)
    runs.add_argument("--limit", type=at_least_one, default=50, help="at most N runs (50)")
    runs.add_argument("--method", help="only runs of this method")
    runs.add_argument(
        "--status",
        choices=SHOWN_STATUSES,
        help="only runs with this status (as shown: a run nobody drives any more is interrupted)",
    )
    runs.add_argument("--recipe", metavar="HASH", help="only runs of a recipe whose sha256 "
                      "starts so")  # fmt: skip
    runs.add_argument("--wafer", metavar="WAFER", help="only runs that had this wafer id")
    runs.add_argument("--lot", metavar="LOT", help="only runs of this lot id")
    runs.add_argument(
        "--since", type=local_date, metavar="YYYY-MM-DD", help="only runs started on or after"
    )
    runs.set_defaults(handler=cmd_runs)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"runs": _runs_arguments}
