"""Terminal tables of data: nothing a cell holds is lost, however narrow the terminal."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import random
import select
import struct
import subprocess
import sys
import termios
from typing import Any

import pytest
from rich import box
from rich.console import Console
from rich.text import Text

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


#: Cells as the commands' tables hold them: ids, names, lists that wrap, words longer than a
#: column, blanks, several lines.
WORDS = (
    "20261130-163351-257a", "two-process-via", "plasma_cleaner,", "003:7.1,", "-", "", "a",
    "modbus+tcp://127.0.0.1:35655", "(003:24)", "bumps=required,", "x" * 30, "the", "2026-12-02",
)  # fmt: skip


def random_table(rng: random.Random) -> DataTable:
    """A table like the commands': `runs`'s box and padding or the default, whole columns,
    cells of words, some over several lines, some none."""
    headers = [f"{rng.choice(('run', 'lot', 'status', 'run clock', 'what it is'))}{i}"
               for i in range(rng.randint(1, 6))]  # fmt: skip
    options: dict[str, Any] = rng.choice(
        [{}, {"box": box.SIMPLE_HEAD, "pad_edge": False, "padding": (0, 1),
              "collapse_padding": True}]
    )  # fmt: skip
    title = rng.choice([None, "methods", "runs in /home/ana/.local/share/packline/runs.db"])
    whole = [header for header in headers if rng.random() < 0.2]
    table = DataTable(*headers, title=title, whole=whole, **options)
    for _ in range(rng.randint(0, 6)):
        table.add_row(
            *(
                None
                if rng.random() < 0.1
                else rng.choice((" ", ", ", "\n")).join(rng.choices(WORDS, k=rng.randint(0, 6)))
                for _ in headers
            )
        )
    return table


def printed_by_rich(table: DataTable, width: int, *, on_terminal: bool) -> str:
    """`table` as the console `terminal()` makes prints it, `width` wide."""
    out = io.StringIO()
    if on_terminal:
        console = Console(file=out, width=width, emoji=False, force_terminal=True)
    else:
        console = Console(file=out, width=width, emoji=False, soft_wrap=True)
    console.print(table)
    return out.getvalue()


@pytest.mark.parametrize("on_terminal", [True, False], ids=["terminal", "piped"])
def test_a_table_laid_out_here_is_what_rich_prints(on_terminal):
    """`runs` and `methods` print their table without rich (decision 0085): on a terminal or
    piped, at any width, its lines must be rich's, byte for byte, styles included."""
    rng = random.Random(85)
    laid_out = 0
    for _ in range(400):
        table = random_table(rng)
        width = rng.choice((30, 50, 80, 120, 160, 220))
        text = table.text(width, terminal=on_terminal)
        if text is not None:
            assert text == printed_by_rich(table, width, on_terminal=on_terminal)
            laid_out += 1
    assert laid_out > 300  # rich is left only the odd table (a column narrower than its padding)


def test_a_table_rich_alone_can_print_is_left_to_rich():
    """A styled cell, a caption, a column of a fixed width, a cell a wide character: rich's."""
    table = DataTable("wafer", "status")
    table.add_row("W1", "done")
    assert table.text(80, terminal=True) is not None
    styled = DataTable("wafer", "status")
    styled.add_row("W1", Text("held", style="red"))
    captioned = DataTable("wafer", "status", caption="none")
    fixed = DataTable("wafer", "status")
    fixed.columns[0].width = 3
    wide = DataTable("wafer", "status")
    wide.add_row("ウェハ", "done")
    for table in (styled, captioned, fixed, wide):
        assert table.text(80, terminal=True) is None


@pytest.mark.parametrize("columns", [77, 130])
def test_methods_on_a_terminal_is_what_rich_prints_there(tmp_path, columns):
    """The terminal, its width and its styles as rich's console finds them: `packline
    methods` run on a pseudo-terminal `columns` wide prints rich's table."""
    from packline.cli.methods import methods_table
    from packline.sequences.engine.catalogue import read_catalogue

    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    env |= {"TERM": "xterm", "PACKLINE_DB": str(tmp_path / "runs.db")}
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    attributes = termios.tcgetattr(follower)
    attributes[1] &= ~termios.ONLCR  # the lines as written, not as a terminal shows them
    termios.tcsetattr(follower, termios.TCSANOW, attributes)
    with subprocess.Popen(
        [sys.executable, "-m", "packline", "methods"],
        stdin=follower, stdout=follower, stderr=follower, env=env,
    ) as process:  # fmt: skip
        os.close(follower)
        written = b""
        while chunk := _read(leader):
            written += chunk
        assert process.wait(timeout=60) == 0
    os.close(leader)
    expected = printed_by_rich(methods_table(read_catalogue()), columns, on_terminal=True)
    assert written.decode() == expected


def _read(fd: int) -> bytes:
    """What the pseudo-terminal has next, b'' once its program has closed it."""
    ready, _, _ = select.select([fd], [], [], 60)
    assert ready, "nothing written to the terminal within 60 s"
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: every writer closed
        return b""
