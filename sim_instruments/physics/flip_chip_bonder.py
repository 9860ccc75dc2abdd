"""The flip-chip bonder's physics: dies picked, flipped, placed and bonded, over the twin's arrays.

* **Fit**: a die's terminals are its source wafer unit's bumps, or, on a chip-size package
  without bumps (002:1i), the solder balls joined on its lands (`die_terminals`); flipped
  (active side down) they mirror about the die's vertical axis. Each must fall on a site of
  the target unit (a hole of a tape panel, a pad of a board) within `fit_tolerance_um`, one
  terminal per site, else the dies do not fit the substrate (`Misfit`).
* **Placement**: the vision aligns each die to its unit with a random offset and rotation
  (`placement_sigma_um`, `rotation_sigma_mdeg`) about a systematic error (a drifted vision
  calibration). A terminal is seated when its centre lands within `(hole - terminal) / 2` of
  its hole's centre (a recipe's holes are judged at `LANDING_SIGMAS` of the scatter,
  `FlipChipPhysics.farthest_landing_um`), the hole is drilled through to the metal, and the
  terminal is not taller than the hole by more than the force can coin away; on a pad, when
  its centre lands on the pad. A die is rigid: one terminal that is not seated holds the whole
  die off (none seated).
* **Filler** (000:b-c): a seated terminal pushes its volume inside the hole (the role's
  `terminal_volume_nl`) into the filler,
  which rises; surface tension holds a meniscus of up to `meniscus_fraction` of the hole's
  volume above its top, what is more spills over (`Fill.settle`), and a shortfall leaves
  the filler below the top (a void under the die).
* **Joint** (000:d, 003:21, 003:24), at each seated terminal, at the joint temperature (the
  stage's plus a share of the head's excess): a solder there (the filler if it is a
  low-melting metal, such as the dispenser's Sn42Bi58, the terminal's eutectic layer, a solder
  terminal) wets when the joint is
  above its liquidus for the wetting time; a conductive paste filler gels around the terminal
  above its gel temperature for its gel time; a gold or copper terminal on metal (a pad, or a
  hole's bottom it reaches) bonds by thermocompression above its temperature with enough force
  per terminal for long enough. A die is bonded when each of its terminals is seated and joined.
* **Time**: the stage ramps to its temperature once per run; each die takes the pick, flip and
  alignment motion (or the sheet's indexing), the head's ramp above the stage, and the bond
  time.

The frames and stacks (000:x2), built on these, are in `flip_chip_frame.py`, the solder-sheet
transfer (003:21-22) in `flip_chip_transfer.py`. Constants are engineering estimates (est):
PROCESS_WINDOWS.md has no flip-chip bonder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from packline.drivers.roles.dispenser import FILLER_SOLDER
from packline.drivers.roles.flip_chip_bonder import (
    HEAD_TO_JOINT,
    PASTE_GEL_C,
    PASTE_GEL_S,
    WETTING_TIME_S,
    BondRecipe,
    terminal_volume_nl,
)
from packline.drivers.roles.flip_chip_bonder import (
    joint_temperature_c as line_joint_temperature_c,
)
from packline.drivers.roles.oven import LIQUIDUS_C

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import Geometry
from ..twin.resolution import on_map_grid
from .dispenser import hole_area_um2, hole_volume_nl
from .oven import melts

#: How many sigma of the vision's scatter (`placement_sigma_um`, `rotation_sigma_mdeg`) a
#: recipe's holes are judged to take (`FlipChipPhysics.farthest_landing_um`): 5, as the
#: dispenser's shots are (`SHOT_SPREAD`), one die in 1.7 million off by more.
LANDING_SIGMAS = 5.0


class Misfit(ValueError):
    """The dies' terminals do not fall on the substrate's sites; the text says how."""


@dataclass(frozen=True)
class Thermocompression:
    """What a gold or copper terminal needs to bond to metal without solder (est)."""

    temperature_c: float
    force_n: float  # per terminal
    time_s: float


@dataclass(frozen=True)
class FlipChipPhysics:
    """Constants of the bonder's model (est, wide)."""

    #: 1-sigma placement error per axis after vision alignment (about +-6 um at 3 sigma)
    placement_sigma_um: float = 2.0
    #: 1-sigma rotation error after alignment, millidegrees
    rotation_sigma_mdeg: float = 10.0
    #: a terminal further than this from every site of its unit: the dies do not fit
    fit_tolerance_um: float = 25.0
    #: share of a terminal's height the bond force can coin away, by metal (solders: 0.3)
    coinable: dict[str, float] = field(default_factory=lambda: {"Au": 0.25, "Cu": 0.1})
    solder_coinable: float = 0.3
    #: filler surface tension holds above a hole's top without spilling, share of its volume
    meniscus_fraction: float = 0.05
    #: a board's pad diameter, for a terminal that lands on a pad
    pad_diameter_um: float = 100.0
    #: share of the head's excess over the stage that reaches the joint through the die
    #: (the line's figure, `drivers/roles/flip_chip_bonder.py`)
    head_to_joint: float = HEAD_TO_JOINT
    #: time a molten solder under the head needs to wet (the line's figure,
    #: `drivers/roles/flip_chip_bonder.py`)
    wetting_time_s: float = WETTING_TIME_S
    #: a conductive paste gels around the terminal at this or above, for this long (the
    #: line's figures, `drivers/roles/flip_chip_bonder.py`)
    paste_gel_c: float = PASTE_GEL_C
    paste_gel_s: float = PASTE_GEL_S
    thermocompression: dict[str, Thermocompression] = field(
        default_factory=lambda: {
            "Au": Thermocompression(300.0, 0.3, 1.0),
            "Cu": Thermocompression(350.0, 0.5, 2.0),
        }
    )
    #: share of the sheet's molten film that stays on a bump tip dipped through it
    transfer_efficiency: float = 0.5
    #: the transfer sheet's film thickness tolerance: 1-sigma of its thickness under a die, as
    #: a share of the nominal, clipped at `transfer_sigmas` (a sheet qualified to +-9 %)
    film_cv: float = 0.03
    #: the tips' coplanarity across a die: 1-sigma of each tip's height about the die's plane
    #: (the balls' volume, the pads' and the die's flatness), clipped at `transfer_sigmas`
    coplanarity_sigma_um: float = 1.0
    transfer_sigmas: float = 3.0
    #: how far the head's force presses the sheet's carrier and its molten film down onto
    #: the tips below the die's tallest, per N on each tip
    sheet_give_um_per_n: float = 8.0
    #: resin over a column's top end thicker than this keeps a terminal off it (not exposed)
    buried_um: float = 1.0
    #: pick, flip, align and place one die (or index the transfer sheet to it)
    motion_s: float = 3.0
    #: the head heats above the stage (pulse heat), the stage ramps from ambient
    head_ramp_c_per_s: float = 100.0
    stage_ramp_c_per_s: float = 2.0

    def farthest_landing_um(self, radius_um: float) -> float:
        """The farthest a terminal `radius_um` from its unit's centre lands from its site's
        centre (`landing_error_um`), at `LANDING_SIGMAS` of the vision's offset on each axis
        and of its rotation about the unit's centre, each at its worst together: a terminal
        is seated only within `(hole - terminal) / 2` of its hole's centre, so a hole must be
        wider than its terminal by twice this."""
        offset_um = math.sqrt(2) * LANDING_SIGMAS * self.placement_sigma_um
        turn_rad = math.radians(LANDING_SIGMAS * self.rotation_sigma_mdeg / 1000.0)
        return offset_um + radius_um * turn_rad


