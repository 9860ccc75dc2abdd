"""The GEM host driver's faults: each a clear error within its timeout, the tool left safe."""

from __future__ import annotations

import asyncio
import contextlib
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packline.drivers.equipment import ToolState
from packline.drivers.errors import (
    CommandRefused,
    ConnectionLost,
    ProtocolError,
    ToolTimeout,
)
from packline.drivers.gem.host import GemHost
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.drivers.secs.hsms import HsmsLink, HsmsTimers
from packline.drivers.secs.items import Item
from packline.drivers.secs.messages import SecsMessage

from ..secs.test_items import items

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)
_FRAME = struct.Struct(">IHBBBBI")


async def bumping(bench, bonder) -> asyncio.Task:
    """Start a whole-wafer run in a task; return once the equipment has accepted it."""
    bench.twin.receive("W01")
    await bonder.load("W01")
    accepted = asyncio.Event()
    command = bench.model.command

    async def spy(name: str, parameters) -> int:
        hcack = await command(name, parameters)
        if name == "start":
            accepted.set()
        return hcack

    bench.model.command = spy
    run = asyncio.create_task(bonder.form_stud_bumps(PROGRAM))
    async with asyncio.timeout(5):
        await accepted.wait()
    return run


async def test_link_lost_mid_job_fails_the_run_at_once_and_faults_the_tool(bench) -> None:
    bonder = await bench.driver(reconnect={"attempts": 0, "delay_s": 0})
    run = await bumping(bench, bonder)
    connection = bench.equipment.link._connection
    connection.transport.abort()  # the cable is pulled: no separate, the TCP connection ends
    with pytest.raises(ConnectionLost, match="form stud bumps: connection closed by the peer"):
        async with asyncio.timeout(5):
            await run
    assert bonder.state is ToolState.FAULT


async def test_a_separate_from_the_tool_mid_job_ends_the_wait(bench) -> None:
    bonder = await bench.driver(reconnect={"attempts": 0, "delay_s": 0})
    run = await bumping(bench, bonder)
    assert bench.equipment.link is not None
    await bench.equipment.link.separate()
    with pytest.raises(ConnectionLost, match="form stud bumps: separated by the peer"):
        async with asyncio.timeout(5):
            await run
    assert bonder.state is ToolState.FAULT


async def test_a_remote_command_without_reply_is_a_t3_timeout(bench) -> None:
    bonder = await bench.driver(timeout_s=0.3)
    bench.twin.receive("W01")
    hang = asyncio.Event()

    async def never(name: str, parameters) -> int:
        await hang.wait()
        return 0

    bench.model.command = never
    with pytest.raises(ToolTimeout, match=r"S2F41: no reply within T3 = 0.3 s"):
        async with asyncio.timeout(5):
            await bonder.load("W01")
    hang.set()


async def test_an_event_that_never_comes_times_out_and_aborts(bench) -> None:
    bonder = await bench.driver()
    bench.twin.receive("W01")
    await bonder.load("W01")
    bench.equipment.enabled_events.clear()  # the tool forgets to report
    with pytest.raises(ToolTimeout, match="run of 784 sites not ended after 30 s; aborted"):
        await bonder.form_stud_bumps(PROGRAM, timeout_s=30)
    assert "S2F41 ABORT" in bench.equipment.received
    assert bonder.state is ToolState.IDLE


# --- a raw HSMS peer ----------------------------------------------------------------------------


@pytest.fixture
def raw_equipment(raw_server):
    """A raw HSMS peer: it selects, then answers each data message with `answer(header, system)`."""

    async def start(answer) -> int:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                length = int.from_bytes(await reader.readexactly(4), "big")
                header = await reader.readexactly(length)
                session, _, _, _, stype, system = struct.unpack(">HBBBBI", header[:10])
                if stype == 1:  # select.req -> select.rsp, selected
                    writer.write(_FRAME.pack(10, session, 0, 0, 0, 2, system))
                elif stype == 0:
                    writer.write(answer(header[:10], system))
                await writer.drain()

        return await raw_server(script)

    return start


async def host_on(port: int) -> GemHost:
    link = HsmsLink(port=port, tool="tool", timers=HsmsTimers(t3_s=1, t6_s=1))
    await link.connect()
    return GemHost(link)


async def test_a_reject_from_the_tool_is_a_protocol_error(raw_equipment) -> None:
    port = await raw_equipment(lambda header, system: _FRAME.pack(10, 0xFFFF, 0, 4, 0, 7, system))
    host = await host_on(port)
    try:
        with pytest.raises(ProtocolError, match="S1F13: rejected by the peer: entity not selected"):
            await host.establish_communication()
    finally:
        await host.link.close()


async def test_an_s9_error_from_the_tool_is_a_protocol_error(raw_equipment) -> None:
    def s9f5(header: bytes, system: int) -> bytes:
        body = bytes([0x21, 10]) + header  # B[10]: the header of the message complained of
        return _FRAME.pack(10 + len(body), 0, 9, 5, 0, 0, 0x1234) + body

    host = await host_on(await raw_equipment(s9f5))
    try:
        with pytest.raises(ProtocolError, match="S1F13: S9F5 unrecognized function from the peer"):
            await host.establish_communication()
    finally:
        await host.link.close()


# --- every reply and every pushed message of any shape: a protocol error at worst ---------------


class ReplyingLink:
    """A stand-in for the HSMS link that answers every request with the body it is given."""

    tool = "tool"
    address = "hsms://test:0"

    def __init__(self) -> None:
        self.body: Item | None = None
        self.on_message = None

    async def request(self, message: SecsMessage) -> SecsMessage:
        return SecsMessage(message.stream, message.function + 1, self.body)


CALLS = [
    lambda host: host.are_you_there(),
    lambda host: host.establish_communication(),
    lambda host: host.request_online(),
    lambda host: host.request_status_variables([1, 2]),
    lambda host: host.request_status_variable_namelist(),
    lambda host: host.set_equipment_constants({}),
    lambda host: host.request_equipment_constant_namelist(),
    lambda host: host.request_clock(),
    lambda host: host.define_reports({1: [2]}),
    lambda host: host.send_remote_command("START"),
    lambda host: host.request_alarm_list(),
    lambda host: host.request_process_program("P1"),
    lambda host: host.request_process_program_list(),
]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=st.one_of(st.none(), items()), call=st.sampled_from(CALLS))
def test_any_reply_body_is_a_value_or_a_protocol_error(body: Item | None, call) -> None:
    link = ReplyingLink()
    link.body = body
    host = GemHost(link)  # type: ignore[arg-type]
    with contextlib.suppress(ProtocolError, CommandRefused):
        asyncio.run(call(host))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=st.one_of(st.none(), items()), key=st.sampled_from([(5, 1), (6, 11), (10, 1)]))
def test_any_pushed_body_is_acknowledged_and_never_raises(body: Item | None, key) -> None:
    host = GemHost(ReplyingLink())  # type: ignore[arg-type]
    seen: list[object] = []
    host.add_event_listener(seen.append)
    host.add_alarm_listener(seen.append)
    message = SecsMessage(*key, body, reply_expected=True)
    reply = asyncio.run(host._on_message(message))
    assert reply is not None
    assert (reply.stream, reply.function) == (key[0], key[1] + 1)
    assert reply.body is not None
    assert reply.body.value in (b"\x00", b"\x01")
    assert bool(seen) == (reply.body.value == b"\x00" and key != (10, 1))
