"""S7: the equipment's process programs, stored, read, deleted and listed."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import CommandRefused
from ...secs.items import A, B, L
from .session import HostSession


class ProcessProgramMessages(HostSession):
    """S7F3/5/17/19 process programs by PPID."""

    async def send_process_program(self, ppid: str, body: bytes | str) -> None:
        """S7F3: store process program `ppid` on the equipment; ACKC7 1-7 refuses."""
        action = f"S7F3 send process program {ppid}"
        ppbody = B(body) if isinstance(body, bytes) else A(body)
        code = self._replies.ack(action, await self._transact(7, 3, L(A(ppid), ppbody)), "ACKC7")
        self._replies.refuse_unless(action, "ACKC7", code)

    async def request_process_program(self, ppid: str) -> bytes | str:
        """S7F5: the body of process program `ppid`; one the equipment lacks is refused
        (E30: an empty list) as ACKC7 4."""
        action = f"S7F5 process program {ppid}"
        items = self._replies.list_of(action, await self._transact(7, 5, A(ppid)))
        if not items:
            raise CommandRefused(
                self.tool, self.address, action, "ACKC7 4: PPID not found", "ACKC7 4"
            )
        if len(items) != 2:
            raise self._replies.malformed(
                action, f"expected PPID and PPBODY, got {len(items)} items"
            )
        body = items[1].value
        if not isinstance(body, bytes | str):
            raise self._replies.malformed(
                action, f"PPBODY must be binary or text, got {items[1].format}"
            )
        return body

    async def delete_process_programs(self, ppids: Sequence[str] = ()) -> None:
        """S7F17: delete `ppids` (empty: every process program); ACKC7 1-7 refuses."""
        action = "S7F17 delete process programs"
        body = L(*(A(ppid) for ppid in ppids))
        code = self._replies.ack(action, await self._transact(7, 17, body), "ACKC7")
        self._replies.refuse_unless(action, "ACKC7", code)

    async def request_process_program_list(self) -> list[str]:
        """S7F19: the PPIDs the equipment holds."""
        action = "S7F19 process program list"
        ppids = []
        for ppid in self._replies.list_of(action, await self._transact(7, 19, None)):
            text = self._replies.scalar(action, ppid)
            if not isinstance(text, str):
                raise self._replies.malformed(action, "a PPID must be text")
            ppids.append(text)
        return ppids
