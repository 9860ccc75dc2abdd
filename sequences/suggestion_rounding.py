"""Suggested values a refusal prints, rounded so that they read back passing.

A refusal that offers a value (the most a recipe may give, the least it must) prints it with
fewer figures than it was worked out to; the figures printed are what a user types back. So a
least is rounded up and a most down, and where the test it is suggested for still refuses the
rounded value (a value worked out in closed form lands on a step, the floats of the two sums
falling either side), a step further. Every method's recipe checks use these, and list the
choices a refusal offers as one phrase (`either`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence


def rounded_up(value: float, decimals: int) -> float:
    """`value` rounded up to `decimals`: what a suggestion printed with them reads back as,
    never below `value`, so the suggestion passes the test it was worked out for."""
    scale = 10.0**decimals
    steps = math.ceil(value * scale)
    return steps / scale if steps / scale >= value else (steps + 1) / scale


def rounded_down(value: float, decimals: int) -> float:
    """`value` rounded down to `decimals`: what a suggested most printed with them reads back
    as, never above `value`, so the suggestion passes the test it was worked out for (the
    mirror of `rounded_up`)."""
    scale = 10.0**decimals
    steps = math.floor(value * scale)
    return steps / scale if steps / scale <= value else (steps - 1) / scale


def most_that_passes(value: float, decimals: int, passes: Callable[[float], bool]) -> float:
    """A suggested most worked out as `value`, rounded down to `decimals` (`rounded_down`), or
    the step below where `passes`, the test it is suggested for, still refuses it: a most
    worked out in closed form that lands on a step meets its test with equality, and the
    floats of the two sums fall either side (sites 168.0822509939086 um apart leave a ball
    100.20000000000002 um of room between twice its stray, yet a 100.2 um ball reaches half
    the pitch), so the suggestion passes the test it was worked out for."""
    most = rounded_down(value, decimals)
    return most if passes(most) else rounded_down(math.nextafter(most, -math.inf), decimals)


def least_that_passes(value: float, decimals: int, passes: Callable[[float], bool]) -> float:
    """A suggested least worked out as `value`, rounded up to `decimals` (`rounded_up`), or
    the step above where `passes`, the test it is suggested for, still refuses it (the mirror
    of `most_that_passes`)."""
    least = rounded_up(value, decimals)
    return least if passes(least) else rounded_up(math.nextafter(least, math.inf), decimals)


def either(choices: Sequence[object]) -> str:
    """`choices` as a refusal offers them, the last after `or`: `5 or 10`, `2, 3, 4 or 6`."""
    words = [str(choice) for choice in choices]
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
