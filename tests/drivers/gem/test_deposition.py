"""The GEM deposition driver against the simulated GEM deposition chamber: the role over E30,
its waits ended by pushed events and alarms, its pressures, power and crystal monitor traced
rather than polled, to what the Modbus driver measures of the same run."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from itertools import pairwise

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.equipment import HOLD_S, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
    ToolTimeout,
)
from packline.drivers.links import ReconnectPolicy
from packline.drivers.roles.deposition import (
    ChamberState,
    DepositionRecipe,
    DepositionStep,
    LastResult,
    Material,
    Method,
    ProcessGas,
)
from packline.sim_instruments.deposition import DEFAULT_SOURCES, SimDepositionTool
from packline.sim_instruments.twin import TwinStore

from .conftest import SMALL, GemBench

TI = DepositionStep(
    Method.SPUTTER,
    Material.TI,
    time_s=60,
    thickness_nm=50,
    power_w=2000,
    pressure_mtorr=3,
    gas=ProcessGas.AR,
    flow_sccm=40,
)
CU = DepositionStep(Method.EVAPORATE, Material.CU, time_s=150, rate_nm_s=1.0)
RECIPE = DepositionRecipe((TI, CU), base_pressure_utorr=5)
#: The Modbus driver's traces: its status's traced values, by name and unit.
TRACES = {
    "pressure": "mTorr",
    "high_vacuum": "uTorr",
    "source_power": "W",
    "gas_flow": "sccm",
    "film_thickness": "nm",
    "deposition_rate": "nm/s",
}
EVENTS = [
    "pumped_down",
    "base_pressure_reached",
    "step_started",
    "step_ended",
    "step_started",
    "step_ended",
    "run_ended",
    "vented",
]


async def evacuated(bench: GemBench, *wafer_ids: str):
    """The driver, with `wafer_ids` received, loaded and the chamber pumped down."""
    chamber = await bench.driver()
    await chamber.open_door()
    for wafer_id in wafer_ids:
        bench.twin.receive(wafer_id)
        await chamber.load(wafer_id)
    await chamber.close_door()
    await chamber.pump_down()
    return chamber


async def test_identity_sources_slots_and_status(deposition_bench) -> None:
    chamber = await deposition_bench.driver()
    assert str(chamber.identity) == "packline TF-3 s/n TF-3-0001 fw 1.0"
    sources = await chamber.request_sources()
    assert [(s.position, s.method, s.material) for s in sources] == [
        (position, method, material) for position, (method, material) in enumerate(DEFAULT_SOURCES)
    ]
    assert await chamber.request_slots() == [None] * 4
    deposition_bench.twin.receive("W1")
    await chamber.open_door()
    assert await chamber.load("W1", slot=1) == 1
    status = await chamber.request_status()
    assert (status.chamber, status.door_closed, status.method, status.step) == (
        ChamberState.VENTED,
        False,
        None,
        0,
    )
    assert status.crystal_life_pct == 100.0
    assert await chamber.request_film_thickness_nm() == 0.0
    await chamber.unload("W1")
    assert await chamber.request_workpieces() == ()


async def test_a_deposition_is_waited_out_on_events_and_traced_every_poll(
    deposition_bench,
) -> None:
    deposition_bench.twin.receive("W1")
    deposition_bench.twin.receive("W2")
    chamber = await deposition_bench.driver()
    await chamber.open_door()
    await chamber.load("W1")
    await chamber.load("W2")
    await chamber.close_door()
    heard = deposition_bench.heard_at_events()
    sent = deposition_bench.events_sent()
    await chamber.pump_down()
    started = deposition_bench.clock.now()
    result = await chamber.deposit(RECIPE)
    await chamber.vent()
    assert sent == EVENTS
    for event, command in (
        ("pumped_down", "S2F41 PUMP"),
        ("base_pressure_reached", "S2F41 PUMPBASE"),
        ("run_ended", "S2F41 START"),
        ("vented", "S2F41 VENT"),
    ):
        assert heard[event][-1] == command  # no polling while it waited
    assert result.wafer_ids == ("W1", "W2")
    assert result.thickness_nm[0] == pytest.approx(50)  # the crystal's end point
    assert result.thickness_nm[1] == pytest.approx(150)  # timed: 150 s at 1 nm/s
    assert result.process_time_s == pytest.approx(50 * 1.1 + 150, abs=0.1)  # Ti at 1/1.1 nm/s
    for wafer_id in ("W1", "W2"):
        operations = [e.operation for e in deposition_bench.twin.get(wafer_id).history]
        assert operations == ["deposition"]
    status = await chamber.request_status()
    assert (status.chamber, status.recipes_completed) == (ChamberState.VENTED, 1)
    assert {(r.name, r.unit) for r in chamber.readings} == set(TRACES.items())
    # the base-pressure wait sampled as the Modbus driver's held reads sample it at least
    # (the last sample as the trace stops), the run every poll
    run_s = min(r.time_s for r in chamber.readings if r.name == "source_power" and r.value)
    waited = [
        r.time_s
        for r in chamber.readings
        if r.name == "high_vacuum" and started <= r.time_s < run_s
    ]
    assert len(waited) > 2
    gaps = {round(b - a, 6) for a, b in pairwise(waited[:-1])}
    assert gaps == {HOLD_S}
    ran = [r.time_s for r in chamber.readings if r.name == "film_thickness" and r.time_s >= run_s]
    assert ran[:3] == [run_s, run_s + 1.0, run_s + 2.0]
    rates = [r.value for r in chamber.readings if r.name == "deposition_rate"]
    assert {1.0} <= set(rates)


async def test_the_simulated_face_wakes_at_its_models_changes_not_every_second(
    deposition_bench,
) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    tool = deposition_bench.model.tool
    looks = testing.count_looks(tool)
    result = await chamber.deposit(RECIPE)
    # the base pressure, each step's end, the trace's own: a handful, not one a second
    assert len(looks) < 10 < result.process_time_s


async def test_gem_measures_the_run_as_the_modbus_driver_does(deposition_bench) -> None:
    """The same run on the Modbus chamber (polled every second) and on the GEM chamber (traced
    every second): the same films and times, the same readings within a poll."""
    sim = SimDepositionTool("deposition", TwinStore(SMALL), VirtualClock())
    rig = await testing.open_rig(
        sim, ModbusDepositionTool, timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    try:
        rig.twin.receive("W1")
        modbus = rig.driver
        await modbus.open_door()
        await modbus.load("W1")
        await modbus.close_door()
        await modbus.pump_down()
        polled = await modbus.deposit(RECIPE)
        polled_readings = list(modbus.readings)
    finally:
        await rig.close()
    chamber = await evacuated(deposition_bench, "W1")
    traced = await chamber.deposit(RECIPE)
    assert traced.thickness_nm == pytest.approx(polled.thickness_nm, abs=0.1)
    assert traced.process_time_s == pytest.approx(polled.process_time_s, abs=0.1)
    for name in ("film_thickness", "source_power", "gas_flow"):
        gem = max(r.value for r in chamber.readings if r.name == name)
        assert gem == pytest.approx(max(r.value for r in polled_readings if r.name == name), abs=2)


async def test_a_bad_recipe_is_refused_as_the_modbus_driver_refuses_it_before_anything_is_sent(
    deposition_bench,
) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    sim = SimDepositionTool(
        "deposition", TwinStore(SMALL), VirtualClock(), sources=DEFAULT_SOURCES[:-1]
    )
    rig = await testing.open_rig(
        sim, ModbusDepositionTool, timeout_s=1.0, reconnect=ReconnectPolicy(attempts=0)
    )
    deposition_bench.equipment.received.clear()
    try:
        bad = (
            DepositionRecipe((TI, replace(CU, power_w=500))),  # evaporation takes no power
            DepositionRecipe((TI, replace(CU, rate_nm_s=9.0))),  # above 5 nm/s
            DepositionRecipe((TI,), base_pressure_utorr=80),  # above 50 uTorr
            DepositionRecipe((TI,) * 9),  # 8 steps at most
        )
        for recipe in bad:
            with pytest.raises((LimitViolation, ValueError)) as modbus:
                await rig.driver.deposit(recipe)
            with pytest.raises((LimitViolation, ValueError)) as gem:
                await chamber.deposit(recipe)
            assert str(gem.value) == str(modbus.value).replace(rig.driver.address, chamber.address)
        assert deposition_bench.equipment.received == []
        sin = DepositionStep(
            Method.CVD,
            Material.SIN,
            time_s=60,
            power_w=200,
            pressure_mtorr=500,
            gas=ProcessGas.SIH4_NH3,
            flow_sccm=100,
        )
        with pytest.raises(ValueError, match="step 2: no cvd source of SiN is installed"):
            await rig.driver.deposit(DepositionRecipe((TI, sin)))
    finally:
        await rig.close()
    assert chamber.state is ToolState.IDLE


async def test_the_chamber_refuses_a_constant_out_of_range_and_any_while_it_runs(
    deposition_bench,
) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    with pytest.raises(CommandRefused, match="EAC 3"):
        await chamber.set_constants("set", {"step_power_w": (300.0, 4000.0)})
    with pytest.raises(CommandRefused, match="EAC 3"):
        await chamber.set_constants("set", {"base_pressure_utorr": 0.2})  # below the turbo's
    assert await chamber.request_constants("read", "step_power_w") == [()]
    run = asyncio.create_task(chamber.deposit(RECIPE))
    while "S2F41 START" not in deposition_bench.equipment.received:
        await deposition_bench.clock.sleep(1)
    with pytest.raises(CommandRefused, match="EAC 2"):
        await chamber.set_constants("set", {"step_power_w": (1000.0, 0.0)})
    await run
    assert await chamber.request_constants("read", "step_power_w", "base_pressure_utorr") == [
        (2000.0, 0.0),
        5.0,
    ]


async def test_a_step_past_a_bound_by_rounding_reaches_the_chamber_as_the_bound(
    deposition_bench,
) -> None:
    """A step value a unit conversion left an ulp past its bound is taken, and the chamber is
    sent the bound itself (`Limit.held`), never the value past it."""
    chamber = await evacuated(deposition_bench, "W1")
    received = deposition_bench.values_received()
    fastest = replace(CU, time_s=20, rate_nm_s=math.nextafter(5, math.inf))
    await chamber.deposit(replace(RECIPE, steps=(TI, fastest)))
    assert received["step_rate_nm_s"] == (0, 5)


async def test_the_base_pressure_is_waited_for_only_evacuated(deposition_bench) -> None:
    chamber = await deposition_bench.driver()
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await chamber.command("pump_to_base")  # vented
    await chamber.close_door()
    await chamber.pump_down()
    with pytest.raises(CommandRefused, match="HCACK 2"):
        await chamber.command("pump_to_base")  # no base pressure set
    await chamber.set_constants("set", {"base_pressure_utorr": 50.0})
    await deposition_bench.clock.sleep(300)
    assert await chamber.command("pump_to_base") == 0  # there already
    await chamber.vent()
    with pytest.raises(ToolStateError, match="chamber vented, not evacuated \\(pump down first\\)"):
        await chamber.deposit(RECIPE)


async def test_a_base_pressure_never_reached_times_out_and_aborts(deposition_bench) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    deposition_bench.model.tool.inject_fault("chamber_leak")
    started = deposition_bench.clock.now()
    with pytest.raises(
        ToolTimeout,
        match="high vacuum 20 uTorr, above the base pressure 5 uTorr, after 1800 s; aborted",
    ):
        await chamber.deposit(RECIPE)
    assert deposition_bench.clock.now() - started == pytest.approx(1800)
    assert "S2F41 START" not in deposition_bench.equipment.received


async def test_interlocks_are_checked_before_the_start(deposition_bench) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    deposition_bench.model.tool.inject_fault("exhaust")
    with pytest.raises(InterlockOpen, match="exhaust"):
        await chamber.deposit(RECIPE)
    assert "S2F41 START" not in deposition_bench.equipment.received


async def test_an_alarm_mid_run_is_pushed_at_once_and_ends_the_wait(deposition_bench) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    run = asyncio.create_task(chamber.deposit(RECIPE))
    tool = deposition_bench.model.tool
    while tool.chamber is not ChamberState.PROCESSING:
        await deposition_bench.clock.sleep(0.5)
    await deposition_bench.clock.sleep(10.3)
    tool.inject_fault("target_arcing")
    injected_s = deposition_bench.clock.now()
    with pytest.raises(ToolAlarm, match="ARCING"):
        await run
    assert deposition_bench.clock.now() == injected_s  # no poll interval: the tool pushed it
    assert chamber.state is ToolState.FAULT
    assert await chamber.request_values("read", "last_result") == [LastResult.FAULTED.name.lower()]
    tool.clear_fault("target_arcing")
    await chamber.reset()
    assert chamber.state is ToolState.IDLE
    assert (await chamber.request_status()).chamber is ChamberState.EVACUATED


async def test_a_run_whose_end_never_comes_times_out_and_aborts(deposition_bench) -> None:
    chamber = await evacuated(deposition_bench, "W1")
    await chamber.deposit(RECIPE)  # at the base pressure since
    deposition_bench.equipment.enabled_events.clear()  # the tool forgets to report
    started = deposition_bench.clock.now()
    with pytest.raises(ToolTimeout, match="recipe of at most 210 s not finished after 330 s"):
        await chamber.deposit(RECIPE)
    assert deposition_bench.clock.now() - started == pytest.approx(330)
    assert "S2F41 STOP" in deposition_bench.equipment.received
    assert chamber.state is ToolState.IDLE
