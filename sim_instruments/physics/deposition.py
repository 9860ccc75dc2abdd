"""The deposition tool's physics: its constants, the chamber's vacuum, the deposition rate and
what a film does on the twin's sites.

`DepositionPhysics` holds the rates and constants of the chamber model (pumping, the high
vacuum, venting, sputter, evaporation and CVD rates, step coverage, uniformity, the uptake of
residual gas and the contact a film makes), every one an engineering estimate (est) kept as a
wide default and configurable per tool. The functions are pure and vectorised over the sites:

* `rate_nm_s`: how fast a step grows its film (sputter from DC power and pressure, evaporation
  at the rate the crystal monitor holds, CVD from RF power);
* `oxygen_fraction`: the residual gas a growing film takes up (Langmuir: at 1e-6 Torr about
  one monolayer of gas arrives per second), against the film's own arrival rate: a reactive
  metal laid at too high a base pressure is oxidised;
* `film_on_sites`: a blanket film over the workpiece: its thickness per site (thinner towards
  the wafer's edge), its thickness on the sidewalls of the bump tips standing above the resin
  and of open vias (the step coverage of the method), whether it joins the metal it touches
  (a continuous sidewall film) and the contact resistance it makes there (oxide and residue
  left on that metal raise it).

The simulated deposition tool (`sim_instruments/deposition.py`) runs the vacuum and the rate;
`deposit_film` lays each finished step's film on every loaded wafer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.deposition import ULTIMATE_PRESSURE_UTORR, Material, Method

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import DIELECTRICS, Face, Film, FilmMaterial

ATMOSPHERE_TORR = 760.0


@dataclass(frozen=True)
class DepositionPhysics:
    """Rates and constants of the deposition chamber model, engineering estimates (est)."""

    #: roughing: atmosphere towards this floor with this time constant, evacuated at crossover
    rough_floor_torr: float = 1e-3
    rough_time_constant_s: float = 8.0
    crossover_torr: float = 0.050
    #: a failed roughing pump stalls here (above the crossover: BASE_PRESSURE_NOT_REACHED)
    stalled_rough_floor_torr: float = 0.2
    pump_down_limit_s: float = 300.0
    #: high vacuum (turbo): from the crossover towards its floor with this time constant
    high_vacuum_floor_torr: float = ULTIMATE_PRESSURE_UTORR * 1e-6
    high_vacuum_time_constant_s: float = 40.0
    #: a leaking chamber's high vacuum floor
    leak_floor_torr: float = 2e-5
    vent_time_s: float = 60.0
    #: DC magnetron sputter rate, nm/s per kW at zero pressure (est)
    sputter_nm_s_per_kw: dict[Material, float] = field(
        default_factory=lambda: {
            Material.TI: 0.5,
            Material.TIW: 0.6,
            Material.CU: 1.5,
            Material.NI: 0.8,
            Material.AU: 1.8,
        }
    )
    #: gas scattering: the sputter rate falls as 1 / (1 + pressure / this) (est)
    sputter_scatter_mtorr: float = 30.0
    #: PECVD rate, nm/s per 100 W of RF (est)
    cvd_nm_s_per_100w: dict[Material, float] = field(
        default_factory=lambda: {Material.SIO2: 1.2, Material.SIN: 0.4}
    )
    #: sidewall over top thickness of a film on a step (est)
    step_coverage: dict[Method, float] = field(
        default_factory=lambda: {Method.SPUTTER: 0.3, Method.EVAPORATE: 0.05, Method.CVD: 0.6}
    )
    #: the thinnest sidewall film that is continuous (joins the tip to the field film) (est)
    continuous_nm: float = 10.0
    #: thickness falls towards the wafer's edge by this fraction, as (r / R)^2 (est)
    edge_thinning: dict[Method, float] = field(
        default_factory=lambda: {Method.SPUTTER: 0.05, Method.EVAPORATE: 0.03, Method.CVD: 0.04}
    )
    #: sticking coefficient of the residual gas (water, O2) on the growing film (est)
    gas_sticking: dict[Material, float] = field(
        default_factory=lambda: {
            Material.TI: 0.03,
            Material.TIW: 0.02,
            Material.NI: 0.01,
            Material.CU: 0.005,
            Material.AU: 0.0,
            Material.SIO2: 0.0,
            Material.SIN: 0.0,
        }
    )
    monolayer_nm: float = 0.25
    #: the residual gas pressure at which about one monolayer arrives per second (Langmuir)
    langmuir_torr: float = 1e-6
    #: above this oxygen fraction a film is oxidised (est)
    oxidised_fraction: float = 0.2
    #: contact resistance of a film on bare metal, and what each nm of oxide or residue left
    #: on that metal adds (est)
    contact_mohm: float = 2.0
    contact_mohm_per_oxide_nm: float = 10.0
    contact_mohm_per_residue_nm: float = 20.0
    #: what an oxidised film adds to its contact resistance (est)
    oxidised_contact_mohm: float = 50.0
    #: crystal monitor life used per nm it sees deposited (est: about 50 um of film)
    crystal_pct_per_nm: float = 0.002

    def rate_nm_s(
        self,
        method: Method,
        material: Material,
        power_w: float,
        rate_set_nm_s: float,
        pressure_mtorr: float,
    ) -> float:
        """The deposition rate of a step (what the crystal monitor reads)."""
        if method is Method.EVAPORATE:
            return rate_set_nm_s  # the crystal monitor's loop holds the e-beam at the rate
        if method is Method.SPUTTER:
            per_kw = self.sputter_nm_s_per_kw[material]
            return per_kw * power_w / 1000 / (1 + pressure_mtorr / self.sputter_scatter_mtorr)
        return self.cvd_nm_s_per_100w[material] * power_w / 100

    def edge_thinned_nm(
        self, method: Method, centre_nm: float, radius_fraction: np.ndarray | float
    ) -> np.ndarray:
        """A film of `centre_nm` at the wafer's centre (what the crystal monitor ends the step
        at) as laid `radius_fraction` of the radius out: thinner towards the edge by
        `edge_thinning` of the method, as (r / R)^2. A recipe's check judges a film at its
        thinnest by this too (two-process-via's passivation, 002:15)."""
        return np.asarray(centre_nm * (1 - self.edge_thinning[method] * radius_fraction**2))

    def oxygen_fraction(self, material: Material, base_torr: float, rate_nm_s: float) -> float:
        """The fraction of a growing film that is residual gas taken up, at base pressure
        `base_torr`: (sticking x gas monolayers per s) over (that + film monolayers per s)."""
        gas = self.gas_sticking[material] * base_torr / self.langmuir_torr
        film = rate_nm_s / self.monolayer_nm
        return gas / (gas + film) if gas > 0 else 0.0

    def high_vacuum_torr(self, from_torr: float, elapsed_s: float, leaking: bool) -> float:
        """The pressure `elapsed_s` after the turbo took over at `from_torr`."""
        floor = self.leak_floor_torr if leaking else self.high_vacuum_floor_torr
        decay = math.exp(-elapsed_s / self.high_vacuum_time_constant_s)
        return floor + (max(from_torr, floor) - floor) * decay

    def roughing_torr(self, elapsed_s: float, stalled: bool) -> float:
        """The pressure `elapsed_s` into a pump-down from atmosphere."""
        floor = self.stalled_rough_floor_torr if stalled else self.rough_floor_torr
        decay = math.exp(-elapsed_s / self.rough_time_constant_s)
        return floor + (ATMOSPHERE_TORR - floor) * decay


@dataclass(frozen=True)
class SiteFilm:
    """A film laid on the sites: per-site thickness on top and on the sidewalls of the steps,
    whether it joins the metal it touches, and the contact resistance there."""

    thickness_nm: np.ndarray
    sidewall_nm: np.ndarray
    joined: np.ndarray
    contact_mohm: np.ndarray


def film_on_sites(
    physics: DepositionPhysics,
    method: Method,
    thickness_nm: float,
    radius_fraction: np.ndarray,
    touches_metal: np.ndarray,
    step_um: np.ndarray,
    oxide_nm: np.ndarray,
    residue_nm: np.ndarray,
) -> SiteFilm:
    """A blanket film of nominal (centre) `thickness_nm` over every site.

    `radius_fraction` is each site's distance from the wafer's centre over its radius;
    `touches_metal` the sites whose metal the film lands on (a bare pad, a bump tip above the
    resin, the bottom of an open via), `step_um` the height of the step the film must climb
    there (the tip's projection or the via's depth; 0 on a bare pad); `oxide_nm` and
    `residue_nm` what is left on that metal.
    """
    thickness = physics.edge_thinned_nm(method, thickness_nm, radius_fraction)
    sidewall = np.where(step_um > 0, thickness * physics.step_coverage[method], thickness)
    joined = touches_metal & (sidewall >= physics.continuous_nm)
    contact = (
        physics.contact_mohm
        + physics.contact_mohm_per_oxide_nm * oxide_nm
        + physics.contact_mohm_per_residue_nm * residue_nm
    )
    return SiteFilm(
        thickness.astype(np.float32),
        sidewall.astype(np.float32),
        joined,
        np.where(touches_metal, contact, np.inf).astype(np.float32),
    )


def kept_um(thickness_nm: np.ndarray | float) -> np.ndarray:
    """A film of `thickness_nm` as the twin keeps it (`Film.thickness_um`): um in float32,
    from the nm `film_on_sites` lays in float32. A recipe's check that judges a film before
    the run reads it so (two-process-via's passivation, 002:15), as the claim check does."""
    return np.asarray(thickness_nm, np.float32) / np.float32(1000)


def deposit_film(
    workpiece: Workpiece,
    method: Method,
    material: Material,
    thickness_nm: float,
    oxygen_fraction: float,
    physics: DepositionPhysics,
) -> Film:
    """Lay a blanket film of nominal `thickness_nm` on the front of `workpiece`; returns it.

    Where resist remains the film lands on the resist and goes with it (a lift-off): it is not
    present there. Elsewhere it lands on whatever is on top at each site: the film laid last on
    the current wiring level where there is one (a metal film under it joins the new film to
    what it joins; a dielectric insulates it, unless opened through over the pad there),
    else the site's exposed metal (a bare pad, a bump tip above the resin, an open via's
    bottom), which it joins if its sidewall film is continuous, with a contact resistance
    raised by the oxide and residue left there; elsewhere it lies on the resin. The fresh metal
    is the sites' new surface: no residue, no oxide. A film that took up more than
    `physics.oxidised_fraction` of residual gas is oxidised: its contact resistance rises by
    `physics.oxidised_contact_mohm`. A metal film lies as thick in the field between the
    patterns of the wiring to come (`Film.track_field`): a seed the etch there must clear.
    """
    geometry = workpiece.geometry
    radius = np.hypot(geometry.site_x_mm, geometry.site_y_mm) / geometry.radius_mm
    present = workpiece.resist.open
    exposed = workpiece.exposed_metal & present
    top = workpiece.top_resin()
    via_depth = top[1].depth_um if top is not None else np.zeros(geometry.site_count)
    step = np.where(workpiece.bumps.present, np.maximum(workpiece.tip_projection_um, 0), 0)
    step = np.maximum(step, np.where(exposed, via_depth, 0))
    surface = workpiece.surface
    laid = film_on_sites(
        physics,
        method,
        thickness_nm,
        radius,
        exposed,
        step,
        surface.oxide_nm,
        surface.residue_nm,
    )
    connected, contact = laid.joined, laid.contact_mohm
    level = workpiece.wiring_level
    # the film laid last on this level (one under a resin laid since is out of reach)
    same_level = [f for f in workpiece.films.layers if f.level == level and f.face is Face.FRONT]
    below = same_level[-1] if same_level else None
    if below is not None:
        on_below = below.covers & present
        metal_below = below.material not in DIELECTRICS
        connected = np.where(on_below, metal_below & below.connected, connected)
        if below.contact_mohm.size:  # a film without its own contact shows none through it
            contact = np.where(on_below, below.contact_mohm, contact)
    oxidised = oxygen_fraction > physics.oxidised_fraction
    film = Film(
        FilmMaterial(material.value),
        kept_um(laid.thickness_nm),
        present,
        connected & present & (not material.dielectric),  # a dielectric joins nothing
        level=level,
        contact_mohm=contact + (physics.oxidised_contact_mohm if oxidised else 0.0),
        oxygen_fraction=oxygen_fraction,
    )
    workpiece.films.layers.append(film)
    if not material.dielectric:
        film.track_field()  # a seed: what the etch after its wiring's plating must clear
        thaw(surface.residue_nm, surface.oxide_nm)
        surface.residue_nm[present] = 0
        surface.oxide_nm[present] = 0
    return film
