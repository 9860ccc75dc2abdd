"""Exchanges per wafer per tool on the wire, and how fast a driver reacts to a tool's alarm.

    python bench/exchanges.py [--method bump-seal-clean] [--recipe bump-seal-clean-solder-plated]
                              [--lot 1] [--time-scale 20] [--skip-station] [--skip-alarms]
                              [--gem]

(`--recipe` defaults to bump-seal-clean-solder-plated for bump-seal-clean and to the method's
reference recipe, `<method>`, for another method; `BASELINE` has a lot of 1 of that recipe and
of sprout-bump-csp-levels-5.)

1. **Exchanges per wafer, as a real line makes them** (issue 17, goal 2: at least 5 x fewer
   than the baseline). `packline sim serve --time-scale S` runs the line in another process, S
   times as fast as the wall clock; a station run of a lot of the method runs in this one with
   its engine and drivers on the line's time (`ScaledClock(S)`), so every poll interval, every
   hold of a held read (`HOLD_S`: the host link's `WAIT?`, SCPI's `*OPC?`, the PLC's held
   status read), every wait's timeout and the engine's own waits pass as they pass for the
   tools: the run is a run at scale 1 in its own time, done in 1/S of its wall time. (Drivers
   on the wall clock, as a real line's are, would poll S times less often for each second of
   the tools' process and see a tool hold a 120 s read for 120/S s of theirs, which their pace
   then spaces a poll interval apart: polled and held waits alike would come down to a few
   reads a wait, and the cut would not show.) Every message a driver sends (a query, a
   command, a Modbus request) is counted from the wire log (`packline.wire`), per tool and
   device, divided by the lot, and printed beside `BASELINE`, the same run before this
   bench's levers.

   The wire and the computation do not scale: an exchange's round trip, a few milliseconds of
   wall time on this machine (more when it is loaded), is S times that of the line's time, and
   a polled wait sleeps its interval after its reads, so each poll comes that much later than
   on a line whose exchanges took no time. A held wait's count does not depend on it (the tool
   answers at the change): the plasma cleaner's per wafer in a lot of plasma-clean, held (0078),
   is 42 at scale 1, 41 at 10 and 41 at 100. A polled wait's does: polled (a1f698e), 320 at
   scale 1, 312 at 10, 263 at 100. A lot of bump-seal-clean-solder-plated at a1f698e, every wait
   polled: 5,732 a wafer in a dry run (a virtual clock: exchanges take no time), 4,997 at scale
   20, 3,056 at 100; now 835, 824 and 791. Hence the default scale, 20: a lot of 1 of that
   recipe in about four minutes, an exchange taking some 40 to 60 ms of the line's time, as a
   serial tool's does; a polled count there is up to a fifth below that of a line whose
   exchanges take no time (the baseline's most), so the cut printed is if anything less than a
   real line's. The wire's own timeouts (a tool that does not answer) stay on the wall clock,
   S times longer in the line's time, which changes nothing while the tools answer.

   Served on this machine, a tool on a serial line (the oven's Modbus RTU, a host link such as
   the wire bonder's) is on a pty, as on a tty, where a reply held past a host that gave up on
   it would answer the host's next request: its waits are polled (`Link.holds_replies`), as on
   a real line's tty. A dry run serves those bytes over TCP, as a serial device server does,
   where a host link holds: the wire bonder's count per wafer of levels-5 is 2,752 here (scale
   20), 149 in a dry run.
2. **Alarm reaction** (the goal's condition: no slower). For every tool kind, its conformance
   operation (`tests/conformance/adapters.py`, reused rather than copied) runs against its
   simulated tool on a virtual clock; the adapter's alarm fault is injected at several
   moments of the driver's poll cycle, and the process time from the tool's alarm (its latch)
   to the driver's `ToolAlarm` is measured. The worst is printed beside the driver's poll
   interval, the baseline: a driver that polls every `poll_interval_s` reacts within it.

With `--gem` every tool kind with a GEM face is served and driven on GEM (`sim serve --gem`;
HSMS data messages the host sends are counted, a reply to what the tool pushed among them:
S6F12, S6F2, S5F2), and the alarm reaction is measured on each GEM face, where the tool pushes
its alarm (S5F1), beside the kind's own driver's poll interval. A GEM tool's trace period and a
driver's poll interval both pass in the line's time, so the two faces' counts compare.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.errors import ToolAlarm
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.links import ReconnectPolicy, open_link, wire_log
from packline.drivers.registry import TOOL_KINDS
from packline.sequences.engine import RunRequest, RunStore, open_run, prepare, run_report
from packline.sim_instruments.gem.equipment import GemEquipment

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
# the conformance suite's adapters (how to run each tool kind), reused rather than copied
from conformance.adapters import ADAPTERS

#: The default station run's method and recipe.
BASELINE_METHOD, BASELINE_RECIPE = "bump-seal-clean", "bump-seal-clean-solder-plated"
#: Messages sent per wafer, per tool or device, by a lot of 1 of each recipe at a1f698e, before
#: this bench's levers: this bench's count (the drivers on the line's time, time scale 20).
BASELINE: dict[str, dict[str, int]] = {
    "bump-seal-clean-solder-plated": {
        "ball_mounter": 145,
        "dicing_saw": 171,
        "electroplater.cell": 589,
        "electroplater.supply": 2110,
        "flip_chip_bonder": 2,
        "laminator": 326,
        "laser": 4,
        "oven": 1229,
        "plasma_cleaner": 419,
        "wire_bonder": 2,
    },
    "sprout-bump-csp-levels-5": {
        "ball_mounter": 142,
        "deposition": 2490,
        "dicing_saw": 172,
        "electroplater.cell": 3243,
        "electroplater.supply": 11818,
        "laminator": 1602,
        "lithography": 2475,
        "oven": 659,
        "plasma_cleaner": 2012,
        "wet_bench": 3142,
        "wire_bonder": 2804,
    },
}
#: The goal: this many times fewer exchanges per wafer than the baseline.
GOAL_FACTOR = 5.0
#: Moments of the poll cycle the alarm fault is injected at, s after the tool is seen running.
FAULT_OFFSETS_S = (0.05, 0.3, 0.55, 0.8)
#: How finely the alarm's latch in the simulated tool is timed, s of process time.
LATCH_STEP_S = 0.01
#: Bounds every wait of the alarm measurement, s of wall time.
WALL_LIMIT_S = 60.0
#: The first line `packline sim serve` prints, once its station file is written.
SERVE_HEADER = "# packline simulated line"


class SentCounter(logging.Handler):
    """Counts the messages each link sends, from the wire log's `tool address > payload`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        # `tool address > payload`, or an HSMS data message's `tool address > [system] sml`
        if isinstance(args, tuple) and len(args) in (4, 5) and args[2] == ">":
            self.sent[str(args[0])] += 1


