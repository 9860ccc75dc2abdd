"""Recipes: the validated, hashed parameters of a method, read from YAML.

A method's recipe is a `Recipe` subclass: pydantic, `extra="forbid"` (a misspelt key is an
error, not a silently ignored option), quantities with units (`Annotated[float, Unit("um")]`).
`load_recipe` reads YAML as data, never code (a key given twice is an error); every problem is
reported with the file, the field path, the value given and what was expected, before any tool
moves.
The hash recorded with a run is taken over the validated values, so two files that mean the
same recipe hash the same.

Two more kinds of check go beyond one field:

* a claim's own constraints across fields (the resin film thinner than the bumps, 003:7): a
  `@model_validator(mode="after")` of the recipe model raises `claim_violation(...)`, and the
  error names the path, the value, what is wrong and the claim id;
* the tools' setpoint limits: a field that a tool setpoint takes says so in its annotation,
  `Annotated[float, Unit("um"), Feeds("laminator", "resin_thickness_um")]`;
  `Recipe.tool_setpoints()` walks the recipe (sections, lists, the chosen member of a union)
  and lists every such value with its field path, and `prepare()` checks each against the
  limits of the drivers (station `limits:` included) before any tool moves
  (`request.check_tool_limits`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from packline.claims import claim as catalogued_claim
from packline.drivers.equipment import Limit
from packline.drivers.registry import TOOL_KINDS
from packline.files import FileProblem, parse_yaml, read_text

from .errors import RecipeError

#: The pydantic error type of a claim constraint (see `claim_violation`).
CLAIM_CONSTRAINT = "claim_constraint"
#: The pydantic error type of one field's problem found across fields (see `field_problem`).
FIELD_CONSTRAINT = "field_constraint"
#: The pydantic error type of a value no tool of its role could take (see `Feeds`).
TOOL_RANGE = "tool_range"


@dataclass(frozen=True)
class ToolSetpoint:
    """One value a recipe will send to a tool of `role`: checked against the driver's limit
    `setpoint` (a key of the driver's `limits`, in that limit's unit) before any tool moves.
    `path` is the recipe field it comes from, for the error message."""

    role: str
    setpoint: str
    value: float
    path: str


@cache
def tool_range(role: str, setpoint: str) -> Limit:
    """The widest default limit of `setpoint` over the registered tool kinds of `role`: what
    any tool of the role could take, before a station narrows it."""
    limits = [
        limits[setpoint]
        for kind in TOOL_KINDS.values()
        if kind.role == role and setpoint in (limits := kind.load_driver().limits)
    ]
    if not limits:
        raise KeyError(f"no tool kind of role {role!r} has a setpoint {setpoint!r}")
    return Limit(
        min(limit.minimum for limit in limits),
        max(limit.maximum for limit in limits),
        limits[0].unit,
    )


@dataclass(frozen=True)
class AtLeastFor:
    """Recipe field metadata: a lower bound the field must meet in one use of it (`use`),
    which the recipe that uses it so checks, naming its claim; shown beside the field's own
    range where the recipe is explained (a plated wiring's `min_thickness_um` is at least
    3 um, a solder layer's need not be)."""

    minimum: float
    use: str


@dataclass(frozen=True)
class Feeds:
    """Recipe field metadata: the field's value is sent to a `role` tool as its `setpoint` (a
    key of the driver's limits, in that limit's unit). The value is refused when the recipe is
    read if no tool of the role could take it (`tool_range`), and checked against the station's
    tools' own limits before any tool moves. `measure` sends something of the value instead of
    the value itself, such as `len` of a list of steps."""

    role: str
    setpoint: str
    measure: Callable[[Any], float] | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._within_range, handler(source))

    def _within_range(self, value: Any) -> Any:
        sent = self.measure(value) if self.measure is not None else value
        limit = tool_range(self.role, self.setpoint)
        if not limit.contains(sent):
            bound = (
                f"at least {limit.minimum:g}"
                if sent < limit.minimum
                else f"at most {limit.maximum:g}"
            )
            raise PydanticCustomError(
                TOOL_RANGE,
                "must be {bound} {unit} "
                "(the {role} range of {setpoint}: {minimum}-{maximum} {unit}; given {sent} {unit})",
                {
                    "bound": bound,
                    "unit": limit.unit,
                    "role": self.role,
                    "setpoint": self.setpoint,
                    "minimum": f"{limit.minimum:g}",
                    "maximum": f"{limit.maximum:g}",
                    "sent": f"{sent:g}",
                },
            )
        return value


def _feeds_of(metadata: Sequence[object], annotation: object) -> list[Feeds]:
    """The `Feeds` of a field: in its metadata, or in an `Annotated` member of an optional
    field's union (`Annotated[float, Feeds(...)] | None`)."""
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    nested = [meta for member in members if get_origin(member) is Annotated
              for meta in member.__metadata__]  # fmt: skip
    return [meta for meta in (*metadata, *nested) if isinstance(meta, Feeds)]


def _setpoints_within(value: object, path: str) -> list[ToolSetpoint]:
    """The setpoints of a section, or of each section in a list, under `path`."""
    if isinstance(value, Recipe):
        return [replace(point, path=f"{path}.{point.path}") for point in value.tool_setpoints()]
    if isinstance(value, list | tuple):
        return [
            point
            for index, item in enumerate(value)
            for point in _setpoints_within(item, f"{path}.{index}")
        ]
    return []


