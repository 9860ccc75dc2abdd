"""Recipe fields say which tool setpoint they feed; one walk lists them with their YAML paths."""

from __future__ import annotations

import types
import typing
from importlib import resources
from typing import Annotated

import pytest
import yaml
from pydantic import BaseModel

from packline.drivers.equipment import Limit
from packline.drivers.registry import TOOL_KINDS
from packline.sequences.bump_seal_clean import BumpSealCleanRecipe
from packline.sequences.engine import Feeds, Recipe, RecipeError, all_methods, read_recipe_text
from packline.sequences.engine.recipe import ToolSetpoint
from packline.sequences.engine.request import check_tool_limits, tool_limits
from packline.station import parse_station
from packline.units import Unit

from .helpers import without_lines


def declared_feeds(model: type[BaseModel], path: str = "") -> list[tuple[str, Feeds]]:
    """Every `Feeds` of a recipe model and its sections (lists and unions too), by field path."""
    found = []
    for name, info in model.model_fields.items():
        field_path = f"{path}{name}"
        found += [(field_path, meta) for meta in info.metadata if isinstance(meta, Feeds)]
        found += [(field_path, meta) for meta in _optional_feeds(info.annotation)]
        for section in _models_in(info.annotation):
            found += declared_feeds(section, f"{field_path}.")
    return found


