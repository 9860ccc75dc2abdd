"""Hardware-in-the-loop: the real grinder driver against the simulated grinder on loopback.

Process time runs on a VirtualClock shared by driver and simulator, so minutes of grinding cost
milliseconds. The VISA link talks to the simulator's SCPI socket exactly as to a real tool.
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
    WorkpieceHeld,
)
from packline.drivers.grinder import ScpiGrinder
from packline.drivers.links import ReconnectPolicy, open_link
from packline.drivers.roles.grinder import (
    CycleResult,
    GrindPhase,
    GrindRecipe,
    GrindSide,
    WaferOnChuck,
)
from packline.sim_instruments.grinder import SimGrinder
from packline.sim_instruments.physics.grinder import grind_to_level, total_thickness_um
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, WaferSpec

RECIPE = GrindRecipe(300)
#: The corner of the process window that roughens the surface most.
ROUGHEST = GrindRecipe(
    300, spindle_rpm=3500, chuck_rpm=100, coarse_feed_um_s=10, fine_feed_um_s=0.5
)


Rig = testing.Rig[SimGrinder, ScpiGrinder]


async def open_rig(gauge_resolution_um: float = 0.1, incoming: PanelSpec | None = None) -> Rig:
    """The driver on a simulated grinder whose line receives wafers, or `incoming` panels."""
    sim = SimGrinder(
        "grinder", TwinStore(incoming), VirtualClock(), gauge_resolution_um=gauge_resolution_um
    )
    return await testing.open_rig(
        sim, ScpiGrinder, timeout_s=2.0, reconnect=ReconnectPolicy(1, 0.05)
    )


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = await open_rig()
    yield rig
    await rig.close()


async def chuck(rig: Rig, wafer_id: str = "W01", side: GrindSide = GrindSide.BACK) -> None:
    await rig.driver.load(wafer_id, side)
    await rig.driver.apply_chuck_vacuum()


def sealed_wafer(twin: TwinStore, wafer_id: str, resin_um: float, bump_um: float) -> None:
    """A wafer whose front carries resin and bumps (bump tips above the resin when bump > resin)."""
    wafer = twin.get(wafer_id)
    wafer.add_resin(ResinKind.THERMOSET, resin_um)
    wafer.bumps.height_um[:] = bump_um


async def wait_for(rig: Rig, condition, what: str) -> None:
    """Let process time pass until `condition()` holds of the simulated grinder brought to the
    present (its model is lazy: a held `*OPC?` looks at it only when its cycle's segment ends),
    bounded on the wall clock."""
    async with asyncio.timeout(5):
        while True:
            rig.sim.advance()
            if condition():
                return
            await rig.clock.sleep(0.5)


async def test_identity_and_standby_after_connect(rig: Rig):
    assert str(rig.driver.identity) == "packline GR-2 s/n GR-2-0001 fw 1.0"
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.e10_state is E10State.STANDBY
    assert rig.sim.received == ["*IDN?", "GRIN:STAT?", "SYST:ALAR?", "*CLS"]


async def test_load_chuck_and_unload(rig: Rig):
    assert await rig.driver.request_wafer() is None
    assert await rig.driver.request_thickness_um() == 0.0  # the gauge on the bare chuck
    await chuck(rig, "W01", GrindSide.FRONT)
    assert await rig.driver.request_wafer() == WaferOnChuck("W01", GrindSide.FRONT)
    assert await rig.driver.request_thickness_um() == 725.0
    assert await rig.driver.request_substrate_thickness_um() == 725.0
    assert await rig.driver.request_interlocks() == {
        "chuck_vacuum": True,
        "wafer_present": True,
        "grinding_water": True,
    }
    with pytest.raises(CommandRefused, match="chuck vacuum is on; release it first"):
        await rig.driver.unload()
    with pytest.raises(WorkpieceHeld, match=r"holds W01.*wafer W01 is on the chuck") as held:
        await rig.driver.load("W02", GrindSide.BACK)
    assert held.value.workpieces == ("W01",)
    assert isinstance(held.value.__cause__, CommandRefused)
    assert held.value.__cause__.code == "-221"
    await rig.driver.release_chuck_vacuum()
    await rig.driver.unload()
    assert await rig.driver.request_wafer() is None
    with pytest.raises(CommandRefused, match="No wafer on chuck"):
        await rig.driver.unload()


async def test_unloading_keeps_the_last_cycles_progress_and_time(rig: Rig):
    """Found by an independent client: an unload reset fields 7 and 8 of `GRIN:STAT?`, which
    the page defines as the current or last cycle."""
    await chuck(rig)
    await rig.driver.grind(RECIPE)
    ended = await rig.driver.request_status()
    assert ended.progress_pct == 100.0
    assert ended.cycle_time_s > 200
    await rig.driver.release_chuck_vacuum()
    await rig.driver.unload()
    await rig.driver.load("W02", GrindSide.BACK)
    status = await rig.driver.request_status()
    assert (status.progress_pct, status.cycle_time_s) == (100.0, ended.cycle_time_s)


async def test_a_bad_wafer_id_is_refused_before_anything_is_sent(rig: Rig):
    rig.sim.received.clear()
    for bad in ("", "W" * 17, "W 01"):
        with pytest.raises(ValueError, match="1-16 printable ASCII"):
            await rig.driver.load(bad, GrindSide.BACK)
    for bad in ("W,01", "W;01", 'W"01'):
        with pytest.raises(ValueError, match="comma, semicolon or double quote"):
            await rig.driver.load(bad, GrindSide.BACK)
    assert rig.sim.received == []


@pytest.mark.parametrize("resolution_um", [0.1, 0.5, 1.0])
async def test_back_grinding_to_300_um_stops_within_the_gauge_resolution(resolution_um: float):
    rig = await open_rig(gauge_resolution_um=resolution_um)
    try:
        await chuck(rig)
        result = await rig.driver.grind(RECIPE)
        wafer = rig.twin.get("W01")
        assert result.gauge_resolution_um == resolution_um
        assert result.final_thickness_um == 300.0
        assert result.start_thickness_um == 725.0
        substrate_um = wafer.geometry.thickness_um
        assert 300.0 <= substrate_um < 300.0 + resolution_um  # never below the target
        thickness = [r.value for r in rig.driver.readings if r.name == "thickness"]
        assert min(thickness) >= 300.0
        assert thickness == sorted(thickness, reverse=True)
        assert [r.value for r in rig.driver.readings if r.name == "progress"][-1] == 100.0
        assert max(r.value for r in rig.driver.readings if r.name == "spindle_load") > 10.0
        assert result.process_time_s == pytest.approx(rig.clock.now(), abs=1.5)
        assert wafer.operations() == ["grind"]
        assert rig.driver.state is ToolState.IDLE
        assert rig.sim.last_result is CycleResult.COMPLETED
    finally:
        await rig.close()


async def test_the_cycle_goes_coarse_fine_polish_and_the_driver_is_productive(rig: Rig):
    await chuck(rig)
    grind = asyncio.create_task(rig.driver.grind(RECIPE))
    seen: list[GrindPhase] = []

    def watch() -> bool:
        if not seen or seen[-1] is not rig.sim.phase:
            seen.append(rig.sim.phase)
        return grind.done()

    await wait_for(rig, lambda: rig.sim.phase is GrindPhase.COARSE, "coarse")
    assert rig.driver.state is ToolState.BUSY
    assert rig.driver.e10_state is E10State.PRODUCTIVE
    await wait_for(rig, watch, "the end of the cycle")
    await grind
    assert seen == [GrindPhase.COARSE, GrindPhase.FINE, GrindPhase.POLISH, GrindPhase.IDLE]
    assert rig.driver.e10_state is E10State.STANDBY


async def test_the_held_opc_is_answered_as_the_cycle_ends_looking_once_a_segment(rig: Rig):
    """The tool holding `*OPC?` looks at itself when a stretch of removal at one feed ends,
    so the reply comes at the cycle's end (within the driver's reading of it), after a few
    looks rather than one a second of a cycle of minutes."""
    await chuck(rig)
    looks = testing.count_looks(rig.sim)
    await rig.driver.grind(RECIPE)
    cycle = rig.sim.cycle
    assert cycle is not None
    assert cycle.ended_s is not None
    assert rig.clock.now() == pytest.approx(cycle.ended_s, abs=1e-6)
    assert cycle.ended_s - cycle.started_s > 60
    assert 2 <= len(looks) <= 12


async def test_front_grinding_removes_resin_and_bump_tops_to_the_new_surface(rig: Rig):
    sealed_wafer(rig.twin, "F01", resin_um=80, bump_um=100)  # tips stand 20 um above the resin
    await chuck(rig, "F01", GrindSide.FRONT)
    result = await rig.driver.grind(GrindRecipe(775))  # leaves 50 um on the substrate
    wafer = rig.twin.get("F01")
    assert result.start_thickness_um == 825.0
    assert result.final_thickness_um == 775.0
    assert wafer.geometry.thickness_um == 725.0  # the substrate is untouched
    assert np.all((wafer.resin_um >= 50.0) & (wafer.resin_um < 50.1))
    assert np.array_equal(wafer.bumps.height_um, wafer.resin_um)  # bump tops flush with the resin
    assert wafer.tip_projection_um.max() == 0.0


async def test_a_sealed_panel_is_ground_until_its_die_backs_are_flush_with_the_resin():
    """000:f: the gauge reads the tape with its metal layer and solder resist under it; the
    wheel cuts the sealing resin, then resin and die backs together, down to the target."""
    rig = await open_rig(incoming=PanelSpec(rows=1, columns=2))
    try:
        panel = rig.twin.get("P01")
        panel.dies.unit = np.arange(2, dtype=np.int32)
        panel.dies.thickness_um = np.full(2, 350.0, np.float32)
        panel.add_resin(ResinKind.SEALING, 400.0)
        base = 75.0 + 18.0 + 20.0  # tape, copper, solder resist
        await chuck(rig, "P01", GrindSide.FRONT)
        assert await rig.driver.request_thickness_um() == pytest.approx(base + 400)
        result = await rig.driver.grind(GrindRecipe(base + 250))
        assert result.final_thickness_um == pytest.approx(base + 250, abs=0.1)
        assert np.all((panel.dies.thickness_um >= 250) & (panel.dies.thickness_um < 250.1))
        np.testing.assert_array_equal(
            panel.resins.top().thickness_um[0], panel.dies.thickness_um[0]
        )
        assert panel.geometry.thickness_um == 75.0  # the tape untouched
    finally:
        await rig.close()


async def test_resin_grinds_faster_than_silicon_at_the_same_feed(rig: Rig):
    sealed_wafer(rig.twin, "RESIN", resin_um=200, bump_um=0)
    await chuck(rig, "RESIN", GrindSide.FRONT)
    resin = await rig.driver.grind(GrindRecipe(825))  # 100 um of resin
    resin_load = max(r.value for r in rig.driver.readings if r.name == "spindle_load")
    await rig.driver.release_chuck_vacuum()
    await rig.driver.unload()
    rig.driver.readings.clear()
    await chuck(rig, "SILICON", GrindSide.BACK)
    silicon = await rig.driver.grind(GrindRecipe(625))  # 100 um of silicon
    silicon_load = max(r.value for r in rig.driver.readings if r.name == "spindle_load")

    assert resin.removed_um == silicon.removed_um == 100.0
    resin_rate = resin.removed_um / resin.process_time_s
    silicon_rate = silicon.removed_um / silicon.process_time_s
    assert resin_rate > 1.15 * silicon_rate
    assert resin_load < silicon_load
    assert rig.twin.get("RESIN").resin_um.max() < 100.1


@pytest.mark.parametrize("polish_allowance_um", [0.0, 2.0])
async def test_fine_grinding_and_polishing_leave_ra_below_0_2_um(rig: Rig, polish_allowance_um):
    await chuck(rig)
    recipe = GrindRecipe(
        300, spindle_rpm=3500, chuck_rpm=100, coarse_feed_um_s=10, fine_feed_um_s=0.5,
        polish_allowance_um=polish_allowance_um,
    )  # fmt: skip
    grind = asyncio.create_task(rig.driver.grind(recipe))
    await wait_for(rig, lambda: rig.sim.phase is GrindPhase.FINE, "the fine wheel")
    wafer = rig.twin.get("W01")
    assert wafer.finish.roughness_ra_um > 0.2  # the coarse wheel alone leaves a rough surface
    await grind
    assert wafer.finish.roughness_ra_um < 0.2
    assert wafer.finish.thickness_variation_um < 1.5
    if polish_allowance_um:
        assert wafer.finish.roughness_ra_um < 0.01


async def test_a_wafer_already_near_the_target_skips_the_coarse_wheel(rig: Rig):
    await chuck(rig)
    result = await rig.driver.grind(GrindRecipe(700, fine_allowance_um=30))
    assert result.final_thickness_um == 700.0
    feeds = {r.value for r in rig.driver.readings if r.name == "feed"}
    assert 0.3 in feeds  # 725 um is within 700 + 2 + 30: the fine wheel starts
    assert 8.0 not in feeds


# ----------------------------------------------------------------- refusals and interlocks


async def test_out_of_limit_setpoints_are_refused_and_nothing_is_sent(rig: Rig):
    await chuck(rig)
    rig.sim.received.clear()
    for recipe, match in [
        (GrindRecipe(300, spindle_rpm=6000), "spindle_rpm = 6000 rpm"),
        (GrindRecipe(300, chuck_rpm=50), "chuck_rpm = 50 rpm"),
        (GrindRecipe(300, coarse_feed_um_s=12), "coarse_feed_um_s = 12 um/s"),
        (GrindRecipe(300, fine_feed_um_s=0.05), "fine_feed_um_s = 0.05 um/s"),
        (GrindRecipe(30), "target_thickness_um = 30 um"),
    ]:
        with pytest.raises(LimitViolation, match=match):
            await rig.driver.grind(recipe)
    assert rig.sim.received == []
    assert rig.driver.state is ToolState.IDLE


async def test_a_target_below_what_the_wafer_can_take_is_refused_before_the_tool_moves(rig: Rig):
    sealed_wafer(rig.twin, "F01", resin_um=80, bump_um=100)
    await chuck(rig, "F01", GrindSide.FRONT)
    rig.sim.received.clear()
    with pytest.raises(LimitViolation, match=r"front_remaining_um = 5 um .*\[10, 2000\]"):
        await rig.driver.grind(GrindRecipe(730))  # into the bump bases on a 725 um substrate
    assert all(command.endswith("?") for command in rig.sim.received)  # queries only
    await rig.driver.release_chuck_vacuum()
    await rig.driver.unload()
    sealed_wafer(rig.twin, "B01", resin_um=80, bump_um=100)
    await chuck(rig, "B01", GrindSide.BACK)
    rig.sim.received.clear()
    with pytest.raises(LimitViolation, match="substrate_remaining_um = 40 um"):
        await rig.driver.grind(GrindRecipe(140))  # 100 um of features + 40 um of silicon
    assert all(command.endswith("?") for command in rig.sim.received)
    assert rig.twin.get("B01").geometry.thickness_um == 725.0
    assert rig.sim.cycle_count == 0


async def test_the_tool_refuses_a_value_forced_past_the_driver_with_its_own_error():
    rig = await open_rig()
    testing.force_limits(rig.driver, {"spindle_rpm": (3500, 8000)})
    try:
        await chuck(rig)
        with pytest.raises(CommandRefused, match="SPIN:SPEE 7000 outside 1000-6000 rpm") as error:
            await rig.driver.grind(GrindRecipe(300, spindle_rpm=7000))
        assert error.value.code == "-222"
        assert "grind W01: set the recipe: Data out of range" in str(error.value)
        assert "GRIN:STAR" not in rig.sim.received
        assert rig.sim.phase is GrindPhase.IDLE
        assert rig.driver.state is ToolState.IDLE
        assert rig.sim.spindle_rpm == 4500.0  # the refused value changed nothing
    finally:
        await rig.close()


async def test_raw_scpi_errors_from_the_tool(rig: Rig):
    link = rig.driver.link
    for command, error in [
        ("GRIN:TARG 5", '-222,"Data out of range;GRIN:TARG 5 outside 20-2000 um"'),
        ("GRIN:TARG abc", '-104,"Data type error;GRIN:TARG abc is not a number"'),
        ("GRIN:TARG", '-109,"Missing parameter;GRIN:TARG"'),
        ("ABOR 1", '-108,"Parameter not allowed;ABOR takes no parameter"'),
        ('WAF:LOAD "W01",TOP', '-224,"Illegal parameter value;side TOP is not FRONT or BACK"'),
        # a wafer id is a quoted string, as on the laser (conventions.md)
        ("WAF:LOAD W01,BACK", '-104,"Data type error;wafer id W01 must be a quoted string"'),
        (
            'WAF:LOAD "W 01",BACK',
            '-224,"Illegal parameter value;wafer id ""W 01"" is not 1-16 printable characters"',
        ),
        ("FOO:BAR 1", '-113,"Undefined header;FOO:BAR"'),
        ("SP@N 1", '-102,"Syntax error;header SP@N"'),
        ("GRIN:STAR", '203,"No wafer on chuck"'),
        ("WAF:UNL", '203,"No wafer on chuck"'),
        # what a load needs of the chuck, in the spec's words (its preconditions)
        ("CHUC:VAC ON", '0,"No error"'),
        ('WAF:LOAD "W01",BACK', '-221,"Settings conflict;chuck vacuum is on; release it first"'),
        ("CHUC:VAC OFF", '0,"No error"'),
        ('WAF:LOAD "W01",BACK', '0,"No error"'),
        ('WAF:REL "W02",BACK', '-221,"Settings conflict;wafer W01 is on the chuck"'),
    ]:
        await link.write(command)
        assert await link.query("SYST:ERR?") == error
    assert await link.query("SYST:ERR?") == '0,"No error"'
    # long forms and lower case are the same commands
    await link.write("spindle:speed 5000")
    assert await link.query(":SPINDLE:SPEED?") == "5000"


#: What a grind reads before it sends anything that changes the tool.
READS_BEFORE_START = [":SYST:INT?;:WAF?;:MEAS:THIC?;:MEAS:SUBS?", ":GAUG:RES?;:GRIN:STAT?"]


@pytest.mark.parametrize(
    ("setup", "open_interlocks"),
    [
        ("vacuum off", ["chuck_vacuum"]),
        ("vacuum_leak", ["chuck_vacuum"]),
        ("water_supply", ["grinding_water"]),
    ],
)
async def test_interlocks_refuse_the_grind_before_spindle_and_feed(
    rig: Rig, setup: str, open_interlocks: list[str]
):
    if setup == "vacuum off":
        await rig.driver.load("W01", GrindSide.BACK)
    else:
        await chuck(rig)
        rig.sim.inject_fault(setup)
    rig.sim.received.clear()
    with pytest.raises(InterlockOpen) as refused:
        await rig.driver.grind(RECIPE)
    assert refused.value.interlocks == open_interlocks
    assert rig.sim.received == READS_BEFORE_START  # only reads
    assert rig.driver.state is ToolState.IDLE
    # the tool guards itself too: started past the driver, it refuses with its own error
    await rig.driver.link.write("GRIN:TARG 300")
    await rig.driver.link.write("GRIN:STAR")
    reply = await rig.driver.link.query("SYST:ERR?")
    assert reply.startswith("201,")
    assert rig.sim.phase is GrindPhase.IDLE


async def test_an_empty_chuck_refuses_the_grind_before_the_interlocks_as_the_tool_does(rig: Rig):
    """With an empty chuck and the grinding water off, the driver names the empty chuck, as
    the tool's own `GRIN:STAR` does (203 before 201), and only reads."""
    rig.sim.inject_fault("water_supply")
    rig.sim.received.clear()
    with pytest.raises(ToolStateError, match=r"grind: No wafer on chuck$"):
        await rig.driver.grind(RECIPE)
    assert rig.sim.received == READS_BEFORE_START
    await rig.driver.link.write("GRIN:TARG 300")
    await rig.driver.link.write("GRIN:STAR")
    assert await rig.driver.link.query("SYST:ERR?") == '203,"No wafer on chuck"'
    assert rig.sim.phase is GrindPhase.IDLE


