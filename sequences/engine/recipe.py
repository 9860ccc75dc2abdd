"""Recipes: the validated, hashed parameters of a method, read from YAML.

A method's recipe is a `Recipe` subclass: pydantic, `extra="forbid"` (a misspelt key is an
error, not a silently ignored option), quantities with units (`packline.units.Quantity`).
`load_recipe` reads YAML with `yaml.safe_load` (data, never code); every problem is reported
with the file, the field path, the value given and what was expected, before any tool moves.
The hash recorded with a run is taken over the validated values, so two files that mean the
same recipe hash the same.

Two more kinds of check go beyond one field:

* a claim's own constraints across fields (the resin film thinner than the bumps, 003:7): a
  `@model_validator(mode="after")` of the recipe model raises `claim_violation(...)`, and the
  error names the path, the value, what is wrong and the claim id;
* the tools' setpoint limits: `Recipe.tool_setpoints()` lists every value the recipe will send
  to a tool role, and `prepare()` checks each against the limits of the drivers (station
  `limits:` included) before any tool moves (`launch.check_tool_limits`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from packline.claims import claim as catalogued_claim

from .errors import RecipeError

#: The pydantic error type of a claim constraint (see `claim_violation`).
CLAIM_CONSTRAINT = "claim_constraint"


@dataclass(frozen=True)
class ToolSetpoint:
    """One value a recipe will send to a tool of `role`: checked against the driver's limit
    `setpoint` (a key of the driver's `limits`, in that limit's unit) before any tool moves.
    `path` is the recipe field it comes from, for the error message."""

    role: str
    setpoint: str
    value: float
    path: str


class Recipe(BaseModel):
    """Base of every method's recipe model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def canonical_json(self) -> str:
        """The validated values as canonical JSON (quantities in their declared units)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def recipe_hash(self) -> str:
        """sha256 of `canonical_json`: what the run record keeps to identify the recipe."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def tool_setpoints(self) -> list[ToolSetpoint]:
        """Every setpoint this recipe sends to a tool, so the tools' limits (driver defaults,
        narrowed by the station file) are checked before the run starts. Override in a
        method's recipe; the default declares none."""
        return []


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def claim_violation(claim: str, path: str, value: object, message: str) -> Exception:
    """The error a recipe model's `@model_validator(mode="after")` raises when the recipe breaks
    a claim's own constraint: `raise claim_violation("003:7", "resin.sheet_thickness_um",
    "65 um", "must be thinner than bumps.height_um = 60 um")`.

    `path` is relative to the model whose validator raises it (the whole recipe for a top-level
    validator); `value` is shown as given (floats with `:g`). `claim` must be an id of the
    catalogue (`packline.claims`): a wrong id is a programming error (KeyError)."""
    catalogued_claim(claim)
    shown = _shown(value)
    return PydanticCustomError(
        CLAIM_CONSTRAINT,
        "{path} = {value}: {message} (claim {claim})",
        {"claim": claim, "path": path, "value": shown, "message": message},
    )


R = TypeVar("R", bound=Recipe)

_LIMIT_WORDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def format_validation_error(source: str, error: ValidationError) -> str:
    """One line per problem: where, the value given, and what is wrong or what the limit is.

    A claim constraint reads `<source>: <path> = <value>: <message> (claim <id>)`. The value of
    a whole mapping (a model-level problem) is not repeated: its fields are the recipe itself."""
    lines = []
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        ctx = problem.get("ctx", {})
        if problem["type"] == CLAIM_CONSTRAINT:
            path = ".".join([*loc, ctx["path"]])
            lines.append(
                f"{source}: {path} = {ctx['value']}: {ctx['message']} (claim {ctx['claim']})"
            )
            continue
        path = ".".join(loc) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        limits = [f"{_LIMIT_WORDS[k]} {v}" for k, v in ctx.items() if k in _LIMIT_WORDS]
        if limits:
            message = "must be " + " and ".join(limits)
        quiet = problem["type"] == "missing" or isinstance(problem["input"], dict)
        given = "" if quiet else f" = {problem['input']!r}"
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
