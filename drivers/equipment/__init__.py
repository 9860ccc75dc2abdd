"""The equipment interface: what every tool driver is, whatever the tool.

Every driver binds a role interface (`drivers/roles/`) to a link (`drivers/links/`). This base
gives all of them the same life: async connect/close and `async with`; an identity; a state
machine whose states map onto SEMI E10, a tool found working at connect busy (productive), not
idle; alarms (active and history) with a fault state that only
a reset leaves; interlocks checked before motion or energy; limits on every setpoint, refused
before anything is sent; `abort()` that commands the safe state even when its caller is
cancelled; process waits polled on the clock up to a deadline (`wait_until`, waits.py); what
the tool holds and its recovery to an empty safe state (`recover`, recovery.py); and process
readings recorded as traces for the engine to keep.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from enum import Enum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from transitions.extensions.asyncio import AsyncMachine

from packline.clock import Clock
from packline.tasks import finish_shielded

from ..errors import (
    ConnectionLost,
    InterlockOpen,
    SetupRefused,
    ToolAlarm,
    ToolError,
    ToolStateError,
    WrongTool,
)
from ..links.base import Link
from .alarms import AlarmList
from .devices import check_device_links
from .limits import (
    Limit,
    LimitsSource,
    StationLimits,
    check_limit,
    device_bounds,
    named_limits,
    narrow_limits,
    unplaced,
)
from .recovery import Recovery
from .states import (
    READY_STATES,
    TRANSITIONS,
    E10State,
    StateListener,
    StateModel,
    ToolState,
    still_working,
    working,
)
from .vocabulary import (
    WAFER_ID_MAX_LENGTH,
    Alarm,
    Identity,
    Reading,
    ReadingListener,
    is_wafer_id,
    validate_wafer_id,
)
from .waits import (
    HOLD_S,
    UNBOUNDED_TAIL_S,
    ProcessWaits,
    SafeStateWatch,
    held_pace,
    poll_hold_s,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: A record of setpoints a driver sends (a recipe, a program, a profile segment): a dataclass.
Record = TypeVar("Record", bound="DataclassInstance")

# The interface's one import point: its shared definitions live in states.py, vocabulary.py,
# limits.py, alarms.py and devices.py, its waits in waits.py and its recovery in recovery.py.
__all__ = [
    "HOLD_S",
    "READY_STATES",
    "UNBOUNDED_TAIL_S",
    "WAFER_ID_MAX_LENGTH",
    "Alarm",
    "E10State",
    "Equipment",
    "Identity",
    "Limit",
    "Reading",
    "ReadingListener",
    "SafeStateWatch",
    "StateListener",
    "ToolState",
    "held_pace",
    "is_wafer_id",
    "poll_hold_s",
    "validate_wafer_id",
    "working",
]


class Equipment(ProcessWaits, Recovery, ABC):
    """Base of every tool driver.

    Subclasses declare `link_type` (which links they speak over), `limits` (every setpoint
    they send) and implement the `request_*` queries and `_command_safe_state`. Process
    operations run inside `operation()`, which owns the state machine around them.
    """

    #: The role interface's name, e.g. "plasma_cleaner"; set by the role base class.
    role: ClassVar[str]
    #: The kind of link this driver speaks over (a Link subclass).
    link_type: ClassVar[type[Link]] = Link  # type: ignore[type-abstract]  # isinstance only
    #: Setpoint limits, by setpoint name (the name carries the unit): the class holds the
    #: driver's own, an instance those narrowed by its station file.
    limits: Mapping[str, Limit] = {}
    #: How many samples of each trace the driver keeps in memory (the engine keeps them all).
    trace_memory: ClassVar[int] = 10_000
    #: A tool made of several devices on several links (a plating cell's controller and its DC
    #: supply) names them, name -> link type: `link` reaches the device named
    #: `primary_device` (identity, address, clock), the others come as `devices=` and are
    #: connected by the driver's `_read_setup`; `close` closes them all. A station entry gives
    #: each its own address (docs/decisions/0009-tools-of-several-devices.md). Empty for a
    #: tool of one device on one link.
    devices: ClassVar[Mapping[str, type[Link]]] = {}
    #: How long, s of process time, a tool may take to show its safe state once the safe
    #: state was commanded (`_command_safe_state`), past which the abort raises `ToolTimeout`
    #: naming what still shows: the tool acts on the command at once (a PLC in its next scan,
    #: a host-link or GEM tool as it answers), and what it switches off or stops (an RF
    #: generator's or a heater's contactor, the gas valves, a head, a gantry, a spin) is off or
    #: home within a second or two (est); 10 s is that several times over with the reads that
    #: watch it, and a tool still not safe after it needs an operator, not a longer wait. A kind
    #: whose safe state takes longer (a vent, a plating holder withdrawn and rinsed, a spindle
    #: coasting down) sets its own, on each of its faces.
    safe_state_timeout_s: ClassVar[float] = 10.0
    primary_device: ClassVar[str] = ""
    #: The driver of each further device whose setpoints the tool sends, by device name (the
    #: plating cell's `supply`), built by `open_device`: its limits are the tool's too, a
    #: station file narrowing them under the device's name (`limits: {supply: {voltage_v:
    #: [0, 3]}}`) and a recipe's check naming them `<device>.<setpoint>` (`setpoint_limits`).
    device_drivers: ClassVar[Mapping[str, type[Equipment]]] = {}
    #: What the role's status (`request_status`) says the tool is doing: the field of it
    #: (`state`, `phase`, `chamber`; dotted for a field's field, `job.state`) and the states
    #: of that field in which the tool runs nothing (the role's `AT_REST`: idle or ready, and
    #: fault, which the alarms tell). Each role sets both once; `request_activity` and
    #: `not_at_rest` read them.
    activity_field: ClassVar[str]
    at_rest: ClassVar[frozenset[Enum]]

    def __init__(
        self,
        link: Link,
        *,
        name: str | None = None,
        limits: StationLimits | None = None,
        limits_source: LimitsSource = unplaced,
        poll_interval_s: float = 1.0,
        devices: Mapping[str, Link] | None = None,
    ) -> None:
        if not isinstance(link, self.link_type):
            raise TypeError(
                f"{type(self).__name__} speaks over {self.link_type.__name__}, "
                f"not {type(link).__name__} ({link.address})"
            )
        if poll_interval_s <= 0:
            raise SetupRefused(name or link.tool, "poll_interval_s must be positive")
        self.device_links = check_device_links(
            name or link.tool,
            type(self).__name__,
            self.devices,
            self.primary_device,
            devices or {},
        )
        self.link = link
        self.name = name or link.tool
        self.poll_interval_s = poll_interval_s
        own, self._device_bounds = device_bounds(self.name, self.device_drivers, limits or {})
        self.limits = narrow_limits(self.name, self.limits, own, limits_source)
        self._limits_source = limits_source
        #: The drivers of the further devices `open_device` built, by device name.
        self.device_equipment: dict[str, Equipment] = {}
        #: Whether this driver drives a further device of a tool (`open_device`: the plating
        #: cell's supply), not a tool of its own.
        self.is_device = False
        self.identity: Identity | None = None
        #: What the tool said it was doing when this driver connected, if it was working then
        #: (`request_activity`: a process, job or cycle nobody of this driver started); None
        #: when it was at rest. The driver was then busy, not idle, until its safe state. A
        #: further device's driver does not ask (`is_device`): its tool's `request_activity`
        #: reads what the device is doing, with the tool's own state.
        self.found_working: str | None = None
        self.alarm_list = AlarmList()
        self.readings: deque[Reading] = deque(maxlen=self.trace_memory)
        #: How many process operations (`operation()`) ended as the tool carried them out: a
        #: step that saw none end before its tool refused it changed nothing on the wafer.
        self.operations_carried_out = 0
        self._reading_listeners: list[ReadingListener] = []
        self._state_listeners: list[StateListener] = []
        self._state = StateModel(self._tell_state)
        self._machine = AsyncMachine(
            model=self._state,
            states=list(ToolState),
            transitions=TRANSITIONS,
            initial=ToolState.OFFLINE,
            auto_transitions=False,
            send_event=False,
        )

    # ----------------------------------------------------------------- identity and life

    @property
    def address(self) -> str:
        return self.link.address

    @property
    def clock(self) -> Clock:
        return self.link.clock

    @property
    def state(self) -> ToolState:
        return ToolState(self._state.state)

    @property
    def e10_state(self) -> E10State:
        return self.state.e10

    async def connect(self) -> None:
        """Open the link, read the identity (refused if it is another kind of tool), what the
        driver needs to know of the tool (`_read_setup`), whether it is working
        (`request_activity`, which a further device's tool asks instead), then the alarms; the
        tool is then idle, busy (working: a process nobody of this driver started is E10
        productive, never standby, until its safe state is commanded, `abort`) or in fault.

        Refused with `ToolStateError` (the link untouched) when already connected. If reading
        the identity or the alarms fails, the link is closed and the tool stays offline.
        """
        self.require_state("connect", ToolState.OFFLINE)
        await self.link.connect()
        try:
            self.identity = await self._checked_identity()
            await self._read_setup()
            if not self.is_device:
                self.found_working = await self.request_activity()
            if self.found_working is None:
                await self._state.go_online()
            else:
                await self._state.go_online_working()
            await self.refresh_alarms()
        except BaseException:
            await self._close_links()
            if self.state is not ToolState.OFFLINE:
                await self._state.go_offline()
            raise

    async def close(self) -> None:
        """Close the link (and those of the further devices); the tool is then offline
        (non-scheduled) for this driver."""
        await self._close_links()
        await self._state.go_offline()

    async def _close_links(self) -> None:
        try:
            await self.link.close()
        finally:
            for device_link in self.device_links.values():
                await device_link.close()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abstractmethod
    async def request_identity(self) -> Identity:
        """Ask the tool who it is."""

    async def request_status(self) -> Any:
        """The role's status snapshot, of the role's own type: every role declares it (a
        device no role drives, the plating cell's DC supply, has none)."""
        raise NotImplementedError(f"{type(self).__name__} reads no status")

    async def request_activity(self) -> str | None:
        """What the tool says it is doing now when it is working (a process, job, run, cycle
        or chamber state other than at rest: 'processing (RF on)', 'bumping'), in the tool's
        words; None when it runs nothing. A query: nothing is moved. By default the status's
        `activity_field` when it is none of `at_rest` (`working`); a role whose energy may be
        on at rest (the laser's shutter, a chamber's power) says so too. `connect` asks it, so
        a tool running a process nobody of this driver started is busy, not idle."""
        return self.activity(await self.request_status())

    def activity(self, status: Any, energy_on: str | None = None) -> str | None:
        """What `status` (the role's) says the tool is doing (`working`): the state in its
        `activity_field` when it is none of `at_rest`, with `energy_on` (an energy the tool
        reports switched on: 'RF on') said beside it; None at rest with no energy on."""
        return working(self.activity_of(status), self.at_rest, energy_on)

    def activity_of(self, status: Any) -> Enum:
        """The state `status` (the role's, `request_status`) gives in its `activity_field`."""
        state: Enum = attrgetter(self.activity_field)(status)
        return state

    def not_at_rest(self, status: Any) -> str | None:
        """What `status` (the role's) shows that is not at rest once the safe state was
        commanded: `still <what it is doing>` (`still_working`), None at rest. The confirmation
        of a safe state that is the tool back at rest (a stage tool's, a bonder's)."""
        return still_working(self.activity_of(status), self.at_rest)

    async def _checked_identity(self) -> Identity:
        """The tool's identity (`request_identity`), refused when the tool says it is another
        kind than this driver drives (`_check_identity`)."""
        identity = await self.request_identity()
        self._check_identity(identity)
        return identity

    async def _read_setup(self) -> None:
        """Read what the driver must know of a tool before it drives it (the laser's source);
        called once the identity showed it is a tool of this driver's kind."""

    def _check_identity(self, identity: Identity) -> None:
        """Refuse a tool that says it is another registered kind than this driver drives (a
        grinder at the laser's address); a model no spec knows (a vendor's tool mapped onto
        the driver) is accepted."""
        from ..registry import kind_of_identity, kinds_driven_by  # the registry loads drivers

        other = kind_of_identity(identity.vendor, identity.model)
        mine = kinds_driven_by(type(self))
        if other is not None and mine and other not in mine:
            raise WrongTool(
                self.name,
                self.address,
                "connect",
                f"the tool says it is a {identity.vendor} {identity.model}, a {other}; this "
                f"driver drives a {' or '.join(sorted(mine))} (check the station file's address)",
                found_kind=other,
            )

    def check_wafer_id(self, wafer_id: str) -> None:
        """Refuse, naming this tool, a wafer id that cannot travel on any tool's wire."""
        try:
            validate_wafer_id(wafer_id)
        except ValueError as error:
            raise ValueError(f"{self.name}: {error}") from None

    # ----------------------------------------------------------------- limits

    def check_limit(self, action: str, setpoint: str, value: float) -> float:
        """Return `value` as it is sent if it is within the setpoint's limits (at a bound
        within rounding: the bound, `Limit.held`), else raise `LimitViolation`; a fraction for
        a whole-number setpoint is a `ValueError` (nothing is rounded)."""
        return check_limit(self.name, self.address, action, setpoint, self.limits[setpoint], value)

    def open_device(self, device: str) -> Equipment:
        """The driver of further device `device` (of its class in `device_drivers`) over its
        link, named `<tool>.<device>`, its limits narrowed by the station file's
        `limits.<device>` (a bound past its own refused here, as the tool's own are)."""
        equipment = self.device_drivers[device](
            self.device_links[device],
            name=f"{self.name}.{device}",
            poll_interval_s=self.poll_interval_s,
        )
        equipment.is_device = True
        equipment.limits = narrow_limits(
            self.name,
            equipment.limits,
            self._device_bounds.get(device, {}),
            self._limits_source,
            key=f"limits.{device}",
        )
        self.device_equipment[device] = equipment
        return equipment

    @classmethod
    def driver_limits(cls) -> dict[str, Limit]:
        """The driver's own limits and its further devices' (`device_drivers`), as no station
        narrows them, named as `setpoint_limits` names them."""
        return named_limits(cls.limits, {d: kind.limits for d, kind in cls.device_drivers.items()})

    def setpoint_limits(self) -> dict[str, Limit]:
        """Every limit the tool's setpoints are sent within, as its station file narrowed
        them: its own (`limits`) and each further device's, named `<device>.<setpoint>`
        (`supply.voltage_v`), as a recipe's check looks them up."""
        return named_limits(
            self.limits, {d: each.limits for d, each in self.device_equipment.items()}
        )

    def held_setpoints(
        self, action: str, record: Record, fields: Iterable[str] | Mapping[str, str]
    ) -> Record:
        """A copy of `record` (a dataclass a driver sends) with each field of `fields` checked
        against its setpoint's limits (`check_limit`) and replaced by the value as it is sent:
        a value past a bound by a unit conversion's rounding is sent as the bound, so a driver
        that builds what it sends from the copy never sends the value it was given. `fields`
        names each field by its setpoint, or maps a field to the setpoint it is where the names
        differ (a profile segment's `target_c` is `temperature_c`); they are checked in their
        order, the first refused raising `LimitViolation`."""
        setpoints = fields if isinstance(fields, Mapping) else {name: name for name in fields}
        return replace(
            record,
            **{
                field: self.check_limit(action, setpoint, getattr(record, field))
                for field, setpoint in setpoints.items()
            },
        )

    # ----------------------------------------------------------------- alarms

    @property
    def active_alarms(self) -> dict[str, Alarm]:
        """The tool's active alarms by code, as this driver last learned them."""
        return self.alarm_list.active

    @property
    def alarm_history(self) -> list[Alarm]:
        """The alarms that were active and cleared, oldest first."""
        return self.alarm_list.history

    @abstractmethod
    async def request_alarms(self) -> dict[str, str]:
        """The tool's active alarms, code -> message."""

    async def refresh_alarms(self) -> list[Alarm]:
        """Read the tool's alarms, update active/history, enter the fault state if any is active."""
        self.alarm_list.update(await self.request_alarms(), self.clock.now())
        if self.active_alarms and self.state is not ToolState.FAULT:
            await self._state.fail()
        return list(self.active_alarms.values())

    def alarm_error(self, action: str) -> ToolAlarm:
        return self.alarm_list.error(self.name, self.address, action)

    async def reset(self) -> None:
        """Clear the tool's alarms and leave the fault state, if the causes are gone."""
        await self._clear_alarms()
        remaining = await self.refresh_alarms()
        if remaining:
            raise self.alarm_error("reset")
        if self.state is ToolState.FAULT:
            await self._state.recover()

    @abstractmethod
    async def _clear_alarms(self) -> None:
        """Ask the tool to clear its latched alarms."""

    # ----------------------------------------------------------------- interlocks

    @abstractmethod
    async def request_interlocks(self) -> dict[str, bool]:
        """Every interlock of the tool, name -> closed (True means safe to proceed)."""

    async def require_interlocks(self, action: str, names: Iterable[str]) -> None:
        """Raise `InterlockOpen` naming each of `names` that is open; nothing is started."""
        self.require_closed(action, await self.request_interlocks(), names)

    def require_closed(
        self, action: str, interlocks: Mapping[str, bool], names: Iterable[str]
    ) -> None:
        """`require_interlocks` on `interlocks` the driver has just read."""
        open_ = [name for name in names if not interlocks[name]]
        if open_:
            raise InterlockOpen(self.name, self.address, action, open_)

    # ----------------------------------------------------------------- what it takes

    async def request_capacity(self) -> int:
        """How many wafers (or panels) the tool takes at once: a batch tool's slots, as it
        reports them (`BatchTool`); one for every other role, whose tool holds one at a time.
        A query: nothing is moved. A station's `capacity` above it would send the tool more
        than it holds, so `packline station check` and a run refuse it before any wafer moves."""
        return 1

    # ----------------------------------------------------------------- operations and abort

    def require_state(self, action: str, *allowed: ToolState) -> None:
        if self.state not in allowed:
            raise ToolStateError(
                self.name,
                self.address,
                action,
                f"not allowed while {self.state.value} "
                f"(needs {' or '.join(s.value for s in allowed)})",
            )

    @asynccontextmanager
    async def operation(self, action: str) -> AsyncIterator[None]:
        """Run a process operation: idle -> busy -> idle, fault on alarm, safe state on abort.

        A tool alarm moves the tool to fault. A lost connection leaves the tool's state unknown,
        so it also moves to fault. A cancelled caller (terminate, abort) gets the safe state
        commanded before the cancellation goes on.
        """
        self.require_state(action, *READY_STATES)
        await self._state.start_work()
        try:
            yield
        except asyncio.CancelledError:
            await self.abort()
            raise
        except ConnectionLost:
            await self._state.fail()
            raise
        except ToolAlarm:
            if self.state is not ToolState.FAULT:
                await self._state.fail()
            raise
        except BaseException:
            if self.state is ToolState.BUSY:
                await self._state.end_work()
            raise
        else:
            await self._state.end_work()
            self.operations_carried_out += 1

    @asynccontextmanager
    async def safe_state_on_error(self) -> AsyncIterator[None]:
        """Command the safe state (`abort`) when the block raises a `ToolError`, before that
        error goes on: what a step that may have switched energy on or started a job does.
        Best effort: the block's error is the one to report, and a safe state that could not
        be confirmed leaves the driver in fault (`abort`)."""
        try:
            yield
        except ToolError:
            with suppress(ToolError):
                await self.abort()
            raise

    async def abort(self) -> None:
        """Bring the tool to its safe state now, and finish doing so even if cancelled.

        The safe-state commands run in their own task; a cancellation of the caller is held
        back until they are done (each is bounded by the link's timeout), then re-raised.
        """
        task, cancelled = await finish_shielded(self._abort_now())
        if cancelled:
            task.exception()  # retrieved; the cancellation takes precedence
            raise asyncio.CancelledError
        task.result()

    async def _abort_now(self) -> None:
        try:
            await self._command_safe_state()
        except ToolError:
            # The safe state could not be confirmed: the tool's state is unknown. A driver that
            # is not connected (offline) has nothing to fault.
            if self.state is not ToolState.OFFLINE:
                await self._state.fail()
            raise
        if self.state is ToolState.BUSY:
            await self._state.end_work()

    @abstractmethod
    async def _command_safe_state(self) -> None:
        """Command the tool's safe state (energy off, motion stopped, gases closed)."""

    # ----------------------------------------------------------------- engineering mode

    async def enter_engineering(self) -> None:
        """Take the tool out of production for engineering work (E10 engineering)."""
        self.require_state("enter engineering", ToolState.IDLE)
        await self._state.enter_engineering()

    async def leave_engineering(self) -> None:
        self.require_state("leave engineering", ToolState.ENGINEERING)
        await self._state.leave_engineering()

    async def start_maintenance(self) -> None:
        """Take the tool down for planned maintenance (E10 scheduled downtime)."""
        self.require_state("start maintenance", ToolState.IDLE)
        await self._state.start_maintenance()

    async def end_maintenance(self) -> None:
        self.require_state("end maintenance", ToolState.MAINTENANCE)
        await self._state.end_maintenance()

    # ----------------------------------------------------------------- traces

    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Call `listener` with every reading this driver records (the engine's records)."""
        self._reading_listeners.append(listener)

    def remove_reading_listener(self, listener: ReadingListener) -> None:
        self._reading_listeners.remove(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        """Call `listener` with the driver's new state after each change of it (the engine
        records the tool's E10 states from them)."""
        self._state_listeners.append(listener)

    def _tell_state(self, state: ToolState) -> None:
        for listener in self._state_listeners:
            listener(state)

    def record_reading(
        self, name: str, value: float, unit: str, *, time_s: float | None = None
    ) -> Reading:
        """Record one process reading taken at `time_s` on the clock (None: now; a tool that
        reports several samples at once dates each)."""
        reading = Reading(
            self.name, name, float(value), unit, self.clock.now() if time_s is None else time_s
        )
        self.readings.append(reading)
        for listener in self._reading_listeners:
            listener(reading)
        return reading

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} at {self.address} {self.state.value}>"
