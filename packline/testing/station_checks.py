"""packline's hardware-in-the-loop checks of a station: every tool, through its driver.

    pytest --pyargs packline.testing.station_checks --station=line.yaml

For every tool of the station file (or of the bundled simulated line without `--station`): the
tool answers on its link and is the kind of tool its driver drives (the identity check of
`connect`), with the serial number the station file gives; it reports a state, its alarms and
its interlocks by name, consistently, with those a lot needs made already made (a supply or set-
up no step makes: the process gas, nitrogen, cooling water; decision 0091); the station file
gives it no more `capacity` than it takes at once (`station_check.capacity_problem`); its
safe state can be commanded (energy off, motion stopped, gases closed) and leaves it idle; and
it runs its kind's short dry job (`dry_jobs.DRY_JOBS`: a chamber's pump-down and vent, a saw's
spindle run-up, a transfer of the dummy wafer `--dummy-wafer`...), which processes nothing and
leaves it idle, without an alarm and holding nothing. The dry jobs move the tools, so run the
set between lots; a tool in fault skips the checks that command it, and one that holds a
workpiece its dry job, naming why. Needs `packline[test]` (pytest and pytest-asyncio).
"""

from __future__ import annotations

import pytest

from packline.drivers.equipment import ToolState
from packline.drivers.errors import InterlockOpen
from packline.station import Station
from packline.station_check import capacity_problem, made_at_rest, what_closes
from packline.testing.dry_jobs import DRY_JOBS

pytestmark = pytest.mark.station


async def test_the_tool_answers_and_is_the_kind_its_driver_drives(
    station: Station, station_tool: str
) -> None:
    async with station.open_tool(station_tool) as tool:  # connect checks the identity
        assert tool.identity is not None
        assert all((tool.identity.vendor, tool.identity.model, tool.identity.serial_number)), (
            f"{station_tool}: identity {tool.identity} has an empty field"
        )
        assert await tool.request_identity() == tool.identity, f"{station_tool}: identity changed"
        told = station.tools[station_tool].serial_number
        assert told in (None, tool.identity.serial_number), (
            f"{station_tool}: serial number {tool.identity.serial_number}, the station file "
            f"says {told}"
        )


async def test_the_tool_reports_its_state_and_alarms_consistently(
    station: Station, station_tool: str
) -> None:
    async with station.open_tool(station_tool) as tool:
        alarms = await tool.request_alarms()
        working = "" if tool.found_working is None else f" (working: {tool.found_working})"
        assert tool.state in (ToolState.IDLE, ToolState.FAULT), (
            f"{station_tool}: {tool.state}{working}"
        )
        if tool.state is ToolState.FAULT:
            assert alarms, f"{station_tool}: in fault with no alarm reported"
        assert all(code and text for code, text in alarms.items()), alarms


async def test_the_tool_names_its_interlocks(station: Station, station_tool: str) -> None:
    async with station.open_tool(station_tool) as tool:
        interlocks = await tool.request_interlocks()
        assert interlocks, f"{station_tool}: reports no interlock"
        assert all(name for name in interlocks), interlocks


async def test_the_interlocks_a_lot_needs_at_rest_are_made(
    station: Station, station_tool: str
) -> None:
    """A supply or set-up no step of a lot makes (its spec's `Made.SUPPLY`, `Made.SETUP`) is
    made: open, the lot would hold at its first step that needs it."""
    needed = made_at_rest(station.tools[station_tool].kind)
    async with station.open_tool(station_tool) as tool:
        interlocks = await tool.request_interlocks()
    not_made = [f"{name}: {why}" for name, why in needed.items() if not interlocks.get(name)]
    assert not not_made, f"{station_tool}: open at rest: {'; '.join(not_made)}"


async def test_the_station_gives_the_tool_no_more_capacity_than_it_takes(
    station: Station, station_tool: str
) -> None:
    """A station `capacity` above the wafers the tool takes at once (a batch tool's slots, one
    for any other) would send it a batch it cannot hold: its load fails, the tool full."""
    async with station.open_tool(station_tool) as tool:
        takes = await tool.request_capacity()
    too_many = capacity_problem(station.tools[station_tool].capacity, takes)
    assert too_many is None, f"{station_tool}: {too_many}"


async def test_the_safe_state_can_be_commanded_and_leaves_the_tool_idle(
    station: Station, station_tool: str
) -> None:
    async with station.open_tool(station_tool) as tool:
        if tool.state is ToolState.FAULT:
            pytest.skip(f"{station_tool} is in fault: {await tool.request_alarms()}")
        await tool.abort()
        assert tool.state is ToolState.IDLE, f"{station_tool}: {tool.state} after the safe state"
        assert not await tool.refresh_alarms(), f"{station_tool}: the safe state raised an alarm"


async def test_the_tool_runs_its_dry_job_and_is_left_as_it_was(
    station: Station, station_tool: str, dummy_wafer_id: str
) -> None:
    job = DRY_JOBS[station.tools[station_tool].kind]
    async with station.open_tool(station_tool) as tool:
        if tool.state is ToolState.FAULT:
            pytest.skip(f"{station_tool} is in fault: {await tool.request_alarms()}")
        held = await tool.request_workpieces()
        if held:
            pytest.skip(f"{station_tool} holds {', '.join(held)}: its dry job needs it empty")
        try:
            await job.run(tool, dummy_wafer_id)
        except InterlockOpen as refused:  # told in its one line, not as raised handling it
            raise refused_for_interlocks(
                station_tool, station.tools[station_tool].kind, refused
            ) from None
        assert tool.state is ToolState.IDLE, f"{station_tool}: {tool.state} after: {job.does}"
        assert not await tool.refresh_alarms(), f"{station_tool}: alarmed by: {job.does}"
        assert await tool.request_workpieces() == (), f"{station_tool}: holds a wafer after it"


def refused_for_interlocks(tool: str, kind: str, refused: InterlockOpen) -> BaseException:
    """The outcome of the dry job of `tool` (of `kind`) refused for the interlocks open that
    `refused` names, said in one line naming each and what closes it (the check had ended in
    the driver's traceback), for the test to raise. Skipped where no step makes any of them
    (a supply or set-up, `Made.at_rest`: nitrogen lost): the tool is not ready for a lot,
    which the at-rest check fails naming them, and the job could tell nothing of the tool, as
    of one in fault; failed where one is made by a step (a door the job closes itself): the
    tool did not make it."""
    closes = what_closes(kind)
    named = "; ".join(f"{name} open: {closes[name]}" for name in refused.interlocks)
    said = f"{tool}: its dry job was refused ({refused.action}): {named}"
    if set(refused.interlocks) <= set(made_at_rest(kind)):
        return pytest.skip.Exception(
            f"{said}; test_the_interlocks_a_lot_needs_at_rest_are_made reports it"
        )
    return pytest.fail.Exception(said, pytrace=False)
