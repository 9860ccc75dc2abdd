"""Method sprout-bump-csp (001:1) end to end on the simulated line, from the command line.

The default and the stacked-stud, thick-resin recipes run a lot with every claim condition
passing; recipes breaking a claim's own constraint are refused before any tool moves; valid
recipes making a wrong product (buried bumps, thin wiring, unwetted balls) run and the claim
check names the claim.
"""

from __future__ import annotations

import copy
import functools
import itertools
import operator
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from packline.cli import main
from packline.drivers.roles.electroplater import Metal
from packline.drivers.roles.lithography import RETICLES
from packline.drivers.roles.oven import SOLIDUS_C
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.recipe import format_validation_error
from packline.sequences.solder import (
    PLATED_WIRING_MIN_UM,
    PURE_METAL_MELTS_C,
    mask_area_cm2,
    plated_melts_c,
)
from packline.sequences.sprout_bump_csp import SproutBumpRecipe, claim_conditions
from packline.sim_instruments.twin import wafer_site_count

from .helpers import (
    RECIPES,
    completed_past_validate,
    etched_apart_past_validate,
    failing_claims,
    reference_recipe,
    refusal,
    run_lot,
    validated_lot_of_one,
    validated_wrong_product,
    without_lines,
    write_recipe,
)

METAL_SUPPORT = "sprout-bump-csp-metal-support.yaml"
LEVELS = {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:8"}


@pytest.mark.parametrize(
    ("variant", "claims"),
    [
        (
            "sprout-bump-csp.yaml",
            {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:4", "001:8", "001:2"},
        ),
        # claim 1 whole (a trial's stacked reference mounted no balls, and passed without 1d)
        (
            "sprout-bump-csp-stacked.yaml",
            {"001:1a", "001:1b", "001:1c", "001:1d", "001:3", "001:8", "001:13"},
        ),
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
        # with a seed: the support is the wiring's metal
        ({"support": "metal-film", "foil_thickness_um": "3 um"}, "001:11"),
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
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert f"(claim {claim})" in error


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
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "wiring.descum" in error
    assert "(claim 001:10)" in error


def test_a_film_support_without_a_seed_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    del recipe["wiring"]["seed"]
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "wiring.seed = none: with support film the wiring is plated on a thin metal film: add "
        "the seed, sputtered, evaporated or electroless (001:9) (claim 001:8)"
    ) in error
    assert len(error.splitlines()) == 1, error  # the etch, judged against the seed, waits


@pytest.mark.parametrize(
    ("step", "changes", "expected"),
    [
        (  # a recipe written for another mask or wafer: 3.2 cm2 where the mould opens 5.6
            "plating",
            {"plated_area_cm2": "3.2 cm^2"},
            "wiring.plating.plated_area_cm2 = 3.2 cm^2: the design's plated area is 5.603 cm^2 "
            "(what mask wiring-level-1 opens on the 8352 sites of a 200 mm wafer): the stated "
            "area is 57% of it, more than 10% off, a recipe written for another mask or wafer",
        ),
        (  # 5.04 cm2 is 89.95 % of 5.603: printed 89.9 %, not a rounded 90 %
            "plating",
            {"plated_area_cm2": "5.04 cm^2"},
            "wiring.plating.plated_area_cm2 = 5.04 cm^2: the design's plated area is 5.603 cm^2 "
            "(what mask wiring-level-1 opens on the 8352 sites of a 200 mm wafer): the stated "
            "area is 89.9% of it, more than 10% off",
        ),
        (
            "plating",
            {"current_density_a_dm2": "0.3 A/dm^2"},
            "wiring.plating.current_density_a_dm2 = 0.3 A/dm^2: the Cu bath's window at 25 degC "
            "and 60 rpm is 0.5-4 A/dm^2 (rough below, burnt above); the cell sets the current "
            "over the seed area it measures once the wafer is in (the design's is 5.603 cm^2: "
            "what mask wiring-level-1 opens on the 8352 sites of a 200 mm wafer), so this "
            "density is what plates",
        ),
        (  # the plating holds a wafer on its minimum before the seed etch, the claim check
            # holds it to 3 um after: the reference's 40 s etch at 30 degC takes up to 0.429 um
            # off, in its bath at 31 degC, the warmest it dips
            "plating",
            {"min_thickness_um": "3.05 um"},
            "wiring.plating.min_thickness_um = 3.05 um: the etch after the plating "
            "(wiring.etch.copper_etch, 40 s at 30 degC, the bath within 1 degC of it) takes up "
            "to 0.429 um off the wiring's top, leaving 2.621 um where the plating held 3.05 um, "
            "below the 3 um a plated wiring keeps (what the claim check holds it to): at least "
            "3.43 um (no shorter etch at 30 degC both clears the seed's 0.3 um of Cu and keeps "
            "it: the least that clears it, 33 s, takes up to 0.354 um off) (claim 001:8)",
        ),
        (  # a mould mask outside the reticle library (so the area plated is unknown)
            "mould",
            {"mask": "wiring-level-9"},
            "wiring.mould.mask = 'wiring-level-9': not in the line's reticle library (pads, "
            "openings, terminal-vias, wiring-level-1, wiring-level-2, ball-lands, "
            "interconnect-lands, land-openings)",
        ),
    ],
)
def test_a_wiring_step_its_mask_or_etch_contradicts_is_refused_naming_the_nested_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, changes: dict, expected: str
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"][step].update(changes)
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert expected in error
    assert "(top level)" not in error


def test_the_plated_area_defaults_to_what_the_mask_opens_on_the_recipes_wafer():
    """The cell checks the area it measures against what wiring-level-1 opens on the
    recipe's wafer, 200 mm by default (8352 sites) or 150 mm (4224 sites)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    assert "plated_area_cm2" not in recipe["wiring"]["plating"]
    opened_um2 = RETICLES["wiring-level-1"].design_opened_um2
    for wafer, sites in (({}, 8352), ({"diameter_mm": "150 mm"}, 4224)):
        model = SproutBumpRecipe.model_validate({**recipe, "wafer": wafer})
        real_cm2 = mask_area_cm2(model.wiring.mould.mask, model.wafer.spec())
        assert wafer_site_count(model.wafer.spec()) == sites
        assert real_cm2 == pytest.approx(opened_um2 * sites * 1e-8)
        cell = model.wiring.plating.plating_recipe(real_cm2)
        assert cell.plated_area_cm2 == real_cm2
        assert cell.current_a(real_cm2) == pytest.approx(2.0 * real_cm2 / 100)


def test_a_lot_of_150_mm_wafers_plates_over_what_the_mask_opens_on_them(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The recipe's wafer is the lot's: 150 mm wafers of 4224 sites get their bumps, their
    wiring plated over the 2.83 cm2 the mould opens on them (the cell measures it), and pass
    the claim check; the 200 mm wafer's 5.6 cm2 stated would have been refused."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wafer"] = {"diameter_mm": "150 mm"}
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 1)
    summary = events[-1]
    assert code == 0, summary
    assert summary["claim_check"]["status"] == "passed"
    bumps = next(c for c in summary["claim_check"]["conditions"] if c["claim"] == "001:1a")
    assert bumps["sites_checked"] == 4224
    measured = {e["data"]["name"]: e["data"]["value"] for e in events if e["kind"] == "measurement"}
    assert measured["plated area"] == pytest.approx(2.834, abs=0.01)
    assert measured["current density"] == pytest.approx(2.0, abs=0.02)
    recipe["wiring"]["plating"]["plated_area_cm2"] = "5.6 cm^2"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "4224 sites of a 150 mm wafer" in error


def test_the_claim_check_holds_the_wiring_to_the_processs_minimum_not_the_recipes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The claim check's bar is the plated wiring's own (3 um), whatever the recipe's
    `min_thickness_um` (its target, which holds a wafer at the plating); a recipe may raise
    its target above the bar, never lower it below. (No solder resist: the reference's is no
    cover over 10 um of wiring.)"""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["solder_resist"] = None
    for target in ("4.5 um", "10 um"):
        recipe["wiring"]["plating"].update(thickness_um="10 um", min_thickness_um=target)
        model = SproutBumpRecipe.model_validate(recipe)
        (wiring,) = [
            c for c in claim_conditions(model) if c.claim == "001:8" and "plated" in c.text
        ]
        assert wiring.text == "wiring at level 1 plated to at least 3 um, sound"
        assert wiring.margin is not None
        assert wiring.margin.limit == PLATED_WIRING_MIN_UM == 3.0
    recipe["wiring"]["plating"].update(thickness_um="2.5 um", min_thickness_um="2 um")
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "wiring.plating.min_thickness_um = 2 um: a plated wiring is at least 3 um thick, what "
        "the claim check holds it to: the recipe's minimum may raise that, not lower it "
        "(claim 001:8)"
    ) in error


def test_a_minimum_the_seed_etch_would_thin_below_the_claims_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The plating holds a wafer on `min_thickness_um` before the seed etch, the claim check
    holds it to 3 um after: 3.05 um with the reference's 40 s etch at 30 degC is refused (a
    row of the nested-field refusals above), 3.43 um validates; a longer etch raises the bar.
    Without an etch nothing thins the wiring, but the seed joins every pattern: refused."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["min_thickness_um"] = "3.43 um"
    SproutBumpRecipe.model_validate(recipe)
    # the reference's 4.5 um with 300 s in the copper etch (40 s clears the seed) once made a
    # wrong product: 2.3 um of wiring, 001:8 failed by the claim check after the run
    recipe["wiring"]["plating"]["min_thickness_um"] = "4.5 um"
    recipe["wiring"]["etch"]["copper_etch"]["time_s"] = "300 s"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "(wiring.etch.copper_etch, 300 s at 30 degC, the bath within 1 degC of it) takes up to "
        "3.215 um off"
    ) in error
    del recipe["wiring"]["etch"]  # no etch: nothing thins the wiring, the seed joins it all
    recipe["wiring"]["plating"]["min_thickness_um"] = "3.05 um"
    assert (
        "wiring.etch = none: the seed's 0.3 um of Cu and the seed's 0.05 um of Ti are patterned "
        "by etching them off between the patterns after the plating; without the etch they "
        "join them all: add the etch: a strip that takes the mould off, then a copper_etch and "
        "a barrier_etch that clear them, e.g. copper_etch at least 33 s at 30 degC and "
        "barrier_etch at least 11 s at 40 degC (claim 001:8)"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def _metal_etch(time_s: str):
    return lambda r: r["wiring"]["etch"]["copper_etch"].update(time_s=time_s)


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (  # 2.64 um off a 3 um foil in the bath at 44 degC: the patterns stay joined
            _metal_etch("100 s"),
            "wiring.etch.copper_etch.time_s = 100 s: the bath dips within 1 degC of its 45 degC: "
            "at 44 degC the 100 s etch takes 2.639 um off, leaving 0.361 um of the 3 um foil "
            "between the "
            "patterns, joining them: at least 114 s, or the bath set to 47 degC (claim 001:11)",
        ),
        (  # the 2 min etch takes up to 3.64 um (at 46 degC): 0.64 um of the plating's top
            lambda r: r["wiring"]["plating"].update(min_thickness_um="3.05 um"),
            "wiring.plating.min_thickness_um = 3.05 um: the etch after the plating "
            "(wiring.etch.copper_etch, 120 s at 45 degC, the bath within 1 degC of it) takes up "
            "to 3.638 um off the wiring's top, leaving 2.412 um where the plating held 3.05 um on "
            "the 3 um foil, below the 3 um a plated wiring keeps (what the claim check holds it "
            "to): at least 3.64 um (no shorter etch at 45 degC both clears the 3 um foil and "
            "keeps it: the least that clears it, 114 s, takes up to 3.456 um off) (claim 001:11)",
        ),
        (  # 18.2 um at 46 degC: through the 4.5 um plating and the foil
            _metal_etch("10 min"),
            "takes up to 18.189 um off the wiring's top, through all of it where the plating held "
            "4.5 um on the 3 um foil: the pattern cut through",
        ),
        (  # the least etch at the bath's reference temperature, 30 degC, dipping at 29 degC
            lambda r: r["wiring"].pop("etch"),
            "wiring.etch = none: with support metal-film the 3 um foil is patterned by etching "
            "it off between the patterns after the plating; without the etch it joins them all: "
            "add the etch: a strip that takes the mould off, then a copper_etch that clears it, "
            "e.g. at least 322 s at 30 degC (claim 001:11)",
        ),
        (
            lambda r: r.pop("foil_thickness_um"),
            "foil_thickness_um = none: with support metal-film the sheet's foil is the wiring's "
            "metal (001:11), and its etch between the patterns is checked against it: state the "
            "sheet's foil, in 0.1 um steps (sprout-bump-csp-metal-support.yaml: 3 um) "
            "(claim 001:10)",
        ),
        (
            lambda r: r.update(foil_thickness_um="0 um"),
            "foil_thickness_um = '0 um': must be above 0 um",
        ),
        (  # the laminator's register 208 counts tenths of a micrometre
            lambda r: r.update(foil_thickness_um="3.05 um"),
            "foil_thickness_um = 3.05 um: the laminator takes the foil in 0.1 um steps: 3 um or "
            "3.1 um",
        ),
        (
            lambda r: r.update(foil_thickness_um="25 um"),
            "foil_thickness_um = '25 um': must be at most 20 um (the laminator range of "
            "foil_thickness_um: 0-20 um; given 25 um)",
        ),
    ],
)
def test_a_metal_support_etch_that_leaves_or_cuts_through_the_foil_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil, expected: str
):
    """On the metal support the etch after the plating must clear the foil between the
    patterns at the copper etch's nominal rate in its bath at the coolest it dips (0.0264 um/s
    at 44 degC, set to 45), and leave at least 3 um of plating and foil on them at the
    warmest (0.0303 um/s at 46 degC); the foil's thickness is the recipe's, on the
    laminator's step."""
    recipe = reference_recipe("sprout-bump-csp-metal-support.yaml")
    spoil(recipe)
    assert expected in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def _refused_with(recipe: dict) -> tuple[str, str] | None:
    """The field validate refuses in `recipe` and the least value its refusal suggests (None:
    the recipe is valid)."""
    try:
        SproutBumpRecipe.model_validate(recipe)
    except ValidationError as error:
        text = format_validation_error("recipe", error, SproutBumpRecipe)
        match = re.fullmatch(r"recipe: ([\w.]+) = .*?: at least ([\d.]+ (?:um|s))\b.*", text)
        assert match, text
        return match[1], match[2]
    return None


