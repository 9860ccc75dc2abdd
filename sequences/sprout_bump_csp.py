"""Method "sprout-bump-csp": wafer-level chip-size packages with sprout-shaped bumps (document
001, claims 1-17).

Claim 1 of 001, step by step, as this script runs it on every wafer of the lot:

1. 001:1a  sprout-shaped metal bumps on every electrode pad: stud bumps, a base bonded on the
           pad and a cone, by a wire-bonding machine (001:5), each a stack of studs when the
           recipe asks for more than one (001:6); their heights inspected against the recipe.
2. 001:1b  a resin-sealing layer whose top the bump tips project through: an adhesive resin
           sheet laminated so the bumps penetrate it (001:7), its film support peeled once
           cool; the resin at least 50 um thick when the recipe says so (001:13).
3. 001:1c  a wiring pattern per device on the resin top, touching the bump tips (001:8): the
           tips descummed in the plasma chamber (a recipe option), a thin metal film by
           sputtering or vacuum evaporation (001:9), a resist mould by lithography, the wiring
           thickened by electroplating.
4. 001:2   dice the wafer into separate packages (dicing saw), unless the recipe leaves
           dicing out.

The recipe's own constraints (the resin thinner than the bumps, 001:1b / 001:7; at least
50 um, 001:13) are checked before any tool moves; what the steps leave (a bump on every pad,
tips projecting, a seed joining every tip) is checked on the product. The outer terminals
(001:1d, 001:3, 001:4), the metal-film support (001:10-12) and stacked wiring arrangements
(001:14-17) are not in this script yet, nor an electroless seed (the third of 001:9, which
the wet bench now offers).
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from packline.drivers.roles.deposition import (
    DepositionRecipe,
    DepositionStep,
    DepositionTool,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.roles.electroplater import Electroplater, Metal, PlatingRecipe
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.lithography import MATERIALS, CoatMaterial, Lithography
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.sequences.engine import (
    Batch,
    Condition,
    Feeds,
    Recipe,
    Wafer,
    claim_violation,
    method,
)
from packline.units import Unit

from . import conditions
from .bump_seal_clean import (
    BumpRecipe,
    DicingStep,
    ResinRecipe,
    dice,
    form_bumps,
    require_resin_thinner_than_bumps,
)
from .plasma_clean import PlasmaCleanRecipe, chamber_cycle, load_wafers, unload_wafers

#: The resin thickness of claim 001:13.
THICK_RESIN_UM = 50.0

#: How far the deposition's crystal may read below a step's thickness before the wafer is
#: held: a seed that thin breaks on the tips' sidewalls.
SEED_TOLERANCE = 0.10

# ---------------------------------------------------------------------------------- recipe


class SeedStep(Recipe):
    """001:9: one film of the thin metal film, by sputtering or vacuum evaporation.

    A step with `thickness_nm` ends when the crystal monitor reads it and `time_s` is its time
    limit; sputtering sets `power_w`, `pressure_mtorr` and an Ar `flow_sccm`, evaporation
    `rate_nm_s`.
    """

    method: Method
    material: Material
    time_s: Annotated[float, Unit("s"), Feeds("deposition", "time_s")]
    thickness_nm: Annotated[float, Unit("nm"), Feeds("deposition", "thickness_nm")] = 0.0
    power_w: Annotated[float, Unit("W"), Feeds("deposition", "power_w")] = 0.0
    rate_nm_s: Annotated[float, Unit("nm/s"), Feeds("deposition", "rate_nm_s")] = 0.0
    pressure_mtorr: Annotated[float, Unit("mTorr"), Feeds("deposition", "pressure_mtorr")] = 0.0
    flow_sccm: Annotated[float, Unit("sccm"), Feeds("deposition", "flow_sccm")] = 0.0

    @model_validator(mode="after")
    def _a_metal_by_sputter_or_evaporation(self) -> Self:
        if self.method is Method.CVD or self.material.dielectric:
            raise claim_violation(
                "001:9",
                "method",
                f"{self.method.value} of {self.material.value}",
                "the thin metal film is a metal, sputtered or evaporated",
            )
        problem = self.step().mismatch()
        if problem is not None:
            raise ValueError(problem)
        return self

    def step(self) -> DepositionStep:
        return DepositionStep(
            method=self.method,
            material=self.material,
            time_s=self.time_s,
            thickness_nm=self.thickness_nm,
            power_w=self.power_w,
            rate_nm_s=self.rate_nm_s,
            pressure_mtorr=self.pressure_mtorr,
            gas=ProcessGas.AR if self.method is Method.SPUTTER else ProcessGas.NONE,
            flow_sccm=self.flow_sccm,
        )


class SeedRecipe(Recipe):
    """001:8, 001:9: the thin metal film laid over the resin top and the projecting tips."""

    steps: Annotated[list[SeedStep], Field(min_length=1), Feeds("deposition", "steps", len)]
    base_pressure_utorr: Annotated[
        float, Unit("uTorr"), Feeds("deposition", "base_pressure_utorr")
    ] = 5.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600)] = 600.0

    def deposition_recipe(self) -> DepositionRecipe:
        return DepositionRecipe(tuple(step.step() for step in self.steps), self.base_pressure_utorr)

    def claims(self) -> tuple[str, ...]:
        return ("001:1c", "001:8", "001:9")


#: A reticle of the litho cell's library, by name (the cell refuses a name it lacks).
ReticleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]


class MouldRecipe(Recipe):
    """001:8: the resist mould that patterns the thin film into one wiring per device."""

    material: CoatMaterial = CoatMaterial.PR_THICK
    spin_rpm: Annotated[int, Field(strict=True), Feeds("lithography", "spin_rpm")]
    spin_time_s: Annotated[float, Unit("s"), Feeds("lithography", "spin_time_s")] = 30.0
    bake_temperature_c: Annotated[float, Unit("degC"), Feeds("lithography", "bake_temperature_c")]
    bake_time_s: Annotated[float, Unit("s"), Feeds("lithography", "bake_time_s")]
    mask: ReticleName = "wiring-level-1"
    dose_mj_cm2: Annotated[float, Unit("mJ/cm^2"), Feeds("lithography", "dose_mj_cm2")]
    develop_time_s: Annotated[float, Unit("s"), Feeds("lithography", "develop_time_s")]


class PlatingStep(Recipe):
    """001:8, 001:9: the wiring thickened by electroplating through the mould."""

    metal: Metal = Metal.CU
    current_density_a_dm2: Annotated[
        float, Unit("A/dm^2"), Feeds("electroplater", "current_density_a_dm2")
    ]
    thickness_um: Annotated[float, Unit("um"), Feeds("electroplater", "thickness_um")]
    plated_area_cm2: Annotated[float, Unit("cm^2"), Feeds("electroplater", "plated_area_cm2")]
    bath_temperature_c: Annotated[
        float, Unit("degC"), Feeds("electroplater", "bath_temperature_c")
    ] = 25.0
    agitation_rpm: Annotated[float, Unit("rpm"), Feeds("electroplater", "agitation_rpm")] = 60.0
    #: the thinnest wiring that carries the package's current: a thinner deposit holds the wafer
    min_thickness_um: Annotated[float, Unit("um"), Field(gt=0, le=100)]

    @model_validator(mode="after")
    def _plates_the_thinnest_wiring(self) -> Self:
        if self.thickness_um < self.min_thickness_um:
            raise ValueError(
                f"thickness_um = {self.thickness_um:g} um is below min_thickness_um = "
                f"{self.min_thickness_um:g} um: the plating cannot give the wiring it needs"
            )
        return self

    def plating_recipe(self) -> PlatingRecipe:
        return PlatingRecipe(
            metal=self.metal,
            current_density_a_dm2=self.current_density_a_dm2,
            thickness_um=self.thickness_um,
            plated_area_cm2=self.plated_area_cm2,
            bath_temperature_c=self.bath_temperature_c,
            agitation_rpm=self.agitation_rpm,
        )


class WiringRecipe(Recipe):
    """001:1c: the wiring on the resin top, touching the tips (001:8: film, pattern, plate)."""

    descum: PlasmaCleanRecipe | None = None
    seed: SeedRecipe
    mould: MouldRecipe
    plating: PlatingStep


class SproutBumpRecipe(Recipe):
    """Bumps, the resin they project through, the wiring on it: the options of claim 001:1."""

    bumps: BumpRecipe
    resin: ResinRecipe
    #: claim 001:13: the resin layer at least 50 um thick
    thick_resin: bool = False
    wiring: WiringRecipe
    #: claim 001:2: dice the wafer into separate packages (None: leave the wafer whole)
    dicing: DicingStep | None = None

    @model_validator(mode="after")
    def _resin_thinner_than_the_bumps(self) -> Self:
        require_resin_thinner_than_bumps(self.resin, self.bumps, "001:1b")
        return self

    @model_validator(mode="after")
    def _thick_resin(self) -> Self:
        if self.thick_resin and self.resin.sheet_thickness_um < THICK_RESIN_UM:
            raise claim_violation(
                "001:13",
                "resin.sheet_thickness_um",
                f"{self.resin.sheet_thickness_um:g} um",
                f"must be at least {THICK_RESIN_UM:g} um (thick_resin is true)",
            )
        return self


# ---------------------------------------------------------------------------------- the product


def claim_conditions(recipe: SproutBumpRecipe) -> list[Condition]:
    """What claim 001:1 and the recipe's options leave on every wafer, checked on the twin."""
    checks = [
        conditions.bump_on_every_pad("001:1a"),
        conditions.resin_thinner_than_bumps("001:1b"),
        conditions.tips_project("001:1b"),
        conditions.seed_joins_tips("001:1c"),
        conditions.wiring_plated_at_least("001:8", recipe.wiring.plating.min_thickness_um),
    ]
    if recipe.thick_resin:
        checks.append(conditions.resin_at_least("001:13", THICK_RESIN_UM))
    if recipe.dicing is not None:
        checks.append(conditions.singulated_into_dies("001:2"))
    return checks


