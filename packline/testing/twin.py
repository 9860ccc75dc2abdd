"""Comparing two workpiece twins part by part (a snapshot's round trip, a resumed run)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


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
