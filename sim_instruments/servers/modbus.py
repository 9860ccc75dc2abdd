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

Every request is answered, in the order it came, even several in one TCP segment (pymodbus
alone answers the first and drops the rest). Given `function_codes`, the server answers only
those; any other gets exception 1 (illegal function), and a request of a served function that
does not decode (a read of 0 or more than 125 registers, a write of 0 or more than 123, a byte
count that does not match) gets exception 3 (illegal data value), as the Modbus application
protocol says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypedDict, cast

from pymodbus.constants import DeviceInformation, ExcCodes
from pymodbus.framer import FramerRTU, FramerType
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.device import DeviceInformationFactory, ModbusDeviceIdentification
from pymodbus.pdu.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse
from pymodbus.server import ModbusBaseServer, ModbusSerialServer, ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import DataType, SimDevice
from pymodbus.simulator.simcore import SimCore
from pymodbus.simulator.simruntime import SimRuntime
from pymodbus.simulator.simutils import SimUtils

from packline.clock import Clock
from packline.drivers.links.modbus_pdu import ModbusDecoder
from packline.tasks import step_now

from .base import ToolServer, write_as_wire_work
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
            if identity is None:  # a device with no identity to read has no FC43 at all
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_FUNCTION)
            # Read device id codes are 1 (basic) to 4 (specific); anything else is exception 3.
            if not 1 <= self.read_code <= DeviceInformation.SPECIFIC:
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_VALUE)
            information = DeviceInformationFactory.get(
                _IdentityBlock(identity), self.read_code, self.object_id
            )
            if self.read_code == DeviceInformation.SPECIFIC and not information.get(self.object_id):
                return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_ADDRESS)
            response = ReadDeviceInformationResponse(
                read_code=self.read_code,
                information=information,
                dev_id=device_id,
                transaction_id=self.transaction_id,
            )
            response.conformity = _conformity(identity)
            return response

    return ReadDeviceIdentificationRequest


def _conformity(identity: ModbusDeviceIdentification) -> int:
    """The conformity level a device states in its FC43 replies: the highest category of the
    objects it has (0x01 basic, 0x02 regular: objects 3-6, 0x03 extended: 0x80 and up), with
    0x80 for individual access (read code 4), which every served device gives. pymodbus
    states 0x83 whatever the device has, which tells a host extended objects are there."""
    present = [number for number, value in identity if value]
    if any(number >= 0x80 for number in present):
        return 0x83
    return 0x82 if any(number > 2 for number in present) else 0x81


def _serve_identities(server: ModbusBaseServer, devices: Sequence[SimDevice]) -> None:
    """Make `server` answer FC43 with each device's own identity (exception 1 from a device
    that has none, where pymodbus would answer with an empty one of its own)."""
    identities = {device.id: device.identity for device in devices if device.identity}
    request = _identification_request(identities)
    # An instance-level copy of the sub-function table: the class-level one is shared by
    # every decoder in the process.
    table = {code: dict(subs) for code, subs in DecodePDU.pdu_sub_table.items()}
    table[request.function_code][request.sub_function_code] = (
        request,
        ReadDeviceInformationResponse,
    )
    server.decoder.pdu_sub_table = table


class _RegisterBlock:
    """One device's block of registers (holding or input, or the one block of a device that
    has one), read and written as pymodbus's simulator runtime (`SimRuntime`) serves it,
    without its layers: ILLEGAL_ADDRESS for an access past the block or to a register no
    `SimData` defines, or a write to a read-only one; else the device's action, which may
    refuse, then the registers (a write stored once the action took it). The runtime walks
    the flags of every register accessed; here each register knows where the defined ones,
    and the writable ones, from it end (`_defined_until`, `_writable_until`), worked out once."""

    def __init__(self, runtime: SimRuntime, block: str) -> None:
        self._action = runtime.action
        self._start, self._size, self._registers, flags = runtime.block[block]
        self._defined_until = [0] * len(flags)
        self._writable_until = [0] * len(flags)
        defined_end = writable_end = len(flags)
        for offset in reversed(range(len(flags))):
            if flags[offset] & SimUtils.RunTimeFlag_TYPE == DataType.INVALID:
                defined_end = writable_end = offset
            elif flags[offset] & SimUtils.RunTimeFlag_READONLY:
                writable_end = offset
            self._defined_until[offset] = defined_end
            self._writable_until[offset] = writable_end

    async def read(self, function_code: int, address: int, count: int) -> list[int] | ExcCodes:
        """The `count` registers from `address`, or the exception code refusing the read."""
        if refused := await self._refusal(function_code, address, count, None):
            return refused
        offset = address - self._start
        return self._registers[offset : offset + count]

    async def write(self, function_code: int, address: int, values: list[int]) -> ExcCodes | None:
        """Store `values` from `address` (at least one), or the exception code refusing it."""
        if refused := await self._refusal(function_code, address, len(values), values):
            return refused
        offset = address - self._start
        self._registers[offset : offset + len(values)] = values
        return None

    async def _refusal(
        self, function_code: int, address: int, count: int, values: list[int] | None
    ) -> ExcCodes | None:
        """Why an access of `count` registers from `address` (a write of `values`, or a read)
        is refused: ILLEGAL_ADDRESS, or the action's exception code; None if it is not."""
        offset = address - self._start
        ends = self._defined_until if values is None else self._writable_until
        if offset < 0 or offset + count > self._size or (count and ends[offset] < offset + count):
            return ExcCodes.ILLEGAL_ADDRESS
        if self._action is None:
            return None
        return await self._action(
            function_code, self._start, address, count, self._registers, values
        )


