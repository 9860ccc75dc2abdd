"""Servers that put a simulated tool on the wire: TCP text, pty text, Modbus TCP/RTU."""

from .base import LineHandler, ToolServer
from .modbus import ModbusToolServer, ModbusTransport
from .pty import NullModem, PtyToolServer
from .text import TextToolServer

__all__ = [
    "LineHandler",
    "ModbusToolServer",
    "ModbusTransport",
    "NullModem",
    "PtyToolServer",
    "TextToolServer",
    "ToolServer",
]
