"""The HSMS-SS link: against secsgem both ways, against itself, and against raw bytes for faults."""

from __future__ import annotations

import asyncio
import logging
import select
import struct

import pytest
import secsgem.gem

from packline.clock import WallClock
from packline.drivers.errors import (
    ConnectionLost,
    ProtocolError,
    ToolConnectionError,
    ToolTimeout,
)
from packline.drivers.secs.hsms import HsmsLink, HsmsTimers, LinkState, UnrecognizedStream
from packline.drivers.secs.items import U4, A, B, L, encode
from packline.drivers.secs.messages import SecsMessage
from packline.testing.timing import Stopwatch

from .conftest import HANG_GUARD_TIMERS, SECSGEM_HANG_GUARD_S

S1F1 = SecsMessage(1, 1, reply_expected=True)

_FRAME = struct.Struct(">IHBBBBI")


def frame(
    stype: int,
    system: int,
    *,
    session: int = 0xFFFF,
    byte2: int = 0,
    byte3: int = 0,
    ptype: int = 0,
    body: bytes = b"",
) -> bytes:
    """One HSMS message: length, the 10-byte header, body."""
    return _FRAME.pack(10 + len(body), session, byte2, byte3, ptype, stype, system) + body


async def read_frame(reader: asyncio.StreamReader) -> tuple[tuple[int, ...], bytes]:
    """(session, byte2, byte3, ptype, stype, system), body — within 2 s."""
    async with asyncio.timeout(2):
        length = int.from_bytes(await reader.readexactly(4), "big")
        data = await reader.readexactly(length)
    return struct.unpack(">HBBBBI", data[:10]), data[10:]


# --- secsgem as the independent peer ---------------------------------------------------------


async def test_secsgem_host_selects_packline_equipment(start_equipment, secsgem_host) -> None:
    equipment = await start_equipment(timers=HANG_GUARD_TIMERS)
    host = await secsgem_host(equipment.port)
    await equipment.wait_selected(timeout_s=SECSGEM_HANG_GUARD_S)
    # secsgem's host sends S1F13 on select; packline's equipment answers S1F14.
    assert await asyncio.to_thread(host.waitfor_communicating, SECSGEM_HANG_GUARD_S)
    reply = await asyncio.to_thread(host.are_you_there)
    decoded = host.settings.streams_functions.decode(reply)
    assert (reply.header.stream, reply.header.function) == (1, 2)
    assert decoded.get() == ["PKL-EQ", "1.0"]
    # And the other way: an unsolicited S1F1 from the equipment, answered by secsgem's host.
    assert (await equipment.request(S1F1)).name == "S1F2"


async def test_packline_host_talks_to_secsgem_equipment(secsgem_equipment) -> None:
    equipment, host = await secsgem_equipment(secsgem.gem.GemEquipmentHandler)
    established = await host.request(SecsMessage(1, 13, L(), reply_expected=True))
    assert established.body is not None
    commack, model = established.body
    assert commack == B(b"\x00")
    assert model == L(A(equipment._mdln), A(equipment._softrev))

    identity = await host.request(S1F1)
    assert identity.body == L(A(equipment._mdln), A(equipment._softrev))

    clock_svid = 1001  # secsgem's equipment handler: SVID 1001 is its clock
    status = await host.request(SecsMessage(1, 3, L(U4(clock_svid)), reply_expected=True))
    assert status.name == "S1F4"
    assert len(status.body) == 1  # type: ignore[arg-type]


async def test_secsgem_equipment_reaches_packline_host_handler(secsgem_equipment) -> None:
    received: list[str] = []

    async def on_message(message: SecsMessage) -> SecsMessage | None:
        received.append(message.name)
        return SecsMessage(1, 14, L(B(b"\x00"), L())) if message.function == 13 else None

    equipment, _ = await secsgem_equipment(secsgem.gem.GemEquipmentHandler, on_message=on_message)
    # secsgem's equipment sends S1F13 when selected: an unsolicited primary for the host.
    assert await asyncio.to_thread(equipment.waitfor_communicating, SECSGEM_HANG_GUARD_S)
    assert received == ["S1F13"]


# --- transactions -----------------------------------------------------------------------------


