"""What a served simulated line is doing, told as it changes (`packline sim serve`).

A person at the terminal of `sim serve` sees each alarm a tool latches (as it is latched), each
client connection to a tool as it opens and as it ends (its servers tell them: one that opens
and ends at once, a port check, would fall between two looks), and each job a tool ends as it
ends (the tool tells it, `SimulatedTool.job_ended`): the tool, the operation, its workpieces
and how it ended, completed, aborted, or broken off by an alarm, which it names (a trial had
read a job a wire break broke off as done; a plasma clean an alarm broke off had gone unsaid,
the twin's history recording a clean only when it completes). Looking at the line every
`interval_s` of wall time, it sees a GEM tool's HSMS sessions come and go and each tool's
alarms cleared. Nothing here advances a tool's model: a job shows once a client has seen it
happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from .line import SimulatedLine
from .servers.base import ConnectionChange
from .tool import EndedJob
from .twin import JobEnd

#: How often the line is looked at, in seconds of wall time.
WATCH_INTERVAL_S = 0.5


class LineWatch:
    """Reports to `report` what `line` does: each alarm, connection and job's end as it
    happens, and at each `look` what else changed since the last one."""

    def __init__(self, line: SimulatedLine, report: Callable[[str], None]) -> None:
        self.line = line
        self.report = report
        self._sessions: dict[str, int] = {}
        self._looked = False
        self._alarmed: set[str] = set()
        for name, tool in line.tools.items():
            tool.alarm_listeners.append(self._alarm)
            tool.job_listeners.append(self._job_ended)
            tool.connection_listeners.append(partial(self._connection, name))

    def _alarm(self, name: str, code: str) -> None:
        self._alarmed.add(name)
        text = self.line.tools[name].spec.alarm_by_code[code].text
        self.report(f"{name}: alarm {code} ({text})")

    def _connection(self, name: str, address: str, client: str, change: ConnectionChange) -> None:
        if change is ConnectionChange.CLOSED:
            self.report(f"{name}: {address} closed the connection of client {client} (stopping)")
            return
        how = "connected to" if change is ConnectionChange.OPENED else "disconnected from"
        self.report(f"{name}: client {client} {how} {address}")

    def _job_ended(self, job: EndedJob) -> None:
        """`TOOL: OPERATION on WORKPIECES (t = ... s): ENDING`: `completed`, `aborted` or
        `broken off by alarm CODE`."""
        on = f" on {', '.join(job.workpieces)}" if job.workpieces else " (no workpiece)"
        ending = f"broken off by alarm {job.alarm}" if job.end is JobEnd.FAULTED else job.end.value
        self.report(f"{job.tool}: {job.operation}{on} (t = {job.time_s:.0f} s): {ending}")

    def look(self) -> None:
        """Report every change since the last look (the first look reports none: it is the
        state the line was served in): GEM sessions and alarms cleared."""
        for name, server in self.line.gem_servers.items():
            selected = int(server.link is not None and server.link.selected)
            if self._looked and selected != self._sessions.get(name):
                self.report(f"{name}: {selected} HSMS session(s) selected")
            self._sessions[name] = selected
        self._looked = True
        for name, tool in self.line.tools.items():
            if name in self._alarmed and not tool.alarms:
                self._alarmed.discard(name)
                self.report(f"{name}: alarms cleared{_still_injected(tool.injected)}")

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Look at the line every `interval_s` until cancelled."""
        while True:
            self.look()
            await asyncio.sleep(interval_s)


def _still_injected(faults: set[str]) -> str:
    """What a tool whose alarms were cleared still suffers: its injected faults, whose alarms
    come again when their cause shows (a trial read `alarms cleared` one second after an
    injected fault tripped as the fault gone)."""
    if not faults:
        return ""
    return f" (still injected: {', '.join(sorted(faults))}; its alarm comes again as it shows)"
