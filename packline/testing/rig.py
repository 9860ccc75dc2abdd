"""A simulated tool on loopback with the real driver connected to it: the unit of a HIL test.

    rig = await open_rig(SimLaminator("laminator", TwinStore(), VirtualClock()), ModbusLaminator)
    try:
        await rig.driver.laminate(job)
        assert rig.twin.get("W01").tip_projection_um.min() > 10
    finally:
        await rig.close()

The driver reaches the simulated tool only through the address the tool's server gives, over
the link that address selects, on the simulated tool's clock: exactly what a station file does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from packline.clock import Clock
from packline.drivers.equipment import Equipment, Limit
from packline.sim_instruments.tool import SimulatedTool
from packline.sim_instruments.twin import TwinStore
from packline.station import build_driver

S = TypeVar("S", bound=SimulatedTool)
D = TypeVar("D", bound=Equipment)


@dataclass
class Rig(Generic[S, D]):
    """A served simulated tool and the connected driver that talks to it."""

    sim: S
    driver: D

    @property
    def twin(self) -> TwinStore:
        return self.sim.twin

    @property
    def clock(self) -> Clock:
        return self.sim.clock

    async def close(self) -> None:
        """Close the driver, then stop serving the tool."""
        try:
            await self.driver.close()
        finally:
            await self.sim.stop()


async def open_rig(
    sim: S,
    driver_class: type[D],
    *,
    limits: Mapping[str, tuple[float, float]] | None = None,
    poll_interval_s: float = 1.0,
    **link_options: Any,
) -> Rig[S, D]:
    """Serve `sim` on loopback and connect a `driver_class` driver to it (`link_options` go to
    the link, e.g. `timeout_s`; to every device's link, for a tool of several devices)."""
    await sim.start()
    try:
        driver = await connect_driver(
            sim, driver_class, limits=limits, poll_interval_s=poll_interval_s, **link_options
        )
    except BaseException:
        await sim.stop()
        raise
    return Rig(sim, driver)


async def connect_driver(
    sim: SimulatedTool,
    driver_class: type[D],
    *,
    limits: Mapping[str, tuple[float, float]] | None = None,
    poll_interval_s: float = 1.0,
    **link_options: Any,
) -> D:
    """A `driver_class` driver connected to `sim`, served already (`open_rig`'s; another
    controller's, connecting to a tool that an earlier one left as it was)."""
    address = sim.station_address
    options = link_options if isinstance(address, str) else dict.fromkeys(address, link_options)
    driver = build_driver(
        driver_class,
        sim.name,
        address,
        options,
        name=sim.name,
        clock=sim.clock,
        limits=limits,
        poll_interval_s=poll_interval_s,
    )
    assert isinstance(driver, driver_class)
    await driver.connect()
    return driver


async def run_until(
    task: asyncio.Task[Any],
    condition: Callable[[], bool],
    *sims: SimulatedTool,
    step_s: float = 0.5,
    timeout_s: float,
) -> None:
    """Let process time pass on the simulated tools' clock, `step_s` at a time, until
    `condition()` holds while `task` (a driver operation) still runs; it ending first fails
    the wait. Each tool's model is brought to the present before each look: a simulated tool
    is lazy, and a driver waiting on a reply the tool holds does not read it meanwhile.
    `timeout_s` bounds the wait in wall time."""
    async with asyncio.timeout(timeout_s):
        while True:
            for sim in sims:
                sim.advance()
            if condition():
                return
            if task.done():
                raise AssertionError(f"the operation ended before the condition held: {task}")
            await sims[0].clock.sleep(step_s)


def force_limits(driver: Equipment, limits: Mapping[str, tuple[float, float]]) -> None:
    """Let `driver` send setpoints past its own range, as no station file can.

    For tests that prove a tool's own range check: a value forced past the driver must still
    be refused by the tool, with its own error. A station's `limits:` may only narrow.
    """
    for setpoint, (minimum, maximum) in limits.items():
        own = driver.limits[setpoint]
        driver.limits = {**driver.limits, setpoint: Limit(minimum, maximum, own.unit, own.whole)}


@contextmanager
def counting_loop_passes() -> Iterator[list[int]]:
    """While in it, the passes of the running loop (its `_run_once`), counted in the one-item
    list it gives: what a dry run's exchange costs in turns of the loop (decision 0075)."""
    loop = asyncio.get_running_loop()
    passes = [0]
    run_once = loop._run_once  # type: ignore[attr-defined]

    def counted() -> None:
        passes[0] += 1
        run_once()

    loop._run_once = counted  # type: ignore[attr-defined]
    try:
        yield passes
    finally:
        del loop._run_once  # type: ignore[attr-defined]  # the class's own again


def count_looks(tool: SimulatedTool) -> list[float]:
    """From now on, the times `tool` asks its model when it changes next (`next_change_s`: a
    held reply's looks at itself, a GEM face's watcher's), in order: what a long job costs."""
    looks: list[float] = []
    next_change_s = tool.next_change_s

    def counted(now: float) -> float:
        looks.append(now)
        return next_change_s(now)

    tool.next_change_s = counted  # type: ignore[method-assign]
    return looks
