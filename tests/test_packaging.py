"""The repository's layout stays true: packages installed, drivers documented, registry loadable."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from packline.drivers.registry import TOOL_KINDS

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "packline": "packline",
    "drivers": "packline.drivers",
    "sequences": "packline.sequences",
    "sim_instruments": "packline.sim_instruments",
}


def test_every_package_folder_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    found = set()
    for folder, package in FOLDERS.items():
        # packline/<folder> is a committed link to the top-level folder (decision 0007).
        assert (ROOT / package.replace(".", "/")).resolve() == ROOT / folder
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert found == declared


def test_every_driver_has_a_protocol_page():
    pages = {page.stem for page in (ROOT / "docs" / "protocols").glob("*.md")}
    for kind in TOOL_KINDS.values():
        module = kind.driver.split(":")[0].rsplit(".", 1)[1]
        assert module.replace("_", "-") in pages, f"drivers/{module}.py has no protocol page"


@pytest.mark.parametrize("kind", sorted(TOOL_KINDS))
def test_every_registry_entry_loads_a_driver_and_a_simulator_of_the_same_role(kind: str):
    entry = TOOL_KINDS[kind]
    assert entry.load_driver().role == entry.role
    assert entry.load_simulator().__name__.startswith("Sim")


def test_the_product_type_checks_from_the_checkout():
    """mypy, strict, over the whole product, as pyproject.toml sets it (decision 0007)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    hint = "\n(`pip install -e '.[dev]'` installs mypy and the stubs)"
    assert result.returncode == 0, result.stdout + result.stderr + hint


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_the_tree_is_ruff_clean(command: list[str]):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
