"""The GEM oven driver against the simulated GEM oven: the role over E30, its waits ended by
pushed events and alarms, its load and zones traced rather than polled, its profile run by the
oven's own sequencer to what the Modbus driver measures."""

from __future__ import annotations

import asyncio
import math

import pytest

from packline import testing
from packline.clock import ScaledClock, VirtualClock, WallClock
from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolTimeout,
)
from packline.drivers.gem.oven import MAX_SEGMENTS
from packline.drivers.links import ReconnectPolicy, open_link
from packline.drivers.oven import ModbusOven
from packline.drivers.registry import tool_kind
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.oven import (
    LastResult,
    OvenState,
    ProfileSegment,
    ThermalProfile,
    cure_profile,
    reflow_profile,
)
from packline.drivers.secs.items import F8, A
from packline.sim_instruments.oven import SimOven
from packline.sim_instruments.twin import TwinStore

from .conftest import GemBench

REFLOW = reflow_profile(soak_c=150, soak_s=60, peak_c=220, peak_hold_s=20, liquidus_c=183)
CURE = cure_profile(80, 30, ramp_c_per_min=60, cool_to_c=58, cool_c_per_min=60)
LOAD_TRACES = {"load_temperature": "degC", "o2": "ppm", "n2_flow": "slm"}


async def purged(oven, twin: TwinStore, *wafer_ids: str):
    """`oven` (a driver of either face) with `wafer_ids` received, loaded and purged."""
    await oven.open_door()
    for wafer_id in wafer_ids:
        twin.receive(wafer_id)
        await oven.load(wafer_id)
    await oven.close_door()
    await oven.purge(60.0, 100)
    return oven


async def inert(bench, *wafer_ids: str, poll_interval_s: float = 10.0):
    """The driver polling (tracing) every `poll_interval_s`, as the line's oven station, with
    `wafer_ids` received and loaded and the oven purged."""
    oven = await bench.driver()
    oven.poll_interval_s = poll_interval_s
    return await purged(oven, bench.twin, *wafer_ids)


async def test_identity_slots_zones_door_and_their_refusals(oven_bench) -> None:
    oven = await oven_bench.driver()
    assert str(oven.identity) == "packline BO-4 s/n BO-4-0001 fw 1.0"
    assert await oven.request_slots() == [None] * 8
    assert [zone.zone for zone in await oven.request_zones()] == [1, 2, 3, 4]
    assert await oven.request_zone_temperatures_c() == [AMBIENT_C] * 4
    oven_bench.twin.receive("W1")
    await oven.close_door()
    with pytest.raises(CommandRefused, match="HCACK 2: cannot perform now"):
        await oven.load("W1")  # through a closed door
    await oven.open_door()
    assert await oven.load("W1", slot=3) == 3
    with pytest.raises(ValueError, match="wafer W1 is already in slot 3"):
        await oven.load("W1")
    with pytest.raises(ValueError, match="slot 8 does not exist"):
        await oven.load("W2", slot=8)
    await oven.unload("W1")
    assert await oven.request_workpieces() == ()


async def test_a_purge_ends_on_its_event_and_traces_the_load_every_poll(oven_bench) -> None:
    oven = await oven_bench.driver()
    oven.poll_interval_s = 10.0
    await oven.close_door()
    heard = oven_bench.heard_at_events()
    started = oven_bench.clock.now()
    o2_ppm = await oven.purge(60.0, 100)
    assert o2_ppm <= 100
    assert heard["purged"][-1] == "S2F41 PURGE"  # no polling while it purged
    assert (await oven.request_status()).state is OvenState.INERT
    assert {(r.name, r.unit) for r in oven.readings} == set(LOAD_TRACES.items())
    o2 = [r for r in oven.readings if r.name == "o2"]
    assert [r.time_s - started for r in o2[:3]] == [0.0, 10.0, 20.0]
    assert o2[0].value > o2[1].value > o2[2].value


