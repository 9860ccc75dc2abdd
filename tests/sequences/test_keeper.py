"""The keeper's safety rule: a recovery never unloads a workpiece the run did not put there.

A workpiece left on a tool by earlier work (another lot's wafer, an engineering wafer) is
placed through the tool's own driver before the run, as that work would have left it. The
tool is then out of service until cleared, naming the workpiece; the workpiece is still on the
simulated tool afterwards; the rest of the lot behaves as the failure policy says.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from packline.clock import ScaledClock, WallClock
from packline.drivers.roles.batch_chamber import BatchChamber
from packline.records import RunRecords
from packline.records.tooltime import tool_intervals
from packline.sequences.engine import RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.clearances import awaiting_clear, record_clearance
from packline.sequences.engine.errors import BadInput, RunNotStarted
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.control import LineControl
from packline.station import Station

from .helpers import station_lot, stopped_at
from .test_resume_station import station_file

FOREIGN = "ENG01"


async def place(station: Station, tool: str, wafer_id: str, clock=None) -> None:
    """Put `wafer_id` on `tool` through its driver, as earlier work left it (a chamber's door
    closed again behind it)."""
    async with station.open_tool(tool, clock) as driver:
        if isinstance(driver, BatchChamber):
            await driver.open_door()
            await driver.load(wafer_id)
            await driver.close_door()
        else:
            await driver.load(wafer_id)


class Line:
    """The dry run's simulated line of one kind, and what the run told its observers."""

    def __init__(self, kind: str = "plasma_cleaner") -> None:
        self.kind = kind
        self.line: SimulatedLine | None = None
        self.events: list = []

    def factory(self, clock, method) -> SimulatedLine:
        self.line = SimulatedLine(clock, kinds=[self.kind])
        return self.line

    def __call__(self, event) -> None:
        self.events.append(event)

    @property
    def tool(self):
        assert self.line is not None
        return self.line.tools[self.kind]

    def of_kind(self, kind: str) -> list:
        return [event for event in self.events if event.kind == kind]


async def test_a_foreign_wafer_in_the_chamber_is_left_there_and_the_chamber_out_of_service(store):
    line = Line()
    prepared = prepare(RunRequest("plasma-clean", lot=2, failure_policy="hold"))
    async with open_run(store, prepared, observers=[line], line_factory=line.factory) as engine:
        await place(engine.spec.station, "plasma_cleaner", FOREIGN, engine.clock)
        status = await engine.run()
        assert line.tool.loaded() == [FOREIGN]  # nobody took it off, nothing joined it
    assert status == "held"
    (out,) = line.of_kind("tool-out-of-service")
    assert out.tool == "plasma_cleaner"
    assert out.data == {
        "cause": "foreign workpiece",
        "until_cleared": True,
        "workpieces": [FOREIGN],
    }
    assert f"plasma_cleaner: holds {FOREIGN}, which this run did not put there" in out.message
    assert "nothing was unloaded" in out.message
    assert f"packline clear-tool {engine.run_id} plasma_cleaner --by NAME" in out.message
    assert not line.of_kind("tool-recovered")
    wafers = store.wafers(engine.run_id)
    assert [w["status"] for w in wafers] == ["held", "held"]  # waited for a clear, never came
    assert all(f"out of service: holds {FOREIGN}" in w["reason"] for w in wafers)
    recorded = store.table("events", engine.run_id)
    assert any(FOREIGN in e["message"] for e in recorded if e["kind"] == "tool-out-of-service")


async def test_a_clear_is_believed_only_once_the_foreign_wafer_is_gone(store):
    line = Line()

    def operator(event) -> None:
        if event.kind != "tool-out-of-service":
            return
        if len(line.of_kind("tool-out-of-service")) == 2:  # the first clear was too early
            line.tool.slots[line.tool.slots.index(FOREIGN)] = None  # taken off at the tool
        # the clear arrives from another process, after the event
        asyncio.get_running_loop().call_soon(engine.clear_tool, "plasma_cleaner", "ana")

    prepared = prepare(RunRequest("plasma-clean", lot=2, failure_policy="hold"))
    async with open_run(
        store, prepared, observers=[line, operator], line_factory=line.factory
    ) as engine:
        await place(engine.spec.station, "plasma_cleaner", FOREIGN, engine.clock)
        status = await engine.run()
        assert line.tool.loaded() == []
    assert status == "completed"
    first, second = line.of_kind("tool-out-of-service")
    assert FOREIGN in first.message
    assert FOREIGN in second.message  # still there when the first clear was checked
    assert [e.message for e in line.of_kind("tool-cleared")] == [
        f"plasma_cleaner back in service, cleared by ana: {FOREIGN} no longer on it"
    ]


