"""The shared wording of recipes (sequences/engine/recipe*): a recipe of another method is
named as such, not answered with a did-you-mean for each of its sections; and the template
shows only what validate takes: a bound a check refuses beyond (`CheckedFloor`: a seed film's
thickness above 0, the pads a side from 1), the choices a check takes (`CheckedChoices`: a
seed film sputtered or evaporated, not cvd), and what sets a tool's floor (22 degC is the room
the oven cools to)."""

from __future__ import annotations

import pytest

from packline.sequences.bump_seal_clean import BumpSealCleanRecipe
from packline.sequences.engine import get_method, recipe_template
from packline.sequences.engine.recipe import parse_recipe
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import recipe_problems, reference_recipe, refusal


def test_a_recipe_of_another_method_is_named_as_such(capsys, tmp_path):
    tree = reference_recipe("two-process-via.yaml")
    (problem,) = recipe_problems(BumpSealCleanRecipe, tree)
    assert problem["path"] == "interconnects"
    assert problem["message"] == (
        "this is a two-process-via recipe (it has interconnects, first, cure, second, "
        "terminals); validate it with `packline validate two-process-via`"
    )
    error = refusal(capsys, tmp_path, "two-process-via", reference_recipe("bump-seal-clean.yaml"))
    assert error.endswith(
        ": this is a bump-seal-clean recipe (it has bumps, cleaning); validate it with "
        "`packline validate bump-seal-clean`\n"
    )


def test_a_misspelt_section_of_its_own_method_still_gets_a_did_you_mean():
    tree = reference_recipe("two-process-via.yaml")
    tree["terminal"] = tree.pop("terminals")
    messages = [p["message"] for p in recipe_problems(TwoProcessViaRecipe, tree)]
    assert any("did you mean terminals?" in message for message in messages)


@pytest.fixture(scope="module")
def template() -> str:
    return recipe_template(get_method("two-process-via"))


def line_of(template: str, start: str) -> str:
    """The first line of `template` whose text starts with `start` (past a '#' and blanks)."""
    return next(x for x in template.splitlines() if x.lstrip("# ").startswith(start))


def test_the_template_shows_only_what_validate_takes(template):
    assert "; integer; 1-64 (64 to an edge, 256 to a die: " in line_of(
        template, "pads_per_die_side:"
    )
    assert "# one of sputter, evaporate; required" in line_of(template, "- method: sputter")
    seed = [x for x in template.splitlines() if "where the crystal monitor ends" in x]
    assert seed
    assert all("above 0 nm, at most 5000 nm (the deposition range" in x for x in seed)
    assert "; 22-350 degC (the oven range of temperature_c; 22 degC is the room the oven " in (
        line_of(template, "cool_to_c:")
    )


def test_a_plated_solder_layer_lists_only_the_baths_validate_takes():
    """A new user's template offered `metal: ... one of Cu, Ni, Au, Sn, SnPb` for a plated solder
    layer, and validate refused Ni as no solder bath (003:21)."""
    template = recipe_template(get_method("bump-seal-clean"))
    assert "; one of Sn, SnPb; default SnPb" in line_of(template, "metal: SnPb")
    tree = reference_recipe("bump-seal-clean-solder-plated.yaml")
    parse_recipe(BumpSealCleanRecipe, tree, "r.yaml")  # SnPb: taken
    tree["solder_layer"]["plating"]["metal"] = "Sn"  # a bath, but no eutectic on these bumps
    (problem,) = recipe_problems(BumpSealCleanRecipe, tree)
    assert "(claim 003:20)" in problem["message"]
    tree["solder_layer"]["plating"]["metal"] = "Ni"
    (problem,) = recipe_problems(BumpSealCleanRecipe, tree)
    assert "(claim 003:21)" in problem["message"]
