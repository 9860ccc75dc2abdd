"""A serial link: ASCII line protocols on a serial port through pyserial-asyncio-fast.

Addresses are what pyserial opens: a device path (`/dev/ttyUSB0`, a pty `/dev/pts/5`) or a
pyserial URL: `socket://HOST:PORT` (a serial device server's raw TCP port) or
`rfc2217://HOST:PORT` (one that also carries the line settings).

Replies are framed by the read termination; a line that does not decode, or that grows past
`max_line_bytes` without a termination, is a `ProtocolError` (raised as soon as that many bytes
are in: the port is not read further, so a flooding tool costs at most `max_line_bytes` of
memory). The link's `timeout_s` bounds the whole reply, however slowly its bytes trickle in.
End of file from the port (a socket peer closed, a pty hung up) is a lost connection.

What the port delivers goes straight into one buffer the link reads replies from (`_Port`), not
into a stream reader's buffer of its own: when time runs out, every byte that arrived is
where the link looks for a complete reply.
"""

from __future__ import annotations

import asyncio
import logging
import termios
from typing import Any, TypedDict

import serial
import serial_asyncio_fast

from packline.tasks import step_now

from .base import check_line_settings, reaches_a_tty, read_waiting, socket_url_endpoint
from .keepalive import keep_alive
from .text import TextLink

log = logging.getLogger(__name__)


class _LineSettings(TypedDict):
    """The line settings, as pyserial takes them."""

    baudrate: int
    bytesize: int
    parity: str
    stopbits: float
    xonxoff: bool
    rtscts: bool


