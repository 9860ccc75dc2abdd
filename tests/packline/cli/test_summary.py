"""A run's clocks as the summary and `show` name them: simulated time, process time on a line
served faster than real time beside the controller's run clock, and what the wall figure is."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from packline.cli.summary import clocks_text, print_claim_check


def report(**run: object) -> dict[str, object]:
    base = {"simulated": False, "time_scale": 1.0, "status": "completed", "started_wall": 1000.0,
            "sessions": 1}  # fmt: skip
    stopped = {"stopped_t": 120.0, "stopped_wall": 1012.5}
    return {"run": {**base, **stopped, **run}, "duration_s": 120.0, "steps": []}


def test_a_dry_run_takes_simulated_time_and_its_wall_time_is_the_runs():
    text = clocks_text(report(simulated=True))
    assert text == "simulated time 0:02:00, 12.5 s wall from start to end"


def test_a_resumed_runs_wall_time_says_how_much_of_it_its_sessions_drove():
    """From start to end includes the time nobody drove the run, between its sessions (an
    hour's repair): the text had read as if the run took it all."""

    def event(kind: str, session: int, wall: float) -> dict[str, object]:
        return {"kind": kind, "session": session, "t": 0.0, "wall": wall}

    events = [event("run-started", 1, 1000.0), event("disposition", 1, 2000.0),
              event("run-finished", 1, 1004.0), event("run-started", 2, 3000.0),
              event("run-finished", 2, 3002.5)]  # fmt: skip
    resumed = report(simulated=True, sessions=2, stopped_wall=3002.5)
    text = clocks_text({**resumed, "events": events})
    assert text == (
        "simulated time 0:02:00, 2002.5 s wall from start to end (2 sessions drove it 6.5 s of "
        "wall time, "
        "the rest between them)"
    )


def test_on_real_tools_the_run_clock_is_process_time():
    assert clocks_text(report()).startswith("process time 0:02:00, ")


def test_on_a_line_served_faster_the_run_clock_is_wall_time_and_process_time_is_scaled():
    text = clocks_text(report(time_scale=60.0))
    assert text.startswith(
        "run clock 0:02:00 of wall time, process time on the line 2:00:00 (served at time x60)"
    )


def test_a_run_still_driven_says_how_long_it_has_run():
    text = clocks_text(
        {
            "run": {**report()["run"], "status": "running", "stopped_t": None, "stopped_wall": None,
                    "started_wall": time.time() - 65},
            "duration_s": None,
        }
    )  # fmt: skip
    assert text.startswith("process time -, running for 0:01:0")
    assert text.endswith("wall so far")


def test_a_paused_run_says_how_long_it_has_been_paused_beside_how_long_it_has_run():
    """`paused for` read the time since the run started, the run clock on a station, not
    since the pause."""
    now = time.time()
    paused = {
        **report()["run"],
        "status": "paused",
        "stopped_t": None,
        "stopped_wall": None,
        "started_wall": now - 605,
    }
    events = [
        {"session": 1, "kind": "paused", "t": 100.0, "wall": now - 400},
        {"session": 1, "kind": "resumed", "t": 200.0, "wall": now - 300},
        {"session": 1, "kind": "paused", "t": 500.0, "wall": now - 65},
    ]
    text = clocks_text({"run": paused | {"sessions": 1}, "duration_s": 540.0, "events": events})
    assert text.startswith("process time 0:09:00, paused for 0:01:0")
    assert re.search(r", 0:10:0\d wall so far$", text), text


def step(session: int, started: tuple[float, float], stopped: tuple[float, float] | None):
    """A step record of `session`, started and stopped at these (run clock, wall) times."""
    stopped_t, stopped_wall = stopped or (None, None)
    return {"session": session, "started_t": started[0], "started_wall": started[1],
            "stopped_t": stopped_t, "stopped_wall": stopped_wall}  # fmt: skip


def test_a_run_cut_off_is_timed_to_its_last_record():
    """A new user's killed dry run read `simulated time -, no end recorded`, where its records
    reached 4:39:48."""
    cut = {
        **report()["run"],
        "started_t": 0.0,
        "status": "interrupted",
        "stopped_t": None,
        "stopped_wall": None,
    }
    events = [{"session": 1, "kind": "run-started", "t": 0.0, "wall": 1000.0, "data": {}}]
    steps = [step(1, (10.0, 1001.0), (16788.0, 1003.0)), step(1, (16000.0, 1003.5), None)]
    text = clocks_text({"run": cut, "duration_s": 16788.0, "events": events, "steps": steps})
    assert text == (
        "process time 4:39:48 when cut off, 3.5 s wall from start to its last record "
        "(no end recorded: cut off)"
    )
    # its last record an event of its own, after its last step record: there (as its
    # session-cut-off event names it), not at what another process recorded of it since
    events += [
        {"session": 1, "kind": "held", "t": 16790.0, "wall": 1004.5, "data": {}},
        {"session": 1, "kind": "disposition", "t": 16790.0, "wall": 9000.0, "data": {}},
    ]
    text = clocks_text({"run": cut, "duration_s": 16790.0, "events": events, "steps": steps})
    assert text.endswith(" 4.5 s wall from start to its last record (no end recorded: cut off)")


def test_a_session_cut_off_counts_as_driven_up_to_its_last_record():
    """After a resume of a killed run, `2 sessions drove it 0.1 s`: the killed session, which
    ran 3.5 s, was not counted for want of its end."""
    events = [{"session": 1, "kind": "run-started", "t": 0.0, "wall": 1000.0},
              {"session": 2, "kind": "run-started", "t": 500.0, "wall": 2000.0},
              {"session": 2, "kind": "run-finished", "t": 900.0, "wall": 2000.1}]  # fmt: skip
    steps = [step(1, (10.0, 1001.0), (400.0, 1003.5)), step(2, (500.0, 2000.0), (900.0, 2000.1))]
    resumed = report(simulated=True, sessions=2, stopped_wall=2000.1)
    text = clocks_text({**resumed, "events": events, "steps": steps})
    assert text.endswith("(2 sessions drove it 3.6 s of wall time, the rest between them)")


def test_a_resumed_served_runs_sessions_drove_it_for_its_run_clock():
    """On a line served at x60, a resumed run's clocks are one: its sessions drove it for
    its run clock, which the process time multiplies. A wall figure of their own (7.6 s,
    from each session's run-started to its run-finished) had stood beside a run clock of
    7.70 s and 0:07:42 of process time, on no clock it named."""
    events = [{"session": 1, "kind": "run-started", "t": 0.05, "wall": 1000.05},
              {"session": 1, "kind": "run-finished", "t": 3.0, "wall": 1003.0},
              {"session": 2, "kind": "run-started", "t": 3.1, "wall": 1020.1},
              {"session": 2, "kind": "run-finished", "t": 7.7, "wall": 1024.75}]  # fmt: skip
    served = report(time_scale=60.0, sessions=2, stopped_t=7.7, stopped_wall=1024.75)
    text = clocks_text({**served, "duration_s": 7.7, "events": events})
    assert text == (
        "run clock 0:00:08 of wall time, process time on the line 0:07:42 (served at time x60), "
        "24.8 s wall from start to end (2 sessions drove it for the run clock's 0:00:08, the "
        "rest between them)"
    )


def test_a_claim_check_passed_on_some_wafers_says_it_was_on_those_only():
    """A new user read `claim check passed` of a lot of 4 with 3 wafers held as the lot's:
    the verdict says it judged the wafers that completed only."""
    condition = {"claim": "003:10", "condition": "no residue", "sites_checked": 8352,
                 "sites_passing": 8352, "counted": "pad", "verdict": "pass",
                 "failing_wafers": [], "wafers_checked": 1, "worst_site": None}  # fmt: skip
    check = {"status": "passed", "note": "", "conditions": [condition],
             "unchecked_wafers": ["W02", "W03", "W04"]}  # fmt: skip
    out = io.StringIO()
    print_claim_check(Console(file=out, width=160), check)
    lines = out.getvalue().splitlines()
    assert "8,352 pads" in out.getvalue()  # what the condition counted
    assert lines[-2:] == [
        "not checked (did not complete): W02, W03, W04",
        "claim check passed for the wafers that completed only",
    ]
    out = io.StringIO()
    print_claim_check(Console(file=out, width=160), {**check, "unchecked_wafers": []})
    assert out.getvalue().splitlines()[-1] == "claim check passed"


def test_a_wafers_reason_advises_its_commands_for_the_database_read(tmp_path, capsys, monkeypatch):
    """A trial's run into its own database printed W02's reason, held for want of the saw
    its blade broke, as `clear it with `packline clear-tool R dicing_saw --by NAME``, without
    the `--db` the footer gave every command: pasted, it cleared the saw of no run. The
    summary and `wafer` give a reason's commands for the database read, as `show`'s events."""
    from packline.cli import main

    monkeypatch.setenv("COLUMNS", "400")  # a table's cell on one line
    db = tmp_path / "own.db"
    fault = "dicing_saw:blade_crack@dice"
    run = ["run", "bump-seal-clean", "--sim", "--lot", "2", "--fault", fault, "--db", str(db)]
    assert main([*run, "--quiet"]) == 1
    clear = re.compile(r"`packline clear-tool \S+ dicing_saw --by NAME( --db \S+)?`")
    (summary,) = [line for line in capsys.readouterr().out.splitlines() if "│ W02" in line]
    told = clear.search(summary)
    assert told is not None
    assert told[1] == f" --db {db}"
    assert main(["wafer", "W02", "--db", str(db)]) == 0
    told = clear.search(capsys.readouterr().out)
    assert told is not None
    assert told[1] == f" --db {db}"
