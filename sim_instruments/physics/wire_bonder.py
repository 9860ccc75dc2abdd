"""The wire bonder's stud-bump physics: pure vectorised functions over the twin's sites.

Models a stud's geometry (height and collar from the wire, force, energy and material), whether
its ball sticks to the pad (non-stick on pad, from contamination, temperature and energy), the
wire each stud consumes and its cycle time, and the finished bumps laid onto the workpiece.
Constants are in `BondPhysics` (defaults from the process windows, (est) ones wide). The
simulated bonder (`sim_instruments/wire_bonder.py`) plans a run with `plan_bumps` at its start
and lays it onto the wafer with `bond_studs` as time passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial, stud_tip_oxide_nm

from ..twin import Workpiece
from ..twin.parts import BumpKind
from ..twin.resolution import on_map_grid


@dataclass(frozen=True)
class BondPhysics:
    """Constants of the stud model; defaults from PROCESS_WINDOWS (the (est) ones kept wide)."""

    #: bonded base (collar) diameter / wire diameter: about 104 µm on 25 µm wire
    collar_ratio: float = 4.16
    #: body height of a stud bonded on a pad / wire diameter (before its tail)
    first_stud_ratio: float = 1.4
    #: height each stud stacked on another adds / wire diameter: 20-35 µm on 25 µm wire
    stacked_stud_ratio: float = 1.1
    #: tail left on the top stud when the wire is torn off (5-20 µm)
    tail_um: float = 10.0
    #: relative 1-sigma spread of stud height and base diameter
    height_spread: float = 0.02
    base_spread: float = 0.015
    #: the program at which the ratios above hold; more force or energy flattens the stud
    reference_force_gf: float = 35.0
    reference_energy_uj: float = 720.0
    #: copper is harder than gold: it deforms less under the same program (est)
    copper_deformation: float = 0.9
    #: free-air ball diameter / wire diameter (1.6-2.5); sets the wire a stud consumes
    free_air_ball_ratio: float = 2.0
    #: ultrasonic energy a ball needs to stick to a clean pad at the reference temperature (est)
    clean_bond_energy_uj: float = 100.0
    #: each this much residue + oxide on a pad adds the clean bond energy again (est)
    contamination_scale_nm: float = 10.0
    #: the needed energy grows e-fold for every this many degrees below the reference (est)
    reference_temperature_c: float = 150.0
    temperature_scale_c: float = 80.0
    #: how sharply sticking fails as the energy falls towards what the pad needs
    stick_steepness: float = 8.0
    #: bond head motion, ball forming and tail cut per stud, besides the ultrasonic time:
    #: 55 ms + 12 ms gives 15 studs/s (10-25 bumps/s)
    motion_s: float = 0.055
    heating_rate_c_per_s: float = 5.0
    ambient_c: float = 25.0
    spool_length_m: float = 500.0


# ------------------------------------------------------------------------- pure physics


def stud_deformation(program: BondProgram, physics: BondPhysics) -> float:
    """How much more than at the reference program a stud is flattened (1.0 at the reference)."""
    material = physics.copper_deformation if program.wire_material is WireMaterial.CU else 1.0
    return float(
        material
        * (program.bond_force_gf / physics.reference_force_gf) ** 0.15
        * (program.ultrasonic_energy_uj / physics.reference_energy_uj) ** 0.05
    )


def form_studs(
    existing_height_um: np.ndarray,
    existing_base_um: np.ndarray,
    program: BondProgram,
    stack_count: int,
    physics: BondPhysics,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Height and base diameter of each site after `stack_count` studs are bonded on it.

    A bare pad (height 0) gets a base stud and `stack_count - 1` studs on top; a site that
    already carries a bump gets all `stack_count` stacked on it and keeps its base.
    """
    d = program.wire_diameter_um
    deformation = stud_deformation(program, physics)
    first = physics.first_stud_ratio * d / deformation
    stacked = physics.stacked_stud_ratio * d / deformation
    n = existing_height_um.size
    bare = existing_height_um <= 0
    body = np.where(
        bare,
        first + (stack_count - 1) * stacked,
        existing_height_um - physics.tail_um + stack_count * stacked,
    )
    height = body * (1 + physics.height_spread * rng.standard_normal(n)) + physics.tail_um
    new_base = (
        physics.collar_ratio * d * deformation * (1 + physics.base_spread * rng.standard_normal(n))
    )
    base = np.where(bare, new_base, existing_base_um)
    return on_map_grid(height), on_map_grid(base)


