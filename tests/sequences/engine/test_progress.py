"""The live view of a run (issue 15): what it shows of the wafers, the tools and the run's
state, its clock between events, and a frame that fits the terminal (100 x 30 with 25 wafers).

The view is fed the engine's events by hand and drawn on a recording console of a given size.
"""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from rich.console import Console

from packline.cli import main
from packline.clock import ScaledClock
from packline.sequences.engine import (
    LiveView,
    PlainLog,
    RunRequest,
    open_resume,
    open_run,
    prepare,
)
from packline.sequences.engine.events import Event
from packline.sequences.engine.progress import JsonLines, clock_text, for_database
from packline.sequences.engine.report import first_step_starts
from packline.sequences.engine.schedule import Schedule, ScheduledStep
from packline.sim_instruments.line import SimulatedLine

from ..test_resume_station import aborted_run_on, confirm_yes, station_file


class Lot:
    """A LiveView of a lot, fed events by hand; its run clock is `now`."""

    def __init__(self, wafers: int, *, width: int = 100, height: int = 30) -> None:
        self.console = Console(
            file=io.StringIO(), width=width, height=height, force_terminal=True, color_system=None
        )
        self.view = LiveView(self.console, title="plasma-clean  run R1")
        self.now = 0.0
        self.view.clock = lambda: self.now
        self.ids = [f"W{i + 1:02d}" for i in range(wafers)]
        self._step_id = 0
        self.open: dict[str, int] = {}

    def event(self, kind: str, **fields) -> None:
        self.view(Event(kind, "R1", self.now, 0.0, **fields))

    def start(self) -> None:
        self.event("run-started", data={"wafers": self.ids})
        for wafer in self.ids:
            self.event("wafer-started", wafer=wafer)

    def step(self, wafer: str, name: str, tool: str = "chamber", kind: str = "step") -> int:
        self._step_id += 1
        self.event(
            "step-started",
            wafer=wafer,
            step=name,
            tool=tool,
            data={"step_id": self._step_id, "key": f"{name}#1", "kind": kind},
        )
        return self._step_id

    def finish(self, wafer: str, step_id: int, status: str = "completed") -> None:
        self.event("step-finished", wafer=wafer, status=status, data={"step_id": step_id})

    def steps(self, wafer: str, count: int) -> None:
        for i in range(count):
            self.finish(wafer, self.step(wafer, f"s{i}"))

    def screen(self) -> list[str]:
        """The frame as the terminal shows it, line by line."""
        self.console.file = io.StringIO()
        self.console.print(self.view.render())
        return self.console.file.getvalue().splitlines()

    def row(self, wafer: str) -> str:
        return next(line for line in self.screen() if line.split()[:1] == [wafer])


def schedule(wafers: int, steps: int, step_s: float = 60.0) -> Schedule:
    """Wafers one after the other through `steps` steps of `step_s` each."""
    ends = [
        ScheduledStep((w * steps + s + 1) * step_s, w, f"s{s}#1")
        for w in range(wafers)
        for s in range(steps)
    ]
    return Schedule(tuple(ends), wafers * steps * step_s, "from dry run D1", steps * step_s)


def test_a_wafer_no_step_has_started_for_is_queued_not_running():
    lot = Lot(3)
    lot.start()
    lot.step("W01", "pump down")
    assert lot.row("W01").split()[1] == "running"
    assert lot.row("W02").split()[1] == "queued"
    assert "pump down" in lot.row("W01")


def test_a_wafer_between_its_steps_waits_and_one_held_says_why():
    lot = Lot(3)
    lot.start()
    lot.steps("W01", 2)
    lot.step("W02", "grind")
    lot.event("wafer-finished", wafer="W02", status="held", message="step 'grind' failed: X")
    assert lot.row("W01").split()[1] == "waiting"
    assert lot.row("W02").split()[1] == "held"
    assert "step 'grind' failed" in lot.row("W02")


