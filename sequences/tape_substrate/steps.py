"""The tape-substrate method's steps (000:a-f, 000:x2, 000:x3), each on its station, with what
the tools measure checked against the recipe's limits.

The steps shared by the tape and the metal substrate (000:x3) take the variant's claim as
`tags`, recorded with the step's own."""

from __future__ import annotations

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.dispenser import Dispenser
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder
from packline.drivers.roles.grinder import Grinder, GrindSide
from packline.drivers.roles.laser import DrillRecipe, FaceUp, Laser
from packline.drivers.roles.oven import Oven, ThermalProfile
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import Batch, ConnectedTools, Handling, ToolRefusal, Wafer

from ..bump_seal_clean import (
    BondStep,
    cut_and_inspect,
    inspect_bump_heights,
    on_laser,
    prepare_blade,
)
from ..laser_sources import ViaDiameter, lasers_drill
from ..solder import oven_cycle
from ..sprout_bump_csp import etch_between_patterns, pattern, strip
from .checks import CURE_STEP, GRIND_STEP
from .incoming import DieWaferRecipe, PanelRecipe, die_wafer_id
from .recipe import (
    CureStep,
    FillStep,
    FrameStep,
    GrindStep,
    HoleDrilling,
    MetalSubstrate,
    SealStep,
    StackStep,
    TapeSubstrateRecipe,
)

#: The laser's steps (000:a): the holes drilled from the top, the solder resist opened from
#: the bottom.
DRILL_STEP = "drill holes"
RESIST_OPENING_STEP = "open solder resist"

#: The `HoleDrilling` field of the diameter each of the laser's steps drills.
DIAMETER_OF_STEP = {DRILL_STEP: "diameter_um", RESIST_OPENING_STEP: "resist_opening_um"}


async def drill_holes(wafer: Wafer, holes: HoleDrilling, panel: PanelRecipe) -> None:
    """000:a: the tape drilled from the top at every hole site, down to the metal layer; the
    panel turned over; the solder resist opened from the bottom to the same metal, under the
    holes, or with an area array of lands (000:x1) at the lands instead (the laser told each
    site, by its index on the panel; every site, else), which carries out 000:x1 too."""
    hole_sites = openings = None
    opening_claims: tuple[str, ...] = ("000:a",)
    if panel.area_array is not None:
        hole_sites = panel.site_indices(range(panel.terminal_sites + panel.column_sites))
        openings = panel.site_indices(panel.resist_openings())
        opening_claims = ("000:a", "000:x1")  # the openings of the area array
    async with on_laser(wafer, FaceUp.FRONT) as laser:
        await wafer.step(
            DRILL_STEP,
            drill_and_count,
            wafer,
            laser,
            holes.holes(),
            hole_sites,
            claims=("000:a",),
        )
        await wafer.step("flip panel", laser.flip)
        await wafer.step(
            RESIST_OPENING_STEP,
            drill_and_count,
            wafer,
            laser,
            holes.resist_openings(),
            openings,
            claims=opening_claims,
        )


async def drill_and_count(
    wafer: Wafer, laser: Laser, drill: DrillRecipe, sites: list[int] | None
) -> None:
    """Drill `sites` (None: every site); the tool's breakthrough count must be every one."""
    result = await laser.drill_vias(drill, sites)
    wafer.measure(
        "openings to metal", result.vias_open, "sites", low=result.sites, high=result.sites
    )


async def fill_holes(wafer: Wafer, fill: FillStep, terminal_nl: float, holes: int) -> None:
    """000:b: filler by volume into every one of the panel's `holes`, leaving room for the
    terminal's `terminal_nl`."""
    async with wafer.use(Dispenser) as dispenser:
        await wafer.step("load on dispenser", dispenser.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "fill holes",
            fill_and_inspect,
            wafer,
            dispenser,
            fill,
            terminal_nl,
            holes,
            claims=("000:b",),
        )
        await wafer.step(
            "unload from dispenser", dispenser.unload, wafer.id, handling=Handling.UNLOAD
        )


