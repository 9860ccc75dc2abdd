"""Tool time accounting: E10 states per tool that sum to the run, utilisation, OEE."""

from __future__ import annotations

import asyncio
import html
import json
import shutil

import pandas as pd
import pytest

from packline.cli import main
from packline.clock import ScaledClock
from packline.drivers.equipment import ToolState
from packline.drivers.roles.laminator import Laminator
from packline.drivers.roles.wire_bonder import WireBonder
from packline.records import RunRecords
from packline.records.sections import tool_time_section
from packline.records.tooltime import (
    E10_STATES,
    QUALITY_COUNTS,
    bottleneck,
    judged_passes,
    run_window,
    tool_intervals,
    tool_names,
    tool_time,
    unused_tools,
)
from packline.sequences import bump_seal_clean
from packline.sequences.engine import Handling, RunRequest, RunStore, engine, open_run, prepare
from packline.sequences.engine.confirmations import CONFIRMATION_ASKED
from packline.sequences.engine.report import run_report
from packline.sim_instruments.line import SimulatedLine

from ..sequences.helpers import station_lot
from ..sequences.test_dispositions import alarmed_dry_run
from ..sequences.test_resume_station import station_file
from .conftest import oven_stage, stage_row


def test_every_tools_states_sum_to_the_runs_duration(records):
    times = tool_time(records)
    window = run_window(records)
    assert set(times["tool"]) >= {"wire_bonder", "laminator", "plasma_cleaner", "dicing_saw"}
    state_columns = [c for c in times.columns if c.endswith("_s") and c != "duration_s"]
    assert len(state_columns) == len(E10_STATES)
    for _, row in times.iterrows():
        assert sum(row[c] for c in state_columns) == pytest.approx(window.duration_s)
    assert (times["duration_s"] == window.duration_s).all()


def test_productive_time_is_the_union_of_the_stages_that_held_the_tool(records):
    steps = records.steps()
    bonder = steps[(steps["tool"] == "wire_bonder") & (steps["kind"] == "stage")]
    times = tool_time(records).set_index("tool")
    # one wafer at a time on the bonder: its stages do not overlap
    assert times.loc["wire_bonder", "productive_s"] == pytest.approx(
        (bonder["stopped_t"] - bonder["started_t"]).sum()
    )
    # a batch of two wafers: its two rows are one use of the chamber
    plasma = steps[(steps["tool"] == "plasma_cleaner") & (steps["kind"] == "batch")]
    assert times.loc["plasma_cleaner", "uses"] == plasma["batch"].nunique() == 1
    assert times.loc["plasma_cleaner", "productive_s"] == pytest.approx(
        plasma["stopped_t"].max() - plasma["started_t"].min()
    )
    assert times.loc["plasma_cleaner", "wafers"] == 2


def test_the_bottleneck_is_the_tool_with_the_highest_utilisation(records):
    times = tool_time(records)
    assert bottleneck(times) == times.sort_values("utilisation")["tool"].iloc[-1]
    assert times["utilisation"].between(0, 1).all()
    done = times[times["wafers"] > 0]
    assert done["quality"].eq(1.0).all()  # every stage completed
    assert done["availability"].eq(1.0).all()  # no alarm
    assert done["oee"].between(0, 1).all()
    assert list(done["oee"]) == pytest.approx(list(done["performance"]))


def test_intervals_cover_the_window_without_gaps(records):
    window = run_window(records)
    intervals = tool_intervals(records)
    for _, own in intervals.groupby("tool"):
        assert own["start_t"].iloc[0] == window.start_t
        assert own["stop_t"].iloc[-1] == window.stop_t
        assert (own["start_t"].iloc[1:].to_numpy() == own["stop_t"].iloc[:-1].to_numpy()).all()
        assert (own["state"].iloc[1:].to_numpy() != own["state"].iloc[:-1].to_numpy()).all()


def test_an_alarm_puts_the_tool_down_until_it_is_cleared(alarmed_run):
    """A tool alarm at t=100 on a run from 0 to 1000, cleared at 400: 300 s of unscheduled
    downtime; the stage it failed (50-100) stays productive."""
    times = tool_time(alarmed_run).set_index("tool")
    assert times.loc["oven", "unscheduled_downtime_s"] == 300.0
    assert times.loc["oven", "productive_s"] == 50.0
    assert times.loc["oven", "standby_s"] == 650.0
    assert times.loc["oven", "availability"] == pytest.approx(0.7)
    assert times.loc["oven", "quality"] == 0.0
    assert times.loc["oven", "alarms"] == 1
    assert "saw" not in times.index  # the station's, unused by the run


