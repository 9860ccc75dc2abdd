"""How the command line prints reports for people: runs, a run, methods, claims, a summary.

Every table is a `DataTable` (`packline.rendering`): tool text, reasons and ids are shown as
written, never read as markup. `--json` output is printed as is (`print_json`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine import before_after
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.progress import clock_text
from packline.station_check import ToolCheck


def terminal() -> Console:
    """The terminal, or (piped to a file or a program) a console wide enough not to wrap ids."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_json(data: Any) -> None:
    """`--json` output: one indented JSON document."""
    print(json.dumps(data, indent=2, default=str))


def print_summary(console: Console, report: dict[str, Any], db: Path) -> None:
    """Per wafer: outcome, time on the line, and the twin's before/after metrics (dry run)."""
    run = report["run"]
    metrics = sorted({name for w in report["wafers"] for name in before_after(w)})
    table = DataTable(
        "wafer",
        "status",
        "time on line",
        *[f"{m} before → after" for m in metrics],
        "reason",
        title=f"{run['method']}  run {run['id']}  {run['status']}",
    )
    for wafer in report["wafers"]:
        pairs = before_after(wafer)
        cells = []
        for name in metrics:
            before, after, unit = pairs.get(name, (None, None, ""))
            cells.append(
                "-"
                if before is None
                else f"{before:.2f} → {'-' if after is None else f'{after:.2f}'} {unit}"
            )
        table.add_row(
            wafer["wafer"],
            wafer["status"],
            clock_text(wafer["cycle_time_s"]),
            *cells,
            wafer["reason"] or "",
        )
    console.print(table)
    if run["error"]:
        console.print(f"error: {run['error']}", markup=False, highlight=False)
    clock = "simulated" if run["simulated"] else "process"
    wall = None if run["stopped_wall"] is None else run["stopped_wall"] - run["started_wall"]
    console.print(
        f"{clock} time {clock_text(report['duration_s'])}, wall {wall or 0:.1f} s; "
        f"records in {db} (packline show {run['id']})",
        markup=False,
        highlight=False,
    )


def print_claim_check(console: Console, check: dict[str, Any]) -> None:
    """The claim check of the product: one row per condition, then the verdict (a violation
    names its claims); on real tools one line saying the sequence's measurements check it."""
    if check["status"] in ("measured", "not run"):
        console.print(f"claim check: {check['note']}", markup=False, highlight=False)
        return
    table = DataTable(
        "claim",
        "condition",
        "checked",
        "passing",
        "worst site (to spare)",
        "verdict",
        title="claim check of the simulated product",
    )
    for c in check["conditions"]:
        table.add_row(
            c["claim"],
            c["condition"],
            f"{c['sites_checked']:,}",
            f"{c['sites_passing']:,}",
            margin_text(c),
            c["verdict"] if c["verdict"] != "fail" else f"FAIL ({', '.join(c['failing_wafers'])})",
        )
    console.print(table)
    if check["unchecked_wafers"]:
        console.print(
            f"not checked (did not complete): {', '.join(check['unchecked_wafers'])}",
            markup=False,
            highlight=False,
        )
    verdict = check["status"].upper() if check["status"] == "failed" else check["status"]
    tail = f": {check['note']}" if check["note"] else ""
    console.print(f"claim check {verdict}{tail}", markup=False, highlight=False)


def print_runs(console: Console, runs: list[dict[str, Any]], *, title: str) -> None:
    """One row per run: id (whole), method, status, wafers, outcome counts, start, run clock."""
    table = DataTable(
        "run",
        "method",
        "status",
        "wafers",
        "completed",
        "held",
        "sim",
        "operator",
        "started",
        "run clock",
        title=title,
    )
    table.columns[0].no_wrap = True  # the id is copied from here: never cut
    table.columns[0].min_width = max((len(run["id"]) for run in runs), default=0)
    for run in runs:
        duration = None if run["stopped_t"] is None else run["stopped_t"] - run["started_t"]
        table.add_row(
            run["id"],
            run["method"],
            run["status"],
            str(run["lot_size"]),
            str(run["completed"]),
            str(run["held"]),
            "yes" if run["simulated"] else "no",
            run["operator"],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["started_wall"])),
            clock_text(duration),
        )
    console.print(table)


def print_run(console: Console, report: dict[str, Any], db: Path) -> None:
    """`packline show`: the run, its summary and claim check, the first wafer's steps, the
    alarms and the run-level events."""
    run = report["run"]
    console.print(
        f"run {run['id']}: {run['method']} on {run['station_name']}"
        f"{' (simulated)' if run['simulated'] else ''}, operator {run['operator']}, "
        f"lot of {run['lot_size']}, policy {run['failure_policy']}, status {run['status']}, "
        f"{run['sessions']} session(s)",
        markup=False,
        highlight=False,
    )
    console.print(f"recipe {run['recipe_source']} sha256 {run['recipe_hash']}", markup=False)
    print_summary(console, report, db)
    print_claim_check(console, report["claim_check"])
    steps = DataTable(
        "step",
        "claims",
        "tool",
        "status",
        "start",
        "stop",
        "error",
        title="steps (first wafer)",
    )
    first = report["wafers"][0]["wafer"] if report["wafers"] else None
    for step in report["steps"]:
        if step["wafer_id"] == first:
            steps.add_row(
                step["key"],
                ", ".join(json.loads(step["claims"])),
                step["tool"] or "",
                step["status"],
                clock_text(step["started_t"]),
                clock_text(step["stopped_t"]),
                step["error"] or "",
            )
    console.print(steps)
    for alarm in report["alarms"]:
        console.print(
            f"alarm {alarm['tool']} {alarm['code']}: {alarm['message']} "
            f"(wafer {alarm['wafer_id']})",
            markup=False,
        )
    for event in report["events"]:
        console.print(
            f"[{clock_text(event['t'])}] {event['kind']} {event['wafer_id'] or ''} "
            f"{event['message']}",
            markup=False,
            highlight=False,
        )


