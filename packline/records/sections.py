"""The run report's sections but the maps (`wafermaps`): the run's header, the claim check,
the wafers not completed, the tools by time and their E10 time, process traces against
limits, measurements, alarms, confirmations and events, and the recipe. Each returns its
HTML; a chart it draws goes into `charts` under the name of the slot it leaves in the HTML."""

from __future__ import annotations

import json
import time
from importlib.metadata import version
from typing import Any

import bokeh
import pandas as pd
from bokeh.model import Model

from packline.rendering import counted, counted_sites
from packline.sequences.engine.claim_check import (
    COMPLETED_ONLY,
    located_margin_text,
    overall,
    unchecked_wafers,
)
from packline.sequences.engine.confirmations import UNANSWERED, WAITING
from packline.sequences.engine.dispositions import decision_text, replaced_in_run
from packline.sequences.engine.events import (
    UNLISTED,
    UNLISTED_WHERE,
    unlisted_text,
)
from packline.sequences.engine.identity import sim_options_text
from packline.sequences.engine.injected_faults import alarm_code_text
from packline.sequences.engine.left_on_tools import left_report, left_text
from packline.sequences.engine.liveness import is_cut_off, shown_run
from packline.sequences.engine.plan import (
    decisions_note,
    releases_carried_out,
    reworks_carried_out,
)
from packline.sequences.engine.progress import (
    clock_text,
    moment_text,
    run_clock_text,
)
from packline.sequences.engine.recipe_comparison import compare_with_shipped
from packline.sequences.engine.recorded_station import (
    clock_label,
    line_text,
    process_time,
    time_scale_of,
)
from packline.sequences.engine.records import db_option
from packline.sequences.engine.report import (
    attempt_text,
    clock_stands_at,
    measurement_labels,
    shown_event,
    station_claim_check,
)
from packline.shown_figures import figure_text

from . import figures
from .limits import station_limits, trace_limits
from .markup import CLOCK_COLUMN, PROCESS_COLUMN, cell, escape, slot, table, wall_time
from .reader import RunRecords
from .tooltime import (
    E10_STATES,
    FAILURE,
    QUALITY_COUNTS,
    bottleneck,
    state_column,
    tool_intervals,
    tool_time,
    unused_text,
    unused_tools,
)


def run_clock_fact(header: dict[str, Any], end_t: float, *, cut_off: bool) -> str:
    """How long the run took by its clock, H:MM:SS, saying which clock (as `packline runs`):
    a dry run's simulated time, a station's wall time, and for a line served faster than
    real time (`time_scale` in its station file) the process time on the line beside it.
    Where its clock stands (`end_t`, `report.clock_stands_at`: at its end, from its zero where
    the run began, as its last event reads it), or, with no end recorded, when it was cut off
    (where its records end) or so far (a run still driven), saying which, as the summary
    does."""
    text = run_clock_text(end_t, simulated=bool(header["simulated"]))
    scale = time_scale_of(header)
    if scale != 1.0:
        process = clock_text(process_time(end_t, scale))
        text += f", process time on the line {process} (served at time x{scale:g})"
    if header["stopped_t"] is not None:
        return text
    return f"{text} when cut off" if cut_off else f"{text} so far"


def _left_text(records: RunRecords) -> str:
    """What the stopped run left on its tools and the resume that takes it off (`left_text`)."""
    return left_text(left_report(records.store, records.run_id))


