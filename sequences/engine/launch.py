"""Opening a run: a new one from a validated request (`request.py`), or the resume of one
from its records.

A dry run (`simulated=True`) starts the bundled simulated line in this process on a virtual
clock shared with the engine and the drivers; a resumed dry run restores the twin of every
workpiece its records hold (the lot's wafers and the workpieces beside them: a die wafer, a
board) as the latest step it counts as done left it: its last completed step, or the step that
held it once an operator released it (`RunStore.latest_twins`, decision 0108). A resume on
other addresses is checked against the tools the run drove before anything is touched. A run
on a station holds the tools it drives while it is open (`packline.line_lock`), and is
refused while another run or the station tests hold one; its engine and drivers wait on the
line's time (`line_clock`: the wall clock, or a served simulated line's sped-up clock).
"""

from __future__ import annotations

import contextlib
import gc
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from packline.clock import Clock, VirtualClock, clock_at
from packline.drivers.equipment import WAFER_ID_MAX_LENGTH
from packline.drivers.registry import kinds_of
from packline.line_lock import Holder, LineBusy, hold_tools, tool_addresses
from packline.lots import LotIdentity
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.twin import Incoming
from packline.sim_instruments.twin.snapshot import restore
from packline.station import Station, StationError, ToolEntry, load_station, parse_station

from .clearances import (
    awaiting_recovery,
    out_of_service_text,
    refuse_uncleared_dry_resume,
)
from .dispositions import (
    decide_text,
    disposition_command,
    latest_holds,
    resume_command,
)
from .engine import Engine, RunSpec
from .errors import BadInput, RecipeError
from .events import Observer
from .left_on_tools import left_on_tools
from .liveness import DRIVEN, driver_text, is_alive
from .method import FailurePolicy, Method, get_method, known_method
from .plan import FINISHED, Plan, resume_plan
from .recipe import Recipe
from .recorder import ConfirmFn
from .records import RESUMABLE, RunStore, db_option
from .request import Prepared, check_station, check_station_and_limits

#: The allocations between two collections of the cyclic garbage collector's youngest
#: generation while a dry run runs (Python's own: 700). A lot makes and drops some hundreds of
#: thousands of futures, handles, coroutines and register lists, nearly all freed by their
#: counts as they go; at 700 the collector looked at what was left some 350 times a lot.
DRY_RUN_COLLECTION_THRESHOLD = 10_000

#: What the collector was before the dry runs of this process now running began (its
#: thresholds, and whether they froze what came before them), one entry a run
#: (`_collections_spared`).
_spared: list[tuple[tuple[int, ...], bool]] = []


@contextlib.contextmanager
def _collections_spared() -> Iterator[None]:
    """While a dry run runs: what this process made before it (its modules, the simulated
    line, the plan), which the run keeps, is left out of the cyclic garbage collector's scans
    (`gc.freeze`: every full collection had looked through all of it again), and the youngest
    generation is collected every `DRY_RUN_COLLECTION_THRESHOLD` allocations; both as they were
    once the last dry run of the process ends. Only when garbage is collected changes: what of
    it the run drops is collected after it (docs/decisions/0116). A process that froze objects
    of its own before (a server that forks) keeps them frozen: nothing is frozen for the run."""
    if _spared:
        before = _spared[0]
    else:
        before = (gc.get_threshold(), gc.get_freeze_count() == 0)
        if before[1]:
            gc.freeze()
        gc.set_threshold(DRY_RUN_COLLECTION_THRESHOLD, *before[0][1:])
    _spared.append(before)
    try:
        yield
    finally:
        _spared.pop()
        if not _spared:
            thresholds, froze = before
            gc.set_threshold(*thresholds)
            if froze:
                gc.unfreeze()


