"""Tools out of service until an operator clears them, as the records hold them across sessions.

A tool that alarmed, refused a step for an interlock no step makes (a supply, a set-up), or
holds a workpiece the run did not put there, is out of service until a named person clears it
(`packline clear-tool RUN TOOL --by NAME`). The records say so as events with a `tool` and JSON
`data` (decision 0029): a `tool-out-of-service` event whose data has `until_cleared` true waits
for a clear, and a later `tool-cleared` event whose data has `cleared` true ends the wait. So
which tools of a run wait for a clear is a query on those columns (`awaiting_clear`), and it
reads the same in the process that drives the run, in a resume of it days later, and in
`packline tools`.

A clear of a run no process drives (held, failed, terminated, aborted, interrupted) is recorded
at once (`record_clearance`), after the checks that need no tool: the run and the tool exist,
and the tool waits for a clear. The check that needs the tool reachable, that a tool which held
a foreign workpiece holds it no more, is the resume's: its recovery asks the tool what it holds
and keeps it out of service, naming the workpiece, while it still does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from packline.spelling import did_you_mean
from packline.who_when import clock_time

from .errors import BadInput
from .events import (
    ABORT_NOT_CONFIRMED,
    FAULT_CLEARED,
    FAULT_INJECTED,
    SAFE_STATE_UNCONFIRMED,
    SESSION_CUT_OFF,
)
from .liveness import is_alive, shown_status
from .recorded_station import recorded_tools
from .records import RunStore, db_option

#: The `cause` of a `tool-out-of-service` event of an alarmed tool.
ALARM = "alarm"
#: The `cause` of one holding a workpiece the run did not put there.
FOREIGN_WORKPIECE = "foreign workpiece"
#: The `cause` of one that refused a step for an interlock no step makes (a supply, a set-up:
#: `Made.at_rest`) that was open: every step needing it would be refused until it is made.
INTERLOCK_OPEN = "interlock open"
#: The `cause` of one whose recovery failed, or whose contents are unknown (a resume recovers
#: it again; a clear cannot vouch for it).
RECOVERY_FAILED = "recovery failed"
#: The `cause` of one whose safe state an abort could not confirm (`SAFE_STATE_UNCONFIRMED`):
#: it may still be live; as for a failed recovery, a resume recovers it and a clear cannot
#: vouch for it.
UNCONFIRMED_SAFE_STATE = "safe state unconfirmed"

#: The kinds of event another process records in a stopped run, data `run_status` (the run's
#: status then), besides a disposition (`recorded_while_stopped`): a tool's clear
#: (`record_clearance`), a fault injected or cleared (`injected_faults.tell_run`).
_TOLD_A_STOPPED_RUN = frozenset({"tool-cleared", FAULT_INJECTED, FAULT_CLEARED})


def out_of_service(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """Each tool's latest `tool-out-of-service` event of run `run_id` that nothing brought
    back since (`service_event`): tool name -> the events row (`RunStore.events`)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in store.events(run_id):  # in the order they happened: a later one wins
        service_event(latest, row)
    return latest


def service_event(out: dict[str, dict[str, Any]], row: dict[str, Any]) -> str | None:
    """Read the next of a run's events (`row`, in time order) into `out`, each tool out of
    service -> the `tool-out-of-service` event that put it out: a tool is out from such an
    event until something brings it back: a clear; or a recovery that succeeded (a
    `tool-recovered` event) of a tool whose recovery had failed (it waits for no clear: a
    resume's, once its cause was fixed), or of one that held a foreign workpiece, in a later
    session than the one that found it (a resume's recovery asks the tool again what it
    holds, `ToolKeeper.prepare`, and one that found it empty put it back in service; within
    the session that found it, only a clear's recovery does, and the clear records it). This
    is the one reading of when a tool is out of service: the advice (`out_of_service`), a
    wafer's timeline (`report.tool_waits`) and its E10 downtime (`packline tools`, the
    report) read it alike. The tool this event brought back in service, else None."""
    tool = row["tool"]
    if row["kind"] == "tool-out-of-service" and tool is not None:
        out[tool] = row
    elif row["kind"] == "tool-cleared" and row["data"].get("cleared"):
        if out.pop(tool, None) is not None:
            return str(tool)
    elif row["kind"] == "tool-recovered" and tool in out and _recovered_back(out[tool], row):
        del out[tool]
        return str(tool)
    return None


