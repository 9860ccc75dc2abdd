"""ModbusToolServer checked with mbpoll (TCP and RTU on the null modem) and its own API."""

from __future__ import annotations

import asyncio

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.simulator import DataType, SimData, SimDevice

from packline.clock import VirtualClock
from packline.drivers.links import ModbusLink
from packline.sim_instruments.servers import ModbusToolServer


def device(vendor: str = "ACME", log: list | None = None) -> SimDevice:
    async def action(fc, start, address, count, registers, values):
        if log is not None:
            log.append((fc, address, count, values))
        if values is not None and address == 110 and values[0] > 1000:
            return ExcCodes.ILLEGAL_VALUE
        return None

    return SimDevice(
        id=1,
        simdata=[SimData(100, count=20, values=0, datatype=DataType.REGISTERS)],
        action=action,
        identity=ModbusDeviceIdentification(
            info_name={"VendorName": vendor, "ProductCode": "P", "MajorMinorRevision": "1"}
        ),
    )


def mbpoll(server: ModbusToolServer, *arguments: str) -> list[str]:
    """mbpoll's command line for `server`, on its TCP port or the client end of its pty."""
    if server.transport == "tcp":
        port = server.address.rsplit(":", 1)[1]
        target = ["-m", "tcp", "-p", port, "127.0.0.1"]
    else:
        target = ["-m", "rtu", "-b", "19200", "-P", "none", server.address.split(":", 1)[1]]
    return ["mbpoll", "-a", "1", "-0", "-1", "-t", "4", *arguments, *target]


@pytest.mark.parametrize("transport", ["tcp", "rtu-pty"])
async def test_mbpoll_writes_and_reads_registers(transport, run_client):
    async with ModbusToolServer(device(), transport=transport) as server:
        await run_client(*mbpoll(server, "-r", "100"), "7", "8")
        out = await run_client(*mbpoll(server, "-r", "100", "-c", "2"))
        assert await server.get_values(3, 100, 2) == [7, 8]
    assert "[100]: \t7" in out
    assert "[101]: \t8" in out


@pytest.mark.parametrize(
    ("transport", "prefix"),
    [("tcp", "modbus+tcp://127.0.0.1:"), ("rtu-tcp", "modbus+rtu:socket://127.0.0.1:"),
     ("rtu-pty", "modbus+rtu:/dev/pts/")],
)  # fmt: skip
async def test_address_forms(transport, prefix):
    async with ModbusToolServer(device(), transport=transport) as server:
        assert server.address.startswith(prefix)


async def test_set_values_runs_the_action_and_reaches_clients():
    log: list = []
    async with ModbusToolServer(device(log=log)) as server:
        await server.set_values(3, 105, [42])
        assert log == [(3, 105, 1, [42])]
        async with ModbusLink(server.address) as link:
            assert await link.read_holding_registers(105, 1) == [42]
    with pytest.raises(RuntimeError, match="not started"):
        await server.set_values(3, 105, [1])


async def test_each_server_answers_fc43_with_its_own_identity():
    async with (
        ModbusToolServer(device("Vendor A")) as first,
        ModbusToolServer(device("Vendor B"), transport="rtu-pty") as second,
        ModbusLink(first.address) as a,
        ModbusLink(second.address) as b,
    ):
        assert (await a.read_device_identification())["vendor_name"] == "Vendor A"
        assert (await b.read_device_identification())["vendor_name"] == "Vendor B"
        # A device with only the basic objects: no model name.
        assert set(await a.read_device_identification()) == {
            "vendor_name",
            "product_code",
            "revision",
        }


async def test_restart_keeps_registers_and_port():
    server = ModbusToolServer(device())
    address = await server.start()
    await server.set_values(3, 100, [5])
    await server.stop()
    assert await server.start() == address
    assert await server.get_values(3, 100, 1) == [5]
    await server.stop()


def test_bad_transport():
    with pytest.raises(ValueError, match="transport must be"):
        ModbusToolServer(device(), transport="udp")  # type: ignore[arg-type]


