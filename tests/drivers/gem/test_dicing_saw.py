"""The GEM dicing saw driver against the simulated GEM saw: the role's sequences over E30."""

from __future__ import annotations

import math

import pytest

from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    WorkpieceHeld,
)
from packline.drivers.roles.dicing_saw import CutOutcome, DicingRecipe, SawState, StreetMap

RECIPE = DicingRecipe(spindle_krpm=30, feed_mm_s=30)


async def test_identity_and_the_workpiece_mounted(saw_bench) -> None:
    saw = await saw_bench.driver()
    assert str(saw.identity) == "packline DS-2 s/n DS-2-0001 fw 1.0"
    assert await saw.request_e10_state() is E10State.STANDBY  # no E10 SV: the driver's own
    assert await saw.request_workpiece() is None
    with pytest.raises(ToolStateError, match=r"unmount: no workpiece is mounted$"):
        await saw.unmount()
    assert "S2F41 UNMOUNT" not in saw_bench.equipment.received
    mounted = await saw.mount("W1")
    assert (mounted.workpiece_id, mounted.die_width_mm, mounted.die_height_mm) == ("W1", 10, 10)
    with pytest.raises(
        WorkpieceHeld,
        match=r"mount W2: the tool already holds W1: unload it, or have it taken off and the "
        r"tool cleared, before loading another \(W1 is mounted; UNMOUNT first\)$",
    ) as held:
        await saw.mount("W2")  # the ASCII saw's words, where the tool's HCACK 2 says no why
    assert held.value.workpieces == ("W1",)
    assert isinstance(held.value.__cause__, CommandRefused)
    assert held.value.__cause__.code == "HCACK 2"
    assert (await saw.request_workpiece()).workpiece_id == "W1"  # the refusal changed nothing


async def test_a_wafer_is_diced_and_each_wait_ends_on_its_event(saw_bench) -> None:
    saw = await saw_bench.driver()
    assert await saw.request_last_cut() is None  # no cut yet: the saw's result variables empty
    await saw.mount("W1")
    heard = saw_bench.heard_at_events()
    result = await saw.dice(RECIPE)
    wafer = saw_bench.twin.get("W1")
    assert result.outcome is CutOutcome.COMPLETED
    assert wafer.singulation.units == wafer.geometry.unit_count == result.singulated_units > 200
    assert 200 < result.process_time_s < 300  # 40 lines of ~160 mm at 30 mm/s
    assert result == await saw.request_last_cut()
    status = await saw.request_status()
    assert (status.state, status.spindle_krpm, status.cuts_completed) == (SawState.IDLE, 30, 1)
    assert heard["spindle_settled"][-1] == "S2F41 SPINDLE"  # no polling while it ramped
    assert heard["cut_ended"][-1] == "S2F41 CUT"  # nor while it cut
    blade = await saw.dress_blade()
    assert blade.cut_since_dressing_mm == 0
    await saw.set_dressing_interval(5000)
    assert (await saw.request_blade()).dressing_interval_mm == 5000
    await saw.stop_spindle()
    assert (await saw.request_status()).spindle_krpm == 0
    await saw.install_blade(30)
    assert (await saw.request_blade()).thickness_um == 30


async def test_off_grid_streets_and_limits(saw_bench) -> None:
    saw = await saw_bench.driver()
    await saw.mount("W1")
    with pytest.raises(LimitViolation, match="feed_mm_s"):
        await saw.dice(DicingRecipe(30, 500))
    result = await saw.dice(DicingRecipe(30, 30, StreetMap(ch1_offset_mm=5.0, ch2_offset_mm=5.0)))
    assert result.singulated_units == 0


async def test_values_past_a_bound_by_rounding_reach_the_saw_as_the_bound(saw_bench) -> None:
    """A value a unit conversion left an ulp past a bound is taken, and the saw is sent the
    bound itself (`Limit.held`), never the value past it."""
    saw = await saw_bench.driver()
    received = saw_bench.values_received()
    await saw.set_dressing_interval(math.nextafter(500_000, math.inf))
    await saw.install_blade(math.nextafter(15, -math.inf))
    await saw.start_spindle(math.nextafter(60, math.inf))
    assert received == {"dressing_interval_mm": 500_000, "thickness_um": 15, "speed_krpm": 60}
    await saw.stop_spindle()
    await saw.mount("W1")
    streets = StreetMap(
        ch1_pitch_mm=math.nextafter(100, math.inf), depth_into_tape_um=math.nextafter(50, math.inf)
    )
    recipe = DicingRecipe(
        math.nextafter(20, -math.inf), math.nextafter(100, math.inf), streets=streets
    )
    assert (await saw.dice(recipe)).outcome is CutOutcome.COMPLETED
    sent = {name: received[name] for name in ("feed_mm_s", "depth_into_tape_um", "ch1_pitch_mm")}
    assert sent == {"feed_mm_s": 100, "depth_into_tape_um": 50, "ch1_pitch_mm": 100}
    assert received["speed_krpm"] == 20