async def _confirm(question: str, detail: str) -> tuple[bool, str]:
    return True, "bench (in advance)"


async def station_run(station: Path, method: str, recipe: Path, lot: int, db: Path) -> str:
    """A lot of `method` against the served line, the engine and drivers on the line's time
    (its station's `time_scale` times the wall's); its status and claim check."""
    store = RunStore(db)
    try:
        request = RunRequest(
            method, simulated=False, station_path=station, recipe_path=recipe, lot=lot
        )
        prepared = prepare(request)
        # on the line's time, as every run on a station is (`launch.line_clock`)
        async with open_run(store, prepared, confirm=_confirm) as engine:
            status = await engine.run()
        return f"{status}, claims {run_report(store, engine.run_id)['claim_check']['status']}"
    finally:
        store.close()


def count_station_run(method: str, recipe: Path, lot: int, time_scale: float, gem: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        station = Path(tmp) / "line.yaml"
        serve = subprocess.Popen(
            [sys.executable, "-m", "packline", "sim", "serve", "--time-scale", str(time_scale),
             "--station-out", str(station), *(["--gem"] if gem else [])],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        assert serve.stdout is not None
        counter = SentCounter()
        level = wire_log.level
        try:
            ready = select.select([serve.stdout], [], [], WALL_LIMIT_S)[0]
            if not ready or not serve.stdout.readline().startswith(SERVE_HEADER):
                raise SystemExit("packline sim serve wrote no station file")
            wire_log.addHandler(counter)
            wire_log.setLevel(logging.DEBUG)
            started = time.perf_counter()
            outcome = asyncio.run(station_run(station, method, recipe, lot, Path(tmp) / "r.db"))
            wall = time.perf_counter() - started
        finally:
            wire_log.removeHandler(counter)
            wire_log.setLevel(level)
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=WALL_LIMIT_S)
            serve.stdout.close()
    print(f"station run of {method} ({recipe.name}), lot of {lot}, sim serve --time-scale "
          f"{time_scale:g}{' --gem' if gem else ''}: {outcome}, {wall:.0f} s wall, "
          f"{wall * time_scale / 3600:.1f} h of the line's")  # fmt: skip
    print(f"{'tool':24} {'per wafer':>10} {'baseline':>10} {'fewer':>7}")
    total = baseline_total = 0.0
    counted = BASELINE.get(recipe.stem, {}) if lot == 1 else {}  # a lot of 1's
    for tool in sorted(set(counter.sent) | set(counted)):
        per_wafer = counter.sent[tool] / lot
        baseline = counted.get(tool, 0)
        total += per_wafer
        baseline_total += baseline
        print(f"{tool:24} {per_wafer:10.0f} {baseline:10.0f} {_ratio(baseline, per_wafer):>7}")
    met = not counted or total * GOAL_FACTOR <= baseline_total
    verdict = "" if met else f"  (goal: {GOAL_FACTOR:g} x)"
    print(f"{'all tools':24} {total:10.0f} {baseline_total:10.0f} "
          f"{_ratio(baseline_total, total):>7}{verdict}")  # fmt: skip


def _ratio(before: float, after: float) -> str:
    return f"{before / after:.1f}x" if after and before else "-"


@asynccontextmanager
async def native_rig(kind: str) -> AsyncIterator[testing.Rig[Any, Any]]:
    """The kind's simulated tool on its own wire, its driver connected, on a virtual clock."""
    tool = TOOL_KINDS[kind]
    sim = tool.load_simulator()(kind, ADAPTERS[kind].twin(), VirtualClock())
    rig = await testing.open_rig(
        sim, tool.load_driver(), timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    try:
        yield rig
    finally:
        await rig.close()


@asynccontextmanager
async def gem_rig(kind: str) -> AsyncIterator[testing.Rig[Any, Any]]:
    """The kind's simulated tool served as GEM equipment, its GEM driver connected, on a
    virtual clock."""
    tool = TOOL_KINDS[kind]
    clock = VirtualClock()
    model = tool.load_gem_simulator()(kind, ADAPTERS[kind].twin(), clock)
    equipment = GemEquipment(load_dictionary(kind), model, clock=clock)
    try:
        link = open_link(await equipment.start(), tool=kind, clock=clock, timeout_s=1.0)
        driver = tool.load_gem_driver()(link, dictionary=kind)
        await driver.connect()
        try:
            yield testing.Rig(model.tool, driver)
        finally:
            await driver.close()
    finally:
        await equipment.stop()


async def alarm_reaction(kind: str, offset_s: float, gem: bool) -> tuple[float, float]:
    """The process time from the tool's alarm (latched by the adapter's alarm fault, injected
    `offset_s` after the tool is seen running) to the driver's `ToolAlarm`, on the tool's own
    wire or (`gem`) on its GEM face; and the driver's poll interval."""
    adapter = ADAPTERS[kind]
    async with (gem_rig if gem else native_rig)(kind) as rig:
        async with asyncio.timeout(WALL_LIMIT_S):
            await adapter.prepare(rig)
            task = asyncio.create_task(adapter.operate(rig))
            while True:
                rig.sim.advance()  # the model is lazy: bring it to now to see it running
                if adapter.running(rig.sim):
                    break
                if task.done():
                    raise SystemExit(f"{kind}: the operation ended before it was seen running")
                await rig.clock.sleep(0.1)
            await rig.clock.sleep(offset_s)
            rig.sim.inject_fault(adapter.alarm_fault[0])
            while not rig.sim.alarms:  # the model is lazy: bring it to now to see the latch
                await rig.clock.sleep(LATCH_STEP_S)
                rig.sim.advance()
            latched_s = rig.clock.now()
            try:
                await task
            except ToolAlarm:
                return rig.clock.now() - latched_s, rig.driver.poll_interval_s
            raise SystemExit(f"{kind}: the operation ended without the alarm")


def worst_reaction(kind: str, gem: bool) -> tuple[float, float]:
    """The worst of `alarm_reaction` over `FAULT_OFFSETS_S`, and the driver's poll interval."""
    reactions = [asyncio.run(alarm_reaction(kind, offset, gem)) for offset in FAULT_OFFSETS_S]
    return max(reaction for reaction, _ in reactions), reactions[0][1]


def print_alarm_reactions(gem: bool) -> None:
    print("alarm reaction, s of process time from the tool's alarm to the driver's ToolAlarm")
    if gem:
        print(f"{'tool':24} {'on GEM':>8} {'own wire':>9} {'baseline':>9}   (baseline: the "
              "own wire's poll interval; on GEM the tool pushes S5F1)")  # fmt: skip
    else:
        print(f"{'tool':24} {'worst':>8} {'baseline':>9}   (baseline: the poll interval)")
    for kind in sorted(ADAPTERS):
        if gem and not TOOL_KINDS[kind].gem_driver:
            continue
        worst, interval = worst_reaction(kind, gem=False)
        shown = f"{worst:8.2f}"
        if gem:
            worst = worst_reaction(kind, gem=True)[0]
            shown = f"{worst:8.2f} {shown:>9}"
        verdict = "" if worst <= interval + 1e-6 else "  SLOWER"
        print(f"{kind:24} {shown} {interval:9.2f}{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default=BASELINE_METHOD)
    parser.add_argument("--recipe", help="a recipe of the method, without .yaml (see above)")
    parser.add_argument("--lot", type=int, default=1)
    parser.add_argument(
        "--time-scale", type=float, default=20.0, help="the served line's (see above)"
    )
    parser.add_argument("--skip-station", action="store_true")
    parser.add_argument("--skip-alarms", action="store_true")
    parser.add_argument("--gem", action="store_true", help="every tool with a GEM face on GEM")
    args = parser.parse_args()
    if not args.skip_station:
        recipes = resources.files("packline.sequences").joinpath("recipes")
        name = args.recipe or (BASELINE_RECIPE if args.method == BASELINE_METHOD else args.method)
        with resources.as_file(recipes.joinpath(f"{name}.yaml")) as recipe:
            count_station_run(args.method, recipe, args.lot, args.time_scale, args.gem)
    if not args.skip_alarms:
        print_alarm_reactions(args.gem)


if __name__ == "__main__":
    main()
