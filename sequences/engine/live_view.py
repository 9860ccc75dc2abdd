"""The live view of a run on the terminal: `LiveView`, an observer of the engine's events that
keeps the lot's state (`lot_state.py`) and draws it four times a second (`lot_view.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.live import Live

from .events import Event
from .lot_state import LotState
from .lot_view import render_lot
from .schedule import recorded_schedule

if TYPE_CHECKING:
    from .engine import Engine


class LiveView:
    """The lot on the terminal while it runs; use as a context manager around the run.

    `attach` it to the engine before the run: the clock it shows then ticks with the engine's
    run clock (the wall clock on a station, the simulated clock in a dry run) between events,
    and the time left comes from the schedule of a dry run of the same recipe. The view is
    redrawn in place four times a second, always within the terminal's height, and cleared at
    the end: the run's summary is what stays on the screen. While the operator is asked
    something the view is `suspended`: cleared and not redrawn, so the question has the screen.
    """

    def __init__(self, console: Console, title: str = "") -> None:
        self.console = console
        self.state = LotState(title)
        self.clock: Callable[[], float] | None = None
        self._live = self._new_live()
        self._shown = False  # entered and not exited: the view belongs on the screen

    def _new_live(self) -> Live:
        """A rich `Live` drawing this view (a stopped one is not restarted: it would first
        move the cursor up over the height of its last frame, erasing what is above)."""
        return Live(
            console=self.console,
            refresh_per_second=4,
            transient=True,
            get_renderable=self.render,
        )

    def attach(self, engine: Engine) -> None:
        """Follow `engine`: its title, clock, tools, the wafers an earlier session finished,
        and the schedule of the latest dry run of its method, recipe and lot size."""
        spec = engine.spec
        self.state.title = f"{engine.method.name}  run {engine.run_id}"
        self.state.simulated = spec.station.simulated
        self.clock = engine.t
        self.state.add_tools(
            [name for name, tool in spec.station.tools.items() if tool.role in engine.method.tools]
        )
        for wafer in engine.store.wafers(engine.run_id):
            self.state.seed(
                wafer["wafer_id"], wafer["position"], wafer["status"], wafer["reason"] or ""
            )
        schedule = recorded_schedule(
            engine.store,
            engine.method.name,
            engine.recipe.recipe_hash(),
            len(spec.wafer_ids),
            time_scale=spec.station.time_scale,
            exclude_run=engine.run_id,
        )
        self.state.set_schedule(
            schedule,
            f"by dry run {schedule.run_id}"
            if schedule
            else "unknown until a dry run of this recipe and lot size completes (--sim)",
        )

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        self._shown = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._shown = False
        self._live.__exit__(*exc_info)

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Clear the view and stop redrawing it for the block (a question to the operator
        has the screen), then draw it again where the block leaves the cursor; a view exited
        meanwhile (the run ended) stays cleared."""
        self._live.stop()
        try:
            yield
        finally:
            if self._shown:
                self._live = self._new_live()
                self._live.start(refresh=True)

    def __call__(self, event: Event) -> None:
        self.state.apply(event)

    def now(self) -> float:
        """The run clock now: the engine's, else the last event's."""
        return self.clock() if self.clock is not None else self.state.last_t

    def remaining_s(self) -> float | None:
        """The time the lot has left by the schedule (None without one)."""
        return self.state.remaining_s(self.now())

    def render(self) -> RenderableType:
        size = self.console.size
        return render_lot(self.console, self.state, self.now(), size.width, size.height)
