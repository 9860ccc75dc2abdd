"""Modbus PLC register maps: the family's spec binding and its driver base.

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
a `PlcMap`. `ModbusPlcDriver` consumes the spec: identity, status decoding and traces, alarm and
interlock decoding, setpoint encoding against the limits, commands and the explanation of a
refusal. The simulated tools' wire side (`sim_instruments/families/modbus_plc.py`) reads the
same spec.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import ClassVar, Generic, TypeVar, cast

from ..equipment import Equipment, Identity, ToolState
from ..errors import CommandRefused, ProtocolError
from ..links import ModbusLink
from ..links.registers import ascii_to_registers, registers_to_ascii, registers_to_u32
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
    registers of ASCII); `scale` is register counts per unit of the value; `codes` names the
    coded values;
    `stride`/`repeat` lay the register out `repeat` times, every `stride` registers (a group
    of repeated registers starts at a multiple of its stride).
    """

    register: int | None = None
    words: int = 1
    scale: float = 1
    codes: tuple[tuple[int, str], ...] = ()
    text: bool = False
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


def _decoded(entry: PlcStatus, registers: Sequence[int]) -> float:
    """A number from its register(s): 32-bit high word first, divided by the scale."""
    raw = registers_to_u32(*registers) if entry.words == 2 else registers[0]
    return raw if entry.scale == 1 else raw / entry.scale


def _span(first: int, end: int) -> str:
    return f"{first}" if end - first == 1 else f"{first}-{end - 1}"


def _register_unit(entry: Placement) -> str:
    unit = getattr(entry, "unit", "")
    if entry.text:
        return f"ASCII, {2 * entry.words} characters"
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


# --------------------------------------------------------------------- the driver base

E = TypeVar("E", bound=IntEnum)
Status = TypeVar("Status")


