"""The claim check judges a condition where its claim says (`Condition.at`): the covering
resin's cure of 002:1g and 000:e as the cure step left it, read back from the records (the
twin's snapshot after the wafer's step, as decision 0045 reads a completed wafer), not at the
end of the run, when the balls' reflow has cured it further. validate holds the cure step to
0.9 (`test_cure_step.py`); a recipe driven past it must fail the check too."""

from __future__ import annotations

import sqlite3

from packline.drivers.roles.oven import RESIN_CURE, cure_of_holds, cure_profile
from packline.records.claimsites import condition_sites
from packline.records.reader import RunRecords
from packline.records.wafermaps import maps_section
from packline.sequences.engine import RunStore, TwinsAtSteps, get_method, load_recipe
from packline.sequences.tape_substrate import TapeSubstrateRecipe
from packline.sequences.two_process_via import TwoProcessViaRecipe
from packline.sim_instruments.twin.snapshot import read_snapshot

from .helpers import RECIPES, completed_past_validate

#: 10 min at 150 degC: the thermoset's epoxy cured about half way by its cure step.
HALF_CURED_S = 600.0


def half_cured(recipe: TwoProcessViaRecipe) -> TwoProcessViaRecipe:
    return recipe.model_copy(
        update={"cure": recipe.cure.model_copy(update={"hold_s": HALF_CURED_S})}
    )


async def test_a_cure_left_half_done_fails_002_1g_though_the_reflow_cures_it_later(
    store: RunStore,
):
    assert 0.45 < cure_of_holds(RESIN_CURE["epoxy"], cure_profile(150, HALF_CURED_S)) < 0.55
    check = await completed_past_validate(
        store, "two-process-via", "two-process-via.yaml", half_cured
    )
    cured = [c for c in check["conditions"] if c["condition"].startswith("every resin layer cured")]
    assert {c["claim"] for c in cured} == {"002:1g"}
    (cure,) = cured
    assert cure["verdict"] == "fail"
    # as the cure step left it (its ramps cure too), not as the balls' reflow left it
    assert 0.7 < cure["margin_worst"] < 0.8
    assert least_cure_at_the_end(store) > 0.9
    assert check["status"] == "failed"
    assert "002:1g" in check["note"]
    # the thermoset's product claims, heated until cured, are judged there too
    heated = [c for c in check["conditions"] if "heated until cured" in c["condition"]]
    assert {(c["claim"], c["verdict"]) for c in heated} == {("002:10", "fail"), ("002:19", "fail")}
    # the report's maps judge it where the check did: every site fails the cure
    checked, failing, section = cure_on_the_map(store)
    assert checked > 0
    assert failing == checked
    # the report of a run whose recorded recipe this release refuses still draws its maps,
    # saying why its conditions are not mapped
    said = "Not mapped: this release cannot state the claim's conditions for the run's recorded"
    assert said in section
    assert "give at least 2209 s (claim 002:1g)" in section


def cure_on_the_map(store: RunStore) -> tuple[int, int, str]:
    """The report's sites of W01 checked and failing 002:1g's cure, as its maps judge them
    (the conditions of the run's recipe driven past validate), and its maps section."""
    with sqlite3.connect(store.path) as db:
        ((run_id,),) = db.execute("SELECT id FROM runs").fetchall()
    recipe = half_cured(load_recipe(TwoProcessViaRecipe, RECIPES / "two-process-via.yaml")[0])
    conditions = list(get_method("two-process-via").claim_checks(recipe))
    records = RunRecords(store, run_id)
    on_the_map = condition_sites(conditions, "W01", records.workpiece, TwinsAtSteps(store, run_id))
    (cure,) = [c for c in on_the_map if c.condition.startswith("every resin layer cured")]
    return int(cure.checked.sum()), int(cure.failing.sum()), maps_section(records, "W01", {})


def least_cure_at_the_end(store: RunStore) -> float:
    """The least degree of cure of the store's one wafer's resin layers as the run ended."""
    with sqlite3.connect(store.path) as db:
        ((run_id,),) = db.execute("SELECT id FROM runs").fetchall()
    wafer = read_snapshot(store.latest_twins(run_id)["W01"])
    return min(layer.cure for layer in wafer.resins.layers)


def briefly_sealed(recipe: TapeSubstrateRecipe) -> TapeSubstrateRecipe:
    cure = recipe.seal.cure.model_copy(update={"hold_s": 180.0})
    return recipe.model_copy(update={"seal": recipe.seal.model_copy(update={"cure": cure})})


async def test_a_seal_cure_left_short_fails_000_e_though_the_balls_reflow_cures_it(
    store: RunStore,
):
    check = await completed_past_validate(
        store, "tape-substrate", "tape-substrate-balls.yaml", briefly_sealed
    )
    (cure,) = [
        c for c in check["conditions"] if c["condition"].startswith("every resin layer cured")
    ]
    assert (cure["claim"], cure["verdict"]) == ("000:e", "fail")
    assert cure["margin_worst"] < 0.9
    assert least_cure_at_the_end(store) > 0.9
