"""ModbusLink against the simulated mixer over Modbus TCP, RTU over TCP, and RTU on a pty."""

from __future__ import annotations

import asyncio
import logging

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.errors import (
    CommandRefused,
    ConnectionLost,
    ProtocolError,
    ToolConnectionError,
    ToolTimeout,
)
from packline.drivers.links import ModbusLink, ReconnectPolicy, open_link
from packline.testing import expected_protocol
from packline.testing.modbus_frames import frame, read
from packline.testing.timing import Stopwatch

TRANSPORTS = ["tcp", "rtu-tcp", "rtu-pty"]
TIMEOUT_S = 0.4


def mixer_link(address: str, **options: object) -> ModbusLink:
    link = open_link(address, tool="mixer", timeout_s=TIMEOUT_S, **options)
    assert isinstance(link, ModbusLink)
    return link


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_registers_coils_and_inputs(start_mixer, transport):
    server, mixer = await start_mixer(transport)
    async with mixer_link(server.address) as link:
        await link.write_registers(100, [1, 2, 3])
        await link.write_register(103, 0xBEEF)
        assert await link.read_holding_registers(100, 4) == [1, 2, 3, 0xBEEF]
        assert await link.read_input_registers(101, 2) == [2, 3]
        await link.write_coil(0, True)
        assert await link.read_coils(0, 3) == [True, False, False]
        assert await link.read_discrete_inputs(0, 2) == [True, False]
    assert mixer.writes[:2] == [(100, [1, 2, 3]), (103, [0xBEEF])]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_device_identification(start_mixer, transport):
    server, _ = await start_mixer(transport)
    async with mixer_link(server.address) as link:
        identity = await link.read_device_identification()
    assert identity == {
        "vendor_name": "ACME",
        "product_code": "MX-2",
        "revision": "2.1",
        "model_name": "Mixer 2000",
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_exception_response_is_command_refused(start_mixer, transport):
    server, _ = await start_mixer(transport)
    async with mixer_link(server.address) as link:
        with pytest.raises(CommandRefused) as refused:
            await link.write_registers(300, [3])
        assert refused.value.code == "ILLEGAL_DATA_VALUE"
        assert refused.value.action == "write_registers 300 [3]"
        assert "code 3" in str(refused.value)
        with pytest.raises(CommandRefused, match="ILLEGAL_DATA_ADDRESS"):
            await link.read_holding_registers(50, 1)
        # A refusal is an answer: the connection stays up.
        assert await link.read_holding_registers(300, 1) == [0]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_timeout_is_tool_timeout_within_the_timeout(start_mixer, transport):
    server, mixer = await start_mixer(transport)
    # One attempt: a read that got no reply is otherwise asked again (see below).
    async with mixer_link(server.address, read_retries=0) as link:
        watch = Stopwatch()
        with pytest.raises(ToolTimeout, match="read_holding_registers 399 1: no reply within"):
            await link.read_holding_registers(399, 1)
        assert watch.elapsed_s() < watch.bound_s(TIMEOUT_S + 0.15)
        mixer.release.set()
        await asyncio.sleep(0.05)  # the late reply arrives on the dropped connection
        assert await link.read_holding_registers(100, 1) == [0]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_stop_mid_exchange_is_connection_lost(start_mixer, transport):
    server, _ = await start_mixer(transport)
    async with mixer_link(server.address, reconnect=ReconnectPolicy(attempts=0)) as link:
        pending = asyncio.create_task(link.read_holding_registers(399, 1))
        await asyncio.sleep(0.05)
        watch = Stopwatch()
        await server.stop()
        with pytest.raises(ConnectionLost, match="read_holding_registers 399 1: connection lost"):
            async with asyncio.timeout(2):
                await pending
        assert watch.elapsed_s() < watch.bound_s(TIMEOUT_S)


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_reconnects_when_the_tool_comes_back_on_the_same_port(start_mixer, transport):
    server, _ = await start_mixer(transport)
    address = server.address
    async with mixer_link(address, reconnect=ReconnectPolicy(attempts=3, delay_s=0.05)) as link:
        await link.write_register(100, 7)
        await server.stop()
        await asyncio.sleep(0.05)  # the link sees the connection close while idle
        with pytest.raises(ConnectionLost, match="reconnect attempt"):
            await link.read_holding_registers(100, 1)
        assert await server.start() == address
        assert await link.read_holding_registers(100, 1) == [7]


@pytest.mark.parametrize(
    "address", ["modbus+tcp://127.0.0.1:{port}", "modbus+rtu:socket://127.0.0.1:{port}"]
)
async def test_refused_connect_is_tool_connection_error(address, unused_port):
    link = mixer_link(address.format(port=unused_port))
    with pytest.raises(ToolConnectionError, match=r"mixer at .*: connect: cannot connect"):
        await link.connect()
    await link.close()


async def test_missing_serial_port_is_tool_connection_error(tmp_path):
    link = mixer_link(f"modbus+rtu:{tmp_path / 'ttyNONE'}")
    with pytest.raises(ToolConnectionError, match="cannot connect"):
        await link.connect()


@pytest.mark.parametrize("transport", ["tcp", "rtu-pty"])
async def test_wire_log_shows_the_frames(start_mixer, transport, caplog):
    server, _ = await start_mixer(transport)
    caplog.set_level(logging.DEBUG, logger="packline.wire")
    async with mixer_link(server.address) as link:
        await link.read_holding_registers(100, 1)
    lines = [r.getMessage() for r in caplog.records if r.name == "packline.wire"]
    if transport == "tcp":
        request = b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x64\x00\x01"
        reply = b"\x00\x01\x00\x00\x00\x05\x01\x03\x02\x00\x00"
    else:
        request = b"\x01\x03\x00\x64\x00\x01\xc5\xd5"
        reply = b"\x01\x03\x02\x00\x00\xb8\x44"
    assert lines == [
        f"mixer {server.address} > {request!r}",
        f"mixer {server.address} < {reply!r}",
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_concurrent_requests_never_interleave(start_mixer, transport):
    server, _ = await start_mixer(transport)
    async with mixer_link(server.address) as link:
        await link.write_registers(100, list(range(1, 21)))
        async with asyncio.timeout(5):
            values = await asyncio.gather(
                *(link.read_holding_registers(100 + n) for n in range(20))
            )
    assert values == [[n + 1] for n in range(20)]


async def test_line_settings(start_mixer):
    server, _ = await start_mixer("rtu-pty", baudrate=9600, stopbits=2)
    link = mixer_link(server.address, device_id=1, baudrate=9600, parity="N", stopbits=2)
    async with link:
        assert await link.read_holding_registers(100, 1) == [0]


async def test_close_twice_and_before_connect(start_mixer):
    server, _ = await start_mixer("tcp")
    link = mixer_link(server.address)
    await link.close()
    async with link:
        assert link.connected
    await link.close()
    assert not link.connected


async def test_line_settings_the_port_refuses_are_tool_connection_error(start_mixer):
    server, _ = await start_mixer("rtu-pty")
    # A pty has no parity generator: the kernel refuses the setting, as some adapters do.
    with pytest.raises(ToolConnectionError, match="cannot connect"):
        await mixer_link(server.address, parity="E").connect()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match=r"device_id must be 0\.\.255"):
        ModbusLink("modbus+tcp://127.0.0.1:502", device_id=300)
    with pytest.raises(ValueError, match=r"parity must be one of N, E, O \(did you mean 'E'\?\)"):
        ModbusLink("modbus+rtu:/dev/ttyUSB0", parity="e")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda link: link.write_register(100, 70000),
            r"write_register 100 70000: values \[70000\]",
        ),
        (lambda link: link.write_registers(100, [1, -1]), r"values \[-1\] are not unsigned 16-bit"),
        (lambda link: link.write_registers(100, []), "0 registers or bits; one request carries"),
        (lambda link: link.read_holding_registers(-1, 1), "address -1 is not 0-65535"),
        (lambda link: link.read_input_registers(100, 126), "carries 1-125"),
        (lambda link: link.read_holding_registers(65535, 2), "runs past address 65535"),
        (lambda link: link.read_coils(0, 2001), "carries 1-2000"),
    ],
)
async def test_a_request_modbus_cannot_carry_is_refused_before_anything_is_sent(
    start_mixer, call, message
):
    server, mixer = await start_mixer("tcp")
    async with mixer_link(server.address) as link:
        with pytest.raises(ValueError, match=rf"mixer at modbus\+tcp://.*{message}"):
            await call(link)
        assert mixer.writes == []
        assert await link.read_holding_registers(100, 1) == [0]  # still in step


