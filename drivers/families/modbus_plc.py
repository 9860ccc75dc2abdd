"""The Modbus PLC family's driver base: a driver read from its tool's PLC map.

`ModbusPlcDriver` consumes the spec (`plc_map/`): identity, status decoding and traces, alarm
and interlock decoding, setpoint encoding against the limits, commands and the explanation of a
refusal. `SingleWaferPlcDriver` (`plc_stage.py`) adds the stage of a tool that takes one wafer,
`BatchPlcDriver` (`plc_batch.py`) the slots and door of a batch tool. The map itself is
`plc_map/`.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import cached_property, partial
from typing import ClassVar, Generic, TypeVar

from ..equipment import HOLD_S, Equipment, Identity, SafeStateWatch, held_pace, poll_hold_s
from ..errors import CommandRefused, ProtocolError
from ..links import ModbusLink
from ..links.modbus_protocol import EXCEPTION_NAMES
from ..links.registers import registers_to_ascii
from ..specs.core import ToolSpec
from .plc_map import (
    ALARMS,
    COMMAND_ERROR,
    EXPLAINED_EXCEPTION,
    HELD_READ,
    INTERLOCKS,
    SERIAL_NUMBER,
    BitAlarm,
    BitInterlock,
    Placement,
    PlcCommand,
    PlcMap,
    PlcSetpoint,
    PlcStatus,
    Reason,
    decoded,
    field,
    registers_of,
)

E = TypeVar("E", bound=IntEnum)
Status = TypeVar("Status")
T = TypeVar("T")


log = logging.getLogger(__name__)

#: The Modbus exceptions that say the held status read is not served: the PLC does not serve
#: FC23 (1, illegal function) or has no hold and held status blocks (2, illegal data address;
#: a PLC program without them), or a gateway before it cannot carry the request or wait for a
#: held reply (10, gateway path unavailable; 11, gateway target device failed to respond).
_HELD_READ_NOT_SERVED = frozenset(EXCEPTION_NAMES[code] for code in (1, 2, 10, 11))


@dataclass
class _HeldWait:
    """A wait under way on the held status read (`ModbusPlcDriver.wait_until_held`): the
    `STATUS_CHANGES` and the counted values read last (None before the first read)."""

    changes: int | None = None
    counted: list[int] | None = None


#: The held wait of the task reading, if it is in one.
_HELD_WAIT: ContextVar[_HeldWait | None] = ContextVar("packline_plc_held_wait", default=None)


class ModbusPlcDriver(Equipment, Generic[Status]):
    """The driver side of a PLC map, read from the tool's spec (`spec`).

    A tool turns the decoded status block into its role's status (`status_from`); the base
    reads it (`request_status`) and, while a process is watched, records the spec's traces
    (`traced_status`).
    """

    link_type = ModbusLink
    link: ModbusLink
    spec: ClassVar[ToolSpec[PlcMap]]
    #: Whether the waits on a change use the held status read: until the PLC answers it with
    #: an exception that says it is not served (`_HELD_READ_NOT_SERVED`), then until the
    #: driver connects again.
    _serves_held_read = True

    async def connect(self) -> None:
        self._serves_held_read = True
        await super().connect()

    @property
    def map(self) -> PlcMap:
        wire = self.spec.wire
        assert wire is not None
        return wire

    def _protocol_error(self, action: str, detail: str) -> ProtocolError:
        return ProtocolError(self.name, self.address, action, detail)

    async def request_identity(self) -> Identity:
        """FC43 objects and the serial number block.

        The serial number is where this driver's map puts it, so another kind of tool (whose
        map puts other registers there) is refused as another kind by its FC43 objects
        (`_check_identity`: what it says it is, what this driver drives) before its serial
        number is judged, not with the bytes of another register block.
        """
        info = await self.link.read_device_identification()
        identity = Identity(
            vendor=info.get("vendor_name", ""),
            model=info.get("product_code", ""),
            serial_number="",
            firmware=info.get("revision", ""),
        )
        self._check_identity(identity)
        block = self.spec.status_by_name[SERIAL_NUMBER]
        assert isinstance(block, PlcStatus)
        serial = await self.link.read_holding_registers(block.address(), block.words)
        try:
            serial_number = registers_to_ascii(serial)
        except ValueError as error:
            raise self._protocol_error("read identity", f"serial number: {error}") from None
        return replace(identity, serial_number=serial_number)

    async def _checked_identity(self) -> Identity:
        """`request_identity`, which refuses another kind of tool itself, by its FC43 objects,
        before it reads the serial number."""
        return await self.request_identity()

    # ----------------------------------------------------------------- status

    @cached_property
    def _status_block(self) -> tuple[tuple[str, int, float, PlcStatus | None], ...]:
        """The numbers of the status block, worked out once instead of on every poll: each
        one's name, first address and scale, and its entry when it takes two registers (which
        `decoded` joins), else None."""
        return tuple(
            (entry.name, entry.address(), entry.scale, entry if entry.words == 2 else None)
            for entry in self.spec.status
            if isinstance(entry, PlcStatus)
            and not entry.text
            and entry.extent <= self.map.status_registers
        )

    @cached_property
    def _traced(self) -> tuple[tuple[str, str, str], ...]:
        """The status values the spec traces: (name, trace, unit)."""
        return tuple(
            (entry.name, entry.trace, entry.unit)
            for entry in self.spec.status
            if entry.trace is not None
        )

    async def read_status_block(self) -> dict[str, float]:
        """The status registers polled each time, decoded by name (scaled, 32-bit joined); in
        a poll of a held wait (`wait_until_held`), by the held status read."""
        held = _HELD_WAIT.get()
        hold_s = None if held is None else poll_hold_s()
        if held is None or hold_s is None:
            registers = await self.link.read_holding_registers(0, self.map.status_registers)
        else:
            registers = await self._held_status(held, hold_s)
        # A one-register number is `decoded`'s, inline: this runs for every number of every
        # poll, and a call and a slice each cost more than the number.
        return {
            name: (registers[first] if scale == 1 else registers[first] / scale)
            if joined is None
            else decoded(joined, registers[first : first + 2])
            for name, first, scale, joined in self._status_block
        }

    @cached_property
    def _counted_registers(self) -> tuple[int, ...]:
        """The status registers of the values `STATUS_CHANGES` counts (the map's
        `changes_counted`), in the status block."""
        entries = (self.spec.status_by_name[name] for name in self.map.changes_counted)
        return tuple(
            entry.address(index) + word
            for entry in entries
            if isinstance(entry, PlcStatus)
            for index in range(entry.repeat)
            for word in range(entry.words)
        )

    async def _held_status(self, wait: _HeldWait, hold_s: float) -> list[int]:
        """The status registers by the held status read (FC23): at once on the wait's first
        read, then held by the PLC until `STATUS_CHANGES` moves past the count read last, at
        most `hold_s`; by a poll's read (FC3) once the PLC refused it as not served. The
        wait's pace (`HeldPace`) is told whether the counted values changed: a PLC that
        answers early without a change of them (one that does not hold, or whose count moves
        on every scan) is read next a poll interval after it was asked, as a poll would be."""
        pace = held_pace()
        assert pace is not None  # set with `poll_hold_s`
        asked_s = self.clock.now()
        held = await self._held_read(wait, hold_s) if self._serves_held_read else None
        if held is None:
            registers = await self.link.read_holding_registers(0, self.map.status_registers)
            pace.answered(asked_s, changed=False)
            return registers
        wait.changes, *registers = held
        counted = [registers[register] for register in self._counted_registers]
        pace.answered(asked_s, changed=counted != wait.counted)
        wait.counted = counted
        return registers

    async def _held_read(self, wait: _HeldWait, hold_s: float) -> list[int] | None:
        """`STATUS_CHANGES` and the status registers, by the held status read (asked again
        if the PLC did not answer: it writes only its own hold block); None, logged once, if
        the PLC or a gateway before it answered that it does not serve it: the driver then
        polls until it connects again."""
        seen = wait.changes
        hold = 0 if seen is None else HELD_READ.hold(hold_s)
        try:
            return await self.link.read_write_registers(
                HELD_READ.status_block,
                1 + self.map.status_registers,
                HELD_READ.hold_block,
                [seen or 0, hold],
                idempotent=True,
                held_s=HELD_READ.hold_s(hold),
            )
        except CommandRefused as refused:
            if refused.code not in _HELD_READ_NOT_SERVED:
                raise
            log.warning(
                "%s at %s: the held status read (FC23) answered %s; its waits poll (FC3) "
                "until it is connected again",
                self.name,
                self.address,
                refused.code,
            )
        self._serves_held_read = False
        return None

    async def wait_until_held(
        self,
        action: str,
        poll: Callable[[], Awaitable[T | None]],
        timeout_s: float,
        still: Callable[[], str],
        *,
        interval_s: float | None = None,
        hold_s: float = HOLD_S,
        abort_on_timeout: bool = True,
    ) -> T:
        """`wait_until` held by the PLC: after the first, each status read of a poll
        (`read_status_block`) is held by the PLC until its counted status changes (a phase, a
        count, an alarm, an interlock) or the wait's hold has passed, at most `hold_s`
        (docs/decisions/0078). On a map without the held read, a link that cannot carry a
        held reply (Modbus RTU) or a PLC that refused the held read as not served
        (`_serves_held_read`), the wait polls, every `interval_s` if given (as in the wait's
        last hold), else every poll interval. `abort_on_timeout` as `wait_until`'s."""
        wait = partial(
            self.wait_until,
            action,
            poll,
            timeout_s,
            still,
            interval_s=interval_s,
            abort_on_timeout=abort_on_timeout,
        )
        if not (self.map.holds_status and self.link.holds_replies and self._serves_held_read):
            return await wait()
        token = _HELD_WAIT.set(_HeldWait())
        try:
            return await wait(held_by_tool=True, hold_s=hold_s)
        finally:
            _HELD_WAIT.reset(token)

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
        entry = self.spec.status_by_name[name]
        assert isinstance(entry, PlcStatus)
        return decoded(entry, await self.read_registers(name))

    async def read_registers(self, name: str) -> list[int]:
        """The register(s) of the status variable `name`."""
        entry = self.spec.status_by_name[name]
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
        entry = self.spec.status_by_name[name]
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
        for name, trace, unit in self._traced:
            if name in values:
                self.record_reading(trace, float(values[name]), unit)

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
        """The registers of one value: a setpoint checked against the limits and scaled (a
        32-bit one in two registers, high word first), text as ASCII, a coded parameter by
        its code, any other as the number. Nothing is sent."""
        entry = field(self.spec, name)
        assert isinstance(entry, Placement)
        if isinstance(entry, PlcSetpoint):
            value = self.check_limit(action, name, float(value))
        return registers_of(entry, value)

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

    async def abort_confirmed(self, unsafe: Callable[[Status], str | None]) -> Status:
        """ABORT (`write_abort`), then the status read until it shows the safe state:
        `unsafe` says what a status shows that is not safe (`chamber processing, RF forward
        300 W`), None once it shows nothing. Returns that status.

        The reads are held by the PLC until its counted status changes, each at most a poll
        interval (`wait_until_held`): what the safe state needs off (RF power, gas flow) may
        be a value the PLC does not count. Past `safe_state_timeout_s` of process time it
        raises `ToolTimeout` (`abort: safe state not confirmed: <what was not> after 10 s`)
        without aborting again: this is the abort, and `Equipment.abort` then puts the driver
        in fault."""
        await self.write_abort()
        watch = SafeStateWatch(self.traced_status, unsafe)
        return await self.wait_until_held(
            "abort",
            watch.poll,
            self.safe_state_timeout_s,
            watch.still,
            hold_s=self.poll_interval_s,
            abort_on_timeout=False,
        )

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
