"""How `show` and `wafer` print a measurement: against its limits, with its margin."""

from __future__ import annotations

import pytest

from packline.cli.show import measured_text


@pytest.mark.parametrize(
    ("low", "high", "value", "text"),
    [
        (10.0, 15.0, 12.5, "12.5 um in [10, 15]: 2.5 um to spare"),
        (10.0, 15.0, 14.0, "14 um in [10, 15]: 1 um to spare"),
        (10.0, None, 9.5, "9.5 um in [10, -]: 0.5 um outside"),
        (None, 15.0, 16.0, "16 um in [-, 15]: 1 um outside"),
        (None, None, 3.0, "3 um"),
    ],
)
def test_a_measurement_reads_with_its_limits_and_margin(low, high, value, text):
    measurement = {"value": value, "unit": "um", "low": low, "high": high}
    assert measured_text(measurement) == text
