"""`packline run|resume --sim --sim-option TOOL:OPTION=VALUE`: an option of a dry run's
simulated tool, to rehearse a run on a tool unlike the line's default one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from packline.cli import main
from packline.sequences.engine import RunStore

from ...sequences.helpers import reference_recipe


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


@pytest.fixture
def fine_grind(tmp_path) -> Path:
    """tape-substrate's reference recipe on a small panel, ground to 0.2 um."""
    recipe = reference_recipe("tape-substrate.yaml")
    recipe["panel"].update(rows=1, columns=3)
    recipe["dies"]["diameter_mm"] = "100 mm"
    recipe["grind"]["tolerance_um"] = "0.2 um"
    path = tmp_path / "fine-grind.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_a_coarse_simulated_gauge_rehearses_the_refusal_of_a_finer_grind(db, fine_grind, capsys):
    """A user rehearses a recipe on a grinder whose gauge reads to 0.5 um: the dry run is
    refused as its tools are connected, naming the grinder's figure beside the recipe's, and
    records nothing (exit 2); the line's own grinder (0.1 um) would have ground it."""
    args = ["run", "tape-substrate", "--sim", "--recipe", str(fine_grind), "--quiet"]
    assert main([*args, "--sim-option", "grinder:gauge_resolution_um=0.5"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("packline: error: run not started: grinder at ")
    assert (
        ": grind.tolerance_um = 0.2 um: finer than this grinder's thickness gauge resolves, "
        "0.5 um ("
    ) in error
    assert error.rstrip().endswith(
        "nothing was run and nothing was recorded: run it again with the recipe corrected, or on "
        "tools that carry it out"
    )
    store = RunStore(str(db))
    try:
        assert store.runs() == []
    finally:
        store.close()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("grinder=0.5", "give it as TOOL:OPTION=VALUE (grinder:gauge_resolution_um=0.5)"),
        (
            "grindr:gauge_resolution_um=0.5",
            "the dry run of tape-substrate has no tool 'grindr'; its tools: ",
        ),
        (
            "grinder:gauge_um=0.5",
            "the simulated grinder has no option 'gauge_um'; its options: gauge_resolution_um",
        ),
        ("grinder:gauge_resolution_um=fine", "'fine' is not a number (gauge_resolution_um: "),
        (
            "grinder:gauge_resolution_um=2",
            "simulated grinder: gauge_resolution_um 2.0 outside 0.1-1",
        ),
        ("laser:source=1", "the simulated laser has no option 'source'; its options: none"),
    ],
)
def test_a_wrong_sim_option_is_refused_before_any_tool_is_contacted(
    db, fine_grind, capsys, option, message
):
    assert (
        main(
            ["run", "tape-substrate", "--sim", "--recipe", str(fine_grind), "--sim-option", option]
        )
        == 2
    )
    error = capsys.readouterr().err
    assert f"packline: error: --sim-option {option}: {message}" in error
    assert "no tool was contacted" in error
    assert not db.exists()


