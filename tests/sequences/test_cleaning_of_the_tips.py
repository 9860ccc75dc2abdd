"""validate refuses a plasma cleaning of bump-seal-clean that leaves oxide or residue on the tips
(003:11, 003:10):
the tips bring the oxide their bonder or reflow leaves (the line's figures), an O2 step grows
it, and the Ar or forming-gas steps take it off at the line's rates (`oxide_after_nm`, which the
simulated chamber cleans by). The refusal names the last such step's time and its least time.
Before, an Ar step too weak for the oxide validated and failed 003:11 at every site. The residue
is the resin's smear at its most (the laminator's law) and a reflowed bump's flux, which every
step takes off at its gas's rate per W·s; an Ar-only clean long enough for the oxide (130 s at
100 W) had left it and failed 003:10."""

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
#: An Ar-only clean at 100 W: the resin's smear at its most, 480 nm, at 0.01 nm per W·s.
LEAST_AR_ONLY_S = 480


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
    recipe["bumps"].update(wire="Au", height_um="55 um")  # what gold studs stand (stud law)
    parse_recipe(BumpSealCleanRecipe, recipe, "r.yaml")


def test_the_least_ar_validates_and_leaves_no_oxide(capsys, tmp_path):
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", weak_ar(f"{LEAST_S} s"))
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])


def weak_ar_only(time: str) -> dict:
    """bump-seal-clean-plasma-ar.yaml with its one Ar step at 100 W for `time`."""
    recipe = reference_recipe("bump-seal-clean-plasma-ar.yaml")
    recipe["cleaning"]["plasma"]["steps"][0].update(rf_power_w="100 W", time_s=time)
    return recipe


def test_an_ar_clean_too_short_for_the_resins_smear_is_refused_with_the_least_time(
    capsys, tmp_path
):
    assert (
        "cleaning.plasma.steps.0.time_s = 130 s: the tips (Cu studs bonded at 150 degC, "
        "smeared by the resin pressed at 100 degC and 0.5 MPa) bring up to 480 nm of residue; "
        "the steps take 130 nm off at the line's rates (Ar 0.01 nm per W·s, at 100 W), at most "
        f"0.1 nm may stay: give at least {LEAST_AR_ONLY_S} s (claim 003:10)"
    ) in refusal(capsys, tmp_path, "bump-seal-clean", weak_ar_only("130 s"))
    (problem,) = problems(weak_ar_only(f"{LEAST_AR_ONLY_S - 1} s"))
    assert problem["message"].endswith(f"give at least {LEAST_AR_ONLY_S} s (claim 003:10)")


def test_the_least_ar_only_clean_validates_and_leaves_the_tips_clean(capsys, tmp_path):
    recipe = weak_ar_only(f"{LEAST_AR_ONLY_S} s")
    summary = validated_lot_of_one(capsys, tmp_path, "bump-seal-clean", recipe)
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])
