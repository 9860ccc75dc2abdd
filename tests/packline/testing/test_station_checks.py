"""packline's hardware-in-the-loop set, run as a user runs it: `pytest --pyargs
packline.testing.station_checks --station FILE` against `packline sim serve` in another
process, and the plugin's behaviour in a project of its own (strict asyncio mode, or no
pytest-asyncio at all)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from packline.cli import main
from packline.station import load_station

from ...sequences.processes import Served

#: The checks of packline.testing.station_checks, each run once per tool.
CHECKS_PER_TOOL = 7


@pytest.fixture(params=[False, True], ids=["native", "gem"])
def served_station(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """`packline sim serve` in its own process (with `--gem`: the tools that have a GEM face
    on HSMS), sixty times faster than real time (a chamber's dry pump-down takes seconds), and
    the station file it wrote."""
    options = ["--for", "300", "--time-scale", "60"] + (["--gem"] if request.param else [])
    with Served(tmp_path / "line.yaml", *options) as served:
        yield served.station


def run_pytest(
    args: list[str], cwd: Path, *, preamble: str = ""
) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh interpreter, from `cwd` (its own rootdir and ini)."""
    code = f"import sys\n{preamble}\nimport pytest\nsys.exit(pytest.main({args!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def run_station_checks(station: Path, cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """packline's set, as a user runs it, on `station` from `cwd`, with pytest's `options`."""
    return run_pytest(
        ["--pyargs", "packline.testing.station_checks", "--station", str(station),
         "-p", "no:randomly", "-p", "no:cacheprovider", *options],
        cwd,
    )  # fmt: skip


def test_the_station_checks_pass_against_a_served_line(served_station: Path, tmp_path: Path):
    tools = load_station(served_station).tools
    result = run_station_checks(served_station, tmp_path, "-m", "station")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CHECKS_PER_TOOL * len(tools)} passed" in result.stdout
    # the progress line names the set's module, as packline has it: run from outside the
    # rootdir it had named it by nothing, shown as `.`, `. ......` read as a stray space
    progress = [line for line in result.stdout.splitlines() if line.endswith("%]")]
    assert progress[0].startswith(f"packline/testing/station_checks.py {'.' * 30}"), progress


#: A plugin noting, for each driver the set connects, its tool, its xdist worker and when it
#: connected and closed (on the system's monotonic clock, one for every process), a JSON line
#: each in `OPENS`.
RECORD_OPENS = """
import json
import os
import time

from packline.drivers.equipment import Equipment

OPENS = {opens!r}
_connect, _close = Equipment.connect, Equipment.close


async def connect(self):
    self.connected_at = time.monotonic()
    await _connect(self)


async def close(self):
    await _close(self)
    opened = [self.name, os.environ["PYTEST_XDIST_WORKER"], self.connected_at, time.monotonic()]
    with open(OPENS, "a") as opens:
        opens.write(json.dumps(opened) + "\\n")


Equipment.connect, Equipment.close = connect, close
"""


def test_on_two_xdist_workers_no_tool_is_driven_by_both_at_once(tmp_path: Path):
    """`-n 2` spread one tool's checks over both workers, which ran them together: two
    controllers on the oven's serial line, one's safe state aborting the other's dry job. Each
    test takes its tool's turn: no tool is open on both at once, while the workers still
    drive different tools side by side."""
    with Served(tmp_path / "line.yaml", "--for", "300", "--time-scale", "60") as served:
        tools = load_station(served.station).tools
        (tmp_path / "record_opens.py").write_text(
            RECORD_OPENS.format(opens=str(tmp_path / "opens"))
        )
        result = run_station_checks(served.station, tmp_path, "-n", "2", "-p", "record_opens")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CHECKS_PER_TOOL * len(tools)} passed" in result.stdout
    opens = [json.loads(line) for line in (tmp_path / "opens").read_text().splitlines()]
    assert {worker for _, worker, _, _ in opens} == {"gw0", "gw1"}
    together = [
        (first, second)
        for first, second in itertools.combinations(opens, 2)
        if first[1] != second[1] and first[2] < second[3] and second[2] < first[3]
    ]
    assert [pair for pair in together if pair[0][0] == pair[1][0]] == []
    assert together  # different tools, side by side


def test_a_supply_lost_at_rest_fails_its_tool_s_check_naming_it(tmp_path: Path):
    """The oven's nitrogen supply lost on a served line: its made-at-rest check fails, naming
    the interlock and what closes it, as `station check` calls the oven not ready; its dry
    job, which the oven refuses for it, is skipped in one line saying so (it had failed with
    the driver's `InterlockOpen` traceback, a new user's trial)."""
    with Served(tmp_path / "line.yaml", "--for", "300", "--time-scale", "60") as served:
        fault = ["sim", "fault", "oven", "n2_supply", "--station", str(served.station)]
        assert main(fault) == 0
        result = run_station_checks(
            served.station, tmp_path, "-rs", "-k", "oven and (at_rest or dry_job)"
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 skipped" in result.stdout
    closes = (
        "closed when nitrogen supply pressure is present (made at rest: a supply no step makes)"
    )
    assert f"oven: open at rest: n2_supply: {closes}" in result.stdout
    assert (
        f"oven: its dry job was refused (purge): n2_supply open: {closes}; "
        "test_the_interlocks_a_lot_needs_at_rest_are_made reports it"
    ) in result.stdout
    assert "InterlockOpen" not in result.stdout


def test_a_dry_job_refused_for_an_interlock_a_step_makes_fails_in_its_one_line(tmp_path: Path):
    """The dicing saw's cover left open on a served line: its dry job, which the saw refuses
    for it at its spindle's start, fails in the one line that names the interlock and what
    closes it (it read as the driver's refusal, then "During handling of the above
    exception, another exception occurred:", then that line)."""
    with Served(tmp_path / "line.yaml", "--for", "300", "--time-scale", "60") as served:
        fault = ["sim", "fault", "dicing_saw", "cover_open", "--station", str(served.station)]
        assert main(fault) == 0
        result = run_station_checks(served.station, tmp_path, "-k", "dicing_saw and dry_job")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    said = (
        "dicing_saw: its dry job was refused (start spindle): cover_closed open: closed when the "
        "cover is shut (made by a step)"
    )
    assert said in result.stdout.splitlines(), result.stdout
    assert "During handling" not in result.stdout


def test_a_capacity_above_what_the_tool_takes_fails_its_tool_s_check_naming_both(tmp_path: Path):
    """The served plasma cleaner's `capacity: 4` edited to 8, as a new user did: its capacity
    check fails, naming both numbers, as `station check` calls it not ready and a run refuses
    it."""
    with Served(tmp_path / "line.yaml", "--for", "300", "--time-scale", "60") as served:
        edited = tmp_path / "edited.yaml"
        edited.write_text(served.station.read_text().replace("capacity: 4", "capacity: 8", 1))
        result = run_station_checks(edited, tmp_path, "-k", "capacity")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert (
        "plasma_cleaner: capacity 8 in the station file, but the tool takes 4 wafers at once"
    ) in result.stdout


#: A station of one plasma cleaner at an address where nothing listens (the discard port).
DEAD_LINE = """\
name: dead-line
tools:
  plasma_cleaner:
    driver: plasma_cleaner
    address: modbus+tcp://127.0.0.1:9
"""


def test_a_tool_that_does_not_answer_fails_its_checks_by_name(tmp_path: Path):
    """Each check of a tool the tests cannot reach fails in one line naming the tool, why and
    the line of its address, as `station check` says it: each had failed in the driver's
    traceback, some 100 lines, the cause at their end and no line of the file named."""
    station_file = tmp_path / "line.yaml"
    station_file.write_text(DEAD_LINE)
    result = run_station_checks(station_file, tmp_path)
    assert result.returncode == 1
    assert f"{CHECKS_PER_TOOL} failed" in result.stdout
    assert "[plasma_cleaner]" in result.stdout
    said = (
        "plasma_cleaner at modbus+tcp://127.0.0.1:9: connect: cannot connect (pymodbus could "
        f"not connect to 127.0.0.1); its address is on line 5 of station file {station_file}"
    )
    assert result.stdout.splitlines().count(said) == CHECKS_PER_TOOL, result.stdout
    assert "Traceback" not in result.stdout
    assert "ToolConnectionError" not in result.stdout


def test_a_dummy_wafer_id_no_tool_could_take_is_refused_before_any_check(tmp_path: Path):
    station_file = tmp_path / "line.yaml"
    station_file.write_text(DEAD_LINE)
    result = run_station_checks(station_file, tmp_path, "--dummy-wafer", "D 1")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "--dummy-wafer: wafer id 'D 1' must be 1-16 printable ASCII characters" in (
        result.stderr
    )


#: A user's own project's tests: one unrelated, one station test (also installed fresh by
#: tests/test_fresh_install.py).
PROJECT_TEST = """
import pytest

def test_unrelated():
    assert True

@pytest.mark.station
async def test_my_hardware(station, station_tool):
    async with station.open_tool(station_tool) as tool:
        assert tool.identity is not None
"""


def test_in_a_strict_asyncio_project_a_station_test_runs_without_asyncio_markers(
    tmp_path: Path,
):
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n")
    (tmp_path / "test_line.py").write_text(PROJECT_TEST)
    result = run_pytest(["-q", "-p", "no:randomly", "-p", "no:cacheprovider"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    tools = len(load_station_names())
    assert f"{tools + 1} passed" in result.stdout


def load_station_names() -> list[str]:
    from packline.drivers.registry import TOOL_KINDS

    return [kind.role for kind in TOOL_KINDS.values()]


def test_without_pytest_asyncio_pytest_still_runs_and_a_station_test_says_what_to_install(
    tmp_path: Path,
):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_line.py").write_text(PROJECT_TEST)
    (tmp_path / "line.yaml").write_text(DEAD_LINE)
    absent = tmp_path / "absent"  # first on the path: pytest_asyncio cannot be imported
    absent.mkdir()
    (absent / "pytest_asyncio.py").write_text("raise ImportError('not installed')\n")
    options = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:asyncio"]
    preamble = f"sys.path.insert(0, {str(absent)!r})"

    simulated = run_pytest(options, tmp_path, preamble=preamble)
    assert simulated.returncode == 1, simulated.stdout + simulated.stderr
    assert f"1 passed, {len(load_station_names())} errors" in simulated.stdout
    assert (
        "the simulated line for the `station` fixture needs pytest-asyncio: "
        "pip install 'packline[test]'" in simulated.stdout
    )

    real = run_pytest([*options, "--station", "line.yaml"], tmp_path, preamble=preamble)
    assert real.returncode == 1, real.stdout + real.stderr
    assert "1 failed, 1 passed" in real.stdout
    assert "an async `station` test needs pytest-asyncio: pip install 'packline[test]'" in (
        real.stdout
    )
