"""The steps of bump-seal-clean on the stations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.electroplater import Electroplater
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.laser import FaceUp, Laser
from packline.drivers.roles.oven import LIQUIDUS_C, SOLIDUS_C, Oven
from packline.drivers.roles.stencil_printer import StencilPrinter
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import Handling, StepError, Wafer

from ..solder import electroplate, reflow
from .recipe import (
    DEPTH_INTO_TAPE_TOLERANCE_UM,
    KERF_ALLOWANCE_UM,
    LINE_WAFER,
    BondStep,
    BumpRecipe,
    DicingStep,
    LaserCleaning,
    PlatedSolderLayer,
    ResinRecipe,
    SheetTransfer,
    SolderBumpRecipe,
    SolderLayer,
    StencilPrint,
    TipsAboveFilm,
    TransferredSolderLayer,
    board_of,
)


async def form_bumps(
    wafer: Wafer, bumps: BumpRecipe, claims: tuple[str, ...] = ("003:7.1", "003:22")
) -> None:
    """A stud bump on every pad (003:7.1, or the `claims` of another method's bumps); the
    bonder's height inspection must meet the recipe."""
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load on bonder", bonder.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "form bumps",
            bonder.form_stud_bumps,
            bumps.program(),
            stack_count=bumps.stack,
            claims=claims,
        )
        await wafer.step("inspect bump heights", inspect_bump_heights, wafer, bonder, bumps)
        await wafer.step("unload from bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD)


async def inspect_bump_heights(
    wafer: Wafer, bonder: WireBonder, bumps: BumpRecipe, workpiece_id: str | None = None
) -> None:
    """Every site of the map of the wafer (or `workpiece_id`, its workpiece on the bonder)
    bumped, every bump within the recipe's height. Asked of the bonder only once it holds it
    (an empty bonder refuses them on either face: no wafer on the chuck); a map of no sites,
    none bumped, would pass for a wafer, and is refused."""
    await wafer.require_loaded_on(bonder, workpiece_id)
    sites = await bonder.request_site_count()
    if sites == 0:
        raise StepError(f"{bonder.name}: the map of {workpiece_id or wafer.id} has no sites")
    heights = await bonder.request_bump_height_summary()
    wafer.measure("bumped sites", heights.bumped_sites, "sites", low=sites, high=sites)
    low = bumps.height_um - bumps.height_tolerance_um
    high = bumps.height_um + bumps.height_tolerance_um
    wafer.measure("bump height min", heights.min_um, "um", low=low, high=high)
    wafer.measure("bump height max", heights.max_um, "um", low=low, high=high)


async def seal_with_resin(wafer: Wafer, resin: ResinRecipe) -> None:
    """003:7.2: laminate a resin sheet thinner than the bumps; peel its support once cool."""
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id, handling=Handling.LOAD)
        await wafer.step(
            "laminate resin film", laminator.laminate, resin.job(), claims=("003:7.2",)
        )
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        await wafer.step("peel support", laminator.peel_support, claims=("003:7.2",))
        await wafer.step("unload from laminator", laminator.unload, handling=Handling.UNLOAD)


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
        await wafer.step("load on laser", laser.load, wafer.id, *face_up, handling=Handling.LOAD)
        await wafer.step("close enclosure", laser.close_enclosure)
        yield laser
        await wafer.step("disable emission", laser.disable_emission)
        await wafer.step("open enclosure", laser.open_enclosure)
        await wafer.step("unload from laser", laser.unload, handling=Handling.UNLOAD)


#: The tool roles `form_solder_layer` drives for each option of the layer (003:21): the
#: plating cell or the stencil printer, and the oven of the layer's reflow; or the flip-chip
#: bonder, whose head melts a transferred layer onto the tips.
SOLDER_LAYER_TOOLS = {
    "plating": frozenset({Electroplater.role, Oven.role}),
    "printing": frozenset({StencilPrinter.role, Oven.role}),
    "transfer": frozenset({FlipChipBonder.role}),
}

#: The claims of the step that lays the layer on the tips, whichever its option.
LAYER_CLAIMS = ("003:19", "003:20", "003:21")


