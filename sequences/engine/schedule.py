"""The line's schedule for a lot, from a dry run of the same recipe, and the time left by it.

A method's steps are code, not a list: how many steps a wafer has and how long the lot takes
with its wafers pipelined through shared tools and batches is known only by running it. A dry
run of the same method, recipe and lot size on the simulated line does exactly that, on the
same process times a station's tools take (docs/decisions/0023). Its step records are the
`Schedule`: when each step of the wafer at each position ended, the lot's makespan and each
position's number of steps. `Estimate` follows a run against it: the n-th step the run
completes is where the schedule was when its n-th step ended, so the time left is the
schedule's makespan less that point, advancing with the run's clock until the schedule's next
step should have ended (a step that overruns holds the estimate instead of running it down).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .records import RunStore

#: Step kinds a wafer's progress counts (a stage or a batch only groups steps on a tool).
COUNTED_KINDS = ("step", "batch-step")


@dataclass(frozen=True, order=True)
class ScheduledStep:
    """One step of the schedule: when it ended (run-clock seconds from the lot's start), the
    position of its wafer in the lot, and its checkpoint key (name#occurrence)."""

    end_s: float
    position: int
    key: str


@dataclass(frozen=True)
class Schedule:
    """A dry run's timeline of a lot: the run it comes from and its steps in end order."""

    run_id: str
    steps: tuple[ScheduledStep, ...]
    makespan_s: float

    @classmethod
    def from_rows(
        cls,
        run_id: str,
        steps: Iterable[Mapping[str, Any]],
        positions: Mapping[str, int],
        started_t: float,
        stopped_t: float,
        time_scale: float = 1.0,
    ) -> Schedule:
        """The schedule of a completed run's step records; `time_scale`: how many times faster
        than the dry run's process time the run it is for passes (a served line's
        `time_scale`, whose run clock is the wall clock)."""
        ends = sorted(
            ScheduledStep(
                (row["stopped_t"] - started_t) / time_scale, positions[row["wafer_id"]], row["key"]
            )
            for row in steps
            if row["kind"] in COUNTED_KINDS and row["status"] == "completed"
        )
        return cls(run_id, tuple(ends), (stopped_t - started_t) / time_scale)

    @property
    def tail_s(self) -> float:
        """The lot's time after its last step ended (closing the run, shutting tools down)."""
        return self.makespan_s - self.steps[-1].end_s if self.steps else self.makespan_s

    def steps_of(self, position: int) -> int:
        """How many steps the wafer at `position` has."""
        return sum(1 for step in self.steps if step.position == position)


def recorded_schedule(
    store: RunStore,
    method: str,
    recipe_hash: str,
    lot_size: int,
    *,
    time_scale: float = 1.0,
    exclude_run: str | None = None,
) -> Schedule | None:
    """The schedule of the latest dry run of this method, recipe and lot size that completed
    every wafer in one session, or None when there is none."""
    for run in store.runs(limit=1000, method=method, recipe=recipe_hash):
        if (
            run["id"] == exclude_run
            or not run["simulated"]
            or run["status"] != "completed"
            or run["lot_size"] != lot_size
            or run["recipe_hash"] != recipe_hash
            or store.run(run["id"])["sessions"] != 1
        ):
            continue
        positions = {w["wafer_id"]: w["position"] for w in store.wafers(run["id"])}
        return Schedule.from_rows(
            run["id"],
            store.table("steps", run["id"]),
            positions,
            run["started_t"],
            run["stopped_t"],
            time_scale,
        )
    return None


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
