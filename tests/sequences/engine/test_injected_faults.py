"""A fault injected on a served line from another process (`packline sim fault --run RUN`) is in the
run's records (sequences/engine/injected_faults.py, decision 0103): the engine records a
`fault-injected` event when it next checks its control table for orders, beside the alarm the fault
raises; a stopped run gets it at once, a completed one not at all. Its repair (`--clear`) is
recorded the same way, a `fault-cleared` event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import pytest

from packline.clock import ScaledClock
from packline.sequences.engine import RunRequest, injected_faults, open_resume, open_run, prepare
from packline.sequences.engine import engine as engine_module
from packline.sequences.engine import keeper as keeper_module
from packline.sequences.engine.clearances import record_clearance
from packline.sequences.engine.control import Order
from packline.sequences.engine.events import FAULT_CLEARED, FAULT_INJECTED
from packline.sequences.engine.injected_faults import faults_injected, found_on_line, tell_run
from packline.sequences.engine.liveness import status_text
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.control import LineControl

from ..test_resume_station import confirm_yes, station_file
from .test_unserved import alarmed_station_run, order

#: When the line injected the fault, as `sim fault` tells the run: 2026-12-04 15:02:25 local.
INJECTED = time.mktime((2026, 12, 4, 15, 2, 25, 0, 0, -1))


def end_the_wait(engine, event) -> None:
    """The operator ends the run's wait for a clear at once (terminate): it ends held."""
    if event.kind == "waiting-for-clear":
        order(engine, "terminate")


async def test_a_fault_injected_from_another_process_is_recorded_beside_its_alarm(store, tmp_path):
    """The trial: the chamber's alarm read as the chamber's own. The word `sim fault` posts is
    recorded as the engine takes it (its control poll, here at once), before the alarm the
    fault raises, naming the tool, the fault, who injected it and when."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "run-started":  # the line injects it then (alarmed_station_run)
                order(engine, FAULT_INJECTED, tool="plasma_cleaner", fault="rf_mismatch",
                      wall=INJECTED)  # fmt: skip
            end_the_wait(engine, event)

        run_id, events = await alarmed_station_run(store, tmp_path, line, operator)

    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds.index(FAULT_INJECTED) < kinds.index("tool-out-of-service")
    (told,) = [e for e in store.events(run_id) if e["kind"] == FAULT_INJECTED]
    assert (told["tool"], told["status"]) == ("plasma_cleaner", "rf_mismatch")
    assert told["message"] == "packline sim fault by ana at 15:02:25, from another process"
    assert told["data"] == {"fault": "rf_mismatch", "by": "ana", "injected_wall": INJECTED}
    assert faults_injected(store, [run_id]) == {
        run_id: [
            {"tool": "plasma_cleaner", "fault": "rf_mismatch", "wall": INJECTED, "cleared": None}
        ]
    }
    # the live event too, which the run's live view and JSON lines print
    (live,) = [e for e in events if e.kind == FAULT_INJECTED]
    assert (live.tool, live.status, live.message) == (
        "plasma_cleaner",
        "rf_mismatch",
        told["message"],
    )


def test_an_order_of_a_fault_needs_its_tool_fault_by_and_time():
    """The control table's row is read back as written; one missing a field is not a
    packline command's (the engine records it as control-ignored)."""
    told = Order(FAULT_INJECTED, by="bo", tool="oven", fault="zone_sensor_break", wall=1.5)
    assert Order.read(told.text()) == told
    assert Order.read('fault-injected {"tool": "oven", "by": "bo", "wall": 1.5}') is None
    assert Order.read('fault-injected {"tool": "oven", "fault": "x", "by": "bo"}') is None
    assert (
        Order.read('fault-injected {"tool": "oven", "fault": "x", "by": "b", "wall": "1"}') is None
    )


