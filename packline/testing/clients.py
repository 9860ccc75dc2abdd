"""Independent protocol clients (Debian's socat and mbpoll, PyVISA) run against simulated tools.

A wire test proves that a simulated tool speaks its documented protocol to a client packline
did not write. The client runs as a subprocess bounded by a timeout (killed if it hangs); a
test is skipped where the client is not installed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass

import pytest

from packline.sim_instruments.tool import SimulatedTool


@dataclass(frozen=True)
class ClientRun:
    """What a client printed, and how it ended."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


async def run_client(*argv: str, stdin: bytes = b"", timeout_s: float = 10.0) -> ClientRun:
    """Run `argv` with `stdin` to completion within `timeout_s` (killed past it)."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate(stdin)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return ClientRun(process.returncode or 0, out.decode(errors="replace"), err.decode())


async def socat_session(tool: SimulatedTool, stdin: bytes) -> list[str]:
    """Serve `tool` (a line tool on a `socket://` address or a pty), send it `stdin` with socat
    (raw TCP, or the pty raw without echo), then stop serving it; the lines socat printed.
    socat must end cleanly; it waits a second after its input ends for the last replies."""
    address = await tool.start()
    try:
        if address.startswith("socket://"):
            target = "TCP:" + address.removeprefix("socket://")  # the page's form: raw TCP
        else:
            target = f"{address},raw,echo=0"
        result = await run_client("socat", "-t", "1", "-", target, stdin=stdin)
    finally:
        await tool.stop()
    assert result.returncode == 0, result.stderr
    return result.lines


#: How long mbpoll waits for a reply, s: its longest (its default, 1 s, a server on a loaded
#: machine's event loop had missed, the read then printing no register).
MBPOLL_TIMEOUT_S = 10.0


async def mbpoll(port: str, *args: str, unit: int = 1) -> tuple[int, str, str]:
    """Run mbpoll once against the holding registers of a Modbus TCP server on loopback at
    `port`, 0-based addresses, unit `unit`, waiting `MBPOLL_TIMEOUT_S` for each reply: its
    exit code, output and errors."""
    result = await run_client(
        "mbpoll", "-m", "tcp", "-a", str(unit), "-0", "-1", "-t", "4",
        "-o", f"{MBPOLL_TIMEOUT_S:g}", "-p", port, "127.0.0.1", *args,
        timeout_s=MBPOLL_TIMEOUT_S * 3,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def mbpoll_registers(output: str) -> dict[int, int]:
    """The registers mbpoll printed (`[address]: value`), by address."""
    found = re.findall(r"^\[(\d+)\]:\s+(\d+)", output, re.MULTILINE)
    return {int(address): int(value) for address, value in found}


def visa(address: str, lines: list[str]) -> list[str]:
    """Send `lines` on one PyVISA session (pyvisa-py; a query, ending in `?`, is read back);
    the replies. Blocking: call it with `asyncio.to_thread` when the tool is served on the
    same event loop."""
    import pyvisa
    from pyvisa.resources import MessageBasedResource

    manager = pyvisa.ResourceManager("@py")
    try:
        resource = manager.open_resource(
            address, read_termination="\n", write_termination="\n", timeout=5000
        )
        assert isinstance(resource, MessageBasedResource), f"{address} is not a message resource"
        try:
            replies = []
            for line in lines:
                if line.endswith("?"):
                    replies.append(resource.query(line))
                else:
                    resource.write(line)
            return replies
        finally:
            resource.close()
    finally:
        manager.close()


async def mbpoll_rtu(
    device: str, unit: int, address: int, *words: int, count: int = 1
) -> ClientRun:
    """mbpoll once on the Modbus RTU line at `device` (a serial port or pty, 19200 8N1, 2 s
    reply timeout, room for a loaded machine): `count` holding registers from `address`
    (0-based) of `unit`, or a write of `words` there."""
    count_option = [] if words else ["-c", str(count)]
    return await run_client(
        "mbpoll", "-m", "rtu", "-b", "19200", "-P", "none", "-a", str(unit), "-0", "-1",
        "-t", "4", "-o", "2", "-r", str(address), *count_option, device, *map(str, words),
    )  # fmt: skip
