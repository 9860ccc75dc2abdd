"""validate refuses a plasma cleaning of bump-seal-clean that leaves oxide on the tips (003:11):
the tips bring the oxide their bonder or reflow leaves (the line's figures), an O2 step grows
it, and the Ar or forming-gas steps take it off at the line's rates (`oxide_after_nm`, which the
simulated chamber cleans by). The refusal names the last such step's time and its least time.
Before, an Ar step too weak for the oxide validated and failed 003:11 at every site."""

from __future__ import annotations

import numpy as np
import pytest

from packline.drivers.roles.plasma_cleaner import Gas, oxide_after_nm
from packline.sequences.bump_seal_clean import BumpSealCleanRecipe
from packline.sequences.engine.recipe import parse_recipe

from .helpers import (
    failing_claims,
    recipe_problems,
    reference_recipe,
    refusal,
    validated_lot_of_one,
)

#: bump-seal-clean.yaml's Ar at 100 W (1 nm/min) after its O2, which grows the Cu studs'
#: 2.25 nm of oxide to 3.99 nm.
LEAST_S = 234


def weak_ar(time: str) -> dict:
    """bump-seal-clean.yaml with its Ar step (after the O2) at 100 W for `time`."""
    recipe = reference_recipe("bump-seal-clean.yaml")
    recipe["cleaning"]["plasma"]["steps"][1].update(rf_power_w="100 W", time_s=time)
    return recipe


def problems(recipe: dict) -> list[dict]:
    """What validate's recipe reading refuses bump-seal-clean `recipe` with."""
    return recipe_problems(BumpSealCleanRecipe, recipe)


def test_the_law_is_one_for_a_site_and_for_the_sites():
    sites = np.array([2.25, 0.0], np.float32)
    for gas in Gas:
        one = oxide_after_nm(2.25, gas, 300.0, 90.0, oxidises=True)
        assert oxide_after_nm(sites, gas, 300.0, 90.0, oxidises=True)[0] == pytest.approx(one)
    assert oxide_after_nm(2.25, Gas.O2, 300.0, 90.0, oxidises=False) == 2.25


def test_an_ar_step_too_weak_for_the_oxide_is_refused_with_the_least_time(capsys, tmp_path):
    (problem,) = problems(weak_ar("60 s"))
    assert problem["path"] == "cleaning.plasma.steps.1.time_s"
    assert (
        "cleaning.plasma.steps.1.time_s = 60 s: the tips (Cu studs bonded at 150 degC) bring "
        "2.25 nm of oxide, 3.99 nm after the O2; Ar at 100 W takes it off at the line's 1 "
        "nm/min, leaving 2.99 nm (at most 0.1 nm may stay): give at least 234 s (claim 003:11)"
    ) in refusal(capsys, tmp_path, "bump-seal-clean", weak_ar("60 s"))
    (problem,) = problems(weak_ar(f"{LEAST_S - 1} s"))
    assert f"give at least {LEAST_S} s (claim 003:11)" in problem["message"]


def test_o2_after_the_last_ar_is_refused_for_the_oxide_it_grows_back():
    recipe = reference_recipe("bump-seal-clean.yaml")
    steps = recipe["cleaning"]["plasma"]["steps"]
    steps.reverse()
    (problem,) = problems(recipe)
    assert problem["path"] == "cleaning.plasma.steps.1.gas"
    assert (
        "O2 after the last Ar step (cleaning.plasma.steps.0) grows the oxide"
        in (problem["message"])
    )


def test_solder_bumps_bring_the_reflows_oxide():
    recipe = reference_recipe("bump-seal-clean-solder-plated.yaml")
    recipe["cleaning"]["plasma"]["steps"][1].update(rf_power_w="100 W", time_s="60 s")
    (problem,) = problems(recipe)
    assert "the tips (Pb95Sn5 bumps reflowed) bring 2 nm of oxide" in problem["message"]


def test_gold_studs_grow_no_oxide_in_o2():
    recipe = weak_ar("30 s")
    recipe["bumps"]["wire"] = "Au"
    parse_recipe(BumpSealCleanRecipe, recipe, "r.yaml")


def test_the_least_ar_validates_and_leaves_no_oxide(capsys, tmp_path):
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", weak_ar(f"{LEAST_S} s"))
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])
