"""SIGKILL the controller at random points of a lot, resume, and check the records."""

from __future__ import annotations

import collections
import json
import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from packline.sequences.engine.liveness import is_alive

from .processes import Controller, packline

LOT = 8
KILLS = 4


def records(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {
            t: [dict(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY rowid")]
            for t in ("runs", "wafers", "steps", "measurements", "events", "twin_snapshots")
        }
    finally:
        con.close()


@pytest.mark.parametrize("attempt", range(KILLS))
def test_sigkill_then_resume_loses_nothing_and_repeats_nothing(tmp_path, attempt):
    db = tmp_path / "runs.db"
    rng = random.Random(attempt * 7919 + 17)
    kill_after = rng.randint(2, 180)
    controller = Controller(db, "run", "plasma-clean", "--sim", "--lot", str(LOT))
    run_id = controller.next_event()["run_id"]
    for _ in range(kill_after):
        if controller.next_event() is None:
            break
    controller.kill()
    before = records(db)
    assert [r["id"] for r in before["runs"]] == [run_id]
    # nobody drives the run now: it is shown as interrupted, whatever the records say
    shown = json.loads(packline(db, "runs", "--json").stdout)[0]["status"]
    if before["runs"][0]["status"] in ("running", "paused"):
        assert shown == "interrupted"

    resumed = packline(db, "resume", run_id, "--json")
    if before["runs"][0]["status"] == "completed":
        assert resumed.returncode == 2
        assert "nothing to resume" in resumed.stderr
    else:
        assert resumed.returncode in (0, 1), resumed.stderr
        assert "Traceback" not in resumed.stderr
    after = records(db)

    # resume closed every step the kill cut off, saying what it decided
    assert not [s for s in after["steps"] if s["status"] == "running"]
    for step in before["steps"]:
        if step["status"] == "running" and before["runs"][0]["status"] != "completed":
            closed = next(s for s in after["steps"] if s["id"] == step["id"])
            assert closed["status"] == "interrupted"
            assert "resume session 2: " in closed["error"]

    # every wafer ends completed or held, none dropped; held wafers say why
    wafers = {w["wafer_id"]: w for w in after["wafers"]}
    assert len(wafers) == LOT
    assert {w["status"] for w in wafers.values()} <= {"completed", "held"}
    assert all(w["reason"] for w in wafers.values() if w["status"] == "held")
    # no irreversible step ran twice on any wafer
    for wafer_id in wafers:
        ran = [
            s
            for s in after["steps"]
            if s["wafer_id"] == wafer_id and s["irreversible"] and s["status"] != "skipped"
        ]
        assert len(ran) <= 1, (wafer_id, ran)
    # a wafer is held only because its irreversible step was cut off by the kill
    for wafer in wafers.values():
        if wafer["status"] == "held":
            assert "irreversible step 'plasma clean' was" in wafer["reason"]
    # no record was lost: everything written before the kill is still there, unchanged if final
    after_steps = {s["id"]: s for s in after["steps"]}
    for step in before["steps"]:
        assert step["id"] in after_steps
        if step["status"] != "running":
            assert after_steps[step["id"]] == step
    assert len(after["measurements"]) >= len(before["measurements"])
    assert all(m in after["measurements"] for m in before["measurements"])
    # the twin survived: every completed wafer is clean, every wafer was measured once before
    for wafer_id, wafer in wafers.items():
        own = [m for m in after["measurements"] if m["wafer_id"] == wafer_id]
        assert [m["name"] for m in own].count("residue before") == 1
        if wafer["status"] == "completed":
            residue_after = [m["value"] for m in own if m["name"] == "residue after"]
            assert residue_after == [0.0]
    summary = json.loads(resumed.stdout.splitlines()[-1]) if resumed.returncode != 2 else None
    if summary is not None:
        assert summary["kind"] == "summary"
        assert summary["run_id"] == run_id


def test_a_killed_controller_not_yet_reaped_is_not_live():
    """A zombie (killed, its parent not yet waiting on it) still answers kill(pid, 0)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child.kill()
        deadline = time.monotonic() + 10
        while _zombie_state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _zombie_state(child.pid) == "Z"
        run = {"status": "running", "host": socket.gethostname(), "pid": child.pid}
        assert not is_alive(run)
    finally:
        child.wait(timeout=10)


def _zombie_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


@pytest.mark.parametrize(
    ("method", "seed", "crashes"),
    [
        ("bump-seal-clean", 1, 1),
        ("bump-seal-clean", 3, 2),  # the resume is killed too
        ("plasma-clean", 4, 2),
        ("plasma-clean", 5, 3),
    ],
)
def test_chaos_kills_across_sessions_lose_nothing_and_leave_nothing_running(
    tmp_path, method, seed, crashes
):
    """SIGKILL the controller at random points, the resuming controllers too, then resume to
    the end: no wafer or record lost, no irreversible step twice, no step left running."""
    db = tmp_path / "runs.db"
    rng = random.Random(seed)
    controller = Controller(db, "run", method, "--sim", "--lot", "3")
    run_id = controller.next_event()["run_id"]
    snapshots = []
    for crash in range(crashes):
        for _ in range(rng.randint(5, 120)):
            if controller.next_event() is None:
                break
        controller.kill()
        snapshots.append(records(db))
        if snapshots[-1]["runs"][0]["status"] in ("running", "paused"):
            shown = json.loads(packline(db, "show", run_id, "--json").stdout)["run"]["status"]
            assert shown == "interrupted"
        if crash + 1 < crashes:
            controller = Controller(db, "resume", run_id)
    final = packline(db, "resume", run_id, "--json")
    assert final.returncode in (0, 1, 2), final.stderr
    assert "Traceback" not in final.stderr
    after = records(db)

    assert not [s for s in after["steps"] if s["status"] == "running"]
    wafers = {w["wafer_id"]: w for w in after["wafers"]}
    assert len(wafers) == 3
    assert {w["status"] for w in wafers.values()} <= {"completed", "held"}
    for wafer in wafers.values():
        if wafer["status"] == "held":
            assert "irreversible step" in wafer["reason"], wafer["reason"]
    ran = collections.Counter(
        (s["wafer_id"], s["key"])
        for s in after["steps"]
        if s["irreversible"] and s["status"] != "skipped"
    )
    assert max(ran.values(), default=1) == 1, ran
    after_steps = {s["id"]: s for s in after["steps"]}
    for before in snapshots:
        for step in before["steps"]:
            if step["status"] != "running":
                assert after_steps[step["id"]] == step
            else:
                assert after_steps[step["id"]]["status"] in ("interrupted", "running")
        for table in ("measurements", "events", "twin_snapshots"):
            assert all(row in after[table] for row in before[table]), table
    for step in after["steps"]:
        if step["status"] == "interrupted" and step["error"].startswith("cut off"):
            assert "resume session" in step["error"]
    for wafer_id in wafers:
        names = [m["name"] for m in after["measurements"] if m["wafer_id"] == wafer_id]
        befores = [n for n in names if n.endswith(" before")]
        assert len(befores) == len(set(befores)), (wafer_id, befores)
