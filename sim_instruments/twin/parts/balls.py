"""Solder balls on the sites (external terminals, 001:3, 002:1i, 000:x1).

The flux the ball mounter puts down comes first (`flux_um`); a ball sits on a site where the
flux held it, off the site's centre by `offset_um`; a second ball the flux caught on the same
site is `extra`. The oven's reflow joins a ball to the metal below it (`joined`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import Face


def _none(columns: int = 0) -> np.ndarray:
    """An empty per-site array (an old snapshot without the field)."""
    return np.zeros((0, columns) if columns else 0, np.float32)


@dataclass
class Balls:
    """One ball per site at most (an `extra` second one counted apart), all on one side."""

    diameter_um: np.ndarray
    present: np.ndarray  # bool per site
    bridged: np.ndarray  # bool per site: joined to a neighbour's ball
    joined: np.ndarray  # bool per site: reflowed into a joint with the metal below
    alloy: str | None = None  # such as "SAC305", "Sn63Pb37"
    face: Face = Face.FRONT  # the side the flux and the balls are on
    flux_um: np.ndarray = field(default_factory=_none)  # flux thickness per site, 0: none
    offset_um: np.ndarray = field(default_factory=lambda: _none(2))  # (sites, 2): x, y
    extra: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # a second ball

    @classmethod
    def empty(cls, site_count: int) -> Balls:
        """No flux and no ball on any site."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
            np.zeros(site_count, bool),
            flux_um=np.zeros(site_count, np.float32),
            offset_um=np.zeros((site_count, 2), np.float32),
            extra=np.zeros(site_count, bool),
        )
