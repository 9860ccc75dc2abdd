"""Openings down towards the metal: vias, through-holes and concave portions.

Each resin layer has one `OpeningLayer` (the entry of the same index in `Openings.layers`),
and the substrate has one for its through-holes (a panel's holes, 000:a). Depth is measured
from the top of what is opened; an opening is `open` when it reached the metal below. An
opening not yet through leaves resin at its bottom (a concave portion, 002:1f).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpeningLayer:
    """The opening at each site of one layer (depth 0: none)."""

    depth_um: np.ndarray
    diameter_um: np.ndarray
    open: np.ndarray  # bool per site: reached the metal below

    @classmethod
    def empty(cls, site_count: int) -> OpeningLayer:
        """No opening at any site."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
        )

    def left_below_um(self, thickness_um: np.ndarray) -> np.ndarray:
        """What remains at each opening's bottom of a layer `thickness_um` thick (0: open)."""
        return np.where(self.open, 0.0, np.maximum(thickness_um - self.depth_um, 0.0))


@dataclass
class Openings:
    """The openings of every resin layer (same order as `Resins.layers`) and of the substrate."""

    substrate: OpeningLayer
    layers: list[OpeningLayer] = field(default_factory=list)