class _Port(asyncio.Protocol):
    """The receiving side of one serial connection: what arrives is appended to `received`,
    and reading pauses while it holds `limit` bytes or more (a reply can be no longer)."""

    def __init__(self, received: bytearray, limit: int) -> None:
        self.received = received
        self.limit = limit
        self.transport: asyncio.Transport | None = None
        self.paused = False
        #: What `arrival()` returned, until it is done, and the task that awaits it.
        self._waiter: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[Any] | None = None
        #: Done once the connection has ended and the port is closed.
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= self.limit and self.transport and not self.paused:
            self.transport.pause_reading()
            self.paused = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        # Ended before the reader goes on (`_wake` runs it in this pass): it sees the end.
        if not self.ended.done():
            self.ended.set_result(None)
        self._wake()

    def arrival(self) -> asyncio.Future[None]:
        """What is done by the next bytes, or by the end of the connection: a bare future, as
        a stream reader waits on (an `asyncio.Event`, or a coroutine around the future, costs
        more on every exchange). One wait at a time: the link's lock sees to it. Made on the
        port's loop, the running one, rather than looking that up twice (each a system call,
        `getpid`)."""
        loop = self.ended.get_loop()
        self._waiter = loop.create_future()
        self._reader = asyncio.current_task(loop)
        return self._waiter

    def _wake(self) -> None:
        """The bytes or the end awaited came: the task that awaits them goes on in this pass
        of the loop, not the next, as the Modbus link's does (decision 0075)."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
            step_now(self._reader)

    def take(self, count: int) -> bytes:
        """The first `count` bytes received, removed; reading resumes below `limit`."""
        taken = bytes(self.received[:count])
        del self.received[:count]
        if self.paused and len(self.received) < self.limit and self.transport:
            self.paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()
        return taken


class SerialLink(TextLink):
    """One serial port (or serial-over-TCP URL) to one tool, exchanging terminated lines.

    `baudrate`, `bytesize`, `parity` (`"N"`, `"E"`, `"O"`, `"M"`, `"S"`), `stopbits`,
    `xonxoff` and `rtscts` are the line settings (ignored by `socket://`). Other options are
    the `TextLink`'s (terminations, encoding) and the `Link`'s (`tool`, `timeout_s`,
    `connect_timeout_s`, `reconnect`, `clock`).
    """

    connection_errors = (*TextLink.connection_errors, serial.SerialException, termios.error)

    def __init__(
        self,
        address: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        xonxoff: bool = False,
        rtscts: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(address, **options)
        check_line_settings(f"{self.tool} at {address}", baudrate, bytesize, parity, stopbits)
        for flag, value in (("xonxoff", xonxoff), ("rtscts", rtscts)):
            if not isinstance(value, bool):
                raise ValueError(f"{self.tool} at {address}: {flag} must be true or false")
        self.serial_options: _LineSettings = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity,
            "stopbits": stopbits,
            "xonxoff": xonxoff,
            "rtscts": rtscts,
        }
        self._separator = self.read_termination.encode(self.encoding)
        #: The whole reply may be `max_line_bytes`, then the separator.
        self._limit = self.max_line_bytes + len(self._separator)
        self._port: _Port | None = None
        #: What arrived and is not yet part of a reply returned (a reply's start, or a line
        #: that came after the one asked for).
        self._received = bytearray()

    @property
    def reopens_same_line(self) -> bool:
        """A tty is the same line when reopened; a serial device server's TCP connection
        (`socket://`, `rfc2217://`) is dropped and made anew."""
        return reaches_a_tty(self.address)

    async def _open(self) -> None:
        await self._close()
        self._received = bytearray()
        port = _Port(self._received, self._limit)
        served = socket_url_endpoint(self.address)
        transport: asyncio.Transport
        if served is not None and (wires := self._wires_serving(*served)) is not None:
            # A simulated tool of this process: the same bytes in memory (decisions/0063).
            transport, _ = await wires.connect(*served, lambda: port)
        else:
            transport, _ = await serial_asyncio_fast.create_serial_connection(
                asyncio.get_running_loop(), lambda: port, self.address, **self.serial_options
            )
        port.transport, self._port = transport, port
        if isinstance(transport, serial_asyncio_fast.SerialTransport):
            if transport.serial:
                # A tty keeps what arrived while nobody listened: it answers no question of
                # this connection (a late reply still on its way is `Link._drop_late_reply`'s).
                transport.serial.reset_input_buffer()
        else:
            keep_alive(transport)  # `socket://`: a dead peer noticed while the link is idle

    async def _next_arrival(self) -> bytes | None:
        assert self._port is not None
        port = self._port
        while not self._received:
            if port.ended.done():
                return None
            await port.arrival()
        return port.take(len(self._received))

    async def _close(self) -> None:
        port, self._port = self._port, None
        if port is None or port.transport is None:
            return
        transport = port.transport
        if not transport.is_closing():
            # What the port holds that the event loop has not read yet (a loaded machine).
            self._received += read_waiting(transport, self._limit)
            transport.abort()
        # pyserial-asyncio-fast closes the port in a background task: wait for it, so that a
        # reconnect finds the port free and no task outlives the link.
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await port.ended
        except TimeoutError:
            log.debug("%s at %s: the port did not close in time", self.tool, self.address)

    def _is_open(self) -> bool:
        return (
            self._port is not None
            and self._port.transport is not None
            and not self._port.transport.is_closing()
            and not self._port.ended.done()
        )

    async def _query(self, command: str) -> bytes:
        self._send(command)
        return await self._read(command)

    async def _read(self, command: str) -> bytes:
        assert self._port is not None
        port = self._port
        self._reply_so_far = self._received
        while (end := self._received.find(self._separator, 0, self._limit)) < 0:
            if len(self._received) >= self._limit:
                # The rest of that line may still come: start afresh on the next exchange.
                await self._drop(by_link=True)
                raise self._too_long(command)
            if port.ended.done() or (port.transport and port.transport.is_closing()):
                partial = bytes(self._received)
                raise ConnectionResetError(
                    f"end of file after {partial!r}" if partial else "end of file"
                )
            await port.arrival()
        return port.take(end + len(self._separator))

    async def _write(self, command: str) -> None:
        self._send(command)

    def _send(self, command: str) -> None:
        """Write `command` (`_write`'s work, for `_query`, which awaits nothing of it)."""
        assert self._port is not None
        assert self._port.transport is not None
        self._port.transport.write(self._encode(command))