def lot_wafer_ids(run_id: str, lot: int, *, own_line: bool) -> list[str]:
    """Wafer ids for a lot the user did not name: W01, W02... on a dry run's own simulated line
    (it lives as long as the run), else prefixed with the run id without its date
    (`055012-3f2a-W01`), so two lots on one line (a `sim serve`, a real line) never share an
    id, and an id still says which run it belongs to, within the 16-character limit."""
    width = max(2, len(str(lot)))
    numbers = [f"W{i:0{width}d}" for i in range(1, lot + 1)]
    if own_line:
        return numbers
    room = WAFER_ID_MAX_LENGTH - len(numbers[-1]) - 1
    prefix = (run_id.partition("-")[2] or run_id)[-room:]
    return [f"{prefix}-{number}" for number in numbers]


def new_run_id() -> str:
    """Sortable and short: start time plus a random suffix."""
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _sim_kinds(roles: tuple[str, ...]) -> list[str]:
    return [kind.name for kind in kinds_of(roles)]


@asynccontextmanager
async def open_run(
    store: RunStore,
    prepared: Prepared,
    *,
    observers: list[Observer] | None = None,
    confirm: ConfirmFn | None = None,
    run_id: str | None = None,
    line_factory: Callable[[VirtualClock, Method], SimulatedLine] | None = None,
    line_ready: Callable[[SimulatedLine], None] | None = None,
    confirmed_by: str | None = None,
    sim_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> AsyncIterator[Engine]:
    """An engine for a new run, with the simulated line running around it in a dry run
    (`line_ready` is handed that line once it serves, before the run starts; `sim_options`:
    its tools' options a user gave, `dry_run_line`); `BadInput` before anything starts for a
    lot the recipe cannot make (`Recipe.lot_problem`: a recipe is validated without a lot, a
    run has one). `confirmed_by`: who answers its confirmations in advance
    (`RunSpec.confirmed_by`)."""
    problem = prepared.recipe.lot_problem(prepared.lot)
    if problem is not None:
        raise BadInput(f"a lot of {prepared.lot}: {problem}")
    run_id = run_id or new_run_id()
    wafer_ids = prepared.wafer_ids or lot_wafer_ids(
        run_id, prepared.lot, own_line=prepared.station is None
    )
    spec = partial(
        RunSpec,
        run_id=run_id,
        method=prepared.method,
        recipe=prepared.recipe,
        recipe_text=prepared.recipe_text,
        recipe_source=prepared.recipe_source,
        store=store,
        wafer_ids=wafer_ids,
        operator=prepared.operator,
        failure_policy=prepared.failure_policy,
        observers=list(observers or []),
        confirm=confirm,
        confirmed_by=confirmed_by,
        lot=prepared.lot_identity,
    )
    if prepared.station is not None:
        with _driving(prepared.station, prepared.method, prepared.recipe, run_id, store):
            yield Engine(spec(station=prepared.station, clock=line_clock(prepared.station)))
        return
    clock = VirtualClock(wires_in_memory=True)
    line = _sim_line(
        line_factory,
        clock,
        prepared.method,
        prepared.recipe,
        gem=prepared.gem,
        sim_options=sim_options,
    )
    async with line:
        if line_ready is not None:
            line_ready(line)
        with _collections_spared():
            yield _on_line(spec, line, clock, sim_options)


def line_clock(station: Station) -> Clock:
    """The clock a run on `station` waits on, its engine's and its drivers' alike (a hold, a
    poll interval, a wait's timeout, a batch forming): the line's time, on which its tools'
    process passes. The wall clock on real tools; on a simulated line served `time_scale`
    times as fast as the wall clock (`packline sim serve --time-scale`), the wall clock sped
    up as much, as the line's own (`ScaledClock`): a recipe's 60 s hold is the line's 60 s,
    not 60 s of wall time, S times as long for the simulated tools (decision 0125). The
    run's records keep the wall clock all the same (`run_clock.run_clock_s`)."""
    return clock_at(station.time_scale)


def _on_line(
    spec: Callable[..., RunSpec],
    line: SimulatedLine,
    clock: VirtualClock,
    sim_options: Mapping[str, Mapping[str, Any]] | None,
) -> Engine:
    """The engine of a dry run's session (`spec` lacking its station, clock and twin) on
    `line`, whose tools its records say its command gave `sim_options` (decision 0121)."""
    return Engine(
        spec(station=line.station, clock=clock, twin=line.twin, sim_options=sim_options or {})
    )


@contextlib.contextmanager
def _driving(
    station: Station, method: Method, recipe: Recipe, run_id: str, store: RunStore
) -> Iterator[None]:
    """Hold the station's tools of the roles `recipe` drives while run `run_id` drives them
    (`packline.line_lock`); refused as bad input, nothing recorded, while another run or the
    station tests hold one."""
    db = Path(store.path).resolve()
    holder = Holder.here(
        f"run {run_id} of {method.name}",
        f"stop it with `packline terminate {run_id} --db {db}` (a paused run still holds its "
        f"tools), or wait until it ends; `packline show {run_id} --db {db}` is its view of its "
        "tools",
    )
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(
                hold_tools(tool_addresses(station, method.tools_for(recipe)), holder)
            )
        except LineBusy as busy:
            raise BadInput(f"station {station.name}: {busy}") from None
        yield


def _sim_line(
    factory: Callable[[VirtualClock, Method], SimulatedLine] | None,
    clock: VirtualClock,
    method: Method,
    recipe: Recipe,
    *,
    gem: bool,
    sim_options: Mapping[str, Mapping[str, Any]] | None,
) -> SimulatedLine:
    """The dry run's simulated line: the given factory's (which makes its own tools, given
    no `sim_options`), else `dry_run_line`'s."""
    if factory is not None:
        return factory(clock, method)
    return dry_run_line(clock, method, recipe, gem=gem, sim_options=sim_options)


def dry_run_line(
    clock: VirtualClock,
    method: Method,
    recipe: Recipe,
    *,
    gem: bool = False,
    sim_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> SimulatedLine:
    """A dry run's simulated line: the line of the recipe (`RecipeLine`), with `sim_options`
    (`gem`: the tools that have a GEM face served on GEM); its serial lines (the oven's RTU
    line, the wire bonder's host link) carried over TCP rather than a pty, the same bytes at
    a fraction of the wall time."""
    line = RecipeLine.of(method, recipe).given(sim_options or {})
    return SimulatedLine(
        clock,
        kinds=line.kinds,
        incoming=line.incoming,
        tool_options=line.tool_options,
        gem=gem,
        serial_over_tcp=True,
    )


@dataclass(frozen=True)
class RecipeLine:
    """The simulated line a method's recipe runs on, as its dry run builds it
    (`dry_run_line`) and `packline sim serve --method` serves it for station runs: a tool of
    every role the recipe drives, as the recipe needs them (`Method.sim_tool_options`: a CO2
    laser) and as the user set them (`given`), receiving the method's incoming material for
    the recipe (a tape panel and its die wafer)."""

    #: The tool kinds served, one a role the recipe drives (`Method.tools_for`).
    kinds: list[str]
    incoming: Incoming | None
    #: Role -> its simulated tool's keyword arguments.
    tool_options: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, method: Method, recipe: Recipe) -> RecipeLine:
        """The line of `method`'s `recipe`, its tools as the method gives them."""
        options = {role: dict(given) for role, given in method.sim_tool_options(recipe).items()}
        return cls(_sim_kinds(method.tools_for(recipe)), method.incoming_material(recipe), options)

    def given(self, sim_options: Mapping[str, Mapping[str, Any]]) -> RecipeLine:
        """This line, its tools also given `sim_options` (role -> its simulated tool's
        options, over the method's: `--sim-option grinder:gauge_resolution_um=0.5`)."""
        options = {role: dict(given) for role, given in self.tool_options.items()}
        for role, given in sim_options.items():
            options.setdefault(role, {}).update(given)
        return RecipeLine(self.kinds, self.incoming, options)


def _driver_of(entry: ToolEntry) -> str:
    """A tool entry's driver as the records name it: a GEM tool's with its dictionary."""
    return entry.driver if entry.dictionary is None else f"{entry.driver} ({entry.dictionary})"


def check_same_tools(
    roles: tuple[str, ...], run: dict[str, Any], station: Station, station_path: str | Path
) -> None:
    """Refuse a station for resuming `run` unless it has the same tools, by name and driver,
    for the `roles` its recipe drives as the station the run drove (addresses, options and
    limits may differ): the run's records and its batches name the tools."""
    recorded = recorded_station(run)
    before = {
        name: _driver_of(entry) for name, entry in recorded.tools.items() if entry.role in roles
    }
    differences = []
    for name, driver in before.items():
        entry = station.tools.get(name)
        if entry is None:
            differences.append(f"tool {name} ({driver}): not in the station file")
        elif _driver_of(entry) != driver:
            differences.append(
                f"tool {name}: driver {driver} in the run, {_driver_of(entry)} in the station file"
            )
    differences += [
        f"tool {name} ({_driver_of(entry)}): not in the run"
        for name, entry in station.tools.items()
        if entry.role in roles and name not in before
    ]
    if differences:
        raise BadInput(
            f"--station {station_path}: station {station.name} does not have the tools run "
            f"{run['id']} drove: " + "; ".join(sorted(differences))
        )


def nothing_to_resume(store: RunStore, run: dict[str, Any], plan: Plan | None = None) -> str | None:
    """Why `packline resume` refuses run `run` (its runs row) with nothing to resume, or None
    when a resume continues it: what `open_resume` refuses on, and `show` reads to name the
    resume of a stopped run. A run has something to resume when a wafer of it runs again (a
    held one released, reworked, or held for want of a tool: `Plan.run_again` of its resume
    `plan`, read from the records when not given). A run that ended (terminated, aborted,
    failed) with every wafer finished (completed, held or scrapped) has nothing left, as a
    completed or held one, unless it left wafers on its tools (`left_on_tools`: its recovery
    takes them off, as its summary says) or, whatever it ended as (held, or completed once its
    held wafers were scrapped), a tool that only its recovery can bring back
    (`awaiting_recovery`: one whose recovery failed, a link lost in a step, or whose safe
    state its abort could not confirm: its recovery commands it again); an interrupted one is
    resumed to close it (its claim check, its end). The refusal says its status and its
    wafers' outcomes, and what can be done (release or rework a held wafer, clear each tool
    that waits for it). A run of a method this release does not have cannot be resumed by
    it, whatever its records say."""
    if plan is None:
        method = known_method(run["method"])
        if method is None:
            return (
                f"run {run['id']} is of method {run['method']}, which this release does not "
                "have: it cannot resume it"
            )
        plan = resume_plan(store, run["id"], method.renamed_steps)
    if plan.run_again:
        return None
    wafers = store.wafers(run["id"])
    finished = all(w["status"] in FINISHED for w in wafers)
    if run["status"] in RESUMABLE and (run["status"] in DRIVEN or not finished):
        return None
    if (run["status"] in RESUMABLE and left_on_tools(store, run["id"])) or awaiting_recovery(
        store, run["id"]
    ):
        # its recovery takes off the wafers it left on its tools, and commands the safe state
        # of each tool its abort could not confirm safe again
        return None
    outcomes = Counter(w["status"] for w in wafers)
    text = (
        f"run {run['id']} is {run['status']}: nothing to resume (its wafers: "
        + ", ".join(f"{count} {status}" for status, count in outcomes.items())
        + ")"
    )
    held = [w["wafer_id"] for w in wafers if w["status"] == "held"]
    if held:
        text += (
            f"; release or rework a held wafer first "
            f"({disposition_command(run['id'], 'release|rework', db_option=db_option(store.path))}"
            f"; held: {', '.join(held)})"
        )
        if tools := out_of_service_text(store, run["id"]):
            text += f"; {tools}"
    return text


def what_held_wafers_need(store: RunStore, run_id: str, confirmed_by: str | None = None) -> str:
    """What the held wafers of a run that has ended need before a resume runs them, for the
    operator at its end ('' when none is held): a disposition for each held for what
    happened to it (none for one held only for want of a tool), and the clear of each tool
    the run put out of service; then the resume (`resume_command`: with `--confirmed-by`
    again for a session whose confirmations `confirmed_by` answered in advance)."""
    holds = latest_holds(store, run_id)
    db = db_option(store.path)
    held = [w["wafer_id"] for w in store.wafers(run_id) if w["status"] == "held"]
    unserved = [w for w in held if holds.get(w, {}).get("tool_unavailable")]
    decide = [w for w in held if w not in unserved]
    parts = []
    if decide:
        why = f" (why it is held: `packline show {run_id}{db}`)"
        parts.append(f"{', '.join(decide)} held: {decide_text(run_id, decide, why, db_option=db)}")
    if unserved:
        parts.append(
            f"{', '.join(unserved)} held only for want of a tool, no decision needed: it runs "
            "again once its tool is back"
        )
    if not parts:
        return ""
    if tools := out_of_service_text(store, run_id):
        parts.append(tools)
    return "; ".join(parts) + f"; then {resume_command(store, run_id, confirmed_by, db_option=db)}"


def recorded_station(run: dict[str, Any]) -> Station:
    """The station `run` (a runs row) was recorded with, read by the station parser, as a
    station file is: its tools, their addresses and a served line's control socket. A
    StationError names the run's station and the key."""
    return parse_station(yaml.safe_load(run["station_yaml"]), f"run {run['id']} station")


def recorded_recipe(store: RunStore, method: Method, run: dict[str, Any]) -> Recipe:
    """The recipe `run` was recorded with, as this release reads it: under the names of its
    keys now, a 0 recorded for a setting not given as left out (`parse_recipe(recorded=True)`).
    Refused, naming each problem and what the user can do, when a check added since it was
    recorded refuses it (a value now outside its range, a combination now known to fail):
    never driven past it, on real tools or simulated, since the user cannot edit it (the
    commands it names find `store`)."""
    try:
        return method.read_recorded_recipe(run["id"], json.loads(run["recipe_json"]))
    except RecipeError as error:
        db = db_option(store.path)
        raise BadInput(
            f"run {run['id']}: the recipe it was recorded with no longer validates (a check "
            f"added since refuses it), so this release does not resume it:\n{error}\n"
            "Resume it with the release of packline that recorded it (its wafers stay as "
            f"`packline show {run['id']}{db}` lists them meanwhile), or scrap each held wafer "
            f"({disposition_command(run['id'], 'scrap', db_option=db)})"
        ) from None


@asynccontextmanager
async def open_resume(
    store: RunStore,
    run_ref: str,
    *,
    station_path: str | Path | None = None,
    observers: list[Observer] | None = None,
    confirm: ConfirmFn | None = None,
    line_factory: Callable[[VirtualClock, Method], SimulatedLine] | None = None,
    line_ready: Callable[[SimulatedLine], None] | None = None,
    refuse_uncleared: bool = False,
    by: str | None = None,
    before_driving: Callable[[], None] | None = None,
    confirmed_by: str | None = None,
    sim_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> AsyncIterator[Engine]:
    """An engine that continues run `run_ref` from its records (see `plan.py` for the rules),
    on the station the run last drove, or on the station file `station_path` (the same tools,
    at new addresses: a restarted `sim serve`, a tool moved to another port); a dry run on a
    fresh simulated line, handed to `line_ready` once it serves. `refuse_uncleared`: refuse
    while a tool waits for a clear (`clearances.refuse_uncleared_dry_resume`: a dry run's
    command line), instead of holding the wafers that need it. `by`: who resumes it (the session's
    operator; default the run's operator). `before_driving` is called once the run is known to
    have something to resume and before any tool is taken or touched: a caller's own refusal
    (a command line's, of a resume nobody can answer at). `confirmed_by`: who answers the
    session's confirmations in advance (`RunSpec.confirmed_by`). `sim_options`: the options
    of a dry run's fresh line's tools a user gave for this session (`dry_run_line`), none of
    an earlier session's: each session's line is as its command says, and its tools' records
    say so (`RunSpec.sim_options`, decision 0121)."""
    run_id = store.resolve_run(run_ref)
    run = store.run(run_id)
    if is_alive(run):
        raise BadInput(
            f"run {run_id} is still being driven by {driver_text(run)}; "
            f"use `packline pause|resume|terminate {run_id}`"
        )
    wafers = store.wafers(run_id)
    steps = store.table("steps", run_id)
    method = get_method(run["method"])
    plan = resume_plan(store, run_id, method.renamed_steps)
    if idle := nothing_to_resume(store, run, plan):
        raise BadInput(idle)
    if refuse_uncleared:
        refuse_uncleared_dry_resume(store, run_id)
    if before_driving is not None:
        before_driving()
    recipe = recorded_recipe(store, method, run)
    session = run["sessions"] + 1
    # the run clock goes on where its records end (an earlier session's end, or its last
    # record, and what was recorded of the stopped run since)
    offset = store.records_end_t(run)
    spec = partial(
        RunSpec,
        run_id=run_id,
        method=method,
        recipe=recipe,
        recipe_text=run["recipe_text"],
        recipe_source=run["recipe_source"],
        store=store,
        wafer_ids=[w["wafer_id"] for w in wafers],
        operator=by or run["operator"],
        failure_policy=FailurePolicy(run["failure_policy"]),
        session=session,
        plan=plan,
        cut_off=plan.cut_off_decisions(steps, session),
        known_tools={tool["name"]: tool for tool in store.table("tools", run_id)},
        t_offset=offset,
        observers=list(observers or []),
        confirm=confirm,
        confirmed_by=confirmed_by,
        lot=LotIdentity(run["lot_id"], run["lot_product"], run["lot_owner"]),
    )
    if run["simulated"] and station_path is not None:
        raise BadInput(
            f"--station {station_path}: run {run_id} is a dry run on the in-process simulated "
            "line; resume it without --station (a fresh simulated line is started)"
        )
    if not run["simulated"]:
        try:
            if station_path is None:
                station = recorded_station(run)
            else:
                station = load_station(station_path)
                check_same_tools(method.tools_for(recipe), run, station, station_path)
        except StationError as error:
            raise BadInput(str(error)) from None
        if station_path is None:
            check_station(method, recipe, station)  # a role its declaration has gained since
        else:  # and the new station's limits, both told at once
            check_station_and_limits(
                method, recipe, station, f"run {run_id} recipe", run["recipe_text"]
            )
        with _driving(station, method, recipe, run_id, store):
            yield Engine(spec(station=station, clock=line_clock(station)))
        return
    clock = VirtualClock(wires_in_memory=True)
    recorded = recorded_station(run)
    on_gem = any(tool.driver == "gem" for tool in recorded.tools.values())
    line = _sim_line(line_factory, clock, method, recipe, gem=on_gem, sim_options=sim_options)
    async with line:
        for workpiece_id, data in store.latest_twins(run_id, plan.released_step_ids()).items():
            restore(line.twin.get(workpiece_id), data)
            # the recovery unloads cut-off workpieces; a replayed stage loads them again
            line.twin.allow_rework(workpiece_id)
        if line_ready is not None:
            line_ready(line)
        with _collections_spared():
            yield _on_line(spec, line, clock, sim_options)