async def told_a_stopped_run(store, tmp_path, wall: float, line_did: str) -> tuple[dict, dict]:
    """A station run held waiting for a clear, then told that its line injected (cleared)
    plasma_cleaner's rf_mismatch at `wall` (`line_did`: inject, clear), which it records at
    once (it is stopped): the run's row and the event it recorded."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        run_id, _ = await alarmed_station_run(store, tmp_path, line, end_the_wait)
    kind = {"inject": FAULT_INJECTED, "clear": FAULT_CLEARED}[line_did]
    said = tell_run(store, run_id, "plasma_cleaner", "rf_mismatch", "bo", wall, line_did)
    assert said == f"recorded in run {run_id} (status held) as a {kind} event"
    (kept,) = [e for e in store.events(run_id) if e["kind"] == kind]
    return store.run(run_id), kept


async def test_a_stopped_run_is_told_at_once_and_a_driven_one_through_its_control(
    store, tmp_path, monkeypatch
):
    run, kept = await told_a_stopped_run(store, tmp_path, INJECTED, "inject")
    run_id = run["id"]
    assert kept["message"] == (
        "packline sim fault by bo at 15:02:25, from another process while the run was held: "
        "its resume meets it"
    )
    assert (kept["session"], kept["t"], kept["wall"]) == (1, run["stopped_t"], INJECTED)
    assert kept["data"]["run_status"] == "held"
    # a run another process drives is told through its control table, as a clear is
    monkeypatch.setattr(injected_faults, "is_alive", lambda run: True)
    said = tell_run(store, run_id, "plasma_cleaner", "rf_mismatch", "bo", INJECTED)
    assert (
        said == f"run {run_id} records it as a fault-injected event when it next checks for orders"
    )
    (posted,) = store.take_control(run_id, time.time())
    assert Order.read(posted) == Order(
        FAULT_INJECTED, by="bo", tool="plasma_cleaner", fault="rf_mismatch", wall=INJECTED
    )


async def test_a_completed_run_is_not_told(store, tmp_path):
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        run_id, _ = await alarmed_station_run(store, tmp_path, line, end_the_wait)
    store.update_run(run_id, status="completed")
    said = tell_run(store, run_id, "plasma_cleaner", "rf_mismatch", "bo", INJECTED)
    assert said == f"run {run_id} is completed: not recorded in its records"
    assert faults_injected(store, [run_id]) == {}


#: When the line cleared the fault: 2026-12-04 15:10:02 local.
CLEARED = time.mktime((2026, 12, 4, 15, 10, 2, 0, 0, -1))


async def test_a_fault_cleared_from_another_process_is_recorded_after_its_injection(
    store, tmp_path
):
    """The trial: `show` read the fault injected and never cleared. The repair `sim fault
    --clear` posts is recorded as the injection is, by whom and when, after it."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "run-started":
                for kind, wall in ((FAULT_INJECTED, INJECTED), (FAULT_CLEARED, CLEARED)):
                    order(engine, kind, tool="plasma_cleaner", fault="rf_mismatch", wall=wall)
            end_the_wait(engine, event)

        run_id, events = await alarmed_station_run(store, tmp_path, line, operator)

    told = [e for e in store.events(run_id) if e["kind"] in (FAULT_INJECTED, FAULT_CLEARED)]
    assert [e["kind"] for e in told] == [FAULT_INJECTED, FAULT_CLEARED]
    cleared = told[1]
    assert (cleared["tool"], cleared["status"]) == ("plasma_cleaner", "rf_mismatch")
    assert cleared["message"] == (
        "packline sim fault --clear by ana at 15:10:02, from another process"
    )
    assert cleared["data"] == {"fault": "rf_mismatch", "by": "ana", "cleared_wall": CLEARED}
    (live,) = [e for e in events if e.kind == FAULT_CLEARED]
    assert live.message == cleared["message"]
    # the status `runs`, `show` and the dashboard print names it cleared, not injected still
    (fault,) = faults_injected(store, [run_id])[run_id]
    assert fault["cleared"] == CLEARED
    assert status_text("held", False, injected=[fault]) == (
        "held; fault injected: plasma_cleaner rf_mismatch (cleared)"
    )
    assert Order.read(Order(FAULT_CLEARED, by="bo", tool="oven", fault="x", wall=1.5).text())


