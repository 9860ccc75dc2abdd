"""The recipe model of bump-seal-clean: every option with its units and limits, and the
claims' own constraints."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, Literal, Self

import numpy as np
from pydantic import Discriminator, Field, Tag

from packline.drivers.roles.ball_mounter import BallAlloy
from packline.drivers.roles.dicing_saw import DicingRecipe, StreetMap
from packline.drivers.roles.electroplater import SOLDER_ALLOYS, Metal
from packline.drivers.roles.flip_chip_bonder import (
    WETTING_TIME_S,
    BondRecipe,
    SolderTransfer,
    TransferAlloy,
    joint_temperature_c,
    least_head_c,
)
from packline.drivers.roles.laminator import (
    RESIN_SPREAD_FRACTION,
    RESIN_SPREAD_SIGMAS,
    SMEAR,
    LaminationJob,
    PressRecipe,
    ResinSheet,
    SupportKind,
    thickest_laminated_um,
    thickest_sheet_below_um,
    thinnest_laminated_um,
)
from packline.drivers.roles.laser import Atmosphere, CleanRecipe, gas_jet_problem
from packline.drivers.roles.oven import (
    EUTECTIC_SOLDERS,
    LIQUIDUS_C,
    PAD_TO_BALL_RATIO,
    REFLOWED_BUMP_FLUX_NM,
    REFLOWED_BUMP_OXIDE_NM,
    SOLIDUS_C,
)
from packline.drivers.roles.stencil_printer import PrintRecipe, SolderPaste
from packline.drivers.roles.wire_bonder import (
    REFERENCE_ENERGY_UJ,
    REFERENCE_FORCE_GF,
    STUD_HEIGHT_SPREAD,
    STUD_SPREAD_SIGMAS,
    BondProgram,
    WireMaterial,
    stud_heights_um,
    stud_tip_oxide_nm,
)
from packline.sequences.engine import (
    ClaimIds,
    Feeds,
    Recipe,
    ToolSetpoint,
    claim_violation,
    every_problem,
    least_whole,
    recipe_check,
)
from packline.sequences.engine.recipe_meta import Because, CheckedChoices, tool_range
from packline.sim_instruments.physics.flip_chip_bonder import FlipChipPhysics
from packline.sim_instruments.physics.flip_chip_transfer import LeastLayer, least_layer
from packline.sim_instruments.physics.laser import (
    LaserPhysics,
    cleaned_oxide_nm,
    cleaned_residue_nm,
)
from packline.sim_instruments.physics.oven import truncated_sphere_height_um
from packline.sim_instruments.physics.stencil_printer import (
    PrintPhysics,
    ProjectingTips,
    ReflowedSolder,
    aperture_clears,
    bridged_um,
    inspected_deposit_nl,
    inspected_share,
    least_transfer_efficiency,
    most_transfer_efficiency,
    open_nl,
    printed_solder,
    stencil_clears,
)
from packline.sim_instruments.twin import WaferSpec, die_grid, pad_pitch_um, wafer_site_count
from packline.units import Unit

from ..conditions import CLEAN_NM
from ..plasma_clean import CLEAN_MARGIN_NM, PlasmaCleanRecipe
from ..solder import (
    PlatingStep,
    ReflowRecipe,
    SolderBallRecipe,
    um_text,
)
from ..suggestion_rounding import rounded_down, rounded_up
from ..wafers import BOARD_SITES

#: The wafer bump-seal-clean runs on: the simulated line's (the method names no incoming
#: wafer of its own); a plated solder layer's area counts its dies.
LINE_WAFER = WaferSpec()

#: How far outside a stud program's shortest and tallest the range a recipe states is given at
#: least, um: a deliberate margin, so a stated height at the range's end is one it makes.
STUD_RANGE_MARGIN_UM = 0.005


def stated_stud_range_um(low_um: float, high_um: float) -> tuple[float, float]:
    """The range a recipe is told a stud program makes, from its least `low_um` to its most
    `high_um` (a height or a base, by the line's stud law): to 0.1 um outside them and at
    least `STUD_RANGE_MARGIN_UM`, so a stated value at its end is one the program makes."""
    return (
        rounded_down(low_um - STUD_RANGE_MARGIN_UM, 1),
        rounded_up(high_um + STUD_RANGE_MARGIN_UM, 1),
    )


#: How far a solder bump's stated height may be from what its ball gives: the ball's height
#: to a whole micrometre (88 um for a 100 um ball's 87.8 um).
BALL_HEIGHT_ROUNDING_UM = 0.5

#: The laser's cleaning physics, the simulated laser's (`LaserPhysics`, its defaults the line's
#: figures): a laser clean's pulses and atmosphere are judged by it before the run, as the
#: plasma's steps are by the chamber's rates.
LASER_PHYSICS = LaserPhysics()

#: The stencil printer's physics, the simulated printer's (`PrintPhysics`, its defaults the
#: line's figures): a print's layer and its bridges are judged by it before the run.
PRINT_PHYSICS = PrintPhysics()

#: The flip-chip bonder's physics, the simulated bonder's: what a transfer leaves on a tip.
TRANSFER_PHYSICS = FlipChipPhysics()

#: The thickest stencil the printer takes: a printed layer is at most as thick as it.
THICKEST_STENCIL_UM = tool_range("stencil_printer", "stencil_thickness_um").maximum

#: The thickest solder film on a transfer sheet the flip-chip bonder takes: a transferred layer
#: is thinner than it.
THICKEST_FILM_UM = tool_range("flip_chip_bonder", "film_um").maximum


def _reference_studs_um(wire_um: float, stack: int) -> str:
    """The heights `stack` gold studs of `wire_um` wire stand at the bonder's reference program
    (`REFERENCE_FORCE_GF`, `REFERENCE_ENERGY_UJ`), by the line's stud law (`stud_heights_um`),
    in whole um outside them: for the reason of `BumpRecipe.height_um`'s bounds."""
    program = BondProgram(
        WireMaterial.AU, wire_um, 150.0, REFERENCE_FORCE_GF, REFERENCE_ENERGY_UJ / 10, 10.0
    )
    low, high = stud_heights_um(program, stack)
    return f"{math.floor(low)}-{math.ceil(high)}"


#: One stud of the bonder's thinnest wire and four of its thickest, as `_reference_studs_um`
#: gives them.
STUDS_SPAN = (
    _reference_studs_um(tool_range("wire_bonder", "wire_diameter_um").minimum, 1),
    _reference_studs_um(
        tool_range("wire_bonder", "wire_diameter_um").maximum,
        int(tool_range("wire_bonder", "stack_count").maximum),
    ),
)

#: A kerf wider than the blade by more than this means a worn or wobbling blade.
KERF_ALLOWANCE_UM = 10.0

#: How far a cut's depth into the dicing tape may stray from the recipe's, either way, um
#: (the line's window, 20-40 um about the reference's 30 um into the 90 um tape): shallower,
#: the blade may stop in the tape's adhesive and leave dies joined at their back edges;
#: deeper, it thins the tape's base film, which tears as the tape is stretched to pick the
#: dies, or lets the blade through to the chuck. A blade whose height is set up holds it to a
#: few um; one worn since its setup cuts shallower by its wear.
DEPTH_INTO_TAPE_TOLERANCE_UM = 10.0


@dataclass(frozen=True)
class Tips:
    """The bump tips a cleaning finds: the oxide on them, whether their metal `oxidises` in
    O2 (a noble one does not), what they are, for a refusal, and the residue their bumping
    left on them (the resin's smear comes on top)."""

    oxide_nm: float
    oxidises: bool
    metal: str
    residue_nm: float = 0.0


class BumpRecipe(Recipe):
    """003:7.1: stud bumps on every pad, and the heights the process is expected to give."""

    method: Literal["stud"] = "stud"
    wire: WireMaterial
    wire_diameter_um: Annotated[float, Unit("um"), Feeds("wire_bonder", "wire_diameter_um")]
    stage_temperature_c: Annotated[float, Unit("degC"), Feeds("wire_bonder", "stage_temperature_c")]
    bond_force_gf: Annotated[float, Unit("gf"), Feeds("wire_bonder", "bond_force_gf")]
    ultrasonic_power_mw: Annotated[float, Unit("mW"), Feeds("wire_bonder", "ultrasonic_power_mw")]
    ultrasonic_time_ms: Annotated[float, Unit("ms"), Feeds("wire_bonder", "ultrasonic_time_ms")]
    #: studs bonded on each other a bump (two or more: 001:6); with the wire and the bond
    #: program it sets the height the bonder gives (the line's stud law), so no default
    stack: Annotated[int, Field(strict=True), Feeds("wire_bonder", "stack_count")]
    #: what the program gives (the line's stud law), inspected on every wafer
    height_um: Annotated[
        float,
        Unit("um"),
        Field(ge=20, le=300),
        Because(
            "wide bounds on any stud bump: by the line's stud law, at the bonder's reference "
            f"program one stud of its thinnest wire stands {STUDS_SPAN[0]} um and four of its "
            f"thickest {STUDS_SPAN[1]} um, other programs flattening them more or less; what a "
            "recipe's own program gives is checked too"
        ),
    ]
    #: how far a measured bump may stand from `height_um` before the wafer is held
    height_tolerance_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=50),
        Because("a bump 50 um off its height is another bump: the resin film is set for this one"),
    ]

    def shortest_um(self) -> float:
        """The shortest bump the height inspection passes: a resin sheet must be thinner."""
        return self.height_um - self.height_tolerance_um

    def shortest_text(self, path: str = "bumps") -> str:
        """What `shortest_um` is, for a refusal (`path`: the section's in the recipe)."""
        return (
            f"the shortest bump the height inspection passes, {path}.height_um - "
            f"{path}.height_tolerance_um = {self.height_um:g} - {self.height_tolerance_um:g} = "
            f"{self.shortest_um():g} um"
        )

    def tips(self) -> Tips:
        """The studs' tips as the cleaning finds them: the oxide the bonder leaves on them."""
        oxide_nm = stud_tip_oxide_nm(self.wire, self.stage_temperature_c)
        metal = f"{self.wire.value} studs bonded at {self.stage_temperature_c:g} degC"
        return Tips(oxide_nm, oxidises=self.wire is not WireMaterial.AU, metal=metal)

    def stands_um(self, below_um: tuple[float, float] | None = None) -> tuple[float, float]:
        """The shortest and tallest bump the program makes, to 0.1 um outside them and at
        least `STUD_RANGE_MARGIN_UM` (the line's stud law, `stud_heights_um`): on bare pads,
        or on bumps standing `below_um`."""
        return stated_stud_range_um(*stud_heights_um(self.program(), self.stack, below_um))

    def program(self) -> BondProgram:
        return BondProgram(
            wire_material=self.wire,
            wire_diameter_um=self.wire_diameter_um,
            stage_temperature_c=self.stage_temperature_c,
            bond_force_gf=self.bond_force_gf,
            ultrasonic_power_mw=self.ultrasonic_power_mw,
            ultrasonic_time_ms=self.ultrasonic_time_ms,
        )


