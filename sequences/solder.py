"""Solder on the line, for every method that solders: balls on the ball mounter, reflows in
the oven, solder plated in the plating cell; and the oven's batch cycle and the plating cell's
step that any method's cure or plating runs.

* `SolderBallRecipe` and `mount_balls`: flux, then solder balls of one diameter and alloy on
  the first `balls_per_unit` sites of every die, inspected, missing and second balls repaired
  (none missing, extra or bridged then), then reflowed. On bare pads the reflowed balls are
  solder bumps (003:7.1 with solder bumps); on conducting paths they are terminals (001:3).
* `ReflowRecipe` and `reflow`: a batch of wafers in the oven under nitrogen, a profile whose
  peak passes the solder's liquidus, cooled before the door opens.
* `PlatingStep` and `electroplate`: one electroplating step (metal, current density,
  thickness), with the thinnest deposit the product needs: a solder layer, or a method's
  copper wiring. The cell sets the current over the area it measures; the area the method's
  design plates (`mask_area_cm2`: what a mould's reticle opens) is what it checks that area
  against, and what a stated `plated_area_cm2` is checked against before any tool moves
  (`PlatingStep.require_real_area`).
* `oven_cycle`: load an oven batch, purge it with nitrogen, run one process step, cool it for
  the door and unload it: the reflows here and every method's cure;
  `require_cooling_below_the_hold`, every cure's check that it cools below its hold.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, ClassVar, Self

from pydantic import Field

from packline.drivers.roles.ball_mounter import (
    BALL_DIAMETER_TOLERANCE_UM,
    FLUX_HOLD_RATIO,
    FLUX_SPREAD,
    FLUX_SPREAD_SIGMAS,
    MAX_MAP_POSITIONS,
    SWIM_RATIO,
    BallAlloy,
    BallMap,
    BallMounter,
    FluxMethod,
    ball_reach_um,
    ball_sag_um,
    ball_stray_um,
    least_flux_um,
)
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.electroplater import (
    BATH_TOLERANCE_C as PLATING_BATH_TOLERANCE_C,
)
from packline.drivers.roles.electroplater import (
    METALS,
    SOLDER_ALLOYS,
    XRF_DECIMALS,
    Electroplater,
    Metal,
    PlatingRecipe,
    accepted_area_cm2,
    area_mismatch,
    current_window_a_dm2,
)
from packline.drivers.roles.lithography import RETICLES
from packline.drivers.roles.oven import (
    LIQUIDUS_C,
    REFLOW_WETTING_TIME_S,
    SOLIDUS_C,
    Oven,
    ThermalProfile,
    reflow_profile,
)
from packline.drivers.roles.wet_bench import BATH_TOLERANCE_C, BathRate
from packline.sequences.engine import (
    Batch,
    Feeds,
    Handling,
    Recipe,
    ToolSetpoint,
    Wafer,
    claim_violation,
    every_problem,
    field_problem,
    least_whole,
    recipe_check,
)
from packline.sequences.engine.recipe_meta import (
    COOLS_IN_4_HOURS,
    WAITS_A_DAY_AT_MOST,
    AtLeastFor,
    Because,
    tool_range,
)
from packline.sim_instruments.physics.electroplater import PlatingPhysics, cathode_efficiency
from packline.sim_instruments.physics.oven import LINE_POLL_INTERVAL_S, OVEN_PLANT, LoadHistory
from packline.sim_instruments.twin import WaferSpec, wafer_site_count
from packline.units import Unit

from .plasma_clean import load_wafers, unload_wafers
from .suggestion_rounding import least_that_passes, most_that_passes, rounded_down, rounded_up

#: The longest a reflow may keep its solder molten, s (`TOO_LONG_MOLTEN`): the most time above
#: the liquidus a recipe may ask, a profile may give its load, and a run's measurement passes.
LONGEST_MOLTEN_S = 300
#: The longest hold at its peak a reflow may ask of the oven, s: molten all along.
LONGEST_PEAK_HOLD_S = LONGEST_MOLTEN_S
#: Why a reflow holds the solder molten 5 minutes at most.
TOO_LONG_MOLTEN = Because(
    "solder molten longer than 5 min grows its intermetallic layer brittle and the pads "
    "dissolve into it"
)
#: Why a unit takes at most 256 balls (`MAX_MAP_POSITIONS`).
BALL_MAP = Because(f"the ball mounter's map addresses {MAX_MAP_POSITIONS} sites a unit")


def time_above_liquidus_s(profile: ThermalProfile) -> float:
    """How long a load stays above the liquidus of a reflow's `profile` at the least, as the
    oven's zones move it (`OVEN_PLANT`, the line's figures): every zone's working setpoint
    ramps to each segment's target at its rate and the load follows it, lagging; a segment
    is reached when the load has settled at its target (`ProfileSegment.load_settled`, the
    drivers' rule) with the working setpoint there, and its hold counts from then.
    Stepped as the simulated oven steps (`LOAD_STEP_S`) and measured as it measures
    (`LoadHistory.time_above_s`); the driver, which polls the oven, finds a segment reached
    at a poll after it is, so its holds are longer, never shorter. The load starts in the
    line's room (`AMBIENT_C`); it stops once it has fallen back below the liquidus after the
    peak."""
    assert profile.liquidus_c is not None, "a reflow's profile has its liquidus"
    liquidus_c, peak_c = profile.liquidus_c, profile.peak_c
    load_c = working_c = AMBIENT_C
    now_s, history = 0.0, LoadHistory()
    history.add(now_s, load_c, 0.0)
    for segment in profile.segments:
        rising = segment.target_c >= load_c
        held_from_s: float | None = None
        travel_c = segment.rate_c_per_min * LOAD_STEP_S / 60
        while held_from_s is None or now_s - held_from_s < segment.hold_s:
            gap_c = segment.target_c - working_c
            working_c += math.copysign(min(abs(gap_c), travel_c), gap_c)
            load_c, _ = OVEN_PLANT.controlled(load_c, working_c, LOAD_STEP_S)
            now_s += LOAD_STEP_S
            history.add(now_s, load_c, 0.0)
            if segment.target_c < peak_c and load_c < liquidus_c < history.peak_c:
                return history.time_above_s(liquidus_c)
            settled = segment.load_settled(load_c, rising)
            if held_from_s is None and settled and working_c == segment.target_c:
                held_from_s = now_s
    return history.time_above_s(liquidus_c)


#: The step `time_above_liquidus_s` follows the load in, s (the simulated oven steps as finely).
LOAD_STEP_S = 1.0
#: How much longer than `time_above_liquidus_s` a run may keep its load molten, s: the driver
#: starts the peak's hold at the poll that finds the load there and ends it at the poll after
#: the hold, each up to a poll of the line's oven late (`LINE_POLL_INTERVAL_S`).
HOLD_LATE_S = 2 * LINE_POLL_INTERVAL_S


def _molten_text(alloy: str, reached_s: float) -> str:
    """How long a reflow's profile keeps solder of `alloy` molten, by the line's figures, as
    its refusals say it."""
    return (
        f"the load lags the oven's zones (the line's figures) and stays above the liquidus of "
        f"{alloy} ({LIQUIDUS_C[alloy]:g} degC) {reached_s:.1f} s of this profile"
    )


class ReflowRecipe(Recipe):
    """A solder reflow in the oven under nitrogen: ramp to a soak, hold, ramp to a peak above
    the solder's liquidus, hold, cool; the door opens once the load is cool."""

    n2_flow_slm: Annotated[float, Unit("slm"), Feeds("oven", "n2_flow_slm")] = 20.0
    o2_limit_ppm: Annotated[float, Unit("ppm"), Feeds("oven", "o2_limit_ppm")] = 100.0
    soak_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    soak_s: Annotated[
        float,
        Unit("s"),
        Field(ge=0, le=600),
        Because("a soak longer than 10 min spends the flux before the peak, which it must wet"),
    ]
    peak_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    peak_hold_s: Annotated[float, Unit("s"), Field(ge=0, le=LONGEST_PEAK_HOLD_S), TOO_LONG_MOLTEN]
    ramp_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 90.0
    cool_to_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")] = 60.0
    cool_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 120.0
    #: the time above the liquidus the solder needs to wet: a shorter one holds the batch
    min_time_above_liquidus_s: Annotated[
        float, Unit("s"), Field(ge=0, le=LONGEST_MOLTEN_S), TOO_LONG_MOLTEN
    ] = 20.0
    #: how long the load may take to cool enough for the door after the profile
    cool_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=4 * 3600), COOLS_IN_4_HOURS] = 1800.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        3600.0
    )

    def require_joins(
        self,
        alloy: str,
        claim: str | None,
        section: str,
        what: str,
        *,
        peak_below_c: float | None = None,
    ) -> None:
        """Refuse the reflow (the section at `section` in the recipe, naming `claim`) if it
        would not join the solder of `alloy` (`what`, plural): its peak does not pass the
        liquidus; or, each its own problem, its `min_time_above_liquidus_s` is below the
        line's wetting time (`REFLOW_WETTING_TIME_S`: the run's check would pass on solder
        that never wet), or the load, lagging the zones, stays above the liquidus less than
        either (`time_above_liquidus_s`: the run would hold the batch). That refusal gives
        the least `peak_hold_s`, and the least `peak_c` below `peak_below_c` (the oven's
        hottest when None) at this hold. First, its soak and its cool-to must each be below
        its peak (`_require_a_peak`), else nothing more of it is judged."""
        every_problem(
            functools.partial(self._require_a_peak, claim, section, what, field, value_c, why)
            for field, value_c, why in (
                ("soak_c", self.soak_c, "the profile ramps from its soak up to its peak"),
                ("cool_to_c", self.cool_to_c, "the load cools from its peak down to it"),
            )
        )
        liquidus = LIQUIDUS_C[alloy]
        if self.peak_c <= liquidus:
            raise claim_violation(
                claim,
                f"{section}.peak_c",
                f"{self.peak_c:g} degC",
                f"must be above the liquidus of {alloy} ({liquidus:g} degC): {what} would not melt",
            )
        every_problem(
            (
                functools.partial(self._require_the_wetting_time, claim, section, what),
                functools.partial(
                    self._require_time_above, alloy, claim, section, what, peak_below_c
                ),
            )
        )

    def _require_a_peak(
        self, claim: str | None, section: str, what: str, field: str, value_c: float, why: str
    ) -> None:
        """A soak or cool-to (`field`) at or above the peak contradicts the profile the recipe
        reads as: it is the profile's real peak, the one that melts the solder, and the checks
        of the peak (the liquidus, a core's, the time above) would judge another. So it is
        refused naming the reflow's claim."""
        if value_c >= self.peak_c:
            raise claim_violation(
                claim,
                f"{section}.{field}",
                f"{value_c:g} degC",
                f"must be below peak_c = {self.peak_c:g} degC: {why}; one as hot is the "
                f"profile's real peak, the one that melts {what}, which validate would not judge",
            )

    def _require_the_wetting_time(self, claim: str | None, section: str, what: str) -> None:
        if self.min_time_above_liquidus_s < REFLOW_WETTING_TIME_S:
            raise claim_violation(
                claim,
                f"{section}.min_time_above_liquidus_s",
                f"{self.min_time_above_liquidus_s:g} s",
                f"molten solder wets the metal under it and joins it only after "
                f"{REFLOW_WETTING_TIME_S:g} s above its liquidus (the line's wetting time): "
                f"a run checked against less would pass with {what} unjoined; give at least "
                f"{REFLOW_WETTING_TIME_S:g} s",
            )

    def _require_time_above(
        self,
        alloy: str,
        claim: str | None,
        section: str,
        what: str,
        peak_below_c: float | None,
    ) -> None:
        needed_s = max(self.min_time_above_liquidus_s, REFLOW_WETTING_TIME_S)

        def above_s(**change: float) -> float:
            return time_above_liquidus_s(self.model_copy(update=change).profile(alloy))

        reached_s = above_s()
        if reached_s + HOLD_LATE_S > LONGEST_MOLTEN_S:
            self._refuse_too_long_molten(alloy, claim, section, what, reached_s, needed_s, above_s)
        if reached_s >= needed_s:
            return
        longest_s = LONGEST_PEAK_HOLD_S
        advice = []
        if above_s(peak_hold_s=longest_s) >= needed_s:
            least_s = least_whole(
                self.peak_hold_s, longest_s, lambda s: above_s(peak_hold_s=s) >= needed_s
            )
            advice.append(f"give at least {least_s} s")
        hottest_c = tool_range("oven", "temperature_c").maximum
        if peak_below_c is not None:
            hottest_c = min(hottest_c, math.ceil(peak_below_c) - 1)
        if hottest_c > self.peak_c and above_s(peak_c=hottest_c) >= needed_s:
            least_c = least_whole(self.peak_c, hottest_c, lambda c: above_s(peak_c=c) >= needed_s)
            advice.append(f"peak_c at least {least_c} degC (at this hold)")
        raise claim_violation(
            claim,
            f"{section}.peak_hold_s",
            f"{self.peak_hold_s:g} s",
            f"{_molten_text(alloy, reached_s)}, short of the {needed_s:g} s it must "
            "(min_time_above_liquidus_s, at least the line's wetting time): the run would hold "
            f"the batch at its reflow, {what} unjoined; "
            + (", or ".join(advice) if advice else "no hold or peak the oven takes gives it"),
        )

    def _refuse_too_long_molten(
        self,
        alloy: str,
        claim: str | None,
        section: str,
        what: str,
        reached_s: float,
        needed_s: float,
        above_s: Callable[..., float],
    ) -> None:
        """Refuse a profile whose load, lagging the zones, may stay above the liquidus of
        `alloy` longer than solder may stay molten (`reached_s` of it, and the driver's hold
        `HOLD_LATE_S` later, over `LONGEST_MOLTEN_S`: a peak far above the liquidus, as a
        high-lead profile's 345 degC for SAC305 balls, or a long hold): the run would hold the
        batch at its reflow, or, before the run measured it, pass brittle joints. The refusal
        gives the most `peak_hold_s`, and the most `peak_c` at this hold, that keep it molten
        long enough to wet (`needed_s`) and no longer."""

        def short_enough(**change: float) -> bool:
            return above_s(**change) + HOLD_LATE_S <= LONGEST_MOLTEN_S

        def most_whole(field: str, least: float, now: float) -> int | None:
            """The most whole `field` from `least` up to `now` that keeps the load molten no
            longer than it may, if it keeps it molten long enough to wet (None: none does)."""
            if not short_enough(**{field: least}):
                return None
            most = -least_whole(-now, -least, lambda m: short_enough(**{field: -m}))
            return most if above_s(**{field: most}) >= needed_s else None

        advice = []
        if (most_s := most_whole("peak_hold_s", 0, self.peak_hold_s)) is not None:
            advice.append(f"give at most {most_s} s")
        coolest_c = math.floor(LIQUIDUS_C[alloy]) + 1
        if (most_c := most_whole("peak_c", coolest_c, self.peak_c)) is not None:
            advice.append(f"peak_c at most {most_c} degC (at this hold)")
        raise claim_violation(
            claim,
            f"{section}.peak_hold_s",
            f"{self.peak_hold_s:g} s",
            f"{_molten_text(alloy, reached_s)}, up to {reached_s + HOLD_LATE_S:.1f} s as a "
            f"driver polling the oven every {LINE_POLL_INTERVAL_S:g} s holds its peak, longer "
            f"than the {LONGEST_MOLTEN_S:g} s solder may stay molten ({TOO_LONG_MOLTEN.reason}): "
            f"{what} would join brittle; "
            + (", or ".join(advice) if advice else "no hold or peak the oven takes fits"),
        )

    def profile(self, alloy: str) -> ThermalProfile:
        """The oven's profile for a solder of `alloy` (its liquidus is the level reported)."""
        return reflow_profile(
            soak_c=self.soak_c,
            soak_s=self.soak_s,
            peak_c=self.peak_c,
            peak_hold_s=self.peak_hold_s,
            liquidus_c=LIQUIDUS_C[alloy],
            ramp_c_per_min=self.ramp_c_per_min,
            cool_to_c=self.cool_to_c,
            cool_c_per_min=self.cool_c_per_min,
        )