async def test_an_alarm_the_driver_has_not_seen_refuses_the_grind_before_anything_is_sent(
    rig: Rig,
):
    """An alarm latched since the driver last read the tool (its state still ready) is what
    `GRIN:STAR` refuses before the chuck and the interlocks (202): the status the driver reads
    before sending anything says `FAULT`, and the driver reads the alarms and raises them, in
    FAULT, with an empty chuck and the interlocks open too: only reads were sent."""
    rig.sim.inject_fault("water_supply")
    rig.sim.inject_fault("gauge_fault")  # latched as the tool advances, then repaired
    rig.sim.clear_fault("gauge_fault")
    rig.sim.received.clear()
    with pytest.raises(ToolAlarm, match=r"grind: alarm GAUGE_FAULT"):
        await rig.driver.grind(RECIPE)
    assert rig.sim.received == [*READS_BEFORE_START, "SYST:ALAR?"]
    assert rig.driver.state is ToolState.FAULT


async def test_a_cycle_started_past_the_driver_refuses_the_grind_in_the_tools_words(rig: Rig):
    """A cycle the tool runs that the driver did not start (its state still ready) is what
    `GRIN:STAR` refuses first: the status the driver reads before sending anything says a
    stage, and the driver refuses in the words the tool would (`GRINDING`), sending nothing."""
    await chuck(rig)
    for sent in ("GRIN:TARG 300", "GRIN:STAR"):
        await rig.driver.link.write(sent)
    rig.sim.received.clear()
    with pytest.raises(ToolStateError, match=r"grind: GRIN:STAR not allowed while grinding$"):
        await rig.driver.grind(RECIPE)
    assert rig.sim.received == READS_BEFORE_START
    assert rig.driver.state is ToolState.IDLE