class SolderBumpRecipe(SolderBallRecipe):
    """003:7.1 with solder bumps (003:19): a solder ball on every pad (`balls_per_unit`: the
    pads of a die), reflowed onto its pad. What a bump stands is the ball's (`shortest_um`),
    worked out, not stated: `height_um`, when given, is a cross-check of it."""

    method: Literal["solder-ball"]
    alloy: BallAlloy = BallAlloy.HIGH_LEAD
    liquidus_claim = "003:7.1"
    #: optional, a cross-check: what the writer expects a reflowed ball to stand on its pad
    #: (a truncated sphere of the ball's volume, which the line works out from the ball)
    height_um: (
        Annotated[
            float,
            Unit("um"),
            Field(ge=20, le=760),
            Because("a reflowed ball stands lower than it is wide: 760 um, the largest ball"),
        ]
        | None
    ) = None

    @recipe_check
    def _the_height_the_ball_gives(self) -> Self:
        if self.height_um is None:
            return self
        ball_um = self.shortest_um()
        if abs(self.height_um - ball_um) > BALL_HEIGHT_ROUNDING_UM:
            raise claim_violation(
                self.liquidus_claim,
                "height_um",
                f"{self.height_um:g} um",
                f"{self.shortest_text()}: give {ball_um:.1f} um (to within "
                f"{BALL_HEIGHT_ROUNDING_UM:g} um)",
            )
        return self

    def shortest_um(self) -> float:
        """What every bump stands: the ball's volume as a truncated sphere on its pad (the
        oven's reflow, `truncated_sphere_height_um`); a resin sheet must be thinner."""
        volume_um3 = math.pi / 6 * self.ball_diameter_um**3
        return float(truncated_sphere_height_um(np.array(volume_um3), np.array(self.base_um)))

    def shortest_text(self, path: str = "bumps") -> str:
        """What `shortest_um` is, for a refusal (`path`: the section's in the recipe)."""
        return (
            f"a {path}.ball_diameter_um = {self.ball_diameter_um:g} um ball reflowed on its "
            f"{self.base_um:g} um pad stands {self.shortest_um():.1f} um"
        )

    def tips(self) -> Tips:
        """The bumps' tips as the cleaning finds them: the oxide the reflow leaves on them."""
        metal = f"{self.alloy.value} bumps reflowed"
        return Tips(
            REFLOWED_BUMP_OXIDE_NM, oxidises=True, metal=metal, residue_nm=REFLOWED_BUMP_FLUX_NM
        )

    def bump_count(self, spec: WaferSpec) -> int:
        """How many bumps a wafer of `spec` gets: `balls_per_unit` on every die."""
        return wafer_site_count(spec) // (4 * spec.pads_per_die_side) * self.balls_per_unit

    @property
    def base_um(self) -> float:
        """A bump's base: the pad its ball wets (`PAD_TO_BALL_RATIO`)."""
        return PAD_TO_BALL_RATIO * self.ball_diameter_um

    def tips_area_cm2(self, spec: WaferSpec) -> float:
        """What a layer plated on the bumps covers (003:21: the tips are the cathode without
        a seed), each bump over its base, on a wafer of `spec`."""
        return self.bump_count(spec) * math.pi * (self.base_um / 2) ** 2 * 1e-8


def _bump_method(value: Any) -> str:
    """The bump option a recipe's `bumps` section picks: its `method`, stud by default."""
    if isinstance(value, dict):
        return str(value.get("method", "stud"))
    return str(getattr(value, "method", "stud"))


#: 003:7.1's options: stud bumps (the wire bonder) or solder bumps (ball mounter and oven).
Bumps = Annotated[
    Annotated[BumpRecipe, Tag("stud")] | Annotated[SolderBumpRecipe, Tag("solder-ball")],
    Discriminator(_bump_method),
]


class ResinRecipe(Recipe):
    """003:7.2: the adhesive resin sheet and how it is laminated over the bumps."""

    sheet_thickness_um: Annotated[float, Unit("um"), Feeds("laminator", "resin_thickness_um")]
    vacuum_pa: Annotated[float, Unit("Pa"), Feeds("laminator", "vacuum_pa")]
    vacuum_hold_s: Annotated[float, Unit("s"), Feeds("laminator", "vacuum_hold_s")]
    temperature_c: Annotated[float, Unit("degC"), Feeds("laminator", "temperature_c")]
    press_pressure_mpa: Annotated[float, Unit("MPa"), Feeds("laminator", "press_pressure_mpa")]
    press_time_s: Annotated[float, Unit("s"), Feeds("laminator", "press_time_s")]
    peel_below_c: Annotated[float, Unit("degC"), Feeds("laminator", "cool_to_c")] = 35.0

    def job(self) -> LaminationJob:
        return LaminationJob(
            ResinSheet(self.sheet_thickness_um, SupportKind.FILM),
            PressRecipe(
                vacuum_pa=self.vacuum_pa,
                vacuum_hold_s=self.vacuum_hold_s,
                temperature_c=self.temperature_c,
                press_pressure_mpa=self.press_pressure_mpa,
                press_time_s=self.press_time_s,
                cool_to_c=self.peel_below_c,
            ),
        )


class PlasmaCleaning(Recipe):
    """003:12: clean in the plasma chamber; the gas sequence picks 003:13, 003:14 or 003:15."""

    method: Literal["plasma"]
    plasma: PlasmaCleanRecipe


