"""Recipes: the validated, hashed parameters of a method, read from YAML.

A method's recipe is a `Recipe` subclass: pydantic, `extra="forbid"` (a misspelt key is an
error, not a silently ignored option), quantities with units (`packline.units.Quantity`).
`load_recipe` reads YAML with `yaml.safe_load` (data, never code); every problem is reported
with the file, the field path, the value given and what was expected, before any tool moves.
The hash recorded with a run is taken over the validated values, so two files that mean the
same recipe hash the same.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import RecipeError


class Recipe(BaseModel):
    """Base of every method's recipe model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def canonical_json(self) -> str:
        """The validated values as canonical JSON (quantities in their declared units)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def recipe_hash(self) -> str:
        """sha256 of `canonical_json`: what the run record keeps to identify the recipe."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


R = TypeVar("R", bound=Recipe)

_LIMIT_WORDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def format_validation_error(source: str, error: ValidationError) -> str:
    """One line per problem: where, the value given, and what is wrong or what the limit is."""
    lines = []
    for problem in error.errors():
        path = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        limits = [
            f"{_LIMIT_WORDS[k]} {v}" for k, v in problem.get("ctx", {}).items() if k in _LIMIT_WORDS
        ]
        if limits:
            message = "must be " + " and ".join(limits)
        given = "" if problem["type"] == "missing" else f" = {problem['input']!r}"
        lines.append(f"{source}: {path}{given}: {message}")
    return "\n".join(lines)


def parse_recipe(model: type[R], data: object, source: str) -> R:
    """Validate recipe data already read from YAML."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a mapping of option names to values")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RecipeError(format_validation_error(source, error)) from None


def read_recipe_text(model: type[R], text: str, source: str) -> R:
    """Validate recipe YAML text; `source` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RecipeError(f"{source}: not valid YAML ({error})") from None
    return parse_recipe(model, data, source)


def load_recipe(model: type[R], path: str | Path) -> tuple[R, str]:
    """Read and validate a recipe file; returns the recipe and the file's text (recorded)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecipeError(f"recipe file {path}: cannot read it ({error.strerror})") from None
    return read_recipe_text(model, text, f"recipe file {path}"), text
