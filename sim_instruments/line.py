"""The bundled simulated line: one simulated tool of every registered kind, on the wire.

In-process (tests, `packline run --sim`) the line shares a `VirtualClock` with the engine, so
process time is simulated. With `gem=True` every kind that has a simulated GEM face is served
as a GEM equipment on HSMS instead (its process model unchanged), for `driver: gem`.
Standalone (`packline sim serve`) it runs on the wall clock and prints its station file, so
drivers in another process, or mbpoll and socat, can reach it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, Self

from packline.clock import Clock, WallClock
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.registry import GEM_DRIVER, TOOL_KINDS, ToolKind
from packline.station import SIMULATED_LINE_NAME, Station, ToolEntry

from .gem.equipment import GemEquipment
from .tool import SimulatedTool
from .twin import Incoming, TwinStore


class SimulatedLine:
    """Serves a simulated tool per registered kind and describes them as a `Station`."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        incoming: Incoming | None = None,
        host: str = "127.0.0.1",
        kinds: Iterable[str] | None = None,
        name: str = SIMULATED_LINE_NAME,
        gem: bool = False,
        tool_options: Mapping[str, Mapping[str, Any]] | None = None,
        serial_over_tcp: bool = False,
        line_id: str | None = None,
    ) -> None:
        """`tool_options`: per role, keyword arguments of its simulated tool (a laser's CO2
        `source`), so the line has the tools a recipe needs. `serial_over_tcp`: a tool on a
        serial line (the oven's Modbus RTU line, a host link) is served with its bytes over TCP,
        as behind a serial device server (`SimulatedTool.serial_over_tcp`), instead of on a pty
        (unless its `tool_options` name a `transport`): the in-process dry run's choice, where
        every exchange through a pty costs more wall time than the exchange itself, and where
        a reply a tool holds (docs/decisions/0028) must be readable as soon as it is sent.
        `line_id`: this line's own identity (`packline sim serve` draws one), in every tool's
        serial number (`<model>-<line_id>`, unless its `tool_options` name one) and so in the
        station's `serial_number` of each tool, which `packline station check` compares with
        what answers: another served line's tool on a reused pty is refused, not taken."""
        self.clock: Clock = clock or WallClock()
        self.twin = TwinStore(incoming)
        self.host = host
        self.name = name
        selected = list(kinds) if kinds is not None else list(TOOL_KINDS)
        unknown = [k for k in selected if k not in TOOL_KINDS]
        if unknown:
            raise ValueError(
                f"simulated line: unknown tool kinds {unknown}; known: {', '.join(TOOL_KINDS)}"
            )
        self._kinds: list[ToolKind] = [TOOL_KINDS[k] for k in selected]
        roles = [kind.role for kind in self._kinds]
        twice = sorted({role for role in roles if roles.count(role) > 1})
        if twice:
            # Tools are named by role: a second one would replace the first, still served.
            raise ValueError(f"simulated line: more than one tool for role(s) {twice}")
        self.tool_options = {role: dict(options) for role, options in (tool_options or {}).items()}
        strangers = sorted(set(self.tool_options) - set(roles))
        if strangers:
            raise ValueError(f"simulated line: tool options for role(s) {strangers}, not served")
        self.serial_over_tcp = serial_over_tcp
        self.line_id = line_id
        self.tools: dict[str, SimulatedTool] = {}
        self.gem = gem
        #: The GEM equipments serving the tools of kinds that have one, when `gem`.
        self.gem_servers: dict[str, GemEquipment] = {}
        self._station: Station | None = None

    @property
    def station(self) -> Station:
        if self._station is None:
            raise RuntimeError("the simulated line is not started")
        return self._station

    async def start(self) -> Station:
        """Start every simulated tool; returns the station that reaches them."""
        if self.tools:
            raise RuntimeError(f"simulated line {self.name} is already started")
        entries: dict[str, ToolEntry] = {}
        try:
            for kind in self._kinds:
                if self.gem and kind.gem_simulator is not None:
                    entries[kind.role] = await self._serve_gem(kind)
                    continue
                options = self._options(kind)
                simulator = kind.load_simulator()
                if self.serial_over_tcp and simulator.serial_over_tcp:
                    options = {"transport": simulator.serial_over_tcp, **options}
                tool = simulator(kind.role, self.twin, self.clock, **options)
                self.tools[kind.role] = tool
                await tool.start(self.host, 0)
                entries[kind.role] = ToolEntry(
                    driver=kind.name,
                    address=tool.station_address,
                    capacity=getattr(tool, "capacity", 1),
                    poll_interval_s=getattr(tool, "poll_interval_s", 1.0),
                    serial_number=options.get("serial_number"),
                )
        except BaseException:
            await self.stop()
            raise
        self._station = Station(name=self.name, tools=entries, simulated=True)
        return self._station

    async def _serve_gem(self, kind: ToolKind) -> ToolEntry:
        """Serve `kind`'s simulated tool as a GEM equipment on HSMS, by its dictionary."""
        options = self._options(kind)
        model = kind.load_gem_simulator()(kind.role, self.twin, self.clock, **options)
        self.tools[kind.role] = model.tool
        server = GemEquipment(load_dictionary(kind.name), model, clock=self.clock, tool=kind.role)
        self.gem_servers[kind.role] = server
        address = await server.start(self.host, 0)
        return ToolEntry(
            driver=GEM_DRIVER,
            dictionary=kind.name,
            address=address,
            capacity=getattr(model.tool, "capacity", 1),
            poll_interval_s=getattr(model.tool, "poll_interval_s", 1.0),
            serial_number=options.get("serial_number"),
        )

    def _options(self, kind: ToolKind) -> dict[str, Any]:
        """The options of `kind`'s simulated tool: the line's `tool_options` for its role and,
        on a line with a `line_id`, serial numbers that name the line, the tool's (after the
        model those options make it, `SimulatedTool.model_built`: a CO2 laser's `LC-106`) and
        each of its further devices' (`<device>_serial_number`, the plating cell's supply)."""
        options = dict(self.tool_options.get(kind.role, {}))
        if self.line_id is not None:
            models = {"": kind.load_simulator().model_built(options)}
            models |= {
                device: spec.identity.model for device, spec in kind.load_device_specs().items()
            }
            for device, model in models.items():
                key = f"{device}_serial_number" if device else "serial_number"
                options.setdefault(key, f"{model}-{self.line_id}")
        return options

    async def stop(self) -> None:
        """Stop every tool; safe to call twice."""
        tools, self.tools = list(self.tools.values()), {}
        servers, self.gem_servers = list(self.gem_servers.values()), {}
        self._station = None
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        await asyncio.gather(*(tool.stop() for tool in tools), return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
