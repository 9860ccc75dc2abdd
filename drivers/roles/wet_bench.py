"""The wet bench role: heated chemical tanks a wafer is dipped in, each dip rinsed and dried.

Used by the claimed methods around the patterning of the wiring: stripping the resist mould
after plating (001:8, 001:11), etching the seed metal where the plated wiring does not cover
it (001:8, 001:11, 000:x3), and electroless plating of the thin metal film on the resin
(001:9). Development is not here: the litho cell develops its own films with its own
developer lines.

Each tank holds one chemistry at its set temperature (`Tank`); a dip immerses the wafer for a
time, then the bench rinses it in deionised water and spin-dries it. What a dip did is read
back from the bench's log (`DipResult`): how much of the film it works on was removed or
deposited, where the film it should have cleared is left, and where patterned metal was cut
through. One wafer at a time.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from ..equipment import Equipment


class Tank(StrEnum):
    """The bench's tanks (the names are the protocol's)."""

    STRIP = "STRIP"  # resist stripper (NMP based): removes the resist, leaves metal and resin
    CU_ETCH = "CU-ETCH"  # copper etchant (persulfate): etches the top copper films
    TI_ETCH = "TI-ETCH"  # barrier etchant (peroxide): etches Ti and TiW
    CU_ELESS = "CU-ELESS"  # electroless copper: a thin copper film on every activated surface


#: How many degC above its reference temperature a bath's rate doubles (an Arrhenius law
#: near room temperature, est).
RATE_DOUBLING_C = 10.0


@dataclass(frozen=True)
class BathRate:
    """A tank's rate at its reference temperature (stripping, etching or growing, by the
    tank), um/s."""

    rate_um_s: float
    reference_c: float

    def at_um_s(self, temperature_c: float, doubling_c: float = RATE_DOUBLING_C) -> float:
        """The rate at `temperature_c`: doubled every `doubling_c` above the reference."""
        return self.rate_um_s * math.pow(2.0, (temperature_c - self.reference_c) / doubling_c)

    def set_c_for(self, least_um_s: float, doubling_c: float = RATE_DOUBLING_C) -> float:
        """The coolest set temperature whose slowest rate (`band_um_s`) is `least_um_s`."""
        return (
            self.reference_c
            + doubling_c * math.log2(least_um_s / self.rate_um_s)
            + BATH_TOLERANCE_C
        )

    def least_clearing_s(self, metal_um: float, set_c: float) -> int:
        """The least dip, in whole seconds (at least 1), that takes `metal_um` off in a bath
        set to `set_c`, at the coolest it may dip."""
        return max(1, math.ceil(metal_um / self.band_um_s(set_c)[0]))

    def least_clearing_c(self, metal_um: float, time_s: float) -> int:
        """The coolest whole-degree set temperature at which a `time_s` dip takes `metal_um`
        off, at the coolest it may dip."""
        return math.ceil(self.set_c_for(metal_um / time_s))

    def band_um_s(self, set_c: float) -> tuple[float, float]:
        """The slowest and the fastest rate of a bath set to `set_c`: a dip may start anywhere
        within `BATH_TOLERANCE_C` of it."""
        return self.at_um_s(set_c - BATH_TOLERANCE_C), self.at_um_s(set_c + BATH_TOLERANCE_C)


#: How far from its set temperature a bath may be and still be at temperature: the bench
#: dips a wafer once its bath is within this of the setpoint (`TankStatus.at_temperature`),
#: so a dip may run anywhere in that band, and a recipe is judged across it (`BathRate.band_um_s`).
BATH_TOLERANCE_C = 1.0


#: Each tank's nominal rate (est), the line's process data: a recipe is checked against it
#: before any tool moves (a seed etch's thinning of the plated wiring), and the simulated
#: bench runs at it. The copper etch takes 0.6 um/min off copper at 30 degC.
BATH_RATES: dict[Tank, BathRate] = {
    Tank.STRIP: BathRate(0.05, 60.0),
    Tank.CU_ETCH: BathRate(0.01, 30.0),
    Tank.TI_ETCH: BathRate(0.005, 40.0),
    Tank.CU_ELESS: BathRate(0.001, 60.0),
}


#: The metals each tank works on, by their symbols: what its etchant takes off, or what its
#: bath grows (electroless copper). validate counts a seed's films by them, and the simulated
#: bench etches and grows them.
BATH_METALS: dict[Tank, frozenset[str]] = {
    Tank.STRIP: frozenset(),
    Tank.CU_ETCH: frozenset({"Cu"}),
    Tank.TI_ETCH: frozenset({"Ti", "TiW"}),
    Tank.CU_ELESS: frozenset({"Cu"}),
}


class BenchState(StrEnum):
    """What the bench is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    DIPPING = "DIPPING"
    RINSING = "RINSING"  # rinse and spin dry after a dip
    FAULT = "FAULT"


