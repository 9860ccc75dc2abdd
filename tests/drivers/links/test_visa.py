"""VisaLink details that only VISA has: its own timeout, and pyvisa-py's blind spot for FIN."""

from __future__ import annotations

import asyncio
import errno
import os
import time

import pytest

from packline.drivers.errors import ConnectionLost, ToolTimeout
from packline.drivers.links import ReconnectPolicy, VisaLink
from packline.sim_instruments.servers import TextToolServer
from packline.testing.timing import Stopwatch


def test_visa_timeout_fires_a_little_before_the_link_timeout():
    assert VisaLink("TCPIP0::h::1::SOCKET", timeout_s=2.0).visa_timeout_ms == 1950
    assert VisaLink("TCPIP0::h::1::SOCKET", timeout_s=0.2).visa_timeout_ms == 180


@pytest.fixture
async def closing_peer():
    """A peer that closes the connection cleanly (FIN) as soon as a request arrives."""

    def on_connect(reader, writer):
        async def close_on_data():
            await reader.read(100)
            writer.close()

        tasks.add(asyncio.create_task(close_on_data()))

    tasks: set[asyncio.Task[None]] = set()
    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await asyncio.gather(*tasks)
    await server.wait_closed()


async def test_peer_closing_cleanly_is_connection_lost_not_timeout(closing_peer):
    link = VisaLink(
        f"TCPIP0::127.0.0.1::{closing_peer}::SOCKET",
        tool="meter",
        timeout_s=0.3,
        reconnect=ReconnectPolicy(attempts=0),
    )
    async with link:
        watch = Stopwatch()
        with pytest.raises(ConnectionLost, match="the tool closed the connection"):
            await link.query("*IDN?")
        # pyvisa-py only notices at its own timeout, which is below the link's.
        assert watch.elapsed_s() < watch.bound_s(0.3)


async def silent(line: str) -> None:
    """A tool that never answers."""
    return None


async def test_silent_peer_is_tool_timeout_from_the_visa_timeout():
    async with TextToolServer(silent) as server:
        link = VisaLink(server.address, timeout_s=1.0)
        # Well below the link's timeout (by default it is 50 ms below): the worker thread
        # has 0.7 s, not 50 ms, to wake from its last slice on a loaded machine.
        link.visa_timeout_ms = 300
        async with link:
            with pytest.raises(ToolTimeout) as timeout:
                await link.query("*IDN?")
    # Raised from the VISA timeout in the worker, not by cancelling the worker.
    assert isinstance(timeout.value.__context__, TimeoutError)
    assert "VI_ERROR_TMO" in str(timeout.value.__context__)


async def test_the_visa_timeout_counts_from_the_exchange_not_from_a_late_worker():
    """On a loaded machine the worker thread gets to a read late (here it is busy for 0.75 s
    of the link's 1 s): the read's deadline (0.5 s) has passed by then and it ends at once,
    before the link's timeout, instead of reading on for 0.5 s until the link cancels it."""
    async with TextToolServer(silent) as server:
        link = VisaLink(server.address, timeout_s=1.0)
        link.visa_timeout_ms = 500
        async with link:
            assert link._worker is not None
            link._worker.submit(time.sleep, 0.75)
            with pytest.raises(ToolTimeout) as timeout:
                await link.query("*IDN?")
    assert "VI_ERROR_TMO" in str(timeout.value.__context__)


async def test_a_connection_tcp_gave_up_is_connection_lost_not_timeout(
    monkeypatch: pytest.MonkeyPatch,
):
    """A socket whose keepalive probes went unanswered fails its read with ETIMEDOUT, which
    Python raises as a TimeoutError: the connection is lost, the link's timeout never ran."""

    def connection_timed_out(count: int) -> tuple[bytes, int]:
        raise OSError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))

    async with TextToolServer(silent) as server:
        link = VisaLink(server.address, tool="meter", reconnect=ReconnectPolicy(attempts=0))
        async with link:
            assert link._resource is not None
            session = link._resource.visalib.sessions[link._resource.session]  # type: ignore[attr-defined]
            monkeypatch.setattr(session, "read", connection_timed_out)
            with pytest.raises(ConnectionLost, match=r"the tool stopped answering TCP"):
                await link.query("*IDN?")
            assert not link.connected
