"""Method "bump-seal-clean": bumps through a thin resin film, then cleaned (document 003, claim 7).

Claim 7 of 003, step by step, as this script runs it on every wafer of the lot:

1. 003:7.1  form metal bumps connected to the circuit pattern: stud bumps on every pad
            (wire bonder), their heights inspected against the recipe; or solder bumps
            (003:19): high-melting solder balls fluxed and mounted on every pad (ball
            mounter), inspected, and reflowed onto the pads (oven).
2. 003:7.2  form a resin film that seals the spaces between the bumps and is thinner than
            they are: an adhesive resin sheet laminated so the bumps penetrate it, its film
            support peeled once cool (laminator).
3. 003:7.3  clean the bump surfaces that project from the film: in the plasma chamber
            (003:12; Ar 003:13, O2 then Ar 003:14, O2 then reducing gas 003:15) or by laser
            (003:16) under reduced pressure, inert or reducing gas (003:17), with a gas jet
            and suction (003:18). What is removed (resin residue 003:10, oxide 003:11, both
            003:8) and the activation (003:9) are checked on the product.
4. 003:19   on solder bumps, a solder layer of another composition on the cleaned tips: a
            eutectic layer on the high-melting bumps (003:20), by plating (003:21) in the
            plating cell's tin-lead bath, reflowed in the oven below the bumps' liquidus so
            their cores stay solid.
5. 003:23   dice the wafer into chips (dicing saw), unless the recipe leaves dicing out.
6. 003:24   mount chips of the diced wafer on its board by their bumps, active side down
            (flip-chip bonder), if the recipe mounts them.

The whole method runs on whole wafers (003:22). Every dependent claim is a recipe option; the
recipe's own constraints (the resin thinner than the bumps, 003:7; a layer on solder bumps
only, of another solder, 003:19; a eutectic layer melting below the bumps, reflowed below
their liquidus, 003:20) are checked before any tool moves. The product claims 003:1-6 are
conditions on the finished wafer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from packline.drivers.roles.ball_mounter import BallAlloy
from packline.drivers.roles.dicing_saw import DicingRecipe, DicingSaw, StreetMap
from packline.drivers.roles.electroplater import SOLDER_ALLOYS
from packline.drivers.roles.flip_chip_bonder import BondRecipe, FlipChipBonder
from packline.drivers.roles.laminator import (
    LaminationJob,
    Laminator,
    PressRecipe,
    ResinSheet,
    SupportKind,
)
from packline.drivers.roles.laser import Atmosphere, CleanRecipe, FaceUp, Laser
from packline.drivers.roles.oven import EUTECTIC_SOLDERS, LIQUIDUS_C
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.wire_bonder import BondProgram, WireBonder, WireMaterial
from packline.sequences.engine import (
    Condition,
    Feeds,
    Recipe,
    Wafer,
    claim_violation,
    method,
)
from packline.units import Unit

from . import conditions
from .plasma_clean import PlasmaCleanRecipe, chamber_cycle
from .solder import (
    PlatingStep,
    ReflowRecipe,
    SolderBallRecipe,
    electroplate,
    mount_balls,
    reflow,
)

#: A kerf wider than the blade by more than this means a worn or wobbling blade.
KERF_ALLOWANCE_UM = 10.0

# ---------------------------------------------------------------------------------- recipe


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
    #: what a reflowed ball stands on its pad (a truncated sphere of the ball's volume)
    height_um: Annotated[float, Unit("um"), Field(ge=20, le=760)]


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
    gas_jet: bool = False
    suction: bool = False

    def clean_recipe(self) -> CleanRecipe:
        return CleanRecipe(
            fluence_j_cm2=self.fluence_j_cm2,
            rep_rate_khz=self.rep_rate_khz,
            pulses_per_site=self.pulses_per_site,
            atmosphere=self.atmosphere,
            gas_jet=self.gas_jet,
            suction=self.suction,
        )


class PlatedSolderLayer(Recipe):
    """003:21 by plating: the layer electroplated on the projecting tips (without a seed the
    tips are the cathode) in the cell's bath of `plating.metal`, then reflowed in the oven."""

    method: Literal["plating"]
    plating: PlatingStep
    reflow: ReflowRecipe

    @model_validator(mode="after")
    def _a_solder_bath(self) -> Self:
        if self.plating.metal not in SOLDER_ALLOYS:
            raise ValueError(
                f"plating.metal = {self.plating.metal.value}: a solder layer is plated from a "
                f"solder bath ({', '.join(m.value for m in SOLDER_ALLOYS)})"
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
    #: claims 003:19-21: a eutectic layer on the solder bumps' cleaned tips (None: none)
    solder_layer: PlatedSolderLayer | None = None
    dicing: DicingStep | None = None
    #: claim 003:24: chips mounted on a board by their bumps (None: the chips are not mounted)
    mounting: ChipMounting | None = None

    @model_validator(mode="after")
    def _resin_thinner_than_the_bumps(self) -> Self:
        require_resin_thinner_than_bumps(self.resin, self.bumps, "003:7.2")
        return self

    @model_validator(mode="after")
    def _chips_mounted_once_diced(self) -> Self:
        if self.mounting is not None and self.dicing is None:
            raise claim_violation(
                "003:24",
                "dicing",
                "none",
                "chips are mounted once the wafer is cut into them: give a dicing section",
            )
        return self

    @model_validator(mode="after")
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
        return self

    @model_validator(mode="after")
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


# ---------------------------------------------------------------------------------- the product


def claim_conditions(recipe: BumpSealCleanRecipe) -> list[Condition]:
    """What claim 003:7 and the recipe's options leave on every wafer, checked on the twin.

    Residue and oxide are checked whatever the cleaning option (both raise the connection
    resistance, 003:8); activation only where the option activates (the plasma, 003:9). With
    a solder layer, the product claims 003:3-6: the layer of another solder on every tip
    (003:3), over a cleaned tip (003:4, of claim 2), eutectic on high-melting bumps (003:5,
    003:6), and the layer reflowed with the cores solid (003:20).
    """
    checks = [
        conditions.bump_on_every_pad("003:7.1"),
        conditions.resin_thinner_than_bumps("003:7.2"),
        conditions.tips_project("003:7.3"),
        conditions.no_residue_on_tips("003:10"),
        conditions.no_oxide_on_tips("003:11"),
    ]
    if isinstance(recipe.cleaning, PlasmaCleaning):
        checks.append(conditions.tips_activated("003:9"))
    layer = recipe.solder_layer
    if layer is not None:
        least = layer.min_thickness_um
        checks += [
            conditions.solder_layer_on_tips("003:19", least),
            conditions.solder_layer_on_tips("003:20", least, eutectic=True),
            conditions.cores_solid_under_reflowed_layers("003:20"),
            conditions.solder_layer_on_tips("003:3", least),
            conditions.solder_layer_on_tips("003:4", least, cleaned=True),
            conditions.solder_layer_on_tips("003:5", least, eutectic=True),
            conditions.solder_layer_on_tips("003:6", least, cleaned=True, eutectic=True),
        ]
    if recipe.dicing is not None:
        checks.append(conditions.singulated_into_dies("003:23"))
    if recipe.mounting is not None:
        joints = conditions.joint_at_every_terminal("003:24")
        checks.append(replace(joints, text=f"{joints.text}, on its board", on=board_of))
    return checks


CLAIM_MAP = {
    "003:1": "claim checks on the product: bumps on every pad, resin thinner, tips cleaned",
    "003:2": "claim checks: no residue (003:10) and no oxide (003:11) on the exposed tips",
    "003:3": "recipe options bumps.method = solder-ball and solder_layer "
    "(bump-seal-clean-solder-plated.yaml); claim check: another solder on every tip",
    "003:4": "recipe options bumps.method = solder-ball and solder_layer; claim check: "
    "another solder on every tip cleaned of residue and oxide beneath it",
    "003:5": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic); claim "
    "check: a eutectic layer below the bumps' liquidus on every tip",
    "003:6": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic); claim "
    "check: a eutectic layer below the bumps' liquidus on every cleaned tip",
    "003:7.1": "step 'form bumps': a stud bump on every pad, or recipe option bumps.method = "
    "solder-ball, step 'mount balls' and step 'reflow balls': a solder bump on every pad; "
    "claim check: a bump on every pad",
    "003:7.2": "step 'laminate resin film' and step 'peel support'; recipe constraint and "
    "claim check: resin thinner than every bump",
    "003:7.3": "step 'plasma clean' or step 'laser clean' (recipe option cleaning.method); "
    "claim check: tips project above the resin",
    "003:8": "step 'plasma clean' or step 'laser clean'; claim checks 003:10 and 003:11",
    "003:9": "step 'plasma clean' (the RF dose activates); claim check: exposed tips activated",
    "003:10": "step 'plasma clean' (O2) or step 'laser clean'; claim check: no residue on tips",
    "003:11": "step 'plasma clean' (Ar or forming gas) or step 'laser clean' in forming gas; "
    "claim check: no oxide on the exposed tips",
    "003:12": "recipe option cleaning.method = plasma, step 'plasma clean'",
    "003:13": "recipe option cleaning.plasma.steps with Ar (bump-seal-clean-plasma-ar.yaml), "
    "step 'plasma clean'",
    "003:14": "recipe option cleaning.plasma.steps O2 then Ar (bump-seal-clean.yaml), "
    "step 'plasma clean'",
    "003:15": "recipe option cleaning.plasma.steps O2 then forming gas "
    "(bump-seal-clean-plasma-o2-reducing.yaml), step 'plasma clean'",
    "003:16": "recipe option cleaning.method = laser (bump-seal-clean-laser.yaml), "
    "step 'laser clean'",
    "003:17": "plasma: step 'pump down'; laser: recipe option cleaning.atmosphere "
    "(reduced-pressure, N2, Ar or forming-gas), step 'laser clean'",
    "003:18": "recipe options cleaning.gas_jet and cleaning.suction, step 'laser clean'",
    "003:19": "recipe option bumps.method = solder-ball (step 'mount balls', step 'reflow "
    "balls') and solder_layer, step 'electroplate solder layer' after the cleaning; recipe "
    "constraint: a layer on solder bumps only, of another solder; claim check: another solder "
    "on every tip",
    "003:20": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic), step "
    "'reflow solder layer'; recipe constraint: the layer's liquidus and the reflow's peak "
    "below the bumps' liquidus; claim checks: a eutectic layer on every tip, reflowed with "
    "the core solid",
    "003:21": "recipe option solder_layer.method = plating (bump-seal-clean-solder-plated.yaml), "
    "step 'electroplate solder layer'",
    "003:22": "step 'form bumps' or 'mount balls' and every later step run on whole wafers",
    "003:23": "recipe option dicing, step 'dice'; claim check: units == whole dies",
    "003:24": "recipe option mounting (bump-seal-clean-solder-mounted.yaml; recipe constraint: "
    "after dicing), step 'mount chips'; claim check on the wafer's board: a joint at every "
    "bump of the mounted chips",
}

