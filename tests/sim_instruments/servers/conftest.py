"""Independent clients (socat, mbpoll) run as subprocesses, always within a timeout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from packline.testing import clients

RunClient = Callable[..., Awaitable[str]]


@pytest.fixture
def run_client() -> RunClient:
    """Run a command-line client to completion and return its stdout; fail on error or hang."""

    async def run(*argv: str, stdin: bytes = b"", timeout_s: float = 10.0) -> str:
        result = await clients.run_client(*argv, stdin=stdin, timeout_s=timeout_s)
        assert result.returncode == 0, f"{argv} failed: {result.stderr}"
        return result.stdout

    return run


async def echo_upper(line: str) -> str | None:
    """A trivial text tool: answers a query (ending in ?) with it in upper case."""
    return line.upper() if line.endswith("?") else None


@pytest.fixture
def echo_handler():
    return echo_upper