async def form_solder_layer(
    wafer: Wafer, layer: SolderLayer, bumps: SolderBumpRecipe, tips: TipsAboveFilm
) -> None:
    """003:19-21: the eutectic layer on the cleaned tips of the solder `bumps` (`tips` above
    the film where a print's layer is thinnest) by the recipe's option: plated or printed,
    then reflowed in the oven below the bumps' solidus (the layer melts and wets, the
    high-melting cores stay solid); or transferred from a sheet by the flip-chip bonder's
    heated head, which melts it onto them."""
    count = bumps.bump_count(LINE_WAFER)
    if isinstance(layer, TransferredSolderLayer):
        async with wafer.use(FlipChipBonder) as bonder:
            where = "flip-chip bonder"
            await wafer.step(f"load on {where}", bonder.load, wafer.id, handling=Handling.LOAD)
            await wafer.step(
                "transfer solder layer",
                transfer_and_inspect,
                bonder,
                wafer,
                layer.transfer,
                count,
                bumps.alloy.value,
                claims=LAYER_CLAIMS,
            )
            await wafer.step(
                f"unload from {where}", bonder.unload, wafer.id, handling=Handling.UNLOAD
            )
        return
    if isinstance(layer, PlatedSolderLayer):
        await electroplate(
            wafer,
            layer.plating,
            bumps.tips_area_cm2(LINE_WAFER),
            LAYER_CLAIMS,
            step="electroplate solder layer",
            deposit="solder layer thickness",
        )
    else:
        async with wafer.use(StencilPrinter) as printer:
            await wafer.step("load on printer", printer.load, wafer.id, handling=Handling.LOAD)
            await wafer.step(
                "print solder paste",
                print_and_inspect,
                printer,
                wafer,
                layer.printing,
                count,
                tips,
                claims=LAYER_CLAIMS,
            )
            await wafer.step("unload from printer", printer.unload, handling=Handling.UNLOAD)
    await reflow(
        wafer,
        "reflow solder layer",
        layer.alloy,
        layer.reflow,
        ("003:19", "003:20"),
        solid=bumps.alloy.value,
    )


async def print_and_inspect(
    printer: StencilPrinter,
    wafer: Wafer,
    printing: StencilPrint,
    bumps: int,
    tips: TipsAboveFilm,
) -> None:
    """Print, then hold the wafer to what the SPI measured: a deposit on each of the `bumps`
    tips, none short or in excess of its aperture's volume (the SPI's window), and the
    thinnest deposit's metal at least the layer the product needs on the `tips` that project
    the most (`StencilPrint.measured_layer_um`: the SPI's share of the whole aperture, taken
    over the open volume those tips leave it)."""
    result = await printer.print_paste(printing.print_recipe())
    wafer.measure("paste deposits", result.deposits, "deposits", low=bumps, high=bumps)
    wafer.measure("deposits insufficient", result.insufficient, "deposits", high=0)
    wafer.measure("deposits excessive", result.excessive, "deposits", high=0)
    thinnest = printing.measured_layer_um(result.min_transfer_efficiency_pct / 100, tips)
    wafer.measure(
        "thinnest printed layer", thinnest, "um", low=printing.min_thickness_um, source="sequence"
    )


async def transfer_and_inspect(
    bonder: FlipChipBonder, wafer: Wafer, transfer: SheetTransfer, bumps: int, core: str
) -> None:
    """Press the sheet on every die, then hold the wafer to the bonder's inspection: each of
    its `bumps` coated (a die the head left out leaves its bumps uncoated), the thinnest
    layer at least `min_thickness_um`; and to the joint it measured, above the sheet's
    solder's liquidus (at it or below nothing wets: validate's rule, and the oven's peak's)
    and at most the solidus of the bumps' `core` alloy (above it their cores begin to melt:
    003:20)."""
    result = await bonder.transfer_solder_layer(transfer.solder_transfer())
    wafer.measure(
        "transfer joint",
        result.joint_max_c,
        "degC",
        low=LIQUIDUS_C[transfer.alloy.value],
        high=SOLIDUS_C[core],
        above=True,
    )
    wafer.measure("bumps coated", result.bumps_coated, "bumps", low=bumps, high=bumps)
    wafer.measure(
        "solder layer thickness", result.layer_min_um, "um", low=transfer.min_thickness_um
    )


@dataclass(frozen=True)
class Mounted:
    """What a method mounts on a wafer's board and what joins it, in the method's words: the
    step `mount <parts>`, its measurements `<parts> bonded` and `<terminals> joined`."""

    parts: str
    terminals: str


#: bump-seal-clean's words (003:24): chips, by their bumps.
CHIPS = Mounted("chips", "bumps")


