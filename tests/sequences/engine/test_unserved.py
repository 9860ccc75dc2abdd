"""A wafer that needs a kind with no tool in service is held at once, naming the kind and why
each of its tools is out (sequences/engine/tools.py), on real tools as on the simulated line.
The operator's way back is the one they had: `packline clear-tool` puts the tool back in
service, and the wafers held for want of it run again with no disposition, in the same session
while the run goes on (sequences/engine/engine.py), or on the next resume once it has ended."""

from __future__ import annotations

import asyncio
from typing import Any

from packline.clock import ScaledClock
from packline.drivers.registry import TOOL_KINDS
from packline.sequences.engine import RunRequest, open_resume, open_run, prepare
from packline.sequences.engine.clearances import record_clearance
from packline.sequences.engine.control import CLEAR_TOOL, Order
from packline.sequences.engine.launch import what_held_wafers_need
from packline.sim_instruments.line import SimulatedLine

from ..helpers import station_lot
from ..test_resume_station import confirm_yes, station_file

HELD = {f"W0{i}": "held" for i in range(1, 5)}  # their batch alarmed


def short_ids(store, run_id: str) -> dict[str, str]:
    """Each wafer's status by its number in the lot (a station lot's ids end with it)."""
    return {w["wafer_id"][-3:]: w["status"] for w in store.wafers(run_id)}


def check_held_at_once(events: list, run_id: str) -> None:
    """W05 and W06, queued for the chamber when it alarmed under W01-W04, were held at once
    for want of it, naming the kind, the tool and how to clear it."""
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    holds = [e for e in events if e.kind == "held" and e.data.get("tool_unavailable")]
    assert [e.wafer[-3:] for e in holds] == ["W05", "W06"]
    for hold in holds:
        assert hold.message.startswith(
            "no plasma_cleaner in service: plasma_cleaner is out of service: alarmed ("
        )
        assert f"clear it with `packline clear-tool {run_id} plasma_cleaner" in hold.message
        assert hold.t - out.t < 60  # at once, not at the end of the 24 h tool wait


async def alarmed_station_run(
    store,
    tmp_path,
    line: SimulatedLine,
    operator=None,
    fault: str = "rf_mismatch",
    method: str = "plasma-clean",
    time_scale: float = 1.0,
) -> tuple:
    """`method` (plasma-clean) for a lot of 6 on the served `line`, its station saying
    `time_scale`, whose chamber suffers `fault` (an alarm) under the first batch;
    `operator(engine, event)` sees each event. The run's id and its events."""
    chamber = line.tools["plasma_cleaner"]
    events: list = []
    box: list = []

    def observe(event) -> None:
        events.append(event)
        if event.kind == "run-started":
            chamber.inject_fault(fault)
        if operator is not None:
            operator(box[0], event)

    path = station_file(tmp_path, line, "line.yaml", time_scale=time_scale)
    request = RunRequest(method, simulated=False, station_path=path, lot=6, failure_policy="hold")
    async with open_run(
        store, prepare(request), observers=[observe], confirm=confirm_yes
    ) as engine:
        box.append(engine)
        assert await engine.run() == "held"
    return engine.run_id, events


async def test_on_real_tools_a_clear_while_the_run_goes_on_runs_them_again(store, tmp_path):
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        chamber = line.tools["plasma_cleaner"]

        def operator(engine, event) -> None:
            if event.kind == "held" and event.wafer.endswith("W06") and event.data:
                chamber.clear_fault("rf_mismatch")  # the cause found and fixed at the tool
                order = Order(CLEAR_TOOL, by="ana", tool="plasma_cleaner")
                store.post_control(engine.run_id, order.text(), 0.0)
                engine._take_control()  # what the engine's control poll does

        run_id, events = await alarmed_station_run(store, tmp_path, line, operator)

    check_held_at_once(events, run_id)
    assert short_ids(store, run_id) == {**HELD, "W05": "completed", "W06": "completed"}
    (cleared,) = [e for e in events if e.kind == "tool-cleared"]
    assert cleared.message == "plasma_cleaner back in service, cleared by ana"
    again = [e for e in events if e.kind == "wafer-started" and e.data]
    assert [(e.wafer[-3:], e.data, e.message) for e in again] == [
        (wafer, {"back_in_service": "plasma_cleaner"}, "again: plasma_cleaner is back in service")
        for wafer in ("W05", "W06")
    ]


