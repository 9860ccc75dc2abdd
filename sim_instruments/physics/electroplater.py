"""What a plating cell does to a workpiece: Faraday's law over the exposed, connected seed.

Pure functions over the twin's arrays, with their constants in `PlatingPhysics`:

* metal deposits only on seed that is exposed (not under resist) and connected to the contact
  ring (an island the cathode does not reach carries no current): `plating_sites`, read from
  the workpiece's films and resist by `cathode_of` (without a seed, a solder bath reaches the
  projecting bump tips); `electroplate` lays the deposit on the twin;
* the area the charge spreads over is the exposed, connected seed: at each such site the area
  the resist's developed pattern opens there (the litho cell records it from the reticle's
  design and the developed width: a wiring's trace and pad, a hole), or, where no resist is
  left around a site, its share of the usable front (`exposed_seed_cm2`); the seed under the
  resist and an island carry none of it;
* the charge through the cathode deposits, at the bath's cathode efficiency, a thickness
  `Q x efficiency / (n F) x M / density / area` spread evenly over that area
  (`deposited_thickness_um`); the constants of each metal are the role's (`METALS`);
* the efficiency falls with the bath's age and with its distance from its working
  temperature (`cathode_efficiency`); the bath's temperature is its heater controller's
  (`PlatingPhysics.bath`, the plant of a simulated Eurotherm-map controller);
* the rinse station's XRF head reads the deposit at the site nearest each of its measurement
  points (`nearest_sites`): what is there, none on an island, thinner where the bath's
  efficiency fell;
* the deposit is good only inside the bath's current-density window, which a warmer bath and
  a faster paddle widen upward: below it the deposit is rough (dull, porous), above it burnt
  (dark, powdery) (`deposit_quality`; the window is the role's `current_window_a_dm2`, per
  metal, est, so a recipe is checked against the same window before any tool moves).

Values marked (est) are engineering estimates (`/work/shared/PROCESS_WINDOWS.md` is silent on
plating), kept as wide defaults.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np

from packline.drivers.roles.electroplater import (
    METALS,
    SOLDER_ALLOYS,
    Metal,
    current_window_a_dm2,
)
from packline.drivers.specs.core import MeasurementPoint

from ..families.temperature_controller import HeaterPlant
from ..twin import WaferSpec, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import DIELECTRICS, Face, Film, FilmMaterial, Geometry


class DepositQuality(StrEnum):
    """How a plated deposit came out, as an inspection would grade it."""

    GOOD = "good"
    ROUGH = "rough"  # current density below the window: dull, porous, poorly levelled
    BURNT = "burnt"  # above the window: dark, powdery, nodular


#: The bath as its heater's controller sees it: about 50 l with an immersion heater (est).
BATH = HeaterPlant(
    loop_time_constant_s=60.0,
    max_heat_rate_c_per_s=0.1,
    cooling_time_constant_s=3600.0,
)


@dataclass(frozen=True)
class PlatingPhysics:
    """The plating cell's constants (est unless noted)."""

    #: The bath's working temperature, where the efficiency is nominal.
    working_c: float = 25.0
    bath: HeaterPlant = BATH
    immerse_time_s: float = 5.0
    withdraw_time_s: float = 30.0  # lift, rinse, spin dry
    #: The cell as a load: a back-EMF and a resistance (electrolyte, contacts, leads).
    cell_back_emf_v: float = 0.4
    cell_resistance_ohm: float = 0.08
    #: The bath's life, and the efficiency it has lost by then (organic breakdown).
    bath_life_ah: float = 2000.0
    efficiency_loss_at_life: float = 0.10
    #: Efficiency lost per degC away from the working temperature.
    efficiency_loss_per_c: float = 0.002
    #: A density this share past an end of the bath's window is still at that end: the cell
    #: sets its current no finer (its area register's 0.001 cm2, the supply's 10 uA), so a
    #: recipe at the window's documented end plates there, not a rounding beyond it.
    window_edge_share: float = 0.001


def plating_sites(
    seed_um: np.ndarray, under_resist: np.ndarray, connected: np.ndarray
) -> np.ndarray:
    """The sites where metal deposits: seed present, not under resist, reached by the cathode."""
    sites: np.ndarray = (seed_um > 0) & ~under_resist & connected
    return sites


