"""The simulated tools' side of the ASCII host links (docs/protocols/conventions.md).

`HostLinkTool` is the base of every simulated host-link tool (the wire bonder, the dicing
saw). It reads the tool's spec and answers each line the one way the family's rules say: one
tokenizer (CR LF or LF, words split on spaces, command words in any case), the line length
limit, the number grammar of every setpoint and its machine range, the phases each command
is accepted in, the interlocks it needs, and the refusal dialect `ERR <code> <text>`. The
refusals come in one order, the family's precedence: the line, the arguments (count and
grammar, then ranges), the tool's state, then what the command itself needs (checked by the
tool's handler: a wafer, a program, the interlocks, a spindle at speed; the refusal of each
precondition the spec declares in its words, `unmet`). It also answers the
queries every host-link tool has (identity, alarms, interlocks) and keeps the latched alarms.

A tool's file keeps its physics and its commands' meaning: a handler per command word that
takes the parsed arguments and returns the `OK` payload ('' for a bare `OK`). What several tools
do alike is here too (the alarm reset, `reset_alarms`) or beside it in `ascii_host_jobs.py`:
holding one wafer (`OneWaferTool`) and running one timed job at a time (`JobTool`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, ClassVar, Literal

from packline.clock import Clock
from packline.drivers.families.ascii_host_wire import (
    COMPOUND_SEPARATOR,
    DECIMAL,
    MAX_LINE_CHARS,
    MAX_REPLY_BYTES,
    MAX_WAIT_S,
    REPLY_TOO_LONG,
    ROOM_TO_CHANGE_BYTES,
    WAIT_PARAMETERS,
    HostCommand,
    HostLink,
    HostSetpoint,
    check_host_spec,
    host_commands,
    host_interlocks,
    is_query,
    precondition,
    refusal_code,
)
from packline.drivers.specs.core import ToolSpec

from ..servers import PtyToolServer, TextToolServer, ToolServer
from ..servers.text import AddressForm
from ..tool import SimulatedTool
from ..twin import TwinStore, WaferAlreadyProcessed, validate_wafer_id

Transport = Literal["pty", "pty-visa", "socket"]

#: How a line's bytes read as text: each byte the character of its own code, so that a byte
#: outside ASCII reaches the tool as it came (`shown_in_ascii`) and a line's characters are
#: its bytes (the line limit counts them).
LINE_ENCODING = "latin-1"
#: What separates the words of a line: white space, but the two bytes outside ASCII that Python
#: takes for it (NEL and no-break space), which are no separators on an ASCII line.
WORD_BREAKS = re.compile(r"[^\S\x85\xa0]+")


def shown_in_ascii(reply: str) -> str:
    """`reply` as the tool sends it: ASCII, a character outside it (a byte of the line that
    came, echoed in a refusal) shown as its escape, `\\xff`, so that a user sees which byte."""
    return reply.encode("ascii", "backslashreplace").decode("ascii")


#: A command's handler: the tool and the parsed arguments in, the `OK` payload out.
Handler = Callable[..., str]


class HostRefused(Exception):
    """A command the tool refuses: `name` is the refusal's name in the spec (`WRONG_STATE`);
    `argument`, the position of the argument it blames (0 the first after the command words),
    when it blames one (a GEM face names the remote command parameter that carried it)."""

    def __init__(self, name: str, text: str, *, argument: int | None = None) -> None:
        super().__init__(text)
        self.name = name
        self.text = text
        self.argument = argument


def wait_seconds(word: str) -> float:
    """The wait query's `<wait_s>`: a decimal number above 0, at most `MAX_WAIT_S`."""
    if not DECIMAL.fullmatch(word) or not 0 < float(word) <= MAX_WAIT_S:
        raise ValueError(
            f"wait {word!r} is not a number of seconds above 0, at most {MAX_WAIT_S:g}"
        )
    return float(word)


#: The wait query's arguments, parsed alike on every tool.
WAIT_ARGUMENTS: dict[str, Callable[[str], Any]] = dict(
    zip((parameter.name for parameter in WAIT_PARAMETERS), (str.upper, wait_seconds), strict=True)
)


