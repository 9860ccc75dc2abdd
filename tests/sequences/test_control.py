"""Pause, resume, terminate and abort: from another process, from Ctrl-C, and abort + resume."""

from __future__ import annotations

import json
import signal
import socket
from dataclasses import replace

from packline.sequences.engine import RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.control import CLEAR_TOOL, Order
from packline.sequences.engine.events import FAULT_CLEARED, FAULT_INJECTED
from packline.sequences.engine.injected_faults import told_fault

from .processes import Controller, packline


def _status(db, run_id):
    runs = json.loads(packline(db, "runs", "--json").stdout)
    return next(r for r in runs if r["id"] == run_id)["status"]


def test_pause_and_resume_from_another_process(tmp_path):
    """The pause names who gave it (`--by`): in the event's message and data, and in `show`."""
    db = tmp_path / "runs.db"
    controller = Controller(db, "run", "plasma-clean", "--sim", "--lot", "6")
    run_id = controller.next_event()["run_id"]
    pause = packline(db, "pause", run_id, "--by", "ana")
    assert (pause.returncode, pause.stdout) == (0, f"pause requested for run {run_id} by ana\n")
    paused = controller.read_until(lambda e: e["kind"] == "paused")
    assert paused is not None
    assert paused["message"] == "pause requested by ana from another process"
    assert paused["data"] == {"by": "ana"}
    assert _status(db, run_id) == "paused"
    assert "pause requested by ana from another process" in packline(db, "show", run_id).stdout
    # options that set up a new session's line would be ignored by the process that drives it
    refused = packline(
        db, "resume", run_id, "--sim", "--sim-option", "grinder:gauge_resolution_um=1"
    )
    assert refused.returncode == 2
    assert f"run {run_id} is paused in process {controller.process.pid}" in refused.stderr
    assert "--sim-option would be ignored" in refused.stderr
    assert _status(db, run_id) == "paused"
    resumed = packline(db, "resume", run_id, "--by", "ben")
    assert resumed.returncode == 0
    assert f"resume requested for run {run_id} by ben" in resumed.stdout
    assert controller.finish() == 0
    (resumed_event,) = [e for e in controller.events if e["kind"] == "resumed"]
    assert resumed_event["message"] == "resume requested by ben from another process"
    assert resumed_event["data"] == {"by": "ben"}
    kinds = [e["kind"] for e in controller.events]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("run-finished")
    assert _status(db, run_id) == "completed"


def test_a_second_resume_of_a_run_another_process_drives_names_it_and_fails(tmp_path):
    db = tmp_path / "runs.db"
    controller = Controller(db, "run", "plasma-clean", "--sim", "--lot", "6")
    run_id = controller.next_event()["run_id"]
    second = packline(db, "resume", run_id)
    assert second.returncode == 2
    driver = f"process {controller.process.pid} on host {socket.gethostname()}"
    assert f"run {run_id} is already being driven by {driver}" in second.stderr
    assert second.stdout == ""
    assert controller.finish() == 0
    assert _status(db, run_id) == "completed"


def test_terminate_from_another_process_leaves_tools_safe(tmp_path):
    db = tmp_path / "runs.db"
    controller = Controller(db, "run", "plasma-clean", "--sim", "--lot", "6")
    run_id = controller.next_event()["run_id"]
    assert packline(db, "terminate", run_id).returncode == 0
    assert controller.finish() == 1
    assert _status(db, run_id) == "terminated"
    show = json.loads(packline(db, "show", run_id, "--json").stdout)
    statuses = {w["status"] for w in show["wafers"]}
    assert statuses <= {"terminated", "completed"}
    assert "terminated" in statuses
    # every batch cut off by the terminate had its chamber recovered (vented, emptied)
    cut = {
        s["batch"] for s in show["steps"] if s["kind"] == "batch" and s["status"] == "interrupted"
    }
    recovered = [e for e in show["events"] if e["kind"] == "tool-recovered"]
    assert len(recovered) >= len(cut)
    # and a terminated run can be resumed to the end, the new session naming who resumed it
    assert packline(db, "resume", run_id, "--by", "ben", "--quiet").returncode == 0
    assert _status(db, run_id) == "completed"
    show = json.loads(packline(db, "show", run_id, "--json").stdout)
    started = [e for e in show["events"] if e["kind"] == "run-started"]
    assert started[-1]["message"] == "plasma-clean session 2, resumed by ben"
    assert started[-1]["data"]["by"] == "ben"  # a JSON value, not text to parse again


def test_abort_from_another_process(tmp_path):
    db = tmp_path / "runs.db"
    controller = Controller(db, "run", "plasma-clean", "--sim", "--lot", "6")
    run_id = controller.next_event()["run_id"]
    assert packline(db, "abort", run_id, "--by", "ana").returncode == 0
    assert controller.finish() == 1
    assert _status(db, run_id) == "aborted"
    show = json.loads(packline(db, "show", run_id, "--json").stdout)
    stopped = {w["reason"] for w in show["wafers"] if w["status"] == "terminated"}
    assert stopped == {"abort requested by ana from another process"}  # as a terminate names


