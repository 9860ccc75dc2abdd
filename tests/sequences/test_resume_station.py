"""Resuming a run on real (here: served simulated) tools: on a restarted line at new addresses
(`resume --station FILE`), only with the same tools, and only after each tool's identity
matches the one the run recorded."""

from __future__ import annotations

import importlib
import json
import os
import re
import sqlite3
import time

import pytest
import yaml

from packline.clock import ScaledClock, WallClock
from packline.drivers.roles.batch_chamber import ChamberState
from packline.sequences.engine import (
    BadInput,
    Decision,
    RunRequest,
    open_resume,
    open_run,
    prepare,
    record_disposition,
)
from packline.sequences.engine.database import ROW_TABLES
from packline.sequences.engine.errors import ResumeNotStarted
from packline.sequences.engine.launch import check_same_tools
from packline.sequences.engine.method import all_methods, get_method, method
from packline.sim_instruments.line import SimulatedLine
from packline.station import Station, parse_station

from .helpers import (
    BumpSiteRecipe,
    CheckedRecipe,
    GrindOnceRecipe,
    bump_one_site,
    clean_once,
    grind_once,
    station_lot,
    stopped_at,
)
from .processes import Controller, Served, packline


def station_file(
    tmp_path, line: SimulatedLine, name: str, *, time_scale: float = 1.0, **changes
) -> str:
    """The line's station file, with tool entries changed (`None` drops a tool); saying
    `time_scale` (a line served that many times as fast as the wall clock) when not 1."""
    station = yaml.safe_load(line.station.model_copy(update={"time_scale": time_scale}).to_yaml())
    for tool, entry in changes.items():
        if entry is None:
            del station["tools"][tool]
        else:
            station["tools"][tool] = {**station["tools"][tool], **entry}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(station))
    return str(path)


def abort_at_first_step(engine_box: list) -> object:
    def observe(event) -> None:
        if event.kind == "step-started":
            engine_box[0].request("abort", "test")

    return observe


async def aborted_station_run(store, tmp_path) -> str:
    """A plasma-clean run on a served line, aborted at its first step; the line is gone after."""
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        return await aborted_run_on(store, station_file(tmp_path, line, "first.yaml"))


async def aborted_run_on(store, path: str) -> str:
    """A plasma-clean run of 2 wafers on the station file `path`, aborted at its first step."""
    request = station_lot(path)
    return await stopped_at(store, request, None, command="abort")


async def test_resume_on_a_restarted_line_at_new_addresses_checks_and_records_identities(
    store, tmp_path
):
    run_id = await aborted_station_run(store, tmp_path)
    (first,) = store.table("tools", run_id)
    assert (first["session"], first["name"], first["driver"]) == (
        1,
        "plasma_cleaner",
        "plasma_cleaner",
    )
    assert first["model"]
    assert first["serial_number"]
    # the tool was repaired meanwhile: a new serial number is allowed, and noted
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tools SET serial_number = 'PC-OLD-1' WHERE run_id = ?", (run_id,))
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        second = station_file(tmp_path, line, "second.yaml")
        assert line.station.tools["plasma_cleaner"].address != first["address"]
        box: list = []
        async with open_resume(
            store, run_id, station_path=second, observers=[abort_at_first_step(box)]
        ) as engine:
            box.append(engine)
            assert await engine.run() == "aborted"
        address = line.station.tools["plasma_cleaner"].address
    tools = store.table("tools", run_id)
    assert [(t["session"], t["address"]) for t in tools] == [
        (1, first["address"]),
        (2, address),
    ]
    replaced = [e for e in store.table("events", run_id) if e["kind"] == "tool-replaced"]
    assert len(replaced) == 1
    assert "was s/n PC-OLD-1 in session 1" in replaced[0]["message"]
    assert address in store.run(run_id)["station_yaml"]  # the run now names the new line


def records_of(store, run_id: str) -> dict[str, list]:
    """Every record of the run: its row, its wafers and each of its tables."""
    tables = ("steps", "claim_checks", *ROW_TABLES)
    return {
        "run": [store.run(run_id)],
        "wafers": store.wafers(run_id),
        **{table: store.table(table, run_id) for table in tables},
    }


