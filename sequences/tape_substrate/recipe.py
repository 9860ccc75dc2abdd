"""The tape-substrate recipe (000): the steps' settings for the incoming panel and its die
wafer (`incoming.py`).

Before any tool moves, every setpoint is checked against the tools' limits (`Feeds`) and the
claims' own constraints (`claim_violation`): holes a web of tape apart (000:a), filler +
terminal volume within tolerance of the hole volume (000:b), gold or copper terminals no taller
than the hole and going into it wherever the flip-chip bonder lands them (000:c), a sealing
resin above the ground height and dies thicker than it, so the ground die backs are flush with
the resin, the grind leaving the thinnest die the line takes (000:e, 000:f), a unit wider than
its die by the saw's kerf and chipping (000:g), a ball only in a solder resist opening
(000:x1); on a metal substrate (000:x3) no holes and no filler, and a resist that is stripped
once the plate is etched; a frame (000:x2) on a panel with column holes only, its columns
narrower than the holes and taking of the filler what a terminal takes, its top reached by the
grind, and a stack only of framed panels whose balls stand under the columns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Self

import numpy as np
from pydantic import Field

from packline.drivers.roles.ball_mounter import (
    MAX_MAP_POSITIONS,
    SWIM_RATIO,
    BallMap,
    Side,
    ball_stray_um,
)
from packline.drivers.roles.dispenser import (
    FILL_TOLERANCE,
    FILLER_SOLDER,
    SHOT_SPREAD,
    FillMaterial,
    SealResin,
)
from packline.drivers.roles.flip_chip_bonder import (
    PASTE_GEL_C,
    PASTE_GEL_S,
    FrameRecipe,
    column_volume_nl,
)
from packline.drivers.roles.grinder import GrindRecipe as GrindCycle
from packline.drivers.roles.laser import DrillRecipe
from packline.drivers.roles.lithography import (
    MATERIALS,
    OVERLAY_UM,
    RETICLES,
    Feature,
    FilmLayer,
)
from packline.drivers.roles.oven import LIQUIDUS_C, ThermalProfile
from packline.drivers.roles.wet_bench import BATH_RATES, BATH_TOLERANCE_C, Tank
from packline.drivers.specs.grinder import FINEST_GAUGE_RESOLUTION_UM
from packline.sequences.engine import (
    Feeds,
    NeededWhen,
    Recipe,
    claim_violation,
    every_problem,
    recipe_check,
)
from packline.sequences.engine.recipe_fields import facts_of
from packline.sequences.engine.recipe_meta import (
    COOLS_IN_4_HOURS,
    WAITS_A_DAY_AT_MOST,
    Because,
    CheckedFloor,
    tool_range,
)
from packline.sequences.engine.request import MAX_LOT
from packline.sim_instruments.physics.ball_mounter import site_positions
from packline.sim_instruments.physics.flip_chip_bonder import (
    LANDING_SIGMAS,
    FlipChipPhysics,
    terminal_layout,
)
from packline.sim_instruments.physics.oven import CURE_OF_KIND
from packline.sim_instruments.physics.wet_bench import WetPhysics
from packline.sim_instruments.twin import PanelSpec, WaferSpec, die_grid
from packline.sim_instruments.twin.incoming import new_panel
from packline.sim_instruments.twin.parts import ResinKind
from packline.units import Unit

from ..bump_seal_clean import (
    KERF_ALLOWANCE_UM,
    BondStep,
    DicingStep,
    require_joined_above_the_liquidus,
    require_joint_hot_enough,
    require_pressed_for,
    require_pressed_until_wetted,
    require_the_height_the_studs_give,
)
from ..solder import (
    BALL_MAP,
    SolderBallRecipe,
    require_cooling_below_the_hold,
    um_text,
)
from ..sprout_bump_csp import (
    Dip,
    FieldMetal,
    MouldRecipe,
    ReticleName,
    SolderResistRecipe,
    hole_reticles,
    most_flux_advice,
    require_a_resin_that_stays,
    require_reticle_of,
)
from ..suggestion_rounding import either, least_that_passes, most_that_passes
from ..two_process_via.recipe import held_profile, require_cured
from .incoming import (
    DIE_WAFER_PREFIX,
    LARGEST_DIE_WAFER_MM,
    THINNEST_DIE_UM,
    AreaArray,
    DieWaferRecipe,
    PanelRecipe,
)


class HoleDrilling(Recipe):
    """000:a: through-holes in the tape to the metal, openings in the solder resist (CO2 laser)."""

    diameter_um: Annotated[float, Unit("um"), Feeds("laser", "co2_via_diameter_um")]
    resist_opening_um: Annotated[float, Unit("um"), Feeds("laser", "co2_via_diameter_um")]
    fluence_j_cm2: Annotated[float, Unit("J/cm^2"), Feeds("laser", "drill_fluence_j_cm2")]
    rep_rate_khz: Annotated[float, Unit("kHz"), Feeds("laser", "rep_rate_khz")]

    def holes(self) -> DrillRecipe:
        return DrillRecipe(self.diameter_um, self.fluence_j_cm2, self.rep_rate_khz)

    def resist_openings(self) -> DrillRecipe:
        return DrillRecipe(self.resist_opening_um, self.fluence_j_cm2, self.rep_rate_khz)


class FillStep(Recipe):
    """000:b: conductive filler jetted into every hole, short of full by the terminal's volume."""

    #: the conductive paste the dispenser jets into the holes (000:b), from its reservoirs
    material: FillMaterial
    #: how much paste each hole takes: the hole's volume less its terminal's (000:b/c)
    volume_nl: Annotated[float, Unit("nl"), Feeds("dispenser", "fill_volume_nl")]
    #: how far filler + terminal may stand from the hole's volume, as a share of it: at most
    #: the dispenser's camera threshold, which counts a hole off by more over- or underfilled
    tolerance: Annotated[
        float,
        Field(gt=0, le=FILL_TOLERANCE),
        Because(
            f"the dispenser's camera counts a hole more than {FILL_TOLERANCE:.0%} off its "
            "volume as over- or underfilled, whatever the recipe allows",
            claim="000:b",
        ),
    ] = FILL_TOLERANCE

    def level_limits_percent(self) -> tuple[float, float]:
        """The filler's level in a hole, in % of the hole's depth, that stands at the hole's
        top within `tolerance` (000:b-c): what the flip-chip bonder's X-ray must see once the
        terminals are in (the claim check judges the same on the twin)."""
        return 100 * (1 - self.tolerance), 100 * (1 + self.tolerance)

    def window_nl(self, hole_nl: float, taken_nl: float) -> tuple[float, float]:
        """The fill volumes (nl, to 0.001 nl, inside) whose every shot, across the jet's spread
        (`SHOT_SPREAD`), makes with `taken_nl` of something else (a die's terminal, a frame's
        column) a hole of `hole_nl`'s volume within `tolerance` of it: what the dispenser's
        camera and the claim check accept. Empty (low > high) when no volume does."""
        low = ((1 - self.tolerance) * hole_nl - taken_nl) / (1 - SHOT_SPREAD)
        high = ((1 + self.tolerance) * hole_nl - taken_nl) / (1 + SHOT_SPREAD)
        return math.ceil(low * 1000 - 1e-9) / 1000, math.floor(high * 1000 + 1e-9) / 1000

    def misfit(self, hole_nl: float, taken_nl: float) -> str | None:
        """What is wrong when this filler and `taken_nl` of something else in a hole of
        `hole_nl` do not make the hole's volume within `tolerance` of it at every shot across
        the jet's spread ('makes 1.252-1.360 nl across the jet's spread ..., the least below
        1.259 nl (5% under the hole's 1.325 nl): fill.volume_nl from 1.088 to 1.11 nl fits'),
        its figures to the digit that tells them apart; None when they do."""
        low, high = self.window_nl(hole_nl, taken_nl)
        if low <= self.volume_nl <= high:
            return None
        fits = (
            f"fill.volume_nl from {low:g} to {high:g} nl fits"
            if low <= high
            else f"no fill.volume_nl fits: widen fill.tolerance (to at most {FILL_TOLERANCE:g}) "
            "or change the hole"
        )
        least = self.volume_nl * (1 - SHOT_SPREAD) + taken_nl
        most = self.volume_nl * (1 + SHOT_SPREAD) + taken_nl
        if self.volume_nl < low:
            made, bound, side = least, (1 - self.tolerance) * hole_nl, "the least below"
            off = "under"
        else:
            made, bound, side = most, (1 + self.tolerance) * hole_nl, "the most above"
            off = "over"
        decimals = _telling_apart(made, bound)
        return (
            f"makes {least:.{decimals}f}-{most:.{decimals}f} nl across the jet's spread "
            f"(+-{SHOT_SPREAD * 100:g}% of the volume), {side} {bound:.{decimals}f} nl "
            f"({self.tolerance * 100:g}% {off} the hole's {hole_nl:.{decimals}f} nl): {fits}"
        )


