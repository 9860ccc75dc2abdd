"""The finest step of a per-site map the simulated tools draw with a random spread.

A simulated tool draws each site's value with its spread (a stud's height, a laminated resin's
thickness, the incoming residue, a ball's flux and placement, a die's placement), which is a
float32 whose last mantissa bits are pure noise: no instrument resolves them, and they are most
of what a dry run's records store (a bump map a wafer). Drawn maps are kept on a grid of 1/256
of their unit instead, 3.9 nm for a map in um: 25 x finer than the metrology that would measure
them, and a power of two, so the values end in zero bits that the records pack away
(docs/decisions/0055, 0123). What a step works out from them is not rounded again, nor a
spread the grid of its unit would coarsen (a dispenser's shot in nl).
"""

from __future__ import annotations

import numpy as np

#: The grid of a drawn per-site map, in the map's own unit (um or nm).
MAP_STEP = 2.0**-8


def on_map_grid(values: np.ndarray) -> np.ndarray:
    """`values` rounded to the nearest multiple of `MAP_STEP`, as float32 (exact: a float32
    holds every such multiple below 32,768)."""
    return (np.round(np.asarray(values, np.float64) / MAP_STEP) * MAP_STEP).astype(np.float32)