async def test_many_transactions_open_at_once_each_get_their_reply(
    start_equipment, host_of
) -> None:
    """Ten requests open at once, answered in the reverse of the order they were asked in,
    each reply reaching its own request. The equipment answers none before all ten are in,
    so they are open together on any machine (sleeps of 10-100 ms had ordered them, and a
    loaded machine's stall could answer them in order or past the 0.3 s T3 of `FAST`), and
    the timers are hang guards: the test measures what the exchanges carry, not a timer."""
    count = 10
    arrived: list[int] = []
    all_in = asyncio.Event()
    answered = [asyncio.Event() for _ in range(count)] + [all_in]
    order: list[int] = []

    async def last_asked_answered_first(message: SecsMessage) -> SecsMessage:
        number = int(message.body.scalar)  # type: ignore[union-attr]
        arrived.append(number)
        if len(arrived) == count:
            all_in.set()
        async with asyncio.timeout(SECSGEM_HANG_GUARD_S):
            await answered[number + 1].wait()
        order.append(number)
        answered[number].set()
        return SecsMessage(2, 26, message.body)

    equipment = await start_equipment(
        on_message=last_asked_answered_first, timers=HANG_GUARD_TIMERS
    )
    host = await host_of(equipment.port, timers=HANG_GUARD_TIMERS)
    replies = await asyncio.gather(
        *(host.request(SecsMessage(2, 25, U4(n), reply_expected=True)) for n in range(count))
    )
    assert [reply.body for reply in replies] == [U4(n) for n in range(count)]
    assert order == list(reversed(range(count)))


async def test_send_without_reply_reaches_the_handler(start_equipment, host_of) -> None:
    arrived = asyncio.Event()

    async def on_message(message: SecsMessage) -> None:
        assert message.name == "S10F1"
        arrived.set()

    equipment = await start_equipment(on_message=on_message)
    host = await host_of(equipment.port)
    await host.send(SecsMessage(10, 1, L(B(b"\x00"), A("hello"))))
    async with asyncio.timeout(2):
        await arrived.wait()


