"""What a served simulated line is doing, told as it changes (`packline sim serve`).

A person at the terminal of `sim serve` sees each alarm a tool latches (as it is latched) and
each client connection to a tool as it opens and as it ends (its servers tell them: one that
opens and ends at once, a port check, would fall between two looks), and, looking at the line
every `interval_s` of wall time, a GEM tool's HSMS sessions come and go, each tool's alarms
cleared, and each job a tool did to a workpiece (the twin's process history: the tool, the
operation, the wafer) and how it ended: completed, aborted, or broken off by an alarm, which
it names (a trial had read a job a wire break broke off as done). A look reads the tools'
state and changes nothing (a tool's model is not advanced by it: a job shows once a client
has seen it happen).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from .line import SimulatedLine
from .servers.base import ConnectionChange
from .twin import JobEnd, ProcessEvent

#: How often the line is looked at, in seconds of wall time.
WATCH_INTERVAL_S = 0.5
#: The words a tool's event says how its job ended in (its `result` or `outcome`, or the
#: operation's last word: `grind faulted`, `laminate faulted`), each tool's protocol's own
#: (`JobEnd` where it has none), by how the job ended. An event without one is recorded only
#: when what it tells was done (a plasma clean, a deposition, a press, a chunk of bonds).
ENDINGS = {
    JobEnd.COMPLETED: {"completed", "done"},
    JobEnd.ABORTED: {"aborted", "stopped"},
    JobEnd.FAULTED: {"faulted", "alarm"},
}


class LineWatch:
    """Reports to `report` what `line` does: each alarm as it is latched, and at each `look`
    what else changed since the last one."""

    def __init__(self, line: SimulatedLine, report: Callable[[str], None]) -> None:
        self.line = line
        self.report = report
        self._sessions: dict[str, int] = {}
        self._looked = False
        self._alarmed: set[str] = set()
        #: Each tool's last alarm latched, which names the alarm that broke off a job whose
        #: event does not (the tool latches it as the job ends).
        self._last_alarm: dict[str, str] = {}
        self._jobs: dict[str, int] = {}
        for name, tool in line.tools.items():
            tool.alarm_listeners.append(self._alarm)
            tool.connection_listeners.append(partial(self._connection, name))

    def _alarm(self, name: str, code: str) -> None:
        self._alarmed.add(name)
        self._last_alarm[name] = code
        text = self.line.tools[name].spec.alarm_by_code[code].text
        self.report(f"{name}: alarm {code} ({text})")

    def _connection(self, name: str, address: str, client: str, change: ConnectionChange) -> None:
        if change is ConnectionChange.CLOSED:
            self.report(f"{name}: {address} closed the connection of client {client} (stopping)")
            return
        how = "connected to" if change is ConnectionChange.OPENED else "disconnected from"
        self.report(f"{name}: client {client} {how} {address}")

    def look(self) -> None:
        """Report every change since the last look (the first look reports none: it is the
        state the line was served in): GEM sessions, alarms cleared, jobs and how they
        ended."""
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
        for workpiece in self.line.twin:
            seen = self._jobs.get(workpiece.id, 0)
            for event in workpiece.history[seen:]:
                self.report(
                    f"{event.tool}: {event.operation} on {workpiece.id} "
                    f"(t = {event.time_s:.0f} s): {self._ending(event)}"
                )
            self._jobs[workpiece.id] = len(workpiece.history)

    def _ending(self, event: ProcessEvent) -> str:
        """How the job of `event` ended, said: `completed`, `aborted`, or `broken off by
        alarm CODE`."""
        said = {str(event.detail.get("result")), str(event.detail.get("outcome"))}
        said.add(event.operation.rsplit(" ", 1)[-1])
        ending = next((end for end, words in ENDINGS.items() if said & words), JobEnd.COMPLETED)
        if ending is not JobEnd.FAULTED:
            return ending.value
        # every alarm a served tool latches is heard (the watch begins with the line)
        alarm = event.detail.get("alarm") or self._last_alarm[event.tool]
        return f"broken off by alarm {alarm}"

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
