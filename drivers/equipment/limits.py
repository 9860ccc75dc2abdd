"""Setpoint limits: every setpoint a driver sends has a range, checked before anything is sent.

A driver declares its own (`Equipment.limits`, from its tool's spec); a station file may only
narrow them (`narrow_limits`), and on a tool of several devices those of each further device
too, under the device's name (`device_bounds`, `named_limits`); `check_limit` refuses a value
outside them with `LimitViolation`, naming the tool, the action, the setpoint, the value and
the range.

A value within `ROUNDING` of a bound is at the bound (`Limit.contains`) and is sent as the
bound itself (`Limit.held`): a recipe's "3 mJ/mm^2" reaches a 0.3 J/cm2 limit as
0.30000000000000004 J/cm2 after its unit conversion, and must be taken as every other spelling
of 0.3 J/cm2 is, and sent as 0.3.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from packline.shown_figures import figure_text
from packline.spelling import did_you_mean

from ..errors import LimitViolation, SetupRefused, described_limit

#: A setpoint's bounds as a station file gives them: [minimum, maximum] in its unit.
Bounds: TypeAlias = tuple[float, float]
#: A station file's `limits:` of one tool: setpoint -> bounds for the tool's own setpoints and,
#: on a tool of several devices, a further device's name -> its setpoints' bounds.
StationLimits: TypeAlias = Mapping[str, "Bounds | Mapping[str, Bounds]"]
#: Where a station narrows a tool's limits, as a refusal names it: given a bound's key in the
#: tool's entry (`limits.supply.voltage_v`), the place of that key (`line 7 of station file
#: line.yaml`).
LimitsSource: TypeAlias = Callable[[str], str]


def unplaced(key: str) -> str:
    """The `LimitsSource` of limits set nowhere a refusal could name (none, or a recorded
    station's): a refusal names the limit alone."""
    return ""


#: How far past a bound, relative to it, a value is still judged at the bound: the rounding of
#: a unit conversion. A scaling rounds in the last place or two ("3 mJ/mm^2" is 0.3 J/cm2 and
#: one place more); a temperature converted through kelvin rounds in the last place of the
#: kelvin value, a dozen places of a small degC bound ("71.6 degF" is 22.000000000000057 degC).
#: 32 places (7e-15 of the bound) hold both, far under any difference a recipe means.
ROUNDING = 32 * sys.float_info.epsilon


@dataclass(frozen=True)
class Limit:
    """The allowed range of one setpoint, in the unit its name carries."""

    minimum: float
    maximum: float
    unit: str
    #: Only whole numbers are sent (a count, a stack of studs): 2.5 is refused, never rounded.
    whole: bool = False
    #: Where a limit narrower than the driver's was set (`line 7 of station file line.yaml`,
    #: or the file where its line is not known); empty for the driver's own. A refusal names
    #: it, so the operator knows which line to look at.
    source: str = ""
    #: What sets the minimum where the process does not ("the 25 degC room the oven cools
    #: to"), said where a recipe is explained; empty otherwise
    floor: str = ""

    def __post_init__(self) -> None:
        if self.minimum > self.maximum:
            low, high = (
                figure_text(self.minimum, self.maximum),
                figure_text(self.maximum, self.minimum),
            )
            raise ValueError(f"limit minimum {low} is above maximum {high}")

    def contains(self, value: float) -> bool:
        """Whether `value` is in the range, one past a bound by no more than `ROUNDING` at it."""
        return (
            self.minimum - abs(self.minimum) * ROUNDING
            <= value
            <= self.maximum + abs(self.maximum) * ROUNDING
        )

    def held(self, value: float) -> float:
        """`value`, which the range `contains`, as it is sent: one it contains only by
        rounding is the bound, so a tool never sees (or encodes past its register's range)
        0.30000000000000004 for 0.3; any other as it is."""
        if value > self.maximum:
            return self.maximum
        if value < self.minimum:
            return self.minimum
        return value

    def described(self) -> str:
        """`[1, 5.605] cm2`, and where it was set if not by the driver (`... of station file
        line.yaml`): how a refusal names the limit."""
        return described_limit(self.minimum, self.maximum, self.unit, self.source)


def check_limit(
    tool: str, address: str, action: str, setpoint: str, limit: Limit, value: float
) -> float:
    """Return `value` as it is sent (`Limit.held`: a value at a bound within rounding is the
    bound) if `limit` contains it, else raise `LimitViolation`; a fraction for a whole-number
    setpoint is a `ValueError` (nothing is rounded)."""
    if not limit.contains(value):
        raise LimitViolation(
            tool, address, action, setpoint, value, limit.minimum, limit.maximum, limit.unit,
            source=limit.source,
        )  # fmt: skip
    if limit.whole and value != int(value):
        raise ValueError(
            f"{tool} at {address}: {action}: {setpoint} = {value:g} must be a "
            "whole number (the tool takes no fraction, and nothing is rounded)"
        )
    return limit.held(value)


def narrow_limits(
    tool: str,
    own_limits: Mapping[str, Limit],
    overrides: Mapping[str, tuple[float, float]],
    source: LimitsSource = unplaced,
    key: str = "limits",
) -> dict[str, Limit]:
    """A driver's limits (`own_limits`) narrowed by `overrides` (a station file's `limits:`,
    `source` naming where each bound is set: its line in the file; `key`, where in the tool's
    entry they are given: a further device's under `limits.<device>`).

    An override may only narrow: a range reaching outside the driver's own is refused,
    naming the setpoint, the value and the driver's range, because the driver's range is
    what keeps a recipe inside the process window the tool and the product can take.
    """
    merged = dict(own_limits)
    for setpoint, bounds in overrides.items():
        if setpoint not in merged:
            known = sorted(merged)
            raise SetupRefused(
                tool,
                f"no setpoint {setpoint!r} to limit"
                f"{'' if key == 'limits' else f' in {key}'}{did_you_mean(setpoint, known)}; "
                f"known setpoints: {', '.join(known)}",
            )
        own = merged[setpoint]
        where = source(f"{key}.{setpoint}")
        try:
            minimum, maximum = (float(bound) for bound in bounds)
            if not (math.isfinite(minimum) and math.isfinite(maximum)):
                raise ValueError("limits must be finite")
            narrowed = Limit(minimum, maximum, own.unit, own.whole, where)
        except (TypeError, ValueError) as error:
            raise SetupRefused(
                tool,
                f"{key}.{setpoint} must be [minimum, maximum] in {own.unit}, "
                f"minimum not above maximum; got {_as_written(bounds)} ({error})",
            ) from None
        if narrowed.minimum < own.minimum or narrowed.maximum > own.maximum:
            raise SetupRefused(
                tool,
                f"{key}.{setpoint} [{minimum:g}, {maximum:g}] {own.unit} "
                f"reaches outside the driver's range [{own.minimum:g}, {own.maximum:g}] "
                f"{own.unit}; a station's limits may only narrow it",
            )
        merged[setpoint] = narrowed
    return merged


def device_bounds(
    tool: str, devices: Collection[str], limits: StationLimits
) -> tuple[dict[str, Bounds], dict[str, dict[str, Bounds]]]:
    """A station file's `limits:` of `tool` split into the bounds of its own setpoints and,
    by device, those of each of its further `devices` (the plating cell's `supply`), given
    as a mapping under the device's name. A mapping under any other name is refused
    (`SetupRefused`), naming the devices the tool has: a setpoint's bounds are a pair."""
    own: dict[str, Bounds] = {}
    by_device: dict[str, dict[str, Bounds]] = {}
    for name, bounds in limits.items():
        if not isinstance(bounds, Mapping):
            own[name] = bounds
        elif name in devices:
            by_device[name] = dict(bounds)
        else:
            further = (
                f"its further devices: {', '.join(sorted(devices))}"
                f"{did_you_mean(name, sorted(devices))}"
                if devices
                else "it has no further device"
            )
            raise SetupRefused(
                tool,
                f"limits.{name}: a mapping limits the setpoints of a further device of the "
                f"tool, under the device's name ({further}); a setpoint of the tool's own is "
                "limited by [minimum, maximum]",
            )
    return own, by_device


def named_limits(
    own: Mapping[str, Limit], devices: Mapping[str, Mapping[str, Limit]]
) -> dict[str, Limit]:
    """`own` (a tool's own limits) and each further device's, named `<device>.<setpoint>` as a
    recipe's check names them (`supply.voltage_v`)."""
    return {
        **own,
        **{
            f"{device}.{setpoint}": limit
            for device, limits in devices.items()
            for setpoint, limit in limits.items()
        },
    }


def _as_written(bounds: object) -> str:
    """A limit's bounds as a station file writes them, `[300, 30]`, not as Python holds them
    (a trial's upside-down limit had read `got (300.0, 30.0)`)."""
    if not isinstance(bounds, tuple | list):
        return repr(bounds)
    numbers = [float(bound) for bound in bounds if isinstance(bound, int | float)]
    each = (
        figure_text(bound, *numbers) if isinstance(bound, int | float) else repr(bound)
        for bound in bounds
    )
    return f"[{', '.join(each)}]"
