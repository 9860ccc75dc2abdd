"""Independent clients (socat, mbpoll) run as subprocesses, always within a timeout."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest

RunClient = Callable[..., Awaitable[str]]


@pytest.fixture
def run_client() -> RunClient:
    """Run a command-line client to completion and return its stdout; fail on error or hang."""

    async def run(*argv: str, stdin: bytes = b"", timeout_s: float = 10.0) -> str:
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
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        assert process.returncode == 0, f"{argv} failed: {err.decode(errors='replace')}"
        return out.decode(errors="replace")

    return run


async def echo_upper(line: str) -> str | None:
    """A trivial text tool: answers a query (ending in ?) with it in upper case."""
    return line.upper() if line.endswith("?") else None


@pytest.fixture
def echo_handler():
    return echo_upper
