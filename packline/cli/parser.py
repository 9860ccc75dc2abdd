"""The command line's arguments: every command, its options and how each value is read.

Each command's arguments and what it does live in one module of this package (`COMMANDS`),
imported only when that command is the one given, so `packline runs` never loads the
simulated line, pandas or a link library, and `packline --help` loads no command at all.

A value that cannot be read (a blank name, a negative duration), or a word no command takes,
is refused here before anything is opened or contacted, as every refusal reads
(`CommandParser`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from packline import __version__

from .output import EXIT_REFUSED, print_error

#: Every command: the module of this package that adds its arguments and does it, and its
#: one line of help.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("running", "run a method for a lot"),
    "resume": ("running", "continue a stopped run from its records, or resume a paused one"),
    "pause": ("control", "pause a running run at its step boundaries"),
    "terminate": ("control", "stop a running run; tools are left safe"),
    "abort": ("control", "stop a running run now; tools are commanded safe"),
    "clear-tool": (
        "control",
        "put a tool that alarmed back in service once its cause is fixed, or one that held a "
        "foreign workpiece once it is taken off (checked first)",
    ),
    "disposition": ("control", "decide for a held wafer: release, rework or scrap"),
    "runs": ("runs", "list runs"),
    "show": ("show", "show one run"),
    "wafer": ("show", "one wafer's whole history, across every run"),
    "diff": (
        "diff",
        "two runs side by side: recipe values, tools, timings, measurements, claim margins",
    ),
    "export": (
        "results",
        "write a run's records as tables (CSV or Parquet) for pandas, JMP or Excel",
    ),
    "report": (
        "results",
        "write a run's report: one self-contained HTML file (charts, maps, claim check)",
    ),
    "tools": (
        "results",
        "a run's tool time: each tool's time per E10 state, utilisation, OEE, bottleneck",
    ),
    "alarms": (
        "trends",
        "each tool's alarms across runs: counts, downtime, MTBF and MTTR (SEMI E10)",
    ),
    "spc": (
        "trends",
        "a measurement's control chart across runs (X-bar/R or individuals) and its Cpk",
    ),
    "archive": (
        "retention",
        "keep a run whole in one zip file: its records, its report and its tables",
    ),
    "prune": (
        "retention",
        "delete old runs from the records (--dry-run lists them first; a running run is kept)",
    ),
    "dashboard": (
        "dashboard",
        "the records in a browser: runs in progress live, past runs' reports, SPC (read-only)",
    ),
    "methods": ("methods", "list the methods, or one method's recipe and claims"),
    "recipe": ("methods", "a method's recipe explained"),
    "claims": ("methods", "every claim of the four documents and what implements it"),
    "validate": ("methods", "check a recipe (and station) without touching any tool"),
    "station": ("station", "a station file's tools"),
    "sim": ("sim", "the bundled simulated line"),
}


#: The commands that drive a run: refused, for their arguments too, they say last that
#: nothing was run and nothing was recorded (`RunRefused`).
DRIVING = ("run", "resume")


#: The option of a command's machine-readable output (`add_common`), in which its refusals
#: are given too (`output.refusal_json`), a refusal of its arguments as any other.
JSON_OPTION = "--json"


class ArgumentsRefused(SystemExit):
    """A command line refused as it was parsed (`CommandParser.error`), `error` what was
    printed of it: it exits 2 (`EXIT_REFUSED`) as argparse's own error does, and `cli.main`
    gives it in JSON too where the words asked for `--json`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(EXIT_REFUSED)
        self.error = error


class CommandParser(argparse.ArgumentParser):
    """The parser of `packline` and of each of its commands, whose refusal of an argument
    reads as every refusal of packline does: 'packline: error: ...', naming the `--help`
    that says what the command takes, and (of `run` and `resume`) that nothing was run and
    nothing was recorded. It exits 2 (`EXIT_REFUSED`, `ArgumentsRefused`), as argparse's own
    error did after its usage and 'packline run: error: ...' alone; with `--json` the
    refusal is on standard output too, as every refusal of the command is (`cli.main`)."""

    #: The command the words parsed name (`build_parser`), whose refusal the top parser's is:
    #: a word no option of the command takes is refused by it. None when they name none.
    named_command: str | None = None

    def error(self, message: str) -> NoReturn:
        """Refuse the command line for `message`, argparse's words for what is wrong."""
        from packline.sequences.engine.errors import BadInput, RunRefused

        # argparse names a command's parser `packline NAME`, and its own commands' further
        command = " ".join(self.prog.split()[1:]) or self.named_command
        named = "packline" if command is None else f"packline {command}"
        refused = BadInput(f"{message} (`{named} --help` says what it takes)")
        driving = None if command is None else command.split()[0]
        error = RunRefused(refused, driving) if driving in DRIVING else refused
        print_error(error)
        raise ArgumentsRefused(error)


#: The placeholder a printed command puts where a person's name goes (`--by NAME`): pasted
#: as printed, it had been recorded as who cleared a tool.
NAME_PLACEHOLDER = "NAME"


