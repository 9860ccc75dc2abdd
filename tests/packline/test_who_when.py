"""When and by whom, in a message's words (`packline/who_when.py`): as the simulated line's
terminal and refusals and the run's records of a fault give them."""

from __future__ import annotations

import time

from packline.who_when import by_whom, clock_time


def test_a_wall_time_reads_as_the_local_clock_to_the_second() -> None:
    wall = time.mktime((2026, 12, 5, 14, 58, 3, 0, 0, -1)) + 0.9  # not rounded up
    assert clock_time(wall) == "14:58:03"


def test_who_is_added_where_the_line_was_told_and_nothing_where_not() -> None:
    assert by_whom("ana") == " by ana"
    assert by_whom(None) == ""
