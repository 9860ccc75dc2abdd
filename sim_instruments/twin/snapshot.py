"""Snapshots of a workpiece twin, so a dry run's wafers survive a crash of the controller.

The engine stores a snapshot of each wafer's twin with every completed step; `packline resume`
of a dry run restores them into the fresh simulated line. The format is generic over the
`Workpiece` dataclass and its parts (nested dataclasses, lists of them, enums, unions of specs;
driven by their type hints, so a part or field added later needs nothing here) and is data,
never code: numpy arrays are written with `np.save` (`allow_pickle=False` on the way back),
everything else as JSON. No pickle.

Format 1 was the flat wafer of before the parts; it is still read (`_upgrade_v1`).

Layout of a snapshot: 8 bytes big-endian header length, the JSON header, then the arrays'
`.npy` bytes one after another; the header holds the scalar fields and, for each array, its
offset and length in the array section.

The records key each array (a *part*) by the sha256 of its `.npy` bytes and a snapshot by the
sha256 of `DIGEST_PREFIX`, its header and its parts' digests (`snapshot_digest`: equal only for
equal bytes, since the header fixes where each part is; decision 0056). `Snapshots` takes a
workpiece's snapshot as its header and parts with those digests, and hashes only what differs
from the last snapshot it took of the workpiece: a part whose bytes equal that snapshot's part
at the same place, or else at the same path (moved along by an array added before it), keeps
its digest, and a snapshot whose header and parts all equal it keeps the whole digest. A take
freezes the arrays it took (read-only, with the arrays whose memory they are: `freezing.py`,
decision 0084): an array that is the very one the last snapshot froze at the same place, its
memory still read-only, is that snapshot's part without its bytes being looked at; a step
that writes an array in place thaws it first, and any other array is compared by its bytes
against the last snapshot's own copy. The header keeps the JSON text of each part while the
part holds the very same objects, its arrays laid out as they were (`_HeaderText`; where an
array before them grew, with their offsets moved along), and of each history event while it
is the very same event (`_HistoryText`; a `ProcessEvent` cannot change): the text of a part
or event a step left alone is not written again (decision 0066). Whether the history begins
with the events last written is told in a few calls over all of them at once, as is which
arrays are still frozen and which arrays' bytes equal the last snapshot's parts, not value by
value or array by array in Python. Before any of that, a workpiece whose every array is still
frozen, laid out as it was, and whose every container (its own fields, its parts' and its
history) holds the very objects it held is told at once to be as it was: its snapshot is the
last one (`_Unchanged`, decision 0088; most steps leave their wafer's twin alone). Where it is
not, the same look over all of its containers and arrays at once (`_Containers`, `_Layout`)
tells which parts may have changed (`_Unchanged.changed`, decision 0114): only those are
written again, every other part keeps its text without being looked at again, and only the
arrays whose bytes are compared or hashed are taken as buffers (`_Arrays.data`).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import io
import itertools
import json
import math
import operator
import types
import typing
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache, partial
from typing import Any

import numpy as np

from .freezing import freeze
from .incoming import new_wafer
from .parts import Balls, BumpKind, Bumps, Frame, ResinKind, Support
from .specs import WaferSpec
from .workpiece import PLAIN_TYPES, ProcessEvent, Workpiece

_FORMAT = "packline-twin/2"
_FORMAT_V1 = "packline-twin/1"
#: The types stored as they are (exactly these: an IntEnum or a str subclass is not plain).
_PLAIN = PLAIN_TYPES

#: Where each array or scalar field of format 1's flat wafer lives in the parts.
_V1_FIELDS = {
    "site_x_mm": ("geometry", "site_x_mm"),
    "site_y_mm": ("geometry", "site_y_mm"),
    "site_die": ("geometry", "site_unit"),
    "die_origin_mm": ("geometry", "unit_origin_mm"),
    "thickness_um": ("geometry", "thickness_um"),
    "residue_nm": ("surface", "residue_nm"),
    "oxide_nm": ("surface", "oxide_nm"),
    "activated": ("surface", "activated"),
    "bump_height_um": ("bumps", "height_um"),
    "bump_base_diameter_um": ("bumps", "base_diameter_um"),
    "bump_stack": ("bumps", "stack"),
    "bump_material": ("bumps", "material"),
    "roughness_ra_um": ("finish", "roughness_ra_um"),
    "thickness_variation_um": ("finish", "thickness_variation_um"),
    "kerfs_x_mm": ("singulation", "kerfs_x_mm"),
    "kerfs_y_mm": ("singulation", "kerfs_y_mm"),
    "kerf_width_um": ("singulation", "kerf_width_um"),
    "cut_depth_um": ("singulation", "cut_depth_um"),
    "chipping_um": ("singulation", "chipping_um"),
    "singulated_units": ("singulation", "units"),
}


def snapshot(workpiece: Workpiece) -> bytes:
    """The complete state of `workpiece` as bytes (see the module docstring for the layout)."""
    header, arrays = _encoded(workpiece)
    datas = map(arrays.data, range(len(arrays.arrays)))
    chunks = zip(arrays.headers, datas, strict=True)
    return b"".join((header, *itertools.chain.from_iterable(chunks)))


@dataclass(frozen=True)
class Snapshot:
    """A snapshot in the pieces the records store it by, with their digests: `data` is what
    `snapshot` gives for the same workpiece."""

    #: The length prefix and the JSON header.
    header: bytes
    #: Each array's `.npy` bytes, in the order of the array section.
    parts: tuple[bytes, ...]
    #: The sha256 (hex) of each part's bytes.
    part_digests: tuple[str, ...]
    #: The snapshot's digest: `snapshot_digest` of its header and part digests.
    digest: str
    #: Where each part is in the workpiece ('.fields.surface.residue_nm'): `array_paths`.
    paths: tuple[str, ...]

    @property
    def data(self) -> bytes:
        """The snapshot's bytes."""
        return b"".join((self.header, *self.parts))


