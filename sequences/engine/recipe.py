"""Recipes: the validated, hashed parameters of a method, read from YAML.

A method's recipe is a `Recipe` subclass: pydantic, `extra="forbid"` (a misspelt key is an
error, not a silently ignored option), quantities with units (`Annotated[float, Unit("um")]`).
`load_recipe` reads YAML as data, never code (a key given twice is an error); every problem is
reported with the file, the field path, the value given and what was expected, before any tool
moves.
The hash recorded with a run is taken over the validated values, so two files that mean the
same recipe hash the same.

Two more kinds of check go beyond one field:

* a claim's own constraints across fields (the resin film thinner than the bumps, 003:7): a
  `@model_validator(mode="after")` of the recipe model raises `claim_violation(...)`, and the
  error names the path, the value, what is wrong and the claim id;
* the tools' setpoint limits: a field that a tool setpoint takes says so in its annotation,
  `Annotated[float, Unit("um"), Feeds("laminator", "resin_thickness_um")]`;
  `Recipe.tool_setpoints()` walks the recipe (sections, lists, the chosen member of a union)
  and lists every such value with its field path, and `prepare()` checks each against the
  limits of the drivers (station `limits:` included) before any tool moves
  (`request.check_tool_limits`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from packline.claims import claim as catalogued_claim
from packline.files import FileProblem, parse_yaml, read_text, yaml_written
from packline.plain_words import one_of, plain_words
from packline.spelling import spelt_closest
from packline.units import quantity_text, to_magnitude

from .errors import RecipeError
from .recipe_fields import (
    FieldFacts,
    claims_text,
    facts_of,
    fields_of,
    missing_section,
    section_kinds,
    unit_of,
)
from .recipe_meta import Feeds, unwrapped
from .recipe_yaml import WrittenValues, as_given, located, written_type_problems

#: The pydantic error type of a claim constraint (see `claim_violation`).
CLAIM_CONSTRAINT = "claim_constraint"
#: The pydantic error type of one field's problem found across fields (see `field_problem`).
FIELD_CONSTRAINT = "field_constraint"


@dataclass(frozen=True)
class ToolSetpoint:
    """One value a recipe will send to a tool of `role`: checked against the driver's limit
    `setpoint` (a key of the driver's `limits`, in that limit's unit) before any tool moves.
    `path` is the recipe field it comes from, for the error message."""

    role: str
    setpoint: str
    value: float
    path: str


def _feeds_of(metadata: Sequence[object], annotation: object) -> list[Feeds]:
    """The `Feeds` of a field: in its metadata, or in an `Annotated` member of an optional
    field's union (`Annotated[float, Feeds(...)] | None`)."""
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
    nested = [meta for member in members if get_origin(member) is Annotated
              for meta in member.__metadata__]  # fmt: skip
    return [meta for meta in (*metadata, *nested) if isinstance(meta, Feeds)]


def _setpoints_within(value: object, path: str) -> list[ToolSetpoint]:
    """The setpoints of a section, or of each section in a list, under `path`."""
    if isinstance(value, Recipe):
        return [replace(point, path=f"{path}.{point.path}") for point in value.tool_setpoints()]
    if isinstance(value, list | tuple):
        return [
            point
            for index, item in enumerate(value)
            for point in _setpoints_within(item, f"{path}.{index}")
        ]
    return []


