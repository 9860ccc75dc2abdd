"""SECS-II items: round trips, length bytes, refusals, and secsgem's codec as the oracle."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from secsgem.secs import variables as sv

from packline.drivers.secs.items import (
    BOOLEAN,
    F4,
    F8,
    I1,
    I2,
    I4,
    I8,
    JIS8_CHARACTERS,
    U1,
    U2,
    U4,
    U8,
    A,
    B,
    Format,
    Item,
    J,
    L,
    SecsDecodeError,
    decode,
    encode,
    item,
)

INTEGER_BOUNDS = {
    I1: (-(2**7), 2**7 - 1),
    I2: (-(2**15), 2**15 - 1),
    I4: (-(2**31), 2**31 - 1),
    I8: (-(2**63), 2**63 - 1),
    U1: (0, 2**8 - 1),
    U2: (0, 2**16 - 1),
    U4: (0, 2**32 - 1),
    U8: (0, 2**64 - 1),
}


def arrays(*, jis8: bool = True, secsgem_floats: bool = False) -> st.SearchStrategy[Item]:
    """Every format but L, with 0 to 5 elements (text: 0 to 20 characters).

    `secsgem_floats` keeps floats within what secsgem accepts: it refuses infinities and
    bounds F4 and F8 at a rounded maximum (3.40282e38, 1.79769e308) below the true one.
    """
    f4_bound = F4(3.4e38).scalar if secsgem_floats else None  # below 3.40282e38
    f8_bound = 1.79e308 if secsgem_floats else None  # below 1.79769e308
    f4s = st.floats(f4_bound and -f4_bound, f4_bound, width=32, allow_nan=False)
    f8s = st.floats(f8_bound and -f8_bound, f8_bound, allow_nan=False)
    choices = [
        st.binary(max_size=20).map(B),
        st.lists(st.booleans(), max_size=5).map(lambda v: BOOLEAN(*v)),
        st.text(st.characters(max_codepoint=0xFF), max_size=20).map(A),
        st.lists(f4s, max_size=5).map(lambda v: F4(*v)),
        st.lists(f8s, max_size=5).map(lambda v: F8(*v)),
    ]
    if jis8:
        choices.append(st.text(st.sampled_from(JIS8_CHARACTERS), max_size=20).map(J))
    for make, (low, high) in INTEGER_BOUNDS.items():
        choices.append(
            st.lists(st.integers(low, high), max_size=5).map(lambda v, make=make: make(*v))
        )
    return st.one_of(choices)


def items(*, jis8: bool = True, secsgem_floats: bool = False) -> st.SearchStrategy[Item]:
    """Nested lists of any item (see `arrays` for the options)."""
    return st.recursive(
        arrays(jis8=jis8, secsgem_floats=secsgem_floats),
        lambda children: st.lists(children, max_size=4).map(lambda v: L(*v)),
        max_leaves=12,
    )


@given(items())
def test_decode_inverts_encode(value: Item) -> None:
    assert decode(encode(value)) == value


@given(items())
def test_encode_inverts_decode(value: Item) -> None:
    wire = encode(value)
    assert encode(decode(wire)) == wire


@pytest.mark.parametrize(
    ("length", "length_bytes"), [(0, 1), (255, 1), (256, 2), (65535, 2), (65536, 3)]
)
def test_the_fewest_length_bytes_are_used(length: int, length_bytes: int) -> None:
    wire = encode(B(bytes(length)))
    assert wire[0] == 0o10 << 2 | length_bytes
    assert int.from_bytes(wire[1 : 1 + length_bytes], "big") == length
    assert decode(wire) == B(bytes(length))


def test_a_list_counts_items_not_bytes() -> None:
    assert encode(L(U1(7), L())) == bytes([0x01, 2, 0xA5, 1, 7, 0x01, 0])


def test_more_length_bytes_than_needed_are_read() -> None:
    assert decode(bytes([0o54 << 2 | 3, 0, 0, 4, 0, 0, 0, 5])) == U4(5)


def test_an_item_too_long_for_three_length_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit in 3 length bytes"):
        encode(B(bytes(0x1000000)))


@pytest.mark.parametrize(
    ("make", "value", "message"),
    [
        (U1, 256, "U1 takes 0..255, got 256"),
        (I1, -129, "I1 takes -128..127"),
        (U4, 1.5, "U4 takes integers, got 1.5"),
        (U8, True, "U8 takes integers, got True"),
        (F8, "1", "F8 takes numbers"),
        (F4, 1e39, "F4 takes values within"),
        (BOOLEAN, 2, "BOOLEAN takes True or False, got 2"),
    ],
)
def test_an_element_out_of_its_format_is_refused(make, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(value)


def test_text_out_of_its_format_is_refused() -> None:
    with pytest.raises(ValueError, match=r"A cannot carry '€' \(position 2\)"):
        A("ab€")
    with pytest.raises(ValueError, match=r"J cannot carry 'é' \(position 0\)"):
        J("é")
    with pytest.raises(ValueError, match="L takes items, got 3 at position 1"):
        L(U1(1), 3)  # type: ignore[arg-type]


def test_item_builds_from_a_format_name() -> None:
    assert item("u4", [1, 2]) == U4(1, 2)
    assert item("F8", 2.5) == F8(2.5)
    assert item(Format.A, "x") == A("x")
    with pytest.raises(ValueError, match="unknown SECS-II format 'U3'"):
        item("U3", 1)


def test_scalar_and_python_values() -> None:
    assert U4(7).scalar == 7
    assert A("ok").scalar == "ok"
    assert L(U4(1, 2), A("x"), L()).to_python() == [[1, 2], "x", []]
    with pytest.raises(ValueError, match="U4 item of 2 elements has no scalar"):
        _ = U4(1, 2).scalar


def test_an_empty_body_is_no_item() -> None:
    assert decode(b"") is None


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (bytes([0o77 << 2 | 1, 0]), "unknown item format 0o77"),
        (bytes([0o54 << 2, 0]), "states 0 length bytes"),
        (bytes([0o54 << 2 | 2, 0]), "the length is cut off"),
        (bytes([0o54 << 2 | 1, 8, 0, 0]), "states 8 bytes, only 2 follow"),
        (bytes([0o54 << 2 | 1, 3, 0, 0, 0]), "3 bytes is not a whole number of 4-byte"),
        (bytes([0x01, 2, 0xA5, 1, 7]), "item expected at byte 5"),
        (bytes([0xA5, 1, 7, 0]), "1 byte\\(s\\) after the item"),
        (bytes([0o21 << 2 | 1, 1, 0x80]), "byte 0x80 is not JIS X 0201"),
        (bytes([0x01, 1] * 70), "lists nested deeper than 64"),
    ],
)
def test_malformed_bytes_say_what_is_wrong(wire: bytes, message: str) -> None:
    with pytest.raises(SecsDecodeError, match=message):
        decode(wire)


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_the_decode_error(wire: bytes) -> None:
    with contextlib.suppress(SecsDecodeError):
        decode(wire)


@settings(max_examples=300)
@given(items(), st.data())
def test_a_damaged_message_decodes_or_raises_the_decode_error(value: Item, data) -> None:
    wire = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(wire) - 1))
        wire[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(wire)))
    with contextlib.suppress(SecsDecodeError):
        decode(bytes(wire[:cut]))


# --- secsgem's codec as the independent oracle --------------------------------------------

SECSGEM_CLASSES = {
    Format.B: sv.Binary,
    Format.BOOLEAN: sv.Boolean,
    Format.A: sv.String,
    Format.J: sv.JIS8,
    Format.I1: sv.I1,
    Format.I2: sv.I2,
    Format.I4: sv.I4,
    Format.I8: sv.I8,
    Format.U1: sv.U1,
    Format.U2: sv.U2,
    Format.U4: sv.U4,
    Format.U8: sv.U8,
    Format.F4: sv.F4,
    Format.F8: sv.F8,
}


class AnyVariable(sv.Dynamic):
    """A secsgem list element of any format (its own ANYVALUE has no JIS-8)."""

    def __init__(self, value: object = None) -> None:
        super().__init__([], value)


def to_secsgem(value: Item) -> sv.Base:
    """The same item built from secsgem's variable classes."""
    if value.format is Format.L:
        return sv.Array(AnyVariable, [to_secsgem(child) for child in value])
    return SECSGEM_CLASSES[value.format](
        list(value.value) if isinstance(value.value, tuple) else value.value
    )


