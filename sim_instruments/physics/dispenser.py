"""What the jetting dispenser does to a panel: filler into the holes by volume, resin round dies.

Pure functions over the workpiece's parts, with their constants in `DispenserPhysics`
(engineering estimates, est):

* **Holes.** A drilled through-hole (the `geometry` hole sites whose substrate opening the
  laser made, 000:a) holds V = π (d/2)² · depth. Each hole gets one shot of the asked volume,
  scattered by the jet's repeatability (1 % 1-sigma); the filler's level rises by volume over
  the hole's cross-section and stops at the hole's top: a hole given more than its volume
  overflows onto the tape (`Fill.settle`: the overflow V_fill - V_hole is kept as spilt, the
  hole holds V_hole). Shots add up: a second fill tops the holes up.
* **The camera's check (000:b).** The fill is deliberately incomplete: the terminal inserted
  later takes the rest. Each hole's filler jetted (held or spilt) + terminal volume is
  compared with its measured volume: above V_hole by more than the tolerance (5 %,
  `FILL_TOLERANCE` of the role) the hole
  is overfilled, below it by more, underfilled.
* **Seal (000:e).** Around each die, over its unit outside the die, the resin levels at the
  height asked above the substrate; the die's side faces are sealed up to that height, and
  its back is covered where the height is above the die's thickness. The sealing resin is a
  front layer of the `resins` part whose thickness at each site is the resin's top above the
  substrate on that site's unit (0 on units without a die); it stays uncured for the oven.
  Volume per die = (unit area - die area) · h + die area · max(h - die thickness, 0).
* **Timing.** Fiducial alignment, then a hole every 1/rate or a die's resin at the valve's
  flow with the travel between dies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.dispenser import FILL_TOLERANCE, SHOT_CV, FillMaterial

from ..twin import ResinKind, Workpiece
from ..twin.parts import UM3_PER_NL, Face

#: Cubic micrometres in a microlitre.
UM3_PER_UL = 1e9


@dataclass(frozen=True)
class DispenserPhysics:
    """The dispenser's constants (est)."""

    shot_cv: float = SHOT_CV  # the jet's volume repeatability, 1-sigma of a shot
    #: the camera's over/under threshold, of the hole's volume (the line's figure)
    fill_tolerance: float = FILL_TOLERANCE
    holes_per_s: float = 20.0  # holes visited and jetted per second
    seal_flow_ul_s: float = 20.0  # the resin valve's flow
    travel_s_per_die: float = 2.0  # the gantry's move between two dies' outlines
    align_s: float = 10.0  # fiducial alignment before a job


@dataclass(frozen=True)
class FillOutcome:
    """What a fill job left, as the camera measures it (`FILL?`)."""

    holes: int
    hole_volume_nl: float  # mean
    fill_volume_nl: float  # mean dispensed by this job
    overfilled: int
    underfilled: int
    worst_error: float


@dataclass(frozen=True)
class SealOutcome:
    """What a seal job left (`SEAL?`)."""

    dies: int
    height_um: float
    volume_ul: float  # mean per die
    exposed: int  # dies whose side faces stand above the resin


def hole_area_um2(workpiece: Workpiece) -> np.ndarray:
    """Per site, the cross-section of its through-hole in um2 (0 where none is drilled)."""
    diameter = workpiece.openings.substrate.diameter_um.astype(np.float64)
    area: np.ndarray = np.where(workpiece.geometry.hole, math.pi * (diameter / 2) ** 2, 0.0)
    return area


def hole_volume_nl(workpiece: Workpiece, area_um2: np.ndarray | None = None) -> np.ndarray:
    """Per site, the volume of its drilled through-hole in nl (0 where none is drilled), from
    the holes' cross-sections (`hole_area_um2`; a caller that has them passes `area_um2`)."""
    area = hole_area_um2(workpiece) if area_um2 is None else area_um2
    volume: np.ndarray = area * workpiece.openings.substrate.depth_um
    return volume / UM3_PER_NL


def drilled_holes(workpiece: Workpiece) -> np.ndarray:
    """Sites with a drilled through-hole (bool per site)."""
    drilled: np.ndarray = hole_volume_nl(workpiece) > 0
    return drilled


def fill_time_s(holes: int, physics: DispenserPhysics) -> float:
    """A fill job's time: alignment, then every hole at the jet's rate."""
    return physics.align_s + holes / physics.holes_per_s


