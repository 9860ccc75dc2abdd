"""Every TCP connection a driver opens to a tool keeps itself alive: a tool power-cycled, or a
switch that drops, is noticed while the link is idle, not at its next exchange's timeout, and
while what the link sent is unacknowledged, not some 15 minutes of retransmissions later.

Each link kind connects to a simulated tool on an ephemeral port, and its socket is asked
(`getsockopt`) for what `keep_alive` sets: keepalive on, the idle time, probe interval and
probe count of `packline.drivers.links.keepalive` (the OS's defaults: off, two hours), and on
Linux the user timeout (the OS's default: none).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from packline.drivers.equipment.waits import HOLD_S
from packline.drivers.links import ModbusLink, SerialLink, VisaLink
from packline.drivers.links.keepalive import (
    KEEPALIVE_IDLE_S,
    KEEPALIVE_INTERVAL_S,
    KEEPALIVE_OPTIONS,
    KEEPALIVE_PROBES,
    TCP_USER_TIMEOUT_S,
)
from packline.drivers.links.visa import _socket_of
from packline.drivers.secs.hsms import HsmsLink
from packline.drivers.secs.link import SecsLink

from .conftest import StartMeter, StartMixer

#: A connected link's socket, from the link kind's own place for it.
Opened = Callable[[AsyncExitStack], Awaitable[socket.socket]]


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    """Closes at teardown whatever a test opened on it."""
    async with AsyncExitStack() as exits:
        yield exits


def test_a_dead_peer_is_noticed_within_a_held_reply():
    """The figures' promise (decisions/0101): the last probe goes unanswered, and a request
    never acknowledged is given up, before a reply the tool may hold has run out, so a held
    read on a dead peer ends as a lost connection."""
    assert KEEPALIVE_IDLE_S + KEEPALIVE_INTERVAL_S * KEEPALIVE_PROBES < HOLD_S
    assert TCP_USER_TIMEOUT_S < HOLD_S


def assert_keeps_alive(sock: socket.socket) -> None:
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
    set_options = {
        (level, option): sock.getsockopt(level, option) for level, option in KEEPALIVE_OPTIONS
    }
    assert set_options == KEEPALIVE_OPTIONS
    if hasattr(socket, "TCP_KEEPIDLE"):  # Linux: the figures are the ones the kernel uses
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_PROBES
        user_timeout_ms = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
        assert user_timeout_ms == TCP_USER_TIMEOUT_S * 1000


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"], ids=["modbus-tcp", "modbus-rtu-socket"])
async def test_a_modbus_link_over_tcp_keeps_alive(
    start_mixer: StartMixer, stack: AsyncExitStack, transport: str
):
    server, _ = await start_mixer(transport)
    link = await stack.enter_async_context(ModbusLink(server.address, tool="mixer"))
    assert isinstance(link, ModbusLink)
    assert_keeps_alive(link._connected_client().ctx.transport.get_extra_info("socket"))
    # Once reconnected too: every connection the link opens, not the first alone.
    await link.close()
    await link.connect()
    assert_keeps_alive(link._connected_client().ctx.transport.get_extra_info("socket"))
    assert await link.read_holding_registers(100, 1) == [0]


async def test_a_serial_link_to_a_serial_device_server_keeps_alive(
    start_meter: StartMeter, stack: AsyncExitStack
):
    server, _ = await start_meter("serial-socket")
    assert server.address.startswith("socket://")
    link = await stack.enter_async_context(SerialLink(server.address, tool="meter"))
    assert isinstance(link, SerialLink)
    assert link._port is not None
    assert link._port.transport is not None
    assert_keeps_alive(link._port.transport.get_extra_info("socket"))
    assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


async def test_a_visa_socket_link_keeps_alive(start_meter: StartMeter, stack: AsyncExitStack):
    server, _ = await start_meter("visa-tcp")
    assert server.address.upper().endswith("::SOCKET")
    link = await stack.enter_async_context(VisaLink(server.address, tool="meter"))
    assert isinstance(link, VisaLink)
    assert link._resource is not None
    sock = _socket_of(link._resource)
    assert sock is not None
    assert_keeps_alive(sock)
    assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


async def test_an_hsms_link_keeps_alive(stack: AsyncExitStack):
    equipment = await stack.enter_async_context(HsmsLink("127.0.0.1", 0, mode="passive"))
    link = await stack.enter_async_context(
        SecsLink(f"hsms://127.0.0.1:{equipment.port}", tool="bonder")
    )
    assert isinstance(link, SecsLink)
    connection = link.hsms._connection
    assert connection is not None
    assert connection.transport is not None
    assert link.hsms.selected
    assert_keeps_alive(connection.transport.get_extra_info("socket"))
