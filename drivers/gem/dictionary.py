"""GEM tool dictionaries: which SVID, ECID, CEID, ALID and RCMD of a GEM tool carry what a role
needs, as data (`drivers/specs/gem/<name>.yaml`, one page each in docs/protocols/).

A GEM tool says everything by number: status variable 1010 is its state, constant 2003 its bond
force, event 3001 the end of a run. The dictionary maps those numbers (and their formats, units,
scales and enumerated values) onto the names the role driver uses, so that a real tool of
another vendor is configured by writing its dictionary, not code. The GEM role drivers
(`gem_driver` of each kind in `drivers/registry.py`) declare what they need of a dictionary
(`GemNeeds`); loading a dictionary checks it has all of it, and every problem names the file,
the key path and what is wrong. The simulated GEM tools are configured by the same file. The
entries themselves (and how values convert between wire and role) are `entries.py`.

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
      start: {rcmd: START, parameters: {stack_count: {name: STACK, format: U1, unit: studs}}}
    trace: {max_traces: 4, max_variables: 16, min_period_s: 0.1}   # S2F23 trace data
    process_jobs: {command: start, ended: run_ended, material: wafer_id,   # E40 (S16)
      state_changed: process_job_state_changed, max_jobs: 4}
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ValidationError

from packline.files import FileProblem, parse_yaml, read_text
from packline.plain_words import refusal, refusal_lines
from packline.spelling import did_you_mean

from ..equipment.states import E10State
from ..errors import PacklineError
from .entries import (
    AlarmEntry,
    Command,
    Event,
    GemDictionary,
    Identity,
    Parameter,
    ProcessJobs,
    RoleValue,
    TraceCapacity,
    Variable,
)

# The entries, importable with the dictionary as before the dictionary was split.
__all__ = [
    "DICTIONARY_FOLDER",
    "DICTIONARY_PACKAGE",
    "DICTIONARY_SUFFIXES",
    "E10_STATE",
    "AlarmEntry",
    "Command",
    "DictionaryError",
    "Event",
    "GemDictionary",
    "GemNeeds",
    "Identity",
    "Parameter",
    "ProcessJobs",
    "RoleValue",
    "TraceCapacity",
    "Variable",
    "dictionary_names",
    "dictionary_tables",
    "is_dictionary_file",
    "load_dictionary",
    "parse_dictionary",
]

#: Where the dictionaries are: `drivers/specs/gem/<name>.yaml` (package data).
DICTIONARY_PACKAGE = "packline.drivers"
DICTIONARY_FOLDER = ("specs", "gem")
#: A station's `dictionary:` ending so is a path to a user's dictionary file, not a shipped name.
DICTIONARY_SUFFIXES = (".yaml", ".yml")

#: The status variable that, when a dictionary names it, carries the tool's own SEMI E10 state.
E10_STATE = "e10_state"


#: What a dictionary's refusal of a key calls the part of the file it is in (any other part:
#: by its key path, `trace`, `identity`).
_WHOSE: dict[type[BaseModel], str] = {
    GemDictionary: "a GEM dictionary",
    Variable: "a status variable or equipment constant",
    Event: "a collection event",
    AlarmEntry: "an alarm",
    Command: "a remote command",
    Parameter: "a remote command parameter",
}


class DictionaryError(PacklineError):
    """A GEM tool dictionary is wrong or lacks what its role needs; nothing was contacted."""


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


def parse_dictionary(
    data: object, source: str, name: str = "", *, shipped: bool = False
) -> GemDictionary:
    """Validate dictionary data read from YAML, and check it against its role's needs; a
    user's (not `shipped`) also against the shipped dictionary of its kind, whose enumerated
    values and units are the role's (`_unknown_role_values`, `_unconverted_units`)."""
    from ..registry import TOOL_KINDS  # the registry loads the GEM drivers

    if not isinstance(data, dict):
        raise DictionaryError(f"{source}: a GEM dictionary is a mapping with kind, identity, ...")
    try:
        dictionary = GemDictionary.model_validate({**data, "name": name or data.get("kind", "")})
    except ValidationError as error:
        lines = refusal_lines(refusal(problem, GemDictionary, _WHOSE) for problem in error.errors())
        raise DictionaryError("\n".join(f"{source}: {line}" for line in lines)) from None
    if dictionary.kind not in TOOL_KINDS:
        raise DictionaryError(
            f"{source}: kind: unknown tool kind {dictionary.kind!r}"
            f"{did_you_mean(dictionary.kind, TOOL_KINDS)}; known: {', '.join(TOOL_KINDS)}"
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
    problems = [
        f"{need} (the {driver.role} role needs it)" for need in driver.needs.problems(dictionary)
    ] + [
        f"alarms.{code}: not an alarm of the {dictionary.kind} spec"
        f"{did_you_mean(code, spec_alarms)}; its alarms: {', '.join(spec_alarms)}"
        for code in dictionary.alarms
        if code not in spec_alarms
    ]
    if not shipped and dictionary.kind in dictionary_names():
        reference = load_dictionary(dictionary.kind)
        problems += _unknown_role_values(dictionary, reference)
        problems += _unconverted_units(dictionary, reference)
    if problems:
        raise DictionaryError("\n".join(f"{source}: {problem}" for problem in problems))
    return dictionary


def _unknown_role_values(dictionary: GemDictionary, reference: GemDictionary) -> list[str]:
    """Each role value of an enumerated entry of `dictionary` (a status variable, an
    equipment constant, a remote command's parameter) that the role does not know: the
    shipped dictionary of its kind (`reference`) maps no wire value to it for that entry. A
    value misspelt there (`Argon` for the role's `Ar`) would otherwise be found only when a
    step sends it, the wafer in the tool."""
    found = []
    for where, entry, theirs in _shared_entries(dictionary, reference):
        if theirs.values is None:
            continue
        known = list(theirs.values.values())
        for wire, value in (entry.values or {}).items():
            if value not in known:
                found.append(
                    f"{where}.values.{wire}: {value!r} is not a value of the role"
                    f"{did_you_mean(value, known)}; its values: {', '.join(known)}"
                )
    return found


def _unconverted_units(dictionary: GemDictionary, reference: GemDictionary) -> list[str]:
    """Each entry of `dictionary` whose `unit` is not the role's (the one the shipped
    dictionary of its kind, `reference`, gives it) without the `scale` that converts the
    role's into it (wire = role x scale): `unit: Torr` on the role's `pressure_mtorr` with
    no scale would read 100 mTorr as 0.1. A unit of another dimension, or none pint knows, is
    refused as such."""
    from pint.errors import PintError

    from packline.units import to_magnitude

    found = []
    for where, entry, theirs in _shared_entries(dictionary, reference):
        if not entry.unit or not theirs.unit or entry.unit == theirs.unit:
            continue
        try:
            factor = to_magnitude(f"1 {theirs.unit}", entry.unit)
        except (ValueError, PintError) as error:  # another dimension; a unit pint lacks
            found.append(f"{where}.unit: {entry.unit!r} is not the role's {theirs.unit} ({error})")
            continue
        if not math.isclose(entry.scale, factor, rel_tol=1e-9):
            found.append(
                f"{where}.scale: {entry.unit} on the wire for the role's {theirs.unit} takes "
                f"scale: {factor:g} (wire = role x scale), not {entry.scale:g}"
            )
    return found


def _shared_entries(
    dictionary: GemDictionary, reference: GemDictionary
) -> Iterator[tuple[str, Variable | Parameter, Variable | Parameter]]:
    """Each entry of `dictionary` that `reference` has too (a status variable, an equipment
    constant, a remote command's parameter): where it is (`section.name`), it, and
    `reference`'s."""
    for section in ("status_variables", "equipment_constants"):
        theirs = getattr(reference, section)
        for name, entry in getattr(dictionary, section).items():
            if name in theirs:
                yield f"{section}.{name}", entry, theirs[name]
    for command, entry in dictionary.remote_commands.items():
        reference_command = reference.remote_commands.get(command)
        if reference_command is None:
            continue
        for name, parameter in entry.parameters.items():
            if (known := reference_command.parameters.get(name)) is not None:
                yield f"remote_commands.{command}.parameters.{name}", parameter, known


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
            f"unknown GEM dictionary {name!r}{did_you_mean(name, dictionary_names())}; known "
            f"dictionaries: {', '.join(dictionary_names())}, or the path of a dictionary file "
            "(.yaml)"
        )
    resource = resources.files(DICTIONARY_PACKAGE).joinpath(*DICTIONARY_FOLDER, f"{name}.yaml")
    source = f"GEM dictionary {'/'.join(DICTIONARY_FOLDER)}/{name}.yaml"
    try:
        data = parse_yaml(resource.read_text(encoding="utf-8"), source)
    except FileProblem as problem:
        raise DictionaryError(str(problem)) from None
    return parse_dictionary(data, source, name, shipped=True)


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
    if variable.absent:
        notes.append("no element: no value")
    if variable.default is not None:
        notes.append(f"default {variable.default:g}")
    return "; ".join(notes)


