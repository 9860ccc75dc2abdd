"""GEM tool dictionaries: which SVID, ECID, CEID, ALID and RCMD of a GEM tool carry what a role
needs, as data (`drivers/specs/gem/<name>.yaml`, one page each in docs/protocols/).

A GEM tool says everything by number: status variable 1010 is its state, constant 2003 its bond
force, event 3001 the end of a run. The dictionary maps those numbers (and their formats, units,
scales and enumerated values) onto the names the role driver uses, so that a real tool of
another vendor is configured by writing its dictionary, not code. The GEM role drivers
(`gem_driver` of each kind in `drivers/registry.py`) declare what they need of a dictionary
(`GemNeeds`); loading a dictionary checks it has all of it, and every problem names the file,
the key path and what is wrong. The simulated GEM tools are configured by the same file.

A dictionary::

    kind: wire_bonder              # the tool kind whose role the tool plays
    doc: the packline WB-1 stud bumper on GEM
    identity: {vendor: packline, model: WB-1}   # model: the MDLN the tool reports
    id_format: U4                  # SVIDs, ECIDs, CEIDs, RPTIDs, ALIDs on the wire
    status_variables:
      state: {id: 1010, format: U1, values: {0: idle, 1: heating, 2: bumping, 3: fault}}
      stage_temperature_c: {id: 1015, format: F4, unit: degC}
    equipment_constants:
      bond_force_gf: {id: 2003, format: F4, unit: cN, scale: 0.980665}   # cN = gf x scale
    collection_events:
      run_ended: {id: 3001, report: [state, bumps_done, elapsed_s, last_result]}
    alarms:
      WIRE_BREAK: {id: 4001}       # the role's alarm code (the kind's spec) -> ALID
    remote_commands:
      load: {rcmd: LOAD, parameters: {wafer_id: {name: WAFERID, format: A}}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from packline.files import FileProblem, parse_yaml, read_text

from ..equipment.states import E10State
from ..errors import PacklineError
from ..secs.items import Format, Item, item

#: Where the dictionaries are: `drivers/specs/gem/<name>.yaml` (package data).
DICTIONARY_PACKAGE = "packline.drivers"
DICTIONARY_FOLDER = ("specs", "gem")
#: A station's `dictionary:` ending so is a path to a user's dictionary file, not a shipped name.
DICTIONARY_SUFFIXES = (".yaml", ".yml")

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

#: The status variable that, when a dictionary names it, carries the tool's own SEMI E10 state.
E10_STATE = "e10_state"

#: A value as the role sees it: a number, a flag, text, an enumerated value, or an array.
RoleValue = int | float | bool | str | tuple[Any, ...]


class DictionaryError(PacklineError):
    """A GEM tool dictionary is wrong or lacks what its role needs; nothing was contacted."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variable(_Entry):
    """A status variable or equipment constant: its id, its item format and how its wire value
    becomes the role's (`scale`: wire = role x scale; `values`: wire value -> role value)."""

    id: int | str
    format: str
    unit: str = ""
    scale: float = 1.0
    #: Enumerated values: what the tool sends -> the role's value (its enum's value).
    values: dict[int | str, str] | None = None
    #: The value is an array (every element), not one element.
    array: bool = False
    doc: str = ""

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value.upper() not in Format.__members__ or value.upper() == "L":
            raise ValueError(
                f"format {value!r} is not a SECS-II item format of a value "
                f"({', '.join(f.name for f in Format if f is not Format.L)})"
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
        return self

    @cached_property
    def item_format(self) -> Format:
        """The declared format as the codec's `Format`."""
        return Format[self.format]

    def to_role(self, value: Item) -> Any:
        """The role's value of wire item `value`; ValueError saying what does not fit.

        A value of a kindred format is taken (any integer format for an integer, an integer
        for a float, `J` for `A`, and a number written as text, as secsgem sends a float
        parameter): tools and hosts in the field differ in what they send.
        """
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
        return self._element_to_role(value.scalar)

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
        """The wire item of role value `value` (enumerations and scale applied)."""
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

    id: int | str
    report: list[str] = Field(default_factory=list)
    doc: str = ""


class AlarmEntry(_Entry):
    """An alarm: its ALID (the key is the role's alarm code, from the kind's spec)."""

    id: int | str
    text: str = ""


class Parameter(_Entry):
    """A remote command parameter: its CPNAME and how its value goes on the wire."""

    name: str
    format: str = "A"
    scale: float = 1.0
    values: dict[int | str, str] | None = None
    array: bool = False

    @property
    def variable(self) -> Variable:
        """The parameter's value rules, as a variable's."""
        return Variable(
            id=self.name, format=self.format, scale=self.scale, values=self.values, array=self.array
        )


class Command(_Entry):
    """A remote command: its RCMD and its parameters, by the role's names."""

    rcmd: str = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    doc: str = ""


class Identity(_Entry):
    """What the tool's S1F13 does not say (the vendor), and the MDLN it must report."""

    vendor: str = Field(min_length=1)
    model: str = Field(min_length=1)


class GemDictionary(_Entry):
    """One GEM tool dictionary (see the module docstring for the file's form)."""

    name: str = ""
    kind: str
    doc: str = ""
    identity: Identity
    id_format: str = "U4"
    status_variables: dict[str, Variable] = Field(default_factory=dict)
    equipment_constants: dict[str, Variable] = Field(default_factory=dict)
    collection_events: dict[str, Event] = Field(default_factory=dict)
    alarms: dict[str, AlarmEntry] = Field(default_factory=dict)
    remote_commands: dict[str, Command] = Field(default_factory=dict)

    @field_validator("id_format")
    @classmethod
    def _integer_ids(cls, value: str) -> str:
        if value.upper() not in _ID_FORMATS:
            raise ValueError(f"id_format must be one of {', '.join(_ID_FORMATS)}, got {value!r}")
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
                    f"collection_events.{name}.report names {', '.join(unknown)}, not among "
                    "the status_variables"
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


@dataclass(frozen=True)
class GemNeeds:
    """What a GEM role driver needs of a dictionary, by section and name."""

    status_variables: tuple[str, ...] = ()
    equipment_constants: tuple[str, ...] = ()
    collection_events: tuple[str, ...] = ()
    remote_commands: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def problems(self, dictionary: GemDictionary) -> list[str]:
        """Every need `dictionary` does not meet, as `section.name: what is missing`."""
        found: list[str] = []
        for section in ("status_variables", "equipment_constants", "collection_events"):
            have = getattr(dictionary, section)
            found += [
                f"{section}.{name}: missing" for name in getattr(self, section) if name not in have
            ]
        for command, parameters in self.remote_commands.items():
            entry = dictionary.remote_commands.get(command)
            if entry is None:
                found.append(f"remote_commands.{command}: missing")
                continue
            found += [
                f"remote_commands.{command}.parameters.{name}: missing"
                for name in parameters
                if name not in entry.parameters
            ]
        return found


def dictionary_names() -> list[str]:
    """The dictionaries packline ships (`drivers/specs/gem/*.yaml`), by name."""
    folder = resources.files(DICTIONARY_PACKAGE).joinpath(*DICTIONARY_FOLDER)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def parse_dictionary(data: object, source: str, name: str = "") -> GemDictionary:
    """Validate dictionary data read from YAML, and check it against its role's needs."""
    from ..registry import TOOL_KINDS  # the registry loads the GEM drivers

    if not isinstance(data, dict):
        raise DictionaryError(f"{source}: a GEM dictionary is a mapping with kind, identity, ...")
    try:
        dictionary = GemDictionary.model_validate({**data, "name": name or data.get("kind", "")})
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            path = ".".join(str(part) for part in problem["loc"]) or "(top level)"
            lines.append(f"{source}: {path}: {problem['msg'].removeprefix('Value error, ')}")
        raise DictionaryError("\n".join(lines)) from None
    if dictionary.kind not in TOOL_KINDS:
        raise DictionaryError(
            f"{source}: kind: unknown tool kind {dictionary.kind!r}; known: {', '.join(TOOL_KINDS)}"
        )
    try:
        driver = TOOL_KINDS[dictionary.kind].load_gem_driver()
    except KeyError as error:
        raise DictionaryError(f"{source}: kind: {error.args[0]}") from None
    spec_alarms = TOOL_KINDS[dictionary.kind].load_spec().alarm_by_code
    e10 = dictionary.status_variables.get(E10_STATE)
    e10_values = set() if e10 is None or e10.values is None else set(e10.values.values())
    if e10 is not None and (e10.values is None or e10_values - set(E10State)):
        raise DictionaryError(
            f"{source}: status_variables.{E10_STATE}.values: map every tool value to an E10 "
            f"state ({', '.join(E10State)}); got {sorted(e10_values) or 'none'}"
        )
    problems = driver.needs.problems(dictionary) + [
        f"alarms.{code}: not an alarm of the {dictionary.kind} spec ({', '.join(spec_alarms)})"
        for code in dictionary.alarms
        if code not in spec_alarms
    ]
    if problems:
        raise DictionaryError(
            "\n".join(
                f"{source}: {problem} (the {driver.role} role needs it)" for problem in problems
            )
        )
    return dictionary


def is_dictionary_file(name: str) -> bool:
    """Whether `name` is the path of a user's dictionary file rather than a shipped name."""
    return name.endswith(DICTIONARY_SUFFIXES)


@cache
def load_dictionary(name: str) -> GemDictionary:
    """The shipped dictionary `name` (`drivers/specs/gem/<name>.yaml`), or the dictionary file
    at path `name` (ending `.yaml` or `.yml`: another vendor's tool, written by its user),
    checked."""
    if is_dictionary_file(name):
        path = Path(name)
        source = f"GEM dictionary {path}"
        try:
            data = parse_yaml(read_text(path, "GEM dictionary"), source)
        except FileProblem as problem:
            raise DictionaryError(str(problem)) from None
        return parse_dictionary(data, source, path.stem)
    if name not in dictionary_names():
        raise DictionaryError(
            f"unknown GEM dictionary {name!r}; known dictionaries: "
            f"{', '.join(dictionary_names())}, or the path of a dictionary file (.yaml)"
        )
    resource = resources.files(DICTIONARY_PACKAGE).joinpath(*DICTIONARY_FOLDER, f"{name}.yaml")
    source = f"GEM dictionary {'/'.join(DICTIONARY_FOLDER)}/{name}.yaml"
    try:
        data = parse_yaml(resource.read_text(encoding="utf-8"), source)
    except FileProblem as problem:
        raise DictionaryError(str(problem)) from None
    return parse_dictionary(data, source, name)


# --------------------------------------------------------------------- the dictionary's page


def _values(variable: Variable) -> str:
    """How a variable's wire value reads: its enumeration, scale or array."""
    notes = []
    if variable.values is not None:
        notes.append(", ".join(f"{wire} = {role}" for wire, role in variable.values.items()))
    if variable.scale != 1.0:
        notes.append(f"wire = role x {variable.scale:g}")
    if variable.array:
        notes.append("array")
    return "; ".join(notes)


def dictionary_tables(dictionary: GemDictionary) -> dict[str, str]:
    """The tables of a dictionary's page (docs/protocols/gem-<name>.md), by marker name."""
    from ..registry import tool_kind
    from ..specs.pages import table

    spec_text = tool_kind(dictionary.kind).load_spec().alarm_text

    def variables(entries: Mapping[str, Variable], what: str) -> str:
        return table(
            (what, "name", "format", "unit", "values", "meaning"),
            (
                (v.id, f"`{name}`", v.format, v.unit, _values(v), v.doc)
                for name, v in entries.items()
            ),
        )

    return {
        "status-variables": variables(dictionary.status_variables, "SVID"),
        "equipment-constants": variables(dictionary.equipment_constants, "ECID"),
        "collection-events": table(
            ("CEID", "name", "report (SVs, in order)", "meaning"),
            (
                (e.id, f"`{name}`", ", ".join(f"`{sv}`" for sv in e.report), e.doc)
                for name, e in dictionary.collection_events.items()
            ),
        ),
        "alarms": table(
            ("ALID", "code", "meaning (ALTX)"),
            (
                (a.id, f"`{code}`", a.text or spec_text.get(code, ""))
                for code, a in dictionary.alarms.items()
            ),
        ),
        "remote-commands": table(
            ("RCMD", "name", "parameters (CPNAME format)", "meaning"),
            (
                (
                    f"`{c.rcmd}`",
                    f"`{name}`",
                    ", ".join(
                        f"`{p.name}` {p.format}{' array' if p.array else ''}"
                        for p in c.parameters.values()
                    ),
                    c.doc,
                )
                for name, c in dictionary.remote_commands.items()
            ),
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Rewrite a dictionary page's marked tables: `python -m packline.drivers.gem.dictionary
    PAGE DICTIONARY`."""
    import sys
    from pathlib import Path

    from ..specs.pages import render_page

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m packline.drivers.gem.dictionary PAGE DICTIONARY", file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        tables = dictionary_tables(load_dictionary(args[1]))
        path.write_text(render_page(path.read_text(encoding="utf-8"), tables), encoding="utf-8")
    except (DictionaryError, KeyError, OSError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
