"""The recipe model of bump-seal-clean: every option with its units and limits, and the
claims' own constraints."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag

from packline.drivers.roles.ball_mounter import BallAlloy
from packline.drivers.roles.dicing_saw import DicingRecipe, StreetMap
from packline.drivers.roles.electroplater import SOLDER_ALLOYS, Metal
from packline.drivers.roles.flip_chip_bonder import BondRecipe
from packline.drivers.roles.laminator import LaminationJob, PressRecipe, ResinSheet, SupportKind
from packline.drivers.roles.laser import Atmosphere, CleanRecipe
from packline.drivers.roles.oven import EUTECTIC_SOLDERS, LIQUIDUS_C
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.sequences.engine import Feeds, Recipe, ToolSetpoint, claim_violation, recipe_check
from packline.sim_instruments.physics.oven import ReflowPhysics
from packline.sim_instruments.twin import WaferSpec, wafer_site_count
from packline.units import Unit

from ..plasma_clean import PlasmaCleanRecipe
from ..solder import PlatingStep, ReflowRecipe, SolderBallRecipe

#: The wafer bump-seal-clean runs on: the simulated line's (the method names no incoming
#: wafer of its own); a plated solder layer's area counts its dies.
LINE_WAFER = WaferSpec()

#: A kerf wider than the blade by more than this means a worn or wobbling blade.
KERF_ALLOWANCE_UM = 10.0


class BumpRecipe(Recipe):
    """003:7.1: stud bumps on every pad, and the heights the process is expected to give."""

    method: Literal["stud"] = "stud"
    wire: WireMaterial
    wire_diameter_um: Annotated[float, Unit("um"), Feeds("wire_bonder", "wire_diameter_um")]
    stage_temperature_c: Annotated[float, Unit("degC"), Feeds("wire_bonder", "stage_temperature_c")]
    bond_force_gf: Annotated[float, Unit("gf"), Feeds("wire_bonder", "bond_force_gf")]
    ultrasonic_power_mw: Annotated[float, Unit("mW"), Feeds("wire_bonder", "ultrasonic_power_mw")]
    ultrasonic_time_ms: Annotated[float, Unit("ms"), Feeds("wire_bonder", "ultrasonic_time_ms")]
    stack: Annotated[int, Field(strict=True), Feeds("wire_bonder", "stack_count")] = 1
    #: what the program gives: stud bumps stand 20-300 um, one to four studs high
    height_um: Annotated[float, Unit("um"), Field(ge=20, le=300)]
    #: how far a measured bump may stand from `height_um` before the wafer is held
    height_tolerance_um: Annotated[float, Unit("um"), Field(gt=0, le=50)]

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
    pads of a die), reflowed onto its pad; `height_um` is what the ball gives on its pad."""

    method: Literal["solder-ball"]
    alloy: BallAlloy = BallAlloy.HIGH_LEAD
    liquidus_claim = "003:7.1"
    #: what a reflowed ball stands on its pad (a truncated sphere of the ball's volume)
    height_um: Annotated[float, Unit("um"), Field(ge=20, le=760)]

    def bump_count(self, spec: WaferSpec) -> int:
        """How many bumps a wafer of `spec` gets: `balls_per_unit` on every die."""
        return wafer_site_count(spec) // (4 * spec.pads_per_die_side) * self.balls_per_unit

    @property
    def base_um(self) -> float:
        """A bump's base: the pad its ball wets (`ReflowPhysics.pad_to_ball_ratio`)."""
        return ReflowPhysics().pad_to_ball_ratio * self.ball_diameter_um

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
    #: a gas jet that peels the ablated residue off the tips (003:18, with suction)
    gas_jet: bool = False
    #: suction that carries the removed residue away, or part of it falls back; a gas jet
    #: needs it (003:18)
    suction: bool = True

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
    metal: Metal = Metal.SNPB
    #: the layer of another solder on every tip, at least `min_thickness_um` (the claim check
    #: holds it so)
    deposit_claim = "003:19"


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