async def test_resume_refuses_a_tool_of_another_model_before_sending_it_anything(store, tmp_path):
    run_id = await aborted_station_run(store, tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tools SET model = 'PX-9000' WHERE run_id = ?", (run_id,))
    before = records_of(store, run_id)
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        second = station_file(tmp_path, line, "second.yaml")
        chamber = line.tools["plasma_cleaner"]
        with pytest.raises(ResumeNotStarted) as refused:
            async with open_resume(store, run_id, station_path=second) as engine:
                await engine.run()
        error = str(refused.value)
        assert "tool plasma_cleaner at" in error
        assert "PX-9000" in error
        assert "not resuming on a different tool" in error
        assert chamber.received == []  # it was asked who it is, and sent nothing
    # bad input changes nothing: the run can still be resumed once the station file is right
    assert records_of(store, run_id) == before


async def test_a_resume_that_cannot_reach_a_tool_changes_no_record_and_names_it(store, tmp_path):
    """A run killed in a step (its records left `running`) whose line is gone (its `sim serve`
    stopped): the resume names the tool it could not reach and its address, and the records
    stay as the killed session left them: no session started, the cut-off step still
    `running` (not rewritten as `interrupted`), no event, no tool row."""
    run_id = await aborted_station_run(store, tmp_path)
    with sqlite3.connect(store.path) as db:  # as a SIGKILL in the step leaves them
        db.execute("UPDATE steps SET status = 'running' WHERE status = 'interrupted'")
        db.execute("UPDATE runs SET status = 'running', pid = ?", (os.getpid(),))
    before = records_of(store, run_id)
    assert "running" in [step["status"] for step in before["steps"]]
    address = (
        parse_station(yaml.safe_load(before["run"][0]["station_yaml"]), "run")
        .tools["plasma_cleaner"]
        .address
    )
    with pytest.raises(ResumeNotStarted) as failed:
        async with open_resume(store, run_id) as engine:
            await engine.run()
    error = str(failed.value)
    assert error.startswith(f"run {run_id} not resumed: plasma_cleaner at {address}: connect")
    assert "nothing was recorded" in error
    assert records_of(store, run_id) == before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"plasma_cleaner": None}, "tool plasma_cleaner (plasma_cleaner): not in the station file"),
        (
            {"plasma_cleaner": {"driver": "laminator"}},
            "driver plasma_cleaner in the run, laminator",
        ),
    ],
)
async def test_resume_refuses_a_station_with_other_tools_naming_the_difference(
    store, tmp_path, changes, expected
):
    run_id = await aborted_station_run(store, tmp_path)
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner", "laminator"]) as line:
        other = station_file(tmp_path, line, "other.yaml", **changes)
        with pytest.raises(BadInput, match=re.escape(expected)):
            async with open_resume(store, run_id, station_path=other):
                pass
    assert store.run(run_id)["sessions"] == 1  # nothing was started


async def test_a_dry_run_is_resumed_without_a_station(store, tmp_path):
    box: list = []
    prepared = prepare(RunRequest("plasma-clean", lot=1))
    async with open_run(store, prepared, observers=[abort_at_first_step(box)]) as engine:
        box.append(engine)
        assert await engine.run() == "aborted"
    with pytest.raises(BadInput, match="is a dry run on the in-process simulated line"):
        async with open_resume(store, engine.run_id, station_path=tmp_path / "x.yaml"):
            pass


#: How long a resume on a served line may take to its end, s (a command's default is a minute).
RESUMED_RUN_TIMEOUT_S = 240


