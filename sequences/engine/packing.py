"""How the bulky records are packed: twin snapshots by part, process traces by tool and step.

A dry run's twin snapshot (sim_instruments/twin/snapshot.py: a JSON header, then one `.npy`
array after another) is stored split: its header, and each array as a *part* under the sha256
of its bytes, so an array that several snapshots hold (the geometry of every wafer, a bump map
no later step touches) is stored once. A part is compressed with its bytes shuffled by item
size (every value's first byte, then every second byte ...), which puts the slowly varying
high bytes of a float map together. The header is compressed with the header of the wafer's
snapshot before as its dictionary. `load_twin` gives back the very bytes `snapshot`
writes.

Parts are compressed with Zstandard, each byte plane on its own (`compress_part`; decision
0113, schema 15): smaller than with zlib's level 6 at a tenth of its time; so are headers,
with the header before as a dictionary of raw content. Those an earlier schema wrote with zlib
are read as they are (`decompress` tells the two apart by the Zstandard frame's magic number).
Trace blocks, a few hundred bytes each, stay with zlib, which packs them smaller.

A process trace's samples taken during one step are packed per tool into one compressed
block: every series (one reading's name and unit) of the tool's polls, the samples in the order
they were taken, each column as differences from the sample before. Every sample is kept
exactly; nothing is decimated. Records of schemas 6 to 8 hold one block per series, and are
read as they are. See docs/decisions/0019-packed-twin-parts-and-trace-series.md and
docs/decisions/0035-headers-and-trace-blocks-coded-as-differences.md.
"""

from __future__ import annotations

import array
import functools
import itertools
import json
import sqlite3
import struct
import threading
import zlib
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

# numpy is imported by the functions that use it: `packline runs` opens the records without it.
if TYPE_CHECKING:
    import numpy as np
    import zstandard

    from packline.sim_instruments.twin.snapshot import Snapshot

#: zlib level of trace blocks: most of the gain of 9 at a fraction of its time.
LEVEL = 6
#: Zstandard level of parts: with each part's planes apart, smaller than zlib's level 6 at a
#: tenth of its time.
ZSTD_LEVEL = 1
#: Zstandard level of snapshot headers, each coded against the one before it: a third smaller
#: than zlib's level 6 with that header as its preset dictionary, in as little time.
HEADER_LEVEL = 3
#: The least bytes each byte plane of a part has for the planes to be compressed apart: each
#: then has a code of its own (the high bytes of a float map are few values, the low ones
#: noise), worth a frame's few bytes of overhead.
PLANE_APART_BYTES = 1024
#: How a Zstandard frame begins (a zlib stream, as schemas 6 to 14 wrote, otherwise).
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The most samples of a trace block coded in plain Python rather than by numpy
#: (`pack_trace_block`): below it, numpy's fixed cost per call outweighs its speed per sample.
FEW_SAMPLES = 48
#: 2**63: a signed 64-bit integer lies in [-2**63, 2**63).
_INT64 = 2**63
#: The columns of a packed trace block, in order (ids as differences from the one before).
TRACE_COLUMNS = ("id", "t", "value", "wall")
#: The columns of the traces table, in schema order.
TRACE_TABLE_COLUMNS = ("id", "run_id", "tool", "step_id", "name", "value", "unit", "t", "wall")


class _Coders(threading.local):
    """This thread's Zstandard coders: one may not be used by two threads at once, and making
    one for every part would cost more than compressing it."""

    def __init__(self) -> None:
        import zstandard

        self.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self.decompressor = zstandard.ZstdDecompressor()


@functools.cache
def _coders() -> _Coders:
    """Every thread's coders (made on first use: `packline runs` reads no part)."""
    return _Coders()


def compress(data: bytes | memoryview) -> bytes:
    """`data` as a Zstandard frame (with its size, so it is read back in one call)."""
    return _coders().compressor.compress(data)


def compress_part(npy_header: bytes, shuffled: bytes, item_size: int) -> bytes:
    """A part's `.npy` header and its values shuffled by `item_size` (`shuffle`), compressed:
    as frames one after another (the header's, then each byte plane's) where each plane has
    at least `PLANE_APART_BYTES`, else as one."""
    plane = len(shuffled) // item_size
    if item_size == 1 or plane < PLANE_APART_BYTES:
        return compress(npy_header + shuffled)
    planes = memoryview(shuffled)
    return compress(npy_header) + b"".join(
        compress(planes[index * plane : (index + 1) * plane]) for index in range(item_size)
    )


def decompress(packed: bytes) -> bytes:
    """The bytes `compress` packed (the frames of `compress_part` joined), or, written by
    schemas 6 to 14, those zlib compressed."""
    if not packed.startswith(ZSTD_MAGIC):
        return zlib.decompress(packed)
    return _coders().decompressor.decompressobj(read_across_frames=True).decompress(packed)


