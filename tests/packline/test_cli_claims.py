"""The command line and the claims: wrong recipes of every kind refused before any tool moves,
the claim check of a dry run (table, --json, exit code), `packline claims` and `methods`."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from pydantic import model_validator
from rich.console import Console

from packline.claims import CLAIMS
from packline.cli import main
from packline.cli.methods import print_claims
from packline.clock import WallClock
from packline.sequences.engine import Recipe, Wafer, claim_violation, method
from packline.sequences.plasma_clean import PlasmaCleanRecipe
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore

STEP = "{gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 60 s}"
SHORT_AR = (
    f"steps:\n  - {STEP}\n"
    "  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 100 W,"
    " time_s: 30 s}\n"
)


class TwoGasRecipe(PlasmaCleanRecipe):
    """plasma-clean's recipe with a claim constraint: 003:14 is O2 *then* Ar."""

    @model_validator(mode="after")
    def o2_first(self) -> TwoGasRecipe:
        if self.steps[0].gas != "O2":
            raise claim_violation(
                "003:14", "steps.0.gas", self.steps[0].gas, "must be O2, the first of O2 then Ar"
            )
        return self


@method(
    name="test-o2-then-ar",
    title="test: a recipe with a claim constraint",
    claims=("003:14",),
    recipe=TwoGasRecipe,
    tools=("plasma_cleaner",),
    claim_map={"003:14": "recipe constraint: steps.0.gas = O2"},
)
async def o2_then_ar(wafer: Wafer, recipe: Recipe) -> None:
    raise AssertionError("never runs: its recipes are refused in these tests")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


@pytest.mark.parametrize(
    ("method_name", "recipe", "expected"),
    [
        (  # type
            "plasma-clean",
            f"steps:\n  - {STEP.replace('gas: O2', 'gas: N2')}\n",
            "steps.0.gas = 'N2': must be one of O2, Ar, forming-gas, CF4/O2",
        ),
        (  # unit
            "plasma-clean",
            f"steps:\n  - {STEP.replace('300 W', '300 um')}\n",
            "steps.0.rf_power_w = '300 um': '300 um' is a length, expected a power",
        ),
        (  # range of the recipe field
            "plasma-clean",
            f"steps:\n  - {STEP.replace('300 W', '1.2 kW')}\n",
            "steps.0.rf_power_w = '1.2 kW': must be at most 1000",
        ),
        (  # tool limit: the station narrows rf_power_w to [100, 600] W
            "plasma-clean",
            f"steps:\n  - {STEP}\n  - {STEP.replace('300 W', '800 W')}\n",
            "steps.1.rf_power_w = 800 W: outside the plasma_cleaner limit rf_power_w [100, 600] W",
        ),
        (  # the line's model of what the steps take off the incoming pads (003:11)
            "plasma-clean",
            SHORT_AR,
            "steps.1.time_s = 30 s: the incoming wafers' Al pads bring 3 nm of oxide, 3.79 nm "
            "after the O2; Ar at 100 W takes it off at the line's 1 nm/min, leaving 3.29 nm (at "
            "most 0.1 nm may stay): give at least 222 s (claim 003:11)",
        ),
        (  # claim constraint
            "test-o2-then-ar",
            f"steps:\n  - {STEP.replace('gas: O2', 'gas: Ar')}\n  - {STEP}\n",
            "steps.0.gas = Ar: must be O2, the first of O2 then Ar (claim 003:14)",
        ),
    ],
    ids=["type", "unit", "range", "tool-limit", "model", "claim-constraint"],
)
@pytest.mark.parametrize("command", ["run", "validate"])
async def test_a_wrong_recipe_is_refused_and_no_tool_sees_a_command(
    db, tmp_path, capsys, command, method_name, recipe, expected
):
    twin = TwinStore()
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(recipe)
    async with SimPlasmaCleaner("plasma_cleaner", twin, WallClock()) as chamber:
        station = tmp_path / "line.yaml"
        station.write_text(
            yaml.safe_dump(
                {
                    "name": "line",
                    "tools": {
                        "plasma_cleaner": {
                            "driver": "plasma_cleaner",
                            "address": chamber.address,
                            "limits": {"rf_power_w": [100, 600]},
                        }
                    },
                }
            )
        )
        args = [command, method_name, "--station", str(station), "--recipe", str(recipe_file)]
        assert main(args) == 2
        assert chamber.received == []
        assert len(twin) == 0
    err = capsys.readouterr().err
    first, *rest = err.splitlines()
    at = rf"packline: error: recipe file {re.escape(str(recipe_file))}: line \d+: "
    assert re.match(at + re.escape(expected), first), first  # the line of the value too
    refused = "run refused: nothing was run and nothing was recorded; no tool was contacted"
    assert rest == ([refused] if command == "run" else [])  # one clear message
    assert not db.exists()  # no run recorded


