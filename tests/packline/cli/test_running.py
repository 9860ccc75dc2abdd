"""`packline run`: the options of a run as the command line takes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.cli import main
from packline.sequences.engine import RunStore


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


def test_gem_drives_the_dry_runs_gem_tools_through_the_gem_host_driver(db, capsys):
    assert main(["run", "bump-seal-clean", "--sim", "--gem", "--quiet"]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        drivers = {row["name"]: row["driver"] for row in store.table("tools", run_id)}
    finally:
        store.close()
    assert drivers["wire_bonder"] == "gem"
    assert drivers["dicing_saw"] == "gem"
    assert drivers["laminator"] == "laminator"


def test_gem_on_a_station_file_is_bad_input(db, tmp_path, capsys):
    station = tmp_path / "line.yaml"
    station.write_text("name: line\ntools: {}\n")
    assert main(["run", "bump-seal-clean", "--station", str(station), "--gem"]) == 2
    assert "--gem serves the in-process simulated line" in capsys.readouterr().err
    assert not db.exists()  # refused before any record was opened
