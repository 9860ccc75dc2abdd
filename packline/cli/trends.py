"""Figures across runs (`packline.records`): each tool's alarms, downtime and MTBF
(`alarms`)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine.progress import clock_text

from .output import answer, open_store
from .parser import add_common, local_date


def cmd_alarms(args: argparse.Namespace) -> int:
    from packline.records.alarms import alarm_history

    store = open_store(args, create=False)
    try:
        history = alarm_history(store, since_wall=args.since, tool=args.tool)
    finally:
        store.close()
    data = {
        "since_wall": args.since,
        "runs": history.runs,
        "tools": json.loads(history.tools.to_json(orient="records")),
        "alarms": json.loads(history.alarms.to_json(orient="records")),
    }
    since = "" if args.since is None else f" since {_day(args.since)}"
    return answer(args, data, lambda console: print_alarms(console, data, title=f"alarms{since}"))


def print_alarms(console: Console, data: dict[str, Any], *, title: str) -> None:
    """`packline alarms`: one row per tool (its runs, productive time, failures, downtime,
    MTBF, MTTR), then one row per tool and alarm code."""
    tools = DataTable(
        "tool",
        "runs",
        "productive",
        "alarms",
        "downtime",
        "MTBF",
        "MTTR",
        "last alarm",
        title=f"{title}: {len(data['runs'])} runs, run clock H:MM:SS",
    )
    for row in data["tools"]:
        tools.add_row(
            row["tool"],
            str(row["runs"]),
            clock_text(row["productive_s"]),
            str(row["alarms"]),
            clock_text(row["downtime_s"]),
            clock_text(row["mtbf_s"]),
            clock_text(row["mttr_s"]),
            _moment(row["last_alarm_wall"]),
        )
    console.print(tools)
    if not data["alarms"]:
        console.print("no alarm in these runs", markup=False, highlight=False)
        return
    codes = DataTable(
        "tool",
        "code",
        "message",
        "count",
        "wafers",
        "runs",
        "downtime",
        "first",
        "last",
        title="by code",
    )
    for row in data["alarms"]:
        codes.add_row(
            row["tool"],
            row["code"],
            row["message"],
            str(row["count"]),
            str(row["wafers"]),
            str(row["runs"]),
            clock_text(row["downtime_s"]),
            _moment(row["first_wall"]),
            _moment(row["last_wall"]),
        )
    console.print(codes)
    console.print(
        "MTBF: productive time per failure (SEMI E10 MTBF(p)); MTTR: downtime per failure, "
        "until the tool was cleared",
        markup=False,
        highlight=False,
    )


def _moment(unix: float | None) -> str:
    return "-" if unix is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(unix))


def _day(unix: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(unix))


def _alarms_arguments(alarms: argparse.ArgumentParser) -> None:
    add_common(alarms)
    alarms.add_argument(
        "--since",
        type=local_date,
        metavar="DATE",
        help="runs started on or after DATE (YYYY-MM-DD)",
    )
    alarms.add_argument("--tool", metavar="T", help="this tool alone (its name in the station)")
    alarms.set_defaults(handler=cmd_alarms)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "alarms": _alarms_arguments,
}