# ---------------------------------------------------------------------------------- the script

#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "form bumps",
    "apply flux",
    "mount balls",
    "reflow balls",
    "laminate resin film",
    "peel support",
    "plasma clean",
    "laser clean",
    "electroplate solder layer",
    "reflow solder layer",
    "dice",
    "mount chips",
)


@method(
    name="bump-seal-clean",
    title="Bumps through a thin resin film, then cleaned (003:7); solder bumps with a "
    "eutectic layer (003:19-21), dicing (003:23), chips mounted on a board (003:24)",
    claims=(
        "003:7.1",
        "003:7.2",
        "003:7.3",
        "003:8",
        "003:9",
        "003:10",
        "003:11",
        "003:12",
        "003:13",
        "003:14",
        "003:15",
        "003:16",
        "003:17",
        "003:18",
        "003:19",
        "003:20",
        "003:21",
        "003:22",
        "003:23",
        "003:24",
        "003:1",
        "003:2",
        "003:3",
        "003:4",
        "003:5",
        "003:6",
    ),
    recipe=BumpSealCleanRecipe,
    tools=(
        "wire_bonder",
        "ball_mounter",
        "oven",
        "laminator",
        "plasma_cleaner",
        "laser",
        "electroplater",
        "dicing_saw",
        "flip_chip_bonder",
    ),
    irreversible=IRREVERSIBLE,
    default_recipe="bump-seal-clean.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
)
async def bump_seal_clean(wafer: Wafer, recipe: BumpSealCleanRecipe) -> None:
    """One wafer through claim 003:7: bump, seal, clean, a solder layer, dice, and mount."""
    bumps = recipe.bumps
    if isinstance(bumps, SolderBumpRecipe):
        await mount_balls(wafer, bumps, ("003:7.1", "003:19", "003:22"))
    else:
        await form_bumps(wafer, bumps)
    await seal_with_resin(wafer, recipe.resin)
    if isinstance(recipe.cleaning, PlasmaCleaning):
        plasma = recipe.cleaning.plasma
        await wafer.batch(PlasmaCleaner, chamber_cycle, plasma, timeout_s=plasma.batch_timeout_s)
    else:
        await clean_by_laser(wafer, recipe.cleaning, recipe.cleaning_claims())
    if recipe.solder_layer is not None:
        await form_solder_layer(wafer, recipe.solder_layer)
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing)
    if recipe.mounting is not None:
        await mount_chips(wafer, recipe.mounting)


