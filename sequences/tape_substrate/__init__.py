"""Method "tape-substrate": packages on a tape substrate with filled through-holes (document 000).

Document 000 describes, on a tape panel with room for many package units whose bottom carries
a metal interconnection layer and a solder resist, as this script runs it on every panel:

1. 000:a  through-holes in the tape down to the interconnection layer, and openings in the
          solder resist: the laser drills the tape from the top, the tool's flipper turns the
          panel over, and the laser opens the solder resist from the bottom.
2. 000:b  conductive filler (a paste or a low-melting metal) dispensed into every hole by
          volume, deliberately short of full: filler + terminal volume = hole volume.
3. 000:c  the dies' connection terminals (gold or copper studs the wire bonder forms on the
          die wafer, which the saw then dices) inserted into the holes; the filler rises to
          about the holes' tops.
4. 000:d  each die bonded active side down on the tape's top by the flip-chip bonder (heat,
          force).
5. 000:e  sealing resin dispensed around every die, sealing its side faces, then cured in the
          oven.
6. 000:f  the resin top and the die backs ground and polished to the package thickness.
7. 000:x1 (recipe option `balls`) external terminals: solder balls on the metal in the solder
          resist openings, reflowed: under the holes (a peripheral array), or with
          `panel.area_array` at the lands of an area array over the unit's bottom, where step 1
          opens the solder resist instead.
8. 000:g  the panel cut into its package units.

000:x2 (recipe option `frame`, with `stack`) makes multilayer devices: on a panel with column
holes (`panel.columns_per_side`, drilled and filled with the terminals' holes, 1-2), once the
dies are bonded (3-4) the flip-chip bonder presses a frame with copper conductor columns from
its magazine on every unit around its die, the columns' lower ends into the column holes'
filler ('mount frames'); the seal, cure and grind (5-6) cut frame and columns with the resin,
so the columns' top ends come out flush at the package's top; the balls (7) go under the
columns (`balls.first_site`). Once diced (8), the lot's panels stack `stack.levels` at a time
on the flip-chip bonder ('stack packages'): the first panel to arrive is the base, and every
other panel's units, one level each, are set as they lie on the base's units, their balls
joined to the top ends of the columns below.

000:x3 (recipe option `metal_substrate`, the eighth embodiment) runs the same script on a bare
copper plate instead of the tape: no holes and no filler (steps 1-2 are left out); the dies'
studs are bonded on the plate's metal (3-4), sealed, cured and ground flush (5-6); then the
plate is patterned into the interconnections: a resist island over every land by the litho
cell, the plate etched through around them on the wet bench, the resist stripped; optionally
a solder resist (`metal_substrate.solder_resist`) coated over the interconnections by the
litho cell and opened at every land, and optionally bumps (the `balls`) on the lands, through
its openings (7); then diced (8).

The recipe describes the incoming panel (the dry run's line receives it so) and the wafer the
dies come from: each panel takes its dies from its own die wafer, named after it
(`die_wafer_id`). Before any tool moves, every setpoint is checked against the tools' limits
and the claims' own constraints: filler + terminal volume within tolerance of the hole volume
(000:b), gold or copper terminals no taller than the hole (000:c), a sealing resin above the
ground height and dies thicker than it, so the ground die backs are flush with the resin
(000:e, 000:f). After a dry run, the claim check looks at every hole, die and unit.

The package holds the recipe model (`recipe`), the steps on the stations (`steps`) and the
claim check with the claim map (`checks`); this module is the script.
"""

from __future__ import annotations

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.dispenser import Dispenser
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder
from packline.drivers.roles.grinder import Grinder
from packline.drivers.roles.laser import Laser, LaserSource
from packline.drivers.roles.lithography import Lithography
from packline.drivers.roles.oven import Oven
from packline.drivers.roles.wet_bench import WetBench
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import Wafer, method

from ..bump_seal_clean import dice
from ..solder import MOUNT_BALLS_TOOLS, mount_balls
from .checks import CLAIM_MAP, CURE_STEP, GRIND_STEP, claim_conditions
from .incoming import DIE_WAFER_PREFIX, AreaArray, DieWaferRecipe, PanelRecipe, die_wafer_id
from .recipe import (
    CureStep,
    ExternalTerminals,
    FillStep,
    FrameStep,
    GrindStep,
    HoleDrilling,
    MetalSubstrate,
    PlateSolderResist,
    SealStep,
    StackStep,
    TapeSubstrateRecipe,
)
from .steps import (
    DRILL_STEP,
    RESIST_OPENING_STEP,
    bond_dies,
    cure,
    drill_holes,
    fill_holes,
    gauges_and_laser_sources_fit,
    grind,
    pattern_plate,
    prepare_dies,
    seal_dies,
    stack_panels,
)

