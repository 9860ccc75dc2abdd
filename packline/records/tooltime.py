"""Tool time accounting: each tool's run time by SEMI E10 state, its utilisation and OEE.

The states come from the records, so they read the same for a dry run, a run on real tools
and a run after a crash. Each tool's driver reports its state as it changes (`tool-state`
events: idle, busy, engineering, maintenance, fault, offline, each with its E10 state), and
the engine adds what the tool cannot know. So a tool is in **unscheduled downtime** while it
reports a fault, and from an alarm that failed a step on it, or from a recovery that failed
(`tool-out-of-service`), until an operator puts it back in service (`tool-cleared`) or a
resume's recovery does (`clearances.service_event`); in
**scheduled downtime**, **engineering** or **non-scheduled** time while it reports one;
**productive** while a stage holds it (the steps one wafer, or a batch, does on it, loading
and unloading included as E10 counts them: `steps` rows of kind stage or batch) or while it
reports itself busy, but not while a stage held it idle (`held_idle`: the run paused, a
stage waiting for another tool it asked for or for an operator's answer to a confirmation);
and in **standby** for the rest of the run.
Where they overlap, that is the order that wins. Records written before tools reported their
states have no `tool-state` events: their tools are then never in the states only a tool
reports. Every tool's states sum to the run's duration.

A use is a stage that did work: one whose steps were all skipped (a wafer passes again
through a stage it completed before, its steps skipped in no time, when it is resumed and
when it is run again in the same session after a hold, a tool back in service) is none
(`stage_work` states the rule, by the very stage row, not its key).

Utilisation is productive time over the run's duration; the bottleneck is the tool with the
highest. OEE is availability x performance x quality from the run's own figures:
availability, the time not down over the run's duration; performance, the time the passes
it ran through (completed or failed, not cut off; a reworked wafer counts twice) would have
taken at their process's best demonstrated time per wafer, over its productive time, at most
100 % (a rate faster than the best demonstrated one is taken as the best). A process is one
use of the tool in the method (the step's `key`: the oven's cure and its reflow, the plasma
cleaner's descum and its dry etch), each rated against its own best (SEMI E10/E79 rate a
process against its own standard time, not a different recipe's): its fastest completed use
in this run that did all its steps, timed by its productive time (a stage cut off by an abort
or failed part-way demonstrates no rate, nor does its replay on resume, which repeats the
handling and skips the process done before: a pass all the same, rated at the best; the
passes of a process none of whose uses completed rate nothing); quality, the share of the
passes it judges that completed: those it ran through and those cut off whose wafer was held
for it (SEMI E79: a failed pass reworked later is a quality loss, not a good wafer, and so is
a dicing cut an abort stopped part made, its wafer held; a pass cut off by an operator's
terminate or abort, or by a crash, that held no wafer is neither good nor bad, as OEE counts
an aborted cycle: `RAN_THROUGH`; nor is one that failed because another tool it asked for
while it held this one was given none, `ToolUnavailable`: nothing judged its wafer, and the
loss is the unavailable tool's downtime, in its availability: `judged_passes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar

import pandas as pd

from packline.drivers.equipment import E10State
from packline.sequences.engine.clearances import service_event
from packline.sequences.engine.confirmations import confirmation_waits
from packline.sequences.engine.events import TOOL_STATE
from packline.sequences.engine.recorded_station import recorded_tools
from packline.sequences.engine.report import held_for_want_of_a_tool
from packline.sequences.engine.spans import Span, paused_spans, spans_without
from packline.sequences.engine.stage import ALL_WORK, HOLDING_KINDS, NO_WORK, stage_work

from .reader import RunRecords

#: Every E10 state, in the order reports list them.
E10_STATES = tuple(E10State)
#: The cause `down_periods` names for a tool put out of service by a recovery that failed.
OUT_OF_SERVICE = "out of service"
#: The event that records it.
OUT_OF_SERVICE_EVENT = "tool-out-of-service"
#: The statuses of a pass a tool ran through, good or bad: performance and quality count
#: these (`judged_passes`: but a failure another tool's unavailability made). A pass cut off
#: (`interrupted` by a terminate or an abort, still `running` after a crash) made no part,
#: good or bad, as OEE counts an aborted cycle, unless its wafer was held for it: quality
#: counts that one a bad part.
RAN_THROUGH = ("completed", "failed")
#: How quality counts, in words, under the tables that show it (`good_passes`, `judged_passes`:
#: a lot of 4 with 2 completed, 1 scrapped and 1 held read 33.3 % without saying of what).
QUALITY_COUNTS = (
    "quality: good passes / judged passes. A pass is one wafer's stage on the tool (a batch "
    "of 4 is 4 passes; a reworked wafer's pass again is one more), good if it completed; a "
    "failed pass is bad whatever became of its wafer (reworked, scrapped or held), and so "
    "is one cut off whose wafer was held for it; one cut off whose wafer was not held, or "
    "failed for want of another tool, is not judged"
)
#: What makes a run's alarm records one failure: the wafers of a batch each record the alarm
#: that failed their step, at one time (`tool_time` and `packline alarms` count failures).
FAILURE = ("tool", "code", "t")


@dataclass(frozen=True)
class Window:
    """The span of run clock the accounting covers: the run clock's zero, where the run
    began, to its end (or, for a run still going or cut off, to the last thing recorded)."""

    #: Where every run's span starts: the run clock's zero (`run_window` says why).
    start_t: ClassVar[float] = 0.0
    stop_t: float

    @property
    def duration_s(self) -> float:
        return self.stop_t - self.start_t


def run_window(records: RunRecords) -> Window:
    """The run's span of run clock (see `Window`). It starts at the clock's zero, as the
    run's duration does (the report's `duration_s`, `show`'s), not at its recorded start
    (`started_t`), which a run records once its tools are reached: its tools are in it from
    the start, in standby while the run reaches them (a resume's reach, later on the same
    clock, was always in it). From the recorded start, a station run's tool states summed
    to its duration less its first connect (on a line served at x60, 25 ms of wall time: 1.5
    s of the line's process time)."""
    header = records.header()
    if header["stopped_t"] is not None:
        return Window(float(header["stopped_t"]))
    steps = records.steps()
    seen = pd.concat([steps["started_t"], steps["stopped_t"]]).dropna()
    return Window(max([Window.start_t, *seen.astype(float)]))


def tool_names(records: RunRecords) -> list[str]:
    """The tools the run used, sorted: those a step names, and any an alarm or a failed
    recovery put out of service. A station's other tools did nothing for the run (a line of
    16 tools driving a method of one listed 15 at 0 %): `unused_tools` names them."""
    used = {str(tool) for tool in records.steps()["tool"].dropna()}
    used |= set(records.alarms()["tool"].astype(str))
    used |= {
        str(event["tool"])
        for event in records.store.events(records.run_id)
        if event["kind"] == OUT_OF_SERVICE_EVENT and event["tool"]
    }
    return sorted(used)


def unused_tools(records: RunRecords) -> list[str]:
    """The tools of the run's station that it did not use (`tool_names`), sorted."""
    return sorted(set(recorded_tools(records.header())) - set(tool_names(records)))


def unused_text(unused: list[str]) -> str:
    """What `packline tools` and the report say of a station's `unused_tools` ('' for none)."""
    if not unused:
        return ""
    tools = "tool" if len(unused) == 1 else f"{len(unused)} tools"
    return f"not listed: the station's other {tools}, unused by this run: {', '.join(unused)}"


def tool_uses(steps: pd.DataFrame) -> pd.DataFrame:
    """The rows of `steps` (`RunRecords.steps`) that held a tool and did work on it: every
    stage and batch row but the passes whose steps inside were all skipped (`stage_work`,
    see the module docstring); `work` says whether the use did all its steps or, replayed,
    only part (`stage_work`'s words)."""
    holding = steps[steps["kind"].isin(HOLDING_KINDS)]
    recorded = steps[["id", "session", "wafer_id", "key", "stage", "kind", "status"]]
    work = stage_work(recorded.to_dict("records"))
    uses = holding.assign(work=holding["id"].map(work))
    return uses.loc[uses["work"] != NO_WORK]


def reported_states(records: RunRecords, window: Window | None = None) -> pd.DataFrame:
    """The E10 states the tools reported (`tool-state` events), as intervals: `tool`,
    `state`, `start_t`, `stop_t`, each from the report to the tool's next one, else to the
    run's end (`window`'s stop)."""
    stop_t = (window or run_window(records)).stop_t
    reports: dict[str, list[tuple[float, str]]] = {}
    for event in records.store.events(records.run_id):
        if event["kind"] == TOOL_STATE:
            reports.setdefault(event["tool"], []).append((event["t"], event["data"]["e10"]))
    rows = []
    for tool, told in sorted(reports.items()):
        stops = [t for t, _ in told[1:]] + [stop_t]
        for (start, state), stop in zip(told, stops, strict=True):
            rows.append({"tool": tool, "state": state, "start_t": start, "stop_t": stop})
    return pd.DataFrame(rows, columns=["tool", "state", "start_t", "stop_t"])


def tool_intervals(
    records: RunRecords, idle: Mapping[str, list[Span]] | None = None
) -> pd.DataFrame:
    """Each tool's time as intervals of one E10 state: `tool`, `state`, `start_t`,
    `stop_t`, covering the run's window without gaps or overlaps (`idle`: `held_idle`'s,
    when the caller has it)."""
    window = run_window(records)
    holding = tool_uses(records.steps())
    down = down_periods(records, window)
    reported = reported_states(records, window)
    if idle is None:
        idle = held_idle(records, window)
    rows = []
    for tool in tool_names(records):
        own = holding[holding["tool"] == tool]
        held = [
            (float(start), window.stop_t if pd.isna(stop) else float(stop))
            for start, stop in zip(own["started_t"], own["stopped_t"], strict=True)
        ]
        work = spans_without(held, idle.get(tool, []))
        own_down = down[down["tool"] == tool]
        spans: dict[E10State, list[tuple[float, float]]] = {
            E10State.UNSCHEDULED_DOWNTIME: list(
                zip(own_down["start_t"], own_down["stop_t"], strict=True)
            ),
            E10State.PRODUCTIVE: work,
        }
        told = reported[reported["tool"] == tool]
        for state, start, stop in zip(told["state"], told["start_t"], told["stop_t"], strict=True):
            spans.setdefault(E10State(state), []).append((start, stop))
        rows += _classify(tool, window, spans)
    return pd.DataFrame(rows, columns=["tool", "state", "start_t", "stop_t"])


def tool_time(records: RunRecords) -> pd.DataFrame:
    """One row per tool: seconds in each E10 state (`productive_s`, `standby_s`...,
    summing to `duration_s`), `utilisation`, `availability`, `performance`, `quality`,
    `oee`, the `good_passes` and `judged_passes` quality is the share of (`QUALITY_COUNTS`),
    the `uses` (stages and batches), `wafers` it processed and `alarms` (its failures,
    `FAILURE`)."""
    window = run_window(records)
    idle = held_idle(records, window)
    intervals = tool_intervals(records, idle)
    holding = tool_uses(records.steps())
    passes = judged_passes(holding, records.store.events(records.run_id))
    failures = records.alarms().drop_duplicates(list(FAILURE))
    rows = []
    for tool in tool_names(records):
        own = intervals[intervals["tool"] == tool]
        spent = (own["stop_t"] - own["start_t"]).groupby(own["state"]).sum()
        seconds = {state: float(spent.get(state, 0.0)) for state in E10_STATES}
        uses = holding[holding["tool"] == tool]
        row = {
            "tool": tool,
            "duration_s": window.duration_s,
            **{state_column(state): seconds[state] for state in E10_STATES},
            **_oee(passes[passes["tool"] == tool], seconds, window.duration_s, idle.get(tool, [])),
            "uses": int(uses["batch"].fillna(uses["id"].astype(str)).nunique()),
            "wafers": int(uses["wafer_id"].nunique()),
            "alarms": int((failures["tool"] == tool).sum()),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def bottleneck(times: pd.DataFrame) -> str | None:
    """The tool with the highest utilisation in `tool_time`'s table (None: no tool worked)."""
    if times.empty or not (times["utilisation"] > 0).any():
        return None
    return str(times.sort_values("utilisation", kind="stable")["tool"].iloc[-1])


def state_column(state: E10State) -> str:
    """The name of the column of `tool_time` that holds the seconds in `state`."""
    return state.value.replace(" ", "_").replace("-", "_") + "_s"


def judged_passes(uses: pd.DataFrame, events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The passes of `uses` (`tool_uses`) that quality judges, good or bad: those their tool
    ran through, which performance counts too, that completed or failed (`RAN_THROUGH`), and
    those cut off (interrupted by an abort, still running after a crash) whose wafer was held
    for it (`holds_after`: an irreversible step cut off, a dicing cut part made), which made
    no good part; but not a failure another tool's unavailability made. A stage that asked
    for another tool while it held its own and was given none (`ToolUnavailable`: none in
    service, or none given within the tool wait) ends failed, and its wafer is held for want
    of a tool (`held_for_want_of_a_tool`): nothing judged the wafer bad, so, as a pass cut off
    and not held for it, it is neither good nor bad; that loss is the unavailable tool's
    downtime, in its availability."""
    holds = holds_after(uses, events)

    def judged(status: str, hold: Mapping[str, Any] | None) -> bool:
        if status == "completed":
            return True
        if hold is None:
            return status in RAN_THROUGH
        return not held_for_want_of_a_tool(hold)

    ended = zip(uses["status"], holds, strict=True)
    # a boolean mask with the uses' index: a bare empty list would select no columns
    return uses[pd.Series([judged(str(s), hold) for s, hold in ended], uses.index, dtype=bool)]


def holds_after(
    uses: pd.DataFrame, events: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any] | None]:
    """For each row of `uses` (`tool_uses`), in order, the hold its pass ended in: its
    wafer's first `held` event among the run's `events` from the pass's end (a pass a crash
    cut off, still `running`, from its start) to the wafer's next use, else None. By the
    wall clock, which every record has and which runs on through a run's sessions."""
    holds: dict[str, list[Mapping[str, Any]]] = {}  # each wafer's holds, in order
    for event in events:
        if event["kind"] == "held":
            holds.setdefault(str(event["wafer_id"]), []).append(event)
    starts: dict[str, list[float]] = {}  # each wafer's uses' starts
    for wafer_id, start in zip(uses["wafer_id"], uses["started_wall"], strict=True):
        starts.setdefault(str(wafer_id), []).append(float(start))
    found: list[Mapping[str, Any] | None] = []
    ends = zip(uses["wafer_id"], uses["started_wall"], uses["stopped_wall"], strict=True)
    for wafer_id, start, stop in ends:
        since = float(start) if pd.isna(stop) else float(stop)
        until = min((s for s in starts[str(wafer_id)] if s > since), default=math.inf)
        within = (h for h in holds.get(str(wafer_id), []) if since <= h["wall"] < until)
        found.append(next(within, None))
    return found


def held_idle(records: RunRecords, window: Window) -> dict[str, list[Span]]:
    """When each tool was held by a stage (`tool_uses`) but not worked for it, which is
    standby (SEMI E10: no operator, a support tool not available), not productive time:
    while a stage waited for another tool it asked for (`tool_waits`); and while the run
    stood paused (`paused_spans`) or a stage holding the tool waited for an operator's answer
    to a confirmation (`answer_waits`), but for a step on the tool running then (one running
    when the pause came ran to its end). A pause waits for the stages under way to end since
    decision 0097: a stage held through a pause is in records of runs before it. Tool name ->
    its spans of run clock."""
    stop_t = window.stop_t
    steps = records.steps()
    uses = tool_uses(steps)
    events = records.store.events(records.run_id)
    idle = tool_waits(uses, steps, holds_after(uses, events))
    paused = paused_spans(events, stop_t)
    answering = answer_waits(
        uses,
        confirmation_waits(records.store.table("confirmations", records.run_id), events),
        stop_t,
    )
    inner = steps[~steps["kind"].isin(HOLDING_KINDS)]
    for tool in set(uses["tool"].astype(str)):
        unworked = paused + answering.get(tool, [])
        if unworked:
            own = inner[inner["tool"] == tool]
            running = [
                (float(start), stop_t if pd.isna(stop) else float(stop))
                for start, stop in zip(own["started_t"], own["stopped_t"], strict=True)
            ]
            idle.setdefault(tool, []).extend(spans_without(unworked, running))
    return idle


def answer_waits(
    uses: pd.DataFrame, waits: Sequence[tuple[Mapping[str, Any], float | None]], stop_t: float
) -> dict[str, list[Span]]:
    """When the stages of `uses` (`tool_uses`) held their tools while their wafer waited for an
    operator's answer to a confirmation (`waits`, `confirmation_waits`: each ask's event and
    the run clock time it ended, None for one nothing ended): each wait, from its ask to its
    end, on the tool of every use of its wafer under way when it was asked (by the wall clock,
    as `tool_waits` reads which record came first), to that use's end at the latest (one a
    crash cut off waited until the use was closed, else to `stop_t`, not through a resume's
    work on the tool). Tool name -> spans of run clock."""
    held: dict[str, list[tuple[str, float, float, float]]] = {}  # tool, wall span, stop_t
    for wafer_id, tool, since, until, stopped_t in zip(
        uses["wafer_id"],
        uses["tool"],
        uses["started_wall"],
        uses["stopped_wall"],
        uses["stopped_t"],
        strict=True,
    ):
        until_wall = math.inf if pd.isna(until) else float(until)
        use_stop = stop_t if pd.isna(stopped_t) else float(stopped_t)
        held.setdefault(str(wafer_id), []).append((str(tool), float(since), until_wall, use_stop))
    spans: dict[str, list[Span]] = {}
    for asked, answered_t in waits:
        for tool, since, until, use_stop in held.get(str(asked["wafer_id"]), []):
            if since <= asked["wall"] < until:
                end = use_stop if answered_t is None else min(answered_t, use_stop)
                spans.setdefault(tool, []).append((float(asked["t"]), end))
    return spans


def tool_waits(
    uses: pd.DataFrame, steps: pd.DataFrame, holds: Sequence[Mapping[str, Any] | None]
) -> dict[str, list[Span]]:
    """When a stage of `uses` (`tool_uses`) waited for another tool it asked for while it held
    its own: from the end of its last step (of `steps`) before the ask to the start of the
    stage the other tool was given for inside it (in its session), or, none given (its stage
    failed and its wafer held for want of a tool, as its hold of `holds`, `holds_after`,
    says), to its own end. Which record came before which is read by the wall clock, as
    `holds_after` reads it: a dry run's run clock stands still through steps of no time, the
    stage inside starting at the very time its wafer's last step before it and the first after
    it end. Tool name -> spans of run clock."""
    # each wafer's uses in each session (a stage a crash left open asked for none of a
    # resume's): tool, start by the wall clock and by the run clock
    starts: dict[tuple[str, int], list[tuple[str, float, float]]] = {}
    for wafer_id, session, tool, wall, t in zip(
        uses["wafer_id"],
        uses["session"],
        uses["tool"],
        uses["started_wall"],
        uses["started_t"],
        strict=True,
    ):
        starts.setdefault((str(wafer_id), int(session)), []).append((str(tool), wall, t))
    inner = steps[~steps["kind"].isin(HOLDING_KINDS)].dropna(subset=["stopped_t"])
    ends: dict[tuple[str, str], list[tuple[float, float]]] = {}  # a stage's steps' ends
    for wafer_id, stage, wall, t in zip(
        inner["wafer_id"], inner["stage"], inner["stopped_wall"], inner["stopped_t"], strict=True
    ):
        ends.setdefault((str(wafer_id), str(stage)), []).append((float(wall), float(t)))
    waits: dict[str, list[Span]] = {}
    for use, hold in zip(uses.to_dict("records"), holds, strict=True):
        tool, wafer_id = str(use["tool"]), str(use["wafer_id"])
        since_wall = float(use["started_wall"])
        until_wall = math.inf if pd.isna(use["stopped_wall"]) else float(use["stopped_wall"])
        asked = [  # the uses inside it, and where none was given, its end
            (wall, t)
            for other, wall, t in starts[(wafer_id, int(use["session"]))]
            if other != tool and since_wall < wall < until_wall
        ]
        if use["status"] == "failed" and hold is not None and held_for_want_of_a_tool(hold):
            asked.append((until_wall, float(use["stopped_t"])))
        own = [
            (wall, t)
            for wall, t in ends.get((wafer_id, str(use["key"])), [])
            if since_wall <= wall <= until_wall
        ]
        for given_wall, given_t in asked:
            before = [t for wall, t in own if wall <= given_wall]
            waits.setdefault(tool, []).append((max([float(use["started_t"]), *before]), given_t))
    return waits


def _oee(
    passes: pd.DataFrame, seconds: dict[E10State, float], duration_s: float, idle: list[Span]
) -> dict[str, float]:
    """Utilisation, availability, performance, quality and OEE of a tool whose `passes` it
    judges are these (`judged_passes`; see the module docstring), a use's time per wafer
    being its productive time, without the spans it held the tool `idle` (`held_idle`); NaN
    where a figure is not defined (a tool that processed nothing); then the counts quality
    is the share of, `good_passes` of `judged_passes` (`QUALITY_COUNTS`)."""
    productive = seconds[E10State.PRODUCTIVE]
    down = seconds[E10State.UNSCHEDULED_DOWNTIME] + seconds[E10State.SCHEDULED_DOWNTIME]
    figures = {
        "utilisation": productive / duration_s if duration_s > 0 else float("nan"),
        "availability": (duration_s - down) / duration_s if duration_s > 0 else float("nan"),
        "performance": float("nan"),
        "quality": float("nan"),
    }
    done = passes[passes["status"] == "completed"].dropna(subset=["stopped_t"])
    whole = done[done["work"] == ALL_WORK]
    if productive > 0 and not passes.empty:
        figures["quality"] = len(done) / len(passes)
    if productive > 0 and not whole.empty:
        group = whole["batch"].fillna(whole["id"].astype(str))
        per_use = whole.groupby([whole["key"], group]).agg(
            start=("started_t", "min"), stop=("stopped_t", "max"), wafers=("wafer_id", "nunique")
        )
        worked = [
            sum(b - a for a, b in spans_without([(start, stop)], idle))
            for start, stop in zip(per_use["start"], per_use["stop"], strict=True)
        ]
        per_wafer = pd.Series(worked, per_use.index) / per_use["wafers"]
        best = per_wafer.groupby(level=0).min().to_dict()
        # the passes it ran through: one cut off claims no rate, nor loses one
        passes_of = passes.loc[passes["status"].isin(RAN_THROUGH), "key"].value_counts()
        rated = sum(best[key] * passes for key, passes in passes_of.items() if key in best)
        figures["performance"] = min(1.0, rated / productive)
    figures["oee"] = figures["availability"] * figures["performance"] * figures["quality"]
    figures["good_passes"] = len(done)
    figures["judged_passes"] = len(passes)
    return figures


def down_periods(records: RunRecords, window: Window | None = None) -> pd.DataFrame:
    """When each tool was out of service: one row per cause (`tool`; `cause`, the alarm's
    code or `out of service` for a recovery that failed; `alarm_id`, the alarm's record id
    or None; `start_t`, `stop_t`), from the alarm or event to the event that put the tool
    back in service (`clearances.service_event`: a clear, or a resume's recovery of a tool
    whose recovery had failed or that held a foreign workpiece), else to the run's end
    (`window`'s stop); and `restore_s`, the time to restore (decision 0064): to that event by
    the run clock, or by the wall clock for a clear made while the run was stopped or a
    resume's recovery (the run's clock stood still through the repair: the clear is recorded
    where the run stopped; `restored_by_wall` says so); None when nothing ended it."""
    stop_t = (window or run_window(records)).stop_t
    starts: list[tuple[str, str, int | None, float, float]] = []
    alarms = records.alarms()
    for tool, code, alarm_id, t, wall in zip(
        alarms["tool"], alarms["code"], alarms["id"], alarms["t"], alarms["wall"], strict=True
    ):
        starts.append((str(tool), str(code), int(alarm_id), float(t), float(wall)))
    clears: dict[str, list[tuple[float, float, bool]]] = {}
    out: dict[str, dict[str, Any]] = {}
    for event in records.store.events(records.run_id):
        if event["kind"] == OUT_OF_SERVICE_EVENT:
            starts.append(
                (str(event["tool"]), OUT_OF_SERVICE, None, float(event["t"]), event["wall"])
            )
        put_out = out.get(str(event["tool"]))
        cleared = event["kind"] == "tool-cleared" and event["data"].get("cleared")
        # what brought the tool back (`service_event`), or a clear of an alarm recorded alone
        if service_event(out, event) is not None or cleared:
            # cleared while the run was stopped, or recovered by a resume: the run's clock
            # stood still between its sessions
            stopped = "run_status" in event["data"] or (
                put_out is not None and event["session"] > put_out["session"]
            )
            clears.setdefault(str(event["tool"]), []).append(
                (float(event["t"]), float(event["wall"]), stopped)
            )
    rows = []
    for tool, cause, alarm_id, start, wall in sorted(starts, key=lambda s: (s[0], s[3])):
        clear = next((c for c in sorted(clears.get(tool, [])) if c[0] >= start), None)
        restore = None
        if clear is not None:
            restore = clear[1] - wall if clear[2] else clear[0] - start
        rows.append(
            {
                "tool": tool,
                "cause": cause,
                "alarm_id": alarm_id,
                "start_t": start,
                "stop_t": stop_t if clear is None else clear[0],
                "restore_s": restore,
                "restored_by_wall": clear is not None and clear[2],
            }
        )
    return pd.DataFrame(rows, columns=DOWN_COLUMNS)


#: The columns of `down_periods`.
DOWN_COLUMNS = [
    "tool", "cause", "alarm_id", "start_t", "stop_t", "restore_s", "restored_by_wall",
]  # fmt: skip


#: Which state an interval in several spans of `_classify` is in: the first of these it is in.
PRECEDENCE = (
    E10State.UNSCHEDULED_DOWNTIME,
    E10State.SCHEDULED_DOWNTIME,
    E10State.ENGINEERING,
    E10State.NON_SCHEDULED,
    E10State.PRODUCTIVE,
)


def _classify(
    tool: str, window: Window, spans: dict[E10State, list[tuple[float, float]]]
) -> list[dict[str, object]]:
    """The tool's window cut into intervals of one E10 state each: the first state of
    `PRECEDENCE` whose `spans` hold it, else standby; neighbours of one state merged."""
    edges = {window.start_t, window.stop_t}
    for start, stop in (span for state_spans in spans.values() for span in state_spans):
        edges |= {min(max(start, window.start_t), window.stop_t)}
        edges |= {min(max(stop, window.start_t), window.stop_t)}
    ordered = sorted(edges)
    rows: list[dict[str, object]] = []
    for start, stop in pairwise(ordered):
        middle = (start + stop) / 2
        state = next(
            (s for s in PRECEDENCE if any(a <= middle < b for a, b in spans.get(s, []))),
            E10State.STANDBY,
        )
        if rows and rows[-1]["state"] == state.value:
            rows[-1]["stop_t"] = stop
        else:
            rows.append({"tool": tool, "state": state.value, "start_t": start, "stop_t": stop})
    return rows
