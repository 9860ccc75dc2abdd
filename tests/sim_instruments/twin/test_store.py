"""The twin store: a tool refuses to load a wafer it processed last, unless reworked; a wafer
another tool processed since comes back as a new visit; a workpiece put away reads back."""

from __future__ import annotations

import pytest

from packline.sim_instruments.twin import PanelSpec, TwinStore, WaferSpec
from packline.sim_instruments.twin.snapshot import read_snapshot, snapshot
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


def test_a_wafer_another_tool_processed_since_comes_back_as_a_new_visit():
    store = TwinStore()
    wafer = store.load("W01", "wire_bonder")
    wafer.record("wire_bonder", "bump", 10.0)
    wafer.record("laminator", "laminate", 20.0)  # a stacked level: resin, then bumps again
    assert store.load("W01", "wire_bonder") is wafer
    wafer.record("wire_bonder", "bump", 30.0)
    with pytest.raises(WaferAlreadyProcessed, match=r"bump at t = 30 s"):
        store.load("W01", "wire_bonder")  # not moved on since the second visit


def test_incoming_material_may_depend_on_the_id():
    """A lot of tape panels and the die wafers their dies come from (claim 000)."""
    die_wafers = WaferSpec(diameter_mm=100, die_size_mm=(8.0, 8.0), pads_per_die_side=6)
    store = TwinStore(lambda wafer_id: die_wafers if wafer_id.startswith("D") else PanelSpec())
    assert isinstance(store.get("W01").spec, PanelSpec)
    assert store.get("DW01").spec == die_wafers
    assert store.spec_for("W02") == PanelSpec()


def test_a_workpiece_put_away_is_read_back_as_it_was():
    """A dry run's completed wafer leaves memory; whatever asks for it again reads it back."""
    store = TwinStore()
    wafer = store.load("W01", "wire_bonder")
    wafer.surface.residue_nm[:3] = [1.0, 2.0, 3.0]
    wafer.record("wire_bonder", "bump", 10.0)
    data = snapshot(wafer)
    store.put_away("W01", lambda: read_snapshot(data))
    assert "W01" in store
    assert len(store) == 1
    first, again = store.peek("W01"), store.peek("W01")
    assert first is not again  # read back each time, kept by no one
    assert snapshot(first) == data
    assert [snapshot(w) for w in store] == [data]
    with pytest.raises(ValueError, match="already on the simulated line"):
        store.receive("W01")  # put away is not gone
    with pytest.raises(WaferAlreadyProcessed, match="bump at t = 10 s"):
        store.load("W01", "wire_bonder")  # read back with its history
    back = store.get("W01")  # in memory again, as tools hold it
    assert store.get("W01") is back
    assert store.peek("W01") is back
    assert snapshot(back) == data
    with pytest.raises(KeyError, match="'W02' is not in memory"):
        store.put_away("W02", lambda: read_snapshot(data))
    assert snapshot(store.arriving("W02")) == snapshot(store.get("W02"))  # as it arrives
    assert store.arriving("W03").id == "W03"
    assert "W03" not in store  # made, not kept
