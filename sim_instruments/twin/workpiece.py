"""The physical model of one wafer or tape panel that the simulated tools change.

A workpiece is a structure of arrays over its sites (electrode pads or hole sites): one numpy
array per property, never an object per site, so that a 300 mm wafer with tens of thousands
of bump sites costs milliseconds per process step. What a tool does to a workpiece lives in
that tool's simulator (its physics); this module holds only the state and the few geometric
facts every tool shares (where the sites are, which die each belongs to).

Lengths are micrometres unless a name says otherwise; films on the exposed metal of a site
(residue, oxide) are nanometres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Support(StrEnum):
    """What carries the resin sheet on the workpiece after lamination (claims 001:7, 001:10)."""

    NONE = "none"
    FILM = "film"
    METAL_FILM = "metal-film"


@dataclass(frozen=True)
class WaferSpec:
    """Incoming material: how a fresh wafer of a lot looks before the line touches it."""

    diameter_mm: float = 200.0
    thickness_um: float = 725.0
    die_size_mm: tuple[float, float] = (10.0, 10.0)
    pads_per_die_side: int = 8
    pad_metal: str = "Al"
    edge_exclusion_mm: float = 3.0
    residue_nm: float = 4.0
    oxide_nm: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.diameter_mm <= 0 or self.thickness_um <= 0:
            raise ValueError("WaferSpec: diameter_mm and thickness_um must be positive")
        if min(self.die_size_mm) <= 0 or self.pads_per_die_side < 1:
            raise ValueError("WaferSpec: die_size_mm must be positive, pads_per_die_side >= 1")


@dataclass
class ProcessEvent:
    """One process step applied to a workpiece, as the twin's own history."""

    tool: str
    operation: str
    time_s: float
    detail: dict[str, float | str] = field(default_factory=dict)


@dataclass
class Workpiece:
    """One wafer or panel: scalar state plus one array per site property."""

    id: str
    spec: WaferSpec
    # geometry, fixed at creation
    site_x_mm: np.ndarray
    site_y_mm: np.ndarray
    site_die: np.ndarray
    die_origin_mm: np.ndarray  # (n_dies, 2) lower-left corner of each die
    # substrate
    thickness_um: float
    # exposed metal at each site (the pad, or the bump tip once a bump is there)
    residue_nm: np.ndarray
    oxide_nm: np.ndarray
    activated: np.ndarray
    # stud bumps
    bump_height_um: np.ndarray
    bump_base_diameter_um: np.ndarray
    bump_stack: np.ndarray
    bump_material: str | None = None
    # resin film over the sites
    resin_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    resin_cured: bool = False
    support: Support = Support.NONE
    resin_voids: float = 0.0  # void fraction left by lamination under poor vacuum
    # vias opened in the resin or substrate down towards the site metal
    via_depth_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    via_diameter_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    via_open: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # ground surface
    roughness_ra_um: float = 0.0
    thickness_variation_um: float = 0.0
    # dicing
    kerfs_x_mm: list[float] = field(default_factory=list)
    kerfs_y_mm: list[float] = field(default_factory=list)
    kerf_width_um: float = 0.0
    cut_depth_um: float = 0.0
    chipping_um: float = 0.0
    singulated_units: int = 0
    history: list[ProcessEvent] = field(default_factory=list)

    @property
    def site_count(self) -> int:
        return int(self.site_x_mm.size)

    @property
    def die_count(self) -> int:
        return int(self.die_origin_mm.shape[0])

    @property
    def has_bumps(self) -> np.ndarray:
        return self.bump_height_um > 0

    @property
    def exposed_metal(self) -> np.ndarray:
        """Sites whose metal is exposed (a beam or a plasma reaches it, a joint can touch it):
        bare pads, bump tips standing above the resin, open via bottoms."""
        return (self.resin_um <= 0) | (self.bump_height_um > self.resin_um) | self.via_open

    @property
    def tip_projection_um(self) -> np.ndarray:
        """How far each bump tip stands above the resin top (negative: buried)."""
        return self.bump_height_um - self.resin_um

    def record(self, tool: str, operation: str, time_s: float, **detail: float | str) -> None:
        self.history.append(ProcessEvent(tool, operation, time_s, dict(detail)))

    def operations(self) -> list[str]:
        return [event.operation for event in self.history]


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
    return corners[inside]


def new_wafer(wafer_id: str, spec: WaferSpec) -> Workpiece:
    """A fresh wafer: pads around the edge of every die, with light incoming contamination."""
    dies = die_grid(spec)
    if dies.shape[0] == 0:
        raise ValueError(f"wafer {wafer_id}: no whole die of {spec.die_size_mm} mm fits")
    width, height = spec.die_size_mm
    n = spec.pads_per_die_side
    # pads evenly along the four die edges, 0.3 mm in from the edge
    t = (np.arange(n) + 0.5) / n
    inset = 0.3
    edge_x = np.concatenate([t * width, np.full(n, width - inset), t * width, np.full(n, inset)])
    edge_y = np.concatenate([np.full(n, inset), t * height, np.full(n, height - inset), t * height])
    pads_per_die = edge_x.size
    site_x = (dies[:, 0:1] + edge_x[None, :]).ravel()
    site_y = (dies[:, 1:2] + edge_y[None, :]).ravel()
    site_die = np.repeat(np.arange(dies.shape[0], dtype=np.int32), pads_per_die)
    count = site_x.size
    rng = np.random.default_rng(spec.seed + sum(wafer_id.encode()))
    spread = rng.uniform(0.8, 1.2, count).astype(np.float32)
    return Workpiece(
        id=wafer_id,
        spec=spec,
        site_x_mm=site_x,
        site_y_mm=site_y,
        site_die=site_die,
        die_origin_mm=dies,
        thickness_um=spec.thickness_um,
        residue_nm=np.float32(spec.residue_nm) * spread,
        oxide_nm=np.full(count, spec.oxide_nm, np.float32),
        activated=np.zeros(count, bool),
        bump_height_um=np.zeros(count, np.float32),
        bump_base_diameter_um=np.zeros(count, np.float32),
        bump_stack=np.zeros(count, np.int8),
        resin_um=np.zeros(count, np.float32),
        via_depth_um=np.zeros(count, np.float32),
        via_diameter_um=np.zeros(count, np.float32),
        via_open=np.zeros(count, bool),
    )
