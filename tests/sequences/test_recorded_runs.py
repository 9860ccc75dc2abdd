"""A run recorded by an earlier release still resumes: its recorded recipe is read under its
keys' new names (`RENAMED_KEYS`) and a seed's recorded zeros as left out
(`parse_recipe(recorded=True)`), its steps under their new names (`Method.renamed_steps`);
a recorded recipe that a check added since refuses is not driven, and the refusal says why
and what the user can do. Compared with a run of today (`packline diff`, `packline spc`), its
keys and measurements are read by their names now (`Method.renamed_measurements`, decision
0062).

The earlier release's records are made by today's code and rewritten as that release wrote
them (two-process-via's mounting key `chips`, its step 'mount chips'; a seed's settings its
method does not take recorded as 0)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from packline.cli import main
from packline.records.spc import measurement_values
from packline.sequences.engine import (
    BadInput,
    Decision,
    RunRequest,
    RunStore,
    get_method,
    open_resume,
    open_run,
    prepare,
    record_disposition,
)
from packline.sequences.engine import recipe as recipes
from packline.sequences.engine.clearances import record_clearance

from .helpers import stopped_at
from .test_dispositions import held_by_a_fault

#: two-process-via's mounting step, before and since it took 002's words.
OLD_STEP, NEW_STEP = "mount chips", "mount devices"


def rewrite_run(store: RunStore, run_id: str, recipe: dict[str, Any], renamed: bool) -> None:
    """Record `recipe` as run `run_id`'s, and (`renamed`) its steps called NEW_STEP by their
    name before, OLD_STEP: the run as the earlier release recorded it."""
    with store.transaction() as db:
        db.execute("UPDATE runs SET recipe_json = ? WHERE id = ?", (json.dumps(recipe), run_id))
        if renamed:
            db.execute(
                "UPDATE steps SET name = ?, key = replace(key, ?, ?) WHERE run_id = ? AND name = ?",
                (OLD_STEP, NEW_STEP, OLD_STEP, run_id, NEW_STEP),
            )


def with_old_names(recipe: dict[str, Any]) -> dict[str, Any]:
    """`recipe` (canonical JSON, read) with every key `RENAMED_KEYS` renamed by its old name,
    in every section."""
    old_names = {new: old for old, new in recipes.RENAMED_KEYS.items()}
    return {
        old_names.get(key, key): with_old_names(value) if isinstance(value, dict) else value
        for key, value in recipe.items()
    }


def recorded_recipe(store: RunStore, run_id: str) -> dict[str, Any]:
    recipe: dict[str, Any] = json.loads(store.run(run_id)["recipe_json"])
    return recipe


def mounting_rows(store: RunStore, run_id: str) -> list[tuple[int, str, str]]:
    return [
        (step["session"], step["key"], step["status"])
        for step in store.table("steps", run_id)
        if step["name"] in (OLD_STEP, NEW_STEP)
    ]


#: two-process-via's mounting measurements, now -> (name, unit) as recorded before the mounting
#: took 002's words (0c56515: bump-seal-clean's chips, by their bumps).
MEASURED_BEFORE = {
    "devices bonded": ("chips bonded", "chips"),
    "balls joined": ("bumps joined", "bumps"),
}


def copied_as_recorded_before_the_renames(store: RunStore, run_id: str, old_id: str) -> None:
    """Run `run_id` copied as run `old_id`, started an hour before it, as the earlier release
    recorded it: its recipe's keys by their old names, its mounting measurements by their
    names and units then (`MEASURED_BEFORE`); its wafers as they ended."""
    run = store.run(run_id)
    old_recipe = json.dumps(with_old_names(recorded_recipe(store, run_id)))
    started_wall = run["started_wall"] - 3600
    copy = {**run, "id": old_id, "recipe_json": old_recipe, "started_wall": started_wall}
    wafers = store.wafers(run_id)
    store.create_run(copy, [wafer["wafer_id"] for wafer in wafers])
    with store.transaction() as db:
        for wafer in wafers:
            ended = ("status", "reason", "started_t", "stopped_t")
            sets = ", ".join(f"{column} = ?" for column in ended)
            db.execute(
                f"UPDATE wafers SET {sets} WHERE run_id = ? AND wafer_id = ?",
                (*(wafer[column] for column in ended), old_id, wafer["wafer_id"]),
            )
    measured = []
    for row in store.table("measurements", run_id):
        name, unit = MEASURED_BEFORE.get(row["name"], (row["name"], row["unit"]))
        own = {column: value for column, value in row.items() if column != "id"}
        measured.append({**own, "run_id": old_id, "name": name, "unit": unit})
    store.add_rows("measurements", measured)


async def test_a_run_recorded_before_the_renames_is_compared_under_todays_names(store, capsys):
    """`packline diff` of a run recorded before two-process-via's mounting took 002's words
    and one of today lines the renamed key (`chips`, now `devices`) and measurements ('chips
    bonded' in chips, now 'devices bonded' in devices) up: the same recipe differs in nothing,
    each measurement is one row; `spc` charts the renamed measurement across both runs. A
    recorded recipe this release refuses is shown as recorded, saying so."""
    prepared = prepare(RunRequest("two-process-via", lot=1))
    async with open_run(store, prepared) as engine:
        assert await engine.run() == "completed"
    copied_as_recorded_before_the_renames(store, engine.run_id, "OLD")
    db = ["--db", str(store.path)]
    assert main(["diff", "OLD", engine.run_id, "--json", *db]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["recipe"] == []
    assert diff["recipes_as_recorded"] == []
    measured = {row["what"]: (row["a"], row["b"]) for row in diff["measurements"]}
    for now, (before, _) in MEASURED_BEFORE.items():
        assert before not in measured
        old, new = measured[now]
        assert old == new, now
    assert measured["devices bonded"][0].startswith("4 devices")
    values = measurement_values(store, "devices bonded", "two-process-via")
    assert values["run_id"].tolist() == ["OLD", engine.run_id]
    assert set(values["unit"]) == {"devices"}

    recipe = recorded_recipe(store, "OLD")
    recipe["mounting"]["bond_time_s"] = "1.9 s"  # refused since (a bond shorter than wetting)
    rewrite_run(store, "OLD", recipe, False)
    assert main(["diff", "OLD", engine.run_id, "--json", *db]) == 0
    diff = json.loads(capsys.readouterr().out)
    differ = {row["what"] for row in diff["recipe"]}
    assert {"mounting.bond_time_s", "mounting.chips", "mounting.devices"} <= differ
    (note,) = diff["recipes_as_recorded"]
    assert note.startswith("run OLD: recipe shown as recorded, by its names then: run OLD ")
    assert "mounting.bond_time_s = 1.9 s" in note


#: How the run recorded before the rename is stopped at its mounting, by the status it
#: leaves the mounting in: the command, and the event of the mounting it is given at
#: (`failed` is no stop but a fault: `held_by_a_fault`).
STOPS = {"completed": ("terminate", "step-finished"), "cut off": ("abort", "step-started")}


def skipped_in_its_replayed_stage(store: RunStore, run_id: str, recorded_status: str) -> None:
    """The mounting, recorded `recorded_status` under its old name, was skipped under its
    new one by the resume, and its cut-off stage replayed (the board loaded again)."""
    assert mounting_rows(store, run_id) == [
        (1, f"{OLD_STEP}#0", recorded_status),
        (2, f"{NEW_STEP}#0", "skipped"),
    ]
    loads = [s["session"] for s in store.table("steps", run_id) if s["name"] == "load board"]
    assert loads == [1, 2]


async def mounting_recorded_before_the_rename(store: RunStore, stop: str) -> str:
    """A two-process-via lot of 1 recorded as the earlier release recorded it, stopped at
    its mounting (`STOPS`): held there by the bonder's air supply failing (`failed`),
    terminated once it completed, the bonder's stage cut off around it (`completed`), or
    aborted while it ran (`cut off`)."""
    if stop == "failed":
        run_id, _ = await held_by_a_fault(
            store, "two-process-via", NEW_STEP, "flip_chip_bonder", "air_loss"
        )
    else:
        command, event = STOPS[stop]
        request = RunRequest("two-process-via", lot=1)
        run_id = await stopped_at(store, request, NEW_STEP, command=command, event=event)
    rewrite_run(store, run_id, with_old_names(recorded_recipe(store, run_id)), True)
    return run_id


async def test_a_mounting_held_under_its_old_name_is_reworked_under_its_new_one(store):
    """The lead's case: the recorded recipe's `chips` is read as `devices`, and the reworked
    'mount chips' is done again as 'mount devices' (not skipped, not left held)."""
    run_id = await mounting_recorded_before_the_rename(store, "failed")
    assert mounting_rows(store, run_id) == [(1, f"{OLD_STEP}#0", "failed")]
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "air back on")
    record_clearance(store, run_id, "flip_chip_bonder", "ana")  # out of service: no air
    async with open_resume(store, run_id) as resumed:
        assert resumed.recipe.mounting.devices == 4
        assert await resumed.run() == "completed"
    assert mounting_rows(store, run_id) == [
        (1, f"{OLD_STEP}#0", "failed"),
        (2, f"{NEW_STEP}#0", "completed"),
    ]


async def test_a_mounting_completed_under_its_old_name_is_never_done_again(store):
    """The bonder's stage was cut off by the terminate: the resume replays it (the board and
    die source loaded again) and skips the mounting completed as 'mount chips', an
    irreversible step."""
    run_id = await mounting_recorded_before_the_rename(store, "completed")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    skipped_in_its_replayed_stage(store, run_id, "completed")


async def test_a_mounting_cut_off_under_its_old_name_and_released_is_never_done_again(store):
    """An abort cut the irreversible 'mount chips' off and held the wafer; an operator
    released it: the resume skips it as 'mount devices' (its replayed stage runs again)."""
    run_id = await mounting_recorded_before_the_rename(store, "cut off")
    record_disposition(store, run_id, "W01", Decision.RELEASE, "ana", "inspected: bonded")
    async with open_resume(store, run_id) as resumed:
        await resumed.run()
    skipped_in_its_replayed_stage(store, run_id, "interrupted")


async def test_a_seed_recorded_with_zeros_for_settings_not_given_resumes_as_given_today(store):
    """An earlier release recorded a sputter's rate as 0 nm/s (0 was its default); read back,
    it is left out, as today's recipe has it, and the run resumes to its end."""
    request = RunRequest("sprout-bump-csp", lot=1)
    run_id = await stopped_at(store, request, None)  # terminated as its first step starts
    recipe = recorded_recipe(store, run_id)
    seed_steps = recipe["wiring"]["seed"]["steps"]
    assert [step["rate_nm_s"] for step in seed_steps] == [None, None]
    for step in seed_steps:
        step["rate_nm_s"] = "0 nm/s"
    rewrite_run(store, run_id, recipe, False)
    async with open_resume(store, run_id) as resumed:
        assert resumed.recipe == prepare(request).recipe
        assert await resumed.run() == "completed"