def non_stick_probability(
    residue_nm: np.ndarray, oxide_nm: np.ndarray, program: BondProgram, physics: BondPhysics
) -> np.ndarray:
    """Chance that the first ball on each site does not stick (NSOP).

    The energy a site needs grows with the residue and oxide on its metal and as the stage
    runs colder; the ball fails more and more surely as the program's ultrasonic energy falls
    towards and below it.
    """
    contamination = residue_nm.astype(np.float64) + oxide_nm
    needed_uj = (
        physics.clean_bond_energy_uj
        * (1 + contamination / physics.contamination_scale_nm)
        * math.exp(
            (physics.reference_temperature_c - program.stage_temperature_c)
            / physics.temperature_scale_c
        )
    )
    margin = program.ultrasonic_energy_uj / needed_uj
    probability: np.ndarray = 1 / (
        1 + np.exp(np.minimum(physics.stick_steepness * (margin - 1), 700))
    )
    return probability


def wire_per_stud_m(program: BondProgram, physics: BondPhysics) -> float:
    """Wire length one stud consumes: its free-air ball's volume as wire, plus the tail."""
    d = program.wire_diameter_um
    ball_um3 = math.pi / 6 * (physics.free_air_ball_ratio * d) ** 3
    return (ball_um3 / (math.pi / 4 * d**2) + physics.tail_um) * 1e-6


def stud_cycle_s(program: BondProgram, physics: BondPhysics) -> float:
    """Time for one stud: bond head motion and ball forming plus the ultrasonic bond."""
    return physics.motion_s + program.ultrasonic_time_ms / 1000


def bond_studs(
    workpiece: Workpiece,
    sites: np.ndarray,
    height_um: np.ndarray,
    base_um: np.ndarray,
    stack_count: int,
    program: BondProgram,
    physics: BondPhysics,
) -> None:
    """Put finished stud bumps on `sites` of the workpiece: geometry, stack and a clean tip."""
    bumps, surface = workpiece.bumps, workpiece.surface
    bumps.height_um[sites] = height_um
    bumps.base_diameter_um[sites] = base_um
    bumps.stack[sites] += stack_count
    bumps.kind = BumpKind.STUD
    bumps.material = program.wire_material.value
    surface.residue_nm[sites] = 0
    surface.oxide_nm[sites] = stud_tip_oxide_nm(program.wire_material, program.stage_temperature_c)
    surface.activated[sites] = False


@dataclass
class BumpPlan:
    """A run worked out at its start: what each selected site becomes, and where a ball fails."""

    sites: np.ndarray
    height_um: np.ndarray
    base_um: np.ndarray
    #: index (into `sites`) of the first site whose ball does not stick; len(sites) if none
    non_stick_at: int


def plan_bumps(
    workpiece: Workpiece,
    sites: np.ndarray,
    program: BondProgram,
    stack_count: int,
    physics: BondPhysics,
    rng: np.random.Generator,
) -> BumpPlan:
    """Plan bumping `sites` (ascending) of the workpiece with `program`, vectorised."""
    height, base = form_studs(
        workpiece.bumps.height_um[sites],
        workpiece.bumps.base_diameter_um[sites],
        program,
        stack_count,
        physics,
        rng,
    )
    p = non_stick_probability(
        workpiece.surface.residue_nm[sites], workpiece.surface.oxide_nm[sites], program, physics
    )
    fails = rng.random(sites.size) < p
    non_stick_at = int(np.argmax(fails)) if fails.any() else int(sites.size)
    return BumpPlan(sites, height, base, non_stick_at)