class SolderBallRecipe(Recipe):
    """Solder balls fluxed and mounted on the first `balls_per_unit` sites of every die (all
    its pads: a full array), inspected, then reflowed in the oven."""

    balls_per_unit: Annotated[int, Field(strict=True, ge=1, le=MAX_MAP_POSITIONS), BALL_MAP]
    flux_method: FluxMethod = FluxMethod.PRINT
    flux_thickness_um: Annotated[float, Unit("um"), Feeds("ball_mounter", "flux_thickness_um")]
    ball_diameter_um: Annotated[float, Unit("um"), Feeds("ball_mounter", "ball_diameter_um")]
    alloy: BallAlloy = BallAlloy.SAC305
    reflow: ReflowRecipe

    #: the claim whose balls a reflow below the liquidus leaves unjoined, named in its refusal
    #: (a method's own terminals say which; None: the refusal names none)
    liquidus_claim: ClassVar[str | None] = None
    #: the claim whose balls the mount sets on their sites, named in a flux's refusal (None:
    #: `liquidus_claim`, where the balls are the claim's own)
    mount_claim: ClassVar[str | None] = None

    @recipe_check
    def _flux_that_holds_the_balls(self) -> Self:
        """The thinnest flux deposit holds every ball (`least_flux_um`, the ball mounter's
        figures): a thinner one loses balls, and the repair head, holding them no better,
        never ends (a 5 um flux held the wafer at 'repair missing ... balls')."""
        least = least_flux_um(self.flux_method, self.ball_diameter_um)
        if self.flux_thickness_um < least:
            raise claim_violation(
                self.mount_claim or self.liquidus_claim,
                "flux_thickness_um",
                f"{self.flux_thickness_um:g} um",
                f"the flux holds a ball only where it is at least {FLUX_HOLD_RATIO:g} of its "
                f"diameter thick, and a {self.flux_method.value} lays it within "
                f"{FLUX_SPREAD[self.flux_method]:.0%} of the set thickness (1 sigma, to "
                f"{FLUX_SPREAD_SIGMAS:g} sigma, the ball mounter's figures): for its "
                f"{self.ball_diameter_um:g} um balls give at least {least:g} um",
            )
        return self

    @recipe_check
    def _a_reflow_that_joins_them(self) -> Self:
        self.reflow.require_joins(self.alloy.value, self.liquidus_claim, "reflow", "the balls")
        return self

    def ball_map(self) -> BallMap:
        return BallMap.every(self.balls_per_unit)

    @staticmethod
    def _apart_at(reach_um: float, pitch_um: float) -> bool:
        """Balls that reach `reach_um` from their sites stay apart at `pitch_um`."""
        return 2 * reach_um < pitch_um

    def require_through_the_resist(
        self,
        opening_um: float,
        resist_um: float,
        claim: str,
        resist: str,
        path: str,
        *,
        thinnest_um: float = 0.0,
        thinner_by: str = "",
        openings_by: Callable[[float], str] | None = None,
    ) -> None:
        """Refuse balls (the section at `path`, naming `claim`) that cannot reach the metal
        through a resin `resist_um` thick (named `resist`: a solder resist, the resin over an
        interconnect) opened `opening_um` across: a ball sinks into its opening by its sag
        (`ball_sag_um`, by which the simulated oven joins it), sitting on the rim above a
        thicker resin, unjoined. The largest sphere of the balls' tolerance
        (`BALL_DIAMETER_TOLERANCE_UM`) sinks the least, so it is the one judged. The refusal
        gives the widest nominal ball that reaches (where the mounter takes one), the
        thickest resin (where it is no thinner than `thinnest_um`, the least the claims let
        the recipe thin it to, and `thinner_by` what does) and the narrowest opening it
        reaches through, with what makes it (`openings_by` of that width: a reticle whose
        holes develop so wide)."""
        largest_um = self.ball_diameter_um + BALL_DIAMETER_TOLERANCE_UM

        def reaches_the_metal(sphere_um: float, through_um: float) -> bool:
            """A sphere of `sphere_um` set in an opening `through_um` across sinks through
            the resin to the metal."""
            return ball_sag_um(sphere_um, through_um) >= resist_um

        if reaches_the_metal(largest_um, opening_um):
            return
        sag_um = ball_sag_um(largest_um, opening_um)
        reaching_um = ((opening_um / 2) ** 2 + resist_um**2) / resist_um  # sag = resin
        widest_um = most_that_passes(
            reaching_um - BALL_DIAMETER_TOLERANCE_UM,
            1,
            lambda ball_um: reaches_the_metal(ball_um + BALL_DIAMETER_TOLERANCE_UM, opening_um),
        )
        thickest_um = rounded_down(sag_um, 1)
        radius_um = largest_um / 2  # the opening whose rim holds the ball resist_um deep
        narrowest_um = least_that_passes(
            2 * math.sqrt(2 * radius_um * resist_um - resist_um**2),
            1,
            lambda through_um: reaches_the_metal(largest_um, through_um),
        )
        least_ball_um = tool_range("ball_mounter", "ball_diameter_um").minimum
        fits = widest_um >= least_ball_um
        advice = [f"at most {widest_um:g} um"] if fits else []
        if thickest_um >= thinnest_um:
            advice.append(f"a resin at most {thickest_um:g} um thick{thinner_by}")
        made_by = "" if openings_by is None else f" ({openings_by(narrowest_um)})"
        advice.append(f"openings at least {narrowest_um:g} um across{made_by}")
        least = f"at least {least_ball_um:g} um"
        no_ball = "" if fits else f"no ball the mounter takes ({least}) reaches it: "
        raise claim_violation(
            claim,
            f"{path}.ball_diameter_um",
            f"{self.ball_diameter_um:g} um",
            f"a ball of up to {largest_um:g} um (the spheres' +-{BALL_DIAMETER_TOLERANCE_UM:g} "
            f"um) sinks {um_text(sag_um)} um into its {opening_um:.1f} um opening of {resist}, "
            f"{um_text(resist_um)} um thick: it sits on the rim, short of the metal, and its "
            f"reflow does not join it: {no_ball}give {', or '.join(advice)}",
        )

    def require_one_on_every_pad(self, pads: int, claim: str, onto: str) -> None:
        """Refuse a ball map (`balls_per_unit`, naming `claim`) other than every one of a die's
        `pads` pads, each ball on its pad's `onto` (its conducting path, its interconnect): a
        terminal on each, as the claim check judges them. Fewer had validated and run to a
        check certain to fail, and on a line, which has no claim check, to dies short of
        terminals; more had been ignored."""
        if self.balls_per_unit != pads:
            raise claim_violation(
                claim,
                "terminals.balls_per_unit",
                str(self.balls_per_unit),
                f"a ball on {onto} of each of a die's {pads} pads "
                f"(4 x wafer.pads_per_die_side): give {pads}",
            )

    def require_apart(
        self,
        pitch_um: float,
        claim: str,
        path: str,
        layout: str,
        sites_that_fit: Callable[[Callable[[float], bool]], str],
    ) -> None:
        """Refuse balls (the section at `path`, naming `claim`) that may touch on sites
        `pitch_um` apart at the closest (`layout` says whose): twice a ball's reach
        (`ball_reach_um`: its radius, the flux spread past the swim ratio, its placement
        error at its most) must be less. The refusal gives the largest ball, to 0.1 um, that
        stays apart by this same test on a flux that does not swim, and that flux's most
        (`most_swim_free_flux_um`); when no ball the mounter takes does, what `sites_that_fit`
        says of the layouts whose pitch (by the test it is given) these balls fit."""
        reach_um = ball_reach_um(self.ball_diameter_um, self.flux_thickness_um)
        if self._apart_at(reach_um, pitch_um):
            return
        stray_um = ball_stray_um(self.ball_diameter_um, 0.0)  # on a flux that does not swim

        def stays_apart(ball_um: float) -> bool:
            flux_um = most_swim_free_flux_um(ball_um)  # the most on which it does not swim
            return self._apart_at(ball_reach_um(ball_um, flux_um), pitch_um)

        largest_um = most_that_passes(pitch_um - 2 * stray_um, 1, stays_apart)
        smallest_um = tool_range("ball_mounter", "ball_diameter_um").minimum
        if largest_um < smallest_um:
            fits = functools.partial(self._apart_at, reach_um)
            advice = (
                f"no ball the mounter takes ({smallest_um:g} um at the least) stays apart "
                f"there; these would on {sites_that_fit(fits)}"
            )
        else:
            advice = f"give at most {largest_um:g} um"
            largest_ball_flux_um = most_swim_free_flux_um(largest_um)
            if self.flux_thickness_um > largest_ball_flux_um:
                advice += f", on a flux_thickness_um of at most {largest_ball_flux_um:g} um"
        field, given = "ball_diameter_um", f"{self.ball_diameter_um:g} um"
        if self.ball_diameter_um <= largest_um:  # the ball fits: its flux swims
            field, given = "flux_thickness_um", f"{self.flux_thickness_um:g} um"
            advice = f"give at most {most_swim_free_flux_um(self.ball_diameter_um):g} um"
        raise claim_violation(
            claim,
            f"{path}.{field}",
            given,
            f"balls on {layout} at least {um_text(pitch_um)} um apart touch their neighbours: "
            f"each reaches {um_text(reach_um)} um from its site (its radius, the flux beyond "
            f"{SWIM_RATIO:g} of it, and the mounter's placement at its most, "
            f"{um_text(stray_um)} um or more): {advice}",
        )


