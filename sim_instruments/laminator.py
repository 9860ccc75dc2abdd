"""Simulated vacuum laminator: a PLC on Modbus with its vacuum chamber, platen and press.

Speaks the register map of `docs/protocols/laminator.md`, declared in
`packline.drivers.specs.laminator`; the family's wire side renders the status, judges writes
and commands in the family's order, and this file keeps the commands' semantics and the job's
phases. Time is the line's clock: the tool keeps its platen temperature and chamber pressure
as closed-form curves since their last change (`sim_instruments/laminator_plant.py`),
computes when the present phase ends (vacuum reached, hold over, setpoint reached, press done,
vented, cooled, peeled, or an over-temperature trip), and on every access plays those events up
to `clock.now()`. A virtual clock thus makes a six-minute lamination cost only the polls that
watch it.

The model's constants (`LaminatorPhysics`) and the physics of the sheet on the wafer
(`laminate_sheet`) are in `sim_instruments/physics/laminator.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from packline.clock import Clock
from packline.drivers.families.plc_map import Reason, field, reason_enum
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.laminator import JobResult, LaminatorPhase, SupportKind
from packline.drivers.specs.laminator import SPEC

from .families.modbus_plc import Refused
from .families.plc_stage import SingleWaferPlcSimulator
from .laminator_plant import ATMOSPHERE_PA, Chamber, ChamberDrive, Drive, Platen
from .physics.laminator import LaminatorPhysics, laminate_sheet
from .servers import ModbusTransport
from .twin import JobEnd, Support, TwinStore

#: The phases of a lamination job, in order (progress counts through them).
JOB_PHASES = (
    LaminatorPhase.EVACUATING,
    LaminatorPhase.VACUUM_HOLD,
    LaminatorPhase.HEATING,
    LaminatorPhase.PRESSING,
    LaminatorPhase.VENTING,
    LaminatorPhase.COOLING,
)

#: A lamination job and a peel of its sheet's support, in the words of their twin events.
LAMINATE = "laminate"
PEEL = "peel support"

_TWIN_SUPPORT = {SupportKind.FILM: Support.FILM, SupportKind.METAL_FILM: Support.METAL_FILM}
#: The twin's supports as the map codes them (SUPPORT_ON_WAFER; none is 0).
_SUPPORT_CODE_OF_TWIN = {
    twin: field(SPEC, "support_kind").code_of(kind.value) for kind, twin in _TWIN_SUPPORT.items()
}
CommandError = reason_enum(SPEC)


@dataclass(frozen=True)
class _Job:
    """A lamination job as the PLC took it from the job block (the spec's setpoint names)."""

    resin_thickness_um: float
    support_kind: str
    vacuum_pa: float
    vacuum_hold_s: float
    temperature_c: float
    press_pressure_mpa: float
    press_time_s: float
    cool_to_c: float
    foil_thickness_um: float
    started_s: float


Event = tuple[float, Callable[[float], None]]


@dataclass(frozen=True)
class JobExtremes:
    """What the PLC keeps of the running or last job on every scan (JOB_PEAK_TEMPERATURE,
    JOB_BEST_VACUUM, JOB_PEAK_PRESS): the hottest platen, the lowest chamber pressure and the
    most press pressure since START_JOB."""

    peak_c: float
    best_pa: float
    peak_mpa: float

    def scanned(self, temperature_c: float, pressure_pa: float, press_mpa: float) -> JobExtremes:
        """The extremes with one more scan's values."""
        return JobExtremes(
            max(self.peak_c, temperature_c),
            min(self.best_pa, pressure_pa),
            max(self.peak_mpa, press_mpa),
        )


#: The job's extremes before the first job.
NO_JOB = JobExtremes(0.0, 0.0, 0.0)


class SimLaminator(SingleWaferPlcSimulator):
    """The simulated laminator behind a Modbus server (TCP by default, or RTU)."""

    spec = SPEC

    faults = {
        "chamber_leak": "chamber leaks: it pumps down only to 800 Pa, above any vacuum setpoint",
        "heater_runaway": "platen heater controller does not regulate: it heats past the setpoint",
        "lid_switch": "lid switch reads open",
    }
    fault_opens = {"lid_switch": "lid_closed"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        device_id: int = 1,
        serial_number: str = "VL-2-0001",
        transport: ModbusTransport = "tcp",
        physics: LaminatorPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        self.physics = physics or LaminatorPhysics()
        now = self.clock.now()
        self.phase = LaminatorPhase.READY
        self.phase_started_s = now
        self.platen = Platen(AMBIENT_C, now, "off", 0.0, self.physics)
        self.chamber = Chamber(ATMOSPHERE_PA, now, "vented", ATMOSPHERE_PA, self.physics)
        self.job: _Job | None = None
        self.cool_to_c = AMBIENT_C
        self.jobs_completed = 0
        self.last_result = JobResult.NONE
        self.last_job_time_s = 0.0
        self.last_progress_pct = 0.0
        self.job_extremes = NO_JOB

    # ----------------------------------------------------------------- the wire

    def takes_setpoints(self) -> bool:
        return self.job is None

    def status_values(self) -> dict[str, object]:
        """The status as the tool presents it now (the family renders the rest)."""
        now = self.clock.now()
        press_mpa = self._press_mpa()
        self._scan_job(now)
        extremes = self.job_extremes
        event = self._next_event()
        remaining_s = 0.0
        if event is not None and math.isfinite(event[0]):
            remaining_s = max(event[0] - now, 0.0)
        job_time_s = now - self.job.started_s if self.job is not None else self.last_job_time_s
        return {
            "PLATEN_TEMPERATURE": self.temperature_c(),
            "CHAMBER_PRESSURE": self.pressure_pa(),
            "PRESS_PRESSURE": press_mpa,
            "STEP_REMAINING": remaining_s,
            "ELAPSED": job_time_s,
            "PROGRESS": self._progress_pct(now, event),
            "PEEL_BELOW": self.physics.peel_below_c,
            "JOB_PEAK_TEMPERATURE": extremes.peak_c,
            "JOB_BEST_VACUUM": extremes.best_pa,
            "JOB_PEAK_PRESS": extremes.peak_mpa,
            **self.counted_status(),
        }

    def counted_status(self) -> dict[str, object]:
        """The phase, the wafer, the job counter and result, and the wafer's support."""
        support = 0
        if self.wafer_id is not None:
            support = _SUPPORT_CODE_OF_TWIN.get(self.twin.get(self.wafer_id).resins.support, 0)
        return {
            "JOBS_COMPLETED": self.jobs_completed % 65536,
            "LAST_RESULT": int(self.last_result),
            "SUPPORT_ON_WAFER": support,
            **self.stage_status(),
        }

    def _press_mpa(self) -> float:
        """The pressure the press applies now (0 when not pressing)."""
        if self.phase is LaminatorPhase.PRESSING and self.job is not None:
            return self.job.press_pressure_mpa
        return 0.0

    def _scan_job(self, time_s: float) -> None:
        """Bring the running job's extremes up to `time_s`, as the PLC's scan does. Between two
        changes of phase or of faults each curve is monotonic, so looking at each change
        (`_rebase`), at the job's end and at each read misses no extreme."""
        if self.job is not None:
            self.job_extremes = self.job_extremes.scanned(
                self.platen.at(time_s), self.chamber.at(time_s), self._press_mpa()
            )

    def _progress_pct(self, now: float, event: Event | None) -> float:
        """% of the running job, or of the last one as it ended (100 when it completed)."""
        if self.job is None:
            return self.last_progress_pct
        fraction = 0.0
        if event is not None and math.isfinite(event[0]) and event[0] > self.phase_started_s:
            fraction = min((now - self.phase_started_s) / (event[0] - self.phase_started_s), 1.0)
        return 100.0 * (JOB_PHASES.index(self.phase) + fraction) / len(JOB_PHASES)

    def temperature_c(self) -> float:
        return self.platen.at(self.clock.now())

    def pressure_pa(self) -> float:
        return self.chamber.at(self.clock.now())

    def interlock_conditions(self) -> dict[str, bool]:
        return {
            "wafer_present": self.wafer_id is not None,
            "peel_temperature": self.temperature_c() < self.physics.peel_below_c,
        }

    def conditions_changed(self) -> None:
        self._rebase(self.clock.now())

    # ----------------------------------------------------------------- commands

    def execute(
        self,
        command: str,
        parameters: Mapping[str, float | list[int]],
        registers: list[int],
        start: int,
    ) -> Refused | None:
        now = self.clock.now()
        if command == "RESET_ALARMS":
            if self.phase is LaminatorPhase.FAULT:
                self._enter_vent_or_ready(now)
        elif command == "ABORT":
            self._abort(now)
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            return self.transfer(command, parameters)
        elif command == "START_JOB":
            refused = self.refuse_out_of_range(registers, start)
            if refused:
                return refused
            values = self.setpoint_values(registers, start)
            metal_film = values["support_kind"] == SupportKind.METAL_FILM.value
            if metal_film != (float(values["foil_thickness_um"]) > 0):
                foil = field(SPEC, "foil_thickness_um").address()
                return self.refused(Reason.OUT_OF_RANGE, foil)
            self.job = _Job(**values, started_s=now)  # type: ignore[arg-type]
            self.job_extremes = JobExtremes(self.temperature_c(), self.pressure_pa(), 0.0)
            self._enter(LaminatorPhase.EVACUATING, now, chamber="pumping")
        elif command == "COOL":
            self.cool_to_c = float(parameters["cool_to_c"])  # type: ignore[arg-type]
            self._enter(LaminatorPhase.COOLING, now, platen="forced")
        elif command == "PEEL_SUPPORT":
            return self._start_peel(now)
        return None

    def _start_peel(self, now: float) -> Refused | None:
        if self.wafer_id is None:
            return self.refused(CommandError["NO_WAFER"])
        support = self.twin.get(self.wafer_id).resins.support
        if support is Support.METAL_FILM:
            return self.refused(CommandError["SUPPORT_STAYS"])
        if support is not Support.FILM:
            return self.refused(CommandError["NO_SUPPORT"])
        self._enter(LaminatorPhase.PEELING, now)
        return None

    def _abort(self, now: float) -> None:
        """Heater off, press released, chamber vented; a running job (or peel) ends aborted."""
        if self.job is not None:
            self._finish_job(JobResult.ABORTED, now)
        if self.phase is LaminatorPhase.PEELING:
            self.job_ended(PEEL, self.loaded(), now, JobEnd.ABORTED)
        if self.phase is not LaminatorPhase.FAULT:
            self._enter_vent_or_ready(now)

    # ----------------------------------------------------------------- time and physics

    def _rebase(
        self, now: float, platen: Drive | None = None, chamber: ChamberDrive | None = None
    ) -> None:
        """Start the platen and chamber curves afresh at `now`, under new drives if given.

        Called on every change of phase and of faults, so a curve never spans a change; the
        running job's extremes are scanned at its end.
        """
        self._scan_job(now)
        drive = platen or self.platen.drive
        if drive in ("heat", "runaway"):
            drive = "runaway" if "heater_runaway" in self.injected else "heat"
        setpoint = self.job.temperature_c if self.job is not None else self.platen.setpoint_c
        self.platen = Platen(self.platen.at(now), now, drive, setpoint, self.physics)
        chamber_drive = chamber or self.chamber.drive
        if chamber_drive == "pumping":
            target = self._pump_floor_pa()
        elif chamber_drive == "held":
            target = self.job.vacuum_pa if self.job is not None else self.chamber.at(now)
        else:
            target = ATMOSPHERE_PA
        self.chamber = Chamber(self.chamber.at(now), now, chamber_drive, target, self.physics)

    def _pump_floor_pa(self) -> float:
        if "chamber_leak" in self.injected:
            return self.physics.leak_floor_pa
        return self.physics.pump_floor_pa

    def _enter(
        self,
        phase: LaminatorPhase,
        now: float,
        *,
        platen: Drive | None = None,
        chamber: ChamberDrive | None = None,
    ) -> None:
        self.phase = phase
        self.phase_started_s = now
        self._rebase(now, platen, chamber)

    def _enter_vent_or_ready(self, now: float) -> None:
        """Release press and heater; vent the chamber if it is under vacuum, else be ready."""
        if self.chamber.drive == "vented":
            self._enter(LaminatorPhase.READY, now, platen="off")
        else:
            self._enter(LaminatorPhase.VENTING, now, platen="off", chamber="venting")

    def _next_event(self) -> Event | None:
        """When the present phase ends, and what happens then."""
        phase, started = self.phase, self.phase_started_s
        job = self.job
        if phase is LaminatorPhase.EVACUATING and job is not None:
            reached = self.chamber.pumped_to_s(job.vacuum_pa)
            limit = started + self.physics.evacuation_limit_s
            if reached <= limit:
                return reached, self._on_evacuated
            return limit, lambda t: self._fault("VACUUM_NOT_REACHED", t)
        if phase is LaminatorPhase.VACUUM_HOLD and job is not None:
            return started + job.vacuum_hold_s, self._on_hold_done
        if phase in (LaminatorPhase.HEATING, LaminatorPhase.PRESSING) and job is not None:
            trip = self.platen.rises_to_s(
                job.temperature_c + self.physics.over_temperature_margin_c
            )
            if phase is LaminatorPhase.HEATING:
                end, then = self.platen.rises_to_s(job.temperature_c), self._on_heated
            else:
                end, then = started + job.press_time_s, self._on_pressed
            if trip <= end:
                return trip, lambda t: self._fault("OVER_TEMPERATURE", t)
            return end, then
        if phase is LaminatorPhase.VENTING:
            return self.chamber.vented_at_s, self._on_vented
        if phase is LaminatorPhase.COOLING:
            return self.platen.falls_to_s(self.cool_to_c), self._on_cooled
        if phase is LaminatorPhase.PEELING:
            return started + self.physics.peel_time_s, self._on_peeled
        if phase is LaminatorPhase.FAULT and self.chamber.drive == "venting":
            return self.chamber.vented_at_s, self._on_vented_in_fault
        return None

    def next_change_s(self, now: float) -> float:
        """When the present phase ends (a GEM face's watcher looks then, and at nothing in
        between: every value is the phase's curve, and a trip ends the phase); a microsecond
        ahead at least, since a clock's sum of now and the wait may fall short of the event by
        a rounding. A phase without an end it can tell: the scan's."""
        event = self._next_event()
        return self.foreseen_change_s(None if event is None else event[0], now)

    def advance(self) -> None:
        """Play every event of the process up to the clock's present time."""
        now = self.clock.now()
        while (event := self._next_event()) is not None and event[0] <= now:
            time_s, happen = event
            happen(time_s)

    def _on_evacuated(self, time_s: float) -> None:
        self._enter(LaminatorPhase.VACUUM_HOLD, time_s, chamber="held")

    def _on_hold_done(self, time_s: float) -> None:
        self._enter(LaminatorPhase.HEATING, time_s, platen="heat")

    def _on_heated(self, time_s: float) -> None:
        self._enter(LaminatorPhase.PRESSING, time_s)

    def _on_pressed(self, time_s: float) -> None:
        job = self.job
        assert job is not None
        assert self.wafer_id is not None
        workpiece = self.twin.get(self.wafer_id)
        temperature_c = self.platen.at(time_s)
        rng = workpiece.draws()
        support = _TWIN_SUPPORT[SupportKind(job.support_kind)]
        laminate_sheet(
            workpiece,
            job.resin_thickness_um,
            support,
            job.foil_thickness_um,
            temperature_c,
            job.press_pressure_mpa,
            job.vacuum_pa,
            job.vacuum_hold_s,
            self.physics,
            rng,
        )
        top = workpiece.resins.top()
        assert top is not None  # the sheet just laminated
        projection = workpiece.tip_projection_um[workpiece.has_bumps]
        workpiece.record(
            self.name,
            LAMINATE,
            time_s,
            resin_um=job.resin_thickness_um,
            support=support.value,
            foil_um=job.foil_thickness_um,
            temperature_c=round(temperature_c, 1),
            pressure_mpa=job.press_pressure_mpa,
            press_s=job.press_time_s,
            vacuum_pa=job.vacuum_pa,
            hold_s=job.vacuum_hold_s,
            voids=top.voids,
            tips_projecting=int(np.count_nonzero(projection > 0)),
            bumps_buried=int(np.count_nonzero(projection <= 0)),
        )
        self._enter(LaminatorPhase.VENTING, time_s, platen="off", chamber="venting")

    def _on_vented(self, time_s: float) -> None:
        if self.job is None:
            self._enter(LaminatorPhase.READY, time_s, chamber="vented")
            return
        self.cool_to_c = self.job.cool_to_c
        self._enter(LaminatorPhase.COOLING, time_s, platen="forced", chamber="vented")

    def _on_vented_in_fault(self, time_s: float) -> None:
        self._rebase(time_s, chamber="vented")

    def _on_cooled(self, time_s: float) -> None:
        if self.job is not None:
            self._finish_job(JobResult.COMPLETED, time_s)
        self._enter(LaminatorPhase.READY, time_s, platen="off")

    def _on_peeled(self, time_s: float) -> None:
        assert self.wafer_id is not None
        workpiece = self.twin.get(self.wafer_id)
        sheet = workpiece.resins.top()
        assert sheet is not None  # the peel started only on a sheet with a film support
        sheet.support = Support.NONE
        workpiece.record(self.name, PEEL, time_s, temperature_c=round(self.platen.at(time_s), 1))
        self._enter(LaminatorPhase.READY, time_s)
        self.job_ended(PEEL, [workpiece.id], time_s, JobEnd.COMPLETED)

    def _fault(self, alarm: str, time_s: float) -> None:
        """Latch `alarm`: heater off, press released, chamber vented; a running job ends faulted."""
        self.latch(alarm)
        if self.job is not None:
            if self.wafer_id is not None:
                self.twin.get(self.wafer_id).record(
                    self.name,
                    f"{LAMINATE} faulted",
                    time_s,
                    alarm=alarm,
                    phase=self.phase.name.lower(),
                )
            self._finish_job(JobResult.FAULTED, time_s)
        chamber: ChamberDrive | None = None if self.chamber.drive == "vented" else "venting"
        self._enter(LaminatorPhase.FAULT, time_s, platen="off", chamber=chamber)

    def _finish_job(self, result: JobResult, time_s: float) -> None:
        """End the job; its progress stays as it was when it ended (the page's PROGRESS)."""
        assert self.job is not None
        self._scan_job(time_s)
        if result is JobResult.COMPLETED:
            self.last_progress_pct = 100.0
        else:
            self.last_progress_pct = self._progress_pct(time_s, self._next_event())
        self.last_result = result
        self.last_job_time_s = time_s - self.job.started_s
        self.jobs_completed += 1
        self.job = None
        self.job_ended(LAMINATE, self.loaded(), time_s, JobEnd[result.name])
