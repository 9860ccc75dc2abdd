"""The flip-chip bonder's solder-sheet transfer (003:21-22), beside its bonding physics.

* **Transfer**: the sheet is flat, pressed on a die's bumps: a bump whose tip is lower than
  the die's tallest by more than the film is thick does not reach the film. The film wets the
  tips it touches when the joint is above the solder's liquidus for the wetting time, and
  `transfer_efficiency` of its thickness stays on each as a layer (below the liquidus nothing
  transfers); a core whose own liquidus is not reached stays solid (003:20).

The bonding physics this shares (the unit layout, the joint temperature, wetting,
`FlipChipPhysics`) is in `flip_chip_bonder.py`. Constants are engineering estimates (est):
PROCESS_WINDOWS.md has no flip-chip bonder.
"""

from __future__ import annotations

import numpy as np

from packline.drivers.roles.flip_chip_bonder import BondRecipe

from ..twin import Workpiece
from ..twin.freezing import thaw
from .flip_chip_bonder import FlipChipPhysics, joint_temperature_c, terminal_layout, wets
from .oven import melts


def transfer_layer(
    wafer: Workpiece,
    units: np.ndarray,
    alloy: str,
    film_um: float,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Press a sheet with a `film_um` film of `alloy` on the bumps of `units` of the wafer,
    vectorised over their sites: where the film reaches a tip and wets it, a layer of
    `transfer_efficiency * film_um` stays on it (on top of a layer of the same alloy; the
    simulated bonder refuses another), the core staying solid unless the joint passed its
    liquidus. Returns whether each of the units' bump sites took a layer."""
    sites = terminal_layout(wafer.geometry).sites[units]  # (dies, n)
    bumps = wafer.bumps
    height = bumps.height_um[sites]
    present = height > 0
    tallest = np.where(present, height, 0.0).max(axis=1, keepdims=True)
    touched = present & (height >= tallest - film_um)
    joint_c = joint_temperature_c(recipe, physics)
    coated: np.ndarray = touched & wets(alloy, joint_c, recipe, physics)
    layer = physics.transfer_efficiency * film_um
    flat = sites[coated]
    thaw(bumps.layer_um, bumps.height_um, bumps.solid_core)
    bumps.layer_um[flat] += layer
    bumps.height_um[flat] += layer
    if flat.size:
        bumps.layer_alloy = alloy
        bumps.solid_core[flat] = not melts(bumps.material, joint_c)
    return coated.ravel()
