"""Links: one connection to one tool over VISA, a serial line, or Modbus TCP/RTU.

Everything a driver or a station file needs is importable from here.
"""

from typing import TYPE_CHECKING

from packline.lazy import load_on_use

if TYPE_CHECKING:
    from .address import LINK_KINDS, LinkKind, LinkKindName, link_kind, not_an_option, open_link
    from .base import Link, ReconnectPolicy, wire_log, wire_log_to
    from .modbus import ModbusLink
    from .modbus_protocol import parse_modbus_address
    from .serial import SerialLink
    from .text import TextLink
    from .visa import VisaLink

__all__ = [
    "LINK_KINDS",
    "Link",
    "LinkKind",
    "LinkKindName",
    "ModbusLink",
    "ReconnectPolicy",
    "SerialLink",
    "TextLink",
    "VisaLink",
    "link_kind",
    "not_an_option",
    "open_link",
    "parse_modbus_address",
    "wire_log",
    "wire_log_to",
]

load_on_use(__name__)
