"""`packline export`: a run's records as files, one tidy table per kind of record.

Each table of `RunRecords` (`TABLES`: wafers, steps, measurements, traces, alarms, events,
confirmations, claim checks, tool identities and the workpiece maps, one row per site) is
written as `<table>.csv` or `<table>.parquet`, and the run's header (method, recipe, station,
status) as `run.json`. CSV opens in Excel and JMP; Parquet keeps the column types and is
several times smaller for the maps. `pandas.read_csv` / `pandas.read_parquet` read each
table back as `RunRecords` returns it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from packline.sequences.engine import BadInput

from .reader import TABLES, RunRecords

#: The file formats `export` writes.
FORMATS = ("csv", "parquet")


def export_run(
    records: RunRecords, directory: str | Path, fmt: str = "csv", *, maps_after: str = "last"
) -> list[Path]:
    """Write every table of the run into `directory` (created if need be) as `fmt`, and its
    header as run.json; the files written. The workpiece maps are of each wafer after its
    last step, or also after each irreversible step (`maps_after="irreversible"`)."""
    if fmt not in FORMATS:
        raise BadInput(f"export format {fmt!r}: one of {', '.join(FORMATS)}")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"export to {folder}: not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput(f"export to {folder}: cannot create it ({error.strerror})") from None
    written = [folder / "run.json"]
    _write(folder / "run.json", json.dumps(records.header(), indent=2, default=str))
    for name in TABLES:
        frame = records.maps(maps_after) if name == "maps" else records.table(name)
        path = folder / f"{name}.{fmt}"
        try:
            write_table(frame, path, fmt)
        except OSError as error:
            raise BadInput(f"export to {path}: cannot write it ({error.strerror})") from None
        written.append(path)
    return written


def write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """One table as CSV (no index column) or Parquet (pyarrow, column types kept)."""
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, engine="pyarrow", index=False)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise BadInput(f"export to {path}: cannot write it ({error.strerror})") from None
