"""A recovery takes the workpieces beside a run's wafer off a tool as the run's own
(sequences/engine/keeper.py): a failed flip-chip mount leaves the wafer's board (`B` + its id)
on the bonder, which the run itself loaded there, so the bonder is emptied, the wafer held and
the next wafer gets the bonder, instead of the board being taken for another lot's and the
bonder out of service for the rest of the lot. A resume's recovery takes the board a stopped
mount left there off as well; a stage a resume passed, completed before, takes nothing of
another lot's for the run's own."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from packline.sequences.engine import RunRequest, RunStore, open_resume, open_run, prepare
from packline.sequences.tape_substrate.incoming import die_wafer_id
from packline.sim_instruments.line import SimulatedLine

from ..helpers import stopped_at

#: Longer than the reference recipe's 3 s bond: a bonder whose solder wets slower than the
#: line's figure, which validate judged the recipe by, so no chip bonds.
SLOW_WETTING_S = 10.0
MOUNT_FAILED = "step 'mount devices' of {} failed: devices bonded = 0 devices, outside 4-4 devices"


async def resumed_holding(store: RunStore, run_id: str, **held: str) -> tuple[str, Any, list]:
    """Resume dry run `run_id` on a line whose flip-chip bonder holds `held` (its `wafer_id`,
    its die supply's `source_id`) as it starts: the run's status, the simulated bonder once
    the resume has run, and the resume's events."""
    bonders: list = []
    events: list = []

    def holding(line: SimulatedLine) -> None:
        bonders.append(line.tools["flip_chip_bonder"])
        for name, workpiece in held.items():
            setattr(bonders[0], name, workpiece)

    async with open_resume(store, run_id, observers=[events.append], line_ready=holding) as resumed:
        status = await resumed.run()
    return status, bonders[0], events


async def test_a_failed_mount_empties_the_bonder_of_the_wafers_board_and_the_lot_goes_on(
    store: RunStore,
):
    request = RunRequest("two-process-via", lot=2, failure_policy="hold")
    lines: list[SimulatedLine] = []
    events: list = []

    def wetting_slowly(line: SimulatedLine) -> None:
        bonder = line.tools["flip_chip_bonder"]
        bonder.physics = replace(bonder.physics, wetting_time_s=SLOW_WETTING_S)
        lines.append(line)

    async with open_run(
        store, prepare(request), observers=[events.append], line_ready=wetting_slowly
    ) as engine:
        assert await engine.run() == "held"
        bonder = lines[0].tools["flip_chip_bonder"]
        assert (bonder.wafer_id, bonder.source_id) == (None, None)  # board and dies taken off
    wafers = {w["wafer_id"]: w for w in store.wafers(engine.run_id)}
    for wafer_id in ("W01", "W02"):  # each failed its own mount; W02 was not kept waiting
        assert (wafers[wafer_id]["status"], wafers[wafer_id]["reason"]) == (
            "held",
            MOUNT_FAILED.format(wafer_id),
        )
    assert not [e for e in events if e.kind == "tool-out-of-service"]
    recovered = [e.tool for e in events if e.kind == "tool-recovered"]
    assert recovered == ["flip_chip_bonder", "flip_chip_bonder"]


async def test_a_resume_takes_the_board_a_stopped_mount_left_on_the_bonder_off_it(
    store: RunStore,
):
    run_id = await stopped_at(
        store, RunRequest("two-process-via", lot=2), "mount devices", command="abort"
    )
    # as the aborted session left it
    _, bonder, events = await resumed_holding(store, run_id, wafer_id="BW01", source_id="W01")
    assert (bonder.wafer_id, bonder.source_id) == (None, None)
    assert not [e for e in events if e.kind == "tool-out-of-service"]
    assert "flip_chip_bonder" in {e.tool for e in events if e.kind == "tool-recovered"}


async def test_another_lots_board_of_the_same_id_is_not_taken_for_the_runs_own(store: RunStore):
    """W01's mount completed (its board came off the bonder with it); the run stopped as W02
    started its own. Another lot's board BW01, found on the bonder at the resume, is that
    lot's: the board of a wafer is the run's own by the run's own stage on the tool (W02's was
    cut off), not by its id, so BW01 is left there and the bonder out of service naming it."""
    engines: list = []

    def abort_at_w02s_mount(event) -> None:
        if event.kind == "step-started" and (event.wafer, event.step) == ("W02", "load board"):
            engines[0].request("abort", "test")

    prepared = prepare(RunRequest("two-process-via", lot=2))
    async with open_run(store, prepared, observers=[abort_at_w02s_mount]) as engine:
        engines.append(engine)
        assert await engine.run() == "aborted"
    mounts = [
        (s["wafer_id"], s["status"])
        for s in store.table("steps", engine.run_id)
        if s["kind"] == "stage" and s["tool"] == "flip_chip_bonder"
    ]
    assert mounts == [("W01", "completed"), ("W02", "interrupted")]

    status, bonder, events = await resumed_holding(store, engine.run_id, wafer_id="BW01")
    assert status == "held"
    assert bonder.wafer_id == "BW01"  # not unloaded
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    assert (out.tool, out.data["workpieces"]) == ("flip_chip_bonder", ["BW01"])


async def test_a_stage_a_resume_passed_leaves_another_lots_die_wafer_foreign(store: RunStore):
    """A panel's flip-chip stage completed (its die wafer came off the bonder with it); the run
    stopped as it sealed, and its resume, passing that stage without the bonder (completed
    before, recorded skipped: decision 0122), stopped again in the oven's batch. Another lot's
    die wafer of the same id, found in the bonder's die supply at the next resume, is that
    lot's: the pass loaded nothing, so the panel's latest stage on the bonder is still the
    completed one. Read as its latest, the skipped pass had made the die wafer the run's own,
    and the recovery took it off."""
    run_id = await stopped_at(store, RunRequest("tape-substrate", lot=1), "seal dies", wafer="W01")
    await stopped_at(store, run_id, "load", wafer="W01")
    bonds = [
        (s["session"], s["status"])
        for s in store.table("steps", run_id)
        if s["kind"] == "stage" and s["tool"] == "flip_chip_bonder"
    ]
    assert bonds == [(1, "completed"), (2, "skipped")]
    die_wafer = die_wafer_id("W01")
    _, bonder, events = await resumed_holding(store, run_id, source_id=die_wafer)
    assert bonder.source_id == die_wafer  # not unloaded
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    assert (out.tool, out.data["workpieces"]) == ("flip_chip_bonder", [die_wafer])