class Recipe(BaseModel):
    """Base of every method's recipe model."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: the method whose recipe this is (its `@method` sets it), for a refusal to name the
    #: `packline methods NAME` that lists its fields; "" for a section
    method_name: ClassVar[str] = ""
    #: optional settings of this section that an earlier release recorded as 0 when not
    #: given (0 was their default then): a run's recorded recipe reads a 0 there as left out
    recorded_zero_is_none: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="wrap")
    @classmethod
    def _every_independent_problem(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        """Validate the section, then run every `recipe_check` of it, and refuse with every
        problem found, not the first: each field's (pydantic's), each check's, a key by its
        old name (read as its new one meanwhile). A check that reads a field that failed, or
        one a refusal leaves unknown, is left out; one that reads a value an earlier check
        refused gives what it refuses whatever that value (`_judged`). A section given as a
        model already (a check's own `LevelRecipe(...)`) was checked when it was made.
        A run's recorded recipe (`parse_recipe(recorded=True)`) is read as an earlier release
        wrote it: a key by its old name silently as its new one, a 0 recorded for a setting
        not given (`recorded_zero_is_none`) as left out."""
        if isinstance(data, cls):
            return handler(data)
        refused = _REFUSED.set(_Refusals())  # this section's own, apart from its sections'
        try:
            problems: list[InitErrorDetails] = []
            if isinstance(data, dict) and _is_recorded(info.context):
                data = _recorded_zeros_left_out(cls, _under_new_names(cls, data))
            elif isinstance(data, dict):
                renamed = _renamed_keys(cls)
                problems += [_renamed(key, renamed[key], data) for key in renamed if key in data]
                data = _under_new_names(cls, data)
            try:
                recipe = handler(data)
            except ValidationError as error:
                if not isinstance(data, dict):
                    raise
                problems += [_details(problem) for problem in error.errors(include_url=False)]
                recipe = _partial(cls, data, error.errors(include_url=False), info.context)
            problems += _run_checks(recipe, data)
            if problems:
                raise ValidationError.from_exception_data(cls.__name__, problems)
            return recipe
        finally:
            _REFUSED.reset(refused)

    def canonical_json(self) -> str:
        """The validated values as canonical JSON (quantities in their declared units)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def recipe_hash(self) -> str:
        """sha256 of `canonical_json`: what the run record keeps to identify the recipe."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def tool_setpoints(self) -> list[ToolSetpoint]:
        """Every setpoint this recipe sends to a tool (its fields annotated `Feeds`, in its
        sections too), with its field path as the YAML file writes it, so the tools' limits
        (driver defaults, narrowed by the station file) are checked before the run starts."""
        points = self.derived_setpoints()
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue  # an optional setpoint left out: `derived_setpoints` says what is sent
            for feeds in _feeds_of(info.metadata, info.annotation):
                sent = feeds.measure(value) if feeds.measure is not None else value
                points.append(ToolSetpoint(feeds.role, feeds.setpoint, sent, name))
            points += _setpoints_within(value, name)
        return points

    def derived_setpoints(self) -> list[ToolSetpoint]:
        """The setpoints the recipe works out instead of stating them (the plated area a
        plating step sends is what its design opens), so the tools' limits hold them as they
        hold stated ones: none here; a recipe that works one out says so."""
        return []

    def lot_problem(self, lot: int) -> str | None:
        """Why a lot of `lot` wafers (or panels) cannot make what this recipe claims, known
        before any tool moves (a stack of more levels than the lot has panels); None: any lot
        can. Only what would fail every workpiece: a lot that leaves a short last batch is
        the user's to choose."""
        return None


#: Keys recipe files of an earlier release may hold, old name -> new, in every section of
#: every method that has the new one: refused naming both, not as a misspelt key (users keep
#: recipe files with the old names); a run's recorded recipe is read under the new names
#: (`parse_recipe(recorded=True)`: a run recorded before a rename still resumes).
RENAMED_KEYS: Mapping[str, str] = {
    "cu_etch": "copper_etch",
    "ti_etch": "barrier_etch",
    "chips": "devices",  # two-process-via's mounting, in 002's words
}


def _renamed_keys(model: type[Recipe]) -> dict[str, str]:
    """The `RENAMED_KEYS` of `model`'s fields: old name -> new."""
    return {old: new for old, new in RENAMED_KEYS.items() if new in model.model_fields}


def _under_new_names(model: type[Recipe], data: dict[str, Any]) -> dict[str, Any]:
    """`data` of a section of `model`, a key by its old name read as its new one."""
    renamed = _renamed_keys(model)
    return {renamed.get(key, key): value for key, value in data.items()}


#: The validation context of a run's recorded recipe (`parse_recipe(recorded=True)`).
_RECORDED = "recorded"


def _is_recorded(context: object) -> bool:
    """The validation is of a run's recorded recipe (`_RECORDED` in its context)."""
    return isinstance(context, Mapping) and bool(context.get(_RECORDED))


def _recorded_zeros_left_out(model: type[Recipe], data: dict[str, Any]) -> dict[str, Any]:
    """`data` of a section of `model` recorded with a run, a 0 of a `recorded_zero_is_none`
    setting (as the earlier release that recorded it wrote one not given) left out."""
    return {
        name: value
        for name, value in data.items()
        if name not in model.recorded_zero_is_none or not _recorded_zero(model, name, value)
    }


def _recorded_zero(model: type[Recipe], name: str, value: object) -> bool:
    """`value`, recorded for field `name` of `model` (`'0 W'`, its unit spelt), is 0."""
    try:
        return bool(_field_adapter(model, name).validate_python(value) == 0)
    except ValidationError:
        return False  # not a value of the field: validating the section refuses it


def recipe_check(check: CheckT) -> CheckT:
    """Mark a method of a recipe model as one of its checks across fields (a claim's own
    constraint, one field wrong given others): it raises `claim_violation`, `field_problem`
    or ValueError for what it finds. A section runs every check of it, in their order, and
    refuses with all they find (`Recipe._every_independent_problem`); a check that reads a
    field another problem left unknown is skipped, and one that reads a value an earlier
    check refused gives only what it refuses whatever that value (`_judged`), so it must
    come after the checks that refuse what it reads."""
    setattr(check, "_recipe_check", True)  # noqa: B010 (a marker on the function)
    return check


@cache
def _checks_of(model: type[Recipe]) -> tuple[Callable[[Recipe], object], ...]:
    """The `recipe_check` methods of `model` and its bases, bases' first, in their order."""
    found: dict[str, Callable[[Recipe], object]] = {}
    for cls in reversed(model.__mro__):
        if issubclass(cls, Recipe):
            for name, member in list(vars(cls).items()):
                if getattr(member, "_recipe_check", False):
                    found[name] = member
    return tuple(found.values())


def _run_checks(recipe: Recipe, data: object) -> list[InitErrorDetails]:
    """What each check of `recipe` (perhaps partial: `_partial`) refuses (`_judged`)."""
    return [
        _check_problem(recipe, error, data)
        for check in _checks_of(type(recipe))
        for error in _judged(check, recipe)
    ]


@dataclass(frozen=True)
class _Refused:
    """A field a check refused, taken out of its `section` (`_forget`), and its `value` as
    given: a value of the field, only wrong given others, that a later check may be judged
    on (`_judged`)."""

    section: Recipe
    name: str
    value: Any

    def put(self, value: Any) -> None:
        """Give the field `value` in its section, for a check to read."""
        self.section.__dict__[self.name] = value

    def take_out(self) -> None:
        """Take the field out of its section again: a read of it raises AttributeError."""
        self.section.__dict__.pop(self.name, None)

    def probes(self) -> list[Any] | None:
        """The other values a check that reads the field is judged at: each of its choices,
        yes and no, or both ends of its range (its own bounds, its tools'); None where it
        has none of these (a section, a list, a range open at an end)."""
        model = type(self.section)
        facts = facts_of(model, self.name)
        if facts is None:
            return None
        low, high = facts.low, facts.high
        candidates: list[Any]
        if facts.choices:
            candidates = list(facts.choices)
        elif facts.kind == "yes/no":
            candidates = [False, True]
        elif low is not None and high is not None and low.inclusive and high.inclusive:
            whole = isinstance(self.value, int)  # a count: its ends as whole numbers
            ends = (math.ceil(low.value), math.floor(high.value)) if whole else ()
            candidates = list(ends) or [low.value, high.value]
        else:
            return None
        try:
            return [_field_adapter(model, self.name).validate_python(v) for v in candidates]
        except ValidationError:
            return None


@dataclass
class _Refusals:
    """The fields refused so far by the checks of the section being validated, and by its own
    sections' checks (`_refuse`): what `_independent` puts back for a check to read. While
    it does (`putting_back`), `every_problem` lets a read of one through to it, rather than
    skip the part that reads it."""

    fields: list[_Refused] = field(default_factory=list)
    putting_back: bool = False


#: The `_Refusals` of the section being validated.
_REFUSED: ContextVar[_Refusals] = ContextVar("refused")


def _refused_read(error: AttributeError) -> _Refused | None:
    """The refused field whose read raised `error`; None for any other field."""
    section, name = getattr(error, "obj", None), error.name
    refused = _REFUSED.get(_Refusals()).fields
    return next((r for r in refused if r.section is section and r.name == name), None)


def _refusals(check: Callable[[Recipe], object], recipe: Recipe) -> list[ValueError]:
    """What `check` refuses of `recipe`, `every_problem`'s each."""
    try:
        check(recipe)
    except ExceptionGroup as group:
        return _leaves(group)
    except ValueError as error:
        return [error]
    return []


def _judged(check: Callable[[Recipe], object], recipe: Recipe) -> list[ValueError]:
    """What `check` refuses of `recipe` (decision 0100). First as the fields stand: a check,
    or a part of one (`every_problem`), that reads a field that failed, one a refusal leaves
    unknown (`leaving_unknown`) or one a check before it refused is skipped. Then what it
    refuses on the values checks before it refused that does not depend on them
    (`_independent`: air leaves oxide on the tips whatever the laser's pulses)."""
    try:
        found = _refusals(check, recipe)
    except AttributeError as error:
        if not _unknown_field(error):
            raise
        found = []
    if not _REFUSED.get().fields:
        return found
    told = {_refusal_key(error) for error in found}
    return found + [e for e in _independent(check, recipe) if _refusal_key(e) not in told]


def _independent(check: Callable[[Recipe], object], recipe: Recipe) -> list[ValueError]:
    """What `check` refuses of `recipe` with the values checks before it refused put back as
    given, that does not depend on them: it refuses it again at each other value each takes
    (`_Refused.probes`). What comes and goes with them waits for their fix, as does all it
    refuses where one has no values to try, or where it cannot be worked out from them
    (a material no etch rate is known of: what the check that refused it rules out, it
    relies on)."""
    refusals = _REFUSED.get()
    read: list[_Refused] = []
    refusals.putting_back = True
    try:
        found = _refusals_putting_back(check, recipe, read)
        if found is None or not read:
            return []  # it cannot be worked out, or it reads no refused value
        for refused in read:
            probes = refused.probes()
            if probes is None:
                return []
            for value in probes:
                refused.put(value)
                again = _worked_out(check, recipe)
                if again is None:
                    return []
                keys = {_refusal_key(error) for error in again}
                found = [error for error in found if _refusal_key(error) in keys]
            refused.put(refused.value)
        return found
    finally:
        refusals.putting_back = False
        for refused in read:
            refused.take_out()


def _refusals_putting_back(
    check: Callable[[Recipe], object], recipe: Recipe, read: list[_Refused]
) -> list[ValueError] | None:
    """What `check` refuses of `recipe`, each refused field it reads put back as given and
    added to `read`. None where it reads a field that failed or was left unknown, or, once
    it reads a refused one, fails to work out."""
    while True:
        try:
            return _refusals(check, recipe)
        except AttributeError as error:
            refused = _refused_read(error)
            if refused is not None:
                refused.put(refused.value)
                read.append(refused)
            elif _unknown_field(error) or read:
                return None
            else:
                raise
        except Exception:
            if read:
                return None  # it fails on a refused value: not to be worked out from it
            raise


def _worked_out(check: Callable[[Recipe], object], recipe: Recipe) -> list[ValueError] | None:
    """What `check` refuses of `recipe` at a refused field's other value (`_independent`);
    None where it cannot be worked out there."""
    try:
        return _refusals(check, recipe)
    except Exception:
        return None


def _refusal_key(error: ValueError) -> tuple[object, ...]:
    """What a refusal is, whatever values its message shows: its kind, the field it names
    and its claim; a plain ValueError, its text."""
    if isinstance(error, PydanticCustomError):
        context = error.context or {}
        return (error.type, context.get("path"), context.get("claim"))
    return (type(error), str(error))


def _leaves(group: ExceptionGroup[Exception]) -> list[ValueError]:
    """The problems of a check's `every_problem`, nested groups flattened."""
    leaves: list[ValueError] = []
    for error in group.exceptions:
        if isinstance(error, ExceptionGroup):
            leaves += _leaves(error)
        elif isinstance(error, ValueError):
            leaves.append(error)
        else:
            raise error
    return leaves


def _check_problem(recipe: Recipe, error: ValueError, data: object) -> InitErrorDetails:
    """A check's problem as a line of the section's refusal; the field its path names, and
    what it leaves unknown besides (`leaving_unknown`), are taken out of their sections in
    `recipe`: the checks after it that read the rest of the section run as they are, those
    that read the field are judged on it (`_judged`), those that read what it leaves unknown
    are skipped."""
    if not isinstance(error, PydanticCustomError):
        return {"type": "value_error", "loc": (), "input": data, "ctx": {"error": error}}
    context = error.context or {}
    _refuse(recipe, str(context.get("path", "")))
    for path in getattr(error, _ALSO_UNKNOWN, ()):
        _forget(recipe, path)
    return {"type": error, "loc": (), "input": data}


#: The attribute of a refusal naming what it leaves unknown besides its own field.
_ALSO_UNKNOWN = "also_unknown"


def leaving_unknown(error: Exception, *paths: str) -> Exception:
    """`error`, a check's refusal, also leaving the fields or sections at `paths` unknown:
    the checks after it that read them are skipped, where what they would work out of them
    follows from it (an interconnect etched away by a refused copper etch has no height a
    later check should judge: decision 0053, the root problem only). Each refusal of a group
    (`every_problem`) leaves them unknown."""
    for each in _leaves(error) if isinstance(error, ExceptionGroup) else [error]:
        setattr(each, _ALSO_UNKNOWN, paths)
    return error


def _forget(recipe: Recipe, path: str) -> _Refused | None:
    """Take the field at `path` (`upper_levels.0.resin.sheet_thickness_um`) out of its
    section in `recipe`: a read of it then raises AttributeError (`_unknown_field`). The
    field and the value it had; None where it had none (already unknown, or no field)."""
    *sections, name = path.split(".")
    section: object = recipe
    try:
        for part in sections:
            section = section[int(part)] if isinstance(section, list) else getattr(section, part)
    except (AttributeError, IndexError, ValueError):
        return None  # a section the check's path goes through is unknown already, or no section
    if not isinstance(section, Recipe) or name not in type(section).model_fields:
        return None
    if name not in section.__dict__:
        return None  # unknown already
    return _Refused(section, name, section.__dict__.pop(name))


def _refuse(recipe: Recipe, path: str) -> None:
    """Take the field a refusal names at `path` out of its section in `recipe` (`_forget`),
    keeping its value for the checks after it that read it (`_judged`)."""
    refused = _forget(recipe, path)
    if refused is not None:
        _REFUSED.get().fields.append(refused)


def every_problem(checks: Iterable[Callable[[], object]]) -> None:
    """Run each of `checks` (a check of one level, of one dip...) and raise what they all
    refuse, for a `recipe_check` whose parts are independent: one problem as it is, several
    as a group, each a line of the refusal."""
    found: list[Exception] = []
    for check in checks:
        try:
            check()
        except AttributeError as error:  # it reads a field another problem left unknown
            if not _unknown_field(error) or _put_back(error):
                raise
        except (ValueError, ExceptionGroup) as error:
            found.append(error)
    if len(found) == 1:
        raise found[0]
    if found:
        raise ExceptionGroup("recipe problems", found)


def _put_back(error: AttributeError) -> bool:
    """The field whose read raised `error` is a refused one `_independent` puts back."""
    return _REFUSED.get(_Refusals()).putting_back and _refused_read(error) is not None


def _unknown_field(error: AttributeError) -> bool:
    """The error is a read of a field its section lacks (`_partial`, `_run_checks`)."""
    section = getattr(error, "obj", None)
    return (
        isinstance(section, Recipe)
        and error.name in type(section).model_fields
        and error.name not in section.__dict__
    )


@cache
def _field_adapter(model: type[Recipe], name: str) -> TypeAdapter[Any]:
    """Validates one field of `model` alone, as the model does."""
    info = model.model_fields[name]
    # a type built at run time: pydantic >= 2.14 types TypeAdapter's argument as a TypeForm,
    # which a subscripted special form is not to a checker
    field_type: Any = Annotated[info.annotation, info]
    return TypeAdapter(field_type)


def _partial(
    model: type[Recipe], data: dict[str, Any], errors: list[ErrorDetails], context: Any
) -> Recipe:
    """`model` built of the fields of `data` that validated, without those that failed (a
    read of one raises AttributeError, `_unknown_field`), so a check still reads the fields
    that validated; a section whose fields failed, or whose own checks refused some, is
    built so too, and each section of a list (`_built`); `context` the validation's (a
    recorded recipe's, `_RECORDED`)."""
    data = _under_new_names(model, data)
    fields: dict[str, Any] = {}
    unknown = set()
    for name, info in model.model_fields.items():
        inner = _inside(errors, name)
        if not inner:
            if name in data:
                adapter = _field_adapter(model, name)
                fields[name] = adapter.validate_python(data[name], context=context)
            continue
        built = _built(info.annotation, data.get(name), inner, context)
        if built is _UNKNOWN:
            unknown.add(name)
        else:
            fields[name] = built
    recipe = model.model_construct(**fields)
    for name in unknown:
        recipe.__dict__.pop(name, None)
    return recipe


#: What `_built` gives for a value no check may read.
_UNKNOWN = object()


def _built(annotation: Any, value: object, errors: list[ErrorDetails], context: Any) -> Any:
    """`value`, given for a field of `annotation`, as `_partial` builds it, `errors` the
    problems found within it: a section built of its fields that validated, less those its
    own checks refused (a check's refusal names the field it is raised at: the others of the
    section stand, decision 0057); a list, each of its items so. `_UNKNOWN` where a problem
    names no field of it (a ValueError of a check, a kind of section not known, a list's
    length), so a check that reads it is skipped."""
    items = _list_items(annotation)
    if items is not None and isinstance(value, list):
        if not all(e["loc"] and isinstance(e["loc"][0], int) for e in errors):
            return _UNKNOWN
        built = [
            _built(items, item, _inside(errors, index), context)
            if _inside(errors, index)
            else _adapter(items).validate_python(item, context=context)
            for index, item in enumerate(value)
        ]
        return _UNKNOWN if any(item is _UNKNOWN for item in built) else built
    section, nested = _section_and_its_errors(annotation, errors)
    if section is None or not isinstance(value, dict) or not all(map(_named, nested)):
        return _UNKNOWN
    recipe = _partial(section, value, [e for e in nested if e["loc"]], context)
    for refusal in nested:
        if not refusal["loc"]:  # the section's own check's, at the field its path names
            _refuse(recipe, str(refusal.get("ctx", {})["path"]))
    return recipe


def _inside(errors: list[ErrorDetails], first: int | str) -> list[ErrorDetails]:
    """The `errors` whose location starts at `first` (a field, a list's index, the tag of a
    choice of sections), located from there on."""
    inside = []
    for error in errors:
        if error["loc"][:1] == (first,):
            moved = error.copy()
            moved["loc"] = error["loc"][1:]
            inside.append(moved)
    return inside


def _list_items(annotation: Any) -> Any | None:
    """The items' type of a list field (`list[X]`, `tuple[X, ...]`, optional or not); None for
    another field."""
    annotation = unwrapped(annotation)
    if get_origin(annotation) in (Union, UnionType):
        members = [m for m in get_args(annotation) if m is not type(None)]
        annotation = unwrapped(members[0]) if len(members) == 1 else None
    return get_args(annotation)[0] if get_origin(annotation) in (list, tuple) else None


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    """Validates a value of `annotation` (a list's item) alone."""
    return TypeAdapter(annotation)


def _section_and_its_errors(
    annotation: Any, errors: list[ErrorDetails]
) -> tuple[type[Recipe] | None, list[ErrorDetails]]:
    """The recipe model a field of `annotation` holds, and `errors` (within the field) within
    it: the model itself, an optional section's, or the member of a choice of sections that
    pydantic names first in every error's location (its tag, taken off). None: no section, or
    no one member."""
    section = unwrapped(annotation)
    section = _only_section(section) or section
    if get_origin(section) in (Union, UnionType):
        tags = {e["loc"][0] for e in errors if e["loc"]}
        member = _member_named(section, str(next(iter(tags)))) if len(tags) == 1 else None
        if member is None or not all(e["loc"] for e in errors):
            return None, errors
        section, errors = member, _inside(errors, next(iter(tags)))
    if isinstance(section, type) and issubclass(section, Recipe):
        return section, errors
    return None, errors


def _named(problem: ErrorDetails) -> bool:
    """The problem is a field's (its location within the section), or a check's that names
    the field it is raised at (`claim_violation`, `field_problem`)."""
    return bool(problem["loc"]) or problem["type"] in (CLAIM_CONSTRAINT, FIELD_CONSTRAINT)


def _details(problem: ErrorDetails) -> InitErrorDetails:
    """A problem pydantic found, as `ValidationError.from_exception_data` takes it again."""
    ctx = problem.get("ctx")
    if problem["type"] not in _PYDANTIC_ERROR_TYPES:  # ours: its message, as it was made
        custom = PydanticCustomError(problem["type"], problem["msg"], ctx)
        return {"type": custom, "loc": problem["loc"], "input": problem["input"]}
    details: InitErrorDetails = {
        "type": problem["type"],
        "loc": problem["loc"],
        "input": problem["input"],
    }
    if ctx is not None:
        details["ctx"] = ctx
    return details


#: The error types pydantic itself knows (any other is a `PydanticCustomError` of ours).
_PYDANTIC_ERROR_TYPES = frozenset(get_args(core_schema.ErrorType))


def _renamed(old: str, new: str, data: dict[str, Any]) -> InitErrorDetails:
    """The problem of a key by its old name (`RENAMED_KEYS`), showing what it was given (as
    YAML spells none: `null`)."""
    message = f"renamed {new} (the same setting under its new name): write {new}"
    problem = field_problem(old, _given(data[old]), message)
    return {"type": problem, "loc": (), "input": data}  # type: ignore[typeddict-item]


def _bounded(text: str, most: int = 80) -> str:
    """`text` cut to `most` characters: an error names a value, it does not reprint a file."""
    return text if len(text) <= most else text[: most - 5] + " ...]"


def _given(value: object) -> str:
    """A value as a refusal shows it: as YAML spells none (`null`), else as Python reprs it
    (a string quoted, so `'35 degC'` is seen to be text), cut to a line."""
    return "null" if value is None else _bounded(repr(value))


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def least_whole(low: float, high: float, passes: Callable[[int], bool]) -> int:
    """The least whole number above `low` and at most `high` (rounded up) that `passes`, by
    bisection: `passes` must hold from some number on (a longer hold, a hotter peak, a longer
    etch) and at the top (its caller has made sure). What a refusal's least value is."""
    below, above = math.floor(low), math.ceil(high)
    while above - below > 1:
        middle = (below + above) // 2
        if passes(middle):
            above = middle
        else:
            below = middle
    return above


#: The claim a recipe constraint serves (`claim_violation`), or the claims it serves at
#: once, each carried out by the same option (002:7's board and 002:8's apparatus, by the
#: mounting).
ClaimIds = str | tuple[str, ...]


def claim_violation(claim: ClaimIds | None, path: str, value: object, message: str) -> Exception:
    """The error a recipe model's `@model_validator(mode="after")` raises when the recipe breaks
    a claim's own constraint: `raise claim_violation("003:7", "resin.sheet_thickness_um",
    "65 um", "must be thinner than bumps.height_um = 60 um")`.

    `path` is relative to the model whose validator raises it (the whole recipe for a top-level
    validator); `value` is shown as given (floats with `:g`). `claim` must be an id of the
    catalogue (`packline.claims`), or several that the constraint serves, each named (`claims
    002:7, 002:8`): a wrong id is a programming error (KeyError). None: a section shared by
    methods has no claim in the one it is in (its `ClassVar` claim, which a method's subclass
    sets), and the error is `field_problem`'s."""
    if claim is None:
        return field_problem(path, value, message)
    claims = (claim,) if isinstance(claim, str) else claim
    for each in claims:
        catalogued_claim(each)
    shown = _shown(value)
    return PydanticCustomError(
        CLAIM_CONSTRAINT,
        f"{{path}} = {{value}}: {{message}} ({claims_text(claims)})",
        {"claim": claims, "path": path, "value": shown, "message": message},
    )


def field_problem(path: str, value: object, message: str) -> Exception:
    """The error a recipe model's `@model_validator(mode="after")` raises when one field is
    wrong given others, with no claim behind it (a plated area the mould's mask contradicts):
    like `claim_violation` the error names the field by `path` (relative to the validating
    model) and `value`, so a nested field is named where it is, not as the model's."""
    return PydanticCustomError(
        FIELD_CONSTRAINT,
        "{path} = {value}: {message}",
        {"path": path, "value": _shown(value), "message": message},
    )


R = TypeVar("R", bound=Recipe)
#: A recipe model's method marked `recipe_check`.
CheckT = TypeVar("CheckT", bound=Callable[..., object])

#: pydantic's error types for a choice of sections whose kind (its tag) is missing or unknown.
_TAG_TYPES = {"union_tag_not_found", "union_tag_invalid"}

#: pydantic's error types for a value where a section (a nested model) belongs.
_SECTION_TYPES = {"model_type", "model_attributes_type"}


def _member_named(union: Any, tag: str) -> Any | None:
    """The member of a union that pydantic names `tag` in an error's location: a model whose
    discriminator field is `Literal[tag]`, or whose class name is `tag`."""
    for member in map(unwrapped, get_args(union)):
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            continue
        if member.__name__ == tag:
            return member
        for info in member.model_fields.values():
            if get_origin(info.annotation) is Literal and tag in get_args(info.annotation):
                return member
    return None


def yaml_path(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """An error location as the YAML file spells it: pydantic's location names the chosen
    member of a union (its tag or class name) as if it were a key; the file has no such key."""
    return _walked(model, loc)[0]


def _walked(
    model: type[BaseModel], loc: Sequence[int | str]
) -> tuple[list[str], list[tuple[type[BaseModel], str]]]:
    """`yaml_path` of `loc`, and each model field it goes through, the outermost first: the
    model and the field's name (a list's index is none)."""
    path: list[str] = []
    fields: list[tuple[type[BaseModel], str]] = []
    annotation: Any = model
    for part in loc:
        annotation = unwrapped(annotation)
        if get_origin(annotation) in (Union, UnionType) and isinstance(part, str):
            # an optional section has no tag in the location (its member's `method: plating`
            # may spell one of its keys, `plating`): only a union of sections has one
            section = _only_section(annotation)
            member = None if section is not None else _member_named(annotation, part)
            if member is not None:  # the tag of the union's member, not a key of the file
                annotation = member
                continue
            annotation = section or annotation
        path.append(str(part))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields.append((annotation, str(part)))
            info = annotation.model_fields.get(str(part))
            annotation = None if info is None else info.annotation
        elif isinstance(part, int):
            annotation = _list_items(annotation)  # a list's item, the list optional or not
        else:
            annotation = None
    return path, fields


def _only_section(union: Any) -> type[BaseModel] | None:
    """The model of an optional section (`Section | None`); None for any other union."""
    members = [unwrapped(m) for m in get_args(union) if m is not type(None)]
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


def format_validation_error(
    source: str, error: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """One line per problem (`validation_problems`), each `<source>: <path>...`."""
    return "\n".join(
        f"{source}: {problem['message']}" for problem in validation_problems(error, model)
    )


def validation_problems(
    error: ValidationError,
    model: type[BaseModel] | None = None,
    written: WrittenValues | None = None,
) -> list[dict[str, Any]]:
    """Each problem as its field `path` and its `message`, which begins with the path: where,
    the value given, and what is wrong or what the limit is; a claim's constraint, with the
    `claims` it serves.

    A claim constraint reads `<path> = <value>: <message> (claim <id>)`, or `(claims <id>,
    <id>)` for one that serves several. The value of a whole mapping (a model-level problem)
    is not repeated: its fields are the recipe itself. With the `model`, the path is the YAML
    file's (see `yaml_path`); with the file's values as `written`, a constraint's value is
    stated as the file gives it too, where that differs (`as_given`)."""
    lines: list[dict[str, Any]] = []
    extras: dict[tuple[int | str, ...], list[str]] = {}
    #: the fields a key given a level off is named as (`_indented_elsewhere`), by their paths
    meant: dict[tuple[int | str, ...], list[str]] = {}
    for problem in error.errors():
        if problem["type"] == "extra_forbidden":
            extras.setdefault(problem["loc"][:-1], []).append(str(problem["loc"][-1]))
            if model is not None:
                meant[problem["loc"]] = _indented_elsewhere(*_walked(model, problem["loc"]))
    for problem in error.errors():
        loc, fields = (
            ([str(part) for part in problem["loc"]], [])
            if model is None
            else _walked(model, problem["loc"])
        )
        ctx = problem.get("ctx", {})
        section = None
        if problem["type"] == "missing" and fields and fields[-1][1] == loc[-1]:
            if any(
                loc[-1] in _closest_fields(key, fields[-1][0])
                for key in extras.get(problem["loc"][:-1], [])
            ) or any(".".join(loc) in places for places in meant.values()):
                continue  # a key given for it says "did you mean" it: one line for one slip
            section = missing_section(fields)
        if section is not None:
            lines.append(path_problem(".".join(loc), f" = none: {section}"))
            continue
        kinds = None
        if problem["type"] in _TAG_TYPES and fields and fields[-1][1] == loc[-1]:
            kinds = section_kinds(*fields[-1])
        if kinds is not None:
            lines.append(_kind_problem(".".join(loc), *kinds, problem))
            continue
        if problem["type"] in (CLAIM_CONSTRAINT, FIELD_CONSTRAINT):
            path = ".".join([*loc, ctx["path"]])
            value = as_given(path, ctx["value"], written or {})
            lines.append(path_problem(path, f" = {value}: {ctx['message']}", ctx.get("claim", ())))
            continue
        path = ".".join(loc) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        left_out = False
        claims: tuple[str, ...] = ()  # the claim that sets a field's own bounds (`Because`)
        unit = unit_of(*fields[-1]) if fields and fields[-1][1] == loc[-1] else ""
        if problem["type"] == "extra_forbidden":
            message = _not_a_field(loc, fields, meant.get(problem["loc"], []))
        elif problem["type"] == "missing" and loc:
            facts = _own_facts(fields, loc)
            if facts is not None:  # what it takes (pydantic's "Field required" says nothing)
                message, left_out = ", ".join(["required", *facts.takes()]), True
            if facts is not None and facts.doc:  # what it is for, as a left-out section says
                message += f": {facts.doc}"
        elif (plain := plain_words(problem, unit or "")) is not None:
            message = plain
            facts = _own_facts(fields, loc)
            if problem["type"] in _BOUND_TYPES and facts is not None and facts.range_reason:
                message += f" ({facts.range_reason})"
                claims = (facts.range_claim,) if facts.range_claim else ()
        elif problem["type"] in _SECTION_TYPES:
            # pydantic names the section's model class, which no recipe spells
            method = getattr(model, "method_name", "") or "METHOD"
            message = f"must be a section of fields, as `packline methods {method}` lists them"
        quiet = problem["type"] == "missing" or isinstance(problem["input"], dict)
        given = " = none" if left_out else "" if quiet else f" = {_given(problem['input'])}"
        if problem["type"] in _BOUND_TYPES and unit:
            given += _in_field_unit(problem["input"], unit)
        lines.append(path_problem(path, f"{given}: {message}", claims))
    return lines


#: pydantic's error types for a number past a field's own bounds (`Field(ge=..., le=...)`).
_BOUND_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _in_field_unit(given: object, unit: str) -> str:
    """` (75000 um)` for a quantity past its field's bounds that the recipe wrote in another
    unit (`75 mm`), so the refusal's bound, in the field's unit, is compared with the value
    as it was judged; "" for one written in the field's unit, or not a quantity."""
    if not isinstance(given, str):
        return ""
    try:
        judged = quantity_text(to_magnitude(given, unit), unit)
    except ValueError:
        return ""
    return "" if " ".join(given.split()) == judged else f" ({judged})"


def _own_facts(fields: list[tuple[type[BaseModel], str]], loc: list[str]) -> FieldFacts | None:
    """What the recipe says of the field at `loc` (the last of `fields`); None for a location
    that is no field's."""
    return facts_of(*fields[-1]) if fields and fields[-1][1] == loc[-1] else None


def _kind_problem(
    path: str, key: str, kinds: tuple[str, ...], problem: ErrorDetails
) -> dict[str, str]:
    """The problem of a section whose `key` (its kind, one of `kinds`) is left out or none of
    them: pydantic's "Unable to extract tag using discriminator" named no field a file has."""
    if problem["type"] == "union_tag_not_found":
        why = f"it says which kind of section {path} is (each kind takes its own fields)"
        return path_problem(f"{path}.{key}", f" = none: required, one of {', '.join(kinds)}: {why}")
    tag = problem.get("ctx", {}).get("tag")
    return path_problem(f"{path}.{key}", f" = {_given(tag)}: {one_of(tag, kinds)}")


def path_problem(path: str, rest: str, claims: Sequence[str] = (), **data: Any) -> dict[str, Any]:
    """A problem with the recipe field at `path` (`RecipeError.problems`): its message is the
    path and `rest`, then the `claims` whose constraint it breaks, in brackets (`(claim
    000:b)`), which it also lists, as it gives `data` (a station's `limit`), for a program
    reading `--json`."""
    said = f" ({claims_text(claims)})" if claims else ""
    listed = {"claims": [*claims]} if claims else {}
    return {"path": path, "message": f"{path}{rest}{said}", **listed, **data}


def _not_a_field(
    loc: list[str], fields: list[tuple[type[BaseModel], str]], places: Sequence[str]
) -> str:
    """What a key its section has no field of is refused with: the section, and the `places`
    where a field of its very name is a level in or out (`_indented_elsewhere`), else
    the fields whose names are closest to it (a misspelling: `peel_temperature_c` ->
    `peel_below_c`), or that another method names by the key (`RENAMED_KEYS` the other way:
    two-process-via's `devices` in bump-seal-clean's mounting -> `chips`)."""
    section = ".".join(loc[:-1]) or "the recipe's top level"
    if places:  # the very name, a level off: before any name spelt like it
        return f"not a field of {section}: did you mean {' or '.join(places)}, indented there?"
    closest = _closest_fields(loc[-1], fields[-1][0]) if fields and fields[-1][1] == loc[-1] else []
    if closest:
        return f"not a field of {section}: did you mean {' or '.join(closest)}?"
    return f"not a field of {section}"


def _indented_elsewhere(loc: list[str], fields: list[tuple[type[BaseModel], str]]) -> list[str]:
    """Where a key its section has no field of is a field one level in or out, as a key
    indented too little or too much is: a section of this section's that has it (`tolerance_um`
    at the top level: `grind.tolerance_um`), or the section this one is in."""
    if not fields or fields[-1][1] != loc[-1]:
        return []
    key, model = loc[-1], fields[-1][0]
    places = [  # a list's items not: which item the key was meant for is not told
        ".".join([*loc[:-1], found.name, key])
        for found in fields_of(model)
        if found.kind != "list of sections"
        for inner in found.sections
        if key in inner.model_fields
    ]
    if len(fields) > 1 and fields[-2][1] == loc[-2] and key in fields[-2][0].model_fields:
        places.append(".".join([*loc[:-2], key]))
    return list(dict.fromkeys(places))


def _closest_fields(key: str, section: type[BaseModel]) -> list[str]:
    """The fields of `section` a key it has no field of may mean: those another method names
    by the key (`RENAMED_KEYS` the other way), then the three spelt closest to it."""
    names = list(section.model_fields)
    renamed = [old for old, new in RENAMED_KEYS.items() if new == key and old in names]
    spelt = spelt_closest(key, names)
    return renamed + [name for name in spelt if name not in renamed]


def parse_recipe(
    model: type[R],
    data: object,
    source: str,
    *,
    recorded: bool = False,
    written: WrittenValues | None = None,
) -> R:
    """Validate recipe data already read from YAML, or (`recorded`) a run's recorded recipe
    (`Recipe.canonical_json`, perhaps of an earlier release): a key of it by an old name
    (`RENAMED_KEYS`) is read silently as its new one, and a 0 recorded for a setting not given
    (`Recipe.recorded_zero_is_none`) as left out; the user cannot edit a recorded recipe.
    `written`: the file's values as written (`files.yaml_written`), for data read from a file:
    a value whose YAML type its field does not take is refused, never taken for another type
    (`recipe_yaml.written_type_problems`), and each problem names its line (`located`)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a mapping of option names to values")
    typed = [] if written is None else written_type_problems(model, data, written)
    try:
        recipe = model.model_validate(data, context={_RECORDED: True} if recorded else None)
    except ValidationError as error:
        problems = _another_methods(model, data)
        if not problems:  # a value of the wrong type is told once, by its type
            paths = {problem["path"] for problem in typed}
            found = validation_problems(error, model, written)
            problems = typed + [problem for problem in found if problem["path"] not in paths]
        raise RecipeError.of_fields(source, located(problems, written or {})) from None
    if typed:
        raise RecipeError.of_fields(source, located(typed, written or {}))
    return recipe


#: Each registered method's recipe model by the method's name (`method.method` registers
#: them): what a recipe of another method is told by (`_another_methods`), without this
#: module importing the methods', which import it.
METHOD_RECIPES: dict[str, type[Recipe]] = {}


def _another_methods(model: type[Recipe], data: dict[str, Any]) -> list[dict[str, str]]:
    """The one problem of a recipe of another method (every top-level key of `data` a
    section of that method's recipe, some of them none of `model`'s): which method it is and
    how to validate it, rather than a did-you-mean for each of its sections; none if it is
    not such a recipe."""
    own = set(model.model_fields)
    foreign = [key for key in data if key not in own]
    if not foreign:
        return []
    owners = [
        name
        for name, other in sorted(METHOD_RECIPES.items())
        if other is not model and set(data) <= set(other.model_fields)
    ]
    if not owners:
        return []
    commands = " or ".join(f"`packline validate {name}`" for name in owners)
    message = (
        f"this is a {' or '.join(owners)} recipe (it has {', '.join(foreign)}); validate it "
        f"with {commands}"
    )
    return [{"path": foreign[0], "message": message}]


def read_recipe_text(model: type[R], text: str, source: str) -> R:
    """Validate recipe YAML text; `source` names it in errors, each with its line."""
    try:
        data = parse_yaml(text, source)
    except FileProblem as problem:
        raise RecipeError(str(problem)) from None
    return parse_recipe(model, data, source, written=yaml_written(text))


def load_recipe(model: type[R], path: str | Path, *, hint: str = "") -> tuple[R, str]:
    """Read and validate a recipe file; returns the recipe and the file's text (recorded).
    `hint`: what to do instead, added to the error when the file cannot be read."""
    path = Path(path)
    try:
        text = read_text(path, "recipe file")
    except FileProblem as problem:
        raise RecipeError(f"{problem}; {hint}" if hint else str(problem)) from None
    return read_recipe_text(model, text, f"recipe file {path}"), text
