"""Wall-clock bounds for tests that time a wait, scaled by a calibration made in the same run.

A test that asserts "this gave up within its timeout" in fixed seconds fails when the machine
is loaded (`pytest -n 2` on two cores shared with other work): the process gets a fraction of a
core and everything it does takes longer. A `Stopwatch` bound is the test's own bound
multiplied by how much slower the process runs at that moment, measured by timing a short
stretch of pure computation on the wall clock against the CPU time it used. On an idle machine
the bound is the test's own; a wait on the wrong timer (seconds where tenths were meant) still
fails unless the process gets less than a tenth of a core.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: How much CPU time one calibration computes for (it busy-waits that long).
CALIBRATION_CPU_S = 0.02


def cpu_share_slowdown(
    wall_clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.process_time,
) -> float:
    """How many times longer than its CPU time a stretch of computation takes on the wall
    clock now (1.0: the process has a core to itself)."""
    wall, cpu = wall_clock(), cpu_clock()
    while cpu_clock() - cpu < CALIBRATION_CPU_S:
        pass
    return max(1.0, (wall_clock() - wall) / (cpu_clock() - cpu))


class Stopwatch:
    """Times a wait from its creation. The calibration runs when a bound is asked for, after
    the wait, so that it never delays what is timed."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed_s(self) -> float:
        """Wall-clock seconds since the stopwatch started."""
        return time.monotonic() - self.started

    def bound_s(self, seconds: float) -> float:
        """`seconds`, the most the wait may take on an idle machine, stretched by how much
        slower the process runs now."""
        return seconds * cpu_share_slowdown()
