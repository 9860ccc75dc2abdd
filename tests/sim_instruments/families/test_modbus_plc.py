"""The Modbus PLC family's rules, on both PLC tools, with raw Modbus TCP frames.

docs/protocols/conventions.md ("Modbus PLC register maps"): only the documented function codes
are served (others: exception 1, and nothing runs); a read of 0 or more than 125 registers, or
a write of 0 or more than 123, is exception 3; requests sent together are each answered, in
order; another unit id is exception 11; the "why refused" register is set by a refusal
(exception 3) and cleared by an accepted write, and left by reads and other exceptions.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.drivers.families.plc_map import PlcSetpoint
from packline.sim_instruments.families.modbus_plc import ModbusPlcSimulator
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore

Connection = tuple[ModbusPlcSimulator, asyncio.StreamReader, asyncio.StreamWriter]


@pytest_asyncio.fixture(params=[SimLaminator, SimPlasmaCleaner])
async def plc(request: pytest.FixtureRequest) -> AsyncIterator[Connection]:
    sim = request.param("plc", TwinStore())
    port = int((await sim.start()).rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    yield sim, reader, writer
    writer.close()
    await writer.wait_closed()
    await sim.stop()


def adu(pdu: bytes, tid: int = 1, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


async def answer(reader: asyncio.StreamReader) -> bytes:
    """One reply ADU, read by its MBAP length."""
    async with asyncio.timeout(2):
        header = await reader.readexactly(6)
        return header + await reader.readexactly(int.from_bytes(header[4:], "big"))


async def ask(connection: Connection, pdu: bytes, tid: int = 1, unit: int = 1) -> bytes:
    """Send one request PDU and return the reply PDU (after the MBAP header and unit id)."""
    _, reader, writer = connection
    writer.write(adu(pdu, tid, unit))
    return (await answer(reader))[7:]


def first_setpoint(sim: ModbusPlcSimulator) -> PlcSetpoint:
    setpoint = sim.spec.setpoints[0]
    assert isinstance(setpoint, PlcSetpoint)
    return setpoint


async def reason(connection: Connection) -> int:
    sim = connection[0]
    reply = await ask(
        connection, struct.pack(">BHH", 3, sim.map.status_address(sim.spec, "COMMAND_ERROR"), 1)
    )
    return int.from_bytes(reply[2:4], "big")


@pytest.mark.parametrize(
    "pdu",
    [
        bytes.fromhex("04 0000 0001"),  # FC4 read input registers
        bytes.fromhex("11"),  # FC17 report server id
        bytes.fromhex("16 0000 ffff 0000"),  # FC22 mask write register
        bytes.fromhex("01 0000 0001"),  # FC1 read coils
    ],
    ids=["FC4", "FC17", "FC22", "FC1"],
)
async def test_undocumented_function_codes_are_illegal_and_run_nothing(plc: Connection, pdu):
    assert await ask(plc, pdu) == bytes([pdu[0] | 0x80, 1])
    assert plc[0].received == []


@pytest.mark.parametrize(
    "pdu",
    [
        bytes.fromhex("17 0000 0001 012c 0001 02 0004"),  # would write ABORT to 300
        bytes.fromhex("17 0000 0001 0186 0002 04 0000 0000"),  # reads the status, not at 400
    ],
    ids=["write-off-the-hold-block", "read-off-the-held-block"],
)
async def test_fc23_off_the_held_status_read_is_an_illegal_address_and_runs_nothing(
    plc: Connection, pdu
):
    assert await ask(plc, pdu) == bytes([0x97, 2])
    assert plc[0].received == []


@pytest.mark.parametrize(
    "pdu",
    [
        bytes.fromhex("03 0000 0000"),  # read 0 registers
        bytes.fromhex("03 0000 007e"),  # read 126 registers
        bytes.fromhex("10 012d 0000 00"),  # write 0 registers
        bytes.fromhex("10 012d 0002 02 0001"),  # byte count not 2 per register
    ],
    ids=["read-0", "read-126", "write-0", "write-short"],
)
async def test_illegal_counts_are_exception_3(plc: Connection, pdu):
    assert await ask(plc, pdu) == bytes([pdu[0] | 0x80, 3])


async def test_requests_sent_together_are_each_answered_in_order(plc: Connection):
    _, reader, writer = plc
    writer.write(
        adu(bytes.fromhex("03 0000 0001"), tid=7)
        + adu(bytes.fromhex("04 0000 0001"), tid=8)
        + adu(bytes.fromhex("03 0014 0001"), tid=9)
    )
    replies = [await answer(reader) for _ in range(3)]
    assert [int.from_bytes(reply[:2], "big") for reply in replies] == [7, 8, 9]
    assert [reply[7] for reply in replies] == [0x03, 0x84, 0x03]


async def test_another_unit_id_is_exception_11(plc: Connection):
    assert await ask(plc, bytes.fromhex("03 0000 0001"), unit=2) == bytes([0x83, 11])


async def test_the_status_block_is_read_only(plc: Connection):
    assert await ask(plc, struct.pack(">BHH", 6, 3, 1)) == bytes([0x86, 2])


async def test_the_why_refused_register_is_set_by_a_refusal_and_cleared_by_an_accepted_write(
    plc: Connection,
):
    setpoint = first_setpoint(plc[0])
    too_high = setpoint.register_range.maximum + 1
    assert await ask(plc, struct.pack(">BHH", 6, setpoint.register, too_high)) == b"\x86\x03"
    assert await reason(plc) == 4  # out of range
    assert await ask(plc, struct.pack(">BHH", 6, 3, 1)) == b"\x86\x02"  # read-only: left
    assert await reason(plc) == 4
    fine = setpoint.register_range.maximum
    await ask(plc, struct.pack(">BHH", 6, setpoint.register, fine))
    assert await reason(plc) == 0  # an accepted write clears it


async def test_a_read_of_part_of_the_status_shows_that_part_of_a_read_of_all_of_it(
    plc: Connection,
):
    """A read renders only the registers it returns: every window of the read-only block, a
    text cut by the window's ends included, reads as that part of a read of the whole block.
    What the status shows changes before each window is read, so a register the window
    should have rendered and did not would still show the value before."""
    sim = plc[0]
    sim.latch(sim.spec.alarms[-1].code)  # an alarm word to show
    end = sim.map.read_only_end(sim.spec)
    assert end <= 125  # one read
    for count in (1, 2, 3, 9):
        for first in range(end - count + 1):
            sim.serial_number = f"SN{first:03d}-{count}"
            sim.refused_register = 100 * count + first
            part = await ask(plc, struct.pack(">BHH", 3, first, count))
            whole = await ask(plc, struct.pack(">BHH", 3, 0, end))
            assert part[2:] == whole[2 + 2 * first : 2 + 2 * (first + count)], (first, count)


@pytest.mark.parametrize(("seconds", "shown"), [(1e6, 0xFFFF), (-5.0, 0)])
async def test_a_status_number_beyond_its_register_reads_the_registers_end(
    plc: Connection, monkeypatch: pytest.MonkeyPatch, seconds: float, shown: int
):
    """A status value beyond the 16-bit register's range (a step longer than 6553.5 s in
    0.1 s) reads the register's end instead of failing the whole reply: the server had died
    on it ("'H' format requires 0 <= number <= 65535") and the driver read no reply."""
    sim = plc[0]
    present = sim.status_values()
    monkeypatch.setattr(sim, "status_values", lambda: {**present, "STEP_REMAINING": seconds})
    address = sim.map.status_address(sim.spec, "STEP_REMAINING")
    reply = await ask(plc, struct.pack(">BHH", 3, address, 1))
    assert reply[:2] == bytes([3, 2])
    assert int.from_bytes(reply[2:4], "big") == shown
