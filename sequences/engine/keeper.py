"""The run's tools from connect to close: identity, traces, recovery, service, shutdown.

`ToolKeeper` connects every station tool of the roles the run's recipe drives (checking each
one's identity against the run's records, `identity.py`, and filing its readings as traces
under the step running on it), recovers a tool to its known safe, empty state before wafers
move and after a stage on it fails, takes an alarmed tool out of service until an operator
clears it, and aborts and closes every tool when the run ends (recording each whose safe state
an abort could not confirm: `safe-state-unconfirmed`). The tools it connected are its
`pool`, which the wafers queue for (`tools.py`).

A recovery takes off only the workpieces the run put on the tool (its records say which:
`own_workpieces`, each wafer with a stage on the tool and, while that stage has not completed,
the workpieces beside it, such as the board its chips are mounted on). A tool that holds
anything else, another lot's wafer or an engineering wafer, is left as it is (its safe state
commanded, nothing unloaded) and out of service until an operator has it taken off and
clears the tool; the clear is believed only once the tool reports nothing foreign any more.

A tool out of service until cleared stays so across sessions: a resume keeps every tool whose
alarm put it out of service, and that nobody cleared since (`clearances.awaiting_clear`), out
of service until cleared, naming the tool and the command that clears it; it never uses it
unexamined. A clear of the stopped run (`clearances.record_clearance`) is what lets it go.

A tool's reads (what it holds, its interlocks) are bounded as every exchange with it is, by
its link: each by the link's own timeout on the wall clock, whatever the line's pace, with the
link's read retries and reconnects (`packline.drivers.links.base`); the keeper puts no bound
of its own around them (decision 0126). A recovery, which commands the tool, is a process: it
is bounded on the run's clock (`RECOVER_TIMEOUT_S`).

On a served simulated line the keeper records, as the session starts, the faults injected on
its tools that the run's records do not have (or have, cleared since): injected while no run
was live, they were told to none (`record_faults_on_line`, decision 0117).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from packline.clock import Clock, wait_for
from packline.drivers.equipment import Reading, StateListener, ToolState
from packline.drivers.errors import (
    InterlockOpen,
    PacklineError,
    ToolAlarm,
    ToolConnectionError,
    ToolError,
    ToolTimeout,
    WorkpieceHeld,
    WrongTool,
)
from packline.sim_instruments.servers.control import ControlError, request_control
from packline.station_check import capacity_problem, interlocks_made_at_rest, working_problem

from .clearances import (
    ALARM,
    FOREIGN_WORKPIECE,
    INTERLOCK_OPEN,
    RECOVERY_FAILED,
    UNCONFIRMED_SAFE_STATE,
    awaiting_clear,
    clear_command,
)
from .control import RunControl, RunState
from .dispositions import resume_command
from .errors import BadInput, ToolsWorking, UnusableTools, failure_text
from .events import (
    ABORT_NOT_CONFIRMED,
    CONTROL_IGNORED,
    FAULT_CLEARED,
    FAULT_INJECTED,
    SAFE_STATE_UNCONFIRMED,
    TOOL_STATE,
)
from .identity import compare_identity, identity_row
from .injected_faults import cleared_by_a_fresh_line, found_on_line, line_did_at
from .left_on_tools import left_on_tools, owners, owners_text
from .recorder import EventLog
from .records import RunStore
from .run_clock import run_clock_s
from .stage import took_its_tool
from .tools import Tool, ToolPool

if TYPE_CHECKING:
    from packline.station import Station

E = TypeVar("E", bound=BaseException)

#: Process-time bound of one tool's recovery.
RECOVER_TIMEOUT_S = 1800.0
#: Wall-clock bound of each tool's abort and close when the run ends (they guard the wire).
SHUTDOWN_TIMEOUT_S = 30.0
#: Wall-clock bound of asking a served simulated line how fast it is served (a local socket).
LINE_ASKED_S = 5.0


class ToolKeeper:
    """Connects, recovers, services and shuts down the tools of one session of a run."""

    def __init__(
        self,
        clock: Clock,
        station: Station,
        store: RunStore,
        events: EventLog,
        control: RunControl,
        known_tools: dict[str, dict[str, Any]],
        *,
        side_workpieces: Callable[[str], Sequence[str]] | None,
        on_back_in_service: Callable[[Tool], None] | None = None,
        sim_options: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.pool = ToolPool(clock)
        self._clock = clock
        self._station = station
        self._store = store
        self._events = events
        self._control = control
        self._known_tools = known_tools
        #: The options a dry run's command gave its simulated tools, by role, recorded with
        #: each tool's identity (`identity_row`).
        self._sim_options = sim_options or {}
        #: The method's workpieces beside a lot wafer, given its id (decision 0048).
        self._side_workpieces = side_workpieces
        #: Told of each tool an operator's clear put back in service (the engine runs the
        #: wafers held for want of it again).
        self._on_back_in_service = on_back_in_service
        #: The tools out of service for a workpiece the run did not put there: what they held.
        self._foreign: dict[str, tuple[str, ...]] = {}
        #: The tools out of service for interlocks no step makes that were open: which.
        self._interlocked: dict[str, tuple[str, ...]] = {}
        #: The recovery or the check an operator's clear started for each of them, the latest
        #: by tool name.
        self._clearing: dict[str, asyncio.Task[None]] = {}
        #: Whether `prepare` has read which tools wait for a clear (a clear before it is
        #: recorded for it to read).
        self._prepared = False
        #: Whether the tools' states are recorded: from `record_connected` until the run ends
        #: (closing them at its end is no state of the run's).
        self._recording_states = False
        #: What connecting found, recorded by `record_connected`: each tool's identity row
        #: and its `tool-replaced` note, and the states the drivers reported meanwhile.
        self._identities: list[tuple[dict[str, Any], str | None]] = []
        self._states_before: list[tuple[Tool, ToolState]] = []
        #: The safe-state commands an abort sent that failed during a step it cut off: tool
        #: name -> each failure (`safe_state_failed`), told with the tool's at the run's end.
        self._failed_safe_states: dict[str, list[str]] = {}
        #: The tools whose safe state the run's abort could not confirm, by name: known once
        #: `shutdown` has tried each tool's abort (and recorded then).
        self.unconfirmed: set[str] = set()

    async def connect(self, roles: tuple[str, ...]) -> None:
        """Connect every station tool of these roles; each one's identity is checked against
        the run's records (a resumed run) before anything is sent to it. Nothing is recorded
        until `record_connected`: a run or a resume that cannot reach a tool, or meets another
        model, changes no record.

        A tool that answers as another kind (`WrongTool`: two tools' addresses swapped in the
        station file) or cannot be reached (refused, timed out, nothing at its address) does
        not stop the others being connected: every one is named at once, a line each, with the
        line of the station file that gives its address (`UnusableTools`), so the file is
        corrected in one round. The tools are connected at once, so that a refusal naming
        several unreachable ones comes after one connect timeout, not one a tool; they are
        checked and listened to in station order, whatever order they answered in."""
        tools = []
        for role in roles:
            for name in self._station.tools_for_role(role):
                driver = self._station.open_tool(name, self._clock)
                tool = Tool(name, role, driver, self._station.tools[name].capacity)
                self.pool.add(tool)
                driver.add_state_listener(self._state_listener(tool))
                tools.append(tool)
        outcomes = await asyncio.gather(
            *(tool.driver.connect() for tool in tools), return_exceptions=True
        )
        wrong: list[WrongTool] = []
        unreachable: list[ToolError] = []
        for tool, outcome in zip(tools, outcomes, strict=True):
            if isinstance(outcome, WrongTool):
                wrong.append(outcome)
            elif isinstance(outcome, ToolConnectionError | ToolTimeout):
                unreachable.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                self._check_identity(tool, self._station.tools[tool.name].driver)
        if wrong or unreachable:
            found = {error.tool: error.found_kind for error in wrong if error.found_kind}
            raise UnusableTools(
                wrong,
                unreachable,
                self._station.swapped(found),
                {
                    error.tool: place
                    for error in [*wrong, *unreachable]
                    if (place := self._station.address_at(error.tool)) is not None
                },
            )

    def _check_identity(self, tool: Tool, driver_name: str) -> None:
        """Refuse a tool that is not the model the run drove under this name; keep its
        identity, and a new serial number's note, for `record_connected` (`identity.py`)."""
        run_id, session = self._events.run_id, self._events.session
        row = identity_row(run_id, session, tool, driver_name, self._sim_options.get(tool.role))
        replaced = compare_identity(run_id, row, self._known_tools.get(tool.name))
        self._identities.append((row, replaced))

    def record_connected(self) -> None:
        """Record what connecting found, once the session's records are open: each tool's
        identity (a new serial number as `tool-replaced`) and the states its driver reported
        while it connected, tool by tool in station order (they connect at once, and answer
        in any order); from now on every state is recorded as it comes, and every reading
        filed as a trace (none is kept for a session refused before its records opened)."""
        for tool in self.pool.tools.values():
            tool.driver.add_reading_listener(self._trace_listener(tool))
        for row, replaced in self._identities:
            if replaced is not None:
                self._events.emit("tool-replaced", tool=row["name"], message=replaced)
            self._store.add_rows("tools", [row])
        self._recording_states = True
        order = {name: index for index, name in enumerate(self.pool.tools)}
        for tool, state in sorted(
            self._states_before, key=lambda reported: order[reported[0].name]
        ):
            self._record_state(tool, state)
        self._identities, self._states_before = [], []

    def _state_listener(self, tool: Tool) -> StateListener:
        """Record each state the driver reports (kept until `record_connected` while it
        connects; none once the run ends)."""

        def listen(state: ToolState) -> None:
            if self._recording_states:
                self._record_state(tool, state)
            else:  # connecting (after the run's end, never recorded)
                self._states_before.append((tool, state))

        return listen

    def _record_state(self, tool: Tool, state: ToolState) -> None:
        """A `tool-state` event: the tool, its state and the state's SEMI E10 name
        (`packline tools` accounts the tool's time by them)."""
        self._events.emit(
            TOOL_STATE,
            tool=tool.name,
            status=state.e10.value,
            message=f"{tool.name} {state.value}",
            data={"state": state.value, "e10": state.e10.value},
        )

    def _trace_listener(self, tool: Tool) -> Callable[[Reading], None]:
        def listen(reading: Reading) -> None:
            age_s = run_clock_s(self._clock, self._clock.now() - reading.time_s)  # on the run clock
            self._store.add_trace(
                self._events.run_id,
                tool.name,
                tool.step_id,
                reading.name,
                reading.value,
                reading.unit,
                self._events.t() - age_s,  # when it was taken
                time.time(),
            )

        return listen

    async def check_station(self) -> None:
        """Once the tools are connected, before the session is recorded or anything moves:
        refuse (`BadInput`, every problem at once, a line each) a station file of a served
        simulated line that says another `time_scale` than the line is served at, and each
        tool the station gives a `capacity` above what it takes at once, naming the line of
        the file to change; then refuse (`ToolsWorking`) each tool found working that is not
        the run's own (`_working_problems`)."""
        problems = [] if (pace := await self._another_time_scale()) is None else [pace]
        for tool in self.pool.tools.values():
            place = self._station.where("tools", tool.name, "capacity")
            too_many = capacity_problem(
                tool.capacity,
                await tool.driver.request_capacity(),
                "" if place is None else f" on {place}",
            )
            if too_many is not None:
                problems.append(f"station {self._station.name}: {tool.name}: {too_many}")
        if problems:
            raise BadInput("\n".join(problems))
        working = await self._working_problems()
        if working:
            raise ToolsWorking("\n".join(working))

    async def _working_problems(self) -> list[str]:
        """A line for each tool found working as it was connected (`found_working`: a process
        this session did not start) that is not the run's own, naming what it does, what it
        holds and whose wafers they are: a run sends it nothing. A resume's own tool is one
        its crashed session left working on the run's own wafers (`left_on_tools`: a stage
        cut off on it with its wafers still in it and no recovery since); the resume's
        recovery commands its safe state and takes them off (`prepare`)."""
        run_id = self._events.run_id
        left = left_on_tools(self._store, run_id) if self._events.session > 1 else {}
        problems = []
        for tool in self.pool.tools.values():
            doing = tool.driver.found_working
            if doing is None or tool.name in left:
                continue
            try:
                held = await tool.driver.request_workpieces()
            except PacklineError as error:
                holds = f"; what it holds is unknown ({error})"
            else:
                owned = owners_text(self._store, owners(self._store, run_id, held))
                holds = f"; it holds {', '.join(held)}" if held else ""
                holds += f": {owned}" if owned else ""
            problems.append(
                f"{tool.name} at {tool.driver.address}: {working_problem(doing)}{holds}"
            )
        return problems

    async def prepare(self, *, resumed: bool) -> None:
        """Before wafers move: a resumed run keeps a tool an alarm put out of service, and
        nobody cleared since, out of service until cleared, and recovers every tool (a wafer
        may be left in it); any run recovers a tool that reports an alarm; every other tool
        is asked what it holds, and one holding a workpiece the run did not put there is out
        of service."""
        waiting = awaiting_clear(self._store, self._events.run_id) if resumed else {}
        self._prepared = True
        for tool in self.pool.tools.values():
            out = waiting.get(tool.name)
            # a foreign workpiece is the recovery's to find again: it asks the tool
            if out is not None and out["data"].get("cause") != FOREIGN_WORKPIECE:
                self._keep_out(tool, out)
            if resumed or tool.driver.state is ToolState.FAULT:
                await self.recover(tool)
            else:
                await self._check_empty(tool)

    def _keep_out(self, tool: Tool, out: dict[str, Any]) -> None:
        """A resume keeps `tool` out of service until cleared, as an earlier session's
        `tool-out-of-service` event `out` put it, with no clear since."""
        alarms = out["data"].get("alarms")
        why = f"alarmed ({', '.join(alarms)})" if alarms else "alarmed"
        reason = (
            f"out of service since session {out['session']}, {why}, and not cleared since; "
            f"clear it with {clear_command(self._events.run_id, tool.name)} once the cause is "
            "found"
        )
        self._take_out(tool, reason, {**out["data"], "since_event": out["id"]})

    def own_workpieces(self, tool: Tool) -> frozenset[str]:
        """The workpieces this run put on `tool`, as its records say: every wafer of the run
        with a stage (a tool use or a batch) on it, in any session, and the workpieces beside
        a wafer (the method's `side_workpieces`: a wafer's board, a panel's die wafer) while
        its latest stage on the tool has not completed. The steps that load a side workpiece
        there take it off in the same stage, so once that stage has completed a workpiece of
        the same id on the tool (another lot's `BW01` beside this run's `W01`) is not this
        run's: a side workpiece is the run's by the run's own stage, not by its id. A stage a
        resume passed, completed before (recorded skipped), loaded nothing: the completed
        pass before it stands."""
        latest: dict[str, str] = {}  # wafer -> the status of its latest stage on the tool
        for row in self._store.table("steps", self._events.run_id):  # in id order
            if took_its_tool(row) and row["tool"] == tool.name:
                latest[row["wafer_id"]] = row["status"]
        own = set(latest)
        if self._side_workpieces is not None:
            for wafer, status in latest.items():
                if status != "completed":
                    own.update(self._side_workpieces(wafer))
        return frozenset(own)

    async def _check_empty(self, tool: Tool) -> None:
        """Ask an idle tool what it holds (nothing is commanded): a workpiece the run did not
        put there takes it out of service until cleared; no answer, for the run."""
        try:
            held = await tool.driver.request_workpieces()
        except PacklineError as error:
            self._put_out(tool, f"what it holds is unknown: {error}")
            return
        own = self.own_workpieces(tool)
        foreign = tuple(workpiece for workpiece in held if workpiece not in own)
        if foreign:
            self._hold_for_foreign(tool, foreign, "nothing was commanded")

    async def record_faults_on_line(self) -> bool:
        """Once the session's run is in the records (created, or its session taken over),
        before its events are written and before anything moves: on a served simulated line
        (the station's `control:` socket), ask it which faults are injected on the run's
        tools, and who injected each when, and record each the records do not have as one
        `packline sim fault` told (`injected_faults.found_on_line`: injected while no run was
        live, before this run or while it was stopped; or cleared since, by the line or by
        the tool itself), so that the alarms it raises are read as the fault's (decision
        0117). Each is of what happened before the session began: recorded ahead of what the
        session kept while it connected (`EventLog.emit_before`), at when the line did it
        (decision 0119). Whether any was found: the alarms of earlier sessions are marked
        again once they are written (`RunStore.mark_injected_alarms`). Real tools (no
        socket) are asked nothing: they suffer no injected fault; a line that cannot be
        asked (no longer served: the run's tools do not answer either) tells nothing."""
        if self._station.control is None:
            return False
        asked = request_control(Path(self._station.control), {"command": "injected"}, LINE_ASKED_S)
        try:
            line = await asked
        except ControlError:
            return False
        found = found_on_line(self._store, self._events.run_id, self.pool.tools, line)
        for line_did, tool, fields in found:
            kind = {"inject": FAULT_INJECTED, "clear": FAULT_CLEARED}[line_did]
            self._events.emit_before(kind, line_did_at(kind, fields["data"]), tool=tool, **fields)
        return bool(found)

    def record_fresh_line_clears(self) -> bool:
        """Once a dry run's resumed session has started (its `run-started` written, and the
        faults its own `--fault` injected as it started): each fault an earlier session
        injected is recorded cleared, since the fresh simulated line the resume started has
        none but its own (`injected_faults.cleared_by_a_fresh_line`); whether any was (the
        alarms of earlier sessions are marked again). Nothing on tools a station names."""
        if not self._station.simulated:
            return False
        events = self._events
        cleared = cleared_by_a_fresh_line(self._store, events.run_id, events.session)
        for tool, fields in cleared:
            events.emit(FAULT_CLEARED, tool=tool, **fields)
        return bool(cleared)

    async def _another_time_scale(self) -> str | None:
        """What is wrong with the station's `time_scale` when it names a served simulated line
        (its `control:` socket) served at another, as the line says: every wait the run times
        (a hold, a poll interval, a timeout) would pass at the wrong pace for the line, and
        every process time it records (its clock, its tools' E10 times) would read that many
        times wrong. None when it is right, or the line cannot be asked (no socket on real
        tools; a line no longer served, which the run's tools then do not answer either)."""
        station = self._station
        if station.control is None:
            return None
        asked = request_control(Path(station.control), {"command": "line"}, LINE_ASKED_S)
        try:
            served = float((await asked)["time_scale"])
        except (ControlError, KeyError, TypeError, ValueError):
            return None
        if served == station.time_scale:
            return None
        said = (
            f"says `time_scale: {station.time_scale:g}`"
            if "time_scale" in station.model_fields_set
            else "gives no `time_scale` (so 1: the line's process time on the wall clock)"
        )
        # the factor said is the faster pace over the slower (above 1 either way): a line served
        # faster than the file says makes each wait that many times what the recipe gives it,
        # one served slower that fraction of it
        faster = served > station.time_scale
        factor = served / station.time_scale if faster else station.time_scale / served
        waits, reads = (f"{factor:g} times", "short") if faster else (f"1/{factor:g} of", "long")
        return (
            f"station {station.name} {said}, but the simulated "
            f"line it names is served at time x{served:g} (`packline sim serve --time-scale "
            f"{served:g}`): the run's waits (a hold, a poll interval, a timeout) would pass at "
            f"the wrong pace, each {waits} what the recipe gives it on the line's clock, and "
            f"its process times would read {factor:g} times too {reads}; give "
            f"`time_scale: {served:g}` in the station file, as `sim serve --station-out` "
            "writes it"
        )

    async def recover(self, tool: Tool) -> bool:
        """Bring a tool to its known safe, empty state, taking off only the run's own
        workpieces (`own_workpieces`); True when it is, its `tool-recovered` event naming what
        it took off (data `taken_off`). One that holds a foreign workpiece is out of service
        until cleared, any other failure for the run."""
        work = tool.driver.recover(self.own_workpieces(tool))
        # a recovery runs to its end like a step: a pause does not freeze it half done
        self._control.step_started()
        try:
            taken_off = await wait_for(
                self._clock, work, RECOVER_TIMEOUT_S, f"recovering {tool.name}"
            )
        except WorkpieceHeld as held:
            self._hold_for_foreign(tool, held.workpieces, "its safe state was commanded")
            return False
        except (PacklineError, TimeoutError, ValueError) as error:
            self._foreign.pop(tool.name, None)
            self._put_out(tool, f"recovery failed: {error}", error)
            return False
        else:
            # what it took off is in each wafer's history (`report.recovery_unloads`)
            took = f": took off {', '.join(taken_off)}" if taken_off else ""
            self._events.emit(
                "tool-recovered",
                tool=tool.name,
                message=f"{tool.name} safe and empty{took}",
                data={"taken_off": list(taken_off)} if taken_off else {},
            )
            return True
        finally:
            self._control.step_ended()

    def _put_out(self, tool: Tool, reason: str, error: BaseException | None = None) -> None:
        """Out of service for the rest of the run (a resume tries it again)."""
        data = {"cause": RECOVERY_FAILED, "until_cleared": False}
        self._take_out(tool, reason, data, shown=str(error or reason))

    def _take_out(
        self, tool: Tool, reason: str, data: dict[str, Any], shown: str | None = None
    ) -> None:
        """Take `tool` out of service for `reason`, until cleared when `data` says so, and
        record a `tool-out-of-service` event with `data` (its message: `shown`, else the
        reason)."""
        self.pool.put_out_of_service(tool, reason, until_cleared=data["until_cleared"])
        self._events.emit(
            "tool-out-of-service",
            tool=tool.name,
            message=f"{tool.name}: {shown or reason}",
            data=data,
        )

    def _hold_for_foreign(self, tool: Tool, foreign: tuple[str, ...], done: str) -> None:
        """`tool` holds workpieces this run did not put there: nothing is taken off, and the
        tool is out of service until an operator has them removed and clears it."""
        names = ", ".join(foreign)
        run_id = self._events.run_id
        clear = clear_command(run_id, tool.name)
        owned = owners(self._store, run_id, foreign)
        if owned:  # another run's, as this database knows: its resume takes them off
            reason = (
                f"holds {names}, which this run did not put there: "
                f"{owners_text(self._store, owned)}: nothing was unloaded, {done}; "
                f"once they are off (by that resume, or by hand), clear it with {clear}"
            )
        else:
            reason = (
                f"holds {names}, which this run did not put there (another lot's or an "
                f"engineering workpiece): nothing was unloaded, {done}; have {names} taken off "
                f"the tool by whoever owns it, then clear it with {clear}"
            )
        self._foreign[tool.name] = foreign
        data = {"cause": FOREIGN_WORKPIECE, "until_cleared": True, "workpieces": list(foreign)}
        if owned:
            data["owners"] = owned
        self._take_out(tool, reason, data)

    async def recover_after(self, tool: Tool, error: BaseException) -> None:
        """A stage on `tool` failed or stopped: recover it; if a tool alarm caused it, or the
        tool refused a step for an interlock no step makes (a supply, a set-up: every step
        needing it would be refused the same way), the tool stays out of service until an
        operator clears it (`clear`)."""
        await self.recover(tool)
        if tool.out_of_service is not None:
            return
        clear = clear_command(self._events.run_id, tool.name)
        alarm = _cause_under(error, ToolAlarm)
        if alarm is not None:
            reason = f"alarmed ({alarm}); clear it with {clear} once the cause is found"
            self._take_out(
                tool, reason, {"cause": ALARM, "until_cleared": True, "alarms": alarm.alarms}
            )
        elif open_at_rest := self._open_at_rest(tool, error):
            self._interlocked[tool.name] = tuple(open_at_rest)
            # what closes each interlock is told once, in the event: each wafer held for want
            # of the tool names the interlocks and the clear (`_none_in_service`)
            closes = ", ".join(f"{name} ({made})" for name, made in open_at_rest.items())
            clear_it = f"clear it with {clear} once it is made"
            reason = f"interlock open: {', '.join(open_at_rest)}; {clear_it}"
            shown = f"interlock open: {closes}; every step needing it would be refused: {clear_it}"
            data = {"cause": INTERLOCK_OPEN, "until_cleared": True, "interlocks": [*open_at_rest]}
            self._take_out(tool, reason, data, shown)

    def _open_at_rest(self, tool: Tool, error: BaseException) -> dict[str, str]:
        """The interlocks no step makes (`Made.at_rest`) whose being open made `tool` refuse
        the step that failed with `error`: name -> what closes it."""
        refusal = _cause_under(error, InterlockOpen)
        if refusal is None:
            return {}
        return {
            interlock.name: f"closed when {interlock.doc}, made {interlock.made.value}"
            for interlock in interlocks_made_at_rest(self._station.tools[tool.name].kind)
            if interlock.name in refusal.interlocks
        }

    def clear(self, name: str, by: str) -> None:
        """An operator (`by`) puts an alarmed tool back in service: the wafers held for want
        of it run again.
        A tool that held a foreign workpiece is recovered first, and back in service only if
        it holds nothing foreign any more (`_clear_foreign`). A clear that comes before the
        tools are prepared is recorded for `prepare` to read; each clear is a `tool-cleared`
        event, its data saying by whom and whether it `cleared` the tool, except one of a tool
        in service or not the run's, which clears nothing (`_ignore_clear`)."""
        tool = self.pool.tools.get(name)
        if not self._prepared:
            self._tell_cleared(name, by, f"{name} cleared by {by} before the run used its tools")
            return
        if tool is None:
            self._ignore_clear(name, by, f"{name} is not a tool this run uses; nothing cleared")
            return
        if tool.out_of_service is None:
            self._ignore_clear(name, by, f"{name} was in service; nothing cleared")
            return
        check = (
            self._clear_foreign
            if name in self._foreign
            else self._clear_interlocks
            if name in self._interlocked
            else None
        )
        if check is not None:
            checking = self._clearing.get(name)
            if checking is not None and not checking.done():
                self._tell_not_cleared(name, by, f"{name} is being checked already")
            else:
                self._clearing[name] = asyncio.create_task(check(tool, by), name=f"clear-{name}")
            return
        if not tool.awaiting_clear or tool.driver.state is ToolState.FAULT:
            # its recovery failed: it is not known to be safe and empty, so a clear cannot
            # vouch for it; a resume of the run recovers it again
            self._tell_not_cleared(
                name,
                by,
                f"{name} not cleared: its recovery failed ({tool.out_of_service}); "
                "resume the run once it is fixed",
            )
            return
        self._back_in_service(tool, by, f"{name} back in service, cleared by {by}")

    def _tell_cleared(self, name: str, by: str, message: str, *, cleared: bool = True) -> None:
        """Record `by`'s clear of tool `name` as a `tool-cleared` event saying `message` and
        whether it `cleared` the tool."""
        data = {"by": by, "cleared": cleared}
        self._events.emit("tool-cleared", tool=name, message=message, data=data)

    def _tell_not_cleared(self, name: str, by: str, message: str) -> None:
        """Record `by`'s clear of tool `name` that did not clear it, saying why."""
        self._tell_cleared(name, by, message, cleared=False)

    def _ignore_clear(self, name: str, by: str, why: str) -> None:
        """Record `by`'s clear of tool `name` that had nothing to clear (`why`) as an ignored
        order (`control-ignored`), not as a `tool-cleared` event: the records of the tool's
        service say only what was cleared, or checked and found not ready. `packline
        clear-tool` refuses such a clear up front where the records tell it
        (`clearances.refuse_in_service`); this is the order that got past it (the tool came
        back in service meanwhile)."""
        data = {"order": "clear-tool", "by": by}
        message = f"clear-tool {name} by {by}: {why}"
        self._events.emit(CONTROL_IGNORED, tool=name, message=message, data=data)

    def _back_in_service(self, tool: Tool, by: str, message: str) -> None:
        """`by`'s clear puts `tool` back in service: recorded as a `tool-cleared` event with
        `message`, then the engine is told (the wafers held for want of it run again)."""
        self.pool.return_to_service(tool)
        self._tell_cleared(tool.name, by, message)
        if self._on_back_in_service is not None:
            self._on_back_in_service(tool)

    def clearing(self) -> list[asyncio.Task[None]]:
        """The recoveries operators' clears started that have not ended (each may put its
        tool back in service)."""
        return [task for task in self._clearing.values() if not task.done()]

    async def _clear_foreign(self, tool: Tool, by: str) -> None:
        """An operator (`by`) says the foreign workpiece is gone: the tool is recovered (asked
        again what it holds); back in service only if it holds nothing foreign any more, else
        out of service again naming what it still holds."""
        foreign = self._foreign[tool.name]
        if await self.recover(tool):
            del self._foreign[tool.name]
            gone = f"{', '.join(foreign)} no longer on it"
            self._back_in_service(tool, by, f"{tool.name} back in service, cleared by {by}: {gone}")

    async def _clear_interlocks(self, tool: Tool, by: str) -> None:
        """An operator (`by`) says the supply or set-up is back: the tool is asked for its
        interlocks, and is back in service only if those that were open are made, else it
        stays out of service naming those still open."""
        names = self._interlocked[tool.name]
        try:
            made = await tool.driver.request_interlocks()
        except PacklineError as error:
            self._tell_not_cleared(
                tool.name,
                by,
                f"{tool.name} not cleared: its interlocks could not be read ({error})",
            )
            return
        still = [name for name in names if not made.get(name, False)]
        if still:
            self._tell_not_cleared(
                tool.name,
                by,
                f"{tool.name} not cleared: interlock still open: {', '.join(still)}; clear it "
                "again once it is made",
            )
            return
        del self._interlocked[tool.name]
        made_now = f"{', '.join(names)} made"
        self._back_in_service(tool, by, f"{tool.name} back in service, cleared by {by}: {made_now}")

    def safe_state_failed(self, tool: str, error: BaseException) -> None:
        """The safe-state command an abort sent to `tool` during a step it cut off failed
        (`error`, raised by the driver's `abort()` in place of the cancellation: the tool
        ignored it, carrying on, or did not answer): recorded at once, an
        `abort-not-confirmed` event naming what the driver found still on, whatever the retry
        finds as the run ends (decision 0098); and noted, told again with the outcome of that
        retry if it fails too (`shutdown`: `safe-state-unconfirmed`)."""
        failure = failure_text(error)
        self._failed_safe_states.setdefault(tool, []).append(
            f"as the abort cut its step off: {failure}"
        )
        self._events.emit(
            ABORT_NOT_CONFIRMED,
            tool=tool,
            message=f"{tool}: the abort's safe-state command was not confirmed as it cut the "
            f"tool's step off ({failure}): the tool may have carried on; the abort commands "
            "its safe state again as the run ends",
            data={"failure": failure},
        )

    async def shutdown(self) -> None:
        """The run ends: a clear's recovery still going is stopped (its tool's safe state
        finishes); an aborted run aborts every tool, and each whose safe state it cannot
        confirm is recorded so (`_abort_tool`); the clock is let go; every tool is closed
        (each bounded on the wall clock)."""
        self._recording_states = False
        tools = list(self.pool.tools.values())
        clearing = list(self._clearing.values())
        for task in clearing:
            task.cancel()
        await asyncio.gather(*clearing, return_exceptions=True)
        if self._control.state is RunState.ABORTING:
            await asyncio.gather(*(self._abort_tool(tool) for tool in tools))
        self._control.release()
        await asyncio.gather(
            *(asyncio.wait_for(t.driver.close(), SHUTDOWN_TIMEOUT_S) for t in tools),
            return_exceptions=True,
        )

    async def _abort_tool(self, tool: Tool) -> None:
        """Command `tool`'s safe state as the run is aborted (bounded on the wall clock), also
        where its link is not connected now: a link that dropped a cancelled or timed-out
        exchange reopens for the next, and one whose tool went away fails to. One whose safe
        state is not confirmed (its driver's `abort()` raised, its link could not be opened,
        or it did not end in time) is recorded so, with each failure of the abort's
        safe-state commands to it (`safe_state_failed`): a
        `safe-state-unconfirmed` event, and out of service until a recovery brings it to its
        safe state (the resume's: it takes no clear, nothing vouching for it)."""
        try:
            await asyncio.wait_for(tool.driver.abort(), SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            failure = f"no end within {SHUTDOWN_TIMEOUT_S:g} s"
        except Exception as error:  # whatever it raised (a driver's bug too), unconfirmed
            failure = failure_text(error)
        else:
            return  # confirmed, whatever an earlier command's fate
        failures = [*self._failed_safe_states.get(tool.name, []), f"at the run's end: {failure}"]
        why = "; ".join(failures)
        self.unconfirmed.add(tool.name)
        run_id = self._events.run_id
        resume = resume_command(self._store, run_id)  # no path in the records: for_database
        self._events.emit(
            SAFE_STATE_UNCONFIRMED,
            tool=tool.name,
            message=(
                f"{tool.name}: its safe state was not confirmed as the run was aborted ({why}): "
                "treat it as live (energy, gases or motion may still be on) until a recovery "
                f"brings it to its safe state; {resume} recovers it and takes off the run's "
                "wafers it holds"
            ),
            data={"failures": failures},
        )
        data = {"cause": UNCONFIRMED_SAFE_STATE, "until_cleared": False, "failures": failures}
        self._take_out(tool, f"safe state unconfirmed: {why}", data)


def _cause_under(error: BaseException, kind: type[E]) -> E | None:
    """The error of `kind` a failure came from (a failed step wraps it: a tool alarm, a
    refusal for an open interlock), if it came from one."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__
    return None
