"""The GEM host driver's equipment side: the equipment interface over E30, by the dictionary.

`GemEquipment` is the base of every GEM role driver (`gem_driver` in `drivers/registry.py`):
it gives the equipment interface (`drivers/equipment/`) to a GEM tool, reading every id from
the tool's dictionary. At connect it establishes communication (S1F13), asks for the online state
(S1F17), reads the identity (MDLN and SOFTREV, the serial number from a status variable),
defines one report per collection event of the dictionary, links and enables them
(S2F33/35/37), enables the dictionary's alarms (S5F3) and reads whether the tool is working (its
role's state status variable, S1F3: a tool found working is busy, `Equipment.connect`).

Alarms arrive pushed (S5F1) into the alarm list, and a set alarm puts the tool in fault; the
alarm list is read with S5F5. Process waits end on collection events, never by polling:
`expect_event` subscribes before the command that starts the process is sent, and
`wait_event` waits for the event up to the wait's timeout on the process clock, ending at
once with `ToolAlarm` when an alarm is set and with `ConnectionLost` when the link drops.
The E10 state is the tool's own when its dictionary names a status variable for it
(`request_e10_state`), else the driver's state machine's, moved by what the tool reports.
`trace` samples status variables on the tool every period for the length of a block (E30
trace data collection, S2F23 and S6F1; `traces.py`); `process_jobs` creates, commands and
waits for E40 process jobs on a tool whose dictionary has them (S16; `process_jobs.py`).
The safe state (`abort`) is the remote command `abort`, confirmed as on the kind's other
faces: the role's status variables read until they show it (`unsafe`, the kind's declaration),
within `safe_state_timeout_s`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, ClassVar

from packline.clock import ClockTimeout, wait_for

from ..equipment import E10State, Equipment, Identity, ToolState
from ..errors import (
    CommandRefused,
    ConnectionLost,
    ProtocolError,
    ToolError,
    ToolTimeout,
    WrongTool,
)
from ..secs.data_items import HCACK_ACCEPTED, HCACK_ALREADY, ack_text
from ..secs.items import Format, Item
from ..secs.link import SecsLink
from ..specs.core import R, Reply
from .dictionary import E10_STATE, GemDictionary, GemNeeds, RoleValue, load_dictionary
from .host import GemHost
from .process_jobs import ProcessJobs
from .records import AlarmReport, CollectionEvent
from .traces import Trace
from .waits import EventWait

#: TOTSMP of a trace that runs until its block ends (the largest U4).
UNTIL_STOPPED = 0xFFFFFFFF


#: The remote commands every GEM role driver sends (its safe state, `abort`, and the alarms'
#: clear of its recovery), with their parameters: each role's `GemNeeds` starts with them.
SAFE_STATE_COMMANDS: dict[str, tuple[str, ...]] = {"abort": (), "clear_alarms": ()}


class GemEquipment(Equipment):
    """Base of the GEM role drivers: one GEM tool, described by its dictionary."""

    link_type = SecsLink
    #: What the role driver needs of a dictionary (checked when a dictionary is loaded);
    #: every role needs the `serial_number` status variable and `SAFE_STATE_COMMANDS`.
    needs: ClassVar[GemNeeds]
    #: The status variables the tool may be unable to give now, by name, each with why: the
    #: words of the refusal `role_value` raises when the tool sends one as an empty list (a
    #: measurement of a wafer with none on the chuck), in a reading, an event's report or a
    #: trace alike, as its other face's driver words that face's refusal of the query behind
    #: it. An empty list of any other variable is read by its dictionary entry
    #: (`Variable.to_role`): an array's no element (no alarm set), else the tool not knowing
    #: the variable.
    no_value_because: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        link: SecsLink,
        *,
        dictionary: GemDictionary | str,
        **options: Any,
    ) -> None:
        super().__init__(link, **options)
        self.dictionary = load_dictionary(dictionary) if isinstance(dictionary, str) else dictionary
        from ..registry import tool_kind  # the registry loads drivers

        role = tool_kind(self.dictionary.kind).role
        if role != self.role:
            raise ValueError(
                f"{self.name}: GEM dictionary {self.dictionary.name} is for a {role}, "
                f"this driver drives a {self.role}"
            )
        self.link: SecsLink = link
        self.gem = GemHost(link.hsms, id_format=self.dictionary.id_format)
        self.gem.add_alarm_listener(self._alarm_pushed)
        link.hsms.on_disconnected = self._disconnected
        #: The process waits running now (an alarm or a lost link ends each).
        self.waits: list[EventWait] = []
        self._tasks: set[asyncio.Future[bool]] = set()
        self._trids = itertools.count(1)
        #: The tool's E40 process jobs (its dictionary's `process_jobs`).
        self.process_jobs = ProcessJobs(self)

    # ----------------------------------------------------------------- identity and setup

    async def request_identity(self) -> Identity:
        """Establish communication (S1F13; the MDLN must be the dictionary's model), go online
        (S1F17: an offline tool answers nothing else) and read the serial number."""
        model, firmware = await self.gem.establish_communication()
        expected = self.dictionary.identity
        if model != expected.model:
            raise WrongTool(
                self.name,
                self.address,
                "connect",
                f"the tool says it is a {model}; GEM dictionary {self.dictionary.name} is "
                f"for a {expected.model} (check the station file's address and dictionary)",
            )
        await self.gem.request_online()
        (serial,) = await self.request_values("read identity", "serial_number")
        return Identity(expected.vendor, model, str(serial), firmware)

    async def _read_setup(self) -> None:
        """Every collection event's report defined, linked and enabled, the alarms enabled:
        from now on the tool pushes what the driver waits for."""
        dictionary = self.dictionary
        events = dictionary.collection_events
        await self.gem.define_reports({})
        reports = {
            event.id: [dictionary.status_variables[sv].id for sv in event.report]
            for event in events.values()
            if event.report
        }
        if reports:
            await self.gem.define_reports(reports)
            await self.gem.link_event_reports({ceid: [ceid] for ceid in reports})
        if events:
            await self.gem.enable_events([event.id for event in events.values()])
        await self.gem.enable_alarms([alarm.id for alarm in dictionary.alarms.values()])
        self.gem.add_event_listener(self._event_pushed)
        self.gem.add_event_listener(self.process_jobs.event_pushed)

    # ----------------------------------------------------------------- values by name

    async def request_values(self, action: str, *names: str) -> list[Any]:
        """The role's values of status variables `names` (S1F3, one transaction), each read
        as `role_value` reads it: one the tool cannot give now (`refuse_no_value`, checked of
        every value first) refuses the reading, before any other value is read."""
        variables = [self.dictionary.status_variables[name] for name in names]
        items = await self.gem.request_status_variables([variable.id for variable in variables])
        for name, value in zip(names, items, strict=True):
            self.refuse_no_value(action, name, value)
        return [
            self._read_value(action, name, value) for name, value in zip(names, items, strict=True)
        ]

    def refuse_no_value(self, action: str, name: str, value: Item) -> None:
        """Refuse `value` of status variable `name` if it is an empty list where the role
        driver says the tool may be unable to give it now (`no_value_because`):
        `CommandRefused` of `action`, its code the SVID, in those words."""
        if name in self.no_value_because and value.format is Format.L and not len(value):
            svid = self.dictionary.status_variables[name].id
            raise CommandRefused(
                self.name, self.address, action, self.no_value_because[name], f"SVID {svid}"
            )

    def role_value(self, action: str, name: str, value: Item) -> Any:
        """The role's value of status variable `name` as the tool sent it, in a reading, an
        event's report or a trace's sample alike: one it cannot give now refused
        (`refuse_no_value`), any other read by its dictionary entry (`Variable.to_role`: an
        empty list is an array's no element, or a `ProtocolError` of `action` saying the tool
        does not know the variable, as one of a value that does not fit it)."""
        self.refuse_no_value(action, name, value)
        return self._read_value(action, name, value)

    def _read_value(self, action: str, name: str, value: Item) -> Any:
        """`value` of status variable `name` read by its dictionary entry, once
        `refuse_no_value` let it through (`role_value`)."""
        variable = self.dictionary.status_variables[name]
        try:
            return variable.to_role(value)
        except ValueError as error:
            why = f"status variable {name} ({variable.id}): {error}"
        raise ProtocolError(self.name, self.address, action, why)

    async def request_reply(self, action: str, reply: Reply[R, Any]) -> R | None:
        """The result a query `reply` of another face answers with, asked as its status
        variables (`Reply.gem_variables`) in one transaction and its constants, if it has any
        (`gem_constants`, the saw's dressing interval), in another; None before there is one."""
        values = dict(
            zip(
                reply.gem_variables,
                await self.request_values(action, *reply.gem_variables),
                strict=True,
            )
        )
        if reply.gem_constants:
            constants = await self.request_constants(action, *reply.gem_constants)
            values.update(zip(reply.gem_constants, constants, strict=True))
        return reply.from_status_variables(values)

    async def set_constants(self, action: str, values: Mapping[str, RoleValue]) -> None:
        """Set equipment constants by the role's names (S2F15, all or none)."""
        constants = self.dictionary.equipment_constants
        await self.gem.set_equipment_constants(
            {constants[name].id: constants[name].to_wire(value) for name, value in values.items()}
        )

    async def request_constants(self, action: str, *names: str) -> list[Any]:
        """The role's values of equipment constants `names` (S2F13)."""
        constants = [self.dictionary.equipment_constants[name] for name in names]
        items = await self.gem.request_equipment_constants([constant.id for constant in constants])
        try:
            return [
                constant.to_role(value) for constant, value in zip(constants, items, strict=True)
            ]
        except ValueError as error:
            raise ProtocolError(self.name, self.address, action, str(error)) from None

    async def command(self, name: str, *, accept_already: bool = False, **parameters: Any) -> int:
        """Run the dictionary's remote command `name` (S2F41) with parameters by the role's
        names; a refusal is `CommandRefused` naming the HCACK's meaning. Returns HCACK."""
        entry = self.dictionary.remote_commands[name]
        wire = {
            entry.parameters[key].name: entry.parameters[key].variable.to_wire(value)
            for key, value in parameters.items()
        }
        accepted = (*HCACK_ACCEPTED, HCACK_ALREADY) if accept_already else HCACK_ACCEPTED
        return await self.gem.send_remote_command_allowing(entry.rcmd, wire, accepted)

    #: The CPACK of a parameter whose value the tool refuses (E5: illegal value).
    ILLEGAL_VALUE: ClassVar[int] = 2

    async def load_workpiece(self, name: str, key: str, workpiece_id: str, **others: Any) -> None:
        """Remote command `name` that puts workpiece `workpiece_id` (its parameter `key`) on
        the tool, with `REWORK` true for a workpiece `reloading` names (the dictionary's
        `rework` parameter). A tool that refuses the plain load of a workpiece it processed
        last answers HCACK 3 with CPACK 2 on the id: the refusal says so, and how to load it."""
        rework = workpiece_id in self.reworks
        parameters: dict[str, Any] = {key: workpiece_id, **others}
        if rework:
            parameters["rework"] = True
        try:
            await self.command(name, **parameters)
        except CommandRefused as refused:
            cpname = self.dictionary.remote_commands[name].parameters[key].name
            if (
                rework
                or refused.code != "HCACK 3"
                or f"{cpname}: {ack_text('CPACK', self.ILLEGAL_VALUE)}" not in refused.detail
            ):
                raise
            raise CommandRefused(
                self.name,
                self.address,
                refused.action,
                f"{workpiece_id}: this tool processed it last, and the plain load takes it only "
                f"once ({refused.reason}): load it again only as a rework (REWORK true)",
                refused.code,
            ) from refused

    async def request_e10_state(self) -> E10State:
        """The SEMI E10 state: the tool's own (status variable `e10_state`) when its dictionary
        names one, else the driver's state machine's (`e10_state`)."""
        if E10_STATE not in self.dictionary.status_variables:
            return self.e10_state
        (value,) = await self.request_values("read E10 state", E10_STATE)
        return E10State(value)  # the dictionary maps every tool value to an E10 state

    @asynccontextmanager
    async def trace(
        self,
        *names: str,
        period_s: float,
        total_samples: int = UNTIL_STOPPED,
        group_size: int = 1,
    ) -> AsyncIterator[Trace]:
        """Sample status variables `names` on the tool every `period_s` of its time, the first
        at once, for the block (at most `total_samples`), reported `group_size` samples at a
        time; the `Trace` gathers them. The tool's capacity (its dictionary's `trace`) is
        checked first, naming what is too much: a `ValueError`, nothing sent. Leaving the block
        ends the trace; the tool first sends the samples it has not reported."""
        variables = self.dictionary.status_variables
        capacity = self.dictionary.trace
        unknown = [name for name in names if name not in variables]
        problem = ""
        if unknown:
            problem = f"no status variable {', '.join(unknown)} in its GEM dictionary"
        elif not names or len(names) > capacity.max_variables:
            problem = f"{len(names)} variables; the tool traces 1 to {capacity.max_variables}"
        elif period_s < capacity.min_period_s:
            problem = f"period {period_s:g} s; the tool's shortest is {capacity.min_period_s:g} s"
        if problem:
            raise ValueError(f"{self.name}: trace {', '.join(names)}: {problem}")
        trace = Trace(
            next(self._trids),
            {name: variables[name] for name in names},
            self.role_value,
            tool=self.name,
            address=self.address,
        )
        self.gem.add_trace_listener(trace.received)
        try:
            await self.gem.initialize_trace(
                trace.trid,
                [variable.id for variable in trace.variables.values()],
                period_s=period_s,
                total_samples=total_samples,
                group_size=group_size,
            )
            try:
                yield trace
            except BaseException:
                with suppress(ToolError):  # the block's own error goes on
                    await self.gem.stop_trace(trace.trid)
                raise
            await self.gem.stop_trace(trace.trid)
        finally:
            self.gem.remove_trace_listener(trace.received)

    # ----------------------------------------------------------------- alarms

    async def request_alarms(self) -> dict[str, str]:
        """The set alarms (S5F5), by the role's alarm code (an ALID the dictionary lacks keeps
        its number: `ALID 17`)."""
        codes = self.dictionary.alarm_codes
        return {
            codes.get(alarm.alid, f"ALID {alarm.alid}"): alarm.text
            for alarm in await self.gem.request_alarm_list()
            if alarm.set
        }

    async def _clear_alarms(self) -> None:
        await self.command("clear_alarms", accept_already=True)

    def _alarm_pushed(self, report: AlarmReport) -> None:
        """S5F1: a set alarm joins the active ones (fault; a running wait ends with it), a
        cleared one goes to the history."""
        code = self.dictionary.alarm_codes.get(report.alid, f"ALID {report.alid}")
        now = self.clock.now()
        if not report.set:
            self.alarm_list.clear(code, now)
            return
        self.alarm_list.set(code, report.text, now)
        for wait in self.waits:
            if not wait.future.done():
                wait.future.set_exception(self.alarm_error(wait.action))
        if self.state not in (ToolState.FAULT, ToolState.OFFLINE):
            task = asyncio.ensure_future(self._state.fail())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _disconnected(self, reason: str) -> None:
        for wait in self.waits:
            if not wait.future.done():
                wait.future.set_exception(
                    ConnectionLost(self.name, self.address, wait.action, reason)
                )

    # ----------------------------------------------------------------- process waits

    def _event_pushed(self, event: CollectionEvent) -> None:
        for wait in self.waits:
            if event.ceid in wait.ceids and not wait.future.done():
                wait.future.set_result(event)

    @contextmanager
    def expect_event(self, action: str, *names: str) -> Iterator[asyncio.Future[CollectionEvent]]:
        """Subscribe to the dictionary's collection events `names` for the block: the future
        gets the first of them (subscribe before sending what makes the tool send it)."""
        events = self.dictionary.collection_events
        wait = EventWait(action, frozenset(events[name].id for name in names))
        self.waits.append(wait)
        try:
            yield wait.future
        finally:
            self.waits.remove(wait)
            if not wait.future.done():
                wait.future.cancel()
            elif not wait.future.cancelled():
                wait.future.exception()  # retrieved: the block's own error goes on

    async def wait_event(
        self,
        action: str,
        future: asyncio.Future[CollectionEvent],
        timeout_s: float,
        still: Callable[[], str],
        *,
        abort_on_timeout: bool = True,
    ) -> CollectionEvent:
        """Wait for the event of `future` (from `expect_event`) up to `timeout_s` of process
        time; past it the safe state is commanded and `ToolTimeout` says `<still()> after
        <timeout_s> s; aborted` (with `abort_on_timeout=False`, the safe-state command's own
        wait: `<still()> after <timeout_s> s`, nothing commanded). An alarm ends the wait with
        `ToolAlarm`, a lost link with `ConnectionLost`."""
        try:
            return await wait_for(self.clock, asyncio.shield(future), timeout_s, action)
        except ClockTimeout:
            detail = f"{still()} after {timeout_s:g} s"
            if abort_on_timeout:
                await self.abort()  # an overrunning process is never left running
                detail += "; aborted"
            raise ToolTimeout(self.name, self.address, action, detail) from None

    def event_values(self, name: str, event: CollectionEvent) -> dict[str, Any]:
        """The role's values of the report of the dictionary's event `name`, by SV name, each
        read by `role_value` (one the tool cannot give now refused)."""
        report = self.dictionary.collection_events[name].report
        values = event.reports.get(event.ceid, ())
        if len(values) != len(report):
            raise ProtocolError(
                self.name,
                self.address,
                f"event {name}",
                f"the report of CEID {event.ceid} has {len(values)} values, {len(report)} defined",
            )
        return {
            sv: self.role_value(f"event {name}", sv, value)
            for sv, value in zip(report, values, strict=True)
        }

    # ----------------------------------------------------------------- safe state

    def unsafe(self, status: Any) -> str | None:
        """What `status` (`request_status`) shows that is not the safe state the remote
        command `abort` brings, by the declaration of the kind its other faces use; None when
        it shows none. By default the role's state back at rest (`not_at_rest`: `still
        bumping`); a kind whose safe state is more says so (a chamber's power and gas off,
        the saw's spindle stopped)."""
        return self.not_at_rest(status)

    async def _command_safe_state(self) -> None:
        """The remote command `abort` (HCACK 0, done; 4, going on; 5, already: each taken),
        then the role's status read (S1F3) every poll interval until it shows the safe state
        (`unsafe`), within `safe_state_timeout_s`: past it `ToolTimeout` says what still
        shows (`abort: safe state not confirmed: ...`), without aborting again (this is the
        abort). The HCACK says the tool took the command, not that it is safe: a tool whose
        sequence hangs takes it and carries on."""
        await self.command("abort", accept_already=True)
        await self.confirm_safe_state(self.request_status, self.unsafe)
