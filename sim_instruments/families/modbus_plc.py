"""What every simulated tool with a PLC on Modbus shares: its wire side, read from the spec.

Such a tool (the plasma cleaner, the laminator) is a `SimDevice` whose `action` hook sees every
access: it brings the tool's model to the clock's present time, judges a write and renders the
status registers. The family's rules are here, once (docs/protocols/conventions.md, "Modbus
PLC register maps"):

* the register blocks, the FC43 identity and the function codes served come from the spec;
* a setpoint write is refused while the tool does not take setpoints, or out of its range;
* a command is judged in the family's order (`Reason`): unknown command, alarm active, not
  allowed in the present state, interlock open, parameter out of range; then the tool's own
  conditions (`execute`);
* every write the tool accepts clears the "why refused" register(s), every write it refuses
  (exception 3) sets them; reads, and requests answered with another exception, leave them;
* alarms latch (`latch`) until RESET_ALARMS; an injected fault starts at the present time.

Each tool gives its phase name, its interlocks, its status values and its command semantics;
a tool of one wafer on its stage extends `SingleWaferPlcSimulator` (`plc_stage.py`), one of a
batch in slots `BatchPlcSimulator` (`plc_batch.py`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from functools import cached_property, lru_cache
from typing import ClassVar, NamedTuple

from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.simulator import DataType, SimData, SimDevice

from packline.clock import Clock
from packline.drivers.families.plc_map import (
    ALARMS,
    COMMAND_ERROR,
    HELD_READ,
    INTERLOCKS,
    REFUSED_REGISTER,
    SERIAL_NUMBER,
    Field,
    PlcCommand,
    PlcMap,
    PlcSetpoint,
    PlcStatus,
    Reason,
    field,
    reason_enum,
)
from packline.drivers.links.registers import (
    ascii_to_registers,
    registers_to_ascii,
    registers_to_u32,
    u32_to_registers,
)
from packline.drivers.specs import ToolSpec

from ..servers import ModbusToolServer, ModbusTransport
from ..tool import SimulatedTool
from ..twin import TwinStore

#: A refused write: the reason code and the register it concerned.
Refused = tuple[int, int]


@lru_cache(maxsize=1024)
def _ascii_registers(text: str, register_count: int) -> tuple[int, ...]:
    """`ascii_to_registers`, remembered: a status read renders the same wafer ids and serial
    number again and again."""
    return tuple(ascii_to_registers(text, register_count))


#: How many windows of status registers a tool remembers what they show (`_status_window`).
_STATUS_WINDOWS_KEPT = 64


#: The most a 16-bit status register shows: a value beyond its range reads its end (a step
#: longer than 6553.5 s reads 6553.5 s in 0.1 s), as a PLC's saturating move does.
_MOST = 0xFFFF


def _writes_hold_block(address: int, count: int) -> bool:
    """Whether a write of `count` registers from `address` covers a register of the hold
    block (which only FC23 writes)."""
    return address < HELD_READ.hold_block + 2 and HELD_READ.hold_block < address + count


class _StatusWindow(NamedTuple):
    """What a read of some registers shows of the status: the one-register numbers it covers
    (name, scale, address, whether the family fills it), the other register groups (entry,
    repetition, first address, whether the family fills it), and whether any is the tool's
    own (`status_values`)."""

    numbers: tuple[tuple[str, float, int, bool], ...]
    groups: tuple[tuple[PlcStatus, int, int, bool], ...]
    tool_values: bool


def _one_number(entry: PlcStatus) -> bool:
    """Whether `entry` is one register holding a number, not repeated: `_encode`'s
    `round(value * scale)`, written straight into its register."""
    return entry.words == 1 and not entry.text and entry.repeat == 1


def _encode(entry: PlcStatus, value: object) -> Sequence[int]:
    """The registers of one status value: text, or a number on the entry's scale."""
    if entry.text:
        return _ascii_registers(str(value or ""), entry.words)
    raw = round(float(value) * entry.scale)  # type: ignore[arg-type]
    return u32_to_registers(raw) if entry.words == 2 else [raw]


