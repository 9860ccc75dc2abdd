"""Bad input gets one clear error naming what is wrong and where, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from packline.cli import main
from packline.files import MAX_FILE_BYTES

STATION = """\
name: line
tools:
  plasma_cleaner: {driver: plasma_cleaner, address: "modbus+tcp://127.0.0.1:9"}
"""


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


def error_of(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("packline: error: ")
    return err


@pytest.mark.parametrize("kind", ["station", "recipe"])
def test_a_file_that_is_not_utf8_is_refused_naming_the_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
):
    path = tmp_path / "file.yaml"
    path.write_bytes(b"name: line\xff\n")
    args = ["validate", "plasma-clean", f"--{kind}", str(path)]
    assert main(args) == 2
    assert f"{kind} file {path}: not UTF-8 text (byte 10 is 0xff)" in error_of(capsys)


@pytest.mark.parametrize("kind", ["station", "recipe"])
def test_an_oversized_file_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert main(["validate", "plasma-clean", f"--{kind}", str(path)]) == 2
    assert f"{kind} file {path}: larger than 1,000,000 bytes" in error_of(capsys)


def test_a_key_given_twice_is_an_error_naming_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "steps:\n  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr,"
        " rf_power_w: 300 W, time_s: 60 s}\nbatch_timeout_s: 10 min\nbatch_timeout_s: 1 min\n",
        encoding="utf-8",
    )
    assert main(["validate", "plasma-clean", "--recipe", str(recipe)]) == 2
    assert "key 'batch_timeout_s' is given twice, on line 3 and on line 4" in error_of(capsys)
    station = tmp_path / "s.yaml"
    station.write_text(STATION + "name: other\n", encoding="utf-8")
    assert main(["validate", "plasma-clean", "--station", str(station)]) == 2
    assert "key 'name' is given twice, on line 1 and on line 4" in error_of(capsys)


@pytest.mark.parametrize("where", ["missing/log.txt", "."])
def test_a_wire_log_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str], where: str
):
    path = tmp_path / where
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--wire-log", str(path)]) == 2
    assert f"--wire-log {path}: cannot write to it" in error_of(capsys)
    assert not db.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_database_under_an_unwritable_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    path = locked / "sub" / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(path)]) == 2
    assert f"run database {path}: cannot create it" in error_of(capsys)


def test_a_database_that_is_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(tmp_path)]) == 2
    assert f"run database {tmp_path}: " in error_of(capsys)


def test_sim_serve_on_a_host_it_cannot_serve_on_is_refused(capsys: pytest.CaptureFixture[str]):
    assert main(["sim", "serve", "--host", "999.1.1.1", "--for", "1"]) == 2
    assert "--host 999.1.1.1: cannot serve on it" in error_of(capsys)


def test_sim_serve_station_out_to_a_missing_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "missing" / "line.yaml"
    assert main(["sim", "serve", "--station-out", str(path), "--for", "5"]) == 2
    assert f"--station-out {path}: cannot write it" in error_of(capsys)


def test_tool_text_with_markup_is_printed_as_written(db: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--json"]) == 0
    capsys.readouterr()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE wafers SET reason = '[/bold] held [link=x]W01'")
        connection.execute("UPDATE steps SET error = '[red]tool said [/red]'")
    assert main(["show", "last"]) == 0
    out = capsys.readouterr().out
    assert "[/bold] held [link=x]W01" in out
    assert "[red]tool said [/red]" in out


def test_the_records_and_the_wire_log_are_readable_by_the_user_alone(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
):
    log = tmp_path / "wire.log"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--wire-log", str(log)]) == 0
    written = [db, db.with_name("runs.db-wal"), db.with_name("runs.db-shm"), log]
    for path in written:
        if path.exists():  # the WAL files go when the last connection closes
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert db.exists()


def test_clear_tool_of_a_completed_run_says_so(db: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["run", "plasma-clean", "--sim", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["clear-tool", "last", "plasma_cleaner", "--by", "ana"]) == 2
    assert "is completed: no resume uses its tools; nothing cleared" in error_of(capsys)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["validate", "sprout-bump-csp", "--recipe", "{missing}"], "cannot read"),
        (["show", "nope"], "does not exist"),
    ],
)
def test_with_json_a_refusal_is_a_json_document_on_stdout_too(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
):
    """A machine reading `--json` output is told of a refusal where it reads."""
    argv = [word.format(missing=tmp_path / "missing.yaml") for word in argv]
    assert main([*argv, "--json"]) == 2
    out = capsys.readouterr()
    assert out.err.startswith("packline: error: ")
    answer = json.loads(out.out)
    assert answer["ok"] is False
    assert answer["exit_code"] == 2
    assert words in answer["error"]
    assert answer["error"] == out.err.removeprefix("packline: error: ").rstrip("\n")
