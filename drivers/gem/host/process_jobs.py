"""S16: E40 process jobs, created, commanded, dequeued and listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...secs.data_items import MF_SUBSTRATES
from ...secs.items import BOOLEAN, U1, A, B, Item, L, item
from .session import HostSession


class ProcessJobMessages(HostSession):
    """S16F11/5/17/19 process jobs (their state changes arrive as collection events)."""

    async def create_process_job(
        self,
        prjobid: str,
        material_ids: Sequence[str],
        recipe: str,
        variables: Mapping[str, Item] | None = None,
        *,
        start: bool = True,
    ) -> None:
        """S16F11: create process job `prjobid` on substrates `material_ids` (MF 14) with the
        recipe (PPID) `recipe`, tuned by `variables` (RCPPARNM -> RCPPARVAL; PRRECIPEMETHOD 2
        when there are any), started as soon as its material is there unless `start` is False
        (then `send_process_job_command(prjobid, "START")`). Refused (ACKA false): a
        `CommandRefused` with each ERRCODE and its text."""
        action = f"S16F11 create process job {prjobid}"
        body = L(
            item(self.id_format, 0),
            A(prjobid),
            B(bytes([MF_SUBSTRATES])),
            L(*(A(mid) for mid in material_ids)),
            L(
                U1(2 if variables else 1),
                A(recipe),
                L(*(L(A(name), value) for name, value in (variables or {}).items())),
            ),
            BOOLEAN(start),
            L(),
        )
        _, status = self._replies.list_of(action, await self._transact(16, 11, body), 2)
        self._replies.refuse_unless_acka(action, status)

    async def send_process_job_command(self, prjobid: str, command: str) -> None:
        """S16F5: job command `command` (START, STOP, ABORT, CANCEL, PAUSE, RESUME) for
        `prjobid`; refused (ACKA false) is a `CommandRefused` naming each ERRCODE."""
        action = f"S16F5 {command} process job {prjobid}"
        body = L(item(self.id_format, 0), A(prjobid), A(command), L())
        _, status = self._replies.list_of(action, await self._transact(16, 5, body), 2)
        self._replies.refuse_unless_acka(action, status)

    async def dequeue_process_jobs(self, prjobids: Sequence[str] = ()) -> list[str]:
        """S16F17: take jobs that have not started off the queue (none named: every such
        job); returns those taken. Any refused is a `CommandRefused` (the others are taken)."""
        action = "S16F17 dequeue process jobs"
        body = await self._transact(16, 17, L(*(A(prjobid) for prjobid in prjobids)))
        taken, status = self._replies.list_of(action, body, 2)
        self._replies.refuse_unless_acka(action, status)
        taken_ids = self._replies.list_of(action, taken)
        return [str(self._replies.scalar(action, prjobid)) for prjobid in taken_ids]

    async def request_process_jobs(self) -> dict[str, int]:
        """S16F19: every process job on the equipment and its state (E40 PRJOBSTATE)."""
        action = "S16F19 process jobs"
        jobs = {}
        for row in self._replies.list_of(action, await self._transact(16, 19, None)):
            prjobid, state = self._replies.list_of(action, row, 2)
            jobs[str(self._replies.scalar(action, prjobid))] = self._replies.ack(
                action, state, "PRJOBSTATE"
            )
        return jobs
