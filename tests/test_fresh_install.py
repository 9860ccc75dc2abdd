"""`pip install` of packline's wheel into a fresh environment (no system packages, no extras)
with pytest beside it, as a user who only wants the command and the plugin gets it: the command
runs, pytest keeps working for another project, and the plugin adds its option (issue 15).

The wheel is installed from the package indexes pip is configured with; without them (no
network) from the wheels pip finds locally (`--no-index`, its configured `--find-links`). When
neither has a dependency's wheel the test is skipped, saying which; any other failure fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .packline.testing.test_station_checks import PROJECT_TEST

ROOT = Path(__file__).resolve().parent.parent
#: Wall seconds for building the wheel and installing it with its dependencies.
INSTALL_TIMEOUT_S = 1800
#: What pip says when a distribution is nowhere to be had (no index reached, no local wheel).
UNAVAILABLE = re.compile(
    r"No matching distribution found for \S+|Could not find a version that satisfies the "
    r"requirement \S+|Failed to establish a new connection|Network is unreachable"
)

#: What of the checkout the wheel is not built from: history, caches, earlier builds.
NOT_BUILT_FROM = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache", ".hypothesis", ".venv"
)

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """`args` in `cwd`, with no PYTHONPATH: the fresh environment imports only what it holds."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False, env=env
    )


def _unavailable(result: subprocess.CompletedProcess[str]) -> str | None:
    """What pip could not get, when it failed for want of a package; None otherwise."""
    found = UNAVAILABLE.search(result.stdout + result.stderr)
    return None if result.returncode == 0 or found is None else found.group(0)


def _pip_or_skip(pip: list[str], *args: str, cwd: Path) -> None:
    """`pip args` from the indexes, else from local wheels alone; skipped when neither has a
    package it needs, failed on any other error."""
    online = _run([*pip, *args], cwd, INSTALL_TIMEOUT_S)
    if online.returncode == 0:
        return
    offline = _run([*pip, *args, "--no-index"], cwd, INSTALL_TIMEOUT_S)
    if offline.returncode == 0:
        return
    missing = _unavailable(online) and _unavailable(offline)
    if missing:
        pytest.skip(f"pip {args[0]}: no index reachable and no local wheel: {missing}")
    raise AssertionError(online.stdout + online.stderr + offline.stdout + offline.stderr)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding packline's wheel (no extras) and pytest."""
    where = tmp_path_factory.mktemp("fresh-install")
    dist = where / "dist"
    # built from a copy: setuptools builds in the source tree's build/, which another worker's
    # build of the same tree would change under it (CI's -n auto: "No such file or directory")
    source = where / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_BUILT_FROM)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    _pip_or_skip(pip, "wheel", "--no-deps", "-w", str(dist), str(source), cwd=where)
    (wheel,) = dist.glob("packline-*.whl")
    venv = where / "venv"
    created = _run([sys.executable, "-m", "venv", str(venv)], where)
    assert created.returncode == 0, created.stderr
    fresh_pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    _pip_or_skip(fresh_pip, "install", str(wheel), "pytest", cwd=where)
    return venv


def test_the_fresh_environment_has_packline_and_pytest_but_not_pytest_asyncio(fresh_venv):
    python = str(fresh_venv / "bin" / "python")
    found = _run([python, "-c", "import packline, pytest; print(packline.__file__)"], fresh_venv)
    assert found.returncode == 0, found.stderr
    assert str(fresh_venv) in found.stdout  # the wheel's copy, not the checkout
    absent = _run([python, "-c", "import pytest_asyncio"], fresh_venv)
    assert absent.returncode == 1
    assert "No module named 'pytest_asyncio'" in absent.stderr


def test_packline_methods_runs_from_the_installed_wheel(fresh_venv, tmp_path):
    listed = _run([str(fresh_venv / "bin" / "packline"), "methods", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert '"plasma-clean"' in listed.stdout


def test_pytest_keeps_working_and_the_plugin_offers_its_option(fresh_venv, tmp_path):
    python = str(fresh_venv / "bin" / "python")
    helped = _run([python, "-m", "pytest", "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "--station=FILE" in helped.stdout
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_project.py").write_text(PROJECT_TEST)
    project = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not station"],
                   tmp_path)  # fmt: skip
    assert project.returncode == 0, project.stdout + project.stderr
    assert re.search(r"\b1 passed, \d+ deselected", project.stdout), project.stdout
