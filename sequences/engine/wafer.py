"""What a sequence script works with: the `Wafer` it processes and the `Batch` it shares a tool in.

A script is plain async Python::

    async def clean(wafer: Wafer, recipe: MyRecipe) -> None:
        async with wafer.use("grinder") as grinder:
            await wafer.step("load", grinder.load, wafer.id)
            await wafer.step("grind", grinder.grind, recipe.target_um, claims=("000:f",))
            wafer.measure("thickness", await grinder.request_thickness(), "um", low=40, high=60)

Every `step` is a checkpoint: recorded as running before its coroutine starts and as
completed (with the wafer's twin in a dry run) after it ends; on resume a completed step is
skipped. Steps pass the run's pause/terminate boundary before they start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from packline.drivers.equipment import Equipment
from packline.drivers.errors import ToolAlarm

from .errors import RunTerminated, StepError, StepFailed
from .plan import CUT_OFF
from .stage import Stage
from .tools import Tool

if TYPE_CHECKING:
    from .engine import Engine

T = TypeVar("T")


class Wafer:
    """One wafer (or panel) of the lot, as its sequence script sees it."""

    def __init__(self, engine: Engine, wafer_id: str, position: int) -> None:
        self.id = wafer_id
        self.position = position
        self._engine = engine
        self._occurrences: dict[str, int] = {}
        self._stage: Stage | None = None
        self._step_id: int | None = None

    def __repr__(self) -> str:
        return f"<Wafer {self.id}>"

    def _key(self, name: str) -> str:
        """The checkpoint key of the next step called `name`: its name and occurrence."""
        n = self._occurrences.get(name, 0)
        self._occurrences[name] = n + 1
        return f"{name}#{n}"

    # ----------------------------------------------------------------- the script's API

    async def step(
        self,
        name: str,
        action: Callable[..., Awaitable[T]],
        *args: Any,
        claims: Sequence[str] = (),
        repeatable: bool | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Run `await action(*args, **kwargs)` as the checkpointed step `name`.

        Repeatable (run again on resume if it was cut off) unless the method lists `name` as
        irreversible or `repeatable=False` is given here; `repeatable=True` cannot make a step
        the method lists as irreversible repeatable. Returns the action's result, or None when
        the step is skipped on resume because it completed before.
        """
        return await execute_step(
            self._engine,
            [self],
            name,
            action,
            args,
            kwargs,
            claims=claims,
            repeatable=repeatable,
            kind="step",
            stage=self._stage,
        )

    @asynccontextmanager
    async def use(self, tool_or_role: str) -> AsyncIterator[Equipment]:
        """Hold one unit of a tool (by name, or any tool of a role) for the steps inside."""
        engine = self._engine
        key = self._key(f"use {tool_or_role}")
        replay = engine.plan.status(self.id, key) in CUT_OFF
        tool = await engine.pool.acquire(
            tool_or_role, whole=False, timeout_s=engine.tool_wait_timeout_s
        )
        try:
            async with engine.stage_records([self], key, tool, replay, batch=None):
                yield tool.driver
        finally:
            engine.pool.release(tool, whole=False)

    async def batch(
        self,
        role: str,
        body: Callable[..., Awaitable[T]],
        *args: Any,
        timeout_s: float,
        size: int | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Join a batch on a tool of `role` and run `body(batch, *args, **kwargs)` once for it.

        The batch closes when it has `size` wafers (default: the tool's capacity), when no
        other live wafer of the lot can still join it, or `timeout_s` of process time after
        its first wafer arrived (TestStand's batch synchronisation). The body runs in the
        first wafer's task; every member gets its result or its failure.
        """
        return await self._engine.batcher.join(self, role, body, args, kwargs, timeout_s, size)

    async def confirm(self, prompt: str) -> None:
        """Ask the operator to confirm `prompt` (auto in a dry run); recorded either way."""
        await self._engine.confirm([self], prompt)

    def measure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        low: float | None = None,
        high: float | None = None,
        source: str = "tool",
    ) -> float:
        """Record a measurement; raises `OutOfLimits` (the step fails) outside [low, high]."""
        self._engine.measure([self], name, value, unit, low, high, source)
        return value

    async def pause_point(self) -> None:
        """Let a long step pause or terminate here."""
        await self._engine.control.pause_point()


class Batch:
    """Wafers sharing one tool run (a plasma chamber load, an oven load)."""

    def __init__(self, engine: Engine, batch_id: str, wafers: list[Wafer], tool: Tool) -> None:
        self.id = batch_id
        self.wafers = wafers
        self._engine = engine
        self._tool = tool

    @property
    def tool(self) -> Any:
        """The batch tool's driver (typed by the role the script asked for)."""
        return self._tool.driver

    @property
    def tool_name(self) -> str:
        return self._tool.name

    @property
    def wafer_ids(self) -> list[str]:
        return [wafer.id for wafer in self.wafers]

    async def step(
        self,
        name: str,
        action: Callable[..., Awaitable[T]],
        *args: Any,
        claims: Sequence[str] = (),
        repeatable: bool | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Run one action for the whole batch; it is recorded as a step of every member."""
        return await execute_step(
            self._engine,
            self.wafers,
            name,
            action,
            args,
            kwargs,
            claims=claims,
            repeatable=repeatable,
            kind="batch-step",
            stage=self.wafers[0]._stage,
        )

    async def confirm(self, prompt: str) -> None:
        await self._engine.confirm(self.wafers, prompt)

    def measure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        low: float | None = None,
        high: float | None = None,
        source: str = "tool",
    ) -> float:
        """Record a measurement that holds for every wafer of the batch."""
        self._engine.measure(self.wafers, name, value, unit, low, high, source)
        return value

    async def pause_point(self) -> None:
        await self._engine.control.pause_point()


async def execute_step(
    engine: Engine,
    wafers: list[Wafer],
    name: str,
    action: Callable[..., Awaitable[T]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    claims: Sequence[str],
    repeatable: bool | None,
    kind: str,
    stage: Stage | None,
) -> T | None:
    """The checkpoint around one action: boundary, skip or record, run, record the outcome."""
    await engine.boundary()
    irreversible = name in engine.method.irreversible or repeatable is False
    keys = [wafer._key(name) for wafer in wafers]
    before = [engine.plan.status(wafer.id, key) for wafer, key in zip(wafers, keys, strict=True)]
    replay = stage is not None and stage.replay
    rows = [
        {
            "wafer_id": wafer.id,
            "key": key,
            "name": name,
            "kind": kind,
            "claims": tuple(claims),
            "tool": stage.tool.name if stage else None,
            "irreversible": int(irreversible),
            "stage": stage.key if stage else None,
            "batch": stage.batch if stage else None,
        }
        for wafer, key in zip(wafers, keys, strict=True)
    ]
    if all(status == "completed" for status in before) and (irreversible or not replay):
        engine.record_skipped(rows)
        return None
    if irreversible and "completed" in before:
        raise StepError(
            f"batch mixes wafers that had irreversible step {name!r} with wafers that did not"
        )
    step_ids = engine.start_steps(rows)
    for wafer, step_id in zip(wafers, step_ids, strict=True):
        wafer._step_id = step_id
    if stage is not None:
        stage.tool.step_id = step_ids[0]
    engine.control.step_started()
    try:
        result = await action(*args, **kwargs)
    except BaseException as error:
        engine.control.step_ended()
        failure = _failure(error)
        engine.finish_steps(
            wafers, step_ids, "failed" if failure else "interrupted", str(error) or repr(error)
        )
        if failure:
            if isinstance(error, ToolAlarm) and stage is not None:
                engine.record_alarms(stage.tool, wafers, step_ids[0])
            what = f"step {name!r} of {', '.join(w.id for w in wafers)}"
            raise StepFailed(f"{what} failed: {error}") from error
        raise
    engine.control.step_ended()
    engine.finish_steps(wafers, step_ids, "completed", None)
    return result


def _failure(error: BaseException) -> bool:
    """A step failure (the wafer is held), as opposed to the run stopping under the step."""
    return isinstance(error, Exception) and not isinstance(error, RunTerminated | StepFailed)
