"""From a station file's address string to the right link.

The address alone says which wire a tool is on, so a station file needs no separate "link"
field, and a validator can tell before anything connects that a driver speaking Modbus was
given a VISA resource:

- `visa` (`VisaLink`): VISA resource names, `TCPIP0::host::port::SOCKET`, `ASRL...::INSTR`,
  `GPIB...`, `USB...`, `VXI...`.
- `serial` (`SerialLink`): `/dev/...` paths, `socket://host:port` (not `rfc2217://`:
  `ports.refuse_rfc2217`).
- `modbus` (`ModbusLink`): `modbus+tcp://host:port`, `modbus+rtu:<serial port or URL>`.
- `hsms` (`SecsLink`, a GEM tool's HSMS-SS session): `hsms://host:port`.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Literal

from packline.clock import Clock
from packline.spelling import did_you_mean

from ..secs.link import SecsLink, parse_hsms_address
from .base import Link
from .modbus import ModbusLink
from .modbus_protocol import parse_modbus_address
from .ports import SERIAL_URL, refuse_rfc2217, tcp_port
from .serial import SerialLink
from .visa import VisaLink

LinkKindName = Literal["visa", "serial", "modbus", "hsms"]


@dataclass(frozen=True)
class LinkKind:
    """One kind of link: its name, class, and the address forms that select it."""

    name: LinkKindName
    link_class: type[Link]
    address_forms: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def options(self) -> frozenset[str]:
        """Every keyword option `open_link` passes on to the link class."""
        return _keyword_options(self.link_class)


LINK_KINDS: dict[LinkKindName, LinkKind] = {
    "visa": LinkKind(
        "visa",
        VisaLink,
        ("TCPIP<n>::<host>::<port>::SOCKET", "ASRL<port>::INSTR", "GPIB...", "USB...", "VXI..."),
        ("TCPIP0::127.0.0.1::5025::SOCKET", "ASRL/dev/ttyUSB0::INSTR"),
    ),
    "serial": LinkKind(
        "serial",
        SerialLink,
        ("/dev/<port>", "socket://<host>:<port>"),
        ("/dev/ttyUSB0", "socket://127.0.0.1:4001"),
    ),
    "modbus": LinkKind(
        "modbus",
        ModbusLink,
        ("modbus+tcp://<host>:<port>", "modbus+rtu:<serial port or pyserial URL>"),
        ("modbus+tcp://127.0.0.1:502", "modbus+rtu:/dev/ttyUSB0"),
    ),
    "hsms": LinkKind("hsms", SecsLink, ("hsms://<host>:<port>",), ("hsms://127.0.0.1:5000",)),
}

_VISA_RESOURCE = re.compile(r"^(?:(?:TCPIP|GPIB|USB|VXI)\d*::|ASRL\S+::INSTR$)", re.IGNORECASE)
_VISA_SOCKET = re.compile(r"^TCPIP\d*::[^:]+::(?P<port>\d+)::SOCKET$", re.IGNORECASE)


def link_kind(address: str) -> LinkKindName:
    """The kind of link an address selects; ValueError naming the accepted forms otherwise,
    or the port out of range of a form that names one."""
    if _VISA_RESOURCE.match(address):
        if address.upper().endswith("::SOCKET"):
            if (socket := _VISA_SOCKET.match(address)) is None:
                raise ValueError(
                    f"{address!r} names no host or no port; a VISA socket resource is "
                    "TCPIP<n>::<host>::<port>::SOCKET, e.g. TCPIP0::10.0.3.21::5025::SOCKET"
                )
            tcp_port(address, socket["port"])
        return "visa"
    if address.startswith("modbus+"):
        parse_modbus_address(address)  # raises with the Modbus forms spelled out
        return "modbus"
    if address.startswith("hsms://"):
        parse_hsms_address(address)  # raises with the HSMS form spelled out
        return "hsms"
    refuse_rfc2217(address, address)
    if (url := SERIAL_URL.match(address)) is not None:
        tcp_port(address, url["port"])
        return "serial"
    if address.startswith("/dev/") and len(address) > 5:
        return "serial"
    forms = "; ".join(
        f"{kind.name}: {', '.join(kind.address_forms)}" for kind in LINK_KINDS.values()
    )
    raise ValueError(f"{address!r} is not a tool address; accepted forms are {forms}")


def open_link(address: str, *, tool: str, clock: Clock | None = None, **options: Any) -> Link:
    """Make the link that `address` selects, not yet connected (`async with` it or `connect()`).

    `options` go to the link class (timeouts, terminations, line settings, `device_id`...);
    one that the link does not take raises TypeError naming it (`not_an_option`).
    """
    kind = LINK_KINDS[link_kind(address)]
    unknown = sorted(set(options) - kind.options)
    if unknown:
        raise TypeError(
            f"{tool} at {address}: "
            + "; ".join(f"{option}: {not_an_option(option, kind, tool)}" for option in unknown)
        )
    return kind.link_class(address, tool=tool, clock=clock, **options)


def not_an_option(option: str, kind: LinkKind, tool: str) -> str:
    """Why `option`, which a link of `kind` does not take, is refused for `tool`'s link: the
    options it may have meant, and those the link takes."""
    options = sorted(kind.options)
    return (
        f"not an option of {tool}'s {kind.name} link{did_you_mean(option, options)}; it takes "
        f"{', '.join(options)}"
    )


def _keyword_options(link_class: type[Link]) -> frozenset[str]:
    names: set[str] = set()
    for cls in link_class.__mro__:
        if issubclass(cls, Link) and "__init__" in vars(cls):
            parameters = inspect.signature(cls.__init__).parameters.values()
            names.update(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)
    return frozenset(names - {"tool", "clock"})
