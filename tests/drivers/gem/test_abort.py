"""Every GEM face's abort, confirmed by the tool's status variables as the kind's other faces
confirm theirs: each GEM driver against its simulated GEM tool, driven by the conformance
suite's adapters (the role's operations are the same whatever wire carries them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from packline import testing
from packline.drivers.equipment import ToolState
from packline.drivers.errors import ToolTimeout
from packline.drivers.registry import TOOL_KINDS

from ...conformance.adapters import ADAPTERS, ToolAdapter
from .conftest import GemBench

#: A hang guard in wall time, which no assertion depends on.
WALL_LIMIT_S = 120.0

#: What each GEM face's timeout names as still on when the tool took `abort` mid-operation
#: and did not act on it.
STILL_ON = {
    "deposition": "chamber still processing, source power 1000 W, gas flow 40 sccm",
    "dicing_saw": "still cutting, spindle at 30000 rpm",
    "flip_chip_bonder": "still heating",
    "grinder": "still coarse",
    "laminator": "still cooling",
    "oven": "heater supply still on (running)",
    "plasma_cleaner": "chamber still processing, RF forward 300 W, gas flow 100 sccm",
    "wire_bonder": "still bumping",
}


def test_every_gem_face_is_here():
    assert set(STILL_ON) == {name for name, kind in TOOL_KINDS.items() if kind.gem_driver}


@dataclass
class Hung:
    """A GEM face whose operation was cancelled while it ran, on a tool that took the abort
    and did not act on it (`abort_ignored`): the operation's task, commanding the safe state
    and waiting for the tool to show it."""

    kind: str
    rig: testing.Rig[Any, Any]
    adapter: ToolAdapter
    task: asyncio.Task[Any]


@pytest.fixture(params=sorted(STILL_ON))
async def hung(request: pytest.FixtureRequest) -> AsyncIterator[Hung]:
    adapter = ADAPTERS[request.param]
    bench = GemBench(adapter.kind, twin=adapter.twin())
    try:
        driver = await bench.driver()
        rig = testing.Rig(bench.model.tool, driver)
        await adapter.prepare(rig)
        task = asyncio.create_task(adapter.operate(rig))
        await testing.run_until(
            task, lambda: adapter.running(rig.sim), rig.sim, timeout_s=WALL_LIMIT_S
        )
        rig.sim.inject_fault("abort_ignored")
        task.cancel()
        yield Hung(adapter.kind, rig, adapter, task)
    finally:
        await bench.close()


async def bounded(awaitable: Any) -> Any:
    async with asyncio.timeout(WALL_LIMIT_S):
        return await awaitable


async def test_an_abort_returns_once_the_safe_state_shows(hung: Hung):
    """A tool that acts on `abort` 3 s after it took it is waited for: the abort returns once
    the status variables show the safe state, not at the command's HCACK."""
    sim = hung.rig.sim
    late_s = sim.clock.now() + 3
    # fails if the abort returned at the HCACK, before the tool acted on it
    await testing.run_until(
        hung.task, lambda: sim.clock.now() >= late_s, sim, timeout_s=WALL_LIMIT_S
    )
    assert not hung.adapter.safe(sim)
    sim.clear_fault("abort_ignored")  # the hung sequence steps on and takes the command
    with pytest.raises(asyncio.CancelledError):
        await bounded(hung.task)
    assert hung.adapter.safe(sim)
    assert hung.rig.driver.state is ToolState.IDLE


async def test_an_abort_raises_when_the_safe_state_never_shows(hung: Hung):
    """A tool that never acts on `abort` within the face's `safe_state_timeout_s` makes the
    abort raise `ToolTimeout` naming what its status variables still show; the driver is then
    in fault."""
    sim, driver = hung.rig.sim, hung.rig.driver
    started_s = sim.clock.now()
    timeout_s = type(driver).safe_state_timeout_s
    with pytest.raises(ToolTimeout) as raised:
        await bounded(hung.task)
    assert str(raised.value).endswith(
        f"abort: safe state not confirmed: {STILL_ON[hung.kind]} after {timeout_s:g} s"
    )
    assert sim.clock.now() - started_s >= timeout_s
    assert driver.state is ToolState.FAULT
    assert not hung.adapter.safe(sim)
