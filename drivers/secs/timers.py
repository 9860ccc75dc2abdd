"""The HSMS timers (SEMI E37 section 10) and the session's one-shot wall-clock timer.

The timers run on the wall clock (the event loop's monotonic time), never on a simulated
process clock: they guard the wire (decision 0005).

- T3 reply timeout: a request without its reply fails with `ToolTimeout`; a late reply is
  dropped. The connection stays up (E37: T3 ends the transaction, not the link).
- T5 connect separation: the least time between two connects of the active side.
- T6 control transaction timeout: select, deselect and linktest without a response fail with
  `ToolTimeout`, and the connection is dropped (E37: a communication failure).
- T7 not-selected timeout: a connection not selected within T7 is dropped.
- T8 network inter-character timeout: a message whose next bytes do not come within T8 is
  a communication failure; the connection is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, fields

from ..links.base import MAX_TIMEOUT_S, is_timeout_s


@dataclass(frozen=True)
class HsmsTimers:
    """The HSMS timers in seconds (defaults: E37's typical values) and the linktest period.

    `linktest_s` is the period of the link test while selected; None sends none.
    """

    t3_s: float = 45.0
    t5_s: float = 10.0
    t6_s: float = 5.0
    t7_s: float = 10.0
    t8_s: float = 5.0
    linktest_s: float | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "linktest_s":
                continue
            if not is_timeout_s(value):
                raise ValueError(
                    f"HsmsTimers.{field.name} must be a positive number of seconds "
                    f"(at most {MAX_TIMEOUT_S:g}), got {value!r}"
                )


class WallTimer:
    """One of the session's one-shot timers (T7, T8) on the event loop's clock: `start`
    (re)arms it, `cancel` disarms it, and on expiry it calls `expired` once."""

    def __init__(self, expired: Callable[[], None]) -> None:
        self._expired = expired
        self._handle: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        return self._handle is not None

    def start(self, delay_s: float) -> None:
        self.cancel()
        self._handle = asyncio.get_running_loop().call_later(delay_s, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        self._expired()


#: The timers of a link that is given none.
DEFAULT_TIMERS = HsmsTimers()
