"""Byte-level tests: the ball mounter driver against docs/protocols/ball-mounter.md.

Each test lists the exact Modbus TCP frames the page prescribes, built here from the page's
addresses and codes (not from the driver's constants), and runs the real link and driver
against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.ball_mounter import ModbusBallMounter
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import InterlockOpen, LimitViolation, ToolAlarm
from packline.drivers.links import ModbusLink
from packline.drivers.roles.ball_mounter import (
    SWIM_RATIO,
    BallAlloy,
    BallMap,
    FluxMethod,
    Inspection,
    Side,
    ball_stray_um,
    most_flux_um,
)
from packline.testing import expected_protocol
from packline.testing.modbus_frames import (
    held_read,
    identification,
    read,
    text,
    write_many,
    write_one,
)

#: A map of positions 0, 17 and 255 on the back: bit 0 of 203, bit 1 of 204, bit 15 of 218.
SPARSE_BACK = BallMap.of([0, 17, 255], Side.BACK)
SPARSE_BITS = [0x0001, 0x0002, *[0] * 13, 0x8000]

#: A held read's hold, in the hold register's 0.1 s, of a wait longer than `HOLD_S`.
HOLD = round(HOLD_S * 10)


def connect_script() -> list:
    """Identity (FC43 + serial registers 22-29) then the alarm register 1."""
    return [
        identification(1, "packline", "BM-1", "1.0"),
        read(2, 22, text("BM-1-0001")),
        read(3, 0, status(0)),
        read(4, 1, [0]),
    ]


def status(
    phase: int,
    *,
    elapsed_ds: int = 0,
    completed: int = 0,
    result: int = 0,
    flux: int = 0,
    placed: int = 0,
    inspected: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> list[int]:
    """Registers 0-21 as the page lays them out (a workpiece loaded, every interlock closed)."""
    regs = [0] * 22
    regs[0] = phase
    regs[2] = 0b111
    regs[4:6] = [elapsed_ds >> 16, elapsed_ds & 0xFFFF]
    regs[6] = completed
    regs[7] = result
    regs[8] = 1
    regs[9] = flux
    regs[10:12] = [placed >> 16, placed & 0xFFFF]
    for index, count in enumerate(inspected):
        regs[12 + 2 * index : 14 + 2 * index] = [count >> 16, count & 0xFFFF]
    return regs


def make_driver(address: str, clock: VirtualClock | None = None) -> ModbusBallMounter:
    link = ModbusLink(address, tool="ball_mounter", timeout_s=1.0, clock=clock)
    return ModbusBallMounter(link, name="ball_mounter")


async def test_connect_reads_identity_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert str(driver.identity) == "packline BM-1 s/n BM-1-0001 fw 1.0"
        await driver.close()


async def test_apply_flux_writes_side_map_and_flux_then_polls_until_counted():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b111]),  # interlocks: door closed, workpiece, balls
        read(6, 8, [1]),
        read(7, 30, text("P01")),
        write_many(8, 202, [2, *SPARSE_BITS, 2, 425]),  # back, map, pin transfer, 42.5 um
        read(9, 0, status(0, completed=4)),
        write_one(10, 300, 3),
        held_read(11, 0, 0, 5, status(1, completed=4)),
        held_read(12, 5, HOLD, 6, status(0, elapsed_ds=200, completed=5, result=1, flux=1)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        result = await driver.apply_flux(SPARSE_BACK, FluxMethod.PIN_TRANSFER, 42.5)
        await driver.close()
    assert (result.wafer_id, result.process_time_s) == ("P01", 20.0)


async def test_mount_balls_writes_diameter_alloy_side_and_map_and_reports_the_balls():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b111]),
        read(6, 8, [1]),
        read(7, 30, text("W01")),
        write_many(8, 200, [450, 3, 1, 0xFFFF, 0x0001, *[0] * 14]),  # 450 um, Pb95Sn5, 0-16
        read(9, 0, status(0, completed=1, flux=1)),
        write_one(10, 300, 4),
        held_read(11, 0, 0, 5, status(2, completed=1, flux=1)),
        held_read(
            12, 5, HOLD, 6, status(0, elapsed_ds=272, completed=2, result=1, flux=1, placed=70_000)
        ),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        result = await driver.mount_balls(BallMap.every(17), 450, BallAlloy.HIGH_LEAD)
        await driver.close()
    assert (result.balls_placed, result.process_time_s) == (70_000, 27.2)
    assert {(r.name, r.value) for r in driver.readings} >= {("balls_placed", 70_000)}


async def test_request_inspection_runs_the_camera_and_reads_the_counts():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b111]),
        read(6, 0, status(0, completed=2)),
        write_one(7, 300, 5),
        held_read(8, 0, 0, 5, status(3, completed=2)),
        held_read(9, 5, HOLD, 6, status(0, completed=3, result=1, inspected=(784, 3, 1, 2))),
        read(10, 0, status(0, completed=3, result=1, inspected=(784, 3, 1, 2))),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        counts = await driver.request_inspection()
        await driver.close()
    assert counts == Inspection(sites_inspected=784, missing=3, extra=1, bridged=2)
    assert counts.defects == 6


async def test_a_cycle_that_ends_aborted_is_an_alarm():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b111]),
        read(6, 0, status(0)),
        write_one(7, 300, 5),
        held_read(8, 0, 0, 5, status(0, completed=1, result=2)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        with pytest.raises(ToolAlarm, match="cycle ended aborted"):
            await driver.request_inspection()
        await driver.close()


async def test_an_empty_ball_reservoir_refuses_the_mount_before_anything_is_written():
    script = [*connect_script(), read(5, 2, [0b011])]  # ball_supply open
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(InterlockOpen, match="ball_supply"):
            await driver.mount_balls(BallMap.every(16), 300, BallAlloy.SAC305)
        await driver.close()


async def test_a_ball_beyond_the_limits_is_refused_with_nothing_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(LimitViolation, match="ball_diameter_um"):
            await driver.mount_balls(BallMap.every(16), 800, BallAlloy.SAC305)
        await driver.close()


def test_a_ball_map_names_positions_the_wire_can_carry():
    with pytest.raises(ValueError, match=r"positions \[256\] are outside 0-255"):
        BallMap.of([3, 256])
    with pytest.raises(ValueError, match="at least one position"):
        BallMap.of([])


@pytest.mark.parametrize("stray_um", [40.0, 75.0, 150.0])
def test_the_most_flux_for_a_stray_strays_that_far(stray_um: float):
    """`most_flux_um` undoes `ball_stray_um` past the swim ratio: 200 um balls on it stray
    the given distance, and on a tenth of a um more, farther."""
    most_um = most_flux_um(200.0, stray_um)
    assert most_um > SWIM_RATIO * 200.0
    assert ball_stray_um(200.0, most_um) == pytest.approx(stray_um)
    assert ball_stray_um(200.0, most_um + 0.1) > stray_um


def test_the_most_flux_for_a_stray_the_placement_alone_passes_is_the_swim_ratio_s():
    """Balls set down on no more than the swim ratio's flux stray by their placement alone
    (about 34 um at 3 sigma): a stray short of it leaves the swim ratio's flux."""
    assert most_flux_um(200.0, 20.0) == SWIM_RATIO * 200.0