def test_the_tools_listed_are_those_the_run_used_and_the_others_are_named(alarmed_run, capsys):
    """A run of one tool on a station of two lists that tool, saying the other is not listed
    (a station run of plasma-clean on a served line of 16 tools had listed 15 at 0 %)."""
    assert tool_names(alarmed_run) == ["oven"]
    assert unused_tools(alarmed_run) == ["saw"]
    db = str(alarmed_run.store.path)
    assert main(["tools", "R1", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "not listed: the station's other tool, unused by this run: saw" in out
    assert main(["tools", "R1", "--db", db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert ([row["tool"] for row in data["tools"]], data["unused_tools"]) == (["oven"], ["saw"])


def test_a_failed_pass_reworked_later_is_a_quality_loss(alarmed_run):
    """W1 failed on the oven (50-100 s) and, reworked, passed it again (500-550 s): two passes
    of one wafer, one good; at the best rate (50 s a wafer) the 100 s productive were all used.
    The rework runs the same stage again (its key, `use oven#0`)."""
    oven_stage(alarmed_run.store, 0, 500.0, 550.0, "completed", None)
    times = tool_time(alarmed_run).set_index("tool")
    assert times.loc["oven", "productive_s"] == 100.0
    assert times.loc["oven", "quality"] == 0.5
    assert times.loc["oven", "performance"] == 1.0
    assert times.loc["oven", "wafers"] == 1


def test_quality_counts_passes_not_wafers_and_says_so(tmp_path, monkeypatch, capsys):
    """A tester's plasma-clean lot of 4, its chamber batch failed by an alarm, then 2 wafers
    reworked and completed, 1 scrapped and 1 held, read quality 33.3 % with no way to tell
    of what. It is right: 2 good passes of 6 judged (the batch's 4 failed passes, each bad
    whatever became of its wafer, and the 2 reworked); `tools --json` gives those counts, the
    terminal's table folds them into the quality cell, and both the report and the terminal
    say under the table how quality counts them."""
    db = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(db))
    run_id = alarmed_dry_run(db, capsys, 4)
    decided = {"W01": "rework", "W02": "rework", "W03": "scrap"}
    for wafer, decision in decided.items():
        said = ["disposition", run_id, wafer, decision, "--by", "ana", "--reason", "rf"]
        assert main(said) == 0
    assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana"]) == 0
    assert main(["resume", run_id, "--quiet"]) == 1  # W04 still held: the run ends held
    capsys.readouterr()
    store = RunStore(db)
    records = RunRecords(store, run_id)
    assert list(records.wafers()["status"]) == ["completed", "completed", "scrapped", "held"]
    chamber = _listed(capsys, store, run_id, "plasma_cleaner")
    assert (chamber["good_passes"], chamber["judged_passes"]) == (2, 6)
    assert chamber["quality"] == pytest.approx(2 / 6)
    assert chamber["wafers"] == 4
    section = tool_time_section(records, {})
    store.close()
    assert "<th>good passes</th><th>judged passes</th>" in section
    assert f"<p>{html.escape(QUALITY_COUNTS)}.</p>" in section
    assert main(["tools", run_id, "--db", str(db)]) == 0
    table = capsys.readouterr().out
    (chamber_row,) = [line for line in table.splitlines() if "│ plasma_cleaner" in line]
    assert "33.3% (2/6)" in chamber_row  # the terminal's table says of what, as --json does
    assert QUALITY_COUNTS in " ".join(table.split())


async def _lot_of_two(store: RunStore, control) -> tuple[RunRecords, str]:
    """A dry run of bump-seal-clean, a lot of 2, in `store`, `control(run, event)` called at
    each of its events (to pause, resume, terminate or abort it): its records and status."""
    box: list = []
    request = prepare(RunRequest("bump-seal-clean", lot=2))
    async with open_run(store, request, observers=[lambda e: control(box[0], e)]) as run:
        box.append(run)
        status = await run.run()
    return RunRecords(store, run.run_id), status


def _stages(records: RunRecords, tool: str) -> pd.DataFrame:
    """The stage rows of the run's steps on `tool`."""
    steps = records.steps()
    return steps[(steps["tool"] == tool) & (steps["kind"] == "stage")]


def _listed(capsys, store: RunStore, run_id: str, tool: str) -> dict:
    """`tool`'s row of `packline tools RUN --json`."""
    assert main(["tools", run_id, "--db", str(store.path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["tools"]
    (row,) = [row for row in rows if row["tool"] == tool]
    return row


async def test_a_pass_cut_off_by_a_terminate_is_neither_good_nor_failed(tmp_path, capsys):
    """A dry run of bump-seal-clean, a lot of 2, terminated by its operator once W02's bumps
    are formed inside its bonder stage: that pass is cut off, not a bad part (the bonder read
    50 % quality, its one completed pass good). Every pass the bonder ran through completed:
    100 %, and its OEE is availability x performance."""
    store = RunStore(tmp_path / "runs.db")

    def terminate(run, event) -> None:
        bumped = event.kind == "step-finished" and event.step == "form bumps"
        if bumped and event.wafer.endswith("W02") and event.status == "completed":
            run.request("terminate", "a look at the lot", "ana")

    records, status = await _lot_of_two(store, terminate)
    assert status == "terminated"
    bonder = _stages(records, "wire_bonder")
    assert sorted(bonder["status"]) == ["completed", "interrupted"]
    times = tool_time(records).set_index("tool")
    bonded = times.loc["wire_bonder"]
    assert bonded["quality"] == 1.0
    assert bonded["oee"] == pytest.approx(bonded["availability"] * bonded["performance"])
    assert _listed(capsys, store, records.run_id, "wire_bonder")["quality"] == 1.0
    store.close()


async def test_a_dicing_pass_an_abort_cut_off_and_held_is_a_quality_loss(tmp_path, capsys):
    """A dry run of bump-seal-clean, a lot of 2, aborted by its operator as W02's dice begins:
    the cut is irreversible, so W02 is held, its chips part cut. The saw read 100 % quality
    (W01's pass good, W02's cut off and counted neither way); a pass whose wafer the cut-off
    held made no good part: 50 %. Its rate is claimed by no one (W01's pass alone is rated)."""
    store = RunStore(tmp_path / "runs.db")

    def abort(run, event) -> None:
        if event.kind == "step-started" and event.step == "dice" and event.wafer.endswith("W02"):
            run.request("abort", "blade noise", "ana")

    records, status = await _lot_of_two(store, abort)
    assert status == "aborted"
    saw = _stages(records, "dicing_saw")
    assert list(saw["status"]) == ["completed", "interrupted"]
    (held,) = [e for e in store.events(records.run_id) if e["kind"] == "held"]
    assert (held["wafer_id"], held["data"]) == ("W02", {})
    sawn = tool_time(records).set_index("tool").loc["dicing_saw"]
    first = saw.iloc[0]
    assert sawn["quality"] == 0.5
    rated = first["stopped_t"] - first["started_t"]
    assert sawn["performance"] == pytest.approx(rated / sawn["productive_s"])
    assert _listed(capsys, store, records.run_id, "dicing_saw")["quality"] == 0.5
    store.close()


def test_paused_time_inside_a_stage_is_standby_but_a_step_running_through_the_pause(
    tmp_path, add_run
):
    """W1 laminated 0-300 s and cooled 700-1000 s in its laminator stage, the run paused from
    300 s to 700 s between the two (a run recorded before a pause waited for the stage's end,
    decision 0097): the laminator held
    it idle, which `tools` had read as productive. That time is standby; W2's bumping on the
    bonder, running through the pause, stays productive."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1", "W2"], stopped_t=1000.0)
    laminate = {"key": "laminate#0", "name": "laminate", "kind": "step", "stage": "use laminator#0"}
    cool = {"key": "cool#0", "name": "cool", "kind": "step", "stage": "use laminator#0"}
    bump = {"key": "bump#0", "name": "bump", "kind": "step", "stage": "use bonder#0"}
    stage, step = store.start_steps(
        [stage_row("laminator", "W1", 0.0), stage_row("laminator", "W1", 0.0, **laminate)]
    )
    bonder, bumping = store.start_steps(
        [
            stage_row("bonder", "W2", 200.0, started_wall=2.0),
            stage_row("bonder", "W2", 200.0, started_wall=2.0, **bump),
        ]
    )
    store.finish_steps([step], "completed", 300.0, 3.0)
    events = [("paused", 300.0, 3.5), ("resumed", 700.0, 7.0)]
    store.add_rows(
        "events",
        [
            {
                "run_id": "R1",
                "session": 1,
                "kind": kind,
                "wafer_id": None,
                "tool": None,
                "status": None,
                "message": "",
                "data": None,
                "t": t,
                "wall": wall,
            }
            for kind, t, wall in events
        ],
    )
    (step,) = store.start_steps([stage_row("laminator", "W1", 700.0, started_wall=7.0, **cool)])
    store.finish_steps([bumping, bonder], "completed", 800.0, 8.0)
    store.finish_steps([step, stage], "completed", 1000.0, 10.0)
    times = tool_time(RunRecords(store, "R1")).set_index("tool")
    intervals = tool_intervals(RunRecords(store, "R1"))
    store.close()
    laminator = intervals[intervals["tool"] == "laminator"]
    assert ("standby", 300.0, 700.0) in set(
        zip(laminator["state"], laminator["start_t"], laminator["stop_t"], strict=True)
    )
    assert times.loc["laminator", "productive_s"] == 600.0
    assert times.loc["bonder", "productive_s"] == 600.0


async def test_the_wait_for_an_operators_answer_is_standby_of_the_tool_held(tmp_path, capsys):
    """A station run of plasma-clean, a lot of 2, whose operator takes 0.5 s to answer that
    the wafers sit in the chamber's slots, its door open: the chamber waited for its operator,
    standby (SEMI E10), from the question to the answer, which `tools` had counted productive
    (a trial's 32 s wait read 0:00:39 productive, the bottleneck at 51.8 %, where the same run
    unattended read 0:00:06.9)."""
    store = RunStore(tmp_path / "runs.db")

    async def slow_yes(wafers: str, prompt: str) -> tuple[bool, str]:
        await asyncio.sleep(0.5)
        return True, "ana (at the terminal)"

    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        station = station_file(tmp_path, line, "line.yaml")
        request = station_lot(station)
        async with open_run(store, prepare(request), confirm=slow_yes) as run:
            assert await run.run() == "completed"
    records = RunRecords(store, run.run_id)
    asked = min(e["t"] for e in store.events(run.run_id) if e["kind"] == CONFIRMATION_ASKED)
    (answered,) = set(records.confirmations()["t"])
    intervals = tool_intervals(records)
    listed = _listed(capsys, store, run.run_id, "plasma_cleaner")
    store.close()
    states = set(zip(intervals["state"], intervals["start_t"], intervals["stop_t"], strict=True))
    assert ("standby", asked, answered) in states
    assert answered - asked >= 0.5
    assert listed["productive_s"] < listed["duration_s"] - 0.5


def test_a_question_a_crash_cut_off_holds_the_tool_idle_only_while_its_stage_held_it(
    tmp_path, add_run
):
    """W1's oven stage (0-150 s, closed by the resume) asked its operator at 10 s and a crash
    cut the question off, no answer recorded: the oven stood waiting for an operator to the
    stage's end, standby. The resume's W2 on the oven (200-300 s, its steps 200-250 and
    260-300 s) worked for its own stage, between its steps too: productive, not the cut-off
    question's wait."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1", "W2"], stopped_t=300.0, sessions=2)
    (first,) = store.start_steps([stage_row("oven", "W1", 0.0)])
    asked = {**state_event("oven", ToolState.IDLE, 10.0), "kind": CONFIRMATION_ASKED}
    data = json.dumps({"prompt": "W1 seated", "step_id": None})
    store.add_rows("events", [{**asked, "tool": None, "wafer_id": "W1", "data": data, "wall": 1.0}])
    store.finish_steps([first], "interrupted", 150.0, 15.0)
    (second,) = store.start_steps([stage_row("oven", "W2", 200.0, session=2, started_wall=20.0)])
    for start, stop in ((200.0, 250.0), (260.0, 300.0)):
        step = {"key": f"bake#{start:g}", "name": "bake", "kind": "step", "stage": "use oven#0"}
        (inner,) = store.start_steps(
            [stage_row("oven", "W2", start, session=2, started_wall=start / 10, **step)]
        )
        store.finish_steps([inner], "completed", stop, stop / 10)
    store.finish_steps([second], "completed", 300.0, 30.0)
    records = RunRecords(store, "R1")
    oven = tool_time(records).set_index("tool").loc["oven"]
    intervals = tool_intervals(records)
    store.close()
    # the wait to 150 s, then nothing on the oven to 200 s
    assert set(zip(intervals["state"], intervals["start_t"], intervals["stop_t"], strict=True)) == {
        ("productive", 0.0, 10.0),
        ("standby", 10.0, 200.0),
        ("productive", 200.0, 300.0),
    }
    assert oven["productive_s"] == 110.0


def test_a_stage_a_crash_left_open_waited_for_no_tool_of_the_resume(tmp_path, add_run):
    """W1's oven stage (a bake 0-100 s) was left open by a crash; the resume (session 2) ran
    W1 on the saw at 300 s, after the stage began by every clock. The oven stage asked for no
    tool: the saw's use is the resume's, not one the stage waited for, and the stage reads as
    it did, productive to the end."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], stopped_t=400.0, sessions=2)
    bake = {"key": "bake#0", "name": "bake", "kind": "step", "stage": "use oven#0"}
    _, step = store.start_steps(
        [stage_row("oven", "W1", 0.0), stage_row("oven", "W1", 0.0, **bake)]
    )
    store.finish_steps([step], "completed", 100.0, 1.0)
    (saw,) = store.start_steps([stage_row("saw", "W1", 300.0, session=2, started_wall=10.0)])
    store.finish_steps([saw], "completed", 350.0, 11.0)
    oven = tool_time(RunRecords(store, "R1")).set_index("tool").loc["oven"]
    store.close()
    assert oven["productive_s"] == 400.0


async def _bumps_then_a_laminator(wafer, bumps, claims=("003:7.1", "003:22")) -> None:
    """bump-seal-clean's bonder stage (`form_bumps`) asking, once its bumps are formed and
    before its unload, for the laminator: a script that takes a tool while it holds another."""
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load on bonder", bonder.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("form bumps", bonder.form_stud_bumps, bumps.program(), claims=claims)
        async with wafer.use(Laminator):
            pass
        await wafer.step("unload from bonder", bonder.unload, wafer.id, handling=Handling.UNLOAD)


async def _resin_then_a_bonder(wafer, resin) -> None:
    """bump-seal-clean's laminator stage (`seal_with_resin`) asking, once its film is
    laminated and before it cools, for the bonder: beside `_bumps_then_a_laminator`, each of
    two wafers holds the tool the other asks for."""
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("laminate resin film", laminator.laminate, resin.job(), claims=())
        async with wafer.use(WireBonder):
            pass
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        await wafer.step("peel support", laminator.peel_support)
        await wafer.step("unload from laminator", laminator.unload, handling=Handling.UNLOAD)


def test_a_tool_wait_is_standby_and_one_that_runs_out_too(tmp_path, monkeypatch):
    """W01, its film laminated, asks for the bonder, which W02 holds, its bumps formed, while
    it asks for the laminator W01 holds. Neither is given until W01's tool wait (700 s here, 24
    hours on a line) runs out: W01's stage fails, W01 is held for want of the bonder, and
    W02 is given the laminator. Those 700 s read as the laminator's productive time (24 hours
    on a line), and W02's wait for the laminator as the bonder's: a tool held while its wafer
    waits for another is standby, and so is the use's time in the rate."""
    monkeypatch.setattr(bump_seal_clean, "form_bumps", _bumps_then_a_laminator)
    monkeypatch.setattr(bump_seal_clean, "seal_with_resin", _resin_then_a_bonder)
    monkeypatch.setattr(engine, "TOOL_WAIT_TIMEOUT_S", 700.0)
    db = str(tmp_path / "runs.db")
    assert main(["run", "bump-seal-clean", "--sim", "--lot", "2", "--quiet", "--db", db]) == 1
    store = RunStore(db)
    records = RunRecords(store, store.resolve_run("last"))
    steps = records.steps().set_index(["wafer_id", "key"])
    run_out = steps.loc[("W01", "use laminator#1")]
    assert (run_out["status"], run_out["error"]) == (
        "failed",
        "no free tool (wire_bonder): none was given to a request for 700 s",
    )
    (held,) = [e for e in store.events(records.run_id) if e["kind"] == "held"]
    assert (held["wafer_id"], held["data"]["tool_unavailable"]) == ("W01", True)
    laminated = steps.loc[("W01", "laminate resin film#0"), "stopped_t"]
    assert run_out["stopped_t"] - laminated == pytest.approx(700.0)
    bumped = steps.loc[("W02", "form bumps#0"), "stopped_t"]
    given = steps.loc[("W02", "use laminator#0"), "started_t"]
    times = tool_time(records).set_index("tool")
    laminator, bonder = _stages(records, "laminator"), _stages(records, "wire_bonder")
    store.close()
    held_s = {
        tool: (stages["stopped_t"] - stages["started_t"]).sum()
        for tool, stages in (("laminator", laminator), ("wire_bonder", bonder))
    }
    assert given - bumped > 300.0
    assert times.loc["laminator", "productive_s"] == pytest.approx(held_s["laminator"] - 700.0)
    assert times.loc["wire_bonder", "productive_s"] == pytest.approx(
        held_s["wire_bonder"] - (given - bumped)
    )
    assert times.loc["wire_bonder", "performance"] > 0.95  # W02's bumping at W01's rate
    assert times.loc["laminator", "quality"] == 1.0  # W01's pass was no quality loss


def test_a_pass_another_tools_unavailability_ended_is_no_quality_loss(tmp_path, monkeypatch):
    """W02's bonder stage asked for the laminator, which W01's lamination had just alarmed:
    none in service (`ToolUnavailable`), the stage ended failed and W02 was held for want of
    the laminator. The bonder read 50 % quality, as if it had bumped a bad wafer; nothing
    judged W02 bad. That pass is neither good nor bad, as one cut off: the bonder's quality
    is 100 % (W01's pass, good), its performance W01's pass at its rate over its productive
    time until W02's rerun passes it (then 100 %), and the loss is the laminator's downtime,
    in its availability."""
    monkeypatch.setattr(bump_seal_clean, "form_bumps", _bumps_then_a_laminator)
    db = str(tmp_path / "runs.db")
    fault = "laminator:heater_runaway@laminate resin film"
    assert main(["run", "bump-seal-clean", "--sim", "--lot", "2", "--quiet", "--db", db,
                 "--fault", fault]) == 1  # fmt: skip
    store = RunStore(db)
    records = RunRecords(store, store.resolve_run("last"))
    steps = records.steps()
    bonder = steps[(steps["tool"] == "wire_bonder") & (steps["kind"] == "stage")]
    assert list(bonder["status"]) == ["completed", "failed"]
    assert bonder["error"].iloc[1].startswith("no laminator in service")
    holds = [e for e in store.events(records.run_id) if e["kind"] == "held"]
    (held,) = [e for e in holds if e["wafer_id"] == "W02"]
    assert held["data"] == {"tool_unavailable": True, "tools": ["laminator"]}
    times = tool_time(records).set_index("tool")
    store.close()
    bonded = times.loc["wire_bonder"]
    assert bonded["quality"] == 1.0
    first = bonder.iloc[0]
    rated = first["stopped_t"] - first["started_t"]  # W01's pass, the bonder's best
    assert bonded["performance"] == pytest.approx(rated / bonded["productive_s"])
    assert bonded["availability"] == 1.0  # the bonder was never down
    assert bonded["oee"] == pytest.approx(bonded["performance"])
    laminator = times.loc["laminator"]
    assert laminator["unscheduled_downtime_s"] > 0  # from its alarm: the laminator's loss
    assert laminator["availability"] < 1.0
    # the laminator cleared, W01 scrapped, resumed: W02's rerun passes the bonder, rated
    run_id = records.run_id
    assert main(["clear-tool", run_id, "laminator", "--by", "ana", "--db", db]) == 0
    scrap = ["disposition", run_id, "W01", "scrap", "--by", "ana", "--reason", "overheated"]
    assert main([*scrap, "--db", db]) == 0
    # W02 completes; the lot lost W01, so the resume exits 1 (its run reads completed)
    assert main(["resume", run_id, "--quiet", "--db", db]) == 1
    store = RunStore(db)
    times = tool_time(RunRecords(store, run_id)).set_index("tool")
    store.close()
    assert (times.loc["wire_bonder", "quality"], times.loc["wire_bonder", "oee"]) == (1.0, 1.0)
    assert times.loc["laminator", "availability"] < 1.0


def test_each_process_of_a_tool_is_rated_against_its_own_best(add_run, tmp_path):
    """The oven's 100 s cure and its 10 s reflow (two uses of it in the method, each run at
    its best): 100 %. A new user's two-process-via read 38 % (its cure rated against its
    faster reflow batch), the plasma cleaner 82 % (the descum against the dry etch). A second
    cure 20 s slower than the first is that process's loss alone: 210 s rated over 230 s."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], stopped_t=400.0)
    oven_stage(store, 0, 0.0, 100.0, "completed", None)
    oven_stage(store, 1, 200.0, 210.0, "completed", None)
    records = RunRecords(store, "R1")
    assert tool_time(records).set_index("tool").loc["oven", "performance"] == 1.0
    (slower,) = store.start_steps([stage_row("oven", "W1", 250.0, use=0)])
    store.finish_steps([slower], "completed", 370.0, 0.0, None)
    performance = tool_time(records).set_index("tool").loc["oven", "performance"]
    store.close()
    assert performance == pytest.approx(210.0 / 230.0)


def test_a_stage_cut_off_part_way_demonstrates_no_rate(run_db, tmp_path):
    """The tool's best time per wafer is its fastest completed use: a stage aborted a moment
    after it began (performance read 0 % after interrupted stages) leaves the figure as it was."""
    shutil.copy(run_db, tmp_path / "runs.db")
    store = RunStore(tmp_path / "runs.db", create=False)
    records = RunRecords(store, store.resolve_run("last"))
    before = tool_time(records).set_index("tool").loc["wire_bonder", "performance"]
    stage = records.steps().query("tool == 'wire_bonder' and kind == 'stage'").iloc[-1]
    row = stage_row(
        "wire_bonder",
        stage["wafer_id"],
        float(stage["stopped_t"]),
        run_id=stage["run_id"],
        session=int(stage["session"]),
        use=99,  # a use of its own
    )
    (cut,) = store.start_steps([row])
    store.finish_steps([cut], "interrupted", float(stage["stopped_t"]) + 0.01, 0.0, "aborted")
    after = tool_time(records).set_index("tool").loc["wire_bonder", "performance"]
    store.close()
    assert before > 0.5
    assert after == pytest.approx(before, rel=0.01)


def state_event(tool: str, state: ToolState, t: float) -> dict:
    """A `tool-state` event as the keeper records a driver's report."""
    return {
        "run_id": "R1",
        "session": 1,
        "kind": "tool-state",
        "wafer_id": None,
        "tool": tool,
        "message": f"{tool} {state.value}",
        "data": json.dumps({"state": state.value, "e10": state.e10.value}),
        "t": t,
        "wall": 0.0,
    }


def test_the_states_a_tool_reports_are_its_e10_time(tmp_path, add_run):
    """The saw (W1's stage on it 10-12 s) reports idle, busy 10-20 s, maintenance 30-50 s, a
    fault 60-70 s and goes offline at 90 s of a run of 100 s."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], stopped_t=100.0)
    (stage,) = store.start_steps([stage_row("saw", "W1", 10.0)])
    store.finish_steps([stage], "completed", 12.0, 0.0, None)
    reports = [
        (ToolState.IDLE, 0.0), (ToolState.BUSY, 10.0), (ToolState.IDLE, 20.0),
        (ToolState.MAINTENANCE, 30.0), (ToolState.IDLE, 50.0), (ToolState.FAULT, 60.0),
        (ToolState.IDLE, 70.0), (ToolState.OFFLINE, 90.0),
    ]  # fmt: skip
    store.add_rows("events", [state_event("saw", state, t) for state, t in reports])
    saw = tool_time(RunRecords(store, "R1")).set_index("tool").loc["saw"]
    store.close()
    assert (saw["productive_s"], saw["standby_s"]) == (10.0, 50.0)
    assert (saw["scheduled_downtime_s"], saw["unscheduled_downtime_s"]) == (20.0, 10.0)
    assert (saw["engineering_s"], saw["non_scheduled_s"]) == (0.0, 10.0)
    assert saw["availability"] == pytest.approx(0.7)


def test_a_tools_states_sum_to_the_run_clock_from_its_zero_not_from_its_recorded_start(
    tmp_path, add_run
):
    """A station run records its start (`started_t`) once its tools are reached, after its
    run clock began: here 1.6 s into a run of 10 s, the oven's stage 2-5 s. Its tools' time
    is the run's duration as the report gives it (10 s, not the 8.4 s from the recorded
    start), the time before the start standby, and utilisation over all of it."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], started_t=1.6, stopped_t=10.0)
    oven_stage(store, 0, 2.0, 5.0, "completed", None)
    duration_s = run_report(store, "R1")["duration_s"]
    oven = tool_time(RunRecords(store, "R1")).set_index("tool").loc["oven"]
    store.close()
    assert oven["duration_s"] == duration_s == 10.0
    assert (oven["productive_s"], oven["standby_s"]) == (3.0, 7.0)
    assert oven["utilisation"] == pytest.approx(0.3)


def test_a_stage_a_resumed_wafer_passes_again_with_its_steps_skipped_is_no_use(tmp_path, add_run):
    """Session 1: W1 on the oven 0-100 s. Session 2 passes the stage again at 200 s, its step
    skipped in no time: still one use, at its demonstrated rate (performance not 0)."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], stopped_t=200.0, sessions=2)
    for session, start, stop, status in (
        (1, 0.0, 100.0, "completed"),
        (2, 200.0, 200.0, "skipped"),
    ):
        inner = {"key": "bake#0", "name": "bake", "kind": "step", "stage": "use oven#0"}
        stage, step = store.start_steps(
            [
                stage_row("oven", "W1", start, session=session),
                stage_row("oven", "W1", start, session=session, **inner),
            ]
        )
        store.finish_steps([step], status, stop, 0.0)
        store.finish_steps([stage], "completed", stop, 0.0)
    oven = tool_time(RunRecords(store, "R1")).set_index("tool").loc["oven"]
    store.close()
    assert (oven["uses"], oven["wafers"], oven["productive_s"]) == (1, 1, 100.0)
    assert oven["performance"] == 1.0


def oven_passes(store, passes, wafer: str = "W1") -> None:
    """`wafer`'s passes through its oven stage: (session, start, stop, its steps' statuses),
    each a stage row with a step inside per status (`bake#0`, `check#0`), lasting start..stop."""
    for session, start, stop, statuses in passes:
        inner = [
            stage_row(
                "oven", wafer, start, session=session,
                key=f"{name}#0", name=name, kind="step", stage="use oven#0",
            )
            for name in ("bake", "check")[: len(statuses)]
        ]  # fmt: skip
        stage, *steps = store.start_steps(
            [stage_row("oven", wafer, start, session=session), *inner]
        )
        for step, status in zip(steps, statuses, strict=True):
            store.finish_steps([step], status, stop, 0.0)
        store.finish_steps([stage], "completed", stop, 0.0)


def test_a_stage_a_wafer_passes_again_in_the_same_session_with_its_steps_skipped_is_no_use(
    tmp_path, add_run
):
    """A wafer held, then run again in the same session once a tool is back in service
    (`clear-tool`, on a served line), passes again through the oven stage it completed, its
    step skipped: one use at its demonstrated rate. Matched by the stage's key alone, the
    first pass that ran vouched for the second, a use of no time that rated the oven at
    0 % (trial run ...-86c3)."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], stopped_t=300.0)
    oven_passes(store, [(1, 0.0, 100.0, ["completed"]), (1, 250.0, 250.001, ["skipped"])])
    oven = tool_time(RunRecords(store, "R1")).set_index("tool").loc["oven"]
    store.close()
    assert (oven["uses"], oven["wafers"], oven["productive_s"]) == (1, 1, 100.0)
    assert oven["performance"] == 1.0


def test_a_stage_replayed_with_its_process_skipped_is_a_pass_that_demonstrates_no_rate(
    tmp_path, add_run
):
    """W1's oven stage, cut off by a terminate after its bake (100 s), is replayed on resume:
    its check runs again, its bake is skipped, in 1 s. That replay completes the pass, rated at
    the oven's best (100 s), but is not itself a rate (a best of 1 s read 2 %)."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1", "W2"], stopped_t=400.0, sessions=2)
    oven_passes(store, [(1, 0.0, 100.0, ["completed", "completed"])])
    (stage,) = store.start_steps([stage_row("oven", "W2", 100.0)])
    store.finish_steps([stage], "interrupted", 200.0, 0.0, "terminate requested")
    oven_passes(store, [(2, 300.0, 301.0, ["skipped", "completed"])], wafer="W2")
    oven = tool_time(RunRecords(store, "R1")).set_index("tool").loc["oven"]
    store.close()
    assert oven["productive_s"] == 201.0
    assert oven["performance"] == pytest.approx(200.0 / 201.0)


def test_no_pass_run_through_is_an_empty_table_of_passes_not_one_without_columns():
    """A run aborted before any stage ended (a report of it made at once) has no pass its tool
    ran through: the passes are none, their columns kept. An empty selection had dropped the
    columns, and `packline report` of such a run failed on `KeyError: 'tool'`."""
    uses = pd.DataFrame(
        {"tool": ["plasma_cleaner"], "wafer_id": ["W01"], "status": ["interrupted"],
         "started_wall": [5.0], "stopped_wall": [10.0]}
    )  # fmt: skip
    passes = judged_passes(uses, [])
    assert passes.empty
    assert list(passes.columns) == list(uses.columns)
