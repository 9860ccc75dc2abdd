"""The claim check of sprout-bump-csp: the conditions on the product and the claim map."""

from __future__ import annotations

from packline.sequences.engine import Condition
from packline.sim_instruments.twin.parts import Face

from .. import conditions
from ..solder import PLATED_WIRING_MIN_UM
from .recipe import THICK_RESIN_UM, SproutBumpRecipe


def claim_conditions(recipe: SproutBumpRecipe) -> list[Condition]:
    """What claim 001:1 and the recipe's options leave on every wafer, checked on the twin."""
    checks = [
        conditions.bump_on_every_pad("001:1a"),
        conditions.tips_project("001:1b", sealing_only=True),
    ]
    if recipe.metal_support:
        # no seed: the foil the tips were pressed into joins them (001:10), and is the wiring
        for claim in ("001:1c", "001:10"):
            checks.append(conditions.seed_joins_tips(claim, film="the metal support"))
    else:
        checks.append(conditions.seed_joins_tips("001:1c"))
    for number in range(1, len(recipe.levels()) + 1):
        checks.append(
            conditions.wiring_plated_at_least(
                recipe.plated_claim(), PLATED_WIRING_MIN_UM, level=number
            )
        )
        if recipe.metal_support:
            checks.append(conditions.patterns_etched_apart("001:11", number))
        else:
            checks.append(conditions.patterns_etched_apart("001:8", number, "the seed"))
    stack = recipe.stack_claim()
    if stack is not None:
        checks.append(conditions.connected_through_levels(stack, len(recipe.levels())))
    # claim 1's last step, whatever the recipe: one without `terminals` makes no product of
    # it (a trial's stacked reference, which mounted none, had passed a check without 1d)
    checks.append(conditions.terminals_connected("001:1d"))
    if recipe.terminals is not None:
        checks.append(conditions.joint_under_every_ball("001:3"))
        if recipe.terminals.solder_resist is not None:
            checks.append(conditions.solder_resist_clear_of_every_ball("001:4"))
            checks.append(conditions.solder_resist_covering("001:4", "the wiring", Face.FRONT))
    if recipe.thick_resin:
        checks.append(conditions.sealing_layer_at_least("001:13", THICK_RESIN_UM))
    if recipe.dicing is not None:
        checks.append(conditions.singulated_into_dies(recipe.dicing_claim()))
    return checks


CLAIM_MAP = {
    "001:1a": "step 'form bumps': a stud bump on every pad; claim check: a bump on every pad",
    "001:1b": "step 'laminate resin sheet'; recipe constraint: resin thinner than the bumps; "
    "claim check: every tip projects above the sealing resin",
    "001:1c": "step 'deposit seed', step 'pattern wiring' and step 'electroplate wiring'; "
    "claim check: a seed film joins every tip",
    "001:1d": "recipe option terminals, step 'mount balls' and step 'reflow balls'; claim "
    "check: a joined, unbridged ball on every pad's connected wiring",
    "001:3": "recipe option terminals (solder balls of terminals.alloy), step 'apply flux', "
    "step 'mount balls' and step 'reflow balls'; claim check: a joint under every ball",
    "001:4": "recipe option terminals.solder_resist (sprout-bump-csp.yaml), "
    "step 'coat solder resist' and step 'open solder resist', after the balls are reflowed; "
    "claim check: the solder resist open around every ball, clear of it (the room between the "
    "ball and its opening's edge its margin), the ball joined; the solder resist covering the "
    f"wiring at least {conditions.SOLDER_RESIST_COVER_UM:g} um thick (recipe constraint: the "
    "develop leaves it; the thinnest its margin)",
    "001:2": "recipe option dicing (sprout-bump-csp.yaml), step 'dice'; claim check: units "
    "== whole dies",
    "001:5": "step 'form bumps' (stud bumps from metal wire by the wire bonder)",
    "001:6": "recipe option bumps.stack >= 2 (sprout-bump-csp-stacked.yaml), step 'form bumps'",
    "001:7": "step 'laminate resin sheet' (the bumps penetrate the sheet) and step "
    "'peel support'; recipe constraint: resin thinner than the bumps",
    "001:8": "step 'deposit seed', step 'pattern wiring', step 'electroplate wiring', step "
    "'etch seed' (recipe option wiring.etch); recipe constraint: the etch clears the seed "
    "between the patterns (its copper_etch the Cu, its barrier_etch the Ti or TiW), the "
    "plating no thicker than its mould, the plated metal solid through every later heat (the "
    "balls' reflow, a bake); claim "
    f"checks: the wiring plated to at least {PLATED_WIRING_MIN_UM:g} um at every level, sound "
    "(a recipe's wiring.plating.min_thickness_um, what holds a wafer at the plating, may not "
    "be lower), the seed etched through between the patterns at every level",
    "001:9": "recipe option wiring.seed: steps (sputter or evaporate), step 'deposit seed', or "
    "electroless (sprout-bump-csp-electroless.yaml), step 'plate electroless seed'; step "
    "'electroplate wiring'",
    "001:10": "recipe option support: metal-film (sprout-bump-csp-metal-support.yaml), step "
    "'laminate resin sheet' (the tips pressed into the metal, no peel); claim check: the metal "
    "joins every tip",
    "001:11": "recipe option support: metal-film with its foil_thickness_um, step 'pattern "
    "wiring' (the mould on the metal), step 'electroplate wiring' and step 'etch seed' (the "
    "metal etched between the patterns); recipe constraint: the etch clears the foil between "
    f"the patterns and leaves at least {PLATED_WIRING_MIN_UM:g} um of plating and foil, the "
    "plating no thicker than its mould, the plated metal solid through every later heat; claim "
    f"checks: the wiring plated to at least {PLATED_WIRING_MIN_UM:g} um, no metal left between "
    "the patterns",
    "001:12": "recipe option support: metal-film, step 'electroplate wiring'",
    "001:14": "recipe option upper_levels with one level (sprout-bump-csp-levels-2.yaml): step "
    "'form bumps', step 'laminate resin sheet' and step 'electroplate wiring' at both levels, "
    "the second bumps on the first wiring, terminals required; claim check: every pad connected "
    "through both levels' bumps and wiring to its ball",
    "001:15": "recipe option dicing with upper_levels of one level, step 'dice'; claim check: "
    "units == whole dies",
    "001:16": "recipe option upper_levels with two or more levels (sprout-bump-csp-levels-5.yaml: "
    "lowermost, three intermediate, uppermost): step 'form bumps', step 'laminate resin sheet' "
    "and step 'electroplate wiring' at every level; claim check: every pad connected through "
    "every level's bumps and wiring to its ball",
    "001:17": "recipe option dicing with upper_levels of two or more levels, step 'dice'; claim "
    "check: units == whole dies",
    "001:13": "recipe option thick_resin (recipe constraint: the sheet at the laminator's "
    "thinnest, less the descum's O2, >= 50 um), step 'laminate resin sheet'; claim check: the "
    "resin-sealing layer (not the solder resist over it) at least 50 um",
}