CLAIM_MAP = {
    "001:1a": "step 'form bumps': a stud bump on every pad; claim check: a bump on every pad",
    "001:1b": "step 'laminate resin sheet'; recipe constraint and claim checks: resin thinner "
    "than every bump, every tip projects",
    "001:1c": "step 'deposit seed', step 'pattern wiring' and step 'electroplate wiring'; "
    "claim check: a seed film joins every tip",
    "001:2": "recipe option dicing (sprout-bump-csp.yaml), step 'dice'; claim check: units "
    "== whole dies",
    "001:5": "step 'form bumps' (stud bumps from metal wire by the wire bonder)",
    "001:6": "recipe option bumps.stack >= 2 (sprout-bump-csp-stacked.yaml), step 'form bumps'",
    "001:7": "step 'laminate resin sheet' (the bumps penetrate the sheet) and step "
    "'peel support'; recipe constraint: resin thinner than the bumps",
    "001:8": "step 'deposit seed', step 'pattern wiring', step 'electroplate wiring'; claim "
    "check: the wiring plated to at least wiring.plating.min_thickness_um, sound",
    "001:9": "recipe option wiring.seed.steps (sputter or evaporate), step 'deposit seed'; "
    "step 'electroplate wiring'",
    "001:13": "recipe option thick_resin (recipe constraint: resin >= 50 um), step 'laminate "
    "resin sheet'; claim check: resin at least 50 um",
}

