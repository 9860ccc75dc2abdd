"""What a wafer is doing, in the words the live view, the dashboard, `show`, `wafer` and `runs`
share: `queued` until its first step starts, `running` while a step or a stage on a tool is
open, `waiting` between them (for a tool, or for a batch to form), `paused` when the run is
paused and it is neither in a step nor in a stage (a wafer in a step finishes it first; one in
a stage, holding its tool, finishes the stage, to its unload, decision 0097; a queued one
starts no step until the run resumes), then `completed`, `held`, `terminated` or `scrapped`
(docs/engine.md, *The live view*). Read from the engine's events by the live view
(`lot_state`), and from the records by the rest (`recorded_wafer_status`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

#: Wafer statuses of a wafer that does no more steps in this run, unfinished.
STOPPED = ("held", "terminated", "scrapped")
#: Wafer statuses of a wafer that does no more steps in this run.
FINAL = ("completed", *STOPPED)
#: What a wafer still under way in a run being driven may be doing, in the order the live
#: view and `packline runs` list them.
UNDER_WAY = ("running", "waiting", "paused", "queued")
#: A wafer's statuses in the records until it is final: `pending` until its task starts, then
#: `running` whatever it is doing (`recorded_wafer_status` reads what that is).
RECORDED_UNDER_WAY = ("pending", "running")


def shown_wafer_status(status: str, open_kinds: Collection[str], run_state: str) -> str:
    """What a wafer is doing (see the module's doc), of its `status` (`queued` until its
    first step starts, `running` from then until it is final), the kinds of its steps and
    stages open now and the state of the run (`paused`, `running`...): the live view's, and
    through `recorded_wafer_status` the dashboard's, `show`'s and `runs`'."""
    if status in FINAL:
        return status
    if run_state == "paused":  # a wafer stops at a step's boundary outside a stage
        return "running" if open_kinds else "paused"
    if status == "queued":
        return status
    return "running" if open_kinds else "waiting"


def recorded_wafer_status(
    status: str, steps: Iterable[Mapping[str, Any]], session: int, run_state: str
) -> str:
    """What a wafer of a run still driven is doing (`shown_wafer_status`), read from the
    records instead of the engine's events: its recorded `status` (`RECORDED_UNDER_WAY` until
    it is final, whatever it does), its step records (`steps`: each with its kind, status and
    session) and the run's latest `session` and recorded status. It is queued until it starts a
    step of this session (a resumed run's wafers wait for their tools again, as its live view
    shows them), and in a step or stage while a record of one is still `running`: what the
    dashboard, `show`, `wafer` and `runs` say of a run in progress, the live view's words."""
    steps = list(steps)
    if status in RECORDED_UNDER_WAY:
        started = any(s["session"] == session and s["status"] != "skipped" for s in steps)
        status = "running" if started else "queued"
    open_kinds = [s["kind"] for s in steps if s["status"] == "running"]
    return shown_wafer_status(status, open_kinds, run_state)