async def test_a_stopped_run_records_a_clear_at_once_at_its_stop(store, tmp_path, monkeypatch):
    run, kept = await told_a_stopped_run(store, tmp_path, CLEARED, "clear")
    run_id = run["id"]
    assert kept["message"] == (
        "packline sim fault --clear by bo at 15:10:02, from another process while the run was "
        "held: its resume meets the tool without it"
    )
    assert (kept["session"], kept["t"], kept["wall"]) == (1, run["stopped_t"], CLEARED)
    assert kept["data"] == {
        "fault": "rf_mismatch", "by": "bo", "cleared_wall": CLEARED, "run_status": "held"
    }  # fmt: skip
    monkeypatch.setattr(injected_faults, "is_alive", lambda run: True)
    said = tell_run(store, run_id, "plasma_cleaner", "rf_mismatch", "bo", CLEARED, "clear")
    assert (
        said == f"run {run_id} records it as a fault-cleared event when it next checks for orders"
    )
    (posted,) = store.take_control(run_id, time.time())
    assert Order.read(posted) == Order(
        FAULT_CLEARED, by="bo", tool="plasma_cleaner", fault="rf_mismatch", wall=CLEARED
    )


async def test_the_fault_is_recorded_before_the_alarm_it_raised_and_marks_it(
    store, tmp_path, monkeypatch
):
    """The trial: the alarm of a fault `sim fault` injected mid-step was recorded before the
    fault, the word waiting for the engine's next control poll (no boundary comes before the
    step fails), and `alarms` counted it as the chamber's own. The words posted are taken
    before an alarm is recorded (cause before effect), and the alarm is marked as the fault's
    (decision 0110). The poll is put off here, so that the word is posted as in the trial,
    after the step's boundary, and not taken before the alarm by chance."""
    monkeypatch.setattr(engine_module, "CONTROL_POLL_S", 3600.0)
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "step-started" and event.step == "plasma clean":
                word = Order(FAULT_INJECTED, by="bo", tool="plasma_cleaner",
                             fault="rf_mismatch", wall=INJECTED)  # fmt: skip
                engine.store.post_control(engine.run_id, word.text(), 0.0)
            if event.kind == "waiting-for-clear":
                order(engine, "terminate")

        run_id, _ = await alarmed_station_run(store, tmp_path, line, operator)

    events = store.events(run_id)
    kinds = [e["kind"] for e in events]
    assert kinds.index(FAULT_INJECTED) < kinds.index("tool-out-of-service")
    told = [e for e in events if e["kind"] == FAULT_INJECTED]
    alarms = store.table("alarms", run_id)
    assert alarms
    assert all(told[0]["wall"] <= alarm["wall"] for alarm in alarms)
    assert {alarm["injected_fault"] for alarm in alarms} == {"rf_mismatch"}


@contextlib.asynccontextmanager
async def served(line: SimulatedLine, tmp_path) -> AsyncIterator[tuple[LineControl, str]]:
    """`line` served with its control socket, as `packline sim serve` serves it: the socket
    and the station file that names it."""
    control = LineControl(line.tools, tmp_path / "control", [].append)
    await control.start()
    path = tmp_path / "served.yaml"
    path.write_text(line.station.to_yaml() + f"control: {tmp_path / 'control'}\n")
    try:
        yield control, str(path)
    finally:
        await control.stop()


def line_did(control: LineControl, command: str, by: str) -> float:
    """`packline sim fault plasma_cleaner rf_mismatch [--clear] --by BY` through the line's
    socket: when the line did it, as its reply says."""
    request = {"command": command, "tool": "plasma_cleaner", "fault": "rf_mismatch", "by": by}
    reply = control.handle(json.dumps(request).encode())
    assert reply["ok"], reply
    return float(reply["wall"])


