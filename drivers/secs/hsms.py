"""The HSMS-SS link (SEMI E37, E37.1) on asyncio: one TCP connection, several transactions open.

HSMS carries SECS-II messages over TCP. Every message is a 4-byte length, a 10-byte header
(session id, stream and W-bit or control status, function or reason, PType, SType, and the
system bytes that pair a reply with its request) and the SECS-II body. Control messages
(SType 1-9) select and deselect the session, test the link, reject what cannot be handled and
separate (end) the session.

`HsmsLink` is either side: `ACTIVE` (the host: it connects and selects) or `PASSIVE` (the
equipment: it listens and is selected). Unlike the lock-step links of `drivers/links/`, many
transactions may be open at once: each request waits for the reply that carries its system
bytes, within T3. Primary messages from the peer go to the `on_message` handler, each in its
own task; its return value is the reply.

The timers run on the wall clock (the event loop's monotonic time), never on a simulated
process clock: they guard the wire.

- T3 reply timeout: a request without its reply fails with `ToolTimeout`; a late reply is
  dropped. The connection stays up (E37: T3 ends the transaction, not the link).
- T5 connect separation: the least time between two connects of the active side.
- T6 control transaction timeout: select, deselect and linktest without a response fail with
  `ToolTimeout`, and the connection is dropped (E37: a communication failure).
- T7 not-selected timeout: a connection not selected within T7 is dropped.
- T8 network inter-character timeout: a message whose next bytes do not come within T8 is
  a communication failure; the connection is dropped.

After a lost connection the active side reconnects on the next request, by its
`ReconnectPolicy`, as every link does; the passive side keeps listening. Every message, data
and control, is written to the `packline.wire` logger in SML.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum
from typing import Any

from packline.clock import Clock, WallClock

from ..errors import ConnectionLost, ProtocolError, ToolConnectionError, ToolError, ToolTimeout
from ..links.base import MAX_TIMEOUT_S, ReconnectPolicy, is_timeout_s, wire_log
from .items import B as binary
from .items import SecsDecodeError, decode, encode
from .messages import S9_ERRORS, SecsMessage

log = logging.getLogger(__name__)

#: The largest message the link accepts; a longer length prefix is taken as a broken peer
#: (E37 allows up to 4 GiB, no tool sends that much in one message).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: The 4-byte length and the 10-byte header, big-endian.
_PREFIX = struct.Struct(">IHBBBBI")
_HEADER = struct.Struct(">HBBBBI")
HEADER_BYTES = _HEADER.size

#: The session id of control messages (E37.1: all ones).
CONTROL_SESSION = 0xFFFF

#: A handler of primary messages from the peer: returns the reply, or None for none.
MessageHandler = Callable[[SecsMessage], Awaitable[SecsMessage | None]]


class ConnectMode(StrEnum):
    """Who opens the TCP connection: the active side (host) or the passive one (equipment)."""

    ACTIVE = "active"
    PASSIVE = "passive"


class LinkState(StrEnum):
    """The HSMS connection states (E37 section 5)."""

    NOT_CONNECTED = "not connected"
    NOT_SELECTED = "not selected"
    SELECTED = "selected"


class SType(IntEnum):
    """HSMS session types (header byte 9)."""

    DATA = 0
    SELECT_REQ = 1
    SELECT_RSP = 2
    DESELECT_REQ = 3
    DESELECT_RSP = 4
    LINKTEST_REQ = 5
    LINKTEST_RSP = 6
    REJECT_REQ = 7
    SEPARATE_REQ = 9


#: Reject.req reason codes (E37 section 8.3.21).
REJECT_REASONS: dict[int, str] = {
    1: "session type not supported",
    2: "presentation type not supported",
    3: "transaction not open",
    4: "entity not selected",
}

#: Select.rsp status codes (E37 section 8.3.5; 1-3 are E37's, others the peer's own).
SELECT_STATUS: dict[int, str] = {
    0: "selected",
    1: "communication already active",
    2: "connection not ready",
    3: "connection exhausted",
}

#: Deselect.rsp status codes.
DESELECT_STATUS: dict[int, str] = {0: "deselected", 1: "communication not established", 2: "busy"}

_CONTROL_NAMES = {stype: stype.name.lower().replace("_", ".") for stype in SType}


@dataclass(frozen=True)
class HsmsTimers:
    """The HSMS timers in seconds (defaults: E37's typical values) and the linktest period.

    `linktest_s` is the period of the link test while selected; None sends none.
    """

    t3_s: float = 45.0
    t5_s: float = 10.0
    t6_s: float = 5.0
    t7_s: float = 10.0
    t8_s: float = 5.0
    linktest_s: float | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "linktest_s":
                continue
            if not is_timeout_s(value):
                raise ValueError(
                    f"HsmsTimers.{field.name} must be a positive number of seconds "
                    f"(at most {MAX_TIMEOUT_S:g}), got {value!r}"
                )


class _Connection(asyncio.Protocol):
    """The asyncio side of one TCP connection: it hands bytes and the end to its link."""

    def __init__(self, link: HsmsLink) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.link._connection_made(self)

    def data_received(self, data: bytes) -> None:
        self.link._data_received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link._connection_lost(self, exc)


class HsmsLink:
    """One HSMS-SS session on TCP, active (host) or passive (equipment).

    Active: `connect()` opens the connection and selects within T6. Passive: `connect()`
    starts listening (port 0 picks a free port, then `port` is the real one) and
    `wait_selected()` waits for a host. `request()` sends a primary message with the W-bit
    and returns its reply; `send()` sends a message that expects none; `close()` separates,
    stops listening and leaves no task behind.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5000,
        *,
        mode: ConnectMode | str = ConnectMode.ACTIVE,
        session_id: int = 0,
        tool: str = "tool",
        timers: HsmsTimers | Mapping[str, float | None] = HsmsTimers(),
        connect_timeout_s: float = 5.0,
        reconnect: ReconnectPolicy | Mapping[str, float] | None = None,
        clock: Clock | None = None,
        on_message: MessageHandler | None = None,
    ) -> None:
        address = f"hsms://{host}:{port}"
        try:
            self.mode = ConnectMode(mode)
        except ValueError:
            raise ValueError(
                f"{tool} at {address}: mode must be 'active' or 'passive', got {mode!r}"
            ) from None
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"{tool} at {address}: port must be 0..65535, got {port!r}")
        if isinstance(session_id, bool) or not isinstance(session_id, int):
            raise ValueError(f"{tool} at {address}: session_id must be an integer")
        if not 0 <= session_id < CONTROL_SESSION:
            raise ValueError(
                f"{tool} at {address}: session_id must be 0..{CONTROL_SESSION - 1}, "
                f"got {session_id}"
            )
        if (
            isinstance(connect_timeout_s, bool)
            or not isinstance(connect_timeout_s, int | float)
            or not math.isfinite(connect_timeout_s)
            or not 0 < connect_timeout_s <= MAX_TIMEOUT_S
        ):
            raise ValueError(
                f"{tool} at {address}: connect_timeout_s must be a positive number of seconds "
                f"(at most {MAX_TIMEOUT_S:g}), got {connect_timeout_s!r}"
            )
        # A station file spells the timers and the policy as mappings; the classes check each
        # value's type.
        try:
            if isinstance(timers, HsmsTimers):
                self.timers = timers
            else:
                spelled_timers: Mapping[str, Any] = timers
                self.timers = HsmsTimers(**spelled_timers)
            if reconnect is None:
                reconnect = ReconnectPolicy()
            elif not isinstance(reconnect, ReconnectPolicy):
                spelled_policy: Mapping[str, Any] = reconnect
                reconnect = ReconnectPolicy(**spelled_policy)
            self.reconnect = reconnect
        except (TypeError, ValueError) as error:
            raise ValueError(f"{tool} at {address}: {error}") from None
        self.host = host
        self.port = port
        self.session_id = session_id
        self.tool = tool
        self.connect_timeout_s = float(connect_timeout_s)
        self.clock: Clock = clock or WallClock()
        self.on_message = on_message
        #: Called with the reason whenever an established connection ends (lost, dropped,
        #: separated): a user waiting for a pushed message learns that none will come.
        self.on_disconnected: Callable[[str], None] | None = None
        self.state = LinkState.NOT_CONNECTED
        self._connection: _Connection | None = None
        self._server: asyncio.Server | None = None
        self._buffer = bytearray()
        self._system_bytes = 0
        #: Open transactions by system bytes: the request's name and the future of its reply.
        self._transactions: dict[int, tuple[str, asyncio.Future[SecsMessage]]] = {}
        self._control: dict[int, tuple[SType, asyncio.Future[int]]] = {}
        self._selection_waiters: list[asyncio.Future[None]] = []
        self._t7_timer: asyncio.TimerHandle | None = None
        self._t8_timer: asyncio.TimerHandle | None = None
        self._linktest_task: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._connect_lock = asyncio.Lock()
        self._drop_reason: str | None = None
        self._last_connect_at: float | None = None
        self._ever_connected = False
        self._closed = False

    @property
    def address(self) -> str:
        """`hsms://host:port` (the bound port once a passive link listens)."""
        return f"hsms://{self.host}:{self.port}"

    @property
    def selected(self) -> bool:
        return self.state is LinkState.SELECTED

    # --- public API ------------------------------------------------------------------------

    async def connect(self) -> None:
        """Active: connect and select (within `connect_timeout_s` and T6). Passive: listen."""
        self._closed = False
        with self.clock.activity():
            if self.mode is ConnectMode.PASSIVE:
                await self._listen()
            else:
                async with self._connect_lock:
                    await self._open_and_select("connect")
        self._ever_connected = True

    async def wait_selected(self, timeout_s: float) -> None:
        """Wait until the session is selected; `ToolTimeout` after `timeout_s` or at T7."""
        if self.selected:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._selection_waiters.append(waiter)
        try:
            with self.clock.activity():
                async with asyncio.timeout(timeout_s):
                    await waiter
        except TimeoutError:
            raise ToolTimeout(
                self.tool, self.address, "wait selected", f"not selected within {timeout_s:g} s"
            ) from None
        finally:
            if waiter in self._selection_waiters:
                self._selection_waiters.remove(waiter)

    async def request(self, message: SecsMessage) -> SecsMessage:
        """Send primary `message` with the W-bit and return its reply, within T3.

        Errors: `ToolTimeout` (T3), `ConnectionLost` (the connection ended while waiting),
        `ProtocolError` (the peer rejected it, answered with an S9 error or an abort, or sent a
        reply of another stream or function).
        """
        if not message.reply_expected:
            raise ValueError(f"{message.name}: request() needs the W-bit; use send()")
        action = message.name
        with self.clock.activity():
            await self._ensure_selected(action)
            system = self._next_system_bytes()
            reply_future: asyncio.Future[SecsMessage] = asyncio.get_running_loop().create_future()
            self._transactions[system] = (action, reply_future)
            try:
                self._send_data(message, system, self.session_id, action)
                async with asyncio.timeout(self.timers.t3_s):
                    reply = await reply_future
            except TimeoutError:
                raise ToolTimeout(
                    self.tool,
                    self.address,
                    action,
                    f"no reply within T3 = {self.timers.t3_s:g} s",
                ) from None
            finally:
                self._transactions.pop(system, None)
        if reply.function == 0:
            raise ProtocolError(
                self.tool, self.address, action, f"the peer aborted the transaction ({reply.name})"
            )
        if reply.stream != message.stream or reply.function != message.function + 1:
            raise ProtocolError(
                self.tool,
                self.address,
                action,
                f"the reply is {reply.name}, expected S{message.stream}F{message.function + 1}",
            )
        return reply

    async def send(self, message: SecsMessage) -> None:
        """Send `message` that expects no reply (no W-bit), as a new transaction."""
        if message.reply_expected:
            raise ValueError(f"{message.name}: send() takes no W-bit; use request()")
        with self.clock.activity():
            await self._ensure_selected(message.name)
            self._send_data(message, self._next_system_bytes(), self.session_id, message.name)

    async def linktest(self) -> None:
        """Test the link: linktest.req answered within T6, else the connection is dropped."""
        await self._control_transaction(SType.LINKTEST_REQ, "linktest")

    async def deselect(self) -> None:
        """End the selected session, keeping the TCP connection (E37 deselect)."""
        status = await self._control_transaction(SType.DESELECT_REQ, "deselect")
        if status:
            raise ProtocolError(
                self.tool,
                self.address,
                "deselect",
                f"refused: {DESELECT_STATUS.get(status, 'unknown status')} (status {status})",
            )
        self._not_selected("deselected by this side")

    async def separate(self) -> None:
        """End the session and drop the connection (E37 separate; no reply is sent to it)."""
        if self._connection is not None and self.state is LinkState.SELECTED:
            self._send_control(SType.SEPARATE_REQ, self._next_system_bytes())
        self._drop("separated by this side")

    async def close(self) -> None:
        """Separate, stop listening and end every task; safe twice or before connect."""
        self._closed = True
        await self.separate()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        tasks = [task for task in (self._linktest_task, *self._handler_tasks) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._linktest_task = None

    async def __aenter__(self) -> HsmsLink:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- connecting ------------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: _Connection(self), self.host, self.port)
        except OSError as error:
            raise ToolConnectionError(
                self.tool, self.address, "listen", f"cannot listen ({error})"
            ) from error
        self.port = self._server.sockets[0].getsockname()[1]

    async def _open_and_select(self, action: str) -> None:
        """Connect (after T5 since the last connect) and select, under the connect lock."""
        if self.state is LinkState.SELECTED:
            return
        loop = asyncio.get_running_loop()
        if self._connection is None:
            if self._last_connect_at is not None:
                wait_s = self._last_connect_at + self.timers.t5_s - loop.time()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
            self._last_connect_at = loop.time()
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    await loop.create_connection(lambda: _Connection(self), self.host, self.port)
            except TimeoutError:
                raise ToolConnectionError(
                    self.tool,
                    self.address,
                    action,
                    f"no connection within {self.connect_timeout_s:g} s",
                ) from None
            except OSError as error:
                raise ToolConnectionError(
                    self.tool, self.address, action, f"cannot connect ({error})"
                ) from error
        status = await self._control_transaction(SType.SELECT_REQ, action)
        if status not in (0, 1):
            self._drop("select refused")
            raise ToolConnectionError(
                self.tool,
                self.address,
                action,
                f"select refused: {SELECT_STATUS.get(status, 'unknown status')} (status {status})",
            )
        self._selected()

    async def _ensure_selected(self, action: str) -> None:
        if self.state is LinkState.SELECTED:
            return
        if self.mode is ConnectMode.PASSIVE:
            raise ToolConnectionError(
                self.tool, self.address, action, f"not selected ({self.state}): no host selected"
            )
        if not self._ever_connected or self._closed:
            raise ToolConnectionError(self.tool, self.address, action, "not connected")
        async with self._connect_lock:
            last: ToolError | None = None
            for attempt in range(self.reconnect.attempts):
                if self.selected:  # another caller may have reconnected meanwhile
                    return
                if attempt:
                    await asyncio.sleep(self.reconnect.delay_s)
                try:
                    await self._open_and_select(action)
                    return
                except (ToolConnectionError, ToolTimeout) as error:
                    last = error
            if self.selected:
                return
            raise ConnectionLost(
                self.tool,
                self.address,
                action,
                f"{self._drop_reason or 'not selected'}; "
                f"{self.reconnect.attempts} reconnect attempt(s) failed"
                + (f": {last.detail}" if last else ""),
            )

    # --- sending ---------------------------------------------------------------------------

    def _next_system_bytes(self) -> int:
        self._system_bytes = (self._system_bytes + 1) & 0xFFFFFFFF
        return self._system_bytes

    def _write(self, frame: bytes, action: str) -> None:
        connection = self._connection
        if connection is None or connection.transport is None or connection.transport.is_closing():
            raise ConnectionLost(
                self.tool, self.address, action, self._drop_reason or "not connected"
            )
        connection.transport.write(frame)

    def _send_data(self, message: SecsMessage, system: int, session: int, action: str) -> None:
        body = b"" if message.body is None else encode(message.body)
        frame = _PREFIX.pack(
            HEADER_BYTES + len(body),
            session,
            message.stream | (0x80 if message.reply_expected else 0),
            message.function,
            0,
            SType.DATA,
            system,
        )
        self._write(frame + body, action)
        self._log_data(">", message, system)

    def _send_control(self, stype: SType, system: int, byte2: int = 0, byte3: int = 0) -> None:
        frame = _PREFIX.pack(HEADER_BYTES, CONTROL_SESSION, byte2, byte3, 0, stype, system)
        self._write(frame, _CONTROL_NAMES[stype])
        self._log_control(">", stype, system, byte2, byte3)

    async def _control_transaction(self, stype: SType, action: str) -> int:
        """Send a control request and return the status of its response, within T6."""
        system = self._next_system_bytes()
        response: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._control[system] = (stype, response)
        try:
            self._send_control(stype, system)
            with self.clock.activity():
                async with asyncio.timeout(self.timers.t6_s):
                    return await response
        except TimeoutError:
            detail = f"no {_CONTROL_NAMES[SType(stype + 1)]} within T6 = {self.timers.t6_s:g} s"
            self._drop(detail)
            raise ToolTimeout(self.tool, self.address, action, detail) from None
        finally:
            self._control.pop(system, None)

    def _log_data(self, direction: str, message: SecsMessage, system: int) -> None:
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug(
                "%s %s %s [%08x] %s", self.tool, self.address, direction, system, message.sml()
            )

    def _log_control(self, direction: str, stype: int, system: int, byte2: int, byte3: int) -> None:
        if wire_log.isEnabledFor(logging.DEBUG):
            name = _CONTROL_NAMES.get(stype, f"stype {stype}")  # type: ignore[call-overload]
            wire_log.debug(
                "%s %s %s [%08x] %s (%d, %d)",
                self.tool,
                self.address,
                direction,
                system,
                name,
                byte2,
                byte3,
            )

    # --- state -----------------------------------------------------------------------------

    def _selected(self) -> None:
        self.state = LinkState.SELECTED
        self._cancel_timer("_t7_timer")
        for waiter in self._selection_waiters:
            if not waiter.done():
                waiter.set_result(None)
        if self.timers.linktest_s is not None and (
            self._linktest_task is None or self._linktest_task.done()
        ):
            self._linktest_task = asyncio.get_running_loop().create_task(
                self._periodic_linktest(), name=f"hsms linktest {self.address}"
            )

    def _not_selected(self, reason: str) -> None:
        """Connected but not selected: open transactions fail, T7 runs."""
        self.state = LinkState.NOT_SELECTED
        self._fail_open(reason)
        self._cancel_timer("_t7_timer")
        self._t7_timer = asyncio.get_running_loop().call_later(self.timers.t7_s, self._t7_expired)

    def _t7_expired(self) -> None:
        self._t7_timer = None
        detail = f"not selected within T7 = {self.timers.t7_s:g} s"
        log.warning("%s at %s: %s; connection dropped", self.tool, self.address, detail)
        for waiter in self._selection_waiters:
            if not waiter.done():
                waiter.set_exception(ToolTimeout(self.tool, self.address, "select", detail))
        self._drop(detail)

    def _t8_expired(self) -> None:
        self._t8_timer = None
        self._drop(f"a message stopped arriving: no byte within T8 = {self.timers.t8_s:g} s")

    def _cancel_timer(self, name: str) -> None:
        timer: asyncio.TimerHandle | None = getattr(self, name)
        if timer is not None:
            timer.cancel()
            setattr(self, name, None)

    async def _periodic_linktest(self) -> None:
        assert self.timers.linktest_s is not None
        while self.state is LinkState.SELECTED:
            await asyncio.sleep(self.timers.linktest_s)
            try:
                await self.linktest()
            except ToolError as error:
                log.warning("%s", error)
                return

    def _fail_open(self, reason: str) -> None:
        """Every open transaction fails with `ConnectionLost` naming `reason`."""
        for system in list(self._transactions):
            self._fail_transaction(system, ConnectionLost, reason)
        for system, (stype, response) in list(self._control.items()):
            if not response.done():
                response.set_exception(
                    ConnectionLost(self.tool, self.address, _CONTROL_NAMES[stype], reason)
                )
            del self._control[system]

    def _drop(self, reason: str) -> None:
        """Close the connection now, for `reason` (it goes into every failed transaction)."""
        connection = self._connection
        if connection is None:
            return
        self._drop_reason = reason
        if connection.transport is not None:
            connection.transport.close()
        self._disconnected(reason)

    def _disconnected(self, reason: str) -> None:
        self._connection = None
        self.state = LinkState.NOT_CONNECTED
        self._buffer.clear()
        self._cancel_timer("_t7_timer")
        self._cancel_timer("_t8_timer")
        if self._linktest_task is not None and self._linktest_task is not asyncio.current_task():
            self._linktest_task.cancel()
        self._fail_open(reason)
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s %s - disconnected: %s", self.tool, self.address, reason)
        if self.on_disconnected is not None:
            self.on_disconnected(reason)

    # --- the connection's callbacks --------------------------------------------------------

    def _connection_made(self, connection: _Connection) -> None:
        if self._connection is not None or self._closed:
            # HSMS-SS: one session at a time; a second connection is closed at once.
            assert connection.transport is not None
            connection.transport.close()
            return
        self._connection = connection
        self._drop_reason = None
        self._buffer.clear()
        if self.mode is ConnectMode.PASSIVE:
            # A served end: a checking virtual clock counts its unread bytes before each jump.
            assert connection.transport is not None
            self.clock.watch_served(connection.transport)
        self._not_selected("connected")

    def _connection_lost(self, connection: _Connection, exc: Exception | None) -> None:
        if connection is not self._connection:
            return
        reason = "connection closed by the peer" + (f" ({exc!r})" if exc else "")
        self._drop_reason = reason
        self._disconnected(reason)

    def _data_received(self, connection: _Connection, data: bytes) -> None:
        if connection is not self._connection:
            return
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            length = int.from_bytes(buffer[:4], "big")
            if length < HEADER_BYTES or length > MAX_MESSAGE_BYTES:
                self._drop(f"malformed HSMS frame: length {length}")
                return
            if len(buffer) < 4 + length:
                break
            frame = bytes(buffer[4 : 4 + length])
            del buffer[: 4 + length]
            try:
                self._frame_received(frame)
            except ToolError as error:  # an answer that could not be written: the link is going
                log.warning("%s", error)
            if connection is not self._connection:
                return
        if buffer:
            self._cancel_timer("_t8_timer")
            self._t8_timer = asyncio.get_running_loop().call_later(
                self.timers.t8_s, self._t8_expired
            )
        elif self._t8_timer is not None:
            self._cancel_timer("_t8_timer")

    def _frame_received(self, frame: bytes) -> None:
        session, byte2, byte3, ptype, stype, system = _HEADER.unpack_from(frame)
        if stype != SType.DATA:
            self._log_control("<", stype, system, byte2, byte3)
        if ptype != 0:
            self._send_control(SType.REJECT_REQ, system, ptype, 2)
            return
        if stype == SType.DATA:
            self._data_message(frame, session, byte2, byte3, system)
        elif stype == SType.SELECT_REQ:
            already = self.state is LinkState.SELECTED
            self._send_control(SType.SELECT_RSP, system, 0, 1 if already else 0)
            if not already:
                self._selected()
        elif stype == SType.DESELECT_REQ:
            selected = self.state is LinkState.SELECTED
            self._send_control(SType.DESELECT_RSP, system, 0, 0 if selected else 1)
            if selected:
                self._not_selected("deselected by the peer")
        elif stype == SType.LINKTEST_REQ:
            self._send_control(SType.LINKTEST_RSP, system)
        elif stype in (SType.SELECT_RSP, SType.DESELECT_RSP, SType.LINKTEST_RSP):
            open_request = self._control.get(system)
            if open_request is None or open_request[0] != stype - 1:
                self._send_control(SType.REJECT_REQ, system, stype, 3)
                return
            del self._control[system]
            if not open_request[1].done():
                open_request[1].set_result(byte3)
        elif stype == SType.REJECT_REQ:
            self._rejected(system, byte2, byte3)
        elif stype == SType.SEPARATE_REQ:
            self._drop("separated by the peer")
        else:
            self._send_control(SType.REJECT_REQ, system, stype, 1)

    def _rejected(self, system: int, byte2: int, reason: int) -> None:
        detail = (
            f"rejected by the peer: {REJECT_REASONS.get(reason, 'unknown reason')} "
            f"(reason {reason}, of {_CONTROL_NAMES.get(byte2, byte2)})"  # type: ignore[call-overload]
        )
        open_control = self._control.pop(system, None)
        if open_control is not None:
            stype, response = open_control
            if not response.done():
                response.set_exception(
                    ProtocolError(self.tool, self.address, _CONTROL_NAMES[stype], detail)
                )
            return
        if not self._fail_transaction(system, ProtocolError, detail):
            log.warning("%s at %s: %s, for no open transaction", self.tool, self.address, detail)

    def _fail_transaction(self, system: int, error: type[ToolError], detail: str) -> bool:
        """Fail the open transaction `system` with `error` naming its request; False if none."""
        transaction = self._transactions.get(system)
        if transaction is None or transaction[1].done():
            return False
        action, reply_future = transaction
        reply_future.set_exception(error(self.tool, self.address, action, detail))
        return True

    def _data_message(
        self, frame: bytes, session: int, byte2: int, function: int, system: int
    ) -> None:
        stream = byte2 & 0x7F
        reply_expected = bool(byte2 & 0x80)
        if self.state is not LinkState.SELECTED:
            self._send_control(SType.REJECT_REQ, system, SType.DATA, 4)
            return
        transaction = None if function % 2 else self._transactions.get(system)
        try:
            body = decode(memoryview(frame)[HEADER_BYTES:])
            message = SecsMessage(stream, function, body, reply_expected)
        except (SecsDecodeError, ValueError) as error:
            detail = f"malformed S{stream}F{function}: {error}"
            if wire_log.isEnabledFor(logging.DEBUG):
                wire_log.debug(
                    "%s %s < [%08x] %s %s",
                    self.tool,
                    self.address,
                    system,
                    detail,
                    frame[HEADER_BYTES:].hex(),
                )
            if transaction is None:
                self._send_s9(7, frame)
            else:
                self._fail_transaction(system, ProtocolError, detail)
            return
        self._log_data("<", message, system)
        if transaction is not None:
            if not transaction[1].done():
                transaction[1].set_result(message)
            return
        if not message.is_primary:
            log.warning(
                "%s at %s: %s for no open transaction [%08x], dropped",
                self.tool,
                self.address,
                message.name,
                system,
            )
            return
        if stream == 9:  # whatever its session id: a peer that names another device says so
            self._s9_received(message)
            return
        if session != self.session_id:
            self._send_s9(1, frame)
            return
        task = asyncio.get_running_loop().create_task(
            self._handle(message, frame[:HEADER_BYTES], system),
            name=f"hsms {message.name} {self.address}",
        )
        self._handler_tasks.add(task)
        task.add_done_callback(self._handler_tasks.discard)

    def _send_s9(self, function: int, frame: bytes) -> None:
        """Report an error to the peer: S9F{function} with the offending message's header."""
        self._send_data(
            SecsMessage(9, function, binary(frame[:HEADER_BYTES])),
            self._next_system_bytes(),
            self.session_id,
            f"S9F{function}",
        )

    def _s9_received(self, message: SecsMessage) -> None:
        """An S9 error fails the transaction whose header it carries."""
        detail = f"{message.name} {S9_ERRORS.get(message.function, 'error')} from the peer"
        header = message.body.value if message.body is not None else b""
        if isinstance(header, bytes) and len(header) == HEADER_BYTES:
            system = _HEADER.unpack(header)[-1]
            if self._fail_transaction(system, ProtocolError, detail):
                return
        log.warning("%s at %s: %s, for no open transaction", self.tool, self.address, detail)

    async def _handle(self, message: SecsMessage, header: bytes, system: int) -> None:
        """Run the handler on a primary message and send its reply (S9F5 when it has none)."""
        reply: SecsMessage | None = None
        if self.on_message is not None:
            try:
                reply = await self.on_message(message)
            except Exception:
                log.exception(
                    "%s at %s: handler of %s failed", self.tool, self.address, message.name
                )
        if not message.reply_expected:
            return
        try:
            if reply is None:
                self._send_s9(5, header)
            else:
                self._send_data(reply, system, self.session_id, reply.name)
        except ToolError as error:
            log.warning("%s", error)
