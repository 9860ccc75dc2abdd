"""validate refuses an oven setpoint below the room the oven cools to (`AMBIENT_C`, the line's
process data the simulated zones cool towards): the oven has no chiller, so a run to it would
wait on a load at the room's temperature until its bound and abort. Before, the range began at
20 degC and a 20 degC cure validated, held a wafer 2341 s and aborted. Every method's oven
setpoints are held to it: a cure's, a reflow's, and the cooling each ends with."""

from __future__ import annotations

import pytest

from packline.drivers.oven import ModbusOven
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.sim_instruments.physics.oven import OVEN_PLANT

from .helpers import reference_recipe, refusal, validated_lot_of_one


def test_the_room_is_where_the_simulated_oven_cools_and_the_drivers_limit_starts():
    assert OVEN_PLANT.cooled(300.0, 1e6) == pytest.approx(AMBIENT_C)
    assert ModbusOven.limits["temperature_c"].minimum == AMBIENT_C


@pytest.mark.parametrize(
    ("method", "variant", "path"),
    [
        ("two-process-via", "two-process-via.yaml", "cure.temperature_c"),
        ("two-process-via", "two-process-via.yaml", "cure.cool_to_c"),
        ("tape-substrate", "tape-substrate.yaml", "seal.cure.cool_to_c"),
        ("sprout-bump-csp", "sprout-bump-csp.yaml", "terminals.reflow.cool_to_c"),
        ("bump-seal-clean", "bump-seal-clean-solder-mounted.yaml", "bumps.reflow.cool_to_c"),
    ],
)
def test_an_oven_setpoint_below_the_room_is_refused_with_the_ovens_reach(
    capsys, tmp_path, method, variant, path
):
    recipe = reference_recipe(variant)
    *sections, key = path.split(".")
    holder = recipe
    for section in sections:
        holder = holder[section]
    holder[key] = "20 degC"
    error = refusal(capsys, tmp_path, method, recipe)
    assert (
        f"{path} = '20 degC': must be at least 22 degC (the oven range of temperature_c: "
        "22-350 degC; given 20 degC)"
    ) in error


def test_a_cure_cooling_to_the_room_validates_and_a_lot_of_one_completes(capsys, tmp_path):
    recipe = reference_recipe("two-process-via.yaml")
    recipe["cure"]["cool_to_c"] = f"{AMBIENT_C:g} degC"
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", recipe)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
