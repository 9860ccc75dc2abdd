"""The SCPI family's wire side for simulated tools (laser, grinder), from their specs.

`ScpiSimTool` is the base of a simulated SCPI tool: it parses each received line with the
family's one grammar (`packline.drivers.families.scpi`), dispatches it to the tool's own
handlers, answers the IEEE 488.2 common commands and the family's system headers (errors,
alarms, interlocks) itself, and keeps per connection what SCPI-99 keeps per session: the error
queue (10 deep; an overflow replaces the newest entry with -350), the event status register
and the enable registers (`scpi_session.py`); `scpi_parameters.py` reads the parameters. A
tool keeps its physics and its command semantics: it lists its device headers with their
handlers (`device_commands`) and says what its interlocks read.

The family's rules (docs/protocols/conventions.md, *SCPI and IEEE 488.2*):

* precedence: the line's syntax and header (-102, -113), then its parameters' count, type and
  form (-108, -109, -104, -224), then the state (-221 and the tool's own state codes), then
  the interlocks (the tool's interlock code), then the range (-222);
* numbers: SCPI NRf; `nan`, `inf` and a decimal sent to a whole-number setpoint are -104;
* strings: double-quoted, an inner quote doubled, also inside an error's text;
* compound messages: a command error (-1xx) discards the rest of its message, any other
  refusal only its unit, the next unit executed, as IEEE 488.2 and SCPI-99 have it;
* overlapped commands (a tool's job or cycle, `operation_pending`): `*OPC?` and `*WAI` hold
  the connection until no operation is pending (`SimulatedTool.hold`; an alarm ends the
  operation), the lines sent meanwhile waiting their turn, and `*OPC` sets the event status
  register's bit 0 then.
"""

from __future__ import annotations

import asyncio
import math
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, TypeVar

from packline.clock import Clock
from packline.drivers.families.scpi_wire import (
    MAX_MESSAGE_CHARS,
    NOT_A_NUMBER_TEXT,
    ScpiSetpoint,
    ScpiWire,
    error_messages,
    header_pattern,
    interlock_reasons,
    quote,
    scpi_wire,
    short_form,
    split_outside_quotes,
)
from packline.drivers.families.scpi_wire import command as spec_command
from packline.drivers.specs.core import ToolSpec

from ..servers import TextToolServer
from ..servers.text import AddressForm
from ..tool import SimulatedTool
from ..twin import TwinStore
from .scpi_parameters import (
    choice,
    count,
    flag,
    quoted_wafer_id,
    register,
    split_arguments,
    switch,
)
from .scpi_session import (
    MASTER_SUMMARY,
    OPERATION_COMPLETE,
    ScpiError,
    Session,
    conflict,
    first_unmet_refusal,
    is_command_error,
    unmet,
)

T = TypeVar("T")

__all__ = [
    "Handler",
    "Header",
    "ScpiError",
    "ScpiSimTool",
    "Session",
    "choice",
    "conflict",
    "count",
    "first_unmet_refusal",
    "flag",
    "quoted_wafer_id",
    "switch",
    "unmet",
]

#: How many received header names a tool remembers the header of (`_header_named`).
NAMES_REMEMBERED = 256
#: What any header looks like: colon-separated mnemonics (brackets are not sent), a common
#: command's `*`, a query's `?`.
_HEADER_SYNTAX = re.compile(r"^:?\*?[A-Za-z][A-Za-z0-9]*(?::[A-Za-z][A-Za-z0-9]*)*\??$")
#: The common commands that wait for the pending operations to end (IEEE 488.2 10.19, 10.39):
#: `*OPC?` holds its reply, `*WAI` the lines after it.
_WAITS_FOR_OPERATIONS = re.compile(r"^\*(?:OPC\?|WAI)$", re.IGNORECASE)


Handler = Callable[[list[str]], str | None]


@dataclass(frozen=True)
class Header:
    """A header the tool answers, its query and setting handlers (None: not that form)."""

    template: str
    query: Handler | None = None
    setting: Handler | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", header_pattern(self.template))


