"""Benchmark: the run report and the export of a lot of 25, and a 300 mm wafer's maps.

    python bench/report.py [--lot 25]

Runs bump-seal-clean on the simulated line for the lot (a temporary run database), then
prints how long `packline report` takes and how large its page is (targets: under 5 s, under
10 MB), and how long the Parquet and CSV exports take and how large they are, each in wall and
CPU seconds, with the machine's load average. Then draws the
maps of one 300 mm wafer of about 60,000 sites (eight properties, one value per site each)
alone and prints their time and size in the page.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from bokeh.embed import components

from packline.cli import main as packline
from packline.records import open_records, site_table
from packline.records.export import export_run
from packline.records.figures import site_maps
from packline.records.report import write_report
from packline.sim_instruments.twin import TwinStore, WaferSpec

#: A 300 mm wafer of 10 mm dies with 24 pads a side: about 60,000 sites (as bench/twin.py).
SPEC = WaferSpec(diameter_mm=300.0, die_size_mm=(10.0, 10.0), pads_per_die_side=24)


def timed(label: str, action):  # type: ignore[no-untyped-def]
    """Run `action`; print its wall and CPU seconds (on a shared machine the wall time is
    mostly the others' load: the CPU time is what the work costs)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lot", type=int, default=25)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "runs.db"
        run = ["run", "bump-seal-clean", "--sim", "--lot", str(args.lot), "--quiet"]
        timed(f"dry run of a lot of {args.lot}", lambda: packline([*run, "--db", str(db)]))
        with open_records("last", db) as records:
            page = timed("report", lambda: write_report(records, Path(folder) / "r.html"))
            print(f"report size: {page.stat().st_size / 1e6:.2f} MB")
            for fmt in ("parquet", "csv"):
                out = Path(folder) / fmt
                timed(f"export {fmt}", lambda fmt=fmt, out=out: export_run(records, out, fmt))
                size = sum(f.stat().st_size for f in out.iterdir())
                print(f"export {fmt} size: {size / 1e6:.2f} MB")
    wafer = TwinStore(SPEC).get("W01")
    sites = site_table(wafer)
    rng = np.random.default_rng(0)
    names = []
    for index in range(8):
        name = f"property {index}"
        sites[name] = rng.normal(60, 2, len(sites)).astype(np.float32)
        names.append((name, name))
    print(f"300 mm wafer: {len(sites):,} sites")
    maps = timed("8 maps of it", lambda: site_maps(sites, names, []))
    script, _ = timed("embedded", lambda: components(maps))
    print(f"maps in the page: {len(script) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
