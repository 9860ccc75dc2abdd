"""What the records say in full: one run (`show`), one wafer across runs (`wafer`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from packline.rendering import DataTable, counted
from packline.sequences.engine.database import ids_ending
from packline.sequences.engine.events import (
    UNLISTED,
    UNLISTED_WHERE,
    unlisted_text,
)
from packline.sequences.engine.identity import sim_options_text
from packline.sequences.engine.injected_faults import alarm_code_text
from packline.sequences.engine.launch import what_held_wafers_need
from packline.sequences.engine.liveness import DRIVEN
from packline.sequences.engine.plan import (
    decisions_note,
    releases_carried_out,
    reworks_carried_out,
)
from packline.sequences.engine.progress import event_line, for_database, moment_text
from packline.sequences.engine.recipe_comparison import compare_with_shipped
from packline.sequences.engine.recorded_station import process_time
from packline.sequences.engine.records import RunStore, db_option
from packline.sequences.engine.report import (
    attempt_text,
    measurement_attempts,
    run_confirmation_answers,
    shown_event,
    step_keys,
    step_order,
    wafer_history,
)
from packline.sequences.engine.stage import EVERY_STEP_DONE_BEFORE
from packline.sequences.engine.verdicts import FAIL, measurement_verdict
from packline.shown_figures import figure_text, limits_text, steps_text

from .output import answer, open_store
from .parser import add_common, add_run_ref
from .summary import (
    advised_for_database,
    print_claim_check,
    print_summary,
    process_label,
    shown_run_status,
    summary_report,
)


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    try:
        report = summary_report(store, store.resolve_run(args.run))
        shown = {**report, "next": held_wafers_need(store, report["run"])}
        return answer(
            args,
            advised_for_database(shown, db_option(store.path)),
            lambda console: print_run(console, report, store, whole_recipe=args.whole_recipe),
        )
    finally:
        store.close()


def held_wafers_need(store: RunStore, run: dict[str, Any]) -> str:
    """What the held wafers of `run` (a runs row) need before a resume, as the run said it at
    its end (`what_held_wafers_need`; '' while a process drives it): a held run's `show` had
    named no next step until a wafer was decided, and its `--json` none at all (`next`)."""
    return "" if run["status"] in DRIVEN else what_held_wafers_need(store, run["id"])


def cmd_wafer(args: argparse.Namespace) -> int:
    """The history of the wafer `args.wafer_id` names: a whole id, or the end of one alone
    (`W06` for a station lot's `055012-3f2a-W06`), as `disposition` takes it."""
    store = open_store(args, create=False)
    try:
        run_id = None if args.run is None else store.resolve_run(args.run)
        wafer_id = store.resolve_wafer(args.wafer_id, run_id, beside=True)
        history = decided_history(store, wafer_id)
        # a whole id that ends others too (a dry run's `W06`, a station lot's `...-W06`)
        ending = ids_ending(wafer_id, store.wafer_lots(run_id))
    finally:
        store.close()
    others: list[str] = []
    if run_id is not None:
        history = [h for h in history if h["run_id"] == run_id]
    else:
        history, others = one_wafer(history)
    db = db_option(store.path)
    return answer(
        args,
        advised_for_database(history, db),
        lambda console: print_wafer(console, wafer_id, history, others, db, ending),
    )


def decided_history(store: RunStore, wafer_id: str) -> list[dict[str, Any]]:
    """The wafer's history (`wafer_history`) with, in each run, its steps a resume accepted
    as done on a release (`released`, `releases_carried_out`) and its reworks a resume
    carried out (`reworked`, `reworks_carried_out`), both of the wafer a workpiece was beside,
    whose outcome is its own: what `wafer` says beside its outcome as `show` does."""
    return [
        {
            **entry,
            "released": releases_carried_out(store, entry["run_id"]).get(
                entry["beside"] or wafer_id, []
            ),
            "reworked": reworks_carried_out(store, entry["run_id"]).get(
                entry["beside"] or wafer_id, []
            ),
        }
        for entry in wafer_history(store, wafer_id)
    ]


def one_wafer(history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The runs of one wafer among those of a wafer id, and the ids of the runs left out.

    A dry run's wafers are its own (its simulated line lives as long as the run): `W01` of two
    dry runs are two simulated wafers, and neither is the real wafer of that id. One wafer is
    so the id's runs on real tools, else its latest dry run.
    """
    real = [h for h in history if not h["simulated"]]
    kept = real or history[-1:]
    return kept, [h["run_id"] for h in history if h not in kept]


def print_run(
    console: Console, report: dict[str, Any], store: RunStore, *, whole_recipe: bool = False
) -> None:
    """`packline show`: the run and its recipe (its source, hash and the values that differ
    from the shipped recipe it is read against, `recipe_lines`; its text whole with
    `whole_recipe`, `--whole-recipe`), its summary and claim check, then every wafer's steps,
    measurements (limits, verdict, margin), alarms and confirmations, and the run-level
    events. The whole recipe, some 80 lines, had come first, before where the run stands."""
    run = report["run"]
    console.print(
        f"run {run['id']}: {run['method']} on {run['line']}, operator {run['operator']}, "
        f"{lot_text(run)}, policy {run['failure_policy']}, status {shown_run_status(report)}, "
        f"{counted(run['sessions'], 'session')}",
        markup=False,
        highlight=False,
    )
    if whole_recipe:
        console.print(f"recipe {run['recipe_source']} sha256 {run['recipe_hash']}:", markup=False)
        console.print(report["recipe"].rstrip(), markup=False, highlight=False)
    else:
        for line in recipe_lines(run, db_option(store.path)):
            console.print(line, markup=False, highlight=False)
    console.print(tools_table(report["tools"], run["sessions"]))
    advice = held_wafers_need(store, run)
    print_summary(console, report, store, resume_advised=bool(advice))
    print_claim_check(console, report["claim_check"])
    if advice:
        console.print(advice, markup=False, highlight=False, soft_wrap=True)
    scale = run["time_scale"]
    for wafer in report["wafers"]:
        wafer_id = wafer["wafer"]

        def own(rows: list[dict[str, Any]], wafer_id: str = wafer_id) -> list[dict[str, Any]]:
            return [row for row in rows if row["wafer_id"] == wafer_id]

        table = timeline(
            own(report["steps"]),
            own(report["measurements"]),
            own(report["alarms"]),
            own(report["confirmations"]),
            event_rows(wafer, db_option(store.path)),
            scale,
        )
        table.title = (
            f"wafer {wafer_id}: {wafer['status']}"
            + decisions_note(wafer["released"], wafer["reworked"])
            + "".join(
                f"; beside it {workpiece}, its twin recorded (packline wafer {workpiece})"
                for workpiece in wafer["beside"]
            )
        )
        console.print(table)
    events = listed_events(
        report["events"],
        scale,
        run_confirmation_answers(store, store.run(report["run"]["id"]), report["events"]),
        db_option(store.path),
    )
    if events and scale != 1.0:
        console.print(
            f"events, at process time on the line (the run clock x{scale:g}):",
            markup=False,
            highlight=False,
        )
    for line in events:
        console.print(line, markup=False, highlight=False)
    unlisted = unlisted_text(e["kind"] for e in report["events"])
    if unlisted:
        console.print(f"{unlisted} ({UNLISTED_WHERE})", markup=False, highlight=False)


def recipe_lines(run: dict[str, Any], db: str = "") -> list[str]:
    """How `show` names run `run`'s recipe: its source and sha256, how it stands against the
    shipped recipe it is read against and each value that differs from it
    (`compare_with_shipped`: `: 1 value differs from default recipe plasma-clean.yaml`, then
    `  steps.0.time_s: 90 s (default recipe plasma-clean.yaml: 60 s)`), nothing where there
    is none to compare with, and the command that prints it whole."""
    head = f"recipe {run['recipe_source']} sha256 {run['recipe_hash']}"
    whole = f"(packline show {run['id']}{db} --whole-recipe prints it whole)"
    comparison = compare_with_shipped(run)
    notes = [] if comparison.as_recorded is None else [f"  {comparison.as_recorded}"]
    if not comparison.compared:
        return [f"{head} {whole}", *notes]
    return [
        f"{head}: {comparison.summary} {whole}",
        *(f"  {difference}" for difference in comparison.differences),
        *notes,
    ]


def listed_events(
    events: list[dict[str, Any]],
    time_scale: float = 1.0,
    answers: Mapping[int, str] | None = None,
    db: str = "",
) -> list[str]:
    """The run's events as `show` lists them (not the tools' own states): each as every list
    of events shows it (`shown_event`: an ask with its `answers`, by event id; its commands
    for the database read, `db`), worded as the run's log words it (`event_line`), naming the
    wafer or else the tool it is about, its status and its message, but at its time on the
    line's process clock, not the run clock the run printed (`process_time`: on a line served
    at `time_scale`, the run clock's wall time times it, as the wafers' timelines). One
    recorded while no session drove the run also says the time of day it was recorded at:
    the run clock stands still at the run's end then, where they had all read the same time,
    made minutes or days apart."""
    shown = [shown_event(e, answers or {}, db) for e in events if e["kind"] not in UNLISTED]
    return [
        event_line(
            process_time(e["t"], time_scale),
            e["kind"],
            e["wafer_id"],
            e["tool"],
            e["message"],
            e["status"],
            wall=e["made_wall"],
        )
        for e in shown
    ]


def tools_table(tools: list[dict[str, Any]], sessions: int) -> DataTable:
    """The tools the run drove, as the records hold them (read at connect): each by its
    driver, the face it was driven through (`gem` for a tool driven as a GEM tool over HSMS,
    as `--gem` drives it), address, vendor and model; by session where the run had more than
    one (a resume may reconnect a tool at another address, or another tool); where a dry
    run's command gave a simulated tool options (`--sim-option`, `store.tools`), what each
    session's gave (a resume's fresh line has its own command's alone)."""
    by_session = sessions > 1
    given = any(tool["sim_options"] for tool in tools)
    table = DataTable(
        *(("session",) if by_session else ()),
        "tool",
        "driver",
        "address",
        "model",
        *(("--sim-option",) if given else ()),
        title="tools, as connected",
        whole=("address",),
    )
    for tool in tools:
        table.add_row(
            *((str(tool["session"]),) if by_session else ()),
            tool["name"],
            tool["driver"],
            tool["address"],
            f"{tool['vendor']} {tool['model']}",
            *((sim_options_text(tool["sim_options"]),) if given else ()),
        )
    return table


