"""Simulated plasma cleaner: a batch chamber PLC on Modbus, with its vacuum and RF.

Speaks the register map of `docs/protocols/plasma-cleaner.md`, declared in
`packline.drivers.specs.plasma_cleaner`; the family's wire side renders the status, judges
writes and commands in the family's order, and this file keeps the commands' semantics and the
chamber's pressure. Time is the line's clock: the chamber's state is
advanced lazily to `clock.now()` on every access, so a virtual clock makes a ten-minute clean
cost only the polls that watch it. The surface physics (on the exposed metal of every loaded
wafer's sites: bare pads, or bump tips that stand above the resin) and the model's constants
(`PlasmaPhysics`) are in `sim_instruments/physics/plasma_cleaner.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.families.chamber_map import STEP_STRIDE
from packline.drivers.families.plc_map import Reason, field
from packline.drivers.roles.plasma_cleaner import ChamberState, Gas, LastResult
from packline.drivers.specs.plasma_cleaner import SPEC

from .families.modbus_plc import Refused
from .families.plc_chamber import PlcChamberSimulator
from .physics.plasma_cleaner import PlasmaPhysics, expose_to_plasma
from .servers import ModbusTransport
from .twin import TwinStore

ATMOSPHERE_MTORR = 760_000.0

_STEPS = field(SPEC, "steps")
_GAS = field(SPEC, "gas")


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


class SimPlasmaCleaner(PlcChamberSimulator):
    """The simulated chamber behind a Modbus server (TCP by default, or RTU)."""

    spec = SPEC
    job_operation = "plasma clean"

    faults = {
        "rf_mismatch": "matching network detuned: reflected power far above its limit",
        "chamber_leak": "chamber leaks: base pressure is never reached",
        "gas_supply": "process gas supply lost: no flow",
        "door_switch": "door switch opens during processing",
        "throttle_valve": "throttle valve stuck: chamber pressure leaves its tolerance",
        "rf_calibration": "RF generator out of calibration: it delivers a third of its "
        "setpoint while its forward power reads the setpoint (no alarm)",
    }
    fault_opens = {"gas_supply": "gas_supply"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int = 4,
        device_id: int = 1,
        serial_number: str = "PC-4-0001",
        transport: ModbusTransport = "tcp",
        physics: PlasmaPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            capacity=capacity,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        self.physics = physics or PlasmaPhysics()
        self.run: _Run | None = None
        self.last_elapsed_s = 0.0
        self._pressure_mtorr = ATMOSPHERE_MTORR

    # ----------------------------------------------------------------- the wire

    def status_values(self) -> dict[str, object]:
        """The status as the chamber presents it now (the family renders the rest)."""
        remaining_s, flow, power = 0.0, 0, 0
        if self.chamber is ChamberState.PROCESSING and self.run is not None:
            index, remaining_s = self.run.position(self.run.done_s)
            _, flow, _, power, _ = self.run.steps[index]
            if "gas_supply" in self.injected:
                flow = 0
        return {
            **self.counted_status(),
            "PRESSURE": round(self._pressure_mtorr),
            "RF_FORWARD": power,
            "RF_REFLECTED": round(power * self._reflected_fraction()) if power else 0,
            "GAS_FLOW": flow,
            "STEP_REMAINING": remaining_s,
            "ELAPSED": self.last_elapsed_s,
            "BASE_PRESSURE": round(self.physics.base_pressure_mtorr),
        }

    def counted_status(self) -> dict[str, object]:
        """The chamber's state, run counter and result, door and slots, and the step running
        (its number and gas; the last step's number after a completed run)."""
        step_index, gas = 0, 0
        if self.chamber is ChamberState.PROCESSING and self.run is not None:
            index, _ = self.run.position(self.run.done_s)
            step_index, gas = index + 1, _GAS.code_of(self.run.steps[index][0].value)
        elif self.last_result is LastResult.COMPLETED and self.run is not None:
            step_index = len(self.run.steps)
        return {**self.chamber_values(), "STEP_INDEX": step_index, "GAS_ACTUAL": gas}

    def _reflected_fraction(self) -> float:
        if "rf_mismatch" in self.injected:
            return self.physics.mismatch_reflected_fraction
        return self.physics.reflected_fraction

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "door_closed": self.door_closed,
            "base_pressure": self._pressure_mtorr <= self.physics.base_pressure_ok_mtorr,
            "rf_permissive": not self.alarms and self.door_closed,
        }

    # ----------------------------------------------------------------- commands

    def start_recipe(self, registers: list[int], start: int, now: float) -> Refused | None:
        first = _STEPS.address()
        count = registers[first - start]
        steps = range(_GAS.address(), _GAS.address(0) + STEP_STRIDE * count)
        if self.out_of_range(first, count) or self.first_out_of_range(registers, start, steps):
            return self.refused(Reason.OUT_OF_RANGE)
        run_steps = []
        for index in range(count):
            step = self.setpoint_values(registers, start, index)
            run_steps.append(
                (
                    Gas(str(step["gas"])),
                    round(float(step["flow_sccm"])),
                    round(float(step["pressure_mtorr"])),
                    round(float(step["rf_power_w"])),
                    float(step["time_s"]),
                )
            )
        self.run = _Run(run_steps, started_s=now)
        self.last_elapsed_s = 0.0
        self.enter(ChamberState.PROCESSING)
        return None

    # ----------------------------------------------------------------- time and physics

    def evacuated(self) -> bool:
        return self._pressure_mtorr <= self.physics.base_pressure_ok_mtorr

    def enter(self, chamber: ChamberState) -> None:
        super().enter(chamber)
        if chamber is ChamberState.VENTED:
            self._pressure_mtorr = ATMOSPHERE_MTORR
        elif chamber is ChamberState.EVACUATED and not self.evacuated():
            self._pressure_mtorr = self.physics.base_pressure_mtorr

    def next_change_s(self, now: float) -> float:
        """When the chamber changes next by itself, as its model tells (a held read looks
        then): a pump-down at the base pressure (or its limit), a venting chamber past the
        base pressure (its interlock opens) and at the vent's end, a step's end; the scan's
        when the model foresees nothing (resting, a leak's floor above the base pressure that
        the limit ends)."""
        physics = self.physics
        change_s: float | None = None
        if self.chamber is ChamberState.PUMPING:
            since_s = physics.pump_down_limit_s
            floor = self._pump_floor_mtorr()
            if floor < physics.base_pressure_ok_mtorr:
                since_s = min(
                    since_s,
                    physics.pump_time_constant_s
                    * math.log(
                        (ATMOSPHERE_MTORR - floor) / (physics.base_pressure_ok_mtorr - floor)
                    ),
                )
            change_s = self.phase_started_s + since_s
        elif self.chamber is ChamberState.VENTING:
            since_s = physics.vent_time_s
            if self.evacuated():  # until the base pressure's interlock opens
                since_s *= (
                    physics.base_pressure_ok_mtorr - physics.base_pressure_mtorr
                ) / ATMOSPHERE_MTORR
            change_s = self.phase_started_s + since_s
        elif self.chamber is ChamberState.PROCESSING and self.run is not None:
            _, left_s = self.run.position(self.run.done_s)
            change_s = self.run.started_s + self.run.done_s + left_s
        return self.foreseen_change_s(change_s, now)

    def _pump_floor_mtorr(self) -> float:
        """The pressure the pumps bring the chamber down to (a leak's, above the base)."""
        physics = self.physics
        if "chamber_leak" in self.injected:
            return physics.leak_floor_mtorr
        return physics.base_pressure_mtorr

    def advance(self) -> None:
        """Bring the chamber to the clock's present time."""
        now = self.clock.now()
        if self.chamber is ChamberState.PUMPING:
            self._advance_pumping(now)
        elif self.chamber is ChamberState.VENTING:
            elapsed = now - self.phase_started_s
            fraction = min(elapsed / self.physics.vent_time_s, 1.0)
            self._pressure_mtorr = self.physics.base_pressure_mtorr + fraction * ATMOSPHERE_MTORR
            if fraction >= 1.0:
                self.enter(ChamberState.VENTED)
        elif self.chamber is ChamberState.PROCESSING:
            self._advance_processing(now)

    def _advance_pumping(self, now: float) -> None:
        physics = self.physics
        elapsed = now - self.phase_started_s
        floor = self._pump_floor_mtorr()
        self._pressure_mtorr = floor + (ATMOSPHERE_MTORR - floor) * math.exp(
            -elapsed / physics.pump_time_constant_s
        )
        if self._pressure_mtorr <= physics.base_pressure_ok_mtorr:
            self.enter(ChamberState.EVACUATED)
        elif elapsed >= physics.pump_down_limit_s:
            self.fault("BASE_PRESSURE_NOT_REACHED")

    def _advance_processing(self, now: float) -> None:
        run = self.run
        assert run is not None
        if "door_switch" in self.injected:
            self.fault("DOOR_OPENED_IN_PROCESS")
            return
        if "gas_supply" in self.injected:
            self.fault("GAS_FLOW")
            return
        if "throttle_valve" in self.injected:
            self.fault("PRESSURE_CONTROL")
            return
        if self._reflected_fraction() > self.physics.reflected_limit_fraction:
            # the page: reflected power above 10 % of forward power, whatever detuned the match
            self.fault("REFLECTED_POWER")
            return
        target = min(now - run.started_s, run.total_s)
        wafers = [self.twin.get(w) for w in self.slots if w is not None]
        delivered = (
            self.physics.miscalibrated_delivered_fraction
            if "rf_calibration" in self.injected
            else 1.0
        )
        while run.done_s < target:
            index, left_s = run.position(run.done_s)
            gas, _, pressure, setpoint_w, _ = run.steps[index]
            power = setpoint_w * delivered
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
                    self.job_operation,
                    now,
                    recipe=" + ".join(f"{s[0].value} {s[3]} W {s[4]:g} s" for s in run.steps),
                )
            self.finish_run(LastResult.COMPLETED)

    def finish_run(self, result: LastResult) -> None:
        if self.run is not None:
            self.last_elapsed_s = self.run.done_s
        self._pressure_mtorr = self.physics.base_pressure_mtorr
        super().finish_run(result)
