"""Conductive filler in the through-holes (000:b): volume and level per hole site."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Fill:
    """The filler in each hole site; volume 0: empty."""

    volume_nl: np.ndarray
    level_um: np.ndarray  # height of the filler's top above the hole's bottom
    overflow_nl: np.ndarray  # filler pushed out over the hole's top (by a terminal inserted)
    material: str | None = None  # a conductive paste or a low-melting metal

    @classmethod
    def empty(cls, site_count: int) -> Fill:
        """Every hole empty."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
        )
