"""A recipe file's YAML held against what each field declares: the type YAML reads each value
as, and the line each problem is on.

YAML reads some values as another type than the one meant (`gas: 02`, O2 typed with a zero,
is the number 2; `stack: "2"` is text; `gas: NO` is false), and pydantic, reading a recipe's
data leniently, would take text for a number (`"2"` as 2) or a number for yes or no (1 as
true) without a word. A value whose YAML type is not one its field takes is refused here
(`written_type_problems`), naming the field, the value as written and what the field takes;
and every refusal of a recipe read from a file names the line it is on (`located`), as a
station file's and a lot file's do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel

from packline.files import Written, parse_yaml, yaml_written
from packline.spelling import did_you_mean

from .recipe_fields import FieldFacts, discriminator_of, fields_of

#: A recipe file's values as written, by their path in the file (`files.yaml_written`).
WrittenValues = Mapping[tuple[str | int, ...], Written]

#: The YAML types (`files.YAML_KINDS`) a value of each kind of field (`FieldFacts.kind`) may
#: be written as, and what the field is said to take. A quantity is not here: its unit reads
#: it (`units.to_magnitude`), refusing a value of any other type itself; nor a section, whose
#: fields are; a null is left to the field (an optional one takes it).
_TAKES: dict[str, tuple[frozenset[str], str]] = {
    "text": (frozenset({"str"}), "text"),
    "one of": (frozenset({"str"}), "text"),
    # a decimal point is the field's own refusal: 2.5 as no whole number, 2.0 as one written
    # with one (`plain_words`)
    "integer": (frozenset({"int", "float"}), "a whole number"),
    "number": (frozenset({"int", "float"}), "a number"),
    "yes/no": (frozenset({"bool"}), "true or false"),
}


def written_type_problems(
    model: type[BaseModel], data: Mapping[str, Any], written: WrittenValues
) -> list[dict[str, str]]:
    """Each value of recipe `data` (read as `model`) whose YAML type, as `written`, is not one
    its field takes (`_TAKES`), in its sections and lists too: its `path` in the file and the
    `message` refusing it (`path = value as written: what YAML reads it as, and what the field
    takes`)."""
    problems: list[dict[str, str]] = []
    _section(model, data, (), written, problems)
    return problems


def _section(
    model: type[BaseModel],
    data: Mapping[str, Any],
    path: tuple[str | int, ...],
    written: WrittenValues,
    problems: list[dict[str, str]],
) -> None:
    """`written_type_problems` of the section `data` at `path`, read as `model`."""
    for facts in fields_of(model):
        if facts.name not in data:
            continue
        value, at = data[facts.name], (*path, facts.name)
        if facts.kind == "list of sections" and isinstance(value, list):
            for index, item in enumerate(value):
                _in_section(facts, item, (*at, index), written, problems)
        elif facts.sections:
            _in_section(facts, value, at, written, problems)
        elif (given := written.get(at)) is not None and _mistyped(facts, given):
            problems.append(_wrong_type(at, given, facts))


def _mistyped(facts: FieldFacts, given: Written) -> bool:
    """Whether field `facts` does not take a value of the YAML type `given` is (`_TAKES`); a
    null, a mapping or a list is left to the field's own refusal."""
    takes = _TAKES.get(facts.kind)
    return takes is not None and given.kind not in takes[0] | {"null", "mapping", "list"}


def _in_section(
    facts: FieldFacts,
    value: object,
    path: tuple[str | int, ...],
    written: WrittenValues,
    problems: list[dict[str, str]],
) -> None:
    """The problems of `value`, at `path`, as the section field `facts` holds it: the one
    section it may be, or the member of a choice of sections its key names (`method:
    plasma`, or the member that is the default when the key is left out); none where it is no
    mapping or names no member (the field's refusal says so)."""
    if not isinstance(value, Mapping):
        return
    for section in facts.sections:
        selects = discriminator_of(section)
        if len(facts.sections) == 1 or (
            selects is not None
            and str(value.get(selects[0], section.model_fields[selects[0]].default)) == selects[1]
        ):
            _section(section, value, path, written, problems)
            return


#: What YAML reads a scalar as, by its type (`files.YAML_KINDS`), in a refusal's words.
_READ_AS = {
    "int": "the number {value}",
    "float": "the number {value}",
    "bool": "{value} (as it reads yes, no, on and off)",
    "timestamp": "a date",
    "str": "text",
}


