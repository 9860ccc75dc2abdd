"""Simulated jetting dispenser: the ASCII host link of `docs/protocols/dispenser.md`.

Speaks the command set of the protocol page (the dispenser's spec, through the ASCII host-link
wire side `families.ascii_host`) on a `socket://` server (the default) or on a pty. Time is the
line's clock: a job is planned when `FILL` or `SEAL` is accepted and applied to the panel's twin
when the clock reaches its end. `STOP` or an alarm ends it early: the holes or dies the gantry
reached by then got their filler or resin, the rest none. The physics is in
`sim_instruments/physics/dispenser.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.clock import Clock
from packline.drivers.roles.dispenser import (
    DispenserState,
    FillMaterial,
    FillResult,
    SealResin,
    SealResult,
)
from packline.drivers.specs.dispenser import FILL_REPLY, SEAL_REPLY, SPEC

from .families.ascii_host import HostRefused, Transport, wafer_id
from .families.ascii_host_jobs import JobTool
from .physics.dispenser import (
    DispenserPhysics,
    FillOutcome,
    SealOutcome,
    drilled_holes,
    fill_holes,
    fill_time_s,
    seal_dies,
    seal_time_s,
)
from .twin import JobEnd, PanelSpec, TwinStore, Workpiece


def _material(word: str) -> FillMaterial:
    try:
        return FillMaterial(word.upper())
    except ValueError:
        raise ValueError(f"material {word!r} is not one of {', '.join(FillMaterial)}") from None


def _resin(word: str) -> SealResin:
    try:
        return SealResin(word.upper())
    except ValueError:
        raise ValueError(f"resin {word!r} is not one of {', '.join(SealResin)}") from None


@dataclass
class _Job:
    """A job under way: what it dispenses, onto which panel, when it started and ends."""

    wafer_id: str
    started_s: float
    ends_s: float
    what: FillMaterial | SealResin
    volume_nl: float = 0.0  # a fill's volume per hole
    terminal_volume_nl: float = 0.0  # a fill's room left for the terminal
    height_um: float = 0.0  # a seal's height


def _named(workpiece: Workpiece) -> str:
    """A workpiece as a refusal names it: `panel P1` for a tape panel, `wafer W1` otherwise."""
    return f"{'panel' if isinstance(workpiece.spec, PanelSpec) else 'wafer'} {workpiece.id}"


class SimDispenser(JobTool[_Job]):
    """The simulated jetting dispenser behind a TCP line server (socket://) or a pty."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "door_open": "the safety door is opened",
        "air_loss": "the jet valve's supply air fails",
    }
    fault_opens = {"door_open": "door_closed", "air_loss": "jet_air"}
    job_alarms = {"door_open": "DOOR_OPENED", "air_loss": "AIR_LOST"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "DP-1-0001",
        physics: DispenserPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or DispenserPhysics()
        self.state = DispenserState.IDLE
        self.last_fill: tuple[_Job, FillOutcome] | None = None
        self.last_seal: tuple[_Job, SealOutcome] | None = None

    # ----------------------------------------------------------------- queries

    def _fill_result(self) -> str:
        if self.last_fill is None:
            return "NONE"
        job, fill = self.last_fill
        return FILL_REPLY.render(
            FillResult(
                wafer_id=job.wafer_id,
                material=FillMaterial(job.what),
                holes=fill.holes,
                hole_volume_nl=fill.hole_volume_nl,
                fill_volume_nl=fill.fill_volume_nl,
                terminal_volume_nl=job.terminal_volume_nl,
                overfilled=fill.overfilled,
                underfilled=fill.underfilled,
                worst_error=fill.worst_error,
            )
        )

    def _seal_result(self) -> str:
        if self.last_seal is None:
            return "NONE"
        job, seal = self.last_seal
        return SEAL_REPLY.render(
            SealResult(
                wafer_id=job.wafer_id,
                resin=SealResin(job.what),
                dies=seal.dies,
                height_um=seal.height_um,
                volume_ul=seal.volume_ul,
                exposed=seal.exposed,
            )
        )

    # ----------------------------------------------------------------- commands

    def _fill(self, material: FillMaterial, volume_nl: float, terminal_volume_nl: float) -> str:
        panel, now = self.loaded(), self.clock.now()
        holes = int(np.count_nonzero(drilled_holes(panel)))
        if holes == 0:
            raise HostRefused("NO_HOLES", f"{_named(panel)} has no drilled through-hole")
        self.require_interlocks("FILL")
        ends = now + fill_time_s(holes, self.physics)
        self.job = _Job(panel.id, now, ends, material, volume_nl, terminal_volume_nl)
        self.state = DispenserState.FILLING
        return ""

    def _seal(self, resin: SealResin, height_um: float) -> str:
        panel, now = self.loaded(), self.clock.now()
        if panel.dies.count == 0:
            raise HostRefused("NO_DIES", f"{_named(panel)} carries no die")
        self.require_interlocks("SEAL")
        ends = now + seal_time_s(panel, height_um, self.physics)
        self.job = _Job(panel.id, now, ends, resin, height_um=height_um)
        self.state = DispenserState.SEALING
        return ""

    handlers = {
        "STAT?": JobTool.status,
        "LOAD": JobTool.load_wafer,
        "RELOAD": JobTool.reload_wafer,
        "UNLOAD": JobTool.unload_wafer,
        "FILL": _fill,
        "SEAL": _seal,
        "FILL?": _fill_result,
        "SEAL?": _seal_result,
        "STOP": JobTool.stop_job,
        "RST": JobTool.reset_alarms,
    }
    parsers = {"wafer": wafer_id, "material": _material, "resin": _resin}

    # ----------------------------------------------------------------- physics

    def operation(self, job: _Job) -> str:
        """A fill of the panel's holes, or a seal of resin around its dies."""
        return "fill holes" if isinstance(job.what, FillMaterial) else "seal dies"

    def apply(self, job: _Job, now: float, result: JobEnd) -> None:
        """Apply what the job dispensed by `now` to the panel's twin."""
        panel = self.twin.get(job.wafer_id)
        elapsed_s = now - job.started_s
        if isinstance(job.what, FillMaterial):
            rng = panel.draws()
            fill = fill_holes(
                panel, job.what, job.volume_nl, job.terminal_volume_nl, elapsed_s, self.physics, rng
            )
            self.last_fill = (job, fill)
            panel.record(
                self.name,
                self.operation(job),
                now,
                material=job.what.value,
                volume_nl=job.volume_nl,
                terminal_volume_nl=job.terminal_volume_nl,
                holes=fill.holes,
                overfilled=fill.overfilled,
                underfilled=fill.underfilled,
                result=result.value,
            )
        else:
            seal = seal_dies(panel, job.height_um, elapsed_s, self.physics)
            self.last_seal = (job, seal)
            panel.record(
                self.name,
                self.operation(job),
                now,
                resin=job.what.value,
                height_um=job.height_um,
                dies=seal.dies,
                exposed=seal.exposed,
                result=result.value,
            )
