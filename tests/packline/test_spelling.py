"""A refused name ends with the choices it may have meant (packline/spelling.py)."""

from __future__ import annotations

import pytest

from packline.spelling import did_you_mean, spelt_closest

FAULTS = ("n2_supply", "zone_sensor_break")
STEPS = ("batch plasma_cleaner", "open door", "pump down", "plasma clean", "vent")


@pytest.mark.parametrize(
    ("word", "choices", "meant"),
    [
        ("plasma clen", STEPS, ["plasma clean", "batch plasma_cleaner"]),  # a slip of the keys
        ("PLASMA CLEAN", STEPS, ["plasma clean"]),  # of case alone: that one only
        ("N2_suply", FAULTS, ["n2_supply"]),  # both at once
        ("n2", FAULTS, ["n2_supply"]),  # too short to be spelt close: what it begins
        ("zone", FAULTS, ["zone_sensor_break"]),
        ("x", FAULTS, []),  # nothing near
        ("", FAULTS, []),
    ],
)
def test_the_choices_a_word_may_have_meant(word, choices, meant):
    assert spelt_closest(word, choices) == meant


def test_a_refusal_ends_with_them_or_with_nothing():
    assert did_you_mean("n2", FAULTS) == " (did you mean 'n2_supply'?)"
    assert did_you_mean("plasma clen", STEPS) == (
        " (did you mean 'plasma clean' or 'batch plasma_cleaner'?)"
    )
    assert did_you_mean("x", FAULTS) == ""
