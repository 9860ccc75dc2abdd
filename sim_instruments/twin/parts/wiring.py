"""Wiring patterns, level by level (001:14-17 stack any number of wiring arrangements).

Per level, each site belongs to at most one pattern (-1: none). A pattern serves one device,
so on a sound workpiece every site of a unit maps to that unit's pattern; a site whose bump
tip or via missed the wiring stays -1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NO_PATTERN = -1


@dataclass
class WiringLevel:
    """One level of wiring: which pattern each site is connected to."""

    pattern: np.ndarray  # int32 per site, NO_PATTERN where unconnected
    pattern_unit: np.ndarray  # int32 per pattern: the unit (device) it belongs to

    @classmethod
    def empty(cls, site_count: int) -> WiringLevel:
        """A level with no pattern yet."""
        return cls(np.full(site_count, NO_PATTERN, np.int32), np.zeros(0, np.int32))

    @property
    def connected(self) -> np.ndarray:
        """Sites connected to some pattern of this level."""
        connected: np.ndarray = self.pattern != NO_PATTERN
        return connected


@dataclass
class Wiring:
    """The wiring levels, lowermost first."""

    levels: list[WiringLevel] = field(default_factory=list)