#: What a snapshot's digest hashes first: it names the definition, so no digest of this kind is
#: the sha256 of bytes a snapshot's digest was before it (the snapshot's own, decision 0056).
DIGEST_PREFIX = b"packline-twin-digest/2\n"


def snapshot_digest(header: bytes, part_digests: Sequence[str]) -> str:
    """The digest the records key a snapshot by: the sha256 (hex) of `DIGEST_PREFIX`, the
    snapshot's `header` (its length prefix and JSON) and its parts' sha256 digests (hex text, in
    the order of the array section). Equal snapshots have equal digests, and different ones
    different digests as surely as by the sha256 of their bytes (the header says where each part
    is and how long), at the cost of hashing the header and 64 bytes a part instead of every
    byte of every part again (3.3 MB a levels-5 wafer: decision 0056)."""
    whole = hashlib.sha256(DIGEST_PREFIX)
    whole.update(header)
    whole.update("".join(part_digests).encode())
    return whole.hexdigest()


#: The arrays of a snapshot and the arrays whose memory each is, frozen (`_frozen`).
_Frozen = tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]


class Snapshots:
    """Takes workpieces' snapshots with their digests, hashing only what changed since the last
    one of the same workpiece (see the module docstring). Keeps that last snapshot of each
    workpiece until told to `forget` it."""

    def __init__(self) -> None:
        self._last: dict[str, Snapshot] = {}
        self._texts: dict[str, _HeaderText] = {}
        #: The arrays of each workpiece's last snapshot, in the order of its parts, and the
        #: arrays whose memory each is, as it froze them (`_frozen`).
        self._frozen: dict[str, _Frozen] = {}
        #: What each workpiece's last snapshot was taken from, told at once (`_Unchanged`;
        #: absent when that cannot be told so).
        self._unchanged: dict[str, _Unchanged] = {}

    def take(self, workpiece: Workpiece) -> Snapshot:
        """The snapshot of `workpiece` as it is now (kept as its last one)."""
        unchanged = self._unchanged.get(workpiece.id)
        told = None
        if unchanged is not None:
            told = unchanged.changed(workpiece)
            if told is not None and not told and unchanged.frozen():
                return self._last[workpiece.id]
        texts = self._texts.setdefault(workpiece.id, _HeaderText())
        header, arrays = _encoded(workpiece, texts, told)
        last = self._last.get(workpiece.id)
        before = () if last is None else last.parts
        count = len(arrays.arrays)
        # whether each array is the very one the last snapshot froze at the same place, still
        # read-only: its bytes are that snapshot's part's (decision 0084)
        frozen, owners = self._frozen.get(workpiece.id, ((), ()))
        untouched = list(
            map(
                operator.and_,
                map(operator.is_, frozen, arrays.arrays),
                map(operator.not_, map(_WRITEABLE, owners)),
            )
        )
        # whether each array's `.npy` bytes are the last snapshot's part at the same place: as
        # long, starting with its header, and its data untouched or else equal (compared where
        # they lie)
        matches = list(
            map(
                operator.and_,
                map(operator.eq, map(len, before), arrays.lengths),
                map(bytes.startswith, before, arrays.headers),
            )
        )
        kept = list(map(operator.and_, matches, untouched))
        for index in itertools.compress(itertools.count(), map(operator.gt, matches, untouched)):
            kept[index] = before[index].endswith(arrays.data(index))  # matches, not untouched
        if last is None or len(before) != count or not all(kept) or header != last.header:
            last = self._last[workpiece.id] = self._changed(
                workpiece, header, arrays, kept, last, texts
            )
        if not all(untouched) or len(untouched) != count:
            self._frozen[workpiece.id] = _frozen(arrays.arrays, untouched, owners)
            owners = self._frozen[workpiece.id][1]
        unchanged = None if type(workpiece) is not Workpiece else texts.unchanged(workpiece, owners)
        if unchanged is None:
            self._unchanged.pop(workpiece.id, None)
        else:
            self._unchanged[workpiece.id] = unchanged
        return last

    def _changed(
        self,
        workpiece: Workpiece,
        header: bytes,
        arrays: _Arrays,
        kept: Sequence[bool],
        last: Snapshot | None,
        texts: _HeaderText,
    ) -> Snapshot:
        """The snapshot of `workpiece` (its `header` and `arrays`) where it is not `last`: each
        array `kept` (its part at the same place in `last`) or else the part at its path in
        `last` keeps that part and its digest, every other is hashed (only the arrays not kept
        are looked at one by one)."""
        paths = texts.paths() if type(workpiece) is Workpiece else tuple(array_paths(header))
        before, known = ((), ()) if last is None else (last.parts, last.part_digests)
        # an array not at its place in the last snapshot may be its part at the same path,
        # moved along by an array added or dropped before it (a layer, a film, a level): the
        # very one that snapshot froze there, still read-only, or else of equal bytes
        where = {} if last is None else dict(zip(last.paths, itertools.count()))
        frozen, owners = self._frozen.get(workpiece.id, ((), ()))
        # the last copy of each array kept (`kept` is as long as the shorter of the two)
        added = len(arrays.arrays) - len(kept)
        parts = [*before[: len(kept)], *itertools.repeat(b"", added)]
        digests = [*known[: len(kept)], *itertools.repeat("", added)]
        others = itertools.compress(itertools.count(), map(operator.not_, kept))
        for index in itertools.chain(others, range(len(kept), len(parts))):
            npy_header, data = arrays.headers[index], arrays.data(index)
            at = where.get(paths[index])
            if at is not None and _is_part(
                before[at],
                npy_header,
                data,
                arrays.lengths[index],
                frozen[at] is arrays.arrays[index] and not owners[at].flags.writeable,
            ):
                parts[index], digests[index] = before[at], known[at]
            else:
                part = npy_header + data
                parts[index], digests[index] = part, hashlib.sha256(part).hexdigest()
        return Snapshot(
            header, tuple(parts), tuple(digests), snapshot_digest(header, digests), paths
        )

    def forget(self, workpiece_id: str) -> None:
        """Drop the last snapshot kept of `workpiece_id` (it leaves memory: the next one is
        hashed whole)."""
        self._last.pop(workpiece_id, None)
        self._texts.pop(workpiece_id, None)
        self._frozen.pop(workpiece_id, None)
        self._unchanged.pop(workpiece_id, None)


