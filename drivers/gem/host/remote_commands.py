"""S2F41: the host's remote commands (E30 remote control)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...errors import CommandRefused
from ...secs.data_items import HCACK_ACCEPTED, ack_text
from ...secs.items import A, Item, L
from .session import HostSession


class RemoteCommandMessages(HostSession):
    """S2F41 remote commands, their HCACK and each refused parameter's CPACK."""

    async def send_remote_command(
        self, rcmd: str, parameters: Mapping[str, Item] | None = None
    ) -> int:
        """S2F41: run remote command `rcmd` with its parameters; returns HCACK (0 done, 4 will
        be done, its completion signalled by an event).

        Any other HCACK is a `CommandRefused` naming the code's meaning and each refused
        parameter's CPACK (`send_remote_command_allowing` accepts other codes, such as
        `HCACK_ALREADY` for a command that brings the tool to a safe state).
        """
        return await self.send_remote_command_allowing(rcmd, parameters, HCACK_ACCEPTED)

    async def send_remote_command_allowing(
        self, rcmd: str, parameters: Mapping[str, Item] | None, accepted: Iterable[int]
    ) -> int:
        """S2F41 as `send_remote_command`, accepting the HCACK codes `accepted`."""
        action = f"S2F41 remote command {rcmd}"
        body = L(
            A(rcmd),
            L(*(L(A(name), value) for name, value in (parameters or {}).items())),
        )
        hcack_item, refused = self._replies.list_of(action, await self._transact(2, 41, body), 2)
        hcack = self._replies.ack(action, hcack_item, "HCACK")
        if hcack in tuple(accepted):
            return hcack
        reasons = []
        for row in self._replies.list_of(action, refused):
            name, cpack = self._replies.list_of(action, row, 2)
            code = self._replies.ack(action, cpack, "CPACK")
            reasons.append(f"{self._replies.scalar(action, name)!s}: {ack_text('CPACK', code)}")
        detail = f"HCACK {hcack}: {ack_text('HCACK', hcack)}"
        if reasons:
            detail += " (" + "; ".join(reasons) + ")"
        raise CommandRefused(self.tool, self.address, action, detail, f"HCACK {hcack}")