async def test_a_cancelled_exchange_reopens_even_without_reconnect_attempts(start_mixer):
    """The link dropped the connection itself; the abort that follows must still get through."""
    server, mixer = await start_mixer("tcp")
    async with mixer_link(server.address, reconnect=ReconnectPolicy(attempts=0)) as link:
        held = asyncio.create_task(link.read_holding_registers(399, 1))
        await asyncio.sleep(0.05)
        held.cancel()
        with pytest.raises(asyncio.CancelledError):
            await held
        assert not link.connected
        await link.write_register(100, 4)  # e.g. the ABORT command
        assert mixer.writes[-1] == (100, [4])
        mixer.release.set()
        await server.stop()
        await asyncio.sleep(0.05)
        # a connection the tool dropped stays lost with attempts=0
        with pytest.raises(ConnectionLost, match="0 reconnect attempt"):
            await link.read_holding_registers(100, 1)


def test_link_options_are_checked_and_the_reconnect_policy_may_be_a_mapping():
    link = ModbusLink("modbus+tcp://127.0.0.1:502", reconnect={"attempts": 5, "delay_s": 0.5})
    assert link.reconnect == ReconnectPolicy(attempts=5, delay_s=0.5)
    with pytest.raises(ValueError, match="reconnect takes attempts and delay_s, not tries"):
        ModbusLink("modbus+tcp://127.0.0.1:502", reconnect={"tries": 5})
    with pytest.raises(ValueError, match=r"127\.0\.0\.1:502: ReconnectPolicy.attempts must be"):
        ModbusLink("modbus+tcp://127.0.0.1:502", reconnect={"attempts": -1})
    with pytest.raises(TypeError, match="reconnect must be a ReconnectPolicy or a mapping"):
        ModbusLink("modbus+tcp://127.0.0.1:502", reconnect=3)
    for bad in ("2", float("nan"), 0, -1.0, True):
        with pytest.raises(ValueError, match="timeout_s must be a positive number of seconds"):
            ModbusLink("modbus+tcp://127.0.0.1:502", timeout_s=bad)
    with pytest.raises(ValueError, match="connect_timeout_s must be a positive number"):
        ModbusLink("modbus+tcp://127.0.0.1:502", connect_timeout_s=float("inf"))