#: Whether an array may be written in place.
_WRITEABLE = operator.attrgetter("flags.writeable")
#: Stands for the memory of an array a snapshot could not freeze: never frozen itself.
_NOT_FROZEN = np.empty(0)


def _frozen(
    arrays: Sequence[np.ndarray], untouched: Sequence[bool], owners: Sequence[np.ndarray]
) -> _Frozen:
    """`arrays` (a snapshot's, its bytes just taken) and the arrays whose memory each is, each
    frozen: as in `owners` for those `untouched` (frozen still), else frozen now (`freeze`)."""
    now = [*owners[: len(untouched)], *itertools.repeat(_NOT_FROZEN, len(arrays) - len(untouched))]
    changed = itertools.compress(itertools.count(), map(operator.not_, untouched))
    for index in itertools.chain(changed, range(len(untouched), len(arrays))):
        owner = freeze(arrays[index])
        now[index] = _NOT_FROZEN if owner is None else owner
    return tuple(arrays), tuple(now)


def _is_part(
    part: bytes, npy_header: bytes, data: bytes | memoryview, length: int, untouched: bool
) -> bool:
    """Whether `part` is the `.npy` bytes of an array with this header and data (`length`
    bytes in all): its data `untouched` since `part` was taken of it (frozen), or else
    compared where they lie."""
    return (
        len(part) == length and part.startswith(npy_header) and (untouched or part.endswith(data))
    )


def _encoded(
    workpiece: Workpiece, texts: _HeaderText | None = None, told: Collection[str] | None = None
) -> tuple[bytes, _Arrays]:
    """The header of `workpiece`'s snapshot (its length prefix and JSON) and its arrays; the
    JSON from `texts` when given (each unchanged part's and event's as written before; `told`:
    the parts that may have changed, all others told unchanged, `_Unchanged.changed`)."""
    arrays = _Arrays()
    if texts is None or type(workpiece) is not Workpiece:
        body = _json({"format": _FORMAT, "fields": _encode(workpiece, arrays)})
    else:
        body = texts.json(workpiece, arrays, told)
    data = body.encode()
    return len(data).to_bytes(8, "big") + data, arrays


def array_paths(header: bytes) -> list[str]:
    """Where each part of the snapshot with this `header` (its length prefix and JSON) is in
    the workpiece ('.fields.surface.residue_nm'), in the order of its array section."""
    return _paths_in(json.loads(header[8:]), "")


def _paths_in(value: Any, path: str) -> list[str]:
    """The path of every array the parsed header JSON `value` (at `path`) refers to, in the
    order of the array section (or the value encoded as that JSON: its dicts and lists are
    what the JSON reads back as)."""
    return [found for _, found in sorted(_array_spans(value, path))]


def _array_spans(value: Any, path: str) -> list[tuple[int, str]]:
    """The (offset, path) of every array the parsed header JSON `value` (at `path`) refers to.

    Only dicts and lists are visited, and a path is written only for them: a header is mostly
    plain values (a long history's), which cannot hold an array."""
    spans: list[tuple[int, str]] = []
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        value, path = pending.pop()
        if type(value) is dict:
            if value.keys() == {"npy"}:
                spans.append((int(value["npy"][0]), path))
            else:
                pending += [
                    (item, f"{path}.{key}")
                    for key, item in value.items()
                    if type(item) is dict or type(item) is list
                ]
        elif type(value) is list:
            pending += [
                (item, f"{path}[{index}]")
                for index, item in enumerate(value)
                if type(item) is dict or type(item) is list
            ]
    return spans


def _json(value: Any) -> str:
    """`value` (encoded) as the header's JSON text."""
    return json.dumps(value, separators=(",", ":"))


#: The fields of a `Workpiece`, in order.
_WORKPIECE_FIELDS = tuple(field.name for field in dataclasses.fields(Workpiece))
#: The header's JSON up to the first field's name, and each field's name and colon: the text
#: `_json` writes for `{"format": _FORMAT, "fields": {...}}`, put together piece by piece.
_HEADER_OPENING = '{"format":' + _json(_FORMAT) + ',"fields":{'
_FIELD_KEYS = tuple(_json(name) + ":" for name in _WORKPIECE_FIELDS)
#: Where the history is in a header.
_HISTORY = ".fields.history"
#: The fields of a `Workpiece` but its history (its parts), in order; the values of all its
#: fields.
_PART_FIELDS = tuple(name for name in _WORKPIECE_FIELDS if name != "history")
_WORKPIECE_VALUES = operator.attrgetter(*_WORKPIECE_FIELDS)