#: The register block each function code on registers accesses, as `SimRuntime` maps them.
_REGISTER_BLOCKS = {3: "h", 4: "i", 6: "h", 16: "h", 22: "h", 23: "h"}


class _ServedDevices(SimCore):
    """The devices' registers, pymodbus's simulator datastore (`SimCore`), but an access to
    registers (a poll, a setpoint write, a held read) served by `_RegisterBlock`."""

    def __init__(self, devices: list[SimDevice]) -> None:
        super().__init__(devices)
        #: By device id and function code (the runtime's block of each: one for all, "x",
        #: or the holding and the input registers).
        self._register_blocks = {
            (device_id, function_code): _RegisterBlock(
                runtime, "x" if "x" in runtime.block else block
            )
            for device_id, runtime in self.devices.items()
            for function_code, block in _REGISTER_BLOCKS.items()
            if "x" in runtime.block or block in runtime.block
        }

    def _register_block(self, device_id: int, function_code: int) -> _RegisterBlock | None:
        # A device id served by none is device 0's, as SimCore has it.
        device = device_id if device_id in self.devices else 0
        return self._register_blocks.get((device, function_code))

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        block = self._register_block(device_id, func_code)
        if block is None:
            return await super().async_getValues(device_id, func_code, address, count)
        return await block.read(func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        block = self._register_block(device_id, func_code)
        if block is None or not values:  # SimRuntime takes a write of nothing for a read
            return await super().async_setValues(device_id, func_code, address, values)
        return await block.write(func_code, address, cast(list[int], values))


class _RtuFramer(FramerRTU):
    """pymodbus's RTU framer takes the whole buffer for the first frame in it; this one takes
    only that frame's bytes, so frames sent back to back are each decoded."""

    def decode(self, data: bytes) -> tuple[int, int, int, bytes]:
        length, device_id, transaction_id, frame = super().decode(data)
        if frame:
            for start in range(length):
                end = start + 1 + len(frame)
                if data[start] == device_id and data[start + 1 : end] == frame:
                    return end + 2, device_id, transaction_id, frame  # and its CRC
        return length, device_id, transaction_id, frame


class _InOrderHandler(ServerRequestHandler):
    """One client connection: every request answered, in order, one at a time.

    A request to a unit id no device here has is answered with exception 11 (gateway target
    device failed to respond) on Modbus TCP, and not at all on RTU framing, where another
    device on the line may own that address.
    """

    def __init__(
        self,
        server: ModbusBaseServer,
        function_codes: frozenset[int] | None,
        device_ids: frozenset[int],
        rtu: bool,
        clock: Clock,
        tell_connection: Callable[[object, bool], None] | None,
    ) -> None:
        super().__init__(  # type: ignore[no-untyped-call]
            server, server.trace_packet, server.trace_pdu, server.trace_connect
        )
        self.clock = clock
        #: The ToolServer's `_tell_connection`; None on a pty, which has no clients to tell.
        self.tell_connection = tell_connection
        self._peer: object = None
        if rtu:
            self.framer = _RtuFramer(server.decoder)
        self.function_codes = function_codes
        self.device_ids = device_ids
        self.rtu = rtu
        self._requests: list[tuple[ModbusPDU, tuple[Any, ...] | None]] = []
        self._answering: asyncio.Task[None] | None = None

    def callback_connected(self) -> None:
        super().callback_connected()
        if not self.rtu or self.transport.get_extra_info("socket") is not None:
            self.clock.watch_served(self.transport)
        self._peer = self.transport.get_extra_info("peername")  # gone once it is closed
        if self.tell_connection is not None:
            self.tell_connection(self._peer, True)

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        """Take every whole request in `data`; the rest waits for more bytes."""
        used = 0
        while used < len(data):
            length, device_id, transaction_id, frame = self.framer.decode(data[used:])
            if not length:
                break
            used += length
            if frame and not (self.rtu and device_id not in self.device_ids):
                request = self._decode(frame, device_id)
                request.dev_id, request.transaction_id = device_id, transaction_id
                self._requests.append((request, addr))
        if self._requests and (self._answering is None or self._answering.done()):
            # Answered in this pass of the loop (on a wire in memory, the one the request
            # arrived in), not the pass after (decision 0075).
            self._answering = self.loop.create_task(self._answer())
            step_now(self._answering)
        return used

    def _decode(self, frame: bytes, device_id: int) -> ModbusPDU:
        function_code = frame[0]
        if device_id not in self.device_ids:
            return ExceptionResponse(function_code, ExcCodes.GATEWAY_NO_RESPONSE)
        if self.function_codes is not None and function_code not in self.function_codes:
            return ExceptionResponse(function_code, ExcCodes.ILLEGAL_FUNCTION)
        request = self.framer.decoder.decode(frame)
        if request is None:
            return ExceptionResponse(function_code, ExcCodes.ILLEGAL_VALUE)
        return request

    async def _answer(self) -> None:
        while self._requests:
            request, addr = self._requests.pop(0)
            if isinstance(request, ExceptionResponse):
                self.server_send(request, addr)  # type: ignore[no-untyped-call]
                continue
            self.last_pdu, self.last_addr = request, addr
            await self.handle_request()  # type: ignore[no-untyped-call]

    def send(self, data: bytes, addr: tuple[Any, ...] | None = None) -> None:
        """Send a reply, keeping the bytes of a request not yet whole (pymodbus drops them);
        as wire work (`write_as_wire_work`)."""
        pending = self.recv_buffer
        send = super().send
        write_as_wire_work(self.clock, self.transport, lambda: send(data, addr))
        self.recv_buffer = pending

    def callback_disconnected(self, exc: Exception | None) -> None:
        self._requests.clear()
        if self._answering is not None:
            self._answering.cancel()
        super().callback_disconnected(exc)
        if self.tell_connection is not None:
            self.tell_connection(self._peer, False)


class _RtuLine(TypedDict):
    """The RTU line settings, as pymodbus's serial server takes them."""

    baudrate: int
    parity: str
    stopbits: int
    bytesize: int


class ModbusToolServer(ToolServer):
    """Serve one or more `SimDevice`s (several device ids = an RS-485 line) over Modbus.

    `host`/`port` apply to the TCP transports (port 0 = ephemeral; after `stop()` a new
    `start()` binds the same port); `baudrate`/`parity`/`stopbits`/`bytesize` to `"rtu-pty"`.
    A restart keeps the registers: it models a tool that dropped off the wire, not one that
    lost power. `function_codes` are the ones served (None: all pymodbus knows).
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
        function_codes: Iterable[int] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        if transport not in ("tcp", "rtu-pty", "rtu-tcp"):
            raise ValueError(f"transport must be 'tcp', 'rtu-pty' or 'rtu-tcp', got {transport!r}")
        self.devices = [device] if isinstance(device, SimDevice) else list(device)
        self.transport = transport
        self.host = host
        self.port = port
        self.serial_options: _RtuLine = {
            "baudrate": baudrate,
            "parity": parity,
            "stopbits": stopbits,
            "bytesize": bytesize,
        }
        self.function_codes = None if function_codes is None else frozenset(function_codes)
        self._server: ModbusBaseServer | None = None
        self._registers: _ServedDevices | None = None
        self._null_modem: NullModem | None = None

    @property
    def connections(self) -> int | None:
        """The TCP clients connected now (pymodbus's count); None on a pty."""
        if self.transport == "rtu-pty":
            return None
        return 0 if self._server is None else len(self._server.active_connections)

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
            for end in self._null_modem.pty_ends:
                self.clock.watch_served(end)
            self._server = ModbusSerialServer(
                self.devices, port=server_end, framer=FramerType.RTU, **self.serial_options
            )
            address = f"modbus+rtu:{client_end}"
        else:
            framer = FramerType.SOCKET if self.transport == "tcp" else FramerType.RTU
            self._server = ModbusTcpServer(
                self.devices, framer=framer, address=(self.host, self.port)
            )
        # Requests decoded, and register reads answered, by the packed PDUs (`modbus_pdu.py`).
        self._server.decoder = ModbusDecoder(is_server=True)
        if self._registers is None:
            self._registers = _ServedDevices(self.devices)
        # The tool keeps power while off the wire: the same registers after a restart.
        self._server.context = self._registers
        _serve_identities(self._server, self.devices)
        server = self._server
        device_ids = frozenset(device.id for device in self.devices)
        server.callback_new_connection = lambda: _InOrderHandler(  # type: ignore[method-assign]
            server,
            self.function_codes,
            device_ids,
            rtu=self.transport != "tcp",
            clock=self.clock,
            tell_connection=None if self.transport == "rtu-pty" else self._tell_connection,
        )
        await self._server.serve_forever(background=True)
        if self.transport == "rtu-pty":
            return address
        self.port = self._server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        if (wires := self.clock.wires) is not None:
            wires.listen(self.host, self.port, server.handle_new_connection)
        if self.transport == "tcp":
            return f"modbus+tcp://{self.host}:{self.port}"
        return f"modbus+rtu:socket://{self.host}:{self.port}"

    async def _stop(self) -> None:
        if (wires := self.clock.wires) is not None:
            wires.stop_listening(self.host, self.port)
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
