"""Hardware in the loop: the dicing saw driver against the simulated saw on the wire."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import numpy as np
import pytest

from packline.clock import VirtualClock
from packline.drivers.dicing_saw import AsciiDicingSaw
from packline.drivers.equipment import HOLD_S, E10State, Reading, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
)
from packline.drivers.links import ReconnectPolicy
from packline.drivers.roles.dicing_saw import CutOutcome, DicingRecipe, SawState, StreetMap
from packline.sequences.conditions import singulated_into_dies
from packline.sim_instruments.dicing_saw import SimDicingSaw
from packline.sim_instruments.physics.dicing_saw import SawPhysics, singulated_units, street_lines
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, WaferSpec
from packline.testing import force_limits, open_rig, run_until

RECIPE = DicingRecipe(spindle_krpm=30, feed_mm_s=30)


@asynccontextmanager
async def saw_on_line(
    transport: str = "socket",
    **sim_options: object,
) -> AsyncIterator[tuple[SimDicingSaw, AsciiDicingSaw]]:
    """A simulated saw served on `transport` and the driver connected to it, on one clock."""
    sim = SimDicingSaw("saw", TwinStore(), VirtualClock(), transport=transport, **sim_options)  # type: ignore[arg-type]
    rig = await open_rig(
        sim,
        AsciiDicingSaw,
        poll_interval_s=2.0,
        timeout_s=1.0,
        reconnect=ReconnectPolicy(1, 0.05),
    )
    try:
        async with asyncio.timeout(20):
            yield sim, rig.driver
    finally:
        await rig.close()


def when_lines_done(saw: AsciiDicingSaw, lines: int, action: Callable[[], None]) -> None:
    """Run `action` once, as soon as the driver has seen `lines` lines cut."""
    fired = False

    def listener(reading: Reading) -> None:
        nonlocal fired
        if reading.name == "lines_done" and reading.value >= lines and not fired:
            fired = True
            action()

    saw.add_reading_listener(listener)


# ------------------------------------------------------------------ dicing and its physics


@pytest.mark.parametrize("transport", ["socket", "pty"])
async def test_dicing_along_the_die_grid_singulates_every_die(transport):
    async with saw_on_line(transport) as (sim, saw):
        assert saw.address.startswith("socket://" if transport == "socket" else "/dev/pts/")
        mounted = await saw.mount("W1")
        assert (mounted.die_width_mm, mounted.die_height_mm) == (10.0, 10.0)
        result = await saw.dice(RECIPE)
        wafer = sim.twin.get("W1")
    assert result.outcome is CutOutcome.COMPLETED
    assert wafer.singulation.units == wafer.geometry.unit_count == result.singulated_units > 200
    assert 18 <= wafer.singulation.kerf_width_um == result.kerf_width_um <= 28  # a 20 um blade
    assert wafer.singulation.cut_depth_um > 0
    assert len(wafer.singulation.kerfs_x_mm) == len(wafer.singulation.kerfs_y_mm) == 20
    event = wafer.history[-1]
    assert (event.tool, event.operation, event.detail["outcome"]) == ("saw", "dice", "completed")
    assert event.detail["singulated_units"] == wafer.geometry.unit_count
    # simulated process time: 40 lines of ~160 mm at 30 mm/s
    assert 200 < result.process_time_s < 300


async def test_the_held_wait_is_answered_as_the_last_line_or_the_breaking_one_ends():
    """Holding the driver's wait, the saw looks at itself when the line that ends the cut is
    done (the last, or the one that breaks a worn blade): the driver sees it as it happens."""
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        await saw.dice(RECIPE)
        assert sim.cut is not None
        assert sim.clock.now() == pytest.approx(sim.cut.started_s + sim.cut.end_s[-1], abs=1e-6)
    async with saw_on_line() as (sim, saw):
        await saw.set_dressing_interval(1500)  # breaks after 4500 mm, within one wafer
        await saw.mount("W1")
        with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
            await saw.dice(RECIPE)
        cut = sim.cut
        assert cut is not None
        assert 0 < cut.done < cut.total
        assert sim.clock.now() == pytest.approx(cut.started_s + cut.end_s[cut.done], abs=1e-6)


async def test_a_thick_blade_cuts_a_wider_kerf_and_a_panel_with_its_resin():
    async with saw_on_line() as (sim, saw):
        panel = sim.twin.receive(
            "P1", WaferSpec(diameter_mm=100, thickness_um=400, die_size_mm=(6.0, 4.0))
        )
        panel.add_resin(ResinKind.THERMOSET, 150.0)
        await saw.install_blade(40)
        mounted = await saw.mount("P1")
        assert mounted.stack_um == 550.0
        result = await saw.dice(DicingRecipe(25, 20, StreetMap(depth_into_tape_um=35)))
    assert 32 <= result.kerf_width_um <= 52
    assert panel.singulation.units == panel.geometry.unit_count
    assert np.allclose(np.diff(sorted(panel.singulation.kerfs_y_mm)), 4.0)
    assert np.allclose(np.diff(sorted(panel.singulation.kerfs_x_mm)), 6.0)


@pytest.mark.parametrize(("offset_mm", "units"), [(0.0, 100), (6.0, 0)])
async def test_a_tape_panel_is_cut_straight_across_into_its_package_units(offset_mm, units):
    # 000:g: a panel of 5 x 20 units of 12 mm in a 5 mm margin (250 x 70 mm), its dies bonded
    # and sealed (a 0.3 mm resin), cut at the unit pitch; half a pitch off, it cuts none free.
    singulated = singulated_into_dies("000:g")
    async with saw_on_line() as (sim, saw):
        panel = sim.twin.receive("P1", PanelSpec())
        panel.add_resin(ResinKind.THERMOSET, 300.0)
        mounted = await saw.mount("P1")
        recipe = DicingRecipe(30, 30, StreetMap(ch1_offset_mm=offset_mm, ch2_offset_mm=offset_mm))
        result = await saw.dice(recipe)
    assert (mounted.die_width_mm, mounted.die_height_mm) == (12.0, 12.0)
    assert mounted.stack_um == 75.0 + 20.0 + 300.0  # tape, its solder resist, the seal
    # 6 lines along X at y = -30 ... 30 mm, 21 along Y at x = -120 ... 120 mm (or, half a pitch
    # off, 5 and 20 between them), each straight across the panel
    lines = (6, 21) if offset_mm == 0 else (5, 20)
    assert result.lines_total == sum(lines)
    assert result.cut_length_mm == pytest.approx(lines[0] * 250 + lines[1] * 70)
    line_s = lines[0] * ((250 + 4) / 30 + 0.5) + lines[1] * ((70 + 4) / 30 + 0.5)
    assert result.process_time_s == pytest.approx(line_s + 3.0, abs=0.2)
    assert result.singulated_units == panel.singulation.units == units
    checked, passing = singulated.sites(panel)
    assert (checked, passing) == (1, 1 if units else 0)


async def test_a_street_map_off_the_die_grid_singulates_none():
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        await saw.dice(DicingRecipe(30, 30, StreetMap(ch1_offset_mm=5.0, ch2_offset_mm=5.0)))
        assert sim.twin.get("W1").singulation.units == 0


async def test_a_cut_short_of_the_tape_singulates_none_and_raises_the_cut_depth_alarm():
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        sim.inject_fault("height_setup")
        with pytest.raises(ToolAlarm, match="CUT_DEPTH"):
            await saw.dice(RECIPE)
        wafer = sim.twin.get("W1")
        assert wafer.singulation.units == 0
        assert wafer.singulation.cut_depth_um < 0
        assert wafer.singulation.kerfs_x_mm == wafer.singulation.kerfs_y_mm == []
        assert wafer.history[-1].detail["outcome"] == "faulted"
        assert saw.state is ToolState.FAULT
        sim.clear_fault("height_setup")
        await saw.reset()
        assert saw.state is ToolState.IDLE
        result = await saw.dice(RECIPE)
        assert result.singulated_units == wafer.geometry.unit_count


async def test_radial_wear_since_the_setup_lifts_the_cut_off_the_tape():
    physics = SawPhysics(radial_wear_um_per_m=10.0)  # a blade that wears 20x too fast
    async with saw_on_line(physics=physics) as (sim, saw):
        await saw.mount("W1")
        with pytest.raises(ToolAlarm, match="CUT_DEPTH"):
            await saw.dice(RECIPE)
        last = await saw.request_last_cut()
    wafer = sim.twin.get("W1")
    assert last is not None
    assert last.outcome is CutOutcome.FAULTED
    assert 0 < last.lines_cut < last.lines_total
    assert wafer.singulation.units < wafer.geometry.unit_count


async def test_chipping_grows_with_feed_and_with_wear_and_dressing_resets_the_wear():
    async with saw_on_line() as (sim, saw):
        await saw.set_dressing_interval(10_000)
        chipping = {}
        for wafer_id, feed in [("SLOW", 10), ("FAST", 80), ("WORN", 80)]:
            if wafer_id == "FAST":
                await saw.dress_blade()
            await saw.mount(wafer_id)
            result = await saw.dice(DicingRecipe(30, feed))
            await saw.unmount()
            chipping[wafer_id] = (result.chipping_front_um, result.chipping_back_um)
        worn = await saw.request_blade()
        assert worn.wear_ratio > 1
        dressed = await saw.dress_blade()
        await saw.mount("DRESSED")
        again = await saw.dice(DicingRecipe(30, 80))
    assert chipping["SLOW"][0] < chipping["FAST"][0] < chipping["WORN"][0]
    assert chipping["SLOW"][1] < chipping["FAST"][1] < chipping["WORN"][1]
    assert chipping["WORN"][0] > 1.2 * chipping["FAST"][0]
    assert dressed.cut_since_dressing_mm == 0
    assert dressed.wear_ratio == 0
    assert dressed.radial_wear_um > 0
    assert again.chipping_front_um == pytest.approx(chipping["FAST"][0], abs=0.05)
    assert sim.twin.get("WORN").singulation.chipping_um == pytest.approx(
        chipping["WORN"][0], abs=0.05
    )


async def test_a_blade_worn_far_past_its_interval_breaks():
    async with saw_on_line() as (sim, saw):
        await saw.set_dressing_interval(1500)  # breaks after 4500 mm, within one wafer
        await saw.mount("W1")
        with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
            await saw.dice(RECIPE)
        assert (await saw.request_blade()).broken
        await saw.reset()
        with pytest.raises(ToolStateError, match=r"dice: blade is broken; install a new blade$"):
            await saw.dice(RECIPE)  # read before anything is sent, as the saw's ERR 8 says
        await saw.stop_spindle()  # a blade is changed with the spindle at rest
        await saw.install_blade(20)
        await saw.set_dressing_interval(20_000)
        await saw.unmount()
        await saw.mount("W2")
        assert (await saw.dice(RECIPE)).singulated_units == sim.twin.get("W2").geometry.unit_count


# ------------------------------------------------------------------ alarms, interlocks, limits


@pytest.mark.parametrize(
    ("fault", "alarm"),
    [
        ("blade_crack", "BLADE_BROKEN"),
        ("cover_open", "COVER_OPENED"),
        ("water_loss", "WATER_FLOW"),
        ("air_loss", "SPINDLE_AIR"),
        ("vacuum_loss", "VACUUM_LOST"),
    ],
)
async def test_each_alarm_mid_cut_and_its_reset(fault, alarm):
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        cut = asyncio.create_task(saw.dice(RECIPE))
        # three lines cut by the saw's clock: the driver, its held wait not yet answered
        # (nothing changed), may not have read them
        await run_until(cut, lambda: sim.cut is not None and sim.cut.done >= 3, sim, timeout_s=10)
        sim.inject_fault(fault)
        with pytest.raises(ToolAlarm, match=alarm):
            await cut
        assert saw.state is ToolState.FAULT
        assert saw.e10_state is E10State.UNSCHEDULED_DOWNTIME
        assert list(saw.active_alarms) == [alarm]
        status = await saw.request_status()
        assert status.spindle_set_krpm == 0
        assert 3 <= status.lines_done < status.lines_total
        wafer = sim.twin.get("W1")
        assert 0 < len(wafer.singulation.kerfs_y_mm) < 20
        assert wafer.singulation.units == 0
        sim.clear_fault(fault)
        await saw.reset()
        if fault == "blade_crack":  # a broken blade stays broken: change it, spindle at rest
            await saw.stop_spindle()
            await saw.install_blade(20)
        assert saw.state is ToolState.IDLE
        assert not saw.active_alarms
        assert [a.code for a in saw.alarm_history] == [alarm]
        result = await saw.dice(RECIPE)  # the cut lines again: every die is free
    assert result.singulated_units == wafer.geometry.unit_count


async def test_the_cover_opened_while_the_spindle_turns_stops_it_with_an_alarm():
    """A tester opened the cover of an idle saw whose spindle turned at 30,000 rpm: `ILK?`
    said `COVER=0`, `ALM?` `NONE`, and the blade went on turning. A turning blade is motion:
    the saw stops it and raises COVER_OPENED, as it does in a cut."""
    async with saw_on_line() as (sim, saw):
        await saw.start_spindle(30)
        sim.inject_fault("cover_open")
        status = await saw.request_status()
        assert (status.state, status.spindle_set_krpm) == (SawState.FAULT, 0)
        assert await sim.handle("ALM?") == "OK COVER_OPENED"


async def test_a_reset_with_the_cause_still_there_leaves_the_interlock_open():
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        when_lines_done(saw, 1, lambda: sim.inject_fault("cover_open"))
        with pytest.raises(ToolAlarm, match="COVER_OPENED"):
            await saw.dice(RECIPE)
        await saw.reset()
        assert saw.state is ToolState.IDLE
        with pytest.raises(InterlockOpen, match="cover_closed"):
            await saw.dice(RECIPE)


@pytest.mark.parametrize(
    ("fault", "interlock"),
    [
        ("cover_open", "cover_closed"),
        ("water_loss", "cutting_water"),
        ("air_loss", "spindle_air"),
        ("vacuum_loss", "chuck_vacuum"),
    ],
)
async def test_each_interlock_keeps_the_cut_from_starting(fault, interlock):
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        sim.inject_fault(fault)
        assert (await saw.request_interlocks())[interlock] is False
        sim.received.clear()
        with pytest.raises(InterlockOpen, match=f"dice: interlock open: {interlock}"):
            await saw.dice(RECIPE)
        assert sim.received == ["WORK?", "BLADE?;ILK?;STAT?"]
        assert saw.state is ToolState.IDLE
        # the saw refuses on its own too, sent past the driver
        assert (await saw.link.query("CUT")).startswith("ERR 4 interlock open")


async def test_spindle_interlock_and_dressing_interlock():
    async with saw_on_line() as (sim, saw):
        sim.inject_fault("air_loss")
        with pytest.raises(InterlockOpen, match="start spindle: interlock open: spindle_air"):
            await saw.start_spindle(30)
        sim.clear_fault("air_loss")
        await saw.start_spindle(30)
        sim.inject_fault("water_loss")
        with pytest.raises(InterlockOpen, match="dress blade: interlock open: cutting_water"):
            await saw.dress_blade()


@pytest.mark.parametrize(
    "recipe",
    [
        DicingRecipe(65, 30),
        DicingRecipe(30, 120),
        DicingRecipe(30, 30, StreetMap(depth_into_tape_um=60)),
        DicingRecipe(30, 30, StreetMap(ch2_pitch_mm=0.05)),
    ],
)
async def test_out_of_limit_setpoints_reach_no_tool(recipe):
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        sim.received.clear()
        with pytest.raises(LimitViolation):
            await saw.dice(recipe)
        with pytest.raises(LimitViolation):
            await saw.start_spindle(61)
        assert sim.received == []
        assert saw.state is ToolState.IDLE


async def test_the_saws_own_range_check_becomes_command_refused():
    async with saw_on_line() as (sim, saw):
        force_limits(saw, {"spindle_krpm": (20, 80), "depth_into_tape_um": (10, 90)})
        with pytest.raises(CommandRefused, match=r"start spindle: spindle speed 75000 rpm outside "
                           r"20000-60000 rpm \(tool error 3\)"):  # fmt: skip
            await saw.start_spindle(75)
        await saw.mount("W1")
        with pytest.raises(CommandRefused, match=r"dice: depth 80 um outside \(0, 70\] um"):
            await saw.dice(DicingRecipe(30, 30, StreetMap(depth_into_tape_um=80)))
        assert saw.state is ToolState.IDLE
        assert "CUT" not in sim.received
        assert await saw.link.query("FEED 500") == "ERR 3 feed 500 mm/s outside 1-300 mm/s"
        assert await saw.link.query("MOUNT W2") == "ERR 5 W1 is mounted; UNMOUNT first"
        assert (await saw.link.query("JUMP")).startswith("ERR 1 unknown command")


async def test_dressing_needs_the_spindle_at_speed():
    """The driver judges it as the saw would, in the saw's words, and sends no `DRESS`; the
    saw refuses it on its own too, sent past the driver."""
    async with saw_on_line() as (sim, saw):
        with pytest.raises(ToolStateError, match=r"dress blade: spindle is not at speed$"):
            await saw.dress_blade()
        assert saw.state is ToolState.IDLE
        assert "DRESS" not in sim.received
        assert await saw.link.query("DRESS") == "ERR 5 spindle is not at speed"


async def test_a_broken_blade_is_named_before_an_open_interlock():
    """With the blade broken and an interlock the command needs open, the saw refuses a cut,
    a dressing and a spindle start naming the blade (`ERR 8`), which it judges before the
    interlocks (conventions.md, error precedence), and the driver refuses `dice` (the cutting
    water off), `dress_blade` and `start_spindle` (the cover open) so on the line it reads
    before sending anything: `dice` before any setting."""
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        sim.inject_fault("blade_crack")
        with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
            await saw.dice(RECIPE)
        await saw.reset()
        await saw.stop_spindle()
        sim.inject_fault("water_loss")
        assert (await saw.request_interlocks())["cutting_water"] is False
        sim.received.clear()
        broken = "blade is broken; install a new blade"
        with pytest.raises(ToolStateError, match=f"dice: {broken}$"):
            await saw.dice(RECIPE)
        assert sim.received == ["WORK?", "BLADE?;ILK?;STAT?"]  # no setting, no spindle
        assert await saw.link.query("CUT") == f"ERR 8 {broken}"
        sim.clear_fault("water_loss")
        await saw.unmount()
        sim.inject_fault("cover_open")
        sim.received.clear()
        with pytest.raises(ToolStateError, match=f"dress blade: {broken}$"):
            await saw.dress_blade()
        with pytest.raises(ToolStateError, match=f"start spindle: {broken}$"):
            await saw.start_spindle(30)
        assert sim.received == ["BLADE?;ILK?;STAT?"] * 2  # one line each, nothing sent after
        for command in ("DRESS", "SPINDLE 30000"):
            assert await saw.link.query(command) == f"ERR 8 {broken}"


# ------------------------------------------------------------------ states, traces, abort, loss


async def test_states_and_traces_during_a_cut():
    async with saw_on_line() as (_, saw):
        seen: list[tuple[ToolState, E10State]] = []
        saw.add_reading_listener(lambda r: seen.append((saw.state, saw.e10_state)))
        await saw.mount("W1")
        await saw.dice(RECIPE)
        assert saw.state is ToolState.IDLE
        assert saw.e10_state is E10State.STANDBY
        await saw.stop_spindle()
        await saw.start_maintenance()
        assert saw.e10_state is E10State.SCHEDULED_DOWNTIME
        await saw.install_blade(30)
        await saw.end_maintenance()
    assert (ToolState.BUSY, E10State.PRODUCTIVE) in seen
    progress = [r.value for r in saw.readings if r.name == "progress"]
    assert progress[-1] == 100.0
    assert progress == sorted(progress)
    times = [r.time_s for r in saw.readings if r.name == "progress"]
    assert times[-1] - times[0] > 200  # simulated seconds
    # the saw holds each status reply at most HOLD_S: progress is recorded at least that often
    assert max(later - earlier for earlier, later in itertools.pairwise(times)) <= HOLD_S
    names = {r.name for r in saw.readings}
    assert {
        "spindle_speed",
        "lines_done",
        "kerf_width",
        "chipping_front",
        "singulated_units",
    } <= names


async def test_abort_mid_cut_leaves_the_safe_state():
    async with saw_on_line() as (sim, saw):
        await saw.mount("W1")
        started = asyncio.Event()
        when_lines_done(saw, 2, started.set)
        cut = asyncio.create_task(saw.dice(RECIPE))
        await started.wait()
        cut.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cut
        assert saw.state is ToolState.IDLE
        assert "STOP" in sim.received
        status = await saw.request_status()
        last = await saw.request_last_cut()
    assert status.spindle_set_krpm == 0
    assert status.state.value == "IDLE"
    assert last is not None
    assert last.outcome is CutOutcome.STOPPED
    assert sim.twin.get("W1").history[-1].detail["outcome"] == "stopped"


# ------------------------------------------------------------------ the pure physics


def test_street_lines_cover_the_workpiece_only():
    positions, chords = street_lines(-100.0, 10.0, 0.0, 100.0)
    assert positions.tolist() == [float(p) for p in range(-90, 100, 10)]
    assert np.allclose(chords, 2 * np.sqrt(100.0**2 - positions**2))


def test_singulation_of_a_large_wafer_counts_every_die():  # its speed: bench/twin.py
    spec = WaferSpec(diameter_mm=300, die_size_mm=(1.0, 1.0))
    wafer = TwinStore(spec).get("BIG")
    x0, y0 = wafer.geometry.unit_origin_mm[0]
    xs, _ = street_lines(float(x0), 1.0, 0.0, 150.0)
    ys, _ = street_lines(float(y0), 1.0, 0.0, 150.0)
    units = singulated_units(wafer.geometry.unit_origin_mm, spec.die_size_mm, xs, ys, 23.0)
    assert units == wafer.geometry.unit_count > 60_000
    missing_one_line = np.delete(ys, ys.size // 2)
    fewer = singulated_units(
        wafer.geometry.unit_origin_mm, spec.die_size_mm, xs, missing_one_line, 23.0
    )
    assert 0 < wafer.geometry.unit_count - fewer <= 2 * 300
