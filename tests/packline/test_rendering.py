"""Terminal tables of data: nothing a cell holds is lost, however narrow the terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from packline.cli.output import PIPED_WIDTH, terminal
from packline.rendering import DataTable


def test_a_cell_too_wide_for_its_column_folds_and_keeps_its_end():
    """A new user's `station check` piped cut the addresses short (`127.0.0.1:35…`): the port,
    the one part that differs between tools, was lost."""
    table = DataTable("tool", "address", whole=("address",))
    table.add_row("plasma_cleaner", "modbus+tcp://127.0.0.1:35655")
    out = io.StringIO()
    Console(file=out, width=30).print(table)
    address = "".join(line.split("│")[2].strip() for line in out.getvalue().splitlines()[3:-1])
    assert address == "modbus+tcp://127.0.0.1:35655"  # folded over three lines, every character
    assert "plasma_clea…" in out.getvalue()  # another column is cut, its words kept


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
