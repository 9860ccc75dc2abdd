"""The grinder's physics: removal, spindle load and surface by material, and the ground twin.

The wheel works at a level (the total thickness on the chuck). The material at that level sets
the removal rate, the Z feed times the material's removal efficiency (resin grinds faster than
silicon, metal bump tops slower; est), and the spindle load, which follows the removal rate,
the material and the wheel. Each stage leaves its roughness and thickness variation. Everything
above the level is gone (`grind_to_level`): from the front that is resin and bump tops, below
them silicon; from the back it is substrate. Constants are in `GrindPhysics`. The simulated
grinder (`sim_instruments/grinder.py`) runs the cycle's stages and gauge over these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from packline.drivers.roles.grinder import GrindPhase, GrindSide

from ..twin import Face, Workpiece
from ..twin.freezing import thaw


class Material(StrEnum):
    """What the wheel is cutting at its present level."""

    RESIN = "resin"
    SILICON = "silicon"
    METAL = "metal"


@dataclass(frozen=True)
class GrindPhysics:
    """Rates and constants of the grinder model (est where the process windows give none)."""

    #: share of the Z feed actually removed, by material (resin grinds faster than silicon)
    removal_efficiency: dict[Material, float] = field(
        default_factory=lambda: {Material.RESIN: 1.0, Material.SILICON: 0.8, Material.METAL: 0.5}
    )
    #: relative grinding energy per µm removed, by material (silicon = 1)
    specific_load: dict[Material, float] = field(
        default_factory=lambda: {Material.RESIN: 0.4, Material.SILICON: 1.0, Material.METAL: 1.3}
    )
    idle_load_pct: float = 10.0
    #: spindle load per µm/s of removal at the reference speed, coarse (#600) and fine (#2000) wheel
    coarse_load_pct_per_um_s: float = 7.5
    fine_load_pct_per_um_s: float = 125.0
    reference_spindle_rpm: float = 4500.0
    load_limit_pct: float = 100.0
    glazed_load_factor: float = 2.5
    #: polishing removes at this rate times the material's removal efficiency (dry polish, est)
    polish_rate_um_s: float = 0.05
    polish_load_pct: float = 25.0
    #: time from the gauge reaching a threshold to the feed stopping
    gauge_response_s: float = 0.02
    #: Ra of a polished surface, µm (coarse and fine surfaces: see `surface`)
    polish_ra_um: float = 0.005

    def removal_rate_um_s(self, stage: GrindPhase, feed_um_s: float, material: Material) -> float:
        efficiency = self.removal_efficiency[material]
        if stage is GrindPhase.POLISH:
            return self.polish_rate_um_s * efficiency
        return feed_um_s * efficiency

    def spindle_load_pct(
        self,
        stage: GrindPhase,
        removal_um_s: float,
        material: Material,
        spindle_rpm: float,
        glazed: bool,
    ) -> float:
        if stage is GrindPhase.POLISH:
            return self.polish_load_pct
        per_um_s = (
            self.coarse_load_pct_per_um_s if stage is GrindPhase.COARSE
            else self.fine_load_pct_per_um_s
        )  # fmt: skip
        cutting = per_um_s * removal_um_s * self.specific_load[material]
        cutting *= self.reference_spindle_rpm / spindle_rpm
        if glazed:
            cutting *= self.glazed_load_factor
        return self.idle_load_pct + cutting

    def surface(
        self, stage: GrindPhase, feed_um_s: float, spindle_rpm: float, chuck_rpm: float
    ) -> tuple[float, float | None]:
        """Ra and TTV (µm) a stage leaves; TTV None: the stage keeps the one before (polish)."""
        speed = self.reference_spindle_rpm / spindle_rpm
        if stage is GrindPhase.COARSE:
            return 0.3 + 0.06 * feed_um_s * speed, 2.0 + 0.2 * feed_um_s
        if stage is GrindPhase.FINE:
            return 0.02 + 0.2 * feed_um_s * speed, 0.4 + feed_um_s * math.sqrt(200.0 / chuck_rpm)
        return self.polish_ra_um, None


# ------------------------------------------------------------------------- pure physics


def die_backs_um(workpiece: Workpiece) -> float:
    """Height of the highest placed die's back above the substrate (0 without dies): a die
    flip-chip mounted on a panel or a board lies with its active side on the substrate."""
    return float(workpiece.dies.thickness_um.max(initial=0.0))


def front_top_um(workpiece: Workpiece) -> float:
    """Height of the highest feature (resin, bump, die back, or a frame and its columns,
    000:x2) above the substrate, µm."""
    return max(
        workpiece.resins.max_thickness_um(),
        float(workpiece.bumps.height_um.max(initial=0.0)),
        die_backs_um(workpiece),
        float(workpiece.frame.height_um.max(initial=0.0)),
        0.0,
    )


def back_stack_um(workpiece: Workpiece) -> float:
    """What the substrate's back carries under it on the chuck: a tape panel's metal
    interconnection layer and solder resist (0 for a bare wafer back)."""
    films = sum(
        float(film.thickness_um.max(initial=0.0))
        for film in workpiece.films.layers
        if film.face is Face.BACK
    )
    return films + workpiece.resins.max_thickness_um(Face.BACK)


def base_um(workpiece: Workpiece) -> float:
    """The level of the substrate's top: the substrate and what its back carries."""
    return workpiece.geometry.thickness_um + back_stack_um(workpiece)


