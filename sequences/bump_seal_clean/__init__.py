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
            eutectic layer on the high-melting bumps (003:20), by one of 003:21's three
            ways: plated in the plating cell's tin-lead bath, or its paste printed through a
            stencil (stencil printer), each reflowed in the oven below the bumps' solidus
            so their cores stay solid; or transferred from a sheet by the flip-chip bonder's
            head, whose heat melts it onto the tips below that solidus.
5. 003:23   dice the wafer into chips (dicing saw), unless the recipe leaves dicing out.
6. 003:24   mount chips of the diced wafer on its board by their bumps, active side down
            (flip-chip bonder), if the recipe mounts them.

The whole method runs on whole wafers (003:22). Every dependent claim is a recipe option; the
recipe's own constraints (the resin thinner than the bumps, 003:7; a layer on solder bumps
only, of another solder, 003:19; a eutectic layer melting below the bumps, reflowed below
their liquidus, 003:20) are checked before any tool moves. The product claims 003:1-6 are
conditions on the finished wafer.

The package holds the recipe model (`recipe`), the steps on the stations (`steps`) and the
claim check with the claim map (`checks`); this module is the script.
"""

from __future__ import annotations

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.laser import Laser
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import Wafer, method

from ..plasma_clean import chamber_cycle
from ..solder import MOUNT_BALLS_TOOLS, mount_balls
from .checks import CLAIM_MAP, claim_conditions, joints_on_board
from .recipe import (
    DEPTH_INTO_TAPE_TOLERANCE_UM,
    KERF_ALLOWANCE_UM,
    BondStep,
    BumpRecipe,
    Bumps,
    BumpSealCleanRecipe,
    ChipMounting,
    DicingStep,
    LaserCleaning,
    PlasmaCleaning,
    PlatedSolderLayer,
    PrintedSolderLayer,
    ResinRecipe,
    SheetTransfer,
    SolderBumpRecipe,
    StencilPrint,
    TransferredSolderLayer,
    board_of,
    require_a_site_for_every_part,
    require_dicing_before_mounting,
    require_joined_above_the_liquidus,
    require_joint_hot_enough,
    require_pressed_for,
    require_pressed_until_wetted,
    require_resin_thinner_than_bumps,
    require_sheet_below,
    require_the_height_the_studs_give,
)
from .steps import (
    SOLDER_LAYER_TOOLS,
    Mounted,
    bond_and_inspect,
    clean_by_laser,
    cut_and_inspect,
    dice,
    form_bumps,
    form_solder_layer,
    inspect_bump_heights,
    mount_chips,
    on_laser,
    prepare_blade,
    seal_with_resin,
)

__all__ = [
    "CLAIM_MAP",
    "DEPTH_INTO_TAPE_TOLERANCE_UM",
    "IRREVERSIBLE",
    "KERF_ALLOWANCE_UM",
    "BondStep",
    "BumpRecipe",
    "BumpSealCleanRecipe",
    "Bumps",
    "ChipMounting",
    "DicingStep",
    "LaserCleaning",
    "Mounted",
    "PlasmaCleaning",
    "PlatedSolderLayer",
    "PrintedSolderLayer",
    "ResinRecipe",
    "SheetTransfer",
    "SolderBumpRecipe",
    "StencilPrint",
    "TransferredSolderLayer",
    "board_of",
    "bond_and_inspect",
    "bump_seal_clean",
    "claim_conditions",
    "clean_by_laser",
    "cut_and_inspect",
    "dice",
    "form_bumps",
    "form_solder_layer",
    "inspect_bump_heights",
    "joints_on_board",
    "mount_chips",
    "on_laser",
    "prepare_blade",
    "require_a_site_for_every_part",
    "require_dicing_before_mounting",
    "require_joined_above_the_liquidus",
    "require_joint_hot_enough",
    "require_pressed_for",
    "require_pressed_until_wetted",
    "require_resin_thinner_than_bumps",
    "require_sheet_below",
    "require_the_height_the_studs_give",
    "seal_with_resin",
]


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
    "print solder paste",
    "transfer solder layer",
    "reflow solder layer",
    "dice",
    "mount chips",
)


def recipe_tools(recipe: BumpSealCleanRecipe) -> set[str]:
    """The tool roles `bump_seal_clean` drives for `recipe`, branch by branch as it runs."""
    bumps = isinstance(recipe.bumps, SolderBumpRecipe)
    roles = {*(MOUNT_BALLS_TOOLS if bumps else {WireBonder.role}), Laminator.role}
    roles.add(PlasmaCleaner.role if isinstance(recipe.cleaning, PlasmaCleaning) else Laser.role)
    if recipe.solder_layer is not None:
        roles |= SOLDER_LAYER_TOOLS[recipe.solder_layer.method]
    if recipe.dicing is not None:
        roles.add(DicingSaw.role)
    if recipe.mounting is not None:
        roles.add(FlipChipBonder.role)
    return roles


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
        "stencil_printer",
        "dicing_saw",
        "flip_chip_bonder",
    ),
    recipe_tools=recipe_tools,
    irreversible=IRREVERSIBLE,
    default_recipe="bump-seal-clean.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
    side_workpieces=lambda wafer_id: (board_of(wafer_id),),
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
    if recipe.solder_layer is not None and isinstance(bumps, SolderBumpRecipe):
        tips = recipe.tips_above_film(bumps)
        await form_solder_layer(wafer, recipe.solder_layer, bumps, tips)
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing)
    if recipe.mounting is not None:
        await mount_chips(wafer, recipe.mounting, recipe.mounting.chips)
