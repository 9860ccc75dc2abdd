"""The `packline` command line.

    packline run METHOD --sim | --station FILE [--recipe FILE] [--lot N | --wafers ID,...]
    packline resume RUN [--station FILE]   continue a stopped run, or resume a paused live one
    packline pause|terminate|abort RUN
    packline runs | show RUN | methods | claims | validate METHOD [--recipe FILE]
    packline sim serve [--host 127.0.0.1] [--station-out FILE]

Every command but `sim serve` takes `--db PATH` (default: `$PACKLINE_DB`, else runs.db in the
data dir) and `--json` for machines. Exit codes: 0 success (every wafer completed
and, in a dry run, the product meets every claim condition), 1 the run did not complete every
wafer (held, terminated, aborted, failed), its product violates a claim condition, or a tool
failed outside a run, 2 bad input (nothing was touched).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from packline.clock import ScaledClock, WallClock
from packline.drivers.errors import PacklineError
from packline.drivers.links import wire_log_to
from packline.rendering import DataTable
from packline.sequences.engine import (
    BadInput,
    Engine,
    JsonLines,
    LiveView,
    Observer,
    PlainLog,
    RunRequest,
    RunStore,
    all_methods,
    before_after,
    claim_coverage,
    default_db_path,
    driver_text,
    get_method,
    is_live,
    open_resume,
    open_run,
    prepare,
    run_report,
    shown_status,
)
from packline.sequences.engine.control import CLEAR_TOOL
from packline.sequences.engine.progress import clock_text
from packline.station import StationError

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: How long an operator has to answer a confirmation on real tools (wall seconds).
CONFIRM_TIMEOUT_S = 3600.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    wire_log = getattr(args, "wire_log", None)
    try:
        with contextlib.ExitStack() as stack:
            if wire_log:
                try:
                    stack.enter_context(wire_log_to(wire_log))
                except OSError as error:
                    raise BadInput(
                        f"--wire-log {wire_log}: cannot write to it ({error.strerror})"
                    ) from None
            return args.handler(args)
    except (BadInput, StationError) as error:
        print(f"packline: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PacklineError as error:  # a tool or the line failed outside a run: not bad input
        print(f"packline: error: {error}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except BrokenPipeError:  # the reader went away (`| head`): the run itself is recorded
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_RUN_FAILED


def person(text: str) -> str:
    """A person's name as records keep it (who confirmed, who cleared): printable, not blank."""
    name = text.strip()
    if not name or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a name (printable, not blank)")
    return name


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=Path,
        default=None,
        help="run database (default: $PACKLINE_DB or runs.db in the data dir)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
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
    run.add_argument("--operator", type=person, default=None)
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
    runs.add_argument("--limit", type=at_least_one, default=50)
    runs.set_defaults(handler=cmd_runs)

    show = commands.add_parser("show", parents=[common], help="show one run")
    show.add_argument("run", help="run id, a unique prefix of one, or 'last'")
    show.set_defaults(handler=cmd_show)

    methods = commands.add_parser("methods", parents=[common], help="list the methods")
    methods.set_defaults(handler=cmd_methods)

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


def _store(args: argparse.Namespace, *, create: bool = True) -> RunStore:
    return RunStore(args.db or default_db_path(), create=create)


