"""Snapshots of a workpiece twin, so a dry run's wafers survive a crash of the controller.

The engine stores a snapshot of each wafer's twin with every completed step; `packline resume`
of a dry run restores them into the fresh simulated line. The format is generic over the
`Workpiece` dataclass fields (driven by their type hints, so a field added later needs nothing
here) and is data, never code: numpy arrays are written with `np.save` (`allow_pickle=False`
on the way back), everything else as JSON. No pickle.

Layout of a snapshot: 8 bytes big-endian header length, the JSON header, then the arrays'
`.npy` bytes one after another; the header holds the scalar fields and, for each array, its
offset and length in the array section.
"""

from __future__ import annotations

import dataclasses
import io
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any

import numpy as np

from .workpiece import Workpiece

_FORMAT = "packline-twin/1"


def snapshot(workpiece: Workpiece) -> bytes:
    """The complete state of `workpiece` as bytes (see the module docstring for the layout)."""
    arrays: list[bytes] = []
    header = {"format": _FORMAT, "fields": _encode(workpiece, arrays)}
    body = json.dumps(header, separators=(",", ":")).encode()
    return len(body).to_bytes(8, "big") + body + b"".join(arrays)


def restore(workpiece: Workpiece, data: bytes) -> None:
    """Overwrite every field of `workpiece` (in place) with the state in snapshot `data`.

    In place, so the simulated tools that hold the workpiece through the line's `TwinStore`
    see the restored state.
    """
    state = read_snapshot(data)
    if state.id != workpiece.id:
        raise ValueError(f"snapshot is of wafer {state.id!r}, not {workpiece.id!r}")
    for field in dataclasses.fields(Workpiece):
        setattr(workpiece, field.name, getattr(state, field.name))


def read_snapshot(data: bytes) -> Workpiece:
    """A new `Workpiece` from snapshot `data`; ValueError if it is not a twin snapshot."""
    if len(data) < 8:
        raise ValueError("twin snapshot: truncated")
    length = int.from_bytes(data[:8], "big")
    try:
        header = json.loads(data[8 : 8 + length])
    except ValueError as error:
        raise ValueError(f"twin snapshot: unreadable header ({error})") from None
    if header.get("format") != _FORMAT:
        raise ValueError(f"twin snapshot: unknown format {header.get('format')!r}")
    arrays = memoryview(data)[8 + length :]
    return _decode(Workpiece, header["fields"], arrays)


def _encode(value: Any, arrays: list[bytes]) -> Any:
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        offset = sum(len(chunk) for chunk in arrays)
        arrays.append(buffer.getvalue())
        return {"npy": [offset, len(arrays[-1])]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_encode(item, arrays) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item, arrays) for key, item in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"twin snapshot: cannot store a {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, value: Any, arrays: memoryview) -> Any:
    """Rebuild `value` as the type `hint` says (dataclass, enum, tuple, array, plain JSON)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _decode(options[0], value, arrays) if len(options) == 1 else value
    if hint is np.ndarray:
        offset, length = value["npy"]
        return np.load(io.BytesIO(arrays[offset : offset + length]), allow_pickle=False)
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        fields = {
            f.name: _decode(hints[f.name], value[f.name], arrays)
            for f in dataclasses.fields(hint)
            if f.name in value
        }
        return hint(**fields)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if origin is tuple:
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_decode(item, v, arrays) for v in value)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [_decode(item, v, arrays) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint) or (Any, Any)
        return {key: _decode(item, v, arrays) for key, v in value.items()}
    if hint is float and isinstance(value, int):
        return float(value)
    return value