def shuffle(payload: bytes, item_size: int) -> bytes:
    """`payload` (values of `item_size` bytes each) with its bytes grouped by position."""
    import numpy as np

    return np.frombuffer(payload, np.uint8).reshape(-1, item_size).T.tobytes()


def unshuffle(shuffled: bytes, item_size: int) -> bytes:
    """The inverse of `shuffle`."""
    import numpy as np

    return np.frombuffer(shuffled, np.uint8).reshape(item_size, -1).T.tobytes()


# --------------------------------------------------------------------------- twin snapshots


def pack_part(part: bytes, base: bytes | None) -> tuple[int, int, bytes, bool]:
    """One `.npy` array packed: (item size, where its values start, compressed bytes, whether
    they are its difference from `base`). `base` is the array it replaced (the same field of
    the wafer's snapshot before): the difference is kept when adding it back gives the very
    bytes and it packs smaller (a layer thinned by the same amount everywhere)."""
    import numpy as np

    from packline.sim_instruments.twin.snapshot import npy_layout

    start, dtype = npy_layout(part)[:2]
    item_size = dtype.itemsize if dtype.itemsize and not (len(part) - start) % dtype.itemsize else 1
    values = part[start:]
    whole = compress_part(part[:start], shuffle(values, item_size), item_size)
    if base is None or dtype.kind != "f" or base[:start] != part[:start]:
        return item_size, start, whole, False
    with np.errstate(all="ignore"):
        before = np.frombuffer(base[start:], dtype)
        difference = np.frombuffer(values, dtype) - before
        exact = (before + difference).tobytes() == values
    if exact:
        delta = compress_part(part[:start], shuffle(difference.tobytes(), item_size), item_size)
        if len(delta) < len(whole):
            return item_size, start, delta, True
    return item_size, start, whole, False


def unpack_part(item_size: int, start: int, packed: bytes, base: bytes | None) -> bytes:
    """The `.npy` bytes of a part `pack_part` packed (`base`: the array it is the difference
    from, None when it was packed whole)."""
    import numpy as np

    raw = decompress(packed)
    unpacked = np.empty(len(raw), np.uint8)
    _unpack_into(unpacked, item_size, start, raw, base)
    return unpacked.tobytes()


def _unpack_into(
    place: np.ndarray, item_size: int, start: int, raw: bytes, base: bytes | None
) -> None:
    """Write the `.npy` bytes of a part into `place` (as long as `raw`, the part as
    `pack_part` packed it, decompressed): its values unshuffled, byte plane by byte plane,
    and added to `base`'s when they are the difference from it, straight into their place."""
    import numpy as np

    shuffled = np.frombuffer(raw, np.uint8)
    place[:start] = shuffled[:start]
    values = place[start:]
    planes = shuffled[start:].reshape(item_size, -1)
    columns = values.reshape(-1, item_size)
    for position in range(item_size):  # a plane at a time: a third of the time of one copy
        columns[:, position] = planes[position]
    if base is not None:
        from packline.sim_instruments.twin.snapshot import npy_layout

        after = values.view(npy_layout(raw).dtype)
        with np.errstate(all="ignore"):
            np.add(np.frombuffer(base, after.dtype, offset=start), after, out=after)


