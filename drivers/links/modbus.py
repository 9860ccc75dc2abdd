"""Modbus TCP and Modbus RTU links over pymodbus's asyncio clients.

Addresses, and what the Modbus specifications fix (exception names, identification objects,
frame and request sizes), are in `modbus_protocol.py`. `modbus+rtu:socket://...` (RTU frames
over raw TCP) runs on pymodbus's TCP client with the RTU framer; other RTU ports on its serial
client.

pymodbus runs with `retries=0` and without its own reconnect task: the `Link` owns the retry
and reconnect policy and the timeout (the read function codes are idempotent, so a read that
got no reply is asked again `read_retries` times; a write never is). pymodbus's TCP client
has no timeout of its own (it awaits its connection and each reply without `asyncio.wait_for`'s
timer, callback and extra loop pass), and the serial client's is set beyond the link's, so the
link's wall-clock timeout is always the one that fires. Every frame goes to the wire log
through pymodbus's `trace_packet` hook.

pymodbus skips what it cannot frame and waits on, logging hex dumps and "Skipping" lines: the
link watches the bytes before pymodbus frames them, so that a reply that is garbled, corrupt
(bad CRC, another transaction) or incomplete is a `ProtocolError` that says so, at the timeout,
and more bytes than one Modbus reply can hold (`MAX_ADU_BYTES`) are one at once. A reply that
was complete when time ran out (by the MBAP length, or the RTU length and CRC, framed by
pymodbus's own framer), only not yet read by a starved event loop, is the answer. pymodbus's own
log lines go to the `packline.wire` logger at DEBUG, never to the user's terminal.
"""

from __future__ import annotations

import asyncio
import logging
import termios
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypedDict, cast

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.constants import DeviceInformation
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FRAMER_NAME_TO_CLASS, FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.pdu.mei_message import ReadDeviceInformationResponse
from pymodbus.transport import ModbusProtocol

from packline.tasks import step_now

from ..errors import CommandRefused, ProtocolError
from .base import (
    Link,
    check_line_settings,
    quote_reply,
    reaches_a_tty,
    read_waiting,
    socket_url_endpoint,
    wire_log,
)
from .keepalive import keep_alive
from .modbus_pdu import ModbusDecoder
from .modbus_protocol import (
    EXCEPTION_NAMES,
    IDENTIFICATION_OBJECTS,
    MAX_ADU_BYTES,
    MAX_READ_BITS,
    MAX_READ_REGISTERS,
    MAX_READ_WRITE_REGISTERS,
    MAX_WRITE_REGISTERS,
    check_device_id,
    parse_modbus_address,
)

#: Seconds the serial client waits beyond the link's own timeout, so the link's fires first.
_LIBRARY_TIMEOUT_MARGIN_S = 1.0
#: The parities of an RTU line (pymodbus's serial client takes no mark or space).
RTU_PARITIES = ("N", "E", "O")


class _ToWireLog(logging.Handler):
    """pymodbus's own log lines (hex frame dumps, "Skipping" lines) go to the wire log.

    They describe the wire, and a user's terminal must not fill with them: on the `pymodbus`
    logger, which then passes nothing further up, this handler is the only way out.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("pymodbus %s %s", record.levelname, record.getMessage())


_pymodbus_log = logging.getLogger("pymodbus")
_pymodbus_log.addHandler(_ToWireLog())
_pymodbus_log.propagate = False


class _RtuLine(TypedDict):
    """The RTU line settings, as pymodbus's serial client takes them."""

    baudrate: int
    parity: str
    stopbits: int
    bytesize: int


