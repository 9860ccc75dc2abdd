"""A figure for people: its shown digits, and those that tell it from its limits."""

from __future__ import annotations

import pytest

from packline.shown_figures import figure_text


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
