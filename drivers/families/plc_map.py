"""Modbus PLC register maps: the family's spec binding, what both ends of the link share.

The PLC maps of packline's Modbus tools (plasma cleaner, laminator) share one shape
(docs/protocols/conventions.md, "Modbus PLC register maps"):

* identity by FC43/MEI 14 (vendor, product code, revision) and the serial number as ASCII in 8
  holding registers (two characters per register, high byte first, NUL-padded);
* a read-only status block from register 0 with an alarm bit field, an interlock bit field
  and the "why refused" register (and, on some maps, the register a refusal concerned);
* setpoint registers written while the tool allows it, each checked against its range;
* a command register written after its parameter registers;
* a refusal answers exception 3 and leaves its reason in the "why refused" register.

A tool's spec binds the core entries to the map by the subclasses here (`PlcSetpoint`,
`PlcParameter`, `PlcStatus`, `PlcCommand`, `BitAlarm`, `BitInterlock`) and gives `ToolSpec.wire`
a `PlcMap`. Both ends read the spec through this module: the driver base
(`drivers/families/modbus_plc.py`) and the simulated tools' wire side
(`sim_instruments/families/modbus_plc.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import cast

from ..links.registers import registers_to_u32
from ..specs.core import (
    Alarm,
    Command,
    Interlock,
    Parameter,
    Range,
    Refusal,
    Setpoint,
    StatusVariable,
    ToolSpec,
)
from ..specs.pages import example_exchange, table

#: The function codes every PLC map serves; any other answers exception 1 (illegal function).
FUNCTION_CODES = {
    3: "read holding registers",
    6: "write one register",
    16: "write several registers",
    43: "device identification (MEI 14)",
}

#: The status registers every PLC map has, by the names the family gives them.
ALARMS = "ALARMS"
INTERLOCKS = "INTERLOCKS"
SERIAL_NUMBER = "SERIAL_NUMBER"
COMMAND_ERROR = "COMMAND_ERROR"
#: The register naming the address a refusal concerned, on the maps that have it.
REFUSED_REGISTER = "REFUSED_REGISTER"


class Reason(IntEnum):
    """The family's "why refused" codes, checked in this order (the error precedence).

    A tool adds its own codes (5 and up) for the conditions of its commands; they come after
    these: unknown command, alarm active, not allowed in the present state, interlock open,
    value out of range, then the command's own conditions.
    """

    NONE = 0
    UNKNOWN_COMMAND = 1
    WRONG_STATE = 2
    INTERLOCK_OPEN = 3
    OUT_OF_RANGE = 4
    ALARM_ACTIVE = 8


#: The one Modbus exception after which a PLC map's "why refused" register holds the reason.
EXPLAINED_EXCEPTION = "ILLEGAL_DATA_VALUE"


# --------------------------------------------------------------------- the spec binding


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where a value sits in the register map and how it is counted.

    `register` is its address (None: only a command parameter, placed in the command's
    parameter block); `words` 2 is a 32-bit value, high word first (with `text`, that many
    registers of ASCII; with `bits`, a bit field of that many registers, bit i in register
    i // 16, `links.registers.bits_to_registers`); `scale` is register counts per unit of the
    value; `codes` names the coded values;
    `stride`/`repeat` lay the register out `repeat` times, every `stride` registers (a group
    of repeated registers starts at a multiple of its stride).
    """

    register: int | None = None
    words: int = 1
    scale: float = 1
    codes: tuple[tuple[int, str], ...] = ()
    text: bool = False
    bits: bool = False
    stride: int = 0
    repeat: int = 1

    def address(self, index: int = 0) -> int:
        assert self.register is not None
        return self.register + self.stride * index

    @property
    def extent(self) -> int:
        """One past the last register it (and its repetitions) may use."""
        assert self.register is not None
        if self.stride:
            return self.register - self.register % self.stride + self.stride * self.repeat
        return self.register + self.words

    def addresses(self) -> str:
        """The page's form of its address: `200`, `4-5`, `210 + 10·i`."""
        first = _span(self.address(), self.address() + self.words)
        return f"{first} + {self.stride}·i" if self.stride else first

    def code_of(self, text: str) -> int:
        for code, name in self.codes:
            if name == text:
                return code
        raise KeyError(text)

    def text_of(self, code: int) -> str | None:
        return dict(self.codes).get(code)

    @property
    def codes_text(self) -> str:
        return ", ".join(f"{code} {name}" for code, name in self.codes)


