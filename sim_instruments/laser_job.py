"""A simulated laser's scan job: planned at its start, applied to the workpiece as time passes.

The simulated laser (`sim_instruments/laser.py`) owns the wire and the tool's state; a scan
job is its process model. Starting one plans a dwell per site from the pulses it needs, and
bringing it to a time applies every site finished by then (the ablation physics are in
`sim_instruments/physics/laser.py`), so a virtual clock makes a six-minute scan cost only the
polls that watch it. Its end is recorded in the workpiece's history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.laser import Atmosphere, JobKind, JobState

from .families.scpi import flag
from .physics.laser import (
    LaserPhysics,
    ablate_vias,
    laser_clean,
    scattered_depths_um,
    via_pulses,
)
from .twin import Face, Workpiece


@dataclass
class ScanJob:
    """A scan in progress: its sites, the time each finishes, and what it has done."""

    kind: JobKind
    wafer_id: str
    sites: np.ndarray
    pulses: np.ndarray
    end_s: np.ndarray  # cumulative finish time of each site since the start
    started_s: float
    fluence_j_cm2: float
    depth_um: float | None  # the asked depth; None: to the metal
    stops_um: np.ndarray | None  # where each site's via stops, the depth scattered
    diameter_um: float
    spot_diameter_um: float
    clean_pulses: int
    atmosphere: Atmosphere
    gas_jet: bool
    suction: bool
    face: Face = Face.FRONT  # the face up, towards the beam
    state: JobState = JobState.RUNNING
    done: int = 0
    at_metal: int = 0
    damaged: int = 0
    elapsed_s: float = 0.0

    @classmethod
    def plan(
        cls,
        kind: JobKind,
        workpiece: Workpiece,
        sites: np.ndarray,
        *,
        started_s: float,
        frequency_hz: float,
        fluence_j_cm2: float,
        depth_um: float | None,
        diameter_um: float,
        spot_diameter_um: float,
        clean_pulses: int,
        atmosphere: Atmosphere,
        gas_jet: bool,
        suction: bool,
        physics: LaserPhysics,
        face: Face = Face.FRONT,
    ) -> ScanJob:
        """The job over `sites` (sorted) with each site's dwell: the pulses it needs at
        `frequency_hz` (a via's to its depth, scattered per site by `scattered_depths_um`
        from the workpiece's own draws, or to the metal; a clean's fixed count), then the
        step to the next site."""
        stops_um = None
        if kind is JobKind.DRILL:
            if depth_um is not None:
                first_site = [int(site) for site in sites[:1]]
                stops_um = scattered_depths_um(depth_um, sites.size, workpiece.draws(*first_site))
            pulses = via_pulses(
                workpiece, sites, stops_um, diameter_um, spot_diameter_um, fluence_j_cm2,
                physics, face,
            )  # fmt: skip
        else:
            pulses = np.full(sites.size, clean_pulses, np.int64)
        dwell_s = pulses / frequency_hz + physics.site_step_s
        return cls(
            kind=kind,
            wafer_id=workpiece.id,
            sites=sites,
            pulses=pulses,
            end_s=np.cumsum(dwell_s),
            started_s=started_s,
            fluence_j_cm2=fluence_j_cm2,
            depth_um=depth_um,
            stops_um=stops_um,
            diameter_um=diameter_um,
            spot_diameter_um=spot_diameter_um,
            clean_pulses=clean_pulses,
            atmosphere=atmosphere,
            gas_jet=gas_jet,
            suction=suction,
            face=face,
        )

    @property
    def total_s(self) -> float:
        return float(self.end_s[-1])

    @property
    def ends_s(self) -> float:
        """When the job's last site is done, on the line's clock."""
        return self.started_s + self.total_s

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING

    def advance_to(self, now: float, workpiece: Workpiece, physics: LaserPhysics) -> bool:
        """Apply to `workpiece` every site finished by `now`; True once every site is done
        (from `ends_s` on: `now - started_s` may round below `total_s` there)."""
        self.elapsed_s = (
            self.total_s if now >= self.ends_s else min(now - self.started_s, self.total_s)
        )
        done = int(np.searchsorted(self.end_s, self.elapsed_s, side="right"))
        if done > self.done:
            self._apply(workpiece, slice(self.done, done), physics)
            self.done = done
        return self.done == self.sites.size

    def _apply(self, workpiece: Workpiece, part: slice, physics: LaserPhysics) -> None:
        sites = self.sites[part]
        if self.kind is JobKind.DRILL:
            stops_um = None if self.stops_um is None else self.stops_um[part]
            self.at_metal += ablate_vias(
                workpiece, sites, self.pulses[part], stops_um, self.diameter_um,
                self.spot_diameter_um, self.fluence_j_cm2, physics, self.face,
            )  # fmt: skip
        else:
            at_metal, damaged = laser_clean(
                workpiece, sites, self.fluence_j_cm2, self.clean_pulses, self.atmosphere,
                self.gas_jet, self.suction, physics, self.face,
            )  # fmt: skip
            self.at_metal += at_metal
            self.damaged += damaged

    @property
    def operation(self) -> str:
        """What the job does, in the words of its twin event."""
        return "laser drill" if self.kind is JobKind.DRILL else "laser clean"

    def end(
        self, state: JobState, workpiece: Workpiece, tool: str, source_nm: int, now: float
    ) -> None:
        """End the job in `state` and record it, with what it did, in `workpiece`'s history."""
        self.state = state
        detail: dict[str, float | str] = {
            "outcome": state.value,
            "sites": self.done,
            "fluence_j_cm2": self.fluence_j_cm2,
            "source_nm": source_nm,
            "face": self.face.value,
        }
        if self.kind is JobKind.DRILL:
            detail |= {"diameter_um": self.diameter_um, "vias_open": self.at_metal}
            detail["mode"] = "metal" if self.depth_um is None else f"depth {self.depth_um:g} um"
        else:
            detail |= {
                "pulses": self.clean_pulses,
                "atmosphere": self.atmosphere.value,
                "gas_jet": flag(self.gas_jet),
                "suction": flag(self.suction),
                "metal_damaged_sites": self.damaged,
            }
        workpiece.record(tool, self.operation, now, **detail)