class LaserCleaning(Recipe):
    """003:16: clean by laser below the bump metal's ablation threshold (003:17, 003:18)."""

    method: Literal["laser"]
    fluence_j_cm2: Annotated[float, Unit("J/cm^2"), Feeds("laser", "clean_fluence_j_cm2")]
    rep_rate_khz: Annotated[float, Unit("kHz"), Feeds("laser", "rep_rate_khz")]
    pulses_per_site: Annotated[int, Field(strict=True), Feeds("laser", "clean_pulses")]
    atmosphere: Atmosphere
    #: a gas jet that peels the ablated residue off the tips (003:18, with suction); on by
    #: default: without it part of what the beam lifts falls back (the laser's physics), more
    #: than 003:10 leaves of the resin's smear
    gas_jet: bool = True
    #: suction that carries the removed residue away, or part of it falls back; a gas jet
    #: needs it (003:18)
    suction: bool = True

    def residue_left_nm(self, residue_nm: float, pulses: int | None = None) -> float:
        """What this clean (with `pulses` a site, if given) leaves of `residue_nm` on a tip, by
        the laser's physics (`cleaned_residue_nm`)."""
        count = self.pulses_per_site if pulses is None else pulses
        return float(
            cleaned_residue_nm(
                np.array([residue_nm], np.float32),
                LASER_PHYSICS.residue_removal_nm(self.fluence_j_cm2, count),
                LASER_PHYSICS.fallback_fraction(self.atmosphere, self.gas_jet, self.suction),
            )[0]
        )

    def oxide_left_nm(
        self, tips: Tips, atmosphere: Atmosphere | None = None, pulses: int | None = None
    ) -> float:
        """What this clean (in `atmosphere`, with `pulses` a site, if given) leaves of the
        oxide `tips` bring, by the laser's physics (`cleaned_oxide_nm`)."""
        count = self.pulses_per_site if pulses is None else pulses
        return float(
            cleaned_oxide_nm(
                np.array([tips.oxide_nm], np.float32),
                count * self.fluence_j_cm2,
                self.atmosphere if atmosphere is None else atmosphere,
                tips.oxidises,
                LASER_PHYSICS,
            )[0]
        )

    def require_residue_removed(self, residue_nm: float, claim: str, metal: str) -> None:
        """Refuse a clean that leaves residue on the tips (`metal` says what they are), which
        bring up to `residue_nm`: at most `CLEAN_NM` may stay, or `claim` fails. The refusal
        gives the least `pulses_per_site`; where no count the laser gives clears it, the gas
        jet that keeps the residue from falling back, or the fluence that ablates it."""
        pulses = self.pulses_per_site

        def clean(count: int) -> bool:
            return self.residue_left_nm(residue_nm, count) <= CLEAN_NM - CLEAN_MARGIN_NM

        if clean(pulses):
            return
        left = self.residue_left_nm(residue_nm)
        brought = (
            f"{metal} bring up to {residue_nm:.4g} nm of residue; {pulses} pulses a site at "
            f"{self.fluence_j_cm2:g} J/cm^2 leave {left:.4g} nm of it by the laser's physics "
            f"(at most {CLEAN_NM:g} nm may stay)"
        )
        most = int(tool_range("laser", "clean_pulses").maximum)
        if clean(most):
            least = least_whole(pulses, most, clean)
            raise claim_violation(
                claim,
                "cleaning.pulses_per_site",
                pulses,
                f"{brought}: give at least {least}",
            )
        left_at_most = self.residue_left_nm(residue_nm, most)
        jetted = self.model_copy(update={"gas_jet": True, "suction": True})
        if (
            not self.gas_jet
            and jetted.residue_left_nm(residue_nm, most) <= CLEAN_NM - CLEAN_MARGIN_NM
        ):
            raise claim_violation(
                claim,
                "cleaning.gas_jet",
                "false",
                f"{brought}; without a gas jet part of what the beam lifts falls back, "
                f"{left_at_most:.4g} nm of it however many pulses: give cleaning.gas_jet: true "
                "with cleaning.suction: true (003:18), which carry it off",
            )
        hottest = tool_range("laser", "clean_fluence_j_cm2").maximum

        def clean_at(hundredths: int, count: int = pulses) -> bool:
            at = self.model_copy(update={"fluence_j_cm2": hundredths / 100})
            return at.residue_left_nm(residue_nm, count) <= CLEAN_NM - CLEAN_MARGIN_NM

        top = math.floor(hottest * 100 + 1e-9)
        if clean_at(top):
            hundredths = least_whole(self.fluence_j_cm2 * 100, top, clean_at)
            advice = f"give at least {hundredths / 100:g} J/cm^2"
        else:
            count = least_whole(pulses, most, lambda count: clean_at(top, count))
            advice = (
                f"give {top / 100:g} J/cm^2, the laser's most for a clean, and pulses_per_site at "
                f"least {count}"
            )
        raise claim_violation(
            claim,
            "cleaning.fluence_j_cm2",
            f"{self.fluence_j_cm2:g} J/cm^2",
            f"{brought}: {advice}",
        )

    def require_oxide_removed(self, tips: Tips, claim: str, metal: str) -> None:
        """Refuse a clean that leaves oxide on the tips (`metal` says what they are), which
        bring the oxide of `tips`: at most `CLEAN_NM` may stay, or `claim` fails. In forming
        gas, which reduces it with the dose, the refusal gives the least `pulses_per_site`;
        in another atmosphere, which leaves it or grows it (air), the atmospheres that leave
        it off (`oxide_left_nm` in each)."""

        def clean(left_nm: float) -> bool:
            return left_nm <= CLEAN_NM - CLEAN_MARGIN_NM

        atmosphere, pulses = self.atmosphere, self.pulses_per_site
        left = self.oxide_left_nm(tips)
        if clean(left):
            return
        most = int(tool_range("laser", "clean_pulses").maximum)
        reducing = Atmosphere.FORMING_GAS
        brought = f"{metal} bring {tips.oxide_nm:.3g} nm of oxide"
        if atmosphere is reducing and clean(self.oxide_left_nm(tips, pulses=most)):
            least = least_whole(pulses, most, lambda n: clean(self.oxide_left_nm(tips, pulses=n)))
            raise claim_violation(
                claim,
                "cleaning.pulses_per_site",
                pulses,
                f"{brought}; forming gas reduces it with the dose, and {pulses} pulses a site "
                f"at {self.fluence_j_cm2:g} J/cm^2 leave {left:.3g} nm by the laser's physics "
                f"(at most {CLEAN_NM:g} nm may stay): give at least {least}",
            )
        done = "grow it to" if left > tips.oxide_nm else "leave it at"
        clears = [
            other.value for other in Atmosphere if clean(self.oxide_left_nm(tips, atmosphere=other))
        ]
        advice = f"give {' or '.join(clears)}" if clears else "give a higher fluence"
        if not clears and clean(self.oxide_left_nm(tips, reducing, most)):
            least = least_whole(
                pulses, most, lambda n: clean(self.oxide_left_nm(tips, reducing, n))
            )
            advice = f"give {reducing.value}, which reduces it, with at least {least} pulses"
        raise claim_violation(
            claim,
            "cleaning.atmosphere",
            atmosphere.value,
            f"{brought}; {pulses} pulses a site at {self.fluence_j_cm2:g} J/cm^2 in "
            f"{atmosphere.value} {done} {left:.3g} nm by the laser's physics (at most "
            f"{CLEAN_NM:g} nm may stay): {advice}",
        )

    def clean_recipe(self) -> CleanRecipe:
        return CleanRecipe(
            fluence_j_cm2=self.fluence_j_cm2,
            rep_rate_khz=self.rep_rate_khz,
            pulses_per_site=self.pulses_per_site,
            atmosphere=self.atmosphere,
            gas_jet=self.gas_jet,
            suction=self.suction,
        )


class SolderPlatingStep(PlatingStep):
    """One electroplating step of a solder layer: from a solder bath (003:21), the eutectic
    SnPb unless `metal` says Sn; a copper bath is refused (`PlatedSolderLayer`)."""

    #: the solder bath the layer is plated from
    metal: Annotated[Metal, CheckedChoices(tuple(alloy.value for alloy in SOLDER_ALLOYS))] = (
        Metal.SNPB
    )
    #: the layer of another solder on every tip, at least `min_thickness_um` (the claim check
    #: holds it so)
    deposit_claim = "003:19"

    @recipe_check
    def _read_at_the_minimum(self) -> Self:
        """The layer the XRF head reads is the one the claim check judges (to its 0.01 um),
        so a plating the line would hold is refused here (`require_read_at_the_minimum`)."""
        self.require_read_at_the_minimum()
        return self


class PlatedSolderLayer(Recipe):
    """003:21 by plating: the layer electroplated on the projecting tips (without a seed the
    tips are the cathode) in the cell's bath of `plating.metal`, then reflowed in the oven."""

    method: Literal["plating"]
    plating: SolderPlatingStep
    reflow: ReflowRecipe

    @recipe_check
    def _a_solder_bath(self) -> Self:
        if self.plating.metal not in SOLDER_ALLOYS:
            raise claim_violation(
                "003:21",
                "plating.metal",
                self.plating.metal.value,
                f"a solder layer is plated from a solder bath "
                f"({', '.join(m.value for m in SOLDER_ALLOYS)})",
            )
        return self

    @property
    def alloy(self) -> str:
        return SOLDER_ALLOYS[self.plating.metal]

    @property
    def min_thickness_um(self) -> float:
        return self.plating.min_thickness_um

    @property
    def alloy_field(self) -> tuple[str, str]:
        """Where the recipe chooses the layer's alloy (its path in the section), as given."""
        return "plating.metal", self.plating.metal.value

    #: the alloys the cell's solder baths plate
    alloys_offered: ClassVar[tuple[str, ...]] = tuple(SOLDER_ALLOYS.values())


class DicingStep(Recipe):
    """003:23: dice the wafer into chips along its die grid."""

    blade_thickness_um: Annotated[float, Unit("um"), Feeds("dicing_saw", "blade_thickness_um")]
    spindle_krpm: Annotated[float, Unit("krpm"), Feeds("dicing_saw", "spindle_krpm")]
    feed_mm_s: Annotated[float, Unit("mm/s"), Feeds("dicing_saw", "feed_mm_s")]
    #: the blade tip's depth below the tape's top; the line holds a cut that strays from it
    #: by more than `DEPTH_INTO_TAPE_TOLERANCE_UM`
    depth_into_tape_um: Annotated[
        float,
        Unit("um"),
        Feeds("dicing_saw", "depth_into_tape_um"),
        Field(gt=DEPTH_INTO_TAPE_TOLERANCE_UM),
        Because(
            f"the line passes a cut up to {DEPTH_INTO_TAPE_TOLERANCE_UM:g} um shallower than "
            f"this (its depth tolerance): at {DEPTH_INTO_TAPE_TOLERANCE_UM:g} um or less it "
            "would pass a cut that stops at the tape's top, the dies not cut free"
        ),
    ]

    def dicing_recipe(self) -> DicingRecipe:
        return DicingRecipe(
            self.spindle_krpm, self.feed_mm_s, StreetMap(depth_into_tape_um=self.depth_into_tape_um)
        )


