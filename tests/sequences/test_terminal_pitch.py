"""validate refuses two-process-via's balls that would touch on the pads (002:1i): a ball
reaches from its site its radius, the flux spread past the swim ratio and the mounter's
placement error at its most (`ball_reach_um`, the line's figures, which the simulated cell
places by, its error held within 3 sigma), and the pads' closest pitch (`pad_pitch_um`: along
a die's edge, at its corners, across two dies) must be wider than two reaches. The refusal
gives the largest ball, or the pads a side at which the balls fit. Before, 300 um balls on 64
pads a side validated and the wafer was held at 'mount balls' with 66,816 bridged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sim_instruments.twin import WaferSpec, new_wafer, pad_pitch_um

from .helpers import (
    failing_claims,
    recipe_problems,
    reference_recipe,
    refusal,
    validated_lot_of_one,
)

#: On 32 pads a side of 10 mm dies (203.293 um at the closest, across a die's corner), the
#: largest ball that stays apart, and its flux's most.
LARGEST_UM, MOST_FLUX_UM = 135.4, 81.2


@pytest.mark.parametrize("pads", [1, 8, 13, 32, 64, 100])
@pytest.mark.parametrize("die_mm", [(10.0, 10.0), (6.0, 9.0)])
def test_the_pad_pitch_is_the_closest_two_pads_of_the_wafer(pads, die_mm):
    spec = WaferSpec(diameter_mm=60, die_size_mm=die_mm, pads_per_die_side=pads)
    geometry = new_wafer("W01", spec).geometry
    sites = np.c_[geometry.site_x_mm, geometry.site_y_mm].astype(float) * 1000
    closest = cKDTree(sites).query(sites, k=2)[0][:, 1].min()
    assert pad_pitch_um(spec) == pytest.approx(closest, abs=1e-3)


def pads(count: int, balls: str, flux: str = "100 um") -> dict:
    """two-process-via.yaml on a wafer of `count` pads a side, with a ball on every pad."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["wafer"] = {"pads_per_die_side": count}
    recipe["terminals"].update(
        balls_per_unit=4 * count, ball_diameter_um=balls, flux_thickness_um=flux
    )
    return recipe


def test_balls_too_wide_for_any_pitch_name_the_pads_that_take_them(capsys, tmp_path):
    assert (
        "terminals.ball_diameter_um = 300 um: balls on the pads of wafer.pads_per_die_side = 64 "
        "a side of 10 x 10 mm dies at least 92.808 um apart touch their neighbours: each "
        "reaches 183.941 um from its site (its radius, the flux beyond 0.6 of it, and the "
        "mounter's placement at its most, 33.941 um or more): no ball the mounter takes (100 "
        "um at the least) stays apart there; these would on a wafer of at most 8 pads a side "
        "(wafer.pads_per_die_side) (claim 002:1i)"
    ) in refusal(capsys, tmp_path, "two-process-via", pads(64, "300 um"))


def test_balls_too_wide_for_the_pitch_are_refused_with_the_largest():
    (problem,) = recipe_problems(TwoProcessViaRecipe, pads(32, "300 um"))
    assert problem["path"] == "terminals.ball_diameter_um"
    assert problem["message"].endswith(
        f"give at most {LARGEST_UM:g} um, on a flux_thickness_um of at most {MOST_FLUX_UM:g} "
        "um (claim 002:1i)"
    )
    wider = pads(32, f"{LARGEST_UM + 0.1:g} um", f"{MOST_FLUX_UM:g} um")
    (problem,) = recipe_problems(TwoProcessViaRecipe, wider)
    assert problem["message"].endswith(f"give at most {LARGEST_UM:g} um (claim 002:1i)")
    swimming = pads(32, f"{LARGEST_UM:g} um", f"{MOST_FLUX_UM + 0.1:g} um")
    (problem,) = recipe_problems(TwoProcessViaRecipe, swimming)
    assert problem["path"] == "terminals.flux_thickness_um"


def test_the_largest_ball_validates_and_bridges_nowhere(capsys, tmp_path):
    recipe = pads(32, f"{LARGEST_UM:g} um", f"{MOST_FLUX_UM:g} um")
    recipe.pop("mounting")
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", recipe)
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])