class Recipe(BaseModel):
    """Base of every method's recipe model."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def canonical_json(self) -> str:
        """The validated values as canonical JSON (quantities in their declared units)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def recipe_hash(self) -> str:
        """sha256 of `canonical_json`: what the run record keeps to identify the recipe."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def tool_setpoints(self) -> list[ToolSetpoint]:
        """Every setpoint this recipe sends to a tool (its fields annotated `Feeds`, in its
        sections too), with its field path as the YAML file writes it, so the tools' limits
        (driver defaults, narrowed by the station file) are checked before the run starts."""
        points = self.derived_setpoints()
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue  # an optional setpoint left out: `derived_setpoints` says what is sent
            for feeds in _feeds_of(info.metadata, info.annotation):
                sent = feeds.measure(value) if feeds.measure is not None else value
                points.append(ToolSetpoint(feeds.role, feeds.setpoint, sent, name))
            points += _setpoints_within(value, name)
        return points

    def derived_setpoints(self) -> list[ToolSetpoint]:
        """The setpoints the recipe works out instead of stating them (the plated area a
        plating step sends is what its design opens), so the tools' limits hold them as they
        hold stated ones: none here; a recipe that works one out says so."""
        return []


def _bounded(text: str, most: int = 80) -> str:
    """`text` cut to `most` characters: an error names a value, it does not reprint a file."""
    return text if len(text) <= most else text[: most - 5] + " ...]"


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


def field_problem(path: str, value: object, message: str) -> Exception:
    """The error a recipe model's `@model_validator(mode="after")` raises when one field is
    wrong given others, with no claim behind it (a plated area the mould's mask contradicts):
    like `claim_violation` the error names the field by `path` (relative to the validating
    model) and `value`, so a nested field is named where it is, not as the model's."""
    return PydanticCustomError(
        FIELD_CONSTRAINT,
        "{path} = {value}: {message}",
        {"path": path, "value": _shown(value), "message": message},
    )


R = TypeVar("R", bound=Recipe)

_LIMIT_WORDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}

#: pydantic's error types for a value where a section (a nested model) belongs.
_SECTION_TYPES = {"model_type", "model_attributes_type"}


def unwrapped(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X (any depth); anything else as it is."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _member_named(union: Any, tag: str) -> Any | None:
    """The member of a union that pydantic names `tag` in an error's location: a model whose
    discriminator field is `Literal[tag]`, or whose class name is `tag`."""
    for member in map(unwrapped, get_args(union)):
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        if member.__name__ == tag:
            return member
        for info in member.model_fields.values():
            if get_origin(info.annotation) is Literal and tag in get_args(info.annotation):
                return member
    return None


def yaml_path(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """An error location as the YAML file spells it: pydantic's location names the chosen
    member of a union (its tag or class name) as if it were a key; the file has no such key."""
    path: list[str] = []
    annotation: Any = model
    for part in loc:
        annotation = unwrapped(annotation)
        if get_origin(annotation) in (Union, UnionType) and isinstance(part, str):
            member = _member_named(annotation, part)
            if member is not None:
                annotation = member
                continue
        path.append(str(part))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            annotation = None if info is None else info.annotation
        elif get_origin(annotation) in (list, tuple) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        else:
            annotation = None
    return path


def format_validation_error(
    source: str, error: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """One line per problem: where, the value given, and what is wrong or what the limit is.

    A claim constraint reads `<source>: <path> = <value>: <message> (claim <id>)`. The value of
    a whole mapping (a model-level problem) is not repeated: its fields are the recipe itself.
    With the `model`, the path is the YAML file's (see `yaml_path`)."""
    lines = []
    for problem in error.errors():
        loc = (
            [str(part) for part in problem["loc"]]
            if model is None
            else yaml_path(model, problem["loc"])
        )
        ctx = problem.get("ctx", {})
        if problem["type"] in (CLAIM_CONSTRAINT, FIELD_CONSTRAINT):
            path = ".".join([*loc, ctx["path"]])
            claim = f" (claim {ctx['claim']})" if "claim" in ctx else ""
            lines.append(f"{source}: {path} = {ctx['value']}: {ctx['message']}{claim}")
            continue
        path = ".".join(loc) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        limits = [f"{_LIMIT_WORDS[k]} {v}" for k, v in ctx.items() if k in _LIMIT_WORDS]
        if limits:
            message = "must be " + " and ".join(limits)
        elif problem["type"] in _SECTION_TYPES:
            # pydantic names the section's model class, which no recipe spells
            message = "must be a section of fields, as `packline methods METHOD` lists them"
        quiet = problem["type"] == "missing" or isinstance(problem["input"], dict)
        given = "" if quiet else f" = {_bounded(repr(problem['input']))}"
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
        raise RecipeError(format_validation_error(source, error, model)) from None


def read_recipe_text(model: type[R], text: str, source: str) -> R:
    """Validate recipe YAML text; `source` names it in errors."""
    try:
        data = parse_yaml(text, source)
    except FileProblem as problem:
        raise RecipeError(str(problem)) from None
    return parse_recipe(model, data, source)


def load_recipe(model: type[R], path: str | Path) -> tuple[R, str]:
    """Read and validate a recipe file; returns the recipe and the file's text (recorded)."""
    path = Path(path)
    try:
        text = read_text(path, "recipe file")
    except FileProblem as problem:
        raise RecipeError(str(problem)) from None
    return read_recipe_text(model, text, f"recipe file {path}"), text