class BondStep(Recipe):
    """Dies flipped active side down and bonded with heat and force by the flip-chip bonder."""

    head_temperature_c: Annotated[
        float, Unit("degC"), Feeds("flip_chip_bonder", "head_temperature_c")
    ]
    stage_temperature_c: Annotated[
        float, Unit("degC"), Feeds("flip_chip_bonder", "stage_temperature_c")
    ]
    bond_force_n: Annotated[float, Unit("N"), Feeds("flip_chip_bonder", "bond_force_n")]
    bond_time_s: Annotated[float, Unit("s"), Feeds("flip_chip_bonder", "bond_time_s")]

    def bond_recipe(self) -> BondRecipe:
        return BondRecipe(
            head_temperature_c=self.head_temperature_c,
            stage_temperature_c=self.stage_temperature_c,
            bond_force_n=self.bond_force_n,
            bond_time_s=self.bond_time_s,
        )


class ChipMounting(BondStep):
    """003:24: chips of the diced wafer mounted on a board by their bumps, active side down
    (flip-chip bonder): `chips` of them, one on each chip site of the wafer's board."""

    chips: Annotated[int, Field(strict=True, ge=1, le=10_000), BOARD_SITES]


class StencilPrint(Recipe):
    """003:21 by printing: a eutectic solder paste squeegeed through a stencil with an aperture
    over every projecting tip; the paste's metal is the layer its reflow melts onto the tip."""

    #: the paste; its metal is the layer's alloy (the eutectic Sn63Pb37 unless it says SAC305,
    #: which melts over a pasty range, no eutectic, and is refused: 003:20)
    paste: SolderPaste = SolderPaste.SNPB_EUTECTIC
    stencil_thickness_um: Annotated[
        float, Unit("um"), Feeds("stencil_printer", "stencil_thickness_um")
    ]
    #: the round aperture's diameter over each tip
    aperture_um: Annotated[float, Unit("um"), Feeds("stencil_printer", "aperture_um")]
    squeegee_force_n: Annotated[float, Unit("N"), Feeds("stencil_printer", "squeegee_force_n")]
    squeegee_speed_mm_s: Annotated[
        float, Unit("mm/s"), Feeds("stencil_printer", "squeegee_speed_mm_s")
    ]
    separation_speed_mm_s: Annotated[
        float, Unit("mm/s"), Feeds("stencil_printer", "separation_speed_mm_s")
    ]
    #: the layer the claim check holds every tip to (003:19), and the printer's solder paste
    #: inspection the thinnest deposit to
    min_thickness_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=THICKEST_STENCIL_UM),
        Because(
            "a printed layer is at most as thick as its tip projects above the film, "
            "and a tip projects at most as far as the stencil over it is thick, "
            f"{THICKEST_STENCIL_UM:g} um at most (the stencil printer's range)",
            claim="003:19",
        ),
    ]

    def print_recipe(self) -> PrintRecipe:
        """The printer's job: every field of `PrintRecipe`, of the same name here."""
        return PrintRecipe(**{job.name: getattr(self, job.name) for job in fields(PrintRecipe)})

    def solder(self, efficiency: float, tips: TipsAboveFilm) -> ReflowedSolder:
        """What a deposit of `efficiency` of its aperture's open volume leaves on the `tips`,
        once reflowed (the printer's physics, `printed_solder`)."""
        return printed_solder(efficiency, self.print_recipe(), tips.geometry, PRINT_PHYSICS)

    def layer_um(self, efficiency: float, tips: TipsAboveFilm) -> float:
        """The layer over the apex of the `tips` a deposit of `efficiency` leaves (`solder`)."""
        return float(self.solder(efficiency, tips).layer_um)

    def measured_layer_um(self, aperture_share: float, tips: TipsAboveFilm) -> float:
        """The layer over the apex of the `tips` a deposit the SPI measured at
        `aperture_share` of its aperture's volume leaves (`layer_um`): the SPI judges a deposit
        against the whole aperture, knowing nothing of the tip standing in it, so its share
        of the open volume the tip leaves (`open_nl`) is worked out here from the deposit it
        read (`inspected_deposit_nl`)."""
        recipe = self.print_recipe()
        deposit_nl = inspected_deposit_nl(aperture_share, recipe)
        open_share = deposit_nl / float(open_nl(recipe, tips.geometry))
        return self.layer_um(open_share, tips)

    def thinnest_layer_um(self, tips: TipsAboveFilm) -> float:
        """The thinnest layer this print leaves on the `tips` (`layer_um`): its least deposit,
        the transfer efficiency's mean less its clipped scatter (`least_transfer_efficiency`)."""
        return self.layer_um(least_transfer_efficiency(self.print_recipe(), PRINT_PHYSICS), tips)

    def least_inspected_share(self, tips: TipsAboveFilm) -> float:
        """The least share of its aperture's whole volume the printer's solder paste
        inspection measures of this print's deposits on `tips`: its least deposit of the open
        volume the tips leave (`least_transfer_efficiency`), over the aperture it judges it by,
        knowing nothing of the tip."""
        recipe = self.print_recipe()
        least = least_transfer_efficiency(recipe, PRINT_PHYSICS)
        return float(inspected_share(least * open_nl(recipe, tips.geometry), recipe))

    def passes_inspection(self, tips: TipsAboveFilm) -> bool:
        """Whether no deposit of this print on `tips` is one the inspection calls insufficient
        (under `PrintPhysics.insufficient_below` of its aperture: the line holds the wafer)."""
        return self.least_inspected_share(tips) >= PRINT_PHYSICS.insufficient_below

    def thickest_solder(self, tips: TipsAboveFilm) -> ReflowedSolder:
        """What this print's largest deposit (the mean and its clipped scatter,
        `most_transfer_efficiency`) leaves on the `tips` (`solder`)."""
        return self.solder(most_transfer_efficiency(self.print_recipe(), PRINT_PHYSICS), tips)

    def touching_um(self) -> float:
        """The centre distance below which two of its deposits touch (`bridged_um`)."""
        return bridged_um(self.print_recipe(), PRINT_PHYSICS)

    def require_stencil_over_tips(self, tips: TipsAboveFilm, claim: str, path: str) -> None:
        """The stencil lies on the film only if it is at least as thick as the `tips` project:
        a thinner one stands on them, and the squeegee strikes them (refused at `path`,
        naming `claim` and the least, rounded up to a whole um)."""
        if stencil_clears(self.print_recipe(), tips.geometry):
            return
        raise claim_violation(
            claim,
            f"{path}.stencil_thickness_um",
            f"{self.stencil_thickness_um:g} um",
            f"{tips.text} project up to {tips.projection_um:.1f} um above the film: a thinner "
            "stencil stands on them, not on the film, and the squeegee strikes them: give at "
            f"least {math.ceil(tips.projection_um):g} um",
        )

    def slump_um(self) -> float:
        """How far two deposits reach past their apertures together (`touching_um` less the
        aperture)."""
        return self.touching_um() - self.aperture_um

    def widest_apart_um(self, pitch_um: float) -> int:
        """The widest aperture, in whole um, whose deposits stay apart at `pitch_um`."""
        return math.ceil(pitch_um - self.slump_um()) - 1

    def through(self, aperture_um: int) -> StencilPrint:
        """This print through apertures of `aperture_um`."""
        return self.model_copy(update={"aperture_um": float(aperture_um)})

    def require_aperture(
        self, most: TipsAboveFilm, least: TipsAboveFilm, pitch_um: float, path: str
    ) -> None:
        """One refusal of `path`.aperture_um for everything an aperture must do, its reason the
        first it fails and its advice the apertures that do it all (`aperture_window`):

        * pass over the tips where they project the `most` (over the thinnest film), at least
          as wide as they are there, or the stencil stands on them (003:21);
        * keep its deposits apart at `pitch_um`, the least distance between two bumps: each
          slumps beyond its aperture by half its height, and the reflow joins two that touch
          by a solder bridge (003:21);
        * leave its thinnest layer (its least deposit over the `most` projecting tips, where
          the layer is thinnest) at least `min_thickness_um`, the layer the claim check holds
          every tip to (003:19);
        * fill its aperture, that least deposit, to what the printer's solder paste inspection
          passes (`passes_inspection`): the tip standing in the aperture takes part of it,
          which the inspection does not know of, and the line holds a wafer with a deposit it
          calls insufficient (003:21);
        * leave its thickest layer (its largest deposit over the `least` projecting tips, the
          thickest film) at most what those tips project: a layer on a bump's surface
          (003:19-21) is no thicker than the tip stands out of the film; more metal is a ball
          standing on the bump, not a layer on it (`within_tip`)."""
        recipe, geometry = self.print_recipe(), most.geometry
        thinnest, thickest = self.thinnest_layer_um(most), self.thickest_solder(least)
        bound = least.projection_um
        problems = [
            (
                not aperture_clears(recipe, geometry),
                "003:21",
                f"{most.text} are up to {most.width_um:.1f} um wide above the film: a narrower "
                "aperture does not pass over a tip, and the stencil stands on the tips",
            ),
            (
                self.touching_um() >= pitch_um,
                "003:21",
                f"a deposit slumps beyond its aperture by half the {self.stencil_thickness_um:g} "
                "um stencil's thickness on every side (the printer's physics), so two deposits "
                f"closer than {self.aperture_um:g} + {self.slump_um():g} = {self.touching_um():g} "
                f"um touch, and the wafer's bumps stand {pitch_um:.1f} um apart at the closest "
                "(its least pad pitch): their reflow would join them by a solder bridge",
            ),
            (
                thinnest < self.min_thickness_um,
                "003:19",
                f"an aperture of {self.aperture_um:g} um in a {self.stencil_thickness_um:g} um "
                f"stencil (area ratio {recipe.area_ratio:.2f}) holds "
                f"{float(open_nl(recipe, geometry)):.4f} nl of paste beside the tip standing in "
                f"it and releases at least {least_transfer_efficiency(recipe, PRINT_PHYSICS):.0%} "
                f"of it (the printer's physics), whose metal, reflowed over the tip, leaves "
                f"{thinnest:.1f} um over its apex, for {most.text}, below "
                f"{path}.min_thickness_um = {self.min_thickness_um:g} um",
            ),
            (
                not self.passes_inspection(most),
                "003:21",
                f"its least deposit, beside {most.text} standing in the aperture, fills "
                f"{self.least_inspected_share(most):.0%} of the aperture's volume, under the "
                f"{PRINT_PHYSICS.insufficient_below:.0%} below which the printer's solder paste "
                "inspection calls a deposit insufficient (it knows nothing of the tip): the line "
                "would hold the wafer at 'print solder paste'",
            ),
            (
                not self.within_tip(least),
                "003:19",
                f"its largest deposit (at most "
                f"{most_transfer_efficiency(recipe, PRINT_PHYSICS):.0%} of the open volume, the "
                f"printer's physics) reflows, for {least.text}, into a cap of solder "
                f"{float(thickest.height_um):.1f} um tall above the film and "
                f"{float(thickest.width_um):.1f} um wide: {float(thickest.layer_um):.1f} um over "
                f"the tip's apex, more than the {bound:.1f} um the tip projects: a layer on a "
                "bump's surface (003:19-21) is at most as thick as the tip stands out of the "
                "film, and more metal is a ball on the bump, not a layer on it",
            ),
        ]
        failing = [(claim, says) for fails, claim, says in problems if fails]
        if not failing:
            return
        claim, says = failing[0]
        raise claim_violation(
            claim,
            f"{path}.aperture_um",
            f"{self.aperture_um:g} um",
            f"{says}: {self.aperture_window(most, least, pitch_um, path)}",
        )

    def within_tip(self, tips: TipsAboveFilm) -> bool:
        """Whether this print's thickest layer on `tips` is at most what they project."""
        return float(self.thickest_solder(tips).layer_um) <= tips.projection_um

    def aperture_window(
        self, most: TipsAboveFilm, least: TipsAboveFilm, pitch_um: float, path: str
    ) -> str:
        """The advice of `require_aperture`: the whole-um apertures, in the printer's range,
        that pass over the tips, keep the deposits apart, fill themselves to what the
        inspection passes, and leave a layer from `min_thickness_um` to the tips' projection;
        or what to change when none does. (A wider aperture leaves the tip a smaller share of
        itself: every lower bound rises with it.)"""
        span = tool_range("stencil_printer", "aperture_um")
        low = max(math.ceil(most.width_um), math.ceil(span.minimum))
        high = min(self.widest_apart_um(pitch_um), math.floor(span.maximum))
        if low > high:
            return (
                f"no aperture both passes over the tips (at least {low} um) and keeps the "
                f"deposits apart (at most {high} um): give a thinner stencil "
                f"({path}.stencil_thickness_um), whose deposits slump less"
            )

        def enough(aperture: int) -> bool:
            through = self.through(aperture)
            thick_enough = through.thinnest_layer_um(most) >= self.min_thickness_um
            return thick_enough and through.passes_inspection(most)

        def too_thick(aperture: int) -> bool:
            return not self.through(aperture).within_tip(least)

        if not enough(high):
            return (
                f"no aperture up to {high} um (the widest whose deposits stay apart, that the "
                f"printer takes) gives it: give a thicker stencil ({path}.stencil_thickness_um)"
            )
        first = least_whole(low - 1, high, enough)
        last = high if not too_thick(high) else least_whole(low - 1, high, too_thick) - 1
        if last < first:
            return (
                f"no aperture in a {self.stencil_thickness_um:g} um stencil leaves at least "
                f"{self.min_thickness_um:g} um where the tips project the most and at most what "
                f"they project where they project the least ({least.projection_um:.1f} um; "
                f"{first} um is the least aperture for the one, {last} um the widest for the "
                f"other): give a smaller {path}.min_thickness_um"
            )
        return f"give from {first} to {last} um" if last > first else f"give {first} um"


