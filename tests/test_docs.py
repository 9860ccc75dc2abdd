"""The documentation stays navigable and true: decision records numbered once each, in order,
every relative link in README.md and docs/ names a file that exists, and the lists the pages
keep of the registry's kinds name what the registry has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = ROOT / "docs" / "decisions"
#: A markdown link's target: `[text](target)`, not an address with a scheme or a page anchor.
LINK = re.compile(r"\]\((?!\w+://|#|mailto:)([^)\s]+)\)")


def test_decision_records_are_numbered_once_each_in_order():
    numbers = sorted(int(path.name[:4]) for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert numbers == list(range(1, len(numbers) + 1)), "a number is used twice or skipped"
    for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"):
        title = path.read_text(encoding="utf-8").splitlines()[0]
        assert title.startswith(f"# {path.name[:4]}:"), f"{path.name}: its title is {title!r}"


def test_every_relative_link_in_the_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if not (page.parent / target.split("#")[0]).exists()
    ]
    assert broken == []


def test_every_tool_page_lists_its_simulated_faults():
    """A user injecting a fault (`packline sim fault`) finds each one on its tool's page."""
    from packline.drivers.registry import TOOL_KINDS

    for kind in TOOL_KINDS.values():
        page = ROOT / "docs" / "protocols" / f"{kind.name.replace('_', '-')}.md"
        text = page.read_text(encoding="utf-8")
        missing = [f for f in kind.load_simulator().faults if f"`{f}`" not in text]
        assert not missing, f"{page.name} does not name {missing}"


def test_the_secs_gem_page_names_every_kind_with_a_gem_face():
    """The one list of the kinds `--gem` serves on GEM, which the other pages point to, names
    the registry's kinds that have a simulated GEM face, no more and no fewer."""
    from packline.drivers.registry import TOOL_KINDS

    page = (ROOT / "docs" / "protocols" / "secs-gem.md").read_text(encoding="utf-8")
    not_implemented = page.split("## Not implemented", 1)[1].split("\n## ", 1)[0]
    bullet = next(b for b in not_implemented.split("\n* ") if b.startswith("A GEM face"))
    named = {word for word in re.findall(r"`(\w+)`", bullet) if word in TOOL_KINDS}
    assert named == {name for name, kind in TOOL_KINDS.items() if kind.gem_simulator}


#: The source packages (their `packline.*` links are the same files).
SOURCES = ("drivers", "sequences", "sim_instruments", "packline")
#: The `EventLog` methods that emit an event of the kind they are given.
EMITS = ("emit", "emit_before")
#: An events table row's own columns: a dict literal holding these is a row written whole.
EVENT_ROW = frozenset({"session", "kind", "message"})


def _source_trees() -> list[tuple[str, ast.Module]]:
    """Every module of the product once (not again through `packline`'s links), parsed."""
    seen: set[Path] = set()
    modules = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            real = path.resolve()
            if real in seen or any(p.is_symlink() for p in path.relative_to(ROOT).parents):
                continue
            seen.add(real)
            modules.append((str(path.relative_to(ROOT)), ast.parse(path.read_text("utf-8"))))
    return modules


