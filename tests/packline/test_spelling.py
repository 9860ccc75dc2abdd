"""A refused name ends with the choices it may have meant (packline/spelling.py)."""

from __future__ import annotations

import pytest

from packline.spelling import did_you_mean, spelt_closest

FAULTS = ("n2_supply", "zone_sensor_break")
STEPS = ("batch plasma_cleaner", "open door", "pump down", "plasma clean", "vent")
#: A served line's tools (`packline sim serve`).
TOOLS = (
    "plasma_cleaner", "wire_bonder", "laminator", "ball_mounter", "dicing_saw", "grinder",
    "laser", "lithography", "electroplater", "oven", "deposition", "wet_bench", "resin_coater",
    "dispenser", "flip_chip_bonder", "stencil_printer",
)  # fmt: skip
FIELDS = ("temperature_c", "pressure_mpa", "time_s", "peel_below_c", "support")


@pytest.mark.parametrize(
    ("word", "choices", "meant"),
    [
        ("plasma clen", STEPS, ["plasma clean"]),  # a slip of the keys: that one only
        ("plasma_claner", TOOLS, ["plasma_cleaner"]),  # not 'laser', whose letters it has
        ("plasma_claener", TOOLS, ["plasma_cleaner"]),  # two keys swapped
        ("plasmaclaener", TOOLS, ["plasma_cleaner"]),  # a slip in every four characters
        ("la", TOOLS, ["laminator", "laser"]),
        ("plasma", TOOLS, ["plasma_cleaner"]),  # what it begins, not 'laser' or 'laminator'
        ("saw", TOOLS, ["dicing_saw"]),  # a word of it
        ("bonder", TOOLS, ["wire_bonder", "flip_chip_bonder"]),
        ("peel_temperature_c", FIELDS, ["temperature_c", "peel_below_c"]),  # spelt alike
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
    assert did_you_mean("la", TOOLS) == " (did you mean 'laminator' or 'laser'?)"
    assert did_you_mean("x", FAULTS) == ""


GASES = ("O2", "Ar", "forming-gas", "CF4/O2")


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("o2", ["O2"]),  # of case alone
        ("AR", ["Ar"]),
        ("forming_gas", ["forming-gas"]),  # a slip of the keys in a long enough word
        ("cf4-o2", ["CF4/O2"]),
        ("N2", []),  # another gas, not a slip of O2
        ("Ag", []),
    ],
)
def test_a_short_symbol_is_no_slip_of_another(word, meant):
    """A choice of symbols (gases, metals) offers a short word only the choice it is in
    another case: `N2` is one key from `O2` but another gas."""
    assert spelt_closest(word, GASES, short_slips=False) == meant
