"""A refusal's suggestion printed with fewer figures than it was worked out to still passes the
test it was worked out for: a least is rounded up (`rounded_up`), a most down
(`rounded_down`), each a step further where the float's product with the scale lands on the
step past the value (0.8999999999999999 x 10 is 9.0), and a value on a step keeps it; and
where the test still refuses it (a value worked out in closed form that lands on a step, where
the floats of the two sums fall either side), a step further (`most_that_passes`,
`least_that_passes`)."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from packline.drivers.roles.ball_mounter import ball_stray_um
from packline.sequences.solder import SolderBallRecipe, most_swim_free_flux_um
from packline.sequences.sprout_bump_csp import SolderResistRecipe, SproutBumpRecipe
from packline.sequences.sprout_bump_csp.recipe import require_balls_in_their_holes
from packline.sequences.suggestion_rounding import (
    least_that_passes,
    most_that_passes,
    rounded_down,
    rounded_up,
)
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import reference_recipe


@pytest.mark.parametrize(
    ("value", "decimals", "down", "up"),
    [
        (158.76, 1, 158.7, 158.8),
        (12.3, 1, 12.3, 12.3),  # on a step: kept either way
        (3.14159, 2, 3.14, 3.15),
        (0.8999999999999999, 1, 0.8, 0.9),  # x 10 is 9.0: 0.9 would be above it
        (1.7000000000000002, 1, 1.7, 1.8),  # x 10 is 17.0: 1.7 would be below it
        (42.0, 0, 42.0, 42.0),
    ],
)
def test_a_suggestion_rounds_to_its_figures_on_the_side_that_passes(value, decimals, down, up):
    assert rounded_down(value, decimals) == down <= value
    assert rounded_up(value, decimals) == up >= value


def test_a_most_or_least_its_test_refuses_moves_a_step_and_one_it_takes_stays():
    """A most (least) rounded onto a step its test refuses (a strict test met with equality)
    is the step below (above); one its test takes is kept as rounded."""
    assert most_that_passes(3.0, 1, lambda most: most < 3.0) == 2.9
    assert most_that_passes(3.04, 1, lambda most: most < 3.04) == 3.0
    assert least_that_passes(3.0, 1, lambda least: least > 3.0) == 3.1
    assert least_that_passes(2.96, 1, lambda least: least > 2.96) == 3.0


#: How far balls on a flux that does not swim land from their sites at the most (the
#: mounter's placement alone): two of them keep a pitch of a ball and twice this apart.
STILL_UM = ball_stray_um(300.0, 0.0)


def apart_advice(terminals: SolderBallRecipe, pitch_um: float) -> str | None:
    """What `require_apart` advises `terminals` on sites `pitch_um` apart (None: they stay
    apart)."""
    try:
        terminals.require_apart(pitch_um, "002:1i", "terminals", "the pads", lambda fits: "")
    except PydanticCustomError as refused:
        return refused.context["message"].rpartition(": ")[2]
    return None


@pytest.mark.parametrize("room_um", [100.2, 135.4, 250.7])
def test_the_largest_ball_a_refusal_gives_stays_apart_where_the_room_is_on_a_step(room_um):
    """Sites a ball of `room_um` (on a 0.1 um step) and twice the stray apart: that ball
    touches its neighbours (its reach is half the pitch; as the floats add up, 100.2 um's
    168.0822509939086 um pitch less the strays reads 100.20000000000002), so the refusal
    gives the step below, on which the balls stay apart. The hand-written rounding gave
    100.2 um there, which the same test refused (and then called its flux the one that
    swims)."""
    pitch_um = room_um + 2 * STILL_UM
    reference = TwoProcessViaRecipe.model_validate(reference_recipe("two-process-via.yaml"))
    swimming = {"ball_diameter_um": 300.0, "flux_thickness_um": 200.0}
    terminals = reference.terminals.model_copy(update=swimming)
    largest_um = round(room_um - 0.1, 1)
    flux_um = most_swim_free_flux_um(largest_um)
    assert apart_advice(terminals, pitch_um) == (
        f"give at most {largest_um:g} um, on a flux_thickness_um of at most {flux_um:g} um"
    )
    fitting = {"ball_diameter_um": largest_um, "flux_thickness_um": flux_um}
    assert apart_advice(terminals.model_copy(update=fitting), pitch_um) is None


def test_the_largest_ball_a_refusal_gives_fits_its_opening_where_the_room_is_on_a_step(
    monkeypatch: pytest.MonkeyPatch,
):
    """001:4's openings developed 343.98225099390856 um across: room, less twice the stray
    and the overlay, for a ball of 256.1 um as the floats subtract it, yet a 256.1 um ball
    reaches under the resist's edge as they add up. The refusal gives 256 um, which fits on
    the flux it names; before, it gave 256.1 um, which the same test refused."""
    reference = SproutBumpRecipe.model_validate(reference_recipe("sprout-bump-csp.yaml"))
    opening_um = 343.98225099390856
    monkeypatch.setattr(SolderResistRecipe, "developed_um", lambda resist: opening_um)
    swimming = {"ball_diameter_um": 300.0, "flux_thickness_um": 200.0}
    with pytest.raises(PydanticCustomError) as refused:
        require_balls_in_their_holes(reference.terminals.model_copy(update=swimming))
    assert (
        "give at most 256 um, on a flux_thickness_um of at most 153.6 um, or a "
        in (refused.value.context["message"])
    )
    fitting = {"ball_diameter_um": 256.0, "flux_thickness_um": 153.6}
    require_balls_in_their_holes(reference.terminals.model_copy(update=fitting))
