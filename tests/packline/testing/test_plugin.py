"""The `station` fixture: the simulated line by default, `--station=FILE` for real tools."""

from __future__ import annotations

import subprocess
import sys

import pytest

from packline.drivers.equipment import ToolState
from packline.station import Station


async def test_the_station_fixture_reaches_a_plasma_cleaner(station: Station):
    (name,) = station.tools_for_role("plasma_cleaner")
    async with station.open_tool(name) as plasma:
        assert plasma.identity is not None
        assert plasma.state in (ToolState.IDLE, ToolState.FAULT)
        assert len(await plasma.request_slots()) >= 1


async def test_the_station_fixture_reaches_a_deposition_tool(station: Station):
    (name,) = station.tools_for_role("deposition")
    async with station.open_tool(name) as deposition:
        assert deposition.state in (ToolState.IDLE, ToolState.FAULT)
        assert len(await deposition.request_slots()) >= 1
        methods = {source.method for source in await deposition.request_sources()}
        assert methods <= {"sputter", "evaporate", "cvd"}
        assert methods  # a deposition tool has at least one source


#: A station of one tool, never contacted by the tests below.
LINE = "name: line\ntools:\n  pc: {driver: plasma_cleaner, address: modbus+tcp://127.0.0.1:9}\n"


def test_a_station_file_outside_the_project_given_apart_from_its_option_is_refused(tmp_path):
    """`pytest --station /tmp/op/line.yaml -m station` (a space) found pytest's rootdir from
    /tmp/op, read no ini file and failed collecting; `--station=PATH` works. pytest finds its
    rootdir before it loads the plugin, so the plugin refuses the two-argument form (naming
    the one that works) rather than run without the project's configuration."""
    project, station = tmp_path / "project", tmp_path / "op" / "line.yaml"
    (project / "checks").mkdir(parents=True)
    station.parent.mkdir()
    station.write_text(LINE)
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["checks"]\npython_files = ["check_*.py"]\n'
    )
    (project / "checks" / "check_one.py").write_text("def test_one():\n    pass\n")

    def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    apart = run_pytest("--station", str(station))
    assert apart.returncode == pytest.ExitCode.USAGE_ERROR, apart.stdout + apart.stderr
    assert f"write --station={station} (one argument)" in apart.stderr
    joined = run_pytest(f"--station={station}")
    assert joined.returncode == 0, joined.stdout + joined.stderr
    assert "1 passed" in joined.stdout
    inside = project / "line.yaml"  # found from the project's own directory: nothing to refuse
    inside.write_text(LINE)
    assert run_pytest("--station", "line.yaml").returncode == 0
    inside.write_text("name: line\n")  # no tools: refused before any test, naming the file
    wrong = run_pytest("--station=line.yaml")
    assert wrong.returncode == pytest.ExitCode.USAGE_ERROR, wrong.stdout + wrong.stderr
    assert "--station=line.yaml: station file line.yaml: tools: missing (required" in wrong.stderr
