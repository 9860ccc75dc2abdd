"""`packline clear-tool` of a run no process drives: the clearance is recorded for its resume,
after the checks that need no tool; anything else is refused and records nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from packline.cli import control, main
from packline.cli.control import refuse_while_faulted
from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.liveness import this_host
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.control import LineControl

FAULT = "plasma_cleaner:rf_mismatch@plasma clean"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


@pytest.fixture
def alarmed(db: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A dry run terminated after its chamber alarmed (the stop policy); its id."""
    run = ["run", "plasma-clean", "--sim", "--lot", "6", "--failure-policy", "stop", "--json"]
    assert main([*run, "--fault", FAULT]) == 1
    run_id: str = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    return run_id


def cleared_events(db: Path, run_id: str) -> list[dict]:
    store = RunStore(db, create=False)
    try:
        return [e for e in store.events(run_id) if e["kind"] == "tool-cleared"]
    finally:
        store.close()


def test_a_clear_of_a_stopped_run_is_recorded_once(db, alarmed, capsys):
    assert main(["clear-tool", alarmed, "plasma_cleaner", "--by", "ana", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "run_id": alarmed,
        "recorded": "clear-tool",
        "tool": "plasma_cleaner",
        "by": "ana",
    }
    (event,) = cleared_events(db, alarmed)
    assert (event["tool"], event["data"]["by"]) == ("plasma_cleaner", "ana")
    # cleared: a second clear finds nothing to clear, and records nothing
    assert main(["clear-tool", alarmed, "plasma_cleaner", "--by", "bo"]) == 2
    error = capsys.readouterr().err
    assert f"tool plasma_cleaner of run {alarmed} does not wait for a clear" in error
    assert len(cleared_events(db, alarmed)) == 1


def test_a_clear_of_a_tool_the_run_does_not_have_is_refused(db, alarmed, capsys, monkeypatch):
    """Checked against the run's own tools before the served line is asked anything: a new
    user's misspelt tool read "the served line would not say whether plasma_cleanr suffers a
    fault (...)", the line's refusal of a tool it does not have."""

    def line_asked(run: dict, tool: str, db: Path) -> None:
        raise AssertionError(f"the line was asked about {tool}")

    monkeypatch.setattr(control, "refuse_while_faulted", line_asked)
    assert main(["clear-tool", alarmed, "plasma_cleanr", "--by", "ana"]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run {alarmed} has no tool 'plasma_cleanr'; its tools: "
        "plasma_cleaner (did you mean 'plasma_cleaner'?); nothing cleared\n"
    )
    assert cleared_events(db, alarmed) == []


def test_a_dry_run_is_not_resumed_while_a_tool_waits_for_a_clear(db, alarmed, capsys):
    """Nobody can clear a tool while a dry run's clock jumps: its wafers would wait out a day
    of line time for the clear and be held, so the resume is refused, naming the command."""
    capsys.readouterr()
    assert main(["resume", alarmed, "--sim"]) == 2
    assert (
        f"plasma_cleaner is out of service until someone clears it (alarm): once its cause "
        f"is fixed, `packline clear-tool {alarmed} plasma_cleaner --by NAME`; clear it first, "
        "nothing resumed"
    ) in capsys.readouterr().err
    store = RunStore(db, create=False)
    try:
        assert store.run(alarmed)["sessions"] == 1  # nothing resumed
    finally:
        store.close()


def test_piped_output_of_the_resume_tells_the_clear_the_disposition_and_the_batches(
    db, alarmed, capsys
):
    assert main(["clear-tool", alarmed, "plasma_cleaner", "--by", "ana"]) == 0
    assert main(["disposition", alarmed, "W01", "rework", "--by", "bo", "--reason", "seen"]) == 0
    capsys.readouterr()
    assert main(["resume", alarmed, "--sim"]) == 1  # W02-W04 stay held
    out = capsys.readouterr().out  # not a terminal: plain lines
    assert "] tool-cleared plasma_cleaner cleared by ana while the run was" in out
    assert "] disposition W01 rework by bo: seen" in out
    assert "] batch-formed plasma_cleaner b1-s2: W01, W05, W06" in out


def test_show_tells_the_runs_events_but_not_each_state_a_tool_reported(db, alarmed, capsys):
    store = RunStore(db, create=False)
    try:
        kinds = {e["kind"] for e in store.table("events", alarmed)}
    finally:
        store.close()
    assert {"tool-state", "tool-out-of-service"} <= kinds
    assert main(["show", alarmed]) == 0
    out = capsys.readouterr().out
    assert "] tool-out-of-service plasma_cleaner: alarmed" in out  # the tool named once
    assert "] tool-state " not in out  # no state listed as an event
    assert " tool state changes not listed (the tools' own states, tool-state events:" in out


async def test_a_clear_the_line_would_not_vouch_for_is_refused_and_an_unreachable_line_is_not(
    tmp_path,
):
    """A line that answers the faults question with a refusal (no such tool on it) does not
    let the clear through as a line that is gone does: the clear is not vouched for."""
    path = tmp_path / "control"
    tools = {"plasma_cleaner": {"driver": "plasma_cleaner", "address": "modbus+tcp://127.0.0.1:1"}}
    station = {"name": "line", "tools": tools, "control": str(path)}
    run = {"id": "R1", "station_yaml": yaml.safe_dump(station)}
    db = tmp_path / "runs.db"
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        control = LineControl(line.tools, path, [].append)
        await control.start()
        try:
            with pytest.raises(BadInput) as refused:
                await asyncio.to_thread(refuse_while_faulted, run, "oven", db)
            await asyncio.to_thread(refuse_while_faulted, run, "plasma_cleaner", db)  # no fault
        finally:
            await control.stop()
    assert str(refused.value) == (
        "run R1: the served line would not say whether oven suffers a fault (the served line "
        "has no tool 'oven'; its tools: plasma_cleaner); nothing cleared"
    )
    await asyncio.to_thread(refuse_while_faulted, run, "oven", db)  # gone: the operator's word


def test_a_clear_of_a_tool_in_service_of_a_running_run_is_refused_up_front(db, capsys):
    """The trial: `clear-tool RUN wire_bonder` while the run was running said `clear-tool
    wire_bonder requested ...` (exit 0) for a tool in service, and the run wrote a tool-cleared
    event; refused now as for a stopped run, nothing ordered, nothing recorded."""
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    with sqlite3.connect(db) as records:  # driven by a live process (the test's parent)
        records.execute(
            "UPDATE runs SET status = 'running', pid = ?, host = ? WHERE id = ?",
            (os.getppid(), this_host(), run_id),
        )
    assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana"]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: tool plasma_cleaner of run {run_id} does not wait for a clear: it is "
        "not out of service (nothing took it out, or it was cleared since); nothing cleared\n"
    )
    store = RunStore(db, create=False)
    try:
        assert store.take_control(run_id, 0.0) == []  # no order for the run to carry out
    finally:
        store.close()
    assert cleared_events(db, run_id) == []
