"""Metal and dielectric films, any number, in the order they were laid down.

A film covers the sites its mask leaves (`present`); a blanket film is present everywhere. For
plating, only the seed that is electrically connected to the cathode (`connected`) grows. A
film belongs to a wiring level (001:14-17) on a face; passivation (SiO2, SiN, 002:15) is a
dielectric film. A film etched through a mask keeps its opening at each site (`openings`, as a
resin layer's): present around the site's pad, it no longer covers the pad where the opening
reached it (`covers`), as a passivation opened over the pads.

A film etched through a mask of islands (a land reticle: 000:x3's metal plate patterned into
interconnections) keeps a land under each site and loses the metal in the field around it:
`land_um` and `field_um` say how wide the land is and how much metal the field still holds
(which joins the land to the rest of the film); both stay empty for a film never so etched.

A metal film laid over the whole wafer before a wiring's mould (a metal support's foil, a
seed sputtered, evaporated or grown electroless) lies in the field between the patterns to
come as thick as it was laid (`track_field`): the etch after the plating must clear it there
(`field_um`), and what it took beyond it is the field's over-etch (`field_overetch_um`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from .geometry import Face
from .openings import OpeningLayer


class FilmMaterial(StrEnum):
    """Materials the deposition and plating tools lay down."""

    TI = "Ti"
    TIW = "TiW"
    CU = "Cu"
    NI = "Ni"
    AU = "Au"
    SN = "Sn"
    SNPB = "SnPb"  # eutectic tin-lead, plated
    SIO2 = "SiO2"
    SIN = "SiN"


#: Dielectric films: they insulate, they carry no current and plate nothing.
DIELECTRICS = frozenset({FilmMaterial.SIO2, FilmMaterial.SIN})


@dataclass
class Film:
    """One film: its thickness and coverage per site, and its wiring level."""

    material: FilmMaterial
    thickness_um: np.ndarray
    present: np.ndarray  # bool per site: the film covers it (patterned) or everywhere (blanket)
    connected: np.ndarray  # bool per site: electrically joined to the bump or pad below
    #: its wiring level: how many resin layers of its face lay under it when it was laid (0:
    #: on the substrate; `Workpiece.wiring_level`); stacked arrangements (001:14-17) count up
    level: int = 0
    face: Face = Face.FRONT
    #: per site, the contact resistance where it joins the metal below (empty: a film laid on
    #: another film, with no contact of its own)
    contact_mohm: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    oxygen_fraction: float = 0.0  # the residual gas it took up as it grew (deposition)
    #: How a plated film came out: "good", "rough" (plated below its current-density window)
    #: or "burnt" (above it); anything but good is a product defect.
    quality: str = "good"
    #: the opening etched into the film over each site's pad (None: never etched through a
    #: mask); depth and width per site, `open` where it reached the metal below
    openings: OpeningLayer | None = None
    #: per site, the width of the land kept under the site's island (empty: never etched
    #: through islands; 0: the undercut took the land away)
    land_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: per site, the metal still in the field around the site's land or pattern, joining it
    #: to the rest of the film (empty: not tracked, a film never etched through islands and
    #: neither a metal support's foil nor a seed)
    field_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: per site, how much further an etch went once it had cleared that field (empty: not
    #: tracked; 0 where metal is left): the over-etch between the wiring's patterns
    field_overetch_um: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def track_field(self) -> None:
        """Hold the film, laid over the whole wafer before a wiring's mould (a metal support's
        foil, a seed), as the metal in the field between the patterns to come: as thick there
        as it lies at each site, nothing etched past it yet."""
        self.field_um = np.where(self.present, self.thickness_um, 0).astype(np.float32)
        self.field_overetch_um = np.zeros(self.thickness_um.size, np.float32)

    @property
    def covers(self) -> np.ndarray:
        """Sites whose pad (or the metal below) the film covers: present there, and not
        opened through over it."""
        if self.openings is None:
            return self.present
        covers: np.ndarray = self.present & ~self.openings.open
        return covers

    @classmethod
    def blanket(
        cls,
        material: FilmMaterial,
        thickness_um: float,
        site_count: int,
        level: int = 0,
        face: Face = Face.FRONT,
    ) -> Film:
        """A film of one thickness over every site, connected everywhere unless dielectric."""
        return cls(
            material,
            np.full(site_count, thickness_um, np.float32),
            np.ones(site_count, bool),
            np.full(site_count, material not in DIELECTRICS),
            level,
            face,
        )


@dataclass
class Films:
    """Every film on the workpiece, oldest first."""

    layers: list[Film] = field(default_factory=list)

    def at_level(self, level: int, face: Face = Face.FRONT) -> list[Film]:
        """The films of one wiring level on a face, oldest first."""
        return [film for film in self.layers if film.level == level and film.face is face]