def _hot_enough_for_the_filler(
    bond: BondStep, claim: str, parts: str, filler: FillMaterial, path: str
) -> None:
    """The bond at `path` heats the `parts` in the holes above a solder filler's liquidus, or
    to a paste's gel temperature (`PASTE_GEL_C`)."""
    holes = f"the {parts} are joined to the tape's holes by their {filler.value} filler"
    solder = FILLER_SOLDER.get(filler)
    if solder is not None:
        holes += f", which melts above the liquidus of {solder} ({LIQUIDUS_C[solder]:g} degC)"
        require_joint_hot_enough(bond, claim, holes, LIQUIDUS_C[solder], path=path)
        return
    holes += f", a paste that gels at {PASTE_GEL_C:g} degC or above (the bonder's figure)"
    require_joint_hot_enough(bond, claim, holes, PASTE_GEL_C, reaching=True, path=path)


def _long_enough_for_the_filler(
    bond: BondStep, claim: str, parts: str, filler: FillMaterial, path: str
) -> None:
    """The bond at `path` presses the `parts` in the holes until a solder filler wets them,
    or a paste gels around them (`PASTE_GEL_S`)."""
    if filler in FILLER_SOLDER:
        holes = "the tape's holes"
        require_pressed_until_wetted(
            bond, claim, parts, f"{filler.value} filler", path=path, pads=holes
        )
        return
    gels = (
        f"the {filler.value} paste in the holes gels around the {parts} in {PASTE_GEL_S:g} s "
        "under the head (the bonder's gel time)"
    )
    require_pressed_for(bond, claim, gels, PASTE_GEL_S, path=path)


def nearest_site_pitch_um(spec: PanelSpec, positions: range) -> float:
    """How far apart the nearest two of the sites at `positions` of every unit (in its site
    order: a ball map's, a unit's holes) stand on a panel of `spec`, um: within a unit or
    across the units next to it. Every unit's sites lie alike, a unit's size apart, so one
    unit's sites are compared with themselves and with themselves shifted to the unit beside,
    above and across (either diagonal): a twin of the whole panel and every pair of its first
    four units' sites had cost validate three times as much."""
    unit = new_panel("pitch", replace(spec, rows=1, columns=1)).geometry
    position = site_positions(unit)
    chosen = (position >= positions.start) & (position < positions.stop)
    x, y = unit.site_x_mm[chosen] * 1000.0, unit.site_y_mm[chosen] * 1000.0
    dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
    within = np.hypot(dx, dy)
    np.fill_diagonal(within, np.inf)
    nearest = float(within.min(initial=np.inf))
    width, height = (size * 1000.0 for size in spec.unit_size_mm)
    shifts = [(width, 0.0)] if spec.columns > 1 else []  # the units the panel has beside
    if spec.rows > 1:
        shifts.append((0.0, height))
        if spec.columns > 1:
            shifts += [(width, height), (width, -height)]
    for shift_x, shift_y in shifts:
        beside = np.hypot(dx + shift_x, dy + shift_y)
        nearest = min(nearest, float(beside.min(initial=np.inf)))
    return nearest


def farthest_terminal_um(spec: PanelSpec) -> float:
    """How far from its unit's centre the farthest of a die's terminal holes lies on a panel
    of `spec`, um: where the bonder's rotation of a die moves a terminal the most."""
    unit = new_panel("reach", replace(spec, rows=1, columns=1)).geometry
    return float(np.hypot(*terminal_layout(unit).position_um[0].T).max())


def _raise(error: Exception) -> None:
    """Raise `error`: one of the problems `every_problem` collects, found beforehand."""
    raise error


def _telling_apart(first: float, second: float) -> int:
    """The decimals (3 at least, as the fill's window is given) at which `first` and `second`
    show different figures: a refusal's figures show the digit that makes the difference."""
    decimals = 3
    while round(first, decimals) == round(second, decimals) and decimals < 9:
        decimals += 1
    return decimals


#: The wet bench's physics, the simulated bench's (`WetPhysics`, its defaults the line's
#: figures): how far a plate's etch reaches under its islands is worked out by it.
WET_PHYSICS = WetPhysics()

#: The flip-chip bonder's physics, the simulated bonder's (`FlipChipPhysics`, its defaults the
#: line's figures): how far it lands a terminal off its hole's centre is worked out by it.
BONDER_PHYSICS = FlipChipPhysics()

#: The least web of tape between two holes, um (est): the CO2 laser chars the polyimide of a
#: hole's wall some 10-20 um deep, and the filler jetted into a hole stands its meniscus over
#: the top; a web of 50 um keeps a sound wall between two charred ones, which the filler of
#: the one does not wet across into the other.
LEAST_HOLE_WEB_UM = 50.0

#: The deepest chipping a saw cut leaves beyond its kerf, um (est): the line's process
#: windows give a cut's back side 15-30 um, its front 10-15 um.
DICING_CHIPPING_UM = 30.0

#: The longest hold a sealing resin's cure may ask of the oven, s.
SEAL_HOLD_LIMIT_S = 8 * 3600


class CureStep(Recipe):
    """The sealing resin's cure in the oven under nitrogen: ramp, soak, cool."""

    n2_flow_slm: Annotated[float, Unit("slm"), Feeds("oven", "n2_flow_slm")] = 20.0
    o2_limit_ppm: Annotated[float, Unit("ppm"), Feeds("oven", "o2_limit_ppm")] = 1000.0
    temperature_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    hold_s: Annotated[
        float,
        Unit("s"),
        Field(ge=0, le=SEAL_HOLD_LIMIT_S),
        Because("a sealing resin held hot longer than 8 h yellows and grows brittle"),
    ]
    ramp_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 5.0
    cool_to_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")] = 60.0
    cool_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 10.0
    cool_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=4 * 3600), COOLS_IN_4_HOURS] = 3600.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        1800.0
    )

    @recipe_check
    def _cools_below_its_hold(self) -> Self:
        require_cooling_below_the_hold(self.temperature_c, self.cool_to_c)
        return self

    def profile(self) -> ThermalProfile:
        """The oven's profile of this cure (`held_profile`)."""
        return held_profile(self)


class SealStep(Recipe):
    """000:e: sealing resin around every die up to a height, sealing its side faces; cured."""

    resin: SealResin
    height_um: Annotated[float, Unit("um"), Feeds("dispenser", "seal_height_um")]
    #: 000:e: the sealing resin cured in the oven
    cure: CureStep

    @recipe_check
    def _cured_by_its_cure(self) -> Self:
        """The sealing resin cured past `CURED_ALPHA` by its cure's hold, by the kinetics the
        simulated oven cures a sealing layer by (`CURE_OF_KIND`), as two-process-via's resin
        is by its cure (`require_cured`): a cure too short had validated and failed 000:e."""
        require_cured(
            self.cure,
            CURE_OF_KIND[ResinKind.SEALING],
            f"the sealing resin ({self.resin.value})",
            "000:e",
            "cure",
            SEAL_HOLD_LIMIT_S,
        )
        return self


#: Why a grind tolerance must be no finer than the gauge that measures the package (000:f),
#: as validate's refusal and the run's check of its grinders (`gauge_refusal`) say it.
ON_THE_GAUGE_GRID = (
    "its reading is rounded down to that grid, so a package it reads on target may stand up to "
    "a step above"
)