def _thick_plating(recipe: dict) -> None:
    """`recipe`'s wiring plated 30 um thick at a 3 um minimum, past any minimum an etch
    refusal names, through a PR-THICK mould spun at 500 rpm (31.29 um), developed and
    stripped for it, and no solder resist over it (30 um of wiring stands past the cover any
    spin of the cell keeps over it): the sweeps of the etch's refusals meet no refusal of
    the plating's thickness."""
    del recipe["terminals"]["solder_resist"]
    wiring = recipe["wiring"]
    wiring["plating"].update(min_thickness_um="3 um", thickness_um="30 um")
    wiring["mould"].update(material="PR-THICK", spin_rpm=500, develop_time_s="270 s")
    wiring["etch"]["strip"]["time_s"] = "12 min"


@pytest.mark.parametrize("foil", [None, "0.5 um", "3 um", "4.7 um"])
def test_every_least_value_validate_suggests_validates_when_applied(foil: str | None):
    """An etch that leaves foil between the patterns is refused with the least time that
    clears it, a minimum the etch would thin below 3 um with the least minimum that keeps 3
    um: each, written into the recipe as suggested, is accepted (rounded up: 3.39 um, the
    suggestion shown for a 3.3941 um bar, was once refused)."""
    etches = itertools.product(
        ("20 s", "77 s", "100 s", "107 s", "110 s", "2 min", "293 s"),
        ("25 degC", "30 degC", "45 degC", "52 degC"),
    )
    for time_s, temperature_c in etches:
        recipe = reference_recipe(f"sprout-bump-csp{'-metal-support' if foil else ''}.yaml")
        if foil is not None:
            recipe["foil_thickness_um"] = foil
        _thick_plating(recipe)
        recipe["wiring"]["etch"]["copper_etch"].update(time_s=time_s, temperature_c=temperature_c)
        applied: list[str] = []
        while (refused := _refused_with(recipe)) is not None:
            path, value = refused
            assert path not in applied, f"{time_s} at {temperature_c}: {path} = {value} refused"
            applied.append(path)
            *sections, name = path.split(".")
            functools.reduce(operator.getitem, sections, recipe)[name] = value
        assert applied, f"{time_s} at {temperature_c} refused nothing: the sweep tests nothing"


@pytest.mark.parametrize(
    ("variant", "dip", "time_s"),
    [
        *((METAL_SUPPORT, "copper_etch", t) for t in ("20 s", "100 s", "107 s", "110 s")),
        *(("sprout-bump-csp.yaml", "copper_etch", t) for t in ("10 s", "25 s", "32 s")),
        *(("sprout-bump-csp.yaml", "barrier_etch", t) for t in ("5 s", "10 s")),
        ("sprout-bump-csp-electroless.yaml", "copper_etch", "30 s"),
    ],
)
def test_the_bath_temperature_validate_suggests_clears_the_metal_when_applied(
    variant: str, dip: str, time_s: str
):
    """The other way out of an etch too short for the foil or the seed, a warmer bath, is
    named with the set temperature that clears it, and that temperature is accepted for the
    metal (a bath that much hotter may then thin the wiring below its minimum: that refusal
    is the plating's)."""
    recipe = reference_recipe(variant)
    etch = recipe["wiring"]["etch"][dip]
    etch["time_s"] = time_s
    _thick_plating(recipe)
    with pytest.raises(ValidationError) as refused:
        SproutBumpRecipe.model_validate(recipe)
    text = format_validation_error("recipe", refused.value, SproutBumpRecipe)
    match = re.search(r"or the bath set to (\d+) degC \(claim 001:(?:8|11)\)$", text)
    assert match, text
    etch["temperature_c"] = f"{match[1]} degC"
    # the metal is cleared; the hotter bath may thin the wiring below its minimum (another field)
    refused_now = _refused_with(recipe)
    assert refused_now is None or refused_now[0] == "wiring.plating.min_thickness_um"


def test_the_least_etch_validate_suggests_clears_the_foil_in_a_run(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """validate judges the copper etch at the coolest its bath dips (the bench dips once the
    bath is within 1 degC of its setpoint): the least etch it suggests for the 3 um foil at
    45 degC, 114 s, clears the foil on both wafers of a lot, the first of which dips in the
    bath still heating, at 44 degC (107 s, suggested at 45 degC, once left 0.176 um there).
    The metal support, not a seed, joins the tips (001:10)."""
    recipe = reference_recipe("sprout-bump-csp-metal-support.yaml")
    recipe["wiring"]["etch"]["copper_etch"]["time_s"] = "100 s"
    assert _refused_with(recipe) == ("wiring.etch.copper_etch.time_s", "114 s")
    recipe["wiring"]["etch"]["copper_etch"]["time_s"] = "114 s"
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 2)
    check = events[-1]["claim_check"]
    assert (code, check["status"]) == (0, "passed")
    (apart,) = [c for c in check["conditions"] if c["condition"].startswith("the foil etched")]
    assert margin_text(apart) == (
        "smallest etch past the foil between the patterns 0.00848 um, at least 0 um: "
        "0.00848 um to spare"
    )
    joined = {c["claim"]: c["condition"] for c in check["conditions"] if "joins" in c["condition"]}
    assert joined == {
        claim: "the metal support joins every tip (contact <= 20 mOhm)"
        for claim in ("001:1c", "001:10")
    }


