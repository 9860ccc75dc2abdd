"""What a run's recorded station says of itself: read as recorded, however old."""

from __future__ import annotations

from packline.sequences.engine.recorded_station import clock_label, recorded_tools, time_scale_of

SERVED = "name: line\ntime_scale: 20\ntools:\n  oven: {driver: oven, address: 'tcp://oven:502'}\n"


def test_a_served_lines_clock_passes_at_its_time_scale_a_dry_runs_at_process_time():
    assert time_scale_of({"simulated": 0, "station_yaml": SERVED}) == 20.0
    assert time_scale_of({"simulated": 1, "station_yaml": SERVED}) == 1.0
    assert time_scale_of({"simulated": 0, "station_yaml": "name: line\n"}) == 1.0


def test_a_runs_times_are_labelled_with_their_clock():
    """A served line's tool times are the controller's wall time, not the line's process
    time: a table of them says so (a trial read 0:00:05 productive for a 5-minute clean)."""
    assert clock_label({"simulated": 1, "station_yaml": SERVED}) == "simulated time"
    assert clock_label({"simulated": 0, "station_yaml": "name: line\n"}) == "wall clock"
    assert clock_label({"simulated": 0, "station_yaml": SERVED}) == (
        "wall clock; the line's process time ran 20 x as fast"
    )


def test_the_tools_are_those_recorded_and_none_of_a_station_that_recorded_none():
    assert list(recorded_tools({"station_yaml": SERVED})) == ["oven"]
    assert recorded_tools({"station_yaml": "name: line\n"}) == {}
    assert recorded_tools({"station_yaml": ""}) == {}
