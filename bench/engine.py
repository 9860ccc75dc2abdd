"""Benchmark of the sequence engine on the simulated line (a script, not a test).

Runs `plasma-clean` for a lot (default 25) in-process on a virtual clock, with the records in
a temporary SQLite file (WAL, synchronous=FULL, as in production), and prints wall seconds,
simulated seconds, their ratio, and peak memory. The lot runs twice: once timed, once under
tracemalloc (which slows Python down) for the peak heap; the peak resident set size is the
process's.

    python bench/engine.py [--lot 25] [--method plasma-clean]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from packline.sequences.engine import RunRequest, RunStore, open_run, prepare


async def bench(method: str, lot: int, db: Path) -> tuple[str, float, float]:
    store = RunStore(db)
    try:
        prepared = prepare(RunRequest(method, lot=lot))
        async with open_run(store, prepared) as engine:
            started = time.perf_counter()
            status = await engine.run()
            wall = time.perf_counter() - started
            simulated = engine.t()
    finally:
        store.close()
    return status, wall, simulated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lot", type=int, default=25)
    parser.add_argument("--method", default="plasma-clean")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        status, wall, simulated = asyncio.run(bench(args.method, args.lot, Path(tmp) / "timed.db"))
        db_bytes = sum(p.stat().st_size for p in Path(tmp).iterdir())
        tracemalloc.start()
        asyncio.run(bench(args.method, args.lot, Path(tmp) / "traced.db"))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.method}, lot of {args.lot}: {status}")
    print(f"wall seconds       {wall:10.2f}")
    print(f"simulated seconds  {simulated:10.0f}  ({simulated / 3600:.2f} h)")
    print(f"simulated / wall   {simulated / wall:10.0f}x")
    print(f"peak Python heap   {peak / 2**20:10.1f} MiB (tracemalloc)")
    print(f"peak RSS           {rss_mib:10.1f} MiB")
    print(f"run database       {db_bytes / 2**20:10.1f} MiB")


if __name__ == "__main__":
    main()
