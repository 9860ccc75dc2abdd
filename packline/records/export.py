"""`packline export`: a run's records as files, one tidy table per kind of record.

Each table of `RunRecords` (`TABLES`: wafers, steps, measurements, traces, alarms, events,
confirmations, claim checks, tool identities and the workpiece maps, one row per site) is
written as `<table>.csv` or `<table>.parquet`, and the run's header (method, recipe, station,
status) as `run.json`. CSV opens in Excel and JMP; Parquet keeps the column types and is
several times smaller for the maps. `pandas.read_csv` / `pandas.read_parquet` read each
table back as `RunRecords` returns it.

A folder holds one export: the same run in the same format is written again over its own
files (the tables as the records stand now), but a folder that holds another run's export, an
export in the other format, or export files whose run.json does not say they are this run's, is
refused, naming the files, before anything is written: beside them, the new files would mix
two runs' tables (or an old CSV beside a new Parquet) under one run.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from packline.json_text import json_text
from packline.sequences.engine import BadInput

from .reader import TABLES, RunRecords

#: The file formats `export` writes.
FORMATS = ("csv", "parquet")
#: The run's header, beside its tables.
HEADER = "run.json"


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
    if folder.is_dir():
        _refuse_another_export(folder, records.run_id, fmt)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput(f"export to {folder}: cannot create it ({error.strerror})") from None
    written = [folder / HEADER]
    _write(folder / HEADER, json_text(records.header(), indent=2, default=str))
    for name in TABLES:
        frame = records.maps(maps_after) if name == "maps" else records.table(name)
        path = folder / f"{name}.{fmt}"
        try:
            write_table(frame, path, fmt)
        except OSError as error:
            raise BadInput(f"export to {path}: cannot write it ({error.strerror})") from None
        written.append(path)
    return written


def _refuse_another_export(folder: Path, run_id: str, fmt: str) -> None:
    """Refuse `folder` (`BadInput`, naming the files found) when it holds a file an export
    writes, unless they are all run `run_id`'s own export in `fmt`, which its run.json says:
    that one is written over. Any other file in the folder is not an export's and stays."""
    try:
        names = {path.name for path in folder.iterdir()}
    except OSError as error:
        raise BadInput(f"export to {folder}: cannot read it ({error.strerror})") from None
    exports = {HEADER, *(f"{table}.{each}" for table in TABLES for each in FORMATS)}
    found = sorted(names & exports)
    if not found:
        return
    exported = _exported_run(folder / HEADER)
    own = {HEADER, *(f"{table}.{fmt}" for table in TABLES)}
    if exported == run_id and set(found) <= own:
        return
    if exported is None:
        whose = "export files without a run.json to say whose they are"
    elif exported == run_id:
        whose = "this run's export in another format, which would be left beside the new one"
    else:
        whose = f"the export of another run, {exported}"
    raise BadInput(
        f"export to {folder}: the folder holds {whose} ({', '.join(found)}); nothing was "
        "written: choose another folder, or empty it (only the same run exported again in the "
        "same format is written over its own files)"
    )


def _exported_run(header: Path) -> str | None:
    """The id of the run whose export wrote `header` (a run.json), or None: none there, or
    not an export's."""
    try:
        run_id = json.loads(header.read_text(encoding="utf-8")).get("id")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return run_id if isinstance(run_id, str) else None


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