async def test_a_foreign_wafer_on_the_gem_wire_bonder_is_not_unloaded(store):
    """The report that started this: GEMW02 left on the wire bonder (driven as a GEM tool)."""
    line = Line("wire_bonder")

    def gem_factory(clock, method) -> SimulatedLine:
        line.line = SimulatedLine(clock, kinds=["wire_bonder"], gem=True)
        return line.line

    prepared = prepare(RunRequest("bump-seal-clean", lot=1, gem=True))
    async with open_run(store, prepared, observers=[line], line_factory=gem_factory) as engine:
        await place(engine.spec.station, "wire_bonder", "GEMW02", engine.clock)
        status = await engine.run()
        assert line.tool.wafer_id == "GEMW02"
    assert status == "held"
    (out,) = line.of_kind("tool-out-of-service")
    assert "wire_bonder: holds GEMW02, which this run did not put there" in out.message


async def test_a_resumed_run_still_recovers_its_own_wafer_left_in_the_chamber(store):
    run_id = await stopped_at(
        store, RunRequest("plasma-clean", lot=2), "close door", command="abort"
    )
    first, second = (w["wafer_id"] for w in store.wafers(run_id))
    line = Line()
    async with open_resume(store, run_id, observers=[line], line_factory=line.factory) as resumed:
        # the chamber as the aborted session left it: the run's own wafer still in a slot
        await place(resumed.spec.station, "plasma_cleaner", first, resumed.clock)
        status = await resumed.run()
        assert line.tool.loaded() == []
    assert status == "completed"
    assert [e.tool for e in line.of_kind("tool-recovered")] == ["plasma_cleaner"]
    assert not line.of_kind("tool-out-of-service")
    assert {w["wafer_id"]: w["status"] for w in store.wafers(run_id)} == {
        first: "completed",
        second: "completed",
    }


async def test_a_station_run_leaves_a_foreign_wafer_on_a_served_tool(store, tmp_path):
    box: list = []

    def terminate_when_out(event) -> None:
        if event.kind == "tool-out-of-service":
            box[0].request("terminate", "test operator: the chamber holds a foreign wafer")

    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as served:
        path = station_file(tmp_path, served, "line.yaml")
        await place(served.station, "plasma_cleaner", FOREIGN)
        prepared = prepare(station_lot(path))
        line = Line()
        async with open_run(store, prepared, observers=[line, terminate_when_out]) as engine:
            box.append(engine)
            status = await engine.run()
        assert served.tools["plasma_cleaner"].loaded() == [FOREIGN]
    assert status == "terminated"
    (out,) = line.of_kind("tool-out-of-service")
    assert FOREIGN in out.message
    assert {w["status"] for w in store.wafers(engine.run_id)} == {"terminated"}


#: What the plasma chamber's driver writes to start a clean (its Modbus start command).
START_CLEAN = "FC6 write 300 [3]"


async def alarmed_and_stopped(store) -> str:
    """A run whose chamber alarmed under its first batch (rf_mismatch), which the stop policy
    then terminated: W01-W04 held, W05 and W06 never started; nobody cleared the chamber."""
    line = Line()

    def alarm(event) -> None:
        if event.kind == "run-started":
            line.tool.inject_fault("rf_mismatch")

    prepared = prepare(RunRequest("plasma-clean", lot=6, failure_policy="stop"))
    async with open_run(
        store, prepared, observers=[line, alarm], line_factory=line.factory
    ) as engine:
        assert await engine.run() == "terminated"
    (out,) = line.of_kind("tool-out-of-service")
    assert out.data["cause"] == "alarm"
    return engine.run_id


async def test_a_resume_keeps_an_alarmed_chamber_nobody_cleared_out_of_service(store):
    run_id = await alarmed_and_stopped(store)
    line = Line()  # a fresh chamber: nothing on it would refuse the next batch
    async with open_resume(store, run_id, observers=[line], line_factory=line.factory) as resumed:
        status = await resumed.run()
        assert START_CLEAN not in line.tool.received  # never used unexamined
    assert status == "terminated"
    (out,) = line.of_kind("tool-out-of-service")
    assert out.tool == "plasma_cleaner"
    assert out.message.startswith("plasma_cleaner: out of service since session 1, alarmed (")
    assert f"clear it with `packline clear-tool {run_id} plasma_cleaner --by NAME`" in out.message
    assert (out.data["cause"], out.data["until_cleared"]) == ("alarm", True)
    assert not line.of_kind("tool-cleared")
    wafers = {w["wafer_id"]: w for w in store.wafers(run_id)}
    for wafer_id in ("W05", "W06"):  # their batch waited for a clear that never came
        assert wafers[wafer_id]["status"] == "held"
        assert "out of service since session 1" in wafers[wafer_id]["reason"]
    recorded = [e for e in store.table("events", run_id) if e["session"] == 2]
    assert [e["tool"] for e in recorded if e["kind"] == "tool-out-of-service"] == ["plasma_cleaner"]


