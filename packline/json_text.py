"""JSON for a machine to read, as every `--json` output and event line writes it.

Standard JSON has no NaN or infinity, and a strict reader (jq, a browser's `JSON.parse`,
Starlette) refuses Python's `NaN` and `Infinity`. A figure can be either: a claim check's
margin where nothing holds a site back (a ball narrower than its via: its reach to the metal
is unbounded), a reading a tool could not take. Such a figure is written `null`, as pandas
writes one; the records keep it as it is.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every float in it that is NaN or infinite, at any depth of its dicts,
    lists and tuples, None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def json_text(data: Any, **options: Any) -> str:
    """`data` as standard JSON (`json.dumps` with `options`), a non-finite float `null`."""
    return json.dumps(finite(data), allow_nan=False, **options)
