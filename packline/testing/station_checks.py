"""packline's hardware-in-the-loop checks of a station: every tool, through its driver.

    pytest --pyargs packline.testing.station_checks --station line.yaml

For every tool of the station file (or of the bundled simulated line without `--station`):
the tool answers on its link and is the kind of tool its driver drives (the identity check of
`connect`); it reports a state, its alarms and its interlocks by name, consistently; its safe
state can be commanded (energy off, motion stopped, gases closed) and leaves it idle. Nothing
else is moved: no wafer is loaded or unloaded, no setpoint written, so the set may run on a line
that holds wafers, between lots. Needs `packline[test]` (pytest and pytest-asyncio).
"""

from __future__ import annotations

import pytest

from packline.drivers.equipment import ToolState
from packline.station import Station

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


async def test_the_tool_reports_its_state_and_alarms_consistently(
    station: Station, station_tool: str
) -> None:
    async with station.open_tool(station_tool) as tool:
        alarms = await tool.request_alarms()
        assert tool.state in (ToolState.IDLE, ToolState.FAULT), f"{station_tool}: {tool.state}"
        if tool.state is ToolState.FAULT:
            assert alarms, f"{station_tool}: in fault with no alarm reported"
        assert all(code and text for code, text in alarms.items()), alarms


async def test_the_tool_names_its_interlocks(station: Station, station_tool: str) -> None:
    async with station.open_tool(station_tool) as tool:
        interlocks = await tool.request_interlocks()
        assert interlocks, f"{station_tool}: reports no interlock"
        assert all(name for name in interlocks), interlocks


async def test_the_safe_state_can_be_commanded_and_leaves_the_tool_idle(
    station: Station, station_tool: str
) -> None:
    async with station.open_tool(station_tool) as tool:
        if tool.state is ToolState.FAULT:
            pytest.skip(f"{station_tool} is in fault: {await tool.request_alarms()}")
        await tool.abort()
        assert tool.state is ToolState.IDLE, f"{station_tool}: {tool.state} after the safe state"
        assert not await tool.refresh_alarms(), f"{station_tool}: the safe state raised an alarm"
