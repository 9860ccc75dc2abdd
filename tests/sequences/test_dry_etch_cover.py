"""validate refuses a dry etch of two-process-via that takes so much resin off the top that
the interconnects lose their cover (002:1e): the O2 etches the top down as much as the concave
bottoms (the line's `O2_RESIN_UM_PER_MIN`), so it may take off no more than the thinnest resin
over an interconnect less the 1 um that insulates it; the refusal gives the most time. When
no time both opens the bottoms (002:4) and keeps that cover, the first laser is refused with
its least depth. Before, following validate's own advice on a 5000 rpm resin (a 12.39 um
laser, then; 7.03 um now that the laser's depth is judged against the resin over the
interconnects' tops, its vias up to 5 % deeper) with the reference's 8 min of O2 validated
and lost 002:1e."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.sequences.engine import RunStore
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.recipe import parse_recipe
from packline.sequences.two_process_via import TwoProcessViaRecipe

from .helpers import (
    completed_past_validate,
    dry_etch_lasting,
    failing_claims,
    recipe_problems,
    reference_recipe,
    refusal,
    validated_lot_of_one,
    write_recipe,
)

#: On a 5000 rpm resin with a 7.03 um first laser (the deepest validate takes there): the
#: most O2 at 1 kW (6.383 of the 6.394 um above the 1 um cover), and the least (the 3.443 um
#: left at the thickest bottom, 10.121 um over the shortest interconnect in the edge bead,
#: where the laser goes 6.678 um at its shallowest).
MOST_S, LEAST_S = 383, 207
#: The least first laser on that resin for which some whole second of O2 does both.
LEAST_DEPTH_UM = 3.94


def thin_resin(o2_time: str, depth: str = "7.03 um") -> dict:
    """two-process-via.yaml with its resin spun at 5000 rpm, its first laser to `depth` and
    its O2 step lasting `o2_time`."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["resin"]["spin_rpm"] = "5000 rpm"
    recipe["first"]["depth_um"] = depth
    recipe["second"]["plasma"]["steps"][0]["time_s"] = o2_time
    return recipe


def problem(recipe: dict) -> dict:
    """The one problem validate's recipe reading refuses two-process-via `recipe` with."""
    (only,) = recipe_problems(TwoProcessViaRecipe, recipe)
    return only


def test_an_etch_past_the_cover_is_refused_with_the_most_time(capsys, tmp_path):
    assert problem(thin_resin("8 min"))["path"] == "second.plasma.steps.0.time_s"
    assert (
        "second.plasma.steps.0.time_s = 8 min (480 s): the dry etch's O2 takes 8 um of resin "
        "off the "
        "top as well as off the concave bottoms (the line's 1 um/min at 1000 W), baring the "
        "interconnects (0.606 um below their tops) where the covering resin is thinnest, "
        "7.394 um over one 5.042 um high (at least 1 um must stay): give at most 383 s (claim "
        "002:1e)"
    ) in refusal(capsys, tmp_path, "two-process-via", thin_resin("8 min"))
    assert f"give at most {MOST_S} s" in problem(thin_resin(f"{MOST_S + 1} s"))["message"]
    assert f"give at least {LEAST_S} s" in problem(thin_resin(f"{LEAST_S - 1} s"))["message"]


def test_a_first_laser_too_shallow_for_any_etch_is_refused_with_its_least_depth():
    """No O2 time opens 7.3 um of bottom (10.121 um less the laser's 2.85 um at its
    shallowest) and leaves 1 um over the interconnects: the depth is the root problem, and the
    etch is not refused besides with a time that cannot work."""
    found = problem(thin_resin("5 min", depth="3 um"))
    assert found["path"] == "first.depth_um"
    assert found["message"] == (
        "first.depth_um = 3 um: it leaves 7.271 um of resin at the thickest concave bottom "
        "(lasered first.depth_um = 3 um, 2.85 um at its shallowest (the laser's depth spread, "
        "+-5% of it)), which the dry etch must take off, but it may take no more than 6.383 um "
        "off the top (383 s of its last step): the resin over the interconnects is 7.394 um "
        "where thinnest (over one 5.042 um high) and at least 1 um must stay: give at least "
        "3.94 um (claim 002:1e)"
    )
    depth = f"{LEAST_DEPTH_UM - 0.01:g} um"
    assert problem(thin_resin(f"{MOST_S} s", depth))["path"] == "first.depth_um"
    parse_recipe(TwoProcessViaRecipe, thin_resin(f"{MOST_S} s", f"{LEAST_DEPTH_UM} um"), "r")


@pytest.mark.parametrize(
    ("o2_time", "depth"),
    [(f"{MOST_S} s", "7.03 um"), (f"{LEAST_S} s", "7.03 um")],
)
def test_the_most_and_least_etch_validate_and_pass_the_claim_check(
    capsys, tmp_path, o2_time, depth
):
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", thin_resin(o2_time, depth))
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])


async def test_an_etch_past_the_cover_driven_past_validate_fails_002_1e(
    store: RunStore, tmp_path: Path
):
    """The reference's 8 min of O2 on the 5000 rpm resin, which validate refuses (at most
    383 s), driven past validate from the most it gives: the etch bares the interconnects
    where the resin over them is thinnest, the lot completes, and the claim check names
    002:1e, the resin left over the interconnects below 0 (the method page's example)."""
    path = write_recipe(tmp_path, thin_resin(f"{MOST_S} s"))
    check = await completed_past_validate(store, "two-process-via", path, dry_etch_lasting(480.0))
    # 002:1e, and 002:1's products, true or false at each site: no margin of their own
    assert failing_claims(check) == {"002:1e", "002:9", "002:18", "002:6", "002:7", "002:8"}
    (cover,) = [c for c in check["conditions"] if c["claim"] == "002:1e"]
    assert margin_text(cover) == (
        "smallest resin over the interconnects -0.599 um, at least 1 um: 1.6 um short"
    )
