"""The packline command line: outputs, --json, bad input, validate, sim serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources

import pytest
import yaml

from packline.cli import main
from packline.clock import WallClock
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.station import load_station

from ..sequences.processes import Served


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


def test_run_json_lines_then_runs_and_show(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "5", "--json", "--operator", "ana"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["kind"] == "run-started"
    assert lines[-1]["kind"] == "summary"
    assert {"step-started", "step-finished", "batch-formed", "wafer-finished"} <= {
        e["kind"] for e in lines
    }
    run_id = lines[-1]["run_id"]
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["id"] == run_id
    assert runs[0]["completed"] == 5
    assert runs[0]["operator"] == "ana"
    assert main(["show", run_id[:12], "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["run"]["status"] == "completed"
    assert len(report["wafers"]) == 5
    # the records' JSON columns as JSON values, not text to parse again
    cleans = [s for s in report["steps"] if s["name"] == "plasma clean"]
    assert len(cleans) == 5
    assert all("003:14" in s["claims"] for s in cleans)
    assert all(isinstance(e["data"], dict) for e in report["events"])
    states = [e for e in report["events"] if e["kind"] == "tool-state"]
    assert states
    assert all(e["data"]["e10"] for e in states)
    assert main(["wafer", "W01", "--run", run_id, "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    (clean,) = [s for s in history["steps"] if s["name"] == "plasma clean"]
    assert "003:14" in clean["claims"]
    assert main(["show", "last"]) == 0
    out = capsys.readouterr().out
    assert run_id in out
    assert "operator ana, lot of 5, policy" in out
    assert "step plasma clean" in out
    assert "4.80 → 0.00 nm" in out
    assert "recipe default recipe plasma-clean.yaml sha256 " in out
    assert ": as shipped (packline show " in out  # its values, the shipped recipe's
    assert "  - {gas: O2, flow_sccm: 100 sccm" not in out
    for wafer in ("W01", "W05"):  # every wafer's steps and measurements
        assert f"wafer {wafer}: completed" in out


def test_run_prints_a_summary_with_before_and_after(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "residue before → after" in out
    assert "3.00 → 0.00 nm" in out
    assert "simulated time 0:04:51" in out


def test_methods(capsys):
    assert main(["methods", "--json"]) == 0
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert methods["plasma-clean"]["irreversible"] == ["plasma clean"]
    assert "batch_timeout_s" in methods["plasma-clean"]["options"]
    assert main(["methods"]) == 0
    assert "plasma-clean" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "plasma-cleen", "--sim"], "unknown method 'plasma-cleen'"),
        (
            ["run", "plasma_clean", "--sim"],  # a new user's: no did-you-mean then
            "unknown method 'plasma_clean' (did you mean 'plasma-clean'?); known methods: ",
        ),
        (["run", "plasma-clean", "--sim", "--lot", "0"], "--lot 0"),
        (
            ["run", "plasma-clean", "--station", "missing.yaml"],
            "station file missing.yaml: cannot read",
        ),
        (["show", "nope"], "run 'nope': no run"),
        (["resume", "nope"], "run 'nope': no run"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(db, capsys, args, message):
    main(["run", "plasma-clean", "--sim", "--quiet"])  # a database with one run in it
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_bad_recipe_exits_2_naming_field_value_and_limit(db, tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "steps:\n  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr,"
        " rf_power_w: 1200 W, time_s: 60 s}\n"
    )
    assert main(["run", "plasma-clean", "--sim", "--recipe", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert (
        f"recipe file {recipe}: line 2: steps.0.rf_power_w = '1200 W': must be at most 1000" in err
    )
    assert err.endswith(
        "\nrun refused: nothing was run and nothing was recorded; no tool was contacted\n"
    )
    assert not db.exists()  # nothing touched: not even the run database


def test_validate_json_lists_each_problem_with_its_field_path(db, tmp_path, capsys):
    """`validate --json` keeps the joined `error` and lists each problem, path and message."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "steps:\n  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr,"
        " rf_power_w: 1200 W, time_s: 60 s, tme_s: 1 min}\n"
    )
    assert main(["validate", "plasma-clean", "--recipe", str(recipe), "--json"]) == 2
    refusal = json.loads(capsys.readouterr().out)
    assert [problem["path"] for problem in refusal["problems"]] == [
        "steps.0.rf_power_w",
        "steps.0.tme_s",
    ]
    assert refusal["problems"][0]["message"].startswith(
        "steps.0.rf_power_w = '1200 W': must be at most 1000"
    )
    assert refusal["error"].splitlines() == [
        f"recipe file {recipe}: line 2: {problem['message']}" for problem in refusal["problems"]
    ]


