"""validate refuses a first laser of two-process-via deeper than the thinnest covering resin over
an interconnect (002:1f): the laser would reach the metal there and no concave portion keeps
resin below, which no later step undoes. The resin is the line's spin film over the shortest
interconnect (its copper etch at the most), the same law validate holds the dry etch to
(decision 0058); the refusal gives the deepest depth, which leaves resin at every site on the
simulated line, where a depth past the thinnest resin, driven through all the same, does not.
Before, a 30 um depth over 17.7 um of resin validated and lost 002:1f at all 8352 sites."""

from __future__ import annotations

from pathlib import Path

from packline.sequences.engine import RunStore
from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sequences.two_process_via.recipe import ConcaveLaser

from .helpers import (
    failing_claims,
    held_past_validate,
    reference_recipe,
    refusal,
    validated_lot_of_one,
)

#: The deepest first laser validate takes on the reference recipe: the covering resin is
#: 17.69 um over its shortest interconnect inside the edge bead.
DEEPEST_UM = 17.68


def deep(depth: str) -> dict:
    """two-process-via.yaml with its first laser to `depth`."""
    recipe = reference_recipe("two-process-via.yaml")
    recipe["first"]["depth_um"] = depth
    return recipe


def test_a_first_laser_through_the_resin_is_refused_with_the_deepest_depth(capsys, tmp_path):
    assert (
        "first.depth_um = 30 um: the laser would reach the metal where the covering resin is "
        "thinnest, 17.69 um over an interconnect 4.996 um high (the resin's spin film, its "
        "copper etch at the most): the first process leaves resin at the bottom of every "
        f"concave portion: give at most {DEEPEST_UM:g} um (claim 002:1f)"
    ) in refusal(capsys, tmp_path, "two-process-via", deep("30 um"))
    error = refusal(capsys, tmp_path, "two-process-via", deep(f"{DEEPEST_UM + 0.01:g} um"))
    assert f"give at most {DEEPEST_UM:g} um (claim 002:1f)" in error


def test_the_deepest_first_laser_validates_and_leaves_resin_at_every_site(capsys, tmp_path):
    summary = validated_lot_of_one(capsys, tmp_path, "two-process-via", deep(f"{DEEPEST_UM} um"))
    assert [wafer["status"] for wafer in summary["wafers"]] == ["completed"]
    assert summary["claim_check"]["status"] == "passed", failing_claims(summary["claim_check"])


async def test_a_first_laser_past_the_thinnest_resin_driven_past_validate_is_held(
    store: RunStore, tmp_path: Path
):
    """Just past the thinnest resin, 17.8 um, the laser reaches the metal at some sites and
    the line holds the wafer there: the check is the line's, not a margin of its own."""

    def deeper(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
        assert isinstance(recipe.first, ConcaveLaser)
        first = recipe.first.model_copy(update={"depth_um": 17.8})
        return recipe.model_copy(update={"first": first})

    wafer = await held_past_validate(store, tmp_path, "two-process-via.yaml", deeper)
    assert "step 'laser concave portions'" in wafer["reason"]
    assert "concave portions through to metal = " in wafer["reason"]