def test_a_killed_station_run_resumes_on_a_restarted_sim_serve(tmp_path):
    """The issue's case: the controller is killed, `sim serve` restarts on new ports and a new
    /dev/pts/N, and `resume --station NEW` carries the run on.

    The controller is killed inside its first irreversible step, 'form bumps', which the first
    line (on the wall clock) holds open for its 610 s of process time: killed "after the
    first step started", it had been a few milliseconds before it on a quiet machine and inside
    it on a loaded one, where the controller ran on until the test got to the kill. The
    resume holds the wafer there, as it must, and carries the run on once an operator has it
    bumped again (a rework)."""
    db = tmp_path / "runs.db"
    with Served(tmp_path / "first.yaml") as first:
        assert "wall clock" in first.header
        controller = Controller(
            db, "run", "bump-seal-clean", "--station", str(first.station),
            "--confirmed-by", "ci",
        )  # fmt: skip
        run_id = controller.next_event()["run_id"]
        bumping = controller.read_until(
            lambda e: e["kind"] == "step-started" and e["step"] == "form bumps"
        )
        assert bumping is not None
        controller.kill()
    with Served(tmp_path / "second.yaml", "--time-scale", "1000") as second:
        assert "time x1000" in second.header
        old, new = (yaml.safe_load(s.read_text()) for s in (first.station, second.station))
        # new ports (a pty path may be new, or an old one handed out again)
        assert old["tools"]["laminator"]["address"] != new["tools"]["laminator"]["address"]
        stale = packline(db, "resume", run_id, "--confirmed-by", "ci")  # the old addresses
        assert stale.returncode == 2
        assert "Traceback" not in stale.stderr
        resume = ("resume", run_id, "--station", str(second.station), "--confirmed-by", "ci")
        # the resumed wafer's whole line, polled over sockets on the wall clock: a minute or
        # more of a machine loaded by the other tests' processes
        held = packline(db, *resume, "--json", timeout_s=RESUMED_RUN_TIMEOUT_S)
        assert held.returncode == 1, held.stderr
        (wafer,) = json.loads(held.stdout.splitlines()[-1])["wafers"]
        assert wafer["status"] == "held"
        assert wafer["reason"].startswith("irreversible step 'form bumps' was ")
        rework = ("disposition", run_id, wafer["wafer"], "rework", "--by", "ci")
        assert packline(db, *rework, "--reason", "bumped again").returncode == 0
        resumed = packline(db, *resume, "--json", timeout_s=RESUMED_RUN_TIMEOUT_S)
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout.splitlines()[-1])
        assert (summary["run_id"], summary["status"]) == (run_id, "completed")
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        steps = connection.execute("SELECT status FROM steps").fetchall()
        tools = connection.execute(
            "SELECT session, address FROM tools WHERE name = 'laminator' ORDER BY id"
        ).fetchall()
        wafers = connection.execute("SELECT status FROM wafers").fetchall()
    assert "running" not in {s["status"] for s in steps}
    assert tools[0]["address"] == old["tools"]["laminator"]["address"]
    assert tools[-1]["address"] == new["tools"]["laminator"]["address"]
    assert [w["status"] for w in wafers] == ["completed"]


def gem_station(bonder: dict[str, str]) -> Station:
    """A station for bump-seal-clean whose wire bonder entry is `bonder`."""
    tools = {
        "wire_bonder": {"address": "hsms://127.0.0.1:5000", **bonder},
        "laminator": {"driver": "laminator", "address": "modbus+tcp://127.0.0.1:5020"},
        "plasma_cleaner": {"driver": "plasma_cleaner", "address": "modbus+tcp://127.0.0.1:5021"},
        "dicing_saw": {"driver": "dicing_saw", "address": "socket://127.0.0.1:5022"},
    }
    return parse_station({"name": "line-7", "tools": tools})


GEM_BONDER = {"driver": "gem", "dictionary": "wire_bonder"}


def test_a_run_on_a_gem_tool_is_resumed_on_the_same_gem_tool():
    run = {"id": "r1", "station_yaml": gem_station(GEM_BONDER).to_yaml()}
    check_same_tools(
        get_method("bump-seal-clean").tools, run, gem_station(GEM_BONDER), "again.yaml"
    )


def test_resume_compares_only_the_tools_of_the_roles_the_recipe_drives():
    """A run that drove a laser it never used (recorded before decision 0093) resumes on a
    station without one; a tool of a role the recipe drives that is missing is refused."""
    drove = (
        gem_station(GEM_BONDER)
        .to_yaml()
        .replace(
            "tools:\n",
            "tools:\n  laser:\n    driver: laser\n    address: socket://127.0.0.1:5030\n",
            1,
        )
    )
    run = {"id": "r1", "station_yaml": drove}
    plasma = ("wire_bonder", "laminator", "plasma_cleaner", "dicing_saw")
    check_same_tools(plasma, run, gem_station(GEM_BONDER), "again.yaml")
    with pytest.raises(BadInput, match=re.escape("tool laser (laser): not in the station file")):
        check_same_tools((*plasma, "laser"), run, gem_station(GEM_BONDER), "again.yaml")


@pytest.mark.parametrize(
    ("bonder", "expected"),
    [
        (
            {"driver": "wire_bonder", "address": "socket://127.0.0.1:5023"},
            "tool wire_bonder: driver gem (wire_bonder) in the run, wire_bonder in the station",
        ),
        (
            {"driver": "gem", "dictionary": "dicing_saw"},
            "driver gem (wire_bonder) in the run, gem (dicing_saw) in the station file",
        ),
    ],
)
def test_resume_refuses_another_driver_for_a_gem_tool(bonder, expected):
    run = {"id": "r1", "station_yaml": gem_station(GEM_BONDER).to_yaml()}
    with pytest.raises(BadInput, match=re.escape(expected)):
        check_same_tools(
            get_method("bump-seal-clean").tools, run, gem_station(bonder), "other.yaml"
        )


