"""A small SCPI-like meter and a small Modbus device, served on every transport the links use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.simulator import DataType, SimData, SimDevice

from packline.clock import VirtualClock
from packline.sim_instruments.servers import (
    ModbusToolServer,
    PtyToolServer,
    TextToolServer,
    ToolServer,
)


class Meter:
    """A SCPI-ish meter.

    `*IDN?`; `VOLT <v>` / `VOLT?`; `SYST:ERR?` pops the error queue; `ECHO? <x>` answers `<x>`
    after a short delay that differs per call (to expose interleaving); `SILENT?` never answers;
    `BINARY?` answers a byte that is not ASCII (served with latin-1); `STALL?` is not answered
    the first time it is asked (a stalled controller), `READY` every time after; `HOLD? <s>`
    answers `HELD` once `<s>` seconds of `clock`'s time have passed (a reply the tool holds).
    `received` lists every line as it arrives, and `heard` is set by each.
    """

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.volt = 0.0
        self.errors: list[str] = []
        self.received: list[str] = []
        self.heard = asyncio.Event()
        self.stalled = False
        self._delays = iter([0.004, 0.0, 0.002, 0.001] * 100)

    async def __call__(self, line: str) -> str | None:
        self.received.append(line)
        self.heard.set()
        command, _, argument = line.partition(" ")
        if command == "*IDN?":
            return "ACME,M1,0001,1.0"
        if command == "VOLT":
            try:
                self.volt = float(argument)
            except ValueError:
                self.errors.append('-104,"Data type error"')
            return None
        if command == "VOLT?":
            return f"{self.volt:g}"
        if command == "SYST:ERR?":
            return self.errors.pop(0) if self.errors else '0,"No error"'
        if command == "ECHO?":
            await asyncio.sleep(next(self._delays))
            return argument
        if command == "BINARY?":
            return "\xff"
        if command == "SILENT?":
            return None
        if command == "HOLD?":
            await self.clock.sleep(float(argument))
            return "HELD"
        if command == "STALL?":
            self.stalled, stalled = True, self.stalled
            return "READY" if stalled else None
        self.errors.append('-113,"Undefined header"')
        return None


#: Every way a text tool is put on the wire, as (server class, address form).
TEXT_TRANSPORTS = {
    "visa-tcp": (TextToolServer, "visa"),
    "visa-asrl": (PtyToolServer, "visa"),
    "serial-socket": (TextToolServer, "serial"),
    "serial-pty": (PtyToolServer, "serial"),
}

StartMeter = Callable[..., Awaitable[tuple[ToolServer, Meter]]]


@pytest.fixture
async def start_meter() -> AsyncIterator[StartMeter]:
    """Start a `Meter` on a named transport (see TEXT_TRANSPORTS); stopped at teardown."""
    servers: list[ToolServer] = []

    async def start(transport: str, **server_options: object) -> tuple[ToolServer, Meter]:
        server_class, form = TEXT_TRANSPORTS[transport]
        meter = Meter()
        server = server_class(meter, address_form=form, **server_options)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server, meter

    yield start
    for server in servers:
        await server.stop()


class Mixer:
    """A Modbus dosing mixer: holding registers 100..399, coils in register 0.

    Writing 3 to register 300 is refused (ILLEGAL_DATA_VALUE, say an out-of-range recipe
    slot). Any access to register 399 waits until `release` is set, to hold an exchange open;
    with `stall_once`, the next request sets it (a PLC that stalls once, until asked again).
    `requests` lists every request as it arrives ("read" or "write", address); `writes` every
    write applied and its values.
    """

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.stall_once = False
        self.requests: list[tuple[str, int]] = []
        self.writes: list[tuple[int, list[int] | list[bool]]] = []

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests.append(("read" if set_values is None else "write", address))
        if self.stall_once and len(self.requests) > 1:
            self.release.set()
        if address == 399:
            async with asyncio.timeout(10):
                await self.release.wait()
        if set_values is not None:
            if address == 300 and list(set_values)[:1] == [3]:
                return ExcCodes.ILLEGAL_VALUE
            self.writes.append((address, set_values))
        return None

    def device(self, device_id: int = 1, vendor: str = "ACME") -> SimDevice:
        return SimDevice(
            id=device_id,
            simdata=[
                SimData(0, count=1, values=0, datatype=DataType.BITS),
                SimData(100, count=300, values=0, datatype=DataType.REGISTERS),
            ],
            action=self.action,
            identity=ModbusDeviceIdentification(
                info_name={
                    "VendorName": vendor,
                    "ProductCode": "MX-2",
                    "MajorMinorRevision": "2.1",
                    "ModelName": "Mixer 2000",
                }
            ),
        )


StartMixer = Callable[..., Awaitable[tuple[ModbusToolServer, Mixer]]]


@pytest.fixture
async def start_mixer() -> AsyncIterator[StartMixer]:
    """Start a `Mixer` on a Modbus transport ("tcp", "rtu-tcp", "rtu-pty"); stopped at teardown."""
    started: list[tuple[ModbusToolServer, Mixer]] = []

    async def start(transport: str, **server_options: object) -> tuple[ModbusToolServer, Mixer]:
        mixer = Mixer()
        server = ModbusToolServer(mixer.device(), transport=transport, **server_options)  # type: ignore[arg-type]
        await server.start()
        started.append((server, mixer))
        return server, mixer

    yield start
    for server, mixer in started:
        mixer.release.set()
        await server.stop()
    # Requests that were held open finish once released; let them.
    await asyncio.sleep(0.01)
