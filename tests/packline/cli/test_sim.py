"""`packline sim serve` in one process, `packline sim fault` from another: a fault injected into
a served tool, what the line says it does, and a wrong tool or fault refused naming it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from packline.cli import main
from packline.cli.sim import (
    _logged_warnings_reported,
    advertised,
    serial_on_tcp,
    tell_runs_on_line,
)
from packline.drivers.registry import TOOL_KINDS
from packline.sequences.engine import RunStore
from packline.sequences.engine.liveness import this_host
from packline.sim_instruments.servers.control import request_control
from packline.station import load_station, parse_station

from ...sequences.processes import Served


def packline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "packline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fault_from_a_second_terminal_alarms_the_served_tool(tmp_path, capsys):
    """...and the alarmed tool's clear is refused while the served line says it still suffers
    the fault, as an operator's console reads it; repaired, the clear is taken."""
    station = tmp_path / "line.yaml"
    db = str(tmp_path / "runs.db")
    with Served(station, "--time-scale", "300") as served:
        control = Path(yaml.safe_load(station.read_text())["control"])
        assert control.is_socket()
        fault = packline("sim", "fault", "plasma_cleaner", "rf_mismatch", "--station", str(station))
        assert fault.returncode == 0, fault.stderr
        assert fault.stdout.startswith("plasma_cleaner: fault rf_mismatch injected")
        run = packline("run", "plasma-clean", "--station", str(station), "--confirmed-by",
                       "ci-bot", "--json", "--db", db)  # fmt: skip
        summary = json.loads(run.stdout.splitlines()[-1])
        assert summary["wafers"][0]["status"] == "held"
        assert "REFLECTED_POWER" in summary["wafers"][0]["reason"]
        clear_tool = ["clear-tool", summary["run_id"], "plasma_cleaner", "--by", "ana", "--db", db]
        assert main(clear_tool) == 2
        err = capsys.readouterr().err
        assert (
            "plasma_cleaner still suffers rf_mismatch (matching network detuned: reflected power "
            "far above its limit) on the served line: cleared, it would be back in service to "
            "alarm again on the wafers it runs; repair it first (`"
        ) in err
        assert "`), then clear it; nothing cleared" in err
        # the repair it names is the command to run, as printed: the tool, its fault and the
        # run's line, in the database the run is in (not the default one)
        repair = err.partition("repair it first (`")[2].partition("`)")[0]
        assert repair == (
            f"packline sim fault plasma_cleaner rf_mismatch --run {summary['run_id']} --clear "
            f"--db {Path(db).resolve()}"
        )
        clear = packline(*shlex.split(repair)[1:])
        assert clear.stdout.startswith("plasma_cleaner: fault rf_mismatch cleared"), clear.stderr
        # the repair is recorded by the run it was made for, as an injection is (0103)
        run_id = summary["run_id"]
        assert f"recorded in run {run_id} (status held) as a fault-cleared event" in clear.stdout
        store = RunStore(Path(db), create=False)
        try:
            (repaired,) = [e for e in store.events(run_id) if e["kind"] == "fault-cleared"]
            assert (repaired["tool"], repaired["status"]) == ("plasma_cleaner", "rf_mismatch")
        finally:
            store.close()
        assert main(clear_tool) == 0  # repaired: taken
    said = served.log.read_text()
    assert "plasma_cleaner: plasma_cleaner served at modbus+tcp://127.0.0.1:" in said
    assert "plasma_cleaner: fault rf_mismatch injected" in said
    assert "plasma_cleaner: client 127.0.0.1:" in said
    assert " connected to modbus+tcp://127.0.0.1:" in said
    assert " disconnected from modbus+tcp://127.0.0.1:" in said
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
        error = capsys.readouterr().err
        assert (
            "packline: error: sim fault ovn n2_supply: the served line has no tool 'ovn'; its "
            "tools: plasma_cleaner,"
        ) in error
        assert error.endswith(" (did you mean 'oven'?)\n")
        assert main(["sim", "fault", "oven", "rf", "--station", str(station)]) == 2
        assert "the simulated oven has no fault 'rf'; its faults: " in capsys.readouterr().err
        assert main(["sim", "fault", "oven", "N2_suply", "--station", str(station)]) == 2
        assert capsys.readouterr().err.endswith(" (did you mean 'n2_supply'?)\n")
        # a clear of a fault not injected had exited 0: refused, naming what is injected
        clear = ["sim", "fault", "oven", "zone_sensor_break", "--clear", "--station", str(station)]
        assert main(clear) == 2
        assert capsys.readouterr().err == (
            "packline: error: sim fault oven zone_sensor_break --clear: oven has no fault "
            "zone_sensor_break injected (injected on it: nothing); nothing cleared\n"
        )
        assert main(["sim", "fault", "oven", "n2_supply", "--station", str(station)]) == 0
        assert main(clear) == 2
        assert "(injected on it: n2_supply); nothing cleared" in capsys.readouterr().err
        control = Path(str(load_station(station).control))
        asked = {"command": "faults", "tool": "oven"}
        suffered = asyncio.run(request_control(control, asked, 10))
        assert [*suffered["faults"]] == ["n2_supply"]  # the refused clear changed nothing
    assert main(["sim", "fault", "oven", "n2_supply", "--station", str(station)]) == 2
    assert "is `packline sim serve` still running?" in capsys.readouterr().err