def test_a_film_support_has_no_foil(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["foil_thickness_um"] = "3 um"
    assert (
        "foil_thickness_um = 3 um: a film support is peeled and has no foil: leave it out, or "
        "set support: metal-film (claim 001:7)"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def test_a_valid_stated_area_at_the_windows_lower_end_plates_as_the_recipe_asks(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A stated area within 10 % of the 5.603 cm2 the mask's design opens (5.05 cm2) and the
    window's lower end (0.5 A/dm2) validate; the mould's 1.25 E0 dose opens 5.612 cm2, which
    the cell measures and sets the current over, so the wafer plates at 0.5 A/dm2 and passes
    (the cell neither refuses the stated area nor leaves the density below the window)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"].update(
        plated_area_cm2="5.05 cm^2", current_density_a_dm2="0.5 A/dm^2"
    )
    path = write_recipe(tmp_path, recipe)
    assert main(["validate", "sprout-bump-csp", "--recipe", str(path)]) == 0
    capsys.readouterr()
    code, events = run_lot(capsys, "sprout-bump-csp", path, 1)
    summary = events[-1]
    assert code == 0, summary
    assert summary["wafers"][0]["status"] == "completed"
    measured = {e["data"]["name"]: e["data"] for e in events if e["kind"] == "measurement"}
    area = measured["plated area"]
    assert area["value"] == pytest.approx(5.612, abs=0.001)
    assert (area["low"], area["high"]) == (
        pytest.approx(5.603 * 0.9, abs=1e-3),
        pytest.approx(5.603 * 1.1, abs=1e-3),
    )
    assert measured["current density"]["value"] == pytest.approx(0.5, abs=1e-4)
    assert measured["wiring thickness min"]["value"] == pytest.approx(5.0, abs=0.011)


@pytest.mark.parametrize(
    ("bath_c", "status", "thinnest_um"),
    [("25 degC", "completed", 5.0), ("55 degC", "held", 4.69)],
)
def test_the_plating_holds_a_wafer_on_the_thickness_its_xrf_measured_not_the_charge(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    bath_c: str,
    status: str,
    thinnest_um: float,
):
    """The cell's XRF head measures the deposit after the withdraw: at 25 degC the wiring is
    the 5 um asked for and the wafer passes; at 55 degC the bath loses efficiency, the
    thickness by charge still reads 5 um but the metal there is 4.69 um, below the recipe's
    4.8 um minimum, and the wafer is held at the plating."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"].update(bath_temperature_c=bath_c, min_thickness_um="4.8 um")
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 1)
    wafer = events[-1]["wafers"][0]
    assert wafer["status"] == status
    measured = {e["data"]["name"]: e["data"]["value"] for e in events if e["kind"] == "measurement"}
    assert measured["wiring thickness by charge"] == pytest.approx(5.0, abs=0.01)
    assert measured["wiring thickness min"] == pytest.approx(thinnest_um, abs=0.011)
    assert measured["wiring thickness points"] == 9
    if status == "held":
        assert code == 1
        assert "wiring thickness min = 4.69 um, below the minimum of 4.8 um" in wafer["reason"]


def test_a_reflow_peak_below_the_balls_liquidus_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["reflow"]["peak_c"] = "210 degC"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        ": terminals.reflow.peak_c = 210 degC: must be above the liquidus of SAC305 (220 degC): "
        "the balls would not melt (claim 001:3)"
    ) in error


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # had validated and passed 001:4 with no margin shown (a new user's trial)
            {"ball_diameter_um": "399 um"},
            "terminals.ball_diameter_um = 399 um: the 400 um holes of "
            "terminals.solder_resist.mask = ball-lands develop 398.5 um across (as the cell "
            "develops them at solder_resist.dose_mj_cm2 = 400 mJ/cm^2), and a ball sits in its "
            "opening only with room on every side for the mounter's placement at its most "
            "(33.941 um off its site, its flux counted) and the stepper's overlay (10 um off the "
            "balls): a 399 um ball may reach 44.185 um under the resist's edge: give at most "
            "310.6 um, or a reticle of holes at least 488.4 um (none in the stepper library) "
            "(claim 001:4)",
        ),
        (  # past the largest that fits, 310.6 um (which runs: below)
            {"ball_diameter_um": "310.7 um"},
            "terminals.ball_diameter_um = 310.7 um: the 400 um holes of "
            "terminals.solder_resist.mask = ball-lands develop 398.5 um across",
        ),
        (  # 300 um balls fit, but swim in a flux past 0.6 of their diameter
            {"flux_thickness_um": "190 um"},
            "terminals.flux_thickness_um = 190 um: the 400 um holes of "
            "terminals.solder_resist.mask = ball-lands develop 398.5 um across (as the cell "
            "develops them at solder_resist.dose_mj_cm2 = 400 mJ/cm^2), and a ball sits in its "
            "opening only with room on every side for the mounter's placement at its most "
            "(44.548 um off its site, its flux counted) and the stepper's overlay (10 um off the "
            "balls): a 300 um ball may reach 5.291 um under the resist's edge: give at most "
            "185 um (claim 001:4)",
        ),
        (  # validated and ran checking 32 balls: the value quietly ignored
            {"balls_per_unit": 33},
            "terminals.balls_per_unit = 33: a ball on the conducting path of each of a die's 32 "
            "pads (4 x wafer.pads_per_die_side): give 32 (claim 001:1d)",
        ),
        (  # validated, and on a line (no claim check) ran to dies short of half their balls
            {"balls_per_unit": 16},
            "terminals.balls_per_unit = 16: a ball on the conducting path of each of a die's 32 "
            "pads (4 x wafer.pads_per_die_side): give 32 (claim 001:1d)",
        ),
    ],
    ids=[
        "ball-past-its-opening",
        "just-past-its-opening",
        "swimming-past-it",
        "more-than-pads",
        "fewer-than-pads",
    ],
)
def test_balls_that_do_not_fit_the_dies_lands_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"].update(change)
    assert f": {expected}" in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def test_balls_past_any_opening_of_a_small_hole_reticle_are_refused_naming_the_larger_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The solder resist opened through the library's 150 um holes around the 300 um balls:
    no ball the mounter takes fits them, and the refusal names the hole reticles of the
    library at least as large as the holes these balls need."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["solder_resist"]["mask"] = "land-openings"
    assert refusal(capsys, tmp_path, "sprout-bump-csp", recipe).endswith(
        ": a 300 um ball may reach 119.685 um under the resist's edge: no ball the mounter "
        "takes fits: give a reticle of holes at least 389.4 um (ball-lands 400 um) "
        "(claim 001:4)\n"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # had validated: the developer takes the underexposed field but 6.5 um
            {"dose_mj_cm2": "100 mJ/cm^2"},
            "terminals.solder_resist.dose_mj_cm2 = 100 mJ/cm^2: a negative film keeps of its "
            "exposed field only what the dose cross-linked: of the 18.102 um of PI-N that "
            "terminals.solder_resist spins at 2000 rpm and bakes, the develop leaves a 6.493 um "
            "field, 1.516 um over the 4.977 um of wiring standing in it, thinner than the 10 um "
            "solder resist makers ask over the copper to insulate it: give at least 228 "
            "mJ/cm^2 (claim 001:4)",
        ),
        (  # 1 mJ/cm^2 under the least the refusal gives
            {"dose_mj_cm2": "227 mJ/cm^2"},
            "the develop leaves a 14.96 um field, 9.983 um over the 4.977 um of wiring standing "
            "in it, thinner than the 10 um solder resist makers ask over the copper to insulate "
            "it: give at least 228 mJ/cm^2, or wiring.plating.thickness_um at most 4.98 um "
            "(claim 001:4)",
        ),
        (  # a positive resin spun too thin to cover at any dose
            {"material": "PBO-P", "spin_rpm": 6000},
            "terminals.solder_resist.spin_rpm = 6000: of the 7.39 um of PBO-P that "
            "terminals.solder_resist spins at 6000 rpm and bakes, the develop leaves a 7.217 "
            "um field, 2.24 um over the 4.977 um of wiring standing in it, thinner than the 10 "
            "um solder resist makers ask over the copper to insulate it, whatever the dose: "
            "give at most 1427 rpm, for a thicker film (claim 001:4)",
        ),
    ],
    ids=["underexposed", "just-underexposed", "spun-too-thin"],
)
def test_a_solder_resist_too_thin_over_the_wiring_is_refused_naming_the_least_dose_or_spin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    """001:4's solder resist keeps the cover solder resist makers ask over the wiring, as
    000:x3's over its interconnections (`SolderResistRecipe.require_covering`, shared)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["solder_resist"].update(change)
    assert refusal(capsys, tmp_path, "sprout-bump-csp", recipe).endswith(f"{expected}\n")


def test_a_wiring_too_thick_for_its_solder_resist_is_refused_naming_a_spin_or_a_plating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The uppermost wiring stands up into the solder resist (decision 0132): 10 um of plating
    under the reference's 18.1 um of PI-N leaves 7.95 um over it, refused at the resist's
    spin with the other way out, a thinner plating; each, applied, validates."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["thickness_um"] = "10 um"
    assert without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe)).endswith(
        ": terminals.solder_resist.spin_rpm = 2000: of the 18.102 um of PI-N that "
        "terminals.solder_resist spins at 2000 rpm and bakes, the develop leaves a 17.928 um "
        "field, 7.951 um over the 9.977 um of wiring standing in it, thinner than the 10 um "
        "solder resist makers ask over the copper to insulate it, whatever the dose: give at "
        "most 1614 rpm, for a thicker film, or wiring.plating.thickness_um at most 7.95 um "
        "(claim 001:4)\n"
    )
    for section, field, value in (
        (recipe["terminals"]["solder_resist"], "spin_rpm", 1614),
        (recipe["wiring"]["plating"], "thickness_um", "7.95 um"),
    ):
        spoilt = section[field]
        section[field] = value
        path = str(write_recipe(tmp_path, recipe))
        assert main(["validate", "sprout-bump-csp", "--recipe", path]) == 0
        capsys.readouterr()
        section[field] = spoilt


