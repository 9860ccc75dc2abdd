"""What a run records as it goes: its run-level events, and every step of every wafer.

`EventLog` stamps each event with the run clock, keeps the run-level ones in the `events`
table and hands every one to the observers (the live view, the JSON-lines stream). A broken
observer is dropped, never allowed to stop the run.

`StepRecorder` writes the steps (started, finished, skipped), the stages around them, the
alarms that failed them, the measurements and the operator confirmations, each committed as it
happens (see docs/engine.md, *Durability*). It knows wafers only by their id and the step they
are in (`Subject`), not the scripts' `Wafer` objects.
"""

from __future__ import annotations

import asyncio
import json
import time
import types
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from packline.clock import running_task
from packline.sim_instruments.twin import TwinStore, Workpiece
from packline.sim_instruments.twin.snapshot import Snapshot, Snapshots, read_snapshot, snapshot

from .confirmations import CONFIRMATION_ASKED, CONFIRMATION_UNANSWERED, DRY_RUN, unanswered_text
from .errors import (
    NO_OPERATOR,
    NoOperator,
    OutOfLimits,
    RecordsUnwritable,
    RunTerminated,
    StepError,
    failure_text,
)
from .events import (
    ABORT_NOT_CONFIRMED,
    CONTROL_IGNORED,
    FAULT_CLEARED,
    FAULT_INJECTED,
    NOTHING_TO_PAUSE,
    PAUSING,
    RESUME_PLAN,
    SAFE_STATE_UNCONFIRMED,
    TOOL_STATE,
    Event,
    Observer,
)
from .records import RunStore
from .report import step_name
from .tools import Tool
from .verdicts import measurement_verdict

#: Answers an operator confirmation: (confirmed, by whom).
ConfirmFn = Callable[[str, str], Awaitable[tuple[bool, str]]]

#: Events that are kept in the events table (steps, measurements and confirmations have theirs).
RECORDED_EVENTS = frozenset(
    {
        "run-started",
        "run-finished",
        "paused",
        "resumed",
        "terminating",
        "aborting",
        "held",
        "tool-recovered",
        "tool-out-of-service",
        SAFE_STATE_UNCONFIRMED,
        ABORT_NOT_CONFIRMED,
        "tool-cleared",
        CONTROL_IGNORED,
        "batch-formed",
        "claim-check",
        "tool-replaced",
        "disposition",
        TOOL_STATE,
        FAULT_INJECTED,
        FAULT_CLEARED,
        NOTHING_TO_PAUSE,
        PAUSING,
        CONFIRMATION_ASKED,
        CONFIRMATION_UNANSWERED,
        "waiting-for-clear",
        RESUME_PLAN,
    }
)


class Subject(Protocol):
    """A wafer as the records see it: its id and the step it is in now (if any)."""

    @property
    def id(self) -> str: ...

    @property
    def step_id(self) -> int | None: ...