async def form_bumps(
    wafer: Wafer, bumps: BumpRecipe, claims: tuple[str, ...] = ("003:7.1", "003:22")
) -> None:
    """A stud bump on every pad (003:7.1, or the `claims` of another method's bumps); the
    bonder's height inspection must meet the recipe."""
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load on bonder", bonder.load, wafer.id)
        await wafer.step(
            "form bumps",
            bonder.form_stud_bumps,
            bumps.program(),
            stack_count=bumps.stack,
            claims=claims,
        )
        await wafer.step("inspect bump heights", inspect_bump_heights, wafer, bonder, bumps)
        await wafer.step("unload from bonder", bonder.unload, wafer.id)


async def inspect_bump_heights(wafer: Wafer, bonder: WireBonder, bumps: BumpRecipe) -> None:
    heights = await bonder.request_bump_height_summary()
    sites = await bonder.request_site_count()
    wafer.measure("bumped sites", heights.bumped_sites, "sites", low=sites, high=sites)
    low = bumps.height_um - bumps.height_tolerance_um
    high = bumps.height_um + bumps.height_tolerance_um
    wafer.measure("bump height min", heights.min_um, "um", low=low, high=high)
    wafer.measure("bump height max", heights.max_um, "um", low=low, high=high)


async def seal_with_resin(wafer: Wafer, resin: ResinRecipe) -> None:
    """003:7.2: laminate a resin sheet thinner than the bumps; peel its support once cool."""
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id)
        await wafer.step(
            "laminate resin film", laminator.laminate, resin.job(), claims=("003:7.2",)
        )
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        await wafer.step("peel support", laminator.peel_support, claims=("003:7.2",))
        await wafer.step("unload from laminator", laminator.unload)


