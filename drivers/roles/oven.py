"""The oven role: a batch oven under nitrogen that cures resin and reflows solder.

One thermal tool for both: a cure (the resin layers of 002:1g and 002:2, a profile that ramps
to the cure temperature and soaks) and a reflow (the balls of 001:3, the eutectic layer on
high-melting bumps of 003:19-21: ramp, soak, a peak above the solder's liquidus for a time,
then cooling). A batch of wafers or panels shares one run. The heating zones are temperature
controllers; the oven's own unit keeps the door, the slots and the nitrogen atmosphere, whose
residual oxygen decides whether molten solder wets.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

import numpy as np

from ..errors import SetupRefused
from .batch import BatchTool


class OvenState(IntEnum):
    """Where the oven is in its cycle."""

    IDLE = 0  # air inside, nitrogen off, heaters off: the door may open
    PURGING = 1  # nitrogen flowing, residual O2 falling to its limit
    INERT = 2  # O2 at or below its limit: a run may start
    RUNNING = 3  # heater supply on: the zones follow the profile
    FAULT = 4


#: The states in which the oven runs no purge and no profile (inert: the purge done, nitrogen
#: held); every other is working (`working`), a fault told by the alarms.
AT_REST = frozenset({OvenState.IDLE, OvenState.INERT, OvenState.FAULT})


class LastResult(IntEnum):
    """How the last run ended."""

    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


#: The gas constant, J/(mol K), and 0 degC in kelvin.
R_J_PER_MOL_K = 8.314462618
KELVIN = 273.15


#: How the oven's zones move the load (est; the line's process data): under control the load
#: follows the zones' working setpoint with the loop's time constant, rising at most at the
#: heaters' full power, and falls no faster than it cools with them off, towards the line's
#: room (`AMBIENT_C`, `clean_room.py`). So it lags a ramp, by 30 K at a 90 K/min one, and
#: creeps up to a peak the zones hold. The simulated oven's zones heat by these, and validate
#: works a reflow's time above the liquidus from them (`ReflowRecipe` in `sequences/solder.py`).
ZONE_LOOP_TIME_CONSTANT_S = 20.0
ZONE_MAX_HEAT_RATE_C_PER_S = 3.0
LOAD_COOLING_TIME_CONSTANT_S = 300.0
#: A segment of a profile is reached when the load is within this of its target (degC, est):
#: the driver starts the segment's hold then, and validate counts it from then.
SETTLE_BAND_C = 2.0
#: A zone's working setpoint is at a segment's target within this (degC): it has ramped there.
SETPOINT_AT_TARGET_C = 0.05
#: How long molten solder must stay above its liquidus to wet the metal under it and join it,
#: s (est; the line's process data): the simulated oven joins it only then, and validate
#: refuses a reflow's `min_time_above_liquidus_s` below it (the run's own check would pass
#: on balls that never joined).
REFLOW_WETTING_TIME_S = 20.0

#: The oxide a solder grows on a bump's surface as it solidifies in the purged oven, nm (est;
#: the line's process data): what a cleaning of reflowed solder bumps must take off (003:11),
#: judged before the run, and what the simulated oven leaves.
REFLOWED_BUMP_OXIDE_NM = 2.0
#: And the flux residue a ball reflowed into a bump leaves on it, nm (est; the line's).
REFLOWED_BUMP_FLUX_NM = 3.0
#: The pad a reflowed ball wets, as a fraction of the ball's diameter (balls are chosen for
#: their pads, 0.6-0.8 of the ball; the line's): the base of the bump it stands as, which
#: validate works a bump's height and a plated tip's area from, as the simulated oven does.
PAD_TO_BALL_RATIO = 0.7


#: Liquidus temperatures of the solders the oven reflows, degC (eutectic Sn-Pb, SAC305,
#: high-lead, and the low-melting eutectic Sn-Bi a dispenser jets into holes): a reflow's
#: peak must pass its solder's, and its time above it is reported.
LIQUIDUS_C: dict[str, float] = {
    "Sn42Bi58": 138.0,
    "Sn63Pb37": 183.0,
    "SAC305": 220.0,
    "Pb90Sn10": 302.0,
    "Pb95Sn5": 314.0,
}

#: Solidus temperatures of the same solders, degC: where each begins to melt (a eutectic at
#: its liquidus; SAC305, near-eutectic, 3 degC below it; the high-lead alloys over a pasty
#: range up to it). A high-melting core under a eutectic layer stays solid only below its
#: solidus (003:20).
SOLIDUS_C: dict[str, float] = {
    "Sn42Bi58": 138.0,
    "Sn63Pb37": 183.0,
    "SAC305": 217.0,
    "Pb90Sn10": 268.0,
    "Pb95Sn5": 308.0,
}


def checked_zone_trace_interval_s(tool: str, interval_s: float) -> float:
    """The station option `zone_trace_interval_s` of oven `tool` (how often a run logs its
    zones, s of process time; 0: as often as the load): `SetupRefused` unless it is one."""
    if not (math.isfinite(interval_s) and interval_s >= 0):
        raise SetupRefused(
            tool,
            f"zone_trace_interval_s must be a number of seconds, 0 or more, got {interval_s!r}",
        )
    return interval_s


#: The setpoint each limited field of a profile segment is sent as, by the field.
SEGMENT_SETPOINTS = {"target_c": "temperature_c", "rate_c_per_min": "ramp_rate_c_per_min"}


@dataclass(frozen=True)
class ProfileSegment:
    """Ramp every zone to `target_c` at `rate_c_per_min`, then hold `hold_s` once there."""

    target_c: float
    rate_c_per_min: float
    hold_s: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hold_s) and self.hold_s >= 0):
            raise ValueError(f"profile segment to {self.target_c:g} degC: hold_s must be >= 0")

    def load_settled(self, load_c: float, rising: bool) -> bool:
        """Whether a load at `load_c` has reached the target: within `SETTLE_BAND_C` of it or,
        coming from above (`rising` False), at or below it plus the band."""
        gap = load_c - self.target_c
        return abs(gap) <= SETTLE_BAND_C if rising else gap <= SETTLE_BAND_C

    def zones_at_target(self, working_setpoints_c: Iterable[float]) -> bool:
        """Whether every zone's working setpoint has ramped to the target (within
        `SETPOINT_AT_TARGET_C`): with the load settled, the segment is reached and its hold
        begins."""
        return all(abs(c - self.target_c) < SETPOINT_AT_TARGET_C for c in working_setpoints_c)


@dataclass(frozen=True)
class ThermalProfile:
    """A run's segments in order; `liquidus_c`, for a reflow, is the level whose time above
    the result reports (time above liquidus)."""

    segments: tuple[ProfileSegment, ...]
    liquidus_c: float | None = None

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a thermal profile needs at least one segment")

    def duration_s(self, start_c: float) -> float:
        """The profile's planned time from a load at `start_c`: each ramp at its rate, each
        hold (the time to a temperature the zones cannot reach at the rate is not in it)."""
        total, level = 0.0, start_c
        for segment in self.segments:
            total += abs(segment.target_c - level) / segment.rate_c_per_min * 60 + segment.hold_s
            level = segment.target_c
        return total

    @property
    def peak_c(self) -> float:
        return max(segment.target_c for segment in self.segments)


def cure_profile(
    cure_c: float,
    hold_s: float,
    *,
    ramp_c_per_min: float = 5.0,
    cool_to_c: float = 60.0,
    cool_c_per_min: float = 5.0,
) -> ThermalProfile:
    """Ramp to `cure_c`, soak `hold_s`, cool to `cool_to_c` (a resin cure)."""
    return ThermalProfile(
        (
            ProfileSegment(cure_c, ramp_c_per_min, hold_s),
            ProfileSegment(cool_to_c, cool_c_per_min),
        )
    )


def reflow_profile(
    *,
    soak_c: float,
    soak_s: float,
    peak_c: float,
    peak_hold_s: float,
    liquidus_c: float,
    ramp_c_per_min: float = 90.0,
    cool_to_c: float = 60.0,
    cool_c_per_min: float = 120.0,
) -> ThermalProfile:
    """Ramp to the soak, soak, ramp to the peak and hold it, cool (a solder reflow)."""
    return ThermalProfile(
        (
            ProfileSegment(soak_c, ramp_c_per_min, soak_s),
            ProfileSegment(peak_c, ramp_c_per_min, peak_hold_s),
            ProfileSegment(cool_to_c, cool_c_per_min),
        ),
        liquidus_c=liquidus_c,
    )


@dataclass(frozen=True)
class KamalCure:
    """A thermoset's cure kinetics (Kamal model); rates in 1/s, activation energies J/mol."""

    a1_per_s: float
    e1_j_per_mol: float
    a2_per_s: float
    e2_j_per_mol: float
    m: float
    n: float

    def rate_constants(self, temperature_c: float) -> tuple[float, float]:
        """The Arrhenius rate constants k1 and k2 at `temperature_c`, 1/s."""
        kelvin = temperature_c + KELVIN
        return (
            self.a1_per_s * math.exp(-self.e1_j_per_mol / (R_J_PER_MOL_K * kelvin)),
            self.a2_per_s * math.exp(-self.e2_j_per_mol / (R_J_PER_MOL_K * kelvin)),
        )

    def rate_per_s(self, alpha: float, temperature_c: float) -> float:
        """d alpha / dt at `alpha` and `temperature_c`."""
        return self.rate_at(alpha, self.rate_constants(temperature_c))

    def rate_at(self, alpha: float, rate_constants: tuple[float, float]) -> float:
        """d alpha / dt at `alpha` and the temperature whose rate constants (`rate_constants`)
        are given: what `cure` calls, which works each temperature's out once."""
        k1, k2 = rate_constants
        alpha = min(max(alpha, 0.0), 1.0)
        return float((k1 + k2 * alpha**self.m) * (1.0 - alpha) ** self.n)

    def cure(
        self, alpha: float, t: Sequence[float] | np.ndarray, temp: Sequence[float] | np.ndarray
    ) -> float:
        """The degree of cure after a load's history (its temperatures `temp` at the times
        `t`), from `alpha` before it.

        One Runge-Kutta step per stretch of the history over which the temperature moves less
        than `CURE_STEP_C` and which lasts at most `CURE_STEP_S` (the rates change by under 1 %
        per degree), the temperature linear in between. The rate constants at each temperature
        are worked out once: a step's two middle stages share them, and its end is the next
        step's start.
        """
        if len(t) < 2:
            return alpha
        start, at_start = 0, self.rate_constants(temp[0])
        while start < len(t) - 1:
            end = start + 1
            while (
                end < len(t) - 1
                and t[end + 1] - t[start] <= CURE_STEP_S
                and abs(temp[end + 1] - temp[start]) <= CURE_STEP_C
            ):
                end += 1
            dt = t[end] - t[start]
            at_middle = self.rate_constants((temp[start] + temp[end]) / 2)
            at_end = self.rate_constants(temp[end])
            k1 = self.rate_at(alpha, at_start)
            k2 = self.rate_at(alpha + dt * k1 / 2, at_middle)
            k3 = self.rate_at(alpha + dt * k2 / 2, at_middle)
            k4 = self.rate_at(alpha + dt * k3, at_end)
            alpha = min(alpha + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6, 1.0)
            start, at_start = end, at_end
        return alpha


