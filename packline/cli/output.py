"""What every command shares: its exit codes, the run database, the terminal and `--json`.

Every table is a `DataTable` (`packline.rendering`): tool text, reasons and ids are shown as
written, never read as markup. `--json` output is printed as is, in standard JSON
(`print_json`). A command that prints a table alone (`runs`, `methods`) prints it with
`show_table`, which lays it out without rich where it can (docs/decisions/0085).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packline.json_text import json_text

if TYPE_CHECKING:  # `packline --help` needs none of them
    from rich.console import Console

    from packline.rendering import DataTable
    from packline.sequences.engine.records import RunStore

#: The exit codes: done; a run (or a tool) failed; refused, nothing done (`cli.main`).
EXIT_OK, EXIT_RUN_FAILED, EXIT_REFUSED = 0, 1, 2
#: What `run` and `resume` exit with, as their help says it.
RUN_EXIT_CODES = (
    f"exit status: {EXIT_OK} every wafer completed (and, in a dry run, the product meets every "
    f"claim); {EXIT_RUN_FAILED} the run was recorded but did not complete every wafer (one "
    "held, scrapped or stopped, though a lot whose held wafer was scrapped is completed), or "
    f"its product violates a claim; {EXIT_REFUSED} refused: nothing was run and nothing was "
    "recorded (the error says why)"
)


def print_error(error: object) -> None:
    """What a command says when it refuses or fails (`cli.main`), or its arguments cannot be
    read (`parser.CommandParser`): 'packline: error: ...' on standard error."""
    print(f"packline: error: {error}", file=sys.stderr)


def refusal_json(error: object, code: int) -> str:
    """What a command given `--json` prints on standard output, besides `print_error`, when it
    refuses or fails, its arguments too (`parser.ArgumentsRefused`), exiting `code` (`cli.main`
    prints it): a machine reads stdout, so it gets the refusal there, one object on one line,
    as a stream of events (`run --json`) has them: `{"ok": false, "error": ...,
    "exit_code": ...}`, with a recipe's `problems` (each field's, a list) where `error` has
    them."""
    refusal: dict[str, Any] = {"ok": False, "error": str(error), "exit_code": code}
    problems = getattr(error, "problems", None)
    if problems is not None:
        refusal["problems"] = problems
    return json.dumps(refusal)


def db_path(args: argparse.Namespace) -> Path:
    """Where the run database `--db` names is (default: `$PACKLINE_DB`, else runs.db in the
    data dir)."""
    from packline.sequences.engine.records import default_db_path

    return Path(args.db or default_db_path())


def open_store(args: argparse.Namespace, *, create: bool = True) -> RunStore:
    """The run database `--db` names (`db_path`)."""
    from packline.sequences.engine.records import RunStore

    return RunStore(db_path(args), create=create)


#: How wide output piped to a file or a program is laid out at least: wide enough not to
#: wrap ids, whatever width the environment states (pytest's workers state 80).
PIPED_WIDTH = 160


def terminal() -> Console:
    """The terminal, or (piped to a file or a program) a console `PIPED_WIDTH` wide, or
    `COLUMNS` wide if that is wider (a table piped to a file keeps its long cells whole),
    whose lines of text are never wrapped: a line that names a command to run next
    (`packline show RUN`) or a claim's verdict stays one line, for a script or `grep` (a
    table's title, too, which is not centred then).
    Neither reads `:name:` as an emoji: a recipe's claim ids are such words (`# 000:a:` had
    printed as `000🅰`)."""
    from rich.console import Console

    console = Console(emoji=False)
    if console.is_terminal:
        return console
    return Console(width=piped_width(), emoji=False, soft_wrap=True)


def piped_width() -> int:
    """How wide `terminal()` lays out output piped to a file or a program."""
    columns = os.environ.get("COLUMNS", "")
    return max(PIPED_WIDTH, int(columns) if columns.isdigit() else 0)


#: What makes rich's console decide for itself whether it writes to a terminal (forced
#: either way, or a terminal it gives no styles or its own width): `show_table` leaves
#: the table to rich then.
RICH_DECIDES = ("TTY_COMPATIBLE", "FORCE_COLOR")


def show_table(table: DataTable) -> None:
    """`table` on standard output as `terminal().print(table)` prints it: laid out here
    (`DataTable.text`) on a terminal or piped, so rich is not imported, unless the table or
    the output is one only rich knows how to print (`RICH_DECIDES`, a dumb terminal, an
    encoding other than UTF-8, Windows)."""
    text = None
    environ = os.environ
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
    if (
        sys.platform != "win32"
        and encoding.startswith("utf")  # else rich draws the box in ASCII
        and not any(name in environ for name in RICH_DECIDES)
    ):
        try:
            is_terminal = sys.stdout.isatty()
        except ValueError:  # closed (as rich reads it)
            is_terminal = False
        if not is_terminal:
            text = table.text(piped_width(), terminal=False)
        elif environ.get("TERM", "").lower() not in ("dumb", "unknown"):
            text = table.text(terminal_width(), terminal=True)
    if text is None:
        terminal().print(table)
    else:
        sys.stdout.write(text)


def terminal_width() -> int:
    """The width rich's console gives a terminal: `COLUMNS`, else the size of the first of
    standard input, output and error that is a terminal, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return int(columns)
    for stream in (0, 1, 2):
        try:
            return os.get_terminal_size(stream).columns or 80
        except (AttributeError, ValueError, OSError):  # not a terminal
            pass
    return 80


def print_json(data: Any) -> None:
    """`--json` output: one indented JSON document."""
    print(json_text(data, indent=2, default=str))


def answer(args: argparse.Namespace, data: Any, show: Callable[[Console], None]) -> int:
    """A reading command's answer: `data` as JSON with `--json`, else `show` on the terminal."""
    if args.json:
        print_json(data)
    else:
        show(terminal())
    return EXIT_OK


def answer_table(args: argparse.Namespace, data: Any, table: Callable[[], DataTable]) -> int:
    """A reading command's answer that is one table: `data` as JSON with `--json`, else
    `table()` (`show_table`)."""
    if args.json:
        print_json(data)
    else:
        show_table(table())
    return EXIT_OK
