"""The GEM wire bonder driver against the simulated GEM bonder: the role's sequences over E30."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import numpy as np
import pytest

from packline.drivers.equipment import E10State, ToolState
from packline.drivers.errors import (
    CommandRefused,
    InterlockOpen,
    LimitViolation,
    ProtocolError,
    ToolAlarm,
)
from packline.drivers.roles.wire_bonder import (
    BonderState,
    BondProgram,
    HeightSummary,
    RunResult,
    WireMaterial,
)
from packline.drivers.secs.items import L, item
from packline.sim_instruments.physics.wire_bonder import wire_per_stud_m

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)


async def test_connect_reads_identity_and_sets_up_reports(bench) -> None:
    bonder = await bench.driver()
    assert str(bonder.identity) == "packline WB-1 s/n WB-1-0001 fw 1.0"
    assert bonder.state is ToolState.IDLE
    equipment = bench.equipment
    assert equipment.online
    assert equipment.communicating
    assert equipment.enabled_events == {3001, 3100}  # the run's end, the job states (E40)
    assert equipment.links == {3001: (3001,), 3100: (3100,)}
    assert equipment.enabled_alarms == {4001, 4002, 4003, 4004, 4005}


async def test_a_whole_wafer_is_bumped_and_the_run_ends_on_its_event(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    result = await bonder.form_stud_bumps(PROGRAM, stack_count=2)
    assert (result.wafer_id, result.sites_requested, result.bumps_formed) == ("W01", 784, 784)
    assert result.process_time_s > 0
    summary = await bonder.request_bump_height_summary()
    heights = await bonder.request_bump_heights()
    assert summary.bumped_sites == 784 == int((heights > 0).sum())
    # the mean to 2 decimals, of sites to 1
    assert summary.mean_um == pytest.approx(heights.mean(), abs=0.01)
    assert np.array_equal(heights[10:20], await bonder.request_bump_heights(10, 10))
    assert (await bonder.request_program()) == PROGRAM
    status = await bonder.request_status()
    assert (status.state, status.last_result) == (BonderState.IDLE, RunResult.COMPLETED)
    # no polling: after START only the five queries above crossed the wire
    received = bench.equipment.received
    queries = ["S1F3", "S1F3", "S1F3", "S2F13", "S1F3"]
    assert received[received.index("S2F41 START") :] == ["S2F41 START", *queries]
    await bonder.unload("W01")
    assert (await bonder.request_status()).wafer_id is None


async def test_the_gem_face_reports_what_the_host_link_reports_at_its_resolution(bench) -> None:
    """A bump measured over the GEM face reads as over the host link (`HGT:STAT?`, `HGT?`,
    `STAT?` to their spec's decimals): a run of bump-seal-clean driven on GEM read its lowest
    bump 57.36 um where the host link's 57.4, a difference `diff` and `spc` showed that was
    only resolution."""
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    await bonder.form_stud_bumps(PROGRAM, stack_count=2)
    host_link = bench.model.tool

    def fields(query: str) -> dict[str, str]:
        return dict(word.split("=", 1) for word in host_link.answer(query).split())

    summary = await bonder.request_bump_height_summary()
    written = fields("HGT:STAT?")
    assert summary == HeightSummary(
        int(written["BUMPS"]), *(float(written[key]) for key in ("MIN", "MEAN", "MAX", "STD"))
    )
    assert summary.min_um != host_link.twin.get("W01").bumps.height_um.min()  # as measured
    first, heights = host_link.answer("HGT? 0 20").split(" ")
    assert first == "0"
    assert (await bonder.request_bump_heights(0, 20)).tolist() == pytest.approx(
        [float(height) for height in heights.split(",")],
        abs=1e-5,  # F4 on the wire
    )
    status = await bonder.request_status()
    written = fields("STAT?")
    assert (status.stage_temperature_c, status.wire_remaining_m, status.elapsed_s) == tuple(
        float(written[key]) for key in ("STAGE", "SPOOL", "ELAPSED")
    )


async def test_no_wafers_heights_are_refused_in_the_host_links_words(bench) -> None:
    """With no wafer on the chuck the GEM face gives the bump heights and the wafer map no value
    (an empty list, E30's answer for a status variable the tool lacks), where it gave 0: the
    driver raises the `CommandRefused` the host-link driver raises of `ERR 6`, with its words
    and its actions, its code the SVID. A loaded wafer with no bump reads 0 bumps again."""
    bonder = await bench.driver()
    with pytest.raises(CommandRefused) as refused:
        await bonder.request_bump_height_summary()
    assert (refused.value.action, refused.value.reason) == (
        "read bump heights",
        "no wafer on the chuck",
    )
    assert refused.value.code == "SVID 1030"
    with pytest.raises(CommandRefused, match=r"heights: no wafer on the chuck \(tool error SVID"):
        await bonder.request_bump_heights()
    with pytest.raises(CommandRefused, match="read wafer map: no wafer on the chuck"):
        await bonder.request_site_count()
    bench.twin.receive("W01")
    await bonder.load("W01")
    assert (await bonder.request_bump_height_summary()).bumped_sites == 0
    assert await bonder.request_site_count() == 784


async def test_an_empty_list_is_refused_only_of_what_the_tool_may_be_unable_to_give(
    bench, monkeypatch
) -> None:
    """A real tool may send a list-valued status variable as a list of one-element items, as
    E30 lists its own (`alarms_set`, the ALIDs set), and with no element as an empty list:
    that reads as its elements, or none (no alarm set), never as a refused reading, which only
    the variables the driver names are (`no_value_because`: the bonder's heights with no
    wafer). A variable the tool does not know (E30: an empty list) is a `ProtocolError`
    naming it, not a refusal that did nothing."""
    bonder = await bench.driver()
    variables = bonder.dictionary.status_variables
    ids = {name: variables[name].id for name in ("alarms_set", "serial_number")}
    read = bonder.gem.request_status_variables
    unknown: set[int] = set()

    async def as_an_e30_tool_sends(svids):
        values = await read(svids)
        return [
            L()
            if svid in unknown
            else L(*(item(value.format, [element]) for element in value.value))
            if svid == ids["alarms_set"]
            else value
            for svid, value in zip(svids, values, strict=True)
        ]

    monkeypatch.setattr(bonder.gem, "request_status_variables", as_an_e30_tool_sends)
    assert await bonder.request_values("read alarms", "alarms_set") == [()]
    with pytest.raises(CommandRefused, match="read bump heights: no wafer on the chuck"):
        await bonder.request_bump_heights()
    unknown.add(ids["serial_number"])
    with pytest.raises(ProtocolError) as not_known:
        await bonder.request_values("read identity", "serial_number")
    assert not isinstance(not_known.value, CommandRefused)
    assert (
        f"read identity: status variable serial_number ({ids['serial_number']}): an empty "
        "list, E30's answer for a variable the tool does not know" in str(not_known.value)
    )
    bench.twin.receive("W01")
    await bonder.load("W01")
    bench.model.tool.inject_fault("wire_break")
    with pytest.raises(ToolAlarm, match="WIRE_BREAK"):
        await bonder.form_stud_bumps(PROGRAM)
    assert await bonder.request_values("read alarms", "alarms_set") == [(4001,)]


async def test_the_watcher_looks_at_the_run_when_it_changes_not_every_second(bench) -> None:
    """The face's watcher wakes when bumping starts and when the run ends (the bonder's
    `next_change_s`), not every second of a run of minutes; and the wire the run took is the
    same whenever anything else looked at the bonder meanwhile (here every 0.37 s)."""
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    sim = bench.model.tool
    looks: list[float] = []  # the watcher's, and what its reports ask
    advance = sim.advance

    def counted() -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name().endswith("watcher"):
            looks.append(bench.clock.now())
        advance()

    sim.advance = counted  # type: ignore[method-assign]

    async def look_now_and_then() -> None:
        while True:
            sim.advance()
            await bench.clock.sleep(0.37)

    looker = asyncio.create_task(look_now_and_then())
    try:
        result = await bonder.form_stud_bumps(PROGRAM, stack_count=2)
    finally:
        looker.cancel()
        await asyncio.gather(looker, return_exceptions=True)
    assert result.process_time_s > 120
    assert len(set(looks)) <= 3  # the start, bumping's start, the end (whose report looks too)
    feed_m = wire_per_stud_m(PROGRAM, sim.physics) * 2
    assert sim.spool_m == sim.physics.spool_length_m - result.bumps_formed * feed_m


async def test_selected_sites_only(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    result = await bonder.form_stud_bumps(PROGRAM, sites=[3, 1, 2, 700])
    assert (result.sites_requested, result.bumps_formed) == (4, 4)
    heights = await bonder.request_bump_heights()
    assert np.flatnonzero(heights).tolist() == [1, 2, 3, 700]


async def test_a_program_past_a_bound_by_rounding_reaches_the_bonder_as_the_bound(bench) -> None:
    """A value a unit conversion left an ulp past a bound is taken, and the bonder is sent the
    bound itself (`Limit.held`), never the value past it."""
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    received = bench.values_received()
    program = replace(
        PROGRAM,
        stage_temperature_c=math.nextafter(100, -math.inf),
        bond_force_gf=math.nextafter(60, math.inf),
    )
    result = await bonder.form_stud_bumps(program, sites=[1, 2])
    assert (result.sites_requested, result.bumps_formed) == (2, 2)
    assert (received["stage_temperature_c"], received["bond_force_gf"]) == (100, 60)
    assert await bonder.request_program() == replace(
        PROGRAM, stage_temperature_c=100, bond_force_gf=60
    )


async def test_limits_and_interlocks_are_checked_before_anything_is_sent(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    too_hot = BondProgram(WireMaterial.AU, 25, 250, 35, 60, 12)
    with pytest.raises(LimitViolation, match="stage_temperature_c = 250"):
        await bonder.form_stud_bumps(too_hot)
    with pytest.raises(InterlockOpen, match="wafer_vacuum"):
        await bonder.form_stud_bumps(PROGRAM)
    assert not any(name.startswith("S2F41") for name in bench.equipment.received)


async def test_a_refused_command_says_why(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    with pytest.raises(CommandRefused, match="HCACK 2: cannot perform now") as refused:
        await bonder.unload("W02")
    assert refused.value.code == "HCACK 2"


async def test_an_alarm_is_pushed_and_ends_the_run(bench) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    bench.model.tool.inject_fault("wire_break")
    with pytest.raises(ToolAlarm, match="WIRE_BREAK"):
        await bonder.form_stud_bumps(PROGRAM)
    assert bonder.state is ToolState.FAULT
    assert await bonder.request_e10_state() is E10State.UNSCHEDULED_DOWNTIME  # the tool's own
    assert "WIRE_BREAK" in bonder.active_alarms
    bench.model.tool.clear_fault("wire_break")
    await bonder.reset()
    assert bonder.state is ToolState.IDLE
    assert await bonder.request_e10_state() is E10State.STANDBY
    assert bonder.alarm_history[-1].code == "WIRE_BREAK"
