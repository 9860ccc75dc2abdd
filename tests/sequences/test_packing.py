"""The packed records: twin snapshots stored by part, process traces packed per series. What
goes in comes back byte for byte and sample for sample; only the storage is smaller."""

from __future__ import annotations

import io
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

from packline.sequences.engine import RunStore, packing
from packline.sequences.engine.packing import (
    drop_unused_twins,
    pack_part,
    pack_trace_block,
    shuffle,
    unpack_part,
    unpack_trace_block,
)
from packline.sequences.engine.records import TRACE_BATCH
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.freezing import thaw
from packline.sim_instruments.twin.snapshot import Snapshot, Snapshots, array_paths, snapshot


def join_snapshot(header: bytes, parts: tuple[bytes, ...]) -> bytes:
    """The snapshot of this `header` and `parts` (each array's `.npy` bytes, in order), as
    `load_twin` puts it together in place."""
    return header + b"".join(parts)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def start_run(store: RunStore, wafers: list[str], steps: int) -> list[list[int]]:
    """A run 'r' of these wafers with `steps` running steps each; the step ids by wafer."""
    run = {
        "id": "r",
        "method": "m",
        "recipe_json": "{}",
        "recipe_text": "",
        "recipe_source": "",
        "recipe_hash": "0",
        "station_name": "line",
        "station_yaml": "",
        "simulated": 1,
        "operator": "ana",
        "lot_size": len(wafers),
        "failure_policy": "hold",
        "status": "running",
        "sessions": 1,
        "started_t": 0.0,
        "started_wall": 0.0,
    }
    store.create_run(run, wafers)
    row = {"run_id": "r", "session": 1, "claims": [], "tool": "pc", "irreversible": 0}
    return [
        store.start_steps(
            [
                {
                    **row,
                    "wafer_id": wafer,
                    "key": f"s#{index}",
                    "name": "s",
                    "kind": "step",
                    "status": "running",
                    "started_t": 0.0,
                    "started_wall": 0.0,
                }
                for index in range(steps)
            ]
        )
        for wafer in wafers
    ]


def count(store: RunStore, sql: str) -> int:
    db = sqlite3.connect(store.path)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


def test_a_snapshot_is_its_header_and_arrays_joined_each_array_at_its_path():
    wafer = TwinStore().get("W01")
    taken = Snapshots().take(wafer)
    assert join_snapshot(taken.header, taken.parts) == snapshot(wafer)
    paths = array_paths(taken.header)
    assert len(paths) == len(taken.parts)
    site_x = taken.parts[paths.index(".fields.geometry.site_x_mm")]
    assert np.load(io.BytesIO(site_x)).tobytes() == wafer.geometry.site_x_mm.tobytes()
    assert ".fields.surface.residue_nm" in paths


@pytest.mark.parametrize(
    "array",
    [
        np.array([1.5, np.nan, np.inf, -np.inf, -0.0], dtype=np.float32),
        np.arange(12, dtype=">f8").reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
        np.array([True, False, True]),
        np.zeros((0, 2), dtype=np.float32),
    ],
)
def test_a_part_unpacks_to_its_very_bytes_whole_or_as_a_difference(array):
    part = npy(array)
    item_size, start, packed, delta = pack_part(part, None)
    assert not delta
    assert unpack_part(item_size, start, packed, None) == part
    changed = npy(array + 1 if array.dtype.kind == "f" else array)
    item_size, start, packed, delta = pack_part(changed, part)
    assert unpack_part(item_size, start, packed, part if delta else None) == changed


def test_a_layer_thinned_everywhere_is_stored_as_its_difference():
    rng = np.random.default_rng(0)
    before = rng.normal(45, 0.3, 10_000).astype(np.float32)
    after = before - np.float32(0.6)
    item_size, start, packed, delta = pack_part(npy(after), npy(before))
    assert delta
    assert len(packed) < len(pack_part(npy(after), None)[2]) / 10
    assert unpack_part(item_size, start, packed, npy(before)) == npy(after)


