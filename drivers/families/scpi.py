"""The SCPI family (laser, grinder): its grammar, its spec binding and its driver base.

Both sides of the wire import this module: the drivers, and the simulated tools' wire side
(`sim_instruments/families/scpi.py`). The rules are those of SCPI-99 and IEEE 488.2, written
down in `docs/protocols/conventions.md` (section *SCPI and IEEE 488.2*):

* one header grammar: each node in its short form (the capitals) or its whole long form, any
  case, a bracketed node optional, the leading colon optional (`header_pattern`);
* one quoting rule: strings double-quoted, an inner quote doubled (`quote`, `unquote`);
* settings answer nothing; a refusal is queued, read back with `SYST:ERR?`, and the driver
  turns what the queue held into `CommandRefused` (`ScpiDriver.send`).

A spec binds its entries to the command tree by subclassing them: a `ScpiSetpoint` carries
its header and wire scale, a `ScpiCommand` its header and forms, a `ScpiInterlock` the reason
the tool gives when it is open; `ScpiWire` holds the family's fixed headers and renders the
page's command and error tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, TypeVar

from ..equipment import Equipment, Identity
from ..errors import CommandRefused, ProtocolError
from ..links import TextLink
from ..specs.core import Command, Interlock, Range, Refusal, Setpoint
from ..specs.pages import table

if TYPE_CHECKING:
    from ..specs.core import ToolSpec

T = TypeVar("T")

#: The standard SCPI error codes the packline tools use (a tool adds positive codes of its own).
STANDARD_ERRORS = {
    0: "No error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -350: "Queue overflow",
}

NO_ERROR = 0

#: SCPI's not-a-number (SCPI-99 7.2.1.5): what a query answers when there is no valid value.
NOT_A_NUMBER = 9.91e37

#: A reply column's entry for a line the tool does not answer.
NOTHING = "\N{EN DASH}"

#: What each standard error is for, as the family's pages say it (the `errors` table).
STANDARD_ERROR_USE = {
    0: "queue empty",
    -102: "a line that is not a header followed by parameters",
    -104: "a parameter of the wrong type: text where a number goes, `nan`/`inf`, a decimal "
    "where a whole number goes, an unquoted string",
    -108: "a parameter to a query or to a command that takes none, or too many",
    -109: "a parameter left out",
    -113: "an unknown header, or a setting sent as a query (or the reverse)",
    -221: "not allowed in the present state (the detail says why)",
    -222: "a number outside the tool's range",
    -224: "an unknown mnemonic or a malformed value",
    -350: "the queue was full: the newest entry is replaced by this one",
}

# --------------------------------------------------------------------- grammar


def short_form(template: str) -> str:
    """The SCPI short form of a header or mnemonic: optional nodes dropped, capitals kept."""
    required = re.sub(r"\[[^\]]*\]", "", template)
    return ":".join("".join(c for c in node if not c.islower()) for node in required.split(":"))


def _node_pattern(node: str) -> str:
    short = "".join(c for c in node if not c.islower())
    if short == node.upper():
        return re.escape(short)
    return f"(?:{re.escape(short)}|{re.escape(node.upper())})"


def header_pattern(template: str) -> re.Pattern[str]:
    """A regex that accepts a header (or mnemonic) in short or long form, any case.

    SCPI accepts exactly the short form (the capitals) or the whole long form of each node,
    nothing in between; a bracketed node may be left out (a later one `[:LEVel]`, or the root
    `[SOURce:]` of a power supply's tree); the leading colon is optional.
    """
    parts: list[str] = []
    colon = ":?"  # what goes before the next node: the leading colon is optional
    for match in re.finditer(r"\[:([^\]]*)\]|^\[([^\]:]+):\]|:?([^:\[]+)", template):
        optional, root, node = match.groups()
        if optional is not None:
            parts.append(f"(?::{_node_pattern(optional)})?")
        elif root is not None:  # `[SOURce:]CURRent`: the root node may be left out
            parts.append(f":?(?:{_node_pattern(root)}:)?")
            colon = ""
            continue
        elif node.startswith("*"):
            parts.append(re.escape(node.upper()))
        else:
            parts.append(colon + _node_pattern(node))
        colon = ":"
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def matches(template: str, text: str) -> bool:
    """Whether `text` is `template` in its short or long form (case-insensitive)."""
    return header_pattern(template).match(text) is not None


def quote(text: str) -> str:
    """A SCPI string parameter: double-quoted, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def unquote(text: str) -> str:
    """The value of a SCPI string; ValueError if it is not one."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{text!r} is not a double-quoted string")
    return text[1:-1].replace('""', '"')


def format_number(value: float) -> str:
    """A number as the family writes it (SCPI NR1/NR2, no exponent for usual values)."""
    return format(value, ".10g")


# --------------------------------------------------------------------- spec binding


@dataclass(frozen=True, kw_only=True)
class ScpiSetpoint(Setpoint):
    """A setpoint sent with `header` (long form; None: a driver-side check, never sent).

    The wire value is the setpoint times `wire_scale`, in `wire_unit` (kHz sent as Hz).
    """

    header: str | None = None
    wire_scale: float = 1.0
    wire_unit: str = ""
    #: What the tool holds after power-on and `*RST` (in the setpoint's unit); None: unset.
    tool_default: float | None = None

    @property
    def wire_range(self) -> Range:
        """What the tool accepts, in the wire's unit."""
        return Range(
            self.machine_range.minimum * self.wire_scale,
            self.machine_range.maximum * self.wire_scale,
        )

    @property
    def unit_on_wire(self) -> str:
        return self.wire_unit or self.unit

    def encode(self, value: float) -> str:
        """The setting line for `value` (in the setpoint's unit)."""
        assert self.header is not None, f"setpoint {self.name} is not sent to the tool"
        wire = value * self.wire_scale
        return f"{short_form(self.header)} {round(wire) if self.integer else format_number(wire)}"


Form = Literal["set", "query", "both"]


@dataclass(frozen=True, kw_only=True)
class ScpiCommand(Command):
    """A header of the command tree: its forms, its parameters as written, its reply."""

    header: str
    form: Form = "set"
    syntax: str = ""
    reply: str = NOTHING

    @property
    def query(self) -> str:
        return short_form(self.header) + "?"

    @property
    def short(self) -> str:
        return short_form(self.header)


@dataclass(frozen=True, kw_only=True)
class ScpiInterlock(Interlock):
    """An interlock, and the reason the tool gives when a command it guards is refused."""

    refusal: str


@dataclass(frozen=True, kw_only=True)
class ScpiWire:
    """The family's binding of a spec: its fixed headers, error queue and reply forms.

    `interlock_error` is the code an interlock refusal carries (detail: the open interlocks'
    reasons); `interlock_reply` says whether `SYST:INT?` answers bare flags in the spec's order
    (`1,0,1`) or `name=flag` pairs.
    """

    error_query: str = "SYSTem:ERRor[:NEXT]"
    alarm_query: str = "SYSTem:ALARm"
    alarm_clear: str = "SYSTem:ALARm:CLEar"
    interlock_query: str = "SYSTem:INTerlock"
    abort: str = "ABORt"
    interlock_error: int
    interlock_reply: Literal["flags", "named"]
    no_alarm: str = "NONE"
    queue_depth: int = 10

    def tables(self, spec: ToolSpec[ScpiWire]) -> dict[str, str]:
        """The page's `commands` table (every header) and `errors` table."""
        commands = [c for c in spec.commands if isinstance(c, ScpiCommand)]
        # one header may carry several setpoints (the laser's fluence when drilling and when
        # cleaning): each range of the header is stated once, with its tool default if any
        ranges: dict[str, dict[str, str]] = {}
        for entry in spec.setpoints:
            if isinstance(entry, ScpiSetpoint) and entry.header:
                span = f"{entry.wire_range} {entry.unit_on_wire}"
                texts = ranges.setdefault(entry.header, {})
                if entry.tool_default is not None:
                    texts[span] = f"{span} (default {entry.tool_default * entry.wire_scale:g})"
                else:
                    texts.setdefault(span, span)

        def forms(command: ScpiCommand) -> str:
            setting = f"`{command.header} {command.syntax}`".replace(" `", "`")
            query = f"`{command.header}?`"
            return {"set": setting, "query": query, "both": f"{setting} / `?`"}[command.form]

        return {
            "common": table(
                ("command", "reply", "meaning"),
                [
                    *COMMON_COMMANDS,
                    (
                        f"`{self.error_query}?`",
                        '`code,"text"`',
                        "oldest queued error of this "
                        'connection, removed by the read; `0,"No error"` when none',
                    ),
                    (
                        f"`{self.alarm_query}?`",
                        f"`{self.no_alarm}` or `CODE[,CODE…]`",
                        "active (latched) alarms, alphabetical, see *Alarms*",
                    ),
                    (
                        f"`{self.alarm_clear}`",
                        NOTHING,
                        "clear latched alarms; a cause that persists raises its alarm again",
                    ),
                    (
                        f"`{self.interlock_query}?`",
                        _INTERLOCK_REPLY[self.interlock_reply](spec),
                        "every interlock, 1 = closed (safe), see *Interlocks*",
                    ),
                    (f"`{self.abort}`", NOTHING, "**safe state**, always accepted"),
                ],
            ),
            "commands": table(
                ("command", "reply", "tool range", "meaning"),
                (
                    (forms(c), c.reply, " / ".join(ranges.get(c.header, {}).values()), c.doc)
                    for c in commands
                ),
            ),
            "refusals": table(
                ("code", "message", "when"),
                ((r.code, _message(spec, r), _when(r)) for r in spec.refusals),
            ),
        }


#: The IEEE 488.2 mandatory common commands, as every SCPI tool of the family answers them.
COMMON_COMMANDS = (
    ("`*IDN?`", "`vendor,model,serial,firmware`", "identity"),
    ("`*RST`", NOTHING, "`ABOR`, then every setting to its default; alarms and error queues stay"),
    ("`*CLS`", NOTHING, "clear this connection's error queue and event status register"),
    ("`*ESE <n>` / `?`", "`0`-`255`", "event status enable register (which ESR bits set ESB)"),
    (
        "`*ESR?`",
        "`0`-`255`",
        "event status register, cleared by the read: bit 0 operation "
        "complete, 2 query error, 3 device-dependent error, 4 execution error, 5 command error, "
        "7 power on",
    ),
    (
        "`*OPC`",
        NOTHING,
        "sets ESR bit 0 when every earlier line is done (at once: commands act "
        "immediately, jobs are watched with their status query)",
    ),
    ("`*OPC?`", "`1`", "every earlier line is done"),
    ("`*SRE <n>` / `?`", "`0`-`255`", "service request enable register (bit 6 is ignored)"),
    (
        "`*STB?`",
        "`0`-`255`",
        "status byte: bit 2 error queue not empty, bit 5 ESB (ESR & ESE "
        "not 0), bit 6 MSS (STB & SRE not 0)",
    ),
    ("`*TST?`", "`0`", "self-test passed"),
    ("`*WAI`", NOTHING, "wait until every earlier line is done (at once)"),
)

_INTERLOCK_REPLY: dict[str, Callable[[ToolSpec[ScpiWire]], str]] = {
    "flags": lambda spec: "`" + ",".join("0|1" for _ in spec.interlocks) + "`",
    "named": lambda spec: "`" + ",".join(f"{i.name}=0|1" for i in spec.interlocks) + "`",
}


def _when(refusal: Refusal) -> str:
    """When a refusal is queued (a tool's own refusal is written `Message: when`)."""
    return refusal.text.split(": ", 1)[1] if int(refusal.code) > 0 else refusal.text


def _message(spec: ToolSpec[ScpiWire], refusal: Refusal) -> str:
    return error_messages(spec)[int(refusal.code)]


def error_messages(spec: ToolSpec[ScpiWire]) -> dict[int, str]:
    """Code -> message of every error the tool queues: the standard ones and its own."""
    own = {int(r.code): r.text.split(":")[0] for r in spec.refusals if int(r.code) > 0}
    return {**STANDARD_ERRORS, **own}


def standard_refusals(*extra: Refusal) -> tuple[Refusal, ...]:
    """The family's refusals (every standard error and when it is queued), then a tool's own.

    A tool's own refusal is written `Message: when`, the message being what `SYST:ERR?` says.
    """
    return (
        *(Refusal(code=code, text=text) for code, text in STANDARD_ERROR_USE.items()),
        *extra,
    )


def scpi_wire(spec: ToolSpec[ScpiWire]) -> ScpiWire:
    wire = spec.wire
    assert isinstance(wire, ScpiWire), f"spec {spec.kind} is not bound to the SCPI family"
    return wire


def command(spec: ToolSpec[ScpiWire], name: str) -> ScpiCommand:
    """The spec's command `name`, as the SCPI command it is bound to."""
    entry = spec.command_by_name[name]
    assert isinstance(entry, ScpiCommand), f"{spec.kind}: command {name} has no SCPI header"
    return entry


def setpoint(spec: ToolSpec[ScpiWire], name: str) -> ScpiSetpoint:
    """The spec's setpoint `name`, as the SCPI setpoint it is bound to."""
    entry = spec.setpoint_by_name[name]
    assert isinstance(entry, ScpiSetpoint), f"{spec.kind}: setpoint {name} has no SCPI binding"
    return entry


# --------------------------------------------------------------------- driver side

_ERROR_REPLY = re.compile(r'^([+-]?\d+),"(.*)"$')


def parse_error(tool: Equipment, action: str, reply: str) -> tuple[int, str]:
    """One error-queue entry `<code>,"<text>"`: doubled quotes unescaped, and the SCPI
    `text;detail` form written `text: detail`."""
    match = _ERROR_REPLY.match(reply)
    if match is None:
        raise ProtocolError(
            tool.name, tool.address, action, f'error queue reply {reply!r} is not <code>,"<text>"'
        )
    return int(match[1]), match[2].replace('""', '"').replace(";", ": ", 1)


class ScpiDriver(Equipment):
    """The driver base of the SCPI tools: settings checked through the error queue, queries
    decoded, alarms and interlocks read as the spec declares them, the safe state commanded.

    A tool's driver sets `spec` and keeps only its process logic.
    """

    spec: ClassVar[ToolSpec[ScpiWire]]
    link_type = TextLink
    link: TextLink

    @property
    def wire(self) -> ScpiWire:
        return scpi_wire(self.spec)

    # ----------------------------------------------------------------- exchanges

    async def send(self, action: str, *commands: str) -> None:
        """Send setting lines, then read the error queue: any error refuses the lot."""
        for line in commands:
            await self.link.write(line)
        await self.check_error_queue(action)

    async def check_error_queue(self, action: str) -> None:
        """Read the error queue until it is empty (at most its depth + 1 reads); every queued
        error is joined into one `CommandRefused` carrying the first error's code."""
        errors: list[tuple[int, str]] = []
        for _ in range(self.wire.queue_depth + 1):
            code, text = parse_error(
                self, action, await self.link.query(short_form(self.wire.error_query) + "?")
            )
            if code == NO_ERROR:
                break
            errors.append((code, text))
        if errors:
            detail = "; ".join(text for _, text in errors)
            raise CommandRefused(self.name, self.address, action, detail, str(errors[0][0]))

    def garbled(
        self, action: str, reply: str, expected: str, query: str | None = None
    ) -> ProtocolError:
        """A reply (to `query`, when named) that is not what the page says it is."""
        said = f"{query} answered {reply!r}, not" if query else f"reply {reply!r} is not"
        return ProtocolError(self.name, self.address, action, f"{said} {expected}")

    async def query_number(self, action: str, query: str) -> float:
        reply = await self.link.query(query, idempotent=True)
        try:
            return float(reply)
        except ValueError:
            raise self.garbled(action, reply, "a number") from None

    async def query_flag(self, action: str, query: str) -> bool:
        reply = await self.link.query(query, idempotent=True)
        if reply not in ("0", "1"):
            raise self.garbled(action, reply, "0 or 1")
        return reply == "1"

    def mnemonic(self, action: str, reply: str, choices: Mapping[T, str]) -> T:
        """The value whose mnemonic `reply` is (short or long form)."""
        for value, mnemonic in choices.items():
            if matches(mnemonic, reply):
                return value
        expected = " or ".join(short_form(m) for m in choices.values())
        raise self.garbled(action, reply, expected)

    def trace(self, status: str, value: float) -> None:
        """Record a reading of the spec's status variable `status` under its trace name and
        unit (a variable the spec does not trace is not recorded)."""
        variable = self.spec.status_by_name[status]
        if variable.trace is not None:
            self.record_reading(variable.trace, value, variable.unit)

    async def request_identity(self) -> Identity:
        """Clear the error queue (every error read later answers this driver), read who the
        tool is (`*IDN?`: vendor, model, serial number, firmware, none empty)."""
        await self.link.write("*CLS")
        reply = await self.link.query("*IDN?", idempotent=True)
        fields = [field.strip() for field in reply.split(",")]
        if len(fields) != 4 or not all(fields):
            raise self.garbled("read identity", reply, "vendor,model,serial,firmware")
        return Identity(*fields)

    # ----------------------------------------------------------------- alarms and interlocks

    async def request_alarms(self) -> dict[str, str]:
        """`SYST:ALAR?`: `NONE` or alarm codes, each explained by the spec."""
        reply = await self.link.query(short_form(self.wire.alarm_query) + "?", idempotent=True)
        if reply == self.wire.no_alarm:
            return {}
        codes = [code.strip() for code in reply.split(",")]
        if not all(re.fullmatch(r"[A-Z][A-Z0-9_]*", code) for code in codes):
            raise self.garbled("read alarms", reply, "NONE or comma-separated alarm codes")
        text = self.spec.alarm_text
        return {code: text.get(code, "alarm code not on the protocol page") for code in codes}

    async def request_interlocks(self) -> dict[str, bool]:
        """`SYST:INT?`, in the spec's reply form: every declared interlock, True = closed."""
        action = "read interlocks"
        names = self.spec.interlock_names
        query = short_form(self.wire.interlock_query) + "?"
        reply = await self.link.query(query, idempotent=True)
        if self.wire.interlock_reply == "flags":
            flags = reply.split(",")
            if len(flags) != len(names) or any(f not in ("0", "1") for f in flags):
                raise self.garbled(action, reply, f"{len(names)} 0/1 flags", query)
            return {name: flag == "1" for name, flag in zip(names, flags, strict=True)}
        interlocks: dict[str, bool] = {}
        for pair in reply.split(","):
            name, _, flag = pair.partition("=")
            if flag not in ("0", "1"):
                raise self.garbled(action, reply, "name=0|1 pairs", query)
            interlocks[name] = flag == "1"
        missing = [name for name in names if name not in interlocks]
        if missing:
            raise self.garbled(action, reply, "naming " + ", ".join(missing), query)
        return interlocks

    async def _clear_alarms(self) -> None:
        await self.send("reset alarms", short_form(self.wire.alarm_clear))

    async def _command_safe_state(self) -> None:
        """`ABOR`, confirmed by `*OPC?` (the tool acts on it at once)."""
        await self.link.write(short_form(self.wire.abort))
        reply = await self.link.query("*OPC?")
        if reply != "1":
            raise self.garbled("abort", reply, "1")


def interlock_reasons(spec: ToolSpec[ScpiWire], names: Iterable[str]) -> str:
    """The detail of an interlock refusal: the reasons of the named open interlocks."""
    by_name = spec.interlock_by_name
    return ",".join(
        entry.refusal if isinstance(entry := by_name[name], ScpiInterlock) else name
        for name in names
    )
