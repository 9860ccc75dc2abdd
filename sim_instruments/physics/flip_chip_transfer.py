"""The flip-chip bonder's solder-sheet transfer (003:21-22), beside its bonding physics.

* **Transfer**: the sheet is flat, pressed by the head on a die's bumps. The die's tallest
  tip meets the film first; the head's force, shared by the die's tips, presses the carrier
  and its molten film a little further down (`sheet_give_um_per_n` per N on a tip:
  `closed_gap_um`), and each lower tip dips into the film by the film's thickness less the
  gap the force leaves open under it; a tip lower than that by the film's thickness does not
  reach it. Where the joint is above the solder's liquidus for the wetting time the film wets
  the tips it reaches and `transfer_efficiency` of the film each dipped through stays on it
  as a layer (`kept_layer_um`; below the liquidus nothing transfers); a core whose own
  solidus is not passed stays solid (`softens`, 003:20).
* **Spread**: the sheet's film under each die is its nominal thickness scattered by
  `film_cv` (the sheet's thickness tolerance), and each tip stands above or below the die's
  plane by `coplanarity_sigma_um` (the balls' volume, the pads' and the die's flatness), both
  clipped at `transfer_sigmas`, drawn per die from the wafer's seed and the die's index (the
  same wafer gives the same layers however the run's dies are stepped). The thinnest layer a
  transfer can leave (`least_layer`: the thinnest film, the widest gap between a die's tallest
  and lowest tips) is what a method's validate holds a recipe to.

The bonding physics this shares (the unit layout, the joint temperature, wetting,
`FlipChipPhysics`) is in `flip_chip_bonder.py`. Constants are engineering estimates (est):
PROCESS_WINDOWS.md has no flip-chip bonder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.flip_chip_bonder import BondRecipe

from ..twin import Workpiece
from ..twin.freezing import thaw
from .flip_chip_bonder import FlipChipPhysics, joint_temperature_c, terminal_layout, wets
from .oven import softens

#: Sets the transfer's random stream apart from the other tools' on the same wafer ("XFER").
TRANSFER_STREAM = 0x58464552


def closed_gap_um(force_per_tip_n: np.ndarray | float, physics: FlipChipPhysics) -> np.ndarray:
    """How far below a die's tallest tip the head's force, `force_per_tip_n` on each tip,
    presses the sheet's film."""
    closed: np.ndarray = physics.sheet_give_um_per_n * np.asarray(force_per_tip_n, np.float64)
    return closed


def kept_layer_um(
    film_um: np.ndarray | float,
    gap_um: np.ndarray | float,
    closed_um: np.ndarray | float,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """The layer a wetted tip keeps of a film `film_um` thick, the tip `gap_um` below its
    die's tallest and the force closing `closed_um` of that: `transfer_efficiency` of what it
    dips into, the film less the gap left open (none once that reaches the film's
    thickness)."""
    film = np.asarray(film_um, np.float64)
    open_gap = np.maximum(np.asarray(gap_um) - np.asarray(closed_um), 0.0)
    layer: np.ndarray = physics.transfer_efficiency * np.clip(film - open_gap, 0.0, film)
    return layer


@dataclass(frozen=True)
class LeastLayer:
    """The thinnest layer a transfer leaves, and what makes it so: the thinnest film the sheet
    lays under a die, the widest gap between a die's tallest and lowest tips, and how much of
    that gap the head's force closes."""

    film_um: float
    gap_um: float
    closed_um: float
    layer_um: float


def least_layer(film_um: float, force_per_tip_n: float, physics: FlipChipPhysics) -> LeastLayer:
    """The thinnest layer a transfer of a `film_um` film pressed with `force_per_tip_n` on each
    tip leaves on a die's tips standing at one height (the line's balls): on the thinnest
    film the sheet's tolerance lets under a die, at the lowest tip the coplanarity lets below
    the tallest (both clipped at `transfer_sigmas`)."""
    sigmas = physics.transfer_sigmas
    thinnest = film_um * (1 - sigmas * physics.film_cv)
    widest_gap = 2 * sigmas * physics.coplanarity_sigma_um
    closed = float(closed_gap_um(force_per_tip_n, physics))
    layer = float(kept_layer_um(thinnest, widest_gap, closed, physics))
    return LeastLayer(thinnest, widest_gap, closed, layer)


def die_spread(
    wafer: Workpiece, units: np.ndarray, tips: int, physics: FlipChipPhysics
) -> tuple[np.ndarray, np.ndarray]:
    """Each of `units`' film thickness (a share of the nominal) and its `tips` tips' heights
    about the die's plane (um), clipped at `transfer_sigmas`: drawn per die from the wafer's
    seed, its id and the die's index."""
    sigmas = physics.transfer_sigmas
    film = np.empty(units.size)
    tilt = np.empty((units.size, tips))
    for row, unit in enumerate(units):
        rng = np.random.default_rng(
            [wafer.spec.seed, *wafer.id.encode(), TRANSFER_STREAM, int(unit)]
        )
        draws = np.clip(rng.standard_normal(tips + 1), -sigmas, sigmas)
        film[row] = 1 + physics.film_cv * draws[0]
        tilt[row] = physics.coplanarity_sigma_um * draws[1:]
    return film, tilt


def transfer_layer(
    wafer: Workpiece,
    units: np.ndarray,
    alloy: str,
    film_um: float,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Press a sheet with a `film_um` film of `alloy` on the bumps of `units` of the wafer,
    vectorised over their sites: where the film reaches a tip and wets it, the layer it dips
    through (`kept_layer_um`, with the sheet's and the tips' spread, `die_spread`) stays on it
    (on top of a layer of the same alloy; the simulated bonder refuses another), the core
    staying solid unless the joint passed its solidus. Returns whether each of the units'
    bump sites took a layer."""
    sites = terminal_layout(wafer.geometry).sites[units]  # (dies, n)
    bumps = wafer.bumps
    present = bumps.height_um[sites] > 0
    film_share, tilt = die_spread(wafer, units, sites.shape[1], physics)
    tip = np.where(present, bumps.height_um[sites] + tilt, -np.inf)
    gap = tip.max(axis=1, keepdims=True) - tip
    tips_pressed = np.maximum(present.sum(axis=1, keepdims=True), 1)
    closed = closed_gap_um(recipe.bond_force_n / tips_pressed, physics)
    layer = np.where(present, kept_layer_um(film_um * film_share[:, None], gap, closed, physics), 0)
    joint_c = joint_temperature_c(recipe, physics)
    coated: np.ndarray = (layer > 0) & wets(alloy, joint_c, recipe, physics)
    flat = sites[coated]
    thaw(bumps.layer_um, bumps.height_um, bumps.solid_core)
    bumps.layer_um[flat] += layer[coated]
    bumps.height_um[flat] += layer[coated]
    if flat.size:
        bumps.layer_alloy = alloy
        bumps.solid_core[flat] = not softens(bumps.material, joint_c)
    return coated.ravel()
