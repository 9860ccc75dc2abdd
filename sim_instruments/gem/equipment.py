"""A generic GEM equipment (SEMI E30) on HSMS-SS passive, configured by a tool dictionary.

`GemEquipment` answers a GEM host the way a GEM tool does: communication and control state
(S1F13, S1F15, S1F17; `control.py`), status variables (S1F3, S1F11), equipment constants
(S2F13, S2F15 refused out of range with EAC 3, S2F29), the clock (S2F17, S2F31), reports
defined, linked, enabled and asked for by the host (S2F33, S2F35, S2F37, S6F15; `reports.py`),
trace data collection (S2F23; `traces.py`), remote commands (S2F41), alarms enabled and
listed (S5F3, S5F5, S5F7), process programs (S7F3, S7F5, S7F17, S7F19; `programs.py`),
terminal messages (S10F3) and, when its dictionary has them, E40 process jobs (S16F5,
S16F11, S16F17, S16F19; `process_jobs.py`). It pushes collection events (S6F11), alarms (S5F1)
and trace data (S6F1), each a transaction with its T3. What the ids mean comes from the
dictionary (`drivers/specs/gem/<name>.yaml`), the same file the host driver reads; what the
values are from a `GemModel` (`model.py`), which wraps one of the simulated line's tools. A body
of the wrong shape (`bodies.py`) is answered with an abort (F0): the host sees a protocol error.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from packline.clock import Clock, WallClock
from packline.drivers.errors import PacklineError
from packline.drivers.gem.dictionary import GemDictionary
from packline.drivers.secs.data_items import ALARM_SET, format_time, parse_time
from packline.drivers.secs.hsms import HsmsLink, HsmsTimers
from packline.drivers.secs.items import A, B, Format, Item, L, item
from packline.drivers.secs.messages import SecsMessage

from .bodies import Malformed, hcack_body, ids_of, list_of, scalar
from .control import Control
from .model import GemModel, GemRefused
from .process_jobs import ProcessJobs, process_job_status
from .programs import ProcessPrograms
from .reports import EventReports
from .traces import Traces

# The model's side, importable with the equipment as before the equipment was split.
__all__ = ["SOFTWARE_REVISION", "GemEquipment", "GemModel", "GemRefused"]

log = logging.getLogger(__name__)

SOFTWARE_REVISION = "1.0"

#: E30's standard status variables, which the equipment answers itself when its dictionary
#: names them: TIME, the control state, the enabled CEIDs and ALIDs, the set ALIDs.
STANDARD_STATUS = ("clock", "control_state", "events_enabled", "alarms_enabled", "alarms_set")
#: E40's status variables of the process jobs (`process_jobs.py`), the equipment's own too.
JOB_STATUS = ("process_job_id", "process_job_state")


class GemEquipment:
    """A GEM equipment on HSMS passive: the dictionary's ids, the model's values."""

    def __init__(
        self,
        dictionary: GemDictionary,
        model: GemModel,
        *,
        clock: Clock | None = None,
        timers: HsmsTimers | None = None,
        tool: str = "gem equipment",
    ) -> None:
        self.dictionary = dictionary
        self.model = model
        self.clock: Clock = clock or WallClock()
        self.timers = timers or HsmsTimers()
        self.tool = tool
        model.equipment = self
        self.link: HsmsLink | None = None
        self.control = Control()
        #: Every primary message the host sent, by name (`S2F41 START`), oldest first.
        self.received: list[str] = []
        self.enabled_alarms: set[Any] = set()
        self.programs = ProcessPrograms()
        self.terminal_messages: list[tuple[int, str]] = []
        self._reported_alarms: set[str] = set()
        # The equipment's TIME runs on its clock (a virtual clock's too), from the wall's now.
        self._clock_origin = (dt.datetime.now(), self.clock.now())
        self._clock_offset = dt.timedelta()
        self._sv_by_id = {sv.id: (name, sv) for name, sv in dictionary.status_variables.items()}
        self._ec_by_id = {ec.id: (name, ec) for name, ec in dictionary.equipment_constants.items()}
        self._ceids = {event.id for event in dictionary.collection_events.values()}
        self.event_reports = EventReports(self._sv_by_id, self._ceids)
        self._alarm_ids = {code: alarm.id for code, alarm in dictionary.alarms.items()}
        self._commands = {cmd.rcmd: (name, cmd) for name, cmd in dictionary.remote_commands.items()}
        self.traces = Traces(
            dictionary.trace,
            self._sv_by_id,
            self.clock,
            sample=self._sv_value,
            time=lambda: format_time(self._now()),
            send=self._send_trace,
            id_item=self._id,
            tool=tool,
        )
        jobs = dictionary.process_jobs
        self.process_jobs = ProcessJobs(self, jobs) if jobs is not None else None

    @property
    def online(self) -> bool:
        """The control state is online (local or remote)."""
        return self.control.online

    @property
    def communicating(self) -> bool:
        """Communication is established (S1F13)."""
        return self.control.communicating

    @property
    def links(self) -> dict[Any, tuple[Any, ...]]:
        """The reports linked to each event: CEID -> RPTIDs."""
        return self.event_reports.links

    @property
    def enabled_events(self) -> set[Any]:
        """The CEIDs the host enabled."""
        return self.event_reports.enabled_events

    # ----------------------------------------------------------------- serving

    @property
    def address(self) -> str:
        if self.link is None:
            raise RuntimeError(f"{self.tool} is not being served")
        return self.link.address

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on `host:port` (0: a free port); returns `hsms://host:port`."""
        if self.link is not None:
            raise RuntimeError(f"{self.tool} is already served at {self.address}")
        link = HsmsLink(
            host,
            port,
            mode="passive",
            tool=self.tool,
            timers=self.timers,
            clock=self.clock,
            on_message=self._on_message,
        )
        await link.connect()
        link.on_disconnected = self._disconnected
        self.link = link
        await self.model.start()
        if self.process_jobs is not None:
            self.process_jobs.start()
        return link.address

    async def stop(self) -> None:
        """Stop serving; a connected host loses its connection (the tool died)."""
        link, self.link = self.link, None
        await self.traces.stop()
        if self.process_jobs is not None:
            await self.process_jobs.stop()
        await self.model.stop()
        if link is not None:
            await link.close()

    def _disconnected(self, reason: str) -> None:
        """E30: a lost connection ends communication; the host establishes it again."""
        del reason
        self.control.communicating = False

    # ----------------------------------------------------------------- what the equipment pushes

    async def send_event(self, name: str) -> None:
        """Send collection event `name` (S6F11, acknowledged) if the host enabled it and a
        host is there; its linked reports carry the status variables' values now."""
        if self.process_jobs is not None:
            self.process_jobs.event_sent(name)
        ceid = self.dictionary.collection_events[name].id
        link = self.link
        if ceid not in self.enabled_events or link is None or not link.selected:
            return
        await self._push(link, SecsMessage(6, 11, self._event_body(ceid), reply_expected=True))

    def _event_body(self, ceid: Any) -> Item:
        """DATAID, CEID and the linked reports with the status variables' values now (the body
        of S6F11 and S6F16)."""
        reports = L(
            *(
                L(self._id(rptid), L(*(self._sv_value(vid) for vid in vids)))
                for rptid, vids in self.event_reports.linked(ceid)
            )
        )
        return L(self._id(0), self._id(ceid), reports)

    async def _push(self, link: HsmsLink, message: SecsMessage) -> None:
        """Send a message the equipment pushes and wait for its acknowledge. A host that
        aborts it (F0), answers S9, does not answer within T3 or drops the connection loses
        that message (there is no spooling), never the command, job or process that raised
        it: the remote command that set an alarm still gets its S2F42."""
        try:
            await link.request(message)
        except PacklineError as error:
            log.warning("%s: %s not delivered to the host: %s", self.tool, message.name, error)

    async def _send_trace(self, body: Item) -> None:
        """Send one S6F1 (acknowledged) if a host is there."""
        link = self.link
        if link is not None and link.selected:
            await self._push(link, SecsMessage(6, 1, body, reply_expected=True))

    async def report_alarms(self) -> None:
        """Send an S5F1 for each alarm of the model set or cleared since the last report (for
        the alarms the host enabled)."""
        now = set(self.model.alarms())
        changes = [(code, True) for code in sorted(now - self._reported_alarms)]
        changes += [(code, False) for code in sorted(self._reported_alarms - now)]
        self._reported_alarms = now
        link = self.link
        for code, is_set in changes:
            alid = self._alarm_ids.get(code)
            if alid is None or alid not in self.enabled_alarms:
                continue
            if link is None or not link.selected:
                return
            body = L(
                B(bytes([ALARM_SET if is_set else 0])),
                self._id(alid),
                A(self._alarm_text(code)),
            )
            await self._push(link, SecsMessage(5, 1, body, reply_expected=True))

    def _alarm_text(self, code: str) -> str:
        text = self.dictionary.alarms[code].text
        if text:
            return text
        from packline.drivers.registry import tool_kind

        return tool_kind(self.dictionary.kind).load_spec().alarm_text.get(code, code)

    # ----------------------------------------------------------------- answering the host

    def _id(self, value: Any) -> Item:
        if isinstance(value, str):
            return A(value)
        return item(self.dictionary.id_format, value)

    def _sv_value(self, svid: Any) -> Item:
        """The item of status variable `svid` (an empty list for one the tool lacks, E30)."""
        if svid not in self._sv_by_id:
            return L()
        name, variable = self._sv_by_id[svid]
        return variable.to_wire(self._status(name))

    def _status(self, name: str) -> Any:
        """A status variable's role value: E30's standard ones (`STANDARD_STATUS`), when the
        dictionary names them, are the equipment's own; every other is the model's."""
        if name in JOB_STATUS:
            return process_job_status(self.process_jobs, name)
        if name not in STANDARD_STATUS:
            return self.model.status(name)
        if name == "clock":
            return format_time(self._now())
        if name == "control_state":
            return int(self.control.state)
        if name == "alarms_set":
            return sorted(self._alarm_ids[c] for c in self.model.alarms() if c in self._alarm_ids)
        return sorted(self.enabled_events if name == "events_enabled" else self.enabled_alarms)

    async def _on_message(self, message: SecsMessage) -> SecsMessage | None:
        key = (message.stream, message.function)
        self.received.append(message.name)
        if not self.control.answers(*key):
            return SecsMessage(message.stream, 0)
        handler = self._handlers.get(key)
        if handler is None:
            return None
        try:
            body = await handler(self, message.body)
        except Malformed as error:
            log.warning("%s: %s: %s", self.tool, message.name, error)
            return SecsMessage(message.stream, 0)
        if body is None:  # a message of a capability the tool lacks (E40 jobs): S9F5
            return None
        return SecsMessage(message.stream, message.function + 1, body)

    # each handler: the body of the request in, the body of the reply out

    async def _are_you_there(self, body: Item | None) -> Item:
        return L(A(self.dictionary.identity.model), A(SOFTWARE_REVISION))

    async def _establish_communication(self, body: Item | None) -> Item:
        self.control.communicating = True
        return L(B(b"\x00"), L(A(self.dictionary.identity.model), A(SOFTWARE_REVISION)))

    async def _offline(self, body: Item | None) -> Item:
        return self.control.request_offline()

    async def _online(self, body: Item | None) -> Item:
        return self.control.request_online()

    async def _status_variables(self, body: Item | None) -> Item:
        svids = ids_of(body)
        return L(*(self._sv_value(svid) for svid in (svids or list(self._sv_by_id))))

    async def _status_namelist(self, body: Item | None) -> Item:
        rows = []
        for svid in ids_of(body) or list(self._sv_by_id):
            name, variable = self._sv_by_id.get(svid, ("", None))
            unit = variable.unit if variable is not None else ""
            rows.append(L(self._id(svid), A(name), A(unit)))
        return L(*rows)

    async def _constants(self, body: Item | None) -> Item:
        values = []
        for ecid in ids_of(body) or list(self._ec_by_id):
            if ecid not in self._ec_by_id:
                values.append(L())
                continue
            name, constant = self._ec_by_id[ecid]
            values.append(constant.to_wire(self.model.constant(name)))
        return L(*values)

    async def _set_constants(self, body: Item | None) -> Item:
        changes: dict[str, Any] = {}
        for row in list_of(body):
            ecid_item, value = list_of(row, 2)
            ecid = scalar(ecid_item)
            if ecid not in self._ec_by_id:
                return B(b"\x01")  # at least one constant does not exist
            name, constant = self._ec_by_id[ecid]
            try:
                changes[name] = constant.to_role(value)
            except ValueError:
                return B(b"\x03")
            bounds = self.model.constant_range(name)
            if bounds is not None and not bounds[0] <= changes[name] <= bounds[1]:
                return B(b"\x03")  # at least one constant out of range
        try:
            self.model.set_constants(changes)
        except GemRefused as refusal:  # the tool cannot take them now (a cycle runs)
            log.info("%s: constants refused: %s", self.tool, refusal.text)
            return B(b"\x02")
        return B(b"\x00")

    async def _constant_namelist(self, body: Item | None) -> Item:
        rows = []
        for ecid in ids_of(body) or list(self._ec_by_id):
            if ecid not in self._ec_by_id:
                rows.append(L(self._id(ecid), A(), A(), A(), A(), A()))
                continue
            name, constant = self._ec_by_id[ecid]
            bounds = self.model.constant_range(name)
            default = constant.to_wire(self.model.constant(name))
            low, high = (
                (constant.to_wire(bounds[0]), constant.to_wire(bounds[1]))
                if bounds is not None
                else (A(), A())
            )
            rows.append(L(self._id(ecid), A(name), low, high, default, A(constant.unit)))
        return L(*rows)

    def _now(self) -> dt.datetime:
        """The equipment's date and time: its clock's (set by the host with S2F31)."""
        wall, clock_s = self._clock_origin
        return wall + dt.timedelta(seconds=self.clock.now() - clock_s) + self._clock_offset

    async def _clock(self, body: Item | None) -> Item:
        return A(format_time(self._now()))

    async def _set_clock(self, body: Item | None) -> Item:
        text = scalar(body)
        try:
            moment = parse_time(str(text))
        except ValueError:
            return B(b"\x01")
        self._clock_offset += moment - self._now()
        return B(b"\x00")

    async def _define_reports(self, body: Item | None) -> Item:
        return self.event_reports.define(body)

    async def _link_reports(self, body: Item | None) -> Item:
        return self.event_reports.link(body)

    async def _enable_events(self, body: Item | None) -> Item:
        return self.event_reports.enable(body)

    async def _initialize_trace(self, body: Item | None) -> Item:
        return await self.traces.initialize(body)

    async def _event_report(self, body: Item | None) -> Item:
        """S6F15: the event's report now, enabled or not; an empty list for an unknown CEID."""
        ceid = scalar(body)
        return self._event_body(ceid) if ceid in self._ceids else L()

    async def _remote_command(self, body: Item | None) -> Item:
        rcmd_item, parameter_list = list_of(body, 2)
        rcmd = scalar(rcmd_item)
        if rcmd not in self._commands:
            return L(B(b"\x01"), L())  # invalid command
        if self.control.local:
            log.info("%s: %s refused: the operator switched the tool to local", self.tool, rcmd)
            return hcack_body(2, {})
        name, command = self._commands[rcmd]
        by_cpname = {
            parameter.name: (key, parameter) for key, parameter in command.parameters.items()
        }
        values: dict[str, Any] = {}
        refused: dict[str, int] = {}
        for row in list_of(parameter_list):
            cpname_item, value = list_of(row, 2)
            cpname = str(scalar(cpname_item))
            if cpname not in by_cpname:
                refused[cpname] = 1
                continue
            key, parameter = by_cpname[cpname]
            try:
                values[key] = parameter.variable.to_role(value)
            except ValueError:
                refused[cpname] = 3
        if refused:
            return hcack_body(3, refused)
        try:
            hcack = await self.model.command(name, values)
        except GemRefused as refusal:
            log.info("%s: %s refused: %s", self.tool, rcmd, refusal.text)
            return hcack_body(refusal.hcack, refusal.parameters)
        self.received[-1] = f"S2F41 {rcmd}"
        if self.process_jobs is not None:
            self.process_jobs.wake()  # a job may wait for what the command did
        return hcack_body(hcack, {})

    async def _enable_alarm(self, body: Item | None) -> Item:
        aled, alid_item = list_of(body, 2)
        alid = scalar(alid_item)
        if alid not in self._alarm_ids.values():
            return B(b"\x01")
        code = scalar(aled)
        enabled = bool((code[0] if isinstance(code, bytes) else int(code)) & ALARM_SET)
        if enabled:
            self.enabled_alarms.add(alid)
        else:
            self.enabled_alarms.discard(alid)
        return B(b"\x00")

    def _alarm_rows(self, alids: list[Any]) -> Item:
        codes = {alid: code for code, alid in self._alarm_ids.items()}
        set_now = set(self.model.alarms())
        rows = []
        for alid in alids:
            code = codes.get(alid)
            if code is None:
                continue
            alcd = ALARM_SET if code in set_now else 0
            rows.append(L(B(bytes([alcd])), self._id(alid), A(self._alarm_text(code))))
        return L(*rows)

    async def _list_alarms(self, body: Item | None) -> Item:
        requested = [] if body is None else ids_of(body)
        return self._alarm_rows(requested or list(self._alarm_ids.values()))

    async def _list_enabled_alarms(self, body: Item | None) -> Item:
        return self._alarm_rows([a for a in self._alarm_ids.values() if a in self.enabled_alarms])

    async def _store_program(self, body: Item | None) -> Item:
        return self.programs.store(body)

    async def _send_program(self, body: Item | None) -> Item:
        return self.programs.send(body)

    async def _delete_programs(self, body: Item | None) -> Item:
        return self.programs.delete(body)

    async def _program_list(self, body: Item | None) -> Item:
        return self.programs.listing()

    async def _create_job(self, body: Item | None) -> Item | None:
        return None if self.process_jobs is None else self.process_jobs.create(body)

    async def _job_command(self, body: Item | None) -> Item | None:
        return None if self.process_jobs is None else self.process_jobs.command(body)

    async def _dequeue_jobs(self, body: Item | None) -> Item | None:
        return None if self.process_jobs is None else self.process_jobs.dequeue(body)

    async def _job_list(self, body: Item | None) -> Item | None:
        return None if self.process_jobs is None else self.process_jobs.listing()

    async def _terminal(self, body: Item | None) -> Item:
        tid, text = list_of(body, 2)
        terminal = scalar(tid)
        number = terminal[0] if isinstance(terminal, bytes) and terminal else int(terminal)
        lines = list_of(text) if text.format is Format.L else (text,)  # S10F5: several lines
        self.terminal_messages.append((number, "\n".join(str(scalar(line)) for line in lines)))
        return B(b"\x00")

    _handlers = {
        (1, 1): _are_you_there,
        (1, 3): _status_variables,
        (1, 11): _status_namelist,
        (1, 13): _establish_communication,
        (1, 15): _offline,
        (1, 17): _online,
        (2, 13): _constants,
        (2, 15): _set_constants,
        (2, 17): _clock,
        (2, 29): _constant_namelist,
        (2, 31): _set_clock,
        (2, 23): _initialize_trace,
        (2, 33): _define_reports,
        (2, 35): _link_reports,
        (2, 37): _enable_events,
        (2, 41): _remote_command,
        (5, 3): _enable_alarm,
        (5, 5): _list_alarms,
        (5, 7): _list_enabled_alarms,
        (6, 15): _event_report,
        (7, 3): _store_program,
        (7, 5): _send_program,
        (7, 17): _delete_programs,
        (7, 19): _program_list,
        (10, 3): _terminal,
        (16, 5): _job_command,
        (16, 11): _create_job,
        (16, 17): _dequeue_jobs,
        (16, 19): _job_list,
        (10, 5): _terminal,
    }