def cathode_efficiency(
    metal: Metal, temperature_c: float, bath_age_ah: float, physics: PlatingPhysics
) -> float:
    """The fraction of the charge that deposits metal in a bath of this age and temperature."""
    age = min(bath_age_ah / physics.bath_life_ah, 2.0)
    off_working = abs(temperature_c - physics.working_c) * physics.efficiency_loss_per_c
    efficiency = METALS[metal].nominal_efficiency * (1 - physics.efficiency_loss_at_life * age)
    return max(efficiency - off_working, 0.0)


def deposit_quality(
    metal: Metal,
    current_density_a_dm2: float,
    temperature_c: float,
    agitation_rpm: float,
    edge_share: float = 0.0,
) -> DepositQuality:
    """Good inside the bath's window (`current_window_a_dm2`, each end widened by
    `edge_share` of it), rough below it, burnt above."""
    low, high = current_window_a_dm2(metal, temperature_c, agitation_rpm)
    if current_density_a_dm2 < low * (1 - edge_share):
        return DepositQuality.ROUGH
    if current_density_a_dm2 > high * (1 + edge_share):
        return DepositQuality.BURNT
    return DepositQuality.GOOD


def plated_area_cm2(site_area_cm2: np.ndarray, sites: np.ndarray) -> float:
    """The real plated area: the area of every plating site together."""
    return float(site_area_cm2[sites].sum())


def deposited_thickness_um(
    metal: Metal, charge_c: float, efficiency: float, area_cm2: float
) -> float:
    """Faraday's law: what `charge_c` deposits at `efficiency`, spread over `area_cm2`."""
    if area_cm2 <= 0:
        return 0.0
    return charge_c * efficiency * METALS[metal].thickness_per_charge_um_cm2_per_c() / area_cm2


@dataclass(frozen=True)
class Deposit:
    """What one immersion deposited: per site, and the figures it followed from."""

    thickness_um: np.ndarray  # per site; 0 where nothing deposits
    area_cm2: float
    current_density_a_dm2: float
    efficiency: float
    quality: DepositQuality


def plate(
    metal: Metal,
    charge_c: float,
    on_s: float,
    site_area_cm2: np.ndarray,
    sites: np.ndarray,
    temperature_c: float,
    agitation_rpm: float,
    bath_age_ah: float,
    physics: PlatingPhysics,
) -> Deposit:
    """The deposit of `charge_c` passed in `on_s` seconds over the plating `sites`, each of
    its own area: the current density is the mean current over their total area."""
    area_cm2 = plated_area_cm2(site_area_cm2, sites)
    efficiency = cathode_efficiency(metal, temperature_c, bath_age_ah, physics)
    thickness_um = deposited_thickness_um(metal, charge_c, efficiency, area_cm2)
    density = charge_c / on_s / area_cm2 * 100.0 if on_s > 0 and area_cm2 > 0 else 0.0
    return Deposit(
        thickness_um=np.where(sites, np.float32(thickness_um), np.float32(0)),
        area_cm2=area_cm2,
        current_density_a_dm2=density,
        efficiency=efficiency,
        quality=deposit_quality(
            metal, density, temperature_c, agitation_rpm, physics.window_edge_share
        ),
    )


@dataclass(frozen=True)
class Cathode:
    """What the contact ring reaches on a workpiece: the sites metal deposits on, the film
    they are part of (None: the bump tips, for a solder layer), the sites of the pattern the
    bath faces, reached or not (an island among them), where a metrology head aimed at the
    wafer finds the plated feature, and each site's area.

    The areas are worked out from the workpiece when first asked for, so a cathode is used
    before the workpiece changes (the cell's contact interlock needs only the sites)."""

    sites: np.ndarray
    seed: Film | None
    pattern: np.ndarray
    areas: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @cached_property
    def site_area_cm2(self) -> np.ndarray:
        """Each site's area over which the charge spreads, cm2."""
        return self.areas()

    @property
    def area_cm2(self) -> float:
        """The real plated area (`plated_area_cm2`)."""
        return plated_area_cm2(self.site_area_cm2, self.sites)


