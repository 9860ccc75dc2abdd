"""Fixtures for the records tests: one finished dry run, shared by the tests of a module, and
Debian's headless Chromium to open pages in."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from packline.cli import main
from packline.records import RunRecords
from packline.sequences.engine import RunStore
from packline.sequences.engine.errors import StepError
from packline.sequences.engine.recorder import EventLog, StepRecorder


@pytest.fixture(scope="module")
def run_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run database holding one dry run of bump-seal-clean, a lot of 2."""
    path = tmp_path_factory.mktemp("records") / "runs.db"
    args = ["run", "bump-seal-clean", "--sim", "--lot", "2", "--quiet", "--db", str(path)]
    assert main(args) == 0
    return path


@pytest.fixture(scope="module")
def reflowed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run database holding one dry run of bump-seal-clean's plated reference recipe, a lot
    of 1: its reflow peaks had to pass their solders' liquidus (`above=True`)."""
    path = tmp_path_factory.mktemp("reflowed") / "runs.db"
    recipe = "bump-seal-clean-solder-plated"
    args = ["run", "bump-seal-clean", "--sim", "--recipe", recipe, "--quiet", "--db", str(path)]
    assert main(args) == 0
    return path


@pytest.fixture
def records(run_db: Path):
    store = RunStore(run_db, create=False)
    yield RunRecords(store, store.resolve_run("last"))
    store.close()


#: A hand-made run's station: an oven and a saw.
STATION_YAML = "name: line\ntools:\n  oven: {driver: oven}\n  saw: {driver: x}\n"


def create_run(store: RunStore, run_id: str, wafers: list[str], **fields: Any) -> None:
    """Add a hand-made run of `wafers` to `store`: a completed run on real tools (no twin)
    of plasma-clean on `STATION_YAML`'s station from t=0 to 10 s, started at Unix time 0,
    unless `fields` say otherwise."""
    run = {
        "id": run_id,
        "method": "plasma-clean",
        "recipe_json": "{}",
        "recipe_text": "",
        "recipe_source": "test",
        "recipe_hash": "0",
        "station_name": "line",
        "station_yaml": STATION_YAML,
        "simulated": 0,
        "operator": "ana",
        "lot_size": len(wafers),
        "failure_policy": "hold",
        "status": "completed",
        "sessions": 1,
        "started_t": 0.0,
        "stopped_t": 10.0,
        "started_wall": 0.0,
    }
    store.create_run(run | fields, wafers)


@pytest.fixture
def add_run():
    """`create_run`, for a test to make runs of its own."""
    return create_run


def stage_row(
    tool: str,
    wafer_id: str,
    started_t: float,
    *,
    use: int = 0,
    run_id: str = "R1",
    session: int = 1,
    **fields: Any,
) -> dict[str, Any]:
    """The steps row that starts wafer `wafer_id`'s `use`-th stage on `tool` at `started_t`
    (for `RunStore.start_steps`); `fields` change any column (a batch's `kind` and `batch`, an
    inner step's `key`, `name`, `kind` and `stage`)."""
    row = {
        "run_id": run_id,
        "session": session,
        "wafer_id": wafer_id,
        "claims": [],
        "tool": tool,
        "key": f"use {tool}#{use}",
        "name": f"use {tool}",
        "kind": "stage",
        "irreversible": 0,
        "status": "running",
        "started_t": started_t,
        "started_wall": 0.0,
    }
    return row | fields


def oven_stage(
    store: RunStore, use: int, started_t: float, stopped_t: float, status: str, error: str | None
) -> int:
    """Record wafer W1's `use`-th stage on the oven of run R1, from `started_t` to `stopped_t`
    ending `status`; its step id."""
    (stage,) = store.start_steps([stage_row("oven", "W1", started_t, use=use)])
    store.finish_steps([stage], status, stopped_t, 0.0, error)
    return stage


