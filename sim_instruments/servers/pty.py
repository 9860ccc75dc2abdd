"""Simulated serial tools on pseudo-terminals: a real `/dev/pts/N` that any serial client opens.

`PtyToolServer` serves a `LineHandler` on the master end of a pty; the client opens the slave
path as its serial port. `NullModem` bridges two ptys in-process (what `socat pty,raw pty,raw`
does), for a server that must itself open a serial port by name (pymodbus's RTU server) on one
end while the client opens the other.

Both keep their own slave descriptor open, so the master never reads EIO while no client is
attached, and a client that closes and reopens the port finds the tool still there. `stop()`
closes the master: an attached client's next read fails at once, as when a cable is pulled.
"""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import Callable
from typing import Literal

from packline.clock import Clock

from .base import LineHandler, ToolServer, cancel_and_wait, log, reader_limit, serve_lines

AddressForm = Literal["serial", "visa"]


class PtyEnd:
    """One pseudo-terminal in raw mode, its master end driven by the running loop."""

    def __init__(self, on_data: Callable[[bytes], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        #: The slave path a serial client opens, e.g. `/dev/pts/5`.
        self.path = os.ttyname(self._slave)
        self._on_data = on_data
        self._pending = b""
        self._loop.add_reader(self.master, self._readable)

    def fileno(self) -> int:
        """The master end's descriptor (a checking clock counts its unread bytes)."""
        return self.master

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as error:
            log.warning("%s: read failed (%r); closing", self.path, error)
            self.close()
            return
        if data:
            self._on_data(data)

    def write(self, data: bytes) -> None:
        """Queue `data` for the client; what the pty cannot take now is sent when it can."""
        if self.master < 0:
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        try:
            sent = os.write(self.master, self._pending)
        except BlockingIOError:
            sent = 0
        except OSError as error:
            log.warning("%s: write failed (%r); dropping output", self.path, error)
            sent = len(self._pending)
        self._pending = self._pending[sent:]
        if self._pending:
            self._loop.add_writer(self.master, self._flush)
        else:
            self._loop.remove_writer(self.master)

    def close(self) -> None:
        """Close both ends; a client that has the slave open sees the line hang up."""
        if self.master < 0:
            return
        self._loop.remove_reader(self.master)
        self._loop.remove_writer(self.master)
        os.close(self.master)
        os.close(self._slave)
        self.master = -1


class PtyToolServer(ToolServer):
    """Serve a `LineHandler` on a pseudo-terminal, one handler call per received line.

    `address_form="serial"` (the default) gives the slave path `/dev/pts/N` for a `SerialLink`;
    `"visa"` gives `ASRL/dev/pts/N::INSTR` for a `VisaLink`.
    """

    def __init__(
        self,
        handler: LineHandler,
        *,
        address_form: AddressForm = "serial",
        read_termination: str = "\n",
        write_termination: str = "\n",
        encoding: str = "ascii",
        max_line_bytes: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        if address_form not in ("serial", "visa"):
            raise ValueError(f"address_form must be 'serial' or 'visa', got {address_form!r}")
        self.handler = handler
        self.address_form = address_form
        self.read_termination = read_termination
        self.write_termination = write_termination
        self.encoding = encoding
        self.max_line_bytes = max_line_bytes
        self._end: PtyEnd | None = None
        self._task: asyncio.Task[None] | None = None

    async def _start(self) -> str:
        reader = asyncio.StreamReader(**reader_limit(self.max_line_bytes))
        self._end = PtyEnd(reader.feed_data)
        self.clock.watch_served(self._end)
        self._task = asyncio.create_task(
            self._serve(reader, self._end), name=f"pty tool {self._end.path}"
        )
        if self.address_form == "visa":
            return f"ASRL{self._end.path}::INSTR"
        return self._end.path

    async def _serve(self, reader: asyncio.StreamReader, end: PtyEnd) -> None:
        try:
            await serve_lines(
                reader,
                end.write,
                self.handler,
                read_termination=self.read_termination,
                write_termination=self.write_termination,
                encoding=self.encoding,
                max_line_bytes=self.max_line_bytes,
            )
        except asyncio.LimitOverrunError as error:
            log.warning("%s: line too long, tool stops answering: %r", end.path, error)
        except Exception:
            log.exception("simulated tool on %s failed; hanging up", end.path)
            end.close()

    async def _stop(self) -> None:
        assert self._end is not None
        assert self._task is not None
        self._end.close()
        await cancel_and_wait([self._task])
        self._end = self._task = None


class NullModem:
    """Two ptys wired to each other in-process: bytes written on one end are read on the other.

    `ends` are the two slave paths. Use as `async with NullModem() as (server_end, client_end)`
    or call `open()` / `close()`.
    """

    def __init__(self) -> None:
        self._ends: tuple[PtyEnd, PtyEnd] | None = None

    @property
    def pty_ends(self) -> tuple[PtyEnd, PtyEnd]:
        """Both ends (their unread bytes are what a checking clock watches)."""
        if self._ends is None:
            raise RuntimeError("NullModem is not open")
        return self._ends

    @property
    def ends(self) -> tuple[str, str]:
        if self._ends is None:
            raise RuntimeError("NullModem is not open")
        return self._ends[0].path, self._ends[1].path

    def open(self) -> tuple[str, str]:
        """Create both ptys (needs a running loop) and return their slave paths."""
        if self._ends is not None:
            raise RuntimeError(f"NullModem already open on {self.ends}")
        first = PtyEnd(lambda data: second.write(data))
        second = PtyEnd(first.write)
        self._ends = (first, second)
        return self.ends

    def close(self) -> None:
        """Hang up both ends; safe to call twice."""
        if self._ends is not None:
            for end in self._ends:
                end.close()
            self._ends = None

    async def __aenter__(self) -> tuple[str, str]:
        return self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
