"""Fresh workpieces as they arrive at the line: a wafer of dies, or a tape panel of units."""

from __future__ import annotations

import math

import numpy as np

from .parts import (
    Face,
    Film,
    FilmMaterial,
    Geometry,
    ResinKind,
    Shape,
    WiringLevel,
)
from .resolution import on_map_grid
from .specs import PanelSpec, WaferSpec
from .workpiece import Workpiece

#: How far in from a die's edge its pads (or a panel die's terminals) lie, mm.
_EDGE_INSET_MM = 0.3


def die_grid(spec: WaferSpec) -> np.ndarray:
    """Lower-left corners of every whole die inside the wafer's usable radius."""
    width, height = spec.die_size_mm
    radius = spec.diameter_mm / 2 - spec.edge_exclusion_mm
    nx = int(np.ceil(spec.diameter_mm / width)) + 1
    ny = int(np.ceil(spec.diameter_mm / height)) + 1
    xs = (np.arange(nx) - nx / 2) * width
    ys = (np.arange(ny) - ny / 2) * height
    gx, gy = np.meshgrid(xs, ys)
    corners = np.stack([gx.ravel(), gy.ravel()], axis=1)
    far_x = np.maximum(np.abs(corners[:, 0]), np.abs(corners[:, 0] + width))
    far_y = np.maximum(np.abs(corners[:, 1]), np.abs(corners[:, 1] + height))
    inside = far_x**2 + far_y**2 <= radius**2
    whole: np.ndarray = corners[inside]
    return whole


