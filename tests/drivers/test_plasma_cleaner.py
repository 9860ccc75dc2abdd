"""Byte-level tests: the plasma cleaner driver against docs/protocols/plasma-cleaner.md.

Each test lists the exact Modbus TCP frames the page prescribes, built here from the page's
addresses and codes (not from the driver's constants), and runs the real link and driver
against a scripted peer.
"""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import HOLD_S
from packline.drivers.errors import CommandRefused, LimitViolation, ProtocolError, ToolTimeout
from packline.drivers.links import ModbusLink
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.roles.plasma_cleaner import Gas, PlasmaRecipe, PlasmaStep
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

SERIAL = text("PC-4-0001", 8)

#: A held read's hold, in the hold register's 0.1 s, of a wait longer than `HOLD_S`.
HOLD = round(HOLD_S * 10)


def connect_script(alarm_word: int = 0) -> list[tuple[bytes, bytes]]:
    """Identity (FC43 + serial registers 20-27) then the alarm register 1."""
    return [
        identification(1, "packline", "PC-4", "1.0"),
        read(2, 20, SERIAL),
        read(3, 0, status(0)),
        read(4, 1, [alarm_word]),
    ]


def status(chamber: int, *, door: int = 1, completed: int = 0, pressure: int = 20) -> list[int]:
    """Registers 0-19 with the given chamber state."""
    regs = [0] * 20
    regs[0] = chamber
    regs[2] = 0b1111 if chamber == 2 else 0b0101
    regs[3:5] = [pressure >> 16, pressure & 0xFFFF]
    regs[13] = completed
    regs[15] = door
    regs[16] = 4
    return regs


def make_driver(address: str, clock: VirtualClock | None = None) -> ModbusPlasmaCleaner:
    link = ModbusLink(address, tool="plasma", timeout_s=1.0, clock=clock)
    return ModbusPlasmaCleaner(link, name="plasma")


async def test_connect_reads_identity_and_alarms():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert str(driver.identity) == "packline PC-4 s/n PC-4-0001 fw 1.0"
        assert driver.state.value == "idle"
        await driver.close()


async def test_active_alarm_at_connect_puts_the_tool_in_fault():
    async with expected_protocol(connect_script(alarm_word=0b1)) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert driver.state.value == "fault"
        assert list(driver.active_alarms) == ["REFLECTED_POWER"]
        await driver.close()


async def test_an_alarm_bit_the_page_does_not_list_is_an_alarm_all_the_same():
    async with expected_protocol(connect_script(alarm_word=0b1000_0001)) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert driver.state.value == "fault"
        assert driver.active_alarms["BIT_7"].message == "alarm bit 7 is not on the protocol page"
        assert "REFLECTED_POWER" in driver.active_alarms
        await driver.close()