def most_swim_free_flux_um(ball_diameter_um: float) -> float:
    """The most flux, to the 0.1 um a refusal gives it in, on which balls of
    `ball_diameter_um` do not swim (`SWIM_RATIO` of their diameter, the mounter's figure),
    rounded down so that a flux given at it does not swim: the flux a refusal offers with a
    ball that stays apart (`SolderBallRecipe.require_apart`) or sits in its opening (001:4)."""
    return rounded_down(SWIM_RATIO * ball_diameter_um, 1)


#: The thinnest plated wiring the claims' "thickened by electroplating" means (001:8, 001:12,
#: 002:1a-d): 3 um of copper, a sheet resistance of about 6 mOhm/sq (est). The claim check
#: holds the product to it; a recipe's `min_thickness_um`, its own target, may only raise it.
PLATED_WIRING_MIN_UM = 3.0

#: The melting points of the pure metals the plating cell's baths deposit, degC (handbook
#: figures); a plated solder alloy (`SOLDER_ALLOYS`) begins to melt at its solidus, which the
#: oven's table gives (`SOLIDUS_C`), not here.
PURE_METAL_MELTS_C: dict[Metal, float] = {
    Metal.CU: 1084.6,
    Metal.NI: 1455.0,
    Metal.AU: 1064.2,
    Metal.SN: 231.9,
}


