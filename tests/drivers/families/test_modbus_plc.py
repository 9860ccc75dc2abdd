"""The Modbus PLC family's driver base (`ModbusPlcDriver`) decodes a polled status block as
each entry's `decoded` says, for every PLC tool's map: the same numbers, of the same types (a
count stays a whole number); and refuses another PLC kind's tool at its address as another
kind, whatever that tool's map has where its own puts the serial number."""

from __future__ import annotations

import asyncio
import itertools
import random
import re

import pytest

from packline.clock import VirtualClock
from packline.drivers.ball_mounter import ModbusBallMounter
from packline.drivers.deposition import ModbusDepositionTool
from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.equipment.vocabulary import Identity
from packline.drivers.errors import WrongTool
from packline.drivers.families.modbus_plc import ModbusPlcDriver
from packline.drivers.families.plc_map import PlcStatus, decoded
from packline.drivers.laminator import ModbusLaminator
from packline.drivers.links import ModbusLink, VisaLink, open_link
from packline.drivers.oven import ModbusOven
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.drivers.registry import TOOL_KINDS, kinds_driven_by
from packline.drivers.stencil_printer import ModbusStencilPrinter
from packline.sim_instruments.twin import TwinStore

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


def _kind(driver_type: type[ModbusPlcDriver]) -> str:
    (kind,) = kinds_driven_by(driver_type)
    return kind


@pytest.mark.parametrize(
    ("driver_type", "other"),
    [
        (driver_type, other)
        for driver_type, other in itertools.product(DRIVERS, map(_kind, DRIVERS))
        if _kind(driver_type) != other
    ],
    ids=lambda value: value if isinstance(value, str) else _kind(value),
)
async def test_another_plc_kind_at_the_address_is_refused_as_another_kind(
    driver_type: type[ModbusPlcDriver], other: str
):
    """Every PLC driver on every other PLC kind's simulated tool (a laminator's driver at the
    ball mounter's address) names what answered and what it drives, never the bytes the other
    map has where its own reads the serial number."""
    sim = TOOL_KINDS[other].load_simulator()(other, TwinStore(), VirtualClock())
    address = await sim.start()
    link = open_link(address, tool="tool", timeout_s=1.0, clock=sim.clock)
    assert isinstance(link, ModbusLink)
    # The electroplater's supply is reached once the cell is known to be a plating cell: never.
    supply = VisaLink("TCPIP0::127.0.0.1::9::SOCKET", tool="supply", clock=sim.clock)
    devices = {"supply": supply} if driver_type is ModbusScpiElectroplater else None
    tool = driver_type(link, name="tool", devices=devices)
    try:
        with pytest.raises(WrongTool) as refused:
            async with asyncio.timeout(5):
                await tool.connect()
        assert re.search(
            rf"the tool says it is a .*, a {other}; this driver drives a {_kind(driver_type)} ",
            str(refused.value),
        ), str(refused.value)
        assert not link.connected
    finally:
        await sim.stop()


async def test_a_plc_is_judged_once_per_connect_by_its_fc43_objects(
    monkeypatch: pytest.MonkeyPatch,
):
    """A PLC of the driver's own kind is judged once a connect, by what its FC43 objects say
    (no serial number read yet), and then read whole."""
    sim = TOOL_KINDS["plasma_cleaner"].load_simulator()(
        "plasma_cleaner", TwinStore(), VirtualClock()
    )
    address = await sim.start()
    tool = ModbusPlasmaCleaner(
        open_link(address, tool="tool", timeout_s=1.0, clock=sim.clock), name="tool"
    )
    judged: list[str] = []
    check = tool._check_identity

    def judge(identity: Identity) -> None:
        judged.append(identity.serial_number)
        check(identity)

    monkeypatch.setattr(tool, "_check_identity", judge)
    try:
        async with asyncio.timeout(5):
            await tool.connect()
        assert judged == [""]
        assert tool.identity.serial_number
        await tool.close()
    finally:
        await sim.stop()