async def held_run(store, path: str, operator=None, lot: int = 2) -> tuple[str, list]:
    """plasma-clean for a lot of `lot` on the station file `path`, held as the chamber alarms
    under its first batch (a lot of 2 is one batch; of 6, W05 and W06 wait for a clear, which
    the operator ends: `end_the_wait`); `operator(engine, event)` sees each event. Its id and
    events."""
    events: list = []
    box: list = []

    def observe(event) -> None:
        events.append(event)
        if operator is not None:
            operator(box[0], event)
        end_the_wait(box[0], event)

    request = RunRequest("plasma-clean", simulated=False, station_path=path, lot=lot,
                         failure_policy="hold")  # fmt: skip
    async with open_run(store, prepare(request), observers=[observe], confirm=confirm_yes) as run:
        box.append(run)
        assert await run.run() == "held"
    return run.run_id, events


def injecting(control: LineControl):
    """An operator of `held_run`: the line injects the chamber's fault as the run starts (`sim
    fault --run`), and the run is told."""

    def inject(engine, event) -> None:
        if event.kind == "run-started":
            wall = line_did(control, "inject", "ana")
            order(engine, FAULT_INJECTED, tool="plasma_cleaner", fault="rf_mismatch", wall=wall)

    return inject


def at(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


async def test_a_fault_injected_before_the_run_is_found_as_it_connects(store, tmp_path):
    """The trial: `sim fault` before `run` told no run (none was live), and the run recorded
    nothing of the fault: `show` read a plain alarm and `alarms` counted it as the chamber's
    own. The run asks the line as it connects and records the fault as one told, before the
    alarm, which is marked as the fault's; the word `sim fault` posts should the run be live
    meanwhile is not recorded twice."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        wall = line_did(control, "inject", "ana")
        posted: list[bool] = []

        def told_too(engine, event) -> None:
            if event.kind == FAULT_INJECTED and not posted:  # the word of a live run, after
                posted.append(True)
                order(engine, FAULT_INJECTED, tool="plasma_cleaner", fault="rf_mismatch",
                      wall=wall)  # fmt: skip

        run_id, events = await held_run(store, path, told_too)

    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds.count(FAULT_INJECTED) == 1
    assert kinds.index(FAULT_INJECTED) < kinds.index("tool-out-of-service")
    (found,) = [e for e in store.events(run_id) if e["kind"] == FAULT_INJECTED]
    assert (found["tool"], found["status"]) == ("plasma_cleaner", "rf_mismatch")
    assert found["message"] == (
        f"packline sim fault by ana at {at(wall)}, found injected as the run connected"
    )
    assert found["data"] == {
        "fault": "rf_mismatch", "by": "ana", "injected_wall": wall, "found_as_run_connected": True
    }  # fmt: skip
    alarms = store.table("alarms", run_id)
    assert alarms
    assert {alarm["injected_fault"] for alarm in alarms} == {"rf_mismatch"}
    assert faults_injected(store, [run_id]) == {
        run_id: [{"tool": "plasma_cleaner", "fault": "rf_mismatch", "wall": wall, "cleared": None}]
    }
    (live,) = [e for e in events if e.kind == FAULT_INJECTED]
    assert live.message == found["message"]


async def test_a_clear_made_while_no_run_was_live_is_found_by_the_resume(store, tmp_path):
    """A fault injected during the run (told through its control table), the run held, the
    fault repaired with no run live (`sim fault --clear --station`: none told): the records
    said it injected still. The resume learns it gone as it connects and records the clear,
    by whom and when the line did it; the injection it records already is not recorded
    again."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        walls: list[float] = []

        def inject(engine, event) -> None:
            if event.kind == "run-started":
                walls.append(line_did(control, "inject", "ana"))
                order(engine, FAULT_INJECTED, tool="plasma_cleaner", fault="rf_mismatch",
                      wall=walls[0])  # fmt: skip

        run_id, _ = await held_run(store, path, inject, lot=6)
        cleared = line_did(control, "clear", "bo")
        assert store.events(run_id)[-1]["kind"] == "run-finished"  # none told
        assert record_clearance(store, run_id, "plasma_cleaner", "bo") is not None
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "held"  # W05, W06 run: the chamber repaired

    told = [e for e in store.events(run_id) if e["kind"] in (FAULT_INJECTED, FAULT_CLEARED)]
    assert [(e["kind"], e["session"]) for e in told] == [(FAULT_INJECTED, 1), (FAULT_CLEARED, 2)]
    # the repair made while the run was stopped comes before the resume's start (decision 0119)
    # at the session's start on the run clock (where the run stopped) and the line's time
    *_, stopped = [e for e in store.events(run_id) if e["session"] == 1]
    resumed = [e for e in store.events(run_id) if e["session"] == 2]
    assert [e["kind"] for e in resumed[:3]] == [FAULT_CLEARED, "run-started", "resume-plan"]
    assert stopped["t"] <= resumed[0]["t"] <= resumed[1]["t"]
    assert resumed[0]["wall"] == cleared
    assert told[1]["message"] == (
        f"packline sim fault --clear by bo at {at(cleared)}, found cleared as the run connected"
    )
    assert told[1]["data"] == {
        "fault": "rf_mismatch", "by": "bo", "cleared_wall": cleared, "found_as_run_connected": True
    }  # fmt: skip
    (fault,) = faults_injected(store, [run_id])[run_id]
    assert (fault["wall"], fault["cleared"]) == (walls[0], cleared)
    assert {alarm["injected_fault"] for alarm in store.table("alarms", run_id)} == {"rf_mismatch"}


async def test_a_fault_found_as_the_run_connects_is_recorded_before_what_the_run_did(
    store, tmp_path
):
    """A fault injected before the run, the run paused as it connected (Ctrl-C, then c): the
    records read the pause, the run's start, then the fault found, as if the line's fault
    came after the run had started and been paused. The fault is written first, at the
    session's start on the run clock and at the time the line injected it, then the pause
    and the start, as they happened (decision 0119); the live stream tells the fault before
    the start too."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        wall = line_did(control, "inject", "ana")
        told: list[str] = []

        def go_on(event) -> None:
            told.append(event.kind)
            if event.kind == "run-started":
                engine.request("resume", "c by bo at the terminal", "bo")

        request = RunRequest("plasma-clean", simulated=False, station_path=path, lot=2,
                             failure_policy="hold")  # fmt: skip
        async with open_run(store, prepare(request), observers=[go_on], confirm=confirm_yes) as (
            engine
        ):
            engine.request("pause", "Ctrl-C by bo at the terminal", "bo")
            assert await engine.run() == "held"
    events = store.events(engine.run_id)
    assert [e["kind"] for e in events[:4]] == [FAULT_INJECTED, "paused", "run-started", "resumed"]
    assert (events[0]["t"], events[0]["wall"]) == (0.0, wall)
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert told[:3] == ["paused", FAULT_INJECTED, "run-started"]
    assert {alarm["injected_fault"] for alarm in store.table("alarms", engine.run_id)} == {
        "rf_mismatch"
    }


async def test_real_tools_are_asked_nothing_of_faults(store, tmp_path, monkeypatch):
    """A station of real tools names no control socket: the run asks nothing but its tools,
    and records no fault (the alarm is the tool's own)."""

    def asked(*args):
        raise AssertionError(f"a line's control socket was asked {args}")

    monkeypatch.setattr(keeper_module, "request_control", asked)
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        line.tools["plasma_cleaner"].inject_fault("rf_mismatch")  # a real chamber's mismatch
        run_id, _ = await held_run(store, station_file(tmp_path, line, "real.yaml"))
    assert faults_injected(store, [run_id]) == {}
    assert {alarm["injected_fault"] for alarm in store.table("alarms", run_id)} == {None}


#: When the line injected the fault again, and when it cleared it before that.
LATER, CLEARED_BETWEEN = INJECTED + 100, INJECTED + 50
#: The data key of each kind's when, and the kind of what the line did.
WALL_KEY = {FAULT_INJECTED: "injected_wall", FAULT_CLEARED: "cleared_wall"}
KIND = {"inject": FAULT_INJECTED, "clear": FAULT_CLEARED}


@pytest.mark.parametrize(
    ("injected", "cleared", "found"),
    [
        pytest.param({"wall": INJECTED, "by": "bo"}, {}, [], id="as-the-records-tell-it"),
        pytest.param({"wall": None, "by": None}, {}, [], id="injected-on-the-tool-itself"),
        pytest.param(
            {"wall": LATER, "by": "ana"},
            {"wall": CLEARED_BETWEEN, "by": "cy"},
            [
                (
                    FAULT_CLEARED,
                    f"packline sim fault --clear by cy at {at(CLEARED_BETWEEN)}, found cleared "
                    "as the run connected",
                    CLEARED_BETWEEN,
                ),
                (
                    FAULT_INJECTED,
                    f"packline sim fault by ana at {at(LATER)}, found injected as the run "
                    "connected",
                    LATER,
                ),
            ],
            id="cleared-and-injected-again",
        ),
        pytest.param(
            {"wall": LATER, "by": "ana"},
            {},
            [
                (
                    FAULT_CLEARED,
                    f"rf_mismatch found cleared as the run connected, by {at(LATER)}, when the "
                    "line injected it again (the served line does not say when or by whom)",
                    LATER,
                ),
                (
                    FAULT_INJECTED,
                    f"packline sim fault by ana at {at(LATER)}, found injected as the run "
                    "connected",
                    LATER,
                ),
            ],
            id="injected-again-after-a-clear-it-does-not-know",
        ),
        pytest.param(
            None,
            {},
            [
                (
                    FAULT_CLEARED,
                    "rf_mismatch found cleared as the run connected (the served line does not "
                    "say when or by whom)",
                    None,
                ),
            ],
            id="served-again",
        ),
        pytest.param(
            None,
            {"wall": CLEARED_BETWEEN, "by": None, "on_tool": "a new blade installed"},
            [
                (
                    FAULT_CLEARED,
                    f"rf_mismatch cleared on the tool at {at(CLEARED_BETWEEN)} (a new blade "
                    "installed), found cleared as the run connected",
                    CLEARED_BETWEEN,
                ),
            ],
            id="cleared-by-the-tool-itself",
        ),
    ],
)
async def test_what_the_line_says_against_what_the_records_tell(
    store, tmp_path, injected, cleared, found
):
    """A held run's records have the fault injected at INJECTED (`sim fault --run`); what its
    resume records as it connects, by what the line says: nothing where the line tells it as
    they do; a clear, then an injection, where the line injected it again since (the clear
    no later than that, where the line does not say when); a clear of a line served again,
    at the resume's own time; a clear the tool made itself (a new blade), when it made it
    and how (decision 0119)."""
    run, _ = await told_a_stopped_run(store, tmp_path, INJECTED, "inject")
    line = {
        "injected": {} if injected is None else {"plasma_cleaner": {"rf_mismatch": injected}},
        "cleared": {"plasma_cleaner": {"rf_mismatch": cleared}} if cleared else {},
    }
    events = found_on_line(store, run["id"], ["plasma_cleaner"], line)
    assert [
        (KIND[did], fields["message"], fields["data"].get(WALL_KEY[KIND[did]]))
        for did, _, fields in events
    ] == found
    assert {tool for _, tool, _ in events} <= {"plasma_cleaner"}
    if "on_tool" in cleared:  # by nobody's order, and how it went
        (data,) = [fields["data"] for _, _, fields in events]
        assert (data["by"], data["cleared_on_tool"]) == (None, cleared["on_tool"])


async def test_a_fault_found_as_the_resume_connects_reads_before_a_later_clear(store, tmp_path):
    """The trial: the line's clear of a held run's fault (on the tool at 03:52:00), then an
    operator's `clear-tool` of the stopped run (03:52:06), then the resume, which found the
    fault cleared as it connected: `show` listed the clear-tool, then the fault cleared six
    seconds before it, as the events were listed by id. Both stand where the run's clock
    stood still between its sessions; they are listed by when they happened (decision 0120),
    by every reader alike."""
    from packline.cli.show import listed_events
    from packline.records.reader import RunRecords

    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        run_id, _ = await held_run(store, path, injecting(control), lot=6)  # W05, W06 wait
        cleared = line_did(control, "clear", "bo")
        await asyncio.sleep(0.01)  # the operator clears the tool after the line cleared it
        clear_tool = record_clearance(store, run_id, "plasma_cleaner", "bo")
        assert clear_tool is not None
        assert clear_tool["wall"] > cleared
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            await resumed.run()

    events = store.events(run_id)
    kinds = [(e["kind"], e["session"]) for e in events if e["kind"] not in ("tool-state",)]
    found = kinds.index((FAULT_CLEARED, 2))
    assert kinds[found - 1 : found + 3] == [
        ("run-finished", 1), (FAULT_CLEARED, 2), ("tool-cleared", 1), ("run-started", 2)
    ]  # fmt: skip
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    exported = RunRecords(store, run_id).events()
    assert list(exported["id"]) == [e["id"] for e in events]
    shown = listed_events(events)
    assert shown.index(next(s for s in shown if " fault-cleared " in s)) < shown.index(
        next(s for s in shown if " tool-cleared " in s)
    )


async def resumed_as_listed_and_printed(store, run_id: str) -> tuple[list, list]:
    """Resume held run `run_id`: the events its records list after the held session's
    `run-finished`, and those its live output told, each as (kind, run clock, wall clock),
    the tools' states left out."""
    told: list = []
    async with open_resume(store, run_id, observers=[told.append], confirm=confirm_yes) as resumed:
        await resumed.run()
    events = [e for e in store.events(run_id) if e["kind"] != "tool-state"]
    ended = [e["kind"] for e in events].index("run-finished")
    listed = [(e["kind"], e["t"], e["wall"]) for e in events[ended + 1 :]]
    return listed, [(e.kind, e.t, e.wall) for e in told if e.kind != "tool-state"]


async def test_a_resume_tells_what_was_recorded_while_it_was_stopped_as_show_lists_it(
    store, tmp_path
):
    """The trial: `sim fault --clear` told the held run (recorded at once), an operator
    cleared the tool, then `packline resume` printed `run-started`, then the clear of the tool
    at an earlier time, and left the fault's clear out, which `show` lists before both. The
    resume tells each event recorded while the run was stopped, before its `run-started`, in
    the order its records list them."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        run_id, _ = await held_run(store, path, injecting(control), lot=6)  # W05, W06 wait
        cleared = line_did(control, "clear", "bo")
        said = tell_run(store, run_id, "plasma_cleaner", "rf_mismatch", "bo", cleared, "clear")
        assert said == f"recorded in run {run_id} (status held) as a {FAULT_CLEARED} event"
        assert record_clearance(store, run_id, "plasma_cleaner", "ana") is not None
        listed, printed = await resumed_as_listed_and_printed(store, run_id)

    assert [kind for kind, _, _ in listed[:4]] == [
        FAULT_CLEARED, "tool-cleared", "run-started", "resume-plan"
    ]  # fmt: skip
    assert printed[:4] == listed[:4]


async def test_a_fault_the_line_cleared_after_a_clear_tool_is_told_after_it(store, tmp_path):
    """An operator's `clear-tool` of a held run, then the line's clear of its fault, told no
    run: the resume found the fault cleared as it connected and told it first, then the
    clear-tool, where `show` lists them by when they happened, the clear-tool first. The
    live output tells what came before the session in the order its records list it."""
    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        run_id, _ = await held_run(store, path, injecting(control), lot=6)  # W05, W06 wait
        clear_tool = record_clearance(store, run_id, "plasma_cleaner", "ana")
        assert clear_tool is not None
        await asyncio.sleep(0.01)  # the line clears the fault after the operator's clear
        assert line_did(control, "clear", "bo") > clear_tool["wall"]
        listed, printed = await resumed_as_listed_and_printed(store, run_id)

    assert [kind for kind, _, _ in listed[:3]] == ["tool-cleared", FAULT_CLEARED, "run-started"]
    assert printed[:3] == listed[:3]
