"""Each link's bytes on the wire, pinned with scripted peers (no simulator involved)."""

from __future__ import annotations

import pytest

from packline.drivers.errors import CommandRefused, ProtocolError
from packline.drivers.links import ModbusLink, TextLink, open_link
from packline.testing import expected_protocol


@pytest.mark.parametrize(
    ("transport", "form"), [("tcp", "visa"), ("pty", "visa"), ("tcp", "serial"), ("pty", "serial")]
)
async def test_text_link_framing(transport, form):
    script = [
        (b"*IDN?\r\n", b"ACME,M1,0001,1.0\n"),
        (b"VOLT 1.5\r\n", None),
        (b"VOLT?\r\n", b"1.5\n"),
    ]
    async with expected_protocol(script, transport=transport) as peer:
        link = open_link(peer.address(form), tool="meter", write_termination="\r\n")
        assert isinstance(link, TextLink)
        async with link:
            assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
            await link.write("VOLT 1.5")
            assert await link.query("VOLT?") == "1.5"


@pytest.mark.parametrize("form", ["visa", "serial"])
async def test_reply_split_across_segments_is_one_line(form):
    # The peer answers "OK\n" only after the next request, so the first reply's tail arrives
    # in a second segment; the link must read up to the termination, not up to a pause.
    script = [(b"A?\n", b"PART"), (b"B?\n", b"IAL\n")]
    async with expected_protocol(script) as peer:
        link = open_link(peer.address(form), tool="meter", timeout_s=0.5)
        assert isinstance(link, TextLink)
        async with link:
            await link.write("A?")
            assert await link.query("B?") == "PARTIAL"


async def test_serial_line_without_termination_is_protocol_error():
    script = [(b"DUMP?\n", b"x" * 300)]
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("serial"), tool="meter", max_line_bytes=256, timeout_s=0.5)
        assert isinstance(link, TextLink)
        async with link:
            with pytest.raises(ProtocolError, match="no '\\\\n' within 256 bytes"):
                await link.query("DUMP?")
            assert not link.connected


async def test_modbus_tcp_framing():
    script = [
        # MBAP: transaction 1, protocol 0, length 6, unit 5; FC3 address 0x0064 count 2.
        (b"\x00\x01\x00\x00\x00\x06\x05\x03\x00\x64\x00\x02",
         b"\x00\x01\x00\x00\x00\x07\x05\x03\x04\x00\x0a\x01\x02"),
        # FC16 at 300, one register = 3; refused with exception 3.
        (b"\x00\x02\x00\x00\x00\x09\x05\x10\x01\x2c\x00\x01\x02\x00\x03",
         b"\x00\x02\x00\x00\x00\x03\x05\x90\x03"),
    ]  # fmt: skip
    async with expected_protocol(script) as peer:
        link = open_link(peer.address("modbus+tcp"), tool="mixer", device_id=5)
        assert isinstance(link, ModbusLink)
        async with link:
            assert await link.read_holding_registers(100, 2) == [10, 258]
            with pytest.raises(CommandRefused, match="write_registers 300 \\[3\\]") as refused:
                await link.write_registers(300, [3])
            assert refused.value.code == "ILLEGAL_DATA_VALUE"


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_modbus_rtu_framing(transport):
    script = [
        # Unit 1, FC6 write register 0x0064 = 0x00ff, CRC; the echo is the reply.
        (b"\x01\x06\x00\x64\x00\xff\x88\x55", b"\x01\x06\x00\x64\x00\xff\x88\x55"),
        # Unit 1, FC1 read 3 coils from 0; reply one byte 0b101.
        (b"\x01\x01\x00\x00\x00\x03\x7c\x0b", b"\x01\x01\x01\x05\x91\x8b"),
    ]
    async with expected_protocol(script, transport=transport) as peer:
        link = open_link(peer.address("modbus+rtu"), tool="mixer")
        assert isinstance(link, ModbusLink)
        async with link:
            await link.write_register(100, 0xFF)
            assert await link.read_coils(0, 3) == [True, False, True]
