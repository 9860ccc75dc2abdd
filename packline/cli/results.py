"""A run's records as tables (`packline.records`): its files (`export`), its HTML page
(`report`) and its tool time by E10 state (`tools`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from packline.records import open_records
from packline.rendering import DataTable
from packline.sequences.engine.progress import clock_text

from .output import EXIT_OK, answer, print_json
from .parser import add_common, add_run_ref


def cmd_export(args: argparse.Namespace) -> int:
    from packline.records.export import export_run

    with open_records(args.run, args.db) as records:
        files = export_run(records, args.to, args.format, maps_after=args.maps)
    result = {"run_id": records.run_id, "format": args.format, "files": [str(f) for f in files]}
    if args.json:
        print_json(result)
    else:
        print(f"run {records.run_id}: {len(files)} files written to {args.to}")
        for path in files:
            print(f"  {path.name}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from packline.records.report import write_report

    with open_records(args.run, args.db) as records:
        path = write_report(
            records, args.out or Path(f"report-{records.run_id}.html"), wafer=args.wafer
        )
    if args.json:
        print_json({"run_id": records.run_id, "report": str(path)})
    else:
        print(f"run {records.run_id}: report written to {path}")
    return EXIT_OK


def cmd_tools(args: argparse.Namespace) -> int:
    from packline.records.tooltime import bottleneck, tool_time, unused_text, unused_tools
    from packline.sequences.engine.recorded_station import clock_label

    with open_records(args.run, args.db) as records:
        times = tool_time(records)
        unused = unused_tools(records)
        clock = clock_label(records.header())
    rows = json.loads(times.to_json(orient="records"))
    neck = bottleneck(times)
    title = f"tool time, run {records.run_id} ({clock})"
    return answer(
        args,
        {
            "run_id": records.run_id,
            "clock": clock,
            "bottleneck": neck,
            "tools": rows,
            "unused_tools": unused,
        },
        lambda console: print_tool_time(console, rows, neck, unused_text(unused), title=title),
    )


#: Which clock `tools` counts a tool's downtime on, beside the one `packline alarms` times its
#: restores on: a held station run's oven read 0:00:01 of unscheduled downtime where alarms
#: gave its MTTR 0:30:00, the repair made while the run stood stopped, neither saying why.
DOWNTIME_CLOCK = (
    "unscheduled downtime: on the run clock of the title, from each alarm to the clear that "
    "put the tool back in service, the run clock standing still while the run is stopped (a "
    "repair made then is not in it; packline alarms times each restored failure from alarm "
    "to clear by the wall clock then, its MTTR)"
)


def print_tool_time(
    console: Console,
    rows: list[dict[str, Any]],
    bottleneck: str | None,
    unused: str,
    *,
    title: str,
) -> None:
    """`packline tools`: one row per tool the run used, its time per E10 state that it spent
    any in, utilisation and OEE with its factors, quality with the passes it is the share of
    (`33.3% (2/6)`: good of judged, folded into its cell for the table's width), how quality
    counts them (`tooltime.QUALITY_COUNTS`), which clock a downtime is on where there is one
    (`DOWNTIME_CLOCK`), then the bottleneck and what `unused` says of the station's other
    tools (`tooltime.unused_text`)."""
    from packline.records.tooltime import QUALITY_COUNTS

    states = [c for c in rows[0] if c.endswith("_s") and c != "duration_s"] if rows else []
    states = [c for c in states if any(row[c] for row in rows)]
    ratios = ("utilisation", "availability", "performance", "quality", "oee")
    table = DataTable(
        "tool",
        *[c.removesuffix("_s").replace("_", " ") for c in states],
        *ratios,
        "uses",
        "wafers",
        "alarms",
        title=title,
    )
    for row in rows:
        shown = {r: "-" if row[r] is None else f"{row[r]:.1%}" for r in ratios}
        if row["quality"] is not None:
            shown["quality"] += f" ({row['good_passes']}/{row['judged_passes']})"
        table.add_row(
            row["tool"],
            *[clock_text(row[c]) for c in states],
            *shown.values(),
            str(row["uses"]),
            str(row["wafers"]),
            str(row["alarms"]),
        )
    console.print(table)
    if rows:
        console.print(QUALITY_COUNTS, markup=False, highlight=False)
    if any(row.get("unscheduled_downtime_s") for row in rows):
        console.print(DOWNTIME_CLOCK, markup=False, highlight=False)
    verdict = f"bottleneck: {bottleneck} (highest utilisation)" if bottleneck else "no tool worked"
    console.print(verdict, markup=False, highlight=False)
    if unused:
        console.print(unused, markup=False, highlight=False)


def _export_arguments(export: argparse.ArgumentParser) -> None:
    from packline.records import MAP_POINTS
    from packline.records.export import FORMATS

    add_common(export)
    add_run_ref(export)
    export.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write: a new or empty one, or this run's own export in this format, "
        "written over (another run's export there is refused)",
    )
    export.add_argument("--format", choices=FORMATS, default="csv", help="file format (csv)")
    export.add_argument(
        "--maps",
        choices=MAP_POINTS,
        default="last",
        help="workpiece maps of each wafer after its last step (default), or also after "
        "each irreversible step",
    )
    export.set_defaults(handler=cmd_export)


def _report_arguments(report: argparse.ArgumentParser) -> None:
    add_common(report)
    add_run_ref(report)
    report.add_argument(
        "--to",
        "--out",
        dest="out",
        type=Path,
        metavar="FILE",
        help="the HTML file (default: report-RUN.html here); `--to`, as export takes it",
    )
    report.add_argument(
        "--wafer",
        metavar="ID",
        help="the wafer whose maps are drawn (default: the first failing a claim condition, "
        "else the first)",
    )
    report.set_defaults(handler=cmd_report)


def _tools_arguments(tools: argparse.ArgumentParser) -> None:
    add_common(tools)
    add_run_ref(tools)
    tools.set_defaults(handler=cmd_tools)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "export": _export_arguments,
    "report": _report_arguments,
    "tools": _tools_arguments,
}
