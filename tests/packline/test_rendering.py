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
    assert "│ plasm… │" in out.getvalue()  # the tool's name gives way
    assert "│ pumped │" in out.getvalue()  # and the last column is there, whole


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


def test_a_table_too_wide_for_the_console_shows_every_column_within_its_width():
    """A new user's piped `station check` lost its last three columns (open interlocks,
    holds, ready): rich gave the whole column's width to the others, then took it back at
    its minimum, and the table came out wider than the console, cropped at its edge."""
    headers = ("tool", "kind", "address", "identity", "state", "open interlocks", "holds")
    table = DataTable(*headers, "ready", whole=("address",))
    for tool in ("plasma_cleaner", "electroplater"):
        table.add_row(
            tool,
            tool,
            "cell modbus+tcp://127.0.0.1:34517\nsupply TCPIP0::127.0.0.1::44213::SOCKET",
            "packline EP-1 s/n EP-1-27a8cc fw 1.0",
            "idle (standby)",
            "vacuum",
            "nothing",
            "no: no answer within 30 s",
        )
    out = io.StringIO()
    Console(file=out, width=120).print(table)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 120
    assert all(line.endswith(("┓", "┃", "┩", "│", "┘")) for line in lines[1:])  # not cropped
    assert "ready" in out.getvalue()
    # each device's address is a line of its own, whole
    assert "│ supply TCPIP0::127.0.0.1::44213::SOCKET │" in out.getvalue()


def test_a_line_of_text_piped_is_never_wrapped():
    """A new user's piped run summary split `(packline show RUN)` over two lines at 160
    columns: a command to run next, or a verdict, is one line for a script or grep."""
    console = terminal()
    line = "records in /tmp/" + "x" * 200 + "/runs.db (packline show 20261202-142713-ca72)"
    with console.capture() as captured:
        console.print(line, markup=False, highlight=False)
    assert captured.get() == line + "\n"