def test_a_run_that_drove_no_served_line_names_no_control_socket(tmp_path, capsys):
    """`sim fault --run RUN` reaches the line the run's records name; a dry run's line was in
    its own process."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    assert main(["sim", "fault", "plasma_cleaner", "rf_mismatch", "--run", "last", "--db", db]) == 2
    assert "drove no line `packline sim serve` serves" in capsys.readouterr().err


def test_a_runs_control_socket_is_read_by_the_station_parser_for_sim_fault_and_clear_tool(
    tmp_path, capsys
):
    """`sim fault --run` and `clear-tool` read the served line's control socket from the
    station the run's records keep as a station file is read (`recorded_station`): one that
    does not validate is refused naming the run's station and the key, not a traceback."""
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db, create=False)
    try:
        run = store.run(store.resolve_run("last"))
        station = {**yaml.safe_load(run["station_yaml"]), "control": 5}
        with store.transaction() as written:
            written.execute(
                "UPDATE runs SET station_yaml = ? WHERE id = ?",
                (yaml.safe_dump(station), run["id"]),
            )
    finally:
        store.close()
    said = f"packline: error: run {run['id']} station: control: must be text, got 5"
    fault = ["sim", "fault", "plasma_cleaner", "rf_mismatch", "--run", "last", "--db", str(db)]
    assert main(fault) == 2
    assert said in capsys.readouterr().err
    assert main(["clear-tool", "last", "plasma_cleaner", "--by", "ana", "--db", str(db)]) == 2
    assert said in capsys.readouterr().err


def test_a_station_file_without_a_control_socket_is_bad_input(tmp_path, capsys):
    station = tmp_path / "line.yaml"
    station.write_text(
        "name: l\ntools:\n  pc: {driver: plasma_cleaner, address: 'modbus+tcp://127.0.0.1:1'}\n"
    )
    assert main(["sim", "fault", "pc", "rf_mismatch", "--station", str(station)]) == 2
    assert "names no control socket (`control:`)" in capsys.readouterr().err


def test_a_line_served_beyond_loopback_writes_addresses_another_machine_can_use(tmp_path, capsys):
    station = tmp_path / "line.yaml"
    with Served(station, "--host", "0.0.0.0", "--advertise", "127.0.0.1"):
        text = station.read_text()
        assert "0.0.0.0" not in text
        assert "/dev/" not in text  # no local pty: the serial tools are on socket:// servers
        served = yaml.safe_load(text)["tools"]
        assert served["wire_bonder"]["address"].startswith("socket://127.0.0.1:")
        assert served["oven"]["address"].startswith("modbus+rtu:socket://127.0.0.1:")
        assert main(["station", "check", str(station)]) == 0  # every tool reached so
    assert f"{len(served)} of {len(served)} tools ready" in capsys.readouterr().out