async def fill_and_inspect(
    wafer: Wafer, dispenser: Dispenser, fill: FillStep, terminal_nl: float, holes: int
) -> None:
    """Fill; the dispenser must have filled every one of the panel's `holes` (a fill stopped
    part way leaves the rest empty: its `low=1` had passed one hole filled of 2,400) and its
    camera found no hole over- or underfilled."""
    result = await dispenser.fill_holes(fill.material, fill.volume_nl, terminal_nl)
    wafer.measure("holes filled", result.holes, "holes", low=holes)
    wafer.measure("holes overfilled", result.overfilled, "holes", high=0)
    wafer.measure("holes underfilled", result.underfilled, "holes", high=0)
    wafer.measure("worst fill error", 100 * result.worst_error, "%", high=100 * fill.tolerance)


async def prepare_dies(
    wafer: Wafer, dies: DieWaferRecipe, claims: tuple[str, ...] = ("000:c",)
) -> None:
    """The panel's die wafer: gold or copper stud terminals on every pad (000:c; 000:x3: the
    studs the dies bond on the plate by), their heights inspected, then diced into its dies
    for the flip-chip bonder."""
    source = die_wafer_id(wafer.id)
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load die wafer on bonder", bonder.load, source, handling=Handling.LOAD)
        await wafer.step(
            "form terminals",
            bonder.form_stud_bumps,
            dies.terminals.program(),
            stack_count=dies.terminals.stack,
            claims=claims,
        )
        await wafer.step(
            "inspect terminal heights", inspect_bump_heights, wafer, bonder, dies.terminals, source
        )
        await wafer.step(
            "unload die wafer from bonder", bonder.unload, source, handling=Handling.UNLOAD
        )
    async with wafer.use(DicingSaw) as saw:
        await wafer.step("prepare blade for die wafer", prepare_blade, saw, dies.dicing)
        await wafer.step("mount die wafer on saw", saw.mount, source, handling=Handling.LOAD)
        await wafer.step("dice die wafer", cut_and_inspect, wafer, saw, dies.dicing)
        await wafer.step("stop spindle after die wafer", saw.stop_spindle)
        await wafer.step("unmount die wafer from saw", saw.unmount, handling=Handling.UNLOAD)


async def bond_dies(
    wafer: Wafer,
    bond: BondStep,
    panel: PanelRecipe,
    fill: FillStep | None,
    tags: tuple[str, ...] = (),
    frame: FrameStep | None = None,
) -> None:
    """000:c-d: a die from the panel's die wafer on every unit, its terminals in the holes
    `fill` filled, bonded active side down with heat and force (000:x3, no `fill`: its studs
    bonded on the plate); then, with a `frame` (000:x2), a frame pressed on every unit while
    the panel is on the stage."""
    claims = (*tags, "000:d") if tags else ("000:c", "000:d")
    source = die_wafer_id(wafer.id)
    async with wafer.use(FlipChipBonder) as bonder:
        await wafer.step("load on flip-chip bonder", bonder.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "load die wafer in die supply",
            load_dies,
            wafer,
            bonder,
            source,
            panel,
            handling=Handling.LOAD,
        )
        await wafer.step("bond dies", bond_and_inspect, wafer, bonder, bond, fill, claims=claims)
        await wafer.step(
            "unload die wafer from die supply",
            bonder.unload_die_source,
            source,
            handling=Handling.UNLOAD,
        )
        if frame is not None:
            assert fill is not None  # a frame's columns go into filled holes (refused else)
            await wafer.step(
                "mount frames", frame_and_inspect, wafer, bonder, frame, fill, claims=("000:x2",)
            )
        await wafer.step(
            "unload from flip-chip bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD
        )


async def load_dies(wafer: Wafer, bonder: FlipChipBonder, source: str, panel: PanelRecipe) -> None:
    """Load the die wafer into the bonder's die supply (a refusal of it, which leaves the
    supply empty, holds the panel as refused: the bonder carried out nothing in the step); it
    must hold a die for every unit of the panel."""
    dies = await bonder.load_die_source(source)
    wafer.measure("dies in supply", dies, "dies", low=panel.units)


