"""The plasma cleaner role: a vacuum chamber that cleans, etches and activates wafer surfaces.

Used by the claimed methods for removing resin residue and oxide from bump tips (003:12-15),
activating them (003:9), dry-etching resin at the bottom of a concave portion (002:4), and
etching the openings of a SiO2 or SiN passivation over the pads through a resist mask (002:15).
A batch tool: several wafers share one chamber run.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import numpy as np

from .batch_chamber import BatchChamber, ChamberState, LastResult
from .deposition import Material

__all__ = [
    "CF4_DIELECTRIC_NM_PER_MIN",
    "O2_OXIDE_SATURATION_NM",
    "O2_OXIDE_TIME_CONSTANT_S",
    "O2_RESIN_UM_PER_MIN",
    "OXIDE_REMOVAL_NM_PER_MIN",
    "RATE_POWERS_W",
    "RESIDUE_NM_PER_WS",
    "ChamberState",
    "CleanResult",
    "Gas",
    "LastResult",
    "PlasmaCleaner",
    "PlasmaRecipe",
    "PlasmaStatus",
    "PlasmaStep",
    "at_power",
    "oxide_after_nm",
]


class Gas(StrEnum):
    """Process gases of the chamber."""

    O2 = "O2"
    AR = "Ar"
    FORMING_GAS = "forming-gas"  # H2 4-10 % in Ar: a reducing plasma
    CF4_O2 = "CF4/O2"  # CF4 with about 10 % O2: fluorine etches SiO2 and SiN, stops on metal


#: The RF powers a chamber rate is stated at; between them it goes linearly with the power,
#: and outside them it is held at the nearer one (est; the chamber's process window).
RATE_POWERS_W = (100.0, 1000.0)
#: The O2 plasma's etch of the line's resins (a polymer, cured or not), um/min at 100 W and at
#: 1000 W (est; the line's process data, qualified on the chamber): a recipe's dry etch is
#: judged by it before the run (002:4), and the simulated chamber etches by it.
O2_RESIN_UM_PER_MIN = (0.1, 1.0)
#: The fluorine (CF4/O2) etch of the passivation dielectrics, nm/min at 100 W and at 1000 W
#: (est; the line's process data, qualified on the chamber): a recipe's passivation etch is
#: judged by it before the run (002:15), and the simulated chamber etches by it.
CF4_DIELECTRIC_NM_PER_MIN: dict[Material, tuple[float, float]] = {
    Material.SIO2: (20.0, 200.0),
    Material.SIN: (40.0, 400.0),
}


#: How fast a gas takes oxide off the exposed metal, nm/min at 100 W and at 1000 W (est; the
#: line's process data, qualified on the chamber): Ar sputters it (003:13), forming gas
#: reduces it (003:15). A recipe's cleaning is judged by them before the run (003:11), and the
#: simulated chamber cleans by them.
OXIDE_REMOVAL_NM_PER_MIN: dict[Gas, tuple[float, float]] = {
    Gas.AR: (1.0, 10.0),
    Gas.FORMING_GAS: (2.0, 6.0),
}
#: The organic residue (resin smear, flux) each gas takes off the exposed metal, nm per W·s of
#: RF (est; the line's process data): O2 burns it, Ar and forming gas sputter it, CF4/O2
#: between. A recipe's cleaning is judged by them before the run (003:10), and the simulated
#: chamber cleans by them.
RESIDUE_NM_PER_WS: dict[Gas, float] = {
    Gas.O2: 0.1,
    Gas.AR: 0.01,
    Gas.FORMING_GAS: 0.01,
    Gas.CF4_O2: 0.05,
}
#: An O2 plasma grows oxide on a metal that oxidises (not a noble one) towards this
#: thickness, e-fold nearer every `O2_OXIDE_TIME_CONSTANT_S` (est; the line's process data):
#: what an Ar or forming-gas step after it must take off.
O2_OXIDE_SATURATION_NM = 5.0
O2_OXIDE_TIME_CONSTANT_S = 120.0

#: A thickness: one site's, or an array of the sites'.
Nanometres = TypeVar("Nanometres", float, np.ndarray)


def at_power(rates: tuple[float, float], power_w: float) -> float:
    """A rate stated at the two `RATE_POWERS_W` (`rates`), at `power_w`."""
    low_w, high_w = RATE_POWERS_W
    share = (min(max(power_w, low_w), high_w) - low_w) / (high_w - low_w)
    return rates[0] + (rates[1] - rates[0]) * share


def oxide_after_nm(
    oxide_nm: Nanometres, gas: Gas, power_w: float, duration_s: float, *, oxidises: bool
) -> Nanometres:
    """The oxide on exposed metal that had `oxide_nm` after `duration_s` of `gas` at
    `power_w`: O2 grows it on a metal that `oxidises` (`O2_OXIDE_SATURATION_NM`), Ar and
    forming gas take it off (`OXIDE_REMOVAL_NM_PER_MIN`), CF4/O2 leaves it."""
    if gas is Gas.O2:
        if not oxidises:
            return oxide_nm
        growth = 1 - math.exp(-duration_s / O2_OXIDE_TIME_CONSTANT_S)
        return oxide_nm + (O2_OXIDE_SATURATION_NM - oxide_nm) * growth
    rates = OXIDE_REMOVAL_NM_PER_MIN.get(gas)
    if rates is None:
        return oxide_nm
    left: Nanometres = np.maximum(oxide_nm - at_power(rates, power_w) * duration_s / 60, 0.0)
    return left


@dataclass(frozen=True)
class PlasmaStep:
    """One step of a plasma recipe."""

    gas: Gas
    flow_sccm: float
    pressure_mtorr: float
    rf_power_w: float
    time_s: float


@dataclass(frozen=True)
class PlasmaRecipe:
    """An ordered list of plasma steps run in one chamber cycle (e.g. O2 then Ar, 003:14)."""

    steps: tuple[PlasmaStep, ...]

    @property
    def total_time_s(self) -> float:
        return sum(step.time_s for step in self.steps)


@dataclass(frozen=True)
class PlasmaStatus:
    """One snapshot of the chamber."""

    chamber: ChamberState
    pressure_mtorr: float
    rf_forward_w: float
    rf_reflected_w: float
    gas_flow_sccm: float
    gas: Gas | None
    step: int
    step_remaining_s: float
    door_closed: bool
    recipes_completed: int

    def delivering(self) -> dict[str, tuple[float, str]]:
        """RF forward power and gas flow, each off in the safe state (`ChamberStatus`)."""
        return {"RF forward": (self.rf_forward_w, "W"), "gas flow": (self.gas_flow_sccm, "sccm")}


@dataclass(frozen=True)
class CleanResult:
    """What a finished chamber run reports."""

    wafer_ids: tuple[str, ...]
    process_time_s: float
    steps: int


class PlasmaCleaner(BatchChamber):
    """A batch plasma chamber with wafer slots, a door, a pump and an RF generator."""

    role = "plasma_cleaner"

    @abstractmethod
    async def request_status(self) -> PlasmaStatus:
        """A snapshot of pressure, RF, gas and the chamber cycle."""

    async def request_activity(self) -> str | None:
        """The chamber's state when not at rest, and the RF when it is on (in any state)."""
        status = await self.request_status()
        return self.activity(status, "RF on" if status.rf_forward_w > 0 else None)

    @abstractmethod
    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        """Run a plasma recipe on every wafer in the evacuated chamber, recording traces."""

    def step_gas(self, index: int, step: PlasmaStep) -> str:
        """The gas of the recipe's step `index` (from 0) as the chamber names it; ValueError
        naming the step when it is none of the chamber's gases. Nothing is sent."""
        try:
            return Gas(step.gas).value
        except ValueError:
            raise ValueError(
                f"{self.name}: clean step {index + 1}: gas {step.gas!r} is not one of "
                f"{', '.join(gas.value for gas in Gas)}"
            ) from None
