"""The laminator role: a vacuum laminator that presses an adhesive resin sheet onto a wafer.

Used by the claimed methods to form the resin-sealing layer through which the bumps project
(001:1b, 001:7, 003:7.2): the sheet's resin layer sits on a support; under vacuum, heat and
pressure the bumps penetrate the resin, and afterwards a film support is peeled off (001:7)
while a metal-film support stays on the wafer, touched by the bump tips (001:10).

One wafer at a time: load it, laminate (evacuate, hold the vacuum, heat, press, vent, cool),
peel the film support once the platen is cool, unload it.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .single_wafer import SingleWaferTool


class SupportKind(StrEnum):
    """What carries the resin layer of the sheet."""

    FILM = "film"  # a polymer film, peeled off after lamination (001:7)
    METAL_FILM = "metal-film"  # a metal foil that stays and becomes the wiring (001:10)


class LaminatorPhase(IntEnum):
    """Where the laminator is in its cycle."""

    READY = 0  # at atmosphere, nothing moving: load, unload, start, peel allowed
    EVACUATING = 1
    VACUUM_HOLD = 2
    HEATING = 3
    PRESSING = 4
    VENTING = 5
    COOLING = 6
    PEELING = 7
    FAULT = 8


#: The phases in which the laminator runs no job; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({LaminatorPhase.READY, LaminatorPhase.FAULT})


class JobResult(IntEnum):
    """How the last lamination job ended."""

    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


#: The step the laminator takes a metal-film support's foil thickness in (its job block's
#: register of it counts tenths of a micrometre): a recipe states a foil on this step.
FOIL_STEP_UM = 0.1


def foil_steps_around(foil_um: float) -> tuple[float, float] | None:
    """The two foils on `FOIL_STEP_UM` either side of `foil_um`, if it is off that step (None:
    on it): the register would hold another foil than the one stated."""
    steps = foil_um / FOIL_STEP_UM
    if math.isclose(steps, round(steps)):
        return None
    below = math.floor(steps)
    return round(below * FOIL_STEP_UM, 6), round((below + 1) * FOIL_STEP_UM, 6)


#: The step the laminator takes a resin sheet's thickness in (its register counts tenths of a
#: micrometre too).
SHEET_STEP_UM = 0.1

#: How far the laminated resin's thickness scatters over a wafer about the sheet's: 1 sigma as
#: a fraction of it, and how many sigmas out the scatter reaches (est; the laminator's figures,
#: qualified on the line). A recipe's sheet is judged before the run by the thickest it lays
#: (`thickest_laminated_um`); the simulated laminator lays it so.
RESIN_SPREAD_FRACTION = 0.01
RESIN_SPREAD_SIGMAS = 3.0


@dataclass(frozen=True)
class ResinSmear:
    """The resin smear a bump tip that pierces a film-supported sheet keeps, nm, pressed at
    `reference_c` and `reference_mpa`; hotter resin runs off the tip (e-fold thinner per
    `temperature_scale_c`), more pressure squeezes it off (as the pressure's inverse to
    `pressure_exponent`); it scatters from tip to tip by `spread_fraction` (1 sigma), to
    `spread_sigmas`."""

    nm: float
    reference_c: float
    reference_mpa: float
    temperature_scale_c: float
    pressure_exponent: float
    spread_fraction: float
    spread_sigmas: float

    def mean_nm(self, temperature_c: float, pressure_mpa: float) -> float:
        """The mean smear on the tips of a sheet pressed at `temperature_c`, `pressure_mpa`."""
        thermal = math.exp(-(temperature_c - self.reference_c) / self.temperature_scale_c)
        mechanical = (self.reference_mpa / pressure_mpa) ** self.pressure_exponent
        return float(self.nm * thermal * mechanical)

    def thickest_nm(self, temperature_c: float, pressure_mpa: float) -> float:
        """The most smear any tip keeps (the mean at its scatter's end)."""
        scatter = 1.0 + self.spread_sigmas * self.spread_fraction
        return self.mean_nm(temperature_c, pressure_mpa) * scatter


#: The line's smear (est; the laminator's figures, qualified on the line): 300 nm at 100 degC
#: and 0.5 MPa, e-fold thinner per 40 degC, as the pressure's inverse to the power 0.5, 20 %
#: from tip to tip to 3 sigma. What a cleaning must take off (003:10), judged before the run,
#: and what the simulated laminator leaves.
SMEAR = ResinSmear(300.0, 100.0, 0.5, 40.0, 0.5, 0.2, 3.0)


def thickest_laminated_um(sheet_um: float) -> float:
    """The thickest resin a sheet of `sheet_um` lays anywhere on a wafer."""
    return sheet_um * (1.0 + RESIN_SPREAD_SIGMAS * RESIN_SPREAD_FRACTION)


def thinnest_laminated_um(sheet_um: float) -> float:
    """The thinnest resin a sheet of `sheet_um` lays anywhere on a wafer."""
    return sheet_um * (1.0 - RESIN_SPREAD_SIGMAS * RESIN_SPREAD_FRACTION)


def thickest_sheet_below_um(top_um: float) -> float:
    """The thickest sheet on `SHEET_STEP_UM` whose thickest laminated resin stays below
    `top_um` (the shortest bump's tip): what a refusal suggests."""
    steps = math.ceil(top_um / thickest_laminated_um(1.0) / SHEET_STEP_UM) - 1
    return round(steps * SHEET_STEP_UM, 6)


@dataclass(frozen=True)
class ResinSheet:
    """The adhesive resin sheet laid on the wafer: its resin layer, what carries it, and a
    metal-film support's foil thickness (the wiring's metal once laminated, 001:10-11; a film
    support has none)."""

    resin_thickness_um: float
    support: SupportKind
    foil_thickness_um: float = 0.0

    def __post_init__(self) -> None:
        has_foil = self.foil_thickness_um > 0
        if has_foil != (self.support is SupportKind.METAL_FILM):
            raise ValueError(
                f"sheet foil_thickness_um = {self.foil_thickness_um:g} um with a "
                f"{self.support.value} support: a metal-film support is a foil of some "
                "thickness, a film support has none"
            )
        around = foil_steps_around(self.foil_thickness_um)
        if around is not None:
            raise ValueError(
                f"sheet foil_thickness_um = {self.foil_thickness_um:g} um: the laminator takes "
                f"the foil in {FOIL_STEP_UM:g} um steps: {around[0]:g} um or {around[1]:g} um"
            )


@dataclass(frozen=True)
class PressRecipe:
    """How the sheet is laminated: vacuum, heat, press, and how cool the platen ends."""

    vacuum_pa: float
    vacuum_hold_s: float
    temperature_c: float
    press_pressure_mpa: float
    press_time_s: float
    cool_to_c: float = 35.0


@dataclass(frozen=True)
class LaminationJob:
    """One lamination: the sheet and the press recipe."""

    sheet: ResinSheet
    recipe: PressRecipe


@dataclass(frozen=True)
class LaminatorStatus:
    """One snapshot of the laminator."""

    phase: LaminatorPhase
    platen_temperature_c: float
    chamber_pressure_pa: float
    press_pressure_mpa: float
    step_remaining_s: float
    progress_pct: float
    job_time_s: float
    jobs_completed: int
    last_result: JobResult
    wafer_loaded: bool
    support_on_wafer: SupportKind | None
    peel_below_c: float

    def why_not_peelable(self) -> str | None:
        """Why no support can be peeled off what is on the platen, or None if a film can: the
        rule both faces of the laminator refuse a peel by before anything is sent."""
        if not self.wafer_loaded:
            return "no wafer on the platen"
        if self.support_on_wafer is SupportKind.METAL_FILM:
            return "the support is a metal film, which stays on the wafer (claim 001:10)"
        if self.support_on_wafer is None:
            return "no film support on the wafer to peel"
        return None


@dataclass(frozen=True)
class LaminationResult:
    """What a finished lamination reports, with the job's extremes as the tool kept them."""

    wafer_id: str
    sheet: ResinSheet
    process_time_s: float
    peak_temperature_c: float
    best_vacuum_pa: float
    peak_press_pressure_mpa: float


class Laminator(SingleWaferTool):
    """A single-wafer vacuum laminator with a heated platen, a press and a peel unit."""

    role = "laminator"
    activity_field = "phase"
    at_rest = AT_REST

    @abstractmethod
    async def request_status(self) -> LaminatorStatus:
        """A snapshot of phase, platen temperature, vacuum, press pressure and the wafer."""

    @abstractmethod
    async def laminate(self, job: LaminationJob) -> LaminationResult:
        """Laminate the sheet onto the loaded wafer: vacuum, heat, press, vent, cool."""

    @abstractmethod
    async def cool(self, to_c: float) -> float:
        """Cool the platen (forced) until it is at or below `to_c`; returns the temperature."""

    @abstractmethod
    async def peel_support(self) -> None:
        """Peel the film support off the laminated wafer; the platen must be cool."""
