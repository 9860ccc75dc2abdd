"""In-memory connections: a stream as TCP is, its bytes where a socket's arrive, seen by the
virtual clock while on their way (decision 0063)."""

from __future__ import annotations

import asyncio

import pytest

from packline.clock import VirtualClock
from packline.drivers.links import SerialLink
from packline.drivers.links.base import read_waiting
from packline.memory_wires import MemoryTransport, MemoryWires
from packline.sim_instruments.servers.text import TextToolServer


class Recorder(asyncio.Protocol):
    """A protocol that notes everything that happens to it, in order."""

    def __init__(self, log: list[object], name: str, *, keep_open: bool = False) -> None:
        self.log, self.name, self.keep_open = log, name, keep_open
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.log.append((self.name, "made"))

    def data_received(self, data: bytes) -> None:
        self.log.append((self.name, data))

    def eof_received(self) -> bool:
        self.log.append((self.name, "eof"))
        return self.keep_open

    def connection_lost(self, exc: Exception | None) -> None:
        self.log.append((self.name, "lost"))


async def connected(
    log: list[object], *, keep_open: bool = False
) -> tuple[MemoryWires, MemoryTransport, Recorder]:
    wires = MemoryWires()
    servers: list[Recorder] = []

    def serve() -> Recorder:
        servers.append(Recorder(log, "server", keep_open=keep_open))
        return servers[0]

    wires.listen("127.0.0.1", 5020, serve)
    client, _ = await wires.connect("127.0.0.1", 5020, lambda: Recorder(log, "client"))
    return wires, client, servers[0]


async def passes(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_bytes_arrive_in_order_after_what_the_pass_queued_as_over_a_socket():
    log: list[object] = []
    wires, client, _ = await connected(log)
    client.write(b"ab")
    asyncio.get_running_loop().call_soon(log.append, "queued after the write")
    client.write(b"c")
    assert wires.in_flight
    await passes(2)
    assert log == [
        ("server", "made"),
        ("client", "made"),
        "queued after the write",
        ("server", b"abc"),  # written in one pass: read together, as a socket's reader does
    ]
    assert not wires.in_flight
    client.close()
    await passes(3)


async def test_closing_an_end_is_end_of_file_at_the_other_after_its_bytes():
    log: list[object] = []
    _, client, server = await connected(log)
    client.write(b"last")
    client.close()
    client.write(b"after close")  # nobody reads it, as on a closed socket
    await passes(3)
    assert log[2:] == [
        ("client", "lost"),
        ("server", b"last"),
        ("server", "eof"),
        ("server", "lost"),
    ]
    assert server.transport is not None
    assert server.transport.is_closing()


async def test_an_end_kept_open_after_end_of_file_can_still_close():
    log: list[object] = []
    _, client, server = await connected(log, keep_open=True)
    client.close()
    await passes(3)
    assert ("server", "eof") in log
    assert ("server", "lost") not in log
    assert server.transport is not None
    server.transport.close()
    await passes(2)
    assert log[-1] == ("server", "lost")


async def test_a_paused_end_keeps_what_arrives_until_it_resumes():
    log: list[object] = []
    _, client, server = await connected(log)
    assert server.transport is not None
    server.transport.pause_reading()
    client.write(b"held")
    await passes(3)
    assert ("server", b"held") not in log
    server.transport.resume_reading()
    await passes(2)
    assert log[-1] == ("server", b"held")
    client.close()
    await passes(3)


async def test_unread_bytes_are_taken_as_a_sockets_are():
    log: list[object] = []
    _, client, server = await connected(log)
    assert isinstance(server.transport, MemoryTransport)
    client.write(b"0123456789")
    taken = read_waiting(server.transport, 4)
    client.close()
    await passes(3)
    assert (taken, log[3]) == (b"0123", ("server", b"456789"))


async def test_nothing_served_refuses_the_connection_and_a_stopped_server_too():
    wires = MemoryWires()
    with pytest.raises(ConnectionRefusedError, match=r"nothing serves 127\.0\.0\.1:5020 in memory"):
        await wires.connect("127.0.0.1", 5020, asyncio.Protocol)
    wires.listen("127.0.0.1", 5020, asyncio.Protocol)
    assert wires.serves("127.0.0.1", 5020)
    wires.stop_listening("127.0.0.1", 5020)
    assert not wires.serves("127.0.0.1", 5020)


async def test_the_clock_does_not_jump_while_bytes_are_on_their_way_in_memory():
    # one quiet pass is all a jump waits for when every wire is in memory: the clock must see
    # the reply a tool sent as the last thing it did, or the host would read it late
    clock = VirtualClock(wires_in_memory=True)
    assert clock.wires is not None
    read_at: list[float] = []

    class Host(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            read_at.append(clock.now())

    clock.wires.listen("127.0.0.1", 5020, asyncio.Protocol)
    host, _ = await clock.wires.connect("127.0.0.1", 5020, Host)
    assert isinstance(host.peer, MemoryTransport)
    tool, released = host.peer, asyncio.Event()

    async def hold_then_reply() -> None:
        await clock.sleep(10)
        tool.write(b"DONE\n")
        await released.wait()  # off the clock: nothing else shows the reply in flight

    holding = asyncio.create_task(hold_then_reply())
    await clock.sleep(60)
    assert read_at == [10.0]
    released.set()
    await holding
    host.close()
    await passes(3)


async def test_a_link_and_a_text_server_on_one_clock_meet_in_memory():
    clock = VirtualClock(wires_in_memory=True)

    async def handler(line: str) -> str:
        return f"OK {line}"

    tool = TextToolServer(handler, address_form="serial", clock=clock)
    async with tool as server, SerialLink(server.address, clock=clock) as link:
        assert await link.query("PING") == "OK PING"
        assert link._port is not None
        assert isinstance(link._port.transport, MemoryTransport)