@dataclass(frozen=True)
class _PartText:
    """A part's JSON as last written, and what it was written from: the part, every container
    in it with its contents (`_Arrays.contents`), its arrays with their layout, and where the
    first lay in the array section (the layout fixes the length of each: all the text says of
    them, so the part's text where its arrays lie elsewhere is the same text with their
    offsets moved along, `pieces`)."""

    name: str
    part: Any
    containers: _Containers
    #: None when an array's bytes were a copy (not C-ordered): the part is written every time.
    layout: _Layout | None
    offset: int
    text: str
    #: Where each of the part's arrays is in the workpiece, in order (`array_paths`).
    paths: tuple[str, ...]
    #: The text cut where each array's offset is written (`_cut_at_offsets`: the same cut
    #: wherever they lie); None until the part's arrays first lie elsewhere.
    pieces: tuple[str, ...] | None = None

    @classmethod
    def written(cls, name: str, part: Any, arrays: _Arrays) -> _PartText:
        """The text of `part` (field `name`), written now: its containers and arrays added to
        `arrays`. Its arrays' paths are found in what is written as the text, as the text
        read back would give them (`array_paths`)."""
        first_contents, first_array, offset = len(arrays.contents), len(arrays.arrays), arrays.size
        encoded = _encode(part, arrays)
        return cls(
            name,
            part,
            _Containers.of(arrays.contents[first_contents:]),
            _Layout.of(arrays, first_array),
            offset,
            _json(encoded),
            tuple(_paths_in(encoded, f".fields.{name}")),
        )

    def holding(self, part: Any, arrays: _Arrays, told: bool = False) -> _PartText | None:
        """This text where `arrays` ends (moved along if it lay elsewhere) when `part` is the
        part it was written from, every container in it still holding the very same objects
        (so every array in it is the same one) and its arrays laid out as they were (looked at
        here unless `told` so, `_Unchanged.changed`); they are then added to `arrays`, as
        encoding the part adds them. None otherwise (a text that cannot be cut is not moved).
        Looked at without encoding the part again."""
        layout, offset = self.layout, arrays.size
        if (
            part is not self.part
            or layout is None
            or not (told or (self.containers.hold() and layout.holds()))
        ):
            return None
        if offset == self.offset:
            arrays.extend(layout)
            return self
        pieces = self.pieces or _cut_at_offsets(self.text, self.offset, layout.lengths)
        if pieces is None:
            return None
        arrays.extend(layout)
        starts = map(str, itertools.accumulate(layout.lengths[:-1], initial=offset))
        text = pieces[0] + "".join(map(operator.add, starts, pieces[1:]))
        return dataclasses.replace(self, offset=offset, text=text, pieces=pieces)


#: How the JSON of an array's place in the array section (`_Arrays.add`) begins.
_ARRAY_OPENING = _json({"npy": []})[:-2]


def _cut_at_offsets(text: str, offset: int, lengths: Sequence[int]) -> tuple[str, ...] | None:
    """`text`, the JSON of a part whose arrays lie one after another from `offset` (`lengths`),
    cut where each array's offset is written: what is before the first, between each and the
    next, and after the last. None unless each array's place is written where it is and the
    text has no other object beginning as one does (a dict keyed 'npy' in the part), so each
    cut is at an array's own offset. An array's opening cannot be inside a JSON string, which
    writes each quote as \\"."""
    if text.count(_ARRAY_OPENING) != len(lengths):
        return None
    pieces, start = [], 0
    for length in lengths:
        at = text.index(_ARRAY_OPENING, start) + len(_ARRAY_OPENING)
        if not text.startswith(f"{offset},{length}]}}", at):
            return None
        pieces.append(text[start:at])
        start, offset = at + len(str(offset)), offset + length
    pieces.append(text[start:])
    return tuple(pieces)


@dataclass(frozen=True)
class _Unchanged:
    """What a workpiece's last snapshot was taken from, told at once: the workpiece, its own
    fields' values and its history's events (`own`), every other container in it with its
    contents (each part's, `_PartText`'s; a history's events cannot change, `_HistoryText`),
    every array with its layout, and the arrays whose memory each is, as the snapshot froze
    them (`_frozen`). While the workpiece's containers hold the very same objects, its arrays
    are laid out as they were (so each has the text and the `.npy` header it had, where it
    had them) and each one's memory is still read-only (its bytes untouched, decision 0084),
    its snapshot is the last one: nothing of it is encoded or compared again. The one look
    at its containers and arrays that tells so (`changed`, then `frozen`) tells otherwise
    which parts' texts may have changed, container by container or array by array only
    where something did: a step that changes a twin mostly records an event and writes
    arrays of one or two parts (decision 0114)."""

    workpiece: Workpiece
    owners: tuple[np.ndarray, ...]
    own: _Containers
    #: Every part's arrays, in the order of the array section, and the part of each.
    layout: _Layout
    array_parts: tuple[str, ...]
    #: Every part's containers, part by part, and the part of each.
    containers: _Containers
    container_parts: tuple[str, ...]

    def frozen(self) -> bool:
        """Whether every array's memory is still read-only, as the snapshot froze it (an array
        not frozen, its memory writable, is never taken for untouched)."""
        return not any(map(_WRITEABLE, self.owners))

    def changed(self, workpiece: Workpiece) -> set[str] | None:
        """What of `workpiece` may differ from what its last snapshot was taken of, its arrays'
        bytes aside (`frozen`): the parts (`_PART_FIELDS`) whose texts may, each replaced or
        holding a container that does not hold the very objects it held or an array not laid
        out as it was, and 'history' where the workpiece's own fields or its history's events
        are not the very ones they were. Every other part's text is the one last written, as
        `_PartText.holding` would tell it one by one. Told at once, and container by container
        or array by array only where that fails; an empty set when nothing differs. None when
        `workpiece` is not the one this was taken of."""
        if workpiece is not self.workpiece:
            return None
        told: set[str] = set()
        if not self.own.hold():
            values = _WORKPIECE_VALUES(workpiece)
            told.add("history")
            told.update(
                itertools.compress(
                    _WORKPIECE_FIELDS, map(operator.is_not, values, self.own.contents)
                )
            )
        if not self.layout.holds():
            told.update(map(self.array_parts.__getitem__, self.layout.changed()))
        if not self.containers.hold():
            told.update(map(self.container_parts.__getitem__, self.containers.changed()))
        return told


