"""`run` and `resume`: drive a run in this process, with its progress on the terminal, as a
JSON-lines stream or not at all, and the operator at the terminal (`console.py`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packline.drivers.registry import gem_face_kinds
from packline.heap import frozen_heap
from packline.json_text import json_text
from packline.sequences.engine import (
    BadInput,
    JsonLines,
    LiveView,
    Method,
    Observer,
    PlainLog,
    Recipe,
    RunRequest,
    RunStore,
    driver_text,
    get_method,
    is_alive,
    open_resume,
    open_run,
    prepare,
)
from packline.sequences.engine.control import Order
from packline.sequences.engine.errors import RunRefused
from packline.sequences.engine.launch import recorded_recipe, what_held_wafers_need
from packline.sequences.engine.records import db_option

from .console import OperatorConsole
from .faults import FaultInjector, read_faults, simulated_tools, unknown_tool_problem
from .output import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    RUN_EXIT_CODES,
    db_path,
    open_store,
    print_json,
    terminal,
)
from .parser import add_by, add_common, add_method, add_run_ref, ordered_by, person
from .sim_options import SimOptions, read_sim_options
from .summary import (
    advised_for_database,
    print_claim_check,
    print_summary,
    shown_run_status,
    summary_report,
)

if TYPE_CHECKING:
    from packline.sequences.engine.schedule import NoOutline, RecipeOutline


def cmd_run(args: argparse.Namespace) -> int:
    """`packline run`: a new run, driven here. Refused before it is recorded (bad input: its
    recipe, a station limit, its station file, its options, its tools held by another run),
    it says after why that nothing was run and nothing was recorded (`RunRefused`), as a
    refusal once its tools are connected (`RunNotStarted`) does."""
    created = not db_path(args).exists()
    try:
        return _run(args)
    except BadInput as error:
        raise RunRefused(error, "run") from None
    finally:
        if created:
            _remove_if_unused(db_path(args))


def _remove_if_unused(db: Path) -> None:
    """Remove run database `db`, which this command created, if it holds no run (the run was
    refused before it was recorded, `RunRefused`, or as its tools connected, `RunNotStarted`),
    with its write-ahead log: a refused run changes nothing, and a mistyped `--db` leaves no
    stray database behind. One another process wrote to meanwhile is kept."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as records:
            written = records.execute(
                "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM control)"
            ).fetchone()[0]
    except sqlite3.Error:  # none was made (refused first), or not one of ours: left alone
        return
    if not written:
        for path in (db, db.with_name(f"{db.name}-wal"), db.with_name(f"{db.name}-shm")):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _wire_log(args: argparse.Namespace) -> Iterator[None]:
    """Every exchange with every tool appended to `--wire-log`'s file, if given, while the
    run or resume is driven (opened once it is no longer refused for its input, so a refused
    one leaves no file); BadInput for a file that cannot be written."""
    with contextlib.ExitStack() as stack:
        if args.wire_log is not None:
            from packline.drivers.links import wire_log_to

            try:
                stack.enter_context(wire_log_to(args.wire_log))
            except OSError as error:
                raise BadInput(
                    f"--wire-log {args.wire_log}: cannot write to it ({error.strerror})"
                ) from None
        yield


def _run(args: argparse.Namespace) -> int:
    request = RunRequest(
        args.method,
        simulated=args.sim,
        station_path=args.station,
        recipe_path=args.recipe,
        lot=args.lot,
        failure_policy=args.failure_policy,
        wafer_ids=args.wafers,
        gem=args.gem,
        lot_id=args.lot_id,
        lot_file=args.lot_file,
    )
    if args.operator:
        request.operator = args.operator
    prepared = prepare(request)
    # the method and recipe the `--fault` check and the confirmations' are made against
    recipe = (
        prepared.method,
        lambda: prepared.recipe,
        prepared.recipe_text,
        prepared.recipe.recipe_hash(),
    )
    injector = _injector(args, *recipe, simulated=args.sim)
    sim_options = _sim_options(args, prepared.method, lambda: prepared.recipe, simulated=args.sim)
    _refuse_unanswerable(args, *recipe, simulated=args.sim)
    with _wire_log(args):  # before the records: a log it cannot write is refused first
        store = open_store(args)
        try:
            return asyncio.run(
                _drive(
                    args,
                    store,
                    lambda observers, confirm, line_ready: open_run(
                        store,
                        prepared,
                        observers=observers,
                        confirm=confirm,
                        line_ready=line_ready,
                        confirmed_by=args.confirmed_by,
                        sim_options=sim_options,
                    ),
                    injector,
                )
            )
        finally:
            store.close()


