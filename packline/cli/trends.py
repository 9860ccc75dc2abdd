"""Figures across runs (`packline.records`): each tool's alarms, downtime and MTBF
(`alarms`), and a measurement's control chart and capability (`spc`)."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from packline.rendering import DataTable, counted
from packline.sequences.engine.progress import clock_text, wall_text
from packline.shown_figures import limits_text

from .output import answer, open_store
from .parser import add_common, add_recipe_filter, local_date

if TYPE_CHECKING:  # `packline alarms` needs neither
    from packline.records.spc import Capability, ControlChart

#: The width of the terminal's control chart strip (characters).
STRIP = 41


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
    since = "" if args.since is None else f" since {wall_text(args.since, day=True)}"
    return answer(args, data, lambda console: print_alarms(console, data, title=f"alarms{since}"))


def print_alarms(console: Console, data: dict[str, Any], *, title: str) -> None:
    """`packline alarms`: one row per tool and clock (its runs, productive time, failures,
    how many of them a fault a test injected raised and how many were restored, downtime,
    MTBF of its own failures, MTTR), then one row per tool, alarm code and clock: a dry run's
    simulated time and a line's wall time are never added together."""
    tools = DataTable(
        "tool",
        "clock",
        "runs",
        "productive",
        "alarms",
        "injected",
        "restored",
        "downtime",
        "MTBF",
        "MTTR",
        "last alarm",
        title=f"{title}: {counted(len(data['runs']), 'run')}; H:MM:SS on the clock of the row "
        "(simulated: dry runs' run clock; wall: lines' run clock, the wall time a session "
        "drove the run, standing still while it is stopped; wall xN: a line served N x "
        "faster than real time, the same, its process N x as long), MTTR as said below",
    )
    for row in data["tools"]:
        tools.add_row(
            row["tool"],
            row["clock"],
            str(row["runs"]),
            clock_text(row["productive_s"]),
            str(row["alarms"]),
            str(row["injected"]),
            str(row["restored"]),
            clock_text(row["downtime_s"]),
            clock_text(row["mtbf_s"]),
            mttr_text(row),
            wall_text(row["last_alarm_wall"]),
        )
    console.print(tools)
    if not data["alarms"]:
        console.print("no alarm in these runs", markup=False, highlight=False)
        return
    codes = DataTable(
        "tool",
        "code",
        "clock",
        "message",
        "count",
        "injected",
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
            row["clock"],
            row["message"],
            str(row["count"]),
            str(row["injected"]),
            str(row["wafers"]),
            str(row["runs"]),
            clock_text(row["downtime_s"]),
            wall_text(row["first_wall"]),
            wall_text(row["last_wall"]),
        )
    console.print(codes)
    unrestored = sum(row["alarms"] - row["restored"] for row in data["tools"])
    verb = "is" if unrestored == 1 else "are"
    left_out = (
        f"; {counted(unrestored, 'failure')} no clear followed {verb} left out"
        if unrestored
        else ""
    )
    console.print(
        "injected: failures a fault a test injected raised (--fault, packline sim fault); "
        "MTBF: productive time per failure of the tool's own, not injected (SEMI E10 "
        "MTBF(p)); MTTR: the mean time from a "
        "restored failure's alarm to the clear that put the tool back in service (by the wall "
        "clock for a clear made while the run was stopped, its run clock standing still, so "
        "the downtime counts none of that time: the MTTR then reads 'wall clock'; a dry "
        "run's cleared while driven, on its simulated clock; a served line's, its wall "
        "seconds, reads 'wall')" + left_out,
        markup=False,
        highlight=False,
    )


def mttr_text(row: dict[str, Any]) -> str:
    """A tool row's MTTR, its clock named where it is not the row's run clock: '0:30:00 wall
    clock' where a restore was timed across a stop of its run (the row's downtime, on the run
    clock, counts none of it: a line's 1 s of downtime had stood beside its MTTR of 0:30:00,
    on one unnamed clock), '0:00:16 wall' on a served line's row (its wall seconds, not its
    process time)."""
    text = clock_text(row["mttr_s"])
    clock = row["mttr_clock"]
    if clock is None:
        return text
    if row["restored_while_stopped"]:
        return f"{text} {clock} clock"
    return text if clock == row["clock"] else f"{text} {clock}"


def cmd_spc(args: argparse.Namespace) -> int:
    from packline.records.spc import control_chart, measurement_values

    store = open_store(args, create=False)
    try:
        values = measurement_values(
            store,
            args.measurement,
            args.method,
            since_wall=args.since,
            step=args.step,
            recipe=args.recipe,
        )
    finally:
        store.close()
    # the chart names the step it is of, as diff's row does: one of several processes
    at_step = "" if args.step is None else f" at {args.step}"
    chart = control_chart(
        values,
        measurement=f"{args.measurement}{at_step}",
        method=args.method,
        chart=args.chart,
        subgroup=args.subgroup,
    )
    page = None
    if args.html:
        from packline.records.spcpage import write_spc

        page = str(write_spc(chart, values, args.html))
    data = {**chart.as_json(), "html": page}
    return answer(args, data, lambda console: print_spc(console, chart, page))


