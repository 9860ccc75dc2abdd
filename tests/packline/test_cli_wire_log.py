"""`--wire-log FILE`: every exchange with every tool of a run, appended to a file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from packline.cli import main
from packline.drivers.links import wire_log


def test_a_run_with_wire_log_appends_every_exchange_and_leaves_the_logger_as_it_was(
    tmp_path: Path,
):
    log = tmp_path / "wire.log"
    level = wire_log.level
    db = str(tmp_path / "runs.db")
    args = ["run", "plasma-clean", "--sim", "--quiet", "--db", db, "--wire-log", str(log)]
    assert main(args) == 0
    lines = log.read_text().splitlines()
    sent = [line for line in lines if " plasma_cleaner modbus+tcp://127.0.0.1:" in line]
    assert len(sent) == len(lines) > 50
    assert sum(" > " in line for line in lines) == sum(" < " in line for line in lines)
    assert wire_log.level == level
    assert not any(isinstance(h, logging.FileHandler) for h in wire_log.handlers)
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    assert log.read_text().splitlines() == lines  # off again: nothing more written


def test_a_run_refused_for_its_input_leaves_no_wire_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A run refused before any tool is contacted says nothing was run or recorded, and
    leaves no wire log file behind either: it is opened once the run is driven."""
    log, recipe = tmp_path / "wire.log", tmp_path / "recipe.yaml"
    recipe.write_text("steps: []\n")
    db = str(tmp_path / "runs.db")
    args = ["run", "plasma-clean", "--sim", "--recipe", str(recipe), "--db", db]
    assert main([*args, "--wire-log", str(log)]) == 2
    assert "nothing was run and nothing was recorded" in capsys.readouterr().err
    assert not log.exists()