def test_validate_json_gives_the_claims_a_refused_constraint_serves(db, tmp_path, capsys):
    """A program reading `--json` had the claim only inside the message's words: a claim's
    constraint lists the claims it serves, as the message names them at its end."""
    recipe = tmp_path / "r.yaml"
    text = resources.files("packline.sequences").joinpath("recipes", "tape-substrate.yaml")
    recipe.write_text(text.read_text().replace("holes_per_die_side: 6", "holes_per_die_side: 50"))
    assert main(["validate", "tape-substrate", "--recipe", str(recipe), "--json"]) == 2
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert problem["path"] == "panel.holes_per_die_side"
    assert problem["claims"] == ["000:a"]
    assert problem["message"].endswith("(claim 000:a)")
    # a field's own bounds that a claim sets name it too (`Because.claim`)
    recipe.write_text(text.read_text().replace("tolerance: 0.05", "tolerance: 0.5"))
    assert main(["validate", "tape-substrate", "--recipe", str(recipe), "--json"]) == 2
    (problem,) = json.loads(capsys.readouterr().out)["problems"]
    assert (problem["path"], problem["claims"]) == ("fill.tolerance", ["000:b"])


#: A station whose plasma cleaner's limits are narrower than the default recipe's setpoints
#: (300 W and 500 W, a step of 120 s); its address is never contacted.
NARROW_STATION = """\
name: narrow
tools:
  plasma_cleaner:
    driver: plasma_cleaner
    address: modbus+tcp://127.0.0.1:9
    limits: {rf_power_w: [100, 200], time_s: [30, 60]}
"""


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_station_limit_refusal_lists_each_problem_in_json(db, tmp_path, capsys, command):
    """A new user's `validate plasma-clean --station s_narrow.yaml --json` printed an error
    of two problems (here three) and `"problems": []`: each is one entry, as a recipe
    field's own refusal is, and `run --json` says the same. Each names the line of the
    recipe that gives the value, as a refusal of the field's own range does (a trial's named
    none), and a run's says last that nothing was run or recorded."""
    station = tmp_path / "s_narrow.yaml"
    station.write_text(NARROW_STATION)
    assert main([command, "plasma-clean", "--station", str(station), "--json"]) == 2
    refusal = json.loads(capsys.readouterr().out.splitlines()[-1])
    at = f"line 6 of station file {station}"  # the line that narrows it
    limit = f"of {at}"
    power = {"role": "plasma_cleaner", "setpoint": "rf_power_w", "minimum": 100, "maximum": 200}
    time_s = {"role": "plasma_cleaner", "setpoint": "time_s", "minimum": 30, "maximum": 60}
    assert refusal["problems"] == [
        {
            "path": "steps.0.rf_power_w",
            "message": "steps.0.rf_power_w = 300 W: outside the plasma_cleaner limit "
            f"rf_power_w [100, 200] W {limit}",
            "line": 6,
            "limit": {**power, "unit": "W", "set_by": at},
        },
        {
            "path": "steps.1.rf_power_w",
            "message": "steps.1.rf_power_w = 500 W: outside the plasma_cleaner limit "
            f"rf_power_w [100, 200] W {limit}",
            "line": 7,
            "limit": {**power, "unit": "W", "set_by": at},
        },
        {
            "path": "steps.1.time_s",
            "message": "steps.1.time_s = 2 min (120 s): outside the plasma_cleaner limit time_s "
            f"[30, 60] s {limit}",
            "line": 7,
            "limit": {**time_s, "unit": "s", "set_by": at},
        },
    ]
    refused = ["run refused: nothing was run and nothing was recorded; no tool was contacted"]
    assert refusal["error"].splitlines() == [
        "default recipe plasma-clean.yaml (no --recipe given; `packline recipe template "
        f"plasma-clean --from plasma-clean` prints it): line {problem['line']}: "
        f"{problem['message']}"
        for problem in refusal["problems"]
    ] + (refused if command == "run" else [])
    assert not db.exists()  # nothing touched


