"""The HSMS wire log: every message both ways, in SML, on the `packline.wire` logger.

Each line names the tool, its address, the direction (`>` sent, `<` received) and the system
bytes: `bonder hsms://10.0.3.40:5000 > [00000005] S1F3 W <SML>`; control messages as
`select.req (byte2, byte3)`; and the reason of each disconnect. Nothing is formatted unless
the logger is at DEBUG.
"""

from __future__ import annotations

import logging

from ..links.base import wire_log
from .frames import CONTROL_NAMES
from .messages import SecsMessage


def log_data(tool: str, address: str, direction: str, message: SecsMessage, system: int) -> None:
    """A data message, sent (`>`) or received (`<`)."""
    if wire_log.isEnabledFor(logging.DEBUG):
        wire_log.debug("%s %s %s [%08x] %s", tool, address, direction, system, message.sml())


def log_control(
    tool: str, address: str, direction: str, stype: int, system: int, byte2: int, byte3: int
) -> None:
    """A control message, with its header bytes 2 and 3 (status or reason)."""
    if wire_log.isEnabledFor(logging.DEBUG):
        name = CONTROL_NAMES.get(stype, f"stype {stype}")
        wire_log.debug(
            "%s %s %s [%08x] %s (%d, %d)", tool, address, direction, system, name, byte2, byte3
        )


def log_malformed(tool: str, address: str, system: int, detail: str, body: bytes) -> None:
    """A received data message whose body does not decode, with its bytes in hex."""
    if wire_log.isEnabledFor(logging.DEBUG):
        wire_log.debug("%s %s < [%08x] %s %s", tool, address, system, detail, body.hex())


def log_disconnected(tool: str, address: str, reason: str) -> None:
    """The end of a connection and why."""
    if wire_log.isEnabledFor(logging.DEBUG):
        wire_log.debug("%s %s - disconnected: %s", tool, address, reason)
