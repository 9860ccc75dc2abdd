"""Showing a run as it goes: a rich live view, plain lines, JSON lines, or nothing.

All are `Observer`s of the engine's events. The live view is `live_view.LiveView` (a row per
wafer, or per tool when the lot does not fit the terminal, the run's clock and state, and the
time left by the line's schedule); here are the plain lines for a terminal that is not
interactive, JSON lines for scripts, and the run-clock text all of them and the summaries use.
"""

from __future__ import annotations

import re
import sys
import time
from typing import IO, TYPE_CHECKING

from packline.who_when import clock_time

from .recorded_station import process_time

if TYPE_CHECKING:  # a reader of the records (`packline runs`) needs neither
    from rich.console import Console

    from .events import Event


def clock_text(seconds: float | None) -> str:
    """H:MM:SS of a run-clock duration or time; '-' for none."""
    if seconds is None:
        return "-"
    seconds = max(0, round(seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def run_clock_text(seconds: float | None, *, simulated: bool) -> str:
    """A duration by a run's clock, `clock_text`, saying which clock that is: simulated time
    in a dry run (hours of process in a second), the wall clock on a station (a line served
    faster than real time included: `show` gives its process time)."""
    return f"{clock_text(seconds)} {'simulated' if simulated else 'wall'}"


def wall_text(unix: float | None, *, day: bool = False) -> str:
    """The local date and minute of a Unix time (`2026-11-30 14:32`), or with `day` its date
    alone; '-' for none."""
    if unix is None:
        return "-"
    return time.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M", time.localtime(unix))


class JsonLines:
    """One JSON object per event on `stream` (scripts and CI)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(event.to_json() + "\n")
        self.stream.flush()


class PlainLog:
    """A line per wafer outcome and per run-level event (a terminal that is not interactive):
    each event one line however long, never wrapped, so `grep` finds the whole of it, at its
    time on the line's process clock, as `packline show` lists it (`time_scale`)."""

    KINDS = frozenset(
        {
            "run-started",
            "resume-plan",  # events.RESUME_PLAN, likewise
            "wafer-finished",
            "paused",
            "resumed",
            "terminating",
            "aborting",
            "batch-formed",
            "tool-recovered",
            "tool-out-of-service",
            "safe-state-unconfirmed",  # events.SAFE_STATE_UNCONFIRMED, likewise
            "abort-not-confirmed",  # events.ABORT_NOT_CONFIRMED, likewise
            "tool-cleared",
            "tool-replaced",
            "control-ignored",
            "disposition",
            "waiting-for-clear",
            "claim-check",
            "run-finished",
            "fault-injected",  # events.FAULT_INJECTED: `packline runs` imports no dataclasses
            "fault-cleared",  # events.FAULT_CLEARED, likewise
            "nothing-to-pause",  # events.NOTHING_TO_PAUSE, likewise
            "pausing",  # events.PAUSING, likewise
            "confirmation-unanswered",  # confirmations.CONFIRMATION_UNANSWERED
            "session-cut-off",  # events.SESSION_CUT_OFF, told as a resume takes the run over
        }
    )

    def __init__(self, console: Console) -> None:
        self.console = console
        #: How many times faster than process time the run's clock passes on its line, set
        #: once its engine is open (`packline/cli/running.py`): 1 in a dry run and on real
        #: tools; on a line served at `time_scale` (`packline sim serve --time-scale 60`)
        #: each line reads the run clock's wall time times it, as `show` lists the event,
        #: where a piped run had printed `[0:00:25] session-cut-off` of the event `show`
        #: listed at `[0:25:03]`.
        self.time_scale = 1.0
        #: What a command the run's events advise needs to find its records (`db_option` of
        #: the run's database, set with `time_scale`: `for_database`).
        self.db_option = ""

    def __call__(self, event: Event) -> None:
        if event.kind not in self.KINDS:
            return
        line = told_line(event, self.time_scale, self.db_option)
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def told_line(event: Event, time_scale: float, db_option: str = "") -> str:
    """`event` as a run tells it as it happens (piped, or above its live view), on the
    process clock of its line served at `time_scale` (`process_time`), its commands for the
    run's database (`db_option`: `for_database`), as `packline show` lists it once recorded
    (`event_line`)."""
    return event_line(
        process_time(event.t, time_scale),
        event.kind,
        event.wafer,
        event.tool,
        for_database(event.message, db_option),
        event.status,
    )


#: A packline command a record's message advises, in backticks.
_ADVISED = re.compile(r"`(packline [^`]*)`")


def for_database(text: str, db_option: str) -> str:
    """`text`, a record's message, with each packline command it advises (in backticks) given
    `db_option` (`records.db_option` of the database the record is read from or written to:
    ` --db PATH`, or nothing for the default database), as it is printed: a record names no
    path, which moves with its database, and a trial's clear pasted from an event line went to
    the default database. A command that names its database already is left as it is."""
    if not db_option:
        return text
    return _ADVISED.sub(
        lambda command: command[0] if " --db " in command[1] else f"`{command[1]}{db_option}`",
        text,
    )


def event_line(
    t: float,
    kind: str,
    wafer: str | None,
    tool: str | None,
    message: str,
    status: str | None = None,
    *,
    wall: float | None = None,
) -> str:
    """An event as a line, as a run prints it and `packline show` lists it: its time `t` (on
    the line's process clock, as both give it: `told_line`), its kind, the wafer or else the
    tool it is about, its status and, after a colon, its message (`claim-check passed: 3
    conditions on 2 wafers`). A tool's event whose message begins with the tool's name
    (`plasma_cleaner: alarmed`, as the keeper's and every earlier release's do) names the
    tool once. `wall`, given for an event recorded while no session drove the run (`show`:
    its clock stands still then, so such events all read the run's end), adds the time of
    day it was recorded at beside `t`, as a fault's message says it: `[0:42:42 at 21:28:51]`."""
    who = wafer or tool
    if wafer is None and tool and message.startswith((f"{tool}:", f"{tool} ")):
        who = None
    said = f"{status}: {message}" if status and message else status or message
    text = " ".join(x for x in (kind, who, said) if x)
    return f"[{moment_text(t, wall)}] {text}"


def moment_text(t: float, wall: float | None = None) -> str:
    """When something was recorded: its time `t` on the run clock (`clock_text`), and, for a
    record made while no session drove the run (`wall` given: the run clock stands still at
    the run's end then), the time of day it was made: `0:42:42 at 21:28:51`."""
    return clock_text(t) if wall is None else f"{clock_text(t)} at {clock_time(wall)}"