class EventLog:
    """The run's events: stamped, recorded when they are run-level, told to the observers."""

    def __init__(
        self,
        run_id: str,
        session: int,
        store: RunStore,
        t: Callable[[], float],
        observers: list[Observer],
        *,
        records_open: bool = True,
        began_t: float = 0.0,
    ) -> None:
        """`records_open` False: the run's records are not open yet (`opened` opens them).
        `began_t`: the run clock as the session began (where an earlier one stopped)."""
        self.run_id = run_id
        self.session = session
        self.t = t
        self._store = store
        self._observers = observers
        #: Set once the records could not be written (`RecordsUnwritable`): the run is
        #: stopping, and its events are told without being recorded.
        self.unrecorded = False
        #: The events to record once the session's records are open (`opened`), None while
        #: they are: those of a session still reaching its tools (an operator's pause
        #: meanwhile), which a session refused there must not leave behind (it records nothing).
        self._unopened: list[dict[str, Any]] | None = None if records_open else []
        #: How many of `_unopened`, at its head, are of what happened before the session
        #: began (`emit_before`).
        self._before = 0
        self.began_t = began_t
        #: The events `emit_before` recorded and has not told yet: told with what was
        #: recorded while the run was stopped, in the records' order (`retell`).
        self._untold_before: list[Event] = []

    @property
    def records_open(self) -> bool:
        """Whether the session's records are open (`opened`): its events written as they
        come."""
        return self._unopened is None

    def now(self) -> tuple[float, float]:
        """One reading of the run clock and the wall clock, for the records of a moment and
        the events that tell it (`emit`'s `at`): a second reading, after the records' write,
        stamped the event later than its record, and the live view's times read other than
        `show`'s (a step's start, a wafer's end, a pause)."""
        return self.t(), time.time()

    def emit(self, kind: str, *, at: tuple[float, float] | None = None, **fields: Any) -> None:
        """Emit an event of `kind`, stamped now on the run clock and the wall clock, or `at`
        (run clock, wall: `now`) where the caller read them for a record the event goes with
        (the run's end: its `stopped_t` and `run-finished` are one reading, decision 0120)."""
        t, wall = self.now() if at is None else at
        event = Event(kind, self.run_id, t, wall, **fields)
        if kind in RECORDED_EVENTS and not self.unrecorded:
            self._record(kind, event.wafer, event.message, event)
        self._tell(event)

    def emit_before(self, kind: str, wall: float | None, **fields: Any) -> None:
        """Emit an event of what happened before this session began that it learns only
        once its run is in the records: a fault a served line had injected or cleared while
        no run was live, found as the run connected (decision 0119). It is stamped at the
        session's start on the run clock (`began_t`), and at `wall` (when it happened, where
        known; else now), and, while the session's records are not open, recorded ahead of
        every event the session kept meanwhile (an operator's pause as it connected, its
        `run-started`): the records read it before them, as it happened. It is told with
        what was recorded while the run was stopped (`retell`), in the order the records
        read them."""
        when = time.time() if wall is None else wall
        event = Event(kind, self.run_id, self.began_t, when, **fields)
        if kind in RECORDED_EVENTS and not self.unrecorded:
            self._record(kind, event.wafer, event.message, event, before=True)
        self._untold_before.append(event)

    def opened(self) -> None:
        """The session's records are open (its run created, or its session taken over, and
        what happened before it known: `emit_before`): the events emitted before are
        recorded now, and every one from now on as it comes. Nothing once they are open."""
        unopened, self._unopened, self._before = self._unopened or [], None, 0
        if unopened:
            self._store.add_rows("events", unopened, durable=False)

    def retell(self, rows: Sequence[dict[str, Any]]) -> None:
        """Tell the observers events recorded while no session drove the run, as
        `RunStore.events` reads them: what other processes recorded in the stopped run (a
        disposition, a clear of a tool, a fault injected or cleared:
        `clearances.recorded_while_stopped`), a resume's record of the session it takes over
        cut off (`record_cut_off_session`); and with them what this session found of that
        time as it connected (`emit_before`) and has not told yet, in the order the records
        read them all (`EVENTS_ORDER`: by run clock, then wall clock, then as recorded, the
        rows before this session's own): a fault the line cleared after an operator's clear
        of the stopped run is told after that clear, as `show` lists it, not first, as found.
        The engine tells them all in one call, as the session starts
        (`Engine._session_started`), so that a fault the line did before the last record of
        a session cut off is told before the record of the cut-off, as `show` lists it."""
        told = [
            Event(
                row["kind"],
                self.run_id,
                row["t"],
                row["wall"],
                wafer=row["wafer_id"],
                tool=row["tool"],
                status=row["status"],
                message=row["message"],
                data=row["data"],
            )
            for row in rows
        ]
        told.extend(self._untold_before)
        self._untold_before = []
        for event in sorted(told, key=lambda event: (event.t, event.wall)):  # stable: as recorded
            self._tell(event)

    def _tell(self, event: Event) -> None:
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception as error:  # a closed pipe or a broken view must not stop the run
                self._observers.remove(observer)
                # named by its kind, not by its repr's memory address, which tells a reader nothing
                name = getattr(observer, "__name__", type(observer).__name__)
                message = f"{name} dropped ({type(error).__name__}: {error}); the run goes on"
                if not self.unrecorded:
                    self._record("observer-dropped", None, message, event)

    def _record(
        self, kind: str, wafer_id: str | None, message: str, event: Event, before: bool = False
    ) -> None:
        """Keep an event in the events table: the tool, status and data of the event it is
        (or, for `observer-dropped`, that was being told) only when it is about itself; kept
        for `opened` while the session's records are not open, one of what happened `before`
        the session began ahead of the others."""
        own = kind == event.kind
        row = {
            "run_id": self.run_id,
            "session": self.session,
            "kind": kind,
            "wafer_id": wafer_id,
            "tool": event.tool if own else None,
            "status": event.status if own else None,
            "message": message,
            "data": json.dumps(event.data) if own and event.data else None,
            "t": event.t,
            "wall": event.wall,
        }
        if self._unopened is None:
            self._store.add_rows("events", [row], durable=False)
        elif before:
            self._unopened.insert(self._before, row)
            self._before += 1
        else:
            self._unopened.append(row)