def test_a_slower_spin_a_dim_dose_cannot_cover_names_the_dose_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """At 100 mJ/cm^2 the field the develop leaves lies under the top of 10 um of wiring;
    a thicker film at that dose would cross-link too little of it as well, so the refusal
    at the spin names the dose with it (a review's 117 spins suggested that the recipe's own
    dose then refused); both, applied, validate."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["thickness_um"] = "10 um"
    resist = recipe["terminals"]["solder_resist"]
    resist["dose_mj_cm2"] = "100 mJ/cm^2"
    assert without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe)).endswith(
        ": terminals.solder_resist.spin_rpm = 2000: of the 18.102 um of PI-N that "
        "terminals.solder_resist spins at 2000 rpm and bakes, the develop leaves a 6.493 um "
        "field, 3.484 um below the top of the 9.977 um of wiring standing in it: none over it, "
        "thinner than the 10 um solder resist makers ask over the copper to insulate it, "
        "whatever the dose: give at most 1614 rpm, for a thicker film, and "
        "terminals.solder_resist.dose_mj_cm2 at least 303 mJ/cm^2 (claim 001:4)\n"
    )
    resist.update(spin_rpm=1614, dose_mj_cm2="303 mJ/cm^2")
    path = str(write_recipe(tmp_path, recipe))
    assert main(["validate", "sprout-bump-csp", "--recipe", path]) == 0


def test_a_stacked_metal_supports_resist_covers_the_foil_of_its_uppermost_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Every level's sheet comes on the foil: the uppermost wiring of a stacked metal support
    is its foil and plating too, which a review found the recipe check leaving out (2500 rpm
    validated, and the dry run failed 001:4 at 9.4 um)."""
    recipe = reference_recipe("sprout-bump-csp-metal-support.yaml")
    upper = copy.deepcopy(reference_recipe("sprout-bump-csp-levels-2.yaml")["upper_levels"][0])
    for seeded in ("seed", "descum"):  # the foil is the metal: no seed to lay or descum
        del upper["wiring"][seeded]
    upper["wiring"].update(copy.deepcopy({k: recipe["wiring"][k] for k in ("plating", "etch")}))
    recipe["upper_levels"] = [upper]
    recipe["terminals"]["solder_resist"]["spin_rpm"] = 2500
    error = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe))
    assert "um over the 6.833 um of wiring standing in it" in error
    assert error.endswith(
        "give at most 2265 rpm, for a thicker film, or "
        "upper_levels.0.wiring.plating.thickness_um at most 6.18 um (claim 001:4)\n"
    )
    recipe["terminals"]["solder_resist"]["spin_rpm"] = 1500  # the reference's
    path = str(write_recipe(tmp_path, recipe))
    assert main(["validate", "sprout-bump-csp", "--recipe", path]) == 0


