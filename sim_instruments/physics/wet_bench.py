"""What the wet bench does to a wafer: strip the resist, etch metal films, plate electroless Cu.

Pure functions over the workpiece's parts, with their constants in `WetPhysics` (engineering
estimates, est). Every bath's rate doubles for each `doubling_c` it runs above its reference
temperature (an Arrhenius law near room temperature).

* **Strip** (`resist`): the resist dissolves at the stripper's rate; a strip too short leaves
  resist on the sites (`left`); once none is left the resist part is empty again.
* **Etch** (`films`): the etchant removes its metals from the top down at each site that no
  resist covers; a film of another metal on top stops it (selectivity). A film etched to
  nothing is gone from the site: a pattern cut through there, with no connected metal of its
  wiring level left (a plating etched away over the foil it grew on still leaves the foil),
  is `opened` (the over-etch that opens a wiring line, or a seed etch where the plating never
  grew). Once no resist is left on a site, the etchant takes as much off a film's metal in
  the field around the site's pattern (`Film.field_um`, a metal support's foil or a seed of
  the wiring level being etched: what joins the patterns until it is etched through; a film
  of another metal left there stops it; what it takes beyond that metal is the field's
  over-etch, `Film.field_overetch_um`; the levels below lie under their resin). Through a resist of
  islands (a land reticle, 000:x3) the etchant works in the field around each island, down
  through the film (`Film.field_um`: what the field still holds joins the land to the rest),
  and, being isotropic, as far sideways under the island's edge (`undercut`): the land under
  it narrows by twice that (`Film.land_um`), and a land narrowed to nothing is gone (opened).
* **Electroless copper** (`films`): a copper film grows at the bath's rate on every site no
  resist covers; it joins the metal below where that metal is exposed (a bump tip through the
  resin, a bare pad, an open via): the thin film of 001:9, as thick in the field between the
  patterns to come (`Film.track_field`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.wet_bench import (
    BATH_METALS,
    BATH_RATES,
    RATE_DOUBLING_C,
    BathRate,
    Tank,
)

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import DIELECTRICS, Face, Film, FilmMaterial, Resist


@dataclass(frozen=True)
class BathPhysics(BathRate):
    """One bath: its rate at its reference temperature, and which films it works on."""

    metals: frozenset[FilmMaterial] = frozenset()


def nominal_bath(tank: Tank) -> BathPhysics:
    """`tank`'s bath at the line's nominal rate (`BATH_RATES`), working on its metals
    (`BATH_METALS`)."""
    nominal = BATH_RATES[tank]
    metals = frozenset(FilmMaterial(metal) for metal in BATH_METALS[tank])
    return BathPhysics(nominal.rate_um_s, nominal.reference_c, metals)


@dataclass(frozen=True)
class WetPhysics:
    """The bench's constants (est)."""

    baths: tuple[tuple[Tank, BathPhysics], ...] = (
        (Tank.STRIP, nominal_bath(Tank.STRIP)),
        (Tank.CU_ETCH, nominal_bath(Tank.CU_ETCH)),
        (Tank.TI_ETCH, nominal_bath(Tank.TI_ETCH)),
        (Tank.CU_ELESS, nominal_bath(Tank.CU_ELESS)),
    )
    doubling_c: float = RATE_DOUBLING_C
    #: how far an etch reaches sideways under a resist edge per um it etches down (isotropic)
    undercut: float = 1.0
    heating_c_s: float = 0.5
    rinse_s: float = 60.0
    dry_s: float = 30.0

    def bath(self, tank: Tank) -> BathPhysics:
        return dict(self.baths)[tank]

    def rate_um_s(self, tank: Tank, temperature_c: float) -> float:
        """The bath's rate at `temperature_c`."""
        return self.bath(tank).at_um_s(temperature_c, self.doubling_c)


@dataclass(frozen=True)
class DipOutcome:
    """What one dip did: the mean thickness change where the bath acted, the sites that still
    carry the bath's film, and the sites whose patterned metal it cut through."""

    change_um: float
    left: int
    opened: int


def strip(
    workpiece: Workpiece, time_s: float, temperature_c: float, physics: WetPhysics
) -> DipOutcome:
    """Dissolve `rate · time` of resist over every site."""
    resist = workpiece.resist
    removal = physics.rate_um_s(Tank.STRIP, temperature_c) * time_s
    before = resist.thickness_um.copy()
    after = np.maximum(before - removal, 0.0).astype(np.float32)
    resist.thickness_um = after
    thaw(resist.developed_um)
    np.minimum(resist.developed_um, after, out=resist.developed_um)
    left = int(np.count_nonzero(after))
    if left == 0:
        workpiece.resist = Resist.empty(workpiece.geometry.site_count)
    had = before > 0
    return DipOutcome(_mean_removed(before - after, had), left, 0)


