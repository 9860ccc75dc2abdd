"""What a simulated SCPI tool keeps per connection: its error queue and status registers.

IEEE 488.2 status reporting as SCPI-99 keeps it per session: a refused line is a `ScpiError`
queued as `code,"message;detail"` for `SYST:ERR?` (10 deep; an overflow replaces the newest
entry with -350), its class sets a bit of the event status register, and the status byte
summarises the queue and the enabled events. A state refusal the spec declares is queued in
its words (`unmet`; the first of a command's, `first_unmet_refusal`), any other settings
conflict by its detail (`conflict`). The family's wire side
(`sim_instruments/families/scpi.py`) keeps one `Session` per connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from packline.drivers.families.scpi_wire import ScpiCommand, ScpiPrecondition

#: Event status register bits (IEEE 488.2 11.5.1).
OPERATION_COMPLETE = 1 << 0
QUERY_ERROR = 1 << 2
DEVICE_ERROR = 1 << 3
EXECUTION_ERROR = 1 << 4
COMMAND_ERROR = 1 << 5
POWER_ON = 1 << 7

#: Status byte bits (IEEE 488.2 11.2).
ERROR_QUEUE_NOT_EMPTY = 1 << 2
EVENT_STATUS_BIT = 1 << 5
MASTER_SUMMARY = 1 << 6


class ScpiError(Exception):
    """A line the tool refuses: queued as `code,"message;detail"` for `SYST:ERR?`; `parameter`,
    the position of the program data it blames (0 the first), when it blames one (a GEM face
    names the remote command parameter that carried it)."""

    def __init__(self, code: int, detail: str = "", *, parameter: int | None = None) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.parameter = parameter


def conflict(detail: str) -> ScpiError:
    """-221: not allowed in the present state."""
    return ScpiError(-221, detail)


def unmet(precondition: ScpiPrecondition, **fields: object) -> ScpiError:
    """The refusal of a command whose `precondition` the tool's state leaves unmet: its
    declared code and words (`fields` fill the words in), as the spec declares it is queued
    (`ScpiPrecondition.queued`)."""
    code, detail = precondition.queued(**fields)
    return ScpiError(code, detail)


def first_unmet_refusal(
    command: ScpiCommand, unmet_now: Mapping[ScpiPrecondition, bool], **fields: object
) -> ScpiError | None:
    """The refusal (`unmet`) of the first of `command`'s preconditions, in the order the spec
    declares the tool checks them, that the tool's state leaves unmet (`unmet_now`: what the
    tool judges of its state, by precondition; `ScpiCommand.first_unmet`, a ValueError for one
    the tool does not judge); None when every one is met. Its words' fields are the command's
    own (`ScpiCommand.own_fields`) and the state's, `fields`."""
    first = command.first_unmet(unmet_now)
    return None if first is None else unmet(first, **command.own_fields, **fields)


def is_command_error(code: int) -> bool:
    """Whether `code` is of SCPI's command error class (-1xx): the parser's, a unit it could
    not read (syntax, header, parameter type or count), after which it cannot know where the
    next unit begins; any other class is about a unit it read (-2xx execution, -3xx device,
    a tool's own code)."""
    return -199 <= code <= -100


def _event_bit(code: int) -> int:
    """The ESR bit an error sets: its SCPI class, a tool's own code device-dependent."""
    if is_command_error(code):
        return COMMAND_ERROR
    if -299 <= code <= -200:
        return EXECUTION_ERROR
    if -499 <= code <= -400:
        return QUERY_ERROR
    return DEVICE_ERROR


@dataclass
class Session:
    """What SCPI keeps per connection: its error queue and its status registers."""

    depth: int
    errors: deque[tuple[int, str]] = field(default_factory=deque)
    event_status: int = POWER_ON
    event_enable: int = 0
    service_enable: int = 0
    #: An `*OPC` came while an operation was pending: ESR bit 0 is set once it ends.
    operation_complete_owed: bool = False

    def queue(self, code: int, message: str) -> None:
        """Queue an error; a full queue's newest entry becomes -350 (SCPI-99 21.8)."""
        self.event_status |= _event_bit(code)
        if len(self.errors) < self.depth:
            self.errors.append((code, message))
        else:
            self.errors[-1] = (-350, "Queue overflow")

    def status_byte(self) -> int:
        status = ERROR_QUEUE_NOT_EMPTY if self.errors else 0
        if self.event_status & self.event_enable:
            status |= EVENT_STATUS_BIT
        if status & self.service_enable:
            status |= MASTER_SUMMARY
        return status
