"""Dies placed on a panel or a board (000:c-d, 003:24): one entry per placed die.

A die sits on a unit with a placement error (`offset_um`); its terminals go into the unit's
hole sites, each seated or not (`seated`, per site).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Dies:
    """The placed dies (arrays over the dies) and their terminals (arrays over the sites)."""

    unit: np.ndarray  # int32 per die: the unit it sits on
    offset_um: np.ndarray  # (dies, 2): placement error from the unit's nominal position
    thickness_um: np.ndarray  # per die
    bonded: np.ndarray  # bool per die
    seated: np.ndarray  # bool per site: a die's terminal sits in the site's hole

    @classmethod
    def empty(cls, site_count: int) -> Dies:
        """No die placed."""
        return cls(
            np.zeros(0, np.int32),
            np.zeros((0, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, bool),
            np.zeros(site_count, bool),
        )

    @property
    def count(self) -> int:
        return int(self.unit.size)
