"""The steps of sprout-bump-csp on the stations."""

from __future__ import annotations

from dataclasses import replace

from packline.drivers.roles.deposition import DepositionTool
from packline.drivers.roles.electroplater import Electroplater
from packline.drivers.roles.laminator import Laminator, ResinSheet, SupportKind
from packline.drivers.roles.lithography import MATERIALS, Lithography
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.sequences.engine import Batch, Handling, Wafer

from ..bump_seal_clean import ResinRecipe
from ..plasma_clean import chamber_cycle, load_wafers, unload_wafers
from ..solder import MOUNT_BALLS_TOOLS, electroplate, mask_area_cm2, mount_balls
from .recipe import (
    SEED_TOLERANCE,
    ChamberFilms,
    ElectrolessSeedRecipe,
    MouldRecipe,
    SeedEtchRecipe,
    SeedRecipe,
    SproutBumpRecipe,
    TerminalsRecipe,
    WiringRecipe,
)


async def laminate_resin(
    wafer: Wafer,
    resin: ResinRecipe,
    sheet: ResinSheet,
    thick: bool,
    tags: tuple[str, ...] = (),
) -> None:
    """001:1b: the bumps penetrate the resin `sheet`. A film support is peeled once cool
    (001:7); a metal-film support stays, the tips pressed into it (001:10). 001:13: the layer
    at least 50 um when the recipe asks."""
    support = sheet.support
    carrier = "001:10" if support is SupportKind.METAL_FILM else "001:7"
    claims = (*tags, "001:1b", carrier, "001:13") if thick else (*tags, "001:1b", carrier)
    job = replace(resin.job(), sheet=sheet)
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("laminate resin sheet", laminator.laminate, job, claims=claims)
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        if support is SupportKind.FILM:
            await wafer.step("peel support", laminator.peel_support, claims=("001:7",))
        await wafer.step("unload from laminator", laminator.unload, handling=Handling.UNLOAD)


def wiring_tools(wiring: WiringRecipe) -> set[str]:
    """The tool roles `form_wiring` drives for `wiring`: the descum's plasma, the sputtered
    seed's deposition tool or the electroless one's wet bench, the mould's litho cell, the
    plating cell, and the wet bench of the strip and seed etch."""
    roles = {Lithography.role, Electroplater.role}
    if wiring.descum is not None:
        roles.add(PlasmaCleaner.role)
    if isinstance(wiring.seed, SeedRecipe):
        roles.add(DepositionTool.role)
    elif wiring.seed is not None:
        roles.add(WetBench.role)
    if wiring.etch is not None:
        roles.add(WetBench.role)
    return roles


async def form_wiring(
    wafer: Wafer, recipe: SproutBumpRecipe, wiring: WiringRecipe, tags: tuple[str, ...]
) -> None:
    """001:1c, 001:8: descum the tips, lay the thin film, mould it, thicken it by plating,
    strip the mould and etch the film between the patterns (001:11: the metal support is the
    film); `tags`: the stacked arrangement's claim, at every level."""
    if wiring.descum is not None:
        descum = wiring.descum
        await wafer.batch(PlasmaCleaner, chamber_cycle, descum, timeout_s=descum.batch_timeout_s)
    seed = wiring.seed
    if isinstance(seed, SeedRecipe):
        await wafer.batch(DepositionTool, deposition_cycle, seed, timeout_s=seed.batch_timeout_s)
    elif seed is not None:
        await plate_electroless_seed(wafer, seed)
    await pattern(wafer, wiring.mould, recipe.wiring_claims())
    real_cm2 = mask_area_cm2(wiring.mould.mask, recipe.wafer.spec())
    await electroplate(wafer, wiring.plating, real_cm2, (*tags, *recipe.plating_claims()))
    if wiring.etch is not None:
        await etch_seed(wafer, wiring.etch, recipe.wiring_claims()[1:])


async def plate_electroless_seed(wafer: Wafer, seed: ElectrolessSeedRecipe) -> None:
    """001:9: grow the thin copper film in the wet bench's electroless bath."""
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("heat CU-ELESS bath", bench.heat_bath, Tank.CU_ELESS, seed.temperature_c)
        await wafer.step(
            "plate electroless seed", grow_seed, wafer, bench, seed, claims=seed.claims()
        )
        await wafer.step("unload from wet bench", bench.unload, wafer.id, handling=Handling.UNLOAD)


async def grow_seed(wafer: Wafer, bench: WetBench, seed: ElectrolessSeedRecipe) -> None:
    result = await bench.plate_electroless(seed.time_s)
    wafer.measure("Cu seed", result.change_um * 1000, "nm", low=seed.min_thickness_nm)


