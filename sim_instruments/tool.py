"""What every simulated tool is: a process model of one tool kind, served on the wire.

A simulated tool owns its tool state and physics, changes the shared workpiece twin, keeps
process time on the line's clock, and is reached only through a real server speaking the
tool's documented protocol. It remembers every request it was sent (`received`), so a test can
prove that a refused recipe reached no tool. Faults that a real tool would suffer (a leak, a
worn blade) are injected with `inject_fault` and show up on the wire as the tool's own alarms.

What every simulated tool shares is here, once, read from its spec: alarms latched in the order
raised (`latch`, `clear_alarms`), its interlocks as its sensors see them (`interlocks`: open
while a fault that opens it is injected, `fault_opens`, or while the tool's own condition does
not hold, `interlock_conditions`), and fault injection that first brings the model to the
present time (`advance`), then tells it its conditions changed. A reply the tool holds until
its state changes (a host-link tool's wait query, a SCPI tool's `*OPC?`) waits on the clock
here too (`hold`). Every job a tool runs on workpieces says how it ended, in one way for every
kind (`job_ended`, an `EndedJob` told to `job_listeners`): `packline sim serve` prints it.
"""

from __future__ import annotations

import asyncio
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from packline.clock import Clock, ClockTimeout, WallClock, wait_for
from packline.drivers.specs import ToolSpec
from packline.spelling import did_you_mean

from .servers import ToolServer
from .servers.base import ConnectionListener, next_line
from .twin import JobEnd, TwinStore

#: How often a tool holding a reply looks at itself, s of process time, when its model cannot
#: tell when its state changes next: an alarm that comes of the process is answered within
#: this (a fault or a command wakes the hold at once).
HOLD_SCAN_S = 1.0
#: How far past a change the model foresees a tool looks (`foreseen_change_s`), s.
CHANGE_ROUNDING_S = 1e-6


#: The fault of a tool whose driver confirms its safe state by the tool's status once it
#: commanded it (`SimulatedTool.status_confirms_safe_state`): added to such a tool's `faults`,
#: its family (or GEM face) taking the command through `defer_safe_state`.
ABORT_IGNORED = {
    "abort_ignored": "the tool's sequence hangs in its step: it takes the safe-state command "
    "but acts on it only once the fault is cleared, carrying on as it was meanwhile"
}


@dataclass(frozen=True)
class EndedJob:
    """A job a tool ran on workpieces, as it ended (`SimulatedTool.job_ended`)."""

    #: The tool's name, and what the job did (`plasma clean`, `dice`), in the words of the
    #: tool's twin events.
    tool: str
    operation: str
    #: The workpieces it ran on, by id (a batch chamber's every wafer; a bonder's dies' source
    #: too).
    workpieces: tuple[str, ...]
    #: When it ended, s of process time.
    time_s: float
    end: JobEnd
    #: The alarm that broke it off (`JobEnd.FAULTED` alone).
    alarm: str | None = None


