"""What a YAML file's value of the wrong kind, length or size is refused with, in the file's
words.

pydantic's own messages name Python's types ("Input should be a valid integer, unable to parse
string as an integer", "List should have at least 1 item after validation, not 0"), quote
choices as Python does ("Input should be 'Au' or 'Cu'") and give a bound without its unit
("Input should be greater than or equal to 0.01"); a recipe's, a station file's or a GEM
dictionary's reader sees YAML. Each refusal says it as `plain_words` does ("must be at least
0.01 s"). A station file and a GEM dictionary word each whole problem alike too (`refusal`,
`refusal_lines`): at its key path in the file, a key no field has with the fields it may mean,
a field left out with an example of it, a value of a field that may take several types (an id,
a number or text) refused once for all of them, and the value given.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from packline.spelling import did_you_mean, not_a_field

#: pydantic's error types of a value not among a field's choices (its `expected` context
#: quotes each choice: "'Au' or 'Cu'").
_CHOICE_TYPES = {"literal_error", "enum"}
_QUOTED = re.compile(r"'([^']*)'")
#: What a value of the wrong type is refused with, by pydantic's error type.
_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "finite_number": "must be a finite number",
    "list_type": "must be a list, an item a line, each after a dash (- ...)",
    "dict_type": "must be a mapping, a `name: value` a line, each indented under it",
}

#: What a list, mapping or text of the wrong length is refused with, by pydantic's error type:
#: the bound and what is counted.
_LENGTH_WORDS = {
    "too_short": ("at least", "item"),
    "too_long": ("at most", "item"),
    "string_too_short": ("at least", "character"),
    "string_too_long": ("at most", "character"),
}


#: What a number past a field's bound is refused with, by the bound's key in pydantic's context.
_BOUND_WORDS = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def plain_words(problem: ErrorDetails, unit: str = "") -> str | None:
    """`problem`'s refusal in a YAML file's words ("must be one of Au, Cu", "must be a
    number", "must have at least 1 item", "must be at least 0.01 s": a bound in the field's
    `unit`, if it has one); None for a kind of problem pydantic's message already says
    plainly enough or that its caller words itself."""
    ctx = problem.get("ctx", {})
    unit = f" {unit}" if unit else ""
    bounds = [
        f"{_BOUND_WORDS[key]} {_number(value)}{unit}"
        for key, value in ctx.items()
        if key in _BOUND_WORDS
    ]
    if bounds:
        return "must be " + " and ".join(bounds)
    if problem["type"] in _CHOICE_TYPES:
        return one_of(problem.get("input"), _QUOTED.findall(str(ctx.get("expected"))))
    if problem["type"] in _LENGTH_WORDS:  # pydantic's "List should have at least 1 item
        # after validation, not 0" names a Python type and its own validation
        bound, noun = _LENGTH_WORDS[problem["type"]]
        length = ctx["min_length" if bound == "at least" else "max_length"]
        if (problem["type"], length) == ("string_too_short", 1):
            return "must not be empty"
        return f"must have {bound} {length} {noun}{'' if length == 1 else 's'}"
    given = problem.get("input")
    if problem["type"] == "int_type" and isinstance(given, float) and given.is_integer():
        # a strict whole-number field takes no decimal point, though the number is whole
        return f"must be a whole number written without a decimal point ({int(given)})"
    return _TYPE_WORDS.get(problem["type"])


def one_of(given: object, choices: Sequence[str]) -> str:
    """The refusal of `given`, none of `choices` (a recipe's or station's choice, a kind of
    section): the choices, and the one it may mean, in another case or misspelt (`o2` ->
    `O2`; a short symbol is no slip of another: `N2` is offered nothing, `did_you_mean`'s
    `short_slips`)."""
    meant = did_you_mean(given, choices, short_slips=False) if isinstance(given, str) else ""
    return f"must be one of {', '.join(choices)}{meant}"


def _number(value: object) -> object:
    """A bound as a file writes it: a whole float without its `.0` (3600, not 3600.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass(frozen=True)
class Refusal:
    """One problem of a file's value, in the file's words: at its key `path`
    (`trace.min_period_s`; "" for the file's whole, whose `message` names the keys), why, and
    the value given (None: `message` names it, or there is none); `member` when the field
    takes several types and this is the refusal of one of them."""

    path: str
    message: str
    given: object = None
    member: bool = False


def field_unit(name: str) -> str:
    """The unit of a file's field by its name: seconds for one ending `_s` (`poll_interval_s`,
    `min_period_s`), none for a count (`capacity`, `max_traces`); its range is refused in
    it, and the station file's page shows it."""
    return "s" if name.endswith("_s") else ""


def refusal(
    problem: ErrorDetails, model: type[BaseModel], whose: Mapping[type[BaseModel], str]
) -> Refusal:
    """pydantic's `problem` of a file read as `model`, in the file's words: a key no field
    has, with the fields it may mean (`not_a_field`, of the part of the file `whose` names,
    else of the key path above it); a field left out, with an example of it (its `Field`
    examples); a validator's own message; any other as `plain_words` says it, a bound in the
    field's unit (`field_unit`), else pydantic's message."""
    owner, path, member = _field_at(model, problem["loc"])
    where = ".".join(path)
    key = path[-1] if path else ""
    if problem["type"] == "extra_forbidden":
        fields = [] if owner is None else list(owner.model_fields)
        return Refusal(where, not_a_field(key, whose.get(owner, ".".join(path[:-1])), fields))
    if problem["type"] == "missing":  # pydantic: "Field required"
        info = None if owner is None else owner.model_fields.get(key)
        examples = [] if info is None or info.examples is None else info.examples
        example = f"; e.g. `{key}: {examples[0]}`" if examples else ""
        return Refusal(where, f"missing (required{example})")
    if problem["type"] == "value_error":  # a validator's own error, which names the value
        return Refusal(where, str(problem.get("ctx", {}).get("error")), member=member)
    message = plain_words(problem, field_unit(key)) or problem["msg"]
    return Refusal(where, message, problem.get("input"), member)


def refusal_lines(refusals: Iterable[Refusal]) -> list[str]:
    """`refusals` as a file's reader tells them, a line each, `PATH: why, got VALUE`: those of
    one field that takes several types joined in one ("must be a whole number or text"), and
    none twice."""
    merged: dict[str, Refusal] = {}
    lines: dict[str, None] = {}
    for each in refusals:
        earlier = merged.get(each.path)
        if each.member and earlier is not None and earlier.member:
            either = each.message.removeprefix("must be ")
            merged[each.path] = Refusal(
                each.path, f"{earlier.message} or {either}", each.given, member=True
            )
            continue
        key = each.path if each.member else f"{each.path}\0{each.message}"
        merged.setdefault(key, each)
    for each in merged.values():
        given = each.given
        named = f", got {given!r}" if isinstance(given, str | int | float | list) else ""
        place = f"{each.path}: " if each.path else ""  # the file's whole: its message says
        lines.setdefault(f"{place}{each.message}{named}")
    return list(lines)


def _field_at(model: type[BaseModel], loc: Iterable[int | str]) -> tuple[Any, list[str], bool]:
    """Where pydantic's `loc` is in a file read as `model`: the model whose field its last key
    is (None where it is a mapping's key or a list's item), its key path in the file, and
    whether `loc` named a member of a field of several types (pydantic's `int` of `id: int |
    str`, which is no key of the file)."""
    owner: Any = None
    path: list[str] = []
    annotation: Any = model
    member = False
    for part in loc:
        members = _members(annotation)
        if len(members) > 1:  # pydantic's name of the member refused, not a key of the file
            annotation = next((m for m in members if _type_name(m) == str(part)), None)
            member = True
            continue
        annotation = members[0] if members else None
        path.append(str(part))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            owner = annotation
            info = annotation.model_fields.get(str(part))
            annotation = None if info is None else info.annotation
        else:  # a mapping's key or a list's index: its values' or items' type
            owner = None
            arguments = get_args(annotation) if get_origin(annotation) in (dict, list) else ()
            annotation = arguments[-1] if arguments else None
    return owner, path, member


def _members(annotation: Any) -> list[Any]:
    """The types `annotation` takes, without None (`X | None` is one, `int | str` two)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return [member for member in get_args(annotation) if member is not type(None)]
    return [] if annotation is None else [annotation]


def _type_name(annotation: Any) -> str:
    """How pydantic names a member of a field of several types in a problem's location: `int`,
    `dict[str,str]`, a model by its class name."""
    return str(annotation).replace(" ", "") if get_args(annotation) else annotation.__name__
