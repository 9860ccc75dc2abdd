"""What a YAML file's value of the wrong kind, length or size is refused with, in the file's
words.

pydantic's own messages name Python's types ("Input should be a valid integer, unable to parse
string as an integer", "List should have at least 1 item after validation, not 0"), quote
choices as Python does ("Input should be 'Au' or 'Cu'") and give a bound without its unit
("Input should be greater than or equal to 0.01"); a recipe's or a station file's reader sees
YAML. Both refusals say it as `plain_words` does ("must be at least 0.01 s").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic_core import ErrorDetails

from packline.spelling import did_you_mean

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
