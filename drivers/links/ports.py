"""The TCP port an address names: one range, and one refusal of a port outside it, for every
address form that carries one (`modbus+tcp://`, a `socket://` serial URL, also behind
`modbus+rtu:`, a VISA `TCPIP::...::SOCKET` resource, `hsms://`); and the refusal of an RFC 2217
serial URL, which no link can drive."""

from __future__ import annotations

import re

#: The ports a TCP connection can reach (port 0 is none: a listener's "any port").
TCP_PORTS = range(1, 65536)
#: A pyserial URL of a serial line behind a TCP server (a serial device server's), with its
#: port.
SERIAL_URL = re.compile(r"^socket://[^/:]+:(?P<port>\d+)$")


def refuse_rfc2217(address: str, line: str) -> None:
    """Refuse `line` (`address`, or the serial line in it) if it is an RFC 2217 URL: pyserial's
    RFC 2217 client refuses the write timeout of 0 that the asyncio serial transport (under
    the serial and Modbus RTU links alike) gives every port, so such a link could never
    connect. A serial device server's raw TCP port, with the tool's line settings set on the
    server, carries the same bytes (`socket://`)."""
    if line.startswith("rfc2217://"):
        raise ValueError(
            f"{address!r}: RFC 2217 (rfc2217://) is not supported; set the device server's "
            "port to raw TCP with the tool's line settings (baud rate, parity, stop bits) "
            "and give it as socket://HOST:PORT"
        )


def tcp_port(address: str, digits: str) -> int:
    """The port that `digits`, the port of `address`, name; ValueError naming the address,
    the port and the range for a number no TCP port has (0, 99999)."""
    port = int(digits)
    if port not in TCP_PORTS:
        raise ValueError(
            f"{address!r}: port {port} is out of range ({TCP_PORTS.start}-{TCP_PORTS.stop - 1})"
        )
    return port
