"""Which limits a recorded run's traces are drawn against (packline/records/limits.py)."""

from __future__ import annotations

import yaml

from packline.records.limits import station_limits

#: A run's recorded station: the electroplater's cell narrowed at the top of `limits:`, its
#: supply under the device's name.
STATION_YAML = yaml.safe_dump(
    {
        "name": "line",
        "tools": {
            "electroplater": {
                "driver": "electroplater",
                "limits": {"bath_temperature_c": [25, 30], "supply": {"voltage_v": [0, 3]}},
            }
        },
    }
)


def test_a_recorded_stations_tool_has_its_own_limits_narrowed_beside_a_devices():
    """A further device's limits (the supply's, under its name) are not the tool's own: the
    tool's traces are drawn against its own limits as the station narrowed them."""
    limits = station_limits({"station_yaml": STATION_YAML})["electroplater"]
    bath = limits["bath_temperature_c"]
    assert (bath.minimum, bath.maximum) == (25, 30)
    assert "voltage_v" not in limits
    assert "supply" not in limits