async def test_device_identification_with_an_invalid_read_code_is_illegal_data_value():
    """Read device id codes are 1-4; code 0 answers exception 3, not a server failure."""
    async with ModbusToolServer(device()) as server:
        port = int(server.address.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(bytes.fromhex("0003 0000 0005 01 2b 0e 00 00"))
            async with asyncio.timeout(2):
                reply = await reader.readexactly(9)
        finally:
            writer.close()
            await writer.wait_closed()
    assert reply == bytes.fromhex("0003 0000 0003 01 ab 03")


async def fc43_reply(server: ModbusToolServer, unit: int, read_code: int, length: int) -> bytes:
    """The `length` bytes the TCP server answers an FC43/MEI 14 request of `read_code` to
    `unit` with, as a host sends it (object 0 first)."""
    port = int(server.address.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(bytes.fromhex("0007 0000 0005") + bytes([unit, 0x2B, 0x0E, read_code, 0]))
        async with asyncio.timeout(2):
            return await reader.readexactly(length)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_device_states_the_conformity_level_of_the_objects_it_has():
    """Only the basic objects (0-2), each also read alone: conformity 0x81, not pymodbus's
    0x83, which tells a host extended objects are there to read."""
    async with ModbusToolServer(device()) as server:
        reply = await fc43_reply(server, 1, 1, 14)
    # MBAP, unit, 2B 0E, read code 1, conformity, more follows 00, next object 00, 3 objects
    assert reply == bytes.fromhex("0007 0000") + reply[4:6] + bytes.fromhex(
        "01 2b 0e 01 81 00 00 03"
    )


async def test_a_device_with_no_identity_has_no_fc43():
    """A device that keeps no identity (an oven's zone controller) answers FC43 as a function
    it does not have, exception 1; not exception 3, which says the read code was wrong."""
    bare = SimDevice(id=1, simdata=[SimData(100, count=2, values=0, datatype=DataType.REGISTERS)])
    async with ModbusToolServer(bare) as server:
        reply = await fc43_reply(server, 1, 1, 9)
    assert reply == bytes.fromhex("0007 0000 0003 01 ab 01")


def rtu(unit: int, pdu: bytes) -> bytes:
    """An RTU frame: unit, PDU, CRC-16/Modbus (low byte first)."""
    crc = 0xFFFF
    for byte in bytes([unit]) + pdu:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([unit]) + pdu + crc.to_bytes(2, "little")


async def test_another_unit_id_is_exception_11_on_tcp_and_silence_on_rtu():
    """On TCP no other device can answer, so the server says so; on an RTU line another device
    may own that address, so the server keeps quiet and answers the next request for its own."""
    read_100 = bytes.fromhex("03 0064 0001")
    async with ModbusToolServer(device()) as server:
        async with ModbusLink(server.address) as link:
            await link.read_holding_registers(100, 1)  # the server is up
        port = int(server.address.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bytes.fromhex("0009 0000 0006 02") + read_100)
        async with asyncio.timeout(2):
            assert await reader.readexactly(9) == bytes.fromhex("0009 0000 0003 02 83 0b")
        writer.close()
        await writer.wait_closed()
    async with ModbusToolServer(device(), transport="rtu-tcp") as server:
        port = int(server.address.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(rtu(2, read_100) + rtu(1, read_100))
        async with asyncio.timeout(2):
            assert await reader.readexactly(7) == rtu(1, bytes.fromhex("03 02 0000"))
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("one_block", [True, False])
async def test_an_access_to_registers_is_answered_as_pymodbus_answers_it(one_block):
    """The served devices answer a read or a write of registers without pymodbus's simulator
    runtime, and as it does: the same registers, ILLEGAL_ADDRESS past a block, on a register
    between two `SimData` or (a write) on a read-only one, the action's refusal, the action
    called alike and a write stored only once it took it; device 0 for an id not served."""
    from pymodbus.simulator.simcore import SimCore

    from packline.sim_instruments.servers.modbus import _ServedDevices

    def devices(log: list) -> list[SimDevice]:
        async def action(fc, start, address, count, registers, values):
            log.append((fc, start, address, count, list(registers), values))
            registers[0] += 1  # the access's own rendering
            return ExcCodes.DEVICE_BUSY if address == 13 else None

        blocks = [
            SimData(10, count=4, values=3, datatype=DataType.REGISTERS, readonly=True),
            SimData(16, count=3, values=5, datatype=DataType.REGISTERS),
            SimData(20, count=2, values=7, datatype=DataType.REGISTERS),
        ]
        bits = [SimData(0, count=1, datatype=DataType.BITS)]
        simdata = blocks if one_block else (bits, bits, blocks, blocks[1:])
        return [
            SimDevice(id=id_, simdata=simdata, action=action if id_ else None)  # type: ignore[arg-type]
            for id_ in (0, 1)
        ]

    ours_log: list = []
    theirs_log: list = []
    ours, theirs = _ServedDevices(devices(ours_log)), SimCore(devices(theirs_log))
    for device_id in (0, 1, 7):
        for address in range(8, 24):
            for count in range(0, 6):
                for function_code in (3, 4, 6, 16, 22, 23):
                    asked = (device_id, function_code, address, count)
                    assert await ours.async_getValues(*asked) == await theirs.async_getValues(
                        *asked
                    ), asked
                    values = [100 * function_code + address + n for n in range(count)]
                    set_ours, set_theirs = list(values), list(values)
                    asked = (device_id, function_code, address)
                    assert await ours.async_setValues(*asked, set_ours) == (
                        await theirs.async_setValues(*asked, set_theirs)
                    ), (*asked, count)
    assert ours_log == theirs_log
    assert {id_: device.block for id_, device in ours.devices.items()} == {
        id_: device.block for id_, device in theirs.devices.items()
    }
    assert ExcCodes.DEVICE_BUSY in [await ours.async_getValues(1, 3, 13, 1)]
    assert await ours.async_setValues(1, 16, 12, [1]) is ExcCodes.ILLEGAL_ADDRESS  # read-only
    assert await ours.async_setValues(1, 16, 20, [1, 2]) is None


async def test_fc23_is_answered_with_pymodbus_bytes():
    """FC23 (read/write multiple registers) writes, then reads, and its reply is coded as
    pymodbus codes it: the byte count, then each register big-endian; a write the action
    refuses is its exception, and nothing is read."""
    log: list = []
    async with ModbusToolServer(device(log=log)) as server:
        await server.set_values(3, 100, [1, 0x1234, 0xFFFF])
        port = int(server.address.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            # read 100-102, write 0x0102 to 101
            writer.write(bytes.fromhex("0005 0000 000d 01 17 0064 0003 0065 0001 02 0102"))
            # read 100, write 2000 to 110: refused (exception 3)
            writer.write(bytes.fromhex("0006 0000 000d 01 17 0064 0001 006e 0001 02 07d0"))
            async with asyncio.timeout(2):
                replies = await reader.readexactly(15 + 9)
        finally:
            writer.close()
            await writer.wait_closed()
    assert replies == bytes.fromhex("0005 0000 0009 01 17 06 0001 0102 ffff") + bytes.fromhex(
        "0006 0000 0003 01 97 03"
    )
    assert log[1:] == [(23, 101, 1, [0x0102]), (23, 100, 3, None), (23, 110, 1, [2000])]


class Replies(asyncio.Protocol):
    """A raw Modbus TCP client's end: the bytes that reach it."""

    def __init__(self) -> None:
        self.received = b""
        self.arrived = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.arrived.set()

    async def take(self, size: int) -> bytes:
        """The first `size` bytes received, once they are in (within 2 s)."""
        async with asyncio.timeout(2):
            while len(self.received) < size:
                self.arrived.clear()
                await self.arrived.wait()
        taken, self.received = self.received[:size], self.received[size:]
        return taken


async def in_memory(
    server: ModbusToolServer, clock: VirtualClock
) -> tuple[asyncio.Transport, Replies]:
    """A raw client's end of a connection to `server` in memory, and what reaches it."""
    port = int(server.address.rsplit(":", 1)[1])
    assert clock.wires is not None
    client, protocol = await clock.wires.connect("127.0.0.1", port, Replies)
    assert isinstance(protocol, Replies)
    return client, protocol


def read_request(transaction: int, address: int) -> bytes:
    """FC3 of one register at `address`, framed for Modbus TCP (MBAP, unit 1)."""
    header = transaction.to_bytes(2) + bytes.fromhex("0000 0006 01 03")
    return header + address.to_bytes(2) + b"\0\1"


def read_reply(transaction: int, value: int) -> bytes:
    return transaction.to_bytes(2) + bytes.fromhex("0000 0005 01 03 02") + value.to_bytes(2)


async def test_a_request_in_memory_is_answered_in_the_pass_it_arrives_in():
    """A request on a wire in memory is answered as it is delivered, in that pass of the loop,
    not the pass after (decision 0075): its reply is on its way in the pass after the request
    was sent, and in the client's hands the pass after that."""
    clock = VirtualClock(wires_in_memory=True)
    served = device()

    async def action(fc, start, address, count, registers, values):
        registers[address - start] = 42

    served.action = action
    async with ModbusToolServer(served, clock=clock) as server:
        client, protocol = await in_memory(server, clock)
        client.write(read_request(7, 100))
        await asyncio.sleep(0)  # the request arrives, after this task's step, and is answered
        await asyncio.sleep(0)  # the reply arrives, after this task's step
        await asyncio.sleep(0)
        assert protocol.received == read_reply(7, 42)
        client.close()


async def test_an_answer_that_waits_goes_on_in_a_task_and_the_replies_keep_their_order():
    """A request whose answer waits (an action that awaits) is answered by a task going on
    from there, and a request that came with it is answered after it, in order; a connection
    that closes meanwhile cancels the answer waiting."""
    clock = VirtualClock(wires_in_memory=True)
    release, cancelled = asyncio.Event(), asyncio.Event()
    served = device()

    async def action(fc, start, address, count, registers, values):
        registers[address - start] = address
        if address == 100:
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise

    served.action = action
    async with ModbusToolServer(served, clock=clock) as server:
        client, protocol = await in_memory(server, clock)
        client.write(read_request(1, 100) + read_request(2, 101))
        for _ in range(5):
            await asyncio.sleep(0)
        assert protocol.received == b""  # the first waits, the second behind it
        release.set()
        reply_size = len(read_reply(1, 0))
        assert await protocol.take(2 * reply_size) == read_reply(1, 100) + read_reply(2, 101)
        release.clear()
        client.write(read_request(3, 100))
        for _ in range(3):
            await asyncio.sleep(0)
        client.close()
        async with asyncio.timeout(2):
            await cancelled.wait()
    assert protocol.received == b""