async def test_load_writes_slot_and_id_then_the_command():
    slots = [4, 0]  # capacity 4, none occupied
    params, params_reply = write_many(7, 301, [0, *text("W01", 8)])
    command, command_reply = write_one(8, 300, 8)
    script = [
        *connect_script(),
        read(5, 16, slots),
        read(6, 40, [0] * 32),
        (params, params_reply),
        (command, command_reply),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert await driver.load("W01") == 0
        await driver.close()


async def test_the_capacity_is_the_slot_capacity_register_16():
    """How many wafers the chamber takes at once is what it reports at register 16 (its slots
    read with it), which a station's `capacity` may not exceed."""
    script = [*connect_script(), read(5, 16, [2, 0]), read(6, 40, [0] * 16)]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        assert await driver.request_capacity() == 2
        await driver.close()


async def test_refused_command_is_explained_from_register_19():
    script = [
        *connect_script(),
        read(5, 2, [0b0001]),  # interlocks: door closed
        refused(write_one(6, 300, 1)),  # pump down refused
        read(7, 19, [2]),  # reason: wrong state
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(
            CommandRefused, match="pump down: not allowed in the chamber's present state"
        ):
            await driver.pump_down()
        await driver.close()


async def test_clean_writes_the_recipe_starts_and_polls_until_completed():
    clock = VirtualClock()
    recipe = PlasmaRecipe(
        (PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep(Gas.AR, 50, 100, 500, 30))
    )
    script = [
        *connect_script(),
        read(5, 2, [0b1111]),  # interlocks all closed
        read(6, 16, [4, 0b1]),  # capacity 4, slot 0 occupied
        read(7, 40, text("W01", 8) + [0] * 24),
        read(8, 0, status(2)),  # completed-run counter 0
        write_many(9, 200, [2]),
        write_many(10, 210, [1, 100, 200, 300, 600, 0, 0, 0, 0, 0, 2, 50, 100, 500, 300]),
        write_one(11, 300, 3),
        held_read(12, 0, 0, 5, status(3)),
        held_read(13, 5, HOLD, 6, status(2, completed=1)),
        read(14, 14, [1]),  # last result: completed
        read(15, 11, [0, 900]),  # elapsed 90.0 s
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        result = await driver.clean(recipe)
        await driver.close()
    assert result.wafer_ids == ("W01",)
    assert result.process_time_s == 90.0
    assert clock.now() == 0.0  # the held read answered as the run ended, not a poll later
    names = [reading.name for reading in driver.readings]
    assert names[:4] == ["pressure", "rf_forward", "rf_reflected", "gas_flow"]


async def test_out_of_limit_setpoint_is_refused_before_anything_is_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        too_hot = PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 1500, 60),))
        with pytest.raises(
            LimitViolation, match=r"rf_power_w = 1500 W is outside the limits \[100, 1000\] W"
        ):
            await driver.clean(too_hot)
        assert driver.state.value == "idle"
        await driver.close()


async def test_station_limits_narrow_the_defaults():
    async with expected_protocol(connect_script()) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="plasma", timeout_s=1.0)
        driver = ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": (100, 600)})
        await driver.connect()
        with pytest.raises(LimitViolation, match="rf_power_w = 800 W"):
            await driver.clean(PlasmaRecipe((PlasmaStep(Gas.AR, 100, 200, 800, 60),)))
        await driver.close()


async def test_chamber_state_outside_the_map_is_a_protocol_error():
    script = [*connect_script(), read(5, 0, [9] + [0] * 19)]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(ProtocolError, match="chamber state 9 is not in the register map"):
            await driver.request_status()
        await driver.close()


def delivering(regs: list[int], rf_forward_w: int, gas_flow_sccm: int) -> list[int]:
    """`regs` (a status block) with RF forward power (register 5) and gas flow (7) set."""
    regs = list(regs)
    regs[5], regs[7] = rf_forward_w, gas_flow_sccm
    return regs


