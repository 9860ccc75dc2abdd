"""The records every driver speaks in, whatever the tool: who the tool is (`Identity`), the
range of a setpoint (`Limit`), an alarm and a process reading as the driver saw them, and the
rule for a wafer id that travels on every tool's wire.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """Who the tool says it is."""

    vendor: str
    model: str
    serial_number: str
    firmware: str

    def __str__(self) -> str:
        return f"{self.vendor} {self.model} s/n {self.serial_number} fw {self.firmware}"


@dataclass(frozen=True)
class Limit:
    """The allowed range of one setpoint, in the unit its name carries."""

    minimum: float
    maximum: float
    unit: str
    #: Only whole numbers are sent (a count, a stack of studs): 2.5 is refused, never rounded.
    whole: bool = False

    def __post_init__(self) -> None:
        if self.minimum > self.maximum:
            raise ValueError(f"limit minimum {self.minimum} is above maximum {self.maximum}")

    def contains(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum


@dataclass(frozen=True)
class Alarm:
    """One alarm as the tool reported it, and when the driver saw it come and go."""

    code: str
    message: str
    raised_at_s: float
    cleared_at_s: float | None = None


@dataclass(frozen=True)
class Reading:
    """One sample of a process trace."""

    tool: str
    name: str
    value: float
    unit: str
    time_s: float


ReadingListener = Callable[[Reading], None]

WAFER_ID_MAX_LENGTH = 16


#: Characters no wafer id holds: they separate arguments and delimit strings on the wire.
WAFER_ID_SEPARATORS = ',;"'


def is_wafer_id(text: str) -> bool:
    """Whether `text` can travel as a wafer id on every tool's wire."""
    return 1 <= len(text) <= WAFER_ID_MAX_LENGTH and all(
        33 <= ord(c) < 127 and c not in WAFER_ID_SEPARATORS for c in text
    )


def validate_wafer_id(wafer_id: str) -> None:
    """Wafer ids travel in fixed register blocks and command lines: 1-16 printable ASCII
    characters, none of them a space or a separator of a command line (`,` `;` `"`)."""
    if not is_wafer_id(wafer_id):
        raise ValueError(
            f"wafer id {wafer_id!r} must be 1-{WAFER_ID_MAX_LENGTH} printable ASCII characters, "
            "no space, comma, semicolon or double quote"
        )


def narrow_limits(
    tool: str, own_limits: Mapping[str, Limit], overrides: Mapping[str, tuple[float, float]]
) -> dict[str, Limit]:
    """A driver's limits (`own_limits`) narrowed by `overrides` (a station file's `limits:`).

    An override may only narrow: a range reaching outside the driver's own is refused,
    naming the setpoint, the value and the driver's range, because the driver's range is
    what keeps a recipe inside the process window the tool and the product can take.
    """
    merged = dict(own_limits)
    for setpoint, bounds in overrides.items():
        if setpoint not in merged:
            raise ValueError(
                f"{tool}: no setpoint {setpoint!r} to limit; "
                f"known setpoints: {', '.join(sorted(merged))}"
            )
        own = merged[setpoint]
        try:
            minimum, maximum = (float(bound) for bound in bounds)
            if not (math.isfinite(minimum) and math.isfinite(maximum)):
                raise ValueError("limits must be finite")
            narrowed = Limit(minimum, maximum, own.unit, own.whole)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{tool}: limits.{setpoint} must be [minimum, maximum] in {own.unit}, "
                f"minimum not above maximum; got {bounds!r} ({error})"
            ) from None
        if narrowed.minimum < own.minimum or narrowed.maximum > own.maximum:
            raise ValueError(
                f"{tool}: limits.{setpoint} [{minimum:g}, {maximum:g}] {own.unit} "
                f"reaches outside the driver's range [{own.minimum:g}, {own.maximum:g}] "
                f"{own.unit}; a station's limits may only narrow it"
            )
        merged[setpoint] = narrowed
    return merged
