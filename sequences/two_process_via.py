"""Method "two-process-via": resin layers over the interconnections, opened onto them by two
different processes, then the external terminals (document 002, claims 1-6, 9-14, 17-20).

Claim 1 of 002, step by step, as this script runs it on every wafer of the lot:

1. 002:17     (a recipe option) a stress-relieving layer from a resin precursor: coated,
              soft-baked, cured, and lasered open over every pad.
2. 002:1a-d   interconnections over the surface, joined through the pads to the circuits: the
              pads descummed in the plasma chamber (a recipe option), a thin metal seed, a
              resist mould by lithography, electroplated copper, the mould stripped and the
              seed etched away on the wet bench.
3. 002:1e     resin layers covering the interconnections (resin coater, spin coat and soft
              bake): a thermosetting precursor (002:2), a radiation-sensitive one (002:3) or
              a solder resist (002:5).
4. 002:1f     concave portions over the interconnects by a first process, resin left at their
              bottoms: lasered to a depth, or (002:3) irradiated and developed partly through.
5. 002:1g     the resin cured with its concave portions (cure oven; 002:2: a thermoset heated).
6. 002:1h     through-holes by removing the concave bottoms by a second process that differs
              from the first: an O2 dry etch in the plasma chamber (002:4), or the laser.
7. 002:1i     external connection terminals on the interconnects exposed at the holes: flux
              and solder balls (ball mounter, the missing ones repaired), reflowed into
              joints (oven): the solder module's `mount_balls`.
8. 002:6      (a recipe option) dice the wafer into separate devices (dicing saw).

The recipe's own constraints (the second process differs from the first, 002:1h; a develop
needs a radiation-sensitive resin, 002:3) are checked before any tool moves. What each step
leaves, and the product claims (the device 002:6, the wafer 002:9-14 and 002:18-20), are
checked on the product: the openings keep which process made them (`OpeningLayer.stages`).
Claims 002:7 and 002:8 (the device on a circuit board, in an apparatus), 002:15 (passivation)
and 002:16 (forming the pads) are not in this script.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from packline.drivers.roles.deposition import DepositionTool
from packline.drivers.roles.laser import DrillMode, DrillRecipe, Laser
from packline.drivers.roles.lithography import Lithography
from packline.drivers.roles.oven import Oven, ThermalProfile, cure_profile
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.resin_coater import CoatResin, ResinCoater
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.sequences.engine import (
    Batch,
    Condition,
    Feeds,
    Recipe,
    Wafer,
    claim_violation,
    method,
)
from packline.sim_instruments.physics.resin_coater import MIN_COVER_UM
from packline.sim_instruments.twin.parts import OpeningProcess, ResinKind
from packline.units import Unit

from . import conditions
from .bump_seal_clean import DicingStep, dice, on_laser
from .plasma_clean import PlasmaCleanRecipe, chamber_cycle
from .solder import PlatingStep, SolderBallRecipe, electroplate, mount_balls, oven_cycle
from .sprout_bump_csp import (
    Dip,
    MouldRecipe,
    ReticleName,
    SeedRecipe,
    deposition_cycle,
    pattern,
)

#: How far an oven run's measured peak may fall below the profile's before the batch is held.
PEAK_TOLERANCE_C = 3.0

#: The claims of the interconnections (002:1a-d), on every step that forms them.
INTERCONNECTS = ("002:1a-d",)

#: The resins that cure by heat: a thermosetting precursor (002:2) and a solder resist.
THERMOSETTING = frozenset({CoatResin.THERMOSET, CoatResin.SOLDER_RESIST})
#: The twin's resin kinds those lay (002:10, 002:19).
THERMOSET_KINDS = frozenset({ResinKind.THERMOSET, ResinKind.SOLDER_RESIST})

#: How long the oven may take to cool for its door after a run, in process time.
COOL_DOWN_S = 3600.0

# ---------------------------------------------------------------------------------- recipe


class InterconnectRecipe(Recipe):
    """002:1a-d: the interconnections from the pads over the surface (seed, mould, plating,
    strip, seed etch), the pads descummed first when the recipe says so."""

    descum: PlasmaCleanRecipe | None = None
    seed: SeedRecipe
    mould: MouldRecipe
    plating: PlatingStep
    strip: Dip
    cu_etch: Dip
    ti_etch: Dip


class CoatStep(Recipe):
    """A resin precursor spun on and soft-baked (002:1e, 002:17)."""

    resin: CoatResin
    spin_rpm: Annotated[float, Unit("rpm"), Feeds("resin_coater", "spin_rpm")]
    spin_time_s: Annotated[float, Unit("s"), Feeds("resin_coater", "spin_time_s")] = 30.0
    bake_temperature_c: Annotated[float, Unit("degC"), Feeds("resin_coater", "bake_temperature_c")]
    bake_time_s: Annotated[float, Unit("s"), Feeds("resin_coater", "bake_time_s")]


class CureStep(Recipe):
    """002:1g: ramp to the cure temperature, soak, cool, in the oven under nitrogen."""

    n2_flow_slm: Annotated[float, Unit("slm"), Feeds("oven", "n2_flow_slm")] = 40.0
    o2_limit_ppm: Annotated[float, Unit("ppm"), Feeds("oven", "o2_limit_ppm")] = 100.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600)] = 1800.0
    temperature_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    hold_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600)]
    ramp_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 5.0
    cool_to_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")] = 60.0

    def profile(self) -> ThermalProfile:
        return cure_profile(
            self.temperature_c,
            self.hold_s,
            ramp_c_per_min=self.ramp_c_per_min,
            cool_to_c=self.cool_to_c,
            cool_c_per_min=self.ramp_c_per_min,
        )


class LaserDrill(Recipe):
    """Vias by the laser at every site: to a depth (a concave portion, 002:1f) or, without a
    depth, through to the metal (002:1h, or the pads under the stress-relieving layer)."""

    process: Literal["laser"] = "laser"
    diameter_um: Annotated[float, Unit("um"), Feeds("laser", "uv_via_diameter_um")]
    fluence_j_cm2: Annotated[float, Unit("J/cm^2"), Feeds("laser", "drill_fluence_j_cm2")]
    rep_rate_khz: Annotated[float, Unit("kHz"), Feeds("laser", "rep_rate_khz")]
    depth_um: Annotated[float, Unit("um"), Feeds("laser", "via_depth_um")] | None = None

    def drill_recipe(self) -> DrillRecipe:
        mode = DrillMode.TO_METAL if self.depth_um is None else DrillMode.TO_DEPTH
        return DrillRecipe(
            self.diameter_um, self.fluence_j_cm2, self.rep_rate_khz, mode, self.depth_um
        )


class StressReliefRecipe(Recipe):
    """002:17: a stress-relieving layer from a resin precursor, cured, opened over the pads."""

    coat: CoatStep
    cure: CureStep
    opening: LaserDrill

    @model_validator(mode="after")
    def _a_stress_relief_resin(self) -> Self:
        if self.coat.resin is not CoatResin.STRESS_RELIEF:
            raise claim_violation(
                "002:17",
                "coat.resin",
                self.coat.resin.value,
                f"the stress-relieving layer is coated from {CoatResin.STRESS_RELIEF.value}",
            )
        return self


class Develop(Recipe):
    """002:1f with 002:3: the radiation-sensitive resin irradiated through a reticle and
    developed only part of the way, leaving resin at the bottom of every concave portion."""

    process: Literal["develop"]
    mask: ReticleName = "openings"
    dose_mj_cm2: Annotated[float, Unit("mJ/cm^2"), Feeds("lithography", "dose_mj_cm2")]
    develop_time_s: Annotated[float, Unit("s"), Feeds("lithography", "develop_time_s")]


class DryEtch(Recipe):
    """002:1h with 002:4: an O2 plasma etches the resin down, the concave bottoms through."""

    process: Literal["dry-etch"]
    plasma: PlasmaCleanRecipe


class TwoProcessViaRecipe(Recipe):
    """The options of claim 002:1: the resin, the two processes, the terminals, dicing."""

    stress_relief: StressReliefRecipe | None = None
    interconnects: InterconnectRecipe
    resin: CoatStep
    first: Annotated[LaserDrill | Develop, Field(discriminator="process")]
    cure: CureStep
    second: Annotated[LaserDrill | DryEtch, Field(discriminator="process")]
    terminals: SolderBallRecipe
    #: claim 002:6: dice the wafer into separate devices (None: leave the wafer whole)
    dicing: DicingStep | None = None

    @model_validator(mode="after")
    def _first_leaves_resin(self) -> Self:
        if isinstance(self.first, LaserDrill) and self.first.depth_um is None:
            raise claim_violation(
                "002:1f",
                "first.depth_um",
                "none",
                "the first process leaves resin at the concave bottoms: give the laser a depth",
            )
        return self

    @model_validator(mode="after")
    def _develop_needs_a_radiation_sensitive_resin(self) -> Self:
        if isinstance(self.first, Develop) and self.resin.resin is not CoatResin.PHOTO:
            raise claim_violation(
                "002:3",
                "first.process",
                "develop",
                f"only a radiation-sensitive resin develops; resin.resin is "
                f"{self.resin.resin.value}, not {CoatResin.PHOTO.value}",
            )
        return self

    @model_validator(mode="after")
    def _second_differs_from_first(self) -> Self:
        if self.second.process == self.first.process:
            raise claim_violation(
                "002:1h",
                "second.process",
                self.second.process,
                f"the second process must differ from the first (first.process = "
                f"{self.first.process})",
            )
        if isinstance(self.second, LaserDrill) and self.second.depth_um is not None:
            raise claim_violation(
                "002:1h",
                "second.depth_um",
                f"{self.second.depth_um:g} um",
                "the second process opens the holes through to the interconnects: no depth",
            )
        return self

    def resin_claims(self) -> tuple[str, ...]:
        """The options the covering resin carries out (002:2, 002:3, 002:5)."""
        resin = self.resin.resin
        claims = ["002:2"] if resin in THERMOSETTING else []
        if resin is CoatResin.PHOTO:
            claims.append("002:3")
        if resin is CoatResin.SOLDER_RESIST:
            claims.append("002:5")
        return tuple(claims)


# ---------------------------------------------------------------------------------- the product


def claim_conditions(recipe: TwoProcessViaRecipe) -> list[Condition]:
    """What claim 002:1, its options and its product claims leave on every wafer, checked on
    the twin."""
    wafer = [
        conditions.interconnect_on_every_pad("002:1a-d"),
        conditions.interconnects_covered("002:1e"),
        conditions.concave_portions_with_resin_below("002:1f"),
        conditions.vias_opened_by_a_second_process("002:1h"),
        conditions.terminal_on_every_via("002:1i"),
    ]
    checks = [
        *wafer,
        conditions.wiring_plated_at_least(
            "002:1a-d", recipe.interconnects.plating.min_thickness_um
        ),
        conditions.resin_cured("002:1g"),
    ]
    for claim in ("002:9", "002:18"):
        checks.append(
            conditions.all_of(
                claim,
                "interconnects on the pads, covered, opened by two processes, terminals on them",
                *wafer,
            )
        )
    resin = recipe.resin.resin
    if resin in THERMOSETTING:
        for claim in ("002:10", "002:19"):
            checks.append(
                conditions.all_of(
                    claim,
                    "the covering resin a thermoset, heated until cured",
                    conditions.covering_resin(claim, THERMOSET_KINDS, "a thermoset"),
                    conditions.resin_cured(claim),
                )
            )
    if resin is CoatResin.PHOTO:
        for claim in ("002:11", "002:20"):
            checks.append(
                conditions.covering_resin(
                    claim, frozenset({ResinKind.RADIATION_SENSITIVE}), "radiation-sensitive"
                )
            )
    if resin is CoatResin.SOLDER_RESIST:
        checks.append(
            conditions.covering_resin(
                "002:14", frozenset({ResinKind.SOLDER_RESIST}), "a solder resist"
            )
        )
    if isinstance(recipe.first, Develop):
        checks.append(conditions.first_process_was("002:12", OpeningProcess.DEVELOP))
    if isinstance(recipe.second, DryEtch):
        checks.append(conditions.vias_opened_by("002:13", OpeningProcess.DRY_ETCH))
    if recipe.stress_relief is not None:
        checks.append(conditions.layer_open_at_pads("002:17", ResinKind.STRESS_RELIEF))
    if recipe.dicing is not None:
        checks += [
            conditions.singulated_into_dies("002:6"),
            conditions.every_device_whole("002:6", *wafer),
        ]
    return checks


CLAIM_MAP = {
    "002:1a-d": "step 'deposit seed', step 'pattern wiring', step 'electroplate wiring', step "
    "'strip mould' and step 'etch seed'; claim checks: an interconnect joined to every pad, "
    "plated to at least interconnects.plating.min_thickness_um",
    "002:1e": "step 'coat resin'; claim check: interconnects covered by resin",
    "002:1f": "step 'laser concave portions' or step 'develop concave portions' (recipe option "
    "first.process); recipe constraint: the laser stops at a depth; claim check: a concave "
    "portion with resin below at every site",
    "002:1g": "step 'cure resin'; claim check: every resin layer cured",
    "002:1h": "step 'dry etch via bottoms' or step 'laser via bottoms' (recipe option "
    "second.process); recipe constraint: the second process differs from the first; claim "
    "check: every via opened through its concave bottom by a second, different process",
    "002:1i": "step 'mount balls' and step 'reflow balls'; claim check: a joined terminal on "
    "every via",
    "002:2": "recipe option resin.resin = THERMOSET or SOLDER-RESIST (two-process-via.yaml), "
    "step 'coat resin' and step 'cure resin'",
    "002:3": "recipe option resin.resin = PHOTO and first.process = develop "
    "(two-process-via-photo.yaml), step 'coat resin' and step 'develop concave portions'; "
    "recipe constraint: only a radiation-sensitive resin develops",
    "002:4": "recipe option second.process = dry-etch, step 'dry etch via bottoms'",
    "002:5": "recipe option resin.resin = SOLDER-RESIST (two-process-via-solder-resist.yaml), "
    "step 'coat resin'",
    "002:6": "recipe option dicing, step 'dice'; claim checks: units == whole dies, every die "
    "a whole device",
    "002:9": "claim check on the product wafer: interconnects on the pads, covered, opened by "
    "two processes, terminals on them",
    "002:10": "claim check on the product wafer: the covering resin a thermoset, cured",
    "002:11": "claim check on the product wafer: the covering resin radiation-sensitive",
    "002:12": "claim check on the product wafer: the concave portions made by develop",
    "002:13": "claim check on the product wafer: every via opened by dry-etch",
    "002:14": "claim check on the product wafer: the covering resin a solder resist",
    "002:17": "recipe option stress_relief (two-process-via-solder-resist.yaml), step "
    "'coat stress relief', step 'cure stress relief' and step 'open stress relief'; claim "
    "check: a cured stress-relief layer open at every pad",
    "002:18": "claim check on the product wafer: the covering means on the interconnects, "
    "opened by two processes, terminals on them",
    "002:19": "claim check on the product wafer: the covering a thermoset, cured",
    "002:20": "claim check on the product wafer: the covering radiation-sensitive",
}

# ---------------------------------------------------------------------------------- the script

#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "coat stress relief",
    "cure stress relief",
    "open stress relief",
    "descum pads",
    "deposit seed",
    "coat mould",
    "pattern wiring",
    "electroplate wiring",
    "strip mould",
    "etch seed",
    "coat resin",
    "laser concave portions",
    "expose concave portions",
    "develop concave portions",
    "cure resin",
    "dry etch via bottoms",
    "laser via bottoms",
    "apply flux",
    "mount balls",
    "reflow balls",
    "dice",
)


@method(
    name="two-process-via",
    title="Resin over the interconnects, opened onto them by two different processes (002:1)",
    claims=(
        "002:1a-d",
        "002:1e",
        "002:1f",
        "002:1g",
        "002:1h",
        "002:1i",
        "002:2",
        "002:3",
        "002:4",
        "002:5",
        "002:6",
        "002:9",
        "002:10",
        "002:11",
        "002:12",
        "002:13",
        "002:14",
        "002:17",
        "002:18",
        "002:19",
        "002:20",
    ),
    recipe=TwoProcessViaRecipe,
    tools=(
        "resin_coater",
        "oven",
        "laser",
        "plasma_cleaner",
        "deposition",
        "lithography",
        "electroplater",
        "wet_bench",
        "ball_mounter",
        "dicing_saw",
    ),
    irreversible=IRREVERSIBLE,
    default_recipe="two-process-via.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
)
async def two_process_via(wafer: Wafer, recipe: TwoProcessViaRecipe) -> None:
    """One wafer through claim 002:1: interconnects, resin, two openings, terminals."""
    if recipe.stress_relief is not None:
        await relieve_stress(wafer, recipe.stress_relief)
    await form_interconnects(wafer, recipe.interconnects)
    await coat(wafer, recipe.resin, "coat resin", ("002:1e", *recipe.resin_claims()))
    if isinstance(recipe.first, LaserDrill):
        await drill(wafer, recipe.first, "laser concave portions", ("002:1f",))
    else:
        await develop_concave_portions(wafer, recipe.first)
    heated = ("002:2",) if recipe.resin.resin in THERMOSETTING else ()
    await cure(wafer, recipe.cure, "cure resin", ("002:1g", *heated))
    if isinstance(recipe.second, DryEtch):
        plasma = recipe.second.plasma
        await wafer.batch(
            PlasmaCleaner,
            chamber_cycle,
            plasma,
            "dry etch via bottoms",
            ("002:1h", "002:4"),
            timeout_s=plasma.batch_timeout_s,
        )
    else:
        await drill(wafer, recipe.second, "laser via bottoms", ("002:1h",))
    await mount_balls(wafer, recipe.terminals, ("002:1i",))
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing, ("002:6",))


async def relieve_stress(wafer: Wafer, layer: StressReliefRecipe) -> None:
    """002:17: coat the stress-relieving precursor, cure it, laser it open over every pad."""
    await coat(wafer, layer.coat, "coat stress relief", ("002:17",))
    await cure(wafer, layer.cure, "cure stress relief", ("002:17",))
    await drill(wafer, layer.opening, "open stress relief", ("002:17",))


async def form_interconnects(wafer: Wafer, recipe: InterconnectRecipe) -> None:
    """002:1a-d: descum the pads, lay the seed, mould it, plate it, strip the mould and etch
    the seed away between the interconnects."""
    if recipe.descum is not None:
        descum = recipe.descum
        await wafer.batch(
            PlasmaCleaner,
            chamber_cycle,
            descum,
            "descum pads",
            INTERCONNECTS,
            timeout_s=descum.batch_timeout_s,
        )
    seed = recipe.seed
    await wafer.batch(
        DepositionTool, deposition_cycle, seed, INTERCONNECTS, timeout_s=seed.batch_timeout_s
    )
    await pattern(wafer, recipe.mould, INTERCONNECTS)
    await electroplate(wafer, recipe.plating, INTERCONNECTS)
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id)
        await wafer.step(
            "strip mould", dip, wafer, bench, Tank.STRIP, recipe.strip, claims=INTERCONNECTS
        )
        await wafer.step("etch seed", etch_seed, wafer, bench, recipe, claims=INTERCONNECTS)
        await wafer.step("unload from wet bench", bench.unload, wafer.id)


async def dip(wafer: Wafer, bench: WetBench, tank: Tank, step: Dip) -> None:
    """One dip at the step's temperature; it must cut no interconnect through."""
    await bench.heat_bath(tank, step.temperature_c)
    result = (
        await bench.strip_resist(step.time_s)
        if tank is Tank.STRIP
        else await bench.etch(tank, step.time_s)
    )
    if tank is Tank.STRIP:
        wafer.measure("resist left", result.left_sites, "sites", high=0)
    wafer.measure(f"interconnects cut by {tank.value}", result.opened_sites, "sites", high=0)


