"""`packline run`: the options of a run as the command line takes them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from packline.cli import main, running
from packline.clock import WallClock
from packline.sequences.engine import Engine, RunStore, open_run, schedule
from packline.sequences.engine.progress import clock_text
from packline.sim_instruments.line import SimulatedLine

from ...sequences.helpers import station_lot, stopped_at
from ...sequences.processes import Served


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


def test_gem_drives_the_dry_runs_gem_tools_through_the_gem_host_driver(db, capsys):
    laser = ["--recipe", "bump-seal-clean-laser"]  # its laser has no GEM face
    assert main(["run", "bump-seal-clean", "--sim", "--gem", *laser, "--quiet"]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        drivers = {row["name"]: row["driver"] for row in store.table("tools", run_id)}
    finally:
        store.close()
    assert drivers["wire_bonder"] == "gem"
    assert drivers["dicing_saw"] == "gem"
    assert drivers["laminator"] == "gem"
    assert drivers["laser"] == "laser"  # a kind without a GEM face
    capsys.readouterr()
    assert main(["show", "last"]) == 0  # and show says so, as the records hold it
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("│")
    ]
    tools = {row[0]: row[1:3] for row in cells if row[0] in drivers}
    assert tools["wire_bonder"][0] == "gem"
    assert tools["wire_bonder"][1].startswith("hsms://127.0.0.1:")
    assert tools["laser"][0] == "laser"
    assert tools["laser"][1].startswith("TCPIP0::127.0.0.1::")


def test_gem_on_a_station_file_is_bad_input(db, tmp_path, capsys):
    station = tmp_path / "line.yaml"
    station.write_text("name: line\ntools: {}\n")
    assert main(["run", "bump-seal-clean", "--station", str(station), "--gem"]) == 2
    assert "--gem serves the in-process simulated line" in capsys.readouterr().err
    assert not db.exists()  # refused before any record was opened


FAULT = "plasma_cleaner:rf_mismatch@plasma clean"


def _records(db: Path, run_id: str) -> dict[str, Any]:
    """The run's row, its wafers and its per-run tables: what a refused resume leaves as was."""
    store = RunStore(db, create=False)
    try:
        tables = ("steps", "events", "tools", "dispositions", "confirmations", "claim_checks")
        return {
            "run": store.run(run_id),
            "wafers": store.wafers(run_id),
            **{name: store.table(name, run_id) for name in tables},
        }
    finally:
        store.close()


def test_a_terminated_run_whose_wafers_are_all_held_is_not_resumed(db, capsys):
    """Nothing is left for a session to do: the resume is refused (exit 2) saying the run's
    state and what can be done, and writes nothing; a disposition makes it resumable."""
    run = ["run", "plasma-clean", "--sim", "--lot", "1", "--failure-policy", "stop", "--json"]
    assert main([*run, "--fault", FAULT]) == 1
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana"]) == 0
    capsys.readouterr()
    before = _records(db, run_id)
    assert before["run"]["status"] == "terminated"
    assert main(["resume", run_id]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run {run_id} is terminated: nothing to resume (its wafers: 1 held); "
        f"release or rework a held wafer first (`packline disposition {run_id} WAFER "
        "release|rework --by NAME --reason TEXT`; held: W01)\n"
        "resume refused: nothing was run and nothing was recorded; no tool was contacted\n"
    )
    assert _records(db, run_id) == before
    assert main(["disposition", run_id, "W01", "rework", "--by", "bo", "--reason", "seen"]) == 0
    assert main(["resume", run_id, "--quiet"]) == 0  # reworked; the fault is not injected again