async def bond_and_inspect(
    wafer: Wafer, bonder: FlipChipBonder, bond: BondStep, fill: FillStep | None
) -> None:
    """Bond; the bonder's inspection must find every die bonded, every terminal seated and
    joined, and then, in holes `fill` filled, no hole spilled and the filler's level as its
    X-ray sees it at every hole's top (000:b-c; judged where the terminals went in: unseated,
    there is no level)."""
    result = await bonder.bond_dies(bond.bond_recipe())
    wafer.measure("dies bonded", result.dies_bonded, "dies", low=result.dies_placed)
    wafer.measure("terminals seated", result.terminals_seated, "terminals", low=result.terminals)
    wafer.measure("terminals joined", result.terminals_joined, "terminals", low=result.terminals)
    if fill is not None:
        measure_fill_levels(
            wafer,
            "fill level",
            result.fill_level_min_percent,
            result.fill_level_max_percent,
            ("holes spilled", result.holes_spilled),
            fill,
        )


async def frame_and_inspect(
    wafer: Wafer, bonder: FlipChipBonder, frame: FrameStep, fill: FillStep
) -> None:
    """000:x2: a frame with conductor columns on every unit around its die, the columns into
    the column holes' filler (`fill`'s); the bonder's inspection must find every column seated
    and joined, no column hole spilled and the filler at every column hole's top."""
    result = await bonder.mount_frames(frame.frame_recipe())
    wafer.measure("frames bonded", result.frames_bonded, "frames", low=result.frames)
    wafer.measure("columns seated", result.columns_seated, "columns", low=result.columns)
    wafer.measure("columns joined", result.columns_joined, "columns", low=result.columns)
    measure_fill_levels(
        wafer,
        "column fill level",
        result.fill_level_min_percent,
        result.fill_level_max_percent,
        ("column holes spilled", result.holes_spilled),
        fill,
    )


def measure_fill_levels(
    wafer: Wafer,
    name: str,
    least_percent: float,
    most_percent: float,
    spilled: tuple[str, int],
    fill: FillStep,
) -> None:
    """Record what the bonder's X-ray saw of the filler: first the holes it spilled out of
    (`spilled`: the measurement's name and the count), none allowed, since a hole holds its
    filler only to its meniscus and reads a level in tolerance however much spilled; then
    the lowest and highest level, in % of the hole's depth, against the levels at the hole's
    top within the fill's tolerance (000:b-c)."""
    spilled_name, spilled_holes = spilled
    wafer.measure(spilled_name, spilled_holes, "holes", high=0)
    low, high = fill.level_limits_percent()
    wafer.measure(f"{name} min", least_percent, "% of hole depth", low=low, high=high)
    wafer.measure(f"{name} max", most_percent, "% of hole depth", low=low, high=high)


async def stack_panels(wafer: Wafer, stack: StackStep) -> None:
    """000:x2: join the stack of the first `stack.levels` diced panels to reach the flip-chip
    bonder; the stack's first panel is its base."""
    await wafer.batch(
        FlipChipBonder, stack_levels, stack, timeout_s=stack.batch_timeout_s, size=stack.levels
    )


async def stack_levels(batch: Batch[FlipChipBonder], stack: StackStep) -> None:
    """The base panel on the stage; each other panel of the batch in turn the source of one
    level's packages, stacked on every unit. A batch short of the levels (a panel of it held
    before the stack; a lot is whole stacks, `TapeSubstrateRecipe.lot_problem`) stacks what
    it has: the claim check finds its devices short of levels."""
    bonder = batch.tool
    batch.measure("panels in the stack", len(batch.wafer_ids), "levels", high=stack.levels)
    base, *levels = batch.wafer_ids
    await batch.step(
        "load stack base on flip-chip bonder", bonder.load, base, handling=Handling.LOAD
    )
    for source in levels:
        await batch.step(
            "load packages in die supply", bonder.load_die_source, source, handling=Handling.LOAD
        )
        await batch.step(
            "stack packages", stack_and_inspect, batch, bonder, stack, claims=("000:x2",)
        )
        await batch.step(
            "unload packages from die supply",
            bonder.unload_die_source,
            source,
            handling=Handling.UNLOAD,
        )
    await batch.step(
        "unload stack from flip-chip bonder", bonder.unload, base, handling=Handling.UNLOAD
    )


