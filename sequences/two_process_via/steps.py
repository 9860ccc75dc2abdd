"""The steps of method two-process-via (002:1): the stations' work on one wafer, each step
checking what its tool measures."""

from __future__ import annotations

from packline.drivers.roles.deposition import DepositionTool
from packline.drivers.roles.electroplater import Electroplater
from packline.drivers.roles.laser import Laser
from packline.drivers.roles.lithography import Lithography
from packline.drivers.roles.oven import Oven, ThermalProfile
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.resin_coater import ResinCoater
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.sequences.engine import Batch, ConnectedTools, Handling, ToolRefusal, Wafer
from packline.sim_instruments.physics.resin_coater import MIN_COVER_UM
from packline.sim_instruments.twin import WaferSpec

from ..bump_seal_clean import on_laser
from ..laser_sources import ViaDiameter, lasers_drill
from ..plasma_clean import chamber_cycle
from ..solder import electroplate, mask_area_cm2, oven_cycle
from ..sprout_bump_csp import Dip, deposition_cycle, pattern
from .recipe import (
    CoatStep,
    CureStep,
    Develop,
    InterconnectRecipe,
    LaserDrill,
    PassivationRecipe,
    StressReliefRecipe,
    TwoProcessViaRecipe,
)

#: How far an oven run's measured peak may fall below the profile's before the batch is held.
PEAK_TOLERANCE_C = 3.0

#: The laser's steps, each where the recipe has it drill: the stress-relieving layer opened
#: over the pads (002:17), the concave portions as the first process (002:1f), the concave
#: bottoms as the second (002:1h).
STRESS_RELIEF_OPENING_STEP = "open stress relief"
CONCAVE_LASER_STEP = "laser concave portions"
VIA_BOTTOM_LASER_STEP = "laser via bottoms"

#: The claims of the interconnections (002:1a-d), on every step that forms them.
INTERCONNECTS = ("002:1a-d",)
#: The claim of the passivation (002:15), on every step that forms or opens it.
PASSIVATION = ("002:15",)


#: How long the oven may take to cool for its door after a run, in process time.
COOL_DOWN_S = 3600.0


#: The tool roles `passivate` drives: the film's deposition, the mask's litho cell, the
#: openings' plasma etch and the mask's strip on the wet bench.
PASSIVATION_TOOLS = frozenset(
    {DepositionTool.role, Lithography.role, PlasmaCleaner.role, WetBench.role}
)


async def passivate(wafer: Wafer, layer: PassivationRecipe) -> None:
    """002:15: lay the SiO2 or SiN passivation, mask it open over the pads, etch the openings
    through in CF4/O2, strip the mask."""
    await wafer.batch(
        DepositionTool,
        deposition_cycle,
        layer,
        PASSIVATION,
        "passivation",
        timeout_s=layer.batch_timeout_s,
    )
    await pattern(
        wafer,
        layer.mask,
        PASSIVATION,
        coat_step="coat passivation mask",
        pattern_step="pattern passivation openings",
    )
    etch = layer.etch
    await wafer.batch(
        PlasmaCleaner,
        chamber_cycle,
        etch,
        "etch passivation openings",
        PASSIVATION,
        timeout_s=etch.batch_timeout_s,
    )
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "strip passivation mask", dip, wafer, bench, Tank.STRIP, layer.strip, claims=PASSIVATION
        )
        await wafer.step("unload from wet bench", bench.unload, wafer.id, handling=Handling.UNLOAD)


#: The tool roles `relieve_stress` drives: the coater, the curing oven, the opening laser.
STRESS_RELIEF_TOOLS = frozenset({ResinCoater.role, Oven.role, Laser.role})


async def relieve_stress(wafer: Wafer, layer: StressReliefRecipe) -> None:
    """002:17: coat the stress-relieving precursor, cure it, laser it open over every pad."""
    await coat(wafer, layer.coat, "coat stress relief", ("002:17",), over="the pads")
    await cure(wafer, layer.cure, "cure stress relief", ("002:17",))
    await drill(wafer, layer.opening, STRESS_RELIEF_OPENING_STEP, ("002:17",))


def interconnect_tools(recipe: InterconnectRecipe) -> set[str]:
    """The tool roles `form_interconnects` drives for `recipe`."""
    roles = {DepositionTool.role, Lithography.role, Electroplater.role, WetBench.role}
    if recipe.descum is not None:
        roles.add(PlasmaCleaner.role)
    return roles