def enum_codes(members: Iterable[IntEnum]) -> tuple[tuple[int, str], ...]:
    """The codes of an IntEnum, named in lower case with spaces (`VACUUM_HOLD` -> vacuum hold)."""
    return tuple((int(m), m.name.lower().replace("_", " ")) for m in members)


@dataclass(frozen=True, kw_only=True)
class PlcSetpoint(Setpoint, Placement):
    """A setpoint in a setpoint register; the tool's range is `machine_range` times `scale`."""

    @property
    def register_range(self) -> Range:
        return Range(
            round(self.machine_range.minimum * self.scale),
            round(self.machine_range.maximum * self.scale),
        )


@dataclass(frozen=True, kw_only=True)
class PlcParameter(Parameter, Placement):
    """A coded or text value of a command or setpoint block (a support kind, a gas, an id)."""


@dataclass(frozen=True, kw_only=True)
class PlcStatus(StatusVariable, Placement):
    """A read-only status register (or 2 for 32 bits, or 8 for text)."""


#: The alarm and interlock bit fields, at registers 1 and 2 of every map.
ALARM_AND_INTERLOCK_STATUS = (
    PlcStatus(name=ALARMS, register=1, doc="bit field, see *Alarms*"),
    PlcStatus(name=INTERLOCKS, register=2, doc="bit field, 1 = closed, see *Interlocks*"),
)


def command_error_status(register: int) -> PlcStatus:
    """The "why refused" register (`COMMAND_ERROR`) at `register`."""
    return PlcStatus(
        name=COMMAND_ERROR, register=register, doc="why the last write was refused, see *Errors*"
    )


def refused_register_status(register: int, concerned: str) -> PlcStatus:
    """`REFUSED_REGISTER` at `register`: the address a refusal concerned, one of `concerned`."""
    return PlcStatus(
        name=REFUSED_REGISTER,
        register=register,
        doc=f"the address the last refusal concerned ({concerned})",
    )


def serial_number_status(register: int) -> PlcStatus:
    """The serial number (`SERIAL_NUMBER`), 8 registers of ASCII from `register`."""
    return PlcStatus(name=SERIAL_NUMBER, register=register, words=8, text=True)


@dataclass(frozen=True, kw_only=True)
class PlcCommand(Command):
    """A command code; its parameters go to the parameter block in order.

    `while_alarmed` commands (abort, reset) are accepted with an alarm latched; `conditions`
    words what else the tool checks (after the family's checks, see `Reason`); `effect` what
    it does.
    """

    code: int
    while_alarmed: bool = False
    conditions: str = ""
    effect: str = ""


@dataclass(frozen=True, kw_only=True)
class NamedRefusal(Refusal):
    """A "why refused" code with the name the tool's code gives it (`WRONG_STATE`)."""

    name: str


def plc_refusals(present_state: str, *own: NamedRefusal) -> tuple[NamedRefusal, ...]:
    """A PLC map's refusal reasons: the family's (`Reason`), worded alike on every map, with
    `present_state` naming the tool's state ("the chamber's present state"), and the tool's
    `own` (5 and up), in code order."""
    family = (
        NamedRefusal(name="NONE", code=Reason.NONE, text="no reason given"),
        NamedRefusal(
            name="UNKNOWN_COMMAND", code=Reason.UNKNOWN_COMMAND, text="unknown command code"
        ),
        NamedRefusal(
            name="WRONG_STATE", code=Reason.WRONG_STATE, text=f"not allowed in {present_state}"
        ),
        NamedRefusal(
            name="INTERLOCK_OPEN", code=Reason.INTERLOCK_OPEN, text="an interlock is open"
        ),
        NamedRefusal(name="OUT_OF_RANGE", code=Reason.OUT_OF_RANGE, text="value out of range"),
        NamedRefusal(
            name="ALARM_ACTIVE", code=Reason.ALARM_ACTIVE, text="an alarm is active; reset first"
        ),
    )
    return tuple(sorted((*family, *own), key=lambda refusal: int(refusal.code)))


@dataclass(frozen=True, kw_only=True)
class BitAlarm(Alarm):
    """An alarm: a bit of the alarm register."""

    bit: int


