"""The layers hold: who may import whom, checked on the source of every product module.

* drivers never import sequences, simulated tools or the CLI: a driver runs on real tools;
* simulated tools reach the drivers layer only for what both ends of a link share: the specs,
  the protocol families, the role records, the equipment's shared definitions, the register
  codecs and the registry, never a driver's own module (its process logic);
* nothing outside `packline` imports `drivers`, `sequences` or `sim_instruments` by their
  folder names: each module has one identity, `packline.<folder>...`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "packline": "packline",
    "drivers": "packline.drivers",
    "sequences": "packline.sequences",
    "sim_instruments": "packline.sim_instruments",
}


def modules(folder: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every module under a top-level folder."""
    for path in sorted((ROOT / folder).rglob("*.py")):
        parts = path.relative_to(ROOT / folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join((FOLDERS[folder], *parts)), path


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (imports a type checker alone sees)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(name: str, path: Path) -> set[str]:
    """Every module `path` imports when it runs (relative imports resolved against `name`)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def offending(folder: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{name} imports {target}"
        for name, path in modules(folder)
        for target in sorted(imports(name, path))
        if target.startswith(forbidden) and not target.startswith(allowed)
    ]


def test_drivers_never_import_sequences_simulated_tools_or_the_cli():
    forbidden = ("packline.sequences", "packline.sim_instruments", "packline.cli")
    assert offending("drivers", forbidden) == []


DRIVER_MODULES = tuple(
    f"packline.drivers.{path.stem}"
    for path in (ROOT / "drivers").glob("*.py")
    if path.stem not in ("__init__", "equipment", "errors", "registry")
)


def test_simulated_tools_use_only_what_both_ends_of_a_link_share():
    assert DRIVER_MODULES, "no driver modules found"
    assert offending("sim_instruments", DRIVER_MODULES) == []


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_every_module_has_one_identity(folder: str):
    bare = ("drivers", "sequences", "sim_instruments")
    found = [
        f"{name} imports {target}"
        for name, path in modules(folder)
        for target in imports(name, path)
        if target.split(".")[0] in bare
    ]
    assert found == []
