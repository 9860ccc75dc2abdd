"""The laminator's physics: its constants, and the resin sheet pressed onto the twin's sites.

`LaminatorPhysics` holds the constants of the whole tool model (platen heating and cooling,
chamber pumping and venting, peel, resin), estimates from the process windows, configurable per
tool. The functions model what a pressed sheet leaves on the wafer: the resin thickness on
every site (spread by the line's `RESIN_SPREAD_FRACTION`), the smear on the bump tips that
pierce it (`SMEAR`, the line's law; both in `drivers/roles/laminator.py`, where validate reads
them too) and the voids trapped in it (`void_fraction`), vectorised over
the sites in `laminate_sheet`. The simulated laminator (`sim_instruments/laminator.py`) calls
`laminate_sheet` at the end of the press.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.laminator import (
    RESIN_SPREAD_FRACTION,
    RESIN_SPREAD_SIGMAS,
    SMEAR,
)

from ..twin import ResinKind, Support, Workpiece
from ..twin.freezing import thaw
from ..twin.parts import Film, FilmMaterial
from ..twin.resolution import on_map_grid


@dataclass(frozen=True)
class LaminatorPhysics:
    """Constants of the laminator model; defaults from the process windows ((est) ones wide)."""

    heat_rate_c_per_s: float = 1.5  # (est)
    natural_cooling_time_constant_s: float = 900.0  # (est)
    forced_cooling_time_constant_s: float = 60.0  # (est)
    over_temperature_margin_c: float = 10.0  # trip this far above the setpoint (est)
    pump_floor_pa: float = 20.0
    leak_floor_pa: float = 800.0  # what a leaking chamber pumps down to (est)
    pump_time_constant_s: float = 6.0
    evacuation_limit_s: float = 120.0
    vent_time_s: float = 10.0
    peel_time_s: float = 15.0
    peel_below_c: float = 40.0  # (est)
    #: voids: none below this chamber pressure, then this fraction per Pa above it (est)
    void_free_pa: float = 100.0
    void_fraction_per_pa: float = 5e-5
    #: air trapped under the sheet at the start of the hold, escaping with this time constant
    trapped_air_fraction: float = 0.02
    hold_time_constant_s: float = 15.0
    #: the contact a tip pressed into the foil makes with it, mOhm (est)
    metal_support_contact_mohm: float = 5.0


def void_fraction(vacuum_pa: float, hold_s: float, physics: LaminatorPhysics) -> float:
    """Void fraction left in the resin: residual gas at the chamber pressure, plus air trapped
    under the sheet that the vacuum hold did not have time to draw out."""
    residual = physics.void_fraction_per_pa * max(vacuum_pa - physics.void_free_pa, 0.0)
    trapped = physics.trapped_air_fraction * math.exp(-hold_s / physics.hold_time_constant_s)
    return min(residual + trapped, 1.0)


def laminate_sheet(
    workpiece: Workpiece,
    resin_thickness_um: float,
    support: Support,
    foil_thickness_um: float,
    temperature_c: float,
    pressure_mpa: float,
    vacuum_pa: float,
    hold_s: float,
    physics: LaminatorPhysics,
    rng: np.random.Generator,
) -> None:
    """Press a thermosetting resin sheet onto every site of a workpiece, as a new resin layer.

    Every site gets the sheet's resin thickness (with a small spread). Bumps taller than the
    resin pierce it: their tips project above its top (`tip_projection_um`); under a film support
    each piercing tip keeps a thin smear of resin (what the cleaning step removes, 003:10),
    while under a metal-film support the tips are pressed against the metal (001:10) and the
    film squeezes the resin off them and stays on the resin as a copper film of
    `foil_thickness_um`, joined to every tip pressed into it (the wiring's metal, 001:10-11),
    the foil in the field around each site's pattern as thick (`Film.field_um`: what the etch
    between the patterns must clear). Bumps shorter than the resin stay buried, untouched.
    """
    sites = workpiece.geometry.site_count
    spread = np.clip(rng.standard_normal(sites), -RESIN_SPREAD_SIGMAS, RESIN_SPREAD_SIGMAS)
    resin = resin_thickness_um * (1.0 + RESIN_SPREAD_FRACTION * spread)
    workpiece.add_resin(
        ResinKind.THERMOSET,
        on_map_grid(np.maximum(resin, 0.0)),
        support=support,
        voids=void_fraction(vacuum_pa, hold_s, physics),
    )
    piercing = workpiece.tip_projection_um > 0
    if support is Support.METAL_FILM:
        foil = Film.blanket(FilmMaterial.CU, foil_thickness_um, sites, level=workpiece.wiring_level)
        foil.track_field()
        foil.connected = piercing.copy()
        foil.contact_mohm = np.where(
            piercing, np.float32(physics.metal_support_contact_mohm), np.float32(np.inf)
        )
        workpiece.films.layers.append(foil)
    if support is Support.FILM:
        smear = SMEAR.mean_nm(temperature_c, pressure_mpa)
        sigmas = SMEAR.spread_sigmas
        scatter = np.clip(rng.standard_normal(sites), -sigmas, sigmas)
        per_site = np.maximum(smear * (1.0 + SMEAR.spread_fraction * scatter), 0.0)
        residue = workpiece.surface.residue_nm
        thaw(residue)
        residue[piercing] = on_map_grid(residue[piercing] + per_site[piercing])
