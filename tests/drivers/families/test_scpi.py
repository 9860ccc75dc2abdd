"""The SCPI driver base's compound queries (`ScpiDriver.query_units`), byte by byte."""

from __future__ import annotations

import re

import pytest

from packline.clock import VirtualClock
from packline.drivers.dc_supply import ScpiDcSupply
from packline.drivers.errors import CommandRefused, ProtocolError
from packline.drivers.links import VisaLink
from packline.testing import expected_protocol


def exchange(sent: str, reply: str) -> tuple[bytes, bytes]:
    return sent.encode() + b"\n", reply.encode() + b"\n"


async def test_queries_go_as_one_compound_line_with_absolute_headers_and_split_replies():
    script = [exchange(":SYST:ERR?;:OUTP?;*OPC?", '-222,"Data out of range;a;b";1;1')]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        await link.connect()
        supply = ScpiDcSupply(link, name="supply")
        replies = await supply.query_units("read", "SYST:ERR?", ":OUTP?", "*OPC?")
        assert replies == ['-222,"Data out of range;a;b"', "1", "1"]
        await link.close()


async def test_a_reply_with_fewer_units_than_queries_is_a_protocol_error():
    script = [exchange(":MEAS:CURR?;:MEAS:VOLT?", "1.50000")]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        await link.connect()
        supply = ScpiDcSupply(link, name="supply")
        with pytest.raises(ProtocolError, match=r"not 2 replies joined by ;"):
            await supply.query_units("measure", "MEAS:CURR?", "MEAS:VOLT?")
        await link.close()


@pytest.mark.parametrize(
    ("unit", "end"),
    [
        ("CURR 1;OUTP ON", ";"),
        ("CURR 1\nOUTP ON", "\n"),
        ('WAF:LOAD "W1\rOUTP ON"', "\r"),
        ('WAF:LOAD "W1;OUTP ON', '"'),
    ],
)
async def test_a_unit_the_tool_would_read_as_more_than_one_is_refused_unsent(unit, end):
    """A `;` outside a string, a line end or a string left open in a unit would run what
    follows it: `send` and the queries refuse it, naming it, and send nothing; a `;` inside a
    string is the string's."""
    script = [(b'WAF:LOAD "W1;2"\n', None), exchange("SYST:ERR?", '0,"No error"')]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        await link.connect()
        supply = ScpiDcSupply(link, name="supply")
        with pytest.raises(ValueError, match=re.escape(f"unit {unit!r} contains {end!r}")):
            await supply.send("set", "VOLT 2", unit)
        with pytest.raises(ValueError, match="nothing was sent"):
            await supply.query_units("read", "OUTP?", unit + "?")
        with pytest.raises(ValueError, match="nothing was sent"):
            await supply.query_number("read", unit + "?")
        await supply.send("load", 'WAF:LOAD "W1;2"')
        await link.close()


async def test_send_with_no_settings_only_reads_the_error_queue():
    async with expected_protocol([exchange("SYST:ERR?", '0,"No error"')]) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        await link.connect()
        await ScpiDcSupply(link, name="supply").send("read errors")
        await link.close()


async def test_settings_go_in_as_few_messages_as_the_line_limit_takes():
    """`send` packs units into messages of at most 4096 characters, reading the error queue
    after each, and sends no message after a refused one; a unit too long alone, or one that
    would end itself, is refused before any message of the lot is sent."""
    unit = "LIST:CURR " + ",".join(["1.5"] * 500)  # 2009 characters, 2010 with its colon
    script = [
        exchange(f":{unit};:{unit}", ""),
        exchange("SYST:ERR?", '0,"No error"'),
        exchange(unit, ""),
        exchange("SYST:ERR?", '0,"No error"'),
        exchange(f":{unit};:{unit}", ""),
        exchange("SYST:ERR?", '-222,"Data out of range;LIST:CURR"'),
        exchange("SYST:ERR?", '0,"No error"'),
    ]
    script = [(sent, None if reply == b"\n" else reply) for sent, reply in script]
    async with expected_protocol(script) as peer:
        link = VisaLink(peer.address("visa"), tool="supply", timeout_s=1.0, clock=VirtualClock())
        await link.connect()
        supply = ScpiDcSupply(link, name="supply")
        await supply.send("set", unit, unit, unit)
        with pytest.raises(CommandRefused, match="Data out of range"):
            await supply.send("set", unit, unit, unit)
        with pytest.raises(ValueError, match="longer than the 4096 a tool takes; nothing was sent"):
            await supply.send("set", "LIST:CURR " + ",".join(["1.5"] * 1100))
        with pytest.raises(ValueError, match=r"contains ';'.*nothing was sent"):
            await supply.send("set", unit, unit, unit, "VOLT 5;OUTP ON")  # in the 2nd message
        await link.close()
