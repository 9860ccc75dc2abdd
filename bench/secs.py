"""HSMS transaction latency, packline against secsgem, on loopback: `python bench/secs.py`.

One S1F3 (status variable request, one SVID) and its S1F4 reply, host to equipment, the median
and p99 round trip in microseconds. Four pairs run in the same process and the same run, in
interleaved rounds (bench/links.py's `measure`), so that drift of the machine affects them
alike:

- packline host -> packline equipment (the equipment on its own event loop in a thread),
- packline host -> secsgem equipment,
- secsgem host -> packline equipment,
- secsgem host -> secsgem equipment (the baseline: secsgem on both sides).

secsgem is thread-based: its host call blocks, and is timed as such. The two middle rows
show each side's share: the same peer, a different host or equipment.

Then the GEM host driver against the bare link, on the simulated GEM wire bonder (its
equipment on the server thread): the same S1F3 for the bonder's state SV built and sent as a
bare `HsmsLink.request`, through `GemHost.request_status_variables`, and as the role driver's
`request_values` (the dictionary's id, format check and enumeration). Target: the driver at
most 1.15x the bare link.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

import secsgem.common
import secsgem.gem
import secsgem.hsms
import secsgem.secs
from links import ServerThread, header, measure, report

from packline.clock import WallClock
from packline.drivers.errors import ToolConnectionError
from packline.drivers.gem.dictionary import load_dictionary
from packline.drivers.gem.wire_bonder import GemWireBonder
from packline.drivers.links import open_link
from packline.drivers.secs.hsms import HsmsLink
from packline.drivers.secs.items import U4, A, B, L
from packline.drivers.secs.messages import SecsMessage
from packline.sim_instruments.gem.equipment import GemEquipment
from packline.sim_instruments.gem.wire_bonder import GemWireBonderModel
from packline.sim_instruments.twin import TwinStore

SVID = 10
SV_VALUE = 42


async def packline_equipment(message: SecsMessage) -> SecsMessage | None:
    """S1F13 -> S1F14 (establish communication) and S1F3 -> S1F4 with SV_VALUE per SVID."""
    if (message.stream, message.function) == (1, 13):
        return SecsMessage(1, 14, L(B(b"\x00"), L(A("BENCH"), A("1.0"))))
    if (message.stream, message.function) == (1, 3):
        return SecsMessage(1, 4, L(*(U4(SV_VALUE) for _ in message.body or ())))
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def secsgem_settings(port: int, *, host: bool) -> secsgem.hsms.HsmsSettings:
    mode = secsgem.hsms.HsmsConnectMode
    return secsgem.hsms.HsmsSettings(
        address="127.0.0.1",
        port=port,
        connect_mode=mode.ACTIVE if host else mode.PASSIVE,
        device_type=secsgem.common.DeviceType.HOST if host else secsgem.common.DeviceType.EQUIPMENT,
        # An active secsgem side checks for a disable int(t5) * 5 times: below 1 s, never.
        t5=1 if host else 0.1,
    )


def start_secsgem_equipment(port: int) -> secsgem.gem.GemEquipmentHandler:
    equipment = secsgem.gem.GemEquipmentHandler(secsgem_settings(port, host=False))
    variable = secsgem.gem.StatusVariable(
        SVID, "bench", "", secsgem.secs.variables.U4, use_callback=False
    )
    variable.value = SV_VALUE
    equipment.status_variables.update({SVID: variable})
    equipment.enable()
    return equipment


def start_secsgem_host(port: int) -> secsgem.gem.GemHostHandler:
    """A secsgem host that communicates with the equipment at `port`.

    secsgem 0.3.0 sometimes loses its own select in a race between its threads (it logs
    WrongSourceStateError and never communicates); such a host is replaced, three times at most.
    """
    for _ in range(3):
        host = secsgem.gem.GemHostHandler(secsgem_settings(port, host=True))
        host.enable()
        if host.waitfor_communicating(5):
            return host
        host.disable()
    sys.exit(f"secsgem host: no communication with port {port} in three tries")


async def connect_packline_host(port: int, *, secsgem_peer: bool) -> HsmsLink:
    """Connect, retrying for 10 s while secsgem's listening thread starts.

    secsgem's equipment answers data messages with reject.req (not selected) until its
    select has gone through its threads; the S1F13 it sends once selected says it has.
    """
    established = asyncio.Event()

    async def accept_s1f13(message: SecsMessage) -> SecsMessage | None:
        if (message.stream, message.function) == (1, 13):
            established.set()
            return SecsMessage(1, 14, L(B(b"\x00"), L()))
        return None

    link = HsmsLink(port=port, tool="bench", on_message=accept_s1f13)
    async with asyncio.timeout(10):
        while not link.selected:
            try:
                await link.connect()
            except ToolConnectionError:
                await asyncio.sleep(0.05)
        if secsgem_peer:
            await established.wait()
    return link


async def bench(args: argparse.Namespace, servers: ServerThread) -> None:
    # HSMS-SS: one host per equipment, so every host gets an equipment of its own.
    ours = [
        HsmsLink(port=0, mode="passive", tool="bench", on_message=packline_equipment)
        for _ in range(2)
    ]
    for equipment in ours:
        servers.run(equipment.connect())
    ports = free_port(), free_port()
    theirs = [start_secsgem_equipment(port) for port in ports]
    await asyncio.sleep(0.5)  # secsgem listens from a thread of its own

    packline_to_packline = await connect_packline_host(ours[0].port, secsgem_peer=False)
    packline_to_secsgem = await connect_packline_host(ports[0], secsgem_peer=True)
    secsgem_to_packline = start_secsgem_host(ours[1].port)
    secsgem_to_secsgem = start_secsgem_host(ports[1])

    s1f3 = SecsMessage(1, 3, L(U4(SVID)), reply_expected=True)
    secsgem_s1f3 = secsgem.secs.functions.SecsS01F03([SVID])

    def secsgem_call(host: secsgem.gem.GemHostHandler):
        async def call() -> object:
            return host.send_and_waitfor_response(secsgem_s1f3)

        return call

    # Each pair answers the same question with the same value before it is timed.
    assert (await packline_to_packline.request(s1f3)).body == L(U4(SV_VALUE))
    assert (await packline_to_secsgem.request(s1f3)).body == L(U4(SV_VALUE))
    for host in (secsgem_to_secsgem, secsgem_to_packline):
        reply = secsgem.secs.functions.SecsS01F04()
        reply.decode(host.send_and_waitfor_response(secsgem_s1f3).data)
        assert reply.get() == [SV_VALUE]

    baseline = "secsgem host -> secsgem equipment"
    samples = await measure(
        {
            "packline host -> packline equipment": lambda: packline_to_packline.request(s1f3),
            "packline host -> secsgem equipment": lambda: packline_to_secsgem.request(s1f3),
            "secsgem host -> packline equipment": secsgem_call(secsgem_to_packline),
            baseline: secsgem_call(secsgem_to_secsgem),
        },
        args.n,
        args.rounds,
    )
    print(header(args.n))
    print("\n".join(report("HSMS S1F3/S1F4 round trip", samples, baseline)))

    # secsgem's equipment first, while its hosts are connected: once a host has left it
    # listens again, and disabling it then can hang secsgem 0.3.0 (its accept() fails).
    for handler in (*theirs, secsgem_to_secsgem, secsgem_to_packline):
        handler.disable()
    for link in (packline_to_packline, packline_to_secsgem):
        await link.close()
    for equipment in ours:
        servers.run(equipment.close())


async def bench_gem(args: argparse.Namespace, servers: ServerThread) -> None:
    """The GEM driver's call against the bare link, on the simulated GEM wire bonder."""

    async def serve() -> GemEquipment:
        model = GemWireBonderModel("bonder", TwinStore(), WallClock())
        equipment = GemEquipment(load_dictionary("wire_bonder"), model)
        await equipment.start()
        return equipment

    equipment = servers.run(serve())
    bonder = GemWireBonder(open_link(equipment.address, tool="bonder"), dictionary="wire_bonder")
    await bonder.connect()
    state = bonder.dictionary.status_variables["state"]
    svid = int(state.id)
    s1f3 = SecsMessage(1, 3, L(U4(svid)), reply_expected=True)
    assert (await bonder.link.hsms.request(s1f3)).body == L(state.to_wire("idle"))
    assert await bonder.request_values("bench", "state") == ["idle"]
    baseline = "bare link: HsmsLink.request(S1F3)"
    samples = await measure(
        {
            baseline: lambda: bonder.link.hsms.request(
                SecsMessage(1, 3, L(U4(svid)), reply_expected=True)
            ),
            "GEM host: request_status_variables": lambda: bonder.gem.request_status_variables(
                [state.id]
            ),
            "GEM driver: request_values (dictionary)": lambda: bonder.request_values(
                "bench", "state"
            ),
        },
        args.n,
        args.rounds,
    )
    print(header(args.n))
    print(
        "\n".join(report("GEM driver call against the bare link (S1F3, one SV)", samples, baseline))
    )
    await bonder.close()
    servers.run(equipment.stop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="round trips per variant")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    args = parser.parse_args()
    with ServerThread() as servers:
        asyncio.run(bench(args, servers))
        asyncio.run(bench_gem(args, servers))


if __name__ == "__main__":
    main()