#: The states in which the bench runs no dip; every other is working (`working`), a fault told by
#: the alarms.
AT_REST = frozenset({BenchState.IDLE, BenchState.FAULT})


@dataclass(frozen=True)
class BenchStatus:
    """One snapshot of the bench."""

    state: BenchState
    wafer_id: str | None
    tank: Tank | None  # the tank of the dip running (or last run)
    remaining_s: float
    jobs_completed: int


@dataclass(frozen=True)
class TankStatus:
    """One tank: its bath's temperature, the set temperature, and the bath's age."""

    tank: Tank
    temperature_c: float
    set_temperature_c: float
    dips: int  # wafers the bath has processed since it was poured

    @property
    def at_temperature(self) -> bool:
        return abs(self.temperature_c - self.set_temperature_c) <= BATH_TOLERANCE_C


@dataclass(frozen=True)
class DipResult:
    """What the last dip did to the wafer, from the bench's log."""

    wafer_id: str
    tank: Tank
    time_s: float
    temperature_c: float
    change_um: float  # mean thickness change of the film the tank works on (- removed, + grown)
    left_sites: int  # sites where what the tank should clear is still there
    opened_sites: int  # sites whose patterned metal the dip cut through


class WetBench(Equipment):
    """A wet bench: a robot, heated chemical tanks, a rinse tank and a spin dryer."""

    role = "wet_bench"
    activity_field = "state"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = (await self.request_status()).wafer_id
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        for wafer_id in await self.request_workpieces():
            await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> BenchStatus:
        """State, loaded wafer, the dip running, time left, dips completed."""

    @abstractmethod
    async def request_tank(self, tank: Tank) -> TankStatus:
        """One tank's bath temperature, set temperature and age."""

    @abstractmethod
    async def request_last_dip(self) -> DipResult | None:
        """What the last dip did (None before the first)."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Take wafer `wafer_id` into the bench's robot; the bench must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Return wafer `wafer_id` to its carrier; it must be the one loaded."""

    @abstractmethod
    async def heat_bath(
        self, tank: Tank, temperature_c: float, *, timeout_s: float | None = None
    ) -> TankStatus:
        """Set a tank's bath temperature and wait until the bath is at it."""

    @abstractmethod
    async def strip_resist(self, time_s: float, *, timeout_s: float | None = None) -> DipResult:
        """Dip the wafer in the stripper for `time_s`: the resist dissolves at the bath's rate."""

    @abstractmethod
    async def etch(self, tank: Tank, time_s: float, *, timeout_s: float | None = None) -> DipResult:
        """Dip the wafer in an etchant (`CU-ETCH`, `TI-ETCH`) for `time_s`: the tank's metal
        is etched where nothing covers it (resist, or a thicker film of the same metal
        thinned by as much)."""

    @abstractmethod
    async def plate_electroless(
        self, time_s: float, *, timeout_s: float | None = None
    ) -> DipResult:
        """Dip the wafer in the electroless copper bath for `time_s`: a thin copper film grows
        by the bath's rate over the wafer's surface (001:9)."""
