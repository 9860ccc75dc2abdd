"""What the live view knows of a lot, from the engine's events: each wafer's state and step,
each tool's wafers, the run's pause, and the time left by the line's schedule.

What a wafer is doing is told in the words of `wafer_status` (queued, running, waiting,
paused, then completed, held, terminated or scrapped), which the dashboard, `show` and `runs`
read from the records. The view reads this state from its refresh thread while the engine
writes it from the event loop: both go through `lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from .clearances import clear_command
from .eta import Estimate, holding_reason
from .events import Event
from .plan import FINISHED
from .progress import for_database
from .schedule import COUNTED_KINDS, Schedule
from .wafer_status import STOPPED, shown_wafer_status

#: Run-level events that change what the run as a whole is doing, and what it then is.
RUN_STATES = {
    "paused": "paused",
    "resumed": "running",
    "terminating": "terminating",
    "aborting": "aborting",
    "waiting-for-clear": "waiting for a clear",  # every wafer left held (engine.py)
}


@dataclass
class OpenStep:
    """A step or stage of a wafer that started and has not finished."""

    name: str
    kind: str
    tool: str
    key: str  # the step's checkpoint key (`name#occurrence`), one per step of the script


@dataclass
class WaferState:
    position: int
    status: str = "queued"
    #: Why it was held or stopped; of a resumed wafer still to run, until its first step in
    #: this session, what the resume decided for it (`LiveView.attach`).
    note: str = ""
    open: dict[int, OpenStep] = field(default_factory=dict)  # step id -> step
    #: The keys of the steps the wafer has completed in the run, in any session: what its row
    #: and the estimate count (a step a replayed stage runs again, or a resume skips, counted
    #: once; `eta.run_eta` counts them so from the records).
    done: set[str] = field(default_factory=set)
    started_t: float | None = None
    stopped_t: float | None = None

    def shown_status(self, run_state: str) -> str:
        """The status to show while the run is in `run_state`."""
        kinds = [step.kind for step in self.open.values()]
        return shown_wafer_status(self.status, kinds, run_state)

    def step(self) -> OpenStep | None:
        """The innermost open step (a step inside a stage), else the open stage."""
        steps = [s for s in self.open.values() if s.kind in COUNTED_KINDS]
        steps = steps or list(self.open.values())
        return steps[-1] if steps else None


class LotState:
    """The lot as the events tell it; `remaining_s` needs a schedule (`schedule.py`)."""

    def __init__(self, title: str = "") -> None:
        self.lock = threading.RLock()
        self.title = title
        self.simulated = False  # the run clock is simulated time, not the wall clock
        self.schedule_note = ""  # the schedule's basis, or why there is none
        self.wafers: dict[str, WaferState] = {}
        self.tools: dict[str, str] = {}  # tool -> "" in service, else why it is out of it
        self.clearing: dict[str, str] = {}  # tool -> the command that clears it, while it waits
        #: What the commands it shows need to find the run's records (`records.db_option` of
        #: its database: `for_database`), set as the view attaches to the run.
        self.db_option = ""
        self.run_state = "running"
        self.run_note = ""
        #: The message of the `waiting-for-clear` event while the run waits for a clear, a
        #: pause taken meanwhile included (its resume goes back to the wait), else "".
        self.clear_wait = ""
        self.started_t = 0.0
        self.last_t = 0.0
        #: The run is reaching its tools, its lot not started (`expect_lot` until its
        #: `run-started`): the wafers it will run (`lot_size`, of lot `lot_id` if it has one)
        #: are those of its command, which no event has told yet.
        self.connecting = False
        self.lot_size = 0
        self.lot_id: str | None = None
        self.finished = False
        self.estimate: Estimate | None = None

    def set_schedule(self, schedule: Schedule | None, note: str = "", t: float = 0.0) -> None:
        """Measure the run against `schedule` from now on (`t`, the run clock), counting what
        the run has done so far; `note` says why there is none."""
        with self.lock:
            self.schedule_note = schedule.basis if schedule is not None else note
            if schedule is None:
                self.estimate = None
                return
            self.estimate = Estimate(schedule)
            self.estimate.start(self.started_t)
            self._catch_up(self.estimate, t)
            self._hold(t)

    def _catch_up(self, estimate: Estimate, t: float) -> None:
        """Tell `estimate` what the run has done by run clock `t`: each wafer's steps (all of a
        completed one's), and the wafers that do no more."""
        done = {
            w.position: estimate.schedule.steps_of(w.position)
            if w.status == "completed"
            else len(w.done)
            for w in self.wafers.values()
        }
        stopped = [w.position for w in self.wafers.values() if w.status in STOPPED]
        estimate.catch_up(done, stopped, t)

    def expect_lot(self, lot_size: int, lot_id: str | None) -> None:
        """The run is connecting to its tools, to run `lot_size` wafers (of lot `lot_id`)."""
        with self.lock:
            self.connecting, self.lot_size, self.lot_id = True, lot_size, lot_id

    def add_tools(self, names: list[str]) -> None:
        with self.lock:
            for name in names:
                self.tools.setdefault(name, "")

    def seed(
        self,
        wafer_id: str,
        position: int,
        status: str,
        note: str = "",
        on_line_t: tuple[float | None, float | None] = (None, None),
        done: Iterable[str] = (),
    ) -> None:
        """A wafer of a resumed run as its plan has it (`plan.Plan.wafer_status`): finished
        before this session (completed, held or scrapped), or held by it before it runs, `note`
        saying why; else queued to run again, whatever an earlier session left (terminated,
        aborted), `note` saying what the resume decided for it; with the run clock its first
        step started at and it stopped at (`on_line_t`), which continues across sessions, and
        the keys of the steps it completed in them (`done`, `plan.Plan.completed_steps`)."""
        with self.lock:
            wafer = self.wafers.setdefault(wafer_id, WaferState(position))
            wafer.started_t, wafer.note = on_line_t[0], note
            wafer.done.update(done)
            if status in FINISHED:
                wafer.status, wafer.stopped_t = status, on_line_t[1]

    def apply(self, event: Event) -> None:
        with self.lock:
            self.last_t = event.t
            self._apply(event)

    def _apply(self, event: Event) -> None:
        if event.kind == "run-started":
            self.started_t, self.connecting = event.t, False
            for position, wafer_id in enumerate(event.data.get("wafers", [])):
                self.wafers.setdefault(wafer_id, WaferState(position))
            if self.estimate is not None:  # wafers finished in an earlier session count
                self.estimate.start(event.t)
                self._catch_up(self.estimate, event.t)
        elif event.kind == "resumed" and self.clear_wait:  # a pause taken while it waited
            self.run_state, self.run_note = RUN_STATES["waiting-for-clear"], self.clear_wait
        elif event.kind in RUN_STATES:
            note = for_database(event.message, self.db_option)
            self.run_state, self.run_note = RUN_STATES[event.kind], note
            if event.kind != "paused":  # the wait goes on through a pause; it ends otherwise
                self.clear_wait = note if event.kind == "waiting-for-clear" else ""
        elif event.kind == "tool-out-of-service" and event.tool:
            self.tools[event.tool] = for_database(event.message, self.db_option)
            if event.data.get("until_cleared"):
                self.clearing[event.tool] = clear_command(
                    event.run_id, event.tool, db_option=self.db_option
                )
        elif event.kind == "tool-cleared" and event.tool and event.data.get("cleared"):
            self.tools[event.tool] = ""  # a clear that did not clear it leaves it out
            self.clearing.pop(event.tool, None)
        elif event.kind == "run-finished":
            self.finished = True
        elif event.wafer in self.wafers:
            self._apply_to_wafer(self.wafers[event.wafer], event)
        self._hold(event.t)

    def holding(self) -> str:
        """Why the time left stands still now (`eta.holding_reason`), "" while it runs down
        or once the run has finished."""
        if self.finished:
            return ""
        in_step = any(
            step.kind in COUNTED_KINDS
            for wafer in self.wafers.values()
            for step in wafer.open.values()
        )
        return holding_reason(
            paused=self.run_state == "paused",
            in_step=in_step,
            waiting_for_clear=self.run_state == RUN_STATES["waiting-for-clear"],
            connecting=self.connecting,
            terminating=self.run_state == RUN_STATES["terminating"],
        )

    def _hold(self, t: float) -> None:
        """Stand the estimate still from `t` while `holding`, else let it run down."""
        if self.estimate is not None:
            (self.estimate.pause if self.holding() else self.estimate.resume)(t)

    def _apply_to_wafer(self, wafer: WaferState, event: Event) -> None:
        if event.kind == "wafer-started" and "back_in_service" in event.data:
            # held for want of a tool an operator has since cleared: it runs again, its steps
            # done before skipped
            wafer.status, wafer.note, wafer.stopped_t = "running", "", None
            if self.run_state == RUN_STATES["waiting-for-clear"]:
                self.run_state, self.run_note = "running", ""
            self.clear_wait = ""
            if self.estimate is not None:
                self.estimate.wafer_restarted(wafer.position, event.t)
        elif event.kind == "step-started":
            if event.tool:
                self.tools.setdefault(event.tool, "")
            opened = OpenStep(
                event.step or "",
                event.data.get("kind", "step"),
                event.tool or "",
                event.data.get("key", ""),
            )
            wafer.open[event.data["step_id"]] = opened
            if wafer.status == "queued":
                wafer.status, wafer.note = "running", ""  # the resume's decision, carried out
            if wafer.started_t is None and opened.kind in COUNTED_KINDS:
                # on the line from its first counted step, as the records have it
                # (`report.first_steps`), not from the batch or stage around it
                wafer.started_t = event.t
        elif event.kind == "step-finished":
            step = wafer.open.pop(event.data.get("step_id", -1), None)
            if step is not None and step.kind in COUNTED_KINDS and event.status == "completed":
                wafer.done.add(step.key)  # a skipped one is done already (`seed`)
                if self.estimate is not None:
                    self.estimate.progressed(wafer.position, len(wafer.done), event.t)
        elif event.kind == "wafer-finished":
            wafer.status, wafer.note, wafer.stopped_t = event.status or "", event.message, event.t
            wafer.open.clear()
            if self.estimate is not None and wafer.status != "completed":
                self.estimate.wafer_stopped(wafer.position, event.t)

    def remaining_s(self, t: float) -> float | None:
        """The time the lot has left at run clock `t` by the schedule; None without one."""
        with self.lock:
            return None if self.estimate is None else self.estimate.remaining_s(t)

    def total_steps(self, wafer: WaferState) -> int | None:
        """How many steps the wafer has by the schedule; None without one."""
        return None if self.estimate is None else self.estimate.schedule.steps_of(wafer.position)
