"""What a recipe model declares about each of its fields, for people: the unit, the range, the
default, the choices and the one-line doc, read from the model itself (its `Unit`, `Feeds` and
`Field` constraints, its `#:` comments), so the template, the JSON schema and the field
reference a user reads can never disagree with what `packline validate` enforces.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from packline.claims import CLAIMS
from packline.units import Unit, quantity_text

from .recipe_meta import (
    AtLeastFor,
    Because,
    CheckedChoices,
    CheckedFloor,
    Feeds,
    NeededWhen,
    tool_range,
    unwrapped,
)


@dataclass(frozen=True)
class Bound:
    """One end of a field's range, in the field's unit."""

    value: float
    inclusive: bool


@dataclass(frozen=True)
class FieldFacts:
    """What one field of a recipe model accepts."""

    name: str
    #: the field's type as a person reads it: "quantity", "integer", "number", "yes/no",
    #: "one of", "text", "section", "list of sections", "one of sections"
    kind: str
    doc: str
    required: bool
    default: Any = None
    unit: str | None = None
    low: Bound | None = None
    high: Bound | None = None
    #: where the range comes from besides the field's own bounds: "the wire_bonder range of
    #: stack_count", or "" when it is the field's own
    range_source: str = ""
    #: why the field's own bounds are what they are (`Because`): "" for none
    range_reason: str = ""
    #: the claim whose constraint they are (`Because.claim`): "" for none
    range_claim: str = ""
    #: a length range applies to the list the field holds (a tool takes N steps), not its items
    counts_items: bool = False
    #: a bound the field must meet in one use of it (`AtLeastFor`)
    at_least_for: AtLeastFor | None = None
    choices: tuple[str, ...] = ()
    #: the recipe models a section field holds: one, or one per member of a union
    sections: tuple[type[BaseModel], ...] = ()
    optional_section: bool = False
    #: an optional section the recipe needs when it holds (`NeededWhen`)
    needed_when: NeededWhen | None = None

    def requirement(self) -> str:
        """Whether a recipe must give the field: "required", "required with support film;
        left out otherwise" (`NeededWhen`), "optional (null or left out: not done)", or "" (a
        default)."""
        if self.needed_when is not None:
            when = self.needed_when.when
            return f"required {when}; {self.needed_when.otherwise}" if when else "required"
        if self.optional_section:
            return "optional (null or left out: not done)"
        return "required" if self.required else ""

    def takes(self) -> list[str]:
        """What the field takes, as its explanation and a refusal of it left out say it: its
        choices ("one of film, metal-film"), unit ("in um") or kind ("integer"), and its
        range ("20-300 um")."""
        parts = []
        if len(self.choices) > 1:
            parts.append("one of " + ", ".join(self.choices))
        elif self.unit:
            parts.append(f"in {self.unit}")
        elif self.kind in ("integer", "yes/no", "number"):
            parts.append(self.kind)
        if self.range_text():
            parts.append(self.range_text())
        return parts

    def default_text(self) -> str:
        """The field's default as a recipe writes it: a quantity with its unit ("600 s")."""
        if self.unit and isinstance(self.default, int | float):
            return quantity_text(self.default, self.unit)
        return scalar_text(self.default)

    def range_text(self) -> str:
        """'20-300 um', 'above 0 um', 'at most 50 um', or '' without a range."""
        unit = f" {self.unit}" if self.unit else ""
        low, high = self.low, self.high
        if low is not None and high is not None and low.inclusive and high.inclusive:
            text = f"{low.value:g}-{high.value:g}{unit}"
        else:
            parts = []
            if low is not None:
                parts.append(f"{'at least' if low.inclusive else 'above'} {low.value:g}{unit}")
            if high is not None:
                parts.append(f"{'at most' if high.inclusive else 'below'} {high.value:g}{unit}")
            text = ", ".join(parts)
        if text and self.counts_items:
            text = f"{text} items"
        why = "; ".join(filter(None, (self.range_source, self.range_reason)))
        if text and why:
            text = f"{text} ({why})"
        if text and self.range_claim:
            text = f"{text} ({claims_text([self.range_claim])})"
        if self.at_least_for is not None:
            floor = self.at_least_for
            text = f"{text}; at least {floor.minimum:g}{unit} for {floor.use}"
        return text


def scalar_text(value: Any) -> str:
    """A value as YAML writes it on one line: bare where YAML reads it back unchanged."""
    if isinstance(value, str) and value and yaml.safe_load(value) == value and ":" not in value:
        return value
    return json.dumps(value)


def fields_of(model: type[BaseModel]) -> list[FieldFacts]:
    """The facts of every field of `model`, in declaration order."""
    docs = field_docs(model)
    return [
        _facts(name, info.annotation, info.metadata, info, docs.get(name, ""))
        for name, info in model.model_fields.items()
    ]


