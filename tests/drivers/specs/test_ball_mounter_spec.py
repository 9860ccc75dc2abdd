"""The ball mounter's page is the contract: its tables are the spec's, its example exchange is
real.

The marked tables of docs/protocols/ball-mounter.md must be what `drivers/specs/ball_mounter.py`
renders, and the page's "Example exchange" (Modbus TCP frames in hex) is replayed frame by frame
against the simulated cell (over its socket) and against the driver (as an expected_protocol
script, driven by the calls the page names).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.ball_mounter import ModbusBallMounter
from packline.drivers.errors import CommandRefused
from packline.drivers.families.plc_map import example_frames
from packline.drivers.links import ModbusLink
from packline.drivers.specs.ball_mounter import SPEC
from packline.drivers.specs.pages import marked_tables, rendered_tables, stale_tables
from packline.sim_instruments.ball_mounter import SimBallMounter
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol

PAGE = Path(__file__).parents[3] / "docs" / "protocols" / "ball-mounter.md"
MARKERS = {"status", "held-status", "job", "setpoints", "commands", "alarms", "refusals",
           "interlocks"}  # fmt: skip

#: The page's mount job: 300 um, SAC305, the front, positions 0-15.
MOUNT_JOB = [300, 1, 1, 0xFFFF, *[0] * 15]


def test_the_pages_tables_are_rendered_from_the_spec():
    page = PAGE.read_text(encoding="utf-8")
    assert set(marked_tables(page)) == MARKERS
    assert stale_tables(page, rendered_tables(SPEC)) == []


def test_a_table_edited_by_hand_is_stale():
    page = PAGE.read_text(encoding="utf-8").replace("| 100-760 |", "| 100-800 |", 1)
    assert stale_tables(page, rendered_tables(SPEC)) == ["job"]


async def test_the_simulated_cell_answers_the_example_exchange(replay_example):
    sim = SimBallMounter("ball_mounter", TwinStore())
    address = await sim.start()
    try:
        await replay_example(address, PAGE.read_text(encoding="utf-8"))
        assert sim.wafer_id == "W01"
        assert sim.cycle is None
    finally:
        await sim.stop()


async def test_the_driver_speaks_the_example_exchange():
    async with expected_protocol(example_frames(PAGE.read_text(encoding="utf-8"))) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="ball_mounter", timeout_s=1.0)
        cell = ModbusBallMounter(link, name="ball_mounter")
        await cell.connect()
        status = await cell.request_status()
        assert (status.wafer_loaded, status.flux_applied, status.balls_placed) == (False, False, 0)
        await cell.load("W01")
        await cell.write_fields("write mount job", 200, MOUNT_JOB)
        with pytest.raises(CommandRefused, match="no flux on the workpiece; apply flux first"):
            await cell.command("mount balls", "MOUNT_BALLS")
        await cell.close()
