"""`packline diff RUN_A RUN_B`: recipe values, timings, measurements and claim margins side by
side."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from statistics import mean

import yaml

from packline.cli import main
from packline.cli.diff import MARKS, OTHER_LIMITS, _measurement_rows, _measurements, _tools
from packline.cli.summary import clocks_text
from packline.clock import ScaledClock
from packline.sequences.engine import Engine, RunRequest, RunStore, open_run, prepare
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.report import run_report
from packline.sim_instruments.line import SimulatedLine

from ...sequences.helpers import station_lot
from ...sequences.test_resume_station import confirm_yes

LONGER_O2 = """steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 90 s}
  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 500 W, time_s: 2 min}
"""


def test_two_runs_of_different_recipes_side_by_side(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    recipe = tmp_path / "longer-o2.yaml"
    recipe.write_text(LONGER_O2)
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--db", db]) == 0
    args = ["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--db", db]
    assert main([*args, "--recipe", str(recipe)]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--db", db]) == 0
    second, first = (run["id"] for run in json.loads(capsys.readouterr().out))
    assert main(["diff", first, second, "--json", "--db", db]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["runs"] == [first, second]
    assert diff["recipe"] == [{"what": "steps.0.time_s", "a": "60 s", "b": "90 s"}]
    timings = {row["what"]: row for row in diff["timings"]}
    assert timings["wafers completed"]["a"] == timings["wafers completed"]["b"] == "2 of 2"
    assert timings["run clock"]["a"] != timings["run clock"]["b"]
    measured = {row["what"]: row for row in diff["measurements"]}
    assert measured["plasma process time"]["a"].startswith("180 s (180-180, 2 wafers)")
    assert measured["plasma process time"]["b"].startswith("210 s")
    assert measured["plasma process time"]["differs"]
    claims = {row["what"]: row for row in diff["claims"]}
    residue = claims["003:10 no residue on the exposed metal (<= 0.1 nm)"]
    assert residue["a"].startswith("pass, largest residue")
    assert main(["diff", first, second, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "steps.0.time_s" in out
    assert "recipe values that differ" in out


def test_lots_of_different_sizes_with_the_same_values_measure_the_same(tmp_path, capsys):
    """Lots of 3 and of 2 of one recipe: each measurement's values per wafer are the same, so
    no measurement row is marked as differing (each had been, by its count of wafers); the
    wafers completed differ, their run clocks not."""
    db = str(tmp_path / "runs.db")
    for lot in ("3", "2"):
        assert main(["run", "plasma-clean", "--sim", "--lot", lot, "--quiet", "--db", db]) == 0
    assert main(["diff", "last", "--db", db, "--json", *_first(db, capsys)]) == 0
    diff = json.loads(capsys.readouterr().out)
    measured = {row["what"]: row for row in diff["measurements"]}
    limits = "in [178.2, 181.8]"  # what they were judged against, which a diff shows
    assert measured["plasma process time"]["a"] == f"180 s (180-180, 2 wafers) {limits}"
    assert measured["plasma process time"]["b"] == f"180 s (180-180, 3 wafers) {limits}"
    assert not any(row["differs"] for row in diff["measurements"])
    timings = {row["what"]: row["differs"] for row in diff["timings"]}
    assert timings["wafers completed"]
    assert not timings["run clock"]
    assert main(["diff", "last", "--db", db, *_first(db, capsys)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert next(row for row in rows if "plasma process time" in row).startswith("│  │")
    assert next(row for row in rows if "wafers completed" in row).startswith("│ * │")


def _first(db: str, capsys) -> list[str]:
    """The id of the first run of `db` (`runs --json`), as `diff`'s second argument."""
    capsys.readouterr()
    assert main(["runs", "--json", "--db", db]) == 0
    return [json.loads(capsys.readouterr().out)[-1]["id"]]


