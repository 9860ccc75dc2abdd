"""Temperature controllers on a Modbus RTU line: the controller map and the driver side.

A heating zone of an oven, or the heater of a plating bath, is a single-loop PID temperature
controller on an RS-485 line shared with other controllers, each answering its own unit id.
packline speaks the register map of a common industrial family, the **Eurotherm 3200 series**
(3216, 3208, 3204; the same low addresses as the 2000 series) so a real controller of that
kind can take a simulated one's place: holding registers read with FC3 and written with FC6
or FC16, each a 16-bit two's-complement integer in the instrument's display resolution (one
decimal place here: 2170 is 217.0 degC). The map (`EUROTHERM_3200`) is declared once: the
driver side (`TemperatureController`), the simulated controllers
(`sim_instruments/families/temperature_controller.py`) and the protocol pages' table
(`ControllerMap.table`) read it.

The addresses are those of Eurotherm's communication manuals (series 2000 and 3200): PV.IN 1,
TG.SP 2, WRK.OP 4, WKG.SP 5, A1 13, SP.RAT 35, StAt 75, IM 199, and the alarm acknowledge at
274. A write outside a register's range, or to a read-only register, is refused with Modbus
exception 3 (illegal data value) and changes nothing; the controller's instrument status
(StAt) says what it alarms on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from functools import cached_property

from ..errors import ProtocolError
from ..links import ModbusLink
from ..specs.core import Range
from ..specs.pages import table

#: Two's complement of a 16-bit register.
_WORD = 1 << 16


class InstrumentMode(IntEnum):
    """IM (address 199): what the loop does. Standby switches the control outputs off."""

    AUTO = 0
    MANUAL = 1
    STANDBY = 2


class InstrumentStatus(IntFlag):
    """StAt (address 75), the bits of the instrument status word the map declares."""

    ALARM_1 = 1 << 0
    ALARM_2 = 1 << 1
    SENSOR_BREAK = 1 << 5
    LOOP_BREAK = 1 << 6


#: What each declared status bit means, in the controller's words.
STATUS_TEXT = {
    InstrumentStatus.ALARM_1: "alarm 1 (absolute high: the process value above A1)",
    InstrumentStatus.ALARM_2: "alarm 2",
    InstrumentStatus.SENSOR_BREAK: "sensor break (thermocouple open)",
    InstrumentStatus.LOOP_BREAK: "loop break (output saturated, no response)",
}


@dataclass(frozen=True, kw_only=True)
class ControllerRegister:
    """One register of the controller map.

    `mnemonic` is the family's own name (`PV.IN`); `scale` register counts per unit of the
    value; `accepts` the range a write may carry (None: read-only); `codes` names coded values.
    """

    mnemonic: str
    address: int
    unit: str = ""
    scale: float = 1
    accepts: Range | None = None
    codes: tuple[tuple[int, str], ...] = ()
    doc: str = ""

    @property
    def writable(self) -> bool:
        return self.accepts is not None

    @property
    def register_range(self) -> Range | None:
        """What a write may carry, in register counts (signed)."""
        if self.accepts is None:
            return None
        return Range(
            round(self.accepts.minimum * self.scale), round(self.accepts.maximum * self.scale)
        )


@dataclass(frozen=True)
class ControllerMap:
    """A controller family's registers, by mnemonic, with their codec."""

    family: str
    registers: tuple[ControllerRegister, ...]

    @cached_property
    def by_mnemonic(self) -> dict[str, ControllerRegister]:
        return {register.mnemonic: register for register in self.registers}

    @cached_property
    def by_address(self) -> dict[int, ControllerRegister]:
        return {register.address: register for register in self.registers}

    @property
    def extent(self) -> int:
        """One past the highest address the map uses."""
        return max(register.address for register in self.registers) + 1

    def accepts(self, mnemonic: str) -> Range:
        """What a write of a writable register may carry, in its unit."""
        accepts = self.by_mnemonic[mnemonic].accepts
        if accepts is None:
            raise ValueError(f"{mnemonic} is read-only")
        return accepts

    def encode(self, mnemonic: str, value: float) -> int:
        """The register word of `value` for a write; ValueError (naming the register, the
        value and what it accepts) outside its range or to a read-only register."""
        register = self.by_mnemonic[mnemonic]
        if register.accepts is None:
            raise ValueError(f"{mnemonic} (address {register.address}) is read-only")
        if not register.accepts.contains(value):
            raise ValueError(
                f"{mnemonic} (address {register.address}) = {value:g} {register.unit} is "
                f"outside {register.accepts} {register.unit}".rstrip()
            )
        return round(value * register.scale) % _WORD

    def decode(self, mnemonic: str, word: int) -> float:
        """The value of a register word (signed 16 bits, divided by the scale)."""
        register = self.by_mnemonic[mnemonic]
        signed = word - _WORD if word >= _WORD // 2 else word
        return signed / register.scale if register.scale != 1 else float(signed)

    def table(self) -> str:
        """The page's table of the map."""
        return table(
            ("address", "mnemonic", "unit / encoding", "write accepts", "meaning"),
            (
                (
                    r.address,
                    f"`{r.mnemonic}`",
                    ", ".join(f"{c} {n}" for c, n in r.codes)
                    or (r.unit if r.scale == 1 else f"{1 / r.scale:g} {r.unit}").strip(),
                    f"{r.register_range} (counts)" if r.accepts is not None else "read-only",
                    r.doc,
                )
                for r in sorted(self.registers, key=lambda r: r.address)
            ),
        )


