"""The run store's durability: what a run records is committed at once, and on disk (the
write-ahead log synced) at the latest when the next irreversible step starts. A completed
wafer's twin is read back from the records rather than kept in memory."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from packline.sequences.engine import RunRequest, open_run, prepare
from packline.sequences.engine import records as records_module
from packline.sequences.engine.events import Event
from packline.sequences.engine.recorder import StepRecorder
from packline.sequences.engine.records import db_option, default_db_path
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import snapshot


class SyncSpy:
    """Counts the syncs of a store's write-ahead log and what was committed at each."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wal = os.path.realpath(f"{path}-wal")
        self.reader = sqlite3.connect(path)
        self.completed_at_sync: list[set[int]] = []
        self._fsync = os.fsync
        monkeypatch.setattr(records_module.os, "fsync", self._spy)

    def _spy(self, descriptor: int) -> None:
        self._fsync(descriptor)
        if os.path.realpath(f"/proc/self/fd/{descriptor}") == self.wal:
            self.completed_at_sync.append(self.completed())

    def completed(self) -> set[int]:
        """The steps another process sees as completed now (committed ones)."""
        rows = self.reader.execute("SELECT id FROM steps WHERE status = 'completed'")
        return {step_id for (step_id,) in rows}

    def irreversible(self, step_id: int) -> bool:
        row = self.reader.execute("SELECT irreversible FROM steps WHERE id = ?", (step_id,))
        return bool(row.fetchone()[0])


async def test_a_completed_step_is_on_disk_before_the_next_irreversible_step_starts(
    store, monkeypatch
):
    spy = SyncSpy(store.path, monkeypatch)
    #: At each irreversible step's start: the steps completed, and those on disk.
    checked: list[tuple[set[int], set[int]]] = []

    def before_irreversible(event: Event) -> None:
        # told after the step's start is committed, before its action runs
        if event.kind == "step-started" and spy.irreversible(event.data["step_id"]):
            checked.append((spy.completed(), spy.completed_at_sync[-1]))

    try:
        async with open_run(
            store, prepare(RunRequest("plasma-clean", lot=5)), observers=[before_irreversible]
        ) as engine:
            assert await engine.run() == "completed"
        steps = store.table("steps", engine.run_id)
    finally:
        monkeypatch.undo()  # before the store's close syncs, with nothing left to spy on
        spy.reader.close()
    assert len(checked) == 5  # every wafer's clean
    assert checked[-1][0]  # after completed steps
    for completed, on_disk in checked:
        assert completed <= on_disk
    # the frequent writes wait for the next durable one: far fewer syncs than step records
    assert len(spy.completed_at_sync) < len(steps) / 2


def test_records_not_durable_yet_are_synced_by_the_next_durable_one_or_on_close(
    tmp_path, monkeypatch
):
    store = records_module.RunStore(tmp_path / "runs.db")
    spy = SyncSpy(store.path, monkeypatch)
    try:
        store.post_control("r", "pause", 0.0)  # durable: synced at once
        assert len(spy.completed_at_sync) == 1
        with store.transaction(durable=False) as db:
            db.execute("INSERT INTO control (run_id, command, requested_wall) VALUES ('r', 'x', 0)")
            joined = pytest.raises(RuntimeError, match="cannot join one that is not durable")
            with joined, store.transaction():
                pass
        assert len(spy.completed_at_sync) == 1
        assert spy.reader.execute("SELECT count(*) FROM control").fetchone() == (2,)
    finally:
        store.close()
        spy.reader.close()
    assert len(spy.completed_at_sync) == 2


