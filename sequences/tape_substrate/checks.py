"""What the tape-substrate method leaves on every hole, die and unit, and where each claim of
000 is carried out (the claim map)."""

from __future__ import annotations

from dataclasses import replace

from packline.sequences.engine import Condition
from packline.sim_instruments.twin.parts import Face

from .. import conditions
from .recipe import MetalSubstrate, TapeSubstrateRecipe

#: The step that cures the sealing resin (000:e): its cure is judged as it left it, not as
#: the balls' reflow after it leaves it.
CURE_STEP = "cure sealing resin"

#: The step that grinds the package to its thickness (000:f): on a metal plate its thickness
#: is judged as it left it, not once a solder resist over the plate has thickened it.
GRIND_STEP = "grind"


def metal_substrate_conditions(
    recipe: TapeSubstrateRecipe, plate: MetalSubstrate
) -> list[Condition]:
    """What 000:x3 leaves on every terminal, die and unit of every plate."""
    grind = recipe.grind
    checks = [
        conditions.terminals_seated("000:x3"),
        conditions.joint_at_every_terminal("000:x3"),
        conditions.dies_bonded_face_down("000:d"),
        conditions.sealed_around_every_die("000:e"),
        conditions.resin_cured("000:e", at=CURE_STEP),
        # the solder resist laid over the plate after the grind thickens the package: 000:f
        # speaks of the grind, judged as it left the package
        replace(
            conditions.ground_to_thickness("000:f", grind.thickness_um, grind.tolerance_um),
            at=GRIND_STEP,
        ),
        conditions.die_backs_flush("000:f", grind.tolerance_um),
        conditions.lands_kept("000:x3", plate.min_land_um),
        conditions.plate_etched_through_between_lands("000:x3"),
        conditions.singulated_into_dies("000:g"),
    ]
    if plate.solder_resist is not None:
        checks += [
            conditions.solder_resist_opened_inside_every_land("000:x3"),
            conditions.solder_resist_covering(
                "000:x3", "the interconnections between the lands", Face.BACK
            ),
        ]
    if recipe.balls is not None:
        per_unit = recipe.balls.balls_per_unit
        if plate.solder_resist is None:
            checks.append(conditions.ball_on_every_land("000:x3", per_unit))
        else:
            checks += [
                conditions.ball_in_every_opening("000:x3", per_unit),
                conditions.balls_reaching_the_metal("000:x3"),
            ]
        checks.append(conditions.joint_under_every_ball("000:x3"))
    return checks


def claim_conditions(recipe: TapeSubstrateRecipe) -> list[Condition]:
    """What 000:a-g (and the recipe's variants) leave on every hole, die and unit of every
    panel, checked on the twin."""
    if recipe.metal_substrate is not None:
        return metal_substrate_conditions(recipe, recipe.metal_substrate)
    if recipe.fill is None:
        raise ValueError("tape-substrate: a tape panel's recipe without its fill")
    checks = [
        conditions.holes_open_to_metal("000:a"),
        conditions.solder_resist_opened("000:a"),
        conditions.filler_at_hole_tops("000:b", recipe.fill.tolerance),
        conditions.terminals_seated("000:c"),
        conditions.dies_bonded_face_down("000:d"),
        conditions.sealed_around_every_die("000:e"),
        conditions.resin_cured("000:e", at=CURE_STEP),
        conditions.ground_to_thickness(
            "000:f", recipe.grind.thickness_um, recipe.grind.tolerance_um
        ),
        conditions.die_backs_flush("000:f", recipe.grind.tolerance_um),
        conditions.singulated_into_dies("000:g"),
    ]
    if recipe.balls is not None:
        balls = recipe.balls
        checks += [
            conditions.ball_in_every_opening("000:x1", balls.balls_per_unit, balls.first),
            conditions.balls_reaching_the_metal("000:x1"),
            conditions.joint_under_every_ball("000:x1"),
        ]
    if recipe.frame is not None:
        checks += [
            conditions.columns_joined("000:x2"),
            conditions.column_tops_flush("000:x2", recipe.grind.tolerance_um),
        ]
    if recipe.frame is not None and recipe.stack is not None:
        checks.append(
            conditions.stacked_levels_joined(
                "000:x2", recipe.stack.levels, recipe.frame.column_diameter_um
            )
        )
    return checks


