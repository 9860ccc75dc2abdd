"""What every command shares: its exit codes, the run database, the terminal and `--json`.

Every table is a `DataTable` (`packline.rendering`): tool text, reasons and ids are shown as
written, never read as markup. `--json` output is printed as is (`print_json`).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `packline --help` needs neither
    from rich.console import Console

    from packline.sequences.engine.records import RunStore

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def open_store(args: argparse.Namespace, *, create: bool = True) -> RunStore:
    """The run database `--db` names (default: `$PACKLINE_DB`, else runs.db in the data dir)."""
    from packline.sequences.engine.records import RunStore, default_db_path

    return RunStore(args.db or default_db_path(), create=create)


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
    columns = os.environ.get("COLUMNS", "")
    width = max(PIPED_WIDTH, int(columns) if columns.isdigit() else 0)
    return Console(width=width, emoji=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """`--json` output: one indented JSON document."""
    print(json.dumps(data, indent=2, default=str))


def answer(args: argparse.Namespace, data: Any, show: Callable[[Console], None]) -> int:
    """A reading command's answer: `data` as JSON with `--json`, else `show` on the terminal."""
    if args.json:
        print_json(data)
    else:
        show(terminal())
    return EXIT_OK