def test_a_dry_runs_sim_options_and_its_readings_steps_are_shown_from_its_records(
    db, fine_grind, tmp_path, capsys
):
    """A dry run on a grinder whose gauge reads to 0.5 um (decision 0121): `show` names the
    option beside the grinder and the reading's step beside its limits, and `export` and
    `spc` have both, where nothing had said either (the limit, target + tolerance - step,
    read as if taken from nowhere); `spc` of it beside a run on the line's own grinder says
    the two were read on two steps."""
    recipe = yaml.safe_load(fine_grind.read_text())
    recipe["grind"]["tolerance_um"] = "0.5 um"
    fine_grind.write_text(yaml.safe_dump(recipe))
    args = ["run", "tape-substrate", "--sim", "--recipe", str(fine_grind), "--quiet"]
    assert main([*args, "--sim-option", "grinder:gauge_resolution_um=0.5"]) == 0
    capsys.readouterr()
    assert main(["show", "last"]) == 0
    shown = capsys.readouterr().out
    assert "--sim-option" in shown
    (grinder,) = [line for line in shown.splitlines() if "packline GR-2" in line]
    assert "gauge_resolution_um=0.5" in grinder
    assert "413 um (read in 0.5 um steps) in [412.5, 413]: 0 um to spare" in shown
    assert main(["show", "last", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (wafer,) = report["wafers"]
    assert wafer["measurements"]["package thickness"]["resolution"] == 0.5
    (grinder,) = [tool for tool in report["tools"] if tool["name"] == "grinder"]
    assert grinder["sim_options"] == {"gauge_resolution_um": 0.5}
    assert main(["export", "last", "--to", str(tmp_path / "out"), "--format", "csv"]) == 0
    measurements = pd.read_csv(tmp_path / "out" / "measurements.csv")
    assert list(measurements.columns[6:9]) == ["value", "unit", "resolution"]
    (thickness,) = measurements[measurements["name"] == "package thickness"]["resolution"]
    assert thickness == 0.5
    tools = pd.read_csv(tmp_path / "out" / "tools.csv").set_index("name")["sim_options"]
    assert tools["grinder"] == '{"gauge_resolution_um": 0.5}'
    assert tools.drop("grinder").isna().all()
    # the report, where the other sessions' and tools' rows give none (NaN in its frame)
    assert main(["report", "last", "--to", str(tmp_path / "report.html")]) == 0
    page = (tmp_path / "report.html").read_text()
    assert "--sim-option" in page
    assert "gauge_resolution_um=0.5" in page
    assert main(args) == 0  # the line's own grinder, 0.1 um
    capsys.readouterr()
    spc = ["spc", "package thickness", "--method", "tape-substrate", "--chart", "individuals"]
    assert main(spc) == 0
    said = capsys.readouterr().out
    assert (
        "values read in 0.5 um and 0.1 um steps: instruments of several resolutions mixed" in said
    )
    # the limits as recorded, the first run's [412.5, 413] (3 figures had read 412 .. 413)
    assert "against [412.5, " in said


def test_a_mistyped_tool_or_option_is_named_with_what_it_may_mean_among_the_recipes_tools(
    db, fine_grind, capsys
):
    """A new user's `--sim-option saw:x=1` offered no tool it may mean and listed tools the
    recipe does not drive (tape-substrate's ball mounter, litho cell and wet bench, which its
    dry run has not); now the tools listed are those the recipe drives, with the one meant
    and every option there is; an option given to the wrong tool names the one that takes
    it. Nothing is run or recorded."""
    run = ["run", "tape-substrate", "--sim", "--recipe", str(fine_grind)]
    options = ["saw:x=1", "dicing_saw:gauge_resolution_um=1"]
    assert main([*run, *(f"--sim-option={option}" for option in options)]) == 2
    error = capsys.readouterr().err
    assert error.splitlines()[:2] == [
        "packline: error: --sim-option saw:x=1: the dry run of tape-substrate has no tool "
        "'saw'; its tools: laser, dispenser, wire_bonder, dicing_saw, flip_chip_bonder, oven, "
        "grinder (did you mean 'dicing_saw'?); the tools' options: grinder:gauge_resolution_um",
        "--sim-option dicing_saw:gauge_resolution_um=1: the simulated dicing_saw has no option "
        "'gauge_resolution_um'; its options: none (did you mean "
        "'grinder:gauge_resolution_um'?); the tools' options: grinder:gauge_resolution_um",
    ]
    assert not db.exists()


def test_a_served_line_takes_a_sim_option_to_rehearse_a_station_runs_refusal(
    tmp_path, fine_grind, capsys
):
    """A new user could not give a served line (`sim serve`, which station runs drive) a
    coarse gauge: the option was no argument of `sim serve`. Served with one, the line says
    so beside the tool, and a station run of the finer grind is refused as it connects,
    recording nothing; a wrong option is refused before anything is served. The line is
    tape-substrate's (`--method`), whose laser drills the recipe's holes: the grinder alone
    refuses it."""
    from ...sequences.processes import Served
    from ...sequences.processes import packline as packline_in

    assert main(["sim", "serve", "--sim-option", "grindr:gauge_resolution_um=0.5"]) == 2
    assert capsys.readouterr().err.startswith(
        "packline: error: --sim-option grindr:gauge_resolution_um=0.5: the served line has no "
        "tool 'grindr'; its tools: plasma_cleaner, "
    )
    station = tmp_path / "line.yaml"
    db = tmp_path / "runs.db"
    with Served(station, "--method", "tape-substrate", "--recipe", str(fine_grind),
                "--sim-option", "grinder:gauge_resolution_um=0.5") as served:  # fmt: skip
        # the check asks what the run would, before it is started (nothing commanded)
        check = packline_in(db, "station", "check", str(station), "--method", "tape-substrate",
                            "--recipe", str(fine_grind))  # fmt: skip
        assert check.returncode == 1, check.stderr
        verdict = check.stdout.partition("nothing was commanded\n")[2].splitlines()
        assert verdict[0] == (
            f"tape-substrate on {fine_grind}: refused by its tools check, as a run would be as "
            "it connects:"
        )
        assert verdict[1].startswith("  grinder at TCPIP0::")
        assert "finer than this grinder's thickness gauge resolves, 0.5 um (" in verdict[1]
        assert len(verdict) == 2  # the grinder alone: the laser drills the holes
        run = packline_in(db, "run", "tape-substrate", "--station", str(station), "--recipe",
                          str(fine_grind), "--confirmed-by", "ci-bot", "--quiet")  # fmt: skip
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("packline: error: run not started: grinder at TCPIP0::")
        assert "finer than this grinder's thickness gauge resolves, 0.5 um (" in run.stderr
    assert "grinder: grinder served at TCPIP0::" in served.log.read_text()
    assert " (gauge_resolution_um 0.5)\n" in served.log.read_text()
    store = RunStore(str(db))
    try:
        assert store.runs() == []  # nothing recorded
    finally:
        store.close()