#: The longest stretch of history one integration step of the cure takes, s and degC.
CURE_STEP_S = 20.0
CURE_STEP_C = 1.0


#: Cure kinetics of the resins the line uses (est; the line's process data): a 60 min soak
#: from uncured takes the epoxy to 0.945 at 150 degC and 0.62 at 120 degC, the polyimide to
#: 0.98 at 200 degC and 0.57 at 150 degC. A recipe's cure is judged by them before the run
#: (002:1g), and the simulated oven cures by them.
RESIN_CURE: dict[str, KamalCure] = {
    "epoxy": KamalCure(
        a1_per_s=1.32e5, e1_j_per_mol=70_000, a2_per_s=2.64e6, e2_j_per_mol=70_000, m=1, n=2
    ),
    "polyimide": KamalCure(
        a1_per_s=4.5e5, e1_j_per_mol=80_000, a2_per_s=9.0e6, e2_j_per_mol=80_000, m=1, n=2
    ),
}

#: The degree of cure from which a resin layer counts as cured (est).
CURED_ALPHA = 0.9


def cure_of_holds(kinetics: KamalCure, profile: ThermalProfile) -> float:
    """The degree of cure an uncured resin of `kinetics` reaches in the holds of `profile`,
    each at its temperature: what a recipe's cure is judged by. The ramps and the cool-down
    are not counted: the load lags the zones on its way up, and a cure judged by its hold
    alone is what the oven gives whatever its ramp (the simulated oven's 60 min at 150 degC
    reaches 0.945, its hold alone 0.9451)."""
    alpha = 0.0
    for segment in profile.segments:
        if segment.hold_s > 0:
            times = np.linspace(0.0, segment.hold_s, math.ceil(segment.hold_s / CURE_STEP_S) + 1)
            alpha = kinetics.cure(alpha, times, np.full(times.size, segment.target_c))
    return alpha


