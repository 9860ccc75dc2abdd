"""Where a workpiece's sites are: a round wafer of dies or a rectangular tape panel of units.

A site is an electrode pad of a die (wafer) or a through-hole site of a package unit (panel);
every per-site array of the other parts is indexed like `site_x_mm`. A unit is a die of a wafer
or a package unit of a panel: what the saw cuts free. Coordinates are millimetres from the
workpiece's centre. The geometry is fixed at creation, except the substrate's thickness,
which the grinder thins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class Shape(StrEnum):
    """The outline of a workpiece."""

    WAFER = "wafer"  # round; `outline_mm` is (diameter, diameter)
    PANEL = "panel"  # rectangular; `outline_mm` is (width, height)


class Face(StrEnum):
    """Which face of the substrate a layer is on: the front (top of a panel, active side of a
    wafer) or the back (a panel's bottom, with its interconnection layer and solder resist)."""

    FRONT = "front"
    BACK = "back"


@dataclass
class Geometry:
    """The outline, the sites and the units of a workpiece, and its substrate."""

    shape: Shape
    outline_mm: tuple[float, float]
    substrate: str  # "Si" for a wafer, the tape's material for a panel
    thickness_um: float  # of the substrate alone
    site_x_mm: np.ndarray
    site_y_mm: np.ndarray
    site_unit: np.ndarray  # index of the die or unit each site belongs to
    unit_origin_mm: np.ndarray  # (units, 2): lower-left corner of each die or unit
    unit_size_mm: tuple[float, float]
    hole: np.ndarray  # bool per site: a through-hole site of the substrate (panel terminals)

    @property
    def site_count(self) -> int:
        return int(self.site_x_mm.size)

    @property
    def unit_count(self) -> int:
        return int(self.unit_origin_mm.shape[0])

    @property
    def radius_mm(self) -> float:
        """Radius of the smallest circle about the centre that holds the whole workpiece."""
        width, height = self.outline_mm
        return width / 2 if self.shape is Shape.WAFER else float(np.hypot(width, height)) / 2
