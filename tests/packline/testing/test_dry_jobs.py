"""The dry jobs: one per registered tool kind, listed on the hardware-in-the-loop page as
declared (each job's run on its simulated tool is in the conformance suite)."""

from __future__ import annotations

from pathlib import Path

from packline.drivers.registry import TOOL_KINDS
from packline.drivers.specs.pages import marked_tables, stale_tables
from packline.testing.dry_jobs import DRY_JOBS, DUMMY_WAFER_ID, main, page_tables

PAGE = Path(__file__).resolve().parents[3] / "docs" / "hardware-in-the-loop.md"


def test_every_registered_kind_has_a_dry_job():
    assert set(DRY_JOBS) == set(TOOL_KINDS)


def test_the_page_lists_every_dry_job_as_declared_and_its_dummy_wafer():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == set(page_tables())
    assert stale_tables(page, page_tables()) == []
    assert f"`--dummy-wafer ID` (default `{DUMMY_WAFER_ID}`)" in page


def test_the_page_is_rewritten_from_the_declarations(tmp_path):
    page = tmp_path / "hardware-in-the-loop.md"
    stale = PAGE.read_text(encoding="utf-8").replace("| `oven` | purge", "| `oven` | heat")
    page.write_text(stale, encoding="utf-8")
    assert stale_tables(stale, page_tables()) == ["dry-jobs"]
    assert main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
    assert main([]) == 2
