"""The tool state machine every driver shares, and how its states map onto SEMI E10.

A driver's state is a `ToolState`; each maps to one E10 equipment state (`ToolState.e10`) for
availability reports. The transitions between them are run by the `transitions` library's
async machine on a `StateModel`, whose triggers are declared here so a type checker sees them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from enum import Enum, StrEnum


class E10State(StrEnum):
    """SEMI E10 equipment states, the vocabulary of equipment availability reports."""

    PRODUCTIVE = "productive"
    STANDBY = "standby"
    ENGINEERING = "engineering"
    SCHEDULED_DOWNTIME = "scheduled downtime"
    UNSCHEDULED_DOWNTIME = "unscheduled downtime"
    NON_SCHEDULED = "non-scheduled"


class ToolState(StrEnum):
    """The driver's view of its tool; each maps to one E10 state."""

    OFFLINE = "offline"
    IDLE = "idle"
    BUSY = "busy"
    ENGINEERING = "engineering"
    MAINTENANCE = "maintenance"
    FAULT = "fault"

    @property
    def e10(self) -> E10State:
        return _E10_OF[self]


_E10_OF = {
    ToolState.OFFLINE: E10State.NON_SCHEDULED,
    ToolState.IDLE: E10State.STANDBY,
    ToolState.BUSY: E10State.PRODUCTIVE,
    ToolState.ENGINEERING: E10State.ENGINEERING,
    ToolState.MAINTENANCE: E10State.SCHEDULED_DOWNTIME,
    ToolState.FAULT: E10State.UNSCHEDULED_DOWNTIME,
}

#: The states in which a tool takes a command that moves a workpiece or changes its setup:
#: idle, or in an engineer's hands (engineering).
READY_STATES = (ToolState.IDLE, ToolState.ENGINEERING)

TRANSITIONS = [
    {"trigger": "go_online", "source": ToolState.OFFLINE, "dest": ToolState.IDLE},
    # connected to a tool already running a process nobody of this driver started
    {"trigger": "go_online_working", "source": ToolState.OFFLINE, "dest": ToolState.BUSY},
    {"trigger": "go_offline", "source": "*", "dest": ToolState.OFFLINE},
    {"trigger": "start_work", "source": ToolState.IDLE, "dest": ToolState.BUSY},
    {"trigger": "start_work", "source": ToolState.ENGINEERING, "dest": ToolState.ENGINEERING},
    {"trigger": "end_work", "source": ToolState.BUSY, "dest": ToolState.IDLE},
    {"trigger": "end_work", "source": ToolState.ENGINEERING, "dest": ToolState.ENGINEERING},
    {"trigger": "fail", "source": "*", "dest": ToolState.FAULT},
    {"trigger": "recover", "source": ToolState.FAULT, "dest": ToolState.IDLE},
    {"trigger": "enter_engineering", "source": ToolState.IDLE, "dest": ToolState.ENGINEERING},
    {"trigger": "leave_engineering", "source": ToolState.ENGINEERING, "dest": ToolState.IDLE},
    {"trigger": "start_maintenance", "source": ToolState.IDLE, "dest": ToolState.MAINTENANCE},
    {"trigger": "end_maintenance", "source": ToolState.MAINTENANCE, "dest": ToolState.IDLE},
]


def working(state: Enum, at_rest: Collection[Enum], energy_on: str | None = None) -> str | None:
    """What a tool reporting `state` (its process, job, cycle or chamber state) is doing, as
    the tool names it ('processing', 'vacuum hold'), when that is none of `at_rest`: the
    states in which it runs nothing (its idle or ready states, and its fault, which its alarms
    tell); None in those. `energy_on` names an energy the tool reports switched on ('RF on'),
    said beside its state ('processing (RF on)'): energy on is working in any state. Each role
    declares its `at_rest` once, beside its states."""
    doing = None if state in at_rest else state.name.lower().replace("_", " ")
    if energy_on is None:
        return doing
    return energy_on if doing is None else f"{doing} ({energy_on})"


def still_working(state: Enum, at_rest: Collection[Enum]) -> str | None:
    """What a tool reporting `state` once its safe state was commanded shows that is not that
    state: `still <what it is doing>` (`working`) when `state` is none of `at_rest` (the role's
    states at rest: its stop done, or an alarm stopped it), else None."""
    doing = working(state, at_rest)
    return None if doing is None else f"still {doing}"


#: Told a driver's new state after each change of it (`Equipment.add_state_listener`).
StateListener = Callable[["ToolState"], None]

#: What one of transitions' generated triggers is: awaited, it says whether the state changed.
Trigger = Callable[[], Awaitable[bool]]


class StateModel:
    """The object transitions drives; kept apart so no driver method can shadow a trigger.

    The triggers are declared, not defined, so that a type checker sees them and transitions
    still binds its own (it skips a name the model already has); one per trigger of
    `TRANSITIONS` (tests/drivers/test_equipment.py keeps the two in step).

    The state is a property whose setter tells `on_change` each new state transitions set: a
    callback of transitions' own (`after_state_change`) would add an await point inside every
    trigger, where a cancellation (an abort) could land half-way through a transition.
    """

    go_online: Trigger
    go_online_working: Trigger
    go_offline: Trigger
    start_work: Trigger
    end_work: Trigger
    fail: Trigger
    recover: Trigger
    enter_engineering: Trigger
    leave_engineering: Trigger
    start_maintenance: Trigger
    end_maintenance: Trigger

    def __init__(self, on_change: Callable[[ToolState], None]) -> None:
        self._value = ToolState.OFFLINE
        self._on_change = on_change

    @property
    def state(self) -> ToolState:
        return self._value

    @state.setter
    def state(self, value: ToolState) -> None:
        state = ToolState(value)
        if state is not self._value:  # a transition may lead back to its own state
            self._value = state
            self._on_change(state)
