"""Packing values into 16-bit Modbus registers, as every Modbus protocol page documents them.

Shared by drivers and simulated tools: strings are ASCII, two characters per register, high
byte first, NUL-padded; 32-bit unsigned values take two registers, high word first.
"""

from __future__ import annotations


def ascii_to_registers(text: str, register_count: int) -> list[int]:
    """Pack `text` into exactly `register_count` registers; refuses text that does not fit."""
    data = text.encode("ascii")
    if len(data) > 2 * register_count:
        raise ValueError(f"{text!r} does not fit in {register_count} registers")
    data = data.ljust(2 * register_count, b"\0")
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


def registers_to_ascii(registers: list[int]) -> str:
    """Unpack NUL-padded ASCII; raises ValueError on bytes that are not printable ASCII."""
    data = b"".join(r.to_bytes(2, "big") for r in registers).rstrip(b"\0")
    text = data.decode("ascii")
    if not text.isprintable():
        raise ValueError(f"non-printable characters in {data!r}")
    return text


def u32_to_registers(value: int) -> list[int]:
    """Split an unsigned 32-bit value into two registers, high word first."""
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} does not fit in 32 bits")
    return [value >> 16, value & 0xFFFF]


def registers_to_u32(high: int, low: int) -> int:
    return (high << 16) | low


def bits_to_registers(bits: set[int] | frozenset[int], register_count: int) -> list[int]:
    """Pack a set of bit numbers into `register_count` registers: bit i is bit i % 16 (0 the
    least significant) of register i // 16; refuses a bit that does not fit."""
    registers = [0] * register_count
    for bit in bits:
        if not 0 <= bit < 16 * register_count:
            raise ValueError(f"bit {bit} does not fit in {register_count} registers")
        registers[bit // 16] |= 1 << bit % 16
    return registers


def registers_to_bits(registers: list[int]) -> frozenset[int]:
    """The bit numbers set in `registers` (the inverse of `bits_to_registers`)."""
    return frozenset(
        16 * index + bit
        for index, register in enumerate(registers)
        for bit in range(16)
        if register >> bit & 1
    )
