"""Spans of a run's clock read from its records: when the run stood paused, and what of some
spans lies outside others. `packline tools` counts a tool held through them as standby
(`records.tooltime`); a lot's schedule takes them out of the line's time (`schedule.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: A span of run clock: its start and its stop.
Span = tuple[float, float]

#: The events that end a pause (`paused_spans`): a resume, a terminate, an abort, the run's
#: end, a later session's start (the run crashed while paused).
PAUSE_ENDS = ("resumed", "terminating", "aborting", "run-finished", "run-started")


def paused_spans(events: Sequence[Mapping[str, Any]], stop_t: float) -> list[Span]:
    """When the run stood paused (an operator's `pause`, the `pause` failure policy): from
    each `paused` event of the run's `events` to the event that ended the pause (a resume,
    a terminate, an abort, the run's end or, after a crash, its next session's start), else
    to `stop_t`."""
    spans: list[Span] = []
    since: float | None = None
    for event in events:
        if event["kind"] == "paused" and since is None:
            since = float(event["t"])
        elif event["kind"] in PAUSE_ENDS and since is not None:
            spans.append((since, float(event["t"])))
            since = None
    return spans if since is None else [*spans, (since, stop_t)]


def spans_without(spans: Sequence[Span], cuts: Sequence[Span]) -> list[Span]:
    """What of `spans` lies in none of `cuts`."""
    left = list(spans)
    for cut_start, cut_stop in cuts:
        pieces = ((a, min(b, cut_start)) for a, b in left)
        after = ((max(a, cut_stop), b) for a, b in left)
        left = [(a, b) for a, b in (*pieces, *after) if a < b]
    return sorted(left)
