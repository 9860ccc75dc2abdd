"""The entries of a GEM tool dictionary, validated: variables, events, alarms, commands.

Each entry maps one of the tool's numbers (an SVID, ECID, CEID, ALID or RCMD) and its format,
unit, scale and enumerated values onto the name a role driver uses, and converts values between
the wire (SECS-II items) and the role (`Variable.to_role`, `Variable.to_wire`). `GemDictionary`
is a whole dictionary; reading one from its file and checking it against its role's needs is
`dictionary.py`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from packline.plain_words import one_of
from packline.spelling import did_you_mean

from ..secs.items import Format, Item, item

_ID_FORMATS = ("U1", "U2", "U4", "U8", "I1", "I2", "I4", "I8")
#: Formats whose values read alike.
_KIN = {
    **dict.fromkeys(_ID_FORMATS, "integer"),
    "F4": "float",
    "F8": "float",
    "A": "text",
    "J": "text",
    "B": "binary",
    "BOOLEAN": "boolean",
    "L": "list",
}


#: A value as the role sees it: a number, a flag, text, an enumerated value, or an array.
RoleValue = int | float | bool | str | tuple[Any, ...]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variable(_Entry):
    """A status variable or equipment constant: its id, its item format and how its wire value
    becomes the role's (`scale`: wire = role x scale; `values`: wire value -> role value)."""

    id: int | str = Field(examples=[1010])
    format: str = Field(examples=["U4"])
    unit: str = ""
    scale: float = 1.0
    #: Enumerated values: what the tool sends -> the role's value (its enum's value).
    values: dict[int | str, str] | None = None
    #: The value is an array (every element), not one element.
    array: bool = False
    #: The tool may have no value (nothing measured: the saw's kerf of a cut that cut no line):
    #: it sends an item of the format with no element, which reads as None.
    absent: bool = False
    #: An equipment constant's default (S2F29's ECDEF) where the tool powers up with none set
    #: (None: the value it powers up with is its default).
    default: float | str | None = None
    doc: str = ""

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        formats = [f.name for f in Format if f is not Format.L]
        if value.upper() not in formats:
            raise ValueError(
                f"{one_of(value, formats)} (a SECS-II item format of a value), got {value!r}"
            )
        return value.upper()

    @field_validator("scale")
    @classmethod
    def _finite_scale(cls, value: float) -> float:
        if not math.isfinite(value) or value == 0:
            raise ValueError(f"scale must be a finite non-zero number, got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Variable:
        if self.values is not None and self.scale != 1.0:
            raise ValueError("an enumerated value (values:) takes no scale")
        if self.values is not None and len(set(self.values.values())) != len(self.values):
            raise ValueError("values: two wire values map to the same role value")
        if self.absent and (self.array or self.format in ("A", "J", "B")):
            raise ValueError(
                "absent: only a number may be absent (an item of no element): an empty array "
                "or text is a value"
            )
        return self

    @cached_property
    def item_format(self) -> Format:
        """The declared format as the codec's `Format`."""
        return Format[self.format]

    def to_role(self, value: Item) -> Any:
        """The role's value of wire item `value`; ValueError saying what does not fit.

        A value of a kindred format is taken (any integer format for an integer, an integer
        for a float, `J` for `A`, and a number written as text, as secsgem sends a float
        parameter): tools and hosts in the field differ in what they send. So is an array sent
        as a list of one-element items (`_list_to_role`).
        """
        if value.format is Format.L and (self.array or not len(value)):
            return self._list_to_role(value)
        if value.format is not self.item_format:  # the common case, the declared format, skips this
            kin, got = _KIN[self.format], _KIN[value.format.name]
            if kin in ("integer", "float") and got == "text":
                return self._element_to_role(_number(str(value.value), kin == "integer"))
            if got != kin and not (kin == "float" and got == "integer"):
                raise ValueError(f"expected an {self.format} item, got {value.format.name}")
        if self.array:
            elements = value.value
            if isinstance(elements, str | bytes):
                raise ValueError(f"an {self.format} item is not an array")
            return tuple(self._element_to_role(element) for element in elements)
        if self.absent and not value.value:
            return None
        return self._element_to_role(value.scalar)

    def _list_to_role(self, value: Item) -> tuple[Any, ...] | None:
        """An array sent as a list (`L`) of one-element items, as many tools send a list-valued
        variable (E30's AlarmsSet, the ALIDs set): each item read as an element, an empty list
        as no element (no alarm set), never as a variable the tool lacks. An empty list of a
        number that may be `absent` is its None; of any other variable, a ValueError saying
        it is E30's answer for a variable the tool does not know (`to_role` refuses a list
        that is not empty of a variable that is not an array as any item not of its format)."""
        if not self.array:  # an empty list
            if self.absent:
                return None
            raise ValueError(
                "an empty list, E30's answer for a variable the tool does not know "
                "(is the dictionary this tool's?)"
            )
        element = self.model_copy(update={"array": False})
        elements = []
        for position, each in enumerate(cast("tuple[Item, ...]", value.value)):
            try:
                elements.append(element.to_role(each))
            except ValueError as why:
                raise ValueError(f"element {position} of the list: {why}") from None
        return tuple(elements)

    def _element_to_role(self, raw: object) -> Any:
        if self.values is not None:
            key = raw.decode("latin-1") if isinstance(raw, bytes) else raw
            if key not in self.values:
                raise ValueError(f"{raw!r} is none of the values {sorted(map(str, self.values))}")
            return self.values[key]
        if isinstance(raw, int | float) and not isinstance(raw, bool) and self.scale != 1.0:
            return raw / self.scale
        return raw

    def to_wire(self, value: Any) -> Item:
        """The wire item of role value `value` (enumerations and scale applied; None, of a
        variable that may be `absent`, as an item with no element)."""
        if value is None and self.absent:
            return item(self.format, [])
        elements = list(value) if self.array else [value]
        wire = [self._element_to_wire(element) for element in elements]
        if self.format in ("A", "J", "B"):
            return item(self.format, wire[0])
        return item(self.format, wire)

    def _element_to_wire(self, value: Any) -> Any:
        if self.values is not None:
            for wire, role in self.values.items():
                if role == str(value):
                    return wire
            raise ValueError(f"{value!r} is none of the values {sorted(self.values.values())}")
        if isinstance(value, float | int) and not isinstance(value, bool) and self.scale != 1.0:
            value = value * self.scale
        if self.format[0] in "UI" and isinstance(value, float):
            if value != round(value):
                raise ValueError(f"{value!r} is not a whole number ({self.format})")
            value = round(value)
        return value


def _number(text: str, whole: bool) -> int | float:
    """A number written as text (`"30.0"`), whole when the format is; ValueError otherwise."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got the text {text!r}") from None
    if whole:
        if number != int(number):
            raise ValueError(f"{text!r} is not a whole number")
        return int(number)
    return number


class Event(_Entry):
    """A collection event: its CEID and the status variables its report carries (by name)."""

    id: int | str = Field(examples=[3001])
    report: list[str] = Field(default_factory=list)
    doc: str = ""


class AlarmEntry(_Entry):
    """An alarm: its ALID (the key is the role's alarm code, from the kind's spec)."""

    id: int | str = Field(examples=[4001])
    text: str = ""


class Parameter(_Entry):
    """A remote command parameter: its CPNAME, how its value goes on the wire and the unit of
    that value (its page states it; empty for an id, an index, a word or a flag)."""

    name: str = Field(examples=["WAFERID"])
    format: str = "A"
    unit: str = ""
    scale: float = 1.0
    values: dict[int | str, str] | None = None
    array: bool = False

    @property
    def variable(self) -> Variable:
        """The parameter's value rules, as a variable's."""
        return Variable(
            id=self.name,
            format=self.format,
            unit=self.unit,
            scale=self.scale,
            values=self.values,
            array=self.array,
        )


class Command(_Entry):
    """A remote command: its RCMD and its parameters, by the role's names."""

    rcmd: str = Field(min_length=1, examples=["START"])
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    doc: str = ""


class TraceCapacity(_Entry):
    """What the tool's trace data collection (S2F23, S6F1) takes: how many traces at once, how
    many status variables each, and its shortest sample period. The host driver refuses more
    before sending; the simulated equipment refuses it with TIAACK 2, 1 and 3."""

    max_traces: int = Field(default=4, ge=1)
    max_variables: int = Field(default=16, ge=1)
    min_period_s: float = Field(default=0.1, ge=0.01)


#: The status variables the equipment answers for its E40 process jobs: the job whose state
#: changed last and that state (PRJOBSTATE), the report of the job state event.
PROCESS_JOB_VARIABLES = ("process_job_id", "process_job_state")


class ProcessJobs(_Entry):
    """How the tool runs E40 process jobs (S16F11 create, S16F5 command, S16F17 dequeue,
    S16F19 list): the remote command that processes a job's material (its parameters, and the
    equipment constants, are the job's recipe variables), the collection event that ends it,
    the status variable that names the substrate on the tool, and the collection event that
    reports each job state change (its report: `process_job_id`, `process_job_state`)."""

    command: str = Field(examples=["start"])
    ended: str = Field(examples=["run_ended"])
    material: str = Field(examples=["wafer_id"])
    state_changed: str = Field(examples=["process_job_state_changed"])
    max_jobs: int = Field(default=4, ge=1)


class Identity(_Entry):
    """What the tool's S1F13 does not say (the vendor), and the MDLN it must report."""

    vendor: str = Field(min_length=1, examples=["packline"])
    model: str = Field(min_length=1, examples=["WB-1"])


class GemDictionary(_Entry):
    """One GEM tool dictionary (see the module docstring for the file's form)."""

    name: str = ""
    kind: str = Field(examples=["wire_bonder"])
    doc: str = ""
    identity: Identity = Field(examples=["{vendor: packline, model: WB-1}"])
    id_format: str = "U4"
    status_variables: dict[str, Variable] = Field(default_factory=dict)
    equipment_constants: dict[str, Variable] = Field(default_factory=dict)
    collection_events: dict[str, Event] = Field(default_factory=dict)
    alarms: dict[str, AlarmEntry] = Field(default_factory=dict)
    remote_commands: dict[str, Command] = Field(default_factory=dict)
    trace: TraceCapacity = Field(default_factory=TraceCapacity)
    process_jobs: ProcessJobs | None = None

    @field_validator("id_format")
    @classmethod
    def _integer_ids(cls, value: str) -> str:
        if value.upper() not in _ID_FORMATS:
            raise ValueError(f"{one_of(value, _ID_FORMATS)}, got {value!r}")
        return value.upper()

    @model_validator(mode="after")
    def _ids_and_reports(self) -> GemDictionary:
        for section in ("status_variables", "equipment_constants", "collection_events", "alarms"):
            seen: dict[int | str, str] = {}
            for name, entry in getattr(self, section).items():
                if entry.id in seen:
                    raise ValueError(
                        f"{section}: {name} and {seen[entry.id]} have the same id {entry.id}"
                    )
                seen[entry.id] = name
        for name, event in self.collection_events.items():
            unknown = [sv for sv in event.report if sv not in self.status_variables]
            if unknown:
                raise ValueError(
                    f"collection_events.{name}.report names "
                    + ", ".join(sv + did_you_mean(sv, self.status_variables) for sv in unknown)
                    + ", not among the status_variables"
                )
        jobs = self.process_jobs
        if jobs is not None:
            known: tuple[tuple[str, str, Mapping[str, Any]], ...] = (
                ("command", jobs.command, self.remote_commands),
                ("ended", jobs.ended, self.collection_events),
                ("material", jobs.material, self.status_variables),
                ("state_changed", jobs.state_changed, self.collection_events),
            )
            for key, wanted, entries in known:
                if wanted not in entries:
                    raise ValueError(f"process_jobs.{key}: no {wanted!r} in this dictionary")
            report = self.collection_events[jobs.state_changed].report
            if list(PROCESS_JOB_VARIABLES) != report[:2]:
                raise ValueError(
                    f"process_jobs.state_changed: the report of {jobs.state_changed} must start "
                    f"with {', '.join(PROCESS_JOB_VARIABLES)}"
                )
        return self

    @property
    def alarm_codes(self) -> dict[int | str, str]:
        """The role's alarm code of each ALID."""
        return {alarm.id: code for code, alarm in self.alarms.items()}

    @property
    def events_by_id(self) -> dict[int | str, str]:
        """The dictionary's name of each CEID."""
        return {event.id: name for name, event in self.collection_events.items()}