def _edge_sites(
    size_mm: tuple[float, float], per_side: int, inset_mm: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (from a die's lower-left corner) of `per_side` terminals along each edge,
    `inset_mm` in from it across x and y (a die's pads: `_EDGE_INSET_MM`)."""
    width, height = size_mm
    t = (np.arange(per_side) + 0.5) / per_side
    inset_x, inset_y = inset_mm or (_EDGE_INSET_MM, _EDGE_INSET_MM)
    edge_x = np.concatenate(
        [t * width, np.full(per_side, width - inset_x), t * width, np.full(per_side, inset_x)]
    )
    edge_y = np.concatenate(
        [np.full(per_side, inset_y), t * height, np.full(per_side, height - inset_y), t * height]
    )
    return edge_x, edge_y


def pad_pitch_um(spec: WaferSpec) -> float:
    """The least distance between two pads of a wafer of `spec` (`_edge_sites`), um: along a
    die's edge, between the pads of two edges where they meet at a corner (the pads of one
    edge nearest the other's line), or across the line between two dies."""
    width, height = spec.die_size_mm
    per_side = spec.pads_per_die_side
    along = (np.arange(per_side) + 0.5) / per_side
    corner = math.hypot(
        float(np.abs(along * width - _EDGE_INSET_MM).min()),
        float(np.abs(along * height - _EDGE_INSET_MM).min()),
    )
    return 1000 * min(width / per_side, height / per_side, corner, 2 * _EDGE_INSET_MM)


def land_positions_mm(spec: PanelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Positions (from a unit's lower-left corner) of its area array's lands (000:x1), row by
    row from the lowest, the depopulated centre left out; none without an array."""
    (rows, columns), (centre_rows, centre_columns) = spec.land_array, spec.land_centre
    row, column = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
    low_row, low_column = (rows - centre_rows) // 2, (columns - centre_columns) // 2
    centre = (
        (row >= low_row)
        & (row < low_row + centre_rows)
        & (column >= low_column)
        & (column < low_column + centre_columns)
    )
    kept_row, kept_column = row[~centre], column[~centre]
    (unit_w, unit_h), (array_w, array_h) = spec.unit_size_mm, spec.land_array_size_mm
    x = (unit_w - array_w) / 2 + kept_column * spec.land_pitch_mm
    y = (unit_h - array_h) / 2 + kept_row * spec.land_pitch_mm
    return x.astype(np.float64), y.astype(np.float64)


def _sites(origins: np.ndarray, edge_x: np.ndarray, edge_y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Site x, y and unit index of the same terminal layout repeated at every origin."""
    site_x = (origins[:, 0:1] + edge_x[None, :]).ravel()
    site_y = (origins[:, 1:2] + edge_y[None, :]).ravel()
    site_unit = np.repeat(np.arange(origins.shape[0], dtype=np.int32), edge_x.size)
    return site_x, site_y, site_unit


#: How far the incoming residue at a site varies about its spec's, as shares of it.
RESIDUE_SPREAD = (0.8, 1.2)


def most_incoming_residue_nm(spec: WaferSpec | PanelSpec) -> float:
    """The most organic residue a workpiece of `spec` arrives with at any site."""
    return spec.residue_nm * RESIDUE_SPREAD[1]


def _contaminate(workpiece: Workpiece, residue_nm: float, oxide_nm: float, seed: int) -> None:
    """Light incoming contamination, varying by workpiece and reproducible from its id."""
    count = workpiece.geometry.site_count
    rng = np.random.default_rng(seed + sum(workpiece.id.encode()))
    spread = rng.uniform(*RESIDUE_SPREAD, count).astype(np.float32)
    workpiece.surface.residue_nm = on_map_grid(np.float32(residue_nm) * spread)
    workpiece.surface.oxide_nm = np.full(count, oxide_nm, np.float32)


def wafer_site_count(spec: WaferSpec) -> int:
    """How many pad sites a wafer of `spec` has (every pad of every whole die), without
    making one: what a recipe multiplies a mask's area per site by."""
    edge_x, _ = _edge_sites(spec.die_size_mm, spec.pads_per_die_side)
    return int(die_grid(spec).shape[0]) * int(edge_x.size)


def farthest_pad_radius_fraction(spec: WaferSpec) -> float:
    """How far the pad of a wafer of `spec` farthest from its centre lies, over the wafer's
    radius (`Geometry.radius_mm`): where a film laid thinner towards the edge is thinnest."""
    site_x, site_y, _ = _sites(
        die_grid(spec), *_edge_sites(spec.die_size_mm, spec.pads_per_die_side)
    )
    return float(np.hypot(site_x, site_y).max()) / (spec.diameter_mm / 2)


def new_wafer(wafer_id: str, spec: WaferSpec) -> Workpiece:
    """A fresh wafer: pads around the edge of every die, with light incoming contamination."""
    dies = die_grid(spec)
    if dies.shape[0] == 0:
        raise ValueError(f"wafer {wafer_id}: no whole die of {spec.die_size_mm} mm fits")
    site_x, site_y, site_unit = _sites(dies, *_edge_sites(spec.die_size_mm, spec.pads_per_die_side))
    geometry = Geometry(
        shape=Shape.WAFER,
        outline_mm=(spec.diameter_mm, spec.diameter_mm),
        substrate="Si",
        thickness_um=spec.thickness_um,
        site_x_mm=site_x,
        site_y_mm=site_y,
        site_unit=site_unit,
        unit_origin_mm=dies,
        unit_size_mm=spec.die_size_mm,
        hole=np.zeros(site_x.size, bool),
        column=np.zeros(site_x.size, bool),
    )
    wafer = Workpiece.compose(wafer_id, spec, geometry, spec.pad_metal)
    _contaminate(wafer, spec.residue_nm, spec.oxide_nm, spec.seed)
    return wafer


def new_panel(panel_id: str, spec: PanelSpec) -> Workpiece:
    """A fresh tape panel (claim 000): units in rows and columns centred on the panel's middle,
    a through-hole site under every terminal of each unit's die, and on the bottom a patterned
    metal interconnection layer (one pattern per unit, under every hole) covered by a cured
    solder resist. The holes are not drilled yet (000:a does that). A panel made for a frame
    (000:x2) has, after each unit's terminal sites, its column sites: a hole under each of the
    frame's conductor columns, in a ring midway between the die and the unit's edge, on the
    unit's interconnection pattern too. A panel with an area array of lands (000:x1) has,
    last, a site at each of them: no hole, a land of the unit's interconnection pattern under
    its solder resist, which the laser opens there instead of under the holes. A metal
    substrate (000:x3)
    is the bare plate alone: its sites are where the dies' terminals land on its metal, which
    joins them all until the plate is patterned."""
    width, height = spec.unit_size_mm
    columns, rows = np.meshgrid(np.arange(spec.columns), np.arange(spec.rows))
    units = np.stack(
        [
            (columns.ravel() - spec.columns / 2) * width,
            (rows.ravel() - spec.rows / 2) * height,
        ],
        axis=1,
    )
    die_x, die_y = _edge_sites(spec.die_size_mm, spec.holes_per_die_side)
    die_x += (width - spec.die_size_mm[0]) / 2
    die_y += (height - spec.die_size_mm[1]) / 2
    margin_x, margin_y = spec.margin_around_die_mm
    ring = (margin_x / 2, margin_y / 2)
    column_x, column_y = _edge_sites(spec.unit_size_mm, spec.columns_per_side, ring)
    land_x, land_y = land_positions_mm(spec)
    site_x, site_y, site_unit = _sites(
        units,
        np.concatenate([die_x, column_x, land_x]),
        np.concatenate([die_y, column_y, land_y]),
    )
    position = np.arange(die_x.size + column_x.size + land_x.size)
    column = np.tile((position >= die_x.size) & (position < die_x.size + column_x.size), len(units))
    land = np.tile(position >= die_x.size + column_x.size, len(units))
    count = site_x.size
    plate = spec.metal_substrate
    geometry = Geometry(
        shape=Shape.PANEL,
        outline_mm=spec.outline_mm,
        substrate=spec.interconnect_metal if plate else spec.tape,
        thickness_um=0.0 if plate else spec.tape_thickness_um,
        site_x_mm=site_x,
        site_y_mm=site_y,
        site_unit=site_unit,
        unit_origin_mm=units,
        unit_size_mm=spec.unit_size_mm,
        hole=~land & (not plate),
        column=column,
        land=land,
    )
    panel = Workpiece.compose(panel_id, spec, geometry, spec.interconnect_metal)
    panel.films.layers.append(
        Film.blanket(
            FilmMaterial(spec.interconnect_metal), spec.interconnect_um, count, face=Face.BACK
        )
    )
    if not plate:
        panel.wiring.levels.append(
            WiringLevel(
                pattern=site_unit.copy(), pattern_unit=np.arange(units.shape[0], dtype=np.int32)
            )
        )
        panel.add_resin(ResinKind.SOLDER_RESIST, spec.solder_resist_um, face=Face.BACK, cure=1.0)
    _contaminate(panel, spec.residue_nm, spec.oxide_nm, spec.seed)
    return panel


def new_workpiece(workpiece_id: str, spec: WaferSpec | PanelSpec) -> Workpiece:
    """A fresh wafer or panel, as `spec` describes."""
    if isinstance(spec, PanelSpec):
        return new_panel(workpiece_id, spec)
    return new_wafer(workpiece_id, spec)
