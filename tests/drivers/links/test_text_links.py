"""What every text link (VISA and serial) guarantees, on every transport the simulator offers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from packline import testing
from packline.clock import VirtualClock
from packline.drivers.errors import ConnectionLost, ProtocolError, ToolConnectionError, ToolTimeout
from packline.drivers.links import ReconnectPolicy, SerialLink, TextLink, VisaLink, open_link
from packline.sim_instruments.servers import TextToolServer, ToolServer
from packline.sim_instruments.servers.base import ConnectionChange
from packline.testing.timing import Stopwatch

TRANSPORTS = ["visa-tcp", "visa-asrl", "serial-socket", "serial-pty"]
TCP_TRANSPORTS = ["visa-tcp", "serial-socket"]
#: An address of each transport's form (no tool behind it).
TEXT_ADDRESSES = {
    "visa-tcp": "TCPIP0::127.0.0.1::5025::SOCKET",
    "visa-asrl": "ASRL/dev/pts/7::INSTR",
    "serial-socket": "socket://127.0.0.1:5025",
    "serial-pty": "/dev/pts/7",
}
TIMEOUT_S = 0.4


def meter_link(address: str, **options: object) -> TextLink:
    link = open_link(address, tool="meter", timeout_s=TIMEOUT_S, **options)
    assert isinstance(link, TextLink)
    return link


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_query_and_write(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address) as link:
        assert isinstance(link, VisaLink if transport.startswith("visa") else SerialLink)
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
        await link.write("VOLT 1.5")
        assert await link.query("VOLT?") == "1.5"
        assert await link.query("SYST:ERR?") == '0,"No error"'
    assert meter.received == ["*IDN?", "VOLT 1.5", "VOLT?", "SYST:ERR?"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_timeout_is_tool_timeout_within_the_timeout(start_meter, transport):
    server, _ = await start_meter(transport)
    async with meter_link(server.address) as link:
        watch = Stopwatch()
        with pytest.raises(ToolTimeout, match=r"meter at .*: SILENT\?: no reply within 0.4 s"):
            await link.query("SILENT?")
        assert watch.elapsed_s() < watch.bound_s(TIMEOUT_S + 0.15)
        # The link dropped the connection; the next exchange reconnects and works.
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_stop_mid_exchange_is_connection_lost(start_meter, transport):
    server, _ = await start_meter(transport)
    async with meter_link(server.address, reconnect=ReconnectPolicy(attempts=0)) as link:
        pending = asyncio.create_task(link.query("SILENT?"))
        await asyncio.sleep(0.05)
        watch = Stopwatch()
        await server.stop()
        with pytest.raises(ConnectionLost, match=r"SILENT\?: connection lost"):
            async with asyncio.timeout(2):
                await pending
        assert watch.elapsed_s() < watch.bound_s(TIMEOUT_S)
        assert not link.connected


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_reconnects_when_the_tool_comes_back_on_the_same_port(start_meter, transport):
    server, _ = await start_meter(transport)
    address = server.address
    async with meter_link(address, reconnect=ReconnectPolicy(attempts=3, delay_s=0.05)) as link:
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
        await server.stop()
        with pytest.raises(ConnectionLost):
            await link.query("*IDN?")
        assert await server.start() == address
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


async def end_served_connections(server: ToolServer, ending: str) -> None:
    """The tool ends its connections between two exchanges: `reset`, as a tool power-cycled
    does (it stops, with a reset, and comes back on the same port); `close`, as one that closes
    its end cleanly (FIN) and stays up. Returns once the link's end has been told."""
    assert isinstance(server, TextToolServer)
    if ending == "reset":
        address = server.address
        await server.stop()
        assert await server.start() == address
        return
    ended = asyncio.Event()

    def on_change(address: str, peer: str, change: ConnectionChange) -> None:
        if change is not ConnectionChange.OPENED:
            ended.set()

    server.connection_listeners.append(on_change)
    # The simulator has no way of its own to close a connection it serves.
    for writer in server._connections.values():
        writer.close()
    # Told once the socket is closed, its FIN in the link's socket (loopback): one pass of
    # the loop then lets a link that watches its connection (serial) see it; a VISA link
    # looks when it is next asked.
    await asyncio.wait_for(ended.wait(), 2)
    await asyncio.sleep(0)


