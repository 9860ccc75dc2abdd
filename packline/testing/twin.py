"""Comparing two workpiece twins part by part (a snapshot's round trip, a resumed run), and
twins as an earlier station left them, for the tests of a later one."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from packline.sim_instruments.twin import Workpiece
from packline.sim_instruments.twin.parts import Dies


def state_differences(a: Any, b: Any, path: str = "workpiece") -> list[str]:
    """Where two twins (or any nested dataclasses, lists and arrays) differ: the path of each
    array whose dtype, shape or values differ and of each other value that differs in value or
    type. Empty when they are the same state."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
        return [] if same else [path]
    if type(a) is not type(b):
        return [f"{path} ({type(a).__name__} vs {type(b).__name__})"]
    if dataclasses.is_dataclass(a):
        return [
            difference
            for field in dataclasses.fields(a)
            for difference in state_differences(
                getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}"
            )
        ]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{path} (length {len(a)} vs {len(b)})"]
        return [
            difference
            for index, (x, y) in enumerate(zip(a, b, strict=True))
            for difference in state_differences(x, y, f"{path}[{index}]")
        ]
    return [] if a == b else [path]


def drill_holes(panel: Workpiece, diameter_um: float) -> None:
    """Open every hole site of `panel` through its tape down to the interconnect, `diameter_um`
    across: the panel as 000:a's via drilling leaves it."""
    opening = panel.openings.substrate
    opening.depth_um[panel.geometry.hole] = panel.geometry.thickness_um
    opening.diameter_um[panel.geometry.hole] = diameter_um
    opening.open |= panel.geometry.hole


def place_dies(panel: Workpiece, thickness_um: float, units: np.ndarray | None = None) -> None:
    """A die `thickness_um` thick bonded on each of `units` of `panel` (every unit by default),
    its terminals seated in the unit's holes: the panel as 000:c-d leave it."""
    chosen = np.arange(panel.geometry.unit_count) if units is None else units
    count = int(chosen.size)
    panel.dies = Dies(
        unit=chosen.astype(np.int32),
        offset_um=np.zeros((count, 2), np.float32),
        thickness_um=np.full(count, thickness_um, np.float32),
        bonded=np.ones(count, bool),
        seated=np.isin(panel.geometry.site_unit, chosen) & panel.geometry.hole,
    )
