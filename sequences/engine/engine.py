"""The engine: runs one method for a lot of wafers on a station, and keeps the records.

Each wafer runs the method's script as its own asyncio task, reaching the run only through
its `RunContext` (`context.py`); the tools are connected, recovered and shut down by the
`ToolKeeper` (`keeper.py`) and shared as resources (`tools.py`), batch tools gather batches
(`batching.py`), every step is a checkpoint (`wafer.py`, `plan.py`), pause/terminate/abort act
at step boundaries (`control.py`), and the events and steps are written to the run store as
they happen (`recorder.py`, `records.py`). A dry run ends with the claim check of the
simulated product (`claim_check.py`). `Engine.run()` returns the run's final status.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from packline.clock import Clock, wait_for
from packline.drivers.errors import PacklineError
from packline.lots import LotIdentity
from packline.rendering import counted
from packline.sim_instruments.twin import TwinStore, Workpiece
from packline.sim_instruments.twin.snapshot import read_snapshot
from packline.station import Station
from packline.tasks import finish_shielded

from .batching import Batcher
from .claim_check import check_claims, overall, what_did_not_pass
from .clearances import recorded_while_stopped
from .context import RunContext
from .control import CLEAR_TOOL, DEFAULT_PAUSE_TIMEOUT_S, Order, RunControl, RunState
from .cut_off import record_cut_off_session
from .dispositions import completes_the_run, disposition_command, resume_command
from .errors import (
    NOTHING_RUN,
    BadInput,
    NoOperator,
    RecordsUnwritable,
    ResumeNotStarted,
    RunNotRecorded,
    RunNotStarted,
    RunTerminated,
    StepFailed,
    StepRefused,
    ToolsRefuseRecipe,
    ToolUnavailable,
    failure_text,
)
from .events import (
    CONTROL_IGNORED,
    FAULT_CLEARED,
    FAULT_INJECTED,
    NOTHING_TO_PAUSE,
    PAUSING,
    RESUME_PLAN,
    Observer,
)
from .injected_faults import told_before, told_fault
from .keeper import ToolKeeper
from .liveness import scrapped_text, this_host, where_it_stands
from .method import FailurePolicy, Method
from .plan import CUT_OFF, FINISHED, Plan, released_why
from .progress import clock_text
from .recipe import Recipe
from .recorder import ConfirmFn, EventLog, StepRecorder
from .records import RunStore, db_option
from .report import pause_waits_for, step_labels
from .run_clock import run_clock_s
from .schedule import COUNTED_KINDS
from .tools import ConnectedTools, Tool
from .wafer import Wafer

#: The run's states in which it is stopping: no wafer starts or runs again.
STOPPING = (RunState.TERMINATING, RunState.ABORTING)
#: Process-time bounds of the engine's own waits (each step's tool calls have their own).
TOOL_WAIT_TIMEOUT_S = 24 * 3600.0
STAGE_TIMEOUT_S = 48 * 3600.0
CONTROL_POLL_S = 0.2


@dataclass
class RunSpec:
    """Everything a run (or one session of it) needs; see `launch.py` for how one is built."""

    run_id: str
    method: Method
    recipe: Recipe
    recipe_text: str
    recipe_source: str
    station: Station
    clock: Clock
    store: RunStore
    wafer_ids: list[str]
    #: Who runs this session: the run's operator (`run --operator`), or in a resumed session
    #: who resumed it (`resume --by`); answers typed at the terminal are recorded in this name.
    operator: str
    failure_policy: FailurePolicy
    #: Who answers this session's confirmations yes in advance (`--confirmed-by NAME`), told
    #: in its `run-started` event: the resume a hint names answers them so again.
    confirmed_by: str | None = None
    twin: TwinStore | None = None
    session: int = 1
    plan: Plan = field(default_factory=Plan)
    #: Resume: the steps earlier sessions left running -> what this session decided for them.
    cut_off: dict[int, str] = field(default_factory=dict)
    #: Resume: each tool's identity as the last session that connected it recorded it.
    known_tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    t_offset: float = 0.0
    observers: list[Observer] = field(default_factory=list)
    confirm: ConfirmFn | None = None
    pause_timeout_s: float = DEFAULT_PAUSE_TIMEOUT_S
    #: The lot the wafers travel under (its id, product, owner), recorded with the run.
    lot: LotIdentity = field(default_factory=LotIdentity)
    #: The options this session's command gave a dry run's simulated tools (`--sim-option`,
    #: role -> option -> value), recorded with each tool's identity (decision 0121): a
    #: resume's fresh line has its own command's, none of an earlier session's.
    sim_options: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


class TwinsAtSteps:
    """A dry run's wafer twins as a step of theirs left them, read back from the records (the
    snapshot taken when it ended, as a completed wafer's twin is: decision 0045), for a
    claim condition judged at that step (`Condition.at`)."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        #: (wafer, step name) -> the step record the state is read after; made on first use
        self._steps: dict[tuple[str, str], int] | None = None
        #: wafer -> its snapshots as (step record, digest), in the order taken; made on first use
        self._snapshots: dict[str, list[tuple[int, str]]] | None = None
        #: the twin read last, by its digest: a wafer's conditions at one step share it
        self._last: tuple[str, Workpiece] | None = None

    def __call__(self, wafer_id: str, step: str) -> Workpiece:
        """The twin of `wafer_id` after its step `step`: as its latest completion left it
        (a step redone by a rework, the redone one), or, for a step that held the wafer
        (released, or not decided yet), as it left the wafer as it failed or was cut off
        (decision 0108; as the wafer last was before it where no snapshot was taken then: a
        killed process); ValueError for a wafer without that step."""
        digests = self._digests(wafer_id, step)
        if not digests:
            raise ValueError(f"run {self._run_id}: no twin of {wafer_id} after step {step!r}")
        if self._last is None or self._last[0] != digests[-1]:
            self._last = (digests[-1], read_snapshot(self._store.twin_blob(digests[-1])))
        return self._last[1]

    def reached(self, wafer_id: str, step: str) -> bool:
        """Whether the run recorded a twin of `wafer_id` after its step `step` (not of a wafer
        held before it, which a report's maps show all the same)."""
        return bool(self._digests(wafer_id, step))

    def _digests(self, wafer_id: str, step: str) -> list[str]:
        """The digests of `wafer_id`'s snapshots up to its step `step`, in the order taken
        (none: it has no record of the step, or no snapshot before it)."""
        if self._steps is None or self._snapshots is None:
            self._steps = self._index()
            self._snapshots = {}
            for row in self._store.twin_snapshots(self._run_id):
                self._snapshots.setdefault(row["wafer_id"], []).append(
                    (row["step_id"], row["hash"])
                )
        step_id = self._steps.get((wafer_id, step))
        return [
            digest
            for taken_after, digest in self._snapshots.get(wafer_id, [])
            if step_id is not None and taken_after <= step_id
        ]

    def _index(self) -> dict[tuple[str, str], int]:
        """Each wafer's step names -> its latest completed record of the name, else (released,
        skipped) its latest record of it."""
        latest: dict[tuple[str, str], int] = {}
        completed: dict[tuple[str, str], int] = {}
        for row in self._store.table("steps", self._run_id):  # in id order
            key = (row["wafer_id"], row["name"])
            latest[key] = row["id"]
            if row["status"] == "completed":
                completed[key] = row["id"]
        return latest | completed


