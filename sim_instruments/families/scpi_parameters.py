"""The parameters of a SCPI line as a simulated tool parses them, in the family's errors.

A line's parameters are split on commas outside quoted strings, then each handler checks
their count (-109, -108) and reads them as the family's forms: an 8-bit register value, a
mnemonic among choices, a SCPI boolean, a wafer id as a quoted string (-104, -222, -224). The
family's wire side is `sim_instruments/families/scpi.py`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeVar

from packline.drivers.equipment import is_wafer_id
from packline.drivers.families.scpi_wire import (
    mnemonic_value,
    split_outside_quotes,
    unquote,
)

from .scpi_session import ScpiError

T = TypeVar("T")


def split_arguments(text: str) -> list[str]:
    """Split on commas outside double-quoted strings; each argument stripped."""
    return split_outside_quotes(text, ",")


def count(header: str, arguments: list[str], expected: int) -> None:
    """-109 with fewer parameters than `expected`, -108 with more."""
    if len(arguments) < expected:
        raise ScpiError(-109, header)
    if len(arguments) > expected:
        raise ScpiError(-108, f"{header} takes no parameter" if not expected else header)


def register(header: str, arguments: list[str]) -> int:
    """An 8-bit register value (`*ESE`, `*SRE`): a whole number 0-255."""
    count(header, arguments, 1)
    try:
        value = float(arguments[0])
    except ValueError:
        raise ScpiError(-104, f"{header} {arguments[0]} is not a number", parameter=0) from None
    if not math.isfinite(value) or value != int(value):
        raise ScpiError(-104, f"{header} {arguments[0]} is not a whole number", parameter=0)
    if not 0 <= value <= 255:
        raise ScpiError(-222, f"{header} {arguments[0]} outside 0-255", parameter=0)
    return int(value)


def choice(header: str, arguments: list[str], choices: Mapping[T, str]) -> T:
    """The value whose mnemonic the one parameter is; -224 otherwise."""
    count(header, arguments, 1)
    value = mnemonic_value(choices, arguments[0])
    if value is not None:
        return value
    allowed = ", ".join(choices.values())
    raise ScpiError(-224, f"{header} {arguments[0]}: expected {allowed}", parameter=0)


def quoted_wafer_id(text: str, position: int) -> str:
    """A wafer id, the `position`-th parameter: SCPI <STRING PROGRAM DATA>, double-quoted (-104
    bare) of 1-16 printable ASCII characters without a space, `,`, `;` or `"` (-224)."""
    try:
        value = unquote(text)
    except ValueError:
        raise ScpiError(
            -104, f"wafer id {text} must be a quoted string", parameter=position
        ) from None
    if not is_wafer_id(value):
        raise ScpiError(
            -224, f"wafer id {text} is not 1-16 printable characters", parameter=position
        )
    return value


def switch(header: str, arguments: list[str]) -> bool:
    """A SCPI boolean: ON, OFF, 1 or 0."""
    if arguments in (["1"], ["0"]):
        return arguments == ["1"]
    return choice(header, arguments, {True: "ON", False: "OFF"})


def flag(value: bool) -> str:
    return "1" if value else "0"
