"""Hardware-in-the-loop: the real laser driver against the simulated laser on loopback (VISA).

Process time runs on a VirtualClock shared by driver and simulator, so a wafer scan of
thousands of vias costs only the polls that watch it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ToolAlarm,
    ToolStateError,
)
from packline.drivers.laser import ScpiLaser
from packline.drivers.links import ReconnectPolicy
from packline.drivers.roles.laser import (
    DEPTH_CV,
    DEPTH_SPREAD,
    Atmosphere,
    CleanRecipe,
    DrillMode,
    DrillRecipe,
    FaceUp,
    JobKind,
    JobState,
    LaserSource,
)
from packline.sim_instruments.laser import SimCo2Laser, SimLaser
from packline.sim_instruments.laser_job import ScanJob
from packline.sim_instruments.physics.laser import (
    LaserPhysics,
    ablate_vias,
    laser_clean,
    via_pulses,
)
from packline.sim_instruments.twin import (
    Face,
    PanelSpec,
    ResinKind,
    TwinStore,
    WaferSpec,
    Workpiece,
    new_wafer,
)

RESIN_UM = 50.0
UV_DRILL = DrillRecipe(diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100)
CO2_DRILL = DrillRecipe(diameter_um=100, fluence_j_cm2=5, rep_rate_khz=50)
GENTLE_CLEAN = CleanRecipe(fluence_j_cm2=0.2, rep_rate_khz=100, pulses_per_site=50)


def clean_in(
    atmosphere: Atmosphere, *, gas_jet: bool = False, suction: bool = False
) -> CleanRecipe:
    return CleanRecipe(0.2, 100, 50, atmosphere=atmosphere, gas_jet=gas_jet, suction=suction)


Rig = testing.Rig[SimLaser, ScpiLaser]


async def open_rig(
    source: LaserSource = LaserSource.UV_355,
    pad_metal: str = "Cu",
    incoming: PanelSpec | None = None,
) -> Rig:
    """The driver on a simulated laser whose line receives wafers of `pad_metal`, or the
    `incoming` tape panels."""
    twin = TwinStore(incoming or WaferSpec(pad_metal=pad_metal))
    sim = SimLaser("laser", twin, VirtualClock(), source=source)
    return await testing.open_rig(
        sim, ScpiLaser, timeout_s=2.0, reconnect=ReconnectPolicy(attempts=1)
    )


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await open_rig()
    yield rig
    await rig.close()


def laminated(twin: TwinStore, wafer_id: str, resin_um: float = RESIN_UM) -> Workpiece:
    """A wafer whose every site is covered by `resin_um` of resin (as after lamination)."""
    wafer = twin.get(wafer_id)
    wafer.add_resin(ResinKind.THERMOSET, resin_um)
    return wafer


def bumped(twin: TwinStore, wafer_id: str, metal: str = "Au") -> Workpiece:
    """40 µm bumps through 25 µm of resin: every tip exposed, with residue and oxide on it."""
    wafer = twin.get(wafer_id)
    wafer.bumps.height_um[:] = 40.0
    wafer.bumps.material = metal
    wafer.add_resin(ResinKind.THERMOSET, 25.0)
    return wafer


async def load(rig: Rig, wafer_id: str) -> None:
    await rig.driver.open_enclosure()
    await rig.driver.load(wafer_id)
    await rig.driver.close_enclosure()


# ------------------------------------------------------------------------ identity and state


async def test_identity_source_and_standby_after_connect(rig: Rig):
    assert str(rig.driver.identity) == "packline LV-355 s/n LV-355-0001 fw 1.0"
    assert rig.driver.source is LaserSource.UV_355
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.e10_state is E10State.STANDBY
    assert rig.sim.received[:3] == ["*CLS", "*IDN?", ":SOUR:WAV?"]
    assert rig.sim.received[3].startswith(":ENCL:DOOR?;")  # the status: no job, shutter closed
    assert rig.sim.received[4:] == [":SYST:ALAR?"]


async def test_a_co2_tool_reports_its_wavelength_in_identity_and_wav():
    rig = await open_rig(LaserSource.CO2_9400)
    try:
        assert rig.driver.identity is not None
        assert rig.driver.identity.model == "LC-94"
        assert await rig.driver.request_source() is LaserSource.CO2_9400
    finally:
        await rig.close()
    assert SimCo2Laser("co2", TwinStore()).source is LaserSource.CO2_10600  # the line's CO2 kind


@pytest.mark.parametrize(
    ("simulator", "options", "model"),
    [
        (SimLaser, {}, "LV-355"),
        (SimLaser, {"source": LaserSource.CO2_9400}, "LC-94"),
        (SimCo2Laser, {}, "LC-106"),
    ],
)
def test_the_model_built_is_the_model_the_tool_is(
    simulator: type[SimLaser], options: dict[str, LaserSource], model: str
):
    """`model_built` (what a served line names a tool's serial number after) states the model
    the simulator built with those options says it is: the CO2 laser's `LC-106`, never the
    spec's UV model."""
    assert simulator.model_built(options) == model
    assert simulator("laser", TwinStore(), **options).model == model


async def test_load_and_unload_through_the_door(rig: Rig):
    await load(rig, "W01")
    assert await rig.driver.request_wafer() == "W01"
    with pytest.raises(CommandRefused, match="enclosure door closed") as info:
        await rig.driver.unload()
    assert info.value.code == "-221"
    await rig.driver.open_enclosure()
    assert await rig.driver.unload() == "W01"
    assert await rig.driver.request_wafer() is None
    with pytest.raises(ToolStateError, match="no wafer on the chuck"):
        await rig.driver.unload()


# ------------------------------------------------------------------------ drilling


@pytest.mark.parametrize(
    ("source", "recipe"), [(LaserSource.UV_355, UV_DRILL), (LaserSource.CO2_10600, CO2_DRILL)]
)
async def test_drilling_to_metal_opens_every_site_and_stops_on_the_copper(source, recipe):
    rig = await open_rig(source)
    try:
        wafer = laminated(rig.twin, "W01")
        await load(rig, "W01")
        result = await rig.driver.drill_vias(recipe)
        assert result.sites == result.vias_open == wafer.geometry.site_count
        assert wafer.openings.layers[-1].open.all()
        vias = wafer.openings.layers[-1]
        np.testing.assert_array_equal(vias.depth_um, wafer.resin_um)  # not a µm into the Cu
        assert (wafer.openings.layers[-1].diameter_um == recipe.diameter_um).all()
        assert wafer.history[-1].operation == "laser drill"
        assert wafer.history[-1].detail["vias_open"] == wafer.geometry.site_count
        assert result.process_time_s > 1.0
        assert rig.clock.now() >= result.process_time_s - 0.0005  # the reply's 3 decimals
    finally:
        await rig.close()


async def test_a_panel_top_up_is_drilled_through_its_tape_to_the_metal_layer_at_its_holes():
    """000:a: the holes end on the interconnection layer; the beam leaves the solder resist
    under them whole (the UV tool's breakthrough detection stops on the copper)."""
    rig = await open_rig(incoming=PanelSpec(rows=2, columns=3))
    try:
        panel = rig.twin.get("P01")
        await rig.driver.open_enclosure()
        await rig.driver.load("P01", FaceUp.FRONT)
        await rig.driver.close_enclosure()
        result = await rig.driver.drill_vias(UV_DRILL)
        holes = panel.openings.substrate
        assert result.vias_open == panel.geometry.site_count == 2 * 3 * 4 * 6
        assert holes.open.all()
        np.testing.assert_array_equal(holes.depth_um, panel.geometry.thickness_um)
        assert (holes.diameter_um == UV_DRILL.diameter_um).all()
        resist, openings = panel.resins.layers[0], panel.openings.layers[0]
        assert resist.face is Face.BACK
        assert not openings.open.any()
        assert panel.history[-1].detail["face"] == "front"
        assert panel.exposed_metal.all()  # the copper at every hole's bottom, seen from above
    finally:
        await rig.close()


async def test_a_panel_bottom_up_gets_its_solder_resist_opened_down_to_the_metal():
    """000:a's openings in the solder resist, drilled with the panel's back up; the tape's
    holes are the top's and stay closed; the tool says which face lies up."""
    rig = await open_rig(incoming=PanelSpec(rows=2, columns=3))
    try:
        panel = rig.twin.get("P01")
        await rig.driver.open_enclosure()
        await rig.driver.load("P01", FaceUp.BACK)
        assert await rig.driver.request_face_up() is FaceUp.BACK
        await rig.driver.close_enclosure()
        result = await rig.driver.drill_vias(UV_DRILL)
        resist, openings = panel.resins.layers[0], panel.openings.layers[0]
        assert result.vias_open == panel.geometry.site_count
        assert openings.open.all()
        np.testing.assert_array_equal(openings.depth_um, resist.thickness_um)
        assert not panel.openings.substrate.open.any()
        assert panel.history[-1].detail["face"] == "back"
        await rig.driver.disable_emission()
        await rig.driver.open_enclosure()
        await rig.driver.unload()
        assert await rig.driver.request_face_up() is FaceUp.FRONT
    finally:
        await rig.close()


async def test_flipping_a_panel_on_the_chuck_drills_both_faces_in_one_visit():
    """000:a in one load: the tape's holes from the top, the flipper, the solder resist's
    openings from the bottom; no flip while a job runs or without a panel."""
    rig = await open_rig(incoming=PanelSpec(rows=1, columns=2))
    try:
        with pytest.raises(CommandRefused, match="no wafer on the chuck"):
            await rig.driver.flip()
        panel = rig.twin.get("P01")
        await load(rig, "P01")
        await rig.driver.drill_vias(UV_DRILL)
        await rig.driver.flip()
        assert await rig.driver.request_face_up() is FaceUp.BACK
        await rig.driver.drill_vias(UV_DRILL)
        assert panel.openings.substrate.open.all()
        assert panel.openings.layers[0].open.all()
        assert [e.detail["face"] for e in panel.history] == ["front", "back"]
        rig.sim.job = ScanJob.plan(
            JobKind.CLEAN, panel, np.arange(4), started_s=rig.clock.now(), frequency_hz=1e5,
            fluence_j_cm2=0.2, depth_um=None, diameter_um=30, spot_diameter_um=20,
            clean_pulses=50, atmosphere=Atmosphere.AIR, gas_jet=False, suction=False,
            physics=rig.sim.physics,
        )  # fmt: skip
        with pytest.raises(CommandRefused, match="job running; flip cannot change"):
            await rig.driver.flip()
    finally:
        await rig.close()


def test_cleaning_from_the_back_reaches_the_metal_in_the_solder_resist_openings_only():
    panel = TwinStore(PanelSpec(rows=1, columns=2)).get("P01")
    physics = LaserPhysics()
    sites = np.arange(panel.geometry.site_count)
    assert laser_clean(panel, sites, 0.2, 50, Atmosphere.FORMING_GAS, True, True, physics,
                       Face.BACK) == (0, 0)  # fmt: skip
    panel.openings.layers[0].open[:5] = True
    oxide = panel.surface.oxide_nm.copy()
    at_metal, damaged = laser_clean(
        panel, sites, 0.2, 50, Atmosphere.FORMING_GAS, True, True, physics, Face.BACK
    )
    assert (at_metal, damaged) == (5, 0)
    assert (panel.surface.oxide_nm[:5] < oxide[:5]).all()
    np.testing.assert_array_equal(panel.surface.oxide_nm[5:], oxide[5:])


async def test_drilling_to_a_depth_short_of_the_metal_leaves_the_vias_closed(rig: Rig):
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    concave = DrillRecipe(
        diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100, mode=DrillMode.TO_DEPTH, depth_um=30
    )
    result = await rig.driver.drill_vias(concave)
    assert result.vias_open == 0
    assert not wafer.openings.layers[-1].open.any()
    depths = wafer.openings.layers[-1].depth_um
    # each via stops at the depth scattered by the line's 1 % (1 sigma), within its 5 sigma
    assert np.abs(depths - 30.0).max() <= 30.0 * DEPTH_SPREAD + 1e-4
    assert depths.std() == pytest.approx(30.0 * DEPTH_CV, rel=0.1)
    # the second process (002:1h) removes the bottoms: drilling on to the metal opens them
    second = await rig.driver.drill_vias(UV_DRILL)
    assert second.vias_open == wafer.geometry.site_count
    assert second.process_time_s < result.process_time_s  # only 20 µm were left


@pytest.mark.parametrize(("depth_um", "vias_open", "left_um"), [(11.4, 0, 0.6), (12.7, 1, 0.0)])
async def test_a_concave_portion_over_an_interconnect_reaches_its_metal_through_the_resin_on_it(
    rig: Rig, depth_um: float, vias_open: int, left_um: float
):
    """A 5 um interconnect under a coat 12 um thick over its top: the layer is 17 um thick
    there from the wafer, but a beam from its top meets the metal 12 um down (002:1f): 11.4 um
    (at most 11.97 um, past it by the depth's 5 % spread) leaves at least 0.03 um of resin, 0.6
    um on average; 12.7 um (at least 12.065 um) opens every via, stopping on the copper at 12
    um."""
    wafer = rig.twin.get("W01")
    wafer.bumps.height_um[:] = 5.0
    wafer.bumps.material = "Cu"
    wafer.add_resin(ResinKind.THERMOSET, 17.0)
    await load(rig, "W01")
    to_depth = DrillRecipe(
        diameter_um=30, fluence_j_cm2=3, rep_rate_khz=100, mode=DrillMode.TO_DEPTH,
        depth_um=depth_um,
    )  # fmt: skip
    result = await rig.driver.drill_vias(to_depth)
    assert result.vias_open == vias_open * wafer.geometry.site_count
    vias = wafer.openings.layers[-1]
    assert vias.depth_um.max() <= min(depth_um * (1 + DEPTH_SPREAD), 12.0) + 1e-4
    assert vias.depth_um.min() >= min(depth_um * (1 - DEPTH_SPREAD), 12.0) - 1e-4
    left = vias.stages[-1].left_um
    assert left.mean() == pytest.approx(left_um, abs=0.01)
    assert (left > 0).all() if left_um else not left.any()


async def test_drilling_only_the_given_sites(rig: Rig):
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    sites = list(range(10, 260, 2))  # 125 sites: two ADD lines
    result = await rig.driver.drill_vias(UV_DRILL, sites)
    assert (result.sites, result.vias_open) == (125, 125)
    assert np.flatnonzero(wafer.openings.layers[-1].open).tolist() == sites


async def test_a_50_um_polyimide_via_takes_about_5_ms_at_355_nm(rig: Rig):
    laminated(rig.twin, "W01")
    await load(rig, "W01")
    via = DrillRecipe(diameter_um=50, fluence_j_cm2=3, rep_rate_khz=100)
    result = await rig.driver.drill_vias(via, [0])
    assert 0.004 <= result.process_time_s <= 0.008


async def test_drilling_records_progress_and_power_and_is_busy_while_it_runs(rig: Rig):
    laminated(rig.twin, "W01")
    await load(rig, "W01")
    states: list[ToolState] = []
    rig.driver.add_reading_listener(lambda reading: states.append(rig.driver.state))
    await rig.driver.drill_vias(UV_DRILL)
    progress = [r.value for r in rig.driver.readings if r.name == "progress"]
    assert progress == [0.0, 100.0]  # as the job starts and as it ends (*OPC? between them)
    power = [r.value for r in rig.driver.readings if r.name == "power"]
    assert power == [pytest.approx(0.9425, rel=1e-3)] * len(progress)  # 3 J/cm2, 20 µm, 100 kHz
    assert set(states) == {ToolState.BUSY}
    assert rig.driver.state is ToolState.IDLE
    status = await rig.driver.request_status()
    assert (status.emission_enabled, status.shutter_open) == (True, False)
    assert status.job.state is JobState.DONE


async def test_engineering_mode_drills_and_stays_in_engineering(rig: Rig):
    laminated(rig.twin, "W01")
    await load(rig, "W01")
    await rig.driver.enter_engineering()
    await rig.driver.drill_vias(UV_DRILL, [0, 1])
    assert rig.driver.e10_state is E10State.ENGINEERING
    await rig.driver.leave_engineering()
    assert rig.driver.state is ToolState.IDLE


# ------------------------------------------------------------------------ cleaning


async def test_cleaning_in_reducing_gas_with_jet_and_suction_leaves_no_residue_and_no_oxide(
    rig: Rig,
):
    wafer = bumped(rig.twin, "W01", metal="Cu")
    await load(rig, "W01")
    started = rig.clock.now()
    result = await rig.driver.clean_surfaces(
        clean_in(Atmosphere.FORMING_GAS, gas_jet=True, suction=True)
    )
    assert result.sites == result.metal_sites == wafer.geometry.site_count
    assert wafer.surface.residue_nm.max() == 0.0
    assert wafer.surface.oxide_nm.max() == 0.0
    assert (wafer.bumps.height_um == 40.0).all()  # below the threshold: no metal lost
    assert rig.clock.now() - started >= 30.0  # the forming-gas purge took process time
    assert wafer.history[-1].detail["metal_damaged_sites"] == 0


async def test_cleaning_in_air_leaves_oxide_and_grows_it_on_copper(rig: Rig):
    copper = bumped(rig.twin, "CU", metal="Cu")
    await load(rig, "CU")
    await rig.driver.clean_surfaces(clean_in(Atmosphere.AIR, gas_jet=True, suction=True))
    assert copper.surface.residue_nm.max() == 0.0
    assert copper.surface.oxide_nm.min() > 3.0  # incoming 3 nm, grown by laser heating in air
    await rig.driver.disable_emission()
    await rig.driver.open_enclosure()
    await rig.driver.unload()
    gold = bumped(rig.twin, "AU", metal="Au")
    await rig.driver.load("AU")
    await rig.driver.close_enclosure()
    await rig.driver.clean_surfaces(clean_in(Atmosphere.AIR, gas_jet=True, suction=True))
    assert (gold.surface.oxide_nm == 3.0).all()  # not grown on gold, but not removed either


@pytest.mark.parametrize("atmosphere", [Atmosphere.NITROGEN, Atmosphere.REDUCED_PRESSURE])
async def test_inert_gas_and_reduced_pressure_neither_grow_nor_remove_oxide(rig: Rig, atmosphere):
    wafer = bumped(rig.twin, "W01", metal="Cu")
    await load(rig, "W01")
    await rig.driver.clean_surfaces(clean_in(atmosphere, suction=True))
    assert (wafer.surface.oxide_nm == 3.0).all()
    assert wafer.surface.residue_nm.max() < 0.5


async def test_without_suction_part_of_the_residue_redeposits(rig: Rig):
    wafer = bumped(rig.twin, "W01")
    incoming = wafer.surface.residue_nm.copy()
    await load(rig, "W01")
    await rig.driver.clean_surfaces(clean_in(Atmosphere.ARGON, gas_jet=True, suction=False))
    assert (wafer.surface.residue_nm > 0).all()
    np.testing.assert_allclose(wafer.surface.residue_nm, 0.3 * incoming, rtol=1e-5)


async def test_cleaning_skips_sites_whose_metal_is_buried(rig: Rig):
    wafer = bumped(rig.twin, "W01")
    wafer.resins.layers[-1].thickness_um[:100] = 60.0  # these tips are under the resin
    await load(rig, "W01")
    result = await rig.driver.clean_surfaces(clean_in(Atmosphere.ARGON, gas_jet=True, suction=True))
    assert result.metal_sites == wafer.geometry.site_count - 100
    assert (wafer.surface.residue_nm[:100] > 0).all()
    assert wafer.surface.residue_nm[100:].max() == 0.0


async def test_fluence_above_the_metal_threshold_is_refused_by_the_driver_with_nothing_sent(
    rig: Rig,
):
    wafer = bumped(rig.twin, "W01")
    await load(rig, "W01")
    rig.sim.received.clear()
    too_hot = CleanRecipe(fluence_j_cm2=1.0, rep_rate_khz=100, pulses_per_site=50)
    with pytest.raises(LimitViolation, match=r"clean_fluence_j_cm2 = 1 J/cm2 .* \[0.05, 0.3\]"):
        await rig.driver.clean_surfaces(too_hot)
    assert rig.sim.received == []
    assert (wafer.bumps.height_um == 40.0).all()
    # explicitly allowed, the damage is visible: the bumps lose height
    result = await rig.driver.clean_surfaces(too_hot, allow_metal_damage=True)
    assert result.metal_sites == wafer.geometry.site_count
    assert wafer.bumps.height_um.max() < 39.0
    assert wafer.history[-1].detail["metal_damaged_sites"] == wafer.geometry.site_count


# ------------------------------------------------------------------------ interlocks and refusals


async def test_the_open_enclosure_interlock_refuses_emission_and_jobs(rig: Rig):
    laminated(rig.twin, "W01")
    await rig.driver.open_enclosure()
    await rig.driver.load("W01")
    rig.sim.received.clear()
    with pytest.raises(InterlockOpen, match="enable emission: interlock open: enclosure_closed"):
        await rig.driver.enable_emission()
    with pytest.raises(InterlockOpen, match="open shutter: interlock open: enclosure_closed"):
        await rig.driver.open_shutter()
    with pytest.raises(InterlockOpen, match="drill vias: interlock open: enclosure_closed"):
        await rig.driver.drill_vias(UV_DRILL)
    # only reads: the job's interlocks with its wafer, in one compound query
    assert rig.sim.received == [":SYST:INT?", ":SYST:INT?", ":SYST:INT?;:WAF?"]
    assert not rig.sim.emission
    assert not rig.twin.get("W01").openings.layers[-1].depth_um.any()
    assert rig.driver.state is ToolState.IDLE


async def test_emission_forced_past_the_driver_is_refused_by_the_tool(rig: Rig, monkeypatch):
    await rig.driver.open_enclosure()

    async def skip_interlock_check(action: str, names: object) -> None:
        return None

    monkeypatch.setattr(rig.driver, "require_interlocks", skip_interlock_check)
    with pytest.raises(
        CommandRefused, match=r"enable emission: Settings conflict: enclosure open"
    ) as info:
        await rig.driver.enable_emission()
    assert info.value.code == "-221"
    assert not rig.sim.emission


async def test_a_value_out_of_the_tools_range_sent_past_the_driver_is_refused_by_the_tool():
    rig = await open_rig()
    testing.force_limits(rig.driver, {"clean_fluence_j_cm2": (0.05, 50.0)})
    try:
        bumped(rig.twin, "W01")
        await load(rig, "W01")
        hot = CleanRecipe(fluence_j_cm2=30, rep_rate_khz=100, pulses_per_site=50)
        with pytest.raises(
            CommandRefused, match=r"Data out of range: :SOUR:FLU 30 outside"
        ) as info:
            await rig.driver.clean_surfaces(hot)
        assert info.value.code == "-222"
        assert rig.sim.fluence_j_cm2 == 0.2  # unchanged
        assert rig.sim.received[-2:] == [":ABOR", "*OPC?"]  # the safe state was commanded
        assert not rig.sim.emission
        assert rig.driver.state is ToolState.IDLE
    finally:
        await rig.close()


async def test_opening_the_enclosure_while_emitting_is_refused_by_the_tool(rig: Rig):
    await rig.driver.enable_emission()
    with pytest.raises(CommandRefused, match="emission on"):
        await rig.driver.open_enclosure()
    await rig.driver.disable_emission()
    await rig.driver.open_enclosure()


async def test_opening_the_enclosure_with_the_shutter_open_is_refused_by_the_tool(rig: Rig):
    """Found by an independent client: the door opened with the shutter open."""
    await rig.driver.open_shutter()
    with pytest.raises(CommandRefused, match="Settings conflict: shutter open") as refused:
        await rig.driver.open_enclosure()
    assert refused.value.code == "-221"
    assert not rig.sim.door_open
    await rig.driver.close_shutter()
    await rig.driver.open_enclosure()


async def test_a_refused_emission_opens_no_shutter_and_starts_no_job(rig: Rig):
    """A power fault latched its alarm with emission on, unseen by the driver (it reads the
    alarms at connect and when a job fails): the job's emission is refused (-221), and
    neither the shutter nor the start follows it, on a tool that runs the units after an
    execution error. The safe state is commanded."""
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    rig.sim.inject_fault("power_drift")
    await rig.driver.enable_emission()
    assert rig.sim.alarms == ["POWER_TOLERANCE"]  # latched, emission switched off
    rig.sim.received.clear()
    with pytest.raises(CommandRefused, match="drill vias: Settings conflict: alarm active"):
        await rig.driver.drill_vias(UV_DRILL)
    assert not [line for line in rig.sim.received if "SHUT OPEN" in line or "JOB:STAR" in line]
    assert ":OUTP ON" in rig.sim.received  # in a message of its own
    assert rig.sim.received[-2:] == [":ABOR", "*OPC?"]
    assert (rig.sim.emission, rig.sim.shutter_open, rig.sim.job) == (False, False, None)
    assert not wafer.openings.layers[-1].depth_um.any()


async def test_a_refused_job_start_leaves_the_shutter_closed_and_emission_off(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    """The tool's panel changes the atmosphere between the driver's emission and its start:
    the shutter opens, the start in its message is refused (-221, the argon not settled), and
    the driver commands the safe state: shutter closed, emission off, no job."""
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    send = rig.driver.send

    async def panel_changes_the_atmosphere_before_the_start(action: str, *commands: str) -> None:
        if any(command.startswith(":JOB:STAR") for command in commands):
            assert rig.sim.answer(":PROC:ATM ARG") is None
        await send(action, *commands)

    monkeypatch.setattr(rig.driver, "send", panel_changes_the_atmosphere_before_the_start)
    with pytest.raises(CommandRefused, match="Settings conflict: atmosphere Ar not ready"):
        await rig.driver.drill_vias(UV_DRILL)
    assert ":OUTP:SHUT OPEN;:JOB:STAR DRIL" in rig.sim.received
    assert rig.sim.received[-2:] == [":ABOR", "*OPC?"]
    assert (rig.sim.emission, rig.sim.shutter_open, rig.sim.job) == (False, False, None)
    assert not wafer.openings.layers[-1].depth_um.any()
    assert rig.driver.state is ToolState.IDLE


async def test_a_job_without_a_wafer_is_refused_before_anything_is_set(rig: Rig):
    rig.sim.received.clear()
    with pytest.raises(ToolStateError, match="no wafer on the chuck"):
        await rig.driver.drill_vias(UV_DRILL)
    assert rig.sim.received == [":SYST:INT?;:WAF?"]


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        # within one line: the second 1 is refused, and the line adds nothing
        ([":JOB:SIT:ADD 0,1,1"], []),
        # across lines: 1, added by the first line, is refused in the second, which adds
        # nothing (2 with it); the first line's sites stay selected
        ([":JOB:SIT:ADD 0,1", ":JOB:SIT:ADD 2,1"], [0, 1]),
        # a cleared selection takes its sites again, and then refuses them a second time
        ([":JOB:SIT:ADD 0,1", ":JOB:SIT:CLE", ":JOB:SIT:ADD 1,0", ":JOB:SIT:ADD 0"], [1, 0]),
    ],
)
async def test_a_site_selected_twice_is_refused_on_the_wire_and_adds_nothing(
    rig: Rig, lines: list[str], kept: list[int]
):
    await load(rig, "W01")
    link = rig.driver.link
    for line in lines:
        await link.write(line)
    assert await link.query(":SYST:ERR?") == '-224,"Illegal parameter value;site selected twice"'
    assert await link.query(":SYST:ERR?") == '0,"No error"'
    assert rig.sim.chuck.selected_sites().tolist() == kept
    await link.write(":JOB:SIT:ADD 3,2")  # a site not yet selected is still taken
    assert await link.query(":SYST:ERR?") == '0,"No error"'
    assert rig.sim.chuck.selected_sites().tolist() == [*kept, 3, 2]