def lot_text(run: dict[str, Any]) -> str:
    """'lot L2611-042 of 25 (product FC-BGA 12x12, owner J. Doe)', or 'lot of 25' without
    a lot id."""
    details = [
        f"{what} {run[key]}"
        for what, key in (("product", "lot_product"), ("owner", "lot_owner"))
        if run[key]
    ]
    named = f"lot {run['lot_id']} of" if run["lot_id"] else "lot of"
    return f"{named} {run['lot_size']}" + (f" ({', '.join(details)})" if details else "")


def timeline(
    steps: list[dict[str, Any]],
    measurements: list[dict[str, Any]],
    alarms: list[dict[str, Any]],
    confirmations: list[dict[str, Any]],
    waits: Sequence[dict[str, Any]] = (),
    time_scale: float = 1.0,
) -> DataTable:
    """One wafer's records step by step (`step_order`): each step by the label its record
    carries (the run's `step_labels`: `inspect bump heights #2` for the second run of a step
    the script runs twice), its start, tool (and batch: `oven, batch b7-s1`, which the wafers
    cured together share), status and error, then each measurement it took
    against its limits with its verdict and margin (and its attempt, where the step took it again:
    `measurement_attempts`), each alarm it raised (with the fault injected that raised it,
    `alarm_code_text`: `alarm REFLECTED_POWER (injected fault rf_mismatch)`, not to be read as
    the tool's own), each operator confirmation asked of the
    wafer (`confirmations_asked`) with its outcome in words, its `answer`: who answered and
    how (a wafer held for want of one had read as if nothing stopped it), or, for one the run
    stopped at, where it was asked, `unanswered: the run was terminated (...)` (nothing of
    the open question had shown); and the `waits` (`tool_waits`): each hold of the wafer for
    want of a tool, what brought the tool back and the resume that ran it again (its steps
    had read with a gap and no reason), with each unload of it by a tool's recovery
    (`taken_off`: its steps had ended before it was out of the tool) and its other holds and
    the operator's decisions on it (`holds`, `report.holds_and_decisions`). A step recorded
    more than once (failed, then reworked or replayed by a resume) says which attempt and
    session each run of it is: `step plasma clean (attempt 2, session 2)`
    (`record_markers`). A wafer that never started a step says so under its empty table.
    Each time is on the line's process clock, as the summary's time on the line and `diff`
    give it: on a line served at `time_scale` the run clock's wall time times it, the column
    saying so (`process_label`), so a step's start reads on the clock of what it measured."""
    table = DataTable(f"at{process_label(time_scale)}", "what", "detail", "status")
    shown = [s for s in steps if s["kind"] != "batch"]
    rows = [
        (
            s,
            s["started_t"],
            f"step {s['label']}{marker}",
            ", ".join(filter(None, (s["tool"], s["batch"] and f"batch {s['batch']}"))),
            f"{s['status']}: {s['error']}" if s["error"] else s["status"],
        )
        for s, marker in zip(shown, record_markers(shown), strict=True)
    ]
    keys = step_keys(steps)
    attempts = measurement_attempts([(m["name"], keys.get(m["step_id"])) for m in measurements])
    rows += [
        (m, m["t"], f"measured {m['name']}{attempt_text(a)}", measured_text(m), verdict_text(m))
        for m, a in zip(measurements, attempts, strict=True)
    ]
    rows += [
        (
            a,
            a["t"],
            f"alarm {alarm_code_text(a['code'], a['injected_fault'])}",
            a["tool"],
            a["message"],
        )
        for a in alarms
    ]
    rows += [(c, c["t"], "confirmation", c["prompt"], c["answer"]) for c in confirmations]
    rows += [(w, w["t"], w["what"], w["detail"], w["status"]) for w in waits]
    in_order = step_order(steps)
    for record, at, what, detail, status in sorted(rows, key=lambda row: in_order(row[0])):
        when = moment_text(process_time(at, time_scale), record.get("made_wall"))
        table.add_row(when, what, detail, status.strip())
    if not rows:  # an empty table had read as records lost
        table.options["caption"] = Text(
            "no step recorded: the wafer has started none (queued for its first tool while "
            "the run goes on, or held, stopped or cut off before it)"
        )
    return table