def _facts(name: str, annotation: Any, metadata: list[Any], info: Any, doc: str) -> FieldFacts:
    required = info.is_required()
    default = None if required or info.default is PydanticUndefined else info.default
    if isinstance(default, Enum):
        default = default.value
    inner, optional = _without_none(annotation)
    if get_origin(inner) is Annotated:  # `Annotated[float, Unit(...)] | None`: facts inside
        inside = (item.metadata if isinstance(item, FieldInfo) else [item]
                  for item in inner.__metadata__)  # fmt: skip
        metadata = [*metadata, *(item for items in inside for item in items)]
        inner = get_args(inner)[0]
    facts: dict[str, Any] = {"name": name, "doc": doc, "required": required, "default": default}
    sections = _sections(inner)
    if sections:
        listed = get_origin(inner) in (list, tuple)
        kind = "list of sections" if listed else "section"
        if len(sections) > 1:
            kind = "one of sections"
        facts.update(kind=kind, sections=sections, optional_section=optional)
    elif isinstance(inner, type) and issubclass(inner, Enum):
        facts.update(kind="one of", choices=tuple(str(member.value) for member in inner))
    elif get_origin(inner) is Literal:
        facts.update(kind="one of", choices=tuple(str(value) for value in get_args(inner)))
    elif inner is bool:
        facts.update(kind="yes/no")
    elif inner is int:
        facts.update(kind="integer")
    elif inner is float:
        facts.update(kind="number")
    else:
        facts.update(kind="text")
    facts.update(_range(metadata))
    for item in metadata:
        if isinstance(item, CheckedChoices):
            facts["choices"] = item.values
    if facts.get("unit"):
        facts["kind"] = "quantity"
    return FieldFacts(**facts)


def _range(metadata: list[Any]) -> dict[str, Any]:
    """Unit and bounds from a field's metadata: its own `Field` bounds, narrowed or widened to
    what a tool of the role it feeds could take."""
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, Unit):
            found["unit"] = item.unit
        elif isinstance(item, annotated_types.Ge):
            found["low"] = Bound(cast(float, item.ge), inclusive=True)
        elif isinstance(item, annotated_types.Gt):
            found["low"] = Bound(cast(float, item.gt), inclusive=False)
        elif isinstance(item, annotated_types.Le):
            found["high"] = Bound(cast(float, item.le), inclusive=True)
        elif isinstance(item, annotated_types.Lt):
            found["high"] = Bound(cast(float, item.lt), inclusive=False)
        elif isinstance(item, Because):
            found["range_reason"] = item.reason
            found["range_claim"] = item.claim
        elif isinstance(item, AtLeastFor):
            found["at_least_for"] = item
        elif isinstance(item, CheckedFloor):
            found["checked_floor"] = Bound(item.minimum, inclusive=not item.above)
        elif isinstance(item, NeededWhen):
            found["needed_when"] = item
        elif isinstance(item, Feeds):
            limit = tool_range(item.role, item.setpoint)
            found["low"] = _tighter(found.get("low"), Bound(limit.minimum, True), max)
            found["high"] = _tighter(found.get("high"), Bound(limit.maximum, True), min)
            found["range_source"] = f"the {item.role} range of {item.setpoint}" + (
                f"; {limit.floor}" if limit.floor else ""
            )
            if item.measure is not None:
                found["counts_items"] = True
            elif "unit" not in found and limit.unit:
                found["unit"] = None  # a dimensionless setpoint (pulses, studs): no unit
    floor: Bound | None = found.pop("checked_floor", None)
    low: Bound | None = found.get("low")
    if floor is not None and (
        low is None or floor.value > low.value or (floor.value == low.value and not floor.inclusive)
    ):
        found["low"] = floor
    return found


