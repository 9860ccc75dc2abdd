"""What a served simulated line says it does: clients, alarms, jobs."""

from __future__ import annotations

import asyncio
import re

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.errors import ToolAlarm
from packline.drivers.registry import TOOL_KINDS
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.twin import JobEnd
from packline.sim_instruments.watch import LineWatch

from ..conformance.adapters import ADAPTERS

#: Bounds every wait on a driver's operation in wall time: a hang guard.
WALL_LIMIT_S = 120.0
#: What the watch names the job of each kind's conformance operation (`adapters.py`): its
#: operation and workpieces.
OPERATIONS = {
    "ball_mounter": "mount balls on W01",
    "deposition": "deposition on W01",
    "dicing_saw": "dice on W01",
    "dispenser": "fill holes on W01",
    "electroplater": "electroplate on W01",
    "flip_chip_bonder": "flip-chip bond on W01, S01",
    "grinder": "grind on W01",
    "laminator": "laminate on W01",
    "laser": "laser drill on W01",
    "lithography": "coat on W01",
    "oven": "oven run on W01",
    "plasma_cleaner": "plasma clean on W01",
    "resin_coater": "resin coat on W01",
    "stencil_printer": "print paste on W01",
    "wet_bench": "wet etch on W01",
    "wire_bonder": "stud bumping on W01",
}


async def settled(line: SimulatedLine, name: str, count: int) -> None:
    """Until tool `name` has `count` clients (a closed connection is seen a loop turn later)."""
    async with asyncio.timeout(10):
        while line.tools[name].connections != count:  # noqa: ASYNC110 - the server's count
            await asyncio.sleep(0.01)


async def test_the_watch_tells_clients_alarms_and_jobs_as_they_change():
    said: list[str] = []
    async with SimulatedLine(kinds=["plasma_cleaner", "oven"]) as line:
        watch = LineWatch(line, said.append)
        watch.look()
        assert said == []  # the line as it was served
        assert line.tools["oven"].connections is None  # an RTU line on a pty: not countable
        async with line.station.open_tool("plasma_cleaner"):
            await settled(line, "plasma_cleaner", 1)
            watch.look()
            chamber = line.tools["plasma_cleaner"]
            chamber.latch("REFLECTED_POWER")  # told at once, though cleared before a look
            chamber.clear_alarms()
            chamber.job_ended("plasma clean", ["W01", "W02"], 125.0, JobEnd.COMPLETED)
            watch.look()
            watch.look()  # nothing new: nothing said twice
        await settled(line, "plasma_cleaner", 0)
        watch.look()
        address = line.station.tools["plasma_cleaner"].address
    client = said[0].split(" ")[2]
    assert said == [
        f"plasma_cleaner: client {client} connected to {address}",
        "plasma_cleaner: alarm REFLECTED_POWER (RF reflected power above its limit; RF "
        "switched off)",
        "plasma_cleaner: plasma clean on W01, W02 (t = 125 s): completed",  # as it ended
        "plasma_cleaner: alarms cleared",
        f"plasma_cleaner: client {client} disconnected from {address}",
    ]


def test_every_kind_names_the_job_of_its_operation():
    """A tool kind registered is told of here: the test below runs its operation."""
    assert set(OPERATIONS) == set(TOOL_KINDS)


