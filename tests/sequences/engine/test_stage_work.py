"""A pass through a stage that did no work is no use of its tool (`stage.stage_work`), on a
served line as in a dry run: a wafer run again in the same session after `clear-tool`, and a
wafer whose stage a terminate cut off, replayed on resume, leave the tools they pass again at
their demonstrated rate (`packline tools`: performance and OEE read 0 % after them, trial run
...-86c3), and the bottleneck's pace the ETA scales a lot by as it is."""

from __future__ import annotations

from packline.clock import ScaledClock
from packline.records import RunRecords
from packline.records.tooltime import tool_time
from packline.sequences.engine import RunRequest, open_resume
from packline.sequences.engine.dispositions import Decision, record_disposition
from packline.sequences.engine.recorded_station import recorded_tools
from packline.sequences.engine.schedule import _bottleneck_pace
from packline.sequences.engine.stage import (
    ALL_WORK,
    NO_WORK,
    PART_WORK,
    Handling,
    on_the_tool,
    stage_work,
)
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot, stopped_at
from ..test_resume_station import confirm_yes, station_file
from .test_unserved import alarmed_station_run, order

#: The tool kinds bump-seal-clean asks of a station (its variants' too).
KINDS = [
    "wire_bonder", "laminator", "plasma_cleaner", "dicing_saw",
    "ball_mounter", "oven", "laser", "electroplater", "flip_chip_bonder",
]  # fmt: skip

#: Below it a tool's performance reads as the trial's 0 %, not its demonstrated rate. It is
#: measured on a clock 1000 times faster than life, so the wall clock's delays on a loaded
#: machine take some off it (0.86 seen): the floor leaves room for them.
PERFORMANCE_FLOOR = 0.5


def performance(store, run_id: str) -> dict[str, tuple[float, int]]:
    """Each tool's performance and uses in the run, as `packline tools` gives them."""
    times = tool_time(RunRecords(store, run_id))
    return {
        tool: (float(perf), int(uses))
        for tool, perf, uses in zip(times["tool"], times["performance"], times["uses"], strict=True)
    }


async def run_again_after_a_clear(store, tmp_path) -> tuple:
    """bump-seal-clean, a lot of 6, on a served line 1000 times faster than life: the chamber
    alarms under the first batch, the wafers after it (W05 and W06) are held for want of it,
    and run again once it is cleared, passing the bonder and laminator stages they completed
    with every step skipped, in the same session. The run's id and its events."""
    async with SimulatedLine(ScaledClock(1000), kinds=KINDS) as line:
        chamber = line.tools["plasma_cleaner"]

        def operator(engine, event) -> None:
            if event.kind == "held" and event.wafer.endswith("W06") and event.data:
                chamber.clear_fault("rf_mismatch")
                order(engine, "clear-tool", tool="plasma_cleaner")

        return await alarmed_station_run(store, tmp_path, line, operator, method="bump-seal-clean")


async def test_a_wafer_run_again_after_a_clear_passes_its_done_stages_at_no_use(store, tmp_path):
    """W05's and W06's passes again through the bonder and laminator stages they completed
    are no uses: each tool has its 6, at its demonstrated rate."""
    run_id, events = await run_again_after_a_clear(store, tmp_path)
    steps = store.table("steps", run_id)
    work = stage_work(steps)
    idle = [s for s in steps if work.get(s["id"]) == NO_WORK]
    again = {e.wafer for e in events if e.kind == "wafer-started" and e.data}
    assert again
    assert sorted((s["wafer_id"], s["tool"]) for s in idle) == [
        (wafer, tool) for wafer in sorted(again) for tool in ("laminator", "wire_bonder")
    ]
    figures = performance(store, run_id)
    for tool in ("wire_bonder", "laminator"):
        perf, uses = figures[tool]
        assert uses == 6, tool
        assert perf > PERFORMANCE_FLOOR, (tool, perf)


async def test_a_stage_cut_off_and_replayed_on_resume_keeps_its_tools_rate(store, tmp_path):
    """bump-seal-clean, a lot of 2, terminated once W02's bumps are formed inside its bonder
    stage, then resumed: W02's stage is replayed (loaded, inspected, unloaded again, its
    bumping skipped; W01's laminator stage, cut off too, is replayed alike) and W01 passes its
    bonder stage again with every step skipped."""
    async with SimulatedLine(ScaledClock(1000), kinds=KINDS) as line:
        request = station_lot(station_file(tmp_path, line, "line.yaml"), 2, "bump-seal-clean")
        run_id = await stopped_at(
            store, request, "form bumps", wafer=2, event="step-finished", confirm=confirm_yes
        )
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "completed"
    steps = store.table("steps", run_id)
    work = stage_work(steps)
    replayed = [(s["wafer_id"][-3:], s["tool"]) for s in steps if work.get(s["id"]) == PART_WORK]
    assert ("W02", "wire_bonder") in replayed
    perf, uses = performance(store, run_id)["wire_bonder"]
    assert perf > PERFORMANCE_FLOOR
    assert uses == 3  # W01's, W02's cut off, and its replay


