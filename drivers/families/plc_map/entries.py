"""The entries a tool's spec binds to its PLC register map: where each value sits and how it is
counted (`Placement`), the setpoints, parameters and status registers placed so, the commands
by code, the named refusals, and the alarm and interlock bits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ...links.registers import ascii_to_registers, registers_to_u32, u32_to_registers
from ...specs.core import (
    Alarm,
    Command,
    Interlock,
    Parameter,
    Range,
    Refusal,
    Setpoint,
    StatusVariable,
)


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
        first = span(self.address(), self.address() + self.words)
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


@dataclass(frozen=True, kw_only=True)
class BitAlarm(Alarm):
    """An alarm: a bit of the alarm register."""

    bit: int


@dataclass(frozen=True, kw_only=True)
class BitInterlock(Interlock):
    """An interlock: a bit of the interlock register, 1 = closed (safe)."""

    bit: int


Field = PlcSetpoint | PlcParameter


def decoded(entry: Placement, registers: Sequence[int]) -> float:
    """A number from its register(s) (a status's as read, a setpoint's as written): 32-bit
    high word first, divided by the scale."""
    raw = registers_to_u32(*registers) if entry.words == 2 else registers[0]
    return raw if entry.scale == 1 else raw / entry.scale


def registers_of(entry: Field, value: Any) -> list[int]:
    """The registers a Modbus host writes of `value` (the role's) for field `entry`: a setpoint
    scaled (a 32-bit one in two registers, high word first), text as ASCII, a coded value by
    its code, any other as the number. ValueError for text that does not fit."""
    if isinstance(entry, PlcSetpoint):
        raw = round(float(value) * entry.scale)
        return u32_to_registers(raw) if entry.words == 2 else [raw]
    if entry.text:
        return ascii_to_registers(str(value), entry.words)
    if entry.codes:
        return [entry.code_of(str(value))]
    return [int(value)]


def span(first: int, end: int) -> str:
    """Registers `first` to `end` (exclusive) as a page writes them: `200`, `4-5`."""
    return f"{first}" if end - first == 1 else f"{first}-{end - 1}"
