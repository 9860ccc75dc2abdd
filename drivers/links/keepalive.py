"""TCP keepalive and a TCP user timeout on every connection a driver opens to a tool, so that
a dead peer is noticed while the link is idle, and while the tool leaves what was sent to it
unacknowledged.

A tool that is power-cycled, or a switch that drops, leaves a half-open connection: nothing
on it fails until something is sent. A link idle between steps (minutes to hours) would learn
of it only when its next exchange times out, and a held reply (decision 0101: up to 120 s)
would wait its whole bound on a peer that is gone. With keepalive the kernel probes an idle
connection and ends it when the probes go unanswered (or are answered with a reset, by a tool
that restarted): the link's next exchange reconnects before sending (docs/links.md,
"Reconnect" and "Keepalive and user timeout").

The figures (the OS's defaults wait two hours before the first probe):

- `KEEPALIVE_IDLE_S` = 10 s of silence before the first probe, `KEEPALIVE_INTERVAL_S` = 5 s
  between unanswered probes, `KEEPALIVE_PROBES` = 3 unanswered probes end the connection:
  a dead peer is noticed 25 s after the last byte it acknowledged, well within a minute of
  idleness, far below a step's length, and well within the 120 s a tool may hold a reply.
- What it costs: on an idle link, one empty segment each 10 s and its acknowledgement (about
  130 bytes: nothing beside one Modbus status poll), and nothing at all on a link that
  exchanges more often than that. A tool's stack answers a probe as any segment (RFC 1122
  4.2.3.6); the tool's application never sees it.

Keepalive covers an idle connection only: Linux sends no probe while data it sent is
unacknowledged (the keepalive timer puts itself off while segments are out). Such data is
retransmitted instead, backing off, 15 times (`tcp_retries2`): about 15 minutes before the
socket fails. That is a command the link wrote to a tool that went away as it was sent: a
`TextLink.write`, which awaits no reply, leaves the link idle as far as it knows on a
connection that is in fact dead, and its next exchange would go out on it and time out rather
than reconnect first; a held reply whose request never arrived waits for its whole bound. So
`keep_alive` also sets `TCP_USER_TIMEOUT` (Linux 2.6.37 on), which tcp(7) defines as the
longest that sent data may stay unacknowledged, or buffered data unsent for a zero window (a
tool that stopped reading its socket), before the connection is closed with ETIMEDOUT.

Its figure, `TCP_USER_TIMEOUT_S`, is keepalive's own 10 + 5 x 3 = 25 s, because tcp(7) says
the user timeout, when set, overrides keepalive in deciding when to give a silent connection
up: the kernel then ends it once it has been silent for the user timeout with at least one
probe unanswered, whatever `TCP_KEEPCNT` says. At 25 s that is the moment `TCP_KEEPCNT`
gives (probes at 10, 15 and 20 s, given up at 25 s), so either way a dead peer is noticed
within 25 s: of the last byte it sent, on an idle connection; of the first one sent to it
that it left unacknowledged, otherwise. A shorter figure would cut keepalive's probes short,
a longer one let it probe on past its count.

What the user timeout does not cut: a held reply (a Modbus FC23 held status read, a host
link's `WAIT?`, a SCPI `*OPC?`) whose request the tool acknowledged. Nothing sent is then
unacknowledged, so tcp(7)'s bound does not apply however long the tool holds its reply; a
live tool's stack acknowledges the request at once and answers keepalive's probes, so a hold
of minutes stands, while a tool that dies during the hold is keepalive's to notice (decision
0101: well within the 120 s it may hold a reply).

Where the platform lacks an option (macOS names the idle time `TCP_KEEPALIVE` and has no
`TCP_USER_TIMEOUT`, and older Windows has none of them), the rest are set and the OS's figure
stands for that one.
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
#: Seconds sent data may stay unacknowledged before the connection is dead: the moment
#: keepalive gives an idle connection up, which the user timeout decides once set.
TCP_USER_TIMEOUT_S = KEEPALIVE_IDLE_S + KEEPALIVE_INTERVAL_S * KEEPALIVE_PROBES

#: The socket options `keep_alive` sets on this platform, (level, option) to value: keepalive
#: on, and the TCP-level figures the platform has, by the names it gives them (the idle time is
#: `TCP_KEEPIDLE` on Linux and Windows, `TCP_KEEPALIVE` on macOS; the user timeout, in ms,
#: Linux's alone).
KEEPALIVE_OPTIONS: dict[tuple[int, int], int] = {
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
    **{
        (socket.IPPROTO_TCP, option): value
        for name, value in (
            ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
            ("TCP_KEEPALIVE", KEEPALIVE_IDLE_S),
            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
            ("TCP_KEEPCNT", KEEPALIVE_PROBES),
            ("TCP_USER_TIMEOUT", TCP_USER_TIMEOUT_S * 1000),
        )
        if (option := getattr(socket, name, None)) is not None
    },
}


def keep_alive(connection: asyncio.BaseTransport | socket.socket | None) -> None:
    """Turn TCP keepalive on and set the TCP user timeout, with this module's figures, for
    `connection`: a socket, or an asyncio transport over one (its `get_extra_info("socket")`).

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
