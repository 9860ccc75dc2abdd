"""What a run's recorded station says of itself: read as recorded, however old."""

from __future__ import annotations

from packline.sequences.engine.recorded_station import recorded_tools, time_scale_of

SERVED = "name: line\ntime_scale: 20\ntools:\n  oven: {driver: oven, address: 'tcp://oven:502'}\n"


def test_a_served_lines_clock_passes_at_its_time_scale_a_dry_runs_at_process_time():
    assert time_scale_of({"simulated": 0, "station_yaml": SERVED}) == 20.0
    assert time_scale_of({"simulated": 1, "station_yaml": SERVED}) == 1.0
    assert time_scale_of({"simulated": 0, "station_yaml": "name: line\n"}) == 1.0


def test_the_tools_are_those_recorded_and_none_of_a_station_that_recorded_none():
    assert list(recorded_tools({"station_yaml": SERVED})) == ["oven"]
    assert recorded_tools({"station_yaml": "name: line\n"}) == {}
    assert recorded_tools({"station_yaml": ""}) == {}