@pytest.mark.parametrize(
    ("disposition", "exit_code", "status"),
    [("scrap", 1, "completed, 1 of 2 wafers scrapped"), ("rework", 0, "completed")],
)
def test_a_resumed_lot_that_scrapped_a_wafer_exits_1_and_says_so_where_it_reads_completed(
    disposition, exit_code, status, db, tmp_path, capsys, monkeypatch
):
    """A lot of 2 held by the chamber's batch alarm: W02 reworked, W01 scrapped or reworked
    too, the chamber cleared and the run resumed. A trial's resume of a lot whose W01 was
    scrapped exited 0, its summary, `show` and report reading plain `completed`: it exits 1
    (the lot did not yield every wafer) and each, as `runs`, says what the lot lost; the lot
    that completed every wafer exits 0 and reads `completed`."""
    monkeypatch.setenv("COLUMNS", "250")  # the summary's title whole on one line
    run = ["run", "plasma-clean", "--sim", "--lot", "2", "--failure-policy", "hold", "--json"]
    assert main([*run, "--fault", FAULT]) == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    run_id = summary["run_id"]
    # `--json`'s summary gives the status in words beside the word (it had the word alone)
    held = "held; fault injected: plasma_cleaner rf_mismatch"
    assert (summary["status"], summary["status_text"]) == ("held", held)
    # `show` of the held run says what its wafers need, as the run did at its end (it had
    # named no next step until a wafer was decided)
    assert main(["show", run_id]) == 0
    assert "W01, W02 held: decide each" in " ".join(capsys.readouterr().out.split())
    decided = {"W01": disposition, "W02": "rework"}
    for wafer, decision in decided.items():
        order = [run_id, wafer, decision, "--by", "ana", "--reason", "arced"]
        assert main(["disposition", *order]) == 0
    assert main(["clear-tool", run_id, "plasma_cleaner", "--by", "ana"]) == 0
    capsys.readouterr()
    assert main(["resume", run_id, "--confirmed-by", "ana"]) == exit_code
    injected = "; fault injected: plasma_cleaner rf_mismatch (cleared)"
    told = capsys.readouterr().out
    assert f"run {run_id}  {status}{injected}" in told
    # the run's last event says what the lot lost, as its status does (it read `completed`)
    (finished,) = [line for line in told.splitlines() if " run-finished " in line]
    assert finished.endswith(" run-finished " + status.replace(", ", ": ", 1))
    assert main(["show", run_id]) == 0
    shown = capsys.readouterr().out
    assert f"status {status}{injected}, 2 sessions" in shown
    # each wafer's timeline has its hold and the operator's decision on it (a trial's scrapped
    # wafer's had ended at its last step)
    rows = [" ".join(line.split()) for line in shown.splitlines() if line.startswith("│")]
    for wafer, decision in decided.items():
        assert any(f"│ disposition │ {decision} by ana: arced" in row for row in rows), wafer
    assert sum("│ held │ step 'plasma clean' of W01, W02 failed" in row for row in rows) == 2
    assert main(["runs"]) == 0
    assert f" {status}{injected} " in " ".join(capsys.readouterr().out.split())
    page = tmp_path / "report.html"
    assert main(["report", run_id, "--out", str(page)]) == 0
    assert f"<tr><th>status</th><td>{status}{injected}</td></tr>" in page.read_text()
    # and `diff`'s status row, as `show` says it (it had read plain `completed`)
    capsys.readouterr()
    assert main(["diff", run_id, run_id, "--json"]) == 0
    timings = {row["what"]: row for row in json.loads(capsys.readouterr().out)["timings"]}
    assert timings["status"]["a"] == f"{status}{injected}"