def event_rows(wafer: Mapping[str, Any], db: str) -> list[dict[str, Any]]:
    """The rows of a wafer's timeline read from its run's events (a `show` report's wafer, a
    `wafer` history's entry): its holds for want of a tool and what ran it again
    (`tool_waits`), its unloads by a recovery (`taken_off`), its other holds and the
    operator's decisions (`holds`); each the command it advises with the `--db` it needs
    (`for_database`: a hold's clear had been printed without it where the events list gave it)."""
    rows = [*wafer["tool_waits"], *wafer["taken_off"], *wafer["holds"]]
    return [{**row, "detail": for_database(row["detail"], db)} for row in rows]


def record_markers(steps: list[dict[str, Any]]) -> list[str]:
    """What tells apart the runs of one wafer's step (`steps`, in record order) that ran more
    than once, by key (failed, then reworked or replayed by a resume): each its attempt and
    session (' (attempt 2, session 2)'); '' for one that ran once, and for a skip, whose
    status says why (a stage a resume passed, completed before: 'skipped: completed before:
    passed without taking its tool', decision 0122). A stage an earlier release's resume
    entered only to skip every step in it as done before says so (' (session 2: every step
    in it done before)'), where its attempt had read as the wafer's second time through the
    tool's process."""
    ran = [s for s in steps if s["status"] != "skipped"]
    numbered = measurement_attempts([s["key"] for s in ran])
    attempts = {s["id"]: attempt for s, attempt in zip(ran, numbered, strict=True)}
    inside: dict[tuple[int, str], list[str]] = {}
    for step in steps:
        if step["stage"]:
            inside.setdefault((step["session"], step["stage"]), []).append(step["status"])
    markers = []
    for s in steps:
        if attempts.get(s["id"]) is None:
            markers.append("")
            continue
        held = inside.get((s["session"], s["key"]), [])
        if held and all(status == "skipped" for status in held):
            markers.append(f" (session {s['session']}: {EVERY_STEP_DONE_BEFORE})")
        else:
            markers.append(f" (attempt {attempts[s['id']]}, session {s['session']})")
    return markers


