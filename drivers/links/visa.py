"""A VISA link: SCPI and other line protocols through PyVISA with the pure-Python pyvisa-py backend.

Addresses are VISA resource names: `TCPIP0::HOST::PORT::SOCKET` (a raw socket port),
`ASRL/dev/ttyUSB0::INSTR` (a serial port, a pty works too), and whatever else the backend opens
(`TCPIP0::HOST::INSTR` over VXI-11, `USB0::...`, `GPIB0::...` with the matching backend).

PyVISA blocks, so every call runs in one worker thread that belongs to the link (measured
faster than `asyncio.to_thread`, see `bench/links.py`); it orders a close after a running read,
so a resource is never closed under a thread still using it. It is a daemon thread: a reader
that a broken backend keeps stuck can never hold the process open.

PyVISA's own `read_raw` reads until the termination however long that takes and however much
arrives (pyvisa-py's socket timeout only counts silence between chunks): a tool that floods or
trickles bytes without a newline held it forever. The link reads the reply itself, chunk by
chunk in slices of at most `_READ_SLICE_S`, and stops at `max_line_bytes` (`ProtocolError`) or
at its deadline, the VISA timeout, a little below the link's `timeout_s` (a silent tool is
`ToolTimeout`, one that began a reply and did not finish it a garbled or incomplete reply). The
deadline counts from the start of the exchange, as the link's timeout does, not from when the
worker thread got to the read: on a loaded machine that comes late, and the link's timeout
would then cancel the read before it ended on its own.
Closing the link (which a timed-out exchange does) stops the reader between two slices and shuts
a socket down under it, so a read stuck inside pyvisa-py returns at once, with what it had read
(`_read_chunk`, also when the connection resets under it); `close()` waits for the worker thread
to end, at most `_CLOSE_WAIT_S`.

pyvisa-py does not notice a socket peer that closed cleanly (it reads nothing until its
timeout); between slices the link looks at the socket and reports a closed peer as
`ConnectionLost`, within one slice. A peer that resets the connection is reported at once.
pyvisa-py does not notice either that a connection ended while the link was idle (the peer
closed or reset it, or keepalive gave it up): the link looks at the socket before each
exchange (`_is_open`), so that the exchange reconnects first, as every other link does,
instead of failing with `ConnectionLost` on a connection already gone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import logging
import math
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError
from pyvisa.resources import MessageBasedResource

from ..errors import ProtocolError
from .base import check_line_settings, read_waiting
from .keepalive import keep_alive
from .text import TextLink

T = TypeVar("T")

log = logging.getLogger(__name__)

#: How much earlier than the link's timeout the VISA timeout fires (at most), in seconds.
_VISA_TIMEOUT_LEAD_S = 0.05
#: The longest one call into the VISA library waits: the reader looks at its deadline, at
#: `close()` and at a peer that went away at least this often.
_READ_SLICE_S = 0.1
#: The most bytes one call into the VISA library asks for (pyvisa-py's socket chunk).
_CHUNK_BYTES = 4096
#: How long `close()` waits for the worker thread to end once the reader was told to stop.
_CLOSE_WAIT_S = 1.0

_Call = tuple[Callable[..., Any], tuple[object, ...], "concurrent.futures.Future[Any] | None"]


class _Worker:
    """One daemon thread that runs a link's blocking VISA calls, one after another."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            function, args, future = call
            if future is None:
                try:
                    function(*args)
                except Exception as error:
                    log.warning("%s: %r", self.thread.name, error)
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as error:  # handed over to the task that awaits it
                    future.set_exception(error)

    async def run(self, function: Callable[..., T], *args: object) -> T:
        """Run `function(*args)` in the thread, after the calls queued before it."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._calls.put((function, args, future))
        return await asyncio.wrap_future(future)

    def submit(self, function: Callable[..., object], *args: object) -> None:
        """Queue `function(*args)` without waiting for it; a failure is logged."""
        self._calls.put((function, args, None))

    async def stop(self, wait_s: float) -> bool:
        """End the thread once the queued calls have run; False if it still runs after
        `wait_s` (it is a daemon thread, so it cannot hold the process open)."""
        self._calls.put(None)
        deadline = time.monotonic() + wait_s
        while self.thread.is_alive():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.001)
        return True


class VisaLink(TextLink):
    """One VISA session to one instrument, exchanging terminated lines of text.

    `visa_library` selects the PyVISA backend (`"@py"`, pyvisa-py, by default); `baudrate`
    applies to `ASRL` resources. Other options are the `TextLink`'s (terminations, encoding,
    `max_line_bytes`) and the `Link`'s (`tool`, `timeout_s`, `connect_timeout_s`,
    `reconnect`, `read_retries`, `clock`).
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
        if visa_library != "@ivi" and (
            not visa_library.startswith("@")
            or importlib.util.find_spec(f"pyvisa_{visa_library[1:]}") is None
        ):
            raise ValueError(
                f"{self.tool} at {address}: visa_library {visa_library!r} is not an installed "
                "PyVISA backend ('@py' is pyvisa-py, '@ivi' a vendor's VISA)"
            )
        if baudrate is not None:
            check_line_settings(f"{self.tool} at {address}", baudrate)
        self.visa_library = visa_library
        self.baudrate = baudrate
        #: The deadline of one reply, counted from the start of its exchange.
        self.visa_timeout_ms = _a_little_below_ms(self.timeout_s)
        self._resource: MessageBasedResource | None = None
        #: The TCP socket under a `::SOCKET` session while it is open; None otherwise.
        self._socket: socket.socket | None = None
        self._worker: _Worker | None = None
        #: Set by `_close`: the reader stops between two slices (one per open session).
        self._stop_reading = threading.Event()
        #: The VISA timeout the session has now: one read slice, or the last bit of one.
        self._slice_ms = round(_READ_SLICE_S * 1000)

    @property
    def reopens_same_line(self) -> bool:
        """A `TCPIP` session's connection is made anew; an `ASRL` line is the same line."""
        return not self.address.upper().startswith("TCPIP")

    # ---- the worker thread ----------------------------------------------------------------

    async def _in_worker(self, function: Callable[..., T], *args: object) -> T:
        assert self._worker is not None
        return await self._worker.run(function, *args)

    def _open_resource(self, stop_reading: threading.Event) -> MessageBasedResource:
        manager = pyvisa.ResourceManager(self.visa_library)
        self._slice_ms = min(round(_READ_SLICE_S * 1000), self.visa_timeout_ms)
        try:
            resource = manager.open_resource(
                self.address,
                read_termination=self.read_termination,
                write_termination=self.write_termination,
                timeout=self._slice_ms,
                # Ends before the link's connect timeout: never an open left running.
                open_timeout=_a_little_below_ms(self.connect_timeout_s),
            )
        except Exception as error:
            # Whatever the backend raises here (VisaIOError, OSError, or a bare Exception
            # from pyvisa-py's socket connect) means the same: the tool cannot be reached.
            raise ConnectionError(str(error) or repr(error)) from error
        if not isinstance(resource, MessageBasedResource):
            resource.close()
            raise ValueError(f"{self.address} is not a message-based VISA resource")
        if stop_reading.is_set():
            # The link gave up on this connect while it ran: nobody will close it but us.
            resource.close()
            raise ConnectionAbortedError("closed while connecting")
        if resource.interface_type == constants.InterfaceType.asrl:
            if self.baudrate is not None:
                resource.baud_rate = self.baudrate  # type: ignore[attr-defined]
            # A tty keeps what arrived while nobody listened: it answers no question of this
            # session (a late reply still on its way is `Link._drop_late_reply`'s).
            resource.flush(constants.BufferOperation.discard_read_buffer)
        sock = _socket_of(resource)
        if sock is not None:
            # pyvisa-py reports a refused connect as opened; the socket knows better.
            if error_number := sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                resource.close()
                raise ConnectionRefusedError(error_number, f"cannot connect to {self.address}")
            # A command is one small segment followed by a wait for its answer: Nagle's
            # algorithm would hold each one back for tens of milliseconds.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # A dead peer noticed while the link is idle (pyvisa-py's own keepalive attribute
            # waits minutes before its first probe).
            keep_alive(sock)
            # Read up to the termination even when the reply arrives in several segments.
            resource.set_visa_attribute(constants.ResourceAttribute.suppress_end_enabled, True)
        return resource

    def _exchange_blocking(
        self,
        resource: MessageBasedResource,
        stop_reading: threading.Event,
        command: str,
        reply_deadline: float | None,
        written: bool = False,
    ) -> bytes:
        """Write `command` (unless it is `written` already), then read its reply until
        `reply_deadline` (`time.monotonic()`), or read nothing when it is None."""
        try:
            if not written:
                resource.write_raw(self._encode(command))
            if reply_deadline is None:
                return b""
            return self._read_reply(resource, stop_reading, command, reply_deadline)
        except VisaIOError as error:
            if error.error_code != constants.StatusCode.error_timeout:
                raise ConnectionError(str(error)) from error
            if _peer_closed(_socket_of(resource)):
                raise ConnectionResetError("the tool closed the connection") from error
            raise TimeoutError(str(error)) from error
        except TimeoutError as error:
            if error.errno is None:
                raise
            # The OS's ETIMEDOUT, which Python names TimeoutError and pyvisa-py passes on from
            # the socket: TCP gave the connection up (keepalive's probes went unanswered), not
            # the link's own timeout running out.
            raise ConnectionAbortedError(
                error.errno, f"the tool stopped answering TCP ({error.strerror})"
            ) from error

    def _read_reply(
        self,
        resource: MessageBasedResource,
        stop_reading: threading.Event,
        command: str,
        deadline: float,
    ) -> bytes:
        """One reply, its termination included, read slice by slice until `deadline`."""
        last_byte = self.read_termination.encode(self.encoding)[-1:]
        limit = self.max_line_bytes + len(self.read_termination.encode(self.encoding))
        reply = bytearray()
        self._reply_so_far = reply
        while not reply.endswith(last_byte):
            if len(reply) >= limit:
                raise self._too_long(command)
            remaining_s = deadline - time.monotonic()
            if remaining_s <= 0 or stop_reading.is_set():
                raise VisaIOError(constants.StatusCode.error_timeout)
            slice_ms = max(1, round(min(_READ_SLICE_S, remaining_s) * 1000))
            if slice_ms != self._slice_ms:
                resource.timeout = self._slice_ms = slice_ms
            chunk, timed_out = _read_chunk(resource, min(_CHUNK_BYTES, limit - len(reply)))
            reply += chunk
            if timed_out and _peer_closed(_socket_of(resource)):
                raise ConnectionResetError("the tool closed the connection")
        return bytes(reply)

    # ---- Link -----------------------------------------------------------------------------

    async def _open(self) -> None:
        await self._close()
        self._worker = _Worker(f"visa {self.tool} {self.address}")
        self._stop_reading = threading.Event()
        self._resource = await self._in_worker(self._open_resource, self._stop_reading)
        self._socket = _socket_of(self._resource)

    def _is_open(self) -> bool:
        """False once the tool closed or reset a `::SOCKET` connection, or TCP gave it up
        (keepalive), while the link was idle: pyvisa-py would not say so, and the exchange
        about to run would fail on it. Other resources are taken as open."""
        return not _peer_closed(self._socket)

    async def _next_arrival(self) -> bytes | None:
        assert self._resource is not None
        return await self._in_worker(self._read_arriving, self._resource, self._stop_reading)

    def _read_arriving(
        self, resource: MessageBasedResource, stop_reading: threading.Event
    ) -> bytes | None:
        """What one read slice gets (b"": nothing yet); None once the session is closing."""
        if stop_reading.is_set():
            return None
        return _read_chunk(resource, _CHUNK_BYTES)[0]

    async def _close(self) -> None:
        worker, self._worker = self._worker, None
        resource, self._resource = self._resource, None
        sock, self._socket = self._socket, None
        if worker is None:
            return
        # Whatever runs in the worker stops: the reader between two slices, a read stuck in
        # pyvisa-py (a trickle that never pauses) when its socket is shut down under it.
        self._stop_reading.set()
        # A reader starved of the CPU (a loaded machine) may not have read in time what the
        # tool sent: the bytes still waiting in the socket, peeked once the reader stopped
        # (queued behind it), complete the reply so far, or tell a reply that began from
        # silence. A shut-down socket still holds them.
        unread: list[bytes] = []
        if resource is not None:
            if sock is not None:
                with contextlib.suppress(OSError):  # not connected any more: nothing to stop
                    sock.shutdown(socket.SHUT_RDWR)
                worker.submit(lambda: unread.append(read_waiting(sock, _CHUNK_BYTES)))
            # Queued behind a read still running in the worker: never closed under it.
            worker.submit(resource.close)
        if not await worker.stop(_CLOSE_WAIT_S):
            log.warning(
                "%s at %s: the VISA reader did not stop within %g s; left to end on its own",
                self.tool,
                self.address,
                _CLOSE_WAIT_S,
            )
        if unread:
            self._reply_so_far = bytes(self._reply_so_far) + unread[0]

    async def _query(self, command: str) -> bytes:
        assert self._resource is not None
        # Counted here, where the link's timeout has just started.
        deadline = time.monotonic() + self.visa_timeout_ms / 1000
        try:
            return await self._in_worker(
                self._exchange_blocking, self._resource, self._stop_reading, command, deadline
            )
        except ProtocolError:
            # Too long: the rest of that line may still come, start afresh next time.
            await self._drop(by_link=True)
            raise

    async def _read(self, command: str) -> bytes:
        """A held reply: on a socket session, awaited on the event loop until its first bytes
        come, so that a virtual clock does not jump while they wait unread for the worker
        (the loop's selector sees them at once, the worker thread later), then read by the
        worker as a wire exchange (`clock.activity()`)."""
        assert self._resource is not None
        if self._socket is not None:
            await _readable(self._socket)
        try:
            # No deadline of its own: a held reply (`Link.exchange`) is bounded by the
            # exchange, which stops the reader by closing the session.
            with self.clock.activity():
                return await self._in_worker(
                    self._exchange_blocking,
                    self._resource,
                    self._stop_reading,
                    command,
                    math.inf,
                    True,
                )
        except ProtocolError:
            await self._drop(by_link=True)
            raise

    async def _write(self, command: str) -> None:
        assert self._resource is not None
        await self._in_worker(
            self._exchange_blocking, self._resource, self._stop_reading, command, None
        )