class ModbusPlcSimulator(SimulatedTool):
    """Base of simulated tools whose controller is a PLC on Modbus (TCP, or RTU)."""

    spec: ClassVar[ToolSpec[PlcMap]]
    status_confirms_safe_state = True  # ABORT, confirmed by the status registers

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        serial_number: str,
        device_id: int = 1,
        transport: ModbusTransport = "tcp",
    ) -> None:
        super().__init__(name, twin, clock)
        self.serial_number = serial_number
        self.device_id = device_id
        self.transport: ModbusTransport = transport
        self.reasons = reason_enum(self.spec)
        self.command_error: IntEnum = self.reasons(Reason.NONE)
        self.refused_register = 0
        self._status_windows: dict[tuple[int, int], _StatusWindow] = {}
        self._fields_at: dict[int, tuple[Field, int] | None] = {}
        #: `STATUS_CHANGES`, and the counted status values it was last brought up to date
        #: with (`status_changes`; None before the first look).
        self._status_changes = 0
        self._counted: tuple[object, ...] | None = None

    @cached_property
    def _command_of_code(self) -> dict[int, PlcCommand]:
        return {c.code: c for c in self.spec.commands if isinstance(c, PlcCommand)}

    @cached_property
    def _setpoint_extent(self) -> tuple[int, int]:
        """The writable setpoint block (`PlcMap.setpoint_extent`), worked out once rather than
        for every write judged."""
        return self.map.setpoint_extent(self.spec)

    def _field_at(self, address: int) -> tuple[Field, int] | None:
        """`PlcMap.field_at`, remembered by address: a write looks up each register it sets."""
        try:
            return self._fields_at[address]
        except KeyError:
            placed = self._fields_at[address] = self.map.field_at(self.spec, address)
            return placed

    @property
    def map(self) -> PlcMap:
        wire = self.spec.wire
        assert wire is not None
        return wire

    # ----------------------------------------------------------------- serving

    def device(self) -> SimDevice:
        """The register map as a pymodbus device, its accesses handled by this model."""
        wire, identity = self.map, self.spec.identity
        first, count = self._setpoint_extent
        held = (
            [
                SimData(HELD_READ.hold_block, count=2, datatype=DataType.REGISTERS),
                SimData(
                    HELD_READ.status_block,
                    count=1 + wire.status_registers,
                    datatype=DataType.REGISTERS,
                    readonly=True,
                ),
            ]
            if wire.holds_status
            else []
        )
        return SimDevice(
            id=self.device_id,
            simdata=[
                SimData(
                    0,
                    count=wire.read_only_end(self.spec),
                    datatype=DataType.REGISTERS,
                    readonly=True,
                ),
                SimData(first, count=count, datatype=DataType.REGISTERS),
                SimData(
                    wire.command_register,
                    count=1 + wire.parameter_registers(self.spec),
                    datatype=DataType.REGISTERS,
                ),
                *held,
            ],
            identity=ModbusDeviceIdentification(
                info_name={
                    "VendorName": identity.vendor,
                    "ProductCode": identity.model,
                    "MajorMinorRevision": identity.firmware,
                }
            ),
            action=self._on_access,
        )

    def line_devices(self) -> list[SimDevice]:
        """The units this tool answers for on its Modbus line: its PLC (a tool whose heaters
        are controllers on the same line adds them)."""
        return [self.device()]

    def make_server(self, host: str, port: int) -> ModbusToolServer:
        return ModbusToolServer(
            self.line_devices(),
            transport=self.transport,
            host=host,
            port=port,
            function_codes=self.map.function_codes,
            clock=self.clock,
        )

    async def _on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """The served device's every access (pymodbus awaits its action): `access`; a write
        the tool takes wakes a held read (`changed`), and the hold block written by the held
        status read holds its reply (`hold_status`). FC23 writes the hold block and reads the
        held status block, and the hold block is written by FC23 only: else exception 2
        (illegal data address)."""
        held_read = function_code == HELD_READ.function_code
        if held_read:
            # FC23 is the held status read, nothing else
            if set_values is None:
                in_place = address >= HELD_READ.status_block
            else:
                in_place = (address, count) == (HELD_READ.hold_block, 2)
            if not in_place:
                return ExcCodes.ILLEGAL_ADDRESS
        elif set_values is not None and _writes_hold_block(address, count):
            return ExcCodes.ILLEGAL_ADDRESS
        refused = self.access(function_code, start_address, address, count, registers, set_values)
        if set_values is None or refused is not None:
            return refused
        self.changed()
        if held_read:
            seen, hold = (int(value) for value in set_values)
            await self.hold_status(seen, HELD_READ.hold_s(hold))
        return None

    async def hold_status(self, seen: int, hold_s: float) -> None:
        """Until `STATUS_CHANGES` is not `seen` (at once if it is not when the read comes), or
        `hold_s` of process time have passed (`hold`): then the held read's status is read.
        The host gives the read up by dropping its connection, which ends the hold."""
        await self.hold(lambda: self.status_changes() == seen, hold_s, given_up_by_next_line=False)

    def status_changes(self, tool_values: Mapping[str, object] | None = None) -> int:
        """`STATUS_CHANGES`, brought up to date with the tool as it is now (the model at the
        present time): counted up, wrapping at 65536, when a counted status value differs
        from when it was last brought up to date. `tool_values`: the tool's `status_values`
        now, when the caller has them (a held status read renders them anyway), which
        present the counted ones as `counted_status` does; else `counted_status` is asked."""
        family = self._family_status
        tool = self.counted_status() if tool_values is None else tool_values
        counted = tuple(
            family[name]() if name in family else tool.get(name)
            for name in self.map.changes_counted
        )
        if counted != self._counted:
            if self._counted is not None:
                self._status_changes = (self._status_changes + 1) & _MOST
            self._counted = counted
        return self._status_changes

    def access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Every Modbus access, the served device's or a GEM face's in process: advance the
        model to now, then judge a write or render the status registers a read returns (a
        write cannot reach them: they are read-only). `registers` is the device's block from
        `start_address`; a write the tool takes is the caller's to store there."""
        self.advance()
        if set_values is None:
            if address >= HELD_READ.status_block and self.map.holds_status:
                self._render_held(start_address, registers)
            else:
                self._render(address, count, start_address, registers)
            return None
        values = [int(v) for v in set_values]
        if function_code == HELD_READ.function_code:
            refused = self._judge_hold(values)
            if refused is None:
                return None  # not a command: the last refusal's reason stays for any host
        else:
            self.received.append(f"FC{function_code} write {address} {values}")
            refused = self._judge(start_address, address, values, registers)
        reason, register = refused or (Reason.NONE, 0)
        self.command_error, self.refused_register = self.reasons(reason), register
        return None if refused is None else ExcCodes.ILLEGAL_VALUE

    # ----------------------------------------------------------------- judging writes

    def _judge(
        self, start: int, address: int, values: list[int], registers: list[int]
    ) -> Refused | None:
        wire = self.map
        first, count = self._setpoint_extent
        if first <= address < first + count:
            if not self.takes_setpoints():
                return Reason.WRONG_STATE, address
            written = self._written_fields(address, values)
            for register, entry, raw in written:
                if raw is None or self._outside(entry, raw):
                    return Reason.OUT_OF_RANGE, register
            self.take_setpoints(
                {
                    entry.name: raw / entry.scale
                    for _, entry, raw in written
                    if isinstance(entry, PlcSetpoint) and raw is not None
                }
            )
            return None
        if address == wire.command_register:
            # parameters written with the command in one request count before it runs
            registers[address - start : address - start + len(values)] = values
            return self._command(values[0], registers, start)
        return None  # command parameters, used by the next command

    @staticmethod
    def _judge_hold(values: list[int]) -> Refused | None:
        """The hold block as the held read writes it (`STATUS_CHANGES` seen, the hold):
        refused if the hold is beyond the longest."""
        if values[1] > HELD_READ.most_hold:
            return Reason.OUT_OF_RANGE, HELD_READ.hold_block + 1
        return None

    def _written_fields(
        self, address: int, values: list[int]
    ) -> list[tuple[int, Field, int | None]]:
        """The fields of the setpoint block a write from `address` sets: the first register
        of each that it writes, the field and its raw count (a 32-bit one from its two
        registers, high word first). A 32-bit value is written whole: one the write covers
        only half of has no count (None). Registers off the map are left out."""
        written: list[tuple[int, Field, int | None]] = []
        offset = 0
        while offset < len(values):
            register = address + offset
            placed = self._field_at(register)
            if placed is None:
                offset += 1
                continue
            entry, index = placed
            into = register - entry.address(index)
            words = values[offset : offset + entry.words - into]
            raw: int | None = words[0]
            if entry.words == 2 and not entry.text:
                raw = registers_to_u32(*words) if into == 0 and len(words) == 2 else None
            written.append((register, entry, raw))
            offset += entry.words - into
        return written

    def take_setpoints(self, values: Mapping[str, float]) -> None:
        """A setpoint write the tool accepted, by name, in their units. A tool whose setpoints
        act at once (a bath's temperature, as a temperature controller's) takes them here; by
        default they wait in their registers for the command that reads them."""

    def out_of_range(self, address: int, value: int) -> bool:
        """Whether `value` is outside what the setpoint or coded register at `address`
        accepts (a register outside the map takes any value)."""
        placed = self._field_at(address)
        return placed is not None and self._outside(placed[0], value)

    @staticmethod
    def _outside(entry: Field, raw: int) -> bool:
        """Whether the raw count `raw` is outside what `entry` accepts: a setpoint's register
        range, a coded value's codes (any other takes any value)."""
        if isinstance(entry, PlcSetpoint):
            return not entry.register_range.contains(raw)
        return bool(entry.codes) and entry.text_of(raw) is None

    def refuse_out_of_range(
        self, registers: Sequence[int], start: int, names: Sequence[str] = ()
    ) -> Refused | None:
        """The refusal OUT_OF_RANGE at the first register out of range of the setpoint block
        (of the fields `names` only, if given, in that order), or None; `registers` is the map
        from address `start` (a command's job block, read when the command runs)."""
        if names:
            spans = [range(e.address(), e.extent) for e in (field(self.spec, n) for n in names)]
        else:
            first, count = self._setpoint_extent
            spans = [range(first, first + count)]
        for addresses in spans:
            wrong = self.first_out_of_range(registers, start, addresses)
            if wrong:
                return self.refused(Reason.OUT_OF_RANGE, wrong)
        return None

    def first_out_of_range(self, registers: Sequence[int], start: int, addresses: range) -> int:
        """The first address in `addresses` whose register is out of range, or 0."""
        for address in addresses:
            if self.out_of_range(address, registers[address - start]):
                return address
        return 0

    def setpoint_values(
        self, registers: Sequence[int], start: int, index: int = 0
    ) -> dict[str, float | str]:
        """The setpoint block's values (of repetition `index`): setpoints in their units,
        coded parameters as the map names their codes."""
        values: dict[str, float | str] = {}
        for entry in self.map.fields(self.spec):
            raw = registers[entry.address(index) - start]
            if isinstance(entry, PlcSetpoint):
                values[entry.name] = raw / entry.scale
            else:
                values[entry.name] = entry.text_of(raw) or ""
        return values

    def _command(self, code: int, registers: list[int], start: int) -> Refused | None:
        wire = self.map
        here = wire.command_register
        command = self._command_of_code.get(code)
        if command is None:
            return Reason.UNKNOWN_COMMAND, here
        if self.alarms and not command.while_alarmed:
            return Reason.ALARM_ACTIVE, here
        if command.allowed_in and self.state_name() not in command.allowed_in:
            return Reason.WRONG_STATE, here
        interlocks = self.interlocks()
        if not all(interlocks[name] for name in command.interlocks):
            return Reason.INTERLOCK_OPEN, here
        parameters: dict[str, float | list[int]] = {}
        for entry, address in wire.carried(self.spec, command):
            raw = registers[address - start : address - start + entry.words]
            if isinstance(entry, PlcSetpoint):
                if not entry.register_range.contains(raw[0]):
                    return Reason.OUT_OF_RANGE, address
                parameters[entry.name] = raw[0] / entry.scale
            else:
                parameters[entry.name] = raw if entry.text else raw[0]
        if command.name == "RESET_ALARMS":
            self.clear_alarms()
        if command.name == "ABORT" and self.defer_safe_state(
            lambda: self.execute("ABORT", {}, [], 0)
        ):
            return None
        return self.execute(command.name, parameters, registers, start)

    def text_parameter(self, parameters: Mapping[str, float | list[int]], name: str) -> str:
        """A text parameter of a command (raises ValueError if it is not printable ASCII)."""
        block = parameters[name]
        assert isinstance(block, list)
        return registers_to_ascii(block)

    def refused(self, reason: int, register: int | None = None) -> Refused:
        """A refusal of the present command, concerning `register` (the command register)."""
        return reason, self.map.command_register if register is None else register

    # ----------------------------------------------------------------- status

    @cached_property
    def _status_layout(self) -> tuple[tuple[PlcStatus, int, int], ...]:
        """Every status register group as (entry, repetition, first address), by address:
        where `_render` writes, worked out once instead of on every read."""
        placed = (
            (entry, index, entry.address(index))
            for entry in self.spec.status
            if isinstance(entry, PlcStatus)
            for index in range(entry.repeat)
        )
        return tuple(sorted(placed, key=lambda group: group[2]))

    @cached_property
    def _family_status(self) -> dict[str, Callable[[], object]]:
        """The status registers the family fills itself: how to get each one's value."""
        return {
            ALARMS: self._alarm_word,
            INTERLOCKS: self._interlock_word,
            COMMAND_ERROR: lambda: int(self.command_error),
            REFUSED_REGISTER: lambda: self.refused_register,
            SERIAL_NUMBER: lambda: self.serial_number,
        }

    def _alarm_word(self) -> int:
        if not self.alarms:  # as mostly: no alarm's bit to look for
            return 0
        return sum(1 << a.bit for a in self.spec.alarms if a.code in self.alarms)  # type: ignore[attr-defined]

    def _interlock_word(self) -> int:
        closed = self.interlocks()
        return sum(1 << i.bit for i in self.spec.interlocks if closed[i.name])  # type: ignore[attr-defined]

    def _status_window(self, first: int, end: int) -> _StatusWindow:
        """What a read of the registers from `first` up to `end` shows of the status, worked
        out once for each window read (a host reads the same few again and again)."""
        window = self._status_windows.get((first, end))
        if window is None:
            family = self._family_status
            shown = [
                (entry, index, address, entry.name in family)
                for entry, index, address in self._status_layout
                if address < end and address + entry.words > first
            ]
            window = _StatusWindow(
                numbers=tuple(
                    (e.name, e.scale, a, ours) for e, _, a, ours in shown if _one_number(e)
                ),
                groups=tuple(group for group in shown if not _one_number(group[0])),
                tool_values=not all(ours for _, _, _, ours in shown),
            )
            if len(self._status_windows) >= _STATUS_WINDOWS_KEPT:
                self._status_windows.clear()
            self._status_windows[first, end] = window
        return window

    def _render_held(self, start: int, registers: list[int]) -> None:
        """Write the held status block (`STATUS_CHANGES`, then the status block as a poll
        reads it) into `registers`, the device's block from address `start`."""
        count, tool_values = self.map.status_registers, self.status_values()
        self._render(0, count, start, registers, tool_values)
        held, status = HELD_READ.status_block - start, 0 - start
        registers[held] = self.status_changes(tool_values)
        registers[held + 1 : held + 1 + count] = registers[status : status + count]

    def _render(
        self,
        first: int,
        count: int,
        start: int,
        registers: list[int],
        tool_values: Mapping[str, object] | None = None,
    ) -> None:
        """Write the present status into the registers a read of `count` from address
        `first` returns: only the values it shows are worked out (the tool's own are
        `tool_values`, if the caller has them). `registers` is the device's block from
        address `start`."""
        end = first + count
        window = self._status_window(first, end)
        if not (window.numbers or window.groups):
            return  # a setpoint or command block: no status to show
        if tool_values is None:
            tool_values = self.status_values() if window.tool_values else {}
        value_of = tool_values.get
        family = self._family_status
        for name, scale, address, ours in window.numbers:
            value = family[name]() if ours else value_of(name, 0)
            shown = round(float(value) * scale)  # type: ignore[arg-type]
            # a register saturates (compared, not min() and max(): this runs for every number
            # of every status read)
            registers[address - start] = shown if 0 <= shown <= _MOST else 0 if shown < 0 else _MOST
        for entry, index, address, ours in window.groups:
            value = family[entry.name]() if ours else value_of(entry.name, 0)
            if entry.repeat > 1:
                assert isinstance(value, Sequence)
                value = value[index] if index < len(value) else ("" if entry.text else 0)
            encoded = _encode(entry, value)
            if first <= address and address + entry.words <= end:
                registers[address - start : address - start + entry.words] = encoded
                continue
            for offset, word in enumerate(encoded):
                if first <= address + offset < end:
                    registers[address + offset - start] = word

    # ----------------------------------------------------------------- the tool's part

    @abstractmethod
    def state_name(self) -> str:
        """The tool's present phase as the spec's `allowed_in` names it."""

    @abstractmethod
    def takes_setpoints(self) -> bool:
        """Whether the setpoint block may be written now."""

    @abstractmethod
    def status_values(self) -> Mapping[str, object]:
        """The status the tool presents now, by the spec's names, in its units (the family
        renders alarms, interlocks, the "why refused" registers and the serial number)."""

    def counted_status(self) -> Mapping[str, object]:
        """The tool's own status values that `STATUS_CHANGES` counts (the map's
        `changes_counted` but the family's), as `status_values` presents them: a held read
        looks at them at each change of the model. By default the whole of `status_values`;
        a tool gives these alone when its whole status costs more."""
        return self.status_values()

    @abstractmethod
    def execute(
        self,
        command: str,
        parameters: Mapping[str, float | list[int]],
        registers: list[int],
        start: int,
    ) -> Refused | None:
        """Run a command the family's checks let through, or refuse it by the tool's own
        conditions. `parameters` are decoded (setpoints in their units, text as registers);
        `registers` is the command block from address `start`."""
