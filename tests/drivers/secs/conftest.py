"""Peers for the HSMS tests: packline's own passive equipment, secsgem's handlers, raw TCP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import secsgem.common
import secsgem.gem
import secsgem.hsms

from packline.drivers.errors import ToolConnectionError, ToolTimeout
from packline.drivers.secs.hsms import HsmsLink, HsmsTimers
from packline.drivers.secs.items import A, B, L
from packline.drivers.secs.messages import SecsMessage

#: Short timers so that every fault shows within a fraction of a second.
FAST = HsmsTimers(t3_s=0.3, t5_s=0.05, t6_s=0.3, t7_s=0.3, t8_s=0.3)


@pytest.fixture
def fast_timers() -> HsmsTimers:
    """The timers every link of these tests runs with, for tests that measure a fault."""
    return FAST


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Give a loopback port nobody listens on (secsgem's passive side cannot take port 0)."""

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    return pick


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

    async def connect(
        port: int,
        *,
        patient: bool = False,
        established: asyncio.Event | None = None,
        **options: object,
    ) -> HsmsLink:
        """`patient`: retry for 15 s (a loaded machine slows secsgem's threads), for secsgem's
        passive side, which starts in threads and may lose a select that arrives before its own
        threads have seen the connection
        (WrongSourceStateError), answering it or not but never selected. `established`: the
        event the handler sets on secsgem's S1F13, which it sends once really selected; without
        it within 1 s the link separates and tries again."""
        options.setdefault("on_message", host_replies)
        options.setdefault("timers", FAST)
        link = HsmsLink(port=port, tool="host", **options)  # type: ignore[arg-type]
        links.append(link)
        async with asyncio.timeout(15 if patient else 5):
            while True:
                try:
                    await link.connect()
                    if established is not None:
                        async with asyncio.timeout(1):
                            await established.wait()
                    return link
                except (ToolConnectionError, ToolTimeout, TimeoutError):
                    if not patient:
                        raise
                    await link.separate()
                    await asyncio.sleep(0.05)

    yield connect
    for link in links:
        await link.close()


def secsgem_settings(port: int, *, active: bool) -> secsgem.hsms.HsmsSettings:
    return secsgem.hsms.HsmsSettings(
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


@pytest.fixture
async def secsgem_handler() -> AsyncIterator[Callable[..., Awaitable[secsgem.gem.GemHandler]]]:
    """Start a secsgem handler (threads) in a worker thread; disabled (joined) after."""
    handlers: list[secsgem.gem.GemHandler] = []

    async def start(handler_class: type, port: int, *, active: bool) -> secsgem.gem.GemHandler:
        handler = handler_class(secsgem_settings(port, active=active))
        handlers.append(handler)
        await asyncio.to_thread(handler.enable)
        return handler

    yield start
    # Tests ask for this fixture after packline's links, so it is torn down first: secsgem's
    # equipment is disabled while its host is connected. Once a host has left, secsgem 0.3.0
    # listens again, and disabling it then can hang: its listening thread may die in accept()
    # on the closed socket without clearing the flag disable() waits on (the active side has a
    # like race). That flag is cleared
    # here after 3 s, so that disable() goes on to close the connection and its threads.
    for handler in handlers:
        disabling = threading.Thread(target=handler.disable, daemon=True)
        disabling.start()
        await asyncio.to_thread(disabling.join, 3)
        if disabling.is_alive():
            connection = handler.protocol._connection
            if hasattr(connection, "stop_connection_thread"):  # the active side's flag
                connection.stop_connection_thread = False
            else:
                connection._stop_server_thread = False
            await asyncio.to_thread(disabling.join, 3)


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
