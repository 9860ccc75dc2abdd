"""A run as a report: what `packline show RUN` prints and the summary after `packline run`.

Built from the records only, so it reads the same during a run, after it, and after a crash.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .claim_check import margin_columns, overall, unchecked_wafers, what_did_not_pass
from .clearances import clear_wait, service_event
from .confirmations import CONFIRMATION_ASKED, answers_to_asks, confirmations_asked
from .control import terminating_json
from .dispositions import decisions_made, replaced_decisions, replaced_in_run
from .events import of_the_stopped_run
from .injected_faults import faults_injected
from .liveness import (
    DRIVEN,
    INTERRUPTED,
    cut_off_reason,
    is_cut_off,
    run_clock,
    shown_run,
    where_it_stands,
)
from .progress import for_database
from .recorded_station import line_text, time_scale_of
from .records import RunStore
from .schedule import COUNTED_KINDS
from .stage import HOLDING_KINDS
from .verdicts import FAIL, RECORDED, measurement_verdict, with_verdict
from .wafer_status import RECORDED_UNDER_WAY, recorded_wafer_status

#: The claim check's margin columns.
MARGIN_COLUMNS = tuple(margin_columns(None, None))

#: A station run's claim check status: some measurement was judged against its limits, or
#: none was (`station_claim_check`).
MEASURED, NOT_MEASURED = "measured", "not measured"
#: A dry run's claim check status while none is recorded (`_why_no_claim_check` says why).
NOT_RUN = "not run"


def station_claim_check(verdicts: Iterable[str]) -> tuple[str, str]:
    """A station run's claim check (real tools, or a simulated line another process serves,
    whose twin stays in that process) as its status and note, from the verdicts of the run's
    measurements (`measurement_verdict`). With no twin, no claim condition is checked site by
    site: what was checked is each measurement the sequence took against its limits, which
    the note counts and says is not every condition of the claims, lest a reader take
    'measured' for 'the claims hold' (a run whose measurements carried no limits, or that took
    none, checked nothing: `not measured`)."""
    judged = [verdict for verdict in verdicts if verdict != RECORDED]
    if not judged:
        return NOT_MEASURED, (
            "a station run: no twin to check the claim conditions on, and no measurement was "
            "judged against limits, so nothing checked them (a dry run checks them on the twin)"
        )
    return MEASURED, (
        f"a station run: no twin to check the claim conditions on; {len(judged)} "
        f"measurement(s) of the sequence judged against their limits, {judged.count(FAIL)} "
        "outside them (see the measurements): they check what the tools measure, not every "
        "condition of the claims (a dry run checks those on the twin)"
    )


def run_confirmations(
    store: RunStore, run: dict[str, Any], events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every operator confirmation asked in run `run` (its runs row) with what became of it
    (`confirmations_asked`, of its `events` as `RunStore.events` reads them): one nothing
    ended waits for its answer while a process drives the run (its status as shown)."""
    return confirmations_asked(store.table("confirmations", run["id"]), events, driven=_driven(run))


def run_confirmation_answers(
    store: RunStore, run: dict[str, Any], events: list[dict[str, Any]]
) -> dict[int, str]:
    """What became of each confirmation asked in run `run` (its runs row), by its ask's event
    id among its `events` (`answers_to_asks`), paired as `run_confirmations` pairs them."""
    return answers_to_asks(store.table("confirmations", run["id"]), events, driven=_driven(run))


def shown_event(event: Mapping[str, Any], answers: Mapping[int, str], db: str) -> dict[str, Any]:
    """A run's `event` (a `RunStore.events` row, data read) as every list of events shows it
    (`show`, the report): of a confirmation asked, what became of it as its status (`answers`,
    `run_confirmation_answers`: one answered in advance had read as asked and unanswered);
    each command its message advises for the database read (`db`, `records.db_option`:
    `for_database`); and `made_wall`, the time of day of one recorded while no session drove
    the run (`of_the_stopped_run`: a clear, a disposition, a fault told the stopped run), whose
    run clock stands still at the run's end, else None."""
    asked = event["kind"] == CONFIRMATION_ASKED
    return {
        **event,
        "status": answers.get(int(event["id"]), event["status"]) if asked else event["status"],
        "message": for_database(event["message"], db),
        "made_wall": event["wall"] if of_the_stopped_run(event) else None,
    }


def _driven(run: dict[str, Any]) -> bool:
    """Whether a process drives run `run` (its status as shown): a confirmation nothing ended
    waits for its answer then, and was cut off otherwise."""
    return shown_run(run)["status"] in DRIVEN