@dataclass(frozen=True, kw_only=True)
class BitInterlock(Interlock):
    """An interlock: a bit of the interlock register, 1 = closed (safe)."""

    bit: int


Field = PlcSetpoint | PlcParameter


@dataclass(frozen=True, kw_only=True)
class PlcMap:
    """What a PLC map fixes beyond its entries.

    `status_registers` are read by every status poll, from register 0; commands are written to
    `command_register`, their parameters from `parameter_register`; `setpoint_block` names the
    page's table of the setpoint block. The status registers the family relies on are found by
    their names (`ALARMS`, `INTERLOCKS`, `SERIAL_NUMBER`, `COMMAND_ERROR` and, on a map that
    names the register a refusal concerned, `REFUSED_REGISTER`).
    """

    status_registers: int
    command_register: int
    parameter_register: int
    setpoint_block: str = "setpoints"

    def read_only_end(self, spec: ToolSpec[PlcMap]) -> int:
        """One past the read-only block that starts at register 0."""
        return max(entry.extent for entry in spec.status if isinstance(entry, PlcStatus))

    def parameter_registers(self, spec: ToolSpec[PlcMap]) -> int:
        """The size of the parameter block: the most any command carries."""
        return max(
            sum(entry.words for entry, _ in self.carried(spec, command))
            for command in spec.commands
        )

    def refused_register(self, spec: ToolSpec[PlcMap]) -> int | None:
        """The address of the register naming what a refusal concerned, if the map has one."""
        if any(entry.name == REFUSED_REGISTER for entry in spec.status):
            return self.status_address(spec, REFUSED_REGISTER)
        return None

    def status_address(self, spec: ToolSpec[PlcMap], name: str, index: int = 0) -> int:
        """The address of the status variable `name` (of its `index`th repetition)."""
        for entry in spec.status:
            if entry.name == name and isinstance(entry, PlcStatus):
                return entry.address(index)
        raise KeyError(f"spec {spec.kind} has no status register {name}")

    def fields(self, spec: ToolSpec[PlcMap]) -> list[Field]:
        """Setpoints and parameters with a register, by address."""
        placed = [
            entry
            for entry in (*spec.setpoints, *spec.parameters)
            if isinstance(entry, PlcSetpoint | PlcParameter) and entry.register is not None
        ]
        return sorted(placed, key=lambda entry: entry.address())

    def field_at(self, spec: ToolSpec[PlcMap], address: int) -> tuple[Field, int] | None:
        """The setpoint or parameter written at `address`, and which repetition."""
        for entry in self.fields(spec):
            for index in range(entry.repeat):
                if entry.address(index) <= address < entry.address(index) + entry.words:
                    return entry, index
        return None

    def setpoint_extent(self, spec: ToolSpec[PlcMap]) -> tuple[int, int]:
        """The writable setpoint block: first address, register count."""
        fields = self.fields(spec)
        first = min(entry.address() for entry in fields)
        return first, max(entry.extent for entry in fields) - first

    def carried(self, spec: ToolSpec[PlcMap], command: Command) -> list[tuple[Field, int]]:
        """A command's parameters and their addresses in the parameter block, in order."""
        placed, address = [], self.parameter_register
        for name in command.parameters:
            entry = field(spec, name)
            placed.append((entry, address))
            address += entry.words
        return placed

    def tables(self, spec: ToolSpec[PlcMap]) -> dict[str, str]:
        """The map's own tables: status, setpoint block, commands, alarms, interlocks."""
        return {
            "status": self._status_table(spec),
            self.setpoint_block: table(
                ("address", "value", "the tool accepts", "register unit", "meaning"),
                (
                    (
                        entry.addresses(),
                        f"`{entry.name}`",
                        _accepted(entry),
                        _register_unit(entry),
                        entry.doc,
                    )
                    for entry in self.fields(spec)
                ),
            ),
            "commands": table(
                ("code", "command", "parameters", "accepted when", "effect"),
                (
                    (
                        command.code,
                        command.name,
                        ", ".join(
                            f"`{entry.name}` at {address}"
                            + (f"-{address + entry.words - 1}" if entry.words > 1 else "")
                            for entry, address in self.carried(spec, command)
                        ),
                        _accepted_when(command),
                        command.effect,
                    )
                    for command in spec.commands
                    if isinstance(command, PlcCommand)
                ),
            ),
            "alarms": table(
                ("bit", "code", "raised when"),
                ((a.bit, a.code, a.text) for a in spec.alarms if isinstance(a, BitAlarm)),
            ),
            "interlocks": table(
                ("bit", "interlock", "closed (safe) when", "guards"),
                (
                    (
                        i.bit,
                        f"`{i.name}`",
                        i.doc,
                        ", ".join(c.name for c in spec.commands if i.name in c.interlocks),
                    )
                    for i in spec.interlocks
                    if isinstance(i, BitInterlock)
                ),
            ),
        }

    def _status_table(self, spec: ToolSpec[PlcMap]) -> str:
        rows: list[tuple[str, str, str]] = []
        expected = 0
        for entry in sorted(
            (s for s in spec.status if isinstance(s, PlcStatus)), key=lambda s: s.address()
        ):
            if entry.address() > expected:
                rows.append((_span(expected, entry.address()), "reserved", "read as 0"))
            rows.append((entry.addresses(), entry.name, _encoding(entry)))
            expected = entry.extent
        if expected < self.read_only_end(spec):
            rows.append((_span(expected, self.read_only_end(spec)), "reserved", "read as 0"))
        return table(("address", "name", "unit / encoding"), rows)


