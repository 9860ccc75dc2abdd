"""The metadata a recipe model's fields carry (`Feeds`, `AtLeastFor`, `NeededWhen`) and what
reads it plainly, apart from the recipe models (`recipe`) and their explanation for people
(`recipe_fields`), which both use it: a recipe's refusal says what a field is for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from packline.drivers.equipment import Limit
from packline.drivers.registry import kinds_of
from packline.units import quantity_text

#: The pydantic error type of a value no tool of its role could take (see `Feeds`).
TOOL_RANGE = "tool_range"


@cache
def tool_range(role: str, setpoint: str) -> Limit:
    """The widest default limit of `setpoint` over the registered tool kinds of `role`: what
    any tool of the role could take, before a station narrows it."""
    limits = [
        limits[setpoint]
        for kind in kinds_of((role,))
        if setpoint in (limits := kind.load_driver().limits)
    ]
    if not limits:
        raise KeyError(f"no tool kind of role {role!r} has a setpoint {setpoint!r}")
    lowest = min(limits, key=lambda limit: limit.minimum)
    return Limit(
        lowest.minimum,
        max(limit.maximum for limit in limits),
        limits[0].unit,
        floor=lowest.floor,
    )


@dataclass(frozen=True)
class AtLeastFor:
    """Recipe field metadata: a lower bound the field must meet in one use of it (`use`),
    which the recipe that uses it so checks, naming its claim; shown beside the field's own
    range where the recipe is explained (a plated wiring's `min_thickness_um` is at least
    3 um, a solder layer's need not be)."""

    minimum: float
    use: str


@dataclass(frozen=True)
class Because:
    """Recipe field metadata: why the field's own range (its `Field` bounds) is what it is,
    the physical reason, and the claim it serves where it serves one (a fill's `tolerance` at
    most 0.05: the dispenser's camera counts a hole off by more as over- or underfilled,
    000:b). Every refusal of a value past the bounds says it, and so does the range where the
    recipe is explained, as a range a tool's limits set names the tool (`Feeds`). Declared
    once, beside the bounds."""

    reason: str
    #: the claim whose constraint the bounds are, named as a claim's refusal names it, after
    #: the reason (`(claim 000:b)`); "" for a physical reason alone
    claim: str = ""


#: Why a batch waits at most a day for its tool to fill (a `batch_timeout_s`'s range).
WAITS_A_DAY_AT_MOST = Because(
    "a batch still short of its tool's load after a day waits for wafers that are not coming, "
    "while those that wait age (oxide, moisture): the lot runs partly loaded well before"
)


#: Why a cool-down may take 4 hours at most (a `cool_timeout_s`'s range).
COOLS_IN_4_HOURS = Because(
    "an oven load not cooled to its door temperature in 4 h has lost its cooling: a fault, "
    "not a slow load"
)


@dataclass(frozen=True)
class CheckedFloor:
    """Recipe field metadata: the least value a check of the recipe takes (`above`: only more
    than it), refusing less naming its claim where the field's own bounds would refuse it
    without one; shown as the field's lower bound where the recipe is explained, so that what
    is shown is what validate takes (a seed film's `thickness_nm` above 0 nm, not the
    deposition tool's 0-5000 nm)."""

    minimum: float
    above: bool = False


@dataclass(frozen=True)
class CheckedChoices:
    """Recipe field metadata: the members of a choice a check of the recipe takes, refusing
    the others naming its claim; the only ones listed where the recipe is explained (a seed
    film is sputtered or evaporated: the deposition tool's cvd is not listed)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class NeededWhen:
    """Recipe field metadata: an optional section or setting a recipe needs `when` it holds
    (`with support film`, `to sputter`; "": always): the recipe that uses it refuses it left
    out or null then, saying what it takes (a seed etch's least dips), which pydantic's bare
    "Field required" could not. Where the recipe is explained the field reads required (when),
    not optional, and `otherwise` what it is where it is not needed."""

    when: str = ""
    otherwise: str = "left out otherwise"


@dataclass(frozen=True)
class Feeds:
    """Recipe field metadata: the field's value is sent to a `role` tool as its `setpoint` (a
    key of the driver's limits, in that limit's unit). The value is refused when the recipe is
    read if no tool of the role could take it (`tool_range`), and checked against the station's
    tools' own limits before any tool moves. `measure` sends something of the value instead of
    the value itself, such as `len` of a list of steps."""

    role: str
    setpoint: str
    measure: Callable[[Any], float] | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._within_range, handler(source))

    def _within_range(self, value: Any) -> Any:
        """`value` if a tool of the role could take what is sent of it, a value at a bound
        within a unit conversion's rounding as the bound itself (`Limit.held`: what is sent
        is what every spelling of the bound gives); else a `TOOL_RANGE` error."""
        sent = self.measure(value) if self.measure is not None else value
        limit = tool_range(self.role, self.setpoint)
        if not limit.contains(sent):
            bound = (
                f"at least {limit.minimum:g}"
                if sent < limit.minimum
                else f"at most {limit.maximum:g}"
            )
            raise PydanticCustomError(
                TOOL_RANGE,
                "must be {bound} {unit} "
                "(the {role} range of {setpoint}: {minimum}-{maximum} {unit}; given {given})",
                {
                    "bound": bound,
                    "unit": limit.unit,
                    "role": self.role,
                    "setpoint": self.setpoint,
                    "minimum": f"{limit.minimum:g}",
                    "maximum": f"{limit.maximum:g}",
                    # every digit a recipe means: a value just past 0.3 is not "given 0.3"
                    "given": quantity_text(sent, limit.unit),
                },
            )
        return value if self.measure is not None else limit.held(value)


def unwrapped(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X (any depth); anything else as it is."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation
