"""A run refused on its tools before its first step records nothing
(sequences/engine/engine.py, `Engine._reach_tools`): every tool it reached is closed and its
line lock released, so the tools are free for the run that follows the corrected file."""

from __future__ import annotations

import asyncio

import pytest
import yaml

from packline.clock import ScaledClock, WallClock
from packline.line_lock import Holder, hold_tools, tool_addresses
from packline.sequences.engine import RunStore, open_run, prepare
from packline.sequences.engine.errors import RunNotStarted
from packline.sequences.engine.events import Event
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.base import ConnectionChange
from packline.station import load_station

from ..helpers import station_lot
from ..test_resume_station import confirm_yes

#: How long the served chamber may take to see the run's client leave.
LEFT_WITHIN_S = 10.0


async def test_a_run_that_reached_one_chamber_but_not_the_other_closes_it_and_records_nothing(
    store: RunStore, tmp_path, unused_port: int
):
    """Two plasma chambers, the second's address wrong: the run connected the first (and held
    its lock) before it was refused for the second. The first is closed, both locks are free,
    and no run, wafer, event or tool row is left in the records."""
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        changes: list[ConnectionChange] = []
        every_client_left = asyncio.Event()

        def listen(server: str, client: str, change: ConnectionChange) -> None:
            changes.append(change)
            left = changes.count(ConnectionChange.LEFT) == changes.count(ConnectionChange.OPENED)
            if left:
                every_client_left.set()
            else:
                every_client_left.clear()

        chamber = line.tools["plasma_cleaner"]
        chamber.connection_listeners.append(listen)
        station = yaml.safe_load(line.station.to_yaml())
        nobody = f"modbus+tcp://127.0.0.1:{unused_port}"
        station["tools"]["spare_chamber"] = {"driver": "plasma_cleaner", "address": nobody}
        path = tmp_path / "line.yaml"
        await asyncio.to_thread(path.write_text, yaml.safe_dump(station, sort_keys=False))
        request = station_lot(path)
        async with open_run(store, prepare(request), confirmed_by="ci") as engine:
            with pytest.raises(RunNotStarted) as refused:
                await engine.run()
        await asyncio.wait_for(every_client_left.wait(), LEFT_WITHIN_S)
        assert ConnectionChange.OPENED in changes  # it was reached, and left
        with hold_tools(tool_addresses(load_station(path)), Holder("the next run", "-")):
            pass  # no lock of the refused run's is left
        assert chamber.loaded() == []
    lines = (await asyncio.to_thread(path.read_text)).splitlines()
    address_line = lines.index(f"    address: {nobody}") + 1
    error = str(refused.value)
    assert error.startswith(f"run not started: spare_chamber at {nobody}: connect: cannot connect")
    assert error.endswith(
        f"; its address is on line {address_line} of station file {path}; nothing was run and "
        "nothing was recorded: run it again once every tool answers as the station file says"
    )
    assert store.runs() == []


async def test_a_run_paused_while_it_reached_its_tools_then_refused_leaves_no_event(
    store: RunStore, tmp_path, unused_port: int
):
    """Ctrl-C while the run connects (the pause menu), then its tool refused: the `paused`
    event (and the terminate ordered after it) had been recorded for a run the records never
    had, where the refusal says nothing was recorded."""
    async with SimulatedLine(WallClock(), kinds=["plasma_cleaner"]) as line:
        station = yaml.safe_load(line.station.to_yaml())
        station["tools"]["plasma_cleaner"]["address"] = f"modbus+tcp://127.0.0.1:{unused_port}"
        path = tmp_path / "line.yaml"
        await asyncio.to_thread(path.write_text, yaml.safe_dump(station, sort_keys=False))
        request = station_lot(path)
        async with open_run(store, prepare(request), confirmed_by="ci") as engine:
            engine.request("pause", "Ctrl-C by ana at the terminal", "ana")
            engine.request("terminate", "terminate by ana at the terminal", "ana")
            with pytest.raises(RunNotStarted):
                await engine.run()
    assert store.runs() == []
    assert store.table("events", engine.run_id) == []


async def test_a_run_paused_while_it_reached_its_tools_is_recorded_paused(
    store: RunStore, tmp_path
):
    """Ctrl-C while the run connects: once connected, its record said `running` while it
    stood paused, so `runs` said so and `packline resume RUN` from another terminal was
    refused (`already being driven ... status running`). It is recorded `paused`, its pause
    before its start, and goes on once resumed."""
    async with SimulatedLine(ScaledClock(1000), kinds=["plasma_cleaner"]) as line:
        path = tmp_path / "line.yaml"
        await asyncio.to_thread(path.write_text, line.station.to_yaml())
        request = station_lot(path)
        started = asyncio.Event()

        def on_start(event: Event) -> None:
            if event.kind == "run-started":
                started.set()

        opened = open_run(store, prepare(request), observers=[on_start], confirm=confirm_yes)
        async with opened as engine:
            engine.request("pause", "Ctrl-C by ana at the terminal", "ana")
            run = asyncio.create_task(engine.run())
            await started.wait()
            assert store.run(engine.run_id)["status"] == "paused"
            kinds = [event["kind"] for event in store.table("events", engine.run_id)]
            assert kinds[:2] == ["paused", "run-started"]
            engine.request("resume", "resume by ana at the terminal", "ana")
            assert await run == "completed"
