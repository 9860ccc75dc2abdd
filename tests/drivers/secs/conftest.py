"""Peers for the HSMS tests: packline's own passive equipment, secsgem's handlers, raw TCP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import secsgem.common
import secsgem.gem
import secsgem.hsms
from secsgem.gem.communication_state_machine import CommunicationState

from packline.drivers.secs.hsms import HsmsLink, HsmsTimers
from packline.drivers.secs.items import A, B, L
from packline.drivers.secs.messages import SecsMessage

#: Short timers so that every fault shows within a fraction of a second.
FAST = HsmsTimers(t3_s=0.3, t5_s=0.05, t6_s=0.3, t7_s=0.3, t8_s=0.3)

#: The longest a test waits on secsgem's threads (they answer in milliseconds; on a machine
#: loaded twenty times over, in seconds): a hang guard, never what a test measures.
SECSGEM_HANG_GUARD_S = 20.0

#: The HSMS timers of a link in a test that measures none of them (every test against
#: secsgem, and one that measures only what the exchanges carry): hang guards, as long as
#: `SECSGEM_HANG_GUARD_S`, so that a loaded machine cannot fail the test by a timer.
HANG_GUARD_TIMERS = HsmsTimers(
    t3_s=SECSGEM_HANG_GUARD_S,
    t5_s=0.05,
    t6_s=SECSGEM_HANG_GUARD_S,
    t7_s=SECSGEM_HANG_GUARD_S,
    t8_s=SECSGEM_HANG_GUARD_S,
)


@pytest.fixture
def fast_timers() -> HsmsTimers:
    """The timers every link of these tests runs with, for tests that measure a fault."""
    return FAST


async def equipment_replies(message: SecsMessage) -> SecsMessage | None:
    """A small equipment: S1F1 -> S1F2, S1F13 -> S1F14, S2F25 loopback -> S2F26 (echo)."""
    if (message.stream, message.function) == (1, 1):
        return SecsMessage(1, 2, L(A("PKL-EQ"), A("1.0")))
    if (message.stream, message.function) == (1, 13):
        return SecsMessage(1, 14, L(B(b"\x00"), L(A("PKL-EQ"), A("1.0"))))
    if (message.stream, message.function) == (2, 25):
        return SecsMessage(2, 26, message.body)
    return None


async def host_replies(message: SecsMessage) -> SecsMessage | None:
    """A small host: it accepts S1F13 (secsgem's equipment sends one on select)."""
    if (message.stream, message.function) == (1, 13):
        return SecsMessage(1, 14, L(B(b"\x00"), L()))
    return None


StartEquipment = Callable[..., Awaitable[HsmsLink]]


@pytest.fixture
async def start_equipment() -> AsyncIterator[StartEquipment]:
    """Start packline's passive side on port 0 (handler `equipment_replies`); closed after."""
    links: list[HsmsLink] = []

    async def start(**options: object) -> HsmsLink:
        options.setdefault("on_message", equipment_replies)
        options.setdefault("timers", FAST)
        link = HsmsLink(port=0, mode="passive", tool="equipment", **options)  # type: ignore[arg-type]
        await link.connect()
        links.append(link)
        return link

    yield start
    for link in links:
        await link.close()


@pytest.fixture
async def host_of() -> AsyncIterator[Callable[..., Awaitable[HsmsLink]]]:
    """Connect packline's active side to a port (handler `host_replies`); closed after."""
    links: list[HsmsLink] = []

    async def connect(port: int, **options: object) -> HsmsLink:
        options.setdefault("on_message", host_replies)
        options.setdefault("timers", FAST)
        link = HsmsLink(port=port, tool="host", **options)  # type: ignore[arg-type]
        links.append(link)
        await link.connect()
        return link

    yield connect
    for link in links:
        await link.close()


class _InOrderHsmsProtocol(secsgem.hsms.HsmsProtocol):
    """secsgem 0.3.0's HSMS protocol, told of a new connection before it dispatches its
    messages.

    Its own `_on_connected` starts the dispatcher thread first and moves the HSMS state machine
    to CONNECTED after: a select.req that arrived with the connection can be dispatched in
    between, answered with a select.rsp, and its state change refused in the dispatcher thread
    (WrongSourceStateError: NOT_CONNECTED). The equipment then never communicates, though
    packline's host was told it is selected. A loaded machine hits that window often.
    """

    def _on_connected(self, _: dict[str, Any]) -> None:
        self._connected = True
        self._connection_state.connect()
        self._thread.start()
        self.events.fire("connected", {"connection": self})


class _InOrderHsmsSettings(secsgem.hsms.HsmsSettings):
    """secsgem's HSMS settings, building `_InOrderHsmsProtocol`."""

    def create_protocol(self) -> secsgem.common.Protocol:
        return _InOrderHsmsProtocol(self)


def secsgem_settings(port: int, *, active: bool) -> secsgem.hsms.HsmsSettings:
    """Settings of a secsgem side; a passive one on port 0 listens on a port it picks."""
    return _InOrderHsmsSettings(
        address="127.0.0.1",
        port=port,
        connect_mode=(
            secsgem.hsms.HsmsConnectMode.ACTIVE if active else secsgem.hsms.HsmsConnectMode.PASSIVE
        ),
        device_type=(
            secsgem.common.DeviceType.HOST if active else secsgem.common.DeviceType.EQUIPMENT
        ),
        # An active secsgem side checks for a disable int(t5) * 5 times: below 1 s, never.
        t5=1 if active else 0.1,
    )


async def listening_port(handler: secsgem.gem.GemHandler) -> int:
    """The port a passive secsgem side listens on, once it does: its server thread binds and
    listens after `enable()` has returned, so a connect made at once may be refused."""
    connection = handler.protocol._connection
    async with asyncio.timeout(SECSGEM_HANG_GUARD_S):
        while True:
            sock = getattr(connection, "_server_sock", None)
            with contextlib.suppress(OSError):  # not bound yet, or closed
                if sock is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    return int(sock.getsockname()[1])
            await asyncio.sleep(0.01)  # (set up by secsgem's server thread)


async def start_secsgem(handler_class: type, port: int, *, active: bool) -> secsgem.gem.GemHandler:
    """Build a secsgem handler for `port` and enable it (its threads start) in a worker thread."""
    handler = handler_class(secsgem_settings(port, active=active))
    await asyncio.to_thread(handler.enable)
    return handler


async def stop_secsgem(handler: secsgem.gem.GemHandler) -> None:
    """Disable a secsgem handler, its connection and its threads, leaving no thread or socket.

    secsgem 0.3.0's disable() closes a listening socket under its own accept(), and the
    listening thread then dies in it (EBADF) without clearing the flag disable() waits on. So
    a listening thread is stopped first through that flag, which it checks between its
    half-second selects, and its socket is closed once it has ended; disable() then has no
    thread to race. (An active side retrying a refused connection drops one socket per try
    unclosed: the fixtures disable a host before its equipment goes, so that it never retries.
    If its connect thread still outlives disable() by 3 s, its flag is cleared here so that
    disable() goes on to close the connection.)
    """
    connection = handler.protocol._connection
    listening = getattr(connection, "_server_thread", None)
    if listening is not None and listening.is_alive():
        connection._stop_server_thread = True
        await asyncio.to_thread(listening.join, 3)
        assert not listening.is_alive(), "secsgem's listening thread did not stop within 3 s"
        connection._server_sock.close()
    disabling = threading.Thread(target=handler.disable, daemon=True)
    disabling.start()
    await asyncio.to_thread(disabling.join, 3)
    if disabling.is_alive() and hasattr(connection, "stop_connection_thread"):
        connection.stop_connection_thread = False
        await asyncio.to_thread(disabling.join, 3)
    assert not disabling.is_alive(), "secsgem's disable() did not return within 6 s"


@pytest.fixture
async def secsgem_host() -> AsyncIterator[Callable[[int], Awaitable[secsgem.gem.GemHostHandler]]]:
    """Start secsgem's GEM host (threads), connecting to a port, in a worker thread; disabled
    and joined after the test (`stop_secsgem`)."""
    handlers: list[secsgem.gem.GemHandler] = []

    async def start(port: int) -> secsgem.gem.GemHostHandler:
        handler = await start_secsgem(secsgem.gem.GemHostHandler, port, active=True)
        handlers.append(handler)
        return handler

    yield start
    for handler in handlers:
        await stop_secsgem(handler)


#: secsgem's GEM communication states once it has taken a select (E30: WAIT CRA, COMMUNICATING).
TOOK_SELECT = {CommunicationState.WAIT_CRA, CommunicationState.COMMUNICATING}

SecsgemEquipment = Callable[..., Awaitable[tuple[secsgem.gem.GemEquipmentHandler, HsmsLink]]]


async def took_select(handler: secsgem.gem.GemHandler) -> None:
    """Wait until secsgem's GEM state machine reaches `TOOK_SELECT` (set by its threads)."""
    async with asyncio.timeout(SECSGEM_HANG_GUARD_S):
        while handler.communication_state.current not in TOOK_SELECT:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def secsgem_equipment() -> AsyncIterator[SecsgemEquipment]:
    """Start a secsgem equipment of a class (passive, on a port it picks) and connect
    packline's host link to it once it listens (options: HsmsLink's; `host_replies` and
    `HANG_GUARD_TIMERS` unless given), selected on both sides; after the test secsgem is disabled
    first, then the links are closed.

    A secsgem 0.3.0 equipment takes one select in its life: its GEM handler never hears that a
    connection ended (its on_connection_closed is wired to no event), so after a select it
    stays in WAIT CRA or COMMUNICATING and the next connection's select fails in its thread
    (WrongSourceStateError: WAIT_CRA, expected NOT_COMMUNICATING). Each test connects once.
    """
    handlers: list[secsgem.gem.GemHandler] = []
    links: list[HsmsLink] = []

    async def start(
        handler_class: type, **options: object
    ) -> tuple[secsgem.gem.GemEquipmentHandler, HsmsLink]:
        options.setdefault("on_message", host_replies)
        options.setdefault("timers", HANG_GUARD_TIMERS)
        handler = await start_secsgem(handler_class, 0, active=False)
        handlers.append(handler)
        port = await listening_port(handler)
        link = HsmsLink(port=port, tool="host", **options)  # type: ignore[arg-type]
        links.append(link)
        await link.connect()
        await took_select(handler)
        return handler, link

    yield start
    for handler in handlers:
        await stop_secsgem(handler)
    for link in links:
        await link.close()


# --- raw TCP peers ----------------------------------------------------------------------------

RawPeer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[RawPeer], Awaitable[int]]]:
    """A TCP server on port 0 that runs a script per connection; returns the port."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []
    scripts: list[asyncio.Task] = []

    async def start(script: RawPeer) -> int:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            scripts.append(asyncio.current_task())  # type: ignore[arg-type]
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, TimeoutError):
                await script(reader, writer)

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for writer in writers:
        writer.close()
    for task in scripts:
        task.cancel()
    await asyncio.gather(*scripts, return_exceptions=True)
    for server in servers:
        server.close()
        await server.wait_closed()
