"""`packline station check`: every tool of a station file, its identity, state, alarms,
interlocks and the workpieces it holds, and with `--method` the method's tools check of a
recipe on them (decision 0118); commands nothing."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from packline.clock import WallClock
from packline.drivers.errors import PacklineError
from packline.rendering import DataTable
from packline.sequences.engine.errors import BadInput
from packline.station import Station, StationError, load_station
from packline.station_check import (
    CHECK_TIMEOUT_S,
    DEVICE_SEPARATOR,
    UNLOAD_BY_HAND,
    KeptOpen,
    ToolCheck,
    check_station,
)

if TYPE_CHECKING:
    from packline.sequences.engine.errors import ToolRefusal
    from packline.sequences.engine.method import Method
    from packline.sequences.engine.recipe import Recipe

from .output import EXIT_OK, EXIT_RUN_FAILED, db_path, open_store, print_json, terminal
from .parser import add_command, add_common, positive_seconds, refuse_recipe_without_method

#: How much of the console's width the `ready` column takes at most for its text (40 of a
#: console 200 wide), unless a word of it is longer.
READY_SHARE = 0.2


def cmd_station_check(args: argparse.Namespace) -> int:
    """Exit 0 when every tool is ready for a lot, 1 when one is not (unreachable, not idle,
    alarmed, an interlock open that must be made at rest, holding a workpiece, given a
    `capacity` above what it takes at once) or, with `--method`, when the method's tools
    check refuses the recipe on them, 2 for a station file that cannot be read or a recipe
    refused as `validate` refuses it (nothing contacted)."""
    if (args.station_file is None) == (args.station is None):
        raise BadInput(
            "station check: name the station file once, as `station check FILE` or "
            "`station check --station FILE`"
        )
    refuse_recipe_without_method(args)
    station_file = args.station_file or args.station
    try:
        station = load_station(station_file)
    except StationError as error:
        raise BadInput(str(error)) from None
    verdict = None
    if args.method is None:
        checked = asyncio.run(check_station(station, args.timeout_s, station_file))
    else:
        checked, verdict = asyncio.run(_check_for_recipe(args, station, station_file))
    checks = _with_owners(args, checked)
    tools = [{**asdict(c), "ready": c.ready, "problems": c.problems()} for c in checks]
    if args.json:
        recipe = None if verdict is None else {**asdict(verdict), "ready": verdict.ready}
        print_json(tools if recipe is None else {"tools": tools, "recipe": recipe})
    else:
        print_station_check(terminal(), station.name, checks)
        if unreached := unreached_text(station, station_file, checks, args.timeout_s):
            print(unreached)
        if verdict is not None:
            print(verdict.text())
    ready = all(c.ready for c in checks) and (verdict is None or verdict.ready)
    return EXIT_OK if ready else EXIT_RUN_FAILED


def unreached_text(
    station: Station, station_file: Path, checks: list[ToolCheck], timeout_s: float
) -> str:
    """What the check says once when it reached no tool of `station` at all (each row says it
    of its own tool: '0 of 16 tools ready' and a connect error a row had not said the line was
    gone): of a served simulated line, why its control socket cannot be reached either, in
    the words `sim fault` refuses with (`request_control`: 'is `packline sim serve` still
    running?'); '' when a tool answered, or another controller holds one."""
    if not checks or not all(_unreached(check) for check in checks):
        return ""
    said = f"no tool of {station_file} could be reached"
    if station.control is None:
        return f"{said}: is the line on, and on this host's network? (each row says why)"
    from packline.sim_instruments.servers.control import ControlUnreachable, request_control

    try:
        asyncio.run(request_control(Path(station.control), {"command": "injected"}, timeout_s))
    except ControlUnreachable as gone:
        return f"{said}, nor the line that served them: {gone}"
    return f"{said}, though the line that serves them answers (each row says why)"


def _unreached(check: ToolCheck) -> bool:
    """Whether the check reached nothing at the tool's address: no answer, not even another
    kind's, and no other controller holding it."""
    return check.error is not None and check.identity is None and check.found_kind is None


async def _check_for_recipe(
    args: argparse.Namespace, station: Station, station_file: Path
) -> tuple[list[ToolCheck], RecipeCheck]:
    """The check of `station`'s tools, and `--method`'s tools check of `--recipe` (default:
    the method's own) on them, the recipe first validated for the station as a run's is
    (`prepare`: its fields, the station's roles, the tools' setpoint limits; BadInput, nothing
    contacted)."""
    from packline.sequences.engine.request import RunRequest, prepare

    prepared = prepare(
        RunRequest(args.method, simulated=False, station_path=station_file, recipe_path=args.recipe)
    )
    return await check_station_for_recipe(
        station,
        prepared.method,
        prepared.recipe,
        prepared.recipe_source,
        args.timeout_s,
        station_file,
    )


@dataclass(frozen=True)
class RecipeCheck:
    """What a method's check of its connected tools against a recipe said (`Method.tools_check`,
    decision 0118), asked of the station's tools of the roles the recipe drives as `packline
    station check --method` connected them: a tool that will refuse the run as it connects
    (a grinder's gauge coarser than the grind tolerance) is known before a run is started."""

    method: str
    #: The recipe as `prepare` names it: a file, a reference recipe, the method's own.
    recipe: str
    #: Whether the method has a tools check at all (most ask their tools nothing of a recipe).
    asked: bool
    #: Why the recipe cannot be carried out on the tools, a reason a tool, as a run's refusal
    #: gives them (`run not started: <reason>`).
    refusals: tuple[str, ...] = ()
    #: The tools of the roles the recipe drives the check could not ask (not reached, another
    #: controller's), name -> why: their own rows say what keeps them from a lot.
    unasked: dict[str, str] = field(default_factory=dict)
    #: The tools the check asked (`ConnectedTools.handed`), in station order.
    tools_asked: tuple[str, ...] = ()
    #: With a refusal of a tool on a line `packline sim serve` serves with its default tools,
    #: one the method's line gives options, the line to serve instead
    #: (`Method.served_line_advice`); None otherwise.
    advice: str | None = None

    @property
    def ready(self) -> bool:
        """Whether a run of the recipe would not be refused by the method's tools check: the
        method has none, or it asked a tool and none refused it (a check that asked no tool,
        every one it would ask out of reach, vouches for nothing)."""
        return not self.asked or (bool(self.tools_asked) and not self.refusals)

    def text(self) -> str:
        """The verdict in words, a line each refusal."""
        of = f"{self.method} on {self.recipe}"
        if not self.asked:
            return f"{of}: {self.method} has no tools check (it asks its tools nothing of a recipe)"
        unasked = "; ".join(f"{name} not asked: {why}" for name, why in self.unasked.items())
        if self.refusals:
            said = "\n".join(f"  {reason}" for reason in self.refusals)
            also = f"\n  ({unasked})" if unasked else ""
            instead = "" if self.advice is None else f"\n  {self.advice}"
            return (
                f"{of}: refused by its tools check, as a run would be as it connects:\n{said}"
                f"{also}{instead}"
            )
        if not self.tools_asked:
            why = f" ({unasked})" if unasked else ""
            return (
                f"{of}: its tools check asked no tool, so it passed nothing: a run would be "
                f"checked as it connects{why}"
            )
        if unasked:
            return f"{of}: its tools check asked the tools it reached and found nothing ({unasked})"
        return f"{of}: its tools check passed (the tools it drives carry the recipe out)"


async def check_station_for_recipe(
    station: Station,
    method: Method,
    recipe: Recipe,
    recipe_source: str,
    timeout_s: float = CHECK_TIMEOUT_S,
    station_file: Path | None = None,
) -> tuple[list[ToolCheck], RecipeCheck]:
    """`check_station`, and `method`'s tools check of `recipe` (named `recipe_source`) asked
    of the tools of the roles it drives (`Method.tools_for`) as the check connected them, once
    every tool has answered (the check may compare tools): kept connected and held until it
    has, then closed. Commands nothing, as the check asks questions only (decision 0118)."""
    roles = {
        name: role for role in method.tools_for(recipe) for name in station.tools_for_role(role)
    }
    async with contextlib.AsyncExitStack() as stack:
        kept = KeptOpen(stack, roles)
        checks = await check_station(station, timeout_s, station_file, kept)
        verdict = await _ask_tools_check(
            station, method, recipe, recipe_source, checks, kept, timeout_s
        )
    return checks, verdict


async def _ask_tools_check(
    station: Station,
    method: Method,
    recipe: Recipe,
    recipe_source: str,
    checks: list[ToolCheck],
    kept: KeptOpen,
    timeout_s: float,
) -> RecipeCheck:
    """`method`'s tools check of `recipe` on the tools `kept` that answered and are who the
    station says (`checks`), within `timeout_s`; a tool of the recipe's roles not among them
    is named as not asked, with why (its row's first problem)."""
    from packline.sequences.engine.tools import ConnectedTools, Tool, ToolPool

    if method.tools_check is None:
        return RecipeCheck(method.name, recipe_source, asked=False)
    pool = ToolPool(WallClock())
    unasked = {}
    for check in checks:
        if check.name not in kept.roles:
            continue
        if check.name in kept.drivers and check.error is None and check.driven_by is None:
            role, capacity = kept.roles[check.name], station.tools[check.name].capacity
            pool.add(Tool(check.name, role, kept.drivers[check.name], capacity))
        else:
            unasked[check.name] = check.problems()[0]
    connected = ConnectedTools(pool)
    refused: Sequence[ToolRefusal] = ()
    try:
        async with asyncio.timeout(timeout_s):
            refused = await method.tools_check(recipe, connected)
        refusals = tuple(map(str, refused))
    except TimeoutError:
        refusals = (f"its tools check had no answer within {timeout_s:g} s",)
    except (PacklineError, OSError) as error:
        refusals = (f"its tools check could not ask its tools: {error}",)
    asked = tuple(name for name in station.tools if name in connected.handed)
    advice = method.served_line_advice(station, recipe, {refusal.tool for refusal in refused})
    return RecipeCheck(method.name, recipe_source, True, refusals, unasked, asked, advice)


def _with_owners(args: argparse.Namespace, checks: list[ToolCheck]) -> list[ToolCheck]:
    """`checks`, each tool holding workpieces that a run of the records (`--db`, else the
    default database, when it exists) has in its lot told whose they are and the resume that
    takes them off (a run cut off on the tool left them there), rather than only to have them
    unloaded."""
    from packline.sequences.engine.left_on_tools import owners, owners_text

    if not any(check.workpieces for check in checks):
        return checks
    if not db_path(args).exists():
        return checks
    store = open_store(args, create=False)
    try:
        told = []
        for check in checks:
            owned = owners(store, "", check.workpieces)
            if owned:
                others = [w for w in check.workpieces if w not in owned]
                text = owners_text(store, owned)
                if others:
                    text += f"; {', '.join(others)}: {UNLOAD_BY_HAND}"
                check = replace(check, workpieces_owned=text)
            told.append(check)
        return told
    finally:
        store.close()


def print_station_check(console: Console, station: str, checks: list[ToolCheck]) -> None:
    """One row per tool (its name and kind never cut): who it says it is, its state, the
    interlocks not made right now, each name whole (at
    rest a chamber's door or base pressure is not made: no fault, beside `ready: yes`; one
    that must be made at rest, a supply, is named in `ready` too), what it holds, and what
    keeps it from a lot, then the faults injected on it where a served simulated line says so
    (no problem: `ToolCheck.injected_text`). A tool of two devices has each device's address
    on a line of its own, so the table fits a terminal or a piped console's width; the
    `ready` column is as wide as its text up to `READY_SHARE` of the console, and never
    narrower than its longest word: rich would give it way with the others and cut the
    address an unreachable tool's reason names (`TCPIP0::127.0.0.1::411…`); the others give
    way instead."""
    table = DataTable(
        "tool", "kind", "address", "identity", "state", "interlocks not made", "holds", "ready",
        title=f"station {station}", whole=("tool", "kind", "address"),
    )  # fmt: skip
    readiness = ["ready"]
    for check in checks:
        opened = check.open_interlocks()
        said = "yes" if check.ready else "no: " + "; ".join(check.problems())
        injected_text = check.injected_text()
        readiness.append(said if injected_text is None else f"{said}; {injected_text}")
        table.add_row(
            check.name,
            check.kind,
            "\n".join(check.address.split(DEVICE_SEPARATOR)),
            check.identity or "-",
            _state_text(check),
            ", ".join(opened) if opened else ("none" if check.interlocks else "-"),
            ", ".join(check.workpieces) or ("nothing" if check.state else "-"),
            readiness[-1],
        )
    # an interlock's name is one word: wrapped between names, never cut
    table.columns[5].min_width = max(
        (len(name) for check in checks for name in check.open_interlocks()), default=None
    )
    longest_word = max(len(word) for text in readiness for word in text.split())
    widest = max(map(len, readiness))
    table.columns[-1].width = max(longest_word, min(widest, int(console.width * READY_SHARE)))
    console.print(table)
    ready = sum(c.ready for c in checks)
    driven = sum(c.driven_by is not None for c in checks)
    elsewhere = f"; {driven} driven by another controller, not contacted" if driven else ""
    injected = [f"{c.name} {fault}" for c in checks for fault in c.injected_faults]
    faults = f"; faults injected on the served line: {', '.join(injected)}" if injected else ""
    console.print(f"{ready} of {len(checks)} tools ready; nothing was commanded{elsewhere}{faults}")


def _state_text(check: ToolCheck) -> str:
    """The tool's state and its E10 state, and what it is doing when it was found working
    (`busy (productive): processing (RF on)`); '-' for a tool that did not answer."""
    if check.state is None:
        return "-"
    working = "" if check.working is None else f": {check.working}"
    return f"{check.state} ({check.e10_state}){working}"


def _station_arguments(station: argparse.ArgumentParser) -> None:
    station_commands = station.add_subparsers(dest="station_command", required=True)
    check = add_command(
        station_commands,
        "check",
        "connect to every tool and show its identity, state, alarms, interlocks and the "
        "workpieces it holds; commands nothing",
    )
    add_common(check)
    check.add_argument(
        "station_file", type=Path, metavar="FILE", nargs="?", help="the station file to check"
    )
    check.add_argument(
        "--station",
        type=Path,
        metavar="FILE",
        help="the station file, as the other commands name it (or FILE alone)",
    )
    check.add_argument(
        "--method",
        metavar="METHOD",
        help="also ask METHOD's tools check of --recipe on the tools it drives, as a run asks "
        "it as it connects (tape-substrate: each laser's source drills the holes, each "
        "grinder's gauge is fine enough for the grind tolerance); the recipe is validated for "
        "the station first",
    )
    check.add_argument(
        "--recipe",
        metavar="FILE|NAME",
        help="with --method: a recipe file, or a reference recipe's name (default: the "
        "method's shipped recipe)",
    )
    check.add_argument(
        "--timeout",
        dest="timeout_s",
        type=positive_seconds,
        default=CHECK_TIMEOUT_S,
        metavar="SECONDS",
        help=f"seconds one tool may take to answer (default {CHECK_TIMEOUT_S:g})",
    )
    check.set_defaults(handler=cmd_station_check)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"station": _station_arguments}
