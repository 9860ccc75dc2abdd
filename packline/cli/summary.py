"""A run's outcome as printed when it ends and by `packline show`: each wafer's outcome, the
clocks, and the claim check of the simulated product."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from packline.rendering import DataTable, counted_sites
from packline.sequences.engine.claim_check import (
    COMPLETED_ONLY,
    located_margin_text,
    nothing_checked,
)
from packline.sequences.engine.cut_off import last_own_record_wall
from packline.sequences.engine.dispositions import resume_command
from packline.sequences.engine.eta import current_pause
from packline.sequences.engine.left_on_tools import left_report, left_text
from packline.sequences.engine.liveness import DRIVEN, is_cut_off, last_record, status_text
from packline.sequences.engine.plan import (
    decision_texts,
    releases_carried_out,
    reworks_carried_out,
)
from packline.sequences.engine.progress import clock_text, for_database
from packline.sequences.engine.recorded_station import process_time
from packline.sequences.engine.records import RunStore, db_option
from packline.sequences.engine.report import (
    MEASURED,
    NOT_MEASURED,
    NOT_RUN,
    before_after,
    run_report,
)


def summary_report(store: RunStore, run_id: str) -> dict[str, Any]:
    """Run `run_id`'s report (`run_report`) with what its summary says beyond it: the wafers
    it left on its tools and the resume that takes them off (`left_on_tools`, `left_report`;
    None when it left none), for `show` (text and `--json`) and the end of `run` and `resume`
    (their summary and its JSON line) alike; and each wafer's steps a resume accepted as done
    on an operator's release (`released`, `releases_carried_out`) and each rework of it a
    resume carried out (`reworked`, `reworks_carried_out`), which its outcome alone does not
    say: a wafer released past a dicing its saw's broken blade cut short reads `completed`,
    its dies never cut apart."""
    report = run_report(store, run_id)
    releases = releases_carried_out(store, run_id)
    reworks = reworks_carried_out(store, run_id)
    wafers = [
        {
            **w,
            "released": releases.get(w["wafer"], []),
            "reworked": reworks.get(w["wafer"], []),
        }
        for w in report["wafers"]
    ]
    return {**report, "wafers": wafers, "left_on_tools": left_report(store, run_id)}


def outcome_note(wafer: dict[str, Any]) -> str:
    """What a wafer's row says beside its status (`summary_report`'s wafer): its reason, each
    step of it accepted as done on a release (`released_text`) and each rework of it carried
    out (`reworked_text`), as the reason column of the summary and the title of `show`'s
    timeline of it give them."""
    decided = decision_texts(wafer["released"], wafer["reworked"])
    return "; ".join([*([wafer["reason"]] if wafer["reason"] else []), *decided])


def print_summary(
    console: Console, report: dict[str, Any], store: RunStore, *, resume_advised: bool = False
) -> None:
    """Per wafer: outcome, time on the line (on the line's process clock, as `diff` compares
    it: a served line's labelled so, `process_label`), and the twin's before/after metrics
    (dry run); then the clocks, what the run left on its tools (`report`:
    `summary_report`), and the resume that goes on where nothing drives it (`resume_text`),
    unless `resume_advised`: the caller names the resume after the summary itself (`run` and
    `resume` whose held wafers' advice ends with it, `what_held_wafers_need`), which says
    more, so that it is named once."""
    run = report["run"]
    scale = run["time_scale"]
    metrics = sorted({name for w in report["wafers"] for name in before_after(w)})
    table = DataTable(
        "wafer",
        "status",
        f"time on line{process_label(scale)}",
        *[f"{m} before → after" for m in metrics],
        "reason",
        title=f"{run['method']}  run {run['id']}  {shown_run_status(report)}",
    )
    for wafer in report["wafers"]:
        pairs = before_after(wafer)
        cells = []
        for name in metrics:
            before, after, unit = pairs.get(name, (None, None, ""))
            cells.append(
                "-"
                if before is None
                else f"{before:.2f} → {'-' if after is None else f'{after:.2f}'} {unit}"
            )
        table.add_row(
            wafer["wafer"],
            wafer["status"],
            clock_text(process_time(wafer["cycle_time_s"], scale)),
            *cells,
            for_database(outcome_note(wafer), db_option(store.path)),
        )
    console.print(table)
    if run["error"]:
        console.print(f"error: {run['error']}", markup=False, highlight=False)
    console.print(
        f"{clocks_text(report)}; records in {store.path} (packline show {run['id']}"
        f"{db_option(store.path)})",
        markup=False,
        highlight=False,
    )
    if left := left_text(report["left_on_tools"]):
        console.print(left, markup=False, highlight=False, soft_wrap=True)
    if not resume_advised and (resume := resume_text(store, run)):
        console.print(resume, markup=False, highlight=False, soft_wrap=True)


def resume_text(store: RunStore, run: dict[str, Any]) -> str:
    """What the summary (at the end of `run` and `resume`, and in `show`) says of run `run`
    (its report's run, its status as shown) that nothing drives and a resume continues: how
    it stands (`cut off`, or the status it ended with) and the `packline resume` that goes
    on, with `--db` where the records are not the default; '' for a run still driven and one
    with nothing to resume (`nothing_to_resume`, the resume's own test: a run that ended
    terminated, aborted or failed with wafers left to run, held with a wafer released,
    reworked or whose tool was cleared, or one that left a wafer on a tool or a tool only its
    recovery brings back, is continued). It had been said of a run cut off alone, then by
    `show` alone of one that ended: a run terminated at its terminal ended on its claim
    check, no resume named."""
    if run["status"] in DRIVEN:
        return ""
    if is_cut_off(run):
        stands = "cut off"
    else:
        from packline.sequences.engine.launch import nothing_to_resume  # a run that ended

        if nothing_to_resume(store, run) is not None:
            return ""
        stands = run["status"]
    resume = resume_command(store, run["id"], db_option=db_option(store.path))
    return (
        f"{stands}, nothing drives it: {resume} goes on from its records "
        "(docs/engine.md, Checkpoints and resume)"
    )


def process_label(time_scale: float) -> str:
    """What a run's times shown on the line's process clock (`process_time`) add to their
    heading: nothing where the run clock is the process clock (a dry run's simulated time,
    real tools' wall time); ' (process time)' on a line served faster than real time, whose
    run clock is the controller's wall time (a wafer's 0:00:05 on the line had stood beside
    its 180 s plasma clean)."""
    return "" if time_scale == 1.0 else " (process time)"


def shown_run_status(report: dict[str, Any]) -> str:
    """The run's status with its claim check's failure, the wafers it scrapped, its wait
    for a clear, the terminate under way and the faults injected on its tools
    (`status_text`), as the summary and `show` print it (`show` of a run being terminated
    had read plain `running` where `runs` said it was terminating)."""
    run = report["run"]
    statuses = [wafer["status"] for wafer in report["wafers"]]
    return status_text(
        run["status"],
        report["claim_check"]["status"] == "failed",
        waiting=run["waiting_for_clear"],
        terminating=run["terminating"],
        injected=run["faults_injected"],
        wafers_completed=statuses.count("completed"),
        wafers_scrapped=statuses.count("scrapped"),
    )


def clocks_text(report: dict[str, Any]) -> str:
    """How long the run took, by its own clock and by the wall clock, each named for what it
    is: simulated time in a dry run; the controller's wall clock on a line served faster than
    real time (its process time beside it); the wall time from the run's start to its end
    (not the command's set-up and summary; of a resumed run, how much of it its sessions
    drove, `driven_text`), or so far for a run still driven, and for a paused one how long it
    has been paused; of a run cut off, both up to its last record: the run clock where its
    records end (`RunStore.records_end_t`, as the report's `duration_s`), the wall clock at
    its last record of its own (`last_own_record_wall`, as its `session-cut-off` names it)."""
    run, duration = report["run"], report["duration_s"]
    cut_off = is_cut_off(run)
    scale = run["time_scale"]
    if run["simulated"]:
        clock = f"simulated time {clock_text(duration)}"
    elif scale != 1.0:
        clock = (
            f"run clock {clock_text(duration)} of wall time, process time on the line "
            f"{clock_text(process_time(duration, scale))} (served at time x{scale:g})"
        )
    else:
        clock = f"process time {clock_text(duration)}"
    end, end_wall = "end", run["stopped_wall"]
    if cut_off:
        clock += " when cut off"
        end_wall = last_own_record_wall(run, report["steps"], report["events"])
        end = "its last record (no end recorded: cut off)"
    if end_wall is not None:
        wall = f"{end_wall - run['started_wall']:.1f} s wall from start to {end}"
        if run["sessions"] > 1:
            wall += f" ({driven_text(report)})"
    elif run["status"] in DRIVEN:
        now = time.time()
        wall = f"{clock_text(now - run['started_wall'])} wall so far"
        if run["status"] == "running":
            wall = f"running for {wall}"
        elif (pause := current_pause(report["events"], run["sessions"])) is not None:
            # how long it has stood, beside how long it has gone
            wall = f"paused for {clock_text(now - pause['wall'])}, {wall}"
        else:
            wall = f"paused, {wall}"
    return f"{clock}, {wall}"


def driven_text(report: dict[str, Any]) -> str:
    """How much of a resumed run's wall time its sessions drove it, the rest the time between
    them, when nothing drove it. On a station the run clock is the wall time its sessions
    drove it (each continues it from where the last left off), so that is the figure, named
    as the run clock, which a served line's process time multiplies ('2 sessions drove it
    for the run clock's 0:00:08, the rest between them': a figure of its own, 7.6 s, had stood
    beside the run clock's 7.70 s and process time 7:42, on no clock it named). A dry run's
    run clock is simulated time, so its sessions' wall time is their own, each from its
    `run-started` to its `run-finished` event, or, cut off, to its last record: '3 sessions
    drove it 5.1 s of wall time, the rest between them'."""
    run, steps, sessions = report["run"], report["steps"], report["run"]["sessions"]
    if not run["simulated"]:
        driven = f"for the run clock's {clock_text(report['duration_s'])}"
    else:
        events = report["events"]
        started = {e["session"]: (e["t"], e["wall"]) for e in events if e["kind"] == "run-started"}
        finished = {e["session"]: e["wall"] for e in events if e["kind"] == "run-finished"}
        seconds = sum(
            (finished[n] if n in finished else last_record(steps, began, n)[1]) - began[1]
            for n, began in started.items()
        )
        driven = f"{seconds:.1f} s of wall time"
    return f"{sessions} sessions drove it {driven}, the rest between them"


def print_claim_check(console: Console, check: dict[str, Any]) -> None:
    """The claim check of the product: one row per condition, then the verdict (a violation
    names its claims); on a station one line saying what its measurements checked,
    and one line too when it checked nothing (a table of conditions checked on no wafer,
    each `not checked`, told a failed dry run's user nothing the summary above had not)."""
    if check["status"] in (MEASURED, NOT_MEASURED, NOT_RUN):
        console.print(f"claim check: {check['note']}", markup=False, highlight=False)
        return
    if nothing_checked([c["verdict"] for c in check["conditions"]]):
        console.print(
            f"claim check {check['status']}: {check['note']}", markup=False, highlight=False
        )
        return
    table = DataTable(
        "claim",
        "condition",
        "checked",
        "passing",
        "worst site, limit: margin",
        "verdict",
        title="claim check of the simulated product",
    )
    for c in check["conditions"]:
        table.add_row(
            c["claim"],
            c["condition"],
            counted_sites(c["sites_checked"], c["counted"]),
            f"{c['sites_passing']:,}",
            located_margin_text(c),
            c["verdict"] if c["verdict"] != "fail" else f"FAIL ({', '.join(c['failing_wafers'])})",
        )
    console.print(table)
    if check["unchecked_wafers"]:
        console.print(
            f"not checked (did not complete): {', '.join(check['unchecked_wafers'])}",
            markup=False,
            highlight=False,
        )
    verdict = check["status"].upper() if check["status"] == "failed" else check["status"]
    if check["unchecked_wafers"]:
        verdict += COMPLETED_ONLY
    tail = f": {check['note']}" if check["note"] else ""
    console.print(f"claim check {verdict}{tail}", markup=False, highlight=False)


#: The keys of `show --json` and `wafer --json` whose text is a recipe as it was given (a
#: comment of which may quote a command), never rewritten by `advised_for_database`.
_AS_GIVEN = frozenset({"recipe", "recipe_json"})


def advised_for_database(value: Any, db: str) -> Any:
    """`value` (`show --json`'s report, `wafer --json`'s history, a run's `--json` summary's
    wafers) with each packline command a record's text advises given the database read
    (`db`, `for_database`), as the text output prints it: a clear pasted from `--json` had
    gone to the default database. A recipe's own text (`_AS_GIVEN`) is left as given."""
    if not db:
        return value
    if isinstance(value, str):
        return for_database(value, db)
    if isinstance(value, list):
        return [advised_for_database(item, db) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key in _AS_GIVEN else advised_for_database(item, db)
            for key, item in value.items()
        }
    return value
