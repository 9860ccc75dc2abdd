"""What each `packline` command does, given its parsed arguments; returns its exit code.

`run` and `resume` drive a run in this process (progress to the terminal, a JSON-lines stream
or nothing; the operator at `console.py`); `pause`, `terminate`, `abort` and `clear-tool`
post an order to a run another process drives; `disposition` records a decision for a held
wafer; `runs`, `show`, `methods`, `claims`, `recipe`, `validate`, `wafer` and `station check`
read (printed by `render.py`); `export`, `report` and `tools` read a run's records as tables
(`packline.records`): its files, its HTML report, its tool time; `sim serve` serves the
simulated line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from packline.clock import ScaledClock, WallClock
from packline.records import open_records
from packline.records.export import export_run
from packline.records.report import write_report
from packline.records.tooltime import bottleneck, tool_time
from packline.sequences.engine import (
    BadInput,
    Decision,
    JsonLines,
    LiveView,
    Observer,
    PlainLog,
    RunRequest,
    RunStore,
    all_methods,
    claim_coverage,
    default_db_path,
    driver_text,
    field_reference,
    get_method,
    is_live,
    open_resume,
    open_run,
    prepare,
    recipe_schema,
    recipe_template,
    record_disposition,
    run_report,
    shown_status,
    wafer_history,
)
from packline.sequences.engine.control import CLEAR_TOOL
from packline.station import StationError, load_station
from packline.station_check import check_station

from .console import OperatorConsole
from .render import (
    print_claim_check,
    print_claims,
    print_json,
    print_method,
    print_methods,
    print_run,
    print_runs,
    print_station_check,
    print_summary,
    print_tool_time,
    print_wafer,
    terminal,
)

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: The most runs `runs --status` looks through (the status shown is decided per run).
MAX_LISTED = 100_000


def _store(args: argparse.Namespace, *, create: bool = True) -> RunStore:
    return RunStore(args.db or default_db_path(), create=create)


def _answer(args: argparse.Namespace, data: Any, show: Callable[[Console], None]) -> int:
    """A reading command's answer: `data` as JSON with `--json`, else `show` on the terminal."""
    if args.json:
        print_json(data)
    else:
        show(terminal())
    return EXIT_OK


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
                print_json({"run_id": run_id, "requested": "resume", "pid": run["pid"]})
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
    console = terminal()
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
    operator = OperatorConsole(console, interactive=interactive, confirmed_by=args.confirmed_by)
    async with opener(observers, operator.confirm_fn()) as engine:
        if view is not None:
            view.title = f"{engine.method.name}  run {engine.run_id}"
        with operator.attached(engine), view or contextlib.nullcontext():
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


# --------------------------------------------------------------------------------- control


def _driven_run(store: RunStore, ref: str, otherwise: str) -> str:
    """The id of run `ref`, which a live process must be driving; else BadInput saying so
    and what that means (`otherwise`)."""
    run_id = store.resolve_run(ref)
    if not is_live(store, run_id):
        raise BadInput(
            f"run {run_id} is not being driven by any process "
            f"(status {shown_status(store.run(run_id))}); {otherwise}"
        )
    return run_id