async def test_abort_writes_the_abort_command_and_reads_until_rf_and_gas_are_off():
    """ABORT, then the status by the held status read (each held at most a poll interval,
    10 in 0.1 s): still processing with RF and gas on, then evacuated with both at 0."""
    clock = VirtualClock()
    script = [
        *connect_script(),
        write_one(5, 300, 4),
        held_read(6, 0, 0, 7, delivering(status(3), 300, 100)),
        held_read(7, 7, 10, 8, status(2)),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        await driver.abort()
        assert driver.state.value == "idle"
        await driver.close()


async def test_an_abort_whose_rf_stays_on_raises_naming_what_was_not_confirmed():
    """The chamber left processing but its RF forward power still reads 150 W: the abort
    is not confirmed; 10 s of process time later it raises `ToolTimeout` saying so, writes
    ABORT no second time, and the driver is in fault."""
    clock = VirtualClock()
    on = delivering(status(2), 150, 0)
    script = [
        *connect_script(),
        write_one(5, 300, 4),
        held_read(6, 0, 0, 7, on),
        # held at most 1 s; answered at once without a change, so read again a second later
        *(held_read(7 + n, 7, 10, 7, on) for n in range(10)),  # t = 0 ... 9
        read(17, 0, on),  # t = 10, the deadline: no time left to hold
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"), clock)
        await driver.connect()
        not_confirmed = "plasma at .*: abort: safe state not confirmed: RF forward 150 W after 10 s"
        with pytest.raises(ToolTimeout, match=f"^{not_confirmed}$"):
            await driver.abort()
        assert driver.state.value == "fault"
        await driver.close()


async def test_a_refusal_other_than_exception_3_is_not_explained_from_register_19():
    """Register 19 holds the reason of exception 3 only; after exception 2 it is stale."""
    script = [
        *connect_script(),
        read(5, 2, [0b0001]),
        refused(write_one(6, 300, 1), code=2),  # no read of register 19 follows
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(CommandRefused) as error:
            await driver.pump_down()
        assert str(error.value) == (
            f"plasma at {driver.address}: pump down: Modbus exception response, code 2 to "
            "write_register 300 1 (tool error ILLEGAL_DATA_ADDRESS)"
        )
        assert error.value.code == "ILLEGAL_DATA_ADDRESS"
        await driver.close()


async def test_error_code_7_reads_as_the_page_says():
    params, params_reply = write_many(7, 301, [1, *text("W01", 8)])
    script = [
        *connect_script(),
        read(5, 16, [4, 0]),
        read(6, 40, [0] * 32),
        (params, params_reply),
        refused(write_one(8, 300, 8)),
        read(9, 19, [7]),
    ]
    async with expected_protocol(script) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        with pytest.raises(
            CommandRefused, match="load wafer W01: wafer id not printable ASCII, or already loaded"
        ):
            await driver.load("W01", slot=1)
        await driver.close()


async def test_a_recipe_that_overruns_is_aborted_before_the_timeout_is_raised():
    """The driver gives up 120 s after the recipe should have ended, and writes ABORT."""
    clock = VirtualClock()
    recipe = PlasmaRecipe((PlasmaStep(Gas.O2, 100, 200, 300, 30),))  # gives up at 150 s
    script = [
        *connect_script(),
        read(5, 2, [0b1111]),
        read(6, 16, [4, 0]),
        read(7, 40, [0] * 32),
        read(8, 0, status(2)),
        write_many(9, 200, [1]),
        write_many(10, 210, [1, 100, 200, 300, 300]),
        write_one(11, 300, 3),
        read(12, 0, status(3)),  # t = 0
        read(13, 0, status(3)),  # t = 150: the interval cut to the deadline
        write_one(14, 300, 4),  # ABORT: RF and gas off
        read(15, 0, status(2)),  # confirmed: the run ended, RF and gas read 0
    ]
    async with expected_protocol(script) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="plasma", timeout_s=1.0, clock=clock)
        # polled: an interval longer than the hold
        driver = ModbusPlasmaCleaner(link, name="plasma", poll_interval_s=2 * HOLD_S)
        await driver.connect()
        with pytest.raises(ToolTimeout, match="not finished after 150 s; aborted"):
            await driver.clean(recipe)
        assert driver.state.value == "idle"
        await driver.close()


async def test_an_unknown_gas_is_refused_naming_the_step_before_anything_is_sent():
    async with expected_protocol(connect_script()) as peer:
        driver = make_driver(peer.address("modbus+tcp"))
        await driver.connect()
        recipe = PlasmaRecipe(
            (PlasmaStep(Gas.O2, 100, 200, 300, 60), PlasmaStep("N2", 100, 200, 300, 60))  # type: ignore[arg-type]
        )
        with pytest.raises(ValueError, match="plasma: clean step 2: gas 'N2' is not one of O2, Ar"):
            await driver.clean(recipe)
        assert driver.state.value == "idle"
        await driver.close()
