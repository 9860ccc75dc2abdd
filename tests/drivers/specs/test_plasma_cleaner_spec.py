"""The plasma cleaner's page is the contract: its tables are the spec's, its example is real.

The marked tables of docs/protocols/plasma-cleaner.md must be what
`drivers/specs/plasma_cleaner.py` renders, and the page's "Example exchange" (Modbus TCP frames
in hex) is replayed frame by frame against the simulated tool (over its socket) and against the
driver (as an expected_protocol script, driven by the calls the page names).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.drivers.specs.plasma_cleaner import SPEC
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "plasma-cleaner.md"
MARKERS = {"status", "held-status", "recipe", "setpoints", "commands", "alarms", "refusals",
           "interlocks"}  # fmt: skip


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 20-300 |", "| 20-350 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["recipe"]


async def test_the_simulated_tool_answers_the_example_exchange(replay_example):
    sim = SimPlasmaCleaner("plasma_cleaner", TwinStore())
    address = await sim.start()
    try:
        await replay_example(address, PAGE.read_text(encoding="utf-8"))
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    """START_RECIPE in a vented chamber is reason 2 (state first), PUMP_DOWN with the door
    open reason 3 naming the open interlocks: the family's error precedence."""
    async with expected_protocol(example_frames(PAGE.read_text(encoding="utf-8"))) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="plasma", timeout_s=1.0)
        chamber = ModbusPlasmaCleaner(link, name="plasma")
        await chamber.connect()
        status = await chamber.request_status()
        assert status.pressure_mtorr == 760_000.0
        with pytest.raises(CommandRefused, match="not allowed in the chamber's present state"):
            await chamber.command("start recipe", "START_RECIPE")
        with pytest.raises(
            CommandRefused,
            match="an interlock is open: door_closed, base_pressure, rf_permissive",
        ):
            await chamber.command("pump down", "PUMP_DOWN")
        await chamber.close()
