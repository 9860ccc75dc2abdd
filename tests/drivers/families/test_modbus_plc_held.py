"""The Modbus PLC family's held status read (`ModbusPlcDriver.wait_until_held`, decision 0078) on
PLCs that do not serve it, do not hold it, count changes the values do not show, or stall:
a wait on the stencil printer's cycle count against a scripted peer, frames from
docs/protocols/stencil-printer.md."""

from __future__ import annotations

import logging

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S
from packline.drivers.links import ModbusLink
from packline.drivers.links.modbus_protocol import EXCEPTION_NAMES
from packline.drivers.roles.stencil_printer import PrinterStatus
from packline.drivers.stencil_printer import ModbusStencilPrinter
from packline.testing import expected_protocol
from packline.testing.modbus_frames import held_read, identification, read, refused, text

#: The scripted peer answers every request at once, so the virtual clock moves only by the
#: driver's own pauses: a poll interval is 1 s of it.
POLL_INTERVAL_S = 1.0
#: `HOLD_S` in the hold register's 0.1 s: what a held read asks of a wait longer than it.
HOLD = round(HOLD_S * 10)
#: A wait's timeout longer than the hold, so that each held read asks the whole of it.
TIMEOUT_S = 2 * HOLD_S


def connect_script() -> list:
    """Identity (FC43 + serial registers 21-28) then the alarm register 1."""
    return [
        identification(1, "packline", "SP-1", "1.0"),
        read(2, 21, text("SP-1-0001")),
        read(3, 0, status(0)),
        read(4, 1, [0]),
    ]


def status(phase: int, *, remaining_ds: int = 0, completed: int = 0) -> list[int]:
    """Registers 0-20: the phase, every interlock closed, the step's time left (not counted
    by `STATUS_CHANGES`), the cycles completed, a workpiece loaded."""
    regs = [0] * 21
    regs[0] = phase
    regs[2] = 0b111
    regs[3] = remaining_ds
    regs[6] = completed
    regs[8] = 1
    return regs


def make_driver(address: str, clock: VirtualClock) -> ModbusStencilPrinter:
    link = ModbusLink(address, tool="stencil_printer", timeout_s=0.2, clock=clock)
    return ModbusStencilPrinter(link, name="stencil_printer", poll_interval_s=POLL_INTERVAL_S)


def printed(status: PrinterStatus) -> bool:
    return status.cycles_completed == 1


async def wait_time_s(script: list, timeout_s: float = TIMEOUT_S) -> float:
    """The virtual time a wait for the cycle count against `script` (after connecting) took."""
    clock = VirtualClock()
    async with expected_protocol([*connect_script(), *script]) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        await driver.wait_status("print", printed, timeout_s)
        await driver.close()
    return clock.now()


@pytest.mark.parametrize("code", [1, 2, 10, 11])
async def test_a_plc_that_does_not_serve_the_held_read_is_polled(code, caplog):
    """Exception 1 (no FC23), 2 (no hold block), 10 or 11 (a gateway that cannot carry it):
    the wait goes on by polls (FC3), one a poll interval, and so do the driver's next waits;
    one warning names the tool and the exception."""
    clock = VirtualClock()
    script = [
        *connect_script(),
        refused(held_read(5, 0, 0, 0, status(1)), code),
        read(6, 0, status(1, remaining_ds=20)),  # the same poll, read as a poll reads
        read(7, 0, status(1, remaining_ds=10)),  # a poll interval later
        read(8, 0, status(0, completed=1)),
        read(9, 0, status(0, completed=1)),  # the next wait polls at once, no FC23
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        with caplog.at_level(logging.WARNING):
            await driver.wait_status("print", printed, 100)
            assert clock.now() == 2 * POLL_INTERVAL_S
            await driver.wait_status("print", printed, 100)
        await driver.close()
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "stencil_printer" in warning
    assert EXCEPTION_NAMES[code] in warning


async def test_a_count_that_moves_without_the_values_it_counts_is_read_once_an_interval():
    """A PLC whose `STATUS_CHANGES` moves on every scan (a chattering input) answers each held
    read at once: the next read goes a poll interval after the one that showed no change of
    the counted values, and at once after one that did."""
    script = [
        held_read(5, 0, 0, 5, status(1, remaining_ds=30)),  # the wait's first read
        held_read(6, 5, HOLD, 6, status(1, remaining_ds=20)),  # counted, nothing changed
        held_read(7, 6, HOLD, 7, status(0, remaining_ds=10)),  # 1 s later: the phase changed
        held_read(8, 7, HOLD, 8, status(0, completed=1)),  # at once after it
    ]
    assert await wait_time_s(script) == POLL_INTERVAL_S


async def test_the_pause_after_an_early_answer_never_carries_a_hold_past_the_deadline():
    """An answer at once without a change, `HOLD_S` + 0.5 s before the deadline: the next
    read goes a poll interval later, when less than the hold is left, so it is held for what
    is left (`HOLD_S` - 0.5 s, to the deadline, decision 0101), not for the whole hold, up to
    0.5 s past the deadline."""
    script = [
        held_read(5, 0, 0, 5, status(1, remaining_ds=30)),
        held_read(6, 5, HOLD, 5, status(1, remaining_ds=20)),  # at once, unchanged
        held_read(7, 5, HOLD - 5, 6, status(0, completed=1)),
    ]
    assert await wait_time_s(script, timeout_s=HOLD_S + 0.5) == POLL_INTERVAL_S


async def test_a_held_read_that_got_no_reply_is_asked_again():
    """The held read writes only its own hold block: a PLC that did not answer it within the
    hold and the link's timeout is asked it again (the link's `read_retries`)."""
    unanswered, _ = held_read(6, 5, HOLD, 0, status(1))
    script = [
        held_read(5, 0, 0, 5, status(1)),
        (unanswered, None),
        held_read(1, 5, HOLD, 6, status(0, completed=1)),  # on a fresh connection, tid 1
    ]
    assert await wait_time_s(script) == HOLD_S  # the first was held to its end
