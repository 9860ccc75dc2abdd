"""Fixtures for the engine tests: a run store in tmp_path, and runs on the simulated line."""

from __future__ import annotations

import pytest

from packline.sequences.engine import RunStore


@pytest.fixture
def store(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    yield store
    store.close()