def test_an_unknown_run_is_bad_input(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    assert main(["diff", "last", "nope", "--db", db]) == 2
    assert "nope" in capsys.readouterr().err


def test_a_measurement_two_steps_take_is_one_row_each_in_diff_and_spc_asks_which(tmp_path, capsys):
    """two-process-via's plasma cleaner reports 'plasma process time' for its descum (300 s)
    and for its dry etch (480 s): a new user's diff showed one row (the descum's lost) and
    spc charted both as one process (Cpk -0.18 against the dry etch's limits); the run's
    report (`show --json`, `run --json`) kept one of them per wafer."""
    db = str(tmp_path / "runs.db")
    for _ in range(2):
        assert main(["run", "two-process-via", "--sim", "--lot", "1", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--db", db]) == 0
    second, first = (run["id"] for run in json.loads(capsys.readouterr().out))
    assert main(["diff", first, second, "--json", "--db", db]) == 0
    measured = {row["what"]: row for row in json.loads(capsys.readouterr().out)["measurements"]}
    assert measured["plasma process time at descum pads"]["a"].startswith(
        "300 s (300-300, 1 wafer)"
    )
    assert measured["plasma process time at dry etch via bottoms"]["a"].startswith("480 s")
    assert "plasma process time" not in measured
    assert main(["show", first, "--json", "--db", db]) == 0
    (wafer,) = json.loads(capsys.readouterr().out)["wafers"]  # keyed alike: none lost
    descum = wafer["measurements"]["plasma process time at descum pads"]
    etch = wafer["measurements"]["plasma process time at dry etch via bottoms"]
    assert (descum["value"], descum["step"], etch["value"]) == (300.0, "descum pads", 480.0)
    assert wafer["measurements"]["kerf width"]["step"] == "dice"
    spc = ["spc", "plasma process time", "--method", "two-process-via", "--db", db]
    assert main([*spc, "--chart", "individuals"]) == 2
    err = capsys.readouterr().err
    assert "taken at 2 steps of two-process-via" in err
    assert "descum pads, dry etch via bottoms; say which with --step STEP" in err
    assert main([*spc, "--chart", "individuals", "--step", "descum pads", "--json"]) == 0
    chart = json.loads(capsys.readouterr().out)
    assert [point["value"] for point in chart["points"]] == [300.0, 300.0]
    assert main([*spc, "--step", "descum", "--json"]) == 2
    assert "steps that take it: descum pads, dry etch via bottoms" in capsys.readouterr().err


def test_a_measurement_differing_only_by_a_wafer_one_lot_lacks_is_told_apart(tmp_path, capsys):
    """A new user's diff of two-process-via's lot of 3 and lot of 2 marked `cut depth into
    tape` and `placement offset` `*` beside the recipe change, though W01 and W02 (the same
    simulated wafers) measured alike in both: only W03 differs. They are marked `+` with its
    legend; the dry runs' wall times (the computer's, noise) are not marked. (The saw's blade
    is now dressed, its height set up, before every wafer's cut: the cut depth is alike on
    all three, unmarked as the kerf width is.)"""
    db = str(tmp_path / "runs.db")
    for lot in ("3", "2"):
        assert main(["run", "two-process-via", "--sim", "--lot", lot, "--quiet", "--db", db]) == 0
    first = _first(db, capsys)
    assert main(["diff", *first, "last", "--db", db, "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    measured = {row["what"]: row["differs"] for row in diff["measurements"]}
    assert measured["placement offset"] == "unshared wafers"
    assert measured["cut depth into tape"] is measured["kerf width"] is None
    timings = {row["what"]: row["differs"] for row in diff["timings"]}
    assert timings["wafers completed"]
    assert not timings["wall from start to end"]
    assert main(["diff", *first, "last", "--db", db]) == 0
    out = capsys.readouterr().out
    rows = out.splitlines()
    assert next(row for row in rows if "placement offset" in row).startswith("│ + │")
    assert next(row for row in rows if "wall from start to end" in row).startswith("│   │")
    assert "+ the same on the wafers both runs have" in out
    assert "wall from start to end not marked: a dry run's wall time" in out


async def served_plasma_clean(store: RunStore, folder: Path) -> Engine:
    """A plasma-clean lot of 2 completed on a line served at time x1000 (its station file in
    `folder`), recorded in `store`: its engine."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        station = yaml.safe_load(line.station.to_yaml())
        path = folder / "line.yaml"
        path.write_text(yaml.safe_dump({**station, "time_scale": 1000}))
        request = station_lot(path)
        async with open_run(store, prepare(request), confirm=confirm_yes) as served:
            assert await served.run() == "completed"
    return served


async def test_a_dry_run_and_a_served_run_compare_process_times(tmp_path, capsys):
    """A dry run of plasma-clean beside the same on a line served at time x1000: `diff` set
    the dry run's mean time on the line, simulated, beside the served run's wall time, a
    thousandth of its process (a trial's 0:31:09 against 0:00:35 at x60, where show gave
    the served run 0:43:16 of process time). Both rows are on the line's process clock now,
    the served run's as show computes it, and labelled; and each table's `*` has its
    legend (only the measurements' had one)."""
    store = RunStore(tmp_path / "runs.db")
    async with open_run(store, prepare(RunRequest("plasma-clean", lot=2))) as dry:
        assert await dry.run() == "completed"
    served = await served_plasma_clean(store, tmp_path)
    dry_report, served_report = (run_report(store, run.run_id) for run in (dry, served))
    store.close()
    db = str(tmp_path / "runs.db")
    assert main(["diff", dry.run_id, served.run_id, "--json", "--db", db]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["time_scales"] == [1.0, 1000.0]
    timings = {row["what"]: (row["a"], row["b"]) for row in diff["timings"]}
    dry_mean, wall_mean = (
        mean(w["cycle_time_s"] for w in report["wafers"]) for report in (dry_report, served_report)
    )
    assert timings["mean time on line (process time)"] == (
        clock_text(dry_mean),
        clock_text(wall_mean * 1000),
    )
    assert wall_mean * 1000 >= dry_mean  # the served process is no faster than the simulated
    assert timings["process time on the line"] == (
        clock_text(dry_report["duration_s"]),
        clock_text(served_report["duration_s"] * 1000),
    )
    summary = clocks_text(served_report)  # as the summary and show say it
    assert f"process time on the line {timings['process time on the line'][1]} " in summary
    assert main(["diff", dry.run_id, served.run_id, "--db", db]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "* the two runs differ" in out  # the timings' legend
    assert "* the verdict or the worst site's margin differs" in out  # the claims' (none served)
    assert f"({served.run_id} served at time x1000), as show says it" in out


def test_a_tool_given_another_sim_option_and_its_coarser_readings_are_told(tmp_path, capsys):
    """Two dry runs of tape-substrate, the second's grinder gauge reading to 0.5 um
    (`--sim-option`): the grinder is the one tool listed as differing (its addresses, a dry
    run's ports of the moment, are not compared), and the package thickness, the same 413 um
    on both, differs by the steps it was read in, marked as values that differ (it had read
    the same on both sides, unmarked)."""
    db = str(tmp_path / "runs.db")
    run = ["run", "tape-substrate", "--sim", "--lot", "1", "--quiet", "--db", db]
    assert main(run) == 0
    assert main([*run, "--sim-option", "grinder:gauge_resolution_um=0.5"]) == 0
    assert main(["diff", *_first(db, capsys), "last", "--db", db, "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    (grinder,) = diff["tools"]
    assert grinder["what"] == "grinder"
    assert grinder["b"] == f"{grinder['a']}, --sim-option gauge_resolution_um=0.5"
    assert grinder["a"].startswith("grinder, packline GR-2 s/n ")
    thickness = next(row for row in diff["measurements"] if row["what"] == "package thickness")
    assert "read in 0.1 um steps" in thickness["a"]
    assert "read in 0.5 um steps" in thickness["b"]
    assert thickness["differs"] == "values"
    assert main(["diff", *_first(db, capsys), "last", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "tools that differ" in out
    assert "* the two runs drove them differently" in out


def test_a_tool_a_resume_connected_anew_is_told_session_by_session():
    """A tool whose sessions differ (a resume's fresh line without the first command's
    option) reads session by session; one alike in every session reads once."""
    tool = {
        "driver": "grinder",
        "vendor": "packline",
        "model": "GR-2",
        "serial_number": "GR-2-0001",
        "firmware": "1.0",
    }
    saw = {
        **tool,
        "name": "dicing_saw",
        "driver": "dicing_saw",
        "model": "DS-2",
        "serial_number": "DS-2-0001",
    }
    report = {
        "tools": [
            {**tool, "name": "grinder", "session": 1, "sim_options": {"gauge_resolution_um": 0.5}},
            {**saw, "session": 1, "sim_options": {}},
            {**tool, "name": "grinder", "session": 2, "sim_options": {}},
            {**saw, "session": 2, "sim_options": {}},
            {**tool, "name": "grinder", "session": 3, "sim_options": {}},
        ]
    }
    described = _tools(report)
    one = "grinder, packline GR-2 s/n GR-2-0001 firmware 1.0"
    assert described == {
        "grinder": f"session 1: {one}, --sim-option gauge_resolution_um=0.5; sessions 2, 3: {one}",
        "dicing_saw": "dicing_saw, packline DS-2 s/n DS-2-0001 firmware 1.0",
    }


def test_a_measurements_figures_read_as_every_reader_shows_them():
    """diff formatted its figures `.4g`: 25056 sites read `2.506e+04`, where `show` and the
    report read 25056 (`figure_text`)."""
    rows = [
        {"name": "pads", "unit": "sites", "value": value, "verdict": "pass", "wafer_id": wafer}
        | {"step_id": None, "resolution": None, "low": None, "high": None}
        for wafer, value in (("W01", 25056.0), ("W02", 25054.0))
    ]
    report = {"run": {"method": "plasma-clean"}, "measurements": rows, "steps": []}
    assert _measurements(report)["pads"].shown == "25055 sites (25054-25056, 2 wafers)"


def test_steps_one_run_recorded_before_they_were_kept_are_not_read_as_a_difference(
    tmp_path, capsys
):
    """Two dry runs of tape-substrate alike, the first's records written before the steps an
    instrument reads to were kept (schema 17, decision 0121: its `resolution` null): its
    package thickness, the same 413 um on both, was marked `*` as values that differ, the
    newer run's `read in 0.1 um steps` being all that told them apart. It is compared by its
    values, which both runs say, and marked `?`, said by one run alone."""
    db = str(tmp_path / "runs.db")
    run = ["run", "tape-substrate", "--sim", "--lot", "1", "--quiet", "--db", db]
    assert main(run) == 0
    assert main(run) == 0
    (first,) = _first(db, capsys)
    with sqlite3.connect(db) as records:
        records.execute("UPDATE measurements SET resolution = NULL WHERE run_id = ?", (first,))
    records.close()
    assert main(["diff", first, "last", "--db", db, "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    thickness = next(row for row in diff["measurements"] if row["what"] == "package thickness")
    assert "read in" not in thickness["a"]
    assert "read in 0.1 um steps" in thickness["b"]
    assert thickness["differs"] == "steps said by one run"
    assert not [row["what"] for row in diff["measurements"] if row["differs"] == "values"]
    assert main(["diff", first, "last", "--db", db]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "? the same values; the steps they were read in are said by one run only" in out


def test_the_limits_a_measurement_was_judged_against_are_shown_and_a_move_of_them_marked():
    """A new user's diff of two recipes read `reflow peak 244.8 degC ... 339.7 degC` with no
    sign that its limit had moved from 220 to 314 degC (another solder): each side says what
    its values were judged against, and the same values judged against other limits are
    marked `!`, not read as the same."""

    def report(low: float) -> dict[str, object]:
        rows = [
            {"name": "reflow peak", "unit": "degC", "value": 244.8, "verdict": "pass"}
            | {"wafer_id": wafer, "step_id": None, "resolution": None}
            | {"low": low, "high": None, "low_exclusive": 1}
            for wafer in ("W01", "W02")
        ]
        return {"run": {"method": "bump-seal-clean"}, "measurements": rows, "steps": []}

    eutectic, lead_free = _measurements(report(183.0)), _measurements(report(220.0))
    assert lead_free["reflow peak"].shown == "244.8 degC (244.8-244.8, 2 wafers) in (220, -]"
    (row,) = _measurement_rows(eutectic, lead_free)
    assert row["differs"] == OTHER_LIMITS
    assert MARKS[OTHER_LIMITS][0] == "!"
    (row,) = _measurement_rows(lead_free, _measurements(report(220.0)))
    assert row["differs"] is None
