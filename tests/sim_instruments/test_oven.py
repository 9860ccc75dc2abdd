"""The oven driver against the simulated oven on its RS-485 pty, in virtual time; its physics.

Process time runs on a VirtualClock shared by driver and simulator, so an hour's cure costs
only the polls that watch it. The numbers are the page's (docs/protocols/oven.md, "Process
model"): Kamal cure kinetics, the solders' liquidus, 20 s above it to wet, at most 500 ppm O2.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio
from scipy.integrate import solve_ivp

from packline.clock import VirtualClock, WallClock
from packline.drivers.errors import InterlockOpen, ToolAlarm
from packline.drivers.families.temperature_controller import InstrumentMode
from packline.drivers.oven import ModbusOven
from packline.drivers.roles.oven import (
    CURED_ALPHA,
    RESIN_CURE,
    LastResult,
    Oven,
    OvenState,
    cure_profile,
    reflow_profile,
)
from packline.sim_instruments.families.temperature_controller import SimTemperatureController
from packline.sim_instruments.oven import AIR_O2_PPM, OvenPhysics, SimOven
from packline.sim_instruments.physics.oven import (
    LoadHistory,
    ReflowPhysics,
    melts,
    reflow,
    softens,
    truncated_sphere_width_um,
)
from packline.sim_instruments.twin import ResinKind, TwinStore
from packline.sim_instruments.twin.parts import BumpKind, Film, FilmMaterial
from packline.sim_instruments.twin.specs import PanelSpec
from packline.station import Station
from packline.testing import Rig, open_rig

EUTECTIC_REFLOW = reflow_profile(soak_c=150, soak_s=60, peak_c=215, peak_hold_s=40, liquidus_c=183)


async def oven_rig(
    physics: OvenPhysics | None = None, poll_interval_s: float = 2.0
) -> Rig[SimOven, ModbusOven]:
    """The simulated oven and its driver; polls every `poll_interval_s` of process time. The
    line is RTU over TCP, as behind a serial device server: a pty's path is reused by the
    system once freed, and a link elsewhere in the suite still reconnecting to an old path
    could write into it (the pty itself is proven by the wire and conformance tests)."""
    sim = SimOven("oven", TwinStore(), VirtualClock(), physics=physics, transport="rtu-tcp")
    return await open_rig(sim, ModbusOven, poll_interval_s=poll_interval_s)


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig[SimOven, ModbusOven]]:
    rig = await oven_rig()
    yield rig
    await rig.close()


async def load(rig: Rig[SimOven, ModbusOven], *wafer_ids: str, bumps: str | None = None) -> None:
    """Load wafers (their bumps of solder `bumps`) and close the door."""
    await rig.driver.open_door()
    for wafer_id in wafer_ids:
        rig.twin.receive(wafer_id)
        if bumps is not None:
            workpiece = rig.twin.get(wafer_id)
            workpiece.bumps.material = bumps
            workpiece.bumps.height_um[:] = 60.0
        await rig.driver.load(wafer_id)
    await rig.driver.close_door()


def last_run(rig: Rig[SimOven, ModbusOven], wafer_id: str) -> dict[str, float | str]:
    event = rig.twin.get(wafer_id).history[-1]
    assert event.operation == "oven run"
    return event.detail


async def test_a_purge_takes_the_o2_below_its_limit_at_the_chambers_rate(rig):
    await load(rig, "W01")
    started = rig.clock.now()
    o2 = await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    assert o2 <= 100
    # one volume change (60 l at 40 slm) is 90 s: air to 100 ppm takes 90 * ln(209000/95) s
    assert rig.clock.now() - started == pytest.approx(90 * np.log(208_995 / 95), abs=2)
    assert (await rig.driver.request_status()).state is OvenState.INERT


async def test_a_run_needs_an_inert_atmosphere(rig):
    await load(rig, "W01")
    with pytest.raises(InterlockOpen, match="atmosphere_inert"):
        await rig.driver.run_profile(EUTECTIC_REFLOW)
    assert rig.sim.state is OvenState.IDLE


async def test_a_reflow_above_the_liquidus_joins_every_bump_of_the_batch(rig):
    await load(rig, "W01", "W02", bumps="Sn63Pb37")
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    result = await rig.driver.run_profile(EUTECTIC_REFLOW)
    assert result.wafer_ids == ("W01", "W02")
    assert result.peak_c == pytest.approx(215, abs=1)
    assert result.time_above_liquidus_s is not None
    assert result.time_above_liquidus_s > 60
    assert result.max_o2_ppm <= 100
    for wafer_id in ("W01", "W02"):
        run = last_run(rig, wafer_id)
        assert (run["bumps_melted"], run["bumps_joined"]) == ("True", "True")
        # the driver's polls and the oven's own history agree on the time above liquidus
        assert float(run["bumps_above_liquidus_s"]) == pytest.approx(
            result.time_above_liquidus_s, abs=3
        )


async def test_a_reflow_below_the_liquidus_forms_no_joint(rig):
    await load(rig, "W01", bumps="SAC305")
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    await rig.driver.run_profile(EUTECTIC_REFLOW)  # peak 215 degC: SAC305 melts from 217
    run = last_run(rig, "W01")
    assert (run["bumps_melted"], run["bumps_joined"]) == ("False", "False")
    assert run["bumps_above_liquidus_s"] == 0


async def test_too_much_oxygen_leaves_the_molten_solder_unwetted():
    """A leaky chamber: at 60 slm the O2 floor is 45000 / 60 = 750 ppm, above the 500 ppm
    molten solder wets at; the atmosphere passes its 1000 ppm limit, the solder melts, no
    joint forms."""
    rig = await oven_rig(OvenPhysics(leak_ppm_slm=45_000))
    try:
        await load(rig, "W01", bumps="Sn63Pb37")
        await rig.driver.purge(n2_flow_slm=60, o2_limit_ppm=1000)
        result = await rig.driver.run_profile(EUTECTIC_REFLOW)
        assert 750 <= result.max_o2_ppm <= 1000
        run = last_run(rig, "W01")
        assert (run["bumps_melted"], run["bumps_joined"]) == ("True", "False")
    finally:
        await rig.close()


@pytest_asyncio.fixture
async def slow_rig() -> AsyncIterator[Rig[SimOven, ModbusOven]]:
    """An oven polled every 10 s, for hour-long cures."""
    rig = await oven_rig(poll_interval_s=10.0)
    yield rig
    await rig.close()


async def test_the_cure_after_a_documented_profile_matches_the_model_to_one_percent(slow_rig):
    """The degree of cure the oven gives the resin, against the Kamal model integrated here
    with scipy along the load temperature the driver recorded (its own trace)."""
    rig = slow_rig
    await load(rig, "W01")
    workpiece = rig.twin.get("W01")
    workpiece.add_resin(ResinKind.THERMOSET, 20.0)
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    await rig.driver.run_profile(cure_profile(150, 3600))
    trace = [r for r in rig.driver.readings if r.name == "load_temperature"]
    times = np.array([r.time_s for r in trace])
    temps = np.array([r.value for r in trace])
    kinetics = RESIN_CURE["epoxy"]
    solution = solve_ivp(
        lambda t, a: [kinetics.rate_per_s(a[0], float(np.interp(t, times, temps)))],
        (times[0], times[-1]),
        [0.0],
        max_step=1.0,
        rtol=1e-8,
    )
    expected = solution.y[0, -1]
    cure = float(last_run(rig, "W01")["cure_0"])
    assert expected == pytest.approx(0.945, abs=0.02)  # the page: 60 min at 150 degC
    assert cure == pytest.approx(expected, rel=0.01)
    assert workpiece.resins.layers[-1].cure >= CURED_ALPHA


def test_the_cure_works_each_temperatures_rate_constants_out_once_and_no_bit_moves():
    """`KamalCure.cure` shares the rate constants of a step's middle stages and of its end with
    the next step's start: the same degree of cure, bit for bit, as the classical four-stage
    step that works out every stage's rate from its temperature (`rate_per_s`)."""
    kinetics = RESIN_CURE["epoxy"]
    times = [0.0, *np.cumsum(np.full(900, 1.0)).tolist(), 905.5]
    temps = [25.0 + min(t, 600.0) * 0.2 for t in times]  # a ramp, a hold, past 1 degC steps
    alpha, start = 0.05, 0
    while start < len(times) - 1:
        end = start + 1
        while (
            end < len(times) - 1
            and times[end + 1] - times[start] <= 20.0
            and abs(temps[end + 1] - temps[start]) <= 1.0
        ):
            end += 1
        dt, middle = times[end] - times[start], (temps[start] + temps[end]) / 2
        k1 = kinetics.rate_per_s(alpha, temps[start])
        k2 = kinetics.rate_per_s(alpha + dt * k1 / 2, middle)
        k3 = kinetics.rate_per_s(alpha + dt * k2 / 2, middle)
        k4 = kinetics.rate_per_s(alpha + dt * k3, temps[end])
        alpha, start = min(alpha + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6, 1.0), end
    assert kinetics.cure(0.05, times, temps) == alpha
    assert kinetics.cure(0.05, times[:1], temps[:1]) == 0.05