async def test_a_clear_of_the_stopped_run_lets_its_resume_use_the_chamber(store):
    run_id = await alarmed_and_stopped(store)
    cleared = record_clearance(store, run_id, "plasma_cleaner", "ana")
    assert cleared is not None
    line = Line()
    async with open_resume(store, run_id, observers=[line], line_factory=line.factory) as resumed:
        status = await resumed.run()
        assert START_CLEAN in line.tool.received
    assert status == "held"  # W01-W04 were held in session 1
    assert not line.of_kind("tool-out-of-service")
    assert {w["wafer_id"]: w["status"] for w in store.wafers(run_id)} == {
        **{f"W0{i}": "held" for i in range(1, 5)},
        "W05": "completed",
        "W06": "completed",
    }
    (event,) = [e for e in store.events(run_id) if e["kind"] == "tool-cleared"]
    assert (event["tool"], event["session"]) == ("plasma_cleaner", 1)
    assert event["data"] == {"by": "ana", "cleared": True, "run_status": "terminated"}
    assert event["message"] == (
        "plasma_cleaner cleared by ana while the run was terminated: the resume puts it back "
        "in service"
    )
    assert awaiting_clear(store, run_id) == {}


async def test_the_chambers_own_states_are_recorded_and_its_fault_starts_its_downtime(store):
    run_id = await alarmed_and_stopped(store)
    reports = [e for e in store.events(run_id) if e["kind"] == "tool-state"]
    assert {e["tool"] for e in reports} == {"plasma_cleaner"}
    states = [e["data"] for e in reports]
    assert states[0] == {"state": "idle", "e10": "standby"}
    assert states[-1] == {"state": "idle", "e10": "standby"}  # recovered; closing is not told
    (fault,) = [e for e, s in zip(reports, states, strict=True) if s["state"] == "fault"]
    intervals = tool_intervals(RunRecords(store, run_id))
    down = intervals[intervals["state"] == "unscheduled downtime"]
    assert down["start_t"].min() == fault["t"]  # the chamber said so before any record of it


async def test_wafers_held_waiting_for_the_alarmed_chamber_run_once_it_is_cleared(store):
    """W05 and W06 waited in session 2 for a chamber nobody cleared and were held: nothing
    happened to them on it. Once it is cleared, the next resume runs them, no disposition
    needed; before the clear a dry run's resume is refused naming it."""
    run_id = await alarmed_and_stopped(store)
    async with open_resume(store, run_id, line_factory=Line().factory) as resumed:
        assert await resumed.run() == "terminated"  # the stop policy, on W05's hold
    holds = [e for e in store.events(run_id) if e["kind"] == "held" and e["session"] == 2]
    assert {e["wafer_id"]: e["data"] for e in holds} == {
        "W05": {"tool_unavailable": True, "tools": ["plasma_cleaner"]},
        "W06": {"tool_unavailable": True, "tools": ["plasma_cleaner"]},
    }
    with pytest.raises(BadInput, match=r"plasma_cleaner is out of service until someone clears"):
        async with open_resume(store, run_id, refuse_uncleared=True):
            pass
    record_clearance(store, run_id, "plasma_cleaner", "ana")
    line = Line()
    async with open_resume(store, run_id, observers=[line], line_factory=line.factory) as resumed:
        assert await resumed.run() == "held"  # W01-W04: their batch alarmed
    statuses = {w["wafer_id"]: w["status"] for w in store.wafers(run_id)}
    assert statuses == {
        **{f"W0{i}": "held" for i in range(1, 5)},
        "W05": "completed",
        "W06": "completed",
    }
    assert {e.wafer for e in line.of_kind("wafer-started")} == {"W05", "W06"}


