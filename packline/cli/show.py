"""What the records say in full: one run (`show`), one wafer across runs (`wafer`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.report import run_report, wafer_history

from .output import answer, open_store
from .parser import add_common, add_run_ref
from .summary import print_claim_check, print_summary


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    try:
        report = run_report(store, store.resolve_run(args.run))
    finally:
        store.close()
    return answer(args, report, lambda console: print_run(console, report, store.path))


def cmd_wafer(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    try:
        history = wafer_history(store, args.wafer_id)
    finally:
        store.close()
    if not history:
        raise BadInput(f"wafer {args.wafer_id!r}: in no run of {store.path}")
    return answer(args, history, lambda console: print_wafer(console, args.wafer_id, history))


def print_run(console: Console, report: dict[str, Any], db: Path) -> None:
    """`packline show`: the run, its summary and claim check, the first wafer's steps, the
    alarms and the run-level events."""
    run = report["run"]
    console.print(
        f"run {run['id']}: {run['method']} on {run['station_name']}"
        f"{' (simulated)' if run['simulated'] else ''}, operator {run['operator']}, "
        f"lot of {run['lot_size']}, policy {run['failure_policy']}, status {run['status']}, "
        f"{run['sessions']} session(s)",
        markup=False,
        highlight=False,
    )
    console.print(f"recipe {run['recipe_source']} sha256 {run['recipe_hash']}", markup=False)
    print_summary(console, report, db)
    print_claim_check(console, report["claim_check"])
    steps = DataTable(
        "step",
        "claims",
        "tool",
        "status",
        "start",
        "stop",
        "error",
        title="steps (first wafer)",
    )
    first = report["wafers"][0]["wafer"] if report["wafers"] else None
    for step in report["steps"]:
        if step["wafer_id"] == first:
            steps.add_row(
                step["key"],
                ", ".join(json.loads(step["claims"])),
                step["tool"] or "",
                step["status"],
                clock_text(step["started_t"]),
                clock_text(step["stopped_t"]),
                step["error"] or "",
            )
    console.print(steps)
    for alarm in report["alarms"]:
        console.print(
            f"alarm {alarm['tool']} {alarm['code']}: {alarm['message']} "
            f"(wafer {alarm['wafer_id']})",
            markup=False,
        )
    for event in report["events"]:
        console.print(
            f"[{clock_text(event['t'])}] {event['kind']} {event['wafer_id'] or ''} "
            f"{event['message']}",
            markup=False,
            highlight=False,
        )


def print_wafer(console: Console, wafer_id: str, history: list[dict[str, Any]]) -> None:
    """`packline wafer ID`: each run the wafer was in, its outcome, and every step,
    measurement, alarm and disposition of it."""
    for entry in history:
        console.print(
            f"wafer {wafer_id} in run {entry['run_id']} ({entry['method']}, "
            f"{'simulated' if entry['simulated'] else entry['station']}, run "
            f"{entry['run_status']}): {entry['status']}"
            + (f" ({entry['reason']})" if entry["reason"] else ""),
            markup=False,
            highlight=False,
        )
        table = DataTable("at", "what", "detail", "status")
        rows = [
            (s["started_t"], f"step {s['key']}", s["tool"] or "", s["status"], s["error"] or "")
            for s in entry["steps"]
        ]
        rows += [
            (
                m["t"],
                f"measured {m['name']}",
                f"{m['value']:g} {m['unit']} in [{m['low']}, {m['high']}]",
                "pass" if m["passed"] else "fail",
                "",
            )
            for m in entry["measurements"]
        ]
        rows += [
            (a["t"], f"alarm {a['code']}", a["tool"], a["message"], "") for a in entry["alarms"]
        ]
        for at, what, detail, status, error in sorted(rows, key=lambda r: r[0]):
            table.add_row(clock_text(at), what, detail, f"{status} {error}".strip())
        console.print(table)
        for d in entry["dispositions"]:
            console.print(
                f"  disposition {d['decision']} by {d['by']}: {d['reason']} "
                f"(held: {d['held_reason']})",
                markup=False,
                highlight=False,
            )


def _show_arguments(show: argparse.ArgumentParser) -> None:
    add_common(show)
    add_run_ref(show)
    show.set_defaults(handler=cmd_show)


def _wafer_arguments(wafer: argparse.ArgumentParser) -> None:
    add_common(wafer)
    wafer.add_argument("wafer_id", metavar="WAFER")
    wafer.set_defaults(handler=cmd_wafer)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "show": _show_arguments,
    "wafer": _wafer_arguments,
}
