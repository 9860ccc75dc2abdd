"""Which limits a tool's process trace is drawn against.

A trace is a reading a tool reports (`temperature` in degC, `pressure` in mTorr); a limit is
the allowed range of a setpoint, named with its unit (`temperature_c`, `pressure_mtorr`;
drivers/equipment/limits.py). A trace is drawn against the limit of the setpoint of its
own name and unit: the driver's limits narrowed by the run's station file, as the run drove
them. A trace with no such setpoint (`rf_reflected`, `progress`) is drawn alone, and so are
the traces of a tool whose kind is not registered (a GEM tool's limits live in its
dictionary, which the records do not keep).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packline.drivers.equipment.limits import Limit, device_bounds, narrow_limits
from packline.drivers.registry import TOOL_KINDS
from packline.sequences.engine.recorded_station import recorded_tools


def station_limits(run: Mapping[str, Any]) -> dict[str, dict[str, Limit]]:
    """Each tool of the station `run` (a runs row) recorded: its own setpoint limits (the
    driver's, narrowed by the station's `limits:`; a further device's, given under its name,
    are not the tool's traces'); a tool whose driver is not a registered kind has none."""
    limits: dict[str, dict[str, Limit]] = {}
    for name, entry in recorded_tools(run).items():
        kind = TOOL_KINDS.get(str((entry or {}).get("driver")))
        if kind is None:
            limits[str(name)] = {}
            continue
        driver = kind.load_driver()
        own, _ = device_bounds(str(name), driver.device_drivers, entry.get("limits") or {})
        limits[str(name)] = dict(narrow_limits(str(name), driver.limits, own))
    return limits


def trace_limits(setpoints: Mapping[str, Limit], traces: Mapping[str, str]) -> dict[str, Limit]:
    """The limit of each trace (name -> unit in `traces`) that has a setpoint of its name
    and unit: `temperature` in degC is drawn against `temperature_c`."""
    matched = {}
    for trace, unit in traces.items():
        for setpoint, limit in setpoints.items():
            if setpoint.startswith(f"{trace}_") and limit.unit == unit:
                matched[trace] = limit
                break
    return matched
