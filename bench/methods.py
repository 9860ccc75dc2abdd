"""Benchmark of every reference recipe of the claimed methods on the simulated line.

For each method of `METHODS` and each of its reference recipes (bump-seal-clean's cleaning
variants, 003; two-process-via's resin and process variants, 002; tape-substrate's, 000), runs
a lot (default 25) in-process on a virtual clock, records in a temporary SQLite file, and
prints the wall seconds, the simulated line time, and whether the claim check passed. Target:
under 20 s of wall time per lot of 25 on a 2-core machine.

    python bench/methods.py [--lot 25] [--method two-process-via]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from importlib import resources
from pathlib import Path

from packline.sequences.engine import RunRequest, RunStore, open_run, prepare, run_report

METHODS = ("bump-seal-clean", "two-process-via", "tape-substrate", "sprout-bump-csp")
TARGET_WALL_S = 20.0


async def bench(method: str, recipe: Path, lot: int, db: Path) -> tuple[str, float, float, str]:
    store = RunStore(db)
    try:
        prepared = prepare(RunRequest(method, lot=lot, recipe_path=recipe))
        async with open_run(store, prepared) as engine:
            started = time.perf_counter()
            status = await engine.run()
            wall = time.perf_counter() - started
            simulated = engine.t()
            claim_check = run_report(store, engine.run_id)["claim_check"]["status"]
    finally:
        store.close()
    return status, wall, simulated, claim_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lot", type=int, default=25)
    parser.add_argument("--method", choices=METHODS, action="append", help="default: every one")
    args = parser.parse_args()
    recipes = resources.files("packline.sequences").joinpath("recipes")
    for method in args.method or METHODS:
        variants = sorted(
            p.name
            for p in recipes.iterdir()
            if p.name == f"{method}.yaml" or p.name.startswith(f"{method}-")
        )
        print(f"{method}, lot of {args.lot}, target < {TARGET_WALL_S:g} s wall per lot")
        print(f"{'recipe':42} {'status':>10} {'wall s':>8} {'line time':>10} {'claims':>8}")
        with tempfile.TemporaryDirectory() as tmp:
            for index, name in enumerate(variants):
                with resources.as_file(recipes.joinpath(name)) as recipe:
                    db = Path(tmp) / f"run{index}.db"
                    status, wall, simulated, claims = asyncio.run(
                        bench(method, recipe, args.lot, db)
                    )
                hours, rest = divmod(round(simulated), 3600)
                line_time = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
                verdict = "" if wall < TARGET_WALL_S else "  OVER TARGET"
                print(f"{name:42} {status:>10} {wall:8.2f} {line_time:>10} {claims:>8}{verdict}")


if __name__ == "__main__":
    main()
