"""Benchmark: how much a dry-run lot writes to its run database, beside the schema-5 layout.

    python bench/records.py [--lot 25] [--method bump-seal-clean]

Runs the lot on the simulated line into a temporary run database and prints its trace
samples, twin snapshots and file size (target: at most 3 MB for a lot of 25), and that size
per wafer: what a line's records grow by (docs/results.md, keeping the records in bounds).
The baseline is the same records laid out as schema 5 stored them (every trace sample a row,
every distinct snapshot one zlib blob): a copy of the database rewritten that way, so both
figures come from one run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from packline.cli import main as packline
from packline.sequences.engine import RunStore
from packline.sequences.engine.schema import SCHEMA_VERSION
from packline.testing.records import write_unpacked

TARGET_MB = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lot", type=int, default=25)
    parser.add_argument("--method", default="bump-seal-clean")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "runs.db"
        run = ["run", args.method, "--sim", "--lot", str(args.lot), "--quiet", "--db", str(db)]
        if packline(run) != 0:
            return 1
        store = RunStore(db, create=False)
        try:
            run_id = store.resolve_run("last")
            samples = sum(row["samples"] for row in store.trace_summary(run_id))
            snapshots = len(store.twin_snapshots(run_id))
            baseline = Path(folder) / "schema5.db"
            write_unpacked(store, run_id, baseline)
        finally:
            store.close()
        print(f"records of a dry-run lot of {args.lot} of {args.method} (target <= {TARGET_MB} MB)")
        print(f"  {samples:,} trace samples, {snapshots} twin snapshots")
        print(f"  baseline, schema-5 layout: {baseline.stat().st_size / 1e6:6.2f} MB")
        print(f"  as written (schema {SCHEMA_VERSION}):     {db.stat().st_size / 1e6:6.2f} MB")
        print(f"  per wafer:                 {db.stat().st_size / args.lot / 1e6:6.3f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
