"""Generated bad recipes and station files: each gets one clear error naming a real place.

Every method's reference recipe and the simulated line's station file are changed in one place,
hundreds of ways (`packline.testing.mutations`); each result is either refused with an error
whose every line names the file and a path that the file has, or is a document that still
means something valid. Nothing else (a traceback, an error naming a path the file lacks) passes.
"""

from __future__ import annotations

import random
import re

import pytest
import yaml

from packline.files import FileProblem, parse_yaml
from packline.sequences.engine import RecipeError, all_methods, read_recipe_text
from packline.sequences.engine.request import check_tool_limits, tool_limits
from packline.station import StationError, parse_station
from packline.testing.mutations import leaf_paths, mutations

CASES_PER_DOCUMENT = 150

STATION = {
    "name": "line",
    "tools": {
        "plasma_cleaner": {
            "driver": "plasma_cleaner",
            "address": "modbus+tcp://127.0.0.1:5020",
            "options": {"device_id": 1, "timeout_s": 2.0},
            "limits": {"rf_power_w": [100, 600]},
            "capacity": 4,
        },
        "laser": {
            "driver": "laser",
            "address": "TCPIP0::127.0.0.1::5025::SOCKET",
            "poll_interval_s": 0.5,
        },
        "wire_bonder": {"driver": "wire_bonder", "address": "socket://127.0.0.1:4001"},
    },
}


def named_places(document: object) -> set[str]:
    """Every key path prefix of a document, as an error would name it."""
    places = {"(top level)"}
    for path in leaf_paths(document):
        for end in range(1, len(path) + 1):
            places.add(".".join(map(str, path[:end])))
    return places


def assert_names_a_place(message: str, source: str, text: str) -> None:
    """Every line names `source`, then a place the document has: a key path in it (after the
    line it is on, where the file gives it), or the parent of a key that is missing from it,
    or (for the YAML itself) its line and column."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    places = named_places(document)
    for line in message.splitlines():
        assert line.startswith(f"{source}: "), line
        rest = line.removeprefix(f"{source}: ")
        if rest.startswith("not valid YAML"):
            assert "line " in rest or "(" in rest, line
            continue
        if document is None:
            continue
        where = re.sub(r"^line \d+: ", "", rest).split(" ", 1)[0].rstrip(":")
        parent = where.rsplit(".", 1)[0] if "." in where else "(top level)"
        assert where in places or parent in places, f"{line!r} names no place of the file"


METHODS = [method for method in all_methods() if method.default_recipe is not None]


@pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])
def test_generated_bad_recipes_are_refused_with_a_place_or_mean_something_valid(method):
    text, _ = method.default_recipe_text()
    base = yaml.safe_load(text)
    limits = tool_limits(method, None)
    for change, mutated in mutations(base, random.Random(method.name), CASES_PER_DOCUMENT):
        try:
            recipe = read_recipe_text(method.recipe_model, mutated, "r.yaml")
            check_tool_limits(recipe, "r.yaml", limits, mutated)
        except RecipeError as error:
            assert_names_a_place(str(error), "r.yaml", mutated)
        else:  # accepted: only a change that leaves a valid recipe (an optional key removed,
            # or a quantity of the field's own unit inside every limit, read as given)
            assert change.endswith((" removed", "= True")) or _read_as_given(recipe, change), change


def _read_as_given(recipe: object, change: str) -> bool:
    """The change put a quantity string (`'55 W'`) where the recipe now holds that number."""
    where, _, given = change.partition(" = ")
    value = yaml.safe_load(given)
    if not isinstance(value, str):
        return False
    node = recipe
    for part in where.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return node == float(value.split()[0])


def test_generated_bad_station_files_are_refused_with_a_place_or_mean_something_valid():
    for change, mutated in mutations(STATION, random.Random(0), CASES_PER_DOCUMENT):
        try:
            parse_station(parse_yaml(mutated, "s"), "s")
        except (StationError, FileProblem) as error:
            for line in str(error).splitlines():
                assert line.startswith("s: "), (change, line)
