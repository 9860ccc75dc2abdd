"""What the litho cell does to a wafer: spin coating, soft bake, exposure and development.

Pure functions over per-site arrays, with their constants in `LithoPhysics` and
`MATERIAL_PHYSICS` (engineering estimates, est, unless a source is named):

* **Spin coating.** The film sets within the first seconds of the spin; its thickness follows
  the speed law t = k · η^a / √(ω / 1000 rpm) (Meyerhofer's ω^-1/2, with the viscosity η of
  the dispense line in cP). The longer the spin, the less solvent is left in it.
* **Soft bake.** The solvent leaves with a time constant that halves every 10 °C; the film
  shrinks by the solvent's volume. Solvent left in the film makes the developer eat the
  film it should leave (dark erosion).
* **Exposure.** Every die is one shot of the stepper; each site a reticle opens gets the dose
  if its die was exposed. The clearing dose E0 is the dose that clears the whole thickness in
  the material's nominal develop time (it grows with the thickness).
* **Development**, with the effective dose D · t / t_nom:
  positive tone: an opening's depth is T · D_eff / E0 (plus dark erosion), capped at T, so a
  dose below the clearing dose leaves film at the bottom of the opening (a concave portion);
  negative tone: the field keeps the fraction D_eff / E0 of its thickness (cross-linked), the
  unexposed openings dissolve at the bulk rate. The top width follows the dose about the
  dose-to-size E_s = 1.25 E0: CD = size ± b · T · ln(D_eff / E_s) (thicker films spread more),
  growing with the dose for positive tone, shrinking for negative; where the wall left between
  neighbours is too thin for its height (aspect above 4) the wall falls and the openings
  bridge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.lithography import (
    MATERIALS,
    CoatMaterial,
    Feature,
    FilmLayer,
    Reticle,
    Tone,
)


@dataclass(frozen=True)
class MaterialPhysics:
    """How one material behaves in the cell (est)."""

    clearing_dose_mj_cm2_per_um: float  # E0 per µm of film at the nominal develop time
    nominal_develop_s: float
    spun_solvent_fraction: float  # solvent in the film at the end of a short spin


MATERIAL_PHYSICS: dict[CoatMaterial, MaterialPhysics] = {
    CoatMaterial.PR_THIN: MaterialPhysics(40.0, 60.0, 0.25),
    CoatMaterial.PR_THICK: MaterialPhysics(30.0, 120.0, 0.20),
    CoatMaterial.NR_THICK: MaterialPhysics(12.0, 180.0, 0.15),
    CoatMaterial.PBO_P: MaterialPhysics(25.0, 90.0, 0.20),
    CoatMaterial.PI_N: MaterialPhysics(15.0, 120.0, 0.20),
}


@dataclass(frozen=True)
class LithoPhysics:
    """The cell's constants (est)."""

    spin_k_um: float = 0.65  # the film of a 1 cP material at 1000 rpm
    viscosity_exponent: float = 0.5
    spin_drying_s: float = 60.0  # the spun film's solvent falls by e every this long
    spin_ramp_rpm_s: float = 5000.0
    dispense_s: float = 3.0
    edge_bead_s: float = 12.0  # edge-bead removal and backside rinse after the spin
    bake_tau_s_at_100c: float = 30.0
    bake_tau_halving_c: float = 10.0
    bake_ramp_c_s: float = 5.0
    ambient_c: float = 23.0
    dark_erosion_um_s: float = 0.001  # a fully baked film in its developer
    dark_erosion_um_s_per_solvent: float = 0.2  # more per unit solvent fraction left
    lamp_intensity_mw_cm2: float = 1000.0
    align_s: float = 20.0
    step_s: float = 0.25
    develop_rinse_s: float = 30.0  # rinse and spin dry after the puddle
    cd_bias_per_um: float = 0.5  # CD change per e-fold of dose, per um of film
    dose_to_size_ratio: float = 1.25
    max_wall_aspect: float = 4.0  # a resist wall taller than this times its width falls over
    min_wall_um: float = 1.0


#: The stepper's reticle library: each opens every pad site of every die.
RETICLES: dict[str, Reticle] = {
    reticle.name: reticle
    for reticle in (
        Reticle("pads", Feature.HOLE, 80.0, 1000.0),
        Reticle("openings", Feature.HOLE, 40.0, 60.0),
        Reticle("wiring-level-1", Feature.LINE, 15.0, 10.0),
        Reticle("wiring-level-2", Feature.LINE, 20.0, 20.0),
    )
}


# --------------------------------------------------------------------- coat and bake


def spin_thickness_um(material: CoatMaterial, spin_rpm: float, physics: LithoPhysics) -> float:
    """The as-spun thickness: k · η^a / √(ω / 1000 rpm)."""
    viscosity = MATERIALS[material].viscosity_cp
    thickness_um: float = (
        physics.spin_k_um * viscosity**physics.viscosity_exponent / math.sqrt(spin_rpm / 1000.0)
    )
    return thickness_um


def spun_solvent(material: CoatMaterial, spin_time_s: float, physics: LithoPhysics) -> float:
    """The solvent fraction left in the film when the spin ends."""
    start = MATERIAL_PHYSICS[material].spun_solvent_fraction
    return start * math.exp(-spin_time_s / physics.spin_drying_s)


def coat_time_s(spin_rpm: float, spin_time_s: float, physics: LithoPhysics) -> float:
    """Dispense, ramp to speed, the spin, edge-bead removal."""
    return (
        physics.dispense_s
        + spin_rpm / physics.spin_ramp_rpm_s
        + spin_time_s
        + (physics.edge_bead_s)
    )