def test_bad_station_exits_2(db, tmp_path, capsys):
    station = tmp_path / "s.yaml"
    station.write_text("name: x\ntools:\n  pc: {driver: plasma_cleaner, address: 'ftp://x'}\n")
    assert main(["run", "plasma-clean", "--station", str(station)]) == 2
    assert "tools.pc.address" in capsys.readouterr().err


async def test_validate_touches_no_tool(tmp_path, capsys):
    twin = TwinStore()
    async with SimPlasmaCleaner("plasma_cleaner", twin, WallClock()) as chamber:
        station = tmp_path / "line.yaml"
        station.write_text(
            yaml.safe_dump(
                {
                    "name": "line",
                    "tools": {
                        "plasma_cleaner": {"driver": "plasma_cleaner", "address": chamber.address}
                    },
                }
            )
        )
        good = main(["validate", "plasma-clean", "--station", str(station), "--json"])
        bad_recipe = tmp_path / "bad.yaml"
        bad_recipe.write_text("steps: []\n")
        bad = main(
            ["validate", "plasma-clean", "--recipe", str(bad_recipe), "--station", str(station)]
        )
        assert chamber.received == []
        assert len(twin) == 0
    assert good == 0
    assert bad == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["ok"] is True
    assert "steps = []" in err
    assert "at least 1 item" in err


def test_sim_serve_prints_a_station_and_stops_on_sigterm(tmp_path):
    served = Served(tmp_path / "sim.yaml", "--time-scale", "300")
    with served:  # stopped by SIGTERM, exit status 0
        assert served.header.startswith("# packline simulated line")
        station_file = served.station
        station = load_station(station_file)
        address = station.tools["plasma_cleaner"].address
        assert address.startswith("modbus+tcp://127.0.0.1:")
        db = tmp_path / "runs.db"
        argv = [sys.executable, "-m", "packline", "run", "plasma-clean", "--station",
                str(station_file), "--db", str(db), "--json"]  # fmt: skip
        env = {**os.environ, "PACKLINE_DB": str(db)}
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        # no operator to confirm the loading: refused before a tool is touched, where it held
        # every wafer at the confirmation
        assert run.returncode == 2, run.stderr
        assert "nobody can answer here (stdin is no terminal" in json.loads(run.stdout)["error"]
        assert not db.exists()  # no run recorded
        argv += ["--confirmed-by", "ci"]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout.splitlines()[-1])
        assert summary["wafers"][0]["status"] == "completed"
        # a station run: no twin to check the claims on; its one judged measurement said so
        assert summary["claim_check"]["status"] == "measured"
        assert (
            "1 measurement(s) of the sequence judged against their limits, 0 outside"
            in (summary["claim_check"]["note"])
        )


async def test_two_confirmations_asked_at_once_each_get_their_own_answer(monkeypatch):
    """Two wafers asking the operator at the same moment: answers go in order, none is lost."""
    import asyncio
    import io

    from rich.console import Console

    from packline.cli.console import PromptArea, StdinLines

    lines = StdinLines(PromptArea(Console(file=io.StringIO()), view=None))
    first = asyncio.create_task(lines.ask("W01 seated?"))
    second = asyncio.create_task(lines.ask("W02 seated?"))
    while lines.waiter is None:  # noqa: ASYNC110 - stepping the loop until the question is up
        await asyncio.sleep(0)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\nn\n"))
    lines.feed()
    assert await asyncio.wait_for(first, 1) == "y"
    while lines.waiter is None:  # noqa: ASYNC110 - stepping the loop until the question is up
        await asyncio.sleep(0)
    lines.feed()
    assert await asyncio.wait_for(second, 1) == "n"


