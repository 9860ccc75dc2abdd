"""Method sprout-bump-csp (001:1) end to end on the simulated line, from the command line.

The default and the stacked-stud, thick-resin recipes run a lot with every claim condition
passing; recipes breaking a claim's own constraint are refused before any tool moves; valid
recipes making a wrong product (buried bumps, thin wiring, unwetted balls) run and the claim
check names the claim.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.cli import main

from .helpers import RECIPES, failing_claims, reference_recipe, run_lot, write_recipe

LEVELS = {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:8"}


@pytest.mark.parametrize(
    ("variant", "claims"),
    [
        (
            "sprout-bump-csp.yaml",
            {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:4", "001:8", "001:2"},
        ),
        ("sprout-bump-csp-stacked.yaml", {"001:1a", "001:1b", "001:1c", "001:8", "001:13"}),
        (
            "sprout-bump-csp-electroless.yaml",
            {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:4", "001:8", "001:2"},
        ),
        (
            "sprout-bump-csp-metal-support.yaml",
            {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:4", "001:10", "001:11", "001:2"},
        ),
        ("sprout-bump-csp-levels-2.yaml", LEVELS | {"001:14", "001:15"}),
        ("sprout-bump-csp-levels-5.yaml", LEVELS | {"001:16", "001:17"}),
    ],
)
def test_each_recipe_runs_a_lot_with_every_claim_condition_passing(
    db: Path, capsys: pytest.CaptureFixture[str], variant: str, claims: set[str]
):
    lot = 1 if variant.endswith("-levels-5.yaml") else 2  # five levels: a long line time
    code, events = run_lot(capsys, "sprout-bump-csp", RECIPES.joinpath(variant), lot)
    summary = events[-1]
    assert code == 0, summary
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * lot
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    assert {c["claim"] for c in check["conditions"]} == claims
    tagged = [
        (e["step"], set(e["data"]["claims"]))
        for e in events
        if e["kind"] == "step-started" and e["wafer"] == "W01" and e["data"]["claims"]
    ]
    names = [name for name, _ in tagged]
    seed = {"-electroless.yaml": ["plate electroless seed"], "-metal-support.yaml": []}
    order = [
        "form bumps",
        "laminate resin sheet",
        *next((steps for end, steps in seed.items() if variant.endswith(end)), ["deposit seed"]),
        "pattern wiring",
        "electroplate wiring",
    ]
    if "-levels-" not in variant and not variant.endswith("-stacked.yaml"):
        order += ["etch seed", "mount balls", "reflow balls", "open solder resist", "dice"]
    assert [names.index(name) for name in order] == sorted(names.index(name) for name in order)
    stacked = variant.endswith("-stacked.yaml")
    assert ("001:6" in dict(tagged)["form bumps"]) is stacked
    assert ("dice" in names) is not stacked  # the stacked recipe leaves the wafer whole
    levels = int(variant[-6]) if "-levels-" in variant else 1
    bumps = [claims for name, claims in tagged if name == "form bumps"]
    assert len(bumps) == levels  # the bumps of every level, each on the wiring below
    if levels > 1:
        stack = "001:14" if levels == 2 else "001:16"
        assert all(stack in claims for claims in bumps)
        assert names.index("mount balls") > max(i for i, n in enumerate(names) if n == "etch seed")
    metal = variant.endswith("-metal-support.yaml")
    assert ("peel support" in names) is not metal  # the metal support stays
    assert ("001:12" in dict(tagged)["electroplate wiring"]) is metal


@pytest.mark.parametrize(
    ("change", "claim"),
    [
        ({"resin": {"sheet_thickness_um": "65 um"}}, "001:1b"),
        ({"thick_resin": True}, "001:13"),
        ({"wiring": {"seed": {"steps": [{"method": "cvd", "material": "SiO2"}]}}}, "001:9"),
        ({"support": "metal-film"}, "001:11"),  # with a seed: the support is the wiring's metal
        ({"terminals": {"solder_resist": {"material": "PR-THICK"}}}, "001:4"),  # stripped later
    ],
)
def test_a_recipe_breaking_a_claim_constraint_is_refused_naming_the_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, claim: str
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    for section, values in change.items():
        if section == "terminals":
            recipe["terminals"]["solder_resist"].update(values["solder_resist"])
        elif isinstance(values, dict) and section == "wiring":
            step = {**recipe["wiring"]["seed"]["steps"][0], **values["seed"]["steps"][0]}
            step.update(power_w="1 kW", pressure_mtorr="3 mTorr", flow_sccm="40 sccm")
            recipe["wiring"]["seed"]["steps"][0] = step
        elif isinstance(values, dict):
            recipe[section].update(values)
        else:
            recipe[section] = values
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 2
    assert f"(claim {claim})" in capsys.readouterr().err


def levels_recipe(count: int) -> dict:
    return reference_recipe(f"sprout-bump-csp-levels-{count}.yaml")


@pytest.mark.parametrize(
    ("count", "spoil", "path", "claim"),
    [
        (2, lambda r: r.pop("terminals"), "terminals", "001:14"),  # none on the uppermost
        (5, lambda r: r.pop("terminals"), "terminals", "001:16"),
        # 60 um over bumps standing 100 - 45 = 55 um above the first resin: they stay buried
        (
            2,
            lambda r: r["upper_levels"][0]["resin"].update(sheet_thickness_um="60 um"),
            "upper_levels.0.resin.sheet_thickness_um",
            "001:14",
        ),
    ],
)
def test_a_stacked_recipe_breaking_its_claim_is_refused_naming_the_level_and_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int, spoil, path: str, claim: str
):
    recipe = levels_recipe(count)
    spoil(recipe)
    path_of_recipe = str(write_recipe(tmp_path, recipe))
    assert main(["validate", "sprout-bump-csp", "--recipe", path_of_recipe]) == 2
    error = capsys.readouterr().err
    assert path in error
    assert f"(claim {claim})" in error


def test_a_metal_support_under_a_descum_is_refused_naming_001_10(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp-metal-support.yaml")
    recipe["wiring"]["descum"] = reference_recipe("sprout-bump-csp.yaml")["wiring"]["descum"]
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 2
    error = capsys.readouterr().err
    assert "wiring.descum" in error
    assert "(claim 001:10)" in error


def test_a_film_support_without_a_seed_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    del recipe["wiring"]["seed"]
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 2
    assert "wiring.seed is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (  # the cell drives 2 A/dm2 x 20 cm2 = 0.4 A through the 5.6 cm2 the mould opens
            "plated_area_cm2",
            "20 cm^2",
            "wiring.plating.plated_area_cm2 = 20 cm^2: mask wiring-level-1 opens 5.603 cm^2 on "
            "the 8352 sites of a 200 mm wafer, so the 2 A/dm^2 set over the stated area is "
            "7.14 A/dm^2 over the real one: the Cu bath's window at 25 degC and 60 rpm is "
            "0.5-4 A/dm^2 (rough below, burnt above)",
        ),
        (
            "current_density_a_dm2",
            "0.3 A/dm^2",
            "wiring.plating.current_density_a_dm2 = 0.3 A/dm^2: the Cu bath's window at 25 degC "
            "and 60 rpm is 0.5-4 A/dm^2",
        ),
    ],
)
def test_a_plating_outside_its_window_over_the_masks_real_area_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: str, expected: str
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"][field] = value
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_a_reflow_peak_below_the_balls_liquidus_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["reflow"]["peak_c"] = "210 degC"
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 2
    error = capsys.readouterr().err
    assert "terminals" in error
    assert "reflow.peak_c = 210 degC must be above the liquidus of SAC305 (217 degC)" in error


def _resin_nearly_as_thick_as_the_bumps(recipe: dict) -> None:
    recipe["resin"]["sheet_thickness_um"] = "59 um"  # valid: below the 60 um of the program
    del recipe["terminals"]  # the ball mounter would hold the wafer: no ball on a buried tip


def _plated_area_understated(recipe: dict) -> None:
    recipe["wiring"]["plating"]["plated_area_cm2"] = "2 cm^2"  # 0.71 A/dm2 over the real 5.61


def _reflow_too_short_to_wet(recipe: dict) -> None:
    reflow = recipe["terminals"]["reflow"]
    # above the liquidus for seconds, and a recipe that would not hold the batch for it
    reflow.update(peak_c="220 degC", peak_hold_s="0 s", min_time_above_liquidus_s="0 s")


@pytest.mark.parametrize(
    ("spoil", "claim"),
    [
        (_resin_nearly_as_thick_as_the_bumps, "001:1b"),  # the shorter bumps stay buried
        (_plated_area_understated, "001:8"),  # the charge spreads over 2.8x the area: too thin
        (_reflow_too_short_to_wet, "001:3"),  # the balls melt but never wet their pads
    ],
)
def test_a_valid_recipe_making_a_wrong_product_fails_the_claim_check_naming_the_claim(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil, claim: str
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    spoil(recipe)
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 1)
    summary = events[-1]
    check = summary["claim_check"]
    assert code == 1
    assert [w["status"] for w in summary["wafers"]] == ["completed"]
    assert check["status"] == "failed"
    failing = failing_claims(check)
    assert claim in failing
    assert claim in check["note"]
