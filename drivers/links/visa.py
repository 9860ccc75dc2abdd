"""A VISA link: SCPI and other line protocols through PyVISA with the pure-Python pyvisa-py backend.

Addresses are VISA resource names: `TCPIP0::HOST::PORT::SOCKET` (a raw socket port),
`ASRL/dev/ttyUSB0::INSTR` (a serial port, a pty works too), and whatever else the backend opens
(`TCPIP0::HOST::INSTR` over VXI-11, `USB0::...`, `GPIB0::...` with the matching backend).

PyVISA blocks, so every call runs in one worker thread that belongs to the link (measured
faster than `asyncio.to_thread`, see `bench/links.py`, and it orders a close after a running
read, so a resource is never closed under a thread still using it). The VISA timeout is set a
little below the link's own timeout: the worker returns with a VISA timeout before the link's
wall-clock timeout fires.

pyvisa-py does not notice a socket peer that closed cleanly (it reads nothing until its
timeout); after a VISA timeout the link looks at the socket and reports a closed peer as
`ConnectionLost` rather than `ToolTimeout`. A peer that resets the connection is reported at
once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError
from pyvisa.resources import MessageBasedResource

from ..errors import ProtocolError
from .base import TextLink

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How much earlier than the link's timeout the VISA timeout fires (at most), in seconds.
_VISA_TIMEOUT_LEAD_S = 0.05


class VisaLink(TextLink):
    """One VISA session to one instrument, exchanging terminated lines of text.

    `visa_library` selects the PyVISA backend (`"@py"`, pyvisa-py, by default); `baudrate`
    applies to `ASRL` resources. Other options are the `TextLink`'s (terminations, encoding)
    and the `Link`'s (`tool`, `timeout_s`, `connect_timeout_s`, `reconnect`, `clock`).
    """

    def __init__(
        self,
        address: str,
        *,
        visa_library: str = "@py",
        baudrate: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(address, **options)
        self.visa_library = visa_library
        self.baudrate = baudrate
        lead_s = min(_VISA_TIMEOUT_LEAD_S, self.timeout_s / 10)
        self.visa_timeout_ms = max(1, round((self.timeout_s - lead_s) * 1000))
        self._resource: MessageBasedResource | None = None
        self._worker: ThreadPoolExecutor | None = None

    # ---- the worker thread ----------------------------------------------------------------

    async def _in_worker(self, function: Callable[..., T], *args: object) -> T:
        assert self._worker is not None
        return await asyncio.get_running_loop().run_in_executor(self._worker, function, *args)

    def _open_resource(self) -> MessageBasedResource:
        manager = pyvisa.ResourceManager(self.visa_library)
        try:
            resource = manager.open_resource(
                self.address,
                read_termination=self.read_termination,
                write_termination=self.write_termination,
                timeout=self.visa_timeout_ms,
                open_timeout=round(self.connect_timeout_s * 1000),
            )
        except Exception as error:
            # Whatever the backend raises here (VisaIOError, OSError, or a bare Exception
            # from pyvisa-py's socket connect) means the same: the tool cannot be reached.
            raise ConnectionError(str(error) or repr(error)) from error
        if not isinstance(resource, MessageBasedResource):
            resource.close()
            raise ValueError(f"{self.address} is not a message-based VISA resource")
        if self.baudrate is not None and resource.interface_type == constants.InterfaceType.asrl:
            resource.baud_rate = self.baudrate  # type: ignore[attr-defined]
        sock = _socket_of(resource)
        if sock is not None:
            # pyvisa-py reports a refused connect as opened; the socket knows better.
            if error_number := sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                resource.close()
                raise ConnectionRefusedError(error_number, f"cannot connect to {self.address}")
            # A command is one small segment followed by a wait for its answer: Nagle's
            # algorithm would hold each one back for tens of milliseconds.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Read up to the termination even when the reply arrives in several segments.
            resource.set_visa_attribute(constants.ResourceAttribute.suppress_end_enabled, True)
        return resource

    def _exchange_blocking(self, data: bytes, reply: bool) -> bytes:
        resource = self._resource
        if resource is None:
            raise ConnectionResetError("VISA session closed")
        try:
            resource.write_raw(data)
            return resource.read_raw() if reply else b""
        except VisaIOError as error:
            if error.error_code != constants.StatusCode.error_timeout:
                raise ConnectionError(str(error)) from error
            if _peer_closed(resource):
                raise ConnectionResetError("the tool closed the connection") from error
            raise TimeoutError(str(error)) from error

    # ---- Link -----------------------------------------------------------------------------

    async def _open(self) -> None:
        await self._close()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"visa {self.tool}")
        self._resource = await self._in_worker(self._open_resource)

    async def _close(self) -> None:
        worker, self._worker = self._worker, None
        resource, self._resource = self._resource, None
        if worker is None:
            return
        if resource is not None:
            # Queued behind a read still running in the worker: never closed under it.
            closing = asyncio.get_running_loop().run_in_executor(worker, resource.close)
            try:
                async with asyncio.timeout(self.timeout_s + 1.0):
                    await closing
            except Exception as error:
                log.warning(
                    "%s at %s: closing the VISA session: %r", self.tool, self.address, error
                )
        worker.shutdown(wait=False)

    async def _query(self, command: str) -> str:
        data = self._encode(command)
        raw = await self._in_worker(self._exchange_blocking, data, True)
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as error:
            raise ProtocolError(
                self.tool, self.address, command, f"undecodable reply {raw!r} ({error.reason})"
            ) from None
        if not text.endswith(self.read_termination):
            raise ProtocolError(self.tool, self.address, command, f"unterminated reply {raw!r}")
        return text[: len(text) - len(self.read_termination)]

    async def _write(self, command: str) -> None:
        data = self._encode(command)
        await self._in_worker(self._exchange_blocking, data, False)

    def _encode(self, command: str) -> bytes:
        try:
            return (command + self.write_termination).encode(self.encoding)
        except UnicodeEncodeError as error:
            raise ProtocolError(
                self.tool, self.address, command, f"cannot encode as {self.encoding}"
            ) from error


def _socket_of(resource: MessageBasedResource) -> socket.socket | None:
    """The TCP socket under a pyvisa-py `::SOCKET` session, or None for anything else."""
    if resource.resource_name.upper().endswith("::SOCKET"):
        sessions = getattr(resource.visalib, "sessions", {})
        sock = getattr(sessions.get(resource.session), "interface", None)
        if isinstance(sock, socket.socket):
            return sock
    return None


def _peer_closed(resource: MessageBasedResource) -> bool:
    """Whether the peer of a pyvisa-py socket session has closed its end (non-blocking)."""
    sock = _socket_of(resource)
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
