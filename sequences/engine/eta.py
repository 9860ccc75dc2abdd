"""The time a run has left by its schedule (`schedule.py`): the ETA the live view and the
dashboard show.

`Estimate` follows a run against it: with n steps of the run's wafers done (each step counted
once, whichever session did it: a resume skips the steps done before, a whole stage of them at
a time, and runs some again) the run is where the schedule was when its n-th step ended, so the
time left is the schedule's makespan less that point,
advancing with the run's clock until the schedule's next step should have ended (a step that
overruns holds the estimate instead of running it down). The live view feeds it the engine's
events; `run_eta` replays a driven run's records into it (the dashboard), against the schedule
`Schedules` found for the run once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .clearances import clear_wait
from .control import terminating
from .events import RESUME_PLAN
from .liveness import run_clock, shown_run
from .method import renamed_steps_of
from .plan import Plan
from .progress import clock_text
from .recorded_station import time_scale_of
from .records import RunStore
from .schedule import COUNTED_KINDS, Schedule, find_schedule, planned_schedule
from .wafer_status import STOPPED


@dataclass
class Estimate:
    """The time a run has left, measured against a `Schedule` (see the module's doc)."""

    schedule: Schedule
    #: Steps each wafer position has completed, in every session of the run (each once).
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

    def progressed(self, position: int, steps_done: int, t: float) -> None:
        """The wafer at `position` has completed `steps_done` steps of its script, each counted
        once in whichever session completed it."""
        self.done[position] = steps_done
        self._replan(t)

    def wafer_completed(self, position: int, t: float) -> None:
        """The wafer at `position` completed before this session: all its steps are done."""
        self.done[position] = self.schedule.steps_of(position)
        self._replan(t)

    def wafer_stopped(self, position: int, t: float) -> None:
        """The wafer at `position` does no more steps: its steps still to come leave the plan."""
        self.stopped.add(position)
        self._replan(t)

    def wafer_restarted(self, position: int, t: float) -> None:
        """The wafer at `position`, stopped, runs again (the steps it did stay done)."""
        self.stopped.discard(position)
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


#: Why a run has no time left to tell: every wafer left is held and the run waits for an
#: operator's clear of a tool (decision 0104), which no schedule can say when comes.
WAITING_FOR_A_CLEAR = "waiting for a clear"


#: Why a run's time left stands still before its lot starts: it is reaching its tools.
CONNECTING = "connecting to its tools"

#: Why a run has no time left to estimate: it is stopping each wafer at its next step
#: boundary, which ends it where no schedule of the whole lot does.
TERMINATING = "terminating"


def holding_reason(
    *,
    paused: bool,
    in_step: bool,
    waiting_for_clear: bool = False,
    connecting: bool = False,
    terminating: bool = False,
) -> str:
    """Why a run's time left stands still now, "" while it runs down: the run is
    `terminating` (`TERMINATING`: `eta_text` then gives no ETA, since the run ends as its
    wafers reach their next step boundaries: the dashboard had shown the whole lot's ETA
    beside `running, terminating since ...`), `paused`,
    `waiting_for_clear` (`WAITING_FOR_A_CLEAR`: no ETA either), `connecting`
    to its tools (`CONNECTING`: its lot has not started; only the live view sees a session
    then, the records have none of it), or `waiting` with no wafer in a step (for an
    operator's answer, a batch: time the schedule does not have). The live view
    (`LotState.holding`, from the engine's events) and the dashboard (`run_eta`, from the
    records) both say it so."""
    if terminating:
        return TERMINATING
    if paused:
        return "paused"
    if waiting_for_clear:
        return WAITING_FOR_A_CLEAR
    if connecting:
        return CONNECTING
    return "" if in_step else "waiting"


def eta_text(
    remaining_s: float | None,
    basis: str,
    holding: str = "",
    *,
    simulated: bool,
    now_wall: float | None = None,
    left: bool = True,
) -> str:
    """The time a run has left as the live view and the dashboard say it: `left about H:MM:SS`
    and why it stands still (`holding`, `holding_reason`: `(paused)`), on a station (wall
    clock) the time of day it ends (`ETA 14:32`), then the schedule's `basis`; without a
    schedule (`remaining_s` None), `basis` says why there is no estimate. Not `left` (the
    dashboard): a station's running estimate is the time of day alone, which stays put while
    the run keeps to its schedule; one that stands still says its time left and why, as the
    live view does, since its time of day moves on with the clock. A run waiting for a
    clear (`holding`, `WAITING_FOR_A_CLEAR`) has none: its wafers run again only once a tool
    is cleared, which the schedule cannot tell (its time left had read `0:00:00`, its ETA
    the time of day now)."""
    if holding == WAITING_FOR_A_CLEAR:
        return f"no ETA while the run is {WAITING_FOR_A_CLEAR}"
    if holding == TERMINATING:
        return f"no ETA while the run is {TERMINATING}: each wafer stops at its next step boundary"
    if remaining_s is None:
        return f"ETA unknown: {basis}"
    held = f" ({holding})" if holding else ""
    shown = left or simulated or holding
    parts = [f"left about {clock_text(remaining_s)}{held}"] if shown else []
    if not simulated:
        now_wall = time.time() if now_wall is None else now_wall
        end = time.localtime(now_wall + remaining_s)
        today = time.localtime(now_wall).tm_yday == end.tm_yday
        parts.append(f"ETA {time.strftime('%H:%M' if today else '%a %H:%M', end)}")
    return f"{', '.join(parts)} ({basis})"


#: Why a run has no estimate yet, when nothing has been run of its recipe.
NO_BASIS = "no completed run of this recipe yet"


class Schedules:
    """The schedule of each run being driven, found once per run: `find_schedule` reads every
    usable run of the recipe, which the dashboard, asking every second, must not repeat. For a
    run none was found for, only the recipe's plan is looked for again (`planned_schedule`: the
    run's live view may make it meanwhile, and then measures the run against it)."""

    def __init__(self) -> None:
        self._found: dict[str, Schedule | None] = {}

    def of(self, store: RunStore, run: Mapping[str, Any]) -> Schedule | None:
        """The schedule for `run` (its row of the runs table) of run database `store`."""
        lot = (run["method"], run["recipe_hash"], run["lot_size"])
        if run["id"] not in self._found:
            scale = time_scale_of(run)
            found = find_schedule(store, *lot, time_scale=scale, exclude_run=run["id"])
        else:
            found = self._found[run["id"]] or planned_schedule(store.path, *lot, time_scale_of(run))
        self._found[run["id"]] = found
        return found

    def keep(self, run_ids: Iterable[str]) -> None:
        """Forget every run but `run_ids` (those still driven)."""
        for run_id in self._found.keys() - set(run_ids):
            self._found.pop(run_id, None)


#: The statuses of a step record of this session that says its step is done: completed, or
#: skipped (the resume met it completed before, or carried out its release:
#: `plan.released_why`).
STEP_DONE = ("completed", "skipped")


def run_eta(
    store: RunStore,
    run_id: str,
    now_wall: float | None = None,
    schedules: Schedules | None = None,
) -> tuple[float | None, str, str]:
    """The time a run being driven has left, its basis and why it stands still (`eta_text`
    says them), from its records alone (the dashboard: another process drives it): the same
    schedule the live view finds (kept in `schedules` from one call to the next), fed the
    run's latest session as the view is fed its events, at the run clock now (`run_clock`),
    standing still as the view's while the run is paused or no step runs
    (`holding_reason`); without a schedule, None and why."""
    now_wall = time.time() if now_wall is None else now_wall
    run = store.run(run_id)
    waiting = clear_wait(store, run) is not None
    stopping = terminating(store, shown_run(run)) is not None
    schedule = (schedules or Schedules()).of(store, run)
    if schedule is None:
        unestimated = holding_reason(
            paused=False, in_step=True, waiting_for_clear=waiting, terminating=stopping
        )
        return None, NO_BASIS, unestimated
    events = store.events(run_id)
    session = run["sessions"]
    every_step = store.table("steps", run_id)
    steps = [s for s in every_step if s["session"] == session]
    start_t, now_t = run_clock(run, events, steps, now_wall)
    estimate = Estimate(schedule)
    estimate.start(start_t)
    positions = {w["wafer_id"]: w for w in store.wafers(run_id)}
    # the steps each wafer completed in the sessions before, read as the resume's plan reads
    # them to seed its live view (`Plan.completed_steps`: a step released counts as done, a
    # step recorded under its name before a rename under its name now)
    before = Plan.from_records(
        [s for s in every_step if s["session"] < session],
        positions.values(),
        renamed_steps=renamed_steps_of(run["method"]),
    )
    done = {wafer_id: set(before.completed_steps(wafer_id)) for wafer_id in positions}
    for wafer_id, wafer in positions.items():
        if wafer["status"] == "completed" and not any(s["wafer_id"] == wafer_id for s in steps):
            estimate.wafer_completed(wafer["position"], start_t)  # in a session before
        elif done[wafer_id]:
            estimate.progressed(wafer["position"], len(done[wafer_id]), start_t)
    # then this session's steps (one skipped as done before counts once; one released, at its
    # skip) and the wafers stopped, in the order they came
    again = runs_again(events, session, positions.values())
    timeline = sorted(
        [
            (s["stopped_t"], positions[s["wafer_id"]]["position"], s["wafer_id"], s["key"])
            for s in steps
            if s["kind"] in COUNTED_KINDS and s["status"] in STEP_DONE
        ]
        + [
            (w["stopped_t"] or start_t, w["position"], w["wafer_id"], None)
            for w in positions.values()
            if w["status"] in STOPPED and w["wafer_id"] not in again
        ],
        key=lambda change: change[:2],
    )
    for t, position, wafer_id, key in timeline:
        if key is None:
            estimate.wafer_stopped(position, t)
        else:
            done[wafer_id].add(key)
            estimate.progressed(position, len(done[wafer_id]), t)
    in_step = any(s["kind"] in COUNTED_KINDS and s["status"] == "running" for s in steps)
    pause = current_pause(events, session)
    holding = holding_reason(
        paused=pause is not None, in_step=in_step, waiting_for_clear=waiting, terminating=stopping
    )
    if pause is not None:
        estimate.pause(pause["t"])
    elif holding:  # waiting since its latest step ended
        estimate.pause(max([start_t, *(s["stopped_t"] for s in steps if s["stopped_t"])]))
    return estimate.remaining_s(now_t), schedule.basis, holding


def runs_again(
    events: Iterable[Mapping[str, Any]], session: int, wafers: Iterable[Mapping[str, Any]]
) -> set[str]:
    """The wafers a resume, session `session` of a run with `events` and `wafers` (their
    records), runs again that it has not stopped: those its `resume-plan` names (a wafer an
    earlier session terminated, or held and an operator released), but for each whose record
    says it stopped since that plan (what the live view hears as `wafer-finished`, an event
    the records do not keep: a wafer held again in the resume had counted as running on).
    Until its task starts in the session, such a wafer's record still says the earlier
    session's stop (`terminated`, `held`), which the live view, seeded by the resume's plan,
    does not count: counted stopped, a resume of a lot every wafer of which was terminated
    read `left about 0:00:00` on the dashboard while it reached and recovered its tools."""
    plans = [e for e in events if e["session"] == session and e["kind"] == RESUME_PLAN]
    if not plans:
        return set()
    planned = {wafer_id for plan in plans for wafer_id in plan["data"]["wafers"]}
    since = plans[0]["wall"]
    ended = {
        w["wafer_id"]
        for w in wafers
        if w["status"] in STOPPED and w["stopped_wall"] is not None and w["stopped_wall"] >= since
    }
    return planned - ended


def current_pause(events: Iterable[Mapping[str, Any]], session: int) -> Mapping[str, Any] | None:
    """The `paused` event of a run's session `session` that no `resumed` followed (the pause
    it is in now), else None."""
    control = [e for e in events if e["session"] == session and e["kind"] in ("paused", "resumed")]
    return control[-1] if control and control[-1]["kind"] == "paused" else None
