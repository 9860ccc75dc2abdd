"""An independent client: Debian's mbpoll drives the simulated plasma cleaner by its page."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import mbpoll, mbpoll_registers

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


@pytest_asyncio.fixture
async def port() -> AsyncIterator[str]:
    sim = SimPlasmaCleaner("plasma", TwinStore())
    address = await sim.start()
    yield address.rsplit(":", 1)[1]
    await sim.stop()


async def test_mbpoll_reads_the_status_block_of_a_vented_chamber(port: str):
    code, out, _ = await mbpoll(port, "-r", "0", "-c", "20")
    assert code == 0
    values = mbpoll_registers(out)
    assert values[0] == 0  # CHAMBER_STATE vented
    assert (values[3] << 16) | values[4] == 760_000  # PRESSURE mTorr, high word first
    assert values[16] == 4  # SLOT_CAPACITY
    assert values[18] == 20  # BASE_PRESSURE mTorr


async def test_mbpoll_loads_a_wafer_and_closes_the_door_by_command(port: str):
    wafer_id = [str(v) for v in ascii_to_registers("LOT7-W03", 8)]
    assert (await mbpoll(port, "-r", "301", "0", *wafer_id))[0] == 0  # slot 0 + wafer id
    assert (await mbpoll(port, "-r", "300", "8"))[0] == 0  # LOAD_WAFER
    assert (await mbpoll(port, "-r", "300", "6"))[0] == 0  # CLOSE_DOOR
    _, out, _ = await mbpoll(port, "-r", "15", "-c", "3")
    assert mbpoll_registers(out) == {15: 1, 16: 4, 17: 0b1}
    _, out, _ = await mbpoll(port, "-r", "40", "-c", "8")
    assert list(mbpoll_registers(out).values()) == ascii_to_registers("LOT7-W03", 8)


async def test_mbpoll_sees_the_documented_exceptions(port: str):
    code, _, err = await mbpoll(port, "-r", "5", "1")  # status registers are read-only
    assert code != 0
    assert "Illegal data address" in err
    code, _, err = await mbpoll(port, "-r", "213", "1500")  # RF power above 1000 W
    assert code != 0
    assert "Illegal data value" in err
    _, out, _ = await mbpoll(port, "-r", "19")
    assert mbpoll_registers(out) == {19: 4}  # COMMAND_ERROR: value out of range


async def test_mbpoll_meets_the_family_rules_for_function_codes_and_unit_ids(port: str):
    """Only FC3/6/16/43 are served (FC4, FC1: illegal function); unit 2 is no device here."""
    for table in ("3", "0"):  # FC4 input registers, FC1 coils
        code, _, err = await mbpoll(port, "-t", table, "-r", "0")
        assert code != 0
        assert "Illegal function" in err
    code, _, err = await mbpoll(port, "-r", "0", unit=2)
    assert code != 0
    assert "Target device failed to respond" in err  # exception 11


async def test_mbpoll_loads_a_wafer_this_chamber_cleaned_last_only_as_a_rework():
    """The page's refusal 12 and command 20 on a batch map: a plain LOAD_WAFER of a wafer the
    chamber cleaned last is refused, RELOAD_WAFER takes it into the slot."""
    sim = SimPlasmaCleaner("plasma", TwinStore())
    sim.twin.receive("LOT7-W03").record("plasma", "plasma clean", 0.0)
    port = (await sim.start()).rsplit(":", 1)[1]
    try:
        wafer_id = [str(v) for v in ascii_to_registers("LOT7-W03", 8)]
        assert (await mbpoll(port, "-r", "301", "0", *wafer_id))[0] == 0  # slot 0 + wafer id
        code, _, err = await mbpoll(port, "-r", "300", "8")  # LOAD_WAFER
        assert code != 0
        assert "Illegal data value" in err
        _, out, _ = await mbpoll(port, "-r", "19")
        assert mbpoll_registers(out) == {19: 12}  # PROCESSED_HERE
        assert sim.slots[0] is None
        assert (await mbpoll(port, "-r", "300", "20"))[0] == 0  # RELOAD_WAFER
        assert sim.slots[0] == "LOT7-W03"
    finally:
        await sim.stop()