def _interactive(args: argparse.Namespace) -> bool:
    """Whether the operator can answer at this run's terminal: stdin is one, and the output
    is for people (`--json`'s is for a program, which answers nothing)."""
    return sys.stdin.isatty() and not args.json


def _recipe_outline(
    args: argparse.Namespace,
    method: Method,
    recipe: Callable[[], Recipe],
    recipe_text: str,
    recipe_hash: str,
    checking: str,
) -> RecipeOutline | NoOutline:
    """What a run of `method` on this recipe does (`schedule.recipe_outline`), read from a
    run of it in the run database, else from a plan of it made now, of the least lot the
    `recipe` makes (`request.least_lot`: one wafer, a whole stack of stacked devices), which a
    line on stderr says it is `checking` as it starts, naming the file the plan is kept in
    (the plan takes seconds; nothing else is said meanwhile; a user had found the file and
    not known it)."""
    from packline.sequences.engine.request import least_lot
    from packline.sequences.engine.schedule import (
        PLAN_WAIT_S,
        plan_name,
        plans_path,
        recipe_outline,
    )

    db = db_path(args)
    lot = least_lot(recipe())
    wafers = "one wafer" if lot == 1 else f"{lot} wafers, the least lot the recipe makes"

    def planning() -> None:
        print(
            f"packline: checking {checking} against a {plan_name(lot)} of the recipe (a dry "
            f"run of {wafers}, kept for the next runs in {plans_path(db).name} beside the run "
            f"database: a cache, safe to delete; up to {PLAN_WAIT_S:g} s) ...",
            file=sys.stderr,
            flush=True,
        )

    return recipe_outline(
        db,
        method.name,
        recipe_text,
        recipe_hash,
        method.renamed_steps,
        plan_lot=lot,
        planning=planning,
    )


def _refuse_unanswerable(
    args: argparse.Namespace,
    method: Method,
    recipe: Callable[[], Recipe],
    recipe_text: str,
    recipe_hash: str,
    *,
    simulated: bool,
) -> None:
    """Refuse a run, or a resume, on real tools that nobody can answer at (no terminal, or
    `--json`, and no `--confirmed-by`) when the steps of its recipe ask the operator to confirm
    (as a run of it asked, `_recipe_outline`): every wafer would be held at the first
    confirmation, after the tools had loaded it. BadInput, before anything is touched, saying
    how to answer; where the confirmations cannot be read, a warning says so and the run goes
    on."""
    from packline.sequences.engine.schedule import NoOutline

    if simulated or args.confirmed_by or _interactive(args):  # a dry run answers itself
        return
    nobody = "stdin is no terminal" if not sys.stdin.isatty() else "--json's output is a program's"
    checking = "whether the steps ask an operator's confirmation"
    outline = _recipe_outline(args, method, recipe, recipe_text, recipe_hash, checking)
    if isinstance(outline, NoOutline):
        print(
            f"packline: warning: whether the steps of {method.name} on this recipe ask an "
            f"operator's confirmation is not known (no run of it completed its wafers, nor "
            f"{outline.why}); nobody can answer one here ({nobody}, and no --confirmed-by "
            "NAME): its wafers would be held at it",
            file=sys.stderr,
        )
    elif outline.confirmations:
        raise BadInput(
            f"the steps of {method.name} on this recipe ask the operator to confirm (a run of "
            f"it asked {outline.confirmations[0]!r}) and nobody can answer here ({nobody}, "
            "and no --confirmed-by NAME): every wafer would be held at the first confirmation; "
            "give --confirmed-by NAME (who answers them yes in advance, recorded with each) or "
            "run it at a terminal"
        )


