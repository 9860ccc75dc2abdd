"""SECS-II data items (SEMI E5 section 9): the item model and its byte codec.

A SECS-II message body is one item: a list (`L`) of items, or an array of one format (binary,
boolean, ASCII or JIS-8 text, signed or unsigned integers of 1, 2, 4 or 8 bytes, floats of 4 or
8 bytes). On the wire an item is a format byte (the format code in its upper six bits, the
number of length bytes, 1 to 3, in its lower two), the length (a list's number of items, any
other item's number of bytes) and the data, big-endian.

`Item` is immutable and compares by value, so a test can say `decode(encode(x)) == x`. Values
are checked when an item is made (an `U1` of 300 is a `ValueError` that names the format and the
value), so an item that exists can always be encoded. `decode` raises only `SecsDecodeError`,
whatever the bytes: a tool that sends garbage gets a protocol error, never a crash.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import cast

from ..errors import PacklineError

#: The deepest list nesting `decode` accepts: far beyond any SEMI message, and a bound that
#: keeps a hostile message from exhausting the interpreter's stack.
MAX_LIST_DEPTH = 64

#: The largest length three length bytes can state.
MAX_ITEM_LENGTH = 0xFFFFFF


class SecsDecodeError(PacklineError):
    """Bytes that are not a well-formed SECS-II item; the message says what and at which byte."""


class Format(IntEnum):
    """The item format codes of SEMI E5 (octal, as the standard writes them)."""

    L = 0o00
    B = 0o10
    BOOLEAN = 0o11
    A = 0o20
    J = 0o21
    I8 = 0o30
    I1 = 0o31
    I2 = 0o32
    I4 = 0o34
    F8 = 0o40
    F4 = 0o44
    U8 = 0o50
    U1 = 0o51
    U2 = 0o52
    U4 = 0o54


#: Numeric formats: (struct code of one element, smallest value, largest value).
_INTEGER_RANGES: dict[Format, tuple[str, int, int]] = {
    Format.I1: ("b", -(2**7), 2**7 - 1),
    Format.I2: ("h", -(2**15), 2**15 - 1),
    Format.I4: ("i", -(2**31), 2**31 - 1),
    Format.I8: ("q", -(2**63), 2**63 - 1),
    Format.U1: ("B", 0, 2**8 - 1),
    Format.U2: ("H", 0, 2**16 - 1),
    Format.U4: ("I", 0, 2**32 - 1),
    Format.U8: ("Q", 0, 2**64 - 1),
}
_FLOAT_CODES: dict[Format, str] = {Format.F4: "f", Format.F8: "d"}
_ELEMENT_CODES: dict[Format, str] = {
    **{fmt: code for fmt, (code, _, _) in _INTEGER_RANGES.items()},
    **_FLOAT_CODES,
    Format.BOOLEAN: "?",
}
_ELEMENT_SIZES: dict[Format, int] = {
    fmt: struct.calcsize(code) for fmt, code in _ELEMENT_CODES.items()
}
_FORMATS_BY_CODE: dict[int, Format] = {fmt.value: fmt for fmt in Format}

# JIS X 0201 (the "JIS-8" of E5): ASCII with yen sign and overline in place of backslash and
# tilde, and the half-width katakana at 0xA1-0xDF; other bytes are undefined ("\ufffe").
_JIS8_DECODING = "".join(
    "\u00a5"
    if byte == 0x5C
    else "\u203e"
    if byte == 0x7E
    else chr(byte)
    if byte < 0x80
    else chr(byte + 0xFEC0)
    if 0xA1 <= byte <= 0xDF
    else "\ufffe"
    for byte in range(256)
)
_JIS8_ENCODING = codecs.charmap_build(_JIS8_DECODING)

#: Every character that J items can carry (for tests and callers that build J text).
JIS8_CHARACTERS = "".join(char for char in _JIS8_DECODING if char != "\ufffe")

Value = tuple["Item", ...] | bytes | str | tuple[bool, ...] | tuple[int, ...] | tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One SECS-II item: its format and its value.

    The value is a tuple of items for `L`, `bytes` for `B`, `str` for `A` and `J`, and a tuple
    of bools, ints or floats for the other formats (SECS-II arrays: one element is a tuple of
    one). Build items with the format functions of this module (`L`, `U4`, `A`, ...), which
    check the value; F4 values are rounded to single precision when the item is made.
    """

    format: Format
    value: Value

    def __iter__(self) -> Iterator[Item | int | float | bool | str]:
        """The items of a list, or the elements of an array."""
        return iter(self.value)

    def __len__(self) -> int:
        """The number of items of a list, of bytes, characters or elements otherwise."""
        return len(self.value)

    def __getitem__(self, index: int) -> Item | int | float | bool | str:
        return self.value[index]

    @property
    def scalar(self) -> int | float | bool | str | bytes:
        """The one value of an array of one element, or the text or bytes of A, J and B items.

        A list, or an array of several elements, has no scalar: `ValueError`.
        """
        if self.format is Format.L:
            raise ValueError(f"a list item ({len(self)} items) has no scalar value")
        if isinstance(self.value, str | bytes):
            return self.value
        if len(self.value) != 1:
            raise ValueError(
                f"an {self.format.name} item of {len(self.value)} elements has no scalar value"
            )
        return self.value[0]  # type: ignore[return-value]

    def to_python(self) -> object:
        """The value as plain Python: lists for lists, the scalar for one-element arrays."""
        if self.format is Format.L:
            return [item.to_python() for item in self.value]  # type: ignore[union-attr]
        if isinstance(self.value, str | bytes) or len(self.value) != 1:
            return self.value if isinstance(self.value, str | bytes) else list(self.value)
        return self.value[0]