def test_every_renamed_key_of_a_recorded_recipe_is_read_under_its_new_name():
    """Each key of `RENAMED_KEYS` (two-process-via has all three): a user's recipe by the old
    name is refused naming the new one; a run's recorded recipe is read as today's."""
    method = get_method("two-process-via")
    today, _ = method.load_default_recipe()
    old = with_old_names(json.loads(today.canonical_json()))
    recorded = recipes.parse_recipe(method.recipe_model, old, "recorded", recorded=True)
    assert recorded == today
    with pytest.raises(recipes.RecipeError) as refused:
        recipes.parse_recipe(method.recipe_model, old, "given")
    renames = [("interconnects", "cu_etch"), ("interconnects", "ti_etch"), ("mounting", "chips")]
    assert sorted(problem["message"] for problem in refused.value.problems) == sorted(
        f"{section}.{key} = {old[section][key]!r}: renamed {recipes.RENAMED_KEYS[key]} (the same "
        f"setting under its new name): write {recipes.RENAMED_KEYS[key]}"
        for section, key in renames
    )


async def test_a_recorded_recipe_a_check_added_since_refuses_is_not_resumed(store):
    """A bond shorter than the balls take to wet was validated before that check: the
    resume is refused, recording nothing, saying the recorded recipe no longer validates,
    why, and what can be done, and the held wafer stays held."""
    run_id = await mounting_recorded_before_the_rename(store, "failed")
    recipe = recorded_recipe(store, run_id)
    recipe["mounting"]["bond_time_s"] = "1.9 s"
    rewrite_run(store, run_id, recipe, False)
    record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "air back on")
    with pytest.raises(BadInput) as refused:
        async with open_resume(store, run_id):
            pass
    message = str(refused.value)
    assert message.startswith(
        f"run {run_id}: the recipe it was recorded with no longer validates (a check added "
        "since refuses it), so this release does not resume it:\n"
        f"run {run_id} recorded recipe: mounting.bond_time_s = 1.9 s: "
    )
    assert "Resume it with the release of packline that recorded it" in message
    assert f"packline disposition {run_id} WAFER scrap" in message
    assert store.run(run_id)["sessions"] == 1
    assert [w["status"] for w in store.wafers(run_id)] == ["held"]
