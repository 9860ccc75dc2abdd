"""Method "sprout-bump-csp": wafer-level chip-size packages with sprout-shaped bumps (document
001, claims 1-17).

Claim 1 of 001, step by step, as this script runs it on every wafer of the lot:

1. 001:1a  sprout-shaped metal bumps on every electrode pad: stud bumps, a base bonded on the
           pad and a cone, by a wire-bonding machine (001:5), each a stack of studs when the
           recipe asks for more than one (001:6); their heights inspected against the recipe.
2. 001:1b  a resin-sealing layer whose top the bump tips project through: an adhesive resin
           sheet laminated so the bumps penetrate it (001:7), its film support peeled once
           cool; the layer at least 50 um thick when the recipe says so (001:13).
3. 001:1c  a wiring pattern per device on the resin top, touching the bump tips (001:8): the
           tips descummed in the plasma chamber (a recipe option), a thin metal film by
           sputtering, vacuum evaporation or electroless plating (001:9), a resist mould by
           lithography, the wiring thickened by electroplating, then the mould stripped and
           the seed etched between the patterns on the wet bench (a recipe option). With a
           metal-film support (001:10) the foil the tips were pressed into is the film that is
           moulded, plated and etched (001:11, 001:12).
4. 001:1d  outer terminals on each wiring pattern (a recipe option): solder balls fluxed and
           mounted on the conducting paths and reflowed into joints in the oven (001:3), then
           a solder resist coated over them and opened around every ball (001:4).
5. 001:2   dice the wafer into separate packages (dicing saw), unless the recipe leaves
           dicing out.

The recipe's own constraints (the resin thinner than the bumps, 001:1b / 001:7; at least 50 um
at its thinnest, 001:13; no seed and no descum on a metal support, and an etch that clears its
foil between the patterns, 001:10-11; a solder resist that stays, 001:4; a reflow peak above
the balls' liquidus) are checked before any tool moves; what the steps leave (a bump on every
pad, tips projecting, a seed joining every tip, the foil etched through between the patterns, a
joined ball on every pad's connected wiring, the resist open at every ball) is checked on the
product.

Claims 14-17 stack wiring arrangements (recipe option `upper_levels`): after the first
arrangement's wiring, each level bonds studs on the wiring below over every tip, laminates a
sheet they project through and lays its wiring on it; terminals go on the uppermost wiring and
the check follows every pad through every level to its ball.

The package holds the recipe model (`recipe`), the steps on the stations (`steps`) and the
claim check with the claim map (`checks`); this module is the script.
"""

from __future__ import annotations

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import Wafer, method

from ..bump_seal_clean import dice, form_bumps
from .checks import CLAIM_MAP, claim_conditions
from .recipe import (
    MAX_UPPER_LEVELS,
    SEED_ETCH_DIPS,
    SEED_TOLERANCE,
    THICK_RESIN_UM,
    Dip,
    ElectrolessSeedRecipe,
    FieldMetal,
    LevelRecipe,
    MouldRecipe,
    ReticleName,
    SeedEtchRecipe,
    SeedRecipe,
    SeedStep,
    SolderResistRecipe,
    SproutBumpRecipe,
    TerminalsRecipe,
    WiringRecipe,
    etch_missing,
    hole_reticles,
    most_flux_advice,
    require_a_resin_that_stays,
    require_reticle_of,
)
from .steps import (
    deposit,
    deposition_cycle,
    etch_between_patterns,
    etch_seed,
    expose_and_develop,
    form_terminals,
    form_wiring,
    grow_seed,
    laminate_resin,
    pattern,
    plate_electroless_seed,
    strip,
    terminals_tools,
    wiring_tools,
)