async def stack_and_inspect(
    batch: Batch[FlipChipBonder], bonder: FlipChipBonder, stack: StackStep
) -> None:
    """One level: every package bonded, every ball seated on a column top and joined."""
    result = await bonder.bond_dies(stack.bond.bond_recipe())
    batch.measure("packages stacked", result.dies_bonded, "packages", low=result.dies_placed)
    batch.measure("balls on column tops", result.terminals_seated, "balls", low=result.terminals)
    batch.measure("balls joined", result.terminals_joined, "balls", low=result.terminals)
    batch.measure("stack placement offset max", result.max_offset_um, "um")


async def seal_dies(wafer: Wafer, seal: SealStep, tags: tuple[str, ...] = ()) -> None:
    """000:e: resin around every die up to the seal height."""
    async with wafer.use(Dispenser) as dispenser:
        await wafer.step("load on dispenser", dispenser.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "seal dies", seal_and_inspect, wafer, dispenser, seal, claims=("000:e", *tags)
        )
        await wafer.step(
            "unload from dispenser", dispenser.unload, wafer.id, handling=Handling.UNLOAD
        )


async def seal_and_inspect(wafer: Wafer, dispenser: Dispenser, seal: SealStep) -> None:
    """Seal; no die may stand out of the resin."""
    result = await dispenser.seal_dies(seal.resin, seal.height_um)
    wafer.measure("dies sealed", result.dies, "dies", low=1)
    wafer.measure("dies standing out of the resin", result.exposed, "dies", high=0)


async def cure(wafer: Wafer, cure: CureStep, tags: tuple[str, ...] = ()) -> None:
    """000:e: cure the sealing resin in an oven batch under nitrogen."""
    await wafer.batch(
        Oven,
        oven_cycle,
        cure.n2_flow_slm,
        cure.o2_limit_ppm,
        cure.cool_timeout_s,
        CURE_STEP,
        ("000:e", *tags),
        run_profile,
        cure.profile(),
        timeout_s=cure.batch_timeout_s,
    )


async def run_profile(batch: Batch[Oven], profile: ThermalProfile) -> None:
    await batch.tool.run_profile(profile)


async def grind(wafer: Wafer, step: GrindStep, tags: tuple[str, ...] = ()) -> None:
    """000:f: resin top and die backs ground to the package thickness, measured."""
    async with wafer.use(Grinder) as grinder:
        await wafer.step(
            "load on grinder", grinder.load, wafer.id, GrindSide.FRONT, handling=Handling.LOAD
        )
        await wafer.step("apply chuck vacuum", grinder.apply_chuck_vacuum)
        await wafer.step(
            GRIND_STEP, grind_and_measure, wafer, grinder, step, claims=("000:f", *tags)
        )
        await wafer.step("release chuck vacuum", grinder.release_chuck_vacuum)
        await wafer.step("unload from grinder", grinder.unload, handling=Handling.UNLOAD)


async def grind_and_measure(wafer: Wafer, grinder: Grinder, step: GrindStep) -> None:
    """The package ground to its thickness and measured within the recipe's tolerance, which
    the grinder's gauge resolves: the run asked it before its first step
    (`gauges_and_laser_sources_fit`). The gauge reads the thickness rounded down to its step, so the
    package may stand up to a step above its reading: the reading's upper limit is the
    tolerance's less that step, and what the measurement has to spare is what the package
    has (a 0.5 um tolerance on a 0.5 um gauge read `0.5 um to spare` of a package 0.499 um
    over its target). The step is recorded with the reading (its `resolution`), so that its
    limit can be told afterwards."""
    result = await grinder.grind(step.cycle())
    wafer.measure(
        "package thickness",
        result.final_thickness_um,
        "um",
        low=step.thickness_um - step.tolerance_um,
        high=step.thickness_um + step.tolerance_um - result.gauge_resolution_um,
        resolution=result.gauge_resolution_um,
    )


