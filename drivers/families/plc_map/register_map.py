"""A PLC map's layout beyond its entries (`PlcMap`): the status block, the setpoint block, the
command and parameter registers, what lies at an address, and the page's tables rendered from
it; the spec's fields and codes looked up by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import cast

from ...specs.core import Command, ToolSpec
from ...specs.pages import example_exchange, table
from .entries import (
    BitAlarm,
    BitInterlock,
    Field,
    NamedRefusal,
    Placement,
    PlcCommand,
    PlcParameter,
    PlcSetpoint,
    PlcStatus,
    span,
)
from .family import ALARMS, FUNCTION_CODES, HELD_READ, INTERLOCKS, REFUSED_REGISTER, STATUS_CHANGES


@dataclass(frozen=True, kw_only=True)
class PlcMap:
    """What a PLC map fixes beyond its entries.

    `status_registers` are read by every status poll, from register 0; commands are written to
    `command_register`, their parameters from `parameter_register`; `setpoint_block` names the
    page's table of the setpoint block. The status registers the family relies on are found by
    their names (`ALARMS`, `INTERLOCKS`, `SERIAL_NUMBER`, `COMMAND_ERROR` and, on a map that
    names the register a refusal concerned, `REFUSED_REGISTER`).

    `counted_changes` names the status values besides the alarms and interlocks whose every
    change the PLC counts in `STATUS_CHANGES`: a map that names them serves the held status
    read (FC23, docs/decisions/0078), which the PLC answers when that count moves past the
    one the host last read, or once the hold the host asked for has passed.
    """

    status_registers: int
    command_register: int
    parameter_register: int
    setpoint_block: str = "setpoints"
    counted_changes: tuple[str, ...] = ()

    @property
    def holds_status(self) -> bool:
        """Whether the map serves the held status read."""
        return bool(self.counted_changes)

    @property
    def changes_counted(self) -> tuple[str, ...]:
        """Every status value whose change `STATUS_CHANGES` counts: the alarms, the
        interlocks and the map's `counted_changes`."""
        return (ALARMS, INTERLOCKS, *self.counted_changes)

    @property
    def function_codes(self) -> dict[int, str]:
        """The function codes the map serves, by what each does."""
        if not self.holds_status:
            return FUNCTION_CODES
        return {
            **FUNCTION_CODES,
            HELD_READ.function_code: "read/write several registers (the held status read)",
        }

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
        """The map's own tables: status, setpoint block, commands, alarms, interlocks, and the
        held status read's registers on a map that serves it."""
        held = {"held-status": self._held_table()} if self.holds_status else {}
        return {
            **held,
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
                ("bit", "interlock", "closed (safe) when", "made", "guards"),
                (
                    (
                        i.bit,
                        f"`{i.name}`",
                        i.doc,
                        i.made.value,
                        ", ".join(c.name for c in spec.commands if i.name in c.interlocks),
                    )
                    for i in spec.interlocks
                    if isinstance(i, BitInterlock)
                ),
            ),
        }

    def _held_table(self) -> str:
        held = HELD_READ
        status = held.status_block
        return table(
            ("address", "name", "unit / encoding"),
            (
                (
                    held.hold_block,
                    "CHANGES_SEEN",
                    f"the `{STATUS_CHANGES}` the host last read (written by FC23)",
                ),
                (
                    held.hold_block + 1,
                    "HOLD",
                    f"{1 / held.hold_scale:g} s, 0-{held.most_hold}: the longest the reply is "
                    "held (written by FC23)",
                ),
                (
                    status,
                    STATUS_CHANGES,
                    f"counts the changes of {', '.join(self.changes_counted)} the PLC sees, "
                    "changes between two looks once (a count, not a tally of every change: "
                    "conventions.md), wraps at 65536 (read-only)",
                ),
                (
                    span(status + 1, status + 1 + self.status_registers),
                    "status",
                    f"registers 0-{self.status_registers - 1} as they read now (read-only)",
                ),
            ),
        )

    def _status_table(self, spec: ToolSpec[PlcMap]) -> str:
        rows: list[tuple[str, str, str]] = []
        expected = 0
        for entry in sorted(
            (s for s in spec.status if isinstance(s, PlcStatus)), key=lambda s: s.address()
        ):
            if entry.address() > expected:
                rows.append((span(expected, entry.address()), "reserved", "read as 0"))
            rows.append((entry.addresses(), entry.name, _encoding(entry)))
            expected = entry.extent
        if expected < self.read_only_end(spec):
            rows.append((span(expected, self.read_only_end(spec)), "reserved", "read as 0"))
        return table(("address", "name", "unit / encoding"), rows)


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
