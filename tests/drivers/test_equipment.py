"""The equipment interface every driver shares, exercised through the plasma cleaner."""

from __future__ import annotations

import asyncio

import pytest

from packline.clock import VirtualClock
from packline.drivers.equipment import E10State, Limit, ToolState
from packline.drivers.errors import CommandRefused, ToolConnectionError, ToolStateError
from packline.drivers.links import ModbusLink, SerialLink
from packline.drivers.plasma_cleaner import Command, ModbusPlasmaCleaner
from packline.sim_instruments.plasma_cleaner import SimPlasmaCleaner
from packline.sim_instruments.twin import TwinStore
from packline.testing import expected_protocol
from packline.testing.modbus_frames import identification, read, refused, text


def test_every_tool_state_maps_to_one_e10_state():
    assert {state.e10 for state in ToolState} == set(E10State)


def test_limits_are_ranges_with_units():
    assert Limit(1, 2, "W").contains(1.5)
    assert not Limit(1, 2, "W").contains(2.5)
    with pytest.raises(ValueError, match="minimum 3 is above maximum 2"):
        Limit(3, 2, "W")


def test_a_driver_refuses_a_link_it_does_not_speak():
    with pytest.raises(TypeError, match="speaks over ModbusLink, not SerialLink"):
        ModbusPlasmaCleaner(SerialLink("socket://127.0.0.1:9"), name="plasma")


def test_unknown_limit_overrides_name_the_known_setpoints():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    with pytest.raises(ValueError, match=r"no setpoint 'power_w'.*rf_power_w"):
        ModbusPlasmaCleaner(link, name="plasma", limits={"power_w": (1, 2)})


async def test_abort_finishes_commanding_the_safe_state_when_its_caller_is_cancelled():
    clock = VirtualClock()
    sim = SimPlasmaCleaner("plasma", TwinStore(), clock)
    address = await sim.start()
    driver = ModbusPlasmaCleaner(ModbusLink(address, tool="plasma", clock=clock), name="plasma")
    try:
        await driver.connect()
        aborting = asyncio.create_task(driver.abort())
        await asyncio.sleep(0)  # abort has started its exchange
        aborting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await aborting
        assert sim.received == [f"FC6 write 300 [{Command.ABORT.value}]"]
    finally:
        await driver.close()
        await sim.stop()


async def test_readings_reach_listeners_with_process_time():
    clock = VirtualClock()
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma", clock=clock)
    driver = ModbusPlasmaCleaner(link, name="plasma")
    seen = []
    driver.add_reading_listener(seen.append)
    await clock.sleep(12)
    reading = driver.record_reading("pressure", 100, "mTorr")
    driver.remove_reading_listener(seen.append)
    driver.record_reading("pressure", 90, "mTorr")
    assert seen == [reading]
    assert (reading.tool, reading.time_s, reading.unit) == ("plasma", 12, "mTorr")
    assert len(driver.readings) == 2


@pytest.mark.parametrize(
    ("bounds", "problem"),
    [(600, "got 600"), ((600, 100), "minimum 600.0 is above maximum 100.0"), ((1, "x"), "'x'")],
)
def test_malformed_limit_overrides_name_the_setpoint_and_its_unit(bounds, problem):
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    with pytest.raises(
        ValueError, match=r"plasma: limits\.rf_power_w must be \[minimum, maximum\] in W"
    ) as error:
        ModbusPlasmaCleaner(link, name="plasma", limits={"rf_power_w": bounds})
    assert problem in str(error.value)


async def test_a_failed_connect_leaves_the_tool_offline_and_the_link_closed():
    script = [
        identification(1, "packline", "PC-4", "1.0"),
        read(2, 20, text("PC4-0001", 8)),
        refused(read(3, 1, [0]), code=4),  # the alarm register cannot be read
    ]
    async with expected_protocol(script) as peer:
        link = ModbusLink(peer.address("modbus+tcp"), tool="plasma", timeout_s=1.0)
        driver = ModbusPlasmaCleaner(link, name="plasma")
        with pytest.raises(CommandRefused, match="SERVER_DEVICE_FAILURE"):
            await driver.connect()
        assert driver.state is ToolState.OFFLINE
        assert driver.e10_state is E10State.NON_SCHEDULED
        assert not link.connected


async def test_connect_twice_is_refused_without_touching_the_link():
    clock = VirtualClock()
    sim = SimPlasmaCleaner("plasma", TwinStore(), clock)
    address = await sim.start()
    driver = ModbusPlasmaCleaner(ModbusLink(address, tool="plasma", clock=clock), name="plasma")
    try:
        await driver.connect()
        with pytest.raises(ToolStateError, match="connect: not allowed while idle"):
            await driver.connect()
        assert driver.state is ToolState.IDLE
        assert driver.link.connected
        assert (await driver.request_status()).door_closed is False  # the link still works
    finally:
        await driver.close()
        await sim.stop()


async def test_abort_of_a_driver_that_never_connected_raises_and_stays_offline():
    link = ModbusLink("modbus+tcp://127.0.0.1:9", tool="plasma")
    driver = ModbusPlasmaCleaner(link, name="plasma")
    with pytest.raises(ToolConnectionError, match="not connected"):
        await driver.abort()
    assert driver.state is ToolState.OFFLINE
