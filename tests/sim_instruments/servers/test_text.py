"""TextToolServer and PtyToolServer, checked with socat and plain sockets/ttys, not our links."""

from __future__ import annotations

import asyncio
import errno
import os
import tty

import pytest

from packline.clock import VirtualClock
from packline.sim_instruments.servers import PtyToolServer, TextToolServer


async def test_socat_over_tcp(echo_handler, run_client):
    async with TextToolServer(echo_handler, address_form="serial") as server:
        port = server.address.rsplit(":", 1)[1]
        out = await run_client("socat", "-t", "2", "-", f"TCP:127.0.0.1:{port}", stdin=b"idn?\n")
    assert out == "IDN?\n"


async def test_socat_over_the_pty(echo_handler, run_client):
    async with PtyToolServer(echo_handler) as server:
        out = await run_client(
            "socat", "-t", "0.5", "-", f"{server.address},raw,echo=0", stdin=b"volt?\nset 1\n"
        )
    assert out == "VOLT?\n"


def test_address_forms(echo_handler):
    with pytest.raises(ValueError, match="address_form"):
        TextToolServer(echo_handler, address_form="gpib")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="address_form"):
        PtyToolServer(echo_handler, address_form="tcp")  # type: ignore[arg-type]


async def test_addresses_and_lifecycle(echo_handler):
    server = TextToolServer(echo_handler)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address
    address = await server.start()
    assert address == f"TCPIP0::127.0.0.1::{server.port}::SOCKET"
    assert server.address == address
    with pytest.raises(RuntimeError, match="already started"):
        await server.start()
    await server.stop()
    await server.stop()
    assert not server.started
    # Restarting binds the same port.
    assert await server.start() == address
    await server.stop()
    async with PtyToolServer(echo_handler, address_form="visa") as pty_server:
        assert pty_server.address.startswith("ASRL/dev/pts/")
        assert pty_server.address.endswith("::INSTR")


async def test_stop_drops_every_client_at_once(echo_handler):
    server = TextToolServer(echo_handler)
    await server.start()
    clients = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    for reader, writer in clients:
        writer.write(b"a?\n")
        assert await reader.readline() == b"A?\n"
    await server.stop()
    for reader, writer in clients:
        async with asyncio.timeout(1):
            with pytest.raises(ConnectionResetError):
                await reader.read(10)
        writer.close()


async def test_a_failing_tool_drops_only_that_connection(caplog):
    async def fragile(line: str) -> str:
        if line == "BOOM":
            raise RuntimeError("simulated tool bug")
        return "ok"

    async with TextToolServer(fragile) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"BOOM\n")
        async with asyncio.timeout(1):
            assert await reader.read(10) == b""
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"fine\n")
        async with asyncio.timeout(1):
            assert await reader.readline() == b"ok\n"
        writer.close()
    assert "simulated tool bug" in caplog.text


async def test_serve_forever_until_stopped(echo_handler):
    server = TextToolServer(echo_handler)
    serving = asyncio.create_task(server.serve_forever())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.01)
    await server.stop()
    async with asyncio.timeout(2):
        await serving


async def test_pty_hangs_up_on_stop(echo_handler):
    server = PtyToolServer(echo_handler)
    path = await server.start()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd)
        loop = asyncio.get_running_loop()
        os.write(fd, b"x?\n")
        readable = asyncio.Event()
        loop.add_reader(fd, readable.set)
        try:
            async with asyncio.timeout(1):
                await readable.wait()
            assert os.read(fd, 100) == b"X?\n"
            readable.clear()
            await server.stop()
            async with asyncio.timeout(1):
                await readable.wait()
        finally:
            loop.remove_reader(fd)
        try:
            hung_up = os.read(fd, 100) == b""
        except OSError as error:
            hung_up = error.errno == errno.EIO
        assert hung_up
    finally:
        os.close(fd)


async def test_an_overlong_line_reaches_the_handler_cut_short_and_the_link_goes_on():
    seen: list[str] = []

    async def record(line: str) -> str:
        seen.append(line)
        return f"{len(line)}"

    async with TextToolServer(record, max_line_bytes=8) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"12345678\n" + b"x" * 100_000 + b"\n" + b"y" * 9 + b"\nok\n")
        async with asyncio.timeout(2):
            replies = [await reader.readline() for _ in range(4)]
        writer.close()
    assert replies == [b"8\n", b"9\n", b"9\n", b"2\n"]
    assert seen[1:3] == ["x" * 9, "y" * 9]


async def test_socat_sends_an_overlong_line_to_the_pty(run_client):
    async def length(line: str) -> str:
        return f"{len(line)}"

    async with PtyToolServer(length, max_line_bytes=16) as server:
        out = await run_client(
            "socat", "-t", "0.5", "-", f"{server.address},raw,echo=0", stdin=b"z" * 5000 + b"\na\n"
        )
    assert out == "17\n1\n"


async def test_a_reply_held_then_written_to_a_socket_is_read_before_the_clock_jumps():
    # a dry run's clock jumps after one quiet pass (its wires are in memory, decision 0063); a
    # VISA client still reads its held reply from a socket, which the server writes as wire
    # work, so the clock looks at the wire again before it jumps past the reply
    clock = VirtualClock(wires_in_memory=True)

    async def hold(line: str) -> str:
        await clock.sleep(10)
        return "DONE"

    read_at: list[float] = []
    async with TextToolServer(hold, clock=clock) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        with clock.activity():
            writer.write(b"WAIT\n")

        async def read() -> None:
            await reader.readline()
            read_at.append(clock.now())

        reading = asyncio.create_task(read())
        await clock.sleep(60)
        assert read_at == [10.0]
        await reading
        writer.close()
        await writer.wait_closed()


class _Received(asyncio.Protocol):
    """A raw client's end of a connection: the bytes that reach it."""

    def __init__(self) -> None:
        self.received = b""

    def data_received(self, data: bytes) -> None:
        self.received += data


async def test_a_line_in_memory_is_answered_in_the_pass_it_arrives_in(echo_handler):
    """A line on a wire in memory is answered as it is delivered, in that pass of the loop,
    not the pass after (as a Modbus request is, decision 0075; docs/decisions/0089): its reply
    is on its way in the pass after the line was sent, and in the client's hands the pass
    after that; lines sent together are answered in order."""
    clock = VirtualClock(wires_in_memory=True)
    async with TextToolServer(echo_handler, address_form="serial", clock=clock) as server:
        assert clock.wires is not None
        client, protocol = await clock.wires.connect(server.host, server.port, _Received)
        assert isinstance(protocol, _Received)
        client.write(b"volt?\n")
        await asyncio.sleep(0)  # the line arrives, after this task's step, and is answered
        await asyncio.sleep(0)  # the reply arrives, after this task's step
        await asyncio.sleep(0)
        assert protocol.received == b"VOLT?\n"
        client.write(b"a?\nb?\n")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert protocol.received == b"VOLT?\nA?\nB?\n"
        client.close()
