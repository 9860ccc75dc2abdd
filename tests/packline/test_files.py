"""Reading a user's YAML: libyaml's parser where PyYAML has it, read exactly as the strict
pure-Python loader reads it, which tells every problem."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from packline import files
from packline.files import FileProblem, parse_yaml, yaml_written

ROOT = Path(__file__).resolve().parents[2]
#: Every YAML file the project ships or documents: recipes, stations, GEM dictionaries.
SHIPPED = [
    ROOT / name
    for name in subprocess.run(
        ["git", "ls-files", "*.yaml", "*.yml"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not name.startswith((".", "tests/"))
]


def strictly(text: str) -> tuple[object, dict[tuple[str | int, ...], files.Written]]:
    """`text` read by the pure-Python loader alone (what `parse_yaml` and `yaml_written`
    gave before libyaml read it)."""
    files_fast, files._FastLoader = files._FastLoader, None
    try:
        return parse_yaml(text, "file"), yaml_written(text)
    finally:
        files._FastLoader = files_fast


@pytest.mark.skipif(files._FastLoader is None, reason="PyYAML without libyaml")
def test_libyaml_composes_what_it_can():
    root, loader = files._composed("a: 1\nb: [2, 3]\n")
    assert isinstance(loader, files._FastLoader)
    assert isinstance(root, yaml.MappingNode)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_shipped_file_reads_as_the_strict_loader_reads_it(path):
    text = path.read_text(encoding="utf-8")
    assert (parse_yaml(text, "file"), yaml_written(text)) == strictly(text)


def test_the_shipped_files_are_found():
    assert len(SHIPPED) > 20
    assert any(path.suffix == ".yaml" for path in SHIPPED)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\na: 2\n", "line 2, column 1: key 'a' is given twice, on line 1 and on line 2"),
        (
            "- {gas: O2, gas: Ar}\n",
            "line 1, column 13: key 'gas' is given twice, on line 1, columns 4 and 13",
        ),
        ("a: &x 1\nb: *x\n", "line 2, column 4: aliases (*name) are not accepted"),
        ("a: [1, 2\n", "line 2, column 1: expected ',' or ']', but got '<stream end>'"),
        ("a: b: c\n", "line 1, column 5: mapping values are not allowed here"),
        ("--- 1\n--- 2\n", "line 2, column 1: but found another document"),
        ("a:\t1\n", "line 1, column 3: a tab character, where packline's YAML reader takes"),
    ],
)
def test_a_problem_is_told_as_the_strict_loader_tells_it(text, problem):
    with pytest.raises(FileProblem) as raised:
        parse_yaml(text, "file")
    assert problem in str(raised.value)
    with pytest.raises(FileProblem) as strict:
        strictly(text)
    assert str(raised.value) == str(strict.value)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("method: x\n\tlot: 3\n", "line 2, column 1"),  # a line indented by a tab
        ("\tmethod: x\n", "line 1, column 1"),
        ("a:\n  b: 1\n \tc: 2\n", "line 3, column 2"),  # spaces, then a tab
        ("a: [1,\t2]\n", "line 1, column 7"),
    ],
)
def test_a_tab_is_named_with_what_to_write_instead(text, where):
    """YAML's own words for a tab ("found character '\\t' that cannot start any token")
    name no rule: the problem says a tab is there and spaces go in its place."""
    with pytest.raises(FileProblem) as raised:
        parse_yaml(text, "file")
    assert str(raised.value) == f"file: not valid YAML: {where}: {files.TAB_PROBLEM}"
    assert "replace it with spaces" in files.TAB_PROBLEM


def test_an_alias_is_refused_before_it_is_expanded():
    """Nested aliases that would expand to 10**9 items: refused at once."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    with pytest.raises(FileProblem, match="aliases"):
        parse_yaml("\n".join(lines), "recipe bomb.yaml")


def test_nothing_reads_as_none():
    assert parse_yaml("", "file") is None
    assert parse_yaml("# only a comment\n", "file") is None


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (  # a flow mapping left open: YAML names the next line, where it noticed
            "tools:\n  p:\n    limits: {rf_power_w: [100, 200]\n    capacity: 4\n",
            "line 4, column 5: expected ',' or '}', but got '<scalar>' (the `{` opened on "
            "line 3, column 13 is still open here: its end missing, or a comma)",
        ),
        (
            "a:\n  b: [1, 2\n  c: 3\n",
            "line 3, column 4: expected ',' or ']', but got ':' (the `[` opened on line 2, "
            "column 6 is still open here: its end missing, or a comma)",
        ),
        (
            'name: "x\ntools: 1\n',
            "line 3, column 1: found unexpected end of stream (the quote opened on line 1, "
            "column 7 is never closed)",
        ),
        (  # a key one column short of its neighbours
            "tools:\n  p:\n    driver: p\n   address: m\n",
            "line 4, column 4: expected <block end>, but found '<block mapping start>' (the "
            "indentation here lines up with no key or `- ` item above it: the keys of one "
            "mapping, and the items of one list, start in one column)",
        ),
        (  # a value holding ': ' unquoted
            "tools:\n  p:\n    driver: p: q\n",
            "line 3, column 14: mapping values are not allowed here (a `: ` here starts a key "
            "where none can begin: a key indented under a plain value, or after a line missing "
            'its `:`; or a value holding `: `, which is quoted (`"a: b"`))',
        ),
        (  # a key indented under the plain value before it
            "tools:\n  p:\n    driver: p\n      address: m\n",
            "line 4, column 14: mapping values are not allowed here (a `: ` here starts a key "
            "where none can begin: a key indented under a plain value, or after a line missing "
            'its `:`; or a value holding `: `, which is quoted (`"a: b"`))',
        ),
        (  # a Windows path in double quotes: a quote closed, its backslash an escape
            'path: "C:\\qdir"\n',
            "line 1, column 11: found unknown escape character 'q' (a backslash in a "
            "double-quoted value begins an escape: write it `\\\\`, or quote the value with "
            "single quotes)",
        ),
    ],
    ids=[
        "open-mapping",
        "open-list",
        "open-quote",
        "indentation",
        "colon-in-value",
        "indented-under-a-value",
        "backslash",
    ],
)
def test_a_syntax_error_says_where_to_look_beside_yamls_own_words(text, told):
    """YAML's words for a bracket or quote left open name the line where the parser noticed
    it, often the next key's: the problem names where it was opened; for an indentation or a
    stray `: `, what the words mean. A station trial read `line 9, column 5: expected ',' or
    '}'` without seeing the `{` left open on line 8."""
    with pytest.raises(FileProblem) as raised:
        parse_yaml(text, "file")
    assert str(raised.value) == f"file: not valid YAML: {told}"
