"""The refusals' texts: what a person reads when a driver refuses."""

from __future__ import annotations

import numpy as np
import pytest

from packline.drivers.errors import LimitViolation


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.3000001, "0.3000001"),
        (0.04999999, "0.04999999"),
        (np.float64(0.3000001), "0.3000001"),  # not `np.float64(0.3000001)`
        (0.3, "0.3"),  # at a bound an exclusive check refuses: as the bound reads
        (0.5, "0.5"),
        (0.01, "0.01"),
    ],
)
def test_a_limit_violation_names_the_value_apart_from_the_bound_it_passed(value, shown):
    """`0.3000001 J/cm2 is outside [0.05, 0.3]` read `0.3 J/cm2 is outside [0.05, 0.3]`."""
    refused = LimitViolation("laser", "tcp://laser:5025", "clean", "fluence_j_cm2", value,
                             0.05, 0.3, "J/cm2")  # fmt: skip
    assert str(refused) == (
        f"laser at tcp://laser:5025: clean: fluence_j_cm2 = {shown} J/cm2 is outside the "
        "limits [0.05, 0.3] J/cm2"
    )
