"""The layers: import-linter's contracts (pyproject.toml, `[tool.importlinter]`; `lint-imports`
checks them from a shell), and the rules they cannot state:

* no import cycle between modules anywhere in the product. import-linter's `acyclic_siblings`
  folds a sub-package into one node, so `drivers.families` and `drivers.specs`, which import
  each other's modules without any module cycle, would read as a cycle; this test works on
  modules. Every import counts, one made inside a function or under `if TYPE_CHECKING:` too,
  except the registry's type-only ones: it loads drivers, specs and simulated tools by import
  path and only names their types;
* the contract that keeps simulated tools off the drivers' own modules lists every one of them.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "packline.drivers.registry"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import one another in a circle (Tarjan's strongly connected
    components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_import_linter_contracts_are_kept():
    run = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    result = subprocess.run(
        [sys.executable, "-c", run],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("packline")
    at_run_time = grimp.build_graph("packline", exclude_type_checking_imports=True)
    runtime_imports = at_run_time.find_modules_directly_imported_by(REGISTRY)
    for imported in graph.find_modules_directly_imported_by(REGISTRY) - runtime_imports:
        graph.remove_import(importer=REGISTRY, imported=imported)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert _cycles(graph) == [["a", "b", "c"]]


def test_simulated_tools_are_kept_off_every_driver_module():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in contracts["contracts"] if c["id"] == "simulated-tools"]
    drivers = {
        f"packline.drivers.{path.stem}"
        for path in (ROOT / "drivers").glob("*.py")
        if path.stem not in ("__init__", "errors", "registry")
    }
    assert drivers, "no driver modules found"
    assert set(contract["forbidden_modules"]) == drivers