async def gauges_and_laser_sources_fit(
    recipe: TapeSubstrateRecipe, tools: ConnectedTools
) -> list[ToolRefusal]:
    """The method's check of its connected tools (`Method.tools_check`, decision 0118): each
    laser whose source does not drill the recipe's holes and solder resist openings
    (`lasers_drill_the_holes`), and each grinder whose gauge cannot resolve the grind
    tolerance (`gauges_fine_enough`), named with its address. Asked once the run (or a
    resume: a tool may have been swapped) has connected its tools, before any is commanded,
    so no panel is loaded, drilled or filled only to be held at a step its tool refuses."""
    return [*await lasers_drill_the_holes(recipe, tools), *await gauges_fine_enough(recipe, tools)]


async def lasers_drill_the_holes(
    recipe: TapeSubstrateRecipe, tools: ConnectedTools
) -> list[ToolRefusal]:
    """Each laser whose source does not drill `holes.diameter_um` and
    `holes.resist_opening_um` (`lasers_drill`, shared with every method that drills), asked
    nothing but its source: the line's default laser is UV, and a station run on it was held
    at `drill holes`. Only the diameters of the laser's steps the session has left are asked
    of it: a resume of panels drilled but not opened, the holes' diameter not, and a plate
    (000:x3), or a resume of panels drilled and opened, nothing."""
    holes = recipe.holes
    if holes is None:
        return []
    asked = [
        ViaDiameter(step, f"holes.{field}", getattr(holes, field), "000:a")
        for step, field in DIAMETER_OF_STEP.items()
    ]
    return await lasers_drill(asked, tools)


async def gauges_fine_enough(
    recipe: TapeSubstrateRecipe, tools: ConnectedTools
) -> list[ToolRefusal]:
    """Each grinder whose thickness gauge cannot resolve `grind.tolerance_um`
    (`GrindStep.gauge_refusal`), asked nothing but its gauge's resolution. Validate refuses a
    tolerance finer than the finest gauge (0.1 um); a grinder's own may be as coarse as 1 um,
    which only the tool tells, and on it the package would pass or fail 000:f on a reading
    rounded down to a coarser grid. A resume of panels ground already asks nothing."""
    reasons: list[ToolRefusal] = []
    if not tools.runs_step(GRIND_STEP):
        return reasons
    for grinder in tools.of(Grinder):
        resolution_um = await grinder.request_gauge_resolution_um()
        refusal = recipe.grind.gauge_refusal(resolution_um, resumed=tools.resumed)
        if refusal is not None:
            reasons.append(ToolRefusal.of(grinder, refusal))
    return reasons


async def pattern_plate(wafer: Wafer, plate: MetalSubstrate) -> None:
    """000:x3: the plate patterned into the interconnections: a resist island over every land
    (the litho cell; the panel goes in plate side up), the plate etched through around them on
    the wet bench, where no land may be cut through, then the resist stripped; with its
    optional solder resist, a photosensitive resin coated over the interconnections by the
    litho cell, plate side up again, and opened at every land (every opening cleared)."""
    claims = ("000:x3",)
    await pattern(
        wafer,
        plate.resist,
        claims,
        coat_step="coat plate resist",
        pattern_step="pattern interconnections",
    )
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "heat CU-ETCH bath", bench.heat_bath, Tank.CU_ETCH, plate.etch.temperature_c
        )
        await wafer.step(
            "etch plate",
            etch_between_patterns,
            wafer,
            bench,
            Tank.CU_ETCH,
            plate.etch.time_s,
            claims=claims,
        )
        await wafer.step("heat stripper", bench.heat_bath, Tank.STRIP, plate.strip.temperature_c)
        await wafer.step("strip plate resist", strip, wafer, bench, plate.strip.time_s)
        await wafer.step("unload from wet bench", bench.unload, wafer.id, handling=Handling.UNLOAD)
    if plate.solder_resist is not None:
        await pattern(
            wafer,
            plate.solder_resist,
            claims,
            coat_step="coat solder resist",
            pattern_step="open solder resist at the lands",
        )
