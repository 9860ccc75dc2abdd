"""A workpiece as a table: one row per site, one column per per-site property of its parts.

The twin keeps each property of a wafer or panel as one array over its sites (`geometry`,
`surface`, `bumps`, `resins`...; sim_instruments/twin/). This module lays those arrays side by
side, found by walking the workpiece's dataclasses, so a part or a field added later appears
here with nothing to change: a column is named by its path in the workpiece
(`bumps.height_um`, `resins.layers[0].thickness_um`), and the shared views every claim check
reads (`resin_um`, `tip_projection_um`, `exposed_metal`) are added under their own names.
Arrays over the units (dies, package units) or of another shape are not site properties and
are left out; a workpiece's scalars (its alloy, its finish) are in `workpiece_facts`.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from packline.sim_instruments.twin import Workpiece

#: The workpiece's shared views, as columns (name -> how it is read).
VIEWS = ("resin_um", "tip_projection_um", "exposed_metal")


def site_table(workpiece: Workpiece) -> pd.DataFrame:
    """One row per site: `site` (its index in every array), `unit` (die or package unit),
    `x_mm`, `y_mm`, then every per-site array of the parts, then the shared views."""
    geometry = workpiece.geometry
    sites = geometry.site_count
    columns: dict[str, np.ndarray] = {
        "site": np.arange(sites, dtype=np.int32),
        "unit": np.asarray(geometry.site_unit),
        "x_mm": np.asarray(geometry.site_x_mm),
        "y_mm": np.asarray(geometry.site_y_mm),
    }
    for field in dataclasses.fields(workpiece):
        if field.name != "geometry":
            _collect(getattr(workpiece, field.name), field.name, sites, columns)
    columns["hole"] = np.asarray(geometry.hole)
    for view in VIEWS:
        columns[view] = np.asarray(getattr(workpiece, view))
    return pd.DataFrame(columns)


def workpiece_facts(workpiece: Workpiece) -> dict[str, Any]:
    """The workpiece's scalar facts by path (`bumps.material`, `finish.roughness_ra_um`,
    `resins.layers[0].cure`...): what is one value for the whole wafer or panel."""
    facts: dict[str, Any] = {"id": workpiece.id}
    for field in dataclasses.fields(workpiece):
        if field.name not in ("id", "history"):
            _collect_facts(getattr(workpiece, field.name), field.name, facts)
    return facts


def _collect(value: Any, path: str, sites: int, columns: dict[str, np.ndarray]) -> None:
    """Add every 1-D array of length `sites` under `value` to `columns`, by its path."""
    if isinstance(value, np.ndarray):
        if value.ndim == 1 and value.size == sites:
            columns[path] = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _collect(getattr(value, field.name), f"{path}.{field.name}", sites, columns)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, f"{path}[{index}]", sites, columns)


def _collect_facts(value: Any, path: str, facts: dict[str, Any]) -> None:
    """Add every scalar under `value` (numbers, text, enums) to `facts`, by its path."""
    if isinstance(value, Enum):
        facts[path] = value.value
    elif isinstance(value, str | int | float | bool) or value is None:
        facts[path] = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _collect_facts(getattr(value, field.name), f"{path}.{field.name}", facts)
    elif isinstance(value, list | tuple) and all(
        isinstance(item, int | float) and not isinstance(item, bool) for item in value
    ):
        facts[path] = ", ".join(f"{item:g}" for item in value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_facts(item, f"{path}[{index}]", facts)
