"""Dies placed on a panel or a board (000:c-d, 003:24): one entry per placed die.

A die sits on a unit with a placement error (`offset_um`, `rotation_mdeg`), active side down
when a flip-chip bonder placed it (`face_down`); its terminals go into the unit's hole sites
(or land on its pads), each seated or not (`seated`, per site), with the volume of terminal
pushed into the hole (`terminal_nl`) and a joint formed or not (`joined`). The die's source is
the diced wafer it was picked from (`source`, `source_unit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Dies:
    """The placed dies (arrays over the dies) and their terminals (arrays over the sites)."""

    unit: np.ndarray  # int32 per die: the unit it sits on
    offset_um: np.ndarray  # (dies, 2): placement error from the unit's nominal position
    thickness_um: np.ndarray  # per die
    bonded: np.ndarray  # bool per die
    seated: np.ndarray  # bool per site: a die's terminal sits in the site's hole
    rotation_mdeg: np.ndarray  # per die: placement rotation, millidegrees
    face_down: np.ndarray  # bool per die: active side down (flip-chip)
    source_unit: np.ndarray  # int32 per die: its unit on the source wafer
    joined: np.ndarray  # bool per site: the terminal formed a joint (solder wet, or bonded)
    terminal_nl: np.ndarray  # per site: volume of the terminal inside the hole, nl
    source: list[str] = field(default_factory=list)  # per die: the wafer it was picked from

    @classmethod
    def empty(cls, site_count: int) -> Dies:
        """No die placed."""
        return cls(
            np.zeros(0, np.int32),
            np.zeros((0, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, bool),
            np.zeros(site_count, bool),
            np.zeros(0, np.float32),
            np.zeros(0, bool),
            np.zeros(0, np.int32),
            np.zeros(site_count, bool),
            np.zeros(site_count, np.float32),
        )

    @property
    def count(self) -> int:
        return int(self.unit.size)
