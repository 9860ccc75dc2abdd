"""A timed test's bound stretches by how much slower the process runs, never below its own, and
allows for a burst of load during the wait."""

from __future__ import annotations

import itertools

import pytest

from packline.testing import timing
from packline.testing.timing import Stopwatch, cpu_share_slowdown


def test_the_slowdown_is_wall_time_over_cpu_time():
    # A process that gets a third of a core: each CPU millisecond is three wall milliseconds.
    ticks = itertools.count()
    now_cpu_s: list[float] = [0.0]

    def cpu_clock() -> float:
        now_cpu_s[0] = next(ticks) * 0.001
        return now_cpu_s[0]

    assert cpu_share_slowdown(lambda: 3 * now_cpu_s[0], cpu_clock) == pytest.approx(3, rel=0.1)


def test_an_idle_process_is_never_faster_than_its_own_bound():
    assert cpu_share_slowdown(lambda: 0.0) == 1.0


def test_a_bound_is_stretched_by_the_slowdown_when_it_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
):
    watch = Stopwatch()
    monkeypatch.setattr(timing, "cpu_share_slowdown", lambda: 4.0)
    assert watch.bound_s(0.5) == 4.0  # 0.5 s four times slower, plus the 2 s allowance
