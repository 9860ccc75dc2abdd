"""Recipes, the method registry, and twin snapshots."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from packline.sequences.engine import RecipeError, all_methods, get_method, read_recipe_text
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.progress import wall_text
from packline.sequences.plasma_clean import PlasmaCleanRecipe
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import read_snapshot, restore, snapshot
from packline.testing.twin import state_differences

GOOD = """
steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 0.2 torr, rf_power_w: 0.3 kW, time_s: 1 min}
"""


def test_recipe_converts_units_and_hashes_by_value():
    recipe = read_recipe_text(PlasmaCleanRecipe, GOOD, "r.yaml")
    step = recipe.steps[0]
    assert (step.pressure_mtorr, step.rf_power_w, step.time_s) == (200, 300, 60)
    same = read_recipe_text(PlasmaCleanRecipe, GOOD.replace("1 min", "60 s"), "r.yaml")
    assert same.recipe_hash() == recipe.recipe_hash()
    assert (
        read_recipe_text(PlasmaCleanRecipe, GOOD.replace("1 min", "61 s"), "r").recipe_hash()
        != same.recipe_hash()
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("0.3 kW", "2000 W"),
            "r.yaml: line 3: steps.0.rf_power_w = '2000 W': must be at most 1000",
        ),
        (
            ("0.3 kW", "300 um"),
            "steps.0.rf_power_w = '300 um': '300 um' is a length, expected a power",
        ),
        (("gas: O2", "gas: N2"), "steps.0.gas = 'N2'"),
        (
            ("time_s", "tme_s"),
            "steps.0.tme_s = '1 min': not a field of steps.0: did you mean time_s?",
        ),
        (("- {", "- {flow: 1, "), "steps.0.flow"),
    ],
)
def test_bad_recipes_name_the_field_the_value_and_the_limit(change, expected):
    with pytest.raises(RecipeError) as error:
        read_recipe_text(PlasmaCleanRecipe, GOOD.replace(*change), "r.yaml")
    assert expected in str(error.value)


def test_recipes_are_data_not_code():
    with pytest.raises(RecipeError, match="not valid YAML"):
        read_recipe_text(PlasmaCleanRecipe, "steps: !!python/object/apply:os.system ['true']", "r")


def test_registry_lists_plasma_clean_with_its_claims_and_options():
    plasma = get_method("plasma-clean")
    assert plasma in all_methods()
    assert "003:14" in plasma.claims
    assert plasma.irreversible == {"plasma clean"}
    assert set(plasma.options()) == {"steps", "batch_timeout_s"}
    with pytest.raises(BadInput, match=r"unknown method 'nope'; known methods: .*plasma-clean"):
        get_method("nope")


def test_options_show_defaults_as_a_recipe_writes_them():
    assert get_method("plasma-clean").options() == {
        "steps": "required",
        "batch_timeout_s": "600.0",
    }
    sprout = get_method("sprout-bump-csp").options()
    assert (sprout["support"], sprout["thick_resin"], sprout["dicing"]) == (
        "required",
        "false",
        "none",
    )
    assert get_method("two-process-via").options()["wafer"] == "default section"


def test_twin_snapshot_round_trips_every_field_without_pickle():
    twin = TwinStore()
    wafer = twin.get("W01")
    wafer.surface.residue_nm[:10] = 0
    wafer.singulation.kerfs_x_mm.append(1.5)
    wafer.record("plasma", "plasma clean", 12.0, recipe="O2 300 W 60 s")
    data = snapshot(wafer)
    objects = np.array([object()], dtype=object)
    with pytest.raises(ValueError, match="allow_pickle=False"):  # objects would need pickle
        snapshot(
            dataclasses.replace(
                wafer, surface=dataclasses.replace(wafer.surface, residue_nm=objects)
            )
        )
    copy = read_snapshot(data)
    assert state_differences(wafer, copy) == []  # every array's dtype and values, every type
    fresh = TwinStore().get("W01")
    restore(fresh, data)
    assert np.array_equal(fresh.surface.residue_nm, wafer.surface.residue_nm)
    assert fresh.history == wafer.history
    with pytest.raises(ValueError, match="not 'W02'"):
        restore(TwinStore().get("W02"), data)
    with pytest.raises(ValueError, match="twin snapshot"):
        read_snapshot(b"\x00" * 8 + b"garbage")


def test_traces_survive_a_transaction_that_rolls_back(store):
    store.add_trace("r", "pc", None, "pressure", 1.0, "mTorr", 0.0, 0.0)
    with pytest.raises(RuntimeError), store.transaction():
        raise RuntimeError("a write failed")
    store.flush_traces()
    assert store.trace_summary("r")[0]["samples"] == 1


def _add_run(store, run_id: str, *, method: str = "m", status: str = "completed", wall=0.0):
    store.create_run(
        {
            "id": run_id,
            "method": method,
            "recipe_json": "{}",
            "recipe_text": "",
            "recipe_source": "",
            "recipe_hash": "",
            "station_name": "s",
            "station_yaml": "",
            "simulated": 1,
            "operator": "o",
            "lot_size": 1,
            "failure_policy": "hold",
            "status": status,
            "sessions": 1,
            "started_t": 0.0,
            "started_wall": wall,
        },
        ["W1"],
    )


def test_a_run_prefix_is_a_prefix_not_a_pattern(store):
    _add_run(store, "20250101-000000-abcd")
    assert store.resolve_run("2025") == "20250101-000000-abcd"
    for pattern in ("_", "%", "2025%abcd", "20250101-000000-ABCD"):
        with pytest.raises(BadInput, match="no run"):
            store.resolve_run(pattern)


def test_an_ambiguous_run_prefix_lists_the_runs_it_matches_to_pick_from(store):
    """Each run the prefix matches, newest first: its id, method, start and status."""
    _add_run(store, "20250101-000000-abcd", method="plasma-clean", wall=1.0e9)
    _add_run(store, "20250101-000000-abce", method="tape-substrate", status="held", wall=1.1e9)
    _add_run(store, "20250102-000000-abcf")
    with pytest.raises(BadInput) as refused:
        store.resolve_run("20250101")
    assert str(refused.value) == (
        f"run '20250101': 2 runs in {store.path} start so; give more of the id; they are:\n"
        f"  20250101-000000-abce  tape-substrate  started {wall_text(1.1e9)}  held\n"
        f"  20250101-000000-abcd  plasma-clean  started {wall_text(1.0e9)}  completed"
    )