async def deposition_cycle(
    batch: Batch[DepositionTool],
    seed: ChamberFilms,
    claims: tuple[str, ...] | None = None,
    film: str = "seed",
) -> None:
    """Load, close, pump down, deposit, vent, unload: once for every wafer of the batch (the
    deposit of the `film`, tagged with `claims`, by default the section's own)."""
    chamber = batch.tool
    await batch.step("open door", chamber.open_door)
    await batch.step("load", load_wafers, chamber, batch.wafer_ids, handling=Handling.LOAD)
    await batch.step("close door", chamber.close_door)
    await batch.step("pump down", chamber.pump_down)
    await batch.step(
        f"deposit {film}", deposit, batch, chamber, seed, film, claims=claims or seed.claims()
    )
    await batch.step("vent", chamber.vent)
    await batch.step("open door", chamber.open_door)
    await batch.step("unload", unload_wafers, chamber, batch.wafer_ids, handling=Handling.UNLOAD)


async def deposit(
    batch: Batch[DepositionTool], chamber: DepositionTool, seed: ChamberFilms, film: str
) -> None:
    """Run the section's deposition recipe; every film must reach its thickness on the
    crystal."""
    plan = seed.deposition_recipe()
    result = await chamber.deposit(plan)
    for step, thickness_nm in zip(plan.steps, result.thickness_nm, strict=True):
        if step.thickness_nm:
            batch.measure(
                f"{step.material.value} {film}",
                thickness_nm,
                "nm",
                low=step.thickness_nm * (1 - SEED_TOLERANCE),
            )


async def pattern(
    wafer: Wafer,
    film: MouldRecipe,
    claims: tuple[str, ...],
    *,
    coat_step: str = "coat mould",
    pattern_step: str = "pattern wiring",
) -> None:
    """001:8 (001:11): coat, bake, expose and develop the mould (or, named by the steps, the
    solder resist of 001:4); every opening must clear."""
    async with wafer.use(Lithography) as cell:
        await wafer.step("load in litho cell", cell.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            coat_step,
            cell.coat,
            film.material,
            film.spin_rpm,
            spin_time_s=film.spin_time_s,
            claims=claims,
        )
        await wafer.step("soft bake", cell.bake, film.bake_temperature_c, film.bake_time_s)
        await wafer.step(pattern_step, expose_and_develop, wafer, cell, film, claims=claims)
        await wafer.step("unload from litho cell", cell.unload, wafer.id, handling=Handling.UNLOAD)


async def expose_and_develop(wafer: Wafer, cell: Lithography, film: MouldRecipe) -> None:
    await cell.expose(film.mask, film.dose_mj_cm2)
    report = await cell.develop(MATERIALS[film.material].tone, film.develop_time_s)
    wafer.measure("openings cleared", report.cleared, "sites", low=report.sites)
    wafer.measure("openings bridged", report.bridged, "sites", high=0)


async def etch_seed(wafer: Wafer, etch: SeedEtchRecipe, claims: tuple[str, ...]) -> None:
    """001:8 (001:11): strip the mould, then etch the seed (or the metal support) off between
    the patterns; the stripper must leave no resist and the etch must cut no pattern
    through."""
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("heat stripper", bench.heat_bath, Tank.STRIP, etch.strip.temperature_c)
        await wafer.step("strip mould", strip, wafer, bench, etch.strip.time_s)
        dips = [("etch seed", Tank.CU_ETCH, etch.copper_etch)]
        if etch.barrier_etch is not None:
            dips.append(("etch barrier", Tank.TI_ETCH, etch.barrier_etch))
        for name, tank, dip in dips:
            await wafer.step(f"heat {tank.value} bath", bench.heat_bath, tank, dip.temperature_c)
            await wafer.step(
                name, etch_between_patterns, wafer, bench, tank, dip.time_s, claims=claims
            )
        await wafer.step("unload from wet bench", bench.unload, wafer.id, handling=Handling.UNLOAD)


async def strip(wafer: Wafer, bench: WetBench, time_s: float) -> None:
    result = await bench.strip_resist(time_s)
    wafer.measure("resist left", result.left_sites, "sites", high=0)


async def etch_between_patterns(wafer: Wafer, bench: WetBench, tank: Tank, time_s: float) -> None:
    result = await bench.etch(tank, time_s)
    wafer.measure(f"patterns cut through ({tank.value})", result.opened_sites, "sites", high=0)


def terminals_tools(terminals: TerminalsRecipe) -> set[str]:
    """The tool roles `form_terminals` drives for `terminals`: the balls' mounter and oven,
    and the solder resist's litho cell."""
    roles = set(MOUNT_BALLS_TOOLS)
    if terminals.solder_resist is not None:
        roles.add(Lithography.role)
    return roles


async def form_terminals(wafer: Wafer, terminals: TerminalsRecipe) -> None:
    """001:1d, 001:3: flux and solder balls on the conducting paths of every wiring pattern,
    inspected (no ball missing, extra or bridged), reflowed in an oven batch; 001:4: then the
    solder resist coated over them and opened around every ball."""
    await mount_balls(wafer, terminals, ("001:1d", "001:3"))
    if terminals.solder_resist is not None:
        await pattern(
            wafer,
            terminals.solder_resist,
            ("001:4",),
            coat_step="coat solder resist",
            pattern_step="open solder resist",
        )
