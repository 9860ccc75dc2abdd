"""The resin layers on a workpiece, any number, each a thickness per site.

Layers are listed from the substrate outwards, each on one face; the front stack is what the
bumps must pierce, the grinder grinds and the plasma etches. A laminated sheet may still carry
its support (001:7 film, 001:10 metal film) until it is peeled. The openings made in each
layer are in the `openings` part, one entry per layer (see `Workpiece.add_resin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..freezing import thaw
from .geometry import Face
from .resist import PhotoState


class ResinKind(StrEnum):
    """What a resin layer is, as the claims name it."""

    THERMOSET = "thermoset"  # a thermosetting sheet or precursor (001:7, 002:2)
    RADIATION_SENSITIVE = "radiation-sensitive"  # cured and patterned by light (002:3)
    SOLDER_RESIST = "solder-resist"  # 001:4, 002:5, a panel's bottom (000)
    STRESS_RELIEF = "stress-relief"  # 002:17
    SEALING = "sealing"  # molding or sealing resin around the dies (000:e)


class Support(StrEnum):
    """What carries a resin sheet on the workpiece after lamination (claims 001:7, 001:10)."""

    NONE = "none"
    FILM = "film"
    METAL_FILM = "metal-film"


@dataclass
class ResinLayer:
    """One resin layer: its thickness per site and its state as a whole."""

    kind: ResinKind
    thickness_um: np.ndarray
    face: Face = Face.FRONT
    cure: float = 0.0  # degree of cure, 0 (precursor) to 1 (fully cured)
    voids: float = 0.0  # void fraction (lamination under poor vacuum)
    support: Support = Support.NONE
    photo: PhotoState | None = None  # a radiation-sensitive layer a litho cell coated
    solvent: float = 0.0  # solvent fraction of a coated precursor (a photo layer: its photo's)
    dose_mj_cm2: np.ndarray | None = None  # the dose each site got, once exposed


@dataclass
class Resins:
    """The resin layers from the substrate outwards (both faces, each layer naming its own)."""

    layers: list[ResinLayer] = field(default_factory=list)

    def on(self, face: Face) -> list[ResinLayer]:
        """The layers on one face, from the substrate outwards."""
        return [layer for layer in self.layers if layer.face is face]

    def top(self, face: Face = Face.FRONT) -> ResinLayer | None:
        """The outermost layer on a face, None when that face carries no resin."""
        stack = self.on(face)
        return stack[-1] if stack else None

    @property
    def support(self) -> Support:
        """What still carries the outermost front layer (a laminated sheet's), NONE if none."""
        top = self.top()
        return top.support if top is not None else Support.NONE

    def thickness_um(self, site_count: int, face: Face = Face.FRONT) -> np.ndarray:
        """Total resin over each site on a face (a new array)."""
        stack = self.on(face)
        if not stack:
            return np.zeros(site_count, np.float32)
        total = stack[0].thickness_um.copy()
        for layer in stack[1:]:
            total += layer.thickness_um
        return total

    def max_thickness_um(self, face: Face = Face.FRONT) -> float:
        """The thickest resin over any site on a face (0 without resin there)."""
        stack = self.on(face)
        if not stack:
            return 0.0
        total = stack[0].thickness_um
        for layer in stack[1:]:
            total = total + layer.thickness_um
        return float(total.max(initial=0.0))

    def thin_from_top(self, removal_um: float, face: Face = Face.FRONT) -> None:
        """Remove `removal_um` of resin over every site from the outermost surface down, layer
        by layer (an etch or a polish that reaches a lower layer goes on into it)."""
        remaining: float | np.ndarray = removal_um
        for layer in reversed(self.on(face)):
            removed = np.minimum(layer.thickness_um, remaining)
            thaw(layer.thickness_um)
            layer.thickness_um -= removed
            remaining = remaining - removed

    def cut_to_height(self, height_um: float, face: Face = Face.FRONT) -> None:
        """Remove every resin more than `height_um` above the substrate (a grinding level)."""
        bottom: float | np.ndarray = 0.0
        for layer in self.on(face):
            top = bottom + layer.thickness_um
            thaw(layer.thickness_um)
            np.minimum(
                layer.thickness_um, np.maximum(height_um - bottom, 0.0), out=layer.thickness_um
            )
            bottom = top
