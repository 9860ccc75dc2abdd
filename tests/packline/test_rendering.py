"""Terminal tables of data: nothing a cell holds is lost, however narrow the terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from packline.cli.output import PIPED_WIDTH, terminal
from packline.rendering import DataTable, counted


def test_a_whole_column_keeps_each_cell_on_one_line_and_the_others_give_way():
    """A new user's `station check` piped cut the addresses short (`127.0.0.1:35…`), then
    folded them over lines: the port, the one part that differs between tools, was lost to
    grep."""
    table = DataTable("tool", "address", "ready", whole=("address",))
    table.add_row("plasma_cleaner", "modbus+tcp://127.0.0.1:35655", "no: door open, not pumped")
    out = io.StringIO()
    Console(file=out, width=50).print(table)
    assert "│ modbus+tcp://127.0.0.1:35655 │" in out.getvalue()
    assert "plasma_c" in out.getvalue()  # the tool's name gives way


@pytest.mark.parametrize(
    ("columns", "width"),
    [("220", 220), (None, PIPED_WIDTH), ("wide", PIPED_WIDTH), ("80", PIPED_WIDTH)],
)
def test_piped_output_is_widened_by_columns_never_narrowed(monkeypatch, columns, width):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal().width == width  # pytest captures stdout: not a terminal


def test_a_claim_id_is_printed_as_written_not_as_an_emoji():
    """A new user's `show` of tape-substrate printed its recipe's `# 000:a: CO2 laser` as
    `# 000🅰 CO2 laser`: rich reads `:a:` as an emoji's name."""
    console = terminal()
    with console.capture() as captured:
        console.print("holes:  # 000:a: CO2 laser; fill:  # 000:b: silver paste", markup=False)
    assert "000:a: CO2 laser; fill:  # 000:b: silver paste" in captured.get()


@pytest.mark.parametrize(("count", "text"), [(0, "0 runs"), (1, "1 run"), (2, "2 runs")])
def test_a_count_reads_singular_only_for_one(count, text):
    assert counted(count, "run") == text
