"""A simulated Modbus tool: a pymodbus `SimDevice` served over Modbus TCP or Modbus RTU.

The tool's logic lives in the `SimDevice`'s `action` hook (see LIBRARIES.md): it sees every
access before a write is applied, may change the register block in place, and may refuse a
write with an `ExcCodes` member. The simulated process changes registers with `set_values`,
which goes through the same hook.

Three transports, each with the address form `open_link` takes:

- `"tcp"`: Modbus TCP, `modbus+tcp://127.0.0.1:PORT`.
- `"rtu-pty"`: Modbus RTU on a serial line: pymodbus's serial server on one end of a
  `NullModem`, the address names the other end, `modbus+rtu:/dev/pts/N`.
- `"rtu-tcp"`: RTU frames over raw TCP, as behind a serial device server:
  `modbus+rtu:socket://127.0.0.1:PORT`.

Device identification (FC43 / MEI 14) answers with each `SimDevice`'s own `identity`. pymodbus
itself serves FC43 from one process-wide control block, so two simulated tools in one process
would otherwise answer with the same (last set) identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pymodbus.constants import DeviceInformation, ExcCodes
from pymodbus.framer import FramerType
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.device import DeviceInformationFactory, ModbusDeviceIdentification
from pymodbus.pdu.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse
from pymodbus.server import ModbusBaseServer, ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import SimDevice

from .base import ToolServer
from .pty import NullModem

ModbusTransport = Literal["tcp", "rtu-pty", "rtu-tcp"]


class _IdentityBlock:
    """The one attribute of pymodbus's control block that device identification reads."""

    def __init__(self, identity: ModbusDeviceIdentification) -> None:
        self.Identity = identity


def _identification_request(
    identities: dict[int, ModbusDeviceIdentification],
) -> type[ReadDeviceInformationRequest]:
    """An FC43/MEI 14 request class answering from `identities` (device id 0 = any device)."""

    class ReadDeviceIdentificationRequest(ReadDeviceInformationRequest):
        async def datastore_update(self, context: object, device_id: int) -> ModbusPDU:
            identity = identities.get(device_id, identities.get(0))
            # Read device id codes are 1 (basic) to 4 (specific); anything else is exception 3.
            if identity is None or not 1 <= self.read_code <= DeviceInformation.SPECIFIC:
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_VALUE)
            information = DeviceInformationFactory.get(
                _IdentityBlock(identity), self.read_code, self.object_id
            )
            if self.read_code == DeviceInformation.SPECIFIC and not information.get(self.object_id):
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_ADDRESS)
            return ReadDeviceInformationResponse(
                read_code=self.read_code,
                information=information,
                dev_id=device_id,
                transaction_id=self.transaction_id,
            )

    return ReadDeviceIdentificationRequest


def _serve_identities(server: ModbusBaseServer, devices: Sequence[SimDevice]) -> None:
    """Make `server` answer FC43 with each device's own identity."""
    identities = {device.id: device.identity for device in devices if device.identity}
    if not identities:
        return
    request = _identification_request(identities)
    # An instance-level copy of the sub-function table: the class-level one is shared by
    # every decoder in the process.
    table = {code: dict(subs) for code, subs in DecodePDU.pdu_sub_table.items()}
    table[request.function_code][request.sub_function_code] = (
        request,
        ReadDeviceInformationResponse,
    )
    server.decoder.pdu_sub_table = table


class ModbusToolServer(ToolServer):
    """Serve one or more `SimDevice`s (several device ids = an RS-485 line) over Modbus.

    `host`/`port` apply to the TCP transports (port 0 = ephemeral; after `stop()` a new
    `start()` binds the same port); `baudrate`/`parity`/`stopbits`/`bytesize` to `"rtu-pty"`.
    A restart keeps the registers: it models a tool that dropped off the wire, not one that
    lost power.
    """

    def __init__(
        self,
        device: SimDevice | Sequence[SimDevice],
        *,
        transport: ModbusTransport = "tcp",
        host: str = "127.0.0.1",
        port: int = 0,
        baudrate: int = 19200,
        parity: str = "N",
        stopbits: int = 1,
        bytesize: int = 8,
    ) -> None:
        super().__init__()
        if transport not in ("tcp", "rtu-pty", "rtu-tcp"):
            raise ValueError(f"transport must be 'tcp', 'rtu-pty' or 'rtu-tcp', got {transport!r}")
        self.devices = [device] if isinstance(device, SimDevice) else list(device)
        self.transport = transport
        self.host = host
        self.port = port
        self.serial_options = {
            "baudrate": baudrate,
            "parity": parity,
            "stopbits": stopbits,
            "bytesize": bytesize,
        }
        self._server: ModbusBaseServer | None = None
        self._registers: Any = None
        self._null_modem: NullModem | None = None

    async def _start(self) -> str:
        try:
            return await self._start_server()
        except BaseException:
            await self._stop()  # the null modem, if it was opened, is closed too
            raise

    async def _start_server(self) -> str:
        address = ""
        if self.transport == "rtu-pty":
            self._null_modem = NullModem()
            server_end, client_end = self._null_modem.open()
            self._server = ModbusSerialServer(
                self.devices, port=server_end, framer=FramerType.RTU, **self.serial_options
            )
            address = f"modbus+rtu:{client_end}"
        else:
            framer = FramerType.SOCKET if self.transport == "tcp" else FramerType.RTU
            self._server = ModbusTcpServer(
                self.devices, framer=framer, address=(self.host, self.port)
            )
        if self._registers is None:
            self._registers = self._server.context
        else:
            # The tool kept power while off the wire: same registers after a restart.
            self._server.context = self._registers
        _serve_identities(self._server, self.devices)
        await self._server.serve_forever(background=True)
        if self.transport == "rtu-pty":
            return address
        self.port = self._server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        if self.transport == "tcp":
            return f"modbus+tcp://{self.host}:{self.port}"
        return f"modbus+rtu:socket://{self.host}:{self.port}"

    async def _stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        if self._null_modem is not None:
            self._null_modem.close()
            self._null_modem = None

    async def set_values(
        self,
        function_code: int,
        address: int,
        values: list[int] | list[bool],
        *,
        device_id: int | None = None,
    ) -> None:
        """Change the simulated tool's registers (as its process would); runs the action hook."""
        await self._running().async_setValues(
            self._device_id(device_id), function_code, address, values
        )

    async def get_values(
        self, function_code: int, address: int, count: int = 1, *, device_id: int | None = None
    ) -> list[int] | list[bool]:
        """Read the simulated tool's registers; runs the action hook as a read."""
        return await self._running().async_getValues(
            self._device_id(device_id), function_code, address, count
        )

    def _running(self) -> ModbusBaseServer:
        if self._server is None:
            raise RuntimeError("ModbusToolServer is not started")
        return self._server

    def _device_id(self, device_id: int | None) -> int:
        if device_id is not None:
            return device_id
        if len(self.devices) != 1:
            raise ValueError("several devices are served: say which device_id")
        return self.devices[0].id
