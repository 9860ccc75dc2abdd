"""Simulated plasma cleaner: a batch chamber PLC on Modbus, with its vacuum, RF and surface physics.

Speaks the register map of `docs/protocols/plasma-cleaner.md` (the constants come from the
driver module, the page's code form). Time is the line's clock: the chamber's state is
advanced lazily to `clock.now()` on every access, so a virtual clock makes a ten-minute clean
cost only the polls that watch it. Physics (rates from the process windows, configurable in
`PlasmaPhysics`) acts on the exposed metal of every loaded wafer's sites: bare pads, or bump
tips that stand above the resin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pymodbus.simulator import DataType, SimData

from packline.clock import Clock
from packline.drivers.equipment import validate_wafer_id
from packline.drivers.families.modbus_plc import SERIAL_REGISTERS
from packline.drivers.links.registers import (
    ascii_to_registers,
    registers_to_ascii,
    u32_to_registers,
)
from packline.drivers.plasma_cleaner import (
    ALARM_BITS,
    GAS_CODES,
    GAS_OF_CODE,
    INTERLOCK_BITS,
    MAX_SLOTS,
    MAX_STEPS,
    SLOT_ID_REGISTERS,
    STEP_STRIDE,
    Command,
    CommandError,
    LastResult,
    Reg,
)
from packline.drivers.roles.plasma_cleaner import ChamberState, Gas

from .families.modbus_plc import ModbusPlcSimulator
from .servers import ModbusTransport
from .twin import TwinStore, Workpiece

ATMOSPHERE_MTORR = 760_000.0
NOBLE_METALS = frozenset({"Au", "Pt", "Pd"})

#: Physical ranges the simulated PLC accepts for each recipe step field (register units).
STEP_FIELD_RANGES = {
    0: ("gas", 1, 3),
    1: ("flow_sccm", 20, 300),
    2: ("pressure_mtorr", 50, 500),
    3: ("rf_power_w", 100, 1000),
    4: ("time_ds", 300, 6000),
}

_ALARM_BIT_OF = {name: bit for bit, name in ALARM_BITS.items()}
_INTERLOCK_BIT_OF = {name: bit for bit, name in INTERLOCK_BITS.items()}


@dataclass(frozen=True)
class PlasmaPhysics:
    """Rates and constants of the chamber model; defaults from the process windows."""

    base_pressure_mtorr: float = 20.0
    base_pressure_ok_mtorr: float = 50.0
    leak_floor_mtorr: float = 200.0
    pump_time_constant_s: float = 8.0
    pump_down_limit_s: float = 300.0
    vent_time_s: float = 30.0
    reflected_fraction: float = 0.015
    mismatch_reflected_fraction: float = 0.25
    reflected_limit_fraction: float = 0.10
    #: organic residue removed per W·s of RF: O2 0.1 nm, Ar and forming gas 0.01 nm
    residue_nm_per_ws: dict[Gas, float] | None = None
    #: Ar sputter of metal oxide, nm/min at 100 W and at 1000 W (linear between)
    ar_oxide_nm_per_min: tuple[float, float] = (1.0, 10.0)
    #: chemical reduction of oxide in forming gas, nm/min at 100 W and at 1000 W (est)
    reducing_oxide_nm_per_min: tuple[float, float] = (2.0, 6.0)
    #: O2 plasma grows oxide on non-noble metals towards this thickness (est)
    o2_oxide_saturation_nm: float = 5.0
    o2_oxide_time_constant_s: float = 120.0
    #: polymer (resin) etch in O2, µm/min at 100 W and at 1000 W
    o2_resin_um_per_min: tuple[float, float] = (0.1, 1.0)
    #: RF dose of one chamber run that activates the exposed metal (003:9) (est)
    activation_dose_ws: float = 1500.0

    def residue_rate(self, gas: Gas) -> float:
        rates = self.residue_nm_per_ws or {Gas.O2: 0.1, Gas.AR: 0.01, Gas.FORMING_GAS: 0.01}
        return rates[gas]


def _between(bounds: tuple[float, float], power_w: float) -> float:
    low, high = bounds
    return low + (high - low) * (min(max(power_w, 100.0), 1000.0) - 100.0) / 900.0


def expose_to_plasma(
    workpiece: Workpiece,
    gas: Gas,
    power_w: float,
    duration_s: float,
    physics: PlasmaPhysics,
    run_dose_ws: float,
) -> None:
    """Apply `duration_s` of plasma to a workpiece: residue, oxide, resin and activation.

    The exposed metal is a bare pad, a bump tip above the resin, or the bottom of an open via.
    O2 etches resin isotropically: the top surface and the bottom of every concave portion
    come down together, so the resin left at a concave bottom is removed and the via opens
    onto the metal (the dry etch of 002:4). `run_dose_ws` is the RF dose of the whole chamber
    run so far, this exposure included; activation (003:9) needs enough of it.
    """
    exposed = (
        (workpiece.resin_um <= 0)
        | (workpiece.bump_height_um > workpiece.resin_um)
        | workpiece.via_open
    )
    dose_ws = power_w * duration_s
    residue = workpiece.residue_nm
    residue[exposed] = np.maximum(residue[exposed] - physics.residue_rate(gas) * dose_ws, 0)
    oxide = workpiece.oxide_nm
    metal = workpiece.bump_material or workpiece.spec.pad_metal
    if gas is Gas.O2:
        if metal not in NOBLE_METALS:
            growth = 1 - math.exp(-duration_s / physics.o2_oxide_time_constant_s)
            oxide[exposed] += (physics.o2_oxide_saturation_nm - oxide[exposed]) * growth
        resin = workpiece.resin_um
        covered = resin > 0
        etch_um = _between(physics.o2_resin_um_per_min, power_w) * duration_s / 60
        resin[covered] = np.maximum(resin[covered] - etch_um, 0)
        concave = workpiece.via_depth_um > 0
        np.minimum(workpiece.via_depth_um, resin, out=workpiece.via_depth_um)
        workpiece.via_open |= concave & (workpiece.via_depth_um >= resin)
    else:
        per_min = (
            physics.ar_oxide_nm_per_min if gas is Gas.AR else physics.reducing_oxide_nm_per_min
        )
        removal_nm = _between(per_min, power_w) * duration_s / 60
        oxide[exposed] = np.maximum(oxide[exposed] - removal_nm, 0)
    if run_dose_ws >= physics.activation_dose_ws:
        workpiece.activated[exposed] = True


@dataclass
class _Run:
    """A recipe in the chamber: its steps and where it is."""

    steps: list[tuple[Gas, int, int, int, float]]  # gas, flow, pressure, power, time_s
    started_s: float
    done_s: float = 0.0  # process seconds already applied to the wafers
    dose_ws: float = 0.0  # RF energy delivered so far

    @property
    def total_s(self) -> float:
        return sum(step[4] for step in self.steps)

    def position(self, elapsed_s: float) -> tuple[int, float]:
        """Step index and seconds left in it at `elapsed_s` into the run."""
        end = 0.0
        for index, step in enumerate(self.steps):
            end += step[4]
            if elapsed_s < end:
                return index, end - elapsed_s
        return len(self.steps) - 1, 0.0


class SimPlasmaCleaner(ModbusPlcSimulator[CommandError]):
    """The simulated chamber behind a Modbus server (TCP by default, or RTU)."""

    product_code = "PC-4"

    faults = {
        "rf_mismatch": "matching network detuned: reflected power far above its limit",
        "chamber_leak": "chamber leaks: base pressure is never reached",
        "gas_supply": "process gas supply lost: no flow",
        "door_switch": "door switch opens during processing",
        "throttle_valve": "throttle valve stuck: chamber pressure leaves its tolerance",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int = 4,
        device_id: int = 1,
        serial_number: str = "PC4-0001",
        transport: ModbusTransport = "tcp",
        physics: PlasmaPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, device_id=device_id, transport=transport)
        if not 1 <= capacity <= MAX_SLOTS:
            raise ValueError(f"simulated {name}: capacity {capacity} outside 1-{MAX_SLOTS}")
        self.capacity = capacity
        self.serial_number = serial_number
        self.physics = physics or PlasmaPhysics()
        self.chamber = ChamberState.VENTED
        self.door_closed = False
        self.slots: list[str | None] = [None] * capacity
        self.alarms: set[str] = set()
        self.recipes_completed = 0
        self.last_result = LastResult.NONE
        self.command_error = CommandError.NONE
        self.run: _Run | None = None
        self.last_elapsed_s = 0.0
        self._phase_started_s = self.clock.now()
        self._pressure_mtorr = ATMOSPHERE_MTORR

    # ----------------------------------------------------------------- the wire

    def register_blocks(self) -> list[SimData]:
        return [
            SimData(
                0,
                count=40 + SLOT_ID_REGISTERS * MAX_SLOTS,
                datatype=DataType.REGISTERS,
                readonly=True,
            ),
            SimData(
                Reg.STEP_COUNT, count=STEP_STRIDE * (MAX_STEPS + 1), datatype=DataType.REGISTERS
            ),
            SimData(Reg.COMMAND, count=10, datatype=DataType.REGISTERS),
        ]

    def keep_refusal(self, refusal: CommandError) -> None:
        self.command_error = refusal

    def judge_write(
        self, start: int, address: int, values: list[int], registers: list[int]
    ) -> CommandError | None:
        end = address + len(values)
        if address <= Reg.STEP_COUNT < end or Reg.STEPS <= address < Reg.COMMAND:
            if self.chamber is ChamberState.PROCESSING:
                return CommandError.WRONG_STATE
            for offset, value in enumerate(values):
                refusal = self._check_recipe_register(address + offset, value)
                if refusal is not None:
                    return refusal
            return None
        if address <= Reg.COMMAND < end:
            # parameters written with the command in one request count before it runs
            for offset, value in enumerate(values):
                registers[address + offset - start] = value
            code = values[Reg.COMMAND - address]
            if code not in Command._value2member_map_:
                return CommandError.UNKNOWN_COMMAND
            return self._execute(Command(code), registers, start)
        return None

    def _check_recipe_register(self, address: int, value: int) -> CommandError | None:
        if address == Reg.STEP_COUNT:
            return None if 1 <= value <= MAX_STEPS else CommandError.OUT_OF_RANGE
        if address < Reg.STEPS:
            return None  # 201-209: not in the map, any value
        field = (address - Reg.STEPS) % STEP_STRIDE
        if field in STEP_FIELD_RANGES:
            _, low, high = STEP_FIELD_RANGES[field]
            if not low <= value <= high:
                return CommandError.OUT_OF_RANGE
        return None

    def render(self, start: int, registers: list[int]) -> None:
        def put(address: int, values: list[int]) -> None:
            registers[address - start : address - start + len(values)] = values

        status = self.status_registers()
        put(Reg.CHAMBER_STATE, status)
        for slot, wafer_id in enumerate(self.slots):
            put(
                Reg.SLOT_IDS + SLOT_ID_REGISTERS * slot,
                ascii_to_registers(wafer_id or "", SLOT_ID_REGISTERS),
            )

    def status_registers(self) -> list[int]:
        """Registers 0-27 (status and serial number) as the tool presents them now."""
        step_index, remaining_s, gas, flow, power = 0, 0.0, 0, 0, 0
        if self.chamber is ChamberState.PROCESSING and self.run is not None:
            index, remaining_s = self.run.position(self.run.done_s)
            gas_code, flow, _, power, _ = self._step_registers(self.run, index)
            step_index, gas = index + 1, gas_code
            if "gas_supply" in self.injected:
                flow = 0
        elif self.last_result is LastResult.COMPLETED and self.run is not None:
            step_index = len(self.run.steps)
        reflected = round(power * self._reflected_fraction()) if power else 0
        elapsed_ds = round(self.last_elapsed_s * 10)
        occupied = sum(1 << i for i, w in enumerate(self.slots) if w is not None)
        return [
            int(self.chamber),
            sum(1 << _ALARM_BIT_OF[name] for name in self.alarms),
            sum(1 << _INTERLOCK_BIT_OF[name] for name, ok in self.interlocks().items() if ok),
            *u32_to_registers(round(self._pressure_mtorr)),
            power,
            reflected,
            flow,
            gas,
            step_index,
            round(remaining_s * 10),
            *u32_to_registers(elapsed_ds),
            self.recipes_completed % 65536,
            int(self.last_result),
            int(self.door_closed),
            self.capacity,
            occupied,
            round(self.physics.base_pressure_mtorr),
            int(self.command_error),
            *ascii_to_registers(self.serial_number, SERIAL_REGISTERS),
        ]

    @staticmethod
    def _step_registers(run: _Run, index: int) -> tuple[int, int, int, int, float]:
        gas, flow, pressure, power, time_s = run.steps[index]
        return GAS_CODES[gas], flow, pressure, power, time_s

    def _reflected_fraction(self) -> float:
        if "rf_mismatch" in self.injected:
            return self.physics.mismatch_reflected_fraction
        return self.physics.reflected_fraction

    def interlocks(self) -> dict[str, bool]:
        return {
            "door_closed": self.door_closed,
            "base_pressure": self._pressure_mtorr <= self.physics.base_pressure_ok_mtorr,
            "gas_supply": "gas_supply" not in self.injected,
            "rf_permissive": not self.alarms and self.door_closed,
        }

    # ----------------------------------------------------------------- commands

    def _execute(self, command: Command, registers: list[int], start: int) -> CommandError | None:
        self.command_error = CommandError.NONE
        now = self.clock.now()
        if command is Command.RESET_ALARMS:
            # Alarms are latched; a reset clears them all. A cause that persists (a leak, a
            # detuned match) shows again in the interlocks or faults the next run.
            self.alarms.clear()
            if self.chamber is ChamberState.FAULT:
                evacuated = self._pressure_mtorr <= self.physics.base_pressure_ok_mtorr
                self._enter(ChamberState.EVACUATED if evacuated else ChamberState.VENTING, now)
            return None
        if command is Command.ABORT:
            if self.chamber is ChamberState.PROCESSING:
                self._finish_run(LastResult.ABORTED, now)
            elif self.chamber is ChamberState.PUMPING:
                self._enter(ChamberState.VENTING, now)
            return None
        if self.alarms:
            return CommandError.ALARM_ACTIVE
        if command is Command.CLOSE_DOOR:
            if self.chamber is not ChamberState.VENTED:
                return CommandError.WRONG_STATE
            self.door_closed = True
            return None
        if command is Command.OPEN_DOOR:
            if self.chamber is not ChamberState.VENTED:
                return CommandError.WRONG_STATE
            self.door_closed = False
            return None
        if command in (Command.LOAD_WAFER, Command.UNLOAD_WAFER):
            return self._transfer(command, registers, start)
        if command is Command.PUMP_DOWN:
            if self.chamber is not ChamberState.VENTED:
                return CommandError.WRONG_STATE
            if not self.door_closed:
                return CommandError.INTERLOCK_OPEN
            self._enter(ChamberState.PUMPING, now)
            return None
        if command is Command.VENT:
            if self.chamber not in (ChamberState.EVACUATED, ChamberState.PUMPING):
                return CommandError.WRONG_STATE
            self._enter(ChamberState.VENTING, now)
            return None
        if command is Command.START_RECIPE:
            return self._start_recipe(registers, start, now)
        return CommandError.UNKNOWN_COMMAND

    def _transfer(self, command: Command, registers: list[int], start: int) -> CommandError | None:
        if self.chamber is not ChamberState.VENTED or self.door_closed:
            return CommandError.WRONG_STATE
        slot = registers[Reg.COMMAND_SLOT - start]
        if not 0 <= slot < self.capacity:
            return CommandError.OUT_OF_RANGE
        if command is Command.UNLOAD_WAFER:
            if self.slots[slot] is None:
                return CommandError.SLOT_EMPTY
            self.slots[slot] = None
            return None
        if self.slots[slot] is not None:
            return CommandError.SLOT_OCCUPIED
        block = registers[
            Reg.COMMAND_WAFER_ID - start : Reg.COMMAND_WAFER_ID - start + SLOT_ID_REGISTERS
        ]
        try:
            wafer_id = registers_to_ascii(block)
            validate_wafer_id(wafer_id)
        except ValueError:
            return CommandError.BAD_WAFER_ID
        if wafer_id in self.slots:
            return CommandError.BAD_WAFER_ID
        self.twin.get(wafer_id)
        self.slots[slot] = wafer_id
        return None

    def _start_recipe(self, registers: list[int], start: int, now: float) -> CommandError | None:
        if self.chamber is not ChamberState.EVACUATED:
            return CommandError.WRONG_STATE
        if not all(
            self.interlocks()[name] for name in ("door_closed", "base_pressure", "gas_supply")
        ):
            return CommandError.INTERLOCK_OPEN
        count = registers[Reg.STEP_COUNT - start]
        if not 1 <= count <= MAX_STEPS:
            return CommandError.OUT_OF_RANGE
        steps = []
        for index in range(count):
            base = Reg.STEPS + STEP_STRIDE * index - start
            gas_code, flow, pressure, power, time_ds = registers[base : base + 5]
            for field, value in enumerate((gas_code, flow, pressure, power, time_ds)):
                if self._check_recipe_register(Reg.STEPS + STEP_STRIDE * index + field, value):
                    return CommandError.OUT_OF_RANGE
            steps.append((GAS_OF_CODE[gas_code], flow, pressure, power, time_ds / 10))
        self.run = _Run(steps, started_s=now)
        self.last_elapsed_s = 0.0
        self._enter(ChamberState.PROCESSING, now)
        return None

    # ----------------------------------------------------------------- time and physics

    def _enter(self, chamber: ChamberState, now: float) -> None:
        self.chamber = chamber
        self._phase_started_s = now
        if chamber is ChamberState.VENTED:
            self._pressure_mtorr = ATMOSPHERE_MTORR
        elif (
            chamber is ChamberState.EVACUATED
            and self._pressure_mtorr > self.physics.base_pressure_ok_mtorr
        ):
            self._pressure_mtorr = self.physics.base_pressure_mtorr

    def _fault(self, alarm: str, now: float) -> None:
        self.alarms.add(alarm)
        if self.chamber is ChamberState.PROCESSING:
            self._finish_run(LastResult.FAULTED, now)
        self._enter(ChamberState.FAULT, now)

    def advance(self) -> None:
        """Bring the chamber to the clock's present time."""
        now = self.clock.now()
        if self.chamber is ChamberState.PUMPING:
            self._advance_pumping(now)
        elif self.chamber is ChamberState.VENTING:
            elapsed = now - self._phase_started_s
            fraction = min(elapsed / self.physics.vent_time_s, 1.0)
            self._pressure_mtorr = self.physics.base_pressure_mtorr + fraction * ATMOSPHERE_MTORR
            if fraction >= 1.0:
                self._enter(ChamberState.VENTED, now)
        elif self.chamber is ChamberState.PROCESSING:
            self._advance_processing(now)

    def _advance_pumping(self, now: float) -> None:
        physics = self.physics
        elapsed = now - self._phase_started_s
        floor = (
            physics.leak_floor_mtorr
            if "chamber_leak" in self.injected
            else physics.base_pressure_mtorr
        )
        self._pressure_mtorr = floor + (ATMOSPHERE_MTORR - floor) * math.exp(
            -elapsed / physics.pump_time_constant_s
        )
        if self._pressure_mtorr <= physics.base_pressure_ok_mtorr:
            self._enter(ChamberState.EVACUATED, now)
        elif elapsed >= physics.pump_down_limit_s:
            self._fault("BASE_PRESSURE_NOT_REACHED", now)

    def _advance_processing(self, now: float) -> None:
        run = self.run
        assert run is not None
        if "door_switch" in self.injected:
            self._fault("DOOR_OPENED_IN_PROCESS", now)
            return
        if "gas_supply" in self.injected:
            self._fault("GAS_FLOW", now)
            return
        if "throttle_valve" in self.injected:
            self._fault("PRESSURE_CONTROL", now)
            return
        if self._reflected_fraction() > self.physics.reflected_limit_fraction:
            # the page: reflected power above 10 % of forward power, whatever detuned the match
            self._fault("REFLECTED_POWER", now)
            return
        target = min(now - run.started_s, run.total_s)
        wafers = [self.twin.get(w) for w in self.slots if w is not None]
        while run.done_s < target:
            index, left_s = run.position(run.done_s)
            gas, _, pressure, power, _ = run.steps[index]
            chunk = min(left_s, target - run.done_s)
            self._pressure_mtorr = float(pressure)
            run.dose_ws += power * chunk
            for workpiece in wafers:
                expose_to_plasma(workpiece, gas, power, chunk, self.physics, run.dose_ws)
            run.done_s += chunk
        self.last_elapsed_s = run.done_s
        if run.done_s >= run.total_s:
            for workpiece in wafers:
                workpiece.record(
                    self.name,
                    "plasma clean",
                    now,
                    recipe=" + ".join(f"{s[0].value} {s[3]} W {s[4]:g} s" for s in run.steps),
                )
            self._finish_run(LastResult.COMPLETED, now)

    def _finish_run(self, result: LastResult, now: float) -> None:
        self.last_result = result
        self.recipes_completed += 1
        if self.run is not None:
            self.last_elapsed_s = self.run.done_s
        self._pressure_mtorr = self.physics.base_pressure_mtorr
        self._enter(ChamberState.EVACUATED, now)