@dataclass(frozen=True)
class TipsAboveFilm:
    """What of the bumps stands above the film a stencil lies on: a bump as its ball stands
    over the thinnest resin the sheet lays, projecting the most, where a print's layer is
    thinnest, or over the thickest, projecting the least, where it is thickest (`geometry`,
    the printer's physics' tip), and what they are, for a refusal."""

    geometry: ProjectingTips
    text: str

    @property
    def projection_um(self) -> float:
        """How far the tip projects above the film."""
        return float(self.geometry.projection_um)

    @property
    def width_um(self) -> float:
        """The widest the tip is above the film."""
        return float(self.geometry.width_um)


class PrintedSolderLayer(Recipe):
    """003:21 by printing: eutectic solder paste printed on the projecting tips through a
    stencil (the stencil printer), then reflowed in the oven."""

    method: Literal["printing"]
    printing: StencilPrint
    reflow: ReflowRecipe

    @property
    def alloy(self) -> str:
        return self.printing.paste.value

    @property
    def min_thickness_um(self) -> float:
        return self.printing.min_thickness_um

    @property
    def alloy_field(self) -> tuple[str, str]:
        """Where the recipe chooses the layer's alloy (its path in the section), as given."""
        return "printing.paste", self.alloy

    #: the alloys of the printer's pastes
    alloys_offered: ClassVar[tuple[str, ...]] = tuple(paste.value for paste in SolderPaste)


class SheetTransfer(BondStep):
    """003:21 by transfer: a sheet carrying a film of eutectic solder pressed by the flip-chip
    bonder's head on the tips of every die of the wafer, bumps up, above the film's liquidus:
    the film wets the tips it touches and stays on them as the layer."""

    #: the sheet's solder: a eutectic, Sn63Pb37 (183 degC) or Sn42Bi58 (138 degC); SAC305,
    #: with a pasty range, is no eutectic and refused (003:20)
    alloy: TransferAlloy = TransferAlloy.SN63PB37
    #: the sheet's solder film; `transfer_efficiency` of what a tip dips through stays on it
    film_um: Annotated[float, Unit("um"), Feeds("flip_chip_bonder", "film_um")]
    #: the layer the claim check holds every tip to (003:19), and the bonder's inspection the
    #: thinnest layer to
    min_thickness_um: Annotated[
        float,
        Unit("um"),
        Field(gt=0, le=THICKEST_FILM_UM),
        Because(
            "a tip keeps part of the sheet's film, and the flip-chip bonder takes films of "
            f"{THICKEST_FILM_UM:g} um at most (its film_um range)"
        ),
    ]

    def solder_transfer(self) -> SolderTransfer:
        return SolderTransfer(self.alloy, self.film_um, self.bond_recipe())

    def least_layer(self, tips: int) -> LeastLayer:
        """The thinnest layer this transfer leaves on a die of `tips` tips, which share the
        head's force, and what makes it so (the bonder's physics, `least_layer`)."""
        return least_layer(self.film_um, self.bond_force_n / tips, TRANSFER_PHYSICS)


class TransferredSolderLayer(Recipe):
    """003:21 by transfer: the layer transferred from a sheet onto the projecting tips by the
    flip-chip bonder's heated head; the head's heat melts it onto them (no oven reflow)."""

    method: Literal["transfer"]
    transfer: SheetTransfer

    @property
    def alloy(self) -> str:
        return self.transfer.alloy.value

    @property
    def min_thickness_um(self) -> float:
        return self.transfer.min_thickness_um

    @property
    def alloy_field(self) -> tuple[str, str]:
        """Where the recipe chooses the layer's alloy (its path in the section), as given."""
        return "transfer.alloy", self.alloy

    #: the alloys of the bonder's transfer sheets
    alloys_offered: ClassVar[tuple[str, ...]] = tuple(alloy.value for alloy in TransferAlloy)


#: 003:21's options: a eutectic layer by plating, printing or transfer (a recipe's
#: `solder_layer`, told apart by its `method`).
SolderLayer = PlatedSolderLayer | PrintedSolderLayer | TransferredSolderLayer


def board_of(wafer_id: str) -> str:
    """The id of the board the chips of wafer `wafer_id` are mounted on (003:24)."""
    return f"B{wafer_id}"


def require_dicing_before_mounting(
    dicing: DicingStep | None,
    mounting: BondStep | None,
    claim: ClaimIds,
    why: str = "chips are mounted once the wafer is cut into them",
) -> None:
    """The constraint that what is mounted comes of the diced wafer (raised at `dicing`,
    naming `claim`; `why` in the method's own words)."""
    if mounting is not None and dicing is None:
        raise claim_violation(claim, "dicing", "none", f"{why}: give a dicing section")