def test_a_station_file_reaching_another_served_lines_tools_is_refused_by_station_check(
    tmp_path, capsys
):
    """Each `sim serve` names its line in every tool's serial number and its station file; a
    file of an earlier line whose addresses (a reused pty) now reach another line's tools is
    refused tool by tool, not reported ready."""
    earlier, later = tmp_path / "earlier.yaml", tmp_path / "later.yaml"
    with Served(earlier):
        pass
    with Served(later):
        first, second = (yaml.safe_load(each.read_text())["tools"] for each in (earlier, later))
        line_ids = [
            {entry["serial_number"].rpartition("-")[2] for entry in tools.values()}
            for tools in (first, second)
        ]
        assert all(len(each) == 1 for each in line_ids)  # a line's one id in each serial
        assert line_ids[0] != line_ids[1]
        assert main(["station", "check", str(later)]) == 0
        capsys.readouterr()
        reused = yaml.safe_load(later.read_text())
        for name, entry in reused["tools"].items():
            entry["serial_number"] = first[name]["serial_number"]
        later.write_text(yaml.safe_dump(reused, sort_keys=False))
        assert main(["station", "check", str(later), "--json"]) == 1
    checks = json.loads(capsys.readouterr().out)
    assert [check["name"] for check in checks] == list(first)
    for check in checks:
        told, reported = (
            first[check["name"]]["serial_number"],
            second[check["name"]]["serial_number"],
        )
        assert check["address_at"].endswith(f" of station file {later}")  # the line to correct
        assert check["problems"] == [
            f"serial number {reported}, but the station file says {told}: another tool answers "
            "at this address (a cable or port moved; on a simulated line, another `sim serve` "
            "took over its pty): correct the address, or use the station file of the line you "
            f"mean; its address is on {check['address_at']}"
        ]


def test_the_advertised_name_replaces_the_listening_host_in_every_address_form():
    entries = {
        "a": {"driver": "plasma_cleaner", "address": "modbus+tcp://0.0.0.0:502"},
        "b": {"driver": "laser", "address": "TCPIP0::0.0.0.0::5025::SOCKET"},
        "c": {"driver": "wire_bonder", "address": "socket://0.0.0.0:4001"},
        "d": {"driver": "oven", "address": "modbus+rtu:socket://0.0.0.0:4002"},
        "e": {"driver": "electroplater", "address": {"cell": "modbus+tcp://0.0.0.0:503",
                                                      "supply": "TCPIP0::0.0.0.0::5026::SOCKET"}},
    }  # fmt: skip
    station = advertised(parse_station({"name": "l", "tools": entries}), "0.0.0.0", "sim-7")
    assert {name: entry.address for name, entry in station.tools.items()} == {
        "a": "modbus+tcp://sim-7:502",
        "b": "TCPIP0::sim-7::5025::SOCKET",
        "c": "socket://sim-7:4001",
        "d": "modbus+rtu:socket://sim-7:4002",
        "e": {"cell": "modbus+tcp://sim-7:503", "supply": "TCPIP0::sim-7::5026::SOCKET"},
    }


def test_serial_tools_go_on_tcp_unless_served_on_gem():
    assert serial_on_tcp(TOOL_KINDS, gem=False)["wire_bonder"] == {"transport": "socket"}
    assert "wire_bonder" not in serial_on_tcp(TOOL_KINDS, gem=True)  # its GEM face is on HSMS
    # a line of some kinds (a method's) has the options of its own tools alone
    assert set(serial_on_tcp(["laser", "wire_bonder"], gem=False)) == {"wire_bonder"}


def laser_wavelength(station: Path) -> str:
    """What the laser of the line `station` names answers `:SOUR:WAV?` on the wire (nm)."""
    _, host, port, _ = str(load_station(station).tools["laser"].address).split("::")
    with socket.create_connection((host, int(port)), timeout=10) as link:
        link.sendall(b":SOUR:WAV?\n")
        return link.makefile().readline().strip()


