"""Faults injected on a run's tools by an operator, as the run's records keep them, so that
every reader tells the alarm such a fault raises from one the tool raised of its own
(decision 0103).

A dry run's `--fault` records its `fault-injected` event as it injects it (`packline/cli/
faults.py`). A fault injected on a line `packline sim serve` serves comes from another process
(`packline sim fault TOOL FAULT --run RUN`), which talks to the line, not to the run: once the
line has injected it, that process tells the run (`tell_run`). A run a live process drives
is told through its `control` table (a `FAULT_INJECTED` order, which the engine records as
the event as it takes it, within its control poll); a stopped run gets the event at once,
in its last session (its resume meets the fault on the line). Either way the event names the
tool, the fault (its status), who injected it and when (data `by`, `injected_wall`). Its
repair (`packline sim fault TOOL FAULT --clear`) is told the same way, a `fault-cleared`
event (data `by`, `cleared_wall`), so the records say how long the tool suffered it. A fault
the tool clears by its own doing (a dicing saw's new blade cures its crack) is told the same
way by the served line itself (`packline sim serve`), by nobody, saying how (data
`cleared_on_tool`, `cleared_on_tool_text`), and a dry run's `--fault` injector records it as
the tool makes it (decision 0119).

A fault injected while no run was live on the line (before the run started, or while it was
held) is told to none: the run (or the resume) learns it as it connects, asking the line which
faults its tools suffer and who injected each when, and records it as it records one told
(`found_on_line`), data `found_as_run_connected`; a fault its records say is injected that the
line cleared meanwhile is recorded cleared the same way (decision 0117). A dry run's resume
starts a fresh simulated line, which has none of the faults an earlier session's line had: it
records each its records have injected as cleared as it starts (`cleared_by_a_fresh_line`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from packline.who_when import by_whom, clock_time

from .liveness import is_alive, shown_status
from .records import RunStore

if TYPE_CHECKING:  # `packline runs` imports no dataclasses
    from .control import Order


class _Told(NamedTuple):
    """What an event of a fault told from another process says the line did."""

    #: The `packline sim fault` option that did it ('' to inject).
    option: str
    #: The key of its data that holds when the line did it (Unix time).
    wall_key: str
    #: What the resume of a stopped run told of it meets.
    resume_meets: str
    #: What the line did, in a word: how a run that connects later finds the fault.
    done: str


#: Each kind of event told from another process, by the kinds' names, `events.FAULT_INJECTED`
#: and `FAULT_CLEARED`: `packline runs` imports no dataclasses.
_TOLD = {
    "fault-injected": _Told("", "injected_wall", "it", "injected"),
    "fault-cleared": _Told(" --clear", "cleared_wall", "the tool without it", "cleared"),
}
#: How a word told from another process reached the run, in its event's message.
FROM_ANOTHER_PROCESS = "from another process"
#: How the served line's word of a fault its tool cleared itself reached the run.
FROM_THE_LINE = "told by the served line"


def fault_message(kind: str, by: str | None, wall: float, how: str = FROM_ANOTHER_PROCESS) -> str:
    """The message of the event of `kind` (`fault-injected` or `fault-cleared`) of a fault
    `packline sim fault` injected (or cleared), by `by` (None: the line was not told who) at
    Unix time `wall`, which reached the run `how`: `packline sim fault by ana at 14:58:03,
    from another process` (`packline sim fault --clear by ...` of a clear; a dry run's names
    its `--fault` option instead)."""
    return f"packline sim fault{_TOLD[kind].option}{by_whom(by)} at {clock_time(wall)}, {how}"


def fault_data(kind: str, fault: str, by: str | None, wall: float) -> dict[str, Any]:
    """The data of the event of `kind` of `fault`, which `by` injected (or cleared) at
    `wall`: `fault`, `by` and `injected_wall` (`cleared_wall`)."""
    return {"fault": fault, "by": by, _TOLD[kind].wall_key: wall}


def cleared_on_tool_text(fault: str, how: str, wall: float | None = None) -> str:
    """What a run's `fault-cleared` event says of `fault` that the tool cleared by its own
    doing (`how`: `a new blade installed`; decision 0119), at Unix time `wall` where the line
    says it: `blade_crack cleared on the tool at 02:17:34 (a new blade installed)`."""
    at = "" if wall is None else f" at {clock_time(wall)}"
    return f"{fault} cleared on the tool{at} ({how})"


def cleared_on_tool_data(fault: str, wall: float | None, how: str) -> dict[str, Any]:
    """The data of that event: `fault`, `by` null (nobody ordered it), `cleared_on_tool`
    (how), and `cleared_wall` where the line said when."""
    data: dict[str, Any] = {"fault": fault, "by": None, "cleared_on_tool": how}
    if wall is not None:
        data[_TOLD["fault-cleared"].wall_key] = wall
    return data


def no_live_run_text(line_did: str, db: str, db_exists: bool = True) -> str:
    """What `packline sim fault` says when no run a live process drives is on the line it
    injected a fault on (cleared one from: `line_did`, `inject` or `clear`): none was told,
    by the records it looked in (`db`; `db_exists`: a mistyped `--db` shows), that a run
    recorded in another database is told with its `--db` (a new user's live run, recorded in
    another, had gone untold), and which run records it instead, as it connects
    (`found_on_line`)."""
    looked = f"no records at {db}" if not db_exists else f"by the records at {db}"
    none_live = (
        f"no run is live on the line ({looked}: a run recorded in another database is told "
        "with its --db)"
    )
    if line_did == "inject":
        return (
            f"{none_live}: none told; the next run or resume on it records the fault as it connects"
        )
    return (
        f"{none_live}: none told; a run whose records have the fault injected records the "
        "clear as its resume connects"
    )


def told_fault(order: Order) -> dict[str, Any]:
    """The fields (its tool aside) of the event a run driven by a live process records as it
    takes `order`, the word of a fault `order.by` had the served line inject on (or clear
    from) a tool at `order.wall` (`packline sim fault [--clear]`; `order.command`, the
    event's kind): the fault as its status, its message (`fault_message`, when the line did
    it) and data (`fault_data`), beside the alarm the fault raises or the clear that follows
    its repair (decision 0103)."""
    wall = time.time() if order.wall is None else order.wall
    fault = str(order.fault)
    if order.on_tool is not None:  # the tool cleared it itself, as the served line tells
        return {
            "status": fault,
            "message": f"{cleared_on_tool_text(fault, order.on_tool, wall)}, {FROM_THE_LINE}",
            "data": cleared_on_tool_data(fault, wall, order.on_tool),
        }
    by = str(order.by)
    return {
        "status": fault,
        "message": fault_message(order.command, by, wall),
        "data": fault_data(order.command, fault, by, wall),
    }


def tell_run(
    store: RunStore,
    run_id: str,
    tool: str,
    fault: str,
    by: str | None,
    wall: float,
    line_did: str = "inject",
    on_tool: str | None = None,
) -> str:
    """Tell run `run_id` that the served line it drives injected `fault` on its `tool` (or cleared
    it: `line_did`, the line's control command, `inject` or `clear`) at Unix time `wall`, by order
    of `by` (or by the tool's own doing, `on_tool`, which says how: a clear the served line tells,
    `by` None): told to the live process that drives it (an order of the event's kind,
    `fault-injected` or `fault-cleared`), which records the event when it next checks for orders
    (its control poll, or before it records an alarm); recorded at once in a stopped run, in its
    last session at the run clock it stopped at (its resume meets the tool so); not recorded in a
    completed run, which no resume goes on with. What was done, in words, for the command to say.
    The check and the record are one transaction, as a clear's (`clearances.record_clearance`): a
    resume starting meanwhile is told either way."""
    from .control import Order
    from .events import FAULT_CLEARED, FAULT_INJECTED

    kind = {"inject": FAULT_INJECTED, "clear": FAULT_CLEARED}[line_did]
    with store.transaction():
        run = store.run(run_id)
        if is_alive(run):
            order = Order(kind, by=by, tool=tool, fault=fault, wall=wall, on_tool=on_tool)
            store.post_control(run_id, order.text(), time.time())
            return f"run {run_id} records it as a {kind} event when it next checks for orders"
        status = shown_status(run)
        if status == "completed":
            return f"run {run_id} is completed: not recorded in its records"
        said, data = (
            (fault_message(kind, by, wall), fault_data(kind, fault, by, wall))
            if on_tool is None
            else (
                cleared_on_tool_text(fault, on_tool, wall),
                cleared_on_tool_data(fault, wall, on_tool),
            )
        )
        store.add_stopped_run_event(
            run,
            kind,
            f"{said} while the run was {status}: its resume meets {_TOLD[kind].resume_meets}",
            wafer_id=None,
            tool=tool,
            status=fault,
            data=json.dumps({**data, "run_status": status}),
            wall=wall,
        )
        store.mark_injected_alarms(run_id)  # the alarm it raised before the run stopped
    return f"recorded in run {run_id} (status {status}) as a {kind} event"


def found_on_line(
    store: RunStore, run_id: str, tools: Iterable[str], line: Mapping[str, Any]
) -> list[tuple[str, str, dict[str, Any]]]:
    """What run `run_id` records as it connects to a served line of its `tools`, the line's
    reply to `injected` being `line` (`sim_instruments/servers/control.py`): each event, as
    what the line did (`inject` or `clear`, as `tell_run` has it: a `fault-injected` or
    `fault-cleared` event), its tool and its fields (status, message and data, as
    `told_fault` gives them), of a fault the line says is injected on one of them that the
    run's records do not have injected (injected while no run was live: before the run, or
    while it was stopped), and of one they have injected that the line cleared since (a
    fault the line injected again since, a clear then an injection). Each says when the line
    did it and by whom, where it knows (a fault injected on the tool itself, or a line served
    again, it does not: the event's own time stands for it), and data
    `found_as_run_connected`. Nothing of a fault the records tell as the line does: a word
    `sim fault` told them (decision 0117)."""
    latest = _latest_told(store, run_id)
    found = []
    for tool in tools:
        injected = line.get("injected", {}).get(tool, {})
        cleared = line.get("cleared", {}).get(tool, {})
        for fault in sorted({*injected, *(f for t, f in latest if t == tool)}):
            now, clear = injected.get(fault), cleared.get(fault)
            kind, recorded = latest.get((tool, fault), ("fault-cleared", None))
            if kind == "fault-injected" and recorded is not None:
                again = now is not None and now["wall"] is not None and now["wall"] > recorded
                if now is not None and not again:
                    continue  # the records tell it as the line does
                until = now["wall"] if again and now is not None else None
                known = clear is not None and recorded <= clear["wall"] <= (until or math.inf)
                cleared_then = _found("fault-cleared", fault, known, clear, until)
                found.append(("clear", tool, cleared_then))
            if now is not None:
                # a line whose injection came before what the records last tell is another
                # (served again): when it injected it would put it before them
                known = now["wall"] is not None and (recorded is None or now["wall"] >= recorded)
                found.append(("inject", tool, _found("fault-injected", fault, known, now)))
    return found


def line_did_at(kind: str, data: Mapping[str, Any]) -> float | None:
    """When the line did what the event of `kind` (`fault-injected`, `fault-cleared`) with
    `data` tells (its `injected_wall` or `cleared_wall`); None where it does not say."""
    wall = data.get(_TOLD[kind].wall_key)
    return None if wall is None else float(wall)


def _found(
    kind: str,
    fault: str,
    known: bool,
    done: Mapping[str, Any] | None,
    by_then: float | None = None,
) -> dict[str, Any]:
    """The fields of the event of `kind` of `fault`, which a run found the line did (`done`,
    as its reply gives who and when) as it connected: of a clear the tool made itself (its
    `on_tool`, a dicing saw's new blade), when and how, by nobody (data `cleared_on_tool`,
    decision 0119). When the line does not say (`known` false), the event's own time stands
    for it, or `by_then`, the latest it can have been (a clear before the line injected the
    fault again), so that it comes before that."""
    found = f"found {_TOLD[kind].done} as the run connected"
    data: dict[str, Any] = {"fault": fault}
    if known and done is not None and "on_tool" in done:
        wall = float(done["wall"])
        data.update(cleared_on_tool_data(fault, wall, done["on_tool"]))
        message = f"{cleared_on_tool_text(fault, done['on_tool'], wall)}, {found}"
    elif known and done is not None:
        data.update(fault_data(kind, fault, done["by"], float(done["wall"])))
        message = fault_message(kind, done["by"], float(done["wall"]), found)
    elif by_then is not None:
        data[_TOLD[kind].wall_key] = by_then
        message = (
            f"{fault} {found}, by {clock_time(by_then)}, when the line injected it again (the "
            "served line does not say when or by whom)"
        )
    else:
        message = f"{fault} {found} (the served line does not say when or by whom)"
    return {"status": fault, "message": message, "data": {**data, "found_as_run_connected": True}}


def told_before(store: RunStore, order: Order, run_id: str) -> bool:
    """Whether run `run_id` already recorded the fault `order` tells of (its kind, tool,
    fault and when the line did it), as its connect found it (`found_on_line`) between the
    line's act and the word `sim fault` posted: then it is not recorded twice."""
    told = _latest_told(store, run_id).get((str(order.tool), str(order.fault)))
    return told == (order.command, order.wall)


def _latest_rows(store: RunStore, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The last `fault-injected` or `fault-cleared` events row of run `run_id` of each tool
    and fault, by when the line did it (as `schema.INJECTED_FAULT_OF_ALARM` orders them)."""
    rows = [
        *store.events_of_kind("fault-injected", [run_id]),
        *store.events_of_kind("fault-cleared", [run_id]),
    ]
    return {
        (row["tool"], row["status"]): row
        for row in sorted(rows, key=lambda row: (_when(row), row["id"]))
    }


def _latest_told(store: RunStore, run_id: str) -> dict[tuple[str, str], tuple[str, float]]:
    """`_latest_rows` as (tool, fault) -> the event's kind and when the line did it."""
    return {key: (row["kind"], _when(row)) for key, row in _latest_rows(store, run_id).items()}


#: Why a dry run's resume records the faults an earlier session injected as cleared.
FRESH_LINE = (
    "not on the fresh simulated line this resume started (a dry run's resume starts its line "
    "anew, with no fault but its own --fault)"
)


def cleared_by_a_fresh_line(
    store: RunStore, run_id: str, session: int
) -> list[tuple[str, dict[str, Any]]]:
    """What session `session` of dry run `run_id` records as it starts, on the fresh simulated
    line a dry run's resume starts: a `fault-cleared` event (its tool and its fields: status,
    message and data, as `found_on_line` gives them) of each fault its records have injected,
    by a session before it, and not cleared since; that line has none of them, as a served
    line that cleared one tells its resume (`found_on_line`), so the run reads `(cleared)`
    where the line no longer has the fault. A fault this session's `--fault` injected again as
    it started is its latest injection, and is not cleared."""
    return [
        (
            tool,
            {
                "status": fault,
                "message": f"{fault} {FRESH_LINE}",
                "data": {"fault": fault, "fresh_line": True},
            },
        )
        for (tool, fault), row in _latest_rows(store, run_id).items()
        if row["kind"] == "fault-injected" and row["session"] < session
    ]


def faults_injected(store: RunStore, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The faults injected on the tools of each of `run_ids` (their `fault-injected` events,
    a dry run's `--fault` and `packline sim fault` alike), in the order they were recorded:
    run id -> each fault's `tool`, `fault`, `wall` (when it was injected) and `cleared` (when
    `packline sim fault --clear` cleared it, the first clear of that fault on that tool after
    it; None while it is injected still); a run with none is left out. What `runs` and the
    dashboard's run list say beside a run's status."""
    injected: dict[str, list[dict[str, Any]]] = {}
    # events.FAULT_INJECTED, FAULT_CLEARED: `packline runs` imports no dataclasses (nor the
    # clock, through the control module)
    clears = [
        (row["run_id"], row["tool"], row["status"], _when(row))
        for row in store.events_of_kind("fault-cleared", run_ids)
    ]
    for row in store.events_of_kind("fault-injected", run_ids):
        wall = _when(row)
        key = (row["run_id"], row["tool"], row["status"])
        cleared = [at for *cleared_key, at in clears if tuple(cleared_key) == key and at >= wall]
        injected.setdefault(row["run_id"], []).append(
            {
                "tool": row["tool"],
                "fault": row["status"],
                "wall": wall,
                "cleared": min(cleared, default=None),
            }
        )
    return injected


def alarm_code_text(code: str, injected_fault: str | None) -> str:
    """An alarm's code as `show`'s timeline and the report give it: with the fault injected
    that raised it (`alarms.injected_fault`, decision 0110), `REFLECTED_POWER (injected fault
    rf_mismatch)`, so that a reader of one run does not take it for the tool's own (as
    `packline alarms` does not count it so); the code alone for an alarm of the tool's own."""
    return f"{code} (injected fault {injected_fault})" if injected_fault else code


def _when(row: dict[str, Any]) -> float:
    """When the line did what a `fault-injected` or `fault-cleared` events row tells (its
    data's `injected_wall` or `cleared_wall`), else when it was recorded (a dry run's
    `--fault`)."""
    wall = line_did_at(row["kind"], json.loads(row["data"]) if row["data"] else {})
    return float(row["wall"]) if wall is None else wall
