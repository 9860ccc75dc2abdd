"""The ground surface: what the last grinding or polishing stage left."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Finish:
    """Roughness and thickness variation of the ground face (0: never ground)."""

    roughness_ra_um: float = 0.0
    thickness_variation_um: float = 0.0