async def test_the_eta_s_bottleneck_pace_counts_only_the_passes_that_did_work(store, tmp_path):
    """The pace a lot is scaled by (`schedule._bottleneck_pace`) is its bottleneck's time held
    per wafer: W05's pass through the bonder stage it had completed, held long (it had been
    lengthened by an operator's pause, which now waits for a stage's end, decision 0097: here
    its record is lengthened by 10 000 s), held the bonder for nothing of its own. Counted, it
    made the bonder (1 s a wafer) the bottleneck, ahead of the saw (2 s); the pace is what the
    passes that did work give, as if that pass had not been recorded."""
    run_id, _ = await run_again_after_a_clear(store, tmp_path)
    recorded = store.table("steps", run_id)
    work = stage_work(recorded)
    (held_long,) = [
        s["id"]
        for s in recorded
        if work.get(s["id"]) == NO_WORK
        and s["wafer_id"].endswith("W05")
        and s["tool"] == "wire_bonder"
    ]
    steps = [
        {**s, "stopped_t": s["stopped_t"] + 10_000.0} if s["id"] == held_long else s
        for s in recorded
    ]
    idle = [s for s in steps if work.get(s["id"]) == NO_WORK]
    (paused,) = [s for s in idle if s["id"] == held_long]
    positions = {w["wafer_id"]: w["position"] for w in store.wafers(run_id)}
    tools = recorded_tools(store.run(run_id))
    capacities = {name: int(tool.get("capacity", 1)) for name, tool in tools.items()}
    worked = [s for s in steps if s not in idle]
    pace_s, group = _bottleneck_pace(steps, positions, capacities)
    assert (pace_s, group) == _bottleneck_pace(worked, positions, capacities)
    bonded_s = sum(
        s["stopped_t"] - s["started_t"]
        for s in worked
        if s["tool"] == "wire_bonder" and s["kind"] == "stage"
    )
    # the pass counted, the bonder would have been the bottleneck: the test shows the rule
    assert (bonded_s + paused["stopped_t"] - paused["started_t"]) / 6 > pace_s


async def test_a_released_wafers_pass_around_a_process_it_skips_is_no_rate_of_it(store):
    """Aborted in the clean, a batch of three is decided: W01 reworked, W02 released, W03
    scrapped. On resume W02's chamber cycle pumps and vents around the clean its release
    accepted as done, recorded skipped as the resume starts, before W02 enters the chamber:
    that pass had been taken for one that did all its work, and its short cycle for the
    chamber's best, which read the chamber's performance 4.4 % (a trial's)."""
    run_id = await stopped_at(
        store, RunRequest("plasma-clean", lot=3), "plasma clean", command="abort"
    )
    for wafer, decision in (("W01", Decision.REWORK), ("W02", Decision.RELEASE)):
        record_disposition(store, run_id, wafer, decision, "ana", "decided")
    record_disposition(store, run_id, "W03", Decision.SCRAP, "ana", "decided")
    async with open_resume(store, run_id) as resumed:
        assert await resumed.run() == "completed"
    steps = store.table("steps", run_id)
    work = stage_work(steps)
    passes = {
        row["wafer_id"]: work[row["id"]]
        for row in steps
        if row["session"] == 2 and row["kind"] == "batch"
    }
    assert passes == {"W01": ALL_WORK, "W02": PART_WORK}
    (chamber,) = tool_time(RunRecords(store, run_id)).to_dict("records")
    assert chamber["performance"] > 0.5


def test_a_workpiece_is_on_the_tool_while_its_loads_outnumber_its_unloads():
    """bump-seal-clean's mounting: the board loaded on the bond stage, the diced wafer in the
    die supply, then the die supply emptied: cut off there, the board is still on the tool,
    though the last handling step read was an unload."""
    load, unload = Handling.LOAD.value, Handling.UNLOAD.value
    assert on_the_tool([load, load, None, unload])
    assert not on_the_tool([load, load, None, unload, unload])
    assert not on_the_tool([None, None])  # cut off before the load: nothing of it there
