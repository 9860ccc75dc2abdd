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
from packline.drivers.families.plc_map import ALARMS, HELD_READ, INTERLOCKS, PlcMap
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.links import ModbusLink
from packline.drivers.registry import TOOL_KINDS
from packline.drivers.roles.laminator import LaminatorPhase
from packline.drivers.specs.laminator import SPEC
from packline.sim_instruments.families.modbus_plc import ModbusPlcSimulator
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.twin import TwinStore

Rig = testing.Rig[SimLaminator, ModbusLaminator]

STATUS_REGISTERS = SPEC.wire.status_registers  # type: ignore[union-attr]
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
        HELD_READ.status_block,
        1 + STATUS_REGISTERS,
        HELD_READ.hold_block,
        [seen, HELD_READ.hold(hold_s)],
        held_s=hold_s,
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
    timed_out_s = rig.sim.phase_started_s + rig.sim.physics.evacuation_limit_s
    later, status = await held_read(probe, changes, 600)
    assert rig.clock.now() == pytest.approx(timed_out_s, abs=1e-6)
    assert later != changes
    assert status[0] == LaminatorPhase.FAULT
    assert status[1] >> SPEC.alarm_by_code["VACUUM_NOT_REACHED"].bit & 1  # type: ignore[attr-defined]
    assert rig.sim.alarms == ["VACUUM_NOT_REACHED"]


async def test_an_alarm_alone_is_a_counted_change(rig: Rig, probe):
    """The alarm word is counted for itself, not only through the phase a fault ends in: an
    alarm latched while the phase stays ready answers the held read."""
    changes, _ = await held_read(probe, 0, 0)
    start = rig.clock.now()

    async def overheats() -> None:
        await rig.clock.sleep(5)
        rig.sim.latch("OVER_TEMPERATURE")
        rig.sim.changed()

    alarming = asyncio.ensure_future(overheats())
    later, status = await held_read(probe, changes, 30)
    await alarming
    assert later == changes + 1
    assert status[0] == LaminatorPhase.READY
    assert status[1] >> SPEC.alarm_by_code["OVER_TEMPERATURE"].bit & 1  # type: ignore[attr-defined]
    assert rig.clock.now() - start == 5


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
        await probe.read_write_registers(
            HELD_READ.status_block,
            1 + STATUS_REGISTERS,
            HELD_READ.hold_block,
            [changes, HELD_READ.most_hold + 1],
        )
    assert await probe.read_holding_registers(18, 2) == [HELD_READ.hold_block + 1, 4]


async def test_the_count_wraps_from_65535_to_0(rig: Rig, probe):
    rig.sim._status_changes = 65535  # as after that many changes
    changes, _ = await held_read(probe, 0, 0)
    assert changes == 65535
    await rig.driver.load("W01")
    assert await held_read(probe, changes, 30) == (0, await probe.read_holding_registers(0, 20))


@pytest.mark.parametrize(
    ("read_at", "read_count", "write_at", "written"),
    [
        (HELD_READ.status_block - 1, 2, HELD_READ.hold_block, [0, 0]),  # reads below the block
        (0, 20, HELD_READ.hold_block, [0, 0]),  # reads the status block itself
        (HELD_READ.status_block, 21, HELD_READ.hold_block + 1, [0]),  # writes past its start
        (HELD_READ.status_block, 21, HELD_READ.hold_block, [0]),  # writes half of it
        (HELD_READ.status_block, 21, HELD_READ.hold_block, [0, 0, 0]),  # writes beyond it
        (HELD_READ.status_block, 21, 200, [450, 1]),  # writes the job block
    ],
)
async def test_fc23_elsewhere_answers_exception_2_and_changes_nothing(
    rig: Rig, probe, read_at: int, read_count: int, write_at: int, written: list[int]
):
    with pytest.raises(CommandRefused):  # no wafer: the "why refused" registers say so
        await rig.driver.command("start job", "START_JOB")

    async def registers() -> list[list[int]]:
        """The status, job and command blocks."""
        return [
            await probe.read_holding_registers(address, count)
            for address, count in ((0, 38), (200, 9), (300, 9))
        ]

    before = await registers()
    received = list(rig.sim.received)
    with pytest.raises(CommandRefused, match="ILLEGAL_DATA_ADDRESS"):
        await probe.read_write_registers(read_at, read_count, write_at, written)
    assert await registers() == before
    assert rig.sim.received == received


async def test_the_hold_block_is_written_by_fc23_only(rig: Rig, probe):
    hold = HELD_READ.hold_block
    writes = [
        probe.write_register(hold, 0),
        probe.write_register(hold + 1, 0),
        probe.write_registers(hold, [0, 0]),
        probe.write_registers(hold - 1, [0, 0]),
        probe.write_registers(hold + 1, [0]),
    ]
    for write in writes:
        with pytest.raises(CommandRefused, match="ILLEGAL_DATA_ADDRESS"):
            await write
    assert rig.sim.received == []


async def test_a_held_read_leaves_another_hosts_refusal_to_read(rig: Rig, probe):
    """The hold block's write is not a command: the "why refused" registers keep the reason
    of the driver's refused command for it to read, whatever the other host holds."""
    with pytest.raises(CommandRefused):
        await rig.driver.command("start job", "START_JOB")  # no wafer: the interlock is open
    refusal = await probe.read_holding_registers(18, 2)
    assert refusal == [SPEC.wire.command_register, 3]  # type: ignore[union-attr]
    await held_read(probe, 0, 0)
    changes, status = await held_read(probe, 0, 0)
    await held_read(probe, changes, 10)
    assert status[18:20] == refusal
    assert await probe.read_holding_registers(18, 2) == refusal


async def test_another_hosts_write_ends_the_hold_only_if_it_changes_a_counted_value(
    rig: Rig, probe
):
    """A write the tool takes makes it look at itself at once: the job block written changes
    no counted value and the hold goes on to its end; a wafer loaded (a command) changes
    WAFER_LOADED and answers it then."""
    changes, _ = await held_read(probe, 0, 0)
    start = rig.clock.now()

    async def writes_the_job() -> None:
        await rig.clock.sleep(5)
        await rig.driver.write_fields("write job", 200, JOB_REGISTERS)

    writing = asyncio.ensure_future(writes_the_job())
    assert (await held_read(probe, changes, 30))[0] == changes
    await writing
    assert rig.clock.now() - start == 30

    async def loads() -> None:
        await rig.clock.sleep(5)
        await rig.driver.load("W01")

    loading = asyncio.ensure_future(loads())
    later, status = await held_read(probe, changes, 30)
    await loading
    assert (later, status[13]) == (changes + 1, 1)
    assert rig.clock.now() - start == 35


#: The kinds whose PLC serves the held status read.
HOLDING = sorted(
    name
    for name, kind in TOOL_KINDS.items()
    if isinstance(map_ := kind.load_spec().wire, PlcMap) and map_.holds_status
)


@pytest.mark.parametrize("kind", HOLDING)
def test_the_values_a_held_read_counts_are_the_status_as_the_tool_presents_it(kind: str):
    """`counted_status` (what `STATUS_CHANGES` looks at) gives each counted value of the map
    but the family's, as `status_values` presents it."""
    sim = TOOL_KINDS[kind].load_simulator()(kind, TwinStore(), VirtualClock())
    assert isinstance(sim, ModbusPlcSimulator)
    counted = set(sim.map.changes_counted) - {ALARMS, INTERLOCKS}
    own = sim.counted_status()
    assert counted <= set(own)
    status = sim.status_values()
    assert {name: own[name] for name in counted} == {name: status[name] for name in counted}
