"""expected_protocol passes when the bytes are exactly the script, and fails loudly otherwise."""

from __future__ import annotations

import re
from typing import Literal

import pytest

from packline.drivers.errors import ToolTimeout
from packline.drivers.links import SerialLink, TextLink, VisaLink, open_link
from packline.testing import expected_protocol
from packline.testing.expected_protocol import AddressForm


async def open_text(address: str, **options: object) -> TextLink:
    link = open_link(address, tool="meter", timeout_s=0.3, **options)
    assert isinstance(link, TextLink)
    await link.connect()
    return link


async def play(
    script: list[tuple[bytes, bytes | None]],
    commands: list[str],
    *,
    transport: Literal["tcp", "pty"] = "tcp",
    form: AddressForm = "serial",
    settle_s: float = 0.5,
) -> list[str]:
    """Send `commands` through a real link inside `expected_protocol(script)`: a command
    ending in `?` is a query, any other a write. Returns the replies.
    """
    replies = []
    async with expected_protocol(script, transport=transport, settle_s=settle_s) as peer:
        link = await open_text(peer.address(form))
        try:
            for command in commands:
                if command.endswith("?"):
                    replies.append(await link.query(command))
                else:
                    await link.write(command)
        finally:
            await link.close()
    return replies


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_script_played_exactly_passes(transport):
    script = [(b"*IDN?\n", b"ACME\n"), (b"VOLT 2\n", None)]
    assert await play(script, ["*IDN?", "VOLT 2"], transport=transport) == ["ACME"]


@pytest.mark.parametrize("transport", ["tcp", "pty"])
async def test_differing_bytes_fail_with_index_expected_and_got(transport):
    script = [(b"*IDN?\n", b"ACME\n"), (b"VOLT 2\n", None)]
    expected = r"exchange 1: expected request b'VOLT 2\\n', got b'VOLT 3\\n'"
    with pytest.raises(AssertionError, match=expected) as failure:
        await play(script, ["*IDN?", "VOLT 3"], transport=transport)
    assert failure.value.__cause__ is None


async def test_a_mismatch_beats_the_timeout_it_causes():
    # The link sends "\n", the script expects "\r\n": the peer never answers.
    expected = r"exchange 0: expected request b'\*IDN\?\\r\\n'"
    with pytest.raises(AssertionError, match=expected) as failure:
        await play([(b"*IDN?\r\n", b"ACME\n")], ["*IDN?"], form="visa")
    assert isinstance(failure.value.__cause__, ToolTimeout)


async def test_requests_never_made_are_listed():
    expected = r"requests never made, from exchange 1: \[b'B\?\\n'"
    with pytest.raises(AssertionError, match=expected):
        await play([(b"A?\n", b"1\n"), (b"B?\n", b"2\n")], ["A?"], settle_s=0.1)


async def test_extra_bytes_after_the_script_fail():
    expected = r"unexpected bytes after the last exchange: b'B\\n'"
    with pytest.raises(AssertionError, match=expected):
        await play([(b"A?\n", b"1\n")], ["A?", "B"])


async def test_the_body_error_propagates_when_the_protocol_was_followed():
    with pytest.raises(KeyError, match="driver bug"):
        async with expected_protocol([]):
            raise KeyError("driver bug")


async def test_script_carries_on_across_reconnects():
    async with expected_protocol([(b"A?\n", b"1\n"), (b"B?\n", b"2\n")]) as peer:
        link = await open_text(peer.address("visa"))
        assert isinstance(link, VisaLink)
        assert await link.query("A?") == "1"
        await link.close()
        await link.connect()
        assert await link.query("B?") == "2"
        await link.close()


@pytest.mark.parametrize(
    ("transport", "form", "expected"),
    [
        ("tcp", "visa", r"TCPIP0::127\.0\.0\.1::\d+::SOCKET"),
        ("tcp", "serial", r"socket://127\.0\.0\.1:\d+"),
        ("tcp", "modbus+tcp", r"modbus\+tcp://127\.0\.0\.1:\d+"),
        ("tcp", "modbus+rtu", r"modbus\+rtu:socket://127\.0\.0\.1:\d+"),
        ("pty", "visa", r"ASRL/dev/pts/\d+::INSTR"),
        ("pty", "serial", r"/dev/pts/\d+"),
        ("pty", "modbus+rtu", r"modbus\+rtu:/dev/pts/\d+"),
    ],
)
async def test_address_forms(transport, form, expected):
    async with expected_protocol([], transport=transport) as peer:
        assert re.fullmatch(expected, peer.address(form))


async def test_bad_arguments():
    with pytest.raises(ValueError, match="no 'modbus\\+tcp' address for a pty peer"):
        async with expected_protocol([], transport="pty") as peer:
            peer.address("modbus+tcp")
    with pytest.raises(TypeError, match=r"script\[0\] must be"):
        async with expected_protocol(["*IDN?"]):  # type: ignore[list-item]
            pass
    with pytest.raises(ValueError, match="transport must be"):
        async with expected_protocol([], transport="udp"):  # type: ignore[arg-type]
            pass


async def test_serial_link_is_what_serial_addresses_give():
    async with expected_protocol([], transport="pty") as peer:
        assert isinstance(open_link(peer.address("serial"), tool="t"), SerialLink)