def require_a_site_for_every_part(
    count: int, spec: WaferSpec, claim: ClaimIds, parts: str, layout: str
) -> None:
    """The board has a chip site for each whole die of a wafer of `spec` (`layout` says
    where its size comes from), and dicing makes as many `parts`: mounting `count` of them
    is refused at `mounting.<parts>` if more, naming `claim`."""
    sites = die_grid(spec).shape[0]
    if count > sites:
        raise claim_violation(
            claim,
            f"mounting.{parts}",
            str(count),
            f"the board has a chip site for each of the wafer's {sites} whole dies (the "
            f"{parts} its dicing makes, {layout}): at most {sites}",
        )


def require_joined_above_the_liquidus(
    mounting: BondStep,
    alloy: str,
    claim: ClaimIds,
    parts: str,
    solder: str,
    *,
    path: str = "mounting",
    onto: str = "the board",
) -> None:
    """The `parts` join `onto` only where their `solder` (plural, after "their") of `alloy`
    melts: the joint must be above its liquidus (`require_joint_hot_enough`)."""
    liquidus = LIQUIDUS_C[alloy]
    require_joint_hot_enough(
        mounting,
        claim,
        f"the {parts} are joined to {onto} by their {solder}, which melt above the liquidus "
        f"of {alloy} ({liquidus:g} degC)",
        liquidus,
        path=path,
    )


def require_joint_hot_enough(
    mounting: BondStep,
    claim: ClaimIds,
    joined_by: str,
    joint_c: float,
    *,
    reaching: bool = False,
    path: str = "mounting",
) -> None:
    """What joins the parts of the bond at `path` (`joined_by` says what and how) does so only
    above `joint_c` (a solder's liquidus), or (`reaching`) at it or above (a paste's gel): the
    joint, which the head heats over the stage by the bonder's share (`joint_temperature_c`),
    must get there (refused at the head, naming `claim` and the least head that passes)."""
    head, stage = mounting.head_temperature_c, mounting.stage_temperature_c
    joint = joint_temperature_c(head, stage)
    if joint > joint_c or (reaching and joint >= joint_c):
        return
    raise claim_violation(
        claim,
        f"{path}.head_temperature_c",
        f"{head:g} degC",
        f"{joined_by}; over the stage at {path}.stage_temperature_c = {stage:g} degC the "
        f"joint reaches {joint:.1f} degC: give a head of at least "
        f"{least_head_c(joint_c, stage, reaching=reaching):g} degC",
    )


def require_pressed_until_wetted(
    mounting: BondStep,
    claim: ClaimIds,
    parts: str,
    solder: str,
    *,
    path: str = "mounting",
    pads: str = "the board's pads",
) -> None:
    """The `parts`' molten `solder` joins `pads` only pressed as long as it takes to wet them
    (`WETTING_TIME_S`, the bonder's figure; `require_pressed_for`)."""
    require_pressed_for(
        mounting,
        claim,
        f"the {parts}' {solder}, molten under the head, take {WETTING_TIME_S:g} s to wet "
        f"{pads} (the bonder's wetting time)",
        WETTING_TIME_S,
        path=path,
    )


def require_pressed_for(
    mounting: BondStep, claim: ClaimIds, joins: str, least_s: float, *, path: str = "mounting"
) -> None:
    """What joins the parts of the bond at `path` takes `least_s` under the head (`joins`
    says what and why): a shorter bond leaves every one of them unjoined (refused at the
    bond time, naming `claim`)."""
    if mounting.bond_time_s < least_s:
        raise claim_violation(
            claim,
            f"{path}.bond_time_s",
            f"{mounting.bond_time_s:g} s",
            f"{joins}: give at least {least_s:g} s",
        )


def require_the_height_the_studs_give(
    bumps: BumpRecipe,
    path: str,
    claim: str,
    below: tuple[str, tuple[float, float]] | None = None,
) -> None:
    """The height inspection after the bonder (`height_um` +- `height_tolerance_um`) passes
    every bump the program makes by the line's stud law (`BumpRecipe.stands_um`), on bare pads
    or (`below`: what they are and their shortest and tallest) stacked on bumps: else every
    wafer is held there. Refused at `path`.height_um, naming `claim` and the heights that pass
    (or, when none does, the least tolerance)."""
    low, high = bumps.stands_um(None if below is None else below[1])
    height, tolerance = bumps.height_um, bumps.height_tolerance_um
    least, most = round(high - tolerance, 1), round(low + tolerance, 1)
    if least <= height <= most:
        return
    studs = "one stud" if bumps.stack == 1 else f"a stack of {bumps.stack} studs"
    on = ""
    if below is not None:
        on = f" on the bumps below ({below[0]}, standing {below[1][0]:g}-{below[1][1]:g} um)"
    program = bumps.program()
    if least <= most:
        fix = f"give from {least:g} to {most:g} um"
    else:
        fix = (
            f"no height passes so tight a tolerance: give {path}.height_tolerance_um at least "
            f"{rounded_up((high - low) / 2, 1):g} um"
        )
    raise claim_violation(
        claim,
        f"{path}.height_um",
        f"{height:g} um",
        f"{studs} ({path}.stack) of {program.wire_diameter_um:g} um {program.wire_material.value} "
        f"wire at {program.bond_force_gf:g} gf and {program.ultrasonic_energy_uj:g} uJ{on} "
        f"stands {low:g}-{high:g} um (the line's stud law, its "
        f"{STUD_HEIGHT_SPREAD:.0%} spread to {STUD_SPREAD_SIGMAS:g} sigma), and the height "
        f"inspection passes {height - tolerance:g}-{height + tolerance:g} um "
        f"(+-{path}.height_tolerance_um): {fix}",
    )


def require_a_eutectic_below_the_core(layer: SolderLayer, bumps: SolderBumpRecipe) -> None:
    """The layer's alloy differs from the bumps' (003:19) and is a eutectic melting below
    them (003:20), refused at its field naming the eutectics of the option that would do."""
    path, given = layer.alloy_field
    where = f"solder_layer.{path}"
    if layer.alloy == bumps.alloy.value:
        raise claim_violation(
            "003:19",
            where,
            given,
            f"the layer must differ in composition from the {bumps.alloy.value} bumps",
        )
    core_c = SOLIDUS_C[bumps.alloy.value]
    eutectics = " or ".join(
        f"{alloy} ({LIQUIDUS_C[alloy]:g} degC)"
        for alloy in layer.alloys_offered
        if alloy in EUTECTIC_SOLDERS and LIQUIDUS_C[alloy] < core_c
    )
    if layer.alloy not in EUTECTIC_SOLDERS:
        why = (
            "a pure metal, no alloy"
            if layer.alloy not in LIQUIDUS_C
            else "an alloy that melts over a pasty range, not at one temperature"
        )
        raise claim_violation(
            "003:20",
            where,
            given,
            f"{layer.alloy} is no eutectic solder ({why}): the layer on high-melting bumps "
            f"is a eutectic; of this option's choices give {eutectics}",
        )
    if LIQUIDUS_C[layer.alloy] >= core_c:
        raise claim_violation(
            "003:20",
            where,
            given,
            f"the {layer.alloy} layer melts at {LIQUIDUS_C[layer.alloy]:g} degC, not below "
            f"the {bumps.alloy.value} bumps' solidus, where they begin to melt ({core_c:g} "
            f"degC): give {eutectics}",
        )


def require_reflow_below_the_core(
    layer: PlatedSolderLayer | PrintedSolderLayer, bumps: SolderBumpRecipe, core_c: float
) -> None:
    """The oven's reflow of a plated or printed layer peaks below the bumps' solidus
    `core_c`, or their high-melting cores melt (003:20), and melts and wets the layer's solder
    (`ReflowRecipe.require_joins`; a layer of no solder the line knows the liquidus of is
    refused by its alloy's check)."""
    if layer.reflow.peak_c >= core_c:
        raise claim_violation(
            "003:20",
            "solder_layer.reflow.peak_c",
            f"{layer.reflow.peak_c:g} degC",
            f"must stay below the solidus of the {bumps.alloy.value} bumps "
            f"({core_c:g} degC), where their high-melting cores begin to melt",
        )
    if layer.alloy in LIQUIDUS_C:
        layer.reflow.require_joins(
            layer.alloy,
            "003:20",
            "solder_layer.reflow",
            "the layer's solder",
            peak_below_c=core_c,
        )


def require_transfer_melts_the_layer_only(
    transfer: SheetTransfer, alloy: str, bumps: SolderBumpRecipe, path: str
) -> None:
    """A transfer (the section at `path`) melts the sheet's film onto the tips and nothing
    more, each its own problem: the joint above the film's liquidus (003:21: below it nothing
    wets) and below the bumps' (003:20: their high-melting cores stay solid), pressed the
    bonder's wetting time (003:21), and what a wetted tip keeps of the film at least the
    layer the claim check holds it to (003:19)."""
    film_c, core_c = LIQUIDUS_C[alloy], SOLIDUS_C[bumps.alloy.value]
    film = f"the sheet's {alloy} film wets the tips only molten"
    every_problem(
        [
            functools.partial(
                require_joint_hot_enough,
                transfer,
                "003:21",
                f"{film}, above its liquidus ({film_c:g} degC)",
                film_c,
                path=path,
            ),
            functools.partial(
                require_cores_solid_under_the_head, transfer, bumps, core_c, "003:20", path
            ),
            functools.partial(
                require_pressed_for,
                transfer,
                "003:21",
                f"{film}, and takes {WETTING_TIME_S:g} s under the head to wet them (the "
                "bonder's wetting time)",
                WETTING_TIME_S,
                path=path,
            ),
            functools.partial(
                require_transferred_layer, transfer, bumps.balls_per_unit, "003:19", path
            ),
        ]
    )


