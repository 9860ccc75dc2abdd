"""The packed records read as the unpacked ones: `packline show`, the report and the export
of a dry run give the same output from its run database as written and from a copy laid out
unpacked (every trace sample a row, every twin snapshot one blob, as schema 5 stored them)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from packline.cli import main
from packline.sequences.engine import RunStore
from packline.testing.records import write_unpacked


@pytest.fixture(scope="module")
def unpacked_db(run_db: Path) -> Path:
    path = run_db.with_name("copy.db")  # as long a path as the run's: show wraps the same
    store = RunStore(run_db, create=False)
    try:
        write_unpacked(store, store.resolve_run("last"), path)
    finally:
        store.close()
    with sqlite3.connect(path) as db:  # the copy is unpacked indeed
        assert db.execute("SELECT count(*) FROM trace_series").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM twin_blobs WHERE parts IS NULL").fetchone()[0]
    return path


def test_show_prints_the_same_from_packed_and_unpacked_records(run_db, unpacked_db, capsys):
    printed = []
    for db in (run_db, unpacked_db):
        assert main(["show", "last", "--db", str(db)]) == 0
        printed.append(capsys.readouterr().out.replace(str(db), "runs.db"))
    assert printed[0] == printed[1]
    assert "W01" in printed[0]


def test_the_export_is_the_same_from_packed_and_unpacked_records(run_db, unpacked_db, tmp_path):
    folders = []
    for db in (run_db, unpacked_db):
        folder = tmp_path / db.stem
        assert (
            main(["export", "last", "--db", str(db), "--to", str(folder), "--maps", "irreversible"])
            == 0
        )
        folders.append(folder)
    files = sorted(path.name for path in folders[0].iterdir())
    assert {"traces.csv", "maps.csv"} <= set(files)
    assert files == sorted(path.name for path in folders[1].iterdir())
    for name in files:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_the_report_is_the_same_from_packed_and_unpacked_records(run_db, unpacked_db, tmp_path):
    pages = []
    for db in (run_db, unpacked_db):
        out = tmp_path / f"{db.stem}.html"
        assert main(["report", "last", "--db", str(db), "--out", str(out)]) == 0
        pages.append(out.read_text().replace(str(db), "runs.db"))
    # Bokeh numbers its models and documents anew on every page, and the page says when it
    # was written; the rest is the same
    ids = re.compile(r'"(?:p\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
    written = re.compile(r"(Bokeh [^,<]+), [^<]+")
    same = [written.sub(r"\1", ids.sub('"id"', page)) for page in pages]
    first = next((i for i, pair in enumerate(zip(*same, strict=False)) if len(set(pair)) > 1), None)
    # where they differ, not pytest's diff of two pages of megabytes
    assert first is None, same[0][first - 300 : first + 300]
    assert len(same[0]) == len(same[1])
    assert "Process traces" in same[0]
