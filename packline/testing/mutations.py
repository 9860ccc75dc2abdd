"""Bad input made on purpose: a valid YAML document, changed in one place.

For tests and benchmarks that prove every bad recipe or station file gets one clear error
naming where it is wrong (never a traceback, never silently accepted): `mutations(document,
rng)` yields (what was changed, the changed document as YAML text) pairs, each one change away
from the valid document: a value replaced by a wrong type, a wrong unit, an absurd number, text
that is not a quantity; a key removed, misspelt, added, or given twice.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import yaml

#: What a leaf value may be replaced with.
BAD_VALUES: tuple[object, ...] = (
    "",
    "fifty",
    "1e12 um",
    "-5 um",
    "55 W",
    "nan um",
    "inf s",
    "1e999",
    -1,
    0,
    10**12,
    3.5,
    True,
    None,
    [],
    {},
    "[/bold]",
    "\u00b5\u00b5\u00b5",
    "a" * 300,
)


def leaf_paths(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value that is not a mapping or a list, in document order."""
    if isinstance(document, dict):
        return [p for key, value in document.items() for p in leaf_paths(value, (*path, key))]
    if isinstance(document, list):
        return [
            p for index, value in enumerate(document) for p in leaf_paths(value, (*path, index))
        ]
    return [path]


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


def mutations(document: Any, rng: random.Random, count: int) -> Iterator[tuple[str, str]]:
    """`count` documents, each `document` with one change; (what changed, YAML text)."""
    leaves = leaf_paths(document)
    for _ in range(count):
        changed = copy.deepcopy(document)
        path = rng.choice(leaves)
        where = ".".join(map(str, path))
        parent = _parent(changed, path)
        kind = rng.choice(("value", "value", "value", "remove", "misspell", "extra", "twice"))
        if kind == "value" or not isinstance(parent, dict):
            value = rng.choice(BAD_VALUES)
            parent[path[-1]] = value
            yield f"{where} = {value!r}", yaml.safe_dump(changed, sort_keys=False)
        elif kind == "remove":
            del parent[path[-1]]
            yield f"{where} removed", yaml.safe_dump(changed, sort_keys=False)
        elif kind == "misspell":
            parent[f"{path[-1]}x"] = parent.pop(path[-1])
            yield f"{where} misspelt", yaml.safe_dump(changed, sort_keys=False)
        elif kind == "extra":
            parent["colour"] = "red"
            yield f"{where} with an extra key beside it", yaml.safe_dump(changed, sort_keys=False)
        else:
            text = yaml.safe_dump(changed, sort_keys=False)
            line = next(
                (ln for ln in text.splitlines() if ln.lstrip().startswith(f"{path[-1]}:")), None
            )
            if line is None:
                continue
            yield f"{where} given twice", text.replace(line, f"{line}\n{line}", 1)
