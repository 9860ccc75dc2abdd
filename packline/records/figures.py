"""The report's charts, as Bokeh models: a tool Gantt chart, tool time, process traces
against limits, measurements against limits, and wafer or panel maps of the twin; and the
control charts and capability histogram of `packline spc`.

Bokeh draws in the browser from data embedded in the page, so the report needs no server
and no network (docs/decisions/0013). A wafer's maps share one data source, so its site
coordinates are stored once however many properties are drawn, and the maps share their
axes (zooming one zooms all). Maps draw through WebGL: 60,000 sites stay fluid.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from bokeh.layouts import gridplot
from bokeh.models import (
    AdaptiveTicker,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    LayoutDOM,
    LinearColorMapper,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.models.annotations.geometry import Span
from bokeh.models.annotations.legends import ColorBar
from bokeh.models.renderers.renderer import DataRenderer
from bokeh.models.ui.ui_element import UIElement
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from packline.drivers.equipment import E10State, Limit
from packline.sequences.engine.stage import EVERY_STEP_DONE_BEFORE, HOLDING_KINDS

from .claimsites import ConditionSites
from .spc import ControlChart
from .tooltime import state_column, tool_uses

#: Colours of the E10 states in the Gantt chart and the tool-time bars.
STATE_COLOURS = {
    E10State.PRODUCTIVE: "#2ca02c",
    E10State.STANDBY: "#c7c7c7",
    E10State.ENGINEERING: "#17becf",
    E10State.SCHEDULED_DOWNTIME: "#ff7f0e",
    E10State.UNSCHEDULED_DOWNTIME: "#d62728",
    E10State.NON_SCHEDULED: "#7f7f7f",
}
#: Run clock on the charts' time axes: minutes.
MINUTE_S = 60.0
#: Chart sizes (pixels).
WIDE, SMALL = 1100, 360
#: The most characters of a map's title on one line (Bokeh's bold 13 px title across a map
#: `SMALL` + 60 px wide, less its toolbar).
MAP_TITLE_CHARACTERS = 40
#: Seconds as H:MM:SS in a chart's ticks and hover (Bokeh's numeral format of a time).
CLOCK_FORMAT = "00:00:00"
#: The colour of the line marking when an alarm latched on a tool's traces.
ALARM_COLOUR = "#8b0000"


def gantt(intervals: pd.DataFrame, steps: pd.DataFrame) -> figure:
    """Tools by run time: each tool's E10 states as a pale band, each wafer's stages on it
    as bars coloured by wafer, and the steps inside them as thin bars (hover: what, when).

    A stage a resume passed, its wafer having completed it in an earlier session (decision
    0122; an earlier release's pass, every step in it skipped, alike: `tool_uses`), did not
    hold its tool: the stage's bar is the earlier session's, where it happened, and the pass
    a hollow mark on the tool at the resume's time, its hover naming when the stage was done.
    A skipped step took no time and is drawn nowhere. A pass had been drawn as bars of no
    width at the resume's time, as if the wafer had been on the tool then."""
    tools = sorted(set(intervals["tool"]), reverse=True)
    plot = figure(
        y_range=FactorRange(factors=tools),
        width=WIDE,
        height=max(200, 60 * len(tools) + 80),
        x_axis_label="run clock (min)",
        title="tools by time: E10 state (band), each wafer's stage (bar) and steps (line)",
        tools="xpan,xwheel_zoom,box_zoom,reset,save",
    )
    bands = intervals.assign(
        left=intervals["start_t"] / MINUTE_S,
        right=intervals["stop_t"] / MINUTE_S,
        colour=[STATE_COLOURS[E10State(s)] for s in intervals["state"]],
    )
    band = plot.hbar(
        "tool",
        0.9,
        "right",
        "left",
        color="colour",
        alpha=0.35,
        legend_field="state",
        source=_source(bands),
    )
    plot.add_tools(HoverTool(renderers=[band], tooltips=[("tool", "@tool"), ("state", "@state")]))
    held = steps[steps["tool"].notna() & steps["tool"].isin(tools)]
    held = held.assign(
        left=held["started_t"] / MINUTE_S,
        right=held["stopped_t"].fillna(held["started_t"]) / MINUTE_S,
    )
    wafers = sorted(set(held["wafer_id"]))
    colour_of = {w: Category10_10[i % len(Category10_10)] for i, w in enumerate(wafers)}
    held = held.assign(colour=[colour_of[w] for w in held["wafer_id"]])
    tips = [
        ("wafer", "@wafer_id"),
        ("step", "@label"),
        ("claims", "@claims"),
        ("status", "@status"),
        ("start, stop (min)", "@left{0.0}, @right{0.0}"),
    ]
    holding = held["kind"].isin(HOLDING_KINDS)
    used = held["id"].isin(tool_uses(steps)["id"])
    stages = held[holding & used]
    inner = held[~holding & (held["status"] != "skipped")]
    renderers: list[DataRenderer] = [
        plot.hbar(
            "tool",
            0.5,
            "right",
            "left",
            color="colour",
            alpha=0.8,
            line_color="white",
            source=_source(stages),
        ),
        plot.hbar("tool", 0.12, "right", "left", color="black", source=_source(inner)),
    ]
    plot.add_tools(HoverTool(renderers=renderers, tooltips=tips))
    passes = held[holding & ~used]
    if not passes.empty:
        passes = passes.assign(why=passed_why(passes), done=done_before(passes, stages))
        mark = plot.scatter(
            "left",
            "tool",
            marker="diamond",
            size=11,
            fill_color="white",
            line_color="colour",
            line_width=2,
            legend_label="stage passed by a resume: done before (its bar)",
            source=_source(passes),
        )
        passed_tips = [
            ("wafer", "@wafer_id"),
            ("passed", "@label, at @left{0.0} min"),
            ("status", "@status: @why"),
            ("done", "@done"),
        ]
        plot.add_tools(HoverTool(renderers=[mark], tooltips=passed_tips))
    plot.legend.orientation = "horizontal"
    plot.add_layout(plot.legend[0], "below")
    return plot


def passed_why(passes: pd.DataFrame) -> list[str]:
    """Why each of `passes` (`gantt`'s) took no tool: its record's reason (`skipped`,
    'completed before: passed without taking its tool'), or of an earlier release's pass,
    recorded completed, what `show` says of it (`EVERY_STEP_DONE_BEFORE`)."""
    return [why if isinstance(why, str) else EVERY_STEP_DONE_BEFORE for why in passes["error"]]


def done_before(passes: pd.DataFrame, stages: pd.DataFrame) -> list[str]:
    """Where each of `passes` (stage rows passed, `gantt`'s) was done: its wafer's latest use
    of the stage (`stages`, by key) recorded before it (a resume's pass, or a pass in the same
    session of a wafer run again after a hold), 'in session 1, 0.0 to 10.2 min'; 'before'
    where no such use is drawn."""
    done = []
    for _, row in passes.iterrows():
        earlier = stages[
            (stages["wafer_id"] == row["wafer_id"])
            & (stages["key"] == row["key"])
            & (stages["id"] < row["id"])
        ]
        if earlier.empty:
            done.append("before")
            continue
        last = earlier.iloc[-1]
        done.append(f"in session {last['session']}, {last['left']:.1f} to {last['right']:.1f} min")
    return done


def tool_time_bars(times: pd.DataFrame) -> figure:
    """Each tool's run time split by E10 state (stacked bars), in H:MM:SS as the tool-time
    table beside it gives them, ticked at whole seconds, minutes or hours."""
    tools = list(times["tool"])[::-1]
    states = [s for s in E10State if times[state_column(s)].sum() > 0]
    data: dict[str, Any] = {"tool": tools}
    for state in states:
        data[state.value] = list(times[state_column(state)][::-1])
    plot = figure(
        y_range=FactorRange(factors=tools),
        width=WIDE // 2,
        height=max(200, 40 * len(tools) + 80),
        x_axis_label="time (h:mm:ss)",
        title="time per E10 state",
        tools="hover,save",
        tooltips=f"$name: @$name{{{CLOCK_FORMAT}}}",
    )
    plot.xaxis.ticker = AdaptiveTicker(base=60, mantissas=[1, 2, 5, 10, 15, 20, 30], min_interval=1)
    plot.xaxis.formatter = NumeralTickFormatter(format=CLOCK_FORMAT)
    plot.hbar_stack(
        [s.value for s in states],
        y="tool",
        height=0.7,
        color=[STATE_COLOURS[s] for s in states],
        source=ColumnDataSource(data),
        legend_label=[s.value for s in states],
    )
    plot.legend.orientation = "horizontal"
    plot.add_layout(plot.legend[0], "below")  # beside the bars, it covered the longest
    return plot


#: How many times its least value a trace's greatest must be for its chart's axis to be
#: logarithmic (three decades).
DECADES_FOR_LOG = 1000.0


def trace_panel(
    tool: str,
    samples: pd.DataFrame,
    limits: Mapping[str, Limit],
    alarms_t: Sequence[float] = (),
) -> LayoutDOM:
    """One tool's traces, one small chart per trace (their units differ) sharing the time
    axis; a trace with a matching setpoint limit shows it as dashed lines; each time in
    `alarms_t` (run clock, s: when an alarm of the tool latched) a solid vertical line on
    every chart (`ALARM_COLOUR`)."""
    plots: list[UIElement | None] = []
    shared: Range1d | None = None
    for (name, unit), rows in samples.groupby(["name", "unit"], sort=True):
        values = rows["value"].to_numpy()
        # a chamber's pressure spans atmosphere to its process (760,000 to 100 mTorr): on a
        # linear axis the process and its limits would lie flat at zero
        spans_decades = values.min() > 0 and values.max() / values.min() >= DECADES_FOR_LOG
        plot = figure(
            width=SMALL + 180,
            height=220,
            y_axis_type="log" if spans_decades else "linear",
            title=f"{tool}: {name} ({unit})" if unit else f"{tool}: {name}",
            x_axis_label="run clock (min)",
            tools="xpan,xwheel_zoom,box_zoom,reset,hover,save",
            tooltips=[("t (min)", "@x{0.00}"), (str(name), "@y{0.000}")],
        )
        plot.step(rows["t"].to_numpy() / MINUTE_S, values, mode="after", line_width=1.5)
        limit = limits.get(str(name))
        if limit is not None:
            for bound in (limit.minimum, limit.maximum):
                plot.add_layout(
                    Span(location=bound, dimension="width", line_dash="dashed", line_color="red")
                )
        for t in alarms_t:
            plot.add_layout(
                Span(location=t / MINUTE_S, dimension="height", line_color=ALARM_COLOUR)
            )
        if shared is None:
            shared = Range1d(
                start=float(samples["t"].min()) / MINUTE_S,
                end=float(samples["t"].max()) / MINUTE_S,
            )
        plot.x_range = shared
        plots.append(plot)
    return gridplot(plots, ncols=2, toolbar_location="right")


def measurement_chart(measurements: pd.DataFrame) -> figure:
    """Every measurement that has both limits, placed within them (0 the low limit, 1 the
    high), one column per measurement (by its `label`: two steps' processes of one name are
    two columns), one dot per wafer; failing values red."""
    bounded = measurements.dropna(subset=["low", "high"])
    bounded = bounded[bounded["high"] > bounded["low"]]
    label = bounded["label"] + " (" + bounded["unit"] + ")"
    data = bounded.assign(
        label=label,
        position=(bounded["value"] - bounded["low"]) / (bounded["high"] - bounded["low"]),
        colour=np.where(bounded["passed"] == 1, "#1f77b4", "#d62728"),
    )
    plot = figure(
        x_range=FactorRange(factors=list(dict.fromkeys(label))),
        width=WIDE,
        height=380,
        title="measurements within their limits (0: low limit, 1: high limit)",
        y_axis_label="position within the limits",
        tools="hover,save,reset,box_zoom",
        tooltips=[
            ("wafer", "@wafer_id"),
            ("measurement", "@label"),
            ("value", "@value"),
            ("limits", "@low .. @high"),
        ],
    )
    plot.scatter("label", "position", size=7, color="colour", source=_source(data))
    for bound in (0.0, 1.0):
        plot.add_layout(
            Span(location=bound, dimension="width", line_dash="dashed", line_color="red")
        )
    plot.xaxis.major_label_orientation = 0.6
    return plot


#: A site map's colours for a yes/no layer (yes, no) and for a condition's failing sites.
YES_COLOUR, NO_COLOUR, FAILING_COLOUR = "#1f77b4", "#d9d9d9", "#d62728"


def site_maps(
    sites: pd.DataFrame,
    layers: Sequence[tuple[str, str]],
    failing: Sequence[ConditionSites],
    entry_nouns: tuple[str, str],
) -> LayoutDOM:
    """Maps of one wafer or panel, one per (title, column of `sites`) in `layers`, drawn from
    one data source with shared axes; then one map per claim condition with failing sites,
    the failing sites in red over the passing ones. Hovering a site names it and its unit
    by their numbers, in the workpiece's words (`entry_nouns`: a wafer's pad and die), as
    the claim check names its worst site (`located_margin_text`): a margin's `(W01 pad
    7356)` could not be found on the maps, whose hover gave x and y alone."""
    data: dict[str, Any] = {
        "x": sites["x_mm"].to_numpy(np.float32),
        "y": sites["y_mm"].to_numpy(np.float32),
        "site": _compact(sites["site"].to_numpy()),
        "unit": _compact(sites["unit"].to_numpy()),
    }
    site_noun, unit_noun = entry_nouns
    where = [(f"{site_noun} ({unit_noun})", "@site (@unit)"), ("x, y (mm)", "@x{0.00}, @y{0.00}")]
    for index, (_, name) in enumerate(layers):
        data[f"v{index}"] = sites[name].to_numpy(np.float32)
    for index, condition in enumerate(failing):
        data[f"f{index}"] = condition.failing.astype(np.uint8)
    source = ColumnDataSource(data)
    reach = float(max(np.abs(data["x"]).max(initial=1), np.abs(data["y"]).max(initial=1))) * 1.05
    x_range, y_range = Range1d(start=-reach, end=reach), Range1d(start=-reach, end=reach)
    plots: list[UIElement | None] = []
    for index, (title, name) in enumerate(layers):
        values = data[f"v{index}"]
        yes_or_no = pd.api.types.is_bool_dtype(sites[name])
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        mapper = (
            LinearColorMapper(palette=[NO_COLOUR, YES_COLOUR], low=0, high=1)
            if yes_or_no  # two colours, not a scale between them
            else LinearColorMapper(
                palette=Viridis256, low=low, high=high if high > low else low + 1
            )
        )
        shown = f"{title} (yes: blue, no: grey)" if yes_or_no else title
        plot = _map_figure(shown, x_range, y_range, source, f"v{index}", mapper)
        plot.add_tools(HoverTool(tooltips=[*where, (name, f"@v{index}")]))
        if not yes_or_no:
            plot.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
        plots.append(plot)
    for index, condition in enumerate(failing):
        mapper = LinearColorMapper(palette=[NO_COLOUR, FAILING_COLOUR], low=0, high=1)
        title = f"claim {condition.claim}: {condition.condition} (failing: red)"
        plot = _map_figure(title, x_range, y_range, source, f"f{index}", mapper)
        plot.add_tools(HoverTool(tooltips=where))
        plots.append(plot)
    return gridplot(plots, ncols=2)


def control_plots(chart: ControlChart) -> LayoutDOM:
    """The control chart: the charted value (subgroup mean or single value) over the
    subgroups in order, then its spread (range or moving range), each with its centre line
    and control limits (steps where subgroup sizes differ); points out of control red;
    hover for the subgroup's run, wafers and values. The two share their x axis."""
    points = chart.points.reset_index(drop=True)
    data = points.assign(
        index=np.arange(1, len(points) + 1),
        colour=np.where(points["out_of_control"], "#d62728", "#1f77b4"),
    )
    source = _source(data)
    shared = Range1d(start=0.5, end=len(points) + 0.5)
    names = ("X-bar", "R") if chart.chart == "xbar-r" else ("individual value", "moving range")
    plots: list[UIElement | None] = []
    for name, field in zip(names, ("value", "spread"), strict=True):
        prefix = "" if field == "value" else "spread_"
        plot = figure(
            width=WIDE,
            height=300,
            x_range=shared,
            title=f"{name} ({chart.unit}): centre line and control limits (dashed)",
            x_axis_label=f"{chart.subgroup} (in the order of the runs)",
            tools="xpan,xwheel_zoom,box_zoom,reset,save",
        )
        for limit, dash in (("lcl", "dashed"), ("cl", "solid"), ("ucl", "dashed")):
            plot.step(
                "index",
                prefix + limit,
                source=source,
                mode="center",
                line_dash=dash,
                line_color="#555555",
            )
        plot.line("index", field, source=source, line_color="#1f77b4")
        dots = plot.scatter("index", field, source=source, size=7, color="colour")
        plot.add_tools(
            HoverTool(
                renderers=[dots],
                tooltips=[
                    ("subgroup", "@label"),
                    ("wafers", "@wafers"),
                    ("n", "@n"),
                    (name, f"@{field}{{0.000}}"),
                    ("limits", f"@{prefix}lcl{{0.000}} .. @{prefix}ucl{{0.000}}"),
                ],
            )
        )
        plots.append(plot)
    return gridplot(plots, ncols=1)


def capability_histogram(values: np.ndarray, chart: ControlChart) -> figure:
    """The values' histogram against the measurement's limits (red, dashed) and their mean."""
    counts, edges = np.histogram(values, bins=min(30, max(5, len(values) // 3)))
    plot = figure(
        width=WIDE // 2,
        height=300,
        title=f"{chart.measurement}: every value against its limits (red)",
        x_axis_label=chart.unit,
        y_axis_label="values",
        tools="hover,save,reset",
        tooltips=[("from", "@left{0.000}"), ("to", "@right{0.000}"), ("values", "@top")],
    )
    plot.quad(
        top=counts, bottom=0, left=edges[:-1], right=edges[1:], fill_alpha=0.6, line_color="white"
    )
    capability = chart.capability
    for bound in (capability.low, capability.high):
        if bound is not None:
            plot.add_layout(
                Span(location=bound, dimension="height", line_dash="dashed", line_color="red")
            )
    plot.add_layout(Span(location=capability.mean, dimension="height", line_color="black"))
    return plot


def _compact(numbers: np.ndarray) -> np.ndarray:
    """Integers in the narrowest type that holds them: the page carries every site's."""
    if not numbers.size:
        return numbers
    kind = np.result_type(np.min_scalar_type(numbers.min()), np.min_scalar_type(numbers.max()))
    return numbers.astype(kind)


def _map_figure(
    title: str,
    x_range: Range1d,
    y_range: Range1d,
    source: ColumnDataSource,
    field: str,
    mapper: LinearColorMapper,
) -> figure:
    """A map of the sites in `source`, coloured by `field` through `mapper`, on the shared
    ranges, drawn through WebGL; its title wrapped to the map's width (`MAP_TITLE_CHARACTERS`:
    on one line a long one was cut off, `openings.layers[`)."""
    plot = figure(
        title="\n".join(textwrap.wrap(title, MAP_TITLE_CHARACTERS)),
        width=SMALL + 60,
        height=SMALL,
        x_range=x_range,
        y_range=y_range,
        match_aspect=True,
        output_backend="webgl",
        x_axis_label="x (mm)",
        y_axis_label="y (mm)",
        tools="pan,wheel_zoom,box_zoom,reset,save",
    )
    plot.scatter(
        "x",
        "y",
        source=source,
        size=3,
        line_color=None,
        fill_color={"field": field, "transform": mapper},
    )
    return plot


def _source(frame: pd.DataFrame) -> ColumnDataSource:
    """A data source of a table's columns (given as columns: Bokeh's own DataFrame path
    uses an in-place reset_index that pandas deprecates)."""
    return ColumnDataSource({str(c): frame[c].to_numpy() for c in frame.columns})
