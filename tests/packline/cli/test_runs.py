"""`packline runs`: a run still driven says how long it has run so far (and `show`); runs of a
lot found by its id, which is never cut, nor the run's."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import time
from contextlib import closing
from importlib import resources
from pathlib import Path

import pytest
from rich.console import Console

from packline.cli import main
from packline.cli.runs import runs_table
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare
from packline.sequences.engine.eta import TERMINATING, run_eta
from packline.sequences.engine.liveness import this_host
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.recorded_station import DRY_RUN_LINE, line_text

from ...sequences.processes import Served
from .test_show import paused_dry_run

#: The recipes shipped with packline.
SHIPPED_RECIPES = str(resources.files("packline.sequences").joinpath("recipes"))


def _driven(db, status: str) -> dict:
    """A dry run's records as if a live process (this test's parent) still drove it in
    `status`: not stopped yet."""
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        store.update_run(
            run_id,
            status=status,
            pid=os.getppid(),
            host=socket.gethostname(),
            stopped_t=None,
            stopped_wall=None,
        )
        return store.run(run_id) | {"steps": store.table("steps", run_id)}
    finally:
        store.close()


def test_runs_of_a_database_that_is_not_there(tmp_path, monkeypatch, capsys):
    """No default database yet: no runs, and none made. A --db naming none is refused as
    every other command refuses it: a mistyped path had listed nothing, as if it were empty."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    assert main(["runs"]) == 0
    assert f"runs in {tmp_path / 'runs.db'}" in capsys.readouterr().out
    assert not (tmp_path / "runs.db").exists()
    typo = tmp_path / "rnus.db"
    assert main(["runs", "--db", str(typo)]) == 2
    assert f"run database {typo} does not exist" in capsys.readouterr().err
    assert not typo.exists()


def test_a_run_still_driven_shows_its_wall_time_so_far(tmp_path, capsys):
    db = tmp_path / "runs.db"
    run_id = _driven(db, "running")["id"]
    capsys.readouterr()
    assert main(["runs", "--db", str(db)]) == 0
    assert "wall so far" in capsys.readouterr().out
    assert main(["show", run_id, "--db", str(db)]) == 0
    assert "running for 0:" in capsys.readouterr().out


def test_a_paused_run_still_driven_shows_its_run_clock_so_far(tmp_path, capsys):
    """Its clock was '-' until the run stopped: a dry run's is the latest step's time."""
    db = tmp_path / "runs.db"
    run = _driven(db, "paused")
    capsys.readouterr()
    assert main(["show", run["id"], "--db", str(db)]) == 0
    so_far = clock_text(max(step["stopped_t"] for step in run["steps"]) - run["started_t"])
    assert f"simulated time {so_far}, paused, 0:" in capsys.readouterr().out  # no pause event