# --------------------------------------------------------------------------- process traces


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed 64-bit `values` as unsigned ones, small magnitudes small (0, -1, 1, -2 ...
    become 0, 1, 2, 3 ...): a shuffled column of small differences is mostly zero bytes."""
    import numpy as np

    return (values.view(np.uint64) << np.uint64(1)) ^ (values >> 63).view(np.uint64)


def unzigzag(coded: np.ndarray) -> np.ndarray:
    """The inverse of `zigzag`."""
    import numpy as np

    return (coded >> np.uint64(1)).view(np.int64) ^ -(coded & np.uint64(1)).view(np.int64)


def pack_trace_block(series: Mapping[tuple[str, str], Sequence[Sequence[float]]]) -> bytes:
    """The samples of one tool's `series` during one step as one block: by series (name,
    unit), its samples (id, t, value, wall) in id order; the block holds them all in id order.
    Each column is coded as differences from the sample before (a value from its own series'
    one before; t and the wall clock as their float64 bits, which a fixed poll interval makes
    nearly constant), zigzagged and shuffled, so the whole block compresses to a few bytes a
    sample and comes back exactly. Ids are integers below 2**53 (exact as float64). A block of
    at most `FEW_SAMPLES` is coded in plain Python (`_few_coded`), a larger one by numpy
    (`_many_coded`): the same bytes either way."""
    taken = list(series.values())
    samples = sum(len(sampled) for sampled in taken)
    body = (_few_coded if samples <= FEW_SAMPLES else _many_coded)(taken)
    header = json.dumps({"series": [list(s) for s in series], "samples": samples}).encode()
    return zlib.compress(len(header).to_bytes(4, "big") + header + body, LEVEL)


def _many_coded(taken: Sequence[Sequence[Sequence[float]]]) -> bytes:
    """The body of a trace block of the samples `taken` (each series' samples, in the order
    of the block's series), coded by numpy: the samples taken as one array of them all, not
    column by column."""
    import numpy as np

    counts = [len(samples) for samples in taken]
    table = np.array(list(itertools.chain.from_iterable(taken)), np.float64).reshape(-1, 4)
    # the block's columns as rows of one matrix, in the series' order: the series, the id, and
    # t, value and wall as their 64-bit patterns
    columns = np.empty((len(TRACE_COLUMNS) + 1, len(table)), np.int64)
    columns[0] = np.repeat(np.arange(len(taken), dtype=np.int64), counts)
    columns[1] = table[:, 0]
    columns[2:] = table[:, 1:].view(np.int64).T
    # each value as the difference from its own series' one before (the first: from 0)
    value = columns[3]
    starts = list(itertools.accumulate(counts[:-1], initial=0))
    firsts = [start for start, count in zip(starts, counts, strict=True) if count]
    own = np.diff(value, prepend=np.int64(0))
    own[firsts] = value[firsts]
    columns[3] = own
    columns = columns.take(np.argsort(table[:, 0], kind="stable"), axis=1)
    # the id, t and wall as differences from the sample before, in id order (differences of bit
    # patterns wrap around silently, and their sums wrap back)
    differences = np.diff(columns, axis=1, prepend=np.int64(0))
    columns[[1, 2, 4]] = differences[[1, 2, 4]]
    shuffled = zigzag(columns).view(np.uint8).reshape(len(columns), len(table), 8)
    return shuffled.transpose(0, 2, 1).tobytes()  # each column's bytes grouped by position


def _few_coded(taken: Sequence[Sequence[Sequence[float]]]) -> bytes:
    """The body `_many_coded` codes of the samples `taken`, coded in plain Python: for a
    dozen samples, a fraction of the time of numpy's two dozen calls."""
    samples = list(itertools.chain.from_iterable(taken))
    ids, t, value, wall = zip(*samples, strict=True) if samples else ((), (), (), ())
    ids = tuple(map(int, ids))
    t, value, wall = (_float_bits(column) for column in (t, value, wall))
    which: list[int] = []
    own: list[int] = []  # each value as the difference from its own series' one before
    start = 0
    for index, sampled in enumerate(taken):
        which += [index] * len(sampled)
        own += _differences(value[start : start + len(sampled)])
        start += len(sampled)
    order = sorted(range(len(samples)), key=ids.__getitem__)  # stable, as numpy's argsort

    def in_id_order(column: Sequence[int]) -> list[int]:
        return [column[index] for index in order]

    return b"".join(
        _zigzag_shuffled(column)
        for column in (
            in_id_order(which),
            _differences(in_id_order(ids)),
            _differences(in_id_order(t)),
            in_id_order(own),
            _differences(in_id_order(wall)),
        )
    )


def _float_bits(column: Sequence[float]) -> tuple[int, ...]:
    """Each float of `column` as the signed 64-bit integer of its float64's bits."""
    return struct.unpack(f"{len(column)}q", struct.pack(f"{len(column)}d", *column))


def _differences(column: Sequence[int]) -> list[int]:
    """Each integer of `column` less the one before it (the first: less 0)."""
    return [after - before for before, after in zip((0, *column), column, strict=False)]


def _zigzag_shuffled(column: Sequence[int]) -> bytes:
    """`zigzag` of the integers of `column`, wrapped to 64 bits first as numpy's int64
    arithmetic wraps them, then shuffled (`shuffle`, by 8): in plain Python."""
    if column and not (min(column) >= -_INT64 and max(column) < _INT64):
        column = [(number + _INT64) % (2 * _INT64) - _INT64 for number in column]
    words = array.array("Q", [(number << 1) ^ (number >> 63) for number in column]).tobytes()
    return b"".join([words[byte::8] for byte in range(8)])


def unpack_trace_block(block: bytes) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """The samples of a block `pack_trace_block` packed, by series (name, unit): the
    columns id, t, value and wall of each, in id order."""
    import numpy as np

    raw = zlib.decompress(block)
    length = int.from_bytes(raw[:4], "big")
    header = json.loads(raw[4 : 4 + length])
    size = header["samples"] * 8
    body = raw[4 + length :]
    which, ids, t, value, wall = (
        unzigzag(np.frombuffer(unshuffle(body[i * size : (i + 1) * size], 8), np.uint64))
        for i in range(5)
    )
    ids, t, wall = (np.cumsum(column) for column in (ids, t, wall))
    unpacked = {}
    for index, (name, unit) in enumerate(header["series"]):
        mine = which == index
        unpacked[(name, unit)] = {
            "id": ids[mine],
            "t": t[mine].view(np.float64),
            "value": np.cumsum(value[mine]).view(np.float64),
            "wall": wall[mine].view(np.float64),
        }
    return unpacked


def unpack_trace(block: bytes, samples: int) -> dict[str, np.ndarray]:
    """The columns of one series' block as schemas 6 to 8 packed it (`samples` rows, each
    column of float64 shuffled, ids as differences): id, t, value, wall."""
    import numpy as np

    raw = zlib.decompress(block)
    size = samples * 8
    columns = [unshuffle(raw[i * size : (i + 1) * size], 8) for i in range(len(TRACE_COLUMNS))]
    unpacked = {
        name: np.frombuffer(column, np.float64)
        for name, column in zip(TRACE_COLUMNS[1:], columns[1:], strict=True)
    }
    unpacked["id"] = np.cumsum(np.frombuffer(columns[0], np.int64))
    return unpacked


# --------------------------------------------------------------------------- in the database


class TwinWriter:
    """Records twin snapshots (`save`), keeping what it knows of each wafer's last one it
    recorded (`StoredSnapshot`), so the next is coded against it without reading it back,
    decoding the wafer's chain of headers or looking its parts up again; forgets it all when
    a transaction rolls back. It is the one writer of its runs' snapshots: the process that
    drives a run records them, and neither prune nor archive takes a driven run's away."""

    def __init__(self) -> None:
        self._stored: dict[tuple[str, str], StoredSnapshot] = {}
        #: The parts each wafer's last snapshot is stored whole as, by wafer and path, with
        #: their bytes (`WholeParts`): what the next snapshot's new parts are packed against,
        #: not read back. Kept for the `WHOLES_KEPT_WAFERS` wafers stored last, in that order.
        self._wholes: dict[tuple[str, str], WholeParts] = {}

    def forget(self) -> None:
        """Forget every snapshot stored: a transaction rolled back, which may have taken some
        of them, or their parts, away again (and an id it gave may be given again)."""
        self._stored.clear()
        self._wholes.clear()

    def header(self, digest: str) -> bytes | None:
        """The header of snapshot `digest` when it is a wafer's last one recorded (None: not
        known), as the records decode it."""
        return next(
            (known.header for known in self._stored.values() if known.digest == digest), None
        )

    def save(
        self,
        db: sqlite3.Connection,
        run_id: str,
        wafer_id: str,
        step_id: int,
        t: float,
        taken: Snapshot,
    ) -> None:
        """Record snapshot `taken` as wafer `wafer_id`'s at the end of step `step_id` of run
        `run_id`, at run clock `t` (its `twin_snapshots` row), storing it unless it is stored
        (`_store`)."""
        db.execute(
            "INSERT INTO twin_snapshots (run_id, wafer_id, step_id, hash, t) "
            "VALUES (?, ?, ?, ?, ?)",
            (run_id, wafer_id, step_id, self._store(db, run_id, wafer_id, taken), t),
        )

    def _store(self, db: sqlite3.Connection, run_id: str, wafer_id: str, taken: Snapshot) -> str:
        """Store snapshot `taken` of wafer `wafer_id` of run `run_id` (once, by its digest,
        `snapshot_digest`; each part once too, by the sha256 of its bytes); its digest. Its
        header is compressed with the header of the wafer's snapshot before as its dictionary:
        the two differ in a few values and offsets."""
        key = (run_id, wafer_id)
        digest = taken.digest
        known = self._stored.get(key)
        if known is not None and known.digest == digest:
            return digest  # stored, or found stored, in no transaction rolled back since
        if db.execute("SELECT 1 FROM twin_blobs WHERE hash = ?", (digest,)).fetchone() is None:
            previous = _previous(db, run_id, wafer_id, known)
            parts, wholes = _save_parts(db, taken, previous, self._wholes.pop(key, {}))
            self._keep_wholes(key, wholes)
            db.execute(
                "INSERT INTO twin_blobs (hash, data, parts, header_base) VALUES (?, ?, ?, ?)",
                (
                    digest,
                    compress_header(taken.header, None if previous is None else previous.header),
                    json.dumps([part_id for _, part_id, _ in parts]),
                    None if previous is None else previous.digest,
                ),
            )
        else:  # stored before (by another wafer, run or session): its parts are looked up
            parts = None
        self._stored[key] = StoredSnapshot(digest, taken.header, taken.paths, parts)
        return digest

    def _keep_wholes(self, key: tuple[str, str], wholes: WholeParts) -> None:
        """Keep `wholes` as wafer `key`'s, letting go of those of the wafer stored longest
        ago beyond `WHOLES_KEPT_WAFERS` (a wafer put away is stored no more)."""
        self._wholes[key] = wholes
        if len(self._wholes) > WHOLES_KEPT_WAFERS:
            del self._wholes[next(iter(self._wholes))]


#: The parts a wafer's snapshot is stored whole as, by path: each one's id and `.npy` bytes.
WholeParts = dict[str, tuple[int, bytes]]

#: The most wafers a `TwinWriter` keeps the whole parts of (`WholeParts`): more than a lot of
#: any size has in process at once (a levels-5 wafer's are 3.2 MB), whatever its size.
WHOLES_KEPT_WAFERS = 16


def _save_parts(
    db: sqlite3.Connection, taken: Snapshot, previous: StoredSnapshot | None, wholes: WholeParts
) -> tuple[tuple[StoredPart, ...], WholeParts]:
    """`taken`'s parts as stored, storing those not stored yet (those the wafer's snapshot
    before did not hold looked up in one query), and the parts it is stored whole as, those
    known of their bytes. A new part that replaced a part of the wafer's snapshot before (the
    same path) is packed against the part that one is stored whole as: its bytes from
    `wholes` (the snapshot before's) when they are that part's, else read back."""
    names = taken.part_digests
    stored: dict[str, tuple[int, int]] = {}
    bases: Mapping[str, int] = {}
    if previous is not None and previous.parts is not None:
        stored = {name: (part_id, whole) for name, part_id, whole in previous.parts}
        bases = previous.wholes()
    unknown = set(names) - stored.keys()
    if unknown:
        for name, part_id, base in db.execute(
            "SELECT hash, id, base FROM twin_parts WHERE hash IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(unknown)),),
        ):
            stored[name] = (part_id, part_id if base is None else base)
    kept: WholeParts = {}
    for path, name, part in zip(taken.paths, names, taken.parts, strict=True):
        known = wholes.get(path)
        if name in stored:
            part_id, whole = stored[name]
            if known is not None and known[0] == whole:
                kept[path] = known
            elif whole == part_id:
                kept[path] = (part_id, part)
            continue
        base_id = bases.get(path)
        if base_id is None:
            base = None
        elif known is not None and known[0] == base_id:
            base = known[1]  # kept: not read back
        else:
            base = _load_part(db, base_id, {})
        item_size, start, packed, delta = pack_part(part, base)
        cursor = db.execute(
            "INSERT INTO twin_parts (hash, base, item_size, start, data) VALUES (?, ?, ?, ?, ?)",
            (name, base_id if delta else None, item_size, start, packed),
        )
        part_id = int(cursor.lastrowid or 0)
        if delta and base_id is not None and base is not None:
            stored[name] = (part_id, base_id)
            kept[path] = (base_id, base)
        else:
            stored[name] = (part_id, part_id)
            kept[path] = (part_id, part)
    return tuple((name, *stored[name]) for name in names), kept


def compress_header(header: bytes, dictionary: bytes | None) -> bytes:
    """Snapshot `header` compressed with Zstandard, with `dictionary` (the header it is coded
    against), when there is one, as its dictionary of raw content."""
    import zstandard

    coded_against = None if dictionary is None else _raw_dictionary(dictionary)
    return zstandard.ZstdCompressor(level=HEADER_LEVEL, dict_data=coded_against).compress(header)


def decompress_header(packed: bytes, dictionary: bytes | None) -> bytes:
    """A header `compress_header` compressed against `dictionary`, or, written by schemas 9 to
    14, compressed by zlib with it as the preset dictionary."""
    if dictionary is None:
        return decompress(packed)
    if not packed.startswith(ZSTD_MAGIC):
        return zlib.decompressobj(zdict=dictionary).decompress(packed)
    import zstandard

    return zstandard.ZstdDecompressor(dict_data=_raw_dictionary(dictionary)).decompress(packed)


def _raw_dictionary(header: bytes) -> zstandard.ZstdCompressionDict:
    """`header` as a Zstandard dictionary of raw content: what the header after it is coded
    against."""
    import zstandard

    return zstandard.ZstdCompressionDict(header, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


#: A stored snapshot's part: its digest, its id, and the id of the part it is stored whole as
#: (its own, or the base it is stored as a difference from).
StoredPart = tuple[str, int, int]


class StoredSnapshot(NamedTuple):  # not a dataclass: a reader of the records does without
    """A wafer's snapshot stored (what a new one's header and parts are coded against): its
    digest and header, where each of its parts is, and, when known, its parts as stored."""

    digest: str
    header: bytes
    #: Where each of the snapshot's parts is in the workpiece, in order (`array_paths`).
    paths: Sequence[str]
    #: Its parts, in order (None: not known, to be read back).
    parts: tuple[StoredPart, ...] | None

    def wholes(self) -> dict[str, int]:
        """The part each of its parts is stored whole as, by path."""
        assert self.parts is not None
        return {path: whole for path, (_, _, whole) in zip(self.paths, self.parts, strict=True)}


def _previous(
    db: sqlite3.Connection, run_id: str, wafer_id: str, known: StoredSnapshot | None
) -> StoredSnapshot | None:
    """The wafer's last stored snapshot, None if it has none stored by part. It is `known`
    (what a `TwinWriter` knows of the wafer's last snapshot, which it recorded) when `known`
    has its parts, as the writer stored them; else it is read back: its header is `known`'s
    when `known` has its digest, its parts looked up."""
    if known is not None and known.parts is not None:
        return known
    row = db.execute(
        "SELECT b.hash, b.parts FROM twin_snapshots s JOIN twin_blobs b ON b.hash = s.hash "
        "WHERE s.run_id = ? AND s.wafer_id = ? ORDER BY s.rowid DESC LIMIT 1",
        (run_id, wafer_id),
    ).fetchone()
    if row is None or row[1] is None:
        return None
    digest, ids = row[0], json.loads(row[1])
    if known is None or known.digest != digest:
        header = _load_header(db, digest)
        from packline.sim_instruments.twin.snapshot import array_paths

        known = StoredSnapshot(digest, header, array_paths(header), None)
    parts = {
        int(part_id): (name, int(part_id), int(base if base is not None else part_id))
        for part_id, base, name in db.execute(
            f"SELECT id, base, hash FROM twin_parts WHERE id IN ({', '.join('?' for _ in ids)})",
            ids,
        )
    }
    return StoredSnapshot(digest, known.header, known.paths, tuple(parts[i] for i in ids))


def _load_header(db: sqlite3.Connection, digest: str) -> bytes:
    """The header of the snapshot stored by part under `digest`, decoded along the chain of
    headers it is coded against."""
    chain: list[bytes] = []
    base: str | None = digest
    while base is not None:
        data, base = db.execute(
            "SELECT data, header_base FROM twin_blobs WHERE hash = ?", (base,)
        ).fetchone()
        chain.append(data)
    header = decompress_header(chain.pop(), None)
    while chain:
        header = decompress_header(chain.pop(), header)
    return header


def _load_part(db: sqlite3.Connection, part_id: int, loaded: dict[int, bytes]) -> bytes:
    """The `.npy` bytes of part `part_id` (`loaded`: the parts read so far, by id)."""
    if part_id not in loaded:
        base, item_size, start, packed = db.execute(
            "SELECT base, item_size, start, data FROM twin_parts WHERE id = ?", (part_id,)
        ).fetchone()
        before = None if base is None else _load_part(db, int(base), loaded)
        loaded[part_id] = unpack_part(item_size, start, packed, before)
    return loaded[part_id]


def load_twin(db: sqlite3.Connection, digest: str, header: bytes | None = None) -> bytes | None:
    """The snapshot stored under `digest`, as `snapshot` wrote it; None if there is none. A
    snapshot stored whole (before schema 6) is read as it is. `header`: its header, when the
    caller knows it (the `TwinWriter` that stored it), not decoded along its chain again.
    Its parts are read in one query, each unpacked into its place in the snapshot."""
    import numpy as np

    row = db.execute("SELECT data, parts FROM twin_blobs WHERE hash = ?", (digest,)).fetchone()
    if row is None:
        return None
    data, ids = row
    if ids is None:
        return zlib.decompress(data)
    header = _load_header(db, digest) if header is None else header
    part_ids = [int(part_id) for part_id in json.loads(ids)]
    packed = {
        int(part_id): (base, item_size, start, decompress(data))
        for part_id, base, item_size, start, data in db.execute(
            "SELECT id, base, item_size, start, data FROM twin_parts "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(part_ids))),),
        )
    }
    sizes = [len(packed[part_id][3]) for part_id in part_ids]
    joined = np.empty(len(header) + sum(sizes), np.uint8)
    joined[: len(header)] = np.frombuffer(header, np.uint8)
    offsets = itertools.accumulate(sizes, initial=len(header))
    bases: dict[int, bytes] = {}
    for part_id, offset, size in zip(part_ids, offsets, sizes, strict=False):
        base, item_size, start, raw = packed[part_id]
        before = None if base is None else _load_part(db, int(base), bases)
        _unpack_into(joined[offset : offset + size], item_size, start, raw, before)
    return joined.tobytes()


