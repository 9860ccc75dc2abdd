"""The GEM grinder driver against the simulated GEM grinder: the role's sequences over E30."""

from __future__ import annotations

import asyncio
import datetime as dt

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
from packline.drivers.families.scpi_wire import command
from packline.drivers.roles.grinder import CycleResult, GrindPhase, GrindRecipe, GrindSide
from packline.drivers.specs.grinder import PROCESSED_LAST, SPEC

RECIPE = GrindRecipe(300)


async def chuck(grinder, wafer_id: str = "W1") -> None:
    await grinder.load(wafer_id, GrindSide.BACK)
    await grinder.apply_chuck_vacuum()


@pytest.mark.parametrize("name", ["wafer_load", "wafer_reload", "wafer_unload"])
def test_what_no_status_variable_tells_is_judged_last(name: str) -> None:
    """The GEM grinder leaves a load of a wafer it processed last to the tool, which no status
    variable tells it of: it names the first reason the SCPI face names only while that is the
    last of the preconditions a command declares."""
    assert PROCESSED_LAST not in command(SPEC, name).preconditions[:-1]


async def test_identity_the_wafer_on_the_chuck_and_its_refusals(grinder_bench) -> None:
    """What a load and an unload need of the chuck is refused before their remote command is
    sent, in the words the SCPI grinder refuses it with (its -221 detail and its 203 message):
    over GEM the grinder's own refusal, HCACK 2, would say only that it cannot perform now."""
    grinder = await grinder_bench.driver()
    assert str(grinder.identity) == "packline GR-2 s/n GR-2-0001 fw 1.0"
    assert await grinder.request_e10_state() is E10State.STANDBY  # no E10 SV: the driver's own
    assert await grinder.request_wafer() is None
    assert await grinder.request_gauge_resolution_um() == pytest.approx(0.1)
    await chuck(grinder)
    wafer = await grinder.request_wafer()
    assert (wafer.wafer_id, wafer.side) == ("W1", GrindSide.BACK)
    assert await grinder.request_thickness_um() == pytest.approx(725.0)
    assert await grinder.request_interlocks() == {
        "chuck_vacuum": True,
        "wafer_present": True,
        "grinding_water": True,
    }
    with pytest.raises(
        ToolStateError, match=r"unload wafer: chuck vacuum is on; release it first$"
    ):
        await grinder.unload()  # the vacuum holds it
    with pytest.raises(
        WorkpieceHeld,
        match=r"load wafer W2 for back grinding: the tool already holds W1: unload it, or have "
        r"it taken off and the tool cleared, before loading another \(wafer W1 is on the "
        r"chuck\)$",
    ) as held:
        await grinder.load("W2", GrindSide.BACK)  # the chuck is taken, before the vacuum
    assert held.value.workpieces == ("W1",)
    await grinder.release_chuck_vacuum()
    await grinder.unload()
    assert await grinder.request_wafer() is None
    with pytest.raises(ToolStateError, match=r"unload wafer: No wafer on chuck$"):
        await grinder.unload()
    await grinder.apply_chuck_vacuum()  # on an empty chuck
    with pytest.raises(
        ToolStateError, match=r"load wafer W2 for back grinding: chuck vacuum is on"
    ):
        await grinder.load("W2", GrindSide.BACK)
    received = grinder_bench.equipment.received
    assert (received.count("S2F41 LOAD"), received.count("S2F41 UNLOAD")) == (1, 1)