@pytest.mark.parametrize("size", [100, 10_000])
def test_parts_are_zstandard_and_zlib_ones_of_before_are_read_as_they_are(size):
    """Schema 15 compresses a part with Zstandard (a large one's byte planes each as a frame
    of its own); a part that schemas 6 to 14 compressed with zlib (the same bytes under another
    compression) reads back the same."""
    rng = np.random.default_rng(2)
    before = npy(rng.normal(45, 0.3, size).astype(np.float32))
    after = npy(np.frombuffer(before[128:], np.float32) - np.float32(0.6))
    item_size, start, packed, delta = pack_part(after, before)
    assert delta
    assert packed.startswith(packing.ZSTD_MAGIC)
    as_zlib = zlib.compress(packing.decompress(packed), 6)
    for stored in (packed, as_zlib):
        assert unpack_part(item_size, start, stored, before) == after
    item_size, start, packed, delta = pack_part(before, None)
    assert unpack_part(item_size, start, packed, None) == before


def test_a_header_coded_against_the_one_before_reads_back_as_zlib_ones_of_before_do():
    """Schema 15 codes a header with Zstandard, the header before as its dictionary; one that
    schemas 9 to 14 coded with zlib, that header its preset dictionary, reads back the same."""
    before = b'{"format":"packline-twin/2","fields":{"id":"W01","history":[]}}' * 20
    header = before.replace(b"[]", b'[{"tool":"oven"}]', 3)
    packed = packing.compress_header(header, before)
    assert packed.startswith(packing.ZSTD_MAGIC)
    assert len(packed) < len(packing.compress_header(header, None))
    coder = zlib.compressobj(6, zdict=before)
    as_zlib = coder.compress(header) + coder.flush()
    for stored in (packed, as_zlib):
        assert packing.decompress_header(stored, before) == header
    assert packing.decompress_header(zlib.compress(header, 6), None) == header


def test_twin_snapshots_come_back_byte_for_byte_and_each_part_is_stored_once(store):
    (w1, w2) = start_run(store, ["W01", "W02"], 2)
    twins, snapshots = TwinStore(), Snapshots()
    first = {wafer: snapshots.take(twins.get(wafer)) for wafer in ("W01", "W02")}
    store.finish_steps(
        [w1[0], w2[0]],
        "completed",
        1.0,
        1.0,
        twins=[
            (w1[0], "W01", first["W01"]),
            (w2[0], "W02", first["W02"]),
        ],
    )
    wafer = twins.get("W01")
    wafer.surface.residue_nm = wafer.surface.residue_nm - np.float32(0.5)
    thinned = snapshots.take(wafer)
    store.finish_steps([w1[1]], "completed", 2.0, 2.0, twins=[(w1[1], "W01", thinned)])
    snaps = store.twin_snapshots("r")
    assert [(s["wafer_id"], s["step_id"]) for s in snaps] == [
        ("W01", w1[0]),
        ("W01", w1[1]),
        ("W02", w2[0]),
    ]
    read = [store.twin_blob(s["hash"]) for s in snaps]
    assert read == [first["W01"].data, thinned.data, first["W02"].data]
    assert store.latest_twins("r") == {"W01": thinned.data, "W02": first["W02"].data}
    parts = len(thinned.parts)
    # the geometry of both wafers once; the second residue map as a difference
    assert count(store, "SELECT count(*) FROM twin_parts") < 2 * parts
    assert count(store, "SELECT count(*) FROM twin_parts WHERE base IS NOT NULL") == 1
    # the second header of W01 is coded against the first, and far smaller
    coded = sqlite3.connect(store.path).execute(
        "SELECT header_base, length(data) FROM twin_blobs WHERE hash = ?", (snaps[1]["hash"],)
    )
    base, size = coded.fetchone()
    assert base == snaps[0]["hash"]
    assert size < count(store, f"SELECT length(data) FROM twin_blobs WHERE hash = '{base}'") / 4


def twin_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the twin tables, in order."""
    db = sqlite3.connect(path)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("twin_blobs", "twin_parts", "twin_snapshots")
        }
    finally:
        db.close()


def finish_and_roll_back(store: RunStore, step: int, taken: Snapshot) -> None:
    """Record the end of `step` with wafer W01's snapshot `taken`, in a transaction that fails."""
    with store.transaction(durable=False):
        store.finish_steps([step], "completed", 0.5, 0.5, twins=[(step, "W01", taken)])
        raise RuntimeError("cut off")