def test_a_tool_out_of_service_is_named_under_the_wafers_until_it_is_cleared():
    lot = Lot(3)
    lot.view.state.add_tools(["chamber", "oven"])
    lot.start()
    lot.event("tool-out-of-service", tool="oven", message="oven: over temperature")
    assert "out of service oven: oven: over temperature" in lot.screen()
    # a clear that did not put it back (its check still going) leaves it out of service
    checking = {"by": "ana", "cleared": False}
    lot.event("tool-cleared", tool="oven", message="oven is being checked already", data=checking)
    assert "out of service oven: oven: over temperature" in lot.screen()
    cleared = {"by": "ana", "cleared": True}
    lot.event(
        "tool-cleared", tool="oven", message="oven back in service, cleared by ana", data=cleared
    )
    assert not any("out of service" in line for line in lot.screen())


@pytest.mark.parametrize("wafers", [3, 60])  # the wafer table, and the row per tool
def test_an_alarmed_tool_s_clear_command_has_a_line_of_its_own_until_it_is_cleared(wafers):
    """The reason a line cuts at the terminal's width; the command that clears the tool, what
    the operator needs, is on a line of its own."""
    lot = Lot(wafers, width=100, height=30)
    lot.view.state.add_tools(["chamber"])
    lot.start()
    alarm = "alarm REFLECTED_POWER (RF reflected power above its limit; RF switched off)"
    why = f"chamber: alarmed (chamber at modbus+tcp://127.0.0.1:41539: clean: {alarm})"
    out = {"cause": "alarm", "until_cleared": True}
    lot.event("tool-out-of-service", tool="chamber", message=why, data=out)
    command = "clear chamber with `packline clear-tool R1 chamber --by NAME`"
    assert command in lot.screen()
    # of a run on another database than the default, the command names it
    lot.view.state.db_option = " --db /data/line-3.db"
    lot.event("tool-out-of-service", tool="chamber", message=why, data=out)
    on_its_db = "clear chamber with `packline clear-tool R1 chamber --by NAME --db /data/line-3.db`"
    assert on_its_db in lot.screen()
    cleared = {"by": "ana", "cleared": True}
    lot.event("tool-cleared", tool="chamber", message="chamber back in service", data=cleared)
    assert not any("clear-tool" in line for line in lot.screen())
    # the run's wait for a clear names it too
    waiting = "waits for a clear: `packline clear-tool R1 chamber --by NAME`"
    lot.event("waiting-for-clear", message=waiting)
    assert lot.view.state.run_note.endswith("--by NAME --db /data/line-3.db`")


def test_a_paused_run_says_so_and_why_and_its_idle_wafers_are_paused():
    """W03, queued, showed `queued` through the pause: it starts no step until the run
    resumes, so it is paused as W01 is; resumed, it is queued again."""
    lot = Lot(3)
    lot.start()
    lot.steps("W01", 1)
    in_step = lot.step("W02", "bond")
    lot.event("paused", message="pause requested from another process")
    screen = lot.screen()
    assert "PAUSED: pause requested from another process" in screen[0]
    assert lot.row("W01").split()[1] == "paused"
    assert lot.row("W02").split()[1] == "running"  # finishes its step first
    assert lot.row("W03").split()[1] == "paused"
    lot.finish("W02", in_step)
    lot.event("resumed", message="resumed")
    assert "PAUSED" not in lot.screen()[0]
    assert lot.row("W01").split()[1] == "waiting"
    assert lot.row("W03").split()[1] == "queued"


