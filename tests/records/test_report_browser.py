"""The report in a real browser: Debian's headless Chromium opens the file from disk, with no
network, and every chart draws with no error on the page's console."""

from __future__ import annotations

from packline.records import RunRecords
from packline.records.report import render_report
from packline.sequences.engine import RunStore


def test_every_chart_draws_without_a_console_error(run_db, chromium):
    store = RunStore(run_db, create=False)
    try:
        page = render_report(RunRecords(store, store.resolve_run("last")))
    finally:
        store.close()
    probed, probe = chromium.probe(page, "report.html")
    errors = [line for line in probe["log"] if line.startswith("error")]
    assert errors == []
    # the charts: a Gantt chart, tool time, a grid per tool's traces, the maps, measurements:
    # each plot draws on its canvases, so there are several per chart
    assert probe["canvases"] >= 2 * (3 + 5)
    screenshot = chromium.folder / "report.png"
    chromium.run("--window-size=1300,2400", f"--screenshot={screenshot}", probed.as_uri())
    assert screenshot.stat().st_size > 50_000  # drawn, not a blank page
