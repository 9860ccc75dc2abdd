"""In-memory connections between a dry run's simulated tools and the links that reach them.

A dry run's drivers and simulated tools share one process and one `VirtualClock`. Over loopback
sockets every message costs system calls and a pass of the event loop's selector, and the
clock cannot see a message while the kernel holds it, so it let the loop pass several times
with nothing to run before each jump. Through a `MemoryTransport` the same bytes go from one
protocol to the other by the event loop's ready queue (`call_soon`), where the clock sees them
in flight. The same code runs on both ends (pymodbus's client and server, the serial link's
port, the text server's stream reader): only the transport differs, as a simulated backend
should. Each server keeps its listening socket too, for any other client; only a link whose
clock carries the same `MemoryWires` meets it in memory (docs/decisions/0063).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

#: Makes the protocol of one end of a new connection, as `loop.create_connection` takes it.
ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class MemoryWires:
    """The servers of this process that a link may reach in memory, by the host and port
    they listen on (the address a station names them by)."""

    def __init__(self) -> None:
        self._listening: dict[tuple[str, int], ProtocolFactory] = {}
        #: The ends with bytes (or an end of file) on their way, a batch for each pass of the
        #: loop they were sent in, in the order the first of them was sent (`_post`).
        self._batches: list[dict[MemoryTransport, None]] = []
        self._next_pass: asyncio.TimerHandle | None = None

    @property
    def in_flight(self) -> bool:
        """Whether bytes are on their way to an end (what a socket's peer has not read yet)."""
        return bool(self._batches)

    def _post(self, end: MemoryTransport) -> None:
        """`end` has bytes or an end of file on their way, delivered where a socket's would
        be: on the loop's next pass, after the callbacks this pass queued with `call_soon`
        (a pass runs the selector's events, then the timers that are due, after what was
        queued before it), so that the tasks run in the order they do over sockets.

        Bytes sent on the next pass before that delivery ran wait for the pass after, as a
        socket's do for the next select: the delivery's timer is still among the loop's
        scheduled ones (CPython's `TimerHandle._scheduled`) only until its pass begins."""
        if self._next_pass is None or not getattr(self._next_pass, "_scheduled", False):
            batch: dict[MemoryTransport, None] = {}
            self._batches.append(batch)
            # The end's loop, the running one, rather than looked up (a system call, `getpid`).
            self._next_pass = end._loop.call_later(0, self._deliver, batch)
        self._batches[-1][end] = None

    def _deliver(self, batch: dict[MemoryTransport, None]) -> None:
        self._batches.remove(batch)
        for end in batch:
            end._deliver()

    def listen(self, host: str, port: int, factory: ProtocolFactory) -> None:
        """Serve `host:port` in memory too: `factory` makes the server's protocol of each
        connection, as it does for one the listening socket accepts."""
        self._listening[host, port] = factory

    def stop_listening(self, host: str, port: int) -> None:
        """`host:port` is no longer served (in memory); safe when it never was."""
        self._listening.pop((host, port), None)

    def serves(self, host: str, port: int) -> bool:
        """Whether a connection to `host:port` is made in memory."""
        return (host, port) in self._listening

    async def connect(
        self, host: str, port: int, factory: ProtocolFactory
    ) -> tuple[MemoryTransport, asyncio.BaseProtocol]:
        """Connect a client protocol (`factory`'s) to the server at `host:port`, in memory:
        the client's transport and protocol, as `loop.create_connection` returns them.
        Refused as a socket is (`ConnectionRefusedError`) when nothing listens there."""
        server_factory = self._listening.get((host, port))
        if server_factory is None:
            raise ConnectionRefusedError(f"nothing serves {host}:{port} in memory")
        loop = asyncio.get_running_loop()
        client_end = MemoryTransport(self, loop, ("memory", 0), (host, port))
        server_end = MemoryTransport(self, loop, (host, port), ("memory", 0))
        client_end.peer, server_end.peer = server_end, client_end
        server_end.set_protocol(server_factory())
        client_end.set_protocol(factory())
        server_end.get_protocol().connection_made(server_end)
        client_end.get_protocol().connection_made(client_end)
        return client_end, client_end.get_protocol()


class MemoryTransport(asyncio.Transport):
    """One end of an in-memory connection, a stream as TCP is.

    What one end writes reaches the other's protocol on the loop's next pass, in order, the
    bytes written meanwhile together (as a socket's reader takes what arrived). Closing or
    aborting an end is end of file at the other, after the bytes sent before it; an end that
    pauses reading keeps what arrives until it resumes.
    """

    def __init__(
        self,
        wires: MemoryWires,
        loop: asyncio.AbstractEventLoop,
        sockname: tuple[str, int],
        peername: tuple[str, int],
    ) -> None:
        super().__init__({"sockname": sockname, "peername": peername})
        self._wires = wires
        self._loop = loop
        self._protocol: asyncio.Protocol | None = None
        self.peer: MemoryTransport | None = None
        self._incoming = bytearray()
        self._paused = False
        self._end_of_file = False  # the peer closed: after `_incoming`, end of file
        self._closing = False
        self._lost = False

    def get_protocol(self) -> asyncio.Protocol:
        assert self._protocol is not None
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        # A stream's protocol: pymodbus's derives from BaseProtocol but has what a
        # `Protocol` has (`data_received`, `eof_received`).
        self._protocol = cast(asyncio.Protocol, protocol)

    # ---- writing -----------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        peer = self.peer
        if not data or self._closing or peer is None or peer._closing:
            return  # as a socket after close: nobody reads it
        peer._incoming += data
        peer._deliver_soon()

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0  # handed over at once

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Nothing is ever buffered on the writing side."""

    # ---- reading -----------------------------------------------------------------------

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        self._deliver_soon()

    def take_unread(self, limit: int) -> bytes:
        """Up to `limit` bytes that arrived and were not delivered yet, taken (a socket's
        `recv` of what the kernel holds)."""
        taken = bytes(self._incoming[:limit])
        del self._incoming[:limit]
        return taken

    def _deliver_soon(self) -> None:
        if not self._paused and not self._lost:
            self._wires._post(self)

    def _deliver(self) -> None:
        """Hand what arrived to the protocol, then the end of file if it came."""
        if self._lost or self._paused:
            return
        if self._incoming:
            data = bytes(self._incoming)
            self._incoming.clear()
            self.get_protocol().data_received(data)
        if self._end_of_file and not self._incoming and not self._paused and not self._lost:
            self._end_of_file = False
            if not self.get_protocol().eof_received():
                self.close()

    # ---- closing -----------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        peer, self.peer = self.peer, None
        if peer is not None:
            peer.peer = None
            peer._end_of_file = True
            peer._deliver_soon()
        self._loop.call_soon(self._connection_lost)

    def abort(self) -> None:
        """As `close`: nothing waits to be sent in memory."""
        self.close()

    def _connection_lost(self) -> None:
        if not self._lost:
            self._lost = True
            self._incoming.clear()
            self.get_protocol().connection_lost(None)