def total_thickness_um(workpiece: Workpiece) -> float:
    """What a contact gauge reads on the chuck: the substrate with what its back carries,
    plus the highest front feature."""
    return base_um(workpiece) + front_top_um(workpiece)


def surface_material(workpiece: Workpiece, side: GrindSide, level_um: float) -> Material:
    """The material the wheel cuts at `level_um` (total thickness), from the given side: from
    the front, the die backs (silicon) where the level is down to them, else resin, else the
    bump tops standing above it."""
    if side is GrindSide.BACK:
        return Material.SILICON
    height = level_um - base_um(workpiece)
    if height <= die_backs_um(workpiece) or height <= 0:
        return Material.SILICON
    if height <= workpiece.resins.max_thickness_um():
        return Material.RESIN
    return Material.METAL


def material_boundaries_um(workpiece: Workpiece, side: GrindSide) -> list[float]:
    """Levels (total thickness) at which the material under the wheel changes, highest first."""
    if side is GrindSide.BACK:
        return []
    base = base_um(workpiece)
    heights = {workpiece.resins.max_thickness_um(), die_backs_um(workpiece), 0.0}
    return sorted((base + height for height in heights), reverse=True)


def grind_to_level(workpiece: Workpiece, side: GrindSide, level_um: float) -> None:
    """Remove everything above `level_um` (total thickness) from the given side, in place.

    From the front: resin, bump tops and die backs are cut to the new surface on every site
    and die at once (000:f: the sealing resin and the die backs ground flush; 000:x2: a
    frame and its columns' top ends with them), and a level
    below the substrate top cuts the substrate. From the back: the substrate thins, the front
    features stay. Idempotent for a given level.
    """
    geometry = workpiece.geometry
    back = back_stack_um(workpiece)
    if side is GrindSide.BACK:
        substrate = level_um - front_top_um(workpiece) - back
        geometry.thickness_um = max(min(geometry.thickness_um, substrate), 0.0)
        return
    height = level_um - geometry.thickness_um - back
    if height < 0:
        geometry.thickness_um = max(level_um - back, 0.0)
        height = 0.0
    workpiece.resins.cut_to_height(height)
    frame = workpiece.frame
    thaw(
        workpiece.bumps.height_um, workpiece.dies.thickness_um, frame.height_um, frame.column_top_um
    )
    np.minimum(workpiece.bumps.height_um, height, out=workpiece.bumps.height_um)
    np.minimum(workpiece.dies.thickness_um, height, out=workpiece.dies.thickness_um)
    np.minimum(frame.height_um, height, out=frame.height_um)
    np.minimum(frame.column_top_um, height, out=frame.column_top_um)
