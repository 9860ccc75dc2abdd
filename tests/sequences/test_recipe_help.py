"""A method's recipe explained (template, JSON schema, field reference) says exactly what
`packline validate` enforces, for every method."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
import yaml
from pydantic import BaseModel

from packline.cli import main
from packline.sequences.engine import (
    RecipeError,
    all_methods,
    field_reference,
    get_method,
    read_recipe_text,
    recipe_schema,
    recipe_template,
)
from packline.sequences.engine.catalogue import shipped
from packline.sequences.engine.recipe import parse_recipe
from packline.sequences.engine.recipe_fields import FieldFacts, discriminator_of, fields_of
from packline.units import to_magnitude

from .helpers import RECIPES

#: The methods packline ships (another test module may register a method of its own).
METHODS = [m.name for m in all_methods() if shipped(m)]


def declared_units(model: type[BaseModel]) -> Iterator[str]:
    for facts in fields_of(model):
        if facts.unit:
            yield facts.unit
        for section in facts.sections:
            yield from declared_units(section)


@pytest.mark.parametrize("name", METHODS)
def test_every_unit_a_field_declares_is_a_unit(name):
    # A `Unit` is checked when the registry first converts it, not when a recipe model is
    # declared (pint's registry is built on first use): a misspelt unit fails here.
    for unit in set(declared_units(get_method(name).recipe_model)):
        assert to_magnitude(f"1 {unit}", unit) == 1.0


@pytest.mark.parametrize("name", METHODS)
def test_the_template_as_written_is_the_reference_recipe(name):
    method = get_method(name)
    template = recipe_template(method)
    recipe = read_recipe_text(method.recipe_model, template, "template")
    reference, _ = method.load_default_recipe()
    assert recipe.recipe_hash() == reference.recipe_hash()


@pytest.mark.parametrize("name", METHODS)
def test_the_template_names_every_field_including_the_options_left_out(name):
    method = get_method(name)
    template = recipe_template(method)
    keys = {line.lstrip("# ").lstrip("- ").split(":", 1)[0] for line in template.splitlines()}
    for row in field_reference(method):
        assert row["path"].rsplit(".", 1)[-1] in keys, row["path"]


def test_the_template_comments_say_the_range_validate_enforces():
    method = get_method("bump-seal-clean")
    template = recipe_template(method)
    line = next(x for x in template.splitlines() if x.strip().startswith("wire_diameter_um:"))
    assert "18-50 um (the wire_bonder range of wire_diameter_um); required" in line
    data = yaml.safe_load(template)
    data["bumps"]["wire_diameter_um"] = "51 um"
    with pytest.raises(RecipeError, match=r"bumps.wire_diameter_um = '51 um': must be at most 50"):
        read_recipe_text(method.recipe_model, yaml.safe_dump(data), "edited template")
    laser = next(x for x in template.splitlines() if "pulses_per_site:" in x)
    assert laser.startswith("#")  # the laser option, left out by the plasma reference
    assert "1-1000 (the laser range of clean_pulses)" in laser


def test_the_schema_carries_units_ranges_and_docs():
    schema = recipe_schema(get_method("bump-seal-clean"))
    json.dumps(schema)  # plain JSON
    bumps = schema["$defs"]["BumpRecipe"]["properties"]
    assert bumps["wire_diameter_um"]["x-unit"] == "um"
    assert (bumps["wire_diameter_um"]["x-minimum"], bumps["wire_diameter_um"]["x-maximum"]) == (
        18,
        50,
    )
    assert (
        bumps["wire_diameter_um"]["x-range-source"] == "the wire_bonder range of wire_diameter_um"
    )
    assert bumps["height_tolerance_um"]["x-exclusiveMinimum"] == 0
    assert (bumps["stack"]["minimum"], bumps["stack"]["maximum"]) == (1, 4)  # not a quantity
    assert "held" in bumps["height_tolerance_um"]["description"]
    steps = schema["$defs"]["PlasmaCleanRecipe"]["properties"]["steps"]
    assert steps["x-counts-items"] is True
    assert steps["x-maximum"] == 8


def test_the_cli_writes_a_template_to_a_new_file_only(tmp_path, capsys):
    target = tmp_path / "mine.yaml"
    assert main(["recipe", "template", "plasma-clean", "--to", str(target)]) == 0
    assert main(["validate", "plasma-clean", "--recipe", str(target)]) == 0
    target.write_text("my edits\n")
    assert main(["recipe", "template", "plasma-clean", "--to", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: --to {target}: that file exists, and is never written over: give a "
        "new name, or remove it first\n"
    )
    assert target.read_text() == "my edits\n"  # nothing a user wrote is lost


def test_a_reference_recipe_is_run_by_its_name_from_anywhere(tmp_path, capsys, monkeypatch):
    """A new user's `--recipe sequences/recipes/bump-seal-clean-laser.yaml`, as the pages
    wrote it, worked only in the checkout: the reference recipes ship inside the package."""
    monkeypatch.chdir(tmp_path)
    assert main(["methods", "bump-seal-clean", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)["reference_recipes"]
    assert names == sorted(
        p.name.removesuffix(".yaml") for p in RECIPES.iterdir() if p.name.startswith("bump-seal")
    )
    for given in ("bump-seal-clean-laser", "bump-seal-clean-laser.yaml"):
        assert main(["validate", "bump-seal-clean", "--recipe", given]) == 0
        assert "reference recipe bump-seal-clean-laser.yaml is valid" in capsys.readouterr().out
    own = ", ".join(names)
    # another method's reference recipe is said to be one, not a file that cannot be read
    assert main(["validate", "plasma-clean", "--recipe", "bump-seal-clean-laser"]) == 2
    assert capsys.readouterr().err == (
        "packline: error: --recipe bump-seal-clean-laser: a reference recipe of bump-seal-clean, "
        "not of plasma-clean (run or validate it with method bump-seal-clean); plasma-clean's "
        "reference recipes: plasma-clean, plasma-clean-forming-gas\n"
    )
    assert main(["validate", "bump-seal-clean", "--recipe", "bump-seal-clen-laser"]) == 2
    assert capsys.readouterr().err == (
        "packline: error: recipe file bump-seal-clen-laser: cannot read it (No such file or "
        f"directory); or name one of bump-seal-clean's reference recipes: {own} (did you mean "
        "'bump-seal-clean-laser'?)\n"
    )
    # a path is a file, never a name: one that is not there is refused, not read as the name
    assert main(["validate", "bump-seal-clean", "--recipe", "./bump-seal-clean-laser.yaml"]) == 2
    assert "bump-seal-clean-laser.yaml: cannot read it (No such file" in capsys.readouterr().err
    # a file of that name where the command runs is the file, not the reference recipe
    (tmp_path / "bump-seal-clean-laser.yaml").write_text("bumps: 3\n")
    assert main(["validate", "bump-seal-clean", "--recipe", "bump-seal-clean-laser.yaml"]) == 2
    assert "recipe file bump-seal-clean-laser.yaml" in capsys.readouterr().err
    # and the bare name then could be either: refused, saying how to give the file
    assert main(["validate", "bump-seal-clean", "--recipe", "bump-seal-clean-laser"]) == 2
    assert capsys.readouterr().err == (
        "packline: error: --recipe bump-seal-clean-laser: names both the reference recipe "
        "bump-seal-clean-laser and the file bump-seal-clean-laser.yaml here; give --recipe "
        "./bump-seal-clean-laser.yaml for the file\n"
    )
    # and a copy of one to edit
    target = tmp_path / "mine.yaml"
    argv = ["recipe", "template", "bump-seal-clean", "--from", "bump-seal-clean-laser"]
    assert main([*argv, "--to", str(target)]) == 0
    assert target.read_text() == RECIPES.joinpath("bump-seal-clean-laser.yaml").read_text()
    assert main(["recipe", "template", "bump-seal-clean", "--from", "laser"]) == 2
    assert "--from laser: no reference recipe of bump-seal-clean is named so; " in (
        capsys.readouterr().err
    )
    # another method's, named by mistake: whose it is (a new user's trial read only that it
    # was not this method's, where validate names the method a recipe is for)
    assert main(["recipe", "template", "tape-substrate", "--from", "two-process-via"]) == 2
    assert capsys.readouterr().err.startswith(
        "packline: error: --from two-process-via: no reference recipe of tape-substrate is "
        "named so; it is a reference recipe of two-process-via (`packline recipe template "
        "two-process-via --from two-process-via`); tape-substrate's reference recipes: "
        "tape-substrate, "
    )


def test_the_cli_shows_one_method_and_its_schema(capsys):
    assert main(["methods", "bump-seal-clean", "--json"]) == 0
    detail = json.loads(capsys.readouterr().out)
    paths = {row["path"]: row for row in detail["recipe"]}
    assert paths["cleaning[method: laser].pulses_per_site"]["range"].startswith("1-1000")
    assert paths["cleaning[method: plasma].plasma.steps.N.time_s"]["takes"] == "s"
    assert paths["dicing"]["default"] == "not done"
    assert {c["claim"] for c in detail["claims"]} >= {"003:7.1", "003:23"}
    assert main(["recipe", "schema", "plasma-clean"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "plasma-clean recipe"
    assert main(["recipe", "schema", "no-such-method"]) == 2
    assert "no-such-method" in capsys.readouterr().err


def test_a_default_is_shown_with_its_unit():
    (row,) = [
        r for r in field_reference(get_method("plasma-clean")) if r["path"] == "batch_timeout_s"
    ]
    assert row["default"] == "600 s"
    line = next(
        x for x in recipe_template(get_method("plasma-clean")).splitlines() if "batch_" in x
    )
    assert line.startswith("batch_timeout_s: 600 s  #")
    assert line.endswith("default 600 s")


def test_an_optional_quantity_is_shown_with_its_unit_and_the_range_validate_enforces():
    (row,) = [
        r
        for r in field_reference(get_method("sprout-bump-csp"))
        if r["path"] == "wiring.plating.plated_area_cm2"
    ]
    assert row["takes"] == "cm^2"
    assert row["range"] == "above 0 cm^2"
    data = yaml.safe_load(recipe_template(get_method("sprout-bump-csp")))
    data["wiring"]["plating"]["plated_area_cm2"] = "0 cm^2"
    with pytest.raises(RecipeError, match=r"plated_area_cm2 = '0 cm\^2': must be above 0"):
        read_recipe_text(get_method("sprout-bump-csp").recipe_model, yaml.safe_dump(data), "t")


def test_a_wirings_minimum_thickness_is_shown_with_the_claims_bar():
    """`min_thickness_um` is above 0 for any plating (a solder layer too), but a plated
    wiring's must keep the claim check's 3 um after the etch after it: where the recipe is
    explained (methods, template, schema) the range says what validate checks, the metal
    support's foil counted (it read "plus what the etch after it takes off", as if the foil
    did not count)."""
    method = get_method("sprout-bump-csp")
    (row,) = [r for r in field_reference(method) if r["path"] == "wiring.plating.min_thickness_um"]
    shown = (
        "at least 3 um for a plated wiring, and at least 3 um plus the most the etch after it "
        "takes off, less the metal support's foil under it"
    )
    why = (
        "the thinnest deposit is at most what the step plates, and the electroplater plates "
        "100 um at most (its thickness_um range)"
    )
    assert row["range"] == f"above 0 um, at most 100 um ({why}); {shown}"
    assert shown in recipe_template(method)
    plating = recipe_schema(method)["$defs"]["WiringPlatingStep"]["properties"]["min_thickness_um"]
    assert plating["x-minimum-for"] == {"minimum": 3.0, "use": shown.split(" for ", 1)[1]}


@pytest.mark.parametrize("name", METHODS)
def test_no_section_reads_required_then_optional(name):
    """A section the template writes commented out (an option the reference leaves out) is
    told once: a required one, or a dip a recipe needs when its seed or support has the
    metal, reads required, and no `# optional:` line under it says otherwise (the commented
    dips of tape-substrate's metal substrate and two-process-via's passivation once did)."""
    lines = recipe_template(get_method(name)).splitlines()
    for line, after in itertools.pairwise(lines):
        if line.rstrip().endswith(("; required", "left out otherwise")):
            assert "# optional:" not in after, f"{line}\n{after}"


@pytest.mark.parametrize(
    ("name", "path", "requirement"),
    [
        ("sprout-bump-csp", "wiring.etch", "required"),
        ("sprout-bump-csp", "wiring.etch.barrier_etch", "required when the seed has Ti or TiW"),
        ("sprout-bump-csp", "wiring.seed", "required with support film"),
        ("two-process-via", "interconnects.copper_etch", "required when the seed has Cu"),
        ("two-process-via", "interconnects.barrier_etch", "required when the seed has Ti or TiW"),
    ],
)
def test_a_dip_refused_when_left_out_reads_required(name, path, requirement):
    """An etch validate refuses left out (naming the least etch) is optional only to the
    model: the reference and the template say when it is required, never `optional (null or
    left out: not done)`."""
    (row,) = [r for r in field_reference(get_method(name)) if r["path"] == path]
    assert row["default"].startswith(requirement), row
    key = path.split(".")[-1]
    template = recipe_template(get_method(name)).splitlines()
    line = next(x for x in template if x.lstrip().startswith(f"{key}:"))
    assert f"; {requirement}" in line
    assert "optional" not in line


def test_the_foils_range_is_the_one_validate_enforces():
    """The metal support's foil reads `above 0 um, at most 20 um` wherever it is explained, as
    validate refuses 0 um (it read 0-20 um, and 0 um was refused by another check)."""
    method = get_method("sprout-bump-csp")
    (row,) = [r for r in field_reference(method) if r["path"] == "foil_thickness_um"]
    assert row["range"] == "above 0 um, at most 20 um (the laminator range of foil_thickness_um)"
    recipe = yaml.safe_load(RECIPES.joinpath("sprout-bump-csp-metal-support.yaml").read_text())
    recipe["foil_thickness_um"] = "0 um"
    with pytest.raises(RecipeError, match=r"foil_thickness_um = '0 um': must be above 0 um"):
        read_recipe_text(method.recipe_model, yaml.safe_dump(recipe), "t")


@pytest.mark.parametrize(
    "name", ["sprout-bump-csp", "bump-seal-clean", "two-process-via", "tape-substrate"]
)
def test_an_optional_section_says_what_leaving_it_out_means_once(
    name: str, capsys: pytest.CaptureFixture[str]
):
    """The template read `dicing:  # claim 001:2: dice ... (None: leave the wafer whole);
    optional (null or left out: not done)`: two statements of one fact, the first in Python's
    word for YAML's null. The requirement says it, once."""
    assert main(["recipe", "template", name]) == 0
    template = capsys.readouterr().out
    optional = [line for line in template.splitlines() if "optional (null or left out" in line]
    assert optional
    assert [line for line in template.splitlines() if "None" in line] == []


