"""The one error hierarchy of every tool driver and link.

Every message names the tool, its address and what was asked of it, so that a line-side
engineer reading a failed run knows which tool to walk to and what it was doing.
"""

from __future__ import annotations

from collections.abc import Iterable

from packline.shown_figures import figure_text

#: The significant digits a refused setpoint is given beside its limits (`_apart`).
LIMIT_DIGITS = 6


class PacklineError(Exception):
    """Base of every error packline raises on purpose."""


class SetupRefused(PacklineError, ValueError):
    """A driver refuses how it is set up (its station entry's limits or poll interval), before
    any link is opened. `problem` says what without the tool's name, which `tool` carries and
    the message starts with, so a station file's error can name its own place instead."""

    def __init__(self, tool: str, problem: str) -> None:
        self.tool = tool
        self.problem = problem
        super().__init__(f"{tool}: {problem}")


class ToolError(PacklineError):
    """Something went wrong talking to, or with, one tool."""

    def __init__(self, tool: str, address: str, action: str, detail: str) -> None:
        self.tool = tool
        self.address = address
        self.action = action
        self.detail = detail
        super().__init__(f"{tool} at {address}: {action}: {detail}")


class ToolConnectionError(ToolError):
    """The tool could not be reached (refused, unknown address, connect timed out)."""


class ConnectionLost(ToolConnectionError):
    """An established connection to the tool dropped."""


class ToolTimeout(ToolError):
    """The tool did not answer, or a process did not finish, within its timeout."""


class ProtocolError(ToolError):
    """The tool's reply was garbled, or did not follow the documented protocol."""


class WrongTool(ProtocolError):
    """The tool at the address is another kind than the driver drives (a station file mix-up);
    `found_kind`: the registered kind it says it is, where it names one."""

    def __init__(
        self, tool: str, address: str, action: str, detail: str, found_kind: str | None = None
    ) -> None:
        self.found_kind = found_kind
        super().__init__(tool, address, action, detail)


def address_line_text(problem: str, place: str | None) -> str:
    """A station tool's `problem` at its address (it cannot be reached, another kind or
    another tool answers there) with where the station file gives that address, when known
    (`place`: 'line 4 of station file line.yaml', `Station.address_at`): the line to correct.
    One wording for a run's refusal and `packline station check`."""
    return problem if place is None else f"{problem}; its address is on {place}"


def swapped_text(first: str, second: str) -> str:
    """What is said of two station tools each of which answered as the other's kind
    (`WrongTool.found_kind`): their addresses are swapped in the station file. One wording for
    a run's refusal and `packline station check`."""
    return (
        f"{first} and {second} each answer as the other's kind: their addresses are swapped "
        "in the station file (give each the other's)"
    )


class CommandRefused(ProtocolError):
    """The tool understood the request and refused it with the protocol's own error;
    `reason` is what it said, without the code the message ends with."""

    def __init__(self, tool: str, address: str, action: str, detail: str, code: str) -> None:
        self.code = code
        self.reason = detail
        super().__init__(tool, address, action, f"{detail} (tool error {code})")


class ToolAlarm(ToolError):
    """The tool raised one or more alarms; it is in its fault state until reset."""

    def __init__(self, tool: str, address: str, action: str, alarms: list[str]) -> None:
        self.alarms = list(alarms)
        super().__init__(tool, address, action, "alarm " + ", ".join(alarms))


class InterlockOpen(ToolError):
    """An interlock that guards motion or energy is open; nothing was started."""

    def __init__(self, tool: str, address: str, action: str, interlocks: list[str]) -> None:
        self.interlocks = list(interlocks)
        super().__init__(tool, address, action, "interlock open: " + ", ".join(interlocks))


class LimitViolation(ToolError):
    """A setpoint is outside the tool's limits; it was refused before anything was sent."""

    def __init__(
        self,
        tool: str,
        address: str,
        action: str,
        setpoint: str,
        value: float,
        minimum: float,
        maximum: float,
        unit: str,
        *,
        source: str = "",
    ) -> None:
        self.setpoint = setpoint
        self.value = value
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit
        super().__init__(
            tool,
            address,
            action,
            f"{setpoint} = {_apart(value, minimum, maximum)} {unit} is outside the limits "
            + described_limit(minimum, maximum, unit, source),
        )


def _apart(value: float, *bounds: float) -> str:
    """`value` to 6 significant digits, or, where that reads as a bound it is not, to as many
    as tell it from it (`figure_text`, of a numpy scalar too): a value just past a bound read
    `60.0000001 degC is outside [0, 60]` as `60 degC`."""
    return figure_text(float(value), *bounds, digits=LIMIT_DIGITS)


def described_limit(minimum: float, maximum: float, unit: str, source: str = "") -> str:
    """A limit as a refusal names it: `[1, 5.605] cm2`, and where it was set when not by the
    driver (`[1, 5.605] cm2 of station file line.yaml`)."""
    text = f"[{minimum:g}, {maximum:g}] {unit}"
    return f"{text} of {source}" if source else text


class ToolStateError(ToolError):
    """The operation is not allowed in the tool's present state."""


class WorkpieceRefused(ToolError):
    """The tool measured the workpiece it was to process, found it not the one the recipe is
    for, and gave it back unprocessed (a plating cell's seed area far off the design's): the
    operation did not happen."""


class WorkpieceHeld(ToolStateError):
    """The tool holds workpieces that stop the action: a load onto a tool that already holds
    one, or a recovery that found a workpiece its caller did not put there (nothing was taken
    off). `workpieces` are their ids, as the tool reports them."""

    def __init__(
        self, tool: str, address: str, action: str, workpieces: Iterable[str], detail: str
    ) -> None:
        self.workpieces = tuple(workpieces)
        super().__init__(tool, address, action, detail)
