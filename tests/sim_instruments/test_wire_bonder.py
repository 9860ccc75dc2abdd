"""The wire bonder driver against the simulated bonder on a pty in virtual time; its physics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.links import ReconnectPolicy, VisaLink
from packline.drivers.roles.wire_bonder import (
    BonderState,
    BondProgram,
    RunResult,
    WireMaterial,
    stud_heights_um,
    stud_tip_oxide_nm,
)
from packline.drivers.wire_bonder import AsciiWireBonder
from packline.sim_instruments.physics.wire_bonder import (
    BondPhysics,
    bond_studs,
    form_studs,
    non_stick_probability,
    plan_bumps,
    wire_per_stud_m,
)
from packline.sim_instruments.twin import TwinStore, WaferSpec
from packline.sim_instruments.wire_bonder import SimWireBonder
from packline.testing import Rig, force_limits, open_rig, run_until

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
SMALL = WaferSpec(diameter_mm=100, pads_per_die_side=4)  # 784 pads: a run of about 80 s
WALL_LIMIT_S = 10  # bounds every wait on a driver task in wall time


@dataclass
class Bench:
    """Simulated bonders and connected drivers sharing one twin and one virtual clock."""

    clock: VirtualClock = field(default_factory=VirtualClock)
    twin: TwinStore = field(default_factory=lambda: TwinStore(SMALL))
    rigs: list[Rig[SimWireBonder, AsciiWireBonder]] = field(default_factory=list)

    async def start(self, **sim_options: object) -> tuple[SimWireBonder, AsciiWireBonder]:
        sim = SimWireBonder("bonder", self.twin, self.clock, **sim_options)  # type: ignore[arg-type]
        rig = await open_rig(
            sim,
            AsciiWireBonder,
            poll_interval_s=5,
            reconnect=ReconnectPolicy(attempts=0),
        )
        self.rigs.append(rig)
        return sim, rig.driver

    async def run_until(self, task: asyncio.Task[object], condition: Callable[[], bool]) -> None:
        """`testing.run_until` on the bench's bonders, in steps of their poll interval."""
        sims = (rig.sim for rig in self.rigs)
        await run_until(task, condition, *sims, step_s=5, timeout_s=WALL_LIMIT_S)

    async def stop(self) -> None:
        for rig in self.rigs:
            await rig.close()


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    bench = Bench()
    yield bench
    await bench.stop()


@pytest.fixture
async def loaded(bench: Bench) -> tuple[SimWireBonder, AsciiWireBonder]:
    """A simulated bonder with wafer W1 on its chuck, and its connected driver."""
    sim, bonder = await bench.start()
    await bonder.load("W1")
    sim.received.clear()
    return sim, bonder


async def bounded(awaitable: Awaitable[object]) -> object:
    async with asyncio.timeout(WALL_LIMIT_S):
        return await awaitable


# ------------------------------------------------------------------ bumping


async def test_every_pad_of_a_20000_pad_wafer_gets_one_bump_in_virtual_time():
    bench = Bench(twin=TwinStore(WaferSpec(pads_per_die_side=20)))
    try:
        sim, bonder = await bench.start()
        await bonder.load("W1")
        sites = await bonder.request_site_count()
        assert 20_000 <= sites <= 21_000
        result = await bounded(bonder.form_stud_bumps(PROGRAM))
    finally:
        await bench.stop()
    assert 15 * 60 <= bench.clock.now() <= 30 * 60  # 10-25 bumps/s
    assert result.bumps_formed == result.sites_requested == sites
    wafer = bench.twin.get("W1")
    assert np.all(wafer.bumps.stack == 1)
    assert np.all((wafer.bumps.height_um >= 30) & (wafer.bumps.height_um <= 60))
    assert abs(float(wafer.bumps.base_diameter_um.mean()) - 104) < 3
    assert wafer.bumps.material == "Au"
    assert np.all(wafer.surface.residue_nm == 0)
    assert np.all(wafer.surface.oxide_nm == 0)
    (event,) = wafer.history
    assert (event.tool, event.operation) == ("bonder", "stud bumping")
    assert event.detail["result"] == "completed"
    assert event.detail["bumps_formed"] == sites
    assert sim.state is BonderState.IDLE


