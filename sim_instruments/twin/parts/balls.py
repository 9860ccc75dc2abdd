"""Solder balls on the sites (external terminals, 001:3, 002:1i, 000:x1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Balls:
    """One ball per site at most."""

    diameter_um: np.ndarray
    present: np.ndarray  # bool per site
    bridged: np.ndarray  # bool per site: joined to a neighbour's ball
    joined: np.ndarray  # bool per site: reflowed into a joint with the metal below
    alloy: str | None = None  # such as "SAC305", "Sn63Pb37"

    @classmethod
    def empty(cls, site_count: int) -> Balls:
        """No ball on any site."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
        )
