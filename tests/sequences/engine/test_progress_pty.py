"""The live view in a real terminal (issue 15): `packline run` of 25 wafers in a 100 x 30 tmux
pane against a served simulated line, watched as the operator sees it, paused from a second
terminal with `packline pause`, then terminated.

What is checked on the screen: the footer (run clock, time left by the dry run of the same
recipe and lot) is visible; `PAUSED` shows once `packline pause` was given; after the run the
lot's wafers are on the screen once, in the summary (the live frame is not left behind).
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from ...packline.cli.test_console import Terminal
from ..processes import HEIGHT, Pane, Served, killed_in_step, packline

LOT = "25"

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run)")


@needs_tmux
def test_the_live_view_of_25_wafers_at_100_by_30_pause_and_terminate(tmp_path):
    db = tmp_path / "runs.db"
    dry = packline(db, "run", "plasma-clean", "--sim", "--lot", LOT, "--quiet")
    assert dry.returncode == 0, dry.stderr
    (dry_run,) = [run["id"] for run in json.loads(packline(db, "runs", "--json").stdout)]
    station = tmp_path / "line.yaml"
    with Served(station, "--time-scale", "60"):
        command = [sys.executable, "-m", "packline", "run", "plasma-clean", "--lot", LOT,
                   "--station", str(station), "--db", str(db), "--confirmed-by", "ana"]  # fmt: skip
        pane = Pane(tmp_path / "tmux", command)
        try:
            running = pane.wait_for(
                lambda s: (
                    any(" running " in line for line in s)
                    and any(line.startswith("run clock") for line in s)
                ),
                "a frame with a wafer running",
            )
            footer = [line for line in running if line.startswith("run clock")]
            assert len(footer) == 1, "\n".join(running)
            assert "(wall clock)" in footer[0]
            assert "left about 0:" in footer[0]
            assert ", ETA " in footer[0]
            assert f"(from dry run {dry_run})" in footer[0]
            assert len([line for line in running if line.strip()]) < HEIGHT
            assert running[0].startswith("plasma-clean  run ")
            assert packline(db, "pause", "last", "--by", "ana").returncode == 0
            # a whole frame: the live view erases its lines before it draws the next, so a
            # capture between the two can show the title's PAUSED above no footer yet
            paused = pane.wait_for(_paused_frame, "PAUSED in the title and (paused) in the footer")
            assert "pause requested by ana from another process" in paused[0]
            assert any("run clock" in line for line in paused), "\n".join(paused)  # by the counts
            assert packline(db, "terminate", "last").returncode == 0
            pane.wait_for(lambda s: any(line.startswith("EXIT ") for line in s), "end of run")
            history = pane.history()
        finally:
            pane.close()
    last_wafer = [line for line in history.splitlines() if "-W25 " in line]
    assert len(last_wafer) == 1, history  # the summary's row; the live frame was cleared
    assert "left about" not in history
    assert "EXIT 1" in history  # terminated


def _paused_frame(screen: list[str]) -> bool:
    return "PAUSED" in screen[0] and any(
        line.startswith("left about 0:") and " (paused), ETA " in line for line in screen
    )


@pytest.mark.parametrize(
    ("step", "status", "decision", "done", "code"),
    [
        ("vent", "queued", "cut off: batch plasma_cleaner replayed, vent run again", 5, 0),
        ("plasma clean", "held", "irreversible step 'plasma clean' was running when", 4, 1),
    ],
)
def test_a_resume_s_first_frame_counts_the_steps_done_before_and_says_what_it_decided(
    tmp_path, step, status, decision, done, code
):
    """A dry run killed in its first batch's `step`, then `packline resume` on a terminal: its
    first frame read `queued  0 steps` beside each wafer the killed session had taken through
    its steps (the count was the resume's own events), and nothing of what the resume
    decided (a step run again, its stage replayed; a wafer held for a disposition, said only
    once the chamber was recovered). It counts the steps each wafer completed in the run,
    and says what the resume decided for it, before anything is connected."""
    db = tmp_path / "runs.db"
    killed_in_step(db, "plasma-clean", 6, step)
    terminal = Terminal("resume", "last", "--db", str(db))
    shown = terminal.read_to_end()
    assert terminal.finish() == code, shown[-2000:]  # 1: the wafers held for a disposition
    # the frames drawn before the resume said what it runs, once connected: the first's rows
    connecting = shown[: shown.index("resume-plan")].splitlines()
    assert "the run is connecting to its tools" in "\n".join(connecting), shown

    def first_row(wafer: str) -> str:
        return next(line for line in connecting if line.startswith(wafer))

    for wafer in ("W01", "W02", "W03", "W04"):
        row = first_row(wafer)
        assert row.split()[1:4] == [status, str(done), "steps"], row
        assert decision in row, row
    row = first_row("W05")
    assert row.split()[1:] == ["queued", "0", "steps"], row  # not started: nothing decided