def print_spc(console: Console, chart: ControlChart, page: str | None) -> None:
    """`packline spc`: the limits and capability, then one row per subgroup with its value,
    spread and a strip placing the value between its limits (| the limits, + the centre
    line, o the value, X a value out of control)."""
    points = chart.points
    value, spread = ("X-bar", "R") if chart.chart == "xbar-r" else ("value", "MR")
    first = points.iloc[-1]
    cap = chart.capability
    lines = [
        f"{chart.chart} chart of {chart.measurement} ({chart.unit}), method {chart.method}: "
        f"{counted(points['run_id'].nunique(), 'run')}, {counted(len(points), 'subgroup')} of one "
        f"{chart.subgroup}",
        f"{value}: centre {_number(first['cl'], 4)}, limits {_number(first['lcl'], 4)} .. "
        f"{_number(first['ucl'], 4)}; {spread}: centre {_number(first['spread_cl'], 4)}, limits "
        f"{_number(first['spread_lcl'], 4)} .. {_number(first['spread_ucl'], 4)}"
        + ("" if points["n"].nunique() == 1 else " (last subgroup)"),
        f"against {_spec_limits_text(cap, chart.unit)}: "
        f"mean {cap.mean:.4g}, "
        f"sigma within {cap.sigma_within:.4g}, overall {cap.sigma_overall:.4g}; "
        f"Cp {_number(cap.cp)}, Cpk {_number(cap.cpk)}, Pp {_number(cap.pp)}, "
        f"Ppk {_number(cap.ppk)}",
    ]
    if chart.note:
        lines.append(f"not judged: {chart.note}")
    if mixed := chart.mixed_recipes_text():
        lines.append(mixed)
    if read := chart.resolutions_text():
        lines.append(read)
    for line in lines:
        console.print(line, markup=False, highlight=False)
    table = DataTable("#", "subgroup", "n", value, spread, f"{value} within its limits", "out")
    low = float(min(points["lcl"].min(), points["value"].min()))
    high = float(max(points["ucl"].max(), points["value"].max()))
    rows: list[dict[str, Any]] = chart.as_json()["points"]
    for index, row in enumerate(rows, start=1):
        table.add_row(
            str(index),
            str(row["label"]),
            str(row["n"]),
            f"{row['value']:.4g}",
            "-" if row["spread"] is None else f"{row['spread']:.4g}",
            _strip(row, low, high),
            "yes" if row["out_of_control"] else "",
        )
    console.print(table)
    out = int(points["out_of_control"].sum())
    verdict = f"{out} subgroups out of control" if out else "every subgroup within its limits"
    if chart.note:
        verdict = "nothing judged: no spread (see above)"
    console.print(verdict, markup=False, highlight=False)
    if page:
        console.print(f"chart written to {page}", markup=False, highlight=False)


def _strip(point: dict[str, Any], low: float, high: float) -> str:
    """A row of the terminal's chart: `point` (a row of the chart's points) between its
    limits, on the scale `low` .. `high` in `STRIP` characters."""
    cells = [" "] * STRIP
    span = (high - low) or 1.0

    def at(x: float) -> int:
        return min(STRIP - 1, max(0, round((x - low) / span * (STRIP - 1))))

    cells[at(point["lcl"])] = cells[at(point["ucl"])] = "|"
    cells[at(point["cl"])] = "+"
    cells[at(point["value"])] = "X" if point["out_of_control"] else "o"
    return "".join(cells)


def _spec_limits_text(cap: Capability, unit: str) -> str:
    """The limits the capability is judged against, as `show` prints them (`limits_text`), or
    that the measurement has none (it had read `[-, -] nm`)."""
    if cap.low is None and cap.high is None:
        return "no limits (none recorded)"
    return f"{limits_text(cap.low, cap.high, cap.low_exclusive)} {unit}"


def _number(value: float | None, digits: int = 3) -> str:
    """A figure to `digits` significant digits; '-' for none (a subgroup of one value has no
    range, so no R limits)."""
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}g}"


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


def _spc_arguments(spc: argparse.ArgumentParser) -> None:
    from packline.records.spc import CHARTS, SUBGROUPS

    add_common(spc)
    spc.add_argument(
        "measurement",
        help="the measurement's name, as `packline show` lists it, or its label, as `diff` does",
    )
    spc.add_argument("--method", required=True, metavar="M", help="the runs of this method")
    spc.add_argument(
        "--step",
        metavar="STEP",
        help="the values taken at this step (as `packline show` lists it: 'inspect bump heights "
        "#2' for the second run of a step the script runs twice): needed when several steps "
        "take the measurement",
    )
    add_recipe_filter(spc, "only runs of one recipe, one process judged against its own limits")
    spc.add_argument(
        "--since",
        type=local_date,
        metavar="DATE",
        help="runs started on or after DATE (YYYY-MM-DD)",
    )
    spc.add_argument(
        "--chart",
        choices=CHARTS,
        default=CHARTS[0],
        help="X-bar/R of subgroups (default), or each value alone",
    )
    spc.add_argument(
        "--subgroup",
        choices=SUBGROUPS,
        default=SUBGROUPS[0],
        help="an X-bar/R subgroup: a run's lot (default), or a wafer's values",
    )
    spc.add_argument("--html", type=Path, metavar="FILE", help="also write the chart as HTML")
    spc.set_defaults(handler=cmd_spc)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "alarms": _alarms_arguments,
    "spc": _spc_arguments,
}
