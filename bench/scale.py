"""Benchmark of scale (issue 17, goal 4): a lot of 200 against a lot of 25, and one controller
process polling 100 simulated tools served by another process.

    python bench/scale.py [--method bump-seal-clean] [--small 25] [--large 200]
                          [--tools 100] [--rate-hz 10] [--for 10] [--skip-lots] [--skip-tools]

1. **Lots**: each lot runs in its own child process (in-process simulated line, virtual clock,
   records in a temporary SQLite file, as `packline run --sim` does), so each peak resident set
   is that lot's alone. Printed: wall and CPU seconds and peak RSS of both, and their ratios
   against the goal (the large lot at most 8.5 x the wall time and 2 x the peak memory of the
   small one, under 500 MB); the baseline is the small lot of the same run. The CPU time is
   what a loaded machine inflates less: the goal is the wall time's.
2. **Tools**: a child process serves `--tools` simulated tools (every registered kind in turn,
   the serial ones over TCP as behind a serial device server) on the wall clock and writes their
   station file; this process opens a driver per tool from that file and reads each tool's
   status (`request_status`) `--rate-hz` times a second for `--for` seconds, each tool on its
   own schedule. Twice: first with every tool's polls due at the same instant (the baseline,
   as this benchmark polled before: a burst of 100 requests every period, the last answered
   after the 99 before it), then staggered, tool i's polls due i / `--tools` of a period after
   tool 0's, as tools polled by their own steps are. Printed for each: polls, the latency's
   median and p99 (goal: p99 under 20 ms), the slowest kind's median, how late the latest poll
   started, the missed polls (a poll that started a whole period after its slot: goal
   none), and the CPU an exchange cost each process (this one's `time.process_time`, the
   server's from Linux's /proc): where a burst's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from packline.clock import WallClock
from packline.heap import frozen_heap

if TYPE_CHECKING:
    from packline.drivers import Equipment

GOAL_WALL_RATIO = 8.5
GOAL_RSS_RATIO = 2.0
GOAL_RSS_MB = 500.0
GOAL_P99_MS = 20.0


class StatusRead(Protocol):
    """What every tool role has: its status, read in one exchange."""

    async def request_status(self) -> object: ...


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


async def run_lot(method: str, lot: int, db: Path) -> dict[str, float | str]:
    """One lot in this process: its status, wall seconds and peak RSS (MB)."""
    from packline.sequences.engine import RunRequest, RunStore, open_run, prepare

    store = RunStore(db)
    try:
        prepared = prepare(RunRequest(method, lot=lot))
        async with open_run(store, prepared) as engine:
            started, cpu_started = time.perf_counter(), time.process_time()
            status = await engine.run()
            wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        store.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"status": status, "wall_s": wall_s, "cpu_s": cpu_s, "rss_mb": rss_mb}


def lot_in_child(method: str, lot: int) -> dict[str, float | str]:
    """`run_lot` in a child process of its own (a clean peak RSS)."""
    done = subprocess.run(
        [sys.executable, __file__, "--child-lot", str(lot), "--method", method],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    result: dict[str, float | str] = json.loads(done.stdout.splitlines()[-1])
    return result


def compare_lots(method: str, small: int, large: int) -> None:
    print(f"lots of {method}: {large} against {small} (each in its own process)")
    results = {lot: lot_in_child(method, lot) for lot in (small, large)}
    for lot, result in results.items():
        print(
            f"  lot of {lot:4d}: {result['status']:>10}  {float(result['wall_s']):8.2f} s wall  "
            f"{float(result['cpu_s']):8.2f} s CPU  peak RSS {float(result['rss_mb']):6.1f} MB"
        )
    wall_ratio = float(results[large]["wall_s"]) / float(results[small]["wall_s"])
    cpu_ratio = float(results[large]["cpu_s"]) / float(results[small]["cpu_s"])
    rss_ratio = float(results[large]["rss_mb"]) / float(results[small]["rss_mb"])
    rss_mb = float(results[large]["rss_mb"])
    print(
        f"  wall {wall_ratio:.2f} x (goal <= {GOAL_WALL_RATIO:g} x: "
        f"{verdict(wall_ratio <= GOAL_WALL_RATIO)}; CPU {cpu_ratio:.2f} x); "
        f"peak RSS {rss_ratio:.2f} x "
        f"(goal <= {GOAL_RSS_RATIO:g} x: {verdict(rss_ratio <= GOAL_RSS_RATIO)}); "
        f"{rss_mb:.0f} MB (goal < {GOAL_RSS_MB:g} MB: {verdict(rss_mb < GOAL_RSS_MB)})"
    )


async def serve_tools(count: int, station_out: Path) -> None:
    """Serve `count` simulated tools on the wall clock until stdin closes; their station file
    goes to `station_out`."""
    from packline.drivers.registry import TOOL_KINDS
    from packline.sim_instruments.tool import SimulatedTool
    from packline.sim_instruments.twin import TwinStore
    from packline.station import Station, ToolEntry

    clock = WallClock()
    twin = TwinStore()
    kinds = list(TOOL_KINDS.values())
    tools: list[SimulatedTool] = []
    entries: dict[str, ToolEntry] = {}
    try:
        for index in range(count):
            kind = kinds[index % len(kinds)]
            simulator = kind.load_simulator()
            options = {"transport": simulator.serial_over_tcp} if simulator.serial_over_tcp else {}
            tool = simulator(kind.role, twin, clock, **options)
            tools.append(tool)
            await tool.start("127.0.0.1", 0)
            entries[f"{kind.role}_{index:03d}"] = ToolEntry(
                driver=kind.name, address=tool.station_address
            )
        station = Station(name="scale", tools=entries)
        await asyncio.to_thread(station_out.write_text, station.to_yaml(), encoding="utf-8")
        print("serving", flush=True)
        with frozen_heap():  # as `packline sim serve` serves
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await asyncio.gather(*(tool.stop() for tool in tools), return_exceptions=True)


def cpu_s_of(pid: int) -> float:
    """The CPU seconds (user and system) process `pid` has used so far, as Linux's /proc
    tells them."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def poll_tools(
    station_file: Path, rate_hz: float, duration_s: float, server_pid: int, *, staggered: bool
) -> None:
    from packline.station import load_station

    station = load_station(station_file)
    clock = WallClock()
    kinds = [entry.driver for entry in station.tools.values()]
    drivers = [station.open_tool(name, clock=clock) for name in station.tools]
    period_s = 1 / rate_hz
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {kind: [] for kind in kinds}
    lateness: list[float] = []
    missed = 0

    async def poll(index: int, driver: Equipment) -> None:
        nonlocal missed
        loop = asyncio.get_running_loop()
        first = start + (index / len(drivers) * period_s if staggered else 0.0)
        for slot in range(round(duration_s * rate_hz)):
            due = first + slot * period_s
            await asyncio.sleep(max(0.0, due - loop.time()))
            started = loop.time()
            late = started - due
            lateness.append(late)
            if late >= period_s:
                missed += 1
            # Bounded in the poll's own task: `asyncio.wait_for` would run each request in a
            # task of its own, a task and a loop pass more a poll than a line's poller needs.
            async with asyncio.timeout(5.0):
                await cast(StatusRead, driver).request_status()
            latencies.append(loop.time() - started)
            by_kind[kinds[index]].append(latencies[-1])

    try:
        await asyncio.wait_for(asyncio.gather(*(d.connect() for d in drivers)), timeout=120)
        with frozen_heap():  # as `packline run` drives its tools
            start = asyncio.get_running_loop().time()
            cpu_started = (time.process_time(), cpu_s_of(server_pid))
            await asyncio.gather(*(poll(index, driver) for index, driver in enumerate(drivers)))
            cpu_s = (time.process_time() - cpu_started[0], cpu_s_of(server_pid) - cpu_started[1])
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
    cuts = statistics.quantiles(latencies, n=100)
    p99_ms = cuts[98] * 1000
    slowest = max(by_kind, key=lambda kind: statistics.median(by_kind[kind]))
    print(
        f"  {'staggered' if staggered else 'in phase (baseline)'}: {len(latencies)} polls: "
        f"latency median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p99 {p99_ms:.2f} ms (goal < {GOAL_P99_MS:g} ms: {verdict(p99_ms < GOAL_P99_MS)}); "
        f"slowest kind {slowest} (median {statistics.median(by_kind[slowest]) * 1000:.2f} ms); "
        f"latest start {max(lateness) * 1000:.1f} ms after its slot; missed polls {missed} "
        f"(goal 0: {verdict(missed == 0)}); CPU an exchange: this process "
        f"{cpu_s[0] / len(latencies) * 1e6:.0f} us, "
        f"the tool server {cpu_s[1] / len(latencies) * 1e6:.0f} us"
    )