async def test_interlocks_are_checked_before_the_cut(saw_bench) -> None:
    saw = await saw_bench.driver()
    await saw.mount("W1")
    saw_bench.model.tool.inject_fault("water_loss")
    with pytest.raises(InterlockOpen, match="cutting_water"):
        await saw.dice(RECIPE)
    assert "S2F41 CUT" not in saw_bench.equipment.received


async def test_a_broken_blade_is_pushed_as_an_alarm_and_ends_the_cut(saw_bench) -> None:
    saw = await saw_bench.driver()
    await saw.mount("W1")
    saw_bench.model.tool.inject_fault("blade_crack")
    with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
        await saw.dice(RECIPE)
    assert saw.state is ToolState.FAULT
    assert (await saw.request_blade()).broken
    await saw.reset()
    with pytest.raises(
        ToolStateError, match=r"install blade: spindle is turning; SPINDLE OFF first$"
    ):
        await saw.install_blade(20)  # a blade is changed with the spindle at rest
    assert "S2F41 BLADE" not in saw_bench.equipment.received
    await saw.stop_spindle()
    await saw.install_blade(20)
    await saw.unmount()
    await saw.mount("W2")
    assert (await saw.dice(RECIPE)).outcome is CutOutcome.COMPLETED


async def test_what_a_cut_of_no_line_and_a_stopped_blade_did_not_measure_reads_none(
    saw_bench,
) -> None:
    """Over the GEM face as over the host link (`KERF=-`, `DEPTH=-`), a cut that cut no line
    has no kerf nor depth and the blade with the spindle stopped no kerf: their status
    variables are F8 items of no element, read as None, never a 0 read as a measurement."""
    saw = await saw_bench.driver()
    assert (await saw.request_blade()).kerf_um is None
    await saw.mount("W1")
    saw_bench.model.tool.inject_fault("blade_crack")
    with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
        await saw.dice(RECIPE)
    last = await saw.request_last_cut()
    assert last is not None
    assert (last.outcome, last.lines_cut) == (CutOutcome.FAULTED, 0)
    assert (last.kerf_width_um, last.cut_depth_into_tape_um) == (None, None)
    assert (await saw.request_blade()).kerf_um is None  # the alarm stopped the spindle
    await saw.reset()
    await saw.stop_spindle()
    await saw.install_blade(20)
    await saw.start_spindle(30)
    assert (await saw.request_blade()).kerf_um == 23.0


async def test_what_a_command_needs_of_the_blade_and_spindle_is_refused_in_the_saws_words(
    saw_bench,
) -> None:
    """A dressing with the spindle stopped or still ramping, and a dressing, a spindle start or
    a cut with the blade broken, are refused before their remote command is sent, in the words
    the ASCII saw refuses them with (`ERR 5 spindle is not at speed`, `ERR 8 blade is broken;
    install a new blade`), the blade first as the saw checks it, before an open interlock too
    (conventions.md, error precedence; the cover for the first two, the cutting water for the
    cut, which sets no constant either): over GEM the saw's own refusal, HCACK 2, would say
    only that it cannot perform now."""
    saw = await saw_bench.driver()
    with pytest.raises(ToolStateError, match=r"dress blade: spindle is not at speed$"):
        await saw.dress_blade()
    await saw.start_spindle(30)
    await saw.command("start_spindle", speed_krpm=40)  # set, not yet at speed
    with pytest.raises(ToolStateError, match=r"dress blade: spindle is not at speed$"):
        await saw.dress_blade()
    assert "S2F41 DRESS" not in saw_bench.equipment.received
    await saw.stop_spindle()
    await saw.mount("W1")
    saw_bench.model.tool.inject_fault("blade_crack")
    with pytest.raises(ToolAlarm, match="BLADE_BROKEN"):
        await saw.dice(RECIPE)
    await saw.reset()
    await saw.stop_spindle()
    saw_bench.model.tool.inject_fault("cover_open")
    sent = len(saw_bench.equipment.received)
    with pytest.raises(ToolStateError, match=r"dress blade: blade is broken; install a new blade$"):
        await saw.dress_blade()
    with pytest.raises(
        ToolStateError, match=r"start spindle: blade is broken; install a new blade$"
    ):
        await saw.start_spindle(30)
    assert not any(heard.startswith("S2F41") for heard in saw_bench.equipment.received[sent:])
    saw_bench.model.tool.clear_fault("cover_open")
    saw_bench.model.tool.inject_fault("water_loss")
    with pytest.raises(ToolStateError, match=r"dice: blade is broken; install a new blade$"):
        await saw.dice(RECIPE)
    assert not any(
        heard.startswith(("S2F15", "S2F41")) for heard in saw_bench.equipment.received[sent:]
    )
    saw_bench.model.tool.clear_fault("water_loss")
    await saw.install_blade(20)
    await saw.start_spindle(30)
    assert (await saw.dress_blade()).cut_since_dressing_mm == 0
