"""The HSMS-SS link (SEMI E37, E37.1) on asyncio: one TCP connection, several transactions open.

HSMS carries SECS-II messages over TCP in frames (`frames.py`: a length, a 10-byte header and
the SECS-II body; control messages select and deselect the session, test the link, reject what
cannot be handled and separate the session).

`HsmsLink` is either side: `ACTIVE` (the host: it connects and selects) or `PASSIVE` (the
equipment: it listens and is selected). Many transactions may be open at once
(`transactions.py`): each request waits for the reply that carries its system bytes, within T3.
Primary messages from the peer go to the `on_message` handler, each in its own task; its return
value is the reply (`session.py`: what the session does on its own). The timers T3, T5, T6, T7
and T8 run on the wall clock (`timers.py`).

After a lost connection the active side reconnects on the next request, by its
`ReconnectPolicy`, as every link does; the passive side keeps listening. Every message, data
and control, is written to the `packline.wire` logger in SML (`wirelog.py`).
"""

from __future__ import annotations

import asyncio

from ..errors import ConnectionLost, ProtocolError, ToolConnectionError, ToolError, ToolTimeout
from ..links.base import read_waiting
from ..links.keepalive import keep_alive
from .frames import DESELECT_STATUS, SELECT_STATUS, SType
from .messages import SecsMessage
from .session import (
    ConnectMode,
    HsmsSession,
    LinkState,
    MessageHandler,
    TcpConnection,
    UnrecognizedStream,
)
from .timers import HsmsTimers

# The session's vocabulary, importable with the link as before the link was split.
__all__ = [
    "ConnectMode",
    "HsmsLink",
    "HsmsTimers",
    "LinkState",
    "MessageHandler",
    "UnrecognizedStream",
]

#: The most bytes a timed-out request takes from the socket without waiting, looking for its
#: reply: what one read of a starved event loop would have got, and some.
_WAITING_READ_BYTES = 1 << 20


class HsmsLink(HsmsSession):
    """One HSMS-SS session on TCP, active (host) or passive (equipment).

    Active: `connect()` opens the connection and selects within T6. Passive: `connect()`
    starts listening (port 0 picks a free port, then `port` is the real one) and
    `wait_selected()` waits for a host. `request()` sends a primary message with the W-bit
    and returns its reply; `send()` sends a message that expects none; `close()` separates,
    stops listening and leaves no task behind.
    """

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
            system, reply_future = self._transactions.open(action)
            try:
                self._send_data(message, system, self.session_id, action)
                async with asyncio.timeout(self.timers.t3_s):
                    reply = await reply_future
            except TimeoutError:
                # A reply framed as T3 ran out is in its future; one the socket holds unread
                # (a starved event loop) answers the transaction's new one, if it is whole.
                if reply_future.cancelled():
                    reply_future = self._transactions.renew(system)
                    self._frame_waiting(reply_future)
                if not reply_future.done():
                    raise ToolTimeout(
                        self.tool,
                        self.address,
                        action,
                        f"no reply within T3 = {self.timers.t3_s:g} s",
                    ) from None
                reply = reply_future.result()
            finally:
                self._transactions.end(system)
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

    def _frame_waiting(self, reply: asyncio.Future[SecsMessage]) -> None:
        """Frame (by length, as every frame) what the socket holds that the event loop has not
        read yet, without waiting, until `reply` is answered or nothing more is there."""
        connection = self._connection
        if connection is None or connection.transport is None or connection.transport.is_closing():
            return
        taken = 0
        while not reply.done() and taken < _WAITING_READ_BYTES:
            if not (data := read_waiting(connection.transport, _WAITING_READ_BYTES - taken)):
                return
            taken += len(data)
            self._data_received(connection, data)

    async def send(self, message: SecsMessage) -> None:
        """Send `message` that expects no reply (no W-bit), as a new transaction."""
        if message.reply_expected:
            raise ValueError(f"{message.name}: send() takes no W-bit; use request()")
        with self.clock.activity():
            await self._ensure_selected(message.name)
            self._send_data(
                message, self._transactions.next_system_bytes(), self.session_id, message.name
            )

    async def deselect(self) -> None:
        """End the selected session, keeping the TCP connection (E37 deselect); the
        deselect.rsp of status 0 ends it as it arrives (session.py)."""
        status = await self._control_transaction(SType.DESELECT_REQ, "deselect")
        if status:
            raise ProtocolError(
                self.tool,
                self.address,
                "deselect",
                f"refused: {DESELECT_STATUS.get(status, 'unknown status')} (status {status})",
            )

    async def separate(self) -> None:
        """End the session and drop the connection (E37 separate; no reply is sent to it)."""
        if self._connection is not None and self.state is LinkState.SELECTED:
            self._send_control(SType.SEPARATE_REQ, self._transactions.next_system_bytes())
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
            self._server = await loop.create_server(
                lambda: TcpConnection(self), self.host, self.port
            )
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
                    transport, _ = await loop.create_connection(
                        lambda: TcpConnection(self), self.host, self.port
                    )
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
            # A dead peer noticed while the session is idle, as on every link to a tool: the
            # periodic linktest that would notice it is off unless a station sets `linktest_s`.
            keep_alive(transport)
        # A select.rsp of status 0 or 1 selects the session as it arrives (session.py).
        status = await self._control_transaction(SType.SELECT_REQ, action)
        if status not in (0, 1):
            self._drop("select refused")
            raise ToolConnectionError(
                self.tool,
                self.address,
                action,
                f"select refused: {SELECT_STATUS.get(status, 'unknown status')} (status {status})",
            )

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