def fill_holes(
    workpiece: Workpiece,
    material: FillMaterial,
    volume_nl: float,
    terminal_volume_nl: float,
    elapsed_s: float,
    physics: DispenserPhysics,
    rng: np.random.Generator,
) -> FillOutcome:
    """Jet `volume_nl` of `material` into the drilled holes the job reached in `elapsed_s` (in
    site order: a job stopped early left the rest empty) and measure each hole jetted."""
    capacity = hole_volume_nl(workpiece)
    holes = np.flatnonzero(capacity > 0)
    holes = holes[: _reached(elapsed_s, 1 / physics.holes_per_s, physics)]
    fill = workpiece.fill
    shots = volume_nl * (1 + physics.shot_cv * rng.standard_normal(holes.size))
    jetted = fill.volume_nl[holes] + fill.overflow_nl[holes] + np.maximum(shots, 0.0)
    fill.settle(
        holes,
        fill.volume_nl[holes] + np.maximum(shots, 0.0),
        workpiece.dies.terminal_nl[holes],
        capacity[holes],
        hole_area_um2(workpiece)[holes],
    )
    fill.material = material.value
    if holes.size == 0:
        return FillOutcome(0, 0.0, 0.0, 0, 0, 0.0)
    error = (jetted + terminal_volume_nl - capacity[holes]) / capacity[holes]
    return FillOutcome(
        holes=int(holes.size),
        hole_volume_nl=float(capacity[holes].mean()),
        fill_volume_nl=float(shots.mean()),
        overfilled=int(np.count_nonzero(error > physics.fill_tolerance)),
        underfilled=int(np.count_nonzero(error < -physics.fill_tolerance)),
        worst_error=float(np.abs(error).max()),
    )


def die_area_um2(workpiece: Workpiece) -> float:
    """The footprint of a die on the workpiece, in square micrometres."""
    width_mm, height_mm = workpiece.spec.die_size_mm
    return width_mm * height_mm * 1e6


def seal_volume_ul(workpiece: Workpiece, height_um: float) -> np.ndarray:
    """Per placed die, the resin that levels its unit at `height_um` (ul)."""
    unit_w, unit_h = workpiece.geometry.unit_size_mm
    die = die_area_um2(workpiece)
    around = (unit_w * unit_h * 1e6 - die) * height_um
    over_back = die * np.maximum(height_um - workpiece.dies.thickness_um.astype(np.float64), 0)
    volume: np.ndarray = (around + over_back) / UM3_PER_UL
    return volume


def _reached(elapsed_s: float, each_s: float, physics: DispenserPhysics) -> int:
    """How many targets a job taking `each_s` per target finished in `elapsed_s` from its
    start (after the alignment)."""
    return int((elapsed_s - physics.align_s) / each_s + 1e-6) if elapsed_s > physics.align_s else 0


def seal_die_s(workpiece: Workpiece, height_um: float, physics: DispenserPhysics) -> float:
    """The time to seal one die: its resin at the valve's flow and the travel to the next."""
    if workpiece.dies.count == 0:
        return physics.travel_s_per_die
    volume = float(seal_volume_ul(workpiece, height_um).mean())
    return volume / physics.seal_flow_ul_s + physics.travel_s_per_die


def seal_time_s(workpiece: Workpiece, height_um: float, physics: DispenserPhysics) -> float:
    """A seal job's time: alignment, then every die."""
    return physics.align_s + workpiece.dies.count * seal_die_s(workpiece, height_um, physics)


def seal_dies(
    workpiece: Workpiece, height_um: float, elapsed_s: float, physics: DispenserPhysics
) -> SealOutcome:
    """Lay sealing resin at `height_um` around the dies the job reached in `elapsed_s` (in
    placement order: a job stopped early left the rest bare): one uncured sealing layer on
    the front."""
    dies = workpiece.dies
    each_s = seal_die_s(workpiece, height_um, physics)
    sealed = np.arange(dies.count) < _reached(elapsed_s, each_s, physics)
    unit_height = np.zeros(workpiece.geometry.unit_count, np.float32)
    unit_height[dies.unit[sealed]] = height_um
    site_height = unit_height[workpiece.geometry.site_unit]
    workpiece.add_resin(ResinKind.SEALING, site_height, face=Face.FRONT)
    count = int(np.count_nonzero(sealed))
    if count == 0:
        return SealOutcome(0, height_um, 0.0, 0)
    return SealOutcome(
        dies=count,
        height_um=height_um,
        volume_ul=float(seal_volume_ul(workpiece, height_um)[sealed].mean()),
        exposed=int(np.count_nonzero(dies.thickness_um[sealed] > height_um)),
    )
