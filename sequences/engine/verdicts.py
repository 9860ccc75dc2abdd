"""A measurement's verdict, in the words every reader of the records gives it.

A measurement with a limit (`low`, `high`) was judged against it: `pass` or `fail`. One
without either was judged by nothing: it is `recorded`, and its `passed` is no verdict (the
records keep 1 there, the value being inside no limits at all). `show`, `wafer`, the report,
`run --json`'s events and summary, `show --json`, `wafer --json` and the export read it by
this rule, so a script counting passes counts only what was judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The verdicts of a measurement.
PASS, FAIL, RECORDED = "pass", "fail", "recorded"


def measurement_verdict(low: float | None, high: float | None, passed: Any) -> str:
    """`pass` or `fail` against the measurement's limits; `recorded` without any."""
    if _missing(low) and _missing(high):
        return RECORDED
    return PASS if passed else FAIL


def judged_passed(low: float | None, high: float | None, passed: Any) -> bool | None:
    """Whether the measurement passed its limits; None for one without any (not judged)."""
    verdict = measurement_verdict(low, high, passed)
    return None if verdict == RECORDED else verdict == PASS


def with_verdict(measurement: Mapping[str, Any]) -> dict[str, Any]:
    """A measurement (a record, or an entry with `low`, `high` and `passed`) as the JSON
    answers give it: `passed` a bool, or None where nothing judged it, and `verdict` in
    words."""
    limits = (measurement["low"], measurement["high"], measurement["passed"])
    return {
        **measurement,
        "passed": judged_passed(*limits),
        "verdict": measurement_verdict(*limits),
    }


def _missing(limit: float | None) -> bool:
    """No limit: None, or a table's empty cell (NaN)."""
    return limit is None or limit != limit
