"""What the dicing saw cut: the through-cut kerfs, their quality, and the units cut free."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Singulation:
    """Kerfs cut through (X positions of cuts along Y, Y positions of cuts along X)."""

    kerfs_x_mm: list[float] = field(default_factory=list)
    kerfs_y_mm: list[float] = field(default_factory=list)
    kerf_width_um: float = 0.0
    cut_depth_um: float = 0.0
    chipping_um: float = 0.0
    units: int = 0  # dies or package units cut free
    picked: list[int] = field(default_factory=list)  # units a die bonder took away, in order
