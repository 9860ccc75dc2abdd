"""Run control: pause, resume, terminate and abort, from Ctrl-C, another process, or a policy.

Pause takes effect at step boundaries and pause points outside stages: steps already running
finish, and a wafer inside a stage (holding a tool: its load, process, cool and unload) runs the
stage to its end, then the wafer waits (decision 0097: a pause never separates the steps a
wafer does on one tool, leaving it in a heated laminator). Once every running step and stage
has ended, a dry run's virtual clock is frozen (simulated time does not pass while the line is
paused, so no batch or tool-wait timeout fires during a pause). A pause lasts at most
`pause_timeout_s` of wall time; after that the run is terminated, so a forgotten pause still
ends with every tool in its safe state.

Terminate makes every wafer stop at its next boundary (`RunTerminated`); the engine then runs
the tools' recovery and leaves them safe. Abort is the engine's business (it cancels the wafer
tasks at once); here it is only a state that boundaries also refuse to pass.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from packline.clock import Clock
from packline.who_when import by_whom, clock_time

from .errors import RunTerminated
from .events import FAULT_CLEARED, FAULT_INJECTED
from .liveness import DRIVEN

if TYPE_CHECKING:
    from .records import RunStore

DEFAULT_PAUSE_TIMEOUT_S = 8 * 3600.0
#: What `RunControl.apply` (and the `control` table) accepts.
CONTROL_COMMANDS = ("pause", "resume", "terminate", "abort")
#: The `control` table's order to put an alarmed tool back in service (`Order.tool`).
CLEAR_TOOL = "clear-tool"


@dataclass(frozen=True)
class Order:
    """An order another process posts to a run (a row of the `control` table): one of
    `CONTROL_COMMANDS` or `CLEAR_TOOL`, who gave it (`packline pause RUN --by NAME`) and the
    tool a clear is of; or `FAULT_INJECTED` (`FAULT_CLEARED`), not an order but a fact the
    run records as its event of that kind: a fault `packline sim fault` injected on (cleared
    from) a tool of the served line the run drives, the tool, the fault, the Unix time the
    line did it at (`wall`) and who had it done; of a fault the tool cleared itself, which
    the served line tells (`packline sim serve`: a dicing saw's new blade, decision 0119),
    how (`on_tool`), by nobody. The row holds the command, then the other fields as JSON."""

    command: str
    by: str | None = None
    tool: str | None = None
    fault: str | None = None
    wall: float | None = None
    on_tool: str | None = None

    def text(self) -> str:
        """The order as its row holds it."""
        given = (("tool", self.tool), ("by", self.by), ("fault", self.fault), ("wall", self.wall),
                 ("on_tool", self.on_tool))  # fmt: skip
        fields = {name: value for name, value in given if value}
        return f"{self.command} {json.dumps(fields)}" if fields else self.command

    @classmethod
    def read(cls, text: str) -> Order | None:
        """The order row `text` holds; None for a row no packline command wrote (among them
        one that says how a tool cleared a fault itself, `on_tool`, of anything but a fault
        cleared: a fault injected so would be recorded with a cure it never had)."""
        command, _, data = text.partition(" ")
        try:
            fields = json.loads(data) if data else {}
            named = (fields.get(name) for name in ("by", "tool", "fault", "wall", "on_tool"))
            order = cls(command, *named)
        except (ValueError, AttributeError):  # not JSON, or not an object
            return None
        if order.on_tool is not None and command != FAULT_CLEARED:
            return None
        if command in CONTROL_COMMANDS or (command == CLEAR_TOOL and order.tool and order.by):
            return order
        told_by = order.by or (command == FAULT_CLEARED and order.on_tool)
        if command in (FAULT_INJECTED, FAULT_CLEARED) and order.tool and order.fault and told_by:
            return order if isinstance(order.wall, int | float) else None
        return None

    @property
    def reason(self) -> str:
        """What the run's event says of it: the command, by whom, from where."""
        by = f" by {self.by}" if self.by else ""
        return f"{self.command} requested{by} from another process"


@dataclass(frozen=True, eq=False)
class StageUnderWay:
    """A stage a wafer (or a batch) is in: a pause waits for its end (`RunControl.stage`)."""

    wafers: tuple[str, ...]
    tool: str


class RunState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    TERMINATING = "terminating"
    ABORTING = "aborting"


@dataclass(frozen=True)
class Terminating:
    """A terminate a run still driven has taken and not yet carried out (its wafers stop at
    their next step boundary, a step under way ending first): since when, by its `terminating`
    event's run clock and wall clock, why (the event's message: `terminate requested by bo
    from another process`, `SIGTERM`, a failure policy's) and who ordered it (`by`, None when
    nobody is named)."""

    since_t: float
    since_wall: float
    reason: str
    by: str | None

    def text(self) -> str:
        """The terminate as `runs` and the dashboard say it beside the run's status, as they
        say a pause from its request on: `terminating since 14:58:03 by bo: each wafer stops at
        its next step boundary` (the run had read plain `running` until its last wafer
        stopped, some 15 s on a served line)."""
        return (
            f"terminating since {clock_time(self.since_wall)}{by_whom(self.by)}: each wafer "
            "stops at its next step boundary"
        )

    def as_json(self) -> dict[str, Any]:
        """The terminate as `runs --json` and the dashboard give it: `since_t` (run clock),
        `since_wall` (Unix time), `reason`, `by` and `text`."""
        return {
            "since_t": self.since_t,
            "since_wall": self.since_wall,
            "reason": self.reason,
            "by": self.by,
            "text": self.text(),
        }


def terminating(store: RunStore, run: Mapping[str, Any]) -> Terminating | None:
    """The terminate run `run` (its runs row, its status as shown: `shown_run`) is carrying
    out: its latest session's `terminating` event, while a live process still drives the run
    (running or paused; once it ends, its status says how); None when it has none."""
    if run["status"] not in DRIVEN:
        return None
    taken = [
        row
        for row in store.events(run["id"])
        if row["session"] == run["sessions"] and row["kind"] == RunState.TERMINATING
    ]
    if not taken:
        return None
    event = taken[-1]
    return Terminating(event["t"], event["wall"], event["message"], event["data"].get("by"))


def terminating_json(store: RunStore, run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The terminate run `run` is carrying out (`terminating`) as `runs --json`, the
    dashboard and `show --json` give it (`Terminating.as_json`); None when it has none."""
    taken = terminating(store, run)
    return None if taken is None else taken.as_json()


class RunControl:
    """The run's state as steps see it at their boundaries."""

    def __init__(
        self,
        clock: Clock,
        on_change: Callable[[RunState, str, str | None], None],
        pause_timeout_s: float = DEFAULT_PAUSE_TIMEOUT_S,
    ) -> None:
        self.clock = clock
        self.state = RunState.RUNNING
        self.reason = ""
        #: Who ordered the state the run is in (`--by`, the operator at the terminal), None
        #: for a policy's order or one nobody named.
        self.by: str | None = None
        self.pause_timeout_s = pause_timeout_s
        self._on_change = on_change
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._stopping = asyncio.Event()
        #: The steps and stages under way: a paused dry run's clock runs until none is.
        self._under_way = 0
        #: The stages under way, in the order they started: a pause waits for their ends.
        self.stages: list[StageUnderWay] = []
        self._freeze: AbstractContextManager[None] | None = None

    # ----------------------------------------------------------------- requests

    # Each request names why (`reason`) and, when a person gave it, who (`by`).

    def pause(self, reason: str, by: str | None = None) -> None:
        if self.state is RunState.RUNNING:
            self._set(RunState.PAUSED, reason, by)
            self._resumed.clear()

    def resume(self, reason: str = "resumed", by: str | None = None) -> None:
        if self.state is RunState.PAUSED:
            self._set(RunState.RUNNING, reason, by)
            self._resumed.set()

    def terminate(self, reason: str, by: str | None = None) -> None:
        if self.state in (RunState.RUNNING, RunState.PAUSED):
            self._set(RunState.TERMINATING, reason, by)
            self._resumed.set()

    def abort(self, reason: str, by: str | None = None) -> None:
        if self.state is not RunState.ABORTING:
            self._set(RunState.ABORTING, reason, by)
            self._resumed.set()

    def apply(self, command: str, reason: str, by: str | None = None) -> None:
        """Apply a command by name (one of `CONTROL_COMMANDS`)."""
        if command not in CONTROL_COMMANDS:
            raise ValueError(
                f"unknown run control command {command!r}; use {', '.join(CONTROL_COMMANDS)}"
            )
        getattr(self, command)(reason, by)

    def _set(self, state: RunState, reason: str, by: str | None) -> None:
        self.state, self.reason, self.by = state, reason, by
        if self.stopping:
            self._stopping.set()
        self._update_freeze()
        self._on_change(state, reason, by)

    # ----------------------------------------------------------------- what steps call

    @property
    def stopping(self) -> bool:
        return self.state in (RunState.TERMINATING, RunState.ABORTING)

    async def until_stopping(self) -> None:
        """Return once the run is being terminated or aborted (a wait it ends: an operator's
        confirmation)."""
        await self._stopping.wait()

    async def boundary(self, in_stage: bool = False) -> None:
        """Called between steps: wait out a pause, raise `RunTerminated` when stopping. A
        wafer `in_stage` (holding a tool) does not wait for a pause: its stage runs to its end
        first, its steps on the tool never separated (decision 0097); a stop still stops it."""
        if self.state is RunState.PAUSED and not in_stage:
            try:
                await asyncio.wait_for(self._resumed.wait(), self.pause_timeout_s)
            except TimeoutError:
                self.terminate(f"paused for longer than {self.pause_timeout_s:g} s")
        if self.stopping:
            raise RunTerminated(self.reason)

    def step_started(self) -> None:
        self._under_way += 1
        self._update_freeze()

    def step_ended(self) -> None:
        self._under_way -= 1
        self._update_freeze()

    @contextmanager
    def stage(self, wafer_ids: Sequence[str], tool: str) -> Iterator[None]:
        """A stage of `wafer_ids` on `tool` under way: a pause waits for its end, the paused
        dry run's clock running until it has (its steps' boundaries let it go on)."""
        stage = StageUnderWay(tuple(wafer_ids), tool)
        self.stages.append(stage)
        self.step_started()
        try:
            yield
        finally:
            self.stages.remove(stage)
            self.step_ended()

    async def pause_point(self, in_stage: bool = False) -> None:
        """A boundary inside a long step: the step counts as stopped while it waits here (a
        step of a stage does not wait for a pause, as at its boundary: `boundary`)."""
        self.step_ended()
        try:
            await self.boundary(in_stage)
        finally:
            self.step_started()

    def release(self) -> None:
        """Unfreeze the clock for good (the run is ending)."""
        if self._freeze is not None:
            self._freeze.__exit__(None, None, None)
            self._freeze = None

    def _update_freeze(self) -> None:
        frozen = self.state is RunState.PAUSED and self._under_way == 0
        if frozen and self._freeze is None:
            self._freeze = self.clock.activity()
            self._freeze.__enter__()
        elif not frozen:
            self.release()