def verdict_text(measurement: dict[str, Any]) -> str:
    """'pass' or 'FAIL' against the measurement's limits; 'recorded' without any (nothing
    judged it: a 'pass' there had read as a check it never had): `measurement_verdict`'s
    words, a failure in capitals."""
    verdict = measurement_verdict(measurement["low"], measurement["high"], measurement["passed"])
    return verdict.upper() if verdict == FAIL else verdict


def measured_text(measurement: dict[str, Any]) -> str:
    """'12.5 um in [10, 15]: 2.5 um to spare' (or "outside"); without limits the value; each
    figure to its shown digits (`figure_text`), the value to as many more as tell it from
    its limits ('7.9996 um in [8, -]', never '8 um in [8, -]: ... outside'); a value its
    records say its instrument read to a step, with it ('413 um (read in 0.5 um steps) in
    [412.5, 413]', `steps_text`), whose limits a reader could not account for without it; a
    low limit the value had to pass, not reach (its records' `low_exclusive`: a reflow's peak
    above the liquidus), open: '244.8 degC in (220, -]' (a record without it, as before)."""
    value, unit = measurement["value"], measurement["unit"]
    low, high = measurement["low"], measurement["high"]
    text = f"{figure_text(value, low, high)} {unit}"
    if (resolution := measurement.get("resolution")) is not None:
        text += f" ({steps_text(unit, resolution)})"
    if low is None and high is None:
        return text
    spare = min(
        value - low if low is not None else float("inf"),
        high - value if high is not None else float("inf"),
    )
    # at a limit it had to pass (`Wafer.measure`'s `above`), a value is outside with 0 to
    # spare: as the recorder judged it (`passed`), of records before schema 19 too
    side = "to spare" if spare > 0 or (spare == 0 and measurement["passed"]) else "outside"
    limits = limits_text(low, high, measurement.get("low_exclusive"))
    return f"{text} in {limits}: {figure_text(abs(spare))} {unit} {side}"