def etch(
    workpiece: Workpiece, tank: Tank, time_s: float, temperature_c: float, physics: WetPhysics
) -> DipOutcome:
    """Etch the tank's metals from the top down where no resist covers the site (through a
    resist of islands: in the field around each, and under its edge)."""
    metals = physics.bath(tank).metals
    resist = workpiece.resist
    etched_um = physics.rate_um_s(tank, temperature_c) * time_s
    budget = np.where(resist.open, etched_um, 0.0).astype(np.float32)
    exposed = budget > 0
    #: the field between the patterns lies under the resist until it is stripped
    field_budget = np.where(resist.thickness_um > 0, 0.0, etched_um).astype(np.float32)
    removed = np.zeros_like(budget)
    #: where a connected film was etched to nothing, by its wiring level and face
    lost: dict[tuple[int, Face], np.ndarray] = {}
    for film in reversed(workpiece.films.layers):
        if film.material not in metals:
            budget[film.present] = 0.0  # another metal on top: the etchant stops at it
            if film.field_um.size == field_budget.size:
                field_budget[film.field_um > 0] = 0.0
            continue
        thaw(film.thickness_um, film.present, film.connected)
        tracked = film.field_overetch_um.size == field_budget.size
        if tracked and film.level == workpiece.wiring_level and not resist.islands:
            _etch_field(film, field_budget)
        key = (film.level, film.face)
        lost.setdefault(key, np.zeros(budget.shape, bool))
        if resist.islands and resist.opening_um is not None:
            removed += _etch_around_islands(film, budget, resist.opening_um, physics)
            lost[key] |= film.connected & ~film.present
            film.connected &= film.present
            continue
        take = np.where(film.present, np.minimum(film.thickness_um, budget), 0.0)
        film.thickness_um -= take
        budget -= take
        removed += take
        gone = film.present & (film.thickness_um <= 0)
        lost[key] |= gone & film.connected
        film.present &= ~gone
        film.connected &= ~gone
    opened = np.zeros(budget.shape, bool)
    for (level, face), lost_here in lost.items():
        # a pattern is cut through only where no connected metal of its level is left (a
        # plating etched away over the foil it grew on still leaves the foil's wiring)
        carried = np.zeros(budget.shape, bool)
        for film in workpiece.films.layers:
            if film.level == level and film.face == face and film.material not in DIELECTRICS:
                carried |= film.present & film.connected
        opened |= lost_here & ~carried
    left = np.zeros(budget.shape, bool)
    for film in workpiece.films.layers:
        if film.material in metals:
            left |= film.present
    return DipOutcome(_mean_removed(removed, exposed), int(left.sum()), int(opened.sum()))


def plate_electroless(
    workpiece: Workpiece, time_s: float, temperature_c: float, physics: WetPhysics
) -> DipOutcome:
    """Grow electroless copper on every site no resist covers (thickening a copper film that
    is already the top film of the current wiring level, else laying a new one on it)."""
    sites = workpiece.geometry.site_count
    growth = physics.rate_um_s(Tank.CU_ELESS, temperature_c) * time_s
    grows = workpiece.resist.open
    films = workpiece.films.layers
    level = workpiece.wiring_level
    top = films[-1] if films else None
    if top is None or top.material is not FilmMaterial.CU or top.level != level:
        top = Film(
            FilmMaterial.CU,
            np.zeros(sites, np.float32),
            np.zeros(sites, bool),
            np.zeros(sites, bool),
            level,
        )
        films.append(top)
    below_metal = workpiece.exposed_metal | _metal_under(
        [film for film in films[:-1] if film.level == level]
    )
    thaw(top.thickness_um, top.connected, top.present)
    top.thickness_um[grows] += growth
    top.connected |= grows & (top.present | below_metal)
    top.present |= grows
    top.track_field()
    return DipOutcome(growth if grows.any() else 0.0, int(top.present.sum()), 0)


def _etch_field(film: Film, budget: np.ndarray) -> None:
    """Etch `budget` (per site) into `film`'s metal in the field between the patterns, from
    its top; what the budget holds beyond that metal is the field's over-etch."""
    take = np.minimum(film.field_um, budget)
    thaw(film.field_um, film.field_overetch_um)
    film.field_um -= take
    budget -= take
    film.field_overetch_um += np.where(film.field_um > 0, 0.0, budget).astype(np.float32)


def _etch_around_islands(
    film: Film, budget: np.ndarray, island_um: np.ndarray, physics: WetPhysics
) -> np.ndarray:
    """Etch `budget` (per site) into the field around each island of `island_um` and under its
    edge; returns the metal removed from each site's field. The land keeps its thickness."""
    sites = budget.size
    if film.field_um.size != sites:
        film.field_um = np.where(film.present, film.thickness_um, 0.0).astype(np.float32)
        film.land_um = np.where(film.present, island_um, 0.0).astype(np.float32)
    take: np.ndarray = np.minimum(film.field_um, budget)
    thaw(film.field_um, film.present)
    film.field_um -= take
    film.land_um = np.maximum(film.land_um - 2 * physics.undercut * budget, 0.0).astype(np.float32)
    film.present &= film.land_um > 0
    budget -= take
    return take


def _mean_removed(removed_um: np.ndarray, where: np.ndarray) -> float:
    """The thickness change where the bath acted: minus the mean removed (0 where it did
    nothing)."""
    mean = float(removed_um[where].mean()) if where.any() else 0.0
    return -mean if mean else 0.0


def _metal_under(films: list[Film]) -> np.ndarray | bool:
    """Sites where a conducting film below is present (the new film lies on metal there)."""
    under: np.ndarray | bool = False
    for film in films:
        if film.material not in DIELECTRICS:
            under = under | film.present
    return under


def dip_time_s(time_s: float, physics: WetPhysics) -> float:
    """Immersion, then the rinse and the spin dry."""
    return time_s + physics.rinse_s + physics.dry_s