@pytest.fixture
def station_test_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """The methods `test-bump-site`, `test-grind` and `test-clean`, registered for one test
    only: registered at import, a method on a tool with a GEM face would join the GEM line's
    test of every such method."""
    all_methods()  # the methods discovered first, in the registry the test's copy starts from
    registry = importlib.import_module("packline.sequences.engine.method")
    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))
    for name, recipe, tool, irreversible, sequence in (
        ("test-bump-site", BumpSiteRecipe, "wire_bonder", "bump", bump_one_site),
        ("test-grind", GrindOnceRecipe, "grinder", "grind", grind_once),
        ("test-clean", CheckedRecipe, "plasma_cleaner", "clean", clean_once),
    ):
        title = f"test: {irreversible} on the {tool}, then a check a recipe may fail"
        method(
            name=name,
            title=title,
            claims=(),
            recipe=recipe,
            tools=(tool,),
            irreversible=(irreversible,),
        )(sequence)


async def confirm_yes(prompt: str, subject: str) -> tuple[bool, str]:
    return True, "ci"


@pytest.mark.usefixtures("station_test_methods")
@pytest.mark.parametrize("stop", ["terminate", "release"])
@pytest.mark.parametrize(
    ("method", "tool", "gem", "irreversible", "reload", "failing"),
    [
        ("test-bump-site", "wire_bonder", False, "bump", "RELOAD ", {"min_bumped_sites": 2}),
        ("test-clean", "plasma_cleaner", False, "clean", "FC6 write 300 [20]",
         {"fail_check": True}),
        ("test-grind", "grinder", False, "grind", "WAF:REL ", {"fail_check": True}),
        ("test-grind", "grinder", True, "grind", "WAF:REL ", {"fail_check": True}),
        ("test-bump-site", "wire_bonder", True, "bump", "RELOAD ", {"min_bumped_sites": 2}),
    ],
    ids=["host-link", "plc", "scpi", "gem-grinder", "gem-bonder"],
)  # fmt: skip
async def test_a_wafer_back_at_the_tool_that_processed_it_last_is_loaded_as_a_rework(
    store, tmp_path, stop, method, tool, gem, irreversible, reload, failing
):
    """On a served line, whose tools remember what they processed across the run's sessions,
    a wafer the tool processed whose stage was then cut off (a terminate), or whose check
    after the processing failed and was released, goes back on the tool as a rework on
    resume, in each protocol family's way (`RELOAD`, the PLC's `RELOAD_WAFER` 20, the SCPI
    `WAF:REL`, a GEM load with `REWORK`, which the GEM face sends on as its line), and
    completes: the irreversible step is not done again. Before, the tool refused the load
    (`already processed ... load it again only as a rework`) and the wafer was held again."""
    recipe_path = tmp_path / "recipe.yaml"
    recipe_type = get_method(method).recipe_model
    recipe = recipe_type(**failing) if stop == "release" else recipe_type()
    recipe_path.write_text(yaml.safe_dump(recipe.model_dump()))
    async with SimulatedLine(ScaledClock(1000), kinds=[tool], gem=gem) as line:
        path = station_file(tmp_path, line, "line.yaml")
        request = RunRequest(method, simulated=False, station_path=path, recipe_path=recipe_path)
        if stop == "terminate":  # the test methods ask nothing to confirm: none is answered
            run_id = await stopped_at(store, request, irreversible, event="step-finished")
        else:
            async with open_run(store, prepare(request), confirm=confirm_yes) as engine:
                assert await engine.run() == "held"
            run_id = engine.run_id
        (wafer,) = store.wafers(run_id)
        wafer_id = wafer["wafer_id"]
        if stop == "release":
            record_disposition(store, run_id, wafer_id, Decision.RELEASE, "ana", "inspected: fine")
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "completed", store.wafers(run_id)
        assert any(sent.startswith(reload) for sent in line.tools[tool].received)
        history = line.twin.get(wafer_id).history
    assert [event.tool for event in history] == [tool]  # processed once
    steps = [s for s in store.table("steps", run_id) if s["name"] == irreversible]
    assert [(s["session"], s["status"]) for s in steps] == [(1, "completed"), (2, "skipped")]


