"""What a sequence script works with: the `Wafer` it processes and the `Batch` it shares a tool in.

A script is plain async Python::

    async def clean(wafer: Wafer, recipe: MyRecipe) -> None:
        async with wafer.use(Grinder) as grinder:
            await wafer.step("load", grinder.load, wafer.id, handling=Handling.LOAD)
            await wafer.step("grind", grinder.grind, recipe.target_um, claims=("000:f",))
            wafer.measure("thickness", await grinder.request_thickness(), "um", low=40, high=60)

Every `step` is a checkpoint: recorded as running before its coroutine starts and as
completed (with the wafer's twin in a dry run) after it ends; on resume a completed step is
skipped, and a stage (`use`, `batch`) completed before is passed without its tool (decision
0122). Steps pass the run's pause/terminate boundary before they start; a wafer takes a
pause before it enters a stage, never between two steps of one (decision 0097).

A tool is asked for by its role's interface (`wafer.use(Grinder)` holds a grinder and is typed
as one), by a role name or by a station tool name (typed as `Equipment`). A wafer reaches its
run only through its `RunContext` (`context.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Concatenate, Generic, TypeVar, overload

from packline.drivers.equipment import Equipment
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    WorkpieceRefused,
)

from .context import RunContext
from .control import RunState
from .errors import (
    RecordsUnwritable,
    RunTerminated,
    StepError,
    StepFailed,
    StepRefused,
    failure_text,
)
from .plan import COMPLETED_BEFORE, CUT_OFF, PASSED_WITHOUT_ITS_TOOL, released_why
from .recorder import StepRecorder, stage_row
from .report import step_name
from .stage import Handling, Stage
from .tools import E, Role, Tool

#: How a tool, or its driver before sending anything, refuses an operation: it did not happen.
REFUSALS = (CommandRefused, InterlockOpen, LimitViolation, ToolStateError, WorkpieceRefused)
#: What a refused step's recorded error starts with (`show` reads 'failed: refused by its
#: tool, nothing done: ...'), so its timeline says what its hold says.
REFUSED_STEP = "refused by its tool, nothing done: "

T = TypeVar("T")


class Wafer:
    """One wafer (or panel) of the lot, as its sequence script sees it."""

    def __init__(self, run: RunContext, wafer_id: str, position: int) -> None:
        self.id = wafer_id
        self.position = position
        self._run = run
        self._occurrences: dict[str, int] = {}
        self._stage: Stage | None = None
        self._step_id: int | None = None

    def __repr__(self) -> str:
        return f"<Wafer {self.id}>"

    @property
    def step_id(self) -> int | None:
        """The record of the step the wafer is in now (its measurements are filed under it)."""
        return self._step_id

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
        handling: Handling | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Run `await action(*args, **kwargs)` as the checkpointed step `name`.

        Repeatable (run again on resume if it was cut off) unless the method lists `name` as
        irreversible or `repeatable=False` is given here; `repeatable=True` cannot make a step
        the method lists as irreversible repeatable. A step that puts the wafer (or a
        workpiece of it) on its stage's tool, or takes it off, says so (`handling`): the
        records read it to know what a stopped run left on its tools. Returns the action's
        result, or None when the step is skipped on resume because it completed before.
        """
        return await execute_step(
            self._run,
            [self],
            name,
            action,
            args,
            kwargs,
            claims=claims,
            repeatable=repeatable,
            handling=handling,
            kind="step",
            stage=self._stage,
        )

    @overload
    def use(self, tool: Role[E]) -> AbstractAsyncContextManager[E]: ...

    @overload
    def use(self, tool: str) -> AbstractAsyncContextManager[Equipment]: ...

    def use(self, tool: Role[Equipment] | str) -> AbstractAsyncContextManager[Equipment]:
        """Hold one unit of a tool for the steps inside: any tool of a role, given by its
        interface (`Laminator`, and the driver is typed as one) or its name (`"laminator"`),
        or the station tool of that name."""
        return self._hold(tool)

    @asynccontextmanager
    async def _hold(self, tool_or_role: Role[Equipment] | str) -> AsyncIterator[Equipment]:
        run = self._run
        name = _request_name(run, tool_or_role)
        key = self._key(f"use {name}")
        done_on = run.plan.completed_stage_tool(self.id, key)
        if done_on is not None:
            # completed in an earlier session: passed, its steps skipped, without waiting for
            # the tool, holding it or touching it (decision 0122); the script's steps still
            # run past, each skipped as done before, so later steps keep their keys
            _record_passed(run, self.id, key, "stage", done_on)
            tool = run.keeper.pool.tools[done_on]
            outer, self._stage = self._stage, Stage(key, tool, replay=False, passed=True)
            try:
                yield tool.driver
            finally:
                self._stage = outer
            return
        replay = run.plan.status(self.id, key) in CUT_OFF
        if self._stage is None:
            await run.boundary(False)  # a pause is taken before the tool is, not holding it
        pool = run.keeper.pool
        tool = await pool.acquire(name, whole=False, timeout_s=run.tool_wait_timeout_s)
        try:
            async with _stage(run, [self], key, tool, replay, batch=None):
                yield tool.driver
        finally:
            pool.release(tool, whole=False)

    @overload
    async def batch(
        self,
        role: Role[E],
        body: Callable[Concatenate[Batch[E], ...], Awaitable[T]],
        *args: Any,
        timeout_s: float,
        size: int | None = None,
        **kwargs: Any,
    ) -> T | None: ...

    @overload
    async def batch(
        self,
        role: str,
        body: Callable[Concatenate[Batch[Any], ...], Awaitable[T]],
        *args: Any,
        timeout_s: float,
        size: int | None = None,
        **kwargs: Any,
    ) -> T | None: ...

    async def batch(
        self,
        role: Role[Equipment] | str,
        body: Callable[Concatenate[Batch[Any], ...], Awaitable[T]],
        *args: Any,
        timeout_s: float,
        size: int | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Join a batch on a tool of `role` (its interface, or its name) and run
        `body(batch, *args, **kwargs)` once for it.

        The batch closes when it has `size` wafers (default: the tool's capacity), when no
        other live wafer of the lot can still join it, or `timeout_s` of process time after
        its first wafer arrived (TestStand's batch synchronisation). The body runs in the
        first wafer's task; every member gets its result or its failure. Returns None when
        the batch is skipped on resume because the wafer completed it before.
        """
        run = self._run
        name = _request_name(run, role)
        key = self._key(f"batch {name}")
        if run.plan.status(self.id, key) == "completed":
            _record_passed(run, self.id, key, "batch", None)
            run.batcher.pass_by(self.id, key)
            for name in run.plan.names_in_stage(self.id, key):
                self._key(name)  # its steps are not called: a later step of a name is not them
            return None
        replay = run.plan.cut_off_stage(self.id, key)

        async def lead(members: list[Wafer], tool: Tool, batch_id: str) -> T:
            batch: Batch[Any] = Batch(run, batch_id, members, tool)
            run.recorder.events.emit(
                "batch-formed", tool=tool.name, message=f"{batch_id}: {', '.join(batch.wafer_ids)}"
            )
            async with _stage(run, members, key, tool, replay, batch=batch_id):
                return await body(batch, *args, **kwargs)

        return await run.batcher.join(
            self,
            key,
            name,
            lead,
            signature=run.plan.done_in_stage(self.id, key) if replay else frozenset(),
            timeout_s=timeout_s,
            size=size,
        )

    async def confirm(self, prompt: str) -> None:
        """Ask the operator to confirm `prompt` (auto in a dry run); recorded either way. Not
        asked in a stage the wafer passes, completed before: nothing is done on its tool
        there to confirm (decision 0122)."""
        if self._stage is not None and self._stage.passed:
            return
        await _confirm(self._run, [self], prompt)

    async def require_loaded_on(self, tool: Equipment, workpiece_id: str | None = None) -> None:
        """Raise `StepError` unless `tool` holds this wafer now (or `workpiece_id`, the wafer's
        workpiece it works on: a panel's die wafer), as `request_workpieces` reads it. A step
        that reads a tool's result about the wafer asks first: an empty tool answers too (no
        sites, no bumps), and its answer must never pass for the wafer's."""
        workpiece_id = workpiece_id or self.id
        held = await tool.request_workpieces()
        if workpiece_id not in held:
            raise StepError(
                f"{tool.name} does not hold {workpiece_id} (it holds "
                f"{', '.join(held) or 'nothing'}): what it reports is not that workpiece's"
            )

    def measure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        low: float | None = None,
        high: float | None = None,
        above: bool = False,
        source: str = "tool",
        resolution: float | None = None,
    ) -> float:
        """Record a measurement; raises `OutOfLimits` (the step fails) outside [low, high], or
        (`above`) outside (low, high]: a heat that must pass a solder's liquidus to melt it
        fails at it. `resolution`: the step the instrument reads the value to, in `unit` (a
        grinder's gauge, which rounds down to it), recorded with it so that its reader can
        tell what the reading could resolve, and why a limit allows for it."""
        self._run.recorder.measure(
            [self], name, value, unit, low, high, source, above=above, resolution=resolution
        )
        return value

    async def pause_point(self) -> None:
        """Let a long step pause or terminate here (only terminate, inside a stage)."""
        await self._run.control.pause_point(in_stage=self._stage is not None)


class Batch(Generic[E]):
    """Wafers sharing one tool run (a plasma chamber load, an oven load)."""

    def __init__(self, run: RunContext, batch_id: str, wafers: list[Wafer], tool: Tool) -> None:
        self.id = batch_id
        self.wafers = wafers
        self._run = run
        self._tool = tool

    @property
    def tool(self) -> E:
        """The batch tool's driver (typed by the role interface the script asked for)."""
        return self._tool.driver  # type: ignore[return-value]  # checked by _request_name

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
        handling: Handling | None = None,
        **kwargs: Any,
    ) -> T | None:
        """Run one action for the whole batch; it is recorded as a step of every member (a
        load or unload of the batch's wafers says so, `handling`, as `Wafer.step`'s does)."""
        return await execute_step(
            self._run,
            self.wafers,
            name,
            action,
            args,
            kwargs,
            claims=claims,
            repeatable=repeatable,
            handling=handling,
            kind="batch-step",
            stage=self.wafers[0]._stage,
        )

    async def confirm(self, prompt: str) -> None:
        await _confirm(self._run, self.wafers, prompt)

    def measure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        low: float | None = None,
        high: float | None = None,
        above: bool = False,
        source: str = "tool",
        resolution: float | None = None,
    ) -> float:
        """Record a measurement that holds for every wafer of the batch (limits and
        `resolution` as `Wafer.measure`'s)."""
        self._run.recorder.measure(
            self.wafers, name, value, unit, low, high, source, above=above, resolution=resolution
        )
        return value

    async def pause_point(self) -> None:
        """Let a long step terminate here (a batch is a stage: a pause waits for its end)."""
        await self._run.control.pause_point(in_stage=True)