def _console() -> Console:
    """The terminal, or (piped to a file or a program) a console wide enough not to wrap ids."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


# --------------------------------------------------------------------------------- run / resume


def cmd_run(args: argparse.Namespace) -> int:
    request = RunRequest(
        args.method,
        simulated=args.sim,
        station_path=args.station,
        recipe_path=args.recipe,
        lot=args.lot,
        failure_policy=args.failure_policy,
        wafer_ids=args.wafers,
    )
    if args.operator:
        request.operator = args.operator
    prepared = prepare(request)
    store = _store(args)
    try:
        return asyncio.run(
            _drive(
                args,
                store,
                lambda obs, confirm: open_run(store, prepared, observers=obs, confirm=confirm),
            )
        )
    finally:
        store.close()


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue a run nobody drives; a paused run another process drives is told to go on,
    and a running one is refused, naming the process that drives it."""
    store = _store(args, create=False)
    try:
        run_id = store.resolve_run(args.run)
        if is_live(store, run_id):
            run = store.run(run_id)
            if run["status"] != "paused":
                raise BadInput(
                    f"run {run_id} is already being driven by {driver_text(run)} (status "
                    f"{run['status']}); nothing to resume (`packline pause|terminate|abort "
                    f"{run_id}` controls it)"
                )
            store.post_control(run_id, "resume", time.time())
            if args.json:
                _print_json({"run_id": run_id, "requested": "resume", "pid": run["pid"]})
            else:
                print(f"resume requested for run {run_id}, paused in {driver_text(run)}")
            return EXIT_OK
        return asyncio.run(
            _drive(
                args,
                store,
                lambda obs, confirm: open_resume(
                    store, run_id, station_path=args.station, observers=obs, confirm=confirm
                ),
            )
        )
    finally:
        store.close()


async def _drive(args: argparse.Namespace, store: RunStore, opener: Callable[..., Any]) -> int:
    console = _console()
    interactive = sys.stdin.isatty() and not args.json
    observers: list[Observer] = []
    view: LiveView | None = None
    if args.json:
        observers.append(JsonLines(sys.stdout))
    elif not args.quiet:
        if console.is_terminal:
            view = LiveView(console)
            observers.append(view)
        else:
            observers.append(PlainLog(console))
    lines = _StdinLines() if interactive and not args.confirmed_by else None
    async with opener(observers, _confirm_with(console, lines, args.confirmed_by)) as engine:
        if view is not None:
            view.title = f"{engine.method.name}  run {engine.run_id}"
        with _signals(engine, console, lines), view or contextlib.nullcontext():
            status = await engine.run()
    report = run_report(store, engine.run_id)
    if args.json:
        print(
            json.dumps(
                {
                    "kind": "summary",
                    "status": status,
                    "run_id": engine.run_id,
                    "wafers": report["wafers"],
                    "duration_s": report["duration_s"],
                    "error": report["run"]["error"],
                    "claim_check": report["claim_check"],
                },
                default=str,
            )
        )
    else:
        print_summary(console, report, store.path)
        print_claim_check(console, report["claim_check"])
    violated = report["claim_check"]["status"] == "failed"
    return EXIT_OK if status == "completed" and not violated else EXIT_RUN_FAILED


class _StdinLines:
    """Lines typed by the operator, read without blocking the event loop."""

    def __init__(self) -> None:
        self.waiter: asyncio.Future[str] | None = None
        self.on_line: Callable[[str], None] | None = None
        self.closed = False
        # one question at a time: two wafers asking at once must not steal each other's answer
        self._asking = asyncio.Lock()

    def feed(self) -> None:
        raw = sys.stdin.readline()
        if not raw:  # end of input: stop watching stdin (it would stay readable forever)
            self.closed = True
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(EOFError("no more operator input"))
            return
        line = raw.strip().lower()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(line)
        elif self.on_line is not None:
            self.on_line(line)

    async def ask(self, console: Console, prompt: str) -> str:
        """The operator's answer to `prompt`; TimeoutError after CONFIRM_TIMEOUT_S (the wait
        for a turn included), EOFError once stdin has ended."""
        async with asyncio.timeout(CONFIRM_TIMEOUT_S), self._asking:
            if self.closed:
                raise EOFError("no more operator input")
            console.print(prompt, markup=False)
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                return await self.waiter
            finally:
                self.waiter = None


