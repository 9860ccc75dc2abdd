"""The exposed metal of every site: what cleaning removes, and what a joint or a beam touches.

The surface of a site is its pad (or hole bottom) metal until a bump covers it, then the bump's
tip. Films on it are nanometres: organic residue (resin smear, contamination) and oxide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Surface:
    """Films on the exposed metal per site, and whether a cleaning activated it (003:9)."""

    pad_metal: str  # the metal of the bare pads (or of the interconnect at a hole's bottom)
    residue_nm: np.ndarray
    oxide_nm: np.ndarray
    activated: np.ndarray

    @classmethod
    def empty(cls, site_count: int, pad_metal: str) -> Surface:
        """A clean, unactivated surface on every site."""
        return cls(
            pad_metal,
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
        )
