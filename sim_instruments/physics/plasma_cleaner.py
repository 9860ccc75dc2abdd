"""The plasma cleaner's physics: its constants, and a plasma's effect on the twin's sites.

`PlasmaPhysics` holds the rates and constants of the chamber model (pumping, venting, RF
reflection, and the surface rates), defaults from the process windows, configurable per tool.
`expose_to_plasma` applies some seconds of one gas at one power to a workpiece, vectorised
over its sites: residue removal, oxide growth (O2) or removal (Ar, forming gas), the O2 etch of
the resin that opens vias, and activation of the exposed metal. The simulated plasma cleaner
(`sim_instruments/plasma_cleaner.py`) calls it for every loaded wafer as its recipe runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.drivers.roles.plasma_cleaner import Gas

from ..twin import Workpiece
from ..twin.parts import OpeningProcess
from .laser import NOBLE_METALS


@dataclass(frozen=True)
class PlasmaPhysics:
    """Rates and constants of the chamber model; defaults from the process windows."""

    base_pressure_mtorr: float = 20.0
    base_pressure_ok_mtorr: float = 50.0
    leak_floor_mtorr: float = 200.0
    pump_time_constant_s: float = 8.0
    pump_down_limit_s: float = 300.0
    vent_time_s: float = 30.0
    reflected_fraction: float = 0.015
    mismatch_reflected_fraction: float = 0.25
    reflected_limit_fraction: float = 0.10
    #: organic residue removed per W·s of RF: O2 0.1 nm, Ar and forming gas 0.01 nm
    residue_nm_per_ws: dict[Gas, float] | None = None
    #: Ar sputter of metal oxide, nm/min at 100 W and at 1000 W (linear between)
    ar_oxide_nm_per_min: tuple[float, float] = (1.0, 10.0)
    #: chemical reduction of oxide in forming gas, nm/min at 100 W and at 1000 W (est)
    reducing_oxide_nm_per_min: tuple[float, float] = (2.0, 6.0)
    #: O2 plasma grows oxide on non-noble metals towards this thickness (est)
    o2_oxide_saturation_nm: float = 5.0
    o2_oxide_time_constant_s: float = 120.0
    #: polymer (resin) etch in O2, µm/min at 100 W and at 1000 W
    o2_resin_um_per_min: tuple[float, float] = (0.1, 1.0)
    #: RF dose of one chamber run that activates the exposed metal (003:9) (est)
    activation_dose_ws: float = 1500.0

    def residue_rate(self, gas: Gas) -> float:
        rates = self.residue_nm_per_ws or {Gas.O2: 0.1, Gas.AR: 0.01, Gas.FORMING_GAS: 0.01}
        return rates[gas]


def _between(bounds: tuple[float, float], power_w: float) -> float:
    low, high = bounds
    return low + (high - low) * (min(max(power_w, 100.0), 1000.0) - 100.0) / 900.0


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
    exposed = workpiece.exposed_metal
    dose_ws = power_w * duration_s
    residue = workpiece.surface.residue_nm
    residue[exposed] = np.maximum(residue[exposed] - physics.residue_rate(gas) * dose_ws, 0)
    oxide = workpiece.surface.oxide_nm
    if gas is Gas.O2:
        if workpiece.top_metal not in NOBLE_METALS:
            growth = 1 - math.exp(-duration_s / physics.o2_oxide_time_constant_s)
            oxide[exposed] += (physics.o2_oxide_saturation_nm - oxide[exposed]) * growth
        etch_um = _between(physics.o2_resin_um_per_min, power_w) * duration_s / 60
        workpiece.resins.thin_from_top(etch_um)
        top = workpiece.top_resin()
        if top is not None:
            layer, openings = top
            concave = openings.depth_um > 0
            np.minimum(openings.depth_um, layer.thickness_um, out=openings.depth_um)
            openings.open |= concave & (openings.depth_um >= layer.thickness_um)
            if concave.any():
                openings.record(OpeningProcess.DRY_ETCH, layer.thickness_um)
    else:
        per_min = (
            physics.ar_oxide_nm_per_min if gas is Gas.AR else physics.reducing_oxide_nm_per_min
        )
        removal_nm = _between(per_min, power_w) * duration_s / 60
        oxide[exposed] = np.maximum(oxide[exposed] - removal_nm, 0)
    if run_dose_ws >= physics.activation_dose_ws:
        workpiece.surface.activated[exposed] = True
