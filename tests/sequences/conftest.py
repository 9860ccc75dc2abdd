"""Fixtures for the engine tests: a run store in tmp_path, and runs on the simulated line."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.sequences.engine import RunStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run database of the command line's runs, in tmp_path ($PACKLINE_DB)."""
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


@pytest.fixture
def store(db: Path):
    """The run store of `db`, the default database: the commands its messages name need no
    `--db`, as a user's on the default database."""
    store = RunStore(db)
    yield store
    store.close()