CLAIM_MAP = {
    "000:a": "step 'drill holes' (the tape, to the metal) and step 'open solder resist'; "
    "recipe constraint: the least web of tape between two holes; claim checks: every hole "
    "open to the metal, every solder resist opening open",
    "000:b": "step 'fill holes'; recipe constraint: fill + terminal volume within tolerance of "
    "the hole volume; claim check: filler at every hole's top, no spill",
    "000:c": "step 'form terminals' (gold or copper studs on the die wafer) and step 'bond dies' "
    "(inserted into the holes); recipe constraints: holes wider than the studs by twice the "
    "bonder's landing error at its farthest, terminals no taller than the hole; claim "
    "check: a terminal seated in every hole",
    "000:d": "step 'bond dies' (heat and force); claim check: a die bonded active side down on "
    "every unit",
    "000:e": "step 'seal dies' and step 'cure sealing resin'; recipe constraints: the seal "
    "above the ground height, its cure long and hot enough to cure it; claim checks: resin "
    "around every die to its back, resin cured",
    "000:f": "step 'grind'; recipe constraint: the ground height below the die backs, leaving "
    "the thinnest die the line takes; claim "
    "checks: package thickness at target, die backs flush with the resin",
    "000:g": "step 'dice'; recipe constraint: a unit wider than its die by the kerf and its "
    "chipping; claim check: units == the panel's package units",
    "000:x1": "recipe option balls (tape-substrate-balls.yaml: a peripheral array, under the "
    "holes) and panel.area_array (tape-substrate-area-array.yaml: an area array of lands over "
    "the unit's bottom, rows x columns at a pitch, optionally without its centre, where step "
    "'open solder resist' opens the resist instead): step 'apply flux', step 'mount balls' and "
    "step 'reflow balls' on the panel's bottom; recipe constraints: a ball only in an opening, "
    "a flux that holds the balls, balls apart at their nearest pitch, landing inside their "
    "openings and reaching the copper through the resist, a reflow that joins them, and for "
    "an area array a land for every terminal, every land in the ball mounter's map, its "
    "openings apart and inside the unit clear of the saw; claim checks: a ball in "
    "every solder resist opening of the map (margin: the ball's centre inside the opening's "
    "edge), every ball reaching the metal through its opening (margin: its reach past the "
    "resist), a joint under every ball (margin: its time molten on the metal)",
    "000:x2": "recipe options frame and stack (tape-substrate-stacked.yaml): column holes in "
    "the tape (panel.columns_per_side), step 'mount frames' (the flip-chip bonder presses a "
    "frame with conductor columns on every unit, the columns into the filled column holes), "
    "the grind (000:f) cutting the columns flush, balls under the columns, step 'stack packages' "
    "(the diced panels of a stack's batch, each other panel's units stacked level by level "
    "on the base's, their balls on the column tops below); recipe constraints: a frame "
    "exactly where the tape has column holes, columns narrower than the holes and taking "
    "what a terminal takes of the filler, the frame's top reached by the grind, a stack of "
    "framed panels with a ball under every column; claim checks: a column seated and joined "
    "at every column site, column tops flush with the package top, every unit of a stack's "
    "base carrying its levels with every column joined to the ball above (landing error "
    "against the column's radius)",
    "000:x3": "recipe option metal_substrate (tape-substrate-metal.yaml): no holes, step 'form "
    "terminals' (studs), step 'bond dies' (on the plate's metal), step 'seal dies', step "
    "'cure sealing resin', step 'grind', step 'coat plate resist', step 'pattern "
    "interconnections' (islands over the lands) and step 'etch plate'; optional bumps: step "
    "'mount balls' on the lands (tape-substrate-metal-bumps.yaml); optional solder resist "
    "(metal_substrate.solder_resist, tape-substrate-metal-resist.yaml, with the bumps): step "
    "'coat solder resist' (a photosensitive resin, plate side up) and step 'open solder "
    "resist at the lands'; recipe constraints: no holes or fill, a resist that is stripped, "
    "an etch through the plate that keeps min_land_um under the undercut, a solder resist "
    "that stays, opened by a develop that clears it through a hole reticle inside the "
    "narrowest land by twice the stepper's overlay, exposed to keep the 10 um that covers "
    "the interconnections, and no thicker than a bump sinks into its opening; claim checks: a "
    "terminal seated and joined at every site, a land at least min_land_um wide under every "
    "terminal, the plate etched through between the lands, the solder resist opened at every "
    "land inside it (margin: its reach over the land's edge) and covering the "
    "interconnections between them (margin: the thinnest resist), a bump and a joint on "
    "every land of the map (margin: its time molten on the metal; through the solder resist "
    "a bump in every opening, its centre inside it, reaching the land: its reach past the "
    "resist)",
}
