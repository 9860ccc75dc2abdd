"""pytest plugin: point hardware-in-the-loop tests at a station file, or at the simulated line.

Installed with packline (entry point `pytest11`), in the manner of labgrid's `--lg-env`:

    pytest --station line.yaml      # the tests marked `station` drive the tools in line.yaml
    pytest                          # the same tests drive the bundled simulated line

A test asks for the `station` fixture (a `packline.station.Station`) and opens its tools with
`station.open_tool(name)`; it never knows whether they are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.station import Station, load_station


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("packline")
    group.addoption(
        "--station",
        action="store",
        default=None,
        metavar="FILE",
        help="station file of real tools for tests that use the `station` fixture "
        "(default: the bundled simulated line on loopback)",
    )


@pytest_asyncio.fixture
async def station(request: pytest.FixtureRequest) -> AsyncIterator[Station]:
    """The station under test: the `--station` file, or a fresh simulated line."""
    path = request.config.getoption("--station")
    if path is not None:
        yield load_station(path)
        return
    from packline.sim_instruments.line import SimulatedLine

    async with SimulatedLine() as line:
        yield line.station