def _tighter(own: Bound | None, tool: Bound, pick: Any) -> Bound:
    return tool if own is None else Bound(pick(own.value, tool.value), own.inclusive)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (it, False)."""
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        if len(members) < len(get_args(annotation)):
            return (members[0] if len(members) == 1 else Union[tuple(members)]), True  # noqa: UP007
    return annotation, False


def _sections(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The recipe models a field holds: a model, a list of models, or a union of models."""
    if get_origin(annotation) in (list, tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return _sections(args[0]) if args else ()
    union = get_origin(annotation) in (Union, UnionType)
    members = tuple(map(unwrapped, get_args(annotation) if union else (annotation,)))
    models = tuple(m for m in members if isinstance(m, type) and issubclass(m, BaseModel))
    return models if len(models) == len(members) else ()


def section_kinds(model: type[BaseModel], name: str) -> tuple[str, tuple[str, ...]] | None:
    """The key that says which kind of section field `name` of `model` holds, and the values
    it takes, for a choice of sections told apart by a key (`cleaning`: `method`, plasma or
    laser); None for any other field."""
    info = model.model_fields.get(name)
    if info is None or not isinstance(info.discriminator, str):
        return None
    key = info.discriminator
    sections = _sections(_without_none(info.annotation)[0])
    values = (get_args(section.model_fields[key].annotation) for section in sections)
    return key, tuple(str(value) for kind in values for value in kind)


def discriminator_of(section: type[BaseModel]) -> tuple[str, str] | None:
    """(field, value) that selects this member of a union in a file (`method: plasma`)."""
    for name, info in section.model_fields.items():
        if get_origin(info.annotation) is Literal and len(get_args(info.annotation)) == 1:
            return name, str(get_args(info.annotation)[0])
    return None


@cache
def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The `#:` comment above each field of `model` (and its recipe base classes), joined."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is BaseModel:
            continue
        try:
            filename = inspect.getsourcefile(cls)
        except TypeError:  # built in, or made at run time: no source
            continue
        if filename is None:
            continue
        classes, lines = _classes_in(filename)
        node = classes.get(cls.__qualname__)
        if node is None:
            continue
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                comment: list[str] = []
                row = statement.lineno - 2
                while row >= 0 and lines[row].strip().startswith("#:"):
                    comment.insert(0, lines[row].strip()[2:].strip())
                    row -= 1
                if comment:
                    docs[statement.target.id] = " ".join(comment)
    return docs


@cache
def _classes_in(filename: str) -> tuple[dict[str, ast.ClassDef], list[str]]:
    """Each class defined in source file `filename`, by its qualified name, and the file's
    lines: a module parsed once for all its recipe models (`inspect.getsource` parses the
    whole module again for each class, seconds for a method's reference)."""
    source = Path(filename).read_text(encoding="utf-8")
    classes: dict[str, ast.ClassDef] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for statement in body:
            if isinstance(statement, ast.ClassDef):
                classes[prefix + statement.name] = statement
                visit(statement.body, f"{prefix}{statement.name}.")
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(statement.body, f"{prefix}{statement.name}.<locals>.")

    visit(ast.parse(source, filename).body, "")
    return classes, source.splitlines()


def section_doc(model: type[BaseModel]) -> str:
    """The first paragraph of a recipe model's docstring, on one line."""
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")  # its own, not a base's
    return " ".join(doc.split("\n\n", 1)[0].split()).rstrip(".")


#: A claim id as a doc names it: `001:8`, `002:1a-d`, `003:7.1`, `000:x3`.
CLAIM_ID = re.compile(r"\b\d{3}:[0-9a-z][0-9a-z.-]*")


def unit_of(model: type[BaseModel], name: str) -> str | None:
    """The unit of field `name` of `model` (None: it has none), its bounds' unit."""
    facts = facts_of(model, name)
    return None if facts is None else facts.unit


def facts_of(model: type[BaseModel], name: str) -> FieldFacts | None:
    """The facts of field `name` of `model` (None: it has no such field)."""
    return next((facts for facts in fields_of(model) if facts.name == name), None)


def missing_section(fields: Sequence[tuple[type[BaseModel], str]]) -> str | None:
    """What a refusal of a required section left out says after its path (`fields`: each
    model and field the path goes through, the section's last): that it is a required
    section, what it is for (its `#:` comment, else its section's doc) and the claims it
    serves, as a claim's refusal ends: `a required section, missing: 002:1g: ... (claim
    002:1g)`. The claims are those its comment names, else the nearest enclosing field's
    comment's, else the recipe's doc's, else the nearest section's doc's: a section shared
    by methods (a mould, a dip, a plasma clean) names other methods' claims in its doc.
    None: the field is no section (its refusal says what it takes, `FieldFacts.takes`)."""
    model, name = fields[-1]
    facts = facts_of(model, name)
    if facts is None or not facts.sections:
        return None
    own = " or ".join(section_doc(s) for s in facts.sections)
    outer = [
        found
        for model_, outer_name in reversed(fields[:-1])
        for found in fields_of(model_)
        if found.name == outer_name
    ]
    texts = [
        facts.doc,
        *(found.doc for found in outer),
        section_doc(fields[0][0]),
        *(" ".join(section_doc(s) for s in found.sections) for found in outer),
        own,
    ]
    claims = next((found for text in texts if (found := _claims_named(text))), [])
    served = f" ({claims_text(claims)})" if claims else ""
    return f"a required section, missing: {facts.doc or own}{served}"


def claims_text(claims: Sequence[str]) -> str:
    """The claims a refusal serves as it names them, in brackets at its end: `claim 002:7`,
    `claims 002:7, 002:8`."""
    return f"claim{'s' if len(claims) > 1 else ''} {', '.join(claims)}"


def _claims_named(text: str) -> list[str]:
    """The catalogued claim ids `text` names, each once, in its order."""
    found = (claim.rstrip(".-") for claim in CLAIM_ID.findall(text))
    return [claim for claim in dict.fromkeys(found) if claim in CLAIMS]
