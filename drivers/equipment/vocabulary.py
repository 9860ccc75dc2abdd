"""The records every driver speaks in, whatever the tool: who the tool is (`Identity`), an
alarm and a process reading as the driver saw them, and the rule for a wafer id that travels on
every tool's wire. (A setpoint's range is `limits.py`'s.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "WAFER_ID_MAX_LENGTH",
    "WAFER_ID_SEPARATORS",
    "Alarm",
    "Identity",
    "Reading",
    "ReadingListener",
    "is_wafer_id",
    "validate_wafer_id",
]


@dataclass(frozen=True)
class Identity:
    """Who the tool says it is."""

    vendor: str
    model: str
    serial_number: str
    firmware: str

    def __str__(self) -> str:
        return f"{self.vendor} {self.model} s/n {self.serial_number} fw {self.firmware}"


@dataclass(frozen=True)
class Alarm:
    """One alarm as the tool reported it, and when the driver saw it come and go."""

    code: str
    message: str
    raised_at_s: float
    cleared_at_s: float | None = None


@dataclass(frozen=True)
class Reading:
    """One sample of a process trace."""

    tool: str
    name: str
    value: float
    unit: str
    time_s: float


ReadingListener = Callable[[Reading], None]

WAFER_ID_MAX_LENGTH = 16


#: Characters no wafer id holds: they separate arguments and delimit strings on the wire.
WAFER_ID_SEPARATORS = ',;"'


#: A wafer id, whole: 1 to `WAFER_ID_MAX_LENGTH` printable ASCII characters, no space and no
#: separator (a pattern, not a test per character: every twin look-up checks its id).
_WAFER_ID = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in range(33, 127) if chr(c) not in WAFER_ID_SEPARATORS)
    + f"]{{1,{WAFER_ID_MAX_LENGTH}}}"
)


def is_wafer_id(text: str) -> bool:
    """Whether `text` can travel as a wafer id on every tool's wire."""
    return _WAFER_ID.fullmatch(text) is not None


def validate_wafer_id(wafer_id: str) -> None:
    """Wafer ids travel in fixed register blocks and command lines: 1-16 printable ASCII
    characters, none of them a space or a separator of a command line (`,` `;` `"`)."""
    if not is_wafer_id(wafer_id):
        raise ValueError(
            f"wafer id {wafer_id!r} must be 1-{WAFER_ID_MAX_LENGTH} printable ASCII characters, "
            "no space, comma, semicolon or double quote"
        )
