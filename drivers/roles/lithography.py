"""The lithography role: a coat/develop track linked inline with a wafer stepper (a litho cell).

Used by the claimed methods to pattern a wafer: a resist mould over the seed metal for the
wiring that plating thickens (001:8, 001:11), and the first opening process of a
radiation-sensitive resin layer (002:1f with 002:3), where a dose below the clearing dose
leaves concave portions with resin at their bottom for the second process to open.

The cell coats a film from one of its dispense lines (a photoresist, or a radiation-sensitive
resin that stays on the product as a permanent layer): the spin speed and the material's
viscosity give its thickness. A soft bake drives the solvent off. The stepper exposes every die
through a reticle of its library, which says which sites are opened, at a dose in mJ/cm²; the
developer then dissolves what the tone says: the exposed film (positive) or the unexposed film
(negative). What the develop leaves is measured by the cell's own metrology (opening depth and
top width, film left at the bottom, bridged or closed openings). One wafer at a time.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from ..equipment import Equipment

if TYPE_CHECKING:
    import numpy as np

#: A width, one number or one per site.
Width = TypeVar("Width", float, "np.ndarray")


class Tone(StrEnum):
    """Which film the developer removes (the names are the protocol's)."""

    POSITIVE = "POS"  # the exposed film; aqueous (TMAH) developer
    NEGATIVE = "NEG"  # the unexposed film; the exposed film is cross-linked; solvent developer


class FilmLayer(StrEnum):
    """What a coated film is for (the names are the protocol's)."""

    RESIST = "RESIST"  # a temporary mask, stripped after the etch or the plating
    RESIN = "RESIN"  # a radiation-sensitive resin that stays as a layer of the package


class CoatMaterial(StrEnum):
    """The cell's dispense lines (the names are the protocol's; facts in `MATERIALS`)."""

    PR_THIN = "PR-THIN"
    PR_THICK = "PR-THICK"
    NR_THICK = "NR-THICK"
    PBO_P = "PBO-P"
    PI_N = "PI-N"


@dataclass(frozen=True)
class MaterialFacts:
    """What a process engineer knows of a dispense line's material."""

    tone: Tone
    layer: FilmLayer
    viscosity_cp: float
    #: the solvent in the film at the end of a short spin (the spin and the bake drive it
    #: out, and the film shrinks by its volume)
    spun_solvent_fraction: float
    #: E0 per um of film: the dose that lets the developer clear a um of the exposed film
    #: (positive) or cross-link a um against it (negative) in the nominal develop time
    clearing_dose_mj_cm2_per_um: float
    #: the develop time the clearing dose is given for; a negative film's unexposed openings
    #: dissolve through in it, whatever the film's thickness (the developer's bulk rate)
    nominal_develop_s: float
    doc: str


#: The cell's materials: tone, purpose, viscosity, the solvent a spin leaves in the film, and
#: how the developer dissolves it (the material's data sheet, est): the line's process data,
#: which validate works a recipe's film and its develop out by and the simulated cell coats and
#: develops by.
MATERIALS: dict[CoatMaterial, MaterialFacts] = {
    CoatMaterial.PR_THIN: MaterialFacts(
        Tone.POSITIVE,
        FilmLayer.RESIST,
        30.0,
        0.25,
        40.0,
        60.0,
        "novolac resist for etch masks (1-3 um)",
    ),
    CoatMaterial.PR_THICK: MaterialFacts(
        Tone.POSITIVE,
        FilmLayer.RESIST,
        1500.0,
        0.20,
        30.0,
        120.0,
        "thick novolac resist, plating moulds (8-25 um)",
    ),
    CoatMaterial.NR_THICK: MaterialFacts(
        Tone.NEGATIVE,
        FilmLayer.RESIST,
        3000.0,
        0.15,
        12.0,
        180.0,
        "epoxy negative resist, plating moulds (15-40 um)",
    ),
    CoatMaterial.PBO_P: MaterialFacts(
        Tone.POSITIVE,
        FilmLayer.RESIN,
        1000.0,
        0.20,
        25.0,
        90.0,
        "positive photosensitive polybenzoxazole resin",
    ),
    CoatMaterial.PI_N: MaterialFacts(
        Tone.NEGATIVE,
        FilmLayer.RESIN,
        2000.0,
        0.20,
        15.0,
        120.0,
        "negative photosensitive polyimide resin",
    ),
}


#: The spin law of the line's spin modules, the litho cell's and the resin coater's alike (est;
#: the line's process data, qualified on the line): a liquid of viscosity η (cP) spun at ω
#: leaves SPIN_K_UM · η^SPIN_VISCOSITY_EXPONENT / √(ω / 1000 rpm) on the open field. A
#: recipe's film is worked out by it before the run, and the simulated spin modules lay it.
SPIN_K_UM = 0.65
SPIN_VISCOSITY_EXPONENT = 0.5
#: The spun film's solvent falls by e every this long while it spins (est).
SPIN_DRYING_S = 60.0
#: The hot plate's soft bake: the solvent leaves with a time constant of BAKE_TAU_S_AT_100C at
#: 100 degC, halving every BAKE_TAU_HALVING_C hotter (est), and the film shrinks by its volume.
BAKE_TAU_S_AT_100C = 30.0
BAKE_TAU_HALVING_C = 10.0


def speed_law_um(
    viscosity_cp: float,
    spin_rpm: float,
    k_um: float = SPIN_K_UM,
    exponent: float = SPIN_VISCOSITY_EXPONENT,
) -> float:
    """The as-spun thickness on the open field of a liquid of `viscosity_cp` spun at
    `spin_rpm`: k · η^a / √(ω / 1000 rpm)."""
    return k_um * math.pow(viscosity_cp, exponent) / math.sqrt(spin_rpm / 1000.0)


def solvent_after_spin(start: float, spin_time_s: float, drying_s: float = SPIN_DRYING_S) -> float:
    """The solvent fraction left when a spin of `spin_time_s` ends, of `start` at its start."""
    return start * math.exp(-spin_time_s / drying_s)


def soft_baked(
    solvent: float,
    temperature_c: float,
    time_s: float,
    tau_s_at_100c: float = BAKE_TAU_S_AT_100C,
    halving_c: float = BAKE_TAU_HALVING_C,
) -> tuple[float, float]:
    """A film of `solvent` fraction after a bake of `time_s` at `temperature_c`: the share of
    its thickness it keeps (it shrinks by the solvent's volume) and the solvent left."""
    tau_s = tau_s_at_100c * 2.0 ** ((100.0 - temperature_c) / halving_c)
    left = solvent * math.exp(-time_s / tau_s)
    return (1.0 - solvent) / (1.0 - left), left


def coated_film_um(
    material: CoatMaterial,
    spin_rpm: float,
    spin_time_s: float,
    bake_temperature_c: float,
    bake_time_s: float,
) -> float:
    """The film of `material` the cell leaves on the open field after its spin and soft bake:
    the spin law's thickness, shrunk by the solvent the bake drives out of what the spin
    left. The thickest the film stands anywhere (a develop only thins it): what a strip of
    the resist must take off."""
    facts = MATERIALS[material]
    solvent = solvent_after_spin(facts.spun_solvent_fraction, spin_time_s)
    shrink, _ = soft_baked(solvent, bake_temperature_c, bake_time_s)
    return speed_law_um(facts.viscosity_cp, spin_rpm) * shrink


def develop_rate_um_s(material: CoatMaterial, film_um: float, dose_mj_cm2: float) -> float:
    """How fast the developer dissolves the openings of a film of `material`, `film_um` thick,
    exposed at `dose_mj_cm2`: a positive film's exposed openings at the dose over the clearing
    dose of a um in the nominal time (E0 clears the whole film in it, twice E0 in half of it); a
    negative film's unexposed openings at its bulk rate, the whole film in the nominal time.
    The film's dark loss (a little of it dissolves wherever it is) is not counted: the openings
    clear at this rate or a little faster. A develop of `film_um` over the rate opens them."""
    facts = MATERIALS[material]
    if facts.tone is Tone.NEGATIVE:
        return film_um / facts.nominal_develop_s
    return dose_mj_cm2 / (facts.clearing_dose_mj_cm2_per_um * facts.nominal_develop_s)


def least_develop_s(material: CoatMaterial, film_um: float, dose_mj_cm2: float) -> int:
    """The least develop, in whole seconds (at least 1), that opens every opening of a film of
    `material`, `film_um` thick, exposed at `dose_mj_cm2` (`develop_rate_um_s`)."""
    through_s = film_um / develop_rate_um_s(material, film_um, dose_mj_cm2)
    return max(1, math.ceil(round(through_s, 9)))


def least_dose_mj_cm2(material: CoatMaterial, film_um: float, develop_s: float) -> int | None:
    """The least dose, in whole mJ/cm2, at which a develop of `develop_s` opens every opening
    of a film of `material`, `film_um` thick (`develop_rate_um_s`); None for a negative film,
    whose openings (unexposed) dissolve at its bulk rate whatever the dose."""
    if MATERIALS[material].tone is Tone.NEGATIVE:
        return None
    return _dose_for_um(material, film_um, develop_s)


def cross_linking_dose_mj_cm2(material: CoatMaterial, kept_um: float, develop_s: float) -> int:
    """The least dose, in whole mJ/cm2, at which a negative film of `material` keeps `kept_um`
    of its exposed field through a develop of `develop_s`: the developer dissolves the field
    but what the dose cross-linked, a um for every E0 per um in the nominal develop time."""
    return _dose_for_um(material, kept_um, develop_s)


def _dose_for_um(material: CoatMaterial, um: float, develop_s: float) -> int:
    """The dose, in whole mJ/cm2 rounded up, whose effect in a develop of `develop_s` (D · t /
    t_nom) is E0 per um of `material` over `um`: what clears that much of a positive film's
    exposed openings, or cross-links that much of a negative film's field against the
    developer."""
    facts = MATERIALS[material]
    dose = um * facts.clearing_dose_mj_cm2_per_um * facts.nominal_develop_s / develop_s
    return math.ceil(round(dose, 9))


#: How far the stepper may lay a pattern off the one below it, um, at most (est): its overlay,
#: aligning to a panel's marks over a panel that warps and shrinks as it is sealed and ground.
#: A pattern that must fall inside another (a solder resist's opening inside its land) is
#: drawn at least twice this narrower, so it stays inside at the most off it is laid.
OVERLAY_UM = 10.0


class TrackState(StrEnum):
    """What the cell is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    COATING = "COATING"
    BAKING = "BAKING"
    EXPOSING = "EXPOSING"
    DEVELOPING = "DEVELOPING"
    FAULT = "FAULT"


#: The states in which the cell runs no job; every other is working (`working`), a fault told by
#: the alarms.
AT_REST = frozenset({TrackState.IDLE, TrackState.FAULT})


class Feature(StrEnum):
    """The shape a reticle opens (or, for a land, keeps) at each of its sites."""

    HOLE = "HOLE"  # a round opening, `size_um` across (a via, a concave portion, a land)
    LINE = "LINE"  # a trace `size_um` wide (a wiring pattern)
    #: an island of film `size_um` across kept over the site, the field around it cleared (the
    #: lands a metal plate is etched into interconnections around, 000:x3)
    LAND = "LAND"


@dataclass(frozen=True)
class TrackStatus:
    """One snapshot of the cell; `shots_done` / `shots_total` is an exposure's progress."""

    state: TrackState
    wafer_id: str | None
    spin_rpm: int
    hotplate_c: float
    shots_done: int
    shots_total: int
    remaining_s: float
    jobs_completed: int


@dataclass(frozen=True)
class Film:
    """The film on the loaded wafer, as the cell's thickness gauge and log know it."""

    material: CoatMaterial
    tone: Tone
    layer: FilmLayer
    thickness_um: float  # mean over the wafer, outside the openings
    residual_solvent_percent: float
    clearing_dose_mj_cm2: float  # E0: the dose that clears this film in its nominal develop
    nominal_develop_s: float
    dose_mj_cm2: float  # 0 before an exposure
    developed: bool


@dataclass(frozen=True)
class Reticle:
    """A mask of the stepper's library: which sites it opens, and the pattern at each.

    A hole reticle opens a round hole `size_um` across at each site. A line reticle opens
    each site's wiring: a trace `size_um` wide and `trace_length_um` long from the site,
    ending in a round pad `pad_um` across (the land a ball or the next level's bump joins).
    A land reticle keeps an island `size_um` across over each site in a cleared field whose
    pitch is `size_um + space_um`. `opened_um2` is what each site's pattern opens: the seed a
    plating through it thickens (a process engineer's "open area" of the mask).
    """

    name: str
    feature: Feature
    size_um: float  # hole diameter or line width on the reticle (1x)
    space_um: float  # to the neighbouring feature: less wall than this and they bridge
    pad_um: float = 0.0  # a line's end pad, across (0: none)
    trace_length_um: float = 0.0  # a line's trace from the site to its pad

    def __post_init__(self) -> None:
        if self.size_um <= 0 or self.space_um <= 0:
            raise ValueError(f"reticle {self.name}: size_um and space_um must be positive")
        if self.feature is Feature.LINE and self.trace_length_um <= 0:
            raise ValueError(f"reticle {self.name}: a line reticle needs a trace_length_um")
        if self.pad_um and self.pad_um < self.size_um:
            raise ValueError(
                f"reticle {self.name}: pad_um {self.pad_um:g} must be 0 (no pad) or at least "
                f"the line's size_um {self.size_um:g}"
            )

    def opened_um2(self, width_um: Width) -> Width:
        """The area each site's pattern opens when its feature develops `width_um` wide at the
        top (`size_um` at the dose-to-size; a wider or narrower develop moves every edge of
        the pattern alike): a hole's disc, a line's trace and pad, a land's field cell around
        its island."""
        edge_um = width_um - self.size_um
        if self.feature is Feature.HOLE:
            return math.pi / 4 * width_um**2
        if self.feature is Feature.LINE:
            pad_um = self.pad_um + edge_um if self.pad_um else 0.0
            return width_um * self.trace_length_um + math.pi / 4 * pad_um**2
        return (self.size_um + self.space_um) ** 2 - math.pi / 4 * width_um**2

    @property
    def design_opened_um2(self) -> float:
        """What each site's pattern opens developed to size."""
        return self.opened_um2(self.size_um)


#: The line's reticle library, which the stepper holds: each opens (a land: keeps) every pad
#: site of every die; its design is what a recipe computes a plated area from.
RETICLES: dict[str, Reticle] = {
    reticle.name: reticle
    for reticle in (
        Reticle("pads", Feature.HOLE, 80.0, 1000.0),
        Reticle("openings", Feature.HOLE, 40.0, 60.0),
        #: a resin's vias for the balls of its terminals, about half a 300 um ball across
        #: (002:1f developed, decision 0128)
        Reticle("terminal-vias", Feature.HOLE, 150.0, 930.0),
        Reticle("wiring-level-1", Feature.LINE, 15.0, 10.0, pad_um=250.0, trace_length_um=1200.0),
        Reticle("wiring-level-2", Feature.LINE, 20.0, 20.0, pad_um=250.0, trace_length_um=1200.0),
        Reticle("ball-lands", Feature.HOLE, 400.0, 850.0),
        Reticle("interconnect-lands", Feature.LAND, 300.0, 200.0),
        #: a solder resist's opening at every land of a plate patterned through
        #: interconnect-lands, inside it (000:x3)
        Reticle("land-openings", Feature.HOLE, 150.0, 350.0),
    )
}


@dataclass(frozen=True)
class PatternReport:
    """What a develop left, as the cell's metrology measures it over the reticle's sites."""

    mask: str
    sites: int  # sites the reticle opens
    cleared: int  # openings down to the layer below
    depth_um: float  # mean opening depth
    residual_um: float  # most film left at the bottom of an opening
    cd_um: float  # mean top width of the openings that opened
    bridged: int  # openings merged with a neighbour (the wall between them gone)
    closed: int  # openings that did not open at all

    @property
    def all_cleared(self) -> bool:
        return self.cleared == self.sites and self.bridged == 0


class Lithography(Equipment):
    """A litho cell: coat, bake and develop modules of a track, and an inline stepper."""

    role = "lithography"
    activity_field = "state"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = (await self.request_status()).wafer_id
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        for wafer_id in await self.request_workpieces():
            await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> TrackStatus:
        """State, loaded wafer, spin speed, hotplate, exposure progress, jobs completed."""

    @abstractmethod
    async def request_film(self) -> Film | None:
        """The film on the loaded wafer (None: bare, or nothing loaded)."""

    @abstractmethod
    async def request_masks(self) -> tuple[str, ...]:
        """The names of the reticles in the stepper's library."""

    @abstractmethod
    async def request_reticle(self) -> Reticle | None:
        """The reticle on the stage (None: none selected yet)."""

    @abstractmethod
    async def request_pattern(self) -> PatternReport | None:
        """The metrology of the last develop on the loaded wafer (None: not developed)."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Take wafer `wafer_id` into the cell; it must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Return wafer `wafer_id` to its carrier; it must be the one loaded."""

    @abstractmethod
    async def coat(
        self,
        material: CoatMaterial,
        spin_rpm: int,
        *,
        spin_time_s: float = 30.0,
        timeout_s: float | None = None,
    ) -> Film:
        """Dispense `material` on the loaded wafer and spin it at `spin_rpm` for `spin_time_s`
        (thickness from the speed and the material's viscosity); the film as measured."""

    @abstractmethod
    async def bake(
        self, temperature_c: float, time_s: float, *, timeout_s: float | None = None
    ) -> Film:
        """Soft-bake the film on a hotplate: the solvent goes, the film shrinks a little."""

    @abstractmethod
    async def expose(
        self, mask: str, dose_mj_cm2: float, *, timeout_s: float | None = None
    ) -> Film:
        """Put reticle `mask` on the stage and expose every die of the loaded wafer at
        `dose_mj_cm2`; a lamp failure stops it with the dies exposed so far kept."""

    @abstractmethod
    async def develop(
        self, tone: Tone, time_s: float, *, timeout_s: float | None = None
    ) -> PatternReport:
        """Develop with the `tone`'s developer for `time_s`, rinse and dry; the metrology of
        what it left. The tone must be the film's: the wrong developer is refused."""
