"""Benchmark of every reference recipe of every method on the simulated line.

For each method (`packline methods`) and each of its reference recipes (bump-seal-clean's
cleaning and solder variants, 003; plasma-clean's; two-process-via's resin and process
variants, 002; tape-substrate's, 000, with its panels stacked five high, 000:x2: a lot of 25 is
five stacks; sprout-bump-csp's, 001), runs a lot (default 25) in-process on a virtual clock,
records in a temporary SQLite file, and prints the wall seconds, the CPU seconds of this
process (what a shared, loaded machine does not inflate), the simulated line time, simulated /
wall, and whether the claim check passed. Each lot's wall time is printed beside its baseline
(`BASELINE_WALL_S`: the same lot's wall seconds before issue 17's levers, where it was
measured) and judged against both targets: issue 14's, under 10 s of wall time per lot of 25
on a 2-core machine, and issue 17's, under 2 s with simulated time at least 10,000 x the wall
time.

With `--gem` the tools that have a GEM face are served and driven on GEM, where they push
their events and alarms instead of being polled (`packline run METHOD --sim --gem`).

    python bench/methods.py [--lot 25] [--gem] [--method two-process-via]
                            [--recipe two-process-via-photo]
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
    all_methods,
    open_run,
    prepare,
    run_report,
)

#: Issue 14's target: a lot of 25 of every variant in under this many seconds of wall time.
METHODS_TARGET_WALL_S = 10.0
#: Issue 17's: under this many, and simulated time at least this many times the wall time.
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


def verdict(judged: bool, met: bool) -> str:
    """Whether a target is met, or `-` where it is not judged (a lot of another size)."""
    return "-" if not judged else "met" if met else "NOT MET"


def main() -> None:
    methods = {method.name: method for method in all_methods()}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lot", type=int, default=25, help="wafers a lot (the targets are a lot of 25's)"
    )
    parser.add_argument(
        "--method", choices=sorted(methods), action="append", help="default: every one"
    )
    parser.add_argument(
        "--recipe",
        action="append",
        help="a reference recipe's name, with or without .yaml (default: every one of the method)",
    )
    parser.add_argument(
        "--gem", action="store_true", help="serve and drive the tools that have a GEM face on GEM"
    )
    args = parser.parse_args()
    chosen = [methods[name] for name in args.method or sorted(methods)]
    # each name as the methods' `reference_named` reads it (with or without .yaml)
    named = {
        given: {method.reference_named(given) for method in chosen} - {None}
        for given in args.recipe or ()
    }
    asked = set().union(*named.values())
    shipped = {name for method in chosen for name in method.reference_recipes()}
    if unknown := sorted(given for given, found in named.items() if not found):
        parser.error(
            f"--recipe {', '.join(unknown)}: not a reference recipe of "
            f"{', '.join(method.name for method in chosen)}; they are {', '.join(sorted(shipped))}"
        )
    recipes = resources.files("packline.sequences").joinpath("recipes")
    print(
        f"targets per lot of 25 on a 2-core machine: issue 14, < {METHODS_TARGET_WALL_S:g} s wall; "
        f"issue 17, < {TARGET_WALL_S:g} s wall and simulated / wall >= {TARGET_SPEED_UP:,.0f} x"
    )
    print(
        "baseline: the lot's wall seconds before issue 17's levers (- where none was measured); "
        "cpu: this process's CPU seconds, which a loaded machine does not inflate"
    )
    for method in chosen:
        variants = [
            f"{name}.yaml" for name in method.reference_recipes() if not asked or name in asked
        ]
        if not variants:
            continue
        print(f"\n{method.name}{' on GEM' if args.gem else ''}, lot of {args.lot}")
        print(
            f"{'recipe':42} {'status':>10} {'wall s':>8} {'baseline':>9} {'cpu s':>7} "
            f"{'line time':>10} {'sim/wall':>9} {'claims':>8} {'< 10 s':>7} {'issue 17':>9}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            for index, name in enumerate(variants):
                with resources.as_file(recipes.joinpath(name)) as recipe:
                    db = Path(tmp) / f"run{index}.db"
                    try:
                        status, wall, cpu, simulated, claims = asyncio.run(
                            bench(method.name, recipe, args.lot, db, gem=args.gem)
                        )
                    except BadInput as refused:  # a stacked recipe's lot too small for a stack
                        print(f"{name:42} {'refused':>10} {refused}")
                        continue
                hours, rest = divmod(round(simulated), 3600)
                line_time = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
                speed_up = simulated / wall
                baseline = BASELINE_WALL_S.get(name) if args.lot == 25 else None
                before = "-" if baseline is None else f"{baseline:.1f}"
                # the targets are a lot of 25's
                methods_met = verdict(args.lot == 25, wall < METHODS_TARGET_WALL_S)
                met = verdict(args.lot == 25, wall < TARGET_WALL_S and speed_up >= TARGET_SPEED_UP)
                print(
                    f"{name:42} {status:>10} {wall:8.2f} {before:>9} {cpu:7.2f} {line_time:>10} "
                    f"{speed_up:8.0f}x {claims:>8} {methods_met:>7} {met:>9}"
                )


if __name__ == "__main__":
    main()
