"""Every link kind against tools that misbehave on the wire: each case ends within its bound.

A flood, a trickle, a partial frame then silence, garbage, silence, a close mid-exchange and an
echo, on every transport of every link (VISA over a TCP socket and a pty, serial over
`socket://` and a pty, Modbus TCP, RTU over TCP and RTU on a pty). Each ends with a clear error
naming the tool within the bound docs/links.md states for it, and leaves no reader thread and
no task behind (the suite's leaked-task fixture checks the tasks).
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import pytest
import pyvisa_py.tcpip

from packline.drivers.errors import ConnectionLost, ProtocolError, ToolError, ToolTimeout
from packline.drivers.links import ModbusLink, TextLink, VisaLink, open_link
from packline.sim_instruments.servers.pty import PtyEnd
from packline.testing.clients import run_client
from packline.testing.timing import Stopwatch

# ---- the hostile tool -------------------------------------------------------------------------

#: Every way a tool can misbehave on the wire, each answered to every request it gets.
HOSTILE_BEHAVIOURS = ("flood", "trickle", "partial", "garbage", "silence", "close", "echo")

#: Bytes that decode in no text encoding a link uses, then a newline; random to Modbus.
GARBAGE = b"\xde\xad\xbe\xef\xff\xfe\x00\x80" * 2 + b"\n"

#: One byte of a trickle every this many seconds: never a pause long enough for a library's
#: read to notice, never a termination.
TRICKLE_INTERVAL_S = 0.02


class HostilePeer:
    """A tool that misbehaves in one way (see HOSTILE_BEHAVIOURS), on TCP or on a pty.

    On every request it floods bytes without a newline, trickles them one at a time, sends the
    first half of the request back and falls silent (a partial frame), sends `GARBAGE`, says
    nothing, closes the connection (a pty hangs up), or echoes the request. It binds 127.0.0.1
    on an ephemeral port (or opens a pty); `stop()` ends everything it started.
    """

    def __init__(self, behaviour: str, transport: str) -> None:
        if behaviour not in HOSTILE_BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {HOSTILE_BEHAVIOURS}, got {behaviour!r}")
        self.behaviour = behaviour
        self.transport = transport
        self.requests: list[bytes] = []
        #: When (`time.monotonic()`) each request arrived and each answer's first bytes went
        #: out: printed beside a case's outcome, so a failing one tells a request written late
        #: (a starved host) from an answer lost on the way.
        self.times: list[tuple[str, float]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pty: PtyEnd | None = None
        self.port = 0
        self.path = ""

    async def start(self) -> HostilePeer:
        if self.transport == "tcp":
            self._server = await asyncio.start_server(self._serve_tcp, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
        else:
            self._pty = PtyEnd(self._on_pty_data)
            self.path = self._pty.path
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._pty is not None:
            self._pty.close()

    # ---- the wire ---------------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)

        async def send(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        def hang_up() -> None:
            writer.close()

        try:
            while request := await reader.read(65536):
                self._answer(request, send, hang_up)
        except ConnectionError:
            pass  # the link dropped the connection
        # The flood and trickle go on until the link drops the connection or the peer stops.

    def _on_pty_data(self, request: bytes) -> None:
        pty = self._pty
        assert pty is not None

        async def send(data: bytes) -> None:
            while data and pty.master >= 0:
                try:
                    data = data[os.write(pty.master, data) :]
                except BlockingIOError:
                    await asyncio.sleep(0.001)  # the line is full: as a real UART, wait

        self._answer(request, send, pty.close)

    def _answer(
        self,
        request: bytes,
        send: Callable[[bytes], Awaitable[None]],
        hang_up: Callable[[], None],
    ) -> None:
        self.requests.append(request)
        self.times.append(("request", time.monotonic()))

        sent = send

        async def timed(data: bytes) -> None:
            if self.times[-1][0] == "request":
                self.times.append(("first bytes sent", time.monotonic()))
            await sent(data)

        send = timed
        match self.behaviour:
            case "flood":
                self._spawn(_repeat(send, b"1" * 65536, 0))
            case "trickle":
                self._spawn(_repeat(send, b"1", TRICKLE_INTERVAL_S))
            case "partial":
                self._spawn(send(request[: len(request) // 2]))
            case "garbage":
                self._spawn(send(GARBAGE))
            case "close":
                hang_up()
            case "echo":
                self._spawn(send(request))
            case "silence":
                pass


async def _repeat(send: Callable[[bytes], Awaitable[None]], data: bytes, interval_s: float) -> None:
    """Send `data` again and again, `interval_s` apart, until cancelled or disconnected."""
    try:
        while True:
            await send(data)
            await asyncio.sleep(interval_s)
    except ConnectionError:
        pass  # the link dropped the connection: nothing more to send


StartHostile = Callable[[str, str], Awaitable[HostilePeer]]


@pytest.fixture
async def start_hostile() -> AsyncIterator[StartHostile]:
    """Start a `HostilePeer(behaviour, transport)`; stopped at teardown."""
    peers: list[HostilePeer] = []

    async def start(behaviour: str, transport: str) -> HostilePeer:
        peers.append(HostilePeer(behaviour, transport))
        return await peers[-1].start()

    yield start
    for peer in peers:
        await peer.stop()


TIMEOUT_S = 0.3
#: Room for a loaded machine on top of a documented bound; far below what a hang would take.
MARGIN_S = 0.5

#: Each link kind on each transport: (peer transport, address of the peer).
KINDS = {
    "visa-tcp": ("tcp", lambda peer: f"TCPIP0::127.0.0.1::{peer.port}::SOCKET"),
    "visa-asrl": ("pty", lambda peer: f"ASRL{peer.path}::INSTR"),
    "serial-socket": ("tcp", lambda peer: f"socket://127.0.0.1:{peer.port}"),
    "serial-pty": ("pty", lambda peer: peer.path),
    "modbus-tcp": ("tcp", lambda peer: f"modbus+tcp://127.0.0.1:{peer.port}"),
    "modbus-rtu-tcp": ("tcp", lambda peer: f"modbus+rtu:socket://127.0.0.1:{peer.port}"),
    "modbus-rtu-pty": ("pty", lambda peer: f"modbus+rtu:{peer.path}"),
}

#: How each behaviour ends, on a text link and on a Modbus link: (error, what it says).
TEXT_OUTCOMES: dict[str, tuple[type[ToolError], str]] = {
    "flood": (ProtocolError, r"no '\\n' within 65536 bytes|garbled or incomplete reply"),
    "trickle": (ProtocolError, "garbled or incomplete reply"),
    "partial": (ProtocolError, r"garbled or incomplete reply: .* only 3 byte\(s\) b'\*ID'"),
    "garbage": (ProtocolError, "undecodable reply"),
    "silence": (ToolTimeout, "no reply within 0.3 s"),
    "close": (ConnectionLost, "connection lost"),
    "echo": (ProtocolError, "echoed the command"),
}
MODBUS_OUTCOMES: dict[str, tuple[type[ToolError], str]] = {
    "flood": (ProtocolError, "garbled reply"),
    "trickle": (ProtocolError, "garbled or incomplete reply"),
    "partial": (ProtocolError, "garbled or incomplete reply"),
    "garbage": (ProtocolError, "garbled"),
    "silence": (ToolTimeout, "no reply within 0.3 s"),
    "close": (ConnectionLost, "connection lost"),
    "echo": (ProtocolError, "corrupt reply|garbled or incomplete reply"),
}


def bound_s(link: TextLink | ModbusLink, behaviour: str) -> float:
    """The documented bound of one exchange (docs/links.md, "Bounds"): `timeout_s`, and a
    read that got no reply at all is asked `read_retries` more times (Modbus reads are)."""
    if behaviour == "silence" and isinstance(link, ModbusLink):
        return (1 + link.read_retries) * link.timeout_s
    return link.timeout_s


def reader_threads(link: object) -> list[threading.Thread]:
    """The link's VISA reader threads still alive (each is named `visa <tool> <address>`)."""
    assert isinstance(link, TextLink | ModbusLink)
    name = f"visa {link.tool} {link.address}"
    return [thread for thread in threading.enumerate() if thread.name == name]


