"""Process waits: how every driver waits for a tool to finish (`Equipment.wait_until`).

A wait polls the tool on the driver's clock up to a deadline and commands the safe state when
the deadline passes without a result, so an overrunning process is never left running. A tool
that can hold its reply until something changes (a host-link tool's `WAIT?`, decision 0028; a
SCPI tool's `*OPC?`, decision 0041; a Modbus PLC's held status read, decision 0078) makes each
poll a bounded wait on the tool instead (`poll_hold_s`), paced (`HeldPace`) so that a tool that
answers early without a change is read no more often than a poll would read it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import ClassVar, Generic, Protocol, TypeVar

from packline.clock import Clock

from ..errors import ToolTimeout

T = TypeVar("T")

#: The longest a poll of a wait held by the tool (`Equipment.wait_until(held_by_tool=True)`)
#: lets the tool hold its reply, s of process time: the driver hears from a tool whose state
#: does not change (and records its progress) at least this often (docs/decisions/0101).
HOLD_S = 120.0
#: The last stretch of a wait held by a tool that names no bound of its own (`wait_until`'s
#: `hold_s=None`: a SCPI tool's `*OPC?`, docs/decisions/0041), s of process time: the tool
#: holds its reply until this long before the deadline, and it is polled every interval from
#: there. Not `HOLD_S`, which would leave a job allowed less than `HOLD_S` unheld, polled every
#: interval throughout (docs/decisions/0101).
UNBOUNDED_TAIL_S = 30.0


class HeldPace:
    """When the next poll of a wait held by the tool may begin. A poll whose read the tool
    answered sooner than a poll interval after it was asked, without a change that the
    answer shows (a tool that does not hold, or one whose count of changes moves on every
    scan while the values it counts stay), is followed by the next poll a poll interval after
    that read was asked: such a tool is read at most once an interval, as polls read it. An
    answer that shows a change, or one that came a poll interval or more after it was asked,
    is followed by the next poll at once, so the change after it is answered as it happens."""

    def __init__(self, clock: Clock, interval_s: float) -> None:
        self._clock = clock
        self._interval_s = interval_s
        #: The clock's time before which the next poll does not begin.
        self.next_poll_s = 0.0

    def answered(self, asked_s: float, *, changed: bool) -> None:
        """The tool answered the read that was asked at `asked_s` (the clock's time);
        `changed`: the answer shows a change of what the wait watches since the read before
        (the wait's first read always does)."""
        early = self._clock.now() - asked_s < self._interval_s
        self.next_poll_s = asked_s + self._interval_s if early and not changed else 0.0


#: How long the poll running now may let the tool hold its reply, and its wait's pace, in
#: such a wait.
_HELD_POLL: ContextVar[tuple[float, HeldPace] | None] = ContextVar(
    "packline_held_poll", default=None
)


def poll_hold_s() -> float | None:
    """How long the tool may hold its reply to the present poll, s of process time: set
    inside a poll of `Equipment.wait_until(held_by_tool=True)` while the wait has at least
    that long left, else None (the poll reads the tool at once)."""
    held = _HELD_POLL.get()
    return None if held is None else held[0]


def held_pace() -> HeldPace | None:
    """The pace of the held wait whose poll runs now, which the poll tells how its read was
    answered (`HeldPace.answered`); set when `poll_hold_s` is, else None."""
    held = _HELD_POLL.get()
    return None if held is None else held[1]


def _poll_hold_s(most_s: float | None, left_s: float) -> float:
    """How long the next poll of a held wait may let the tool hold its reply, with `left_s`
    of the wait left: `most_s`, or what is left if less (the last hold ends at the deadline,
    docs/decisions/0101), or with no bound of the tool's own (None) until `UNBOUNDED_TAIL_S`
    before the deadline."""
    if most_s is None:
        return left_s - UNBOUNDED_TAIL_S
    return min(most_s, left_s)


class _Waiting(Protocol):
    """What a wait reads of the driver it runs in (an `Equipment`)."""

    name: str
    poll_interval_s: float

    @property
    def address(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    async def abort(self) -> None: ...


class _Confirming(_Waiting, Protocol):
    """A driver whose safe state a wait confirms: its bound on that wait, too."""

    safe_state_timeout_s: ClassVar[float]


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
        of many minutes that need not be watched every second) until it returns a result. The
        last poll is at the deadline: an interval that would pass it is cut to it, so an
        overrun is stopped when its time is up, never up to an interval later, and a result
        first read after the deadline is a timeout (docs/decisions/0086).

        `held_by_tool`: `poll` reads the tool with a wait the tool holds until something
        changes (a bounded blocking wait, docs/decisions/0028), for at most `poll_hold_s()`
        (`hold_s`, or `timeout_s` if less), and is called again as soon as it returns; a hold
        that would pass the deadline is cut to it (docs/decisions/0101), so the tool answers
        an overrun at the deadline at the latest, where a poll would read it, and once less
        than a poll interval is left (or if `hold_s` is shorter than it) the wait polls every
        interval up to the deadline. A poll that reports an early answer without a change
        (`held_pace`) is followed by the next one no sooner than its `HeldPace` says (an
        interval after it was asked, the wait's `interval_s` if given: such a tool is read as
        the wait would poll it) or at the deadline if that is sooner, and the next poll's hold
        is chosen after that pause, so no reply is due after the deadline.
        `hold_s=None` is a tool's wait that names no bound of its own (`*OPC?`,
        docs/decisions/0041): each poll may let it hold up to `UNBOUNDED_TAIL_S` before the
        deadline, and the last `UNBOUNDED_TAIL_S` are polled every interval.

        `poll` reads the tool (recording readings), raises on a fault (e.g. `alarm_error`) and
        returns the result when the process is done, None while it is not. Once `timeout_s` of
        process time have passed without a result, the wait commands the safe state (`abort()`)
        and then raises `ToolTimeout` saying `<still()> after <timeout_s> s; aborted`; with
        `abort_on_timeout=False` (a caller that commands the safe state itself, or the safe-state
        command's own wait) it raises `<still()> after <timeout_s> s` without aborting.
        """
        deadline = self.clock.now() + timeout_s
        most_s = None if hold_s is None else min(hold_s, timeout_s)
        pace = HeldPace(self.clock, interval_s or self.poll_interval_s)
        while True:
            poll_hold = _poll_hold_s(most_s, deadline - self.clock.now())
            held = held_by_tool and poll_hold >= self.poll_interval_s
            token = _HELD_POLL.set((poll_hold, pace) if held else None)
            try:
                result = await poll()
            finally:
                _HELD_POLL.reset(token)
            if result is not None:
                return result
            if self.clock.now() >= deadline:
                detail = f"{still()} after {timeout_s:g} s"
                if abort_on_timeout:
                    await self.abort()  # an overrunning process is never left running
                    detail += "; aborted"
                raise ToolTimeout(self.name, self.address, action, detail)
            # the last poll is at the deadline, never an interval (or a paced one) past it
            left_s = deadline - self.clock.now()
            if not held:
                await self.clock.sleep(min(interval_s or self.poll_interval_s, left_s))
            elif (early_s := pace.next_poll_s - self.clock.now()) > 0:
                await self.clock.sleep(min(early_s, left_s))

    async def confirm_safe_state(
        self: _Confirming, read: Callable[[], Awaitable[T]], unsafe: Callable[[T], str | None]
    ) -> T:
        """Once the safe state is commanded: `read` the tool's status every poll interval
        until `unsafe` finds nothing in it that is not safe (that status returned), within
        `safe_state_timeout_s` of process time; past it `ToolTimeout` says what still shows
        (`abort: safe state not confirmed: ...`), without aborting again (this is the abort)."""
        watch = SafeStateWatch(read, unsafe)
        return await ProcessWaits.wait_until(
            self,
            "abort",
            watch.poll,
            self.safe_state_timeout_s,
            watch.still,
            abort_on_timeout=False,
        )


class SafeStateWatch(Generic[T]):
    """The polls of the wait that confirms a tool's safe state once it was commanded (a
    driver's `_command_safe_state`): each reads the tool's status (`read`) and returns it once
    `unsafe` finds nothing in it that is not safe (`unsafe` says what it finds: `still
    printing`, `RF forward 300 W`), None until then; `still` says what the last read showed,
    for the timeout (`abort: safe state not confirmed: ...`)."""

    def __init__(self, read: Callable[[], Awaitable[T]], unsafe: Callable[[T], str | None]):
        self._read = read
        self._unsafe = unsafe
        self._shown = "no status read"

    async def poll(self) -> T | None:
        status = await self._read()
        found = self._unsafe(status)
        if found is None:
            return status
        self._shown = found
        return None

    def still(self) -> str:
        return f"safe state not confirmed: {self._shown}"
