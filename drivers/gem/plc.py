"""What the GEM role drivers of tools on a Modbus PLC share: interlocks, a run's end, traces.

A PLC tool's GEM face (the plasma cleaner's, the oven's, the laminator's) gives its interlocks
as one boolean status variable each by the Modbus map's names, tells a run's end by the event
`run_ended` (the tool's state and how the run ended, `last_result`), and gives its signals as
trace data: `recorded_trace` records each sample as the Modbus driver records its polls, under
the same names and units, at the sample's time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from ..errors import ToolAlarm
from ..specs.core import ToolSpec
from .equipment import GemEquipment
from .records import CollectionEvent, TraceReport


def traced_as(spec: ToolSpec[Any], statuses: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each status variable of `statuses` (by the status of `spec` it is) with the reading
    name and unit a sample is recorded as: the status's trace and unit, the Modbus driver's."""
    recorded = {}
    for name, status in statuses.items():
        entry = spec.status_by_name[status]
        if entry.trace is None:
            raise ValueError(f"{spec.kind}: status {status} is not traced")
        recorded[name] = (entry.trace, entry.unit)
    return recorded


class GemPlcTool(GemEquipment):
    """Base of the GEM role drivers of tools on a Modbus PLC (interlocks, a run's end, traces)."""

    #: The tool kind's Modbus spec: its interlocks' names, its traces' names and units.
    spec: ClassVar[ToolSpec[Any]]

    async def request_interlocks(self) -> dict[str, bool]:
        names = self.spec.interlock_names
        values = await self.request_values("read interlocks", *names)
        return {name: bool(value) for name, value in zip(names, values, strict=True)}

    async def run_ended(
        self, action: str, event: CollectionEvent, state: str, run: str
    ) -> dict[str, Any]:
        """The values of event `run_ended`'s report; a run that ended with the tool in fault
        (status variable `state`) is the tool's alarms, one that did not complete a `ToolAlarm`
        saying how `run` ended (the report's `last_result`)."""
        values = self.event_values("run_ended", event)
        if values[state] == "fault":
            await self.refresh_alarms()
            raise self.alarm_error(action)
        if values["last_result"] != "completed":
            raise ToolAlarm(
                self.name, self.address, action, [f"{run} ended {values['last_result']}"]
            )
        return values

    @asynccontextmanager
    async def recorded_trace(
        self,
        recorded: Mapping[str, tuple[str, str]],
        period_s: float,
        group_size: int,
        sampled: Callable[[float, Mapping[str, float]], None] | None = None,
    ) -> AsyncIterator[None]:
        """For the block, the tool traces the status variables `recorded` names (each to the
        reading name and unit it is recorded as) every `period_s` (at least its dictionary's
        shortest period), `group_size` samples a report; each sample is recorded as its report
        arrives (the samples the tool had not reported when the block ends, as the trace
        stops), at the time it was taken: sample n (its SMPLN) `n - 1` periods after the trace
        began, the tool taking the first at once, and never later than its report's arrival.
        `sampled(elapsed_s, values)` hears each sample too, `elapsed_s` its time since the
        trace began on the tool's clock (n - 1 periods: a served line's runs faster than the
        host's when sped up, so only the tool's clock times what it measured)."""
        names = tuple(recorded)
        period_s = max(period_s, self.dictionary.trace.min_period_s)
        variables = self.dictionary.status_variables
        trids: set[object] = set()
        began_s = self.clock.now()

        def record(report: TraceReport) -> None:
            if report.trid not in trids:
                return
            now = self.clock.now()
            first = report.sample_number - len(report.samples) + 1
            for number, items in enumerate(report.samples, start=first):
                elapsed_s = (number - 1) * period_s
                time_s = min(began_s + elapsed_s, now)
                values = {
                    name: float(variables[name].to_role(item))
                    for name, item in zip(names, items, strict=True)
                }
                for name, value in values.items():
                    reading, unit = recorded[name]
                    self.record_reading(reading, value, unit, time_s=time_s)
                if sampled is not None:
                    sampled(elapsed_s, values)

        self.gem.add_trace_listener(record)
        try:
            async with self.trace(*names, period_s=period_s, group_size=group_size) as trace:
                trids.add(trace.trid)
                yield
        finally:
            self.gem.remove_trace_listener(record)
