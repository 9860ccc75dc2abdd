"""What the resin coater does to a wafer: spin or slot-die coat a resin precursor, soft-bake it.

Pure functions over the workpiece's parts, with their constants in `CoaterPhysics`
(engineering estimates, est; the spin film's are the line's, `drivers/roles/resin_coater.py`,
which validate works a recipe's layer out by). The spin law, the spin's timing and the soft bake
are the litho cell's (`physics/lithography.py`: `speed_law_um`, `coat_time_s`, `baked`), with
the coater's own constants in a `LithoPhysics`:

* **Spin.** On the open field the film follows the speed law t = k · η^a / √(ω / 1000 rpm)
  (η the resin's viscosity in cP). The spun film keeps half its solvent, less the longer the
  spin. The spin module has no edge-bead removal for thick resins: within `edge_bead_mm` of
  the wafer's edge the film stands `edge_bead_factor` times thicker.
* **Slot die.** The wet film is `slot_wet_fraction` of the slot gap, all the resin's solvent
  in it; the bake shrinks it towards its solids (the wet-to-dry shrink). No edge bead.
* **Planarisation.** A feature of height f above what the film is laid on (a bump, a wiring
  line, standing above the resin already there) is covered by c = t² / (t + P · f): a film
  much thicker than the feature levels it (c → t - P · f), a thin film only skins a tall bump.
  P is the film's degree of planarisation (spin above slot die). The layer's thickness at a
  site is what it adds to the resin top there.
* **Soft bake.** The litho cell's hot-plate law: the solvent leaves with a time constant that
  halves every 10 °C, the film shrinks by its volume. No cure: the oven cures the resin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.lithography import solvent_after_spin
from packline.drivers.roles.resin_coater import (
    EDGE_BEAD_FACTOR,
    EDGE_BEAD_MM,
    PHOTO_MATERIAL,
    RESINS,
    SPIN_PLANARISATION,
    SPUN_SOLVENT_KEPT,
    CoatResin,
    cover_um,
)

from ..twin import ResinKind, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import PhotoState, ResinLayer
from .lithography import LithoPhysics, baked, coat_time_s, speed_law_um

#: The twin's resin kind each dispense line lays.
RESIN_KIND = {
    CoatResin.THERMOSET: ResinKind.THERMOSET,
    CoatResin.PHOTO: ResinKind.RADIATION_SENSITIVE,
    CoatResin.SOLDER_RESIST: ResinKind.SOLDER_RESIST,
    CoatResin.STRESS_RELIEF: ResinKind.STRESS_RELIEF,
}

#: The least resin over an interconnect that insulates it (est; 002:1e).
MIN_COVER_UM = 1.0


@dataclass(frozen=True)
class CoaterPhysics:
    """The coater's constants (est)."""

    spin: LithoPhysics = field(default_factory=LithoPhysics)
    #: of the resin's solvent, at the end of a short spin (the line's, as the next three)
    spun_solvent_kept: float = SPUN_SOLVENT_KEPT
    spin_planarisation: float = SPIN_PLANARISATION
    slot_planarisation: float = 0.3
    slot_wet_fraction: float = 0.5  # wet film over slot gap
    slot_speed_mm_s: float = 10.0
    edge_bead_mm: float = EDGE_BEAD_MM  # thick resins spread a wide bead
    edge_bead_factor: float = EDGE_BEAD_FACTOR


@dataclass(frozen=True)
class Coat:
    """The film a step left, as the coater's gauge reads it."""

    field_um: float
    min_cover_um: float
    edge_um: float
    solvent: float


def interconnects(workpiece: Workpiece) -> np.ndarray:
    """Sites carrying an interconnect (a bump or a conductive film)."""
    sites: np.ndarray = workpiece.metal_height_um > 0
    return sites


def resin_cover_um(workpiece: Workpiece) -> np.ndarray:
    """Per site, the front resin above the interconnect (negative: it stands out)."""
    cover: np.ndarray = workpiece.resin_um - workpiece.metal_height_um
    return cover


def edge_sites(workpiece: Workpiece, physics: CoaterPhysics) -> np.ndarray:
    """Sites within the edge bead of the wafer's rim."""
    geometry = workpiece.geometry
    radius = np.hypot(geometry.site_x_mm, geometry.site_y_mm)
    edge: np.ndarray = radius > geometry.radius_mm - physics.edge_bead_mm
    return edge


