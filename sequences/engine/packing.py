"""How the bulky records are packed: twin snapshots by part, process traces by series.

A dry run's twin snapshot (sim_instruments/twin/snapshot.py: a JSON header, then one `.npy`
array after another) is stored split: its header, and each array as a *part* under the sha256
of its bytes, so an array that several snapshots hold (the geometry of every wafer, a bump map
no later step touches) is stored once. A part is compressed with its bytes shuffled by item
size (every value's first byte, then every second byte ...), which puts the slowly varying
high bytes of a float map together. `join_snapshot` gives back the very bytes `snapshot` wrote.

A process trace's samples are packed per series (one tool's reading of one name during one
step) into one compressed block: the samples' ids, run clock, value and wall clock, each
column shuffled the same way. Every sample is kept exactly; nothing is decimated. See
docs/decisions/0019-packed-twin-parts-and-trace-series.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

# numpy is imported by the functions that use it: `packline runs` opens the records without it.
if TYPE_CHECKING:
    import numpy as np

#: zlib level of parts and trace blocks: most of the gain of 9 at a fraction of its time.
LEVEL = 6
#: The columns of a packed trace block, in order (ids as differences from the one before).
TRACE_COLUMNS = ("id", "t", "value", "wall")
#: The columns of the traces table, in schema order.
TRACE_TABLE_COLUMNS = ("id", "run_id", "tool", "step_id", "name", "value", "unit", "t", "wall")


def shuffle(payload: bytes, item_size: int) -> bytes:
    """`payload` (values of `item_size` bytes each) with its bytes grouped by position."""
    import numpy as np

    return np.frombuffer(payload, np.uint8).reshape(-1, item_size).T.tobytes()


def unshuffle(shuffled: bytes, item_size: int) -> bytes:
    """The inverse of `shuffle`."""
    import numpy as np

    return np.frombuffer(shuffled, np.uint8).reshape(item_size, -1).T.tobytes()


# --------------------------------------------------------------------------- twin snapshots


def split_snapshot(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Snapshot `data` as its header (the length prefix and the JSON) and its arrays, each as
    (where it is in the workpiece, its `.npy` bytes), in order; `join_snapshot` of the
    header and the arrays' bytes is `data`."""
    length = int.from_bytes(data[:8], "big")
    header = data[: 8 + length]
    arrays = data[8 + length :]
    parts = [
        (path, arrays[offset : offset + size])
        for offset, size, path in sorted(_array_spans(json.loads(header[8:])))
    ]
    if sum(len(part) for _, part in parts) != len(arrays):
        raise ValueError("twin snapshot: its arrays do not cover its array section")
    return header, parts