def test_a_runs_cure_is_integrated_once_for_the_batch_and_again_after_a_sample():
    """Every wafer of a batch takes its cure from the run's one history (`LoadHistory.cure`):
    the integration of the kinetics from the layer's degree, kept for the next wafer with the
    same, worked out again once the history has another sample."""
    history, kinetics = LoadHistory(), RESIN_CURE["epoxy"]
    for time_s in range(0, 1200, 1):
        history.add(float(time_s), 150.0, 10.0)
    cured = history.cure(kinetics, 0.0)
    assert cured == kinetics.cure(0.0, history.time_s, history.temperature_c) > 0.3
    assert history.cure(kinetics, 0.0) is cured
    assert history.cure(kinetics, 0.5) == kinetics.cure(0.5, history.time_s, history.temperature_c)
    history.add(1800.0, 150.0, 10.0)
    assert history.cure(kinetics, 0.0) > cured


async def test_an_under_cured_resin_is_not_cured(slow_rig):
    rig = slow_rig
    await load(rig, "W01")
    rig.twin.get("W01").add_resin(ResinKind.THERMOSET, 20.0)
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    await rig.driver.run_profile(cure_profile(120, 3600))
    # the hour at 120 degC (0.62 from uncured, the page) and the ramp and cooling around it
    assert float(last_run(rig, "W01")["cure_0"]) == pytest.approx(0.66, abs=0.02)
    # a cured layer is at 0.9 or more
    assert not rig.twin.get("W01").resins.layers[-1].cure >= CURED_ALPHA