@pytest.mark.parametrize("behaviour", HOSTILE_BEHAVIOURS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_hostile_tool_ends_in_a_clear_error_within_the_bound(
    start_hostile: StartHostile, kind: str, behaviour: str
):
    transport, address = KINDS[kind]
    peer = await start_hostile(behaviour, transport)
    link = open_link(address(peer), tool="hostile", timeout_s=TIMEOUT_S)
    assert isinstance(link, TextLink | ModbusLink)
    error_type, message = (TEXT_OUTCOMES if isinstance(link, TextLink) else MODBUS_OUTCOMES)[
        behaviour
    ]

    async def ask() -> object:
        async with asyncio.timeout(10):  # a hang fails here, not in the CI's timeout
            if isinstance(link, TextLink):
                return await link.query("*IDN?")
            return await link.read_holding_registers(100, 1)

    await link.connect()
    watch = Stopwatch()
    asked_at = time.monotonic()
    try:
        with pytest.raises(error_type, match=message) as raised:
            await ask()
        elapsed_s = watch.elapsed_s()
    finally:
        # shown with a failure: when the peer got the request and answered, from the ask
        print(
            f"{kind} {behaviour}: peer",
            [(what, round(at - asked_at, 3)) for what, at in peer.times],
        )
        await link.close()
    closed_s = watch.elapsed_s()
    print(f"{kind} {behaviour}: {raised.type.__name__} after {elapsed_s:.2f} s: {raised.value}")
    assert str(raised.value).startswith(f"hostile at {link.address}: ")
    assert elapsed_s < watch.bound_s(bound_s(link, behaviour) + MARGIN_S)
    assert closed_s < watch.bound_s(bound_s(link, behaviour) + MARGIN_S)
    assert not reader_threads(link)
    assert peer.requests  # the request went out: each case tested the reply, not the connect


#: A script that asks one question of a VISA tool, prints the error and exits (or hangs).
ASK_AND_EXIT = """
import asyncio, sys
from packline.drivers.links import VisaLink
async def main():
    async with VisaLink(sys.argv[1], tool="hostile", timeout_s=0.3) as link:
        try:
            await link.query("*IDN?")
        except Exception as error:
            print(type(error).__name__, error)
asyncio.run(main())
"""


@pytest.mark.parametrize("behaviour", ["flood", "trickle"])
async def test_a_process_that_met_a_flooding_or_trickling_visa_tool_exits(
    start_hostile: StartHostile, behaviour: str
):
    """The whole story of the issue: `packline run` printed its summary and never exited."""
    peer = await start_hostile(behaviour, "tcp")
    address = f"TCPIP0::127.0.0.1::{peer.port}::SOCKET"
    run = await run_client(sys.executable, "-c", ASK_AND_EXIT, address, timeout_s=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("ProtocolError hostile at TCPIP0::")
    assert run.stderr == ""


@pytest.mark.parametrize("kind", ["visa-tcp", "serial-socket"])
async def test_a_long_reply_is_cut_off_at_max_line_bytes(start_hostile: StartHostile, kind: str):
    transport, address = KINDS[kind]
    peer = await start_hostile("flood", transport)
    link = open_link(address(peer), tool="hostile", timeout_s=TIMEOUT_S, max_line_bytes=1000)
    assert isinstance(link, TextLink)
    async with link:
        with pytest.raises(ProtocolError, match=r"no '\\n' within 1000 bytes"):
            await link.query("*IDN?")
        assert not link.connected  # the rest of that line is not read as the next reply
    assert not reader_threads(link)


def test_max_line_bytes_is_checked():
    for bad in (0, -1, 1.5, True, 2**40):
        with pytest.raises(ValueError, match=r"hostile at .*: max_line_bytes must be"):
            open_link("socket://127.0.0.1:1", tool="hostile", max_line_bytes=bad)


async def test_closing_the_link_stops_a_visa_read_in_flight(start_hostile: StartHostile):
    """A cancelled query (an operator's abort) leaves no reader behind, even mid-trickle."""
    peer = await start_hostile("trickle", "tcp")
    link = open_link(f"TCPIP0::127.0.0.1::{peer.port}::SOCKET", tool="hostile", timeout_s=5.0)
    async with link:
        query = asyncio.create_task(link.query("*IDN?"))
        await asyncio.sleep(0.2)
        assert reader_threads(link)
        watch = Stopwatch()
        query.cancel()
        with pytest.raises(asyncio.CancelledError):
            await query
        assert watch.elapsed_s() < watch.bound_s(1.0)  # not the 5 s timeout
        assert not reader_threads(link)


async def test_a_reply_a_starved_visa_reader_did_not_read_is_still_an_incomplete_reply(
    start_hostile: StartHostile, monkeypatch: pytest.MonkeyPatch
):
    """On a loaded machine the worker thread may get no CPU between its write and the link's
    timeout: the bytes waiting in the socket still tell a reply that began from silence."""
    peer = await start_hostile("trickle", "tcp")
    link = open_link(f"TCPIP0::127.0.0.1::{peer.port}::SOCKET", tool="hostile", timeout_s=0.3)
    assert isinstance(link, VisaLink)
    read_reply = link._read_reply

    def starved(*args: Any) -> bytes:
        time.sleep(0.5)  # past the link's timeout, while the trickle arrives unread
        return read_reply(*args)

    monkeypatch.setattr(link, "_read_reply", starved)
    async with link:
        with pytest.raises(ProtocolError, match=r"garbled or incomplete reply: .* only"):
            await link.query("*IDN?")
    assert not reader_threads(link)


class StarvedSelect:
    """pyvisa-py's `select` as a reader starved of the CPU mid-read sees it: from its third
    call (the first bytes of a trickle read), each call half a second late, past the link's
    timeout, whose close shuts the socket down while the trickle goes on arriving."""

    def __init__(self) -> None:
        self.calls = 0

    def select(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls >= 3:
            time.sleep(0.5)
        return select.select(*args)


async def test_a_trickle_a_starved_visa_reader_had_begun_reading_is_an_incomplete_reply(
    start_hostile: StartHostile, monkeypatch: pytest.MonkeyPatch
):
    """The bytes of a trickle that pyvisa-py had read when the link's close shut the socket down
    under it (the connection resets, and pyvisa-py raises, holding them): still a reply that
    began, not "no reply" (the hostile trickle over VISA failed so under load)."""
    peer = await start_hostile("trickle", "tcp")
    link = open_link(f"TCPIP0::127.0.0.1::{peer.port}::SOCKET", tool="hostile", timeout_s=0.3)
    async with link:
        monkeypatch.setattr(pyvisa_py.tcpip, "select", StarvedSelect())
        with pytest.raises(
            ProtocolError, match=r"garbled or incomplete reply: .* only \d+ byte\(s\) b'1+'"
        ):
            await link.query("*IDN?")
    assert not reader_threads(link)


def test_the_hostile_peer_knows_its_behaviours():
    with pytest.raises(ValueError, match="behaviour must be one of"):
        HostilePeer("sulk", "tcp")
