"""Station files: which tools a line has, which driver talks to each, and where it is.

A station file is YAML (data, never code; a key given twice is an error)::

    name: line-3
    tools:
      plasma_cleaner:                    # the tool's name; sequences ask for it by role
        driver: plasma_cleaner           # a kind from drivers/registry.py
        address: modbus+tcp://10.0.3.17:502
        options: {device_id: 1, timeout_s: 2.0}   # link options
        limits: {rf_power_w: [100, 600]}         # narrow the driver's default setpoint limits
        poll_interval_s: 1.0
        capacity: 4                      # wafers it takes at once (batch tools)
      electroplater:                     # a tool made of several devices on several links:
        driver: electroplater            # one address per device, by the driver's device names,
        address:                         # and options per device
          cell: modbus+tcp://10.0.3.30:502
          supply: TCPIP0::10.0.3.31::5025::SOCKET
        options: {cell: {device_id: 3}}
      wire_bonder:
        driver: gem                      # a GEM tool (SEMI E30) on HSMS
        dictionary: wire_bonder          # its GEM dictionary (drivers/specs/gem/)
        address: hsms://10.0.3.30:5000

The same file format describes the bundled simulated line (`packline sim serve` prints it) and
a real one; only the addresses differ (and `time_scale: 60` on a simulated line served sixty
times faster than real time). Every problem of a file is reported at once, before any tool is
contacted, a line each with the file, the key path (down to a tool's link option) and what is
wrong, and a misspelt key, driver, link option or setpoint with the names it may mean. Every
field, its type, unit, range, default and
an example: docs/station-file.md, rendered from the declarations below (`station_page.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from packline.clock import Clock
from packline.drivers.equipment import Equipment
from packline.drivers.equipment.limits import LimitsSource, StationLimits, unplaced
from packline.drivers.errors import PacklineError, SetupRefused
from packline.drivers.gem.dictionary import (
    DictionaryError,
    is_dictionary_file,
    load_dictionary,
)
from packline.drivers.links import LINK_KINDS, Link, LinkKind, link_kind, not_an_option, open_link
from packline.drivers.registry import GEM_DRIVER, TOOL_KINDS, tool_kind
from packline.files import FileProblem, parse_yaml, read_text, yaml_lines
from packline.plain_words import Refusal, refusal, refusal_lines
from packline.spelling import did_you_mean

#: The most wafers or panels one tool takes at once (a batch oven's boat).
MAX_CAPACITY = 200
#: The name of a simulated line, as its station names it (`packline sim serve`, a dry run's).
SIMULATED_LINE_NAME = "simulated-line"
#: The shortest poll interval: a tool polled faster is a busy loop on its link.
MIN_POLL_INTERVAL_S = 0.01
#: The tool kind whose zones `zone_trace_interval_s` logs (its driver, or its GEM dictionary's).
OVEN_DRIVER = "oven"
#: The longest zone trace interval of an oven: an hour, beyond which a long cure's zones go
#: unlogged.
MAX_ZONE_TRACE_INTERVAL_S = 3600


class StationError(PacklineError):
    """A station file or station description is wrong; nothing was contacted."""


class EntryProblem(NamedTuple):
    """What a tool's driver refuses of its station entry (`ToolEntry.problems`): where below
    the tool (`.options.timeout_s`, "" for the tool's own), why, and the key path below the
    tool the file gives it at, which says the line (`address`; `limits`, `rf_power_w`)."""

    place: str
    why: str
    key: tuple[str, ...]


class ToolEntry(BaseModel):
    """How to reach one tool and drive it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The tool's driver: a tool kind of `drivers/registry.py` (`packline validate METHOD
    #: --recipe NAME` names the roles a recipe drives), or `gem` for a tool driven as GEM
    #: equipment on HSMS.
    driver: str = Field(examples=["plasma_cleaner", "gem"])
    #: Where the tool is: one address (its form chooses the link), or for a tool of several
    #: devices one per device, by the driver's device names.
    address: str | dict[str, str] = Field(
        examples=["modbus+tcp://10.0.3.17:502", "{cell: modbus+tcp://..., supply: TCPIP0::...}"]
    )
    #: Link options (the link kind's, below); for a tool of several devices, per device
    #: (device -> options).
    options: dict[str, Any] = Field(
        default_factory=dict, examples=["{device_id: 1, timeout_s: 2.0}"]
    )
    #: The GEM dictionary of a `driver: gem` tool: a dictionary shipped in
    #: drivers/specs/gem/ by name, or a dictionary file (relative to the station file).
    dictionary: str | None = Field(default=None, examples=["wire_bonder", "bonder-7.yaml"])
    #: Narrower setpoint limits than the driver's defaults: setpoint -> [minimum, maximum] in
    #: the setpoint's unit (the driver's own limits are in its protocol page); for a tool of
    #: several devices, a further device's setpoints under its name (the electroplater's
    #: `supply: {voltage_v: [0, 3]}`). A recipe outside them is refused before any tool moves,
    #: and the driver refuses a value outside them before it sends it.
    limits: dict[str, tuple[float, float] | dict[str, tuple[float, float]]] = Field(
        default_factory=dict,
        examples=["{rf_power_w: [100, 600]}", "{supply: {voltage_v: [0, 3]}}"],
    )
    #: How often the tool's status is read while it works, in seconds (at least 0.01: a
    #: shorter interval is a busy loop on its link).
    poll_interval_s: float = Field(
        default=1.0, ge=MIN_POLL_INTERVAL_S, le=600, strict=True, examples=[0.5]
    )
    #: An oven's zone log: during a profile run its zones' temperatures and outputs are read at
    #: most this often, in seconds of process time, besides at each segment's start and while
    #: a segment's reaching is judged (0: every poll; the load is read every poll regardless).
    #: Absent: the oven's default (docs/protocols/oven.md). Only an oven has it (`driver: oven`,
    #: or `driver: gem` with an oven's dictionary, whose zones are traced this often).
    zone_trace_interval_s: float | None = Field(
        default=None,
        ge=0,
        le=MAX_ZONE_TRACE_INTERVAL_S,
        strict=True,
        allow_inf_nan=False,
        examples=[60],
    )
    #: How many wafers the tool takes at once (a batch chamber or oven holds several).
    capacity: int = Field(default=1, ge=1, le=MAX_CAPACITY, strict=True, examples=[4])
    #: The serial number the tool reports in its identity: `packline station check` refuses
    #: a tool at this address that reports another (a tool moved to another port; on a
    #: simulated line, another `sim serve`'s tool on a reused pty). `packline sim serve`
    #: writes it for every tool it serves; unchecked when absent.
    serial_number: str | None = Field(default=None, min_length=1, examples=["PC-4-0001"])

    @field_validator("driver")
    @classmethod
    def _known_driver(cls, driver: str) -> str:
        known = sorted([*TOOL_KINDS, GEM_DRIVER])
        if driver not in known:
            raise ValueError(
                f"unknown driver {driver!r}{did_you_mean(driver, known)}; known drivers: "
                f"{', '.join(known)}"
            )
        return driver

    @field_validator("dictionary")
    @classmethod
    def _known_dictionary(cls, dictionary: str | None) -> str | None:
        """A dictionary that loads (a shipped one's name misspelt is refused with the names it
        may mean, as a misspelt driver is)."""
        if dictionary is None:
            return None
        try:
            load_dictionary(dictionary)
        except DictionaryError as error:
            raise ValueError(str(error)) from None
        return dictionary

    @model_validator(mode="after")
    def _dictionary_of_a_gem_tool(self) -> ToolEntry:
        if self.driver != GEM_DRIVER and self.dictionary is not None:
            raise ValueError(f"dictionary: only a driver: {GEM_DRIVER} tool has one")
        if self.driver == GEM_DRIVER and self.dictionary is None:
            raise ValueError(f"dictionary: a driver: {GEM_DRIVER} tool needs its GEM dictionary")
        return self

    @model_validator(mode="after")
    def _zone_trace_of_an_oven(self) -> ToolEntry:
        if self.zone_trace_interval_s is not None and self.kind != OVEN_DRIVER:
            raise ValueError(
                f"zone_trace_interval_s: only an oven (driver: {OVEN_DRIVER}, or an oven's GEM "
                f"dictionary) has zones to log, not driver: {self.driver}"
            )
        return self

    @property
    def kind(self) -> str:
        """The tool kind: the driver's, or a GEM tool's dictionary's."""
        if self.dictionary is not None:
            return load_dictionary(self.dictionary).kind
        return self.driver

    @field_validator("address")
    @classmethod
    def _known_address_form(cls, address: str | dict[str, str]) -> str | dict[str, str]:
        for each in [address] if isinstance(address, str) else address.values():
            link_kind(each)  # raises ValueError naming the accepted forms
        return address

    @property
    def role(self) -> str:
        return tool_kind(self.kind).role

    def _driver(self) -> type[Equipment]:
        """The driver class: the kind's, or its GEM driver for a `driver: gem` tool."""
        kind = tool_kind(self.kind)
        return kind.load_driver() if self.dictionary is None else kind.load_gem_driver()

    def open(
        self, name: str, clock: Clock | None = None, limits_source: LimitsSource = unplaced
    ) -> Equipment:
        """Build (not connect) the driver of this tool, named `name`, over its links; its
        `limits` set where `limits_source` says (each bound's line in the station file)."""
        gem = {} if self.dictionary is None else {"dictionary": self.dictionary}
        zones = {}
        if self.zone_trace_interval_s is not None:
            zones["zone_trace_interval_s"] = self.zone_trace_interval_s
        return build_driver(
            self._driver(),
            self.driver,
            self.address,
            self.options,
            name=name,
            clock=clock,
            limits=self.limits,
            limits_source=limits_source,
            poll_interval_s=self.poll_interval_s,
            **gem,
            **zones,
        )

    def problems(self, name: str) -> list[EntryProblem]:
        """What the driver of this tool (named `name`) refuses of its address, options or
        limits, contacting nothing: each problem as its place below the tool's
        (`.options.timeout_s`, or "" for the tool's own), why, and the key path below the tool
        that the file gives it at (`address`; `limits`, `rf_power_w`), which says where.
        Every one at once: each option and each limit is checked alone, so a second is not
        found only once the first is fixed."""
        try:
            self.open(name)
        except (TypeError, ValueError) as refused:
            whole = _why(refused)
        else:
            return []
        bare: dict[str, Any] = {"options": {}, "limits": {}}
        try:  # the address (its form, a link the driver speaks, each device's)
            self.model_copy(update=bare).open(name)
        except (TypeError, ValueError) as refused:
            address = EntryProblem("", _why(refused), ("address",))
            return [address, *self.at_a_stand_in_address()._limit_problems(name)]
        devices = self._driver().devices
        options = {None: self.options} if not devices else self.options
        if devices and not (
            set(options) <= set(devices) and all(isinstance(o, Mapping) for o in options.values())
        ):
            return [EntryProblem("", whole, ("options",))]  # not per device: none can be checked
        problems = [
            EntryProblem(place, why, tuple(place.split(".")[1:]))
            for device, given in options.items()
            for place, why in self._option_problems(name, device, given)
        ]
        problems += self._limit_problems(name)
        return problems or [EntryProblem("", whole, ())]  # options fine alone, not together

    def _limit_problems(self, name: str) -> list[EntryProblem]:
        """What the driver of this tool refuses of each of its limits alone, without its link
        options, as `problems` tells them."""
        problems = []
        for setpoint, bounds in self.limits.items():
            alone = (  # an empty mapping as it is: a tool of one device takes none
                [((setpoint, inner), {setpoint: {inner: each}}) for inner, each in bounds.items()]
                if isinstance(bounds, dict) and bounds
                else [((setpoint,), {setpoint: bounds})]
            )
            for key, limits in alone:  # a device's setpoints each alone too
                try:
                    self.model_copy(update={"options": {}, "limits": limits}).open(name)
                except (TypeError, ValueError) as refused:
                    problems.append(EntryProblem("", _why(refused), ("limits", *key)))
        return problems

    def at_a_stand_in_address(self) -> ToolEntry:
        """This entry at a stand-in address of each link its driver speaks
        (`_stand_in_address`), without its link options: what its limits are checked by
        (`problems`, building the driver, never connecting it) when the station file gives
        its address wrong: of a form no link has (`_sound_entries`), or of a link its driver
        does not speak. The options wait for the address, whose form chooses the link
        that takes them."""
        driver = self._driver()
        devices = driver.devices
        address: str | dict[str, str] = (
            {device: _stand_in_address(link_type) for device, link_type in devices.items()}
            if devices
            else _stand_in_address(driver.link_type)
        )
        return self.model_copy(update={"address": address, "options": {}})

    def _option_problems(
        self, name: str, device: str | None, options: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """Each of `options` (of `device`, None for a tool of one device) that its link does
        not take, or not as given: its place and why."""
        address = self.address if isinstance(self.address, str) else self.address[str(device)]
        link = name if device is None else f"{name}.{device}"
        kind = LINK_KINDS[link_kind(address)]
        place = ".options" if device is None else f".options.{device}"
        problems = []
        for option, value in options.items():
            if option not in kind.options:
                problems.append((f"{place}.{option}", not_an_option(option, kind, link)))
                continue
            try:
                open_link(address, tool=link, **{option: value})
            except (TypeError, ValueError) as refused:
                problems.append((f"{place}.{option}", _why(refused, f"{link} at {address}: ")))
        return problems


class Station(BaseModel):
    """A named set of tools."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The line's name, recorded with every run on it: printable text (no tab or newline).
    name: str = Field(min_length=1, max_length=64, examples=["line-3"])
    #: The tools, by name (a run's records and its batches name them): each a tool entry
    #: (below). A method asks for its tools by role, the role of the tool's kind.
    tools: dict[str, ToolEntry] = Field(
        min_length=1, examples=["{plasma_cleaner: {driver: ..., address: ...}}"]
    )
    #: Process time on this line per second of wall time: 1 on real tools; a simulated line
    #: served faster (`packline sim serve --time-scale 60`) says so: a run on it waits on the
    #: line's time (a hold, a poll interval, a timeout), and its summary gives the line's
    #: process time beside its run clock, which is the controller's wall clock.
    time_scale: float = Field(default=1.0, gt=0, allow_inf_nan=False, examples=[60])
    #: A served simulated line's control socket (`packline sim serve` writes it): `packline
    #: sim fault TOOL FAULT --station FILE` injects a fault through it, and `packline
    #: clear-tool` asks it which faults the tool to clear still suffers (refused while it
    #: suffers one). Absent on real tools.
    control: str | None = Field(default=None, examples=["/tmp/packline-sim-x1y2/control"])
    #: The in-process simulated line of a dry run (set by packline, never written to a file).
    simulated: bool = False

    @field_validator("name")
    @classmethod
    def _printable_name(cls, name: str) -> str:
        """A name printed with every run: printable text (a double-quoted `"C:\\temp\\new"`
        is read by YAML as a tab and a newline, and printed the line's name over two lines)."""
        if not name.isprintable():
            raise ValueError(
                f"{name!r} must be printable text: a tab or newline in it (YAML reads `\\t` "
                "and `\\n` inside double quotes as those) breaks every line that prints it"
            )
        return name

    @staticmethod
    def served_line_name(method: str | None) -> str:
        """The name `packline sim serve` gives its line: `simulated-line`, and with `--method
        METHOD` the line of that method's dry run, `simulated-line-METHOD`."""
        return SIMULATED_LINE_NAME if method is None else f"{SIMULATED_LINE_NAME}-{method}"

    def served_without_method(self, method: str) -> bool:
        """Whether this is a simulated line `packline sim serve` serves (its `control:`
        socket) other than the one it serves for `method` (`--method METHOD`)."""
        return self.control is not None and self.name != self.served_line_name(method)

    # What the station was read from (`station file line.yaml`), named by a refusal of a
    # tool's `limits:` (set by `parse_station`); not a field of the file.
    _source: str = PrivateAttr(default="the station")
    # The line of every key of the file it was read from, by its path (`yaml_lines`, set by
    # `load_station`): a problem found once its tools answer names the line to change.
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    def tools_for_role(self, role: str) -> list[str]:
        """Names of the tools that can play `role`, in file order."""
        return [name for name, entry in self.tools.items() if entry.role == role]

    def to_yaml(self) -> str:
        exclude = {"simulated"} | ({"time_scale"} if self.time_scale == 1.0 else set())
        return yaml.safe_dump(
            self.model_dump(mode="json", exclude=exclude, exclude_none=True), sort_keys=False
        )

    def where(self, *key: str) -> str | None:
        """Where the station file gives `key` (`"tools", "oven", "capacity"`): 'line 9 of
        station file line.yaml'; None for a station not read from a file (a run's recorded
        station, a dry run's line) or a key the file does not give."""
        return _line_of(self._lines, self._source, key)

    def address_at(self, tool: str) -> str | None:
        """Where the station file gives the address of tool `tool`, or of one device of a tool
        of several, as its link names it (`electroplater.supply`): that device's line (`where`)."""
        if tool in self.tools:
            return self.where("tools", tool, "address")
        name, _, device = tool.rpartition(".")
        return self.where("tools", name, "address", device) or self.where("tools", name, "address")

    def swapped(self, found: Mapping[str, str]) -> list[tuple[str, str]]:
        """The pairs of its tools each of which answered as the kind the other's entry drives:
        their addresses swapped in the file. `found`: each tool that answered as another kind
        -> that kind (`WrongTool.found_kind`); the pairs in its order."""
        names = [name for name in found if name in self.tools]
        return [
            (first, second)
            for index, first in enumerate(names)
            for second in names[index + 1 :]
            if found[first] == self.tools[second].kind and found[second] == self.tools[first].kind
        ]

    def open_tool(self, name: str, clock: Clock | None = None) -> Equipment:
        """Build (not connect) the driver for tool `name` over its link."""
        if name not in self.tools:
            raise StationError(
                f"station {self.name}: no tool {name!r}; tools: {', '.join(self.tools)}"
            )
        return self.tools[name].open(name, clock, self._limit_lines(name))

    def _limit_lines(self, tool: str) -> LimitsSource:
        """Where the file narrows each limit of tool `tool`, given the bound's key in its entry
        (`limits.supply.voltage_v`): its line, so that a driver refusing a value at run time
        points at the line to read, as the recipe's check before it does."""

        def line_of(key: str) -> str:
            return self.where("tools", tool, *key.split(".")) or self._source

        return line_of


def build_driver(
    driver: type[Equipment],
    kind: str,
    address: str | Mapping[str, str],
    options: Mapping[str, Any],
    *,
    name: str,
    clock: Clock | None = None,
    limits: StationLimits | None = None,
    limits_source: LimitsSource = unplaced,
    poll_interval_s: float = 1.0,
    **driver_options: Any,
) -> Equipment:
    """Build (not connect) a `driver` (of tool kind `kind`) for the tool `name` at `address`
    over new links, its `limits` set by `limits_source` (a station file); `driver_options` go
    to the driver (a GEM driver's `dictionary`).

    A tool of one device has one address and its link's `options`; a tool of several
    (`driver.devices`) has an address and options per device, named as the driver names them.
    A wrong set of devices, or an address of the wrong kind of link, is a `TypeError` naming it.
    """
    if not driver.devices:
        if not isinstance(address, str):
            raise TypeError(
                f"driver {kind} drives one device: its address is one string, not a mapping "
                f"of {', '.join(address) or 'nothing'}"
            )
        link = _open_device_link(
            driver.link_type, address, options, name=name, speaker=f"driver {kind}", clock=clock
        )
        return driver(
            link,
            name=name,
            limits=limits,
            limits_source=limits_source,
            poll_interval_s=poll_interval_s,
            **driver_options,
        )
    names = ", ".join(driver.devices)
    if isinstance(address, str) or set(address) != set(driver.devices):
        given = "one address" if isinstance(address, str) else ", ".join(address) or "none"
        raise TypeError(
            f"driver {kind} drives a tool of several devices: the address names each of "
            f"{names} (got {given})"
        )
    unknown = sorted(set(options) - set(driver.devices))
    if unknown or not all(isinstance(each, Mapping) for each in options.values()):
        raise TypeError(
            f"driver {kind} drives a tool of several devices: options are given per device "
            f"({names}), each a mapping of link options; got {dict(options)!r}"
        )
    links = {
        device: _open_device_link(
            link_type,
            address[device],
            options.get(device, {}),
            name=f"{name}.{device}",
            speaker=f"driver {kind}'s {device}",
            clock=clock,
        )
        for device, link_type in driver.devices.items()
    }
    primary = links.pop(driver.primary_device)
    return driver(
        primary,
        name=name,
        limits=limits,
        limits_source=limits_source,
        poll_interval_s=poll_interval_s,
        devices=links,
        **driver_options,
    )


def _open_device_link(
    link_type: type[Link],
    address: str,
    options: Mapping[str, Any],
    *,
    name: str,
    speaker: str,
    clock: Clock | None,
) -> Link:
    """The link to one device at `address`, refused if it is not the kind the device speaks."""
    kind = LINK_KINDS[link_kind(address)]
    if not issubclass(kind.link_class, link_type):
        taken = _links_speaking(link_type)
        names = " or ".join(other.name for other in taken)
        raise TypeError(
            f"{speaker} takes a {names} address, but {address} is a {kind.name} address; "
            f"{names} addresses look like "
            + ", ".join(form for other in taken for form in other.address_forms)
        )
    return open_link(address, tool=name, clock=clock, **options)


def _links_speaking(link_type: type[Link]) -> list[LinkKind]:
    """The kinds of link a device whose driver speaks over `link_type` may be reached on."""
    return [kind for kind in LINK_KINDS.values() if issubclass(kind.link_class, link_type)]


def _stand_in_address(link_type: type[Link]) -> str:
    """An address of a link a device whose driver speaks over `link_type` may be reached on
    (the first example of the first such kind), to build its driver by, never to contact."""
    return _links_speaking(link_type)[0].examples[0]


def _why(refused: TypeError | ValueError, prefix: str = "") -> str:
    """What a driver or link refused, for a station file's place of it: a refused setup by
    its problem alone, without the tool's name its message starts with, and another refusal
    without `prefix` (the link's `TOOL at ADDRESS: `), so the file's error names each place
    once."""
    if isinstance(refused, SetupRefused):
        return refused.problem
    return str(refused).removeprefix(prefix)


#: What a station file's refusal of a key calls the part of the file it is in.
_WHOSE: dict[type[BaseModel], str] = {Station: "a station", ToolEntry: "a station tool"}


def _line_of(
    lines: Mapping[tuple[str | int, ...], int], source: str, key: Sequence[str]
) -> str | None:
    """Where a file (`source`) whose keys are on `lines` (`yaml_lines`) gives `key`: 'line 9
    of station file line.yaml'; None for a key it does not give."""
    line = lines.get(tuple(key))
    return None if line is None else f"line {line} of {source}"


def _deepest_given(
    lines: Mapping[tuple[str | int, ...], int], path: Sequence[str]
) -> tuple[int, Sequence[str]] | None:
    """The line of the deepest key of `path` a file whose keys are on `lines` (`yaml_lines`)
    gives, and that key; None where it gives none of them."""
    for end in range(len(path), 0, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line, path[:end]
    return None


def _given_at(lines: Mapping[tuple[str | int, ...], int], source: str, path: Sequence[str]) -> str:
    """What a refusal of the key at `path` of a station file (read from `source`, its keys on
    `lines`) adds to say where the file gives it, by the line of its deepest key the file
    gives (`_deepest_given`): '; the limit is on line 6 of station file line.yaml' for a
    tool's limit (`tools`, `oven`, `limits`, `rf_power_w`), '; `capacity` is on line 9 of
    ...' for another key, '; tool grinder is on line 4 of ...' for a key its tool leaves out
    (a missing `address`); '' for data read from no file, or a key of no line."""
    found = _deepest_given(lines, path)
    if found is None:
        return ""
    given = found[1]
    where = _line_of(lines, source, given)
    if len(path) > 3 and list(path[:3:2]) == ["tools", "limits"]:
        what = "the limit"
    elif len(given) == 2 and given[0] == "tools":
        what = f"tool {given[1]}"
    else:
        what = f"`{given[-1]}`"
    return f"; {what} is on {where}"


def _validation_problems(data: dict[str, Any], error: ValidationError) -> list[_Told]:
    """Each problem pydantic found in station `data`, as its key path and `PATH: why`: any in
    the file's words (`refusal`: a key no station or tool has with the fields it may mean, a
    field left out with an example, a value in `plain_words`), naming the value given; then
    each tool's limit that is no [minimum, maximum], once however many of its items are
    wrong."""
    #: the refusals by their key path, each path's told together (`refusal_lines` merges them)
    refusals: dict[str, list[Refusal]] = {}
    #: each limit refused once, by its key path
    limits: dict[tuple[str, ...], Refusal] = {}
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        if loc[:1] == ["tools"] and loc[2:3] == ["limits"] and len(loc) >= 4:
            found = _limit_refusal(data, loc)
            if found is not None:
                key, limit = found
                limits.setdefault(("tools", loc[1], "limits", *key), limit)
        else:
            found_refusal = refusal(problem, Station, _WHOSE)
            refusals.setdefault(found_refusal.path, []).append(found_refusal)
    told = [
        (tuple(path.split(".")), line)
        for path, each in refusals.items()
        for line in refusal_lines(each)
    ]
    return told + [
        (path, line) for path, limit in limits.items() for line in refusal_lines([limit])
    ]


def _limit_refusal(data: dict[str, Any], loc: list[str]) -> tuple[tuple[str, ...], Refusal] | None:
    """The refusal of the limit pydantic's error at `loc` (`tools.T.limits.KEY...`) is about,
    with its key under the tool's limits (the setpoint's, or the device's and its
    setpoint's), or None when the error is of the other form than the one given: a limit is
    either a setpoint's [minimum, maximum] or a device's mapping of them, and pydantic tries
    both."""
    _, tool, _, key, *within = loc
    given = data["tools"][tool]["limits"][key]
    why = "must be [minimum, maximum] in the setpoint's unit"
    if not isinstance(given, dict):
        if within[:1] and within[0].startswith("dict"):
            return None  # the device form's error of a setpoint's bounds
        if key in ToolEntry.model_fields and key != "limits":
            # a key of the tool's own indented into its limits (`capacity: 4`)
            why += f" (`{key}` is a key of the tool, not a setpoint: indent it as `limits` is)"
        return (key,), Refusal(".".join(loc[:4]), why, given)
    if not within[:1] or not within[0].startswith("dict"):
        return None  # the bounds form's error of a device's mapping
    if len(within) < 2:
        mapping = "must be a mapping of setpoint: [minimum, maximum]"
        return (key,), Refusal(".".join(loc[:4]), mapping, given)
    setpoint = within[1]
    return (key, setpoint), Refusal(".".join([*loc[:4], setpoint]), why, given.get(setpoint))


def parse_station(
    data: object, source: str = "station", lines: Mapping[tuple[str | int, ...], int] | None = None
) -> Station:
    """Validate station data already read from YAML; `StationError` naming `source` and every
    problem of it at once, a line each with its key path: pydantic's of its fields, and what
    the driver of each tool whose entry is right refuses of its address, options or limits,
    each with the line of the file it is on, where `lines` (`yaml_lines` of the file) say it,
    in the order of the file's lines (a trial's had read in the order the checks ran: lines
    14, 26, 8, 20, 38), those of no line after them as they came."""
    if not isinstance(data, dict):
        raise StationError(f"{source}: a station is a mapping with 'name' and 'tools'")
    lines = lines or {}
    station: Station | None = None
    try:
        station = Station.model_validate(data)
    except ValidationError as error:
        told = _validation_problems(data, error)
        entries = _sound_entries(data, error)
    else:
        told, entries = [], station.tools
    for name, entry in entries.items():
        told += [
            (("tools", name, *problem.key), f"tools.{name}{problem.place}: {problem.why}")
            for problem in entry.problems(name)
        ]
    if told or station is None:

        def file_order(problem: _Told) -> tuple[bool, int]:
            given = _deepest_given(lines, problem[0])
            return (True, 0) if given is None else (False, given[0])

        raise StationError(
            "\n".join(
                f"{source}: {text}{_given_at(lines, source, path)}"
                for path, text in sorted(told, key=file_order)
            )
        )
    station._source, station._lines = source, dict(lines)
    return station


#: A problem of a station file: the key path it is about, and `PATH: why`.
_Told = tuple[tuple[str, ...], str]


def _sound_entries(data: dict[str, Any], error: ValidationError) -> dict[str, ToolEntry]:
    """The tool entries of station `data` (which `error` refused) as far as they are right:
    each without the keys `error` refused in it (of its `limits:`, the limits it refused
    alone), if it is a tool entry without them (its driver right), so its driver's problems
    with the rest, its other limits among them, are told at once. An entry whose address is
    refused or left out is taken at a stand-in address without its link options
    (`ToolEntry.at_a_stand_in_address`): its limits are told with its address."""
    refused: dict[str, set[tuple[str, ...]]] = {}  # tool -> its keys refused, by path
    for problem in error.errors():
        loc = [str(part) for part in problem["loc"]]
        if loc[:1] == ["tools"] and len(loc) > 2:
            key = tuple(loc[2:4]) if loc[2] == "limits" else (loc[2],)
            refused.setdefault(loc[1], set()).add(key)
    tools = data.get("tools")
    entries = {}
    for name, entry in tools.items() if isinstance(tools, dict) else ():
        if isinstance(entry, dict):
            keys = refused.get(str(name), set())
            sound = {key: value for key, value in entry.items() if (key,) not in keys}
            if isinstance(limits := sound.get("limits"), dict):
                sound["limits"] = {
                    key: bounds for key, bounds in limits.items() if ("limits", key) not in keys
                }
            with contextlib.suppress(ValidationError):  # not a tool entry without them
                if "address" in sound:
                    entries[str(name)] = ToolEntry.model_validate(sound)
                else:  # any address of a right form makes it an entry, to stand one in for
                    any_address = next(iter(LINK_KINDS.values())).examples[0]
                    found = ToolEntry.model_validate({**sound, "address": any_address})
                    entries[str(name)] = found.at_a_stand_in_address()
    return entries


def load_station(path: str | Path) -> Station:
    """Read and validate a station file."""
    path = Path(path)
    source = f"station file {path}"
    try:
        text = read_text(path, "station file")
        data = parse_yaml(text, source)
    except FileProblem as problem:
        raise StationError(str(problem)) from None
    return parse_station(_dictionaries_beside(data, path.parent), source, yaml_lines(text))


def _dictionaries_beside(data: object, folder: Path) -> object:
    """Station data whose relative dictionary file paths are made absolute against `folder`
    (the station file's): a dictionary file is found beside the station file that names it,
    wherever the command runs, and the run's records name it unambiguously."""
    if not isinstance(data, dict) or not isinstance(tools := data.get("tools"), dict):
        return data
    resolved = {}
    for name, entry in tools.items():
        dictionary = entry.get("dictionary") if isinstance(entry, dict) else None
        if isinstance(dictionary, str) and is_dictionary_file(dictionary):
            entry = {**entry, "dictionary": str(folder / dictionary)}
        resolved[name] = entry
    return {**data, "tools": resolved}
