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
reports itself busy; and in **standby** for the rest of the run. Where they overlap, that is
the order that wins. Records written before tools reported their states have no
`tool-state` events: their tools are then never in the states only a tool reports. Every
tool's states sum to the run's duration.

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
in this run that did all its steps (a stage cut off by an abort or failed part-way
demonstrates no rate, nor does its replay on resume, which repeats the handling and skips the
process done before: a pass all the same, rated at the best; the passes of a process none of
whose uses completed rate nothing); quality, the share of the passes it ran through that
completed (SEMI E79: a failed pass reworked later is a quality loss, not a good wafer; a pass
cut off by an operator's terminate or abort, or by a crash, is neither good nor bad, as OEE
counts an aborted cycle: `RAN_THROUGH`; nor is one that failed because another tool it asked
for while it held this one was given none, `ToolUnavailable`: nothing judged its wafer, and
the loss is the unavailable tool's downtime, in its availability: `ran_through`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pandas as pd

from packline.drivers.equipment import E10State
from packline.sequences.engine.clearances import service_event
from packline.sequences.engine.events import TOOL_STATE
from packline.sequences.engine.recorded_station import recorded_tools
from packline.sequences.engine.report import held_for_want_of_a_tool
from packline.sequences.engine.stage import ALL_WORK, HOLDING_KINDS, NO_WORK, stage_work

from .reader import RunRecords

#: Every E10 state, in the order reports list them.
E10_STATES = tuple(E10State)
#: The cause `down_periods` names for a tool put out of service by a recovery that failed.
OUT_OF_SERVICE = "out of service"
#: The event that records it.
OUT_OF_SERVICE_EVENT = "tool-out-of-service"
#: The statuses of a pass a tool ran through, good or bad: performance and quality count
#: these (`ran_through`: but a failure another tool's unavailability made). A pass cut off
#: (`interrupted` by a terminate or an abort, still `running` after a crash) made no part,
#: good or bad, as OEE counts an aborted cycle.
RAN_THROUGH = ("completed", "failed")
#: What makes a run's alarm records one failure: the wafers of a batch each record the alarm
#: that failed their step, at one time (`tool_time` and `packline alarms` count failures).
FAILURE = ("tool", "code", "t")


@dataclass(frozen=True)
class Window:
    """The span of run clock the accounting covers: the run's start to its end (or, for a
    run still going or cut off, to the last thing recorded)."""

    start_t: float
    stop_t: float

    @property
    def duration_s(self) -> float:
        return self.stop_t - self.start_t


def run_window(records: RunRecords) -> Window:
    """The run's span of run clock (see `Window`)."""
    header = records.header()
    start = float(header["started_t"])
    if header["stopped_t"] is not None:
        return Window(start, float(header["stopped_t"]))
    steps = records.steps()
    seen = pd.concat([steps["started_t"], steps["stopped_t"]]).dropna()
    return Window(start, max([start, *seen.astype(float)]))


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


def tool_intervals(records: RunRecords) -> pd.DataFrame:
    """Each tool's time as intervals of one E10 state: `tool`, `state`, `start_t`,
    `stop_t`, covering the run's window without gaps or overlaps."""
    window = run_window(records)
    holding = tool_uses(records.steps())
    down = down_periods(records, window)
    reported = reported_states(records, window)
    rows = []
    for tool in tool_names(records):
        own = holding[holding["tool"] == tool]
        work = [
            (float(start), window.stop_t if pd.isna(stop) else float(stop))
            for start, stop in zip(own["started_t"], own["stopped_t"], strict=True)
        ]
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
    `oee`, the `uses` (stages and batches), `wafers` it processed and `alarms` (its failures,
    `FAILURE`)."""
    window = run_window(records)
    intervals = tool_intervals(records)
    holding = tool_uses(records.steps())
    passes = ran_through(holding, records.store.events(records.run_id))
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
            **_oee(passes[passes["tool"] == tool], seconds, window.duration_s),
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


def ran_through(uses: pd.DataFrame, events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The passes of `uses` (`tool_uses`) that their tool ran through, good or bad, which
    performance and quality count: those that completed or failed (`RAN_THROUGH`), but a
    failure another tool's unavailability made. A stage that asked for another tool while it
    held its own and was given none (`ToolUnavailable`: none in service, or none given within
    the tool wait) ends failed, and its wafer is held for want of a tool (the wafer's first
    hold among the run's `events` after the stage ended, `held_for_want_of_a_tool`): nothing
    judged the wafer bad, so, as a pass cut off, it is neither good nor bad; that loss is the
    unavailable tool's downtime, in its availability."""
    holds: dict[str, list[tuple[float, bool]]] = {}  # each wafer's holds: when, for a tool
    for event in events:
        if event["kind"] == "held":
            holds.setdefault(str(event["wafer_id"]), []).append(
                (float(event["wall"]), held_for_want_of_a_tool(event))
            )

    def failed_for_a_tool(wafer_id: str, status: str, stopped_wall: float) -> bool:
        held = holds.get(wafer_id, [])
        after = (for_a_tool for wall, for_a_tool in held if wall >= stopped_wall)
        return status == "failed" and next(after, False)

    passes = uses[uses["status"].isin(RAN_THROUGH)]
    ended = zip(passes["wafer_id"], passes["status"], passes["stopped_wall"], strict=True)
    unserved = [failed_for_a_tool(str(w), str(status), float(stop)) for w, status, stop in ended]
    # a boolean mask with the passes' index: a bare empty list would select no columns
    return passes[~pd.Series(unserved, index=passes.index, dtype=bool)]


def _oee(
    passes: pd.DataFrame, seconds: dict[E10State, float], duration_s: float
) -> dict[str, float]:
    """Utilisation, availability, performance, quality and OEE of a tool whose `passes` it
    ran through are these (`ran_through`; see the module docstring); NaN where a figure is
    not defined (a tool that processed nothing)."""
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
        per_wafer = (per_use["stop"] - per_use["start"]) / per_use["wafers"]
        best = per_wafer.groupby(level=0).min().to_dict()
        passes_of = passes["key"].value_counts()
        rated = sum(best[key] * passes for key, passes in passes_of.items() if key in best)
        figures["performance"] = min(1.0, rated / productive)
    figures["oee"] = figures["availability"] * figures["performance"] * figures["quality"]
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
