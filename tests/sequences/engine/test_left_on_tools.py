"""Wafers an abort left on a tool (sequences/engine/left_on_tools.py): the aborted run says
which wafers it left in which tools and what takes them off, and the next run on the line that
finds them names the run whose wafers they are and its resume, not "whoever owns it"."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from packline.cli import main
from packline.clock import ScaledClock
from packline.drivers.errors import ConnectionLost, ToolError
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.roles.plasma_cleaner import ChamberState, PlasmaCleaner
from packline.records import RunRecords
from packline.records.report import render_report
from packline.sequences.engine import (
    Event,
    Handling,
    Recipe,
    RunRequest,
    Wafer,
    method,
    open_resume,
    open_run,
    prepare,
)
from packline.sequences.engine.dispositions import Decision, record_disposition
from packline.sequences.engine.left_on_tools import (
    left_brief,
    left_on_tools,
    left_report,
    left_text,
)
from packline.sequences.engine.records import RunStore, db_option
from packline.sim_instruments.line import SimulatedLine

from ...records.conftest import create_run, stage_row
from ..helpers import station_lot, stopped_at
from ..test_resume_station import confirm_yes, station_file


async def terminated_out_of_service(store, path: str) -> tuple[str, Event]:
    """plasma-clean for a lot of 2 on the station file `path`, terminated as a tool is put out
    of service (as the run finds another run's wafers on it): its id, and that one
    `tool-out-of-service` event."""
    events: list[Event] = []
    run_id = await stopped_at(
        store,
        station_lot(path),
        None,
        event="tool-out-of-service",
        observers=[events.append],
        confirm=confirm_yes,
    )
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    return run_id, out


async def test_an_abort_says_what_it_left_in_the_chamber_and_the_next_run_names_it(
    store, tmp_path, capsys: pytest.CaptureFixture[str]
):
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        first = await stopped_at(
            store, station_lot(path), "close door", command="abort", confirm=confirm_yes
        )
        wafers = [w["wafer_id"] for w in store.wafers(first)]
        assert sorted(chamber.loaded()) == sorted(wafers)  # the abort left them in it
        assert left_on_tools(store, first) == {"plasma_cleaner": wafers}
        left = left_report(store, first)
        assert left == {
            "tools": {"plasma_cleaner": wafers},
            "may_be": {},
            "safe_state_unconfirmed": {},
            "abort_not_confirmed": {},
            "resume": f"packline resume {first}{db_option(store.path)}",
            "resume_note": None,
            "dry_run": False,
        }
        text = left_text(left)
        assert text.startswith(
            f"left on the tools when the run stopped: {', '.join(wafers)} in plasma_cleaner; "
            f"`packline resume {first}"
        )
        assert "takes them off (its recovery unloads the run's own wafers)" in text
        assert main(["show", first, "--db", str(store.path)]) == 0
        assert f"{', '.join(wafers)} in plasma_cleaner" in capsys.readouterr().out
        # the station check names whose they are and the resume that takes them off
        check = ["station", "check", str(path), "--db", str(store.path), "--json"]
        assert await asyncio.to_thread(main, check) == 1  # its own loop, the line served here
        checked = json.loads(capsys.readouterr().out)
        (problem,) = next(c for c in checked if c["name"] == "plasma_cleaner")["problems"]
        assert problem == (
            f"holds {', '.join(wafers)}: {', '.join(wafers)} of run {first}, whose resume takes "
            f"them off (`packline resume {first}{db_option(store.path)}`; its recovery unloads its "
            "own wafers), before a run"
        )
        # the report, which is what is handed on, says it too
        assert html.escape(text) in render_report(RunRecords(store, first))

        second, out = await terminated_out_of_service(store, path)
        assert f"plasma_cleaner: holds {', '.join(wafers)}, which this run did not put" in (
            out.message
        )
        assert f"of run {first}, whose resume takes them off (`packline resume {first}" in (
            out.message
        )
        assert "whoever owns it" not in out.message
        assert f"clear it with `packline clear-tool {second} plasma_cleaner" in out.message
        assert out.data["owners"] == {wafer: first for wafer in wafers}

        # the aborted run's resume takes them off: nothing is said to be left any more
        async with open_resume(store, first, station_path=path, confirm=confirm_yes) as resumed:
            await resumed.run()
        assert chamber.loaded() == []
    assert left_on_tools(store, first) == {}
    assert left_report(store, first) is None
    assert left_text(None) == ""


async def test_a_terminate_whose_recovery_emptied_the_chamber_left_nothing_on_it(store, tmp_path):
    """A terminate brings each stage's tool to its safe, empty state in the same session: the
    chamber it recovered holds nothing, and the run's summary had said its wafers were left in
    it, as an abort's are (a trial found them nowhere)."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        events: list = []
        run_id = await stopped_at(
            store, station_lot(path), "close door", observers=[events.append], confirm=confirm_yes
        )
        assert chamber.loaded() == []
    assert "tool-recovered" in [e.kind for e in events]
    assert left_on_tools(store, run_id) == {}
    assert left_report(store, run_id) is None


async def test_a_resume_takes_off_what_an_abort_left_though_every_wafer_is_scrapped(store):
    """An abort in the chamber held its batch; an operator scrapped the three wafers. The
    summary said the resume takes them off, and the resume was refused as having nothing to
    do: the chamber stayed loaded, and the next run on the line waited for a clear. Now the
    resume recovers the chamber and the run ends with its wafers scrapped."""
    run_id = await stopped_at(
        store, RunRequest("plasma-clean", lot=3), "plasma clean", command="abort"
    )
    wafers = ["W01", "W02", "W03"]
    assert left_on_tools(store, run_id) == {"plasma_cleaner": wafers}
    for wafer in wafers:
        record_disposition(store, run_id, wafer, Decision.SCRAP, "ana", "cleaned part way")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    assert left_on_tools(store, run_id) == {}
    assert [w["status"] for w in store.wafers(run_id)] == ["scrapped"] * 3
    recovered = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
    assert [(e["session"], e["tool"]) for e in recovered] == [(2, "plasma_cleaner")]


async def test_a_scrap_of_a_wafer_on_a_tool_says_where_it_is_and_what_its_resume_runs(
    store, tmp_path, capsys: pytest.CaptureFixture[str]
):
    """A trial scrapped a wafer an abort had left on its tool: the scrap said nothing of the
    tool, and the resume that took it off ran the lot's other wafers, unstarted ones too,
    unannounced. The scrap names the tool, the resume that takes the wafer off and what that
    resume then runs; the resume says which wafers it runs before it drives anything."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        run_id = await stopped_at(
            store, station_lot(path, 6), "plasma clean", command="abort", confirm=confirm_yes
        )
        lot = [w["wafer_id"] for w in store.wafers(run_id)]
        assert left_on_tools(store, run_id) == {"plasma_cleaner": lot[:4]}  # its 4 slots
        scrap = ["disposition", run_id, lot[0], "scrap", "--by", "ana", "--reason", "cut off"]
        assert main(scrap) == 0
        # the batch's other wafers stay held for their own decisions; W05, W06 never started
        runs = f"runs {lot[4]} (not started yet), {lot[5]} (not started yet)"
        assert capsys.readouterr().out == (
            f"wafer {lot[0]} of run {run_id} scrapped by ana; it is still on plasma_cleaner: "
            f"`packline resume {run_id}` takes it off (its recovery unloads the run's own "
            f"wafers) and then {runs}; or unload it by hand (a run cut off in a step may have "
            "left its tool working: `packline station check` says; stop it first); "
            f"{', '.join(lot[1:4])} still held: decide each with `packline disposition {run_id} "
            "WAFER release|rework|scrap --by NAME --reason TEXT`\n"
        )
        events: list = []
        async with open_resume(
            store, run_id, station_path=path, observers=[events.append], confirm=confirm_yes
        ) as resumed:
            await resumed.run()
    kinds = [e.kind for e in events]
    (plan,) = [e for e in events if e.kind == "resume-plan"]
    assert plan.message == f"this resume {runs}"
    assert plan.data == {"wafers": lot[4:], "not_started": lot[4:]}
    assert kinds.index("resume-plan") < kinds.index("tool-recovered")  # before any is driven
    assert [e["kind"] for e in store.events(run_id)].count("resume-plan") == 1  # recorded
    assert [w["status"] for w in store.wafers(run_id)] == ["scrapped"] + ["held"] * 3 + [
        "completed"
    ] * 2


async def test_a_run_whose_scrapped_wafer_an_abort_left_on_a_tool_is_not_pruned(
    store, tmp_path, capsys: pytest.CaptureFixture[str]
):
    """The trial: a lot of 1 aborted in its clean, its wafer scrapped, still in the chamber:
    `prune` deleted the run, and with it the records its resume reads to take the wafer off
    (`resume` then found no such run, `station check` a wafer of no run in the chamber)."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        run_id = await stopped_at(
            store, station_lot(path, 1), "plasma clean", command="abort", confirm=confirm_yes
        )
    (wafer,) = [w["wafer_id"] for w in store.wafers(run_id)]
    db = ["--db", str(store.path)]
    scrap = ["disposition", run_id, wafer, "scrap", "--by", "ana", "--reason", "cut off", *db]
    assert main(scrap) == 0
    capsys.readouterr()
    left = left_on_tools(store, run_id)["plasma_cleaner"]
    assert wafer in left
    assert main(["prune", "--before", "2100-01-01", "--yes", "--json", *db]) == 0
    pruned = json.loads(capsys.readouterr().out)
    assert (pruned["deleted"], pruned["kept_unrecovered"]) == (
        [],
        {run_id: {"plasma_cleaner": left}},
    )
    assert store.run(run_id)["id"] == run_id


