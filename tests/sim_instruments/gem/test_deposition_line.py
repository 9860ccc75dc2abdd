"""A dry run of sprout-bump-csp with its deposition chamber on GEM records what the same run
records with the chamber on Modbus: its films, and its traces' extremes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from packline.sequences.engine import RunRequest, RunStore, open_run, prepare, run_report

#: The films the chamber lays in a run of sprout-bump-csp, as the sequence measures them.
FILMS = ("Ti seed", "Cu seed")


async def dry_run(path: Path, gem: bool) -> tuple[dict[str, Any], list[dict[str, Any]], dict]:
    """A lot of 2 of sprout-bump-csp: its report, its measurements and its traces."""
    store = RunStore(path)
    try:
        async with open_run(
            store, prepare(RunRequest("sprout-bump-csp", lot=2, gem=gem))
        ) as engine:
            assert await engine.run() == "completed"
        report = run_report(store, engine.run_id)
        measurements = store.table("measurements", engine.run_id)
        traces = store.traces(engine.run_id)
        tools = {row["name"]: row["driver"] for row in store.table("tools", engine.run_id)}
    finally:
        store.close()
    assert tools["deposition"] == ("gem" if gem else "deposition")
    return report, measurements, traces


def deposition_traces(traces: dict) -> dict[tuple[str, str], list[float]]:
    """The deposition chamber's trace values by (name, unit), in order."""
    series: dict[tuple[str, str], list[float]] = defaultdict(list)
    rows = zip(traces["tool"], traces["name"], traces["unit"], traces["value"], strict=True)
    for tool, name, unit, value in rows:
        if tool == "deposition":
            series[name, unit].append(value)
    return series


async def test_the_gem_chamber_records_what_the_modbus_chamber_does(tmp_path) -> None:
    polled_report, polled, polled_traces = await dry_run(tmp_path / "modbus.db", gem=False)
    pushed_report, pushed, pushed_traces = await dry_run(tmp_path / "gem.db", gem=True)
    assert pushed_report["claim_check"]["status"] == polled_report["claim_check"]["status"]
    assert pushed_report["claim_check"]["status"] == "passed"

    def films(rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
        return {
            (row["wafer_id"], row["name"]): row["value"] for row in rows if row["name"] in FILMS
        }

    assert films(pushed).keys() == films(polled).keys() != set()
    for key, value in films(polled).items():
        assert films(pushed)[key] == pytest.approx(value, abs=0.1)  # the crystal's end points
    polled_series, pushed_series = (
        deposition_traces(polled_traces),
        deposition_traces(pushed_traces),
    )
    assert pushed_series.keys() == polled_series.keys()
    for key, values in polled_series.items():
        # the same signals with the same extremes (the crystal's films, the sources' power,
        # the gas flow): GEM samples every second, the Modbus chamber at each change of its
        # counted status and at least every HOLD_S (its held status read, decision 0078)
        assert 0 < len(values) < len(pushed_series[key]), key
        assert max(pushed_series[key]) == pytest.approx(max(values), rel=0.01, abs=0.5), key
