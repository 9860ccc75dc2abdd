"""Handing a result to waiting tasks without letting a virtual clock jump in between.

A `VirtualClock` jumps once the loop has been quiet for a few passes. When the engine wakes a
task that waits through a chain of futures (a batch member waiting for its batch, a wafer
waiting for a tool), the chain takes several loop passes before that task runs again; a clock
that jumped meanwhile would fire timeouts that should never fire. So whoever sets such a
result also marks one `clock.activity()` per waiting task, and each waiting task ends its
mark when it runs. On the wall clock this is free.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from packline.clock import Clock


class Handoff:
    """Activity marks given by the setter of a result and taken by its waiters."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.waiting = 0
        self._marks: list[AbstractContextManager[None]] = []

    def give(self) -> None:
        """Mark one activity per task waiting now and not yet marked (call when setting the
        result; calling it again marks no one twice)."""
        while len(self._marks) < self.waiting:
            mark = self.clock.activity()
            mark.__enter__()
            self._marks.append(mark)

    def take(self) -> None:
        """A waiter runs again: end one mark (call in the waiter's `finally`)."""
        if self._marks:
            self._marks.pop().__exit__(None, None, None)
