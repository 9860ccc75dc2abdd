"""How `show` and `wafer` print a measurement: against its limits, with its margin."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from rich.console import Console

from packline.cli import main
from packline.cli.show import (
    decided_history,
    event_rows,
    listed_events,
    measured_text,
    print_run,
    print_wafer,
    record_markers,
    timeline,
    tools_table,
    verdict_text,
)
from packline.cli.summary import advised_for_database, summary_report
from packline.clock import ScaledClock
from packline.sequences.engine import RunRequest, RunStore, open_resume, open_run, prepare
from packline.sequences.engine.clearances import record_clearance
from packline.sequences.engine.confirmations import confirmations_asked
from packline.sequences.engine.dispositions import Decision, record_disposition
from packline.sequences.engine.events import TOOL_STATE, Event
from packline.sequences.engine.progress import PlainLog, clock_text, event_line
from packline.sequences.engine.report import in_stage_at_pause, step_labels, tool_waits
from packline.sim_instruments.line import SimulatedLine
from packline.who_when import clock_time

from ...sequences.engine.test_progress import terminated_in_second_clean
from ...sequences.engine.test_unserved import alarmed_station_run, order
from ...sequences.helpers import station_lot
from ...sequences.test_resume_station import confirm_yes, station_file
from .test_diff import served_plasma_clean

Look = TypeVar("Look")


@pytest.mark.parametrize(
    ("low", "high", "value", "text"),
    [
        (10.0, 15.0, 12.5, "12.5 um in [10, 15]: 2.5 um to spare"),
        (10.0, 15.0, 14.0, "14 um in [10, 15]: 1 um to spare"),
        (10.0, None, 9.5, "9.5 um in [10, -]: 0.5 um outside"),
        (None, 15.0, 16.0, "16 um in [-, 15]: 1 um outside"),
        (None, None, 3.0, "3 um"),
        # a new user's plating read 'wiring thickness by charge 4.99998 um'
        (None, None, 4.99998, "5 um"),
        (4.5, None, 4.99998, "5 um in [4.5, -]: 0.5 um to spare"),
        (None, 8352.0, 8352.0, "8352 um in [-, 8352]: 0 um to spare"),
        (None, None, 123456.7, "123457 um"),
        (None, None, 0.0524, "0.0524 um"),
        # a failing value never reads as its limit ('8 um in [8, -]: 0.0004 um outside')
        (8.0, None, 7.9996, "7.9996 um in [8, -]: 0.0004 um outside"),
        (None, 60.0, 60.0000001, "60.0000001 um in [-, 60]: 1e-07 um outside"),
        # at a low limit it had to pass (a joint at its solder's liquidus): failed, not spare
        (220.0, 308.0, 220.0, "220 um in [220, 308]: 0 um outside"),
    ],
)
def test_a_measurement_reads_with_its_limits_and_margin(low, high, value, text):
    """As recorded: `passed` is the recorder's verdict, which the last case failed though it
    is at its limit (`Wafer.measure`'s `above`)."""
    passed = int(not text.endswith("outside"))
    measurement = {"value": value, "unit": "um", "low": low, "high": high, "passed": passed}
    assert measured_text(measurement) == text


def test_a_reading_its_records_give_a_step_says_it_beside_its_limits():
    """A grinder's gauge reads the package rounded down to its step, and the reading's high
    limit allows for it (decision 0118): the step is shown, so the limit can be told
    (decision 0121); a reading whose records give none reads as before."""
    read = {"value": 413.0, "unit": "um", "low": 412.5, "high": 413.0, "passed": 1}
    assert measured_text({**read, "resolution": 0.5}) == (
        "413 um (read in 0.5 um steps) in [412.5, 413]: 0 um to spare"
    )
    assert measured_text({**read, "resolution": None}) == "413 um in [412.5, 413]: 0 um to spare"


@pytest.mark.parametrize(
    ("low_exclusive", "value", "passed", "text"),
    [
        # a reflow's peak had to pass the liquidus: the open bracket says so (it had read
        # `[220, -]`, as if 220 itself passed)
        (1, 244.8, 1, "244.8 degC in (220, -]: 24.8 degC to spare"),
        # at the limit it had to pass: outside with 0 to spare, no contradiction to read
        (1, 220.0, 0, "220 degC in (220, -]: 0 degC outside"),
        # a limit the value may reach, and one of a record before schema 19: as before
        (0, 220.0, 1, "220 degC in [220, -]: 0 degC to spare"),
        (None, 244.8, 1, "244.8 degC in [220, -]: 24.8 degC to spare"),
    ],
)
def test_a_low_limit_the_value_had_to_pass_reads_open(low_exclusive, value, passed, text):
    """`Wafer.measure(..., above=True)` judges a value that must pass its low limit; its
    records say so (`low_exclusive`, decision 0129), and `show` and `wafer` write that limit
    open, `(220, -]`."""
    measurement = {
        "value": value,
        "unit": "degC",
        "low": 220.0,
        "low_exclusive": low_exclusive,
        "high": None,
        "passed": passed,
    }
    assert measured_text(measurement) == text


def _step(
    step_id: int, key: str, started_t: float, kind: str = "step", started_wall: float | None = None
) -> dict:
    """A step record (started on the wall clock as on the run clock, unless told)."""
    return {
        "id": step_id,
        "key": key,
        "name": key.rpartition("#")[0],
        "kind": kind,
        "tool": "wet_bench",
        "batch": None,
        "stage": None,
        "status": "completed",
        "error": None,
        "started_t": started_t,
        "started_wall": started_t if started_wall is None else started_wall,
    }


def _measured(step_id: int | None, name: str, t: float) -> dict:
    return {
        "step_id": step_id,
        "name": name,
        "value": 7.0,
        "unit": "um",
        "low": None,
        "high": None,
        "passed": 1,
        "t": t,
        "wall": t,
    }


def labelled(steps: list[dict]) -> list[dict]:
    """The step records with the run's labels, as run_report and wafer_history give them."""
    labels = step_labels(steps)
    return [{**step, "label": labels[step["id"]]} for step in steps]


def test_a_measurement_is_listed_under_the_step_that_took_it_not_the_next_ones():
    """The plating's measurements are recorded as it ends, the instant the next steps start
    (sprout-bump-csp's metal support): they read under `electroplate wiring`, before
    `strip mould` and the steps that started with it; a measurement of no known step falls in
    by its own time."""
    steps = [
        _step(26, "load in plating cell#0", 1411.71),
        _step(27, "electroplate wiring#0", 1411.71),
        _step(36, "unload from plating cell#0", 2418.71),
        _step(37, "use wet_bench#0", 2418.71, kind="stage"),
        _step(43, "strip mould#0", 2418.71),
        _step(45, "etch seed#0", 2836.71),
        _step(49, "apply flux#0", 3046.71),
    ]
    measurements = [
        _measured(27, "wiring thickness min", 2418.71),
        _measured(43, "resist left", 2808.71),
        _measured(45, "patterns cut through (CU-ETCH)", 3046.71),
        _measured(None, "by the sequence", 2900.0),
    ]
    alarms = [
        {
            "step_id": 45,
            "t": 3046.71,
            "code": "E1",
            "tool": "wet_bench",
            "message": "x",
            "injected_fault": None,
        }
    ]
    table = timeline(labelled(steps), measurements, alarms, []).__rich__()
    assert [str(cell) for cell in table.columns[1].cells] == [
        "step load in plating cell",
        "step electroplate wiring",
        "measured wiring thickness min",
        "step unload from plating cell",
        "step use wet_bench",
        "step strip mould",
        "measured resist left",
        "step etch seed",
        "measured patterns cut through (CU-ETCH)",
        "alarm E1",
        "measured by the sequence",
        "step apply flux",
    ]


def test_the_tools_say_their_driver_and_address_by_session_where_there_were_two():
    """Which tools ran over GEM: only the report and the export had said."""
    oven = {
        "name": "oven",
        "driver": "gem",
        "address": "hsms://127.0.0.1:5000",
        "vendor": "packline",
        "model": "BO-4",
        "sim_options": {},
    }
    one = tools_table([{**oven, "session": 1}], sessions=1).__rich__()
    assert [str(c.header) for c in one.columns] == ["tool", "driver", "address", "model"]
    assert [str(next(iter(c.cells))) for c in one.columns] == [
        "oven",
        "gem",
        "hsms://127.0.0.1:5000",
        "packline BO-4",
    ]
    two = tools_table(
        [{**oven, "session": 1}, {**oven, "session": 2, "address": "hsms://127.0.0.1:5001"}],
        sessions=2,
    ).__rich__()
    assert [str(cell) for cell in two.columns[0].cells] == ["1", "2"]
    assert [str(cell) for cell in two.columns[3].cells] == [
        "hsms://127.0.0.1:5000",
        "hsms://127.0.0.1:5001",
    ]


def test_the_tools_say_the_sim_options_each_session_s_command_gave_them():
    """A dry run's resume starts a fresh line as its own command says (decision 0118): each
    session's tools say what their command gave them (decision 0121), the column there only
    where a session's command gave any."""
    grinder = {
        "name": "grinder",
        "driver": "grinder",
        "address": "TCPIP0::127.0.0.1::5025::SOCKET",
        "vendor": "packline",
        "model": "GR-2",
    }
    given = {"gauge_resolution_um": 0.5}
    table = tools_table(
        [
            {**grinder, "session": 1, "sim_options": given},
            {**grinder, "session": 2, "sim_options": {}},
        ],
        sessions=2,
    ).__rich__()
    assert str(table.columns[-1].header) == "--sim-option"
    assert [str(cell) for cell in table.columns[-1].cells] == ["gauge_resolution_um=0.5", ""]


def test_a_measurement_without_limits_reads_recorded_not_pass():
    """Nothing judged a measurement without limits: `show` had printed `pass` beside it."""
    unjudged = {"low": None, "high": None, "passed": 1}
    assert verdict_text(unjudged) == "recorded"
    assert verdict_text({**unjudged, "low": 4.5}) == "pass"
    assert verdict_text({**unjudged, "high": 1.0, "passed": 0}) == "FAIL"


def _verdicts(measurements) -> dict[str, tuple[object, str]]:
    """Each measurement's `passed` and `verdict` by name (its label, in a summary's dict)."""
    if isinstance(measurements, dict):
        return {name: (m["passed"], m["verdict"]) for name, m in measurements.items()}
    return {m["name"]: (m["passed"], m["verdict"]) for m in measurements}


def test_an_alarm_an_injected_fault_raised_is_marked_as_the_faults(tmp_path):
    """A dry run's `--fault plasma_cleaner:rf_mismatch` raises the chamber's REFLECTED_POWER:
    the wafer's timeline names the fault beside the alarm (decision 0110), as `show --json`
    and `packline alarms` mark it; it had read `alarm REFLECTED_POWER`, as the tool's own."""
    db = str(tmp_path / "runs.db")
    run = ["run", "plasma-clean", "--sim", "--lot", "1", "--quiet", "--db", db]
    assert main([*run, "--fault", "plasma_cleaner:rf_mismatch"]) == 1
    store = RunStore(db, create=False)
    try:
        report = summary_report(store, store.resolve_run("last"))
    finally:
        store.close()
    table = timeline(report["steps"], [], report["alarms"], []).__rich__()
    whats = [str(cell) for cell in table.columns[1].cells]
    assert "alarm REFLECTED_POWER (injected fault rf_mismatch)" in whats


def test_json_says_a_measurement_without_limits_was_not_judged(tmp_path, capsys):
    """`run --json` (its measurement events and summary), `show --json` and `wafer --json`
    give a value without limits `passed` null and `verdict` `recorded`, as `show` reads it,
    and a judged one its verdict: they had said `"passed": true` for a value nothing judged,
    and a script counting passes overcounted."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--json", "--db", db]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    events = {e["data"]["name"]: e["status"] for e in lines if e["kind"] == "measurement"}
    assert (events["residue before"], events["plasma process time"]) == ("recorded", "pass")
    (wafer,) = lines[-1]["wafers"]
    answers = [_verdicts(wafer["measurements"])]
    assert main(["show", "last", "--json", "--db", db]) == 0
    answers.append(_verdicts(json.loads(capsys.readouterr().out)["measurements"]))
    assert main(["wafer", "W01", "--json", "--db", db]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    answers.append(_verdicts(history["measurements"]))
    for verdicts in answers:
        assert verdicts["residue before"] == (None, "recorded")
        assert verdicts["plasma process time"] == (True, "pass")


def test_every_reader_tells_a_peak_that_had_to_pass_the_liquidus(tmp_path, capsys):
    """bump-seal-clean's plated reference's reflow peak had to pass the balls' liquidus, not
    reach it (`above=True`), and `show` read `344.8 degC in [314, -]`, as if 314 itself
    passed: its records say so (`low_exclusive`, decision 0129), `show` and `wafer` write the
    limit open, `(314, -]`, and `run --json`'s events, `show --json` and `wafer --json` give
    it."""
    db = str(tmp_path / "runs.db")
    run = ["run", "bump-seal-clean", "--sim", "--recipe", "bump-seal-clean-solder-plated"]
    assert main([*run, "--json", "--db", db]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    events = [e["data"] for e in lines if e["kind"] == "measurement"]
    said = {(e["name"], e["low"], e["low_exclusive"]) for e in events}
    assert ("reflow peak", 314.0, 1) in said
    assert ("time above liquidus", 20.0, 0) in said
    assert all(e["low_exclusive"] is None for e in events if e["low"] is None)
    (wafer,) = lines[-1]["wafers"]
    answers = [wafer["measurements"]]
    assert main(["show", "last", "--json", "--db", db]) == 0
    shown = json.loads(capsys.readouterr().out)
    answers.append(shown["wafers"][0]["measurements"])
    assert {m["low_exclusive"] for m in shown["measurements"] if m["name"] == "reflow peak"} == {1}
    assert main(["wafer", "W01", "--json", "--db", db]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert {m["low_exclusive"] for m in history["measurements"] if m["name"] == "reflow peak"} == {
        1
    }
    for measured in answers:
        peak = measured["reflow peak at reflow balls"]
        assert (peak["low"], peak["low_exclusive"], peak["high"]) == (314.0, 1, None)
        assert measured["time above liquidus at reflow balls"]["low_exclusive"] == 0
    for command in (["show", "last"], ["wafer", "W01"]):
        assert main([*command, "--db", db]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert re.search(
            r"measured reflow peak │ [\d.]+ degC in \(314, -\]: [\d.]+ degC to spare", out
        )
        assert re.search(r"measured time above liquidus │ [\d.]+ s in \[20, 300\]", out)


def test_a_step_run_again_says_which_attempt_and_session_each_run_is():
    """A served line's plasma clean failed twice and was reworked each time: its three runs
    had all read `step plasma clean`, told apart only by the events below the table. Each now
    says its attempt and session; a skip says why in its status, a step run once nothing."""

    def run(step_id: int, key: str, t: float, status: str, session: int) -> dict:
        return {**_step(step_id, key, t), "status": status, "session": session}

    steps = [
        run(1, "load#0", 0.0, "completed", 1),
        run(2, "plasma clean#0", 10.0, "failed", 1),
        run(3, "load#0", 20.0, "skipped", 2),
        run(4, "plasma clean#0", 30.0, "failed", 2),
        run(5, "plasma clean#0", 40.0, "completed", 3),
    ]
    table = timeline(labelled(steps), [], [], []).__rich__()
    assert [str(cell) for cell in table.columns[1].cells] == [
        "step load",
        "step plasma clean (attempt 1, session 1)",
        "step load",
        "step plasma clean (attempt 2, session 2)",
        "step plasma clean (attempt 3, session 3)",
    ]


def test_a_wafer_that_never_started_a_step_says_why_its_timeline_is_empty():
    """A wafer held before its first step (no tool in service for it) had an empty table
    under its title, as if its records were lost."""
    table = timeline([], [], [], []).__rich__()
    assert table.row_count == 0
    assert str(table.caption) == (
        "no step recorded: the wafer has started none (queued for its first tool while "
        "the run goes on, or held, stopped or cut off before it)"
    )


def test_an_event_is_listed_as_the_run_printed_it_naming_its_tool():
    """A new user's `show` of a solder-plated run listed `batch-formed  b1-s1: W01, ...`: the
    tool was left out, so the oven's batches could not be told from the plasma cleaner's."""
    batch = Event(
        "batch-formed", "run-1", t=2665.1, wall=0.0, tool="plasma_cleaner", message="b1-s1: W01"
    )
    state = Event(TOOL_STATE, "run-1", t=2665.1, wall=0.0, tool="plasma_cleaner", message="idle")
    printed = io.StringIO()
    PlainLog(Console(file=printed, width=40))(batch)
    rows = [
        {"t": e.t, "kind": e.kind, "wafer_id": e.wafer, "tool": e.tool, "status": e.status,
         "message": e.message, "wall": e.wall, "data": {}}
        for e in (batch, state)
    ]  # fmt: skip
    assert listed_events(rows) == [printed.getvalue().rstrip("\n")]
    assert listed_events(rows) == ["[0:44:25] batch-formed plasma_cleaner b1-s1: W01"]


def test_an_events_status_is_recorded_beside_its_message_and_listed_as_the_run_printed_it(
    tmp_path, capsys
):
    """A new user's `show` listed `claim-check 3 conditions on 2 wafers` where the run had
    printed `claim-check passed ...`: the status of an event with a message was not kept."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--db", db]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert any(line.endswith("] claim-check passed: 3 conditions on 2 wafers") for line in printed)
    assert main(["show", "last", "--db", db]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert listed == [line for line in printed if "] wafer-finished " not in line]  # wafers' own
    assert main(["show", "last", "--db", db, "--json"]) == 0
    events = {e["kind"]: e for e in json.loads(capsys.readouterr().out)["events"]}
    assert (events["claim-check"]["status"], events["run-finished"]["status"]) == (
        "passed",
        "completed",
    )
    assert events["run-finished"]["message"] == ""  # its status is not its message


def test_what_was_recorded_of_a_stopped_run_says_when_it_was_made(tmp_path, capsys):
    """A new tester's run, held then cleared and disposed: `show` listed its tool-cleared and
    both disposition events at the run's end, `[0:42:42]` each, made seconds apart (its clock
    stands still while it is stopped; only a fault-cleared's message said a time of day).
    Each event recorded while the run was stopped gives the time of day it was made, in one
    form, beside the run clock; the run's own events do not."""
    db = str(tmp_path / "runs.db")
    fault = "--fault=plasma_cleaner:rf_mismatch@plasma clean"
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", fault, "--db", db]) == 1
    capsys.readouterr()
    store = RunStore(db)
    try:
        (run,) = store.runs()
        run_id = str(run["id"])
        ended = store.run(run_id)["stopped_t"]
        record_clearance(store, run_id, "plasma_cleaner", "ana")
        record_disposition(store, run_id, "W01", Decision.REWORK, "ana", "looks fine")
        record_disposition(store, run_id, "W01", Decision.SCRAP, "bo", "chipped")
        events = store.events(run_id)
    finally:
        store.close()
    stopped = events[[e["kind"] for e in events].index("run-finished") + 1 :]
    assert [(e["kind"], e["t"]) for e in stopped] == [
        ("tool-cleared", ended),
        ("disposition", ended),
        ("disposition", ended),
    ]
    assert main(["show", run_id, "--db", db]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    with_a_time_of_day = [line for line in listed if " at " in line.split("]")[0]]
    assert len(with_a_time_of_day) == len(stopped)
    for line, event in zip(with_a_time_of_day, stopped, strict=True):
        assert line.startswith(
            f"[{clock_text(ended)} at {clock_time(event['wall'])}] {event['kind']} "
        )


def test_a_wafers_row_of_a_clear_made_while_the_run_stood_still_gives_its_time_of_day():
    """A retrial's W02, held for want of the saw, read `dicing_saw cleared` at the run's end
    on the run clock alone, which the clear, made later, does not tell: a row of the wafer's
    timeline made while no session drove the run gives its time of day too, as `show`'s list
    of events does; one made by a session does not."""
    out = {"id": 6, "t": 45.0, "wall": 995.0, "session": 1, "kind": "tool-out-of-service",
           "tool": "dicing_saw", "wafer_id": None, "data": {"until_cleared": True},
           "message": "alarmed"}  # fmt: skip
    held = {"id": 7, "t": 50.0, "wall": 1000.0, "session": 1, "kind": "held", "tool": None,
            "wafer_id": "W02", "data": {"tool_unavailable": True, "tools": ["dicing_saw"]},
            "message": "held"}  # fmt: skip
    cleared = {"id": 9, "t": 60.0, "wall": 5000.0, "session": 1, "kind": "tool-cleared",
               "tool": "dicing_saw", "wafer_id": None, "message": "by ana",
               "data": {"run_status": "held", "cleared": True}}  # fmt: skip
    rows = tool_waits([out, held, cleared], [])["W02"]
    assert [row["what"] for row in rows] == ["held for want of a tool", "dicing_saw cleared"]
    table = timeline([], [], [], [], rows).__rich__()
    at = [str(cell) for cell in table.columns[0].cells]
    assert at == ["0:00:50", f"0:01:00 at {clock_time(5000.0)}"]


def test_a_wafer_is_named_even_where_its_message_begins_with_its_id():
    """Only a tool's name at the head of its event's message is not repeated: a wafer's id
    (the user's, `rework` as well as `W01`) always is."""
    line = event_line(0.0, "disposition", "rework", None, "rework by bo: seen")
    assert line == "[0:00:00] disposition rework rework by bo: seen"


def test_a_confirmation_reads_where_it_was_asked_with_its_answer():
    """A wafer held for want of an operator read as if nothing stopped it after its load: the
    confirmation is a row of its own, between the steps it came between, though a dry run's
    steps all start at one instant of its clock."""
    steps = [
        _step(1, "open door#0", 0.0, started_wall=100.0),
        {**_step(2, "load#0", 0.0, started_wall=100.1), "batch": "b7-s1"},
        _step(3, "close door#0", 0.0, started_wall=100.3),
    ]
    asked = {"id": 1, "run_id": "R1", "wafer_id": "W01", "step_id": None, "t": 0.0,
             "wall": 100.2, "prompt": "wafers W01 seated", "confirmed": 0,
             "by": "no operator"}  # fmt: skip
    table = timeline(
        labelled(steps), [], [], confirmations_asked([asked], [], driven=False)
    ).__rich__()
    rows = list(zip(*(map(str, column.cells) for column in table.columns), strict=True))
    assert [row[1:] for row in rows] == [
        ("step open door", "wet_bench", "completed"),
        ("step load", "wet_bench, batch b7-s1", "completed"),  # which wafers went in together
        ("confirmation", "wafers W01 seated", "declined: no operator was there to answer it"),
        ("step close door", "wet_bench", "completed"),
    ]


@pytest.mark.parametrize(
    ("command", "stopped"), [("terminate", "terminated"), ("abort", "aborted")]
)
async def test_a_confirmation_the_run_stopped_at_reads_unanswered_where_it_was_asked(
    tmp_path, capsys, command, stopped
):
    """ana terminated the run from another terminal while its question waited at the run's
    terminal: the question ended unanswered, and nothing of it was left in the records, so
    the wafers' timelines read as if nothing had been asked. Each wafer asked now has an event
    saying the question was open and why it went unanswered, which `show` lists and the
    wafer's timeline (`show`, `wafer`, and their JSON) shows where it was asked."""
    db = tmp_path / "runs.db"
    store = RunStore(db)
    engines = []
    reason = f"{command} requested by ana from another process"

    async def nobody_answers(wafers: str, prompt: str) -> tuple[bool, str]:
        engines[0].request(command, reason, "ana")
        await asyncio.wait_for(asyncio.Event().wait(), 30)  # ended by the stop, or fails
        raise AssertionError("the stop did not end the open question")

    try:
        async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
            station = station_file(tmp_path, line, "line.yaml")
            request = station_lot(station)
            async with open_run(store, prepare(request), confirm=nobody_answers) as engine:
                engines.append(engine)
                assert await engine.run() == stopped
        run_id = engine.run_id
        wafers = [w["wafer_id"] for w in store.wafers(run_id)]
        rows = _wafer_rows(store, run_id, "W02")
        assert store.table("confirmations", run_id) == []  # nobody answered: no answer
    finally:
        store.close()
    prompt = f"wafers {', '.join(wafers)} seated in the chamber slots"
    said = f"unanswered: the run was {stopped} ({reason})"
    asked = rows.index(("confirmation", prompt, said))  # where it was asked: after the load
    assert rows[asked - 1][0] == "step load"
    assert not [row for row in rows if row[0] == "confirmation" and row[2] != said]
    assert main(["show", run_id, "--db", str(db)]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "unanswered" in line]
    for wafer in wafers:  # among the run's events, as the run printed them
        assert any(
            line.endswith(f"confirmation-unanswered {wafer} confirmation {prompt!r} {said}")
            for line in listed
        ), listed
    assert main(["show", run_id, "--json", "--db", str(db)]) == 0
    shown = json.loads(capsys.readouterr().out)["confirmations"]  # every one asked, with its end
    assert sorted(c["wafer_id"] for c in shown) == sorted(wafers)
    for wafer in wafers:
        (unanswered,) = [c for c in shown if c["wafer_id"] == wafer]
        shown_keys = ("prompt", "confirmed", "by", "outcome", "stopped", "reason")
        assert {k: unanswered[k] for k in shown_keys} == {
            "prompt": prompt,
            "confirmed": None,  # nobody answered it
            "by": None,
            "outcome": "unanswered",
            "stopped": stopped,
            "reason": reason,
        }
        assert unanswered["answer"] == said
        assert main(["wafer", wafer, "--json", "--db", str(db)]) == 0
        (history,) = json.loads(capsys.readouterr().out)
        assert history["confirmations"] == [unanswered]


def _runs_of_wafers(db, *lots: str) -> list[str]:
    """A dry run of plasma-clean for each lot of wafer ids (`--wafers`, a station lot's ids
    numbered after its run id, as `101813-c46c-W06`); their run ids, oldest first."""
    run = ["run", "plasma-clean", "--sim", "--quiet", "--db", str(db), "--wafers"]
    for wafers in lots:
        assert main([*run, wafers]) == 0
    store = RunStore(db)
    try:
        return [run["id"] for run in reversed(store.runs())]
    finally:
        store.close()


def test_a_wafer_is_found_by_the_end_of_its_id_as_disposition_takes_it(tmp_path, capsys):
    """A new user's `packline wafer W06` said `in no run`, though their station lot had
    `101813-c46c-W06`, which `disposition RUN W06` took: a unique end of an id names it."""
    db = tmp_path / "runs.db"
    (station_lot,) = _runs_of_wafers(db, "101813-c46c-W05,101813-c46c-W06")
    capsys.readouterr()
    assert main(["wafer", "W06", "--db", str(db), "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert (history["wafer_id"], history["run_id"]) == ("101813-c46c-W06", station_lot)
    assert main(["wafer", "c46c-W06", "--db", str(db)]) == 0
    assert f"wafer 101813-c46c-W06 in run {station_lot} (" in capsys.readouterr().out


def test_a_board_beside_a_wafer_has_its_history_and_show_names_it(tmp_path, capsys):
    """A new user's `packline wafer BW01` said `in no run` of the board bump-seal-clean
    mounts W01's chips on, and `show` never named it: the board's history is W01's steps at
    the tool that changed it, `beside wafer W01`, and `show` names it under W01."""
    db = str(tmp_path / "runs.db")
    recipe = "bump-seal-clean-solder-mounted"
    assert main(["run", "bump-seal-clean", "--sim", "--recipe", recipe, "--quiet", "--db", db]) == 0
    capsys.readouterr()
    assert main(["wafer", "BW01", "--db", db, "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert (history["wafer_id"], history["beside"], history["status"]) == (
        "BW01",
        "W01",
        "completed",
    )
    assert {step["tool"] for step in history["steps"]} == {"flip_chip_bonder"}
    assert "mount chips" in {step["name"] for step in history["steps"]}
    assert history["measurements"]
    assert {m["wafer_id"] for m in history["measurements"]} == {"W01"}
    assert main(["wafer", "BW1", "--db", db]) == 2
    assert "did you mean 'BW01'?" in capsys.readouterr().err
    assert main(["wafer", "BW01", "--db", db]) == 0
    out = capsys.readouterr().out
    assert ": beside wafer W01, completed; its steps are W01's" in out
    assert f"--wafer BW01 --db {db} maps it" in out
    assert main(["show", "last", "--db", db]) == 0
    assert "wafer W01: completed; beside it BW01, its twin recorded (packline wafer BW01)" in (
        capsys.readouterr().out
    )
    assert (
        main(["disposition", "last", "BW01", "release", "--by", "a", "--reason", "r", "--db", db])
        == 2
    )
    # `runs --wafer BW01` finds the board's run as `wafer` does (it had said `in no run`), and
    # only it: a later run with no board is not listed
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    assert main(["runs", "--wafer", "BW01", "--db", db, "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert found["method"] == "bump-seal-clean"
    assert main(["runs", "--wafer", "W01", "--db", db, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_a_panels_die_wafer_beside_it_is_found_as_a_wafers_board_is(tmp_path, capsys):
    """The rule of a workpiece beside a lot's wafer holds for a panel's die wafer too (DW01,
    whose dies tape-substrate inserts into panel W01's holes), not only for a wafer's board:
    `wafer` gives its history beside W01, `runs --wafer` finds its run."""
    db = str(tmp_path / "runs.db")
    assert main(["run", "tape-substrate", "--sim", "--lot", "1", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    assert main(["wafer", "DW01", "--db", db, "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert (history["wafer_id"], history["beside"], history["status"]) == (
        "DW01",
        "W01",
        "completed",
    )
    assert "dice die wafer" in {step["name"] for step in history["steps"]}
    assert main(["runs", "--wafer", "DW01", "--db", db, "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert found["method"] == "tape-substrate"


def test_a_wafer_id_that_ends_several_lists_them_with_their_runs(tmp_path, capsys):
    db = tmp_path / "runs.db"
    first, second = _runs_of_wafers(db, "101813-c46c-W06", "113000-ab12-W06")
    capsys.readouterr()
    assert main(["wafer", "W06", "--db", str(db)]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: wafer 'W06' is the end of 2 wafer ids in {db}; give the whole id "
        "(or its run, --run RUN); they are:\n"
        f"  101813-c46c-W06  in run {first}\n"
        f"  113000-ab12-W06  in run {second}\n"
    )
    assert main(["wafer", "W06", "--run", second, "--db", str(db), "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert (history["wafer_id"], history["run_id"]) == ("113000-ab12-W06", second)


def test_a_wafer_in_no_run_is_refused_with_the_ids_spelt_closest(tmp_path, capsys):
    db = tmp_path / "runs.db"
    (run,) = _runs_of_wafers(db, "101813-c46c-W05,101813-c46c-W06")
    capsys.readouterr()
    assert main(["wafer", "W6", "--db", str(db)]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: wafer 'W6': in no run of {db} (did you mean 'W06'?)\n"
    )
    assert main(["wafer", "101813-c46c-W60", "--run", run, "--db", str(db)]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run {run} has no wafer '101813-c46c-W60'; its wafers: "
        "101813-c46c-W05, 101813-c46c-W06 (did you mean '101813-c46c-W06'?)\n"
    )


def test_a_whole_wafer_id_names_its_wafer_and_the_longer_ids_it_ends_are_named(tmp_path, capsys):
    """A dry run's `W06` is a wafer of its own: `wafer W06` shows it, as `disposition` takes a
    whole id first, and says which station wafers' ids it also ends."""
    db = tmp_path / "runs.db"
    dry, _station_lot = _runs_of_wafers(db, "W06", "101813-c46c-W06")
    capsys.readouterr()
    assert main(["wafer", "W06", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"wafer W06 in run {dry} (" in out
    words = " ".join(out.split())
    assert (
        "W06 is also the end of other wafers' ids, 101813-c46c-W06: packline wafer ID --db "
        f"{db.resolve()} with the whole id shows one"
    ) in words


async def paused_dry_run(db: Path, look: Callable[[str], Look]) -> tuple[Look, Look]:
    """A dry run of plasma-clean of 6 wafers, paused once its first batch (W01 to W04) has
    started `plasma clean` while W05 and W06 wait for the chamber: what `look(run_id)` finds
    as the pause takes hold (the step still under way) and once the batch's stage on the
    chamber has ended (a pause waits for it: decision 0097; every wafer waits), before the run
    resumes and completes. A live process (this one) drives it
    throughout, as the command that paused it from another terminal finds it."""
    store = RunStore(db)
    engine: list = []
    looks: list[Look] = []

    def observe(event) -> None:
        run_id, loop = event.run_id, asyncio.get_running_loop()
        if event.kind == "step-started" and event.step == "plasma clean" and len(engine) == 1:
            engine.append("pause requested")
            engine[0].request("pause", "test", "ana")
        elif event.kind == "paused":  # the run's record says so once the event is out
            loop.call_soon(lambda: looks.append(look(run_id)))
        elif (
            event.step == "batch plasma_cleaner"
            and event.kind == "step-finished"
            and len(looks) == 1
        ):
            looks.append(look(run_id))  # the batch's stage records end together
            loop.call_soon(engine[0].request, "resume", "test", "ana")

    try:
        prepared = prepare(RunRequest("plasma-clean", lot=6))
        async with open_run(store, prepared, observers=[observe]) as running:
            engine.append(running)
            assert await running.run() == "completed"
    finally:
        store.close()
    at_pause, after_step = looks
    return at_pause, after_step


async def test_a_paused_run_s_wafers_read_as_paused_and_one_in_a_step_says_so(tmp_path, capsys):
    """A new user's trial: `show` of a run paused mid-lot listed every wafer `running`, with
    no time on the line, as if the line were processing all of them while nothing moved (the
    records say `running` from a wafer's task's start to its end). They read as the live
    view shows them: a wafer in a stage the pause waits for `running` in it, saying so, each
    other one `paused` where it stands, each started one's time on the line so far."""
    db = tmp_path / "runs.db"

    def look(run_id: str) -> tuple[dict, str]:
        capsys.readouterr()
        assert main(["show", run_id, "--db", str(db), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert main(["wafer", "W05", "--run", run_id, "--db", str(db)]) == 0
        return report, capsys.readouterr().out

    (at_pause, w05_at_pause), (after_step, _) = await paused_dry_run(db, look)
    assert at_pause["run"]["status"] == "paused"
    wafers = {w["wafer"]: w for w in at_pause["wafers"]}
    # the batch holds the chamber: it finishes its stage there first (decision 0097)
    in_stage = in_stage_at_pause("plasma_cleaner")
    assert {w: (wafers[w]["status"], wafers[w]["reason"]) for w in wafers} == {
        **{w: ("running", f"in plasma clean{in_stage}") for w in ("W01", "W02", "W03", "W04")},
        **{w: ("paused", "before its first step") for w in ("W05", "W06")},
    }
    assert wafers["W01"]["cycle_time_s"] == pytest.approx(at_pause["duration_s"])
    assert wafers["W05"]["cycle_time_s"] is None  # not on the line yet
    assert "): paused (before its first step)" in w05_at_pause
    wafers = {w["wafer"]: w for w in after_step["wafers"]}
    assert {w: (wafers[w]["status"], wafers[w]["reason"]) for w in wafers} == {
        **{w: ("paused", "after unload") for w in ("W01", "W02", "W03", "W04")},
        **{w: ("paused", "before its first step") for w in ("W05", "W06")},
    }
    assert wafers["W01"]["cycle_time_s"] > 0


def test_a_confirmations_answer_says_in_words_who_gave_it_and_how():
    """`show`, `wafer` and the report read each answer the same way: who confirmed, and how
    (at the terminal, or in advance with `--confirmed-by NAME`), not the recorded code."""
    answers = [
        (1, "ana (at the terminal)", "confirmed by ana, answered at the terminal"),
        (0, "ana (at the terminal)", "declined by ana, answered at the terminal"),
        (1, "bo (in advance, --confirmed-by)", "confirmed by bo in advance (--confirmed-by bo)"),
        (0, "no operator", "declined: no operator was there to answer it"),
        (0, "no answer", "declined: nobody answered at the terminal within an hour"),
        (1, "auto (dry run)", "confirmed automatically (a dry run asks no operator)"),
        (1, "ci", "confirmed by ci"),  # another answerer (a test's), as recorded
    ]
    steps = [_step(1, "load#0", 0.0, started_wall=100.0)]
    where = {"run_id": "R1", "wafer_id": "W01", "step_id": 1, "t": 0.0, "prompt": "seated"}
    asked = [
        {**where, "id": n, "wall": 100.0 + n, "confirmed": c, "by": by}
        for n, (c, by, _) in enumerate(answers)
    ]
    read = confirmations_asked(asked, [], driven=False)
    table = timeline(labelled(steps), [], [], read).__rich__()
    statuses = [str(cell) for cell in table.columns[3].cells][1:]
    assert statuses == [words for _, _, words in answers]
    # a no nobody gave (no operator, nobody in time) is no answer: what an auditor filters on
    assert [c["outcome"] for c in read] == [
        "confirmed", "declined", "confirmed", "unanswered", "unanswered", "confirmed", "confirmed"
    ]  # fmt: skip


def _wafer_rows(store: RunStore, run_id: str, wafer: str) -> list[tuple[str, ...]]:
    """The rows of wafer `wafer`'s (its number in the lot) timeline as `show` prints it: what,
    detail and status."""
    printed = io.StringIO()
    print_run(Console(file=printed, width=1000), summary_report(store, run_id), store)
    lines = printed.getvalue().splitlines()
    start = next(
        n
        for n, line in enumerate(lines)
        if line.strip().startswith("wafer ") and f"-{wafer}: " in line
    )
    rows: list[list[str]] = []
    for line in lines[start + 4 :]:
        if not line.startswith("│"):
            break
        at, *cells = (cell.strip() for cell in line.split("│")[1:5])
        if at or not rows:
            rows.append(cells)
        else:  # a cell wrapped onto the next line
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
    return [tuple(row) for row in rows]


async def test_a_wafer_held_for_want_of_a_tool_says_so_and_what_ran_it_again(
    tmp_path, capsys, monkeypatch
):
    """W05 and W06 were held at once for want of the plasma chamber (out of service after an
    alarm under W01-W04); the operator ended the run, cleared the chamber and resumed it, and
    they ran. `show`'s timeline of W05 had read as if it simply started late: it says it was
    held for want of the tool, that the clear put the tool back, and that the resume ran it.
    `show --json` says it too, of each wafer, as `wafer --json` does (only it had)."""
    # the default database: the timeline's advised clear, printed, needs no --db, and reads
    # as the records keep it (`--json`)
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    store = RunStore(tmp_path / "runs.db")
    try:
        async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

            def operator(engine, event) -> None:
                if event.kind == "waiting-for-clear":
                    order(engine, "terminate")

            run_id, _ = await alarmed_station_run(store, tmp_path, line, operator)
            line.tools["plasma_cleaner"].clear_fault("rf_mismatch")
            assert record_clearance(store, run_id, "plasma_cleaner", "ana") is not None
            async with open_resume(store, run_id, confirm=confirm_yes, by="bo") as resumed:
                assert await resumed.run() == "held"
        rows = _wafer_rows(store, run_id, "W05")
    finally:
        store.close()
    held, cleared, resumed, first = rows[:4]
    assert held[0] == "held for want of a tool"
    assert held[1].startswith("no plasma_cleaner in service: plasma_cleaner is out of service")
    assert held[2] == "held"
    assert cleared == (
        "plasma_cleaner cleared",
        "plasma_cleaner cleared by ana while the run was held: the resume puts it back in service",
        "back in service for the run's resume",
    )
    assert resumed == (
        "run resumed",
        "plasma-clean session 2, resumed by bo",
        "runs the wafer again",
    )
    assert first[0] == "step open door #1"
    assert all(row[0].startswith(("step ", "measured ", "confirmation")) for row in rows[3:])
    db = str(tmp_path / "runs.db")
    assert main(["show", run_id, "--json", "--db", db]) == 0
    shown = {w["wafer"]: w["tool_waits"] for w in json.loads(capsys.readouterr().out)["wafers"]}
    w05 = next(wafer for wafer in shown if wafer.endswith("-W05"))
    # as the text timeline words them
    assert [(w["what"], w["detail"], w["status"]) for w in shown[w05]] == [held, cleared, resumed]
    assert not any(shown[w] for w in shown if w.endswith(("-W01", "-W02", "-W03", "-W04")))
    assert main(["wafer", w05, "--json", "--db", db]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert history["tool_waits"] == shown[w05]  # the same keys and values as `wafer --json`


async def test_a_wafer_held_for_want_of_a_tool_cleared_while_the_run_goes_on(tmp_path):
    """The clear from another terminal while the run waits runs W05 again in that session:
    its timeline says it was held, and that the clear put the tool back and ran it again."""
    store = RunStore(tmp_path / "runs.db")
    try:
        async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

            def operator(engine, event) -> None:
                if event.kind == "waiting-for-clear":
                    line.tools["plasma_cleaner"].clear_fault("rf_mismatch")
                    order(engine, "clear-tool", tool="plasma_cleaner")

            run_id, _ = await alarmed_station_run(store, tmp_path, line, operator)
        rows = _wafer_rows(store, run_id, "W05")
        untouched = _wafer_rows(store, run_id, "W01")  # held by its own step's failure
    finally:
        store.close()
    held, cleared, first = rows[:3]
    assert held[0] == "held for want of a tool"
    assert cleared == (
        "plasma_cleaner cleared",
        "plasma_cleaner back in service, cleared by ana",
        "back in service: runs the wafer again",
    )
    assert first[0] == "step open door #1"
    assert not any(row[0] == "held for want of a tool" for row in untouched)


async def test_a_served_runs_times_read_on_the_lines_process_clock(tmp_path):
    """On a line served at x60 `show` gave each wafer's time on the line and its steps' and
    the events' times by the run clock, the controller's wall time (a wafer 0:00:05 on the
    line, its plasma clean started at 0:00:06 and measured 180 s at 0:00:09), beside the
    process time the summary and `diff` give: each is the line's process time now, the run
    clock times the scale, and labelled so."""
    store = RunStore(tmp_path / "runs.db")
    try:
        served = await served_plasma_clean(store, tmp_path)
        report = summary_report(store, served.run_id)
        lines = _printed_lines(lambda console: print_run(console, report, store))
    finally:
        store.close()
    (first,) = [w for w in report["wafers"] if w["wafer"].endswith("W01")]
    assert any("wafer status time on line (process time) reason" in line for line in lines)
    on_line = clock_text(first["cycle_time_s"] * 1000)
    assert f"{first['wafer']} completed {on_line}" in lines
    clean = next(s for s in report["steps"] if s["label"] == "plasma clean")
    assert any(line.startswith("at (process time) what detail status") for line in lines)
    assert any(
        line.startswith(f"{clock_text(clean['started_t'] * 1000)} step plasma clean")
        for line in lines
    )
    heading = lines.index("events, at process time on the line (the run clock x1000):")
    started = next(e for e in report["events"] if e["kind"] == "run-started")
    assert lines[heading + 1].startswith(f"[{clock_text(started['t'] * 1000)}] run-started")


def _printed_lines(print_to: Callable[[Console], None]) -> list[str]:
    """What `print_to` prints on a console wide enough for no row to wrap, each line's cells
    parted by single spaces (the table's rules taken out)."""
    printed = io.StringIO()
    print_to(Console(file=printed, width=1000))
    return [
        " ".join(line.translate({ord("│"): " ", ord("┃"): " "}).split())
        for line in printed.getvalue().splitlines()
    ]


async def test_a_served_wafers_history_reads_on_the_process_clock_as_show_gives_it(tmp_path):
    """`wafer` of a wafer of a run on a line served at x1000 gave its steps at the run clock's
    wall time, under `show`'s heading `at (process time)` (its plasma clean started at
    0:00:00, where `show` gave 0:02:09): it gives the line's process time now, its timeline
    row for row as `show`'s of the wafer (`--json`: the entry's `time_scale`)."""
    store = RunStore(tmp_path / "runs.db")
    try:
        served = await served_plasma_clean(store, tmp_path)
        report = summary_report(store, served.run_id)
        (wafer_id,) = [w["wafer"] for w in report["wafers"] if w["wafer"].endswith("W01")]
        history = decided_history(store, wafer_id)
        shown = _printed_lines(lambda console: print_run(console, report, store))
    finally:
        store.close()
    (entry,) = history
    assert entry["time_scale"] == 1000.0
    listed = _printed_lines(lambda console: print_wafer(console, wafer_id, history, []))
    clean = next(
        s for s in report["steps"] if s["label"] == "plasma clean" and s["wafer_id"] == wafer_id
    )
    assert f"{clock_text(clean['started_t'] * 1000)} step plasma clean" in " ".join(listed)
    timeline_rows = listed[2:]  # after the run's line and the table's top rule
    first = shown.index(f"wafer {wafer_id}: completed") + 2
    assert timeline_rows[0] == "at (process time) what detail status"
    assert shown[first : first + len(timeline_rows)] == timeline_rows


def test_a_stage_a_resume_entered_only_to_skip_its_steps_says_so():
    """The trial: a reworked wafer's resume entered its bonder stage again, every step in it
    skipped as done before, and `show` read `step use wire_bonder (attempt 2, session 2)
    completed`, as if it had been bumped again. Such a stage says its steps were done before;
    one that ran a step again keeps its attempt."""

    def row(id_: int, session: int, kind: str, key: str, stage: str | None, status: str):
        return {"id": id_, "session": session, "kind": kind, "key": key, "stage": stage,
                "status": status}  # fmt: skip

    steps = [
        row(1, 1, "stage", "use bonder#0", None, "completed"),
        row(2, 1, "step", "form bumps#0", "use bonder#0", "completed"),
        row(3, 1, "stage", "use saw#0", None, "completed"),
        row(4, 1, "step", "dice#0", "use saw#0", "failed"),
        row(5, 2, "stage", "use bonder#0", None, "completed"),
        row(6, 2, "step", "form bumps#0", "use bonder#0", "skipped"),
        row(7, 2, "stage", "use saw#0", None, "completed"),
        row(8, 2, "step", "dice#0", "use saw#0", "completed"),
    ]
    assert record_markers(steps) == [
        " (attempt 1, session 1)",
        "",
        " (attempt 1, session 1)",
        " (attempt 1, session 1)",
        " (session 2: every step in it done before)",
        "",
        " (attempt 2, session 2)",
        " (attempt 2, session 2)",
    ]


async def test_a_wafer_a_resume_runs_again_is_on_the_line_so_far_across_its_sessions(
    tmp_path, capsys
):
    """A new user's trial: `show` of a resumed run of tape-substrate listed its wafer
    `running` 0:58:34 on the line, session 1's figure, which did not grow while session 2
    drove it (its process time on the line was 3:59 into session 2). A wafer the terminate
    stopped kept that stop's time in its record as a resume ran it again, and its time on the
    line ended there. Here W05, terminated in session 1 of a dry run of 6 wafers (two chamber
    cycles), is on the line from its first step to now, as `show` reads it from another
    process once session 2 has pumped the chamber down again: every session's time on the
    line, as a completed wafer's is counted."""
    db = tmp_path / "runs.db"
    store = RunStore(db)
    looks: list[dict] = []

    def look(event: Event) -> None:
        if (event.kind, event.step) == ("step-finished", "pump down") and not looks:
            capsys.readouterr()
            assert main(["show", event.run_id, "--db", str(db), "--json"]) == 0
            looks.append(json.loads(capsys.readouterr().out))

    try:
        run_id = await terminated_in_second_clean(store)
        (w05,) = [w for w in store.wafers(run_id) if w["wafer_id"] == "W05"]
        first_step_t = min(
            s["started_t"] for s in store.table("steps", run_id) if s["wafer_id"] == "W05"
        )
        session_1_on_line = w05["stopped_t"] - first_step_t
        async with open_resume(store, run_id, observers=[look]) as resumed:
            assert await resumed.run() == "completed"
    finally:
        store.close()
    (shown,) = looks
    assert w05["status"] == "terminated"
    wafers = {w["wafer"]: w for w in shown["wafers"]}
    assert shown["run"]["status"] == "running"
    assert wafers["W05"]["status"] == "running"
    so_far = shown["duration_s"] - (first_step_t - shown["run"]["started_t"])
    assert so_far > session_1_on_line
    assert wafers["W05"]["cycle_time_s"] == pytest.approx(so_far)


async def test_a_stopped_run_a_resume_continues_names_the_resume(tmp_path, capsys):
    """`show` of a run cut off named the `packline resume` that goes on; of a terminated
    run, which a resume continues as well, it named none. It names it (with `--db` where the
    records are not the default) for a stopped run a resume continues, and not for one with
    nothing left to resume: the same test `packline resume` refuses on."""
    db = tmp_path / "runs.db"
    store = RunStore(db)
    try:
        run_id = await terminated_in_second_clean(store)
        async with open_run(store, prepare(RunRequest("plasma-clean", lot=1))) as done:
            assert await done.run() == "completed"
    finally:
        store.close()
    said = f"`packline resume {run_id} --db {db.resolve()}` goes on from its records"
    assert main(["show", run_id, "--db", str(db)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"terminated, nothing drives it: {said}" in out
    assert main(["show", done.run_id, "--db", str(db)]) == 0
    assert "packline resume" not in capsys.readouterr().out


def test_the_recipe_is_named_by_what_differs_from_the_shipped_one_and_whole_on_request(
    tmp_path, capsys
):
    """`show` printed the whole recipe (some 80 lines of sprout-bump-csp's) before where the
    run stands: it names it by its source and hash, and lists the values that differ from the
    shipped recipe it is read against (a reference recipe's run against that recipe, a file's
    against the method's default); `--whole-recipe` prints it whole."""
    db = str(tmp_path / "runs.db")
    shipped = Path("sequences/recipes/plasma-clean.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "longer.yaml"
    changed.write_text(shipped.replace("time_s: 60 s", "time_s: 90 s"), encoding="utf-8")
    for recipe in (str(changed), "plasma-clean-forming-gas"):
        command = ["run", "plasma-clean", "--sim", "--recipe", recipe, "--quiet", "--db", db]
        assert main(command) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db, "--json"]) == 0
    runs = [run["id"] for run in json.loads(capsys.readouterr().out)]  # newest first
    assert main(["show", runs[1], "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"recipe {changed} sha256 " in out
    assert "1 value differs from default recipe plasma-clean.yaml" in out
    assert "  steps.0.time_s: 90 s (default recipe plasma-clean.yaml: 60 s)" in out
    assert f"(packline show {runs[1]} --db {Path(db).resolve()} --whole-recipe" in out
    assert "gas: O2" not in out
    assert main(["show", runs[0], "--db", db]) == 0
    assert ": as shipped (packline show" in capsys.readouterr().out
    assert main(["show", runs[1], "--db", db, "--whole-recipe"]) == 0
    out = capsys.readouterr().out
    assert "time_s: 90 s}" in out
    assert "differ from" not in out


def test_a_run_of_a_shipped_recipe_changed_since_names_it_as_it_ships_now(
    tmp_path, capsys, monkeypatch
):
    """A run of the default recipe, which has changed since (its plasma time 90 s where the
    run's was 60 s), read `1 value differs from default recipe plasma-clean.yaml`: the run's
    own recipe by its own name, as if its values had been edited. It names the shipped
    recipe as it ships now."""
    from packline.sequences.engine.method import Method

    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    shipped_then = Method.default_recipe_text

    def shipped_now(method: Method) -> tuple[str, str]:
        text, source = shipped_then(method)
        return text.replace("time_s: 60 s", "time_s: 90 s"), source

    monkeypatch.setattr(Method, "default_recipe_text", shipped_now)
    assert main(["show", "last", "--db", db]) == 0
    out = capsys.readouterr().out
    ships_now = "default recipe plasma-clean.yaml as it ships now"
    assert "recipe default recipe plasma-clean.yaml sha256 " in out
    assert f": 1 value differs from {ships_now} (packline show " in out
    assert f"  steps.0.time_s: 60 s ({ships_now}: 90 s)" in out


def test_show_of_a_run_of_a_method_this_release_lacks_lists_it_whole(tmp_path, capsys):
    """`show` of a run whose method this release does not have (another install's records,
    a retired method) printed the run, then ended 'packline: error: unknown method' (exit 2):
    the summary asked whether a resume could go on. This release cannot resume it, so the
    summary names no resume, and `resume` refuses it saying why."""
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        with store.transaction() as records:
            records.execute("UPDATE runs SET method = 'retired-method', status = 'terminated'")
    finally:
        store.close()
    capsys.readouterr()
    assert main(["show", "last", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "packline resume" not in out
    assert main(["resume", "last", "--db", str(db)]) == 2
    assert "unknown method 'retired-method'" in capsys.readouterr().err


def test_a_timeline_row_read_from_the_events_advises_its_command_for_the_database():
    """A review found a wafer's hold row printing its clear without `--db` where the events
    list gave it: every row a timeline reads from the events (its waits, unloads and holds)
    names the database, in the order they are given."""
    clear = (
        "plasma_cleaner out of service: clear it with "
        "`packline clear-tool R1 plasma_cleaner --by NAME`"
    )
    row = {"step_id": None, "t": 1.0, "wall": 1.0, "made_wall": None, "status": "held"}
    wafer = {
        "tool_waits": [{**row, "what": "held for want of a tool", "detail": clear}],
        "taken_off": [{**row, "what": "taken off plasma_cleaner", "detail": "took off W01"}],
        "holds": [{**row, "what": "held", "detail": "step failed"}],
    }
    rows = event_rows(wafer, " --db /data/line.db")
    assert [r["what"] for r in rows] == [
        "held for want of a tool",
        "taken off plasma_cleaner",
        "held",
    ]
    assert rows[0]["detail"].endswith("--by NAME --db /data/line.db`")
    assert [r["detail"] for r in rows[1:]] == ["took off W01", "step failed"]
    assert event_rows(wafer, "")[0]["detail"] == clear


def test_json_advises_each_command_for_the_database_as_the_text_does():
    """`show --json` and `wafer --json` gave a record's message as recorded, its clear without
    `--db`, which pasted went to the default database: every command a record's text advises
    names the database read, as the text prints it, but a recipe's own text, as given."""
    clear = "clear it with `packline clear-tool R1 plasma_cleaner --by NAME`"
    report = {
        "events": [{"message": f"alarmed: {clear}", "t": 1.0}],
        "wafers": [{"reason": clear, "tool_waits": [{"detail": clear}]}],
        "recipe": f"# {clear}\n",
        "run": {"recipe_json": f'{{"note": "{clear}"}}', "status": "held"},
    }
    advised = advised_for_database(report, " --db /data/line.db")
    with_db = "`packline clear-tool R1 plasma_cleaner --by NAME --db /data/line.db`"
    assert advised["events"][0]["message"].endswith(with_db)
    assert advised["wafers"][0]["reason"].endswith(with_db)
    assert advised["wafers"][0]["tool_waits"][0]["detail"].endswith(with_db)
    assert (advised["recipe"], advised["run"]["recipe_json"]) == (
        report["recipe"],
        report["run"]["recipe_json"],
    )
    assert (advised["events"][0]["t"], advised["run"]["status"]) == (1.0, "held")
    assert advised_for_database(report, "") is report