def test_the_key_of_a_choice_of_sections_reads_required_wherever_it_chooses(
    capsys: pytest.CaptureFixture[str],
):
    """A seed's `process` defaults to deposition (where it is the only kind of seed, as in
    two-process-via), but `wiring.seed` is a choice the key tells apart, and validate refuses
    it left out: the template and `packline methods` read it required there, not `default
    deposition`."""
    assert main(["recipe", "template", "sprout-bump-csp"]) == 0
    template = capsys.readouterr().out
    seeds = [line for line in template.splitlines() if line.strip("# ").startswith("process:")]
    assert seeds
    assert all(line.endswith("  # required") for line in seeds), seeds
    (method,) = [m for m in all_methods() if m.name == "sprout-bump-csp"]
    rows = [r for r in field_reference(method) if r["path"].endswith("].process")]
    assert rows
    assert {row["default"] for row in rows} == {"required"}, rows


def optional_sections(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """The dotted path of every optional section of `model` and of the sections below it
    (an option of the method: left out, not done)."""
    for facts in fields_of(model):
        if not facts.sections or facts.kind == "list of sections":
            continue
        path = f"{prefix}{facts.name}"
        if facts.optional_section and facts.needed_when is None:
            yield path
        for section in facts.sections:
            yield from optional_sections(section, f"{path}.")


def section_member(sections: tuple[type[BaseModel], ...], value: object) -> type[BaseModel]:
    """The member of a choice of sections a value selects by its key (the only one when
    there is no choice)."""
    if len(sections) == 1:
        return sections[0]
    for section in sections:
        selector = discriminator_of(section)
        if (
            selector is not None
            and isinstance(value, dict)
            and value.get(selector[0]) == selector[1]
        ):
            return section
    raise AssertionError(f"no member of {sections} takes {value!r}")


def with_its_defaults(
    model: type[BaseModel], given: dict | None, path: str, defaulted: set[str]
) -> dict:
    """A section of `model` as its template's block, uncommented, reads: every field that has
    a default at it (left out), every field the user must choose as `given` chooses it (a
    reference recipe that uses the section; left out without one), and the key that tells a
    choice of sections apart. Adds the paths of the fields left to their defaults to
    `defaulted`."""
    given = given or {}
    selector = discriminator_of(model)
    tree: dict = {selector[0]: selector[1]} if selector is not None else {}
    for facts in fields_of(model):
        if facts.name in tree:
            continue  # the key of a choice of sections: given above
        value = given.get(facts.name)
        where = f"{path}.{facts.name}"
        if facts.sections and isinstance(value, list):
            tree[facts.name] = [
                with_its_defaults(
                    section_member(facts.sections, item), item, f"{where}.{i}", defaulted
                )
                for i, item in enumerate(value)
            ]
        elif facts.sections and isinstance(value, dict):
            member = section_member(facts.sections, value)
            tree[facts.name] = with_its_defaults(member, value, where, defaulted)
        elif facts.required:
            if value is not None:
                tree[facts.name] = value
        elif not facts.sections:
            defaulted.add(where)
    return tree


def uncommented(method_name: str, path: str) -> Iterator[tuple[str, dict, set[str]]]:
    """Each recipe of `method_name` with its optional section at `path` as the template's
    block, uncommented, reads (`with_its_defaults`): in each reference recipe that uses it,
    its choices kept, or in the default recipe with none chosen where no reference uses
    it; with the paths of the fields left to their defaults."""
    method = get_method(method_name)
    *parents, name = path.split(".")
    users = []
    for reference in method.reference_recipes():
        tree = yaml.safe_load(RECIPES.joinpath(f"{reference}.yaml").read_text())
        parent, model = tree, method.recipe_model
        for key in parents:
            parent = parent.get(key) or {}
            model = section_member(field_named(model, key).sections, parent)
        if isinstance(parent.get(name), dict):
            users.append((reference, tree, parent, model))
    if not users:
        tree = yaml.safe_load(RECIPES.joinpath(f"{method_name}.yaml").read_text())
        parent, model = tree, method.recipe_model
        for key in parents:
            parent = parent.setdefault(key, {})
            model = section_member(field_named(model, key).sections, parent)
        users.append((f"{method_name} (no reference uses it)", tree, parent, model))
    for reference, tree, parent, model in users:
        defaulted: set[str] = set()
        section = section_member(field_named(model, name).sections, parent.get(name))
        parent[name] = with_its_defaults(section, parent.get(name), path, defaulted)
        yield reference, tree, defaulted


def field_named(model: type[BaseModel], name: str) -> FieldFacts:
    """What field `name` of `model` accepts."""
    (found,) = [facts for facts in fields_of(model) if facts.name == name]
    return found


OPTIONS = [
    (name, path) for name in METHODS for path in optional_sections(get_method(name).recipe_model)
]


def chosen_paths(tree: dict, prefix: str = "") -> Iterator[str]:
    """The dotted path of every setting and section a recipe tree gives."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from chosen_paths(value, f"{path}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from chosen_paths(item, f"{path}.{index}.")


@pytest.mark.parametrize(("name", "path"), OPTIONS)
def test_an_optional_section_uncommented_with_its_defaults_is_refused_only_for_a_choice(
    name: str, path: str
):
    """`packline recipe template two-process-via` offered `passivation.mask.mask:
    wiring-level-1` as its default, which validate refused (a line reticle, where 002:15
    opens the passivation through a hole reticle), and tape-substrate's metal_substrate
    resist likewise (a land reticle is wanted). Every optional section of every method,
    uncommented with its defaults (and the fields the user must choose as a reference recipe
    using it chooses them), validates, or is refused only for a reason that names a field
    the user chose (the area-array panel's first ball site is not the default 0, naming
    panel.area_array)."""
    for reference, tree, defaulted in uncommented(name, path):
        try:
            parse_recipe(get_method(name).recipe_model, tree, "r.yaml")
        except RecipeError as refused:
            chosen = [p for p in chosen_paths(tree) if "." in p]
            at_defaults = [
                problem
                for problem in refused.problems
                if any(
                    problem["path"] == f or problem["path"].startswith(f"{f}.") for f in defaulted
                )
                and not any(
                    p in problem["message"] and not problem["path"].startswith(p) for p in chosen
                )
            ]
            assert at_defaults == [], (reference, at_defaults)
