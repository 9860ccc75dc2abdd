"""Pin a driver to its protocol page byte for byte, without a simulator.

In the style of PyMeasure's `expected_protocol`: the test lists the exact request and reply
bytes the protocol page prescribes, and the real link and driver run against a scripted peer
on the wire (TCP on loopback or a pty)::

    async with expected_protocol(
        [(b"*IDN?\\n", b"ACME,B100,17,1.0\\n"), (b"TEMP 120.0\\n", None)]
    ) as peer:
        async with open_link(peer.address("visa"), tool="bonder") as link:
            ...

The peer reads each expected request by its length, compares it, and sends the scripted reply
(None: no reply). On leaving the block it raises AssertionError naming the first mismatch
(its index, the bytes expected and the bytes got), the requests never made, or bytes sent
after the script ended. Connections may be dropped and remade (a link reconnecting): the
script carries on across them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal

from packline.sim_instruments.servers.pty import PtyEnd

Exchange = tuple[bytes, bytes | None]
AddressForm = Literal["visa", "serial", "modbus+tcp", "modbus+rtu"]


class ScriptedPeer:
    """The far end of the wire in an `expected_protocol` block: it plays the script."""

    def __init__(self, script: Sequence[Exchange], transport: Literal["tcp", "pty"]) -> None:
        for index, pair in enumerate(script):
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], bytes)):
                raise TypeError(f"script[{index}] must be (request bytes, reply bytes or None)")
            if not pair[0]:
                raise ValueError(f"script[{index}]: the request must not be empty")
        self.script = list(script)
        self.transport = transport
        #: Index of the next expected request; `len(script)` once every request was made.
        self.position = 0
        self._received = b""
        self._mismatch: tuple[int, bytes, bytes] | None = None
        self._done = asyncio.Event()
        if not self.script:
            self._done.set()
        self._send = self._discard
        self._port = 0
        self._path = ""

    def address(self, form: AddressForm) -> str:
        """The peer's address in the form a link takes.

        `"visa"`: `TCPIP0::127.0.0.1::PORT::SOCKET` or `ASRL/dev/pts/N::INSTR`; `"serial"`:
        `socket://127.0.0.1:PORT` or `/dev/pts/N`; `"modbus+tcp"` (TCP only):
        `modbus+tcp://127.0.0.1:PORT`; `"modbus+rtu"`: `modbus+rtu:socket://127.0.0.1:PORT`
        or `modbus+rtu:/dev/pts/N`.
        """
        tcp = self.transport == "tcp"
        if form == "visa":
            return f"TCPIP0::127.0.0.1::{self._port}::SOCKET" if tcp else f"ASRL{self._path}::INSTR"
        if form == "serial":
            return f"socket://127.0.0.1:{self._port}" if tcp else self._path
        if form == "modbus+tcp" and tcp:
            return f"modbus+tcp://127.0.0.1:{self._port}"
        if form == "modbus+rtu":
            return (
                f"modbus+rtu:socket://127.0.0.1:{self._port}" if tcp else f"modbus+rtu:{self._path}"
            )
        raise ValueError(
            f"no {form!r} address for a {self.transport} peer; forms are 'visa', 'serial', "
            "'modbus+tcp' (tcp only) and 'modbus+rtu'"
        )

    def send(self, data: bytes) -> None:
        """Send `data` to the client now, whatever the script says: a reply whose moment the
        test chooses (the script then has None for that request's reply)."""
        self._send(data)

    # ---- the script -----------------------------------------------------------------------

    def _discard(self, data: bytes) -> None:
        """Where replies go while no client is connected (never, in a well-formed test)."""

    def feed(self, data: bytes) -> None:
        """Take bytes from the client; answer each complete expected request."""
        self._received += data
        while self._mismatch is None and self.position < len(self.script):
            request, reply = self.script[self.position]
            got = self._received[: len(request)]
            if got != request[: len(got)]:
                self._fail(request, got)
                return
            if len(got) < len(request):
                return
            self._received = self._received[len(request) :]
            self.position += 1
            if reply is not None:
                self._send(reply)
        if self.position == len(self.script):
            self._done.set()

    def _fail(self, expected: bytes, got: bytes) -> None:
        self._mismatch = (self.position, expected, got)
        self._done.set()

    def verdict(self) -> str | None:
        """What went wrong, or None when the script was played exactly."""
        if self._mismatch is not None:
            index, expected, got = self._mismatch
            return f"exchange {index}: expected request {expected!r}, got {got!r}"
        if self.position < len(self.script):
            missing = [request for request, _ in self.script[self.position :]]
            partial = f" (got only {self._received!r} of the first)" if self._received else ""
            return f"requests never made, from exchange {self.position}: {missing!r}{partial}"
        if self._received:
            return f"unexpected bytes after the last exchange: {self._received!r}"
        return None


class _PeerProtocol(asyncio.Protocol):
    def __init__(self, peer: ScriptedPeer) -> None:
        self.peer = peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.peer._send = transport.write  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.peer.feed(data)


@asynccontextmanager
async def expected_protocol(
    script: Sequence[Exchange],
    *,
    transport: Literal["tcp", "pty"] = "tcp",
    settle_s: float = 0.5,
) -> AsyncIterator[ScriptedPeer]:
    """Run the block against a peer that plays `script`; raise AssertionError if it was not
    followed exactly. `settle_s` bounds the wait, on leaving, for requests still in flight.
    """
    if transport not in ("tcp", "pty"):
        raise ValueError(f"transport must be 'tcp' or 'pty', got {transport!r}")
    peer = ScriptedPeer(script, transport)
    server: asyncio.Server | None = None
    end: PtyEnd | None = None
    connections: list[_PeerProtocol] = []
    if transport == "tcp":

        def connect() -> _PeerProtocol:
            connections.append(_PeerProtocol(peer))
            return connections[-1]

        server = await asyncio.get_running_loop().create_server(connect, "127.0.0.1", 0)
        peer._port = server.sockets[0].getsockname()[1]
    else:
        end = PtyEnd(peer.feed)
        peer._path = end.path
        peer._send = end.write
    failure: Exception | None = None
    try:
        try:
            yield peer
        except Exception as error:
            failure = error
        if failure is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settle_s):
                    await peer._done.wait()
            await asyncio.sleep(0.01)  # let bytes sent after the script ended arrive
    finally:
        if server is not None:
            server.close()
            for connection in connections:
                connection.transport.close()
            await server.wait_closed()
        if end is not None:
            end.close()
    verdict = peer.verdict()
    if verdict is not None:
        raise AssertionError(f"protocol not followed: {verdict}") from failure
    if failure is not None:
        raise failure