def _checked(
    fmt: Format, values: Iterable[object]
) -> tuple[bool, ...] | tuple[int, ...] | tuple[float, ...]:
    """The elements of a numeric or boolean array, each checked against the format."""
    elements = tuple(values)
    if fmt is Format.BOOLEAN:
        for element in elements:
            if not isinstance(element, bool | int) or element not in (0, 1):
                raise ValueError(f"BOOLEAN takes True or False, got {element!r}")
        return tuple(bool(element) for element in elements)
    if fmt in _FLOAT_CODES:
        for element in elements:
            if isinstance(element, bool) or not isinstance(element, int | float):
                raise ValueError(f"{fmt.name} takes numbers, got {element!r}")
        numbers = cast("tuple[int | float, ...]", elements)  # each one checked above
        if fmt is Format.F4:
            packed = struct.pack(f">{len(numbers)}f", *numbers)  # OverflowError when too large
            return struct.unpack(f">{len(numbers)}f", packed)
        return tuple(float(number) for number in numbers)
    _, minimum, maximum = _INTEGER_RANGES[fmt]
    for element in elements:
        if isinstance(element, bool) or not isinstance(element, int):
            raise ValueError(f"{fmt.name} takes integers, got {element!r}")
        if not minimum <= element <= maximum:
            raise ValueError(f"{fmt.name} takes {minimum}..{maximum}, got {element}")
    return cast("tuple[int, ...]", elements)  # each one checked above


def _array(fmt: Format, values: tuple[object, ...]) -> Item:
    try:
        return Item(fmt, _checked(fmt, values))
    except OverflowError:
        raise ValueError(f"F4 takes values within +-3.4e38, got {values!r}") from None


def L(*items: Item) -> Item:
    """A list of items (`L`)."""
    for index, item in enumerate(items):
        if not isinstance(item, Item):
            raise ValueError(f"L takes items, got {item!r} at position {index}")
    return Item(Format.L, tuple(items))


def B(data: bytes | Iterable[int] = b"") -> Item:
    """Binary data (`B`)."""
    try:
        return Item(Format.B, bytes(data))
    except (TypeError, ValueError):
        raise ValueError(f"B takes bytes or integers 0..255, got {data!r}") from None


