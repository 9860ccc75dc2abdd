"""The line's schedule for a lot, and the time left by it: the run's ETA.

A method's steps are code, not a list: how many steps a wafer has and how long the lot takes
with its wafers pipelined through shared tools and batches is known only by running it. The
records of a run that did it are the `Schedule`: when each step of the wafer at each position
ended, the lot's makespan and each position's number of steps. `find_schedule` takes, in this
order (docs/decisions/0023 and 0030), a dry run of the same method, recipe and lot size (exact:
the same script on the same process times a station's tools take); else the latest run of
the same recipe, dry or on a station, scaled to the lot's size (`Schedule.for_lot`); else the
recipe's step times as the simulated tools' process models give them, a dry run of one wafer
that `plan_recipe` makes in a database of its own beside the run database, scaled likewise.
Each schedule says its `basis`, which the ETA names.

`Estimate` follows a run against it: the n-th step the run completes is where the schedule
was when its n-th step ended, so the time left is the schedule's makespan less that point,
advancing with the run's clock until the schedule's next step should have ended (a step that
overruns holds the estimate instead of running it down). The live view feeds it the engine's
events; `run_eta` replays a driven run's records into it (the dashboard).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .progress import clock_text
from .records import RunStore

#: Step kinds a wafer's progress counts (a stage or a batch only groups steps on a tool).
COUNTED_KINDS = ("step", "batch-step")
#: Step kinds that hold a tool (a stage, a batch): a one-wafer schedule's bottleneck.
HOLDING_KINDS = ("stage", "batch")
#: The basis of a schedule from the recipe's step times (`plan_recipe`).
RECIPE_BASIS = "from the recipe's step times"
#: How much less than the controller a planning dry run is scheduled (`nice`).
PLAN_NICENESS = 10


@dataclass(frozen=True, order=True)
class ScheduledStep:
    """One step of the schedule: when it ended (run-clock seconds from the lot's start), the
    position of its wafer in the lot, and its checkpoint key (name#occurrence)."""

    end_s: float
    position: int
    key: str


@dataclass(frozen=True)
class Schedule:
    """A run's timeline of a lot: the run it comes from, its steps in end order, its
    makespan, what it is (`basis`, as the ETA names it) and how far apart its wafers leave
    the line (`interval_s` a wafer, `group` at a time), which scaling to a larger lot
    repeats."""

    run_id: str
    steps: tuple[ScheduledStep, ...]
    makespan_s: float
    basis: str = ""
    interval_s: float = 0.0
    #: How many wafers leave the line together (a batch tool's load, when that is the pace).
    group: int = 1

    @classmethod
    def from_rows(
        cls,
        run_id: str,
        steps: Iterable[Mapping[str, Any]],
        positions: Mapping[str, int],
        started_t: float,
        stopped_t: float,
        time_scale: float = 1.0,
        basis: str = "",
        capacities: Mapping[str, int] | None = None,
    ) -> Schedule:
        """The schedule of a completed run's step records; `time_scale`: how many times faster
        than the records' time the run it is for passes (a served line's `time_scale`, whose
        run clock is the wall clock, over the recorded run's own); `capacities`: how many
        wafers each tool takes at once (1 where not given), for the pace of a one-wafer run."""
        rows = list(steps)
        ends = sorted(
            ScheduledStep(
                (row["stopped_t"] - started_t) / time_scale, positions[row["wafer_id"]], row["key"]
            )
            for row in rows
            if row["kind"] in COUNTED_KINDS and row["status"] == "completed"
        )
        last = sorted(
            max(step.end_s for step in ends if step.position == position)
            for position in {step.position for step in ends}
        )
        if len(last) > 1:
            interval_s, group = (last[-1] - last[0]) / (len(last) - 1), 1
        else:
            interval_s, group = _pace_of_one(rows, capacities or {})
        return cls(
            run_id,
            tuple(ends),
            (stopped_t - started_t) / time_scale,
            basis,
            interval_s / time_scale,
            group,
        )

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


def _pace_of_one(rows: list[Mapping[str, Any]], capacities: Mapping[str, int]) -> tuple[float, int]:
    """The pace a lot would leave the line at, from the records of one wafer: the tool it
    held longest per wafer the tool takes (its stages and batches, over its capacity), and
    that capacity (the wafers that leave it together); without a stage, its longest step."""
    held: dict[str, float] = {}
    for row in rows:
        if row["kind"] in HOLDING_KINDS and row["status"] == "completed":
            tool = row["tool"]
            held[tool] = held.get(tool, 0.0) + row["stopped_t"] - row["started_t"]
    if held:
        tool = max(held, key=lambda name: held[name] / capacities.get(name, 1))
        return held[tool] / capacities.get(tool, 1), capacities.get(tool, 1)
    steps_s = [
        row["stopped_t"] - row["started_t"]
        for row in rows
        if row["kind"] in COUNTED_KINDS and row["status"] == "completed"
    ]
    return max(steps_s, default=0.0), 1


def _time_scale(run: Mapping[str, Any]) -> float:
    """How many times faster than process time a recorded run's clock passed: 1 for a dry run
    (simulated process time), the station's `time_scale` for a served line."""
    if run["simulated"]:
        return 1.0
    station = yaml.safe_load(run["station_yaml"]) or {}
    return float(station.get("time_scale", 1.0))


def _schedule_of(
    store: RunStore, run: Mapping[str, Any], time_scale: float, basis: str
) -> Schedule:
    positions = {w["wafer_id"]: w["position"] for w in store.wafers(run["id"])}
    tools = (yaml.safe_load(run["station_yaml"]) or {}).get("tools") or {}
    return Schedule.from_rows(
        run["id"],
        store.table("steps", run["id"]),
        positions,
        run["started_t"],
        run["stopped_t"],
        time_scale / _time_scale(run),
        basis,
        {name: int(tool.get("capacity", 1)) for name, tool in tools.items()},
    )


def _usable_runs(
    store: RunStore, method: str, recipe_hash: str, exclude_run: str | None
) -> list[dict[str, Any]]:
    """The runs (their whole records) of this method and recipe, newest first, that
    completed every wafer in one session: a schedule without gaps."""
    listed = store.runs(limit=1000, method=method, recipe=recipe_hash)
    runs = [store.run(run["id"]) for run in listed if run["id"] != exclude_run]
    return [
        run
        for run in runs
        if run["status"] == "completed"
        and run["recipe_hash"] == recipe_hash
        and run["sessions"] == 1
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
    for run in runs:
        kind = "dry run" if run["simulated"] else "run"
        basis = f"from {kind} {run['id']} of {run['lot_size']}, scaled"
        return _schedule_of(store, run, time_scale, basis).for_lot(lot_size, basis)
    return None


def plans_path(db: Path) -> Path:
    """The database `plan_recipe` keeps its one-wafer dry runs in, beside run database `db`
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
        for run in _usable_runs(planned, method, recipe_hash, None):
            schedule = _schedule_of(planned, run, time_scale, RECIPE_BASIS)
            return schedule.for_lot(lot_size, RECIPE_BASIS)
    finally:
        planned.close()
    return None


def plan_recipe(db: Path, method: str, recipe_text: str, workdir: Path) -> subprocess.Popen[bytes]:
    """Start a dry run of one wafer of `recipe_text` in a process of its own, below the
    controller's priority, into `plans_path(db)`: `find_schedule` then scales it to the lot.
    The caller waits for it or kills it; `workdir` (a directory of the caller's) holds the
    recipe file meanwhile."""
    recipe = workdir / "recipe.yaml"
    recipe.write_text(recipe_text)
    return subprocess.Popen(
        [sys.executable, "-m", "packline", "run", method, "--sim", "--lot", "1",
         "--recipe", str(recipe), "--quiet", "--db", str(plans_path(db))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=functools.partial(os.nice, PLAN_NICENESS),
    )  # fmt: skip


@dataclass
class Estimate:
    """The time a run has left, measured against a `Schedule` (see the module's doc)."""

    schedule: Schedule
    #: Steps each wafer position has completed (or found completed on resume).
    done: dict[int, int] = field(default_factory=dict)
    #: Positions of wafers that will do no more steps (held, terminated, scrapped).
    stopped: set[int] = field(default_factory=set)
    #: The run clock at the last change, the schedule's point then, and the end times of the
    #: schedule's steps still to come (sorted).
    _since_t: float = 0.0
    _point_s: float = 0.0
    _ends: list[float] = field(default_factory=list)
    _paused_s: float = 0.0
    _paused_at: float | None = None

    def __post_init__(self) -> None:
        self._replan(0.0)

    def start(self, t: float) -> None:
        """The run (or this session of it) starts at run clock `t`."""
        self._since_t, self._paused_s = t, 0.0

    def step_done(self, position: int, t: float) -> None:
        """The wafer at `position` completed (or skipped as done before) a step."""
        self.done[position] = self.done.get(position, 0) + 1
        self._replan(t)

    def wafer_completed(self, position: int, t: float) -> None:
        """The wafer at `position` completed before this session: all its steps are done."""
        self.done[position] = self.schedule.steps_of(position)
        self._replan(t)

    def wafer_stopped(self, position: int, t: float) -> None:
        """The wafer at `position` does no more steps: its steps still to come leave the plan."""
        self.stopped.add(position)
        self._replan(t)

    def catch_up(self, done: Mapping[int, int], stopped: Iterable[int], t: float) -> None:
        """A schedule found while the run goes: the steps each position has done, and the
        positions that do no more, at run clock `t`."""
        self.done, self.stopped = dict(done), set(stopped)
        self._replan(t)

    def pause(self, t: float) -> None:
        """The run paused at `t`: the schedule's point stands still until `resume`."""
        if self._paused_at is None:
            self._paused_at = t

    def resume(self, t: float) -> None:
        if self._paused_at is not None:
            self._paused_s += t - self._paused_at
            self._paused_at = None

    def _replan(self, t: float) -> None:
        """Where the schedule is, now that the run has done its steps so far: the end of the
        schedule's n-th step for the run's n-th (a stopped wafer keeps only the steps it did)."""
        kept: dict[int, int] = {}
        live = []
        for step in self.schedule.steps:
            if step.position in self.stopped:
                kept[step.position] = kept.get(step.position, 0) + 1
                if kept[step.position] > self.done.get(step.position, 0):
                    continue
            live.append(step.end_s)
        count = min(sum(self.done.values()), len(live))
        self._point_s = live[count - 1] if count else 0.0
        self._ends = live[count:]
        self._since_t, self._paused_s = t, 0.0
        if self._paused_at is not None:
            self._paused_at = t

    def remaining_s(self, t: float) -> float:
        """The time left at run clock `t`: the schedule's end less its point now, where the
        point advances with the running clock from the last completed step up to when the
        schedule's next step ended."""
        if not self._ends:
            return 0.0
        paused_now = 0.0 if self._paused_at is None else t - self._paused_at
        running_s = max(0.0, t - self._since_t - self._paused_s - paused_now)
        point = min(self._point_s + running_s, self._ends[0])
        return max(0.0, self._ends[-1] + self.schedule.tail_s - point)


def eta_text(
    remaining_s: float | None,
    basis: str,
    *,
    simulated: bool,
    now_wall: float | None = None,
    left: bool = True,
) -> str:
    """The time a run has left as the live view and the dashboard say it: `left about H:MM:SS`
    (unless not `left`, on a station), on a station (wall clock) the time of day it ends
    (`ETA 14:32`), then the schedule's `basis`; without a schedule (`remaining_s` None),
    `basis` says why there is no estimate."""
    if remaining_s is None:
        return f"ETA unknown: {basis}"
    parts = [f"left about {clock_text(remaining_s)}"] if left or simulated else []
    if not simulated:
        now_wall = time.time() if now_wall is None else now_wall
        end = time.localtime(now_wall + remaining_s)
        today = time.localtime(now_wall).tm_yday == end.tm_yday
        parts.append(f"ETA {time.strftime('%H:%M' if today else '%a %H:%M', end)}")
    return f"{', '.join(parts)} ({basis})"


#: Why a run has no estimate yet, when nothing has been run of its recipe.
NO_BASIS = "no completed run of this recipe yet"


def run_eta(
    store: RunStore, run_id: str, now_wall: float | None = None
) -> tuple[float | None, str]:
    """The time a run being driven has left and its basis (`eta_text` says them), from its
    records alone (the dashboard: another process drives it): the same schedule the live view
    finds, fed the run's latest session as the view is fed its events, at the run clock now
    (on a station the wall clock since that session began, in a dry run the latest record's
    time); without a schedule, None and why."""
    now_wall = time.time() if now_wall is None else now_wall
    run = store.run(run_id)
    schedule = find_schedule(
        store,
        run["method"],
        run["recipe_hash"],
        run["lot_size"],
        time_scale=_time_scale(run),
        exclude_run=run_id,
    )
    if schedule is None:
        return None, NO_BASIS
    events = store.table("events", run_id)
    session = run["sessions"]
    began = [e for e in events if e["kind"] == "run-started" and e["session"] == session]
    start_t, start_wall = (
        (began[-1]["t"], began[-1]["wall"]) if began else (run["started_t"], run["started_wall"])
    )
    estimate = Estimate(schedule)
    estimate.start(start_t)
    positions = {w["wafer_id"]: w for w in store.wafers(run_id)}
    steps = [s for s in store.table("steps", run_id) if s["session"] == session]
    for wafer in positions.values():  # finished in an earlier session
        if wafer["status"] == "completed" and not any(
            s["wafer_id"] == wafer["wafer_id"] for s in steps
        ):
            estimate.wafer_completed(wafer["position"], start_t)
    timeline = sorted(
        [
            (s["stopped_t"], positions[s["wafer_id"]]["position"], estimate.step_done)
            for s in steps
            if s["kind"] in COUNTED_KINDS and s["status"] in ("completed", "skipped")
        ]
        + [
            (w["stopped_t"] or start_t, w["position"], estimate.wafer_stopped)
            for w in positions.values()
            if w["status"] in ("held", "terminated", "scrapped")
        ],
        key=lambda change: change[:2],
    )
    for t, position, change in timeline:
        change(position, t)
    if run["simulated"]:
        latest = [t for s in steps for t in (s["started_t"], s["stopped_t"]) if t is not None]
        now_t = max([start_t, *latest])
    else:
        now_t = start_t + now_wall - start_wall
    control = [e for e in events if e["session"] == session and e["kind"] in ("paused", "resumed")]
    if control and control[-1]["kind"] == "paused":
        estimate.pause(control[-1]["t"])
    return estimate.remaining_s(now_t), schedule.basis
