"""What the records say of a tool out of service (sequences/engine/clearances.py) agrees with
what the run did with it: a tool out of service for a foreign workpiece that a resume's
recovery found empty, and put back in service, is in service in every reading of the records
(the advice, `packline tools`, the report)."""

from __future__ import annotations

from packline.clock import ScaledClock
from packline.records import RunRecords
from packline.records.tooltime import down_periods, tool_time
from packline.sequences.engine import open_resume
from packline.sequences.engine.clearances import (
    ClearWait,
    awaiting_clear,
    clear_wait,
    out_of_service,
    out_of_service_text,
)
from packline.sequences.engine.control import CLEAR_TOOL
from packline.sequences.engine.eta import WAITING_FOR_A_CLEAR, run_eta
from packline.sequences.engine.events import FAULT_INJECTED, SESSION_CUT_OFF
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot, stopped_at
from ..test_keeper import place
from ..test_resume_station import confirm_yes, station_file
from .test_injected_faults import held_run, line_did, served
from .test_unserved import alarmed_station_run, order

FOREIGN = "ENG07"


async def test_a_resume_that_finds_the_chamber_empty_ends_its_foreign_workpiece_outage(
    store, tmp_path
):
    """The trial: bump-seal-clean found another's wafer in the plasma chamber and was stopped;
    resumed on a new line whose chamber is empty, it recovered the chamber, cleaned the lot on
    it and completed, so nothing may still call the chamber out of service."""
    async with SimulatedLine(ScaledClock(1000)) as first:
        await place(first.station, "plasma_cleaner", FOREIGN)
        request = station_lot(station_file(tmp_path, first, "line.yaml"), 3, "bump-seal-clean")
        run_id = await stopped_at(
            store, request, None, event="tool-out-of-service", confirm=confirm_yes
        )
    assert out_of_service(store, run_id)["plasma_cleaner"]["data"]["cause"] == "foreign workpiece"

    async with SimulatedLine(ScaledClock(1000)) as second:
        path = station_file(tmp_path, second, "line2.yaml")
        async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "completed"
    cleaned = [
        s
        for s in store.table("steps", run_id)
        if s["tool"] == "plasma_cleaner" and s["status"] == "completed" and s["session"] == 2
    ]
    assert cleaned  # the chamber worked for the resume
    assert out_of_service(store, run_id) == {}
    assert awaiting_clear(store, run_id) == {}
    assert out_of_service_text(store, run_id) == ""
    records = RunRecords(store, run_id)
    (down,) = down_periods(records).itertuples()
    (recovered,) = [
        e
        for e in store.events(run_id)
        if e["kind"] == "tool-recovered" and e["tool"] == "plasma_cleaner" and e["session"] == 2
    ]
    assert (down.tool, down.stop_t) == ("plasma_cleaner", recovered["t"])
    times = tool_time(records).set_index("tool")
    assert times.loc["plasma_cleaner", "availability"] > 0.5


async def test_a_run_waiting_for_a_clear_says_which_tool_since_when_until_it_is_cleared(
    store, tmp_path
):
    """Decision 0104: the records tell a run that waits for a clear (it had read `running`
    alone), which tool and since when, and no more once the clear runs its wafers again."""
    seen: list = []
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "waiting-for-clear":
                run = store.run(engine.run_id)
                seen.append((event, clear_wait(store, run), run_eta(store, engine.run_id)[2]))
                seen.append(clear_wait(store, {**run, "status": "paused"}))
                line.tools["plasma_cleaner"].clear_fault("rf_mismatch")
                order(engine, CLEAR_TOOL, tool="plasma_cleaner")
                seen.append(clear_wait(store, store.run(engine.run_id)))

        run_id, _ = await alarmed_station_run(store, tmp_path, line, operator)
    (waiting, wait, holding), paused, cleared = seen
    assert wait == ClearWait(("plasma_cleaner",), waiting.t, waiting.wall)
    assert wait.text().startswith("waiting for a clear of plasma_cleaner since ")
    assert holding == WAITING_FOR_A_CLEAR
    assert (paused, cleared) == (None, None)  # a paused run reads paused; a clear ends it
    assert clear_wait(store, store.run(run_id)) is None  # ended


async def test_a_resume_tells_the_session_it_cut_off_and_the_faults_it_found_in_time_order(
    store, tmp_path
):
    """A fault the served line injected while session 1 drove the run, told no run, then the
    session cut off (no end recorded): the resume told the session cut off as it took the run
    over, then the fault found as it connected, where `show` lists the fault first (the line
    did it before the session's last record). The resume tells both in the order its records
    list them, before its `run-started`."""

    def inject_untold(engine, event) -> None:
        if event.kind == "run-started":
            line_did(control, "inject", "ana")

    async with (
        SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line,
        served(line, tmp_path) as (control, path),
    ):
        run_id, _ = await held_run(store, path, inject_untold)
        with store.transaction() as db:  # as a kill leaves it: no end recorded
            db.execute("DELETE FROM events WHERE run_id = ? AND kind = 'run-finished'", (run_id,))
        store.update_run(run_id, status="running", stopped_t=None, stopped_wall=None)
        told: list = []
        async with open_resume(store, run_id, observers=[told.append], confirm=confirm_yes) as run:
            await run.run()

    kinds = {FAULT_INJECTED, SESSION_CUT_OFF, "run-started"}
    listed = [  # the cut-off recorded in session 1, the rest in the resume's own
        (e["kind"], e["t"], e["wall"])
        for e in store.events(run_id)
        if e["kind"] in kinds and (e["session"] == 2 or e["kind"] == SESSION_CUT_OFF)
    ]
    printed = [(e.kind, e.t, e.wall) for e in told if e.kind in kinds]
    assert [kind for kind, _, _ in listed] == [FAULT_INJECTED, SESSION_CUT_OFF, "run-started"]
    assert printed == listed
