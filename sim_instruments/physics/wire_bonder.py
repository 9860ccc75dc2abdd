"""The wire bonder's stud-bump physics: pure vectorised functions over the twin's sites.

Models a stud's geometry (height and collar from the wire, force, energy and material, by the
line's stud law in `packline.drivers.roles.wire_bonder`, which validate reads too), whether
its ball sticks to the pad (non-stick on pad, from contamination, temperature and energy), the
wire each stud consumes and its cycle time, and the finished bumps laid onto the workpiece.
The other constants are in `BondPhysics` (defaults from the process windows, (est) ones wide). The
simulated bonder (`sim_instruments/wire_bonder.py`) plans a run with `plan_bumps` at its start
and lays it onto the wafer with `bond_studs` as time passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.wire_bonder import (
    STUD_BASE_SPREAD,
    STUD_HEIGHT_SPREAD,
    STUD_SPREAD_SIGMAS,
    STUD_TAIL_UM,
    BondProgram,
    stud_base_um,
    stud_tip_oxide_nm,
    studs_added_um,
)

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import BumpKind
from ..twin.resolution import on_map_grid


@dataclass(frozen=True)
class BondPhysics:
    """Constants of the stud model; defaults from PROCESS_WINDOWS (the (est) ones kept wide)."""

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
    spool_length_m: float = 500.0


# ------------------------------------------------------------------------- pure physics


def form_studs(
    existing_height_um: np.ndarray,
    existing_base_um: np.ndarray,
    program: BondProgram,
    stack_count: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Height and base diameter of each site after `stack_count` studs are bonded on it, by the
    line's stud law (`studs_added_um`, its spread clipped at `STUD_SPREAD_SIGMAS`).

    A bare pad (height 0) gets a base stud and `stack_count - 1` studs on top, and the tail; a
    site that already carries a bump gets all `stack_count` stacked on it (on its tail, which
    the top stud's replaces) and keeps its base: the spread is the new studs' own.
    """
    n = existing_height_um.size
    bare = existing_height_um <= 0
    height_z, base_z = (
        np.clip(rng.standard_normal(n), -STUD_SPREAD_SIGMAS, STUD_SPREAD_SIGMAS) for _ in range(2)
    )
    added = np.where(
        bare,
        studs_added_um(program, stack_count, on_a_bump=False),
        studs_added_um(program, stack_count, on_a_bump=True),
    )
    height = np.where(bare, STUD_TAIL_UM, existing_height_um) + added * (
        1 + STUD_HEIGHT_SPREAD * height_z
    )
    new_base = stud_base_um(program) * (1 + STUD_BASE_SPREAD * base_z)
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
    return (ball_um3 / (math.pi / 4 * d**2) + STUD_TAIL_UM) * 1e-6


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
    thaw(bumps.height_um, bumps.base_diameter_um, bumps.stack)
    thaw(surface.residue_nm, surface.oxide_nm, surface.activated)
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
        rng,
    )
    p = non_stick_probability(
        workpiece.surface.residue_nm[sites], workpiece.surface.oxide_nm[sites], program, physics
    )
    fails = rng.random(sites.size) < p
    non_stick_at = int(np.argmax(fails)) if fails.any() else int(sites.size)
    return BumpPlan(sites, height, base, non_stick_at)
