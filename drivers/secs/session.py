"""The HSMS-SS session (SEMI E37): its states, and what it does on its own on the wire.

`HsmsSession` is the part of an HSMS link that reacts: it takes the bytes of its TCP
connection, answers the peer's control messages (reject what it cannot handle, drop at
separate), hands each reply to its open transaction (`transactions.py`), runs each primary
message through `on_message` in a task of its own and sends its reply (S9 errors as E5 says),
and keeps T6, T7, T8 and the periodic linktest (`timers.py`). What a user asks of a link
(connect, request, close) is `HsmsLink`'s (`hsms.py`), built on this.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from packline.clock import Clock, WallClock

from ..errors import ConnectionLost, ProtocolError, ToolError, ToolTimeout
from ..links.base import MAX_TIMEOUT_S, ReconnectPolicy
from .frames import (
    CONTROL_NAMES,
    CONTROL_SESSION,
    HEADER_BYTES,
    REJECT_REASONS,
    FrameReader,
    MalformedFrame,
    SType,
    control_frame,
    data_frame,
    unpack_header,
)
from .items import B as binary
from .items import SecsDecodeError, decode
from .messages import S9_ERRORS, SecsMessage
from .timers import DEFAULT_TIMERS, HsmsTimers, WallTimer
from .transactions import Transactions
from .wirelog import log_control, log_data, log_disconnected, log_malformed

log = logging.getLogger(__name__)

#: A handler of primary messages from the peer: returns the reply, or None for none.
MessageHandler = Callable[[SecsMessage], Awaitable[SecsMessage | None]]


class UnrecognizedStream(Exception):
    """What a `MessageHandler` raises for a primary message of a stream it does not know at
    all: the link answers it S9F3 with the message's header (E5), which only the link has; a
    reply of None is a function it does not know in a stream it does, S9F5."""


class ConnectMode(StrEnum):
    """Who opens the TCP connection: the active side (host) or the passive one (equipment)."""

    ACTIVE = "active"
    PASSIVE = "passive"


class LinkState(StrEnum):
    """The HSMS connection states (E37 section 5)."""

    NOT_CONNECTED = "not connected"
    NOT_SELECTED = "not selected"
    SELECTED = "selected"


class TcpConnection(asyncio.Protocol):
    """The asyncio side of one TCP connection: it hands bytes and the end to its link."""

    def __init__(self, link: HsmsSession) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.link._connection_made(self)

    def data_received(self, data: bytes) -> None:
        self.link._data_received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.link._connection_lost(self, exc)


class HsmsSession:
    """One HSMS-SS session on TCP, active (host) or passive (equipment): its settings, its
    state and its reactions to the peer. `HsmsLink` adds what a user calls."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5000,
        *,
        mode: ConnectMode | str = ConnectMode.ACTIVE,
        session_id: int = 0,
        tool: str = "tool",
        timers: HsmsTimers | Mapping[str, float | None] = DEFAULT_TIMERS,
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
        self._connection: TcpConnection | None = None
        self._frames = FrameReader()
        self._transactions = Transactions(self)
        self._selection_waiters: list[asyncio.Future[None]] = []
        self._t7 = WallTimer(self._t7_expired)
        self._t8 = WallTimer(self._t8_expired)
        self._linktest_task: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Task[None]] = set()
        self._drop_reason: str | None = None
        #: The connecting side's bookkeeping (`HsmsLink`): the passive side's server, one
        #: connect at a time, the last connect (T5), whether `connect()` and `close()` ran.
        self._server: asyncio.Server | None = None
        self._connect_lock = asyncio.Lock()
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

    async def linktest(self) -> None:
        """Test the link: linktest.req answered within T6, else the connection is dropped."""
        await self._control_transaction(SType.LINKTEST_REQ, "linktest")

    # --- sending ---------------------------------------------------------------------------

    def _write(self, frame: bytes, action: str) -> None:
        connection = self._connection
        if connection is None or connection.transport is None or connection.transport.is_closing():
            raise ConnectionLost(
                self.tool, self.address, action, self._drop_reason or "not connected"
            )
        connection.transport.write(frame)

    def _send_data(self, message: SecsMessage, system: int, session: int, action: str) -> None:
        self._write(data_frame(message, system, session), action)
        log_data(self.tool, self.address, ">", message, system)

    def _send_control(self, stype: SType, system: int, byte2: int = 0, byte3: int = 0) -> None:
        self._write(control_frame(stype, system, byte2, byte3), CONTROL_NAMES[stype])
        log_control(self.tool, self.address, ">", stype, system, byte2, byte3)

    async def _control_transaction(self, stype: SType, action: str) -> int:
        """Send a control request and return the status of its response, within T6."""
        system, response = self._transactions.open_control(stype)
        try:
            self._send_control(stype, system)
            with self.clock.activity():
                async with asyncio.timeout(self.timers.t6_s):
                    return await response
        except TimeoutError:
            detail = f"no {CONTROL_NAMES[stype + 1]} within T6 = {self.timers.t6_s:g} s"
            self._drop(detail)
            raise ToolTimeout(self.tool, self.address, action, detail) from None
        finally:
            self._transactions.end_control(system)

    # --- state -----------------------------------------------------------------------------

    def _selected(self) -> None:
        self.state = LinkState.SELECTED
        self._t7.cancel()
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
        self._transactions.fail_all(reason)
        self._t7.start(self.timers.t7_s)

    def _t7_expired(self) -> None:
        detail = f"not selected within T7 = {self.timers.t7_s:g} s"
        log.warning("%s at %s: %s; connection dropped", self.tool, self.address, detail)
        for waiter in self._selection_waiters:
            if not waiter.done():
                waiter.set_exception(ToolTimeout(self.tool, self.address, "select", detail))
        self._drop(detail)

    def _t8_expired(self) -> None:
        self._drop(f"a message stopped arriving: no byte within T8 = {self.timers.t8_s:g} s")

    async def _periodic_linktest(self) -> None:
        assert self.timers.linktest_s is not None
        while self.state is LinkState.SELECTED:
            await asyncio.sleep(self.timers.linktest_s)
            try:
                await self.linktest()
            except ToolError as error:
                log.warning("%s", error)
                return

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
        self._frames.clear()
        self._t7.cancel()
        self._t8.cancel()
        if self._linktest_task is not None and self._linktest_task is not asyncio.current_task():
            self._linktest_task.cancel()
        self._transactions.fail_all(reason)
        log_disconnected(self.tool, self.address, reason)
        if self.on_disconnected is not None:
            self.on_disconnected(reason)

    # --- the connection's callbacks --------------------------------------------------------

    def _connection_made(self, connection: TcpConnection) -> None:
        if self._connection is not None or self._closed:
            # HSMS-SS: one session at a time; a second connection is closed at once.
            assert connection.transport is not None
            connection.transport.close()
            return
        self._connection = connection
        self._drop_reason = None
        self._frames.clear()
        if self.mode is ConnectMode.PASSIVE:
            # A served end: a checking virtual clock counts its unread bytes before each jump.
            assert connection.transport is not None
            self.clock.watch_served(connection.transport)
        self._not_selected("connected")

    def _connection_lost(self, connection: TcpConnection, exc: Exception | None) -> None:
        if connection is not self._connection:
            return
        reason = "connection closed by the peer" + (f" ({exc!r})" if exc else "")
        self._drop_reason = reason
        self._disconnected(reason)

    def _data_received(self, connection: TcpConnection, data: bytes) -> None:
        if connection is not self._connection:
            return
        try:
            for frame in self._frames.frames(data):
                try:
                    self._frame_received(frame)
                except ToolError as error:  # an answer that could not be written: link going
                    log.warning("%s", error)
                if connection is not self._connection:
                    return
        except MalformedFrame as error:
            self._drop(str(error))
            return
        if self._frames.incomplete:
            self._t8.start(self.timers.t8_s)
        else:
            self._t8.cancel()

    def _frame_received(self, frame: bytes) -> None:
        session, byte2, byte3, ptype, stype, system = unpack_header(frame)
        if stype != SType.DATA:
            log_control(self.tool, self.address, "<", stype, system, byte2, byte3)
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
            if not self._transactions.answer_control(system, SType(stype), byte3):
                self._send_control(SType.REJECT_REQ, system, stype, 3)
            # The state changes as the response arrives, not when the request's task resumes:
            # a message the peer sends right behind it (an equipment's S1F13 on select) may
            # come in the same read and must meet the new state.
            elif stype == SType.SELECT_RSP and byte3 in (0, 1):
                self._selected()
            elif stype == SType.DESELECT_RSP and byte3 == 0:
                self._not_selected("deselected by this side")
        elif stype == SType.REJECT_REQ:
            self._rejected(system, byte2, byte3)
        elif stype == SType.SEPARATE_REQ:
            self._drop("separated by the peer")
        else:
            self._send_control(SType.REJECT_REQ, system, stype, 1)

    def _rejected(self, system: int, byte2: int, reason: int) -> None:
        detail = (
            f"rejected by the peer: {REJECT_REASONS.get(reason, 'unknown reason')} "
            f"(reason {reason}, of {CONTROL_NAMES.get(byte2, byte2)})"
        )
        if self._transactions.fail_control(system, detail):
            return
        if not self._transactions.fail(system, ProtocolError, detail):
            log.warning("%s at %s: %s, for no open transaction", self.tool, self.address, detail)

    def _data_message(
        self, frame: bytes, session: int, byte2: int, function: int, system: int
    ) -> None:
        stream = byte2 & 0x7F
        reply_expected = bool(byte2 & 0x80)
        if self.state is not LinkState.SELECTED:
            self._send_control(SType.REJECT_REQ, system, SType.DATA, 4)
            return
        awaited = not function % 2 and self._transactions.awaits_reply(system)
        try:
            body = decode(memoryview(frame)[HEADER_BYTES:])
            message = SecsMessage(stream, function, body, reply_expected)
        except (SecsDecodeError, ValueError) as error:
            detail = f"malformed S{stream}F{function}: {error}"
            log_malformed(self.tool, self.address, system, detail, frame[HEADER_BYTES:])
            if awaited:
                self._transactions.fail(system, ProtocolError, detail)
            else:
                self._send_s9(7, frame)
            return
        log_data(self.tool, self.address, "<", message, system)
        if awaited:
            self._transactions.answer(system, message)
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
            self._transactions.next_system_bytes(),
            self.session_id,
            f"S9F{function}",
        )

    def _s9_received(self, message: SecsMessage) -> None:
        """An S9 error fails the transaction whose header it carries."""
        detail = f"{message.name} {S9_ERRORS.get(message.function, 'error')} from the peer"
        header = message.body.value if message.body is not None else b""
        if (
            isinstance(header, bytes)
            and len(header) == HEADER_BYTES
            and self._transactions.fail(unpack_header(header).system, ProtocolError, detail)
        ):
            return
        log.warning("%s at %s: %s, for no open transaction", self.tool, self.address, detail)

    async def _handle(self, message: SecsMessage, header: bytes, system: int) -> None:
        """Run the handler on a primary message and send its reply (S9F5 when it has none,
        S9F3 when it does not know the message's stream)."""
        reply: SecsMessage | None = None
        unknown_function = 5
        if self.on_message is not None:
            try:
                reply = await self.on_message(message)
            except UnrecognizedStream:
                unknown_function = 3
            except Exception:
                log.exception(
                    "%s at %s: handler of %s failed", self.tool, self.address, message.name
                )
        if not message.reply_expected:
            return
        try:
            if reply is None:
                self._send_s9(unknown_function, header)
            else:
                self._send_data(reply, system, self.session_id, reply.name)
        except ToolError as error:
            log.warning("%s", error)