def _confirm_with(
    console: Console, lines: _StdinLines | None, confirmed_by: str | None
) -> Callable[..., Any] | None:
    """Operator confirmations on real tools: given in advance (`--confirmed-by`), asked on the
    terminal, or (no terminal) declined."""
    if confirmed_by:

        async def confirm_in_advance(wafers: str, prompt: str) -> tuple[bool, str]:
            return True, f"{confirmed_by} (in advance, --confirmed-by)"

        return confirm_in_advance
    if lines is None:
        return None

    async def confirm(wafers: str, prompt: str) -> tuple[bool, str]:
        try:
            answer = await lines.ask(console, f"[{wafers}] confirm: {prompt} [y/N]")
        except TimeoutError:
            return False, "no answer"
        except EOFError:
            return False, "no operator"
        return answer in ("y", "yes"), "operator"

    return confirm


@contextlib.contextmanager
def _signals(engine: Engine, console: Console, lines: _StdinLines | None) -> Iterator[None]:
    """Ctrl-C once: pause and ask (non-interactive: terminate); twice: terminate; thrice: abort.
    SIGTERM: terminate."""
    loop = asyncio.get_running_loop()
    presses = 0

    def on_line(line: str) -> None:
        command = {"c": "resume", "r": "resume", "t": "terminate", "a": "abort"}.get(line[:1])
        if command:
            engine.request(command, f"{command} by the operator")

    def on_sigint() -> None:
        nonlocal presses
        presses += 1
        if presses == 1 and lines is not None:
            engine.request("pause", "Ctrl-C")
            console.print(
                "paused at step boundaries: [c]ontinue, [t]erminate, [a]bort "
                "(Enter); Ctrl-C again terminates",
                markup=False,
            )
        elif presses <= 2:
            engine.request("terminate", "Ctrl-C")
        else:
            engine.request("abort", "Ctrl-C three times")

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    loop.add_signal_handler(signal.SIGTERM, engine.request, "terminate", "SIGTERM")
    if lines is not None:
        lines.on_line = on_line
        loop.add_reader(sys.stdin.fileno(), lines.feed)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
        if lines is not None and not lines.closed:
            loop.remove_reader(sys.stdin.fileno())


def print_summary(console: Console, report: dict[str, Any], db: Path) -> None:
    """Per wafer: outcome, time on the line, and the twin's before/after metrics (dry run)."""
    run = report["run"]
    metrics = sorted({name for w in report["wafers"] for name in before_after(w)})
    table = DataTable(
        "wafer",
        "status",
        "time on line",
        *[f"{m} before → after" for m in metrics],
        "reason",
        title=f"{run['method']}  run {run['id']}  {run['status']}",
    )
    for wafer in report["wafers"]:
        pairs = before_after(wafer)
        cells = []
        for name in metrics:
            before, after, unit = pairs.get(name, (None, None, ""))
            cells.append(
                "-"
                if before is None
                else f"{before:.2f} → {'-' if after is None else f'{after:.2f}'} {unit}"
            )
        table.add_row(
            wafer["wafer"],
            wafer["status"],
            clock_text(wafer["cycle_time_s"]),
            *cells,
            wafer["reason"] or "",
        )
    console.print(table)
    if run["error"]:
        console.print(f"error: {run['error']}", markup=False, highlight=False)
    clock = "simulated" if run["simulated"] else "process"
    wall = None if run["stopped_wall"] is None else run["stopped_wall"] - run["started_wall"]
    console.print(
        f"{clock} time {clock_text(report['duration_s'])}, wall {wall or 0:.1f} s; "
        f"records in {db} (packline show {run['id']})",
        markup=False,
        highlight=False,
    )


def print_claim_check(console: Console, check: dict[str, Any]) -> None:
    """The claim check of the product: one row per condition, then the verdict (a violation
    names its claims); on real tools one line saying the sequence's measurements check it."""
    if check["status"] in ("measured", "not run"):
        console.print(f"claim check: {check['note']}", markup=False, highlight=False)
        return
    table = DataTable(
        "claim",
        "condition",
        "checked",
        "passing",
        "verdict",
        title="claim check of the simulated product",
    )
    for c in check["conditions"]:
        table.add_row(
            c["claim"],
            c["condition"],
            f"{c['sites_checked']:,}",
            f"{c['sites_passing']:,}",
            c["verdict"] if c["verdict"] != "fail" else f"FAIL ({', '.join(c['failing_wafers'])})",
        )
    console.print(table)
    if check["unchecked_wafers"]:
        console.print(
            f"not checked (did not complete): {', '.join(check['unchecked_wafers'])}",
            markup=False,
            highlight=False,
        )
    verdict = check["status"].upper() if check["status"] == "failed" else check["status"]
    tail = f": {check['note']}" if check["note"] else ""
    console.print(f"claim check {verdict}{tail}", markup=False, highlight=False)


