"""Every method's recipe refused for a section left out or null: the refusal speaks the
recipe's terms (its fields, what they need), never a model class of the code."""

from __future__ import annotations

import copy
import functools
import operator
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import annotated_types
import pytest
import yaml
from pydantic import BaseModel

from packline.cli import main
from packline.sequences.engine import Method, Recipe, RecipeError, all_methods, read_recipe_text
from packline.sequences.engine.recipe_fields import (
    discriminator_of,
    facts_of,
    fields_of,
    section_kinds,
)
from packline.sequences.engine.recipe_meta import unwrapped

from .helpers import RECIPES, reference_recipe, refusal, without_lines, write_recipe

METHODS = [m for m in all_methods() if m.default_recipe is not None]


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


#: Every recipe model's class name, as a refusal must not spell it.
CLASS_NAMES = re.compile(
    r"\b(" + "|".join(sorted(c.__name__ for c in _subclasses(Recipe))) + r")\b"
)


def _section_model(annotation: object) -> type[BaseModel] | None:
    """The one model a field (or a list's item) holds, through `Annotated` and `| None`;
    None for anything else."""
    annotation = unwrapped(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [unwrapped(a) for a in typing.get_args(annotation) if a is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _sections(
    model: type[BaseModel], data: dict, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """The path of every section (a mapping) the recipe `data` of `model` states, nested ones
    and those in lists too, where the field takes one model."""
    for name, value in data.items():
        info = model.model_fields.get(name)
        if info is None:
            continue
        annotation = unwrapped(info.annotation)
        if isinstance(value, list) and typing.get_origin(annotation) is list:
            item_model = _section_model(typing.get_args(annotation)[0])
            for index, item in enumerate(value):
                if isinstance(item, dict) and item_model is not None:
                    yield (*path, name, index)
                    yield from _sections(item_model, item, (*path, name, index))
        elif isinstance(value, dict):
            yield (*path, name)
            section = _section_model(annotation)
            if section is not None:
                yield from _sections(section, value, (*path, name))


def _refusal(method: Method, recipe: dict) -> str | None:
    """What reading `recipe` as `method`'s refuses it with (None: accepted), each problem's
    line left out (`without_lines`)."""
    try:
        read_recipe_text(method.recipe_model, yaml.safe_dump(recipe), "recipe")
    except RecipeError as error:
        return without_lines(str(error))
    return None


def _left_out(recipe: dict, path: tuple[str | int, ...], how: str) -> dict:
    """A copy of `recipe` with the section at `path` removed (`missing`) or set to null."""
    spoilt = copy.deepcopy(recipe)
    *parents, name = path
    parent = functools.reduce(operator.getitem, parents, spoilt)
    if how == "missing":
        del parent[name]
    else:
        parent[name] = None
    return spoilt


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_a_section_left_out_or_null_is_refused_naming_no_class(method: Method):
    """Each section of the method's default recipe, nested ones and list items too, left out
    and set to null: whatever is refused names no model class, nor pydantic's `Input should
    be a valid dictionary or instance of ...` (a null `interconnects.ti_etch` once did)."""
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    refusals = {
        f"{'.'.join(map(str, path))} {how}": _refusal(method, _left_out(recipe, path, how))
        for path in _sections(method.recipe_model, recipe)
        for how in ("missing", "null")
    }
    refused = {where: error for where, error in refusals.items() if error is not None}
    assert refused, f"{method.name}: no section is required: the test tests nothing"
    for where, error in refused.items():
        assert not CLASS_NAMES.search(error), f"{where}: {error}"
        assert "Input should be" not in error, f"{where}: {error}"


#: Every shipped recipe, with its method: `bump-seal-clean-solder-plated.yaml` holds sections
#: the method's default recipe leaves out.
SHIPPED = [
    (method, entry.name)
    for method in METHODS
    for entry in sorted(RECIPES.iterdir(), key=lambda e: e.name)
    if re.fullmatch(rf"{re.escape(method.name)}(-[a-z0-9-]+)?\.yaml", entry.name)
]


@pytest.mark.parametrize(("method", "name"), SHIPPED, ids=[name for _, name in SHIPPED])
def test_a_section_refused_as_left_out_or_not_a_section_is_named_by_its_whole_path(
    method: Method, name: str
):
    """Each section of every shipped recipe, left out and set to null: a refusal that says a
    section is missing or is no section names that section by its whole path, says null as
    YAML does and names the method whose fields it means. `solder_layer.plating` left out
    read `solder_layer = none: ... (None: none)` (the layer's `method: plating` taken for the
    tag of a union), and null read `solder_layer = None: ... packline methods METHOD ...`."""
    recipe = reference_recipe(name)
    checked, wrong = 0, []
    for path in _sections(method.recipe_model, recipe):
        where = ".".join(map(str, path))
        for how in ("missing", "null"):
            error = _refusal(method, _left_out(recipe, path, how)) or ""
            for line in error.splitlines():
                if "a required section" in line or "must be a section" in line:
                    checked += 1
                    expected = f": {where} = {'none' if how == 'missing' else 'null'}: "
                    if expected not in line or "None" in line or "METHOD" in line:
                        wrong.append(f"{where} {how}: {line}")
    assert checked, f"{name}: no section is required: the test tests nothing"
    assert not wrong, "\n".join(wrong)


def _masks(data: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every `mask` a recipe's YAML tree names by a reticle's name."""
    items = (
        enumerate(data)
        if isinstance(data, list)
        else (data.items() if isinstance(data, dict) else ())
    )
    for key, value in items:
        if key == "mask" and isinstance(value, str):
            yield (*path, key)
        yield from _masks(value, (*path, key))


@pytest.mark.parametrize(("method", "name"), SHIPPED, ids=[name for _, name in SHIPPED])
def test_every_mask_outside_the_reticle_library_is_refused_by_validate(method: Method, name: str):
    """Each mask a shipped recipe names, changed to one the library lacks, is refused naming
    its path: sprout-bump-csp's `terminals.solder_resist.mask` validated and the run held
    both wafers at 'open solder resist' after 2 h of line time."""
    recipe = reference_recipe(name)
    wrong = []
    for path in _masks(recipe):
        spoilt = copy.deepcopy(recipe)
        *parents, key = path
        functools.reduce(operator.getitem, parents, spoilt)[key] = "no-such-reticle"
        where = ".".join(map(str, path))
        expected = f": {where} = 'no-such-reticle': not in the line's reticle library ("
        if expected not in (_refusal(method, spoilt) or ""):
            wrong.append(where)
    assert not wrong, f"{name}: a mask outside the library validates: {wrong}"


def test_every_independent_problem_is_refused_in_one_round(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A recipe with six independent problems (a field's value, a tool's range, a nested
    section's check, a claim across sections, two dips of one etch) is refused with all six,
    one line each naming its field, by `validate` and by `run` before any tool moves: it was
    refused with the first, then the next once that was fixed."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["bumps"]["wire"] = "Xx"
    recipe["wiring"]["mould"]["spin_rpm"] = 99999
    recipe["terminals"]["reflow"]["peak_c"] = "210 degC"
    recipe["resin"]["sheet_thickness_um"] = "70 um"
    recipe["wiring"]["etch"]["copper_etch"]["time_s"] = "20 s"
    recipe["wiring"]["etch"]["barrier_etch"]["time_s"] = "5 s"
    fields = [
        "bumps.wire = 'Xx'",
        "wiring.mould.spin_rpm = 99999",
        "terminals.reflow.peak_c = 210 degC",
        "resin.sheet_thickness_um = 70 um",
        "wiring.etch.copper_etch.time_s = 20 s",
        "wiring.etch.barrier_etch.time_s = 5 s",
    ]
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    lines = error.removeprefix("packline: error: ").splitlines()
    assert all(any(field in line for line in lines) for field in fields), error
    assert len(lines) == len(fields), error
    # in the file's order, as its reader goes down it
    numbers = [int(line.split(": ", 2)[1].removeprefix("line ")) for line in lines]
    assert numbers == sorted(numbers)
    path = write_recipe(tmp_path, recipe)
    assert main(["run", "sprout-bump-csp", "--sim", "--recipe", str(path)]) == 2
    assert capsys.readouterr().err == error + (
        "run refused: nothing was run and nothing was recorded; no tool was contacted\n"
    )


def test_a_problem_that_depends_on_another_is_left_for_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """On the metal support the etch is judged against the foil: without the foil, only the
    foil is refused (001:10), not the too-short etch whose judging needs it."""
    recipe = reference_recipe("sprout-bump-csp-metal-support.yaml")
    del recipe["foil_thickness_um"]
    recipe["wiring"]["etch"]["copper_etch"]["time_s"] = "20 s"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert error.startswith("packline: error: recipe file ")
    assert "foil_thickness_um = none" in error
    assert len(error.splitlines()) == 1, error


#: A refusal of a required section left out: what it is for, and the claims it serves.
MISSING_SECTION = re.compile(r" = none: a required section, missing: .+ \(claims? ([^)]+)\)$")


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_a_required_section_left_out_names_what_it_is_for_and_its_claim(method: Method):
    """Each required section of the method's default recipe, nested ones too, left out: the
    refusal names it, says what it is for and the claims of this method it serves (it read
    pydantic's bare `Field required`; a shared section's own doc may name another method's
    claims, so the field that holds it says what it is for here)."""
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    own = set(method.claims) | set(method.claim_map)
    checked, wrong = 0, []
    paths = dict.fromkeys(
        path[:-1] if isinstance(path[-1], int) else path  # a list of sections, whole
        for path in _sections(method.recipe_model, recipe)
    )
    for path in paths:
        error = _refusal(method, _left_out(recipe, path, "missing")) or ""
        where = ".".join(map(str, path))
        line = next((x for x in error.splitlines() if f": {where}" in x), "")
        if " = none: required" not in line and " a required section" not in line:
            continue  # optional, or refused by the method's own check (it names its claim)
        match = MISSING_SECTION.search(line)
        if not match or not set(match[1].split(", ")) <= own:
            wrong.append(line)
        checked += 1
    assert checked, f"{method.name}: no section is required: the test tests nothing"
    assert not wrong, "\n".join(wrong)


def test_each_levels_problems_are_refused_with_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Two stacked levels: the upper level's resin too thick for its bumps and each level's
    copper etch too short are three independent problems, all refused at once (a refused
    field of one level no longer hides the checks of the others)."""
    recipe = reference_recipe("sprout-bump-csp-levels-2.yaml")
    recipe["upper_levels"][0]["resin"]["sheet_thickness_um"] = "90 um"
    for wiring in (recipe["wiring"], recipe["upper_levels"][0]["wiring"]):
        wiring["etch"]["copper_etch"]["time_s"] = "20 s"
    error = without_lines(refusal(capsys, tmp_path, "sprout-bump-csp", recipe))
    lines = error.removeprefix("packline: error: ").splitlines()
    assert [line.split(": ", 1)[1].split(" = ")[0] for line in lines] == [
        "upper_levels.0.resin.sheet_thickness_um",
        "upper_levels.0.wiring.etch.copper_etch.time_s",
        "wiring.etch.copper_etch.time_s",
    ]  # in the file's order (its keys are written sorted)


@pytest.mark.parametrize(
    ("method", "name", "path"),
    [
        # the solder resist's material defaulted to the mould's PR-THICK, refused by 001:4
        ("sprout-bump-csp", "sprout-bump-csp.yaml", ("terminals", "solder_resist", "material")),
        ("sprout-bump-csp", "sprout-bump-csp.yaml", ("terminals", "solder_resist", "mask")),
        # the solder layer's bath defaulted to the wiring's Cu, refused by 003:21
        (
            "bump-seal-clean",
            "bump-seal-clean-solder-plated.yaml",
            ("solder_layer", "plating", "metal"),
        ),
    ],
)
def test_a_field_left_to_its_template_default_validates(
    method: str, name: str, path: tuple[str, ...]
):
    """A default the template writes is one validate accepts: a recipe that leaves the field
    out reads as the reference one did."""
    recipe = reference_recipe(name)
    *parents, key = path
    del functools.reduce(operator.getitem, parents, recipe)[key]
    (found,) = [m for m in METHODS if m.name == method]
    assert _refusal(found, recipe) is None


def test_a_seed_film_of_0_nm_is_refused_as_given_naming_its_claim():
    """`thickness_nm: 0 nm` (run for the time) on a sputtered seed film read `= none`, without
    the claim: the value given and claim 001:9 are named."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["seed"]["steps"][1]["thickness_nm"] = "0 nm"
    (method,) = [m for m in METHODS if m.name == "sprout-bump-csp"]
    error = _refusal(method, recipe) or ""
    assert ": wiring.seed.steps.1.thickness_nm = 0 nm: the seed's Cu is etched off" in error
    assert error.endswith("(claim 001:9)"), error


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("75 mm", "= '75 mm' (75000 um): must be at most 200 um"),
        ("0.25 mm", "= '0.25 mm' (250 um): must be at most 200 um"),
        ("250 um", "= '250 um': must be at most 200 um"),
        ("250  um", "= '250  um': must be at most 200 um"),
    ],
)
def test_a_quantity_past_its_bounds_in_another_unit_is_shown_in_the_bounds_unit(
    written: str, shown: str
):
    """A tape 75 mm thick was refused as `must be at most 200 um` beside `'75 mm'` alone (a
    new user's trial), the bound in another unit than the value: the value is shown in the
    field's unit as it was judged, and not again where it was written in that unit."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["panel"]["tape_thickness_um"] = written
    (method,) = [m for m in METHODS if m.name == "tape-substrate"]
    assert f": panel.tape_thickness_um {shown} (the polyimide tapes made" in (
        _refusal(method, recipe) or ""
    )


def test_a_misspelt_key_is_refused_once_with_the_closest_fields():
    """A key its section has no field of read `Extra inputs are not permitted`: it names the
    section and the closest fields. The required field it misspells is not refused again as
    left out: `spindel_krpm` was two lines, the key and `spindle_krpm = none: required`."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["resin"]["peel_temperature_c"] = recipe["resin"].pop("peel_below_c")
    mould = recipe["wiring"]["mould"]
    mould["bake_tim_s"] = mould.pop("bake_time_s")
    (method,) = [m for m in METHODS if m.name == "sprout-bump-csp"]
    lines = (_refusal(method, recipe) or "").splitlines()
    (bake,) = [line for line in lines if "bake_tim" in line]
    assert bake.startswith(
        "recipe: wiring.mould.bake_tim_s = '90 s': not a field of wiring.mould: "
        "did you mean bake_time_s"
    ), lines
    (peel,) = [line for line in lines if "peel_" in line]
    assert "not a field of resin: did you mean " in peel, peel
    assert "peel_below_c" in peel, peel


@pytest.mark.parametrize(
    ("reference", "section", "field", "given", "line"),
    [
        (
            "bump-seal-clean-laser.yaml", "dicing", "spindle_krpm", "spindel_krpm",
            "dicing.spindel_krpm = '30 krpm': not a field of dicing: did you mean spindle_krpm?",
        ),
        (
            "bump-seal-clean-solder-mounted.yaml", "mounting", "chips", "devices",
            "mounting.devices = 4: not a field of mounting: did you mean chips?",
        ),
    ],
)  # fmt: skip
def test_a_key_given_for_a_required_field_is_one_line_not_two(
    reference: str, section: str, field: str, given: str, line: str
):
    """The field the key's line names was refused again as left out (`dicing.spindle_krpm =
    none: required, ...`), one slip read as two problems."""
    recipe = reference_recipe(reference)
    recipe[section][given] = recipe[section].pop(field)
    (method,) = [m for m in METHODS if m.name == "bump-seal-clean"]
    assert _refusal(method, recipe) == f"recipe: {line}"


def test_a_key_given_for_a_required_section_is_one_line_not_two():
    """A misspelt required section (`sael:` for `seal:`) was refused first as left out,
    without a line (`seal = none: a required section, missing: ...`), and only then as the
    misspelling that caused it (a new user's trial): the misspelling alone, on its line."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["sael"] = recipe.pop("seal")
    (method,) = [m for m in METHODS if m.name == "tape-substrate"]
    assert _refusal(method, recipe) == (
        "recipe: sael: not a field of the recipe's top level: did you mean seal?"
    )


def test_a_key_indented_a_level_off_is_named_where_it_belongs():
    """A new user's `tolerance_um` indented to the top level, not under `grind:`, read only
    `not a field of the recipe's top level`; a key of `seal:` indented into its `cure:` too."""
    (method,) = [m for m in METHODS if m.name == "tape-substrate"]
    too_little = reference_recipe("tape-substrate.yaml")
    too_little["tolerance_um"] = too_little["grind"].pop("tolerance_um")
    assert _refusal(method, too_little) == (
        "recipe: tolerance_um = '2 um': not a field of the recipe's top level: did you mean "
        "grind.tolerance_um, indented there?"
    )
    # the very name a level off before any name spelt like it (`resin` read `did you mean
    # grind?`, and the seal's resin, required, was never said to be missing)
    resin = reference_recipe("tape-substrate.yaml")
    resin["resin"] = resin["seal"].pop("resin")
    assert _refusal(method, resin) == (
        "recipe: resin = 'EPOXY': not a field of the recipe's top level: did you mean seal.resin, "
        "indented there?"
    )
    too_much = reference_recipe("tape-substrate.yaml")
    too_much["seal"]["cure"]["height_um"] = too_much["seal"].pop("height_um")
    assert _refusal(method, too_much) == (
        "recipe: seal.cure.height_um = '500 um': not a field of seal.cure: did you mean "
        "seal.height_um, indented there?"
    )


@pytest.mark.parametrize(("old", "new"), [("cu_etch", "copper_etch"), ("ti_etch", "barrier_etch")])
def test_a_seed_etch_by_its_former_name_reads_renamed_in_every_method(old: str, new: str):
    """The renamed keys are every method's (two-process-via's were its own): sprout-bump-csp's
    `wiring.etch.cu_etch` reads `renamed copper_etch`, not a misspelt key and a missing etch."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    etch = recipe["wiring"]["etch"]
    etch[old] = etch.pop(new)
    (method,) = [m for m in METHODS if m.name == "sprout-bump-csp"]
    error = _refusal(method, recipe) or ""
    assert error.startswith(f"recipe: wiring.etch.{old} = {{'"), error  # the dip as given
    assert error.endswith(
        f"}}: renamed {new} (the same setting under its new name): write {new}"
    ), error


def _with_models(
    model: type[BaseModel], data: dict, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[type[BaseModel], dict, tuple[str | int, ...]]]:
    """The recipe `data` of `model` and each section in it, nested ones and those in lists
    too, with the model it is of (the chosen member of a choice of sections) and its path."""
    yield model, data, path
    for name, value in data.items():
        info = model.model_fields.get(name)
        if info is None:
            continue
        annotation = unwrapped(info.annotation)
        members = [unwrapped(a) for a in typing.get_args(annotation) if a is not type(None)]
        listed = members[0] if len(members) == 1 else annotation  # `list[X] | None`, or not
        if typing.get_origin(listed) is list:
            members = [unwrapped(typing.get_args(listed)[0])]
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if not isinstance(item, dict):
                continue
            chosen = [
                m
                for m in members or [annotation]
                if isinstance(m, type)
                and issubclass(m, BaseModel)
                and all(
                    item.get(key, kind) == kind for key, kind in [discriminator_of(m) or ("", "")]
                )
            ]
            where = (*path, name) if index is None else (*path, name, index)
            if chosen:
                yield from _with_models(chosen[0], item, where)


def _kinds_keys(
    model: type[BaseModel], data: dict
) -> Iterator[tuple[tuple[str | int, ...], str, tuple[str, ...]]]:
    """Each section of the recipe `data` of `model` that is one of a choice of sections told
    apart by a key: its path, the key and the kinds (`cleaning`, `method`, plasma or laser)."""
    for owner, section, path in _with_models(model, data):
        for name, value in section.items():
            kinds = section_kinds(owner, name)
            if kinds is not None and isinstance(value, dict):
                yield (*path, name), *kinds


#: The shipped recipes with a section of a choice told apart by a key.
WITH_KINDS = [
    (method, name)
    for method, name in SHIPPED
    if any(_kinds_keys(method.recipe_model, reference_recipe(name)))
]


@pytest.mark.parametrize(("method", "name"), WITH_KINDS, ids=[name for _, name in WITH_KINDS])
def test_a_sections_kind_left_out_or_unknown_is_refused_naming_its_key_and_the_kinds(
    method: Method, name: str
):
    """The key that says which kind of section a section is (`cleaning.method`,
    `wiring.seed.process`, `first.process`) left out read pydantic's `wiring.seed: Unable to
    extract tag using discriminator 'process'`: it names the key at its whole path and the
    kinds there are; a kind no member has, likewise."""
    recipe = reference_recipe(name)
    for path, key, kinds in _kinds_keys(method.recipe_model, recipe):
        where = ".".join(map(str, (*path, key)))
        for given, expected in (
            (None, f"recipe: {where} = none: required, one of {', '.join(kinds)}: it says "),
            ("no-such-kind", f"recipe: {where} = 'no-such-kind': must be one of "),
        ):
            spoilt = copy.deepcopy(recipe)
            section = functools.reduce(operator.getitem, path, spoilt)
            if given is None:
                del section[key]
            else:
                section[key] = given
            error = _refusal(method, spoilt) or ""
            assert any(line.startswith(expected) for line in error.splitlines()), error
            assert "discriminator" not in error, error


def test_a_choice_in_another_case_or_misspelt_is_refused_with_the_choice_meant():
    """`gas: o2` (a new user's) and a section's kind misspelt are refused naming the choice
    they differ from in case or by a slip; `N2`, another gas, is offered none."""
    (method,) = [m for m in METHODS if m.name == "plasma-clean"]
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    recipe["steps"][0]["gas"] = "o2"
    recipe["steps"][1]["gas"] = "N2"
    assert (_refusal(method, recipe) or "").splitlines() == [
        "recipe: steps.0.gas = 'o2': must be one of O2, Ar, forming-gas, CF4/O2 (did you mean "
        "'O2'?)",
        "recipe: steps.1.gas = 'N2': must be one of O2, Ar, forming-gas, CF4/O2",
    ]
    (method,) = [m for m in METHODS if m.name == "bump-seal-clean"]
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    recipe["cleaning"]["method"] = "Plasma"
    assert (_refusal(method, recipe) or "").endswith(
        "cleaning.method = 'Plasma': must be one of plasma, laser (did you mean 'plasma'?)"
    )


def test_a_seed_and_a_cleaning_left_without_their_kind_read_so_on_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`packline validate` of sprout-bump-csp without `wiring.seed.process`, and of
    bump-seal-clean without `cleaning.method`: the key, at its path, and the kinds."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    del recipe["wiring"]["seed"]["process"]
    assert refusal(capsys, tmp_path, "sprout-bump-csp", recipe).endswith(
        ": wiring.seed.process = none: required, one of deposition, electroless: it says "
        "which kind of section wiring.seed is (each kind takes its own fields)\n"
    )
    recipe = reference_recipe("bump-seal-clean-laser.yaml")
    del recipe["cleaning"]["method"]
    assert refusal(capsys, tmp_path, "bump-seal-clean", recipe).endswith(
        ": cleaning.method = none: required, one of plasma, laser: it says which kind of "
        "section cleaning is (each kind takes its own fields)\n"
    )


@pytest.mark.parametrize(
    ("method", "name", "changes", "expected"),
    [
        # bump-seal-clean's solder bumps (a choice of sections) refused for their reflow hid
        # the plated area the solder layer states for a count of bumps they no longer make
        (
            "bump-seal-clean",
            "bump-seal-clean-solder-plated.yaml",
            {
                ("bumps", "balls_per_unit"): 16,
                ("bumps", "reflow", "peak_c"): "300 degC",
                ("solder_layer", "plating", "plated_area_cm2"): "0.321 cm^2",
            },
            ["bumps.reflow.peak_c = 300 degC", "solder_layer.plating.plated_area_cm2 = 0.321"],
        ),
        # two-process-via's terminals refused for their reflow hid their count of balls
        (
            "two-process-via",
            "two-process-via.yaml",
            {("terminals", "balls_per_unit"): 16, ("terminals", "reflow", "peak_c"): "210 degC"},
            ["terminals.reflow.peak_c = 210 degC", "terminals.balls_per_unit = 16"],
        ),
    ],
)
def test_a_balls_section_refused_for_its_reflow_has_its_other_fields_checked(
    method: str,
    name: str,
    changes: dict[tuple[str, ...], object],
    expected: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """A section one of its own checks refused (the reflow's peak below the balls' liquidus)
    is no longer left out whole for the checks of the recipe around it: the field the refusal
    names is, and a check reading its other fields (`balls_per_unit`) runs (decision 0057)."""
    recipe = reference_recipe(name)
    for (*parents, key), value in changes.items():
        functools.reduce(operator.getitem, parents, recipe)[key] = value
    lines = refusal(capsys, tmp_path, method, recipe).splitlines()
    assert [next((x for x in lines if f": {field}" in x), "") != "" for field in expected] == [
        True
    ] * len(expected), lines
    assert len(lines) == len(expected), lines


def test_a_list_items_problems_do_not_hide_the_lists_checks():
    """Each seed film left without its settings and its thickness: every setting of every film
    and every film's thickness at once (one film's refusal left the list out whole, and the
    thickness for the next round)."""
    recipe = reference_recipe("sprout-bump-csp.yaml")
    for step in recipe["wiring"]["seed"]["steps"]:
        for key in ("power_w", "pressure_mtorr", "flow_sccm", "thickness_nm"):
            del step[key]
    (method,) = [m for m in METHODS if m.name == "sprout-bump-csp"]
    lines = (_refusal(method, recipe) or "").splitlines()
    assert sorted(line.split(": ")[1].split(" = ")[0] for line in lines) == sorted(
        f"wiring.seed.steps.{index}.{key}"
        for index in (0, 1)
        for key in ("power_w", "pressure_mtorr", "flow_sccm", "thickness_nm")
    ), lines


def _defaulted(model: type[BaseModel], data: dict) -> Iterator[tuple[str | int, ...]]:
    """The path of each field the recipe `data` of `model` gives that has a default, which a
    recipe may leave out (not a section, not one a choice of sections is told apart by)."""
    for owner, section, path in _with_models(model, data):
        for facts in fields_of(owner):
            selector = facts.kind == "one of" and len(facts.choices) == 1
            defaulted = not (facts.required or facts.sections or facts.needed_when or selector)
            if defaulted and facts.name in section:
                yield (*path, facts.name)


def _leaving_out_defaults_refused(method: Method, name: str) -> list[str]:
    """Each field of shipped recipe `name` that has a default, left out: the refusals."""
    recipe = reference_recipe(name)
    refused = []
    for path in _defaulted(method.recipe_model, recipe):
        spoilt = copy.deepcopy(recipe)
        *parents, key = path
        del functools.reduce(operator.getitem, parents, spoilt)[key]
        error = _refusal(method, spoilt)
        if error is not None:
            refused.append(f"{'.'.join(map(str, path))} left out: {error}")
    return refused


#: The shipped recipes of sprout-bump-csp and bump-seal-clean.
OWN_DEFAULTS = [(m, n) for m, n in SHIPPED if m.name in ("sprout-bump-csp", "bump-seal-clean")]


@pytest.mark.parametrize(("method", "name"), OWN_DEFAULTS, ids=[n for _, n in OWN_DEFAULTS])
def test_every_field_a_recipe_leaves_to_its_default_validates(method: Method, name: str):
    """The template and `packline methods` never show a default validate refuses: each field of
    a shipped recipe that has a default, left out, validates. A seed film's `power_w`,
    `pressure_mtorr` and `flow_sccm` defaulted to 0 (refused to sputter), a laser's `suction`
    to false (refused with a gas jet, 003:18), sprout-bump-csp's `support` to film (refused
    with a foil, 001:7): now they are required where needed, or default to what validates."""
    assert not _leaving_out_defaults_refused(method, name)


def _leaves(data: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every scalar value in the recipe `data` (in sections and lists)."""
    if isinstance(data, dict):
        for name, value in data.items():
            yield from _leaves(value, (*path, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_a_value_of_the_wrong_kind_is_refused_in_the_recipes_words(method: Method):
    """Every value of the method's default recipe given as a word where it takes a number, a
    choice or a switch: whatever is refused says what the field takes, never pydantic's `Input
    should be a valid integer` nor a Python type."""
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    refused = {}
    for path in _leaves(recipe):
        spoilt = copy.deepcopy(recipe)
        *parents, name = path
        functools.reduce(operator.getitem, parents, spoilt)[name] = "lots"
        error = _refusal(method, spoilt)
        if error is not None:
            refused[".".join(map(str, path))] = error
    assert refused, f"{method.name}: no value is refused: the test tests nothing"
    for where, error in refused.items():
        assert "Input should" not in error, f"{where}: {error}"
        assert not re.search(r"\b(integer|float|bool|str|dict)\b", error), f"{where}: {error}"


@pytest.mark.parametrize(
    ("method_name", "change", "expected"),
    [
        ("bump-seal-clean", ("bumps", "wire", "Ag"), "bumps.wire = 'Ag': must be one of Au, Cu"),
        (
            "bump-seal-clean",
            ("bumps", "stack", "two"),
            "bumps.stack = two: YAML reads it as text, but stack takes a whole number",
        ),
        (
            "tape-substrate",
            ("fill", "tolerance", "5 %"),
            "fill.tolerance = 5 %: YAML reads it as text, but tolerance takes a number",
        ),
    ],
)
def test_a_choice_or_number_refused_says_what_it_takes(
    method_name: str, change: tuple[str, str, str], expected: str
):
    """A choice given a value not among them lists the choices as the recipe spells them; a
    number given text says a (whole) number is needed (a new user read pydantic's `Input should
    be 'Au' or 'Cu'` and `unable to parse string as a number`)."""
    method = next(m for m in METHODS if m.name == method_name)
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    section, name, value = change
    recipe[section][name] = value
    assert expected in (_refusal(method, recipe) or "")


@pytest.mark.parametrize(("method", "name"), SHIPPED, ids=[name for _, name in SHIPPED])
def test_every_shipped_recipe_validates(
    method: Method, name: str, capsys: pytest.CaptureFixture[str]
):
    """`packline validate` takes every shipped recipe: validating has no lot, so a check of
    what a lot can make (a stack of five panels) waits for the run (a lot of 1 once refused
    tape-substrate-stacked.yaml)."""
    assert main(["validate", method.name, "--recipe", str(RECIPES / name)]) == 0
    assert " is valid " in capsys.readouterr().out


def test_a_list_given_as_a_mapping_says_a_list_is_needed():
    """A plasma clean's steps written as one mapping, not a list of them: refused saying how a
    list is written, not pydantic's `Input should be a valid list` (a new user's re-check)."""
    (method,) = [m for m in METHODS if m.name == "bump-seal-clean"]
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    plasma = recipe["cleaning"]["plasma"]
    plasma["steps"] = plasma["steps"][0]
    assert "cleaning.plasma.steps: must be a list, an item a line, each after a dash (- ...)" in (
        _refusal(method, recipe) or ""
    )


def test_an_empty_list_of_steps_says_it_needs_one():
    """An empty step list read pydantic's `List should have at least 1 item after
    validation, not 0`."""
    (method,) = [m for m in METHODS if m.name == "plasma-clean"]
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    recipe["steps"] = []
    assert _refusal(method, recipe) == "recipe: steps = []: must have at least 1 item"


def _models_of(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`model` and every section model it holds, nested ones too, each once."""
    seen: set[type[BaseModel]] = set()
    waiting = [model]
    while waiting:
        found = waiting.pop()
        if found not in seen:
            seen.add(found)
            yield found
            waiting += [section for facts in fields_of(found) for section in facts.sections]


def _own_bounds(info: typing.Any) -> list[object]:
    """The bounds a field declares itself (`Field(ge=..., le=...)`), in its metadata or in
    the `Annotated` member of an optional field's union; not a tool's (`Feeds`)."""
    metadata = list(info.metadata)
    for member in typing.get_args(info.annotation):
        if typing.get_origin(member) is typing.Annotated:
            for item in member.__metadata__:
                metadata += getattr(item, "metadata", [item])
    return [item for item in metadata if isinstance(item, annotated_types.BaseMetadata)
            and type(item).__name__ in ("Ge", "Gt", "Le", "Lt")]  # fmt: skip


def _reason_of(model: type[BaseModel], name: str) -> str:
    """Why field `name` of `model` has its own range (`Because`), as validate says it."""
    facts = facts_of(model, name)
    assert facts is not None
    return facts.range_reason


def test_every_fields_own_range_says_why():
    """A new user's `fill.tolerance = 0.5: must be at most 0.05` said no more, where a value
    past a tool's range names the tool and a claim's constraint its claim: every field that
    bounds itself says why (`Because`: the claim it serves or the physical reason), but for
    a quantity above 0 alone, which needs none."""
    bounded = {
        f"{model.__name__}.{name}": _reason_of(model, name)
        for method in METHODS
        for model in _models_of(method.recipe_model)
        for name, info in model.model_fields.items()
        if (bounds := _own_bounds(info))
        and {(type(b).__name__, getattr(b, "gt", getattr(b, "ge", None))) for b in bounds}
        not in ({("Gt", 0)}, {("Ge", 0)})
    }
    assert {"FillStep.tolerance", "PanelRecipe.rows", "ReflowRecipe.soak_s"} <= set(bounded)
    assert sorted(field for field, reason in bounded.items() if not reason) == []


def test_a_range_refusal_says_why_the_range_is_what_it_is():
    (method,) = [m for m in METHODS if m.name == "tape-substrate"]
    recipe = yaml.safe_load(method.default_recipe_text()[0])
    recipe["fill"]["tolerance"] = 0.5
    assert _refusal(method, recipe) == (
        "recipe: fill.tolerance = 0.5: must be at most 0.05 (the dispenser's camera counts a "
        "hole more than 5% off its volume as over- or underfilled, whatever the recipe allows) "
        "(claim 000:b)"
    )
    recipe["fill"]["tolerance"] = 0.05
    recipe["panel"]["rows"] = 21
    assert _refusal(method, recipe) == (
        "recipe: panel.rows = 21: must be at most 20 (the largest array of units the panel "
        "frames of the line hold: 20 x 40)"
    )
