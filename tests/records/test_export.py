"""`packline export`: every table written as CSV or Parquet reads back equal to the records."""

from __future__ import annotations

import json

import pandas as pd
import pandas.testing as pdt
import pytest

from packline.cli import main
from packline.records import TABLES
from packline.records.export import export_run


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
