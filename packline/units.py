"""Quantities with units in recipes: `"55 um"`, `"300 W"`, `"120 degC"`, `"2 min"`.

A recipe field is declared with the unit the code works in, `Annotated[float, Unit("um")]`; the YAML
value may be written in any unit of the same dimension (`"0.055 mm"`) and arrives in the code
as a plain float in the declared unit, whose name the field carries (`thickness_um`). A value
of the wrong dimension, a bare number where a unit is required, or text that is not a quantity
is refused by pydantic with the field's path.

The unit registry is built on the first conversion: pint takes a few hundred milliseconds to
build one, which a command that converts nothing (`packline methods`) should not pay.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

if TYPE_CHECKING:
    import pint


@cache
def registry() -> pint.UnitRegistry[Any]:
    """The units recipes are written in: pint's, and the process units it lacks."""
    import pint

    ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("sccm = cubic_centimeter / minute")  # standard cubic centimetres per minute
    # standard litres per minute: pint read "slm" as a product of its own units (a power)
    ureg.define("slm = liter / minute = _ = slpm")
    ureg.define("gf = gram_force")
    ureg.define("@alias torr = Torr")
    return ureg


@cache
def _unit(unit: str) -> pint.Unit:
    return registry().Unit(unit)


def to_magnitude(value: object, unit: str) -> float:
    """`value` ("55 um", "0.5 MPa") as a float in `unit`; ValueError saying what is wrong."""
    target = _unit(unit)
    if isinstance(value, bool):
        raise ValueError(f"expected a quantity in {target:~P}, got {value!r}")
    if isinstance(value, int | float):
        if target.dimensionless:
            if not math.isfinite(value):
                raise ValueError(f"{value!r} is not a finite number")
            return float(value)
        raise ValueError(f"{value!r} has no unit; write it with one, e.g. '{value} {target:~P}'")
    if not isinstance(value, str):
        raise ValueError(f"expected a quantity such as '10 {target:~P}', got {value!r}")
    quantity = _quantity(value.strip(), target)
    if quantity is None:
        raise ValueError(f"{value!r} is not a quantity (e.g. '10 {target:~P}')")
    if quantity.dimensionality != target.dimensionality:
        what = f"{value!r} is {_a(_dimension_name(quantity))}"
        misread = _misread_symbol(value.strip(), target)
        if misread is not None:
            raise ValueError(f"{what} {misread}")
        raise ValueError(f"{what}, expected {_a(_dimension_name(target))} (e.g. '10 {target:~P}')")
    magnitude = float(quantity.to(target).magnitude)
    if not math.isfinite(magnitude):
        raise ValueError(f"{value!r} is not a finite quantity")
    return magnitude


def _quantity(text: str, target: pint.Unit) -> pint.Quantity[Any] | None:
    """`text` read as a quantity for a field in `target` (a degC in it a difference unless the
    field is a temperature); None: it is not a quantity."""
    from pint.errors import PintError

    if target.dimensionality != _unit("K").dimensionality:
        text = _temperatures_as_differences(text)
    try:
        return registry().Quantity(text)
    except (PintError, ValueError, AttributeError, TypeError, SyntaxError):
        return None


#: Unit symbols people write for a temperature that are another unit's: the unit each is, and
#: the unit they mean. "150 C" is 150 coulomb, "300 F" 300 farad, "150 c" 150 light speeds.
_MISREAD_SYMBOLS = {
    "C": ("the coulomb", "degC"),
    "F": ("the farad", "degF"),
    "c": ("the speed of light", "degC"),
}


def _misread_symbol(text: str, target: pint.Unit) -> str | None:
    """What `text`, of another dimension than `target`, means to say where it writes one of
    `_MISREAD_SYMBOLS` and would be of `target`'s with the unit meant in its place: "(C is the
    coulomb); write 150 degC for a temperature". None: it is not such a slip."""
    for symbol, (unit, meant) in _MISREAD_SYMBOLS.items():
        symbol_alone = rf"\b{symbol}\b"
        if not re.search(symbol_alone, text):
            continue
        corrected = re.sub(symbol_alone, meant, text)
        quantity = _quantity(corrected, target)
        if quantity is not None and quantity.dimensionality == target.dimensionality:
            return f"({symbol} is {unit}); write {corrected} for {_a(_dimension_name(target))}"
    return None


@cache
def _dimension_names() -> dict[Any, str]:
    """Names for the dimensions recipes use, so an error says "a power", not
    "[mass]*[length]**2/…"."""
    return {
        _unit(unit).dimensionality: name
        for unit, name in [
            ("m", "length"),
            ("s", "time"),
            ("K", "temperature"),
            ("K/s", "temperature rate"),
            ("W", "power"),
            ("Pa", "pressure"),
            ("N", "force"),
            ("kg", "mass"),
            ("sccm", "gas flow"),
            ("Hz", "frequency or rotation speed"),
            ("m/s", "speed"),
            ("J/m^2", "energy per area (fluence)"),
            ("J", "energy"),
            ("C", "charge"),
            ("A", "current"),
            ("F", "capacitance"),
        ]
    }


def _temperatures_as_differences(text: str) -> str:
    """In a quantity that is not a temperature, degC and degF are temperature differences: a
    ramp of "20 degC/min" is 20 K/min, not (20 degC = 293.15 K) per minute."""
    return re.sub(r"\bdeg([CF])\b", r"delta_deg\1", text)


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _dimension_name(thing: pint.Quantity[Any] | pint.Unit) -> str:
    dimensionality = thing.dimensionality
    if not dimensionality:
        return "dimensionless number"
    return _dimension_names().get(dimensionality, f"quantity of {dimensionality}")


def quantity_text(magnitude: float, unit: str) -> str:
    """A quantity as a recipe writes it and reads it back unchanged: "55 um", "600 s"."""
    return f"{_shortest(magnitude)} {unit}"


def _shortest(magnitude: float) -> str:
    """`magnitude` to 12 significant digits: "55", "0.055", "1234567.5".

    `:g` keeps only 6, so a recipe written out and read back would change (1234567.5 um came
    back as 1234570 um); 12 keep every digit a recipe means and drop conversion noise
    (55.00000000000001 from "0.055 mm" is written "55").
    """
    return f"{magnitude:.12g}"


@dataclass(frozen=True)
class Unit:
    """Recipe field metadata: the field is a quantity, held as a float in `unit`.

    `length_um: Annotated[float, Unit("um")]` accepts "55 um" or "0.055 mm" and holds 55.0; a
    type checker sees a float. Constraints after it (`Field(gt=0)`) apply in `unit`.
    """

    unit: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        unit = self.unit
        return core_schema.no_info_before_validator_function(
            lambda value: to_magnitude(value, unit),
            handler(source),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda magnitude: quantity_text(magnitude, unit),
                return_schema=core_schema.str_schema(),
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "description": f"a quantity convertible to {self.unit}"}