async def test_a_reflow_is_run_by_the_oven_and_measured_from_its_trace(oven_bench) -> None:
    oven = await inert(oven_bench, "W1", "W2")
    oven.zone_trace_interval_s = 60.0
    heard = oven_bench.heard_at_events()
    events: list[str] = []
    send_event = oven_bench.equipment.send_event

    async def spy(name: str) -> None:
        events.append(name)
        await send_event(name)

    oven_bench.equipment.send_event = spy  # type: ignore[method-assign]
    readings = len(oven.readings)
    started = oven_bench.clock.now()
    result = await oven.run_profile(REFLOW)
    assert heard["run_ended"][-1] == "S2F41 START"  # no polling while it ran
    assert events == ["segment_reached", "segment_held"] * 3 + ["run_ended"]
    assert result.wafer_ids == ("W1", "W2")
    assert 218 < result.peak_c < 221
    assert result.time_above_liquidus_s is not None
    assert result.time_above_liquidus_s > 60
    assert result.max_o2_ppm <= 100
    status = await oven.request_status()
    assert (status.state, status.runs_completed) == (OvenState.INERT, 1)
    assert await oven.request_values("read", "last_result") == ["completed"]
    assert [zone.working_setpoint_c for zone in await oven.request_zones()] == [60.0] * 4
    assert [event.operation for event in oven_bench.twin.get("W1").history] == ["oven run"]
    traced = list(oven.readings)[readings:]
    names = {r.name for r in traced}
    assert names == set(LOAD_TRACES) | {
        f"zone {n} {k}" for n in range(1, 5) for k in ("temperature", "output")
    }
    load = [r.time_s - started for r in traced if r.name == "load_temperature"]
    assert load == [pytest.approx(n * 10.0) for n in range(len(load))]
    zone = [r.time_s - started for r in traced if r.name == "zone 1 temperature"]
    assert zone == [pytest.approx(n * 60.0) for n in range(len(zone))]
    assert len(load) >= result.process_time_s / 10


async def test_gem_measures_the_reflow_within_a_poll_of_the_modbus_driver(oven_bench) -> None:
    """The same reflow on the Modbus oven (polled every 10 s) and on the GEM oven (traced every
    10 s): the same peak and time above liquidus within what a poll interval allows."""
    sim = SimOven("oven", TwinStore(), VirtualClock())
    rig = await testing.open_rig(
        sim, ModbusOven, timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0), poll_interval_s=10.0
    )
    try:
        polled = await (await purged(rig.driver, rig.twin, "W1")).run_profile(REFLOW)
    finally:
        await rig.close()
    gem = await inert(oven_bench, "W1")
    traced = await gem.run_profile(REFLOW)
    assert traced.peak_c == pytest.approx(polled.peak_c, abs=1.0)
    assert polled.time_above_liquidus_s is not None
    assert traced.time_above_liquidus_s is not None
    assert traced.time_above_liquidus_s == pytest.approx(polled.time_above_liquidus_s, abs=10.0)