# ---------------------------------------------------------------------------------- the script

#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "form bumps",
    "laminate resin sheet",
    "peel support",
    "plasma clean",
    "deposit seed",
    "coat mould",
    "pattern wiring",
    "electroplate wiring",
    "dice",
)


@method(
    name="sprout-bump-csp",
    title="Wafer-level chip-size packages with sprout-shaped bumps (001:1)",
    claims=(
        "001:1a",
        "001:1b",
        "001:1c",
        "001:2",
        "001:5",
        "001:6",
        "001:7",
        "001:8",
        "001:9",
        "001:13",
    ),
    recipe=SproutBumpRecipe,
    tools=(
        "wire_bonder",
        "laminator",
        "plasma_cleaner",
        "deposition",
        "lithography",
        "electroplater",
        "dicing_saw",
    ),
    irreversible=IRREVERSIBLE,
    default_recipe="sprout-bump-csp.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
)
async def sprout_bump_csp(wafer: Wafer, recipe: SproutBumpRecipe) -> None:
    """One wafer through claim 001:1: bumps, resin, wiring."""
    stacked = ("001:6",) if recipe.bumps.stack >= 2 else ()
    await form_bumps(wafer, recipe.bumps, ("001:1a", "001:5", *stacked))
    await laminate_resin(wafer, recipe.resin, recipe.thick_resin)
    await form_wiring(wafer, recipe.wiring)
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing, ("001:2",))


