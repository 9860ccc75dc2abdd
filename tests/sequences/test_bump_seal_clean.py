"""Method bump-seal-clean (003:7) end to end on the simulated line, from the command line.

Every cleaning variant runs a lot of 25 with every claim condition passing; wrong recipes are
refused before any tool sees a command; recipes that look right but make a wrong product run
and the claim check names the claim they violate.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from packline.cli import main
from packline.clock import WallClock
from packline.sequences.engine.records import RunStore
from packline.sim_instruments.line import SimulatedLine

from .helpers import write_recipe

RECIPES = resources.files("packline.sequences").joinpath("recipes")
VARIANTS = {
    "bump-seal-clean.yaml": ("003:12", "003:14"),
    "bump-seal-clean-plasma-ar.yaml": ("003:12", "003:13"),
    "bump-seal-clean-plasma-o2-reducing.yaml": ("003:12", "003:15"),
    "bump-seal-clean-laser.yaml": ("003:16", "003:17", "003:18"),
}
METHOD_STEP_CLAIMS = {
    "form bumps": {"003:7.1", "003:22"},
    "laminate resin film": {"003:7.2"},
    "peel support": {"003:7.2"},
    "dice": {"003:23"},
}


def default_recipe() -> dict:
    return yaml.safe_load(RECIPES.joinpath("bump-seal-clean.yaml").read_text())


def write_station(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "line.yaml"
    path.write_text(text)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = main(["run", "bump-seal-clean", "--sim", "--json", *args])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return code, events


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_cleaning_variant_runs_a_lot_of_25_with_every_claim_condition_passing(
    db: Path, capsys: pytest.CaptureFixture[str], variant: str
):
    recipe = str(RECIPES.joinpath(variant))
    code, events = run_json(capsys, "--lot", "25", "--recipe", recipe)
    summary = events[-1]
    assert code == 0
    assert summary["status"] == "completed"
    assert [w["status"] for w in summary["wafers"]] == ["completed"] * 25
    check = summary["claim_check"]
    assert check["status"] == "passed"
    assert {c["verdict"] for c in check["conditions"]} == {"pass"}
    checked = {c["claim"] for c in check["conditions"]}
    assert {"003:7.1", "003:7.2", "003:7.3", "003:10", "003:11", "003:23"} <= checked
    assert all(c["wafers_checked"] == 25 for c in check["conditions"])

    # the records show every step with its claim ids, the cleaning variant's among them
    store = RunStore(db)
    try:
        steps = store.table("steps", summary["run_id"])
    finally:
        store.close()
    claims_of: dict[str, set[str]] = {}
    for step in steps:
        claims_of.setdefault(step["name"], set()).update(json.loads(step["claims"] or "[]"))
    for name, claims in METHOD_STEP_CLAIMS.items():
        assert claims <= claims_of[name], name
    cleaning = claims_of.get("plasma clean", set()) | claims_of.get("laser clean", set())
    assert set(VARIANTS[variant]) <= cleaning
    assert {"003:7.3", "003:8", "003:22"} <= cleaning


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # type
            {"bumps": {"stack": "two"}},
            "bumps.stack = 'two': Input should be a valid integer",
        ),
        (  # unit
            {"bumps": {"bond_force_gf": "30 mW"}},
            "bumps.bond_force_gf = '30 mW': '30 mW' is a power, expected a force",
        ),
        (  # range of a recipe field
            {"bumps": {"stack": 9}},
            "bumps.stack = 9: must be at most 4",
        ),
        (  # outside what any wire bonder takes (15-60 gf): refused as the recipe is read
            {"bumps": {"bond_force_gf": "100 gf"}},
            "bumps.bond_force_gf = '100 gf': must be at most 60 gf (the wire_bonder range of "
            "bond_force_gf: 15-60 gf; given 100 gf)",
        ),
        (  # outside what any laminator takes (20-100 um)
            {"resin": {"sheet_thickness_um": "15 um"}},
            "resin.sheet_thickness_um = '15 um': must be at least 20 um (the laminator range of "
            "resin_thickness_um: 20-100 um; given 15 um)",
        ),
        (  # claim constraint of 003:7: the resin film thinner than the bumps
            {"resin": {"sheet_thickness_um": "65 um"}},
            "resin.sheet_thickness_um = 65 um: must be thinner than the bumps, "
            "bumps.height_um = 60 um (claim 003:7.2)",
        ),
        (  # claim constraint of 003:18: the gas jet's residue must be sucked away
            {
                "cleaning": {
                    "method": "laser",
                    "fluence_j_cm2": "0.3 J/cm^2",
                    "rep_rate_khz": "100 kHz",
                    "pulses_per_site": 1000,
                    "atmosphere": "forming-gas",
                    "gas_jet": True,
                    "suction": False,
                }
            },
            "cleaning.suction = false: a gas jet peels the residue off; suction must take it "
            "away, or it redeposits (claim 003:18)",
        ),
    ],
    ids=["type", "unit", "range", "bonder-limit", "laminator-limit", "claim-003:7", "claim-003:18"],
)
async def test_a_wrong_recipe_fails_validation_and_no_tool_sees_a_command(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
):
    recipe = default_recipe()
    for section, values in change.items():
        if section == "cleaning":
            recipe[section] = values
        else:
            recipe[section].update(values)
    recipe_file = write_recipe(tmp_path, recipe)
    async with SimulatedLine(WallClock()) as line:
        station = write_station(tmp_path, line.station.to_yaml())
        for command in ("validate", "run"):
            args = [command, "bump-seal-clean", "--station", str(station)]
            assert main([*args, "--recipe", str(recipe_file)]) == 2
            err = capsys.readouterr().err
            assert f"recipe file {recipe_file}: {expected}" in err
        assert {name: tool.received for name, tool in line.tools.items()} == {
            name: [] for name in line.tools
        }
    assert not db.exists()  # noqa: ASYNC240 - a stat, after every tool is stopped


async def test_a_setpoint_outside_the_stations_narrowed_limit_is_refused_before_any_tool_moves(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe_file = write_recipe(tmp_path, default_recipe())  # bond force 30 gf
    async with SimulatedLine(WallClock()) as line:
        station = yaml.safe_load(line.station.to_yaml())
        station["tools"]["wire_bonder"]["limits"] = {"bond_force_gf": [15, 25]}
        station_file = write_station(tmp_path, yaml.safe_dump(station))
        for command in ("validate", "run"):
            args = [command, "bump-seal-clean", "--station", str(station_file)]
            assert main([*args, "--recipe", str(recipe_file)]) == 2
            assert (
                f"recipe file {recipe_file}: bumps.bond_force_gf = 30 gf: outside the "
                "wire_bonder limit bond_force_gf [15, 25] gf"
            ) in capsys.readouterr().err
        assert all(tool.received == [] for tool in line.tools.values())
    assert not db.exists()  # noqa: ASYNC240 - a stat, after every tool is stopped


def test_bumps_shorter_than_the_resin_run_and_the_claim_check_names_the_claim(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Declared 60 um bumps, a loose tolerance, and a program that really gives ~48 um bumps:
    the recipe is valid, the bumps pass inspection, and the 50 um resin buries them."""
    recipe = default_recipe()
    recipe["bumps"].update(
        wire_diameter_um="25 um",
        bond_force_gf="35 gf",
        ultrasonic_power_mw="80 mW",
        height_tolerance_um="15 um",
    )
    recipe["resin"]["sheet_thickness_um"] = "50 um"
    code, events = run_json(capsys, "--lot", "2", "--recipe", str(write_recipe(tmp_path, recipe)))
    check = events[-1]["claim_check"]
    assert code == 1
    assert check["status"] == "failed"
    failed = {c["claim"] for c in check["conditions"] if c["verdict"] == "fail"}
    assert {"003:7.2", "003:7.3"} <= failed