async def test_a_bad_profile_is_refused_before_anything_is_sent(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    oven_bench.equipment.received.clear()
    too_hot = ThermalProfile((ProfileSegment(150, 60, 10), ProfileSegment(400, 60)))
    with pytest.raises(LimitViolation, match="run profile segment 2: temperature_c"):
        await oven.run_profile(too_hot)
    with pytest.raises(LimitViolation, match="run profile segment 1: ramp_rate_c_per_min"):
        await oven.run_profile(ThermalProfile((ProfileSegment(150, 500),)))
    with pytest.raises(ValueError, match="timeout_s must be a positive number"):
        await oven.run_profile(CURE, timeout_s=0)
    many = ThermalProfile(tuple(ProfileSegment(100 + n, 60) for n in range(MAX_SEGMENTS + 1)))
    with pytest.raises(ValueError, match=f"17 segments; the oven runs 1 to {MAX_SEGMENTS}"):
        await oven.run_profile(many)
    assert oven_bench.equipment.received == []
    assert oven.state is ToolState.IDLE


async def test_a_profile_past_a_bound_by_rounding_reaches_the_oven_as_the_bound(
    oven_bench,
) -> None:
    """A segment's target or rate a unit conversion left an ulp past its bound is taken, and
    the oven is sent the bound itself (`Limit.held`), never the value past it."""
    oven = await inert(oven_bench, "W1")
    received = oven_bench.values_received()
    hottest = ProfileSegment(math.nextafter(350, math.inf), math.nextafter(180, math.inf), 10)
    await oven.run_profile(ThermalProfile((hottest,)))
    assert (received["segment_target_c"], received["segment_rate_c_per_min"]) == ((350,), (180,))


async def test_the_oven_refuses_a_constant_out_of_its_range_and_the_atmosphere_in_a_run(
    oven_bench,
) -> None:
    oven = await inert(oven_bench, "W1")
    with pytest.raises(CommandRefused, match="EAC 3"):
        await oven.set_constants("set", {"segment_target_c": (150.0, 2000.0)})
    with pytest.raises(CommandRefused, match="EAC 3"):
        await oven.set_constants("set", {"segment_hold_s": (-1.0,)})
    with pytest.raises(CommandRefused, match="EAC 3"):
        await oven.set_constants("set", {"n2_flow_slm": 500.0})  # 1-100 slm
    assert await oven.request_constants("read", "segment_target_c") == [()]
    run = asyncio.create_task(oven.run_profile(CURE))
    while "S2F41 START" not in oven_bench.equipment.received:
        await oven_bench.clock.sleep(1)
    with pytest.raises(CommandRefused, match="EAC 2"):
        await oven.set_constants("set", {"n2_flow_slm": 30.0})
    await run
    assert await oven.request_constants("read", "segment_target_c") == [(80.0, 58.0)]


async def test_a_start_without_a_whole_profile_is_refused(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await oven.command("start")  # no profile set
    await oven.set_constants("set", {"segment_target_c": (80.0, 60.0)})
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await oven.command("start")  # the other constants have no segments
    assert oven_bench.model.tool.state is OvenState.INERT


async def test_a_start_the_plc_refuses_changes_nothing(oven_bench) -> None:
    oven = await oven_bench.driver()
    await oven.set_constants(
        "set",
        {"segment_target_c": (80.0,), "segment_rate_c_per_min": (60.0,), "segment_hold_s": (0,)},
    )
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await oven.command("start")  # idle, in air, empty
    assert oven_bench.model.tool.state is OvenState.IDLE


async def test_interlocks_are_checked_before_the_start(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    oven_bench.model.tool.inject_fault("n2_supply")
    with pytest.raises(InterlockOpen, match="n2_supply"):
        await oven.run_profile(CURE)
    assert "S2F41 START" not in oven_bench.equipment.received


async def test_a_zone_alarm_mid_profile_is_pushed_at_once_and_ends_the_wait(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    run = asyncio.create_task(oven.run_profile(REFLOW))
    while oven_bench.model.tool.state is not OvenState.RUNNING:
        await oven_bench.clock.sleep(0.5)
    await oven_bench.clock.sleep(95.3)
    oven_bench.model.tool.inject_fault("zone_sensor_break")
    injected_s = oven_bench.clock.now()
    with pytest.raises(ToolAlarm, match="ZONE_ALARM"):
        await run
    # the oven's next step (its model steps a second at a time), not a poll interval later
    assert oven_bench.clock.now() - injected_s <= 1.0
    assert oven.state is ToolState.FAULT
    assert (await oven.request_status()).state is OvenState.FAULT
    assert await oven.request_values("read", "last_result") == [LastResult.FAULTED.name.lower()]
    zones = await oven.request_zones()
    assert zones[0].alarms == ("sensor break (thermocouple open)",)
    oven_bench.model.tool.clear_fault("zone_sensor_break")
    await oven.reset()
    assert oven.state is ToolState.IDLE


async def test_a_run_whose_end_never_comes_times_out_and_aborts(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    oven_bench.equipment.enabled_events.clear()  # the tool forgets to report
    started = oven_bench.clock.now()
    with pytest.raises(ToolTimeout, match="profile of 2 segments not over after 120 s; aborted"):
        await oven.run_profile(CURE, timeout_s=120)
    assert oven_bench.clock.now() - started == pytest.approx(120)
    assert "S2F41 STOP" in oven_bench.equipment.received
    assert oven_bench.model.tool.last_result is LastResult.ABORTED
    assert oven.state is ToolState.IDLE


async def test_an_abort_mid_run_ends_it_aborted_with_the_zones_in_standby(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    run = asyncio.create_task(oven.run_profile(CURE))
    while oven_bench.model.tool.state is not OvenState.RUNNING:
        await oven_bench.clock.sleep(0.5)
    await oven_bench.clock.sleep(10)
    await oven.command("abort")
    with pytest.raises(ToolAlarm, match="run ended aborted"):
        await run
    assert oven_bench.model.tool.state is OvenState.INERT
    assert all(zone.mode.name == "STANDBY" for zone in oven_bench.model.tool.zones)


async def test_cool_down_ends_on_its_event_with_the_load_cool(oven_bench) -> None:
    oven = await inert(oven_bench, "W1")
    await oven.run_profile(cure_profile(150, 30, ramp_c_per_min=60, cool_to_c=100))
    heard = oven_bench.heard_at_events()
    await oven.cool_down(3600)
    assert heard["load_cooled"][-1] == "S2F41 COOL"
    assert (await oven.request_interlocks())["load_cool"]
    await oven.stop_purge()
    await oven.open_door()
    await oven.unload("W1")


async def test_a_reflow_served_faster_than_the_host_is_measured_on_the_ovens_clock() -> None:
    """A served line sped up 1000 times (`sim serve --time-scale`): the host's clock is the
    wall's, the oven's runs 1000 times faster; the time above liquidus is the oven's seconds,
    as its samples are a trace period apart on its clock, not squeezed into the host's.

    It is held to what the oven itself ran, as its eutectic bumps record it: at 1000 times, a
    millisecond the loaded host's scheduler keeps the oven's sequencer from waking is a second
    more of its soak or peak, so the run's length on the oven's clock is not the profile's
    (146 s above liquidus on a shared clock; up to 1000 s seen at a load of 8 on 2 cores)."""
    twin = TwinStore()
    bench = GemBench("oven", clock=ScaledClock(1000), twin=twin)  # type: ignore[arg-type]
    await bench.serve()
    assert bench.equipment is not None
    link = open_link(bench.equipment.address, tool="oven", clock=WallClock(), timeout_s=2.0)
    oven = tool_kind("oven").load_gem_driver()(link, dictionary="oven", poll_interval_s=10.0)
    bench.drivers.append(oven)
    try:
        await oven.connect()
        await purged(oven, twin, "W1")
        bumps = twin.get("W1").bumps
        bumps.material, bumps.height_um[:] = "Sn63Pb37", 60.0  # its liquidus is REFLOW's
        result = await oven.run_profile(REFLOW)
    finally:
        await bench.close()
    ran = twin.get("W1").history[-1].detail
    assert ran["bumps_above_liquidus_s"] > 120  # the host's clock would have seen 0.15 s
    assert result.time_above_liquidus_s == pytest.approx(ran["bumps_above_liquidus_s"], abs=1.0)
    assert 218 < result.peak_c < 221


async def test_a_sensor_break_outside_a_run_alarms_at_once(oven_bench) -> None:
    """The zones' alarm relays are wired to the PLC, as on its Modbus face: a sensor break on an
    inert oven latches ZONE_ALARM at once, and a run is refused."""
    oven = await inert(oven_bench, "W1")
    tool = oven_bench.model.tool
    tool.inject_fault("zone_sensor_break")
    await oven_bench.clock.sleep(1.0)
    assert tool.alarms == ["ZONE_ALARM"]
    assert list(await oven.request_alarms()) == ["ZONE_ALARM"]
    zones = await oven.request_zones()
    assert zones[0].alarms == ("sensor break (thermocouple open)",)
    with pytest.raises(CommandRefused, match="START: HCACK 2: cannot perform now"):
        await oven.run_profile(REFLOW)


async def test_s2f30_gives_each_profile_arrays_segment_range(oven_bench) -> None:
    """A segment's target and rate: the zone controller's range, each element's, as S2F15
    judges them; a hold has no most, so none is given."""
    oven = await oven_bench.driver()
    ranges = {
        constant.name: (constant.minimum, constant.maximum)
        for constant in (await oven.gem.request_equipment_constant_namelist()).values()
    }
    # the zone controller's TG.SP and SP.RAT (0: no limit), 0-4500 and 0-9999 counts of 0.1,
    # as the temperature controller map in docs/protocols/conventions.md gives them
    assert ranges["segment_target_c"] == (F8(0), F8(450))
    assert ranges["segment_rate_c_per_min"] == (F8(0), F8(999.9))
    assert ranges["segment_hold_s"] == (A(), A())