#: The solders that are eutectic: they melt at one temperature, without a pasty range (the
#: eutectic solder layer on high-melting bumps of 003:20).
EUTECTIC_SOLDERS = frozenset({"Sn42Bi58", "Sn63Pb37"})


@dataclass(frozen=True)
class OvenStatus:
    """One snapshot of the oven's own unit."""

    state: OvenState
    load_temperature_c: float
    o2_ppm: float
    n2_flow_slm: float
    door_closed: bool
    runs_completed: int


def oven_unsafe(status: OvenStatus) -> str | None:
    """What `status` shows that is not the safe state an oven's abort brings, on any wire: the
    heater supply still on (the oven still running); None once it is off."""
    return "heater supply still on (running)" if status.state is OvenState.RUNNING else None


@dataclass(frozen=True)
class ZoneStatus:
    """One heating zone as its controller reports it."""

    zone: int
    process_c: float
    target_c: float
    working_setpoint_c: float
    output_pct: float
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class ProfileResult:
    """What a finished run measured on the load (the batch's temperature) and the atmosphere."""

    wafer_ids: tuple[str, ...]
    process_time_s: float
    peak_c: float
    time_above_liquidus_s: float | None
    max_o2_ppm: float


@dataclass
class LoadRecord:
    """What a run measured on the load, one reading at a time (a driver's polls, a tool's
    trace samples): its peak, its time above the liquidus (interpolated linearly between two
    readings that straddle it) and the most residual O2."""

    last_time_s: float
    last_c: float
    peak_c: float
    above_liquidus_s: float = 0.0
    max_o2_ppm: float = 0.0

    def add(self, time_s: float, load_c: float, o2_ppm: float, liquidus_c: float | None) -> None:
        if liquidus_c is not None:
            a, b = self.last_c - liquidus_c, load_c - liquidus_c
            dt = time_s - self.last_time_s
            if a > 0 and b > 0:
                self.above_liquidus_s += dt
            elif a > 0 or b > 0:
                self.above_liquidus_s += dt * max(a, b) / (abs(a) + abs(b))
        self.last_time_s, self.last_c = time_s, load_c
        self.peak_c = max(self.peak_c, load_c)
        self.max_o2_ppm = max(self.max_o2_ppm, o2_ppm)

    def result(
        self, wafer_ids: tuple[str, ...], process_time_s: float, profile: ThermalProfile
    ) -> ProfileResult:
        """The run's result: what was measured, the tool's heater-on time."""
        return ProfileResult(
            wafer_ids=wafer_ids,
            process_time_s=process_time_s,
            peak_c=self.peak_c,
            time_above_liquidus_s=(
                self.above_liquidus_s if profile.liquidus_c is not None else None
            ),
            max_o2_ppm=self.max_o2_ppm,
        )


