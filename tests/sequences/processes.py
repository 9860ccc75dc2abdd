"""Running `python -m packline` as a separate controller process, as a user would.

The controller's JSON-lines output goes through a pipe shrunk to one page, so the controller
can be at most a few events ahead of the test reading them: killing it "after event k" kills
it at that point of the run, whatever the machine's speed.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

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
