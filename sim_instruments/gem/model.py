"""What a simulated tool gives its GEM equipment: its values and commands, by dictionary name.

A `GemModel` wraps one of the simulated line's tools (its process model and workpiece physics)
for `GemEquipment` (`equipment.py`), which answers the host by the dictionary's ids: the model
says what the status variables and constants are, runs remote commands (or refuses them with
`GemRefused`), and pushes events and alarms through its equipment (`Pusher`).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from packline.clock import Clock
from packline.drivers.errors import ToolError
from packline.drivers.families.ascii_host_wire import HostSetpoint
from packline.drivers.specs.core import ToolSpec

from ..tool import SimulatedTool
from ..twin import TwinStore, WaferAlreadyProcessed
from .traces import SampledClock

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The longest process time between two looks at a tool whose run goes on.
WATCH_STEP_S = 1.0


class Pusher(Protocol):
    """What a model pushes to the host through its equipment."""

    async def send_event(self, name: str) -> None:
        """Send collection event `name` (S6F11) if the host enabled it."""

    async def report_alarms(self) -> None:
        """Send S5F1 for each alarm set or cleared since the last report."""


class GemRefused(Exception):
    """A remote command the model refuses: HCACK `hcack` (2 cannot perform now, 3 a parameter
    invalid, ...), and the parameters at fault (by the dictionary's role names, which the
    equipment answers by CPNAME) with their CPACK (1 no such parameter, 2 an illegal value, 3
    an illegal format)."""

    def __init__(self, hcack: int, text: str, parameters: Mapping[str, int] | None = None) -> None:
        super().__init__(text)
        self.hcack = hcack
        self.text = text
        self.parameters = dict(parameters or {})


class StatusUnavailable(Exception):
    """A status variable the tool cannot give now (`text` says why: its other face's refusal of
    the query behind it, a measurement of a wafer with none on the chuck). The equipment
    answers it as E30 answers one it does not know, an item of no element (`Variables.value`),
    never a made-up value such as 0."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class WorkpieceProcessed(GemRefused):
    """A plain load of a workpiece the tool processed last (the twin's `WaferAlreadyProcessed`
    behind the tool's own refusal): HCACK 3, CPACK 2 on the command's workpiece id (its
    parameter whose role name ends in `_id`), as the dictionary's `load` says; with `REWORK`
    true the load takes it."""

    def __init__(self, text: str) -> None:
        super().__init__(3, text)

    @classmethod
    def behind(cls, error: BaseException, text: str) -> GemRefused | None:
        """The refusal to answer for `error` (a tool's refusal, `text`) when a workpiece this
        tool processed last caused it, else None."""
        cause: BaseException | None = error
        while cause is not None and not isinstance(cause, WaferAlreadyProcessed):
            cause = cause.__cause__
        return None if cause is None else cls(text)


class GemModel(ABC):
    """What a simulated tool gives its GEM equipment, by the dictionary's names."""

    #: The equipment that serves the model (set by `GemEquipment`): events and alarms go to it.
    equipment: Pusher
    #: The simulated tool whose process model this is (faults are injected into it).
    tool: SimulatedTool
    #: The line's clock as the tool and its equipment read it: a trace's samples due are
    #: taken before anything else reads the time (`SampledClock`, `traces.py`).
    clock: SampledClock
    #: Whether a look at the tool may latch an alarm that its watcher pushes at that instant
    #: (the oven's zone alarm, found at a step of its zones): its traces then wake at each
    #: sample, so that an alarm a sample finds is pushed at the sample's instant.
    looks_find_alarms: ClassVar[bool] = False
    #: The remote command parameters (by the role's names) a host may leave out: a load
    #: without `rework` is a plain load. Every other parameter of a command is required: a
    #: command without one is refused HCACK 3 with CPACK 2 on it (`RemoteCommands`).
    optional_parameters: ClassVar[frozenset[str]] = frozenset({"rework"})

    @abstractmethod
    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        """Build the model and its simulated tool on the line's twin and clock (`options`: the
        simulated tool's own, as the line gives them)."""

    @abstractmethod
    def status(self, name: str) -> Any:
        """The role's value of status variable `name` now; `StatusUnavailable` when the tool
        cannot give it now."""

    @abstractmethod
    def constant(self, name: str) -> Any:
        """The role's value of equipment constant `name`."""

    @abstractmethod
    def constant_range(self, name: str) -> tuple[float, float] | None:
        """The allowed range of constant `name` (None: any value of its format)."""

    def accepts_constant(self, name: str, value: Any) -> bool:
        """Whether the tool takes `value` for constant `name` (S2F15 refuses it with EAC 3
        otherwise): within its range, `constant_range`; a model whose constant takes a value
        apart from its range (a 0 that means "the default") says so here."""
        bounds = self.constant_range(name)
        return bounds is None or bounds[0] <= value <= bounds[1]

    @abstractmethod
    def set_constants(self, values: Mapping[str, Any]) -> None:
        """Take new constants (already checked against their ranges)."""

    @abstractmethod
    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        """Run the dictionary's remote command `name`; HCACK 0 (done) or 4 (an event will
        tell), or `GemRefused`."""

    @abstractmethod
    def alarms(self) -> list[str]:
        """The role's codes of the alarms set now."""

    async def start(self) -> None:  # noqa: B027 (a hook; a model without background work)
        """Start what the model runs in the background (the served equipment is up)."""

    async def stop(self) -> None:  # noqa: B027 (a hook)
        """Stop what `start` started."""


