"""validate refuses two-process-via's developed first process (002:3) when its develop goes
past the metal or its dose forms no concave portion (002:1f), and the simulated cell's develop
opens a concave portion once through the resin over an interconnect's top, as the first
laser's does (decision 0105). The developer takes the unexposed resin over a concave portion
at its bulk rate, a share of the covering layer's whole thickness there, which counts the
interconnect's height; the twin had opened it only through the whole layer, so the photo
reference's 100 s develop went 13.75 um down where the metal lay 11.458 um down and 002:1f
passed with 2.75 um 'left'. A trial's 30 mJ/cm^2 validated and formed no concave portion at
all, failing every via claim only at the claim check."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.roles.resin_coater import CoatResin, spun_and_baked, spun_layer_um
from packline.sequences.engine import RunStore
from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sequences.two_process_via.recipe import Develop, DevelopedOver

from .helpers import (
    failing_claims,
    first_process_changed,
    held_past_validate,
    reference_with,
    refusal,
    validated_lot_of_one,
)

#: The longest develop validate takes on the photo reference: the resin over the tallest
#: interconnect's top lasts 120 x 11.458 / 16.5 = 83.3 s of the bulk rate.
LONGEST_S = 83


def developed(time: str) -> dict:
    """two-process-via-photo.yaml with its first process developed for `time`."""
    return reference_with("two-process-via-photo.yaml", "first.develop_time_s", time)


def test_the_develop_reaches_the_metal_at_the_resin_over_its_top_by_hand():
    """The photo reference worked by hand. PHOTO (PI-N) spun at 3000 rpm for 30 s is 16.783 um
    wet on the open field; the 2 min bake at 100 degC keeps 0.8058 of it, 13.523 um. Over the
    tallest interconnect, 5.042 um high, the film is 0.8058 x 16.783^2 / (16.783 + 0.6 x
    5.042) = 11.458 um and the layer there 5.042 + 11.458 = 16.5 um. The unexposed resin
    dissolves at its bulk rate, the whole layer in 120 s: 100 s takes 13.75 um, past the metal;
    83 s takes 11.413 um, 0.046 um short of it; the reference's 75 s takes 10.313 um, 1.146 um
    short."""
    shrink, _ = spun_and_baked(CoatResin.PHOTO, 30, 100, 120)
    assert shrink == pytest.approx(0.8058, abs=1e-4)
    field = spun_layer_um(CoatResin.PHOTO, 3000, 30, 100, 120, 0.0, in_edge_bead=False)
    assert field == pytest.approx(16.783 * 0.8058, abs=1e-3)
    recipe = TwoProcessViaRecipe.model_validate(developed("75 s"))
    assert isinstance(recipe.first, Develop)
    over_top = 0.8058 * 16.783**2 / (16.783 + 0.6 * 5.042)
    assert over_top == pytest.approx(11.458, abs=1e-3)
    inside = tallest_inside(recipe, 100)
    assert inside.to_the_metal_um == pytest.approx(over_top, abs=1e-3)
    assert inside.layer_um == pytest.approx(16.5, abs=1e-3)
    assert inside.dissolved_um == pytest.approx(13.75, abs=1e-3)
    assert inside.above_metal_um < 0
    assert tallest_inside(recipe, LONGEST_S).above_metal_um == pytest.approx(0.046, abs=1e-3)
    assert tallest_inside(recipe, 75).above_metal_um == pytest.approx(1.146, abs=1e-3)
    assert recipe.longest_first_develop_s(recipe.first) == LONGEST_S


def tallest_inside(recipe: TwoProcessViaRecipe, time_s: float) -> DevelopedOver:
    """What `recipe`'s develop for `time_s` leaves over its tallest interconnect inside the
    wafer's edge bead."""
    assert isinstance(recipe.first, Develop)
    over = recipe.developed_over_the_interconnects(recipe.first, 800, time_s)
    return max((site for site in over if not site.in_edge_bead), key=lambda s: s.height_um)