def _optional_feeds(annotation: object) -> list[Feeds]:
    """The `Feeds` of an optional value: `Annotated[float, Feeds(...)] | None`."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    members = [arg for arg in typing.get_args(annotation) if typing.get_origin(arg) is Annotated]
    return [meta for arg in members for meta in arg.__metadata__ if isinstance(meta, Feeds)]


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (list, tuple, typing.Union, types.UnionType, Annotated):
        return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]
    return []


FEEDS = [
    (method.name, path, feeds)
    for method in all_methods()
    for path, feeds in declared_feeds(method.recipe_model)
]


@pytest.mark.parametrize(("method", "path", "feeds"), FEEDS, ids=[f"{m}:{p}" for m, p, _ in FEEDS])
def test_every_feeds_names_a_setpoint_a_tool_of_its_role_has(method: str, path: str, feeds: Feeds):
    kinds = [kind for kind in TOOL_KINDS.values() if kind.role == feeds.role]
    assert kinds, f"{method}: {path} feeds role {feeds.role!r}, which no tool kind plays"
    for kind in kinds:
        limits = kind.load_driver().limits
        assert feeds.setpoint in limits, (
            f"{method}: {path} feeds {feeds.role}.{feeds.setpoint}, which the {kind.name} "
            f"driver does not limit; its setpoints: {', '.join(sorted(limits))}"
        )


def test_the_walk_finds_every_fed_field_of_every_method():
    assert len(FEEDS) >= 25
    assert ("bump-seal-clean", "cleaning.plasma.steps.time_s") in {(m, p) for m, p, _ in FEEDS}


class Step(Recipe):
    time_s: Annotated[float, Unit("s"), Feeds("plasma_cleaner", "time_s")]


class Plasma(Recipe):
    kind: typing.Literal["plasma"]
    steps: Annotated[list[Step], Feeds("plasma_cleaner", "steps", len)]


class Laser(Recipe):
    kind: typing.Literal["laser"]
    pulses: Annotated[int, Feeds("laser", "clean_pulses")]


def test_setpoints_carry_the_yaml_path_through_lists_and_the_chosen_union_member():
    class Top(Recipe):
        cleaning: Plasma | Laser
        optional: Laser | None = None

    top = Top.model_validate(
        {"cleaning": {"kind": "plasma", "steps": [{"time_s": "30 s"}, {"time_s": "1 min"}]}}
    )
    assert top.tool_setpoints() == [
        ToolSetpoint("plasma_cleaner", "steps", 2, "cleaning.steps"),
        ToolSetpoint("plasma_cleaner", "time_s", 30.0, "cleaning.steps.0.time_s"),
        ToolSetpoint("plasma_cleaner", "time_s", 60.0, "cleaning.steps.1.time_s"),
    ]


def test_an_optional_setpoint_is_sent_when_stated_and_what_the_recipe_works_out_otherwise():
    class Derived(Recipe):
        time_s: Annotated[float, Unit("s"), Feeds("plasma_cleaner", "time_s")] | None = None

        def derived_setpoints(self) -> list[ToolSetpoint]:
            if self.time_s is not None:
                return []
            return [ToolSetpoint("plasma_cleaner", "time_s", 90.0, "time_s (not stated)")]

    assert Derived.model_validate({"time_s": "1 min"}).tool_setpoints() == [
        ToolSetpoint("plasma_cleaner", "time_s", 60.0, "time_s")
    ]
    assert Derived.model_validate({}).tool_setpoints() == [
        ToolSetpoint("plasma_cleaner", "time_s", 90.0, "time_s (not stated)")
    ]


def test_a_value_no_tool_of_the_role_takes_is_refused_as_the_recipe_is_read():
    # the value in the field's unit is shown: "2 h" is plainly too long once it reads 7200 s
    with pytest.raises(RecipeError) as error:
        read_recipe_text(Step, "time_s: 2 h", "r.yaml")
    assert str(error.value) == (
        "r.yaml: line 1: time_s = '2 h': must be at most 600 s (the plasma_cleaner range of "
        "time_s: 30-600 s; given 7200 s)"
    )


def bump_seal_clean_text(**changes: str) -> str:
    text = (
        resources.files("packline.sequences")
        .joinpath("recipes", "bump-seal-clean-laser.yaml")
        .read_text(encoding="utf-8")
    )
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("fluence", ["3 mJ/mm^2", "300 mJ/cm^2", "3000 J/m^2", "0.3 J/cm^2"])
def test_every_spelling_of_a_tools_bound_is_taken_and_held_as_the_bound(fluence):
    # "3 mJ/mm^2" converts to 0.30000000000000004 J/cm2: at the bound, by the unit's rounding
    text = bump_seal_clean_text(**{"fluence_j_cm2: 0.3 J/cm^2": f"fluence_j_cm2: {fluence}"})
    recipe = read_recipe_text(BumpSealCleanRecipe, text, "r.yaml")
    assert recipe.cleaning.fluence_j_cm2 == 0.3  # what the laser is sent


def test_a_value_just_past_a_tools_bound_is_refused_showing_the_digits_past_it():
    text = bump_seal_clean_text(**{"fluence_j_cm2: 0.3 J/cm^2": "fluence_j_cm2: 3.000001 mJ/mm^2"})
    with pytest.raises(RecipeError) as error:
        read_recipe_text(BumpSealCleanRecipe, text, "r.yaml")
    assert without_lines(str(error.value)) == (
        "r.yaml: cleaning.fluence_j_cm2 = '3.000001 mJ/mm^2': must be at most 0.3 J/cm2 (the "
        "laser range of clean_fluence_j_cm2: 0.05-0.3 J/cm2; given 0.3000001 J/cm2)"
    )


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("pulses_per_site: 1000", "pulses_per_site: 5000", "cleaning.pulses_per_site = 5000"),
        ("height_um: 60 um", "height_um: 1e12 um", "bumps.height_um = '1e12 um'"),
        ("height_tolerance_um: 6 um", "height_tolerance_um: 1e12 um", "bumps.height_tolerance_um"),
        ("  wire: Cu\n", "", "bumps.wire = none: required, one of Au, Cu"),
    ],
)
def test_errors_name_the_path_the_file_has_and_absurd_values_are_refused(old, new, path):
    with pytest.raises(RecipeError) as error:
        read_recipe_text(BumpSealCleanRecipe, bump_seal_clean_text(**{old: new}), "r.yaml")
    assert f"r.yaml: {path}" in without_lines(str(error.value))
    assert "cleaning.laser" not in str(error.value)


def test_a_plasma_step_error_names_its_yaml_path_inside_the_union():
    text = (
        resources.files("packline.sequences")
        .joinpath("recipes", "bump-seal-clean.yaml")
        .read_text(encoding="utf-8")
        .replace("rf_power_w: 300 W", "rf_power_w: 3000 W")
    )
    with pytest.raises(RecipeError) as error:
        read_recipe_text(BumpSealCleanRecipe, text, "r.yaml")
    assert str(error.value).startswith(
        "r.yaml: line 26: cleaning.plasma.steps.0.rf_power_w = '3000 W'"
    )


#: How an error names the area a plating step sends the cell.
DESIGN_AREA = "wiring.plating.plated_area_cm2 (the design's, sent to the cell"
#: A station's plating cell narrowed to areas no reference recipe plates.
NARROW_AREA = {"plated_area_cm2": Limit(500.0, 1000.0, "cm^2", source="station file line.yaml")}


@pytest.mark.parametrize(
    ("method", "recipe", "stated", "path"),
    [
        ("sprout-bump-csp", "sprout-bump-csp.yaml", None, "wiring.plating.plated_area_cm2 (the"),
        (
            "sprout-bump-csp",
            "sprout-bump-csp.yaml",
            "5.6 cm^2",
            "wiring.plating.plated_area_cm2 (the",
        ),
        (
            "sprout-bump-csp",
            "sprout-bump-csp-levels-2.yaml",
            None,
            f"upper_levels.0.{DESIGN_AREA}: what mask wiring-level-2",
        ),
        ("two-process-via", "two-process-via.yaml", None, "interconnects.plating.plated_area_cm2"),
        (
            "bump-seal-clean",
            "bump-seal-clean-solder-plated.yaml",
            None,
            "solder_layer.plating.plated_area_cm2 (the design's, sent to the cell: the ",
        ),
    ],
)
def test_a_stations_plated_area_limit_holds_the_area_the_design_plates_stated_or_not(
    method: str, recipe: str, stated: str | None, path: str
):
    """The cell is sent the area the design plates whatever the recipe states (a stated one
    is a cross-check of it): the station's limit refuses it before any tool moves."""
    model = {m.name: m for m in all_methods()}[method].recipe_model
    text = resources.files("packline.sequences").joinpath("recipes", recipe).read_text("utf-8")
    loaded = read_recipe_text(model, text, recipe)
    if stated is not None:
        data = yaml.safe_load(text)
        data["wiring"]["plating"]["plated_area_cm2"] = stated
        text = yaml.safe_dump(data)
        loaded = read_recipe_text(model, text, recipe)
    limits = {
        role: [{**kind.load_driver().driver_limits(), **NARROW_AREA}]
        for role, kind in {k.role: k for k in TOOL_KINDS.values()}.items()
    }
    with pytest.raises(RecipeError) as error:
        check_tool_limits(loaded, recipe, limits, text)
    assert f"{recipe}: {path}" in without_lines(str(error.value))
    assert (
        "outside the electroplater limit plated_area_cm2 [500, 1000] cm^2 of station file line.yaml"
    ) in str(error.value)