def first_steps(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each wafer's first step (the record, with its run clock `started_t` and wall clock
    `started_wall`), from a run's step records: a wafer is on the line from its start
    (docs/engine.md), not from its task's start, the run's; a wafer that started no step has
    none."""
    first: dict[str, dict[str, Any]] = {}
    for step in (s for s in steps if s["kind"] in COUNTED_KINDS):
        before = first.get(step["wafer_id"])
        if before is None or step["started_t"] < before["started_t"]:
            first[step["wafer_id"]] = step
    return first


def first_step_starts(steps: list[dict[str, Any]]) -> dict[str, float]:
    """When each wafer's first step started (run clock, `first_steps`)."""
    return {wafer: step["started_t"] for wafer, step in first_steps(steps).items()}


def clock_stands_at(store: RunStore, run: Mapping[str, Any], steps: list[dict[str, Any]]) -> float:
    """Where the run's clock stands (run clock): at the run's end; of a run cut off, where
    its records end (`RunStore.records_end_t`: its last step record or event), where a resume
    continues its run clock; of one still driven, now."""
    if is_cut_off(shown_run(run)):
        return store.records_end_t(run)
    if run["stopped_t"] is not None:
        return float(run["stopped_t"])
    return run_clock(dict(run), store.events(run["id"]), steps, time.time())[1]


class OnLine(NamedTuple):
    """When a wafer was on the line, by the run clock (`time_on_line`): from, to (None where
    not known)."""

    started: float | None
    stopped: float | None

    @property
    def seconds(self) -> float | None:
        """How long it was on the line, where both ends are known."""
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started


def time_on_line(
    wafer: Mapping[str, Any],
    first_step_t: Mapping[str, float],
    taken_off_t: Mapping[str, float],
    run: Mapping[str, Any],
    end_t: float,
) -> OnLine:
    """When a wafer (its `wafers` record) was on the line, by the run clock, as `show`, the
    summary, the report and the export give it: from its first step's start
    (`first_step_starts`; not its task's start, the run's: a wafer queued behind the lot, or
    one that never started, has not been on the line) to its stop, or to a recovery's unload
    of it after its stop (`taken_off_t`, `recovery_unloads`: the wafer an abort left in a tool
    was on the line until a resume's recovery took it out); one with no stop yet, of a run
    not ended, is on it until the cut or so far (`end_t`, `clock_stands_at`). Its time on the
    line is the second less the first, where both are known (`OnLine.seconds`)."""
    stopped = wafer["stopped_t"]
    if stopped is None and run["stopped_t"] is None:
        stopped = end_t
    taken_off = taken_off_t.get(wafer["wafer_id"])
    if stopped is not None and taken_off is not None:
        stopped = max(stopped, taken_off)
    return OnLine(first_step_t.get(wafer["wafer_id"]), stopped)


def step_order(steps: list[dict[str, Any]]) -> Callable[[dict[str, Any]], tuple[float, ...]]:
    """A sort key that lays one wafer's records out step by step: each step by its start (by
    the run clock, then the wall clock: steps of a dry run start at one instant of its clock),
    and each measurement, alarm or confirmation (a row with `step_id`, `t` and `wall`) right
    after the step that recorded it, whenever it was recorded. A step's measurements are
    recorded as it ends, the instant the next steps start: by time alone they read as the
    next steps'. A row of no step among `steps` falls in where it was recorded, by its own
    time (an operator's confirmation between two steps)."""
    started = {s["id"]: (s["started_t"], s["started_wall"]) for s in steps}

    def key(row: dict[str, Any]) -> tuple[float, ...]:
        if "step_id" not in row:  # a step
            return (row["started_t"], row["started_wall"], 0, 0)
        step_id = row["step_id"]
        if step_id in started:
            return (*started[step_id], 1, row["t"])
        return (row["t"], row["wall"], 1, row["t"])

    return key


#: What a wafer's timeline calls its hold for want of a tool (`tool_waits`).
HELD_FOR_A_TOOL = "held for want of a tool"


def held_for_want_of_a_tool(event: Mapping[str, Any]) -> bool:
    """Whether a run's event (`RunStore.events`, data read) is a wafer's hold for want of a
    tool: its `held` event says `tool_unavailable` (a `ToolUnavailable`: no tool of a kind it
    asked for was given to it, nothing happened to it on that tool)."""
    return event["kind"] == "held" and bool(event["data"].get("tool_unavailable"))