class GrindStep(Recipe):
    """000:f: the resin top and the die backs ground and polished to the package thickness."""

    thickness_um: Annotated[float, Unit("um"), Feeds("grinder", "target_thickness_um")]
    spindle_rpm: Annotated[float, Unit("rpm"), Feeds("grinder", "spindle_rpm")] = 4500.0
    coarse_feed_um_s: Annotated[float, Unit("um/s"), Feeds("grinder", "coarse_feed_um_s")] = 5.0
    fine_feed_um_s: Annotated[float, Unit("um/s"), Feeds("grinder", "fine_feed_um_s")] = 0.3
    #: how far a measured thickness may stand from the target before the panel is held, no
    #: finer than the grinder's thickness gauge resolves (0.1 um at its finest)
    tolerance_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=50),
        Because("a panel 50 um off its thickness is ground through its dies' backs or not at all"),
        CheckedFloor(FINEST_GAUGE_RESOLUTION_UM),
    ] = 2.0

    @recipe_check
    def _a_tolerance_the_gauge_resolves(self) -> Self:
        """A tolerance no finer than the grinder's gauge resolves at its finest, which measures
        the package against it: the gauge reads the thickness rounded down to its grid and the
        grind stops at the reading of the target, so the package may stand up to a step above
        what it reads; a finer tolerance had validated and passed the measurement while the
        package failed 000:f (a trial's 0.001 um read 413 um against 413 +- 0.001 with the
        package 0.0982 um over)."""
        if self.tolerance_um < FINEST_GAUGE_RESOLUTION_UM:
            raise claim_violation(
                "000:f",
                "tolerance_um",
                f"{self.tolerance_um:g} um",
                f"finer than the grinder's thickness gauge resolves, "
                f"{FINEST_GAUGE_RESOLUTION_UM:g} um at its finest ({ON_THE_GAUGE_GRID}): "
                f"give at least {FINEST_GAUGE_RESOLUTION_UM:g} um",
            )
        return self

    def gauge_refusal(self, resolution_um: float, *, resumed: bool = False) -> str | None:
        """Why a run refuses a grinder whose thickness gauge resolves `resolution_um` (its
        `GAUGe:RESolution`, a tool option of 0.1-1 um), naming the field, the value, that
        resolution and 000:f, and what to give instead: a coarser tolerance, or a grinder
        that resolves it; a resume, whose recipe cannot change, only the grinder. None where
        the gauge resolves `tolerance_um`. Validate takes a tolerance the finest gauge
        resolves; only the grinder a run drives tells its own, and on a coarser one the
        package passes or fails on a reading its grid cannot tell from the target's."""
        if self.tolerance_um >= resolution_um:
            return None
        instead = "" if resumed else f"give at least {resolution_um:g} um, or "
        return (
            f"grind.tolerance_um = {self.tolerance_um:g} um: finer than this grinder's thickness "
            f"gauge resolves, {resolution_um:g} um ({ON_THE_GAUGE_GRID}): {instead}grind on a "
            "grinder whose gauge resolves it (claim 000:f)"
        )

    def cycle(self) -> GrindCycle:
        return GrindCycle(
            self.thickness_um,
            spindle_rpm=self.spindle_rpm,
            coarse_feed_um_s=self.coarse_feed_um_s,
            fine_feed_um_s=self.fine_feed_um_s,
        )


class ExternalTerminals(SolderBallRecipe):
    """000:x1: external connection terminals: solder balls on the interconnection layer in the
    solder resist openings of every unit, on the panel's bottom, reflowed. A unit's openings
    lie under its holes, along its die's edges (a full map is a peripheral array), then, on a
    panel with a frame (000:x2), under its columns; on a panel with an area array of lands
    (`panel.area_array`), at its lands, after the holes in the unit's site order."""

    liquidus_claim = "000:x1"

    #: the unit's site the first ball goes on (left out or 0: its first terminal site; 4 x
    #: panel.holes_per_die_side: its first column site, where a stacked package's balls
    #: meet the columns of the one below, 000:x2)
    first_site: Annotated[
        Annotated[int, Field(strict=True, ge=0, le=255), BALL_MAP] | None,
        NeededWhen("with a stack (000:x2)"),
    ] = None

    @property
    def first(self) -> int:
        """The unit's site the first ball goes on."""
        return self.first_site or 0

    def sites(self) -> range:
        """The positions, in a unit's site order, of the sites its balls go on."""
        return range(self.first, self.first + self.balls_per_unit)

    def ball_map(self) -> BallMap:
        return BallMap.of(self.sites(), Side.BACK)


class FrameStep(Recipe):
    """000:x2: a frame with copper conductor columns pressed on every unit around its die by
    the flip-chip bonder (from its frame magazine), the columns' lower ends into the unit's
    column holes and the filler there; the grind (000:f) cuts the frame and the columns with
    the resin, so their top ends come out flush at the package's top."""

    thickness_um: Annotated[float, Unit("um"), Feeds("flip_chip_bonder", "frame_um")]
    column_diameter_um: Annotated[
        float, Unit("um"), Feeds("flip_chip_bonder", "column_diameter_um")
    ]
    #: how far the columns' lower ends stand below the frame, into the holes
    column_protrusion_um: Annotated[
        float, Unit("um"), Feeds("flip_chip_bonder", "column_protrusion_um")
    ]
    bond: BondStep

    def frame_recipe(self) -> FrameRecipe:
        return FrameRecipe(
            self.thickness_um,
            self.column_diameter_um,
            self.column_protrusion_um,
            self.bond.bond_recipe(),
        )

    def column_volume_nl(self, panel: PanelRecipe) -> float:
        """What one column takes of its filled hole."""
        return float(
            column_volume_nl(
                self.column_diameter_um, self.column_protrusion_um, panel.tape_thickness_um
            )
        )


#: The levels of a stack (`StackStep.levels`): 000:x2's "several" devices, two at least; the
#: flip-chip bonder's head clears a stack of 8 at most.
LEAST_LEVELS = 2
MOST_LEVELS = 8


class StackStep(Recipe):
    """000:x2: multilayer devices: the lot's diced panels, `levels` at a time as they reach
    the flip-chip bonder, the first the base: the units of each other panel, one level each,
    stacked on the base's units as they lie, their balls joined to the top ends of the columns
    below above the balls' liquidus. A lot of a multiple of `levels` panels makes whole
    stacks; `run` refuses any other lot before a tool moves."""

    levels: Annotated[
        int,
        Field(strict=True, ge=LEAST_LEVELS, le=MOST_LEVELS),
        Because(
            "a stack is two panels or more; the bonder's head clears a stack of 8 at most",
            claim="000:x2",
        ),
    ]
    bond: BondStep
    #: how long the first panel waits at the bonder for the others of its stack (process time)
    batch_timeout_s: Annotated[
        float,
        Unit("s"),
        Field(gt=0, le=7 * 24 * 3600),
        Because("a panel waits a week at most for the others of its stack, its balls' flux aging"),
    ] = 24 * 3600.0


class PlateSolderResist(SolderResistRecipe):
    """000:x3's optional solder resist (Fig. 29(2)): a photosensitive resin the litho cell
    coats over the patterned plate's interconnections, plate side up, and opens at every
    land, inside it, through the `land-openings` reticle unless `mask` says another; the
    bumps go through its openings."""

    #: a hole reticle of the stepper's library, by its name: an opening at every land
    mask: ReticleName = "land-openings"


class PlateResist(MouldRecipe):
    """000:x3: the resist the litho cell keeps as an island over every land of the metal
    plate, through the `interconnect-lands` reticle unless `mask` says another land
    reticle."""

    #: a land reticle of the stepper's library, by its name: an island at every land
    mask: ReticleName = "interconnect-lands"


#: The thinnest metal plate a panel is made of (000:x3): thinner, it does not lie flat.
THINNEST_PLATE_UM = 10