def plated_melts_c(metal: Metal) -> float:
    """Where a deposit of `metal` plated by the cell begins to melt, degC: its alloy's solidus
    (`SOLIDUS_C`), or the pure metal's melting point (`PURE_METAL_MELTS_C`). A plated wiring
    heated to it by a later step of its recipe (a reflow, a bake) runs and bridges."""
    solidus_c = SOLIDUS_C.get(SOLDER_ALLOYS.get(metal, ""))
    return PURE_METAL_MELTS_C[metal] if solidus_c is None else solidus_c


#: The decimals of a micrometre a refusal's "at least" for `min_thickness_um` is given in.
MIN_THICKNESS_DECIMALS = 2

#: The plating cell's bath, the simulated cell's (`PlatingPhysics`, its defaults the line's
#: figures): a plating's least deposit is judged by it before the run.
PLATING_PHYSICS = PlatingPhysics()

#: The thickest deposit the plating cell plates (its `thickness_um` range), um.
THICKEST_PLATING_UM = tool_range("electroplater", "thickness_um").maximum

#: The least step the XRF head reads a deposit in, um.
XRF_STEP_UM = 10.0**-XRF_DECIMALS

#: The decimals of a micrometre a refusal states a film's thickness in (`um_text`).
MESSAGE_UM_DECIMALS = 3


