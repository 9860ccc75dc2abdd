"""The run clock a run's records keep, from the clock its engine and drivers wait on.

A run waits on the line's time (`launch.line_clock`); its records keep the wall clock on a
station and simulated time in a dry run, which every reader multiplies by the recorded
`time_scale` (`recorded_station.process_time`). Apart from `recorded_station` so that the
commands that only read records do not import the clocks.
"""

from __future__ import annotations

from packline.clock import Clock


def run_clock_s(clock: Clock, seconds: float) -> float:
    """`seconds` of `clock`, the time a run's engine and drivers wait on, as seconds of the run
    clock its records keep, divided by the clock's `time_scale`: the same on the wall clock of
    real tools and a dry run's virtual clock; on a line served S times as fast as the wall
    clock (`ScaledClock`), an S-th of them, the wall clock's, as a run's records have always
    kept it there, so that `recorded_station.process_time` reads them back as the line's
    time."""
    return seconds / clock.time_scale
