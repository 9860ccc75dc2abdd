"""The engine: runs one method for a lot of wafers on a station, and keeps the records.

Each wafer runs the method's script as its own asyncio task; the tools are shared resources
(`tools.py`), batch tools gather batches (`batching.py`), every step is a checkpoint
(`wafer.py`, `plan.py`), pause/terminate/abort act at step boundaries (`control.py`), and
everything is written to the run store as it happens (`records.py`). A dry run ends with the
claim check of the simulated product (`claim_check.py`). `Engine.run()` returns the run's
final status.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from packline.clock import Clock, wait_for
from packline.drivers.equipment import Reading, ToolState
from packline.drivers.errors import PacklineError, ToolAlarm
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import snapshot
from packline.station import Station
from packline.tasks import finish_shielded

from .batching import Batcher
from .claim_check import check_claims, overall
from .control import (
    CLEAR_TOOL,
    CONTROL_COMMANDS,
    DEFAULT_PAUSE_TIMEOUT_S,
    RunControl,
    RunState,
)
from .errors import BadInput, OutOfLimits, RunTerminated, StepError
from .events import Event, Observer
from .identity import compare_identity, identity_row
from .method import FailurePolicy, Method
from .plan import Plan
from .recipe import Recipe
from .records import RunStore
from .stage import Stage
from .tools import Tool, ToolPool
from .wafer import Wafer

#: Answers an operator confirmation: (confirmed, by whom).
ConfirmFn = Callable[[str, str], Awaitable[tuple[bool, str]]]

#: Process-time bounds of the engine's own waits (each step's tool calls have their own).
TOOL_WAIT_TIMEOUT_S = 24 * 3600.0
STAGE_TIMEOUT_S = 48 * 3600.0
RECOVER_TIMEOUT_S = 1800.0
CONTROL_POLL_S = 0.2
#: Wall-clock bound of each tool's abort and close when the run ends (they guard the wire).
SHUTDOWN_TIMEOUT_S = 30.0

#: Events that are kept in the events table (steps, measurements and confirmations have theirs).
_RECORDED_EVENTS = frozenset(
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
        "tool-cleared",
        "control-ignored",
        "batch-formed",
        "claim-check",
        "tool-replaced",
    }
)


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
    operator: str
    failure_policy: FailurePolicy
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


class Engine:
    """One session of one run."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.run_id = spec.run_id
        self.method = spec.method
        self.recipe = spec.recipe
        self.clock = spec.clock
        self.store = spec.store
        self.session = spec.session
        self.plan = spec.plan
        self.twin = spec.twin
        self.tool_wait_timeout_s = TOOL_WAIT_TIMEOUT_S
        self.stage_timeout_s = STAGE_TIMEOUT_S
        self.control = RunControl(self.clock, self._on_control, spec.pause_timeout_s)
        self.pool = ToolPool(self.clock, [])
        self.batcher = Batcher(self)
        self.live_wafers: set[str] = set()
        self._origin = self.clock.now()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wafer_status: dict[str, str] = {}

    # ----------------------------------------------------------------- time and events

    def t(self) -> float:
        """The run clock: process seconds since the run began (simulated in a dry run)."""
        return self.clock.now() - self._origin + self.spec.t_offset

    def emit(self, kind: str, **fields: Any) -> None:
        event = Event(kind, self.run_id, self.t(), time.time(), **fields)
        if kind in _RECORDED_EVENTS:
            self.store.add_rows(
                "events",
                [
                    {
                        "run_id": self.run_id,
                        "session": self.session,
                        "kind": kind,
                        "wafer_id": event.wafer,
                        "message": event.message or event.status or "",
                        "t": event.t,
                        "wall": event.wall,
                    }
                ],
            )
        for observer in list(self.spec.observers):
            try:
                observer(event)
            except Exception as error:  # a closed pipe or a broken view must not stop the run
                self.spec.observers.remove(observer)
                self.store.add_rows(
                    "events",
                    [
                        {
                            "run_id": self.run_id,
                            "session": self.session,
                            "kind": "observer-dropped",
                            "wafer_id": None,
                            "message": f"{observer!r}: {error!r}",
                            "t": event.t,
                            "wall": event.wall,
                        }
                    ],
                )

    def request(self, command: str, reason: str) -> None:
        """pause, resume, terminate or abort the run (Ctrl-C, a policy, another process)."""
        self.control.apply(command, reason)

    async def boundary(self) -> None:
        """A step boundary: read commands from other processes, then pause or stop if asked."""
        self._take_control()
        await self.control.boundary()

    def _on_control(self, state: RunState, reason: str) -> None:
        kind = {
            RunState.PAUSED: "paused",
            RunState.RUNNING: "resumed",
            RunState.TERMINATING: "terminating",
            RunState.ABORTING: "aborting",
        }[state]
        self.emit(kind, message=reason)
        if state in (RunState.PAUSED, RunState.RUNNING):
            self.store.update_run(self.run_id, status=state.value)
        if state in (RunState.TERMINATING, RunState.ABORTING):
            self.batcher.stop_forming(reason)
            self.pool.stop_waiting(RunTerminated(reason))
        if state is RunState.ABORTING:
            for task in self._tasks.values():
                task.cancel()

    # ----------------------------------------------------------------- the run

    async def run(self) -> str:
        """Run the lot (or what a resume leaves of it); returns the run's final status."""
        self._open_records()
        poller = asyncio.create_task(self._poll_control(), name=f"packline-control-{self.run_id}")
        status, error = "failed", None
        try:
            await self._connect_tools()
            await self._prepare_tools()
            self._start_wafers()
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            status = self._final_status()
            self._check_claims()
        except asyncio.CancelledError:
            self.control.abort("the controller was cancelled")
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            status = "aborted"
            raise
        except PacklineError as failure:
            error = str(failure)
        except Exception as failure:  # a bug: record it, then let it surface
            status, error = "failed", f"{type(failure).__name__}: {failure}"
            raise
        finally:
            poller.cancel()
            await self._stop_wafers()
            await asyncio.gather(poller, return_exceptions=True)
            shutdown, cancelled = await finish_shielded(self._shutdown_tools())
            shutdown.result()
            self._close_records(status, error)
            if cancelled:
                raise asyncio.CancelledError
        return status

    async def _stop_wafers(self) -> None:
        """No wafer task outlives the run (only reached with tasks left on an error)."""
        left = [task for task in self._tasks.values() if not task.done()]
        if left:
            self.control.abort("the run ended with wafers still running")
            await asyncio.gather(*left, return_exceptions=True)

    def _final_status(self) -> str:
        if self.control.state is RunState.ABORTING:
            return "aborted"
        if self.control.state is RunState.TERMINATING:
            return "terminated"
        statuses = set(self._wafer_status.values())
        return "completed" if statuses <= {"completed"} else "held"

    def _check_claims(self) -> None:
        """Dry run: evaluate the method's claim conditions on the twin of every wafer that
        completed it (in any session), record the result and tell the observers."""
        if self.twin is None or self.method.claim_checks is None:
            return
        completed = [
            w["wafer_id"] for w in self.store.wafers(self.run_id) if w["status"] == "completed"
        ]
        results = check_claims(
            self.method.claim_checks(self.recipe), {w: self.twin.get(w) for w in completed}
        )
        t, wall = self.t(), time.time()
        rows = [
            {"run_id": self.run_id, "session": self.session, **r.to_dict(), "t": t, "wall": wall}
            for r in results
        ]
        self.store.replace_claim_checks(self.run_id, rows)
        verdict = overall([r.verdict for r in results])
        failing = [f"{r.claim} {r.condition}" for r in results if r.verdict == "fail"]
        self.emit(
            "claim-check",
            status=verdict,
            message=(
                "violated: " + "; ".join(failing)
                if failing
                else f"{len(results)} condition(s) on {len(completed)} wafer(s)"
            ),
            data={"conditions": [r.to_dict() for r in results]},
        )

    def _open_records(self) -> None:
        spec, now = self.spec, time.time()
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
                    "failure_policy": spec.failure_policy.value,
                    "status": "running",
                    "sessions": 1,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_t": self.t(),
                    "started_wall": now,
                },
                spec.wafer_ids,
            )
        elif not self.store.start_session(
            self.run_id,
            self.session,
            spec.cut_off,
            status="running",
            station_name=spec.station.name,
            station_yaml=spec.station.to_yaml(),
            pid=os.getpid(),
            host=socket.gethostname(),
            stopped_t=None,
            stopped_wall=None,
            error=None,
        ):
            raise BadInput(
                f"run {self.run_id}: session {self.session} was started by another process "
                "meanwhile; nothing was done here"
            )
        self.emit(
            "run-started",
            message=f"{self.method.name} session {self.session}",
            data={
                "wafers": spec.wafer_ids,
                "method": self.method.name,
                "simulated": spec.station.simulated,
            },
        )

    def _close_records(self, status: str, error: str | None) -> None:
        for wafer_id, wafer_status in self._wafer_status.items():
            if wafer_status in ("pending", "running"):  # never started: a failed start or abort
                self._set_wafer(wafer_id, "terminated", reason=error or f"run {status}")
        self.store.update_run(
            self.run_id, status=status, stopped_t=self.t(), stopped_wall=time.time(), error=error
        )
        self.emit(
            "run-finished",
            status=status,
            message=error or "",
            data={"wafers": dict(self._wafer_status)},
        )
        self.store.flush_traces()

    async def _poll_control(self) -> None:
        """Commands from other processes (`packline pause RUN`), read on the wall clock. A
        database that is busy for longer than its timeout is tried again at the next poll:
        the poller must not die, or `packline terminate RUN` would be silently ignored."""
        while True:
            with suppress(sqlite3.OperationalError):
                self._take_control()
            await asyncio.sleep(CONTROL_POLL_S)

    def _take_control(self) -> None:
        for command in self.store.take_control(self.run_id, time.time()):
            if command in CONTROL_COMMANDS:
                self.request(command, f"{command} requested from another process")
            elif command.startswith(CLEAR_TOOL):
                try:
                    order = json.loads(command.removeprefix(CLEAR_TOOL))
                    tool, by = str(order["tool"]), str(order["by"])
                except (ValueError, KeyError, TypeError):  # a row not written by clear-tool
                    self.emit("control-ignored", message=f"unreadable order {command!r}")
                    continue
                self.clear_tool(tool, by)

    def clear_tool(self, name: str, by: str) -> None:
        """An operator (`by`) puts an alarmed tool back in service: the waiting wafers go on."""
        tool = self.pool.tools.get(name)
        if tool is None:
            return
        if tool.out_of_service is None:
            self.emit("tool-cleared", tool=name, message=f"{name} was in service; nothing cleared")
            return
        if not tool.awaiting_clear or tool.driver.state is ToolState.FAULT:
            # its recovery failed: it is not known to be safe and empty, so a clear cannot
            # vouch for it; a resume of the run recovers it again
            self.emit(
                "tool-cleared",
                tool=name,
                message=f"{name} not cleared: its recovery failed ({tool.out_of_service}); "
                "resume the run once it is fixed",
            )
            return
        self.pool.return_to_service(tool)
        self.emit("tool-cleared", tool=name, message=f"{name} back in service, cleared by {by}")

    # ----------------------------------------------------------------- tools

    async def _connect_tools(self) -> None:
        """Connect every tool the method needs; each one's identity is checked against the
        run's records (a resumed run) and recorded, before anything is sent to it."""
        station = self.spec.station
        tools = []
        try:
            for role in self.method.tools:
                for name in station.tools_for_role(role):
                    driver = station.open_tool(name, self.clock)
                    tools.append(Tool(name, role, driver, station.tools[name].capacity))
                    await driver.connect()
                    self._check_identity(tools[-1], station.tools[name].driver)
                    driver.add_reading_listener(self._trace_listener(tools[-1]))
        finally:
            self.pool = ToolPool(self.clock, tools)

    def _check_identity(self, tool: Tool, driver_name: str) -> None:
        """Refuse a tool that is not the model the run drove under this name; record it, and
        a new serial number as `tool-replaced` (see `identity.py`)."""
        row = identity_row(self.run_id, self.session, tool, driver_name)
        replaced = compare_identity(self.run_id, row, self.spec.known_tools.get(tool.name))
        if replaced is not None:
            self.emit("tool-replaced", tool=tool.name, message=replaced)
        self.store.add_rows("tools", [row])

    def _trace_listener(self, tool: Tool) -> Callable[[Reading], None]:
        def listen(reading: Reading) -> None:
            self.store.add_trace(
                self.run_id,
                tool.name,
                tool.step_id,
                reading.name,
                reading.value,
                reading.unit,
                self.t(),
                time.time(),
            )

        return listen

    async def _prepare_tools(self) -> None:
        """Before wafers move: a resumed run recovers every tool (a wafer may be left in it);
        any run recovers a tool that reports an alarm."""
        for tool in self.pool.tools.values():
            if self.session > 1 or tool.driver.state is ToolState.FAULT:
                await self.recover_tool(tool)

    async def recover_tool(self, tool: Tool) -> None:
        """Bring a tool to its known safe, empty state; out of service if that fails."""
        work = tool.driver.recover()
        # a recovery runs to its end like a step: a pause does not freeze it half done
        self.control.step_started()
        try:
            await wait_for(self.clock, work, RECOVER_TIMEOUT_S, f"recovering {tool.name}")
        except (PacklineError, TimeoutError, ValueError) as error:
            self.pool.put_out_of_service(tool, f"recovery failed: {error}")
            self.emit("tool-out-of-service", tool=tool.name, message=f"{tool.name}: {error}")
        else:
            self.emit("tool-recovered", tool=tool.name, message=f"{tool.name} safe and empty")
        finally:
            self.control.step_ended()

    async def _shutdown_tools(self) -> None:
        tools = list(self.pool.tools.values())
        if self.control.state is RunState.ABORTING:
            await asyncio.gather(
                *(
                    asyncio.wait_for(t.driver.abort(), SHUTDOWN_TIMEOUT_S)
                    for t in tools
                    if t.driver.link.connected
                ),
                return_exceptions=True,
            )
        self.control.release()
        await asyncio.gather(
            *(asyncio.wait_for(t.driver.close(), SHUTDOWN_TIMEOUT_S) for t in tools),
            return_exceptions=True,
        )

    # ----------------------------------------------------------------- wafers

    def _start_wafers(self) -> None:
        for wafer_id in self.spec.wafer_ids:
            status = self.plan.wafer_status.get(wafer_id, "pending")
            if status in ("completed", "held"):
                # finished in an earlier session: it still counts for the run's outcome
                self._wafer_status[wafer_id] = status
                continue
            reason = self.plan.hold_reason(wafer_id)
            if reason is not None:
                self._hold(wafer_id, reason, apply_policy=False)
                continue
            self._wafer_status[wafer_id] = status
            self.live_wafers.add(wafer_id)
        for position, wafer_id in enumerate(self.spec.wafer_ids):
            if wafer_id in self.live_wafers:
                wafer = Wafer(self, wafer_id, position)
                self._tasks[wafer_id] = asyncio.create_task(
                    self._wafer_main(wafer), name=f"wafer-{wafer_id}"
                )

    async def _wafer_main(self, wafer: Wafer) -> None:
        fresh = self._wafer_status[wafer.id] == "pending"
        fields: dict[str, Any] = {"status": "running"}
        if fresh:
            fields |= {"started_t": self.t(), "started_wall": time.time()}
        self.store.update_wafer(self.run_id, wafer.id, **fields)
        self._wafer_status[wafer.id] = "running"
        self.emit("wafer-started", wafer=wafer.id)
        if fresh:
            self._twin_metrics(wafer, "before")
        try:
            await self.method.sequence(wafer, self.recipe)
        except RunTerminated as stop:
            self._set_wafer(wafer.id, "terminated", reason=str(stop))
        except asyncio.CancelledError:
            self._set_wafer(wafer.id, "terminated", reason="aborted")
            raise
        except Exception as error:
            self._hold(wafer.id, str(error) or repr(error), apply_policy=True)
        else:
            self._twin_metrics(wafer, "after")
            self._set_wafer(wafer.id, "completed")
        finally:
            self.live_wafers.discard(wafer.id)
            self.batcher.recheck()

    def _set_wafer(self, wafer_id: str, status: str, reason: str | None = None) -> None:
        self._wafer_status[wafer_id] = status
        self.store.update_wafer(
            self.run_id,
            wafer_id,
            status=status,
            reason=reason,
            stopped_t=self.t(),
            stopped_wall=time.time(),
        )
        self.emit("wafer-finished", wafer=wafer_id, status=status, message=reason or "")

    def _hold(self, wafer_id: str, reason: str, *, apply_policy: bool) -> None:
        self._set_wafer(wafer_id, "held", reason)
        self.emit("held", wafer=wafer_id, message=reason)
        if not apply_policy:
            return
        policy = self.spec.failure_policy
        if policy is FailurePolicy.PAUSE:
            self.control.pause(f"wafer {wafer_id} held: {reason}")
        elif policy is FailurePolicy.STOP:
            self.control.terminate(f"wafer {wafer_id} held: {reason}")

    def _twin_metrics(self, wafer: Wafer, when: str) -> None:
        if self.twin is None or not self.method.twin_metrics:
            return
        workpiece = self.twin.get(wafer.id)
        for name, (unit, metric) in self.method.twin_metrics.items():
            self.measure(
                [wafer], f"{name} {when}", float(metric(workpiece)), unit, None, None, "twin"
            )

    # ----------------------------------------------------------------- what steps record

    @asynccontextmanager
    async def stage_records(
        self, wafers: Sequence[Wafer], key: str, tool: Tool, replay: bool, batch: str | None
    ) -> AsyncIterator[None]:
        """Record a stage around the steps a wafer (or a batch) does on a held tool."""
        kind = "batch" if batch else "stage"
        rows = [
            {
                "wafer_id": w.id,
                "key": key,
                "name": key.rsplit("#", 1)[0],
                "kind": kind,
                "claims": (),
                "tool": tool.name,
                "irreversible": 0,
                "stage": None,
                "batch": batch,
            }
            for w in wafers
        ]
        ids = self.start_steps(rows)
        stage = Stage(key, tool, replay, batch)
        for wafer in wafers:
            wafer._stage = stage
        try:
            yield
        except asyncio.CancelledError:
            self.finish_steps(wafers, ids, "interrupted", "aborted")
            raise
        except BaseException as error:
            failed = isinstance(error, Exception) and not isinstance(error, RunTerminated)
            self.finish_steps(wafers, ids, "failed" if failed else "interrupted", str(error))
            await self.recover_tool(tool)
            alarm = _alarm_under(error)
            if alarm is not None and tool.out_of_service is None:
                reason = (
                    f"alarmed ({alarm}); clear it with `packline clear-tool {self.run_id} "
                    f"{tool.name} --by NAME` once the cause is found"
                )
                self.pool.put_out_of_service(tool, reason, until_cleared=True)
                self.emit("tool-out-of-service", tool=tool.name, message=f"{tool.name}: {reason}")
            raise
        else:
            self.finish_steps(wafers, ids, "completed", None)
        finally:
            tool.step_id = None
            for wafer in wafers:
                wafer._stage = None

    def _row(self, row: dict[str, Any], status: str) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "session": self.session,
            **row,
            "status": status,
            "started_t": self.t(),
            "started_wall": time.time(),
        }

    def start_steps(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        ids = self.store.start_steps([self._row(row, "running") for row in rows])
        for row in rows:
            self.emit(
                "step-started",
                wafer=row["wafer_id"],
                step=row["name"],
                tool=row["tool"],
                data={"key": row["key"], "kind": row["kind"], "claims": list(row["claims"])},
            )
        return ids

    def record_skipped(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record steps skipped because they completed in an earlier session (one
        transaction: the row is written finished)."""
        self.store.start_steps(
            [
                {
                    **self._row(row, "skipped"),
                    "stopped_t": self.t(),
                    "stopped_wall": time.time(),
                    "error": "completed before",
                }
                for row in rows
            ]
        )
        for row in rows:
            self.emit("step-finished", wafer=row["wafer_id"], step=row["name"], status="skipped")

    def finish_steps(
        self, wafers: Sequence[Wafer], step_ids: Sequence[int], status: str, error: str | None
    ) -> None:
        twins = []
        if status == "completed" and self.twin is not None:
            twins = [
                (step_id, w.id, snapshot(self.twin.get(w.id)))
                for w, step_id in zip(wafers, step_ids, strict=True)
            ]
        self.store.finish_steps(step_ids, status, self.t(), time.time(), error, twins)
        for wafer in wafers:
            wafer._step_id = None
            self.emit(
                "step-finished",
                wafer=wafer.id,
                status=status,
                message=error or "",
                data={"step_id": step_ids[0]},
            )

    def record_alarms(self, tool: Tool, wafers: Sequence[Wafer], step_id: int) -> None:
        t, wall = self.t(), time.time()
        self.store.add_rows(
            "alarms",
            [
                {
                    "run_id": self.run_id,
                    "tool": tool.name,
                    "wafer_id": w.id,
                    "step_id": step_id,
                    "code": a.code,
                    "message": a.message,
                    "t": t,
                    "wall": wall,
                }
                for w in wafers
                for a in tool.driver.active_alarms.values()
            ],
        )

    def measure(
        self,
        wafers: Sequence[Wafer],
        name: str,
        value: float,
        unit: str,
        low: float | None,
        high: float | None,
        source: str,
    ) -> None:
        passed = (low is None or value >= low) and (high is None or value <= high)
        t, wall = self.t(), time.time()
        self.store.add_rows(
            "measurements",
            [
                {
                    "run_id": self.run_id,
                    "wafer_id": w.id,
                    "step_id": w._step_id,
                    "name": name,
                    "value": float(value),
                    "unit": unit,
                    "low": low,
                    "high": high,
                    "passed": int(passed),
                    "source": source,
                    "t": t,
                    "wall": wall,
                }
                for w in wafers
            ],
        )
        for wafer in wafers:
            self.emit(
                "measurement",
                wafer=wafer.id,
                step=name,
                status="pass" if passed else "fail",
                data={"value": value, "unit": unit, "low": low, "high": high},
            )
        if not passed:
            raise OutOfLimits(f"{name} = {value:g} {unit} outside [{low}, {high}] {unit}")

    async def confirm(self, wafers: Sequence[Wafer], prompt: str) -> None:
        wafer_text = ", ".join(w.id for w in wafers)
        if self.spec.station.simulated:  # a dry run never waits for an operator
            confirmed, by = True, "auto (dry run)"
        elif self.spec.confirm is None:
            confirmed, by = False, "no operator"
        else:
            confirmed, by = await self.spec.confirm(wafer_text, prompt)
        t, wall = self.t(), time.time()
        self.store.add_rows(
            "confirmations",
            [
                {
                    "run_id": self.run_id,
                    "wafer_id": w.id,
                    "step_id": w._step_id,
                    "prompt": prompt,
                    "confirmed": int(confirmed),
                    "by": by,
                    "t": t,
                    "wall": wall,
                }
                for w in wafers
            ],
        )
        self.emit(
            "confirmation",
            wafer=wafer_text,
            message=prompt,
            status="confirmed" if confirmed else "declined",
            data={"by": by},
        )
        if not confirmed:
            raise StepError(f"operator confirmation refused ({by}): {prompt}")


def _alarm_under(error: BaseException) -> ToolAlarm | None:
    """The tool alarm a failure came from (a failed step wraps it), if it came from one."""
    while error is not None:
        if isinstance(error, ToolAlarm):
            return error
        error = error.__cause__  # type: ignore[assignment]
    return None