def _thick_resin_over(sheet: str, *, solder_resist: bool) -> dict:
    """The reference recipe with `thick_resin` on a sheet of `sheet`, with or without its
    solder resist: a trial's two recipes (sb1.yaml, sb2.yaml) at 50 um."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["resin"]["sheet_thickness_um"] = sheet
    recipe["thick_resin"] = True
    if not solder_resist:
        recipe["terminals"]["solder_resist"] = None
    return recipe


@pytest.mark.parametrize("solder_resist", [True, False], ids=["solder-resist", "none"])
async def test_001_13_past_validate_fails_on_the_resin_sealing_layer_whatever_lies_over_it(
    store: RunStore, tmp_path: Path, solder_resist: bool
):
    """A 50 um sheet laid down to 48.5 um (3 % under), 0.6 um of it etched off by the
    descum's O2: the resin-sealing layer of 001:13 is 47.9 um at its thinnest, short of 50
    um, with the 17.9 um solder resist over it or without: the check had counted the solder
    resist as resin, and passed 001:13 at 62.5 um."""
    recipe = _thick_resin_over("50 um", solder_resist=solder_resist)
    recipe["thick_resin"] = False  # validate refuses it (the test below): set on the model

    def thick(model: SproutBumpRecipe) -> SproutBumpRecipe:
        return model.model_copy(update={"thick_resin": True})

    check = await completed_past_validate(
        store, "sprout-bump-csp", write_recipe(tmp_path, recipe), thick
    )
    assert failing_claims(check) == {"001:13"}
    (thick_resin,) = [c for c in check["conditions"] if c["claim"] == "001:13"]
    assert thick_resin["margin_worst"] == pytest.approx(47.9, abs=0.05)
    assert margin_text(thick_resin) == (
        "smallest resin-sealing layer 47.9 um, at least 50 um: 2.1 um short"
    )


def test_a_thick_resin_sheet_is_judged_at_its_thinnest_less_the_descum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """001:13 judges the sheet as the claim check judges the product: laid at its thinnest
    (the laminator's 3 %), less what the descum's O2 etches off its top; the 50 um sheet,
    which had validated, is refused with the least sheet that leaves 50 um, as is the sheet
    0.1 um under that (tested to run below)."""
    for sheet, laid, left in (("50 um", "48.5", "47.9"), ("52.1 um", "50.537", "49.937")):
        error = refusal(
            capsys, tmp_path, "sprout-bump-csp", _thick_resin_over(sheet, solder_resist=True)
        )
        assert without_lines(error) == (
            f"packline: error: recipe file {tmp_path / 'recipe.yaml'}: resin.sheet_thickness_um "
            f"= {sheet}: laid down to {laid} um (the laminator's 1% spread, to 3 sigma), "
            f"{left} um once wiring.descum's O2 takes 0.6 um off its top, the resin-sealing "
            "layer must be at least 50 um thick at every site (thick_resin is true): give at "
            "least 52.2 um (claim 001:13)\n"
        )


@pytest.mark.parametrize("solder_resist", [True, False], ids=["solder-resist", "none"])
def test_the_least_thick_resin_sheet_a_refusal_gives_passes_001_13(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], solder_resist: bool
):
    """The 52.2 um sheet the refusal of a 50 um one gives validates and runs a lot with its
    resin-sealing layer at least 50 um at every site, the claim check passing."""
    recipe = _thick_resin_over("52.2 um", solder_resist=solder_resist)
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 2)
    assert code == 0
    check = events[-1]["claim_check"]
    assert check["status"] == "passed"
    (thick_resin,) = [c for c in check["conditions"] if c["claim"] == "001:13"]
    assert 50 <= thick_resin["margin_worst"] < 50.1


async def test_an_underexposed_solder_resist_past_validate_fails_001_4_too_thin_to_cover(
    store: RunStore,
):
    """What the refusal of a dim exposure keeps from the line: 15 mJ/cm^2 on the negative
    polyimide, its openings clear of the balls, but the developer dissolves the field but its
    cross-linked fraction: its field is thinner than the wiring standing in it, and the claim
    check names 001:4 at its cover, its margin the thinnest resist over the wiring, negative
    (the reference's 12.98 um passes)."""
    check = await completed_past_validate(
        store, "sprout-bump-csp", "sprout-bump-csp.yaml", _solder_resist(dose_mj_cm2=15.0)
    )
    assert failing_claims(check) == {"001:4"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] != "pass"]
    assert failed["condition"] == "the solder resist covering the wiring (>= 10 um)"
    assert failed["margin_worst"] == pytest.approx(-4.12, abs=0.01)


def _solder_resist(**update: object):
    """The solder resist given `update` in a validated model (validate refuses it)."""

    def spoil(recipe: SproutBumpRecipe) -> SproutBumpRecipe:
        terminals = recipe.terminals
        assert terminals is not None
        assert terminals.solder_resist is not None
        resist = terminals.solder_resist.model_copy(update=update)
        spoilt = terminals.model_copy(update={"solder_resist": resist})
        return recipe.model_copy(update={"terminals": spoilt})

    return spoil


@pytest.mark.parametrize(
    ("mask", "verdict", "worst"),
    [
        # 398.5 um openings around 300 um balls set down up to 33.9 um off their sites
        ("ball-lands", "pass", 17.9),
        # 148.5 um openings: the resist laid over the balls' sides
        ("land-openings", "fail", -107.1),
    ],
)
async def test_the_solder_resist_s_room_around_the_balls_is_001_4_s_margin(
    store: RunStore, mask: str, verdict: str, worst: float
):
    """What the refusal of balls past their openings keeps from the line: the claim check
    judges each opening clear of its ball, the least room between a ball and its opening's
    edge the margin (the twin's openings laid on the sites, its balls where the mounter set
    them): the reference's 17.9 um, and the land-openings reticle's 150 um holes over 300 um
    balls, which had passed 001:4 open at every ball."""
    check = await completed_past_validate(
        store, "sprout-bump-csp", "sprout-bump-csp.yaml", _solder_resist(mask=mask)
    )
    (opened,) = [c for c in check["conditions"] if c["condition"].endswith("the ball joined")]
    assert opened["verdict"] == verdict
    assert opened["margin_worst"] == pytest.approx(worst, abs=0.1)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        # the thickest sheet the refusal of a 59 um sheet gives (test_bump_seal_clean): the 59
        # um sheet buried the shorter bumps and held the wafer at the plating
        ("resin", "sheet_thickness_um", "52.4 um"),
        # the largest ball the refusal of a 399 um ball gives: inside its opening however the
        # mounter and the stepper lay them, none bridges
        ("terminals", "ball_diameter_um", "310.6 um"),
        # the least dose the refusal of an underexposed solder resist gives: 10 um over the
        # wiring, its seed and its plating standing in the resist
        ("terminals.solder_resist", "dose_mj_cm2", "228 mJ/cm^2"),
    ],
    ids=["thickest-sheet", "widest-ball", "dimmest-solder-resist"],
)
def test_the_least_value_a_refusal_allows_runs_with_every_claim_passing(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    section: str,
    field: str,
    value: str,
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    functools.reduce(operator.getitem, section.split("."), recipe)[field] = value
    code, events = run_lot(capsys, "sprout-bump-csp", write_recipe(tmp_path, recipe), 1)
    assert code == 0
    assert events[-1]["claim_check"]["status"] == "passed"


@pytest.mark.parametrize(
    ("spoil", "other"),
    [
        (
            lambda wiring: wiring["etch"]["copper_etch"].update(time_s="25 s"),
            "wiring.etch.copper_etch.time_s = 25 s",
        ),
        (
            lambda wiring: wiring["seed"]["steps"][1].update(material="Ni"),
            "wiring.seed.steps.1.material = Ni",
        ),
    ],
    ids=["etch-too-short", "seed-of-ni"],
)
def test_a_plating_minimum_below_the_floor_is_refused_beside_the_seed_and_its_etch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil, other: str
):
    """A 2 um plating minimum (below 001:8's 3 um) was hidden behind a copper etch too short
    for the seed, or a seed of a metal no tank etches: the two are independent problems, both
    refused at once (decision 0053)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["min_thickness_um"] = "2 um"
    spoil(recipe["wiring"])
    error = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe))
    lines = error.removeprefix("packline: error: ").splitlines()
    assert {line.split(": ", 1)[1].split(":", 1)[0] for line in lines} == {
        other,
        "wiring.plating.min_thickness_um = 2 um",
    }


def test_a_wiring_plated_thinner_than_its_minimum_is_refused_naming_001_1c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The wiring's plating below its own `min_thickness_um` named no claim (bump-seal-clean's
    layer names 003:19): the wiring it thickens is 001:1c's, whatever the support."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["thickness_um"] = "4 um"
    assert refusal(capsys, tmp_path, "sprout-bump-csp", recipe).endswith(
        ": wiring.plating.thickness_um = 4 um: below min_thickness_um = 4.5 um: the plating "
        "cannot give the deposit it needs (claim 001:1c)\n"
    )


def _reflow_too_short_to_wet(recipe: SproutBumpRecipe) -> SproutBumpRecipe:
    """The terminals' reflow above the liquidus for seconds, and a minimum that would not
    hold the batch for it: validate refuses both (test_reflow_wetting.py)."""
    terminals = recipe.terminals
    short = {"peak_c": 223.0, "peak_hold_s": 0.0, "min_time_above_liquidus_s": 0.0}
    reflow = terminals.reflow.model_copy(update=short)
    return recipe.model_copy(update={"terminals": terminals.model_copy(update={"reflow": reflow})})


async def test_a_reflow_too_short_to_wet_driven_past_validate_fails_the_claim_check(
    store: RunStore,
):
    """The balls melt but never wet their pads: the wafer completes, and the claim check
    names 001:3 (and 001:1d, whose terminals they are). 001:4's solder resist clear of every
    ball, the ball joined, names the balls' time molten, where its row had shown no margin
    beside the room every ball has in its opening (decision 0106)."""
    check = await completed_past_validate(
        store, "sprout-bump-csp", "sprout-bump-csp.yaml", _reflow_too_short_to_wet
    )
    assert check["status"] == "failed"
    assert failing_claims(check) == {"001:1d", "001:3", "001:4"}
    assert "001:3" in check["note"]
    molten = [margin_text(c) for c in check["conditions"] if c["claim"] in {"001:3", "001:4"}]
    assert molten == [
        "smallest time molten on the metal 16.9 s, at least 20 s: 3.1 s short",
        "smallest time molten on the metal 16.9 s, at least 20 s: 3.1 s short",
        "smallest solder resist over the wiring 12.98 um, at least 10 um: 2.98 um to spare",
    ]


def _sheet_of(thickness_um: float):
    """The resin sheet set to `thickness_um` in a validated model."""

    def spoil(recipe: SproutBumpRecipe) -> SproutBumpRecipe:
        resin = recipe.resin.model_copy(update={"sheet_thickness_um": thickness_um})
        return recipe.model_copy(update={"resin": resin})

    return spoil


async def test_a_sheet_over_the_shortest_bumps_past_validate_is_held_where_it_buries_them(
    store: RunStore,
):
    """A 59 um sheet over bumps inspected at 60 +- 6 um, which validate refuses (001:1b:
    at most 52.4 um), driven past validate: it buries the shorter bumps, and the seed over a
    buried tip joins nothing the contact ring reaches, so its wiring plates bare. Where one
    of the XRF head's points lands on such a site the wafer is held at the plating, its
    thinnest point 0 um; where none does, the ball mounter's inspection counts balls missing
    at those sites and holds it there (the method page's example)."""
    prepared = prepare(
        RunRequest("sprout-bump-csp", lot=5, recipe_path=str(RECIPES / "sprout-bump-csp.yaml"))
    )
    prepared.recipe = _sheet_of(59.0)(prepared.recipe)
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "held"
    reasons = {wafer["wafer_id"]: wafer["reason"] for wafer in store.wafers(engine.run_id)}
    plating = "step 'electroplate wiring' of {} failed: wiring thickness min = 0 um, below the "
    assert {w for w, reason in reasons.items() if reason.startswith(plating.format(w))} == {"W05"}
    balls = "step 'mount balls' of {} failed: balls missing = "
    assert {w for w, reason in reasons.items() if reason.startswith(balls.format(w))} == {
        "W01",
        "W02",
        "W03",
        "W04",
    }


def _wiring_dip(dip: str, time_s: float):
    """The wiring's `dip` (copper_etch, barrier_etch) set to `time_s` in a validated model."""

    def spoil(recipe: SproutBumpRecipe) -> SproutBumpRecipe:
        etch = recipe.wiring.etch
        assert etch is not None
        spoilt = etch.model_copy(
            update={dip: getattr(etch, dip).model_copy(update={"time_s": time_s})}
        )
        return recipe.model_copy(
            update={"wiring": recipe.wiring.model_copy(update={"etch": spoilt})}
        )

    return spoil


@pytest.mark.parametrize(
    ("variant", "dip", "time_s", "verdict", "margin"),
    [
        # the metal support's 3 um foil: 2 min at 45 degC take 3.17 um off it (the bath held
        # within 1 degC of its setpoint); 100 s, 2.64 um at 44 degC, leave some
        (
            METAL_SUPPORT,
            "copper_etch",
            120.0,
            "pass",
            "foil 0.167 um, at least 0 um: 0.167 um to spare",
        ),
        (
            METAL_SUPPORT,
            "copper_etch",
            100.0,
            "fail",
            "foil -0.361 um, at least 0 um: 0.361 um short",
        ),
        # the reference seed: 40 s of copper etch take 0.4 um off the 0.3 um Cu, 20 s of
        # barrier etch 0.1 um off the 0.05 um Ti; the least over-etch is the barrier's
        (
            "sprout-bump-csp.yaml",
            "copper_etch",
            40.0,
            "pass",
            "seed 0.05 um, at least 0 um: 0.05 um to spare",
        ),
        # 0.25 um off the Cu: 0.05 um of Cu left, and the Ti under it, which it shields
        (
            "sprout-bump-csp.yaml",
            "copper_etch",
            25.0,
            "fail",
            "seed -0.1 um, at least 0 um: 0.1 um short",
        ),
        # 0.025 um off the Ti: half of it left between the patterns
        (
            "sprout-bump-csp.yaml",
            "barrier_etch",
            5.0,
            "fail",
            "seed -0.025 um, at least 0 um: 0.025 um short",
        ),
        # the electroless reference: 40 s take 0.4 um off the Cu its bath grew in 4 min
        (
            "sprout-bump-csp-electroless.yaml",
            "copper_etch",
            40.0,
            "pass",
            "seed 0.0833 um, at least 0 um: 0.0833 um to spare",
        ),
    ],
)
async def test_an_etch_that_leaves_metal_between_the_patterns_fails_the_claim(
    store: RunStore, variant: str, dip: str, time_s: float, verdict: str, margin: str
):
    """An etch too short leaves the metal laid over the wafer before the mould (the metal
    support's foil, 001:11; the seed, 001:8) in the field between the patterns, joining them:
    validate refuses it; driven through the line all the same, the wafer completes (no
    pattern is cut through) and the claim check fails the claim, the metal left its margin.
    The references pass, their margin the least over-etch of the metal's films."""
    metal = margin.split()[0]
    check, apart = await etched_apart_past_validate(
        store, "sprout-bump-csp", variant, _wiring_dip(dip, time_s), f"the {metal}"
    )
    claim = "001:11" if metal == "foil" else "001:8"
    assert (apart["claim"], apart["verdict"]) == (claim, verdict)
    if metal == "foil":  # a foil is as thick everywhere: left at every site
        assert apart["sites_passing"] == (apart["sites_checked"] if verdict == "pass" else 0)
    assert (
        margin_text(apart)
        == f"smallest etch past the {margin.replace(' ', ' between the patterns ', 1)}"
    )
    assert failing_claims(check) == ({claim} if verdict == "fail" else set())


def _seed_dip(dip: str, time_s: str, upper: int | None = None):
    def spoil(recipe: dict) -> None:
        wiring = recipe["wiring"] if upper is None else recipe["upper_levels"][upper]["wiring"]
        wiring["etch"][dip]["time_s"] = time_s

    return spoil


@pytest.mark.parametrize(
    ("variant", "spoil", "expected"),
    [
        (  # 0.233 um off the 0.3 um Cu seed in the bath at 29 degC
            "sprout-bump-csp.yaml",
            _seed_dip("copper_etch", "25 s"),
            "wiring.etch.copper_etch.time_s = 25 s: the bath dips within 1 degC of its 30 degC: "
            "at 29 degC the 25 s etch takes 0.233 um off, leaving 0.067 um of the seed's 0.3 um "
            "of Cu "
            "between the patterns, joining them: at least 33 s, or the bath set to 34 degC "
            "(claim 001:8)",
        ),
        (  # the Ti adhesion layer under the Cu, in the barrier etch at 39 degC
            "sprout-bump-csp.yaml",
            _seed_dip("barrier_etch", "5 s"),
            "wiring.etch.barrier_etch.time_s = 5 s: the bath dips within 1 degC of its 40 degC: "
            "at 39 degC the 5 s etch takes 0.023 um off, leaving 0.027 um of the seed's 0.05 um of "
            "Ti between the patterns, joining them: at least 11 s, or the bath set to 51 degC "
            "(claim 001:8)",
        ),
        (
            "sprout-bump-csp.yaml",
            lambda r: r["wiring"]["etch"].pop("barrier_etch"),
            "wiring.etch.barrier_etch = none: the seed's 0.05 um of Ti is patterned by etching "
            "it off between the patterns after the plating; without the etch it joins them all: "
            "add a barrier_etch that clears it, e.g. at least 11 s at 40 degC (claim 001:8)",
        ),
        (  # the electroless bath grows up to 0.364 um in 4 min at 66 degC
            "sprout-bump-csp-electroless.yaml",
            _seed_dip("copper_etch", "30 s"),
            "wiring.etch.copper_etch.time_s = 30 s: the bath dips within 1 degC of its 30 degC: "
            "at 29 degC the 30 s etch takes 0.28 um off, leaving 0.084 um of the seed's up to "
            "0.364 um "
            "of Cu between the patterns, joining them: at least 39 s, or the bath set to 34 degC "
            "(claim 001:8)",
        ),
        (  # every level's seed
            "sprout-bump-csp-levels-2.yaml",
            _seed_dip("copper_etch", "30 s", upper=0),
            "upper_levels.0.wiring.etch.copper_etch.time_s = 30 s: the bath dips within 1 degC "
            "of its 30 degC: at 29 degC the 30 s etch takes 0.28 um off, leaving 0.02 um of the "
            "seed's "
            "0.3 um of Cu between the patterns, joining them: at least 33 s",
        ),
        (  # a sputter run for its time lays what the chamber's rate gives
            "sprout-bump-csp.yaml",
            lambda r: r["wiring"]["seed"]["steps"][1].pop("thickness_nm"),
            "wiring.seed.steps.1.thickness_nm = none: the seed's Cu is etched off between the "
            "patterns after the plating, and the etch is checked against its thickness",
        ),
    ],
)
def test_a_seed_etch_that_may_leave_seed_between_the_patterns_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str, spoil, expected: str
):
    """The etch after the plating must clear the seed between the patterns (001:8): its Cu
    in the copper etch, its Ti or TiW in the barrier etch, each at the nominal rate in its
    bath at the coolest it dips, the seed as thick as the crystal ends its step at (or, grown
    electroless, as the bath grows it at the warmest it runs)."""
    recipe = reference_recipe(variant)
    spoil(recipe)
    assert expected in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def test_an_evaporated_seed_run_for_its_time_is_as_thick_as_its_rate_lays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """An evaporation step without a thickness lays its rate for its time (the crystal holds
    the rate): 4 nm/s for 100 s is a 0.4 um Cu seed, which the reference's 40 s etch does not
    clear at 29 degC."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["seed"]["steps"][1] = evaporation("Cu", "100 s", "4 nm/s")
    assert (
        "leaving 0.027 um of the seed's 0.4 um of Cu between the patterns, joining them: at "
        "least 43 s"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def evaporation(material: str, time_s: str, rate_nm_s: str, **crystal: str) -> dict:
    """A seed step evaporating `material` at `rate_nm_s` for `time_s`, or, given
    `thickness_nm`, until the crystal reads it."""
    return {
        "method": "evaporate",
        "material": material,
        "time_s": time_s,
        "rate_nm_s": rate_nm_s,
        **crystal,
    }


def evaporated_seed(ti_nm: int, *, barrier_etch_s: int = 20) -> dict:
    """The reference recipe with its seed evaporated, `ti_nm` of Ti and 300 nm of Cu, as the
    method page offers it, and its barrier etch `barrier_etch_s` long."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["seed"]["steps"] = [
        evaporation(metal, "10 min", "1 nm/s", thickness_nm=f"{nm} nm")
        for metal, nm in (("Ti", ti_nm), ("Cu", 300))
    ]
    recipe["wiring"]["etch"]["barrier_etch"]["time_s"] = f"{barrier_etch_s} s"
    return recipe


