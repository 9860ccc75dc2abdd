"""Benchmark: computation per process step in the workpiece twin, on a real wafer map.

Prints, for each tool's physics on a 300 mm wafer with about 60,000 bump sites, the median and
p99 time of one process step (target: under 10 ms). Run: `python bench/twin.py`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from packline.drivers.roles.plasma_cleaner import Gas
from packline.sim_instruments.plasma_cleaner import PlasmaPhysics, expose_to_plasma
from packline.sim_instruments.twin import WaferSpec, Workpiece, new_wafer

SPEC = WaferSpec(diameter_mm=300.0, die_size_mm=(10.0, 10.0), pads_per_die_side=24)
REPEATS = 200
TARGET_MS = 10.0


def bumped_wafer() -> Workpiece:
    wafer = new_wafer("BENCH", SPEC)
    wafer.bump_height_um[:] = 60.0
    wafer.resin_um[:] = 45.0
    wafer.residue_nm[:] = 300.0
    return wafer


def steps() -> dict[str, Callable[[Workpiece], None]]:
    physics = PlasmaPhysics()
    return {
        "plasma O2 step (1 s)": lambda w: expose_to_plasma(w, Gas.O2, 300, 1.0, physics, 300),
        "plasma Ar step (1 s)": lambda w: expose_to_plasma(w, Gas.AR, 500, 1.0, physics, 500),
    }


def main() -> None:
    wafer = bumped_wafer()
    print(f"wafer: {SPEC.diameter_mm:g} mm, {wafer.die_count} dies, {wafer.site_count} sites")
    print(f"{'process step':32} {'median ms':>10} {'p99 ms':>10}  target < {TARGET_MS:g} ms")
    for name, step in steps().items():
        samples = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            step(wafer)
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        median = statistics.median(samples)
        p99 = samples[int(0.99 * (len(samples) - 1))]
        verdict = "ok" if p99 < TARGET_MS else "OVER TARGET"
        print(f"{name:32} {median:10.3f} {p99:10.3f}  {verdict}")


if __name__ == "__main__":
    main()