#: E30's CPACK of a parameter: no such CPNAME, a value the tool refuses (illegal value), a
#: value of a form it cannot read (illegal format).
NO_SUCH_PARAMETER = 1
ILLEGAL_VALUE = 2
ILLEGAL_FORMAT = 3


def word(key: str, value: object) -> str:
    """Remote command parameter `key`'s value as one word of a tool's line; `GemRefused`
    (HCACK 3, CPACK 2 on it) for a value no word holds (empty or with a space in it), which
    the tool would take for a missing or an extra argument."""
    text = str(value)
    if not text or len(text.split()) != 1:
        raise GemRefused(3, f"{key} {text!r} is not one word", {key: ILLEGAL_VALUE})
    return text


def refusal(text: str, carries: Sequence[str | None], at: int | None) -> GemRefused:
    """A tool's refusal of a line that blames its argument `at` (None: none it can name): HCACK
    3 with CPACK 2 (illegal value: its format was the dictionary's) on the remote command
    parameter that argument carries (`carries[at]`, its role name), else HCACK 2, cannot
    perform now (the argument is an equipment constant's, checked against its range when it
    was set)."""
    key = carries[at] if at is not None and at < len(carries) else None
    return GemRefused(2, text) if key is None else GemRefused(3, text, {key: ILLEGAL_VALUE})


def setpoint_range(spec: ToolSpec[Any], name: str) -> tuple[float, float] | None:
    """What the tool takes of setpoint `name` of `spec`: its machine range, from the least
    value its wire takes (above an exclusive minimum, `HostSetpoint.lowest_accepted`); None
    for a name that is no setpoint."""
    setpoint = spec.setpoint_by_name.get(name)
    if setpoint is None:
        return None
    low = setpoint.lowest_accepted if isinstance(setpoint, HostSetpoint) else None
    machine = setpoint.machine_range
    return machine.minimum if low is None else low, machine.maximum


class SimulatedToolModel(GemModel):
    """Base of the GEM faces that drive a simulated tool in process, through its own command
    interpreter (`host_link.py`, `scpi.py`): its alarms, its constants' ranges from its spec,
    and one watcher task on the line's clock that reports the end of what a remote command
    started."""

    #: The tool kind's spec: the machine ranges of the constants that are its setpoints.
    spec: ClassVar[ToolSpec[Any]]

    def __init__(self, tool: SimulatedTool) -> None:
        self.tool = tool
        self.clock = SampledClock(tool.clock)
        tool.clock = self.clock
        self._watcher: asyncio.Task[None] | None = None
        #: What `per_sample` worked out while the time was held, by key: (hold, value).
        self._sampled: dict[str, tuple[int, Any]] = {}

    def per_sample(self, key: str, work: Callable[[], T]) -> T:
        """`work()` (a read of the tool, `key` naming it), worked out once a trace sample:
        a sample reads each of its status variables at one held instant with nothing else
        running, and several of them come of one read (the tool's status values, a query's
        answer)."""
        holding = self.clock.holding
        if holding is None:
            return work()
        kept = self._sampled.get(key)
        if kept is not None and kept[0] == holding:
            return kept[1]  # type: ignore[no-any-return]
        value = work()
        self._sampled[key] = (holding, value)
        return value

    def alarms(self) -> list[str]:
        self.tool.advance()
        return list(self.tool.alarms)

    def constant_range(self, name: str) -> tuple[float, float] | None:
        """The machine range of setpoint `name` of the spec; None for a constant that is no
        setpoint (one of its dictionary's values, such as a material)."""
        return setpoint_range(self.spec, name)

    async def report(self, *events: str) -> bool:
        """Send S5F1 for each alarm set or cleared since the last report, then `events`; False
        (logged) when the host went away: it reads the state when it is back."""
        try:
            await self.equipment.report_alarms()
            for event in events:
                await self.equipment.send_event(event)
        except ToolError as error:
            log.warning("%s: not reported to the host: %s", self.tool.name, error)
            return False
        return True

    async def follow(self, planned_end_s: Callable[[], float | None], event: str) -> None:
        """Hold until the tool's run is over (`planned_end_s`, None once it is), looking at the
        tool when its model says its state changes next (`next_change_s`: the run's end, a
        stop it can tell) and at once when a fault or a command comes (`SimulatedTool.hold`);
        then report its alarms and `event`."""
        await self.tool.hold(lambda: planned_end_s() is not None, given_up_by_next_line=False)
        await self.report(event)

    def watch(self, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run the watcher `run` as the model's one task, unless it runs already."""
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(
                run(), name=f"gem {self.tool.name} watcher"
            )

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