def require_cores_solid_under_the_head(
    transfer: BondStep, bumps: SolderBumpRecipe, core_c: float, claim: str, path: str
) -> None:
    """The joint under the head stays below the bumps' solidus `core_c`, or their
    high-melting cores melt (refused at the head, naming `claim` and the hottest head that
    keeps them solid)."""
    head, stage = transfer.head_temperature_c, transfer.stage_temperature_c
    joint = joint_temperature_c(head, stage)
    if joint < core_c:
        return
    hottest = math.ceil(least_head_c(core_c, stage, reaching=True)) - 1
    raise claim_violation(
        claim,
        f"{path}.head_temperature_c",
        f"{head:g} degC",
        f"over the stage at {path}.stage_temperature_c = {stage:g} degC the joint reaches "
        f"{joint:.1f} degC, not below the solidus of the {bumps.alloy.value} bumps "
        f"({core_c:g} degC): their high-melting cores would begin to melt: give a head of at most "
        f"{hottest:g} degC",
    )


def require_transferred_layer(transfer: SheetTransfer, tips: int, claim: str, path: str) -> None:
    """The thinnest layer the transfer leaves on a die of `tips` tips
    (`SheetTransfer.least_layer`) at least `min_thickness_um`, refused naming `claim`: where
    even the thickest film the bonder takes pressed with its most force leaves less (the most
    reachable), at `path`.min_thickness_um, naming that; else at `path`.film_um, with the
    least film, or, where no film at this force gives it, the thickest film and the least
    force (both by bisection)."""
    least = transfer.least_layer(tips)
    if least.layer_um >= transfer.min_thickness_um:
        return
    physics = TRANSFER_PHYSICS
    top = math.floor(THICKEST_FILM_UM * 10)
    strongest = math.floor(tool_range("flip_chip_bonder", "bond_force_n").maximum * 10)

    def with_(film_tenths: int, force_tenths: int) -> LeastLayer:
        update = {"film_um": film_tenths / 10, "bond_force_n": force_tenths / 10}
        return transfer.model_copy(update=update).least_layer(tips)

    def enough(film_tenths: int, force_tenths: int) -> bool:
        return with_(film_tenths, force_tenths).layer_um >= transfer.min_thickness_um

    brought = (
        f"the head's {transfer.bond_force_n:g} N, shared by a die's {tips} tips, presses the "
        f"sheet {min(least.closed_um, least.gap_um):.1f} um below the tallest, and the lowest "
        f"stands up to {least.gap_um:g} um below it (the tips' coplanarity, "
        f"{physics.coplanarity_sigma_um:g} um a sigma to {physics.transfer_sigmas:g} sigma); "
        f"over the thinnest film the sheet lays under a die, {least.film_um:.1f} um (its "
        f"{physics.film_cv:.0%} tolerance to {physics.transfer_sigmas:g} sigma), it keeps "
        f"{physics.transfer_efficiency:.0%} of what it dips through (the bonder's physics), "
        f"{least.layer_um:.2f} um, below {path}.min_thickness_um = "
        f"{transfer.min_thickness_um:g} um"
    )
    force = math.ceil(transfer.bond_force_n * 10)
    if not enough(top, strongest):
        most = with_(top, strongest)
        raise claim_violation(
            claim,
            f"{path}.min_thickness_um",
            f"{transfer.min_thickness_um:g} um",
            f"{brought}: the most any transfer leaves is {most.layer_um:.2f} um (the thickest "
            f"film the bonder takes, {top / 10:g} um, {most.film_um:.1f} um at its thinnest, "
            f"pressed with its most force, {strongest / 10:g} N, down to the lowest tip "
            f"{min(most.closed_um, most.gap_um):.1f} um below the tallest): give at most "
            f"{rounded_down(most.layer_um, 2):g} um",
        )
    if enough(top, force):
        least_film = least_whole(transfer.film_um * 10, top, lambda film: enough(film, force))
        advice = f"give at least {least_film / 10:g} um"
    else:
        least_force = least_whole(force, strongest, lambda newtons: enough(top, newtons))
        advice = (
            f"no film up to {top / 10:g} um (the most the bonder takes) gives it at this force: "
            f"give {top / 10:g} um and {path}.bond_force_n at least {least_force / 10:g} N, to "
            "close the gap to the lowest tip"
        )
    raise claim_violation(
        claim, f"{path}.film_um", f"{transfer.film_um:g} um", f"{brought}: {advice}"
    )


def require_resin_thinner_than_bumps(
    resin: ResinRecipe, bumps: BumpRecipe | SolderBumpRecipe, claim: str
) -> None:
    """The claim's constraint that the bump tips project: the sheet thinner than the shortest
    bump the wafer may carry (`shortest_um`: what inspection passes of a stud bump, what a
    solder ball gives), raised at `resin.sheet_thickness_um`, naming `claim`."""
    require_sheet_below(
        resin, "resin.sheet_thickness_um", bumps.shortest_um(), claim, bumps.shortest_text()
    )


def require_sheet_below(resin: ResinRecipe, path: str, top_um: float, claim: str, top: str) -> None:
    """Refuse the sheet of `resin` (at `path`, naming `claim`) if the thickest resin it lays
    (`thickest_laminated_um`: the laminator's spread) reaches `top_um`, the tip of the
    shortest bump it must leave projecting (`top` says what that is), suggesting the thickest
    sheet that stays below."""
    sheet_um = resin.sheet_thickness_um
    laid_um = thickest_laminated_um(sheet_um)
    if laid_um >= top_um:
        raise claim_violation(
            claim,
            path,
            f"{sheet_um:g} um",
            f"laid up to {um_text(laid_um)} um (the laminator's {RESIN_SPREAD_FRACTION:.0%} "
            f"spread, to {RESIN_SPREAD_SIGMAS:g} sigma), it must be thinner than the bumps: "
            f"{top}: give at most {thickest_sheet_below_um(top_um):g} um",
        )


