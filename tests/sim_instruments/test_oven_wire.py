"""An independent client: Debian's mbpoll drives the simulated oven's line by its page.

mbpoll speaks Modbus RTU on the oven's pty, to the PLC at unit 1 and to the zone controllers
at units 2-5 (docs/protocols/oven.md), with nothing of packline in between.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.links.registers import ascii_to_registers
from packline.sim_instruments.oven import SimOven
from packline.sim_instruments.twin import TwinStore
from packline.testing.clients import mbpoll_registers, mbpoll_rtu

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


@pytest_asyncio.fixture
async def oven() -> AsyncIterator[SimOven]:
    sim = SimOven("oven", TwinStore(), VirtualClock())
    await sim.start()
    yield sim
    await sim.stop()


async def mbpoll(oven: SimOven, unit: int, address: int, *words: int) -> tuple[int, str, str]:
    result = await mbpoll_rtu(oven.address.removeprefix("modbus+rtu:"), unit, address, *words)
    return result.returncode, result.stdout, result.stderr


async def read(oven: SimOven, unit: int, address: int, count: int = 1) -> dict[int, int]:
    result = await mbpoll_rtu(oven.address.removeprefix("modbus+rtu:"), unit, address, count=count)
    assert result.returncode == 0, result.stderr
    return mbpoll_registers(result.stdout)


async def write(oven: SimOven, unit: int, address: int, *words: int) -> None:
    code, _, err = await mbpoll(oven, unit, address, *words)
    assert code == 0, err


async def test_mbpoll_reads_the_plc_and_every_zone_of_an_idle_oven(oven: SimOven):
    values = await read(oven, 1, 0, 20)
    assert values[0] == 0  # OVEN_STATE idle
    assert values[4] == 220  # LOAD_TEMPERATURE 22.0 degC, the line's room
    assert (values[5] << 16) | values[6] == 209_000  # O2 ppm, high word first
    assert (values[9], values[10], values[11]) == (4, 2, 8)  # 4 zones from unit 2, 8 slots
    for unit in (2, 3, 4, 5):
        assert await read(oven, unit, 1, 5) == {1: 220, 2: 220, 3: 0, 4: 0, 5: 220}
        assert await read(oven, unit, 199) == {199: 2}  # IM standby


async def test_mbpoll_loads_a_wafer_purges_and_heats_a_zone(oven: SimOven):
    await write(oven, 1, 301, 0, *ascii_to_registers("LOT7-W03", 8))  # slot 0 + wafer id
    await write(oven, 1, 300, 9)  # LOAD_WAFER
    await write(oven, 1, 300, 7)  # CLOSE_DOOR
    assert (await read(oven, 1, 11, 2)) == {11: 8, 12: 0b1}
    await write(oven, 1, 200, 400, 100)  # 40.0 slm, O2 limit 100 ppm
    await write(oven, 1, 300, 1)  # START_PURGE
    await oven.clock.sleep(900)
    assert (await read(oven, 1, 0))[0] == 2  # inert
    await write(oven, 2, 35, 600)  # zone 1: SP.RAT 60.0 degC/min
    await write(oven, 2, 2, 1000)  # TG.SP 100.0 degC
    await write(oven, 2, 199, 0)  # auto
    await write(oven, 1, 300, 3)  # START_RUN: the heater supply on
    await oven.clock.sleep(300)
    zone = await read(oven, 2, 1, 5)
    assert zone[5] == 1000
    assert abs(zone[1] - 1000) <= 2
    assert await read(oven, 3, 1) == {1: 220}  # zone 2 is in standby: it does not heat
    assert (await read(oven, 1, 0))[0] == 3  # running


async def test_mbpoll_sees_the_documented_exceptions(oven: SimOven):
    code, _, err = await mbpoll(oven, 1, 4, 100)  # status registers are read-only
    assert code != 0
    assert "Illegal data address" in err
    code, _, err = await mbpoll(oven, 1, 200, 2000)  # N2 flow above 100.0 slm
    assert code != 0
    assert "Illegal data value" in err
    assert await read(oven, 1, 3) == {3: 4}  # COMMAND_ERROR: value out of range
    code, _, err = await mbpoll(oven, 2, 2, 4600)  # a zone's target above 450.0 degC
    assert code != 0
    assert "Illegal data value" in err
    code, _, _ = await mbpoll(oven, 9, 1)  # no unit 9 on the line: no answer
    assert code != 0