def tool_waits(
    events: Sequence[dict[str, Any]], steps: Sequence[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Each wafer's holds for want of a tool (its `held` event says `tool_unavailable`: no
    tool of a kind it needed was in service), and what ran it again, as rows of its timeline
    (`show`, `wafer`), where its steps alone had left a gap and no reason: the hold, with its
    reason; the first event after it that brought back in service one of the tools it waited
    for (the hold's `tools`; of a hold recorded before it named them, those out of service
    then; `clearances.service_event`): a clear, or a resume's recovery of a tool whose
    recovery had failed; and the resume that ran it again, where a later session did (also
    after a hold that waited for no tool out of service: none was given to it within the
    tool wait). Read from the run's events (`RunStore.events`, in time order), once for every
    wafer (a lot of 200 had read them 200 times), and each wafer's step records after the
    hold (where it ran again); no record of its own. Wafer id -> its rows (a wafer never
    held for a tool has none), each: `t` and `wall` (where it falls among the steps,
    `step_order`), `what`, `detail`, `status`."""
    own: dict[str, list[dict[str, Any]]] = {}  # each wafer's steps, by start
    for step in sorted(steps, key=lambda step: step["started_wall"]):
        if step["kind"] != "batch":
            own.setdefault(step["wafer_id"], []).append(step)
    sessions = {e["session"]: e for e in events if e["kind"] == "run-started"}
    out: dict[str, dict[str, Any]] = {}
    holds: list[tuple[dict[str, Any], set[str]]] = []  # each hold, the tools it waited for
    backs: list[tuple[dict[str, Any], str]] = []  # each event that brought a tool back
    for event in events:
        back = service_event(out, event)
        if back is not None:
            backs.append((event, back))
        if held_for_want_of_a_tool(event):
            holds.append((event, set(event["data"].get("tools", out))))
    rows: dict[str, list[dict[str, Any]]] = {}
    for hold, tools in holds:
        wafer_rows = rows.setdefault(hold["wafer_id"], [])
        wafer_rows.append(_wait_row(hold, HELD_FOR_A_TOOL, hold["message"], "held"))
        after = (s for s in own.get(hold["wafer_id"], []) if s["started_wall"] >= hold["wall"])
        again = next(after, None)
        brought = next((e for e, tool in backs if e["id"] > hold["id"] and tool in tools), None)
        if brought is not None:
            tool = brought["tool"]
            what = f"{tool} cleared" if brought["kind"] == "tool-cleared" else f"{tool} recovered"
            if again is not None and again["session"] == brought["session"]:
                status = "back in service: runs the wafer again"
            elif again is not None or "run_status" in brought["data"]:  # while the run stopped
                status = "back in service for the run's resume"
            else:
                status = "back in service"
            wafer_rows.append(_wait_row(brought, what, brought["message"], status))
        resume = sessions.get(again["session"]) if again is not None else None
        if resume is not None and again is not None and again["session"] > hold["session"]:
            resumed = brought is not None and brought["session"] == resume["session"]
            status = "resumed" if resumed else "runs the wafer again"
            wafer_rows.append(_wait_row(resume, "run resumed", resume["message"], status))
    return rows


def recovery_unloads(events: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each wafer's unloads by a tool's recovery (its `tool-recovered` event names what it
    took off, data `taken_off`: a wafer a stop left on the tool, taken off by the
    terminate's recovery, a failed stage's, or a resume's), as rows of its timeline (`show`,
    `wafer`), where its steps alone had ended before it was out of the tool, with its time:
    `t` and `wall`, `what` (`taken off plasma_cleaner`), `detail` (the event's message) and
    `status` (which session's recovery). Read from a run's events (`RunStore.events`); wafer id
    -> its rows (a wafer no recovery took off has none). Its latest unload ends its time on
    the line where it came after its stop (`time_on_line`)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event["kind"] != "tool-recovered":
            continue
        for wafer_id in event["data"].get("taken_off", []):
            what = f"taken off {event['tool']}"
            status = f"by the recovery of session {event['session']}"
            rows.setdefault(wafer_id, []).append(_wait_row(event, what, event["message"], status))
    return rows


def holds_and_decisions(events: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each wafer's holds but those for want of a tool (its `held` events: a step that failed,
    a confirmation declined; `tool_waits` gives the others, with what ran it again) and the
    operator's decisions on it (its `disposition` events: a release, a rework, a scrap, as
    decided, not the resume's carrying one out; `replaced` where a later decision replaced
    it before a resume, `replaced_decisions`), as rows of its timeline (`show`, `wafer`),
    rows as `tool_waits`'s: a trial's scrapped wafer's timeline had ended at its last step,
    with no hold and no scrap in it. Read from a run's events (`RunStore.events`); wafer id ->
    its rows."""
    decided = decisions_made(events)
    replaced = replaced_decisions(decided)
    made = {int(event["id"]) for event in decided}
    rows: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event["wafer_id"] is None:
            continue
        if event["kind"] == "held" and not held_for_want_of_a_tool(event):
            row = _wait_row(event, "held", event["message"], "held")
        elif int(event["id"]) in made:
            status = "replaced" if int(event["id"]) in replaced else "decided"
            row = _wait_row(event, "disposition", event["message"], status)
        else:
            continue
        rows.setdefault(event["wafer_id"], []).append(row)
    return rows


def taken_off_at(unloads: Mapping[str, list[dict[str, Any]]]) -> dict[str, float]:
    """When each wafer was last taken off a tool by a recovery (`recovery_unloads`), by the
    run clock: where its time on the line ends, if after its stop (`time_on_line`)."""
    return {wafer_id: max(row["t"] for row in rows) for wafer_id, rows in unloads.items()}


def _wait_row(event: dict[str, Any], what: str, detail: str, status: str) -> dict[str, Any]:
    """A row of a wafer's timeline read from a run's `event` (`tool_waits`): of no step, at
    the event's clocks; `made_wall`, the time of day of one made while no session drove the
    run (`of_the_stopped_run`: a tool cleared then; None otherwise), which its run clock,
    standing still at the run's end, does not tell."""
    return {
        "step_id": None,
        "t": event["t"],
        "wall": event["wall"],
        "made_wall": event["wall"] if of_the_stopped_run(event) else None,
        "what": what,
        "detail": detail,
        "status": status,
    }


def step_labels(steps: Sequence[dict[str, Any]]) -> dict[int, str]:
    """Step record id -> what a run's step is called wherever a person reads it (`show`'s
    timeline, the report's table of measurements, its maps and Gantt, the rows of `diff` and
    `spc --step`): its name, or `<name> #<n>` when the method's script runs a step of that name
    more than once in the run (sprout-bump-csp's `inspect bump heights #1` and `#2`, a level of
    bumps each; the plasma chamber's `open door #1` to `#6`), n counting from 1 (its key,
    `name#occurrence`, counts from 0). A step done again (its rework) keeps its key, so its
    label."""
    keys_of: dict[str, set[str]] = {}
    for step in steps:
        keys_of.setdefault(step["name"], set()).add(step["key"])
    return {
        step["id"]: (
            f"{step['name']} #{step_occurrence(step['key']) + 1}"
            if len(keys_of[step["name"]]) > 1
            else step["name"]
        )
        for step in steps
    }


def step_occurrence(key: str) -> int:
    """Which of the script's steps of its name a step's key (`name#occurrence`) is, from 0."""
    return int(key.rpartition("#")[2])


def step_name(key: str) -> str:
    """The name of the script's step whose key (`name#occurrence`) is `key`."""
    return key.rpartition("#")[0]


def measurement_labels(taken: Sequence[tuple[str, str | None]]) -> list[str]:
    """What each of a run's measurements `taken` (its name, and the label of the step that
    took it, `step_labels`; None for a wafer's own) is called where they are listed by name (a
    wafer's in the run's report, a row of `diff`, a column of the report's chart, what `spc`
    charts apart): its name, or `<name> at <step>` when several steps take that name, each its
    own process: steps of different names (two-process-via's plasma process time of its
    descum, 300 s, and of its dry etch, 480 s), or each run of a step the method's script runs
    more than once (sprout-bump-csp's bump heights at each level of its bumps: 'bump height
    max at inspect bump heights #2'), where the later would hide the earlier. A step done
    again (its rework) keeps its label, so its measurement too (`measurement_attempts` tells
    those apart)."""
    steps_of: dict[str, set[str | None]] = {}
    for name, step in taken:
        steps_of.setdefault(name, set()).add(step)
    return [
        f"{name} at {step}" if step is not None and len(steps_of[name]) > 1 else name
        for name, step in taken
    ]


def measurement_attempts(taken: Sequence[Hashable]) -> list[int | None]:
    """Which attempt each of measurements `taken` is, in record order, each given by what
    makes two of them one measurement taken again (its wafer, name and the key of the step
    that took it): 1, 2... where the wafer has it more than once (a step measured again by its
    rework), else None: a measurement taken once reads as it always did."""
    totals = Counter(taken)
    seen: Counter[Hashable] = Counter()
    attempts: list[int | None] = []
    for key in taken:
        seen[key] += 1
        attempts.append(seen[key] if totals[key] > 1 else None)
    return attempts


def attempt_text(attempt: int | None) -> str:
    """' (attempt 2)' after a measurement taken more than once, nothing after one taken once."""
    return "" if attempt is None else f" (attempt {attempt})"


def shown_wafer(
    wafer: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    labels: Mapping[int, str],
    run: Mapping[str, Any],
) -> tuple[str, str | None]:
    """A wafer's status and reason as `show`, `wafer` and `runs` give them, of `run` (its runs
    row, its status as shown, `shown_run`): as recorded once it is final; of a run cut off, one
    it left under way (recorded `running`, which no process drives) `interrupted`, with where it
    stood (`cut_off_reason`); of a run still driven, what it is doing, in the live view's words
    (`recorded_wafer_status`: the records say `running` from its task's start, queued, paused
    or between two steps though it be), with where it stands (`where_it_stands`), and for one
    in a step the pause waits for, that the pause does (`IN_STEP_AT_PAUSE`), and for one in a
    stage, that it finishes the stage on its tool first (`in_stage_at_pause`). `steps` are the
    run's step records, `labels` their labels (`step_labels`)."""
    own = [step for step in steps if step["wafer_id"] == wafer["wafer_id"]]
    if is_cut_off(run) and wafer["status"] == "running":
        return INTERRUPTED, cut_off_reason(own, labels)
    if run["status"] not in DRIVEN or wafer["status"] not in RECORDED_UNDER_WAY:
        return wafer["status"], wafer["reason"]
    status = recorded_wafer_status(wafer["status"], own, run["sessions"], run["status"])
    where = where_it_stands(own, labels)
    if status == "running" and run["status"] == "paused":
        holding = [
            s["tool"] for s in own if s["kind"] in HOLDING_KINDS and s["status"] == "running"
        ]
        return status, f"{where}{in_stage_at_pause(holding[0]) if holding else IN_STEP_AT_PAUSE}"
    return status, where


#: What `show` adds to where a wafer stands that is in a step while its run is paused: the
#: step goes on to its end (docs/engine.md, *Pause, terminate, abort*).
IN_STEP_AT_PAUSE = ", under way when the run paused: the wafer waits once it ends"


def pause_waits_for(tool: str, wafers: Sequence[str] = (), where: str = "") -> str:
    """What a pause waits for of a stage on `tool` under way as it is taken: its wafers
    (a batch's, named; of one wafer, what it does, the wafer told before it), standing
    `where` they do, finish their steps on the tool, to its unload, before they wait
    (decision 0097)."""
    at = f"{where}; " if where else ""
    if len(wafers) > 1:
        return (
            f"{', '.join(wafers)} finish their batch on {tool} first ({at}their steps on it, to "
            "the unload), then wait"
        )
    return f"finishes its stage on {tool} first ({at}its steps on it, to the unload), then waits"


def in_stage_at_pause(tool: str) -> str:
    """What `show` adds to where a wafer stands that is in a stage on `tool` while its run is
    paused (`pause_waits_for`)."""
    return f", pausing: the wafer {pause_waits_for(tool)}"


#: What `show` and `wafer` say of a step a run cut off left without an end (`shown_steps`).
CUT_OFF_STEP = "cut off: no end recorded (a resume closes it)"


def shown_steps(steps: Sequence[Mapping[str, Any]], cut_off: bool) -> list[Mapping[str, Any]]:
    """A run's step records as `show` and `wafer` give them: as recorded, but of a run
    `cut_off`, a step recorded `running` (no process drives it) reads `interrupted`, as the
    resume that closes it records it, with why (`CUT_OFF_STEP`)."""
    return [
        {**step, "status": INTERRUPTED, "error": CUT_OFF_STEP}
        if cut_off and step["status"] == "running"
        else step
        for step in steps
    ]


def run_report(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run (its status as shown: a running run nobody drives is `interrupted`), its wafers
    (each with its status and reason as shown, `shown_wafer`, and its time on the line up to
    its end or a recovery's later unload of it, the cut, or so far; with their measurements,
    each by its label, `measurement_labels`, and with the `step` that took it: a wafer's latest
    value of each, and of one taken more than once every one in order under `attempts`,
    `wafer_measurements`;
    with its holds for want of a tool and what ran it again, `tool_waits`, and its unloads by
    a tool's recovery, `taken_off`, as `wafer_history` gives them; and the ids of the
    workpieces beside it whose twins the run recorded, `beside`: its board), every step,
    measurement, alarm and disposition recorded, every operator confirmation asked with its
    outcome, answered or not (`confirmations_asked`), the events, the traces' summary, and its run
    clock's duration (`duration_s`: so far for a run still driven, up to where its records end
    for one cut off, `RunStore.records_end_t`), and the tools each session drove as read at
    connect (`tools`: driver, address, identity). The duration is where the run clock stands
    (`clock_stands_at`), whose zero is where the run began (`Engine.t`), before it reached its
    tools and recorded its start (`started_t`): so it is the time the run's last record reads,
    its `run-finished` or a cut-off's `session-cut-off`. Taken from its recorded start, it had
    read short of them by its tools' connect (on a line served at x60, 25 ms of wall time: a
    cut-off event at 0:31:11 of process time, the summary's `0:31:09 when cut off`)."""
    run = store.run(run_id)
    steps = store.steps(run_id)
    measurements = store.table("measurements", run_id)
    step_names = {step["id"]: step["name"] for step in steps}
    labels = step_labels(steps)
    keys = step_keys(steps)
    attempts = measurement_attempts(
        [(m["wafer_id"], m["name"], keys.get(m["step_id"])) for m in measurements]
    )
    taken = measurement_labels([(m["name"], labels.get(m["step_id"])) for m in measurements])
    labelled = [
        (label, step_names.get(m["step_id"]), m, attempt)
        for label, m, attempt in zip(taken, measurements, attempts, strict=True)
    ]
    first_step_t = first_step_starts(steps)
    shown = shown_run(run)
    status = shown["status"]
    cut_off = is_cut_off(shown)
    events = store.events(run_id)
    waits = tool_waits(events, steps)
    unloads = recovery_unloads(events)
    decisions = holds_and_decisions(events)
    taken_off_t = taken_off_at(unloads)
    end_t = clock_stands_at(store, run, steps)
    beside: dict[str, list[str]] = {}
    for row in store.workpieces_beside(run_id):
        beside.setdefault(row["wafer_id"], []).append(row["workpiece_id"])
    wafers = []
    for wafer in store.wafers(run_id):
        own = [entry for entry in labelled if entry[2]["wafer_id"] == wafer["wafer_id"]]
        on_line = time_on_line(wafer, first_step_t, taken_off_t, run, end_t)
        wafer_status, reason = shown_wafer(wafer, steps, labels, shown)
        wafers.append(
            {
                "wafer": wafer["wafer_id"],
                "status": wafer_status,
                "reason": reason,
                "cycle_time_s": on_line.seconds,
                "steps_completed": sum(
                    1
                    for s in steps
                    if s["wafer_id"] == wafer["wafer_id"]
                    and s["status"] == "completed"
                    and s["kind"] != "batch"
                ),
                "measurements": wafer_measurements(own),
                "tool_waits": waits.get(wafer["wafer_id"], []),
                "taken_off": unloads.get(wafer["wafer_id"], []),
                "holds": decisions.get(wafer["wafer_id"], []),
                "beside": beside.get(wafer["wafer_id"], []),
            }
        )
    wait = clear_wait(store, shown)
    return {
        "run": {
            **{k: v for k, v in run.items() if k not in ("recipe_text", "station_yaml")},
            "status": status,
            "line": line_text(run),
            # process time per wall second on the run's line (a `sim serve --time-scale`)
            "time_scale": time_scale_of(run),
            "waiting_for_clear": None if wait is None else wait.as_json(),
            "terminating": terminating_json(store, shown),
            "faults_injected": faults_injected(store, [run_id]).get(run_id, []),
        },
        "recipe": run["recipe_text"],
        "duration_s": end_t,
        "wafers": wafers,
        # each with its label, which the measurements' labels name it by
        "steps": [{**step, "label": labels[step["id"]]} for step in shown_steps(steps, cut_off)],
        "measurements": [with_verdict(m) for m in measurements],
        "alarms": store.table("alarms", run_id),
        "confirmations": run_confirmations(store, run, events),
        "dispositions": dispositions_report(store, run_id),
        "events": events,
        "traces": store.trace_summary(run_id),
        "tools": store.tools(run_id),
        "claim_check": claim_check_report(store, shown, wafers),
    }


def dispositions_report(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """Run `run_id`'s `dispositions` rows, each with the id of the decision that replaced it
    before a resume carried it out (`replaced_by`, `replaced_in_run`; None: it stood): a
    release an operator then changed to a rework had read as made beside the rework."""
    replaced = replaced_in_run(store, run_id)
    return [
        {**row, "replaced_by": replaced[row["id"]]["id"] if row["id"] in replaced else None}
        for row in store.table("dispositions", run_id)
    ]


def step_keys(steps: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Step record id -> the step's key (`name#occurrence`), the same for a step done again."""
    return {step["id"]: step["key"] for step in steps}


def wafer_measurements(
    labelled: Sequence[tuple[str, str | None, dict[str, Any], int | None]],
) -> dict[str, dict[str, Any]]:
    """A wafer's measurements (label, step name, record, attempt; in record order) by label:
    the step that took it, value, unit, the step its instrument read it to (`resolution`,
    None where its records do not say), limits (None where it has none; `low_exclusive` 1
    where the value had to pass `low`, not reach it, 0 where it may reach it, None without a
    low limit or in a row recorded before schema 19), `passed` (None for a value without
    either: nothing judged it), its `verdict` in words (`verdicts`: pass, fail, or recorded,
    as `show` reads it) and source. One taken more than once (a step measured again by its
    rework) is its latest, and every one in order under `attempts`, each with its `attempt`:
    the first try beside the rework."""
    measured: dict[str, dict[str, Any]] = {}
    for label, step, m, attempt in labelled:
        entry: dict[str, Any] = with_verdict(
            {
                "step": step,
                "value": m["value"],
                "unit": m["unit"],
                "resolution": m["resolution"],
                "low": m["low"],
                "low_exclusive": m["low_exclusive"],
                "high": m["high"],
                "passed": m["passed"],
                "source": m["source"],
            }
        )
        if attempt is not None:
            earlier = measured.get(label, {}).get("attempts", [])
            entry["attempts"] = [*earlier, {"attempt": attempt, **entry}]
        measured[label] = entry
    return measured


def wafer_history(store: RunStore, wafer_id: str) -> list[dict[str, Any]]:
    """Everything the records hold about one wafer id, run by run, oldest first: the wafer id,
    the run and its `time_scale` (`time_scale_of`: what its times are multiplied by to read
    as process time on its line, as `show` reads them), the wafer's outcome, its steps,
    measurements, alarms, the operator confirmations asked of it with their outcome,
    answered or not (`confirmations_asked`), and dispositions, its holds for want of a tool
    with what ran it again (`tool_waits`), and its unloads by a tool's recovery
    (`recovery_unloads`); `beside` None.

    An id no lot has may be a workpiece beside a lot's wafer (a wafer's board, a panel's die
    wafer: `RunDatabase.workpieces_beside`), which has no steps of its own: its runs are
    those it was beside a wafer in, `beside` that wafer, its outcome the wafer's, and its
    steps the wafer's at the tools that changed it (`_changed_by`), with their measurements,
    alarms and confirmations (no disposition, hold or unload is of it)."""
    runs = [(run_id, wafer_id) for run_id in store.runs_of_wafer(wafer_id)]
    is_beside = not runs
    if is_beside:
        runs = [(r["run_id"], r["wafer_id"]) for r in store.workpieces_beside(None, wafer_id)]
    history = []
    for run_id, carrier in runs:
        run = store.run(run_id)
        (wafer,) = [w for w in store.wafers(run_id) if w["wafer_id"] == carrier]
        steps = store.steps(run_id)
        kept = _changed_by(store, run_id, wafer_id, steps) if is_beside else None

        def own(
            rows: list[dict[str, Any]],
            step: str = "step_id",
            carrier: str = carrier,
            kept: set[int] | None = kept,
        ) -> list[dict[str, Any]]:
            return [
                r
                for r in rows
                if r["wafer_id"] == carrier and (kept is None or r.get(step) in kept)
            ]

        events = store.events(run_id)
        labels = step_labels(steps)  # the run's, as its report reads them
        shown = shown_run(run)
        run_status = shown["status"]
        cut_off = is_cut_off(shown)
        status, reason = shown_wafer(wafer, steps, labels, shown)
        history.append(
            {
                "wafer_id": wafer_id,
                "beside": carrier if is_beside else None,
                "run_id": run_id,
                "method": run["method"],
                "recipe_hash": run["recipe_hash"],
                "station": run["station_name"],
                "line": line_text(run),
                "lot_id": run["lot_id"],
                "simulated": bool(run["simulated"]),
                "run_status": run_status,
                "started_wall": run["started_wall"],
                "time_scale": time_scale_of(run),
                "status": status,
                "reason": reason,
                "steps": [
                    {**s, "label": labels[s["id"]]}
                    for s in shown_steps(own(steps, "id"), cut_off)
                    if s["kind"] != "batch"
                ],
                "measurements": [with_verdict(m) for m in own(store.table("measurements", run_id))],
                "alarms": own(store.table("alarms", run_id)),
                "confirmations": own(run_confirmations(store, run, events)),
                "dispositions": [] if is_beside else own(dispositions_report(store, run_id)),
                "tool_waits": [] if is_beside else tool_waits(events, steps).get(wafer_id, []),
                "taken_off": [] if is_beside else recovery_unloads(events).get(wafer_id, []),
                "holds": [] if is_beside else holds_and_decisions(events).get(wafer_id, []),
            }
        )
    return history


def _changed_by(
    store: RunStore, run_id: str, workpiece_id: str, steps: Sequence[Mapping[str, Any]]
) -> set[int]:
    """The ids of the steps of run `run_id` (`steps`, its step records) that a workpiece
    beside a wafer was snapshotted with and that are at a tool that changed it: the tool of
    its first snapshot (which brought it onto the line), and of each step whose snapshot
    differs from the one before (a stage's, taken at its end, says nothing of its own). A
    board's are the bonder's steps that loaded, mounted and unloaded it; a die wafer's, those
    of the tools that bumped, diced and picked it, not every later step of its panel."""
    holding = {s["id"] for s in steps if s["kind"] in HOLDING_KINDS}
    tools = {s["id"]: s["tool"] for s in steps}
    snapshots = [s for s in store.twin_snapshots(run_id) if s["wafer_id"] == workpiece_id]
    changing: set[str | None] = set()
    last = None
    for snapshot in snapshots:
        if snapshot["step_id"] in holding:
            continue
        if snapshot["hash"] != last:
            changing.add(tools.get(snapshot["step_id"]))
        last = snapshot["hash"]
    return {s["step_id"] for s in snapshots if tools.get(s["step_id"]) in changing}


def claim_check_report(
    store: RunStore, run: dict[str, Any], wafers: list[dict[str, Any]]
) -> dict[str, Any]:
    """The run's claim check (`run`'s status as shown): status (passed, failed, incomplete;
    on a station 'measured' or 'not measured', `station_claim_check`; 'not run' when a dry run
    has not got to it or its method declares no conditions, which the note tells apart), a
    note, one entry per condition, and the wafers not checked (they did not complete the
    method)."""
    rows = store.table("claim_checks", run["id"])
    conditions = [
        {
            "claim": r["claim"],
            "condition": r["condition"],
            "wafers_checked": r["wafers_checked"],
            "sites_checked": r["sites_checked"],
            "sites_passing": r["sites_passing"],
            "counted": r["counted"],
            "failing_wafers": json.loads(r["failing_wafers"]),
            "verdict": r["verdict"],
            **{key: r[key] for key in MARGIN_COLUMNS},
        }
        for r in rows
    ]
    if not run["simulated"]:
        status, note = station_claim_check(
            measurement_verdict(m["low"], m["high"], m["passed"])
            for m in store.table("measurements", run["id"])
        )
    elif not conditions:
        status = NOT_RUN
        note = _why_no_claim_check(run["status"])
    else:
        status = overall([c["verdict"] for c in conditions])
        note = what_did_not_pass([(c["claim"], c["condition"], c["verdict"]) for c in conditions])
    return {
        "status": status,
        "note": note,
        "conditions": conditions,
        "unchecked_wafers": unchecked_wafers((w["wafer"], w["status"]) for w in wafers),
    }


def _why_no_claim_check(status: str) -> str:
    """Why a dry run whose status (as shown) is `status` has no claim check recorded: it is
    made once the lot's wafers are all done or held."""
    if status in DRIVEN:
        return f"not made yet: the run is {status}; it is made at the run's end"
    if status == INTERRUPTED:
        return "not made: the run was cut off before its end; a resume that ends it makes it"
    if status == "completed":
        return "none: the method declares no claim conditions"
    return f"not made: the run ended {status} before it"


def before_after(wafer: dict[str, Any]) -> dict[str, tuple[float, float | None, str]]:
    """Twin metrics recorded as 'NAME before' / 'NAME after': name -> (before, after, unit)."""
    out = {}
    measured = wafer["measurements"]
    for name, before in measured.items():
        if name.endswith(" before"):
            base = name.removesuffix(" before")
            after = measured.get(f"{base} after")
            out[base] = (before["value"], None if after is None else after["value"], before["unit"])
    return out
