"""Statistical process control of a measurement across runs: control charts and capability.

A measurement (`measurements` table: one value per wafer and name) of every run of a method
is charted in the order the runs started and, within a run, the lot's order:

* **X-bar/R** (`xbar-r`): the values in subgroups, one per run (the lot) or one per wafer
  (the values a wafer has of the measurement), each subgroup's mean and range. The process
  sigma within subgroups is the mean of R_i / d2(n_i) over the subgroups of at least two
  values (R-bar / d2 when they are all of one size); the X-bar chart's centre is the mean of
  every value, its limits centre +- 3 sigma / sqrt(n_i) (A2 R-bar for subgroups of one size),
  the R chart's centre d2(n_i) sigma and its limits (d2(n_i) +- 3 d3(n_i)) sigma, the lower
  one no less than 0 (D3 R-bar and D4 R-bar for one size).
* **Individuals** (`individuals`): each value alone, its moving range the difference from the
  value before; sigma is MR-bar / d2(2), the limits the mean +- 3 sigma, the moving range's
  upper limit D4(2) MR-bar = (d2(2) + 3 d3(2)) sigma.

The d2 and d3 constants (the mean and the standard deviation of the range of n normal values
in units of their sigma) are the standard table's, for subgroups of 2 to 25 values (ASTM
E2587); a larger subgroup is refused (its range wastes the data: chart individuals).

A point outside its limits is flagged (the first Western Electric rule). An X-bar/R chart
whose subgroups have no spread at all (identical dry runs) has limits of no width, which would
flag every subgroup off the centre line whatever the process: it flags none and says why, and
what to chart instead where the subgroups differ (`NO_SPREAD_WITHIN`, `CHART_EACH_VALUE`), or
that every value is equal (`NONE_BETWEEN`); an individuals chart of equal values likewise
(`NO_SPREAD_BETWEEN`). Capability is
against the measurement's own limits (`low`, `high`, as the latest run recorded them): Cpk =
min(high - mean, mean - low) / (3 sigma within), one-sided when one limit is missing; Ppk the
same with the standard deviation of every value (sample, n - 1); Cp and Pp the spread of the
two limits over 6 sigma. A sigma that is rounding noise beside the values (`ROUNDING_NOISE`)
is 0: equal values have no spread, and no index. Which numbers are which, with a known data
set: tests/records/test_spc.py; how to read them: docs/results.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from packline.rendering import RECIPE_SHOWN, counted
from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.method import measurements_now
from packline.sequences.engine.report import attempt_text
from packline.shown_figures import steps_text
from packline.spelling import did_you_mean

from .reader import RunRecords, runs_since

#: The kinds of chart, as `--chart` names them.
CHARTS = ("xbar-r", "individuals")
#: What an X-bar/R subgroup is, as `--subgroup` names it.
SUBGROUPS = ("run", "wafer")
#: d2 and d3 of subgroups of n = 2 .. 25 values (ASTM E2587, table 4), by n.
D2_D3: dict[int, tuple[float, float]] = {
    2: (1.128, 0.853), 3: (1.693, 0.888), 4: (2.059, 0.880), 5: (2.326, 0.864),
    6: (2.534, 0.848), 7: (2.704, 0.833), 8: (2.847, 0.820), 9: (2.970, 0.808),
    10: (3.078, 0.797), 11: (3.173, 0.787), 12: (3.258, 0.778), 13: (3.336, 0.770),
    14: (3.407, 0.763), 15: (3.472, 0.756), 16: (3.532, 0.750), 17: (3.588, 0.744),
    18: (3.640, 0.739), 19: (3.689, 0.733), 20: (3.735, 0.729), 21: (3.778, 0.724),
    22: (3.819, 0.720), 23: (3.858, 0.716), 24: (3.895, 0.712), 25: (3.931, 0.708),
}  # fmt: skip
#: What an X-bar/R chart says when no subgroup has any spread (identical dry runs: the
#: simulated tools repeat a recipe exactly, wafer after wafer), instead of flagging every
#: subgroup off the centre line; then `CHART_EACH_VALUE` or `NONE_BETWEEN`, which it ends
#: before.
NO_SPREAD_WITHIN = (
    "no spread within any {subgroup}: its values are all equal (dry runs of a recipe repeat "
    "it exactly), so sigma within is 0 and the X-bar limits collapse onto the centre line, "
    "where they would flag every {subgroup} off it whatever the process; no {subgroup} is "
    "judged. "
)
#: What `NO_SPREAD_WITHIN` goes on to say where the subgroups differ from each other.
CHART_EACH_VALUE = (
    "To compare the {subgroup}s with each other, chart each value: --chart individuals"
)
#: What it goes on to say where every value is equal: charted one by one, they would not be
#: judged either (`NO_SPREAD_BETWEEN`), which the advice to chart them had led a trial to.
NONE_BETWEEN = (
    "Nor do the {subgroup}s differ from each other: every value is equal, which no chart "
    "judges (charted one by one, their limits collapse too)"
)
#: What an individuals chart says when its values have no spread at all (identical dry runs):
#: its limits collapse onto the centre line, and every value sits on it.
NO_SPREAD_BETWEEN = (
    "no spread between the values: they are all equal (dry runs of a recipe repeat it "
    "exactly), so the moving range is 0 and the limits collapse onto the centre line; no "
    "value is judged"
)
#: How small a standard deviation may be beside the values' magnitude (their largest) and be
#: the arithmetic's rounding, not a spread: the mean of seven equal 63.4 um is not exactly 63.4,
#: so their sample deviation came out 7.7e-15 um, and Pp 2.8e+14. Summing thousands of values
#: rounds far less than this; no measurement resolves a spread this small.
ROUNDING_NOISE = 1e-12
#: The columns of `ControlChart.points`.
POINT_COLUMNS = (
    "label", "run_id", "wafers", "n", "value", "lcl", "cl", "ucl",
    "spread", "spread_lcl", "spread_cl", "spread_ucl", "out_of_control",
)  # fmt: skip


@dataclass(frozen=True)
class Capability:
    """The process against the measurement's limits: the mean, sigma within subgroups and
    overall, and the indices (None where a limit they need is missing)."""

    mean: float
    sigma_within: float
    sigma_overall: float
    low: float | None
    high: float | None
    #: whether the low limit is one the value had to pass, not reach (the records'
    #: `low_exclusive`, decision 0129: a reflow's peak above its solder's liquidus)
    low_exclusive: bool
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None


@dataclass(frozen=True)
class ControlChart:
    """A measurement's control chart: one row of `points` per subgroup (`POINT_COLUMNS`:
    its label, run, wafers, size, the charted value (a mean or a single value) with its
    limits, the spread (range or moving range) with its limits, and whether either is out
    of its limits), and the process's `capability`."""

    measurement: str
    unit: str
    method: str
    chart: str
    subgroup: str
    points: pd.DataFrame
    capability: Capability
    #: Why the chart judged no point, and what to do (`NO_SPREAD_WITHIN`); None: it judged.
    note: str | None = None
    #: The recipes of the runs charted (their sha256), each with how many runs, in the order
    #: first charted: more than one, and runs of different recipes are judged against one
    #: process's limits (the last run's), which `--recipe` avoids.
    recipes: tuple[tuple[str, int], ...] = ()
    #: The steps the values charted were read to (their records' `resolution`: a grinder's
    #: gauge's), each once in the order first charted; None for values whose records do not
    #: say (a measurement without one, a run recorded before decision 0121).
    resolutions: tuple[float | None, ...] = ()

    def resolutions_text(self) -> str | None:
        """What the values charted could resolve, where their records say: 'values read in
        0.5 um steps', or, of instruments of several steps, each ('values read in 0.1 um and
        0.5 um steps: instruments of several resolutions mixed'), and whether some values'
        records do not say; None where none says."""
        steps = [step for step in self.resolutions if step is not None]
        if not steps:
            return None
        mixed = ": instruments of several resolutions mixed" if len(steps) > 1 else ""
        unsaid = "; some values' records do not say theirs" if None in self.resolutions else ""
        return f"values {steps_text(self.unit, *steps)}{mixed}{unsaid}"

    def mixed_recipes_text(self) -> str | None:
        """What the reader must know when the runs charted are of several recipes (None when
        of one): which, and how to chart one."""
        if len(self.recipes) < 2:
            return None
        each = ", ".join(
            f"{sha[:RECIPE_SHOWN]} ({counted(runs, 'run')})" for sha, runs in self.recipes
        )
        return (
            f"runs of {len(self.recipes)} recipes mixed: {each}; all are judged against one "
            "process and the last run's limits: chart one recipe with --recipe HASH"
        )

    def as_json(self) -> dict[str, Any]:
        """The chart as plain data (`--json`)."""
        return {
            "measurement": self.measurement,
            "unit": self.unit,
            "method": self.method,
            "chart": self.chart,
            "subgroup": self.subgroup,
            # whether its points were judged at all: unjudged (`note` says why), each point's
            # `out_of_control` false says nothing (a script had read "in control")
            "judged": self.note is None,
            "note": self.note,
            "recipes": [{"sha256": sha, "runs": runs} for sha, runs in self.recipes],
            "resolutions": list(self.resolutions),
            "capability": self.capability.__dict__,
            "points": json.loads(self.points.to_json(orient="records")),
        }


