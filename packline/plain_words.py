"""What a YAML file's value of the wrong kind is refused with, in the file's words.

pydantic's own messages name Python's types ("Input should be a valid integer, unable to parse
string as an integer") or quote choices as Python does ("Input should be 'Au' or 'Cu'"); a
recipe's or a station file's reader sees YAML. Both refusals say it as `plain_words` does.
"""

from __future__ import annotations

import re

from pydantic_core import ErrorDetails

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
    "list_type": "must be a list, an item a line, each after a dash (- ...)",
}


def plain_words(problem: ErrorDetails) -> str | None:
    """`problem`'s refusal in a YAML file's words ("must be one of Au, Cu", "must be a
    number"); None for a kind of problem pydantic's message already says plainly enough or
    that its caller words itself."""
    if problem["type"] in _CHOICE_TYPES:
        expected = str(problem.get("ctx", {}).get("expected"))
        return "must be one of " + ", ".join(_QUOTED.findall(expected))
    return _TYPE_WORDS.get(problem["type"])