async def test_a_stack_of_two_is_taller_by_one_stacked_stud(bench):
    _sim, bonder = await bench.start()
    for wafer_id, stack in (("W1", 1), ("W2", 2)):
        await bonder.load(wafer_id)
        result = await bounded(bonder.form_stud_bumps(PROGRAM, stack_count=stack))
        assert result.stack_count == stack
        await bonder.unload(wafer_id)
    single, double = bench.twin.get("W1"), bench.twin.get("W2")
    assert np.all(double.bumps.stack == 2)
    added = float(double.bumps.height_um.mean() - single.bumps.height_um.mean())
    assert 20 <= added <= 35  # 001:6: each stacked stud adds 20-35 µm


async def test_a_site_list_bumps_only_those_sites(loaded, bench):
    sim, bonder = loaded
    sites = [*range(10, 40), 100, 200, *range(700, 784)]
    result = await bounded(bonder.form_stud_bumps(PROGRAM, sites=sites))
    assert result.bumps_formed == len(sites)
    wafer = bench.twin.get("W1")
    assert np.array_equal(np.flatnonzero(wafer.bumps.height_um), sites)
    assert [line for line in sim.received if line.startswith("SEL")] == [
        "SEL:CLR",
        "SEL:ADD 10-39,100,200,700-783",
    ]


async def test_inspection_reports_what_the_wafer_carries(loaded, bench):
    _, bonder = loaded
    await bounded(bonder.form_stud_bumps(PROGRAM, sites=range(0, 500)))
    heights = await bonder.request_bump_heights()
    wafer = bench.twin.get("W1")
    assert heights.shape == (wafer.geometry.site_count,)
    np.testing.assert_allclose(heights, wafer.bumps.height_um, atol=0.051)
    summary = await bonder.request_bump_height_summary()
    assert summary.bumped_sites == 500
    assert 30 <= summary.min_um <= summary.mean_um <= summary.max_um <= 60
    assert 0 < summary.std_um < 2


async def test_progress_is_readable_by_polling_and_the_tool_is_productive(loaded, bench):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    seen = []

    def bumping_halfway() -> bool:
        seen.append(bonder.e10_state)
        return sim.run is not None and 0 < sim.run.done < 784

    await bench.run_until(task, bumping_halfway)
    status = await bonder.request_status()
    assert status.state is BonderState.BUMPING
    assert 0 < status.bumps_done < status.bumps_total
    assert bonder.state is ToolState.BUSY
    assert E10State.PRODUCTIVE in seen
    await bounded(task)
    assert bonder.e10_state is E10State.STANDBY
    names = {r.name for r in bonder.readings}
    assert {"bumps_done", "progress", "stage_temperature", "wire_remaining"} <= names
    progress = [r.value for r in bonder.readings if r.name == "progress"]
    assert progress == sorted(progress)
    assert any(0 < p < 100 for p in progress)  # recorded while bumping, not only at the ends
    assert progress[-1] == 100.0
    stage = [r.value for r in bonder.readings if r.name == "stage_temperature"]
    assert stage[0] < 150
    assert stage[-1] == 150


async def test_copper_tips_grow_oxide_gold_tips_none(loaded, bench):
    _, bonder = loaded
    copper = BondProgram(WireMaterial.CU, 25, 150, 35, 60, 12)
    await bounded(bonder.form_stud_bumps(copper, sites=range(5)))
    wafer = bench.twin.get("W1")
    assert wafer.bumps.material == "Cu"
    assert np.all(wafer.surface.oxide_nm[:5] > 0)
    assert np.all(wafer.surface.residue_nm[:5] == 0)


# ------------------------------------------------------------------ alarms and resets


