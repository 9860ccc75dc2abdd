"""A generic GEM equipment (SEMI E30) on HSMS-SS passive, configured by a tool dictionary.

`GemEquipment` answers a GEM host the way a GEM tool does: communication and control state
(S1F13, S1F15, S1F17; `control.py`), status variables (S1F3, S1F11) and equipment constants
(S2F13, S2F15 refused out of range with EAC 3, S2F29; `variables.py`), the clock (S2F17,
S2F31), reports defined, linked, enabled and asked for by the host (S2F33, S2F35, S2F37,
S6F15; `reports.py`), trace data collection (S2F23; `traces.py`), remote commands (S2F41;
`remote_commands.py`), alarms enabled and listed (S5F3, S5F5, S5F7; `alarms.py`), process
programs (S7F3, S7F5, S7F17, S7F19; `programs.py`), terminal messages (S10F3) and, when its
dictionary has them, E40 process jobs (S16F5, S16F11, S16F17, S16F19; `process_jobs.py`). It
pushes collection events (S6F11), alarms (S5F1) and trace data (S6F1), each a transaction with
its T3. What the ids mean comes from the dictionary (`drivers/specs/gem/<name>.yaml`), the same
file the host driver reads; what the values are from a `GemModel` (`model.py`), which wraps one
of the simulated line's tools. A body of the wrong shape (`bodies.py`) is answered with an
abort (F0): the host sees a protocol error.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from packline.clock import Clock, WallClock
from packline.drivers.errors import PacklineError
from packline.drivers.gem.dictionary import GemDictionary
from packline.drivers.secs.data_items import format_time, parse_time
from packline.drivers.secs.hsms import HsmsLink, HsmsTimers, UnrecognizedStream
from packline.drivers.secs.items import A, B, Format, Item, L, item
from packline.drivers.secs.messages import SecsMessage

from .alarms import Alarms
from .bodies import Malformed, list_of, scalar
from .control import Control
from .model import GemModel
from .process_jobs import ProcessJobs, process_job_status
from .programs import ProcessPrograms
from .remote_commands import RemoteCommands
from .reports import EventReports
from .traces import Traces
from .variables import Variables

log = logging.getLogger(__name__)

SOFTWARE_REVISION = "1.0"

#: E30's standard status variables, which the equipment answers itself when its dictionary
#: names them: TIME, the control state, the enabled CEIDs and ALIDs, the set ALIDs.
STANDARD_STATUS = ("clock", "control_state", "events_enabled", "alarms_enabled", "alarms_set")
#: E40's stream, of the process jobs (`process_jobs.py`): known only to a tool that has them.
JOBS_STREAM = 16
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
        self.programs = ProcessPrograms()
        self.terminal_messages: list[tuple[int, str]] = []
        # The equipment's TIME runs on its clock (a virtual clock's too), from the wall's now.
        self._clock_origin = (dt.datetime.now(), self.clock.now())
        self._clock_offset = dt.timedelta()
        self.variables = Variables(
            dictionary, model, status=self._status, id_item=self._id, tool=tool
        )
        self._ceids = {event.id for event in dictionary.collection_events.values()}
        self.event_reports = EventReports(self.variables.sv_by_id, self._ceids)
        self.alarms = Alarms(dictionary, model, self._id)
        self.remote_commands = RemoteCommands(dictionary, model, self.control, tool)
        self.traces = Traces(
            dictionary.trace,
            self.variables.sv_by_id,
            model.clock,
            sample=self.variables.value,
            time=lambda: format_time(self._now()),
            send=self._send_trace,
            id_item=self._id,
            tool=tool,
            wake_each_sample=model.looks_find_alarms,
        )
        jobs = dictionary.process_jobs
        self.process_jobs = ProcessJobs(self, jobs) if jobs is not None else None
        #: The messages it answers: a tool without E40 process jobs knows nothing of stream 16,
        #: which it answers S9F3 as E5 has an unknown stream answered, not S9F5.
        self._handlers = {
            key: handler
            for key, handler in self._handlers.items()
            if key[0] != JOBS_STREAM or self.process_jobs is not None
        }

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

    @property
    def enabled_alarms(self) -> set[Any]:
        """The ALIDs the host enabled."""
        return self.alarms.enabled

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
                L(self._id(rptid), L(*(self.variables.value(vid) for vid in vids)))
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
        link = self.link
        for body in self.alarms.changes():
            if link is None or not link.selected:
                return
            await self._push(link, SecsMessage(5, 1, body, reply_expected=True))

    # ----------------------------------------------------------------- answering the host

    def _id(self, value: Any) -> Item:
        if isinstance(value, str):
            return A(value)
        return item(self.dictionary.id_format, value)

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
            return self.alarms.set_now()
        return sorted(self.enabled_events if name == "events_enabled" else self.alarms.enabled)

    async def _on_message(self, message: SecsMessage) -> SecsMessage | None:
        key = (message.stream, message.function)
        self.received.append(message.name)
        if not self.control.answers(*key):
            return SecsMessage(message.stream, 0)
        handler = self._handlers.get(key)
        if handler is None:
            if all(stream != message.stream for stream, _ in self._handlers):
                raise UnrecognizedStream(message.name)  # S9F3; a function it lacks S9F5
            return None
        try:
            body = await handler(self, message.body)
        except Malformed as error:
            log.warning("%s: %s: %s", self.tool, message.name, error)
            return SecsMessage(message.stream, 0)
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
        return self.variables.status_variables(body)

    async def _status_namelist(self, body: Item | None) -> Item:
        return self.variables.status_namelist(body)

    async def _constants(self, body: Item | None) -> Item:
        return self.variables.constants(body)

    async def _set_constants(self, body: Item | None) -> Item:
        return self.variables.set_constants(body)

    async def _constant_namelist(self, body: Item | None) -> Item:
        return self.variables.constant_namelist(body)

    def _now(self) -> dt.datetime:
        """The equipment's date and time: its clock's (set by the host with S2F31), as its
        tool reads it (a trace's sample's instant while it is taken)."""
        wall, clock_s = self._clock_origin
        return wall + dt.timedelta(seconds=self.model.clock.now() - clock_s) + self._clock_offset

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
        reply, rcmd = await self.remote_commands.run(body)
        if rcmd is not None:
            self.received[-1] = f"S2F41 {rcmd}"
            if self.process_jobs is not None:
                self.process_jobs.wake()  # a job may wait for what the command did
        return reply

    async def _enable_alarm(self, body: Item | None) -> Item:
        return self.alarms.enable(body)

    async def _list_alarms(self, body: Item | None) -> Item:
        return self.alarms.listing(body)

    async def _list_enabled_alarms(self, body: Item | None) -> Item:
        return self.alarms.listing_enabled()

    async def _store_program(self, body: Item | None) -> Item:
        return self.programs.store(body)

    async def _send_program(self, body: Item | None) -> Item:
        return self.programs.send(body)

    async def _delete_programs(self, body: Item | None) -> Item:
        return self.programs.delete(body)

    async def _program_list(self, body: Item | None) -> Item:
        return self.programs.listing()

    # stream 16's: answered only by a tool with process jobs (`_handlers`)

    async def _create_job(self, body: Item | None) -> Item:
        assert self.process_jobs is not None
        return self.process_jobs.create(body)

    async def _job_command(self, body: Item | None) -> Item:
        assert self.process_jobs is not None
        return self.process_jobs.command(body)

    async def _dequeue_jobs(self, body: Item | None) -> Item:
        assert self.process_jobs is not None
        return self.process_jobs.dequeue(body)

    async def _job_list(self, body: Item | None) -> Item:
        assert self.process_jobs is not None
        return self.process_jobs.listing()

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
        (JOBS_STREAM, 5): _job_command,
        (JOBS_STREAM, 11): _create_job,
        (JOBS_STREAM, 17): _dequeue_jobs,
        (JOBS_STREAM, 19): _job_list,
        (10, 5): _terminal,
    }
