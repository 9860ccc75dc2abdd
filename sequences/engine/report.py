"""A run as a report: what `packline show RUN` prints and the summary after `packline run`.

Built from the records only, so it reads the same during a run, after it, and after a crash.
"""

from __future__ import annotations

from typing import Any

from .records import RunStore


def run_report(store: RunStore, run_id: str) -> dict[str, Any]:
    """The run, its wafers (with their measurements) and counts of everything recorded."""
    run = store.run(run_id)
    steps = store.table("steps", run_id)
    measurements = store.table("measurements", run_id)
    wafers = []
    for wafer in store.wafers(run_id):
        own = [m for m in measurements if m["wafer_id"] == wafer["wafer_id"]]
        started, stopped = wafer["started_t"], wafer["stopped_t"]
        wafers.append(
            {
                "wafer": wafer["wafer_id"],
                "status": wafer["status"],
                "reason": wafer["reason"],
                "cycle_time_s": None if started is None or stopped is None else stopped - started,
                "steps_completed": sum(
                    1
                    for s in steps
                    if s["wafer_id"] == wafer["wafer_id"]
                    and s["status"] == "completed"
                    and s["kind"] != "batch"
                ),
                "measurements": {
                    m["name"]: {
                        "value": m["value"],
                        "unit": m["unit"],
                        "passed": bool(m["passed"]),
                        "source": m["source"],
                    }
                    for m in own
                },
            }
        )
    duration = None if run["stopped_t"] is None else run["stopped_t"] - run["started_t"]
    return {
        "run": {k: v for k, v in run.items() if k not in ("recipe_text", "station_yaml")},
        "recipe": run["recipe_text"],
        "duration_s": duration,
        "wafers": wafers,
        "steps": steps,
        "alarms": store.table("alarms", run_id),
        "confirmations": len(store.table("confirmations", run_id)),
        "events": store.table("events", run_id),
        "traces": store.trace_summary(run_id),
    }


def before_after(wafer: dict[str, Any]) -> dict[str, tuple[float, float | None, str]]:
    """Twin metrics recorded as 'NAME before' / 'NAME after': name -> (before, after, unit)."""
    out = {}
    measured = wafer["measurements"]
    for name, before in measured.items():
        if name.endswith(" before"):
            base = name.removesuffix(" before")
            after = measured.get(f"{base} after")
            out[base] = (before["value"], None if after is None else after["value"], before["unit"])
    return out
