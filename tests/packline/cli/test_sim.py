"""`packline sim serve` in one process, `packline sim fault` from another: a fault injected into
a served tool, what the line says it does, and a wrong tool or fault refused naming it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from packline.cli import main

from ...sequences.processes import Served


def packline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "packline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fault_from_a_second_terminal_alarms_the_served_tool(tmp_path):
    station = tmp_path / "line.yaml"
    with Served(station, "--time-scale", "300") as served:
        control = Path(yaml.safe_load(station.read_text())["control"])
        assert control.is_socket()
        fault = packline("sim", "fault", "plasma_cleaner", "rf_mismatch", "--station", str(station))
        assert fault.returncode == 0, fault.stderr
        assert fault.stdout.startswith("plasma_cleaner: fault rf_mismatch injected")
        run = packline("run", "plasma-clean", "--station", str(station), "--confirmed-by",
                       "ci-bot", "--json", "--db", str(tmp_path / "runs.db"))  # fmt: skip
        summary = json.loads(run.stdout.splitlines()[-1])
        assert summary["wafers"][0]["status"] == "held"
        assert "REFLECTED_POWER" in summary["wafers"][0]["reason"]
        clear = packline("sim", "fault", "plasma_cleaner", "rf_mismatch", "--clear",
                         "--station", str(station))  # fmt: skip
        assert clear.stdout.startswith("plasma_cleaner: fault rf_mismatch cleared")
    said = served.log.read_text()
    assert "plasma_cleaner: plasma_cleaner served at modbus+tcp://127.0.0.1:" in said
    assert "plasma_cleaner: fault rf_mismatch injected" in said
    assert "plasma_cleaner: 1 client connection(s)" in said
    assert "plasma_cleaner: alarm REFLECTED_POWER" in said
    assert "plasma_cleaner: fault rf_mismatch cleared" in said
    assert not control.exists()  # removed with its directory when the line stopped
    assert not control.parent.exists()


def test_a_wrong_tool_or_fault_is_refused_naming_it_and_a_stopped_line_unreachable(
    tmp_path, capsys
):
    station = tmp_path / "line.yaml"
    with Served(station):
        assert main(["sim", "fault", "ovn", "n2_supply", "--station", str(station)]) == 2
        assert (
            "packline: error: sim fault ovn n2_supply: the served line has no tool 'ovn'; its "
            "tools: plasma_cleaner,"
        ) in capsys.readouterr().err
        assert main(["sim", "fault", "oven", "rf", "--station", str(station)]) == 2
        assert "the simulated oven has no fault 'rf'; its faults: " in capsys.readouterr().err
    assert main(["sim", "fault", "oven", "n2_supply", "--station", str(station)]) == 2
    assert "is `packline sim serve` still running?" in capsys.readouterr().err


def test_a_station_file_without_a_control_socket_is_bad_input(tmp_path, capsys):
    station = tmp_path / "line.yaml"
    station.write_text(
        "name: l\ntools:\n  pc: {driver: plasma_cleaner, address: 'modbus+tcp://127.0.0.1:1'}\n"
    )
    assert main(["sim", "fault", "pc", "rf_mismatch", "--station", str(station)]) == 2
    assert "names no control socket (`control:`)" in capsys.readouterr().err
