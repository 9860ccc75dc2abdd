"""The line's schedule for a lot, and the time left by it: the run's ETA.

A method's steps are code, not a list: how many steps a wafer has and how long the lot takes
with its wafers pipelined through shared tools and batches is known only by running it. The
records of a run that did it are the `Schedule`: when each step of the wafer at each position
ended, the lot's makespan and each position's number of steps. `find_schedule` takes, in this
order (docs/decisions/0023 and 0030), a dry run of the same method, recipe and lot size (exact:
the same script on the same process times a station's tools take); else the latest run of
the same recipe, dry or on a station, scaled to the lot's size (`Schedule.for_lot`); else the
recipe's step times as the simulated tools' process models give them, a dry run of the least
lot the recipe makes (one wafer, a whole stack of stacked devices) that `plan_recipe` makes in
a database of its own beside the run database, scaled likewise.
Each schedule says its `basis`, which the ETA names. `recipe_outline` reads a recipe's step
names, the tools its steps use and the operator confirmations they ask from the same runs, for
a check before a run starts (`run --fault TOOL:FAULT@STEP`; a run on real tools that nobody
can answer at).

`eta.py` follows a run against its schedule (the ETA).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .confirmations import confirmation_waits
from .recorded_station import recorded_tools, time_scale_of
from .records import RunStore
from .spans import Span, paused_spans, spans_without
from .stage import HOLDING_KINDS, NO_WORK, stage_work

#: Step kinds a wafer's progress counts (a stage or a batch only groups steps on a tool).
COUNTED_KINDS = ("step", "batch-step")
#: The basis of a schedule from the recipe's step times (`plan_recipe`).
RECIPE_BASIS = "from the recipe's step times"
#: How much less than the controller a planning dry run is scheduled (`nice`).
PLAN_NICENESS = 10
#: How long `recipe_outline` waits for a planning dry run (its least lot, mostly one wafer:
#: seconds of CPU).
PLAN_WAIT_S = 300.0
#: How long a planning dry run killed for taking too long has to end: a SIGKILL, which the
#: kernel acts on at once, reaped on a loaded machine.
KILLED_PLAN_WAIT_S = 10.0


@dataclass(frozen=True, order=True)
class ScheduledStep:
    """One step of the schedule: when it ended (run-clock seconds from the lot's start), the
    position of its wafer in the lot, and its checkpoint key (name#occurrence)."""

    end_s: float
    position: int
    key: str


@dataclass(frozen=True)
class Schedule:
    """A run's timeline of a lot: its steps in end order, its makespan, what it is (`basis`,
    as the ETA names it: the run it comes from) and how far apart its wafers leave the line
    (`interval_s` a wafer, `group` at a time), which scaling to a larger lot repeats."""

    steps: tuple[ScheduledStep, ...]
    makespan_s: float
    basis: str = ""
    interval_s: float = 0.0
    #: How many wafers leave the line together (a batch tool's load, when that is the pace).
    group: int = 1

    @classmethod
    def from_rows(
        cls,
        steps: Iterable[Mapping[str, Any]],
        positions: Mapping[str, int],
        started_t: float,
        stopped_t: float,
        time_scale: float = 1.0,
        basis: str = "",
        capacities: Mapping[str, int] | None = None,
    ) -> Schedule:
        """The schedule of a completed run's step records, counted from `started_t`, the
        run's recorded start (its tools reached, after its run clock began: see
        `_schedule_of`); `time_scale`: how many times faster than the records' time the run
        it is for passes (a served line's `time_scale`, whose run clock is the wall clock,
        over the recorded run's own); `capacities`: how many wafers each tool takes at once
        (1 where not given), for its bottleneck's pace."""
        rows = list(steps)
        ends = sorted(
            ScheduledStep(
                (row["stopped_t"] - started_t) / time_scale, positions[row["wafer_id"]], row["key"]
            )
            for row in rows
            if row["kind"] in COUNTED_KINDS and row["status"] == "completed"
        )
        recorded_s, group = _pace(rows, positions, capacities or {})
        interval_s = recorded_s / time_scale
        return cls(tuple(ends), (stopped_t - started_t) / time_scale, basis, interval_s, group)

    @property
    def tail_s(self) -> float:
        """The lot's time after its last step ended (closing the run, shutting tools down)."""
        return self.makespan_s - self.steps[-1].end_s if self.steps else self.makespan_s

    @property
    def lot_size(self) -> int:
        return len({step.position for step in self.steps})

    def steps_of(self, position: int) -> int:
        """How many steps the wafer at `position` has."""
        return sum(1 for step in self.steps if step.position == position)

    def for_lot(self, lot_size: int, basis: str) -> Schedule:
        """This schedule scaled to a lot of `lot_size`: its first wafers as they were, and
        each wafer past its last a copy of its last, later by `interval_s` a wafer, `group`
        wafers at a time (a lot's wafers leave the line at the pace of its bottleneck, a batch
        tool's load together)."""
        have, group = self.lot_size, self.group
        kept = [step for step in self.steps if step.position < lot_size]
        last = [step for step in self.steps if step.position == have - 1]
        added = [
            ScheduledStep(
                step.end_s + (position // group - (have - 1) // group) * group * self.interval_s,
                position,
                step.key,
            )
            for position in range(have, lot_size)
            for step in last
        ]
        steps = tuple(sorted(kept + added))
        makespan_s = (steps[-1].end_s if steps else 0.0) + self.tail_s
        return replace(self, steps=steps, makespan_s=makespan_s, basis=basis)


def _pace(
    rows: list[Mapping[str, Any]], positions: Mapping[str, int], capacities: Mapping[str, int]
) -> tuple[float, int]:
    """The pace a larger lot would leave the line at, from a completed run's step records (in
    their time): the seconds between wafers, and how many leave together. The slower of the
    bottleneck's pace (`_bottleneck_pace`) and, for a run of several wafers, the pace its
    wafers left the line at (the mean spacing of their last steps): what the line adds to its
    bottleneck (waits for a tool a wafer comes back to, batches that close part full). That
    spacing alone misleads for a small lot: two wafers behind each other leave at the pace of
    the last tool, not the slowest, and two wafers of one batch leave at once."""
    interval_s, group = _bottleneck_pace(rows, positions, capacities)
    last: dict[int, float] = {}
    for row in rows:
        if row["kind"] in COUNTED_KINDS and row["status"] == "completed":
            position = positions[row["wafer_id"]]
            last[position] = max(last.get(position, row["stopped_t"]), row["stopped_t"])
    if len(last) > 1:
        left_s = (max(last.values()) - min(last.values())) / (len(last) - 1)
        if left_s > interval_s:
            return left_s, 1
    return interval_s, group


def _bottleneck_pace(
    rows: list[Mapping[str, Any]], positions: Mapping[str, int], capacities: Mapping[str, int]
) -> tuple[float, int]:
    """The pace of the tool with the most time held per wafer over its capacity (a wafer's
    stages and batches on it, summed for a tool it comes back to, averaged over the wafers),
    and how many wafers leave it together: a batch tool's load, so that a lot takes
    ceil(lot / capacity) of its batches. Without a stage, the longest step, a wafer at a time.

    Only the passes that did work count (`stage_work`, the rule `packline tools` counts a
    tool's uses by): a wafer run again after a hold passes the stages it completed before with
    its steps skipped, and whatever time such a pass held the tool (a pause that fell in it)
    is no time the tool takes per wafer."""
    work = stage_work(rows)
    held: dict[tuple[str, int], float] = {}
    batched: set[str] = set()
    for row in rows:
        if (
            row["kind"] in HOLDING_KINDS
            and row["status"] == "completed"
            and work[int(row["id"])] != NO_WORK
        ):
            key = (row["tool"], positions[row["wafer_id"]])
            held[key] = held.get(key, 0.0) + row["stopped_t"] - row["started_t"]
            if row["kind"] == "batch":
                batched.add(row["tool"])
    per_wafer: dict[str, list[float]] = {}
    for (tool, _), held_s in held.items():
        per_wafer.setdefault(tool, []).append(held_s)
    if not per_wafer:
        steps_s = [
            row["stopped_t"] - row["started_t"]
            for row in rows
            if row["kind"] in COUNTED_KINDS and row["status"] == "completed"
        ]
        return max(steps_s, default=0.0), 1
    pace = {
        tool: sum(times) / len(times) / capacities.get(tool, 1) for tool, times in per_wafer.items()
    }
    tool = max(pace, key=lambda name: pace[name])
    return pace[tool], capacities.get(tool, 1) if tool in batched else 1


def _schedule_of(
    store: RunStore, run: Mapping[str, Any], time_scale: float, basis: str
) -> Schedule:
    """The schedule of completed run `run`, from its recorded start (`started_t`), not its
    run clock's zero, where the run's duration counts from (`report.clock_stands_at`): the
    run it is for is measured from its own recorded start (`Estimate.start`, at its
    `run-started`; the live view holds its estimate while the run reaches its tools, and
    the records have nothing of a run before), so the recorded run's reach is no time of the
    schedule. From the zero, every step would end that much later and the ETA read high by
    it (a station's connect, 1.5 s of process time on a line served at x60). Its times are
    the line's (`_line_time`): the spans the line stood idle for an operator are taken out."""
    positions = {w["wafer_id"]: w["position"] for w in store.wafers(run["id"])}
    tools = recorded_tools(run)
    steps = store.table("steps", run["id"])
    line_t = _line_time(
        _idle_for_an_operator(
            store.events(run["id"]),
            store.table("confirmations", run["id"]),
            steps,
            run["stopped_t"],
        )
    )
    return Schedule.from_rows(
        [
            {**step, "started_t": line_t(step["started_t"]), "stopped_t": line_t(step["stopped_t"])}
            for step in steps
        ],
        positions,
        line_t(run["started_t"]),
        line_t(run["stopped_t"]),
        time_scale / time_scale_of(run),
        basis,
        {name: int(tool.get("capacity", 1)) for name, tool in tools.items()},
    )


def _idle_for_an_operator(
    events: Sequence[Mapping[str, Any]],
    answered: Sequence[Mapping[str, Any]],
    steps: Iterable[Mapping[str, Any]],
    stop_t: float,
) -> list[Span]:
    """The spans of a run's clock (of its `events`, its `answered` confirmations and its
    `steps` records, stopped at `stop_t`) its line stood idle for an operator: paused
    (`paused_spans`: an operator's pause lasts as long as it lasts, 8 h over a night) or
    waiting for the answer to a confirmation (`confirmation_waits`: as slow as the operator),
    while no wafer was in a step. What ran meanwhile is the line's time: the stage under way
    that a pause waits for, the wafers that go on while one waits for its answer. The live
    view's estimate stands still over the same spans (`holding_reason`: paused, waiting)."""
    waits = [
        (float(asked["t"]), stop_t if answered_t is None else answered_t)
        for asked, answered_t in confirmation_waits(answered, events)
    ]
    working = [
        (float(step["started_t"]), float(step["stopped_t"]))
        for step in steps
        if step["kind"] in COUNTED_KINDS and step["stopped_t"] is not None
    ]
    return spans_without(paused_spans(events, stop_t) + waits, working)


def _line_time(idle: Sequence[Span]) -> Callable[[float], float]:
    """The line's time at a time of the run's clock: the run clock less what of `idle` (spans
    that may overlap) came before it."""
    merged: list[list[float]] = []
    for start, stop in sorted(idle):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])

    def line_t(t: float) -> float:
        return t - sum(max(0.0, min(stop, t) - start) for start, stop in merged)

    return line_t


def _usable_runs(
    store: RunStore, method: str, recipe_hash: str, exclude_run: str | None
) -> list[dict[str, Any]]:
    """The runs (their whole records) of this method and recipe, newest first, that
    completed every wafer in one session: a schedule without gaps."""
    listed = store.runs(limit=1000, method=method, recipe_hash=recipe_hash)
    return [
        run
        for run in (
            store.run(row["id"])
            for row in listed
            if row["id"] != exclude_run and row["status"] == "completed"
        )
        if run["sessions"] == 1
    ]


def recorded_schedule(
    store: RunStore,
    method: str,
    recipe_hash: str,
    lot_size: int,
    *,
    time_scale: float = 1.0,
    exclude_run: str | None = None,
) -> Schedule | None:
    """The schedule of this method, recipe and lot from the run database: the latest dry run
    of the same lot size, else the latest run of the recipe scaled to the lot; None without
    either."""
    runs = _usable_runs(store, method, recipe_hash, exclude_run)
    for run in runs:
        if run["simulated"] and run["lot_size"] == lot_size:
            return _schedule_of(store, run, time_scale, f"from dry run {run['id']}")
    if not runs:
        return None
    latest = runs[0]
    kind = "dry run" if latest["simulated"] else "run"
    basis = f"from {kind} {latest['id']}"
    if latest["lot_size"] != lot_size:  # a station run of the lot's size is as it ran
        basis += f" of {latest['lot_size']}, scaled"
    return _schedule_of(store, latest, time_scale, basis).for_lot(lot_size, basis)


def plans_path(db: Path) -> Path:
    """The database `plan_recipe` keeps its dry runs of a least lot in, beside run database `db`
    (a cache: deleting it costs a planning pass)."""
    return db.with_name(db.name + ".plans")


def find_schedule(
    store: RunStore,
    method: str,
    recipe_hash: str,
    lot_size: int,
    *,
    time_scale: float = 1.0,
    exclude_run: str | None = None,
) -> Schedule | None:
    """The best schedule there is for this lot (see the module's doc), or None."""
    found = recorded_schedule(
        store, method, recipe_hash, lot_size, time_scale=time_scale, exclude_run=exclude_run
    )
    return found or planned_schedule(store.path, method, recipe_hash, lot_size, time_scale)


def planned_schedule(
    db: Path, method: str, recipe_hash: str, lot_size: int, time_scale: float = 1.0
) -> Schedule | None:
    """The schedule from the recipe's step times that `plan_recipe` made for run database
    `db`, scaled to the lot; None before it has."""
    plans = plans_path(db)
    if not plans.exists():
        return None
    planned = RunStore(plans, create=False)
    try:
        runs = _usable_runs(planned, method, recipe_hash, None)
        if not runs:
            return None
        schedule = _schedule_of(planned, runs[0], time_scale, RECIPE_BASIS)
        return schedule.for_lot(lot_size, RECIPE_BASIS)
    finally:
        planned.close()


def plan_name(lot: int) -> str:
    """What a plan of a lot of `lot` wafers (`plan_recipe`) is called in what a command says:
    a one-wafer plan, or, for a recipe whose least lot is more, a plan of that many."""
    return "one-wafer plan" if lot == 1 else f"{lot}-wafer plan"


def plan_recipe(
    db: Path, method: str, recipe_text: str, lot: int, workdir: Path
) -> subprocess.Popen[bytes]:
    """Start a dry run of `lot` wafers of `recipe_text` in a process of its own, below the
    controller's priority, into `plans_path(db)`: `find_schedule` then scales it to the lot.
    `lot` is the least the recipe makes (`request.least_lot`): one wafer, or a whole stack of a
    recipe of stacked devices, whose lot of one would be refused and leave no plan.
    The caller waits for it or kills it; `workdir` (a directory of the caller's) holds the
    recipe file meanwhile, and what the plan says on stderr (`PLAN_LOG`: why it failed). The
    process has a session of its own: the terminal's Ctrl-C, which pauses the run, does not
    reach it (it terminated the plan, and the run had no ETA). Its interpreter leaves the
    working folder off its path (`-P`): run from the folder a user cloned packline into, `-m
    packline` imported the checkout's folder instead."""
    recipe = workdir / "recipe.yaml"
    recipe.write_text(recipe_text)
    with (workdir / PLAN_LOG).open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-P", "-m", "packline", "run", method, "--sim", "--lot", str(lot),
             "--recipe", str(recipe), "--quiet", "--db", str(plans_path(db))],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=functools.partial(os.nice, PLAN_NICENESS),
            start_new_session=True,
        )  # fmt: skip


