"""`packline export`: every table written as CSV or Parquet reads back equal to the records."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pandas.testing as pdt
import pytest

from packline.cli import main
from packline.records import TABLES
from packline.records.export import export_run
from packline.sequences.engine import RunStore
from packline.sequences.engine.report import run_report

from .conftest import ASKED


def _same(read: pd.DataFrame, frame: pd.DataFrame, *, exact: bool) -> None:
    """A table read back equals the records' table: exactly from Parquet; from CSV the same
    values (floats to their written precision, empty text read as empty)."""
    if exact:
        pdt.assert_frame_equal(read, frame)
        return
    assert list(read.columns) == list(frame.columns)
    for column in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        ):
            pdt.assert_series_equal(
                read[column].astype("float64"),
                frame[column].astype("float64"),
                check_exact=False,
                rtol=1e-6,
                check_index_type=False,
            )
        else:
            assert _text(read[column]) == _text(frame[column]), column


def _text(column: pd.Series) -> list[str]:
    return column.astype(object).fillna("").astype(str).tolist()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_table_round_trips(records, tmp_path, fmt):
    files = export_run(records, tmp_path / "out", fmt, maps_after="irreversible")
    assert [f.name for f in files] == ["run.json", *[f"{name}.{fmt}" for name in TABLES]]
    for name in TABLES:
        frame = records.maps("irreversible") if name == "maps" else records.table(name)
        path = tmp_path / "out" / f"{name}.{fmt}"
        read = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, low_memory=False)
        _same(read, frame, exact=fmt == "parquet")
    header = json.loads((tmp_path / "out" / "run.json").read_text())
    assert header["id"] == records.run_id
    assert header["recipe"]["resin"]["sheet_thickness_um"] == "45 um"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_confirmation_asked_is_exported_with_its_outcome(asked_run, tmp_path, fmt):
    """The exported confirmations had the answered ones alone: one the run was terminated at,
    which an auditor asks about first, was missing. Each asked has its row, in the order they
    ended: answered (yes or no, by whom, how, when) or unanswered (why, when the run
    stopped), read back as the records give it."""
    export_run(asked_run, tmp_path / "out", fmt)
    path = tmp_path / "out" / f"confirmations.{fmt}"
    read = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    _same(read, asked_run.confirmations(), exact=fmt == "parquet")
    rows = read.astype(object).where(read.notna(), None).to_dict("records")
    assert [(r["t"], r["prompt"]) for r in rows] == [(t, prompt) for t, prompt, _, _ in ASKED]
    assert [(r["confirmed"], r["by"], r["stopped"], r["reason"]) for r in rows] == [
        (1, "ana (at the terminal)", None, None),
        (0, "no operator", None, None),
        (None, None, "terminated", "terminate requested by bo"),
    ]
    # nobody answered the last two: no operator to ask, the run stopped while it waited
    assert [r["outcome"] for r in rows] == ["confirmed", "unanswered", "unanswered"]
    assert [r["answer"] for r in rows] == [
        "confirmed by ana, answered at the terminal",
        "declined: no operator was there to answer it",
        "unanswered: the run was terminated (terminate requested by bo)",
    ]
    assert [r["step"] for r in rows] == ["use oven", None, None]  # the step that asked it


def test_the_command_writes_the_last_runs_tables(run_db, tmp_path, capsys):
    out = tmp_path / "tables"
    assert main(["export", "last", "--db", str(run_db), "--to", str(out), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["format"] == "csv"
    assert len(answer["files"]) == len(TABLES) + 1
    maps = pd.read_csv(out / "maps.csv")
    assert set(maps["wafer_id"]) == {"W01", "W02"}
    assert maps.groupby("wafer_id")["step_id"].nunique().eq(1).all()


def test_export_to_a_file_is_bad_input_and_writes_nothing(run_db, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["export", "last", "--db", str(run_db), "--to", str(blocker)]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert blocker.read_text() == ""


def test_each_measurement_names_the_step_that_took_it(records, tmp_path):
    """A new user's export had `step_id` alone: two-process-via's two `plasma process time`
    rows were told apart only by joining `steps`. `measurements` has the step's label beside
    its id, and so have the maps (they had its key, `unmount from saw#0`), as `steps` gives
    it: its name, `open door #2` for a step the script runs more than once."""
    export_run(records, tmp_path / "out", "csv", maps_after="irreversible")
    read = pd.read_csv(tmp_path / "out" / "measurements.csv")
    assert list(read.columns[3:6]) == ["step_id", "step", "name"]
    steps = records.steps().set_index("id")
    taken = read.dropna(subset=["step_id"])
    assert not taken.empty
    assert taken["step"].tolist() == [steps["label"][int(i)] for i in taken["step_id"]]
    maps = pd.read_csv(tmp_path / "out" / "maps.csv", usecols=["step_id", "step"])
    assert maps["step"].tolist() == [steps["label"][int(i)] for i in maps["step_id"]]
    assert any(label.endswith(" #2") for label in steps["label"])
    assert (steps["label"] == steps["name"]).any()


def test_each_wafers_start_and_time_on_line_are_shown_s(records, tmp_path):
    """The wafers table starts each wafer at its first step, as `show`, the summary and the
    report count its time on the line: W02, queued behind W01, read `started_t` 0.0 (its
    task's start, the run's), so `stopped_t - started_t` overstated its time on the line
    (4:21:20 for the 25th of a lot on the line 0:27:04)."""
    export_run(records, tmp_path / "exp", "csv")
    wafers = pd.read_csv(tmp_path / "exp" / "wafers.csv").set_index("wafer_id")
    shown = run_report(records.store, records.run_id)["wafers"]
    steps = records.steps()
    for wafer in shown:
        row = wafers.loc[wafer["wafer"]]
        first = steps[(steps["wafer_id"] == wafer["wafer"]) & (steps["kind"] == "step")]
        assert row["started_t"] == pytest.approx(first["started_t"].min())
        assert row["stopped_t"] - row["started_t"] == pytest.approx(wafer["cycle_time_s"])
        assert row["time_on_line_s"] == pytest.approx(wafer["cycle_time_s"])
    assert wafers.loc[shown[1]["wafer"], "started_t"] > 0


def test_a_measurement_without_limits_is_exported_not_judged(tmp_path):
    """The measurements table's `passed` is empty for a value without limits (plasma-clean's
    twin's `residue before`), and `verdict` says `recorded`, as `show` reads it (`passed`
    read 1, a pass nothing judged)."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet", "--db", db]) == 0
    assert main(["export", "last", "--to", str(tmp_path / "exp"), "--db", db]) == 0
    table = pd.read_csv(tmp_path / "exp" / "measurements.csv")
    unjudged = table["low"].isna() & table["high"].isna()
    assert unjudged.any()
    assert (~unjudged).any()
    assert table.loc[unjudged, "passed"].isna().all()
    assert set(table.loc[unjudged, "verdict"]) == {"recorded"}
    assert set(table.loc[~unjudged, "verdict"]) <= {"pass", "fail"}
    assert (table.loc[~unjudged, "passed"] == (table.loc[~unjudged, "verdict"] == "pass")).all()


