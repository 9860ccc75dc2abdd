"""Opening a run: a dry run's garbage collector while it runs (`launch._collections_spared`);
a station run's clock, the line's time (`launch.line_clock`)."""

from __future__ import annotations

import gc
from typing import Annotated

from pydantic import Field

from packline.clock import ScaledClock
from packline.drivers.roles.oven import Oven, ThermalProfile, cure_profile
from packline.sequences.engine import (
    Batch,
    Engine,
    Recipe,
    RunRequest,
    RunStore,
    Wafer,
    method,
    open_resume,
    open_run,
    prepare,
)
from packline.sequences.engine.launch import DRY_RUN_COLLECTION_THRESHOLD, _collections_spared
from packline.sequences.engine.recorded_station import process_time, time_scale_of
from packline.sequences.engine.schedule import find_schedule
from packline.sequences.solder import oven_cycle
from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.physics.oven import OVEN_RUN
from packline.units import Unit

from ..helpers import station_lot
from ..test_resume_station import abort_at_first_step, confirm_yes, station_file


async def test_a_dry_run_leaves_what_came_before_it_out_of_the_collectors_scans(store: RunStore):
    """While a dry run is open, what the process made before it is frozen out of the
    collector's scans and its youngest generation is collected less often; both as they were
    once it closes."""
    before = gc.get_threshold()
    async with open_run(store, prepare(RunRequest("plasma-clean", lot=1))) as engine:
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (DRY_RUN_COLLECTION_THRESHOLD, *before[1:])
        assert await engine.run() == "completed"
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_as_it_was_once_the_last_of_two_dry_runs_ends():
    """Two dry runs open at once in one process (their ends in either order): the collector
    stays spared until the second ends, then is as it was before the first."""
    before = gc.get_threshold()
    first, second = _collections_spared(), _collections_spared()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (DRY_RUN_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_of_its_own_keeps_them_frozen_after_a_dry_run():
    """What a process froze before a dry run (a server that forks) stays frozen once the run
    ends; the run freezes nothing of its own then."""
    frozen_before = [[]]  # a container the process freezes before the run
    gc.freeze()
    made_since = [[]]  # one made after, which the run must not freeze
    try:
        with _collections_spared():
            assert not _scanned(frozen_before)
            assert _scanned(made_since)
        assert not _scanned(frozen_before)
    finally:
        gc.unfreeze()


def _scanned(container: object) -> bool:
    """Whether the garbage collector scans `container` (not frozen: `gc.freeze` takes an
    object out of every generation `gc.get_objects` lists). Asked of objects, not told by
    `gc.get_freeze_count`, which falls whenever a frozen object is freed meanwhile."""
    return any(tracked is container for tracked in gc.get_objects())


class HeldCureRecipe(Recipe):
    """The recipe of `test-held-cure` (its own class: a method names its recipe class)."""

    #: How long the oven holds the load at the cure temperature, s of the line's time.
    hold_s: Annotated[float, Unit("s"), Field(gt=0, le=600)] = 20.0


def held_cure(recipe: HeldCureRecipe) -> ThermalProfile:
    """The cure `test-held-cure` runs: to 120 degC, held there as the recipe says (the driver
    times the hold), then cooled."""
    return cure_profile(
        120.0, recipe.hold_s, ramp_c_per_min=120.0, cool_to_c=50.0, cool_c_per_min=120.0
    )


@method(
    name="test-held-cure",
    title="test: one oven batch, its load held at the cure temperature for the recipe's time",
    claims=(),
    recipe=HeldCureRecipe,
    tools=("oven",),
)
async def cure_held(wafer: Wafer, recipe: HeldCureRecipe) -> None:
    profile = held_cure(recipe)
    await wafer.batch(
        Oven, oven_cycle, 50.0, 100.0, 600.0, "cure", (), run_profile, profile, timeout_s=60.0
    )


async def run_profile(batch: Batch[Oven], profile: ThermalProfile) -> None:
    await batch.tool.run_profile(profile)


#: How many times as fast as the wall clock the line of
#: `test_a_station_run_holds_the_cure_on_the_lines_time` is served: fast enough for a cure of
#: 490 s in some 12 s, slow enough that a stall of the loaded test machine (the run and the
#: line share its cores) is a small part of the line's time (at x200 a stall of half a second
#: was 100 s of the line's: a CI run's cure was held).
SERVED_X = 40.0


def cure_process_s(store: RunStore, run_id: str) -> float:
    """How long run `run_id`'s cure step took, as process time on its line (`process_time`)."""
    (cure,) = [s for s in store.table("steps", run_id) if s["name"] == "cure"]
    return process_time(cure["stopped_t"] - cure["started_t"], time_scale_of(store.run(run_id)))


def heated_s(line: SimulatedLine, store: RunStore, run_id: str) -> float:
    """How long the oven of `line` heated the one wafer of run `run_id`, by its twin."""
    (wafer,) = store.wafers(run_id)
    (run,) = [e for e in line.twin.get(wafer["wafer_id"]).history if e.operation == OVEN_RUN]
    return float(run.detail["heated_s"])


async def dry_cure(store: RunStore) -> tuple[str, float]:
    """A dry run of a lot of one of `test-held-cure`: the run's id, and how long the oven
    heated the wafer."""
    dry_lines: list[SimulatedLine] = []
    dry = prepare(RunRequest("test-held-cure", lot=1))
    async with open_run(store, dry, line_ready=dry_lines.append) as engine:
        assert await engine.run() == "completed"
        return engine.run_id, heated_s(dry_lines[0], store, engine.run_id)


async def served_cure(
    store: RunStore, tmp_path, *, gem: bool = False, resumed: bool = False
) -> tuple[str, float]:
    """A lot of one of `test-held-cure` on the oven of a simulated line served `SERVED_X`
    times as fast as the wall clock, its station saying so (on its GEM face, `gem`; the run
    aborted at its first step and resumed on the same line, `resumed`): the run's id, and
    how long the oven heated the wafer."""
    async with SimulatedLine(ScaledClock(SERVED_X), kinds=["oven"], gem=gem) as line:
        station = station_file(tmp_path, line, "line.yaml", time_scale=SERVED_X)
        request = station_lot(station, 1, "test-held-cure")
        box: list[Engine] = []
        observers = [abort_at_first_step(box)] if resumed else []
        async with open_run(
            store, prepare(request), observers=observers, confirm=confirm_yes
        ) as engine:
            box.append(engine)
            assert await engine.run() == ("aborted" if resumed else "completed")
        if resumed:
            resume = open_resume(store, engine.run_id, station_path=station, confirm=confirm_yes)
            async with resume as engine:
                assert await engine.run() == "completed"
        return engine.run_id, heated_s(line, store, engine.run_id)


async def test_a_station_run_holds_the_cure_on_the_lines_time(store: RunStore, tmp_path):
    """A station run on a simulated line served 40 times as fast as the wall clock (its
    station says `time_scale: 40`) cures as a dry run of the recipe does: the driver times
    the cure's 20 s hold, and every poll of its waits, on the line's time. On the wall clock
    it held 20 s of wall time, 800 s of the line's, and saw each segment end up to a poll
    of 10 s of wall time late: the oven heated the load 1,602 s (as its twin says), a dry
    run 490 s (495 s now). The run's records keep the wall clock as before: its cure step,
    read as the line's process time (`process_time`, x40), took what a dry run's took; and
    its ETA, the dry run's schedule at x40, is what it took (decision 0125: at x200 it was
    5.3 s of wall time for 50 s before)."""
    dry_run_id, dry_heated_s = await dry_cure(store)
    dry_cure_s = cure_process_s(store, dry_run_id)
    run_id, served_heated_s = await served_cure(store, tmp_path)
    # the wire's round trips take the line's time too (a few ms of wall time, each some
    # 1 s of the line's): each poll a little later than a dry run's
    assert abs(served_heated_s - dry_heated_s) < 0.25 * dry_heated_s
    assert abs(cure_process_s(store, run_id) - dry_cure_s) < 0.25 * dry_cure_s
    served = store.run(run_id)
    wall_s = served["stopped_t"] - served["started_t"]
    lot = served["method"], served["recipe_hash"], served["lot_size"]
    eta = find_schedule(store, *lot, time_scale=SERVED_X, exclude_run=run_id)
    assert eta is not None
    assert abs(eta.makespan_s - wall_s) < 0.25 * eta.makespan_s


async def test_a_resumed_station_run_holds_the_cure_on_the_lines_time(store: RunStore, tmp_path):
    """A resume on a simulated line served 40 times as fast as the wall clock waits on the
    line's time as a new run does (`launch.line_clock`, in `open_resume` too): the run aborted
    at its first step, its resume cures the wafer as a dry run does (490 s). On the wall
    clock the resume's oven heated the load some 1,600 s."""
    _, dry_heated_s = await dry_cure(store)
    _, resumed_heated_s = await served_cure(store, tmp_path, resumed=True)
    assert abs(resumed_heated_s - dry_heated_s) < 0.25 * dry_heated_s


async def test_a_served_gem_ovens_trace_samples_are_recorded_when_they_were_taken(
    store: RunStore, tmp_path
):
    """The GEM oven reports its trace samples in groups, each sample at the time it took it
    on the line's clock, the driver's: recorded on the run clock, the wall clock, a sample
    taken 10 s of the line's time before its report came is 1/40 of that earlier, within
    the step it was taken in (10 s earlier: the first step's samples before the run began)."""
    run_id, _ = await served_cure(store, tmp_path, gem=True)
    steps = {step["id"]: step for step in store.table("steps", run_id)}
    traces = store.traces(run_id)
    assert traces["t"]
    taken = [(steps[step_id], t) for step_id, t in zip(traces["step_id"], traces["t"], strict=True)]
    assert [
        (step["name"], t) for step, t in taken if not step["started_t"] <= t <= step["stopped_t"]
    ] == []
