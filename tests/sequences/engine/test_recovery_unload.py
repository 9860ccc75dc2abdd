"""A recovery's unload of a wafer is in the wafer's history (`show`, `wafer`, and its time on
the line): a terminate's recovery takes the batch out of the chamber, and a resume's takes out
the wafers an abort left there. Nothing in their timelines had said they were taken out, nor
when, and the aborted wafers' time on the line stopped at the abort."""

from __future__ import annotations

import pytest

from packline.cli import main
from packline.sequences.engine import RunRequest, open_resume, open_run, prepare, run_report
from packline.sequences.engine.report import first_step_starts, wafer_history

from ..test_resume_station import confirm_yes
from .test_unconfirmed_safe_state import aborted_mid_clean, frozen_chamber_line


def _row(recovered: dict, tool: str, session: int) -> dict:
    """The timeline row of a wafer taken off `tool` by the recovery `recovered` (its event)."""
    return {
        "step_id": None,
        "t": recovered["t"],
        "wall": recovered["wall"],
        "made_wall": None,  # a session's own recovery: its run clock tells when
        "what": f"taken off {tool}",
        "detail": recovered["message"],
        "status": f"by the recovery of session {session}",
    }


async def test_a_terminates_recovery_unload_is_in_each_wafers_timeline(store, capsys):
    """plasma-clean, a lot of 2, terminated in its clean (a dry run, the in-process line):
    the chamber's recovery takes both wafers off, which their timelines say, at its time."""
    engines: list = []

    def terminate_in_the_clean(event) -> None:
        if event.kind == "step-started" and event.step == "plasma clean":
            engines[0].request("terminate", "terminate requested by ana", "ana")

    prepared = prepare(RunRequest("plasma-clean", lot=2))
    async with open_run(store, prepared, observers=[terminate_in_the_clean]) as engine:
        engines.append(engine)
        await engine.run()
    (recovered,) = [e for e in store.events(engine.run_id) if e["kind"] == "tool-recovered"]
    assert recovered["data"] == {"taken_off": ["W01", "W02"]}
    assert recovered["message"] == "plasma_cleaner safe and empty: took off W01, W02"
    report = run_report(store, engine.run_id)
    assert [w["taken_off"] for w in report["wafers"]] == [
        [_row(recovered, "plasma_cleaner", 1)]
    ] * 2
    (entry,) = wafer_history(store, "W01")
    assert entry["taken_off"] == [_row(recovered, "plasma_cleaner", 1)]
    assert main(["wafer", "W01", "--run", engine.run_id]) == 0
    shown = capsys.readouterr().out
    assert "taken off plasma_cleaner" in shown
    assert "by the recovery of session 1" in shown


async def test_the_resumes_unload_ends_the_aborted_wafers_time_on_the_line(
    store, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """plasma-clean on a served chamber, aborted in its clean: both wafers stay in it, held
    (the clean is irreversible). The resume's recovery takes them out: their timelines say so,
    and their time on the line runs to it, not to the abort."""
    async with frozen_chamber_line(tmp_path) as (line, proxy, path):
        run_id = await aborted_mid_clean(store, path, proxy, monkeypatch)
        aborted = {w["wafer_id"]: w["stopped_t"] for w in store.wafers(run_id)}
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "held"
        assert line.tools["plasma_cleaner"].loaded() == []
    (recovered,) = [e for e in store.events(run_id) if e["kind"] == "tool-recovered"]
    assert recovered["session"] == 2
    assert recovered["data"] == {"taken_off": sorted(aborted)}
    report = run_report(store, run_id)
    first = first_step_starts(report["steps"])
    for wafer in report["wafers"]:
        wafer_id = wafer["wafer"]
        assert wafer["status"] == "held"
        assert wafer["taken_off"] == [_row(recovered, "plasma_cleaner", 2)]
        assert recovered["t"] > aborted[wafer_id]
        # on the line until the recovery took it out, not until the abort
        assert wafer["cycle_time_s"] == pytest.approx(recovered["t"] - first[wafer_id])
