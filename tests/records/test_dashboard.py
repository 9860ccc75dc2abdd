"""`packline dashboard` in its own process: read-only, a token off loopback, and in a real
headless Chromium a run in progress updating live while another process drives it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self

import pytest
from websockets.sync.client import ClientConnection, connect

from packline.cli import main
from packline.records.dashboard import listed_runs, live_state, needs_token, no_run_yet
from packline.sequences.engine import RunStore
from packline.sequences.engine.eta import NO_BASIS, Schedules
from packline.sequences.engine.liveness import listed_status
from packline.sequences.engine.schedule import RECIPE_BASIS, plans_path

from ..packline.cli.test_runs import (
    run_that_left_a_wafer_on_the_saw,
    run_whose_claim_check_failed,
    run_whose_every_wafer_was_scrapped,
)
from ..sequences.processes import TIMEOUT_S, Background, Served, stop
from .conftest import CHROMIUM_FLAGS, Chromium, create_run, oven_stage, stage_row

#: Where the test puts its screenshot for docs/ when asked (`PACKLINE_SCREENSHOTS=docs/images`).
SCREENSHOTS = os.environ.get("PACKLINE_SCREENSHOTS")


class Dashboard(Background):
    """`packline dashboard --port 0` in its own process (`Background`), its stderr in
    dashboard.log beside the database: entered once it printed its address (`url`)."""

    STOPPED = -signal.SIGTERM  # uvicorn shuts down, then ends by the signal it caught

    def __init__(self, db: Path, *options: str) -> None:
        super().__init__(
            db.with_name("dashboard.log"),
            "packline dashboard of ",
            *("dashboard", "--db", str(db), "--port", "0", "--poll", "0.2", *options),
        )

    @property
    def url(self) -> str:
        return self.header.split(" on ", 1)[1].split()[0]


class DevTools:
    """Headless Chromium driven over the DevTools protocol (one page), as a context manager:
    `evaluate` runs JavaScript in the page, `errors` are its console errors and uncaught
    exceptions so far, `screenshot` draws it."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "--window-size=1200,1400", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        self.messages = 0
        self.errors: list[str] = []
        self.session = ""
        self.socket: ClientConnection | None = None
        self.closing = contextlib.ExitStack()

    def __enter__(self) -> Self:
        try:
            self._open()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _open(self) -> None:
        """Connect to the browser and open one page in it."""
        assert self.process.stderr is not None
        deadline = time.monotonic() + TIMEOUT_S
        address = ""
        while not address and time.monotonic() < deadline:
            if select.select([self.process.stderr], [], [], 1)[0]:
                line = self.process.stderr.readline()
                if line.startswith("DevTools listening on "):
                    address = line.split(" on ", 1)[1].strip()
        assert address, "chromium gave no DevTools address"
        self.socket = self.closing.enter_context(
            connect(address, max_size=None, open_timeout=TIMEOUT_S)
        )
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.call("Runtime.enable")
        self.call("Page.enable")

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.closing.close()
        finally:
            stop(self.process)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its result, noting the page's errors meanwhile."""
        assert self.socket is not None
        self.messages += 1
        message: dict[str, Any] = {"id": self.messages, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=TIMEOUT_S))
            if reply.get("method") == "Runtime.exceptionThrown":
                self.errors.append(str(reply["params"]["exceptionDetails"]))
            elif (
                reply.get("method") == "Runtime.consoleAPICalled"
                and reply["params"]["type"] == "error"
            ):
                self.errors.append(str(reply["params"]["args"]))
            if reply.get("id") == self.messages:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str) -> None:
        """Wait until JavaScript `expression` is true in the page (AssertionError after the
        timeout)."""
        deadline = time.monotonic() + TIMEOUT_S
        while not self.evaluate(expression):
            assert time.monotonic() < deadline, f"never true in the page: {expression}"
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


#: What the test reads of the page: the live section's updates and what it shows.
LIVE = """JSON.stringify({
  updates: Number(document.getElementById("live").dataset.updates),
  ended: document.getElementById("live").dataset.ended || "",
  connection: document.getElementById("connection").textContent,
  runs: [...document.querySelectorAll("#live .run")].map((box) => ({
    id: box.dataset.run,
    title: box.querySelector("h3").textContent,
    eta: box.querySelector(".eta").textContent,
    wafers: [...box.querySelectorAll("table:first-of-type tbody tr")].map((tr) =>
      [...tr.cells].map((td) => td.textContent)),
  })),
})"""


def test_only_loopback_goes_without_a_token():
    assert not needs_token("127.0.0.1")
    assert not needs_token("::1")
    assert needs_token("0.0.0.0")
    assert needs_token("10.0.3.5")


