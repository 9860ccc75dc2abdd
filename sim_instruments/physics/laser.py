"""The laser's ablation and cleaning physics: pure vectorised functions over the twin's sites.

Constants are in `LaserPhysics` (defaults from the process windows, (est) ones wide). The
simulated laser's scan job (`sim_instruments/laser_job.py`) calls these as it reaches each site.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.laser import DEPTH_CV, DEPTH_SPREAD_SIGMAS, Atmosphere

from ..twin import Face, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import OpeningLayer, OpeningProcess

#: The metals that grow no oxide in air or in an O2 plasma.
NOBLE_METALS = frozenset({"Au", "Pt", "Pd"})


def oxidises(metal: str) -> bool:
    """Whether `metal` (a twin's, `Workpiece.top_metal`) grows oxide when heated in air or in
    an O2 plasma: every metal but a noble one."""
    return metal not in NOBLE_METALS


@dataclass(frozen=True)
class LaserPhysics:
    """Ablation and cleaning model; defaults from the process windows ((est) ones wide)."""

    #: polymer ablation threshold, and depth per pulse = penetration * ln(F / threshold):
    #: about 0.1 µm at 1 J/cm², 0.55 µm at 3 J/cm², 1 µm at 10 J/cm²
    polymer_threshold_j_cm2: float = 0.76
    resin_penetration_um: float = 0.4
    #: a via that does not reach its target within this many pulses is left as it is
    max_pulses_per_site: int = 20_000
    #: galvo jump and settle between sites (est)
    site_step_s: float = 0.5e-3
    #: organic residue removed per pulse = rate * (F - threshold) (est)
    residue_threshold_j_cm2: float = 0.05
    residue_nm_per_pulse_per_j_cm2: float = 2.0
    #: metal ablation thresholds (0.1-0.35 J/cm²); above, bump height is lost at
    #: penetration * ln(F / threshold) per pulse (est)
    metal_threshold_j_cm2: Mapping[str, float] = field(
        default_factory=lambda: {"Au": 0.35, "Cu": 0.30, "Al": 0.30}
    )
    default_metal_threshold_j_cm2: float = 0.30
    metal_penetration_um: float = 0.02
    #: laser heating in air grows oxide on non-noble metal towards saturation (est)
    air_oxide_saturation_nm: float = 6.0
    air_oxide_dose_j_cm2: float = 20.0  # pulses * fluence for 63 % of the way
    #: forming gas reduces oxide per pulse * fluence (est)
    reducing_oxide_nm_per_j_cm2: float = 0.5
    #: fraction of the removed residue that falls back, by (gas jet, suction) (est);
    #: under reduced pressure the chamber pump acts as suction
    redeposit_fraction: Mapping[tuple[bool, bool], float] = field(
        default_factory=lambda: {
            (False, False): 0.3,
            (True, False): 0.3,
            (False, True): 0.05,
            (True, True): 0.0,
        }
    )
    #: time to vent to air, pump down, or purge with a gas (est)
    atmosphere_settle_s: Mapping[Atmosphere, float] = field(
        default_factory=lambda: {
            Atmosphere.AIR: 10.0,
            Atmosphere.REDUCED_PRESSURE: 60.0,
            Atmosphere.NITROGEN: 30.0,
            Atmosphere.ARGON: 30.0,
            Atmosphere.FORMING_GAS: 30.0,
        }
    )
    power_tolerance: float = 0.05
    #: output of a drifting source, as a fraction of its setpoint (fault `power_drift`)
    drifted_power_fraction: float = 0.8

    def metal_threshold(self, metal: str) -> float:
        return self.metal_threshold_j_cm2.get(metal, self.default_metal_threshold_j_cm2)

    def residue_removal_nm(self, fluence_j_cm2: float, pulses: int) -> float:
        """The organic residue `pulses` of `fluence_j_cm2` lift off a site, above its
        threshold."""
        above = max(fluence_j_cm2 - self.residue_threshold_j_cm2, 0.0)
        return pulses * self.residue_nm_per_pulse_per_j_cm2 * above

    def fallback_fraction(self, atmosphere: Atmosphere, gas_jet: bool, suction: bool) -> float:
        """The fraction of the lifted residue that falls back: some of it unless a gas jet
        peels it and suction (or the pump of a chamber at reduced pressure) carries it off."""
        sucked = suction or atmosphere is Atmosphere.REDUCED_PRESSURE
        return self.redeposit_fraction[(gas_jet, sucked)]


# --------------------------------------------------------------------- physics (pure, vectorised)


def resin_ablation_um_per_pulse(fluence_j_cm2: float, physics: LaserPhysics) -> float:
    """Resin removed by one pulse: penetration * ln(F / threshold), nothing below threshold."""
    if fluence_j_cm2 <= physics.polymer_threshold_j_cm2:
        return 0.0
    return physics.resin_penetration_um * math.log(fluence_j_cm2 / physics.polymer_threshold_j_cm2)


def trepan_factor(diameter_um: float, spot_diameter_um: float) -> float:
    """How many spot areas a via of `diameter_um` covers (1 when the spot fills it)."""
    return max(1.0, (diameter_um / spot_diameter_um) ** 2)


def drill_layer(workpiece: Workpiece, face: Face) -> tuple[np.ndarray, OpeningLayer] | None:
    """What the beam drills into from `face` (the face up on the chuck): the outermost resin
    layer on that face, how deep under its top the metal lies at each site
    (`Workpiece.depth_to_metal_um`: over an interconnect, the resin over its top) and its
    openings; on a tape panel's bare top, the tape itself at its through-hole sites (000:a:
    the holes end on the metal interconnection layer on its bottom; elsewhere the beam does
    not drill). None: nothing to drill (no resin there, and no tape under the beam)."""
    top = workpiece.top_resin(face)
    to_metal = workpiece.depth_to_metal_um(face)
    if top is not None and to_metal is not None:
        return to_metal, top[1]
    geometry = workpiece.geometry
    if face is Face.FRONT and geometry.hole.any():
        tape = np.where(geometry.hole, np.float32(geometry.thickness_um), np.float32(0))
        return tape, workpiece.openings.substrate
    return None


def scattered_depths_um(depth_um: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """Where each of `count` vias drilled to `depth_um` stops: off it by `DEPTH_CV` of it (1
    sigma, the line's figure), at most `DEPTH_SPREAD_SIGMAS` of that, as validate judges a
    recipe's depth at both ends of it."""
    spread = np.clip(rng.standard_normal(count), -DEPTH_SPREAD_SIGMAS, DEPTH_SPREAD_SIGMAS)
    depths: np.ndarray = (depth_um * (1 + DEPTH_CV * spread)).astype(np.float32)
    return depths


def via_targets(
    workpiece: Workpiece,
    sites: np.ndarray,
    depth_um: float | np.ndarray | None,
    face: Face = Face.FRONT,
) -> np.ndarray:
    """Where each via stops in what the beam drills from `face` (`drill_layer`): on the
    metal below it (as deep as the metal lies) or at a depth short of it (one for all of
    `sites`, or one for each); 0 where nothing is there to drill.

    Neither source drills into the metal: copper reflects the CO2 wavelengths, and the UV
    tool's breakthrough detection stops pulsing at the metal.
    """
    layer = drill_layer(workpiece, face)
    if layer is None:
        return np.zeros(sites.size, np.float32)
    thickness: np.ndarray = layer[0][sites]
    return thickness if depth_um is None else np.minimum(np.float32(depth_um), thickness)


def _drilled_um(workpiece: Workpiece, sites: np.ndarray, face: Face) -> np.ndarray:
    """How deep the via at each site already is in what the beam drills from `face`."""
    layer = drill_layer(workpiece, face)
    return np.zeros(sites.size, np.float32) if layer is None else layer[1].depth_um[sites]


def via_pulses(
    workpiece: Workpiece,
    sites: np.ndarray,
    depth_um: float | np.ndarray | None,
    diameter_um: float,
    spot_diameter_um: float,
    fluence_j_cm2: float,
    physics: LaserPhysics,
    face: Face = Face.FRONT,
) -> np.ndarray:
    """Pulses each via needs to reach its target (capped at `max_pulses_per_site`)."""
    remaining = np.maximum(
        via_targets(workpiece, sites, depth_um, face) - _drilled_um(workpiece, sites, face), 0
    ).astype(np.float64)
    rate = resin_ablation_um_per_pulse(fluence_j_cm2, physics)
    cap = physics.max_pulses_per_site
    if rate == 0.0:
        return np.where(remaining > 0, cap, 0).astype(np.int64)
    pulses = np.ceil(remaining / rate * trepan_factor(diameter_um, spot_diameter_um))
    capped: np.ndarray = np.minimum(pulses, cap).astype(np.int64)
    return capped


def ablate_vias(
    workpiece: Workpiece,
    sites: np.ndarray,
    pulses: np.ndarray,
    depth_um: float | np.ndarray | None,
    diameter_um: float,
    spot_diameter_um: float,
    fluence_j_cm2: float,
    physics: LaserPhysics,
    face: Face = Face.FRONT,
) -> int:
    """Deliver `pulses` to each via at `sites` in what the beam drills from `face`; returns
    how many of them reach the metal (every site where there is nothing to drill)."""
    layer = drill_layer(workpiece, face)
    if layer is None:
        return int(sites.size)
    thickness, openings = layer
    current = openings.depth_um[sites]
    gain = (
        pulses
        * resin_ablation_um_per_pulse(fluence_j_cm2, physics)
        / trepan_factor(diameter_um, spot_diameter_um)
    )
    target = np.maximum(via_targets(workpiece, sites, depth_um, face), current)
    depth = np.minimum(current + gain.astype(np.float32), target)
    thaw(openings.depth_um, openings.diameter_um, openings.open)
    openings.depth_um[sites] = depth
    openings.diameter_um[sites] = np.maximum(openings.diameter_um[sites], np.float32(diameter_um))
    open_ = depth >= thickness[sites]
    openings.open[sites] = open_
    openings.record(OpeningProcess.LASER, thickness, (sites, float(diameter_um)))
    return int(open_.sum())


def cleaned_residue_nm(residue_nm: np.ndarray, removal_nm: float, fallback: float) -> np.ndarray:
    """The organic residue a clean leaves of `residue_nm` on metal it reaches: its pulses lift
    up to `removal_nm` (`LaserPhysics.residue_removal_nm`), of which the `fallback` fraction
    falls back (`LaserPhysics.fallback_fraction`)."""
    removed = np.minimum(residue_nm, np.float32(removal_nm))
    left: np.ndarray = residue_nm - removed + removed * np.float32(fallback)
    return left


def cleaned_oxide_nm(
    oxide_nm: np.ndarray,
    dose_j_cm2: float,
    atmosphere: Atmosphere,
    oxidises: bool,
    physics: LaserPhysics,
) -> np.ndarray:
    """The oxide a clean leaves of `oxide_nm` on metal it reaches, its pulses delivering
    `dose_j_cm2` (pulses times fluence): the beam's heat grows it in air on a metal that
    `oxidises` (towards saturation with the dose), forming gas reduces it with the dose,
    reduced pressure and inert gas leave it as it was."""
    dose = dose_j_cm2
    if atmosphere is Atmosphere.AIR and oxidises:
        growth = 1.0 - math.exp(-dose / physics.air_oxide_dose_j_cm2)
        grown: np.ndarray = oxide_nm + (physics.air_oxide_saturation_nm - oxide_nm) * growth
        return grown
    if atmosphere is Atmosphere.FORMING_GAS:
        reduced = physics.reducing_oxide_nm_per_j_cm2 * dose
        return np.maximum(oxide_nm - np.float32(reduced), 0)
    return oxide_nm


def laser_clean(
    workpiece: Workpiece,
    sites: np.ndarray,
    fluence_j_cm2: float,
    pulses: int,
    atmosphere: Atmosphere,
    gas_jet: bool,
    suction: bool,
    physics: LaserPhysics,
    face: Face = Face.FRONT,
) -> tuple[int, int]:
    """Clean the metal exposed to the beam from `face` at `sites`; returns (sites at metal,
    sites whose metal was damaged).

    Residue is ablated above its threshold; part of it falls back unless a jet peels it and
    suction carries it off. Heating grows oxide in air on non-noble metal; forming gas
    reduces it; reduced pressure and inert gas leave it. Above the metal's ablation threshold
    the metal itself is ablated: bumps lose height.
    """
    hit = sites[workpiece.exposed_metal_on(face)[sites]]
    if hit.size == 0:
        return 0, 0
    surface = workpiece.surface
    metal = workpiece.top_metal
    thaw(surface.residue_nm, surface.oxide_nm)
    surface.residue_nm[hit] = cleaned_residue_nm(
        surface.residue_nm[hit],
        physics.residue_removal_nm(fluence_j_cm2, pulses),
        physics.fallback_fraction(atmosphere, gas_jet, suction),
    )
    surface.oxide_nm[hit] = cleaned_oxide_nm(
        surface.oxide_nm[hit],
        pulses * fluence_j_cm2,
        atmosphere,
        oxidises(metal),
        physics,
    )
    threshold = physics.metal_threshold(metal)
    if fluence_j_cm2 <= threshold:
        return int(hit.size), 0
    if face is Face.BACK:  # the back's metal is a film: ablated in place, no bump to shorten
        return int(hit.size), int(hit.size)
    loss_um = pulses * physics.metal_penetration_um * math.log(fluence_j_cm2 / threshold)
    height = workpiece.bumps.height_um
    thaw(height)
    bumps = hit[height[hit] > 0]
    height[bumps] = np.maximum(height[bumps] - np.float32(loss_um), 0)
    return int(hit.size), int(hit.size)