@pytest.mark.parametrize("ending", ["completed", "aborted", "broken off by alarm"])
@pytest.mark.parametrize(
    ("kind", "gem"),
    [(kind, False) for kind in sorted(TOOL_KINDS)]
    + [(kind, True) for kind in sorted(TOOL_KINDS) if TOOL_KINDS[kind].gem_simulator],
    ids=lambda value: {False: "native", True: "gem"}.get(value, value),
)
async def test_every_tool_tells_how_each_job_ended(kind: str, gem: bool, ending: str):
    """A trial watched a plasma clean an alarm broke off and saw nothing: the chamber's twin
    recorded only completed cleans, and the watch read the twin. Every tool kind (and its GEM
    face) tells each job's end itself: its conformance operation (the driver's, over the
    wire) left to its end, cut off by the driver's abort as it runs, or broken off by the
    kind's alarm fault (docs/simulated-line.md), each told once, as it ended."""
    adapter = ADAPTERS[kind]
    said: list[str] = []
    line = SimulatedLine(VirtualClock(), kinds=[kind], gem=gem)
    line.twin = adapter.twin()  # the workpieces the operation needs, as the suite's
    async with line:
        LineWatch(line, said.append)
        sim = line.tools[kind]
        async with line.station.open_tool(kind, line.clock) as driver:
            rig = testing.Rig(sim, driver)
            await adapter.prepare(rig)
            told = len(said)
            operation = asyncio.create_task(adapter.operate(rig))
            async with asyncio.timeout(WALL_LIMIT_S):
                if ending == "completed":
                    await operation
                else:
                    await testing.run_until(
                        operation, lambda: adapter.running(sim), sim, timeout_s=WALL_LIMIT_S
                    )
                    if ending == "aborted":
                        operation.cancel()  # the driver commands the tool's safe state
                        with pytest.raises(asyncio.CancelledError):
                            await operation
                    else:
                        fault, code = adapter.alarm_fault
                        sim.inject_fault(fault)
                        with pytest.raises(ToolAlarm, match=code):
                            await operation
                        ending = f"{ending} {code}"
    jobs = [text for text in said[told:] if " (t = " in text]
    assert len(jobs) == 1, said[told:]
    head, tail = f"{kind}: {OPERATIONS[kind]} (t = ", f" s): {ending}"
    assert re.fullmatch(rf"{re.escape(head)}\d+{re.escape(tail)}", jobs[0]), jobs


async def test_alarms_cleared_on_a_tool_whose_fault_is_still_injected_say_so():
    """A trial read `plasma_cleaner: alarms cleared` a second after its injected fault tripped
    and took the fault for gone: the line says the fault is still injected."""
    said: list[str] = []
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        watch = LineWatch(line, said.append)
        chamber = line.tools["plasma_cleaner"]
        chamber.inject_fault("rf_mismatch")
        chamber.latch("REFLECTED_POWER")
        chamber.clear_alarms()
        watch.look()
    assert said[-1] == (
        "plasma_cleaner: alarms cleared (still injected: rf_mismatch; its alarm comes again as "
        "it shows)"
    )


async def test_a_connection_that_ends_at_once_is_told_with_its_end():
    """A port check connects and closes between two looks: it had gone unsaid. Each server
    tells every connection as it opens and as it ends, the client's address with it."""
    said: list[str] = []
    async with SimulatedLine(kinds=["plasma_cleaner", "dicing_saw"]) as line:
        LineWatch(line, said.append)
        for name in ("plasma_cleaner", "dicing_saw"):
            port = int(str(line.station.tools[name].address).rsplit(":", 1)[1])
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            here = "127.0.0.1:{}".format(writer.get_extra_info("sockname")[1])
            writer.close()
            await writer.wait_closed()
            await settled(line, name, 0)
            address = line.station.tools[name].address
            assert said[-2:] == [
                f"{name}: client {here} connected to {address}",
                f"{name}: client {here} disconnected from {address}",
            ]


async def test_a_connection_the_server_closes_as_it_stops_is_told_as_its_doing():
    """A client still connected as the line stops did not leave: the server closed its
    connection, and says so (it had said the client disconnected, from no address)."""
    said: list[str] = []
    here: dict[str, str] = {}
    async with SimulatedLine(kinds=["plasma_cleaner", "dicing_saw"]) as line:
        LineWatch(line, said.append)
        addresses = {name: str(tool.address) for name, tool in line.station.tools.items()}
        writers = []
        for name in ("plasma_cleaner", "dicing_saw"):
            port = int(addresses[name].rsplit(":", 1)[1])
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writers.append(writer)
            here[name] = "127.0.0.1:{}".format(writer.get_extra_info("sockname")[1])
            await settled(line, name, 1)
    for writer in writers:
        writer.close()
    for name in ("plasma_cleaner", "dicing_saw"):
        assert (
            said[-2:].count(
                f"{name}: {addresses[name]} closed the connection of client {here[name]} (stopping)"
            )
            == 1
        ), said
    assert not [line for line in said if "disconnected" in line]
