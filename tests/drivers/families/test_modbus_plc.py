"""The Modbus PLC family's driver base (`ModbusPlcDriver`) decodes a polled status block as
each entry's `decoded` says, for every PLC tool's map: the same numbers, of the same types (a
count stays a whole number)."""

from __future__ import annotations

import random

import pytest

from packline.drivers.ball_mounter import ModbusBallMounter
from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.families.modbus_plc import ModbusPlcDriver
from packline.drivers.families.plc_map import PlcStatus, decoded
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.oven import ModbusOven
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.stencil_printer import ModbusStencilPrinter

DRIVERS = [
    ModbusBallMounter,
    ModbusDepositionTool,
    ModbusScpiElectroplater,
    ModbusLaminator,
    ModbusOven,
    ModbusPlasmaCleaner,
    ModbusStencilPrinter,
]


class _Registers:
    """A link whose holding registers are `registers`."""

    def __init__(self, registers: list[int]) -> None:
        self.registers = registers

    async def read_holding_registers(self, address: int, count: int) -> list[int]:
        return self.registers[address : address + count]


@pytest.mark.parametrize("driver_type", DRIVERS, ids=lambda driver: driver.__name__)
async def test_a_status_block_is_decoded_entry_by_entry(driver_type: type[ModbusPlcDriver]):
    driver = driver_type.__new__(driver_type)
    wire = driver.spec.wire
    registers = [random.Random(seed).randrange(0x10000) for seed in range(wire.status_registers)]
    driver.link = _Registers(registers)  # type: ignore[assignment]
    expected = {
        entry.name: decoded(entry, registers[entry.address() : entry.extent])
        for entry in driver.spec.status
        if isinstance(entry, PlcStatus) and not entry.text and entry.extent <= wire.status_registers
    }
    values = await driver.read_status_block()
    assert values == expected
    assert [type(value) for value in values.values()] == [type(v) for v in expected.values()]
    assert any(isinstance(value, int) for value in values.values())