async def clean_by_laser(wafer: Wafer, cleaning: LaserCleaning, claims: tuple[str, ...]) -> None:
    """003:16-18: clean the projecting tips by laser in the recipe's atmosphere."""
    async with on_laser(wafer) as laser:
        await wafer.step(
            "laser clean", laser.clean_surfaces, cleaning.clean_recipe(), claims=claims
        )


@asynccontextmanager
async def on_laser(wafer: Wafer, *face_up: FaceUp) -> AsyncIterator[Laser]:
    """The wafer loaded on the laser (`face_up`, if given, towards the beam), its enclosure
    closed, for the steps of the body; then emission off and the wafer unloaded."""
    async with wafer.use(Laser) as laser:
        await wafer.step("open enclosure", laser.open_enclosure)
        await wafer.step("load on laser", laser.load, wafer.id, *face_up)
        await wafer.step("close enclosure", laser.close_enclosure)
        yield laser
        await wafer.step("disable emission", laser.disable_emission)
        await wafer.step("open enclosure", laser.open_enclosure)
        await wafer.step("unload from laser", laser.unload)


async def form_solder_layer(wafer: Wafer, layer: PlatedSolderLayer) -> None:
    """003:19-21: the eutectic layer on the cleaned tips, then reflowed below the bumps'
    liquidus: the layer melts and wets, the high-melting cores stay solid."""
    await electroplate(
        wafer,
        layer.plating,
        ("003:19", "003:20", "003:21"),
        step="electroplate solder layer",
        deposit="solder layer thickness",
    )
    await reflow(wafer, "reflow solder layer", layer.alloy, layer.reflow, ("003:19", "003:20"))