def run_section(records: RunRecords, header: dict[str, Any]) -> str:
    """The run's facts (its error only when it stopped with one: an empty row on a completed
    run read as if something had gone wrong; what a stopped run left on its tools, and the
    resume that takes it off, only when it left something) and the tools as they were read
    at connect. The recipe's text is in `recipe_section`, at the page's end."""
    run = records.store.run(records.run_id)
    facts = [
        ("run", header["id"]),
        ("method", header["method"]),
        ("status", records.status_words()),
        ("lot", counted(header["lot_size"], "wafer")),
        ("operator", header["operator"]),
        ("line", line_text(header)),
        ("failure policy", header["failure_policy"]),
        ("sessions", header["sessions"]),
        ("recipe", f"{header['recipe_source']} (sha256 {header['recipe_hash']})"),
        ("started", wall_time(header["started_wall"])),
        ("stopped", wall_time(header["stopped_wall"])),
        (
            "run clock",
            run_clock_fact(
                header,
                clock_stands_at(records.store, run, records.store.steps(records.run_id)),
                cut_off=is_cut_off(shown_run(run)),
            ),
        ),
        *([("error", header["error"])] if header["error"] else []),
        # what a stopped run left on its tools and the resume that takes it off, as its summary
        # and `show` say it: the report is what is handed on
        *(
            [("left on the tools", left)]
            if (left := left_text(left_report(records.store, records.run_id)))
            else []
        ),
        (
            "written by",
            f"packline {version('packline')}, Bokeh {bokeh.__version__}, {wall_time(time.time())}",
        ),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    tools = records.tools()
    # the options a dry run's command gave a simulated tool (`--sim-option`), as it gave
    # them, where any session's gave one (a resume's fresh line has its own command's alone)
    given = [sim_options_text(row["sim_options"]) for row in records.store.tools(records.run_id)]
    identity = table(
        tools.assign(**{"--sim-option": given})[
            [
                "session",
                "name",
                "role",
                "driver",
                "address",
                "vendor",
                "model",
                "serial_number",
                "firmware",
                *(["--sim-option"] if any(given) else []),
            ]
        ]
    )
    return f"<table>{rows}</table>\n<h3>Tools, as read at connect</h3>\n{identity}"


def recipe_section(records: RunRecords, header: dict[str, Any]) -> str:
    """The run's recipe: how it stands against the shipped recipe it is read against, in
    `show`'s words (`compare_with_shipped`: `as shipped`, or each value that differs beside
    the shipped one, or why it cannot be compared), then its text as written and as validated,
    each folded (a `<details>` closed until the reader opens it): some 200 lines that had
    stood between the run's facts and its claim check, as `show` keeps the whole recipe
    behind `--whole-recipe`."""
    comparison = compare_with_shipped(records.store.run(records.run_id))
    differences = "".join(f"<li>{escape(line)}</li>" for line in comparison.differences)
    written = escape(header["recipe_text"])
    validated = escape(json.dumps(header["recipe"], indent=2))
    return (
        f"<p>{escape(header['recipe_source'])}: {escape(comparison.summary)}</p>\n"
        + (f"<ul>{differences}</ul>\n" if differences else "")
        + (f"<p>{escape(comparison.as_recorded)}</p>\n" if comparison.as_recorded else "")
        + f"<details><summary>Recipe as written</summary>\n<pre>{written}</pre></details>\n"
        "<details><summary>Recipe as validated (values in their units)</summary>\n"
        f"<pre>{validated}</pre></details>"
    )


def claims_section(records: RunRecords, header: dict[str, Any]) -> str:
    checks = records.claim_checks()
    if not header["simulated"]:
        _, note = station_claim_check(records.measurements()["verdict"])
        return f"<p>Claim check: {escape(note)}.</p>"
    if checks.empty:
        return (
            "<p>No claim check recorded: the method declares none, or the run stopped "
            "before it.</p>"
        )
    share = checks["sites_passing"] / checks["sites_checked"].where(checks["sites_checked"] > 0)
    recorded = checks.astype(object).where(checks.notna(), None)  # a missing margin is None
    shown = checks.assign(
        sites_checked=[
            counted_sites(int(count), None if pd.isna(noun) else str(noun))
            for count, noun in zip(checks["sites_checked"], checks["counted"], strict=True)
        ],
        sites_passing=[f"{count:,}" for count in checks["sites_passing"]],
        failing_sites=[f"{count:,}" for count in checks["sites_checked"] - checks["sites_passing"]],
        share_passing=[f"{s:.2%}" if pd.notna(s) else "" for s in share],
        margin=[
            located_margin_text(dict(zip(recorded.columns, row, strict=True)))
            for row in recorded.itertuples(index=False)
        ],
    )
    shown = shown[
        [
            "claim",
            "condition",
            "wafers_checked",
            "sites_checked",
            "sites_passing",
            "failing_sites",
            "share_passing",
            "margin",
            "failing_wafers",
            "verdict",
        ]
    ]
    status = overall(list(checks["verdict"]))
    # a pass of the wafers that completed is not the lot's: the others are named, as the
    # command line's summary names them
    wafers = records.wafers()
    unchecked = unchecked_wafers(zip(wafers["wafer_id"], wafers["status"], strict=True))
    scope = (
        f"{COMPLETED_ONLY} (not checked, did not complete: {', '.join(unchecked)})"
        if unchecked
        else ""
    )
    return (
        f'<p>Claim check <span class="{"fail" if status == "failed" else "pass"}">{status}</span>'
        f"{escape(scope)}: each condition evaluated on the twin of every wafer that completed "
        "the method; "
        "share passing is the share of the sites checked that pass (the failing sites are "
        "marked on the maps), margin the worst checked site of the condition's margin "
        "quantity over the lot and its distance to the limit.</p>\n"
        + table(shown, verdict="verdict")
    )


def timeline_section(records: RunRecords, charts: dict[str, Model]) -> str:
    intervals = tool_intervals(records)
    if intervals.empty:
        return "<p>No tool in the records.</p>"
    charts["gantt"] = figures.gantt(intervals, records.steps())
    return slot("gantt")


def tool_time_section(records: RunRecords, charts: dict[str, Model]) -> str:
    times = tool_time(records)
    if times.empty:
        return "<p>No tool in the records.</p>"
    charts["tool_time"] = figures.tool_time_bars(times)
    # the run clock's duration is in the run section; a state no tool was in, named below
    # the table rather than a column of zeros (the table fits the page)
    absent = [s for s in E10_STATES if not times[state_column(s)].any()]
    shown = times.drop(columns=["duration_s", *(state_column(s) for s in absent)])
    for column in ("utilisation", "availability", "performance", "quality", "oee"):
        shown[column] = [f"{v:.1%}" if pd.notna(v) else "" for v in shown[column]]
    # times as the CLI reads them (H:MM:SS), not hours (7.391e-05 h)
    times_s = [c for c in shown.columns if c.endswith("_s")]
    for column in times_s:
        shown[column] = [clock_text(float(v)) for v in shown[column]]
    shown = shown.rename(columns={c: c.removesuffix("_s").replace("_", " ") for c in times_s})
    neck = bottleneck(times)
    lead = (
        f"<p>Bottleneck: <b>{escape(neck)}</b>, the tool with the highest utilisation.</p>"
        if neck
        else "<p>No tool worked in this run.</p>"
    ) + f"<p>The clock of these times: {escape(clock_label(records.header()))}.</p>"
    notes = [QUALITY_COUNTS, unused_text(unused_tools(records))]
    if absent:
        notes.append(f"no tool was in {', '.join(s.value for s in absent)} time")
    shown_notes = "".join(f"<p>{escape(note)}.</p>" for note in notes if note)
    return lead + table(shown) + shown_notes + slot("tool_time")


def traces_section(records: RunRecords, header: dict[str, Any], charts: dict[str, Model]) -> str:
    traces = records.traces()
    if traces.empty:
        return "<p>No process trace recorded.</p>"
    limits = station_limits(header)
    failures = records.alarms().drop_duplicates(list(FAILURE))
    parts = [
        "<p>Dashed red lines: the limits of the setpoint of the trace's name and unit. Solid "
        "dark red vertical lines: when an alarm latched on the tool (its failures, as "
        "<i>Alarms</i> lists them).</p>"
    ]
    for index, (tool, samples) in enumerate(traces.groupby("tool", sort=True)):
        alarms_t = sorted(float(t) for t in failures.loc[failures["tool"] == tool, "t"])
        named = samples.drop_duplicates("name", keep="last")
        units = dict(zip(named["name"], named["unit"], strict=True))
        name = f"traces{index}"
        charts[name] = figures.trace_panel(
            str(tool), samples, trace_limits(limits.get(str(tool), {}), units), alarms_t
        )
        parts.append(f"<h3>{escape(tool)}</h3>\n{slot(name)}")
    return "\n".join(parts)


def measurements_section(records: RunRecords, charts: dict[str, Model]) -> str:
    """Every measurement, charted within its limits and listed, at its time as `show` lists
    it (`_time_column`)."""
    scale = time_scale_of(records.header())
    measurements = _on_the_line(records.measurements(), scale)
    if measurements.empty:
        return "<p>No measurement recorded.</p>"
    # the step that took it by its label (`RunRecords.measurements`: `inspect bump heights #2`
    # for the second run of a step the script runs twice, as `show` reads it): recorded as a
    # step ends, the instant the next steps start, a measurement's time alone points at those
    taken_at = [None if pd.isna(step) else step for step in measurements["step"]]
    labels = measurement_labels(list(zip(measurements["name"], taken_at, strict=True)))
    charts["measurements"] = figures.measurement_chart(measurements.assign(label=labels))
    # the step its instrument read a value to, where the records say (a grinder's gauge's,
    # whose reading's high limit allows for it), beside the unit
    read_to = ["resolution"] if measurements["resolution"].notna().any() else []
    shown = measurements[
        [
            "wafer_id",
            "step",
            "name",
            "value",
            "unit",
            *read_to,
            "low",
            "high",
            "verdict",
            "source",
            _time_column(scale),
        ]
    ]
    # a low limit the value had to pass, not reach (`low_exclusive`: a reflow's peak above its
    # solder's liquidus), reads `> 220` in its cell, where a column of flags would leave the
    # reader to pair the two (decision 0129); a record that does not say reads as before
    to_pass = measurements["low_exclusive"].fillna(0).astype(bool)
    # a measurement its step took again (a rework) says which attempt it is, in the table; a
    # value to as many digits as tell it from its limits (a failing one never reads as one)
    shown = shown.assign(
        step=[
            step if pd.isna(attempt) else f"{step}{attempt_text(int(attempt))}"
            for step, attempt in zip(shown["step"], measurements["attempt"], strict=True)
        ],
        value=[
            figure_text(value, *(None if pd.isna(limit) else limit for limit in (low, high)))
            for value, low, high in zip(shown["value"], shown["low"], shown["high"], strict=True)
        ],
        low=[
            f"> {cell(low)}" if passing else low
            for low, passing in zip(shown["low"], to_pass, strict=True)
        ],
    )
    said = (
        "Each measurement with both limits, placed within them (0: the low limit, 1: the high; "
        "hover for the value); every measurement in the table, with the step that took it."
    )
    if to_pass.any():
        said += " A low limit written > L is one the value had to pass, not reach: at it, it fails."
    return (
        f"<p>{escape(said)}</p>"
        + slot("measurements")
        + table(shown, verdict="verdict", figures=("value", "low"))
    )


def wafer_outcomes(records: RunRecords) -> pd.DataFrame:
    """Each wafer of the lot (`RunRecords.wafers`: its id, status and why held), its status
    with each step of it a resume accepted as done on a release and each rework of it a
    resume carried out said beside it, as `show` says them (`decisions_note`: `completed,
    step 'dice' released by ana (kerfs look through): accepted as done though it failed`),
    and `decided`, whether it has such a step or rework: a wafer released past a dicing its
    blade cut short had read `completed` alone, its dies never cut apart, and a reworked one
    as a first pass."""
    wafers = records.wafers()
    releases = releases_carried_out(records.store, records.run_id)
    reworks = reworks_carried_out(records.store, records.run_id)
    decided = [
        (releases.get(wafer_id, []), reworks.get(wafer_id, [])) for wafer_id in wafers["wafer_id"]
    ]
    return wafers[["wafer_id", "status", "reason"]].assign(
        status=[
            status + decisions_note(*decisions)
            for status, decisions in zip(wafers["status"], decided, strict=True)
        ],
        completed=wafers["status"] == "completed",
        decided=[any(decisions) for decisions in decided],
    )


def wafers_section(records: RunRecords) -> str:
    """The wafers not completed and why, those completed on an operator's release or rework
    (a heading only where there is one: `wafer_outcomes`), and the operators' dispositions
    of held wafers, each with when it was decided (its date and time: a disposition is made
    between sessions; the table had said none, where `show` gives it) and the decision that
    replaced it before a resume carried it out, if one did (`replaced_in_run`)."""
    wafers = wafer_outcomes(records)
    held = wafers[~wafers["completed"]][["wafer_id", "status", "reason"]]
    decided = wafers[wafers["completed"] & wafers["decided"]][["wafer_id", "status"]]
    dispositions = records.dispositions()
    replaced = replaced_in_run(records.store, records.run_id)
    return (
        f"<h3>Wafers not completed ({len(held)})</h3>\n"
        + (table(held) if len(held) else "<p>None: every wafer completed.</p>")
        + (
            f"\n<h3>Wafers completed on an operator's decision ({len(decided)})</h3>\n"
            + table(decided)
            if len(decided)
            else ""
        )
        + f"\n<h3>Dispositions of held wafers ({len(dispositions)})</h3>\n"
        + (
            table(
                dispositions.assign(
                    decided=[wall_time(wall) for wall in dispositions["wall"]],
                    replaced_by=[
                        decision_text(replaced[i]) if i in replaced else ""
                        for i in dispositions["id"]
                    ],
                )[["wafer_id", "decided", "held_reason", "decision", "by", "reason", "replaced_by"]]
            )
            if len(dispositions)
            else "<p>None.</p>"
        )
    )


def _time_column(scale: float) -> str:
    """The column a table lists its records' times in, as `show` lists them: the run clock
    (`CLOCK_COLUMN`: a dry run's simulated time, real tools' wall clock), or on a line served
    at time `scale` faster than real time, its process clock (`PROCESS_COLUMN`)."""
    return CLOCK_COLUMN if scale == 1.0 else PROCESS_COLUMN


def _on_the_line(frame: pd.DataFrame, scale: float) -> pd.DataFrame:
    """`frame`, its run-clock times `t` given in `_time_column(scale)` as well: on a line
    served at time `scale`, as process time on the line (`process_time`)."""
    if scale == 1.0:
        return frame
    return frame.assign(**{PROCESS_COLUMN: [process_time(float(t), scale) for t in frame["t"]]})


def alarms_section(records: RunRecords) -> str:
    """The alarms that failed steps, the operator confirmations and the run's events, each at
    its time as `show` lists it: on a line served faster than real time, on the line's
    process clock (`process_time`), where the report had listed the run clock's wall seconds
    beside `show`'s process time (the same event at `0:00:37` here, `0:37:13` there)."""
    scale = time_scale_of(records.header())
    at = _time_column(scale)
    alarms = records.alarms()
    alarms_counted = alarms_count(alarms)
    confirmations = records.confirmations()  # every one asked, answered or not
    # the step that asked each, where any was asked in one (most are asked between steps)
    asked_in = ["step"] if confirmations["step"].notna().any() else []
    # an alarm a fault injected raised is marked as the fault's, as `show` marks it
    alarms["code"] = [
        alarm_code_text(code, fault)
        for code, fault in zip(alarms["code"], alarms["injected_fault"], strict=True)
    ]
    events = records.events()
    unlisted = unlisted_text(events["kind"])
    events = _listed_events(records, scale)
    events_counted = f"{len(events)}; {unlisted}" if unlisted else str(len(events))
    return (
        f"<h3>Alarms ({alarms_counted})</h3>\n"
        + (
            table(_on_the_line(alarms, scale)[[at, "tool", "wafer_id", "code", "message"]])
            if len(alarms)
            else "<p>None.</p>"
        )
        + f"\n<h3>Operator confirmations ({confirmations_count(confirmations)})</h3>\n"
        + (
            table(
                _on_the_line(confirmations, scale)[[at, "wafer_id", *asked_in, "prompt", "answer"]]
            )
            if len(confirmations)
            else "<p>None.</p>"
        )
        + f"\n<h3>Events ({events_counted})</h3>\n"
        + (f"<p>Not listed: {escape(UNLISTED_WHERE)}.</p>\n" if unlisted else "")
        + table(events[[at, "session", "kind", "tool", "wafer_id", "status", "message"]])
    )


def _listed_events(records: RunRecords, scale: float) -> pd.DataFrame:
    """The run's events but the tools' own states, as `show` lists them (`shown_event`: an
    ask with what became of it, its commands for the database the report is made from), each
    at its time (`_on_the_line`), one recorded while no session drove the run with the time
    of day it was recorded at beside it (`moment_text`: a trial's report had listed a
    disposition at the run's end, in its last session, where `show` said when it was made)."""
    answers, db = records.confirmation_answers(), db_option(records.store.path)
    shown = [
        shown_event(event, answers, db)
        for event in records.store.events(records.run_id)
        if event["kind"] not in UNLISTED
    ]
    columns = ["id", "t", "session", "kind", "tool", "wafer_id", "status", "message", "made_wall"]
    events = _on_the_line(pd.DataFrame(shown, columns=columns), scale)
    at = _time_column(scale)
    times = zip(events[at], (event["made_wall"] for event in shown), strict=True)
    return events.assign(
        **{at: [t if made is None else moment_text(float(t), float(made)) for t, made in times]}
    )


def alarms_count(alarms: pd.DataFrame) -> str:
    """What the report's alarms table (`RunRecords.alarms`: a row per wafer an alarm failed)
    holds: its alarms, counted as `packline tools` and `packline alarms` count them (failures,
    `FAILURE`: a batch's wafers each record the alarm that failed them, one failure), and the
    wafers they failed (as `packline alarms` counts them, a wafer per alarm that failed it):
    '1 alarm, 4 wafers'; '0' for none."""
    if alarms.empty:
        return "0"
    failed = alarms.drop_duplicates([*FAILURE, "wafer_id"])  # a wafer of each alarm
    failures = failed.drop_duplicates(list(FAILURE))
    return f"{counted(len(failures), 'alarm')}, {counted(len(failed), 'wafer')}"


def confirmations_count(confirmations: pd.DataFrame) -> str:
    """How many operator confirmations were asked, and how many of them nobody answered
    (`RunRecords.confirmations`' `outcome`: in time, for want of an operator, or before the
    run stopped, or was cut off), and of a run still driven how many wait for their answer:
    '4', '4, 2 unanswered', '4, 1 waiting'."""
    counts = [
        f"{count} {outcome}"
        for outcome in (UNANSWERED, WAITING)
        if (count := int((confirmations["outcome"] == outcome).sum()))
    ]
    return ", ".join([str(len(confirmations)), *counts])