def test_an_evaporated_seed_too_thin_for_the_tips_sidewalls_is_refused_with_the_least_film(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Evaporation covers a sidewall at 0.05 of its film, and a sidewall film under 10 nm
    breaks (the deposition's physics): 50 nm of evaporated Ti validated, the crystal passed
    it, and every wafer was held at the plating, its cathode contact open. Refused with the
    least film, by the simulated chamber's model; one nm less is refused, and a lot at the
    least (its thicker Ti etched off by a longer barrier etch) completes with the claim check
    passed."""
    assert refusal(capsys, tmp_path, "sprout-bump-csp", evaporated_seed(50)).endswith(
        ": wiring.seed.steps.0.thickness_nm = 50 nm: the first film, 50 nm of Ti by evaporate, "
        "joins the seed to the bump tips it climbs, standing above the resin; by evaporate a "
        "sidewall gets 0.05 of the film (the deposition's physics), 2.42 nm at the wafer's "
        "edge, and a sidewall film under 10 nm breaks, leaving the seed unjoined and the "
        "plating without a cathode contact: give at least 207 nm (claim 001:9)\n"
    )
    assert "give at least 207 nm (claim 001:9)" in refusal(
        capsys, tmp_path, "sprout-bump-csp", evaporated_seed(206, barrier_etch_s=45)
    )
    summary = validated_lot_of_one(
        capsys, tmp_path, "sprout-bump-csp", evaporated_seed(207, barrier_etch_s=45)
    )
    assert summary["claim_check"]["status"] == "passed"


def test_an_upper_levels_evaporated_seed_is_judged_as_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Each level's seed climbs its own tips: an upper level's is refused at its path."""
    recipe = reference_recipe("sprout-bump-csp-levels-2.yaml")
    recipe["upper_levels"][0]["wiring"]["seed"]["steps"][0] = evaporation("Ti", "60 s", "1 nm/s")
    refused = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        ": upper_levels.0.wiring.seed.steps.0.time_s = 60 s: the first film, 60 nm of Ti by "
        "evaporate, joins the seed to the bump tips it climbs, standing above the resin;"
    ) in refused
    assert "give at least 207 s (207 nm at its rate) (claim 001:9)" in refused


def _half_a_ball_map(recipe: SproutBumpRecipe) -> SproutBumpRecipe:
    """Balls on 16 of a die's 32 pads, in a validated model (validate refuses the map)."""
    assert recipe.terminals is not None
    terminals = recipe.terminals.model_copy(update={"balls_per_unit": 16})
    return recipe.model_copy(update={"terminals": terminals})


async def test_half_a_ball_map_over_two_levels_driven_past_validate_fails_001_1d_and_001_14(
    store: RunStore,
):
    """Two stacked wiring levels with balls on 16 of a die's 32 pads (validate refuses the
    map: a trial's had validated, and on a line, with no claim check, would ship dies short
    of half their balls): the balls the mounter places all join, but half the pads end at
    the uppermost wiring with no ball: 001:14's chain from every pad through both levels to
    its ball breaks there, and those pads' wiring patterns carry no terminal (001:1d)."""
    check = await completed_past_validate(
        store, "sprout-bump-csp", "sprout-bump-csp-levels-2.yaml", _half_a_ball_map
    )
    assert failing_claims(check) == {"001:1d", "001:14"}
    assert "001:14" in check["note"]
    for claim in ("001:1d", "001:14"):
        (condition,) = [c for c in check["conditions"] if c["claim"] == claim]
        assert condition["sites_passing"] * 2 == condition["sites_checked"]


async def test_half_a_ball_map_on_one_level_driven_past_validate_fails_001_1d_at_the_pads(
    store: RunStore,
):
    """A trial gave one wiring level balls on 16 of a die's 32 pads: 001:1d judged the balls
    alone, 8,352 of them, and passed, where 001:14 judges every pad of two levels. Every
    pad's wiring pattern is claim 1's, to carry its terminal: the pads past the map fail."""
    check = await completed_past_validate(
        store, "sprout-bump-csp", "sprout-bump-csp.yaml", _half_a_ball_map
    )
    assert failing_claims(check) == {"001:1d"}
    (terminals,) = [c for c in check["conditions"] if c["claim"] == "001:1d"]
    assert terminals["sites_passing"] * 2 == terminals["sites_checked"] > 0
    assert (terminals["margin_workpiece"], terminals["margin_entry"]) == ("W01", 16)


def test_a_recipe_without_terminals_makes_no_product_of_claim_1_and_fails_001_1d(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A trial ran the stacked reference, which mounted no balls: its claim check had no 001:1d
    row and passed, as if the wafers were a product of claim 1 (and of 001:13, which depends
    on it). A recipe without `terminals` is valid (the wafer leaves with its wiring), and its
    check fails claim 1's last step on every die."""
    recipe = reference_recipe("sprout-bump-csp-stacked.yaml")
    del recipe["terminals"]
    check = validated_wrong_product(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert failing_claims(check) == {"001:1d"}
    (terminals,) = [c for c in check["conditions"] if c["claim"] == "001:1d"]
    assert terminals["sites_passing"] == 0 < terminals["sites_checked"]


def _wiring_suggestions(text: str) -> list[dict[str, dict[str, object]]]:
    """The ways out a refusal of `wiring.plating.min_thickness_um` suggests, each as the
    changes to the wiring's sections that apply it."""
    ways: list[dict[str, dict[str, object]]] = []
    if least := re.search(r": at least ([\d.]+ um)(, with thickness_um)?", text):
        thicker = {"thickness_um": least[1]} if least[2] else {}
        way: dict[str, dict[str, object]] = {"plating": {"min_thickness_um": least[1], **thicker}}
        if mould := re.search(r" and a thicker mould, wiring\.mould\.spin_rpm at most (\d+)", text):
            way["mould"] = {"spin_rpm": int(mould[1])}
        ways.append(way)
    if shorter := re.search(r", or a shorter etch, at most (\d+ s) at", text):
        ways.append({"copper_etch": {"time_s": shorter[1]}})
    if cooler := re.search(r", or the bath set to at most (\d+) degC", text):
        ways.append({"copper_etch": {"temperature_c": f"{cooler[1]} degC"}})
    return ways


def _applied(recipe: dict, way: dict[str, dict[str, object]]) -> dict:
    """A copy of `recipe` with a way out of `_wiring_suggestions` applied: a thicker mould
    with the least develop and strip its own refusals then name for it."""
    applied = copy.deepcopy(recipe)
    applied["wiring"]["plating"].update(way.get("plating", {}))
    applied["wiring"]["etch"]["copper_etch"].update(way.get("copper_etch", {}))
    if "mould" in way:
        applied["wiring"]["mould"].update(way["mould"])
        try:
            SproutBumpRecipe.model_validate(applied)
        except ValidationError as error:
            text = format_validation_error("recipe", error, SproutBumpRecipe)
            follow_ups = r"(wiring\.mould\.develop_time_s|wiring\.etch\.strip\.time_s)"
            for path, least in re.findall(rf"{follow_ups} = .*?: give at least (\d+ s)", text):
                *sections, name = path.split(".")
                functools.reduce(operator.getitem, sections, applied)[name] = least
    return applied


def test_a_hotter_copper_etch_names_a_thicker_plating_a_shorter_etch_and_a_cooler_bath(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The copper etch at 60 degC takes up to 3.43 um off the reference's 4.5 um minimum: the
    refusal says the 6.43 um minimum needs a thicker plating too (the 5 um `thickness_um`
    refused it once applied alone), the longest etch at 60 degC that keeps 3 um and still
    clears the seed, and, the bath being what moved, the hottest setpoint for its 40 s."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["etch"]["copper_etch"]["temperature_c"] = "60 degC"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "(what the claim check holds it to): at least 6.43 um, with thickness_um (5 um now) "
        "raised to at least as much (the plating gives no minimum above what it plates), or a "
        "shorter etch, at most 17 s at 60 degC (the least that clears the seed's 0.3 um of Cu "
        "is 5 s), or the bath set to at most 48 degC for its 40 s (set to 60 degC, above its "
        "30 degC reference, the bath takes it off) (claim 001:8)"
    ) in error
    ways = _wiring_suggestions(error)
    assert len(ways) == 3, error
    for way in ways:
        assert _refused_with(_applied(recipe, way)) is None, way


@pytest.mark.parametrize("variant", ["sprout-bump-csp.yaml", METAL_SUPPORT])
def test_every_way_out_of_a_thinned_wiring_validate_suggests_validates_when_applied(
    variant: str,
):
    """Over etch times and bath temperatures, every suggestion of a refusal of the plating's
    minimum (a thicker plating, a shorter etch, a cooler bath), applied alone, is accepted;
    and the sweep meets each kind of suggestion."""
    met: set[str] = set()
    for time_s, temperature_c in itertools.product(
        ("40 s", "2 min", "200 s"), ("35 degC", "45 degC", "52 degC", "60 degC")
    ):
        recipe = reference_recipe(variant)
        recipe["wiring"]["etch"]["copper_etch"].update(time_s=time_s, temperature_c=temperature_c)
        if (refused := _refused_with(recipe)) is None or "plating" not in refused[0]:
            continue
        try:
            SproutBumpRecipe.model_validate(recipe)
        except ValidationError as error:
            text = format_validation_error("recipe", error, SproutBumpRecipe)
        for way in _wiring_suggestions(text):
            met.update(f"{section}.{name}" for section in way for name in way[section])
            applied = _applied(recipe, way)
            assert _refused_with(applied) is None, f"{time_s} at {temperature_c}: {way}"
    assert {
        "plating.thickness_um",
        "mould.spin_rpm",
        "copper_etch.time_s",
        "copper_etch.temperature_c",
    } <= met


@pytest.mark.parametrize("variant", ["sprout-bump-csp.yaml", METAL_SUPPORT])
def test_a_wiring_without_its_etch_is_told_the_whole_section_which_applied_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variant: str
):
    """001 without `wiring.etch` names the whole section at once, the strip and every dip
    the seed (or the foil) needs with the least of each: written in as suggested (the strip
    the reference's), the recipe validates, not refused again for the next missing dip."""
    recipe = reference_recipe(variant)
    strip = recipe["wiring"].pop("etch")["strip"]
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "wiring.etch = none:" in error
    assert "add the etch: a strip that takes the mould off, then " in error
    named = re.findall(r"(\w+_etch) at least (\d+ s) at (\d+ degC)", error)
    if not named:  # one dip: `e.g. at least 322 s at 30 degC`, the copper etch
        least = re.search(r"e\.g\. at least (\d+ s) at (\d+ degC)", error)
        assert least, error
        named = [("copper_etch", least[1], least[2])]
    recipe["wiring"]["etch"] = {"strip": strip} | {
        name: {"time_s": time_s, "temperature_c": temperature_c}
        for name, time_s, temperature_c in named
    }
    assert _refused_with(recipe) is None


def test_a_bath_set_too_cool_is_refused_naming_its_setpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The reference's 40 s copper etch clears the seed in its bath at 30 degC; set to 25 degC
    it may not: the setpoint is what is wrong, so the refusal names `temperature_c` (it named
    `time_s`), and the setpoint it suggests, applied, validates."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["etch"]["copper_etch"]["temperature_c"] = "25 degC"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "wiring.etch.copper_etch.temperature_c = 25 degC: set below the bath's 30 degC "
        "reference, the bath dips within 1 degC of its 25 degC: at 24 degC the 40 s etch takes "
        "0.264 um off, leaving 0.036 um of the seed's 0.3 um of Cu between the patterns, "
        "joining them: the bath set to at least 27 degC, or at least 46 s (claim 001:8)"
    ) in error
    assert "time_s" not in error.split(": ", 2)[1]
    recipe["wiring"]["etch"]["copper_etch"]["temperature_c"] = "27 degC"
    assert (
        main(["validate", "sprout-bump-csp", "--recipe", str(write_recipe(tmp_path, recipe))]) == 0
    )


#: A refusal's figures of what an etch takes off, what it leaves and what was there.
ETCH_FIGURES = (
    re.compile(
        r"takes up to ([\d.]+) um off the wiring's top, leaving ([\d.]+) um where the plating "
        r"held ([\d.]+) um(?: on the ([\d.]+) um foil)?"
    ),
    re.compile(
        r"takes ([\d.]+) um off, leaving ([\d.]+) um of the (?:seed's (?:up to )?)?([\d.]+) um()"
    ),
)


@pytest.mark.parametrize("variant", ["sprout-bump-csp.yaml", METAL_SUPPORT])
def test_a_refusals_figures_add_up_as_given(variant: str):
    """What an etch takes off and what it leaves add up, as printed, to what was there (a
    refusal read `takes up to 0.429 um off ..., leaving 2.62 um where the plating held
    3.05 um`, and a new user met `takes 3 um off, leaving 0.005 um`): over etch times and
    plating minimums, every refusal's figures agree."""
    model = SproutBumpRecipe
    found = 0
    for time_s, minimum in itertools.product(range(10, 200, 7), ("3.05 um", "3.5 um", "4.5 um")):
        recipe = reference_recipe(variant)
        recipe["wiring"]["etch"]["copper_etch"]["time_s"] = f"{time_s} s"
        recipe["wiring"]["plating"]["min_thickness_um"] = minimum
        try:
            model.model_validate(recipe)
        except ValidationError as error:
            text = format_validation_error("recipe", error, model)
            for pattern in ETCH_FIGURES:
                for match in pattern.finditer(text):
                    off, left, held, foil = (float(x or 0) for x in match.groups())
                    assert round(off + left, 3) == round(held + foil, 3), match[0]
                    found += 1
    assert found > 20, "the sweep tests nothing"


def test_a_seed_films_settings_of_its_method_are_required_and_no_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A sputter step without its power, pressure and flow read `wiring.seed.steps.0: sputter
    needs power_w above 0`, the first only, as the template's `default 0 W` led a user to
    leave them out: each is refused at its path; an evaporation given a sputter's power, and
    without its rate, likewise."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    first, second = recipe["wiring"]["seed"]["steps"]
    for key in ("power_w", "pressure_mtorr", "flow_sccm"):
        del first[key]
    second.update(method="evaporate", thickness_nm="300 nm")
    del second["pressure_mtorr"], second["flow_sccm"]
    lines = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe)).splitlines()
    assert [line.removeprefix("packline: error: ").split(": ", 1)[1] for line in lines] == [
        "wiring.seed.steps.0.power_w = none: required to sputter, above 0 W",
        "wiring.seed.steps.0.pressure_mtorr = none: required to sputter, above 0 mTorr",
        "wiring.seed.steps.0.flow_sccm = none: required to sputter, above 0 sccm",
        "wiring.seed.steps.1.rate_nm_s = none: required to evaporate, above 0 nm/s",
        "wiring.seed.steps.1.power_w = 1 kW (1000 W): evaporate takes none: leave it out",
    ]  # in the file's order: a field left out at its step's line


