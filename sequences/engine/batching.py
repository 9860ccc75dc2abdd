"""Batch formation for batch tools (TestStand's batch synchronisation).

Wafers arriving at the same batch stage gather in a forming batch; it asks for its tool when it
is full, when no other live wafer of the lot can still arrive at that stage, or when its
timeout (from its first arrival, in process time) runs out. A batch whose tool is still busy
when its timeout runs out goes on taking the wafers that arrive, up to its size, until the tool
is given to it: the wafers waiting at a busy oven all go in when it frees, as an operator
loads them (decision 0090). The first wafer leads: it takes the whole tool, runs the batch once
and hands the outcome to every member. On resume, wafers cut off inside a
batch only batch with wafers that completed the same irreversible steps of it (their
"signature"), so no irreversible step is ever repeated on a wafer in a mixed batch.

The batcher knows its members only by their id (`Member`); what a batch does, and how it is
recorded, is the leader's `lead` function (see `wafer.py`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from packline.clock import Clock, ClockTimeout, wait_for

from .errors import RunTerminated, StepFailed
from .tools import Tool, ToolPool, Waiter


class Member(Protocol):
    """What the batcher needs of a wafer: its id."""

    @property
    def id(self) -> str: ...


M = TypeVar("M", bound=Member)
T = TypeVar("T")

#: The leader's part: run the batch (members, the whole tool, the batch id); its result is
#: every member's.
Lead = Callable[[list[M], Tool, str], Awaitable[T]]


@dataclass(eq=False)
class _Forming(Generic[M]):
    key: str
    role: str
    signature: frozenset[str]
    size: int
    members: list[M] = field(default_factory=list)
    closed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    ticket: Waiter | None = None  # the tool request, queued when the batch closes


class Batcher:
    """The forming batches of a run."""

    def __init__(
        self,
        clock: Clock,
        pool: ToolPool,
        session: int,
        *,
        tool_wait_timeout_s: float,
        stage_timeout_s: float,
    ) -> None:
        self._clock = clock
        self._pool = pool
        self._session = session
        self._tool_wait_timeout_s = tool_wait_timeout_s
        self._stage_timeout_s = stage_timeout_s
        self._forming: dict[tuple[str, frozenset[str]], _Forming[Any]] = {}
        self._arrived: dict[str, set[str]] = {}
        self._live: set[str] = set()
        self._numbers = itertools.count(1)

    def expect(self, wafer_id: str) -> None:
        """A live wafer of the lot, its script starting (again: held for want of a tool, it
        runs again once the tool is cleared): a forming batch of any stage may still wait for
        it, whether or not it arrived there before (a stage it completed, it passes by)."""
        self._live.add(wafer_id)
        for arrived in self._arrived.values():
            arrived.discard(wafer_id)

    def wafer_done(self, wafer_id: str) -> None:
        """A wafer's script ended: no batch waits for it any longer."""
        self._live.discard(wafer_id)
        self.recheck()

    def pass_by(self, wafer_id: str, key: str) -> None:
        """A wafer passes batch stage `key` without joining (it completed it before)."""
        self._arrived.setdefault(key, set()).add(wafer_id)
        self.recheck()

    async def join(
        self,
        member: M,
        key: str,
        role: str,
        lead: Lead[M, T],
        *,
        signature: frozenset[str],
        timeout_s: float,
        size: int | None,
    ) -> T:
        """Join the forming batch of stage `key` (and `signature`) on a tool of `role`; the
        first member leads it with `lead`; every member gets its result or its failure."""
        self._arrived.setdefault(key, set()).add(member.id)
        forming = self._forming.get((key, signature))
        if forming is None:
            capacity = max(tool.capacity for tool in self._pool.candidates(role))
            forming = _Forming(key, role, signature, size or capacity)
            self._forming[(key, signature)] = forming
        forming.members.append(member)
        self.recheck()
        if forming.members[0] is not member:
            outcome: T = await self._follow(forming)
            return outcome
        try:
            await wait_for(self._clock, asyncio.shield(forming.closed), timeout_s, "batch forming")
        except ClockTimeout:
            self._ask_for_tool(forming)
        except BaseException as error:
            self._finish(forming, error)
            raise
        return await self._lead(forming, lead)

    async def _follow(self, forming: _Forming[Any]) -> Any:
        try:
            return await wait_for(
                self._clock,
                asyncio.shield(forming.done),
                self._stage_timeout_s,
                f"batch {forming.key} to finish",
            )
        except (StepFailed, RunTerminated) as error:
            # each member its own exception (its own traceback), carrying all the error does
            raise copy.copy(error) from None

    async def _lead(self, forming: _Forming[M], lead: Lead[M, T]) -> T:
        try:
            assert forming.ticket is not None
            tool = await self._pool.wait(forming.ticket, timeout_s=self._tool_wait_timeout_s)
            self._stop_joining(forming)
            try:
                batch_id = f"b{next(self._numbers)}-s{self._session}"
                result = await lead(forming.members, tool, batch_id)
            finally:
                self._pool.release(tool, whole=True)
        except BaseException as error:
            self._finish(forming, error)
            raise
        forming.done.set_result(result)
        return result

    def _finish(self, forming: _Forming[Any], error: BaseException) -> None:
        self._stop_joining(forming)
        if forming.ticket is not None:
            self._pool.cancel(forming.ticket)
        for future in (forming.closed, forming.done):
            if not future.done():
                if isinstance(error, Exception):
                    future.set_exception(error)
                else:
                    future.set_exception(RunTerminated("the run was aborted"))
                future.exception()  # retrieved here; followers re-raise their own copy

    def _close(self, forming: _Forming[Any]) -> None:
        """No wafer joins `forming` any more; it asks for its tool if it has not yet."""
        self._stop_joining(forming)
        self._ask_for_tool(forming)

    def _ask_for_tool(self, forming: _Forming[Any]) -> None:
        """Queue `forming` for its tool (once), and let its leader wait for it; wafers may
        still join it until the tool is given or it is closed."""
        if not forming.closed.done():
            forming.ticket = self._pool.request(forming.role, whole=True)
            forming.closed.set_result(None)

    def _stop_joining(self, forming: _Forming[Any]) -> None:
        """`forming` takes no more wafers: a later arrival at its stage forms another batch."""
        key = (forming.key, forming.signature)
        if self._forming.get(key) is forming:
            del self._forming[key]

    def recheck(self) -> None:
        """Close every forming batch that is full or that no live wafer can still join."""
        for forming in list(self._forming.values()):
            waiting_for = self._live - self._arrived.get(forming.key, set())
            if len(forming.members) >= forming.size or not waiting_for:
                self._close(forming)

    def stop_forming(self, reason: str) -> None:
        """Terminate: every forming batch ends now, its wafers stop; one already queued for its
        tool ends with the tool's queue (`ToolPool.stop_waiting`)."""
        for forming in list(self._forming.values()):
            if forming.ticket is None:
                self._finish(forming, RunTerminated(reason))
            else:
                self._stop_joining(forming)
