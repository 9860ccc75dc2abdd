"""The physical model of one wafer or tape panel that the simulated tools change.

A workpiece is composed of parts (`parts/`), one concept each: its geometry, the surface of
the exposed metal, bumps, resin layers and their openings, films, wiring, resist, balls,
placed dies, hole fill, the ground finish and the singulation; on a panel with a frame, its
conductor columns and the devices stacked on it (000:x2). Each part is a structure of
arrays over the sites (electrode pads or hole sites) or the units: one numpy array per
property, never an object per site, so that a 300 mm wafer with tens of thousands of bump
sites costs milliseconds per process step. What a tool does to a workpiece lives in that
tool's physics (`sim_instruments/physics/`); this module composes the parts and offers the few
views every tool and claim check shares (exposed metal, tip projection).

Lengths are micrometres unless a name says otherwise; films on the exposed metal of a site
(residue, oxide) are nanometres.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np

from .parts import (
    DIELECTRICS,
    Balls,
    Bumps,
    Dies,
    Face,
    Fill,
    Films,
    Finish,
    Frame,
    Geometry,
    OpeningLayer,
    Openings,
    ResinKind,
    ResinLayer,
    Resins,
    Resist,
    Singulation,
    Stack,
    Support,
    Surface,
    Wiring,
)
from .specs import PanelSpec, WaferSpec

#: The types of an event's values: plain ones, which cannot change in place.
EventValue = str | int | float | bool | None


class JobEnd(StrEnum):
    """How a job ended: completed, aborted (the safe-state command cut it off) or faulted
    (an alarm broke it off). Every simulated tool says so of each job as it ends
    (`SimulatedTool.job_ended`, which `packline sim serve` prints); a tool whose protocol has
    no word of its own for it (the host-link job tools, the plating cell) says it in its
    event's `result` too."""

    COMPLETED = "completed"
    ABORTED = "aborted"
    FAULTED = "faulted"