def decoded(entry: PlcStatus, registers: Sequence[int]) -> float:
    """A number from its register(s): 32-bit high word first, divided by the scale."""
    raw = registers_to_u32(*registers) if entry.words == 2 else registers[0]
    return raw if entry.scale == 1 else raw / entry.scale


def _span(first: int, end: int) -> str:
    return f"{first}" if end - first == 1 else f"{first}-{end - 1}"


def _register_unit(entry: Placement) -> str:
    unit = getattr(entry, "unit", "")
    if entry.text:
        return f"ASCII, {2 * entry.words} characters"
    if entry.bits:
        return f"bit field, {16 * entry.words} bits"
    if entry.codes:
        return "code"
    return unit if entry.scale == 1 else f"{1 / entry.scale:g} {unit}"


def _encoding(entry: PlcStatus) -> str:
    parts = [entry.codes_text or _register_unit(entry)]
    if entry.words == 2:
        parts.append("32-bit")
    return ", ".join(part for part in (*parts, entry.doc) if part)


def _accepted(entry: Field) -> str:
    if isinstance(entry, PlcSetpoint):
        return str(entry.register_range)
    if entry.bits:
        return f"bits 0-{16 * entry.words - 1}"
    return entry.codes_text or "printable ASCII"


def _accepted_when(command: PlcCommand) -> str:
    parts = [" or ".join(command.allowed_in) if command.allowed_in else "always"]
    parts += [f"`{name}` closed" for name in command.interlocks]
    if command.conditions:
        parts.append(command.conditions)
    return ", ".join(parts)


def example_frames(page: str) -> list[tuple[bytes, bytes]]:
    """The Modbus TCP frames of a PLC page's "Example exchange" (`example_exchange`, in hex):
    each request with the reply that follows it."""
    return [
        (bytes.fromhex(step.command), bytes.fromhex(step.reply or ""))
        for step in example_exchange(page)
    ]


def field(spec: ToolSpec[PlcMap], name: str) -> Field:
    """The setpoint or parameter `name` of a spec bound to the family, with its placement."""
    return cast(Field, spec.setpoint_by_name.get(name) or spec.parameter_by_name[name])


@cache
def reason_enum(spec: ToolSpec[PlcMap]) -> type[IntEnum]:
    """The map's "why refused" codes as an IntEnum (`WRONG_STATE`, ...), named from the spec
    (one class per spec: the driver and the simulated tool compare the same members)."""
    return IntEnum(  # type: ignore[return-value]
        "CommandError", {r.name: r.code for r in spec.refusals if isinstance(r, NamedRefusal)}
    )


@cache
def command_enum(spec: ToolSpec[PlcMap]) -> type[IntEnum]:
    """The map's command codes as an IntEnum (`ABORT`, ...), named from the spec."""
    return IntEnum(  # type: ignore[return-value]
        "Command", {c.name: c.code for c in spec.commands if isinstance(c, PlcCommand)}
    )
