"""Quantities with units in recipes: converted to the field's unit, or refused saying why."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from packline.units import Unit, to_magnitude


class Sheet(BaseModel):
    thickness_um: Annotated[float, Unit("um"), Field(gt=0, le=100)]
    pressure_mtorr: Annotated[float, Unit("mTorr")]
    temperature_degc: Annotated[float, Unit("degC")]


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("55 um", "um", 55.0),
        ("0.055 mm", "um", 55.0),
        ("13.3322 Pa", "mTorr", 100.0),
        ("393.15 K", "degC", 120.0),
        ("100 sccm", "sccm", 100.0),
        ("20 slm", "slm", 20.0),
        ("20000 sccm", "slm", 20.0),  # "slm" was read as a power, and refused this
        ("20 L/min", "slm", 20.0),
        ("0.1 slm", "sccm", 100.0),
        ("2 min", "s", 120.0),
        ("30 krpm", "rpm", 30000.0),
        ("2 J/cm^2", "J/cm^2", 2.0),
        ("20 degC/min", "degC/min", 20.0),  # a ramp: a temperature difference per minute
        ("20 K/min", "degC/min", 20.0),
        ("1 degF/s", "degC/min", 33.333),
        ("120 degC", "K", 393.15),  # a temperature alone stays absolute
    ],
)
def test_converts_to_the_declared_unit(text: str, unit: str, value: float):
    assert to_magnitude(text, unit) == pytest.approx(value, rel=1e-4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("55 W", "'55 W' is a power, expected a length"),
        (55, "55 has no unit; write it with one, e.g. '55 µm'"),
        ("fifty", "'fifty' is not a quantity"),
        ("1e999 um", "not a finite quantity"),
        (None, "expected a quantity such as '10 µm', got None"),
        (True, "expected a quantity in µm, got True"),
    ],
)
def test_refuses_with_what_is_wrong(text: object, message: str):
    with pytest.raises(ValueError, match=message):
        to_magnitude(text, "um")


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        (
            "150 C",
            "degC",
            "'150 C' is a charge (C is the coulomb); write 150 degC for a temperature",
        ),
        (
            "300 F",
            "degC",
            "'300 F' is a capacitance (F is the farad); write 300 degF for a temperature",
        ),
        (
            "150 c",
            "degC",
            "'150 c' is a speed (c is the speed of light); write 150 degC for a temperature",
        ),
        (
            "20 C/min",
            "degC/min",
            "'20 C/min' is a current (C is the coulomb); write 20 degC/min for a temperature rate",
        ),
    ],
)
def test_a_temperature_written_in_another_units_symbol_is_refused_saying_what_to_write(
    text: str, unit: str, message: str
):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        to_magnitude(text, unit)


def test_a_charge_is_still_a_charge_where_no_temperature_is_expected():
    assert to_magnitude("2 C", "A*s") == 2.0
    with pytest.raises(ValueError, match="'150 C' is a charge, expected a length"):
        to_magnitude("150 C", "um")


def test_pydantic_field_names_the_path_and_keeps_bounds():
    sheet = Sheet(thickness_um="45 um", pressure_mtorr="100 mTorr", temperature_degc="90 degC")
    assert sheet.thickness_um == 45.0
    assert sheet.model_dump()["thickness_um"] == "45 um"
    with pytest.raises(ValidationError) as error:
        Sheet(thickness_um="0.5 mm", pressure_mtorr="3 kg", temperature_degc="90 degC")
    problems = {e["loc"][0]: e["msg"] for e in error.value.errors()}
    assert "less than or equal to 100" in problems["thickness_um"]
    assert "is a mass, expected a pressure" in problems["pressure_mtorr"]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_bare_number_must_be_finite_in_a_dimensionless_field(value: float):
    with pytest.raises(ValueError, match="not a finite number"):
        to_magnitude(value, "")
    assert to_magnitude(3, "") == 3.0


def test_a_quantity_written_out_reads_back_unchanged():
    class Span(BaseModel):
        length_um: Annotated[float, Unit("um")]

    span = Span(length_um="1234.5675 mm")
    dumped = span.model_dump()["length_um"]
    assert dumped == "1234567.5 um"  # `:g` wrote 1.23457e+06 um
    assert Span(length_um=dumped).length_um == span.length_um
    assert Span(length_um="0.055 mm").model_dump()["length_um"] == "55 um"  # no float noise
