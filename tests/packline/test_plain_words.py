"""A value of the wrong kind refused in a YAML file's words, whichever file it is in."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from packline.plain_words import plain_words


class _Fields(BaseModel):
    wire: Literal["Au", "Cu"] = "Au"
    count: int = 1
    share: float = 0.5
    steps: list[int] = []
    gases: list[str] = Field(default=["O2"], min_length=1, max_length=1)
    films: list[str] = Field(default=["Ti", "Cu"], min_length=2, max_length=8)
    name: str = Field(default="line", min_length=1, max_length=4)
    code: str = Field(default="ab", min_length=2)
    limits: dict[str, int] = {}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("wire", "Ag", "must be one of Au, Cu"),
        ("count", "two", "must be a whole number"),
        ("count", 1.5, "must be a whole number"),
        ("share", "5 %", "must be a number"),
        ("steps", {"a": 1}, "must be a list, an item a line, each after a dash (- ...)"),
        ("limits", ["O2"], "must be a mapping, a `name: value` a line, each indented under it"),
        ("gases", [], "must have at least 1 item"),  # pydantic: "List should have at least
        ("gases", ["O2", "Ar"], "must have at most 1 item"),  # 1 item after validation, not 0"
        ("films", ["Ti"], "must have at least 2 items"),
        ("films", ["Ti"] * 9, "must have at most 8 items"),
        ("name", "", "must not be empty"),
        ("name", "line-3", "must have at most 4 characters"),
        ("code", "a", "must have at least 2 characters"),
    ],
)
def test_a_wrong_kind_of_value_is_said_in_a_files_words(field: str, value: object, words: str):
    with pytest.raises(ValidationError) as error:
        _Fields.model_validate({field: value})
    (problem,) = error.value.errors()
    assert plain_words(problem) == words


def test_a_range_problem_is_left_to_its_caller():
    """A limit's refusal is worded by the recipe's or station's reader (with its unit and
    the tool's range), not here."""

    class Bounded(BaseModel):
        count: int = Field(default=1, ge=1)

    with pytest.raises(ValidationError) as error:
        Bounded.model_validate({"count": 0})
    (problem,) = error.value.errors()
    assert problem["type"] == "greater_than_equal"
    assert plain_words(problem) is None