def test_a_wafer_in_a_stage_runs_while_the_run_pauses_until_the_stage_ends():
    """A wafer holding a tool between two steps (its stage open) finishes its stage before it
    waits (decision 0097: a pause never leaves it in the tool): `running` until the stage
    ends, then `paused`, as a batch is."""
    lot = Lot(2)
    lot.start()
    stage = lot.step("W01", "use plasma_cleaner", kind="stage")
    lot.finish("W01", lot.step("W01", "pump down"))
    batch = lot.step("W02", "batch plasma_cleaner", kind="batch")
    in_step = lot.step("W02", "clean", kind="batch-step")
    assert lot.row("W01").split()[1] == "running"  # holds the chamber between its steps
    lot.event("paused", message="wafer W09 held: step 'cure' failed")
    assert lot.row("W01").split()[1] == "running"  # its stage runs to its end first
    assert lot.row("W02").split()[1] == "running"
    lot.finish("W02", in_step)
    assert lot.row("W02").split()[1] == "running"  # its batch is not over
    lot.finish("W01", stage)
    lot.finish("W02", batch)
    assert "2 wafers: 2 paused" in lot.screen()
    assert "PAUSED: wafer W09 held: step 'cure' failed" in lot.screen()[0]
    lot.event("resumed", message="resume by ana at the terminal")
    assert [lot.row(w).split()[1] for w in ("W01", "W02")] == ["waiting", "waiting"]


def test_the_time_left_holds_while_nothing_runs_and_says_why():
    """`left about` ran down while no wafer was in a step (an operator's answer awaited, a
    tool's clear) up to the schedule's next step end: it holds, saying so, as while paused."""
    lot = Lot(2)
    lot.view.state.set_schedule(schedule(2, 2))  # steps of 60 s ending at 60, 120, 180, 240
    lot.start()
    first = lot.step("W01", "s0")
    lot.now = 30.0
    assert lot.view.remaining_s() == 210.0
    lot.now = 60.0
    lot.finish("W01", first)
    lot.now = 500.0  # no step since: the line waits
    assert lot.view.remaining_s() == 180.0
    assert "left about 0:03:00 (waiting)" in lot.screen()[-1]
    second = lot.step("W01", "s1")
    lot.now = 530.0
    assert lot.view.remaining_s() == 150.0
    assert "(waiting" not in lot.screen()[-1]
    lot.event("paused", message="pause requested by ana from another process")
    lot.now = 900.0
    assert lot.view.remaining_s() == 150.0
    assert "left about 0:02:30 (paused)" in lot.screen()[-1]
    lot.event("resumed", message="resumed")
    lot.now = 910.0
    assert lot.view.remaining_s() == 140.0
    lot.finish("W01", second)


def test_the_run_clock_ticks_between_events():
    """On a station the clock moved only at step events: 0:00:00 for the first ten seconds of
    a ten-minute step."""
    lot = Lot(1)
    lot.start()
    lot.step("W01", "bump")
    lot.now = 10.0
    assert "run clock 0:00:10" in lot.screen()[-1]
    assert lot.row("W01").split()[-1] == "0:00:10"


def test_on_a_line_served_faster_a_wafer_s_time_on_the_line_is_its_process_time():
    """On a line served at x60 the view's `on line` read the run clock's wall time, 0:00:15
    of W01, where the summary right after gave its time on the line as 0:15:09, its process
    time: it reads the process time now, as the summary and `show`; the run clock, which the
    footer names as the wall clock, stays the wall clock's."""
    lot = Lot(1)
    lot.view.time_scale = 60.0  # as `attach` takes it from the station
    lot.start()
    lot.step("W01", "plasma clean")
    lot.now = 15.15
    assert lot.row("W01").split()[-1] == "0:15:09"
    assert "run clock 0:00:15 (wall clock)" in lot.screen()[-1]


def test_each_bar_counts_the_wafers_own_steps_from_the_schedule():
    """Each bar was scaled to the leading wafer: one that had done 2 of 10 steps while the
    leader had done 4 showed half done."""
    lot = Lot(2)
    lot.view.state.set_schedule(schedule(2, 10))
    lot.start()
    lot.steps("W01", 4)
    lot.steps("W02", 2)
    assert "4/10" in lot.row("W01")
    assert "2/10" in lot.row("W02")


