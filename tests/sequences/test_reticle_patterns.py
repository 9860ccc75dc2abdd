"""validate refuses a mask whose reticle's pattern is not the step's: the metal plate of
tape-substrate (000:x3) is etched around islands a land reticle keeps, so a line reticle there
(wiring-level-1) had validated and the etch cut through every land; two-process-via's
interconnect mould needs lines, its passivation mask and a developed first process holes. The
refusal names the reticles of the library that fit (`require_reticle_of`)."""

from __future__ import annotations

from packline.sequences.tape_substrate import TapeSubstrateRecipe
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import recipe_problems, reference_recipe, refusal


def test_a_line_reticle_on_the_metal_plate_is_refused(capsys, tmp_path):
    recipe = reference_recipe("tape-substrate-metal.yaml")
    recipe["metal_substrate"]["resist"]["mask"] = "wiring-level-1"
    (problem,) = recipe_problems(TapeSubstrateRecipe, recipe)
    assert problem["path"] == "metal_substrate.resist.mask"
    assert (
        "metal_substrate.resist.mask = wiring-level-1: is a line reticle: the plate is etched "
        "into the interconnections around an island of resist kept over every land, which a "
        "land reticle gives: give one of interconnect-lands (claim 000:x3)"
    ) in refusal(capsys, tmp_path, "tape-substrate", recipe)


def test_two_process_via_masks_are_refused_each_for_its_pattern():
    recipe = reference_recipe("two-process-via-passivated.yaml")
    recipe["interconnects"]["mould"]["mask"] = "openings"
    recipe["passivation"]["mask"]["mask"] = "wiring-level-2"
    found = {p["path"]: p["message"] for p in recipe_problems(TwoProcessViaRecipe, recipe)}
    assert found["interconnects.mould.mask"].endswith(
        "which a line reticle gives: give one of wiring-level-1, wiring-level-2 (claim 002:1a-d)"
    )
    assert found["passivation.mask.mask"].endswith(
        "give one of pads, openings, terminal-vias, ball-lands, land-openings (claim 002:15)"
    )
    photo = reference_recipe("two-process-via-photo.yaml")
    photo["first"]["mask"] = "interconnect-lands"
    (problem,) = recipe_problems(TwoProcessViaRecipe, photo)
    assert problem["path"] == "first.mask"
    assert problem["message"].endswith("(claim 002:1f)")