def _injector(
    args: argparse.Namespace,
    method: Method,
    recipe: Callable[[], Recipe],
    recipe_text: str,
    recipe_hash: str,
    *,
    simulated: bool,
) -> FaultInjector | None:
    """The `--fault` options' injector (None without any), refused unless the run is a dry
    run, or when a fault names a tool, fault or step the dry run of `method` on this recipe
    does not have (its line serves the tools of the `roles` the recipe drives) or never uses
    (its tools and steps read from a run of the recipe, or a plan of it made now)."""
    if not args.faults:
        return None
    if not simulated:
        raise BadInput(
            "--fault: faults are injected into a dry run's simulated tools (--sim); on a line "
            "`packline sim serve` serves, inject one from another terminal with `packline sim "
            "fault TOOL FAULT --station FILE` while the run drives it"
        )
    outline = partial(_recipe_outline, args, method, recipe, recipe_text, recipe_hash, "--fault")
    return FaultInjector(read_faults(args.faults, method, method.tools_for(recipe()), outline))


def _sim_options(
    args: argparse.Namespace, method: Method, recipe: Callable[[], Recipe], *, simulated: bool
) -> SimOptions:
    """The `--sim-option` options (none without any), refused unless the run is a dry run, or
    when one names a tool the dry run of `method` on this recipe does not have, or an option or
    value its simulated tool does not take (`read_sim_options`)."""
    if not args.sim_options:
        return {}
    if not simulated:
        raise BadInput(
            "--sim-option: sets an option of a dry run's simulated tool (--sim); a station's "
            "tools are as they are"
        )
    roles = method.tools_for(recipe())
    simulators = simulated_tools(method)
    return read_sim_options(
        args.sim_options,
        {role: simulators[role] for role in roles},
        partial(unknown_tool_problem, method=method, roles=roles),
    )


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue a run nobody drives; a paused run another process drives is told to go on,
    and a running one is refused, naming the process that drives it. Either is done in the
    name of `--by` (default: the login name). Refused before a session starts, it says so as
    a run's refusal does (`cmd_run`)."""
    try:
        return _resume(args)
    except BadInput as error:
        raise RunRefused(error, "resume") from None


def _resume(args: argparse.Namespace) -> int:
    args.by = ordered_by(args)
    store = open_store(args, create=False)
    try:
        run_id = store.resolve_run(args.run)
        run = store.run(run_id)
        if is_alive(run):
            if run["status"] != "paused":
                raise BadInput(
                    f"run {run_id} is already being driven by {driver_text(run)} (status "
                    f"{run['status']}); nothing to resume (`packline pause|terminate|abort "
                    f"{run_id}` controls it)"
                )
            given = [
                option
                for option, value in (
                    ("--station", args.station),
                    ("--fault", args.faults),
                    ("--sim-option", args.sim_options),
                )
                if value
            ]
            if given:
                raise BadInput(
                    f"run {run_id} is paused in {driver_text(run)}, which goes on driving it "
                    f"on its own line: {', '.join(given)} would be ignored (they set up the "
                    f"line of a resume that starts a session); `packline resume {run_id}` "
                    "without them tells it to go on"
                )
            store.post_control(run_id, Order("resume", by=args.by).text(), time.time())
            if args.json:
                print_json(
                    {"run_id": run_id, "requested": "resume", "by": args.by, "pid": run["pid"]}
                )
            else:
                print(
                    f"resume requested for run {run_id} by {args.by}, paused in {driver_text(run)}"
                )
            return EXIT_OK
        if args.sim and not run["simulated"]:
            raise BadInput(
                f"--sim: run {run_id} drove the tools of station {run['station_name']}, not a "
                "simulated line; resume it without --sim (--station FILE for new addresses)"
            )
        method = get_method(run["method"])
        recipe = partial(recorded_recipe, store, method, run)
        injector = _injector(
            args,
            method,
            recipe,
            run["recipe_text"],
            run["recipe_hash"],
            simulated=run["simulated"],
        )
        sim_options = _sim_options(args, method, recipe, simulated=run["simulated"])
        unanswerable = partial(
            _refuse_unanswerable,
            args,
            method,
            recipe,
            run["recipe_text"],
            run["recipe_hash"],
            simulated=run["simulated"],
        )
        with _wire_log(args):
            return asyncio.run(
                _drive(
                    args,
                    store,
                    lambda observers, confirm, line_ready: open_resume(
                        store,
                        run_id,
                        station_path=args.station,
                        observers=observers,
                        confirm=confirm,
                        line_ready=line_ready,
                        refuse_uncleared=run["simulated"],
                        by=args.by,
                        before_driving=unanswerable,
                        confirmed_by=args.confirmed_by,
                        sim_options=sim_options,
                    ),
                    injector,
                )
            )
    finally:
        store.close()