def test_without_a_schedule_the_view_counts_steps_and_says_why_it_has_no_estimate():
    lot = Lot(1)
    lot.view.state.set_schedule(None, "no completed run of this recipe yet")
    lot.start()
    lot.steps("W01", 3)
    assert "3 steps" in lot.row("W01")
    assert "ETA unknown: no completed run of this recipe yet" in lot.screen()[-1]


def test_a_lot_of_25_fits_100_by_30_with_its_footer():
    """At 100 x 30 with 25 wafers the footer (clock, time left) was cut off."""
    lot = Lot(25)
    lot.view.state.set_schedule(schedule(25, 8))
    lot.start()
    for wafer in lot.ids[:4]:
        lot.step(wafer, "plasma clean", "plasma_cleaner")
    screen = lot.screen()
    assert len(screen) < 30  # the line under the frame is the cursor's
    assert all(len(line) <= 100 for line in screen)
    assert [line.split()[0] for line in screen[2:27]] == lot.ids
    assert screen[-1].startswith("run clock 0:00:00")
    assert "left about 3:20:00, ETA " in screen[-1]  # the wall clock's time of day
    assert screen[-1].endswith(" (from dry run D1)")


def test_a_station_lot_of_25_with_a_scaled_basis_fits_100_by_30_a_row_per_wafer():
    """On a station the footer naming a run of another lot size (`(from run ... of 12,
    scaled)`) wrapped to two lines and the view fell back to a row per tool (it fitted at 31
    lines): the clock goes up beside the counts."""
    lot = Lot(25)
    lot.ids = [f"165102-0c5b-W{i + 1:02d}" for i in range(25)]
    basis = "from run 20261130-165102-0c5b of 12, scaled"
    lot.view.state.set_schedule(replace(schedule(25, 8), basis=basis))
    lot.start()
    for wafer in lot.ids[:4]:
        lot.step(wafer, "plasma clean", "plasma_cleaner")
    lot.now = 7.0
    screen = lot.screen()
    assert len(screen) < 30
    assert [line.split()[0] for line in screen[2:27]] == lot.ids
    assert screen[-2] == "25 wafers: 4 running, 21 queued   run clock 0:00:07 (wall clock)"
    assert screen[-1].startswith("left about 3:19:53, ETA ")
    assert screen[-1].endswith(f" ({basis})")


@pytest.mark.parametrize("height", [30, 12])
def test_a_lot_taller_than_the_terminal_shows_a_row_per_tool(height):
    lot = Lot(60, height=height)
    lot.view.state.add_tools(["laminator", "chamber", "oven"])
    lot.start()
    lot.step("W01", "laminate", "laminator", kind="stage")
    lot.step("W01", "press", "laminator")
    for wafer in lot.ids[1:5]:
        lot.step(wafer, "plasma clean", "chamber", kind="batch-step")
    for wafer in lot.ids[5:15]:
        lot.event("wafer-finished", wafer=wafer, status="held", message="step 'cure' failed")
    lot.event("tool-out-of-service", tool="oven", message="oven: over temperature")
    screen = lot.screen()
    assert len(screen) < height
    assert screen[-1].startswith("run clock")
    rows = {line.split()[0]: line for line in screen[2:5]}
    assert "W01" in rows["laminator"]
    assert "press" in rows["laminator"]
    assert "4: W02, W03, W04, W05" in rows["chamber"]
    assert "out of service" in rows["oven"]
    assert "over temperature" in rows["oven"]
    assert "5 running, 45 queued, 10 held" in "\n".join(screen)
    held = [line for line in screen if line.startswith("held ")]
    assert held
    assert len(held) <= 10
    if height == 12:
        assert screen[-2].startswith("... ")
        assert "more held" in screen[-2]


