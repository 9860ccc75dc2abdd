"""How long each `packline` command takes to start, next to Python's own start:
`python bench/startup.py [--rounds N]`.

Each command runs as a fresh process (`python -m packline ...`, as the `packline` script
does) against an empty run database in a temporary folder, so what is measured is the
command's imports and its work on no data, not the records. The baseline is `python -c pass`
in the same interpreter and environment. Commands are run in interleaved rounds so that drift
of the machine affects them alike; the median and the best wall time are printed, and the CPU
time (user + system) of the process, which a loaded machine inflates less than the wall time.
Issue 17's target: `runs`, `methods` and `--help` under 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "python -c pass (baseline)": ["-c", "pass"],
    "packline --help": ["-m", "packline", "--help"],
    "packline --version": ["-m", "packline", "--version"],
    "packline runs": ["-m", "packline", "runs"],
    "packline methods": ["-m", "packline", "methods"],
    "packline methods bump-seal-clean": ["-m", "packline", "methods", "bump-seal-clean"],
    "packline claims": ["-m", "packline", "claims"],
    "packline validate plasma-clean": ["-m", "packline", "validate", "plasma-clean"],
}


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall and CPU seconds of one run of `python ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], env=env, check=True, stdout=subprocess.DEVNULL, timeout=120
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each command (7)")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PACKLINE_DB": str(Path(folder) / "runs.db")}
        # the first runs warm the bytecode cache only where Python may write it, as it does
        # for a user (an installed packline is compiled when it is installed)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for args in COMMANDS.values():  # a first run of each warms the bytecode cache
            measure(args, env)
        for _ in range(rounds):
            for name, args in COMMANDS.items():
                times[name].append(measure(args, env))
    print(f"start-up of each command, {rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':36s} {'wall median':>12s} {'wall best':>10s} {'CPU median':>11s}")
    for name, samples in times.items():
        walls = [wall for wall, _ in samples]
        cpus = [cpu for _, cpu in samples]
        print(
            f"{name:36s} {statistics.median(walls) * 1000:9.0f} ms {min(walls) * 1000:7.0f} ms"
            f" {statistics.median(cpus) * 1000:8.0f} ms"
        )


if __name__ == "__main__":
    main()
