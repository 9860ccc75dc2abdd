"""How long each `packline` command takes to start, next to Python's own start:
`python bench/startup.py [--rounds N]`.

Each command runs as a fresh process (`python -m packline ...`, as the `packline` script does)
against an empty run database in a temporary folder, so what is measured is the command's
imports and its work on no data, not the records; `runs` is timed again against a database
holding one run that stopped with its wafers held on a tool (a dry run made first, its plasma
cleaner never pumping down), as most users' records hold one: the listing of such a run says
what it left on its tools, which loads more of the engine than an empty list. The baseline is
`python -c pass` in the same interpreter and environment. Commands are run in interleaved
rounds so that drift of the machine affects them alike; the median and the best wall time are
printed, and the CPU time (user + system) of the process, which a loaded machine inflates less
than the wall time. Issue 17's target: `runs`, `methods` and `--help` under 0.2 s.
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

#: Each command's arguments, and whether it reads the database holding a stopped run.
COMMANDS: dict[str, tuple[list[str], bool]] = {
    "python -c pass (baseline)": (["-c", "pass"], False),
    "packline --help": (["-m", "packline", "--help"], False),
    "packline --version": (["-m", "packline", "--version"], False),
    "packline runs": (["-m", "packline", "runs"], False),
    "packline runs (a stopped run)": (["-m", "packline", "runs"], True),
    "packline methods": (["-m", "packline", "methods"], False),
    "packline methods bump-seal-clean": (["-m", "packline", "methods", "bump-seal-clean"], False),
    "packline claims": (["-m", "packline", "claims"], False),
    "packline validate plasma-clean": (["-m", "packline", "validate", "plasma-clean"], False),
}
#: The dry run that leaves the stopped run: its chamber never pumps down, the lot stops held.
STOPPED_RUN = [
    *("-m", "packline", "run", "plasma-clean", "--sim", "--lot", "2"),
    *("--fault", "plasma_cleaner:chamber_leak", "--failure-policy", "stop"),
]


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
        # the first runs warm the bytecode cache only where Python may write it, as it does
        # for a user (an installed packline is compiled when it is installed)
        environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        envs = {
            recorded: {**environ, "PACKLINE_DB": str(Path(folder) / f"{name}.db")}
            for recorded, name in ((False, "empty"), (True, "stopped"))
        }
        stopped = subprocess.run(
            [sys.executable, *STOPPED_RUN], env=envs[True], capture_output=True, timeout=600
        )
        if stopped.returncode != 1:  # 1: the run did not complete, as it must not
            raise SystemExit(f"the stopped run did not stop as meant:\n{stopped.stdout.decode()}")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for args, recorded in COMMANDS.values():  # a first run of each warms the bytecode cache
            measure(args, envs[recorded])
        for _ in range(rounds):
            for name, (args, recorded) in COMMANDS.items():
                times[name].append(measure(args, envs[recorded]))
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