class MetalSubstrate(Recipe):
    """000:x3 (the eighth embodiment): the dies bond by their studs on a bare metal plate
    instead of the tape (no holes, no filler); once sealed and ground, the plate is patterned
    into the interconnections: a resist with an island over every land (the litho cell, a land
    reticle, the panel plate side up), the plate etched through around the islands (the wet
    bench's copper etch), the resist stripped."""

    #: the copper plate's thickness: what the etch must go through between the lands
    thickness_um: Annotated[
        float,
        Unit("um"),
        Field(ge=THINNEST_PLATE_UM, le=200),
        Because(
            f"a plate thinner than {THINNEST_PLATE_UM} um does not lie flat; past 200 um the "
            "etch's undercut takes the lands"
        ),
    ]
    #: 000:x3: the resist kept over the lands (a land reticle such as interconnect-lands),
    #: stripped
    resist: PlateResist
    #: 000:x3: the plate etched through around the resist's islands (the copper etch)
    etch: Dip
    #: 000:x3: the resist stripped off the lands
    strip: Dip
    #: the narrowest land the etch's undercut may leave under a terminal
    min_land_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=1000),
        Because("a land wider than 1 mm is wider than a terminal's pitch"),
    ]
    #: 000:x3's optional solder resist: a photosensitive resin the litho cell coats over the
    #: patterned interconnections once the plate resist is stripped, opened at every land
    #: (a hole reticle such as land-openings), the bumps going through the openings
    solder_resist: PlateSolderResist | None = None

    @recipe_check
    def _a_resist_that_is_stripped(self) -> Self:
        if MATERIALS[self.resist.material].layer is not FilmLayer.RESIST:
            raise claim_violation(
                "000:x3",
                "resist.material",
                self.resist.material.value,
                "the plate is etched through a resist that is stripped after, not a resin "
                "that stays on the interconnections",
            )
        return self

    @recipe_check
    def _islands_over_the_lands(self) -> Self:
        require_reticle_of(
            Feature.LAND,
            self.resist.mask,
            "000:x3",
            "resist.mask",
            "the plate is etched into the interconnections around an island of resist kept "
            "over every land",
        )
        return self

    @recipe_check
    def _the_plate_etched_through(self) -> Self:
        """The etch goes through the plate around the islands at its bath's slowest
        (`Dip.require_clears`, as a seed etch is judged): plate left there joins the lands,
        and the refusal names the least time, or the bath, that clears it."""
        plate = FieldMetal(self.thickness_um, f"the {self.thickness_um:g} um plate")
        self.etch.require_clears("000:x3", "etch", Tank.CU_ETCH, plate, "the lands")
        return self

    @recipe_check
    def _lands_kept_past_the_undercut(self) -> Self:
        """The etch reaches as far under each island's edge as it etches down (the simulated
        bench's `undercut`), so the land under a terminal narrows by twice the most it may
        etch (its bath at the warmest it may dip) from the island the cell develops
        (`MouldRecipe.developed_um`): narrower than `min_land_um` fails 000:x3. The refusal
        gives the longest etch that keeps it, and the least that goes through the plate; where
        none does both, what can work (`_what_keeps_the_lands`)."""
        etch, bath = self.etch, BATH_RATES[Tank.CU_ETCH]
        island_um = self.resist.developed_um()
        sideways = 2 * WET_PHYSICS.undercut
        etched_um = etch.most_removed_um(Tank.CU_ETCH)
        land_um = self.narrowest_land_um()
        if land_um >= self.min_land_um:
            return self
        warmest_c = etch.temperature_c + BATH_TOLERANCE_C
        slowest, fastest = bath.band_um_s(etch.temperature_c)
        most_s = math.floor((island_um - self.min_land_um) / (sideways * fastest))
        least_s = bath.least_clearing_s(self.thickness_um, etch.temperature_c)
        advice = f"give at most {most_s} s (the least that goes through the plate is {least_s} s)"
        if most_s < least_s:
            advice = self._what_keeps_the_lands(
                island_um, sideways * fastest, slowest, least_s, most_s
            )
        island = f"the {island_um:.1f} um island of resist.mask = {self.resist.mask}"
        narrowed = (
            f"narrowing {island} (as the cell develops it) to a land of {land_um:.1f} um, "
            f"narrower than min_land_um = {self.min_land_um:g} um"
            if land_um > 0
            else f"taking the whole of {island} (as the cell develops it): no land is left of "
            f"min_land_um = {self.min_land_um:g} um"
        )
        raise claim_violation(
            "000:x3",
            "etch.time_s",
            f"{etch.time_s:g} s",
            f"the bath dips within {BATH_TOLERANCE_C:g} degC of its {etch.temperature_c:g} "
            f"degC: at {warmest_c:g} degC the etch takes up to {um_text(etched_um)} um down "
            f"and as far under each island's edge, {narrowed}: {advice}",
        )

    def _what_keeps_the_lands(
        self,
        island_um: float,
        narrowing_um_s: float,
        slowest_um_s: float,
        least_s: int,
        most_s: int,
    ) -> str:
        """The advice of a refusal where no etch at the recipe's bath both goes through the
        plate (`least_s` at its `slowest_um_s`) and keeps `min_land_um` of the `island_um`
        island (`most_s` at most), which the etch narrows by `narrowing_um_s` at its fastest:
        what can work, each rounded so that it passes, never a width or a time of zero or less
        (an island too narrow for any etch through the plate keeps no land, and no etch keeps
        a land as wide as the island): a narrower `min_land_um` where the etch through leaves
        a land, a wider island (what the resist develops from its reticle's lands), a thinner
        plate that an etch keeping `min_land_um` goes through (at least `THINNEST_PLATE_UM`),
        as `either` offers them."""
        kept = f" (at most {most_s} s)" if most_s > 0 else ""
        at = f"{self.etch.temperature_c:g} degC"
        options = []
        land_um = math.floor(island_um - narrowing_um_s * least_s)
        if land_um > 0:
            options.append(f"min_land_um at most {land_um} um")
        wider_um = math.ceil(self.min_land_um + narrowing_um_s * least_s)
        options.append(
            f"resist.mask with lands that develop at least {wider_um} um wide (those of "
            f"{self.resist.mask} develop {island_um:.1f} um)"
        )
        thickest_um = math.floor(most_s * slowest_um_s)
        if thickest_um >= THINNEST_PLATE_UM:
            options.append(f"thickness_um at most {thickest_um} um")
        return (
            f"no etch at {at} goes through the plate ({least_s} s) and keeps it{kept}: give "
            f"{either(options)}"
        )

    def narrowest_land_um(self) -> float:
        """The narrowest land the etch may leave under a terminal: the island the cell
        develops, less twice the most the etch may take sideways (the bench's undercut, its
        bath at the warmest it may dip)."""
        island_um = self.resist.developed_um()
        sideways_um = 2 * WET_PHYSICS.undercut * self.etch.most_removed_um(Tank.CU_ETCH)
        return island_um - sideways_um

    @recipe_check
    def _a_solder_resist_opened_inside_the_lands(self) -> Self:
        """000:x3's solder resist: a resin that stays, opened through a hole reticle by a
        develop that clears it, each opening inside the narrowest land by the stepper's
        overlay, its field over the interconnections the cover that insulates them (each on
        its own)."""
        resist, path = self.solder_resist, "solder_resist"
        if resist is None:
            return self
        why = "the solder resist is opened at every land, which a hole reticle gives"
        every_problem(
            (
                functools.partial(require_a_resin_that_stays, resist, "000:x3", path),
                functools.partial(
                    require_reticle_of, Feature.HOLE, resist.mask, "000:x3", f"{path}.mask", why
                ),
                functools.partial(resist.require_developed, "000:x3", path),
                functools.partial(self._require_openings_inside_the_lands, resist),
                functools.partial(resist.require_covering, "000:x3", path, "interconnections"),
            )
        )
        return self

    def _require_openings_inside_the_lands(self, resist: PlateSolderResist) -> None:
        """The opening the cell develops lies inside the narrowest land, the resist over its
        edge, wherever the stepper lays it: the land at least twice the stepper's overlay
        (`OVERLAY_UM`) wider than the opening. Wider, an opening laid off its land bares the
        land's edge and the plate's field beside it, where the bump's solder runs."""
        reticle = RETICLES.get(resist.mask)
        if reticle is None or reticle.feature is not Feature.HOLE:
            return  # refused for its mask
        opening_um, land_um = resist.developed_um(), self.narrowest_land_um()
        widest_um = land_um - 2 * OVERLAY_UM
        if opening_um <= widest_um:
            return
        raise claim_violation(
            "000:x3",
            "solder_resist.mask",
            resist.mask,
            f"its {reticle.size_um:g} um holes develop {opening_um:.1f} um across (as the cell "
            f"develops them at solder_resist.dose_mj_cm2 = {resist.dose_mj_cm2:g} mJ/cm^2), "
            f"and the stepper lays them up to {OVERLAY_UM:g} um off the lands (its overlay): "
            f"inside the narrowest land the etch leaves, {land_um:.1f} um, an opening is at "
            f"most {widest_um:.1f} um across, so the resist covers every land's edge: give a "
            f"reticle of smaller holes (a hole reticle of the library: {hole_reticles()})",
        )


def _lands_across(array: AreaArray, axis: str) -> int:
    """The lands of `array` along a unit's `axis`: its columns across the width, its rows
    across the height."""
    return array.columns if axis == "width" else array.rows


def require_balls_in_their_openings(
    balls: ExternalTerminals, opening_um: float, claim: str
) -> None:
    """Refuse a flux on which the balls may land off their solder resist openings
    `opening_um` across: the mounter sets a ball down within its placement error at its most,
    spread by a flux past the swim ratio (`ball_stray_um`); a ball whose centre lands past the
    opening's edge sits on the resist beside it. The refusal gives the most flux that keeps
    them in."""
    stray_um = ball_stray_um(balls.ball_diameter_um, balls.flux_thickness_um)
    radius_um = opening_um / 2
    if stray_um <= radius_um:
        return
    diameter_um = balls.ball_diameter_um
    still_um = ball_stray_um(diameter_um, SWIM_RATIO * diameter_um)
    if still_um > radius_um:
        advice = (
            f"the mounter's placement alone strays {um_text(still_um)} um: no flux keeps them "
            "in: give wider openings"
        )
    else:
        advice = most_flux_advice(diameter_um, radius_um)
    raise claim_violation(
        claim,
        "balls.flux_thickness_um",
        f"{balls.flux_thickness_um:g} um",
        f"balls of {diameter_um:g} um swim in it (past {SWIM_RATIO:g} of their diameter) and "
        f"land up to {um_text(stray_um)} um off their sites, past the edge of their "
        f"{opening_um:.1f} um solder resist openings ({um_text(radius_um)} um from the "
        f"centre): some sit on the resist beside them: {advice}",
    )


