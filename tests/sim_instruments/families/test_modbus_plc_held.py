"""The held status read of the Modbus PLC family (docs/protocols/conventions.md, "Held status
read"; decision 0078), on the simulated laminator, read over a second connection while the
driver runs the tool: the reply is held until `STATUS_CHANGES` moves (a phase's end, an alarm,
a fault) or the hold passes, and is answered at once when the count written is not the
tool's any more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.errors import CommandRefused
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.links import ModbusLink
from packline.drivers.roles.laminator import LaminatorPhase
from packline.drivers.specs.laminator import SPEC
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.twin import TwinStore

Rig = testing.Rig[SimLaminator, ModbusLaminator]

STATUS_REGISTERS = 20
#: A job the laminator takes (its page's job block): 45 um film, 100 Pa held 20 s, 100 degC,
#: 0.5 MPa for 60 s, cooled to 35 degC.
JOB_REGISTERS = [450, 1, 100, 20, 1000, 500, 60, 350, 0]


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = SimLaminator("laminator", TwinStore(), VirtualClock())
    rig = await testing.open_rig(sim, ModbusLaminator, timeout_s=2.0)
    yield rig
    await rig.close()


@pytest_asyncio.fixture
async def probe(rig: Rig) -> AsyncIterator[ModbusLink]:
    """A second connection to the tool, on the same clock."""
    link = ModbusLink(rig.sim.address, tool="probe", timeout_s=2.0, clock=rig.clock)
    await link.connect()
    yield link
    await link.close()


async def held_read(link: ModbusLink, seen: int, hold_s: float) -> tuple[int, list[int]]:
    """FC23: the hold block (`seen`, `hold_s`) written, `STATUS_CHANGES` and the status read."""
    changes, *status = await link.read_write_registers(
        400, 1 + STATUS_REGISTERS, 390, [seen, round(hold_s * 10)], held_s=hold_s
    )
    return changes, status


async def start_job(rig: Rig) -> None:
    await rig.driver.load("W01")
    await rig.driver.write_fields("write job", 200, JOB_REGISTERS)
    await rig.driver.command("start job", "START_JOB")


async def test_an_unchanged_tool_holds_the_reply_until_the_hold_passes(rig: Rig, probe):
    changes, status = await held_read(probe, 0, 0)
    assert status == await probe.read_holding_registers(0, STATUS_REGISTERS)
    start = rig.clock.now()
    assert await held_read(probe, changes, 30) == (changes, status)
    assert rig.clock.now() - start == 30


async def test_a_stale_count_is_answered_at_once(rig: Rig, probe):
    changes, _ = await held_read(probe, 0, 0)
    await rig.driver.load("W01")  # after the count was read: WAFER_LOADED changes
    start = rig.clock.now()
    later, status = await held_read(probe, changes, 30)
    assert later == changes + 1
    assert status[13] == 1
    assert rig.clock.now() == start


async def test_a_phase_change_of_the_process_answers_the_held_read(rig: Rig, probe):
    await start_job(rig)
    changes, status = await held_read(probe, 0, 0)
    assert status[0] == LaminatorPhase.EVACUATING
    start = rig.clock.now()
    later, status = await held_read(probe, changes, 600)
    assert later == changes + 1
    assert status[0] == LaminatorPhase.VACUUM_HOLD  # pumped down, long before the hold's end
    assert 0 < rig.clock.now() - start < 60


async def test_an_alarm_of_the_process_answers_the_held_read_as_it_latches(rig: Rig, probe):
    rig.sim.inject_fault("chamber_leak")  # pumps to 800 Pa only: the evacuation times out
    await start_job(rig)
    changes, _ = await held_read(probe, 0, 0)
    later, status = await held_read(probe, changes, 600)
    assert later != changes
    assert status[0] == LaminatorPhase.FAULT
    assert status[1] >> SPEC.alarm_by_code["VACUUM_NOT_REACHED"].bit & 1  # type: ignore[attr-defined]
    assert rig.sim.alarms == ["VACUUM_NOT_REACHED"]


async def test_a_fault_injected_during_the_hold_answers_it_at_once(rig: Rig, probe):
    changes, _ = await held_read(probe, 0, 0)
    start = rig.clock.now()

    async def lid_fails() -> None:
        await rig.clock.sleep(5)
        rig.sim.inject_fault("lid_switch")  # the lid reads open: an interlock changes

    failing = asyncio.ensure_future(lid_fails())
    later, status = await held_read(probe, changes, 30)
    await failing
    assert later == changes + 1
    assert not status[2] & 1  # lid_closed open
    assert rig.clock.now() - start == 5


async def test_a_hold_longer_than_600_s_is_refused_and_says_so(rig: Rig, probe):
    changes, _ = await held_read(probe, 0, 0)
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
        await probe.read_write_registers(400, 21, 390, [changes, 6001])
    assert await probe.read_holding_registers(18, 2) == [391, 4]  # the register, out of range
