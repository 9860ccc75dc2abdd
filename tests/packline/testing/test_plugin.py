"""The `station` fixture: the simulated line by default, `--station FILE` for real tools."""

from __future__ import annotations

from packline.drivers.equipment import ToolState
from packline.station import Station


async def test_the_station_fixture_reaches_a_plasma_cleaner(station: Station):
    (name,) = station.tools_for_role("plasma_cleaner")
    async with station.open_tool(name) as plasma:
        assert plasma.identity is not None
        assert plasma.state in (ToolState.IDLE, ToolState.FAULT)
        assert len(await plasma.request_slots()) >= 1


async def test_the_station_fixture_reaches_a_deposition_tool(station: Station):
    (name,) = station.tools_for_role("deposition")
    async with station.open_tool(name) as deposition:
        assert deposition.state in (ToolState.IDLE, ToolState.FAULT)
        assert len(await deposition.request_slots()) >= 1
        methods = {source.method for source in await deposition.request_sources()}
        assert methods <= {"sputter", "evaporate", "cvd"}
        assert methods  # a deposition tool has at least one source
