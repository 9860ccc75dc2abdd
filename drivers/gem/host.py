"""The GEM host (SEMI E30) on the HSMS-SS link: every host-side GEM exchange, typed.

`GemHost` speaks E30 to one equipment over an `HsmsLink` (`drivers/secs/hsms.py`): it sends
the host's primary messages and turns their replies into Python values or errors (reading them
with `replies.py`), and it answers what the equipment pushes (S1F1, S1F13, S5F1 alarms, S6F1
trace data, S6F11 collection events, S10F1 terminal messages; `pushed.py`), handing alarms,
trace reports and events to whoever listens. It knows no tool kind: which SVID, ECID, CEID,
ALID or RCMD means what is the tool dictionary's business (`drivers/gem/dictionary.py`, used
by the GEM role drivers, `drivers/gem/equipment.py`).

Every call is one transaction and ends within the link's T3 (`ToolTimeout`); a reply of the
wrong shape is a `ProtocolError` naming the message; an S9 error from the equipment fails the
transaction it names with a `ProtocolError` (the link does that); an acknowledge code that
refuses (EAC, DRACK, LRACK, ERACK, HCACK, ACKC7, ...) is a `CommandRefused` whose code is
`<name> <value>` and whose detail says what the code means. IDs go on the wire in the format
given at construction (U4 by default, as most tools use); ASCII ids are sent as `A` items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from ..errors import CommandRefused
from ..secs.data_items import (
    ALARM_SET,
    HCACK_ACCEPTED,
    MF_SUBSTRATES,
    ack_text,
    format_period,
    format_time,
    parse_time,
)
from ..secs.hsms import HsmsLink
from ..secs.items import BOOLEAN, U1, A, B, Format, Item, L, item
from ..secs.messages import SecsMessage
from .pushed import PushedMessages
from .records import (
    AlarmListener,
    AlarmReport,
    CollectionEvent,
    EquipmentConstant,
    EventListener,
    GemId,
    TraceListener,
    TraceReport,
)
from .replies import Replies

# The host's records, importable with the host as before the host was split.
__all__ = [
    "AlarmListener",
    "AlarmReport",
    "CollectionEvent",
    "EquipmentConstant",
    "EventListener",
    "GemHost",
    "GemId",
    "TraceListener",
    "TraceReport",
]


class GemHost:
    """The host side of one GEM session: E30's messages over `link`, replies checked.

    `id_format` is the format of SVIDs, ECIDs, CEIDs, RPTIDs, ALIDs and DATAIDs on the wire
    (a `Format` name: U4, U2, I4, ...); text ids always travel as `A`. Listeners added with
    `add_event_listener` / `add_alarm_listener` are called on the loop, in the order added,
    when an S6F11 or S5F1 arrives (after the host has acknowledged it).
    """

    def __init__(self, link: HsmsLink, *, id_format: str = "U4") -> None:
        try:
            self.id_format = Format[id_format.upper()]
        except KeyError:
            raise ValueError(
                f"{link.tool} at {link.address}: id format {id_format!r} is not a SECS-II "
                "integer format (U1, U2, U4, U8, I1, I2, I4, I8)"
            ) from None
        if self.id_format.name[0] not in "UI":
            raise ValueError(
                f"{link.tool} at {link.address}: id format {id_format!r} is not an integer format"
            )
        self.link = link
        #: The VIDs of every report this host defined, by RPTID (to read S6F11 values).
        self.reports: dict[GemId, tuple[GemId, ...]] = {}
        #: The SVIDs of every trace this host initialized and has not stopped, by TRID (to cut
        #: S6F1 values into samples).
        self.traces: dict[GemId, tuple[GemId, ...]] = {}
        self._id_items: dict[GemId, Item] = {}
        self._replies = Replies(link)
        self._pushed = PushedMessages(self._replies, self.reports, self.traces)
        link.on_message = self._on_message

    # ----------------------------------------------------------------- wire helpers

    @property
    def tool(self) -> str:
        return self.link.tool

    @property
    def address(self) -> str:
        return self.link.address

    def id_item(self, value: GemId) -> Item:
        """`value` as an id item: text as `A`, a number in `id_format` (items are immutable, so
        each id's is made once)."""
        made = self._id_items.get(value)
        if made is None:
            made = A(value) if isinstance(value, str) else item(self.id_format, value)
            self._id_items[value] = made
        return made

    async def _transact(self, stream: int, function: int, body: Item | None) -> Item | None:
        """Send `S<stream>F<function> W` and return its reply's body (the link checks the pair
        and names the message in its errors)."""
        reply = await self.link.request(SecsMessage(stream, function, body, reply_expected=True))
        return reply.body

    # ----------------------------------------------------------------- S1: equipment status

    async def are_you_there(self) -> tuple[str, str]:
        """S1F1: the equipment's model name and software revision (MDLN, SOFTREV)."""
        action = "S1F1 are you there"
        body = await self._transact(1, 1, None)
        return self._replies.model(action, body)

    async def establish_communication(self) -> tuple[str, str]:
        """S1F13: establish communication (E30 communication state); returns MDLN, SOFTREV.

        COMMACK 1 (denied) is a `CommandRefused`.
        """
        action = "S1F13 establish communication"
        body = await self._transact(1, 13, L())
        commack, model = self._replies.list_of(action, body, 2)
        self._replies.refuse_unless(
            action, "COMMACK", self._replies.ack(action, commack, "COMMACK")
        )
        return self._replies.model(action, model)

    async def request_online(self) -> bool:
        """S1F17: ask for the online state; False if the equipment was already online.

        ONLACK 1 (not allowed, e.g. the operator holds it offline) is a `CommandRefused`.
        """
        action = "S1F17 request online"
        code = self._replies.ack(action, await self._transact(1, 17, None), "ONLACK")
        self._replies.refuse_unless(action, "ONLACK", code, (0, 2))
        return code == 0

    async def request_offline(self) -> None:
        """S1F15: ask the equipment to go offline (it then answers only S1F13/S1F17)."""
        action = "S1F15 request offline"
        code = self._replies.ack(action, await self._transact(1, 15, None), "OFLACK")
        self._replies.refuse_unless(action, "OFLACK", code)

    async def request_status_variables(self, svids: Sequence[GemId]) -> list[Item]:
        """S1F3: the values of `svids`, in that order (an empty list asks for every SV).

        An SV the equipment does not know comes back as an empty item (E30), which is passed on
        as it is; the caller decides whether that is an error.
        """
        action = "S1F3 status variables"
        body = await self._transact(1, 3, L(*(self.id_item(svid) for svid in svids)))
        values = list(self._replies.list_of(action, body))
        if svids and len(values) != len(svids):
            raise self._replies.malformed(
                action, f"asked {len(svids)} SVs, got {len(values)} values"
            )
        return values

    async def request_status_variable_namelist(
        self, svids: Sequence[GemId] = ()
    ) -> dict[GemId, tuple[str, str]]:
        """S1F11: each SV's name and unit, by SVID (empty: every SV of the equipment)."""
        action = "S1F11 status variable namelist"
        body = await self._transact(1, 11, L(*(self.id_item(svid) for svid in svids)))
        names: dict[GemId, tuple[str, str]] = {}
        for row in self._replies.list_of(action, body):
            svid, name, unit = self._replies.list_of(action, row, 3)
            text = (self._replies.scalar(action, name), self._replies.scalar(action, unit))
            if not all(isinstance(part, str) for part in text):
                raise self._replies.malformed(action, "SVNAME and UNITS must be text")
            names[self._replies.id_of(action, svid)] = text  # type: ignore[assignment]
        return names

    # ----------------------------------------------------------------- S2: constants, reports

    async def request_equipment_constants(self, ecids: Sequence[GemId]) -> list[Item]:
        """S2F13: the values of `ecids`, in that order (an empty list asks for every EC)."""
        action = "S2F13 equipment constants"
        body = await self._transact(2, 13, L(*(self.id_item(ecid) for ecid in ecids)))
        values = list(self._replies.list_of(action, body))
        if ecids and len(values) != len(ecids):
            raise self._replies.malformed(
                action, f"asked {len(ecids)} ECs, got {len(values)} values"
            )
        return values

    async def set_equipment_constants(self, values: Mapping[GemId, Item]) -> None:
        """S2F15: set equipment constants, all or none; EAC 1-3 is a `CommandRefused`
        (EAC 3: a value outside the constant's range)."""
        action = "S2F15 set equipment constants"
        body = L(*(L(self.id_item(ecid), value) for ecid, value in values.items()))
        code = self._replies.ack(action, await self._transact(2, 15, body), "EAC")
        self._replies.refuse_unless(action, "EAC", code)

    async def request_equipment_constant_namelist(
        self, ecids: Sequence[GemId] = ()
    ) -> dict[GemId, EquipmentConstant]:
        """S2F29: each EC's name, range, default and unit, by ECID (empty: every EC)."""
        action = "S2F29 equipment constant namelist"
        body = await self._transact(2, 29, L(*(self.id_item(ecid) for ecid in ecids)))
        constants: dict[GemId, EquipmentConstant] = {}
        for row in self._replies.list_of(action, body):
            ecid, name, minimum, maximum, default, unit = self._replies.list_of(action, row, 6)
            key = self._replies.id_of(action, ecid)
            text = self._replies.scalar(action, name), self._replies.scalar(action, unit)
            if not isinstance(text[0], str) or not isinstance(text[1], str):
                raise self._replies.malformed(action, "ECNAME and UNITS must be text")
            constants[key] = EquipmentConstant(key, text[0], minimum, maximum, default, text[1])
        return constants

    async def request_clock(self) -> dt.datetime:
        """S2F17: the equipment's date and time."""
        action = "S2F17 date and time"
        body = await self._transact(2, 17, None)
        if body is None:
            raise self._replies.malformed(action, "no TIME")
        text = self._replies.scalar(action, body)
        try:
            return parse_time(text)  # type: ignore[arg-type]
        except (ValueError, TypeError) as error:
            raise self._replies.malformed(action, str(error)) from None

    async def set_clock(self, moment: dt.datetime) -> None:
        """S2F31: set the equipment's clock to `moment`; TIACK 1 is a `CommandRefused`."""
        action = "S2F31 set date and time"
        code = self._replies.ack(
            action, await self._transact(2, 31, A(format_time(moment))), "TIACK"
        )
        self._replies.refuse_unless(action, "TIACK", code)

    async def define_reports(
        self, reports: Mapping[GemId, Sequence[GemId]], dataid: int = 0
    ) -> None:
        """S2F33: define each report (RPTID -> its VIDs); DRACK 1-4 is a `CommandRefused`.

        An empty mapping deletes every report the equipment holds (E30), and the host forgets
        its own record of them.
        """
        action = "S2F33 define reports"
        body = L(
            item(self.id_format, dataid),
            L(
                *(
                    L(self.id_item(rptid), L(*(self.id_item(vid) for vid in vids)))
                    for rptid, vids in reports.items()
                )
            ),
        )
        code = self._replies.ack(action, await self._transact(2, 33, body), "DRACK")
        self._replies.refuse_unless(action, "DRACK", code)
        if not reports:
            self.reports.clear()
        for rptid, vids in reports.items():
            if vids:
                self.reports[rptid] = tuple(vids)
            else:
                self.reports.pop(rptid, None)

    async def link_event_reports(
        self, links: Mapping[GemId, Sequence[GemId]], dataid: int = 0
    ) -> None:
        """S2F35: link reports to collection events (CEID -> RPTIDs; empty unlinks);
        LRACK 1-5 is a `CommandRefused`."""
        action = "S2F35 link event reports"
        body = L(
            item(self.id_format, dataid),
            L(
                *(
                    L(self.id_item(ceid), L(*(self.id_item(rptid) for rptid in rptids)))
                    for ceid, rptids in links.items()
                )
            ),
        )
        code = self._replies.ack(action, await self._transact(2, 35, body), "LRACK")
        self._replies.refuse_unless(action, "LRACK", code)

    async def enable_events(self, ceids: Sequence[GemId], enable: bool = True) -> None:
        """S2F37: enable (or disable) the reports of `ceids` (empty: every event);
        ERACK 1 is a `CommandRefused`."""
        action = "S2F37 enable events" if enable else "S2F37 disable events"
        body = L(BOOLEAN(enable), L(*(self.id_item(ceid) for ceid in ceids)))
        code = self._replies.ack(action, await self._transact(2, 37, body), "ERACK")
        self._replies.refuse_unless(action, "ERACK", code)

    async def send_remote_command(
        self, rcmd: str, parameters: Mapping[str, Item] | None = None
    ) -> int:
        """S2F41: run remote command `rcmd` with its parameters; returns HCACK (0 done, 4 will
        be done, its completion signalled by an event).

        Any other HCACK is a `CommandRefused` naming the code's meaning and each refused
        parameter's CPACK (`send_remote_command_allowing` accepts other codes, such as
        `HCACK_ALREADY` for a command that brings the tool to a safe state).
        """
        return await self.send_remote_command_allowing(rcmd, parameters, HCACK_ACCEPTED)

    async def send_remote_command_allowing(
        self, rcmd: str, parameters: Mapping[str, Item] | None, accepted: Iterable[int]
    ) -> int:
        """S2F41 as `send_remote_command`, accepting the HCACK codes `accepted`."""
        action = f"S2F41 remote command {rcmd}"
        body = L(
            A(rcmd),
            L(*(L(A(name), value) for name, value in (parameters or {}).items())),
        )
        hcack_item, refused = self._replies.list_of(action, await self._transact(2, 41, body), 2)
        hcack = self._replies.ack(action, hcack_item, "HCACK")
        if hcack in tuple(accepted):
            return hcack
        reasons = []
        for row in self._replies.list_of(action, refused):
            name, cpack = self._replies.list_of(action, row, 2)
            code = self._replies.ack(action, cpack, "CPACK")
            reasons.append(f"{self._replies.scalar(action, name)!s}: {ack_text('CPACK', code)}")
        detail = f"HCACK {hcack}: {ack_text('HCACK', hcack)}"
        if reasons:
            detail += " (" + "; ".join(reasons) + ")"
        raise CommandRefused(self.tool, self.address, action, detail, f"HCACK {hcack}")

    async def initialize_trace(
        self,
        trid: GemId,
        svids: Sequence[GemId],
        *,
        period_s: float,
        total_samples: int,
        group_size: int = 1,
    ) -> None:
        """S2F23: sample `svids` every `period_s` on the equipment, `total_samples` times, and
        send them `group_size` samples to an S6F1 (trace listeners get each); a trace of the
        same TRID is replaced. TIAACK 1-5 is a `CommandRefused`; a period DSPER cannot say is
        a `ValueError` before anything is sent."""
        action = f"S2F23 initialize trace {trid}"
        if not svids or total_samples < 1 or group_size < 1:
            raise ValueError(
                f"{self.tool} at {self.address}: {action}: a trace takes at least one SVID, one "
                f"sample and a group of one (got {len(svids)}, {total_samples}, {group_size})"
            )
        dsper = format_period(period_s)
        await self._trace_request(action, trid, svids, dsper, total_samples, group_size)
        self.traces[trid] = tuple(svids)

    async def stop_trace(self, trid: GemId) -> None:
        """S2F23 with no samples (TOTSMP 0): end trace `trid` on the equipment, which first
        sends the samples it has not reported."""
        await self._trace_request(f"S2F23 stop trace {trid}", trid, (), "000000", 0, 1)
        self.traces.pop(trid, None)

    async def _trace_request(
        self,
        action: str,
        trid: GemId,
        svids: Sequence[GemId],
        dsper: str,
        total_samples: int,
        group_size: int,
    ) -> None:
        body = L(
            self.id_item(trid),
            A(dsper),
            item("U4", total_samples),
            item("U4", group_size),
            L(*(self.id_item(svid) for svid in svids)),
        )
        code = self._replies.ack(action, await self._transact(2, 23, body), "TIAACK")
        self._replies.refuse_unless(action, "TIAACK", code)

    # ----------------------------------------------------------------- S6: event reports

    async def request_event_report(self, ceid: GemId) -> CollectionEvent:
        """S6F15: collection event `ceid`'s linked reports with their values now, as its S6F11
        would carry them (whether the event is enabled or not). A CEID the equipment does not
        know (E5: an empty list) is a `CommandRefused`."""
        action = f"S6F15 event report {ceid}"
        body = await self._transact(6, 15, self.id_item(ceid))
        if body is not None and body.format is Format.L and not len(body):
            raise CommandRefused(
                self.tool, self.address, action, f"no collection event {ceid} on the tool", "CEID"
            )
        try:
            return self._replies.event(action, body, self.reports)
        except ValueError as error:
            raise self._replies.malformed(action, str(error)) from None

    # ----------------------------------------------------------------- S5: alarms

    async def enable_alarms(self, alids: Sequence[GemId], enable: bool = True) -> None:
        """S5F3 for each alarm: enable (or disable) its S5F1 reports; ACKC5 1 refuses."""
        for alid in alids:
            action = f"S5F3 {'enable' if enable else 'disable'} alarm {alid}"
            body = L(B(bytes([ALARM_SET if enable else 0])), self.id_item(alid))
            code = self._replies.ack(action, await self._transact(5, 3, body), "ACKC5")
            self._replies.refuse_unless(action, "ACKC5", code)

    async def request_alarm_list(self, alids: Sequence[GemId] = ()) -> list[AlarmReport]:
        """S5F5: every alarm (or `alids`) with whether it is set now (ALCD bit 8) and its text.

        The ALIDs go as a list of items, as secsgem and most tools read them (E5 writes an
        array; the simulated equipment reads both).
        """
        action = "S5F5 list alarms"
        body = await self._transact(5, 5, L(*(self.id_item(alid) for alid in alids)))
        return [self._replies.alarm(action, row) for row in self._replies.list_of(action, body)]

    # ----------------------------------------------------------------- S7: process programs

    async def send_process_program(self, ppid: str, body: bytes | str) -> None:
        """S7F3: store process program `ppid` on the equipment; ACKC7 1-7 refuses."""
        action = f"S7F3 send process program {ppid}"
        ppbody = B(body) if isinstance(body, bytes) else A(body)
        code = self._replies.ack(action, await self._transact(7, 3, L(A(ppid), ppbody)), "ACKC7")
        self._replies.refuse_unless(action, "ACKC7", code)

    async def request_process_program(self, ppid: str) -> bytes | str:
        """S7F5: the body of process program `ppid`; one the equipment lacks is refused
        (E30: an empty list) as ACKC7 4."""
        action = f"S7F5 process program {ppid}"
        items = self._replies.list_of(action, await self._transact(7, 5, A(ppid)))
        if not items:
            raise CommandRefused(
                self.tool, self.address, action, "ACKC7 4: PPID not found", "ACKC7 4"
            )
        if len(items) != 2:
            raise self._replies.malformed(
                action, f"expected PPID and PPBODY, got {len(items)} items"
            )
        body = items[1].value
        if not isinstance(body, bytes | str):
            raise self._replies.malformed(
                action, f"PPBODY must be binary or text, got {items[1].format}"
            )
        return body

    async def delete_process_programs(self, ppids: Sequence[str] = ()) -> None:
        """S7F17: delete `ppids` (empty: every process program); ACKC7 1-7 refuses."""
        action = "S7F17 delete process programs"
        body = L(*(A(ppid) for ppid in ppids))
        code = self._replies.ack(action, await self._transact(7, 17, body), "ACKC7")
        self._replies.refuse_unless(action, "ACKC7", code)

    async def request_process_program_list(self) -> list[str]:
        """S7F19: the PPIDs the equipment holds."""
        action = "S7F19 process program list"
        ppids = []
        for ppid in self._replies.list_of(action, await self._transact(7, 19, None)):
            text = self._replies.scalar(action, ppid)
            if not isinstance(text, str):
                raise self._replies.malformed(action, "a PPID must be text")
            ppids.append(text)
        return ppids

    # ----------------------------------------------------------------- S16: E40 process jobs

    async def create_process_job(
        self,
        prjobid: str,
        material_ids: Sequence[str],
        recipe: str,
        variables: Mapping[str, Item] | None = None,
        *,
        start: bool = True,
    ) -> None:
        """S16F11: create process job `prjobid` on substrates `material_ids` (MF 14) with the
        recipe (PPID) `recipe`, tuned by `variables` (RCPPARNM -> RCPPARVAL; PRRECIPEMETHOD 2
        when there are any), started as soon as its material is there unless `start` is False
        (then `send_process_job_command(prjobid, "START")`). Refused (ACKA false): a
        `CommandRefused` with each ERRCODE and its text."""
        action = f"S16F11 create process job {prjobid}"
        body = L(
            item(self.id_format, 0),
            A(prjobid),
            B(bytes([MF_SUBSTRATES])),
            L(*(A(mid) for mid in material_ids)),
            L(
                U1(2 if variables else 1),
                A(recipe),
                L(*(L(A(name), value) for name, value in (variables or {}).items())),
            ),
            BOOLEAN(start),
            L(),
        )
        _, status = self._replies.list_of(action, await self._transact(16, 11, body), 2)
        self._replies.refuse_unless_acka(action, status)

    async def send_process_job_command(self, prjobid: str, command: str) -> None:
        """S16F5: job command `command` (START, STOP, ABORT, CANCEL, PAUSE, RESUME) for
        `prjobid`; refused (ACKA false) is a `CommandRefused` naming each ERRCODE."""
        action = f"S16F5 {command} process job {prjobid}"
        body = L(item(self.id_format, 0), A(prjobid), A(command), L())
        _, status = self._replies.list_of(action, await self._transact(16, 5, body), 2)
        self._replies.refuse_unless_acka(action, status)

    async def dequeue_process_jobs(self, prjobids: Sequence[str] = ()) -> list[str]:
        """S16F17: take jobs that have not started off the queue (none named: every such
        job); returns those taken. Any refused is a `CommandRefused` (the others are taken)."""
        action = "S16F17 dequeue process jobs"
        body = await self._transact(16, 17, L(*(A(prjobid) for prjobid in prjobids)))
        taken, status = self._replies.list_of(action, body, 2)
        self._replies.refuse_unless_acka(action, status)
        taken_ids = self._replies.list_of(action, taken)
        return [str(self._replies.scalar(action, prjobid)) for prjobid in taken_ids]

    async def request_process_jobs(self) -> dict[str, int]:
        """S16F19: every process job on the equipment and its state (E40 PRJOBSTATE)."""
        action = "S16F19 process jobs"
        jobs = {}
        for row in self._replies.list_of(action, await self._transact(16, 19, None)):
            prjobid, state = self._replies.list_of(action, row, 2)
            jobs[str(self._replies.scalar(action, prjobid))] = self._replies.ack(
                action, state, "PRJOBSTATE"
            )
        return jobs

    # ----------------------------------------------------------------- S10: terminal services

    async def send_terminal_message(self, text: str, terminal: int = 0) -> None:
        """S10F3: show `text` on the equipment's terminal `terminal`; ACKC10 1-2 refuses."""
        action = "S10F3 terminal display"
        body = L(B(bytes([terminal])), A(text))
        code = self._replies.ack(action, await self._transact(10, 3, body), "ACKC10")
        self._replies.refuse_unless(action, "ACKC10", code)

    async def send_terminal_lines(self, lines: Sequence[str], terminal: int = 0) -> None:
        """S10F5: show several lines at once on the equipment's terminal `terminal` (E5's
        multi-block display); ACKC10 1-2 refuses."""
        action = "S10F5 terminal display, multi-block"
        body = L(B(bytes([terminal])), L(*(A(line) for line in lines)))
        code = self._replies.ack(action, await self._transact(10, 5, body), "ACKC10")
        self._replies.refuse_unless(action, "ACKC10", code)

    # ----------------------------------------------------------------- what the equipment pushes

    @property
    def terminal_messages(self) -> list[tuple[int, str]]:
        """Terminal messages from the equipment (S10F1), oldest first: (TID, text)."""
        return self._pushed.terminal_messages

    def add_event_listener(self, listener: EventListener) -> None:
        self._pushed.event_listeners.append(listener)

    def add_alarm_listener(self, listener: AlarmListener) -> None:
        self._pushed.alarm_listeners.append(listener)

    def add_trace_listener(self, listener: TraceListener) -> None:
        self._pushed.trace_listeners.append(listener)

    def remove_trace_listener(self, listener: TraceListener) -> None:
        self._pushed.trace_listeners.remove(listener)

    async def _on_message(self, message: SecsMessage) -> SecsMessage | None:
        """Answer a primary message of the equipment; None (the link sends S9F5) if unknown."""
        return await self._pushed.answer(message)
