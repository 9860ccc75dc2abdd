"""The deposition tool's page is the contract: its tables are the spec's, its example is real.

The marked tables of docs/protocols/deposition.md must be what `drivers/specs/deposition.py`
renders, and the page's "Example exchange" (Modbus TCP frames in hex) is replayed frame by frame
against the simulated tool (over its socket) and against the driver (as an expected_protocol
script, driven by the calls the page names).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink
from packline.drivers.roles.deposition import Material, Method, Source
from packline.drivers.specs.deposition import SPEC
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.sim_instruments.deposition import SimDepositionTool
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "deposition.md"
MARKERS = {"status", "held-status", "recipe", "setpoints", "commands", "alarms", "refusals",
           "interlocks"}  # fmt: skip


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 0-3000 |", "| 0-3500 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["recipe"]


async def test_the_simulated_tool_answers_the_example_exchange(replay_example):
    sim = SimDepositionTool("deposition", TwinStore())
    address = await sim.start()
    try:
        await replay_example(address, PAGE.read_text(encoding="utf-8"))
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    """START_RECIPE in a vented chamber is reason 2 (state first), PUMP_DOWN with the door
    open reason 3 naming the open interlocks, a rate beyond 5 nm/s reason 4 naming it."""
    async with expected_protocol(example_frames(PAGE.read_text(encoding="utf-8"))) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="deposition", timeout_s=1.0)
        tool = ModbusDepositionTool(link, name="deposition")
        await tool.connect()
        status = await tool.request_status()
        assert (status.pressure_mtorr, status.high_vacuum_utorr) == (760_000.0, 1000.0)
        assert status.crystal_life_pct == 100
        sources = await tool.request_sources()
        assert len(sources) == 11
        assert sources[2] == Source(2, Method.SPUTTER, Material.CU)
        assert sources[-1] == Source(10, Method.CVD, Material.SIN)
        with pytest.raises(CommandRefused, match="not allowed in the chamber's present state"):
            await tool.command("start recipe", "START_RECIPE")
        with pytest.raises(
            CommandRefused,
            match="an interlock is open: door_closed, base_pressure, power_permissive",
        ):
            await tool.command("pump down", "PUMP_DOWN")
        with pytest.raises(CommandRefused, match=r"value out of range: rate_nm_s \(register 213\)"):
            await tool.write_fields("write recipe", 213, [600])
        await tool.close()