async def test_every_zone_is_traced_and_follows_the_profile(rig):
    await load(rig, "W01")
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    await rig.driver.run_profile(cure_profile(100, 60, ramp_c_per_min=30))
    names = {reading.name for reading in rig.driver.readings}
    for zone in (1, 2, 3, 4):
        assert {f"zone {zone} temperature", f"zone {zone} output"} <= names
        peak = max(r.value for r in rig.driver.readings if r.name == f"zone {zone} temperature")
        assert peak == pytest.approx(100, abs=1)
    zones = await rig.driver.request_zones()
    assert [zone.target_c for zone in zones] == [60.0] * 4  # the cooling segment's target
    assert all(zone.alarms == () for zone in zones)


async def test_a_zone_sensor_break_faults_the_run_and_cuts_the_heaters(rig):
    await load(rig, "W01")
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    run = asyncio.create_task(rig.driver.run_profile(cure_profile(150, 600)))
    await rig.clock.sleep(120.0)
    assert rig.sim.state is OvenState.RUNNING
    rig.sim.inject_fault("zone_sensor_break")
    with pytest.raises(ToolAlarm, match="ZONE_ALARM"):
        await run
    assert rig.sim.state is OvenState.FAULT
    assert last_run(rig, "W01")["result"] == "faulted"
    assert (await rig.driver.request_zones())[0].alarms == ("sensor break (thermocouple open)",)
    # the cause persists: RESET_ALARMS raises the zone alarm again at once (oven.md), the
    # oven stays in fault, and a run is refused instead of faulting the moment it starts
    with pytest.raises(ToolAlarm, match="ZONE_ALARM"):
        await rig.driver.reset()
    assert (rig.sim.state, rig.sim.alarms) == (OvenState.FAULT, ["ZONE_ALARM"])
    rig.sim.clear_fault("zone_sensor_break")
    await rig.driver.recover(("W01",))
    assert rig.sim.loaded() == []
    assert not rig.sim.door_closed