def test_a_tool_a_killed_run_left_working_is_refused_by_others_and_recovered_by_its_resume(
    tmp_path,
):
    """The reviewer's case: a station run killed during 'plasma clean' leaves the chamber
    processing, its RF on. `station check` says it is working and not ready; another run is
    refused before anything moves or is recorded, naming the tool, what it does and whose
    wafers it holds; the killed run's own resume is not refused by it: its recovery commands
    the safe state and takes the run's wafers off, after which the tool is ready again."""
    db = tmp_path / "runs.db"
    # 20 min of cleaning, 2 min of wall time at x10: the chamber still cleans through the
    # commands below however loaded the machine (3 min of the reference's had ended in one)
    recipe = tmp_path / "long-clean.yaml"
    recipe.write_text(
        "steps:\n"
        "  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W,"
        " time_s: 10 min}\n"
        "  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 500 W,"
        " time_s: 10 min}\n"
    )
    with Served(tmp_path / "line.yaml", "--time-scale", "10") as served:
        line = str(served.station)
        run = ("run", "plasma-clean", "--station", line, "--confirmed-by", "ci")
        controller = Controller(db, *run, "--recipe", str(recipe), "--lot", "2")
        run_id = controller.next_event()["run_id"]
        cleaning = controller.read_until(
            lambda e: e["kind"] == "step-started" and e["step"] == "plasma clean"
        )
        assert cleaning is not None
        time.sleep(1.0)  # the recipe started: RF on
        controller.kill()
        shown = packline(db, "show", run_id).stdout.replace("\n", " ")
        assert "may have left its tool working" in " ".join(shown.split())
        checked = packline(db, "station", "check", line, "--json")
        assert checked.returncode == 1, checked.stderr
        (chamber,) = [c for c in json.loads(checked.stdout) if c["name"] == "plasma_cleaner"]
        assert (chamber["state"], chamber["e10_state"]) == ("busy", "productive")
        assert chamber["working"] == "processing (RF on)"
        assert not chamber["ready"]
        assert chamber["problems"][0].startswith("working: processing (RF on), a process no run")
        runs_before = packline(db, "runs", "--json").stdout
        other = packline(db, *run)
        assert other.returncode != 0
        assert "Traceback" not in other.stderr
        refusal = other.stderr
        assert "run not started: plasma_cleaner at " in refusal
        assert "working: processing (RF on)" in refusal
        assert f"of run {run_id}, whose resume takes them off" in refusal
        assert "nothing was recorded" in refusal
        assert packline(db, "runs", "--json").stdout == runs_before
        resumed = packline(db, "resume", run_id, "--confirmed-by", "ci", "--json")
        assert "working:" not in resumed.stderr, resumed.stderr
        summary = json.loads(resumed.stdout.splitlines()[-1])
        assert summary["run_id"] == run_id
        # the cut-off clean holds its batch for an operator; the tool is recovered, empty
        assert {w["status"] for w in summary["wafers"]} == {"held"}
        again = packline(db, "station", "check", line, "--json")
        (chamber,) = [c for c in json.loads(again.stdout) if c["name"] == "plasma_cleaner"]
        assert (chamber["state"], chamber["working"], chamber["workpieces"]) == ("idle", None, [])
    with sqlite3.connect(db) as connection:
        kinds = [row[0] for row in connection.execute("SELECT kind FROM events")]
    assert "tool-recovered" in kinds


async def test_a_resume_is_refused_a_tool_working_on_none_of_its_wafers(store, tmp_path):
    """A resume recovers a tool found working only when its own cut-off session left the
    run's wafers in it: a chamber another controller left pumping down, empty, after the run
    stopped is refused as a new run refuses it, nothing recorded and nothing stopped."""
    async with SimulatedLine(ScaledClock(10), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        run_id = await aborted_run_on(store, path)
        chamber = line.tools["plasma_cleaner"]
        assert chamber.loaded() == []  # stopped before any wafer was loaded
        chamber.inject_fault("chamber_leak")  # the pump-down lasts its 300 s limit
        async with line.station.open_tool("plasma_cleaner") as other:
            if not (await other.request_status()).door_closed:
                await other.close_door()
            await other.command("pump down", "PUMP_DOWN")  # left running as it closes
        assert chamber.chamber is ChamberState.PUMPING
        before = records_of(store, run_id)
        with pytest.raises(ResumeNotStarted) as refused:
            async with open_resume(store, run_id, station_path=path) as resumed:
                await resumed.run()
        assert chamber.chamber is ChamberState.PUMPING  # nobody's process was stopped
    error = str(refused.value)
    assert error.startswith(f"run {run_id} not resumed: plasma_cleaner at ")
    assert "working: pumping, a process no run of this controller started" in error
    assert "nothing was recorded" in error
    assert records_of(store, run_id) == before