def BOOLEAN(*values: bool) -> Item:
    """Booleans (`BOOLEAN`)."""
    return _array(Format.BOOLEAN, values)


def _text(fmt: Format, text: str, encoding: str) -> Item:
    if not isinstance(text, str):
        raise ValueError(f"{fmt.name} takes a str, got {text!r}")
    try:
        text.encode(encoding)
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{fmt.name} cannot carry {text[error.start]!r} (position {error.start})"
        ) from None
    return Item(fmt, text)


def A(text: str = "") -> Item:
    """ASCII text (`A`); characters up to U+00FF pass as Latin-1, as tools in the field send."""
    return _text(Format.A, text, "latin-1")


def J(text: str = "") -> Item:
    """JIS-8 text (`J`, JIS X 0201)."""
    if not isinstance(text, str):
        raise ValueError(f"J takes a str, got {text!r}")
    try:
        codecs.charmap_encode(text, "strict", _JIS8_ENCODING)
    except UnicodeEncodeError as error:
        raise ValueError(f"J cannot carry {text[error.start]!r} (position {error.start})") from None
    return Item(Format.J, text)


def I1(*values: int) -> Item:
    """1-byte signed integers (`I1`)."""
    return _array(Format.I1, values)


def I2(*values: int) -> Item:
    """2-byte signed integers (`I2`)."""
    return _array(Format.I2, values)


def I4(*values: int) -> Item:
    """4-byte signed integers (`I4`)."""
    return _array(Format.I4, values)


def I8(*values: int) -> Item:
    """8-byte signed integers (`I8`)."""
    return _array(Format.I8, values)


def U1(*values: int) -> Item:
    """1-byte unsigned integers (`U1`)."""
    return _array(Format.U1, values)


def U2(*values: int) -> Item:
    """2-byte unsigned integers (`U2`)."""
    return _array(Format.U2, values)


def U4(*values: int) -> Item:
    """4-byte unsigned integers (`U4`)."""
    return _array(Format.U4, values)


def U8(*values: int) -> Item:
    """8-byte unsigned integers (`U8`)."""
    return _array(Format.U8, values)


def F4(*values: float) -> Item:
    """4-byte floats (`F4`), rounded to single precision."""
    return _array(Format.F4, values)


def F8(*values: float) -> Item:
    """8-byte floats (`F8`)."""
    return _array(Format.F8, values)


def item(fmt: Format | str, value: object) -> Item:
    """An item of format `fmt` (a `Format` or its name, "U4") from a plain Python value.

    Arrays take one value or a sequence of them; `L` takes a sequence of items. This is how a
    tool dictionary (data) states an item's format by name.
    """
    try:
        fmt = fmt if isinstance(fmt, Format) else Format[fmt.upper()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown SECS-II format {fmt!r}; formats are {', '.join(f.name for f in Format)}"
        ) from None
    if fmt is Format.L:
        return L(*value)  # type: ignore[misc]
    if fmt is Format.A:
        return A(value)  # type: ignore[arg-type]
    if fmt is Format.J:
        return J(value)  # type: ignore[arg-type]
    if fmt is Format.B:
        return B(value)  # type: ignore[arg-type]
    values = tuple(value) if isinstance(value, list | tuple) else (value,)
    return _array(fmt, values)


def _header(fmt: Format, length: int) -> bytes:
    if length > MAX_ITEM_LENGTH:
        raise ValueError(
            f"an {fmt.name} item of length {length} does not fit in 3 length bytes "
            f"(at most {MAX_ITEM_LENGTH})"
        )
    code = fmt.value << 2
    if length <= 0xFF:
        return bytes((code | 1, length))
    if length <= 0xFFFF:
        return bytes((code | 2, length >> 8, length & 0xFF))
    return bytes((code | 3, length >> 16, (length >> 8) & 0xFF, length & 0xFF))


