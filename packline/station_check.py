"""`packline station check`: what every tool of a station says about itself, read-only.

Each tool is connected through its driver (so its identity is checked against the kind its
driver drives, and its serial number against the station file's where the file gives one),
asked for its state, alarms, interlocks, the workpieces it holds and how many it takes at
once, and closed. Nothing is commanded: no safe state, no reset, no load or unload, no
setpoint, so it may be run on a line that holds wafers, before a lot or while looking for a
fault. A tool that a run or the station tests drive is not contacted at all: the check names
who drives it and what to do about it, in the holder's words (`packline.line_lock.Holder`: a
run's `packline terminate` or its end, the station tests' end or Ctrl-C), since a second
controller on its link would cross the other's exchanges (a serial line, a serial device
server or a GEM tool's one HSMS session) or take what the other must read (a SCPI tool's error
queue). Each tool the check contacts is held by it meanwhile, so a run started
during the check is refused, naming it, for the seconds it takes. The tools are checked at
once, each bounded by `timeout_s`; a tool that cannot be reached, or answers as another kind,
is reported with the reason and the line of the station file that gives its address, and the
others still are; two tools each of which answered as the other's kind are said to be swapped,
in the words of a run's refusal. An interlock open is a problem only where the tool's spec says it
must be made at rest (`Made.at_rest`: a supply or set-up no step of a lot makes). A station's
`capacity` above what the tool takes at once is a problem too (`capacity_problem`), which a run
also refuses before any wafer moves. On a served simulated line (the station's `control:`
socket) the check asks the line which faults are injected on each tool and names them beside
its readiness; they are no problem of the tool's: a fault injected before a run is how a
rehearsal of a run meeting it begins, and a run on the line records it as it connects
(decision 0117). Real tools are asked nothing of faults: none is injected on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packline.drivers.equipment import ToolState
from packline.drivers.errors import PacklineError, WrongTool, address_line_text, swapped_text
from packline.drivers.registry import tool_kind
from packline.drivers.specs import Interlock
from packline.line_lock import Holder, LineBusy, hold_tools, tool_addresses
from packline.sim_instruments.servers.control import ControlError, request_control
from packline.station import Station

if TYPE_CHECKING:
    from packline.drivers.equipment import Equipment

#: What takes a workpiece off a tool that no run of the records has in its lot.
UNLOAD_BY_HAND = "have it unloaded, or taken off and the tool cleared"
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
    #: What the tool said it was doing, when it was working as the check connected
    #: (`Equipment.found_working`: 'processing (RF on)'); it is then busy, not ready.
    working: str | None = None
    alarms: dict[str, str] = field(default_factory=dict)
    #: name -> closed (True: safe to proceed)
    interlocks: dict[str, bool] = field(default_factory=dict)
    #: The interlocks the kind's spec says must be made at rest (`Made.at_rest`: a supply or a
    #: set-up no step makes), name -> what the check says of one open: when it is closed and
    #: what makes it.
    made_at_rest: dict[str, str] = field(default_factory=dict)
    #: the ids of the workpieces the tool holds (`request_workpieces`)
    workpieces: tuple[str, ...] = ()
    #: What takes the workpieces off: whose wafers they are, where a run of the records has
    #: them, and the resume that does (`left_on_tools.owners_text`), then what to do with
    #: any other; None where the check read no records or none is a run's.
    workpieces_owned: str | None = None
    #: How many wafers the tool takes at once, as it reports it (`request_capacity`), and the
    #: station file's `capacity` for it, which may not be more.
    capacity: int | None = None
    station_capacity: int = 1
    #: Where the station file says its `capacity` ('line 9 of station file line.yaml'), when
    #: the station was read from a file that says it.
    capacity_at: str | None = None
    error: str | None = None
    #: Where the station file gives its address ('line 4 of station file line.yaml', for a
    #: station read from a file), which its `error` names: the line to correct.
    address_at: str | None = None
    #: The kind the tool answered as, when it is another than its driver drives.
    found_kind: str | None = None
    #: This tool and another, in station order, each of which answered as the other's kind:
    #: their addresses are swapped in the station file.
    swapped: tuple[str, str] | None = None
    #: Who drives the tool (a run, the station tests: the holder of its lock), when another
    #: controller does: the check did not contact it.
    driven_by: str | None = None
    #: What to do about who drives it, in the holder's words (`Holder.stop`: a run's
    #: `packline terminate`, the station tests' wait or Ctrl-C).
    driven_by_stop: str | None = None
    #: The faults injected on the tool, as the served simulated line it is on says: name ->
    #: what it does (none on real tools). No problem: said beside its readiness
    #: (`injected_text`).
    injected_faults: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """Answered, idle (not working: a tool running a process nobody started here is busy),
        without an alarm, holding nothing, with every interlock made that must be made at
        rest, and given no more capacity than it takes: a lot may start on it.
        (A run takes no workpiece off a tool that it did not put there. An interlock a step
        makes is no problem open at rest: a chamber's door or base pressure, a chuck's vacuum
        close as the tool is loaded and pumped, and the step checks it; a supply no step makes,
        such as a process gas, would hold the lot at its first step that needs it.)"""
        return not self.problems()

    def problems(self) -> list[str]:
        """Why the tool is not ready, one phrase each."""
        if self.driven_by is not None:
            stop = "" if self.driven_by_stop is None else f"; {self.driven_by_stop}"
            return [
                f"driven by {self.driven_by}: not contacted (a second controller would cross "
                f"its exchanges){stop}"
            ]
        if self.error is not None:
            swapped = [] if self.swapped is None else [swapped_text(*self.swapped)]
            return [address_line_text(self.error, self.address_at), *swapped]
        if self.working is not None:
            found = [working_problem(self.working)]
        else:
            found = [] if self.state == ToolState.IDLE.value else [f"state {self.state}"]
        found += [f"alarm {code}: {text}" for code, text in self.alarms.items()]
        found += [
            f"interlock {name} open: {self.made_at_rest[name]}"
            for name in self.open_interlocks()
            if name in self.made_at_rest
        ]
        if self.workpieces:
            off = self.workpieces_owned or UNLOAD_BY_HAND
            found.append(f"holds {', '.join(self.workpieces)}: {off}, before a run")
        if self.capacity is not None:
            where = "" if self.capacity_at is None else f" on {self.capacity_at}"
            too_many = capacity_problem(self.station_capacity, self.capacity, where)
            found += [] if too_many is None else [too_many]
        return found

    def injected_text(self) -> str | None:
        """The faults injected on the tool, in words, or None: `fault rf_mismatch (matching
        network detuned: ...) injected on the served line: a run on it meets it and records it
        as injected`."""
        if not self.injected_faults:
            return None
        faults = ", ".join(f"{fault} ({what})" for fault, what in self.injected_faults.items())
        one = len(self.injected_faults) == 1
        return (
            f"{'fault' if one else 'faults'} {faults} injected on the served line: a run on it "
            f"meets {'it' if one else 'them'} and records {'it' if one else 'them'} as injected"
        )

    def open_interlocks(self) -> list[str]:
        return [name for name, closed in self.interlocks.items() if not closed]


def working_problem(doing: str) -> str:
    """What is wrong with a tool found working (`Equipment.found_working`, `doing` in the
    tool's words), and what the operator can do: a run sends it nothing meanwhile. packline
    has no command that stops a tool outside a run; a run that was cut off on it (killed, a
    power cut) is the one whose resume commands its safe state and recovers it."""
    return (
        f"working: {doing}, a process no run of this controller started: wait for it to end, "
        "or stop it at the tool (if a run cut off on it left it so, that run's `packline "
        "resume RUN` commands its safe state and takes its wafers off)"
    )


def capacity_problem(capacity: int, takes: int, where: str = "") -> str | None:
    """What is wrong with a station's `capacity` for a tool that takes `takes` wafers at once
    (its `request_capacity`), or None: a batch of more than the tool holds fails at its load,
    the tool full, with wafers already loaded. Less is the line's choice (smaller batches).
    `where` says where the station file gives it (' on line 9 of station file line.yaml')."""
    if capacity <= takes:
        return None
    wafers = "wafer" if takes == 1 else "wafers"
    return (
        f"capacity {capacity} in the station file, but the tool takes {takes} {wafers} at "
        f"once (a batch of more would fail at its load, the tool full): set `capacity: "
        f"{takes}` or less{where}"
    )


@dataclass
class KeptOpen:
    """The tools of a check left connected, and held, once read, for a method's tools check
    (`packline station check --method`): closed and released when `stack` closes."""

    stack: contextlib.AsyncExitStack[bool | None]
    #: The tools to keep: name -> the role the recipe drives them in.
    roles: dict[str, str]
    #: The drivers kept, by tool name, of those that answered.
    drivers: dict[str, Equipment] = field(default_factory=dict)


async def check_station(
    station: Station,
    timeout_s: float = CHECK_TIMEOUT_S,
    station_file: Path | None = None,
    kept: KeptOpen | None = None,
) -> list[ToolCheck]:
    """Every tool of `station`, in file order, checked at once; `station_file`, the file it was
    read from, names the check to a run refused meanwhile (a problem with a tool's value names
    its line, as the station read from it says: `Station.where`). A tool another controller
    drives is named with it, not contacted; the others are held while checked, and those
    `kept` names left connected and held in its stack, their drivers in it, once read. Two
    tools each of which answered as the other's kind are each told so (`ToolCheck.swapped`)."""
    holder = Holder.here(
        f"`packline station check` of {station_file or 'station ' + station.name}",
        "wait a few seconds until it ends",
    )
    addresses = tool_addresses(station)
    checks = await asyncio.gather(
        *(
            _check_tool(
                station,
                name,
                timeout_s,
                {a: tool for a, tool in addresses.items() if tool == name},
                holder,
                kept if kept is not None and name in kept.roles else None,
            )
            for name in station.tools
        )
    )
    found = {check.name: check.found_kind for check in checks if check.found_kind is not None}
    pairs = {name: pair for pair in station.swapped(found) for name in pair}
    injected = await _injected_on_line(station, timeout_s)
    return [
        replace(
            check,
            swapped=pairs.get(check.name),
            injected_faults={
                fault: str(said["what"]) for fault, said in injected.get(check.name, {}).items()
            },
        )
        for check in checks
    ]


async def _injected_on_line(station: Station, timeout_s: float) -> dict[str, dict[str, Any]]:
    """The faults injected on each tool of the served simulated line `station` names (its
    `control:` socket), as the line says within `timeout_s` (tool -> fault -> what it does,
    who injected it when); none for real tools, which are asked nothing, or a line that cannot
    be asked (its tools then do not answer either)."""
    if station.control is None:
        return {}
    asked = request_control(Path(station.control), {"command": "injected"}, timeout_s)
    try:
        return dict((await asked)["injected"])
    except (ControlError, KeyError, TypeError):
        return {}


async def _check_tool(
    station: Station,
    name: str,
    timeout_s: float,
    addresses: dict[str, str],
    holder: Holder,
    kept: KeptOpen | None,
) -> ToolCheck:
    """Tool `name` checked, held meanwhile at its `addresses` (address -> tool) by the check's
    `holder`, and left connected and held in `kept`'s stack where given; one that another
    controller holds is named with its holder, not contacted."""
    entry = station.tools[name]
    address = (
        entry.address
        if isinstance(entry.address, str)
        else DEVICE_SEPARATOR.join(f"{device} {where}" for device, where in entry.address.items())
    )
    try:
        with contextlib.ExitStack() as own:
            (own if kept is None else kept.stack).enter_context(hold_tools(addresses, holder))
            return await _contact(station, name, timeout_s, address, kept)
    except LineBusy as busy:
        holder = busy.holder
        return ToolCheck(
            name, entry.kind, address, driven_by=holder.what, driven_by_stop=holder.stop
        )
    except PacklineError as error:  # the lock directory cannot be written
        return ToolCheck(name, entry.kind, address, error=str(error))


async def _contact(
    station: Station, name: str, timeout_s: float, address: str, kept: KeptOpen | None
) -> ToolCheck:
    """What tool `name` says of itself (or why it did not), asked within `timeout_s`; a
    problem with its address names the line of the station file that gives it. Closed once
    read, or left connected in `kept`'s stack (its driver in `kept.drivers`) where given."""
    entry = station.tools[name]
    failed = partial(ToolCheck, name, entry.kind, address, address_at=station.address_at(name))
    try:
        async with asyncio.timeout(timeout_s), contextlib.AsyncExitStack() as own:
            stack = own if kept is None else kept.stack
            tool = await stack.enter_async_context(station.open_tool(name))
            if kept is not None:
                kept.drivers[name] = tool
            identity = tool.identity
            assert identity is not None  # read by connect
            if entry.serial_number not in (None, identity.serial_number):
                return failed(
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
            capacity = await tool.request_capacity()
            return ToolCheck(
                name,
                entry.kind,
                address,
                identity=str(identity),
                state=tool.state.value,
                e10_state=tool.e10_state.value,
                working=tool.found_working,
                alarms=alarms,
                interlocks=interlocks,
                made_at_rest=made_at_rest(entry.kind),
                workpieces=workpieces,
                capacity=capacity,
                station_capacity=entry.capacity,
                capacity_at=station.where("tools", name, "capacity"),
            )
    except TimeoutError:
        return failed(error=f"no answer within {timeout_s:g} s")
    except WrongTool as error:
        return failed(error=str(error), found_kind=error.found_kind)
    except (PacklineError, OSError) as error:
        return failed(error=str(error))


def interlocks_made_at_rest(kind: str) -> list[Interlock]:
    """The interlocks of tool kind `kind` that must be made at rest (`Made.at_rest`: a supply
    or set-up no step makes), which a check wants made and a run's refusal for takes the tool
    out of service."""
    return [i for i in tool_kind(kind).load_spec().interlocks if i.made.at_rest]


def what_closes(kind: str) -> dict[str, str]:
    """Every interlock of tool kind `kind` and what closes it: name -> 'closed when <its doc>
    (made at rest: a supply no step makes)', '... (made by a step)'."""
    return {
        interlock.name: f"closed when {interlock.doc} (made {interlock.made.value})"
        for interlock in tool_kind(kind).load_spec().interlocks
    }


def made_at_rest(kind: str) -> dict[str, str]:
    """The interlocks of tool kind `kind` that must be made at rest, as `ToolCheck` carries
    them: name -> what closes it (`what_closes`)."""
    closes = what_closes(kind)
    return {interlock.name: closes[interlock.name] for interlock in interlocks_made_at_rest(kind)}
