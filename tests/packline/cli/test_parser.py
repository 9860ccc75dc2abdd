"""Each command imports what it needs: its own module of the CLI, and nothing a lighter command
does not use (issue 17: `packline runs` and `methods` start fast). Checked on `sys.modules` of
a fresh interpreter, never on a clock."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from packline.cli import main
from packline.cli.parser import COMMANDS, build_parser

#: What no reading of the records or of the methods needs: the link libraries, the simulated
#: line, the tables and the unit registry.
HEAVY = ("pymodbus", "pyvisa", "serial", "packline.sim_instruments.line", "pandas", "bokeh")


def modules_after(tmp_path, *argv: str) -> set[str]:
    """The modules a fresh interpreter has loaded once `packline ARGV` has run."""
    code = (
        "import json, sys\n"
        "from packline.cli import main\n"
        f"main({list(argv)!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PACKLINE_DB": str(tmp_path / "runs.db")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


#: What `runs` and `methods` lay out their table without (docs/decisions/0085): rich's console
#: and table, and dataclasses, each longer to import than a fifth of their 0.2 s.
UNUSED_BY_A_TABLE = ("rich.console", "rich.table", "rich.text", "dataclasses")


def test_runs_loads_no_link_library_simulated_line_or_table(tmp_path):
    modules = modules_after(tmp_path, "runs")
    heavy = (*HEAVY, "pint", "pydantic", "numpy", *UNUSED_BY_A_TABLE, "socket")
    assert [name for name in heavy if loaded(modules, name)] == []
    assert "packline.cli.runs" in modules
    assert "packline.cli.show" not in modules


def test_runs_of_a_run_loads_no_rich_console(tmp_path):
    """A run to list: its status is read (the host it ran on), its table laid out."""
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(tmp_path / "runs.db")]) == 0
    modules = modules_after(tmp_path, "runs")
    assert [name for name in (*HEAVY, *UNUSED_BY_A_TABLE) if loaded(modules, name)] == []


def test_runs_of_a_stopped_run_loads_no_driver_or_array_library(tmp_path):
    """A run stopped with its wafers held on a tool: its row says what it left there
    (`left_on_tools`), which reads the stages and the claim check's figures, not a driver,
    the twin or numpy (they took `runs` from 0.12 s to 0.32 s)."""
    db = str(tmp_path / "runs.db")
    fault = ["--fault", "plasma_cleaner:chamber_leak", "--failure-policy", "stop"]
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db, *fault]) == 1
    modules = modules_after(tmp_path, "runs")
    assert "packline.sequences.engine.left_on_tools" in modules
    heavy = (*HEAVY, "pint", "pydantic", "numpy", "packline.drivers.equipment")
    assert [name for name in heavy if loaded(modules, name)] == []


def test_methods_lists_the_catalogue_without_importing_a_method(tmp_path):
    modules = modules_after(tmp_path, "methods")
    assert "packline.sequences.engine.catalogue" in modules
    heavy = (*HEAVY, "pint", "pydantic", "numpy", "packline.sequences.engine.method")
    assert [name for name in (*heavy, *UNUSED_BY_A_TABLE) if loaded(modules, name)] == []
    assert [m for m in modules if m.startswith("packline.sequences.bump_seal_clean")] == []


def test_a_command_given_first_is_the_one_parser_made(capsys):
    """Each command's parser made costs a start about 0.3 ms: `packline runs` makes its own
    alone; a mistyped command still hears every command named."""
    assert list(build_parser(["runs", "--json"])._subparsers._group_actions[0].choices) == ["runs"]
    assert len(build_parser(["--version"])._subparsers._group_actions[0].choices) == len(COMMANDS)
    with pytest.raises(SystemExit):
        main(["runz"])
    assert "invalid choice: 'runz' (choose from " + ", ".join(map(repr, COMMANDS)) in (
        capsys.readouterr().err
    )


def test_help_loads_no_command():
    code = (
        "import json, sys\n"
        "from packline.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    *help_lines, last = done.stdout.splitlines()
    modules = set(json.loads(last))
    listed = {line.split()[0] for line in help_lines if re.match(r"    \S", line)}
    assert listed == set(COMMANDS)  # each command listed with its help
    commands = {f"packline.cli.{module}" for module, _ in COMMANDS.values()}
    assert sorted(commands & modules) == []
    assert not loaded(modules, "packline.sequences.engine.engine")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_its_arguments_and_help(name, capsys):
    with pytest.raises(SystemExit) as stop:
        main([name, "--help"])
    assert stop.value.code == 0
    assert f"usage: packline {name}" in capsys.readouterr().out


def _commands(
    parser: argparse.ArgumentParser, words: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """`parser` (of the command `words` name) and, after it, each of its own commands'."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield from _commands(command, f"{words} {name}")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_describes_itself_and_each_of_its_arguments(name):
    """A newcomer's `--help` of `recipe template`, `station check`, `sim serve` and `sim
    fault` opened on no description, and `run METHOD`, `diff RUN_B`, `disposition WAFER`,
    `validate --station` said nothing of what they take; `recipe template --to TO_PATH`
    showed its value by the name the code keeps it under. Every command, and each of its
    own commands, has a description and help on every argument, and an option's value is
    named by the option or by what it takes (`--to FILE`, `--timeout SECONDS`)."""
    (command,) = build_parser([name])._subparsers._group_actions[0].choices.values()
    missing = []
    for words, parser in _commands(command, name):
        if not parser.description:
            missing.append(f"{words}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            shown = "/".join(action.option_strings) or str(action.metavar or action.dest)
            if not action.help:
                missing.append(f"{words} {shown}: no help")
            if action.option_strings and action.nargs != 0 and action.metavar is None:
                word = action.option_strings[-1].lstrip("-").replace("-", "_")
                if action.choices is None and action.dest != word:
                    missing.append(f"{words} {shown}: its value shown as {action.dest.upper()}")
    assert missing == []


def test_by_is_spelt_by_name_wherever_it_is_taken(capsys):
    """`disposition --by BY` was `--by NAME` everywhere else."""
    spelt = set()
    for name in ("pause", "resume", "clear-tool", "disposition"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        spelt |= set(re.findall(r"--by [^\s\]]+", capsys.readouterr().out))
    assert spelt == {"--by NAME"}


def test_the_placeholder_of_a_printed_command_is_no_name(capsys):
    """A trial pasted `packline clear-tool RUN TOOL --by NAME` as printed, and the records said
    the tool was cleared by NAME: the placeholder is refused as a person, naming it."""
    with pytest.raises(SystemExit) as refused:
        main(["clear-tool", "R1", "plasma_cleaner", "--by", "NAME"])
    assert refused.value.code == 2
    assert "'NAME' is the placeholder of a printed command: give your own name" in (
        capsys.readouterr().err
    )


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"packline {version('packline')}"


@pytest.mark.parametrize(
    "command", [["runs"], ["spc", "bump height", "--method", "bump-seal-clean"]]
)
@pytest.mark.parametrize("given", ["", " "])
def test_an_empty_recipe_filter_is_refused(command, given, capsys):
    """`--recipe ""` had listed every run (the start of every sha256): refused, naming what
    the option takes, before any database is opened."""
    with pytest.raises(SystemExit) as stop:
        main([*command, "--recipe", given])
    assert stop.value.code == 2
    assert (
        f"error: argument --recipe: {given!r} names no recipe: give its name or the start of "
        f"its sha256 (`packline {command[0]} --help` says what it takes)\n"
    ) in capsys.readouterr().err


REFUSED_RUN = "run refused: nothing was run and nothing was recorded; no tool was contacted\n"


#: Command lines whose arguments are refused, and what the refusal says after 'packline: error:'.
REFUSED_ARGUMENTS = pytest.mark.parametrize(
    ("words", "said"),
    [
        (
            ["run", "sprout-bump-csp", "--sim", "--lot", "abc"],
            "argument --lot: invalid int value: 'abc' (`packline run --help` says what it "
            f"takes)\n{REFUSED_RUN}",
        ),
        (  # refused by the top parser, once the command's has taken what it knows
            ["run", "sprout-bump-csp", "--sim", "--lots", "3"],
            "unrecognized arguments: --lots 3 (`packline run --help` says what it takes)\n"
            + REFUSED_RUN,
        ),
        (
            ["resume"],
            "the following arguments are required: RUN (`packline resume --help` says what "
            f"it takes)\n{REFUSED_RUN.replace('run', 'resume', 1)}",
        ),
        (
            ["recipe", "template", "--to"],
            "argument --to: expected one argument (`packline recipe template --help` says what "
            "it takes)\n",
        ),
        (
            [],
            "the following arguments are required: COMMAND (`packline --help` says what it "
            "takes)\n",
        ),
    ],
    ids=["run --lot abc", "run --lots", "resume", "recipe template --to", "no command"],
)


@REFUSED_ARGUMENTS
def test_an_argument_refused_reads_as_every_refusal(words, said, tmp_path, monkeypatch, capsys):
    """`run ... --lot abc` printed argparse's usage and 'packline run: error: argument --lot:
    invalid int value', without the house's 'packline: error:' and, of a run, the line the
    README promises a refused run ends with. An argument refused reads as every refusal,
    naming the help of the command, run and resume saying last that nothing was run and
    nothing was recorded; the exit status is 2, as it was, and nothing is recorded."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    with pytest.raises(SystemExit) as stop:
        main(words)
    assert stop.value.code == 2
    assert capsys.readouterr() == ("", f"packline: error: {said}")
    assert list(tmp_path.iterdir()) == []


@REFUSED_ARGUMENTS
def test_an_argument_refused_with_json_is_given_in_json_too(
    words, said, tmp_path, monkeypatch, capsys
):
    """Every refusal of a command given `--json` is on standard output too, one JSON line,
    but an argument's, which printed nothing there: a script reading the output of
    `runs --json --since yesterday` read nothing. It reads the refusal every other refusal
    gives, the same words as on standard error, and the exit status is 2, as it was."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    with pytest.raises(SystemExit) as stop:
        main([*words, "--json"])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert err == f"packline: error: {said}"
    (line,) = out.splitlines()
    assert json.loads(line) == {"ok": False, "error": said.removesuffix("\n"), "exit_code": 2}
    assert list(tmp_path.iterdir()) == []


def test_a_json_cut_short_as_argparse_takes_it_asks_for_json_too(tmp_path, monkeypatch, capsys):
    """argparse takes `--js` for `--json`: a refusal of `runs --since yesterday --js` printed
    no JSON line, where `--json` whole did."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    with pytest.raises(SystemExit) as stop:
        main(["runs", "--since", "yesterday", "--js"])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert json.loads(line)["error"] == err.removeprefix("packline: error: ").removesuffix("\n")


def test_a_json_given_as_a_value_after_the_options_asks_no_json(capsys):
    """After `--` every word is a value: a measurement named `--json` asks for no JSON."""
    with pytest.raises(SystemExit) as stop:
        main(["spc", "--", "--json"])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "the following arguments are required: --method" in err
