"""The SCPI driver base's wait on an overlapped command (`ScpiDriver.wait_operation`,
decision 0041), against the simulated grinder and laser on a virtual clock: the tool holds
`*OPC?` until its cycle or job ends, so the wait costs a few exchanges, sees an alarm as it
latches, and the clock jumps over the held reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from packline.clock import VirtualClock
from packline.drivers.errors import ConnectionLost, ToolAlarm, ToolError
from packline.drivers.grinder import ScpiGrinder
from packline.drivers.laser import ScpiLaser
from packline.drivers.links import ReconnectPolicy
from packline.drivers.roles.grinder import GrindPhase, GrindRecipe, GrindSide
from packline.drivers.roles.laser import DrillRecipe
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.laser import SimLaser
from packline.sim_instruments.twin import ResinKind, TwinStore
from packline.testing import Rig, open_rig, run_until

WALL_LIMIT_S = 20.0  # bounds each test's waits in wall time
WAIT_LINES = ("GRIN:STAT?", ":GAUG:RES?;:GRIN:STAT?", "*OPC?", ":JOB:PROG?;:MEAS:POW?")


@pytest.fixture
async def grinder() -> AsyncIterator[Rig[SimGrinder, ScpiGrinder]]:
    """A grinder with W01 on its chuck, vacuum on, nothing received yet."""
    sim = SimGrinder("grinder", TwinStore(), VirtualClock())
    rig = await open_rig(sim, ScpiGrinder, reconnect=ReconnectPolicy(attempts=0))
    try:
        await rig.driver.load("W01", GrindSide.BACK)
        await rig.driver.apply_chuck_vacuum()
        sim.received.clear()
        yield rig
    finally:
        await rig.close()


def wait_reads(received: list[str]) -> list[str]:
    return [line for line in received if line in WAIT_LINES]


async def test_a_cycle_is_waited_out_on_the_tools_opc(grinder):
    async with asyncio.timeout(WALL_LIMIT_S):
        result = await grinder.driver.grind(GrindRecipe(300))
    assert result.final_thickness_um == pytest.approx(300.0, abs=0.1)
    assert result.process_time_s > 200  # minutes of cycle, jumped over by the clock
    # the status before the start (with the gauge's resolution), as the cycle runs, *OPC?
    # held to its end, the end
    assert wait_reads(grinder.sim.received) == [
        ":GAUG:RES?;:GRIN:STAT?", "GRIN:STAT?", "*OPC?", "GRIN:STAT?",
    ]  # fmt: skip
    ended_s = grinder.sim.cycle.ended_s if grinder.sim.cycle else None
    assert ended_s is not None
    assert grinder.sim.clock.now() - ended_s <= grinder.driver.poll_interval_s


@pytest.mark.parametrize("offset_s", [0.3, 4.0, 97.7])
async def test_an_alarm_during_the_wait_is_seen_as_it_latches(grinder, offset_s):
    sim, driver = grinder.sim, grinder.driver
    task = asyncio.create_task(driver.grind(GrindRecipe(300)))
    await run_until(task, lambda: sim.phase is GrindPhase.COARSE, sim, timeout_s=WALL_LIMIT_S)
    async with asyncio.timeout(WALL_LIMIT_S):
        await sim.clock.sleep(offset_s)
        sim.inject_fault("gauge_fault")
        latched_s = sim.clock.now()
        with pytest.raises(ToolAlarm, match="GAUGE_FAULT"):
            await task
    assert sim.clock.now() - latched_s <= driver.poll_interval_s  # no slower than a poll
    assert sim.clock.now() == latched_s  # in fact at once: *OPC? answered as it latched


async def test_a_connection_dropped_during_the_wait_ends_it(grinder):
    sim, driver = grinder.sim, grinder.driver
    task = asyncio.create_task(driver.grind(GrindRecipe(300)))
    await run_until(task, lambda: "*OPC?" in sim.received, sim, timeout_s=WALL_LIMIT_S)
    await sim.stop()  # the tool goes away while it holds *OPC?
    async with asyncio.timeout(WALL_LIMIT_S):
        with pytest.raises(ToolError) as ended:
            await task
    assert isinstance(ended.value, ConnectionLost)


async def test_a_laser_job_is_waited_out_on_the_tools_opc():
    twin = TwinStore()
    twin.get("W01").add_resin(ResinKind.THERMOSET, 50.0)  # vias to drill down to the pads
    sim = SimLaser("laser", twin, VirtualClock())
    rig = await open_rig(sim, ScpiLaser)
    try:
        await rig.driver.open_enclosure()
        await rig.driver.load("W01")
        await rig.driver.close_enclosure()
        sim.received.clear()
        async with asyncio.timeout(WALL_LIMIT_S):
            result = await rig.driver.drill_vias(DrillRecipe(30, 3.0, 100))
        assert result.vias_open == result.sites > 0
        assert wait_reads(sim.received) == [
            ":JOB:PROG?;:MEAS:POW?",
            "*OPC?",
            ":JOB:PROG?;:MEAS:POW?",
        ]
        assert sim.job is not None
        assert sim.clock.now() == pytest.approx(sim.job.started_s + sim.job.total_s)
    finally:
        await rig.close()
