"""E40 process jobs (S16F11, S16F5, S16F17, S16F19 and the job state event): the GEM host and
driver against the simulated GEM bonder and saw, in virtual time."""

from __future__ import annotations

import asyncio
import math

import pytest

from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    LimitViolation,
    ProtocolError,
    ToolStateError,
    ToolTimeout,
)
from packline.drivers.gem.records import CollectionEvent
from packline.drivers.roles.wire_bonder import BonderState, RunResult
from packline.drivers.secs.items import F8


def job_states(driver) -> list[tuple[str, str]]:
    """Every job state event the driver hears from now on: (job, state)."""
    seen: list[tuple[str, str]] = []

    def heard(event: CollectionEvent) -> None:
        if event.ceid == 3100:
            seen.append(
                (event.values[9006].scalar, driver.process_jobs.states[event.values[9006].scalar])
            )

    driver.gem.add_event_listener(heard)
    return seen


async def test_a_job_runs_its_recipe_on_its_wafer_and_ends_on_events(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    seen = job_states(bonder)
    await bonder.gem.send_process_program("BUMP-2", "stack 2 studs")
    await bonder.load("W01")
    jobs = bonder.process_jobs
    await jobs.create("PJ1", "W01", recipe="BUMP-2", stack_count=2, bond_force_gf=40.0)
    assert await jobs.wait("PJ1", timeout_s=600) == "process complete"
    assert seen == [
        ("PJ1", "queued"),
        ("PJ1", "setting up"),
        ("PJ1", "processing"),
        ("PJ1", "process complete"),
    ]
    assert bench.model.program.bond_force_gf == 40.0
    status = await bonder.request_status()
    assert (status.bumps_done, status.stack_count, status.last_result) == (
        784,
        2,
        RunResult.COMPLETED,
    )
    assert await jobs.request_states() == {}
    # no polling: after the job's create, only the two queries above crossed the wire
    received = bench.equipment.received
    assert received[received.index("S16F11") :] == ["S16F11", "S1F3", "S16F19"]


async def test_jobs_queue_wait_for_their_wafer_and_for_start(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    jobs = bonder.process_jobs
    await bonder.gem.send_process_program("BUMP", "")
    await jobs.create("PJ1", "W01", recipe="BUMP", start=False)
    await jobs.create("PJ2", "W02", recipe="BUMP")
    await jobs.create("PJ3", "W03", recipe="BUMP")
    assert await jobs.request_states() == {"PJ1": "queued", "PJ2": "queued", "PJ3": "queued"}
    assert await jobs.dequeue("PJ3") == ["PJ3"]
    await bonder.load("W01")
    await bench.clock.sleep(1)
    assert await jobs.request_states() == {"PJ1": "waiting for start", "PJ2": "queued"}
    with pytest.raises(CommandRefused, match="ERRCODE 17: command not valid for current state"):
        await jobs.command("PJ2", "START")
    with pytest.raises(CommandRefused, match="ERRCODE 14: unsupported option requested"):
        await jobs.command("PJ1", "PAUSE")
    await jobs.command("PJ1", "START")
    assert await jobs.wait("PJ1", timeout_s=600) == "process complete"
    await jobs.command("PJ2", "CANCEL")
    await bench.clock.sleep(1)
    assert await jobs.request_states() == {}


async def test_an_aborted_job_leaves_the_tool_safe(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    jobs = bonder.process_jobs
    await bonder.gem.send_process_program("BUMP", "")
    await bonder.load("W01")
    await jobs.create("PJ1", "W01", recipe="BUMP")
    await bench.clock.sleep(20)
    assert jobs.states["PJ1"] == "processing"
    await jobs.command("PJ1", "ABORT")
    assert await jobs.wait("PJ1", timeout_s=60) == "aborted"
    status = await bonder.request_status()
    assert status.state is BonderState.IDLE
    assert status.last_result is RunResult.ABORTED


async def test_a_job_past_its_timeout_is_aborted(bench) -> None:
    bonder = await bench.driver()
    jobs = bonder.process_jobs
    await bonder.gem.send_process_program("BUMP", "")
    await jobs.create("PJ1", "W09", recipe="BUMP")  # W09 never comes
    with pytest.raises(ToolTimeout, match="still queued after 30 s; aborted"):
        await jobs.wait("PJ1", timeout_s=30)
    await bench.clock.sleep(1)
    assert jobs.states["PJ1"] == "aborted"
    assert await jobs.request_states() == {}


async def test_bad_jobs_are_refused_with_their_errcodes(bench) -> None:
    bonder = await bench.driver()
    jobs = bonder.process_jobs
    with pytest.raises(CommandRefused, match=r"ERRCODE 21: recipe .*: no process program NONE"):
        await jobs.create("PJ1", "W01", recipe="NONE")
    await bonder.gem.send_process_program("BUMP", "")
    received = bench.equipment.received
    sent = received.count("S16F11")
    with pytest.raises(LimitViolation, match="bond_force_gf"):
        await jobs.create("PJ1", "W01", recipe="BUMP", bond_force_gf=500.0)
    # the job command's parameters too, as the bonder's own start checks them (1-4 studs)
    with pytest.raises(LimitViolation, match="stack_count"):
        await jobs.create("PJ1", "W01", recipe="BUMP", stack_count=9)
    with pytest.raises(ValueError, match="'speed' is no parameter of START"):
        await jobs.create("PJ1", "W01", recipe="BUMP", speed=3)
    assert received.count("S16F11") == sent
    # what the driver checks first, the tool refuses too
    with pytest.raises(CommandRefused, match="ERRCODE 7: invalid attribute value"):
        await bonder.gem.create_process_job("PJ1", ["W01"], "BUMP", {"bond_force_gf": F8(500.0)})
    for number in range(1, 5):
        await jobs.create(f"PJ{number}", "W01", recipe="BUMP")
    with pytest.raises(CommandRefused, match=r"ERRCODE 11: .*; ERRCODE 15: busy"):
        await jobs.create("PJ1", "W01", recipe="BUMP")
    with pytest.raises(CommandRefused, match="ERRCODE 3: unknown object instance"):
        await jobs.command("PJ9", "ABORT")


async def test_a_tool_without_process_jobs(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    with pytest.raises(ValueError, match="has no process_jobs"):
        await grinder.process_jobs.create("PJ1", "W1", recipe="GRIND")
    # E5: a stream the equipment does not know at all is answered S9F3, not S9F5
    with pytest.raises(ProtocolError, match="S16F19: S9F3 unrecognized stream"):
        await grinder.gem.request_process_jobs()


# a feed a unit conversion left an ulp past its bound is taken and sent as the bound itself
@pytest.mark.parametrize(
    ("feed_mm_s", "sent_mm_s"), [(20.0, 20.0), (math.nextafter(100, math.inf), 100)]
)
async def test_the_saw_cuts_by_job(saw_bench, feed_mm_s: float, sent_mm_s: float) -> None:
    saw = await saw_bench.driver()
    saw_bench.twin.receive("W1")
    await saw.gem.send_process_program("DICE", "")
    await saw.command("mount", workpiece_id="W1")
    await saw.command("start_spindle", speed_krpm=30.0)
    await saw_bench.clock.sleep(30)
    await saw.process_jobs.create("PJ1", "W1", recipe="DICE", feed_mm_s=feed_mm_s)
    assert await saw.process_jobs.wait("PJ1", timeout_s=3600) == "process complete"
    assert saw_bench.model.constants["feed_mm_s"] == sent_mm_s
    assert saw_bench.twin.get("W1").singulation.units > 200


async def test_a_job_run_as_an_operation_keeps_the_driver_busy_and_its_safe_state(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.gem.send_process_program("BUMP-2", "stack 2 studs")
    await bonder.load("W01")
    states: list[ToolState] = []

    async def watch() -> None:
        while bonder.process_jobs.states.get("PJ1") != "processing":
            await bench.clock.sleep(1)
        states.append(bonder.state)

    watcher = asyncio.create_task(watch())
    assert await bonder.process_jobs.run("PJ1", "W01", recipe="BUMP-2", timeout_s=600) == (
        "process complete"
    )
    await watcher
    assert states == [ToolState.BUSY]  # its E10 time productive, not standby
    assert bonder.state is ToolState.IDLE
    # a caller cancelled mid-job commands the tool's safe state before it goes on
    await bonder.unload("W01")
    bench.twin.receive("W02")
    await bonder.load("W02")
    running = asyncio.create_task(
        bonder.process_jobs.run("PJ2", "W02", recipe="BUMP-2", timeout_s=600)
    )
    while bonder.process_jobs.states.get("PJ2") != "processing":
        await bench.clock.sleep(1)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    status = await bonder.request_status()
    assert status.last_result is RunResult.ABORTED
    # a tool not ready refuses the job before anything is sent
    await bonder.close()
    with pytest.raises(ToolStateError):
        await bonder.process_jobs.run("PJ3", "W02", recipe="BUMP-2", timeout_s=600)