async def mount_chips(wafer: Wafer, mounting: ChipMounting) -> None:
    """003:24: the diced wafer in the die supply, its board on the stage; the chips flipped
    and bonded by their bumps, every one bonded and every bump joined."""
    board = board_of(wafer.id)
    async with wafer.use(FlipChipBonder) as bonder:
        await wafer.step("load board", bonder.load, board)
        await wafer.step("load die source", bonder.load_die_source, wafer.id)
        await wafer.step(
            "mount chips", bond_and_inspect, wafer, bonder, mounting, claims=("003:24",)
        )
        await wafer.step("unload die source", bonder.unload_die_source, wafer.id)
        await wafer.step("unload board", bonder.unload, board)


async def bond_and_inspect(wafer: Wafer, bonder: FlipChipBonder, mounting: ChipMounting) -> None:
    result = await bonder.bond_dies(mounting.bond_recipe(), unit_count=mounting.chips)
    chips = mounting.chips
    wafer.measure("chips bonded", result.dies_bonded, "chips", low=chips, high=chips)
    wafer.measure("bumps joined", result.terminals_joined, "bumps", low=result.terminals)
    wafer.measure("placement offset", result.max_offset_um, "um")


async def dice(wafer: Wafer, dicing: DicingStep, claims: tuple[str, ...] = ("003:23",)) -> None:
    """Cut the wafer into chips along its die grid (003:23, or the `claims` of another
    method's dicing); every whole die must come free."""
    async with wafer.use(DicingSaw) as saw:
        await wafer.step("prepare blade", prepare_blade, saw, dicing)
        await wafer.step("mount on saw", saw.mount, wafer.id)
        await wafer.step("dice", cut_and_inspect, wafer, saw, dicing, claims=claims)
        await wafer.step("stop spindle", saw.stop_spindle)
        await wafer.step("unmount from saw", saw.unmount)


async def cut_and_inspect(wafer: Wafer, saw: DicingSaw, dicing: DicingStep) -> None:
    """Cut, then check the kerf the saw reports: the measurements are filed under the cut, and
    a kerf out of limits fails it (the wafer is held; a cut is never repeated)."""
    result = await saw.dice(dicing.dicing_recipe())
    wafer.measure(
        "kerf width",
        result.kerf_width_um,
        "um",
        low=dicing.blade_thickness_um,
        high=dicing.blade_thickness_um + KERF_ALLOWANCE_UM,
    )
    wafer.measure("cut depth into tape", result.cut_depth_into_tape_um, "um", low=0)


async def prepare_blade(saw: DicingSaw, dicing: DicingStep) -> None:
    """A blade of the recipe's thickness, intact and dressed, with the spindle at speed.

    A blade that has cut its dressing interval since it was last dressed is dressed first:
    worn blades chip more and, far past the interval, break.
    """
    blade = await saw.request_blade()
    replace = blade.broken or blade.thickness_um != dicing.blade_thickness_um
    if replace:
        await saw.install_blade(dicing.blade_thickness_um)  # a new blade: no wear
    await saw.start_spindle(dicing.spindle_krpm)
    if not replace and blade.wear_ratio >= 1.0:
        await saw.dress_blade()