def test_a_time_scaled_simulated_line_runs_an_unattended_lot_from_another_process(tmp_path, capsys):
    """`sim serve --time-scale` in one process, `run --station --confirmed-by` in another;
    the station file says the line's time scale, so the run's process time is told apart
    from its run clock (the controller's wall clock)."""
    with Served(tmp_path / "sim.yaml", "--time-scale", "300") as served:
        assert "time x300" in served.header
        station_file = served.station
        assert yaml.safe_load(station_file.read_text())["time_scale"] == 300
        db = tmp_path / "runs.db"
        run = subprocess.run(
            [sys.executable, "-m", "packline", "run", "plasma-clean", "--station",
             str(station_file), "--db", str(db), "--json", "--confirmed-by", "ci-bot"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout.splitlines()[-1])
        assert summary["wafers"][0]["status"] == "completed"
        confirmations = [
            json.loads(line) for line in run.stdout.splitlines() if '"confirmation"' in line
        ]
        assert confirmations
        assert all("ci-bot (in advance" in c["data"]["by"] for c in confirmations)
    assert main(["show", "last", "--db", str(db)]) == 0
    assert "of wall time, process time on the line" in capsys.readouterr().out


def test_runs_without_a_database_lists_none_and_creates_none(tmp_path, monkeypatch, capsys):
    db = tmp_path / "none.db"
    monkeypatch.setenv("PACKLINE_DB", str(db))  # the default database, not made yet
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not db.exists()


def test_a_bad_time_scale_is_refused(capsys):
    assert main(["sim", "serve", "--time-scale", "0"]) == 2
    assert "--time-scale 0.0: time scale must be a positive number" in capsys.readouterr().err


def test_a_reader_that_goes_away_early_gets_no_traceback(tmp_path):
    """`packline run ... --json | head -1`: the run is recorded, stderr stays clean."""
    command = [
        sys.executable, "-m", "packline", "run", "plasma-clean", "--sim", "--lot", "3",
        "--json", "--db", str(tmp_path / "runs.db"),
    ]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = run.stdout.readline()
    run.stdout.close()  # the reader goes away after one line
    _, err = run.communicate(timeout=60)
    assert json.loads(first)["kind"] == "run-started"
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err


def test_a_run_that_cannot_reach_its_tool_is_refused_naming_its_line_and_records_nothing(
    db, tmp_path, capsys, unused_port
):
    """A new user's trial: every typo in a station file's address left a `failed` run with
    its wafers `pending` in `packline runs`, while a missing role or a held tool recorded
    nothing, and the error named the address but not the line that gives it. A run refused
    before its first step now records nothing, and names the line."""
    address = f"modbus+tcp://127.0.0.1:{unused_port}"
    station = tmp_path / "dead.yaml"
    station.write_text(
        f"name: dead\ntools:\n  plasma_cleaner:\n    driver: plasma_cleaner\n"
        f"    address: {address}\n"
    )
    run = ["run", "plasma-clean", "--station", str(station), "--confirmed-by", "ci"]
    assert main([*run, "--quiet"]) == 2  # refused, as a refusal for bad input is
    out, err = capsys.readouterr()
    assert out == ""
    (error,) = err.splitlines()
    assert error.startswith(
        f"packline: error: run not started: plasma_cleaner at {address}: connect: cannot connect"
    )
    assert error.endswith(
        f"; its address is on line 5 of station file {station}; nothing was run and nothing was "
        "recorded: run it again once every tool answers as the station file says"
    )
    assert main([*run, "--json"]) == 2
    refusal = json.loads(capsys.readouterr().out)  # the one line a program reads
    assert refusal == {
        "ok": False,
        "error": error.removeprefix("packline: error: "),
        "exit_code": 2,
    }
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # no run in the history


def test_run_with_named_wafers(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--wafers", "LOT7-A,LOT7-B", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [w["wafer"] for w in summary["wafers"]] == ["LOT7-A", "LOT7-B"]


def test_runs_filters_by_method_status_wafer_recipe_and_date(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet"]) == 0
    assert main(["run", "bump-seal-clean", "--sim", "--lot", "1", "--quiet",
                 "--wafers", "SCRIBE-7"]) == 0  # fmt: skip
    capsys.readouterr()

    def ids(*options: str) -> list[str]:
        assert main(["runs", "--json", *options]) == 0
        return [run["method"] for run in json.loads(capsys.readouterr().out)]

    assert ids() == ["bump-seal-clean", "plasma-clean"]
    assert ids("--method", "plasma-clean") == ["plasma-clean"]
    assert ids("--wafer", "SCRIBE-7") == ["bump-seal-clean"]
    assert ids("--status", "completed", "--limit", "1") == ["bump-seal-clean"]
    assert ids("--status", "held") == []
    assert ids("--since", "2000-01-01") == ["bump-seal-clean", "plasma-clean"]
    assert main(["runs", "--json", "--method", "bump-seal-clean"]) == 0
    recipe = json.loads(capsys.readouterr().out)[0]["recipe_hash"]
    assert ids("--recipe", recipe[:10]) == ["bump-seal-clean"]
    with pytest.raises(SystemExit):
        main(["runs", "--since", "yesterday"])
    assert "'yesterday' is not a date (YYYY-MM-DD)" in capsys.readouterr().err
