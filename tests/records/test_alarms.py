"""Alarms across runs: failures per tool, their downtime, MTBF and MTTR, by hand-made records."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from packline.cli import main
from packline.cli.results import DOWNTIME_CLOCK
from packline.records import RunRecords
from packline.records.alarms import alarm_history
from packline.records.tooltime import tool_time
from packline.sequences.engine import BadInput, RunStore

from .conftest import STATION_YAML, stage_row

#: Noon of two days, local time: the runs' starts.
DAY_1 = time.mktime((2026, 3, 2, 12, 0, 0, 0, 0, -1))
DAY_2 = time.mktime((2026, 3, 3, 12, 0, 0, 0, 0, -1))


def add_use(
    store: RunStore,
    run_id: str,
    wafers: list[str],
    start: float,
    stop: float,
    alarm: str | None,
    wall: float = 0.0,
) -> None:
    """The oven's use by `wafers` (a batch when several) from `start` to `stop`: completed,
    or failed by alarm code `alarm` at `stop`, Unix time `wall` (one alarm row per wafer)."""
    batch = {"kind": "batch", "batch": f"b{start}"} if len(wafers) > 1 else {}
    rows = [stage_row("oven", wafer, start, run_id=run_id, **batch) for wafer in wafers]
    ids = store.start_steps(rows)
    store.finish_steps(ids, "completed" if alarm is None else "failed", stop, 0.0, alarm)
    if alarm is not None:
        store.add_rows(
            "alarms",
            [
                {
                    "run_id": run_id,
                    "wafer_id": wafer,
                    "step_id": step,
                    "tool": "oven",
                    "code": alarm,
                    "message": f"alarm {alarm}",
                    "t": stop,
                    "wall": wall,
                }
                for wafer, step in zip(wafers, ids, strict=True)
            ],
        )


@pytest.fixture
def two_runs(tmp_path: Path, add_run):
    """Run R1 (day 1, 0-1000 s): W1 on the oven 50-100 s, failed by E1, the oven cleared at
    400 s, then on the saw 500-550 s. Run R2 (day 2, 0-500 s): W1 on the oven 0-150 s,
    completed; W2 and W3 as a batch 200-300 s, failed by E2 (an alarm row per wafer), never
    cleared."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], status="held", started_wall=DAY_1, stopped_t=1000.0)
    add_use(store, "R1", ["W1"], 50.0, 100.0, "E1")
    (sawing,) = store.start_steps([stage_row("saw", "W1", 500.0, run_id="R1")])
    store.finish_steps([sawing], "completed", 550.0, 0.0, None)
    cleared = {"run_id": "R1", "session": 1, "kind": "tool-cleared", "wafer_id": None}
    message = "oven back in service, cleared by ana"
    data = json.dumps({"by": "ana", "cleared": True})
    store.add_rows(
        "events",
        [{**cleared, "tool": "oven", "message": message, "data": data, "t": 400.0, "wall": 0.0}],
    )
    add_run(store, "R2", ["W1", "W2", "W3"], status="held", started_wall=DAY_2, stopped_t=500.0)
    add_use(store, "R2", ["W1"], 0.0, 150.0, None)
    add_use(store, "R2", ["W2", "W3"], 200.0, 300.0, "E2")
    yield store
    store.close()


def test_mtbf_is_productive_time_per_failure_over_every_run(two_runs):
    """Oven: productive 50 + 250 s, two failures (a batch's alarm is one), down 300 + 200 s;
    one restored, in 300 s (E2 was never cleared: no restoration, out of MTTR)."""
    history = alarm_history(two_runs)
    assert history.runs == ["R1", "R2"]
    oven = history.tools.set_index("tool").loc["oven"]
    assert oven["runs"] == 2
    assert oven["productive_s"] == 300.0
    assert oven["alarms"] == 2
    assert oven["downtime_s"] == 500.0
    assert oven["mtbf_s"] == 150.0
    assert (oven["restored"], oven["mttr_s"]) == (1, 300.0)
    codes = history.alarms.set_index("code")
    assert codes.loc["E1", ["count", "wafers", "runs", "downtime_s"]].tolist() == [1, 1, 1, 300.0]
    assert codes.loc["E2", ["count", "wafers", "runs", "downtime_s"]].tolist() == [1, 2, 1, 200.0]


def test_tools_counts_the_failures_alarms_counts(two_runs):
    """R2's batch alarm is recorded once per wafer (W2, W3): one failure in both figures."""
    times = tool_time(RunRecords(two_runs, "R2")).set_index("tool")
    assert len(RunRecords(two_runs, "R2").alarms()) == 2
    assert times.loc["oven", "alarms"] == 1
    day_2 = time.mktime((2026, 3, 3, 0, 0, 0, 0, 0, -1))
    assert (
        alarm_history(two_runs, since_wall=day_2).tools.set_index("tool").loc["oven"]["alarms"]
        == times.loc["oven", "alarms"]
    )


