"""The command line's arguments: every command, its options and how each value is read.

A value that cannot be read (a blank name, a negative duration) is refused here by argparse,
with its usage line, before anything is opened or contacted.
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

from packline.records import MAP_POINTS
from packline.records.export import FORMATS
from packline.sequences.engine import Decision
from packline.sequences.engine.liveness import SHOWN_STATUSES
from packline.station_check import CHECK_TIMEOUT_S

from .commands import (
    cmd_claims,
    cmd_clear_tool,
    cmd_control,
    cmd_disposition,
    cmd_export,
    cmd_methods,
    cmd_recipe_schema,
    cmd_recipe_template,
    cmd_report,
    cmd_resume,
    cmd_run,
    cmd_runs,
    cmd_show,
    cmd_sim_serve,
    cmd_station_check,
    cmd_tools,
    cmd_validate,
    cmd_wafer,
)


def person(text: str) -> str:
    """A person's name as records keep it (who confirmed, who cleared): printable, not blank."""
    name = text.strip()
    if not name or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a name (printable, not blank)")
    return name


def local_date(text: str) -> float:
    """A calendar day (YYYY-MM-DD) as the Unix time of its local midnight."""
    try:
        day = datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return time.mktime(day.timetuple())


def positive_seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def at_least_one(text: str) -> int:
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The `packline` parser; each command's `handler` runs it (see `commands.py`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=Path,
        default=None,
        help="run database (default: $PACKLINE_DB or runs.db in the data dir)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    one_run = argparse.ArgumentParser(add_help=False)
    one_run.add_argument("run", help="run id, a unique prefix of one, or 'last'")
    watch = argparse.ArgumentParser(add_help=False)
    watch.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    watch.add_argument(
        "--wire-log", type=Path, help="append every exchange with every tool to this file"
    )
    watch.add_argument(
        "--confirmed-by",
        type=person,
        metavar="NAME",
        help="NAME answers every operator confirmation yes in advance (unattended runs on real "
        "tools, e.g. hardware-in-the-loop CI); each is recorded with NAME",
    )

    parser = argparse.ArgumentParser(
        prog="packline",
        description="Run claimed packaging methods "
        "on a line of tools or on the bundled simulated line.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", parents=[common, watch], help="run a method for a lot")
    run.add_argument("method")
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--sim", action="store_true", help="dry run on the in-process simulated line"
    )
    where.add_argument(
        "--station", type=Path, help="station file of real (or served simulated) tools"
    )
    run.add_argument(
        "--recipe", type=Path, help="recipe YAML (default: the method's shipped recipe)"
    )
    lot = run.add_mutually_exclusive_group()
    lot.add_argument(
        "--lot",
        type=int,
        default=1,
        help="number of wafers (default 1), numbered W01... (on a station: after the run id)",
    )
    lot.add_argument(
        "--wafers",
        type=lambda text: text.split(","),
        metavar="ID,ID,...",
        help="the wafers' own ids (1-16 printable characters each); the lot is as many",
    )
    run.add_argument(
        "--operator",
        type=person,
        default=None,
        help="who runs the lot, recorded with the run (default: the login name, $USER)",
    )
    run.add_argument("--failure-policy", choices=["hold", "pause", "stop"], default=None)
    run.set_defaults(handler=cmd_run)

    resume = commands.add_parser(
        "resume",
        parents=[common, watch],
        help="continue a stopped run from its records, or resume a paused one",
    )
    resume.add_argument("run")
    resume.add_argument(
        "--station",
        type=Path,
        help="the run's tools at new addresses (a restarted `sim serve`): same names and drivers",
    )
    resume.set_defaults(handler=cmd_resume)

    for name, text in (
        ("pause", "pause a running run at its step boundaries"),
        ("terminate", "stop a running run; tools are left safe"),
        ("abort", "stop a running run now; tools are commanded safe"),
    ):
        control = commands.add_parser(name, parents=[common], help=text)
        control.add_argument("run")
        control.set_defaults(handler=cmd_control, control=name)

    clear = commands.add_parser(
        "clear-tool",
        parents=[common],
        help="put a tool that alarmed back in service, once its cause is found and fixed",
    )
    clear.add_argument("run")
    clear.add_argument("tool", help="the tool's name in the station file")
    clear.add_argument(
        "--by", required=True, type=person, metavar="NAME", help="who cleared it (recorded)"
    )
    clear.set_defaults(handler=cmd_clear_tool)

    runs = commands.add_parser("runs", parents=[common], help="list runs")
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
    runs.add_argument(
        "--since", type=local_date, metavar="YYYY-MM-DD", help="only runs started on or after"
    )
    runs.set_defaults(handler=cmd_runs)

    show = commands.add_parser("show", parents=[common], help="show one run")
    show.add_argument("run", help="run id, a unique prefix of one, or 'last'")
    show.set_defaults(handler=cmd_show)

    export = commands.add_parser(
        "export",
        parents=[common, one_run],
        help="write a run's records as tables (CSV or Parquet) for pandas, JMP or Excel",
    )
    export.add_argument("--to", type=Path, required=True, metavar="DIR", help="folder to write")
    export.add_argument("--format", choices=FORMATS, default="csv", help="file format (csv)")
    export.add_argument(
        "--maps",
        choices=MAP_POINTS,
        default="last",
        help="workpiece maps of each wafer after its last step (default), or also after "
        "each irreversible step",
    )
    export.set_defaults(handler=cmd_export)

    wafer = commands.add_parser(
        "wafer", parents=[common], help="one wafer's whole history, across every run"
    )
    wafer.add_argument("wafer_id", metavar="WAFER")
    wafer.set_defaults(handler=cmd_wafer)

    disposition = commands.add_parser(
        "disposition",
        parents=[common],
        help="decide for a held wafer: release (go on after the held step), rework (do it "
        "again) or scrap",
    )
    disposition.add_argument("run", help="run id, a unique prefix of one, or 'last'")
    disposition.add_argument("wafer_id", metavar="WAFER")
    disposition.add_argument("decision", choices=[d.value for d in Decision])
    disposition.add_argument("--by", type=person, required=True, help="who decides")
    disposition.add_argument(
        "--reason", required=True, help="why: what was seen on the wafer (recorded)"
    )
    disposition.set_defaults(handler=cmd_disposition)

    report = commands.add_parser(
        "report",
        parents=[common, one_run],
        help="write a run's report: one self-contained HTML file (charts, maps, claim check)",
    )
    report.add_argument(
        "--out", type=Path, metavar="FILE", help="the HTML file (default: report-RUN.html here)"
    )
    report.add_argument(
        "--wafer",
        metavar="ID",
        help="the wafer whose maps are drawn (default: the first failing a claim condition, "
        "else the first)",
    )
    report.set_defaults(handler=cmd_report)

    tools = commands.add_parser(
        "tools",
        parents=[common, one_run],
        help="a run's tool time: each tool's time per E10 state, utilisation, OEE, bottleneck",
    )
    tools.set_defaults(handler=cmd_tools)

    methods = commands.add_parser(
        "methods", parents=[common], help="list the methods, or one method's recipe and claims"
    )
    methods.add_argument(
        "method", nargs="?", help="show this method: every recipe field, and its claims"
    )
    methods.set_defaults(handler=cmd_methods)

    recipe = commands.add_parser("recipe", help="a method's recipe explained")
    recipe_commands = recipe.add_subparsers(dest="recipe_command", required=True)
    template = recipe_commands.add_parser(
        "template",
        help="the reference recipe as YAML with every field's unit, range and default commented",
    )
    template.add_argument("method")
    template.add_argument(
        "--to", dest="to_path", type=Path, help="write it to this new file (default: print it)"
    )
    template.set_defaults(handler=cmd_recipe_template)
    schema = recipe_commands.add_parser(
        "schema", help="the recipe's JSON schema, with each field's unit and range"
    )
    schema.add_argument("method")
    schema.set_defaults(handler=cmd_recipe_schema)

    claims = commands.add_parser(
        "claims", parents=[common], help="every claim of the four documents and what implements it"
    )
    claims.set_defaults(handler=cmd_claims)

    validate = commands.add_parser(
        "validate", parents=[common], help="check a recipe (and station) without touching any tool"
    )
    validate.add_argument("method")
    validate.add_argument("--recipe", type=Path)
    validate.add_argument("--station", type=Path)
    validate.set_defaults(handler=cmd_validate)

    station = commands.add_parser("station", help="a station file's tools")
    station_commands = station.add_subparsers(dest="station_command", required=True)
    check = station_commands.add_parser(
        "check",
        parents=[common],
        help="connect to every tool and show its identity, state, alarms and interlocks; "
        "commands nothing",
    )
    check.add_argument("station_file", type=Path, metavar="FILE")
    check.add_argument(
        "--timeout",
        dest="timeout_s",
        type=positive_seconds,
        default=CHECK_TIMEOUT_S,
        help=f"seconds one tool may take to answer (default {CHECK_TIMEOUT_S:g})",
    )
    check.set_defaults(handler=cmd_station_check)

    sim = commands.add_parser("sim", help="the bundled simulated line")
    sim_commands = sim.add_subparsers(dest="sim_command", required=True)
    serve = sim_commands.add_parser("serve", help="serve the simulated line on the wall clock")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the local IPv4 address to serve the TCP tools on (default 127.0.0.1); the serial "
        "tools are local ptys",
    )
    serve.add_argument("--station-out", type=Path, help="also write the station file here")
    serve.add_argument(
        "--gem",
        action="store_true",
        help="serve the tools that have a GEM face (wire bonder, dicing saw, grinder, flip-chip "
        "bonder) as GEM equipment",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="process time runs this many times faster than the wall clock (default 1)",
    )
    serve.add_argument(
        "--for",
        dest="duration_s",
        type=positive_seconds,
        default=None,
        help="stop after this many seconds (default: until Ctrl-C or SIGTERM)",
    )
    serve.set_defaults(handler=cmd_sim_serve)
    return parser