def person(text: str) -> str:
    """A person's name as records keep it (who confirmed, who cleared): printable, not blank,
    and not the placeholder of a printed command (`NAME_PLACEHOLDER`)."""
    name = text.strip()
    if not name or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a name (printable, not blank)")
    if name == NAME_PLACEHOLDER:
        raise argparse.ArgumentTypeError(
            f"{text!r} is the placeholder of a printed command: give your own name"
        )
    return name


def local_date(text: str) -> float:
    """A calendar day (YYYY-MM-DD) as the Unix time of its local midnight."""
    try:
        day = datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return time.mktime(day.timetuple())


def positive_seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def at_least_one(text: str) -> int:
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def recipe_filter(text: str) -> str:
    """A recipe to filter runs by (`add_recipe_filter`): not empty or blank, which had matched
    every run (the start of every sha256)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} names no recipe: give its name or the start of its sha256"
        )
    return text


def add_recipe_filter(parser: argparse.ArgumentParser, keeps: str) -> None:
    """`--recipe NAME|HASH`, which `runs` and `spc` filter the runs by (`RunDatabase.runs`):
    `keeps` says which runs the command then keeps."""
    from packline.sequences.engine.database import HASH_PREFIX_MIN

    parser.add_argument(
        "--recipe",
        type=recipe_filter,
        metavar="NAME|HASH",
        help=f"{keeps}: its name (a shipped one's, `bump-seal-clean-laser`, or a file's without "
        "its folder and .yaml) or the start of its sha256 as `packline show` lists it, "
        f"{HASH_PREFIX_MIN} hex digits or more (anything else is read as a name only)",
    )


def add_db(parser: argparse.ArgumentParser) -> None:
    """`--db`, the run database a command reads or writes."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="run database (default: $PACKLINE_DB or runs.db in the data dir)",
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    """`--db` and `--json`, which every command reading or writing records takes."""
    add_db(parser)
    parser.add_argument(JSON_OPTION, action="store_true", help="machine-readable output")


def add_by(parser: argparse.ArgumentParser, recorded: str, *, required: bool = False) -> None:
    """`--by NAME`, the person in whose name a command orders a run or decides for it, which
    `recorded` says how the run keeps; unset, the login name (`ordered_by`), unless
    `required`: a decision a person answers for (a clear, a disposition) names them."""
    parser.add_argument(
        "--by",
        type=person,
        metavar="NAME",
        required=required,
        help=recorded if required else f"{recorded} (default: your login name)",
    )


def ordered_by(args: argparse.Namespace) -> str:
    """The person a command of `add_by` orders in the name of: `--by`, else the login name."""
    from packline.sequences.engine.request import login_name  # once the command runs

    return str(args.by or login_name())


def refuse_recipe_without_method(args: argparse.Namespace) -> None:
    """BadInput for `--recipe` given without `--method` (`station check`, `sim serve`): a
    recipe is a method's, and is read as that method's."""
    if args.recipe is not None and args.method is None:
        from packline.sequences.engine.errors import BadInput  # once the command runs

        raise BadInput(
            f"--recipe {args.recipe}: a recipe is a method's; give --method METHOD with it"
        )


def add_run_ref(parser: argparse.ArgumentParser) -> None:
    """The run a command is about."""
    parser.add_argument("run", metavar="RUN", help="run id, a unique prefix of one, or 'last'")


def add_method(parser: argparse.ArgumentParser, what: str) -> None:
    """`METHOD`, the method a command is about, which `what` says what the command does with."""
    parser.add_argument("method", metavar="METHOD", help=f"{what} (`packline methods` lists them)")


#: A command's parser: every one is a `CommandParser`, typed as argparse's own where a
#: command module adds its arguments.
Parser = TypeVar("Parser", bound=argparse.ArgumentParser)


def add_command(commands: argparse._SubParsersAction[Parser], name: str, text: str) -> Parser:
    """The parser of command `name` among `commands` (a command's, or one of a command's
    own commands: `recipe template`, `sim serve`), `text` its line in the list of commands
    and the description its `--help` opens with."""
    return commands.add_parser(name, help=text, description=text)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The `packline` parser for `argv`: every command with its help, and the arguments of
    the command `argv` names (each command's `handler` runs it)."""
    parser = CommandParser(
        prog="packline",
        description="Run claimed packaging methods "
        "on a line of tools or on the bundled simulated line.",
    )
    parser.add_argument("--version", action="version", version=f"packline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The top level takes no option with a value: its first other word is the command.
    named = next((word for word in argv if not word.startswith("-")), None)
    parser.named_command = named if named in COMMANDS else None
    # A command given first is all the top level parses: its parser alone is made (each one
    # made costs a fresh start about 0.3 ms); else (`packline --help`, a mistyped command)
    # every command's, whose help lists them all.
    first = named is not None and named in COMMANDS and argv[0] == named
    for name, (module, text) in COMMANDS.items():
        if first and name != named:
            continue
        command = add_command(commands, name, text)
        if name == named:
            importlib.import_module(f"{__package__}.{module}").ARGUMENTS[name](command)
    return parser