def um_text(value_um: float) -> str:
    """A thickness as a refusal states it: to `MESSAGE_UM_DECIMALS` decimals of a micrometre,
    trailing zeros dropped ("2.995", "0.3", "3"). The figures of one message (what an etch
    takes off, what it leaves, what was there) share the resolution, and what is left is said
    as the difference of the figures said (`um_left`), so a message never contradicts itself
    ("takes 3 um off, leaving 0.005 um" of 3 um, as three significant digits once read)."""
    return f"{round(value_um, MESSAGE_UM_DECIMALS):g}"


def um_left(held_um: float, removed_um: float) -> str:
    """What is left of `held_um` once `removed_um` is off, as `um_text` says it: the
    difference of the two figures as said, so the three read together add up."""
    rounded = round(held_um, MESSAGE_UM_DECIMALS) - round(removed_um, MESSAGE_UM_DECIMALS)
    return um_text(rounded)


@dataclass(frozen=True)
class WiringEtch:
    """The etch after a wiring's plating, as `PlatingStep.require_wiring` judges it: a dip of
    `time_s` in a bath of `rate` set to `temperature_c` (`described` names it in a message),
    which takes the wiring's unmasked top off as it clears the `clears_um` of metal between
    the patterns (`clears` names it: `the seed's 0.3 um of Cu`; 0: none there)."""

    described: str
    time_s: float
    temperature_c: float
    rate: BathRate
    clears_um: float = 0.0
    clears: str = ""

    def most_removed_um(self) -> float:
        """The most the dip takes off: in its bath at the warmest it may dip."""
        return self.rate.band_um_s(self.temperature_c)[1] * self.time_s

    def within(self, spare_um: float) -> str:
        """The etches that take at most `spare_um` off the wiring and still clear the metal
        between the patterns, for the end of a refusal (`, or ...`): the longest dip at its
        temperature, and the hottest set temperature for its time when the bath set above its
        reference is what takes too much off; or that neither does. Each is rounded to keep
        within `spare_um`: applied, it passes."""
        fastest_um_s = self.rate.band_um_s(self.temperature_c)[1]
        longest_s = math.floor(spare_um / fastest_um_s)
        least_s = self.rate.least_clearing_s(self.clears_um, self.temperature_c)
        at = f"{self.temperature_c:g} degC"
        if not self.clears_um:
            shorter = f", or a shorter etch, at most {longest_s:d} s at {at}"
        elif longest_s >= least_s:
            shorter = (
                f", or a shorter etch, at most {longest_s:d} s at {at} (the least that clears "
                f"{self.clears} is {least_s:d} s)"
            )
        else:
            shorter = (
                f" (no shorter etch at {at} both clears {self.clears} and keeps it: the least "
                f"that clears it, {least_s:d} s, takes up to "
                f"{um_text(fastest_um_s * least_s)} um off)"
            )
        reference_c = self.rate.reference_c
        at_reference_um = self.rate.band_um_s(reference_c)[1] * self.time_s
        if self.temperature_c <= reference_c or at_reference_um > spare_um:
            return shorter
        # the set temperature whose fastest rate is the one allowed: the coolest whose slowest
        # is (`set_c_for`), less the band's width
        hottest_c = math.floor(self.rate.set_c_for(spare_um / self.time_s) - 2 * BATH_TOLERANCE_C)
        moved = f"set to {at}, above its {reference_c:g} degC reference, the bath takes it off"
        if self.clears_um:
            coolest_c = self.rate.least_clearing_c(self.clears_um, self.time_s)
            if hottest_c < coolest_c:  # no bath keeps the wiring and clears the metal
                return shorter
        return (
            f"{shorter}, or the bath set to at most {hottest_c:d} degC for its {self.time_s:g} s "
            f"({moved})"
        )


def in_the_reticle_library(mask: str) -> str:
    """`mask` if the line's reticle library holds it, else a ValueError saying which it holds:
    the validator of every recipe's mask field (`ReticleName`), so validate refuses a mask the
    litho cell would refuse hours into the run."""
    if mask not in RETICLES:
        raise ValueError(f"not in the line's reticle library ({', '.join(RETICLES)})")
    return mask


def mask_area_cm2(mask: str, spec: WaferSpec) -> float:
    """The seed a mould of reticle `mask` opens on a wafer of `spec`: its design's opened area
    at every site (decision 0031); a mask the line's library lacks is a ValueError."""
    return RETICLES[in_the_reticle_library(mask)].design_opened_um2 * wafer_site_count(spec) * 1e-8