@dataclass(frozen=True)
class _Containers:
    """Containers and their contents as they were (`_Arrays.contents`), to tell in a few calls
    over all of them at once, not value by value, whether each holds the very same objects."""

    reads: tuple[Callable[[Any], Collection[Any]], ...]
    containers: tuple[Any, ...]
    lengths: tuple[int, ...]
    #: every container's contents, one after another
    contents: tuple[Any, ...]

    @classmethod
    def of(cls, found: Iterable[_Contents]) -> _Containers:
        """The containers `found`, with their contents."""
        found = list(found)
        contents = list(map(_THIRD, found))
        return cls(
            tuple(map(_FIRST, found)),
            tuple(map(_SECOND, found)),
            tuple(map(len, contents)),
            tuple(itertools.chain.from_iterable(contents)),
        )

    def hold(self) -> bool:
        """Whether each container holds the very objects it held, in the same order."""
        now = list(map(operator.call, self.reads, self.containers))
        return tuple(map(len, now)) == self.lengths and all(
            map(operator.is_, itertools.chain.from_iterable(now), self.contents)
        )

    def changed(self) -> set[int]:
        """The index of each container that does not hold the very objects it held, in the
        same order (`hold` container by container, in a few calls over all of them at once)."""
        now = list(map(operator.call, self.reads, self.containers))
        lengths, contents = self.lengths, self.contents
        ends = list(itertools.accumulate(lengths))
        resized = list(
            itertools.compress(itertools.count(), map(operator.ne, map(len, now), lengths))
        )
        for index in resized:  # taken as it was, so the contents after it are compared in line
            now[index] = contents[ends[index] - lengths[index] : ends[index]]
        replaced = itertools.compress(
            itertools.count(), map(operator.is_not, itertools.chain.from_iterable(now), contents)
        )
        # a content at `at` is in the first container that ends after it
        return {*resized, *(bisect.bisect_right(ends, at) for at in replaced)}

    @classmethod
    def joined(cls, each: Sequence[_Containers]) -> _Containers:
        """The containers of `each`, one after another."""
        return _joined(cls, each)


_Joined = typing.TypeVar("_Joined", "_Containers", "_Layout")


def _joined(kind: type[_Joined], each: Sequence[_Joined]) -> _Joined:
    """One `kind` (each of whose fields is a tuple, one item per container or array) of the
    items of `each`, one after another (`each`: at least one)."""
    names = tuple(field.name for field in dataclasses.fields(kind))
    columns = zip(*map(_values_getter(names), each), strict=True)
    return kind(*(tuple(itertools.chain.from_iterable(column)) for column in columns))


@dataclass(frozen=True)
class _Layout:
    """C-ordered arrays as they were added to a snapshot: their shapes, strides and dtypes
    (the very objects), and their `.npy` headers and lengths. An array of the same shape,
    strides and dtype has the same header and length, and its bytes (C-ordered still) are
    its buffer as it is: compared and written where they lie."""

    arrays: tuple[np.ndarray, ...]
    shapes: tuple[tuple[int, ...], ...]
    strides: tuple[tuple[int, ...], ...]
    dtypes: tuple[np.dtype[Any], ...]
    headers: tuple[bytes, ...]
    lengths: tuple[int, ...]

    @classmethod
    def of(cls, arrays: _Arrays, first: int) -> _Layout | None:
        """The layout of the arrays added to `arrays` from the `first`; None unless each one's
        data is its own buffer (it is C-ordered)."""
        added = arrays.arrays[first:]
        if arrays.copies and max(arrays.copies) >= first:
            return None
        return cls(
            tuple(added),
            tuple(map(_SHAPE, added)),
            tuple(map(_STRIDES, added)),
            tuple(map(_DTYPE, added)),
            tuple(arrays.headers[first:]),
            tuple(arrays.lengths[first:]),
        )

    @classmethod
    def joined(cls, each: Sequence[_Layout]) -> _Layout:
        """The arrays of `each`, one after another."""
        return _joined(cls, each)

    def holds(self) -> bool:
        """Whether each array has the shape, strides and dtype it had."""
        arrays = self.arrays
        return (
            tuple(map(_SHAPE, arrays)) == self.shapes
            and tuple(map(_STRIDES, arrays)) == self.strides
            and all(map(operator.is_, map(_DTYPE, arrays), self.dtypes))
        )

    def changed(self) -> Iterable[int]:
        """The index of each array that has not the shape, strides and dtype it had."""
        arrays = self.arrays
        laid_out = map(
            operator.and_,
            map(
                operator.and_,
                map(operator.eq, map(_SHAPE, arrays), self.shapes),
                map(operator.eq, map(_STRIDES, arrays), self.strides),
            ),
            map(operator.is_, map(_DTYPE, arrays), self.dtypes),
        )
        return itertools.compress(itertools.count(), map(operator.not_, laid_out))


class _HeaderText:
    """The JSON of a workpiece's snapshot header as last written, part by part (each field of
    the `Workpiece` but the history) and the history's event by event (`_HistoryText`).

    A part's text is written again unless the part and every dataclass, list, tuple and dict
    in it hold the very objects they held (compared by identity, so a value replaced by an
    equal one, 1.0 for 1 or -0.0 for 0.0, is written again), and its arrays are as long as
    they were: the text holds only their offsets and lengths (their bytes, and so their
    `.npy` headers, are compared and hashed by `Snapshots.take` as ever), so where an array
    before them grew or shrank the text is kept with their offsets moved along. Which parts
    that is, is told at once by the workpiece's `_Unchanged` where it has one (its
    `changed`), else part by part."""

    def __init__(self) -> None:
        self.history = _HistoryText()
        self._parts: dict[str, _PartText] = {}
        #: The parts' containers and layouts the last `unchanged` joined, and what it joined
        #: (kept while each part's are the very ones: a step that changes a part's bytes or
        #: the history alone leaves them).
        self._joined_of: tuple[Any, ...] = ()
        self._joined: tuple[_Layout, tuple[str, ...], _Containers, tuple[str, ...]] | None = None

    def json(self, workpiece: Workpiece, arrays: _Arrays, told: Collection[str] | None) -> str:
        """The header's JSON of `workpiece` (its arrays added to `arrays`, in order); `told`:
        the parts that may have changed, every other one told unchanged (None: each is looked
        at)."""
        texts: list[str] = []
        fields = zip(_WORKPIECE_FIELDS, _FIELD_KEYS, _WORKPIECE_VALUES(workpiece), strict=True)
        for name, key, value in fields:
            if name == "history":
                texts.append(key + self.history.json(value, arrays))
            else:
                texts.append(key + self._part_json(name, value, arrays, told))
        return _HEADER_OPENING + ",".join(texts) + "}}"

    def unchanged(self, workpiece: Workpiece, owners: tuple[np.ndarray, ...]) -> _Unchanged | None:
        """What the header of `workpiece` was just written from (`json`), with `owners`, the
        arrays whose memory each of its arrays is, as the snapshot froze them; None when its
        texts cannot be told kept at once (an array not C-ordered, a history not of
        `ProcessEvent`s)."""
        parts = [self._parts[name] for name in _PART_FIELDS]
        layouts = [part.layout for part in parts if part.layout is not None]
        if len(layouts) < len(parts) or not self.history.frozen:
            return None
        own = _Containers.of(
            [
                (_WORKPIECE_VALUES, workpiece, _WORKPIECE_VALUES(workpiece)),
                (tuple, workpiece.history, tuple(workpiece.history)),
            ]
        )
        containers = [part.containers for part in parts]
        joined_of = (*layouts, *containers)
        if self._joined is None or not (
            len(joined_of) == len(self._joined_of)
            and all(map(operator.is_, joined_of, self._joined_of))
        ):
            self._joined_of = joined_of
            self._joined = (
                _Layout.joined(layouts),
                _of_each(parts, [len(layout.arrays) for layout in layouts]),
                _Containers.joined(containers),
                _of_each(parts, [len(each.containers) for each in containers]),
            )
        return _Unchanged(workpiece, owners, own, *self._joined)

    def paths(self) -> tuple[str, ...]:
        """Where each array of the header last written is in the workpiece, in order."""
        found: list[str] = []
        for name in _WORKPIECE_FIELDS:
            found += self.history.paths() if name == "history" else self._parts[name].paths
        return tuple(found)

    def _part_json(
        self, name: str, value: Any, arrays: _Arrays, told: Collection[str] | None
    ) -> str:
        """The text of part `name`, `value`: kept where it holds (told so, or else looked at;
        a part told changed is written again, as holding it would fail)."""
        kept = self._parts.get(name)
        held = None
        if kept is not None and (told is None or name not in told):
            held = kept.holding(value, arrays, told is not None)
        if held is None:
            held = _PartText.written(name, value, arrays)
        self._parts[name] = held
        return held.text


