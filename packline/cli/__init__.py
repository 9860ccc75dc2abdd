"""The `packline` command line.

    packline run METHOD --sim [--gem] | --station FILE [--recipe FILE|NAME] [--lot N|--wafers ID,..]
    packline resume RUN [--station FILE]   continue a stopped run, or resume a paused live one
    packline pause|terminate|abort RUN
    packline runs | show RUN | diff RUN RUN | wafer ID | methods | claims | validate METHOD
    packline export RUN --to DIR [--format csv|parquet]   the run's records as tables
    packline report RUN [--out FILE] | tools RUN         its HTML report, its tool time (E10)
    packline alarms [--since DATE] [--tool T]           each tool's failures and MTBF across runs
    packline spc MEASUREMENT --method M [--since DATE]  its control chart across runs, Cpk
    packline archive RUN --to FILE | prune --before DATE | --keep N [--dry-run]   keep, delete
    packline dashboard [--host 127.0.0.1] [--port 8400]   the records in a browser, live
    packline sim serve [--host 127.0.0.1] [--station-out FILE]

Every command but `sim serve` takes `--db PATH` (default: `$PACKLINE_DB`, else runs.db in the
data dir) and `--json` for machines. Its exit codes are `output.py`'s (`EXIT_OK`,
`EXIT_RUN_FAILED`, `EXIT_REFUSED`, `RUN_EXIT_CODES`), told in docs/engine.md (*Exit codes*).

The parts: the commands and their arguments (`parser.py`), one module per group of commands
(`running` with `faults`, `control`, `runs`, `show`, `diff`, `results`, `trends`,
`retention`, `dashboard`, `methods`, `station`, `sim`), imported only when one of its
commands is given, what they share (`output.py`), a run's summary (`summary.py`) and the
operator at the terminal of a run this process drives (`console.py`: stdin, confirmations,
Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from itertools import takewhile

from packline.drivers.errors import PacklineError

from .output import EXIT_REFUSED, EXIT_RUN_FAILED, print_error, refusal_json
from .parser import JSON_OPTION, ArgumentsRefused, build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code (0 done, 1 the run or a tool failed, 2 refused)."""
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(words).parse_args(words)
    except ArgumentsRefused as refused:  # exits 2, as argparse does
        if _asks_for_json(words):
            print(refusal_json(refused.error, EXIT_REFUSED))
        raise
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except PacklineError as error:
        print_error(error)
        code = EXIT_REFUSED if _refused(error) else EXIT_RUN_FAILED
        if getattr(args, "json", False):
            print(refusal_json(error, code))
        return code
    except BrokenPipeError:  # the reader went away (`| head`): the run itself is recorded
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_RUN_FAILED


def _asks_for_json(words: Sequence[str]) -> bool:
    """Whether the command line's options (its words before `--`) give `--json`, whole or cut
    short as argparse takes it (`--js`), though the parser refused them."""
    options = takewhile(lambda word: word != "--", words)
    return any(len(word) > len("--") and JSON_OPTION.startswith(word) for word in options)


def _refused(error: PacklineError) -> bool:
    """Whether `error` refused what was asked before anything was done: the user's bad input
    (nothing was touched), or a run or resume refused as its tools were connected
    (`RunNotStarted`: none was commanded, nothing recorded); not a tool's failure, nor a
    run's."""
    from packline.sequences.engine.errors import BadInput, RunNotStarted

    if isinstance(error, BadInput | RunNotStarted):
        return True
    from packline.station import StationError  # only a command that read a station raises it

    return isinstance(error, StationError)
