"""Batch formation for batch tools (TestStand's batch synchronisation).

Wafers arriving at the same batch stage gather in a forming batch; it closes when it is full,
when no other live wafer of the lot can still arrive at that stage, or when its timeout (from
its first arrival, in process time) runs out. The first wafer leads: it takes the whole tool,
runs the body once and hands the outcome to every member. On resume, wafers cut off inside a
batch only batch with wafers that completed the same irreversible steps of it (their
"signature"), so no irreversible step is ever repeated on a wafer in a mixed batch.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packline.clock import ClockTimeout, wait_for

from .errors import RunTerminated, StepFailed
from .tools import Waiter
from .wafer import Batch, Wafer

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(eq=False)
class _Forming:
    key: str
    role: str
    signature: frozenset[str]
    replay: bool
    size: int
    members: list[Wafer] = field(default_factory=list)
    closed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    ticket: Waiter | None = None  # the tool request, queued when the batch closes


class Batcher:
    """The forming batches of a run."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._forming: dict[tuple[str, frozenset[str]], _Forming] = {}
        self._arrived: dict[str, set[str]] = {}
        self._numbers = itertools.count(1)

    async def join(
        self,
        wafer: Wafer,
        role: str,
        body: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout_s: float,
        size: int | None,
    ) -> Any:
        engine = self._engine
        key = wafer._key(f"batch {role}")
        self._arrived.setdefault(key, set()).add(wafer.id)
        if engine.plan.status(wafer.id, key) == "completed":
            engine.record_skipped(
                [
                    {
                        "wafer_id": wafer.id,
                        "key": key,
                        "name": f"batch {role}",
                        "kind": "batch",
                        "claims": (),
                        "tool": None,
                        "irreversible": 0,
                        "stage": None,
                        "batch": None,
                    }
                ]
            )
            self.recheck()
            return None
        replay = engine.plan.cut_off_stage(wafer.id, key)
        signature = engine.plan.done_in_stage(wafer.id, key) if replay else frozenset()
        forming = self._forming.get((key, signature))
        if forming is None:
            capacity = max(tool.capacity for tool in engine.pool.candidates(role))
            forming = _Forming(
                key,
                role,
                signature,
                replay,
                size or capacity,
            )
            self._forming[(key, signature)] = forming
        forming.members.append(wafer)
        self.recheck()
        if forming.members[0] is not wafer:
            return await self._follow(forming)
        try:
            await wait_for(engine.clock, asyncio.shield(forming.closed), timeout_s, "batch forming")
        except ClockTimeout:
            self._close(forming)
        except BaseException as error:
            self._finish(forming, error)
            raise
        return await self._lead(forming, body, args, kwargs)

    async def _follow(self, forming: _Forming) -> Any:
        try:
            return await wait_for(
                self._engine.clock,
                asyncio.shield(forming.done),
                self._engine.stage_timeout_s,
                f"batch {forming.key} to finish",
            )
        except (StepFailed, RunTerminated) as error:
            raise type(error)(*error.args) from None  # each member its own exception

    async def _lead(
        self,
        forming: _Forming,
        body: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        engine = self._engine
        try:
            assert forming.ticket is not None
            tool = await engine.pool.wait(forming.ticket, timeout_s=engine.tool_wait_timeout_s)
            try:
                batch_id = f"b{next(self._numbers)}-s{engine.session}"
                batch = Batch(engine, batch_id, forming.members, tool)
                engine.emit(
                    "batch-formed",
                    tool=tool.name,
                    message=f"{batch_id}: {', '.join(batch.wafer_ids)}",
                )
                async with engine.stage_records(
                    forming.members, forming.key, tool, forming.replay, batch=batch_id
                ):
                    result = await body(batch, *args, **kwargs)
            finally:
                engine.pool.release(tool, whole=True)
        except BaseException as error:
            self._finish(forming, error)
            raise
        forming.done.set_result(result)
        return result

    def _finish(self, forming: _Forming, error: BaseException) -> None:
        self._forming.pop((forming.key, forming.signature), None)
        if forming.ticket is not None:
            self._engine.pool.cancel(forming.ticket)
        for future in (forming.closed, forming.done):
            if not future.done():
                if isinstance(error, Exception):
                    future.set_exception(error)
                else:
                    future.set_exception(RunTerminated("the run was aborted"))
                future.exception()  # retrieved here; followers re-raise their own copy

    def _close(self, forming: _Forming) -> None:
        self._forming.pop((forming.key, forming.signature), None)
        if not forming.closed.done():
            forming.ticket = self._engine.pool.request(forming.role, whole=True)
            forming.closed.set_result(None)

    def recheck(self) -> None:
        """Close every forming batch that is full or that no live wafer can still join."""
        live = self._engine.live_wafers
        for forming in list(self._forming.values()):
            waiting_for = live - self._arrived.get(forming.key, set())
            if len(forming.members) >= forming.size or not waiting_for:
                self._close(forming)

    def stop_forming(self, reason: str) -> None:
        """Terminate: every forming batch ends now, its wafers stop."""
        for forming in list(self._forming.values()):
            self._finish(forming, RunTerminated(reason))
