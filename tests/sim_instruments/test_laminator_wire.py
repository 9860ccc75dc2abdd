"""An independent client: Debian's mbpoll drives the simulated laminator by its protocol page."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import mbpoll, mbpoll_registers

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


@pytest_asyncio.fixture
async def tool() -> AsyncIterator[tuple[SimLaminator, str]]:
    sim = SimLaminator("laminator", TwinStore())
    address = await sim.start()
    yield sim, address.rsplit(":", 1)[1]
    await sim.stop()


async def test_mbpoll_reads_the_status_block_of_an_idle_laminator(tool):
    _, port = tool
    code, out, _ = await mbpoll(port, "-r", "0", "-c", "20")
    assert code == 0
    values = mbpoll_registers(out)
    assert values[0] == 0  # PHASE ready
    assert values[2] == 0b101  # INTERLOCKS: lid closed, platen cool enough to peel, no wafer
    assert values[3] == 220  # PLATEN_TEMPERATURE 22.0 degC, the line's room
    assert (values[4] << 16) | values[5] == 101_325  # CHAMBER_PRESSURE Pa, high word first
    assert values[13] == 0  # WAFER_LOADED
    assert values[15] == 400  # PEEL_BELOW 40.0 degC


async def test_mbpoll_writes_a_setpoint_and_reads_it_back(tool):
    sim, port = tool
    assert (await mbpoll(port, "-r", "204", "1150"))[0] == 0  # TEMPERATURE 115.0 degC
    _, out, _ = await mbpoll(port, "-r", "204")
    assert mbpoll_registers(out) == {204: 1150}
    assert sim.received == ["FC6 write 204 [1150]"]


async def test_mbpoll_loads_a_wafer_by_command(tool):
    sim, port = tool
    wafer_id = [str(v) for v in ascii_to_registers("LOT7-W03", 8)]
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    assert (await mbpoll(port, "-r", "300", "1"))[0] == 0  # LOAD_WAFER
    _, out, _ = await mbpoll(port, "-r", "30", "-c", "8")
    assert list(mbpoll_registers(out).values()) == ascii_to_registers("LOT7-W03", 8)
    assert sim.wafer_id == "LOT7-W03"


async def test_mbpoll_sees_the_documented_exceptions(tool):
    _, port = tool
    code, _, err = await mbpoll(port, "-r", "3", "1")  # status registers are read-only
    assert code != 0
    assert "Illegal data address" in err
    code, _, err = await mbpoll(port, "-r", "204", "2000")  # 200 degC, above 130 degC
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "18", "-c", "2")
    assert mbpoll_registers(out) == {18: 204, 19: 4}  # refused register, reason: out of range
    code, _, err = await mbpoll(port, "-r", "300", "6")  # PEEL_SUPPORT with no wafer
    assert code != 0
    _, out, _ = await mbpoll(port, "-r", "19")
    assert mbpoll_registers(out) == {19: 6}  # no wafer on the platen


async def test_mbpoll_meets_the_family_rules_for_function_codes_and_unit_ids(tool):
    """Only FC3/6/16/43 are served (FC4, FC1: illegal function); unit 2 is no device here."""
    _, port = tool
    code, _, err = await mbpoll(port, "-t", "3", "-r", "0")  # FC4, input registers
    assert code != 0
    assert "Illegal function" in err
    code, _, err = await mbpoll(port, "-r", "0", unit=2)
    assert code != 0
    assert "Target device failed to respond" in err  # exception 11


async def test_mbpoll_loads_a_wafer_this_laminator_processed_last_only_as_a_rework(tool):
    """The page's refusal 12 and command 20: a plain LOAD_WAFER of a wafer the laminator
    processed last is refused, RELOAD_WAFER takes it."""
    sim, port = tool
    sim.twin.receive("LOT7-W03").record("laminator", "laminate", 0.0)
    wafer_id = [str(v) for v in ascii_to_registers("LOT7-W03", 8)]
    assert (await mbpoll(port, "-r", "301", *wafer_id))[0] == 0
    code, _, err = await mbpoll(port, "-r", "300", "1")  # LOAD_WAFER
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "19")
    assert mbpoll_registers(out) == {19: 12}  # PROCESSED_HERE
    assert sim.wafer_id is None
    assert (await mbpoll(port, "-r", "300", "20"))[0] == 0  # RELOAD_WAFER
    assert sim.wafer_id == "LOT7-W03"