def test_a_clean_too_short_for_the_oxide_runs_and_the_claim_check_names_003_11(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = default_recipe()
    ar_step = recipe["cleaning"]["plasma"]["steps"][1]
    ar_step.update(rf_power_w="100 W", time_s="30 s")
    code, events = run_json(capsys, "--lot", "2", "--recipe", str(write_recipe(tmp_path, recipe)))
    check = events[-1]["claim_check"]
    assert code == 1
    failed = {c["claim"] for c in check["conditions"] if c["verdict"] == "fail"}
    assert failed == {"003:11"}


def test_laser_cleaning_in_air_leaves_oxide_on_copper_bumps(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = yaml.safe_load(RECIPES.joinpath("bump-seal-clean-laser.yaml").read_text())
    recipe["cleaning"]["atmosphere"] = "air"
    code, events = run_json(capsys, "--lot", "1", "--recipe", str(write_recipe(tmp_path, recipe)))
    failed = {c["claim"] for c in events[-1]["claim_check"]["conditions"] if c["verdict"] == "fail"}
    assert code == 1
    assert failed == {"003:11"}


def test_methods_lists_the_claims_of_the_method(capsys: pytest.CaptureFixture[str]):
    assert main(["methods", "--json"]) == 0
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    claims = set(methods["bump-seal-clean"]["claims"])
    assert {"003:7.1", "003:7.2", "003:7.3", "003:13", "003:16", "003:23"} <= claims