@pytest.mark.parametrize(
    ("time_scale_line", "said", "pace"),
    [
        (
            "",
            "gives no `time_scale` (so 1: the line's process time on the wall clock)",
            "each 60 times what the recipe gives it on the line's clock, and its process times "
            "would read 60 times too short",
        ),
        (
            "time_scale: 120\n",
            "says `time_scale: 120`",
            "each 1/2 of what the recipe gives it on the line's clock, and its process times "
            "would read 2 times too long",
        ),
    ],
)
async def test_a_station_file_of_a_served_line_at_another_time_scale_refuses_the_run(
    store, tmp_path, time_scale_line: str, said: str, pace: str
):
    """A trial's hand-written station file of a line `sim serve --time-scale 60` served had no
    `time_scale`: the summary said `process time 0:00:05` for a 180 s plasma clean, silently.
    The line says how fast it is served; the run refuses before any load, naming both, and
    records nothing: a typo in a station file left a failed run in the history. A file that
    says the line is faster than it is served is told its waits are that fraction of the
    recipe's (they had read `0.5 times as long`)."""
    async with SimulatedLine(ScaledClock(60), kinds=["plasma_cleaner"]) as served:
        control = LineControl(served.tools, tmp_path / "control", [].append, 60.0)
        await control.start()
        try:
            path = tmp_path / "line.yaml"  # written by hand: `control:`, a wrong `time_scale:`
            control_line = f"control: {tmp_path / 'control'}\n"
            path.write_text(served.station.to_yaml() + time_scale_line + control_line)
            prepared = prepare(station_lot(path))
            async with open_run(store, prepared) as engine:
                with pytest.raises(RunNotStarted) as refused:
                    await engine.run()
        finally:
            await control.stop()
        assert len(served.twin) == 0  # no wafer was ever loaded
        name = served.station.name
    assert str(refused.value) == (
        f"run not started: station {name} {said}, but the simulated line it names "
        "is served at time x60 (`packline sim serve --time-scale 60`): the run's waits (a "
        f"hold, a poll interval, a timeout) would pass at the wrong pace, {pace}; give "
        "`time_scale: 60` in the station file, as `sim serve --station-out` writes it; nothing "
        "was run and nothing was recorded: run it again with the station file corrected"
    )
    assert store.runs() == []


async def test_a_station_capacity_above_what_the_tool_takes_refuses_the_run_before_any_load(
    store, tmp_path
):
    """A new user's station gave the plasma cleaner `capacity: 8`: the run loaded four wafers
    and failed at the fifth, `all 4 slots are full`, holding the lot. The run now refuses it
    once its tools are connected, naming the tool, both numbers and the line to change: no
    step starts, nothing loads, nothing is recorded."""
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as served:
        path = station_file(tmp_path, served, "line.yaml", plasma_cleaner={"capacity": 8})
        prepared = prepare(station_lot(path, 8))
        async with open_run(store, prepared, confirmed_by="ana") as engine:
            with pytest.raises(RunNotStarted) as refused:
                await engine.run()
        assert len(served.twin) == 0  # no wafer was ever loaded
        name = served.station.name
    written = await asyncio.to_thread(Path(path).read_text)
    (line,) = [
        number
        for number, text in enumerate(written.splitlines(), start=1)
        if text.strip() == "capacity: 8"
    ]
    assert str(refused.value) == (
        f"run not started: station {name}: plasma_cleaner: capacity 8 in the station file, but "
        "the tool takes 4 wafers at once (a batch of more would fail at its load, the tool "
        f"full): set `capacity: 4` or less on line {line} of station file {path}; nothing was "
        "run and nothing was recorded: run it again with the station file corrected"
    )
    assert store.runs() == []


async def test_a_clear_of_a_chamber_in_service_writes_no_tool_cleared_event(store):
    """A clear order that reaches the run while its tool is in service (ordered before the
    tool was seen in service, or by another hand) clears nothing: it is recorded as an
    ignored order, never as a `tool-cleared` event."""
    line = Line()

    def operator(event) -> None:
        if event.kind == "wafer-started":
            asyncio.get_running_loop().call_soon(engine.clear_tool, "plasma_cleaner", "ana")

    prepared = prepare(RunRequest("plasma-clean", lot=1))
    async with open_run(
        store, prepared, observers=[line, operator], line_factory=line.factory
    ) as engine:
        assert await engine.run() == "completed"
    assert not line.of_kind("tool-cleared")
    (ignored,) = line.of_kind("control-ignored")
    assert (ignored.tool, ignored.message) == (
        "plasma_cleaner",
        "clear-tool plasma_cleaner by ana: plasma_cleaner was in service; nothing cleared",
    )
