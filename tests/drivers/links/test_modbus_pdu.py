"""The packed register PDUs and the decoder both ends of a Modbus link use (`modbus_pdu.py`)
code what pymodbus's own classes code, byte for byte, and fail where they fail."""

from __future__ import annotations

import struct

import pytest
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    ReadWriteMultipleRegistersResponse,
)

from packline.drivers.links.modbus_pdu import (
    HoldingRegistersRead,
    HoldingRegistersReply,
    InputRegistersReply,
    ModbusDecoder,
    ReadWriteRegistersReply,
)

REGISTER_LISTS = [[], [0], [1, 0xFFFF], list(range(0, 65536, 529)), [0x1234] * 125]


@pytest.mark.parametrize("registers", REGISTER_LISTS)
@pytest.mark.parametrize(
    ("packed", "pymodbus"),
    [(HoldingRegistersReply, ReadHoldingRegistersResponse),
     (InputRegistersReply, ReadInputRegistersResponse),
     (ReadWriteRegistersReply, ReadWriteMultipleRegistersResponse)],
)  # fmt: skip
def test_a_reply_codes_as_pymodbus_codes_it(registers, packed, pymodbus):
    ours, theirs = packed(registers=registers), pymodbus(registers=registers)
    assert ours.function_code == theirs.function_code
    assert ours.encode() == theirs.encode()
    decoded, expected = packed(), pymodbus()
    decoded.decode(theirs.encode())
    expected.decode(theirs.encode())
    assert decoded.registers == expected.registers == registers


#: Each packed reply beside pymodbus's class of its function code: FC3's, and FC23's (the
#: PLCs' held status read), whose checks are FC3's.
REPLY_PAIRS = pytest.mark.parametrize(
    ("packed", "pymodbus"),
    [(HoldingRegistersReply, ReadHoldingRegistersResponse),
     (ReadWriteRegistersReply, ReadWriteMultipleRegistersResponse)],
)  # fmt: skip


@REPLY_PAIRS
@pytest.mark.parametrize(
    "data", [b"\x03\x00\x01\x00\x02", b"\x05\x00\x01\x00\x02\x00\x03", b"\x00\x07", b"\x01\x00\x05"]
)
def test_an_odd_byte_count_takes_what_pymodbus_takes(data, packed, pymodbus):
    decoded, expected = packed(), pymodbus()
    decoded.decode(data)
    expected.decode(data)
    assert decoded.registers == expected.registers


@REPLY_PAIRS
def test_a_byte_count_past_the_packet_is_refused_as_pymodbus_refuses_it(packed, pymodbus):
    with pytest.raises(ModbusIOException, match="byte_count 4 > length of packet 3"):
        packed().decode(b"\x04\x00\x01")
    with pytest.raises(ModbusIOException):
        pymodbus().decode(b"\x04\x00\x01")


def test_a_register_out_of_range_fails_to_encode_as_with_pymodbus():
    for reply in (HoldingRegistersReply, ReadHoldingRegistersResponse):
        # struct.error: coded after the datastore's access, it fails the server's answer
        with pytest.raises(struct.error):
            reply(registers=[0x10000]).encode()


FRAMES = [
    b"\x03\x00\x0a\x00\x14",  # FC3 request / a short FC3 reply
    b"\x04\x00\x00\x00\x02",
    b"\x03\x04\x00\x01\x00\x02",
    b"\x10\x00\x64\x00\x02\x04\x00\x07\x00\x08",  # FC16
    b"\x06\x00\x64\x00\x07",
    b"\x17\x01\x90\x00\x15\x01\x86\x00\x02\x04\x00\x07\x00\x1e",  # FC23 request
    b"\x17\x04\x00\x01\x00\x02",  # an FC23 reply
    b"\x01\x00\x00\x00\x08",
    b"\x2b\x0e\x01\x00",  # FC43 / MEI 14
    b"\x83\x02",  # an exception
    b"\x83",  # an exception without its code
    b"\x03\x00",  # short
    b"\x63\x00\x00",  # no such function
]


@pytest.mark.parametrize("is_server", [True, False])
@pytest.mark.parametrize("frame", FRAMES)
def test_the_decoder_decodes_what_pymodbus_decodes(frame, is_server):
    ours, theirs = ModbusDecoder(is_server).decode(frame), DecodePDU(is_server).decode(frame)
    assert (ours is None) == (theirs is None)
    if ours is not None and theirs is not None:
        assert ours.function_code == theirs.function_code
        assert isinstance(ours, type(theirs))
        assert str(ours) == str(theirs).replace(type(theirs).__name__, type(ours).__name__)


def test_the_decoder_reads_registers_with_the_packed_pdus():
    request = ModbusDecoder(is_server=True).decode(b"\x03\x00\x0a\x00\x14")
    assert isinstance(request, HoldingRegistersRead)
    assert (request.address, request.count) == (10, 20)
    reply = ModbusDecoder(is_server=False).decode(b"\x04\x04\x00\x01\x00\x02")
    assert isinstance(reply, InputRegistersReply)
    assert reply.registers == [1, 2]
    held = ModbusDecoder(is_server=False).decode(b"\x17\x04\x00\x03\x00\x04")
    assert isinstance(held, ReadWriteRegistersReply)
    assert held.registers == [3, 4]
