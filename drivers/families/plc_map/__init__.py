"""Modbus PLC register maps: the family's spec binding, what both ends of the link share.

The PLC maps of packline's Modbus tools (plasma cleaner, laminator) share one shape
(docs/protocols/conventions.md, "Modbus PLC register maps"):

* identity by FC43/MEI 14 (vendor, product code, revision) and the serial number as ASCII in 8
  holding registers (two characters per register, high byte first, NUL-padded);
* a read-only status block from register 0 with an alarm bit field, an interlock bit field
  and the "why refused" register (and, on some maps, the register a refusal concerned);
* setpoint registers written while the tool allows it, each checked against its range;
* a command register written after its parameter registers;
* a refusal answers exception 3 and leaves its reason in the "why refused" register.

A tool's spec binds the core entries to the map by the subclasses in `entries.py`
(`PlcSetpoint`, `PlcParameter`, `PlcStatus`, `PlcCommand`, `BitAlarm`, `BitInterlock`), takes
the family's registers and refusals from `family.py` and gives `ToolSpec.wire` a `PlcMap`
(`register_map.py`). Both ends read the spec through this package: the driver base
(`drivers/families/modbus_plc.py`) and the simulated tools' wire side
(`sim_instruments/families/modbus_plc.py`).
"""

from .entries import (
    BitAlarm,
    BitInterlock,
    Field,
    NamedRefusal,
    Placement,
    PlcCommand,
    PlcParameter,
    PlcSetpoint,
    PlcStatus,
    decoded,
    enum_codes,
    registers_of,
)
from .family import (
    ALARM_AND_INTERLOCK_STATUS,
    ALARMS,
    COMMAND_ERROR,
    EXPLAINED_EXCEPTION,
    FUNCTION_CODES,
    HELD_READ,
    INTERLOCKS,
    REFUSED_REGISTER,
    SERIAL_NUMBER,
    STATUS_CHANGES,
    HeldRead,
    Reason,
    command_error_status,
    plc_refusals,
    refused_register_status,
    serial_number_status,
)
from .register_map import PlcMap, command_enum, example_frames, field, reason_enum

__all__ = [
    "ALARMS",
    "ALARM_AND_INTERLOCK_STATUS",
    "COMMAND_ERROR",
    "EXPLAINED_EXCEPTION",
    "FUNCTION_CODES",
    "HELD_READ",
    "INTERLOCKS",
    "REFUSED_REGISTER",
    "SERIAL_NUMBER",
    "STATUS_CHANGES",
    "BitAlarm",
    "BitInterlock",
    "Field",
    "HeldRead",
    "NamedRefusal",
    "Placement",
    "PlcCommand",
    "PlcMap",
    "PlcParameter",
    "PlcSetpoint",
    "PlcStatus",
    "Reason",
    "command_enum",
    "command_error_status",
    "decoded",
    "enum_codes",
    "example_frames",
    "field",
    "plc_refusals",
    "reason_enum",
    "refused_register_status",
    "registers_of",
    "serial_number_status",
]