def _of_each(parts: Sequence[_PartText], counts: Sequence[int]) -> tuple[str, ...]:
    """The name of each of `parts` as many times as `counts` says, one after another."""
    names = map(itertools.repeat, map(_NAME, parts), counts)
    return tuple(itertools.chain.from_iterable(names))


def _items_of(value: dict[Any, Any]) -> tuple[Any, ...]:
    """A dict's keys and values, item by item."""
    return tuple(itertools.chain.from_iterable(value.items()))


class _HistoryText:
    """The JSON of a workpiece's history as last written, event by event. A `ProcessEvent`
    cannot change (frozen, its detail read-only, every value plain), so the very event last
    written at a place has the text it had: while the history begins with the events last
    written, their texts are kept, and only the events after them are written. A history of
    anything else (another list type, an event of another type) is written every time."""

    def __init__(self) -> None:
        #: The events last written and each one's text (none when not all are `ProcessEvent`).
        self._written: tuple[Any, ...] = ()
        self._texts: list[str] = []
        #: Whether the history last written held only `ProcessEvent`s in a list (so it is
        #: told unchanged by its events alone, and holds no array).
        self.frozen = False
        self._text = ""

    def json(self, history: Any, arrays: _Arrays) -> str:
        """The JSON of `history` (its events' arrays, if any, added to `arrays`)."""
        if type(history) is not list or not {*map(type, history)} <= {ProcessEvent}:
            self._written, self._texts, self.frozen = (), [], False
            self._text = _json(_encode(history, arrays))
            return self._text
        written = self._written
        held = (
            len(written)
            if self.frozen
            and len(history) >= len(written)
            and all(map(operator.is_, history, written))
            else 0
        )
        if held == len(history) == len(written) and self.frozen:
            return self._text  # every event as last written
        texts = self._texts[:held]
        texts += (_json(_encode(event, arrays)) for event in history[held:])
        self._written, self._texts, self.frozen = tuple(history), texts, True
        self._text = "[" + ",".join(texts) + "]"
        return self._text

    def paths(self) -> list[str]:
        """Where each array of the history last written is, in order (`array_paths`): none in
        `ProcessEvent`s."""
        return [] if self.frozen else _paths_in(json.loads(self._text), _HISTORY)


#: An array's shape, strides, dtype and buffer.
_SHAPE = operator.attrgetter("shape")
_STRIDES = operator.attrgetter("strides")
_DTYPE = operator.attrgetter("dtype")
#: A part text's field name.
_NAME = operator.attrgetter("name")
#: The first, second and third item of a tuple.
_FIRST, _SECOND, _THIRD = (operator.itemgetter(index) for index in range(3))


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
    arrays = memoryview(data)[8 + length :]
    if header.get("format") == _FORMAT_V1:
        return _upgrade_v1(header["fields"], arrays)
    if header.get("format") != _FORMAT:
        raise ValueError(f"twin snapshot: unknown format {header.get('format')!r}")
    workpiece: Workpiece = _decode(Workpiece, header["fields"], arrays)
    geometry = workpiece.geometry
    geometry.sized()
    sites, units = geometry.site_count, geometry.unit_count
    _sized(workpiece.frame, Frame.empty(sites, units))
    _sized(workpiece.balls, Balls.empty(sites))
    _sized(workpiece.bumps, Bumps.empty(sites))
    return workpiece


def _sized(part: Any, empty: Any) -> None:
    """Give each array of `part` that an older snapshot lacks (it has another shape than the
    same array of `empty`, the part as a new workpiece of this size has it) `empty`'s: the
    per-site and per-unit fields added to a part since, none of them set."""
    for field in dataclasses.fields(part):
        blank = getattr(empty, field.name)
        if isinstance(blank, np.ndarray) and getattr(part, field.name).shape != blank.shape:
            setattr(part, field.name, blank)