def mask_source(mask: str, spec: WaferSpec) -> str:
    """What an area from `mask_area_cm2` is, for a message."""
    sites = wafer_site_count(spec)
    return f"what mask {mask} opens on the {sites} sites of a {spec.diameter_mm:g} mm wafer"


class PlatingStep(Recipe):
    """One electroplating step: the metal (the cell's bath of it), the current density (the
    cell sets the current over the area it measures), the thickness, and the thinnest deposit
    the product needs."""

    metal: Metal = Metal.CU
    current_density_a_dm2: Annotated[
        float, Unit("A/dm^2"), Feeds("electroplater", "current_density_a_dm2")
    ]
    thickness_um: Annotated[float, Unit("um"), Feeds("electroplater", "thickness_um")]
    #: a cross-check of the seed the pattern exposes: what the method works out from its
    #: design (a mould's reticle area per site times the wafer's sites, the bump tips a
    #: solder layer plates) must be within 10 % of a stated one; the cell sets the current
    #: over the area it measures and checks that against the design's
    plated_area_cm2: Annotated[float, Unit("cm^2"), Field(gt=0)] | None = None
    bath_temperature_c: Annotated[
        float, Unit("degC"), Feeds("electroplater", "bath_temperature_c")
    ] = 25.0
    agitation_rpm: Annotated[float, Unit("rpm"), Feeds("electroplater", "agitation_rpm")] = 60.0
    #: the thinnest deposit the product needs: a thinner one holds the wafer
    min_thickness_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=THICKEST_PLATING_UM),
        Because(
            "the thinnest deposit is at most what the step plates, and the electroplater plates "
            f"{THICKEST_PLATING_UM:g} um at most (its thickness_um range)"
        ),
        AtLeastFor(
            PLATED_WIRING_MIN_UM,
            f"a plated wiring, and at least {PLATED_WIRING_MIN_UM:g} um plus the most the etch "
            "after it takes off, less the metal support's foil under it",
        ),
    ]

    #: the claim whose deposit a plating thinner than `min_thickness_um` fails, named in its
    #: refusal (a method's own plating step says which; None: the refusal names none)
    deposit_claim: ClassVar[str | None] = None

    @recipe_check
    def _plates_the_thinnest_deposit(self) -> Self:
        if self.thickness_um < self.min_thickness_um:
            raise claim_violation(
                self.deposit_claim,
                "thickness_um",
                f"{self.thickness_um:g} um",
                f"below min_thickness_um = {self.min_thickness_um:g} um: the plating cannot "
                "give the deposit it needs",
            )
        return self

    def require_read_at_the_minimum(self) -> None:
        """Refuse a `thickness_um` below `least_thickness_um`, naming `deposit_claim`: its
        deposit, in a bath that deposits less than the charge the cell passes counts on, may
        read below `min_thickness_um` at the XRF head and hold the wafer (a solder layer
        plated at exactly its 8 um minimum read 7.99 um and was held; one of 8.01 um read
        8.00 um, passed, and failed the claim check by 0.0012 um before it judged the layer
        as the XRF reads it)."""
        least_um = self.least_thickness_um()
        if self.thickness_um >= least_um:
            return
        nominal = METALS[self.metal].nominal_efficiency
        farthest_c, least = self.least_efficiency()
        working_c, within_c = PLATING_PHYSICS.working_c, PLATING_BATH_TOLERANCE_C
        raise claim_violation(
            self.deposit_claim,
            "thickness_um",
            f"{self.thickness_um:g} um",
            f"the cell passes the charge of it at the {self.metal.value} bath's nominal "
            f"efficiency ({nominal:.0%}), and the bath, within {within_c:g} degC of its "
            f"{self.bath_temperature_c:g} degC, may plate at {farthest_c:g} degC, away from its "
            f"{working_c:g} degC working temperature, where its efficiency is {least:.1%} (the "
            f"line's figures); its XRF head reads the deposit to {XRF_STEP_UM:g} um and the "
            "line holds the wafer on that reading below min_thickness_um = "
            f"{self.min_thickness_um:g} um: give at least {least_um:g} um",
        )

    def least_efficiency(self) -> tuple[float, float]:
        """The bath temperature the plating may run at, within `PLATING_BATH_TOLERANCE_C` of its
        set one, that is farthest from the bath's working temperature, and the cathode
        efficiency of a fresh bath there (the simulated cell's rule, `cathode_efficiency`):
        the least that deposits of the charge the cell passes."""
        ends_c = (
            self.bath_temperature_c - PLATING_BATH_TOLERANCE_C,
            self.bath_temperature_c + PLATING_BATH_TOLERANCE_C,
        )
        return min(
            ((c, cathode_efficiency(self.metal, c, 0.0, PLATING_PHYSICS)) for c in ends_c),
            key=lambda end: end[1],
        )

    def least_thickness_um(self) -> float:
        """The least `thickness_um` whose deposit the XRF head reads at `min_thickness_um` or
        more wherever the bath is within its tolerance: the cell passes the charge of
        `thickness_um` at the bath's nominal efficiency, the bath may deposit only its
        `least_efficiency` of it, and the head reads to `XRF_STEP_UM`, so that deposit is
        at least one step over `min_thickness_um`; rounded up to the step."""
        share = self.least_efficiency()[1] / METALS[self.metal].nominal_efficiency
        return rounded_up((self.min_thickness_um + XRF_STEP_UM) / share, XRF_DECIMALS)

    def require_wiring(
        self,
        path: str,
        claim: str,
        etch: WiringEtch | None = None,
        foil_um: float = 0.0,
        thicker_mould: Callable[[float], str | None] | None = None,
    ) -> None:
        """Refuse the step (`path` in the recipe) as a plated wiring of `claim` if its
        `min_thickness_um` is below `PLATED_WIRING_MIN_UM`, or would be once the `etch` after
        it has thinned the wiring's unmasked top, counting the `foil_um` of metal support it
        was plated on as wiring too (001:11): the plating holds a wafer before the etch, the
        claim check after it, and a recipe cannot lower the bar its claim is checked against.
        The least `min_thickness_um` suggested is rounded up (with `thickness_um` raised to it
        when below it: the plating gives no minimum above what it plates, and the mould it is
        plated through made as thick where `thicker_mould`, given, says what that takes), the
        etch suggested instead keeps within it (`WiringEtch.within`): either, applied, passes."""
        field = f"{path}.min_thickness_um"
        value = f"{self.min_thickness_um:g} um"
        if self.min_thickness_um < PLATED_WIRING_MIN_UM:
            raise claim_violation(
                claim,
                field,
                value,
                f"a plated wiring is at least {PLATED_WIRING_MIN_UM:g} um thick, what the claim "
                "check holds it to: the recipe's minimum may raise that, not lower it",
            )
        if etch is None:
            return
        etched_um = etch.most_removed_um()
        least_um = PLATED_WIRING_MIN_UM + etched_um - foil_um
        if self.min_thickness_um < least_um:
            left = um_left(self.min_thickness_um + foil_um, etched_um)
            held = f"{value} on the {foil_um:g} um foil" if foil_um else value
            leaving = (
                f"leaving {left} um where the plating held {held}"
                if float(left) > 0
                else f"through all of it where the plating held {held}: the pattern cut through"
            )
            suggested_um = rounded_up(least_um, MIN_THICKNESS_DECIMALS)
            thicker = (
                f", with thickness_um ({self.thickness_um:g} um now) raised to at least as "
                "much (the plating gives no minimum above what it plates)"
                if suggested_um > self.thickness_um
                else ""
            )
            mould = None if thicker_mould is None else thicker_mould(suggested_um)
            if thicker and mould is not None:
                thicker += f" and {mould}"
            spare_um = self.min_thickness_um + foil_um - PLATED_WIRING_MIN_UM
            raise claim_violation(
                claim,
                field,
                value,
                f"the etch after the plating ({etch.described}) takes up to "
                f"{um_text(etched_um)} um off the wiring's top, {leaving}, below the "
                f"{PLATED_WIRING_MIN_UM:g} um a "
                "plated wiring keeps (what the claim check holds it to): at least "
                f"{suggested_um:g} um{thicker}{etch.within(spare_um)}",
            )

    def design_area_setpoints(self, path: str, real_cm2: float, source: str) -> list[ToolSetpoint]:
        """The plated area the step sends the cell (`plating_recipe`): `real_cm2`, what
        `source` opens, whatever area the recipe states, and what it sends the cell's supply
        over that area (`PlatingRecipe.supply_setpoints`, as `supply.<setpoint>`), for the
        tools' limits."""
        where = f"{path}.plated_area_cm2 (the design's, sent to the cell: {source})"
        supply = self.plating_recipe(real_cm2).supply_setpoints()
        return [
            ToolSetpoint("electroplater", "plated_area_cm2", real_cm2, where),
            *(
                ToolSetpoint(
                    "electroplater",
                    f"supply.{setpoint}",
                    value,
                    f"{path} (sent to the supply as {setpoint}: {meaning})",
                )
                for setpoint, (value, meaning) in supply.items()
            ),
        ]

    def window_a_dm2(self) -> tuple[float, float]:
        """The bath's current-density window at the step's temperature and paddle speed."""
        return current_window_a_dm2(self.metal, self.bath_temperature_c, self.agitation_rpm)

    def require_real_area(self, path: str, real_cm2: float, source: str) -> None:
        """Refuse the step (`path` in the recipe) if its stated `plated_area_cm2` is not the
        pattern of `real_cm2`, the area its design plates (`source` says what that is: what a
        mask opens over the wafer's sites), by the test the cell applies to the area it
        measures (`area_mismatch`), or if its current density leaves the bath's window: the
        cell sets the current over the area it measures, so that density is what plates. Either
        names `deposit_claim`: a density off the design's area, or off the window, plates
        another deposit than the one the claim holds the product to."""
        stated = self.plated_area_cm2
        mismatch = None if stated is None else area_mismatch(stated, real_cm2)
        if mismatch is not None:
            raise claim_violation(
                self.deposit_claim,
                f"{path}.plated_area_cm2",
                f"{stated:g} cm^2",
                f"the design's plated area is {real_cm2:.4g} cm^2 ({source}): the stated area is "
                f"{mismatch}, a recipe written for another mask or wafer",
            )
        low, high = self.window_a_dm2()
        if not low <= self.current_density_a_dm2 <= high:
            raise claim_violation(
                self.deposit_claim,
                f"{path}.current_density_a_dm2",
                f"{self.current_density_a_dm2:g} A/dm^2",
                f"the {self.metal.value} bath's window at {self.bath_temperature_c:g} degC and "
                f"{self.agitation_rpm:g} rpm is {low:g}-{high:.3g} A/dm^2 (rough below, burnt "
                "above); the cell sets the current over the seed area it measures once the "
                f"wafer is in (the design's is {real_cm2:.4g} cm^2: {source}), so this density "
                "is what plates",
            )

    def require_through_mask(self, section: str, mask: str, spec: WaferSpec) -> None:
        """`require_real_area` over what the mould of reticle `mask` opens on a wafer of
        `spec` (`mask_area_cm2`): the step is `section`'s `plating`, beside its `mould` (whose
        mask validated: in the reticle library)."""
        real_cm2 = mask_area_cm2(mask, spec)
        self.require_real_area(f"{section}.plating", real_cm2, mask_source(mask, spec))

    def mask_area_setpoints(self, section: str, mask: str, spec: WaferSpec) -> list[ToolSetpoint]:
        """`design_area_setpoints` of the step that plates `section` through reticle `mask`."""
        real_cm2 = mask_area_cm2(mask, spec)
        return self.design_area_setpoints(f"{section}.plating", real_cm2, mask_source(mask, spec))

    def plating_recipe(self, real_cm2: float) -> PlatingRecipe:
        """The cell's recipe: `real_cm2`, the area the design plates, is what it checks the
        area it measures against (a stated area was checked against it at validate)."""
        return PlatingRecipe(
            metal=self.metal,
            current_density_a_dm2=self.current_density_a_dm2,
            thickness_um=self.thickness_um,
            plated_area_cm2=real_cm2,
            bath_temperature_c=self.bath_temperature_c,
            agitation_rpm=self.agitation_rpm,
        )


