"""Packages whose public names load on first use, so a command imports only what it needs.

A package's `__init__.py` states its public API once, as imports under `if TYPE_CHECKING:`
(what a type checker and the layer contracts read) and its `__all__`, and ends with
`load_on_use(__name__)`. At run time nothing is imported until a name is read:
`from packline.drivers import ToolAlarm` imports `packline.drivers.errors` alone, not every
link library, so `packline runs` starts without pymodbus, PyVISA or the simulated line
(docs/decisions/0020).
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from pathlib import Path


class _LoadOnUse(types.ModuleType):
    """A package whose exported names are imported from their modules when first read."""

    __sources__: dict[str, tuple[str, str]]  # exported name -> its module, its name there

    def __getattr__(self, name: str) -> object:
        if name not in self.__sources__:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, original = self.__sources__[name]
        value = getattr(importlib.import_module(module), original)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: object) -> None:
        # Importing a submodule sets it as the package's attribute; one named like an export
        # (`engine.method`, the module of the `method` decorator) must not hide the export.
        if name in self.__sources__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def load_on_use(package: str) -> None:
    """Make `package` (its `__name__`) import each name of its `__all__` when first read.

    Where each name comes from is read from the package's own `from ... import` statements;
    a name of `__all__` none of them gives is refused when the package is imported.
    """
    module = sys.modules[package]
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    sources = {
        alias.asname or alias.name: (
            f"{package}.{node.module}" if node.level else str(node.module),
            alias.name,
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level <= 1
        for alias in node.names
    }
    exported = getattr(module, "__all__", ())
    missing = sorted(set(exported) - set(sources))
    if missing:
        raise ImportError(f"{package}: __all__ names {missing} that no import statement gives")
    module.__dict__["__sources__"] = {name: sources[name] for name in exported}
    module.__class__ = _LoadOnUse
