"""What a served simulated line is doing, told as it changes (`packline sim serve`).

A person at the terminal of `sim serve` sees each alarm a tool latches (as it is latched), and,
looking at the line every `interval_s` of wall time, each tool's clients come and go, its
alarms cleared, and each job a tool did to a workpiece (the twin's process history: the tool,
the operation, the wafer). A look reads the tools' state and changes nothing (a tool's model
is not advanced by it: a job shows once a client has seen it happen).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .line import SimulatedLine

#: How often the line is looked at, in seconds of wall time.
WATCH_INTERVAL_S = 0.5


class LineWatch:
    """Reports to `report` what `line` does: each alarm as it is latched, and at each `look`
    what else changed since the last one."""

    def __init__(self, line: SimulatedLine, report: Callable[[str], None]) -> None:
        self.line = line
        self.report = report
        self._connections: dict[str, int | None] = {}
        self._alarmed: set[str] = set()
        self._jobs: dict[str, int] = {}
        for tool in line.tools.values():
            tool.alarm_listeners.append(self._alarm)

    def _alarm(self, name: str, code: str) -> None:
        self._alarmed.add(name)
        text = self.line.tools[name].spec.alarm_by_code[code].text
        self.report(f"{name}: alarm {code} ({text})")

    def connections(self, name: str) -> int | None:
        """How many clients are connected to tool `name` now (None: its wire has no notion
        of a connection, a pty): a GEM tool's selected HSMS session, else its server's."""
        server = self.line.gem_servers.get(name)
        if server is not None:
            return int(server.link is not None and server.link.selected)
        return self.line.tools[name].connections

    def look(self) -> None:
        """Report every change since the last look (the first look reports none: it is the
        state the line was served in): clients, alarms cleared, jobs done."""
        first = not self._connections
        for name, tool in self.line.tools.items():
            count = self.connections(name)
            if not first and count != self._connections.get(name):
                self.report(f"{name}: {count} client connection(s)")
            self._connections[name] = count
            if name in self._alarmed and not tool.alarms:
                self._alarmed.discard(name)
                self.report(f"{name}: alarms cleared")
        for workpiece in self.line.twin:
            seen = self._jobs.get(workpiece.id, 0)
            for event in workpiece.history[seen:]:
                self.report(
                    f"{event.tool}: {event.operation} on {workpiece.id} (t = {event.time_s:.0f} s)"
                )
            self._jobs[workpiece.id] = len(workpiece.history)

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Look at the line every `interval_s` until cancelled."""
        while True:
            self.look()
            await asyncio.sleep(interval_s)
