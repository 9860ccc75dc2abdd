"""The laminator's page is the contract: its tables are the spec's, its example exchange is real.

The marked tables of docs/protocols/laminator.md must be what `drivers/specs/laminator.py`
renders, and the page's "Example exchange" (Modbus TCP frames in hex) is replayed frame by frame
against the simulated tool (over its socket) and against the driver (as an expected_protocol
script, driven by the calls the page names).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.links import ModbusLink
from packline.drivers.specs.laminator import SPEC
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "laminator.md"
MARKERS = {"status", "held-status", "job", "setpoints", "commands", "alarms", "refusals",
           "interlocks"}  # fmt: skip


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 600-1300 |", "| 600-1500 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["job"]


async def test_the_simulated_tool_answers_the_example_exchange(replay_example):
    sim = SimLaminator("laminator", TwinStore())
    address = await sim.start()
    try:
        await replay_example(address, PAGE.read_text(encoding="utf-8"))
        assert sim.wafer_id == "W01"
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    async with expected_protocol(example_frames(PAGE.read_text(encoding="utf-8"))) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="laminator", timeout_s=1.0)
        laminator = ModbusLaminator(link, name="laminator")
        await laminator.connect()
        status = await laminator.request_status()
        assert (status.platen_temperature_c, status.chamber_pressure_pa) == (22.0, 101_325.0)
        await laminator.load("W01")
        with pytest.raises(
            CommandRefused, match=r"value out of range: resin_thickness_um \(register 200\)"
        ):
            await laminator.command("start job", "START_JOB")
        assert await laminator.cool(35) == 22.0  # its wait's first read: held, at once
        await laminator.close()
