"""TCP keepalive on every connection a driver opens to a tool, so that a dead peer is noticed
while the link is idle.

A tool that is power-cycled, or a switch that drops, leaves a half-open connection: nothing
on it fails until something is sent. A link idle between steps (minutes to hours) would learn
of it only when its next exchange times out, and a held reply (decision 0052: up to 30 s)
would wait its whole bound on a peer that is gone. With keepalive the kernel probes an idle
connection and ends it when the probes go unanswered (or are answered with a reset, by a tool
that restarted): the link's next exchange reconnects before sending (docs/links.md,
"Reconnect" and "Keepalive").

The figures (the OS's defaults wait two hours before the first probe):

- `KEEPALIVE_IDLE_S` = 10 s of silence before the first probe, `KEEPALIVE_INTERVAL_S` = 5 s
  between unanswered probes, `KEEPALIVE_PROBES` = 3 unanswered probes end the connection:
  a dead peer is noticed 25 s after the last byte it acknowledged, well within a minute of
  idleness, far below a step's length, and within the 30 s a tool may hold a reply.
- What it costs: on an idle link, one empty segment each 10 s and its acknowledgement (about
  130 bytes: nothing beside one Modbus status poll), and nothing at all on a link that
  exchanges more often than that. A tool's stack answers a probe as any segment (RFC 1122
  4.2.3.6); the tool's application never sees it.

Where the platform lacks an option (macOS names the idle time `TCP_KEEPALIVE`, and older
Windows has none of the three), the rest are set and the OS's figure stands for that one.
"""

from __future__ import annotations

import asyncio
import socket

#: Seconds a connection is silent before the first probe.
KEEPALIVE_IDLE_S = 10
#: Seconds between two probes that got no answer.
KEEPALIVE_INTERVAL_S = 5
#: Unanswered probes after which the connection is dead.
KEEPALIVE_PROBES = 3

#: The socket options `keep_alive` sets on this platform, (level, option) to value: keepalive
#: on, and the TCP-level figures the platform has, by the names it gives them (the idle time is
#: `TCP_KEEPIDLE` on Linux and Windows, `TCP_KEEPALIVE` on macOS).
KEEPALIVE_OPTIONS: dict[tuple[int, int], int] = {
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
    **{
        (socket.IPPROTO_TCP, option): value
        for name, value in (
            ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
            ("TCP_KEEPALIVE", KEEPALIVE_IDLE_S),
            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
            ("TCP_KEEPCNT", KEEPALIVE_PROBES),
        )
        if (option := getattr(socket, name, None)) is not None
    },
}


def keep_alive(connection: asyncio.BaseTransport | socket.socket | None) -> None:
    """Turn TCP keepalive on, with this module's figures, for `connection`: a socket, or an
    asyncio transport over one (its `get_extra_info("socket")`).

    A transport without a socket (a tty, a simulated tool's connection in memory, decision
    0063) has no TCP to keep alive and is left as it is.
    """
    sock = (
        connection.get_extra_info("socket")
        if isinstance(connection, asyncio.BaseTransport)
        else connection
    )
    if sock is not None:
        for (level, option), value in KEEPALIVE_OPTIONS.items():
            sock.setsockopt(level, option, value)
