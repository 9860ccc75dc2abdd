"""Progress events: what the engine tells the live view, the JSON-lines stream and the records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from packline.json_text import json_text
from packline.rendering import counted


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run, stamped with the run clock `t` and the wall clock.

    Kinds: run-started, run-finished, wafer-started (data["back_in_service"]: a wafer held
    for want of a tool runs again, that tool cleared), wafer-finished, step-started,
    step-finished, batch-formed, paused, resumed, terminating, aborting (data["by"]: the
    person who ordered it, when one did), tool-recovered,
    tool-out-of-service (an alarmed tool, or one holding a workpiece the run did not put
    there, named in data["workpieces"], waits for `clear-tool`), safe-state-unconfirmed
    (`SAFE_STATE_UNCONFIRMED`), tool-cleared, tool-replaced
    (a resumed run found a new serial number), held (data["refused"]: its step was one its
    tool refused, so it did not happen; data["preparation"]: its step prepared its tool with
    nothing of the wafer on it, and failed; data["tool_unavailable"]: no tool was given to it,
    so it runs again once one is cleared, or on resume), disposition (a decision for a held
    wafer, or how a resume carried one out: data["carried_out"]),
    confirmation-asked (`confirmations.CONFIRMATION_ASKED`: put to the operator, before the
    wait), confirmation, confirmation-unanswered (`confirmations.CONFIRMATION_UNANSWERED`: the
    run stopped while it was open), measurement, claim-check (a dry run's claim check: status
    passed/failed/incomplete, data["conditions"] one entry per condition), nothing-to-pause
    (`NOTHING_TO_PAUSE`), pausing (`PAUSING`), abort-not-confirmed (`ABORT_NOT_CONFIRMED`),
    session-cut-off (`SESSION_CUT_OFF`: recorded by a resume of the session it takes over).

    A run's events are read in the order they happened (`database.EVENTS_ORDER`): by `t`, then
    `wall`, then as recorded (decision 0120).
    """

    kind: str
    run_id: str
    t: float
    wall: float
    wafer: str | None = None
    step: str | None = None
    tool: str | None = None
    status: str | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json_text({k: v for k, v in asdict(self).items() if v not in (None, "", {})})


Observer = Callable[[Event], None]

#: The kind of event a tool's own report of its state is (`keeper.py`): recorded, and read by
#: the tool time accounting.
TOOL_STATE = "tool-state"
#: The kind of event a dry run's `--fault` records as it injects a simulated tool's fault
#: (`packline/cli/faults.py`): its tool, the fault as its status, the option as its message.
FAULT_INJECTED = "fault-injected"
#: The kind of event a run records of a fault `packline sim fault --clear` repaired on a tool
#: of the served line it drives, as it records the fault's injection (`FAULT_INJECTED`,
#: `injected_faults.tell_run`): its tool, the fault as its status, who cleared it and when.
FAULT_CLEARED = "fault-cleared"
#: The kind of event the `pause` failure policy records instead of pausing when no wafer is
#: left to run (every one held or finished): there is nothing to pause, and the run ends. Also
#: of an operator's pause the lot finished under before it held any wafer (data `by`, its
#: requester): the run ends as it would have, not paused.
NOTHING_TO_PAUSE = "nothing-to-pause"
#: The kind of event a run records of an order it did not carry out, and why: an unreadable
#: row of its `control` table, a clear of a tool in service, a menu command typed at the
#: terminal that the menu does not offer then (`packline/cli/console.py`).
CONTROL_IGNORED = "control-ignored"
#: The kind of event a resumed session records as it starts, before its recovery or any step
#: drives a tool: the wafers it runs, those not started yet said so (`Plan.wafers_to_run_text`;
#: data["wafers"], data["not_started"]), so that none runs unannounced.
RESUME_PLAN = "resume-plan"
#: The kind of event a pause records of each stage under way as it is taken (decision 0097):
#: the wafers in it (data["wafers"]) finish their steps on its tool, to its unload, before they
#: wait; its message names them, the tool and where they stand.
PAUSING = "pausing"
#: The kind of event an aborted run records of each tool whose safe state it could not
#: confirm (its driver's `abort()` failed or did not end in time: `ToolKeeper.shutdown`): the
#: tool, a message naming each failure and the resume that recovers it, and data["failures"].
#: The tool may still be live (RF on, gas flowing); it is out of service until a recovery.
SAFE_STATE_UNCONFIRMED = "safe-state-unconfirmed"
#: The kind of event an aborted run records of a tool whose safe state, commanded as the abort
#: cut its step off, was not confirmed in time (its driver's `abort()` raised: the tool ignored
#: the abort, or did not answer): the tool, data["failure"], what the driver found still on.
#: Recorded as it happens, whatever the retry as the run ends finds (`SAFE_STATE_UNCONFIRMED`
#: if it fails too; else the summary says the tool was later found at rest).
ABORT_NOT_CONFIRMED = "abort-not-confirmed"
#: The kind of event `packline archive` records of a run it wrote whole to a file, its message
#: the file's path (`packline/records/retention.py`), recorded of the stopped run.
ARCHIVED = "archived"
#: The kind of event a resume records of the session it takes over that was cut off, no end
#: recorded (`cut_off.record_cut_off_session`, decision 0120): in that session, after its last
#: record, naming the steps it left running (data `steps`, `pid`, `host`).
SESSION_CUT_OFF = "session-cut-off"
#: The kinds of event `packline show` and the report leave out of a run's events: the tools'
#: own states, which the Gantt chart draws instead (a run records hundreds).
UNLISTED = frozenset({TOOL_STATE})


#: Where the events `unlisted_text` counts are, as `show` and the report say it.
UNLISTED_WHERE = (
    "the tools' own states, tool-state events: the report's Gantt chart draws them, "
    "`packline tools` counts them, `show --json` and `packline export` list them"
)


def unlisted_text(kinds: Iterable[str]) -> str:
    """What a list of a run's events whose `kinds` these are leaves out (`UNLISTED`), as
    `show` and the report say it beside the events they list, where `show --json` and the
    export list every one: '15 tool state changes not listed' ('' for none)."""
    count = sum(kind in UNLISTED for kind in kinds)
    return f"{counted(count, 'tool state change')} not listed" if count else ""


def of_the_stopped_run(row: Mapping[str, Any]) -> bool:
    """Whether events row `row` (its `data` read, as `RunStore.events` gives it) is one another
    process recorded of the run while no session drove it (`RunStore.add_stopped_run_event`):
    a clear or a fault told to the stopped run (data `run_status`), a disposition (not one a
    resume carried out: data `carried_out`), an archive. The others are its sessions' own."""
    data = row["data"]
    return (
        "run_status" in data
        or row["kind"] == ARCHIVED
        or (row["kind"] == "disposition" and "carried_out" not in data)
    )
