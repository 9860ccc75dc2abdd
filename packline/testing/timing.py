"""Wall-clock bounds for tests that time a wait, scaled by a calibration made in the same run.

A test that asserts "this gave up within its timeout" in fixed seconds fails when the machine
is loaded (`pytest -n 2` on two cores shared with other work): the process gets a fraction of a
core and everything it does takes longer. A `Stopwatch` bound is the test's own bound
multiplied by how much slower the process runs at that moment, measured by timing a short
stretch of pure computation on the wall clock against the CPU time it used. On an idle machine
the bound is the test's own plus `SCHEDULING_ALLOWANCE_S`; a wait on the wrong timer (a connect
timeout of seconds where a reply timeout of tenths was meant, a hang) still fails unless the
process gets less than a tenth of a core.

The calibration runs after the wait and so sees a steady load only. A load that comes in bursts
(another worker's type check, a browser starting) can stall the process at one of the wait's
wake-ups and be gone when the calibration runs: the fixed allowance covers that stall.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: How much CPU time one calibration computes for (it busy-waits that long).
CALIBRATION_CPU_S = 0.02

#: What a wait may take beyond its stretched bound: a burst of load that stalled the process
#: during the wait and was over by the calibration. Far below the longer timers a wrong wait
#: would end on (a link's 5 s connect timeout, a test's 10 s hang guard).
SCHEDULING_ALLOWANCE_S = 2.0


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
        slower the process runs now, plus `SCHEDULING_ALLOWANCE_S` for a burst of load."""
        return seconds * cpu_share_slowdown() + SCHEDULING_ALLOWANCE_S
