"""A developed first process (002:3) is judged by the dry etch that opens its concave bottoms
(002:4) as a first laser is: the O2 must take off the most resin the develop leaves at a
bottom, and may take off the field the develop leaves (its dark loss counted) less the 1 um
of 002:1e (a trial's 40 s develop at 1000 mJ/cm^2 validated and its wafer was held at `apply
flux`, every via closed under 8.6 um of resin); and the develop's advice stays inside what the
litho cell takes (a 10 s develop was told to give 3687 mJ/cm^2, past the cell's 3000)."""

from __future__ import annotations

import pytest

from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import failing_claims, recipe_problems, reference_recipe, validated_lot_of_one


def photo(
    *, develop: str, dose: str, o2: str = "5 min", rpm: str = "3000 rpm", second: str = ""
) -> dict:
    """The photo reference (its `second` variant: `-laser`), developed for `develop` at
    `dose`, its resin spun at `rpm`, its dry etch's O2 `o2` long; unmounted, a shorter run."""
    recipe = reference_recipe(f"two-process-via-photo{second}.yaml")
    recipe["first"].update(develop_time_s=develop, dose_mj_cm2=dose)
    recipe["resin"]["spin_rpm"] = rpm
    if not second:
        recipe["second"]["plasma"]["steps"][0]["time_s"] = o2
    recipe.pop("mounting", None)
    return recipe


def problem(recipe: dict) -> dict:
    (refused,) = recipe_problems(TwoProcessViaRecipe, recipe)
    return refused


def assert_a_problem_ends(recipe: dict, ending: str) -> None:
    """Assert that one of the problems validate finds in `recipe` ends with `ending`."""
    messages = [p["message"] for p in recipe_problems(TwoProcessViaRecipe, recipe)]
    assert any(message.endswith(ending) for message in messages), messages


def test_a_dry_etch_short_of_the_developed_bottoms_is_refused_with_the_least_time():
    refused = problem(photo(develop="40 s", dose="1000 mJ/cm^2", o2="518 s"))
    assert refused["message"] == (
        "second.plasma.steps.0.time_s = 518 s: the dry etch's O2 takes 8.633 um of resin off "
        "(the line's 1 um/min at 1000 W), short of the 8.639 um the first process leaves at "
        "the thickest concave bottom (the resin 15.457 um over an interconnect's top, "
        "developed first.develop_time_s = 40 s): give at least 519 s (claim 002:4)"
    )


def test_a_develop_no_etch_opens_under_the_cover_is_refused_with_its_least_time():
    """10 s leaves 13.75 um at the thickest bottom; the O2 may take 10.45 um off."""
    refused = problem(photo(develop="10 s", dose="2000 mJ/cm^2", o2="600 s"))
    assert refused["path"] == "first.develop_time_s"
    assert refused["message"].endswith(
        "the resin over the interconnects is 11.458 um where thinnest (over one 5.042 um "
        "high) and at least 1 um must stay: give at least 30 s (claim 002:1e)"
    )


def test_the_field_a_develop_leaves_bounds_the_dry_etch():
    """At 5000 rpm the develop's dark loss (0.13 um in 75 s) leaves the field over the
    interconnects thinner than the coat laid: 449 s of O2 had validated and left 0.89 um."""
    refused = problem(photo(develop="75 s", dose="800 mJ/cm^2", o2="449 s", rpm="5000 rpm"))
    assert refused["message"].endswith("give at most 442 s (claim 002:1e)")


@pytest.mark.parametrize(
    "recipe",
    [
        photo(develop="40 s", dose="1000 mJ/cm^2", o2="519 s"),
        photo(develop="75 s", dose="800 mJ/cm^2", o2="442 s", rpm="5000 rpm"),
    ],
)
def test_the_dry_etch_validate_gives_passes_the_claim_check(capsys, tmp_path, recipe):
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", recipe)
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])


def test_a_dose_past_the_cells_highest_is_advised_as_a_longer_develop():
    refused = problem(photo(develop="10 s", dose="100 mJ/cm^2", second="-laser"))
    assert refused["message"].endswith(
        "no dose the cell gives (at most 3000 mJ/cm^2) does for a develop of 10 s: give "
        "first.develop_time_s = 13 s and at least 2836 mJ/cm^2 (claim 002:1f)"
    )
    TwoProcessViaRecipe.model_validate(photo(develop="13 s", dose="2836 mJ/cm^2", second="-laser"))


def test_where_no_dose_the_cell_gives_does_the_advice_says_what_else_to_change():
    """30 um interconnects under a 3000 rpm layer: the longest develop that leaves resin over
    the metal (21 s) needs 3401 mJ/cm^2."""
    recipe = photo(develop="75 s", dose="800 mJ/cm^2", second="-laser")
    recipe["interconnects"]["plating"]["thickness_um"] = "30 um"
    assert_a_problem_ends(
        recipe,
        "no dose the cell gives (at most 3000 mJ/cm^2) does through a develop that leaves "
        "resin over the metal (at most 21 s): the layer over the interconnects must change "
        "(resin.spin_rpm, interconnects.plating.thickness_um), or the first process be a "
        "laser (claim 002:1f)",
    )


def test_where_no_develop_the_cell_gives_stops_short_the_advice_is_a_thicker_resin():
    """60 um interconnects under a 5000 rpm layer: the resin over them is so small a share of
    the layer that the bulk rate reaches the metal in 5 s, under the cell's shortest 10 s."""
    recipe = photo(develop="75 s", dose="800 mJ/cm^2", rpm="5000 rpm", second="-laser")
    recipe["interconnects"]["plating"]["thickness_um"] = "60 um"
    assert_a_problem_ends(
        recipe,
        "no develop the cell gives (at least 10 s) stops short of the metal (the longest "
        "that does is 5 s): a thicker resin does (resin.spin_rpm lower) (claim 002:1f)",
    )