def test_validate_without_a_station_checks_the_driver_defaults(db, tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"steps:\n  - {STEP.replace('300 W', '800 W')}\n")
    assert main(["validate", "plasma-clean", "--recipe", str(recipe)]) == 0
    assert "is valid" in capsys.readouterr().out


#: The chamber's RF generator delivers a third of its setpoint, reading the setpoint: no alarm,
#: a valid recipe, but the Ar step leaves oxide on every pad (003:11).
MISCALIBRATED = ["--fault", "plasma_cleaner:rf_calibration"]


def test_a_dry_run_whose_product_violates_a_claim_exits_1_naming_it(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", *MISCALIBRATED]) == 1
    out = capsys.readouterr().out
    assert "claim check of the simulated product" in out
    assert "FAIL (W01, W02)" in out
    assert "claim check FAILED: the product violates claim 003:11" in out

    assert main(["run", "plasma-clean", "--sim", *MISCALIBRATED, "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [event] = [e for e in lines if e["kind"] == "claim-check"]
    assert event["status"] == "failed"
    assert "003:11" in event["message"]
    summary = lines[-1]
    assert summary["status"] == "completed"
    check = summary["claim_check"]
    assert check["status"] == "failed"
    table = {c["claim"]: c for c in check["conditions"]}
    assert set(table) == {"003:9", "003:10", "003:11"}
    assert table["003:11"]["verdict"] == "fail"
    assert table["003:11"]["sites_passing"] == 0
    assert table["003:11"]["sites_checked"] > 0
    assert table["003:10"]["sites_passing"] == table["003:10"]["sites_checked"]

    assert main(["show", summary["run_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["claim_check"] == check
    assert main(["show", summary["run_id"]]) == 0
    assert "claim check FAILED" in capsys.readouterr().out


def test_a_good_dry_run_ends_with_the_claim_table_and_exits_0(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "claim check of the simulated product" in out
    for claim_id in ("003:9", "003:10", "003:11"):
        assert claim_id in out
    assert "claim check passed" in out


def test_claims_lists_every_claim_and_what_implements_it(capsys):
    assert main(["claims", "--json"]) == 0
    coverage = {c["claim"]: c for c in json.loads(capsys.readouterr().out)}
    assert list(coverage) == list(CLAIMS)
    plasma = {"method": "plasma-clean", "where": "step 'plasma clean' in the plasma chamber"}
    assert (
        plasma
        | {
            "proved_by": {
                "test": "tests/sequences/test_claim_checks.py::"
                "test_claim_map_steps_are_recorded_with_their_claims_on_the_sim[plasma-clean]",
                "how": "its step recorded under its id",
            }
        }
        in coverage["003:12"]["implemented_by"]
    )
    for claim_id in ("003:19", "003:24"):  # the solder layer; chips mounted on a board
        assert [c["method"] for c in coverage[claim_id]["implemented_by"]] == ["bump-seal-clean"]
    assert coverage["001:13"]["kind"] == "option"
    (resin,) = coverage["001:13"]["implemented_by"]  # at least 50 um: a step and a condition
    assert resin["proved_by"] == {
        "test": "tests/sequences/test_claim_checks.py::"
        "test_claim_map_steps_are_recorded_with_their_claims_on_the_sim[sprout-bump-csp]",
        "how": "its step recorded under its id and its claim check passing",
    }
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    assert "not yet implemented" not in out  # the last one, 000:x2, came with its frame
    assert "003:24" in out
    assert f"{len(CLAIMS)} of {len(CLAIMS)} claims implemented, {len(CLAIMS)} proved by a test" in (
        out
    )
    assert "implemented in part" not in out  # the last ones, 000:x1, 000:x3 and 003:21


def test_methods_list_name_title_claims_and_options(capsys):
    assert main(["methods", "--json"]) == 0
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    plasma = methods["plasma-clean"]
    assert plasma["title"].startswith("Plasma-clean")
    assert "003:14" in plasma["claims"]
    assert set(plasma["options"]) == {"steps", "batch_timeout_s"}
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "003:14" in out
    assert "batch_timeout_s" in out


def test_a_claim_implemented_in_part_is_listed_under_the_table(capsys):
    """An entry saying what is not yet built after `in part: ` has its claim listed below the
    table, so a reader of the count does not take it for whole."""
    whole = {"method": "m", "where": "step 'a'", "proved_by": None}
    partly = {**whole, "where": "step 'b'; in part: the area array is not yet built"}
    coverage = [
        {"claim": "000:a", "kind": "step", "summary": "s", "implemented_by": [whole]},
        {"claim": "000:x1", "kind": "variant", "summary": "s", "implemented_by": [partly]},
    ]
    print_claims(Console(width=200), coverage)
    out = capsys.readouterr().out
    assert "2 of 2 claims implemented, 0 proved by a test" in out
    assert "implemented in part (what is not yet is said in its row): 000:x1\n" in out
