"""Modbus TCP frames for byte-level tests, built from a protocol page's addresses and codes.

Each helper returns the exact bytes a request and its reply take on the wire (an MBAP header
with transaction id, protocol 0, length and unit id, then the PDU), for `expected_protocol`
scripts. They encode Modbus itself, independently of pymodbus and of any driver.
"""

from __future__ import annotations

import struct

Exchange = tuple[bytes, bytes]


def frame(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    """A Modbus TCP ADU: MBAP header (transaction, protocol 0, length, unit) + PDU."""
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read(tid: int, address: int, values: list[int], unit: int = 1) -> Exchange:
    """FC3 of len(values) holding registers from `address`, answered with `values`."""
    request = frame(tid, struct.pack(">BHH", 3, address, len(values)), unit)
    reply = frame(tid, bytes([3, 2 * len(values)]) + struct.pack(f">{len(values)}H", *values), unit)
    return request, reply


def write_one(tid: int, address: int, value: int, unit: int = 1) -> Exchange:
    """FC6 of one register, answered with its echo."""
    request = frame(tid, struct.pack(">BHH", 6, address, value), unit)
    return request, request


def write_many(tid: int, address: int, values: list[int], unit: int = 1) -> Exchange:
    """FC16 of several registers, answered with the address and count."""
    request = frame(
        tid,
        struct.pack(">BHHB", 16, address, len(values), 2 * len(values))
        + struct.pack(f">{len(values)}H", *values),
        unit,
    )
    return request, frame(tid, struct.pack(">BHH", 16, address, len(values)), unit)


def held_read(
    tid: int, seen: int, hold_ds: int, changes: int, values: list[int], unit: int = 1
) -> Exchange:
    """FC23 as a PLC map's held status read (docs/protocols/conventions.md): the hold block
    written at 390 (the `STATUS_CHANGES` the host saw last, `seen`, and the hold in 0.1 s,
    `hold_ds`), then `STATUS_CHANGES` and the status block read from 400, answered with
    `changes` and `values`."""
    count = 1 + len(values)
    request = frame(tid, struct.pack(">BHHHHBHH", 23, 400, count, 390, 2, 4, seen, hold_ds), unit)
    registers = struct.pack(f">{count}H", changes, *values)
    return request, frame(tid, bytes([23, 2 * count]) + registers, unit)


def refused(exchange: Exchange, code: int = 3) -> Exchange:
    """The same request answered with Modbus exception `code` (3: illegal data value)."""
    request, _ = exchange
    tid, unit, function = int.from_bytes(request[:2], "big"), request[6], request[7]
    return request, frame(tid, bytes([function | 0x80, code]), unit)


def identification(tid: int, vendor: str, product: str, revision: str, unit: int = 1) -> Exchange:
    """FC43/MEI 14, read code 2 (regular) from object 0, answered with the basic objects."""
    request = frame(tid, bytes([0x2B, 0x0E, 0x02, 0x00]), unit)
    objects = b"".join(
        bytes([index, len(value)]) + value
        for index, value in enumerate(v.encode() for v in (vendor, product, revision))
    )
    reply = frame(tid, bytes([0x2B, 0x0E, 0x02, 0x83, 0x00, 0x00, 0x03]) + objects, unit)
    return request, reply


def text(value: str, registers: int = 8) -> list[int]:
    """ASCII in registers, two characters each, high byte first, NUL-padded."""
    data = value.encode("ascii").ljust(2 * registers, b"\0")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def crc16(data: bytes) -> bytes:
    """The Modbus RTU CRC of `data` (polynomial 0xA001, initial 0xFFFF), low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


def rtu(exchange: Exchange) -> Exchange:
    """The same exchange in Modbus RTU framing: the unit id and the PDU of each TCP frame,
    followed by its CRC (Modbus over serial line, 2.5.1)."""

    def framed(adu: bytes) -> bytes:
        body = adu[6:]  # unit id + PDU, without the MBAP's transaction, protocol and length
        return body + crc16(body)

    request, reply = exchange
    return framed(request), framed(reply)