#: Where in its `workdir` a plan writes what it says on stderr (`plan_recipe`).
PLAN_LOG = "plan.log"


@dataclass(frozen=True)
class NoOutline:
    """Why a recipe has no outline before its run starts (`recipe_outline`), in words that
    follow "no run of it completed its wafers, nor ..."."""

    why: str


@dataclass(frozen=True)
class RecipeOutline:
    """What a run of a recipe does, read before a run of it starts (`recipe_outline`): the
    names of its steps, in the order its wafers first start them, the tools its steps use, by
    their roles (as a dry run's simulated line names its tools), in the order first used, and
    the operator confirmations its steps asked."""

    steps: list[str]
    #: None: not known (a run recorded before schema 3 kept no roles of its tools).
    tools: list[str] | None
    #: What each confirmation asked the operator, as the run asked it of its wafers (its
    #: prompt, which names them), in the order first asked; a dry run answers them itself, a
    #: run on real tools asks them of its operator.
    confirmations: list[str] = field(default_factory=list)


def recipe_outline(
    db: Path,
    method: str,
    recipe_text: str,
    recipe_hash: str,
    renamed: Mapping[str, str],
    *,
    plan_lot: int = 1,
    planning: Callable[[], None] | None = None,
) -> RecipeOutline | NoOutline:
    """The steps and tools of `method` on this recipe, its steps as the script calls them now
    (`renamed`: old name -> new, `Method.renamed_steps`): those of a run of the recipe that
    completed every wafer in one session, in run database `db` or in its plans database, else
    of a planning dry run of `plan_lot` wafers (the least lot the recipe makes) made now
    (`plan_recipe`, waited for up to
    `PLAN_WAIT_S`; `planning` is called before it starts, for the caller to say why nothing
    happens meanwhile), which the live view's ETA then finds too. `NoOutline` when there is none to
    read, saying why: the plan did not complete its wafer (and what it said), or took too long.

    A method's steps are code, not a list (see the module's doc): a run of them is where
    they, the tools they use and the confirmations they ask are known before a run starts
    (`run --fault TOOL:FAULT@STEP` checks its TOOL and STEP so, and a run on real tools that
    nobody can answer at is refused when its steps ask a confirmation)."""
    if (known := _recorded_outline(db, method, recipe_hash, renamed)) is not None:
        return known
    if planning is not None:
        planning()
    with tempfile.TemporaryDirectory(prefix="packline-plan-") as workdir:
        planner = plan_recipe(db, method, recipe_text, plan_lot, Path(workdir))
        try:
            planner.wait(timeout=PLAN_WAIT_S)
        except subprocess.TimeoutExpired:
            planner.kill()
            planner.wait(timeout=KILLED_PLAN_WAIT_S)  # a plan given little time is reaped still
            return NoOutline(f"did its {plan_name(plan_lot)} within {PLAN_WAIT_S:g} s")
        said = (Path(workdir) / PLAN_LOG).read_text(errors="replace").strip().splitlines()
    known = _recorded_outline(db, method, recipe_hash, renamed)
    if known is not None:
        return known
    code = planner.returncode
    # a run exits 1 when a wafer or a tool failed, saying nothing on stderr with --quiet
    wafers = "its wafer" if plan_lot == 1 else "its wafers"
    why = {1: f"{wafers} did not complete"}.get(code) or (
        f"killed by signal {-code}" if code < 0 else f"exit {code}"
    )
    # what it said last of its own (`packline: error: ...`) or of an error that ended it (a
    # traceback's last line), not a warning's line of source
    cause = [line for line in said if line.startswith("packline:") or "Error" in line]
    if cause:
        why += f": {cause[-1].removeprefix('packline: ')}"
    return NoOutline(f"did its {plan_name(plan_lot)} ({why})")


def _recorded_outline(
    db: Path, method: str, recipe_hash: str, renamed: Mapping[str, str]
) -> RecipeOutline | None:
    """The outline of the latest usable run (`_usable_runs`) of the recipe in run database
    `db`, else in its plans database; None without one. Its steps' tools are recorded by
    their names on the station it drove, read as roles from the tools it connected."""
    for path in (db, plans_path(db)):
        if not path.exists():
            continue
        store = RunStore(path, create=False)
        try:
            runs = _usable_runs(store, method, recipe_hash, None)
            if runs:
                run_id = runs[0]["id"]
                steps = store.table("steps", run_id)  # in id order: as they started
                roles = {tool["name"]: tool["role"] for tool in store.table("tools", run_id)}
                used = dict.fromkeys(step["tool"] for step in steps if step["tool"] is not None)
                known = used.keys() <= roles.keys()  # runs before schema 3 recorded no tools
                asked = store.table("confirmations", run_id)
                return RecipeOutline(
                    list(dict.fromkeys(renamed.get(s["name"], s["name"]) for s in steps)),
                    list(dict.fromkeys(roles[name] for name in used)) if known else None,
                    list(dict.fromkeys(row["prompt"] for row in asked)),
                )
        finally:
            store.close()
    return None
