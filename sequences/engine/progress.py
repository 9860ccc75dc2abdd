"""Showing a run as it goes: a rich live view, plain lines, JSON lines, or nothing.

All are `Observer`s of the engine's events. The live view shows a row per wafer (status,
current step and tool, elapsed run-clock time) and, for the lot, the elapsed and an estimate
of the remaining time on the run clock (simulated time in a dry run).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text

from packline.rendering import DataTable

from .events import Event

_END = {"completed", "held", "terminated"}
_STYLE = {"completed": "green", "held": "bold red", "terminated": "yellow", "running": "cyan"}


def clock_text(seconds: float | None) -> str:
    """H:MM:SS of a run-clock duration or time; '-' for none."""
    if seconds is None:
        return "-"
    seconds = max(0, round(seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class JsonLines:
    """One JSON object per event on `stream` (scripts and CI)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(event.to_json() + "\n")
        self.stream.flush()


class PlainLog:
    """A line per wafer outcome and per run-level event (a terminal that is not interactive)."""

    KINDS = frozenset(
        {
            "run-started",
            "wafer-finished",
            "paused",
            "resumed",
            "terminating",
            "aborting",
            "tool-out-of-service",
            "tool-replaced",
            "claim-check",
            "run-finished",
        }
    )

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: Event) -> None:
        if event.kind not in self.KINDS:
            return
        who = event.wafer or event.tool or ""
        text = " ".join(x for x in (event.kind, who, event.status or "", event.message) if x)
        self.console.print(f"[{clock_text(event.t)}] {text}", markup=False, highlight=False)


@dataclass
class _WaferRow:
    status: str = "pending"
    step: str = ""
    tool: str = ""
    started_t: float | None = None
    stopped_t: float | None = None
    steps_done: int = 0


class LiveView:
    """A rich live table of the lot; use as a context manager around the run."""

    def __init__(self, console: Console, title: str = "") -> None:
        self.console = console
        self.title = title
        self.rows: dict[str, _WaferRow] = {}
        self.now = 0.0
        self.started_t = 0.0
        self._live = Live(
            console=console, refresh_per_second=4, transient=False, get_renderable=self.render
        )

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._live.__exit__(*exc_info)

    def __call__(self, event: Event) -> None:
        self.now = event.t
        if event.kind == "run-started":
            self.started_t = event.t
            for wafer_id in event.data.get("wafers", []):
                self.rows.setdefault(wafer_id, _WaferRow())
            return
        row = self.rows.get(event.wafer or "")
        if row is None:
            return
        if event.kind == "wafer-started":
            row.status, row.started_t = "running", row.started_t or event.t
        elif event.kind == "step-started":
            row.step, row.tool = event.step or "", event.tool or ""
        elif event.kind == "step-finished" and event.status in ("completed", "skipped"):
            row.steps_done += 1
        elif event.kind == "wafer-finished":
            row.status, row.stopped_t, row.step = event.status or "", event.t, event.message

    def remaining_s(self) -> float | None:
        """Estimate from the wafers that finished: their mean pace over the lot."""
        finished = sum(1 for r in self.rows.values() if r.status in _END)
        if not finished or finished == len(self.rows):
            return None if not finished else 0.0
        elapsed = self.now - self.started_t
        return elapsed * (len(self.rows) - finished) / finished

    def render(self) -> Group:
        table = DataTable(
            "wafer",
            "status",
            "progress",
            "step",
            "tool",
            "elapsed",
            title=self.title,
            expand=False,
        )
        most = max((r.steps_done for r in self.rows.values()), default=0) or 1
        for wafer_id, row in self.rows.items():
            end = row.stopped_t if row.stopped_t is not None else self.now
            elapsed = "" if row.started_t is None else clock_text(end - row.started_t)
            done = most if row.status == "completed" else row.steps_done
            table.add_row(
                wafer_id,
                Text(row.status, style=_STYLE.get(row.status, "")),
                ProgressBar(total=most, completed=done, width=20),
                row.step,
                row.tool,
                elapsed,
            )
        remaining = self.remaining_s()
        footer = f"run clock {clock_text(self.now - self.started_t)}"
        if remaining is not None:
            footer += f"   remaining about {clock_text(remaining)}"
        return Group(table, Text(footer))
