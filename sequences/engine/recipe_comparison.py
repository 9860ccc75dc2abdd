"""A run's recorded recipe against another recipe, field by field: two runs' (`packline diff`)
or the run's against the shipped recipe it is read against (`packline show`'s recipe line and
the report's *Recipe* section, which word it alike, `ShippedComparison`).

Both read a recorded recipe as this release reads it (`recipe_now`), so that runs on either
side of a key's rename line up. What reads records (the CLI, `packline.records`) takes the
comparison from here, the layer both may import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from packline.rendering import counted

from .database import REFERENCE_RECIPE, recipe_name
from .errors import BadInput
from .method import get_method
from .recipe import read_recipe_text


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    """A recipe as `path -> value` ("steps.1.time_s": "120 s")."""
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _flat(item, path + key + ".").items()
        }
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{path}{i}.").items()}
    return {path.rstrip("."): value}


def recipe_now(run: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """`run`'s recorded recipe as this release reads it (`parse_recipe(recorded=True)`): a
    key by an old name under its name now, so that runs on either side of a rename line up
    (decision 0062). A recipe this release cannot read (its method gone, a check added
    since refuses it) is taken as recorded, with a note saying so (None: read now)."""
    recorded = json.loads(run["recipe_json"])
    try:
        recipe = get_method(run["method"]).read_recorded_recipe(run["id"], recorded)
    except BadInput as error:  # the method unknown, or the recipe refused (RecipeError)
        why = str(error).splitlines()[0]
        return recorded, f"run {run['id']}: recipe shown as recorded, by its names then: {why}"
    parsed: dict[str, Any] = json.loads(recipe.canonical_json())
    return parsed, None


def recipe_differences(recipe_a: dict[str, Any], recipe_b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every recipe field whose value differs (or that one recipe has and the other not)."""
    flat_a, flat_b = _flat(recipe_a), _flat(recipe_b)
    paths = sorted(set(flat_a) | set(flat_b))
    return [
        {"what": path, "a": flat_a.get(path), "b": flat_b.get(path)}
        for path in paths
        if flat_a.get(path) != flat_b.get(path)
    ]


def shipped_reference(run: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The shipped recipe run `run`'s is read against, as this release parses it: (where it
    came from, as a run records it; its values). A run of a shipped recipe (the default, a
    reference recipe, the method's defaults) is read against that recipe as it ships now, a
    recipe file (read from the records, so one deleted since is compared too) against the
    method's default. BadInput saying why there is none: the method gone, its recipe not
    shipped any more, or refused by this release."""
    try:
        method = get_method(run["method"])
    except BadInput:
        raise BadInput(f"this release has no method {run['method']}") from None
    name = recipe_name(run["recipe_source"])
    if run["recipe_source"].startswith(f"{REFERENCE_RECIPE} "):
        if name not in method.reference_recipes():
            raise BadInput(f"{method.name} ships no reference recipe {name} any more")
        text, source = method.reference_recipe_text(name)
    else:
        text, source = method.default_recipe_text()
    try:
        parsed = read_recipe_text(method.recipe_model, text, source)
    except BadInput as error:  # a shipped recipe this release refuses: a mistake the tests catch
        why = str(error).splitlines()[0]
        raise BadInput(f"this release refuses its own {source}: {why}") from None
    values: dict[str, Any] = json.loads(parsed.canonical_json())
    return source, values


@dataclass(frozen=True)
class ShippedComparison:
    """How a run's recipe stands against the shipped recipe it is read against
    (`shipped_reference`), in the words `show` and the report both give it.

    `summary`: `as shipped`, `the values of default recipe plasma-clean.yaml` (a recipe file
    of the default's values), `2 values differ from default recipe sprout-bump-csp.yaml`; a
    run of a shipped recipe that has changed since names it `... as it ships now`, so its
    values are not read as edited by hand. Not `compared`, it says why not.
    `differences`: each value that differs by its path in the file beside the shipped one,
    `bumps.height_um: 55 um (default recipe sprout-bump-csp.yaml: 60 um)`.
    `as_recorded`: the note of a recipe this release reads only as recorded (`recipe_now`),
    compared as recorded; None where it is read now.
    """

    compared: bool
    summary: str
    differences: tuple[str, ...]
    as_recorded: str | None


def compare_with_shipped(run: dict[str, Any]) -> ShippedComparison:
    """Run `run`'s recorded recipe (its `recipe_json`) against the shipped recipe it is read
    against (`ShippedComparison`)."""
    recipe, as_recorded = recipe_now(run)
    try:
        source, shipped = shipped_reference(run)
    except BadInput as why:
        summary = f"not compared with a shipped recipe: {why}"
        return ShippedComparison(False, summary, (), as_recorded)
    differences = recipe_differences(shipped, recipe)
    its_own = source == run["recipe_source"]
    if not differences:
        same = "as shipped" if its_own else f"the values of {source}"
        return ShippedComparison(True, same, (), as_recorded)
    if its_own:
        source = f"{source} as it ships now"
    verb = "differs" if len(differences) == 1 else "differ"
    return ShippedComparison(
        True,
        f"{counted(len(differences), 'value')} {verb} from {source}",
        tuple(
            f"{row['what']}: {_value_text(row['b'])} ({source}: {_value_text(row['a'])})"
            for row in differences
        ),
        as_recorded,
    )


def _value_text(value: Any) -> str:
    """A recipe value as a comparison shows it: '-' where the recipe has none."""
    return "-" if value is None else str(value)