def _recovered_back(out: dict[str, Any], recovered: dict[str, Any]) -> bool:
    """Whether the `tool-recovered` event `recovered` put back in service the tool that the
    `tool-out-of-service` event `out` put out (`service_event`): one whose recovery had failed,
    or one that held a foreign workpiece, recovered in a later session (a resume's)."""
    data = out["data"]
    if not data.get("until_cleared"):
        return True
    return bool(data.get("cause") == FOREIGN_WORKPIECE and recovered["session"] > out["session"])


def awaiting_clear(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The tools of run `run_id` out of service until an operator clears them, and not
    cleared since: tool name -> the `tool-out-of-service` event that put it out."""
    return {
        tool: row
        for tool, row in out_of_service(store, run_id).items()
        if row["data"].get("until_cleared")
    }


def failures_text(row: dict[str, Any]) -> str:
    """Each failure of the abort's safe-state commands to a tool, as the `tool-out-of-service`
    event `row` that put it out for its unconfirmed safe state lists them (`data["failures"]`:
    the cancelled step's, the run's end's)."""
    return "; ".join(row["data"]["failures"])


def unconfirmed_safe_states(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The tools of run `run_id` whose safe state its abort could not confirm and that no
    recovery brought to it since: tool name -> the `tool-out-of-service` event that says so
    (`failures_text`). Its resume is what recovers them."""
    return {
        tool: row
        for tool, row in out_of_service(store, run_id).items()
        if row["data"].get("cause") == UNCONFIRMED_SAFE_STATE
    }


def ignored_aborts(store: RunStore, run_id: str) -> dict[str, list[str]]:
    """The tools that did not confirm the safe state the abort of run `run_id`'s last session
    commanded as it cut their steps off (its `abort-not-confirmed` events: each ignored the
    abort, or did not answer) and that the abort's retry as the session ended found at rest
    (the session ended, and no `safe-state-unconfirmed` event of the tool says otherwise):
    tool name -> each failure. Their process may have run on, to its end, on the wafers in
    them: the run's summary and `show` say so (`left_on_tools.left_report`)."""
    session = store.run(run_id)["sessions"]
    events = [row for row in store.events(run_id) if row["session"] == session]
    if not any(row["kind"] == "run-finished" for row in events):
        return {}  # the retry's outcome is not recorded: cut off, or still under way
    unconfirmed = {row["tool"] for row in events if row["kind"] == SAFE_STATE_UNCONFIRMED}
    ignored: dict[str, list[str]] = {}
    for row in events:
        if row["kind"] == ABORT_NOT_CONFIRMED and row["tool"] not in unconfirmed:
            ignored.setdefault(row["tool"], []).append(row["data"]["failure"])
    return ignored


#: The events after which a run waits for a clear no more: it is being stopped, or it ended.
ENDS_A_CLEAR_WAIT = frozenset({"terminating", "aborting", "run-finished"})


@dataclass(frozen=True)
class ClearWait:
    """A run that waits for an operator's clear (decision 0067): the tools whose clear would
    run its held wafers again, and since when it waits, by its run clock and the wall clock
    (its `waiting-for-clear` event's)."""

    tools: tuple[str, ...]
    since_t: float
    since_wall: float

    def text(self) -> str:
        """The wait as `runs`, `show` and the dashboard say it beside the run's status:
        `waiting for a clear of plasma_cleaner since 14:58:03`."""
        return f"waiting for a clear of {', '.join(self.tools)} since {clock_time(self.since_wall)}"

    def as_json(self) -> dict[str, Any]:
        """The wait as `runs --json`, `show --json` and the dashboard give it: its `tools`,
        `since_t` (run clock), `since_wall` (Unix time) and `text`."""
        return {
            "tools": list(self.tools),
            "since_t": self.since_t,
            "since_wall": self.since_wall,
            "text": self.text(),
        }


def clear_wait(store: RunStore, run: dict[str, Any]) -> ClearWait | None:
    """The wait for a clear of run `run` (its runs row, its status as shown: `shown_run`),
    while it is `running` (a live process drives it, not paused): the latest session's last
    `waiting-for-clear` event, unless a later one of that session ended the wait (a clear of
    a tool its held wafers wait for, which runs them again; a terminate, an abort, the run's
    end); its tools, those of that event's wafers that still wait for a clear. The live view
    reads the same from the engine's events (`lot_state.LotState`: `WAITING FOR A CLEAR`);
    None when the run does not wait."""
    if run["status"] != "running":
        return None
    wait: dict[str, Any] | None = None
    for row in store.events(run["id"]):
        if row["session"] != run["sessions"]:
            continue
        if row["kind"] == "waiting-for-clear":
            wait = row
        elif wait is not None and _ends_the_wait(row, _waited_for(wait)):
            wait = None
    if wait is None:
        return None
    tools = tuple(sorted(_waited_for(wait) & awaiting_clear(store, run["id"]).keys()))
    return ClearWait(tools, wait["t"], wait["wall"]) if tools else None


def _waited_for(wait: dict[str, Any]) -> set[str]:
    """The tools a `waiting-for-clear` event's held wafers wait for (its data's `unserved`:
    each wafer -> the tools it asked for)."""
    return {tool for tools in wait["data"]["unserved"].values() for tool in tools}


def _ends_the_wait(row: dict[str, Any], tools: set[str]) -> bool:
    """Whether the event `row` ends a run's wait for a clear of `tools`: the run is being
    stopped or ended, or one of them was cleared (the engine runs its wafers again at once)."""
    cleared = row["kind"] == "tool-cleared" and row["data"].get("cleared")
    return row["kind"] in ENDS_A_CLEAR_WAIT or bool(cleared and row["tool"] in tools)


def awaiting_recovery(store: RunStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The tools of run `run_id` out of service that take no clear, none recovered since: only
    its resume's recovery brings them back (one whose recovery failed, a link lost in a step,
    the tool gone, its wafer maybe still on it; one whose safe state its abort could not
    confirm). Tool name -> the `tool-out-of-service` event that put it out; the complement of
    `awaiting_clear`."""
    return {
        tool: row
        for tool, row in out_of_service(store, run_id).items()
        if not row["data"].get("until_cleared")
    }


def clear_command(run_id: str, tool: str, *, db_option: str = "") -> str:
    """The command that clears `tool` of run `run_id`, for messages; `db_option` (`db_option`
    of the records' path, in a printed one) ends it."""
    return f"`packline clear-tool {run_id} {tool} --by NAME{db_option}`"


def waiting_text(run_id: str, tool: str, row: dict[str, Any], *, db_option: str = "") -> str:
    """Why `tool` of run `run_id` waits for a clear (`row`, the `tool-out-of-service` event
    that put it out) and the command that clears it (with `db_option`)."""
    return (
        f"{tool} is out of service until someone clears it ({row['data'].get('cause')}): once "
        f"its cause is fixed, {clear_command(run_id, tool, db_option=db_option)}"
    )


def uncleared_text(store: RunStore, run_id: str) -> str:
    """Each tool of run `run_id` that waits for a clear, why, and the command that clears it,
    for a message ('' when none waits)."""
    return "; ".join(
        waiting_text(run_id, tool, row, db_option=db_option(store.path))
        for tool, row in awaiting_clear(store, run_id).items()
    )


def recovery_failed_text(tool: str, row: dict[str, Any]) -> str:
    """Why `tool`, whose recovery failed or whose safe state an abort could not confirm
    (`row`, the `tool-out-of-service` event that says so), is out of service and what brings
    it back: no clear (nothing vouches for a tool never brought to its safe state), but a
    resume, whose recovery tries it again."""
    what = (
        f"its safe state was not confirmed when the run was aborted ({failures_text(row)})"
        if row["data"].get("cause") == UNCONFIRMED_SAFE_STATE
        else f"its recovery failed ({row['message']})"
    )
    return (
        f"{tool} is out of service: {what}; it takes no clear: fix "
        "its cause, and a resume's recovery tries it again (the wafers that need it are held "
        "for want of it while it still fails)"
    )


def out_of_service_text(store: RunStore, run_id: str) -> str:
    """Each tool of run `run_id` out of service, why, and what brings it back before a
    resume: the clear of one that waits for it, the cause fixed of one whose recovery failed
    or whose safe state is unconfirmed (`recovery_failed_text`); '' when every tool is in
    service."""
    return "; ".join(
        waiting_text(run_id, tool, row, db_option=db_option(store.path))
        if row["data"].get("until_cleared")
        else recovery_failed_text(tool, row)
        for tool, row in out_of_service(store, run_id).items()
    )


def refuse_uncleared_dry_resume(store: RunStore, run_id: str) -> None:
    """Refuse to resume dry run `run_id` while a tool of it waits for a clear: nobody can
    clear it while the simulated clock jumps, so the resume would only hold the wafers that
    need it again. A run on a station resumes, its wafers held for want of the tool running
    again once it is cleared from another terminal (`docs/engine.md`)."""
    if uncleared := uncleared_text(store, run_id):
        raise BadInput(f"run {run_id}: {uncleared}; clear it first, nothing resumed")


def recorded_while_stopped(store: RunStore, run_id: str, session: int) -> list[dict[str, Any]]:
    """What was recorded of run `run_id` while it was stopped, which its session `session`
    tells as it starts, in the order `show` lists it (`RunStore.events`; all are recorded
    under the session that stopped): what other processes recorded, what it carries out, the
    dispositions and the clears of tools (of the stopped run), and the faults `packline sim
    fault` injected on its tools or cleared from them meanwhile and told the stopped run
    (`injected_faults.tell_run`; those told a live session are its own events); and of a
    session cut off, the record `session` made of it as it took the run over
    (`record_cut_off_session`), told with them and with the faults found as it connected
    (`EventLog.retell`), in one order. A wafer decided more than once has its
    latest decision alone, the one carried out, its message naming the decisions it replaced
    (each listed had read as if it were carried out too)."""
    rows = [
        row
        for row in store.events(run_id)
        if row["session"] == session - 1
        and (
            row["kind"] in ("disposition", SESSION_CUT_OFF)
            or (row["kind"] in _TOLD_A_STOPPED_RUN and "run_status" in row["data"])
        )
    ]
    decided: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "disposition":
            decided.setdefault(row["wafer_id"], []).append(row)
    told = []
    for row in rows:
        if row["kind"] == "disposition":
            *earlier, latest = decided[row["wafer_id"]]
            if row is not latest:
                continue
            if earlier:
                replaced = "; ".join(each["message"] for each in earlier)
                row = {**row, "message": f"{row['message']} (replaces {replaced})"}
        told.append(row)
    return told


def check_tool(run: dict[str, Any], tool: str) -> None:
    """Refuse a tool that is not in the station run `run` (a runs row) drove, naming its
    tools and the one a misspelt name may mean."""
    tools = recorded_tools(run)
    if tool not in tools:
        raise BadInput(
            f"run {run['id']} has no tool {tool!r}; its tools: {', '.join(tools)}"
            f"{did_you_mean(tool, tools)}; nothing cleared"
        )


def refuse_in_service(store: RunStore, run_id: str, tool: str) -> dict[str, Any]:
    """The `tool-out-of-service` event that put `tool` of run `run_id` out of service and that
    nothing brought back since (`out_of_service`); BadInput when the records say the tool is
    in service: a clear of it would clear nothing, of a stopped run as of a running one (whose
    order the run would only ignore), so it is refused before anything is recorded or
    ordered."""
    waiting = out_of_service(store, run_id).get(tool)
    if waiting is None:
        raise BadInput(
            f"tool {tool} of run {run_id} does not wait for a clear: it is not out of service "
            "(nothing took it out, or it was cleared since); nothing cleared"
        )
    return waiting


def record_clearance(store: RunStore, run_id: str, tool: str, by: str) -> dict[str, Any] | None:
    """`by` clears `tool` of run `run_id`, which no process drives: the clearance is recorded
    as a `tool-cleared` event, which the next resume reads (its events row is returned).
    None, and nothing recorded, when a process drives the run after all (the caller orders
    the clear from it). BadInput, changing nothing, for a completed run, a tool the run does
    not have, or one that does not wait for a clear.

    The check and the record are one transaction, so a resume starting meanwhile either sees
    the clearance or is seen driving the run."""
    with store.transaction():
        run = store.run(run_id)
        if is_alive(run):
            return None
        status = shown_status(run)
        check_tool(run, tool)
        if status == "completed":
            raise BadInput(f"run {run_id} is completed: no resume uses its tools; nothing cleared")
        waiting = refuse_in_service(store, run_id, tool)
        if not waiting["data"].get("until_cleared"):
            raise BadInput(
                f"tool {recovery_failed_text(tool, waiting)}: `packline resume "
                f"{run_id}{db_option(store.path)}` once it is fixed; nothing cleared"
            )
        then = (
            "the resume recovers it and asks it what it holds: it goes back in service only "
            "once the workpiece is gone"
            if waiting["data"].get("cause") == FOREIGN_WORKPIECE
            else "the resume puts it back in service"
        )
        # the clear ends the tool's downtime where the run stopped (or its wait began, if later)
        row = store.add_stopped_run_event(
            run,
            "tool-cleared",
            f"{tool} cleared by {by} while the run was {status}: {then}",
            not_before=waiting["t"],
            wafer_id=None,
            tool=tool,
            data=json.dumps({"by": by, "cleared": True, "run_status": status}),
        )
    return row