def order(engine, command: str, **fields) -> None:
    """An operator's order from another process (`packline clear-tool`, `terminate`), as the
    engine's control poll reads it."""
    engine.store.post_control(engine.run_id, Order(command, by="ana", **fields).text(), 0.0)
    engine._take_control()


def check_waiting(events: list, run_id: str) -> None:
    """Every wafer held, W05 and W06 only for want of the chamber: the run stayed up, saying
    which wafers wait for which clear, which for a disposition, and how to end it."""
    (waiting,) = [e for e in events if e.kind == "waiting-for-clear"]
    assert [w[-3:] for w in waiting.data["unserved"]] == ["W05", "W06"]
    assert list(waiting.data["unserved"].values()) == [["plasma_cleaner"]] * 2
    text = waiting.message
    assert text.startswith("every wafer left is held; ")
    assert "only for want of a tool, and run again as soon as it is cleared" in text
    assert "alarmed (" in text
    assert f"`packline clear-tool {run_id} plasma_cleaner --by NAME`" in text
    assert "-W01, " in text
    assert "-W04 wait for a disposition once the run has ended" in text
    assert f"`packline disposition {run_id} WAFER release|rework|scrap" in text
    assert f"`packline terminate {run_id}` (or Ctrl-C) ends it now" in text
    # one resume named, as it must be given (it had named a second, different one)
    assert text.endswith(f"clear the tool then, and `packline resume {run_id}` runs them")
    assert text.count("packline resume") == 1


async def test_on_real_tools_the_run_waits_for_a_clear_that_runs_them_again(store, tmp_path):
    """Every wafer held, W05 and W06 only for want of the chamber: on real tools the run does
    not end at once but waits for the operator, who fixes the chamber and clears it from
    another terminal: W05 and W06 run in the same session, no resume needed. Before, the run
    ended at once and only a resume ran them. The wait is recorded."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        chamber = line.tools["plasma_cleaner"]

        def operator(engine, event) -> None:
            if event.kind == "waiting-for-clear":
                chamber.clear_fault("rf_mismatch")
                order(engine, CLEAR_TOOL, tool="plasma_cleaner")

        run_id, events = await alarmed_station_run(store, tmp_path, line, operator)

    check_held_at_once(events, run_id)
    check_waiting(events, run_id)
    # and the records keep the wait, as the events table says (show lists it): the run's
    # record had read as if it never stood waiting for the clear
    (told,) = [e for e in events if e.kind == "waiting-for-clear"]
    (kept,) = [e for e in store.events(run_id) if e["kind"] == "waiting-for-clear"]
    assert (kept["message"], kept["data"], kept["t"]) == (told.message, told.data, told.t)
    assert short_ids(store, run_id) == {**HELD, "W05": "completed", "W06": "completed"}
    again = [e.wafer[-3:] for e in events if e.kind == "wafer-started" and e.data]
    assert again == ["W05", "W06"]
    # in one batch, as the chamber takes them: not one chamber cycle each
    (after_the_clear,) = [e for e in events if e.kind == "batch-formed"][1:]
    members = after_the_clear.message.partition(": ")[2].split(", ")
    assert [member[-3:] for member in members] == ["W05", "W06"]


async def test_on_a_served_line_the_wait_for_a_clear_says_its_wall_time(store, tmp_path):
    """On a line served 1000 times as fast (its station saying so), the run waits for a clear
    on the line's time (decision 0125): its 24 h are 0:01:26 of the operator's wall time,
    which the wait says, where it said "up to 24 h" alone."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "waiting-for-clear":
                order(engine, "terminate")

        _, events = await alarmed_station_run(store, tmp_path, line, operator, time_scale=1000)
    (waiting,) = [e for e in events if e.kind == "waiting-for-clear"]
    assert (
        "waits for a clear for up to 24 h of the line's time (0:01:26 of wall time at x1000); "
        in (waiting.message)
    )