def test_a_token_is_asked_for_and_kept_and_nothing_is_written(tmp_path):
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet", "--db", str(db)]) == 0
    before = _dump(db)
    with Dashboard(db, "--token", "s3cret") as dashboard:
        base = dashboard.url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=TIMEOUT_S)
        assert refused.value.code == 401
        refused.value.close()
        with urllib.request.urlopen(f"{base}?token=s3cret", timeout=TIMEOUT_S) as page:
            cookie = page.headers["set-cookie"].split(";")[0]
            assert "plasma-clean" in page.read().decode()
        asked = urllib.request.Request(f"{base}state", headers={"Cookie": cookie})
        with urllib.request.urlopen(asked, timeout=TIMEOUT_S) as state:
            assert json.loads(state.read()) == {"live": [], "ended": [_last_run(db)]}
        posted = urllib.request.Request(f"{base}?token=s3cret", data=b"x", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(posted, timeout=TIMEOUT_S)
        assert refused.value.code == 405  # read-only
        refused.value.close()
    assert _dump(db) == before


def test_before_any_run_it_serves_the_page_saying_how_to_start_one(tmp_path):
    """An operator who started the dashboard before any run was refused (`run database ...
    does not exist`). It serves the page, with no run, saying how to start one, and creates
    nothing; the first run then shows in it."""
    db = tmp_path / "runs.db"
    with Dashboard(db) as dashboard:
        assert dashboard.header.rstrip().endswith(f"; {no_run_yet(db)}")
        with urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page:
            assert html.escape(no_run_yet(db)) in page.read().decode()
        with urllib.request.urlopen(f"{dashboard.url}state", timeout=TIMEOUT_S) as state:
            assert json.loads(state.read()) == {"live": [], "ended": []}
        assert not db.exists()
        assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
        with urllib.request.urlopen(f"{dashboard.url}state", timeout=TIMEOUT_S) as state:
            assert json.loads(state.read()) == {"live": [], "ended": [_last_run(db)]}
        with urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page:
            listed = page.read().decode()
        assert f'href="runs/{_last_run(db)}/report"' in listed
        assert "no run yet" not in listed


def test_on_a_run_database_holding_no_run_its_line_says_how_to_start_one(tmp_path):
    """The line it prints says so of a database that exists and holds no run, as the page
    does (it had said so only of one that did not exist)."""
    db = tmp_path / "runs.db"
    RunStore(db).close()  # made, no run in it
    with Dashboard(db) as dashboard:
        assert dashboard.header.rstrip().endswith(f"; {no_run_yet(db)}")


@pytest.mark.parametrize(
    ("make_run", "said"),
    [
        (run_whose_claim_check_failed, "completed, claim check failed</td>"),
        (run_whose_every_wafer_was_scrapped, "completed, every wafer scrapped; fault injected"),
    ],
)
def test_the_run_list_says_what_runs_says_of_a_completed_run_that_made_no_good_product(
    tmp_path, make_run, said
):
    """A completed run whose product failed its claim check, and one whose every wafer was
    scrapped, read `completed, claim check failed` and `completed, every wafer scrapped` in
    the page's run list, as `packline runs` says them (they read plain `completed`, the
    second beside its 0 completed wafers)."""
    db = tmp_path / "runs.db"
    run_id = make_run(db)
    with (
        Dashboard(db) as dashboard,
        urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page,
    ):
        listed = page.read().decode()
    row = re.search(rf"<tr><td><a href=\"runs/{run_id}/report\">.*?</tr>", listed)
    assert row is not None
    assert f"<td>{said}" in row.group()


def test_the_run_list_says_what_a_stopped_run_left_on_its_tools(tmp_path):
    """An aborted run left W02 on the dicing saw: `show`, its summary and its report said so,
    the page's run list did not. Its row says where (`left_brief`), and all `show` says of it,
    with the resume that takes it off, when the pointer rests on it (`left_text`); a completed
    run's row says nothing."""
    db = tmp_path / "runs.db"
    run_id = asyncio.run(run_that_left_a_wafer_on_the_saw(db))
    cleaned = run_whose_claim_check_failed(db)
    with (
        Dashboard(db) as dashboard,
        urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page,
    ):
        listed = page.read().decode()
    assert "<th>left on tools</th>" in listed
    rows = {
        run: re.search(rf"<tr><td><a href=\"runs/{run}/report\">.*?</tr>", listed)
        for run in (run_id, cleaned)
    }
    left = re.search(r'<td class="held" title="([^"]*)">([^<]*)</td>', rows[run_id].group())
    assert left is not None
    assert left.group(2) == "W02 in dicing_saw"
    assert html.unescape(left.group(1)).startswith(
        "left on the simulated tools when the run stopped: W02 in dicing_saw; "
        f"`packline resume {run_id} --db {db}` takes them up again"
    )
    assert '<td class="held" title=""></td>' in rows[cleaned].group()


class StoppedByCtrlC(Dashboard):
    """A dashboard the test ends with Ctrl-C, which must exit 0 (the context's SIGTERM then
    finds it ended)."""

    STOPPED = 0


def test_ctrl_c_stops_it_quietly(tmp_path):
    """Ctrl-C (SIGINT) ends the dashboard with exit 0 and no traceback or error, as the docs
    say, a page's live stream open meanwhile (it was cancelled after the graceful shutdown's
    2 s, with a traceback)."""
    db = tmp_path / "runs.db"
    RunStore(db).close()
    with StoppedByCtrlC(db) as dashboard:
        with urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page:  # serving
            assert page.status == 200
        with urllib.request.urlopen(f"{dashboard.url}events", timeout=TIMEOUT_S) as stream:
            assert stream.readline().startswith(b"data: ")  # a page's live stream, open
            dashboard.process.send_signal(signal.SIGINT)
            assert dashboard.process.wait(timeout=TIMEOUT_S) == 0
    errors = dashboard.log.read_text()
    assert "Traceback" not in errors
    assert "ERROR" not in errors


def _dump(db: Path) -> list[str]:
    """Every statement that would rebuild the database: equal dumps, nothing was written."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return list(connection.iterdump())


def _last_run(db: Path) -> str:
    store = RunStore(db, create=False)
    try:
        return store.resolve_run("last")
    finally:
        store.close()


def test_the_page_updates_live_while_a_run_proceeds_in_another_process(
    tmp_path: Path, chromium: Chromium
):
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--lot", "1", "--quiet", "--db", str(db)]) == 0
    first = _last_run(db)
    station = tmp_path / "line.yaml"
    seen: list[dict[str, Any]] = []
    with (
        Served(station, "--time-scale", "50"),
        Dashboard(db) as dashboard,
        DevTools(chromium.executable, chromium.folder / "profile") as browser,
    ):
        browser.call("Page.navigate", url=dashboard.url)
        # the page has loaded and its event stream is open before the run starts
        browser.wait_for('document.getElementById("connection")?.textContent === "live"')
        with (tmp_path / "run.log").open("w") as log:
            run = subprocess.Popen(
                [sys.executable, "-m", "packline", "run", "plasma-clean", "--station",
                 str(station), "--confirmed-by", "t", "--lot", "3", "--quiet", "--db", str(db)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        try:
            run_id, state = None, {}
            deadline = time.monotonic() + 4 * TIMEOUT_S
            while time.monotonic() < deadline:
                state = json.loads(browser.evaluate(LIVE))
                boxes = [box for box in state["runs"] if box["id"] != first]
                if boxes:
                    run_id = boxes[0]["id"]
                    seen.append(state)
                    on_tool = [row for row in boxes[0]["wafers"] if row[3]]
                    if on_tool and not (tmp_path / "dashboard.png").exists():
                        browser.screenshot(tmp_path / "dashboard.png")
                if run_id is not None and run_id in state["ended"].split(","):
                    break
                time.sleep(0.1)
            assert run.wait(timeout=TIMEOUT_S) == 0, (tmp_path / "run.log").read_text()
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=TIMEOUT_S)
        assert run_id in state["ended"].split(","), "the page never showed the run ended"
        assert state["connection"] == "live"
        assert browser.errors == []
    assert len(seen) >= 2, seen
    titles = [box["title"] for state in seen for box in state["runs"] if box["id"] == run_id]
    assert all(f"plasma-clean {run_id}: running" in title for title in titles)
    # the ETA as the live view says it: from the one-wafer dry run, scaled to the lot of 3;
    # while no wafer is in a step, its time left and why it stands still
    etas = {box["eta"] for state in seen for box in state["runs"] if box["id"] == run_id}
    waiting = r"(left about \d+:\d\d:\d\d \(waiting\), )?"
    assert all(
        re.fullmatch(rf"{waiting}ETA \d\d:\d\d \(from dry run {first} of 1, scaled\)", e)
        for e in etas
    )
    wafers = [box["wafers"] for state in seen for box in state["runs"] if box["id"] == run_id]
    assert all(len(rows) == 3 for rows in wafers)
    assert any(
        row[1:] == ["running", "plasma clean", "plasma_cleaner"] for rows in wafers for row in rows
    )
    assert len({json.dumps(rows) for rows in wafers}) >= 2  # the wafers' rows changed live
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000
    if SCREENSHOTS:
        shutil.copy(tmp_path / "dashboard.png", Path(SCREENSHOTS) / "dashboard-live.png")


def test_a_live_runs_tools_are_running_down_until_cleared_or_idle(tmp_path):
    """The tools' states of a run this process drives, read from its records: the saw holds
    W2's stage (running); the oven alarmed on W1 and waits for a clear (down), then is cleared
    (idle); the latest alarms are listed."""
    store = RunStore(tmp_path / "runs.db")
    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2"], stopped_t=None, **driven)
        failed = oven_stage(store, 0, 1.0, 2.0, "failed", "alarm")
        where = {"run_id": "R1", "wafer_id": "W1", "step_id": failed, "t": 2.0, "wall": 0.0}
        store.add_rows("alarms", [{**where, "tool": "oven", "code": "E1", "message": "hot"}])
        store.start_steps([stage_row("saw", "W2", 3.0)])  # still running
        event = {"run_id": "R1", "session": 1, "wafer_id": None, "tool": "oven", "wall": 0.0}
        out = {"cause": "alarm", "until_cleared": True}
        store.add_rows(
            "events",
            [{**event, "kind": "tool-out-of-service", "message": "oven: E1", "t": 2.0,
              "data": json.dumps(out)}],
        )  # fmt: skip
        (run,) = live_state(store)["live"]
        assert run["tools"] == {"oven": "down", "saw": "running"}
        assert (run["alarms"], run["cleared_alarms"]) == (["oven E1 on W1: hot"], [])
        cleared = {"by": "ana", "cleared": True}
        store.add_rows(
            "events",
            [{**event, "kind": "tool-cleared", "message": "oven back in service", "t": 4.0,
              "data": json.dumps(cleared)}],
        )  # fmt: skip
        (run,) = live_state(store)["live"]
        assert run["tools"] == {"oven": "idle", "saw": "running"}
        # a tester's cleared plasma cleaner had kept its alarms in red until the run ended
        assert (run["alarms"], run["cleared_alarms"]) == ([], ["oven E1 on W1: hot (cleared)"])
    finally:
        store.close()


def test_a_batch_s_alarm_is_listed_once_naming_its_wafers(tmp_path):
    """A batch's wafers each record the alarm that failed their step: one failure, as `packline
    alarms` counts it (a 2-wafer chamber batch's REFLECTED_POWER had shown as two red lines)."""
    store = RunStore(tmp_path / "runs.db")
    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2", "W3"], stopped_t=None, **driven)
        batch = {"kind": "batch", "batch": "b1"}
        rows = [stage_row("oven", wafer, 1.0, **batch) for wafer in ("W1", "W2")]
        steps = store.start_steps(rows)
        store.finish_steps(steps, "failed", 2.0, 0.0, "alarm")
        alarm = {"run_id": "R1", "tool": "oven", "code": "E1", "message": "hot", "wall": 0.0}
        later = {**alarm, "code": "E2", "message": "door", "wafer_id": "W3", "t": 5.0}
        store.add_rows(
            "alarms",
            [{**alarm, "wafer_id": wafer, "step_id": step, "t": 2.0}
             for wafer, step in zip(("W1", "W2"), steps, strict=True)]
            + [{**later, "step_id": steps[0]}],
        )  # fmt: skip
        (run,) = live_state(store)["live"]
        assert run["alarms"] == ["oven E1 on W1, W2: hot", "oven E2 on W3: door"]
    finally:
        store.close()


def test_a_run_being_terminated_says_so_from_the_request_on(tmp_path):
    """A tester's terminate was invisible for the 15 s its last wafer took to stop: the box's
    status and the run list said `running`. From the `terminating` event on, both say the run
    is terminating, since when and by whom, as `packline runs` does."""
    store = RunStore(tmp_path / "runs.db")
    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2"], stopped_t=None, **driven)
        (run,) = live_state(store)["live"]
        assert run["status"] == "running"
        wall = time.time()
        store.add_rows(
            "events",
            [{"run_id": "R1", "session": 1, "wafer_id": None, "tool": None, "t": 3.0,
              "wall": wall, "kind": "terminating", "data": json.dumps({"by": "bo"}),
              "message": "terminate requested by bo from another process"}],
        )  # fmt: skip
        since = time.strftime("%H:%M:%S", time.localtime(wall))
        said = f"running, terminating since {since} by bo: each wafer stops at its next step"
        (run,) = live_state(store)["live"]
        assert run["status"].startswith(said)
        (listed,) = listed_runs(store)
        assert listed_status(listed).startswith(said)
    finally:
        store.close()


def test_a_live_run_s_wafers_read_as_its_live_view_shows_them(tmp_path):
    """Queued wafers showed `running` with no step (the records' status from the moment a
    wafer's task starts): W1 is in a step, W2 between two (waiting), W3 has not started, W4
    completed; paused, W1 finishes its step and W2 its stage on the oven (decision 0097),
    and W3 is paused (it showed `queued`, though it starts nothing until the run resumes)."""
    store = RunStore(tmp_path / "runs.db")
    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2", "W3", "W4"], stopped_t=None, **driven)
        for wafer in ("W1", "W2", "W3"):
            store.update_wafer("R1", wafer, status="running")
        store.update_wafer("R1", "W4", status="completed")
        store.start_steps([stage_row("oven", "W1", 1.0, kind="step", name="cure")])
        oven_stage(store, 0, 1.0, 2.0, "completed", None)
        store.start_steps([stage_row("oven", "W2", 2.0, key="use oven#1")])
        store.finish_steps([store.start_steps([stage_row("saw", "W2", 0.5, kind="step")])[0]],
                           "completed", 1.0, 0.0, None)  # fmt: skip

        def statuses() -> dict[str, str]:
            (run,) = live_state(store)["live"]
            return {wafer["wafer"]: wafer["status"] for wafer in run["wafers"]}

        assert statuses() == {"W1": "running", "W2": "running", "W3": "queued", "W4": "completed"}
        store.update_run("R1", status="paused")
        assert statuses() == {"W1": "running", "W2": "running", "W3": "paused", "W4": "completed"}
    finally:
        store.close()


def test_a_poll_reads_as_much_with_many_past_runs_of_the_recipe_as_with_few(tmp_path):
    """The run's schedule is found once (`eta.Schedules`), not at every poll: once found, a
    poll executes as many statements with 40 past runs of the recipe as with 4."""
    store = RunStore(tmp_path / "runs.db")
    schedules = Schedules()
    statements: list[str] = []

    def poll() -> int:
        store._db.set_trace_callback(statements.append)
        try:
            (run,) = live_state(store, schedules)["live"]
        finally:
            store._db.set_trace_callback(None)
        assert "from run P" in run["eta"]
        count = len(statements)
        statements.clear()
        return count

    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2"], stopped_t=None, started_wall=100.0, **driven)
        for i in range(4):
            create_run(store, f"P{i:02d}", ["W1"], started_wall=float(i))
        poll()  # finds it
        few = poll()
        for i in range(4, 40):
            create_run(store, f"P{i:02d}", ["W1"], started_wall=float(i))
        assert poll() == few
    finally:
        store.close()


def test_a_run_without_a_schedule_takes_the_recipe_s_plan_once_it_is_made(tmp_path):
    """No run of the recipe yet: the ETA is unknown, and a later poll takes the plan the run's
    live view made meanwhile (the recipe's one-wafer dry run, beside the run database)."""
    store = RunStore(tmp_path / "runs.db")
    schedules = Schedules()
    try:
        driven = {"status": "running", "pid": os.getpid(), "host": socket.gethostname()}
        create_run(store, "R1", ["W1", "W2"], stopped_t=None, **driven)
        (run,) = live_state(store, schedules)["live"]
        assert run["eta"] == f"ETA unknown: {NO_BASIS}"
        plans = RunStore(plans_path(store.path))
        try:
            create_run(plans, "P1", ["W1"], simulated=1)
        finally:
            plans.close()
        (run,) = live_state(store, schedules)["live"]
        assert run["eta"].endswith(f"({RECIPE_BASIS})")
    finally:
        store.close()


def test_the_run_list_counts_the_wafers_by_every_outcome(tmp_path):
    """A trial's lot of 2 with one wafer scrapped read `2 | completed 1 | held 0` in the page's
    run list: its wafers are counted as `packline runs` counts them, scrapped and terminated
    too."""
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--lot", "3", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        store.update_wafer(run_id, "W02", status="scrapped")
        store.update_wafer(run_id, "W03", status="terminated")
    finally:
        store.close()
    with (
        Dashboard(db) as dashboard,
        urllib.request.urlopen(dashboard.url, timeout=TIMEOUT_S) as page,
    ):
        listed = page.read().decode()
    assert "<th>held</th><th>scrapped</th><th>terminated</th>" in listed
    row = re.search(rf"<tr><td><a href=\"runs/{run_id}/report\">.*?</tr>", listed)
    assert row is not None
    assert "<td>3</td><td>1</td><td>0</td><td>1</td><td>1</td>" in row.group()
