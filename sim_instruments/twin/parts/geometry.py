"""Where a workpiece's sites are: a round wafer of dies or a rectangular tape panel of units.

A site is an electrode pad of a die (wafer) or a site of a package unit (panel): a hole under
a die's terminal, (000:x2) a hole under a conductor column of the frame around the die
(`column`), or (000:x1) a land of an area array on the bottom, with no hole (`land`); every
per-site array of the other parts is indexed like `site_x_mm`. A unit is a die of a wafer or
a package unit of a panel: what the saw cuts free. Coordinates are millimetres from the
workpiece's centre. The geometry is fixed at creation, except the
substrate's thickness, which the grinder thins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TypeVar, cast

import numpy as np

T = TypeVar("T")


class Shape(StrEnum):
    """The outline of a workpiece."""

    WAFER = "wafer"  # round; `outline_mm` is (diameter, diameter)
    PANEL = "panel"  # rectangular; `outline_mm` is (width, height)


class Face(StrEnum):
    """Which face of the substrate a layer is on: the front (top of a panel, active side of a
    wafer) or the back (a panel's bottom, with its interconnection layer and solder resist)."""

    FRONT = "front"
    BACK = "back"


#: What a site, a unit and the whole workpiece of each shape are called, one of each.
_NOUNS = {Shape.WAFER: ("pad", "die", "wafer"), Shape.PANEL: ("site", "unit", "panel")}
#: What the unit a site belongs to is called, by what the site is called: a pad's die.
UNIT_OF_SITE = {site: unit for site, unit, _ in _NOUNS.values()}


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
    #: bool per site: a frame's conductor column goes there, not a die's terminal (000:x2)
    column: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: bool per site: a land of an area array on a panel's bottom, where an external terminal
    #: goes through the solder resist, with no hole above it (000:x1)
    land: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        self.sized()

    def sized(self) -> None:
        """Give `column` and `land` their per-site size where they are left out (a wafer) or
        an older snapshot lacks them (no such sites); made, and `read_snapshot` calls it."""
        if self.column.size != self.site_count:
            self.column = np.zeros(self.site_count, bool)
        if self.land.size != self.site_count:
            self.land = np.zeros(self.site_count, bool)

    @property
    def terminal_site(self) -> np.ndarray:
        """Sites a die's terminal goes to (every site but the frame's columns and the area
        array's lands)."""
        terminal: np.ndarray = ~self.column & ~self.land
        return terminal

    @property
    def resist_opening_site(self) -> np.ndarray:
        """Sites where a panel's solder resist is opened for its external terminals (000:a,
        000:x1): the lands of its area array, or without one every hole site (a peripheral
        array under the holes)."""
        opening: np.ndarray = self.land if self.land.any() else self.hole
        return opening

    @property
    def site_count(self) -> int:
        return int(self.site_x_mm.size)

    @property
    def noun(self) -> str:
        """What the workpiece is called, one of its shape: a wafer, a panel."""
        return _NOUNS[self.shape][2]

    @property
    def entry_nouns(self) -> tuple[str, str]:
        """What its sites and its units are called: a wafer's pads and dies, a panel's sites
        and units (the words `counted` gives an array of either)."""
        site, unit, _ = _NOUNS[self.shape]
        return site, unit

    def counted(self, entries: int) -> str | None:
        """What an array of `entries` entries over this workpiece counts, one of them: a site
        (a die's pad on a wafer, a unit's site on a panel) for one a site, a unit (a die, a
        package unit) for one a unit, the workpiece for one entry; None for another length."""
        site, unit, _ = _NOUNS[self.shape]
        for count, noun in ((self.site_count, site), (self.unit_count, unit), (1, self.noun)):
            if entries == count:
                return noun
        return None

    def unit_of(self, entries: int, entry: int) -> int | None:
        """The unit (die, package unit) that entry `entry` of an array of `entries` entries
        over this workpiece is on, where the array is one a site (`counted`); None for an
        array of another kind (one a unit, or the workpiece)."""
        if self.counted(entries) != self.entry_nouns[0]:
            return None
        return int(self.site_unit[entry])

    @property
    def unit_count(self) -> int:
        return int(self.unit_origin_mm.shape[0])

    @property
    def radius_mm(self) -> float:
        """Radius of the smallest circle about the centre that holds the whole workpiece."""
        width, height = self.outline_mm
        return width / 2 if self.shape is Shape.WAFER else float(np.hypot(width, height)) / 2

    def derived(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`, worked out once per geometry and kept as `name`: for what follows from
        the sites and units alone (a unit's site layout), which never change once the geometry
        is made, so a process step on a panel of 500 units does not work it out again. Not a
        field: never in a snapshot, and a restored twin's new geometry starts without."""
        known = self._derived
        if name not in known:
            known[name] = compute()
        return cast(T, known[name])

    @cached_property
    def _derived(self) -> dict[str, object]:
        return {}