# ------------------------------------------------------------------------- layouts and fit


@dataclass(frozen=True)
class Layout:
    """The sites of every unit of a workpiece, each unit's in the same order."""

    sites: np.ndarray  # (units, n) site indices
    position_um: np.ndarray  # (units, n, 2) from the unit's centre

    @cached_property
    def spread_um(self) -> float:
        """How far a unit's site lies, at most, from the first unit's same site (0: every
        unit laid out alike); worked out once per layout."""
        return float(np.abs(self.position_um - self.position_um[0]).max())


def unit_layout(geometry: Geometry, kind: np.ndarray | None = None) -> Layout:
    """Every unit's sites (those of `kind`, a per-site mask: all by default) and their
    positions from its centre; `Misfit` if the units do not all have the same number of
    them, or none."""
    units = geometry.unit_count
    chosen = np.flatnonzero(kind) if kind is not None else np.arange(geometry.site_count)
    unit_of = geometry.site_unit[chosen]
    counts = np.bincount(unit_of, minlength=units)
    if units == 0 or counts.min() != counts.max() or counts[0] == 0:
        raise Misfit("the workpiece's units do not all carry the same number of such sites")
    sites = chosen[np.argsort(unit_of, kind="stable")].reshape(units, int(counts[0]))
    centre = geometry.unit_origin_mm + np.asarray(geometry.unit_size_mm) / 2
    position = np.stack(
        [geometry.site_x_mm[sites] - centre[:, 0:1], geometry.site_y_mm[sites] - centre[:, 1:2]],
        axis=2,
    )
    return Layout(sites, position * 1000.0)


