"""A setpoint a simulated tool's actuator follows at a fixed rate: a hot plate, a bath, a spindle.

The quantity moves in a straight line from where it was when last set (`start` at `since_s`)
towards `target` at `rate_per_s`, and holds once there. Setting a new target starts the next
line from the value reached by then, so a target changed halfway ramps on without a jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Ramp:
    """A quantity heading for `target` at `rate_per_s` from `start`, set at `since_s`."""

    rate_per_s: float
    start: float
    since_s: float
    target: float

    @classmethod
    def holding(cls, value: float, rate_per_s: float, now: float) -> Ramp:
        """A quantity that sits at `value` from `now`."""
        return cls(rate_per_s, value, now, value)

    def at(self, now: float) -> float:
        """The value at `now`."""
        change = self.rate_per_s * max(now - self.since_s, 0.0)
        gap = self.target - self.start
        if abs(gap) <= change:
            return self.target
        return self.start + math.copysign(change, gap)

    def time_to_target_s(self, now: float) -> float:
        """How long from `now` until the quantity reaches its target."""
        return abs(self.target - self.at(now)) / self.rate_per_s

    def head_for(self, target: float, now: float) -> None:
        """Head for `target` from the value reached at `now`."""
        self.start, self.since_s, self.target = self.at(now), now, target
