"""Every step of a method's script that puts its wafer on a tool or takes it off declares so
(`handling=Handling.LOAD` or `Handling.UNLOAD`, decision 0094): what a stopped run left on
its tools is read from that, never from the step's name, so a load left undeclared would be
a wafer left in a chamber that nobody is told of. A step is taken for one by its name (`load
...`, `unload ...`, as the rule before 0094 read it) or by its action, a role interface's
own load or unload (`saw.mount`, `bonder.unload_die_source`), whatever the step is called."""

from __future__ import annotations

import ast
from pathlib import Path

import packline.sequences
from packline.sequences.engine import Handling

#: The scripts of the shipped methods: the sequences package but its engine.
SCRIPTS = Path(packline.sequences.__file__).parent
#: The role interfaces' operations that put a workpiece on their tool or take it off
#: (drivers/roles/), and which handling a step whose action is one of them declares.
ROLE_HANDLING = {
    "load": Handling.LOAD,
    "mount": Handling.LOAD,
    "load_die_source": Handling.LOAD,
    "unload": Handling.UNLOAD,
    "unmount": Handling.UNLOAD,
    "unload_die_source": Handling.UNLOAD,
}


def expected_handling(name: str, action: str | None) -> str | None:
    """The `Handling` member a step must declare, by its action (a role operation's name, if
    it is one) or else its name; None when neither says it handles anything."""
    if action in ROLE_HANDLING:
        return ROLE_HANDLING[action].name
    if name.startswith("unload"):
        return Handling.UNLOAD.name
    return Handling.LOAD.name if name.startswith("load") else None


def named_steps(tree: ast.AST) -> list[tuple[int, str, str | None, str | None]]:
    """Each `wafer.step(...)` or `batch.step(...)` call whose name is written in the script
    (a string, or the literal start of an f-string): its line, its name (as far as written),
    its action's attribute name (`bonder.load`: `load`; None for a function of the script)
    and the `Handling` member its `handling=` names (None when it has none)."""
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "step"
            and node.args
        ):
            continue
        name = node.args[0]
        if isinstance(name, ast.JoinedStr) and name.values:
            name = name.values[0]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            continue  # named by its caller (a process step: `chamber_cycle`'s `process`)
        action = node.args[1] if len(node.args) > 1 else None
        operation = action.attr if isinstance(action, ast.Attribute) else None
        marker = next((k.value for k in node.keywords if k.arg == "handling"), None)
        declared = marker.attr if isinstance(marker, ast.Attribute) else None
        found.append((node.lineno, name.value, operation, declared))
    return found


def test_every_script_step_that_loads_or_unloads_declares_its_handling():
    """Each step of the shipped scripts named `load...` or `unload...`, or whose action is a
    role's load or unload, declares the matching handling."""
    undeclared = []
    steps = 0
    for path in sorted(SCRIPTS.rglob("*.py")):
        if "engine" in path.relative_to(SCRIPTS).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name, action, declared in named_steps(tree):
            expected = expected_handling(name, action)
            steps += expected is not None
            if expected is not None and declared != expected:
                where = f"{path.relative_to(SCRIPTS)}:{line}"
                undeclared.append(f"{where} step {name!r}: handling={declared}, not {expected}")
    assert steps > 50  # the scripts were read: every method loads and unloads
    assert undeclared == []


def test_a_step_that_loads_or_unloads_undeclared_is_found():
    """The check above reads what a script writes: an undeclared load, a load declared an
    unload, and a role's load under another name are told apart from a declared one; a
    step named by its caller, a process, is not read."""
    script = (
        "async def s(wafer, batch, tool):\n"
        '    await wafer.step("load on tool", tool.load, wafer.id, handling=Handling.LOAD)\n'
        '    await wafer.step("load board", load_board, tool, "B")\n'
        '    await batch.step(f"unload {wafer.id}", tool.unload, handling=Handling.LOAD)\n'
        '    await wafer.step("place", tool.mount, wafer.id)\n'
        "    await wafer.step(process, tool.run)\n"
    )
    steps = named_steps(ast.parse(script))
    assert steps == [
        (2, "load on tool", "load", "LOAD"),
        (3, "load board", None, None),
        (4, "unload ", "unload", "LOAD"),
        (5, "place", "mount", None),
    ]
    assert [expected_handling(name, action) for _, name, action, _ in steps] == [
        "LOAD",
        "LOAD",
        "UNLOAD",
        "LOAD",
    ]
