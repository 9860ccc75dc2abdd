"""Simulated deposition tool: a batch vacuum chamber PLC on Modbus with sputter targets, an
e-beam evaporator, a PECVD electrode and a crystal monitor.

Speaks the register map of `docs/protocols/deposition.md`, declared in
`packline.drivers.specs.deposition`; the family's wire side renders the status and judges
writes and commands, the shared chamber (`families/plc_chamber.py`) keeps the door, slots and
the chamber's commands, and this file keeps the vacuum (roughing to the crossover, then the
turbo towards its floor), the recipe's checks and the run: each step grows its film at the
physics' rate until its time or its crystal end point, and a finished (or interrupted) step's
film is laid on every loaded wafer. Time is the line's clock, advanced lazily on every access.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packline.clock import Clock
from packline.drivers.families import plc_map
from packline.drivers.families.chamber_map import STEP_STRIDE
from packline.drivers.families.plc_map import PlcStatus, Reason
from packline.drivers.roles.deposition import (
    ChamberState,
    DepositionStep,
    LastResult,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.specs.deposition import (
    ION_GAUGE_TOP_UTORR,
    MAX_SOURCES,
    SPEC,
)

from .families.modbus_plc import Refused
from .families.plc_chamber import PlcChamberSimulator
from .physics.deposition import ATMOSPHERE_TORR, DepositionPhysics, deposit_film
from .servers import ModbusTransport
from .twin import TwinStore

#: Time (and its relative thickness) below which a step counts as at its end (float rounding).
_EPSILON_S = 1e-9
#: How far past a change the model foresees it says the change comes, s: the pressure computed
#: at a curve's crossing, or a clock's sum of now and a wait, may fall short by a rounding.
_ROUNDING_S = 1e-6

_ION_GAUGE = SPEC.status_by_name["HIGH_VACUUM"]
assert isinstance(_ION_GAUGE, PlcStatus)
#: The ion gauge's register steps a uTorr (its resolution's inverse).
_ION_GAUGE_SCALE: float = _ION_GAUGE.scale
_STEPS = plc_map.field(SPEC, "steps")
_METHOD = plc_map.field(SPEC, "method")
_MATERIAL = plc_map.field(SPEC, "material")

#: The sources of the simulated tool unless given: five sputter targets, four evaporator
#: pockets and the PECVD electrode's two chemistries.
DEFAULT_SOURCES: tuple[tuple[Method, Material], ...] = (
    *((Method.SPUTTER, m) for m in (Material.TI, Material.TIW, Material.CU, Material.NI)),
    (Method.SPUTTER, Material.AU),
    *((Method.EVAPORATE, m) for m in (Material.TI, Material.CU, Material.NI, Material.AU)),
    (Method.CVD, Material.SIO2),
    (Method.CVD, Material.SIN),
)


@dataclass
class _Run:
    """A recipe in the chamber: its steps and where it is."""

    steps: list[DepositionStep]
    base_torr: float  # the high vacuum when the run started
    started_s: float
    done_s: float = 0.0  # process seconds already run
    index: int = 0  # the step running
    step_s: float = 0.0  # seconds into it
    film_nm: float = 0.0  # the crystal monitor's film of the step running
    thickness_nm: list[float] = field(default_factory=list)  # of the finished steps

    @property
    def step(self) -> DepositionStep:
        return self.steps[self.index]


class SimDepositionTool(PlcChamberSimulator):
    """The simulated deposition chamber behind a Modbus server (TCP by default, or RTU)."""

    spec = SPEC
    job_operation = "deposition"

    faults = {
        "target_arcing": "a sputter target arcs: the arc rate is far above its limit",
        "chamber_leak": "the chamber leaks: the high vacuum stalls at 2e-5 Torr",
        "roughing_pump": "the roughing pump fails: 50 mTorr is never reached",
        "gas_supply": "the process gas supply is lost: no flow",
        "cooling_water": "the sources' cooling water stops",
        "exhaust": "the toxic-gas exhaust stops",
        "door_switch": "the door switch opens during processing",
        "crystal_failure": "the crystal monitor's quartz fails: no reading",
    }
    fault_opens = {
        "gas_supply": "process_gas",
        "cooling_water": "cooling_water",
        "exhaust": "exhaust",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        capacity: int = 4,
        device_id: int = 1,
        serial_number: str = "TF-3-0001",
        transport: ModbusTransport = "tcp",
        physics: DepositionPhysics | None = None,
        sources: Sequence[tuple[Method, Material]] = DEFAULT_SOURCES,
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
        if len(sources) > MAX_SOURCES:
            raise ValueError(f"simulated {name}: {len(sources)} sources, at most {MAX_SOURCES}")
        self.physics = physics or DepositionPhysics()
        self.sources = [(Method(m), Material(s)) for m, s in sources]
        #: The sources as the status block codes them, coded once (the sources stay).
        self._source_codes = {
            "SOURCE_METHOD": tuple(_METHOD.code_of(m.value) for m, _ in self.sources),
            "SOURCE_MATERIAL": tuple(_MATERIAL.code_of(s.value) for _, s in self.sources),
        }
        self.run: _Run | None = None
        self.last_elapsed_s = 0.0
        self.last_thickness_nm: list[float] = []
        self.crystal_life_pct = 100.0
        self.base_pressure_utorr = 0.0  # register 201 as last written
        self._pressure_torr = ATMOSPHERE_TORR
        self._high_vacuum_from_torr = ATMOSPHERE_TORR

    # ----------------------------------------------------------------- the wire

    def status_values(self) -> dict[str, object]:
        """The status as the chamber presents it now (the family renders the rest)."""
        method, material, power, flow, rate = 0, 0, 0.0, 0.0, 0.0
        step_index, remaining_s = 0, 0.0
        film_nm = self.last_thickness_nm[-1] if self.last_thickness_nm else 0.0
        run = self.run
        if self.chamber is ChamberState.PROCESSING and run is not None:
            step = run.step
            method = _METHOD.code_of(step.method.value)
            material = _MATERIAL.code_of(step.material.value)
            power = step.power_w if step.method is not Method.EVAPORATE else self._ebeam_w()
            flow = 0.0 if "gas_supply" in self.injected else step.flow_sccm
            rate = self._rate_nm_s(step)
            step_index, film_nm = run.index + 1, run.film_nm
            remaining_s = self._step_left_s(run)
        elif self.last_result is LastResult.COMPLETED and run is not None:
            step_index = len(run.steps)
        return {
            **self.chamber_values(),
            "PRESSURE": self._pressure_torr * 1000,
            "HIGH_VACUUM": self._ion_gauge_utorr(),
            "SOURCE_POWER": round(power),
            "GAS_FLOW": round(flow),
            "METHOD_ACTUAL": method,
            "MATERIAL_ACTUAL": material,
            "STEP_INDEX": step_index,
            "STEP_REMAINING": remaining_s,
            "ELAPSED": self.last_elapsed_s,
            "FILM_THICKNESS": film_nm,
            "DEPOSITION_RATE": rate,
            "CRYSTAL_LIFE": round(self.crystal_life_pct),
            **self._source_codes,
            "STEP_THICKNESS": list(self.last_thickness_nm),
        }

    def _ion_gauge_utorr(self) -> float:
        """The ion gauge's reading: the high vacuum to its register's resolution (what the
        host reads, and what the `base_pressure` interlock compares), at most its top."""
        scale = _ION_GAUGE_SCALE
        return min(round(self._pressure_torr * 1e6 * scale) / scale, ION_GAUGE_TOP_UTORR)

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "door_closed": self.door_closed,
            "base_pressure": self._ion_gauge_utorr() <= self.base_pressure_utorr,
            "power_permissive": not self.alarms and self.door_closed,
        }

    def take_setpoints(self, values: Mapping[str, float]) -> None:
        if "base_pressure_utorr" in values:
            self.base_pressure_utorr = values["base_pressure_utorr"]

    # ----------------------------------------------------------------- the recipe

    def start_recipe(self, registers: list[int], start: int, now: float) -> Refused | None:
        first = _STEPS.address()
        count = registers[first - start]
        if self.out_of_range(first, count):
            return self.refused(Reason.OUT_OF_RANGE, first)
        blocks = range(first + 1, _METHOD.address() + STEP_STRIDE * count)
        beyond = self.first_out_of_range(registers, start, blocks)
        if beyond:
            return self.refused(Reason.OUT_OF_RANGE, beyond)
        steps = []
        for index in range(count):
            values = self.setpoint_values(registers, start, index)
            step = DepositionStep(
                method=Method(str(values["method"])),
                material=Material(str(values["material"])),
                time_s=float(values["time_s"]),
                thickness_nm=float(values["thickness_nm"]),
                power_w=float(values["power_w"]),
                rate_nm_s=float(values["rate_nm_s"]),
                pressure_mtorr=float(values["pressure_mtorr"]),
                gas=ProcessGas(str(values["gas"])),
                flow_sccm=float(values["flow_sccm"]),
            )
            where = _METHOD.address(index)
            if step.mismatch() is not None:
                return self.refused(self.reasons["STEP_MISMATCH"], where)
            if (step.method, step.material) not in self.sources:
                return self.refused(self.reasons["NO_SOURCE"], where)
            steps.append(step)
        self.run = _Run(steps, base_torr=self._pressure_torr, started_s=now)
        self.last_elapsed_s = 0.0
        self.last_thickness_nm = []
        self.enter(ChamberState.PROCESSING)
        return None

    # ----------------------------------------------------------------- time and physics

    def evacuated(self) -> bool:
        return self._pressure_torr <= self.physics.crossover_torr

    def enter(self, chamber: ChamberState) -> None:
        super().enter(chamber)
        if chamber is ChamberState.VENTED:
            self._pressure_torr = ATMOSPHERE_TORR
        elif chamber is ChamberState.EVACUATED:
            self._high_vacuum_from_torr = self._pressure_torr  # the turbo pumps on from here

    def next_change_s(self, now: float) -> float:
        """When the chamber changes next by itself, as its model tells (a GEM face's watcher
        looks then): a pump-down at the crossover (or its limit), the evacuated chamber's ion
        gauge at the base pressure written while that is ahead, a vent's end, a step's end; a
        microsecond past a curve's crossing and a microsecond ahead at least, since the
        pressure computed at the crossing, or a clock's sum of now and the wait, may fall
        short of it by a rounding.
        The scan's when the model foresees nothing (resting, a leak that stalls above the base
        pressure, the gauge already at it): a fault or a command wakes the watcher."""
        physics = self.physics
        change_s: float | None = None
        if self.chamber is ChamberState.PUMPING:
            stalled = "roughing_pump" in self.injected
            floor = physics.stalled_rough_floor_torr if stalled else physics.rough_floor_torr
            crossing_s = physics.pump_down_limit_s
            if floor < physics.crossover_torr:
                crossing_s = min(
                    crossing_s,
                    physics.rough_time_constant_s
                    * math.log((ATMOSPHERE_TORR - floor) / (physics.crossover_torr - floor))
                    + _ROUNDING_S,
                )
            change_s = self.phase_started_s + crossing_s
        elif self.chamber is ChamberState.EVACUATED and self.base_pressure_utorr > 0:
            reached_s = self._base_pressure_at_s()
            if reached_s is not None and reached_s > now:  # one passed is no change to come
                change_s = reached_s
        elif self.chamber is ChamberState.VENTING:
            change_s = self.phase_started_s + physics.vent_time_s
        elif self.chamber is ChamberState.PROCESSING and self.run is not None:
            change_s = now + self._step_left_s(self.run)
        if change_s is None:
            return super().next_change_s(now)
        return max(change_s, now + _ROUNDING_S)

    def _base_pressure_at_s(self) -> float | None:
        """When the evacuated chamber's ion gauge reads the base pressure written (its start
        if it does already); None if it never does (the pump's floor is above it)."""
        physics = self.physics
        leaking = "chamber_leak" in self.injected
        floor = physics.leak_floor_torr if leaking else physics.high_vacuum_floor_torr
        # the gauge reads the base pressure once the pressure is below half its resolution
        # above it
        target = (self.base_pressure_utorr + 0.5 / _ION_GAUGE_SCALE) * 1e-6
        start = max(self._high_vacuum_from_torr, floor)
        if target <= floor:
            return None
        if start <= target:
            return self.phase_started_s
        crossing_s = physics.high_vacuum_time_constant_s * math.log(
            (start - floor) / (target - floor)
        )
        return self.phase_started_s + crossing_s + _ROUNDING_S

    def advance(self) -> None:
        """Bring the chamber to the clock's present time."""
        now = self.clock.now()
        elapsed = now - self.phase_started_s
        physics = self.physics
        if self.chamber is ChamberState.PUMPING:
            self._pressure_torr = physics.roughing_torr(elapsed, "roughing_pump" in self.injected)
            if self.evacuated():
                self.enter(ChamberState.EVACUATED)
            elif elapsed >= physics.pump_down_limit_s:
                self.fault("BASE_PRESSURE_NOT_REACHED")
        elif self.chamber is ChamberState.EVACUATED:
            self._pressure_torr = physics.high_vacuum_torr(
                self._high_vacuum_from_torr, elapsed, "chamber_leak" in self.injected
            )
        elif self.chamber is ChamberState.VENTING:
            fraction = min(elapsed / physics.vent_time_s, 1.0)
            self._pressure_torr += (ATMOSPHERE_TORR - self._pressure_torr) * fraction
            if fraction >= 1.0:
                self.enter(ChamberState.VENTED)
        elif self.chamber is ChamberState.PROCESSING:
            self._advance_processing(now)

    def _advance_processing(self, now: float) -> None:
        run = self.run
        assert run is not None
        for fault, alarm in (
            ("door_switch", "DOOR_OPENED_IN_PROCESS"),
            ("gas_supply", "GAS_FLOW"),
            ("exhaust", "GAS_FLOW"),
            ("cooling_water", "COOLING_WATER"),
            ("crystal_failure", "CRYSTAL_FAILED"),
        ):
            if fault in self.injected:
                self.fault(alarm)
                return
        if "target_arcing" in self.injected and run.step.method is Method.SPUTTER:
            self.fault("ARCING")
            return
        target_s = now - run.started_s
        while run.done_s < target_s and self.chamber is ChamberState.PROCESSING:
            step = run.step
            rate = self._rate_nm_s(step)
            chunk = min(self._step_left_s(run), target_s - run.done_s)
            self._pressure_torr = (
                step.pressure_mtorr / 1000 if step.method is not Method.EVAPORATE else run.base_torr
            )
            run.film_nm += rate * chunk
            run.step_s += chunk
            run.done_s += chunk
            self.crystal_life_pct -= rate * chunk * self.physics.crystal_pct_per_nm
            if self._step_left_s(run) <= _EPSILON_S:
                self._end_step(run, now)
        self.last_elapsed_s = run.done_s

    def _end_step(self, run: _Run, now: float) -> None:
        """The step running is over (its time, or its crystal end point): its film goes on
        the wafers; a thickness not reached by the time limit faults the run."""
        step = run.step
        if step.thickness_nm and run.film_nm < step.thickness_nm - _EPSILON_S * run.film_nm:
            self.fault("END_POINT_NOT_REACHED")  # the run's end lays the film it grew
            return
        self._lay_film(run)
        if run.index + 1 < len(run.steps):
            run.index, run.step_s, run.film_nm = run.index + 1, 0.0, 0.0
            return
        for wafer_id in self.loaded():
            self.twin.get(wafer_id).record(
                self.name,
                self.job_operation,
                now,
                recipe=" + ".join(
                    f"{s.method.value} {s.material.value} {t:.1f} nm"
                    for s, t in zip(run.steps, run.thickness_nm, strict=True)
                ),
            )
        self.finish_run(LastResult.COMPLETED)

    def _lay_film(self, run: _Run) -> None:
        """Lay the film of the step running, as thick as the crystal read, on every wafer."""
        step = run.step
        run.thickness_nm.append(run.film_nm)
        self.last_thickness_nm = list(run.thickness_nm)
        if run.film_nm <= 0:
            return
        oxygen = self.physics.oxygen_fraction(step.material, run.base_torr, self._rate_nm_s(step))
        for wafer_id in self.loaded():
            deposit_film(
                self.twin.get(wafer_id),
                step.method,
                step.material,
                run.film_nm,
                oxygen,
                self.physics,
            )

    def finish_run(self, result: LastResult) -> None:
        run = self.run
        if run is not None and result is not LastResult.COMPLETED and run.step_s > 0:
            self._lay_film(run)  # an interrupted step leaves the film it grew
        if run is not None:
            self.last_elapsed_s = run.done_s
        super().finish_run(result)  # the turbo pumps the process gas out from here

    def _rate_nm_s(self, step: DepositionStep) -> float:
        return self.physics.rate_nm_s(
            step.method, step.material, step.power_w, step.rate_nm_s, step.pressure_mtorr
        )

    def _ebeam_w(self) -> float:
        """The e-beam power the crystal monitor's loop draws (est: 1 kW per nm/s)."""
        assert self.run is not None
        return 1000 * self.run.step.rate_nm_s

    def _step_left_s(self, run: _Run) -> float:
        """Seconds left in the step running: to its time, or to its crystal end point at the
        present rate if that comes first."""
        step = run.step
        left = step.time_s - run.step_s
        rate = self._rate_nm_s(step)
        if step.thickness_nm and rate > 0:
            left = min(left, (step.thickness_nm - run.film_nm) / rate)
        return max(left, 0.0)