#: A step's trace samples as its writer keeps them (`pack_traces`): by (tool, name, unit), each
#: sample's (id, t, value, wall) in id order.
StepSamples = dict[tuple[str, str, str], list[tuple[int, float, float, float]]]


def write_traces(
    db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], packed: Collection[int] = ()
) -> int:
    """Insert trace samples (run_id, tool, step_id, name, value, unit, t, wall) as rows, each
    with an id after every sample's, packed or not (ids are never reused); the first row's id
    (each row after it has the next). The samples of the steps `packed` are given their ids
    but not inserted: the caller packs them in the same transaction (`pack_traces`, from what
    it keeps of them), whose series' last ids then keep the ids after them."""
    (last,) = db.execute(
        "SELECT max(coalesce((SELECT max(id) FROM traces), 0), "
        "coalesce((SELECT max(last_id) FROM trace_series), 0))"
    ).fetchone()
    db.executemany(
        "INSERT INTO traces (id, run_id, tool, step_id, name, value, unit, t, wall) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(last + 1 + index, *row) for index, row in enumerate(rows) if row[2] not in packed],
    )
    return int(last) + 1


def pack_traces(
    db: sqlite3.Connection,
    run_id: str,
    step_ids: Sequence[int] | None,
    written: Mapping[int, StepSamples] | None = None,
) -> None:
    """Pack the trace rows of run `run_id` taken during these steps (None: every one left)
    into one block per series, in the caller's transaction. `written`: every row of these
    steps (given as `step_ids`), by step, as the caller wrote them, so they are not read back."""
    where = "run_id = ?"
    values: list[Any] = [run_id]
    if step_ids is not None:
        if not step_ids:
            return
        where += f" AND step_id IN ({', '.join('?' for _ in step_ids)})"
        values += list(step_ids)
    # by tool and step, then by series (name, unit), in that order: the blocks' order
    tools: dict[tuple[Any, ...], dict[tuple[str, str], list[tuple[Any, ...]]]] = {}
    if written is not None:
        for tool, step_id, name, unit in sorted(
            (tool, step_id, name, unit)
            for step_id, samples in written.items()
            for tool, name, unit in samples
        ):
            tools.setdefault((tool, step_id), {})[(name, unit)] = written[step_id][
                (tool, name, unit)
            ]
    else:
        rows = db.execute(
            "SELECT tool, step_id, name, unit, id, t, value, wall FROM traces "
            f"WHERE {where} ORDER BY tool, step_id, name, unit, id",
            values,
        ).fetchall()
        for row in rows:
            tools.setdefault(tuple(row[:2]), {}).setdefault(tuple(row[2:4]), []).append(
                tuple(row[4:])
            )
    if not tools:
        return
    for (tool, step_id), series in tools.items():
        cursor = db.execute(
            "INSERT INTO trace_blocks (run_id, data) VALUES (?, ?)",
            (run_id, pack_trace_block(series)),
        )
        db.executemany(
            "INSERT INTO trace_series (run_id, tool, step_id, name, unit, samples, last_id, "
            "min, max, data, block) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    tool,
                    step_id,
                    name,
                    unit,
                    len(taken),
                    taken[-1][0],
                    min(sample[2] for sample in taken),
                    max(sample[2] for sample in taken),
                    b"",
                    cursor.lastrowid,
                )
                for (name, unit), taken in series.items()
            ],
        )
    db.execute(f"DELETE FROM traces WHERE {where}", values)