__all__ = [
    "CLAIM_MAP",
    "DIE_WAFER_PREFIX",
    "IRREVERSIBLE",
    "AreaArray",
    "CureStep",
    "DieWaferRecipe",
    "ExternalTerminals",
    "FillStep",
    "FrameStep",
    "GrindStep",
    "HoleDrilling",
    "MetalSubstrate",
    "PanelRecipe",
    "PlateSolderResist",
    "SealStep",
    "StackStep",
    "TapeSubstrateRecipe",
    "claim_conditions",
    "die_wafer_id",
    "tape_substrate",
]

IRREVERSIBLE = (
    DRILL_STEP,
    RESIST_OPENING_STEP,
    "fill holes",
    "form terminals",
    "dice die wafer",
    "bond dies",
    "mount frames",
    "seal dies",
    CURE_STEP,
    GRIND_STEP,
    "coat plate resist",
    "pattern interconnections",
    "etch plate",
    "strip plate resist",
    "coat solder resist",
    "open solder resist at the lands",
    "apply flux",
    "mount balls",
    "reflow balls",
    "dice",
    "stack packages",
)


def recipe_tools(recipe: TapeSubstrateRecipe) -> set[str]:
    """The tool roles `tape_substrate` drives for `recipe`, branch by branch as it runs: the
    dies bumped and cut from their wafer, bonded (and framed, and stacked) on the flip-chip
    bonder, sealed by the dispenser, cured, ground and diced; the holes drilled by the laser
    and filled by the dispenser; a metal plate patterned in the litho cell and etched on the
    wet bench; balls mounted and reflowed."""
    roles = {
        WireBonder.role,
        DicingSaw.role,
        FlipChipBonder.role,
        Dispenser.role,
        Oven.role,
        Grinder.role,
    }
    if recipe.holes is not None and recipe.fill is not None:
        roles.add(Laser.role)
    if recipe.metal_substrate is not None:
        roles |= {Lithography.role, WetBench.role}
    if recipe.balls is not None:
        roles |= MOUNT_BALLS_TOOLS
    return roles


@method(
    name="tape-substrate",
    title="Packages on a tape substrate with filled through-holes (000:a-g, 000:x1-x3)",
    claims=(
        "000:a",
        "000:b",
        "000:c",
        "000:d",
        "000:e",
        "000:f",
        "000:g",
        "000:x1",
        "000:x2",
        "000:x3",
    ),
    recipe=TapeSubstrateRecipe,
    tools=(
        "laser",
        "dispenser",
        "wire_bonder",
        "dicing_saw",
        "flip_chip_bonder",
        "oven",
        "grinder",
        "ball_mounter",
        "lithography",
        "wet_bench",
    ),
    recipe_tools=recipe_tools,
    irreversible=IRREVERSIBLE,
    default_recipe="tape-substrate.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
    incoming=lambda recipe: recipe.incoming,
    sim_tools=lambda recipe: {"laser": {"source": LaserSource.CO2_10600}},
    side_workpieces=lambda panel_id: (die_wafer_id(panel_id),),
    tools_check=gauges_and_laser_sources_fit,
)
async def tape_substrate(wafer: Wafer, recipe: TapeSubstrateRecipe) -> None:
    """One tape panel through 000:a-g (with a frame, into a stack: 000:x2), or one metal
    plate through 000:x3."""
    plate = recipe.metal_substrate
    if recipe.holes is not None and recipe.fill is not None:
        await drill_holes(wafer, recipe.holes, recipe.panel)
        terminal_nl = recipe.dies.terminal_volume_nl(recipe.panel)
        await fill_holes(wafer, recipe.fill, terminal_nl, recipe.panel.drilled_holes)
    tags = () if plate is None else ("000:x3",)
    await prepare_dies(wafer, recipe.dies, tags or ("000:c",))
    await bond_dies(wafer, recipe.bond, recipe.panel, recipe.fill, tags, recipe.frame)
    await seal_dies(wafer, recipe.seal, tags)
    await cure(wafer, recipe.seal.cure, tags)
    await grind(wafer, recipe.grind, tags)
    if plate is not None:
        await pattern_plate(wafer, plate)
    if recipe.balls is not None:
        await mount_balls(wafer, recipe.balls, claims=(recipe.balls_claim(),))
    await dice(wafer, recipe.dicing, claims=("000:g",))
    if recipe.stack is not None:
        await stack_panels(wafer, recipe.stack)