__all__ = [
    "CLAIM_MAP",
    "IRREVERSIBLE",
    "MAX_UPPER_LEVELS",
    "SEED_ETCH_DIPS",
    "SEED_TOLERANCE",
    "THICK_RESIN_UM",
    "Dip",
    "ElectrolessSeedRecipe",
    "FieldMetal",
    "LevelRecipe",
    "MouldRecipe",
    "ReticleName",
    "SeedEtchRecipe",
    "SeedRecipe",
    "SeedStep",
    "SolderResistRecipe",
    "SproutBumpRecipe",
    "TerminalsRecipe",
    "WiringRecipe",
    "claim_conditions",
    "deposit",
    "deposition_cycle",
    "etch_between_patterns",
    "etch_missing",
    "etch_seed",
    "expose_and_develop",
    "form_terminals",
    "form_wiring",
    "grow_seed",
    "hole_reticles",
    "laminate_resin",
    "most_flux_advice",
    "pattern",
    "plate_electroless_seed",
    "require_a_resin_that_stays",
    "require_reticle_of",
    "sprout_bump_csp",
    "strip",
]


#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "form bumps",
    "laminate resin sheet",
    "peel support",
    "plasma clean",
    "deposit seed",
    "plate electroless seed",
    "coat mould",
    "soft bake",  # baked again, the resist is over-baked: slower to expose, harder to strip
    "pattern wiring",
    "electroplate wiring",
    "strip mould",
    "etch seed",
    "etch barrier",
    "apply flux",
    "mount balls",
    "reflow balls",
    "coat solder resist",
    "open solder resist",
    "dice",
)


def recipe_tools(recipe: SproutBumpRecipe) -> set[str]:
    """The tool roles `sprout_bump_csp` drives for `recipe`, branch by branch as it runs: at
    every level the bonder's bumps, the laminator's resin and the wiring's tools; then the
    terminals' and the saw, if the recipe forms and dices them."""
    roles = {WireBonder.role, Laminator.role}
    for level in recipe.levels():
        roles |= wiring_tools(level.wiring)
    if recipe.terminals is not None:
        roles |= terminals_tools(recipe.terminals)
    if recipe.dicing is not None:
        roles.add(DicingSaw.role)
    return roles


@method(
    name="sprout-bump-csp",
    title="Wafer-level chip-size packages with sprout-shaped bumps (001:1)",
    claims=(
        "001:1a",
        "001:1b",
        "001:1c",
        "001:1d",
        "001:2",
        "001:3",
        "001:4",
        "001:5",
        "001:6",
        "001:7",
        "001:8",
        "001:9",
        "001:10",
        "001:11",
        "001:12",
        "001:13",
        "001:14",
        "001:15",
        "001:16",
        "001:17",
    ),
    recipe=SproutBumpRecipe,
    tools=(
        "wire_bonder",
        "laminator",
        "plasma_cleaner",
        "deposition",
        "lithography",
        "electroplater",
        "wet_bench",
        "ball_mounter",
        "oven",
        "dicing_saw",
    ),
    recipe_tools=recipe_tools,
    irreversible=IRREVERSIBLE,
    default_recipe="sprout-bump-csp.yaml",
    incoming=lambda recipe: recipe.wafer.spec(),
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
)
async def sprout_bump_csp(wafer: Wafer, recipe: SproutBumpRecipe) -> None:
    """One wafer through claim 001:1 (001:14, 001:16: level after level): bumps, resin,
    wiring; then terminals and dicing."""
    stack = recipe.stack_claim()
    for index, level in enumerate(recipe.levels()):
        tags = (stack,) if stack is not None else ()
        studs = ("001:6",) if level.bumps.stack >= 2 else ()
        await form_bumps(wafer, level.bumps, (*tags, "001:1a", "001:5", *studs))
        thick = recipe.thick_resin and index == 0
        await laminate_resin(wafer, level.resin, recipe.sheet(level.resin), thick, tags)
        await form_wiring(wafer, recipe, level.wiring, tags)
    if recipe.terminals is not None:
        await form_terminals(wafer, recipe.terminals)
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing, (recipe.dicing_claim(),))
