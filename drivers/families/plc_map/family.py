"""What every PLC map of the family has: the function codes served, the family's status
registers by name, the "why refused" codes in their order and the refusals worded alike on
every map.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .entries import NamedRefusal, PlcStatus

#: The function codes every PLC map serves; any other answers exception 1 (illegal function).
FUNCTION_CODES = {
    3: "read holding registers",
    6: "write one register",
    16: "write several registers",
    43: "device identification (MEI 14)",
}


@dataclass(frozen=True)
class HeldRead:
    """The held status read (docs/decisions/0078), served by a map that counts its status
    changes (`PlcMap.counted_changes`): FC23 (`function_code`) writes the hold block from
    `hold_block`, the `STATUS_CHANGES` the host read last and then the longest the PLC may
    hold its reply after it (1/`hold_scale` s, at most `most_hold_s`), and reads the held
    status block from `status_block`: `STATUS_CHANGES` (the count of changes of the counted
    status values, wrapping at 65536), then the status block (registers 0 to its end) as a
    poll reads it."""

    function_code: int = 23
    hold_block: int = 390
    hold_scale: int = 10
    most_hold_s: int = 600
    status_block: int = 400

    @property
    def most_hold(self) -> int:
        """The longest hold, in the hold register's counts."""
        return self.most_hold_s * self.hold_scale

    def hold(self, hold_s: float) -> int:
        """The hold register's count for a hold of at most `hold_s` (and the longest): rounded
        down, so a held reply is never due after the wait that allowed `hold_s`."""
        return min(int(hold_s * self.hold_scale), self.most_hold)

    def hold_s(self, hold: int) -> float:
        """The hold, s, of the hold register's count `hold`."""
        return hold / self.hold_scale


HELD_READ = HeldRead()
#: The held status block's count of status changes, by the name the pages give it.
STATUS_CHANGES = "STATUS_CHANGES"

#: The status registers every PLC map has, by the names the family gives them.
ALARMS = "ALARMS"
INTERLOCKS = "INTERLOCKS"
SERIAL_NUMBER = "SERIAL_NUMBER"
COMMAND_ERROR = "COMMAND_ERROR"
#: The register naming the address a refusal concerned, on the maps that have it.
REFUSED_REGISTER = "REFUSED_REGISTER"


class Reason(IntEnum):
    """The family's "why refused" codes, checked in this order (the error precedence).

    A tool adds its own codes (5 and up) for the conditions of its commands; they come after
    these: unknown command, alarm active, not allowed in the present state, interlock open,
    value out of range, then the command's own conditions.
    """

    NONE = 0
    UNKNOWN_COMMAND = 1
    WRONG_STATE = 2
    INTERLOCK_OPEN = 3
    OUT_OF_RANGE = 4
    ALARM_ACTIVE = 8


#: The one Modbus exception after which a PLC map's "why refused" register holds the reason.
EXPLAINED_EXCEPTION = "ILLEGAL_DATA_VALUE"


#: The alarm and interlock bit fields, at registers 1 and 2 of every map.
ALARM_AND_INTERLOCK_STATUS = (
    PlcStatus(name=ALARMS, register=1, doc="bit field, see *Alarms*"),
    PlcStatus(name=INTERLOCKS, register=2, doc="bit field, 1 = closed, see *Interlocks*"),
)


def command_error_status(register: int) -> PlcStatus:
    """The "why refused" register (`COMMAND_ERROR`) at `register`."""
    return PlcStatus(
        name=COMMAND_ERROR, register=register, doc="why the last write was refused, see *Errors*"
    )


def refused_register_status(register: int, concerned: str) -> PlcStatus:
    """`REFUSED_REGISTER` at `register`: the address a refusal concerned, one of `concerned`."""
    return PlcStatus(
        name=REFUSED_REGISTER,
        register=register,
        doc=f"the address the last refusal concerned ({concerned})",
    )


def serial_number_status(register: int) -> PlcStatus:
    """The serial number (`SERIAL_NUMBER`), 8 registers of ASCII from `register`."""
    return PlcStatus(name=SERIAL_NUMBER, register=register, words=8, text=True)


def plc_refusals(present_state: str, *own: NamedRefusal) -> tuple[NamedRefusal, ...]:
    """A PLC map's refusal reasons: the family's (`Reason`), worded alike on every map, with
    `present_state` naming the tool's state ("the chamber's present state"), and the tool's
    `own` (5 and up), in code order."""
    family = (
        NamedRefusal(name="NONE", code=Reason.NONE, text="no reason given"),
        NamedRefusal(
            name="UNKNOWN_COMMAND", code=Reason.UNKNOWN_COMMAND, text="unknown command code"
        ),
        NamedRefusal(
            name="WRONG_STATE", code=Reason.WRONG_STATE, text=f"not allowed in {present_state}"
        ),
        NamedRefusal(
            name="INTERLOCK_OPEN", code=Reason.INTERLOCK_OPEN, text="an interlock is open"
        ),
        NamedRefusal(name="OUT_OF_RANGE", code=Reason.OUT_OF_RANGE, text="value out of range"),
        NamedRefusal(
            name="ALARM_ACTIVE", code=Reason.ALARM_ACTIVE, text="an alarm is active; reset first"
        ),
    )
    return tuple(sorted((*family, *own), key=lambda refusal: int(refusal.code)))