def test_the_header_a_store_keeps_codes_a_snapshot_as_one_read_back_would(tmp_path):
    """A store codes each wafer's snapshot against the header of its last one without reading
    it back; the records are those of a store opened afresh for every step, which reads it
    back, even when a step's record was rolled back in between."""
    twins, snapshots = TwinStore(), Snapshots()
    wafer = twins.get("W01")
    taken = [snapshots.take(wafer)]
    for index in range(3):
        thaw(wafer.surface.residue_nm)  # as a step writing it in place does
        wafer.surface.residue_nm[index] -= np.float32(0.5)  # in place
        wafer.record("plasma", "clean", float(index))
        taken.append(snapshots.take(wafer))
    rolled_back = taken.pop(2)
    kept, fresh = RunStore(tmp_path / "kept.db"), RunStore(tmp_path / "fresh.db")
    try:
        ((*steps, lost),) = start_run(kept, ["W01"], len(taken) + 1)
        start_run(fresh, ["W01"], len(taken) + 1)
        for index, (step, snap) in enumerate(zip(steps, taken, strict=True)):
            if index == 2:  # a step whose end, and its snapshot, is rolled back
                with pytest.raises(RuntimeError, match="cut off"):
                    finish_and_roll_back(kept, lost, rolled_back)
            kept.finish_steps([step], "completed", 1.0, 1.0, twins=[(step, "W01", snap)])
            fresh.close()
            fresh = RunStore(tmp_path / "fresh.db")
            fresh.finish_steps([step], "completed", 1.0, 1.0, twins=[(step, "W01", snap)])
        assert [kept.twin_blob(s["hash"]) for s in kept.twin_snapshots("r")] == [
            snap.data for snap in taken
        ]
    finally:
        kept.close()
        fresh.close()
    assert twin_tables(tmp_path / "kept.db") == twin_tables(tmp_path / "fresh.db")


def test_a_store_codes_a_snapshot_against_the_last_it_recorded_without_reading_it_back(
    tmp_path,
):
    """The wafer's snapshot before, when the store recorded it itself, is not read back (its
    row, its header, its parts); a store that did not record it (a resume's) reads it back."""
    twins, snapshots = TwinStore(), Snapshots()
    wafer = twins.get("W01")
    taken = []
    for _ in range(3):
        wafer.surface.residue_nm = wafer.surface.residue_nm - np.float32(0.5)
        taken.append(snapshots.take(wafer))
    store = RunStore(tmp_path / "runs.db")
    ((*steps,),) = start_run(store, ["W01"], 3)
    store.finish_steps([steps[0]], "completed", 1.0, 1.0, twins=[(steps[0], "W01", taken[0])])
    store.close()
    store = RunStore(tmp_path / "runs.db")
    try:
        read_back: list[list[str]] = []
        for step, snap in zip(steps[1:], taken[1:], strict=True):
            statements: list[str] = []
            store._db.set_trace_callback(statements.append)
            store.finish_steps([step], "completed", 1.0, 1.0, twins=[(step, "W01", snap)])
            read_back.append([sql for sql in statements if "FROM twin_snapshots s" in sql])
        assert [len(statements) for statements in read_back] == [1, 0]
        assert [store.twin_blob(s["hash"]) for s in store.twin_snapshots("r")] == [
            snap.data for snap in taken
        ]
    finally:
        store.close()