def _files(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_a_folder_holding_another_export_is_refused_and_left_as_it_was(tmp_path, add_run, capsys):
    """A new user's `export RUN_A --to exp1`, then `export RUN_B --to exp1 --format parquet`,
    wrote into the folder: it held run A's wafers.csv beside run B's wafers.parquet and
    run.json. An export refuses a folder holding another run's export, in either format, or
    this run's in the other, naming the files and writing nothing; other files stay."""
    db = tmp_path / "runs.db"
    store = RunStore(db)
    add_run(store, "R1", ["W01"])
    add_run(store, "R2", ["W01", "W02"])
    store.close()
    out = tmp_path / "exp1"
    assert main(["export", "R1", "--db", str(db), "--to", str(out)]) == 0
    (out / "notes.txt").write_text("lot 7, as exported")
    before = _files(out)
    capsys.readouterr()
    for run, fmt, whose in [
        ("R2", "parquet", "the export of another run, R1"),
        ("R2", "csv", "the export of another run, R1"),
        ("R1", "parquet", "this run's export in another format"),
    ]:
        assert main(["export", run, "--db", str(db), "--to", str(out), "--format", fmt]) == 2
        error = capsys.readouterr().err
        assert f"export to {out}: the folder holds {whose}" in error
        assert "(alarms.csv, claim_checks.csv, " in error
        assert "run.json, steps.csv, tools.csv, traces.csv, wafers.csv); nothing was written" in (
            error
        )
        assert "choose another folder, or empty it" in error
        assert _files(out) == before
    (out / "run.json").unlink()
    assert main(["export", "R1", "--db", str(db), "--to", str(out)]) == 2
    assert "export files without a run.json to say whose they are" in capsys.readouterr().err


def test_the_same_run_exported_again_in_the_same_format_writes_over_its_own_files(
    tmp_path, add_run
):
    """Exporting a run again into its own folder, as its records stand now, is what a careful
    user does after a resume: its files are written over, anything else in the folder stays."""
    db = tmp_path / "runs.db"
    store = RunStore(db)
    add_run(store, "R1", ["W01"])
    store.close()
    out = tmp_path / "exp1"
    assert main(["export", "R1", "--db", str(db), "--to", str(out), "--format", "parquet"]) == 0
    (out / "notes.txt").write_text("kept")
    (out / "wafers.parquet").write_bytes(b"stale")
    assert main(["export", "R1", "--db", str(db), "--to", str(out), "--format", "parquet"]) == 0
    assert (out / "notes.txt").read_text() == "kept"
    assert list(pd.read_parquet(out / "wafers.parquet")["wafer_id"]) == ["W01"]
    assert json.loads((out / "run.json").read_text())["id"] == "R1"


def test_the_claim_checks_worst_site_is_exported_as_a_number_beside_its_wafer(run_db, tmp_path):
    """`margin_workpiece` and `margin_entry` say where each margin's worst site is (decision
    0127): the entry a site's number, as `maps` numbers them, empty where the condition has
    no margin (a new user's export read `1092.0`)."""
    assert main(["export", "last", "--to", str(tmp_path / "exp"), "--db", str(run_db)]) == 0
    with (tmp_path / "exp" / "claim_checks.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    placed = [row for row in rows if row["margin_worst"]]
    assert placed
    assert {row["margin_workpiece"] for row in placed} <= {"W01", "W02"}
    assert all(row["margin_entry"].isdigit() for row in placed)
    assert all(not row["margin_entry"] for row in rows if not row["margin_worst"])


def test_a_low_limit_to_pass_is_exported_beside_it(reflowed_db, tmp_path):
    """A reflow's peak had to pass its solder's liquidus, not reach it (decision 0129): the
    export says so beside `low` (`low_exclusive` 1), where a limit to reach says 0 and a
    value without a low limit nothing; the bare `low` had read as a limit 314 degC passed."""
    out = tmp_path / "out"
    assert main(["export", "last", "--db", str(reflowed_db), "--to", str(out)]) == 0
    read = pd.read_csv(out / "measurements.csv")
    assert list(read.columns[read.columns.get_loc("low") :][:3]) == ["low", "low_exclusive", "high"]
    peaks = read[read["name"] == "reflow peak"]
    assert not peaks.empty
    assert set(peaks["low_exclusive"]) == {1}
    assert set(read.loc[read["low"].isna(), "low_exclusive"].isna()) == {True}
    assert set(read.loc[read["name"] == "time above liquidus", "low_exclusive"]) == {0}