async def test_vacuum_cannot_be_released_while_grinding(rig: Rig):
    await chuck(rig)
    grind = asyncio.create_task(rig.driver.grind(RECIPE))
    await wait_for(rig, lambda: rig.sim.phase is GrindPhase.COARSE, "coarse")
    with pytest.raises(ToolStateError, match="release chuck vacuum: not allowed while busy"):
        await rig.driver.release_chuck_vacuum()
    # past the driver, on a connection of its own (the driver's holds *OPC?): the tool refuses
    async with open_link(rig.sim.address, tool="grinder", clock=rig.sim.clock) as link:
        await link.write("CHUC:VAC OFF")
        assert await link.query("SYST:ERR?") == (
            '-221,"Settings conflict;CHUC:VAC not allowed while grinding"'
        )
    assert rig.sim.vacuum_on
    await grind


async def test_while_grinding_each_load_and_the_unload_is_refused_in_its_own_name(rig: Rig):
    """The settings conflict that refuses a load, a rework load and an unload while a cycle
    runs names the command refused (`WAF:REL` for the rework, not the plain load it is a form
    of), and the wafer stays on the chuck."""
    await chuck(rig)
    grind = asyncio.create_task(rig.driver.grind(RECIPE))
    await wait_for(rig, lambda: rig.sim.phase is GrindPhase.COARSE, "coarse")
    # past the driver, on a connection of its own (the driver's holds *OPC?): the tool refuses
    async with open_link(rig.sim.address, tool="grinder", clock=rig.sim.clock) as link:
        for sent, refused in [
            ('WAF:LOAD "W02",BACK', "WAF:LOAD"),
            ('WAF:REL "W02",BACK', "WAF:REL"),
            ("WAF:UNL", "WAF:UNL"),
        ]:
            await link.write(sent)
            assert await link.query("SYST:ERR?") == (
                f'-221,"Settings conflict;{refused} not allowed while grinding"'
            )
        assert await link.query("WAF?") == '"W01",BACK'
    await grind