class Engine:
    """One session of one run."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.run_id = spec.run_id
        self.method = spec.method
        self.recipe = spec.recipe
        #: The tool roles the recipe drives: the tools the run connects (decision 0093).
        self.roles = spec.method.tools_for(spec.recipe)
        self.clock = spec.clock
        self.store = spec.store
        self.session = spec.session
        self.plan = spec.plan
        self.twin = spec.twin
        self.events = EventLog(
            self.run_id,
            self.session,
            self.store,
            self.t,
            spec.observers,
            records_open=False,
            began_t=spec.t_offset,
        )
        self.emit = self.events.emit
        self.recorder = StepRecorder(
            self.events,
            self.store,
            self.twin,
            side_workpieces=spec.method.side_workpieces,
            simulated=spec.station.simulated,
            confirm=spec.confirm,
        )
        self.control = RunControl(self.clock, self._on_control, spec.pause_timeout_s)
        self.keeper = ToolKeeper(
            self.clock,
            spec.station,
            self.store,
            self.events,
            self.control,
            spec.known_tools,
            side_workpieces=spec.method.side_workpieces,
            on_back_in_service=self._run_unserved_again,
            sim_options=spec.sim_options,
        )
        self.batcher = Batcher(
            self.clock,
            self.keeper.pool,
            self.session,
            tool_wait_timeout_s=TOOL_WAIT_TIMEOUT_S,
            stage_timeout_s=STAGE_TIMEOUT_S,
        )
        self.context = RunContext(
            plan=self.plan,
            irreversible=self.method.irreversible,
            keeper=self.keeper,
            batcher=self.batcher,
            control=self.control,
            recorder=self.recorder,
            boundary=self.boundary,
            take_control=self.take_control,
            tool_wait_timeout_s=TOOL_WAIT_TIMEOUT_S,
        )
        self._origin = self.clock.now()
        #: True until this session has reached its tools (`_reach_tools`): none of it is
        #: recorded yet (its events are kept for when it is, `EventLog.opened`) and no wafer
        #: has started, so no step is under way for an abort to cut short.
        self.connecting = True
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wafer_status: dict[str, str] = {}
        #: The wafers held in this session for want of a tool -> the tools they asked for.
        self._unserved: dict[str, tuple[str, ...]] = {}
        #: Set when a clear runs a wafer again or the run stops, while the run waits for a
        #: clear (`_wait_for_a_clear`); None otherwise.
        self._again: asyncio.Event | None = None
        #: Why the `pause` policy last paused the run (`_apply_policy`): the run's pause is the
        #: policy's while the control's reason is this one (an operator's later pause is not).
        self._policy_pause: str | None = None
        #: A terminate ended the wait for a clear: every wafer left was held, none cut short.
        self._ended_waiting = False
        #: Why the records could not be written, once they could not (`_stop_unrecorded`).
        self._unwritable: RecordsUnwritable | None = None
        #: The wafers the abort cut off, in the order their tasks ended: recorded once the
        #: tools' safe states are known (`_record_cut_off`).
        self._cut_off: list[str] = []

    # ----------------------------------------------------------------- time and events

    def t(self) -> float:
        """The run clock: seconds since the run began, simulated process time in a dry run,
        the wall clock on a station (one served faster than the wall clock too, whose waits
        pass on its own time: `run_clock.run_clock_s`)."""
        return run_clock_s(self.clock, self.clock.now() - self._origin) + self.spec.t_offset

    def request(self, command: str, reason: str, by: str | None = None) -> None:
        """pause, resume, terminate or abort the run (Ctrl-C, a policy, another process), for
        `reason`, ordered by the person `by` (recorded in the event's data)."""
        self.control.apply(command, reason, by)

    async def boundary(self, in_stage: bool) -> None:
        """A step boundary: read commands from other processes, then pause or stop if asked
        (a pause does not stop a wafer `in_stage`: `RunControl.boundary`)."""
        self._take_control()
        await self.control.boundary(in_stage)

    def _on_control(self, state: RunState, reason: str, by: str | None) -> None:
        """Say the run's new `state` (`paused`, `resumed`, `terminating`, `aborting`), and
        record a pause's or a resume's status; a pause's `pausing` events stamped at its
        `paused` event's reading of the clocks, one moment (the status's write between two
        readings had put them 6 s apart on a line served at x60)."""
        kind = {
            RunState.PAUSED: "paused",
            RunState.RUNNING: "resumed",
            RunState.TERMINATING: "terminating",
            RunState.ABORTING: "aborting",
        }[state]
        at = self.events.now()
        self.emit(kind, at=at, message=reason, data={"by": by} if by else {})
        recorded = not self.events.unrecorded and not self.connecting  # else `_run_status`
        if state in (RunState.PAUSED, RunState.RUNNING) and recorded:
            self.store.update_run(self.run_id, status=state.value)
        if state is RunState.PAUSED:
            self._pausing(at)
        if state in STOPPING:
            self.batcher.stop_forming(reason)
            self.keeper.pool.stop_waiting(RunTerminated(reason))
            if self._again is not None:  # the run waits for a clear: it ends now
                self._again.set()
        if state is RunState.ABORTING:
            for task in self._tasks.values():
                task.cancel()

    def _pausing(self, at: tuple[float, float]) -> None:
        """Say, as a pause is taken `at` (run clock, wall clock), what it waits for: each
        stage under way, whose wafers finish their steps on its tool, to its unload, before
        they wait (a `pausing` event each, naming them, the tool and where they stand;
        decision 0097)."""
        stages = self.control.stages
        steps = self.store.table("steps", self.run_id) if stages else []
        for stage in stages:
            own = [
                row
                for row in steps
                if row["wafer_id"] == stage.wafers[0]
                and row["session"] == self.session
                and row["kind"] in COUNTED_KINDS
            ]
            where = where_it_stands(own, step_labels(own))
            alone = len(stage.wafers) == 1
            self.emit(
                PAUSING,
                at=at,
                wafer=stage.wafers[0] if alone else None,
                tool=stage.tool,
                message=pause_waits_for(stage.tool, stage.wafers, where),
                data={"wafers": list(stage.wafers)},
            )

    # ----------------------------------------------------------------- the run

    async def run(self) -> str:
        """Run the lot (or what a resume leaves of it); returns the run's final status. A
        session refused on its tools before they are used (`_reach_tools`) records nothing."""
        await self._reach_tools()
        self.connecting = False
        try:
            started = self._open_records()
        except BaseException:  # not recorded (another session took the run, the disk full)
            closed, _ = await finish_shielded(self.keeper.shutdown())
            closed.result()
            raise
        poller: asyncio.Task[None] | None = None
        status, error = "failed", None
        try:
            await self._write_session_start(started)
            poller = asyncio.create_task(
                self._poll_control(), name=f"packline-control-{self.run_id}"
            )
            self.keeper.record_connected()
            await self.keeper.prepare(resumed=self.session > 1)
            self._start_wafers()
            await self._wafers_done()
            while await self._wait_for_a_clear():
                await self._wafers_done()
            if self.control.state is RunState.PAUSED:  # the lot finished under the pause
                self._nothing_to_pause(self.control.reason, paused=True)
            status = self._final_status()
            if self._unwritable is None:
                self._check_claims()
        except asyncio.CancelledError:
            self.control.abort("the controller was cancelled")
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            status = "aborted"
            raise
        except RecordsUnwritable as unwritable:
            self._stop_unrecorded(unwritable)
        except PacklineError as failure:
            error = str(failure)
        except Exception as failure:  # a bug: record it, then let it surface
            status, error = "failed", f"{type(failure).__name__}: {failure}"
            raise
        finally:
            if poller is not None:
                poller.cancel()
            await self._stop_wafers()
            if poller is not None:
                await asyncio.gather(poller, return_exceptions=True)
            shutdown, cancelled = await finish_shielded(self.keeper.shutdown())
            shutdown.result()
            if self._unwritable is None:
                try:
                    self._take_last_words()
                    self._record_cut_off()
                    self._close_records(status, error)
                except RecordsUnwritable as unwritable:
                    self._stop_unrecorded(unwritable)
            if cancelled:
                raise asyncio.CancelledError
        if self._unwritable is not None:
            raise RunNotRecorded(self._unrecorded_text(self._unwritable)) from self._unwritable
        return status

    def _stop_unrecorded(self, unwritable: RecordsUnwritable) -> None:
        """The records could not be written (the first time: `unwritable`): no step may start
        that they do not hold, so the run stops as a terminate stops it, its steps under way
        ending on their tools, and from now on its events are told without being recorded.
        The records stay as the last write that succeeded left them, as after a crash, for a
        resume once they can be written again (`RunNotRecorded`, raised by `run`)."""
        if self._unwritable is not None:
            return
        self._unwritable = unwritable
        self.events.unrecorded = True
        self.control.terminate(
            f"{unwritable}: no step starts that they do not hold, so the run stops once the "
            "steps under way end"
        )

    def _unrecorded_text(self, unwritable: RecordsUnwritable) -> str:
        """What the operator is told when a run stopped for records it could not write."""
        resume = f"packline resume {self.run_id}{db_option(self.store.path)}"
        return (
            f"run {self.run_id} stopped: {unwritable}. No step started that the records do "
            "not hold; the steps under way ran to their end on their tools, their end "
            "unrecorded where it could not be written, and every record written is kept. Make "
            "room on that disk (or mend what the error names), then "
            f"`{resume}`: each wafer goes on from its last recorded step (a step recorded as "
            "under way is done again, or, if it cannot be repeated, holds its wafer for a "
            "disposition)"
        )

    async def _reach_tools(self) -> None:
        """Connect every tool and check the station against them and its line
        (`ToolKeeper.check_station`) before the run is recorded or a resume takes it over, so
        that a session that cannot start records nothing, as none refused before it does: a
        tool it cannot reach (refused, timed out) or of another kind, another model under a
        tool's name, a `capacity` above what a tool takes, a `time_scale` the line is not
        served at, or a tool that says it cannot carry out the recipe (`_check_tools`) ends it
        here, every tool it reached closed (its line lock is the caller's, `launch.py`). No run
        is recorded; a resume starts no session and closes no cut-off step, so the run stays
        as its last session left it. The refusal names what is wrong and how to go on
        (`_not_started`)."""
        try:
            await self.keeper.connect(self.roles)
            await self.keeper.check_station()
            await self._check_tools()
        except BaseException as failure:
            closed, cancelled = await finish_shielded(self.keeper.shutdown())
            closed.result()
            if cancelled or not isinstance(failure, PacklineError):
                raise
            raise self._not_started(failure) from failure

    async def _check_tools(self) -> None:
        """Ask the method whether its tools, as connected, carry out the recipe (its
        `tools_check`, every session: a resume's tools may not be the ones its run began on,
        a grinder swapped for one with a coarser gauge; what the resume has left to run,
        `ConnectedTools.runs_step`), before any tool is commanded;
        `ToolsRefuseRecipe` with every reason, a line each (decision 0118)."""
        if self.method.tools_check is None:
            return
        completed = None
        if self.session > 1:
            completed = {
                wafer_id: self.plan.completed_step_names(wafer_id)
                for wafer_id in self.plan.wafers_to_run(self.spec.wafer_ids)
            }
        tools = ConnectedTools(self.keeper.pool, completed)
        refusals = await self.method.tools_check(self.recipe, tools)
        if refusals:
            raise ToolsRefuseRecipe(refusals)

    def _not_started(self, failure: PacklineError) -> RunNotStarted:
        """The refusal of this session for `failure`, found on its tools before it started
        (a tool refused, timed out, or of another kind; or bad input: the station file says
        what its tools or its line do not): `RunNotStarted`, `ResumeNotStarted` for a resume;
        either says that nothing was run or recorded (`NOTHING_RUN`) and how to go on."""
        bad_input = isinstance(failure, BadInput)
        refused = isinstance(failure, ToolsRefuseRecipe)
        if self.session == 1:
            if isinstance(failure, ToolsRefuseRecipe):
                again = "with the recipe corrected, or on tools that carry it out"
                refused_tools = {refusal.tool for refusal in failure.refusals}
                advice = self.method.served_line_advice(
                    self.spec.station, self.recipe, refused_tools
                )
                again += "" if advice is None else f" ({advice})"
            elif bad_input:
                again = "with the station file corrected"
            else:
                again = "once every tool answers as the station file says"
            return RunNotStarted(f"run not started: {failure}; {NOTHING_RUN}: run it again {again}")
        kept = (
            f"run {self.run_id} not resumed: {failure}; {NOTHING_RUN}, so the run is as its "
            "last session left it"
        )
        if not (bad_input or refused):
            return ResumeNotStarted(
                f"{kept}: resume it once the tool answers, or with --station FILE where it is "
                "served now"
            )
        dry = self.twin is not None
        resume = resume_command(
            self.store,
            self.run_id,
            station_option="" if dry else " --station FILE",
            db_option=db_option(self.store.path),
        )
        if not refused:
            return ResumeNotStarted(f"{kept}: resume it with the station file corrected, {resume}")
        tools = (
            "a simulated line whose tools carry it out (without the --sim-option that made them "
            "otherwise)"
            if dry
            else "tools that carry it out (FILE naming them)"
        )
        return ResumeNotStarted(
            f"{kept}: its recipe cannot change, so resume it, {resume}, on {tools}"
        )

    async def _wafers_done(self) -> None:
        """Until every wafer's script has ended, and no operator's clear that may run a held
        wafer again is still checking its tool."""
        while pending := [
            *(task for task in self._tasks.values() if not task.done()),
            *self.keeper.clearing(),
        ]:
            await asyncio.wait(pending)

    async def _wait_for_a_clear(self) -> bool:
        """On real tools, once every wafer left is held and some only for want of a tool an
        operator can clear (`_unserved`), the run stays up for the clear rather than end at
        once: a `waiting-for-clear` event names those wafers, the command that clears each
        tool (the clear runs them again now), the wafers that wait for a disposition (once the
        run has ended) and how to end it. True when a clear ran wafers again (the run goes
        on); False when there was nothing to wait for (a dry run: nobody can clear a tool
        while its clock jumps), or once a terminate or an abort ended the wait, or the tool
        wait (`TOOL_WAIT_TIMEOUT_S` of process time) passed: the run ends held, every held
        wafer recorded for a resume."""
        if self.spec.station.simulated or self.control.state in STOPPING:
            return False
        pool = self.keeper.pool
        unserved = {
            wafer_id: tools
            for wafer_id, tools in self._unserved.items()
            if self._wafer_status[wafer_id] == "held"
            and any(pool.tools[name].awaiting_clear for name in tools)
        }
        if not unserved:
            return False
        self._again = asyncio.Event()
        self.emit(
            "waiting-for-clear",
            message=self._waiting_text(unserved),
            data={
                "unserved": {wafer_id: list(tools) for wafer_id, tools in unserved.items()},
                "timeout_s": TOOL_WAIT_TIMEOUT_S,
            },
        )
        with suppress(TimeoutError):
            await wait_for(self.clock, self._again.wait(), TOOL_WAIT_TIMEOUT_S, "a clear")
        self._again = None
        if self.control.state is RunState.TERMINATING:
            self._ended_waiting = True  # every wafer held, none cut short: the run is held
        return self.control.state not in STOPPING and any(
            not task.done() for task in self._tasks.values()
        )

    def _waiting_text(self, unserved: dict[str, tuple[str, ...]]) -> str:
        """What the operator reads while the run waits for a clear: which wafers wait for which
        tool and its clear, which wait for a disposition, and how the wait ends."""
        pool, run_id = self.keeper.pool, self.run_id
        tools = sorted({name for names in unserved.values() for name in names})
        clears = [  # each reason names the command that clears it
            f"{name}: {pool.tools[name].out_of_service}"
            for name in tools
            if pool.tools[name].awaiting_clear
        ]
        text = (
            f"every wafer left is held; {', '.join(unserved)} only for want of a tool, and "
            "run again as soon as it is cleared, once its cause is fixed: " + "; ".join(clears)
        )
        decide = [
            wafer_id
            for wafer_id, status in self._wafer_status.items()
            if status == "held" and wafer_id not in unserved
        ]
        resume = resume_command(self.store, run_id)
        if decide:
            text += (
                f". {', '.join(decide)} wait for a disposition once the run has ended "
                f"({disposition_command(run_id)}, then the resume)"
            )
        limit = f"{TOOL_WAIT_TIMEOUT_S / 3600:g} h"
        if (scale := self.spec.station.time_scale) != 1.0:  # waited on the line's time (0125)
            wall = clock_text(TOOL_WAIT_TIMEOUT_S / scale)
            limit += f" of the line's time ({wall} of wall time at x{scale:g})"
        return text + (
            f". The run waits for a clear for up to {limit}; "
            f"`packline terminate {run_id}` (or Ctrl-C) ends it now, every held wafer "
            f"recorded: clear the tool then, and {resume} runs them"
        )

    async def _stop_wafers(self) -> None:
        """No wafer task outlives the run (only reached with tasks left on an error)."""
        left = [task for task in self._tasks.values() if not task.done()]
        if left:
            self.control.abort("the run ended with wafers still running")
            await asyncio.gather(*left, return_exceptions=True)

    def _final_status(self) -> str:
        if self.control.state is RunState.ABORTING:
            return "aborted"
        if self.control.state is RunState.TERMINATING and not self._ended_waiting:
            return "terminated"
        statuses = self._wafer_status.values()
        return "completed" if completes_the_run(self.store, self.run_id, statuses) else "held"

    def _check_claims(self) -> None:
        """Dry run: evaluate the method's claim conditions on the twin of every wafer that
        completed it (in any session), record the result and tell the observers."""
        if self.twin is None or self.method.claim_checks is None:
            return
        completed = [
            w["wafer_id"] for w in self.store.wafers(self.run_id) if w["status"] == "completed"
        ]
        results = check_claims(
            self.method.claim_checks(self.recipe),
            self.twin.peeked(completed),
            self.twin.get,
            TwinsAtSteps(self.store, self.run_id),
        )
        t, wall = self.events.now()
        rows = [
            {"run_id": self.run_id, "session": self.session, **r.to_dict(), "t": t, "wall": wall}
            for r in results
        ]
        self.store.replace_claim_checks(self.run_id, rows)
        verdict = overall([r.verdict for r in results])
        noun = self.twin.peek(completed[0]).geometry.noun if completed else "wafer"
        self.emit(
            "claim-check",
            at=(t, wall),
            status=verdict,
            message=(
                what_did_not_pass([(r.claim, r.condition, r.verdict) for r in results])
                or f"{counted(len(results), 'condition')} on {counted(len(completed), noun)}"
            ),
            data={"conditions": [r.to_dict() for r in results]},
        )

    async def _write_session_start(self, started: tuple[float, float]) -> None:
        """Start the session in the records its run is in (`_open_records`, at `started`,
        its reading of the clocks): the faults a
        served line had injected or cleared before it began, once the line says which
        (`ToolKeeper.record_faults_on_line`, before the tools' states they may cause), then
        what the session kept while it connected (an operator's pause), its `run-started`
        and a resume's plan: written in that order, as they happened (decision 0119), where
        the faults had come after the run's start; then, of a dry run's resume, the faults
        its fresh simulated line does not have (`ToolKeeper.record_fresh_line_clears`). The
        line is asked once the run is in the records, so that a fault injected meanwhile is
        either in its answer or told to the run, live by then; words from other processes
        are taken once this is written, so that one telling a fault found is recorded once
        (`told_before`). A session cut off while it waits for the answer writes its start
        all the same."""
        try:
            found = await self.keeper.record_faults_on_line()
        finally:
            try:
                self._session_started(started)
            finally:  # what the session kept is written, whatever failed before it
                self.events.opened()
        if self.keeper.record_fresh_line_clears() or found:
            self.store.mark_injected_alarms(self.run_id)  # an earlier session's, of a fault found

    def _open_records(self) -> tuple[float, float]:
        """Create the run's records (or take over its session), its events kept until
        `_write_session_start` writes them; returns the session's start, one reading of the
        clocks (`EventLog.now`): the runs row's `started_t`/`started_wall` of a first session,
        and the time its `run-started` carries, said once the line has answered
        (`_session_started`), so that the live view's ETA, counted from `run-started`, and a
        reference run's schedule, from its row's `started_t`, count from one moment."""
        spec, started = self.spec, self.events.now()
        if self.session == 1:
            self.store.create_run(
                {
                    "id": self.run_id,
                    "method": self.method.name,
                    "recipe_json": self.recipe.canonical_json(),
                    "recipe_text": spec.recipe_text,
                    "recipe_source": spec.recipe_source,
                    "recipe_hash": self.recipe.recipe_hash(),
                    "station_name": spec.station.name,
                    "station_yaml": spec.station.to_yaml(),
                    "simulated": int(spec.station.simulated),
                    "operator": spec.operator,
                    "lot_size": len(spec.wafer_ids),
                    **spec.lot.columns(),
                    "failure_policy": spec.failure_policy.value,
                    "status": self._run_status(),
                    "sessions": 1,
                    "pid": os.getpid(),
                    "host": this_host(),
                    "started_t": started[0],
                    "started_wall": started[1],
                },
                spec.wafer_ids,
            )
        else:
            self._take_over(spec)
        return started

    def _session_started(self, started: tuple[float, float]) -> None:
        """Say the session started (`run-started`, at `started`: as its records were opened),
        after what happened before it: what was recorded while the run was stopped (by other
        processes, and of the session it takes over cut off: `recorded_while_stopped`, none
        before its first session), and the faults found on the line as the session connected,
        in one order (`EventLog.retell`); then a resume's plan."""
        spec = self.spec
        self.events.retell(recorded_while_stopped(self.store, self.run_id, self.session))
        resumed = {"by": spec.operator} if self.session > 1 else {}
        in_advance = {} if spec.confirmed_by is None else {"confirmed_by": spec.confirmed_by}
        self.emit(
            "run-started",
            at=started,
            message=f"{self.method.name} session {self.session}"
            + (f", resumed by {spec.operator}" if resumed else ""),
            data={
                "wafers": spec.wafer_ids,
                "method": self.method.name,
                "simulated": spec.station.simulated,
                **resumed,
                **in_advance,
            },
        )
        if self.session > 1:
            to_run = self.plan.wafers_to_run(spec.wafer_ids)
            self.emit(
                RESUME_PLAN,
                message=f"this resume {self.plan.wafers_to_run_text(to_run)}",
                data={
                    "wafers": to_run,
                    "not_started": [w for w in to_run if not self.plan.started(w)],
                },
            )

    def _run_status(self) -> str:
        """The status the run's record takes as this session opens it: `paused` when it was
        paused while it reached its tools (so `runs` says so, and `packline resume RUN` from
        another terminal goes on with it), else `running` (a terminate or an abort ordered
        then is recorded as the run ends)."""
        paused = self.control.state is RunState.PAUSED
        return RunState.PAUSED.value if paused else RunState.RUNNING.value

    def _take_over(self, spec: RunSpec) -> None:
        """Start this session of a run an earlier session left (see `RunStore.start_session`);
        of one cut off (no end recorded), record so in that session as it is taken over, the
        steps it left running closed (`record_cut_off_session`), told as the session starts
        with what was recorded while the run was stopped (`recorded_while_stopped`)."""
        left = self.store.run(self.run_id)
        with self.store.transaction():
            taken = self.store.start_session(
                self.run_id,
                self.session,
                spec.cut_off,
                status=self._run_status(),
                station_name=spec.station.name,
                station_yaml=spec.station.to_yaml(),
                pid=os.getpid(),
                host=this_host(),
                stopped_t=None,
                stopped_wall=None,
                error=None,
            )
            if taken and left["stopped_t"] is None:
                record_cut_off_session(self.store, left, spec.cut_off)
        if not taken:
            raise ResumeNotStarted(
                f"run {self.run_id} not resumed: its session {self.session} was started by "
                f"another process meanwhile; {NOTHING_RUN} here (every tool this resume "
                "reached was closed): `packline show "
                f"{self.run_id}{db_option(self.store.path)}` says who drives it"
            )

    def _close_records(self, status: str, error: str | None) -> None:
        for wafer_id, wafer_status in self._wafer_status.items():
            if wafer_status in ("pending", "running"):  # never started: a failed start or abort
                self._set_wafer(wafer_id, "terminated", reason=error or f"run {status}")
        # one reading for the run's end and its run-finished, the run's last event: what is
        # recorded of the stopped run later is stamped no earlier than both (decision 0120)
        stopped = self.events.now()
        self.store.update_run(
            self.run_id, status=status, stopped_t=stopped[0], stopped_wall=stopped[1], error=error
        )
        # a completed lot that scrapped a wafer says so, as its status is shown (`status_text`)
        statuses = list(self._wafer_status.values())
        lost = scrapped_text(statuses.count("completed"), statuses.count("scrapped"))
        self.emit(
            "run-finished",
            at=stopped,
            status=status,
            message=error or (lost if status == "completed" else ""),
            data={"wafers": dict(self._wafer_status)},
        )
        self.store.flush_traces()

    async def _poll_control(self) -> None:
        """Commands from other processes (`packline pause RUN`), read on the wall clock. A
        database that is busy for longer than its timeout, or where the orders taken cannot
        be marked taken, is tried again at the next poll: the poller must not die, or
        `packline terminate RUN` would be silently ignored."""
        while True:
            self.take_control()
            await asyncio.sleep(CONTROL_POLL_S)

    def take_control(self) -> None:
        """Take the words other processes posted now (`_take_control`), where the control poll
        would take them later: also before a tool's alarm is recorded, so that a fault injected
        from another process that raised it is recorded first, cause before effect (decision
        0110). A database busy for longer than its timeout, or where the words taken cannot be
        marked taken, is tried again at the next poll."""
        with suppress(sqlite3.OperationalError, RecordsUnwritable):
            self._take_control()

    def _take_last_words(self) -> None:
        """The words other processes posted as the run ended, taken before its end is
        recorded, which no control poll nor step boundary would take any more: a fault the
        served line told (a tool's own clear, a `sim fault`) is recorded as ever, and an order
        (a pause, a terminate, a clear of a tool) is recorded as come too late to carry out,
        where each had lain untaken for good."""
        with suppress(sqlite3.OperationalError):  # as the control poll's: busy, left
            self._take_control(ending=True)

    def _take_control(self, *, ending: bool = False) -> None:
        """Take the words posted now and act on each (`ending`: the run's wafers have
        stopped, so an order is recorded ignored rather than carried out)."""
        if not self.events.records_open:  # the words wait for the session's start, written
            return  # with the faults it found on the line, that a word may tell again
        for text in self.store.take_control(self.run_id, time.time()):
            order = Order.read(text)
            if order is None:  # a row no packline command wrote
                self.emit(CONTROL_IGNORED, message=f"unreadable order {text!r}")
            elif order.command in (FAULT_INJECTED, FAULT_CLEARED) and told_before(
                self.store, order, self.run_id
            ):
                continue  # recorded already: the run found it as it connected
            elif order.command == FAULT_INJECTED:
                self.emit(FAULT_INJECTED, tool=order.tool, **told_fault(order))
                self.store.mark_injected_alarms(self.run_id)  # its alarm may be recorded
            elif order.command == FAULT_CLEARED:
                self.emit(FAULT_CLEARED, tool=order.tool, **told_fault(order))
                self.store.mark_injected_alarms(self.run_id)
            elif ending:
                what = f"clear of {order.tool}" if order.command == CLEAR_TOOL else order.command
                self.emit(
                    CONTROL_IGNORED,
                    tool=order.tool,
                    message=f"{what} by {order.by} came as the run ended: not carried out",
                )
            elif order.command == CLEAR_TOOL:
                self.clear_tool(str(order.tool), str(order.by))
            else:
                self.request(order.command, order.reason, order.by)

    def clear_tool(self, name: str, by: str) -> None:
        """An operator (`by`) puts an alarmed tool back in service: the waiting wafers go on."""
        self.keeper.clear(name, by)

    # ----------------------------------------------------------------- wafers

    def _start_wafers(self) -> None:
        if released := self.plan.released_steps():
            # on disk before anything runs: a wafer held again before it reaches its released
            # step must not have the step counted as failed (and redone) by a later resume
            self.recorder.record_skipped(released, why=released_why)
        for wafer_id in sorted(self.plan.refused_releases):
            self.emit(
                "disposition",
                wafer=wafer_id,
                message="the release is carried out as a rework: its tool refused the held "
                "step, which so did not happen; it is done again",
                data={"decision": "release", "carried_out": "rework"},
            )
        live = self.plan.wafers_to_run(self.spec.wafer_ids)  # as the resume-plan said
        for wafer_id in self.spec.wafer_ids:
            status = self.plan.wafer_status.get(wafer_id, "pending")
            if status in FINISHED:
                # finished in an earlier session: it still counts for the run's outcome
                self._wafer_status[wafer_id] = status
            elif wafer_id in live:
                self._wafer_status[wafer_id] = status
                self.batcher.expect(wafer_id)
            else:  # neither finished nor run: held again before it runs
                reason = self.plan.hold_reason(wafer_id)
                assert reason is not None
                self._hold(wafer_id, reason, apply_policy=False)
        for wafer_id in self.spec.wafer_ids:
            if wafer_id in live:
                self._start_wafer(wafer_id)

    def _start_wafer(self, wafer_id: str, back: str | None = None) -> None:
        """Start the wafer's script as its own task (`back`: the tool whose return to service
        runs it again)."""
        wafer = Wafer(self.context, wafer_id, self.spec.wafer_ids.index(wafer_id))
        self._tasks[wafer_id] = asyncio.create_task(
            self.recorder.counting_waits(self._wafer_main(wafer, back)), name=f"wafer-{wafer_id}"
        )
        if self._again is not None:
            self._again.set()

    def _run_unserved_again(self, tool: Tool) -> None:
        """An operator put `tool` back in service: each wafer this session held for
        want of it runs again now, as a resume would run it (`Plan.run_unserved_again`),
        unless the run is stopping."""
        if self.control.state in STOPPING:
            return
        for wafer_id, tools in list(self._unserved.items()):
            if tool.name not in tools or self._wafer_status[wafer_id] != "held":
                continue
            del self._unserved[wafer_id]
            steps = self.store.table("steps", self.run_id)
            mine = [row for row in steps if row["wafer_id"] == wafer_id]
            self.plan.run_unserved_again(wafer_id, mine)
            self.batcher.expect(wafer_id)
            self._start_wafer(wafer_id, back=tool.name)

    async def _wafer_main(self, wafer: Wafer, back: str | None) -> None:
        """The wafer's script, as its task runs it: its records stopped where the run's
        records could not be written (`_stop_unrecorded`), as a crash would have left them."""
        try:
            await self._wafer_script(wafer, back)
        except RecordsUnwritable as unwritable:
            self._stop_unrecorded(unwritable)

    async def _wafer_script(self, wafer: Wafer, back: str | None) -> None:
        """Run the wafer's script, its record `running` until it ends. A wafer run again (a
        resume's of one an earlier session stopped, or one held for want of a tool run again
        once it is cleared) has its earlier stop taken off its record: its time on the line
        ends at its stop (`report.time_on_line`), and a stop kept from session 1 had ended a
        running wafer's there, where it is on the line so far."""
        fresh = self._wafer_status[wafer.id] == "pending"
        fields: dict[str, Any] = {"status": "running"}
        started = self.events.now()  # for its record and its `wafer-started`, one moment
        if fresh:
            fields |= {"started_t": started[0], "started_wall": started[1]}
        else:
            fields |= {"stopped_t": None, "stopped_wall": None}
        self.store.update_wafer(self.run_id, wafer.id, **fields)
        self._wafer_status[wafer.id] = "running"
        if back is None:
            self.emit("wafer-started", at=started, wafer=wafer.id)
        else:
            self.emit(
                "wafer-started",
                at=started,
                wafer=wafer.id,
                message=f"again: {back} is back in service",
                data={"back_in_service": back},
            )
        if fresh:
            self._twin_metrics(wafer, "before")
            self.recorder.put_away_twin(wafer.id)  # as it arrived, until a tool loads it
        try:
            await self.method.sequence(wafer, self.recipe)
        except RunTerminated as stop:
            self._set_wafer(wafer.id, "terminated", reason=str(stop))
        except asyncio.CancelledError:
            self._cut_off.append(wafer.id)  # recorded as the run ends: `_record_cut_off`
            raise
        except RecordsUnwritable:
            raise  # nothing more of the wafer can be recorded: `_wafer_main`
        except Exception as error:
            self._hold(wafer.id, failure_text(error), apply_policy=True, cause=error)
        else:
            self._twin_metrics(wafer, "after")
            self._set_wafer(wafer.id, "completed")
            self.recorder.put_away_twin(wafer.id)
        finally:
            self.batcher.wafer_done(wafer.id)

    def _record_cut_off(self) -> None:
        """Record the outcome of each wafer the abort cut off, once every wafer's task has
        ended (its steps recorded, a batch's by its leader) and the tools' safe states are
        known (`ToolKeeper.shutdown`): a wafer whose irreversible step it cut off is held
        (`_cut_off_reason`), any other is terminated for the abort's reason, naming who
        ordered it, as a terminate's does. Where the stage it cut off was on a tool whose safe
        state the abort could not confirm, the reason names the abort and that tool
        (`_unconfirmed_text`): the wafer may sit in a live chamber."""
        abort = self.control.reason or "aborted"
        for wafer_id in self._cut_off:
            cut_off = self._cut_off_reason(wafer_id)
            unconfirmed = self._unconfirmed_text(wafer_id)
            if cut_off is None:
                self._set_wafer(wafer_id, "terminated", reason=abort + unconfirmed)
            elif unconfirmed:
                self._hold(wafer_id, f"{cut_off} ({abort}){unconfirmed}", apply_policy=False)
            else:
                self._hold(wafer_id, cut_off, apply_policy=False)

    def _unconfirmed_text(self, wafer_id: str) -> str:
        """What a reason of a wafer the abort cut off adds for the tools of the steps it cut
        off that the abort could not bring to a confirmed safe state (`ToolKeeper.unconfirmed`):
        '' when there is none."""
        unconfirmed = self.keeper.unconfirmed
        tools = {
            row["tool"]
            for row in self.store.table("steps", self.run_id)
            if row["wafer_id"] == wafer_id
            and row["session"] == self.session
            and row["status"] in CUT_OFF
            and row["tool"] in unconfirmed
        }
        return "".join(
            f"; the abort left {tool}'s safe state unconfirmed (its safe-state-unconfirmed "
            "event says why): the wafer may be in a live tool"
            for tool in sorted(tools)
        )

    def _cut_off_reason(self, wafer_id: str) -> str | None:
        """Why an abort holds this wafer: an irreversible step of it this session cut off
        (it may have partly happened and is never repeated), or None. Read once every
        wafer's task has ended, so a batch step the leader's task recorded `interrupted` for
        them all holds every member for the same reason; a step still recorded running (its
        end could not be recorded) is read as interrupted."""
        steps = [
            {**row, "status": "interrupted"} if row["status"] == "running" else row
            for row in self.store.table("steps", self.run_id)
            if row["wafer_id"] == wafer_id and row["session"] == self.session
        ]
        return Plan.from_records(steps, []).hold_reason(wafer_id)

    def _set_wafer(self, wafer_id: str, status: str, reason: str | None = None) -> None:
        """Record the wafer's end, `status` for `reason`, and tell it (`wafer-finished`): one
        reading of the clocks for both, as for the run's end (`_close_records`), so that the
        live view's time on the line of the wafer ends where `show` and the summary end it (the
        event, stamped after the write, had read 2 s later on a line served at x60)."""
        self._wafer_status[wafer_id] = status
        stopped = self.events.now()
        self.store.update_wafer(
            self.run_id,
            wafer_id,
            status=status,
            reason=reason,
            stopped_t=stopped[0],
            stopped_wall=stopped[1],
        )
        self.emit("wafer-finished", at=stopped, wafer=wafer_id, status=status, message=reason or "")

    def _hold(
        self, wafer_id: str, reason: str, *, apply_policy: bool, cause: Exception | None = None
    ) -> None:
        """Hold the wafer for `reason`, the failure `cause` if one held it. The held event's
        data says when it did not happen on the wafer: `refused`, a step its tool refused (a
        release of it is refused: `dispositions.py`); `preparation`, a step that prepared its
        tool with nothing of the wafer on it and failed otherwise (a release of it is refused
        as well: it would skip a preparation that did not finish); `tool_unavailable`, no tool
        was given to it, and `tools`, those it asked for that were out of service, which
        `show` reads back to say what ran it again (`report.tool_waits`; it runs again once an
        operator clears one of its tools in this session, `_run_unserved_again`, else on the
        next resume: `plan.py`); `no_operator`, a confirmation nobody was there to answer (the
        hints name the resume with `--confirmed-by`: `dispositions.resume_command`)."""
        self._set_wafer(wafer_id, "held", reason)
        data = (
            {"refused": True}
            if isinstance(cause, StepRefused)
            else {"preparation": True}
            if isinstance(cause, StepFailed) and cause.preparation
            else {"tool_unavailable": True, "tools": list(cause.tools)}
            if isinstance(cause, ToolUnavailable)
            else {"no_operator": True}
            if isinstance(cause, NoOperator)
            else {}
        )
        self.emit("held", wafer=wafer_id, message=reason, data=data)
        if apply_policy:
            self._apply_policy(wafer_id, reason, cause)
        if isinstance(cause, ToolUnavailable) and cause.tools:
            self._unserved[wafer_id] = cause.tools
            pool = self.keeper.pool
            back = [
                pool.tools[name] for name in cause.tools if pool.tools[name].out_of_service is None
            ]
            if back:  # cleared between its refusal and this hold: once its task has ended
                asyncio.get_running_loop().call_soon(self._run_unserved_again, back[0])

    def _apply_policy(self, wafer_id: str, reason: str, cause: Exception | None) -> None:
        """The failure policy, for the rest of the lot, once `wafer_id` is held for `reason`
        (by the failure `cause`, if one held it). `pause` pauses the run for an operator while
        a wafer is left to run beside those the failure holds (a batch step's members, each
        held in turn); else, once they are all held, there is nothing to pause (a pause would
        end at once, the log reading `paused` then `run-finished held`): the run says so
        (`NOTHING_TO_PAUSE`) and ends."""
        policy = self.spec.failure_policy
        if policy is FailurePolicy.PAUSE:
            if self.control.state is not RunState.RUNNING:
                return
            together = set(cause.wafers if isinstance(cause, StepFailed) else ()) | {wafer_id}
            statuses = self._wafer_status
            if self._unserved or any(
                status not in FINISHED and wafer not in together
                for wafer, status in statuses.items()
            ):
                # the wafers it left may be held before they run (`_nothing_to_pause`)
                self._policy_pause = f"wafer {wafer_id} held: {reason}"
                self.control.pause(self._policy_pause)
            elif all(statuses.get(wafer) in FINISHED for wafer in together):
                self._nothing_to_pause(f"wafer {wafer_id} held: {reason}")
        elif policy is FailurePolicy.STOP:
            self.control.terminate(f"wafer {wafer_id} held: {reason}")

    def _nothing_to_pause(self, why: str, *, paused: bool = False) -> None:
        """Say that a pause has nothing to pause, no wafer being left to run, for `why`, and
        that the run ends (its log had read `paused`, then at once `run-finished`). The `pause`
        policy's: `why` the hold it would have paused for, or, `paused`, the pause it ordered
        before the wafers it left were held too. Anyone else's (`packline pause`, Ctrl-C;
        `paused`, `why` its reason): the lot finished under it, every wafer ending in the
        stages it waited for (`pausing`) before it held any, its requester in the data as in
        its `paused` event (`runs` had shown the run paused, and the resume it seemed to wait
        for found nothing to resume)."""
        status = self._final_status()
        if paused and why != self._policy_pause:
            by = self.control.by
            self.emit(
                NOTHING_TO_PAUSE,
                message=f"{why}: the lot finished before the pause held any wafer, nothing "
                f"left to pause; the run ends {status}",
                data={"by": by} if by else {},
            )
            return
        statuses = set(self._wafer_status.values())
        every = "every wafer" if statuses == {"held"} else "every wafer left"
        held = f"the run paused, then {every} was held" if paused else f"{every} held"
        self.emit(
            NOTHING_TO_PAUSE,
            message=f"failure policy pause: {held}, nothing left to pause for; the run ends "
            f"{status} ({why})",
        )

    def _twin_metrics(self, wafer: Wafer, when: str) -> None:
        if self.twin is None or not self.method.twin_metrics:
            return
        workpiece = self.twin.get(wafer.id)
        for name, (unit, metric) in self.method.twin_metrics.items():
            value = float(metric(workpiece))
            self.recorder.measure([wafer], f"{name} {when}", value, unit, None, None, "twin")