def _encode_into(item: Item, out: list[bytes]) -> None:
    fmt = item.format
    value = item.value
    if fmt is Format.L:
        out.append(_header(fmt, len(value)))
        for child in value:
            _encode_into(child, out)  # type: ignore[arg-type]
        return
    if fmt is Format.B:
        data = value
    elif fmt is Format.A:
        data = value.encode("latin-1")  # type: ignore[union-attr]
    elif fmt is Format.J:
        data = codecs.charmap_encode(value, "strict", _JIS8_ENCODING)[0]  # type: ignore[arg-type]
    else:
        data = struct.pack(f">{len(value)}{_ELEMENT_CODES[fmt]}", *value)
    out.append(_header(fmt, len(data)))
    out.append(data)  # type: ignore[arg-type]


def encode(item: Item) -> bytes:
    """The wire bytes of `item`, with the fewest length bytes each item needs."""
    out: list[bytes] = []
    _encode_into(item, out)
    return b"".join(out)


def _decode_at(data: bytes, position: int, depth: int) -> tuple[Item, int]:
    """The item that starts at `position` and the position after it."""
    end = len(data)
    if position >= end:
        raise SecsDecodeError(f"item expected at byte {position}, the message ends there")
    format_byte = data[position]
    length_bytes = format_byte & 0b11
    fmt = _FORMATS_BY_CODE.get(format_byte >> 2)
    if fmt is None:
        raise SecsDecodeError(
            f"unknown item format {format_byte >> 2:#o} (format byte {format_byte:#04x}) "
            f"at byte {position}"
        )
    if length_bytes == 0:
        raise SecsDecodeError(f"{fmt.name} item at byte {position} states 0 length bytes")
    start = position + 1 + length_bytes
    if start > end:
        raise SecsDecodeError(f"{fmt.name} item at byte {position}: the length is cut off")
    length = int.from_bytes(data[position + 1 : start], "big")
    if fmt is Format.L:
        if depth >= MAX_LIST_DEPTH:
            raise SecsDecodeError(f"lists nested deeper than {MAX_LIST_DEPTH} at byte {position}")
        children = []
        for _ in range(length):
            child, start = _decode_at(data, start, depth + 1)
            children.append(child)
        return Item(Format.L, tuple(children)), start
    stop = start + length
    if stop > end:
        raise SecsDecodeError(
            f"{fmt.name} item at byte {position} states {length} bytes, only {end - start} follow"
        )
    raw = data[start:stop]
    if fmt is Format.B:
        return Item(fmt, bytes(raw)), stop
    if fmt is Format.A:
        return Item(fmt, bytes(raw).decode("latin-1")), stop
    if fmt is Format.J:
        try:
            return Item(fmt, codecs.charmap_decode(raw, "strict", _JIS8_DECODING)[0]), stop
        except UnicodeDecodeError as error:
            raise SecsDecodeError(
                f"J item at byte {position}: byte {raw[error.start]:#04x} is not JIS X 0201"
            ) from None
    size = _ELEMENT_SIZES[fmt]
    if length % size:
        raise SecsDecodeError(
            f"{fmt.name} item at byte {position}: {length} bytes is not a whole number "
            f"of {size}-byte elements"
        )
    # BOOLEAN: E5 reads any non-zero byte as true, and so does struct's "?".
    return Item(fmt, struct.unpack(f">{length // size}{_ELEMENT_CODES[fmt]}", raw)), stop


def decode(data: bytes | bytearray | memoryview) -> Item | None:
    """The one item `data` holds (None for an empty body), or `SecsDecodeError`."""
    if not data:
        return None
    buffer = bytes(data)
    try:
        result, stop = _decode_at(buffer, 0, 0)
    except RecursionError:  # pragma: no cover - MAX_LIST_DEPTH keeps well below the limit
        raise SecsDecodeError("lists nested too deep") from None
    if stop != len(buffer):
        raise SecsDecodeError(
            f"{len(buffer) - stop} byte(s) after the item that ends at byte {stop}"
        )
    return result
