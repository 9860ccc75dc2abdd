"""Tool specs: each tool kind's wire contract, declared once (see `core` for the types)."""

from .core import (
    Alarm,
    Command,
    ExpectedIdentity,
    Interlock,
    Made,
    Parameter,
    Range,
    Refusal,
    Setpoint,
    StatusVariable,
    ToolSpec,
)

__all__ = [
    "Alarm",
    "Command",
    "ExpectedIdentity",
    "Interlock",
    "Made",
    "Parameter",
    "Range",
    "Refusal",
    "Setpoint",
    "StatusVariable",
    "ToolSpec",
]