def test_a_develop_past_the_metal_is_refused_with_the_longest(capsys, tmp_path):
    assert (
        "first.develop_time_s = 100 s: the developer takes the unexposed PI-N over the concave "
        "portions at its bulk rate, the whole layer in 120 s: over an interconnect 5.042 um "
        "high inside the edge bead it goes 13.75 um down the 16.5 um layer, past the metal "
        "11.458 um under the resin's top (the resin's spin film over the interconnect): it "
        "clears those concave portions to the metal and leaves no resin at their bottom, "
        f"where the claim needs some left at every one: give at most {LONGEST_S} s (claim "
        "002:1f)"
    ) in refusal(capsys, tmp_path, "two-process-via", developed("100 s"))
    assert f"give at most {LONGEST_S} s (claim 002:1f)" in refusal(
        capsys, tmp_path, "two-process-via", developed(f"{LONGEST_S + 1} s")
    )


def passing_concave_portions(capsys, tmp_path: Path, recipe: dict) -> dict:
    """`recipe` (unmounted: a shorter run) validated and run as a lot of 1, its claim check
    passed: the check's 002:1f row."""
    recipe.pop("mounting", None)
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", recipe)
    check = summary["claim_check"]
    assert check["status"] == "passed", failing_claims(check)
    (concave,) = [c for c in check["conditions"] if c["claim"] == "002:1f"]
    assert concave["verdict"] == "pass"
    return concave


def test_the_longest_develop_validates_and_keeps_resin_over_the_metal(capsys, tmp_path):
    concave = passing_concave_portions(capsys, tmp_path, developed(f"{LONGEST_S} s"))
    assert 0 < concave["margin_worst"] < 0.1  # 0.046 um over the tallest inside the bead


async def test_a_develop_past_the_metal_driven_past_validate_is_held(
    store: RunStore, tmp_path: Path
):
    """The 100 s develop the reference had (13.75 um of the 16.5 um layer, the metal 11.458 um
    down) opens every concave portion onto the metal, and the line holds the wafer at the
    develop on its own count (the twin had opened none: 2.75 um 'left' to the wafer)."""
    longer = first_process_changed(Develop, develop_time_s=100.0)
    wafer = await held_past_validate(store, tmp_path, "two-process-via-photo.yaml", longer)
    assert "step 'develop concave portions'" in wafer["reason"]
    assert "concave portions cleared to metal = 8352 sites" in wafer["reason"]


def trial(dose: str, time: str = "100 s") -> dict:
    """A trial's recipe: the photo reference spun at 2000 rpm and baked at 120 degC, exposed
    at `dose`, developed for `time`."""
    tree = developed(time)
    tree["resin"].update(spin_rpm="2000 rpm", bake_temperature_c="120 degC")
    tree["first"]["dose_mj_cm2"] = dose
    return tree


def test_a_dose_that_forms_no_concave_portion_is_refused_with_the_least(capsys, tmp_path):
    """A trial's 30 mJ/cm^2 (at 2000 rpm, 120 degC): the PI-N keeps a um of its field for
    every 15 mJ/cm^2 x 120 s / 100 s = 18 mJ/cm^2, 1.67 um, where the develop leaves its
    concave bottoms 19.399 - 19.399 x 100 / 120 = 3.233 um above the wafer over the shortest
    interconnect inside the edge bead: no concave portion forms. The whole field (24.314 um at
    its thickest, over the shortest interconnect in the edge bead) needs 24.314 x 15 x 120 / 88
    = 497.3 mJ/cm^2 for the 88 s develop, the longest that leaves resin over the metal
    there: 498."""
    assert (
        "first.dose_mj_cm2 = 30 mJ/cm^2: it cross-links too little of the PI-N to keep the "
        "field whole through the develop: over an interconnect 4.996 um high inside the edge "
        "bead (a 19.399 um layer) the developer takes the field down to or past the concave "
        "bottoms, 3.233 um above what the resin is laid on, and no concave portion forms: give "
        "at least 498 mJ/cm^2 for a develop of 88 s, the longest that leaves resin over the "
        "metal (claim 002:1f)"
    ) in refusal(capsys, tmp_path, "two-process-via", trial("30 mJ/cm^2"))
    assert "give at least 498 mJ/cm^2 for a develop of 88 s (claim 002:1f)" in refusal(
        capsys, tmp_path, "two-process-via", trial("497 mJ/cm^2", "88 s")
    )
    assert "give at most 88 s (claim 002:1f)" in refusal(
        capsys, tmp_path, "two-process-via", trial("498 mJ/cm^2", "89 s")
    )


def test_the_least_dose_validates_and_forms_every_concave_portion(capsys, tmp_path):
    passing_concave_portions(capsys, tmp_path, trial("498 mJ/cm^2", "88 s"))
