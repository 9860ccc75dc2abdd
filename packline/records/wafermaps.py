"""The run report's workpiece maps: one wafer's twin after each irreversible step, a map per
property the step changed, and a map per claim condition with failing sites (those in red)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bokeh.model import Model

from packline.sequences.engine import BadInput, Condition, RecipeError, TwinsAtSteps
from packline.sequences.engine.recorded_station import line_text
from packline.sequences.engine.stage import HOLDING_KINDS

from . import figures
from .claimsites import ConditionSites, condition_sites, run_conditions, unfinished_wafer
from .markup import cell, escape, slot, table
from .reader import RunRecords
from .sites import site_table


def maps_section(records: RunRecords, wafer: str | None, charts: dict[str, Model]) -> str:
    snaps = records.snapshots()
    if snaps.empty:
        # a station's tools, real or a simulated line another process serves (whose twin stays
        # in that process): named as `runs` and `show` name the line
        line = line_text(records.store.run(records.run_id))
        return (
            f"<p>No workpiece twin in this run (it drove {escape(line)}, whose workpieces the "
            "records do not twin): see the tools' measurements.</p>"
        )
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
    last = records.workpiece(wafer)
    final = site_table(last)
    # a lot's wafer is judged by the claim's conditions; a workpiece beside one (its board) by
    # those read on it (003:24), evaluated as the wafer it is beside reads them
    carrier = wafer if wafer in lot else _beside_whom(records, wafer)
    conditions_of: list[Condition] = []
    unread = None  # why the conditions could not be stated today
    try:
        conditions_of = run_conditions(records)
    except (RecipeError, BadInput) as error:  # a check added since refuses the recorded
        unread = str(error).splitlines()[0]  # recipe, or the method is not in this release
    if wafer not in lot:
        conditions_of = [c for c in conditions_of if c.on is not None and c.on(carrier) == wafer]
    at_step = TwinsAtSteps(records.store, records.run_id)
    unfinished = unfinished_wafer(records, carrier)
    results = condition_sites(conditions_of, carrier, records.workpiece, at_step, unfinished)
    site_count = len(final)
    # the sites of this map: the wafer's own conditions' on a wafer, those read on it on a board
    here = [c for c in results if (c.on is None) == (wafer in lot)]
    with_failures = [c for c in here if c.per_site(site_count) and c.failing.any()]
    charts["maps"] = figures.site_maps(
        final[["site", "unit", "x_mm", "y_mm"]].assign(**columns),
        layers,
        with_failures,
        last.geometry.entry_nouns,
    )
    rows = [
        {
            "claim": c.claim,
            "condition": c.condition,
            "checked": None if c.unjudged else int(c.checked.sum()),
            "failing": None if c.unjudged else int(c.failing.sum()),
            "mapped": _mapped(c, c in here, site_count),
        }
        for c in results
    ]
    conditions = table(
        pd.DataFrame(rows, columns=["claim", "condition", "checked", "failing", "mapped"])
    )
    # a board, a die wafer: beside the wafer whose steps changed it
    named = "Wafer " if wafer in lot else "Workpiece "
    named += f"<b>{escape(wafer)}</b>" + (
        "" if wafer in lot else f" beside wafer {escape(carrier)}"
    )
    return (
        f"<p>{named} (of {escape(', '.join(wafers))}; "
        "<code>packline report RUN --wafer ID</code> shows another): one map per property "
        f"each irreversible step changed, {site_count:,} sites each. Hover for values and "
        "site numbers, drag to "
        "pan, wheel to zoom: the maps move together.</p>\n"
        + (
            f"<p>Not mapped: this release cannot state the claim's conditions for the run's "
            f"recorded recipe ({escape(unread)}). The claim check as the run "
            f"recorded it is in <code>packline show {escape(records.run_id)}</code>.</p>\n"
            if unread
            else f"<h3>Claim conditions on {escape(wafer)}</h3>\n{conditions}\n"
            if results
            else f"<p>No claim condition is read on {escape(wafer)}: the claim's conditions "
            f"are judged on the lot's wafers (<code>--wafer</code> one of "
            f"{escape(', '.join(lot))}).</p>\n"
        )
        + (
            f"<p>Set to one value on every site (not mapped): {escape('; '.join(uniform))}.</p>\n"
            if uniform
            else ""
        )
        + slot("maps")
    )


def _mapped(sites: ConditionSites, here: bool, site_count: int) -> str:
    """Whether a condition's sites are on this section's maps, or where they are: a
    condition of a lot's wafer read on its board is on the board's maps; one not judged on
    this wafer (the run recorded no twin of the board, the wafer was held before the step it
    is judged after) on none, saying why."""
    if sites.unjudged is not None:
        return f"no ({sites.unjudged})"
    if not here:
        return f"on {sites.on}'s maps (--wafer {sites.on})"
    return "yes" if sites.per_site(site_count) else "no (per unit or per wafer)"


def _beside_whom(records: RunRecords, workpiece_id: str) -> str:
    """The lot's wafer whose steps a workpiece beside the lot was recorded with."""
    (carrier, *_) = [
        row["wafer_id"] for row in records.store.workpieces_beside(records.run_id, workpiece_id)
    ]
    return carrier


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
