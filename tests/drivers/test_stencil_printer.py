"""Byte-level tests: the stencil printer driver against docs/protocols/stencil-printer.md.

Each test lists the exact Modbus TCP frames the page prescribes, built here from the page's
addresses and codes (not from the driver's constants), and runs the real link and driver
against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import CommandRefused, InterlockOpen, LimitViolation, ToolAlarm
from packline.drivers.links import ModbusLink
from packline.drivers.roles.stencil_printer import PrintRecipe, SolderPaste
from packline.drivers.stencil_printer import ModbusStencilPrinter
from packline.testing import expected_protocol
from packline.testing.modbus_frames import (
    held_read,
    identification,
    read,
    refused,
    text,
    write_many,
    write_one,
)

RECIPE = PrintRecipe(SolderPaste.SNPB_EUTECTIC, 30, 100, 60, 40, 1.0)
#: The page's job block for RECIPE: 30 um, 100 um, 60.0 N, 40 mm/s, 1.0 mm/s, Sn63Pb37.
JOB = [30, 100, 600, 40, 10, 1]

#: A held read's hold, in the hold register's 0.1 s, of a wait longer than `HOLD_S`.
HOLD = round(HOLD_S * 10)


def connect_script() -> list:
    """Identity (FC43 + serial registers 21-28) then the alarm register 1."""
    return [
        identification(1, "packline", "SP-1", "1.0"),
        read(2, 21, text("SP-1-0001")),
        read(3, 0, status(0)),
        read(4, 1, [0]),
    ]


def status(
    phase: int,
    *,
    elapsed_ds: int = 0,
    completed: int = 0,
    result: int = 0,
    spi: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0),
) -> list[int]:
    """Registers 0-20 as the page lays them out (a workpiece loaded, every interlock closed);
    `spi` is deposits, TE (0.1 %), min TE (0.1 %), volume (pl), insufficient, excessive."""
    regs = [0] * 21
    regs[0] = phase
    regs[2] = 0b111
    regs[4:6] = [elapsed_ds >> 16, elapsed_ds & 0xFFFF]
    regs[6] = completed
    regs[7] = result
    regs[8] = 1
    deposits, te, te_min, volume, insufficient, excessive = spi
    regs[9:11] = [deposits >> 16, deposits & 0xFFFF]
    regs[11], regs[12] = te, te_min
    regs[13:15] = [volume >> 16, volume & 0xFFFF]
    regs[15:17] = [insufficient >> 16, insufficient & 0xFFFF]
    regs[17:19] = [excessive >> 16, excessive & 0xFFFF]
    return regs


def make_driver(address: str, clock: VirtualClock | None = None) -> ModbusStencilPrinter:
    link = ModbusLink(address, tool="stencil_printer", timeout_s=1.0, clock=clock)
    return ModbusStencilPrinter(link, name="stencil_printer")


async def test_connect_reads_identity_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert str(driver.identity) == "packline SP-1 s/n SP-1-0001 fw 1.0"
        await driver.close()


async def test_print_writes_the_job_then_polls_until_counted_and_reads_the_spi():
    clock = VirtualClock()
    spi = (70_000, 913, 770, 215, 0, 0)
    script = [
        *connect_script(),
        read(5, 2, [0b111]),  # interlocks: door, workpiece, stencil
        read(6, 8, [1]),
        read(7, 29, text("W01")),
        write_many(8, 200, JOB),
        read(9, 0, status(0, completed=2)),
        write_one(10, 300, 3),
        held_read(11, 0, 0, 5, status(1, completed=2)),
        held_read(12, 5, HOLD, 6, status(0, elapsed_ds=273, completed=3, result=1, spi=spi)),
        read(13, 0, status(0, elapsed_ds=273, completed=3, result=1, spi=spi)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        result = await driver.print_paste(RECIPE)
        await driver.close()
    assert (result.wafer_id, result.paste, result.deposits) == ("W01", RECIPE.paste, 70_000)
    assert (result.transfer_efficiency_pct, result.min_transfer_efficiency_pct) == (91.3, 77.0)
    assert (result.deposit_nl, result.insufficient, result.excessive) == (0.215, 0, 0)
    assert result.process_time_s == 27.3
    # the polls' traces (the status the print started from is read untraced)
    assert [r.value for r in driver.readings if r.name == "transfer_efficiency"] == [0.0, 91.3]
    assert [r.value for r in driver.readings if r.name == "deposit_volume"] == [0.215]


async def test_a_print_that_faults_raises_the_alarm():
    clock = VirtualClock()
    script = [
        *connect_script(),
        read(5, 2, [0b111]),
        read(6, 8, [1]),
        read(7, 29, text("W01")),
        write_many(8, 200, JOB),
        read(9, 0, status(0)),
        write_one(10, 300, 3),
        held_read(11, 0, 0, 5, [2, 0b1, *status(2)[2:]]),  # fault, SQUEEGEE_STALL
        read(12, 1, [0b1]),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        with pytest.raises(ToolAlarm, match="SQUEEGEE_STALL"):
            await driver.print_paste(RECIPE)
        await driver.close()


async def test_limits_and_interlocks_refuse_with_nothing_sent_and_no_bumps_is_explained():
    script = [
        *connect_script(),
        read(5, 2, [0b011]),  # the stencil is not clamped
        read(6, 2, [0b111]),
        read(7, 8, [1]),
        read(8, 29, text("W01")),
        write_many(9, 200, JOB),
        read(10, 0, status(0)),
        refused(write_one(11, 300, 3)),
        read(12, 19, [300, 9]),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(LimitViolation, match="squeegee_speed_mm_s"):
            await driver.print_paste(PrintRecipe(SolderPaste.SAC305, 30, 100, 60, 200, 1.0))
        with pytest.raises(InterlockOpen, match="stencil_clamped"):
            await driver.print_paste(RECIPE)
        with pytest.raises(CommandRefused, match="no bumps to print on"):
            await driver.print_paste(RECIPE)
        await driver.close()