@pytest.mark.parametrize("kept_wafers", [packing.WHOLES_KEPT_WAFERS, 2, 1, 0])
def test_a_store_packs_a_new_part_against_the_whole_part_it_kept(
    tmp_path, monkeypatch, kept_wafers
):
    """A wafer's new part is packed against the part its path is stored whole as (older than
    the snapshot before when that one holds a difference from it) with the bytes the store
    kept, not read back; a store that keeps them for fewer wafers than it stores in turn (the
    wafer stored longest ago let go first), or none, or that a rollback made forget, reads
    them back, and the records are those of a store opened afresh for every step."""
    monkeypatch.setattr(packing, "WHOLES_KEPT_WAFERS", kept_wafers)
    twins, snapshots = TwinStore(), Snapshots()
    taken: dict[str, list[Snapshot]] = {"W01": [], "W02": []}
    for index in range(5):
        for wafer_id, snaps in taken.items():
            wafer = twins.get(wafer_id)
            thaw(wafer.surface.residue_nm)
            wafer.surface.residue_nm[index] -= np.float32(0.5)  # each time a difference
            snaps.append(snapshots.take(wafer))
    rolled_back = taken["W01"].pop(2)
    del taken["W02"][2]
    kept, fresh = RunStore(tmp_path / "kept.db"), RunStore(tmp_path / "fresh.db")
    try:
        steps = start_run(kept, ["W01", "W02"], 5)
        start_run(fresh, ["W01", "W02"], 5)
        read_back: list[str] = []
        kept._db.set_trace_callback(read_back.append)
        for index in range(4):
            if index == 2:  # a step whose end, and its snapshot, is rolled back
                with pytest.raises(RuntimeError, match="cut off"):
                    finish_and_roll_back(kept, steps[0][4], rolled_back)
            for wafer_steps, (wafer_id, snaps) in zip(steps, taken.items(), strict=True):
                step, snap = wafer_steps[index], snaps[index]
                for store in (kept, fresh):
                    store.finish_steps(
                        [step], "completed", 1.0, 1.0, twins=[(step, wafer_id, snap)]
                    )
                fresh.close()
                fresh = RunStore(tmp_path / "fresh.db")
        kept._db.set_trace_callback(None)
        assert [kept.twin_blob(s["hash"]) for s in kept.twin_snapshots("r")] == [
            snap.data for snaps in taken.values() for snap in snaps
        ]
    finally:
        kept.close()
        fresh.close()
    assert twin_tables(tmp_path / "kept.db") == twin_tables(tmp_path / "fresh.db")
    # every residue map of a wafer after its first: a difference from its first
    differences = count(kept, "SELECT count(*) FROM twin_parts WHERE base IS NOT NULL")
    assert differences == 6
    parts_read = [sql for sql in read_back if sql.startswith("SELECT base, item_size")]
    # kept: each wafer's base read back once, by its first snapshot after the rollback (and
    # kept for the one after it); else by every difference packed, the one rolled back too
    assert len(parts_read) == (2 if kept_wafers >= 2 else differences + 1)


def test_a_store_reads_a_wafers_last_snapshot_back_with_the_header_it_recorded(tmp_path):
    """A wafer's last snapshot, read back by the store that recorded it (a put-away wafer's
    claim check), takes its header from what the store kept rather than decoding the wafer's
    chain of headers again; a store that did not record it decodes it, to the same bytes."""
    twins, snapshots = TwinStore(), Snapshots()
    wafer = twins.get("W01")
    taken = []
    for index in range(3):
        wafer.record("plasma", "clean", float(index))  # a header of its own each time
        taken.append(snapshots.take(wafer))
    store = RunStore(tmp_path / "runs.db")
    try:
        ((*steps,),) = start_run(store, ["W01"], 3)
        for step, snap in zip(steps, taken, strict=True):
            store.finish_steps([step], "completed", 1.0, 1.0, twins=[(step, "W01", snap)])
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        assert store.twin_blob(taken[-1].digest) == taken[-1].data
        assert not [sql for sql in statements if "header_base" in sql]
        assert store.twin_blob(taken[0].digest) == taken[0].data  # not its last: decoded
    finally:
        store.close()
    reader = RunStore(tmp_path / "runs.db")
    try:
        statements.clear()
        reader._db.set_trace_callback(statements.append)
        assert reader.twin_blob(taken[-1].digest) == taken[-1].data
        assert len([sql for sql in statements if "header_base" in sql]) == 3
    finally:
        reader.close()