async def test_a_zone_sensor_break_at_rest_alarms_at_once(rig):
    """The zones' alarm relays are wired to the PLC (oven.md): a thermocouple that opens on an
    idle oven alarms it at once, so a station check or the lot's first command sees it, not
    the profile's start after the load and the purge."""
    rig.sim.inject_fault("zone_sensor_break")
    assert (rig.sim.state, rig.sim.alarms) == (OvenState.FAULT, ["ZONE_ALARM"])
    assert list(await rig.driver.request_alarms()) == ["ZONE_ALARM"]


async def high_lead_bumps_with_a_eutectic_layer(rig: Rig[SimOven, ModbusOven]) -> None:
    """W01: Pb90Sn10 bumps (liquidus 302 degC) with a 10 um Sn63Pb37 layer (183 degC) on
    every one (003:19), purged and ready for a reflow."""
    await load(rig, "W01", bumps="Pb90Sn10")
    bumps = rig.twin.get("W01").bumps
    bumps.layer_um[:] = 10.0
    bumps.layer_alloy = "Sn63Pb37"
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)


async def test_a_eutectic_layer_on_a_high_melting_bump_melts_while_the_core_stays_solid(rig):
    await high_lead_bumps_with_a_eutectic_layer(rig)
    await rig.driver.run_profile(EUTECTIC_REFLOW)  # peak 215 degC
    run = last_run(rig, "W01")
    assert (run["layer_melted"], run["layer_joined"]) == ("True", "True")
    assert run["bumps_melted"] == "False"
    assert rig.twin.get("W01").bumps.solid_core.all()


async def test_a_peak_above_the_cores_liquidus_melts_the_core_too(rig):
    await high_lead_bumps_with_a_eutectic_layer(rig)
    profile = reflow_profile(soak_c=150, soak_s=60, peak_c=320, peak_hold_s=30, liquidus_c=302)
    result = await rig.driver.run_profile(profile)
    assert result.peak_c > 302
    assert last_run(rig, "W01")["bumps_melted"] == "True"
    assert not rig.twin.get("W01").bumps.solid_core.any()


@pytest.mark.parametrize(("peak_c", "joined"), [(240, True), (212, False)])
async def test_solder_balls_join_their_pads_only_above_their_liquidus(rig, peak_c, joined):
    """SAC305 balls (liquidus 220 degC) on the conducting paths over every pad (001:3): a 240 degC
    peak joins every ball, a 212 degC one none."""
    await load(rig, "W01")
    workpiece = rig.twin.get("W01")
    workpiece.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, workpiece.geometry.site_count))
    balls = workpiece.balls
    balls.present[:] = True
    balls.diameter_um[:] = 300.0
    balls.alloy = "SAC305"
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    profile = reflow_profile(soak_c=170, soak_s=60, peak_c=peak_c, peak_hold_s=40, liquidus_c=220)
    await rig.driver.run_profile(profile)
    assert bool(balls.joined.all()) is joined
    assert last_run(rig, "W01")["balls_joined"] == (balls.present.size if joined else 0)


