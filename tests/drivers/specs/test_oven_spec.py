"""The oven's page is the contract: its tables are the spec's, its example is real.

The marked tables of docs/protocols/oven.md must be what `drivers/specs/oven.py` renders, and
the page's "Example exchange" (Modbus RTU frames in hex) is replayed frame by frame against the
simulated oven (its PLC and a zone controller on one line, RTU frames over TCP as behind a
serial device server) and against the driver (an expected_protocol script on a pty).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink
from packline.drivers.oven import ModbusOven
from packline.drivers.specs.oven import SPEC
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.sim_instruments.oven import SimOven
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "oven.md"
MARKERS = {"status", "atmosphere", "setpoints", "commands", "alarms", "refusals", "interlocks"}


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 10-5000 |", "| 10-9000 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["atmosphere"]


async def test_the_simulated_oven_answers_the_example_exchange():
    sim = SimOven("oven", TwinStore(), VirtualClock(), transport="rtu-tcp")
    port = int((await sim.start()).rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request, reply in example_frames(PAGE.read_text(encoding="utf-8")):
            writer.write(request)
            answer = await asyncio.wait_for(reader.readexactly(len(reply)), 5)
            assert (request.hex(" "), answer.hex(" ")) == (request.hex(" "), reply.hex(" "))
    finally:
        writer.close()
        await writer.wait_closed()
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    """START_RUN in an idle oven is reason 2 (state first), START_PURGE with the door open
    reason 3 naming the open interlocks: the family's error precedence."""
    script = example_frames(PAGE.read_text(encoding="utf-8"))
    async with expected_protocol(script, transport="pty") as peer:
        link = ModbusLink(peer.address("modbus+rtu"), tool="oven", timeout_s=1.0)
        oven = ModbusOven(link, name="oven")
        await oven.connect()
        assert [zone.device_id for zone in oven.zones] == [2, 3, 4, 5]
        status = await oven.request_status()
        assert (status.o2_ppm, status.load_temperature_c) == (209_000.0, 22.0)
        assert (await oven.zones[0].read()).process_c == 22.0
        with pytest.raises(CommandRefused, match="not allowed in the oven's present state"):
            await oven.command("start run", "START_RUN")
        with pytest.raises(
            CommandRefused, match="an interlock is open: door_closed, atmosphere_inert"
        ):
            await oven.command("start purge", "START_PURGE")
        await oven.close()