class FailingCommit:
    """A store's connection whose COMMIT fails as on a full disk, rolling the transaction back."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)

    def execute(self, sql: str, *parameters: object) -> sqlite3.Cursor:
        if sql == "COMMIT":
            self.db.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *parameters)


def fail_in_the_block(store: RunStore, step: int, taken: Snapshot, monkeypatch) -> None:
    with pytest.raises(RuntimeError, match="cut off"):
        finish_and_roll_back(store, step, taken)


def fail_the_commit(store: RunStore, step: int, taken: Snapshot, monkeypatch) -> None:
    db = store._db
    monkeypatch.setattr(store, "_db", FailingCommit(db))
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        store.finish_steps([step], "completed", 2.0, 2.0, twins=[(step, "W01", taken)])
    monkeypatch.setattr(store, "_db", db)
    assert not db.in_transaction


@pytest.mark.parametrize("fail", [fail_in_the_block, fail_the_commit])
def test_a_snapshot_whose_storing_was_rolled_back_is_stored_again(store, monkeypatch, fail):
    """A store that stored a snapshot in a transaction rolled back (its block failed, or its
    COMMIT did) does not take it for stored: the step's end recorded again with it keeps it,
    and its parts."""
    ((first, step),) = start_run(store, ["W01"], 2)
    twins, snapshots = TwinStore(), Snapshots()
    wafer = twins.get("W01")
    store.finish_steps(
        [first], "completed", 1.0, 1.0, twins=[(first, "W01", snapshots.take(wafer))]
    )
    wafer.surface.residue_nm = wafer.surface.residue_nm - np.float32(0.5)
    thinned = snapshots.take(wafer)
    fail(store, step, thinned, monkeypatch)
    store.finish_steps([step], "completed", 2.0, 2.0, twins=[(step, "W01", thinned)])
    assert [store.twin_blob(s["hash"]) for s in store.twin_snapshots("r")][-1] == thinned.data


def test_a_snapshot_another_run_shares_keeps_the_header_it_is_coded_against(store):
    (w1,) = start_run(store, ["W01"], 2)
    twins, snapshots = TwinStore(), Snapshots()
    wafer = twins.get("W01")
    first = snapshots.take(wafer)
    wafer.surface.residue_nm = wafer.surface.residue_nm - np.float32(0.5)
    second = snapshots.take(wafer)
    store.finish_steps([w1[0]], "completed", 1.0, 1.0, twins=[(w1[0], "W01", first)])
    store.finish_steps([w1[1]], "completed", 2.0, 2.0, twins=[(w1[1], "W01", second)])
    with store.transaction() as db:
        # another run's snapshot row refers to the second alone, then run r goes
        db.execute(
            "INSERT INTO twin_snapshots (run_id, wafer_id, step_id, hash, t) "
            "SELECT 'other', wafer_id, step_id, hash, t FROM twin_snapshots WHERE step_id = ?",
            (w1[1],),
        )
        db.execute("DELETE FROM twin_snapshots WHERE run_id = 'r'")
        drop_unused_twins(db)
    (kept,) = store.twin_snapshots("other")
    assert store.twin_blob(kept["hash"]) == second.data
    assert count(store, "SELECT count(*) FROM twin_blobs") == 2


def test_a_steps_traces_are_packed_when_it_ends_and_read_back_sample_for_sample(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    ((step,),) = start_run(store, ["W01"], 1)
    samples = [("pressure", 1.0 + i / 3, "mTorr", 10.0 + i, 1e9 + i / 7) for i in range(50)]
    for name, value, unit, t, wall in samples:
        store.add_trace("r", "pc", step, name, value, unit, t, wall)
    store.add_trace("r", "pc", None, "temperature", 25.0, "degC", 70.0, 2e9)
    store.finish_steps([step], "completed", 60.0, 60.0)
    assert count(store, "SELECT count(*) FROM traces") == 1  # the one outside the step
    traces = store.traces("r")
    assert traces["name"] == ["pressure"] * 50 + ["temperature"]
    assert traces["value"] == [s[1] for s in samples] + [25.0]
    assert traces["wall"] == [s[4] for s in samples] + [2e9]
    assert traces["step_id"] == [step] * 50 + [None]
    assert traces["id"] == sorted(set(traces["id"]))
    summary = {row["name"]: row for row in store.trace_summary("r")}
    assert summary["pressure"]["samples"] == 50
    assert (summary["pressure"]["min"], summary["pressure"]["max"]) == (1.0, 1.0 + 49 / 3)
    ids = traces["id"]
    store.close()
    reopened = RunStore(store.path)
    try:
        assert count(reopened, "SELECT count(*) FROM traces") == 0  # packed at close
        assert reopened.traces("r") == traces
        reopened.add_trace("r", "pc", None, "temperature", 26.0, "degC", 80.0, 3e9)
        assert reopened.traces("r")["id"][-1] > max(ids)  # an id is never reused
    finally:
        reopened.close()


def test_trace_rows_wait_for_the_next_step_transaction(tmp_path):
    """A step's start or end writes the trace samples taken since the last one; the other
    transactions (an event, a measurement, a wafer's status) leave them waiting."""
    store = RunStore(tmp_path / "runs.db")
    try:
        ((first, second),) = start_run(store, ["W01"], 2)
        store.add_trace("r", "pc", first, "pressure", 1.0, "mTorr", 1.0, 1e9)
        event = {
            "run_id": "r",
            "session": 1,
            "kind": "paused",
            "message": "",
            "t": 1.0,
            "wall": 1e9,
        }
        store.add_rows("events", [event], durable=False)
        store.update_wafer("r", "W01", status="running")
        assert count(store, "SELECT count(*) FROM traces") == 0
        store.finish_steps([second], "completed", 2.0, 2e9)
        assert count(store, "SELECT count(*) FROM traces") == 1  # the first step's, not packed
    finally:
        store.close()


def test_a_store_packs_the_samples_it_wrote_of_a_step_as_it_would_read_them_back(
    tmp_path, monkeypatch
):
    """A store packs the samples of a step it started from what it wrote, not read back: the
    same blocks and series, to the byte, as a store whose kept samples a rolled-back
    transaction dropped packs from the rows read back; -0.0 comes back as the REAL column
    gives it, 0.0."""
    packed_from: list[bool] = []
    pack_traces = packing.pack_traces

    def spied(db, run_id, step_ids, written=None):  # type: ignore[no-untyped-def]
        if step_ids is not None:  # not the rows left when the store closes
            packed_from.append(written is not None)
        pack_traces(db, run_id, step_ids, written)

    monkeypatch.setattr(packing, "pack_traces", spied)
    tables = []
    for read_back in (False, True):
        store = RunStore(tmp_path / f"runs-{read_back}.db")
        ((first, second),) = start_run(store, ["W01"], 2)
        values = [-0.0, 0.0, 1.5, 2.0, 1 / 3]
        for index in range(TRACE_BATCH + 10):  # a batch written mid-step, then the rest
            tool, name = ("pc", "pressure") if index % 3 else ("oven", "temperature")
            step = first if index % 2 else second
            value, t = values[index % 5], -0.0 if index == 0 else index / 7
            store.add_trace("r", tool, step, name, value, "u", t, 1e9 + index)
            if read_back and index == 100:
                with (
                    pytest.raises(RuntimeError),
                    store.transaction(durable=False, traces=True),
                ):
                    raise RuntimeError("rolled back")
        store.finish_steps([first], "completed", 60.0, 60.0)
        store.add_trace("r", "pc", second, "pressure", -0.0, "u", 61.0, 2e9)
        store.finish_steps([second], "completed", 62.0, 62.0)
        try:
            assert count(store, "SELECT count(*) FROM traces") == 0
            zeros = [v for v in store.traces("r")["value"] if v == 0.0]
            assert zeros
            assert all(np.copysign(1.0, v) > 0 for v in zeros)  # -0.0 read back as 0.0
            db = sqlite3.connect(store.path)
            tables.append(
                [
                    db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                    for table in ("trace_blocks", "trace_series")
                ]
            )
            db.close()
        finally:
            store.close()
    assert packed_from == [True, True, False, False]
    assert tables[0] == tables[1]


def polled(samples: int, seed: int) -> list[tuple[int, int, float, float, float]]:
    """`samples` trace samples (series index, id, t, value, wall): two series polled together,
    a third now and then, among the values every special float; a wall clock that goes back
    once, a run clock that goes back (and is -0.0) now and then."""
    rng = np.random.default_rng(seed)
    special = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300, -1e300, 5e-324, 1.7e308, -1.7e308]
    values = np.concatenate([rng.normal(size=samples), special])
    rng.shuffle(values)
    return [
        (
            2 if i % 7 == 0 else i % 2,
            7 + 3 * i,
            -0.0 if i % 5 == 4 else float(i // 2) * (-1.0 if i % 9 == 8 else 1.0),
            float(values[i]),
            1.7e9 + i / 1e3 - (i == samples // 2),
        )
        for i in range(samples)
    ]


SERIES = [("pressure", "mTorr"), ("temperature", "degC"), ("progress", "%"), ("unpolled", "V")]


def by_series(rows: list[tuple[int, int, float, float, float]]) -> dict[tuple[str, str], list]:
    return {key: [row[1:] for row in rows if row[0] == index] for index, key in enumerate(SERIES)}


@pytest.mark.parametrize("samples", [1, 12, 208])
def test_a_trace_block_keeps_every_sample_of_every_series_exactly(samples):
    rows = polled(samples, seed=1)
    unpacked = unpack_trace_block(pack_trace_block(by_series(rows)))
    assert list(unpacked) == SERIES
    for index, key in enumerate(SERIES):
        mine = [row for row in rows if row[0] == index]
        columns = unpacked[key]
        assert columns["id"].tolist() == [row[1] for row in mine]
        for column, name in enumerate(("t", "value", "wall"), start=2):
            # the very bits: NaN and -0.0 too
            assert columns[name].tobytes() == np.asarray([r[column] for r in mine]).tobytes()


@pytest.mark.parametrize("samples", [1, 2, 5, 12, 30, 200])
def test_a_trace_block_is_the_same_bytes_coded_in_plain_python_or_by_numpy(monkeypatch, samples):
    """A block of few samples is coded without numpy's fixed cost per call (a step's dozen
    samples), a larger one by numpy: the very bytes either way, ids out of order across the
    series (packed from rows read back, or ids far apart) included."""
    for seed in range(5):
        rows = polled(samples, seed)
        if seed % 2:  # ids far apart, and each series' own out of the others' order
            rows = [(which, 10**12 - 97 * i * (which + 1), *rest) for which, i, *rest in rows]
        series = by_series(rows)
        monkeypatch.setattr(packing, "FEW_SAMPLES", samples)
        in_python = pack_trace_block(series)
        monkeypatch.setattr(packing, "FEW_SAMPLES", samples - 1)
        assert pack_trace_block(series) == in_python


def test_traces_packed_by_series_as_schema_8_did_are_read_as_they_are(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    ((step,),) = start_run(store, ["W01"], 1)
    ids = np.array([3, 5, 9], dtype=np.int64)
    t, value, wall = (np.array([1.0, 2.0, 3.5]) + offset for offset in (0, 10, 1e9))
    columns = [np.diff(ids, prepend=0).tobytes()] + [c.tobytes() for c in (t, value, wall)]
    block = zlib.compress(b"".join(shuffle(column, 8) for column in columns))
    with store.transaction() as db:
        db.execute(
            "INSERT INTO trace_series (run_id, tool, step_id, name, unit, samples, last_id, "
            "min, max, data) VALUES ('r', 'pc', ?, 'pressure', 'mTorr', 3, 9, 11, 13.5, ?)",
            (step, block),
        )
    try:
        traces = store.traces("r")
    finally:
        store.close()
    assert traces["id"] == [3, 5, 9]
    assert (traces["t"], traces["value"], traces["wall"]) == (
        t.tolist(),
        value.tolist(),
        wall.tolist(),
    )
    assert traces["name"] == ["pressure"] * 3


def test_a_tools_series_of_a_step_share_one_block(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    ((step,),) = start_run(store, ["W01"], 1)
    for index in range(100):
        for name in ("pressure", "temperature"):
            store.add_trace("r", "pc", step, name, float(index), "u", float(index), 1e9 + index)
    store.add_trace("r", "oven", step, "temperature", 200.0, "degC", 1.0, 1e9)
    store.finish_steps([step], "completed", 100.0, 100.0)
    try:
        assert count(store, "SELECT count(*) FROM trace_blocks") == 2  # one per tool
        assert count(store, "SELECT count(*) FROM trace_series WHERE block IS NOT NULL") == 3
        assert count(store, "SELECT sum(samples) FROM trace_series") == 201
    finally:
        store.close()


def test_a_store_finishes_the_steps_it_started_without_reading_their_run_back(tmp_path):
    """A finish packs its steps' samples under their run, which the store that started them
    knows; a store that did not start them (a resume's) reads it back."""
    store = RunStore(tmp_path / "runs.db")
    ((theirs,),) = start_run(store, ["W01"], 1)
    store.close()
    store, statements = RunStore(tmp_path / "runs.db"), []
    try:
        first = store.steps("r")[0]
        (started,) = store.start_steps([{**first, "id": None, "key": "s#2"}])
        store._db.set_trace_callback(statements.append)
        for step in (started, theirs):
            store.add_trace("r", "pc", step, "pressure", 1.0, "mTorr", 1.0, 1e9)
            store.finish_steps([step], "completed", 2.0, 2.0)
        read_back = [sql for sql in statements if sql.startswith("SELECT run_id FROM steps")]
        assert read_back == [f"SELECT run_id FROM steps WHERE id = {theirs}"]
        assert count(store, "SELECT count(*) FROM trace_series WHERE run_id = 'r'") == 2
    finally:
        store.close()


def test_a_new_file_gives_back_the_pages_its_packed_rows_left(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    start_run(store, ["W01"], 1)
    for index in range(5000):
        store.add_trace("r", "pc", None, "pressure", float(index), "mTorr", float(index), 0.0)
    store.flush_traces()
    store.close()
    db = sqlite3.connect(tmp_path / "runs.db")
    try:
        assert db.execute("SELECT count(*) FROM traces").fetchone()[0] == 0
        assert db.execute("SELECT samples FROM trace_series").fetchall() == [(5000,)]
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    finally:
        db.close()


def test_traces_are_read_whole_while_another_process_packs_them(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    ((step,),) = start_run(store, ["W01"], 1)
    for index in range(10):
        store.add_trace("r", "pc", step, "pressure", float(index), "mTorr", float(index), 0.0)
    store.flush_traces()
    reader = RunStore(tmp_path / "runs.db")
    packed: list[str] = []

    def pack_between_the_reads(sql: str) -> None:
        # the writer packs the step's rows after the reader read them, before it reads the
        # packed blocks: one transaction must see neither twice nor nothing
        if "FROM trace_series" in sql and not packed:
            packed.append(sql)
            store.finish_steps([step], "completed", 1.0, 1.0)

    reader._db.set_trace_callback(pack_between_the_reads)
    try:
        traces = reader.traces("r")
    finally:
        reader._db.set_trace_callback(None)
        reader.close()
        store.close()
    assert packed
    assert traces["value"] == [float(index) for index in range(10)]


def test_a_limit_violation_and_each_extreme_of_a_trace_survive_its_packing(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    ((step,),) = start_run(store, ["W01"], 1)
    # a chamber at 25 degC for 2000 polls, one over a 200 degC limit and one dip to -3 degC
    values = [25.0 + (i % 5) / 10 for i in range(2000)]
    values[1234], values[1700] = 212.5, -3.0
    for index, value in enumerate(values):
        store.add_trace("r", "oven", step, "temperature", value, "degC", index * 0.5, 1e9 + index)
    store.finish_steps([step], "completed", 1000.0, 1000.0)
    try:
        traces = store.traces("r")
        (summary,) = store.trace_summary("r")
    finally:
        store.close()
    assert traces["value"] == values  # every sample, the violation among them
    assert traces["t"][traces["value"].index(212.5)] == 617.0
    assert (summary["min"], summary["max"], summary["samples"]) == (-3.0, 212.5, 2000)