def test_sigint_to_a_run_without_a_terminal_terminates_it_as_another_processs(tmp_path):
    """A SIGINT no keyboard can have sent (the run has no terminal: a script started it) was
    recorded as 'Ctrl-C by root at the terminal', the operator's."""
    db = tmp_path / "runs.db"
    run = ("run", "plasma-clean", "--sim", "--lot", "6", "--operator", "ana")
    controller = Controller(db, *run, terminal=False)
    run_id = controller.next_event()["run_id"]
    controller.process.send_signal(signal.SIGINT)
    assert controller.finish() == 1
    terminating = [e for e in controller.events if e["kind"] == "terminating"]
    assert terminating
    assert terminating[0]["message"] == "SIGINT by another process"
    assert "data" not in terminating[0]  # in nobody's name: the signal does not say whose
    assert _status(db, run_id) == "terminated"


def test_control_of_a_run_nobody_drives_is_refused(tmp_path):
    db = tmp_path / "runs.db"
    assert packline(db, "run", "plasma-clean", "--sim", "--quiet").returncode == 0
    refused = packline(db, "pause", "last")
    assert refused.returncode == 2
    assert "not being driven" in refused.stderr


async def test_abort_in_an_irreversible_step_holds_the_wafers_at_once(store):
    def abort_in_clean(event):
        if event.kind == "step-started" and event.step == "plasma clean":
            engine.request("abort", "test")

    prepared = prepare(RunRequest("plasma-clean", lot=5))
    async with open_run(store, prepared, observers=[abort_in_clean]) as engine:
        assert await engine.run() == "aborted"
    # held by the abort itself, with the reason, so a disposition need not wait for a resume
    aborted = {w["wafer_id"]: w for w in store.wafers(engine.run_id)}
    assert [aborted[f"W0{i}"]["status"] for i in range(1, 6)] == ["held"] * 4 + ["terminated"]
    assert "plasma clean" in aborted["W01"]["reason"]
    assert "never repeated" in aborted["W01"]["reason"]
    async with open_resume(store, engine.run_id) as resumed:
        assert resumed.session == 2
        assert await resumed.run() == "held"
    wafers = {w["wafer_id"]: w for w in store.wafers(engine.run_id)}
    assert [wafers[f"W0{i}"]["status"] for i in range(1, 6)] == ["held"] * 4 + ["completed"]
    assert "never repeated" in wafers["W01"]["reason"]
    clean = [s for s in store.table("steps", engine.run_id) if s["name"] == "plasma clean"]
    assert sorted(s["wafer_id"] for s in clean) == ["W01", "W02", "W03", "W04", "W05"]
    assert all(s["started_t"] >= 0 for s in clean)
    # the second session's clock continues from the first
    sessions = {s["session"] for s in store.table("steps", engine.run_id)}
    assert sessions == {1, 2}


def test_an_order_reads_back_as_written_and_a_row_no_command_wrote_is_none():
    """The `control` table's rows: what `packline pause --by` and `clear-tool` write is read
    back whole (the engine then records who); anything else is ignored (an event says so)."""
    for order in (Order("pause", by="ana"), Order("resume"), Order(CLEAR_TOOL, "ana", "oven")):
        assert Order.read(order.text()) == order
    assert Order("terminate", by="bo").reason == "terminate requested by bo from another process"
    for text in ("nope", "pause {", "pause [1]", 'clear-tool {"tool": "oven"}'):
        assert Order.read(text) is None, text


def test_a_fault_the_tool_cleared_itself_is_a_word_by_nobody_that_says_how():
    """The served line's word of a dicing saw's new blade (decision 0119): no `by`, as a
    `sim fault --clear` has, but how the tool cleared it; a clear with neither is no word."""
    cured = Order(FAULT_CLEARED, tool="dicing_saw", fault="blade_crack", wall=1.7e9,
                  on_tool="a new blade installed")  # fmt: skip
    assert Order.read(cured.text()) == cured
    assert Order.read(replace(cured, on_tool=None).text()) is None
    # only a fault cleared says how the tool cleared it: no other word carries it
    for other in (FAULT_INJECTED, CLEAR_TOOL, "pause"):
        assert Order.read(replace(cured, command=other, by="bo").text()) is None, other
        assert Order.read(replace(cured, command=other, by="bo", on_tool=None).text())
    told = told_fault(cured)
    assert told["message"].endswith(" (a new blade installed), told by the served line")
    assert told["message"].startswith("blade_crack cleared on the tool at ")
    assert told["data"] == {
        "fault": "blade_crack",
        "by": None,
        "cleared_on_tool": "a new blade installed",
        "cleared_wall": 1.7e9,
    }
