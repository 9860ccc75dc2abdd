"""A run drives the tools of the roles its recipe drives, not every role of its method
(decision 0093): its station needs only those, and it holds only those while it runs. Every
reference recipe's run connecting and using exactly its declared roles is tested with the
claim map (`test_claim_map_steps_are_recorded_with_their_claims_on_the_sim`)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import json
import operator
from pathlib import Path

import pytest
import yaml

from packline.cli import main
from packline.clock import ScaledClock, WallClock
from packline.line_lock import Holder, LineBusy, hold_tools
from packline.sequences.engine import (
    BadInput,
    Method,
    RecipeError,
    RunRequest,
    all_methods,
    get_method,
    open_resume,
    open_run,
    prepare,
)
from packline.sequences.engine.recipe import parse_recipe
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot, stopped_at
from ..test_resume_station import confirm_yes, station_file

#: The roles bump-seal-clean's reference recipe drives: stud bumps, the resin, a plasma clean
#: and dicing; no balls, no plated solder layer, no laser, no mounting.
PLASMA_RECIPE_ROLES = ("wire_bonder", "laminator", "plasma_cleaner", "dicing_saw")


@pytest.fixture
async def tools() -> dict[str, dict]:
    """The station entries of a tool of every role of bump-seal-clean, at the addresses of a
    simulated line (stopped again: nothing here contacts them)."""
    roles = get_method("bump-seal-clean").tools
    async with SimulatedLine(WallClock(), kinds=list(roles)) as line:
        entries: dict[str, dict] = yaml.safe_load(line.station.to_yaml())["tools"]
    return entries


def _station(tmp_path: Path, tools: dict[str, dict], roles: tuple[str, ...]) -> Path:
    path = tmp_path / "line.yaml"
    chosen = {name: entry for name, entry in tools.items() if name in roles}
    path.write_text(yaml.safe_dump({"name": "line-7", "tools": chosen}))
    return path


def test_a_recipe_drives_the_roles_its_method_declares_for_it():
    method = get_method("bump-seal-clean")
    plasma, _ = method.load_default_recipe()
    laser = prepare(RunRequest(method.name, recipe_path="bump-seal-clean-laser")).recipe
    plated = prepare(RunRequest(method.name, recipe_path="bump-seal-clean-solder-plated")).recipe
    assert method.tools_for(plasma) == PLASMA_RECIPE_ROLES
    assert "laser" in method.tools_for(laser)
    assert "plasma_cleaner" not in method.tools_for(laser)
    assert {"ball_mounter", "oven", "electroplater"} <= set(method.tools_for(plated))
    assert "wire_bonder" not in method.tools_for(plated)


def test_a_declaration_naming_a_role_the_method_lacks_is_refused_as_the_methods_mistake():
    method = get_method("plasma-clean")
    recipe, _ = method.load_default_recipe()
    mistaken = type(method)(**{**vars(method), "recipe_tools": lambda _: {"plasma_cleaner", "lsr"}})
    with pytest.raises(ValueError, match=r"recipe_tools names role\(s\) lsr, which are not among"):
        mistaken.tools_for(recipe)


def test_a_station_with_only_the_recipes_tools_is_taken_for_it(tmp_path, tools):
    """It had been refused for want of a ball mounter, an oven, a laser, a plating cell and a
    flip-chip bonder, none of which the recipe uses."""
    station = _station(tmp_path, tools, PLASMA_RECIPE_ROLES)
    prepared = prepare(station_lot(station, 1, "bump-seal-clean"))
    assert sorted(prepared.station.tools) == sorted(PLASMA_RECIPE_ROLES)


def test_a_station_without_a_tool_the_recipe_drives_is_refused_naming_its_role(tmp_path, tools):
    station = _station(tmp_path, tools, ("wire_bonder", "laminator", "plasma_cleaner", "laser"))
    with pytest.raises(BadInput) as refused:
        prepare(station_lot(station, 1, "bump-seal-clean"))
    lines = station.read_text().splitlines()
    listed = ", ".join(
        f"{name} (driver {name}, role {name}, on line {lines.index(f'  {name}:') + 1} of station "
        f"file {station})"
        for name in ("laminator", "laser", "plasma_cleaner", "wire_bonder")  # as the file has them
    )
    assert str(refused.value) == (
        "station line-7: method bump-seal-clean needs a tool for role(s) dicing_saw for this "
        f"recipe; the station's tools: {listed}; a tool plays the role of its driver (a GEM "
        "tool's: its dictionary's), whatever its name (add a tool entry of each role, or give "
        "one its driver, docs/station-file.md: dicing_saw: driver dicing_saw)"
    )


def test_a_tool_named_for_a_role_its_driver_does_not_play_is_told_by_its_driver(tmp_path, tools):
    """A trial named an oven's entry `plasma_cleaner`: the refusal read `needs a tool for
    role(s) plasma_cleaner ...; the station has plasma_cleaner`, and told it to add the entry
    it had. It names each tool's driver and role, and that the driver gives the role."""
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump({"name": "line-7", "tools": {"plasma_cleaner": tools["oven"]}}))
    with pytest.raises(BadInput) as refused:
        prepare(station_lot(path, 1, "plasma-clean"))
    told = str(refused.value)
    assert "needs a tool for role(s) plasma_cleaner for this recipe" in told
    assert (
        f"the station's tools: plasma_cleaner (driver oven, role oven, on line 3 of station "
        f"file {path}); a tool plays the role of its driver (a GEM tool's: its dictionary's), "
        "whatever its name"
    ) in told


def test_a_station_short_of_a_role_and_too_tight_a_limit_is_refused_for_both_at_once(
    tmp_path, tools
):
    """A trial's station check told the missing roles, then, once they were added, that the
    plasma chamber's limit refused the recipe's power: both are told in one refusal."""
    tight = {
        **tools,
        "plasma_cleaner": {**tools["plasma_cleaner"], "limits": {"rf_power_w": [100, 110]}},
    }
    station = _station(tmp_path, tight, ("wire_bonder", "laminator", "plasma_cleaner"))
    with pytest.raises(RecipeError) as refused:  # its problems kept, for `run --json`
        prepare(station_lot(station, 1, "bump-seal-clean"))
    assert [problem["line"] for problem in refused.value.problems] == [26, 27]
    roles, *outside = str(refused.value).splitlines()
    assert roles.startswith(
        "station line-7: method bump-seal-clean needs a tool for role(s) dicing_saw"
    )
    assert [line.split(": ", 3)[2] for line in outside] == [
        "cleaning.plasma.steps.0.rf_power_w = 300 W",
        "cleaning.plasma.steps.1.rf_power_w = 500 W",
    ]
    assert all(
        "outside the plasma_cleaner limit rf_power_w [100, 110] W" in line for line in outside
    )


async def test_a_run_holds_only_the_tools_its_recipe_drives(store, tmp_path, tools):
    """Another run may drive the station's laser meanwhile; the plasma cleaner is refused."""
    station = _station(tmp_path, tools, (*PLASMA_RECIPE_ROLES, "laser"))
    prepared = prepare(station_lot(station, 1, "bump-seal-clean"))
    other = Holder("run R2 of tape-substrate", "-")
    async with open_run(store, prepared) as engine:
        with hold_tools({tools["laser"]["address"]: "laser"}, other):
            pass
        plasma = tools["plasma_cleaner"]["address"]
        with (
            pytest.raises(LineBusy, match=f"run {engine.run_id} of bump-seal-clean"),
            hold_tools({plasma: "plasma_cleaner"}, other),
        ):
            pass


def test_validate_says_which_tool_roles_the_recipe_drives(tmp_path, tools, capsys):
    """What a station for the recipe must have: `validate` names it, and with a station says
    the station has each."""
    assert main(["validate", "bump-seal-clean", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tools"] == list(PLASMA_RECIPE_ROLES)
    station = _station(tmp_path, tools, PLASMA_RECIPE_ROLES)
    assert main(["validate", "bump-seal-clean", "--station", str(station)]) == 0
    said = capsys.readouterr().out
    assert (
        "; it drives wire_bonder, laminator, plasma_cleaner, dicing_saw; station line-7 has a"
        in (said.replace("\n", " "))
    )


async def test_a_resume_refuses_a_station_without_a_role_its_recipe_drives_now(
    store, tmp_path, monkeypatch
):
    """A method whose declaration gained a role since its run started (a mistake mended in a
    new release) is resumed only on a station with a tool of it: the keeper would connect
    nothing for the role, and a step asking for it would fail mid-process."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        run_id = await stopped_at(store, station_lot(path), "load", confirm=confirm_yes)
    method = get_method("plasma-clean")
    mended = dataclasses.replace(
        method, tools=(*method.tools, "laser"), recipe_tools=lambda _: {"plasma_cleaner", "laser"}
    )
    registry = importlib.import_module("packline.sequences.engine.method")
    monkeypatch.setitem(registry._METHODS, "plasma-clean", mended)
    with pytest.raises(BadInput, match=r"needs a tool for role\(s\) laser for this recipe"):
        async with open_resume(store, run_id):
            pass
    assert store.run(run_id)["sessions"] == 1  # nothing resumed


async def test_a_station_run_connects_only_the_tools_its_recipe_drives(store, tmp_path):
    """On a station with a tool of every role of bump-seal-clean, its plasma recipe's run
    connects, and records, the four it drives: the laser, ball mounter, oven, plating cell and
    flip-chip bonder are never contacted (one of them down would not stop it)."""
    roles = get_method("bump-seal-clean").tools
    async with SimulatedLine(ScaledClock(1000), kinds=list(roles)) as line:
        path = station_file(tmp_path, line, "line.yaml")
        await line.tools["laser"].stop()  # down: nothing answers at its address
        prepared = prepare(station_lot(path, 1, "bump-seal-clean"))
        async with open_run(store, prepared, confirm=confirm_yes) as engine:
            assert await engine.run() == "completed"
        connected = {tool["name"] for tool in store.table("tools", engine.run_id)}
        assert connected == set(PLASMA_RECIPE_ROLES)


def _variants(method: Method) -> list[tuple[str, dict]]:
    """Each reference recipe of `method` with one optional section left out (at its top or
    one level in: `dicing`, `interconnects.descum`) where it still validates and its declared
    roles are a set no variant before had: (the recipe and what was left out, its data). The
    combinations of options no reference recipe has, where a declaration could part from its
    script's branches."""
    variants = []
    references = {
        name: yaml.safe_load(method.reference_recipe_text(name)[0])
        for name in method.reference_recipes()
    }
    seen = {  # what the reference recipes' runs prove (the claim-map test)
        frozenset(method.tools_for(parse_recipe(method.recipe_model, data, name)))
        for name, data in references.items()
    }
    for name, data in references.items():
        places = [(key,) for key in data] + [
            (key, inner)
            for key, value in data.items()
            if isinstance(value, dict)
            for inner in value
        ]
        for place in places:
            variant = copy.deepcopy(data)
            *outer, last = place
            section = functools.reduce(operator.getitem, outer, variant)
            if section[last] is None:
                continue
            section[last] = None
            try:
                recipe = parse_recipe(method.recipe_model, variant, name)
            except RecipeError:
                continue  # not optional there
            roles = frozenset(method.tools_for(recipe))
            if roles not in seen:
                seen.add(roles)
                variants.append((f"{name} without {'.'.join(place)}", variant))
    return variants


@pytest.mark.parametrize(
    ("method", "data"),
    [
        pytest.param(method.name, data, id=what)
        for method in all_methods()
        if method.recipe_tools is not None
        for what, data in _variants(method)
    ],
)
async def test_a_recipe_beside_the_reference_ones_drives_the_roles_declared_for_it(
    store, tmp_path, method, data
):
    """The reference recipes' runs use exactly their declared roles (the claim-map test);
    each combination an optional section left out makes, with roles no reference recipe
    has, is run too: its steps use exactly the roles declared for it."""
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    lot = (data.get("stack") or {}).get("levels", 1)  # panels stacked: a lot of a stack
    prepared = prepare(RunRequest(method, recipe_path=str(path), lot=lot))
    async with open_run(store, prepared) as engine:
        await engine.run()
    entries = engine.spec.station.tools
    used = {entries[s["tool"]].role for s in store.table("steps", engine.run_id) if s["tool"]}
    assert used == set(prepared.method.tools_for(prepared.recipe))