async def test_wire_break_stops_the_run_keeps_the_bumps_and_reset_clears_it(loaded, bench):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    await bench.run_until(task, lambda: sim.run is not None and sim.run.done > 100)
    sim.inject_fault("wire_break")
    with pytest.raises(ToolAlarm, match=r"WIRE_BREAK \(bonding wire broke"):
        await bounded(task)
    assert bonder.state is ToolState.FAULT
    assert bonder.e10_state is E10State.UNSCHEDULED_DOWNTIME
    done = (await bonder.request_status()).bumps_done
    assert done > 100
    assert int(bench.twin.get("W1").has_bumps.sum()) == done
    assert bench.twin.get("W1").history[-1].detail["alarm"] == "WIRE_BREAK"
    sim.clear_fault("wire_break")  # the operator re-threads the wire
    await bonder.reset()
    assert bonder.state is ToolState.IDLE
    assert sim.state is BonderState.IDLE
    assert bonder.alarm_history[-1].code == "WIRE_BREAK"


async def test_a_fault_strikes_as_it_is_injected_not_at_the_hosts_next_read():
    """A tester injected a wire break into a served bonder's run and read `STAT?` 30 s of
    process time later: the run had gone on bumping until that read, and its alarm was
    stamped then. The break stops the run when it is injected; a read later finds it so."""
    sim = SimWireBonder("bonder", TwinStore(SMALL), VirtualClock())
    for line in ("LOAD W1", "PROG AU 25 150 35 60 12", "SEL:ADD 0-783", "BUMP 1"):
        assert (await sim.handle(line) or "").startswith("OK"), line
    await sim.clock.sleep(60)  # heated, bumping
    bumped = (await sim.handle("STAT?") or "").split("DONE=")[1].split()[0]
    injected_at = sim.clock.now()
    sim.inject_fault("wire_break")
    await sim.clock.sleep(30)  # nobody asks
    status = await sim.handle("STAT?") or ""
    assert "STATE=FAULT" in status
    assert f"DONE={bumped} " in status
    assert sim.twin.get("W1").history[-1].time_s == injected_at


async def test_injected_non_stick_is_nsop(loaded):
    sim, bonder = loaded
    sim.inject_fault("non_stick")
    with pytest.raises(ToolAlarm, match="NSOP"):
        await bounded(bonder.form_stud_bumps(PROGRAM))
    sim.clear_fault("non_stick")
    await bonder.reset()
    assert bonder.state is ToolState.IDLE


async def test_contaminated_pads_do_not_stick_and_the_bumps_done_stay(loaded, bench):
    sim, bonder = loaded
    wafer = bench.twin.get("W1")
    wafer.surface.residue_nm[300:] = 200.0  # heavy organic residue from site 300 on
    with pytest.raises(ToolAlarm, match=r"stopped after (\d+) of 784 sites.*NSOP"):
        await bounded(bonder.form_stud_bumps(PROGRAM))
    done = (await bonder.request_status()).bumps_done
    assert 300 <= done < 784
    assert np.array_equal(np.flatnonzero(wafer.has_bumps), np.arange(done))
    assert sim.alarms == ["NSOP"]
    assert await bonder.link.query("BUMP 1") == "ERR 9 alarm active: NSOP"
    await bonder.reset()  # NSOP is latched: the tool clears it
    assert bonder.state is ToolState.IDLE


async def test_running_out_of_wire_stops_and_reset_waits_for_a_new_spool(bench):
    sim, bonder = await bench.start(physics=BondPhysics(spool_length_m=0.05))
    await bonder.load("W1")
    with pytest.raises(ToolAlarm, match="OUT_OF_WIRE"):
        await bounded(bonder.form_stud_bumps(PROGRAM))
    done = (await bonder.request_status()).bumps_done
    assert done == int(0.05 / wire_per_stud_m(PROGRAM, sim.physics))
    assert (await bonder.request_interlocks())["wire_present"] is False
    with pytest.raises(ToolAlarm, match="reset: alarm OUT_OF_WIRE"):
        await bonder.reset()
    sim.load_spool()
    await bonder.reset()
    assert bonder.state is ToolState.IDLE


