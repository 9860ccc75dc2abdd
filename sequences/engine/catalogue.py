"""The methods' catalogue: what `packline methods` lists of each method (its name, title,
claims, tool roles, irreversible steps, failure policy and recipe options), read from
`sequences/methods.json` so that listing the methods imports none of their scripts or recipe
models (pydantic, numpy, the roles: most of a second of CPU; decision 0026).

The file is written from the methods' declarations, never by hand:
`python -m packline.sequences.engine.catalogue` rewrites it, and a test fails while it differs
from what the declarations give (as a protocol page's tables are checked against the spec).
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .method import Method

#: The catalogue's file, in the `packline.sequences` package next to `recipes/`.
CATALOGUE = "methods.json"


def listing(method: Method) -> dict[str, Any]:
    """What `packline methods` shows of `method` (its `--json` row)."""
    return {
        "name": method.name,
        "title": method.title,
        "claims": list(method.claims),
        "tools": list(method.tools),
        "irreversible": sorted(method.irreversible),
        "failure_policy": method.failure_policy.value,
        "options": method.options(),
    }


def shipped(method: Method) -> bool:
    """Whether `method` is one of the package's sequence modules (not one a program, such as
    a test, registered as it ran)."""
    return method.sequence.__module__.startswith("packline.sequences.")


def catalogue_text() -> str:
    """The catalogue as the shipped methods' declarations give it now, every method by name."""
    from .method import all_methods  # the scripts and their recipe models: the slow part

    rows = [listing(method) for method in all_methods() if shipped(method)]
    return json.dumps(rows, indent=2) + "\n"


def read_catalogue() -> list[dict[str, Any]]:
    """Every method's listing, by name, as the catalogue file has it."""
    text = resources.files("packline.sequences").joinpath(CATALOGUE).read_text(encoding="utf-8")
    methods: list[dict[str, Any]] = json.loads(text)
    return methods


def write_catalogue() -> Path:
    """Rewrite the catalogue file from the declarations; returns where it is."""
    path = Path(str(resources.files("packline.sequences").joinpath(CATALOGUE)))
    path.write_text(catalogue_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.stdout.write(f"wrote {write_catalogue()}\n")
