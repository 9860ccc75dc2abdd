"""Process waits: how every driver waits for a tool to finish (`Equipment.wait_until`).

A wait polls the tool on the driver's clock up to a deadline and commands the safe state when
the deadline passes without a result, so an overrunning process is never left running. A tool
that can hold its reply until something changes (a host-link tool's `WAIT?`, decision 0028; a
SCPI tool's `*OPC?`, decision 0041) makes each poll a bounded wait on the tool instead
(`poll_hold_s`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol, TypeVar

from packline.clock import Clock

from ..errors import ToolTimeout

T = TypeVar("T")

#: The longest a poll of a wait held by the tool (`Equipment.wait_until(held_by_tool=True)`)
#: lets the tool hold its reply, s of process time: the driver hears from a tool whose state
#: does not change (and records its progress) at least this often (docs/decisions/0052).
HOLD_S = 30.0

#: How long the poll running now may let the tool hold its reply, in such a wait.
_POLL_HOLD_S: ContextVar[float | None] = ContextVar("packline_poll_hold_s", default=None)


def poll_hold_s() -> float | None:
    """How long the tool may hold its reply to the present poll, s of process time: set
    inside a poll of `Equipment.wait_until(held_by_tool=True)` while the wait has at least
    that long left, else None (the poll reads the tool at once)."""
    return _POLL_HOLD_S.get()


def _poll_hold_s(most_s: float | None, left_s: float) -> float:
    """How long the next poll of a held wait may let the tool hold its reply, with `left_s`
    of the wait left: `most_s` while that much is left (else 0: poll), or with no bound of
    the tool's own (None) until `HOLD_S` before the deadline."""
    if most_s is None:
        return left_s - HOLD_S
    return most_s if most_s <= left_s else 0.0


class _Waiting(Protocol):
    """What a wait reads of the driver it runs in (an `Equipment`)."""

    name: str
    poll_interval_s: float

    @property
    def address(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    async def abort(self) -> None: ...


class ProcessWaits:
    """The process waits of `Equipment` (a base of it; a driver calls `self.wait_until`)."""

    async def wait_until(
        self: _Waiting,
        action: str,
        poll: Callable[[], Awaitable[T | None]],
        timeout_s: float,
        still: Callable[[], str],
        *,
        abort_on_timeout: bool = True,
        interval_s: float | None = None,
        held_by_tool: bool = False,
        hold_s: float | None = HOLD_S,
    ) -> T:
        """Call `poll` every `poll_interval_s` of the clock (or every `interval_s`, for a wait
        of many minutes that need not be watched every second) until it returns a result.

        `held_by_tool`: `poll` reads the tool with a wait the tool holds until something
        changes (a bounded blocking wait, docs/decisions/0028), for at most `poll_hold_s()`
        (`hold_s`, or `timeout_s` if less), and is called again as soon as it returns; in the
        last `poll_hold_s` before the deadline (or if it is shorter than the poll interval)
        it polls every interval, so an overrun is seen as soon as with polls. `hold_s=None`
        is a tool's wait that names no bound of its own (`*OPC?`, docs/decisions/0041): each
        poll may let it hold up to `HOLD_S` before the deadline, and the last `HOLD_S` are
        polled every interval.

        `poll` reads the tool (recording readings), raises on a fault (e.g. `alarm_error`) and
        returns the result when the process is done, None while it is not. Once `timeout_s` of
        process time have passed without a result, the wait commands the safe state (`abort()`)
        and then raises `ToolTimeout` saying `<still()> after <timeout_s> s; aborted`; with
        `abort_on_timeout=False` (a caller that commands the safe state itself, or the safe-state
        command's own wait) it raises `<still()> after <timeout_s> s` without aborting.
        """
        deadline = self.clock.now() + timeout_s
        most_s = None if hold_s is None else min(hold_s, timeout_s)
        while True:
            poll_hold = _poll_hold_s(most_s, deadline - self.clock.now())
            held = held_by_tool and poll_hold >= self.poll_interval_s
            token = _POLL_HOLD_S.set(poll_hold if held else None)
            try:
                result = await poll()
            finally:
                _POLL_HOLD_S.reset(token)
            if result is not None:
                return result
            if self.clock.now() >= deadline:
                detail = f"{still()} after {timeout_s:g} s"
                if abort_on_timeout:
                    await self.abort()  # an overrunning process is never left running
                    detail += "; aborted"
                raise ToolTimeout(self.name, self.address, action, detail)
            if not held:
                await self.clock.sleep(interval_s or self.poll_interval_s)