def compare_tools(count: int, rate_hz: float, duration_s: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        station_file = Path(tmp) / "scale.yaml"
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child-serve",
                str(count),
                "--station-out",
                str(station_file),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "serving":
                raise RuntimeError("the tool server did not start")
            print(
                f"{count} tools, each polled at {rate_hz:g} Hz for {duration_s:g} s, "
                "from one process"
            )
            for staggered in (False, True):
                asyncio.run(
                    poll_tools(station_file, rate_hz, duration_s, server.pid, staggered=staggered)
                )
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="bump-seal-clean")
    parser.add_argument("--small", type=int, default=25)
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--tools", type=int, default=100)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--for", dest="duration_s", type=float, default=10.0)
    parser.add_argument("--skip-lots", action="store_true")
    parser.add_argument("--skip-tools", action="store_true")
    parser.add_argument("--child-lot", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--station-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_lot is not None:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(run_lot(args.method, args.child_lot, Path(tmp) / "run.db"))
        print(json.dumps(result))
        return
    if args.child_serve is not None:
        asyncio.run(serve_tools(args.child_serve, args.station_out))
        return
    if not args.skip_lots:
        compare_lots(args.method, args.small, args.large)
    if not args.skip_tools:
        compare_tools(args.tools, args.rate_hz, args.duration_s)


if __name__ == "__main__":
    main()
