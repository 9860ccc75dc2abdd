"""validate judges two-process-via's passivation.min_thickness_nm against the film the line's
chamber lays at the farthest pad, as the twin keeps it (002:15): by the chamber the dry run's
deposition tool is given (`DEPOSITION_PHYSICS`), not a default one of its own, and in the
float32 um the twin holds, which the claim check compares with the limit in float64 as
validate does (in float32 a limit a hair above the film was rounded to it and passed, its
margin short)."""

from __future__ import annotations

import numpy as np
import pytest

from packline.drivers.roles.deposition import Material, Method
from packline.sequences import conditions
from packline.sequences.engine import RunStore
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.sprout_bump_csp.recipe import DEPOSITION_PHYSICS
from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sim_instruments.physics.deposition import deposit_film
from packline.sim_instruments.twin import TwinStore

from .helpers import (
    completed_past_validate,
    failing_claims,
    recipe_problems,
    reference_recipe,
    reference_with,
)

#: A least between the reference's 500 nm at its farthest pad in float64 (481.65053875 nm)
#: and as the twin keeps it (481.65053129 nm).
HAIR_ABOVE_NM = 481.650535


def test_a_least_above_the_film_as_the_twin_keeps_it_is_refused():
    recipe = reference_with(
        "two-process-via-passivated.yaml", "passivation.min_thickness_nm", f"{HAIR_ABOVE_NM} nm"
    )
    (problem,) = recipe_problems(TwoProcessViaRecipe, recipe)
    assert problem["message"].endswith("give at most 481.6 nm (claim 002:15)")


def test_the_claim_check_compares_the_film_with_its_limit_in_float64():
    wafer = TwinStore().get("W01")
    deposit_film(wafer, Method.CVD, Material.SIN, 500.0, 0.0, DEPOSITION_PHYSICS)
    condition = conditions.passivation_open_at_pads("002:15", HAIR_ABOVE_NM)
    assert condition.margin is not None
    thickness = condition.margin.value(wafer)
    assert thickness.dtype == np.float64
    every = np.ones(wafer.geometry.site_count, bool)
    worst = condition.margin.worst_site(wafer, every).value
    assert worst is not None
    assert condition.margin.fails(worst)
    assert not (thickness >= HAIR_ABOVE_NM).all()  # the verdict's comparison agrees


async def test_validate_and_the_dry_run_lay_the_film_with_the_same_chamber(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
):
    """A chamber thinning CVD 12 % to the rim: 500 nm is 444.95 nm at the farthest pad,
    below the reference's 450 nm. validate refuses it, and the dry run's chamber, the
    reference validated before the chamber changed, lays it so."""

    def thinning(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
        monkeypatch.setitem(DEPOSITION_PHYSICS.edge_thinning, Method.CVD, 0.12)
        return recipe

    check = await completed_past_validate(
        store, "two-process-via", "two-process-via-passivated.yaml", thinning
    )
    assert "002:15" in failing_claims(check)
    (problem,) = recipe_problems(
        TwoProcessViaRecipe, reference_recipe("two-process-via-passivated.yaml")
    )
    assert "give at most 444.9 nm" in problem["message"]


async def test_a_film_the_cvd_thins_below_the_minimum_past_validate_fails_002_15(store: RunStore):
    """460 nm of SiN, which validate refuses (plasma CVD thins it to 443.12 nm at the farthest
    pad, under the reference's 450 nm least), driven past validate: the lot completes and the
    claim check fails 002:15 alone, its margin the thinnest film to the decimals that tell it
    from the limit (the method page's example)."""

    def thinner_film(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
        passivation = recipe.passivation
        assert passivation is not None
        film = passivation.film.model_copy(update={"thickness_nm": 460.0})
        return recipe.model_copy(
            update={"passivation": passivation.model_copy(update={"film": film})}
        )

    check = await completed_past_validate(
        store, "two-process-via", "two-process-via-passivated.yaml", thinner_film
    )
    assert failing_claims(check) == {"002:15"}
    (failed,) = [c for c in check["conditions"] if c["verdict"] == "fail"]
    assert margin_text(failed) == (
        "smallest passivation around a pad 443.12 nm, at least 450 nm: 6.88 nm short"
    )
