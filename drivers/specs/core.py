"""The tool spec: one declaration of a tool's contract, read by everything that needs it.

A tool's spec says, once, what the tool is and what it understands: its identity, the status
it reports, the setpoints it accepts (their unit, the tool's own machine range and the
driver's default process limit), the commands it runs (their parameters, the phases they are
accepted in, the interlocks that guard them), the replies of its queries that are one of the
role's results (`Reply`, field by field), its alarms, its interlocks and the reasons it gives
for a refusal. The driver, the simulated tool, the protocol page's tables, the recipe's
limit check and the conformance tests all read it; only the hand-written byte-level tests
restate it, on purpose, as the independent oracle.

The types here are family-neutral. Each protocol family (Modbus PLC, SCPI, ASCII host link,
and later SECS/GEM) binds them to the wire by subclassing an entry and adding its wire fields
(a register address and scale, a SCPI header, a command word, an SVID), so the binding of a
fact sits beside the fact. Every entry is keyword-only, so a family's subclass can add fields
with or without defaults.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ..equipment import Limit

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class Range:
    """A closed interval of values in one unit."""

    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if self.minimum > self.maximum:
            raise ValueError(f"range minimum {self.minimum} is above maximum {self.maximum}")

    def contains(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum

    def covers(self, other: Range) -> bool:
        return self.minimum <= other.minimum and other.maximum <= self.maximum

    def __str__(self) -> str:
        """`0.05-10`; a whole bound in full (`0-1000000000`, a 32-bit register's, not 1e+09)."""
        return "-".join(
            f"{bound:.0f}" if bound == int(bound) else f"{bound:g}"
            for bound in (self.minimum, self.maximum)
        )


@dataclass(frozen=True, kw_only=True)
class Setpoint:
    """A value the driver sends to the tool.

    `name` carries its unit (`temperature_c`) and is the key of the driver's limits, of a
    station file's `limits:` and of a recipe field's `Feeds`. `machine_range` is what the tool
    itself accepts (beyond it the tool refuses); `process_limit` is the driver's default limit,
    inside the machine range (the process window the product can take); it defaults to the
    machine range.
    """

    name: str
    unit: str
    machine_range: Range
    process_limit: Range | None = None
    #: Only whole numbers are accepted (a count, a code).
    integer: bool = False
    doc: str = ""
    #: What sets the process limit's minimum where the process does not (an oven's room)
    floor: str = ""

    def __post_init__(self) -> None:
        if self.process_limit is not None and not self.machine_range.covers(self.process_limit):
            raise ValueError(
                f"setpoint {self.name}: process limit {self.process_limit} {self.unit} is not "
                f"inside the machine range {self.machine_range} {self.unit}"
            )

    @property
    def meaning(self) -> str:
        """What a page says of it: its doc (a family's setpoint adds what its wire does to it)."""
        return self.doc

    @property
    def limit(self) -> Limit:
        """The driver's default limit of this setpoint."""
        window = self.process_limit or self.machine_range
        return Limit(window.minimum, window.maximum, self.unit, self.integer, floor=self.floor)


@dataclass(frozen=True, kw_only=True)
class StatusVariable:
    """A value the tool reports. `trace` names the process trace it is recorded as, if any."""

    name: str
    unit: str = ""
    doc: str = ""
    trace: str | None = None


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """A parameter of a command that is not a setpoint (a wafer id, a slot, a mode)."""

    name: str
    doc: str = ""


def number_form(decimals: int) -> str:
    """How a page writes a number a tool sends with `decimals` decimals: `<0.00>` (`<0>` for a
    whole number), the form a reply's declaration renders in place of an example value."""
    return "<0" + ("." + "0" * decimals if decimals else "") + ">"


@dataclass(frozen=True, kw_only=True)
class ReplyField:
    """A value of a query's reply that is one field of a role's result: read into the field
    `name` as `kind` (`int`, `float`, `str`, `bool`, or an enum of the page's tokens), a float
    written with `decimals` decimals.

    `absent_when` says when the tool has no value for it, as the page says it (`the spindle is
    stopped`): then the tool writes its family's word for none (`no_value`) and the result's
    field is None, where a made-up number would read as a measurement; empty, the field always
    has a value. `doc` says what the value is, with its unit (the page's replies table gives
    it).

    On a GEM face of the tool the field is the status variable `gem_variable`, by default its
    reply's `gem_prefix` + `name` (a dictionary older than the reply's declaration may name it
    otherwise), or with `gem_constant` the equipment constant of that name (a setting the
    face sets and reads as a constant, as the saw's dressing interval).

    How a value is written on the wire (where it stands in the reply, a token's spelling, the
    word for none) is the family's: its subclass (`HostReplyField`, `ScpiReplyField`)."""

    name: str
    kind: type[Any] = str
    decimals: int = 1
    absent_when: str = ""
    doc: str = ""
    gem_variable: str | None = None
    gem_constant: bool = False

    #: What the tool writes for a field it has no value of (`absent_when`).
    no_value: ClassVar[str]

    def token(self, member: Enum) -> str:
        """How the tool writes a member of an enumerated `kind`: by its value."""
        return str(member.value)

    def number_text(self, value: float) -> str:
        """A float as the tool writes it: to `decimals`."""
        return format(value, f".{self.decimals}f")

    def wire_form(self, value: object) -> str:
        """`value` as the tool writes it: a float by `number_text`, a flag as `1` or `0`, a
        token by `token`, None as `no_value` (a ValueError for a field that always has one)."""
        if value is None:
            if not self.absent_when:
                raise ValueError(f"reply field {self.name} always has a value, got None")
            return self.no_value
        if self.kind is float:
            return self.number_text(float(value))  # type: ignore[arg-type]
        if self.kind is bool:
            return "1" if value else "0"
        return self.token(value) if isinstance(value, Enum) else str(value)

    def is_no_value(self, text: str) -> bool:
        """Whether `text` is the word for none of a field that may have none."""
        return bool(self.absent_when) and text == self.no_value

    def read(self, text: str) -> Any:
        """The value `text` writes, as its kind: a token as its member, a flag `1` or `0` as
        True or False, a number as its kind; None for `no_value` of a field that may have none
        (`is_no_value`). For text that is none of these a ValueError saying why (`is not a
        number`), which its caller words with the field and the text."""
        if self.is_no_value(text):
            return None
        kind = self.kind
        if issubclass(kind, Enum):
            for member in kind:
                if self.token(member) == text:
                    return member
            raise ValueError("is not on the protocol page")
        if kind is bool:
            if text not in ("0", "1"):
                raise ValueError("not 0/1")
            return text == "1"
        try:
            return kind(text)
        except ValueError:
            raise ValueError("is not an integer" if kind is int else "is not a number") from None

    @property
    def reads_as(self) -> str:
        """What the value is, as the page says it: its kind, and when it has none."""
        if self.absent_when:
            return f"{self.kind_text}; `{self.no_value}` when {self.absent_when}"
        return self.kind_text

    @property
    def kind_text(self) -> str:
        """The value's kind as the page says it."""
        if issubclass(self.kind, Enum):
            return ", ".join(f"`{self.token(member)}`" for member in self.kind)
        if self.kind is float:
            return f"number, {self.decimals} decimal" + "s" * (self.decimals != 1)
        if self.kind is bool:
            return "`1` (yes) or `0` (no)"
        return "whole number" if self.kind is int else "text"


#: A role's result a `Reply` is read into.
R = TypeVar("R", bound="DataclassInstance")
#: The reply fields of a family.
F = TypeVar("F", bound=ReplyField)


@dataclass(frozen=True, kw_only=True)
class Reply(Generic[R, F]):
    """A query whose reply is one result of the role (`result`), its `fields` in the result's
    field order, stated once for the driver that reads them, the simulated tool that writes
    them, the page's tables and a GEM face of the tool; the family's subclass says how they
    stand on the wire (`HostReply`: `KEY=value` words; `ScpiReply`: values in order). `query`
    is the query as the page writes it. The tool answers it with no result (`NONE`) while it
    has none, unless it always has one (`answers_none` False).

    A GEM face of the tool reports each field as a status variable (or a constant:
    `ReplyField.gem_variable`) the GEM dictionary (`drivers/specs/gem/<kind>.yaml`) gives its
    id and format; a tool with no GEM face has no `gem_prefix` (None), and its rows of the
    page's table no GEM status variable."""

    query: str
    result: type[R]
    fields: tuple[F, ...]
    gem_prefix: str | None = None
    answers_none: bool = True

    def __post_init__(self) -> None:
        names = [field.name for field in self.fields]
        declared = [field.name for field in dataclasses.fields(self.result)]
        if names != declared:
            raise ValueError(
                f"reply of {self.query}: fields {names} are not {self.result.__name__}'s "
                f"{declared}, in its order"
            )

    def gem_name(self, field: ReplyField) -> str:
        """`field`'s status variable (or constant) on the GEM face; a ValueError for a reply of
        a tool with no GEM face."""
        if self.gem_prefix is None:
            raise ValueError(f"reply of {self.query}: the tool has no GEM face")
        return field.gem_variable or self.gem_prefix + field.name

    @property
    def gem_variables(self) -> tuple[str, ...]:
        """The GEM face's status variables of the fields, in their order (its constants
        left out: `gem_constants`)."""
        return tuple(self.gem_name(field) for field in self.fields if not field.gem_constant)

    @property
    def gem_constants(self) -> tuple[str, ...]:
        """The GEM face's equipment constants among the fields, in their order."""
        return tuple(self.gem_name(field) for field in self.fields if field.gem_constant)

    def from_status_variables(self, values: Mapping[str, Any]) -> R | None:
        """The result in a GEM face's status variables and constants `values` (by `gem_name`),
        each read as its field's kind (None, of a field that may have no value, as None); None
        before there is one (its first field, the workpiece's id, empty) of a reply that
        `answers_none`."""
        if self.answers_none and not values[self.gem_name(self.fields[0])]:
            return None

        def value(field: ReplyField) -> object:
            raw = values[self.gem_name(field)]
            return None if raw is None and field.absent_when else field.kind(raw)

        return self.result(**{field.name: value(field) for field in self.fields})


#: What a rework load is for, on every protocol that has one (the host-link tools' `RELOAD`,
#: the saw's `REMOUNT`, the PLC maps' `RELOAD_WAFER`, the SCPI tools' `WAFer:RELoad`, the GEM
#: faces' `load` with `rework`); a driver sends it for the wafers `Equipment.reloading` names.
RELOAD_DOC = (
    "takes a wafer this tool processed last on purpose (an operator's rework or release, or "
    "a resumed run replaying the stage its recovery cut off), which the plain load refuses"
)


@dataclass(frozen=True, kw_only=True)
class Command:
    """An action the tool runs.

    `parameters` names setpoints or `Parameter`s it carries; `allowed_in` the tool phases (as
    the tool names them) in which it is accepted, empty meaning always; `interlocks` those
    that must be closed before it is accepted.
    """

    name: str
    doc: str = ""
    parameters: tuple[str, ...] = ()
    allowed_in: tuple[str, ...] = ()
    interlocks: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """An alarm the tool raises: its code on the wire and what it means."""

    code: str
    text: str


class Made(Enum):
    """What makes (closes) an interlock, and so whether it must be made already at rest.

    A step makes most of them as it goes: a door or a lid closes and a chamber pumps down to
    its base pressure as the tool is loaded, a chuck's vacuum holds the wafer put on it, a
    permissive follows the door; open at rest, they are no fault. A supply or utility the line
    gives the tool (process gas, N2, cooling water, air, exhaust, a bath at its level, the
    balls or wire it uses up), or a set-up an operator makes before a lot (a stencil fitted
    and clamped, an exposure lamp lit), no step makes: open at rest, a lot would hold at its
    first step that needs it, so `packline station check` calls the tool not ready. The value
    is what a protocol page's interlock table and the check say of it.
    """

    STEP = "by a step"
    SUPPLY = "at rest: a supply no step makes"
    SETUP = "at rest: a set-up no step makes"

    @property
    def at_rest(self) -> bool:
        """Must be made before a lot, at rest."""
        return self is not Made.STEP


@dataclass(frozen=True, kw_only=True)
class Interlock:
    """A safety condition the tool reports; closed (true) means safe to proceed. `made` says
    what closes it (every declaration says it, there is no default: whether an interlock open
    at rest stops a lot is a fact of the tool, not of its family)."""

    name: str
    made: Made
    doc: str = ""


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """A reason the tool gives for refusing a command or a value."""

    code: int | str
    text: str


@dataclass(frozen=True, kw_only=True)
class MeasurementPoint:
    """A point on a wafer a tool's metrology measures: on a ring `radius_share` of the wafer's
    radius out from its centre, at `angle_deg` counter-clockwise from the +x axis of the
    wafer's site map (the centre is share 0), so one declaration fits every wafer size."""

    radius_share: float
    angle_deg: float

    def __post_init__(self) -> None:
        if not 0 <= self.radius_share < 1:
            raise ValueError(
                f"measurement point radius_share {self.radius_share:g} must be at least 0 and "
                "below 1 (on the wafer)"
            )

    def position_mm(self, radius_mm: float) -> tuple[float, float]:
        """Where the point is on a wafer of `radius_mm`, mm from its centre (x, y)."""
        angle = math.radians(self.angle_deg)
        distance_mm = self.radius_share * radius_mm
        return distance_mm * math.cos(angle), distance_mm * math.sin(angle)


@dataclass(frozen=True, kw_only=True)
class ExpectedIdentity:
    """Who the tool says it is, as far as the spec fixes it (the serial number varies).

    `other_models` are further models of the same kind that answer with their own model name
    (the CO2 sources of the laser). A driver refuses to drive a tool whose vendor and model are
    those of another registered kind (`registry.kind_of_identity`).
    """

    vendor: str
    model: str
    firmware: str = ""
    other_models: tuple[str, ...] = ()

    def matches(self, vendor: str, model: str) -> bool:
        return vendor == self.vendor and model in (self.model, *self.other_models)


E = TypeVar("E")


def _by_key(entries: Iterable[E], key: str, what: str, tool: str) -> dict[str, E]:
    table: dict[str, E] = {}
    for entry in entries:
        name = str(getattr(entry, key))
        if name in table:
            raise ValueError(f"spec {tool}: {what} {name!r} is declared twice")
        table[name] = entry
    return table


W = TypeVar("W")


@dataclass(frozen=True, kw_only=True)
class ToolSpec(Generic[W]):
    """One tool kind's contract, bound to one protocol family.

    `wire` holds what the family needs beyond the entries (a transport, framing, fixed
    blocks); the entries themselves are the family's subclasses of the types above. A spec
    that names an undeclared setpoint, parameter or interlock, or declares a name twice, is
    refused when it is built.
    """

    kind: str
    role: str
    family: str
    identity: ExpectedIdentity
    doc: str = ""
    setpoints: tuple[Setpoint, ...] = ()
    status: tuple[StatusVariable, ...] = ()
    commands: tuple[Command, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    interlocks: tuple[Interlock, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    #: where the tool's own metrology measures a wafer after its process (none: it has none)
    measurement_points: tuple[MeasurementPoint, ...] = ()
    wire: W | None = None

    def __post_init__(self) -> None:
        _by_key(self.refusals, "code", "refusal", self.kind)
        carried = {*self.setpoint_by_name, *self.parameter_by_name}
        for command in self.command_by_name.values():
            for name in command.parameters:
                if name not in carried:
                    raise ValueError(
                        f"spec {self.kind}: command {command.name} carries {name!r}, which is "
                        "neither a setpoint nor a parameter of the spec"
                    )
            for name in command.interlocks:
                if name not in self.interlock_by_name:
                    raise ValueError(
                        f"spec {self.kind}: command {command.name} is guarded by interlock "
                        f"{name!r}, which the spec does not declare"
                    )
        self.alarm_by_code  # noqa: B018 (refuses a code declared twice)
        self.status_by_name  # noqa: B018

    @cached_property
    def setpoint_by_name(self) -> dict[str, Setpoint]:
        return _by_key(self.setpoints, "name", "setpoint", self.kind)

    @cached_property
    def status_by_name(self) -> dict[str, StatusVariable]:
        return _by_key(self.status, "name", "status variable", self.kind)

    @cached_property
    def parameter_by_name(self) -> dict[str, Parameter]:
        return _by_key(self.parameters, "name", "parameter", self.kind)

    @cached_property
    def command_by_name(self) -> dict[str, Command]:
        return _by_key(self.commands, "name", "command", self.kind)

    @cached_property
    def alarm_by_code(self) -> dict[str, Alarm]:
        return _by_key(self.alarms, "code", "alarm", self.kind)

    @cached_property
    def interlock_by_name(self) -> dict[str, Interlock]:
        return _by_key(self.interlocks, "name", "interlock", self.kind)

    def limits(self) -> dict[str, Limit]:
        """The driver's default limits: every setpoint's process limit, by name."""
        return {setpoint.name: setpoint.limit for setpoint in self.setpoints}

    @property
    def alarm_text(self) -> dict[str, str]:
        """Alarm code -> what it means."""
        return {alarm.code: alarm.text for alarm in self.alarms}

    @property
    def interlock_names(self) -> tuple[str, ...]:
        return tuple(interlock.name for interlock in self.interlocks)