def test_a_tool_that_never_failed_has_no_mtbf(two_runs):
    saw = alarm_history(two_runs, tool="saw")
    assert saw.tools["tool"].tolist() == ["saw"]
    row = saw.tools.iloc[0]
    assert (row["runs"], row["alarms"], row["productive_s"], row["downtime_s"]) == (1, 0, 50.0, 0.0)
    assert row["mtbf_s"] is None or math.isnan(row["mtbf_s"])
    assert saw.alarms.empty


def test_since_keeps_the_runs_started_on_or_after_the_day(two_runs):
    day_2 = time.mktime((2026, 3, 3, 0, 0, 0, 0, 0, -1))
    oven = alarm_history(two_runs, since_wall=day_2).tools.set_index("tool").loc["oven"]
    assert (oven["runs"], oven["productive_s"], oven["alarms"], oven["mtbf_s"]) == (
        1,
        250.0,
        1,
        250.0,
    )


def test_a_tool_no_run_had_is_refused_naming_the_tools(two_runs):
    with pytest.raises(BadInput, match=r"--tool nope: no run chosen had that tool .*oven, saw"):
        alarm_history(two_runs, tool="nope")


def test_the_command_prints_the_same_figures(two_runs, capsys):
    db = str(two_runs.path)
    assert main(["alarms", "--db", db, "--since", "2026-03-03", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == ["R2"]
    assert data["tools"][0] | {"last_alarm_wall": None} == {
        "tool": "oven",
        "clock": "wall",
        "runs": 1,
        "productive_s": 250.0,
        "alarms": 1,
        "injected": 0,
        "restored": 0,
        "restored_while_stopped": 0,
        "downtime_s": 200.0,
        "mtbf_s": 250.0,
        "mttr_s": None,
        "mttr_clock": None,
        "last_alarm_wall": None,
    }
    assert main(["alarms", "--db", db, "--tool", "oven"]) == 0
    out = capsys.readouterr().out
    # the heading had read `run clock H:MM:SS` over an MTTR that may be wall time (0064)
    heading = "H:MM:SS on the clock of the row (simulated: dry runs' run clock; wall: lines'"
    assert heading in " ".join(out.split())
    assert "run clock H:MM:SS" not in out
    assert "0:02:30" in out  # MTBF 150 s
    assert "0:05:00" in out  # MTTR 300 s
    assert "; 1 failure no clear followed is left out" in " ".join(out.split())
    with pytest.raises(SystemExit) as refused:
        main(["alarms", "--db", db, "--since", "2026-3-3"])
    assert refused.value.code == 2
    assert "'2026-3-3' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_the_footer_counts_two_failures_no_clear_followed_in_the_plural(two_runs, capsys):
    """Its count is read as `counted` reads every count (it had printed '1 failures')."""
    add_use(two_runs, "R2", ["W1"], 350.0, 400.0, "E3")
    assert main(["alarms", "--db", str(two_runs.path), "--tool", "oven"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "; 2 failures no clear followed are left out" in out


def test_a_clear_made_while_the_run_was_stopped_restores_by_the_wall_clock(
    tmp_path, add_run, capsys
):
    """A station run's oven alarms at 50 s and the run holds at 51 s; the oven is repaired and
    cleared 30 min later, while the run is stopped (its clock stands still: the clear is
    recorded at 51 s). Its downtime in the run is 1 s; its time to restore, the MTTR, is the
    30 min (it had been the 1 s). The row had read downtime 0:00:01 beside MTTR 0:30:00 on its
    clock, `wall`, as if one clock gave both: the MTTR says it is the wall clock's (the run
    clock stood still through the repair, which the downtime leaves out), and `tools` says
    which clock its downtime is on."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "R1", ["W1"], status="held", started_wall=DAY_1, stopped_t=51.0)
    add_use(store, "R1", ["W1"], 0.0, 50.0, "E1", wall=DAY_1 + 50.0)
    cleared = {"run_id": "R1", "session": 1, "kind": "tool-cleared", "wafer_id": None}
    data = json.dumps({"by": "ana", "cleared": True, "run_status": "held"})
    message = "oven cleared by ana while the run was held"
    when = {"t": 51.0, "wall": DAY_1 + 50.0 + 1800.0}
    store.add_rows(
        "events", [{**cleared, "tool": "oven", "message": message, "data": data, **when}]
    )
    oven = alarm_history(store).tools.set_index("tool").loc["oven"]
    store.close()
    assert (oven["downtime_s"], oven["restored"], oven["mttr_s"]) == (1.0, 1, 1800.0)
    assert oven["restored_while_stopped"] == 1
    db = str(tmp_path / "runs.db")
    assert main(["alarms", "--db", db]) == 0
    out = capsys.readouterr().out
    tools = out.split("by code")[0].splitlines()
    (row,) = [line.split("│") for line in tools if line.startswith("│ oven ")]
    assert [cell.strip() for cell in row[2:11]] == [
        "wall", "1", "0:00:50", "1", "0", "1", "0:00:01", "0:00:50", "0:30:00 wall clock"
    ]  # fmt: skip
    assert "the downtime counts none of that time: the MTTR then reads 'wall clock'" in " ".join(
        out.split()
    )
    assert main(["tools", "R1", "--db", db]) == 0
    assert DOWNTIME_CLOCK in " ".join(capsys.readouterr().out.split())


def test_a_served_lines_runs_have_a_clock_of_their_own(tmp_path, add_run, capsys):
    """A line served at x60 and real tools: their wall seconds were one `wall` row, a served
    line's 40 s (40 min of its process) added to real tools' 40 s. A served line's row is on
    `wall x60`, and its MTTR, its wall seconds, says so."""
    store = RunStore(tmp_path / "runs.db")
    served = STATION_YAML + "time_scale: 60\n"
    add_run(store, "SERVED", ["W1"], station_yaml=served, started_wall=DAY_1, stopped_t=200.0)
    add_use(store, "SERVED", ["W1"], 0.0, 40.0, "E1", wall=DAY_1 + 40.0)
    add_run(store, "LINE", ["W1"], started_wall=DAY_2, stopped_t=200.0)
    add_use(store, "LINE", ["W1"], 0.0, 40.0, "E1", wall=DAY_2 + 40.0)
    cleared = {"session": 1, "kind": "tool-cleared", "wafer_id": None, "tool": "oven"}
    data = json.dumps({"by": "ana", "cleared": True})
    store.add_rows(
        "events",
        [
            {**cleared, "run_id": run, "message": "oven cleared", "data": data, "t": 60.0,
             "wall": wall + 60.0}
            for run, wall in (("SERVED", DAY_1), ("LINE", DAY_2))
        ],
    )  # fmt: skip
    history = alarm_history(store)
    store.close()
    oven = history.tools.set_index(["tool", "clock"])
    columns = ["runs", "productive_s", "alarms", "downtime_s", "mttr_s", "mttr_clock"]
    assert oven.loc[("oven", "wall x60"), columns].tolist() == [1, 40.0, 1, 20.0, 20.0, "wall"]
    assert oven.loc[("oven", "wall"), columns].tolist() == [1, 40.0, 1, 20.0, 20.0, "wall"]
    assert main(["alarms", "--db", str(tmp_path / "runs.db")]) == 0
    tools = capsys.readouterr().out.split("by code")[0]
    rows = [line.split("│") for line in tools.splitlines() if line.startswith("│ oven ")]
    mttr = {row[2].strip(): row[10].strip() for row in rows}
    assert mttr == {"wall": "0:00:20", "wall x60": "0:00:20 wall"}


def test_a_dry_runs_times_and_a_lines_are_kept_apart(tmp_path, add_run, capsys):
    """A dry run's oven failed after 100 s of simulated time and a station run's after 40 s of
    wall time: one row per clock, never a 140 s productive time or a 70 s MTBF. The dry run's
    oven, cleared 600 s of wall time later while the run was stopped, is restored by the wall
    clock, on the row that holds its alarm, its MTTR said to be wall time (it had been counted
    on the wall row, beside the station run's clear 20 s after its alarm: the simulated row
    read restored 0, no MTTR, the wall row 2 restored of 1 alarm, MTTR 310 s)."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "DRY", ["W1"], status="held", started_wall=DAY_1, stopped_t=101.0, simulated=1)
    add_use(store, "DRY", ["W1"], 0.0, 100.0, "E1", wall=DAY_1 + 1.0)
    add_run(store, "LINE", ["W1"], status="completed", started_wall=DAY_2, stopped_t=200.0)
    add_use(store, "LINE", ["W1"], 0.0, 40.0, "E1", wall=DAY_2 + 40.0)
    cleared = {"session": 1, "kind": "tool-cleared", "wafer_id": None, "tool": "oven"}
    store.add_rows(
        "events",
        [
            {
                **cleared,
                "run_id": "DRY",
                "message": "oven cleared by ana while the run was held",
                "data": json.dumps({"by": "ana", "cleared": True, "run_status": "held"}),
                "t": 101.0,
                "wall": DAY_1 + 601.0,
            },
            {
                **cleared,
                "run_id": "LINE",
                "message": "oven back in service, cleared by ana",
                "data": json.dumps({"by": "ana", "cleared": True}),
                "t": 60.0,
                "wall": DAY_2 + 60.0,
            },
        ],
    )
    history = alarm_history(store)
    store.close()
    oven = history.tools.set_index(["tool", "clock"])
    columns = ["runs", "productive_s", "alarms", "downtime_s", "mtbf_s", "restored"]
    assert oven.loc[("oven", "simulated"), [*columns, "mttr_s", "mttr_clock"]].tolist() == [
        1, 100.0, 1, 1.0, 100.0, 1, 600.0, "wall",
    ]  # fmt: skip
    assert oven.loc[("oven", "wall"), [*columns, "mttr_s", "mttr_clock"]].tolist() == [
        1, 40.0, 1, 20.0, 40.0, 1, 20.0, "wall",
    ]  # fmt: skip
    assert main(["alarms", "--db", str(tmp_path / "runs.db")]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out if line.startswith("│ oven") and "│ E1" not in line]
    assert [row[3:14] for row in rows] == [
        ["simulated", "│", "1", "│", "0:01:40", "│", "1", "│", "0", "│", "1"],
        ["wall", "│", "1", "│", "0:00:40", "│", "1", "│", "0", "│", "1"],
    ]
    assert rows[0][19:21] == ["0:10:00", "wall"]  # the dry run's MTTR, said to be wall time
    assert rows[1][19:21] == ["0:00:20", "│"]  # on its own row's clock
    codes = history.alarms.set_index(["code", "clock"])
    assert codes.loc[("E1", "simulated"), ["count", "downtime_s"]].tolist() == [1, 1.0]
    assert codes.loc[("E1", "wall"), ["count", "downtime_s"]].tolist() == [1, 20.0]


def test_an_alarm_a_fault_injected_raised_is_told_from_the_tools_own(tmp_path, add_run, capsys):
    """A hardware-in-the-loop trial: `alarms` counted the alarm of a fault `sim fault`
    injected as the oven's own. An alarm after a fault injected on the tool in its run is the
    fault's, though the run learnt of the fault after it (a word recorded later, by when the
    line injected it); one after the fault was cleared is the tool's own again. The oven's
    MTBF is its productive time per failure of its own."""
    store = RunStore(tmp_path / "runs.db")
    add_run(store, "LINE", ["W1", "W2"], status="held", started_wall=DAY_1, stopped_t=500.0)
    add_use(store, "LINE", ["W1"], 0.0, 40.0, "ZONE_SENSOR", wall=DAY_1 + 40.0)
    add_use(store, "LINE", ["W2"], 100.0, 160.0, "OVER_TEMP", wall=DAY_1 + 160.0)
    told = {"run_id": "LINE", "session": 1, "wafer_id": None, "tool": "oven"}
    fault = "zone_sensor_break"
    store.add_rows(
        "events",
        [
            {
                **told,
                "kind": kind,
                "status": fault,
                "message": f"packline sim fault{option} by bo at ..., from another process",
                "data": json.dumps({"fault": fault, "by": "bo", f"{when}_wall": DAY_1 + at}),
                "t": 45.0 + at,
                "wall": DAY_1 + 45.0 + at,
            }
            for kind, option, when, at in (
                ("fault-injected", "", "injected", 30.0),
                ("fault-cleared", " --clear", "cleared", 60.0),
            )
        ],
    )
    store.mark_injected_alarms("LINE")
    marked = [(a["code"], a["injected_fault"]) for a in store.table("alarms", "LINE")]
    assert marked == [("ZONE_SENSOR", fault), ("OVER_TEMP", None)]
    history = alarm_history(store)
    store.close()
    oven = history.tools.set_index("tool").loc["oven"]
    assert (oven["alarms"], oven["injected"], oven["mtbf_s"]) == (2, 1, oven["productive_s"])
    codes = history.alarms.set_index("code")["injected"]
    assert (codes["ZONE_SENSOR"], codes["OVER_TEMP"]) == (1, 0)
    assert main(["alarms", "--db", str(tmp_path / "runs.db"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(row["alarms"], row["injected"]) for row in data["tools"]] == [(2, 1)]
    assert main(["alarms", "--db", str(tmp_path / "runs.db")]) == 0
    out = capsys.readouterr().out.splitlines()
    (row,) = [line.split() for line in out if line.startswith("│ oven") and "│ Z" not in line
              and "│ O" not in line]  # fmt: skip
    assert row[9:12] == ["2", "│", "1"]  # alarms, injected
