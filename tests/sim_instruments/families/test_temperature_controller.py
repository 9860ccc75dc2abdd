"""Simulated temperature controllers on one RS-485 line, driven by Debian's mbpoll in RTU mode.

mbpoll knows nothing of packline: it reads and writes the Eurotherm 3200 addresses of the
controller map (docs/protocols/conventions.md, "Temperature controllers") on a pty, unit by
unit, while process time passes on a virtual clock kept by the controllers' owner.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline.clock import VirtualClock
from packline.drivers.families.plc_map import FUNCTION_CODES
from packline.drivers.families.temperature_controller import InstrumentMode, InstrumentStatus
from packline.sim_instruments.families.temperature_controller import (
    HeaterPlant,
    SimTemperatureController,
)
from packline.sim_instruments.servers import ModbusToolServer
from packline.testing.clients import mbpoll_registers, mbpoll_rtu

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll is not installed")


class Line:
    """Two controllers (units 2 and 3) on one line; their owner steps them to the clock."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.stepped_to_s = self.clock.now()
        self.zones = {
            unit: SimTemperatureController(unit, HeaterPlant(), self.advance) for unit in (2, 3)
        }
        self.server = ModbusToolServer(
            [zone.device() for zone in self.zones.values()],
            transport="rtu-pty",
            function_codes=FUNCTION_CODES,
            clock=self.clock,
        )

    def advance(self) -> None:
        now = self.clock.now()
        while self.stepped_to_s < now:
            dt_s = min(1.0, now - self.stepped_to_s)
            for zone in self.zones.values():
                zone.step(dt_s)
            self.stepped_to_s += dt_s

    async def mbpoll(
        self, unit: int, address: int, *words: int, count: int = 1
    ) -> tuple[int, str, str]:
        """mbpoll once on the line: `count` registers from `address` of `unit`, or a write."""
        device = self.server.address.removeprefix("modbus+rtu:")
        result = await mbpoll_rtu(device, unit, address, *words, count=count)
        return result.returncode, result.stdout, result.stderr

    async def read(self, unit: int, address: int, count: int = 1) -> dict[int, int]:
        code, out, err = await self.mbpoll(unit, address, count=count)
        assert code == 0, err
        return mbpoll_registers(out)

    async def write(self, unit: int, address: int, *words: int) -> None:
        code, _, err = await self.mbpoll(unit, address, *words)
        assert code == 0, err


@pytest_asyncio.fixture
async def line() -> AsyncIterator[Line]:
    line = Line()
    async with line.server:
        yield line


async def test_mbpoll_reads_a_controller_in_standby_at_ambient(line: Line):
    assert await line.read(2, 1, 5) == {1: 220, 2: 220, 3: 0, 4: 0, 5: 220}
    assert await line.read(2, 199) == {199: int(InstrumentMode.STANDBY)}
    assert await line.read(2, 75) == {75: 0}


async def test_a_ramp_written_by_mbpoll_moves_the_working_setpoint_at_the_rate(line: Line):
    await line.write(3, 35, 600)  # SP.RAT 60.0 degC/min
    await line.write(3, 2, 1500)  # TG.SP 150.0 degC
    await line.write(3, 199, 0)  # IM auto
    await line.clock.sleep(60)
    ramping = await line.read(3, 1, 5)
    assert ramping[5] == 820  # WKG.SP 22 + 60 = 82.0 degC after one minute
    assert 600 < ramping[1] < 820  # PV.IN follows it, behind by the loop's lag
    assert ramping[4] > 0  # WRK.OP: the heater is on
    await line.clock.sleep(300)
    settled = await line.read(3, 1, 5)
    assert settled[5] == 1500
    assert abs(settled[1] - 1500) <= 1
    # 128 degC above the line's room with a 300 s cooling constant and 3 degC/s at full power
    assert settled[4] == pytest.approx(1000 * 128 / 300 / 3, abs=2)
    assert await line.read(2, 1) == {1: 220}  # the other unit on the line stayed cold


async def test_alarm_1_latches_above_its_threshold_until_acknowledged_below_it(line: Line):
    await line.write(2, 13, 1000)  # A1 100.0 degC
    await line.write(2, 2, 1200)
    await line.write(2, 199, 0)
    await line.clock.sleep(120)
    assert await line.read(2, 75) == {75: int(InstrumentStatus.ALARM_1)}
    await line.write(2, 274, 1)  # acknowledged while still above: stays
    assert await line.read(2, 75) == {75: int(InstrumentStatus.ALARM_1)}
    await line.write(2, 199, 2)  # standby: the heater off, the body cools
    await line.clock.sleep(600)
    await line.write(2, 274, 1)
    assert await line.read(2, 75) == {75: 0}


async def test_mbpoll_sees_the_documented_exceptions(line: Line):
    code, _, err = await line.mbpoll(2, 2, 4600)  # TG.SP above 450.0
    assert code != 0
    assert "Illegal data value" in err
    code, _, err = await line.mbpoll(2, 1, 100)  # PV.IN is read-only
    assert code != 0
    assert "Illegal data value" in err
    code, _, err = await line.mbpoll(2, 3, 0)  # no register of the map at 3
    assert code != 0
    assert "Illegal data address" in err
    code, _, err = await line.mbpoll(2, 199, 1)  # manual: not taken
    assert code != 0
    assert await line.read(2, 2) == {2: 220}  # nothing changed
    code, _, _ = await line.mbpoll(9, 1)  # no device 9 on the line: no answer
    assert code != 0
