"""One controller a tool (issue 15): station tests started beside a run crossed its commands
and held 6 of its 8 wafers. A run on a station and `pytest --station=FILE` hold the tools
they drive (`packline.line_lock`); the other is refused, naming the holder and how to stop it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path

import pytest
import yaml

from packline.drivers.errors import PacklineError
from packline.line_lock import Holder, LineBusy, _key, hold_tools
from packline.sequences.engine import BadInput, open_run, prepare

from .helpers import station_lot

#: How long a test waits for the pytest it started to reach its test (a poll, not a measure).
START_TIMEOUT_S = 120.0


def test_a_tool_held_is_refused_to_another_holder_naming_it_and_the_first_takes_nothing():
    first = Holder("run R1 of plasma-clean", "stop it with `packline terminate R1`")
    with hold_tools({"modbus+tcp://10.0.3.17:502": "plasma_cleaner"}, first):
        wanted = {"tcp://10.0.3.18:5000": "wire_bonder", "modbus+tcp://10.0.3.17:502": "pc"}
        with pytest.raises(LineBusy) as refused, hold_tools(wanted, Holder("second", "-")):
            pass
        assert str(refused.value) == (
            "tool pc at modbus+tcp://10.0.3.17:502 is being driven by run R1 of plasma-clean; "
            "stop it with `packline terminate R1`"
        )
        # every tool or none: the refused holder left the wire bonder free
        with hold_tools({"tcp://10.0.3.18:5000": "wire_bonder"}, Holder("third", "-")):
            pass
    with hold_tools({"modbus+tcp://10.0.3.17:502": "pc"}, Holder("after", "-")):
        pass  # released when the first holder's block ended


def test_a_serial_port_is_one_tool_by_whichever_link_names_it(tmp_path):
    port = tmp_path / "ttyUSB0"
    port.touch()
    by_id = tmp_path / "usb-FTDI_oven-if00"
    by_id.symlink_to(port)
    with (
        hold_tools({str(port): "oven"}, Holder("run R1 of tape-substrate", "stop it")),
        pytest.raises(LineBusy, match="run R1 of tape-substrate"),
        hold_tools({str(by_id): "oven"}, Holder("second", "-")),
    ):
        pass


def _station(tmp_path: Path) -> Path:
    """A station of one plasma cleaner (never contacted: the refusals come first)."""
    path = tmp_path / "line.yaml"
    tools = {"plasma_cleaner": {"driver": "plasma_cleaner", "address": "modbus+tcp://127.0.0.1:9"}}
    path.write_text(yaml.safe_dump({"name": "line-3", "tools": tools}))
    return path


def _project(tmp_path: Path, test: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_line.py").write_text(test)
    return project


def _pytest(station: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--station={station}"]


async def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`command` run to its end, off the event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )


async def test_the_station_tests_refuse_to_start_on_a_line_a_run_drives(store, tmp_path):
    station = _station(tmp_path)
    project = _project(tmp_path, "def test_nothing():\n    pass\n")
    prepared = prepare(station_lot(station, 1))
    async with open_run(store, prepared) as engine:
        tests = await _run(_pytest(station), cwd=project)
        assert tests.returncode == pytest.ExitCode.USAGE_ERROR, tests.stdout + tests.stderr
        assert "passed" not in tests.stdout
        assert (
            f"--station={station}: tool plasma_cleaner at modbus+tcp://127.0.0.1:9 is being "
            f"driven by run {engine.run_id} of plasma-clean (process {os.getpid()} on host "
        ) in tests.stderr
        assert f"stop it with `packline terminate {engine.run_id} --db {store.path}`" in (
            tests.stderr
        )
        # each command as it must be typed, the run's database named (a new user's `show`
        # without it looked in the default database, which did not exist)
        assert f"`packline show {engine.run_id} --db {store.path}` is its view of its tools" in (
            tests.stderr
        )
        # nor does a second run start on the line
        with pytest.raises(BadInput, match=f"being driven by run {engine.run_id} of"):
            async with open_run(store, prepared):
                pass
    assert [run["id"] for run in store.runs()] == []  # neither was recorded: none ran
    finished = await _run(_pytest(station), cwd=project)
    assert finished.returncode == 0, finished.stdout + finished.stderr  # the run let it go


async def test_a_run_refuses_to_start_on_a_line_the_station_tests_drive(tmp_path):
    station = _station(tmp_path)
    started, release = tmp_path / "started", tmp_path / "release"
    project = _project(
        tmp_path,
        "import time\nfrom pathlib import Path\n\n\ndef test_holding():\n"
        f"    Path({str(started)!r}).touch()\n"
        f"    deadline = time.monotonic() + {START_TIMEOUT_S}\n"
        f"    while not Path({str(release)!r}).exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.05)\n",
    )
    tests = await asyncio.create_subprocess_exec(
        *_pytest(station), cwd=project, stdout=PIPE, stderr=STDOUT
    )
    try:
        for _ in range(int(START_TIMEOUT_S / 0.05)):
            if started.exists() or tests.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert started.exists(), "the station tests did not start"
        db = tmp_path / "runs.db"
        run = await _run(
            [sys.executable, "-m", "packline", "run", "plasma-clean", "--station", str(station),
             "--db", str(db), "--confirmed-by", "ci"]
        )  # fmt: skip
        assert run.returncode == 2, run.stdout + run.stderr
        assert (
            "packline: error: station line-3: tool plasma_cleaner at modbus+tcp://127.0.0.1:9 is "
            f"being driven by station tests `pytest --station={station}` (process {tests.pid} "
        ) in run.stderr
        assert "wait until they end, or stop them (Ctrl-C in their terminal)" in run.stderr
    finally:
        release.touch()
        output, _ = await asyncio.wait_for(tests.communicate(), START_TIMEOUT_S)
    assert tests.returncode == 0, output.decode()


def test_every_tool_a_second_holder_shares_with_the_first_is_named_at_once():
    """A trial's second run overlapped the first on three tools and was told of the first
    alone; whoever plans two runs on one line sees every tool they share."""
    first = Holder("run R1 of bump-seal-clean", "stop it with `packline terminate R1`")
    tools = {
        "socket://10.0.3.18:5000": "wire_bonder",
        "modbus+tcp://10.0.3.17:502": "laminator",
        "TCPIP0::10.0.3.21::5025::SOCKET": "dicing_saw",
    }
    with hold_tools(tools, first):
        wanted = {**tools, "TCPIP0::10.0.3.22::5025::SOCKET": "laser"}
        with pytest.raises(LineBusy) as refused, hold_tools(wanted, Holder("second", "-")):
            pass
        message = str(refused.value)
        assert message.startswith("tool ")
        assert message.endswith("; stop it with `packline terminate R1`")
        for address, tool in tools.items():
            assert f"tool {tool} at {address} is being driven by" in message
        assert message.count("run R1 of bump-seal-clean") == 1  # the others: "it too"
        assert "laser" not in message
        # every tool or none: the refused holder left the laser free
        with hold_tools({"TCPIP0::10.0.3.22::5025::SOCKET": "laser"}, Holder("third", "-")):
            pass


def test_a_lock_file_that_cannot_be_opened_names_it_and_what_chooses_its_folder(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The lock directory is `$PACKLINE_LOCK_DIR`'s, so that is what a refusal names; the
    folder of one pytest's workers (`tool_turns`) is none of the user's choosing, so its
    refusal names no variable to set."""
    address = "modbus+tcp://10.0.3.17:502"
    for folder in (tmp_path / "lines", tmp_path / "turns"):
        (folder / _key(address)).mkdir(parents=True)  # a directory where the lock file goes
    monkeypatch.setenv("PACKLINE_LOCK_DIR", str(tmp_path / "lines"))
    named = r"Is a directory \(\$PACKLINE_LOCK_DIR names another lock directory\)$"
    with pytest.raises(PacklineError, match=named), hold_tools({address: "pc"}, Holder("r", "-")):
        pass
    turns = tmp_path / "turns"
    with (
        pytest.raises(PacklineError, match=r"Is a directory$"),
        hold_tools({address: "pc"}, Holder("gw0", "-"), turns),
    ):
        pass
