"""The plasma cleaner's physics: its constants, and a plasma's effect on the twin's sites.

`PlasmaPhysics` holds the rates and constants of the chamber model (pumping, venting, RF
reflection, and the surface rates), defaults from the process windows, configurable per tool.
`expose_to_plasma` applies some seconds of one gas at one power to a workpiece, vectorised
over its sites: residue removal, oxide growth (O2) or removal (Ar, forming gas), the O2 etch of
the resin that opens vias, the fluorine (CF4/O2) etch of SiO2 and SiN films that opens a
passivation over the pads through the resist's openings (002:15), and activation of the exposed
metal; the oxide and the etches by the line's rates (`drivers/roles/plasma_cleaner.py`). The
simulated plasma cleaner (`sim_instruments/plasma_cleaner.py`) calls it for every loaded wafer
as its recipe runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import EllipsisType

import numpy as np

from packline.drivers.roles.plasma_cleaner import (
    CF4_DIELECTRIC_NM_PER_MIN,
    O2_RESIN_UM_PER_MIN,
    RESIDUE_NM_PER_WS,
    Gas,
    at_power,
    oxide_after_nm,
)

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import DIELECTRICS, Face, FilmMaterial, OpeningLayer, OpeningProcess
from .laser import oxidises

#: The line's fluorine (CF4/O2) etch rates of the dielectrics (`CF4_DIELECTRIC_NM_PER_MIN`), by
#: the twin's film material; the metal under a film and the resist mask (about 1 um of it per um
#: of oxide) stop or outlast the etch.
_DIELECTRIC_NM_PER_MIN = {
    FilmMaterial(material.value): rates for material, rates in CF4_DIELECTRIC_NM_PER_MIN.items()
}


@dataclass(frozen=True)
class PlasmaPhysics:
    """Rates and constants of the chamber model that only the simulated chamber uses; defaults
    from the process windows. The surface rates that validate judges a recipe by too (residue,
    oxide, the O2 resin etch, the dielectric etch) are the role's,
    `drivers/roles/plasma_cleaner.py`, read there."""

    base_pressure_mtorr: float = 20.0
    base_pressure_ok_mtorr: float = 50.0
    leak_floor_mtorr: float = 200.0
    pump_time_constant_s: float = 8.0
    pump_down_limit_s: float = 300.0
    vent_time_s: float = 30.0
    reflected_fraction: float = 0.015
    mismatch_reflected_fraction: float = 0.25
    reflected_limit_fraction: float = 0.10
    #: the share of its setpoint an RF generator out of calibration delivers, its forward
    #: power reading the setpoint all the same (the `rf_calibration` fault)
    miscalibrated_delivered_fraction: float = 0.3
    #: RF dose of one chamber run that activates the exposed metal (003:9) (est)
    activation_dose_ws: float = 1500.0


def _sites(mask: np.ndarray) -> np.ndarray | EllipsisType:
    """An index of the sites `mask` selects, to read and write arrays over the sites with:
    `...` (the whole array) when it selects every site, which spares the copy out and back in
    that indexing by the mask costs and gives the same values."""
    return ... if mask.all() else mask


def expose_to_plasma(
    workpiece: Workpiece,
    gas: Gas,
    power_w: float,
    duration_s: float,
    physics: PlasmaPhysics,
    run_dose_ws: float,
) -> None:
    """Apply `duration_s` of plasma to a workpiece: residue, oxide, resin and activation.

    The exposed metal is a bare pad, a bump tip above the resin, or the bottom of an open via.
    O2 etches resin isotropically: the top surface and the bottom of every concave portion
    come down together, so the resin left at a concave bottom is removed and the via opens
    onto the metal (the dry etch of 002:4). `run_dose_ws` is the RF dose of the whole chamber
    run so far, this exposure included; activation (003:9) needs enough of it.
    """
    exposed = _sites(workpiece.exposed_metal)
    dose_ws = power_w * duration_s
    residue = workpiece.surface.residue_nm
    thaw(residue)
    residue[exposed] = np.maximum(residue[exposed] - RESIDUE_NM_PER_WS[gas] * dose_ws, 0)
    oxide = workpiece.surface.oxide_nm
    thaw(oxide)
    oxide[exposed] = oxide_after_nm(
        oxide[exposed], gas, power_w, duration_s, oxidises=oxidises(workpiece.top_metal)
    )
    if gas is Gas.O2:
        etch_um = at_power(O2_RESIN_UM_PER_MIN, power_w) * duration_s / 60
        workpiece.resins.thin_from_top(etch_um)
        top = workpiece.top_resin()
        to_metal = workpiece.depth_to_metal_um()
        if top is not None and to_metal is not None:
            openings = top[1]
            concave = openings.depth_um > 0
            thaw(openings.depth_um, openings.open)
            np.minimum(openings.depth_um, to_metal, out=openings.depth_um)
            openings.open |= concave & (openings.depth_um >= to_metal)
            if concave.any():
                openings.record(OpeningProcess.DRY_ETCH, to_metal)
    elif gas is Gas.CF4_O2:
        etch_dielectrics(workpiece, power_w, duration_s, physics)
    if run_dose_ws >= physics.activation_dose_ws:
        thaw(workpiece.surface.activated)
        workpiece.surface.activated[exposed] = True


def etch_dielectrics(
    workpiece: Workpiece, power_w: float, duration_s: float, physics: PlasmaPhysics
) -> None:
    """Etch the front's SiO2 and SiN films for `duration_s` of CF4/O2 at `power_w`, from the
    top film down, the metal under them stopping the etch.

    Where a resist lies on a site, fluorine reaches the film only in the resist's cleared
    opening: the film's opening there deepens (`Film.openings`) and, once through, lays the
    pad bare in an opening as wide as the resist's (002:15); the film around it stays. Where no
    resist lies, the whole film there thins and goes. (The field's thinning and the openings'
    deepening are worked out only where some site has them to do: the same values, for less.)
    """
    resist = workpiece.resist
    field = resist.thickness_um <= 0
    any_field = bool(field.any())
    in_opening = resist.open & ~field
    left_s = np.where(field | in_opening, duration_s, 0.0)
    sites = workpiece.geometry.site_count
    for film in reversed(workpiece.films.layers):
        if film.face is not Face.FRONT:
            continue
        if film.material not in DIELECTRICS:
            left_s[film.present] = 0.0  # a metal film stops the etch
            continue
        rate_um_s = at_power(_DIELECTRIC_NM_PER_MIN[film.material], power_w) / 60_000
        openings = film.openings
        if openings is None:
            openings = film.openings = OpeningLayer.empty(sites)
        left_after_s = left_s
        # the field: the film thins where no resist covers it
        if any_field and (thinned := field & film.present & (left_s > 0)).any():
            removed = np.minimum(film.thickness_um, rate_um_s * left_s)
            left_after_s = left_after_s - np.where(thinned, removed / rate_um_s, 0.0)
            thaw(film.thickness_um, film.present)
            film.thickness_um[thinned] -= removed[thinned]
            film.present[thinned & (film.thickness_um <= 0)] = False
        # the openings: they deepen through the film, as wide as the resist's
        etched = in_opening & film.present & ~openings.open & (left_s > 0)
        if etched.any():
            depth = openings.depth_um + rate_um_s * left_s
            through = etched & (depth >= film.thickness_um)
            left_after_s = left_after_s - np.where(
                etched,
                np.minimum(left_s, (film.thickness_um - openings.depth_um) / rate_um_s),
                0.0,
            )
            at = _sites(etched)
            thaw(openings.depth_um, openings.diameter_um, openings.open)
            openings.depth_um[at] = np.minimum(depth, film.thickness_um)[at]
            if resist.opening_um is not None:
                openings.diameter_um[at] = resist.opening_um[at]
            openings.open[through] = True
            openings.record(OpeningProcess.DRY_ETCH, film.thickness_um)
        if left_after_s is not left_s:
            left_s = np.maximum(left_after_s, 0.0)