async def laminate_resin(wafer: Wafer, resin: ResinRecipe, thick: bool) -> None:
    """001:1b, 001:7: the bumps penetrate the resin sheet; its film support is peeled once
    cool (001:13: the sheet at least 50 um when the recipe asks)."""
    claims = ("001:1b", "001:7", "001:13") if thick else ("001:1b", "001:7")
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id)
        await wafer.step("laminate resin sheet", laminator.laminate, resin.job(), claims=claims)
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        await wafer.step("peel support", laminator.peel_support, claims=("001:7",))
        await wafer.step("unload from laminator", laminator.unload)


async def form_wiring(wafer: Wafer, wiring: WiringRecipe) -> None:
    """001:1c, 001:8: descum the tips, lay the thin film, mould it, thicken it by plating."""
    if wiring.descum is not None:
        descum = wiring.descum
        await wafer.batch(PlasmaCleaner, chamber_cycle, descum, timeout_s=descum.batch_timeout_s)
    seed = wiring.seed
    await wafer.batch(DepositionTool, deposition_cycle, seed, timeout_s=seed.batch_timeout_s)
    await pattern(wafer, wiring.mould)
    await electroplate(wafer, wiring.plating)


async def deposition_cycle(
    batch: Batch[DepositionTool], seed: SeedRecipe, claims: tuple[str, ...] | None = None
) -> None:
    """Load, close, pump down, deposit, vent, unload: once for every wafer of the batch (the
    deposit tagged with `claims`, by default the seed's of 001)."""
    chamber = batch.tool
    await batch.step("open door", chamber.open_door)
    await batch.step("load", load_wafers, chamber, batch.wafer_ids)
    await batch.step("close door", chamber.close_door)
    await batch.step("pump down", chamber.pump_down)
    await batch.step("deposit seed", deposit, batch, chamber, seed, claims=claims or seed.claims())
    await batch.step("vent", chamber.vent)
    await batch.step("open door", chamber.open_door)
    await batch.step("unload", unload_wafers, chamber, batch.wafer_ids)


async def deposit(batch: Batch[DepositionTool], chamber: DepositionTool, seed: SeedRecipe) -> None:
    """Run the seed recipe; every film must reach its thickness on the crystal."""
    result = await chamber.deposit(seed.deposition_recipe())
    for step, thickness_nm in zip(seed.steps, result.thickness_nm, strict=True):
        if step.thickness_nm:
            batch.measure(
                f"{step.material.value} seed",
                thickness_nm,
                "nm",
                low=step.thickness_nm * (1 - SEED_TOLERANCE),
            )


async def pattern(
    wafer: Wafer, mould: MouldRecipe, claims: tuple[str, ...] = ("001:1c", "001:8")
) -> None:
    """001:8 (or another method's `claims`): coat, bake, expose and develop the mould; every
    opening must clear."""
    async with wafer.use(Lithography) as cell:
        await wafer.step("load in litho cell", cell.load, wafer.id)
        await wafer.step(
            "coat mould",
            cell.coat,
            mould.material,
            mould.spin_rpm,
            spin_time_s=mould.spin_time_s,
        )
        await wafer.step("soft bake", cell.bake, mould.bake_temperature_c, mould.bake_time_s)
        await wafer.step("pattern wiring", expose_and_develop, wafer, cell, mould, claims=claims)
        await wafer.step("unload from litho cell", cell.unload, wafer.id)


async def expose_and_develop(wafer: Wafer, cell: Lithography, mould: MouldRecipe) -> None:
    await cell.expose(mould.mask, mould.dose_mj_cm2)
    report = await cell.develop(MATERIALS[mould.material].tone, mould.develop_time_s)
    wafer.measure("mould openings cleared", report.cleared, "sites", low=report.sites)
    wafer.measure("mould openings bridged", report.bridged, "sites", high=0)


async def electroplate(
    wafer: Wafer, plating: PlatingStep, claims: tuple[str, ...] = ("001:1c", "001:8", "001:9")
) -> None:
    """001:8, 001:9 (or another method's `claims`): thicken the wiring by electroplating; too
    thin a deposit holds the wafer."""
    async with wafer.use(Electroplater) as cell:
        await wafer.step("load in plating cell", cell.load, wafer.id)
        await wafer.step(
            "electroplate wiring",
            plate_and_measure,
            wafer,
            cell,
            plating,
            claims=claims,
        )
        await wafer.step("unload from plating cell", cell.unload)


async def plate_and_measure(wafer: Wafer, cell: Electroplater, plating: PlatingStep) -> None:
    result = await cell.plate(plating.plating_recipe())
    wafer.measure(
        "wiring thickness", result.expected_thickness_um, "um", low=plating.min_thickness_um
    )