def measurement_values(
    store: RunStore,
    name: str,
    method: str,
    *,
    since_wall: float | None = None,
    step: str | None = None,
    recipe: str | None = None,
) -> pd.DataFrame:
    """Every value of measurement `name` in the runs of `method` started at or after Unix
    time `since_wall` (of recipe `recipe`, its name or sha256's start; taken at step `step`,
    by its label, `step_labels`), in order (runs by start, wafers by lot position): `run_id`,
    `recipe_hash`, `wafer_id`, `attempt` (which try of its step, where the wafer's rework
    measured it again; else None), `value`, `unit`, `resolution` (the step its instrument read
    it to, where its records say), `low`, `high`, `low_exclusive`. `name` is the measurement's
    name or its label where several steps take it (`measurement_labels`, as `diff` and `show
    --json` list it: 'bump height max at inspect bump heights #2'). A run recorded before a
    measurement or its step was renamed gives it under its names now (`measurements_now`).
    BadInput naming what there is when there is no such run or measurement, or when several
    steps take a measurement of that name and `step` does not say which: steps of different
    names (two-process-via's plasma process time of its descum and of its dry etch) or each
    run of a step the script runs more than once (sprout-bump-csp's bump heights of each
    level of its bumps, `inspect bump heights #1` and `#2`) are each their own process."""
    runs = runs_since(store, method=method, since_wall=since_wall, recipe=recipe)
    if not runs:
        of_recipe = "" if recipe is None else f" of recipe {recipe!r} (by name or sha256)"
        raise BadInput(
            f"spc: no run of method {method!r}{of_recipe} in {store.path} "
            "(see `packline runs`, its --recipe)"
        )
    frames, names, steps_taking = [], set(), set()
    for run in runs:
        records = RunRecords(store, run["id"])
        measured = pd.DataFrame(
            measurements_now(
                method, store.table("measurements", run["id"]), store.table("steps", run["id"])
            ),
            columns=[*store.columns("measurements"), "step", "step_label", "label", "attempt"],
        )
        names |= set(measured["name"])
        own = measured[(measured["name"] == name) | (measured["label"] == name)]
        if own.empty:
            continue
        steps_taking |= set(own["step_label"].dropna())
        if step is not None:
            own = own[own["step_label"] == step]
        if own.empty:
            continue
        order = records.wafers()[["wafer_id", "position"]]
        own = own.merge(order, on="wafer_id").sort_values(["position", "id"], kind="stable")
        frames.append(own.assign(run_id=run["id"], recipe_hash=run["recipe_hash"]))
    if step is not None and not frames and steps_taking:
        raise BadInput(
            f"spc: no measurement {name!r} taken at step {step!r} in the runs of {method} "
            f"chosen; steps that take it: {', '.join(sorted(steps_taking))}"
        )
    if not frames:
        known = ", ".join(sorted(names)) or "none"
        raise BadInput(
            f"spc: no measurement {name!r} in the {len(runs)} runs of {method} chosen "
            f"(their measurements: {known}){did_you_mean(name, sorted(names))}"
        )
    if step is None and len(steps_taking) > 1:
        raise BadInput(
            f"spc: {name!r} is taken at {len(steps_taking)} steps of {method}, each its own "
            f"process: {', '.join(sorted(steps_taking))}; say which with --step STEP"
        )
    values = pd.concat(frames, ignore_index=True)
    units = sorted(set(values["unit"]))
    if len(units) > 1:
        raise BadInput(f"spc: measurement {name!r} is recorded in several units: {units}")
    return values[
        [
            "run_id",
            "recipe_hash",
            "wafer_id",
            "attempt",
            "value",
            "unit",
            "resolution",
            "low",
            "high",
            "low_exclusive",
        ]
    ]