class ModbusPlcDriver(Equipment, Generic[Status]):
    """The driver side of a PLC map, read from the tool's spec (`spec`).

    A tool turns the decoded status block into its role's status (`status_from`); the base
    reads it (`request_status`) and, while a process is watched, records the spec's traces
    (`traced_status`).
    """

    link_type = ModbusLink
    link: ModbusLink
    spec: ClassVar[ToolSpec[PlcMap]]

    @property
    def map(self) -> PlcMap:
        wire = self.spec.wire
        assert wire is not None
        return wire

    def _protocol_error(self, action: str, detail: str) -> ProtocolError:
        return ProtocolError(self.name, self.address, action, detail)

    async def request_identity(self) -> Identity:
        """FC43 objects and the serial number block."""
        info = await self.link.read_device_identification()
        block = self.spec.status_by_name[SERIAL_NUMBER]
        assert isinstance(block, PlcStatus)
        serial = await self.link.read_holding_registers(block.address(), block.words)
        try:
            serial_number = registers_to_ascii(serial)
        except ValueError as error:
            raise self._protocol_error("read identity", f"serial number: {error}") from None
        return Identity(
            vendor=info.get("vendor_name", ""),
            model=info.get("product_code", ""),
            serial_number=serial_number,
            firmware=info.get("revision", ""),
        )

    # ----------------------------------------------------------------- status

    async def read_status_block(self) -> dict[str, float]:
        """The status registers polled each time, decoded by name (scaled, 32-bit joined)."""
        registers = await self.link.read_holding_registers(0, self.map.status_registers)
        return {
            entry.name: _decoded(entry, registers[entry.address() : entry.extent])
            for entry in self.spec.status
            if isinstance(entry, PlcStatus)
            and not entry.text
            and entry.extent <= self.map.status_registers
        }

    @abstractmethod
    def status_from(self, values: Mapping[str, float]) -> Status:
        """The role's status from the decoded status block."""

    async def request_status(self) -> Status:
        return self.status_from(await self.read_status_block())

    async def traced_status(self) -> Status:
        """The status, with every value the spec traces recorded."""
        values = await self.read_status_block()
        status = self.status_from(values)
        self.record_traces(values)
        return status

    async def read_status_value(self, name: str) -> float:
        """One status value, read alone (scaled, 32-bit joined)."""
        entry = next(s for s in self.spec.status if s.name == name)
        assert isinstance(entry, PlcStatus)
        return _decoded(entry, await self.read_registers(name))

    async def read_registers(self, name: str) -> list[int]:
        """The register(s) of the status variable `name`."""
        entry = next(s for s in self.spec.status if s.name == name)
        assert isinstance(entry, PlcStatus)
        return await self.link.read_holding_registers(entry.address(), entry.words)

    def member(self, values: Mapping[str, float], name: str, codes: type[E]) -> E:
        """The coded status value `name` as a member of `codes`; a code off the map is a
        protocol error."""
        raw = int(values[name])
        try:
            return codes(raw)
        except ValueError:
            raise self._off_the_map(name, raw) from None

    def coded(self, values: Mapping[str, float], name: str) -> str:
        """The coded status value `name` as the map words it; a code off the map is a
        protocol error."""
        raw = int(values[name])
        entry = next(s for s in self.spec.status if s.name == name)
        assert isinstance(entry, Placement)
        text = entry.text_of(raw)
        if text is None:
            raise self._off_the_map(name, raw)
        return text

    def _off_the_map(self, name: str, raw: int) -> ProtocolError:
        label = name.lower().replace("_", " ")
        return self._protocol_error("read status", f"{label} {raw} is not in the register map")

    def record_traces(self, values: Mapping[str, float]) -> None:
        """Record every status value the spec traces, in its unit."""
        for entry in self.spec.status:
            if entry.trace is not None and entry.name in values:
                self.record_reading(entry.trace, float(values[entry.name]), entry.unit)

    async def request_alarms(self) -> dict[str, str]:
        """The alarm bits set, each explained by the spec; a bit the spec does not declare (a
        vendor's tool mapped onto the driver) is an alarm all the same, never ignored."""
        (word,) = await self.read_registers(ALARMS)
        declared = {alarm.bit: alarm for alarm in self.spec.alarms if isinstance(alarm, BitAlarm)}
        alarms = {}
        for bit in range(16):
            if word >> bit & 1:
                alarm = declared.get(bit)
                if alarm is None:
                    alarms[f"BIT_{bit}"] = f"alarm bit {bit} is not on the protocol page"
                else:
                    alarms[alarm.code] = alarm.text
        return alarms

    async def request_interlocks(self) -> dict[str, bool]:
        (word,) = await self.read_registers(INTERLOCKS)
        return {
            interlock.name: bool(word >> interlock.bit & 1)
            for interlock in self.spec.interlocks
            if isinstance(interlock, BitInterlock)
        }

    async def read_text(self, action: str, name: str) -> str:
        """The ASCII block of status `name` (a wafer id)."""
        entry = self.spec.status_by_name[name]
        assert isinstance(entry, PlcStatus)
        assert entry.text
        block = await self.link.read_holding_registers(entry.address(), entry.words)
        try:
            return registers_to_ascii(block)
        except ValueError as error:
            raise self._protocol_error(action, str(error)) from None

    # ----------------------------------------------------------------- setpoints and commands

    def encode(self, action: str, name: str, value: float | str) -> list[int]:
        """The registers of one value: a setpoint checked against the limits and scaled, text
        as ASCII, a coded parameter by its code, any other as the number. Nothing is sent."""
        entry = field(self.spec, name)
        assert isinstance(entry, Placement)
        if isinstance(entry, PlcSetpoint):
            return [round(self.check_limit(action, name, float(value)) * entry.scale)]
        if entry.text:
            return ascii_to_registers(str(value), entry.words)
        if entry.codes:
            return [entry.code_of(str(value))]
        return [int(value)]

    def encode_fields(self, action: str, values: Mapping[str, float | str]) -> list[int]:
        """The registers of the setpoint block fields named in `values`, by address (each
        checked; nothing is sent)."""
        return [
            register
            for entry in self.map.fields(self.spec)
            if entry.name in values
            for register in self.encode(action, entry.name, values[entry.name])
        ]

    async def write_fields(self, action: str, address: int, registers: Sequence[int]) -> None:
        """Write setpoint registers from `address` (FC16); a refusal comes back explained."""
        try:
            await self.link.write_registers(address, list(registers))
        except CommandRefused as refused:
            raise await self.explain_refusal(action, refused) from None

    async def command(self, action: str, name: str, **parameters: float | str) -> None:
        """Write a command's parameters (checked, encoded), then its code; a refusal comes
        back explained."""
        command = self.spec.command_by_name[name]
        assert isinstance(command, PlcCommand)
        registers = [
            register
            for entry, _ in self.map.carried(self.spec, command)
            for register in self.encode(action, entry.name, parameters[entry.name])
        ]
        try:
            if registers:
                await self.link.write_registers(self.map.parameter_register, registers)
            await self.link.write_register(self.map.command_register, command.code)
        except CommandRefused as refused:
            raise await self.explain_refusal(action, refused) from None

    async def write_abort(self) -> None:
        """The ABORT command, written bare: the safe state is not explained, only sent."""
        abort = self.spec.command_by_name["ABORT"]
        assert isinstance(abort, PlcCommand)
        await self.link.write_register(self.map.command_register, abort.code)

    async def _clear_alarms(self) -> None:
        await self.command("reset alarms", "RESET_ALARMS")

    async def explain_refusal(self, action: str, refused: CommandRefused) -> CommandRefused:
        """The refusal, naming `action`, with the tool's own reason.

        Only exception 3 (illegal data value) leaves a reason in the "why refused" register;
        after any other (e.g. 2, illegal data address) that register still holds an earlier
        refusal's reason, so the refusal is reported as it came.
        """
        if refused.code != EXPLAINED_EXCEPTION:
            detail = refused.detail.removesuffix(f" (tool error {refused.code})")
            return CommandRefused(
                self.name, self.address, action, f"{detail} to {refused.action}", refused.code
            )
        return CommandRefused(self.name, self.address, action, await self.reason(), refused.code)

    async def reason(self) -> str:
        """Why the tool refused: the reason's words, the field at fault (on a map that names
        the refused register) or the open interlocks."""
        refused_register = self.map.refused_register(self.spec)
        if refused_register is None:
            (code,) = await self.read_registers(COMMAND_ERROR)
            register = None
        else:
            register, code = await self.link.read_holding_registers(refused_register, 2)
        texts = {refusal.code: refusal.text for refusal in self.spec.refusals}
        reason = texts.get(code, f"reason code {code} (not in the register map)")
        field = self.map.field_at(self.spec, register) if register is not None else None
        if code == Reason.OUT_OF_RANGE and field is not None:
            reason += f": {field[0].name} (register {register})"
        if code == Reason.INTERLOCK_OPEN:
            interlocks = await self.request_interlocks()
            reason += ": " + ", ".join(name for name, closed in interlocks.items() if not closed)
        return reason


