"""A frame with conductor columns on a tape panel, and devices stacked on it (000:x2).

The frame stands on the tape around each unit's die; its conductor columns pass through it and
down into the tape's holes at the unit's column sites (`Geometry.column`), their lower ends in
the filler, their top ends at the frame's top. A column is seated when its lower end went into
its hole, joined when it formed a joint with the filler (or the metal) below. Grinding the
package (000:f) cuts the frame and the columns with the resin, so their top ends come out
flush with it.

Devices stack on a panel's units level by level (`Stack`): each is a package unit cut from
another panel, its external terminals (its balls, on its bottom) joined to the top ends of the
columns of the device below (the panel's own, for the first level). A level's joints are per
column site of this panel; the device of each level comes from its `source` panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    """The frames (arrays over the units) and their conductor columns (arrays over the sites)."""

    height_um: np.ndarray  # per unit: the frame's top above the substrate's top, 0: no frame
    offset_um: np.ndarray  # (units, 2): the frame's placement error
    column_top_um: np.ndarray  # per site: the column's top end above the substrate, 0: none
    column_diameter_um: np.ndarray  # per site
    seated: np.ndarray  # bool per site: the column's lower end sits in the site's hole
    joined: np.ndarray  # bool per site: the column joined to the filler or metal below
    column_metal: str | None = None

    @classmethod
    def empty(cls, site_count: int, unit_count: int) -> Frame:
        """No frame on any unit."""
        return cls(
            np.zeros(unit_count, np.float32),
            np.zeros((unit_count, 2), np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
        )


@dataclass
class StackLevel:
    """One level of devices stacked on the units: per device its unit here, its unit on the
    source panel and its placement from the device below; per site of this panel, whether the
    level's terminal landed on the column top below (`seated`) and joined it."""

    source: str  # the diced panel the level's devices were picked from
    unit: np.ndarray  # int32 per device
    source_unit: np.ndarray  # int32 per device
    offset_um: np.ndarray  # (devices, 2): placement error from the device below
    rotation_mdeg: np.ndarray  # per device
    bonded: np.ndarray  # bool per device: every terminal joined
    seated: np.ndarray  # bool per site
    joined: np.ndarray  # bool per site
    #: per site: how far the terminal's centre landed from the column's centre below, um
    error_um: np.ndarray

    @classmethod
    def empty(cls, source: str, site_count: int) -> StackLevel:
        """A level with no device yet."""
        return cls(
            source,
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros((0, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, bool),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
            np.zeros(site_count, np.float32),
        )


@dataclass
class Stack:
    """The levels stacked on the units, lowest first (none: nothing stacked)."""

    levels: list[StackLevel] = field(default_factory=list)

    def height(self, unit_count: int) -> np.ndarray:
        """Per unit, how many devices stand on it."""
        count = np.zeros(unit_count, np.int32)
        for level in self.levels:
            np.add.at(count, level.unit, 1)
        return count
