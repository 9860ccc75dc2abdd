"""A reply that is complete when a link's time runs out is the answer, not an error.

On a loaded machine the event loop may not get to a reply before the link's timeout fires:
an oven's Modbus RTU read was once reported "garbled or incomplete ... only 7 bytes" of a
complete, CRC-valid reply. Here the wire delivers the reply exactly when the link gives up
(after its wait is cancelled, before it closes the connection): waiting unread in the OS, or
already taken in by the event loop. Complete, it is the answer; one byte short, it is still an
incomplete reply.
"""

from __future__ import annotations

import asyncio
import select
import socket
from typing import Any

import pytest
import serial

from packline.drivers.errors import ProtocolError, ToolTimeout
from packline.drivers.links import ModbusLink, SerialLink, VisaLink
from packline.drivers.links.base import Link
from packline.drivers.links.visa import _socket_of
from packline.testing import expected_protocol
from packline.testing.expected_protocol import ScriptedPeer

#: The oven's read: unit 1, FC3, one register from 0; its reply carries 11 (0x000b).
RTU_READ = (bytes.fromhex("01 03 00 00 00 01 84 0a"), bytes.fromhex("01 03 02 00 0b f9 83"))
TCP_READ = (
    bytes.fromhex("00 01 00 00 00 06 01 03 00 00 00 01"),
    bytes.fromhex("00 01 00 00 00 05 01 03 02 00 0b"),
)
TEXT_READ = (b"TEMP?\n", b"180.5\n")

#: link kind: (transport, address form, link class, (request, reply), what the read answers)
CASES: dict[str, tuple[Any, ...]] = {
    "modbus-rtu-tcp": ("tcp", "modbus+rtu", ModbusLink, RTU_READ, [11]),
    "modbus-rtu-pty": ("pty", "modbus+rtu", ModbusLink, RTU_READ, [11]),
    "modbus-tcp": ("tcp", "modbus+tcp", ModbusLink, TCP_READ, [11]),
    "serial-socket": ("tcp", "serial", SerialLink, TEXT_READ, "180.5"),
    "serial-pty": ("pty", "serial", SerialLink, TEXT_READ, "180.5"),
    "visa-tcp": ("tcp", "visa", VisaLink, TEXT_READ, "180.5"),
}


def os_side(link: Link) -> socket.socket | int:
    """What `select` waits on for the bytes the link's wire receives (not a test of it)."""
    if isinstance(link, ModbusLink):
        transport = link._connected_client().ctx.transport
        port = getattr(transport, "sync_serial", None)
        return port.fileno() if port else transport.get_extra_info("socket")
    if isinstance(link, SerialLink):
        assert link._port is not None
        assert link._port.transport is not None
        port_transport = link._port.transport
        sock = port_transport.get_extra_info("socket")
        return sock if sock is not None else port_transport.get_extra_info("serial").fileno()
    assert isinstance(link, VisaLink)
    assert link._resource is not None
    sock = _socket_of(link._resource)
    assert sock is not None
    return sock


def deliver_when_giving_up(link: Link, peer: ScriptedPeer, data: bytes, taken_in: bool) -> None:
    """Make `peer` send `data` exactly when `link`'s exchange has timed out: at its close.

    `taken_in`: the event loop reads the bytes before the link closes (the reply is held);
    otherwise they wait unread in the OS (a starved event loop never got to them).
    """
    close = link._close
    done = False

    async def close_after_delivery() -> None:
        nonlocal done
        if not done:
            done = True
            side = os_side(link)
            peer.send(data)
            # A hang guard only: the bytes are on loopback or in the pty at once.
            assert select.select([side], [], [], 10.0)[0], "the peer's bytes never arrived"
            if taken_in and not isinstance(link, VisaLink):
                # Nothing signals the loop's read of a wire the link no longer waits on.
                async with asyncio.timeout(10.0):
                    while len(link._reply_so_far) < len(data):  # noqa: ASYNC110
                        await asyncio.sleep(0)
        await close()

    link._close = close_after_delivery  # type: ignore[method-assign]


