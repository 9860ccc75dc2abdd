"""The `station` fixture: the simulated line by default, `--station=FILE` for real tools."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

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


#: A station of two tools at addresses where nothing listens: `station.open_tool` builds a
#: driver (taking the tool's turn under xdist) and contacts nothing.
TWO_TOOLS = (
    "name: line\ntools:\n  pc: {driver: plasma_cleaner, address: modbus+tcp://127.0.0.1:9}\n"
    "  oven: {driver: oven, address: 'modbus+rtu:/dev/ttyUSB9'}\n"
)
#: A user's two tests, sent one to each of two xdist workers: the first holds the plasma
#: cleaner until the second ends (`DONE`), which opens tools once the first holds it (`HELD`).
TWO_WORKERS = """
import time
from pathlib import Path

import pytest

HELD, DONE = Path("held"), Path("done")


def wait_for(path):
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"no {{path}}"
        time.sleep(0.05)


@pytest.mark.station
def test_holds_the_plasma_cleaner(station):
    station.open_tool("pc")
    HELD.touch()
    wait_for(DONE)


@pytest.mark.station
def test_opens_tools_from_another_worker(station):
    wait_for(HELD)
    try:
        {opens}
    finally:
        DONE.touch()
"""


def run_project(tmp_path: Path, tests: str, *options: str) -> subprocess.CompletedProcess[str]:
    """A project of `tests` on `TWO_TOOLS`, run by `pytest --station=line.yaml` with `options`
    (`-n 2`: on two xdist workers)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "line.yaml").write_text(TWO_TOOLS)
    (tmp_path / "test_line.py").write_text(tests)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--station=line.yaml", *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_under_xdist_a_tool_another_worker_s_test_drives_is_waited_for_and_past_the_wait_fails(
    tmp_path: Path,
):
    """Without turns the second worker opened the plasma cleaner the first drove (two
    controllers on one tool); it waits for it, and past `--station-tool-wait` fails naming
    the tool, the worker driving it and that worker's test."""
    tests = TWO_WORKERS.format(opens='station.open_tool("pc")')
    result = run_project(tmp_path, tests, "-n", "2", "--station-tool-wait=1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert re.search(
        r"waited 1 s \(--station-tool-wait\) for its turn: tool pc at modbus\+tcp://127\.0\.0\.1:9"
        r" is being driven by worker gw\d in test test_line\.py::test_holds_the_plasma_cleaner "
        r"\(process \d+ on host ",
        result.stdout,
    ), result.stdout


def test_under_xdist_a_test_holding_a_tool_fails_at_once_for_another_naming_the_marker(
    tmp_path: Path,
):
    """It never waits holding the oven (the other test could be waiting for it): it fails at
    once, well within its wait, saying how to take both together."""
    opens = 'station.open_tool("oven")\n        station.open_tool("pc")'
    tests = TWO_WORKERS.format(opens=opens)
    result = run_project(tmp_path, tests, "-n", "2", "--station-tool-wait=600")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert (
        "this test holds oven already, and a test holding a tool never waits for another (two "
        "tests could each wait for one the other holds): name every tool it drives, "
        "@pytest.mark.station_tools('oven', 'pc'), to take them together before it starts"
    ) in result.stdout


#: A user's two tests of the plasma cleaner, the second naming it and the oven by the
#: marker, each noting when it drove them (`intervals`).
ONE_TOOL_TWO_TESTS = """
import json
import os
import time

import pytest


def drive_for_a_while(name):
    start = time.monotonic()
    time.sleep(1.5)
    interval = [name, os.environ["PYTEST_XDIST_WORKER"], start, time.monotonic()]
    with open("intervals", "a") as intervals:
        intervals.write(json.dumps(interval) + "\\n")


@pytest.mark.station
def test_opens_the_plasma_cleaner(station):
    station.open_tool("pc")
    drive_for_a_while("opens")


@pytest.mark.station
@pytest.mark.station_tools("oven", "pc")
def test_names_its_tools(station):
    drive_for_a_while("names")
"""


def test_under_xdist_two_tests_of_one_tool_drive_it_in_turn(tmp_path: Path):
    result = run_project(tmp_path, ONE_TOOL_TWO_TESTS, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    intervals = [json.loads(line) for line in (tmp_path / "intervals").read_text().splitlines()]
    (_, first_worker, _, first_end), (_, second_worker, second_start, _) = sorted(
        intervals, key=lambda interval: interval[2]
    )
    assert first_worker != second_worker, intervals  # one each: they could have overlapped
    assert second_start >= first_end, intervals


def test_a_tool_the_station_has_not_named_by_the_marker_fails_its_test_naming_it(tmp_path: Path):
    """Checked without xdist too: a misspelt name would take no turn at the tool meant."""
    tests = (
        "import pytest\n\n\n@pytest.mark.station_tools('ovn', 'pc')\n"
        "def test_oven(station):\n    pass\n"
    )
    result = run_project(tmp_path, tests)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert "@pytest.mark.station_tools: no tool ovn in station line; tools: pc, oven" in (
        result.stdout
    )


def test_a_tool_used_without_its_connection_fails_its_test_with_the_traceback(tmp_path: Path):
    """A test that reads the plasma cleaner it opened but never connected is the test's own
    fault: it had failed in the one line of a tool the station file gives wrong
    ('...: not connected; its address is on line 3 of station file line.yaml'), sending its
    author to the file and hiding where the test went wrong."""
    tests = (
        "import asyncio\n\nimport pytest\n\n\n@pytest.mark.station\n"
        "def test_reads_slots(station):\n"
        '    asyncio.run(station.open_tool("pc").request_slots())\n'
    )
    result = run_project(tmp_path, tests)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "not connected" in result.stdout
    assert "its address is on line" not in result.stdout, result.stdout
    assert "test_line.py:8: " in result.stdout, result.stdout  # its traceback names its line
    assert "ToolConnectionError" in result.stdout
