"""Simulated ball-mount cell: a PLC on Modbus with its flux unit, ball head and camera.

Speaks the register map of `docs/protocols/ball-mounter.md`, declared in
`packline.drivers.specs.ball_mounter`; the family's wire side renders the status, judges writes
and commands in the family's order, and this file keeps the commands' semantics and the cycle
clock. A cycle (flux, mount, inspect) lasts the time the physics gives it from the number of
units; the heads work across the units in order, so a cycle stopped early (an abort, an alarm)
leaves flux and balls on the units it finished. Time is the line's clock: every access plays
the cycle's end (or an alarm) up to `clock.now()`.

The model's constants (`BallMountPhysics`) and what flux and balls do on the workpiece are in
`sim_instruments/physics/ball_mounter.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from packline.clock import Clock
from packline.drivers.families.plc_map import field, reason_enum
from packline.drivers.links.registers import registers_to_bits
from packline.drivers.roles.ball_mounter import (
    BallMounterPhase,
    CycleResult,
    FluxMethod,
    Inspection,
    Side,
)
from packline.drivers.specs.ball_mounter import SPEC

from .families.modbus_plc import Refused
from .families.plc_stage import SingleWaferPlcSimulator
from .physics.ball_mounter import (
    BallMountPhysics,
    apply_flux,
    inspect,
    mapped_sites,
    mount_balls,
    repair_balls,
    repair_sites,
)
from .servers import ModbusTransport
from .twin import Face, JobEnd, TwinStore, Workpiece

CommandError = reason_enum(SPEC)

_FACE = {Side.FRONT: Face.FRONT, Side.BACK: Face.BACK}

#: The job block registers each cycle reads (the ball map and its side, and its own values).
_CYCLE_FIELDS = {
    "APPLY_FLUX": ("side", "ball_map", "flux_method", "flux_thickness_um"),
    "MOUNT_BALLS": ("ball_diameter_um", "alloy", "side", "ball_map"),
    "REPAIR_BALLS": ("ball_diameter_um", "alloy", "side", "ball_map"),
    "INSPECT": ("side", "ball_map"),
}
_CYCLE_PHASE = {
    "APPLY_FLUX": BallMounterPhase.FLUXING,
    "MOUNT_BALLS": BallMounterPhase.MOUNTING,
    "REPAIR_BALLS": BallMounterPhase.MOUNTING,
    "INSPECT": BallMounterPhase.INSPECTING,
}
#: What each cycle does, in the words of its twin event.
_OPERATIONS = {
    "APPLY_FLUX": "apply flux",
    "MOUNT_BALLS": "mount balls",
    "REPAIR_BALLS": "repair balls",
    "INSPECT": "inspect balls",
}
#: The cycles that place balls, and their physics.
_PLACING = {"MOUNT_BALLS": mount_balls, "REPAIR_BALLS": repair_balls}
#: The alarm an injected fault raises, and the phase it strikes in.
_ALARM_FAULTS = {
    "head_vacuum_leak": ("HEAD_VACUUM_LOST", BallMounterPhase.MOUNTING),
    "squeegee_jam": ("FLUX_SQUEEGEE_JAM", BallMounterPhase.FLUXING),
}


@dataclass(frozen=True)
class _Cycle:
    """A cycle as the PLC took it from the job block."""

    command: str
    values: Mapping[str, float | str]
    positions: frozenset[int]
    started_s: float
    ends_s: float


class SimBallMounter(SingleWaferPlcSimulator):
    """The simulated ball-mount cell behind a Modbus server (TCP by default, or RTU)."""

    spec = SPEC

    faults = {
        "door_switch": "safety door switch reads open",
        "ball_supply_empty": "the ball reservoir is empty",
        "head_vacuum_leak": "the ball head's vacuum leaks: a mount cycle stops with an alarm",
        "squeegee_jam": "the flux unit jams: a flux cycle stops with an alarm",
    }
    fault_opens = {"door_switch": "door_closed", "ball_supply_empty": "ball_supply"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        device_id: int = 1,
        serial_number: str = "BM-1-0001",
        transport: ModbusTransport = "tcp",
        physics: BallMountPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        self.physics = physics or BallMountPhysics()
        self.phase = BallMounterPhase.READY
        self.cycle: _Cycle | None = None
        self.cycles_completed = 0
        self.last_result = CycleResult.NONE
        self.last_cycle_time_s = 0.0
        self.balls_placed = 0
        self.inspection = Inspection(0, 0, 0, 0)
        #: when each injected fault began (an alarm fault strikes a cycle from then on)
        self.fault_since: dict[str, float] = {}

    # ----------------------------------------------------------------- the wire

    def takes_setpoints(self) -> bool:
        return self.cycle is None

    def status_values(self) -> dict[str, object]:
        now = self.clock.now()
        cycle = self.cycle
        return {
            "STEP_REMAINING": max(cycle.ends_s - now, 0.0) if cycle else 0.0,
            "ELAPSED": now - cycle.started_s if cycle else self.last_cycle_time_s,
            "BALLS_PLACED": self.balls_placed,
            "SITES_INSPECTED": self.inspection.sites_inspected,
            "MISSING_BALLS": self.inspection.missing,
            "EXTRA_BALLS": self.inspection.extra,
            "BRIDGED_BALLS": self.inspection.bridged,
            **self.counted_status(),
        }

    def counted_status(self) -> dict[str, object]:
        """The phase, the wafer, the cycle counter and result, and whether the wafer has flux."""
        flux = False
        if self.wafer_id is not None:
            flux = bool(self.twin.get(self.wafer_id).balls.flux_um.any())
        return {
            "CYCLES_COMPLETED": self.cycles_completed % 65536,
            "LAST_RESULT": int(self.last_result),
            "FLUX_APPLIED": int(flux),
            **self.stage_status(),
        }

    def interlock_conditions(self) -> dict[str, bool]:
        return {"wafer_present": self.wafer_id is not None}

    def conditions_changed(self) -> None:
        """Note when each injected fault began, after playing the cycle up to now."""
        self.advance()
        now = self.clock.now()
        for fault in self.injected - self.fault_since.keys():
            self.fault_since[fault] = now
        for fault in self.fault_since.keys() - self.injected:
            del self.fault_since[fault]

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
            if self.phase is BallMounterPhase.FAULT:
                self.phase = BallMounterPhase.READY
        elif command == "ABORT":
            if self.cycle is not None:
                self._finish(CycleResult.ABORTED, now)
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            return self.transfer(command, parameters)
        elif command in _CYCLE_FIELDS:
            return self._start(command, registers, start, now)
        return None

    def _start(self, command: str, registers: list[int], start: int, now: float) -> Refused | None:
        """Check the cycle's job block registers (`registers` is the map from `start`) and
        start the cycle."""
        refused = self.refuse_out_of_range(registers, start, _CYCLE_FIELDS[command])
        if refused:
            return refused
        bitmap = field(SPEC, "ball_map")
        positions = registers_to_bits(registers[bitmap.address() - start : bitmap.extent - start])
        if not positions:
            return self.refused(CommandError["EMPTY_MAP"], bitmap.address())
        values = self.setpoint_values(registers, start)
        assert self.wafer_id is not None  # the wafer_present interlock
        workpiece = self.twin.get(self.wafer_id)
        face = _FACE[Side(str(values["side"]))]
        if command in ("MOUNT_BALLS", "REPAIR_BALLS"):
            if not workpiece.balls.flux_um.any():
                return self.refused(CommandError["NO_FLUX"])
            if workpiece.balls.present.any() and workpiece.balls.face is not face:
                return self.refused(CommandError["OTHER_SIDE"])
        units = workpiece.geometry.unit_count
        if command == "APPLY_FLUX":
            duration = self.physics.flux_time_s(FluxMethod(str(values["flux_method"])), units)
        elif command == "MOUNT_BALLS":
            duration = self.physics.mount_time_s(units)
        elif command == "REPAIR_BALLS":
            mapped = mapped_sites(workpiece, positions)
            missing = int(np.count_nonzero(repair_sites(workpiece, face, mapped)))
            duration = self.physics.repair_time_s(missing)
        else:
            duration = self.physics.inspect_time_s(units)
        self.cycle = _Cycle(command, values, positions, now, now + duration)
        self.phase = _CYCLE_PHASE[command]
        return None

    # ----------------------------------------------------------------- time and physics

    def _next_event(self) -> tuple[float, str] | None:
        """When the running cycle ends, and how: "end" or the code of the alarm that stops it."""
        cycle = self.cycle
        if cycle is None:
            return None
        for fault, (alarm, phase) in _ALARM_FAULTS.items():
            if fault in self.fault_since and self.phase is phase:
                strikes = max(self.fault_since[fault], cycle.started_s)
                if strikes < cycle.ends_s:
                    return strikes, alarm
        return cycle.ends_s, "end"

    def next_change_s(self, now: float) -> float:
        """When the running cycle ends, or the alarm that stops it strikes (a held read looks
        then); the scan's when no cycle runs."""
        event = self._next_event()
        return self.foreseen_change_s(None if event is None else event[0], now)

    def advance(self) -> None:
        """Play the running cycle's end, or the alarm that stops it, if its time has come."""
        event = self._next_event()
        if event is None or event[0] > self.clock.now():
            return
        time_s, what = event
        if what == "end":
            self._finish(CycleResult.COMPLETED, time_s)
        else:
            self.latch(what)
            self._finish(CycleResult.FAULTED, time_s)
            self.phase = BallMounterPhase.FAULT

    def _finish(self, result: CycleResult, time_s: float) -> None:
        """End the cycle: its physics on the units it finished, its result on the status."""
        cycle = self.cycle
        assert cycle is not None
        assert self.wafer_id is not None
        workpiece = self.twin.get(self.wafer_id)
        done = (time_s - cycle.started_s) / (cycle.ends_s - cycle.started_s)
        self._act(workpiece, cycle, min(done, 1.0), result, time_s)
        self.last_result = result
        self.last_cycle_time_s = time_s - cycle.started_s
        self.cycles_completed += 1
        self.cycle = None
        self.phase = BallMounterPhase.READY
        self.job_ended(_OPERATIONS[cycle.command], [workpiece.id], time_s, JobEnd[result.name])

    def _act(
        self,
        workpiece: Workpiece,
        cycle: _Cycle,
        done: float,
        result: CycleResult,
        time_s: float,
    ) -> None:
        """What the cycle did to `workpiece` over the fraction `done` of its units, recorded."""
        values = cycle.values
        face = _FACE[Side(str(values["side"]))]
        mapped = mapped_sites(workpiece, cycle.positions)
        units_done = int(done * workpiece.geometry.unit_count)
        if cycle.command != "INSPECT":
            mapped &= workpiece.geometry.site_unit < units_done
        rng = workpiece.draws()
        detail: dict[str, float | str] = {
            "result": result.name.lower(),
            "side": face.value,
            "map_positions": len(cycle.positions),
        }
        if cycle.command == "APPLY_FLUX":
            method = FluxMethod(str(values["flux_method"]))
            thickness = float(values["flux_thickness_um"])
            fluxed = apply_flux(workpiece, face, mapped, method, thickness, self.physics, rng)
            detail.update(method=method.value, thickness_um=thickness, sites_fluxed=fluxed)
        elif cycle.command in _PLACING:
            diameter = float(values["ball_diameter_um"])
            alloy = str(values["alloy"])
            placed = _PLACING[cycle.command](
                workpiece, face, mapped, diameter, alloy, self.physics, rng
            )
            self.balls_placed = placed
            detail.update(diameter_um=diameter, alloy=alloy, balls_placed=placed)
        else:
            if result is CycleResult.COMPLETED:
                self.inspection = inspect(workpiece, face, mapped)
                detail.update(
                    sites_inspected=self.inspection.sites_inspected,
                    missing=self.inspection.missing,
                    extra=self.inspection.extra,
                    bridged=self.inspection.bridged,
                )
        workpiece.record(self.name, _OPERATIONS[cycle.command], time_s, **detail)