async def test_the_view_follows_a_dry_run_and_is_cleared_at_its_end(store):
    """Drawn while a lot of 5 runs; at the end its last frame is cleared, not left above the
    run's summary (the lot's final state was printed twice)."""
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100, height=30, color_system=None)
    view = LiveView(console)
    async with open_run(
        store, prepare(RunRequest("plasma-clean", lot=5)), observers=[view]
    ) as engine:
        view.attach(engine, plan=False)
        with view:
            assert await engine.run() == "completed"
    console.file = io.StringIO()
    console.print(view.render())
    final = console.file.getvalue().splitlines()
    assert final[0] == f"plasma-clean  run {engine.run_id}  finished"
    assert "5 wafers: 5 completed" in final
    assert final[-1].startswith("run clock 0:09:42 (simulated)")
    assert "ETA unknown: no completed run of this recipe yet" in final[-1]
    drawn = output.getvalue()
    assert "W05" in drawn
    assert drawn.endswith("\x1b[2K")  # the frame's last line erased: cleared, not left


async def test_a_run_connecting_to_its_tools_shows_the_lot_it_will_run_not_zero_wafers(store):
    """Before its `run-started` (the run reaches its tools) the view was drawn as `0 wafers:`
    under an empty table, and the pause menu opened then under it: an empty lot, to an
    operator. It says the lot its command gives and that the run is connecting, its time left
    standing still for that, then the lot as it runs."""
    lot = Lot(0)  # drawn as `attach` has it: the engine's clock, the lot its command gives
    request = RunRequest("plasma-clean", lot=3, lot_id="LOT7")
    async with open_run(store, prepare(request), observers=[lot.view]) as engine:
        lot.view.attach(engine, plan=False)
        lot.view.state.set_schedule(schedule(3, 2))
        connecting = lot.screen()
        engine.request("pause", "Ctrl-C by ana at the terminal", "ana")
        paused = lot.screen()
        engine.request("resume", "resume by ana at the terminal", "ana")
        assert await engine.run() == "completed"
    counts = "3 wafers of lot LOT7: none started; the run is connecting to its tools"
    assert connecting[1:3] == [counts, connecting[-1]]  # no table of no wafer
    assert "left about 0:06:00 (connecting to its tools)" in connecting[-1]
    assert paused[1] == counts
    assert "left about 0:06:00 (paused)" in paused[-1]
    assert not [line for line in connecting + paused if "0 wafers" in line]
    assert "3 wafers: 3 completed" in lot.screen()