# ------------------------------------------------------------------------ alarms, abort, loss


async def inject_part_way(rig: Rig, fault: str) -> None:
    """Inject `fault` into the tool a fifth of the way through the next job it runs."""
    while not rig.sim.operation_pending():
        await rig.clock.sleep(0.01)
    assert rig.sim.job is not None
    await rig.clock.sleep(rig.sim.job.total_s / 5)
    rig.sim.inject_fault(fault)


@pytest.mark.parametrize(
    ("fault", "alarm"),
    [("power_drift", "POWER_TOLERANCE"), ("enclosure_opened", "INTERLOCK_OPEN")],
)
async def test_every_alarm_faults_the_job_and_reset_recovers(rig: Rig, fault: str, alarm: str):
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    injection = asyncio.create_task(inject_part_way(rig, fault))
    with pytest.raises(ToolAlarm, match=alarm):
        await rig.driver.drill_vias(UV_DRILL)
    await injection
    assert rig.driver.state is ToolState.FAULT
    assert rig.driver.e10_state is E10State.UNSCHEDULED_DOWNTIME
    assert list(rig.driver.active_alarms) == [alarm]
    assert (rig.sim.emission, rig.sim.shutter_open) == (False, False)
    assert (await rig.driver.request_progress()).state is JobState.FAULTED
    assert 0 < wafer.openings.layers[-1].open.sum() < wafer.geometry.site_count  # stopped part-way
    assert wafer.history[-1].detail["outcome"] == "faulted"

    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await rig.driver.drill_vias(UV_DRILL)
    rig.sim.clear_fault(fault)
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.alarm_history[-1].code == alarm
    result = await rig.driver.drill_vias(UV_DRILL)  # finishes the rest
    assert wafer.openings.layers[-1].open.all()
    assert result.vias_open == wafer.geometry.site_count