#: What a refusal of tape-substrate on the default served line says to serve instead.
SERVE_THE_METHOD_S_LINE = (
    "simulated-line is served with the simulated line's default tools: `packline sim serve "
    "--method tape-substrate` serves the line tape-substrate's dry run builds, its laser given "
    "source CO2_10600"
)


def test_tape_substrate_is_refused_by_the_default_served_lines_uv_laser_before_any_step(tmp_path):
    """A new user's station run of tape-substrate on the served line was held at 'drill
    holes': the line's laser is UV and cannot drill the recipe's 150 um holes. The station
    check of the method asks its tools check, as the run does as it connects, and both name
    the laser, its source and the source that drills the holes, and the line to serve
    instead (they had said to find a CO2 laser, not that `sim serve --method` serves one);
    nothing is commanded and nothing is recorded."""
    station, db = tmp_path / "line.yaml", tmp_path / "runs.db"
    with Served(station):
        assert laser_wavelength(station) == "355"
        check = packline("station", "check", str(station), "--method", "tape-substrate",
                         "--db", str(db))  # fmt: skip
        assert check.returncode == 1, check.stderr
        verdict = check.stdout.partition("nothing was commanded\n")[2].splitlines()
        assert verdict[0] == (
            "tape-substrate on default recipe tape-substrate.yaml: refused by its tools check, "
            "as a run would be as it connects:"
        )
        assert verdict[1].startswith("  laser at TCPIP0::127.0.0.1::")
        assert verdict[1].endswith(
            ": holes.diameter_um = 150 um, holes.resist_opening_um = 150 um: outside what this "
            "laser's UV source (355 nm) drills, [10, 50] um: drill them on a laser of a CO2 "
            "source (9400 or 10600 nm), which drills [50, 150] um (claim 000:a)"
        )
        assert verdict[2] == f"  {SERVE_THE_METHOD_S_LINE}"  # what to serve instead
        run = packline("run", "tape-substrate", "--station", str(station), "--confirmed-by",
                       "ci-bot", "--quiet", "--db", str(db))  # fmt: skip
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("packline: error: run not started: laser at TCPIP0::")
        assert "outside what this laser's UV source (355 nm) drills" in run.stderr
        assert run.stderr.rstrip().endswith(
            "; nothing was run and nothing was recorded: run it again with the recipe "
            f"corrected, or on tools that carry it out ({SERVE_THE_METHOD_S_LINE})"
        )
    store = RunStore(str(db))
    try:
        assert store.runs() == []  # nothing recorded
    finally:
        store.close()


def test_a_line_served_for_a_method_is_the_line_its_dry_run_builds(tmp_path):
    """`sim serve --method tape-substrate` serves the tools its recipe drives as its dry run
    builds them (a CO2 laser, asked on the wire), its station file named for the method and
    saying whose line it is, and the method's tools check passes on it."""
    station, db = tmp_path / "line.yaml", tmp_path / "runs.db"
    with Served(station, "--method", "tape-substrate", "--time-scale", "600") as served:
        text = station.read_text()
        assert laser_wavelength(station) == "10600"
        check = packline("station", "check", str(station), "--method", "tape-substrate",
                         "--db", str(db))  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    assert text.splitlines()[0] == (
        "# tape-substrate's line on default recipe tape-substrate.yaml: the tools its dry run "
        "drives, as it builds them, receiving its incoming material (`packline sim serve "
        "--method tape-substrate`)"
    )
    assert served.header.startswith("# packline simulated line (time x600)")
    line = yaml.safe_load(text)
    assert line["name"] == "simulated-line-tape-substrate"
    assert set(line["tools"]) == {
        "laser", "dispenser", "wire_bonder", "dicing_saw", "flip_chip_bonder", "oven", "grinder",
    }  # fmt: skip
    assert line["tools"]["laser"]["serial_number"].startswith("LC-106-")  # its CO2 model's
    assert " laser served at TCPIP0::" in served.log.read_text()
    assert " (source CO2_10600)\n" in served.log.read_text()
    assert check.stdout.rstrip().endswith(
        "tape-substrate on default recipe tape-substrate.yaml: its tools check passed (the tools "
        "it drives carry the recipe out)"
    )


