"""`packline report`: one run as one self-contained HTML file, to open in any browser.

The page holds everything it shows: the charts' data and the Bokeh library that draws them
are inlined, so it opens from a disk, a mail or a shared drive with no network and no server
(docs/decisions/0013). Its sections, each a `<section>` with an id:

* `run`: the header (method, status, lot, operator, station, recipe as written and its hash,
  sessions, clocks), the tools as read at connect (vendor, model, serial number, firmware)
  and the packline and Bokeh versions that wrote the page;
* `claims`: the claim check of a dry run, one row per condition with its sites checked and
  passing, the share passing and the recorded margin (the worst site and its distance to the
  limit), or on real tools what the tools measured;
* `timeline`: a Gantt chart of the tools by run time, each tool's E10 state as a band, each
  wafer's stages and steps as bars;
* `tool-time`: each tool's time per E10 state, utilisation, OEE, and the bottleneck;
* `traces`: every process trace of every tool against its setpoint's limits;
* `maps`: one wafer's twin (the first that fails a claim condition, else the first, or the one
  asked for) after each irreversible step, a map per property the step changed, and a map per
  claim condition that has failing sites, those sites in red;
* `measurements`: every measurement against its limits, by wafer, and as a table;
* `alarms`: alarms, held wafers and why, the operators' dispositions of them, operator
  confirmations, and the run's events.
"""

from __future__ import annotations

import html
import json
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import bokeh
import numpy as np
import pandas as pd
from bokeh.embed import components
from bokeh.embed.bundle import bundle_for_objs_and_resources
from bokeh.model import Model
from bokeh.resources import INLINE

from packline.sequences.engine import BadInput
from packline.sequences.engine.claim_check import margin_text, overall
from packline.sequences.engine.report import ON_REAL_TOOLS

from . import figures
from .claimsites import condition_sites, run_conditions
from .limits import station_limits, trace_limits
from .reader import RunRecords
from .sites import site_table
from .tooltime import HOLDING, bottleneck, tool_intervals, tool_time

