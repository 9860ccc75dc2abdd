"""NullModem: two ptys wired to each other."""

from __future__ import annotations

import asyncio
import os
import tty

from packline.sim_instruments.servers import NullModem


async def read_some(fd: int) -> bytes:
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    try:
        async with asyncio.timeout(1):
            await readable.wait()
    finally:
        loop.remove_reader(fd)
    return os.read(fd, 1000)


async def test_bytes_cross_both_ways():
    async with NullModem() as (left, right):
        fds = [os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK) for path in (left, right)]
        try:
            for fd in fds:
                tty.setraw(fd)
            os.write(fds[0], b"\x01\x03\x00\x00")
            assert await read_some(fds[1]) == b"\x01\x03\x00\x00"
            os.write(fds[1], b"\xff\n")
            assert await read_some(fds[0]) == b"\xff\n"
        finally:
            for fd in fds:
                os.close(fd)


async def test_open_close():
    modem = NullModem()
    left, right = modem.open()
    assert left != right
    assert modem.ends == (left, right)
    modem.close()
    modem.close()