async def test_a_persisting_power_fault_raises_its_alarm_again_after_reset(rig: Rig):
    rig.sim.inject_fault("power_drift")
    await rig.driver.enable_emission()
    assert await rig.driver.refresh_alarms()
    assert rig.driver.state is ToolState.FAULT
    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await rig.driver.enable_emission()
    await rig.driver.reset()  # the latched alarm clears: emission is off, nothing drifts now
    assert rig.driver.state is ToolState.IDLE
    await rig.driver.enable_emission()
    assert [a.code for a in await rig.driver.refresh_alarms()] == ["POWER_TOLERANCE"]
    rig.sim.clear_fault("power_drift")
    await rig.driver.reset()
    await rig.driver.enable_emission()
    assert await rig.driver.refresh_alarms() == []


async def test_cancelling_a_job_leaves_the_safe_state(rig: Rig):
    wafer = laminated(rig.twin, "W01")
    await load(rig, "W01")
    running = asyncio.Event()
    rig.driver.add_reading_listener(lambda r: running.set() if r.name == "progress" else None)
    task = asyncio.create_task(rig.driver.drill_vias(UV_DRILL))
    async with asyncio.timeout(10):
        await running.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.sim.received[-2:] == [":ABOR", "*OPC?"]
    assert (rig.sim.emission, rig.sim.shutter_open) == (False, False)
    assert (await rig.driver.request_progress()).state is JobState.ABORTED
    assert wafer.history[-1].detail["outcome"] == "aborted"
    assert rig.driver.state is ToolState.IDLE


