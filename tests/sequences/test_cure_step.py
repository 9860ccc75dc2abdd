"""validate refuses a cure that does not cure (002:1g): the covering resin held at the cure's
temperature must reach the degree of cure of a cured layer by the line's kinetics of its
chemistry (`cure_of_holds`, `drivers/roles/oven.py`, which the simulated oven cures by), the
hold alone counted. Before, a thermoset cured 1 min at 100 degC validated and passed 002:1g
only because the balls' reflow, hours later, cured it in the twin; a process engineer expects
the cure step to cure. A cure that cools to above its hold is refused too, and a seal's cure
(tape-substrate) by the same check."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.roles.oven import CURED_ALPHA, RESIN_CURE, cure_of_holds, cure_profile
from packline.records.reader import open_records
from packline.sequences.tape_substrate import TapeSubstrateRecipe
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import (
    failing_claims,
    recipe_problems,
    reference_recipe,
    refusal,
    validated_lot_of_one,
)

#: The least hold of the thermoset's epoxy at 100 degC.
LEAST_S = 31759


def cured_at(temperature: str, hold: str, **cure: str) -> dict:
    """two-process-via.yaml with its cure held `hold` at `temperature`."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["cure"].update(temperature_c=temperature, hold_s=hold, **cure)
    return recipe


def problem(recipe: dict) -> dict:
    """The one problem validate's recipe reading refuses two-process-via `recipe` with."""
    (only,) = recipe_problems(TwoProcessViaRecipe, recipe)
    return only


def test_the_kinetics_of_the_hold_are_the_simulated_ovens():
    """The simulated oven's 60 min at 150 degC, ramps and all, reaches 0.945 (its test); the
    hold alone as much, to 0.001."""
    cured = cure_of_holds(RESIN_CURE["epoxy"], cure_profile(150, 3600))
    assert cured == pytest.approx(0.945, abs=0.001)


def test_a_cure_that_does_not_cure_is_refused_with_the_least_hold(capsys, tmp_path):
    assert problem(cured_at("100 degC", "1 min"))["path"] == "cure.hold_s"
    assert (
        "cure.hold_s = 1 min (60 s): held 60 s at 100 degC, the epoxy of the covering resin "
        "(THERMOSET) "
        "cures to 0.0012 by the line's kinetics, short of the 0.9 a cured layer has: give at "
        f"least {LEAST_S} s (claim 002:1g)"
    ) in refusal(capsys, tmp_path, "two-process-via", cured_at("100 degC", "1 min"))
    assert (
        f"give at least {LEAST_S} s" in problem(cured_at("100 degC", f"{LEAST_S - 1} s"))["message"]
    )


def test_a_cure_too_cold_for_any_hold_is_refused_with_the_least_temperature():
    found = problem(cured_at("60 degC", "10 h", cool_to_c="40 degC"))
    assert found["path"] == "cure.temperature_c"
    assert "no hold up to 86400 s cures it: give at least " in found["message"]


def test_a_cure_cooling_to_above_its_hold_is_refused_saying_why_it_names_no_claim():
    """It had named no claim without a word why: the profile contradicts itself, but the
    layer it makes would cure all the same, so no claim is at stake."""
    found = problem(cured_at("150 degC", "60 min", cool_to_c="200 degC"))
    assert found["message"] == (
        "cure.cool_to_c = 200 degC: must be below temperature_c = 150 degC: the load cools "
        "from its hold down to it (no claim is named: the profile contradicts itself, and "
        "heated on past its hold the layer would cure all the same)"
    )


def test_the_least_hold_cures_the_resin_in_the_cure_step_itself(capsys, tmp_path: Path, db: Path):
    recipe = cured_at("100 degC", f"{LEAST_S} s")
    recipe.pop("mounting")
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", recipe)
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])
    with open_records("last", db) as run:
        ovens = [e for e in run.workpiece("W01").history if "cure_0" in e.detail]
    assert float(ovens[0].detail["cure_0"]) >= CURED_ALPHA  # the cure, before the reflow


def test_a_seal_cure_cooling_to_above_its_hold_is_refused_by_the_same_check():
    """tape-substrate's seal cure had no such check: a cure cooling to 200 degC from a
    175 degC hold validated."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["seal"]["cure"]["cool_to_c"] = "200 degC"
    (found,) = recipe_problems(TapeSubstrateRecipe, recipe)
    assert found["message"] == (
        "seal.cure.cool_to_c = 200 degC: must be below temperature_c = 175 degC: the load "
        "cools from its hold down to it (no claim is named: the profile contradicts itself, "
        "and heated on past its hold the layer would cure all the same)"
    )
