"""A figure for people: its shown digits, and those that tell it from its limits."""

from __future__ import annotations

import pytest

from packline.shown_figures import decimals_of, figure_text


@pytest.mark.parametrize(
    ("value", "limits", "digits", "text"),
    [
        (4.99998, (), 4, "5"),  # no limit: its shown digits
        (4.99998, (5.0,), 4, "4.99998"),  # beside a limit it is not: told from it
        (8.0, (8.0, None), 4, "8"),  # a value at its limit is its limit
        (12345678.0, (), 4, "12345678"),  # a whole number in full, not as an exponent
        (-0.0, (), 3, "0"),
        (7.99961, (8.0,), 3, "7.9996"),
        (60.0000001, (0.0, 60.0), 6, "60.0000001"),
    ],
)
def test_a_figure_is_told_from_the_limits_it_is_judged_against(value, limits, digits, text):
    assert figure_text(value, *limits, digits=digits) == text


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (443.11851263046265, 2, "443.12"),  # beside a margin of 6.88
        (443.1, 4, "443.1"),  # no trailing zeros
        (0.0, 3, "0"),
        (8.59, 1, "8.59"),  # never fewer than its digits
    ],
)
def test_a_figure_beside_a_margin_is_shown_to_its_decimals(value, decimals, text):
    assert figure_text(value, digits=3, decimals=decimals) == text


@pytest.mark.parametrize(("text", "decimals"), [("6.88", 2), ("443", 0), ("1.2e-05", 6)])
def test_the_decimals_of_a_figure(text, decimals):
    assert decimals_of(text) == decimals
