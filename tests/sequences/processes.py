"""Running `python -m packline` as a separate process, as a user would: a controller, or the
simulated line served on its own (`Served`).

The controller's JSON-lines output goes through a pipe shrunk to one page, so the controller
can be at most a few events ahead of the test reading them: killing it "after event k" kills
it at that point of the run, whatever the machine's speed.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Self

PIPE_BYTES = 4096
TIMEOUT_S = 60


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


class Controller:
    """`packline run ... --json` in its own process, its events read one at a time."""

    def __init__(self, db: Path, *args: str) -> None:
        read_fd, write_fd = os.pipe()
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "packline", *args, "--json", "--db", str(db)],
            stdout=write_fd,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
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


#: The first line `packline sim serve` prints, once its station file is written.
SERVE_HEADER = "# packline simulated line"


class Served:
    """`packline sim serve OPTIONS --station-out STATION` in its own process, as a context
    manager: entered once the line printed its header (`header`; the station file is then
    written), left by SIGTERM, which the line must answer by exiting 0. Its stderr goes to
    `STATION.log`, shown when it fails."""

    def __init__(self, station: Path, *options: str) -> None:
        self.station = station
        self.log = station.with_suffix(".log")
        self.header = ""
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "packline", "sim", "serve", *options,
                 "--station-out", str(station)],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
            )  # fmt: skip

    def __enter__(self) -> Self:
        assert self.process.stdout is not None
        if select.select([self.process.stdout], [], [], TIMEOUT_S)[0]:
            self.header = self.process.stdout.readline()
        if not self.header.startswith(SERVE_HEADER):
            self.process.kill()
            self.process.wait(timeout=TIMEOUT_S)
            self.process.stdout.close()
            raise AssertionError(
                f"sim serve wrote no station within {TIMEOUT_S} s:\n{self.log.read_text()}"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=TIMEOUT_S)
        assert self.process.stdout is not None
        self.process.stdout.close()
        if exc_info[0] is None:
            assert code == 0, f"sim serve exited {code} on SIGTERM:\n{self.log.read_text()}"