async def test_an_output_dropped_is_named_in_words_and_the_run_goes_on(store):
    """`run --json | head` closes the pipe: the run goes on without its JSON lines, and its
    events said so as `<packline.sequences.engine.progress.JsonLines object at 0x7f07a8743310>:
    BrokenPipeError(32, 'Broken pipe')` in `show` and the report."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    lot = prepare(RunRequest("plasma-clean", lot=1))
    async with open_run(store, lot, observers=[JsonLines(ClosedPipe())]) as engine:
        assert await engine.run() == "completed"
    events = store.table("events", engine.run_id)
    (dropped,) = [event for event in events if event["kind"] == "observer-dropped"]
    assert dropped["message"] == (
        "JsonLines dropped (BrokenPipeError: [Errno 32] Broken pipe); the run goes on"
    )


def test_a_resumed_run_shows_the_wafers_an_earlier_session_finished():
    """A resumed session's events say nothing of the wafers finished before it: the records
    do (`LiveView.attach` seeds them)."""
    lot = Lot(3)
    lot.view.state.set_schedule(schedule(3, 2))
    lot.view.state.seed("W01", 0, "completed")
    lot.view.state.seed("W02", 1, "held", "irreversible step grind was running")
    lot.view.state.seed("W03", 2, "running", done={"s0#1"})
    lot.start()
    assert lot.row("W01").split()[1] == "completed"
    assert "irreversible step grind" in lot.row("W02")
    assert lot.row("W03").split()[1] == "queued"
    assert "1/2" in lot.row("W03")  # its step of the earlier session
    # W01's 2 steps and W03's first are done and W02's are dropped: the schedule's point is at
    # W03's first step (the schedule's W03 starting where W02 ended, 300 s: a held wafer's time
    # is not given back), counted from the first frame (it had waited for its skip: 240 s)
    assert lot.view.remaining_s() == 60.0
    lot.finish("W03", 99, status="skipped")  # done in the earlier session: counted once
    assert "1/2" in lot.row("W03")
    assert lot.view.remaining_s() == 60.0


def test_a_resumed_wafer_counts_the_steps_it_completed_in_any_session_once():
    """`packline resume` of a dry run killed in W01's vent read `0 steps` beside each wafer
    the killed session had taken through four steps (the count was this session's events).
    Its row counts the steps it completed in the run (`seed`'s `done`); the steps of its
    replayed stage run again, and one skipped as done before, are counted once; a new one
    adds to them."""
    lot = Lot(1)
    lot.view.state.seed("W01", 0, "running", done={"load#1", "pump down#1", "clean#1"})
    lot.start()
    assert "3 steps" in lot.row("W01")  # no schedule: a count
    lot.finish("W01", lot.step("W01", "load", kind="batch-step"))  # its stage replayed
    lot.finish("W01", lot.step("W01", "pump down", kind="batch-step"))
    lot.finish("W01", 99, status="skipped")  # clean, completed before
    assert "3 steps" in lot.row("W01")
    lot.finish("W01", lot.step("W01", "vent", kind="batch-step"))
    assert "4 steps" in lot.row("W01")


async def resumed_to_the_end(store, run_id: str) -> tuple[list[str], float]:
    """Resume run `run_id` to its end under a live view of 100 x 30 (attached without
    planning): the view's frame when the resume's first step started, line by line, and its
    run clock then."""
    console = Console(
        file=io.StringIO(), width=100, height=30, force_terminal=True, color_system=None
    )
    view = LiveView(console)
    frames: list[tuple[list[str], float]] = []

    def draw(event: Event) -> None:
        if event.kind == "step-started" and not frames:
            t = view.now()
            console.file = io.StringIO()
            console.print(view.render())
            frames.append((console.file.getvalue().splitlines(), t))

    async with open_resume(store, run_id, observers=[view, draw]) as resumed:
        view.attach(resumed, plan=False)
        assert await resumed.run() == "completed"
    (frame,) = frames
    return frame


async def test_a_resumed_run_s_view_shows_its_terminated_wafers_queued_and_its_clock_going_on(
    store,
):
    """After `packline resume`, wafers running again read `terminated  terminate requested
    by ...` of the session before, the count `... terminated`, the time left 0:00:00 (those
    wafers' steps left the plan) and the run clock 0:00:00 again (the records continue it)."""
    lot = prepare(RunRequest("plasma-clean", lot=4))
    async with open_run(store, lot) as engine:  # the schedule: a dry run of the lot
        assert await engine.run() == "completed"

    def terminate_in_clean(event: Event) -> None:
        if event.kind == "step-started" and event.step == "plasma clean":
            first.request("terminate", "terminate requested by carol from another process")

    async with open_run(store, lot, observers=[terminate_in_clean]) as first:
        assert await first.run() == "terminated"
    stopped_t = store.run(first.run_id)["stopped_t"]
    frame, _ = await resumed_to_the_end(store, first.run_id)
    assert not any("terminate" in line for line in frame), "\n".join(frame)
    assert "4 wafers: 1 running, 3 queued" in frame
    footer = frame[-1]
    assert footer.startswith(f"run clock {clock_text(stopped_t)} (simulated)"), footer
    assert "left about 0:00:00" not in footer


async def terminated_in_second_clean(store) -> str:
    """A plasma-clean lot of 6, two chamber cycles (4 + 2), terminated as W05's plasma clean
    starts, the second's: its run id."""
    lot = prepare(RunRequest("plasma-clean", lot=6))

    def terminate_in_second_clean(event: Event) -> None:
        if event.kind == "step-started" and (event.step, event.wafer) == ("plasma clean", "W05"):
            first.request("terminate", "terminate requested by carol from another process")

    async with open_run(store, lot, observers=[terminate_in_second_clean]) as first:
        assert await first.run() == "terminated"
    return first.run_id


async def test_a_resumed_run_s_wafer_is_on_the_line_since_its_first_step_not_the_run_s_start(
    store,
):
    """`on line` is a wafer's time since its first step started: a resumed view showed the run
    clock for every wafer (its task's start, the run's, was taken for its first step). A lot
    of 6 is two chamber cycles (4 + 2); W05 first stepped at the second's start, 4:52 in."""
    run_id = await terminated_in_second_clean(store)
    first_steps = [
        s for s in store.table("steps", run_id) if s["wafer_id"] == "W05" and s["kind"] != "batch"
    ]
    first_step_t = min(s["started_t"] for s in first_steps)
    assert first_step_t - store.run(run_id)["started_t"] == pytest.approx(291.1188)
    frame, t = await resumed_to_the_end(store, run_id)
    rows = {line.split()[0]: line for line in frame if line.startswith("W0")}
    rows["t"] = clock_text(t - first_step_t)
    assert rows["W05"].split()[-1] == rows["t"], rows["W05"]
    assert rows["W01"].split()[-1] == "0:04:51", rows["W01"]  # completed in session 1


async def test_a_resume_s_view_prints_the_wafers_it_runs_as_show_lists_them(
    store, capsys: pytest.CaptureFixture[str]
):
    """A resume records which wafers it runs before any tool is driven (`resume-plan`), and a
    piped run prints it; on a terminal the live view did not, and its frame, cleared at the
    end, names every wafer alike. It is printed above the frame, in `show`'s words, and stays
    there above the summary; the frame redrawn below it is the run's (it had been the view's
    before `attach` until the next refresh: no title, `0 wafers`)."""
    run_id = await terminated_in_second_clean(store)
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100, height=30, color_system=None)
    view = LiveView(console)
    async with open_resume(store, run_id, observers=[view]) as resumed:
        view.attach(resumed, plan=False)
        with view:
            assert await resumed.run() == "completed"
    assert main(["show", run_id, "--db", str(store.path)]) == 0
    (listed,) = [line for line in capsys.readouterr().out.splitlines() if "resume-plan" in line]
    assert listed.endswith("] resume-plan this resume runs W05, W06")
    drawn = output.getvalue()
    assert f"{listed}\n" in drawn
    assert "0 wafers" not in drawn  # the frame below it drawn as attached, not as first made


def test_a_piped_event_line_is_never_wrapped():
    """Piped output (a console 160 wide that is not a terminal) keeps each event on one line,
    so `grep` finds the whole of it: a held wafer's reason runs past 160 columns."""
    out = io.StringIO()
    reason = "step 'plasma clean' of W01 failed: " + "alarm REFLECTED_POWER; " * 10
    PlainLog(Console(file=out, width=160))(
        Event("wafer-finished", "R1", 112.0, 0.0, wafer="W01", status="held", message=reason)
    )
    assert out.getvalue() == f"[0:01:52] wafer-finished W01 held: {reason}\n"


async def test_a_resume_s_view_on_a_served_line_prints_its_plan_as_show_lists_it(
    store, tmp_path, capsys: pytest.CaptureFixture[str]
):
    """On a line served at time x300 the view printed a resume's plan at the run clock's wall
    time, `[0:00:00] resume-plan ...`, where `show` lists it at the line's process time,
    `[0:00:36] resume-plan ...`: it prints the process time now, as `show` and a piped run."""
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100, height=30, color_system=None)
    view = LiveView(console)
    async with SimulatedLine(ScaledClock(300), kinds=["plasma_cleaner"]) as line:
        run_id = await aborted_run_on(
            store, station_file(tmp_path, line, "line.yaml", time_scale=300)
        )
        async with open_resume(store, run_id, observers=[view], confirm=confirm_yes) as resumed:
            view.attach(resumed, plan=False)
            with view:
                assert await resumed.run() == "completed"
    (plan,) = [e for e in store.events(run_id) if e["kind"] == "resume-plan"]
    assert main(["show", run_id, "--db", str(store.path)]) == 0
    (listed,) = [line for line in capsys.readouterr().out.splitlines() if "resume-plan" in line]
    assert listed.startswith(f"[{clock_text(plan['t'] * 300)}] resume-plan ")
    assert f"{listed}\n" in output.getvalue()


#: How many times faster than the wall clock `served_run`'s line is served: the wall time a
#: write of the records takes is a process time the view reads, should the clock be read again
#: after it for the event that tells the moment written.
SERVED_FAST = 300


async def served_run(store, tmp_path, observers: list, opened=lambda engine: None) -> str:
    """plasma-clean for a lot of 2 (one batch) on a plasma cleaner served at `SERVED_FAST`, its
    events told to `observers` and its engine handed to `opened` once it is open: its run id,
    once it has completed."""
    async with SimulatedLine(ScaledClock(SERVED_FAST), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml", time_scale=SERVED_FAST)
        request = RunRequest("plasma-clean", simulated=False, station_path=path, lot=2)
        async with open_run(
            store, prepare(request), observers=observers, confirm=confirm_yes
        ) as engine:
            opened(engine)
            assert await engine.run() == "completed"
    return engine.run_id


async def test_a_wafer_s_time_on_the_line_reads_in_the_view_where_its_records_put_it(
    store, tmp_path
):
    """On a line served at x60 the view's `on line` of a completed wafer read 2 s longer than
    the summary's: its `wafer-finished` event was stamped after the write of the wafer's end,
    a second reading of the clock. Its start was off too: the view started it at the wafer's
    batch, the records at its first counted step (`report.first_steps`), and that step's
    `step-started` event was stamped after the write of its record. Each is one reading now,
    so the view starts and ends the wafer's time on the line where `show` and the summary
    do."""
    view = LiveView(Console(file=io.StringIO(), force_terminal=True, width=100, height=30))
    run_id = await served_run(
        store, tmp_path, [view], opened=lambda engine: view.attach(engine, plan=False)
    )
    first = first_step_starts(store.table("steps", run_id))
    on_line = {w["wafer_id"]: (first[w["wafer_id"]], w["stopped_t"]) for w in store.wafers(run_id)}
    assert {
        wafer: (state.started_t, state.stopped_t) for wafer, state in view.state.wafers.items()
    } == on_line


def test_a_command_a_record_advises_is_printed_for_the_database_it_is_read_from():
    """A record names no path (its database moves): a trial pasted the clear a piped run's
    `tool-out-of-service` line advised, and it went to the default database. Printed, each
    command it advises in backticks names the run's database, unless it names one already or
    the database is the default."""
    said = (
        "plasma_cleaner: alarmed; clear it with `packline clear-tool R1 plasma_cleaner --by "
        "NAME` once the cause is found; then `packline resume R1 --db /a.db`"
    )
    assert for_database(said, "") == said
    assert for_database(said, " --db /b.db") == said.replace("--by NAME`", "--by NAME --db /b.db`")
    event = Event("tool-out-of-service", "R1", 61.0, 0.0, tool="plasma_cleaner", message=said)
    log = io.StringIO()
    plain = PlainLog(Console(file=log, width=400))
    plain.db_option = " --db /b.db"
    plain(event)
    assert "`packline clear-tool R1 plasma_cleaner --by NAME --db /b.db`" in log.getvalue()