async def etch_seed(wafer: Wafer, bench: WetBench, recipe: InterconnectRecipe) -> None:
    """The copper seed, then the Ti barrier under it, etched where no plating protects them."""
    await dip(wafer, bench, Tank.CU_ETCH, recipe.cu_etch)
    await dip(wafer, bench, Tank.TI_ETCH, recipe.ti_etch)


async def coat(wafer: Wafer, step: CoatStep, name: str, claims: tuple[str, ...]) -> None:
    """Spin the resin precursor on and soft-bake it; every interconnect must stay covered."""
    async with wafer.use(ResinCoater) as coater:
        await wafer.step("load on coater", coater.load, wafer.id)
        await wafer.step(name, coat_and_bake, wafer, coater, step, claims=claims)
        await wafer.step("unload from coater", coater.unload, wafer.id)


async def coat_and_bake(wafer: Wafer, coater: ResinCoater, step: CoatStep) -> None:
    await coater.coat_resin(step.resin, step.spin_rpm, step.spin_time_s)
    baked = await coater.soft_bake(step.bake_temperature_c, step.bake_time_s)
    wafer.measure("resin on the field", baked.field_um, "um", low=MIN_COVER_UM)
    wafer.measure("resin over the interconnects", baked.min_cover_um, "um", low=MIN_COVER_UM)