@pytest.mark.parametrize(("peak_c", "bumped"), [(340, True), (300, False)])
async def test_high_lead_balls_on_bare_pads_reflow_into_solder_bumps(rig, peak_c, bumped):
    """Pb95Sn5 balls of 100 um (314 degC) on the bare pads of every die: above the liquidus
    each wets its 70 um pad and stands as a truncated sphere of its volume, 87.8 um high
    (h^3 + 3 a^2 h = D^3, a = 35 um); below it they stay loose balls."""
    await load(rig, "W01")
    workpiece = rig.twin.get("W01")
    balls = workpiece.balls
    balls.present[:] = True
    balls.diameter_um[:] = 100.0
    balls.alloy = "Pb95Sn5"
    await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
    profile = reflow_profile(soak_c=250, soak_s=60, peak_c=peak_c, peak_hold_s=40, liquidus_c=314)
    await rig.driver.run_profile(profile, timeout_s=3600)
    bumps = workpiece.bumps
    assert bool(bumps.present.all()) is bumped
    assert bool(balls.present.any()) is not bumped
    if bumped:
        assert (bumps.kind, bumps.material) == (BumpKind.SOLDER, "Pb95Sn5")
        assert bumps.height_um == pytest.approx(87.82, abs=0.01)
        assert bumps.base_diameter_um == pytest.approx(70.0)
        assert last_run(rig, "W01")["solder_bumps"] == workpiece.geometry.site_count


async def test_a_batch_of_tape_panels_reflows_the_balls_of_every_unit():
    """The oven takes panels as it takes wafers: two tapes of 100 units, SAC305 balls on every
    site, one reflow joins them all."""
    sim = SimOven("oven", TwinStore(PanelSpec()), VirtualClock(), transport="rtu-tcp")
    rig = await open_rig(sim, ModbusOven, poll_interval_s=2.0)
    try:
        await rig.driver.open_door()
        for panel_id in ("P01", "P02"):
            balls = rig.twin.receive(panel_id).balls
            balls.present[:] = True
            balls.alloy = "SAC305"
            await rig.driver.load(panel_id)
        await rig.driver.close_door()
        await rig.driver.purge(n2_flow_slm=40, o2_limit_ppm=100)
        profile = reflow_profile(soak_c=170, soak_s=60, peak_c=240, peak_hold_s=40, liquidus_c=220)
        result = await rig.driver.run_profile(profile)
        assert result.wafer_ids == ("P01", "P02")
        for panel_id in ("P01", "P02"):
            panel = rig.twin.get(panel_id)
            assert panel.geometry.unit_count == 100
            assert panel.balls.joined.all()
    finally:
        await rig.close()


@pytest.mark.station
async def test_the_station_reaches_the_oven_and_every_zone_on_its_line(station: Station):
    """Hardware in the loop (`pytest --station line.yaml` for a real oven): reads only."""
    (name,) = station.tools_for_role("oven")
    async with station.open_tool(name) as oven:
        assert isinstance(oven, Oven)
        assert oven.identity is not None
        temperatures = await oven.request_zone_temperatures_c()
        assert len(temperatures) >= 1
        assert all(-50 < t < 500 for t in temperatures)
        assert 0 <= await oven.request_o2_ppm() <= AIR_O2_PPM
        assert len(await oven.request_slots()) >= 1


def test_the_time_above_liquidus_is_exact_for_a_piecewise_linear_history():
    history = LoadHistory()
    for time_s, temperature_c in ((0, 150), (100, 250), (200, 150)):
        history.add(time_s, temperature_c, 10)
    assert history.time_above_s(200) == pytest.approx(100)
    assert history.time_above_s(250) == 0
    assert reflow("SAC305", history, ReflowPhysics()).joined  # 220: 60 s above
    assert not reflow("Pb90Sn10", history, ReflowPhysics()).melted  # 302: never


