"""What a run's recorded station says of itself, read from its YAML as recorded (a run of an
earlier release included, whose station today's parser might refuse): its time scale and its
tools. The station as a whole, parsed, is `launch.recorded_station`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


def time_scale_of(run: Mapping[str, Any]) -> float:
    """How many times faster than process time a recorded run's clock passed: 1 for a dry run
    (simulated process time), the station's `time_scale` for a served line."""
    if run["simulated"]:
        return 1.0
    return float(_station(run).get("time_scale", 1.0))


def recorded_tools(run: Mapping[str, Any]) -> dict[str, Any]:
    """The tools of the station `run` (a runs row) drove, by name, as recorded."""
    return dict(_station(run).get("tools") or {})


def _station(run: Mapping[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(run["station_yaml"]) or {}