@pytest.mark.parametrize("ending", ["reset", "close"])
@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_connection_the_tool_ended_between_exchanges_is_reopened_by_the_next(
    start_meter, transport, ending
):
    """Keepalive (or the tool) ended the connection while the link was idle: the next
    exchange reconnects before it sends, and works, rather than failing on the old one."""
    server, meter = await start_meter(transport)
    async with meter_link(server.address) as link:
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
        await end_served_connections(server, ending)
        assert await link.query("VOLT?") == "0"
        assert link.connected
    assert meter.received == ["*IDN?", "VOLT?"]


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_an_exchange_under_way_when_the_connection_ends_fails_and_is_never_sent_again(
    start_meter, transport
):
    """The command may have reached the tool: its exchange fails, the next one reconnects."""
    server, meter = await start_meter(transport)
    address = server.address
    # A timeout far beyond the wait for the tool to take the command, however loaded.
    async with open_link(address, tool="meter", timeout_s=10.0) as link:
        pending = asyncio.create_task(link.query("SILENT?"))
        await asyncio.wait_for(meter.heard.wait(), 5)
        await server.stop()
        with pytest.raises(ConnectionLost, match=r"SILENT\?: connection lost \("):
            await pending
        assert await server.start() == address
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
    assert meter.received == ["SILENT?", "*IDN?"]


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_tool_that_stays_gone_is_the_error_of_a_first_connect(start_meter, transport):
    """The reconnects of a connection that ended fail as a first connect would, and say so."""
    server, _ = await start_meter(transport)
    policy = ReconnectPolicy(attempts=2, delay_s=0.01)
    async with meter_link(server.address, reconnect=policy) as link:
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
        await server.stop()
        with pytest.raises(ConnectionLost) as lost:
            await link.query("*IDN?")
    with pytest.raises(ToolConnectionError) as refused:
        await meter_link(link.address).connect()
    assert refused.value.detail.startswith("cannot connect (")
    assert lost.value.detail == (
        f"connection lost and 2 reconnect attempt(s) failed: {refused.value.detail}"
    )


@pytest.mark.parametrize(
    "address",
    ["TCPIP0::127.0.0.1::{port}::SOCKET", "socket://127.0.0.1:{port}", "/dev/pts/no-such-port"],
)
async def test_refused_connect_is_tool_connection_error(address, unused_port):
    link = meter_link(address.format(port=unused_port))
    with pytest.raises(ToolConnectionError, match=r"meter at .*: connect: cannot connect"):
        await link.connect()
    assert not link.connected
    with pytest.raises(ToolConnectionError, match="not connected"):
        await link.query("*IDN?")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wire_log(start_meter, transport, caplog):
    server, _ = await start_meter(transport)
    caplog.set_level(logging.DEBUG, logger="packline.wire")
    async with meter_link(server.address) as link:
        await link.query("*IDN?")
    lines = [r.getMessage() for r in caplog.records if r.name == "packline.wire"]
    assert lines == [
        f"meter {server.address} > '*IDN?'",
        f"meter {server.address} < 'ACME,M1,0001,1.0'",
    ]