# ---- one stalled read is asked again; a write never is --------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_a_read_that_stalls_once_is_asked_again(start_mixer, transport):
    """A PLC that stalls longer than the timeout once (3 s against 2 s on the line): it
    answers once it is asked again, never before the link gave the first request up."""
    server, mixer = await start_mixer(transport)
    mixer.stall_once = True
    # Even with no reconnect attempts: the link dropped the connection itself.
    async with mixer_link(server.address, reconnect=ReconnectPolicy(attempts=0)) as link:
        watch = Stopwatch()
        assert await link.read_holding_registers(399, 1) == [0]
        assert watch.elapsed_s() > TIMEOUT_S  # the first request was given up
    assert mixer.requests == [("read", 399), ("read", 399)]


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_a_write_that_stalls_is_never_sent_twice(start_mixer, transport):
    server, mixer = await start_mixer(transport)
    async with mixer_link(server.address) as link:
        with pytest.raises(ToolTimeout, match=r"write_register 399 5: no reply within 0\.4 s"):
            await link.write_register(399, 5)
        # The link carries on while the tool still stalls on the write it gave up.
        assert await link.read_holding_registers(100, 1) == [0]
    assert mixer.requests == [("write", 399), ("read", 100)]


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_a_held_read_write_lets_the_clock_jump_and_is_never_sent_twice(
    start_mixer, transport
):
    """FC23 writes, then reads, in one request; held (`held_s`), its reply is due within
    `held_s` of the clock's time, then `timeout_s` of wall time (a PLC's held status read)."""
    server, mixer = await start_mixer(transport)
    clock = VirtualClock()
    async with mixer_link(server.address, clock=clock) as link:
        assert await link.read_write_registers(200, 2, 201, [7]) == [0, 7]
        with pytest.raises(ToolTimeout, match=r"no reply within 0\.4 s after 30 s held"):
            await link.read_write_registers(100, 1, 399, [5], held_s=30)
        assert clock.now() == 30  # the clock jumped while the tool held the reply
    assert mixer.requests == [("write", 201), ("read", 200), ("write", 399)]


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_an_idempotent_held_read_write_that_stalls_once_is_asked_again(
    start_mixer, transport
):
    """A PLC's held status read writes only its own hold block (`idempotent=True`): a
    request that got no reply within the hold and the timeout is asked again, as a read is."""
    server, mixer = await start_mixer(transport)
    mixer.stall_once = True
    clock = VirtualClock()
    async with mixer_link(server.address, clock=clock) as link:
        assert await link.read_write_registers(399, 1, 399, [5], idempotent=True, held_s=30) == [5]
        assert clock.now() == 30  # the first request was held to its end, then given up
    assert mixer.requests == [("write", 399), ("write", 399), ("read", 399)]


