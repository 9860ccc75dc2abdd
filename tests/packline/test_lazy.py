"""Packages whose names load on first use (packline.lazy): every name they export is the one
its module defines, and a submodule named like an export does not hide it."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

from packline.lazy import load_on_use

LAZY = [
    "packline.drivers",
    "packline.drivers.links",
    "packline.sequences.engine",
    "packline.sim_instruments",
    "packline.sim_instruments.twin",
]


def type_checking_names(package: types.ModuleType) -> dict[str, object]:
    """What the package's `if TYPE_CHECKING:` imports give, run for real by Python's import
    system: the API as a type checker reads it, independent of the loader's table."""
    tree = ast.parse(Path(str(package.__file__)).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    names: dict[str, object] = {"__name__": package.__name__, "__package__": package.__name__}
    for block in blocks:
        exec(
            compile(ast.Module(body=block.body, type_ignores=[]), "<type-checking>", "exec"), names
        )
    return names


@pytest.mark.parametrize("name", LAZY)
def test_every_exported_name_is_the_one_its_type_checking_import_gives(name):
    package = importlib.import_module(name)
    imported = type_checking_names(package)
    assert package.__all__
    for exported in package.__all__:
        assert getattr(package, exported) is imported[exported], exported


def test_a_submodule_named_like_an_export_does_not_hide_it():
    # In a fresh interpreter: the module of the `method` decorator is imported first.
    code = (
        "import packline.sequences.engine.method\n"
        "from packline.sequences.engine import method\n"
        "print(type(method).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "function"


def test_an_unknown_name_is_an_attribute_error():
    import packline.drivers

    with pytest.raises(AttributeError, match=r"'packline\.drivers' has no attribute 'Nothing'"):
        packline.drivers.Nothing  # noqa: B018


def test_a_name_no_import_gives_is_refused(tmp_path, monkeypatch):
    (tmp_path / "halfdone").mkdir()
    (tmp_path / "halfdone" / "__init__.py").write_text(
        "from .part import a\n__all__ = ['a', 'b']\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    package = types.ModuleType("halfdone")
    package.__file__ = str(tmp_path / "halfdone" / "__init__.py")
    package.__all__ = ["a", "b"]
    monkeypatch.setitem(sys.modules, "halfdone", package)
    with pytest.raises(ImportError, match=r"halfdone: __all__ names \['b'\]"):
        load_on_use("halfdone")