#: The tool roles `mount_balls` drives: the mounter, and the oven its reflow runs in.
MOUNT_BALLS_TOOLS = frozenset({BallMounter.role, Oven.role})


async def mount_balls(wafer: Wafer, balls: SolderBallRecipe, claims: tuple[str, ...]) -> None:
    """Flux and balls on the mapped sites, inspected, then the step 'reflow balls' in an oven
    batch; the flux, mount and reflow steps carry `claims`."""
    async with wafer.use(BallMounter) as mounter:
        await wafer.step("load on ball mounter", mounter.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "apply flux",
            mounter.apply_flux,
            balls.ball_map(),
            balls.flux_method,
            balls.flux_thickness_um,
            claims=claims,
        )
        await wafer.step("mount balls", mount_and_inspect, wafer, mounter, balls, claims=claims)
        await wafer.step("unload from ball mounter", mounter.unload, handling=Handling.UNLOAD)
    await reflow(wafer, "reflow balls", balls.alloy.value, balls.reflow, claims)


async def mount_and_inspect(wafer: Wafer, mounter: BallMounter, balls: SolderBallRecipe) -> None:
    """Mount, inspect; missing or second balls are repaired and the wafer inspected again.
    What is still wrong then (a bridge, a ball the repair missed) holds the wafer."""
    ball_map = balls.ball_map()
    await mounter.mount_balls(ball_map, balls.ball_diameter_um, balls.alloy)
    inspection = await mounter.request_inspection()
    if inspection.missing or inspection.extra:
        repair = await mounter.repair_balls(ball_map, balls.ball_diameter_um, balls.alloy)
        wafer.measure("balls repaired", repair.balls_placed, "balls")
        inspection = await mounter.request_inspection()
    wafer.measure("balls missing", inspection.missing, "sites", high=0)
    wafer.measure("balls extra", inspection.extra, "sites", high=0)
    wafer.measure("balls bridged", inspection.bridged, "sites", high=0)