def control_chart(
    values: pd.DataFrame, *, measurement: str, method: str, chart: str, subgroup: str = "run"
) -> ControlChart:
    """The control chart `chart` (one of `CHARTS`; X-bar/R subgroups by `subgroup`, one of
    `SUBGROUPS`) of `values` as `measurement_values` returns them (see the module docstring)."""
    if chart not in CHARTS:
        raise BadInput(f"spc --chart {chart!r}: one of {', '.join(CHARTS)}")
    if subgroup not in SUBGROUPS:
        raise BadInput(f"spc --subgroup {subgroup!r}: one of {', '.join(SUBGROUPS)}")
    if chart == "individuals":
        points, sigma = _individuals(values)
    else:
        points, sigma = _xbar_r(values, subgroup)
    out = (points["value"] > points["ucl"]) | (points["value"] < points["lcl"])
    out |= (points["spread"] > points["spread_ucl"]) | (points["spread"] < points["spread_lcl"])
    # no spread: limits of no width judge nothing (NO_SPREAD_WITHIN, NO_SPREAD_BETWEEN)
    judged = sigma > 0
    points["out_of_control"] = out & judged
    if chart == "individuals":
        unjudged = NO_SPREAD_BETWEEN
    else:
        then = CHART_EACH_VALUE if values["value"].nunique() > 1 else NONE_BETWEEN
        unjudged = (NO_SPREAD_WITHIN + then).format(subgroup=subgroup)
    return ControlChart(
        measurement=measurement,
        unit=str(values["unit"].iloc[0]),
        method=method,
        chart=chart,
        subgroup="value" if chart == "individuals" else subgroup,
        points=points[list(POINT_COLUMNS)],
        capability=capability(values, sigma),
        note=None if judged else unjudged,
        recipes=tuple(
            (str(sha), int(runs))
            for sha, runs in values.drop_duplicates("run_id")["recipe_hash"]
            .value_counts(sort=False)
            .items()
        ),
        resolutions=tuple(
            None if pd.isna(step) else float(step) for step in values["resolution"].unique()
        ),
    )