class ScpiSimTool(SimulatedTool):
    """A simulated SCPI tool: the family's grammar, common commands and queues, per connection.

    A subclass sets `spec`, `not_a_number` (how its -104 detail reads a parameter that is not
    a number: `{header}` and `{text}`) and `serial_number`, implements `device_commands`,
    `abort`, `reset_settings` and `advance` (its interlocks and latched alarms are the simulated
    tool base's: `fault_opens`, `interlock_conditions`, `latch`).
    """

    spec: ClassVar[ToolSpec[ScpiWire]]
    not_a_number: ClassVar[str] = "{header} {text} is not a number"
    serial_number: str

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        address_form: AddressForm = "visa",
    ) -> None:
        super().__init__(name, twin, clock)
        self.address_form = address_form
        self._sessions: weakref.WeakKeyDictionary[asyncio.Task[object], Session] = (
            weakref.WeakKeyDictionary()
        )
        self._messages = error_messages(self.spec)
        self.wire = scpi_wire(self.spec)
        self._header_of_name: dict[str, Header] = {}

    @cached_property
    def _headers(self) -> list[Header]:
        """The common commands, the family's system headers, then the tool's own (built at
        first use, when the tool's attributes exist)."""
        wire = self.wire
        return [
            Header("*IDN", lambda _: self.identity()),
            Header("*RST", None, self._reset),
            Header("*CLS", None, self._clear_status),
            Header("*ESE", self._event_enable, self._set_event_enable),
            Header("*ESR", self._read_event_status),
            Header("*OPC", lambda _: "1", self._operation_complete),
            Header("*SRE", self._service_enable, self._set_service_enable),
            Header("*STB", lambda _: str(self.session().status_byte())),
            Header("*TST", lambda _: "0"),
            Header("*WAI", None, self._no_arguments("*WAI")),
            Header(wire.error_query, self._next_error),
            Header(wire.alarm_query, lambda _: self.alarm_list() or wire.no_alarm),
            Header(wire.alarm_clear, None, self._clear_alarms),
            Header(wire.interlock_query, self._interlock_reply),
            Header(wire.abort, None, self._abort),
            *self.device_commands(),
        ]

    # ----------------------------------------------------------------- what a tool provides

    def device_commands(self) -> Iterable[Header]:
        """The tool's own headers with their handlers."""
        raise NotImplementedError

    @property
    def model(self) -> str:
        return self.spec.identity.model

    def identity(self) -> str:
        """The `*IDN?` reply: `vendor,model,serial,firmware`."""
        identity = self.spec.identity
        return f"{identity.vendor},{self.model},{self.serial_number},{identity.firmware}"

    def reset_device(self) -> None:
        """`*RST`: the safe state, then every setting to its default."""
        self.abort()
        self.reset_settings()

    def reset_settings(self) -> None:
        """Every setting to its default (at power-on and `*RST`)."""

    def abort(self) -> None:
        """`ABOR`: the safe state."""
        raise NotImplementedError

    def operation_pending(self) -> bool:
        """Whether an overlapped command is still at work (a job, a cycle): `*OPC?` and
        `*WAI` wait for its end. By default none is."""
        return False

    # ----------------------------------------------------------------- the wire

    def make_server(self, host: str, port: int) -> TextToolServer:
        # Room for the CR of a CR LF line; a longer line reaches `handle` cut short.
        return TextToolServer(
            self.handle,
            host=host,
            port=port,
            address_form=self.address_form,
            max_line_bytes=MAX_MESSAGE_CHARS + 1,
            clock=self.clock,
        )

    def session(self) -> Session:
        """This connection's session (each server connection runs in a task of its own)."""
        task = asyncio.current_task()
        assert task is not None, "a simulated SCPI tool is addressed from a task"
        session = self._sessions.get(task)
        if session is None:
            session = self._sessions[task] = Session(self.wire.queue_depth)
        return session

    async def handle(self, line: str) -> str | None:
        """One received line, a program message: advance to now, then execute its units in
        order (one, or several joined by `;`, IEEE 488.2 compound), answering the queries'
        replies joined by `;` (None if it had no query).

        A unit whose header has no leading colon continues the path of the unit before it
        (`MEAS:CURR?;VOLT?` asks `MEAS:VOLT?`); a common command (`*...`) leaves the path as
        it was. A message longer than `MAX_MESSAGE_CHARS` is refused whole (-223). A refused
        unit queues its error and is not executed; what follows it depends on the error's
        class, as IEEE 488.2 and SCPI-99 have it (conventions.md): after a command error
        (-1xx, a unit the parser could not read) the rest of the message is discarded, after
        any other (an execution error such as -221 or -222, a tool's own) the next unit is
        executed. The replies of the executed queries are answered. `*OPC?` and `*WAI` go on
        once no operation is pending (`hold`), as the standard's parser does: the lines sent
        meanwhile are executed after them, in order (a host that gives `*OPC?` up drops its
        connection).
        """
        self.received.append(line)
        self.advance()
        self._note_operation_complete()
        if len(line.removesuffix("\r")) > MAX_MESSAGE_CHARS:
            self.queue_error(-223, f"message longer than {MAX_MESSAGE_CHARS} characters")
            return None
        text = line.strip()
        if not text:
            return None
        replies: list[str] = []
        path = ""
        for unit in split_outside_quotes(text, ";"):
            resolved = unit if unit.startswith((":", "*")) else path + unit
            if _WAITS_FOR_OPERATIONS.match(resolved):
                await self.hold(self.operation_pending, given_up_by_next_line=False)
            try:
                if not unit:
                    raise ScpiError(-102, "empty message unit")
                reply = self._execute(resolved)
            except ScpiError as error:
                self.queue_error(error.code, error.detail)
                if is_command_error(error.code):
                    break
                reply = None
            if not unit.startswith("*"):
                path = resolved.partition(" ")[0].rpartition(":")[0]
                path = path + ":" if path else ""
            if reply is not None:
                replies.append(reply)
        self.changed()
        return ";".join(replies) if replies else None

    def answer(self, line: str) -> str | None:
        """Execute one line in process, as a GEM face of the tool does (no session, no queue):
        the query's reply, None for a setting, `ScpiError` for a refusal."""
        return self._execute(line.strip())

    def queue_error(self, code: int, detail: str = "") -> None:
        message = self._messages[code] + (f";{detail}" if detail else "")
        self.session().queue(code, message)

    def _execute(self, text: str) -> str | None:
        header, _, rest = text.partition(" ")
        if not _HEADER_SYNTAX.match(header):
            raise ScpiError(-102, f"header {header}")
        arguments = split_arguments(rest.strip()) if rest.strip() else []
        is_query = header.endswith("?")
        entry = self._header_named(header[:-1] if is_query else header)
        handler = None if entry is None else entry.query if is_query else entry.setting
        if handler is None:
            raise ScpiError(-113, header)
        if is_query and arguments:
            raise ScpiError(-108, f"{header} takes no parameter")
        return handler(arguments)

    def _header_named(self, name: str) -> Header | None:
        """The first of the tool's headers whose template `name` matches (in long or short
        form, any case), None if none does. Remembered by name, up to `NAMES_REMEMBERED`
        names: a tool is sent the same few headers again and again."""
        known = self._header_of_name.get(name)
        if known is not None:
            return known
        for entry in self._headers:
            if entry.pattern.match(name):
                if len(self._header_of_name) < NAMES_REMEMBERED:
                    self._header_of_name[name] = entry
                return entry
        return None

    def _error_reply(self, code: int, message: str) -> str:
        return f"{code},{quote(message)}"

    # ----------------------------------------------------------------- common and system

    def _next_error(self, _: list[str]) -> str:
        errors = self.session().errors
        code, message = errors.popleft() if errors else (0, self._messages[0])
        return self._error_reply(code, message)

    def _reset(self, arguments: list[str]) -> None:
        count("*RST", arguments, 0)
        self.reset_device()

    def _clear_status(self, arguments: list[str]) -> None:
        count("*CLS", arguments, 0)
        session = self.session()
        session.errors.clear()
        session.event_status = 0
        session.operation_complete_owed = False  # *CLS cancels an *OPC (IEEE 488.2 10.3)

    def _operation_complete(self, arguments: list[str]) -> None:
        """`*OPC`: ESR bit 0 once no operation is pending (`_note_operation_complete`)."""
        count("*OPC", arguments, 0)
        self.session().operation_complete_owed = True
        self._note_operation_complete()

    def _note_operation_complete(self) -> None:
        """Set ESR bit 0 for an `*OPC` of this connection whose operations have ended (looked
        at as each line comes, before it is executed: what the host can read is up to date)."""
        session = self.session()
        if session.operation_complete_owed and not self.operation_pending():
            session.operation_complete_owed = False
            session.event_status |= OPERATION_COMPLETE

    def _read_event_status(self, _: list[str]) -> str:
        session = self.session()
        value, session.event_status = session.event_status, 0
        return str(value)

    def _event_enable(self, _: list[str]) -> str:
        return str(self.session().event_enable)

    def _set_event_enable(self, arguments: list[str]) -> None:
        self.session().event_enable = register("*ESE", arguments)

    def _service_enable(self, _: list[str]) -> str:
        return str(self.session().service_enable)

    def _set_service_enable(self, arguments: list[str]) -> None:
        self.session().service_enable = register("*SRE", arguments) & ~MASTER_SUMMARY

    def _no_arguments(self, header: str) -> Handler:
        def accept(arguments: list[str]) -> None:
            count(header, arguments, 0)

        return accept

    def _clear_alarms(self, arguments: list[str]) -> None:
        count(short_form(self.wire.alarm_clear), arguments, 0)
        self.clear_alarms()

    def _abort(self, arguments: list[str]) -> None:
        """`ABOR`, put off while `abort_ignored` is injected (a tool that suffers it, one
        whose driver confirms the safe state by its status: `defer_safe_state`)."""
        count(short_form(self.wire.abort), arguments, 0)
        if not self.defer_safe_state(self.abort):
            self.abort()

    def _interlock_reply(self, _: list[str]) -> str:
        states = self.interlocks()
        names = self.spec.interlock_names
        if self.wire.interlock_reply == "flags":
            return ",".join(flag(states[name]) for name in names)
        return ",".join(f"{name}={flag(states[name])}" for name in names)

    def require_interlocks(self, names: Iterable[str]) -> None:
        """Refuse, in the family's interlock dialect, when any of `names` is open."""
        states = self.interlocks()
        open_ = [name for name in names if not states[name]]
        if open_:
            raise ScpiError(self.wire.interlock_error, interlock_reasons(self.spec, open_))

    def alarm_list(self) -> str:
        """The latched alarms as the tool names them: alphabetical, `,` between them (empty
        with none latched), as `SYST:ALAR?` answers them and a refusal that names them gives
        them (the grinder's 202)."""
        return ",".join(sorted(self.alarms))

    # ----------------------------------------------------------------- parameters

    def number(
        self, setpoint: str, arguments: list[str], guard: Callable[[], None] | None = None
    ) -> float:
        """One number for `setpoint`, on the wire's scale, in the family's precedence: -104 if
        it is not a finite number (or not whole where the setpoint is), then `guard` (the
        state and interlock checks of the setting), then -222 outside the tool's range; taken to
        the setpoint's step where it declares one (`ScpiSetpoint.resolution`)."""
        entry = self._setpoint(setpoint)
        assert entry.header is not None
        header = short_form(entry.header)
        count(header, arguments, 1)
        text = arguments[0]
        try:
            value = float(text)
        except ValueError:
            raise ScpiError(-104, self.not_a_number.format(header=header, text=text)) from None
        if not math.isfinite(value):
            raise ScpiError(-104, f"{header} {text} is not a finite number")
        if entry.integer and value != int(value):
            raise ScpiError(-104, f"{header} {text} is not a whole number")
        if guard is not None:
            guard()
        bounds = entry.wire_range
        if not bounds.contains(value):
            raise ScpiError(-222, f"{header} {text} outside {bounds} {entry.unit_on_wire}")
        return entry.resolved(value, entry.wire_scale)

    # ----------------------------------------------------------------- settings kept in attributes

    def header(self, command: str) -> str:
        """The header (long form) of the spec's command `command`."""
        return spec_command(self.spec, command).header

    def short(self, command: str) -> str:
        """The short form of that header, as the tool's error details name it."""
        return short_form(self.header(command))

    def _setpoint(self, name: str) -> ScpiSetpoint:
        entry = self.spec.setpoint_by_name[name]
        assert isinstance(entry, ScpiSetpoint)
        return entry

    def reset_setpoints(self, attributes: Mapping[str, str]) -> None:
        """Each setpoint (name -> the attribute keeping it) to its tool default, wire scale."""
        for name, attribute in attributes.items():
            entry = self._setpoint(name)
            default = entry.tool_default
            value = None if default is None else default * entry.wire_scale
            setattr(self, attribute, int(value) if entry.integer and value is not None else value)

    def setpoint_header(
        self, name: str, attribute: str, guard: Callable[[], None] | None = None
    ) -> Header:
        """A numeric setpoint kept in `attribute`: the query answers it (SCPI's not-a-number
        while unset), the setting checks it as `number` does."""
        entry = self._setpoint(name)
        assert entry.header is not None

        def query(_: list[str]) -> str:
            value = getattr(self, attribute)
            return NOT_A_NUMBER_TEXT if value is None else f"{value:g}"

        def setting(arguments: list[str]) -> None:
            value = self.number(name, arguments, guard)
            setattr(self, attribute, int(value) if entry.integer else value)

        return Header(entry.header, query, setting)

    def choice_header(
        self,
        template: str,
        attribute: str,
        choices: Mapping[T, str],
        guard: Callable[[], None] | None = None,
    ) -> Header:
        """A mnemonic setting kept in `attribute`; the query answers its short form."""

        def setting(arguments: list[str]) -> None:
            value = choice(short_form(template), arguments, choices)
            if guard is not None:
                guard()
            setattr(self, attribute, value)

        return Header(template, lambda _: short_form(choices[getattr(self, attribute)]), setting)

    def switch_header(
        self, template: str, attribute: str, guard: Callable[[], None] | None = None
    ) -> Header:
        """A boolean setting (`ON`/`OFF`/`1`/`0`) kept in `attribute`; the query answers 1/0."""

        def setting(arguments: list[str]) -> None:
            value = switch(short_form(template), arguments)
            if guard is not None:
                guard()
            setattr(self, attribute, value)

        return Header(template, lambda _: flag(getattr(self, attribute)), setting)