#: A station that caps the plating cell's supply under its device name; never contacted.
SUPPLY_CAPPED = """\
name: line
tools:
  electroplater:
    driver: electroplater
    address: {cell: "modbus+tcp://127.0.0.1:9", supply: "TCPIP0::127.0.0.1::9::SOCKET"}
    limits: {supply: {voltage_v: [0, 3], list_current_a: [0, 0.005]}}
"""


def test_a_stations_supply_limits_hold_what_a_plating_sends_the_supply():
    """What a plating step sends the cell's supply (its compliance voltage, the current of
    its density over the largest seed the cell accepts) is checked at validate against the
    supply's limits as the station narrows them, named `supply.<setpoint>` and the station
    file, before any tool moves."""
    recipe = "bump-seal-clean-solder-plated.yaml"
    method = {m.name: m for m in all_methods()}["bump-seal-clean"]
    text = resources.files("packline.sequences").joinpath("recipes", recipe).read_text("utf-8")
    loaded = read_recipe_text(method.recipe_model, text, recipe)
    station = parse_station(yaml.safe_load(SUPPLY_CAPPED), source="station file line.yaml")
    with pytest.raises(RecipeError) as error:
        check_tool_limits(loaded, recipe, tool_limits(method, station), text)
    problems = without_lines(str(error.value)).splitlines()
    assert [problem.split(" = ")[0] for problem in problems] == [
        f"{recipe}: solder_layer.plating (sent to the supply as {setpoint}: {what})"
        for setpoint, what in (
            ("list_current_a", "current_density_a_dm2 over the largest seed area the cell accepts"),
            ("voltage_v", "the compliance voltage every plating drives the cell with"),
        )
    ]
    assert problems[1].endswith(
        " = 10 V: outside the electroplater limit supply.voltage_v [0, 3] V of station file "
        "line.yaml"
    )
    check_tool_limits(loaded, recipe, tool_limits(method, None), text)  # the supply's own: within