def _mode_codes() -> tuple[tuple[int, str], ...]:
    return tuple((int(mode), mode.name.lower()) for mode in InstrumentMode)


#: The Eurotherm 3200 series map, one decimal place, degrees Celsius, ramp rate per minute.
EUROTHERM_3200 = ControllerMap(
    family="Eurotherm 3200 series (2000-series low addresses), 16-bit scaled integers",
    registers=(
        ControllerRegister(mnemonic="PV.IN", address=1, unit="degC", scale=10, doc="process value"),
        ControllerRegister(
            mnemonic="TG.SP",
            address=2,
            unit="degC",
            scale=10,
            accepts=Range(0, 450),
            doc="target setpoint",
        ),
        ControllerRegister(
            mnemonic="WRK.OP",
            address=4,
            unit="%",
            scale=10,
            doc="working output (heater power, 0-100 %)",
        ),
        ControllerRegister(
            mnemonic="WKG.SP",
            address=5,
            unit="degC",
            scale=10,
            doc="working setpoint: moves to TG.SP at SP.RAT",
        ),
        ControllerRegister(
            mnemonic="A1",
            address=13,
            unit="degC",
            scale=10,
            accepts=Range(0, 500),
            doc="alarm 1 threshold (absolute high)",
        ),
        ControllerRegister(
            mnemonic="SP.RAT",
            address=35,
            unit="degC/min",
            scale=10,
            accepts=Range(0, 999.9),
            doc="setpoint rate limit, 0 = none (ramp units: per minute)",
        ),
        ControllerRegister(
            mnemonic="StAt",
            address=75,
            unit="bit field",
            doc="instrument status bits: 0 alarm 1, 1 alarm 2, 5 sensor break, 6 loop break",
        ),
        ControllerRegister(
            mnemonic="IM",
            address=199,
            codes=_mode_codes(),
            accepts=Range(0, 2),
            doc="instrument mode: standby switches the outputs off",
        ),
        ControllerRegister(
            mnemonic="ACK",
            address=274,
            unit="command",
            accepts=Range(0, 1),
            doc="write 1: acknowledge every latched alarm (reads 0)",
        ),
    ),
)


@dataclass(frozen=True)
class ControllerReading:
    """One controller's loop as one poll read it (`status` None: the status word was not
    read)."""

    process_c: float
    target_c: float
    output_pct: float
    working_setpoint_c: float
    status: InstrumentStatus | None = None

    def alarms(self) -> list[str]:
        """The status bits set, in the controller's words; an undeclared bit by its number."""
        word = int(self.status or 0)
        return [
            STATUS_TEXT.get(InstrumentStatus(1 << bit), f"status bit {bit}")
            for bit in range(16)
            if word >> bit & 1
        ]


class TemperatureController:
    """One controller of `controller_map` at unit `device_id` on a Modbus `link` (shared with
    the other devices of its line). Values are checked against the map before anything is
    sent; a refusal of the controller is the link's `CommandRefused`."""

    def __init__(
        self,
        link: ModbusLink,
        device_id: int,
        name: str,
        controller_map: ControllerMap = EUROTHERM_3200,
    ) -> None:
        self.link = link
        self.device_id = device_id
        self.name = name
        self.map = controller_map

    def _address(self, mnemonic: str) -> int:
        return self.map.by_mnemonic[mnemonic].address

    async def read(self, *, with_status: bool = True) -> ControllerReading:
        """PV.IN to WKG.SP in one read (FC3, addresses 1-5), then the status word unless
        `with_status` is False (a fast poll that watches the alarms elsewhere)."""
        first = self._address("PV.IN")
        words = await self.link.read_holding_registers(
            first, self._address("WKG.SP") - first + 1, device_id=self.device_id
        )
        status = None
        if with_status:
            (word,) = await self.link.read_holding_registers(
                self._address("StAt"), 1, device_id=self.device_id
            )
            status = InstrumentStatus(word)

        def value(mnemonic: str) -> float:
            return self.map.decode(mnemonic, words[self._address(mnemonic) - first])

        return ControllerReading(
            process_c=value("PV.IN"),
            target_c=value("TG.SP"),
            output_pct=value("WRK.OP"),
            working_setpoint_c=value("WKG.SP"),
            status=status,
        )

    async def request_mode(self) -> InstrumentMode:
        (word,) = await self.link.read_holding_registers(
            self._address("IM"), 1, device_id=self.device_id
        )
        try:
            return InstrumentMode(word)
        except ValueError:
            raise ProtocolError(
                self.link.tool,
                self.link.address,
                f"read {self.name} mode",
                f"IM {word} is not an instrument mode of the map",
            ) from None

    async def write(self, mnemonic: str, value: float) -> None:
        """Write one register (FC6), checked against the map first."""
        word = self.map.encode(mnemonic, value)
        await self.link.write_register(self._address(mnemonic), word, device_id=self.device_id)

    async def ramp_to(self, target_c: float, rate_c_per_min: float) -> None:
        """Ramp the working setpoint to `target_c` at `rate_c_per_min` (0: at once): SP.RAT,
        then TG.SP, both checked before either is sent."""
        self.map.encode("SP.RAT", rate_c_per_min)
        self.map.encode("TG.SP", target_c)
        await self.write("SP.RAT", rate_c_per_min)
        await self.write("TG.SP", target_c)

    async def set_mode(self, mode: InstrumentMode) -> None:
        await self.write("IM", int(mode))

    async def acknowledge_alarms(self) -> None:
        await self.write("ACK", 1)
