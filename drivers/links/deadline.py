"""The deadline of a link's exchanges, kept by one timer per link instead of one per exchange.

`asyncio.timeout` schedules a timer as an exchange begins and cancels it as the exchange ends:
that was half of what `SerialLink.query` added to the library call's CPU (6 of 12 µs, over an
in-memory transport; docs/links.md, "What a link adds").
An exchange nearly always ends long before its deadline, so `ExchangeDeadline` keeps one timer
armed no later than the deadline of the exchange running: beginning an exchange only records
its deadline, and the timer, when it fires, ends the exchange whose time is up or is armed
again for the deadline of the one running then (none running: it lapses). What the exchange
sees is what `asyncio.timeout` gives it: its task is cancelled at the deadline, and the
cancellation leaves the block as `TimeoutError`, unless the task was also cancelled by someone
else, whose cancellation then goes on; the task's count of pending cancellations is what it
was before the block either way.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class ExchangeDeadline:
    """The deadline of the one exchange a link runs at a time: `with deadline.within(s):`."""

    def __init__(self) -> None:
        #: The event loop of the block running, or of the last one: the timer's loop.
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The timeout of the block about to be entered (`within`).
        self._timeout_s: float | None = None
        #: The task running the block, while it runs.
        self._task: asyncio.Task[object] | None = None
        #: The loop time the block running must end by; None: no deadline (yet).
        self._when: float | None = None
        #: The one timer, armed no later than `_when`; None when none is armed.
        self._timer: asyncio.TimerHandle | None = None
        #: How many cancellations the task had pending as the block began.
        self._cancelling = 0
        #: The deadline passed and the task was cancelled for it.
        self._expired = False

    def within(self, timeout_s: float | None) -> ExchangeDeadline:
        """The block about to be entered ends within `timeout_s` (None: no deadline until
        `reschedule` sets one)."""
        self._timeout_s = timeout_s
        return self

    def reschedule(self, when: float) -> None:
        """Move the running block's deadline to loop time `when`."""
        self._when = when
        self._arm()

    def __enter__(self) -> ExchangeDeadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("an exchange's deadline runs in a task")
        loop = task.get_loop()
        if loop is not self._loop:
            # A block or timer of a loop that has ended (tests make a loop each) is forgotten;
            # such a timer never acts here (`_arm`).
            self._loop, self._task, self._timer = loop, None, None
        if self._task is not None:
            raise RuntimeError("an exchange's deadline runs one block at a time")
        self._task = task
        self._cancelling = task.cancelling()
        self._expired = False
        if self._timeout_s is None:
            self._when = None
        else:
            self._when = when = loop.time() + self._timeout_s
            if self._timer is None or self._timer.when() > when:
                self._arm()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        self._when = None
        if self._expired and task is not None:
            self._expired = False
            # As `asyncio.timeout`: the deadline's cancellation is taken back; only when no
            # other is pending does the block's CancelledError become the timeout.
            if (
                task.uncancel() <= self._cancelling
                and exc_type is not None
                and issubclass(exc_type, asyncio.CancelledError)
            ):
                raise TimeoutError from exc

    def _arm(self) -> None:
        """Have the timer fire no later than the deadline."""
        when, loop, timer = self._when, self._loop, self._timer
        if when is None or loop is None or (timer is not None and timer.when() <= when):
            return
        if timer is not None:
            timer.cancel()

        def fire() -> None:
            if self._timer is handle:  # not a timer this deadline dropped with its loop
                self._timer = None
                self._expire_by(handle.when())

        handle = self._timer = loop.call_at(when, fire)

    def _expire_by(self, armed_for: float) -> None:
        """The timer armed for loop time `armed_for` fired: end the block running if its
        deadline is no later, else arm the timer again for that deadline (none: it lapses)."""
        if self._task is None or self._when is None:
            return
        if self._when > armed_for:
            self._arm()
            return
        self._when = None
        self._expired = True
        self._task.cancel()