class DicingStep(Recipe):
    """003:23: dice the wafer into chips along its die grid."""

    blade_thickness_um: Annotated[float, Unit("um"), Feeds("dicing_saw", "blade_thickness_um")]
    spindle_krpm: Annotated[float, Unit("krpm"), Feeds("dicing_saw", "spindle_krpm")]
    feed_mm_s: Annotated[float, Unit("mm/s"), Feeds("dicing_saw", "feed_mm_s")]
    depth_into_tape_um: Annotated[float, Unit("um"), Feeds("dicing_saw", "depth_into_tape_um")]

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

    chips: Annotated[int, Field(strict=True, ge=1, le=10_000)]


def board_of(wafer_id: str) -> str:
    """The id of the board the chips of wafer `wafer_id` are mounted on (003:24)."""
    return f"B{wafer_id}"


def require_dicing_before_mounting(
    dicing: DicingStep | None,
    mounting: BondStep | None,
    claim: str,
    why: str = "chips are mounted once the wafer is cut into them",
) -> None:
    """The constraint that what is mounted comes of the diced wafer (raised at `dicing`,
    naming `claim`; `why` in the method's own words)."""
    if mounting is not None and dicing is None:
        raise claim_violation(claim, "dicing", "none", f"{why}: give a dicing section")


def require_resin_thinner_than_bumps(
    resin: ResinRecipe, bumps: BumpRecipe | SolderBumpRecipe, claim: str
) -> None:
    """The claim's constraint that the bump tips project: the sheet thinner than the bumps
    (raised at `resin.sheet_thickness_um`, naming `claim`)."""
    if resin.sheet_thickness_um >= bumps.height_um:
        raise claim_violation(
            claim,
            "resin.sheet_thickness_um",
            f"{resin.sheet_thickness_um:g} um",
            f"must be thinner than the bumps, bumps.height_um = {bumps.height_um:g} um",
        )


class BumpSealCleanRecipe(Recipe):
    """Bumps, a resin film thinner than them, cleaning, dicing: the options of claim 003:7."""

    bumps: Bumps
    resin: ResinRecipe
    cleaning: Annotated[PlasmaCleaning | LaserCleaning, Field(discriminator="method")]
    #: claims 003:19-21: a eutectic layer on the solder bumps' cleaned tips
    solder_layer: PlatedSolderLayer | None = None
    dicing: DicingStep | None = None
    #: claim 003:24: chips mounted on a board by their bumps
    mounting: ChipMounting | None = None

    @recipe_check
    def _resin_thinner_than_the_bumps(self) -> Self:
        require_resin_thinner_than_bumps(self.resin, self.bumps, "003:7.2")
        return self

    @recipe_check
    def _chips_mounted_once_diced(self) -> Self:
        require_dicing_before_mounting(self.dicing, self.mounting, "003:24")
        return self

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
        path, given = layer.alloy_field
        where = f"solder_layer.{path}"
        if layer.alloy == bumps.alloy.value:
            raise claim_violation(
                "003:19",
                where,
                given,
                f"the layer must differ in composition from the {bumps.alloy.value} bumps",
            )
        core_c, layer_c = LIQUIDUS_C[bumps.alloy.value], LIQUIDUS_C.get(layer.alloy)
        if layer.alloy not in EUTECTIC_SOLDERS or layer_c is None or layer_c >= core_c:
            raise claim_violation(
                "003:20",
                where,
                given,
                f"the layer ({layer.alloy}) must be a eutectic solder "
                f"({', '.join(sorted(EUTECTIC_SOLDERS))}) whose liquidus is below the "
                f"{bumps.alloy.value} bumps' ({core_c:g} degC)",
            )
        if layer.reflow.peak_c >= core_c:
            raise claim_violation(
                "003:20",
                "solder_layer.reflow.peak_c",
                f"{layer.reflow.peak_c:g} degC",
                f"must stay below the liquidus of the {bumps.alloy.value} bumps "
                f"({core_c:g} degC), or their high-melting cores melt",
            )
        layer.plating.require_real_area(
            "solder_layer.plating", self.solder_layer_area_cm2(), self._tips_source(bumps)
        )
        return self

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
        if layer is None or not isinstance(bumps, SolderBumpRecipe):
            return []
        return layer.plating.design_area_setpoints(
            "solder_layer.plating", self.solder_layer_area_cm2(), self._tips_source(bumps)
        )

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