class TapeSubstrateRecipe(Recipe):
    """The panel, its dies, and the steps 000:a-g with the variant options."""

    #: 000:a: the incoming tape panel the steps work on, its tape drilled to the
    #: interconnection layer
    panel: PanelRecipe
    #: 000:c, 000:d: the wafer the dies bonded on the tape come from, their terminals on it
    dies: DieWaferRecipe
    #: 000:a: the tape's holes (none on a metal substrate, 000:x3)
    holes: HoleDrilling | None = None
    #: 000:b: their filler (none on a metal substrate, 000:x3)
    fill: FillStep | None = None
    #: 000:c, 000:d: each die flipped, its terminals inserted into the holes, bonded with heat
    #: and force on the tape's top
    bond: BondStep
    seal: SealStep
    grind: GrindStep
    #: 000:x1: solder balls in the solder resist openings, reflowed
    balls: ExternalTerminals | None = None
    #: 000:x3: the dies bonded on a metal plate, which is then patterned into the
    #: interconnections, instead of the tape of 000:a-g
    metal_substrate: MetalSubstrate | None = None
    #: 000:x2: a frame with conductor columns around every die
    frame: FrameStep | None = None
    #: 000:g: the panel cut into package units
    dicing: DicingStep
    #: 000:x2: the diced panels stacked into multilayer devices
    stack: StackStep | None = None

    @recipe_check
    def _holes_in_a_tape_none_in_a_plate(self) -> Self:
        if self.metal_substrate is not None:
            holes, fill = self.holes, self.fill
            if holes is not None:
                raise claim_violation(
                    "000:x3",
                    "holes.diameter_um",
                    f"{holes.diameter_um:g} um",
                    "a metal substrate has no holes: the dies bond on its metal (leave out "
                    "holes and fill)",
                )
            if fill is not None:
                raise claim_violation(
                    "000:x3",
                    "fill.volume_nl",
                    f"{fill.volume_nl:g} nl",
                    "a metal substrate has no holes to fill: the dies bond on its metal (leave "
                    "out fill)",
                )
            return self
        for claim, path, given in (("000:a", "holes", self.holes), ("000:b", "fill", self.fill)):
            if given is None:
                raise claim_violation(
                    claim, path, "none", "a tape panel's holes are drilled and filled"
                )
        return self

    @recipe_check
    def _an_area_array_of_lands_the_tape_takes(self) -> Self:
        """000:x1: an area array's lands on a tape panel without a frame (a framed panel's
        balls go under its columns, 000:x2; a metal plate's lands under its terminals,
        000:x3), a land for every terminal and every land in the ball mounter's map, their
        openings apart and inside the unit clear of the saw's cut (each on its own)."""
        array = self.panel.area_array
        if array is None:
            return self
        if self.metal_substrate is not None or self.frame is not None:
            where = (
                "a metal plate is patterned into a land under each terminal (000:x3)"
                if self.metal_substrate is not None
                else "a framed panel's balls go under its columns, where the packages above "
                "stack (000:x2)"
            )
            raise claim_violation(
                "000:x1",
                "panel.area_array",
                array.layout(),
                f"{where}: leave out panel.area_array",
            )
        every_problem(
            (
                functools.partial(self._require_a_land_a_terminal, array),
                functools.partial(self._require_lands_in_the_map, array),
                functools.partial(self._require_openings_apart, array),
                *(
                    functools.partial(self._require_openings_in_the_unit, array, axis)
                    for axis in ("width", "height")
                ),
            )
        )
        return self

    def _require_a_land_a_terminal(self, array: AreaArray) -> None:
        """Each die terminal's hole is routed on the interconnection layer to a land of its
        own: at least as many lands as terminals."""
        terminals = self.panel.terminal_sites
        if array.lands < terminals:
            raise claim_violation(
                "000:x1",
                "panel.area_array.rows",
                str(array.rows),
                f"the interconnection layer routes each of a unit's {terminals} terminal holes "
                f"(4 x panel.holes_per_die_side) to a land of its own, and an area array of "
                f"{array.layout()} has {array.lands}: give at least {terminals} lands",
            )

    def _require_lands_in_the_map(self, array: AreaArray) -> None:
        """The ball mounter's map addresses a unit's first `MAX_MAP_POSITIONS` sites: the
        lands, after the holes, must lie among them."""
        last = self.panel.resist_openings().stop
        if last > MAX_MAP_POSITIONS:
            raise claim_violation(
                "000:x1",
                "panel.area_array.rows",
                str(array.rows),
                f"a unit's {array.lands} lands of {array.layout()} follow its "
                f"{self.panel.terminal_sites} holes in its site order, to its site {last - 1}, "
                f"and the ball mounter's map addresses a unit's sites 0-{MAX_MAP_POSITIONS - 1} "
                f"(the tool's limit): give at most {MAX_MAP_POSITIONS - self.panel.terminal_sites}"
                " lands",
            )

    def _require_openings_apart(self, array: AreaArray) -> None:
        """Two openings the laser makes at neighbouring lands keep resist between them."""
        opening = self.holes.resist_opening_um if self.holes is not None else 0.0
        if array.pitch_um <= opening:
            raise claim_violation(
                "000:x1",
                "panel.area_array.pitch_um",
                f"{array.pitch_um:g} um",
                f"the laser opens the solder resist holes.resist_opening_um = {opening:g} um "
                f"across at every land: at this pitch they merge: give more than {opening:g} um",
            )

    def _require_openings_in_the_unit(self, array: AreaArray, axis: str) -> None:
        """The outermost openings lie inside the unit, clear of the saw's cut along its edge
        (half the blade on each side of the street)."""
        opening = self.holes.resist_opening_um if self.holes else 0.0
        unit_mm = getattr(self.panel, f"unit_{axis}_mm")
        lands = _lands_across(array, axis)
        kerf = self.dicing.blade_thickness_um
        room_um = self._room_um(axis)

        def span_um_at(pitch_um: float) -> float:
            """From the first opening's centre to the last at `pitch_um`."""
            return (lands - 1) * pitch_um

        span_um = span_um_at(array.pitch_um)
        if span_um <= room_um:
            return
        most_pitch_um = most_that_passes(
            room_um / (lands - 1), 1, lambda pitch_um: span_um_at(pitch_um) <= room_um
        )
        most = f"give at most {most_pitch_um:g} um"
        raise claim_violation(
            "000:x1",
            "panel.area_array.pitch_um",
            f"{array.pitch_um:g} um",
            f"the {lands} lands across a unit's {axis} span {span_um:g} um from the first "
            f"opening's centre to the last; with their holes.resist_opening_um = {opening:g} um "
            f"they must lie inside the unit's panel.unit_{axis}_mm = {unit_mm:g} mm clear of "
            f"the saw's dicing.blade_thickness_um = {kerf:g} um cut: {most}",
        )

    def _room_um(self, axis: str) -> float:
        """How far apart the first and last of a unit's openings along its `axis` (width,
        height) may lie: the unit less the saw's cut along its edges (half the blade on each
        side of the street) and an opening's width (the outermost openings' halves)."""
        opening = self.holes.resist_opening_um if self.holes else 0.0
        unit_um = getattr(self.panel, f"unit_{axis}_mm") * 1000
        room_um: float = unit_um - self.dicing.blade_thickness_um - opening
        return room_um

    @recipe_check
    def _plate_resist_developed_and_stripped(self) -> Self:
        """000:x3: the resist over the lands developed open down to the plate around them
        (`MouldRecipe.require_developed`) and taken off whole by its strip
        (`MouldRecipe.require_stripped_by`)."""
        metal = self.metal_substrate
        if metal is not None:
            resist, strip = "metal_substrate.resist", "metal_substrate.strip"
            every_problem(
                (
                    functools.partial(metal.resist.require_developed, "000:x3", resist),
                    functools.partial(
                        metal.resist.require_stripped_by, metal.strip, "000:x3", resist, strip
                    ),
                )
            )
        return self

    @recipe_check
    def _die_wafer_holds_a_panel_of_dies(self) -> Self:
        """A die from the panel's die wafer on every unit: as many whole dies of the panel's
        size as it has units, refused naming the least diameter that has them."""
        panel, dies = self.panel, self.dies
        whole = int(die_grid(dies.spec(panel)).shape[0])
        if whole >= panel.units:
            return self
        least = next(
            (
                diameter
                for diameter in range(math.ceil(dies.diameter_mm), LARGEST_DIE_WAFER_MM + 1)
                if die_grid(replace(dies.spec(panel), diameter_mm=diameter)).shape[0] >= panel.units
            ),
            None,
        )
        fix = (
            f"give at least {least} mm"
            if least is not None
            else f"no wafer up to {LARGEST_DIE_WAFER_MM} mm holds them: fewer units or smaller dies"
        )
        raise claim_violation(
            "000:d",
            "dies.diameter_mm",
            f"{dies.diameter_mm:g} mm",
            f"a die is mounted on each of the panel's {panel.units} units (panel.rows x "
            f"panel.columns), and the die wafer holds {whole} whole dies of "
            f"{panel.die_width_mm:g} x {panel.die_height_mm:g} mm (panel.die_width_mm, "
            f"panel.die_height_mm): {fix}",
        )

    @recipe_check
    def _terminals_as_tall_as_the_studs_stand(self) -> Self:
        require_the_height_the_studs_give(self.dies.terminals, "dies.terminals", "000:c")
        return self

    @recipe_check
    def _terminals_fit_the_holes(self) -> Self:
        """Each of a die's terminals goes into its hole: the flip-chip bonder seats a stud
        only where it lands within (hole - stud) / 2 of its hole's centre, so a hole is wider
        than the widest stud the program bonds by twice the farthest the bonder lands one off
        (`FlipChipPhysics.farthest_landing_um`, at the farthest hole from the unit's centre);
        holes only wider than the studs had validated and held their panels at 'bond dies',
        the dies whose studs landed off their holes not bonded. And no stud taller than its
        hole."""
        terminals, holes = self.dies.terminals, self.holes
        if holes is None:
            return self
        widest_um = self.dies.terminal_bases_um()[1]
        radius_um = farthest_terminal_um(self.panel.spec())
        landing_um = BONDER_PHYSICS.farthest_landing_um(radius_um)
        least_um = widest_um + 2 * landing_um
        if holes.diameter_um < least_um:
            least = least_that_passes(least_um, 1, lambda diameter_um: diameter_um >= least_um)
            widest_hole = tool_range("laser", "co2_via_diameter_um").maximum
            give = (
                f"give at least {least:g} um"
                if least <= widest_hole
                else f"no hole the laser drills (at most {widest_hole:g} um) takes them: "
                "narrower studs (a thinner dies.terminals.wire_diameter_um)"
            )
            raise claim_violation(
                "000:c",
                "holes.diameter_um",
                f"{holes.diameter_um:g} um",
                f"a terminal goes into its hole only where the flip-chip bonder lands it within "
                f"(hole - terminal) / 2 of the hole's centre: the studs dies.terminals bonds "
                f"are up to {widest_um:g} um across their base, and the bonder lands one up to "
                f"{landing_um:.1f} um off ({LANDING_SIGMAS:g} sigma of its vision's "
                f"{BONDER_PHYSICS.placement_sigma_um:g} um placement on each axis and "
                f"{BONDER_PHYSICS.rotation_sigma_mdeg:g} mdeg rotation, at the farthest hole, "
                f"{radius_um / 1000:.2f} mm from the unit's centre): {give}",
            )
        if terminals.height_um > self.panel.tape_thickness_um:
            raise claim_violation(
                "000:c",
                "dies.terminals.height_um",
                f"{terminals.height_um:g} um",
                f"a terminal taller than its hole (panel.tape_thickness_um = "
                f"{self.panel.tape_thickness_um:g} um) holds its die off the tape's top",
            )
        return self

    @recipe_check
    def _holes_apart(self) -> Self:
        """Two neighbouring holes (closest where a die's edges meet at its corner) keep at
        least `LEAST_HOLE_WEB_UM` of tape between them: holes that overlap or nearly touch
        had validated and passed. The refusal gives the counts of holes a side that keep it."""
        holes, panel = self.holes, self.panel
        if holes is None:
            return self
        web_um = self._hole_web_um(panel.spec(), holes.diameter_um)
        if web_um >= LEAST_HOLE_WEB_UM:
            return self
        between = (
            f"{web_um:.1f} um of tape between them, less than"
            if web_um >= 0
            else f"overlapping by {-web_um:.1f} um, where there must be"
        )
        columns = " and its column holes" if panel.column_sites else ""
        fewer = self._holes_that_fit(
            lambda spec: self._hole_web_um(spec, holes.diameter_um) >= LEAST_HOLE_WEB_UM
        )
        raise claim_violation(
            "000:a",
            "panel.holes_per_die_side",
            str(panel.holes_per_die_side),
            f"the laser drills holes.diameter_um = {holes.diameter_um:g} um holes at a unit's "
            f"{panel.holes_per_die_side} terminal sites a die side{columns}, the nearest two "
            f"{web_um + holes.diameter_um:.1f} um apart centre to centre: {between} "
            f"the {LEAST_HOLE_WEB_UM:g} um web the tape needs between two holes (the laser "
            f"chars each wall, the filler wets across a narrower one): give {fewer}",
        )

    @staticmethod
    def _hole_web_um(spec: PanelSpec, diameter_um: float) -> float:
        """The tape left between the nearest two holes of `diameter_um` on a panel of
        `spec` (its dies' terminal holes and its column holes), um: less than 0 where they
        overlap."""
        holes = range(4 * (spec.holes_per_die_side + spec.columns_per_side))
        return nearest_site_pitch_um(spec, holes) - diameter_um

    @recipe_check
    def _filler_and_terminal_fill_the_hole(self) -> Self:
        if self.holes is None or self.fill is None:
            return self
        hole = self.panel.hole_volume_nl(self.holes.diameter_um)
        terminal = self.dies.terminal_volume_nl(self.panel)
        if misfit := self.fill.misfit(hole, terminal):
            raise claim_violation(
                "000:b",
                "fill.volume_nl",
                f"{self.fill.volume_nl:g} nl",
                f"with a terminal's {terminal:.3g} nl (the stud dies.terminals bonds, by the "
                f"line's stud law) it {misfit} (holes.diameter_um = "
                f"{self.holes.diameter_um:g} um through panel.tape_thickness_um = "
                f"{self.panel.tape_thickness_um:g} um)",
            )
        return self

    @recipe_check
    def _a_frame_on_its_column_holes(self) -> Self:
        frame, panel = self.frame, self.panel
        if frame is None:
            if panel.columns_per_side:
                raise claim_violation(
                    "000:x2",
                    "frame",
                    "none",
                    f"panel.columns_per_side = {panel.columns_per_side}: a frame's columns go "
                    "in the column holes, or they stay short of filler (set frame, or 0)",
                )
            return self
        if self.metal_substrate is not None:
            raise claim_violation(
                "000:x2",
                "frame.column_diameter_um",
                f"{frame.column_diameter_um:g} um",
                "a frame's columns go into a tape's filled holes, and a metal substrate has "
                "none (leave out frame)",
            )
        if self.holes is None or self.fill is None:
            return self  # refused for the holes or fill left out
        if not panel.columns_per_side:
            raise claim_violation(
                "000:x2",
                "panel.columns_per_side",
                "none" if panel.columns_per_side is None else "0",
                "a frame's conductor columns need holes in the tape: give at least 1 a side",
            )
        if frame.column_diameter_um >= self.holes.diameter_um:
            raise claim_violation(
                "000:x2",
                "frame.column_diameter_um",
                f"{frame.column_diameter_um:g} um",
                f"a column must go into its hole: narrower than holes.diameter_um = "
                f"{self.holes.diameter_um:g} um",
            )
        hole = panel.hole_volume_nl(self.holes.diameter_um)
        column = frame.column_volume_nl(panel)
        if misfit := self.fill.misfit(hole, column):
            raise claim_violation(
                "000:x2",
                "frame.column_protrusion_um",
                f"{frame.column_protrusion_um:g} um",
                f"a column of frame.column_diameter_um = {frame.column_diameter_um:g} um takes "
                f"{column:.3g} nl of its hole: with fill.volume_nl it {misfit} (the one fill "
                "serves terminals and columns)",
            )
        height = self.ground_height_um()
        if frame.thickness_um < height:
            raise claim_violation(
                "000:x2",
                "frame.thickness_um",
                f"{frame.thickness_um:g} um",
                f"the grind must reach the frame's top to expose its columns' top ends: at "
                f"least the ground height {height:g} um (grind.thickness_um less the tape, "
                f"its metal and its solder resist)",
            )
        return self

    @recipe_check
    def _a_stack_of_framed_panels_on_their_balls(self) -> Self:
        stack = self.stack
        if stack is None:
            return self
        every_problem(
            (
                functools.partial(self._require_framed, stack),
                self._require_balls_under_the_columns,
            )
        )
        return self

    def _require_framed(self, stack: StackStep) -> None:
        if self.frame is None:
            raise claim_violation(
                "000:x2",
                "frame",
                "none",
                f"stack.levels = {stack.levels}: packages stack on the top ends of a frame's "
                "conductor columns: give a frame section",
            )

    def _require_balls_under_the_columns(self) -> None:
        """A ball under each column of a stacked package: from the first column site, one a
        column; each field that says otherwise is named with what it was given."""
        balls, first = self.balls, self.panel.terminal_sites
        columns = self.panel.column_sites
        why = (
            f"a stacked package joins the columns below by a ball under each of its columns: "
            f"balls.first_site = {first} and balls.balls_per_unit = {columns} (4 x "
            f"panel.holes_per_die_side, 4 x panel.columns_per_side)"
        )
        if balls is None:
            raise claim_violation("000:x2", "balls", "none", f"{why}: give a balls section")
        wrong = [
            (path, given)
            for path, given, wanted in (
                ("balls.first_site", balls.first_site, first),
                ("balls.balls_per_unit", balls.balls_per_unit, columns),
            )
            if given != wanted
        ]
        every_problem(
            functools.partial(
                _raise, claim_violation("000:x2", path, "none" if given is None else given, why)
            )
            for path, given in wrong
        )

    @recipe_check
    def _dies_and_frames_joined_by_the_filler(self) -> Self:
        """The dies' terminals (000:d) and a frame's columns (000:x2) join the holes only
        where the filler does, judged by the same checks as a solder joint: a solder filler
        melted and pressed until it wets (`require_joined_above_the_liquidus`,
        `require_pressed_until_wetted`), a paste held at its gel temperature for its gel time
        (`require_joint_hot_enough`, `require_pressed_for`), each bond on its own."""
        fill = self.fill
        if fill is None:
            return self  # a metal substrate's bond has no filler
        bonds = [(self.bond, "bond", "000:d", "dies' terminals")]
        if self.frame is not None:
            bonds.append((self.frame.bond, "frame.bond", "000:x2", "frame's columns"))
        every_problem(
            functools.partial(check, bond, claim, parts, fill.material, path)
            for bond, path, claim, parts in bonds
            for check in (_hot_enough_for_the_filler, _long_enough_for_the_filler)
        )
        return self

    @recipe_check
    def _stacked_balls_joined_to_the_columns(self) -> Self:
        """A stacked package's balls join the column tops below only molten and pressed long
        enough, judged as two-process-via's devices are on their board
        (`require_joined_above_the_liquidus`, `require_pressed_until_wetted`)."""
        stack, balls = self.stack, self.balls
        if stack is None or balls is None:
            return self
        columns, path, parts = "the column tops below", "stack.bond", "stacked packages"
        claim, alloy = "000:x2", balls.alloy.value
        every_problem(
            (
                functools.partial(
                    require_joined_above_the_liquidus,
                    stack.bond,
                    alloy,
                    claim,
                    parts,
                    "balls",
                    path=path,
                    onto=columns,
                ),
                functools.partial(
                    require_pressed_until_wetted,
                    stack.bond,
                    claim,
                    parts,
                    "balls",
                    path=path,
                    pads=columns,
                ),
            )
        )
        return self

    @recipe_check
    def _ground_flush_inside_the_seal(self) -> Self:
        """The seal covers the dies (000:e) and the grind cuts their backs (000:f), each on
        its own."""
        every_problem((self._require_dies_sealed, self._require_backs_ground))
        return self

    def _require_dies_sealed(self) -> None:
        """The sealing resin reaches the dies' backs, or their side faces stand out of it (the
        dispenser counts them exposed), and stands above the ground height, so the grind
        cuts resin all over."""
        base, height = self.base_um(), self.ground_height_um()
        seal, dies = self.seal.height_um, self.dies.thickness_um
        if seal >= dies and seal > height:
            return
        least = f"give at least {dies:g} um" if dies > height else f"give more than {height:g} um"
        raise claim_violation(
            "000:e",
            "seal.height_um",
            f"{seal:g} um",
            f"must reach the dies' backs, dies.thickness_um = {dies:g} um above "
            f"{'the plate' if self.metal_substrate else 'the tape'}, and stand above the ground "
            f"height ({height:g} um: grind.thickness_um less {self.under_the_dies()}, "
            f"{base:g} um), or the dies' side faces are not sealed to the top: {least}",
        )

    def _require_backs_ground(self) -> None:
        """The grind cuts the die backs and leaves at least `THINNEST_DIE_UM` of each die:
        a grind down to a few um of die had validated and passed 000:f."""
        base, height = self.base_um(), self.ground_height_um()
        if height < THINNEST_DIE_UM:
            least = base + THINNEST_DIE_UM
            left = f"leaves {height:g} um of the dies" if height > 0 else "grinds through the dies"
            raise claim_violation(
                "000:f",
                "grind.thickness_um",
                f"{self.grind.thickness_um:g} um",
                f"{left} above {self.under_the_dies()} ({base:g} um), thinner than the "
                f"{THINNEST_DIE_UM} um the line takes a die at (the thinnest its bonder's "
                f"ejector picks uncracked): give at least {least:g} um",
            )
        if self.dies.thickness_um <= height:
            raise claim_violation(
                "000:f",
                "grind.thickness_um",
                f"{self.grind.thickness_um:g} um",
                f"must leave the die backs ground: between the panel's base "
                f"{base:g} um and the dies' back at {base + self.dies.thickness_um:g} um",
            )

    @recipe_check
    def _units_leave_room_for_the_saw(self) -> Self:
        """Each of a unit's sides (each on its own) is wider than its die's by the widest
        kerf the line passes and the chipping on either side of it: the saw cuts along the
        units' edges, and a unit only as wide as its die (validated before) had the kerf cut
        into every die and passed 000:g. Refused at the unit's side (a die wider than its
        unit is refused at the die's, 000:d)."""
        every_problem(
            functools.partial(self._require_room_for_the_saw, axis) for axis in ("width", "height")
        )
        return self

    def _require_room_for_the_saw(self, axis: str) -> None:
        panel, blade_um = self.panel, self.dicing.blade_thickness_um
        unit_mm, die_mm = getattr(panel, f"unit_{axis}_mm"), getattr(panel, f"die_{axis}_mm")
        if die_mm > unit_mm:
            return  # refused at the die (000:d)
        kerf_um = blade_um + KERF_ALLOWANCE_UM
        room_um = kerf_um + 2 * DICING_CHIPPING_UM
        least_mm = die_mm + room_um / 1000
        if unit_mm >= least_mm - 1e-9:
            return
        least = least_that_passes(least_mm, 3, lambda width_mm: width_mm >= least_mm - 1e-9)
        raise claim_violation(
            "000:g",
            f"panel.unit_{axis}_mm",
            f"{unit_mm:g} mm",
            f"the saw cuts every unit free along its edges: a kerf of up to {kerf_um:g} um "
            f"(dicing.blade_thickness_um = {blade_um:g} um and the {KERF_ALLOWANCE_UM:g} um "
            f"wider the line passes), chipping up to {DICING_CHIPPING_UM:g} um beyond it on "
            f"either side, so a unit's {axis} exceeds its die's (panel.die_{axis}_mm = "
            f"{die_mm:g} mm) by {room_um:g} um in all, half of it at each edge, or the saw cuts "
            f"into the die: give at least {least:g} mm",
        )

    def ground_height_um(self) -> float:
        """How high the grind leaves the package above what lies under the dies."""
        return self.grind.thickness_um - self.base_um()

    def under_the_dies(self) -> str:
        """What the dies stand on, as a refusal names it."""
        return "the plate" if self.metal_substrate else "the tape, its metal and its solder resist"

    @recipe_check
    def _a_ball_in_each_opening(self) -> Self:
        """A ball goes through a solder resist opening (000:x1) or on a land of a patterned
        plate (000:x3): every position of the map is one of a unit's openings."""
        panel, balls = self.panel, self.balls
        if balls is None:
            return self
        openings = panel.resist_openings()
        if balls.first in openings and balls.first + balls.balls_per_unit <= openings.stop:
            return self
        where = "lands" if self.metal_substrate else "solder resist openings"
        if panel.area_array is None:
            layout = "4 x panel.holes_per_die_side, and 4 x panel.columns_per_side"
        else:
            layout = f"at the lands of panel.area_array, {panel.area_array.layout()}"
        field, value = "balls.balls_per_unit", str(balls.balls_per_unit)
        if balls.first not in openings:
            field, value = "balls.first_site", str(balls.first)
        raise claim_violation(
            self.balls_claim(),
            field,
            value,
            f"a unit has {len(openings)} {where} ({layout}), its sites {openings.start}-"
            f"{openings.stop - 1}: a ball goes on one, from balls.first_site = {balls.first} "
            f"on balls.balls_per_unit = {balls.balls_per_unit} sites",
        )

    @recipe_check
    def _balls_apart_in_the_openings(self) -> Self:
        """The balls sit on the unit's openings (a die's terminal holes, a frame's columns),
        closest where two edges meet at a die's corner, where they must not touch
        (`SolderBallRecipe.require_apart`)."""
        balls, panel = self.balls, self.panel
        if balls is None:
            return self
        layout = (
            f"the openings of panel.holes_per_die_side = {panel.holes_per_die_side} a side of "
            f"{panel.die_width_mm:g} x {panel.die_height_mm:g} mm dies"
        )
        that_fit = functools.partial(self._holes_the_balls_fit, balls)
        if panel.area_array is not None:
            layout = f"the lands of panel.area_array, {panel.area_array.layout()},"
            that_fit = functools.partial(self._pitches_that_fit, balls, panel.area_array)
        pitch = nearest_site_pitch_um(panel.spec(), balls.sites())
        balls.require_apart(pitch, self.balls_claim(), "balls", layout, that_fit)
        return self

    @recipe_check
    def _balls_in_their_openings_on_the_metal(self) -> Self:
        """A ball lands inside its solder resist opening and reaches the metal through it
        (each on its own): the tape's resist (000:x1), opened by the laser, or a metal
        plate's (000:x3), developed by the cell."""
        balls, plate = self.balls, self.metal_substrate
        if balls is None:
            return self
        if plate is None and self.holes is not None:
            opening_um, resist_um = self.holes.resist_opening_um, self.panel.solder_resist_um
            resist = "panel.solder_resist_um (holes.resist_opening_um)"
        elif plate is not None and plate.solder_resist is not None:
            opening_um = plate.solder_resist.developed_um()
            resist_um = plate.solder_resist.film_um()
            resist = "metal_substrate.solder_resist (its spin, its mask as the cell develops it)"
        else:
            return self  # a bare plate's lands: nothing over them
        claim = self.balls_claim()
        every_problem(
            (
                functools.partial(require_balls_in_their_openings, balls, opening_um, claim),
                functools.partial(
                    balls.require_through_the_resist, opening_um, resist_um, claim, resist, "balls"
                ),
            )
        )
        return self

    def _pitches_that_fit(
        self, balls: ExternalTerminals, array: AreaArray, fits: Callable[[float], bool]
    ) -> str:
        """The least pitch of the area array, in whole um above its own, at which (the
        balls' sites' nearest pitch, within and across units) `fits`, while its openings
        stay inside the unit (none: say so)."""
        most_um = min(
            self._room_um(axis) / (max(_lands_across(array, axis), 2) - 1)
            for axis in ("width", "height")
        )
        for pitch in range(math.floor(array.pitch_um) + 1, math.floor(most_um) + 1):
            wider = self.panel.model_copy(
                update={"area_array": array.model_copy(update={"pitch_um": float(pitch)})}
            )
            if fits(nearest_site_pitch_um(wider.spec(), balls.sites())):
                return f"an area array at panel.area_array.pitch_um = {pitch} um or more"
        return "no pitch of this area array inside the unit"

    def _holes_the_balls_fit(self, balls: ExternalTerminals, fits: Callable[[float], bool]) -> str:
        """The counts of holes a side at whose pitch of the balls' sites
        (`nearest_site_pitch_um`) they `fits` (`_holes_that_fit`)."""
        return self._holes_that_fit(lambda spec: fits(nearest_site_pitch_um(spec, balls.sites())))

    def _holes_that_fit(self, fits: Callable[[PanelSpec], bool]) -> str:
        """Every other count of holes a side the panel's dies take (the field's range) whose
        panel `fits`, most first (none: say so). Each is tried: a pitch does not fall steadily
        with more holes (the sites at a die's corners come closer and part again as the count
        changes), so some counts between two that fit do not (27 and 26 fit, 10 to 25 do not,
        9 and fewer do): "at most 27" sent a user to 20, refused again, and a user at 20 is
        told of 26 and 27 as well as of 9."""
        spec = self.panel.spec()
        facts = facts_of(type(self.panel), "holes_per_die_side")
        assert facts is not None  # the field's range bounds it
        assert facts.high is not None
        most = int(facts.high.value)
        fitting = [
            count
            for count in range(most, 0, -1)
            if count != spec.holes_per_die_side and fits(replace(spec, holes_per_die_side=count))
        ]
        if not fitting:
            return "no layout of holes along these dies' edges"
        runs: list[list[int]] = []  # each [most, least] of counts that fit one after another
        for count in fitting:
            if runs and runs[-1][1] == count + 1:
                runs[-1][1] = count
            else:
                runs.append([count, count])
        texts = [_counts_text(high, low) for high, low in runs]
        holes = "hole" if texts[0] == "1" else "holes"
        also = "".join(f", or {text}" for text in texts[1:])
        return f"a panel of {texts[0]} {holes} a side{also} (panel.holes_per_die_side)"

    def lot_problem(self, lot: int) -> str | None:
        """A lot that is not a whole number of stacks: its panels stack `stack.levels` at a
        time, so a short last batch (every panel of a lot smaller than a stack) stands
        fewer levels high than the recipe's devices and fails 000:x2 hours into the line.
        Refused naming the nearest lots of whole stacks and the levels that divide this lot."""
        stack = self.stack
        if stack is None or lot % stack.levels == 0:
            return None
        levels = stack.levels
        left = lot % levels
        if lot < levels:
            short = (
                f"a stack takes {levels} panels of the lot, more than its {lot}: none is a "
                "whole stack and each fails"
            )
        else:
            last = (
                "its last panel would be a base with nothing stacked on it"
                if left == 1
                else f"its last {left} panels would make a stack {left} high"
            )
            short = (
                f"the lot's panels stack {levels} at a time, and {lot} is not a multiple of "
                f"{levels}: {last}, short of the {levels} levels, and fail"
            )
        whole = [n for n in (lot - left, lot - left + levels) if 0 < n <= MAX_LOT]
        dividing = [n for n in range(LEAST_LEVELS, MOST_LEVELS + 1) if lot % n == 0]
        fewer = f" or stack.levels = {either(dividing)}" if dividing else ""
        return (
            f"stack.levels = {levels}: {short} claim 000:x2 hours into the line: give a lot "
            f"of {either(whole)} (a multiple of {levels} makes whole stacks only){fewer}"
        )

    def balls_claim(self) -> str:
        """The claim the balls carry out: external terminals through the solder resist
        (000:x1), or the bumps on a patterned plate's lands (000:x3)."""
        return "000:x1" if self.metal_substrate is None else "000:x3"

    def base_um(self) -> float:
        """What lies under the dies: the tape with its metal and solder resist, or the plate."""
        plate = self.metal_substrate
        return self.panel.base_um if plate is None else plate.thickness_um

    def incoming(self, wafer_id: str) -> PanelSpec | WaferSpec:
        """What arrives at the line: a panel (or a metal plate of its units), or (named for
        its panel) its die wafer."""
        if wafer_id.startswith(DIE_WAFER_PREFIX):
            return self.dies.spec(self.panel)
        plate = self.metal_substrate
        if plate is None:
            return self.panel.spec()
        return replace(self.panel.spec(), metal_substrate=True, interconnect_um=plate.thickness_um)


def _counts_text(most: int, least: int) -> str:
    """Counts from `least` to `most`, one after another, as a refusal advises them: `27`,
    `26 or 27`, `20 to 27`, `at most 9` (down to 1)."""
    if least == most:
        return str(most)
    if least == 1:
        return f"at most {most}"
    return f"{least} or {most}" if most == least + 1 else f"{least} to {most}"