async def _confirm(run: RunContext, wafers: list[Wafer], prompt: str) -> None:
    """Ask the operator to confirm `prompt` for `wafers`, until the run stops: a terminate or
    an abort ends the open question unanswered (`RunTerminated`, no answer recorded), as it
    ends a wait for a tool; an operator who pressed Ctrl-C twice is not kept at it. So does a
    terminal that went away while it asked (the run terminates). Either way each wafer's
    records say the question was open and unanswered, and why (`StepRecorder.unanswered`):
    its timeline had shown nothing of it."""
    asking = asyncio.ensure_future(run.recorder.confirm(wafers, prompt))
    stopping = asyncio.ensure_future(run.control.until_stopping())
    try:
        await asyncio.wait((asking, stopping), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # an abort cancels the wafers' tasks
        if run.control.stopping and not asking.done():
            _unanswered(run, wafers, prompt, run.control.reason)
        raise
    finally:
        stopping.cancel()
        if not asking.done():
            asking.cancel()
            await asyncio.gather(asking, return_exceptions=True)
    if asking.cancelled():
        _unanswered(run, wafers, prompt, run.control.reason)
        raise RunTerminated(run.control.reason)
    try:
        asking.result()
    except RunTerminated as gone:  # the terminal went away while it asked
        # why, as the terminate it ordered says it (naming the resume), else as the terminal did
        _unanswered(run, wafers, prompt, run.control.reason if run.control.stopping else str(gone))
        raise


def _unanswered(run: RunContext, wafers: list[Wafer], prompt: str, reason: str) -> None:
    """Record the confirmation `prompt` of `wafers` open and unanswered as the run stopped for
    `reason`: aborted, or else terminated (a terminal gone terminates it)."""
    stopped = "aborted" if run.control.state is RunState.ABORTING else "terminated"
    run.recorder.unanswered(wafers, prompt, stopped, reason)


def _record_passed(run: RunContext, wafer_id: str, key: str, kind: str, tool: str | None) -> None:
    """Record stage `key` (of `kind`: a tool use, or a batch) of `wafer_id` skipped: completed
    in an earlier session (on `tool`, as its steps' records name it), it is passed without
    taking the tool; a skipped stage is no use of its tool (`stage_work`) and says nothing new
    of what is on it (`ToolKeeper.own_workpieces`)."""
    run.recorder.record_skipped(
        [stage_row(wafer_id, key, kind, tool, None)], why=PASSED_WITHOUT_ITS_TOOL
    )


def _request_name(run: RunContext, tool: Role[Equipment] | str) -> str:
    """The tool or role name a request asks for: a string as given; a role interface's role,
    once every tool of it in the run is checked to be driven by that interface."""
    if isinstance(tool, str):
        return tool
    role = getattr(tool, "role", None)
    if not (isinstance(tool, type) and issubclass(tool, Equipment) and isinstance(role, str)):
        raise TypeError(f"{tool!r} is not a role interface (an Equipment class with a role)")
    for candidate in run.keeper.pool.candidates(role):
        if not isinstance(candidate.driver, tool):
            raise StepError(
                f"tool {candidate.name} of role {role!r} is driven by "
                f"{type(candidate.driver).__name__}, not a {tool.__name__}"
            )
    return role


@asynccontextmanager
async def _stage(
    run: RunContext, wafers: list[Wafer], key: str, tool: Tool, replay: bool, batch: str | None
) -> AsyncIterator[None]:
    """A stage: the wafers (or a batch) hold `tool` for the steps inside. It is recorded like
    a step; when it fails or stops, the tool is recovered (and an alarmed one put out of
    service) before the failure goes on. A replayed stage loads its wafers again as a rework
    (`Equipment.reloading`): the tool may have processed them last, before its recovery took
    them off, and the plan skips what of it was irreversible and done.

    A pause is taken before a stage starts (a wafer that asks for a tool, `Wafer.use`, takes
    it before it asks, so it does not hold the tool while it waits; here again, for one the
    pause came to while it waited for the tool, or for its batch), and waits for the end of
    one under way: the steps a wafer does on a tool are never separated by a pause (decision
    0097)."""
    stage = Stage(key, tool, replay, batch)
    # a stage inside another (a tool taken while the wafer holds one) gives the outer one back
    # at its end: the steps after it are the outer stage's, its loads and unloads among them
    outer = [wafer._stage for wafer in wafers]
    if all(held is None for held in outer):
        await run.boundary(False)  # inside the outer stage, a pause waits for its end
    for wafer in wafers:
        wafer._stage = stage
    wafer_ids = [w.id for w in wafers]
    try:
        with (
            tool.driver.reloading(wafer_ids if replay else ()),
            run.control.stage(wafer_ids, tool.name),
        ):
            async with run.recorder.stage(wafer_ids, key, tool, batch):
                yield
    except asyncio.CancelledError:
        raise
    except BaseException as error:
        await run.keeper.recover_after(tool, error)
        raise
    finally:
        tool.step_id = None
        for wafer, held in zip(wafers, outer, strict=True):
            wafer._stage = held


async def execute_step(
    run: RunContext,
    wafers: list[Wafer],
    name: str,
    action: Callable[..., Awaitable[T]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    claims: Sequence[str],
    repeatable: bool | None,
    handling: Handling | None,
    kind: str,
    stage: Stage | None,
) -> T | None:
    """The checkpoint around one action: boundary, skip or record, run, record the outcome."""
    if handling is not None and stage is None:
        raise TypeError(
            f"step {name!r} is declared a {handling.value} (handling=Handling."
            f"{handling.name}) but holds no tool: a load or unload runs inside "
            "`wafer.use(...)` or a batch body"
        )
    await run.boundary(stage is not None)
    irreversible = name in run.irreversible or repeatable is False
    keys = [wafer._key(name) for wafer in wafers]
    before = [run.plan.status(wafer.id, key) for wafer, key in zip(wafers, keys, strict=True)]
    replay = stage is not None and stage.replay
    declared = None if handling is None else handling.value
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
            "handling": declared,
        }
        for wafer, key in zip(wafers, keys, strict=True)
    ]
    recorder = run.recorder
    released = all(
        (wafer.id, key) in run.plan.released for wafer, key in zip(wafers, keys, strict=True)
    )
    done = all(status == "completed" for status in before)
    if done and (irreversible or not replay or released):
        recorded = all(
            (wafer.id, key) in run.plan.released_now
            for wafer, key in zip(wafers, keys, strict=True)
        )
        if not recorded:  # a release is recorded as skipped when its resume starts
            recorder.record_skipped(rows, why=released_why if released else COMPLETED_BEFORE)
        if stage is not None:
            stage.handled.append(declared)
        return None
    if irreversible and "completed" in before:
        raise StepError(
            f"batch mixes wafers that had irreversible step {name!r} with wafers that did not"
        )
    wafer_ids = [wafer.id for wafer in wafers]
    step_ids = recorder.start_steps(rows)
    if stage is not None and stage.passed:
        why = _not_done_before(stage)
        _finish(recorder, wafers, step_ids, "failed", why)
        failed = StepFailed(f"step {name!r} of {', '.join(wafer_ids)} failed: {why}")
        failed.wafers = tuple(wafer_ids)
        raise failed
    for wafer, step_id in zip(wafers, step_ids, strict=True):
        wafer._step_id = step_id
    preparation = stage is not None and declared is None and not stage.holds_the_wafer
    carried_out = 0
    if stage is not None:
        stage.tool.step_id = step_ids[0]
        carried_out = stage.tool.driver.operations_carried_out
    run.control.step_started()
    try:
        result = await action(*args, **kwargs)
    except BaseException as error:
        run.control.step_ended()
        if _safe_state_failed(error, run):
            # the abort cut the step off; the driver's `abort()`, commanding the safe state as
            # it let go, raised in place of the cancellation: the step is cut off like every
            # other the abort stopped, never failed with the abort's error as its own
            why = f"cut off by the abort, whose safe-state command failed: {failure_text(error)}"
            _finish(recorder, wafers, step_ids, "interrupted", why)
            # the stage's tool by its name in the run (a device link names its error
            # `electroplater.supply`); a step holding no tool, the tool its error names
            tool = getattr(error, "tool", None) if stage is None else stage.tool.name
            if isinstance(tool, str):
                run.keeper.safe_state_failed(tool, error)
            raise asyncio.CancelledError(why) from error
        failure = _failure(error)
        refused = failure and _refused(error, stage, carried_out, preparation)
        status = "failed" if failure else "interrupted"
        text = failure_text(error)
        _finish(recorder, wafers, step_ids, status, f"{REFUSED_STEP}{text}" if refused else text)
        if failure:
            if isinstance(error, ToolAlarm) and stage is not None:
                run.take_control()  # a fault injected that raised it: recorded first
                recorder.record_alarms(stage.tool, wafer_ids, step_ids[0])
            what = f"step {name!r} of {', '.join(wafer_ids)}"
            failed = (
                StepRefused(f"{what} was refused: {error}")
                if refused
                else StepFailed(f"{what} failed: {error}")
            )
            failed.wafers = tuple(wafer_ids)
            failed.preparation = preparation
            raise failed from error
        raise
    run.control.step_ended()
    _finish(recorder, wafers, step_ids, "completed", None)
    if stage is not None:
        stage.handled.append(declared)
    return result


