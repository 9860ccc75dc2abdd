"""A refusal's suggestion printed with fewer figures than it was worked out to still passes the
test it was worked out for: a least is rounded up (`rounded_up`), a most down
(`rounded_down`), each a step further where the float's product with the scale lands on the
step past the value (0.8999999999999999 x 10 is 9.0), and a value on a step keeps it."""

from __future__ import annotations

import pytest

from packline.sequences.solder import rounded_down, rounded_up


@pytest.mark.parametrize(
    ("value", "decimals", "down", "up"),
    [
        (158.76, 1, 158.7, 158.8),
        (12.3, 1, 12.3, 12.3),  # on a step: kept either way
        (3.14159, 2, 3.14, 3.15),
        (0.8999999999999999, 1, 0.8, 0.9),  # x 10 is 9.0: 0.9 would be above it
        (1.7000000000000002, 1, 1.7, 1.8),  # x 10 is 17.0: 1.7 would be below it
        (42.0, 0, 42.0, 42.0),
    ],
)
def test_a_suggestion_rounds_to_its_figures_on_the_side_that_passes(value, decimals, down, up):
    assert rounded_down(value, decimals) == down <= value
    assert rounded_up(value, decimals) == up >= value
