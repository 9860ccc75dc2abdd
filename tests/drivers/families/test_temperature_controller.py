"""Byte-level tests: the temperature controller driver side against the Eurotherm 3200 map.

The frames are Modbus RTU written here from the map's addresses (PV.IN 1 ... WKG.SP 5, SP.RAT
35, StAt 75, IM 199, ACK 274) and one decimal place, not from the module's constants, and the
real link runs against a scripted peer on a pty, as on an RS-485 line with several units.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.errors import CommandRefused
from packline.drivers.families.temperature_controller import (
    EUROTHERM_3200,
    InstrumentMode,
    InstrumentStatus,
    TemperatureController,
)
from packline.drivers.links import ModbusLink
from packline.drivers.specs.pages import stale_tables
from packline.testing import expected_protocol
from packline.testing.modbus_frames import read, refused, rtu, write_one


def zone(address: str, unit: int) -> TemperatureController:
    return TemperatureController(ModbusLink(address, tool="oven", timeout_s=1.0), unit, "zone 1")


async def test_a_reading_is_one_read_of_addresses_1_to_5_and_the_status_word():
    script = [
        rtu(read(0, 1, [2171, 2200, 0, 355, 2185], unit=3)),
        rtu(read(0, 75, [0b100001], unit=3)),
    ]
    assert script[0][0] == bytes.fromhex("030300010005") + script[0][0][-2:]
    async with expected_protocol(script, transport="pty") as peer:
        controller = zone(peer.address("modbus+rtu"), 3)
        async with controller.link:
            reading = await controller.read()
    assert reading.process_c == pytest.approx(217.1)
    assert reading.target_c == pytest.approx(220.0)
    assert reading.output_pct == pytest.approx(35.5)
    assert reading.working_setpoint_c == pytest.approx(218.5)
    assert reading.status == InstrumentStatus.ALARM_1 | InstrumentStatus.SENSOR_BREAK
    assert reading.alarms() == [
        "alarm 1 (absolute high: the process value above A1)",
        "sensor break (thermocouple open)",
    ]


async def test_a_ramp_writes_the_rate_then_the_target_and_a_mode_and_an_acknowledge():
    script = [
        rtu(write_one(0, 35, 15, unit=2)),  # SP.RAT 1.5 degC/min
        rtu(write_one(0, 2, 1500, unit=2)),  # TG.SP 150.0 degC
        rtu(write_one(0, 199, 0, unit=2)),  # IM auto
        rtu(write_one(0, 274, 1, unit=2)),  # acknowledge all alarms
        rtu(read(0, 199, [2], unit=2)),
    ]
    async with expected_protocol(script, transport="pty") as peer:
        controller = zone(peer.address("modbus+rtu"), 2)
        async with controller.link:
            await controller.ramp_to(150.0, 1.5)
            await controller.set_mode(InstrumentMode.AUTO)
            await controller.acknowledge_alarms()
            assert await controller.request_mode() is InstrumentMode.STANDBY


async def test_values_outside_the_map_are_refused_before_anything_is_sent():
    async with expected_protocol([], transport="pty") as peer:
        controller = zone(peer.address("modbus+rtu"), 2)
        async with controller.link:
            with pytest.raises(ValueError, match=r"TG.SP \(address 2\) = 460 degC is outside"):
                await controller.ramp_to(460.0, 1.0)
            with pytest.raises(ValueError, match=r"SP.RAT \(address 35\) = -1"):
                await controller.ramp_to(100.0, -1.0)


async def test_the_controllers_refusal_is_the_links_command_refused():
    script = [rtu(refused(write_one(0, 2, 1000, unit=4)))]
    assert script[0][1][:3] == bytes([4, 0x86, 3])  # unit, FC6 | 0x80, exception 3
    async with expected_protocol(script, transport="pty") as peer:
        controller = zone(peer.address("modbus+rtu"), 4)
        async with controller.link:
            with pytest.raises(CommandRefused, match="ILLEGAL_DATA_VALUE"):
                await controller.write("TG.SP", 100.0)


def test_negative_temperatures_travel_as_twos_complement():
    assert EUROTHERM_3200.decode("PV.IN", 0xFFF6) == pytest.approx(-1.0)
    assert EUROTHERM_3200.decode("PV.IN", 2500) == pytest.approx(250.0)


def test_the_conventions_page_shows_the_map_as_declared():
    page = (Path(__file__).parents[3] / "docs" / "protocols" / "conventions.md").read_text()
    table = EUROTHERM_3200.table()
    assert stale_tables(page, {"temperature-controller": table}) == []
    for address in (1, 2, 4, 5, 13, 35, 75, 199, 274):
        assert f"\n| {address} |" in table