@pytest.mark.parametrize(
    ("address", "holds"),
    [
        ("modbus+tcp://127.0.0.1:502", True),
        ("modbus+rtu:socket://127.0.0.1:4001", False),  # a serial device server: one RS-485 line
        ("modbus+rtu:/dev/ttyUSB0", False),
    ],
)
def test_only_modbus_tcp_carries_a_held_reply(address, holds):
    assert mixer_link(address).holds_replies is holds


async def test_a_silent_tool_is_lost_after_the_retries(start_mixer):
    server, mixer = await start_mixer("tcp")
    async with mixer_link(server.address, read_retries=2) as link:
        watch = Stopwatch()
        with pytest.raises(ToolTimeout, match=r"read_input_registers 399 1: no reply within"):
            await link.read_input_registers(399, 1)
        assert watch.elapsed_s() < watch.bound_s(3 * TIMEOUT_S + 0.3)
    assert mixer.requests == [("read", 399)] * 3


@pytest.mark.parametrize("bad", [-1, 4, 1.0, True, "1"])
def test_read_retries_is_checked(bad):
    message = r"mixer at .*: read_retries must be a whole number 0\.\.3"
    with pytest.raises(ValueError, match=message):
        ModbusLink("modbus+tcp://127.0.0.1:502", tool="mixer", read_retries=bad)


# ---- garbled, corrupt and incomplete replies ------------------------------------------------

REQUEST, REPLY = read(1, 100, [7])  # FC3 of register 100, transaction 1, unit 1
RTU_REQUEST = b"\x01\x03\x00\x64\x00\x01\xc5\xd5"