async def test_a_wafer_is_thinned_and_the_wait_ends_on_its_event(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    heard = grinder_bench.heard_at_events()
    result = await grinder.grind(RECIPE)
    resolution_um = result.gauge_resolution_um
    assert (result.wafer_id, result.side, result.start_thickness_um) == ("W1", GrindSide.BACK, 725)
    assert 300.0 <= result.final_thickness_um < 300.0 + resolution_um  # never below the target
    assert 300.0 <= grinder_bench.twin.get("W1").geometry.thickness_um < 300.0 + resolution_um
    assert result.process_time_s > 60
    assert heard["cycle_ended"][-1] == "S2F41 START"  # no polling while it ground
    status = await grinder.request_status()
    assert (status.phase, status.cycle_count, status.last_result) == (
        GrindPhase.IDLE,
        1,
        CycleResult.COMPLETED,
    )
    assert [r.name for r in grinder.readings] == ["thickness"]
    assert grinder.state is ToolState.IDLE


async def test_limits_and_targets_are_refused_before_the_tool_moves(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    grinder_bench.equipment.received.clear()
    with pytest.raises(LimitViolation, match="spindle_rpm = 7000 rpm"):
        await grinder.grind(GrindRecipe(300, spindle_rpm=7000))
    with pytest.raises(LimitViolation, match=r"target_thickness_um = 800 um .*725"):
        await grinder.grind(GrindRecipe(800))  # not below the gauge reading
    assert not any(name.startswith(("S2F15", "S2F41")) for name in grinder_bench.equipment.received)


async def test_a_constant_outside_the_tools_range_is_refused_with_eac_3(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    with pytest.raises(CommandRefused, match="EAC 3"):
        await grinder.set_constants("set spindle", {"spindle_rpm": 9000.0})
    assert (await grinder.request_constants("read", "spindle_rpm")) == [4500.0]


async def test_interlocks_are_checked_before_the_start(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    grinder_bench.model.tool.inject_fault("water_supply")
    with pytest.raises(InterlockOpen, match="grinding_water"):
        await grinder.grind(RECIPE)
    assert "S2F41 START" not in grinder_bench.equipment.received


async def test_an_empty_chuck_is_refused_before_the_interlocks_as_the_scpi_grinder_does(
    grinder_bench,
) -> None:
    """The grinder checks an empty chuck (203) before its interlocks (201): with the grinding
    water off too, the driver names the empty chuck, in the SCPI grinder's words."""
    grinder = await grinder_bench.driver()
    grinder_bench.model.tool.inject_fault("water_supply")
    with pytest.raises(ToolStateError, match=r"grind: No wafer on chuck$"):
        await grinder.grind(RECIPE)
    assert not any(name.startswith(("S2F15", "S2F41")) for name in grinder_bench.equipment.received)


async def test_a_glazed_wheel_is_pushed_as_an_alarm_and_ends_the_cycle(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    grinder_bench.model.tool.inject_fault("wheel_glazed")
    with pytest.raises(ToolAlarm, match="WHEEL_LOAD"):
        await grinder.grind(RECIPE)
    assert grinder.state is ToolState.FAULT
    assert (await grinder.request_status()).phase is GrindPhase.FAULT
    grinder_bench.model.tool.clear_fault("wheel_glazed")
    await grinder.reset()
    assert grinder.state is ToolState.IDLE


async def test_a_constant_cannot_change_while_grinding(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    grind = asyncio.create_task(grinder.grind(RECIPE))
    while "S2F41 START" not in grinder_bench.equipment.received:
        await grinder_bench.clock.sleep(1)
    with pytest.raises(CommandRefused, match="EAC 2"):
        await grinder.set_constants("set spindle", {"spindle_rpm": 4000.0})
    await grind


async def test_the_host_asks_for_an_event_report_s6f15(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await chuck(grinder)
    event = await grinder.gem.request_event_report(3001)  # cycle_ended, linked at connect
    assert event.ceid == 3001
    values = grinder.event_values("cycle_ended", event)
    assert (values["phase"], values["cycle_count"], values["thickness_um"]) == ("idle", 0, 725.0)
    assert event.values[1011].scalar == 725.0  # by VID, as the host defined the report
    with pytest.raises(CommandRefused, match="no collection event 3999 on the tool"):
        await grinder.gem.request_event_report(3999)


async def test_the_standard_status_variables_are_the_equipments_own(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    clock, control, events, alarms, set_now = await grinder.request_values(
        "read", "clock", "control_state", "events_enabled", "alarms_enabled", "alarms_set"
    )
    assert len(clock) == 16  # TIME: YYYYMMDDhhmmsscc
    assert clock.isdigit()
    await grinder.gem.set_clock(dt.datetime(2031, 5, 6, 7, 8, 9))  # S2F31: the SV follows it
    assert (await grinder.request_values("read", "clock"))[0].startswith("2031050607")
    assert (control, events, alarms, set_now) == (5, (3001,), (4001, 4002, 4003), ())
    await chuck(grinder)
    grinder_bench.model.tool.inject_fault("wheel_glazed")
    with pytest.raises(ToolAlarm, match="WHEEL_LOAD"):
        await grinder.grind(RECIPE)
    assert await grinder.request_values("read", "alarms_set") == [(4001,)]


async def test_switched_to_local_the_tool_refuses_the_hosts_remote_commands(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    grinder_bench.equipment.control.switch(local=True)  # the operator's switch on the tool
    assert await grinder.request_values("read", "control_state") == [4]  # online local
    with pytest.raises(CommandRefused, match="HCACK 2: cannot perform now"):
        await grinder.load("W1", GrindSide.BACK)
    assert await grinder.request_wafer() is None  # the host may still watch
    grinder_bench.equipment.control.switch(local=False)
    assert await grinder.request_values("read", "control_state") == [5]  # online remote
    await grinder.load("W1", GrindSide.BACK)


async def test_terminal_messages_one_text_and_several_lines(grinder_bench) -> None:
    grinder = await grinder_bench.driver()
    await grinder.gem.send_terminal_message("wheel change at shift end")
    await grinder.gem.send_terminal_lines(["lot L7 next", "target 300 um"], terminal=1)
    assert grinder_bench.equipment.terminal_messages == [
        (0, "wheel change at shift end"),
        (1, "lot L7 next\ntarget 300 um"),
    ]
    assert grinder_bench.equipment.received[-2:] == ["S10F3", "S10F5"]


async def test_a_plain_load_of_a_wafer_the_grinder_processed_last_is_refused_naming_it(
    grinder_bench,
) -> None:
    """The grinder refuses it after what it needs of the chuck (`PROCESSED_LAST`, which no
    status variable tells the driver): over GEM HCACK 3 with CPACK 2 on the wafer's id."""
    grinder = await grinder_bench.driver()
    tool = grinder_bench.model.tool
    grinder_bench.twin.get("W1").record(tool.name, "grind", 0.0)
    with pytest.raises(CommandRefused, match="HCACK 3") as refused:
        await grinder.load("W1", GrindSide.BACK)
    assert "WAFER" in str(refused.value)
    assert tool.wafer_id is None


async def test_a_load_with_an_alarm_latched_is_refused_naming_it_before_anything_is_sent(
    grinder_bench,
) -> None:
    """The grinder's phase (`FAULT` while an alarm is latched) tells the driver what the SCPI
    face refuses first (`ALARM_ACTIVE`, 202): the load is refused as the alarm, which the
    driver reads and enters its fault with, before the remote command is sent."""
    grinder = await grinder_bench.driver()
    grinder_bench.model.tool.inject_fault("gauge_fault")  # latched as the tool next advances
    with pytest.raises(ToolAlarm, match=r"load wafer W1 for back grinding: alarm GAUGE_FAULT"):
        await grinder.load("W1", GrindSide.BACK)
    assert grinder.state is ToolState.FAULT
    assert "S2F41 LOAD" not in grinder_bench.equipment.received


async def rework_load(grinder) -> None:
    """A load of W2 as a rework (`reloading`): the grinder's `WAF:REL`."""
    with grinder.reloading(["W2"]):
        await grinder.load("W2", GrindSide.BACK)


@pytest.mark.parametrize(
    ("action", "refused"),
    [
        (
            lambda grinder: grinder.load("W2", GrindSide.BACK),
            "load wafer W2 for back grinding: WAF:LOAD",
        ),
        (rework_load, "load wafer W2 for back grinding: WAF:REL"),
        (lambda grinder: grinder.unload(), "unload wafer: WAF:UNL"),
    ],
    ids=["load", "rework load", "unload"],
)
async def test_a_load_or_an_unload_while_a_cycle_runs_is_refused_before_anything_is_sent(
    grinder_bench, action, refused: str
) -> None:
    """The grinder's phase (a stage while a cycle runs) tells the driver what the SCPI face
    refuses first (`GRINDING`, -221): the command is refused in its words, the command named
    as the SCPI grinder names it (a rework load as `WAF:REL`), before the remote command is
    sent."""
    grinder = await grinder_bench.driver()
    tool = grinder_bench.model.tool
    for line in ('WAF:LOAD "W1",BACK', "CHUC:VAC ON", "GRIN:TARG 300", "GRIN:STAR"):
        tool.answer(line)  # a cycle started at the tool, which the driver did not start
    grinder_bench.equipment.received.clear()
    with pytest.raises(ToolStateError, match=rf"{refused} not allowed while grinding$"):
        await action(grinder)
    assert not [sent for sent in grinder_bench.equipment.received if sent.startswith("S2F41")]
    assert tool.wafer_id == "W1"


async def test_a_grind_with_an_alarm_the_driver_has_not_seen_is_refused_as_the_alarm(
    grinder_bench,
) -> None:
    """The phase the driver reads with the wafer before a grind (`FAULT` while an alarm is
    latched) tells it what `GRIN:STAR` refuses before the chuck (`ALARM_ACTIVE`): the grind is
    refused as the alarm, which the driver reads (S5F5) and enters its fault with, before
    anything is sent that changes the tool."""
    grinder = await grinder_bench.driver()
    tool = grinder_bench.model.tool
    tool.inject_fault("gauge_fault")  # latched as the tool advances, then repaired
    tool.clear_fault("gauge_fault")  # the chuck is empty too
    grinder_bench.equipment.received.clear()
    with pytest.raises(ToolAlarm, match=r"grind: alarm GAUGE_FAULT"):
        await grinder.grind(RECIPE)
    assert grinder.state is ToolState.FAULT
    changed = [
        sent for sent in grinder_bench.equipment.received if sent.startswith(("S2F15", "S2F41"))
    ]
    assert not changed
