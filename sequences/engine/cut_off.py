"""A session cut off: one whose process ended with no end recorded (a SIGKILL, a crash, a power
cut), which a resume takes over. Its records say so already: no `run-finished` of its own, the
steps it left `running` (the resume closes them `interrupted`). The resume says it in the run's
events, where a reader of them looks (decision 0120): a `session-cut-off` event of the session
cut off, after its last record and before the resume's start, naming the steps it left
running."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from packline.who_when import clock_time

from .events import SESSION_CUT_OFF, of_the_stopped_run
from .liveness import last_record
from .records import RunStore
from .report import step_labels


def last_own_record_wall(
    run: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
) -> float:
    """The wall time of the latest record of `run` (its runs row) of its own, every
    session's (its steps, and its events but those another process recorded of it while no
    session drove it, `of_the_stopped_run`), or of its start if none is later: where a run cut
    off was last heard of by the wall clock, as its `session-cut-off` event and its summary
    name it (its run clock's end, `RunStore.records_end_t`, counts those others too, at
    the time they go, which is where its records end already)."""
    own = [float(event["wall"]) for event in events if not of_the_stopped_run(event)]
    return max([last_record(steps, (run["started_t"], run["started_wall"]))[1], *own])


def record_cut_off_session(
    store: RunStore, run: Mapping[str, Any], cut_off: Mapping[int, str]
) -> dict[str, Any]:
    """Record that the last session of `run` (its runs row as the resume found it, no end
    recorded) was cut off, as the resume taking it over closes the steps it left running
    (`cut_off`: step id -> the resume's decision): a `session-cut-off` event of that session,
    at the run clock where its records end (`RunStore.records_end_t`, as every record of the
    stopped run) and at the wall time of the run's last record of its own (not one another
    process recorded of the stopped run: `of_the_stopped_run`), which the session outlived by
    no record: it reads after what the session recorded and before what others recorded of
    the run since (a clear, a disposition). Its message names that time and the steps left
    running, or, of a session that recorded nothing of its own (killed as it connected to its
    tools), says so: the time is then an earlier session's last record, not its own. Data
    `steps` (their ids), `pid` and `host` (the process that drove it). The row written, its
    `data` read."""
    session = run["sessions"]
    steps = store.steps(run["id"])
    events = store.events(run["id"])
    last_wall = last_own_record_wall(run, steps, events)
    own = [event for event in events if not of_the_stopped_run(event)]
    labels = step_labels(steps)
    left: dict[str, list[str]] = {}
    for step in steps:
        if step["id"] in cut_off:
            left.setdefault(labels[step["id"]], []).append(step["wafer_id"])
    recorded = any(record["session"] == session for record in [*own, *steps])
    where = (
        f"after its last record at {clock_time(last_wall)}"
        if recorded
        else "before it recorded anything"
    )
    message = (
        f"session {session} cut off {where}: no end recorded (its process was killed or "
        "crashed, its host went down, or its records could not be written)"
    )
    if left:
        running = ", ".join(f"{label} ({', '.join(wafers)})" for label, wafers in left.items())
        message += f"; left running, closed interrupted by session {session + 1}: {running}"
    data = {"steps": sorted(cut_off), "pid": run["pid"], "host": run["host"]}
    row = store.add_stopped_run_event(
        run,
        SESSION_CUT_OFF,
        message,
        wafer_id=None,
        tool=None,
        status=None,
        wall=last_wall,
        data=json.dumps(data),
    )
    return {**row, "data": data}