def baked(
    thickness_um: np.ndarray,
    solvent: float,
    temperature_c: float,
    time_s: float,
    physics: LithoPhysics,
) -> tuple[np.ndarray, float]:
    """The film after a bake: (thickness per site, solvent fraction left)."""
    tau_s = physics.bake_tau_s_at_100c * 2.0 ** (
        (100.0 - temperature_c) / physics.bake_tau_halving_c
    )
    left = solvent * math.exp(-time_s / tau_s)
    shrink = (1.0 - solvent) / (1.0 - left)
    return (thickness_um * shrink).astype(np.float32), left


def bake_time_s(from_c: float, to_c: float, time_s: float, physics: LithoPhysics) -> float:
    """The hotplate's ramp to temperature, then the bake."""
    return abs(to_c - from_c) / physics.bake_ramp_c_s + time_s


# --------------------------------------------------------------------- exposure


def clearing_dose_mj_cm2(material: CoatMaterial, thickness_um: float) -> float:
    """E0: the dose that clears `thickness_um` of the film in its nominal develop time."""
    return MATERIAL_PHYSICS[material].clearing_dose_mj_cm2_per_um * thickness_um


def shot_time_s(dose_mj_cm2: float, physics: LithoPhysics) -> float:
    """One die: the shutter open for the dose at the lamp's intensity, then a step."""
    return dose_mj_cm2 / physics.lamp_intensity_mw_cm2 + physics.step_s


def exposed_sites(site_die: np.ndarray, shots_done: int) -> np.ndarray:
    """Which sites lie in a die the stepper has exposed (the dies are shot in their order)."""
    return site_die < shots_done


# --------------------------------------------------------------------- development


@dataclass(frozen=True)
class Developed:
    """What a develop leaves at each site: the film around the site's opening, the film left
    at the opening's bottom, the opening's top width, and whether it merged with its
    neighbour."""

    field_um: np.ndarray
    residual_um: np.ndarray
    cd_um: np.ndarray  # 0: no opening at the site
    bridged: np.ndarray

    @property
    def depth_um(self) -> np.ndarray:
        """How deep each opening goes below the film around it."""
        depth_um: np.ndarray = np.maximum(self.field_um - self.residual_um, 0.0)
        return depth_um

    @property
    def cleared(self) -> np.ndarray:
        """Openings down to the layer below (no film left at the bottom)."""
        return (self.cd_um > 0) & (self.residual_um <= 1e-3)


def develop(
    material: CoatMaterial,
    thickness_um: np.ndarray,
    solvent: float,
    dose_mj_cm2: np.ndarray,
    reticle: Reticle,
    time_s: float,
    physics: LithoPhysics,
) -> Developed:
    """Develop a film of `thickness_um` whose sites got `dose_mj_cm2` through `reticle`.

    The reticle is made for the material's tone: clear over its openings for a positive film,
    dark over them (and clear over the field) for a negative one; `dose_mj_cm2` is the dose
    of each site's die (0 where the die was not exposed).
    """
    facts = MATERIAL_PHYSICS[material]
    thickness = thickness_um.astype(np.float64)
    e0 = facts.clearing_dose_mj_cm2_per_um * np.maximum(thickness, 1e-6)
    effective = dose_mj_cm2.astype(np.float64) * time_s / facts.nominal_develop_s
    dose_to_size = physics.dose_to_size_ratio * e0
    with np.errstate(divide="ignore"):
        log_dose = np.log(np.maximum(effective, 1e-12) / dose_to_size)
    dark = (physics.dark_erosion_um_s + physics.dark_erosion_um_s_per_solvent * solvent) * time_s
    exposed = effective > 0
    bias = physics.cd_bias_per_um * thickness
    if MATERIALS[material].tone is Tone.POSITIVE:
        field = np.maximum(thickness - dark, 0.0)
        depth = np.where(exposed, np.minimum(thickness, thickness * effective / e0 + dark), dark)
        cd = np.where(exposed, reticle.size_um + bias * log_dose, 0.0)
    else:
        kept = np.clip(effective / e0, 0.0, 1.0)
        field = np.maximum(thickness * kept - dark, 0.0)
        bulk = thickness * time_s / facts.nominal_develop_s
        depth = np.where(exposed, np.minimum(thickness, bulk), thickness - field)
        cd = np.where(exposed, reticle.size_um - bias * log_dose, 0.0)
    cd = np.clip(cd, 0.0, None)
    wall = reticle.size_um + reticle.space_um - cd
    min_wall = np.maximum(field / physics.max_wall_aspect, physics.min_wall_um)
    return Developed(
        field_um=field.astype(np.float32),
        residual_um=np.minimum(thickness - depth, field).astype(np.float32),
        cd_um=cd.astype(np.float32),
        bridged=exposed & (cd > 0) & (wall < min_wall),
    )


@dataclass
class CoatedFilm:
    """The cell's film on one wafer: per-site thickness and dose, and what developed."""

    material: CoatMaterial
    thickness_um: np.ndarray  # as spun and baked, per site
    solvent: float  # fraction of the film still solvent
    dose_mj_cm2: np.ndarray  # per site; 0 where not exposed
    reticle: Reticle | None = None  # the reticle it was exposed through
    developed: Developed | None = None

    @property
    def tone(self) -> Tone:
        return MATERIALS[self.material].tone

    @property
    def layer(self) -> FilmLayer:
        return MATERIALS[self.material].layer

    @property
    def field_um(self) -> np.ndarray:
        """The film around the openings: after a develop, what the developer left."""
        return self.thickness_um if self.developed is None else self.developed.field_um


def develop_time_s(time_s: float, physics: LithoPhysics) -> float:
    """The puddle, then the rinse and the spin dry."""
    return time_s + physics.develop_rinse_s
