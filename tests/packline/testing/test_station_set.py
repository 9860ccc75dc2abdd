"""packline's hardware-in-the-loop set (`packline.testing.station_checks`), collected with the
suite: `pytest --station=line.yaml -m station` from this repository runs it on the tools of
line.yaml, and the suite runs it on the in-process simulated line (its run against a line
`packline sim serve` serves in another process is test_station_checks.py)."""

from packline.testing.station_checks import *  # noqa: F403  (the set's tests and its mark)
