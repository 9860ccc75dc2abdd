"""Running `python -m packline` as a separate process, as a user would: a controller, the
simulated line served on its own (`Served`), or a command in a terminal of its own (`Pane`);
and a dry run killed in a step of a name (`killed_in_step`), the records a crash there leaves.

The controller's JSON-lines output goes through a pipe shrunk to one page, so the controller
runs at most about a page of events (some fifteen) ahead of the test reading them: killed
"after event k", it is killed somewhere in the events after k, further on the more loaded the
machine. A test that needs it killed at one point of the run kills it inside a step that
lasts (test_resume_station's).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

PIPE_BYTES = 4096
TIMEOUT_S = 60
#: The terminal a `Pane` is.
WIDTH, HEIGHT = 100, 30


def packline(
    db: Path, *args: str, timeout_s: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run one packline command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "packline", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


#: A dry run that kills its own process (SIGKILL) as the first step of a name starts, its
#: row committed `running`: the records as a crash leaves them, at one point of the run.
KILLED_IN_STEP = """
import asyncio, os, signal, sys
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare

db, method, lot, step = sys.argv[1:]

def kill_in_step(event):
    if event.kind == "step-started" and event.step == step:
        os.kill(os.getpid(), signal.SIGKILL)

async def main():
    async with open_run(RunStore(db), prepare(RunRequest(method, lot=int(lot))),
                        observers=[kill_in_step]) as engine:
        await engine.run()

asyncio.run(main())
"""


def killed_in_step(db: Path, method: str, lot: int, step: str) -> None:
    """A dry run of `lot` wafers of `method` into `db`, killed (SIGKILL) in its process as
    the first step named `step` starts: what `packline resume` finds after a crash there."""
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IN_STEP, str(db), method, str(lot), step],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


class Controller:
    """`packline run ... --json` in its own process, its events read one at a time."""

    def __init__(self, db: Path, *args: str, terminal: bool = True) -> None:
        """`terminal` False: started without one (in a session of its own), as by a script
        or a service, so no keyboard reaches it."""
        read_fd, write_fd = os.pipe()
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "packline", *args, "--json", "--db", str(db)],
            stdout=write_fd,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=not terminal,
        )
        os.close(write_fd)
        self.stream = os.fdopen(read_fd, "r")
        self.events: list[dict] = []

    def next_event(self) -> dict | None:
        line = self.stream.readline()
        if not line:
            return None
        event = json.loads(line)
        self.events.append(event)
        return event

    def read_until(self, predicate) -> dict | None:
        while (event := self.next_event()) is not None:
            if predicate(event):
                return event
        return None

    def finish(self) -> int:
        """Read everything, wait for the exit code."""
        while self.next_event() is not None:
            pass
        return self.wait()

    def wait(self) -> int:
        code = self.process.wait(timeout=TIMEOUT_S)
        self.stream.close()
        self.process.stderr.close()
        return code

    def kill(self) -> None:
        self.process.kill()
        self.wait()


def stop(process: subprocess.Popen[str]) -> int:
    """End `process` by SIGTERM (killed if it has not ended within the timeout), close its
    pipes, and give its exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT_S)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return code


class Background:
    """`python -m packline ARGS`, a command that runs until stopped, in its own process, as a
    context manager: entered once it printed its first line (`header`), which must start with
    `ready`; left by SIGTERM, which it must answer by exiting `STOPPED`. Its stderr goes to
    `log`, shown when it fails."""

    #: The exit code a SIGTERM must end the command with.
    STOPPED = 0

    def __init__(self, log: Path, ready: str, *args: str) -> None:
        self.log = log
        self.ready = ready
        self.command = shlex.join(["packline", *args])
        self.header = ""
        with self.log.open("w") as errors:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "packline", *args],
                stdout=subprocess.PIPE,
                stderr=errors,
                stdin=subprocess.DEVNULL,
                text=True,
            )

    def __enter__(self) -> Self:
        assert self.process.stdout is not None
        if select.select([self.process.stdout], [], [], TIMEOUT_S)[0]:
            self.header = self.process.stdout.readline()
        if not self.header.startswith(self.ready):
            self.process.kill()
            self.process.wait(timeout=TIMEOUT_S)
            self.process.stdout.close()
            raise AssertionError(
                f"{self.command} printed no {self.ready!r} within {TIMEOUT_S} s:\n"
                f"{self.log.read_text()}"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        code = stop(self.process)
        if exc_info[0] is None:
            assert code == self.STOPPED, (
                f"{self.command} exited {code} on SIGTERM:\n{self.log.read_text()}"
            )


#: The first line `packline sim serve` prints, once its station file is written.
SERVE_HEADER = "# packline simulated line"


class Served(Background):
    """`packline sim serve OPTIONS --station-out STATION` (`Background`), its stderr in
    `STATION.log`: entered once the station file is written."""

    def __init__(self, station: Path, *options: str) -> None:
        self.station = station
        super().__init__(
            station.with_suffix(".log"),
            SERVE_HEADER,
            *("sim", "serve", *options, "--station-out", str(station)),
        )


class Pane:
    """A detached tmux session of its own (its own server socket), WIDTH x HEIGHT."""

    def __init__(self, socket: Path, command: list[str]) -> None:
        self.socket = str(socket)
        # the terminal's own size, not one the test's environment states (pytest's COLUMNS
        # and LINES); the shell stays after the command, so its screen can be read at the end
        shell = f"unset COLUMNS LINES; {shlex.join(command)}; echo EXIT $?; sleep {TIMEOUT_S}"
        self._tmux("new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), shell)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=True,
        )
        return done.stdout

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p").splitlines()

    def history(self) -> str:
        return self._tmux("capture-pane", "-p", "-S", "-")

    def keys(self, *keys: str) -> None:
        """Type `keys` as tmux names them (`C-c`, `Enter`, or text)."""
        self._tmux("send-keys", *keys)

    def wait_for(self, predicate: Callable[[list[str]], bool], what: str) -> list[str]:
        """The screen once `predicate(screen)` holds; fails naming `what` after TIMEOUT_S."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {TIMEOUT_S} s:\n" + "\n".join(self.screen()))

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], timeout=TIMEOUT_S, check=False)
