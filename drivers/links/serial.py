"""A serial link: ASCII line protocols on a serial port through pyserial-asyncio-fast.

Addresses are what pyserial opens: a device path (`/dev/ttyUSB0`, a pty `/dev/pts/5`) or a
pyserial URL: `socket://HOST:PORT` (a serial device server's raw TCP port) or
`rfc2217://HOST:PORT` (one that also carries the line settings).

Replies are framed by the read termination; a line that does not decode, or that grows past
`max_line_bytes` without a termination, is a `ProtocolError` (raised as soon as that many bytes
are in, so a flooding tool costs at most `max_line_bytes` of memory). The link's `timeout_s`
bounds the whole reply, however slowly its bytes trickle in. End of file from the port (a
socket peer closed, a pty hung up) is a lost connection.
"""

from __future__ import annotations

import asyncio
import logging
import termios
from typing import Any, TypedDict

import serial
import serial_asyncio_fast

from .base import check_line_settings
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
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        #: What arrived and is not yet part of a reply returned (a reply's start, or a line
        #: that came after the one asked for).
        self._received = bytearray()

    @property
    def holds_replies(self) -> bool:
        """A serial device server's TCP connection is dropped and made anew; a tty is not."""
        return self.address.startswith(("socket://", "rfc2217://"))

    async def _open(self) -> None:
        await self._close()
        self._received = bytearray()
        self._reader, self._writer = await serial_asyncio_fast.open_serial_connection(
            url=self.address, limit=self.max_line_bytes, **self.serial_options
        )
        transport = self._writer.transport
        if isinstance(transport, serial_asyncio_fast.SerialTransport) and transport.serial:
            # A tty keeps what arrived while nobody listened: a late reply must not answer
            # the first question of this connection. (`socket://` is a fresh TCP connection.)
            transport.serial.reset_input_buffer()

    async def _close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is None:
            return
        if not writer.is_closing():
            writer.transport.abort()
        # pyserial-asyncio-fast closes the port in a background task: wait for it, so that a
        # reconnect finds the port free and no task outlives the link.
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                await writer.wait_closed()
        except Exception as error:  # the error that closed it, already reported
            log.debug("%s at %s: closed after %r", self.tool, self.address, error)

    def _is_open(self) -> bool:
        return (
            self._reader is not None
            and not self._reader.at_eof()
            and self._writer is not None
            and not self._writer.is_closing()
        )

    async def _query(self, command: str) -> bytes:
        await self._write(command)
        return await self._read(command)

    async def _read(self, command: str) -> bytes:
        assert self._reader is not None
        self._reply_so_far = self._received
        # The whole reply may be `max_line_bytes`, then the separator.
        limit = self.max_line_bytes + len(self._separator)
        while (end := self._received.find(self._separator)) < 0:
            if len(self._received) >= limit:
                # The rest of that line may still come: start afresh on the next exchange.
                await self._drop(by_link=True)
                raise self._too_long(command)
            chunk = await self._reader.read(limit - len(self._received))
            if not chunk:
                partial = bytes(self._received)
                raise ConnectionResetError(
                    f"end of file after {partial!r}" if partial else "end of file"
                )
            self._received += chunk
        end += len(self._separator)
        reply = bytes(self._received[:end])
        del self._received[:end]
        return reply

    async def _write(self, command: str) -> None:
        assert self._writer is not None
        self._writer.write(self._encode(command))
        await self._writer.drain()