async def _drive(
    args: argparse.Namespace,
    store: RunStore,
    opener: Callable[..., Any],
    injector: FaultInjector | None = None,
) -> int:
    """Open the run or resume (`opener(observers, confirm, line_ready)`), watched and answered
    as `args` say and with `injector`'s faults, if any; drive it; print its summary; its exit
    code. The faults that never fired are told whatever becomes of it."""
    try:
        return await _watched(args, store, opener, injector)
    finally:
        if injector is not None:
            injector.report_missed()


async def _watched(
    args: argparse.Namespace,
    store: RunStore,
    opener: Callable[..., Any],
    injector: FaultInjector | None,
) -> int:
    console = terminal()
    interactive = _interactive(args)
    observers: list[Observer] = []
    view: LiveView | None = None
    log: PlainLog | None = None
    if args.json:
        observers.append(JsonLines(sys.stdout))
    elif not args.quiet:
        if console.is_terminal:
            view = LiveView(console)
            observers.append(view)
        else:
            log = PlainLog(console)
            observers.append(log)
    operator = OperatorConsole(
        console, interactive=interactive, confirmed_by=args.confirmed_by, view=view
    )
    if injector is not None:
        observers.append(injector)
    line_ready = None if injector is None else injector.line_ready
    async with opener(observers, operator.confirm_fn(), line_ready) as engine:
        if injector is not None:
            injector.record = engine.emit  # the run's records say what it injected
        if view is not None:
            view.attach(engine)
        if log is not None:
            log.time_scale = engine.spec.station.time_scale
            log.db_option = db_option(store.path)
        # The started heap is left out of full collections while the run polls its tools.
        with operator.attached(engine), view or contextlib.nullcontext(), frozen_heap():
            status = await engine.run()
    report = summary_report(store, engine.run_id)
    advice = what_held_wafers_need(store, engine.run_id, args.confirmed_by)
    if args.json:
        print(
            json_text(
                {
                    "kind": "summary",
                    "status": status,
                    "status_text": shown_run_status(report),
                    "run_id": engine.run_id,
                    "wafers": advised_for_database(report["wafers"], db_option(store.path)),
                    "duration_s": report["duration_s"],
                    "error": report["run"]["error"],
                    "claim_check": report["claim_check"],
                    "left_on_tools": report["left_on_tools"],
                    "next": advice,
                },
                default=str,
            )
        )
    else:
        print_summary(console, report, store, resume_advised=bool(advice))
        print_claim_check(console, report["claim_check"])
        if advice:
            console.print(advice, markup=False, highlight=False, soft_wrap=True)
    violated = report["claim_check"]["status"] == "failed"
    # A run whose last held wafer was scrapped is `completed`, its lot short of that wafer.
    every_wafer_completed = all(wafer["status"] == "completed" for wafer in report["wafers"])
    return (
        EXIT_OK
        if status == "completed" and every_wafer_completed and not violated
        else EXIT_RUN_FAILED
    )


