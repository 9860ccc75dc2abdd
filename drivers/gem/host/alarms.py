"""S5: the equipment's alarms, enabled and listed (S5F1 reports arrive as pushed messages)."""

from __future__ import annotations

from collections.abc import Sequence

from ...secs.data_items import ALARM_SET
from ...secs.items import B, L
from ..records import AlarmReport, GemId
from .session import HostSession


class AlarmMessages(HostSession):
    """S5F3 enable or disable alarms, S5F5 list them."""

    async def enable_alarms(self, alids: Sequence[GemId], enable: bool = True) -> None:
        """S5F3 for each alarm: enable (or disable) its S5F1 reports; ACKC5 1 refuses."""
        for alid in alids:
            action = f"S5F3 {'enable' if enable else 'disable'} alarm {alid}"
            body = L(B(bytes([ALARM_SET if enable else 0])), self.id_item(alid))
            code = self._replies.ack(action, await self._transact(5, 3, body), "ACKC5")
            self._replies.refuse_unless(action, "ACKC5", code)

    async def request_alarm_list(self, alids: Sequence[GemId] = ()) -> list[AlarmReport]:
        """S5F5: every alarm (or `alids`) with whether it is set now (ALCD bit 8) and its text.

        The ALIDs go as a list of items, as secsgem and most tools read them (E5 writes an
        array; the simulated equipment reads both).
        """
        action = "S5F5 list alarms"
        body = await self._transact(5, 5, L(*(self.id_item(alid) for alid in alids)))
        return [self._replies.alarm(action, row) for row in self._replies.list_of(action, body)]
