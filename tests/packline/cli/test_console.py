"""The operator at a real terminal (a pseudo-terminal here): one question at a time, a
confirmation takes only yes or no, Ctrl-C opens the pause menu (also with --confirmed-by), and
every answer is recorded in the operator's name."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from packline.sequences.engine.request import login_name

from ...sequences.processes import Served

#: Terminal control sequences (colours, cursor moves): the test reads the text.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Wall seconds any expected output may take to appear.
WAIT_S = 60.0


@pytest.fixture
def served_line(tmp_path: Path) -> Iterator[Path]:
    """`packline sim serve`, 300 times faster than the wall clock, and its station file."""
    with Served(tmp_path / "line.yaml", "--time-scale", "300", "--for", "600") as served:
        yield served.station


class Terminal:
    """`packline run` with a pseudo-terminal as its stdin and stdout, as an operator sees it."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "packline", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm"},
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str) -> None:
        """Read the terminal until `text` has appeared (after what was matched before)."""
        deadline = time.monotonic() + WAIT_S
        while text not in self.screen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not shown within {WAIT_S} s; screen:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the other side closed: the process ended
                    chunk = ""
                if not chunk:
                    assert text in self.screen, f"{text!r} never shown:\n{self.screen}"
                self.screen += ANSI.sub("", chunk)
        self.screen = self.screen[self.screen.index(text) + len(text) :]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\r").encode())

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self) -> int:
        deadline = time.monotonic() + WAIT_S
        while self.process.poll() is None:
            assert time.monotonic() < deadline, "the run did not end"
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    break
        code = self.process.wait(timeout=WAIT_S)
        os.close(self.master)
        return code


def records(db: Path, query: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(query).fetchall()


def test_ctrl_c_during_a_confirmation_queues_the_menu_and_a_stray_key_declines_nothing(
    served_line: Path, tmp_path: Path
):
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "4",
                    "--operator", "ana", "--db", str(db))  # fmt: skip
    term.expect("confirm:")
    term.interrupt()
    term.expect("answer the open question first")
    term.type("c")  # meant for the pause menu: not an answer to the confirmation
    term.expect("'c': not y or n.")
    term.type("y")
    term.expect("paused at step boundaries: [c]ontinue")
    term.type("c")
    assert term.finish() == 0
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("completed",)]
    assert records(db, "SELECT DISTINCT confirmed, by FROM confirmations") == [
        (1, "ana (at the terminal)")
    ]
    kinds = [k for (k,) in records(db, "SELECT kind FROM events ORDER BY id")]
    assert "paused" in kinds
    assert "resumed" in kinds


def test_ctrl_c_with_confirmed_by_pauses_and_asks_instead_of_terminating(
    served_line: Path, tmp_path: Path
):
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "8",
                    "--confirmed-by", "ci-bot", "--db", str(db))  # fmt: skip
    term.expect("run clock")
    term.interrupt()
    term.expect("paused at step boundaries: [c]ontinue")
    term.type("x")
    term.expect("'x': c, t or a?")
    term.type("t")
    assert term.finish() == 1
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    messages = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    assert messages == ["terminate by " + login_name() + " at the terminal"]