async def mount_chips(
    wafer: Wafer,
    mounting: BondStep,
    count: int,
    claims: tuple[str, ...] = ("003:24",),
    words: Mounted = CHIPS,
) -> None:
    """003:24 (or the `claims` of another method's mounting, in its `words`): the diced wafer
    in the die supply, its board on the stage; `count` chips flipped and bonded by their
    bumps, every one bonded and every bump joined."""
    board = board_of(wafer.id)
    async with wafer.use(FlipChipBonder) as bonder:
        await wafer.step("load board", bonder.load, board, handling=Handling.LOAD)
        await wafer.step(
            "load die source", bonder.load_die_source, wafer.id, handling=Handling.LOAD
        )
        await wafer.step(
            f"mount {words.parts}",
            bond_and_inspect,
            wafer,
            bonder,
            mounting,
            count,
            words,
            claims=claims,
        )
        await wafer.step(
            "unload die source", bonder.unload_die_source, wafer.id, handling=Handling.UNLOAD
        )
        await wafer.step("unload board", bonder.unload, board, handling=Handling.UNLOAD)


async def bond_and_inspect(
    wafer: Wafer, bonder: FlipChipBonder, mounting: BondStep, count: int, words: Mounted
) -> None:
    result = await bonder.bond_dies(mounting.bond_recipe(), unit_count=count)
    parts, terminals = words.parts, words.terminals
    wafer.measure(f"{parts} bonded", result.dies_bonded, parts, low=count, high=count)
    wafer.measure(f"{terminals} joined", result.terminals_joined, terminals, low=result.terminals)
    wafer.measure("placement offset", result.max_offset_um, "um")


async def dice(wafer: Wafer, dicing: DicingStep, claims: tuple[str, ...] = ("003:23",)) -> None:
    """Cut the wafer into chips along its die grid (003:23, or the `claims` of another
    method's dicing); every whole die must come free."""
    async with wafer.use(DicingSaw) as saw:
        await wafer.step("prepare blade", prepare_blade, saw, dicing)
        await wafer.step("mount on saw", saw.mount, wafer.id, handling=Handling.LOAD)
        await wafer.step("dice", cut_and_inspect, wafer, saw, dicing, claims=claims)
        await wafer.step("stop spindle", saw.stop_spindle)
        await wafer.step("unmount from saw", saw.unmount, handling=Handling.UNLOAD)


async def cut_and_inspect(wafer: Wafer, saw: DicingSaw, dicing: DicingStep) -> None:
    """Cut, then check the kerf and the depth into the tape the saw reports: the measurements
    are filed under the cut, and one out of limits fails it (the wafer is held; a cut is
    never repeated). The depth, the cut's shallowest line, must be within
    `DEPTH_INTO_TAPE_TOLERANCE_UM` of the recipe's either way."""
    result = await saw.dice(dicing.dicing_recipe())
    kerf_um, depth_um = result.kerf_width_um, result.cut_depth_into_tape_um
    if kerf_um is None or depth_um is None:  # RESULT? measures them of the lines cut
        raise ValueError(f"the saw cut no line of {result.lines_total}: no kerf or depth to check")
    wafer.measure(
        "kerf width",
        kerf_um,
        "um",
        low=dicing.blade_thickness_um,
        high=dicing.blade_thickness_um + KERF_ALLOWANCE_UM,
    )
    wafer.measure(
        "cut depth into tape",
        depth_um,
        "um",
        low=dicing.depth_into_tape_um - DEPTH_INTO_TAPE_TOLERANCE_UM,
        high=dicing.depth_into_tape_um + DEPTH_INTO_TAPE_TOLERANCE_UM,
    )


async def prepare_blade(saw: DicingSaw, dicing: DicingStep) -> None:
    """A blade of the recipe's thickness, intact, its height set up, with the spindle at speed.

    A blade that has cut since it was last dressed is dressed first. The saw sets the blade's
    height up at a dressing, as at a blade change, and between setups the tip rises by the
    blade's wear: cut after cut, the depth into the tape would fall out of the line's
    tolerance. Dressed, the blade also chips least, and never cuts on towards the wear that
    breaks it.
    """
    blade = await saw.request_blade()
    replace = blade.broken or blade.thickness_um != dicing.blade_thickness_um
    if replace:
        await saw.install_blade(dicing.blade_thickness_um)  # a new blade: no wear
    await saw.start_spindle(dicing.spindle_krpm)
    if not replace and blade.cut_since_dressing_mm > 0:
        await saw.dress_blade()
