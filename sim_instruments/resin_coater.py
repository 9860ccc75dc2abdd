"""Simulated resin coater: the ASCII host link of `docs/protocols/resin-coater.md`.

Speaks the command set of the protocol page (the coater's spec, through the ASCII host-link
wire side `families.ascii_host`) on a `socket://` server (the default) or on a pty. Time is
the line's clock: a step is planned when `SPIN`, `SLOT` or `BAKE` is accepted and applied to
the wafer's twin when the clock reaches its end. `STOP` or an alarm ends it early: a coat is
on the wafer once dispensed (the film sets in the spin's first seconds), a bake counts the time
on the plate so far. The physics is in `sim_instruments/physics/resin_coater.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.roles.clean_room import AMBIENT_C, reachable_c
from packline.drivers.roles.resin_coater import CoaterState, CoatResin, CoatResult, CoatStep
from packline.drivers.specs.resin_coater import RESULT_REPLY, SPEC

from .families.ascii_host import HostRefused, Transport, wafer_id
from .families.ascii_host_jobs import JobTool
from .physics.lithography import bake_time_s
from .physics.resin_coater import (
    Coat,
    CoaterPhysics,
    coated_layer,
    slot_coat,
    slot_time_s,
    soft_bake,
    spin_coat,
    spin_time_total_s,
)
from .twin import JobEnd, TwinStore


def _resin(word: str) -> CoatResin:
    try:
        return CoatResin(word.upper())
    except ValueError:
        raise ValueError(f"resin {word!r} is not one of {', '.join(CoatResin)}") from None


@dataclass
class _Step:
    """A step under way: what it does, to which wafer, when it started and ends."""

    step: CoatStep
    wafer_id: str
    started_s: float
    ends_s: float
    resin: CoatResin
    value: float = 0.0  # spin rpm, slot gap um, or bake temperature degC
    time_s: float = 0.0  # spin time or bake time
    process_from_s: float = 0.0  # when the bake's time at temperature begins


class SimResinCoater(JobTool[_Step]):
    """The simulated resin coater behind a TCP line server (socket://) or a pty."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "lid_open": "the spin cup's lid is opened",
        "exhaust_loss": "the cup and plate exhaust stops",
    }
    fault_opens = {"lid_open": "lid_closed", "exhaust_loss": "cup_exhaust"}
    job_alarms = {"lid_open": "LID_OPENED", "exhaust_loss": "EXHAUST_LOST"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "RC-1-0001",
        physics: CoaterPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or CoaterPhysics()
        self.state = CoaterState.IDLE
        self.last: tuple[_Step, Coat] | None = None

    # ----------------------------------------------------------------- queries

    def _result(self) -> str:
        if self.last is None:
            return "NONE"
        step, coat = self.last
        return RESULT_REPLY.render(
            CoatResult(
                wafer_id=step.wafer_id,
                step=step.step,
                resin=step.resin,
                field_um=coat.field_um,
                min_cover_um=coat.min_cover_um,
                edge_um=coat.edge_um,
                solvent=coat.solvent,
            )
        )

    # ----------------------------------------------------------------- commands

    def _start(self, step: _Step, state: CoaterState) -> str:
        self.require_interlocks(step.step.value)
        self.job, self.state = step, state
        return ""

    def _spin(self, resin: CoatResin, spin_rpm: float, spin_time_s: float) -> str:
        wafer, now = self.loaded(), self.clock.now()
        total = spin_time_total_s(spin_rpm, spin_time_s, self.physics)
        step = _Step(CoatStep.SPIN, wafer.id, now, now + total, resin, spin_rpm, spin_time_s)
        return self._start(step, CoaterState.COATING)

    def _slot(self, resin: CoatResin, slot_gap_um: float) -> str:
        wafer, now = self.loaded(), self.clock.now()
        total = slot_time_s(2 * wafer.geometry.radius_mm, self.physics)
        return self._start(
            _Step(CoatStep.SLOT, wafer.id, now, now + total, resin, slot_gap_um),
            CoaterState.COATING,
        )

    def _bake(self, temperature_c: float, time_s: float) -> str:
        wafer, now = self.loaded(), self.clock.now()
        last = self.last
        if last is None or last[0].wafer_id != wafer.id or coated_layer(wafer) is None:
            raise HostRefused("NO_FILM", f"wafer {wafer.id} carries no film this coater coated")
        temperature_c = reachable_c(temperature_c)  # the room, set below it: no chiller
        ramp = bake_time_s(AMBIENT_C, temperature_c, 0.0, self.physics.spin)
        total = bake_time_s(AMBIENT_C, temperature_c, time_s, self.physics.spin)
        step = _Step(
            CoatStep.BAKE,
            wafer.id,
            now,
            now + total,
            last[0].resin,
            temperature_c,
            time_s,
            now + ramp,
        )
        return self._start(step, CoaterState.BAKING)

    handlers = {
        "STAT?": JobTool.status,
        "LOAD": JobTool.load_wafer,
        "RELOAD": JobTool.reload_wafer,
        "UNLOAD": JobTool.unload_wafer,
        "SPIN": _spin,
        "SLOT": _slot,
        "BAKE": _bake,
        "RESULT?": _result,
        "STOP": JobTool.stop_job,
        "RST": JobTool.reset_alarms,
    }
    parsers = {"wafer": wafer_id, "resin": _resin}

    # ----------------------------------------------------------------- physics

    def operation(self, job: _Step) -> str:
        """A coat (spun or slot-die) or its soft bake."""
        return "soft bake" if job.step is CoatStep.BAKE else "resin coat"

    def apply(self, job: _Step, now: float, result: JobEnd) -> None:
        """Apply what the step did by `now` to the wafer's twin."""
        workpiece = self.twin.get(job.wafer_id)
        physics = self.physics
        if job.step is CoatStep.SPIN:
            coat = spin_coat(workpiece, job.resin, job.value, job.time_s, physics)
            detail: dict[str, float | str] = {"spin_rpm": job.value, "spin_s": job.time_s}
        elif job.step is CoatStep.SLOT:
            coat = slot_coat(workpiece, job.resin, job.value, physics)
            detail = {"slot_gap_um": job.value}
        else:
            assert self.last is not None
            baked_s = min(max(now - job.process_from_s, 0.0), job.time_s)
            coat = soft_bake(workpiece, self.last[1], job.value, baked_s, physics)
            detail = {"temperature_c": job.value, "bake_s": round(baked_s, 1)}
        self.last = (job, coat)
        workpiece.record(
            self.name,
            self.operation(job),
            now,
            resin=job.resin.value,
            field_um=round(coat.field_um, 3),
            min_cover_um=round(coat.min_cover_um, 3),
            result=result.value,
            **detail,
        )
