"""A fault injected on a served line from another process (`packline sim fault --run RUN`) is in
the run's records (sequences/engine/injected_faults.py, decision 0103): the engine records a
`fault-injected` event as it takes the word from its control table, beside the alarm the fault
raises; a stopped run gets it at once, a completed one not at all. Its repair (`--clear`) is
recorded the same way, a `fault-cleared` event."""

from __future__ import annotations

import time

from packline.clock import ScaledClock
from packline.sequences.engine import engine as engine_module
from packline.sequences.engine import injected_faults
from packline.sequences.engine.control import Order
from packline.sequences.engine.events import FAULT_CLEARED, FAULT_INJECTED
from packline.sequences.engine.injected_faults import faults_injected, tell_run
from packline.sequences.engine.liveness import status_text
from packline.sim_instruments.line import SimulatedLine

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
    assert said == f"run {run_id} records it as a fault-injected event as it takes the word"
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
    assert said == f"run {run_id} records it as a fault-cleared event as it takes the word"
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