class BumpSealCleanRecipe(Recipe):
    """Bumps, a resin film thinner than them, cleaning, dicing: the options of claim 003:7."""

    bumps: Bumps
    resin: ResinRecipe
    cleaning: Annotated[PlasmaCleaning | LaserCleaning, Field(discriminator="method")]
    #: claims 003:19-21: a eutectic layer on the solder bumps' cleaned tips, by plating,
    #: printing or transfer
    solder_layer: Annotated[SolderLayer | None, Field(discriminator="method")] = None
    dicing: DicingStep | None = None
    #: claim 003:24: chips mounted on a board by their bumps
    mounting: ChipMounting | None = None

    @recipe_check
    def _bumps_as_tall_as_the_studs_stand(self) -> Self:
        if isinstance(self.bumps, BumpRecipe):
            require_the_height_the_studs_give(self.bumps, "bumps", "003:7.1")
        return self

    @recipe_check
    def _resin_thinner_than_the_bumps(self) -> Self:
        require_resin_thinner_than_bumps(self.resin, self.bumps, "003:7.2")
        return self

    @recipe_check
    def _chips_mounted_once_diced(self) -> Self:
        require_dicing_before_mounting(self.dicing, self.mounting, "003:24")
        return self

    @recipe_check
    def _chips_joined_on_their_board(self) -> Self:
        """As many chips as the board has sites (the line's wafer's whole dies), joined by
        the solder that melts first, the layer on the bumps or else the solder bumps, above
        its liquidus and pressed as long as it takes to wet (stud bumps bond by
        thermocompression, no solder)."""
        mounting = self.mounting
        if mounting is None:
            return self
        width, height = LINE_WAFER.die_size_mm
        layout = f"the line's {LINE_WAFER.diameter_mm:g} mm wafer of {width:g} x {height:g} mm dies"
        claim, parts = "003:24", "chips"
        checks = [
            functools.partial(
                require_a_site_for_every_part, mounting.chips, LINE_WAFER, claim, parts, layout
            )
        ]
        joining = self.joining_solder()
        if joining is not None:
            alloy, solder = joining
            checks += [
                functools.partial(
                    require_joined_above_the_liquidus, mounting, alloy, claim, parts, solder
                ),
                functools.partial(require_pressed_until_wetted, mounting, claim, parts, solder),
            ]
        every_problem(checks)
        return self

    def joining_solder(self) -> tuple[str, str] | None:
        """The alloy that joins a mounted chip's bumps to the board, and what it is (after
        "their"): the eutectic layer on solder bumps, which melts below them, or the solder
        bumps themselves; None for stud bumps (no solder), or a layer of no solder the line
        knows the liquidus of (refused by the layer's own checks)."""
        layer, bumps = self.solder_layer, self.bumps
        if layer is not None:
            alloy = layer.alloy
            return None if alloy not in LIQUIDUS_C else (alloy, f"bumps' {alloy} layers")
        if isinstance(bumps, SolderBumpRecipe):
            return bumps.alloy.value, "solder bumps"
        return None

    @recipe_check
    def _a_layer_of_another_solder_on_solder_bumps(self) -> Self:
        layer = self.solder_layer
        if layer is None:
            return self
        bumps = self.bumps
        if not isinstance(bumps, SolderBumpRecipe):
            raise claim_violation(
                "003:19",
                "bumps.method",
                bumps.method,
                "a solder layer goes on solder bumps: bumps.method must be solder-ball",
            )
        core_c = SOLIDUS_C[bumps.alloy.value]
        checks = [functools.partial(require_a_eutectic_below_the_core, layer, bumps)]
        if isinstance(layer, TransferredSolderLayer):
            checks.append(
                functools.partial(
                    require_transfer_melts_the_layer_only,
                    layer.transfer,
                    layer.alloy,
                    bumps,
                    "solder_layer.transfer",
                )
            )
        else:
            checks.append(functools.partial(require_reflow_below_the_core, layer, bumps, core_c))
        if isinstance(layer, PlatedSolderLayer):
            checks.append(
                functools.partial(
                    layer.plating.require_real_area,
                    "solder_layer.plating",
                    self.solder_layer_area_cm2(),
                    self._tips_source(bumps),
                )
            )
        elif isinstance(layer, PrintedSolderLayer):
            pitch, printing, path = (
                pad_pitch_um(LINE_WAFER),
                layer.printing,
                "solder_layer.printing",
            )
            most, least = self.tips_above_film(bumps), self.tips_above_film(bumps, thickest=True)
            checks += [
                functools.partial(printing.require_stencil_over_tips, most, "003:21", path),
                functools.partial(printing.require_aperture, most, least, pitch, path),
            ]
        every_problem(checks)
        return self

    def tips_above_film(self, bumps: SolderBumpRecipe, *, thickest: bool = False) -> TipsAboveFilm:
        """The solder bumps' tips above the resin film as the cleaning leaves it, where a
        stencil lies: each bump as its ball stands (`shortest_um`) over the thinnest resin the
        sheet lays (`thinnest_laminated_um`: the tips that project the most, where a print's
        layer is thinnest) or, `thickest`, the thickest (`thickest_laminated_um`: those that
        project the least), less what the cleaning's O2 etches off its top
        (`resin_etched_um`)."""
        sheet_um = self.resin.sheet_thickness_um
        laid_um = thickest_laminated_um(sheet_um) if thickest else thinnest_laminated_um(sheet_um)
        etched_um = self.resin_etched_um()
        height_um = bumps.shortest_um()
        etched = f", {etched_um:.1f} um less after the cleaning's O2" if etched_um else ""
        return TipsAboveFilm(
            ProjectingTips.of(height_um, bumps.base_um, laid_um - etched_um),
            text=f"the {height_um:.1f} um bumps over the {'thickest' if thickest else 'thinnest'} "
            f"resin the {sheet_um:g} um sheet lays ({laid_um:.1f} um{etched})",
        )

    def resin_etched_um(self) -> float:
        """What the cleaning takes off the resin film's top: a plasma's O2 steps, at the
        line's rate at their power (`O2_RESIN_UM_PER_MIN`); a laser, below the bumps' ablation
        threshold, none."""
        cleaning = self.cleaning
        if not isinstance(cleaning, PlasmaCleaning):
            return 0.0
        return cleaning.plasma.resin_etched_um()

    def solder_layer_area_cm2(self) -> float:
        """The tips a plated solder layer covers (`SolderBumpRecipe.tips_area_cm2`)."""
        bumps = self.bumps
        if not isinstance(bumps, SolderBumpRecipe):
            raise ValueError("bumps.method: a solder layer goes on solder bumps only")
        return bumps.tips_area_cm2(LINE_WAFER)

    @staticmethod
    def _tips_source(bumps: SolderBumpRecipe) -> str:
        return (
            f"the {bumps.bump_count(LINE_WAFER)} bump tips of {bumps.base_um:g} um on a "
            f"{LINE_WAFER.diameter_mm:g} mm wafer"
        )

    def derived_setpoints(self) -> list[ToolSetpoint]:
        """The solder layer's plated area, when its plating states none."""
        layer, bumps = self.solder_layer, self.bumps
        if not isinstance(layer, PlatedSolderLayer) or not isinstance(bumps, SolderBumpRecipe):
            return []
        return layer.plating.design_area_setpoints(
            "solder_layer.plating", self.solder_layer_area_cm2(), self._tips_source(bumps)
        )

    @recipe_check
    def _residue_cleaned_off_the_tips(self) -> Self:
        """The plasma takes off the residue the tips bring, their bumping's and the most
        smear the resin sheet leaves on them as it is pressed (`SMEAR`), or
        003:10 fails (`PlasmaCleanRecipe.require_residue_removed`). Judged before the oxide,
        on the same last step: an Ar step long enough for the residue is for the oxide too."""
        cleaning, tips, resin = self.cleaning, self.bumps.tips(), self.resin
        if isinstance(cleaning, PlasmaCleaning):
            smear = SMEAR.thickest_nm(resin.temperature_c, resin.press_pressure_mpa)
            cleaning.plasma.require_residue_removed(
                tips.residue_nm + smear,
                claim="003:10",
                steps_path="cleaning.plasma.steps",
                metal=f"the tips ({tips.metal}, smeared by the resin pressed at "
                f"{resin.temperature_c:g} degC and {resin.press_pressure_mpa:g} MPa)",
            )
        return self

    @recipe_check
    def _oxide_cleaned_off_the_tips(self) -> Self:
        """The plasma's Ar or forming gas takes off the oxide the tips bring and what its O2
        grows (`PlasmaCleanRecipe.require_oxide_removed`), or 003:11 fails at every site."""
        cleaning, tips = self.cleaning, self.bumps.tips()
        if isinstance(cleaning, PlasmaCleaning):
            cleaning.plasma.require_oxide_removed(
                tips.oxide_nm,
                oxidises=tips.oxidises,
                claim="003:11",
                steps_path="cleaning.plasma.steps",
                metal=f"the tips ({tips.metal})",
            )
        return self

    @recipe_check
    def _gas_jet_at_pressure(self) -> Self:
        """A gas jet blows the atmosphere's gas: refused under reduced pressure, which the
        laser refuses too, after the irreversible steps before it (`gas_jet_problem`). Judged
        before the laser's physics, which reads the jet."""
        cleaning = self.cleaning
        if isinstance(cleaning, LaserCleaning):
            problem = gas_jet_problem(cleaning.atmosphere, cleaning.gas_jet)
            if problem is not None:
                raise claim_violation(
                    "003:18",
                    "cleaning.gas_jet",
                    "true",
                    f"with cleaning.atmosphere = {cleaning.atmosphere.value}: {problem}",
                )
        return self

    @recipe_check
    def _laser_residue_cleaned_off_the_tips(self) -> Self:
        """The laser's pulses take off the residue the tips bring, their bumping's and the
        resin's smear (as the plasma's steps must), or 003:10 fails
        (`LaserCleaning.require_residue_removed`)."""
        cleaning, tips, resin = self.cleaning, self.bumps.tips(), self.resin
        if isinstance(cleaning, LaserCleaning):
            cleaning.require_residue_removed(
                tips.residue_nm + SMEAR.thickest_nm(resin.temperature_c, resin.press_pressure_mpa),
                "003:10",
                f"the tips ({tips.metal}, smeared by the resin pressed at "
                f"{resin.temperature_c:g} degC and {resin.press_pressure_mpa:g} MPa)",
            )
        return self

    @recipe_check
    def _laser_oxide_cleaned_off_the_tips(self) -> Self:
        """The laser's atmosphere and pulses leave no oxide on the tips, or 003:11 fails at
        every site (`LaserCleaning.require_oxide_removed`)."""
        cleaning, tips = self.cleaning, self.bumps.tips()
        if isinstance(cleaning, LaserCleaning):
            cleaning.require_oxide_removed(tips, "003:11", f"the tips ({tips.metal})")
        return self

    @recipe_check
    def _gas_jet_needs_suction(self) -> Self:
        cleaning = self.cleaning
        if isinstance(cleaning, LaserCleaning) and cleaning.gas_jet and not cleaning.suction:
            raise claim_violation(
                "003:18",
                "cleaning.suction",
                "false",
                "a gas jet peels the residue off; suction must take it away, or it redeposits",
            )
        return self

    def cleaning_claims(self) -> tuple[str, ...]:
        """The dependent claims the cleaning option carries out."""
        cleaning = self.cleaning
        if isinstance(cleaning, PlasmaCleaning):
            return cleaning.plasma.claims()
        claims = ["003:7.3", "003:8", "003:10", "003:16", "003:22"]
        if cleaning.atmosphere is Atmosphere.FORMING_GAS:
            claims.append("003:11")
        if cleaning.atmosphere is not Atmosphere.AIR:
            claims.append("003:17")
        if cleaning.gas_jet:
            claims.append("003:18")
        return tuple(claims)