def _upgrade_v1(fields: dict[str, Any], arrays: memoryview) -> Workpiece:
    """A `Workpiece` from a format-1 snapshot (one flat wafer with a single resin film)."""
    workpiece = new_wafer(fields["id"], _decode(WaferSpec, fields["spec"], arrays))
    workpiece.history = _decode(list[ProcessEvent], fields["history"], arrays)
    for old, (part_name, name) in _V1_FIELDS.items():
        part = getattr(workpiece, part_name)
        hint = typing.get_type_hints(type(part))[name]
        setattr(part, name, _decode(hint, fields[old], arrays))
    if workpiece.bumps.material is not None:
        workpiece.bumps.kind = BumpKind.STUD  # format 1 knew only stud bumps
    resin = _decode(np.ndarray, fields["resin_um"], arrays)
    via_depth = _decode(np.ndarray, fields["via_depth_um"], arrays)
    if resin.any() or via_depth.any():
        _, openings = workpiece.add_resin(
            ResinKind.THERMOSET,
            resin,
            cure=1.0 if fields["resin_cured"] else 0.0,
            voids=float(fields["resin_voids"]),
            support=Support(fields["support"]),
        )
        openings.depth_um = via_depth
        openings.diameter_um = _decode(np.ndarray, fields["via_diameter_um"], arrays)
        openings.open = _decode(np.ndarray, fields["via_open"], arrays)
    return workpiece


class _Arrays:
    """The array section of a snapshot being written: each array's `.npy` bytes, as `np.save`
    writes them, one after another; and what each container encoded held (`_HeaderText`)."""

    def __init__(self) -> None:
        #: Each array, its `.npy` header, and the length of its `.npy` bytes; the length of
        #: them all.
        self.arrays: list[np.ndarray] = []
        self.headers: list[bytes] = []
        self.lengths: list[int] = []
        self.size = 0
        #: The data of each array that is not its own buffer (not C-ordered), by its index: a
        #: copy, in the order `np.save` writes it.
        self.copies: dict[int, bytes] = {}
        #: Every dataclass, list, tuple and dict encoded, in the order they were, with its
        #: contents (a dataclass's fields' values; a dict's keys and values, item by item) and
        #: how they are read from it.
        self.contents: list[_Contents] = []

    def add(self, array: np.ndarray) -> dict[str, list[int]]:
        """Append `array`'s `.npy` bytes; where they are in the section."""
        flags = array.flags
        c_ordered = flags.c_contiguous
        fortran = flags.f_contiguous and not c_ordered
        header = _npy_header(array.dtype, array.shape, fortran)
        offset = self.size
        size = len(header) + array.nbytes
        # a C-ordered array goes into the snapshot's join as it is, not copied first (unless
        # the buffer protocol does not take it for C-ordered, as numpy may an empty one)
        data: bytes | memoryview | None = array.data if c_ordered else None
        if not (isinstance(data, memoryview) and data.c_contiguous):
            self.copies[len(self.arrays)] = array.tobytes("F" if fortran else "C")
        self.arrays.append(array)
        self.headers.append(header)
        self.lengths.append(size)
        self.size += size
        return {"npy": [offset, size]}

    def extend(self, layout: _Layout) -> None:
        """Append the `.npy` bytes of the arrays of `layout`, laid out as it says (each its
        own buffer)."""
        self.arrays += layout.arrays
        self.headers += layout.headers
        self.lengths += layout.lengths
        self.size += sum(layout.lengths)

    def data(self, index: int) -> bytes | memoryview:
        """The data of the array at `index`, as its `.npy` bytes hold it after their header: a
        C-ordered array's own buffer (made only for an array whose bytes are read), else a
        copy."""
        copy = self.copies.get(index)
        return self.arrays[index].data if copy is None else copy


#: A container encoded: how its contents are read, the container and its contents.
_Contents = tuple[Callable[[Any], Collection[Any]], Any, tuple[Any, ...]]


@cache
def _npy_header(dtype: np.dtype[Any], shape: tuple[int, ...], fortran: bool) -> bytes:
    """The `.npy` header `np.save` writes before the data of an array of this dtype, shape
    and order (a snapshot writes dozens of arrays, mostly of a few shapes: the header is made
    once per shape, not per array)."""
    empty = np.empty(shape, dtype, order="F" if fortran else "C")
    buffer = io.BytesIO()
    np.save(buffer, empty, allow_pickle=False)
    return buffer.getvalue()[: len(buffer.getvalue()) - empty.nbytes]


class NpyLayout(typing.NamedTuple):
    """What the header of an array's `.npy` bytes says: where its values start, their type,
    the array's shape and whether it is Fortran-ordered."""

    start: int
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran: bool


#: Where the header's length is in `.npy` bytes of each format version, and its size.
_NPY_HEADER_LENGTH = {1: (8, 2), 2: (8, 4), 3: (8, 4)}


def npy_layout(part: bytes | memoryview) -> NpyLayout:
    """The layout `.npy` bytes `part` state in their header, read by numpy's own reader (a
    snapshot's arrays have a few headers between them: each is read once, `_read_npy_header`)."""
    at, size = _NPY_HEADER_LENGTH.get(part[6], (8, 2))
    start = at + size + int.from_bytes(part[at : at + size], "little")
    shape, fortran, dtype = _read_npy_header(bytes(part[:start]))
    return NpyLayout(start, dtype, shape, fortran)


@cache
def _read_npy_header(header: bytes) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """The shape, order and dtype `.npy` `header` states (numpy checks it: a format version or
    a header it does not read is refused as `np.load` refuses it)."""
    stream = io.BytesIO(header)
    version = np.lib.format.read_magic(stream)
    reader = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = reader(stream)
    if dtype.hasobject:
        raise ValueError("an array of Python objects is not read from a snapshot (no pickle)")
    return shape, fortran, dtype


def _load_npy(part: memoryview) -> np.ndarray:
    """The array whose `.npy` bytes are `part`, in memory of its own, as `np.load` gives it."""
    layout = npy_layout(part)
    values = np.frombuffer(part, layout.dtype, math.prod(layout.shape), layout.start)
    order: typing.Literal["F", "C"] = "F" if layout.fortran else "C"
    array: np.ndarray = values.reshape(layout.shape, order=order).copy(order=order)
    return array


#: How a value is encoded: given it and the snapshot's arrays, what its header holds for it.
_Encoder = Callable[[Any, "_Arrays"], Any]