def terminal_layout(geometry: Geometry) -> Layout:
    """Every unit's sites for a die's terminals (all but a panel's column sites), worked out
    once per geometry."""
    return geometry.derived(
        "terminal layout", lambda: unit_layout(geometry, geometry.terminal_site)
    )


def fit_terminals(
    substrate: Layout, source: Layout, physics: FlipChipPhysics, *, flipped: bool = True
) -> np.ndarray:
    """For each terminal of a die (its source unit's site order), flipped (x mirrors) unless
    `flipped` is False, the index of the site it falls on within a target unit; `Misfit`
    saying why there is none."""
    terminals = source.position_um[0] * np.array([-1.0 if flipped else 1.0, 1.0])
    targets = substrate.position_um[0]
    if terminals.shape != targets.shape:
        raise Misfit(
            f"a die has {terminals.shape[0]} terminals, a unit of the substrate "
            f"{targets.shape[0]} sites"
        )
    tolerance = physics.fit_tolerance_um
    for layout, what in ((substrate, "substrate's units"), (source, "source's dies")):
        if layout.spread_um > tolerance:
            raise Misfit(f"the {what} do not all have one layout")
    distance = np.linalg.norm(terminals[:, None, :] - targets[None, :, :], axis=2)
    match: np.ndarray = distance.argmin(axis=1)
    worst = float(distance[np.arange(match.size), match].max())
    if worst > tolerance or np.unique(match).size != match.size:
        raise Misfit(
            f"a flipped die's terminals lie up to {worst:.0f} um from the unit's sites "
            f"(tolerance {tolerance:g} um)"
        )
    return match


@dataclass(frozen=True)
class Terminals:
    """A source wafer's die terminals per site (height 0: none) and their metal."""

    height_um: np.ndarray
    base_um: np.ndarray
    material: str | None


def die_terminals(source: Workpiece) -> Terminals:
    """The terminals a die of `source` is bonded by: its bumps where it has any, else its
    solder balls joined on their lands (a chip-size package's external terminals, 002:1i),
    each standing its diameter (est)."""
    bumps = source.bumps
    if bumps.present.any():
        return Terminals(bumps.height_um, bumps.base_diameter_um, bumps.material)
    balls = source.balls
    joined = balls.present & balls.joined
    diameter = np.where(joined, balls.diameter_um, np.float32(0.0)).astype(np.float32)
    return Terminals(diameter, diameter, balls.alloy if joined.any() else None)


def free_dies(source: Workpiece) -> np.ndarray:
    """The source's units still on its frame (cut free, not picked), in order."""
    free = np.ones(source.geometry.unit_count, bool)
    free[source.singulation.picked] = False
    return np.flatnonzero(free)


def source_problem(source: Workpiece) -> str | None:
    """Why `source` cannot serve as a die source (None: it can)."""
    units = source.geometry.unit_count
    if source.singulation.units < units:
        return (
            f"wafer {source.id} is not diced into its {units} dies "
            f"({source.singulation.units} cut free)"
        )
    if not die_terminals(source).height_um.any():
        return f"the dies of wafer {source.id} carry no bumps or solder balls"
    return None


# ------------------------------------------------------------------------- timing


def heating_s(from_c: float, recipe: BondRecipe, physics: FlipChipPhysics) -> float:
    """The stage's ramp to the recipe's temperature from `from_c`."""
    return abs(recipe.stage_temperature_c - from_c) / physics.stage_ramp_c_per_s


def die_cycle_s(recipe: BondRecipe, physics: FlipChipPhysics) -> float:
    """One die: pick, flip and align, the head's ramp above the stage, the bond."""
    excess = max(recipe.head_temperature_c - recipe.stage_temperature_c, 0.0)
    return physics.motion_s + excess / physics.head_ramp_c_per_s + recipe.bond_time_s


# ------------------------------------------------------------------------- the bond


