"""A recipe file's values held against the YAML type each field takes, and every refusal of a
recipe file naming the line it is on (`sequences/engine/recipe_yaml.py`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from packline.cli import main
from packline.files import yaml_written
from packline.sequences.bump_seal_clean import BumpSealCleanRecipe
from packline.sequences.engine import RecipeError, read_recipe_text
from packline.sequences.engine.recipe import parse_recipe
from packline.sequences.engine.recipe_yaml import as_given
from packline.sequences.plasma_clean import PlasmaCleanRecipe


def shipped(name: str) -> str:
    """The text of a shipped recipe."""
    return resources.files("packline.sequences").joinpath("recipes", name).read_text("utf-8")


def refusal_of(model: type, text: str) -> RecipeError:
    """What reading recipe `text` as `model` refuses it with (it must)."""
    with pytest.raises(RecipeError) as refused:
        read_recipe_text(model, text, "r.yaml")
    return refused.value


def test_o2_typed_with_a_zero_is_refused_naming_the_line_the_value_as_written_and_the_gas():
    """A new user's trial: `gas: 02` (O2, typed with a zero) is the number 2 to YAML, and was
    refused as `steps.0.gas = 2`, a value the file never wrote, on no line."""
    text = shipped("plasma-clean.yaml").replace("{gas: O2,", "{gas: 02,", 1)
    assert str(refusal_of(PlasmaCleanRecipe, text)) == (
        "r.yaml: line 6: steps.0.gas = 02: YAML reads it as the number 2, but gas takes text, "
        "one of O2, Ar, forming-gas, CF4/O2 (did you mean 'O2'?); to mean the text 02, write it "
        "in quotes: '02'"
    )


def test_yes_or_no_read_where_text_is_meant_is_refused_saying_how_yaml_read_it():
    text = shipped("plasma-clean.yaml").replace("{gas: Ar,", "{gas: no,", 1)
    assert str(refusal_of(PlasmaCleanRecipe, text)) == (
        "r.yaml: line 7: steps.1.gas = no: YAML reads it as false (as it reads yes, no, on and "
        "off), but gas takes text, one of O2, Ar, forming-gas, CF4/O2; to mean the text no, "
        "write it in quotes: 'no'"
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "1",
            "cleaning.gas_jet = 1: YAML reads it as the number 1, but gas_jet takes true or false",
        ),
        (
            '"true"',
            'cleaning.gas_jet = "true": YAML reads it as text, but gas_jet takes true or false; '
            "write it without quotes",
        ),
    ],
)
def test_a_yes_or_no_given_a_number_or_text_is_refused_not_taken_for_one(written, expected):
    """pydantic takes 1 and "true" for yes: a laser clean with a gas jet the file never said
    yes to. Both are refused, at the field's line."""
    text = shipped("bump-seal-clean-laser.yaml").replace("gas_jet: true", f"gas_jet: {written}")
    data = yaml.safe_load(text)
    assert parse_recipe(BumpSealCleanRecipe, data, "r.yaml").cleaning.gas_jet is True  # lenient
    line = text.splitlines().index(f"  gas_jet: {written}") + 1
    assert str(refusal_of(BumpSealCleanRecipe, text)) == f"r.yaml: line {line}: {expected}"


def test_a_number_in_quotes_is_refused_once_where_a_whole_number_is_meant():
    """`stack: "2"`: pydantic's own refusal (the field is strict) is not said a second time."""
    text = shipped("bump-seal-clean.yaml").replace("stack: 1", 'stack: "2"')
    assert str(refusal_of(BumpSealCleanRecipe, text)) == (
        'r.yaml: line 11: bumps.stack = "2": YAML reads it as text, but stack takes a whole '
        "number; write it without quotes"
    )


def test_every_problem_names_its_line_a_field_left_out_its_sections():
    """A range, a claim's constraint across fields and a field left out, at once: each at
    its line (the one left out at its section's), as a station file's problems are."""
    text = (
        shipped("bump-seal-clean.yaml")
        .replace("sheet_thickness_um: 45 um", "sheet_thickness_um: 65 um")
        .replace("  wire: Cu\n", "")
        .replace("spindle_krpm: 30 krpm", "spindle_krpm: 300 krpm")
    )
    problems = refusal_of(BumpSealCleanRecipe, text).problems
    lines = text.splitlines()

    def line_of(start: str) -> int:
        return next(n for n, line in enumerate(lines, start=1) if line.startswith(start))

    assert [(problem["path"], problem["line"]) for problem in problems] == [
        ("bumps.wire", line_of("bumps:")),
        ("resin.sheet_thickness_um", line_of("  sheet_thickness_um:")),
        ("dicing.spindle_krpm", line_of("  spindle_krpm:")),
    ]  # in the file's order, as its reader goes down it (they had come as the checks ran)


def test_validate_json_gives_each_problem_its_line(tmp_path: Path, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(shipped("plasma-clean.yaml").replace("{gas: Ar,", "{gas: 02,", 1))
    assert main(["validate", "plasma-clean", "--recipe", str(path), "--json"]) == 2
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert (problem["path"], problem["line"]) == ("steps.1.gas", 7)
    assert problem["message"].startswith("steps.1.gas = 02: YAML reads it as the number 2")


def test_a_recipe_not_read_from_a_file_is_refused_without_lines():
    """A run's recorded recipe, data with no file behind it, names no line."""
    with pytest.raises(RecipeError) as refused:
        parse_recipe(PlasmaCleanRecipe, {"steps": []}, "run R recipe")
    assert str(refused.value) == "run R recipe: steps = []: must have at least 1 item"
    assert "line" not in refused.value.problems[0]


@pytest.mark.parametrize("written", ['"two"', '"["', '""'])
def test_text_that_is_no_number_without_its_quotes_is_refused_without_that_advice(written):
    text = shipped("bump-seal-clean.yaml").replace("stack: 1", f"stack: {written}")
    assert str(refusal_of(BumpSealCleanRecipe, text)) == (
        f"r.yaml: line 11: bumps.stack = {written}: YAML reads it as text, but stack takes a "
        "whole number"
    )


@pytest.mark.parametrize(
    ("written", "judged", "stated"),
    [
        ("175 degF", "79.4444 degC", "175 degF (79.4444 degC)"),  # another unit: both
        ("'2 min'", "120 s", "2 min (120 s)"),  # quoted in the file
        ("70 um", "70", "70"),  # a value a check states bare: as judged
        ("70 um", "70 um", "70 um"),
        ("0.07 mm", "70 um", "0.07 mm (70 um)"),
        ("70", "70 um", "70 um"),  # a number the field's unit is taken for
    ],
)
def test_a_refused_value_is_stated_as_written_where_its_unit_differs(
    written: str, judged: str, stated: str
):
    """A newcomer typed `175 degF` and read only `79.4444 degC` in the refusal: a value the
    file gives in another unit is stated as written, then as judged; in the same unit, or
    with none on either side, once."""
    values = yaml_written(f"hold:\n  value: {written}\n")
    assert as_given("hold.value", judged, values) == stated
