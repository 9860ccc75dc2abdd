"""The HTML of the run report's sections: tables of records, cells, escaping, the slots
where charts go, and clock values as people read them."""

from __future__ import annotations

import html
import time

import numpy as np
import pandas as pd

from packline.sequences.engine.progress import clock_text

#: A table's column of run-clock times (s), shown as H:MM:SS under this heading.
CLOCK_COLUMN, CLOCK_HEADING = "t", "at (run clock)"
#: A table's column of times on a served line's process clock (s, `process_time`: the run
#: clock times the line's time scale), as `show` lists them, H:MM:SS under this heading.
PROCESS_COLUMN, PROCESS_HEADING = "process_t", "at (process time)"
_CLOCK_HEADINGS = {CLOCK_COLUMN: CLOCK_HEADING, PROCESS_COLUMN: PROCESS_HEADING}


def table(frame: pd.DataFrame, *, verdict: str | None = None, figures: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table, every cell escaped; headings in words (`sites_checked`
    as "sites checked"); numbers right-aligned, and the columns of `figures` (numbers
    already written out, `figure_text`); a `verdict` column's fail/pass cells coloured (any
    other, such as 'recorded', left plain); run-clock and process times (`CLOCK_COLUMN`,
    `PROCESS_COLUMN`) as H:MM:SS."""
    head = "".join(f"<th>{escape(heading(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, values, strict=True):
            css = ""
            text = cell(value)
            if column == verdict:
                css = {"fail": ' class="fail"', "pass": ' class="pass"'}.get(str(value), "")
            elif column in _CLOCK_HEADINGS and isinstance(value, int | float | np.number):
                css, text = ' class="num"', clock_text(float(value))
            elif column in figures or (
                isinstance(value, int | float | np.number) and not isinstance(value, bool)
            ):
                css = ' class="num"'
            cells.append(f"<td{css}>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def heading(column: object) -> str:
    """A column's heading as people read it: words, not the records' field name."""
    return _CLOCK_HEADINGS.get(str(column)) or str(column).replace("_", " ")


def cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        return f"{number:.4g}" if abs(number) < 1e5 else f"{number:,.0f}"
    return str(value)


def slot(name: str) -> str:
    """Where chart `name`'s element goes in a section (replaced once the charts are built)."""
    return f"<!--chart:{name}-->"


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def wall_time(unix: float | None) -> str:
    return "" if unix is None else time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(unix))
