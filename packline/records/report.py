"""`packline report`: one run as one self-contained HTML file, to open in any browser.

The page holds everything it shows: the charts' data and the Bokeh library that draws them
are inlined, so it opens from a disk, a mail or a shared drive with no network and no server
(docs/decisions/0013). Its sections, each a `<section>` with an id, in the order a process
engineer reads a run: what came of it first, how it got there next, the recipe last:

* `run`: the header (method, status, lot, operator, station, the recipe's source and hash,
  sessions, clocks), the tools as read at connect (vendor, model, serial number, firmware)
  and the packline and Bokeh versions that wrote the page;
* `claims`: the claim check of a dry run, one row per condition with its sites checked and
  passing, the share passing and the recorded margin (the worst site and its distance to the
  limit), or on real tools what the tools measured;
* `wafers`: the wafers not completed and why, those completed on an operator's decision
  (each step a resume accepted as done on a release, each rework a resume carried out, said
  as `show` says them) and the operators' dispositions of them;
* `maps`: one wafer's twin (the first that fails a claim condition, else the first, or the one
  asked for) after each irreversible step, a map per property the step changed, and a map per
  claim condition that has failing sites, those sites in red;
* `measurements`: every measurement against its limits, by wafer, and as a table;
* `traces`: every process trace of every tool against its setpoint's limits;
* `timeline`: a Gantt chart of the tools by run time, each tool's E10 state as a band, each
  wafer's stages and steps as bars, a stage a resume passed (done before) as a mark;
* `tool-time`: each tool's time per E10 state, utilisation, OEE, and the bottleneck;
* `alarms`: alarms, operator confirmations, and the run's events;
* `recipe`: how the recipe stands against the shipped recipe it is read against, as `show`
  says it (the values that differ, each beside the shipped one, or `as shipped`), then the
  recipe as written and as validated, folded (a `<details>` the reader opens), as `show`
  keeps it behind `--whole-recipe`: some 200 lines that had come before the claim check.

This module lays out the page; `sections` and `wafermaps` build the sections, `markup` their
tables and cells, `figures` their charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bokeh.document import Document
from bokeh.embed import components
from bokeh.embed.bundle import bundle_for_objs_and_resources
from bokeh.model import Model
from bokeh.resources import INLINE

from packline.sequences.engine import BadInput

from .markup import escape, slot
from .reader import RunRecords
from .sections import (
    alarms_section,
    claims_section,
    measurements_section,
    recipe_section,
    run_section,
    timeline_section,
    tool_time_section,
    traces_section,
    wafers_section,
)
from .wafermaps import maps_section

#: The page's sections: id -> heading, in page order (see the module docstring).
SECTIONS = {
    "run": "Run",
    "claims": "Claim check",
    "wafers": "Held wafers and decisions",
    "maps": "Workpiece maps",
    "measurements": "Measurements",
    "traces": "Process traces",
    "timeline": "Tools by time",
    "tool-time": "Tool time (E10)",
    "alarms": "Alarms, confirmations and events",
    "recipe": "Recipe",
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
summary { cursor: pointer; font-weight: bold; margin: .5em 0; }
section { margin-top: 2em; }
"""


def write_report(records: RunRecords, path: str | Path, *, wafer: str | None = None) -> Path:
    """Write the run's report to `path` (an .html file; its folder must exist), its maps of
    `wafer` (`render_report`); the path. A `wafer` the run does not have writes nothing."""
    return save_page(render_report(records, wafer=wafer), path, what="report")


def save_page(page: str, path: str | Path, *, what: str) -> Path:
    """Write HTML `page` to `path`, its folder existing; BadInput naming `what` and the
    path when it cannot be written. The path."""
    target = Path(path)
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise BadInput(f"{what} {target}: cannot write it ({error.strerror})") from None
    return target


def render_report(records: RunRecords, *, wafer: str | None = None) -> str:
    """The run's report as one HTML document (see the module docstring), its maps of `wafer`
    (a whole id or a unique end of one, `RunRecords.wafer_named`), else of the first wafer
    failing a claim condition. A `wafer` the run does not have is bad input, checked first,
    on real tools too, where the run has no twin to map."""
    if wafer is not None:
        wafer = records.wafer_named(wafer)
    header = records.header()
    charts: dict[str, Model] = {}
    body = {
        "run": run_section(records, header),
        "claims": claims_section(records, header),
        "wafers": wafers_section(records),
        "maps": maps_section(records, wafer, charts),
        "measurements": measurements_section(records, charts),
        "traces": traces_section(records, header, charts),
        "timeline": timeline_section(records, charts),
        "tool-time": tool_time_section(records, charts),
        "alarms": alarms_section(records),
        "recipe": recipe_section(records, header),
    }
    title = f"packline run {header['id']}: {header['method']}"
    return html_page(title, {key: (SECTIONS[key], body[key]) for key in SECTIONS}, charts)


def html_page(title: str, sections: Mapping[str, tuple[str, str]], charts: dict[str, Model]) -> str:
    """A self-contained HTML page: `title`, then a link to each of `sections` (id -> heading
    and its HTML, in page order, whose `slot`s the `charts` of those names fill), and the
    part of the Bokeh library that draws them inlined (no network needed to open it)."""
    if charts:
        # one document holding every chart, its models indexed once (`components` would add
        # the charts one by one, indexing every model again for each)
        document = Document()
        with document.models.freeze():
            for chart in charts.values():
                document.add_root(chart)
    script, divs = components(charts) if charts else ("", {})
    bundle = bundle_for_objs_and_resources(list(charts.values()), INLINE)
    library = "\n".join(f"<script>{js}</script>" for js in bundle.js_raw)
    library += "\n".join(f"<style>{css}</style>" for css in bundle.css_raw)
    parts = []
    for key, (heading, content) in sections.items():
        for name, div in divs.items():
            content = content.replace(slot(name), div)
        parts.append(f'<section id="{key}"><h2>{heading}</h2>\n{content}\n</section>')
    nav = " ".join(f'<a href="#{key}">{heading}</a>' for key, (heading, _) in sections.items())
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>\n'
        f"<style>{STYLE}</style>\n{library}\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n<nav>{nav}</nav>\n" + "\n".join(parts) + f"\n{script}\n"
        "</body></html>\n"
    )