@dataclass(frozen=True)
class Placement:
    """Where each die of a run lands: its offset (um) and rotation (mdeg) from nominal."""

    offset_um: np.ndarray  # (dies, 2)
    rotation_mdeg: np.ndarray  # (dies,)

    def part(self, dies: slice) -> Placement:
        """The placement of the run's `dies` alone (those a clock step lays down)."""
        return Placement(self.offset_um[dies], self.rotation_mdeg[dies])


def place(
    count: int, bias_um: tuple[float, float], physics: FlipChipPhysics, rng: np.random.Generator
) -> Placement:
    """The aligned placement of `count` dies about a systematic error `bias_um`, on the map
    grid."""
    offset = np.asarray(bias_um) + physics.placement_sigma_um * rng.standard_normal((count, 2))
    rotation = physics.rotation_sigma_mdeg * rng.standard_normal(count)
    return Placement(on_map_grid(offset), on_map_grid(rotation))


def landing_error_um(
    terminal_um: np.ndarray, nominal_um: np.ndarray, placement: Placement
) -> np.ndarray:
    """How far each terminal (positions from the unit's centre, (parts, n, 2)) lands from its
    nominal site's centre when its part is placed as `placement` (rotated about the unit's
    centre, then offset)."""
    angle = np.deg2rad(placement.rotation_mdeg / 1000.0)[:, None]
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = terminal_um[..., 0], terminal_um[..., 1]
    # in place, one array per axis: a step over every die of a 300 mm wafer (bench/twin.py)
    miss_x = cos * x
    miss_x -= sin * y
    miss_x += placement.offset_um[:, 0:1]
    miss_x -= nominal_um[..., 0]
    miss_y = sin * x
    miss_y += cos * y
    miss_y += placement.offset_um[:, 1:2]
    miss_y -= nominal_um[..., 1]
    error: np.ndarray = np.hypot(miss_x, miss_y, out=miss_x)
    return error


def joint_temperature_c(recipe: BondRecipe, physics: FlipChipPhysics) -> float:
    """The terminals' temperature while the head presses the die."""
    return line_joint_temperature_c(
        recipe.head_temperature_c, recipe.stage_temperature_c, physics.head_to_joint
    )


def wets(alloy: str | None, joint_c: float, recipe: BondRecipe, physics: FlipChipPhysics) -> bool:
    """A solder `alloy` melts under the head and wets in the bond time."""
    return melts(alloy, joint_c) and recipe.bond_time_s >= physics.wetting_time_s


