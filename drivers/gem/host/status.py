"""S1, the equipment's status: are you there, communication and online state, status variables."""

from __future__ import annotations

from collections.abc import Sequence

from ...secs.items import Item, L
from ..records import GemId
from .session import HostSession


class StatusMessages(HostSession):
    """S1: whether the equipment answers, its communication and online state, its SVs."""

    async def are_you_there(self) -> tuple[str, str]:
        """S1F1: the equipment's model name and software revision (MDLN, SOFTREV)."""
        action = "S1F1 are you there"
        body = await self._transact(1, 1, None)
        return self._replies.model(action, body)

    async def establish_communication(self) -> tuple[str, str]:
        """S1F13: establish communication (E30 communication state); returns MDLN, SOFTREV.

        COMMACK 1 (denied) is a `CommandRefused`.
        """
        action = "S1F13 establish communication"
        body = await self._transact(1, 13, L())
        commack, model = self._replies.list_of(action, body, 2)
        self._replies.refuse_unless(
            action, "COMMACK", self._replies.ack(action, commack, "COMMACK")
        )
        return self._replies.model(action, model)

    async def request_online(self) -> bool:
        """S1F17: ask for the online state; False if the equipment was already online.

        ONLACK 1 (not allowed, e.g. the operator holds it offline) is a `CommandRefused`.
        """
        action = "S1F17 request online"
        code = self._replies.ack(action, await self._transact(1, 17, None), "ONLACK")
        self._replies.refuse_unless(action, "ONLACK", code, (0, 2))
        return code == 0

    async def request_offline(self) -> None:
        """S1F15: ask the equipment to go offline (it then answers only S1F13/S1F17)."""
        action = "S1F15 request offline"
        code = self._replies.ack(action, await self._transact(1, 15, None), "OFLACK")
        self._replies.refuse_unless(action, "OFLACK", code)

    async def request_status_variables(self, svids: Sequence[GemId]) -> list[Item]:
        """S1F3: the values of `svids`, in that order (an empty list asks for every SV).

        An SV the equipment does not know comes back as an empty item (E30), which is passed on
        as it is; the caller decides whether that is an error.
        """
        action = "S1F3 status variables"
        body = await self._transact(1, 3, L(*(self.id_item(svid) for svid in svids)))
        values = list(self._replies.list_of(action, body))
        if svids and len(values) != len(svids):
            raise self._replies.malformed(
                action, f"asked {len(svids)} SVs, got {len(values)} values"
            )
        return values

    async def request_status_variable_namelist(
        self, svids: Sequence[GemId] = ()
    ) -> dict[GemId, tuple[str, str]]:
        """S1F11: each SV's name and unit, by SVID (empty: every SV of the equipment)."""
        action = "S1F11 status variable namelist"
        body = await self._transact(1, 11, L(*(self.id_item(svid) for svid in svids)))
        names: dict[GemId, tuple[str, str]] = {}
        for row in self._replies.list_of(action, body):
            svid, name, unit = self._replies.list_of(action, row, 3)
            text = (self._replies.scalar(action, name), self._replies.scalar(action, unit))
            if not all(isinstance(part, str) for part in text):
                raise self._replies.malformed(action, "SVNAME and UNITS must be text")
            names[self._replies.id_of(action, svid)] = text  # type: ignore[assignment]
        return names
