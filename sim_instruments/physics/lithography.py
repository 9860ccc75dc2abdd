"""What the litho cell does to a wafer: spin coating, soft bake, exposure and development.

Pure functions over per-site arrays, with their constants in `LithoPhysics` and the line's
`MATERIALS` (engineering estimates, est, unless a source is named):

* **Spin coating.** The film sets within the first seconds of the spin; its thickness follows
  the speed law t = k · η^a / √(ω / 1000 rpm) (Meyerhofer's ω^-1/2, with the viscosity η of
  the dispense line in cP). The longer the spin, the less solvent is left in it. The law and
  its constants are the line's (`drivers/roles/lithography.py`: `speed_law_um`, the bake's
  `soft_baked`, each material's spun solvent in `MATERIALS`), which validate works a recipe's
  film out by (`coated_film_um`: what a strip must take off).
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
  unexposed openings dissolve at the bulk rate. E0 per um and the nominal time are the line's
  (`MATERIALS`), whose `develop_rate_um_s` validate holds a recipe's develop time to. The top
  width follows the dose about the dose-to-size E_s = 1.25 E0: CD = size ± b · T · ln(D_eff /
  E_s) (thicker films spread more), growing with the dose for positive tone, shrinking for
  negative; where the wall left between neighbours is too thin for its height (aspect above 4)
  the wall falls and the openings bridge. A land reticle is the inverse image: the island over
  each site takes the role of the film around an opening and the field around it that of the
  opening; its width follows the dose the other way (light spreading under a dark island
  narrows it), and where the field between two islands is too narrow to clear they merge
  (bridge).
* **Opened area.** A develop through a resist records, per site, the area its pattern opens
  (`opened_um2`): the reticle's design (a hole's disc, a wiring's trace and end pad, a land's
  field cell) with every edge moved by the develop's bias, so an over-dosed mould opens more
  seed than drawn; the plating cell spreads its charge over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.lithography import (
    BAKE_TAU_HALVING_C,
    BAKE_TAU_S_AT_100C,
    MATERIALS,
    SPIN_DRYING_S,
    SPIN_K_UM,
    SPIN_VISCOSITY_EXPONENT,
    CoatMaterial,
    Feature,
    FilmLayer,
    Reticle,
    Tone,
    soft_baked,
    solvent_after_spin,
)
from packline.drivers.roles.lithography import speed_law_um as line_speed_law_um

from ..twin import ResinKind, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import OpeningLayer, OpeningProcess, PhotoState, Resist
from ..twin.parts import Tone as ResistTone


@dataclass(frozen=True)
class LithoPhysics:
    """The cell's constants (est)."""

    spin_k_um: float = SPIN_K_UM  # the film of a 1 cP material at 1000 rpm (the line's)
    viscosity_exponent: float = SPIN_VISCOSITY_EXPONENT
    spin_drying_s: float = SPIN_DRYING_S  # the spun film's solvent falls by e every this long
    spin_ramp_rpm_s: float = 5000.0
    dispense_s: float = 3.0
    edge_bead_s: float = 12.0  # edge-bead removal and backside rinse after the spin
    bake_tau_s_at_100c: float = BAKE_TAU_S_AT_100C
    bake_tau_halving_c: float = BAKE_TAU_HALVING_C
    bake_ramp_c_s: float = 5.0
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


# --------------------------------------------------------------------- coat and bake


def speed_law_um(viscosity_cp: float, spin_rpm: float, physics: LithoPhysics) -> float:
    """The as-spun thickness of a liquid of `viscosity_cp`: the line's spin law (the litho
    cell's and the resin coater's spin modules alike) with the cell's constants."""
    return line_speed_law_um(viscosity_cp, spin_rpm, physics.spin_k_um, physics.viscosity_exponent)


def spin_thickness_um(material: CoatMaterial, spin_rpm: float, physics: LithoPhysics) -> float:
    """The as-spun thickness of one of the cell's materials (the speed law)."""
    return speed_law_um(MATERIALS[material].viscosity_cp, spin_rpm, physics)