async def read(link: Link) -> object:
    if isinstance(link, ModbusLink):
        return await link.read_holding_registers(0, 1)
    assert isinstance(link, SerialLink | VisaLink)
    return await link.query("TEMP?")


@pytest.mark.parametrize("taken_in", [False, True], ids=["unread", "taken-in"])
@pytest.mark.parametrize("case", list(CASES))
async def test_a_reply_complete_when_time_runs_out_is_the_answer(case: str, taken_in: bool):
    transport, form, link_class, (request, reply), value = CASES[case]
    if taken_in and link_class is VisaLink:
        pytest.skip("the VISA reader thread is stopped at the timeout: nothing is taken in")
    async with expected_protocol([(request, None)], transport=transport) as peer:
        link = link_class(peer.address(form), tool="oven", timeout_s=0.2, read_retries=0)
        async with link:
            deliver_when_giving_up(link, peer, reply, taken_in)
            assert await read(link) == value
            assert not link.connected  # dropped all the same: the next exchange starts afresh


@pytest.mark.parametrize("case", list(CASES))
async def test_a_reply_one_byte_short_when_time_runs_out_is_incomplete(case: str):
    transport, form, link_class, (request, reply), _ = CASES[case]
    async with expected_protocol([(request, None)], transport=transport) as peer:
        link = link_class(peer.address(form), tool="oven", timeout_s=0.2, read_retries=0)
        async with link:
            deliver_when_giving_up(link, peer, reply[:-1], taken_in=False)
            with pytest.raises(
                ProtocolError,
                match=rf"garbled or incomplete reply: .* only {len(reply) - 1} byte\(s\)",
            ):
                await read(link)


#: link kind on a tty: (address form, link class, (first request, its late reply),
#: (second request, its reply), what the second read answers)
TTY_CASES: dict[str, tuple[Any, ...]] = {
    "serial-pty": ("serial", SerialLink, TEXT_READ, (b"TEMP?\n", b"180.5\n"), "180.5"),
    "visa-asrl": ("visa", VisaLink, TEXT_READ, (b"TEMP?\n", b"180.5\n"), "180.5"),
    "modbus-rtu-pty": (
        "modbus+rtu",
        ModbusLink,
        RTU_READ,
        (bytes.fromhex("01 03 00 01 00 01 d5 ca"), bytes.fromhex("01 03 02 00 16 39 8a")),
        [22],
    ),
}


async def read_second(link: Link) -> object:
    """The question after the one that timed out (Modbus: another register)."""
    if isinstance(link, ModbusLink):
        return await link.read_holding_registers(1, 1)
    return await read(link)


@pytest.mark.parametrize("moment", ["reopened", "cleared"])
@pytest.mark.parametrize("case", list(TTY_CASES))
async def test_a_late_reply_on_a_tty_does_not_answer_the_next_question(
    monkeypatch, case: str, moment: str
):
    """A tty is the same line after the link reopens it: a tool still answering the exchange
    that timed out sends its reply down that line, here as the port is opened again
    (`reopened`) or once the reopening cleared what the line held (`cleared`). The link drops
    that late reply; the next question gets its own answer."""
    form, link_class, (request, late_reply), second, value = TTY_CASES[case]
    async with expected_protocol([(request, None), second], transport="pty") as peer:
        link = link_class(peer.address(form), tool="oven", timeout_s=0.2, read_retries=0)
        async with link:
            with pytest.raises(ToolTimeout, match=r"no reply within 0\.2 s"):
                await read(link)
            sent: list[bytes] = []
            patched = "open" if moment == "reopened" else "reset_input_buffer"
            step = getattr(serial.Serial, patched)

            def step_then_answer_late(port: serial.Serial) -> None:
                step(port)
                if not sent:
                    sent.append(late_reply)
                    peer.send(late_reply)  # the reply to the first question, late

            monkeypatch.setattr(serial.Serial, patched, step_then_answer_late)
            assert await read_second(link) == value
            assert sent == [late_reply]