@pytest.fixture
def alarmed_run(tmp_path: Path):
    """A run on real tools (no twin) from t=0 to 1000 s: wafer W1's stage on the oven from 50
    to 100 s failed by alarm E1, the oven cleared at 400 s; the station also has a saw."""
    store = RunStore(tmp_path / "runs.db")
    create_run(store, "R1", ["W1"], status="held", stopped_t=1000.0)
    stage = oven_stage(store, 0, 50.0, 100.0, "failed", "alarm")
    store.update_wafer("R1", "W1", status="held", reason="oven alarm E1")
    where = {"run_id": "R1", "wafer_id": "W1", "step_id": stage, "wall": 0.0}
    store.add_rows(
        "alarms", [{**where, "tool": "oven", "code": "E1", "message": "hot", "t": 100.0}]
    )
    measured = {"name": "zone temperature", "value": 412.0, "unit": "degC", "low": 20.0}
    store.add_rows(
        "measurements",
        [{**where, **measured, "high": 350.0, "passed": 0, "source": "tool", "t": 100.0}],
    )
    event = {"run_id": "R1", "session": 1, "kind": "tool-cleared", "wafer_id": None, "wall": 0.0}
    message = "oven back in service, cleared by ana"
    data = json.dumps({"by": "ana", "cleared": True})
    store.add_rows(
        "events", [{**event, "tool": "oven", "message": message, "data": data, "t": 400.0}]
    )
    yield RunRecords(store, "R1")
    store.close()


class Asked(NamedTuple):
    """A wafer as the recorder sees it when a confirmation is asked of it (`Subject`)."""

    id: str
    step_id: int | None


#: What `asked_run` asked, when (run clock), in which step of W1 ("stage": its oven stage,
#: None: between steps) and what became of it: an answer (yes or no, by whom as recorded),
#: or the run stopped (`stopped`, the stop's reason).
ASKED = (
    (60.0, "W1 on the oven's tray", "stage", (True, "ana (at the terminal)")),
    (150.0, "W1 seated", None, (False, "no operator")),
    (900.0, "W1 taken off the oven", None, ("terminated", "terminate requested by bo")),
)


@pytest.fixture
def asked_run(alarmed_run: RunRecords) -> RunRecords:
    """`alarmed_run`, its operator asked the confirmations of `ASKED`, recorded by the engine's
    own recorder: two answered, the last open when the run was terminated."""
    store = alarmed_run.store
    stage = int(alarmed_run.steps()["id"].iloc[-1])
    for t, prompt, step, outcome in ASKED:
        events = EventLog("R1", 1, store, lambda t=t: t, [])
        wafer = Asked("W1", stage if step == "stage" else None)
        if isinstance(outcome[0], str):
            StepRecorder(
                events, store, None, side_workpieces=None, simulated=False, confirm=None
            ).unanswered([wafer], prompt, outcome[0], outcome[1])
            continue

        async def answer(wafers: str, prompt: str, outcome=outcome) -> tuple[bool, str]:
            return outcome

        recorder = StepRecorder(
            events, store, None, side_workpieces=None, simulated=False, confirm=answer
        )
        if outcome[0]:
            asyncio.run(recorder.confirm([wafer], prompt))
            continue
        with pytest.raises(StepError):  # declined: the wafer's step fails, as it did
            asyncio.run(recorder.confirm([wafer], prompt))
    return alarmed_run


CHROMIUM = shutil.which("chromium")
#: How a user's headless Chromium runs here: no sandbox (root), no GPU, nothing fetched in the
#: background.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

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


class Chromium:
    """Headless Chromium as a user's would run here: no sandbox (root), no GPU, nothing
    fetched in the background, a fresh profile for each page, under `folder`."""

    def __init__(self, executable: str, folder: Path) -> None:
        self.executable = executable
        self.folder = folder
        self.profiles = 0

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.profiles += 1
        return subprocess.run(
            [
                self.executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.folder / f'profile{self.profiles}'}",
                "--virtual-time-budget=60000",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        )

    def probe(self, page: str, name: str = "page.html") -> tuple[Path, dict[str, Any]]:
        """Open HTML `page` from a file with `PROBE` put in front of it: the file, and what
        the probe found once Bokeh said the document is idle (`log`: the console and
        uncaught errors, `canvases`: how many were drawn)."""
        probed = self.folder / name
        probed.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
        dom = self.run("--dump-dom", probed.as_uri()).stdout
        found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        assert found, "Bokeh never reported the document idle"
        return probed, json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    """Debian's headless Chromium (the test is skipped where it is not installed)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run does)")
    return Chromium(CHROMIUM, tmp_path)