async def test_on_real_tools_a_clear_after_the_run_ended_is_for_its_resume(store, tmp_path):
    """Every wafer held, the run waits for a clear; the operator ends it instead (terminate):
    it ends held, nothing cut short, every held wafer recorded. The operator clears the
    chamber of the stopped run and resumes it on the line: W05 and W06 run, no disposition
    needed."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:

        def operator(engine, event) -> None:
            if event.kind == "waiting-for-clear":
                order(engine, "terminate")

        run_id, events = await alarmed_station_run(store, tmp_path, line, operator)
        check_held_at_once(events, run_id)
        check_waiting(events, run_id)
        assert store.run(run_id)["status"] == "held"
        assert short_ids(store, run_id) == {**HELD, "W05": "held", "W06": "held"}
        # what `run` prints at its end: a disposition for the batch, the clear for the rest
        advice = what_held_wafers_need(store, run_id)
        assert "-W04 held: decide each (why it is held: `packline show " in advice
        assert f"`packline disposition {run_id} WAFER release|rework|scrap" in advice
        assert "-W06 held only for want of a tool, no decision needed: it runs again" in advice
        assert (
            "plasma_cleaner is out of service until someone clears it (alarm): once its cause "
            f"is fixed, `packline clear-tool {run_id} plasma_cleaner --by NAME`"
        ) in advice
        assert advice.endswith(f"then `packline resume {run_id}`")
        # a session answered unattended: its resume answers unattended too, or holds again
        unattended = what_held_wafers_need(store, run_id, confirmed_by="ana")
        assert unattended.endswith(
            f"then `packline resume {run_id} --confirmed-by ana` (its confirmations were "
            "answered in advance by ana; a resume answers its own)"
        )
        line.tools["plasma_cleaner"].clear_fault("rf_mismatch")
        assert record_clearance(store, run_id, "plasma_cleaner", "ana") is not None
        async with open_resume(store, run_id, confirm=confirm_yes) as resumed:
            assert await resumed.run() == "held"
    assert short_ids(store, run_id) == {**HELD, "W05": "completed", "W06": "completed"}


#: The clears of `supply_off_then_back`: the first finds the gas still off, the second back.
CLEARS_WITH_THE_SUPPLY_OFF_THEN_BACK = [
    (
        False,
        "plasma_cleaner not cleared: interlock still open: gas_supply; clear it again once it "
        "is made",
    ),
    (True, "plasma_cleaner back in service, cleared by ana: gas_supply made"),
]


def clears(events: list) -> list[tuple[bool, str]]:
    """Each clear of a tool in `events`: whether it put the tool back, and what it said."""
    return [(e.data["cleared"], e.message) for e in events if e.kind == "tool-cleared"]


async def supply_off_then_back(store, tmp_path, time_scale: float = 1.0) -> tuple:
    """plasma-clean for a lot of 6 on a line served 1000 times as fast as the wall clock (its
    station saying `time_scale`) whose chamber's process gas is off (its gas_supply interlock
    open) under the first batch; cleared once the run waits for the clear, the gas still off,
    then again once the gas is back. The run's id and its events."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        chamber = line.tools["plasma_cleaner"]

        def gas_back(engine) -> None:
            chamber.clear_fault("gas_supply")
            order(engine, CLEAR_TOOL, tool="plasma_cleaner")

        def operator(engine, event) -> None:
            if event.kind == "waiting-for-clear":
                order(engine, CLEAR_TOOL, tool="plasma_cleaner")  # the gas still off
            elif event.kind == "tool-cleared" and "still open" in event.message:
                # once the clear's check has ended, as an operator's next command comes
                asyncio.get_running_loop().call_soon(gas_back, engine)

        return await alarmed_station_run(
            store, tmp_path, line, operator, fault="gas_supply", time_scale=time_scale
        )


