"""`packline sim serve`: the bundled simulated line on the wire (with `--method`, the line that
method's dry run builds for a recipe), for a station run or a station check from another
process, saying what it does (clients, alarms, jobs, faults) on stderr; `packline sim fault`: a
fault injected into (or cleared from) a served line's tool from another terminal, through the
control socket its station file names."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import secrets
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packline.clock import clock_at
from packline.drivers.errors import PacklineError
from packline.drivers.registry import TOOL_KINDS, gem_face_kinds
from packline.heap import frozen_heap
from packline.sequences.engine.errors import BadInput
from packline.station import Station, StationError, load_station

from .output import EXIT_OK, open_store
from .parser import (
    add_by,
    add_command,
    add_db,
    ordered_by,
    positive_seconds,
    refuse_recipe_without_method,
)
from .sim_options import SimOptions, read_sim_options

if TYPE_CHECKING:
    from packline.sequences.engine.launch import RecipeLine
    from packline.sim_instruments.line import SimulatedLine
    from packline.sim_instruments.servers.control import Done, LineControl

#: The random bytes of a served line's identity (in hex, in every tool's serial number): two
#: lines served one after the other on a machine differ, so a pty reused by the second is not
#: taken for the first's tool (`packline station check` compares the serial numbers).
LINE_ID_BYTES = 3
#: How long `sim fault` waits for the served line's answer by default.
CONTROL_TIMEOUT_S = 5.0


def cmd_sim_serve(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from packline.sim_instruments.line import SimulatedLine
    from packline.sim_instruments.watch import LineWatch

    try:
        clock = clock_at(args.time_scale)
    except ValueError as error:
        raise BadInput(f"--time-scale {args.time_scale}: {error}") from None
    from packline.sequences.engine.launch import RecipeLine
    from packline.sequences.engine.method import sim_options_text

    served = _served_recipe(args)
    # without --method, every kind as the line builds it by default, receiving nothing
    built = RecipeLine(list(TOOL_KINDS), None, {}) if served is None else served.line
    recipe_line = built.given(_served_sim_options(args.sim_options, built.kinds))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(_logged_warnings_reported())
            if ":" in args.host:
                raise BadInput(f"--host {args.host}: the simulated line serves IPv4 addresses")
            try:
                infos = await loop.getaddrinfo(args.host, None, family=socket.AF_INET)
                bound = str(infos[0][4][0])
                beyond = not ipaddress.ip_address(bound).is_loopback
                # another machine reaches no pty of this one: serial tools on TCP
                transports = serial_on_tcp(recipe_line.kinds, gem=args.gem) if beyond else {}
                line = await stack.enter_async_context(
                    SimulatedLine(
                        clock,
                        host=args.host,
                        kinds=recipe_line.kinds,
                        name=Station.served_line_name(None if served is None else served.method),
                        incoming=recipe_line.incoming,
                        gem=args.gem,
                        serial_over_tcp=beyond,
                        tool_options=recipe_line.given(transports).tool_options,
                        line_id=secrets.token_hex(LINE_ID_BYTES),
                    )
                )
            except (OSError, RuntimeError) as error:  # pymodbus: RuntimeError, cannot listen
                reason = getattr(error, "strerror", None) or error
                raise BadInput(f"--host {args.host}: cannot serve on it ({reason})") from None
            control = await stack.enter_async_context(_control(line, args.time_scale, args.db))
            name = args.advertise or (socket.getfqdn() if bound == "0.0.0.0" else args.host)
            station = advertised(line.station, args.host, name).model_copy(
                update={"time_scale": args.time_scale, "control": str(control.path)}
            )
            text = station.to_yaml()
            if served is not None:
                text = f"{served.comment()}\n{text}"
            if args.station_out:
                try:
                    args.station_out.write_text(text, encoding="utf-8")
                except OSError as error:
                    raise BadInput(
                        f"--station-out {args.station_out}: cannot write it ({error.strerror})"
                    ) from None
            pace = "wall clock" if args.time_scale == 1.0 else f"time x{args.time_scale:g}"
            print(f"# packline simulated line ({pace}); stop with Ctrl-C\n{text}", flush=True)
            for name, entry in station.tools.items():
                address = entry.address
                where = address if isinstance(address, str) else ", ".join(address.values())
                given = sim_options_text(recipe_line.tool_options.get(name, {}))
                report(f"{name}: {entry.kind} served at {where}{f' ({given})' if given else ''}")
            report(f"faults: packline sim fault TOOL FAULT --station FILE (socket {control.path})")
            watching = asyncio.create_task(LineWatch(line, report).watch())
            try:
                # The line's polls are not stalled by full passes over the started heap.
                with frozen_heap(), contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), args.duration_s)
            finally:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return EXIT_OK


@dataclass(frozen=True)
class ServedRecipe:
    """What `sim serve --method METHOD [--recipe RECIPE]` serves: the line a dry run of the
    method builds for the recipe (`RecipeLine`, its tools also given `--sim-option`), its
    station named for the method (`simulated-line-tape-substrate`), so that a station run of
    it on the served line has the tools and the workpieces its dry run has (a CO2 laser, tape
    panels and their die wafers) and runs to its end."""

    method: str
    #: The recipe as `prepare` names it: a file, a reference recipe, the method's own.
    recipe: str
    #: The line, its tools as the method gives them.
    line: RecipeLine

    def comment(self) -> str:
        """The first line of the station file and of what `sim serve` prints after its own:
        whose line it is."""
        return (
            f"# {self.method}'s line on {self.recipe}: the tools its dry run drives, as it "
            "builds them, receiving its incoming material (`packline sim serve --method "
            f"{self.method}`)"
        )


def _served_recipe(args: argparse.Namespace) -> ServedRecipe | None:
    """The line of `--method` on `--recipe` (default: the method's own) as its dry run builds
    it, the method and recipe resolved and the recipe validated as `packline run` does
    (`prepare`: a wrong method or recipe refused naming the choices, before anything is
    served); None without `--method` (every kind, as built by default)."""
    refuse_recipe_without_method(args)
    if args.method is None:
        return None
    from packline.sequences.engine.launch import RecipeLine
    from packline.sequences.engine.request import RunRequest, prepare

    prepared = prepare(RunRequest(args.method, recipe_path=args.recipe))
    return ServedRecipe(
        prepared.method.name,
        prepared.recipe_source,
        RecipeLine.of(prepared.method, prepared.recipe),
    )


def _served_sim_options(texts: list[str], kinds: list[str]) -> SimOptions:
    """The `--sim-option` options of the served line of tool `kinds`, each checked against
    the simulated tool of its role (`read_sim_options`): a tool it has not is refused naming
    every tool it serves and the one meant."""
    from packline.sim_instruments.servers.control import unknown_tool_text

    simulators = {TOOL_KINDS[kind].role: TOOL_KINDS[kind].load_simulator() for kind in kinds}

    def unknown_tool(option: str, tool: str) -> str | None:
        return None if tool in simulators else f"{option}: {unknown_tool_text(tool, simulators)}"

    return read_sim_options(texts, simulators, unknown_tool)


def serial_on_tcp(kinds: Iterable[str], *, gem: bool) -> dict[str, dict[str, str]]:
    """Per role, the tool option that serves a serial tool of the line of tool `kinds` behind
    a `socket://` serial server (raw TCP) instead of a local pty (the RTU line goes on TCP by
    the line's `serial_over_tcp`); a tool served on GEM has no serial face."""
    return {
        kind.role: {"transport": "socket"}
        for kind in map(TOOL_KINDS.__getitem__, kinds)
        if "socket" in getattr(kind.load_simulator(), "transports", ())
        and not (gem and kind.gem_simulator is not None)
    }


def advertised(station: Station, host: str, name: str) -> Station:
    """`station` with `host` (where the line listens) replaced by `name` (how other machines
    reach it) in every address: `//host:port` and VISA's `::host::`."""

    def swap(address: str) -> str:
        return address.replace(f"//{host}:", f"//{name}:").replace(f"::{host}::", f"::{name}::")

    tools = {
        tool: entry.model_copy(
            update={
                "address": swap(entry.address)
                if isinstance(entry.address, str)
                else {device: swap(each) for device, each in entry.address.items()}
            }
        )
        for tool, entry in station.tools.items()
    }
    return station.model_copy(update={"tools": tools})


def report(message: str) -> None:
    """One line of what the served line does, on stderr, with the wall time."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class _Reported(logging.Handler):
    """A warning the line's servers log (a GEM session dropped at T7) told as `report` tells
    the rest, with the wall time, not as Python's bare line of last resort."""

    def emit(self, record: logging.LogRecord) -> None:
        report(self.format(record))  # with its traceback, where it has one


@contextlib.contextmanager
def _logged_warnings_reported() -> Iterator[None]:
    """While the line is served, what its servers and links log at WARNING or above is told
    on stderr as `report` tells its own lines (`_Reported`); nothing is left behind."""
    handler = _Reported(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)


@contextlib.asynccontextmanager
async def _control(
    line: SimulatedLine, time_scale: float, db: Path | None
) -> AsyncIterator[LineControl]:
    """The served line's control socket, in a directory of its own (this user's alone), both
    removed when the line stops; it says the line is served at `time_scale`, and tells the
    runs live on the line in `db` (else the default database) each fault a tool clears
    itself (`_CureTeller`), the telling waited out as the line stops."""
    from packline.sim_instruments.servers.control import LineControl

    with tempfile.TemporaryDirectory(prefix="packline-sim-") as folder:
        path = Path(folder) / "control"
        teller = _CureTeller(db, path)
        control = LineControl(line.tools, path, report, time_scale, on_cured=teller)
        await control.start()
        try:
            yield control
        finally:
            await control.stop()
            await teller.told()


class _CureTeller:
    """Tells the runs live on the served line whose control socket is `control` (in the run
    database `db`, else the default one) that a tool cleared an injected fault itself, as
    the line keeps it (a dicing saw's new blade cures its crack, installed by the run's own
    blade preparation or an operator at the saw): each records a `fault-cleared` event at
    that time, saying how (decision 0119), where a run that completed had kept the crack
    injected in its records. The records are written off the line's loop (its tools keep
    answering meanwhile), and what each run was told is said on the line's terminal."""

    def __init__(self, db: Path | None, control: Path) -> None:
        self.db = db
        self.control = control
        self._telling: set[asyncio.Task[None]] = set()

    def __call__(self, tool: str, fault: str, done: Done) -> None:
        task = asyncio.get_running_loop().create_task(self._tell(tool, fault, done))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def _tell(self, tool: str, fault: str, done: Done) -> None:
        how = done.get("on_tool")
        try:
            told = await asyncio.to_thread(
                tell_runs_on_line, self.db, self.control, tool, fault, None, done["wall"],
                "clear", on_tool=how,
            )  # fmt: skip
        except (sqlite3.Error, PacklineError) as error:
            told = [f"the runs on the line were not told: {error}"]
        for each in told:
            report(f"{tool}: fault {fault} cleared on the tool: {each}")

    async def told(self) -> None:
        """Once every run has been told what the line's tools cleared so far."""
        await asyncio.gather(*self._telling, return_exceptions=True)


def cmd_sim_fault(args: argparse.Namespace) -> int:
    """Inject (or clear) a fault on a tool of a served line; 2 when the line refuses it (a
    clear of a fault not injected among them) or cannot be reached (nothing changed). A
    fault injected (or cleared) is told to the runs that drive the line (`_tell_runs`), which
    record it beside the alarm it raises (or the clear that follows its repair)."""
    from packline.sim_instruments.servers.control import ControlError, request_control

    control = _served_control(args)
    by = ordered_by(args)
    request = {"command": "clear" if args.clear else "inject", "tool": args.tool,
               "fault": args.fault, "by": by}  # fmt: skip
    try:
        reply = asyncio.run(request_control(control, request, args.timeout_s))
    except ControlError as error:
        asked = f"sim fault {args.tool} {args.fault}{' --clear' if args.clear else ''}"
        raise BadInput(f"{asked}: {error}") from None
    print(reply["message"])
    # when the line did it, as it keeps it for a run that connects later (decision 0117)
    wall = float(reply.get("wall", time.time()))
    line_did = "clear" if args.clear else "inject"
    for told in tell_runs_on_line(
        args.db, control, args.tool, args.fault, by, wall, line_did, run=args.run
    ):
        print(told)
    return EXIT_OK


def tell_runs_on_line(
    db: Path | None,
    control: Path,
    tool: str,
    fault: str,
    by: str | None,
    wall: float,
    line_did: str,
    *,
    run: str | None = None,
    on_tool: str | None = None,
) -> list[str]:
    """Tell the runs on the served line whose control socket is `control` that it injected
    `fault` on `tool` (or cleared it: `line_did`, `inject` or `clear`) at Unix time `wall`,
    by order of `by` (`packline sim fault`), or that the tool cleared it itself (`on_tool`,
    how; `by` None: the line's own word, `_CureTeller`) (`tell_run`: each records a
    `fault-injected` or `fault-cleared` event, decisions 0103 and 0119): every run a live
    process drives on that line, in the database `db` (else the default one: none when it
    does not exist yet), and the run `run` names besides (`sim fault --run`), stopped (told
    for its resume) or completed (told it is not recorded): the fault strikes the line,
    whichever run it was aimed at. What each was told, in words, and, when no run drives the
    line now, who records it instead: a run that connects later (decision 0117). A live run
    whose recorded station does not read (`recorded_station`: a StationError) cannot be
    said to drive the line or not: it is named as not told, and why, and the others are
    told (it had refused the whole telling, so no run was told)."""
    from packline.sequences.engine.injected_faults import no_live_run_text, tell_run
    from packline.sequences.engine.launch import recorded_station
    from packline.sequences.engine.liveness import is_alive
    from packline.sequences.engine.records import RunStore, default_db_path

    records = Path(db or default_db_path())
    if run is None and not records.exists():
        return [no_live_run_text(line_did, str(records), db_exists=False)]
    store = RunStore(records, create=False)
    try:
        named = [] if run is None else [store.resolve_run(run)]
        driving, unread = [], []
        for row in store.runs(-1):
            if not is_alive(row) or row["id"] in named:
                continue
            try:
                station = recorded_station(store.run(row["id"]))
            except StationError as error:
                unread.append(
                    f"run {row['id']} not told: its recorded station does not read ({error})"
                )
                continue
            if station.control == str(control):
                driving.append(row["id"])
        run_ids = [*named, *driving]
        told = [
            tell_run(store, run_id, tool, fault, by, wall, line_did, on_tool) for run_id in run_ids
        ]
    finally:
        store.close()
    # a run `--run` named was told (or said why not): no need to say who records it instead
    return [*(told if driving or named else [no_live_run_text(line_did, str(records))]), *unread]


def _served_control(args: argparse.Namespace) -> Path:
    """The control socket of the served line `sim fault` reaches: the one its station file
    names (`--station`), or the one of the station run `--run` drove (its records keep the
    station, not the file's path: `clear-tool`'s refusal names the run)."""
    from packline.sequences.engine.launch import recorded_station

    if args.station is not None:
        where = f"--station {args.station}"
        try:
            station = load_station(args.station)
        except StationError as error:
            raise BadInput(str(error)) from None
        control = station.control
    else:
        store = open_store(args, create=False)
        try:
            run = store.run(store.resolve_run(args.run))
        finally:
            store.close()
        where = f"--run {args.run}: run {run['id']}"
        control = recorded_station(run).control
    if control is None:
        raise BadInput(
            f"{where}: names no control socket (`control:`); it is not the station file of a "
            "line `packline sim serve` serves"
            if args.station is not None
            else f"{where} drove no line `packline sim serve` serves (its station names no "
            "control socket)"
        )
    return Path(control)


def _sim_arguments(sim: argparse.ArgumentParser) -> None:
    sim_commands = sim.add_subparsers(dest="sim_command", required=True)
    serve = add_command(
        sim_commands,
        "serve",
        "serve the simulated line on the wall clock (--method: the line a method's dry run builds)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the local IPv4 address to serve the tools on (default 127.0.0.1, where the serial "
        "tools are local ptys); beyond loopback (0.0.0.0: every interface) the serial tools are "
        "served behind socket:// serial servers, so another machine reaches every tool",
    )
    serve.add_argument(
        "--advertise",
        metavar="NAME",
        help="the host name or address other machines reach this one by, written into the "
        "station file's addresses (default: --host, or this machine's name for 0.0.0.0)",
    )
    serve.add_argument(
        "--station-out", type=Path, metavar="FILE", help="also write the station file here"
    )
    add_db(serve)  # where the runs live on the line are told what its tools clear themselves
    serve.add_argument(
        "--gem",
        action="store_true",
        help=f"serve the tools that have a GEM face ({', '.join(gem_face_kinds())}) as GEM "
        "equipment on HSMS",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="process time runs this many times faster than the wall clock (default 1)",
    )
    serve.add_argument(
        "--method",
        metavar="METHOD",
        help="serve the line METHOD's dry run builds for --recipe, so that a station run of it "
        "there runs to its end: the tools the recipe drives, as it needs them (tape-substrate "
        "and two-process-via: a CO2 laser for their holes and vias, where the line's own laser "
        "is UV), receiving its incoming material (tape panels and their die wafers); its "
        "station is named for the method (simulated-line-METHOD). A wrong METHOD or recipe is "
        "refused before anything is served",
    )
    serve.add_argument(
        "--recipe",
        metavar="FILE|NAME",
        help="with --method: a recipe file, or a reference recipe's name (default: the "
        "method's shipped recipe)",
    )
    serve.add_argument(
        "--sim-option",
        dest="sim_options",
        action="append",
        default=[],
        metavar="TOOL:OPTION=VALUE",
        help="give the served TOOL's OPTION this number while it is served "
        "(docs/simulated-line.md, Tool options, lists each kind's: "
        "grinder:gauge_resolution_um=0.5, a grinder whose gauge reads to 0.5 um, to rehearse a "
        "station run's refusal of a finer grind tolerance; repeatable, and with --method over "
        "what the method gives its tools; a wrong TOOL, OPTION or VALUE is refused before "
        "anything is served)",
    )
    serve.add_argument(
        "--for",
        dest="duration_s",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: until Ctrl-C or SIGTERM)",
    )
    serve.set_defaults(handler=cmd_sim_serve)
    fault = add_command(
        sim_commands,
        "fault",
        "inject a fault into a tool of a served line (`sim serve`), from another terminal",
    )
    fault.add_argument("tool", metavar="TOOL", help="the tool's name in the station file")
    fault.add_argument(
        "fault",
        metavar="FAULT",
        help="one of the simulated tool's faults (docs/simulated-line.md, Faults, lists each "
        "kind's)",
    )
    served = fault.add_mutually_exclusive_group(required=True)
    served.add_argument(
        "--station",
        type=Path,
        metavar="FILE",
        help="the station file the served line wrote (`sim serve --station-out FILE`)",
    )
    served.add_argument(
        "--run",
        metavar="RUN",
        help="the line a run on a served line drives (run id, a unique prefix of one, or "
        "'last'), as its records keep its station; that run is told, and every run a live "
        "process drives on the line",
    )
    add_db(fault)
    add_by(
        fault,
        "who injects (or clears) it, recorded in the run's fault-injected (fault-cleared) event",
    )
    fault.add_argument(
        "--clear",
        action="store_true",
        help="repair the fault instead of injecting it (refused, naming what is injected on the "
        "tool, if it is not injected)",
    )
    fault.add_argument(
        "--timeout",
        dest="timeout_s",
        type=positive_seconds,
        default=CONTROL_TIMEOUT_S,
        metavar="SECONDS",
        help=f"seconds the line may take to answer (default {CONTROL_TIMEOUT_S:g})",
    )
    fault.set_defaults(handler=cmd_sim_fault)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"sim": _sim_arguments}