@dataclass(frozen=True)
class ProcessEvent:
    """One process step applied to a workpiece, as the twin's own history. What happened
    does not change: an event is frozen, its `detail` read-only and every value in it plain
    (str, int, float, bool or None; a numpy scalar is taken as its Python value), so the
    history's record of it is written once (a twin's snapshot, `snapshot._HistoryText`)."""

    tool: str
    operation: str
    time_s: float
    detail: Mapping[str, EventValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        detail: dict[str, EventValue] = {}
        for key, given in self.detail.items():
            value: object = given.item() if isinstance(given, np.generic) else given
            if type(value) not in PLAIN_TYPES or type(key) is not str:
                raise TypeError(
                    f"{self.tool} {self.operation}: detail {key!r} is a "
                    f"{type(value).__name__}; an event holds str, int, float, bool or None"
                )
            detail[key] = typing.cast(EventValue, value)
        object.__setattr__(self, "time_s", float(self.time_s))
        object.__setattr__(self, "detail", MappingProxyType(detail))


#: The types of `EventValue`, exactly (an IntEnum or a str subclass is not plain).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


@dataclass
class Workpiece:
    """One wafer or panel: its incoming spec, its parts, and what the line did to it."""

    id: str
    spec: WaferSpec | PanelSpec
    geometry: Geometry
    surface: Surface
    bumps: Bumps
    resins: Resins
    openings: Openings
    films: Films
    wiring: Wiring
    resist: Resist
    balls: Balls
    dies: Dies
    fill: Fill
    finish: Finish
    singulation: Singulation
    history: list[ProcessEvent] = field(default_factory=list)
    frame: Frame = field(default_factory=lambda: Frame.empty(0, 0))
    stack: Stack = field(default_factory=Stack)

    @classmethod
    def compose(
        cls, workpiece_id: str, spec: WaferSpec | PanelSpec, geometry: Geometry, pad_metal: str
    ) -> Workpiece:
        """A workpiece of this geometry with every other part empty (clean, bare, uncut)."""
        sites = geometry.site_count
        return cls(
            id=workpiece_id,
            spec=spec,
            geometry=geometry,
            surface=Surface.empty(sites, pad_metal),
            bumps=Bumps.empty(sites),
            resins=Resins(),
            openings=Openings(OpeningLayer.empty(sites)),
            films=Films(),
            wiring=Wiring(),
            resist=Resist.empty(sites),
            balls=Balls.empty(sites),
            dies=Dies.empty(sites),
            fill=Fill.empty(sites),
            finish=Finish(),
            singulation=Singulation(),
            frame=Frame.empty(sites, geometry.unit_count),
        )

    def add_resin(
        self,
        kind: ResinKind,
        thickness_um: float | np.ndarray,
        *,
        face: Face = Face.FRONT,
        cure: float = 0.0,
        voids: float = 0.0,
        support: Support = Support.NONE,
    ) -> tuple[ResinLayer, OpeningLayer]:
        """Lay a resin layer (one thickness, or one per site) on top of its face's stack;
        returns it with its openings (none yet)."""
        sites = self.geometry.site_count
        thickness = np.array(np.broadcast_to(thickness_um, (sites,)), np.float32)
        if thickness.min(initial=0.0) < 0:
            raise ValueError(f"workpiece {self.id}: a resin layer cannot be thinner than 0 um")
        layer = ResinLayer(kind, thickness, face, cure, voids, support)
        openings = OpeningLayer.empty(sites)
        self.resins.layers.append(layer)
        self.openings.layers.append(openings)
        return layer, openings

    def top_resin(self, face: Face = Face.FRONT) -> tuple[ResinLayer, OpeningLayer] | None:
        """The outermost resin layer on a face with its openings; None without resin there."""
        for layer, openings in zip(
            reversed(self.resins.layers), reversed(self.openings.layers), strict=True
        ):
            if layer.face is face:
                return layer, openings
        return None

    @property
    def coated_face(self) -> Face:
        """The face a coat cell's film lands on, the face up: a metal substrate's plate
        (000:x3: its panel goes in plate side up, the front being its sealed and ground
        dies, which no step coats), every other workpiece's front."""
        plate = isinstance(self.spec, PanelSpec) and self.spec.metal_substrate
        return Face.BACK if plate else Face.FRONT

    @property
    def wiring_level(self) -> int:
        """The wiring level of a film laid on the front now: how many front resin layers lie
        under it (0: on the substrate). A film touches the films of its own level; it reaches
        a lower level only through a bump tip standing above the resin or an open via."""
        return len(self.resins.on(Face.FRONT))

    @property
    def resin_um(self) -> np.ndarray:
        """Total resin over each site on the front (a new array; write the layers instead)."""
        return self.resins.thickness_um(self.geometry.site_count)

    @property
    def metal_height_um(self) -> np.ndarray:
        """Per site, how high the metal stands on the front: its bump and the conductive
        films on it, an interconnect (0 where none)."""
        height = self.bumps.height_um.astype(np.float32)
        for film in self.films.layers:
            if film.face is Face.FRONT and film.material not in DIELECTRICS:
                height = height + np.where(film.present, film.thickness_um, np.float32(0.0))
        return height

    def depth_to_metal_um(self, face: Face = Face.FRONT) -> np.ndarray | None:
        """Per site, how far below the top of the outermost resin layer on `face` an opening
        reaches the metal: on the front, the resin over an interconnect standing up into
        that layer (its top, not the layer's bottom: the layer's thickness there counts the
        interconnect's height, which a beam or an etch going down meets first), else the
        layer's whole thickness (the metal under it, or under an opening below it). None
        without resin on `face`."""
        top = self.top_resin(face)
        if top is None:
            return None
        thickness = top[0].thickness_um
        if face is not Face.FRONT:
            return thickness
        over_metal = self.resin_um - self.metal_height_um
        depth: np.ndarray = np.clip(over_metal, 0.0, thickness).astype(np.float32)
        return depth

    @property
    def has_bumps(self) -> np.ndarray:
        return self.bumps.present

    @property
    def tip_projection_um(self) -> np.ndarray:
        """How far each bump tip stands above the front resin top (negative: buried)."""
        projection: np.ndarray = self.bumps.height_um - self.resin_um
        return projection

    @property
    def exposed_metal(self) -> np.ndarray:
        """Sites whose metal is exposed from the front (a beam or a plasma reaches it, a joint
        can touch it): bare pads, bump tips standing above the resin, open via bottoms in the
        top layer; a through-hole site's metal only once its hole is open through the
        substrate; never an area array's land, under the tape on the back."""
        front = self.resins.on(Face.FRONT)
        # one layer (the common case): read its array, not a copy of it
        resin = front[0].thickness_um if len(front) == 1 else self.resin_um
        exposed: np.ndarray = (resin <= 0) | (self.bumps.height_um > resin)
        top = self.top_resin()
        if top is not None:
            exposed |= top[1].open
        if self.geometry.hole.any():
            exposed &= ~self.geometry.hole | self.openings.substrate.open
        if self.geometry.land.any():
            exposed &= ~self.geometry.land  # an area array's land: metal on the back only
        return exposed

    def exposed_metal_on(self, face: Face) -> np.ndarray:
        """Sites whose metal is exposed on `face`: from the front `exposed_metal`; from the
        back, where a conducting back film lies under an opening of the back's outermost resin
        (a panel's solder resist openings), or under no back resin at all."""
        if face is Face.FRONT:
            return self.exposed_metal
        metal = np.zeros(self.geometry.site_count, bool)
        for film in self.films.layers:
            if film.face is Face.BACK and film.material not in DIELECTRICS:
                metal |= film.present
        top = self.top_resin(Face.BACK)
        return metal if top is None else metal & top[1].open

    @property
    def top_metal(self) -> str:
        """The metal at the sites' tops: the bumps' once there are bumps, else the pads'."""
        return self.bumps.material or self.surface.pad_metal

    def record(self, tool: str, operation: str, time_s: float, **detail: EventValue) -> None:
        self.history.append(ProcessEvent(tool, operation, time_s, detail))

    def draws(self, *stream: int) -> np.random.Generator:
        """The random generator of a process a tool runs on this workpiece now, seeded by the
        workpiece alone: its spec's seed, its id, how many processes it has been through
        (`history`), and `stream` (what tells apart two runs before the history grows, such
        as a run's first site). Never by the tool, so a workpiece draws the same numbers
        whatever the tool processed before it: a resumed run's fresh simulated line as an
        uninterrupted one's, a lot of 3 as a lot of 25."""
        return np.random.default_rng(
            [self.spec.seed, *self.id.encode(), len(self.history), *stream]
        )

    def operations(self) -> list[str]:
        return [event.operation for event in self.history]
