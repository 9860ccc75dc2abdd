"""The run report's workpiece maps: one wafer's twin after each irreversible step, a map per
property the step changed, and a map per claim condition with failing sites (those in red)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.model import Model

from packline.sequences.engine import BadInput, Condition, RecipeError, TwinsAtSteps
from packline.sequences.engine.stage import HOLDING_KINDS

from . import figures
from .claimsites import condition_sites, run_conditions
from .markup import cell, escape, slot, table
from .reader import RunRecords
from .sites import site_table


def maps_section(records: RunRecords, wafer: str | None, charts: dict[str, Model]) -> str:
    snaps = records.snapshots()
    if snaps.empty:
        return "<p>No workpiece twin in this run (real tools): see the tools' measurements.</p>"
    twins = set(snaps["wafer_id"])
    # the lot's wafers in lot order, then the workpieces beside them (a board, a die wafer)
    lot = [w for w in records.wafers()["wafer_id"] if w in twins]
    beside = sorted(twins - set(lot))
    wafers = lot + beside
    if wafer is None:
        wafer = _first_failing(records, lot or beside)
    elif wafer not in wafers:
        raise BadInput(
            f"report --wafer {wafer}: run {records.run_id} holds no twin of it; "
            f"its wafers: {', '.join(wafers)}"
        )
    # the wafer's steps in the order they ran (a stage's snapshot, taken when it ends, is
    # its last step's)
    own = snaps[(snaps["wafer_id"] == wafer) & ~snaps["kind"].isin(HOLDING_KINDS)]
    own = own.sort_values("step_id").reset_index(drop=True)
    layers: list[tuple[str, str]] = []
    columns: dict[str, pd.Series] = {}
    uniform: list[str] = []
    step_ids = [int(step_id) for step_id in own["step_id"]]
    for index in own.index[own["irreversible"] == 1]:
        step = str(own["label"].iloc[index])
        after = site_table(records.workpiece(wafer, step_ids[index]))
        before = site_table(records.workpiece(wafer, step_ids[max(index - 1, 0)]))
        for column in _changed(before, after) if index else list(after.columns[4:]):
            values = after[column]
            if values.nunique(dropna=False) == 1:
                uniform.append(f"{step}: {column} = {cell(values.iloc[0])}")
                continue
            columns[f"{step}: {column}"] = values
            layers.append((f"after {step}: {column}", f"{step}: {column}"))
    final = site_table(records.workpiece(wafer))
    # the claim's conditions are the lot's wafers': a workpiece beside them is not judged by them
    conditions_of: list[Condition] = []
    unread = None  # why the conditions could not be stated today
    if wafer in lot:
        try:
            conditions_of = run_conditions(records)
        except RecipeError as error:  # a check added since refuses the recorded recipe
            unread = str(error).splitlines()[0]
    at_step = TwinsAtSteps(records.store, records.run_id)
    results = condition_sites(conditions_of, wafer, records.workpiece(wafer), at_step)
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
    conditions = table(
        pd.DataFrame(rows, columns=["claim", "condition", "checked", "failing", "mapped"])
    )
    return (
        f"<p>Wafer <b>{escape(wafer)}</b> (of {escape(', '.join(wafers))}; "
        "<code>packline report RUN --wafer ID</code> shows another): one map per property "
        f"each irreversible step changed, {site_count:,} sites each. Hover for values, drag to "
        "pan, wheel to zoom: the maps move together.</p>\n"
        + (
            f"<h3>Claim conditions on {escape(wafer)}</h3>\n"
            + (
                f"<p>Not mapped: this release refuses the run's recorded recipe, so it cannot "
                f"state the conditions ({escape(unread)}). The claim check as the run "
                f"recorded it is in <code>packline show {escape(records.run_id)}</code>.</p>\n"
                if unread
                else f"{conditions}\n"
            )
            if wafer in lot
            else f"<p>{escape(wafer)} is a workpiece beside the lot's wafers: the claim's "
            "conditions are judged on the wafers (<code>--wafer</code> one of "
            f"{escape(', '.join(lot))}).</p>\n"
        )
        + (
            f"<p>Set to one value on every site (not mapped): {escape('; '.join(uniform))}.</p>\n"
            if uniform
            else ""
        )
        + slot("maps")
    )


def _first_failing(records: RunRecords, wafers: list[str]) -> str:
    """The first wafer (in lot order) the recorded claim check found failing, else the
    first wafer with a twin."""
    failing = {w for text in records.claim_checks()["failing_wafers"] for w in text.split(",")}
    return next((w for w in wafers if w in failing), wafers[0])


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