async def test_a_supply_found_off_takes_the_tool_out_until_a_clear_finds_it_back(store, tmp_path):
    """The chamber's process gas is off (its gas_supply interlock, made at rest: a supply no
    step makes): the first batch's clean is refused, and the chamber is out of service at
    once, so W05 and W06 are held for want of it instead of being loaded, pumped down and
    refused batch after batch, each then needing a disposition. A clear while the gas is still
    off reads the interlock and leaves the chamber out; once the gas is back, a clear puts it
    back in service and W05 and W06 run."""
    run_id, events = await supply_off_then_back(store, tmp_path)
    (out,) = [e for e in events if e.kind == "tool-out-of-service"]
    assert out.data["cause"] == "interlock open"
    assert out.data["interlocks"] == ["gas_supply"]
    assert out.message == (
        "plasma_cleaner: interlock open: gas_supply (closed when the process gas supply is "
        "present, made at rest: a supply no step makes); every step needing it would be "
        "refused: clear it with "
        f"`packline clear-tool {run_id} plasma_cleaner --by NAME` once it is made"
    )
    # each wafer held for want of the chamber names the interlock and the clear, not again
    # what closes it (a lot of 12 repeated that 8 times, in the log and the summary)
    holds = [e.message for e in events if e.kind == "held" and e.data.get("tool_unavailable")]
    assert (
        holds
        == [
            "no plasma_cleaner in service: plasma_cleaner is out of service: interlock open: "
            f"gas_supply; clear it with `packline clear-tool {run_id} plasma_cleaner --by NAME` "
            "once it is made"
        ]
        * 2
    )
    batches = [e.message for e in events if e.kind == "batch-formed"]
    assert [batch.count("W0") for batch in batches] == [4, 2]  # none refused after the first
    assert clears(events) == CLEARS_WITH_THE_SUPPLY_OFF_THEN_BACK
    assert short_ids(store, run_id) == {**HELD, "W05": "completed", "W06": "completed"}
    refused = [w["reason"] for w in store.wafers(run_id) if w["status"] == "held"]
    assert all("was refused" in reason and "gas_supply" in reason for reason in refused)


async def test_a_clear_on_a_served_line_reads_the_interlocks_within_the_wires_wall_time(
    store, tmp_path, monkeypatch
):
    """On a line served 1000 times as fast as the wall clock, its station saying so, the run
    waits on the line's time (`launch.line_clock`), but a clear's read of the interlocks is
    bounded as every exchange is, by its link (the link's timeout, 2 s of wall time: decision
    0126): a chamber that answers it in 10 ms, as a tool on a serial line may, is read.
    Bounded on the line's time, 2 ms of wall time, the clear said `plasma_cleaner not
    cleared: its interlocks could not be read (reading plasma_cleaner's interlocks: no result
    within 2 s)`."""
    driver = TOOL_KINDS["plasma_cleaner"].load_driver()
    read = driver.request_interlocks

    async def in_10_ms(self: Any) -> dict[str, bool]:
        await asyncio.sleep(0.01)
        return await read(self)

    monkeypatch.setattr(driver, "request_interlocks", in_10_ms)
    _, events = await supply_off_then_back(store, tmp_path, time_scale=1000)
    assert clears(events) == CLEARS_WITH_THE_SUPPLY_OFF_THEN_BACK


async def test_a_run_on_a_served_line_reads_what_a_tool_holds_within_the_wires_wall_time(
    store, tmp_path, monkeypatch
):
    """On a line served 1000 times as fast as the wall clock, its station saying so, the
    run's check of what each idle tool holds before wafers move (`ToolKeeper._check_empty`)
    is bounded as every exchange is, by its link (the link's timeout of wall time: decision
    0126): a chamber whose answer takes 2 s of wall time, as a slow link's may, is read and
    the lot runs. Bounded by 1800 s of the line's time, 1.8 s of wall time, the chamber was
    out of service for the run (`what it holds is unknown: asking plasma_cleaner: no result
    within 1800 s`) and the lot held for want of it."""
    driver = TOOL_KINDS["plasma_cleaner"].load_driver()
    read = driver.request_workpieces
    reads: list[Any] = []

    async def first_in_2_s(self: Any) -> tuple[str, ...]:
        reads.append(self)
        if len(reads) == 1:  # the check before wafers move
            await asyncio.sleep(2.0)
        return await read(self)

    monkeypatch.setattr(driver, "request_workpieces", first_in_2_s)
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = station_file(tmp_path, line, "line.yaml", time_scale=1000)
        request = station_lot(path, 1)
        async with open_run(store, prepare(request), confirm=confirm_yes) as engine:
            assert await engine.run() == "completed"
    assert reads  # the slow read was the run's
    assert [e for e in store.events(engine.run_id) if e["kind"] == "tool-out-of-service"] == []
