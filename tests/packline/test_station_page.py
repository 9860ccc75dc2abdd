"""The station-file reference (docs/station-file.md) is rendered from the station model."""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.specs.pages import marked_tables, stale_tables
from packline.sequences.engine.recipe_fields import field_docs
from packline.station import Station, ToolEntry
from packline.station_page import main, page_tables

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "station-file.md"


def test_the_page_states_what_the_station_model_declares():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == set(page_tables())
    assert stale_tables(page, page_tables()) == []


@pytest.mark.parametrize("model", [Station, ToolEntry])
def test_every_field_of_a_station_file_is_documented(model):
    assert set(field_docs(model)) == set(model.model_fields)


def test_the_page_is_rewritten_from_the_model(tmp_path):
    page = tmp_path / "station-file.md"
    stale = PAGE.read_text(encoding="utf-8").replace("| `capacity` |", "| `capacty` |")
    page.write_text(stale, encoding="utf-8")
    assert stale_tables(stale, page_tables()) == ["tool"]
    assert main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")


def test_a_row_says_unit_range_default_and_example():
    assert (
        "| `poll_interval_s` | How often the tool's status is read while it works, in seconds "
        "(at least 0.01: a shorter interval is a busy loop on its link). | number | "
        "s, >= 0.01, <= 600 | `1.0` | `0.5` |"
    ) in page_tables()["tool"]