# ----------------------------------------------------------------- alarms


async def test_a_feed_too_fast_for_the_fine_wheel_raises_wheel_load():
    rig = await open_rig()
    testing.force_limits(rig.driver, {"fine_feed_um_s": (0.1, 2.0)})
    try:
        await chuck(rig)
        with pytest.raises(ToolAlarm, match="WHEEL_LOAD"):
            await rig.driver.grind(GrindRecipe(300, fine_feed_um_s=1.0))
        assert rig.sim.last_result is CycleResult.FAULTED
        assert rig.driver.state is ToolState.FAULT
        status = await rig.driver.request_status()
        assert (status.phase, status.spindle_rpm, status.feed_um_s) == (GrindPhase.FAULT, 0, 0)
        # the coarse wheel had done its part: the fine wheel faulted at its first cut
        assert 330.0 <= rig.twin.get("W01").geometry.thickness_um < 332.1
        assert "grind faulted" in rig.twin.get("W01").operations()
        await rig.driver.reset()
        assert rig.driver.state is ToolState.IDLE
    finally:
        await rig.close()


@pytest.mark.parametrize(
    ("fault", "alarm"),
    [
        ("wheel_glazed", "WHEEL_LOAD"),
        ("gauge_fault", "GAUGE_FAULT"),
        ("vacuum_leak", "INTERLOCK_OPENED"),
        ("water_supply", "INTERLOCK_OPENED"),
    ],
)
async def test_alarm_during_grinding_faults_the_tool_until_reset(rig: Rig, fault: str, alarm: str):
    await chuck(rig)
    grind = asyncio.create_task(rig.driver.grind(RECIPE))
    await wait_for(rig, lambda: rig.sim.cycle is not None and rig.sim.cycle.level_um < 700, "cut")
    rig.sim.inject_fault(fault)
    with pytest.raises(ToolAlarm, match=alarm):
        await grind
    assert rig.driver.state is ToolState.FAULT
    assert rig.driver.e10_state is E10State.UNSCHEDULED_DOWNTIME
    assert rig.sim.last_result is CycleResult.FAULTED
    assert rig.twin.get("W01").geometry.thickness_um > 300.0  # stopped where it was
    with pytest.raises(ToolStateError, match="not allowed while fault"):
        await rig.driver.grind(RECIPE)
    rig.sim.clear_fault(fault)
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE
    assert rig.driver.active_alarms == {}
    assert [a.code for a in rig.driver.alarm_history] == [alarm]
    result = await rig.driver.grind(RECIPE)  # the cycle can be run again to the target
    assert result.final_thickness_um == 300.0