T = TypeVar("T")


class _Waits:
    """How many times a wafer's task has waited (its coroutine let the loop run anything
    else), counted by `StepRecorder.counting_waits`."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


@types.coroutine
def _counted(coroutine: Coroutine[Any, Any, T], waits: _Waits) -> Generator[Any, Any, T]:
    """`coroutine`, driven as `await` drives it, each of its waits counted in `waits`."""
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        try:
            waited_on = coroutine.send(sent) if thrown is None else coroutine.throw(thrown)
        except StopIteration as end:
            return end.value  # type: ignore[no-any-return]
        waits.count += 1
        try:
            sent, thrown = (yield waited_on), None
        except BaseException as error:  # a cancel: the task throws it in
            sent, thrown = None, error


class StepRecorder:
    """Records the steps of the run's wafers, and what happened in them.

    A dry run's step keeps its workpieces' snapshots as it ends, each taken where the twin may
    have changed since the last (`_take`): a stage ending right after its last step, with
    nothing run between them, keeps that step's snapshot without taking it again. A step that
    failed or was cut off keeps them too: a release accepts the wafer as it left it, and the
    resume goes on from there (decision 0108)."""

    def __init__(
        self,
        events: EventLog,
        store: RunStore,
        twin: TwinStore | None,
        *,
        side_workpieces: Callable[[str], Sequence[str]] | None,
        simulated: bool,
        confirm: ConfirmFn | None,
    ) -> None:
        self.events = events
        self._store = store
        self._twin = twin
        self._side_workpieces = side_workpieces
        self._simulated = simulated
        self._confirm = confirm
        #: The twins' snapshots, each hashed where it changed since the workpiece's last one.
        self._snapshots = Snapshots()
        #: Each wafer task's count of waits (`counting_waits`), by task.
        self._waits: dict[asyncio.Task[Any], _Waits] = {}
        #: Each workpiece's snapshot taken last by a counted task: the twin it was taken of,
        #: and that task's count of waits then.
        self._taken: dict[str, tuple[Snapshot, Workpiece, _Waits, int]] = {}
        #: The name of each step this recorder started and has not finished, as recorded (its
        #: events name it so without reading it back).
        self._names: dict[int, str] = {}

    def counting_waits(self, coroutine: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
        """`coroutine`, a wafer's script as its task runs it, counting the times it waits (in
        a dry run: without a twin it is given back as it is): between two takes of a twin by
        that task with no wait between, nothing but the task has run (the simulated line's
        tools run in tasks and callbacks of their own), and the task changes no twin itself,
        so the second snapshot is the first (`_take`)."""
        return coroutine if self._twin is None else self._counting_waits(coroutine)

    async def _counting_waits(self, coroutine: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None  # a task's coroutine
        waits = self._waits[task] = _Waits()
        try:
            return await _counted(coroutine, waits)
        finally:
            del self._waits[task]

    def _take(self, workpiece_id: str) -> Snapshot:
        """The snapshot of a workpiece's twin now: the one its task took last when it has not
        waited since and the twin is the same object (`counting_waits`), else one taken."""
        assert self._twin is not None
        workpiece = self._twin.get(workpiece_id)
        task = running_task()
        waits = None if task is None else self._waits.get(task)
        if waits is None:
            return self._snapshots.take(workpiece)
        last = self._taken.get(workpiece_id)
        if (
            last is not None
            and last[1] is workpiece
            and last[2] is waits
            and last[3] == waits.count
        ):
            return last[0]
        taken = self._snapshots.take(workpiece)
        self._taken[workpiece_id] = (taken, workpiece, waits, waits.count)
        return taken

    def _row(self, row: dict[str, Any], status: str, at: tuple[float, float]) -> dict[str, Any]:
        """The step record of `row`, `status`, started `at` (run clock, wall clock)."""
        return {
            "run_id": self.events.run_id,
            "session": self.events.session,
            **row,
            "status": status,
            "started_t": at[0],
            "started_wall": at[1],
        }

    @asynccontextmanager
    async def stage(
        self, wafer_ids: Sequence[str], key: str, tool: Tool, batch: str | None
    ) -> AsyncIterator[None]:
        """Record a stage (the steps a wafer, or a batch, does on a held tool) around them."""
        kind = "batch" if batch else "stage"
        rows = [stage_row(wafer_id, key, kind, tool.name, batch) for wafer_id in wafer_ids]
        ids = self.start_steps(rows)
        try:
            yield
        except asyncio.CancelledError:
            self.finish_steps(wafer_ids, ids, "interrupted", "aborted")
            raise
        except BaseException as error:
            failed = isinstance(error, Exception) and not isinstance(
                error, RunTerminated | RecordsUnwritable
            )
            status = "failed" if failed else "interrupted"
            self.finish_steps(wafer_ids, ids, status, failure_text(error))
            raise
        else:
            self.finish_steps(wafer_ids, ids, "completed", None)

    def start_steps(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Record steps as running (committed before their action starts), each with its
        `step-started` event at one reading of the clocks (`EventLog.now`); their ids."""
        at = self.events.now()
        ids = self._store.start_steps([self._row(row, "running", at) for row in rows])
        self._names.update(zip(ids, (row["name"] for row in rows), strict=True))
        for row, step_id in zip(rows, ids, strict=True):
            self.events.emit(
                "step-started",
                at=at,
                wafer=row["wafer_id"],
                step=row["name"],
                tool=row["tool"],
                data={
                    "step_id": step_id,
                    "key": row["key"],
                    "kind": row["kind"],
                    "claims": list(row["claims"]),
                },
            )
        return ids

    def record_skipped(
        self, rows: Sequence[dict[str, Any]], why: str | Callable[[Mapping[str, Any]], str]
    ) -> None:
        """Record steps skipped because they completed in an earlier session, or because an
        operator released them (`why`, or `why(row)` of each: `plan.released_why`; one
        transaction: the row is written finished), each with its `step-finished` event at one
        reading of the clocks (`EventLog.now`)."""
        at = self.events.now()
        ids = self._store.start_steps(
            [
                {
                    **self._row(row, "skipped", at),
                    "stopped_t": at[0],
                    "stopped_wall": at[1],
                    "error": why if isinstance(why, str) else why(row),
                }
                for row in rows
            ]
        )
        for row, step_id in zip(rows, ids, strict=True):
            self.events.emit(
                "step-finished",
                at=at,
                wafer=row["wafer_id"],
                step=row["name"],
                status="skipped",
                data={"step_id": step_id},
            )

    def finish_steps(
        self, wafer_ids: Sequence[str], step_ids: Sequence[int], status: str, error: str | None
    ) -> None:
        """Record how steps ended, each keeping its wafer's twin and the twins of the
        workpieces beside it on the line (dry run): completed, failed or cut off, as the step
        left them (a release of a held one goes on from that twin: decision 0108), each with
        its `step-finished` event at one reading of the clocks (`EventLog.now`)."""
        twins = []
        if self._twin is not None:
            twins = [
                (step_id, workpiece_id, self._take(workpiece_id))
                for wafer_id, step_id in zip(wafer_ids, step_ids, strict=True)
                for workpiece_id in (wafer_id, *self._beside_on_line(wafer_id))
            ]
        at = self.events.now()
        self._store.finish_steps(step_ids, status, *at, error, twins)
        for wafer_id, step_id in zip(wafer_ids, step_ids, strict=True):
            self.events.emit(
                "step-finished",
                at=at,
                wafer=wafer_id,
                step=self._step_name(step_id),
                status=status,
                message=error or "",
                data={"step_id": step_id},
            )
        for step_id in step_ids:
            self._names.pop(step_id, None)

    def _step_name(self, step_id: int) -> str:
        """The name of step record `step_id`: as this recorder started it, else read back."""
        name = self._names.get(step_id)
        return self._store.step_name(step_id) if name is None else name

    def _beside_on_line(self, wafer_id: str) -> list[str]:
        """The workpieces beside wafer `wafer_id` (the method's `side_workpieces`) the
        simulated line has received: a die wafer no step has loaded yet is not made."""
        if self._side_workpieces is None or self._twin is None:
            return []
        return [w for w in self._side_workpieces(wafer_id) if w in self._twin]

    def put_away_twin(self, wafer_id: str) -> None:
        """Take a wafer's twin out of memory (dry run) where it can be read back as it is: from
        its last snapshot in the records (a completed wafer), or, before any step changed it,
        as the incoming material it arrived as (a lot received at its start for a twin metric).
        A lot of 200 holds only the wafers in process."""
        twin = self._twin
        if twin is None or wafer_id not in twin:
            return
        taken = self._take(wafer_id)
        digest = self._store.latest_twin_hash(self.events.run_id, wafer_id)
        if digest is not None and taken.digest == digest:
            twin.put_away(wafer_id, lambda: read_snapshot(self._store.twin_blob(digest)))
        elif digest is None and taken.data == snapshot(twin.arriving(wafer_id)):
            twin.put_away(wafer_id, lambda: twin.arriving(wafer_id))
        else:
            return
        for workpiece_id in (wafer_id, *self._beside_on_line(wafer_id)):
            self._snapshots.forget(workpiece_id)
            self._taken.pop(workpiece_id, None)

    def record_alarms(self, tool: Tool, wafer_ids: Sequence[str], step_id: int) -> None:
        """Record the tool's active alarms as what failed step `step_id` of these wafers,
        each with the fault injected that raised it, if a test injected one
        (`RunStore.mark_injected_alarms`)."""
        t, wall = self.events.now()
        with self._store.transaction(durable=False):
            self._store.add_rows(
                "alarms",
                [
                    {
                        "run_id": self.events.run_id,
                        "tool": tool.name,
                        "wafer_id": wafer_id,
                        "step_id": step_id,
                        "code": a.code,
                        "message": a.message,
                        "t": t,
                        "wall": wall,
                    }
                    for wafer_id in wafer_ids
                    for a in tool.driver.active_alarms.values()
                ],
                durable=False,
            )
            self._store.mark_injected_alarms(self.events.run_id)

    def measure(
        self,
        subjects: Sequence[Subject],
        name: str,
        value: float,
        unit: str,
        low: float | None,
        high: float | None,
        source: str,
        *,
        above: bool = False,
        resolution: float | None = None,
    ) -> None:
        """Record a measurement of every subject, with the step its instrument reads it to
        (`resolution`, in `unit`: a gauge's grid; None where the step does not say); raises
        `OutOfLimits` outside [low, high], or (`above`: the value must pass `low`, not reach
        it) outside (low, high]; the records and the `measurement` events at one reading of
        the clocks (`EventLog.now`), each saying which (`low_exclusive`: 1 of a low limit to
        pass, 0 of one to reach, None without one), so that every reader can tell the two."""
        past_low = low is None or (value > low if above else value >= low)
        passed = past_low and (high is None or value <= high)
        low_exclusive = None if low is None else int(above)
        t, wall = self.events.now()
        self._store.add_rows(
            "measurements",
            [
                {
                    "run_id": self.events.run_id,
                    "wafer_id": s.id,
                    "step_id": s.step_id,
                    "name": name,
                    "value": float(value),
                    "unit": unit,
                    "low": low,
                    "low_exclusive": low_exclusive,
                    "high": high,
                    "passed": int(passed),
                    "source": source,
                    "t": t,
                    "wall": wall,
                    "resolution": resolution,
                }
                for s in subjects
            ],
            durable=False,
        )
        for subject in subjects:
            step_id = subject.step_id
            self.events.emit(
                "measurement",
                at=(t, wall),
                wafer=subject.id,
                step=None if step_id is None else self._step_name(step_id),
                status=measurement_verdict(low, high, passed),
                data={
                    "name": name,
                    "value": value,
                    "unit": unit,
                    "low": low,
                    "low_exclusive": low_exclusive,
                    "high": high,
                    "resolution": resolution,
                    "step_id": step_id,
                },
            )
        if not passed:
            broken = _limits_broken(value, unit, low, high, above)
            raise OutOfLimits(f"{name} = {value:g} {unit}, {broken}")

    async def confirm(self, subjects: Sequence[Subject], prompt: str) -> None:
        """Ask the operator (auto in a dry run, refused without one) and record the answer;
        raises `StepError` when it is not a yes (`NoOperator` when nobody could answer). The
        answer's records and its `confirmation` event at one reading of the clocks
        (`EventLog.now`)."""
        wafer_text = ", ".join(s.id for s in subjects)
        if self._simulated:  # a dry run never waits for an operator
            confirmed, by = True, DRY_RUN
        elif self._confirm is None:
            confirmed, by = False, NO_OPERATOR
        else:
            self._asked(subjects, prompt)
            confirmed, by = await self._confirm(wafer_text, prompt)
        t, wall = self.events.now()
        self._store.add_rows(
            "confirmations",
            [
                {
                    "run_id": self.events.run_id,
                    "wafer_id": s.id,
                    "step_id": s.step_id,
                    "prompt": prompt,
                    "confirmed": int(confirmed),
                    "by": by,
                    "t": t,
                    "wall": wall,
                }
                for s in subjects
            ],
            durable=False,
        )
        self.events.emit(
            "confirmation",
            at=(t, wall),
            wafer=wafer_text,
            message=prompt,
            status="confirmed" if confirmed else "declined",
            data={"by": by},
        )
        if not confirmed:
            refusal = NoOperator if by == NO_OPERATOR else StepError
            raise refusal(f"operator confirmation refused ({by}): {prompt}")

    def _asked(self, subjects: Sequence[Subject], prompt: str) -> None:
        """Record that the confirmation `prompt` is put to the operator for `subjects`, before
        the wait for the answer: one `CONFIRMATION_ASKED` event per wafer, with the step it is
        asked in, so a question the controller's crash cut off is in the records too."""
        for subject in subjects:
            self.events.emit(
                CONFIRMATION_ASKED, **self._about(subject, prompt, "asked of the operator", {})
            )

    def unanswered(
        self, subjects: Sequence[Subject], prompt: str, stopped: str, reason: str
    ) -> None:
        """Record that the confirmation `prompt` asked of `subjects` was open, and never
        answered, when the run was `stopped` (`terminated` or `aborted`) for `reason`: one
        `CONFIRMATION_UNANSWERED` event per wafer, carrying the step it was asked in, so its
        timeline says so where it was asked (`show`, `wafer`). Nothing is recorded as an answer
        (the confirmations table keeps answers): nobody declined anything."""
        said = unanswered_text(stopped, reason)
        data = {"stopped": stopped, "reason": reason}
        for subject in subjects:
            self.events.emit(CONFIRMATION_UNANSWERED, **self._about(subject, prompt, said, data))

    def _about(
        self, subject: Subject, prompt: str, said: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What an event about the confirmation `prompt` asked of `subject` says: its wafer,
        the step it is asked in, `confirmation 'PROMPT' <said>`, data `prompt`, `step_id` and
        `data`."""
        step_id = subject.step_id
        return {
            "wafer": subject.id,
            "step": None if step_id is None else self._step_name(step_id),
            "message": f"confirmation {prompt!r} {said}",
            "data": {"prompt": prompt, "step_id": step_id, **data},
        }


def _limits_broken(
    value: float, unit: str, low: float | None, high: float | None, above: bool
) -> str:
    """What a failed measurement of `value` missed, as read: 'below the minimum of 4.5 um',
    'above the maximum of 0 sites', or 'outside 10-15 um'; one that had to pass its `low`
    (`above`) and did not: 'not above the minimum of 220 degC'."""
    if above and low is not None and value <= low:
        return f"not above the minimum of {low:g} {unit}"
    if low is None:
        return f"above the maximum of {high:g} {unit}"
    if high is None:
        return f"below the minimum of {low:g} {unit}"
    return f"outside {low:g}-{high:g} {unit}"


def stage_row(
    wafer_id: str, key: str, kind: str, tool: str | None, batch: str | None
) -> dict[str, Any]:
    """The step record of stage `key` (`kind`: a tool use, `stage`, or a `batch`) of
    `wafer_id` on `tool` (in `batch`), as the recorder writes it: entered on its tool
    (`StepRecorder.stage`), or passed by a resume, completed before (`wafer._record_passed`)."""
    return {
        "wafer_id": wafer_id,
        "key": key,
        "name": step_name(key),
        "kind": kind,
        "claims": (),
        "tool": tool,
        "irreversible": 0,
        "stage": None,
        "batch": batch,
    }