async def reflow(
    wafer: Wafer,
    step: str,
    alloy: str,
    recipe: ReflowRecipe,
    claims: tuple[str, ...],
    *,
    solid: str | None = None,
) -> None:
    """Join an oven batch whose reflow step `step` (carrying `claims`) melts `alloy`, and,
    given `solid`, leaves that solder under it solid (`run_reflow`)."""
    await wafer.batch(
        Oven,
        oven_cycle,
        recipe.n2_flow_slm,
        recipe.o2_limit_ppm,
        recipe.cool_timeout_s,
        step,
        claims,
        run_reflow,
        alloy,
        recipe,
        solid,
        timeout_s=recipe.batch_timeout_s,
    )


def require_cooling_below_the_hold(temperature_c: float, cool_to_c: float) -> None:
    """Refuse a cure (any method's: a layer or a seal cured in an oven batch) whose
    `cool_to_c` is not below its hold's `temperature_c`: the load cools from its hold down to
    it. No claim is named: the profile contradicts itself, but the layer would cure all the
    same."""
    if cool_to_c >= temperature_c:
        raise field_problem(
            "cool_to_c",
            f"{cool_to_c:g} degC",
            f"must be below temperature_c = {temperature_c:g} degC: the load cools "
            "from its hold down to it (no claim is named: the profile contradicts itself, "
            "and heated on past its hold the layer would cure all the same)",
        )


async def oven_cycle(
    batch: Batch[Oven],
    n2_flow_slm: float,
    o2_limit_ppm: float,
    cool_timeout_s: float,
    step: str,
    claims: tuple[str, ...],
    process: Callable[..., Awaitable[object]],
    *args: object,
) -> None:
    """Load, close, purge with nitrogen, run the step `step` (`process(batch, *args)`, carrying
    `claims`), cool within `cool_timeout_s`, unload: once for the oven's batch."""
    oven = batch.tool
    await batch.step("open door", oven.open_door)
    await batch.step("load", load_wafers, oven, batch.wafer_ids, handling=Handling.LOAD)
    await batch.step("close door", oven.close_door)
    await batch.step("purge", oven.purge, n2_flow_slm, o2_limit_ppm)
    await batch.step(step, process, batch, *args, claims=claims)
    await batch.step("cool down", oven.cool_down, cool_timeout_s)
    await batch.step("stop purge", oven.stop_purge)
    await batch.step("open door", oven.open_door)
    await batch.step("unload", unload_wafers, oven, batch.wafer_ids, handling=Handling.UNLOAD)


async def run_reflow(
    batch: Batch[Oven], alloy: str, recipe: ReflowRecipe, solid: str | None = None
) -> None:
    """Run the profile; the load must pass the solder's liquidus (a peak at it melts
    nothing) for the wetting time, and the peak the oven measured stay at or below the
    solidus of `solid`, if given (a high-melting bump under a eutectic layer, whose core
    begins to melt above it: 003:20)."""
    result = await batch.tool.run_profile(recipe.profile(alloy))
    high = None if solid is None else SOLIDUS_C[solid]
    batch.measure(
        "reflow peak", result.peak_c, "degC", low=LIQUIDUS_C[alloy], high=high, above=True
    )
    batch.measure(
        "time above liquidus",
        result.time_above_liquidus_s or 0.0,
        "s",
        low=recipe.min_time_above_liquidus_s,
        high=LONGEST_MOLTEN_S,
    )


async def electroplate(
    wafer: Wafer,
    plating: PlatingStep,
    real_cm2: float,
    claims: tuple[str, ...],
    *,
    step: str = "electroplate wiring",
    deposit: str = "wiring thickness",
) -> None:
    """Plate in the plating cell as the step `step` (carrying `claims`), the current set over
    the area the cell measures, which must be the pattern of `real_cm2`, the area the method's
    design plates. The real plated area and current density are recorded as the cell
    measured them, and the deposit
    (`deposit`) as its XRF head measured it; a density outside the bath's window, or a
    measured minimum thinner than the step's `min_thickness_um`, holds the wafer."""
    async with wafer.use(Electroplater) as cell:
        await wafer.step("load in plating cell", cell.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            step, plate_and_measure, wafer, cell, plating, real_cm2, deposit, claims=claims
        )
        await wafer.step("unload from plating cell", cell.unload, handling=Handling.UNLOAD)


async def plate_and_measure(
    wafer: Wafer, cell: Electroplater, plating: PlatingStep, real_cm2: float, deposit: str
) -> None:
    """Plate (a refusal of it, which leaves the wafer unplated, holds it as refused: the
    cell carried out nothing in the step); record the thickness by charge, the deposit the
    cell's XRF head measured (mean, max, min, and how many points), the real plated area (within the
    tolerance of `real_cm2`, the design's, as the cell held it) and the current density over
    it. A density outside the bath's window, no point measured, or a measured minimum below
    `min_thickness_um` holds the wafer."""
    result = await cell.plate(plating.plating_recipe(real_cm2))
    low, high = plating.window_a_dm2()
    wafer.measure(f"{deposit} by charge", result.charge_thickness_um, "um")
    wafer.measure(f"{deposit} mean", result.thickness_mean_um, "um")
    wafer.measure(f"{deposit} max", result.thickness_max_um, "um")
    least_cm2, most_cm2 = accepted_area_cm2(real_cm2)
    wafer.measure("plated area", result.plated_area_cm2, "cm^2", low=least_cm2, high=most_cm2)
    wafer.measure("current density", result.current_density_a_dm2, "A/dm^2", low=low, high=high)
    wafer.measure(f"{deposit} points", len(result.measured_thickness_um), "points", low=1)
    wafer.measure(f"{deposit} min", result.thickness_min_um, "um", low=plating.min_thickness_um)