def test_a_wrong_method_or_recipe_to_serve_is_refused_naming_the_choices(capsys):
    """Refused before anything is served (exit 2), as `run` refuses them: the methods, the
    method's reference recipes, and the one a misspelt name may mean; a recipe without a
    method is no method's."""
    assert main(["sim", "serve", "--method", "tape-substrat"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(
        "packline: error: unknown method 'tape-substrat' (did you mean 'tape-substrate'?); "
        "known methods: bump-seal-clean, plasma-clean, sprout-bump-csp, tape-substrate, "
    )
    assert (
        main(["sim", "serve", "--method", "tape-substrate", "--recipe", "tape-substrate-metl"]) == 2
    )
    error = capsys.readouterr().err
    assert error.startswith("packline: error: recipe file tape-substrate-metl: cannot read it")
    assert "or name one of tape-substrate's reference recipes: tape-substrate, " in error
    assert error.rstrip().endswith("(did you mean 'tape-substrate-metal'?)")
    assert main(["sim", "serve", "--recipe", "tape-substrate-metal"]) == 2
    assert capsys.readouterr().err.startswith(
        "packline: error: --recipe tape-substrate-metal: a recipe is a method's; give --method "
        "METHOD with it"
    )
    # an option for a tool the method's line does not serve
    assert (
        main(["sim", "serve", "--method", "tape-substrate", "--sim-option", "laminator:x=1"]) == 2
    )
    assert capsys.readouterr().err.startswith(
        "packline: error: --sim-option laminator:x=1: the served line has no tool 'laminator'; "
        "its tools: wire_bonder, dicing_saw, grinder, laser, oven, dispenser, flip_chip_bonder"
    )


def test_a_fault_injected_on_a_driven_run_is_in_its_records_and_its_wait_for_a_clear_is_said(
    tmp_path,
):
    """The trial: a fault injected from another shell on a run against a served line was not
    in the run's records, whose alarm then read as the chamber's own; and the run waiting for
    a clear read `running` in `runs` and `show`. Now the run records the fault as it learns of
    it, and `runs`, `show` and the dashboard say what it waits for, giving no ETA."""
    from packline.records.dashboard import live_state

    from ...sequences.processes import Controller
    from ...sequences.processes import packline as packline_in

    station = tmp_path / "line.yaml"
    db = tmp_path / "runs.db"
    with Served(station, "--time-scale", "20"):
        run = Controller(db, "run", "plasma-clean", "--station", str(station), "--lot", "8",
                         "--confirmed-by", "ci-bot")  # fmt: skip
        started = run.read_until(lambda e: e.get("step") == "plasma clean")
        assert started is not None, run.process.stderr.read()
        # the form README gives: every run a live process drives on the line is told
        fault = packline_in(db, "sim", "fault", "plasma_cleaner", "rf_mismatch", "--station",
                            str(station), "--by", "bo")  # fmt: skip
        assert fault.returncode == 0, fault.stderr
        run_id = started["run_id"]
        assert fault.stdout.splitlines()[1] == (
            f"run {run_id} records it as a fault-injected event when it next checks for orders"
        )
        waiting = run.read_until(lambda e: e["kind"] == "waiting-for-clear")
        assert waiting is not None
        store = RunStore(db, create=False)
        try:
            kinds = [e["kind"] for e in store.events(run_id)]
            (told,) = [e for e in store.events(run_id) if e["kind"] == "fault-injected"]
            live = live_state(store)["live"][0]
        finally:
            store.close()
        assert "tool-out-of-service" in kinds
        assert (told["tool"], told["status"], told["data"]["by"]) == (
            "plasma_cleaner",
            "rf_mismatch",
            "bo",
        )
        assert told["message"].startswith("packline sim fault by bo at ")
        listed = json.loads(packline_in(db, "runs", "--json").stdout)[0]
        assert listed["status"] == "running"
        wait = listed["waiting_for_clear"]
        assert (wait["tools"], wait["since_t"]) == (["plasma_cleaner"], waiting["t"])
        assert wait["text"].startswith("waiting for a clear of plasma_cleaner since ")
        assert [(f["tool"], f["fault"]) for f in listed["faults_injected"]] == [
            ("plasma_cleaner", "rf_mismatch")
        ]
        shown = packline_in(db, "show", run_id).stdout
        assert (
            f"status running, {wait['text']}; fault injected: plasma_cleaner rf_mismatch"
            in (shown.splitlines()[0])
        )
        assert "fault-injected plasma_cleaner rf_mismatch: packline sim fault by bo at " in shown
        assert live["status"].startswith(f"running, {wait['text']}")
        assert live["eta"] == "no ETA while the run is waiting for a clear"  # not an ETA of now
        assert packline_in(db, "terminate", run_id).returncode == 0
        assert run.finish() == 1
        # a stopped run is told at once, for its resume (of another fault: the line refuses
        # rf_mismatch, injected already)
        again = packline_in(db, "sim", "fault", "plasma_cleaner", "chamber_leak", "--run", run_id)
        assert again.stdout.splitlines()[1] == (
            f"recorded in run {run_id} (status held) as a fault-injected event"
        )
        listed = json.loads(packline_in(db, "runs", "--json").stdout)[0]
        assert listed["waiting_for_clear"] is None
        assert len(listed["faults_injected"]) == 2


def test_a_fault_injected_before_the_run_and_cleared_with_no_run_live_is_in_its_records(
    tmp_path,
):
    """A new user's trial: `sim fault` on a fresh line, then `run`: the run said only `held`,
    `runs --json` had `faults_injected: []`, `show` a plain alarm and `alarms` counted it as
    the chamber's own; `sim fault` said nothing of no run recording it, `station check` said
    the chamber ready without a word of the fault, and the repair made with no run live was
    recorded nowhere. Now `sim fault` says no run is live and who records it, the check names
    the fault, the run records it as it connects, and its resume records the repair
    (decision 0117)."""
    from ...sequences.processes import packline as packline_in

    station = tmp_path / "line.yaml"
    db = tmp_path / "runs.db"
    with Served(station, "--time-scale", "300"):
        fault = packline_in(db, "sim", "fault", "plasma_cleaner", "rf_mismatch", "--station",
                            str(station), "--by", "ana")  # fmt: skip
        assert fault.returncode == 0, fault.stderr
        assert fault.stdout.splitlines()[1:] == [  # no records yet: it says where it looked
            f"no run is live on the line (no records at {db}: a run recorded in another database "
            "is told with its --db): none told; the next run or resume on it records the fault "
            "as it connects"
        ]
        check = packline("station", "check", str(station), "--json")
        (chamber,) = [c for c in json.loads(check.stdout) if c["name"] == "plasma_cleaner"]
        assert (check.returncode, chamber["ready"]) == (0, True)  # a rehearsal may start
        assert [*chamber["injected_faults"]] == ["rf_mismatch"]
        shown = packline("station", "check", str(station)).stdout
        assert shown.rstrip().endswith(
            "faults injected on the served line: plasma_cleaner rf_mismatch"
        )
        run = packline_in(db, "run", "plasma-clean", "--station", str(station), "--lot", "1",
                          "--confirmed-by", "ci-bot", "--json")  # fmt: skip
        summary = json.loads(run.stdout.splitlines()[-1])
        run_id, wafer = summary["run_id"], summary["wafers"][0]["wafer"]
        kinds = [json.loads(line)["kind"] for line in run.stdout.splitlines()]
        # as it connected: before the run's start (decision 0119), the tools' states and the
        # alarm
        assert kinds[:3] == ["fault-injected", "run-started", "tool-state"]
        found = json.loads(run.stdout.splitlines()[0])
        assert (found["tool"], found["status"]) == ("plasma_cleaner", "rf_mismatch")
        assert found["message"].startswith("packline sim fault by ana at ")
        assert found["message"].endswith(", found injected as the run connected")
        (listed,) = json.loads(packline_in(db, "runs", "--json").stdout)
        assert listed["status"] == "held"
        assert [(f["tool"], f["fault"], f["cleared"]) for f in listed["faults_injected"]] == [
            ("plasma_cleaner", "rf_mismatch", None)
        ]
        alarms = json.loads(packline_in(db, "show", run_id, "--json").stdout)["alarms"]
        assert {alarm["injected_fault"] for alarm in alarms} == {"rf_mismatch"}
        (tool,) = json.loads(packline_in(db, "alarms", "--json").stdout)["tools"]
        assert (tool["alarms"], tool["injected"]) == (1, 1)
        # repaired with no run live: none told, and the held run records it as it resumes
        clear = packline_in(db, "sim", "fault", "plasma_cleaner", "rf_mismatch", "--station",
                            str(station), "--clear", "--by", "bo")  # fmt: skip
        assert clear.stdout.splitlines()[1] == (
            f"no run is live on the line (by the records at {db}: a run recorded in another "
            "database is told with its --db): none told; a run whose records have the fault "
            "injected records the clear as its resume connects"
        )
        for command in (
            ("clear-tool", run_id, "plasma_cleaner", "--by", "bo"),
            ("disposition", run_id, wafer, "rework", "--by", "bo", "--reason", "repaired"),
            ("resume", run_id, "--confirmed-by", "ci-bot"),
        ):
            done = packline_in(db, *command)
            assert done.returncode == 0, (command, done.stderr)
        store = RunStore(db, create=False)
        try:
            told = [
                (e["kind"], e["session"], e["data"]["by"])
                for e in store.events(run_id)
                if e["kind"] in ("fault-injected", "fault-cleared")
            ]
        finally:
            store.close()
        assert told == [("fault-injected", 1, "ana"), ("fault-cleared", 2, "bo")]
        (listed,) = json.loads(packline_in(db, "runs", "--json").stdout)
        assert listed["status"] == "completed"
        assert listed["faults_injected"][0]["cleared"] is not None


def test_a_blade_change_in_a_live_run_on_a_served_line_is_told_to_that_run(tmp_path):
    """A new user's crack injected on a served saw stayed injected in the records of the run
    that completed on it, though its own blade preparation had installed a new blade (which
    cures it): the line told the clear to no run (decision 0119). The served line tells the
    runs live on it in its database, as `sim fault` does; the run records the clear at the
    line's time, by nobody, saying how, and reads `(cleared)`."""
    from ...sequences.helpers import reference_with
    from ...sequences.processes import packline as packline_in

    station = tmp_path / "line.yaml"
    db = tmp_path / "runs.db"
    recipe = tmp_path / "thicker-blade.yaml"  # a blade other than the saw's: it is changed
    recipe.write_text(
        yaml.safe_dump(reference_with("bump-seal-clean.yaml", "dicing.blade_thickness_um", "30 um"))
    )
    with Served(station, "--time-scale", "600", "--db", str(db)) as served:
        fault = packline_in(db, "sim", "fault", "dicing_saw", "blade_crack", "--station",
                            str(station), "--by", "ana")  # fmt: skip
        assert fault.returncode == 0, fault.stderr
        run = packline_in(db, "run", "bump-seal-clean", "--station", str(station), "--recipe",
                          str(recipe), "--confirmed-by", "ci-bot", "--json")  # fmt: skip
        summary = json.loads(run.stdout.splitlines()[-1])
        assert summary["status"] == "completed", run.stderr
    run_id = summary["run_id"]
    store = RunStore(db, create=False)
    try:
        told = [e for e in store.events(run_id) if e["kind"] in ("fault-injected", "fault-cleared")]
    finally:
        store.close()
    assert [(e["kind"], e["data"]["by"]) for e in told] == [
        ("fault-injected", "ana"),
        ("fault-cleared", None),
    ]
    cleared = told[1]
    assert cleared["message"].startswith("blade_crack cleared on the tool at ")
    assert cleared["message"].endswith(" (a new blade installed), told by the served line")
    assert cleared["data"]["cleared_on_tool"] == "a new blade installed"
    (listed,) = json.loads(packline_in(db, "runs", "--json").stdout)
    assert listed["faults_injected"][0]["cleared"] == cleared["data"]["cleared_wall"]
    said = served.log.read_text()
    assert "dicing_saw: fault blade_crack cleared on the tool (a new blade installed)" in said
    assert (
        f"dicing_saw: fault blade_crack cleared on the tool: run {run_id} records it as a "
        "fault-cleared event when it next checks for orders"
    ) in said


def test_a_live_run_whose_recorded_station_does_not_read_is_skipped_and_the_others_told(
    tmp_path,
):
    """One live run whose recorded station did not parse refused the whole telling of a fault
    (a StationError), so the run on the line was not told either: it is told, and the other
    named as not told, with why."""
    db = tmp_path / "runs.db"
    for _ in range(2):
        assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    control = tmp_path / "line.sock"
    store = RunStore(db, create=False)
    try:
        on_line, unread = [run["id"] for run in store.runs()]
        for run_id, given in ((on_line, str(control)), (unread, 5)):
            station = {**yaml.safe_load(store.run(run_id)["station_yaml"]), "control": given}
            with store.transaction() as written:  # driven by a live process: this process's parent
                written.execute(
                    "UPDATE runs SET station_yaml = ?, status = 'running', pid = ?, host = ? "
                    "WHERE id = ?",
                    (yaml.safe_dump(station), os.getppid(), this_host(), run_id),
                )
    finally:
        store.close()
    told = tell_runs_on_line(db, control, "plasma_cleaner", "rf_mismatch", "ana", 1.7e9, "inject")
    assert told == [
        f"run {on_line} records it as a fault-injected event when it next checks for orders",
        f"run {unread} not told: its recorded station does not read (run {unread} station: "
        "control: must be text, got 5)",
    ]


def test_no_line_is_advised_where_the_methods_line_gives_the_refused_tool_nothing(tmp_path):
    """The served line's grinder given a 1 um gauge (`--sim-option`), a tape-substrate recipe
    without holes (its laser not driven) grinding to 0.5 um: the grinder refuses it. The check
    advised serving `sim serve --method tape-substrate`, 'whose tools carry its recipes out',
    though that line gives the grinder nothing (only its laser a CO2 source): no line is
    advised, the grinder's refusal saying what to do."""
    station, db = tmp_path / "line.yaml", tmp_path / "runs.db"
    shipped = Path(__file__).parents[3] / "sequences" / "recipes" / "tape-substrate-metal.yaml"
    recipe = tmp_path / "fine.yaml"
    recipe.write_text(shipped.read_text().replace("  tolerance_um: 2 um", "  tolerance_um: 0.5 um"))
    with Served(station, "--sim-option", "grinder:gauge_resolution_um=1"):
        check = packline("station", "check", str(station), "--method", "tape-substrate",
                         "--recipe", str(recipe), "--db", str(db))  # fmt: skip
    assert check.returncode == 1, check.stderr
    verdict = check.stdout.partition("nothing was commanded\n")[2].splitlines()
    assert verdict[1].startswith("  grinder at TCPIP0::")
    assert "finer than this grinder's thickness gauge resolves, 1 um" in verdict[1]
    assert "sim serve --method" not in check.stdout


def test_a_warning_a_served_tool_logs_is_a_line_with_the_wall_time(capsys):
    """A GEM session dropped at T7 is logged by the link, not told by the line's watch: served,
    it reads as every other line of `sim serve` does, with the wall time, and no handler is
    left behind once the line stops."""
    handlers = list(logging.getLogger().handlers)
    with _logged_warnings_reported():
        logging.getLogger("packline.drivers.secs.session").warning(
            "%s at %s: %s; connection dropped", "grinder", "hsms://127.0.0.1:1", "not selected"
        )
    assert logging.getLogger().handlers == handlers
    line = capsys.readouterr().err
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d grinder at hsms://127.0.0.1:1: not selected; connection dropped\n", line
    )
