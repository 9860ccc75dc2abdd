"""The photoresist on a workpiece (one coat at a time): thickness, dose, development.

A dose below the clearing dose develops only part of the depth (how 002:1f leaves resin at a
concave bottom); the tone says whether exposed (positive) or unexposed (negative) resist goes.
`PhotoState` is what a litho cell knows of a photosensitive film it coated, a resist or a
radiation-sensitive resin layer (`ResinLayer.photo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class Tone(StrEnum):
    """Which resist a developer removes."""

    POSITIVE = "positive"  # the exposed resist
    NEGATIVE = "negative"  # the unexposed resist


@dataclass
class PhotoState:
    """A photosensitive film as the litho cell that coated it knows it."""

    material: str  # the dispense line's material, such as "PR-THICK"
    solvent: float  # fraction of the film still solvent (a soft bake drives it out)
    mask: str = ""  # the reticle it was exposed through, "" before an exposure
    developed: bool = False


@dataclass
class Resist:
    """The resist per site; thickness 0 everywhere: no resist on the workpiece.

    The thickness is the resist around each site's opening; `developed_um` is how deep the
    development opened it below that, `opening_um` how wide at the top (0: no opening). A
    land reticle (`islands`) inverts the picture: the thickness is the island kept over each
    site, `opening_um` its width, and the opening is the field around it. `opened_um2` is
    the area of each site's opening: what a plating through the resist thickens there.
    """

    thickness_um: np.ndarray
    dose_mj_cm2: np.ndarray
    developed_um: np.ndarray  # depth removed by development
    tone: Tone = Tone.POSITIVE
    baked: bool = False
    photo: PhotoState | None = None
    opening_um: np.ndarray | None = None
    islands: bool = False  # developed through a land reticle: an island over every site
    #: per site, the area its developed pattern opens in um2 (a hole, a wiring's trace and
    #: pad, a land's field); None before a develop
    opened_um2: np.ndarray | None = None

    @property
    def open(self) -> np.ndarray:
        """Sites where no resist is left over what lies below (none coated, or cleared)."""
        return self.developed_um >= self.thickness_um

    @classmethod
    def empty(cls, site_count: int) -> Resist:
        """No resist."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
        )
