"""What a served simulated line says it does: clients, alarms, jobs."""

from __future__ import annotations

import asyncio

from packline.clock import VirtualClock
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.watch import LineWatch


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
            line.twin.get("W01").record("plasma_cleaner", "plasma clean", 125.0)
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
        "plasma_cleaner: alarms cleared",
        "plasma_cleaner: plasma clean on W01 (t = 125 s): completed",
        f"plasma_cleaner: client {client} disconnected from {address}",
    ]


async def test_a_job_an_alarm_broke_off_or_an_abort_cut_off_is_told_so():
    """A trial read `wire_bonder: stud bumping on W01` for a run a wire break had broken off,
    as if it were done: each job says how it ended, in its tool's words (a result, an
    outcome, the operation's last word), naming the alarm that broke it off, the event's own
    or else the one its tool latched as it ended."""
    said: list[str] = []
    async with SimulatedLine(kinds=["wire_bonder", "grinder", "dicing_saw", "wet_bench"]) as line:
        watch = LineWatch(line, said.append)
        wafer = line.twin.get("W01")
        wafer.record("wire_bonder", "stud bumping", 10.0, result="alarm", alarm="WIRE_BREAK")
        wafer.record("wire_bonder", "stud bumping", 20.0, result="aborted")
        line.tools["grinder"].latch("GAUGE_FAULT")
        wafer.record("grinder", "grind faulted", 30.0)
        wafer.record("dicing_saw", "dice", 40.0, outcome="stopped")
        wafer.record("dicing_saw", "dice", 50.0, outcome="completed")
        watch.look()
    assert said[1:] == [
        "wire_bonder: stud bumping on W01 (t = 10 s): broken off by alarm WIRE_BREAK",
        "wire_bonder: stud bumping on W01 (t = 20 s): aborted",
        "grinder: grind faulted on W01 (t = 30 s): broken off by alarm GAUGE_FAULT",
        "dicing_saw: dice on W01 (t = 40 s): aborted",
        "dicing_saw: dice on W01 (t = 50 s): completed",
    ]


async def test_a_host_link_job_says_whether_it_was_stopped_broken_off_or_completed():
    """A job tool (the wet bench, the resin coater, the dispenser, the litho cell) says in its
    event's `result` how the job ended: a dip stopped 10 s in, one the sash opened on, one
    left to its end."""
    said: list[str] = []
    async with SimulatedLine(VirtualClock(), kinds=["wet_bench"]) as line:
        watch = LineWatch(line, said.append)
        bench = line.tools["wet_bench"]
        assert await bench.handle("LOAD W01") == "OK"
        assert await bench.handle("DIP STRIP 60") == "OK"
        await bench.clock.sleep(10)
        assert await bench.handle("STOP") == "OK"
        assert await bench.handle("DIP STRIP 60") == "OK"
        await bench.clock.sleep(10)
        bench.inject_fault("sash_open")
        assert (await bench.handle("STAT?")).startswith("OK STATE=FAULT")
        bench.clear_fault("sash_open")
        assert await bench.handle("RST") == "OK"
        assert await bench.handle("DIP STRIP 60") == "OK"
        await bench.clock.sleep(60)
        assert (await bench.handle("STAT?")).startswith("OK STATE=RINSING")
        watch.look()
    start = line.twin.get("W01").history[0].time_s - 10
    assert [text.split(": ", 1)[1] for text in said if "strip resist" in text] == [
        f"strip resist on W01 (t = {start + 10:.0f} s): aborted",
        f"strip resist on W01 (t = {start + 20:.0f} s): broken off by alarm SASH_OPENED",
        f"strip resist on W01 (t = {start + 80:.0f} s): completed",
    ]


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