class SimulatedTool(ABC):
    """Base of every simulated tool."""

    #: The tool kind's contract (`drivers/specs/<kind>.py`).
    spec: ClassVar[ToolSpec[Any]]
    #: The faults `inject_fault` accepts, name -> what it does to the tool.
    faults: ClassVar[dict[str, str]] = {}
    #: The keyword options of the tool a user may give a dry run's line, each a number
    #: (`packline run|resume --sim --sim-option TOOL:OPTION=VALUE`), name -> what it sets;
    #: the constructor refuses a value outside its range (ValueError).
    options: ClassVar[dict[str, str]] = {}
    #: Injected faults that open an interlock of the spec, fault -> interlock.
    fault_opens: ClassVar[dict[str, str]] = {}
    #: Whether the tool's driver confirms its safe state by the tool's status once it
    #: commanded it (a PLC tool's ABORT, a host-link tool's STOP, a GEM face's `abort`): the
    #: family sets it, and every tool of it suffers `abort_ignored` too (`ABORT_IGNORED`,
    #: added after the tool's own `faults`), with nothing written in the tool's class.
    status_confirms_safe_state: ClassVar[bool] = False
    #: For a tool on a serial line, which its constructor's `transport` may put on a pty (the
    #: oven's RS-485 line, a host link on RS-232): the `transport` that serves the same bytes
    #: over TCP instead, as behind a serial device server (`"rtu-tcp"`, `"socket"`), which a
    #: `SimulatedLine(serial_over_tcp=True)` chooses. None for a tool not on a serial line.
    serial_over_tcp: ClassVar[str | None] = None

    def __init__(self, name: str, twin: TwinStore, clock: Clock | None = None) -> None:
        self.name = name
        self.twin = twin
        self.clock: Clock = clock or WallClock()
        self.received: list[str] = []
        self.injected: set[str] = set()
        #: Latched alarm codes of the spec, in the order raised.
        self.alarms: list[str] = []
        #: Told (tool name, alarm code) of each alarm as it is latched (`sim serve` reports
        #: them: an alarm the driver clears at once would be missed by looking now and then).
        self.alarm_listeners: list[Callable[[str, str], None]] = []
        #: Told of each client connection to the tool's servers as it opens and ends
        #: (`ToolServer.connection_listeners`, given to each server it starts).
        self.connection_listeners: list[ConnectionListener] = []
        #: Told each job the tool ends, however it ends (`job_ended`): `sim serve` prints how
        #: every job on every tool ended, which a tool's twin history cannot say (a plasma
        #: clean is recorded only when it completes).
        self.job_listeners: list[Callable[[EndedJob], None]] = []
        #: Told (tool name, fault, what cleared it) of each injected fault the tool cleared of
        #: its own doing (`cure_fault`), as a real one's repair on the tool cures it: the served
        #: line keeps when, for a run that connects later (`LineControl`, decision 0119).
        self.fault_listeners: list[Callable[[str, str, str], None]] = []
        self._server: ToolServer | None = None
        #: The waits `hold` has open (`_woken`), in the order they began, each ended by the
        #: next `changed`.
        self._change_waiters: dict[asyncio.Future[None], None] = {}
        #: The safe-state command taken while `abort_ignored` is injected, acted on once it
        #: is cleared (`defer_safe_state`).
        self._safe_state_pending: Callable[[], object] | None = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.status_confirms_safe_state:
            cls.faults = {**cls.faults, **ABORT_IGNORED}
        if "spec" in cls.__dict__ or "fault_opens" in cls.__dict__:
            unknown = {*cls.fault_opens} - {*cls.faults}
            unknown |= {*cls.fault_opens.values()} - {*cls.spec.interlock_by_name}
            if unknown:
                raise TypeError(f"{cls.__name__}: fault_opens names unknown {sorted(unknown)}")

    @classmethod
    def model_built(cls, options: Mapping[str, Any]) -> str:
        """The model the tool built with keyword `options` says it is (`*IDN?`): its spec's,
        unless an option makes it another (a laser's source); a served line names its
        serial numbers after it."""
        return cls.spec.identity.model

    @abstractmethod
    def advance(self) -> None:
        """Bring the tool's model to the clock's present time (before every access)."""

    def changed(self) -> None:
        """Something other than time changed the tool (a fault, a command): a wait the tool
        holds open for a client looks at the tool again now."""
        waiters, self._change_waiters = self._change_waiters, {}
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def hold(
        self,
        holding: Callable[[], bool],
        wait_s: float | None = None,
        *,
        given_up_by_next_line: bool = True,
    ) -> bool:
        """Hold the reply to the line being answered while `holding()` is true, at most
        `wait_s` of process time (None: as long as it is); False if the host gave the wait
        up, True when the reply is due.

        The tool looks at itself (`advance`, then `holding()`) when its model says its state
        changes next (`next_change_s`), when a fault or another command comes (`changed`),
        and else every `HOLD_SCAN_S`. A line that comes on the same link meanwhile (or the
        connection's end) is a host that gave the wait up: the hold ends without a reply, so
        that the line's own reply is the next one the host reads; unless
        `given_up_by_next_line` is False (a wait the lines after it wait for: SCPI's `*OPC?`
        and `*WAI`).
        """
        until_s = None if wait_s is None else self.clock.now() + wait_s
        line = next_line() if given_up_by_next_line else None
        while (
            (until_s is None or self.clock.now() < until_s)
            and holding()
            and not (line is not None and line.done())
        ):
            now = self.clock.now()
            wake_s = max(self.next_change_s(now), now)
            if until_s is not None:
                wake_s = min(until_s, wake_s)
            with suppress(ClockTimeout):  # the time the tool was to look at itself
                await wait_for(self.clock, self._woken(line), wake_s - now, "hold a reply")
            self.advance()
        return not (line is not None and line.done())

    async def _woken(self, line: asyncio.Future[bytes | None] | None) -> None:
        """Until a fault or a command changes the tool (`changed`) or the next line comes.

        One future that either ends, not a task waiting on an event besides the line: a held
        reply looks at its tool thousands of times a lot, and each look had cost a task, its
        cancel and a gather."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake(_: object) -> None:
            if not woken.done():
                woken.set_result(None)

        self._change_waiters[woken] = None
        if line is not None:
            line.add_done_callback(wake)
        try:
            await woken
        finally:
            self._change_waiters.pop(woken, None)
            if line is not None:
                line.remove_done_callback(wake)

    def next_change_s(self, now: float) -> float:
        """When the tool's state may change next by itself (a job's end), as far as its model
        knows; by default `HOLD_SCAN_S` from `now`."""
        return now + HOLD_SCAN_S

    def foreseen_change_s(self, change_s: float | None, now: float) -> float:
        """`next_change_s` of a model that foresees its next change at `change_s` (None or
        inf: none, the scan's): a microsecond ahead at least, since a clock's sum of now and
        the wait, or a curve computed at its crossing, may fall short of it by a rounding."""
        if change_s is None or not math.isfinite(change_s):
            return SimulatedTool.next_change_s(self, now)
        return max(change_s, now + CHANGE_ROUNDING_S)

    def conditions_changed(self) -> None:  # noqa: B027 (a hook; most tools need nothing here)
        """A fault came or went (the model is at the present time); by default nothing."""

    def latch(self, code: str) -> None:
        """Latch alarm `code` of the spec (once) until the alarms are cleared."""
        if code not in self.spec.alarm_by_code:
            raise ValueError(f"simulated {self.name}: alarm {code!r} is not in the spec")
        if code not in self.alarms:
            self.alarms.append(code)
            for listener in self.alarm_listeners:
                listener(self.name, code)

    def job_ended(
        self,
        operation: str,
        workpieces: Iterable[str],
        time_s: float,
        end: JobEnd,
        alarm: str | None = None,
    ) -> None:
        """Tell `job_listeners` that the job `operation` on `workpieces` ended at `time_s` as
        `end` says; one broken off by an alarm names it (`alarm`, by default the alarm the
        tool latched last: a tool latches the alarm, then ends the job it breaks off).

        Every tool calls it where its jobs end, each in its own result type's terms, so that no
        ending goes untold: a job an abort or an alarm cut off as well as one that completed.
        """
        if end is JobEnd.FAULTED:
            if alarm is None:
                if not self.alarms:
                    raise ValueError(
                        f"simulated {self.name}: {operation} broken off by an alarm, "
                        "but no alarm is latched"
                    )
                alarm = self.alarms[-1]
        elif alarm is not None:
            raise ValueError(
                f"simulated {self.name}: {operation} ended {end.value}, not by alarm {alarm}"
            )
        job = EndedJob(self.name, operation, tuple(workpieces), time_s, end, alarm)
        for listener in self.job_listeners:
            listener(job)

    def clear_alarms(self) -> None:
        """Clear every latched alarm; a cause that persists raises its alarm again."""
        self.alarms.clear()

    def interlocks(self) -> dict[str, bool]:
        """Every interlock of the spec, name -> closed, as the tool's sensors see it now: open
        while a fault that opens it is injected or its condition does not hold."""
        conditions = self.interlock_conditions()
        closed = {name: conditions.get(name, True) for name in self.spec.interlock_by_name}
        for fault in self.injected:  # as mostly, none: no set of the opened to build
            if fault in self.fault_opens:
                closed[self.fault_opens[fault]] = False
        return closed

    def interlock_conditions(self) -> dict[str, bool]:
        """Interlocks that hang on the tool's state (a wafer held, a door closed), by name."""
        return {}

    @abstractmethod
    def make_server(self, host: str, port: int) -> ToolServer:
        """Build (not start) the server that puts this tool on the wire."""

    @property
    def address(self) -> str:
        if self._server is None:
            raise RuntimeError(f"simulated {self.name} is not being served")
        return self._server.address

    @property
    def connections(self) -> int | None:
        """How many clients are connected to the tool's server now (None: a pty, whose
        clients the tool cannot count; 0 while it is not served)."""
        return 0 if self._server is None else self._server.connections

    @property
    def station_address(self) -> str | dict[str, str]:
        """What a station entry's `address` holds for this tool: its server's address, or one
        per device for a tool of several devices on several servers."""
        return self.address

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the tool; returns its address in station-file form."""
        if self._server is not None:
            raise RuntimeError(f"simulated {self.name} is already served at {self.address}")
        server = self.make_server(host, port)
        server.connection_listeners = self.connection_listeners
        address = await server.start()
        self._server = server
        return address

    async def stop(self) -> None:
        """Stop serving; every client connection drops at once (the tool died)."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def inject_fault(self, fault: str) -> None:
        """Make the tool suffer `fault` (one of `faults`) from now until `clear_fault`: the
        model is first brought to now under the old conditions, then to now under the new
        ones, so that what the fault does (an alarm it raises) happens as it is injected, not
        at the host's next read (a served wire bonder's wire break had latched at the next
        `STAT?`, 30 s of process time later)."""
        self._check_fault(fault)
        self.advance()
        self.injected.add(fault)
        self.conditions_changed()
        self.advance()
        self.changed()

    def clear_fault(self, fault: str) -> None:
        """Repair `fault` (one of `faults`); clearing one that is not injected does nothing. A
        tool freed of `abort_ignored` acts then on the safe-state command it took meanwhile,
        as a hung sequence that steps on."""
        self._check_fault(fault)
        self.advance()
        self.injected.discard(fault)
        self.conditions_changed()
        if fault == "abort_ignored" and self._safe_state_pending is not None:
            self._safe_state_pending()
            self._safe_state_pending = None
        self.changed()

    def cure_fault(self, fault: str, how: str) -> None:
        """`fault`, injected, is gone by what the tool itself did (`how`, in words: `a new
        blade installed`), not by an order to clear it: it goes as `clear_fault` has it go
        (the model brought to now, the tool's conditions and the waits on it told), and is
        told to `fault_listeners` too, so that the line says when it cleared rather than a
        run finding it gone later with no time. Nothing when it is not injected (a new blade
        on an intact saw)."""
        if fault not in self.injected:
            return
        self.clear_fault(fault)
        for listener in self.fault_listeners:
            listener(self.name, fault, how)

    def defer_safe_state(self, act: Callable[[], object]) -> bool:
        """Whether the safe-state command is put off (`abort_ignored` injected): then `act`,
        which carries it out, runs once the fault is cleared, and the command is taken as
        the hung tool takes it, doing nothing yet."""
        if "abort_ignored" not in self.injected:
            return False
        self._safe_state_pending = act
        return True

    def _check_fault(self, fault: str) -> None:
        # A misspelt name must not pass silently: clear_fault("rf_mismach") would leave the
        # fault in and the test or dry run would chase the wrong cause.
        if fault not in self.faults:
            raise ValueError(
                f"simulated {self.name} has no fault {fault!r}; known: {', '.join(self.faults)}"
                f"{did_you_mean(fault, self.faults)}"
            )
