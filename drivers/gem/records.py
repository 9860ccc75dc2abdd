"""What the GEM host hands its users: ids, collection events, alarm reports, constants' rows,
trace reports.

These are the host's records of what the equipment said (`host/` reads them off the wire,
`pushed.py` off what the equipment pushes); the role drivers (`equipment.py`) read them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..secs.items import Item

#: An id of a variable, constant, event, report or alarm: a number, or text on tools that
#: name them (`A` items).
GemId = int | str


@dataclass(frozen=True)
class CollectionEvent:
    """One S6F11 as the host received it: its CEID and each report's values by VID.

    `values` pairs the values of every report with the VIDs the host defined for it (reports
    the host did not define keep their values under `reports` only).
    """

    dataid: int
    ceid: GemId
    reports: dict[GemId, tuple[Item, ...]]
    values: dict[GemId, Item] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmReport:
    """One S5F1: the alarm, whether it was set or cleared, its category and text."""

    alid: GemId
    set: bool
    category: int
    text: str


@dataclass(frozen=True)
class EquipmentConstant:
    """One row of S2F30: an equipment constant's name, range, default and unit."""

    ecid: GemId
    name: str
    minimum: Item
    maximum: Item
    default: Item
    unit: str


@dataclass(frozen=True)
class TraceReport:
    """One S6F1: trace `trid`'s samples since its last report (REPGSZ of them, fewer at the
    trace's end), each the values of the trace's SVIDs in the order the host asked.

    `sample_number` is the number of the last sample (the first of a trace is 1), `time` the
    equipment's STIME as it sent it (E5 TIME).
    """

    trid: GemId
    sample_number: int
    time: str
    samples: tuple[tuple[Item, ...], ...]


EventListener = Callable[[CollectionEvent], None]
AlarmListener = Callable[[AlarmReport], None]
TraceListener = Callable[[TraceReport], None]