def cathode_of(workpiece: Workpiece, metal: Metal) -> Cathode:
    """The cathode of `workpiece` in a bath of `metal`.

    The seed is the outermost conducting film on the front: metal deposits where it is present,
    connected and not under resist (`physics.electroplater.plating_sites`), each site over the
    seed it exposes (`exposed_seed_cm2`). Without a seed, a solder bath plates the exposed
    tips of the bumps (reached through their pads), each over its base's area. Otherwise the
    ring reaches nothing.
    """
    count = workpiece.geometry.site_count
    spec = workpiece.spec
    if not isinstance(spec, WaferSpec):
        raise ValueError(f"{workpiece.id}: the plating cell's contact ring holds wafers only")
    under_resist = ~workpiece.resist.open
    seeds = [
        film
        for film in workpiece.films.layers
        if film.face is Face.FRONT and film.material not in DIELECTRICS
    ]
    if seeds:
        seed = seeds[-1]
        seed_um = seed.thickness_um * seed.present
        sites = plating_sites(seed_um, under_resist, seed.connected)
        pattern = (seed_um > 0) & ~under_resist
        return Cathode(sites, seed, pattern, lambda: exposed_seed_cm2(workpiece, spec))
    bumps = workpiece.bumps
    if metal in SOLDER_ALLOYS and bumps.present.any():
        tips = bumps.present & workpiece.exposed_metal
        return Cathode(
            plating_sites(bumps.height_um, under_resist, tips),
            None,
            bumps.present & ~under_resist,
            lambda: math.pi * (bumps.base_diameter_um.astype(np.float64) / 2e4) ** 2,
        )
    none = np.zeros(count, bool)
    return Cathode(none, None, none, lambda: np.zeros(count))


def exposed_seed_cm2(workpiece: Workpiece, spec: WaferSpec) -> np.ndarray:
    """Per site, the front a seed there exposes to the bath: the area the resist's developed
    pattern opens at the site (`Resist.opened_um2`), or, where no resist is left around the
    site (none coated, or all of it developed away), an equal share of the usable front.
    Whether the seed is exposed at all is the resist's `open`; `spec` is the wafer's."""
    resist = workpiece.resist
    usable_cm2 = math.pi * ((spec.diameter_mm / 2 - spec.edge_exclusion_mm) / 10) ** 2
    share_cm2 = usable_cm2 / workpiece.geometry.site_count
    if resist.opened_um2 is None:
        return np.full(workpiece.geometry.site_count, share_cm2)
    exposed: np.ndarray = np.where(
        resist.thickness_um > 0, resist.opened_um2.astype(np.float64) * 1e-8, share_cm2
    )
    return exposed


def nearest_sites(
    geometry: Geometry, points: Sequence[MeasurementPoint], pattern: np.ndarray
) -> np.ndarray:
    """The site of `pattern` (any site, where it has none) nearest each of `points` on a
    wafer of `geometry`: where a metrology head aimed at the point lands on the plated
    feature (a pad's wiring, a bump).

    Point by point: the distances from all the points at once are arrays of points x sites
    (9 x 8,352 on a levels-5 wafer), fresh memory from the system at every call (some 400
    page faults, which cost more than the arithmetic); one point's are small enough for the
    allocator to use its memory again."""
    candidates = np.flatnonzero(pattern) if pattern.any() else np.arange(geometry.site_count)
    radius_mm = geometry.radius_mm
    x_mm, y_mm = geometry.site_x_mm[candidates], geometry.site_y_mm[candidates]
    nearest: np.ndarray = candidates[
        [
            np.argmin(np.hypot(x_mm - point_x_mm, y_mm - point_y_mm))
            for point_x_mm, point_y_mm in (point.position_mm(radius_mm) for point in points)
        ]
    ]
    return nearest


def electroplate(
    workpiece: Workpiece,
    metal: Metal,
    charge_c: float,
    on_s: float,
    temperature_c: float,
    agitation_rpm: float,
    bath_age_ah: float,
    physics: PlatingPhysics,
) -> Deposit:
    """Deposit `charge_c` passed in `on_s` seconds on the cathode of `workpiece`: a new film
    of `metal` on the seed's plating sites (with the deposit's quality), or, without a seed,
    the eutectic layer on the bump tips."""
    cathode = cathode_of(workpiece, metal)
    deposit = plate(
        metal,
        charge_c,
        on_s,
        cathode.site_area_cm2,
        cathode.sites,
        temperature_c,
        agitation_rpm,
        bath_age_ah,
        physics,
    )
    if cathode.seed is not None:
        workpiece.films.layers.append(
            Film(
                FilmMaterial(metal.value),
                deposit.thickness_um,
                cathode.sites.copy(),
                cathode.seed.connected & cathode.sites,
                level=cathode.seed.level,
                face=cathode.seed.face,
                quality=deposit.quality.value,
            )
        )
    elif cathode.sites.any():
        thaw(workpiece.bumps.layer_um, workpiece.bumps.height_um)
        workpiece.bumps.layer_um += deposit.thickness_um
        workpiece.bumps.height_um += deposit.thickness_um  # the layer tops the bump
        workpiece.bumps.layer_alloy = SOLDER_ALLOYS[metal]
    return deposit
