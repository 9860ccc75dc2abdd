"""Fixtures for the records tests: one finished dry run, shared by the tests of a module."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.cli import main
from packline.records import RunRecords
from packline.sequences.engine import RunStore


@pytest.fixture(scope="module")
def run_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run database holding one dry run of bump-seal-clean, a lot of 2."""
    path = tmp_path_factory.mktemp("records") / "runs.db"
    args = ["run", "bump-seal-clean", "--sim", "--lot", "2", "--quiet", "--db", str(path)]
    assert main(args) == 0
    return path


@pytest.fixture
def records(run_db: Path):
    store = RunStore(run_db, create=False)
    yield RunRecords(store, store.resolve_run("last"))
    store.close()