def spun_solvent(material: CoatMaterial, spin_time_s: float, physics: LithoPhysics) -> float:
    """The solvent fraction left in the film when the spin ends (of the line's figure for the
    material at the spin's start)."""
    start = MATERIALS[material].spun_solvent_fraction
    return solvent_after_spin(start, spin_time_s, physics.spin_drying_s)


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
    """The film after a bake: (thickness per site, solvent fraction left), by the line's bake
    law with the cell's constants."""
    shrink, left = soft_baked(
        solvent, temperature_c, time_s, physics.bake_tau_s_at_100c, physics.bake_tau_halving_c
    )
    return (thickness_um * shrink).astype(np.float32), left


def bake_time_s(from_c: float, to_c: float, time_s: float, physics: LithoPhysics) -> float:
    """The hotplate's ramp to temperature, then the bake."""
    return abs(to_c - from_c) / physics.bake_ramp_c_s + time_s


# --------------------------------------------------------------------- exposure


def clearing_dose_mj_cm2(material: CoatMaterial, thickness_um: float) -> float:
    """E0: the dose that clears `thickness_um` of the film in its nominal develop time."""
    return MATERIALS[material].clearing_dose_mj_cm2_per_um * thickness_um


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
    at the opening's bottom, and the opening's top width (0: no opening at the site)."""

    field_um: np.ndarray
    residual_um: np.ndarray
    cd_um: np.ndarray

    @property
    def depth_um(self) -> np.ndarray:
        """How deep each opening goes below the film around it."""
        depth: np.ndarray = np.maximum(self.field_um - self.residual_um, 0.0)
        return depth


def bridged(
    reticle: Reticle, cd_um: np.ndarray, field_um: np.ndarray, physics: LithoPhysics
) -> np.ndarray:
    """Openings merged with their neighbour: the wall left between them is thinner than a
    quarter of its height (or than the minimum wall)."""
    wall = reticle.size_um + reticle.space_um - cd_um
    thinnest = np.maximum(field_um / physics.max_wall_aspect, physics.min_wall_um)
    return (cd_um > 0) & (wall < thinnest)


def opened_um2(reticle: Reticle, cd_um: np.ndarray) -> np.ndarray:
    """Per site, the area the pattern of `reticle` opens, developed `cd_um` wide at the top
    (0 where it did not open)."""
    opened = np.where(cd_um > 0, reticle.opened_um2(cd_um.astype(np.float64)), 0.0)
    return opened.astype(np.float32)


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
    facts = MATERIALS[material]
    thickness = np.maximum(thickness_um, np.float32(1e-6), dtype=np.float32)
    # the dose as a fraction of the clearing dose E0, at this develop time
    cleared = dose_mj_cm2 * np.float32(
        time_s / facts.nominal_develop_s / facts.clearing_dose_mj_cm2_per_um
    )
    cleared /= thickness
    exposed = cleared > 0
    log_dose = np.log(
        np.maximum(cleared, np.float32(1e-12)) / np.float32(physics.dose_to_size_ratio)
    )
    dark = np.float32(
        (physics.dark_erosion_um_s + physics.dark_erosion_um_s_per_solvent * solvent) * time_s
    )
    bias = log_dose * (thickness * np.float32(physics.cd_bias_per_um))
    if reticle.feature is Feature.LAND:
        bias = -bias  # the island's width: what widens an opening narrows an island
    if facts.tone is Tone.POSITIVE:
        field = np.maximum(thickness - dark, np.float32(0.0))
        depth = np.where(exposed, np.minimum(thickness, thickness * cleared + dark), dark)
        cd = np.where(exposed, reticle.size_um + bias, np.float32(0.0))
    else:
        field = np.maximum(thickness * np.minimum(cleared, np.float32(1.0)) - dark, np.float32(0))
        bulk = thickness * np.float32(min(time_s / facts.nominal_develop_s, 1.0))
        depth = np.where(exposed, bulk, thickness - field)
        cd = np.where(exposed, reticle.size_um - bias, np.float32(0.0))
    return Developed(
        field_um=field,
        residual_um=np.minimum(thickness - depth, field),
        cd_um=np.maximum(cd, np.float32(0.0)).astype(np.float32, copy=False),
    )


# --------------------------------------------------------------------- the film on the wafer


#: Film at an opening's bottom thinner than this, um, counts as cleared: the opening reaches
#: what lies below (the cell's `cleared`; validate judges a develop by it alike).
CLEARED_UM = 1e-3


@dataclass(frozen=True)
class LithoFilm:
    """The film the cell works on, wherever the workpiece keeps it: the `resist` part, or the
    outermost resin layer (radiation-sensitive) with its openings. The arrays are the part's
    own: writing into them changes the workpiece."""

    material: CoatMaterial
    photo: PhotoState
    thickness_um: np.ndarray  # around each site's opening
    dose_mj_cm2: np.ndarray
    depth_um: np.ndarray  # each opening's depth below the film around it
    cd_um: np.ndarray  # each opening's top width
    openings: OpeningLayer | None  # a resin layer's openings (None: the resist)
    to_metal_um: np.ndarray  # how deep below the film's top an opening meets what lies below

    @property
    def tone(self) -> Tone:
        return MATERIALS[self.material].tone

    @property
    def layer(self) -> FilmLayer:
        return MATERIALS[self.material].layer

    @property
    def residual_um(self) -> np.ndarray:
        """Film left at the bottom of each opening, above what it meets (`to_metal_um`)."""
        residual: np.ndarray = np.maximum(self.to_metal_um - self.depth_um, 0.0)
        return residual

    @property
    def cleared(self) -> np.ndarray:
        """Openings down to what lies below."""
        return (self.cd_um > 0) & (self.residual_um <= CLEARED_UM)


def litho_film(workpiece: Workpiece) -> LithoFilm | None:
    """The cell's film on `workpiece`: its resist if it carries one a cell coated, else the
    outermost resin layer of the face up in the cell (`Workpiece.coated_face`) if a cell
    coated that; None for neither."""
    resist = workpiece.resist
    if resist.photo is not None and resist.opening_um is not None:
        return LithoFilm(
            CoatMaterial(resist.photo.material),
            resist.photo,
            resist.thickness_um,
            resist.dose_mj_cm2,
            resist.developed_um,
            resist.opening_um,
            None,
            resist.thickness_um,
        )
    face = workpiece.coated_face
    top = workpiece.top_resin(face)
    to_metal = workpiece.depth_to_metal_um(face)
    if top is None or to_metal is None:
        return None
    layer, openings = top
    if layer.photo is None or layer.dose_mj_cm2 is None:
        return None
    return LithoFilm(
        CoatMaterial(layer.photo.material),
        layer.photo,
        layer.thickness_um,
        layer.dose_mj_cm2,
        openings.depth_um,
        openings.diameter_um,
        openings,
        covered_metal_um(layer.thickness_um, to_metal),
    )


def covered_metal_um(thickness_um: np.ndarray, to_metal_um: np.ndarray) -> np.ndarray:
    """How deep below a resin layer's top (`thickness_um` thick) a developed opening meets
    what lies below it: the metal's top where the layer covers an interconnect
    (`Workpiece.depth_to_metal_um`: two-process-via's concave portions over its interconnects,
    002:1f), else the layer's whole thickness, also where the metal stands through the film
    (sprout-bump-csp's solder resist around its balls, opened wider than them down to what
    the film is laid on)."""
    meets: np.ndarray = np.where(to_metal_um > 0, to_metal_um, thickness_um)
    return meets


def coat(
    workpiece: Workpiece,
    material: CoatMaterial,
    spin_rpm: float,
    spin_time_s: float,
    physics: LithoPhysics,
) -> float:
    """Spin a film of `material` on the workpiece: a resist becomes its `resist`, a
    radiation-sensitive resin its outermost resin layer (uncured) on the face up in the cell
    (`Workpiece.coated_face`). Returns the thickness."""
    thickness = spin_thickness_um(material, spin_rpm, physics)
    sites = workpiece.geometry.site_count
    photo = PhotoState(material.value, spun_solvent(material, spin_time_s, physics))
    facts = MATERIALS[material]
    if facts.layer is FilmLayer.RESIST:
        workpiece.resist = Resist(
            np.full(sites, thickness, np.float32),
            np.zeros(sites, np.float32),
            np.zeros(sites, np.float32),
            ResistTone[facts.tone.name],
            photo=photo,
            opening_um=np.zeros(sites, np.float32),
        )
    else:
        layer, _ = workpiece.add_resin(
            ResinKind.RADIATION_SENSITIVE, thickness, face=workpiece.coated_face
        )
        layer.photo, layer.dose_mj_cm2 = photo, np.zeros(sites, np.float32)
    return thickness


def bake(workpiece: Workpiece, temperature_c: float, time_s: float, physics: LithoPhysics) -> None:
    """Soft-bake the cell's film: the solvent leaves, the film shrinks."""
    film = litho_film(workpiece)
    assert film is not None, "bake: the workpiece carries no film of the cell"
    thickness, film.photo.solvent = baked(
        film.thickness_um, film.photo.solvent, temperature_c, time_s, physics
    )
    thaw(film.thickness_um)
    film.thickness_um[:] = thickness
    if film.openings is None:
        workpiece.resist.baked = True