def print_wafer(console: Console, wafer_id: str, history: list[dict[str, Any]]) -> None:
    """`packline wafer ID`: each run the wafer was in, its outcome, and every step,
    measurement, alarm and disposition of it."""
    for entry in history:
        console.print(
            f"wafer {wafer_id} in run {entry['run_id']} ({entry['method']}, "
            f"{'simulated' if entry['simulated'] else entry['station']}, run "
            f"{entry['run_status']}): {entry['status']}"
            + (f" ({entry['reason']})" if entry["reason"] else ""),
            markup=False,
            highlight=False,
        )
        table = DataTable("at", "what", "detail", "status")
        rows = [
            (s["started_t"], f"step {s['key']}", s["tool"] or "", s["status"], s["error"] or "")
            for s in entry["steps"]
        ]
        rows += [
            (
                m["t"],
                f"measured {m['name']}",
                f"{m['value']:g} {m['unit']} in [{m['low']}, {m['high']}]",
                "pass" if m["passed"] else "fail",
                "",
            )
            for m in entry["measurements"]
        ]
        rows += [
            (a["t"], f"alarm {a['code']}", a["tool"], a["message"], "") for a in entry["alarms"]
        ]
        for at, what, detail, status, error in sorted(rows, key=lambda r: r[0]):
            table.add_row(clock_text(at), what, detail, f"{status} {error}".strip())
        console.print(table)
        for d in entry["dispositions"]:
            console.print(
                f"  disposition {d['decision']} by {d['by']}: {d['reason']} "
                f"(held: {d['held_reason']})",
                markup=False,
                highlight=False,
            )


def print_methods(console: Console, methods: list[dict[str, Any]]) -> None:
    """One row per method: name, title, claims, tool roles, recipe options."""
    table = DataTable(
        "name",
        "title",
        "claims",
        "tools",
        "options",
        title="methods",
    )
    for m in methods:
        table.add_row(
            m["name"],
            m["title"],
            ", ".join(m["claims"]),
            ", ".join(m["tools"]),
            ", ".join(f"{k}={v}" for k, v in m["options"].items()),
        )
    console.print(table)


def print_method(console: Console, method: dict[str, Any]) -> None:
    """One method: every field of its recipe (path, what it takes, range, default, doc), then
    each claim it carries out and where."""
    console.print(f"[bold]{method['name']}[/bold]: {method['title']}")
    console.print(f"tools: {', '.join(method['tools'])}")
    fields = DataTable("field", "takes", "range", "default", "what it is", title="recipe")
    for row in method["recipe"]:
        fields.add_row(row["path"], row["takes"], row["range"], row["default"], row["doc"])
    console.print(fields)
    claims = DataTable("claim", "carried out by", title="claims")
    for row in method["claims"]:
        claims.add_row(row["claim"], row["where"])
    console.print(claims)


def print_station_check(console: Console, station: str, checks: list[ToolCheck]) -> None:
    """One row per tool: who it says it is, its state, its open interlocks, and what keeps it
    from a lot."""
    table = DataTable(
        "tool", "kind", "address", "identity", "state", "open interlocks", "ready",
        title=f"station {station}",
    )  # fmt: skip
    for check in checks:
        opened = check.open_interlocks()
        table.add_row(
            check.name,
            check.kind,
            check.address,
            check.identity or "-",
            f"{check.state} ({check.e10_state})" if check.state else "-",
            ", ".join(opened) if opened else ("none" if check.interlocks else "-"),
            "yes" if check.ready else "no: " + "; ".join(check.problems()),
        )
    console.print(table)
    ready = sum(c.ready for c in checks)
    console.print(f"{ready} of {len(checks)} tools ready; nothing was commanded")


def print_claims(console: Console, coverage: list[dict[str, Any]]) -> None:
    """One row per claim of the catalogue and what implements it, then how many are."""
    table = DataTable(
        "claim",
        "kind",
        "summary",
        "method",
        "implemented by",
        title="claims and what implements them",
    )
    for c in coverage:
        table.add_row(
            c["claim"],
            c["kind"],
            c["summary"],
            "\n".join(i["method"] for i in c["implemented_by"]) or "-",
            "\n".join(i["where"] for i in c["implemented_by"]) or "not yet implemented",
        )
    console.print(table)
    done = sum(1 for c in coverage if c["implemented_by"])
    print(f"{done} of {len(coverage)} claims implemented")


def print_tool_time(
    console: Console, rows: list[dict[str, Any]], bottleneck: str | None, *, title: str
) -> None:
    """`packline tools`: one row per tool, its time per E10 state that it spent any in,
    utilisation and OEE with its factors, then the bottleneck."""
    states = [c for c in rows[0] if c.endswith("_s") and c != "duration_s"] if rows else []
    states = [c for c in states if any(row[c] for row in rows)]
    ratios = ("utilisation", "availability", "performance", "quality", "oee")
    table = DataTable(
        "tool",
        *[c.removesuffix("_s").replace("_", " ") for c in states],
        *ratios,
        "uses",
        "wafers",
        "alarms",
        title=title,
    )
    for row in rows:
        table.add_row(
            row["tool"],
            *[clock_text(row[c]) for c in states],
            *["-" if row[r] is None else f"{row[r]:.1%}" for r in ratios],
            str(row["uses"]),
            str(row["wafers"]),
            str(row["alarms"]),
        )
    console.print(table)
    verdict = f"bottleneck: {bottleneck} (highest utilisation)" if bottleneck else "no tool worked"
    console.print(verdict, markup=False, highlight=False)
