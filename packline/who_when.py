"""When something was done and by whom, in the words of a message about it: a fault injected
or cleared on a simulated line, as the line's terminal, its refusals and the run's records of
it say it (`packline sim fault ... by ana at 14:58:03`), and since when a run waits for a
clear. The simulated line and the engine both word these, and the simulated line may not
import the engine (`lint-imports`), so the words are here, for both."""

from __future__ import annotations

import time


def clock_time(wall: float) -> str:
    """Unix time `wall` as a message gives it: `14:58:03`, local time."""
    return time.strftime("%H:%M:%S", time.localtime(wall))


def by_whom(by: str | None) -> str:
    """Who did it, as a message adds it: ` by ana`; nothing where it was not told (None)."""
    return "" if by is None else f" by {by}"