def _array_spans(value: Any, path: str = "") -> Iterator[tuple[int, int, str]]:
    """The (offset, length, path) of every array a snapshot header refers to."""
    if isinstance(value, dict):
        if set(value) == {"npy"}:
            offset, length = value["npy"]
            yield int(offset), int(length), path
            return
        for key, item in value.items():
            yield from _array_spans(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _array_spans(item, f"{path}[{index}]")


def join_snapshot(header: bytes, parts: Sequence[bytes]) -> bytes:
    """The snapshot that `split_snapshot` split."""
    return header + b"".join(parts)


def _values(part: bytes) -> tuple[int, np.dtype[Any]]:
    """Where the values of `.npy` bytes `part` start (after its header), and their type."""
    import numpy as np

    stream = io.BytesIO(part)
    major, _ = np.lib.format.read_magic(stream)
    read = (
        np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    )
    _, _, dtype = read(stream)
    return stream.tell(), dtype


def pack_part(part: bytes, base: bytes | None) -> tuple[int, int, bytes, bool]:
    """One `.npy` array packed: (item size, where its values start, compressed bytes, whether
    they are its difference from `base`). `base` is the array it replaced (the same field of
    the wafer's snapshot before): the difference is kept when adding it back gives the very
    bytes and it packs smaller (a layer thinned by the same amount everywhere)."""
    import numpy as np

    start, dtype = _values(part)
    item_size = dtype.itemsize if dtype.itemsize and not (len(part) - start) % dtype.itemsize else 1
    values = part[start:]
    whole = zlib.compress(part[:start] + shuffle(values, item_size), LEVEL)
    if base is None or dtype.kind != "f" or base[:start] != part[:start]:
        return item_size, start, whole, False
    with np.errstate(all="ignore"):
        before = np.frombuffer(base[start:], dtype)
        difference = np.frombuffer(values, dtype) - before
        exact = (before + difference).tobytes() == values
    if exact:
        delta = zlib.compress(part[:start] + shuffle(difference.tobytes(), item_size), LEVEL)
        if len(delta) < len(whole):
            return item_size, start, delta, True
    return item_size, start, whole, False


def unpack_part(item_size: int, start: int, packed: bytes, base: bytes | None) -> bytes:
    """The `.npy` bytes of a part `pack_part` packed (`base`: the array it is the difference
    from, None when it was packed whole)."""
    import numpy as np

    raw = zlib.decompress(packed)
    values = unshuffle(raw[start:], item_size)
    if base is None:
        return raw[:start] + values
    _, dtype = _values(raw)
    with np.errstate(all="ignore"):
        after: np.ndarray = np.frombuffer(base[start:], dtype) + np.frombuffer(values, dtype)
    return raw[:start] + after.tobytes()


# --------------------------------------------------------------------------- process traces


def pack_trace(rows: Sequence[Sequence[float]]) -> bytes:
    """One series' samples, rows of (id, t, value, wall) in id order, as one block."""
    import numpy as np

    table = np.asarray(rows, dtype=np.float64).reshape(-1, len(TRACE_COLUMNS))
    ids = table[:, 0].astype(np.int64)
    columns = [np.diff(ids, prepend=0).tobytes()] + [table[:, i].tobytes() for i in (1, 2, 3)]
    return zlib.compress(b"".join(shuffle(column, 8) for column in columns), LEVEL)


def unpack_trace(block: bytes, samples: int) -> dict[str, np.ndarray]:
    """The columns of a block `pack_trace` packed (`samples` rows): id, t, value, wall."""
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


def save_twin(db: sqlite3.Connection, run_id: str, wafer_id: str, data: bytes) -> str:
    """Store snapshot `data` of wafer `wafer_id` of run `run_id` (once, by the sha256 of its
    bytes; each part once too, by the sha256 of its bytes); its digest."""
    digest = hashlib.sha256(data).hexdigest()
    if db.execute("SELECT 1 FROM twin_blobs WHERE hash = ?", (digest,)).fetchone() is not None:
        return digest
    header, parts = split_snapshot(data)
    before = _previous_parts(db, run_id, wafer_id)
    ids = []
    for path, part in parts:
        name = hashlib.sha256(part).hexdigest()
        row = db.execute("SELECT id FROM twin_parts WHERE hash = ?", (name,)).fetchone()
        if row is not None:
            ids.append(int(row[0]))
            continue
        base_id = before.get(path)
        item_size, start, packed, delta = pack_part(
            part, None if base_id is None else _load_part(db, base_id, {})
        )
        cursor = db.execute(
            "INSERT INTO twin_parts (hash, base, item_size, start, data) VALUES (?, ?, ?, ?, ?)",
            (name, base_id if delta else None, item_size, start, packed),
        )
        ids.append(int(cursor.lastrowid or 0))
    db.execute(
        "INSERT INTO twin_blobs (hash, data, parts) VALUES (?, ?, ?)",
        (digest, zlib.compress(header, LEVEL), json.dumps(ids)),
    )
    return digest


def _previous_parts(db: sqlite3.Connection, run_id: str, wafer_id: str) -> dict[str, int]:
    """The parts of the wafer's last stored snapshot that are stored whole, by path (a part
    stored as a difference gives its own base): what a new part may be a difference from."""
    row = db.execute(
        "SELECT b.data, b.parts FROM twin_snapshots s JOIN twin_blobs b ON b.hash = s.hash "
        "WHERE s.run_id = ? AND s.wafer_id = ? ORDER BY s.rowid DESC LIMIT 1",
        (run_id, wafer_id),
    ).fetchone()
    if row is None or row[1] is None:
        return {}
    header = zlib.decompress(row[0])
    paths = [path for _, _, path in sorted(_array_spans(json.loads(header[8:])))]
    ids = json.loads(row[1])
    wholes = {
        int(part_id): int(base if base is not None else part_id)
        for part_id, base in db.execute(
            f"SELECT id, base FROM twin_parts WHERE id IN ({', '.join('?' for _ in ids)})", ids
        )
    }
    return {path: wholes[part_id] for path, part_id in zip(paths, ids, strict=True)}


def _load_part(db: sqlite3.Connection, part_id: int, loaded: dict[int, bytes]) -> bytes:
    """The `.npy` bytes of part `part_id` (`loaded`: the parts read so far, by id)."""
    if part_id not in loaded:
        base, item_size, start, packed = db.execute(
            "SELECT base, item_size, start, data FROM twin_parts WHERE id = ?", (part_id,)
        ).fetchone()
        before = None if base is None else _load_part(db, int(base), loaded)
        loaded[part_id] = unpack_part(item_size, start, packed, before)
    return loaded[part_id]


def load_twin(db: sqlite3.Connection, digest: str) -> bytes | None:
    """The snapshot stored under `digest`, as `snapshot` wrote it; None if there is none. A
    snapshot stored whole (before schema 6) is read as it is."""
    row = db.execute("SELECT data, parts FROM twin_blobs WHERE hash = ?", (digest,)).fetchone()
    if row is None:
        return None
    data, ids = row
    if ids is None:
        return zlib.decompress(data)
    loaded: dict[int, bytes] = {}
    parts = [_load_part(db, int(part_id), loaded) for part_id in json.loads(ids)]
    return join_snapshot(zlib.decompress(data), parts)


def write_traces(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert trace samples (run_id, tool, step_id, name, value, unit, t, wall) as rows, each
    with an id after every sample's, packed or not (ids are never reused)."""
    (last,) = db.execute(
        "SELECT max(coalesce((SELECT max(id) FROM traces), 0), "
        "coalesce((SELECT max(last_id) FROM trace_series), 0))"
    ).fetchone()
    db.executemany(
        "INSERT INTO traces (id, run_id, tool, step_id, name, value, unit, t, wall) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(last + 1 + index, *row) for index, row in enumerate(rows)],
    )


def pack_traces(db: sqlite3.Connection, run_id: str, step_ids: Sequence[int] | None) -> None:
    """Pack the trace rows of run `run_id` taken during these steps (None: every one left)
    into one block per series, in the caller's transaction."""
    where = "run_id = ?"
    values: list[Any] = [run_id]
    if step_ids is not None:
        if not step_ids:
            return
        where += f" AND step_id IN ({', '.join('?' for _ in step_ids)})"
        values += list(step_ids)
    rows = db.execute(
        "SELECT tool, step_id, name, unit, id, t, value, wall FROM traces "
        f"WHERE {where} ORDER BY tool, step_id, name, unit, id",
        values,
    ).fetchall()
    if not rows:
        return
    series: dict[tuple[Any, ...], list[tuple[float, ...]]] = {}
    for row in rows:
        sample = tuple(row)
        series.setdefault(sample[:4], []).append(sample[4:])
    db.executemany(
        "INSERT INTO trace_series (run_id, tool, step_id, name, unit, samples, last_id, "
        "min, max, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                *key,
                len(samples),
                samples[-1][0],
                min(s[2] for s in samples),
                max(s[2] for s in samples),
                pack_trace(samples),
            )
            for key, samples in series.items()
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
    for tool, step_id, name, unit, samples, block in db.execute(
        "SELECT tool, step_id, name, unit, samples, data FROM trace_series WHERE run_id = ?",
        (run_id,),
    ):
        unpacked = unpack_trace(block, samples)
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


def drop_unused_twins(db: sqlite3.Connection) -> None:
    """Delete the snapshots no run's snapshot row refers to any more, and the parts no
    remaining snapshot is made of, in the caller's transaction (once runs' rows are gone)."""
    db.execute("DELETE FROM twin_blobs WHERE hash NOT IN (SELECT hash FROM twin_snapshots)")
    used = twin_parts_of(db)
    unused = [(i,) for (i,) in db.execute("SELECT id FROM twin_parts") if i not in used]
    db.executemany("DELETE FROM twin_parts WHERE id = ?", unused)
