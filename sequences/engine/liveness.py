"""Is a process driving a run right now? Read from the run's record and the process table.

A run records the pid and host of the process that drives it. It is live while its status is
running or paused, the host is this one, and that process exists and is not a zombie (a killed
controller whose parent has not reaped it still answers `kill(pid, 0)`). A running or paused
run nobody drives was cut off (SIGKILL, power cut, a crash): it is shown as `interrupted`,
and `packline resume` continues it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Recorded statuses of a run that a live process is driving.
DRIVEN = ("running", "paused")
#: How a driven status reads once its process is gone.
INTERRUPTED = "interrupted"
#: What a `completed` run none of whose wafers completed adds to its status (`status_text`):
#: a completed run's wafers are completed or scrapped, so every one was scrapped.
EVERY_WAFER_SCRAPPED = "every wafer scrapped"
#: Every status `runs` and `show` print for a run.
SHOWN_STATUSES = (
    "running", "paused", INTERRUPTED, "completed", "held", "terminated", "aborted", "failed",
)  # fmt: skip


def this_host() -> str:
    """This host's name, as a run records where it is driven."""
    import socket  # only once a run is read: `packline runs` of no runs does without it

    return socket.gethostname()


def is_alive(run: dict[str, Any]) -> bool:
    """Is another live process on this host driving `run` (a row of the runs table)?"""
    if run["status"] not in DRIVEN or run["host"] != this_host():
        return False
    try:
        os.kill(run["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return run["pid"] != os.getpid() and not _zombie(run["pid"])


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc here: trust kill(pid, 0)
    return stat.rpartition(")")[2].split()[0] == "Z"


def shown_status(run: dict[str, Any]) -> str:
    """The run's status as `runs` and `show` print it: `interrupted` for a running or paused
    run that no live process drives (a run on another host is taken at its word)."""
    here = run["host"] == this_host()
    driving = run["pid"] == os.getpid() or is_alive(run)
    return INTERRUPTED if run["status"] in DRIVEN and here and not driving else run["status"]


def shown_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """The runs row `run` with its status as shown (`shown_status`): what `is_cut_off` and
    the readers of a run's status take."""
    return {**run, "status": shown_status(dict(run))}


def listed_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """The runs row `run` (`RunStore.runs`) as `runs` and the dashboard's run list give it:
    its status as shown (`shown_run`) and `claim_check_failed` as a bool, which
    `listed_status` puts in words beside the status."""
    return {**shown_run(run), "claim_check_failed": bool(run["claim_check_failed"])}


def listed_status(run: Mapping[str, Any]) -> str:
    """A `listed_run`'s status in words (`status_text`), the one way `runs` and the
    dashboard's run list print it: `completed, claim check failed`, never a plain
    `completed`, for a run whose product failed its claim check, nor for one that scrapped a
    wafer (its `completed` and `scrapped` counts of wafers); with the wait for a clear,
    the terminate under way and the faults injected that its reader found
    (`waiting_for_clear`, `terminating`, `faults_injected`)."""
    return status_text(
        run["status"],
        run["claim_check_failed"],
        waiting=run.get("waiting_for_clear"),
        terminating=run.get("terminating"),
        injected=run.get("faults_injected", ()),
        wafers_completed=run["completed"],
        wafers_scrapped=run["scrapped"],
    )


def is_cut_off(run: Mapping[str, Any]) -> bool:
    """Whether `run` (a runs row, its status as shown) was cut off: no end recorded, and no
    process driving it (`interrupted`)."""
    return run["stopped_t"] is None and run["status"] not in DRIVEN


def last_record(
    steps: Sequence[Mapping[str, Any]],
    began: tuple[float, float],
    session: int | None = None,
) -> tuple[float, float]:
    """The run clock's and the wall clock's time of a run's last step record (of `session`'s
    alone, when given), or when it `began` (run clock, wall) if that is later: where a run or
    session cut off, with no end recorded, was at least (its events may reach later: where a
    resume continues its run clock is `RunStore.records_end_t`, which counts them)."""
    times = [began]
    for step in steps:
        if session in (None, step["session"]):
            times.append((step["started_t"], step["started_wall"]))
            if step["stopped_t"] is not None:
                times.append((step["stopped_t"], step["stopped_wall"]))
    return max(t for t, _ in times), max(wall for _, wall in times)


def cut_off_reason(steps: Sequence[Mapping[str, Any]], labels: Mapping[int, str]) -> str:
    """Where a wafer of a run cut off stood (`where_it_stands`, a step `interrupted` by the
    start of a later session that was cut off in turn still unfinished): `cut off in form
    bumps`, `cut off after unload from laminator`, `cut off before its first step`; what `show`
    and `wafer` give for its reason, beside `interrupted` where the records still say
    `running`."""
    return f"cut off {where_it_stands(steps, labels, unfinished=('running', INTERRUPTED))}"


def where_it_stands(
    steps: Sequence[Mapping[str, Any]],
    labels: Mapping[int, str],
    unfinished: Collection[str] = ("running",),
) -> str:
    """Where a wafer stands, from its `steps` in the order they started (each named by its
    label in `labels`): `in` the last it started, if that has not finished (its status is one
    of `unfinished`), else `after` it, or `before its first step` (queued for its first tool).
    What `show` and `wafer` say of a wafer still under way (a run still driven), and of one a
    run cut off left so (`cut_off_reason`)."""
    if not steps:
        return "before its first step"
    last = steps[-1]
    where = "in" if last["status"] in unfinished else "after"
    return f"{where} {labels[last['id']]}"


def status_text(
    status: str,
    claim_check_failed: bool,
    *,
    waiting: Mapping[str, Any] | None = None,
    terminating: Mapping[str, Any] | None = None,
    injected: Sequence[Mapping[str, Any]] = (),
    wafers_completed: int = 0,
    wafers_scrapped: int = 0,
) -> str:
    """A run's status as `runs`, `show`, the dashboard and a run's summary print it: with
    `, claim check failed` when its product failed the claim check (the run exited 1 though
    its wafers completed), so a run that made a wrong product never reads plain `completed`;
    with what the lot lost when it scrapped a wafer (`wafers_completed` and `wafers_scrapped`,
    where its reader counted them; a completed run's wafers are completed or scrapped): `, 1
    of 2 wafers scrapped`, or `, every wafer scrapped` when none completed (a run whose last
    held wafer is scrapped is `completed`, yet it exited 1; a lot of 2 scrapped had read
    `completed` beside `2 (0 done, 0 held, 2 scrapped)`, one of 2 whose W01 was scrapped a
    plain `completed` in `show`, its summary and its report);
    with what a running run waits for (`waiting`, `clearances.ClearWait.as_json`: `running,
    waiting for a clear of plasma_cleaner since 14:58:03`, decision 0104); with the terminate
    it is carrying out (`terminating`, `control.Terminating.as_json`: `running, terminating
    since 14:58:03 by bo: each wafer stops at its next step boundary`); and with each
    fault an operator injected on its tools (`injected`, `injected_faults.faults_injected`:
    `; fault injected: plasma_cleaner rf_mismatch`, decision 0103; one cleared since, `...
    rf_mismatch (cleared)`), so that the alarms it raised are not read as the tools' own, nor
    a fault cleared as one still there."""
    text = f"{status}, claim check failed" if claim_check_failed else status
    if status == "completed" and (lost := scrapped_text(wafers_completed, wafers_scrapped)):
        text += f", {lost}"
    for under_way in (waiting, terminating):
        if under_way:
            text += f", {under_way['text']}"
    named = list(
        dict.fromkeys(
            f"{each['tool']} {each['fault']}{' (cleared)' if each.get('cleared') else ''}"
            for each in injected
        )
    )
    if named:
        text += f"; fault{'s' if len(named) > 1 else ''} injected: {', '.join(named)}"
    return text


def scrapped_text(wafers_completed: int, wafers_scrapped: int) -> str:
    """What a completed lot lost (`status_text`, and its `run-finished` event's message):
    `1 of 2 wafers scrapped`, `every wafer scrapped` when none completed, or nothing."""
    if not wafers_scrapped:
        return ""
    if not wafers_completed:
        return EVERY_WAFER_SCRAPPED
    return f"{wafers_scrapped} of {wafers_completed + wafers_scrapped} wafers scrapped"


def driver_text(run: dict[str, Any]) -> str:
    """Who drives the run, for messages: 'process 1234 on host line-pc'."""
    return f"process {run['pid']} on host {run['host']}"


def run_clock(
    run: Mapping[str, Any],
    events: Iterable[Mapping[str, Any]],
    steps: Iterable[Mapping[str, Any]],
    now_wall: float,
) -> tuple[float, float]:
    """The run clock of a run being driven (its row of the runs table, its events and steps,
    of every session or of the latest alone) where its latest session began and now, from its
    records alone: on a station the wall clock since that session began, in a dry run the
    latest step record's time (the run clock continues across sessions, engine.md,
    *Checkpoints and resume*: an earlier session's steps are no later than this one's start)."""
    session = run["sessions"]
    began = [e for e in events if e["kind"] == "run-started" and e["session"] == session]
    start_t, start_wall = (
        (began[-1]["t"], began[-1]["wall"]) if began else (run["started_t"], run["started_wall"])
    )
    if not run["simulated"]:
        return start_t, start_t + now_wall - start_wall
    return start_t, last_record(list(steps), (start_t, start_wall))[0]