def test_molten_solder_in_air_does_not_wet():
    history = LoadHistory()
    for time_s, temperature_c in ((0, 150), (100, 250), (200, 150)):
        history.add(time_s, temperature_c, 2_000)
    outcome = reflow("Sn63Pb37", history, ReflowPhysics())
    assert (outcome.melted, outcome.joined, outcome.max_o2_molten_ppm) == (True, False, 2_000)


@pytest.mark.parametrize("power", [True, False])
def test_zones_step_as_each_would_alone(power):
    """The oven steps a zone and the next one, in the same state, takes its result: after
    every step each zone is bit for bit as a controller stepped alone, an alarm latched by the
    step included (zones 3 and 4 are set apart from 1 and 2, and their alarm lower)."""
    oven = SimOven("oven", TwinStore(), VirtualClock())
    alone = [
        SimTemperatureController(zone.device_id, zone.plant, lambda: None) for zone in oven.zones
    ]
    for zones in (oven.zones, alone):
        for zone in zones:
            zone.mode, zone.target_c, zone.rate_c_per_min = InstrumentMode.AUTO, 150.0, 5.0
        for zone in zones[2:]:
            zone.target_c, zone.alarm_high_c = 120.0, 100.0
    zones = oven._alike_zones()  # as `advance` groups them, once for all its steps
    assert [(stepped, alike) for stepped, alike in zones] == [
        (oven.zones[0], [oven.zones[1]]),
        (oven.zones[2], [oven.zones[3]]),
    ]
    for second in range(4000):
        dt_s = 0.37 if second % 7 == 0 else 1.0
        moved = oven._step_zones(zones, dt_s, power)
        assert moved == any([zone.step(dt_s, power=power) for zone in alone])
        assert [vars(zone) | {"before_access": None} for zone in oven.zones] == [
            vars(zone) | {"before_access": None} for zone in alone
        ], second
    assert [bool(zone.latched) for zone in oven.zones] == [False, False, power, power]
    assert not moved  # settled at their targets (without power: at the room)