async def test_injected_out_of_wire_mid_run(loaded, bench):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    await bench.run_until(task, lambda: sim.run is not None and sim.run.done > 10)
    sim.inject_fault("out_of_wire")
    with pytest.raises(ToolAlarm, match="OUT_OF_WIRE"):
        await bounded(task)
    sim.clear_fault("out_of_wire")  # a new spool
    await bonder.reset()
    assert (await bonder.request_status()).wire_remaining_m == sim.physics.spool_length_m


@pytest.mark.parametrize(
    ("fault", "alarm"), [("cover_open", "COVER_OPENED"), ("vacuum_leak", "VACUUM_LOST")]
)
async def test_interlock_opening_mid_run_is_an_alarm_that_outlasts_reset(
    loaded, bench, fault, alarm
):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    await bench.run_until(task, lambda: sim.run is not None and sim.run.done > 10)
    sim.inject_fault(fault)
    with pytest.raises(ToolAlarm, match=alarm):
        await bounded(task)
    with pytest.raises(ToolAlarm, match=f"reset: alarm {alarm}"):
        await bonder.reset()
    sim.clear_fault(fault)
    await bonder.reset()
    assert bonder.state is ToolState.IDLE


# ------------------------------------------------------------------ interlocks, limits, refusals


@pytest.mark.parametrize(
    ("fault", "interlock"),
    [
        ("cover_open", "cover_closed"),
        ("vacuum_leak", "wafer_vacuum"),
        ("out_of_wire", "wire_present"),
    ],
)
async def test_open_interlock_refuses_bumping_with_nothing_sent(loaded, fault, interlock):
    sim, bonder = loaded
    sim.inject_fault(fault)
    with pytest.raises(InterlockOpen, match=f"interlock open: {interlock}"):
        await bonder.form_stud_bumps(PROGRAM)
    assert sim.received == ["ILK?;STAT?"]  # reads only
    assert bonder.state is ToolState.IDLE


async def test_no_wafer_means_no_vacuum(bench):
    _sim, bonder = await bench.start()
    with pytest.raises(InterlockOpen, match="wafer_vacuum"):
        await bonder.form_stud_bumps(PROGRAM)


async def test_open_cover_refuses_loading(bench):
    sim, bonder = await bench.start()
    sim.inject_fault("cover_open")
    with pytest.raises(InterlockOpen, match="cover_closed"):
        await bonder.load("W1")
    assert sim.wafer_id is None


async def test_tool_refuses_a_bump_past_an_open_interlock(loaded):
    sim, bonder = loaded
    assert await bonder.link.query("PROG AU 25.0 150.0 35.0 60.0 12.0") == "OK"
    assert await bonder.link.query("SEL:ALL") == "OK 784"
    sim.inject_fault("cover_open")
    assert await bonder.link.query("BUMP 1") == "ERR 5 interlock open: cover_closed"
    assert sim.run is None


async def test_out_of_limit_force_is_refused_with_nothing_sent(loaded):
    sim, bonder = loaded
    with pytest.raises(LimitViolation, match="bond_force_gf = 100 gf"):
        await bonder.form_stud_bumps(BondProgram(WireMaterial.AU, 25, 150, 100, 60, 12))
    assert sim.received == []
    assert bonder.state is ToolState.IDLE


async def test_the_tools_own_range_refusal_is_command_refused(bench):
    sim, bonder = await bench.start()
    force_limits(bonder, {"bond_force_gf": (1, 200)})
    await bonder.load("W1")
    with pytest.raises(
        CommandRefused,
        match=r"form stud bumps: bond_force_gf 100 gf outside 15-60 \(tool error 3\)",
    ) as refused:
        await bonder.form_stud_bumps(BondProgram(WireMaterial.AU, 25, 150, 100, 60, 12))
    assert refused.value.code == "3"
    assert sim.program is None
    assert sim.run is None
    assert bonder.state is ToolState.IDLE