def test_a_foil_without_its_support_is_refused_as_the_support_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`support` defaulted to film, so a recipe giving the metal support's foil without it
    was refused for a foil on a film (001:7) it never asked for: the support has no default,
    and the recipe that leaves it out is refused for that alone, saying what it takes."""
    recipe = reference_recipe(METAL_SUPPORT)
    del recipe["support"]
    assert (
        ": support = none: required, one of film, metal-film: what carries the resin sheet: "
        "a film peeled after lamination (001:7), or a metal film"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def test_each_levels_stud_height_is_judged_by_the_stud_law_on_the_bumps_below(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The lowermost level's studs stand on the pads, each upper level's on the tips of the
    level below (the line's stud law, which the simulated bonder forms its studs by): a level
    1 stack of two stated 60 um and a level 2 stud stated 140 um validated and were held at
    'inspect bump heights'. Each is refused at its own height, with the heights that pass."""
    recipe = reference_recipe("sprout-bump-csp-levels-2.yaml")
    recipe["upper_levels"][0]["bumps"]["height_um"] = "140 um"
    refused = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "upper_levels.0.bumps.height_um = 140 um: one stud (upper_levels.0.bumps.stack) of 32 "
        "um Cu wire at 30 gf and 900 uJ on the bumps below (bumps, standing 57.3-63.5 um) "
        "stands 94.5-105.5 um"
    ) in refused
    assert "give from 90.5 to 109.5 um (claim 001:14)" in refused
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["bumps"]["stack"] = 2
    refused = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "bumps.height_um = 60 um: a stack of 2 studs (bumps.stack)" in refused
    assert "give from 99.4 to 100.5 um (claim 001:1a)" in refused
    recipe["bumps"]["height_um"] = "99.4 um"
    summary = validated_lot_of_one(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert summary["claim_check"]["status"] == "passed"


def test_a_flux_too_thin_to_hold_the_balls_is_refused_and_the_least_it_names_holds_them(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A 5 um flux, inside the ball mounter's range, validated and held the wafer at 'mount
    balls' ('repair missing SAC305 balls ... still mounting after 900 s'): the flux holds a ball
    only 0.15 of its diameter thick (the cell's FLUX_HOLD_RATIO), at its thinnest deposit. It
    is refused naming the least, at which a lot completes with the claim check passed."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["flux_thickness_um"] = "5 um"
    assert (
        "terminals.flux_thickness_um = 5 um: the flux holds a ball only where it is at least "
        "0.15 of its diameter thick, and a print lays it within 5% of the set thickness (1 "
        "sigma, to 3 sigma, the ball mounter's figures): for its 300 um balls give at least 53 "
        "um (claim 001:1d)"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    recipe["terminals"]["flux_thickness_um"] = "53 um"
    summary = validated_lot_of_one(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert summary["claim_check"]["status"] == "passed"


def assert_run_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, recipe: dict, error: str
) -> None:
    """`packline run` of `recipe` exits 2 with validate's refusal `error`, before any tool is
    contacted."""
    path = write_recipe(tmp_path, recipe)
    assert main(["run", "sprout-bump-csp", "--sim", "--recipe", str(path)]) == 2
    assert capsys.readouterr().err == error + (
        "run refused: nothing was run and nothing was recorded; no tool was contacted\n"
    )


@pytest.mark.parametrize(
    ("metal", "melts", "ways_out"),
    [
        (
            "Sn",
            "plated Sn begins to melt at 231.9 degC",
            "plate Cu (it melts at 1084.6 degC), or terminals.reflow.peak_c above the SAC305 "
            "balls' 220 degC liquidus and below 231.9 degC",
        ),
        # the eutectic's solidus, the oven's table: no reflow of SAC305 balls stays below it
        ("SnPb", "plated SnPb begins to melt at 183 degC", "plate Cu (it melts at 1084.6 degC)"),
    ],
    ids=["Sn", "SnPb"],
)
def test_a_wiring_the_balls_reflow_melts_is_refused_by_validate_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], metal: str, melts: str, ways_out: str
):
    """A trial's tin (or tin-lead) wiring under SAC305 balls reflowed at 245 degC validated
    and ran to 'claim check passed', though the reflow melts the wiring the terminals are
    formed on: refused at the plating's metal, naming its melting point, the heat and 001:8,
    by `validate` and by `run` before any tool moves."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["metal"] = metal
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert without_lines(error).endswith(
        f": wiring.plating.metal = {metal}: the wiring the terminals are formed on must stay "
        f"solid through every later heat of the recipe, and {melts}: terminals.reflow.peak_c "
        f"= 245 degC (the balls' reflow) would melt it: {ways_out} (claim 001:8)\n"
    )
    assert len(error.splitlines()) == 1, error
    assert_run_refuses(capsys, tmp_path, recipe, error)


def test_every_level_and_every_later_heat_of_a_melting_wiring_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Each level's wiring on its own: the lowermost, which the next level's studs stand on,
    through the heats of the level above as well as the reflow; a bake hot enough to melt it
    is named with the reflow, each with its way out."""
    recipe = reference_recipe("sprout-bump-csp-levels-2.yaml")
    recipe["wiring"]["plating"]["metal"] = "SnPb"
    recipe["upper_levels"][0]["bumps"]["stage_temperature_c"] = "190 degC"
    recipe["upper_levels"][0]["wiring"]["plating"]["metal"] = "Sn"
    error = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe))
    lines = error.removeprefix("packline: error: ").splitlines()
    assert sorted(line.split(": ", 2)[1] for line in lines) == [
        "upper_levels.0.wiring.plating.metal = Sn",
        "wiring.plating.metal = SnPb",
    ]
    lowermost = next(line for line in lines if ": wiring.plating.metal" in line)
    assert lowermost.endswith(
        "wiring.plating.metal = SnPb: the wiring the next level's studs stand on must stay "
        "solid through every later heat of the recipe, and plated SnPb begins to melt at 183 "
        "degC: upper_levels.0.bumps.stage_temperature_c = 190 degC (a stud bonding), "
        "terminals.reflow.peak_c = 245 degC (the balls' reflow) would melt it: plate Cu (it "
        "melts at 1084.6 degC), or upper_levels.0.bumps.stage_temperature_c below 183 degC "
        "(claim 001:8)"
    )
    uppermost = next(line for line in lines if "upper_levels.0.wiring.plating.metal" in line)
    assert "the wiring the terminals are formed on" in uppermost