def capability(values: pd.DataFrame, sigma_within: float) -> Capability:
    """Cp, Cpk, Pp and Ppk of `values` against the limits of its last row (see the module
    docstring), with sigma within subgroups `sigma_within`."""
    data = values["value"].to_numpy(dtype=float)
    mean = float(data.mean())
    overall = _spread(float(data.std(ddof=1)), data) if len(data) > 1 else math.nan
    last = values.iloc[-1]
    low, high = (_limit(last[column]) for column in ("low", "high"))
    low_exclusive = low is not None and _limit(last["low_exclusive"]) == 1
    cp, cpk = _indices(mean, sigma_within, low, high)
    pp, ppk = _indices(mean, overall, low, high)
    return Capability(mean, sigma_within, overall, low, high, low_exclusive, cp, cpk, pp, ppk)


def _spread(sigma: float, data: np.ndarray) -> float:
    """`sigma` of the values `data`, or 0 where it is rounding noise beside their magnitude
    (`ROUNDING_NOISE`): equal values have no spread, however their mean rounds."""
    return 0.0 if sigma <= ROUNDING_NOISE * float(np.abs(data).max()) else sigma


def _indices(
    mean: float, sigma: float, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """(Cp, Cpk) for `sigma`: None where not defined (no limit, no spread)."""
    if not sigma > 0:
        return None, None
    sides = [(high - mean) if high is not None else None, (mean - low) if low is not None else None]
    present = [side for side in sides if side is not None]
    spread = (high - low) / (6 * sigma) if low is not None and high is not None else None
    return spread, (min(present) / (3 * sigma) if present else None)


def _xbar_r(values: pd.DataFrame, subgroup: str) -> tuple[pd.DataFrame, float]:
    keys = ["run_id"] if subgroup == "run" else ["run_id", "wafer_id"]
    groups = values.groupby(keys, sort=False)["value"]
    points = groups.agg(n="size", value="mean", spread=lambda v: v.max() - v.min()).reset_index()
    points["wafers"] = values.groupby(keys, sort=False)["wafer_id"].agg(",".join).to_numpy()
    if points["n"].max() > max(D2_D3):
        raise BadInput(
            f"spc: subgroups of up to {max(D2_D3)} values chart by X-bar/R; "
            f"{points['n'].max()} values in one {subgroup}: use --chart individuals"
        )
    ranged = points[points["n"] >= 2]
    if ranged.empty:
        raise BadInput(
            f"spc: every {subgroup} holds one value of the measurement, which has no range: "
            "use --chart individuals" + (" or --subgroup run" if subgroup == "wafer" else "")
        )
    d2 = points["n"].map(lambda n: D2_D3.get(n, (math.nan, math.nan))[0])
    d3 = points["n"].map(lambda n: D2_D3.get(n, (math.nan, math.nan))[1])
    sigma = float((ranged["spread"] / d2[ranged.index]).mean())
    sigma = _spread(sigma, values["value"].to_numpy(dtype=float))
    centre = float(values["value"].mean())
    half = 3 * sigma / np.sqrt(points["n"])
    points = points.assign(
        label=points["run_id"] if subgroup == "run" else points["run_id"] + " " + points["wafers"],
        lcl=centre - half,
        cl=centre,
        ucl=centre + half,
        spread=points["spread"].where(points["n"] >= 2),
        # + 0.0: a constant measurement's (negative x 0) is -0.0, which would print as -0
        spread_lcl=((d2 - 3 * d3) * sigma).clip(lower=0) + 0.0,
        spread_cl=d2 * sigma,
        spread_ucl=(d2 + 3 * d3) * sigma,
    )
    return points, sigma


def _individuals(values: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    if len(values) < 2:
        raise BadInput("spc: an individuals chart needs at least two values (one found)")
    data = values["value"].to_numpy(dtype=float)
    moving = np.abs(np.diff(data, prepend=np.nan))
    d2, d3 = D2_D3[2]
    sigma = _spread(float(np.nanmean(moving) / d2), data)
    centre = float(data.mean())
    points = pd.DataFrame(
        {
            # a wafer its rework measured again is charted once per try, each saying which
            "label": [
                f"{run} {wafer}{attempt_text(None if pd.isna(attempt) else int(attempt))}"
                for run, wafer, attempt in zip(
                    values["run_id"], values["wafer_id"], values["attempt"], strict=True
                )
            ],
            "run_id": values["run_id"],
            "wafers": values["wafer_id"],
            "n": 1,
            "value": data,
            "lcl": centre - 3 * sigma,
            "cl": centre,
            "ucl": centre + 3 * sigma,
            "spread": moving,
            "spread_lcl": 0.0,
            "spread_cl": d2 * sigma,
            "spread_ucl": (d2 + 3 * d3) * sigma,
        }
    )
    return points, sigma


def _limit(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
