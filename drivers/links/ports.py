"""The TCP port an address names: one range, and one refusal of a port outside it, for every
address form that carries one (`modbus+tcp://`, a `socket://` or `rfc2217://` serial URL, also
behind `modbus+rtu:`, a VISA `TCPIP::...::SOCKET` resource, `hsms://`)."""

from __future__ import annotations

import re

#: The ports a TCP connection can reach (port 0 is none: a listener's "any port").
TCP_PORTS = range(1, 65536)
#: A pyserial URL of a serial line behind a TCP server (a serial device server's), with its
#: port.
SERIAL_URL = re.compile(r"^(?:socket|rfc2217)://[^/:]+:(?P<port>\d+)$")


def tcp_port(address: str, digits: str) -> int:
    """The port that `digits`, the port of `address`, name; ValueError naming the address,
    the port and the range for a number no TCP port has (0, 99999)."""
    port = int(digits)
    if port not in TCP_PORTS:
        raise ValueError(
            f"{address!r}: port {port} is out of range ({TCP_PORTS.start}-{TCP_PORTS.stop - 1})"
        )
    return port