async def drill(wafer: Wafer, drilling: LaserDrill, name: str, claims: tuple[str, ...]) -> None:
    """Laser a via at every site: to the recipe's depth (none may reach the metal) or through
    to the metal (every one must)."""
    async with on_laser(wafer) as laser:
        await wafer.step(name, drill_and_check, wafer, laser, drilling, claims=claims)


async def drill_and_check(wafer: Wafer, laser: Laser, drilling: LaserDrill) -> None:
    result = await laser.drill_vias(drilling.drill_recipe())
    if drilling.depth_um is None:
        wafer.measure("vias open to metal", result.vias_open, "sites", low=result.sites)
    else:
        wafer.measure("concave portions through to metal", result.vias_open, "sites", high=0)


async def develop_concave_portions(wafer: Wafer, develop: Develop) -> None:
    """002:1f, 002:3: irradiate the resin through the reticle and develop it only part of
    the way: no opening may clear down to the interconnect."""
    async with wafer.use(Lithography) as cell:
        await wafer.step("load in litho cell", cell.load, wafer.id)
        await wafer.step(
            "expose concave portions",
            cell.expose,
            develop.mask,
            develop.dose_mj_cm2,
            claims=("002:1f", "002:3"),
        )
        await wafer.step(
            "develop concave portions",
            develop_partly,
            wafer,
            cell,
            develop,
            claims=("002:1f", "002:3"),
        )
        await wafer.step("unload from litho cell", cell.unload, wafer.id)