# --------------------------------------------------------------------------------- control


def cmd_clear_tool(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        run_id = store.resolve_run(args.run)
        if not is_live(store, run_id):
            raise BadInput(
                f"run {run_id} is not being driven by any process "
                f"(status {shown_status(store.run(run_id))}); its tools are recovered when it "
                "is resumed"
            )
        tools = yaml.safe_load(store.run(run_id)["station_yaml"])["tools"]
        if args.tool not in tools:
            raise BadInput(f"run {run_id} has no tool {args.tool!r}; its tools: {', '.join(tools)}")
        store.post_control(
            run_id, CLEAR_TOOL + json.dumps({"tool": args.tool, "by": args.by}), time.time()
        )
    finally:
        store.close()
    if args.json:
        _print_json({"run_id": run_id, "requested": "clear-tool", "tool": args.tool})
    else:
        print(
            f"clear-tool {args.tool} requested for run {run_id} by {args.by}; the run records "
            f"it as a tool-cleared event (packline show {run_id})"
        )
    return EXIT_OK


def cmd_control(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        run_id = store.resolve_run(args.run)
        if not is_live(store, run_id):
            raise BadInput(
                f"run {run_id} is not being driven by any process "
                f"(status {shown_status(store.run(run_id))}); nothing to {args.control}"
            )
        store.post_control(run_id, args.control, time.time())
    finally:
        store.close()
    if args.json:
        _print_json({"run_id": run_id, "requested": args.control})
    else:
        print(f"{args.control} requested for run {run_id}")
    return EXIT_OK


# --------------------------------------------------------------------------------- reading


def cmd_runs(args: argparse.Namespace) -> int:
    runs: list[dict[str, Any]] = []
    if Path(args.db or default_db_path()).exists():  # no database yet: no runs, none created
        store = _store(args, create=False)
        try:
            runs = [{**run, "status": shown_status(run)} for run in store.runs(args.limit)]
        finally:
            store.close()
    if args.json:
        _print_json(runs)
        return EXIT_OK
    table = DataTable(
        "run",
        "method",
        "status",
        "wafers",
        "completed",
        "held",
        "sim",
        "operator",
        "started",
        "run clock",
        title=f"runs in {args.db or default_db_path()}",
    )
    for run in runs:
        duration = None if run["stopped_t"] is None else run["stopped_t"] - run["started_t"]
        table.add_row(
            run["id"],
            run["method"],
            run["status"],
            str(run["lot_size"]),
            str(run["completed"]),
            str(run["held"]),
            "yes" if run["simulated"] else "no",
            run["operator"],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["started_wall"])),
            clock_text(duration),
        )
    _console().print(table)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        report = run_report(store, store.resolve_run(args.run))
    finally:
        store.close()
    if args.json:
        _print_json(report)
        return EXIT_OK
    console = _console()
    run = report["run"]
    console.print(
        f"run {run['id']}: {run['method']} on {run['station_name']}"
        f"{' (simulated)' if run['simulated'] else ''}, operator {run['operator']}, "
        f"{run['lot_size']} wafers, policy {run['failure_policy']}, status {run['status']}, "
        f"{run['sessions']} session(s)",
        markup=False,
        highlight=False,
    )
    console.print(f"recipe {run['recipe_source']} sha256 {run['recipe_hash']}", markup=False)
    print_summary(console, report, store.path)
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
    return EXIT_OK