def dictionary_tables(dictionary: GemDictionary) -> dict[str, str]:
    """The tables of a dictionary's page (docs/protocols/gem-<name>.md), by marker name."""
    from ..registry import tool_kind
    from ..specs.pages import table

    spec_text = tool_kind(dictionary.kind).load_spec().alarm_text
    trace = dictionary.trace
    jobs = dictionary.process_jobs

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
            ("RCMD", "name", "parameters (CPNAME format, unit)", "meaning"),
            (
                (
                    f"`{c.rcmd}`",
                    f"`{name}`",
                    ", ".join(
                        f"`{p.name}` {p.format}{' array' if p.array else ''}"
                        + (f" in {p.unit}" if p.unit else "")
                        for p in c.parameters.values()
                    ),
                    c.doc,
                )
                for name, c in dictionary.remote_commands.items()
            ),
        ),
        "trace": table(
            ("capacity", "value", "meaning"),
            (
                ("`max_traces`", trace.max_traces, "traces at once (more: TIAACK 2)"),
                ("`max_variables`", trace.max_variables, "SVIDs a trace (more: TIAACK 1)"),
                (
                    "`min_period_s`",
                    f"{trace.min_period_s:g} s",
                    "shortest sample period, DSPER (shorter: TIAACK 3)",
                ),
            ),
        ),
        "process-jobs": table(
            ("what", "name", "meaning"),
            (
                (
                    ("run by", f"`{jobs.command}`", "the remote command that processes a job"),
                    ("ended by", f"`{jobs.ended}`", "the collection event that ends it"),
                    ("material", f"`{jobs.material}`", "the SV that names the substrate there"),
                    ("state events", f"`{jobs.state_changed}`", "each job state change"),
                    ("queue", jobs.max_jobs, "jobs on the queue at once (more: ERRCODE 15)"),
                )
                if jobs is not None
                else (("-", "-", "no E40 process jobs: run by remote command"),)
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