def expected_secsgem_value(value: Item) -> object:
    """What secsgem's `get()` gives for `value`: arrays of one element (one byte too) as it."""
    if value.format is Format.L:
        return [expected_secsgem_value(child) for child in value]
    if value.format is Format.A or (value.format is Format.B and len(value) != 1):
        return value.value
    return value.value[0] if len(value.value) == 1 else list(value.value)


@given(items(jis8=False, secsgem_floats=True))
def test_secsgem_decodes_what_packline_encodes(value: Item) -> None:
    # secsgem's any-format decoder has no JIS-8 (its Dynamic lacks JIS8); J is checked below.
    decoded = sv.Dynamic([])
    decoded.decode(encode(value))
    assert decoded.get() == expected_secsgem_value(value)


@given(items(secsgem_floats=True))
def test_packline_decodes_what_secsgem_encodes(value: Item) -> None:
    assert decode(to_secsgem(value).encode()) == value


@given(st.text(st.sampled_from(JIS8_CHARACTERS), max_size=40))
def test_jis8_text_matches_secsgem(text: str) -> None:
    assert encode(J(text)) == sv.JIS8(text).encode()
    theirs = sv.JIS8()
    theirs.decode(encode(J(text)))
    assert theirs.get() == text


def test_a_float_array_matches_secsgem_bit_for_bit() -> None:
    assert encode(F4(0.1, -2.5)) == sv.F4([0.1, -2.5]).encode()
    assert encode(F8(0.1)) == bytes([0o40 << 2 | 1, 8]) + struct.pack(">d", 0.1)