def cmd_methods(args: argparse.Namespace) -> int:
    methods = [
        {
            "name": m.name,
            "title": m.title,
            "claims": list(m.claims),
            "tools": list(m.tools),
            "irreversible": sorted(m.irreversible),
            "failure_policy": m.failure_policy.value,
            "options": m.options(),
        }
        for m in all_methods()
    ]
    if args.json:
        _print_json(methods)
        return EXIT_OK
    table = DataTable(
        "name",
        "title",
        "claims",
        "tools",
        "options",
        title="methods",
    )
    for m in methods:
        table.add_row(
            m["name"],
            m["title"],
            ", ".join(m["claims"]),
            ", ".join(m["tools"]),
            ", ".join(f"{k}={v}" for k, v in m["options"].items()),
        )
    _console().print(table)
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    coverage = [
        {
            "claim": c.claim.id,
            "kind": c.claim.kind.value,
            "summary": c.claim.summary,
            "implemented_by": [{"method": m, "where": where} for m, where in c.implemented_by],
        }
        for c in claim_coverage()
    ]
    if args.json:
        _print_json(coverage)
        return EXIT_OK
    table = DataTable(
        "claim",
        "kind",
        "summary",
        "method",
        "implemented by",
        title="claims and what implements them",
    )
    for c in coverage:
        table.add_row(
            c["claim"],
            c["kind"],
            c["summary"],
            "\n".join(i["method"] for i in c["implemented_by"]) or "-",
            "\n".join(i["where"] for i in c["implemented_by"]) or "not yet implemented",
        )
    _console().print(table)
    done = sum(1 for c in coverage if c["implemented_by"])
    print(f"{done} of {len(coverage)} claims implemented")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    method = get_method(args.method)
    prepared = prepare(
        RunRequest(
            method.name,
            simulated=args.station is None,
            station_path=args.station,
            recipe_path=args.recipe,
        )
    )
    result = {
        "ok": True,
        "method": method.name,
        "recipe_source": prepared.recipe_source,
        "recipe_hash": prepared.recipe.recipe_hash(),
        "recipe": prepared.recipe.model_dump(mode="json"),
        "station": prepared.station.name if prepared.station else None,
        "tool_setpoints_checked": len(prepared.recipe.tool_setpoints()),
    }
    if args.json:
        _print_json(result)
    else:
        where = (
            f"station {result['station']} has every tool the method needs; "
            f"{result['tool_setpoints_checked']} tool setpoint(s) within its tools' limits"
            if result["station"]
            else f"{result['tool_setpoints_checked']} tool setpoint(s) within the drivers' limits"
        )
        print(
            f"{method.name}: {prepared.recipe_source} is valid "
            f"(sha256 {result['recipe_hash']}); {where}"
        )
    return EXIT_OK


# --------------------------------------------------------------------------------- sim serve


def cmd_sim_serve(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from packline.sim_instruments.line import SimulatedLine

    try:
        clock = ScaledClock(args.time_scale) if args.time_scale != 1.0 else WallClock()
    except ValueError as error:
        raise BadInput(f"--time-scale {args.time_scale}: {error}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if ":" in args.host:
                raise BadInput(f"--host {args.host}: the simulated line serves IPv4 addresses")
            try:
                await loop.getaddrinfo(args.host, None)
                line = await stack.enter_async_context(SimulatedLine(clock, host=args.host))
            except (OSError, RuntimeError) as error:  # pymodbus: RuntimeError, cannot listen
                reason = getattr(error, "strerror", None) or error
                raise BadInput(f"--host {args.host}: cannot serve on it ({reason})") from None
            text = line.station.to_yaml()
            if args.station_out:
                try:
                    args.station_out.write_text(text, encoding="utf-8")
                except OSError as error:
                    raise BadInput(
                        f"--station-out {args.station_out}: cannot write it ({error.strerror})"
                    ) from None
            pace = "wall clock" if args.time_scale == 1.0 else f"time x{args.time_scale:g}"
            print(f"# packline simulated line ({pace}); stop with Ctrl-C\n{text}", flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.duration_s)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return EXIT_OK
