"""What every server that puts a simulated tool on the wire has in common.

A server is started and stopped from the loop that runs the simulated tool: in a test, in a dry
run, or in a script of its own (`serve_forever`). `start()` returns the address in the form a
station file uses, so the same string can be handed to `open_link`. `stop()` drops every client
connection at once, the way a tool that loses power does, and leaves no task behind.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from enum import Enum
from typing import Self, TypedDict

from packline.clock import Clock, WallClock
from packline.memory_wires import MemoryTransport

log = logging.getLogger("packline.sim")


class ConnectionChange(Enum):
    """What became of a client's connection to a server."""

    OPENED = "opened"
    #: The client closed it, or it was lost.
    LEFT = "left"
    #: The server closed it: it stopped.
    CLOSED = "closed"


#: Told of a client connection as it opens and as it ends: (the server's address, the
#: client's `peer_text`, what became of the connection).
ConnectionListener = Callable[[str, str, ConnectionChange], None]

#: A simulated text tool: called with each received line (without its termination), returns
#: the reply line (without termination), or None when the command has no reply.
LineHandler = Callable[[str], Awaitable[str | None]]

#: While a `LineHandler` runs under `serve_lines`: the line after the one it answers.
_NEXT_LINE: ContextVar[_NextLine | None] = ContextVar("packline_next_line", default=None)


def next_line() -> asyncio.Future[bytes | None] | None:
    """The read of the line after the one being answered (inside a `LineHandler` called by
    `serve_lines`; else None), done (its result the line, or None at end of file) once that
    line is in: a tool that holds a reply ends the hold once it is done."""
    following = _NEXT_LINE.get()
    return None if following is None else following.read_meanwhile()


class _NextLine:
    """The line after the one being answered: read while the handler runs if it asks for it
    (`next_line`, a held reply), else once its reply is written, without a task of its own
    (most lines are answered at once, and a task per line cost an iteration of the loop)."""

    def __init__(
        self, reader: asyncio.StreamReader, separator: bytes, max_line_bytes: int | None
    ) -> None:
        self._reader, self._separator, self._max_line_bytes = reader, separator, max_line_bytes
        self._reading: asyncio.Future[bytes | None] | None = None

    def read_meanwhile(self) -> asyncio.Future[bytes | None]:
        """The line's read, started now if it was not."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read())
        return self._reading

    async def line(self) -> bytes | None:
        """The line (None at end of file), read now unless it is being read already."""
        return await (self._reading if self._reading is not None else self._read())

    async def stop(self) -> None:
        """End a read started meanwhile (the connection ends)."""
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)

    def _read(self) -> Awaitable[bytes | None]:
        return _read_line(self._reader, self._separator, self._max_line_bytes)


def write_as_wire_work(clock: Clock, transport: object, write: Callable[[], None]) -> None:
    """A simulated tool's reply going out on `transport` (`write` sends it): over a socket as
    wire work (`clock.activity()`), so that a virtual clock sees a reply written outside the
    client's exchange (a held one) and looks at the wire again before it jumps; in memory as
    it is, the clock seeing its bytes on their way (decision 0063)."""
    if isinstance(transport, MemoryTransport):
        write()
        return
    with clock.activity():
        write()


def peer_text(peer: object) -> str:
    """A client's address as a transport's `peername` gives it: `host:port`, or `in memory`
    for a connection made in memory (decision 0063), which has none."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "in memory" if peer is None else str(peer)


