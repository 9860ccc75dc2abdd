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
event (data `by`, `cleared_wall`), so the records say how long the tool suffered it.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, NamedTuple

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


#: Each kind of event told from another process, by the kinds' names, `events.FAULT_INJECTED`
#: and `FAULT_CLEARED`: `packline runs` imports no dataclasses.
_TOLD = {
    "fault-injected": _Told("", "injected_wall", "it"),
    "fault-cleared": _Told(" --clear", "cleared_wall", "the tool without it"),
}


def fault_message(kind: str, by: str, wall: float) -> str:
    """The message of the event of `kind` (`fault-injected` or `fault-cleared`) of a fault
    `packline sim fault` injected (or cleared), by `by` at Unix time `wall`: `packline sim
    fault by ana at 14:58:03, from another process` (`packline sim fault --clear by ...` of a
    clear; a dry run's names its `--fault` option instead)."""
    at = time.strftime("%H:%M:%S", time.localtime(wall))
    return f"packline sim fault{_TOLD[kind].option} by {by} at {at}, from another process"


def fault_data(kind: str, fault: str, by: str, wall: float) -> dict[str, Any]:
    """The data of the event of `kind` of `fault`, which `by` injected (or cleared) at
    `wall`: `fault`, `by` and `injected_wall` (`cleared_wall`)."""
    return {"fault": fault, "by": by, _TOLD[kind].wall_key: wall}


def told_fault(order: Order) -> dict[str, Any]:
    """The fields (its tool aside) of the event a run driven by a live process records as it
    takes `order`, the word of a fault `order.by` had the served line inject on (or clear
    from) a tool at `order.wall` (`packline sim fault [--clear]`; `order.command`, the
    event's kind): the fault as its status, its message (`fault_message`, when the line did
    it) and data (`fault_data`), beside the alarm the fault raises or the clear that follows
    its repair (decision 0103)."""
    wall = time.time() if order.wall is None else order.wall
    fault, by = str(order.fault), str(order.by)
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
    by: str,
    wall: float,
    line_did: str = "inject",
) -> str:
    """Tell run `run_id` that the served line it drives injected `fault` on its `tool` (or
    cleared it: `line_did`, the line's control command, `inject` or `clear`) at Unix time
    `wall`, by order of `by`: told to the live process that drives it (an order of the
    event's kind, `fault-injected` or `fault-cleared`), which records the event as it takes
    the order; recorded at once in a stopped run, in its last session at the run clock it
    stopped at (its resume meets the tool so); not recorded in a completed run, which no
    resume goes on with. What was done, in words, for the command to say. The check and the
    record are one transaction, as a clear's (`clearances.record_clearance`): a resume
    starting meanwhile is told either way."""
    from .control import Order
    from .events import FAULT_CLEARED, FAULT_INJECTED

    kind = {"inject": FAULT_INJECTED, "clear": FAULT_CLEARED}[line_did]
    with store.transaction():
        run = store.run(run_id)
        if is_alive(run):
            order = Order(kind, by=by, tool=tool, fault=fault, wall=wall)
            store.post_control(run_id, order.text(), time.time())
            return f"run {run_id} records it as a {kind} event as it takes the word"
        status = shown_status(run)
        if status == "completed":
            return f"run {run_id} is completed: not recorded in its records"
        store.add_stopped_run_event(
            run,
            kind,
            f"{fault_message(kind, by, wall)} while the run was {status}: its resume meets "
            f"{_TOLD[kind].resume_meets}",
            wafer_id=None,
            tool=tool,
            status=fault,
            data=json.dumps({**fault_data(kind, fault, by, wall), "run_status": status}),
            wall=wall,
        )
        store.mark_injected_alarms(run_id)  # the alarm it raised before the run stopped
    return f"recorded in run {run_id} (status {status}) as a {kind} event"


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
    data = json.loads(row["data"]) if row["data"] else {}
    return float(data.get(_TOLD[row["kind"]].wall_key, row["wall"]))
