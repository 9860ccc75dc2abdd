"""Simulated grinder: an in-feed grinder's SCPI-like command set.

Speaks the command set of `docs/protocols/grinder.md` (declared in `drivers/specs/grinder.py`;
the SCPI grammar, queues and common commands are the family's wire side) over a
`TextToolServer`. Time is the line's clock: the cycle is
advanced lazily to `clock.now()` on every command, so a virtual clock makes a ten-minute grind
cost only the polls that watch it.

The cycle: the wheel's level (the total thickness on the chuck) descends at the removal rate
of the material at that level. The in-process gauge reads the level on its resolution grid
(rounded down); each stage stops when the gauge reaches its threshold, reacting within
`gauge_response_s`, so the last stage ends less than one resolution step above the target and
never below it. Above its limit the spindle load stops the tool with WHEEL_LOAD. The grinding
physics (removal rates, spindle load and surface by material, and the ground twin) are in
`sim_instruments/physics/grinder.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial

from packline.clock import Clock
from packline.drivers.families.scpi_wire import command, quote
from packline.drivers.roles.grinder import CycleResult, GrinderStatus, GrindPhase, GrindSide
from packline.drivers.specs.grinder import (
    ALARM_ACTIVE,
    COARSEST_GAUGE_RESOLUTION_UM,
    FINEST_GAUGE_RESOLUTION_UM,
    GAUGE_READING,
    GRINDING,
    NO_WAFER,
    PROCESSED_LAST,
    SPEC,
    STATUS_REPLY,
    TARGET_NOT_BELOW_READING,
    TARGET_NOT_SET,
    VACUUM_ON,
    WAFER_ON_CHUCK,
    gauge_decimals,
)

from .families.scpi import (
    Header,
    ScpiError,
    ScpiSimTool,
    count,
    first_unmet_refusal,
    quoted_wafer_id,
    unmet,
)
from .physics.grinder import (
    GrindPhysics,
    grind_to_level,
    material_boundaries_um,
    surface_material,
    total_thickness_um,
)
from .twin import JobEnd, TwinStore, WaferAlreadyProcessed, Workpiece

#: A grinding cycle, in the words of its twin event.
GRIND = "grind"
#: The stages of a cycle that remove material, in order.
STAGES = (GrindPhase.COARSE, GrindPhase.FINE, GrindPhase.POLISH)


# ------------------------------------------------------------------------- the command set

#: Where the tool keeps each setpoint it is sent.
SETPOINT_ATTRIBUTES = {
    "spindle_rpm": "spindle_rpm",
    "chuck_rpm": "chuck_rpm",
    "coarse_feed_um_s": "coarse_feed_um_s",
    "fine_feed_um_s": "fine_feed_um_s",
    "fine_allowance_um": "fine_allowance_um",
    "polish_allowance_um": "polish_allowance_um",
    "target_thickness_um": "target_um",
}


@dataclass
class _Cycle:
    """A grinding cycle on the chuck: where the wheel is and how far the cycle has come."""

    side: GrindSide
    target_um: float
    start_um: float
    level_um: float
    started_s: float
    time_s: float  # the cycle has been advanced to this time
    thresholds: dict[GrindPhase, int]  # gauge grid steps at which each stage stops
    spindle_rpm: float
    chuck_rpm: float
    feeds: dict[GrindPhase, float]
    load_pct: float = 0.0
    ended_s: float | None = None
    removed_in_stage_um: float = 0.0

    @property
    def time_in_cycle_s(self) -> float:
        return (self.ended_s if self.ended_s is not None else self.time_s) - self.started_s


@dataclass(frozen=True)
class _Segment:
    """A stretch of a stage's removal at one rate: the wheel's rate and spindle load, and the
    level where it ends, the stage's gauge stop (its threshold step reached, less what the
    wheel takes while the gauge responds) or the next material boundary, whichever first."""

    rate_um_s: float
    load_pct: float
    end_um: float
    ends_stage: bool  # the gauge stop: the stage ends with the segment


class SimGrinder(ScpiSimTool):
    """The simulated grinder behind a SCPI-like text server."""

    spec = SPEC

    faults = {
        "wheel_glazed": "the wheels are glazed: spindle load x2.5, WHEEL_LOAD at usual feeds",
        "gauge_fault": "the in-process gauge gives no reading: GAUGE_FAULT",
        "vacuum_leak": "the chuck vacuum does not hold: chuck_vacuum interlock open",
        "water_supply": "grinding water lost: grinding_water interlock open",
    }
    fault_opens = {"vacuum_leak": "chuck_vacuum", "water_supply": "grinding_water"}
    options = {
        "gauge_resolution_um": "the in-process gauge's resolution, um (a tool option of "
        f"{FINEST_GAUGE_RESOLUTION_UM:g}-{COARSEST_GAUGE_RESOLUTION_UM:g}; default "
        f"{FINEST_GAUGE_RESOLUTION_UM:g})",
    }

    # The setpoints (`SETPOINT_ATTRIBUTES`), kept by `reset_setpoints` and the setpoint
    # headers; the target has no default (None: not set).
    spindle_rpm: float
    chuck_rpm: float
    coarse_feed_um_s: float
    fine_feed_um_s: float
    fine_allowance_um: float
    polish_allowance_um: float
    target_um: float | None

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        gauge_resolution_um: float = FINEST_GAUGE_RESOLUTION_UM,
        serial_number: str = "GR-2-0001",
        physics: GrindPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock)
        if not FINEST_GAUGE_RESOLUTION_UM <= gauge_resolution_um <= COARSEST_GAUGE_RESOLUTION_UM:
            raise ValueError(
                f"simulated {name}: gauge_resolution_um {gauge_resolution_um} outside "
                f"{FINEST_GAUGE_RESOLUTION_UM:g}-{COARSEST_GAUGE_RESOLUTION_UM:g}"
            )
        self.gauge_resolution_um = gauge_resolution_um
        #: A reading as this grinder's gauge writes it: `GAUGE_READING` to its step's decimals.
        self.gauge_written = replace(GAUGE_READING, decimals=gauge_decimals(gauge_resolution_um))
        self.serial_number = serial_number
        self.physics = physics or GrindPhysics()
        self.phase = GrindPhase.IDLE
        self.wafer_id: str | None = None
        self.side = GrindSide.BACK
        self.vacuum_on = False
        self.reset_settings()
        self.cycle: _Cycle | None = None
        self.cycle_count = 0
        self.last_result = CycleResult.NONE

    def reset_settings(self) -> None:
        self.reset_setpoints(SETPOINT_ATTRIBUTES)

    def device_commands(self) -> Iterable[Header]:
        header = self.header
        yield from (
            Header(header("gauge_resolution"), lambda _: f"{self.gauge_resolution_um:g}"),
            Header(header("thickness"), lambda _: self._gauge_reply(self.level_um())),
            Header(header("substrate"), lambda _: self._gauge_reply(self._substrate_um())),
            Header(header("wafer_load"), None, self._load),
            Header(header("wafer_reload"), None, partial(self._load, rework=True)),
            Header(header("wafer_unload"), None, self._unload),
            Header(header("wafer"), self._wafer_reply),
            self.switch_header(
                header("vacuum"), "vacuum_on", partial(self._refuse_unmet, "vacuum")
            ),
            Header(header("start"), None, self._start),
            Header(header("status"), self._state_reply),
        )
        for setpoint, attribute in SETPOINT_ATTRIBUTES.items():
            yield self.setpoint_header(setpoint, attribute, partial(self._refuse_unmet, setpoint))

    # ----------------------------------------------------------------- replies

    def _wafer_reply(self, _: list[str]) -> str:
        return f"{quote(self.wafer_id)},{self.side.name}" if self.wafer_id else "NONE"

    def interlock_conditions(self) -> dict[str, bool]:
        present = self.wafer_id is not None
        return {"chuck_vacuum": present and self.vacuum_on, "wafer_present": present}

    def _workpiece(self) -> Workpiece | None:
        return self.twin.get(self.wafer_id) if self.wafer_id is not None else None

    def level_um(self) -> float:
        """The true total thickness on the chuck (0: the gauge touches the bare chuck)."""
        if self.cycle is not None and self.cycle.ended_s is None:
            return self.cycle.level_um
        workpiece = self._workpiece()
        return total_thickness_um(workpiece) if workpiece is not None else 0.0

    def _substrate_um(self) -> float:
        workpiece = self._workpiece()
        return workpiece.geometry.thickness_um if workpiece is not None else 0.0

    def gauge_steps(self, level_um: float) -> int:
        """The gauge reading in resolution steps: the level rounded down to the grid."""
        return math.floor(level_um / self.gauge_resolution_um + 1e-9)

    def gauge_reading_um(self, level_um: float) -> float | None:
        """What the gauge reads of `level_um`: on its grid; None while it has failed."""
        if "gauge_fault" in self.injected:
            return None
        return self.gauge_steps(level_um) * self.gauge_resolution_um

    def _gauge_reply(self, level_um: float) -> str:
        """The gauge's reading of `level_um` as the grinder writes it (`gauge_written`)."""
        return self.gauge_written.wire_form(self.gauge_reading_um(level_um))

    def _state_reply(self, _: list[str]) -> str:
        cycle = self.cycle
        running = cycle if self.phase in STAGES else None
        status = GrinderStatus(
            phase=self.phase,
            thickness_um=self.gauge_reading_um(self.level_um()),
            spindle_rpm=running.spindle_rpm if running is not None else 0.0,
            chuck_rpm=running.chuck_rpm if running is not None else 0.0,
            feed_um_s=running.feeds[self.phase] if running is not None else 0.0,
            spindle_load_pct=running.load_pct if running is not None else 0.0,
            progress_pct=self._progress_pct(cycle) if cycle is not None else 0.0,
            cycle_time_s=cycle.time_in_cycle_s if cycle is not None else 0.0,
            cycle_count=self.cycle_count,
            last_result=self.last_result,
        )
        return STATUS_REPLY.render(status, thickness_um=self.gauge_written.decimals)

    def _progress_pct(self, cycle: _Cycle) -> float:
        """Share of the cycle's removal done as the gauge sees it (100 when it reads the target)."""
        resolution = self.gauge_resolution_um
        start = self.gauge_steps(cycle.start_um) * resolution
        now = self.gauge_steps(cycle.level_um) * resolution
        span = start - cycle.target_um
        return min(max((start - now) / span * 100, 0.0), 100.0) if span > 0 else 100.0

    # ----------------------------------------------------------------- commands

    def _load(self, arguments: list[str], *, rework: bool = False) -> None:
        """`WAF:LOAD` (`WAF:REL` as a `rework`, of a wafer this tool may have processed last)."""
        count(self.short("wafer_load"), arguments, 2)
        wafer_id, side = quoted_wafer_id(arguments[0], 0), arguments[1]
        if side.upper() not in GrindSide.__members__:
            raise ScpiError(-224, f"side {side} is not FRONT or BACK", parameter=1)
        self._refuse_unmet("wafer_reload" if rework else "wafer_load")
        try:
            self.twin.load(wafer_id, self.name, rework=rework)
        except WaferAlreadyProcessed as processed:
            # the line's refusal kept as the cause: a GEM face answers it as such (HCACK 3)
            raise unmet(PROCESSED_LAST, processed=processed) from processed
        self.wafer_id, self.side = wafer_id, GrindSide[side.upper()]

    def _unload(self, arguments: list[str]) -> None:
        """The chuck emptied; the last cycle's progress and time stay readable (fields 7, 8)."""
        count(self.short("wafer_unload"), arguments, 0)
        self._refuse_unmet("wafer_unload")
        self.wafer_id = None

    def _refuse_unmet(self, name: str) -> None:
        """Refuse the command `name` when the grinder (a cycle running, an alarm latched) or its
        chuck does not give what the spec declares it needs, the first unmet of its
        preconditions in their order, in their words. A load's last, a wafer this tool
        processed last (`PROCESSED_LAST`), is judged as the twin takes the wafer, once the chuck
        has taken the load (`_load`)."""
        if refusal := first_unmet_refusal(
            command(SPEC, name),
            {
                GRINDING: self.phase in STAGES,
                ALARM_ACTIVE: bool(self.alarms),
                WAFER_ON_CHUCK: self.wafer_id is not None,
                VACUUM_ON: self.vacuum_on,
                NO_WAFER: self.wafer_id is None,
                PROCESSED_LAST: False,
            },
            alarms=self.alarm_list(),
            wafer=self.wafer_id,
        ):
            raise refusal

    def clear_alarms(self) -> None:
        """Alarms latch; clearing them all leaves the fault. A cause that persists comes back."""
        super().clear_alarms()
        if self.phase is GrindPhase.FAULT:
            self.phase = GrindPhase.IDLE

    def operation_pending(self) -> bool:
        """A cycle runs (`GRIN:STAR` is an overlapped command: `*OPC?` answers its end)."""
        return self.phase in STAGES

    def abort(self) -> None:
        """Feed stop, wheel retract, spindles stop; the vacuum stays as it is."""
        if self.phase in STAGES:
            self._end_cycle(CycleResult.ABORTED, self.clock.now())

    def _start(self, arguments: list[str]) -> None:
        """The state (the spec's preconditions: a cycle running, an alarm 202, no wafer 203, the
        target), then the interlocks (201)."""
        count(self.short("start"), arguments, 0)
        level, target = self.level_um(), self.target_um
        start_unmet = {
            GRINDING: self.phase in STAGES,
            ALARM_ACTIVE: bool(self.alarms),
            NO_WAFER: self.wafer_id is None,
            TARGET_NOT_SET: target is None,
            TARGET_NOT_BELOW_READING: (
                target is not None and self.gauge_steps(level) <= self.gauge_steps(target)
            ),
        }
        if refusal := first_unmet_refusal(
            command(SPEC, "start"),
            start_unmet,
            alarms=self.alarm_list(),
            target="" if target is None else f"{target:g}",
            reading=self._gauge_reply(level),
        ):
            raise refusal
        assert target is not None  # TARGET_NOT_SET refuses a start without one
        self.require_interlocks(SPEC.command_by_name["start"].interlocks)
        resolution = self.gauge_resolution_um
        polish, fine = self.polish_allowance_um, self.fine_allowance_um

        def grid(value: float) -> int:  # a stage threshold on the gauge grid, rounded up
            return math.ceil(value / resolution - 1e-9)

        now = self.clock.now()
        self.cycle = _Cycle(
            side=self.side,
            target_um=target,
            start_um=level,
            level_um=level,
            started_s=now,
            time_s=now,
            thresholds={
                GrindPhase.COARSE: grid(target + polish + fine),
                GrindPhase.FINE: grid(target + polish),
                GrindPhase.POLISH: grid(target),
            },
            spindle_rpm=self.spindle_rpm,
            chuck_rpm=self.chuck_rpm,
            feeds={
                GrindPhase.COARSE: self.coarse_feed_um_s,
                GrindPhase.FINE: self.fine_feed_um_s,
                GrindPhase.POLISH: 0.0,
            },
        )
        self.phase = GrindPhase.COARSE

    # ----------------------------------------------------------------- time and physics

    def advance(self) -> None:
        """Bring the tool to the clock's present time: faults first, then the cycle."""
        now = self.clock.now()
        if "gauge_fault" in self.injected and "GAUGE_FAULT" not in self.alarms:
            self._fault("GAUGE_FAULT", now)
        if self.phase in STAGES and not all(self.interlocks().values()):
            self._fault("INTERLOCK_OPENED", now)
        if self.phase in STAGES:
            self._advance_cycle(now)

    def next_change_s(self, now: float) -> float:
        """While a cycle runs, the end of its present segment of removal (the stage's gauge
        stop or the next material boundary, where the stage, the rate or the wheel's load
        change); else the scan. Faults and commands wake a held `*OPC?` themselves."""
        cycle, workpiece = self.cycle, self._workpiece()
        if self.phase in STAGES and cycle is not None and workpiece is not None:
            segment = self._segment(cycle, workpiece)
            ends_s = cycle.time_s + (cycle.level_um - segment.end_um) / segment.rate_um_s
            if ends_s > now:
                return ends_s
        return super().next_change_s(now)

    def _segment(self, cycle: _Cycle, workpiece: Workpiece) -> _Segment:
        """The present stage's removal from the cycle's level on."""
        physics, stage = self.physics, self.phase
        material = surface_material(workpiece, cycle.side, cycle.level_um)
        rate = physics.removal_rate_um_s(stage, cycle.feeds[stage], material)
        load_pct = physics.spindle_load_pct(
            stage, rate, material, cycle.spindle_rpm, "wheel_glazed" in self.injected
        )
        stop_um = (cycle.thresholds[stage] + 1) * self.gauge_resolution_um - (
            rate * physics.gauge_response_s
        )
        below = [b for b in material_boundaries_um(workpiece, cycle.side) if b < cycle.level_um]
        end_um = max([stop_um, *below])
        return _Segment(rate, load_pct, end_um, ends_stage=end_um == stop_um)

    def _advance_cycle(self, now: float) -> None:
        cycle = self.cycle
        workpiece = self._workpiece()
        assert cycle is not None
        assert workpiece is not None
        physics = self.physics
        while self.phase in STAGES:
            if self.gauge_steps(cycle.level_um) <= cycle.thresholds[self.phase]:
                self._end_stage(cycle, workpiece, cycle.time_s)
                continue
            segment = self._segment(cycle, workpiece)
            cycle.load_pct = segment.load_pct
            if cycle.load_pct > physics.load_limit_pct:
                self._fault("WHEEL_LOAD", cycle.time_s)
                break
            if cycle.time_s >= now:
                break
            needed_s = (cycle.level_um - segment.end_um) / segment.rate_um_s
            if now - cycle.time_s >= needed_s:
                cycle.removed_in_stage_um += cycle.level_um - segment.end_um
                cycle.time_s += needed_s
                cycle.level_um = segment.end_um
                if segment.ends_stage:
                    self._end_stage(cycle, workpiece, cycle.time_s)
            else:
                removed = segment.rate_um_s * (now - cycle.time_s)
                cycle.removed_in_stage_um += removed
                cycle.level_um -= removed
                cycle.time_s = now
        grind_to_level(workpiece, cycle.side, cycle.level_um)

    def _end_stage(self, cycle: _Cycle, workpiece: Workpiece, time_s: float) -> None:
        stage = self.phase
        if cycle.removed_in_stage_um > 0:
            feed = cycle.feeds[stage]
            ra_um, ttv_um = self.physics.surface(stage, feed, cycle.spindle_rpm, cycle.chuck_rpm)
            workpiece.finish.roughness_ra_um = ra_um
            if ttv_um is not None:
                workpiece.finish.thickness_variation_um = ttv_um
        cycle.removed_in_stage_um = 0.0
        following = STAGES.index(stage) + 1
        if following < len(STAGES):
            self.phase = STAGES[following]
        else:
            grind_to_level(workpiece, cycle.side, cycle.level_um)
            self._end_cycle(CycleResult.COMPLETED, time_s)

    def _end_cycle(self, result: CycleResult, time_s: float) -> None:
        cycle = self.cycle
        assert cycle is not None
        cycle.ended_s = time_s
        cycle.load_pct = 0.0
        self.last_result = result
        self.cycle_count += 1
        self.phase = GrindPhase.FAULT if result is CycleResult.FAULTED else GrindPhase.IDLE
        workpiece = self._workpiece()
        if workpiece is not None:
            operation = GRIND if result is CycleResult.COMPLETED else f"{GRIND} {result.value}"
            workpiece.record(
                self.name, operation, time_s,
                side=cycle.side.value, target_um=cycle.target_um,
                total_thickness_um=total_thickness_um(workpiece),
                roughness_ra_um=workpiece.finish.roughness_ra_um,
            )  # fmt: skip
        worked = [] if workpiece is None else [workpiece.id]
        self.job_ended(GRIND, worked, time_s, JobEnd[result.name])

    def _fault(self, alarm: str, time_s: float) -> None:
        self.latch(alarm)
        if self.phase in STAGES:
            workpiece = self._workpiece()
            if workpiece is not None and self.cycle is not None:
                grind_to_level(workpiece, self.cycle.side, self.cycle.level_um)
            self._end_cycle(CycleResult.FAULTED, time_s)
        self.phase = GrindPhase.FAULT
