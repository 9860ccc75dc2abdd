"""The report in a real browser: Debian's headless Chromium opens the file from disk, with no
network, and every chart draws with no error on the page's console."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from packline.records import RunRecords
from packline.records.report import render_report
from packline.sequences.engine import RunStore

CHROMIUM = shutil.which("chromium")

#: Put in front of the page (in the test's copy only): records the console and uncaught
#: errors, and once Bokeh says the document is idle writes them, with the number of canvases
#: drawn (inside Bokeh's shadow roots), into an element the dumped DOM shows.
PROBE = """<script>
window.__log = [];
for (const level of ["log", "info", "warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    window.__log.push(level + ": " + args.join(" "));
    original(...args);
  };
}
window.addEventListener("error", (e) => window.__log.push("error: uncaught " + e.message));
function canvases(root) {
  let n = root.querySelectorAll("canvas").length;
  for (const el of root.querySelectorAll("*")) if (el.shadowRoot) n += canvases(el.shadowRoot);
  return n;
}
(function wait() {
  if (!window.__log.some((line) => line.includes("document idle"))) return setTimeout(wait, 200);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({log: window.__log, canvases: canvases(document)});
  document.body.appendChild(out);
})();
</script>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium as a user's would run here: no sandbox (root), no GPU, nothing
    fetched in the background, a fresh profile."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=60000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run does)")
def test_every_chart_draws_without_a_console_error(run_db, tmp_path):
    store = RunStore(run_db, create=False)
    try:
        page = render_report(RunRecords(store, store.resolve_run("last")))
    finally:
        store.close()
    probed = tmp_path / "report.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = chromium("--dump-dom", probed.as_uri(), profile=tmp_path / "profile").stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "Bokeh never reported the document idle"
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    errors = [line for line in probe["log"] if line.startswith("error")]
    assert errors == []
    # the charts: a Gantt chart, tool time, a grid per tool's traces, the maps, measurements:
    # each plot draws on its canvases, so there are several per chart
    assert probe["canvases"] >= 2 * (3 + 5)
    screenshot = tmp_path / "report.png"
    chromium(
        "--window-size=1300,2400",
        f"--screenshot={screenshot}",
        probed.as_uri(),
        profile=tmp_path / "profile2",
    )
    assert screenshot.stat().st_size > 50_000  # drawn, not a blank page
