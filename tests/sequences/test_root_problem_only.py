"""A refusal computed from a value already refused is not given (decision 0053: the root
problem only): a copper etch that takes the interconnects' whole plating off is refused at
the plating, and the checks that judge the first laser, the dry etch and the resin against
the interconnects' height, which it leaves unknown (`leaving_unknown`), wait for it. Before,
a 20 min copper etch also read 'first.depth_um = 16 um: ... over an interconnect -7.511 um
high'."""

from __future__ import annotations

from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import recipe_problems, reference_recipe, refusal


def over_etched() -> dict:
    """two-process-via.yaml with a 20 min copper etch after its 5 um plating."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["interconnects"]["copper_etch"]["time_s"] = "20 min"
    return recipe


def test_a_wiring_etched_away_is_refused_without_its_follow_ons(capsys, tmp_path):
    (problem,) = recipe_problems(TwoProcessViaRecipe, over_etched())
    assert problem["path"] == "interconnects.plating.min_thickness_um"
    lines = refusal(capsys, tmp_path, "two-process-via", over_etched()).splitlines()
    assert len(lines) == 1
    assert "takes up to 12.861 um off the wiring's top" in lines[0]
    assert "high" not in lines[0]


def test_an_independent_problem_is_still_given_beside_it():
    recipe = over_etched()
    recipe["mounting"]["bond_time_s"] = "1 s"
    paths = {p["path"] for p in recipe_problems(TwoProcessViaRecipe, recipe)}
    assert paths == {"interconnects.plating.min_thickness_um", "mounting.bond_time_s"}