async def test_abort_when_idle_leaves_emission_off(rig: Rig):
    await rig.driver.enable_emission()
    await rig.driver.open_shutter()
    await rig.driver.abort()
    assert (rig.sim.emission, rig.sim.shutter_open) == (False, False)
    assert rig.driver.state is ToolState.IDLE


# ------------------------------------------------------------------------ physics at wafer scale


def test_the_physics_of_a_300_mm_wafer():  # its cost: bench/twin.py
    wafer = new_wafer("BIG", WaferSpec(diameter_mm=300, die_size_mm=(5, 5), pads_per_die_side=6))
    assert wafer.geometry.site_count > 60_000
    wafer.add_resin(ResinKind.THERMOSET, 50.0)
    wafer.bumps.height_um[: wafer.geometry.site_count // 2] = 60.0
    physics = LaserPhysics()
    sites = np.arange(wafer.geometry.site_count)
    pulses = via_pulses(wafer, sites, None, 30.0, 20.0, 3.0, physics)
    assert (
        ablate_vias(wafer, sites, pulses, None, 30.0, 20.0, 3.0, physics)
        == wafer.geometry.site_count
    )
    at_metal, damaged = laser_clean(
        wafer, sites, 0.2, 50, Atmosphere.FORMING_GAS, True, True, physics
    )
    assert (at_metal, damaged) == (wafer.geometry.site_count, 0)