async def develop_partly(wafer: Wafer, cell: Lithography, develop: Develop) -> None:
    film = await cell.request_film()
    if film is None:
        raise RuntimeError(f"wafer {wafer.id}: the litho cell sees no film to develop")
    report = await cell.develop(film.tone, develop.develop_time_s)
    wafer.measure("concave portions cleared to metal", report.cleared, "sites", high=0)
    wafer.measure("resin left at the concave bottoms, most", report.residual_um, "um")
    wafer.measure("concave portions bridged", report.bridged, "sites", high=0)


async def cure(wafer: Wafer, step: CureStep, name: str, claims: tuple[str, ...]) -> None:
    """Cure the resin in the oven as the step `name`, a batch of wafers per run."""
    await wafer.batch(
        Oven,
        oven_cycle,
        step.n2_flow_slm,
        step.o2_limit_ppm,
        COOL_DOWN_S,
        name,
        claims,
        run_cure,
        step.profile(),
        timeout_s=step.batch_timeout_s,
    )


async def run_cure(batch: Batch[Oven], profile: ThermalProfile) -> None:
    """Run the profile; the load must reach the cure temperature."""
    result = await batch.tool.run_profile(profile)
    batch.measure("load peak", result.peak_c, "degC", low=profile.peak_c - PEAK_TOLERANCE_C)
