"""The live view of a run on the terminal: `LiveView`, an observer of the engine's events that
keeps the lot's state (`lot_state.py`) and draws it four times a second (`lot_view.py`)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.live import Live

from .dispositions import decision_text, pending_decisions
from .eta import NO_BASIS
from .events import CONTROL_IGNORED, NOTHING_TO_PAUSE, RESUME_PLAN, Event
from .lot_state import LotState
from .lot_view import render_lot
from .plan import FINISHED, Plan
from .progress import told_line
from .records import db_option
from .report import first_step_starts
from .request import least_lot
from .schedule import RECIPE_BASIS, find_schedule, plan_recipe, planned_schedule

if TYPE_CHECKING:
    from .engine import Engine

#: What the ETA says while the recipe is being planned.
PLANNING = f"planning it {RECIPE_BASIS}"
#: Wall seconds a killed planning process is given to be reaped.
PLANNER_EXIT_S = 10.0


@dataclass(frozen=True)
class Planning:
    """A lot to plan from its recipe's step times (a view attached without a schedule): the
    run database, the method, the recipe (its text and hash), the lot's size, the line's time
    scale and the lot a plan runs, the least the recipe makes (`request.least_lot`)."""

    db: Path
    method: str
    recipe_text: str
    recipe_hash: str
    lot_size: int
    time_scale: float
    plan_lot: int


def _resume_decision(plan: Plan, wafer_id: str, decided: dict[str, Any] | None) -> tuple[str, str]:
    """The status a resume's view gives `wafer_id`, not finished before it, and what the resume
    decided for it, as its records will say: `held` and why, for a wafer it holds again
    before it runs (`Plan.hold_reason`: an irreversible step cut off); else `queued`, with the
    decision it carries out of a held wafer run again (`decided`, its `dispositions` row:
    `runs again (rework by ana: retry)`; none, `runs again (held for want of a tool)`) and
    what it does with the steps an earlier session left cut off (`Plan.cut_off_text`)."""
    reason = plan.hold_reason(wafer_id)
    if reason is not None:
        return "held", reason
    again = ""
    if wafer_id in plan.run_again:
        again = f"runs again ({decision_text(decided) if decided else 'held for want of a tool'})"
    return "queued", "; ".join(part for part in (again, plan.cut_off_text(wafer_id)) if part)


class LiveView:
    """The lot on the terminal while it runs; use as a context manager around the run.

    `attach` it to the engine before the run: the clock it shows then ticks with the engine's
    run clock (the wall clock on a station, the simulated clock in a dry run) between events,
    and the time left comes from the schedule of a dry run of the same recipe. The view is
    redrawn in place four times a second, always within the terminal's height, and cleared at
    the end: the run's summary is what stays on the screen (and a planning dry run still
    going is stopped). While the operator is asked
    something the view is `suspended`: not redrawn, its frame as it stood drawn once above
    the question (`render` within the lines the question leaves). A resume's plan, the wafers
    it runs, is printed above the view (`_print`), where it stays, as is an order not carried
    out and a pause with nothing left to pause.
    """

    def __init__(self, console: Console, title: str = "") -> None:
        self.console = console
        self.state = LotState(title)
        self.clock: Callable[[], float] | None = None
        #: How many times faster than process time the run's clock passes on its line
        #: (`attach`): the lines printed above the view and each wafer's time on the line read
        #: on the process clock.
        self.time_scale = 1.0
        self._live = self._new_live()
        self._shown = False  # entered and not exited: the view belongs on the screen
        self._plan: Planning | None = None  # attached without a schedule: plan the recipe
        self._planner: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    def _new_live(self) -> Live:
        """A rich `Live` drawing this view (a stopped one is not restarted: it would first
        move the cursor up over the height of its last frame, erasing what is above)."""
        return Live(
            console=self.console,
            refresh_per_second=4,
            transient=True,
            get_renderable=self.render,
        )

    def attach(self, engine: Engine, *, plan: bool = True) -> None:
        """Follow `engine`: its title, clock, its line's `time_scale` (the lines printed above the
        view, `told_line`, and each wafer's time on the line read on the line's process clock),
        tools, the lot it will run while it connects to its tools (`LotState.expect_lot`: no
        event tells a wafer before the run starts),
        the wafers an earlier session finished (as this session's plan has them: a wafer terminated
        then runs again, and so does a held one an operator released; each on the line since its
        first step, in whichever session, with the steps it completed in them), what the resume
        decided for each other wafer (`_resume_decision`: shown from the first frame, where the
        resume says it only once connected, or, of a wafer it holds again, once its tools are
        recovered), and the line's schedule for its lot (`schedule.find_schedule`). Without one, and
        with `plan`, the view plans the recipe from its step times (a dry run of the least lot it
        makes in a process of its own, `schedule.plan_recipe`) when it is entered, and measures the
        run against that once it is done."""
        spec = engine.spec
        self.state.title = f"{engine.method.name}  run {engine.run_id}"
        self.state.simulated = spec.station.simulated
        self.clock = engine.t
        self.time_scale = spec.station.time_scale
        self.state.db_option = db_option(engine.store.path)
        self.state.add_tools(
            [name for name, tool in spec.station.tools.items() if tool.role in engine.roles]
        )
        if engine.connecting:
            self.state.expect_lot(len(spec.wafer_ids), spec.lot.lot_id)
        first_step_t = first_step_starts(engine.store.table("steps", engine.run_id))
        decided = pending_decisions(engine.store, engine.run_id)
        for wafer in engine.store.wafers(engine.run_id):
            wafer_id = wafer["wafer_id"]
            status = engine.plan.wafer_status.get(wafer_id, wafer["status"])
            note = wafer["reason"] or ""
            if status not in FINISHED:
                status, note = _resume_decision(engine.plan, wafer_id, decided.get(wafer_id))
            self.state.seed(
                wafer_id,
                wafer["position"],
                status,
                note,
                (first_step_t.get(wafer_id), wafer["stopped_t"]),
                engine.plan.completed_steps(wafer_id),
            )
        lot = Planning(
            engine.store.path,
            engine.method.name,
            spec.recipe_text,
            engine.recipe.recipe_hash(),
            len(spec.wafer_ids),
            spec.station.time_scale,
            least_lot(engine.recipe),
        )
        schedule = find_schedule(
            engine.store,
            lot.method,
            lot.recipe_hash,
            lot.lot_size,
            time_scale=lot.time_scale,
            exclude_run=engine.run_id,
        )
        if schedule is None and plan:
            self._plan = lot
        self.state.set_schedule(schedule, PLANNING if self._plan else NO_BASIS)

    def __enter__(self) -> LiveView:
        if (lot := self._plan) is not None:
            self._workdir = tempfile.TemporaryDirectory(prefix="packline-plan-")
            workdir = Path(self._workdir.name)
            self._planner = plan_recipe(lot.db, lot.method, lot.recipe_text, lot.plan_lot, workdir)
        # drawn at once: a line printed above it (`_print`) before its first refresh would
        # redraw the frame it was made with, the view's before `attach`
        self._live.start(refresh=True)
        self._shown = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._shown = False
        self._live.__exit__(*exc_info)
        if self._planner is not None:
            self._planner.kill()  # done or not: its plan is of no use after the run
            self._planner.wait(timeout=PLANNER_EXIT_S)
            self._planner = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @property
    def planner(self) -> subprocess.Popen[bytes] | None:
        """The planning dry run while it goes (entered without a schedule), else None."""
        return self._planner

    def _take_plan(self) -> None:
        """Measure the run against the recipe's plan once the planning dry run has ended."""
        lot = self._plan
        if self._planner is None or self._planner.poll() is None or lot is None:
            return
        self._plan, self._planner = None, None
        schedule = planned_schedule(
            lot.db, lot.method, lot.recipe_hash, lot.lot_size, lot.time_scale
        )
        self.state.set_schedule(schedule, NO_BASIS, self.now())

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Clear the view and stop redrawing it for the block (a question to the operator is
        asked, under a frame drawn once), then draw it again where the block leaves the
        cursor; a view exited meanwhile (the run ended) stays cleared."""
        self._live.stop()
        try:
            yield
        finally:
            if self._shown:
                self._live = self._new_live()
                self._live.start(refresh=True)

    def __call__(self, event: Event) -> None:
        self.state.apply(event)
        if event.kind in (RESUME_PLAN, CONTROL_IGNORED, NOTHING_TO_PAUSE):
            self._print(event)
        self._take_plan()

    def _print(self, event: Event) -> None:
        """Print `event` above the frame, on one line as `packline show` lists it and a piped
        run prints it (`told_line`), where it stays once the frame is cleared: a resume's
        plan, the wafers it runs (those not started yet said so), which the frame, showing
        every wafer, does not tell, and which the operator reads before its recovery or any
        step drives a tool; an order the run did not carry out, and why (a command typed at
        the terminal that the menu does not offer then), which the frame does not show; a
        pause that had nothing left to pause, the run ending (the frame, cleared then, had
        read PAUSED to its end)."""
        line = told_line(event, self.time_scale, self.state.db_option)
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def now(self) -> float:
        """The run clock now: the engine's, else the last event's."""
        return self.clock() if self.clock is not None else self.state.last_t

    def remaining_s(self) -> float | None:
        """The time the lot has left by the schedule (None without one)."""
        return self.state.remaining_s(self.now())

    def render(self, height: int | None = None) -> RenderableType:
        """The frame now, within the terminal, or within `height` lines of it (a question
        below it takes the rest)."""
        size = self.console.size
        shown = size.height if height is None else height
        return render_lot(self.console, self.state, self.now(), size.width, shown, self.time_scale)