def _watch_arguments(parser: argparse.ArgumentParser) -> None:
    """How a run this process drives is watched and answered, and what it exits with."""
    parser.epilog = RUN_EXIT_CODES
    add_common(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    parser.add_argument(
        "--wire-log",
        type=Path,
        metavar="FILE",
        help="append every exchange with every tool to this file",
    )
    parser.add_argument(
        "--confirmed-by",
        type=person,
        metavar="NAME",
        help="NAME answers every operator confirmation yes in advance (unattended runs on real "
        "tools, e.g. hardware-in-the-loop CI); each is recorded with NAME. Without it, a run "
        "on real tools with no terminal whose steps ask a confirmation is refused",
    )


def _run_arguments(run: argparse.ArgumentParser) -> None:
    _watch_arguments(run)
    add_method(run, "the method to run")
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--sim", action="store_true", help="dry run on the in-process simulated line"
    )
    where.add_argument(
        "--station",
        type=Path,
        metavar="FILE",
        help="station file of real (or served simulated) tools",
    )
    run.add_argument(
        "--recipe",
        metavar="FILE|NAME",
        help="a recipe file, or a reference recipe's name (`packline methods METHOD` lists "
        "them; default: the method's shipped recipe)",
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
        help="the wafers' own (scribe) ids (1-16 printable characters each); the lot is as many",
    )
    lot.add_argument(
        "--lot-file",
        type=Path,
        metavar="FILE",
        help="a lot file (YAML: lot, wafers, optionally product and owner) naming the lot and "
        "its wafers' ids, instead of --lot-id and --wafers",
    )
    run.add_argument(
        "--lot-id",
        metavar="LOT",
        help="the lot id the wafers travel under (1-32 printable characters, no space), "
        "recorded with the run (`packline runs --lot LOT`)",
    )
    run.add_argument(
        "--operator",
        type=person,
        default=None,
        help="who runs the lot, recorded with the run (default: the login name, $USER)",
    )
    run.add_argument(
        "--failure-policy",
        choices=["hold", "pause", "stop"],
        default=None,
        help="what a failed step does to the rest of the lot: hold the wafer and go on, hold it "
        "and pause the run for an operator, or hold it and terminate the run (default: the "
        "method's)",
    )
    run.add_argument(
        "--gem",
        action="store_true",
        help="dry run only: serve the tools that have a GEM face "
        f"({', '.join(gem_face_kinds())}) as GEM equipment on HSMS, driven by the GEM host driver",
    )
    _dry_run_arguments(run)
    run.set_defaults(handler=cmd_run)


def _resume_arguments(resume: argparse.ArgumentParser) -> None:
    _watch_arguments(resume)
    add_run_ref(resume)
    where = resume.add_mutually_exclusive_group()
    where.add_argument(
        "--sim",
        action="store_true",
        help="the run is a dry run: resume it on a fresh in-process simulated line (the "
        "default for a dry run; refused for a run on a station)",
    )
    where.add_argument(
        "--station",
        type=Path,
        metavar="FILE",
        help="the run's tools at new addresses (a restarted `sim serve`): same names and drivers",
    )
    add_by(
        resume,
        "who resumes it, recorded in the run's event; a resumed session's answers at the "
        "terminal are recorded in this name",
    )
    _dry_run_arguments(resume)
    resume.set_defaults(handler=cmd_resume)


def _dry_run_arguments(parser: argparse.ArgumentParser) -> None:
    """`--fault` and `--sim-option`, which a dry run and its resume take."""
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        default=[],
        metavar="TOOL:FAULT[@STEP]",
        help="dry run only, repeatable: inject the simulated TOOL's FAULT as this session "
        "starts, or when a step named STEP first starts (plasma_cleaner:rf_mismatch@'plasma "
        "clean'). A TOOL, FAULT or STEP the recipe's dry run does not have or use is refused "
        "before any tool moves, naming those it has (docs/simulated-line.md, Faults: each kind's "
        "faults, and how the steps are found)",
    )
    parser.add_argument(
        "--sim-option",
        dest="sim_options",
        action="append",
        default=[],
        metavar="TOOL:OPTION=VALUE",
        help="dry run only: give the simulated TOOL's OPTION this number, for this session "
        "(docs/simulated-line.md, Tool options, lists each kind's: "
        "grinder:gauge_resolution_um=0.5, a grinder whose gauge reads to 0.5 um; repeatable; a "
        "wrong TOOL, OPTION or VALUE is refused before any tool moves); recorded with the "
        "session's tools (`packline show`'s --sim-option column)",
    )


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "run": _run_arguments,
    "resume": _resume_arguments,
}
