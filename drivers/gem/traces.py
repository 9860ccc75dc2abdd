"""A trace (E30 trace data collection) as the GEM role drivers hand it: samples by name.

`GemEquipment.trace` (`equipment.py`) asks the tool to sample some of its status variables
every period (S2F23) and gathers what it sends (S6F1) into a `Trace`, whose samples carry the
role's values by the dictionary's names: a line engineer's view of a run (the bonder's stage
temperature and progress every second) without polling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packline.rendering import counted

from ..errors import ProtocolError
from ..secs.items import Item
from .entries import Variable
from .records import TraceReport

#: How a sample's value is read: the action, the status variable's name and the item sent in,
#: the role's value out (`GemEquipment.role_value`).
ValueReader = Callable[[str, str, Item], Any]


@dataclass(frozen=True)
class TraceSample:
    """One sample of a trace: its number (the first is 1), the tool's TIME when it was taken
    (the last of its report's; E5 TIME text), and the role's values by status variable name."""

    number: int
    time: str
    values: dict[str, Any]


class Trace:
    """The samples of one trace, in the order the tool took them, as its reports arrive."""

    def __init__(
        self,
        trid: int,
        variables: dict[str, Variable],
        read: ValueReader,
        *,
        tool: str,
        address: str,
    ) -> None:
        self.trid = trid
        #: The traced status variables, by name, in the order the tool sends them.
        self.variables = variables
        #: How each value is read, as the driver reads it elsewhere (`GemEquipment.role_value`).
        self.read = read
        #: The tool traced and its address, which a sample it sent malformed is named by.
        self.tool = tool
        self.address = address
        self.reports: list[TraceReport] = []

    def received(self, report: TraceReport) -> None:
        """A trace listener (`GemHost.add_trace_listener`): keep this trace's reports."""
        if report.trid == self.trid:
            self.reports.append(report)

    @property
    def samples(self) -> list[TraceSample]:
        """Every sample so far, numbered; a sample of another number of values than the trace
        has variables, or a value the tool sent in a shape its variable does not take, is a
        `ProtocolError` naming it, one the tool cannot give now (no wafer to measure) a
        `CommandRefused` in the driver's words, as a reading of it would be."""
        samples = []
        for report in self.reports:
            first = report.sample_number - len(report.samples) + 1
            for number, values in enumerate(report.samples, start=first):
                samples.append(TraceSample(number, report.time, self._to_role(number, values)))
        return samples

    def values(self, name: str) -> list[Any]:
        """Status variable `name`'s value in every sample so far."""
        if name not in self.variables:
            raise KeyError(f"{name!r} is not traced (traced: {', '.join(self.variables)})")
        return [sample.values[name] for sample in self.samples]

    def _to_role(self, number: int, values: tuple[Item, ...]) -> dict[str, Any]:
        """Sample `number`'s values by the role's names, each read by `read`."""
        action = f"trace {self.trid}"
        if len(values) != len(self.variables):
            traced = counted(len(self.variables), "status variable")
            raise ProtocolError(
                self.tool,
                self.address,
                action,
                f"sample {number} came with {counted(len(values), 'value')} for its {traced} "
                f"({', '.join(self.variables)})",
            )
        return {
            name: self.read(action, name, value)
            for name, value in zip(self.variables, values, strict=True)
        }