def expose(workpiece: Workpiece, reticle: Reticle, dose_mj_cm2: float, shots: int) -> None:
    """The stepper's exposure of the first `shots` dies through `reticle` (the rest get none)."""
    film = litho_film(workpiece)
    assert film is not None, "expose: the workpiece carries no film of the cell"
    thaw(film.dose_mj_cm2)
    film.dose_mj_cm2[:] = np.where(
        exposed_sites(workpiece.geometry.site_unit, shots), dose_mj_cm2, 0.0
    )
    film.photo.mask = reticle.name


def develop_film(
    workpiece: Workpiece, reticle: Reticle, time_s: float, physics: LithoPhysics
) -> LithoFilm:
    """Develop the cell's film for `time_s`: the film around the openings, their depth and
    width, and which openings reach what lies below (a resin layer: over an interconnect it
    covers, its metal's top, `covered_metal_um`), or the area each opens (a resist: what a
    plating through it thickens). Returns the film as developed."""
    film = litho_film(workpiece)
    assert film is not None, "develop: the workpiece carries no film of the cell"
    done = develop(
        film.material,
        film.thickness_um,
        film.photo.solvent,
        film.dose_mj_cm2,
        reticle,
        time_s,
        physics,
    )
    thaw(film.thickness_um, film.depth_um, film.cd_um)
    film.thickness_um[:] = done.field_um
    film.depth_um[:] = done.depth_um
    film.cd_um[:] = done.cd_um
    film.photo.developed = True
    developed = litho_film(workpiece)  # what lies below, as deep as the film now is
    assert developed is not None
    if developed.openings is not None:
        np.minimum(developed.depth_um, developed.to_metal_um, out=developed.depth_um)
        thaw(developed.openings.open)
        developed.openings.open[:] = developed.cleared
        developed.openings.record(OpeningProcess.DEVELOP, developed.to_metal_um)
    else:
        workpiece.resist.islands = reticle.feature is Feature.LAND
        workpiece.resist.opened_um2 = opened_um2(reticle, developed.cd_um)
    return developed


def develop_time_s(time_s: float, physics: LithoPhysics) -> float:
    """The puddle, then the rinse and the spin dry."""
    return time_s + physics.develop_rinse_s
