"""The simulated grinder as a GEM equipment: `SimGrinder`'s process model behind E30.

The model drives the simulated grinder through its own SCPI interpreter in process
(`scpi.py` here), so the GEM grinder refuses what the SCPI grinder refuses, with the same
physics on the same twin; its status variables are the grinder's own query answers
(`GRIN:STAT?`, `WAF?`, `MEAS:THIC?`, `MEAS:SUBS?`, `GAUG:RES?`, `CHUC:VAC?`, the interlock
query) and its equipment constants the recipe setpoints it holds (set with their SCPI headers,
not while grinding). While a cycle runs, a watcher brings the grinder to the present on the
line's clock, at most a second of process time apart, and reports its end (`cycle_ended`) after
the alarms that came with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from packline.clock import Clock
from packline.drivers.families.scpi_wire import (
    command,
    quote,
    scpi_wire,
    setpoint,
    short_form,
    unquote,
)
from packline.drivers.roles.grinder import GrindSide
from packline.drivers.specs.grinder import GAUGE_READING, SPEC, STATUS_REPLY

from ..grinder import SETPOINT_ATTRIBUTES, SimGrinder
from ..twin import TwinStore
from .model import WATCH_STEP_S
from .scpi import ScpiModel

#: The gauges' status variables and their queries (the thickness too, whose `GRIN:STAT?`
#: field is the gauge's reading, its validity the variable `gauge_valid`).
_GAUGES = {"thickness_um": "thickness", "substrate_um": "substrate"}
#: The status variables that are the other fields of `GRIN:STAT?`: their fields' names.
_STATUS_FIELDS = {
    STATUS_REPLY.gem_name(field): field.name
    for field in STATUS_REPLY.fields
    if STATUS_REPLY.gem_name(field) not in _GAUGES
}
_WIRE = scpi_wire(SPEC)
#: The remote commands that are one line of the grinder.
_COMMAND_LINES = {
    "unload": command(SPEC, "wafer_unload").short,
    "apply_chuck_vacuum": f"{command(SPEC, 'vacuum').short} ON",
    "release_chuck_vacuum": f"{command(SPEC, 'vacuum').short} OFF",
    "abort": short_form(_WIRE.abort),
    "clear_alarms": short_form(_WIRE.alarm_clear),
}
#: The parameters of a load, in the order of its line's program data.
_LOAD_PARAMETERS = ("wafer_id", "side")


class GemSimGrinder(SimGrinder):
    """The simulated grinder behind its GEM face: its GEM driver confirms the abort by the
    status variables (the SCPI driver by `*OPC?`), so it suffers `abort_ignored` too."""

    status_confirms_safe_state = True


class GemGrinderModel(ScpiModel):
    """The GEM face of a `GemSimGrinder` (built here on the line's twin and clock)."""

    tool: GemSimGrinder
    spec = SPEC

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(GemSimGrinder(name, twin, clock, **options))
        #: The cycle count when the present cycle started (None: no cycle watched).
        self._cycles_before: int | None = None

    # ----------------------------------------------------------------- values

    def status(self, name: str) -> Any:
        if name == "serial_number":
            return self.tool.serial_number
        if name in _STATUS_FIELDS:
            status = STATUS_REPLY.read(self.query(command(SPEC, "status").query))
            value = getattr(status, _STATUS_FIELDS[name])
            return value.value if isinstance(value, Enum) else value
        if name in _GAUGES or name == "gauge_valid":
            reading = GAUGE_READING.read(
                self.query(command(SPEC, _GAUGES.get(name, "thickness")).query)
            )
            if name == "gauge_valid":
                return reading is not None
            return 0.0 if reading is None else reading
        if name == "gauge_resolution_um":
            return float(self.query(command(SPEC, "gauge_resolution").query))
        if name in ("wafer_id", "wafer_side"):
            reply = self.query(command(SPEC, "wafer").query)
            wafer_id, _, side = reply.partition(",")
            if name == "wafer_id":
                return "" if reply == "NONE" else unquote(wafer_id)
            return GrindSide[side].value if side else GrindSide.FRONT.value
        if name == "vacuum_on":
            return self.query(command(SPEC, "vacuum").query) == "1"
        reply = self.query(f"{short_form(_WIRE.interlock_query)}?")
        states = dict(word.partition("=")[::2] for word in reply.split(","))
        return states[name] == "1"

    def constant(self, name: str) -> Any:
        header = setpoint(SPEC, name).header
        assert header is not None, f"{name} is not a setpoint of the tool"
        return float(self.query(f"{short_form(header)}?"))

    def set_constants(self, values: Mapping[str, Any]) -> None:
        for name in SETPOINT_ATTRIBUTES:
            if name in values:
                self.ask(setpoint(SPEC, name).encode(values[name]))

    # ----------------------------------------------------------------- commands

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name == "load":
            side = str(parameters["side"]).upper()
            load = "wafer_reload" if parameters.get("rework") else "wafer_load"
            line = f"{command(SPEC, load).short} {quote(str(parameters['wafer_id']))},{side}"
            self.ask(line, _LOAD_PARAMETERS)
        elif name == "start":
            before = self.status("cycle_count")
            self.ask(command(SPEC, "start").short)
            self._cycles_before = before
            self.watch(self._watch_cycle)
            return 4
        else:
            self.ask(_COMMAND_LINES[name])
        await self.equipment.report_alarms()
        return 0

    async def _watch_cycle(self) -> None:
        """Bring the grinder to the present until the cycle ended; report its end."""
        while self._cycles_before is not None:
            ended = self.status("cycle_count") != self._cycles_before
            if ended:
                self._cycles_before = None
            if not await self.report(*(["cycle_ended"] if ended else [])):
                self._cycles_before = None
            if self._cycles_before is not None:
                await self.clock.sleep(WATCH_STEP_S)