def min_cover_um(workpiece: Workpiece, otherwise_um: float) -> float:
    """The thinnest resin over any interconnect; `otherwise_um` on a wafer without any."""
    featured = interconnects(workpiece)
    return float(resin_cover_um(workpiece)[featured].min()) if featured.any() else otherwise_um


def lay(
    workpiece: Workpiece,
    resin: CoatResin,
    film_um: float,
    solvent: float,
    planarisation: float,
    bead_factor: float,
    physics: CoaterPhysics,
) -> Coat:
    """Lay a film of `film_um` on the open field (`bead_factor` times that at the edge) over
    what the front carries: each feature covered by t² / (t + P · f); a new uncured top layer
    of the resin's kind."""
    edge_um = film_um * bead_factor
    field = np.where(edge_sites(workpiece, physics), edge_um, film_um).astype(np.float32)
    below = workpiece.resin_um
    feature = np.maximum(workpiece.metal_height_um - below, 0.0)
    cover = cover_um(field, feature, planarisation)
    layer, _ = workpiece.add_resin(RESIN_KIND[resin], feature + cover)
    if resin is CoatResin.PHOTO:
        layer.photo = PhotoState(PHOTO_MATERIAL.value, solvent)
        layer.dose_mj_cm2 = np.zeros(workpiece.geometry.site_count, np.float32)
    else:
        layer.solvent = solvent
    return Coat(film_um, min_cover_um(workpiece, film_um), edge_um, solvent)


def spin_coat(
    workpiece: Workpiece,
    resin: CoatResin,
    spin_rpm: float,
    spin_time_s: float,
    physics: CoaterPhysics,
) -> Coat:
    """Spin `resin` on the workpiece: the speed law on the field, the bead at the edge."""
    facts = RESINS[resin]
    solvent = solvent_after_spin(
        (1.0 - facts.solids_fraction) * physics.spun_solvent_kept,
        spin_time_s,
        physics.spin.spin_drying_s,
    )
    thickness = speed_law_um(facts.viscosity_cp, spin_rpm, physics.spin)
    return lay(
        workpiece,
        resin,
        thickness,
        solvent,
        physics.spin_planarisation,
        physics.edge_bead_factor,
        physics,
    )


def slot_coat(
    workpiece: Workpiece, resin: CoatResin, slot_gap_um: float, physics: CoaterPhysics
) -> Coat:
    """Slot-die coat `resin`: a wet film of a fraction of the gap, all its solvent in it."""
    wet_um = slot_gap_um * physics.slot_wet_fraction
    solvent = 1.0 - RESINS[resin].solids_fraction
    return lay(workpiece, resin, wet_um, solvent, physics.slot_planarisation, 1.0, physics)


def coated_layer(workpiece: Workpiece) -> ResinLayer | None:
    """The front's top resin layer if it is a precursor a coater laid (uncured), else None."""
    top = workpiece.resins.top()
    if top is None or top.cure > 0 or (top.photo is None and top.solvent <= 0):
        return None
    return top


def soft_bake(
    workpiece: Workpiece,
    before: Coat,
    temperature_c: float,
    time_s: float,
    physics: CoaterPhysics,
) -> Coat:
    """Bake the coated layer (`before`: the coat that laid it): its solvent leaves and the
    resin above the features shrinks by that volume (what fills around a bump keeps its
    height); no cure."""
    layer = coated_layer(workpiece)
    assert layer is not None, "soft_bake: the workpiece carries no coated precursor"
    state = layer.photo if layer.photo is not None else layer
    (shrink,), state.solvent = baked(
        np.ones(1, np.float32), state.solvent, temperature_c, time_s, physics.spin
    )
    over = np.clip(resin_cover_um(workpiece), 0.0, layer.thickness_um)
    thaw(layer.thickness_um)
    layer.thickness_um -= (over * (1.0 - shrink)).astype(np.float32)
    field_um = before.field_um * float(shrink)
    return Coat(
        field_um, min_cover_um(workpiece, field_um), before.edge_um * float(shrink), state.solvent
    )


def slot_time_s(diameter_mm: float, physics: CoaterPhysics) -> float:
    """Dispense, then one pass of the die across the wafer."""
    return physics.spin.dispense_s + diameter_mm / physics.slot_speed_mm_s


def spin_time_total_s(spin_rpm: float, spin_time_s: float, physics: CoaterPhysics) -> float:
    """The spin module's step: dispense, ramp, spin, backside rinse (the litho cell's)."""
    return coat_time_s(spin_rpm, spin_time_s, physics.spin)