def _wrong_type(path: tuple[str | int, ...], given: Written, facts: FieldFacts) -> dict[str, str]:
    """The refusal of the value `given` at `path` for field `facts`, whose YAML type is not one
    the field takes (`_TAKES`): the value as written, what YAML reads it as, what the field
    takes, and how to write what may have been meant."""
    kinds, takes = _TAKES[facts.kind]
    read = _READ_AS[given.kind].format(value=_yaml_text(parse_yaml(given.text, "a value")))
    if facts.choices:
        takes = f"{takes}, one of {', '.join(facts.choices)}"
    if given.kind == "str":  # text where a number or yes/no is meant: quoted, perhaps
        how = "; write it without quotes" if _unquoted_kind(given.text) in kinds else ""
    elif "str" in kinds:  # a number or yes/no YAML read where text is meant
        # a digit typed for a letter (02 for O2) is a slip; yes or no is a word of its own
        slip = facts.choices and given.kind in ("int", "float")
        meant = did_you_mean(given.text, facts.choices) if slip else ""
        how = f"{meant}; to mean the text {given.text}, write it in quotes: '{given.text}'"
    else:
        how = ""
    where = ".".join(map(str, path))
    return {
        "path": where,
        "message": f"{where} = {given.text}: YAML reads it as {read}, but {facts.name} takes "
        f"{takes}{how}",
    }


def _unquoted_kind(text: str) -> str | None:
    """What YAML reads `text`, written in quotes, as without them (`files.YAML_KINDS`; `"2"`:
    int); None for text not in quotes, or that is no YAML value without them."""
    if text[:1] not in ("'", '"'):
        return None
    try:
        bare = yaml_written(text[1:-1]).get(())
    except yaml.YAMLError:
        return None
    return None if bare is None else bare.kind


def _yaml_text(value: object) -> str:
    """A value YAML read, as a refusal names it: true and false as YAML writes them."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def located(problems: Sequence[Mapping[str, Any]], written: WrittenValues) -> list[dict[str, Any]]:
    """`problems` of a recipe read from a file whose values are `written` so, each with the
    `line` of the file it is on: its field's, else its nearest section's the file gives (a
    field left out is refused at its section's line); none for the recipe as a whole."""
    placed = []
    for problem in problems:
        line = _line_of(str(problem.get("path", "")), written)
        placed.append(dict(problem) if line is None else {**problem, "line": line})
    return placed


def _line_of(path: str, written: WrittenValues) -> int | None:
    """The line of the file `written` that gives the field at `path` (`steps.0.gas`), or of
    its nearest section it gives; None for none."""
    parts = _parts(path)
    for end in range(len(parts), 0, -1):
        if (found := _written_at(parts[:end], written)) is not None:
            return found.line
    return None


def written_field(path: str, written: WrittenValues) -> Written | None:
    """How the file `written` gives the field at `path` (`steps.1.time_s`) itself; None where
    it does not (left out, or a path of no field)."""
    return _written_at(_parts(path), written)


def as_given(path: str, value: str, written: WrittenValues) -> str:
    """A refused quantity's `value` as a refusal states it (in the unit it was judged in),
    after the text the recipe file gives it in where that is another unit (`2 min (120 s)`,
    `175 degF (79.4444 degC)`): a user searches the file for what they wrote, and may not see
    that a unit was the mistake in a value they never wrote."""
    given = written_field(path, written)
    if given is None or given.kind in ("mapping", "list"):
        return value
    text = given.text.strip("'\"")
    units = [quantity.partition(" ")[2] for quantity in (text, value)]
    return f"{text} ({value})" if all(units) and units[0] != units[1] else value


def _parts(path: str) -> tuple[str | int, ...]:
    """A field path's keys, a list's index as a number (`steps.0.gas`: steps, 0, gas)."""
    return tuple(int(part) if part.isdigit() else part for part in path.split(".") if part)


def _written_at(parts: tuple[str | int, ...], written: WrittenValues) -> Written | None:
    """The value at key path `parts`, a numeric key read as a list's index or as text."""
    for key in (parts, tuple(map(str, parts))):
        if key in written:
            return written[key]
    return None