async def test_a_scrapped_wafer_left_on_a_tool_keeps_its_run_held_until_a_recovery_takes_it_off(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """An abort left a batch in the chamber and the resume's recovery failed (the chamber's
    door stalled): the wafers are still in it. A trial scrapped them: the last scrap read the
    run `completed` and said nothing of the chamber, nor did `runs` and `show` any more. The
    run stays held, every scrap names the chamber, and `runs` and `show` go on saying where the
    wafers are and what takes them off; a resume whose recovery fails again leaves it held,
    and the one whose recovery takes them off completes it (decision 0109)."""

    async def door_stalled(self) -> None:
        raise ToolError(self.name, self.address, "unload", "door motor stalled")

    db = ["--db", str(store.path)]
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        run_id = await stopped_at(
            store, station_lot(path), "plasma clean", command="abort", confirm=confirm_yes
        )
        lot = [w["wafer_id"] for w in store.wafers(run_id)]
        with monkeypatch.context() as stalled:
            stalled.setattr(ModbusPlasmaCleaner, "_unload_everything", door_stalled)
            async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as again:
                assert await again.run() == "held"
        assert sorted(chamber.loaded()) == sorted(lot)
        for wafer in lot:
            scrap = ["disposition", run_id, wafer, "scrap", "--by", "ana", "--reason", "cut off"]
            assert main([*scrap, *db]) == 0
            assert f"it is still on plasma_cleaner: `packline resume {run_id}" in (
                capsys.readouterr().out
            )
        assert store.run(run_id)["status"] == "held"
        where = f"{', '.join(lot)} in plasma_cleaner"
        assert main(["runs", "--json", *db]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert (listed["status"], listed["left_on_tools"]["tools"]) == (
            "held",
            {"plasma_cleaner": lot},
        )
        assert main(["show", run_id, *db]) == 0
        assert f"left on the tools when the run stopped: {where}; `packline resume {run_id}" in (
            capsys.readouterr().out
        )
        # nor does a prune take the records its resume needs to take them off
        prune = ["prune", "--before", "2100-01-01", *db]
        assert main([*prune, "--dry-run"]) == 0
        assert (
            f"kept: run {run_id} waits for its resume to recover plasma_cleaner ({', '.join(lot)} "
            f"left on it); its records are what that resume reads: `packline resume {run_id}` "
            "takes what is left off the tool, then prune"
        ) in " ".join(capsys.readouterr().out.split())
        assert main([*prune, "--yes", "--json"]) == 0
        pruned = json.loads(capsys.readouterr().out)
        assert (pruned["deleted"], pruned["kept_unrecovered"]) == (
            [],
            {run_id: {"plasma_cleaner": lot}},
        )

        with monkeypatch.context() as stalled:  # every wafer scrapped, the chamber still stuck
            stalled.setattr(ModbusPlasmaCleaner, "_unload_everything", door_stalled)
            async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as again:
                assert await again.run() == "held"
        assert left_on_tools(store, run_id) == {"plasma_cleaner": lot}
        async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as again:
            assert await again.run() == "completed"
        assert chamber.loaded() == []
    assert left_on_tools(store, run_id) == {}
    assert [w["status"] for w in store.wafers(run_id)] == ["scrapped", "scrapped"]


def link_lost(action: str) -> Callable[..., Awaitable[Any]]:
    """A driver method of the plasma chamber (any arguments) that finds its link lost in
    `action`: what the host meets with the link down."""

    async def lost(self: ModbusPlasmaCleaner, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionLost(self.name, self.address, action, "connection lost")

    return lost


#: The chamber's link lost as its clean runs (a `ModbusPlasmaCleaner.clean`).
link_lost_in_the_clean = link_lost("clean")
#: The link still down as a recovery unloads the chamber (`_unload_everything`).
link_lost_unloading = link_lost("unload")


async def test_a_link_lost_in_a_step_then_a_failed_recovery_says_the_wafers_may_be_in_the_tool(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """The chamber's link was lost in the clean, and the recovery that followed failed (the
    link still down): the batch is still in the chamber, and the run is held with the chamber
    awaiting its resume's recovery. The step was recorded failed, not cut off, so nothing said
    the wafers might be in it: not `show`, `runs`, a scrap, nor a prune keeping the run. Each
    now says they may be (the records cannot tell whether the failure or the recovery took them
    out), and the resume that recovers the chamber takes them off."""
    db = ["--db", str(store.path)]
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        with monkeypatch.context() as lost:
            lost.setattr(ModbusPlasmaCleaner, "clean", link_lost_in_the_clean)
            lost.setattr(ModbusPlasmaCleaner, "_unload_everything", link_lost_unloading)
            async with open_run(store, prepare(station_lot(path)), confirm=confirm_yes) as run:
                await run.run()
        run_id = run.run_id
        lot = [w["wafer_id"] for w in store.wafers(run_id)]
        assert store.run(run_id)["status"] == "held"
        assert sorted(chamber.loaded()) == sorted(lot)  # the wafers are in it
        assert left_on_tools(store, run_id) == {"plasma_cleaner": lot}
        left = left_report(store, run_id)
        assert left is not None
        assert (left["tools"], left["may_be"]) == ({"plasma_cleaner": lot}, {"plasma_cleaner": lot})
        where = f"{', '.join(lot)} may be in plasma_cleaner"
        assert main(["show", run_id, *db]) == 0
        shown = " ".join(capsys.readouterr().out.split())
        assert (
            f"left on the tools when the run stopped: {where} (a wafer that may be in a tool was "
            "in it when a step there failed, or its load there failed, and no recovery of the tool "
            "has succeeded since: the records cannot tell whether it is in it); "
            f"`packline resume {run_id}"
        ) in shown
        assert main(["runs", "--json", *db]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert left_brief(listed["left_on_tools"]) == where
        scrap = ["disposition", run_id, lot[0], "scrap", "--by", "ana", "--reason", "link lost"]
        assert main([*scrap, *db, "--json"]) == 0
        told = json.loads(capsys.readouterr().out)
        assert (told["on_tool"]["tool"], told["on_tool"]["may_be"]) == ("plasma_cleaner", True)
        assert main([*scrap[:2], lot[1], *scrap[3:], *db]) == 0
        assert (
            "it may still be on plasma_cleaner (it was on it when a step there failed, or its load "
            "there failed, and no recovery of the tool has succeeded since: the records cannot "
            "tell whether it is): "
            f"`packline resume {run_id}"
        ) in capsys.readouterr().out
        # every wafer scrapped, the run held for the chamber's recovery: a prune keeps it
        assert main(["prune", "--before", "2100-01-01", "--dry-run", *db]) == 0
        assert (
            f"kept: run {run_id} waits for its resume to recover plasma_cleaner ({', '.join(lot)} "
            "may be on it)"
        ) in " ".join(capsys.readouterr().out.split())
        assert main(["prune", "--before", "2100-01-01", "--dry-run", "--json", *db]) == 0
        pruned = json.loads(capsys.readouterr().out)
        assert pruned["kept_unrecovered_may_be"] == {run_id: {"plasma_cleaner": lot}}

        async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "completed"
        assert chamber.loaded() == []
    assert left_on_tools(store, run_id) == {}
    assert left_report(store, run_id) is None


#: A plasma-clean recipe of four 10-minute steps (as many and as long as the chamber takes): at
#: 500 times the wall clock its clean runs some 4.8 s, long past the resume that finds it running.
LONG_CLEAN = """\
steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 10 min}
  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 500 W, time_s: 10 min}
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 10 min}
  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 500 W, time_s: 10 min}
batch_timeout_s: 10 min
"""


async def test_a_resume_recovers_a_chamber_found_cleaning_the_wafers_that_may_be_in_it(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The link was lost once the clean had started, and the recovery after it failed: the
    chamber goes on cleaning the batch, which the records say may be in it. The resume finds
    it working on those wafers: it is the run's own (not a tool another process is using, which
    a run refuses), so the resume's recovery commands its safe state and takes the batch out;
    the wafers, cleaned part way, are held for a disposition."""
    recipe = tmp_path / "long-clean.yaml"
    recipe.write_text(LONG_CLEAN, encoding="utf-8")
    async with SimulatedLine(ScaledClock(500), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        request = RunRequest(
            "plasma-clean", simulated=False, station_path=path, lot=2, recipe_path=recipe
        )
        with monkeypatch.context() as lost:
            # the clean started, the link then lost as the host waits for it: the chamber cleans on
            lost.setattr(ModbusPlasmaCleaner, "wait_run", link_lost("clean"))
            lost.setattr(ModbusPlasmaCleaner, "_command_safe_state", link_lost("abort"))
            async with open_run(store, prepare(request), confirm=confirm_yes) as run:
                await run.run()
        run_id = run.run_id
        lot = [w["wafer_id"] for w in store.wafers(run_id)]
        assert store.run(run_id)["status"] == "held"
        assert left_report(store, run_id)["may_be"] == {"plasma_cleaner": lot}
        assert chamber.chamber is ChamberState.PROCESSING  # cleaning on, its host gone
        assert sorted(chamber.loaded()) == sorted(lot)

        async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as resumed:
            status = await resumed.run()
            working = resumed.keeper.pool.tools["plasma_cleaner"].driver.found_working
        assert working == "processing (RF on)"  # found cleaning, and not refused
        assert chamber.loaded() == []
        recovered = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
        assert (
            recovered[-1]["message"] == f"plasma_cleaner safe and empty: took off {', '.join(lot)}"
        )
    assert left_on_tools(store, run_id) == {}
    # the clean was cut off part way: each wafer waits for a disposition, the run with them
    assert status == "held"
    assert [w["status"] for w in store.wafers(run_id)] == ["held", "held"]


async def test_a_load_whose_answer_was_lost_says_the_wafer_may_be_in_the_tool(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """The chamber took the first wafer but its answer to the load was lost (the link down),
    and the recovery after it failed too: the load step failed, so by the steps completed the
    wafer never went in, and nothing said it might be in the chamber. It may be (the records
    cannot tell whether the load happened): `show` says so, and the resume's recovery takes it
    off."""

    async def loaded_then_link_lost(self, wafer_id: str, slot: int | None = None) -> int:
        await original_load(self, wafer_id, slot)
        raise ConnectionLost(self.name, self.address, "load", "connection lost")

    original_load = ModbusPlasmaCleaner.load
    db = ["--db", str(store.path)]
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        chamber = line.tools["plasma_cleaner"]
        with monkeypatch.context() as lost:
            lost.setattr(ModbusPlasmaCleaner, "load", loaded_then_link_lost)
            lost.setattr(ModbusPlasmaCleaner, "_unload_everything", link_lost_unloading)
            async with open_run(store, prepare(station_lot(path, 1)), confirm=confirm_yes) as run:
                await run.run()
        run_id = run.run_id
        (wafer,) = [w["wafer_id"] for w in store.wafers(run_id)]
        assert store.run(run_id)["status"] == "held"
        assert chamber.loaded() == [wafer]  # the chamber has it
        left = left_report(store, run_id)
        assert left is not None
        assert (left["tools"], left["may_be"]) == (
            {"plasma_cleaner": [wafer]},
            {"plasma_cleaner": [wafer]},
        )
        assert main(["show", run_id, *db]) == 0
        shown = " ".join(capsys.readouterr().out.split())
        assert f"left on the tools when the run stopped: {wafer} may be in plasma_cleaner" in shown

        async with open_resume(store, run_id, station_path=path, confirm=confirm_yes) as resumed:
            await resumed.run()
        assert chamber.loaded() == []
    assert left_on_tools(store, run_id) == {}


async def test_a_failed_step_whose_recovery_took_the_wafers_off_left_nothing_on_the_tool(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The link lost in the clean, and back for the recovery that followed: it took the batch
    off, and nothing is said to be left in the chamber (a failed stage's recovery comes after
    its record is closed, in the same session)."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        with monkeypatch.context() as lost:
            lost.setattr(ModbusPlasmaCleaner, "clean", link_lost_in_the_clean)
            async with open_run(store, prepare(station_lot(path)), confirm=confirm_yes) as run:
                await run.run()
        run_id = run.run_id
        assert line.tools["plasma_cleaner"].loaded() == []
    assert [w["status"] for w in store.wafers(run_id)] == ["held", "held"]
    assert left_on_tools(store, run_id) == {}
    assert left_report(store, run_id) is None


class PortChecksRecipe(Recipe):
    """The recipe of `test-port-checks` (its own class: a method names its recipe class)."""


@method(
    name="test-port-checks",
    title="test: a chamber's load and unload ports checked around a wafer placed and taken out",
    claims=(),
    recipe=PortChecksRecipe,
    tools=("plasma_cleaner",),
)
async def port_checks(wafer: Wafer, recipe: PortChecksRecipe) -> None:
    """Steps whose names begin `load` and `unload` that put nothing on the chamber and take
    nothing off (they ask it what it holds), around the two that do, named otherwise."""
    async with wafer.use(PlasmaCleaner) as chamber:
        await wafer.step("load port check", chamber.request_workpieces)
        await wafer.step("open door", chamber.open_door)
        await wafer.step("place in chamber", chamber.load, wafer.id, handling=Handling.LOAD)
        await wafer.step("close door", chamber.close_door)
        await wafer.step("unload port check", chamber.request_workpieces)
        await wafer.step("open door", chamber.open_door)
        await wafer.step("take out", chamber.unload, wafer.id, handling=Handling.UNLOAD)


async def aborted_port_checks(store, tmp_path, step: str) -> tuple[str, list[str], list[str]]:
    """`test-port-checks` for one wafer on a served line, aborted as its step `step` starts:
    the run's id, what its records say it left in the chamber (`left_on_tools`), and what
    the chamber holds."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml")
        request = station_lot(path, 1, "test-port-checks")
        run_id = await stopped_at(store, request, step, command="abort", confirm=confirm_yes)
        held = list(line.tools["plasma_cleaner"].loaded())
    return run_id, left_on_tools(store, run_id).get("plasma_cleaner", []), held


async def test_a_step_named_load_that_is_no_load_leaves_nothing_on_the_tool(store, tmp_path):
    """Aborted before the wafer is placed, after a `load port check` that put nothing on the
    chamber: nothing is left in it, and the records say so (by the step's name, the wafer
    read as loaded, and its resume as the one that takes it off)."""
    _, left, held = await aborted_port_checks(store, tmp_path, "place in chamber")
    assert held == []
    assert left == []


async def test_a_load_named_otherwise_leaves_its_wafer_on_the_tool(store, tmp_path):
    """Aborted as the wafer is to be taken out, after an `unload port check` that took
    nothing off: the wafer, placed by a step declared a load, is left in the chamber, and the
    records say so (by the steps' names, none loaded it and the check unloaded it: the
    chamber's wafer would have been found by the next run as a foreign workpiece, nobody
    told whose)."""
    run_id, left, held = await aborted_port_checks(store, tmp_path, "take out")
    (wafer,) = [w["wafer_id"] for w in store.wafers(run_id)]
    assert held == [wafer]
    assert left == [wafer]


def test_a_pass_through_a_stage_done_before_does_not_hide_a_wafer_left_on_its_tool(tmp_path):
    """W1 used the wet bench twice: its first stage there completed, its second was cut off
    with the wafer loaded. Session 2, whose recovery of the bench did not succeed (no
    `tool-recovered`), passed the first stage as done before (its record skipped, no tool
    taken: decision 0122) and stopped. W1 is still on the bench: the pass, the wafer's latest
    record there, took no tool and loaded nothing, and had read as its latest stage on the
    bench, a stage that did not stop, so the records had said nothing was left there."""
    store = RunStore(tmp_path / "runs.db")
    create_run(store, "R1", ["W1"], status="held", sessions=2)
    (done,) = store.start_steps([stage_row("wet_bench", "W1", 0.0)])
    store.finish_steps([done], "completed", 10.0, 0.0)
    (cut,) = store.start_steps([stage_row("wet_bench", "W1", 20.0, use=1)])
    (load,) = store.start_steps(
        [
            stage_row(
                "wet_bench",
                "W1",
                20.0,
                key="load#0",
                name="load",
                kind="step",
                stage="use wet_bench#1",
                handling=Handling.LOAD.value,
            )
        ]
    )
    store.finish_steps([load], "completed", 21.0, 0.0)
    store.finish_steps([cut], "interrupted", 22.0, 0.0, "cut off")
    passed = stage_row("wet_bench", "W1", 30.0, session=2, status="skipped", stopped_t=30.0)
    store.start_steps([passed])
    assert left_on_tools(store, "R1") == {"wet_bench": ["W1"]}
    store.close()
