"""packline's tool drivers: the equipment interface, the role interfaces, links and errors.

The public API is flat: `from packline.drivers import Equipment, ModbusLink, ToolAlarm`.
Driver classes for each tool kind live in their own modules (`packline.drivers.plasma_cleaner`)
and are found by name through `packline.drivers.registry`.
"""

from typing import TYPE_CHECKING

from packline.lazy import load_on_use

if TYPE_CHECKING:
    from .equipment import Alarm, E10State, Equipment, Identity, Limit, Reading, ToolState
    from .errors import (
        CommandRefused,
        ConnectionLost,
        InterlockOpen,
        LimitViolation,
        PacklineError,
        ProtocolError,
        ToolAlarm,
        ToolConnectionError,
        ToolError,
        ToolStateError,
        ToolTimeout,
        WrongTool,
    )
    from .links import (
        LINK_KINDS,
        Link,
        ModbusLink,
        ReconnectPolicy,
        SerialLink,
        TextLink,
        VisaLink,
        link_kind,
        open_link,
    )
    from .registry import TOOL_KINDS, ToolKind, tool_kind

__all__ = [
    "LINK_KINDS",
    "TOOL_KINDS",
    "Alarm",
    "CommandRefused",
    "ConnectionLost",
    "E10State",
    "Equipment",
    "Identity",
    "InterlockOpen",
    "Limit",
    "LimitViolation",
    "Link",
    "ModbusLink",
    "PacklineError",
    "ProtocolError",
    "Reading",
    "ReconnectPolicy",
    "SerialLink",
    "TextLink",
    "ToolAlarm",
    "ToolConnectionError",
    "ToolError",
    "ToolKind",
    "ToolState",
    "ToolStateError",
    "ToolTimeout",
    "VisaLink",
    "WrongTool",
    "link_kind",
    "open_link",
    "tool_kind",
]

load_on_use(__name__)
