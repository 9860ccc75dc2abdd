"""A run's recorded recipe against the shipped recipe it is read against, as `show` and the
report both word it."""

from __future__ import annotations

from typing import Any

from packline.sequences.engine import get_method
from packline.sequences.engine.recipe import read_recipe_text
from packline.sequences.engine.recipe_comparison import compare_with_shipped


def _run(recipe_source: str, method: str = "plasma-clean") -> dict[str, Any]:
    """A run's record of plasma-clean's default recipe's values, from `recipe_source`."""
    plasma_clean = get_method("plasma-clean")
    text, source = plasma_clean.default_recipe_text()
    values = read_recipe_text(plasma_clean.recipe_model, text, source).canonical_json()
    return {"id": "r1", "method": method, "recipe_source": recipe_source, "recipe_json": values}


def test_a_recipe_file_deleted_since_is_compared_from_its_record():
    """A recipe file is read against the method's default from the run's record of it, the
    file itself not read (it may be gone): one of the default's values says so."""
    comparison = compare_with_shipped(_run("/gone/since.yaml"))
    assert comparison.compared
    assert comparison.summary == "the values of default recipe plasma-clean.yaml"
    assert comparison.differences == ()


def test_what_cannot_be_compared_says_why():
    """No shipped recipe to read the run's against: a reference recipe not shipped any more,
    a method this release lacks (its recipe then taken as recorded, saying so)."""
    gone = compare_with_shipped(_run("reference recipe plasma-clean-gone.yaml"))
    assert not gone.compared
    assert gone.summary == (
        "not compared with a shipped recipe: plasma-clean ships no reference recipe "
        "plasma-clean-gone any more"
    )
    retired = compare_with_shipped(_run("default recipe retired.yaml", method="retired"))
    assert not retired.compared
    assert (
        retired.summary == "not compared with a shipped recipe: this release has no method retired"
    )
    assert retired.as_recorded is not None
    assert "recipe shown as recorded" in retired.as_recorded