async def test_wire_log_is_silent_when_off(start_meter, caplog):
    server, _ = await start_meter("serial-socket")
    caplog.set_level(logging.INFO, logger="packline.wire")
    async with meter_link(server.address) as link:
        await link.query("*IDN?")
    assert not [r for r in caplog.records if r.name == "packline.wire"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_concurrent_queries_never_interleave(start_meter, transport):
    server, _ = await start_meter(transport)
    async with meter_link(server.address) as link:
        async with asyncio.timeout(5):
            replies = await asyncio.gather(*(link.query(f"ECHO? {n}") for n in range(20)))
    assert replies == [str(n) for n in range(20)]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_undecodable_reply_is_protocol_error(start_meter, transport):
    server, _ = await start_meter(transport, encoding="latin-1")
    async with meter_link(server.address) as link:
        with pytest.raises(ProtocolError, match=r"BINARY\?: undecodable reply b'\\xff\\n'"):
            await link.query("BINARY?")
        # The line was consumed: the link is still in step.
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_close_twice_and_before_connect(start_meter, transport):
    server, _ = await start_meter(transport)
    link = meter_link(server.address)
    await link.close()
    await link.connect()
    assert link.connected
    await link.close()
    await link.close()
    assert not link.connected


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_custom_terminations(start_meter, transport):
    server, _ = await start_meter(transport, read_termination="\r", write_termination="\r\n")
    async with meter_link(server.address, write_termination="\r", read_termination="\r\n") as link:
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_virtual_clock_stands_still_while_the_link_reconnects(start_meter, transport):
    """Reconnect attempts and their delays are wire time, not process time."""
    server, _ = await start_meter(transport)
    clock = VirtualClock()
    policy = ReconnectPolicy(attempts=2, delay_s=0.1)
    async with meter_link(server.address, clock=clock, reconnect=policy) as link:
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
        await server.stop()
        with pytest.raises(ConnectionLost):
            await link.query("*IDN?")  # the dropped connection: the tool is gone
        sleeper = asyncio.create_task(clock.sleep(100))
        await asyncio.sleep(0)
        with pytest.raises(ConnectionLost, match="2 reconnect attempt"):
            await link.query("*IDN?")  # two refused connects, 0.1 s apart
        assert clock.now() == 0  # the sleeper did not jump over them
        await sleeper
        assert clock.now() == 100


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_idempotent_query_that_stalls_once_is_asked_again(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address, reconnect=ReconnectPolicy(attempts=0)) as link:
        assert await link.query("STALL?", idempotent=True) == "READY"
    assert meter.received == ["STALL?", "STALL?"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_query_is_not_asked_again_unless_it_is_idempotent(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address) as link:
        with pytest.raises(ToolTimeout, match=r"STALL\?: no reply within 0.4 s"):
            await link.query("STALL?")
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"
    assert meter.received == ["STALL?", "*IDN?"]


async def test_without_retries_an_idempotent_query_is_asked_once(start_meter):
    server, meter = await start_meter("serial-socket")
    async with meter_link(server.address, read_retries=0) as link:
        with pytest.raises(ToolTimeout):
            await link.query("STALL?", idempotent=True)
    assert meter.received == ["STALL?"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_held_reply_is_carried_where_the_link_drops_its_connection_when_it_gives_up(transport):
    link = meter_link(TEXT_ADDRESSES[transport])
    assert link.holds_replies is (transport in TCP_TRANSPORTS)


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_virtual_clock_jumps_while_the_tool_holds_the_reply(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address, clock=meter.clock) as link:
        # 100 s of process time, far beyond the 0.4 s timeout: the write is wire time, the
        # hold is not
        assert await link.query("HOLD? 100", held_s=100) == "HELD"
        assert meter.clock.now() == 100
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_reply_not_held_stops_the_clock_until_the_timeout(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address, clock=meter.clock) as link:
        with pytest.raises(ToolTimeout, match=r"HOLD\? 100: no reply within 0.4 s$"):
            await link.query("HOLD? 100")
        assert meter.clock.now() == 0


@pytest.mark.parametrize("transport", TCP_TRANSPORTS)
async def test_a_held_reply_times_out_after_the_hold_and_the_timeout(start_meter, transport):
    server, meter = await start_meter(transport)
    async with meter_link(server.address, clock=meter.clock) as link:
        watch = Stopwatch()
        with pytest.raises(ToolTimeout, match=r"SILENT\?: no reply within 0.4 s after 5 s held"):
            await link.query("SILENT?", held_s=5)
        assert meter.clock.now() == 5
        assert TIMEOUT_S <= watch.elapsed_s() < watch.bound_s(TIMEOUT_S + 0.15)
        assert await link.query("*IDN?") == "ACME,M1,0001,1.0"


async def test_a_query_in_memory_goes_on_in_the_pass_its_reply_arrives_in(start_meter):
    """On a dry run's wires in memory, the serial link's task goes on in the pass its reply is
    delivered in (as the Modbus link's, decision 0075), and the tool answers in the pass the
    line is delivered in (docs/decisions/0089): two passes of the loop from the query written
    to its reply in hand (the request's delivery and answer, the reply's delivery), where
    there were four, then three."""
    clock = VirtualClock(wires_in_memory=True)
    server, _ = await start_meter("serial-socket", clock=clock)
    async with meter_link(server.address, clock=clock) as link:
        await link.write("VOLT 5")
        with testing.counting_loop_passes() as passes:
            await link.query("VOLT?")
        assert passes == [2]