@pytest.mark.parametrize(
    ("method", "put_aways"),
    [
        ("bump-seal-clean", 3),  # each wafer received as it is loaded, put away completed
        ("plasma-clean", 6),  # received at the start for its twin metric: put away till loaded
    ],
)
async def test_wafers_leave_memory_and_the_records_and_claim_check_are_as_before(
    tmp_path, monkeypatch, method, put_aways
):
    """A lot holds only its wafers in process: a wafer's twin is read back from its last
    snapshot once it completed (or made again as it arrived, before its first step), and the
    records and the claim check come out as with every twin kept in memory."""
    wafers = ("W01", "W02", "W03")
    put_away = []
    keep = TwinStore.put_away
    monkeypatch.setattr(
        TwinStore,
        "put_away",
        lambda store, wafer_id, recall: (put_away.append(wafer_id), keep(store, wafer_id, recall)),
    )

    async def lot(name: str) -> tuple[dict[str, list[dict]], dict[str, bytes], list[bytes]]:
        store = records_module.RunStore(tmp_path / f"{name}.db")
        try:
            async with open_run(store, prepare(RunRequest(method, lot=3))) as engine:
                assert await engine.run() == "completed"
                twin = engine.twin
                assert twin is not None
                read_back = [snapshot(twin.peek(w)) for w in wafers]
                tables = {
                    table: [
                        {k: v for k, v in row.items() if k not in ("run_id", "wall")}
                        for row in store.table(table, engine.run_id)
                    ]
                    for table in ("claim_checks", "measurements")
                }
                return tables, store.latest_twins(engine.run_id), read_back
        finally:
            store.close()

    moved = await lot("put away")
    assert len(put_away) == put_aways
    monkeypatch.setattr(StepRecorder, "put_away_twin", lambda self, wafer_id: None)
    kept = await lot("kept")
    assert moved[0] == kept[0]
    assert moved[0]["claim_checks"][0]["sites_checked"] > 0
    assert moved[1] == kept[1]
    assert moved[2] == kept[2] == list(kept[1].values())


def test_the_default_database_is_named_by_the_environment_first(monkeypatch, tmp_path):
    """`--db` absent: `$PACKLINE_DB`, else runs.db in `$PACKLINE_DATA`, else in
    `$XDG_DATA_HOME/packline`, else in ~/.local/share/packline (docs/engine.md)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME")
    assert records_module.default_db_path() == tmp_path / "home/.local/share/packline/runs.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert records_module.default_db_path() == tmp_path / "xdg/packline/runs.db"
    monkeypatch.setenv("PACKLINE_DATA", str(tmp_path / "data"))
    assert records_module.default_db_path() == tmp_path / "data/runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "mine.db"))
    assert records_module.default_db_path() == tmp_path / "mine.db"


def test_a_named_command_takes_the_database_unless_it_is_the_default_one(tmp_path, monkeypatch):
    """A command named for the user to run next finds the run database the command that
    names it was given."""
    monkeypatch.chdir(tmp_path)
    assert db_option(default_db_path()) == ""
    assert db_option("runs.db") == f" --db {tmp_path.resolve() / 'runs.db'}"  # from anywhere
    assert db_option(Path("my runs.db")) == f" --db '{tmp_path.resolve() / 'my runs.db'}'"


async def test_what_is_recorded_of_a_run_cut_off_goes_where_its_records_end(db, store):
    """The trial: a run killed in its plasma clean had no end recorded, and what was recorded
    of it afterwards (a fault told from another process, a clear) went at its start, `show`
    listing `[0:00:03] fault-cleared` after `[0:00:05] confirmation-asked`. It goes where the
    run's records end (`records_end_t`: its latest step record or event), where the resume's
    clock goes on from too (decision 0120)."""
    from ..processes import killed_in_step

    killed_in_step(db, "plasma-clean", 2, "plasma clean")
    run = store.run(store.resolve_run("last"))
    steps = store.steps(run["id"])
    latest = max([s["stopped_t"] or s["started_t"] for s in steps])
    assert run["stopped_t"] is None
    assert latest > run["started_t"]
    row = store.add_stopped_run_event(run, "archived", "/tmp/run.zip", wafer_id=None)
    assert row["t"] == store.records_end_t(run) == latest
    assert store.events(run["id"])[-1]["kind"] == "archived"  # listed last, as it happened
