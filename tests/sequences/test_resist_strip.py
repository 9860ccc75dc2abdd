"""validate refuses a strip too short for the resist its recipe spins (`MouldRecipe.
require_stripped_by`): the film is the line's spin and bake law's (`coated_film_um`, which the
simulated cell coats by), the strip judged in its bath at the coolest it may dip, and the
refusal names the field's whole path, the claim and the least time, which the simulated bench
clears the film in and one second less does not. Before, such a strip validated and left
resist over the field for the etch after it, found only on the line."""

from __future__ import annotations

import pytest

from packline.cli import main
from packline.drivers.roles.lithography import CoatMaterial, coated_film_um
from packline.drivers.roles.wet_bench import BATH_TOLERANCE_C, Tank
from packline.sim_instruments.physics.wet_bench import WetPhysics

from .helpers import reference_recipe, refusal, write_recipe

#: sprout-bump-csp's reference mould: PR-THICK at 4000 rpm for 30 s, baked 90 s at 110 degC.
MOULD_UM = coated_film_um(CoatMaterial.PR_THICK, 4000, 30, 110, 90)
#: The least strip at 60 degC that takes it off in the bath at 59 degC (0.0467 um/s).
LEAST_S = 238


def test_the_least_strip_is_the_one_the_simulated_bench_clears_the_mould_in():
    coolest_um_s = WetPhysics().rate_um_s(Tank.STRIP, 60 - BATH_TOLERANCE_C)
    assert pytest.approx(11.06, abs=0.005) == MOULD_UM  # the reference's "11 um mould"
    assert coolest_um_s * LEAST_S >= MOULD_UM > coolest_um_s * (LEAST_S - 1)


def strip_of(method: str, variant: str, section: str, time: str, **mould: object) -> dict:
    """The reference recipe `variant` of `method` with its `section`'s strip (`etch.strip`
    for sprout-bump-csp's wiring) lasting `time`, and its mould's fields changed by `mould`."""
    recipe = reference_recipe(variant)
    holder = recipe[section]["etch"] if method == "sprout-bump-csp" else recipe[section]
    holder["strip"]["time_s"] = time
    if mould:
        recipe[section]["mould"].update(mould)
    return recipe


def test_a_strip_too_short_for_the_mould_is_refused_with_the_least_time(capsys, tmp_path):
    short = strip_of("sprout-bump-csp", "sprout-bump-csp.yaml", "wiring", "3 min")
    assert (
        "wiring.etch.strip.time_s = 3 min (180 s): the bath dips within 1 degC of its 60 degC: "
        "at 59 "
        "degC the strip takes 8.397 um off the 11.064 um of PR-THICK that wiring.mould spins "
        f"at 4000 rpm and bakes, leaving 2.667 um of resist: give at least {LEAST_S} s "
        "(claim 001:8)"
    ) in refusal(capsys, tmp_path, "sprout-bump-csp", short)
    least = strip_of("sprout-bump-csp", "sprout-bump-csp.yaml", "wiring", f"{LEAST_S} s")
    path = str(write_recipe(tmp_path, least))
    assert main(["validate", "sprout-bump-csp", "--recipe", path]) == 0


def test_a_thicker_mould_needs_a_longer_strip(capsys, tmp_path):
    """The film follows the spin: the same 5 min strip of the reference takes off a mould spun
    at 4000 rpm, not one spun at 1000 rpm (twice as thick)."""
    slow = strip_of("sprout-bump-csp", "sprout-bump-csp.yaml", "wiring", "5 min", spin_rpm=1000)
    error = refusal(capsys, tmp_path, "sprout-bump-csp", slow)
    assert "wiring.etch.strip.time_s = 5 min (300 s): " in error
    assert "give at least 475 s (claim 001:8)" in error


@pytest.mark.parametrize(
    ("method", "variant", "section", "resist", "claim"),
    [
        ("two-process-via", "two-process-via-passivated.yaml", "interconnects", "mould",
         "002:1a-d"),
        ("two-process-via", "two-process-via-passivated.yaml", "passivation", "mask", "002:15"),
        ("tape-substrate", "tape-substrate-metal.yaml", "metal_substrate", "resist", "000:x3"),
    ],
)  # fmt: skip
def test_every_method_that_strips_a_resist_is_held_to_it(
    capsys, tmp_path, method, variant, section, resist, claim
):
    error = refusal(capsys, tmp_path, method, strip_of(method, variant, section, "10 s"))
    assert f"{section}.strip.time_s = 10 s: the bath dips within 1 degC" in error
    assert f"that {section}.{resist} spins at " in error
    assert f"(claim {claim})" in error
