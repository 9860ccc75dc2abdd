"""`packline spc --html`: a control chart as one self-contained HTML page, like the report.

Its sections: `chart`, the control chart (the charted value and its spread, each with its
centre line and limits) and the values' histogram against the measurement's limits;
`capability`, the mean, the sigmas and Cp, Cpk, Pp, Ppk; `points`, every subgroup with its
limits and whether it is out of control. The page is assembled as the run report is
(`report.html_page`: Bokeh inlined, no network needed to open it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from bokeh.model import Model

from .figures import capability_histogram, control_plots
from .markup import escape, slot, table
from .report import html_page, save_page
from .spc import ControlChart


def render_spc(chart: ControlChart, values: pd.DataFrame) -> str:
    """The page of `chart`, drawn from `values` (`spc.measurement_values`)."""
    charts: dict[str, Model] = {
        "control": control_plots(chart),
        "histogram": capability_histogram(values["value"].to_numpy(dtype=float), chart),
    }
    capability = chart.capability
    figures = pd.DataFrame(
        [
            ("mean", capability.mean),
            ("sigma within subgroups", capability.sigma_within),
            ("sigma overall", capability.sigma_overall),
            ("low limit (exclusive)" if capability.low_exclusive else "low limit", capability.low),
            ("high limit", capability.high),
            ("Cp", capability.cp),
            ("Cpk", capability.cpk),
            ("Pp", capability.pp),
            ("Ppk", capability.ppk),
        ],
        columns=["figure", chart.unit],
    )
    points = chart.points.assign(out_of_control=np.where(chart.points["out_of_control"], "yes", ""))
    note = f"<p>Not judged: {escape(chart.note)}.</p>" if chart.note else ""
    if mixed := chart.mixed_recipes_text():
        note += f"<p>{escape(mixed[0].upper() + mixed[1:])}.</p>"
    if read := chart.resolutions_text():
        note += f"<p>{escape(read[0].upper() + read[1:])}.</p>"
    sections = {
        "chart": ("Control chart", note + slot("control") + slot("histogram")),
        "capability": ("Capability", table(figures.astype(object))),
        "points": ("Subgroups", table(points)),
    }
    title = (
        f"packline spc: {chart.chart} chart of {chart.measurement} ({chart.unit}), "
        f"method {chart.method}"
    )
    return html_page(title, sections, charts)


def write_spc(chart: ControlChart, values: pd.DataFrame, path: str | Path) -> Path:
    """Write the page of `chart` to `path` (its folder must exist); the path."""
    return save_page(render_spc(chart, values), path, what="spc --html")