def test_a_tin_wiring_under_a_reflow_below_its_melting_point_runs_with_every_claim_passing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The refusal's way out for tin: the SAC305 balls reflowed above their 220 degC liquidus
    and below tin's 231.9 degC validates, and a lot completes with the claim check passed."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["metal"] = "Sn"
    recipe["terminals"]["reflow"]["peak_c"] = "231 degC"
    summary = validated_lot_of_one(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert summary["claim_check"]["status"] == "passed"
    recipe["terminals"]["reflow"]["peak_c"] = "231.9 degC"  # at the melting point: melts it
    refused = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert "terminals.reflow.peak_c = 231.9 degC (the balls' reflow) would melt it" in refused


def test_a_plating_thicker_than_its_mould_is_refused_naming_the_mould(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A trial's 30 um plating through the reference's 11.06 um PR-THICK mould validated and
    passed the claim check, though past the mould's top the metal mushrooms over it and
    bridges the traces: refused by `validate` and `run`, with the thickest plating and the
    fastest spin of a mould that thick, each level on its own. (No solder resist: the
    reference's is no cover over 11 um of wiring, a refusal of its own.)"""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["solder_resist"] = None
    recipe["wiring"]["plating"]["thickness_um"] = "30 um"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert without_lines(error).endswith(
        ": wiring.plating.thickness_um = 30 um: the wiring is plated up the openings of its "
        "mould, 11.064 um of PR-THICK that wiring.mould spins at 4000 rpm and bakes, and plated "
        "past their top it mushrooms over the mould and bridges the traces: give at most 11.06 "
        "um, or a thicker mould, wiring.mould.spin_rpm at most 544 (claim 001:8)\n"
    )
    assert len(error.splitlines()) == 1, error
    assert_run_refuses(capsys, tmp_path, recipe, error)
    recipe["wiring"]["plating"]["thickness_um"] = "11.06 um"
    assert (
        main(["validate", "sprout-bump-csp", "--recipe", str(write_recipe(tmp_path, recipe))]) == 0
    )
    capsys.readouterr()


@pytest.mark.parametrize(("spin_rpm", "refused"), [(544, False), (545, True)])
def test_the_fastest_spin_a_too_thin_mould_refusal_names_holds_the_plating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spin_rpm: int, refused: bool
):
    """The spin the refusal names lays a mould at least as thick as the plating, one rpm
    faster does not; the thicker mould's develop and strip are judged for it on their own."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["plating"]["thickness_um"] = "30 um"
    recipe["wiring"]["mould"]["spin_rpm"] = spin_rpm
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert ("wiring.plating.thickness_um = 30 um" in error) is refused
    assert "wiring.mould.develop_time_s = 120 s" in error


def test_an_upper_levels_plating_is_judged_against_its_own_mould(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = reference_recipe("sprout-bump-csp-levels-2.yaml")
    recipe["upper_levels"][0]["wiring"]["plating"]["thickness_um"] = "12 um"
    recipe["upper_levels"][0]["wiring"]["plating"]["metal"] = "Sn"
    error = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe))
    lines = error.removeprefix("packline: error: ").splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [
        "upper_levels.0.wiring.plating.metal = Sn",
        "upper_levels.0.wiring.plating.thickness_um = 12 um",
    ]  # in the file's order (its keys are written sorted)
    assert "that upper_levels.0.wiring.mould spins at 4000 rpm" in lines[1]


def test_a_plated_metal_melts_at_its_alloys_solidus_or_the_pure_metals_melting_point():
    assert plated_melts_c(Metal.SNPB) == SOLIDUS_C["Sn63Pb37"]
    assert {metal: plated_melts_c(metal) for metal in Metal if metal is not Metal.SNPB} == (
        PURE_METAL_MELTS_C
    )


def test_balls_that_would_touch_at_the_dies_corners_are_refused_naming_the_pads_that_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A new user's 16 pads a side validated, and the mounter bridged two balls at every
    die's corners (`balls bridged = 522 sites`), the wafer held after its wiring was made:
    the balls sit over the pads they are wired to, judged apart as two-process-via's are."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe.setdefault("wafer", {})["pads_per_die_side"] = 16
    recipe["terminals"]["balls_per_unit"] = 64  # a ball on every pad
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "terminals.ball_diameter_um = 300 um: balls on the pads of wafer.pads_per_die_side = 16 "
        "a side of 10 x 10 mm dies at least 17.678 um apart touch their neighbours: "
    ) in error
    assert error.rstrip().endswith(
        "no ball the mounter takes (100 um at the least) stays apart there; these would on a "
        "wafer of at most 8 pads a side (wafer.pads_per_die_side) (claim 001:1d)"
    )