def _encode(value: Any, arrays: _Arrays) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # most values of a twin: its history's details
        return value
    return _encoder(kind)(value, arrays)


#: The encoder of each type met so far (`_encoder`).
_ENCODERS: dict[type, _Encoder] = {}


def _encoder(kind: type) -> _Encoder:
    """How a value of exactly type `kind` is encoded (`_encoder_of`, once per type)."""
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _encoder_of(kind)
    return encoder


def _encoder_of(kind: type) -> _Encoder:
    """How a value of exactly type `kind` is encoded, decided once per type: an array as where
    its `.npy` bytes are, a dataclass as its fields, an enum as its value, a list or tuple as a
    list, a dict with its keys as text, a numpy scalar as its Python value. A plain value's
    items are written as they are, without a call (a snapshot encodes hundreds of values)."""
    if issubclass(kind, np.ndarray):
        return lambda value, arrays: arrays.add(value)
    if dataclasses.is_dataclass(kind):
        names = _field_names(kind)
        values_of = _values_getter(names)

        def fields(value: Any, arrays: _Arrays) -> dict[str, Any]:
            values = values_of(value)
            arrays.contents.append((values_of, value, values))
            encoded = {}
            for name, item in zip(names, values, strict=True):
                item_kind = type(item)
                encoded[name] = item if item_kind in _PLAIN else _encoder(item_kind)(item, arrays)
            return encoded

        return fields
    if issubclass(kind, Enum):
        return lambda value, _: value.value
    if issubclass(kind, list | tuple):

        def items(value: Any, arrays: _Arrays) -> list[Any]:
            contents = tuple(value)
            arrays.contents.append((tuple, value, contents))
            return [
                item if type(item) in _PLAIN else _encoder(type(item))(item, arrays)
                for item in contents
            ]

        return items
    if issubclass(kind, dict | types.MappingProxyType):

        def entries(value: Any, arrays: _Arrays) -> dict[str, Any]:
            arrays.contents.append((_items_of, value, _items_of(value)))
            return {
                str(key): item if type(item) in _PLAIN else _encoder(type(item))(item, arrays)
                for key, item in value.items()
            }

        return entries
    if issubclass(kind, np.generic):
        return lambda value, _: value.item()
    if issubclass(kind, str | int | float | bool):
        return lambda value, _: value

    def refuse(value: Any, _: _Arrays) -> Any:
        raise TypeError(f"twin snapshot: cannot store a {kind.__name__}")

    return refuse


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass, in order."""
    return tuple(f.name for f in dataclasses.fields(cls))


def _values_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """What gives the values of the attributes `names` of an object, as a tuple (one call)."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda value: tuple(getattr(value, name) for name in names)


@cache
def _hints(cls: Hashable) -> dict[str, Any]:
    """The resolved type hints of a dataclass's fields."""
    return typing.get_type_hints(cls)


def _union_member(options: list[Any], value: Any) -> Any:
    """Which dataclass of a union (such as `WaferSpec | PanelSpec`) `value` was written from:
    the one whose required fields (those without a default) its keys hold and whose fields
    hold its keys (an older snapshot's lack a field added since, which takes its default).
    Keys that fit more than one are refused, naming them; a union no dataclass of which fits
    is kept as plain JSON."""
    if not isinstance(value, dict):
        return Any
    keys = set(value)
    fitting = [
        option
        for option in options
        if isinstance(option, type)
        and dataclasses.is_dataclass(option)
        and _required_fields(option) <= keys <= set(_field_names(option))
    ]
    if len(fitting) > 1:
        names = " and ".join(option.__name__ for option in fitting)
        raise ValueError(f"twin snapshot: the fields {sorted(keys)} fit {names} alike")
    return fitting[0] if fitting else Any


@cache
def _required_fields(cls: type) -> frozenset[str]:
    """The fields of a dataclass that have no default: every snapshot of it holds them."""
    return frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _decode(hint: Any, value: Any, arrays: memoryview) -> Any:
    """Rebuild `value` as the type `hint` says (dataclass, enum, tuple, array, plain JSON)."""
    return _decoder(hint)(value, arrays)


#: How a value of a type is rebuilt: given what a snapshot's header holds for it and the
#: snapshot's arrays, the value.
_Decoder = Callable[[Any, memoryview], Any]


@cache
def _decoder(hint: Hashable) -> _Decoder:
    """How a value of type `hint` is rebuilt (`_decode`): told once per type what kind of
    type it is, not again for each of the some 800 values of a snapshot."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            (only,) = options
            return lambda value, arrays: None if value is None else _decode(only, value, arrays)
        return lambda value, arrays: (
            None if value is None else _decode(_union_member(options, value), value, arrays)
        )
    if hint is np.ndarray:
        return _array_decoded
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return partial(_dataclass_decoded, hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value, arrays: hint(value)
    if origin is tuple:
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return lambda value, arrays: tuple(_decode(item, v, arrays) for v in value)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return lambda value, arrays: [_decode(item, v, arrays) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint) or (Any, Any)
        return lambda value, arrays: {key: _decode(item, v, arrays) for key, v in value.items()}
    if hint is float:
        return lambda value, arrays: float(value) if isinstance(value, int) else value
    return lambda value, arrays: value


def _array_decoded(value: Any, arrays: memoryview) -> np.ndarray:
    """The array at the place `value` says in the snapshot's `arrays`."""
    offset, length = value["npy"]
    return _load_npy(arrays[offset : offset + length])


def _dataclass_decoded(cls: type, value: Any, arrays: memoryview) -> Any:
    """The dataclass `cls` of the fields `value` holds (each rebuilt as its hint says)."""
    fields = {
        name: _decode(hint, value[name], arrays)
        for name, hint in _field_hints(cls)
        if name in value
    }
    build: Callable[..., Any] = cls
    return build(**fields)


@cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field of a dataclass with its resolved type hint, in order."""
    hints = _hints(cls)
    return tuple((name, hints[name]) for name in _field_names(cls))