def cmd_clear_tool(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        run_id = _driven_run(store, args.run, "its tools are recovered when it is resumed")
        tools = yaml.safe_load(store.run(run_id)["station_yaml"])["tools"]
        if args.tool not in tools:
            raise BadInput(f"run {run_id} has no tool {args.tool!r}; its tools: {', '.join(tools)}")
        store.post_control(
            run_id, CLEAR_TOOL + json.dumps({"tool": args.tool, "by": args.by}), time.time()
        )
    finally:
        store.close()
    if args.json:
        print_json({"run_id": run_id, "requested": "clear-tool", "tool": args.tool})
    else:
        print(
            f"clear-tool {args.tool} requested for run {run_id} by {args.by}; the run records "
            f"it as a tool-cleared event (packline show {run_id})"
        )
    return EXIT_OK


def cmd_control(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        run_id = _driven_run(store, args.run, f"nothing to {args.control}")
        store.post_control(run_id, args.control, time.time())
    finally:
        store.close()
    if args.json:
        print_json({"run_id": run_id, "requested": args.control})
    else:
        print(f"{args.control} requested for run {run_id}")
    return EXIT_OK


# --------------------------------------------------------------------------------- reading


def cmd_runs(args: argparse.Namespace) -> int:
    runs: list[dict[str, Any]] = []
    if Path(args.db or default_db_path()).exists():  # no database yet: no runs, none created
        store = _store(args, create=False)
        try:
            found = store.runs(
                args.limit if args.status is None else MAX_LISTED,
                method=args.method,
                recipe=args.recipe,
                wafer=args.wafer,
                since_wall=args.since,
            )
            runs = [{**run, "status": shown_status(run)} for run in found]
            if args.status is not None:
                runs = [run for run in runs if run["status"] == args.status][: args.limit]
        finally:
            store.close()
    title = f"runs in {args.db or default_db_path()}"
    return _answer(args, runs, lambda console: print_runs(console, runs, title=title))


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        report = run_report(store, store.resolve_run(args.run))
    finally:
        store.close()
    return _answer(args, report, lambda console: print_run(console, report, store.path))


def cmd_export(args: argparse.Namespace) -> int:
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


def cmd_wafer(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        history = wafer_history(store, args.wafer_id)
    finally:
        store.close()
    if not history:
        raise BadInput(f"wafer {args.wafer_id!r}: in no run of {store.path}")
    return _answer(args, history, lambda console: print_wafer(console, args.wafer_id, history))


def cmd_disposition(args: argparse.Namespace) -> int:
    store = _store(args, create=False)
    try:
        row = record_disposition(
            store, args.run, args.wafer_id, Decision(args.decision), args.by, args.reason
        )
    finally:
        store.close()
    if args.json:
        print_json(row)
    elif row["decision"] == Decision.SCRAP:
        print(f"wafer {row['wafer_id']} of run {row['run_id']} scrapped by {row['by']}")
    else:
        print(
            f"wafer {row['wafer_id']} of run {row['run_id']}: {row['decision']} by {row['by']}; "
            f"`packline resume {row['run_id']}` carries it out"
        )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
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
    with open_records(args.run, args.db) as records:
        times = tool_time(records)
    rows = json.loads(times.to_json(orient="records"))
    neck = bottleneck(times)
    return _answer(
        args,
        {"run_id": records.run_id, "bottleneck": neck, "tools": rows},
        lambda console: print_tool_time(
            console, rows, neck, title=f"tool time, run {records.run_id}"
        ),
    )


def cmd_methods(args: argparse.Namespace) -> int:
    if args.method is not None:
        method = get_method(args.method)
        detail = {
            "name": method.name,
            "title": method.title,
            "tools": list(method.tools),
            "recipe": field_reference(method),
            "claims": [{"claim": c, "where": w} for c, w in method.claim_map.items()],
        }
        return _answer(args, detail, lambda console: print_method(console, detail))
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
    return _answer(args, methods, lambda console: print_methods(console, methods))


def cmd_recipe_template(args: argparse.Namespace) -> int:
    text = recipe_template(get_method(args.method))
    if args.to_path is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with args.to_path.open("x", encoding="utf-8") as out:  # never over a user's file
            out.write(text)
    except OSError as error:
        raise BadInput(f"--to {args.to_path}: {error.strerror or error}") from None
    print(f"wrote {args.to_path}")
    return EXIT_OK


def cmd_recipe_schema(args: argparse.Namespace) -> int:
    print(json.dumps(recipe_schema(get_method(args.method)), indent=2))
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
    return _answer(args, coverage, lambda console: print_claims(console, coverage))


def cmd_station_check(args: argparse.Namespace) -> int:
    """Exit 0 when every tool is ready for a lot, 1 when one is not (unreachable, not idle,
    alarmed), 2 for a station file that cannot be read."""
    try:
        station = load_station(args.station_file)
    except StationError as error:
        raise BadInput(str(error)) from None
    checks = asyncio.run(check_station(station, args.timeout_s))
    if args.json:
        print_json([{**asdict(c), "ready": c.ready, "problems": c.problems()} for c in checks])
    else:
        print_station_check(terminal(), station.name, checks)
    return EXIT_OK if all(c.ready for c in checks) else EXIT_RUN_FAILED


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
        print_json(result)
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
                line = await stack.enter_async_context(
                    SimulatedLine(clock, host=args.host, gem=args.gem)
                )
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