async def test_tool_refuses_a_transfer_during_a_run_and_a_wrong_wafer(loaded, bench):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    await bench.run_until(task, lambda: sim.state is BonderState.BUMPING)
    assert await bonder.link.query("UNLOAD W1") == "ERR 4 not allowed while BUMPING"
    await bounded(task)
    with pytest.raises(CommandRefused, match=r"wafer on the chuck is W1, not W9 \(tool error 8\)"):
        await bonder.unload("W9")
    assert await bonder.link.query("HGT? 780 10") == "ERR 10 sites 780-789 not on the map (0-783)"
    # one site, as the page's example names it (it had read `sites 9000-9000`)
    assert await bonder.link.query("HGT? 9000 1") == "ERR 10 site 9000 not on the map (0-783)"
    assert await bonder.link.query("FLY") == "ERR 1 unknown command FLY"


# ------------------------------------------------------------------ abort, timeout, lost tool


async def test_cancelling_a_run_aborts_it_into_the_safe_state(loaded, bench):
    sim, bonder = loaded
    task = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    await bench.run_until(task, lambda: sim.run is not None and sim.run.done > 50)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert sim.received[-2:] == ["ABORT", "STAT?"]  # the safe state, then its confirmation
    assert sim.state is BonderState.IDLE
    assert sim.last_result is RunResult.ABORTED
    assert bonder.state is ToolState.IDLE
    wafer = bench.twin.get("W1")
    assert wafer.history[-1].detail["result"] == "aborted"
    assert 50 < int(wafer.has_bumps.sum()) < 784


async def test_abort_stops_at_once_as_the_page_says(bench):
    """The page and the tool agree: ABORT stops the run at once; the site in progress gets
    none of its studs and DONE keeps the sites finished before it."""
    sim = SimWireBonder("bonder", bench.twin, bench.clock)
    for line in ("LOAD W1", "PROG AU 25.0 150.0 35.0 60.0 12.0", "SEL:ALL", "BUMP 2"):
        assert (await sim.handle(line)).startswith("OK"), line
    run = sim.run
    assert run is not None
    await bench.clock.sleep(run.bonding_from_s + 10.5 * run.site_s)  # half way through site 10
    assert await sim.handle("ABORT") == "OK"
    status = (await sim.handle("STAT?")).split()
    assert {"STATE=IDLE", "DONE=10", "LAST=ABORTED"} <= set(status)
    stacks = bench.twin.get("W1").bumps.stack
    assert stacks[:10].tolist() == [2] * 10
    assert int(stacks[10:].sum()) == 0
    await bench.clock.sleep(60)
    assert "DONE=10" in (await sim.handle("STAT?")).split()


async def test_a_run_over_its_time_is_aborted_and_times_out(loaded):
    sim, bonder = loaded
    with pytest.raises(ToolTimeout, match=r"after 60 s; aborted"):
        await bounded(bonder.form_stud_bumps(PROGRAM, timeout_s=60))
    assert sim.state is BonderState.IDLE
    assert sim.last_result is RunResult.ABORTED
    assert bonder.state is ToolState.IDLE


async def test_close_is_offline(bench):
    _, bonder = await bench.start()
    assert bonder.e10_state is E10State.STANDBY
    await bonder.close()
    assert bonder.e10_state is E10State.NON_SCHEDULED


async def test_visa_asrl_reaches_the_pty_bonder(bench):
    sim, bonder = await bench.start(transport="pty-visa")
    assert isinstance(bonder.link, VisaLink)
    assert sim.address.startswith("ASRL/dev/pts/")
    await bonder.load("W1")
    result = await bounded(bonder.form_stud_bumps(PROGRAM, sites=range(20), stack_count=2))
    assert result.bumps_formed == 20


# ------------------------------------------------------------------ physics, pure


