"""`packline diff RUN_A RUN_B`: two runs side by side: the recipe values and the tools that
differ, the timings, each measurement over the lot, and the claim check's margins."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from statistics import mean
from typing import Any

from rich.console import Console

from packline.rendering import DataTable, counted
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.identity import sim_options_text
from packline.sequences.engine.liveness import INTERRUPTED
from packline.sequences.engine.method import measurements_now
from packline.sequences.engine.progress import clock_text, run_clock_text
from packline.sequences.engine.recipe_comparison import recipe_differences, recipe_now
from packline.sequences.engine.recorded_station import process_time
from packline.sequences.engine.report import run_report
from packline.sequences.engine.verdicts import FAIL
from packline.shown_figures import figure_text, limits_text, steps_text

from .output import answer, open_store
from .parser import add_common
from .summary import shown_run_status


def cmd_diff(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    try:
        a, b = (run_report(store, store.resolve_run(ref)) for ref in (args.run_a, args.run_b))
    finally:
        store.close()
    (recipe_a, read_a), (recipe_b, read_b) = (recipe_now(report["run"]) for report in (a, b))
    measured_a, measured_b = _measurements(a), _measurements(b)
    timings = _paired(_timings(a), _timings(b))
    dry_runs = a["run"]["simulated"] and b["run"]["simulated"]
    for row in timings:
        row["differs"] = row["differs"] and not (dry_runs and row["what"] == WALL)
    diff = {
        "runs": [a["run"]["id"], b["run"]["id"]],
        "time_scales": [a["run"]["time_scale"], b["run"]["time_scale"]],
        "recipe": recipe_differences(recipe_a, recipe_b),
        "recipes_as_recorded": [note for note in (read_a, read_b) if note],
        "tools": [row for row in _paired(_tools(a), _tools(b)) if row["differs"]],
        "timings": timings,
        "wall_unmarked": bool(dry_runs),
        "measurements": _measurement_rows(measured_a, measured_b),
        "claims": _paired(_margins(a), _margins(b)),
    }
    return answer(args, diff, lambda console: print_diff(console, diff))


def _tools(report: dict[str, Any]) -> dict[str, str]:
    """Each tool the run drove as `diff` compares it: its driver, vendor, model, serial number
    and firmware as read at connect, and the options a dry run's command gave its simulated
    tool (`--sim-option`), session by session where a resume connected another (`session 2:
    ...`). Not its address: a dry run's tools are served on ports of the moment, and the serial
    number tells one tool from another wherever it is reached."""
    by_tool: dict[str, dict[str, list[int]]] = {}
    for tool in report["tools"]:
        text = (
            f"{tool['driver']}, {tool['vendor']} {tool['model']} s/n {tool['serial_number']}"
            f" firmware {tool['firmware']}"
        )
        if options := sim_options_text(tool["sim_options"]):
            text += f", --sim-option {options}"
        by_tool.setdefault(tool["name"], {}).setdefault(text, []).append(tool["session"])
    return {
        name: next(iter(texts))
        if len(texts) == 1
        else "; ".join(
            f"session{'s' if len(sessions) > 1 else ''} {', '.join(map(str, sessions))}: {text}"
            for text, sessions in texts.items()
        )
        for name, texts in by_tool.items()
    }


#: The timing of the wall clock: a dry run's is how long the computer took, noise between runs.
WALL = "wall from start to end"
#: The timings on the line's process clock (`process_time`), whichever clock the run's is: a
#: dry run's simulated time, a station's wall time, a served line's wall time times its scale.
PROCESS_TIMINGS = ("process time on the line", "mean time on line (process time)")


def _timings(report: dict[str, Any]) -> dict[str, str]:
    """The run's timings, as `diff` pairs them: what it ran and how far it got, its run clock
    (simulated or wall, as `runs` says), its wall time, and its process time on the line and
    its wafers' mean time on the line on that one clock (`PROCESS_TIMINGS`), as `show` and the
    summary give a served run's, so a dry run and a run on a served line compare like with
    like (a served line's wall time had stood beside a dry run's simulated time)."""
    run = report["run"]
    scale = run["time_scale"]
    # a wafer a run cut off left under way was on the line up to the cut: not a time on it
    cycles = [
        w["cycle_time_s"]
        for w in report["wafers"]
        if w["cycle_time_s"] is not None and w["status"] != INTERRUPTED
    ]
    done = sum(w["status"] == "completed" for w in report["wafers"])
    wall = None if run["stopped_wall"] is None else run["stopped_wall"] - run["started_wall"]
    return {
        "method": run["method"],
        "status": shown_run_status(report),
        "wafers completed": f"{done} of {run['lot_size']}",
        "run clock": run_clock_text(report["duration_s"], simulated=run["simulated"]),
        WALL: "-" if wall is None else f"{wall:.1f} s",
        PROCESS_TIMINGS[0]: clock_text(process_time(report["duration_s"], scale)),
        PROCESS_TIMINGS[1]: clock_text(process_time(mean(cycles), scale) if cycles else None),
    }


@dataclass(frozen=True)
class Measured:
    """One measurement of a run over its lot: `shown`, its mean, range, unit, wafers measured
    and failures as the table reads, and the steps its instrument read it in where the records
    say (`steps_text`: a grinder's gauge read to 0.5 um where the other run's read to 0.1 um);
    `figures`, the same without the wafers measured (lots of 3 and of 2 with the same values
    per wafer measure the same); `by_wafer`, each wafer's values, verdicts and steps, which tell
    the wafers both runs have apart from those one lacks. Each figure is shown as every reader
    shows a recorded one (`figure_text`: 25056 sites, not 2.506e+04)."""

    shown: str
    figures: str
    by_wafer: dict[str, list[tuple[float, bool, float | None]]]
    #: `figures` without the steps (what a run recorded before they were kept is compared by).
    values: str
    #: The limits its values were judged against, as intervals (`limits_text`), one each where
    #: they vary over the lot; empty where it has none.
    limits: tuple[str, ...] = ()

    @property
    def steps_recorded(self) -> bool:
        """Whether its records say the steps any of its values were read in (schema 17,
        decision 0121: rows written before say none)."""
        return any(
            resolution is not None
            for readings in self.by_wafer.values()
            for _, _, resolution in readings
        )

    def wafer_readings(
        self, *, steps: bool
    ) -> dict[str, Counter[tuple[float, bool, float | None]]]:
        """Each wafer's readings as `diff` compares them: their values and verdicts, and with
        `steps` the steps they were read in (without, None)."""
        return {
            wafer: Counter(
                (value, passed, read_in if steps else None) for value, passed, read_in in readings
            )
            for wafer, readings in self.by_wafer.items()
        }


def _measurements(report: dict[str, Any]) -> dict[str, Measured]:
    """Each measurement over the lot, by its name now and its label (`measurements_now`,
    `measurement_labels`: a name that steps of different names take is a row per step,
    `<name> at <step>`, and one a step the script runs more than once takes, a row per run of
    it, `<name> at <step> #<n>`)."""
    rows = measurements_now(report["run"]["method"], report["measurements"], report["steps"])
    taken: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        taken.setdefault(row["label"], []).append(row)
    measured = {}
    for label, own in taken.items():
        numbers = [row["value"] for row in own]
        failed = sum(row["verdict"] == FAIL for row in own)
        by_wafer: dict[str, list[tuple[float, bool, float | None]]] = {}
        for row in own:
            by_wafer.setdefault(row["wafer_id"], []).append(
                (row["value"], row["verdict"] != FAIL, row["resolution"])
            )
        # a wafer measured again (its rework) has each attempt's value: say how many of them
        taken_by = counted(len(by_wafer), "wafer")
        if len(numbers) > len(by_wafer):
            taken_by = f"{counted(len(numbers), 'value')} of {taken_by}"
        unit = own[0]["unit"]
        low, high = figure_text(min(numbers)), figure_text(max(numbers))
        spread = f"{figure_text(mean(numbers))} {unit} ({low}-{high}"
        failures = f", {failed} failed" if failed else ""
        steps = ""
        if resolutions := sorted({row["resolution"] for row in own} - {None}):
            steps = f", {steps_text(unit, *resolutions)}"
        # what they were judged against, which a diff of the same values across a changed
        # recipe (a solder of another liquidus) must show moved
        limits = tuple(
            dict.fromkeys(
                limits_text(row["low"], row["high"], row.get("low_exclusive"))
                for row in own
                if row["low"] is not None or row["high"] is not None
            )
        )
        judged = f" in {' and '.join(limits)}" if limits else ""
        shown = f"{spread}, {taken_by}{failures}{steps}){judged}"
        measured[label] = Measured(
            shown, f"{spread}{failures}{steps})", by_wafer, f"{spread}{failures})", limits
        )
    return measured


def _measurement_rows(a: dict[str, Measured], b: dict[str, Measured]) -> list[dict[str, Any]]:
    """`_paired`'s rows of the measurements, `differs` telling apart the ways they can:
    `values` when the wafers both runs have measured differently (or, with no wafer in
    common, the lots' figures differ), `unshared wafers` when those wafers measured the
    same and the figures differ only by wafers one run has and the other lacks (a dry run's
    W03 that the other's lot of 2 has not: dry-run wafers of one id are one simulated
    wafer), None when they do not differ. A measurement whose steps one run's records say
    and the other's do not (recorded before they were kept, decision 0121) is compared by its
    values alone, which both say: `steps said by one run` where they are the same (the steps
    had made it differ, `*`, though nothing tells what the other run's were read in)."""
    one_sided = {
        label for label in set(a) & set(b) if a[label].steps_recorded != b[label].steps_recorded
    }

    def compared(side: dict[str, Measured]) -> dict[str, str]:
        return {label: m.values if label in one_sided else m.figures for label, m in side.items()}

    rows = _paired(
        {label: m.shown for label, m in a.items()},
        {label: m.shown for label, m in b.items()},
        (compared(a), compared(b)),
    )
    for row in rows:
        label = row["what"]
        if label not in a or label not in b:
            row["differs"] = "values" if row["differs"] else None
            continue
        if not row["differs"]:
            row["differs"] = STEPS_ONE_SIDED if label in one_sided else None
        else:
            steps = label not in one_sided
            wafers_a, wafers_b = (side[label].wafer_readings(steps=steps) for side in (a, b))
            shared = set(wafers_a) & set(wafers_b)
            alike = shared and all(wafers_a[w] == wafers_b[w] for w in shared)
            row["differs"] = "unshared wafers" if alike else "values"
        if row["differs"] != "values" and a[label].limits != b[label].limits:
            row["differs"] = OTHER_LIMITS
    return rows


#: A measurement's `differs` where its values are the same and one run alone says the steps
#: they were read in (`_measurement_rows`).
STEPS_ONE_SIDED = "steps said by one run"
#: A measurement's `differs` where the wafers both runs have read the same values and the runs
#: judged them against other limits (`_measurement_rows`).
OTHER_LIMITS = "limits"


def _margins(report: dict[str, Any]) -> dict[str, str]:
    """Each claim condition's verdict and its worst site's margin."""
    return {
        f"{c['claim']} {c['condition']}": f"{c['verdict']}, {margin_text(c)}"
        for c in report["claim_check"].get("conditions", [])
    }


def _paired(
    a: dict[str, str],
    b: dict[str, str],
    compared: tuple[dict[str, str], dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The keys of both, in order of first appearance, with each side's value (None: absent)
    and whether they differ: by the values, or by `compared` (what of each side's values
    tells them apart) when given."""
    compared_a, compared_b = compared or (a, b)
    return [
        {
            "what": key,
            "a": a.get(key),
            "b": b.get(key),
            "differs": compared_a.get(key) != compared_b.get(key),
        }
        for key in {**a, **b}
    ]


#: The legend of `*` under each table but the measurements' (`MARKS`).
DIFFERS = {
    "timings": "* the two runs differ",
    "recipe": "* the two recipes differ (every value listed does)",
    "tools": "* the two runs drove them differently (every tool listed differs)",
    "claims": "* the verdict or the worst site's margin differs",
}
#: How `print_diff` marks a measurement row by its `differs`, and the legend of each mark.
MARKS = {
    "values": (
        "*",
        "* the values, or the steps they were read in, differ on the wafers both runs have (with"
        " none in common: the lots' figures)",
    ),
    "unshared wafers": (
        "+",
        "+ the same on the wafers both runs have: the figures differ only by wafers one run"
        " has and the other lacks",
    ),
    OTHER_LIMITS: (
        "!",
        "! the same values on the wafers both runs have, judged against other limits",
    ),
    STEPS_ONE_SIDED: (
        "?",
        "? the same values; the steps they were read in are said by one run only (the other's"
        " records, written before they were kept, say none): compared by values alone",
    ),
}


def print_diff(console: Console, diff: dict[str, Any]) -> None:
    """One table per part, the two runs side by side; rows that differ marked `*` (a
    measurement's by its figures, not by the wafers measured), a measurement that differs
    only by wafers one run lacks `+`, one whose values are the same and whose limits differ
    `!`, one whose values are the same and whose steps one run alone says `?`, each mark
    shown explained below its table (`DIFFERS`, `MARKS`: the timings' and the claims' `*`
    had none)."""
    run_a, run_b = diff["runs"]
    for part, title in (
        ("timings", "timings"),
        ("recipe", "recipe values that differ"),
        ("tools", "tools that differ: driver, model, serial number, firmware, --sim-option"),
        ("measurements", "measurements over the lot: mean (range)"),
        ("claims", "claim check: verdict and worst site's margin"),
    ):
        table = DataTable("", part.rstrip("s"), run_a, run_b, title=title)
        notes = []
        for row in diff[part]:
            differs = row.get("differs", True)  # a recipe row differs by being listed
            mark, legend = MARKS.get(differs, ("*", DIFFERS.get(part, ""))) if differs else ("", "")
            if legend not in notes:
                notes.append(legend)
            table.add_row(mark, row["what"], _cell(row["a"]), _cell(row["b"]))
        if not diff[part]:
            table.add_row("", "(none)", "", "")
        console.print(table)
        if part == "recipe":
            notes += diff["recipes_as_recorded"]
        if part == "timings":
            notes += _timing_notes(diff)
        for note in sorted(note for note in notes if note):
            console.print(note, markup=False, highlight=False)


def _timing_notes(diff: dict[str, Any]) -> list[str]:
    """What the timings table says under it besides its legend: that two dry runs' wall times
    are not marked, and how a run on a line served faster than real time has its process
    time (`process_time`)."""
    notes = []
    if diff["wall_unmarked"]:
        notes.append(f"{WALL} not marked: a dry run's wall time is the computer's, noise")
    served = [
        f"{run} served at time x{scale:g}"
        for run, scale in zip(diff["runs"], diff["time_scales"], strict=True)
        if scale != 1.0
    ]
    if served:
        notes.append(
            f"{' and '.join(PROCESS_TIMINGS)}: a dry run's simulated time, a station's wall "
            f"time, and on a line served faster than real time its wall time times the scale "
            f"({', '.join(served)}), as show says it"
        )
    return notes


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _diff_arguments(diff: argparse.ArgumentParser) -> None:
    add_common(diff)
    diff.add_argument("run_a", metavar="RUN_A", help="run id, a unique prefix of one, or 'last'")
    diff.add_argument(
        "run_b", metavar="RUN_B", help="the run to compare with RUN_A, named as it is"
    )
    diff.set_defaults(handler=cmd_diff)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"diff": _diff_arguments}
