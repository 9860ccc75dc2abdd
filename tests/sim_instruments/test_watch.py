"""What a served simulated line says it does: clients, alarms, jobs."""

from __future__ import annotations

import asyncio

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
    assert said == [
        "plasma_cleaner: 1 client connection(s)",
        "plasma_cleaner: alarm REFLECTED_POWER (RF reflected power above its limit; RF "
        "switched off)",
        "plasma_cleaner: alarms cleared",
        "plasma_cleaner: plasma clean on W01 (t = 125 s)",
        "plasma_cleaner: 0 client connection(s)",
    ]