#: How long a recovery waits for a hot load to cool enough for the door, in process time.
RECOVERY_COOL_S = 3600.0


class Oven(BatchTool):
    """A batch oven with slots behind a door (opened only idle and cool), nitrogen and
    several heating zones."""

    role = "oven"
    activity_field = "state"
    at_rest = AT_REST

    async def _unload_everything(self) -> None:
        """Heaters off, nitrogen off once the load is cool, door open, every slot empty."""
        await self.cool_down(RECOVERY_COOL_S)
        status = await self.request_status()
        if status.state is not OvenState.IDLE:
            await self.stop_purge()
        if status.door_closed:
            await self.open_door()
        for wafer_id in await self.request_slots():
            if wafer_id is not None:
                await self.unload(wafer_id)

    def check_profile(
        self, action: str, profile: ThermalProfile, timeout_s: float | None
    ) -> ThermalProfile:
        """`profile` as it is sent, every segment's target and rate checked against the limits
        and held to them (`held_setpoints`: a target past a bound by rounding is the bound),
        and the timeout, before anything is sent (whatever wire the oven is on)."""
        if timeout_s is not None and not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(
                f"{self.name}: {action}: timeout_s must be a positive number of seconds, "
                f"got {timeout_s!r}"
            )
        segments = tuple(
            self.held_setpoints(f"{action} segment {index + 1}", segment, SEGMENT_SETPOINTS)
            for index, segment in enumerate(profile.segments)
        )
        if profile.liquidus_c is not None and not math.isfinite(profile.liquidus_c):
            raise ValueError(f"{self.name}: {action}: liquidus_c must be a temperature")
        return replace(profile, segments=segments)

    @abstractmethod
    async def request_status(self) -> OvenStatus:
        """A snapshot of the oven's state, load temperature and atmosphere."""

    @abstractmethod
    async def request_zone_temperatures_c(self) -> list[float]:
        """The process value of every heating zone, in zone order."""

    @abstractmethod
    async def request_zones(self) -> list[ZoneStatus]:
        """Every heating zone's controller: process value, setpoints, output, alarms."""

    @abstractmethod
    async def request_o2_ppm(self) -> float:
        """The residual oxygen of the atmosphere, ppm."""

    @abstractmethod
    async def purge(self, n2_flow_slm: float, o2_limit_ppm: float) -> float:
        """Flow nitrogen until the residual O2 is at or below `o2_limit_ppm`; returns it."""

    @abstractmethod
    async def stop_purge(self) -> None:
        """Stop the nitrogen (the oven takes air again)."""

    @abstractmethod
    async def run_profile(
        self, profile: ThermalProfile, timeout_s: float | None = None
    ) -> ProfileResult:
        """Run `profile` on the batch under the inert atmosphere, recording every zone's
        trace; `timeout_s` bounds it (by default the profile's planned time and a margin)."""

    @abstractmethod
    async def cool_down(self, timeout_s: float) -> None:
        """Heaters off and every zone in standby; wait until the load is cool enough for
        the door to open."""
