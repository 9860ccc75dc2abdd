"""Conductive filler in the through-holes (000:b): volume and level per hole site.

Filler jetted into a hole (the dispenser) or pushed up by a terminal inserted in it (the
flip-chip bonder) stays in the hole up to what the hole holds; the rest spills over its top
(`overflow_nl`), once, whichever tool made it spill (`settle`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..freezing import thaw

#: Cubic micrometres in a nanolitre.
UM3_PER_NL = 1e6


@dataclass
class Fill:
    """The filler in each hole site; volume 0: empty."""

    volume_nl: np.ndarray  # filler inside the hole (what spilt is in `overflow_nl`)
    level_um: np.ndarray  # height of the filler's top above the hole's bottom
    overflow_nl: np.ndarray  # filler spilt over the hole's top onto the substrate
    material: str | None = None  # a conductive paste or a low-melting metal

    @classmethod
    def empty(cls, site_count: int) -> Fill:
        """Every hole empty."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
        )

    def settle(
        self,
        sites: np.ndarray,
        filler_nl: np.ndarray,
        terminal_nl: np.ndarray,
        held_nl: np.ndarray,
        area_um2: np.ndarray,
    ) -> None:
        """Settle `filler_nl` of filler around `terminal_nl` of terminal in the holes at
        `sites` (cross-section `area_um2`): what exceeds `held_nl` with the terminal spills
        over the top (filler only, added to `overflow_nl`), the rest stays and sets the level."""
        spilt = np.clip(filler_nl + terminal_nl - held_nl, 0.0, filler_nl)
        kept = filler_nl - spilt
        thaw(self.volume_nl, self.overflow_nl, self.level_um)
        self.volume_nl[sites] = kept
        self.overflow_nl[sites] += spilt
        self.level_um[sites] = np.divide(
            (kept + terminal_nl) * UM3_PER_NL,
            area_um2,
            out=np.zeros(np.shape(kept)),
            where=area_um2 > 0,
        )