async def test_reset_is_refused_while_the_gauge_is_still_broken(rig: Rig):
    await chuck(rig)
    rig.sim.inject_fault("gauge_fault")
    with pytest.raises(ToolAlarm, match="GAUGE_FAULT"):
        await rig.driver.request_thickness_um()
    with pytest.raises(ToolAlarm, match="reset: alarm GAUGE_FAULT"):
        await rig.driver.reset()
    assert rig.driver.state is ToolState.FAULT
    await rig.driver.link.write("GRIN:STAR")  # past the driver: the tool refuses too
    assert await rig.driver.link.query("SYST:ERR?") == '202,"Alarm active;GAUGE_FAULT"'
    rig.sim.clear_fault("gauge_fault")
    await rig.driver.reset()
    assert rig.driver.state is ToolState.IDLE


# ----------------------------------------------------------------- abort, loss, modes


async def test_cancelled_grind_leaves_the_safe_state(rig: Rig):
    await chuck(rig)
    grind = asyncio.create_task(rig.driver.grind(RECIPE))
    await wait_for(rig, lambda: rig.sim.phase is GrindPhase.FINE, "the fine wheel")
    grind.cancel()
    with pytest.raises(asyncio.CancelledError):
        await grind
    assert "ABOR" in rig.sim.received
    assert rig.sim.last_result is CycleResult.ABORTED
    status = await rig.driver.request_status()
    assert (status.phase, status.spindle_rpm, status.chuck_rpm, status.feed_um_s) == (
        GrindPhase.IDLE, 0, 0, 0,
    )  # fmt: skip
    assert rig.sim.vacuum_on  # the wafer stays held
    assert rig.driver.state is ToolState.IDLE
    stopped_at = rig.twin.get("W01").geometry.thickness_um
    await rig.clock.sleep(60)
    assert await rig.driver.request_thickness_um() == pytest.approx(stopped_at, abs=0.1)
    assert "grind aborted" in rig.twin.get("W01").operations()


# ----------------------------------------------------------------- physics at wafer scale


def test_front_grinding_a_300_mm_wafer_steps_down_to_each_level():  # its cost: bench/twin.py
    twin = TwinStore(WaferSpec(diameter_mm=300, die_size_mm=(5.0, 5.0), pads_per_die_side=6))
    wafer = twin.get("BIG")
    assert wafer.geometry.site_count > 60_000
    wafer.add_resin(
        ResinKind.THERMOSET, np.linspace(70, 80, wafer.geometry.site_count, dtype=np.float32)
    )
    wafer.bumps.height_um[:] = 90
    start = total_thickness_um(wafer)
    for step in range(20):
        grind_to_level(wafer, GrindSide.FRONT, start - step)
        assert total_thickness_um(wafer) == pytest.approx(start - step)
    assert wafer.bumps.height_um.max() == pytest.approx(71.0)
