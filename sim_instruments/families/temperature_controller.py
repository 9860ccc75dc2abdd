"""Simulated temperature controllers of the map in `drivers/families/temperature_controller.py`.

A `SimTemperatureController` is one single-loop controller on a Modbus line: its register map
as a pymodbus `SimDevice` (several on one `ModbusToolServer` make an RS-485 line, one unit id
each), its loop (the working setpoint ramping to the target at the rate limit, the heater
output, the instrument mode, alarm 1 and the sensor break) and the body it heats, a
`HeaterPlant`. The tool that owns the controllers keeps their time: before every access it
brings them to the present with `step` (the `before_access` hook), so a virtual clock makes a
ten-minute ramp cost only the polls that watch it. An oven's zones and a plating bath's heater
are both made of these.

The wire rules are the controller family's: FC3 reads any address of the block, 0 to the map's
last (an address the map does not name reads 0; past the block, exception 2); a write to an
address the map does not name is exception 2 (illegal data address); a write to a read-only
register, or of a value outside a register's range, is exception 3 (illegal data value) and
changes nothing. The simulated controller takes auto and standby; manual (IM 1) is refused
with exception 3 (no packline driver uses it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from packline.drivers.families.temperature_controller import (
    EUROTHERM_3200,
    ControllerMap,
    InstrumentMode,
    InstrumentStatus,
)
from packline.drivers.roles.clean_room import AMBIENT_C


@dataclass(frozen=True)
class HeaterPlant:
    """The body a controller heats: first order, with a heater of limited power.

    Under control the process value follows the working setpoint with the closed loop's time
    constant, rising at most at `max_heat_rate_c_per_s` (full power) and falling no faster than
    the body cools with the heater off (`cooling_time_constant_s`, towards the line's room,
    `AMBIENT_C`, where it also starts). The output is the fraction of full power the step took
    beyond what cooling alone would give.
    """

    loop_time_constant_s: float = 20.0
    max_heat_rate_c_per_s: float = 3.0
    cooling_time_constant_s: float = 300.0

    def cooled(self, process_c: float, dt_s: float) -> float:
        """The process value after `dt_s` with the heater off."""
        decay = math.exp(-dt_s / self.cooling_time_constant_s)
        return AMBIENT_C + (process_c - AMBIENT_C) * decay

    def controlled(self, process_c: float, working_c: float, dt_s: float) -> tuple[float, float]:
        """The process value after `dt_s` under control to `working_c`, and the output %."""
        passive = self.cooled(process_c, dt_s)
        follow = working_c + (process_c - working_c) * math.exp(-dt_s / self.loop_time_constant_s)
        reached = max(min(follow, process_c + self.max_heat_rate_c_per_s * dt_s), passive)
        output = 100.0 * (reached - passive) / (self.max_heat_rate_c_per_s * dt_s)
        return reached, min(max(output, 0.0), 100.0)


class SimTemperatureController:
    """One simulated controller at unit `device_id`; `before_access` brings its owner (and so
    this controller) to the present before every Modbus access."""

    def __init__(
        self,
        device_id: int,
        plant: HeaterPlant,
        before_access: Callable[[], None],
        *,
        controller_map: ControllerMap = EUROTHERM_3200,
    ) -> None:
        self.device_id = device_id
        self.plant = plant
        self.before_access = before_access
        self.map = controller_map
        self.process_c = self.target_c = self.working_c = AMBIENT_C
        self.rate_c_per_min = 0.0
        self.alarm_high_c = self.map.by_mnemonic["A1"].accepts.maximum  # type: ignore[union-attr]
        self.mode = InstrumentMode.STANDBY
        self.output_pct = 0.0
        self.latched = InstrumentStatus(0)
        self.sensor_broken = False

    # ----------------------------------------------------------------- the loop

    @property
    def status(self) -> InstrumentStatus:
        """The instrument status word: latched alarms, and the sensor break while it lasts."""
        return self.latched | InstrumentStatus.SENSOR_BREAK if self.sensor_broken else self.latched

    def step(self, dt_s: float, power: bool = True) -> bool:
        """Run the loop for `dt_s` seconds; `power` False: the heater supply is cut (an oven's
        contactor open), so the body cools whatever the loop asks. (Whatever it reads of the
        controller is in `loop_state`, what it sets is what `take_step_of` copies.)

        Returns whether the step moved the loop (its working setpoint, process value or latched
        alarms). One that did not leaves the controller where a step of the same length and
        power from there leaves it again, bit for bit (the output too): a settled loop, at its
        setpoint or at the room."""
        before = self.working_c, self.process_c, self.latched
        if self.mode is not InstrumentMode.AUTO:
            self.working_c = self.process_c  # the working setpoint starts from PV on auto
        elif self.rate_c_per_min <= 0:
            self.working_c = self.target_c
        else:
            travel = self.rate_c_per_min * dt_s / 60.0
            gap = self.target_c - self.working_c
            self.working_c += math.copysign(min(abs(gap), travel), gap)
        if self.mode is InstrumentMode.AUTO and power and not self.sensor_broken:
            self.process_c, self.output_pct = self.plant.controlled(
                self.process_c, self.working_c, dt_s
            )
        else:
            self.process_c, self.output_pct = self.plant.cooled(self.process_c, dt_s), 0.0
        if self.process_c > self.alarm_high_c:
            self.latched |= InstrumentStatus.ALARM_1
        return (self.working_c, self.process_c, self.latched) != before

    def loop_state(self) -> tuple[object, ...]:
        """Everything `step` reads of the controller: two controllers equal in it (on one
        plant) step to the same state, which `take_step_of` copies instead of stepping again."""
        return (
            self.mode,
            self.target_c,
            self.rate_c_per_min,
            self.working_c,
            self.process_c,
            self.sensor_broken,
            self.alarm_high_c,
            self.latched,
            self.plant,
        )

    def take_step_of(self, stepped: SimTemperatureController) -> None:
        """Take the state `stepped` reached by its step, which started from this controller's
        `loop_state`: the same step's result, bit for bit, without working it out again."""
        self.working_c, self.process_c = stepped.working_c, stepped.process_c
        self.output_pct, self.latched = stepped.output_pct, stepped.latched

    def acknowledge(self) -> None:
        """Clear latched alarms whose cause has gone (alarm 1 stays while PV is above A1)."""
        if self.process_c <= self.alarm_high_c:
            self.latched &= ~InstrumentStatus.ALARM_1

    # ----------------------------------------------------------------- the wire

    def device(self) -> SimDevice:
        return SimDevice(
            id=self.device_id,
            simdata=[SimData(0, count=self.map.extent, datatype=DataType.REGISTERS)],
            action=self._on_access,
        )

    def words(self) -> dict[int, int]:
        """Every register of the map as the controller presents it now, by address."""
        values = {
            "PV.IN": self.process_c,
            "TG.SP": self.target_c,
            "WRK.OP": self.output_pct,
            "WKG.SP": self.working_c,
            "A1": self.alarm_high_c,
            "SP.RAT": self.rate_c_per_min,
            "StAt": int(self.status),
            "IM": int(self.mode),
            "ACK": 0,
        }
        return {
            self.map.by_mnemonic[name].address: round(value * self.map.by_mnemonic[name].scale)
            % (1 << 16)
            for name, value in values.items()
        }

    async def _on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.before_access()
        if set_values is not None:
            refusal = self.write(address, [int(v) for v in set_values])
            if refusal is not None:
                return refusal
        for at, word in self.words().items():
            if start_address <= at < start_address + len(registers):
                registers[at - start_address] = word
        return None

    def write(self, address: int, words: list[int]) -> ExcCodes | None:
        """A write of `words` from `address` (the served device's, or a GEM face's in process
        with the owner brought to the present): every register judged first, then all
        applied, or none; refused, the exception the wire answers."""
        values: list[tuple[str, float]] = []
        for offset, word in enumerate(words):
            register = self.map.by_address.get(address + offset)
            if register is None:
                return ExcCodes.ILLEGAL_ADDRESS
            accepted = register.register_range
            signed = word - (1 << 16) if word >= 1 << 15 else word
            if accepted is None or not accepted.contains(signed):
                return ExcCodes.ILLEGAL_VALUE
            if register.mnemonic == "IM" and signed == InstrumentMode.MANUAL:
                return ExcCodes.ILLEGAL_VALUE
            values.append((register.mnemonic, signed / register.scale))
        for mnemonic, value in values:
            self._apply(mnemonic, value)
        return None

    def _apply(self, mnemonic: str, value: float) -> None:
        if mnemonic == "TG.SP":
            self.target_c = value
        elif mnemonic == "SP.RAT":
            self.rate_c_per_min = value
        elif mnemonic == "A1":
            self.alarm_high_c = value
        elif mnemonic == "IM":
            self.mode = InstrumentMode(int(value))
        elif mnemonic == "ACK" and value:
            self.acknowledge()
