"""Standard JSON out of every `--json` (packline/json_text.py)."""

from __future__ import annotations

import json
import math

import numpy as np

from packline.json_text import finite, json_text


def test_a_non_finite_figure_is_null_at_any_depth_and_the_rest_as_given():
    data = {"worst": math.inf, "rows": [(1.5, -math.inf), {"nan": math.nan}], "n": 3, "ok": True}
    assert finite(data) == {"worst": None, "rows": [[1.5, None], {"nan": None}], "n": 3, "ok": True}
    text = json_text({**data, "reading": np.float64("inf")}, indent=2)
    # a strict reader takes it: Python's NaN and Infinity are no JSON
    strict = json.loads(text, parse_constant=lambda name: _refused(name))
    assert strict["reading"] is None
    assert strict["rows"] == [[1.5, None], {"nan": None}]


def _refused(name: str) -> None:
    raise AssertionError(f"{name} in the JSON")
