"""S10: terminal services, text shown on the equipment's terminal (S10F1 arrives pushed)."""

from __future__ import annotations

from collections.abc import Sequence

from ...secs.items import A, B, L
from .session import HostSession


class TerminalMessages(HostSession):
    """S10F3/5 text on the equipment's terminal."""

    async def send_terminal_message(self, text: str, terminal: int = 0) -> None:
        """S10F3: show `text` on the equipment's terminal `terminal`; ACKC10 1-2 refuses."""
        action = "S10F3 terminal display"
        body = L(B(bytes([terminal])), A(text))
        code = self._replies.ack(action, await self._transact(10, 3, body), "ACKC10")
        self._replies.refuse_unless(action, "ACKC10", code)

    async def send_terminal_lines(self, lines: Sequence[str], terminal: int = 0) -> None:
        """S10F5: show several lines at once on the equipment's terminal `terminal` (E5's
        multi-block display); ACKC10 1-2 refuses."""
        action = "S10F5 terminal display, multi-block"
        body = L(B(bytes([terminal])), L(*(A(line) for line in lines)))
        code = self._replies.ack(action, await self._transact(10, 5, body), "ACKC10")
        self._replies.refuse_unless(action, "ACKC10", code)
