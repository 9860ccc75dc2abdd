"""docs/simulated-line.md lists every simulated tool kind's faults and the options a user may
give it, as the simulators have them (a trial found the fault names only by giving a wrong
one)."""

from __future__ import annotations

from pathlib import Path

from packline.drivers.specs.pages import marked_tables, stale_tables
from packline.sim_instruments.faults_table import (
    FAULTS_TABLE,
    OPTIONS_TABLE,
    faults_table,
    page_tables,
)
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner

PAGE = Path(__file__).parents[2] / "docs" / "simulated-line.md"


def test_the_page_lists_every_kinds_faults_as_the_simulators_have_them():
    page = PAGE.read_text(encoding="utf-8")
    assert FAULTS_TABLE in marked_tables(page)
    assert stale_tables(page, page_tables()) == []


def test_a_fault_the_simulator_gains_makes_the_table_stale(monkeypatch):
    page = PAGE.read_text(encoding="utf-8")
    faults = {**SimPlasmaCleaner.faults, "pump_seized": "the roughing pump seizes"}
    monkeypatch.setattr(SimPlasmaCleaner, "faults", faults)
    assert stale_tables(page, page_tables()) == [FAULTS_TABLE]
    assert "| `plasma_cleaner` | `pump_seized` | the roughing pump seizes |" in faults_table()


def test_the_page_lists_every_kinds_tool_options_as_the_simulators_have_them():
    """The grinder's gauge resolution, which `run --sim-option` sets, is on the page; a run
    could not rehearse a coarser gauge before (no command set it)."""
    page = PAGE.read_text(encoding="utf-8")
    assert OPTIONS_TABLE in marked_tables(page)
    assert stale_tables(page, page_tables()) == []
    assert "| `grinder` | `gauge_resolution_um` | the in-process gauge's resolution" in page