class ToolServer(ABC):
    """A simulated tool listening on the wire; `async with` starts and stops it.

    Every connection's server end is registered with the tool's clock (`watch_served`), so a
    virtual clock with its checks on can refuse to jump while a request sits unread.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or WallClock()
        self._address: str | None = None
        #: The address while `stop()` closes the connections: each ends as the server's doing.
        self._stopping_at: str | None = None
        self._stopped = asyncio.Event()
        #: Told of every client connection as it opens and ends (`packline sim serve`'s log:
        #: a count looked at now and then misses one that opens and ends between looks).
        self.connection_listeners: list[ConnectionListener] = []

    @property
    def address(self) -> str:
        """The address a station file uses for this tool; only valid while started."""
        if self._address is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._address

    @property
    def started(self) -> bool:
        return self._address is not None

    @property
    def connections(self) -> int | None:
        """How many clients are connected now; None where the wire has no notion of a
        connection (a pty: a client opens it without the tool knowing)."""
        return None

    def _tell_connection(self, peer: object, opened: bool) -> None:
        """Tell `connection_listeners` that the client at `peer` (its transport's
        `peername`) connected (`opened`), or that its connection ended: the server closed
        it when it ends as the server stops, else the client left."""
        if opened:
            change = ConnectionChange.OPENED
        else:
            change = ConnectionChange.LEFT if self._stopping_at is None else ConnectionChange.CLOSED
        address = self._address or self._stopping_at or ""
        for listener in self.connection_listeners:
            listener(address, peer_text(peer), change)

    async def start(self) -> str:
        """Start listening and return the address."""
        if self._address is not None:
            raise RuntimeError(f"{type(self).__name__} already started at {self._address}")
        self._address = await self._start()
        self._stopped.clear()
        return self._address

    async def stop(self) -> None:
        """Stop listening and drop every client connection at once; safe to call twice."""
        if self._address is None:
            return
        self._stopping_at, self._address = self._address, None
        try:
            await self._stop()
        finally:
            self._stopping_at = None
            self._stopped.set()

    async def serve_forever(self) -> None:
        """Start (if not yet started) and serve until `stop()` is called from another task."""
        if not self.started:
            await self.start()
        await self._stopped.wait()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @abstractmethod
    async def _start(self) -> str:
        """Open the listening end and return the address."""

    @abstractmethod
    async def _stop(self) -> None:
        """Close the listening end and every connection; await every task it started."""


async def serve_lines(
    reader: asyncio.StreamReader,
    write: Callable[[bytes], None],
    handler: LineHandler,
    *,
    read_termination: str,
    write_termination: str,
    encoding: str,
    max_line_bytes: int | None = None,
) -> None:
    """Answer terminated lines from `reader` with `handler` until end of file.

    Lines are handled strictly one after the other, the way an instrument's parser does; a
    handler holding its reply has the next one read meanwhile, so that it sees it come
    (`next_line`). A
    line that does not decode is passed on with the offending bytes replaced, so the simulated
    tool can answer it with its own error, as a real one would. With `max_line_bytes` (the
    reader's limit must be that size), a longer line is passed on cut to `max_line_bytes + 1`
    bytes, the rest of it discarded up to its termination, so the tool can refuse it as too
    long and go on; without, an overlong line ends the connection (`LimitOverrunError`).
    """
    following = _NextLine(reader, read_termination.encode(encoding), max_line_bytes)
    try:
        while (raw := await following.line()) is not None:
            following = _NextLine(reader, read_termination.encode(encoding), max_line_bytes)
            _NEXT_LINE.set(following)
            reply = await handler(raw.decode(encoding, errors="replace"))
            if reply is not None:
                write((reply + write_termination).encode(encoding, errors="replace"))
    finally:
        await following.stop()


class ReaderLimit(TypedDict, total=False):
    """The stream reader's `limit` argument, when one is set."""

    limit: int


def reader_limit(max_line_bytes: int | None) -> ReaderLimit:
    """The stream reader's `limit` argument for `serve_lines` with `max_line_bytes`."""
    return {} if max_line_bytes is None else {"limit": max_line_bytes}


async def _read_line(
    reader: asyncio.StreamReader, separator: bytes, max_line_bytes: int | None
) -> bytes | None:
    """The next line without its separator (an overlong one cut short), None at end of file."""
    head = b""
    while True:
        try:
            raw = await reader.readuntil(separator)
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as overrun:
            if max_line_bytes is None:
                raise
            try:
                head = (head + await reader.readexactly(overrun.consumed))[: max_line_bytes + 1]
            except asyncio.IncompleteReadError:
                return None
            continue
        return head or raw[: -len(separator)]


async def cancel_and_wait(tasks: set[asyncio.Task[None]] | list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until every one has finished (their errors are logged)."""
    for task in tasks:
        task.cancel()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            log.error("simulated tool task failed: %r", result)
