"""Benchmark of every reference recipe of the claimed methods on the simulated line.

For each method of `METHODS` and each of its reference recipes (bump-seal-clean's cleaning
variants, 003; two-process-via's resin and process variants, 002; tape-substrate's, 000, with
its panels stacked five high, 000:x2: a lot of 25 is five stacks), runs a lot (default 25)
in-process on a virtual clock, records in a temporary SQLite file, and prints the wall
seconds, the CPU seconds of this process (what a shared, loaded machine does not inflate), the
simulated line time, simulated / wall, and whether the claim check passed. Each lot's wall
time is printed beside its baseline (`BASELINE_WALL_S`: the same lot measured
before issue 17's levers, where it was) and the goals of issue 17: under 2 s of wall time per
lot of 25 on a 2-core machine, simulated time at least 10,000 x the wall time.

With `--gem` the tools that have a GEM face are served and driven on GEM, where they push
their events and alarms instead of being polled (`packline run METHOD --sim --gem`).

    python bench/methods.py [--lot 25] [--gem] [--method two-process-via]
                            [--recipe two-process-via.yaml]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from importlib import resources
from pathlib import Path

from packline.sequences.engine import (
    BadInput,
    RunRequest,
    RunStore,
    get_method,
    open_run,
    prepare,
    run_report,
)

METHODS = ("bump-seal-clean", "two-process-via", "tape-substrate", "sprout-bump-csp")
TARGET_WALL_S = 2.0
TARGET_SPEED_UP = 10_000.0
#: Wall seconds of a lot of 25 by recipe file, before the host-link tools held their status
#: replies (decision 0028): each method's reference recipe measured on the 2-core machine when
#: quiet, the session before; two-process-via's photo variants with this bench at a1f698e on the
#: shared machine (load average 10-17, so only their order of magnitude carries over).
BASELINE_WALL_S = {
    "bump-seal-clean.yaml": 11.3,
    "tape-substrate.yaml": 24.4,
    "sprout-bump-csp.yaml": 41.5,
    "two-process-via.yaml": 45.8,
    "two-process-via-photo-laser.yaml": 177.3,
    "two-process-via-photo.yaml": 298.2,
}


async def bench(
    method: str, recipe: Path, lot: int, db: Path, *, gem: bool = False
) -> tuple[str, float, float, float, str]:
    """A lot's status, wall and CPU seconds, simulated seconds and claim check (`gem`: the
    tools that have a GEM face on it)."""
    store = RunStore(db)
    try:
        prepared = prepare(RunRequest(method, lot=lot, recipe_path=recipe, gem=gem))
        async with open_run(store, prepared) as engine:
            started, cpu_started = time.perf_counter(), time.process_time()
            status = await engine.run()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            simulated = engine.t()
            claim_check = run_report(store, engine.run_id)["claim_check"]["status"]
    finally:
        store.close()
    return status, wall, cpu, simulated, claim_check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lot", type=int, default=25)
    parser.add_argument("--method", choices=METHODS, action="append", help="default: every one")
    parser.add_argument(
        "--recipe", action="append", help="a recipe file's name (default: every one of the method)"
    )
    parser.add_argument(
        "--gem", action="store_true", help="serve and drive the tools that have a GEM face on GEM"
    )
    args = parser.parse_args()
    recipes = resources.files("packline.sequences").joinpath("recipes")
    for method in args.method or METHODS:
        variants = [
            f"{name}.yaml"
            for name in get_method(method).reference_recipes()
            if not args.recipe or f"{name}.yaml" in args.recipe
        ]
        print(
            f"{method}{' on GEM' if args.gem else ''}, lot of {args.lot}, "
            f"goal < {TARGET_WALL_S:g} s wall per lot of 25 and "
            f"simulated / wall >= {TARGET_SPEED_UP:,.0f} x"
        )
        print(
            f"{'recipe':42} {'status':>10} {'wall s':>8} {'baseline':>9} {'cpu s':>7} "
            f"{'line time':>10} {'sim/wall':>9} {'claims':>8}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            for index, name in enumerate(variants):
                with resources.as_file(recipes.joinpath(name)) as recipe:
                    db = Path(tmp) / f"run{index}.db"
                    try:
                        status, wall, cpu, simulated, claims = asyncio.run(
                            bench(method, recipe, args.lot, db, gem=args.gem)
                        )
                    except BadInput as refused:  # a stacked recipe's lot too small for a stack
                        print(f"{name:42} {'refused':>10} {refused}")
                        continue
                hours, rest = divmod(round(simulated), 3600)
                line_time = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
                speed_up = simulated / wall
                met = wall < TARGET_WALL_S and speed_up >= TARGET_SPEED_UP
                baseline = BASELINE_WALL_S.get(name) if args.lot == 25 else None
                before = "-" if baseline is None else f"{baseline:.1f}"
                print(
                    f"{name:42} {status:>10} {wall:8.2f} {before:>9} {cpu:7.2f} {line_time:>10} "
                    f"{speed_up:8.0f}x {claims:>8}{'' if met else '  GOAL NOT MET'}"
                )


if __name__ == "__main__":
    main()
