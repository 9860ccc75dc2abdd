"""The electroplater's page is the contract: its tables are the spec's, its example is real.

The marked tables of docs/protocols/electroplater.md must be what
`drivers/specs/electroplater.py` renders, and the page's "Example exchange" (the cell's Modbus
TCP frames in hex) is replayed frame by frame against the simulated cell (over its socket) and
against the driver, whose supply meanwhile talks to a scripted supply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink, VisaLink
from packline.drivers.specs.electroplater import SPEC
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.sim_instruments.electroplater import SimElectroplater
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "electroplater.md"
MARKERS = {
    "held-status",
    "status",
    "measurement-points",
    "bath",
    "setpoints",
    "commands",
    "alarms",
    "refusals",
    "interlocks",
}

#: What the driver asks the supply while it connects (the supply's page has these lines).
SUPPLY_AT_CONNECT = [
    (b"*CLS\n", None),
    (b"*IDN?\n", b"packline,DCS-30-50,DCS-30-50-0001,1.0\n"),
    (b"OUTP:INH:MODE LATC\n", None),  # the inhibit latches, read back (dc-supply.md)
    (b"SYST:ERR?\n", b'0,"No error"\n'),
    (b"OUTP:INH:MODE?\n", b"LATC\n"),
    (b":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?\n", b"0;0\n"),
    (b"OUTP?\n", b"0\n"),  # the output, read once, by the cell with its phase: at rest
    (b":VOLT:PROT:TRIP?;:CURR:PROT:TRIP?\n", b"0;0\n"),
]


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 0-300 | rpm |", "| 0-400 | rpm |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["bath"]


async def test_the_simulated_cell_answers_the_example_exchange(replay_example):
    sim = SimElectroplater("electroplater", TwinStore())
    await sim.start()
    try:
        await replay_example(sim.station_address["cell"], PAGE.read_text(encoding="utf-8"))
        assert sim.wafer_id is None
        assert sim.twin.get("W01").history == []
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    frames = example_frames(PAGE.read_text(encoding="utf-8"))
    async with (
        expected_protocol(frames) as cell,
        expected_protocol(SUPPLY_AT_CONNECT) as supply,
    ):
        plater = ModbusScpiElectroplater(
            ModbusLink(cell.address("modbus+tcp"), tool="electroplater", timeout_s=1.0),
            name="electroplater",
            devices={"supply": VisaLink(supply.address("visa"), tool="supply", timeout_s=1.0)},
        )
        await plater.connect()
        assert plater.supply.identity is not None
        assert plater.supply.identity.model == "DCS-30-50"
        await plater.load("W01")
        with pytest.raises(
            CommandRefused, match=r"value out of range: agitation_rpm \(register 200\)"
        ):
            await plater.write_fields("write paddle", 200, [400])
        assert await plater.unload() == "W01"
        await plater.close()
