"""What the Modbus PLC pages' tests share: a page's example exchange replayed on a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from packline.drivers.families.plc_map import example_frames

Replay = Callable[[str, str], Awaitable[None]]


async def _replay(address: str, page: str) -> None:
    """Send each request of the "Example exchange" of `page` (its text) to the Modbus TCP
    server at `address` (`host:port`) and check that the reply is the page's, byte for byte."""
    port = int(address.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request, reply in example_frames(page):
            writer.write(request)
            header = await asyncio.wait_for(reader.readexactly(6), 5)
            answer = header + await reader.readexactly(int.from_bytes(header[4:], "big"))
            assert (request.hex(" "), answer.hex(" ")) == (request.hex(" "), reply.hex(" "))
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.fixture
def replay_example() -> Replay:
    """The replay of a page's example exchange against a simulated tool's Modbus server."""
    return _replay
