"""The DC supply's page is the contract: its tables are the spec's, its example exchange is real.

The marked tables of docs/protocols/dc-supply.md must be what `drivers/specs/dc_supply.py`
renders (the electroplater's `supply` device), and the page's "Example exchange" is replayed
line by line against the simulated supply (over its socket) and against the driver.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from packline.clock import VirtualClock
from packline.drivers.dc_supply import ScpiDcSupply
from packline.drivers.errors import CommandRefused
from packline.drivers.links import VisaLink
from packline.drivers.registry import tool_kind
from packline.drivers.specs.dc_supply import SPEC
from packline.drivers.specs.pages import (
    example_exchange,
    main,
    marked_tables,
    rendered_tables,
    stale_tables,
)
from packline.sim_instruments.dc_supply import SimDcSupply
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "dc-supply.md"
MARKERS = {"common", "commands", "setpoints", "alarms", "refusals"}


def test_the_supply_is_the_electroplaters_supply_device():
    assert tool_kind("electroplater").load_device_specs() == {"supply": SPEC}


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_the_page_renderer_reaches_a_device_by_kind_and_name(tmp_path: Path):
    page = tmp_path / "dc-supply.md"
    page.write_text(PAGE.read_text(encoding="utf-8").replace("| 0-50 A", "| 0-60 A", 1))
    assert main([str(page), "electroplater.supply"]) == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
    assert main([str(page), "electroplater.anode"]) == 1


async def test_the_simulated_supply_answers_the_example_exchange():
    sim = SimDcSupply("supply", TwinStore(), VirtualClock())
    port = int((await sim.start()).split("::")[2])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for step in example_exchange(PAGE.read_text(encoding="utf-8")):
            writer.write(step.command.encode() + b"\n")
            if step.reply is not None:
                answer = await asyncio.wait_for(reader.readline(), 5)
                assert (step.command, answer.decode().rstrip("\n")) == (step.command, step.reply)
        assert (sim.output_on, sim.current_set_a, sim.voltage_set_v) == (False, 1.388, 10.0)
        assert (sim.list_current_a, sim.list_dwell_s, sim.list_count) == (1.388, 138.821, 1)
        assert not sim.operation_pending()  # the list aborted
    finally:
        writer.close()
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    script = [
        (step.command.encode() + b"\n", None if step.reply is None else step.reply.encode() + b"\n")
        for step in example_exchange(PAGE.read_text(encoding="utf-8"))
    ]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        supply = ScpiDcSupply(link, name="supply")
        await supply.connect()
        await supply.set_current_list("set levels", 1.388, 138.8209, 10, 12)
        await supply.run_list("current on")
        assert await supply.measure_watched("measure") == (0.0, 10.0, {})
        with pytest.raises(CommandRefused, match="VOLT 40 outside 0-30 V") as refused:
            await supply.send("set compliance", "VOLT 40")
        assert refused.value.code == "-222"
        await supply.abort()
        await supply.close()