def _not_done_before(stage: Stage) -> str:
    """Why a step fails in `stage`, a stage the wafer passes (completed before) whose records
    have not done the step there: the script calls a step there that it did not when the
    stage ran, and nothing of the stage is on its tool to run it on."""
    return (
        f"the wafer completed stage {step_name(stage.key)!r} in an earlier session without "
        "this step (the method's script calls it there since), so this resume passes the "
        f"stage without {stage.tool.name} and the step cannot run: rework it, and the next "
        "resume runs the stage again on its tool"
    )


def _finish(
    recorder: StepRecorder, wafers: list[Wafer], step_ids: list[int], status: str, error: str | None
) -> None:
    """Record how a step ended; its wafers are in no step any more."""
    recorder.finish_steps([w.id for w in wafers], step_ids, status, error)
    for wafer in wafers:
        wafer._step_id = None


def _refused(
    error: BaseException, stage: Stage | None, carried_out: int, preparation: bool
) -> bool:
    """Whether `error` is the stage tool's refusal of a step that changed nothing on the
    wafer: the tool (or its driver, before sending it) refused an operation, and either the
    step is a `preparation` of the tool (nothing of the wafer on it: `Stage.holds_the_wafer`),
    whatever the tool did in it before (a spindle started, then the dress refused), or no
    process operation of the tool ended while the step ran (`carried_out` is how many had
    ended as it started). So a step whose action is a load (`bonder.load`), a batch's loads,
    or a process started by a script function that then records its result (`run_reflow`:
    the oven's `run_profile`, refused on an open interlock) is refused; one whose tool
    refused a repair after a mount it carried out is not."""
    if stage is None or not isinstance(error, REFUSALS):
        return False
    driver = stage.tool.driver
    unchanged = preparation or driver.operations_carried_out == carried_out
    return error.tool == driver.name and unchanged


def _safe_state_failed(error: BaseException, run: RunContext) -> bool:
    """Whether `error` came out of a step the run's abort cut off, in place of the
    cancellation: a driver's failure while it let go, commanding its tool's safe state (its
    `abort()`, which raises when the safe state is not reached: a tool's error, or any other,
    a driver's bug included, after which the safe state is not confirmed either)."""
    task = asyncio.current_task()
    return (
        _failure(error)
        and run.control.state is RunState.ABORTING
        and task is not None
        and task.cancelling() > 0
    )


def _failure(error: BaseException) -> bool:
    """A step failure (the wafer is held), as opposed to the run stopping under the step (a
    terminate, or records it could not write)."""
    return isinstance(error, Exception) and not isinstance(
        error, RunTerminated | StepFailed | RecordsUnwritable
    )
