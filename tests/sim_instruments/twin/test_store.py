"""The twin store: a tool refuses to load a wafer it has already processed, unless reworked."""

from __future__ import annotations

import pytest

from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.store import WaferAlreadyProcessed


def test_a_tool_refuses_a_wafer_it_processed_unless_it_is_a_rework():
    store = TwinStore()
    wafer = store.load("W01", "plasma_cleaner")  # fresh incoming material
    assert store.load("W01", "plasma_cleaner") is wafer  # loaded, not yet processed: fine
    wafer.record("plasma_cleaner", "plasma clean", 120.0, gas="O2")
    with pytest.raises(
        WaferAlreadyProcessed,
        match=r"wafer W01 was already processed by plasma_cleaner \(plasma clean at t = 120 s\); "
        "load it again only as a rework",
    ):
        store.load("W01", "plasma_cleaner")
    assert store.load("W01", "laser") is wafer  # the next tool of the line takes it
    store.allow_rework("W01")
    assert store.load("W01", "plasma_cleaner") is wafer
    assert store.get("W01") is wafer  # looking a wafer up is never refused


def test_rework_of_a_bad_wafer_id_is_refused():
    with pytest.raises(ValueError, match="must be 1-16 printable ASCII"):
        TwinStore().allow_rework("W 01")
