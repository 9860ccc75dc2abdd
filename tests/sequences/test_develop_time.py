"""validate refuses a develop too short to open the film its recipe spins
(`MouldRecipe.require_developed`): the film is the line's spin and bake law's, the develop the
line's rate (`develop_rate_um_s`: a positive film's exposed openings at the dose, a negative
film's unexposed ones at the bulk rate), which the simulated cell develops by, and the refusal
names the field's whole path, the claim and the least time. Before, a 10 s develop of
sprout-bump-csp's mould validated and held the wafer at 'pattern wiring' with no opening
cleared."""

from __future__ import annotations

import numpy as np
import pytest

from packline.drivers.roles.lithography import (
    RETICLES,
    CoatMaterial,
    coated_film_um,
    least_develop_s,
)
from packline.sim_instruments.physics.lithography import LithoPhysics, develop

from .helpers import reference_recipe, refusal, validated_lot_of_one

#: sprout-bump-csp's reference mould: PR-THICK at 4000 rpm for 30 s, baked 90 s at 110 degC,
#: exposed at 420 mJ/cm^2.
MOULD_UM = coated_film_um(CoatMaterial.PR_THICK, 4000, 30, 110, 90)
#: The least develop that opens it: 11.064 um at 420 / (30 x 120) um/s.
LEAST_S = 95


@pytest.mark.parametrize(
    ("material", "dose", "least_s"),
    [(CoatMaterial.PR_THICK, 420.0, LEAST_S), (CoatMaterial.NR_THICK, 500.0, 180)],
)
def test_the_least_develop_is_the_one_the_simulated_cell_opens_the_film_in(material, dose, least_s):
    """At the least time every opening of the film clears in the cell's model (its dark loss,
    not counted, only helps); at 95 % of it the openings keep film at their bottoms."""
    assert least_develop_s(material, MOULD_UM, dose) == least_s
    sites = np.full(4, MOULD_UM, np.float32)
    doses = np.full(4, dose, np.float32)

    def left_um(time_s: float) -> float:
        done = develop(
            material, sites, 0.0, doses, RETICLES["wiring-level-1"], time_s, LithoPhysics()
        )
        return float(done.residual_um.max())

    assert left_um(least_s) <= 1e-3  # the cell's 'cleared'
    assert left_um(0.95 * least_s) > 0.1


def test_a_develop_too_short_for_the_mould_is_refused_with_the_least_time(capsys, tmp_path):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["mould"]["develop_time_s"] = "10 s"
    assert (
        "wiring.mould.develop_time_s = 10 s: exposed at 420 mJ/cm^2, PR-THICK dissolves in the "
        "developer at 0.117 um/s: 10 s takes 1.167 um of the 11.064 um that wiring.mould spins "
        "at 4000 rpm and bakes, leaving 9.897 um at the bottom of its openings: give at least "
        f"{LEAST_S} s (claim 001:8)"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    recipe["wiring"]["mould"]["develop_time_s"] = f"{LEAST_S - 1} s"
    assert f"give at least {LEAST_S} s" in refusal(capsys, tmp_path, "sprout-bump-csp", recipe)


def test_the_least_develop_validates_and_a_lot_of_one_clears_every_opening(capsys, tmp_path):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["wiring"]["mould"]["develop_time_s"] = f"{LEAST_S} s"
    summary = validated_lot_of_one(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]


def test_a_negative_film_needs_its_nominal_develop_whatever_its_thickness(capsys, tmp_path):
    recipe = reference_recipe("sprout-bump-csp.yaml")
    recipe["terminals"]["solder_resist"]["develop_time_s"] = "60 s"
    error = refusal(capsys, tmp_path, "sprout-bump-csp", recipe)
    assert (
        "terminals.solder_resist.develop_time_s = 60 s: unexposed, PI-N dissolves in the "
        "developer at its bulk rate, 0.151 um/s (the whole film in 120 s): 60 s takes 9.051 um"
    ) in error
    assert "give at least 120 s (claim 001:4)" in error


@pytest.mark.parametrize(
    ("method", "variant", "path", "claim"),
    [
        ("two-process-via", "two-process-via-passivated.yaml", "interconnects.mould",
         "002:1a-d"),
        ("two-process-via", "two-process-via-passivated.yaml", "passivation.mask", "002:15"),
        ("tape-substrate", "tape-substrate-metal.yaml", "metal_substrate.resist", "000:x3"),
    ],
)  # fmt: skip
def test_every_method_that_develops_a_resist_is_held_to_it(
    capsys, tmp_path, method, variant, path, claim
):
    recipe = reference_recipe(variant)
    section, film = path.split(".")
    recipe[section][film]["develop_time_s"] = "10 s"
    error = refusal(capsys, tmp_path, method, recipe)
    assert f"{path}.develop_time_s = 10 s: exposed at " in error
    assert f"that {path} spins at " in error
    assert f"(claim {claim})" in error
