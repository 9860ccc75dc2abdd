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
tool, the fault (its status), who injected it and when (data `by`, `injected_wall`).
"""

from __future__ import annotations

import json
import time
from typing import Any

from .liveness import is_alive, shown_status
from .records import RunStore


def injected_message(by: str, wall: float) -> str:
    """The message of the `fault-injected` event of a fault `packline sim fault` injected,
    by `by` at Unix time `wall`: `packline sim fault by ana at 14:58:03, from another
    process` (a dry run's names its `--fault` option instead)."""
    at = time.strftime("%H:%M:%S", time.localtime(wall))
    return f"packline sim fault by {by} at {at}, from another process"


def injected_data(fault: str, by: str, wall: float) -> dict[str, Any]:
    """The data of the `fault-injected` event of `fault`, which `by` injected at `wall`."""
    return {"fault": fault, "by": by, "injected_wall": wall}


def tell_run(store: RunStore, run_id: str, tool: str, fault: str, by: str, wall: float) -> str:
    """Tell run `run_id` that the served line it drives injected `fault` on its `tool` at
    Unix time `wall`, by order of `by`: told to the live process that drives it (a
    `FAULT_INJECTED` order), which records the
    `fault-injected` event as it takes the order; recorded at once in a stopped run, in its
    last session at the run clock it stopped at (its resume meets the fault); not recorded
    in a completed run, which no resume goes on with. What was done, in words, for the
    command to say. The check and the record are one transaction, as a clear's
    (`clearances.record_clearance`): a resume starting meanwhile is told either way."""
    from .control import Order
    from .events import FAULT_INJECTED

    with store.transaction():
        run = store.run(run_id)
        if is_alive(run):
            order = Order(FAULT_INJECTED, by=by, tool=tool, fault=fault, wall=wall)
            store.post_control(run_id, order.text(), time.time())
            return f"run {run_id} records it as a fault-injected event as it takes the word"
        status = shown_status(run)
        if status == "completed":
            return f"run {run_id} is completed: not recorded in its records"
        store.add_stopped_run_event(
            run,
            FAULT_INJECTED,
            f"{injected_message(by, wall)} while the run was {status}: its resume meets it",
            wafer_id=None,
            tool=tool,
            status=fault,
            data=json.dumps({**injected_data(fault, by, wall), "run_status": status}),
            wall=wall,
        )
    return f"recorded in run {run_id} (status {status}) as a fault-injected event"


def faults_injected(store: RunStore, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The faults injected on the tools of each of `run_ids` (their `fault-injected` events,
    a dry run's `--fault` and `packline sim fault` alike), in the order they were recorded:
    run id -> each fault's `tool`, `fault` and `wall` (when it was injected); a run with
    none is left out. What `runs` and the dashboard's run list say beside a run's status."""
    injected: dict[str, list[dict[str, Any]]] = {}
    # events.FAULT_INJECTED: `packline runs` imports no dataclasses (nor the clock, through
    # the control module)
    for row in store.events_of_kind("fault-injected", run_ids):
        data = json.loads(row["data"]) if row["data"] else {}
        injected.setdefault(row["run_id"], []).append(
            {
                "tool": row["tool"],
                "fault": row["status"],
                "wall": data.get("injected_wall", row["wall"]),
            }
        )
    return injected
