"""A run's outcome as printed when it ends and by `packline show`: each wafer's outcome, the
clocks, and the claim check of the simulated product."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from packline.rendering import DataTable
from packline.sequences.engine.claim_check import margin_text
from packline.sequences.engine.progress import clock_text
from packline.sequences.engine.report import before_after


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