class Hands(WallClock):
    """A clock whose time the test sets."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def now(self) -> float:
        return self.now_s


def test_an_oven_advanced_by_jumps_is_bit_for_bit_one_advanced_a_step_at_a_time(monkeypatch):
    """`advance` steps neither the zones nor the O2 again once a step left them where they were
    (at a setpoint or the room; at the purge's floor or air), and passes a stretch where neither
    moves (`_pass_settled_steps`): an oven advanced by long jumps is, after each, bit for bit
    one advanced a step at a time (which works every step out) through a purge, a run that
    ramps and soaks and then faults within a jump (the nitrogen turned down: the O2 climbs to
    its new floor, above the run's bound, and the heater supply goes off under settled zones),
    and the cool-down with the door open."""
    jumped, stepped = SimOven("oven", TwinStore(), Hands()), SimOven("oven", TwinStore(), Hands())
    held: list[float] = []
    hold = jumped._pass_settled_steps
    monkeypatch.setattr(
        jumped, "_pass_settled_steps", lambda *a: (held.append(jumped.stepped_to_s), hold(*a))
    )
    histories: dict[SimOven, LoadHistory] = {}

    def state(oven: SimOven) -> tuple[object, ...]:
        zones = [vars(zone) | {"before_access": None} for zone in oven.zones]
        history = histories.get(oven, LoadHistory())
        return (oven.stepped_to_s, oven.state, oven.o2_ppm, oven.run_time_s, oven.last_result,
                zones, history.time_s, history.temperature_c, history.o2_ppm)  # fmt: skip

    def jump(seconds: float, by_s: float) -> None:
        """Jumps of `by_s` (dyadic, so that a step at a time meets the same times exactly)."""
        end_s = jumped.clock.now() + seconds
        while jumped.clock.now() < end_s:
            jumped.clock.now_s = min(end_s, jumped.clock.now() + by_s)  # type: ignore[attr-defined]
            jumped.advance()
            while stepped.clock.now() < jumped.clock.now():
                stepped.clock.now_s = min(jumped.clock.now(), stepped.clock.now() + 1.0)  # type: ignore[attr-defined]
                stepped.advance()
            assert state(jumped) == state(stepped), jumped.clock.now()

    for oven in (jumped, stepped):
        oven.door_closed, oven.n2_on, oven.n2_flow_slm, oven.o2_limit_ppm = True, True, 200.0, 10.0
        oven.state = OvenState.PURGING
    jump(900.0, 37.5)
    for oven in (jumped, stepped):
        for zone in oven.zones:
            zone.mode, zone.target_c, zone.rate_c_per_min = InstrumentMode.AUTO, 150.0, 30.0
            zone.alarm_high_c = 175.0
        oven.state, histories[oven] = OvenState.RUNNING, LoadHistory()
        oven.history = histories[oven]
    jump(1500.0, 10.25)
    assert jumped.zones[0].process_c == pytest.approx(150.0)  # settled (a few ulps below)
    held_in_the_soak = len(held)
    for oven in (jumped, stepped):
        oven.n2_flow_slm = 5.0  # the floor 40 ppm, the run's bound 20
    jump(1000.0, 250.0)
    assert jumped.state is OvenState.FAULT
    assert jumped.last_result is LastResult.FAULTED
    assert jumped.zones[0].process_c < 100.0  # cooling since
    for oven in (jumped, stepped):
        for zone in oven.zones:
            zone.mode = InstrumentMode.STANDBY
        oven.n2_on, oven.door_closed = False, False
    jump(14000.0, 1000.0)
    assert held_in_the_soak
    assert len(held) > held_in_the_soak  # the room and air at the end
    assert jumped.stepped_to_s == 17400.0
    assert jumped.o2_ppm == AIR_O2_PPM


def test_a_reflowed_bump_is_widest_at_its_spheres_centre_and_narrows_to_its_top():
    """A 100 um ball on its 70 um pad stands 87.8 um, a sphere of 50.9 um radius whose centre
    is 36.9 um up: at or below the centre a tip is its sphere's width, above it narrower (98.3
    um where a 50 um film leaves it), nothing above its top."""
    height, base = 87.8, 70.0
    radius = ((base / 2) ** 2 + height**2) / (2 * height)
    assert truncated_sphere_width_um(height, base, 0.0) == pytest.approx(2 * radius)
    assert truncated_sphere_width_um(height, base, height - radius) == pytest.approx(2 * radius)
    assert truncated_sphere_width_um(height, base, 50.0) == pytest.approx(98.33, abs=0.01)
    assert truncated_sphere_width_um(height, base, height) == pytest.approx(0.0, abs=1e-6)
    assert truncated_sphere_width_um(height, base, height + 5) == 0.0


@pytest.mark.parametrize(
    ("peak_c", "softened", "melted"),
    [(300.0, False, False), (308.0, False, False), (310.0, True, False), (315.0, True, True)],
)
def test_a_high_lead_core_begins_to_melt_at_its_solidus_before_its_liquidus(
    peak_c: float, softened: bool, melted: bool
):
    """Pb95Sn5 melts over 308-314 degC: a peak between the two leaves a core under a eutectic
    layer no longer solid (003:20), though the alloy is not yet all liquid."""
    assert softens("Pb95Sn5", peak_c) is softened
    assert melts("Pb95Sn5", peak_c) is melted
    assert softens("Sn63Pb37", 184.0)  # a eutectic melts at one point
    assert melts("Sn63Pb37", 184.0)
    assert not softens("Au", 1000.0)  # no solder