def test_a_piped_runs_advice_names_its_database_where_it_is_not_the_default(
    db, tmp_path, capsys, monkeypatch
):
    """A trial pasted the clear a piped run's `tool-out-of-service` line advised, which went to
    the default database: printed, the command names the run's."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "another.db"))
    run = ["run", "plasma-clean", "--sim", "--lot", "1", "--failure-policy", "stop"]
    assert main([*run, "--fault", FAULT, "--db", str(db)]) == 1
    (out_of_service,) = [
        line for line in capsys.readouterr().out.splitlines() if "tool-out-of-service" in line
    ]
    assert f"plasma_cleaner --by NAME --db {db}`" in out_of_service


#: A station of one plasma chamber at a port nothing listens on: a run refused before it
#: starts touches no tool, and one that starts fails to connect.
DEAD_LINE = (
    "name: dead\ntools:\n  plasma_cleaner: {driver: plasma_cleaner, "
    "address: 'modbus+tcp://127.0.0.1:1'}\n"
)


def test_a_station_run_nobody_can_answer_is_refused_when_its_steps_ask_a_confirmation(
    db, tmp_path, capsys
):
    """A new user's `packline run plasma-clean --station line.yaml --lot-file lot.yaml` from a
    script loaded the wafers, then held the whole lot at the first confirmation ("operator
    confirmation refused (no operator)"). The confirmations a recipe's steps ask are known
    from a run of it (its plan, a dry run of one wafer): refused before anything is touched."""
    station = tmp_path / "line.yaml"
    station.write_text(DEAD_LINE)
    assert main(["run", "plasma-clean", "--station", str(station)]) == 2  # stdin: pytest's
    err = capsys.readouterr().err
    assert err.startswith(
        "packline: checking whether the steps ask an operator's confirmation against a "
        "one-wafer plan of the recipe"
    )
    assert err.splitlines()[-2:] == [
        "packline: error: the steps of plasma-clean on this recipe ask the operator to confirm "
        "(a run of it asked 'wafers W01 seated in the chamber slots') and nobody can answer here "
        "(stdin is no terminal, and no --confirmed-by NAME): every wafer would be held at the "
        "first confirmation; give --confirmed-by NAME (who answers them yes in advance, "
        "recorded with each) or run it at a terminal",
        "run refused: nothing was run and nothing was recorded; no tool was contacted",
    ]
    assert not db.exists()  # no run recorded
    # answered in advance, the run goes on (to its tools, here unreachable: refused there)
    assert main(["run", "plasma-clean", "--station", str(station), "--confirmed-by", "ci"]) == 2
    assert "run not started: plasma_cleaner at modbus+tcp://127.0.0.1:1: connect" in (
        capsys.readouterr().err
    )
    # refused as its tools connected, it leaves no database it made (a new user's mistyped
    # --db had left an empty one behind)
    assert not db.exists()


def test_a_station_run_resumed_where_nobody_can_answer_is_refused_as_its_start_is(
    db, tmp_path, capsys
):
    """The start was refused, the resume was not: resumed from a script, the run loaded the
    wafers again and held them all at the first confirmation."""
    run_id = asyncio.run(_aborted_station_run(db, tmp_path, confirmed_by="ci"))
    before = _records(db, run_id)
    (started,) = [e for e in before["events"] if e["kind"] == "run-started"]
    assert json.loads(started["data"])["confirmed_by"] == "ci"  # what its hints resume with
    assert main(["resume", run_id]) == 2  # stdin: pytest's
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "packline: error: the steps of plasma-clean on this recipe ask the operator to confirm "
        "(a run of it asked 'wafers W01 seated in the chamber slots') and nobody can answer here "
        "(stdin is no terminal, and no --confirmed-by NAME): every wafer would be held at the "
        "first confirmation; give --confirmed-by NAME (who answers them yes in advance, "
        "recorded with each) or run it at a terminal",
        "resume refused: nothing was run and nothing was recorded; no tool was contacted",
    ]
    assert _records(db, run_id) == before
    resumed = ["resume", run_id, "--confirmed-by", "ci", "--quiet"]
    assert main(resumed) == 2  # answered in advance: refused at its tools, gone with their line
    assert f"run {run_id} not resumed: plasma_cleaner at " in capsys.readouterr().err
    assert _records(db, run_id) == before


async def _aborted_station_run(db: Path, folder: Path, confirmed_by: str | None = None) -> str:
    """A plasma-clean run of two wafers on a simulated line served for it alone, through its
    station file (in `folder`), aborted at its first step: a run to resume, its line gone."""
    store = RunStore(db)
    try:
        async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
            station = folder / "first.yaml"
            await asyncio.to_thread(station.write_text, line.station.to_yaml())
            return await stopped_at(
                store, station_lot(station), None, command="abort", confirmed_by=confirmed_by
            )
    finally:
        store.close()


@contextlib.contextmanager
def _served_at_time_x60(folder: Path) -> Iterator[tuple[Path, str]]:
    """A line `packline sim serve --time-scale 60` serves, and its station file as a user
    writes one by hand: `control:` copied, `time_scale` left out; with what a run or a resume
    on it is told is wrong with it."""
    with Served(folder / "served.yaml", "--time-scale", "60", "--for", "600") as served:
        written = served.station.read_text().splitlines(keepends=True)
        station = folder / "line.yaml"
        station.write_text("".join(line for line in written if not line.startswith("time_scale:")))
        name = yaml.safe_load(station.read_text())["name"]
        wrong = (
            f"station {name} gives no `time_scale` (so 1: the line's process time on the "
            "wall clock), "
            "but the simulated line it names is served "
            "at time x60 (`packline sim serve --time-scale 60`): the run's waits (a hold, a "
            "poll interval, a timeout) would pass at the wrong pace, each 60 times what the "
            "recipe gives it on the line's clock, and its process times would read 60 times too "
            "short; "
            "give `time_scale: 60` in the station file, as `sim serve "
            "--station-out` writes it"
        )
        yield station, wrong


def test_a_run_refused_for_its_station_files_time_scale_records_nothing(db, tmp_path, capsys):
    """A new user's trial: a station file without the `time_scale` of the line it names left
    a `failed` run with its wafers `pending` in `packline runs` (as every address typo did),
    while a missing role or a held tool recorded nothing. Refused before its first step, it
    now records nothing: bad input, exit 2."""
    with _served_at_time_x60(tmp_path) as (station, wrong):
        run = ["run", "plasma-clean", "--station", str(station), "--confirmed-by", "ci"]
        assert main([*run, "--lot", "2"]) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run not started: {wrong}; nothing was run and nothing was recorded: "
        "run it again with the station file corrected\n"
    )
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_resume_refused_for_its_station_files_time_scale_leaves_the_run_as_it_was(
    db, tmp_path, capsys
):
    """Refused so, a resume starts no session: the run's records are exactly as its last
    session left them, for a resume with the file corrected."""
    run_id = asyncio.run(_aborted_station_run(db, tmp_path))
    before = _records(db, run_id)
    with _served_at_time_x60(tmp_path) as (station, wrong):
        resume = ["resume", run_id, "--station", str(station), "--confirmed-by", "ci"]
        assert main(resume) == 2
    assert capsys.readouterr().err == (
        f"packline: error: run {run_id} not resumed: {wrong}; nothing was run and nothing was "
        "recorded, so the run is as its last session left it: resume it with the station file "
        "corrected, "
        f"`packline resume {run_id} --station FILE`\n"
    )
    assert _records(db, run_id) == before


def test_a_station_run_with_nothing_to_resume_says_so_first(db, tmp_path, capsys):
    """A trial's resume of a completed station run was told to add --confirmed-by, and only
    then that there was nothing to resume."""
    with Served(tmp_path / "line.yaml", "--time-scale", "300", "--for", "600") as served:
        run = ["run", "plasma-clean", "--station", str(served.station), "--lot", "1"]
        assert main([*run, "--confirmed-by", "ci", "--quiet", "--json"]) == 0
        run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
        assert main(["resume", run_id]) == 2  # stdin: pytest's, and no --confirmed-by
    err = capsys.readouterr().err
    assert f"run {run_id} is completed: nothing to resume" in err
    assert "--confirmed-by" not in err


#: A station of every tool a stacked tape-substrate recipe drives, at the discard port: a run
#: that starts fails to connect, after its checks.
DEAD_STACKING_LINE = """\
name: dead
tools:
  laser: {driver: laser, address: 'TCPIP0::127.0.0.1::9::SOCKET'}
  dispenser: {driver: dispenser, address: 'socket://127.0.0.1:9'}
  wire_bonder: {driver: wire_bonder, address: 'socket://127.0.0.1:9'}
  dicing_saw: {driver: dicing_saw, address: 'socket://127.0.0.1:9'}
  flip_chip_bonder: {driver: flip_chip_bonder, address: 'socket://127.0.0.1:9'}
  oven: {driver: oven, address: 'modbus+tcp://127.0.0.1:9'}
  grinder: {driver: grinder, address: 'TCPIP0::127.0.0.1::9::SOCKET'}
  ball_mounter: {driver: ball_mounter, address: 'modbus+tcp://127.0.0.1:9'}
"""


def test_a_stacked_recipe_s_confirmations_are_read_from_a_plan_of_a_whole_stack(
    db, tmp_path, capsys
):
    """A station run of tape-substrate-stacked (stack.levels = 5) nobody can answer at only
    warned that its confirmations were not known: its plan, a lot of 1, was refused (`a lot
    of 1: stack.levels = 5: ...`). Planned as the least lot the recipe makes, a whole stack,
    its steps are known to ask none: no warning, and the run goes on (to its tools, here
    unreachable)."""
    station = tmp_path / "line.yaml"
    station.write_text(DEAD_STACKING_LINE)
    args = ["--recipe", "tape-substrate-stacked", "--lot", "5", "--quiet"]
    assert main(["run", "tape-substrate", "--station", str(station), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "packline: checking whether the steps ask an operator's confirmation against a "
        "5-wafer plan of the recipe (a dry run of 5 wafers, the least lot the recipe makes, "
    )
    assert "warning" not in err
    assert "run not started: 8 tools cannot be reached" in err
    plans = RunStore(schedule.plans_path(db), create=False)
    try:
        (plan,) = plans.runs(method="tape-substrate")
    finally:
        plans.close()
    assert (plan["status"], plan["lot_size"]) == ("completed", 5)


def test_a_station_run_whose_confirmations_cannot_be_known_goes_on_saying_so(
    db, tmp_path, capsys, monkeypatch
):
    """Without a run of the recipe and with a plan that did not complete its wafer, whether
    its steps ask a confirmation is not known: not refused, but said."""
    monkeypatch.setattr(schedule, "PLAN_WAIT_S", 0.01)
    station = tmp_path / "line.yaml"
    station.write_text(DEAD_LINE)
    assert main(["run", "plasma-clean", "--station", str(station), "--quiet"]) == 2
    assert (
        "packline: warning: whether the steps of plasma-clean on this recipe ask an operator's "
        "confirmation is not known (no run of it completed its wafers, nor did its one-wafer "
        "plan within 0.01 s); nobody can answer one here (stdin is no terminal, and no "
        "--confirmed-by NAME): its wafers would be held at it\n"
    ) in capsys.readouterr().err


def _stopped_at_close(monkeypatch: pytest.MonkeyPatch, order: str) -> list[Engine]:
    """Make the next `packline run` of this test stop by `order` (terminate or abort) as its
    chamber first closes on a batch; the list holds its engine once it is open."""
    engines: list[Engine] = []

    def order_at_close(event: Any) -> None:
        if event.kind == "step-started" and event.step == "close door":
            engines[0].request(order, "test operator")

    @contextlib.asynccontextmanager
    async def stopping_run(*args: Any, observers: list, **kwargs: Any) -> AsyncIterator[Engine]:
        async with open_run(*args, observers=[*observers, order_at_close], **kwargs) as engine:
            engines.append(engine)
            yield engine

    monkeypatch.setattr(running, "open_run", stopping_run)
    return engines


def test_an_aborted_runs_json_summary_names_the_wafers_it_left_in_the_tool_and_the_resume(
    db, capsys, monkeypatch
):
    """Aborted as the chamber closes on its batch, the run left W01 and W02 in it: its text
    summary said so and named the resume that takes them off, its `--json` summary did not.
    Both say it now, as `show --json` does, in the same words. The text says how the resume's
    simulated line holds each wafer: as the latest step it counts as done left it, a released
    held step too (decision 0108; it had said its last completed step, which a wafer released
    at a step cut off is not restored from)."""
    _stopped_at_close(monkeypatch, "abort")
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    run_id = summary["run_id"]
    assert summary["status"] == "aborted"
    assert summary["left_on_tools"] == {
        "tools": {"plasma_cleaner": ["W01", "W02"]},
        "may_be": {},
        "safe_state_unconfirmed": {},
        "abort_not_confirmed": {},
        "resume": f"packline resume {run_id}",
        "resume_note": None,
        "dry_run": True,
    }
    assert main(["show", run_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["left_on_tools"] == summary["left_on_tools"]
    assert main(["show", run_id]) == 0
    shown = capsys.readouterr().out.replace("\n", " ")  # the words of a line wrapped
    assert (
        f"left on the simulated tools when the run stopped: W01, W02 in plasma_cleaner; "
        f"`packline resume {run_id}` takes them up again (the simulated line it starts holds "
        "each wafer as the latest step it counts as done left it, on no tool: its last "
        "completed step, or the step that held it once released, if its snapshot was kept as "
        "it ended)"
    ) in " ".join(shown.split())
    assert "unload them by hand" not in shown  # the in-process line ended with the run
    # the resume takes them up again, and its summary says nothing is left
    assert main(["resume", run_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["left_on_tools"] is None


def test_a_run_ending_with_wafers_held_names_its_resume_once(db, capsys):
    """A plasma-clean lot of 6 whose chamber alarms under its first batch ends held: W01-W04
    to decide, W05 and W06 held for want of the chamber. Its summary named `packline resume`
    twice, in the line every stopped run's summary has and at the end of the held wafers'
    advice; it names it once, last, in the advice, which says what comes first."""
    fault = "--fault=plasma_cleaner:rf_mismatch@plasma clean"
    args = ["--sim", "--lot", "6", "--failure-policy", "hold", "--quiet", fault]
    assert main(["run", "plasma-clean", *args]) == 1
    ended = " ".join(capsys.readouterr().out.split())
    store = RunStore(db, create=False)
    (run,) = store.runs()
    store.close()
    assert ended.count("packline resume") == 1
    assert ended.endswith(
        "held only for want of a tool, no decision needed: it runs again once its tool is "
        "back; plasma_cleaner is out of service until someone clears it (alarm): once its "
        f"cause is fixed, `packline clear-tool {run['id']} plasma_cleaner --by NAME`; then "
        f"`packline resume {run['id']}`"
    )


@pytest.mark.parametrize(("order", "status"), [("terminate", "terminated"), ("abort", "aborted")])
def test_a_stopped_runs_summary_names_the_resume_that_goes_on(
    order, status, db, capsys, monkeypatch
):
    """A run terminated (Ctrl-C) or aborted at its terminal ended on its claim check
    ('claim check incomplete: nothing checked') with no `packline resume` named, where `show`
    of it named one. Its summary says it, in the words `show` gives it."""
    engines = _stopped_at_close(monkeypatch, order)
    assert main(["run", "plasma-clean", "--sim", "--lot", "8", "--quiet"]) == 1
    ended = " ".join(capsys.readouterr().out.split())
    run_id = engines[0].run_id
    said = (
        f"nothing drives it: `packline resume {run_id}` goes on from its records "
        "(docs/engine.md, Checkpoints and resume)"
    )
    assert f"{status}, {said}" in ended
    assert main(["show", run_id]) == 0
    assert ended.count(said) == 1 == " ".join(capsys.readouterr().out.split()).count(said)


@pytest.mark.parametrize("command", ["run", "resume"])
def test_run_and_resume_help_say_what_each_exit_code_means(command, capsys):
    """A trial could not tell a refusal from a failed run by its exit code: the help of the
    commands that drive a run says what each means."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 every wafer completed" in shown
    assert "1 the run was recorded but did not complete every wafer" in shown
    assert "2 refused: nothing was run and nothing was recorded" in shown


def test_a_piped_run_on_a_served_line_stamps_its_events_as_show_lists_them(db, tmp_path, capsys):
    """A run piped (stdout no terminal: CI) on a line served at time x300 printed each event
    at the run clock's wall time, `[0:00:01] run-finished completed`, where `show` lists it
    at the line's process time, `[0:05:13] run-finished completed`: it prints the process
    time now, each recorded event's line as `show` lists it."""
    with Served(tmp_path / "line.yaml", "--time-scale", "300", "--for", "600") as served:
        run = ["run", "plasma-clean", "--station", str(served.station), "--lot", "1"]
        assert main([*run, "--confirmed-by", "ci"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert main(["show", "last"]) == 0
    listed = capsys.readouterr().out.splitlines()
    kinds = [line.split()[1] for line in printed]
    assert kinds == ["run-started", "batch-formed", "wafer-finished", "run-finished"]
    recorded = [line for line in printed if " wafer-finished " not in line]  # the wafers' table
    assert [line for line in recorded if line not in listed] == []
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        (finished,) = [e for e in store.events(run_id) if e["kind"] == "run-finished"]
    finally:
        store.close()
    assert printed[-1] == f"[{clock_text(finished['t'] * 300)}] run-finished completed"