async def test_request_and_send_check_the_w_bit(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    with pytest.raises(ValueError, match="S1F1: request\\(\\) needs the W-bit"):
        await host.request(SecsMessage(1, 1))
    with pytest.raises(ValueError, match="send\\(\\) takes no W-bit"):
        await host.send(S1F1)


async def test_an_unhandled_request_is_answered_with_s9f5(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    with pytest.raises(ProtocolError, match="S7F19: S9F5 unrecognized function from the peer"):
        await host.request(SecsMessage(7, 19, reply_expected=True))


async def test_a_stream_the_handler_does_not_know_is_answered_with_s9f3(
    start_equipment, host_of
) -> None:
    """E5: an unrecognized stream is S9F3, with the request's header, which only the link
    has: the handler says so by raising `UnrecognizedStream`."""

    async def on_message(message: SecsMessage) -> SecsMessage:
        raise UnrecognizedStream(message.name)

    equipment = await start_equipment(on_message=on_message)
    host = await host_of(equipment.port)
    with pytest.raises(ProtocolError, match="S99F1: S9F3 unrecognized stream from the peer"):
        await host.request(SecsMessage(99, 1, reply_expected=True))


async def test_a_wrong_device_id_is_answered_with_s9f1(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port, session_id=7)
    with pytest.raises(ProtocolError, match="S9F1 unrecognized device id"):
        await host.request(S1F1)


async def test_a_reply_of_another_function_is_a_protocol_error(start_equipment, host_of) -> None:
    async def wrong(message: SecsMessage) -> SecsMessage:
        return SecsMessage(1, 4)

    equipment = await start_equipment(on_message=wrong)
    host = await host_of(equipment.port)
    with pytest.raises(ProtocolError, match="the reply is S1F4, expected S1F2"):
        await host.request(S1F1)


async def test_an_abort_reply_is_a_protocol_error(start_equipment, host_of) -> None:
    async def abort(message: SecsMessage) -> SecsMessage:
        return SecsMessage(1, 0)

    equipment = await start_equipment(on_message=abort)
    host = await host_of(equipment.port)
    with pytest.raises(ProtocolError, match=r"the peer aborted the transaction \(S1F0\)"):
        await host.request(S1F1)


# --- control messages -------------------------------------------------------------------------


async def test_linktest_and_periodic_linktest(start_equipment, host_of, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="packline.wire")
    equipment = await start_equipment()
    host = await host_of(equipment.port, timers=HsmsTimers(t6_s=1, linktest_s=0.02))
    await host.linktest()
    await asyncio.sleep(0.15)
    sent = [r.message for r in caplog.records if "host" in r.message and "> [" in r.message]
    assert sum("linktest.req" in line for line in sent) >= 3
    assert host.selected


async def test_deselect_then_the_next_request_selects_again(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    await host.deselect()
    assert host.state is LinkState.NOT_SELECTED
    await asyncio.sleep(0.01)
    assert equipment.state is LinkState.NOT_SELECTED
    assert (await host.request(S1F1)).name == "S1F2"
    assert equipment.selected


async def test_the_wire_log_shows_every_message_in_sml(start_equipment, host_of, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="packline.wire")
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    await host.request(SecsMessage(2, 25, L(U4(1), A("x")), reply_expected=True))
    lines = [r.message for r in caplog.records if r.message.startswith("host ")]
    assert any("> [00000001] select.req" in line for line in lines)
    assert any('S2F25 W\n<L [2]\n  <U4 1>\n  <A "x">\n> .' in line for line in lines)
    assert any("< [00000002] S2F26" in line for line in lines)


# --- faults, each a clear error within its timeout ------------------------------------------


async def test_t3_no_reply_in_time(start_equipment, host_of, fast_timers) -> None:
    async def silent_on_s2f25(message: SecsMessage) -> SecsMessage | None:
        if message.function == 25:
            await asyncio.sleep(30)
        return SecsMessage(1, 2, L())

    equipment = await start_equipment(on_message=silent_on_s2f25)
    host = await host_of(equipment.port)
    watch = Stopwatch()
    with pytest.raises(
        ToolTimeout, match=r"host at hsms://127.0.0.1:\d+: S2F25: no reply within T3"
    ):
        await host.request(SecsMessage(2, 25, U4(1), reply_expected=True))
    assert watch.elapsed_s() < watch.bound_s(fast_timers.t3_s + 0.5)
    # T3 ends the transaction, not the link.
    assert host.selected
    assert (await host.request(S1F1)).name == "S1F2"


@pytest.mark.parametrize("framed", [False, True], ids=["unread", "framed"])
async def test_a_reply_complete_when_t3_runs_out_is_the_reply(
    raw_server, fast_timers, framed
) -> None:
    """On a loaded machine the event loop may not get to a reply before T3 fires: a reply
    that is whole when T3 runs out is the reply. The peer sends it exactly then; `unread`: it
    waits in the socket and `_frame_waiting` frames it by its length; `framed`: the event loop
    frames it (`_data_received`) as T3 runs out, into the transaction T3 renewed, so
    `_frame_waiting` finds nothing left to do."""
    requests: asyncio.Queue[tuple[asyncio.StreamWriter, int]] = asyncio.Queue()

    async def answers_late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        writer.write(frame(2, header[5]))  # select.rsp
        header, _ = await read_frame(reader)  # S1F1, answered when T3 runs out
        await requests.put((writer, header[5]))
        await reader.read()

    class StarvedHost(HsmsLink):
        def _frame_waiting(self, reply: asyncio.Future[SecsMessage]) -> None:
            writer, system = requests.get_nowait()
            writer.write(frame(0, system, session=0, byte2=1, byte3=2, body=encode(L())))
            assert self._connection is not None
            assert self._connection.transport is not None
            sock = self._connection.transport.get_extra_info("socket")
            # A hang guard only: on loopback the bytes are there at once.
            assert select.select([sock], [], [], 10.0)[0], "the reply never arrived"
            if framed:  # the loop framed it as T3 ran out: nothing is left in the socket
                with sock.dup() as own:
                    self._data_received(self._connection, own.recv(1024))
                assert reply.done()
            super()._frame_waiting(reply)

    port = await raw_server(answers_late)
    host = StarvedHost(port=port, tool="host", timers=fast_timers)
    try:
        await host.connect()
        assert (await host.request(S1F1)).name == "S1F2"
        assert host.selected
    finally:
        await host.close()


async def test_t6_select_not_answered(host_of, raw_server, fast_timers) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)  # the select.req, never answered
        await reader.read()

    port = await raw_server(mute)
    watch = Stopwatch()
    with pytest.raises(ToolTimeout, match=r"connect: no select\.rsp within T6 = 0\.3 s"):
        await host_of(port)
    assert watch.elapsed_s() < watch.bound_s(fast_timers.t6_s + 0.5)


async def test_t6_linktest_not_answered_drops_the_connection(host_of, raw_server) -> None:
    async def selects_then_mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        writer.write(frame(2, header[5]))
        await reader.read()

    host = await host_of(await raw_server(selects_then_mute))
    with pytest.raises(ToolTimeout, match=r"linktest: no linktest\.rsp within T6"):
        await host.linktest()
    assert host.state is LinkState.NOT_CONNECTED


async def test_t7_not_selected_drops_the_connection(start_equipment, fast_timers) -> None:
    equipment = await start_equipment()
    reader, writer = await asyncio.open_connection("127.0.0.1", equipment.port)
    watch = Stopwatch()
    try:
        with pytest.raises(ToolTimeout, match=r"select: not selected within T7 = 0\.3 s"):
            await equipment.wait_selected(timeout_s=5)
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # the equipment closed the connection
    finally:
        writer.close()
    assert watch.elapsed_s() < watch.bound_s(fast_timers.t7_s + 0.5)


async def test_t8_a_message_cut_short_drops_the_connection(start_equipment, fast_timers) -> None:
    equipment = await start_equipment()
    reader, writer = await asyncio.open_connection("127.0.0.1", equipment.port)
    try:
        writer.write(frame(1, 1))
        assert (await read_frame(reader))[0][4] == 2  # select.rsp
        writer.write(frame(0, 2, session=0, byte2=0x81, byte3=1)[:7])
        watch = Stopwatch()
        async with asyncio.timeout(2):
            assert await reader.read() == b""
        assert fast_timers.t8_s - 0.05 < watch.elapsed_s() < watch.bound_s(fast_timers.t8_s + 0.5)
        assert equipment.state is LinkState.NOT_CONNECTED
    finally:
        writer.close()


async def test_a_data_message_before_select_is_rejected(start_equipment) -> None:
    equipment = await start_equipment()
    reader, writer = await asyncio.open_connection("127.0.0.1", equipment.port)
    try:
        writer.write(frame(0, 42, session=0, byte2=0x81, byte3=1))
        (_, byte2, reason, _, stype, system), _ = await read_frame(reader)
        assert (stype, system, byte2, reason) == (7, 42, 0, 4)  # reject.req: not selected
        writer.write(frame(1, 43, ptype=5))
        (_, byte2, reason, _, stype, system), _ = await read_frame(reader)
        assert (stype, system, byte2, reason) == (7, 43, 5, 2)  # PType not supported
        writer.write(frame(8, 44))
        (_, byte2, reason, _, stype, system), _ = await read_frame(reader)
        assert (stype, system, byte2, reason) == (7, 44, 8, 1)  # SType not supported
    finally:
        writer.close()


async def test_a_reject_from_the_peer_fails_the_request(host_of, raw_server) -> None:
    async def rejects_data(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        writer.write(frame(2, header[5]))  # select.rsp
        header, _ = await read_frame(reader)
        writer.write(frame(7, header[5], byte2=0, byte3=4))
        await reader.read()

    host = await host_of(await raw_server(rejects_data))
    with pytest.raises(ProtocolError, match="S1F1: rejected by the peer: entity not selected"):
        await host.request(S1F1)


async def test_a_primary_right_behind_the_select_rsp_is_handled_not_rejected(
    host_of, raw_server
) -> None:
    """The active side is selected as the select.rsp arrives: a primary the peer sends right
    after it (secsgem's equipment sends S1F13 on select) may come in the same read, before the
    task that connects resumes, and is answered, not rejected as sent while not selected."""
    answered = asyncio.get_running_loop().create_future()

    async def selects_then_asks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        s1f13 = frame(0, 7, session=0, byte2=0x81, byte3=13, body=encode(L()))
        writer.write(frame(2, header[5]) + s1f13)  # one write: one read on the other side
        answered.set_result(await read_frame(reader))
        await reader.read()

    await host_of(await raw_server(selects_then_asks))
    async with asyncio.timeout(2):
        (_, byte2, function, _, stype, system), body = await answered
    assert (stype, byte2, function, system) == (0, 1, 14, 7)  # S1F14, not a reject.req
    assert body == encode(L(B(b"\x00"), L()))


async def test_a_malformed_reply_is_a_protocol_error(host_of, raw_server) -> None:
    async def garbles(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        writer.write(frame(2, header[5]))
        header, _ = await read_frame(reader)
        writer.write(frame(0, header[5], session=0, byte2=1, byte3=2, body=b"\x41\x05ab"))
        await reader.read()

    host = await host_of(await raw_server(garbles))
    with pytest.raises(ProtocolError, match="malformed S1F2: A item at byte 0 states 5 bytes"):
        await host.request(S1F1)


async def test_a_malformed_primary_is_answered_with_s9f7(start_equipment) -> None:
    equipment = await start_equipment()
    reader, writer = await asyncio.open_connection("127.0.0.1", equipment.port)
    try:
        writer.write(frame(1, 1))
        await read_frame(reader)
        sent = frame(0, 9, session=0, byte2=0x81, byte3=3, body=b"\xff")
        writer.write(sent)
        (_, byte2, function, _, _, _), body = await read_frame(reader)
        assert (byte2 & 0x7F, function) == (9, 7)
        assert body == encode(B(sent[4:14]))  # the header of the offending message
    finally:
        writer.close()


async def test_a_separate_from_the_peer_ends_open_transactions(start_equipment, host_of) -> None:
    async def never(message: SecsMessage) -> None:
        await asyncio.sleep(30)

    equipment = await start_equipment(on_message=never)
    host = await host_of(equipment.port, timers=HsmsTimers(t3_s=5))
    pending = asyncio.create_task(host.request(S1F1))
    await asyncio.sleep(0.05)
    watch = Stopwatch()
    await equipment.separate()
    with pytest.raises(ConnectionLost, match="separated by the peer"):
        await pending
    assert watch.elapsed_s() < watch.bound_s(0.5)
    assert host.state is LinkState.NOT_CONNECTED


async def test_connection_lost_mid_transaction(host_of, raw_server) -> None:
    async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header, _ = await read_frame(reader)
        writer.write(frame(2, header[5]))
        await read_frame(reader)  # the request; then the connection goes
        writer.transport.abort()

    host = await host_of(await raw_server(hangs_up), timers=HsmsTimers(t3_s=5))
    watch = Stopwatch()
    with pytest.raises(ConnectionLost, match="S1F1: connection closed by the peer"):
        await host.request(S1F1)
    assert watch.elapsed_s() < watch.bound_s(0.5)


async def test_the_host_reconnects_after_a_lost_connection(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    await equipment.separate()
    await asyncio.sleep(0.01)
    assert (await host.request(S1F1)).name == "S1F2"


async def test_a_lost_connection_is_told_to_on_disconnected(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port)
    reasons: list[str] = []
    host.on_disconnected = reasons.append
    await equipment.separate()
    await asyncio.sleep(0.01)
    assert reasons == ["separated by the peer"]


async def test_without_reconnect_a_lost_connection_stays_lost(start_equipment, host_of) -> None:
    equipment = await start_equipment()
    host = await host_of(equipment.port, reconnect={"attempts": 0, "delay_s": 0})
    await equipment.separate()
    await asyncio.sleep(0.01)
    with pytest.raises(ConnectionLost, match="separated by the peer; 0 reconnect attempt"):
        await host.request(S1F1)


async def test_a_refused_connect_is_a_connection_error(host_of, unused_port) -> None:
    with pytest.raises(ToolConnectionError, match="connect: cannot connect"):
        await host_of(unused_port)


async def test_a_passive_link_not_selected_refuses_to_send(start_equipment) -> None:
    equipment = await start_equipment()
    with pytest.raises(ToolConnectionError, match="S1F1: not selected"):
        await equipment.request(S1F1)


async def test_the_passive_side_registers_each_connection_with_its_clock(
    start_equipment, host_of
) -> None:
    class Watching(WallClock):
        def __init__(self) -> None:
            self.ends: list[object] = []

        def watch_served(self, end: object) -> None:
            super().watch_served(end)  # type: ignore[arg-type]
            self.ends.append(end)

    clock = Watching()
    equipment = await start_equipment(clock=clock)
    await host_of(equipment.port)
    assert len(clock.ends) == 1
    assert equipment._connection is not None
    assert clock.ends[0] is equipment._connection.transport


async def test_close_twice_and_before_connect(unused_port) -> None:
    link = HsmsLink(port=unused_port)
    await link.close()
    await link.close()
    with pytest.raises(ToolConnectionError, match="not connected"):
        await link.request(S1F1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "server"}, "mode must be 'active' or 'passive', got 'server'"),
        ({"port": 70000}, "port must be 0..65535, got 70000"),
        ({"session_id": 0xFFFF}, "session_id must be 0..65534"),
        ({"timers": {"t3_s": 0}}, "HsmsTimers.t3_s must be a positive number"),
        ({"timers": {"t9_s": 1}}, "unexpected keyword argument 't9_s'"),
        ({"reconnect": {"attempts": -1}}, "ReconnectPolicy.attempts must be >= 0"),
        ({"connect_timeout_s": float("nan")}, "connect_timeout_s must be a positive number"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HsmsLink(tool="bonder", **options)
