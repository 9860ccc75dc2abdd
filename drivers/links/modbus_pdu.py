"""pymodbus's PDUs, its register reads' replies coded in one `struct` call: what both ends of a
Modbus link decode with (`ModbusDecoder`).

A dry run reads the status registers of its Modbus tools again and again (a poll, FC3, or the
PLCs' held status read, FC23), and pymodbus codes each reply a register at a time (a `struct`
call per register, the bytes joined one register after another) and formats a debug line for
every frame it decodes (`str(pdu)`), its logging on or off. The classes here are pymodbus's
with those costs taken out: the same bytes on the wire, the same registers and the same
exceptions, answered and raised where pymodbus's are.
"""

from __future__ import annotations

import struct
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusException, ModbusIOException
from pymodbus.logging import Log
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    ReadWriteMultipleRegistersRequest,
    ReadWriteMultipleRegistersResponse,
)


class HoldingRegistersReply(ReadHoldingRegistersResponse):
    """FC3's reply: the byte count, then every register big-endian, in one `struct` call."""

    def encode(self) -> bytes:
        count = len(self.registers)
        return struct.pack(f">B{count}H", 2 * count, *self.registers)

    def decode(self, data: bytes) -> None:
        # pymodbus takes a register from each odd offset below the byte count: as many as
        # the count's half, rounded down.
        if (byte_count := data[0]) >= len(data):
            raise ModbusIOException(
                f"byte_count {byte_count} > length of packet {len(data)}",
                function_code=self.function_code,
            )
        count = byte_count // 2
        self.registers = list(struct.unpack(f">{count}H", data[1 : 1 + 2 * count]))


class InputRegistersReply(HoldingRegistersReply, ReadInputRegistersResponse):
    """FC4's reply, coded as FC3's."""

    function_code = 4


class ReadWriteRegistersReply(HoldingRegistersReply, ReadWriteMultipleRegistersResponse):
    """FC23's reply (read/write multiple registers, the held status read's), coded as FC3's."""

    function_code = 23


class HoldingRegistersRead(ReadHoldingRegistersRequest):
    """FC3, served: pymodbus's request, answered with the packed reply."""

    reply: type[HoldingRegistersReply] = HoldingRegistersReply

    async def datastore_update(self, context: object, device_id: int) -> ModbusPDU:
        values = await context.async_getValues(  # type: ignore[attr-defined]
            device_id, self.function_code, self.address, self.count
        )
        if isinstance(values, ExcCodes):
            return ExceptionResponse(self.function_code, values)
        return self.reply(
            registers=cast(list[int], values), dev_id=device_id, transaction_id=self.transaction_id
        )


class InputRegistersRead(HoldingRegistersRead, ReadInputRegistersRequest):
    """FC4, served as FC3 is."""

    function_code = 4
    reply = InputRegistersReply


class ReadWriteRegistersRead(ReadWriteMultipleRegistersRequest):
    """FC23, served: pymodbus's request, its checks and its access to the registers, answered
    with the packed reply."""

    async def datastore_update(self, context: object, device_id: int) -> ModbusPDU:
        reply = await super().datastore_update(context, device_id)  # type: ignore[arg-type]
        if not isinstance(reply, ReadWriteMultipleRegistersResponse):
            return reply  # an exception
        return ReadWriteRegistersReply(
            registers=reply.registers, dev_id=device_id, transaction_id=self.transaction_id
        )


class ModbusDecoder(DecodePDU):
    """pymodbus's decoder of a client's replies (`is_server` False) or a server's requests,
    with the register reads' PDUs of this module, decoding a frame as pymodbus does without
    formatting a debug line for it."""

    def __init__(self, is_server: bool) -> None:
        super().__init__(is_server)
        self.pdu_table = {
            **DecodePDU.pdu_table,
            HoldingRegistersRead.function_code: (HoldingRegistersRead, HoldingRegistersReply),
            InputRegistersRead.function_code: (InputRegistersRead, InputRegistersReply),
            ReadWriteRegistersRead.function_code: (ReadWriteRegistersRead, ReadWriteRegistersReply),
        }

    def decode(self, frame: bytes) -> ModbusPDU | None:
        try:
            if (function_code := frame[0]) > 0x80:
                exception = ExceptionResponse(function_code & 0x7F)
                exception.decode(frame[1:])
                return exception
            pdu_class = self.pdu_table.get(function_code, (None, None))[self.pdu_inx]
            if pdu_class is None:
                raise ModbusException(f"Unknown response {function_code}")
            pdu = pdu_class()
            pdu.decode(frame[1:])
            if pdu.sub_function_code >= 0:
                subs = self.pdu_sub_table.get(pdu.function_code, {})
                if sub_class := subs.get(pdu.sub_function_code, (None, None))[self.pdu_inx]:
                    pdu = sub_class()
                    pdu.decode(frame[1:])
            return pdu
        except (ModbusException, ValueError, IndexError, struct.error) as error:
            Log.warning("Unable to decode frame {}", error)
        return None