def test_stud_geometry_follows_the_process_window():
    rng = np.random.default_rng(1)
    bare = np.zeros(5000, np.float32)
    single, base = form_studs(bare, bare, PROGRAM, 1, rng)
    double, _ = form_studs(bare, bare, PROGRAM, 2, rng)
    assert single.min() >= 30
    assert single.max() <= 60
    assert abs(base.mean() - 104) < 1  # collar on 25 µm Au
    assert 20 <= double.mean() - single.mean() <= 35
    assert single.std() / single.mean() < 0.03  # a small spread
    harder, _ = form_studs(bare, bare, BondProgram(WireMaterial.AU, 25, 150, 60, 60, 12), 1, rng)
    assert harder.mean() < single.mean()  # more force flattens the stud
    on_top, kept = form_studs(single, base, PROGRAM, 1, rng)
    assert np.all(on_top > single + 20)
    assert np.array_equal(kept, base)


def test_studs_stand_within_the_heights_the_line_law_gives():
    """What validate reads of the law (`stud_heights_um`) bounds every stud the simulated
    bonder forms, on bare pads and stacked on bumps, and the bounds are reached within a
    micrometre: a recipe's height is judged by what the bonder does."""
    rng = np.random.default_rng(2)
    bare = np.zeros(20_000, np.float32)
    double, base = form_studs(bare, bare, PROGRAM, 2, rng)
    low, high = stud_heights_um(PROGRAM, 2)
    assert low - 0.01 <= double.min()
    assert double.max() <= high + 0.01
    assert double.min() < low + 1
    assert double.max() > high - 1
    on_top, _ = form_studs(double, base, PROGRAM, 1, rng)
    low, high = stud_heights_um(PROGRAM, 1, (low, high))
    assert low - 0.01 <= on_top.min()
    assert on_top.max() <= high + 0.01


def test_non_stick_rises_with_contamination_low_energy_and_a_cold_stage():
    physics = BondPhysics()
    incoming = non_stick_probability(np.array([4.0]), np.array([3.0]), PROGRAM, physics)
    assert incoming[0] < 1e-9
    dirty = non_stick_probability(np.array([200.0]), np.array([10.0]), PROGRAM, physics)
    assert dirty[0] > 0.9
    weak = BondProgram(WireMaterial.AU, 25, 150, 35, 20, 5)
    assert non_stick_probability(np.array([4.0]), np.array([3.0]), weak, physics)[0] > 0.5
    pad = np.array([4.0]), np.array([3.0])
    warm = non_stick_probability(*pad, BondProgram(WireMaterial.AU, 25, 200, 35, 40, 10), physics)
    cold = non_stick_probability(*pad, BondProgram(WireMaterial.AU, 25, 100, 35, 40, 10), physics)
    assert cold[0] > 100 * warm[0]


def test_wire_consumption_and_tip_oxide():
    physics = BondPhysics()
    assert 1.2e-4 < wire_per_stud_m(PROGRAM, physics) < 1.6e-4  # 2x ball + tail on 25 µm wire
    assert stud_tip_oxide_nm(WireMaterial.AU, 150) == 0
    assert stud_tip_oxide_nm(WireMaterial.CU, 150) > 0


def test_planning_and_bonding_a_60000_site_wafer():  # its cost: bench/twin.py
    twin = TwinStore(WaferSpec(diameter_mm=300, pads_per_die_side=25))
    wafer = twin.get("W300")
    assert wafer.geometry.site_count >= 60_000
    sites = np.arange(wafer.geometry.site_count)
    rng, physics = np.random.default_rng(0), BondPhysics()
    plan = plan_bumps(wafer, sites, PROGRAM, 2, physics, rng)
    bond_studs(wafer, plan.sites, plan.height_um, plan.base_um, 2, PROGRAM, physics)
    assert (wafer.bumps.stack[plan.sites] == 2).all()
    assert plan.non_stick_at == wafer.geometry.site_count