async def test_a_paused_run_counts_its_wafers_as_paused_and_those_in_a_step_running(
    tmp_path, capsys, monkeypatch
):
    """A new user's trial: a run paused mid-lot read `6 (0 done, 0 held, 6 running)`, as if
    the line were processing every wafer while nothing moved. Its wafers are counted as `show`
    reads them, the live view's words: those in a stage the pause waits for running, the
    others paused; once the stage ends, all paused."""
    monkeypatch.setenv("COLUMNS", "200")  # the wafers column whole on one line
    db = tmp_path / "runs.db"

    def look(run_id: str) -> tuple[dict, str]:
        capsys.readouterr()
        assert main(["runs", "--db", str(db), "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert main(["runs", "--db", str(db)]) == 0
        return listed, capsys.readouterr().out

    (at_pause, text_at_pause), (after_step, text_after) = await paused_dry_run(db, look)
    assert "6 (0 done, 0 held, 4 running, 2 paused)" in text_at_pause
    assert "6 (0 done, 0 held, 6 paused)" in text_after
    assert (at_pause["status"], at_pause["in_progress"]) == ("paused", 6)
    assert at_pause["under_way"] == {"running": 4, "paused": 2}
    assert after_step["under_way"] == {"paused": 6}


async def test_a_run_being_terminated_says_so_from_the_request_on(tmp_path, capsys, monkeypatch):
    """A tester's `packline terminate RUN --by bo` answered `terminate requested`, but `runs`
    said plain `running` until the last wafer stopped (some 15 s on a served line), where a
    pause says so from its request on. From the `terminating` event on, the status says the
    run is terminating, since when and by whom (`--json`: `terminating`; `status` stays
    `running`, as `--status running` finds it); `show` heads the run alike."""
    monkeypatch.setenv("COLUMNS", "250")  # the status whole on one line
    db = tmp_path / "runs.db"
    engine: list = []
    looks: list[tuple[dict, str, str, str]] = []

    def look() -> None:
        capsys.readouterr()
        assert main(["runs", "--db", str(db), "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert main(["runs", "--db", str(db)]) == 0
        listed_text = capsys.readouterr().out
        assert main(["show", "last", "--db", str(db)]) == 0  # as `show` heads the run
        shown = capsys.readouterr().out
        with closing(RunStore(db)) as reader:  # the dashboard's ETA
            looks.append((listed, listed_text, shown, run_eta(reader, listed["id"])[2]))

    def observe(event) -> None:
        if event.kind == "step-started" and event.step == "plasma clean" and len(engine) == 1:
            engine.append("terminate requested")
            engine[0].request("terminate", "terminate requested by bo from another process", "bo")
        elif event.kind == "terminating":  # the wafers are still in their step
            asyncio.get_running_loop().call_soon(look)

    lot = prepare(RunRequest("plasma-clean", lot=2))
    with closing(RunStore(db)) as store:
        async with open_run(store, lot, observers=[observe]) as running:
            engine.append(running)
            assert await running.run() == "terminated"
    ((listed, text, shown, holding),) = looks
    assert holding == TERMINATING  # no ETA to give: it had given the whole lot's
    since = time.strftime("%H:%M:%S", time.localtime(listed["terminating"]["since_wall"]))
    said = f"terminating since {since} by bo: each wafer stops at its next step boundary"
    assert listed["status"] == "running"
    assert listed["terminating"]["by"] == "bo"
    assert listed["terminating"]["text"] == said
    assert f"running, {said}" in text
    assert f"running, {said}" in shown
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0  # ended: its status says how
    (ended,) = json.loads(capsys.readouterr().out)
    assert (ended["status"], ended["terminating"]) == ("terminated", None)


def test_a_dry_run_and_a_run_on_a_served_simulated_line_name_their_lines_apart(
    tmp_path, capsys, monkeypatch
):
    """A new user's trial: `runs` named a dry run's line `simulated` and a station run's on
    `packline sim serve` `simulated-line`, two names for what read as one kind of run. Each
    says what it is, as `show`, `wafer` and `--json` name it too: the dry run's simulated line
    in its own process, the served line by its station's name and who serves it."""
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    with Served(tmp_path / "sim.yaml", "--time-scale", "300") as served:
        on_station = ["run", "plasma-clean", "--station", str(served.station), "--quiet"]
        assert main([*on_station, "--db", str(db), "--confirmed-by", "ana"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    station, dry = json.loads(capsys.readouterr().out)
    assert (dry["line"], station["line"]) == (DRY_RUN_LINE, "simulated-line (sim serve)")
    assert main(["runs", "--db", str(db)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert " in-process sim " in rows[dry["id"]]
    assert " simulated-line (sim serve) " in rows[station["id"]]
    for run in (dry, station):
        assert main(["show", run["id"], "--db", str(db)]) == 0
        assert f"run {run['id']}: plasma-clean on {run['line']}, operator " in (
            capsys.readouterr().out
        )
    assert main(["wafer", "W01", "--db", str(db)]) == 0
    assert f"(plasma-clean on {DRY_RUN_LINE}, run completed)" in capsys.readouterr().out


def test_a_station_of_real_tools_is_named_as_its_file_names_it():
    """No `control:` socket (a served simulated line's alone): real tools, the name alone."""
    real = {"simulated": 0, "station_name": "line-3", "station_yaml": "name: line-3\n"}
    assert line_text(real) == "line-3"
    served = real | {"station_yaml": "name: line-3\ncontrol: /tmp/sim/control\n"}
    assert line_text(served) == "line-3 (sim serve)"


def test_a_lot_file_names_the_runs_lot_and_wafers_which_runs_and_wafer_find(tmp_path, capsys):
    db = tmp_path / "runs.db"
    lot = tmp_path / "lot.yaml"
    lot.write_text("lot: L2611-042\nwafers: [A0123-01, A0123-02]\nproduct: FC-BGA\nowner: ana\n")
    run = ["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]
    assert main([*run, "--lot-file", str(lot)]) == 0
    assert main([*run, "--lot-id", "L2611-043", "--wafers", "B0123-01"]) == 0
    assert main([*run]) == 0  # no lot id
    capsys.readouterr()

    assert main(["runs", "--db", str(db), "--lot", "L2611-042", "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["lot_id"], found["lot_size"]) == ("L2611-042", 2)
    assert main(["runs", "--db", str(db), "--json"]) == 0
    assert [r["lot_id"] for r in json.loads(capsys.readouterr().out)] == [
        None,
        "L2611-043",
        "L2611-042",
    ]
    assert main(["show", found["id"], "--db", str(db)]) == 0
    assert "lot L2611-042 of 2 (product FC-BGA, owner ana)" in capsys.readouterr().out
    assert main(["wafer", "A0123-02", "--db", str(db)]) == 0
    assert f"wafer A0123-02 in run {found['id']} (lot L2611-042, plasma-clean" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--lot-id", "L 1"], "--lot-id: lot id 'L 1' must be 1-32 printable characters"),
        (["--lot-file", "LOT", "--lot-id", "L1"], "give it without --lot-id or --wafers"),
        (["--lot-file", "BAD"], "line 2: wafers.1: wafer id 'A0123-01' is given twice"),
    ],
)
def test_a_wrong_lot_is_bad_input_and_runs_nothing(tmp_path, capsys, options, message):
    (tmp_path / "lot.yaml").write_text("lot: L1\nwafers: [A0123-01]\n")
    (tmp_path / "bad.yaml").write_text("lot: L1\nwafers: [A0123-01, A0123-01]\n")
    files = {"LOT": str(tmp_path / "lot.yaml"), "BAD": str(tmp_path / "bad.yaml")}
    db = tmp_path / "runs.db"
    options = [files.get(option, option) for option in options]
    assert main(["run", "plasma-clean", "--sim", "--db", str(db), *options]) == 2
    assert message in capsys.readouterr().err
    assert not db.exists()


def test_a_lot_file_goes_with_neither_lot_nor_wafers(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "plasma-clean", "--sim", "--lot-file", "x.yaml", "--wafers", "A1"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_runs_never_cuts_the_run_id_or_the_lot_id_on_a_narrow_terminal():
    run = {
        "id": "20261130-163351-257a",
        "lot_id": "LOT-2026-11-30-ENGINEERING-0042",
        "method": "two-process-via",
        "status": "interrupted",
        "lot_size": 25,
        "completed": 20,
        "held": 5,
        "scrapped": 0,
        "terminated": 0,
        "in_progress": 0,
        "under_way": {},
        "left_on_tools": None,
        "claim_check_failed": False,
        "simulated": 0,
        "station_name": "line-3",
        "line": "line-3",
        "operator": "a.person.with.a.long.name",
        "started_wall": 1.8e9,
        "stopped_t": 100.0,
        "started_t": 0.0,
    }
    console = Console(file=io.StringIO(), width=80)
    console.print(runs_table([run], title="runs"))
    text = console.file.getvalue()
    assert run["id"] in text
    assert run["lot_id"] in text


#: A completed station run on a served line, as `runs` lists it (`runs_table`'s rows).
STATION_RUN = {
    "id": "20261201-201939-074e", "lot_id": None, "method": "plasma-clean",
    "status": "completed", "lot_size": 2, "completed": 2, "held": 0, "scrapped": 0,
    "terminated": 0, "in_progress": 0, "under_way": {}, "left_on_tools": None,
    "claim_check_failed": False, "simulated": 0,
    "station_name": "simulated-line", "line": "simulated-line (sim serve)",
    "operator": "ana", "started_wall": 1.8e9, "started_t": 0.0, "stopped_t": 6.0,
}  # fmt: skip


def test_the_run_clock_says_which_clock_simulated_or_wall():
    """A dry run's run clock is simulated time, a station run's the wall clock: one column
    had shown 3:49:03 and 0:00:06 side by side without saying which was which."""
    station = STATION_RUN
    dry = station | {
        "id": "20261201-201853-07f1", "simulated": 1, "stopped_t": 13743.0, "line": DRY_RUN_LINE
    }  # fmt: skip
    console = Console(file=io.StringIO(), width=200)
    console.print(runs_table([station, dry], title="runs"))
    lines = console.file.getvalue().splitlines()
    assert next(line for line in lines if station["id"] in line).rstrip().endswith("0:00:06 wall")
    assert next(line for line in lines if dry["id"] in line).rstrip().endswith("3:49:03 simulated")


def test_runs_of_a_lot_nobody_ran_is_bad_input_naming_the_lots_there(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    run = ["run", "plasma-clean", "--sim", "--quiet", "--db", db]
    assert main(run) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db, "--lot", "NOPE"]) == 2
    assert f"--lot NOPE: no run of {db} has a lot id (`packline run --lot-id LOT`" in (
        capsys.readouterr().err
    )
    assert main([*run, "--lot-id", "L2611-042"]) == 0
    assert main([*run, "--lot-id", "L2611-043"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db, "--lot", "NOPE"]) == 2
    assert f"--lot NOPE: no run of lot 'NOPE' in {db}; its lots: L2611-043, L2611-042" in (
        capsys.readouterr().err
    )
    assert main(["runs", "--db", db, "--lot", "L2611-042", "--status", "failed"]) == 0  # there


def test_runs_of_one_recipe_are_found_by_its_name_or_its_sha256(tmp_path, capsys, monkeypatch):
    """A new user could find the runs of one recipe only by its sha256, which no command
    they ran had shown: a shipped recipe is named as `--recipe NAME` runs it (the default by
    its method's name), a file by its name without its folder and .yaml (or as given)."""
    db = str(tmp_path / "runs.db")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    Path("mine/gentle.yaml").write_text(Path(SHIPPED_RECIPES, "plasma-clean.yaml").read_text())
    recipes = [[], ["--recipe", "plasma-clean-forming-gas"], ["--recipe", "mine/gentle.yaml"]]
    for recipe in recipes:
        assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db, *recipe]) == 0
    capsys.readouterr()

    def found(given: str) -> list[str]:
        assert main(["runs", "--db", db, "--recipe", given, "--json"]) == 0
        return [run["recipe_source"] for run in json.loads(capsys.readouterr().out)]

    assert found("plasma-clean") == ["default recipe plasma-clean.yaml"]
    forming = ["reference recipe plasma-clean-forming-gas.yaml"]
    assert found("plasma-clean-forming-gas") == found("plasma-clean-forming-gas.yaml") == forming
    assert (
        found("gentle") == found("gentle.yaml") == found("mine/gentle.yaml") == ["mine/gentle.yaml"]
    )
    assert main(["runs", "--db", db, "--json"]) == 0
    by_hash = json.loads(capsys.readouterr().out)[0]["recipe_hash"][:8]
    # the same recipe as the default's: the hash finds both runs of it
    assert found(by_hash) == ["mine/gentle.yaml", "default recipe plasma-clean.yaml"]
    assert found(by_hash[:6]) == found(by_hash)  # HASH_PREFIX_MIN hex digits: a hash's start
    # a recipe whose name is hex, as that sha256 starts (`face`, `add`): it alone, by its name
    named_hex = f"mine/{by_hash[:4]}.yaml"
    Path(named_hex).write_text(Path(SHIPPED_RECIPES, "plasma-clean-forming-gas.yaml").read_text())
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db, "--recipe", named_hex]) == 0
    capsys.readouterr()
    assert found(by_hash[:4]) == [named_hex]


def test_a_filter_no_run_can_match_is_bad_input_naming_what_there_is(tmp_path, monkeypatch, capsys):
    """A method nobody knows, a recipe or wafer no run has, a day still to come: each is bad
    input (exit 2) naming what there is, never an empty table; a known method nobody ran yet
    is an empty table (and without a default database yet, an unknown method is still
    refused)."""
    db = str(tmp_path / "runs.db")
    runs = ["runs", "--db", db]
    monkeypatch.setenv("PACKLINE_DB", db)
    assert main(["runs", "--method", "nope"]) == 2
    assert "--method nope: unknown method; known methods: bump-seal-clean, plasma-clean," in (
        capsys.readouterr().err
    )
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    capsys.readouterr()
    assert main([*runs, "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert main([*runs, "--method", "tape-substrate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    short = run["recipe_hash"][:5]  # too short to be read as a sha256's start, even the run's
    refused = [
        ("--method", "nope", "--method nope: unknown method; known methods: bump-seal-clean,"),
        (
            "--method",
            "plasma_clean",
            "--method plasma_clean: unknown method (did you mean 'plasma-clean'?); known methods: ",
        ),
        (
            "--recipe",
            "0badbad",
            f"--recipe 0badbad: no run of a recipe of that name, or whose sha256 starts so, in "
            f"{db}; its recipes: plasma-clean (plasma-clean, {run['recipe_hash'][:12]})",
        ),
        (
            "--recipe",
            short,
            f"--recipe {short}: no run of a recipe of that name (a sha256's start is of 6 hex "
            f"digits or more) in {db}; its recipes: plasma-clean (plasma-clean, ",
        ),
        ("--wafer", "W99", f"wafer 'W99': in no run of {db}\n"),
        ("--wafer", "W1", f"wafer 'W1': in no run of {db} (did you mean 'W01'?)\n"),
        ("--since", "2999-01-01", "--since 2999-01-01: that day has not come yet"),
    ]
    for option, value, message in refused:
        assert main([*runs, option, value]) == 2, option
        captured = capsys.readouterr()
        assert message in captured.err
        assert captured.out == ""


def test_a_tool_an_abort_left_unconfirmed_is_named_with_the_wafers_left_in_it():
    """An abort whose plasma chamber never confirmed its safe state left W01 and W02 in it
    (decision 0096): the wafers column names both, and that the chamber may be live."""
    station = {
        "id": "20261203-101010-abcd", "lot_id": None, "method": "plasma-clean",
        "status": "aborted", "lot_size": 2, "completed": 0, "held": 2, "scrapped": 0,
        "terminated": 0, "in_progress": 0, "under_way": {}, "claim_check_failed": False,
        "simulated": 0, "station_name": "line-3", "line": "line-3", "operator": "ana",
        "started_wall": 1.8e9, "started_t": 0.0, "stopped_t": 60.0,
        "left_on_tools": {
            "tools": {"plasma_cleaner": ["W01", "W02"]},
            "may_be": {},
            "safe_state_unconfirmed": {"plasma_cleaner": "ABORT unanswered"},
            "resume": "packline resume 20261203-101010-abcd", "resume_note": None,
            "dry_run": False,
        },
    }  # fmt: skip
    console = Console(file=io.StringIO(), width=250)
    console.print(runs_table([station], title="runs"))
    assert (
        "2 (0 done, 2 held; left on tools: W01, W02 in plasma_cleaner; plasma_cleaner: safe "
        "state unconfirmed)"
    ) in console.file.getvalue()


def run_whose_claim_check_failed(db: Path) -> str:
    """A dry run of plasma-clean in `db`, completed, whose claim check then reads one
    condition failed (as a product that failed it would): its id."""
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        rows = store.table("claim_checks", run_id)
        assert rows
        failed = [{**rows[0], "verdict": "fail"}, *rows[1:]]
        store.replace_claim_checks(
            run_id, [{k: v for k, v in r.items() if k != "id"} for r in failed]
        )
    finally:
        store.close()
    return run_id


async def run_that_left_a_wafer_on_the_saw(db: Path) -> str:
    """A dry run of bump-seal-clean in `db`, a lot of 2, aborted as W02's dice begins: W02 is
    left mounted on the dicing saw (and held). Its id."""
    store = RunStore(db)
    box: list = []

    def abort(event) -> None:
        if event.kind == "step-started" and event.step == "dice" and event.wafer.endswith("W02"):
            box[0].request("abort", "blade noise", "ana")

    try:
        async with open_run(
            store, prepare(RunRequest("bump-seal-clean", lot=2)), observers=[abort]
        ) as run:
            box.append(run)
            assert await run.run() == "aborted"
        return run.run_id
    finally:
        store.close()


def test_a_run_that_left_wafers_on_its_tools_says_so_in_runs(tmp_path, capsys, monkeypatch):
    """An aborted run left W02 on the dicing saw: its summary, `show` and its report said so,
    but `runs` listed it `aborted, 2 (1 done, 1 held)` alone. It says where now, and `--json`
    gives what `show --json` gives (`left_on_tools`, one reader: `left_report`); a completed
    run left nothing."""
    db = tmp_path / "runs.db"
    run_id = asyncio.run(run_that_left_a_wafer_on_the_saw(db))
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "250")  # the wafers column whole on one line
    assert main(["runs", "--db", str(db)]) == 0
    listed = " ".join(capsys.readouterr().out.split())
    assert "2 (1 done, 1 held; left on tools: W02 in dicing_saw)" in listed
    assert main(["runs", "--db", str(db), "--json"]) == 0
    cleaned, aborted = json.loads(capsys.readouterr().out)
    assert cleaned["left_on_tools"] is None
    assert aborted["id"] == run_id
    assert aborted["left_on_tools"]["tools"] == {"dicing_saw": ["W02"]}
    assert main(["show", run_id, "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["left_on_tools"] == aborted["left_on_tools"]


def test_a_completed_run_whose_claim_check_failed_says_so_in_runs_and_show(tmp_path, capsys):
    """The run exits 1 when its product fails the claim check though every wafer completed:
    `runs` and `show` say `completed, claim check failed` (and `runs --json` gives the flag),
    never a plain `completed`; `--status completed` still lists it."""
    db = tmp_path / "runs.db"
    run_id = run_whose_claim_check_failed(db)
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--status", "completed"]) == 0
    assert "completed, claim check failed" in " ".join(capsys.readouterr().out.split())
    assert main(["runs", "--db", str(db), "--json"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["status"], found["claim_check_failed"]) == ("completed", True)
    assert main(["show", run_id, "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "status completed, claim check failed," in shown
    assert f"run {run_id}  completed, claim check failed" in shown


def run_whose_every_wafer_was_scrapped(db: Path) -> str:
    """A dry run of plasma-clean in `db`, a lot of 2 held by an alarm of the chamber's batch,
    then both wafers scrapped (the run is then `completed`, engine.md): its id."""
    fault = ["--fault", "plasma_cleaner:rf_mismatch@plasma clean"]
    args = ["run", "plasma-clean", "--sim", "--quiet", "--lot", "2", *fault, "--db", str(db)]
    assert main(args) == 1
    for wafer in ("W01", "W02"):
        scrap = ["disposition", "last", wafer, "scrap", "--by", "ana", "--reason", "arced"]
        assert main([*scrap, "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        return store.resolve_run("last")
    finally:
        store.close()


def test_a_completed_run_whose_every_wafer_was_scrapped_says_so_in_runs_and_show(
    tmp_path, capsys, monkeypatch
):
    """A lot whose every wafer was scrapped read `completed` in `runs` and `show`, beside `2 (0
    done, 0 held, 2 scrapped)`, as if it had succeeded. Its status keeps the word, as
    `--status completed` finds it, and says so: `completed, every wafer scrapped`."""
    monkeypatch.setenv("COLUMNS", "250")  # the status whole on one line
    db = tmp_path / "runs.db"
    run_id = run_whose_every_wafer_was_scrapped(db)
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--status", "completed"]) == 0
    listed = capsys.readouterr().out
    assert "completed, every wafer scrapped; fault injected" in listed
    assert "2 (0 done, 0 held, 2 scrapped)" in listed
    assert main(["show", run_id, "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "status completed, every wafer scrapped;" in shown
    assert f"run {run_id}  completed, every wafer scrapped;" in shown


def driven_by_an_ended_process(store: RunStore) -> None:
    """Make the runs of `store` read as a process cut them off: no end recorded, driven by a
    process that has ended (which drives nothing)."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    store._db.execute(
        "UPDATE runs SET status = 'running', stopped_t = NULL, stopped_wall = NULL, "
        "pid = ?, host = ?",
        (ended.pid, this_host()),
    )


def test_the_run_clock_reads_where_it_stands_at_the_runs_end_as_show_gives_it():
    """A station run records its start once its tools are reached, after its run clock
    began (`started_t`: 0.03 s on a served line, 2 s of its process time at x60; 0.7 s
    here): `runs` counted its clock from there, reading 0:00:05 where the run's end, its
    `run-finished`, stood at 0:00:06, as `show` reads it (the report's `duration_s`)."""
    station = STATION_RUN | {"started_t": 0.7, "stopped_t": 5.6}
    console = Console(file=io.StringIO(), width=200)
    console.print(runs_table([station], title="runs"))
    line = next(line for line in console.file.getvalue().splitlines() if station["id"] in line)
    assert line.rstrip().endswith(f"{clock_text(station['stopped_t'])} wall")


def test_a_run_cut_off_shows_its_run_clock_up_to_its_last_record(tmp_path, capsys):
    """A new user's killed dry run listed its run clock as `-` where its records reached
    9:53:54; it reads up to its last record now, beside its status `interrupted`. Its wafers
    read `running`, with no time on the line, and `0 done, 0 held` of a lot none of whose
    wafers was left waiting: each reads `interrupted` now, with where it stood and its time
    on the line up to the cut, in `show` and in `wafer` alike."""
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--lot", "2", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        (run,) = store.runs()
        steps = store.steps(run["id"])
        steps_end = max(step["stopped_t"] for step in steps)
        last = max((s for s in steps if s["wafer_id"] == "W02"), key=lambda s: s["id"])
        first = min(s["started_t"] for s in steps if s["wafer_id"] == "W01")
        driven_by_an_ended_process(store)
        # W01 between two steps when it was cut off, W02 in its last
        store._db.execute("UPDATE wafers SET status = 'running', stopped_t = NULL")
        store._db.execute("UPDATE steps SET status = 'running' WHERE id = ?", (last["id"],))
        store._db.execute("DELETE FROM claim_checks")  # made at a run's end, which it never had
        store._db.commit()
    finally:
        store.close()
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["status"] == "interrupted"
    assert listed["last_record_t"] == steps_end  # where a resume would continue the clock
    assert main(["runs", "--db", str(db)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if run["id"] in line)
    assert line.rstrip().endswith(f"{clock_text(listed['last_record_t'])} simulated")
    assert "2 (0 done, 0 held, 2 interrupted)" in line
    assert main(["show", run["id"], "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    # what goes on from here, with the database it is in, and the step left without an end
    words = " ".join(shown.replace("│", " ").split())  # as read, however the lines wrap
    assert f"`packline resume {run['id']} --db {db.resolve()}` goes on" in words
    assert "interrupted: cut off: no end recorded (a resume" in words
    assert "claim check: not made: the run was cut off before its end; a resume that" in words
    assert " running " not in shown
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in shown.splitlines()]
    rows = {row[0]: row for row in cells if row and row[0] in ("W01", "W02")}
    assert rows["W01"][1:3] == ["interrupted", clock_text(steps_end - first)]
    assert rows["W01"][-1].startswith("cut off after ")
    assert rows["W02"][1] == "interrupted"
    assert rows["W02"][-1] == f"cut off in {last['name']}"
    # the wafer's history says the same
    assert main(["wafer", "W02", "--db", str(db), "--json"]) == 0
    (history,) = json.loads(capsys.readouterr().out)
    assert (history["status"], history["reason"]) == ("interrupted", f"cut off in {last['name']}")


def test_a_run_cut_off_after_an_event_of_its_own_reads_its_clock_where_a_resume_goes_on(
    tmp_path, capsys
):
    """A run cut off whose last record is an event (a tool's state, after its last step record)
    listed and showed its run clock up to its last step record, while its resume goes on from
    the event's time (`RunStore.records_end_t`): `runs` and `show` read where the resume goes
    on."""
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--lot", "1", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        (run,) = store.runs()
        steps_end = max(step["stopped_t"] for step in store.steps(run["id"]))
        driven_by_an_ended_process(store)
        store._db.execute("UPDATE wafers SET status = 'running', stopped_t = NULL")
        store._db.execute("DELETE FROM events WHERE kind IN ('run-finished', 'claim-check')")
        store._db.execute("UPDATE events SET t = ? WHERE t > ?", (steps_end, steps_end))
        store._db.execute("DELETE FROM claim_checks")
        store.add_rows(
            "events",
            [
                {
                    "run_id": run["id"],
                    "session": 1,
                    "kind": "tool-state",
                    "message": "",
                    "tool": "plasma_cleaner",
                    "status": "IDLE",
                    "t": steps_end + 600.0,
                    "wall": run["started_wall"] + 5.0,
                }
            ],
        )
        assert store.records_end_t(store.run(run["id"])) == steps_end + 600.0
    finally:
        store.close()
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["last_record_t"]) == ("interrupted", steps_end + 600.0)
    assert main(["show", run["id"], "--db", str(db), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["duration_s"] == steps_end + 600.0 - run["started_t"]


def test_a_wafer_filter_reads_a_wafer_as_wafer_and_disposition_do(tmp_path, capsys):
    """`runs --wafer W06` finds the run of a station lot's `101813-c46c-W06`, as `wafer W06`
    and `disposition RUN W06` take it (one rule: `RunDatabase.resolve_wafer`)."""
    db = str(tmp_path / "runs.db")
    assert (
        main(["run", "plasma-clean", "--sim", "--quiet", "--db", db, "--wafers", "A-W05,A-W06"])
        == 0
    )
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db, "--wafers", "B-W07"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db, "--wafer", "W06", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["lot_size"] == 2
    assert main(["runs", "--db", db, "--wafer", "W6"]) == 2
    assert capsys.readouterr().err.endswith("(did you mean 'W06'?)\n")


def test_the_wafers_a_stopped_run_terminated_are_counted(tmp_path, monkeypatch, capsys):
    """A trial's terminated lot of 2 read `2 (0 done, 0 held)` in `runs`: its terminated
    wafers were counted under no outcome. They are (`, 2 terminated`; `--json`)."""
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--lot", "3", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        store.update_run(run_id, status="terminated")
        for wafer_id in ("W02", "W03"):  # as a terminate stops the wafers not done
            store.update_wafer(run_id, wafer_id, status="terminated")
    finally:
        store.close()
    capsys.readouterr()
    assert main(["runs", "--db", str(db), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert (run["completed"], run["held"], run["terminated"]) == (1, 0, 2)
    assert main(["runs", "--db", str(db)]) == 0
    assert "3 (1 done, 0 held, 2 terminated)" in capsys.readouterr().out
