"""A tool's alarms as its driver knows them: the active ones, and the history of cleared ones.

The driver learns them from the tool (a read of its alarm list, or an alarm the tool pushes);
an alarm that is no longer reported is cleared and kept in the history with both times.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ToolAlarm
from .vocabulary import Alarm


class AlarmList:
    """The active alarms by code and the cleared ones, oldest first."""

    def __init__(self) -> None:
        self.active: dict[str, Alarm] = {}
        self.history: list[Alarm] = []

    def update(self, reported: Mapping[str, str], now_s: float) -> None:
        """Take the tool's whole list of active alarms (code -> message) at `now_s`."""
        for code in list(self.active):
            if code not in reported:
                self.clear(code, now_s)
        for code, message in reported.items():
            self.set(code, message, now_s)

    def set(self, code: str, message: str, now_s: float) -> None:
        """Alarm `code` is active (since `now_s`, unless it already was)."""
        if code not in self.active:
            self.active[code] = Alarm(code, message, now_s)

    def clear(self, code: str, now_s: float) -> None:
        """Alarm `code` is gone at `now_s` (into the history, if it was active)."""
        alarm = self.active.pop(code, None)
        if alarm is not None:
            self.history.append(
                Alarm(alarm.code, alarm.message, alarm.raised_at_s, cleared_at_s=now_s)
            )

    def error(self, tool: str, address: str, action: str) -> ToolAlarm:
        """The error that ends `action` on the tool because of its active alarms."""
        return ToolAlarm(
            tool, address, action, [f"{a.code} ({a.message})" for a in self.active.values()]
        )
