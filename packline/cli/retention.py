"""Records that do not grow without bound (`packline.records.retention`): a run kept whole
in one file (`archive`), runs deleted from the database (`prune`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine.liveness import listed_run, listed_status
from packline.sequences.engine.progress import wall_text

from .output import EXIT_OK, open_store, print_json, terminal
from .parser import add_common, add_run_ref, at_least_one, local_date

if TYPE_CHECKING:
    from packline.records.retention import PrunePlan


def cmd_archive(args: argparse.Namespace) -> int:
    from packline.records import open_records
    from packline.records.retention import archive_run

    with open_records(args.run, args.db) as records:
        path = archive_run(records, args.to)
    size = path.stat().st_size
    if args.json:
        print_json({"run_id": records.run_id, "archive": str(path), "bytes": size})
    else:
        print(f"run {records.run_id}: archived to {path} ({size / 1e6:.1f} MB)")
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from packline.records.retention import plan_prune, prune_runs
    from packline.sequences.engine import BadInput
    from packline.sequences.engine.records import db_option

    store = open_store(args, create=False)
    try:
        plan = plan_prune(store, before_wall=args.before, keep=args.keep)
        data: dict[str, Any] = {
            "dry_run": args.dry_run,
            "runs": plan.runs,
            "kept_driven": [run["id"] for run in plan.driven],
            "kept_unfinished": {run["id"]: run["unfinished"] for run in plan.unfinished},
            "kept_unrecovered": {run["id"]: run["unrecovered"] for run in plan.unrecovered},
            "kept_unrecovered_may_be": {
                run["id"]: run["unrecovered_may_be"] for run in plan.unrecovered
            },
            "deleted": [],
            "returned_bytes": 0,
            "free_bytes": 0,
        }
        if not args.json:
            print_plan(terminal(), plan, dry_run=args.dry_run, db=db_option(store.path))
        if plan.runs and not args.dry_run:
            if not args.yes and not _confirmed(len(plan.runs)):
                raise BadInput(
                    f"prune: {len(plan.runs)} runs would be deleted; nothing was (list them "
                    "with --dry-run, archive what you need with `packline archive`, then "
                    "prune with --yes)"
                )
            pruned = prune_runs(store, plan)
            data |= {
                "deleted": pruned.runs,
                "returned_bytes": pruned.returned_bytes,
                "free_bytes": pruned.free_bytes,
            }
    finally:
        store.close()
    if args.json:
        print_json(data)
    elif data["deleted"]:
        returned, kept = data["returned_bytes"] / 1e6, data["free_bytes"] / 1e6
        print(
            f"deleted {len(data['deleted'])} runs: the database gave {returned:.1f} MB back"
            + (f", {kept:.1f} MB stay free inside it for new records" if kept else "")
        )
    return EXIT_OK


def print_plan(console: Console, plan: PrunePlan, *, dry_run: bool, db: str) -> None:
    """The runs a prune deletes (or would, `dry_run`), and those it keeps: driven, or with
    a lot not finished (its wafers by status, and how to finish them, each command with
    `db`, the `--db` it needs: `db_option`)."""
    runs = plan.runs
    verb = "would delete" if dry_run else "deletes"
    table = DataTable(
        "run", "method", "status", "wafers", "started", "archived to", title=f"prune {verb}"
    )
    table.columns[0].no_wrap = True
    for run in runs:
        table.add_row(
            run["id"],
            run["method"],
            listed_status(listed_run(run)),
            str(run["lot_size"]),
            wall_text(run["started_wall"]),
            run["archived"] or "not archived",
        )
    console.print(table if runs else "no run to prune", markup=False, highlight=False)
    kept = [f"kept: run {run['id']} is {run['status']} in a live process" for run in plan.driven]
    for run in plan.unfinished:
        wafers = "; ".join(
            f"{len(ids)} {status} ({', '.join(ids)})" for status, ids in run["unfinished"].items()
        )
        resume = f"`packline resume {run['id']}{db}`"
        what = (
            f"decide or scrap its held wafers (`packline disposition {run['id']} WAFER ...{db}`) "
            f"or resume it ({resume})"
            if "held" in run["unfinished"]
            else f"resume it ({resume}): only a held wafer takes a disposition"
        )
        kept.append(
            f"kept: run {run['id']}'s lot is not finished: {wafers}; its records are what its "
            f"dispositions and resume read: {what}, then prune"
        )
    for run in plan.unrecovered:
        tools = "; ".join(
            _kept_for(tool, wafers, run["unrecovered_may_be"].get(tool, []))
            for tool, wafers in run["unrecovered"].items()
        )
        kept.append(
            f"kept: run {run['id']} waits for its resume to recover {tools}; its records are "
            f"what that resume reads: `packline resume {run['id']}` takes what is left off the "
            "tool, then prune"
        )
    for line in kept:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _kept_for(tool: str, wafers: list[str], may_be: list[str]) -> str:
    """A tool a kept run's resume is to recover, with the wafers its records say are left on
    it and those that only may be there (`may_be`: a step there failed, and so did its
    recovery): `plasma_cleaner (W01 left on it; W02 may be on it)`, the tool alone when they
    name none."""
    there = [wafer for wafer in wafers if wafer not in may_be]
    said = []
    if there:
        said.append(f"{', '.join(there)} left on it")
    if may_be:
        said.append(f"{', '.join(may_be)} may be on it")
    return f"{tool} ({'; '.join(said)})" if said else tool


def _confirmed(count: int) -> bool:
    """Whether the person at the terminal says yes to deleting `count` runs (no terminal:
    no)."""
    if not sys.stdin.isatty():
        return False
    answer_text = input(f"delete these {count} runs and every record of them? [y/N] ")
    return answer_text.strip().lower() in ("y", "yes")


def _archive_arguments(archive: argparse.ArgumentParser) -> None:
    add_common(archive)
    add_run_ref(archive)
    archive.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="FILE",
        help="the zip file to write (never overwritten): the run's records, report and export",
    )
    archive.set_defaults(handler=cmd_archive)


def _prune_arguments(prune: argparse.ArgumentParser) -> None:
    add_common(prune)
    prune.add_argument(
        "--before",
        type=local_date,
        metavar="DATE",
        help="the runs started before DATE (YYYY-MM-DD)",
    )
    prune.add_argument("--keep", type=at_least_one, metavar="N", help="all but the newest N runs")
    prune.add_argument(
        "--dry-run", action="store_true", help="list the runs it would delete, delete nothing"
    )
    prune.add_argument(
        "--yes", action="store_true", help="delete without asking (scripts; list them first)"
    )
    prune.set_defaults(handler=cmd_prune)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "archive": _archive_arguments,
    "prune": _prune_arguments,
}
