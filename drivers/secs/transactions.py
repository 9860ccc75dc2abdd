"""The open transactions of an HSMS session, matched to their replies by system bytes.

Unlike the lock-step links of `drivers/links/`, many transactions may be open at once: each
data request and each control request (select, deselect, linktest) gets new system bytes and
waits on a future that the reply carrying the same bytes resolves, or that a reject, an S9
error or the end of the connection fails with an error naming the request.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..errors import ConnectionLost, ProtocolError, ToolError
from .frames import CONTROL_NAMES, SType
from .messages import SecsMessage


class Peer(Protocol):
    """What an error of a transaction names: the tool and its address."""

    @property
    def tool(self) -> str: ...

    @property
    def address(self) -> str: ...


class Transactions:
    """The session's system bytes counter and its open data and control transactions."""

    def __init__(self, peer: Peer) -> None:
        self._peer = peer
        self._system_bytes = 0
        #: Open data transactions by system bytes: the request's name and its reply's future.
        self._data: dict[int, tuple[str, asyncio.Future[SecsMessage]]] = {}
        #: Open control transactions: the request's type and the future of its status.
        self._control: dict[int, tuple[SType, asyncio.Future[int]]] = {}

    def next_system_bytes(self) -> int:
        """New system bytes for a message that opens a transaction."""
        self._system_bytes = (self._system_bytes + 1) & 0xFFFFFFFF
        return self._system_bytes

    def open(self, action: str) -> tuple[int, asyncio.Future[SecsMessage]]:
        """Open a data transaction for request `action`: its system bytes and reply future."""
        system = self.next_system_bytes()
        reply: asyncio.Future[SecsMessage] = asyncio.get_running_loop().create_future()
        self._data[system] = (action, reply)
        return system, reply

    def open_control(self, stype: SType) -> tuple[int, asyncio.Future[int]]:
        """Open a control transaction of `stype`: its system bytes and its status's future."""
        system = self.next_system_bytes()
        response: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._control[system] = (stype, response)
        return system, response

    def renew(self, system: int) -> asyncio.Future[SecsMessage]:
        """A new reply future for the open data transaction `system`, whose own future went
        with the task that awaited it (cancelled at T3): what a reply framed now answers."""
        action, _ = self._data[system]
        reply: asyncio.Future[SecsMessage] = asyncio.get_running_loop().create_future()
        self._data[system] = (action, reply)
        return reply

    def end(self, system: int) -> None:
        """Forget the data transaction `system` (answered, timed out or failed)."""
        self._data.pop(system, None)

    def end_control(self, system: int) -> None:
        """Forget the control transaction `system`."""
        self._control.pop(system, None)

    def awaits_reply(self, system: int) -> bool:
        """Whether a data transaction `system` is open (a secondary message may answer it)."""
        return system in self._data

    def answer(self, system: int, reply: SecsMessage) -> None:
        """Hand `reply` to the open data transaction `system` (unless it already ended)."""
        transaction = self._data.get(system)
        if transaction is not None and not transaction[1].done():
            transaction[1].set_result(reply)

    def answer_control(self, system: int, response: SType, status: int) -> bool:
        """Hand `status` to the open control request `system` that `response` answers;
        False if none is open of that type (the peer sent a response to nothing)."""
        open_request = self._control.get(system)
        if open_request is None or open_request[0] != response - 1:
            return False
        del self._control[system]
        if not open_request[1].done():
            open_request[1].set_result(status)
        return True

    def fail(self, system: int, error: type[ToolError], detail: str) -> bool:
        """Fail the open transaction `system` with `error` naming its request; False if none."""
        transaction = self._data.get(system)
        if transaction is None or transaction[1].done():
            return False
        action, reply = transaction
        reply.set_exception(error(self._peer.tool, self._peer.address, action, detail))
        return True

    def fail_control(self, system: int, detail: str) -> bool:
        """Fail the open control transaction `system` with `ProtocolError`; False if none."""
        open_control = self._control.pop(system, None)
        if open_control is None:
            return False
        stype, response = open_control
        if not response.done():
            response.set_exception(
                ProtocolError(self._peer.tool, self._peer.address, CONTROL_NAMES[stype], detail)
            )
        return True

    def fail_all(self, reason: str) -> None:
        """Every open transaction fails with `ConnectionLost` naming `reason`."""
        for system in list(self._data):
            self.fail(system, ConnectionLost, reason)
        for system, (stype, response) in list(self._control.items()):
            if not response.done():
                response.set_exception(
                    ConnectionLost(
                        self._peer.tool, self._peer.address, CONTROL_NAMES[stype], reason
                    )
                )
            del self._control[system]