class ModbusLink(Link):
    """One Modbus TCP connection or one RTU serial line to one device id.

    `device_id` is the unit id the requests carry. `baudrate`, `parity` (`"N"`, `"E"`, `"O"`),
    `stopbits` and `bytesize` apply to RTU only. Other options are the `Link`'s (`tool`,
    `timeout_s`, `connect_timeout_s`, `reconnect`, `read_retries`, `clock`).

    A Modbus exception response raises `CommandRefused` with the specification's name of the
    exception code, e.g. `ILLEGAL_DATA_VALUE`. A reply that does not carry what was asked
    (another count of registers or bits) is a `ProtocolError`.
    """

    connection_errors = (*Link.connection_errors, ConnectionException, termios.error)

    def __init__(
        self,
        address: str,
        *,
        device_id: int = 1,
        baudrate: int = 19200,
        parity: str = "N",
        stopbits: int = 1,
        bytesize: int = 8,
        **options: Any,
    ) -> None:
        super().__init__(address, **options)
        self.mode, self._host, self._port = parse_modbus_address(address)
        check_device_id(f"{self.tool} at {address}", device_id)
        check_line_settings(
            f"{self.tool} at {address}", baudrate, bytesize, parity, stopbits, RTU_PARITIES
        )
        self.device_id = device_id
        self.serial_options: _RtuLine = {
            "baudrate": baudrate,
            "parity": parity,
            "stopbits": stopbits,
            "bytesize": bytesize,
        }
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        #: The most bytes one reply of this framing takes.
        self.max_reply_bytes = MAX_ADU_BYTES["tcp" if self.mode == "tcp" else "rtu"]
        #: What the exchange running now asked, for errors raised from pymodbus's callbacks.
        self._action = ""
        #: How replies are framed, and the device and transaction ids of the request sent
        #: last: what a reply completed at the timeout is framed with and must carry.
        self._framing = FramerType.SOCKET if self.mode == "tcp" else FramerType.RTU
        self._request_ids = (0, 0)
        #: The task that sent the request last, which awaits its reply.
        self._asker: asyncio.Task[Any] | None = None
        #: The request being sent is held (`_written`): its writing is clock activity.
        self._marks_writing = False
        #: On a tty, what arrived since the line was opened, until the first request goes
        #: out: it answers nothing (`_next_arrival` takes it); None otherwise.
        self._unasked: bytearray | None = None
        #: Set as bytes go to `_unasked`, and as the connection ends.
        self._arrival = asyncio.Event()

    # ---- the wire -------------------------------------------------------------------------

    @property
    def reopens_same_line(self) -> bool:
        """An RTU tty is the same line when reopened; a TCP connection (Modbus TCP, or a serial
        device server's) is made anew."""
        return self.mode == "rtu" and reaches_a_tty(self._host)

    @property
    def holds_replies(self) -> bool:
        """Modbus TCP only: RTU is one RS-485 line whether on a tty or behind a serial device
        server, and a PLC that still holds a reply the host gave up on would answer into the
        host's next request on it (a safe state's ABORT)."""
        return self.mode == "tcp"

    async def _open(self) -> None:
        await self._close()
        self._arrival = asyncio.Event()
        self._unasked = bytearray() if self.reopens_same_line else None
        common: dict[str, Any] = {
            "retries": 0,
            "reconnect_delay": 0,
            "trace_packet": self._trace_packet,
            "trace_connect": self._trace_connect,
        }
        # The TCP client has no timeout of its own (see the module docstring): the link
        # bounds its connect by `connect_timeout_s` and each exchange by its deadline.
        tcp: dict[str, Any] = {**common, "timeout": None}
        if self.mode == "tcp":
            self._client = AsyncModbusTcpClient(self._host, port=self._port, **tcp)
            self._meet_in_memory(self._host, self._port)
        elif served := socket_url_endpoint(self._host):
            # RTU frames over raw TCP: pymodbus's TCP client with the RTU framer does exactly
            # that, without pyserial's `socket://` handler, which blocks 0.3 s on every close.
            self._client = AsyncModbusTcpClient(
                served[0], port=served[1], framer=self._framing, **tcp
            )
            self._meet_in_memory(*served)
        else:
            # pyserial's read and write timeouts, set beyond the link's own.
            timeout = max(self.timeout_s, self.connect_timeout_s) + _LIBRARY_TIMEOUT_MARGIN_S
            self._client = AsyncModbusSerialClient(
                self._host,
                framer=self._framing,
                timeout=timeout,
                **self.serial_options,
                **common,
            )
        # Replies decoded by the packed register PDUs (`modbus_pdu.py`).
        self._client.ctx.framer.decoder = ModbusDecoder(is_server=False)
        self._watch_replies(self._client.ctx)
        if not await self._client.connect():
            raise ConnectionRefusedError(f"pymodbus could not connect to {self._host}")
        transport = self._client.ctx.transport
        if port := getattr(transport, "sync_serial", None):
            # A tty keeps what arrived while nobody listened: it answers no question of this
            # connection (a late reply still on its way is `Link._drop_late_reply`'s).
            port.reset_input_buffer()
        else:
            keep_alive(transport)  # TCP: a dead peer noticed while the link is idle

    def _meet_in_memory(self, host: str, port: int) -> None:
        """Connect the TCP client in memory when the clock's wires serve `host:port` (a
        simulated tool of this process, docs/decisions/0063), else over TCP."""
        wires = self._wires_serving(host, port)
        if wires is not None and self._client is not None:
            client = self._client.ctx
            client.call_create = partial(wires.connect, host, port, client.handle_new_connection)

    async def _next_arrival(self) -> bytes | None:
        unasked = self._unasked
        assert unasked is not None  # a tty, opened and not asked anything yet
        while not unasked:
            if not self._is_open():
                return None
            self._arrival.clear()
            await self._arrival.wait()
        taken = bytes(unasked)
        unasked.clear()
        return taken

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if transport := client.ctx.transport:
            # What the wire holds that the event loop has not read yet (a loaded machine).
            port = getattr(transport, "sync_serial", None)  # pymodbus's serial transport
            self._reply_so_far += read_waiting(port or transport, self.max_reply_bytes)
        client.close()

    def _is_open(self) -> bool:
        return self._client is not None and self._client.connected

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._reply_so_far = bytearray()
            self._unasked = None
            if self._client is None:
                self._asker = asyncio.current_task()
            else:
                ctx = self._client.ctx
                # Of the client's loop, the running one, not looked up again (`getpid`).
                self._asker = asyncio.current_task(ctx.loop)
                self._request_ids = (ctx.request_dev_id, ctx.request_transaction_id)
            if self._marks_writing:
                # A held request's writing (`_written`), which follows in this step, nothing
                # running between: what a virtual clock must see of it is an activity ended
                # as the bytes go (they may be on a socket that only the next select sees).
                with self.clock.activity():
                    pass
        self.log_wire(">" if sending else "<", data)
        return data

    def _watch_replies(self, protocol: ModbusProtocol) -> None:
        """See every byte the tool sends before pymodbus frames it (and maybe skips it).

        The bytes of the reply awaited are kept in `_reply_so_far`, so that running out of
        time with some of them in is a garbled reply, not silence; more than one reply can
        hold fails the request at once; a frame pymodbus cannot decode fails it too, instead
        of escaping into the event loop's error handler.
        """
        frame = protocol.data_received

        def data_received(data: bytes) -> None:
            if (unasked := self._unasked) is not None:
                if len(unasked) <= self.max_reply_bytes:
                    unasked += data
                self._arrival.set()
                return
            reply = self._reply_so_far
            if isinstance(reply, bytearray) and len(reply) <= self.max_reply_bytes:
                reply += data  # a request was sent: its reply, or what poses as one
            try:
                frame(data)
            except ModbusException as error:
                self._fail_request(f"undecodable reply ({error})")
            else:
                if len(self._reply_so_far) > self.max_reply_bytes:
                    self._fail_request(
                        f"garbled reply: more than {self.max_reply_bytes} bytes (the most one "
                        f"reply takes) and no valid reply among them: "
                        f"{quote_reply(self._reply_so_far)}"
                    )
            # A reply that ended the request: its task goes on in this pass of the loop, not
            # the next (decision 0075).
            step_now(self._asker)

        protocol.data_received = data_received  # type: ignore[method-assign]

    def _fail_request(self, detail: str) -> None:
        """End the request awaiting its reply with a `ProtocolError` carrying `detail`."""
        if self._client is None:
            return
        pending = self._client.ctx.response_future
        if not pending.done():
            pending.set_exception(ProtocolError(self.tool, self.address, self._action, detail))
            # Mark it seen: when no request was waiting, nobody ever will.
            pending.exception()

    def _trace_connect(self, connected: bool) -> None:
        """Fail a pending request at once when the tool drops the connection (pymodbus would
        otherwise leave it waiting for its timeout), and end a wait for a late reply."""
        if connected or self._client is None:
            return
        self._arrival.set()
        pending = self._client.ctx.response_future
        if not pending.done():
            pending.set_exception(ConnectionResetError("connection closed by the tool"))
            # Mark it seen: when no request was waiting, nobody ever will.
            pending.exception()

    async def _call(
        self,
        action: str,
        request: Callable[[], Awaitable[ModbusPDU]],
        *,
        idempotent: bool = False,
        held_s: float = 0.0,
    ) -> ModbusPDU:
        """Run one request as an exchange; an exception response raises `CommandRefused`.

        `idempotent` for the read function codes: asked again if the tool did not answer.
        `held_s`: the tool may hold its reply that long (a bounded blocking wait,
        `Link.exchange`); only the request's writing is clock activity (`_written`).
        """

        async def answer(response: ModbusPDU) -> ModbusPDU:
            if response.isError():
                code = getattr(response, "exception_code", 0)
                name = EXCEPTION_NAMES.get(code, f"EXCEPTION_{code}")
                raise CommandRefused(
                    self.tool,
                    self.address,
                    action,
                    f"Modbus exception response, code {code}",
                    name,
                )
            return response

        async def operation() -> ModbusPDU:
            self._action = action
            try:
                response = await (self._written(request) if held_s else request())
            except ConnectionException:
                raise  # a connection error: the link maps it to ConnectionLost
            except ModbusException as error:
                # A reply pymodbus could not decode, or any other library complaint.
                await self._drop(by_link=True)
                raise ProtocolError(
                    self.tool, self.address, action, f"garbled reply ({error})"
                ) from error
            except ProtocolError:
                # Garbled past what one reply can hold: what follows is out of step too.
                await self._drop(by_link=True)
                raise
            return await answer(response)

        async def answer_frame(frame: bytes) -> ModbusPDU:
            _, response = self._frame(frame)
            assert response is not None  # `_reply_length` framed it
            return await answer(response)

        return await self.exchange(
            action, operation, idempotent=idempotent, held_s=held_s, answer=answer_frame
        )

    async def _written(self, request: Callable[[], Awaitable[ModbusPDU]]) -> ModbusPDU:
        """`request`'s reply, its writing marked as `clock.activity()` (`_trace_packet`, as
        pymodbus hands the request to the wire) and its wait for the reply not, so that a
        virtual clock may jump while the tool holds the reply."""
        self._marks_writing = True
        try:
            return await request()
        finally:
            self._marks_writing = False

    def _frame(self, data: bytes) -> tuple[int, ModbusPDU | None]:
        """The reply to the request sent last that `data` begins with, framed as pymodbus
        frames it (MBAP length, or RTU length and CRC): its length and PDU, or (0, None)."""
        framer = FRAMER_NAME_TO_CLASS[self._framing](ModbusDecoder(is_server=False))
        device_id, transaction_id = self._request_ids
        try:
            length, response = framer.handleFrame(data, device_id, transaction_id)
        except ModbusException:
            return 0, None
        return (length, response) if response is not None else (0, None)

    def _reply_length(self, data: bytes) -> int:
        return self._frame(data)[0]

    def _check_reply_count(self, action: str, what: str, got: int, expected: int) -> None:
        """Refuse a reply that carries another number of registers or bits than asked."""
        if got != expected:
            raise ProtocolError(
                self.tool,
                self.address,
                action,
                f"corrupt reply: it carries {got} {what} where {expected} were expected",
            )

    def _check_request(
        self,
        action: str,
        address: int,
        count: int,
        max_count: int,
        values: list[int] | None = None,
    ) -> None:
        """Refuse, before anything is sent, a request that Modbus cannot carry."""
        problem = None
        if isinstance(address, bool) or not isinstance(address, int) or not 0 <= address <= 0xFFFF:
            problem = f"address {address!r} is not 0-65535"
        elif not 1 <= count <= max_count:
            problem = f"{count} registers or bits; one request carries 1-{max_count}"
        elif address + count > 0x10000:
            problem = f"{count} from address {address} runs past address 65535"
        elif values is not None:
            bad: list[object] = [v for v in values if isinstance(v, bool) or not isinstance(v, int)]
            bad += [v for v in values if isinstance(v, int) and not 0 <= v <= 0xFFFF]
            if bad:
                problem = f"values {bad} are not unsigned 16-bit integers (0-65535)"
        if problem is not None:
            raise ValueError(f"{self.tool} at {self.address}: {action}: {problem}")

    def _unit(self, device_id: int | None) -> int:
        """The unit id a request carries: `device_id`, or the link's own when None."""
        if device_id is None:
            return self.device_id
        check_device_id(f"{self.tool} at {self.address}", device_id)
        return device_id

    def _connected_client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        # Only called inside an exchange, which has (re)connected first.
        assert self._client is not None
        return self._client

    # ---- the Modbus functions -------------------------------------------------------------

    async def read_holding_registers(
        self, address: int, count: int = 1, *, device_id: int | None = None
    ) -> list[int]:
        """FC3: `count` holding registers from `address` (0-based).

        `device_id` addresses another device on the same line (the zone controllers of an
        oven's RS-485 bus); by default the link's own.
        """
        action = f"read_holding_registers {address} {count}"
        self._check_request(action, address, count, MAX_READ_REGISTERS)
        unit = self._unit(device_id)
        response = await self._call(
            action,
            lambda: self._connected_client().read_holding_registers(
                address, count=count, device_id=unit
            ),
            idempotent=True,
        )
        self._check_reply_count(action, "registers", len(response.registers), count)
        return list(response.registers)

    async def read_write_registers(
        self,
        read_address: int,
        read_count: int,
        write_address: int,
        values: list[int],
        *,
        idempotent: bool = False,
        held_s: float = 0.0,
    ) -> list[int]:
        """FC23: write `values` from `write_address`, then read `read_count` holding registers
        from `read_address`, in one request (the tool writes first). It writes, so it is not
        asked again unless `idempotent` says that the write changes nothing on the tool (a
        PLC map's held status read, which writes only its own hold block). `held_s`: the
        tool may hold its reply that long (a bounded blocking wait, `Link.exchange`; the held
        status read, docs/decisions/0078)."""
        action = f"read_write_registers {read_address} {read_count} {write_address} {values}"
        self._check_request(action, read_address, read_count, MAX_READ_REGISTERS)
        self._check_request(
            action, write_address, len(values), MAX_READ_WRITE_REGISTERS, list(values)
        )
        response = await self._call(
            action,
            lambda: self._connected_client().readwrite_registers(
                read_address=read_address,
                read_count=read_count,
                write_address=write_address,
                values=values,
                device_id=self.device_id,
            ),
            idempotent=idempotent,
            held_s=held_s,
        )
        self._check_reply_count(action, "registers", len(response.registers), read_count)
        return list(response.registers)

    async def read_input_registers(self, address: int, count: int = 1) -> list[int]:
        """FC4: `count` input registers from `address` (0-based)."""
        action = f"read_input_registers {address} {count}"
        self._check_request(action, address, count, MAX_READ_REGISTERS)
        response = await self._call(
            action,
            lambda: self._connected_client().read_input_registers(
                address, count=count, device_id=self.device_id
            ),
            idempotent=True,
        )
        self._check_reply_count(action, "registers", len(response.registers), count)
        return list(response.registers)

    async def write_register(
        self, address: int, value: int, *, device_id: int | None = None
    ) -> None:
        """FC6: write one holding register (of device `device_id`, by default the link's)."""
        action = f"write_register {address} {value}"
        self._check_request(action, address, 1, 1, [value])
        unit = self._unit(device_id)
        await self._call(
            action,
            lambda: self._connected_client().write_register(address, value, device_id=unit),
        )

    async def write_registers(
        self, address: int, values: list[int], *, device_id: int | None = None
    ) -> None:
        """FC16: write consecutive holding registers from `address` (of device `device_id`,
        by default the link's)."""
        action = f"write_registers {address} {values}"
        self._check_request(action, address, len(values), MAX_WRITE_REGISTERS, list(values))
        unit = self._unit(device_id)
        await self._call(
            action,
            lambda: self._connected_client().write_registers(address, values, device_id=unit),
        )

    async def read_coils(self, address: int, count: int = 1) -> list[bool]:
        """FC1: `count` coils from `address`."""
        action = f"read_coils {address} {count}"
        self._check_request(action, address, count, MAX_READ_BITS)
        response = await self._call(
            action,
            lambda: self._connected_client().read_coils(
                address, count=count, device_id=self.device_id
            ),
            idempotent=True,
        )
        # Bits come in whole bytes: the reply carries `count` rounded up to eight.
        self._check_reply_count(action, "bits", len(response.bits), -(-count // 8) * 8)
        return list(response.bits[:count])

    async def write_coil(self, address: int, value: bool) -> None:
        """FC5: set or clear one coil."""
        action = f"write_coil {address} {value}"
        self._check_request(action, address, 1, 1)
        await self._call(
            action,
            lambda: self._connected_client().write_coil(address, value, device_id=self.device_id),
        )

    async def read_discrete_inputs(self, address: int, count: int = 1) -> list[bool]:
        """FC2: `count` discrete inputs from `address`."""
        action = f"read_discrete_inputs {address} {count}"
        self._check_request(action, address, count, MAX_READ_BITS)
        response = await self._call(
            action,
            lambda: self._connected_client().read_discrete_inputs(
                address, count=count, device_id=self.device_id
            ),
            idempotent=True,
        )
        # Bits come in whole bytes: the reply carries `count` rounded up to eight.
        self._check_reply_count(action, "bits", len(response.bits), -(-count // 8) * 8)
        return list(response.bits[:count])

    async def read_device_identification(self) -> dict[str, str]:
        """FC43 / MEI 14: vendor_name, product_code and revision (the basic objects), plus
        model_name and the other regular objects when the device has them.

        Asks for the regular category first; a device that only knows the basic one refuses
        that, and is asked for the basic objects.
        """
        try:
            response = await self._read_device_information(DeviceInformation.REGULAR)
        except CommandRefused:
            response = await self._read_device_information(DeviceInformation.BASIC)
        identity: dict[str, str] = {}
        for object_id, value in response.information.items():
            name = IDENTIFICATION_OBJECTS.get(object_id, f"object_{object_id:#04x}")
            text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
            identity[name] = str(text)
        return identity

    async def _read_device_information(self, read_code: int) -> ReadDeviceInformationResponse:
        return cast(
            ReadDeviceInformationResponse,
            await self._call(
                f"read_device_identification (category {read_code})",
                lambda: self._connected_client().read_device_information(
                    read_code=read_code, device_id=self.device_id
                ),
                idempotent=True,
            ),
        )