def whole_number(word: str) -> int:
    """A non-negative whole number argument (a site, a count); ValueError otherwise."""
    if not word.isdigit():
        raise ValueError(f"{word!r} is not a whole number")
    return int(word)


class HostLinkTool(SimulatedTool):
    """Base of the simulated host-link tools: the family's wire rules, read from `spec`.

    A subclass sets `spec`, `handlers` (command word -> handler, one for every command of the
    spec but the identity, alarm and interlock queries, which this base answers),
    `parsers` (parameter name -> a callable that turns its word into a value or raises
    ValueError), `fault_opens` (an injected fault -> the interlock it opens), keeps its
    `state` (whose value is its `STATE` token, unless it overrides `phase()`) and, for
    interlocks that hang on more than a fault, implements `interlock_conditions()`.
    """

    status_confirms_safe_state = True  # STOP, confirmed by the status query

    #: What the tool is doing; its members include the family's `IDLE` and `FAULT`.
    state: StrEnum
    spec: ClassVar[ToolSpec[HostLink]]
    handlers: ClassVar[Mapping[str, Handler]]
    parsers: ClassVar[Mapping[str, Callable[[str], Any]]] = {}
    transports: ClassVar[tuple[Transport, ...]] = ("pty", "pty-visa", "socket")
    serial_over_tcp = "socket"

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None,
        *,
        transport: Transport,
        serial_number: str,
    ) -> None:
        super().__init__(name, twin, clock)
        if transport not in self.transports:
            raise ValueError(
                f"simulated {name}: transport must be "
                + " or ".join(repr(t) for t in self.transports)
                + f", got {transport!r}"
            )
        self.transport = transport
        self.serial_number = serial_number

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "spec" in cls.__dict__:
            wire = check_host_spec(cls.spec).wire
            assert wire is not None
            own = {wire.identity_query, wire.alarm_query, wire.interlock_query, wire.wait_query}
            declared = {command.name for command in host_commands(cls.spec)} - own
            if declared != set(cls.handlers):
                raise TypeError(
                    f"{cls.__name__}: handlers {sorted(cls.handlers)} do not match the spec's "
                    f"commands {sorted(declared)}"
                )

    @property
    def wire(self) -> HostLink:
        wire = self.spec.wire
        assert wire is not None
        return wire

    # ----------------------------------------------------------------- what the tool says

    def phase(self) -> str:
        """The tool's `STATE` token now (`IDLE`, `CUTTING`, …)."""
        return self.state.value

    # ----------------------------------------------------------------- the wire

    def make_server(self, host: str, port: int) -> ToolServer:
        # Room for the CR of a CR LF line; a longer line reaches `handle` cut short.
        limit = MAX_LINE_CHARS + 1
        if self.transport == "socket":
            return TextToolServer(
                self.handle,
                host=host,
                port=port,
                address_form="serial",
                encoding=LINE_ENCODING,
                max_line_bytes=limit,
                clock=self.clock,
            )
        form: AddressForm = "visa" if self.transport == "pty-visa" else "serial"
        return PtyToolServer(
            self.handle,
            address_form=form,
            encoding=LINE_ENCODING,
            max_line_bytes=limit,
            clock=self.clock,
        )

    async def handle(self, line: str) -> str | None:
        """Answer one command line: exactly one reply line (the wait query's when the tool's
        state changes, `hold_status`, and none if the host gave the wait up). A compound line
        runs its commands in order up to the first one refused, their replies joined, within
        `MAX_REPLY_BYTES`: a reply that would not fit, or would leave no room to refuse the
        command after it, gives way to `REPLY_TOO_LONG`, which ends the line. Only a query's or
        a refusal's can (nothing changed): a command that is not a query runs only while its
        reply fits (`_answer`)."""
        self.received.append(line)
        self.advance()
        text = line.removesuffix("\r")
        # A line too long is refused whole, by `_parse`, before its commands are told apart.
        units = text.split(COMPOUND_SEPARATOR) if len(text) <= MAX_LINE_CHARS else [text]
        too_long = self._refusal(HostRefused("UNKNOWN_COMMAND", REPLY_TOO_LONG))
        replies: list[str] = []
        for index, unit in enumerate(units):
            # What the reply line (its LF aside) has left for this command's, after its `;`.
            room = MAX_REPLY_BYTES - len("\n") - len(COMPOUND_SEPARATOR.join([*replies, ""]))
            try:
                reply = await self._answer(unit, alone=len(units) == 1, room=room)
                if reply is None:
                    return None
                last = index == len(units) - 1
            except HostRefused as refused:
                reply, last = self._refusal(refused), True
            reply = shown_in_ascii(reply)
            if len(reply) + (0 if last else len(COMPOUND_SEPARATOR + too_long)) > room:
                reply, last = too_long, True
            replies.append(reply)
            if last:
                break
        return COMPOUND_SEPARATOR.join(replies)

    async def _answer(self, unit: str, *, alone: bool, room: int) -> str | None:
        """The reply to one command of a line (`alone` on it, or not), `HostRefused` if the
        tool refuses it; None if it was the wait query and the host gave the wait up. A
        command that is not a query runs only with `ROOM_TO_CHANGE_BYTES` of the `room` its
        line's reply has left, so that its reply is sent with it."""
        command, values = self._parse(unit)
        if command.name == self.wire.wait_query:
            if not alone:
                raise HostRefused("UNKNOWN_COMMAND", f"{command.name} stands alone on a line")
            payload = await self.hold_status(*values)
            if payload is None:
                return None
        else:
            if not is_query(command.name) and room < ROOM_TO_CHANGE_BYTES:
                raise HostRefused("UNKNOWN_COMMAND", REPLY_TOO_LONG)
            payload = self._dispatch(command.name, values)
            self.changed()
        return f"OK {payload}" if payload else "OK"

    def _refusal(self, refused: HostRefused) -> str:
        """The reply line refusing a command: `ERR <code> <text>`."""
        return f"ERR {refusal_code(self.spec, refused.name)} {refused.text}"

    def answer(self, line: str) -> str:
        """The `OK` payload of `line` (without its line end), or `HostRefused`: a line answered
        at once (the GEM faces' commands and queries; the wait query is `handle`'s)."""
        command, values = self._parse(line)
        return self._dispatch(command.name, values)

    async def hold_status(self, while_state: str, wait_s: float) -> str | None:
        """The wait query: the status once the tool's `STATE` is not `while_state` (at once if
        it is not when the query comes), or `wait_s` of process time have passed (`hold`);
        None if the host gave the wait up meanwhile (it sent another line, which is answered
        at once: the safe state of a host that cancelled the wait)."""
        if not await self.hold(lambda: self.phase() == while_state, wait_s):
            return None
        return self._dispatch(self.wire.status_query, [])

    def _parse(self, line: str) -> tuple[HostCommand, list[Any]]:
        """The command of `line` and its arguments' values, once the tool's state allows it."""
        if len(line) > MAX_LINE_CHARS:
            raise HostRefused("UNKNOWN_COMMAND", "line too long")
        words = [word for word in WORD_BREAKS.split(line) if word]
        if not words:
            raise HostRefused("UNKNOWN_COMMAND", "empty command")
        command = self._command(words)
        arguments = words[len(command.name.split()) :]
        values = self._arguments(command, arguments)
        self._require_phase(command)
        return command, values

    def _dispatch(self, name: str, values: list[Any]) -> str:
        """The `OK` payload of the command `name` with its arguments' values."""
        wire = self.wire
        if name == wire.identity_query:
            identity = self.spec.identity
            return f"{identity.vendor},{identity.model},{self.serial_number},{identity.firmware}"
        if name == wire.alarm_query:
            return ",".join(self.alarms) or "NONE"
        if name == wire.interlock_query:
            closed = self.interlocks()
            return " ".join(f"{i.key}={int(closed[i.name])}" for i in host_interlocks(self.spec))
        if name == wire.safe_state and self.defer_safe_state(lambda: self.handlers[name](self)):
            return ""  # taken, as the hung tool takes it; nothing stops yet
        return self.handlers[name](self, *values)

    def _command(self, words: list[str]) -> HostCommand:
        by_name = self.spec.command_by_name
        # Only ASCII words name commands: upper case makes ASCII of another (`DREß` is `DRESS`).
        command = next(
            (
                by_name[word.upper()]
                for word in (" ".join(words[:2]), words[0])
                if word.isascii() and word.upper() in by_name
            ),
            None,
        )
        if not isinstance(command, HostCommand):
            raise HostRefused("UNKNOWN_COMMAND", f"unknown command {words[0]}")
        return command

    def _arguments(self, command: HostCommand, arguments: list[str]) -> list[Any]:
        """The arguments' values: their count and grammar first, then every setpoint's range."""
        names = command.parameters
        if len(arguments) != len(names):
            raise HostRefused(
                "BAD_ARGUMENT", f"expected {len(names)} argument(s), got {len(arguments)}"
            )
        setpoints = self.spec.setpoint_by_name
        values: list[Any] = []
        for position, (name, word) in enumerate(zip(names, arguments, strict=True)):
            setpoint = setpoints.get(name)
            try:
                if isinstance(setpoint, HostSetpoint):
                    values.append(setpoint.decode(word))
                elif name in WAIT_ARGUMENTS:
                    values.append(WAIT_ARGUMENTS[name](word))
                else:
                    values.append(self.parsers[name](word))
            except ValueError as error:
                raise HostRefused(
                    "BAD_ARGUMENT", f"{command.name}: {error}", argument=position
                ) from None
        for position, (name, word) in enumerate(zip(names, arguments, strict=True)):
            setpoint = setpoints.get(name)
            if isinstance(setpoint, HostSetpoint) and not setpoint.accepts(float(word)):
                raise HostRefused(
                    "OUT_OF_RANGE", self.wire.range_refusal(setpoint, word), argument=position
                )
        return values

    def _require_phase(self, command: HostCommand) -> None:
        phase = self.phase()
        if not command.allowed_in or phase in command.allowed_in:
            return
        if self.alarms:
            raise HostRefused("ALARM_ACTIVE", "alarm active: " + ",".join(self.alarms))
        raise HostRefused("WRONG_STATE", f"not allowed while {phase}")

    def reset_alarms(self) -> str:
        """The alarm reset (the spec's `alarm_reset`: `RST`, the wire bonder's `ALM:CLR`):
        clear the latched alarms, and a tool in `FAULT` is `IDLE` again. A cause that persists
        shows in the interlocks and refuses what needs them."""
        self.clear_alarms()
        states = type(self.state)
        if self.state is states["FAULT"]:
            self.state = states["IDLE"]
        return ""

    def take_into_tool(self, wafer_id: str, *, rework: bool = False) -> None:
        """Take `wafer_id` into this tool in the twin: `WRONG_STATE` for a wafer this tool
        processed before, unless the load is a `rework` (`RELOAD`, `REMOUNT`)."""
        try:
            self.twin.load(wafer_id, self.name, rework=rework)
        except WaferAlreadyProcessed as error:  # its cause: a GEM face answers it apart
            raise HostRefused("WRONG_STATE", str(error)) from error

    def unmet(self, name: str, **fields: str) -> HostRefused:
        """The refusal of the spec's precondition `name` (`HostCommand.preconditions`) in the
        spec's words, their `{field}`s filled in from `fields`: what a handler raises when what
        its command needs is missing, so the tool refuses as its declaration says."""
        declared = precondition(self.spec, name)
        return HostRefused(declared.refusal, declared.words.format(**fields))

    def require_interlocks(self, command: str) -> None:
        """Refuse `command` if an interlock it needs (by the spec) is open."""
        closed = self.interlocks()
        open_ = [n for n in self.spec.command_by_name[command].interlocks if not closed[n]]
        if open_:
            raise HostRefused("INTERLOCK_OPEN", "interlock open: " + ", ".join(open_))


def wafer_id(word: str) -> str:
    """A wafer id argument; ValueError if it is not one."""
    validate_wafer_id(word)
    return word
