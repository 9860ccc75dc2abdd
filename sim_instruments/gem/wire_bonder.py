"""The simulated wire bonder as a GEM equipment: `SimWireBonder`'s process model behind E30.

The model drives the simulated bonder through its own command interpreter (`host_link.py`:
the lines of docs/protocols/wire-bonder.md, answered in process), so the GEM tool refuses what
the ASCII tool refuses, with the same physics on the same workpiece twin. The bond program is
held as equipment constants and sent as `PROG` when a run starts. While a run goes on, a watcher
brings the bonder to the present on the line's clock, at most a second of process time apart
and at the run's planned end, and reports what happened: S5F1 for each alarm, then the
`run_ended` collection event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.ascii_host_wire import STATUS_QUERY, host_status
from packline.drivers.roles.wire_bonder import BonderState, BondProgram, WireMaterial
from packline.drivers.specs.wire_bonder import (
    HEIGHT_DECIMALS,
    HEIGHT_REPLY,
    PROGRAM_SETPOINTS,
    RESULT_OF_TOKEN,
    SPEC,
    STATE_OF_TOKEN,
    encode_site_ranges,
    format_program,
)

from ..twin import TwinStore
from ..wire_bonder import SimWireBonder
from .host_link import HostLinkModel
from .model import ILLEGAL_VALUE, GemRefused

#: The bond program a new tool holds (mid-window values of the process window).
DEFAULT_PROGRAM = BondProgram(WireMaterial.AU, 25.0, 150.0, 30.0, 60.0, 15.0)

#: The E10 state the bonder reports in each of its states.
_E10_OF = {
    BonderState.IDLE: "standby",
    BonderState.HEATING: "productive",
    BonderState.BUMPING: "productive",
    BonderState.FAULT: "unscheduled downtime",
}

#: How each `STAT?` field reads as its status variable: a token as its enum's value, a number
#: at the decimals the spec gives it (whole without).
_STATUS_READERS: dict[str, Callable[[str], Any]] = {
    "state": lambda token: STATE_OF_TOKEN[token].value,
    "wafer_id": str,
    "last_result": lambda token: RESULT_OF_TOKEN[token].value,
}
#: Each status variable of `STAT?`: its field's key and how it reads.
_STATUS_SOURCES = {
    status.name: (status.key, _STATUS_READERS.get(status.name, float if status.decimals else int))
    for status in host_status(SPEC)
}
#: Each height statistic's status variable: `HGT:STAT?`, its field's key and how it reads.
_HEIGHT_SOURCES = HEIGHT_REPLY.status_sources

#: The remote commands and the bonder line each one sends.
_COMMAND_LINES = {"load": "LOAD", "unload": "UNLOAD", "abort": "ABORT", "clear_alarms": "ALM:CLR"}


class GemWireBonderModel(HostLinkModel):
    """The GEM face of a `SimWireBonder` (built here on the line's twin and clock)."""

    tool: SimWireBonder
    spec = SPEC
    #: `START` without STACK bumps one stud a site, without SITES every site (`_start`).
    optional_parameters = HostLinkModel.optional_parameters | {"stack_count", "sites"}

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimWireBonder(name, twin, clock, **options))
        self.program = DEFAULT_PROGRAM

    # ----------------------------------------------------------------- values

    def status(self, name: str) -> Any:
        """A status variable as the bonder's host link reports it, at its resolution: the
        status (`STAT?`) and the height statistics (`HGT:STAT?`) read from its answers, each
        site's height to `HEIGHT_DECIMALS` as `HGT?` writes it; what the host link refuses
        with no wafer on the chuck (`ERR 6`: the map, the heights) none
        (`StatusUnavailable`)."""
        tool = self.tool
        tool.advance()
        if name in SPEC.interlock_names:
            return tool.interlocks()[name]
        if name == "serial_number":
            return tool.serial_number
        if name == "e10_state":
            return _E10_OF[tool.state]
        if name in _STATUS_SOURCES:
            key, read = _STATUS_SOURCES[name]
            return read(self.fields(STATUS_QUERY)[key])
        if name in _HEIGHT_SOURCES:
            query, key, read = _HEIGHT_SOURCES[name]
            return read(self.fields(query)[key])
        # the wafer map's sites and each one's height: `MAP?` and `HGT?`, which with no wafer
        # on the chuck the bonder refuses alike (`StatusUnavailable`, never 0 or no site)
        site_count = int(self.answer("MAP?"))
        if name == "site_count":
            return site_count
        assert tool.wafer_id is not None  # `MAP?` answered
        heights = tool.twin.get(tool.wafer_id).bumps.height_um
        return [round(height, HEIGHT_DECIMALS) for height in heights.tolist()]

    def constant(self, name: str) -> Any:
        value = getattr(self.program, name)
        return value.value if isinstance(value, WireMaterial) else value

    def set_constants(self, values: Mapping[str, Any]) -> None:
        fields = {name: self.constant(name) for name in ("wire_material", *PROGRAM_SETPOINTS)}
        fields |= values
        self.program = BondProgram(WireMaterial(fields.pop("wire_material")), **fields)

    # ----------------------------------------------------------------- commands

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name == "start":
            self._start(parameters)
            self.watch(lambda: self.follow(self._run_end_s, "run_ended"))
            return 4
        return await self.command_line(_COMMAND_LINES[name], parameters)

    def _start(self, parameters: Mapping[str, Any]) -> None:
        """Program, selection and `BUMP`, as the ASCII host would send them."""
        if self.tool.state in (BonderState.HEATING, BonderState.BUMPING):
            raise GemRefused(2, "a run goes on")
        self.ask(format_program(self.program))
        sites = parameters.get("sites")
        if sites is None:
            self.ask("SEL:ALL")
        else:
            try:
                _, _, lines = encode_site_ranges(sites)
            except ValueError as error:
                raise GemRefused(3, f"sites: {error}", {"sites": ILLEGAL_VALUE}) from None
            self.ask("SEL:CLR")
            for line in lines:
                self.ask(f"SEL:ADD {line}", ["sites"])
        self.ask(f"BUMP {parameters.get('stack_count', 1)}", ["stack_count"])

    def _run_end_s(self) -> float | None:
        """The planned end of the run that goes on (None: no run goes on)."""
        run = self.tool.run
        if run is None or self.tool.state not in (BonderState.HEATING, BonderState.BUMPING):
            return None
        return run.bonding_from_s + run.total * run.site_s