def _event_kinds() -> tuple[set[str], set[str]]:
    """The kinds of event the code emits (`EventLog.emit` and `emit_before`, the engine's
    `emit` and the callables set to one: told to the observers, the `--json` stream) and
    those it records
    (the emitted ones `RECORDED_EVENTS` keeps, those `EventLog._record` and
    `RunStore.add_stopped_run_event` are given by name, and the rows other commands write
    whole), read from the
    code itself. A kind is a string, a module's constant naming one, or a name the function
    sets from a dict of strings; any other is refused, so no kind escapes the check unread."""
    from packline.sequences.engine.recorder import RECORDED_EVENTS

    modules = _source_trees()
    constants: dict[str, set[str]] = {}
    for _, tree in modules:
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        constants.setdefault(target.id, set()).add(node.value.value)

    def kinds_of(node: ast.expr, function: ast.AST, where: str) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.Name) and len(constants.get(node.id, ())) == 1:
            return set(constants[node.id])
        if isinstance(node, ast.Name):  # set from a dict of kinds: `kind = {...}[state]`
            for assign in ast.walk(function):
                if (
                    isinstance(assign, ast.Assign)
                    and [getattr(t, "id", None) for t in assign.targets] == [node.id]
                    and isinstance(assign.value, ast.Subscript)
                    and isinstance(assign.value.value, ast.Dict)
                ):
                    return {
                        k for v in assign.value.value.values for k in kinds_of(v, function, where)
                    }
        raise AssertionError(f"{where}: an event kind the test cannot read: {ast.unparse(node)}")

    # a callable attribute set to an emit (`injector.record = engine.emit`) emits as it does
    emitters = {*EMITS} | {
        target.attr
        for _, tree in modules
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.value, "attr", None) == "emit"
        for target in node.targets
        if isinstance(target, ast.Attribute)
    }
    emitted: set[str] = set()
    recorded: set[str] = set()
    for name, tree in modules:
        functions = [
            f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            for node in ast.walk(function):
                where = f"{name}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Call) and node.args:
                    called = getattr(node.func, "attr", getattr(node.func, "id", None))
                    on_self = getattr(getattr(node.func, "value", None), "id", None) == "self"
                    if function.name not in EMITS and (
                        called in EMITS or (called in emitters and on_self)
                    ):
                        emitted |= kinds_of(node.args[0], function, where)
                    elif called == "_record" and function.name not in EMITS:
                        recorded |= kinds_of(node.args[0], function, where)
                    elif called == "add_stopped_run_event":  # (run, kind, message)
                        recorded |= kinds_of(node.args[1], function, where)
                writers = ("_record", "add_stopped_run_event")
                kind = _row_kind(node) if function.name not in writers else None
                if kind is not None:  # an events row written whole
                    recorded |= kinds_of(kind, function, where)
    return emitted, recorded | (emitted & RECORDED_EVENTS)


def _row_kind(node: ast.AST) -> ast.expr | None:
    """The `kind` of a dict literal that is an events row (`EVENT_ROW`), else None."""
    if not isinstance(node, ast.Dict):
        return None
    entries = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
               if isinstance(k, ast.Constant)}  # fmt: skip
    return entries["kind"] if entries.keys() >= EVENT_ROW else None


def _named(text: str) -> set[str]:
    """The names a passage of a page gives in backticks."""
    return set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", text))


def test_every_kind_of_event_the_code_emits_or_records_is_documented():
    """A kind added to the code and to no page (a confirmation the run stopped at,
    `confirmation-unanswered`, was missing from results.md's list) leaves a user grepping
    the records for a kind no page explains. engine.md lists every kind of the `--json`
    stream and every kind the events table keeps, with its data; results.md's examples are
    kinds the records keep and point there."""
    emitted, recorded = _event_kinds()
    assert {"run-started", "confirmation-unanswered", "archived", "disposition"} <= recorded
    engine = (ROOT / "docs" / "engine.md").read_text(encoding="utf-8")
    stream = engine.split("`--json`: one JSON object per event (", 1)[1].split("then a final")[0]
    assert sorted(emitted - _named(stream)) == [], "missing from engine.md's --json stream"
    (table,) = [line for line in engine.splitlines() if line.startswith("| `events` |")]
    assert sorted(recorded - _named(table)) == [], "missing from engine.md's events table"
    results = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    (row,) = [line for line in results.splitlines() if line.startswith("| `events()` |")]
    examples = _named(row.split("`kind` (", 1)[1].split(")", 1)[0])
    assert examples, "results.md's events() row names no kind"
    assert examples <= recorded, f"not kinds the records keep: {examples - recorded}"
    assert "engine.md#where-the-records-are" in row.split("`kind` (", 1)[1].split(")", 1)[0]


def test_the_snippet_that_drives_a_recipe_past_validate_runs_as_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """A new user could not reproduce the method pages' examples driven past validate: the
    one page that says how gives a snippet, which runs and fails the claim it names."""
    from packline.sequences.engine import RunStore, run_report

    page = (ROOT / "docs" / "sequences.md").read_text(encoding="utf-8")
    section = page.split("## Driving a recipe past validate", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, re.S)
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    exec(compile(snippet, "docs/sequences.md", "exec"), {"__name__": "snippet"})
    run_id = capsys.readouterr().out.strip()
    store = RunStore(tmp_path / "runs.db", create=False)
    try:
        check = run_report(store, run_id)["claim_check"]
    finally:
        store.close()
    failing = {c["claim"] for c in check["conditions"] if c["verdict"] == "fail"}
    assert (check["status"], failing) == ("failed", {"003:11"})