def bond_dies(
    substrate: Workpiece,
    source: Workpiece,
    units: np.ndarray,
    source_units: np.ndarray,
    match: np.ndarray,
    placement: Placement,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Bond the dies of `source_units` on `units` of the substrate (placed as `placement`,
    terminal k on site `match[k]` of its unit), vectorised over dies and terminals: seat the
    terminals, raise the filler, form the joints, and add the dies to the substrate's `dies`
    part; the source records them picked. Returns whether each die is bonded."""
    target = terminal_layout(substrate.geometry)
    origin = terminal_layout(source.geometry)
    under = units[:, None], match  # each die's unit, the site of each terminal in it
    sites = target.sites[under]  # (dies, n): the site under each terminal
    nominal = target.position_um[under]  # (dies, n, 2)
    from_sites = origin.sites[source_units]  # (dies, n): the bump of each terminal
    terminal = origin.position_um[source_units] * np.array([-1.0, 1.0])
    error_um = landing_error_um(terminal, nominal, placement)

    terminals = die_terminals(source)
    height = terminals.height_um[from_sites]
    base = terminals.base_um[from_sites]
    hole = substrate.geometry.hole[sites]
    drilled = substrate.openings.substrate
    depth = drilled.depth_um[sites]
    hole_d = drilled.diameter_um[sites]
    coinable = (
        physics.solder_coinable
        if terminals.material in LIQUIDUS_C
        else physics.coinable.get(terminals.material or "", 0.0)
    )
    in_hole = (
        drilled.open[sites]
        & (error_um <= (hole_d - base) / 2)
        & (height - depth <= coinable * height)
    )
    on_pad = error_um <= physics.pad_diameter_um / 2
    fits = (height > 0) & np.where(hole, in_hole, on_pad)
    seated = fits.all(axis=1)[:, None] & fits  # a rigid die: all terminals or none

    terminal_nl = np.where(seated & hole, terminal_volume_nl(height, base, depth), 0.0)
    raise_filler(substrate, sites, seated & hole, terminal_nl, physics)

    joined = seated & _joints(
        substrate, source, terminals, sites, from_sites, hole, depth, recipe, physics
    )
    bonded: np.ndarray = joined.all(axis=1)

    dies = substrate.dies
    dies.unit = np.concatenate([dies.unit, units.astype(np.int32)])
    dies.offset_um = np.concatenate([dies.offset_um, placement.offset_um])
    dies.rotation_mdeg = np.concatenate([dies.rotation_mdeg, placement.rotation_mdeg])
    thickness = np.full(units.size, source.geometry.thickness_um, np.float32)
    dies.thickness_um = np.concatenate([dies.thickness_um, thickness])
    dies.bonded = np.concatenate([dies.bonded, bonded])
    dies.face_down = np.concatenate([dies.face_down, np.ones(units.size, bool)])
    dies.source_unit = np.concatenate([dies.source_unit, source_units.astype(np.int32)])
    dies.source.extend([source.id] * units.size)
    thaw(dies.seated, dies.joined, dies.terminal_nl)
    dies.seated[sites] = seated
    dies.joined[sites] = joined
    dies.terminal_nl[sites] = terminal_nl
    source.singulation.picked.extend(int(unit) for unit in source_units)
    return bonded


def raise_filler(
    substrate: Workpiece,
    sites: np.ndarray,
    inserted: np.ndarray,
    volume_nl: np.ndarray,
    physics: FlipChipPhysics,
) -> None:
    """The filler in the holes at `sites` where something `inserted` its `volume_nl` rises;
    what the hole and its meniscus cannot hold spills over."""
    if not inserted.any():  # nothing went into a hole (dies on pads): no filler moves
        return
    every_area_um2 = hole_area_um2(substrate)
    area_um2 = every_area_um2[sites]
    risen = inserted & (area_um2 > 0)
    at = sites[risen]
    substrate.fill.settle(
        at,
        substrate.fill.volume_nl[at],
        volume_nl[risen],
        hole_volume_nl(substrate, every_area_um2)[at] * (1 + physics.meniscus_fraction),
        area_um2[risen],
    )


def filler_joins(
    substrate: Workpiece,
    sites: np.ndarray,
    hole: np.ndarray,
    joint_c: float,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Where the filler in a hole joins what sits in it: a solder filler wets, a paste gels."""
    fill = substrate.fill
    filled: np.ndarray = hole & (fill.volume_nl[sites] > 0)
    solder = FILLER_SOLDER.get(fill.material or "", fill.material)
    if solder in LIQUIDUS_C:
        return filled if wets(solder, joint_c, recipe, physics) else np.zeros_like(filled)
    gels = (
        fill.material is not None
        and joint_c >= physics.paste_gel_c
        and recipe.bond_time_s >= physics.paste_gel_s
    )
    return filled if gels else np.zeros_like(filled)


def pressed(
    metal: str | None,
    force_per_terminal_n: float,
    joint_c: float,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> bool:
    """A gold or copper terminal bonds to the metal it touches by thermocompression."""
    press = physics.thermocompression.get(metal or "")
    return (
        press is not None
        and joint_c >= press.temperature_c
        and force_per_terminal_n >= press.force_n
        and recipe.bond_time_s >= press.time_s
    )


def _joints(
    substrate: Workpiece,
    source: Workpiece,
    terminals: Terminals,
    sites: np.ndarray,
    from_sites: np.ndarray,
    hole: np.ndarray,
    depth: np.ndarray,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Whether a joint forms at each terminal if it is seated (see the module docstring)."""
    joint_c = joint_temperature_c(recipe, physics)
    bumps = source.bumps
    joined = np.zeros(sites.shape, bool)
    if wets(terminals.material, joint_c, recipe, physics):
        joined |= True
    if wets(bumps.layer_alloy, joint_c, recipe, physics):
        joined |= bumps.layer_um[from_sites] > 0
    joined |= filler_joins(substrate, sites, hole, joint_c, recipe, physics)
    force_per_terminal = recipe.bond_force_n / sites.shape[1]
    if pressed(terminals.material, force_per_terminal, joint_c, recipe, physics):
        joined |= ~hole | (terminals.height_um[from_sites] >= depth)
    return joined