#: Driver states in which a batch tool's door, load and unload commands are sent.
READY_STATES = (ToolState.IDLE, ToolState.ENGINEERING)


class BatchPlcDriver(ModbusPlcDriver[Status]):
    """A PLC tool that takes a batch in slots behind a door (the plasma chamber, the oven).

    Its map has `SLOT_CAPACITY` and `SLOTS_OCCUPIED` in adjacent status registers, the slot
    ids in the repeated text block `SLOT_WAFER_ID`, and the commands `OPEN_DOOR`,
    `CLOSE_DOOR`, `LOAD_WAFER` (slot, wafer id) and `UNLOAD_WAFER` (slot).
    """

    async def request_slots(self) -> list[str | None]:
        """The wafer id in each slot (None for an empty slot)."""
        capacity, occupied = await self.link.read_holding_registers(
            self.map.status_address(self.spec, "SLOT_CAPACITY"), 2
        )
        block = self.spec.status_by_name["SLOT_WAFER_ID"]
        assert isinstance(block, PlcStatus)
        if not 1 <= capacity <= block.repeat:
            raise self._protocol_error(
                "read slots", f"slot capacity {capacity} out of 1-{block.repeat}"
            )
        first, size = block.address(), block.stride
        ids = await self.link.read_holding_registers(first, size * capacity)
        slots: list[str | None] = []
        for slot in range(capacity):
            if not occupied >> slot & 1:
                slots.append(None)
                continue
            try:
                slots.append(registers_to_ascii(ids[slot * size : (slot + 1) * size]))
            except ValueError as error:
                raise self._protocol_error("read slots", f"slot {slot} id: {error}") from None
        return slots

    async def open_door(self) -> None:
        self.require_state("open door", *READY_STATES)
        await self.command("open door", "OPEN_DOOR")

    async def close_door(self) -> None:
        self.require_state("close door", *READY_STATES)
        await self.command("close door", "CLOSE_DOOR")

    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        """Place a wafer in a slot (the first free one unless given); returns the slot."""
        action = f"load wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        self.check_wafer_id(wafer_id)
        self.encode(action, "wafer_id", wafer_id)  # refuses an id that does not fit
        slots = await self.request_slots()
        if wafer_id in slots:
            raise ValueError(
                f"{self.name}: wafer {wafer_id} is already in slot {slots.index(wafer_id)}"
            )
        if slot is None:
            if None not in slots:
                raise ValueError(f"{self.name}: all {len(slots)} slots are full, cannot {action}")
            slot = slots.index(None)
        elif not 0 <= slot < len(slots):
            raise ValueError(f"{self.name}: slot {slot} does not exist (0-{len(slots) - 1})")
        await self.command(action, "LOAD_WAFER", slot=slot, wafer_id=wafer_id)
        return slot

    async def unload(self, wafer_id: str) -> None:
        """Take a wafer out of its slot."""
        action = f"unload wafer {wafer_id}"
        self.require_state(action, *READY_STATES)
        slots = await self.request_slots()
        if wafer_id not in slots:
            raise ValueError(f"{self.name}: wafer {wafer_id} is not in any slot")
        await self.command(action, "UNLOAD_WAFER", slot=slots.index(wafer_id))