def print_wafer(
    console: Console,
    wafer_id: str,
    history: list[dict[str, Any]],
    others: list[str],
    db_option: str = "",
    ending: list[str] | None = None,
) -> None:
    """`packline wafer ID`: each run the wafer was in, its outcome, and every step,
    measurement, alarm, confirmation and disposition of it, each at its time on the line's
    process clock as `show` gives it (`timeline` at the run's `time_scale`); then the runs of
    other wafers of that id (and the command that shows one, with `db_option`), and the
    longer ids it is the end of (`ending`: a station lot's `055012-3f2a-W06` beside a dry
    run's `W06`)."""
    for entry in history:
        beside = entry["beside"]
        console.print(
            ("" if beside else "wafer ")
            + f"{wafer_id} in run {entry['run_id']} ("
            + (f"lot {entry['lot_id']}, " if entry["lot_id"] else "")
            + f"{entry['method']} on {entry['line']}, run "
            f"{entry['run_status']}): "
            + (f"beside wafer {beside}, " if beside else "")
            + entry["status"]
            + decisions_note(entry["released"], entry["reworked"])
            + (f" ({for_database(entry['reason'], db_option)})" if entry["reason"] else "")
            + (
                f"; its steps are {beside}'s at the tools that changed it; its twin is "
                f"recorded: packline report {entry['run_id']} --wafer {wafer_id}{db_option} "
                "maps it"
                if beside
                else ""
            ),
            markup=False,
            highlight=False,
        )
        console.print(
            timeline(
                entry["steps"],
                entry["measurements"],
                entry["alarms"],
                entry["confirmations"],
                event_rows(entry, db_option),
                entry["time_scale"],
            )
        )
    if others:
        console.print(
            f"{wafer_id} also names another wafer in run(s) {', '.join(others)} (a dry run's "
            f"wafers are its own): packline wafer {wafer_id} --run RUN{db_option}",
            markup=False,
            highlight=False,
        )
    if ending:
        console.print(
            f"{wafer_id} is also the end of other wafers' ids, {', '.join(ending)}: packline "
            f"wafer ID{db_option} with the whole id shows one",
            markup=False,
            highlight=False,
        )


def _show_arguments(show: argparse.ArgumentParser) -> None:
    add_common(show)
    add_run_ref(show)
    show.add_argument(
        "--whole-recipe",
        action="store_true",
        help="print the run's recipe whole (default: its source, hash and the values that "
        "differ from the shipped recipe)",
    )
    show.set_defaults(handler=cmd_show)


def _wafer_arguments(wafer: argparse.ArgumentParser) -> None:
    add_common(wafer)
    wafer.add_argument(
        "wafer_id",
        metavar="WAFER",
        help="its id, or the end of one alone (W06 for a station lot's 101813-c46c-W06)",
    )
    wafer.add_argument(
        "--run",
        help="the wafer of this id in this run (a dry run's wafers are its own: W01 of two dry "
        "runs are two simulated wafers)",
    )
    wafer.set_defaults(handler=cmd_wafer)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "show": _show_arguments,
    "wafer": _wafer_arguments,
}