#: The page's sections: id -> heading, in page order.
SECTIONS = {
    "run": "Run",
    "claims": "Claim check",
    "timeline": "Tools by time",
    "tool-time": "Tool time (E10)",
    "traces": "Process traces",
    "maps": "Workpiece maps",
    "measurements": "Measurements",
    "alarms": "Alarms, holds and events",
}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 2em 3em; color: #222; }
nav { position: sticky; top: 0; background: #fff; padding: .5em 0; border-bottom: 1px solid #ddd; }
nav a { margin-right: 1.2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.fail { color: #b00; font-weight: bold; }
.pass { color: #070; }
pre { background: #f7f7f7; padding: .5em; overflow-x: auto; }
section { margin-top: 2em; }
"""


def write_report(records: RunRecords, path: str | Path, *, wafer: str | None = None) -> Path:
    """Write the run's report to `path` (an .html file; its folder must exist); the path."""
    target = Path(path)
    page = render_report(records, wafer=wafer)
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise BadInput(f"report {target}: cannot write it ({error.strerror})") from None
    return target


def render_report(records: RunRecords, *, wafer: str | None = None) -> str:
    """The run's report as one HTML document (see the module docstring)."""
    header = records.header()
    charts: dict[str, Model] = {}
    body = {
        "run": _run_section(records, header),
        "claims": _claims_section(records, header),
        "timeline": _timeline_section(records, charts),
        "tool-time": _tool_time_section(records, charts),
        "traces": _traces_section(records, header, charts),
        "maps": _maps_section(records, wafer, charts),
        "measurements": _measurements_section(records, charts),
        "alarms": _alarms_section(records),
    }
    script, divs = components(charts) if charts else ("", {})
    bundle = bundle_for_objs_and_resources(list(charts.values()), INLINE)
    library = "\n".join(f"<script>{js}</script>" for js in bundle.js_raw)
    library += "\n".join(f"<style>{css}</style>" for css in bundle.css_raw)
    sections = []
    for key, heading in SECTIONS.items():
        content = body[key]
        for name, div in divs.items():
            content = content.replace(_slot(name), div)
        sections.append(f'<section id="{key}"><h2>{heading}</h2>\n{content}\n</section>')
    title = f"packline run {header['id']}: {header['method']}"
    nav = " ".join(f'<a href="#{key}">{heading}</a>' for key, heading in SECTIONS.items())
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>\n'
        f"<style>{STYLE}</style>\n{library}\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n<nav>{nav}</nav>\n" + "\n".join(sections) + f"\n{script}\n"
        "</body></html>\n"
    )


# --------------------------------------------------------------------------------- sections


def _run_section(records: RunRecords, header: dict[str, Any]) -> str:
    facts = [
        ("run", header["id"]),
        ("method", header["method"]),
        ("status", header["status"]),
        ("lot", f"{header['lot_size']} wafer(s)"),
        ("operator", header["operator"]),
        (
            "station",
            f"{header['station_name']}{' (simulated line)' if header['simulated'] else ''}",
        ),
        ("failure policy", header["failure_policy"]),
        ("sessions", header["sessions"]),
        ("recipe", f"{header['recipe_source']} (sha256 {header['recipe_hash']})"),
        ("started", _wall(header["started_wall"])),
        ("stopped", _wall(header["stopped_wall"])),
        ("run clock", _duration(header["started_t"], header["stopped_t"])),
        ("error", header["error"] or ""),
        (
            "written by",
            f"packline {version('packline')}, Bokeh {bokeh.__version__}, {_wall(time.time())}",
        ),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    tools = records.tools()
    identity = _table(
        tools[
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
            ]
        ]
    )
    return (
        f"<table>{rows}</table>\n"
        f"<h3>Recipe as written</h3>\n<pre>{_e(header['recipe_text'])}</pre>\n"
        f"<h3>Recipe as validated (values in their units)</h3>\n"
        f"<pre>{_e(json.dumps(header['recipe'], indent=2))}</pre>\n"
        f"<h3>Tools, as read at connect</h3>\n{identity}"
    )


def _claims_section(records: RunRecords, header: dict[str, Any]) -> str:
    checks = records.claim_checks()
    if not header["simulated"]:
        return f"<p>{_e(ON_REAL_TOOLS)} (see Measurements).</p>"
    if checks.empty:
        return (
            "<p>No claim check recorded: the method declares none, or the run stopped "
            "before it.</p>"
        )
    share = checks["sites_passing"] / checks["sites_checked"].where(checks["sites_checked"] > 0)
    recorded = checks.astype(object).where(checks.notna(), None)  # a missing margin is None
    shown = checks.assign(
        failing_sites=checks["sites_checked"] - checks["sites_passing"],
        share_passing=[f"{s:.2%}" if pd.notna(s) else "" for s in share],
        margin=[
            margin_text(dict(zip(recorded.columns, row, strict=True)))
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
    return (
        f'<p>Claim check <span class="{"fail" if status == "failed" else "pass"}">{status}</span>'
        ": each condition evaluated on the twin of every wafer that completed the method; "
        "share_passing is the share of the sites checked that pass (the failing sites are "
        "marked on the maps), margin the worst checked site of the condition's margin "
        "quantity over the lot and its distance to the limit.</p>\n"
        + _table(shown, verdict="verdict")
    )


def _timeline_section(records: RunRecords, charts: dict[str, Model]) -> str:
    intervals = tool_intervals(records)
    if intervals.empty:
        return "<p>No tool in the records.</p>"
    charts["gantt"] = figures.gantt(intervals, records.steps())
    return _slot("gantt")


def _tool_time_section(records: RunRecords, charts: dict[str, Model]) -> str:
    times = tool_time(records)
    if times.empty:
        return "<p>No tool in the records.</p>"
    charts["tool_time"] = figures.tool_time_bars(times)
    shown = times.copy()
    for column in ("utilisation", "availability", "performance", "quality", "oee"):
        shown[column] = [f"{v:.1%}" if pd.notna(v) else "" for v in shown[column]]
    hours = [c for c in shown.columns if c.endswith("_s")]
    shown[hours] = shown[hours] / 3600.0
    shown = shown.rename(columns={c: c.removesuffix("_s") + " (h)" for c in hours})
    neck = bottleneck(times)
    lead = (
        f"<p>Bottleneck: <b>{_e(neck)}</b>, the tool with the highest utilisation.</p>"
        if neck
        else "<p>No tool worked in this run.</p>"
    )
    return lead + _table(shown) + _slot("tool_time")


def _traces_section(records: RunRecords, header: dict[str, Any], charts: dict[str, Model]) -> str:
    traces = records.traces()
    if traces.empty:
        return "<p>No process trace recorded.</p>"
    limits = station_limits(header["station_yaml"])
    parts = ["<p>Dashed red lines: the limits of the setpoint of the trace's name and unit.</p>"]
    for index, (tool, samples) in enumerate(traces.groupby("tool", sort=True)):
        units = dict(zip(samples["name"], samples["unit"], strict=False))
        name = f"traces{index}"
        charts[name] = figures.trace_panel(
            str(tool), samples, trace_limits(limits.get(str(tool), {}), units)
        )
        parts.append(f"<h3>{_e(tool)}</h3>\n{_slot(name)}")
    return "\n".join(parts)


def _maps_section(records: RunRecords, wafer: str | None, charts: dict[str, Model]) -> str:
    snaps = records.snapshots()
    if snaps.empty:
        return "<p>No workpiece twin in this run (real tools): see the tools' measurements.</p>"
    wafers = list(dict.fromkeys(snaps["wafer_id"]))
    if wafer is None:
        wafer = _first_failing(records, wafers)
    elif wafer not in wafers:
        raise BadInput(
            f"report --wafer {wafer}: run {records.run_id} holds no twin of it; "
            f"its wafers: {', '.join(wafers)}"
        )
    # the wafer's steps in the order they ran (a stage's snapshot, taken when it ends, is
    # its last step's)
    own = snaps[(snaps["wafer_id"] == wafer) & ~snaps["kind"].isin(HOLDING)]
    own = own.sort_values("step_id").reset_index(drop=True)
    layers: list[tuple[str, str]] = []
    columns: dict[str, pd.Series] = {}
    uniform: list[str] = []
    step_ids = [int(step_id) for step_id in own["step_id"]]
    for index in own.index[own["irreversible"] == 1]:
        key = str(own["key"].iloc[index])
        after = site_table(records.workpiece(wafer, step_ids[index]))
        before = site_table(records.workpiece(wafer, step_ids[max(index - 1, 0)]))
        for column in _changed(before, after) if index else list(after.columns[4:]):
            values = after[column]
            if values.nunique(dropna=False) == 1:
                uniform.append(f"{key}: {column} = {_cell(values.iloc[0])}")
                continue
            columns[f"{key}: {column}"] = values
            layers.append((f"after {key}: {column}", f"{key}: {column}"))
    final = site_table(records.workpiece(wafer))
    results = condition_sites(run_conditions(records), wafer, records.workpiece(wafer))
    site_count = len(final)
    with_failures = [c for c in results if c.per_site(site_count) and c.failing.any()]
    charts["maps"] = figures.site_maps(
        final[["x_mm", "y_mm"]].assign(**columns), layers, with_failures
    )
    rows = [
        {
            "claim": c.claim,
            "condition": c.condition,
            "checked": int(c.checked.sum()),
            "failing": int(c.failing.sum()),
            "mapped": "yes" if c.per_site(site_count) else "no (per unit or per wafer)",
        }
        if c.on is None
        else {
            "claim": c.claim,
            "condition": c.condition,
            "mapped": f"no (read on {c.on}, whose twin the records do not keep; see the "
            "claim check)",
        }
        for c in results
    ]
    table = _table(
        pd.DataFrame(rows, columns=["claim", "condition", "checked", "failing", "mapped"])
    )
    return (
        f"<p>Wafer <b>{_e(wafer)}</b> (of {_e(', '.join(wafers))}; "
        "<code>packline report RUN --wafer ID</code> shows another): one map per property "
        f"each irreversible step changed, {site_count:,} sites each. Hover for values, drag to "
        "pan, wheel to zoom: the maps move together.</p>\n"
        f"<h3>Claim conditions on {_e(wafer)}</h3>\n{table}\n"
        + (
            f"<p>Set to one value on every site (not mapped): {_e('; '.join(uniform))}.</p>\n"
            if uniform
            else ""
        )
        + _slot("maps")
    )


def _first_failing(records: RunRecords, wafers: list[str]) -> str:
    """The first wafer (in lot order) the recorded claim check found failing, else the
    first wafer with a twin."""
    failing = {w for text in records.claim_checks()["failing_wafers"] for w in text.split(",")}
    return next((w for w in wafers if w in failing), wafers[0])


def _measurements_section(records: RunRecords, charts: dict[str, Model]) -> str:
    measurements = records.measurements()
    if measurements.empty:
        return "<p>No measurement recorded.</p>"
    charts["measurements"] = figures.measurement_chart(measurements)
    shown = measurements[
        ["wafer_id", "name", "value", "unit", "low", "high", "passed", "source", "t"]
    ]
    shown = shown.assign(passed=["pass" if p else "fail" for p in shown["passed"]])
    return (
        "<p>Each measurement with both limits, placed within them (0: the low limit, 1: the "
        "high; hover for the value); every measurement in the table.</p>"
        + _slot("measurements")
        + _table(shown, verdict="passed")
    )


def _alarms_section(records: RunRecords) -> str:
    alarms = records.alarms()
    wafers = records.wafers()
    held = wafers[wafers["status"] != "completed"][["wafer_id", "status", "reason"]]
    confirmations = records.confirmations()
    dispositions = records.dispositions()
    events = records.events()
    return (
        f"<h3>Alarms ({len(alarms)})</h3>\n"
        + (
            _table(alarms[["t", "tool", "wafer_id", "code", "message"]])
            if len(alarms)
            else "<p>None.</p>"
        )
        + f"\n<h3>Wafers not completed ({len(held)})</h3>\n"
        + (_table(held) if len(held) else "<p>None: every wafer completed.</p>")
        + f"\n<h3>Dispositions of held wafers ({len(dispositions)})</h3>\n"
        + (
            _table(dispositions[["wafer_id", "held_reason", "decision", "by", "reason"]])
            if len(dispositions)
            else "<p>None.</p>"
        )
        + f"\n<h3>Operator confirmations ({len(confirmations)})</h3>\n"
        + (
            _table(confirmations[["t", "wafer_id", "prompt", "confirmed", "by"]])
            if len(confirmations)
            else "<p>None.</p>"
        )
        + f"\n<h3>Events ({len(events)})</h3>\n"
        + _table(events[["t", "session", "kind", "wafer_id", "message"]])
    )


# --------------------------------------------------------------------------------- helpers


def _changed(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """The per-site columns of `after` that a step changed from `before` (or added)."""
    skip = {"site", "unit", "x_mm", "y_mm", "hole"}
    changed = []
    for column in after.columns:
        if column in skip:
            continue
        if column not in before.columns or not np.array_equal(
            before[column].to_numpy(), after[column].to_numpy(), equal_nan=True
        ):
            changed.append(column)
    return changed


def _table(frame: pd.DataFrame, *, verdict: str | None = None) -> str:
    """A DataFrame as an HTML table, every cell escaped; numbers right-aligned; a `verdict`
    column's fail/pass cells coloured."""
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            css = ""
            if column == verdict:
                css = ' class="fail"' if value == "fail" else ' class="pass"'
            elif isinstance(value, int | float | np.number) and not isinstance(value, bool):
                css = ' class="num"'
            cells.append(f"<td{css}>{_e(_cell(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        return f"{number:.4g}" if abs(number) < 1e5 else f"{number:,.0f}"
    return str(value)


def _slot(name: str) -> str:
    """Where chart `name`'s element goes in a section (replaced once the charts are built)."""
    return f"<!--chart:{name}-->"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _wall(unix: float | None) -> str:
    return "" if unix is None else time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(unix))


def _duration(start: float, stop: float | None) -> str:
    return "still running" if stop is None else f"{(stop - start) / 3600:.2f} h"
