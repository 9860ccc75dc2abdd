"""The photoresist on a workpiece (one coat at a time): thickness, dose, development.

A dose below the clearing dose develops only part of the depth (how 002:1f leaves resin at a
concave bottom); the tone says whether exposed (positive) or unexposed (negative) resist goes.
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
class Resist:
    """The resist per site; thickness 0 everywhere: no resist on the workpiece."""

    thickness_um: np.ndarray
    dose_mj_cm2: np.ndarray
    developed_um: np.ndarray  # depth removed by development
    tone: Tone = Tone.POSITIVE
    baked: bool = False

    @classmethod
    def empty(cls, site_count: int) -> Resist:
        """No resist."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
        )
