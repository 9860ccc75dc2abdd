"""Openings down towards the metal: vias, through-holes and concave portions.

Each resin layer has one `OpeningLayer` (the entry of the same index in `Openings.layers`),
and the substrate has one for its through-holes (a panel's holes, 000:a). Depth is measured
from the top of what is opened; an opening is `open` when it reached the metal below (over an
interconnect standing up into the layer, its top: `Workpiece.depth_to_metal_um`). An
opening not yet through leaves resin at its bottom (a concave portion, 002:1f).

A layer's openings also keep what each process left of them, in order (`stages`): a via
made by two processes (002:1f then 002:1h: developed or lasered part of the way, then dry
etched or lasered through) shows both, as a sectioned via shows the step between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class OpeningProcess(StrEnum):
    """How a process deepens the openings of a resin layer (002:1f, 002:1h)."""

    DEVELOP = "develop"  # the layer irradiated and developed (a radiation-sensitive resin, 002:3)
    LASER = "laser"  # ablated by a laser
    DRY_ETCH = "dry-etch"  # etched in a plasma (002:4)


@dataclass
class OpeningStage:
    """What one process left of a layer's openings: each site's depth, the resin left at
    each opening's bottom (0: open onto the metal), and how wide the process cut where it
    deepened one (a laser's through-hole at the bottom of a wider developed concave portion
    is narrower than it: a ball set in the via rests on the narrower rim, `Balls`' reach).
    Empty in a twin recorded before the widths were kept: the layer's width stands for it."""

    process: OpeningProcess
    depth_um: np.ndarray
    left_um: np.ndarray
    diameter_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


@dataclass
class OpeningLayer:
    """The opening at each site of one layer (depth 0: none)."""

    depth_um: np.ndarray
    diameter_um: np.ndarray
    open: np.ndarray  # bool per site: reached the metal below
    stages: list[OpeningStage] = field(default_factory=list)

    @classmethod
    def empty(cls, site_count: int) -> OpeningLayer:
        """No opening at any site."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
        )

    def left_below_um(self, to_metal_um: np.ndarray) -> np.ndarray:
        """What remains at each opening's bottom of a layer whose metal lies `to_metal_um`
        below its top (0: open)."""
        return np.where(self.open, 0.0, np.maximum(to_metal_um - self.depth_um, 0.0))

    def record(
        self,
        process: OpeningProcess,
        to_metal_um: np.ndarray,
        cut: tuple[np.ndarray, float] | None = None,
    ) -> None:
        """Note what `process` left of the openings of a layer whose metal lies `to_metal_um`
        below its top, and how wide it cut: `cut`, the sites it drilled and their diameter (a
        laser), else as wide as the openings are (a develop, or a dry etch bringing a concave
        bottom down across its whole width). The same process again straight after itself (a
        second laser pass) extends its stage, the widths of the sites it drilled before
        kept."""
        extends = bool(self.stages) and self.stages[-1].process is process
        if cut is None:
            diameter = self.diameter_um.copy()
        else:
            before = self.stages[-1].diameter_um if extends else np.zeros(0, np.float32)
            diameter = before.copy() if before.size else self.diameter_um.copy()
            sites, width_um = cut
            diameter[sites] = width_um
        stage = OpeningStage(
            process,
            self.depth_um.copy(),
            self.left_below_um(to_metal_um).astype(np.float32),
            diameter,
        )
        if extends:
            self.stages[-1] = stage
        else:
            self.stages.append(stage)

    def stage_widths_um(self, stage: OpeningStage) -> np.ndarray:
        """How wide `stage` cut at each site (the layer's width in a twin recorded before the
        stages kept theirs)."""
        return stage.diameter_um if stage.diameter_um.size else self.diameter_um

    def opened_by(self) -> np.ndarray:
        """Per site, the index in `stages` of the first process after which no resin was left
        there (-1: resin left still, or no stage recorded)."""
        opened = np.full(self.open.shape, -1, np.int32)
        for index, stage in enumerate(self.stages):
            opened[(opened < 0) & (stage.left_um <= 0)] = index
        return opened


@dataclass
class Openings:
    """The openings of every resin layer (same order as `Resins.layers`) and of the substrate."""

    substrate: OpeningLayer
    layers: list[OpeningLayer] = field(default_factory=list)
