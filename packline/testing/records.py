"""A run's records laid out unpacked, as schema 5 stored them: every trace sample a row and
every distinct twin snapshot one zlib blob. The readers read that layout as they read the
packed one, so a run's packed records and their unpacked copy must read the same (the readers
test), and the copy's size is the baseline `bench/records.py` measures the packing against."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from packline.sequences.engine import RunStore
from packline.sequences.engine.packing import TRACE_TABLE_COLUMNS


def write_unpacked(store: RunStore, run_id: str, path: Path) -> None:
    """Write a copy of `store`'s database at `path` with run `run_id`'s traces as rows and its
    snapshots as whole zlib blobs (level 1), as schema 5 stored them, and compact it."""
    traces = store.traces(run_id)
    digests = {snap["hash"] for snap in store.twin_snapshots(run_id)}
    blobs = [(digest, zlib.compress(store.twin_blob(digest), 1)) for digest in digests]
    source = sqlite3.connect(store.path)
    copy = sqlite3.connect(path)
    source.backup(copy)
    source.close()
    for table in ("trace_series", "trace_blocks", "twin_parts", "twin_blobs"):
        copy.execute(f"DELETE FROM {table}")
    copy.executemany("INSERT INTO twin_blobs (hash, data) VALUES (?, ?)", blobs)
    copy.executemany(
        f"INSERT INTO traces ({', '.join(TRACE_TABLE_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in TRACE_TABLE_COLUMNS)})",
        zip(*(traces[column] for column in TRACE_TABLE_COLUMNS), strict=True),
    )
    copy.commit()
    copy.execute("VACUUM")
    copy.close()