def read_traces(db: sqlite3.Connection, run_id: str) -> dict[str, list[Any]]:
    """Every trace sample of run `run_id`, packed or not, as columns (those of the traces
    table), ordered by tool, name, time and id. Rows and blocks are read in one transaction:
    a writer may pack a step's rows meanwhile, and no sample may be read twice or missed."""
    began = not db.in_transaction
    if began:
        db.execute("BEGIN")
    try:
        return _read_traces(db, run_id)
    finally:
        if began:
            db.execute("COMMIT")


def _read_traces(db: sqlite3.Connection, run_id: str) -> dict[str, list[Any]]:
    import numpy as np

    columns: dict[str, list[Any]] = {c: [] for c in TRACE_TABLE_COLUMNS}
    for row in db.execute(
        f"SELECT {', '.join(TRACE_TABLE_COLUMNS)} FROM traces WHERE run_id = ?", (run_id,)
    ):
        for column, value in zip(TRACE_TABLE_COLUMNS, row, strict=True):
            columns[column].append(value)
    blocks: dict[int, dict[tuple[str, str], dict[str, np.ndarray]]] = {}
    for tool, step_id, name, unit, samples, data, block in db.execute(
        "SELECT s.tool, s.step_id, s.name, s.unit, s.samples, coalesce(b.data, s.data), s.block "
        "FROM trace_series s LEFT JOIN trace_blocks b ON b.id = s.block WHERE s.run_id = ?",
        (run_id,),
    ):
        if block is None:  # packed by series, as schemas 6 to 8 did
            unpacked = unpack_trace(data, samples)
        else:
            if block not in blocks:
                blocks[block] = unpack_trace_block(data)
            unpacked = blocks[block][(name, unit)]
        for column, value in (
            ("run_id", run_id),
            ("tool", tool),
            ("step_id", step_id),
            ("name", name),
            ("unit", unit),
        ):
            columns[column] += [value] * samples
        columns["id"] += unpacked["id"].tolist()
        for column in ("t", "value", "wall"):
            columns[column] += unpacked[column].tolist()
    keys = [np.asarray(columns["id"]), np.asarray(columns["t"], dtype=np.float64)]
    for column in ("name", "tool"):  # each as its rank among the column's values
        rank = {value: index for index, value in enumerate(sorted(set(columns[column])))}
        keys.append(np.fromiter((rank[v] for v in columns[column]), np.int64, len(keys[0])))
    order = np.lexsort(keys).tolist()
    return {column: [values[i] for i in order] for column, values in columns.items()}