GARBLED_REPLIES = {
    # name: (address form, request, reply, what the error says)
    "garbage": ("modbus+tcp", REQUEST, b"\xde\xad\xbe\xef" * 4, "garbled or incomplete reply"),
    "another transaction": (
        "modbus+tcp",
        REQUEST,
        read(9, 100, [7])[1],
        "garbled or incomplete reply",
    ),
    "another unit": ("modbus+tcp", REQUEST, read(1, 100, [7], unit=2)[1], "garbled or incomplete"),
    "truncated": ("modbus+tcp", REQUEST, REPLY[:-1], r"incomplete reply: .* only 10 byte\(s\)"),
    "unknown function": ("modbus+tcp", REQUEST, frame(1, b"\x63\x00"), "undecodable reply"),
    "too many registers": (
        "modbus+tcp",
        REQUEST,
        frame(1, b"\x03\x04\x00\x07\x00\x08"),
        "corrupt reply: it carries 2 registers where 1 were expected",
    ),
    "bad crc": ("modbus+rtu", RTU_REQUEST, b"\x01\x03\x02\x00\x07\x00\x00", "garbled or"),
}


@pytest.mark.parametrize("case", GARBLED_REPLIES)
async def test_a_garbled_reply_is_a_protocol_error_and_pymodbus_prints_nothing(
    case, capsys, caplog
):
    form, request, reply, message = GARBLED_REPLIES[case]
    async with (
        expected_protocol([(request, reply)]) as peer,
        mixer_link(peer.address(form)) as link,
    ):
        with pytest.raises(ProtocolError, match=message) as raised:
            await link.read_holding_registers(100, 1)
    assert "no reply within" not in str(raised.value)
    assert str(raised.value).startswith("mixer at modbus+")
    # Neither pymodbus's hex dumps and "Skipping" lines nor the event loop's error handler.
    assert capsys.readouterr().err == ""
    # pymodbus's lines stop at its own logger, which passes nothing up to the root (pytest 9.2
    # and later show caplog those of non-propagating loggers too, so they are left out here)
    assert not logging.getLogger("pymodbus").propagate
    others = [r for r in caplog.records if not r.name.startswith("pymodbus")]
    assert [r.getMessage() for r in others if r.levelno >= logging.WARNING] == []


async def test_pymodbus_log_lines_go_to_the_wire_log(caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="packline.wire")
    async with (
        expected_protocol([(REQUEST, b"\xde\xad\xbe\xef" * 4)]) as peer,
        mixer_link(peer.address("modbus+tcp")) as link,
    ):
        with pytest.raises(ProtocolError):
            await link.read_holding_registers(100, 1)
    wire = [r.getMessage() for r in caplog.records if r.name == "packline.wire"]
    assert any(line.startswith("pymodbus ERROR Invalid Modbus protocol id") for line in wire)
    assert capsys.readouterr().err == ""


async def test_a_request_may_address_another_device_on_the_line():
    """One link, several unit ids (an oven's zone controllers on its RS-485 line); a unit id
    that is not one is refused before anything is sent."""
    script = [read(1, 0, [7], unit=1), read(2, 0, [9], unit=5)]
    async with (
        expected_protocol(script) as peer,
        ModbusLink(peer.address("modbus+tcp"), tool="oven") as link,
    ):
        assert await link.read_holding_registers(0) == [7]
        assert await link.read_holding_registers(0, device_id=5) == [9]
        for bad in (-1, 256, True):
            with pytest.raises(ValueError, match=r"oven at .*: device_id must be 0..255"):
                await link.write_register(0, 1, device_id=bad)


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
async def test_a_poll_in_memory_takes_two_passes_of_the_loop(start_mixer, transport):
    """On a dry run's wires in memory, a read alone goes on in the pass its reply arrives in,
    and the tool answers in the pass the request arrives in (decision 0075): two passes of the
    loop from the request written to the registers in hand, where there were four."""
    clock = VirtualClock(wires_in_memory=True)
    server, _ = await start_mixer(transport, clock=clock)
    async with mixer_link(server.address, clock=clock) as link:
        await link.write_registers(100, [7])
        with testing.counting_loop_passes() as passes:
            assert await link.read_holding_registers(100, 1) == [7]
        assert passes == [2]
