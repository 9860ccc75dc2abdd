"""validate refuses a bath setpoint below the room a bath cools to (`AMBIENT_C`): the wet
bench's tanks and the plating cell's bath have heaters and no chiller, so a dip or a plating
step set cooler would wait on a bath at the room until its bound. Before, the wet bench's range
began at 20 degC and the plating bath's at 18 degC, and both validated."""

from __future__ import annotations

import pytest

from .helpers import reference_recipe, refusal


@pytest.mark.parametrize(
    ("path", "given", "tool", "reach"),
    [
        ("wiring.etch.strip.temperature_c", "20 degC", "wet_bench", "22-85 degC"),
        ("wiring.plating.bath_temperature_c", "18 degC", "electroplater", "22-60 degC"),
    ],
)
def test_a_bath_setpoint_below_the_room_is_refused_with_the_tools_reach(
    capsys, tmp_path, path, given, tool, reach
):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    *sections, key = path.split(".")
    holder = recipe
    for section in sections:
        holder = holder[section]
    holder[key] = given
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        f"{path} = '{given}': must be at least 22 degC (the {tool} range of "
        f"bath_temperature_c: {reach}; given {given})"
    ) in error
