"""Dispositions: what a named person decides for a held wafer, and how a resume carries it out.

A wafer is held when a step failed under it or an irreversible step was cut off (it may have
half happened). The decision is the operator's, after looking at the wafer:

* **release**: the held step is accepted as done; on resume the wafer goes on from the step
  after it (an irreversible step is never repeated);
* **rework**: the held step is done again on resume (the wafer goes back through it on
  purpose);
* **scrap**: the wafer is finished as scrapped now; no resume runs it.

A decision is recorded with who made it, why, and the hold it answers; it is pending until a
resume starts the wafer again (a decision newer than the wafer's last hold). A run whose only
unfinished wafers are held becomes resumable again once one of them is released or reworked.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from .errors import BadInput
from .liveness import driver_text, is_alive
from .records import RunStore


class Decision(StrEnum):
    RELEASE = "release"
    REWORK = "rework"
    SCRAP = "scrap"


#: The wafer status a scrap leaves.
SCRAPPED = "scrapped"
#: The wafer statuses that leave a wafer nothing more to do: a run whose wafers all have one
#: is completed (a held wafer waits for a disposition; a scrapped one needs none).
DONE = frozenset({"completed", SCRAPPED})


def record_disposition(
    store: RunStore, run_ref: str, wafer_id: str, decision: Decision, by: str, reason: str
) -> dict[str, Any]:
    """Record `by`'s decision for held wafer `wafer_id` of run `run_ref`; a scrap finishes the
    wafer now. Refused, changing nothing, for a run being driven or a wafer that is not held."""
    run_id = store.resolve_run(run_ref)
    run = store.run(run_id)
    if is_alive(run):
        raise BadInput(
            f"run {run_id} is being driven by {driver_text(run)}; decide for its held wafers "
            "once it has stopped, then resume it"
        )
    wafers = {w["wafer_id"]: w for w in store.wafers(run_id)}
    if wafer_id not in wafers:
        raise BadInput(f"run {run_id} has no wafer {wafer_id!r}; its wafers: {', '.join(wafers)}")
    wafer = wafers[wafer_id]
    if wafer["status"] != "held":
        raise BadInput(
            f"wafer {wafer_id} of run {run_id} is {wafer['status']}, not held: only a held "
            "wafer gets a disposition"
        )
    if not reason.strip():
        raise BadInput("--reason: say why (what was seen on the wafer), not blank")
    row = {
        "run_id": run_id,
        "wafer_id": wafer_id,
        "decision": decision.value,
        "by": by,
        "reason": reason.strip(),
        "held_reason": wafer["reason"] or "",
        "wall": time.time(),
    }
    with store.transaction() as db:
        db.execute(
            "INSERT INTO dispositions (run_id, wafer_id, decision, by, reason, held_reason, wall) "
            "VALUES (:run_id, :wafer_id, :decision, :by, :reason, :held_reason, :wall)",
            row,
        )
        db.execute(
            "INSERT INTO events (run_id, session, kind, wafer_id, message, t, wall) "
            "VALUES (?, ?, 'disposition', ?, ?, ?, ?)",
            (
                run_id,
                run["sessions"],
                wafer_id,
                f"{decision.value} by {by}: {row['reason']}",
                run["stopped_t"] or 0.0,
                row["wall"],
            ),
        )
        if decision is Decision.SCRAP:
            db.execute(
                "UPDATE wafers SET status = ?, reason = ? WHERE run_id = ? AND wafer_id = ?",
                (SCRAPPED, f"scrapped by {by}: {row['reason']}", run_id, wafer_id),
            )
            statuses = {
                r[0] for r in db.execute("SELECT status FROM wafers WHERE run_id = ?", (run_id,))
            }
            if run["status"] == "held" and statuses <= DONE:
                db.execute("UPDATE runs SET status = 'completed' WHERE id = ?", (run_id,))
    return row


def pending_dispositions(store: RunStore, run_id: str) -> dict[str, Decision]:
    """Held wafer -> the release or rework decided since its last hold, for the next resume."""
    held = {w["wafer_id"]: w for w in store.wafers(run_id) if w["status"] == "held"}
    pending: dict[str, Decision] = {}
    for row in store.table("dispositions", run_id):  # in id order: a later decision wins
        wafer = held.get(row["wafer_id"])
        if wafer is not None and row["wall"] >= (wafer["stopped_wall"] or 0.0):
            pending[row["wafer_id"]] = Decision(row["decision"])
    return pending
