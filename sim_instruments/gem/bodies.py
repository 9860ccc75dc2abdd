"""Reading the bodies of a host's messages on the simulated GEM equipment's side.

A body not of the shape E5 gives it raises `Malformed`: the equipment aborts the transaction
(F0) and the host sees a protocol error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packline.drivers.secs.items import A, B, Format, Item, L


class Malformed(Exception):
    """A message body not of the shape E5 gives it: the transaction is aborted (F0)."""


def list_of(body: Item | None, length: int | None = None) -> tuple[Item, ...]:
    if body is None or body.format is not Format.L:
        raise Malformed("expected a list")
    items: tuple[Item, ...] = body.value  # type: ignore[assignment]
    if length is not None and len(items) != length:
        raise Malformed(f"expected a list of {length}, got {len(items)}")
    return items


def scalar(value: Item | None) -> Any:
    if value is None:
        raise Malformed("a value is missing")
    try:
        return value.scalar
    except ValueError as error:
        raise Malformed(str(error)) from None


def ids_of(body: Item | None) -> list[Any]:
    """The ids of a list of id items, or of an integer array (S5F5's ALID vector)."""
    if body is None:
        return []
    if body.format is Format.L:
        return [scalar(value) for value in list_of(body)]
    if isinstance(body.value, tuple):
        return list(body.value)
    return [body.value]


def hcack_body(hcack: int, parameters: Mapping[str, int]) -> Item:
    return L(
        B(bytes([hcack])),
        L(*(L(A(name), B(bytes([cpack]))) for name, cpack in parameters.items())),
    )