async def form_interconnects(wafer: Wafer, recipe: InterconnectRecipe, spec: WaferSpec) -> None:
    """002:1a-d: descum the pads, lay the seed, mould it, plate it (over what the mould opens
    on a wafer of `spec`), strip the mould and etch the seed away between the interconnects."""
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
    real_cm2 = mask_area_cm2(recipe.mould.mask, spec)
    await electroplate(wafer, recipe.plating, real_cm2, INTERCONNECTS)
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "strip mould", dip, wafer, bench, Tank.STRIP, recipe.strip, claims=INTERCONNECTS
        )
        await wafer.step("etch seed", etch_seed, wafer, bench, recipe, claims=INTERCONNECTS)
        await wafer.step("unload from wet bench", bench.unload, wafer.id, handling=Handling.UNLOAD)


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
    for tank, step in recipe.seed_etch_dips():
        await dip(wafer, bench, tank, step)


async def coat(
    wafer: Wafer, step: CoatStep, name: str, claims: tuple[str, ...], *, over: str
) -> None:
    """Spin the resin precursor on and soft-bake it; what it coats (`over`: the interconnects,
    or the pads of a wafer that has none yet) must stay covered."""
    async with wafer.use(ResinCoater) as coater:
        await wafer.step("load on coater", coater.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(name, coat_and_bake, wafer, coater, step, over, claims=claims)
        await wafer.step("unload from coater", coater.unload, wafer.id, handling=Handling.UNLOAD)


async def coat_and_bake(wafer: Wafer, coater: ResinCoater, step: CoatStep, over: str) -> None:
    """The coat and its bake, then the coater's gauge: the film on the field, and the thinnest
    resin over what the layer covers, named by `over` (the stress-relieving layer's 'resin
    over the pads', where the gauge reads the field's film: no interconnect is formed yet)."""
    await coater.coat_resin(step.resin, step.spin_rpm, step.spin_time_s)
    baked = await coater.soft_bake(step.bake_temperature_c, step.bake_time_s)
    wafer.measure("resin on the field", baked.field_um, "um", low=MIN_COVER_UM)
    wafer.measure(f"resin over {over}", baked.min_cover_um, "um", low=MIN_COVER_UM)


async def drill(wafer: Wafer, drilling: LaserDrill, name: str, claims: tuple[str, ...]) -> None:
    """Laser a via at every site: to the recipe's depth (none may reach the metal) or through
    to the metal (every one must)."""
    async with on_laser(wafer) as laser:
        await wafer.step(name, drill_and_check, wafer, laser, drilling, claims=claims)


def laser_diameters(recipe: TwoProcessViaRecipe) -> list[ViaDiameter]:
    """The via diameters the recipe's laser steps drill: the stress-relieving layer's
    openings, the first process's concave portions and the second's via bottoms, each where
    the recipe has the laser make it (none for a develop, a dry etch, no stress relief)."""
    opening = None if recipe.stress_relief is None else recipe.stress_relief.opening
    drillings = (
        (STRESS_RELIEF_OPENING_STEP, "stress_relief.opening", opening, "002:17"),
        (CONCAVE_LASER_STEP, "first", recipe.first, "002:1f"),
        (VIA_BOTTOM_LASER_STEP, "second", recipe.second, "002:1h"),
    )
    return [
        ViaDiameter(step, f"{field}.diameter_um", drilling.diameter_um, claim)
        for step, field, drilling, claim in drillings
        if isinstance(drilling, LaserDrill)
    ]


async def lasers_drill_the_vias(
    recipe: TwoProcessViaRecipe, tools: ConnectedTools
) -> list[ToolRefusal]:
    """The method's check of its connected tools (`Method.tools_check`, decision 0118): each
    laser whose source does not drill the diameters of the laser steps the session has left
    (`laser_diameters`, `lasers_drill`), named with its address and asked nothing but its
    source. The reference recipes' 40 um vias are a UV source's (10-50 um), the line's
    laser's; a CO2 laser (50-150 um) had refused them only at the laser's step, after the
    wafer's passivation, interconnects and resin. A resume past the laser steps asks
    nothing."""
    return await lasers_drill(laser_diameters(recipe), tools)


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
        await wafer.step("load in litho cell", cell.load, wafer.id, handling=Handling.LOAD)
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
        await wafer.step("unload from litho cell", cell.unload, wafer.id, handling=Handling.UNLOAD)


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
