"""What every simulated tool is: a process model of one tool kind, served on the wire.

A simulated tool owns its tool state and physics, changes the shared workpiece twin, keeps
process time on the line's clock, and is reached only through a real server speaking the
tool's documented protocol. It remembers every request it was sent (`received`), so a test can
prove that a refused recipe reached no tool. Faults that a real tool would suffer (a leak, a
worn blade) are injected with `inject_fault` and show up on the wire as the tool's own alarms.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

from packline.clock import Clock, WallClock

from .servers import ToolServer
from .twin import TwinStore


class SimulatedTool(ABC):
    """Base of every simulated tool."""

    #: The faults `inject_fault` accepts, name -> what it does to the tool.
    faults: ClassVar[dict[str, str]] = {}

    def __init__(self, name: str, twin: TwinStore, clock: Clock | None = None) -> None:
        self.name = name
        self.twin = twin
        self.clock: Clock = clock or WallClock()
        self.received: list[str] = []
        self.injected: set[str] = set()
        self._server: ToolServer | None = None

    @abstractmethod
    def make_server(self, host: str, port: int) -> ToolServer:
        """Build (not start) the server that puts this tool on the wire."""

    @property
    def address(self) -> str:
        if self._server is None:
            raise RuntimeError(f"simulated {self.name} is not being served")
        return self._server.address

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the tool; returns its address in station-file form."""
        if self._server is not None:
            raise RuntimeError(f"simulated {self.name} is already served at {self.address}")
        server = self.make_server(host, port)
        address = await server.start()
        self._server = server
        return address

    async def stop(self) -> None:
        """Stop serving; every client connection drops at once (the tool died)."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def inject_fault(self, fault: str) -> None:
        """Make the tool suffer `fault` (one of `faults`) until `clear_fault`."""
        self._check_fault(fault)
        self.injected.add(fault)

    def clear_fault(self, fault: str) -> None:
        """Repair `fault` (one of `faults`); clearing one that is not injected does nothing."""
        self._check_fault(fault)
        self.injected.discard(fault)

    def _check_fault(self, fault: str) -> None:
        # A misspelt name must not pass silently: clear_fault("rf_mismach") would leave the
        # fault in and the test or dry run would chase the wrong cause.
        if fault not in self.faults:
            raise ValueError(
                f"simulated {self.name} has no fault {fault!r}; known: {', '.join(self.faults)}"
            )
