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
        ("wire", "Ag", "must be one of Au, Cu"),  # another metal: no did-you-mean
        ("wire", "au", "must be one of Au, Cu (did you mean 'Au'?)"),
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


class _Strict(BaseModel, strict=True):
    count: int = 1


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (2.0, "must be a whole number written without a decimal point (2)"),
        (2.5, "must be a whole number"),
    ],
)
def test_a_strict_whole_number_written_with_a_decimal_point_is_told_so(value: float, words: str):
    """A recipe's whole-number fields are strict: 2.0 is refused, and not as no whole number."""
    with pytest.raises(ValidationError) as error:
        _Strict.model_validate({"count": value})
    (problem,) = error.value.errors()
    assert plain_words(problem) == words


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        (0, "", "must be at least 1"),
        (0.001, "s", "must be at least 0.01 s"),
        (7200, "s", "must be at most 3600 s"),  # a whole bound without pydantic's 3600.0
        (2.5, "um", "must be below 2.5 um"),
    ],
)
def test_a_value_past_a_bound_is_refused_with_the_bound_in_the_fields_unit(
    value: float, unit: str, words: str
):
    """A bound is worded here once, for a recipe's and a station file's fields alike, in the
    unit the caller gives (pydantic's "Input should be greater than or equal to 0.01" has
    none)."""

    class Bounded(BaseModel):
        count: int = Field(default=1, ge=1)
        interval: float = Field(default=1.0, ge=0.01, le=3600.0)
        width: float = Field(default=1.0, lt=2.5)

    field = {"": "count", "s": "interval", "um": "width"}[unit]
    with pytest.raises(ValidationError) as error:
        Bounded.model_validate({field: value if field != "width" else 3})
    (problem,) = error.value.errors()
    assert plain_words(problem, unit) == words