def _a_little_below_ms(timeout_s: float) -> int:
    """A VISA timeout in ms that fires before the link's `timeout_s` (at most 50 ms before)."""
    lead_s = min(_VISA_TIMEOUT_LEAD_S, timeout_s / 10)
    return max(1, round((timeout_s - lead_s) * 1000))


def _read_chunk(resource: MessageBasedResource, count: int) -> tuple[bytes, bool]:
    """Up to `count` bytes within the session's timeout, and whether that timeout ran out.

    pyvisa-py's session keeps what arrived before a timeout, where PyVISA's `read` raises and
    drops it; with another backend those bytes are lost and only the timeout is seen.
    """
    session = getattr(resource.visalib, "sessions", {}).get(resource.session)
    if session is None:
        try:
            with resource.ignore_warning(constants.StatusCode.success_max_count_read):
                data, _ = resource.visalib.read(resource.session, count)
        except VisaIOError as error:
            if error.error_code == constants.StatusCode.error_timeout:
                return b"", True
            raise
        return data, False
    try:
        data, status = session.read(count)
    except ConnectionError:
        # The connection ended under the read: the tool reset it, or the link shut the socket
        # down to stop a read a trickle kept going past the deadline (a reader starved of the
        # CPU meets the reset there). pyvisa-py raises and keeps what it had read of the reply
        # in its buffer: taken (up to `count`), as a read that ran out, so that the reply so
        # far has them and a reply that began is not told as silence. Any other OSError (the
        # OS's ETIMEDOUT: the tool stopped answering TCP) is told as it is.
        pending: bytearray = getattr(session, "_pending_buffer", bytearray())
        if not pending:
            raise
        data = bytes(pending[:count])
        del pending[:count]
        return data, True
    if status == constants.StatusCode.error_timeout:
        return data, True
    if status < 0:
        raise VisaIOError(status)
    return data, False


async def _readable(sock: socket.socket) -> None:
    """Until `sock` has bytes to read (or its peer closed it), seen by the event loop."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def arrived() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock, arrived)
    try:
        await ready
    finally:
        loop.remove_reader(sock)


def _socket_of(resource: MessageBasedResource) -> socket.socket | None:
    """The TCP socket under a pyvisa-py `::SOCKET` session, or None for anything else."""
    if resource.resource_name.upper().endswith("::SOCKET"):
        sessions = getattr(resource.visalib, "sessions", {})
        sock = getattr(sessions.get(resource.session), "interface", None)
        if isinstance(sock, socket.socket):
            return sock
    return None


def _peer_closed(sock: socket.socket | None) -> bool:
    """Whether the connection of `sock`, the socket of a pyvisa-py session, has ended: its
    peer closed or reset it, or TCP gave it up (without waiting; False for no socket)."""
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