def summarise_traces(db: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Per tool, trace name and unit of run `run_id`: samples, min and max."""
    rows = db.execute(
        """SELECT tool, name, unit, sum(samples) AS samples, min(low) AS min, max(high) AS max
           FROM (SELECT tool, name, unit, count(*) AS samples, min(value) AS low,
                        max(value) AS high
                 FROM traces WHERE run_id = ? GROUP BY tool, name, unit
                 UNION ALL
                 SELECT tool, name, unit, samples, min, max FROM trace_series WHERE run_id = ?)
           GROUP BY tool, name, unit ORDER BY tool, name""",
        (run_id, run_id),
    )
    return [dict(row) for row in rows]


# --------------------------------------------------------------------------- runs removed


def twin_parts_of(db: sqlite3.Connection, hashes: Sequence[str] | None = None) -> set[int]:
    """The ids of the twin parts the snapshots stored under `hashes` (None: every snapshot
    stored) are made of, with every part one of those is stored as a difference from."""
    if hashes is None:
        rows = db.execute("SELECT parts FROM twin_blobs WHERE parts IS NOT NULL")
    else:
        rows = db.execute(
            "SELECT parts FROM twin_blobs WHERE parts IS NOT NULL "
            "AND hash IN (SELECT value FROM json_each(?))",
            (json.dumps(list(hashes)),),
        )
    ids: set[int] = set()
    for (parts,) in rows:
        ids |= {int(part_id) for part_id in json.loads(parts)}
    bases = {
        int(i): int(b)
        for i, b in db.execute("SELECT id, base FROM twin_parts WHERE base IS NOT NULL")
    }
    todo = list(ids)
    while todo:
        base = bases.get(todo.pop())
        if base is not None and base not in ids:
            ids.add(base)
            todo.append(base)
    return ids


def twin_blobs_of(db: sqlite3.Connection, hashes: Sequence[str]) -> set[str]:
    """The snapshots stored under `hashes` with every snapshot whose header one of those is
    coded against (`header_base`), and so on down each chain."""
    kept = set(hashes)
    todo = list(kept)
    while todo:
        row = db.execute(
            "SELECT header_base FROM twin_blobs WHERE hash = ?", (todo.pop(),)
        ).fetchone()
        if row is not None and row[0] is not None and row[0] not in kept:
            kept.add(row[0])
            todo.append(row[0])
    return kept


def drop_unused_twins(db: sqlite3.Connection) -> None:
    """Delete the snapshots no run's snapshot row refers to any more (nor codes its header
    against), and the parts no remaining snapshot is made of, in the caller's transaction
    (once runs' rows are gone)."""
    kept = twin_blobs_of(db, [h for (h,) in db.execute("SELECT DISTINCT hash FROM twin_snapshots")])
    unused_blobs = [(h,) for (h,) in db.execute("SELECT hash FROM twin_blobs") if h not in kept]
    db.executemany("DELETE FROM twin_blobs WHERE hash = ?", unused_blobs)
    used = twin_parts_of(db)
    unused = [(i,) for (i,) in db.execute("SELECT id FROM twin_parts") if i not in used]
    db.executemany("DELETE FROM twin_parts WHERE id = ?", unused)
