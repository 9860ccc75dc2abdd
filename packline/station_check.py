"""`packline station check`: what every tool of a station says about itself, read-only.

Each tool is connected through its driver (so its identity is checked against the kind its
driver drives, and its serial number against the station file's where the file gives one),
asked for its state, alarms, interlocks and the workpieces it holds, and closed. Nothing is
commanded: no safe state, no reset, no load or unload, no setpoint, so it may be run on a line
that holds wafers, before a lot or while looking for a fault. The tools are checked at once,
each bounded by `timeout_s`; a tool that cannot be reached is reported with the reason, and
the others still are. An interlock open is a problem only where the tool's spec says it must
be made at rest (`Made.at_rest`: a supply or set-up no step of a lot makes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from packline.drivers.equipment import ToolState
from packline.drivers.errors import PacklineError
from packline.drivers.registry import tool_kind
from packline.station import Station

#: How long one tool may take to connect and answer, all questions together.
CHECK_TIMEOUT_S = 30.0
#: Between the devices of a tool of more than one (decision 0009) in its `ToolCheck.address`:
#: 'cell modbus+tcp://10.0.0.5, supply TCPIP0::10.0.0.6::5025::SOCKET'.
DEVICE_SEPARATOR = ", "


@dataclass(frozen=True)
class ToolCheck:
    """One tool as it answered (or why it did not)."""

    name: str
    kind: str
    address: str
    identity: str | None = None
    state: str | None = None
    e10_state: str | None = None
    alarms: dict[str, str] = field(default_factory=dict)
    #: name -> closed (True: safe to proceed)
    interlocks: dict[str, bool] = field(default_factory=dict)
    #: The interlocks the kind's spec says must be made at rest (`Made.at_rest`: a supply or a
    #: set-up no step makes), name -> what the check says of one open: when it is closed and
    #: what makes it.
    made_at_rest: dict[str, str] = field(default_factory=dict)
    #: the ids of the workpieces the tool holds (`request_workpieces`)
    workpieces: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ready(self) -> bool:
        """Answered, idle, without an alarm, holding nothing and with every interlock made
        that must be made at rest: a lot may start on it. (A run takes no workpiece off a tool
        that it did not put there. An interlock a step makes is no problem open at rest: a
        chamber's door or base pressure, a chuck's vacuum close as the tool is loaded and
        pumped, and the step checks it; a supply no step makes, such as a process gas, would
        hold the lot at its first step that needs it.)"""
        return not self.problems()

    def problems(self) -> list[str]:
        """Why the tool is not ready, one phrase each."""
        if self.error is not None:
            return [self.error]
        found = [] if self.state == ToolState.IDLE.value else [f"state {self.state}"]
        found += [f"alarm {code}: {text}" for code, text in self.alarms.items()]
        found += [
            f"interlock {name} open: {self.made_at_rest[name]}"
            for name in self.open_interlocks()
            if name in self.made_at_rest
        ]
        if self.workpieces:
            found.append(
                f"holds {', '.join(self.workpieces)}: have it unloaded, or taken off and the "
                "tool cleared, before a run"
            )
        return found

    def open_interlocks(self) -> list[str]:
        return [name for name, closed in self.interlocks.items() if not closed]


async def check_station(station: Station, timeout_s: float = CHECK_TIMEOUT_S) -> list[ToolCheck]:
    """Every tool of `station`, in file order, checked at once."""
    return list(
        await asyncio.gather(*(_check_tool(station, name, timeout_s) for name in station.tools))
    )


async def _check_tool(station: Station, name: str, timeout_s: float) -> ToolCheck:
    entry = station.tools[name]
    address = (
        entry.address
        if isinstance(entry.address, str)
        else DEVICE_SEPARATOR.join(f"{device} {where}" for device, where in entry.address.items())
    )
    try:
        async with asyncio.timeout(timeout_s):
            async with station.open_tool(name) as tool:
                identity = tool.identity
                assert identity is not None  # read by connect
                if entry.serial_number not in (None, identity.serial_number):
                    return ToolCheck(
                        name,
                        entry.kind,
                        address,
                        identity=str(identity),
                        error=f"serial number {identity.serial_number}, but the station file "
                        f"says {entry.serial_number}: another tool answers at this address "
                        "(a cable or port moved; on a simulated line, another `sim serve` "
                        "took over its pty): correct the address, or use the station file "
                        "of the line you mean",
                    )
                alarms = await tool.request_alarms()
                interlocks = await tool.request_interlocks()
                workpieces = await tool.request_workpieces()
                return ToolCheck(
                    name,
                    entry.kind,
                    address,
                    identity=str(identity),
                    state=tool.state.value,
                    e10_state=tool.e10_state.value,
                    alarms=alarms,
                    interlocks=interlocks,
                    made_at_rest=made_at_rest(entry.kind),
                    workpieces=workpieces,
                )
    except TimeoutError:
        return ToolCheck(name, entry.kind, address, error=f"no answer within {timeout_s:g} s")
    except (PacklineError, OSError) as error:
        return ToolCheck(name, entry.kind, address, error=str(error))


def made_at_rest(kind: str) -> dict[str, str]:
    """The interlocks of tool kind `kind` that must be made at rest, as `ToolCheck` carries
    them: name -> 'closed when <its doc> (made at rest: a supply no step makes)'."""
    return {
        interlock.name: f"closed when {interlock.doc} (made {interlock.made.value})"
        for interlock in tool_kind(kind).load_spec().interlocks
        if interlock.made.at_rest
    }
