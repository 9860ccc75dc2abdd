"""The chamber block of a PLC map, what both ends of the link share (decisions/0010).

The batch vacuum chambers (the plasma cleaner, the deposition tool) present the same block on
their maps: commands 1-9 (pump-down, vent, the recipe's start, abort, the door, reset, and the
load and unload of the batch block, `batch_map.py`), the slot refusals (5-7) and the recipe's
step block (step i's registers from 210 + 10·i, at most 8 steps). Each chamber's spec declares
its block from here; `drivers/families/plc_chamber.py` drives it and
`sim_instruments/families/plc_chamber.py` simulates it.
"""

from __future__ import annotations

from typing import Any

from ..specs.core import Range
from .batch_map import BATCH_CHANGES, batch_refusals, slot_commands
from .plc_map import NamedRefusal, PlcCommand, PlcParameter, PlcSetpoint

#: The chamber block's status values whose changes `STATUS_CHANGES` counts (`PlcMap`): what
#: the chamber's waits end on (its state, a run's steps and end, the door and slots).
CHAMBER_CHANGES = (
    "CHAMBER_STATE",
    "STEP_INDEX",
    "RECIPES_COMPLETED",
    "LAST_RESULT",
    *BATCH_CHANGES,
)

#: A chamber recipe's step block: step i's registers from 210 + 10·i, at most 8 steps.
STEP_REGISTER = 210
STEP_STRIDE = 10
MAX_STEPS = 8


def step_setpoint(
    name: str, unit: str, low: float, high: float, offset: int, **binding: Any
) -> PlcSetpoint:
    """A setpoint of every step, at `offset` in the step block, the tool taking `low`-`high`."""
    return PlcSetpoint(
        name=name,
        unit=unit,
        machine_range=Range(low, high),
        register=STEP_REGISTER + offset,
        stride=STEP_STRIDE,
        repeat=MAX_STEPS,
        **binding,
    )


def step_parameter(
    name: str, offset: int, codes: tuple[tuple[int, str], ...], doc: str
) -> PlcParameter:
    """A coded value of every step (a gas, a method), at `offset` in the step block."""
    return PlcParameter(
        name=name,
        register=STEP_REGISTER + offset,
        stride=STEP_STRIDE,
        repeat=MAX_STEPS,
        codes=codes,
        doc=doc,
    )


def chamber_commands(
    *,
    start_interlocks: tuple[str, ...],
    start_conditions: str,
    pump_down_effect: str,
    vent_effect: str,
    energy: str,
) -> tuple[PlcCommand, ...]:
    """The chamber block's commands, codes 1-9 and 20 on every chamber's map: START_RECIPE
    guarded by `start_interlocks` and checking `start_conditions`, PUMP_DOWN and VENT doing
    what their effects say, ABORT switching off `energy` ("RF", "power")."""
    vented = ("vented",)
    return (
        PlcCommand(
            name="PUMP_DOWN",
            code=1,
            allowed_in=vented,
            interlocks=("door_closed",),
            effect=pump_down_effect,
        ),
        PlcCommand(name="VENT", code=2, allowed_in=("evacuated", "pumping"), effect=vent_effect),
        PlcCommand(
            name="START_RECIPE",
            code=3,
            allowed_in=("evacuated",),
            interlocks=start_interlocks,
            conditions=start_conditions,
            effect="processing → evacuated; RECIPES_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=4,
            while_alarmed=True,
            effect=f"{energy} off, gas off; a run ends with LAST_RESULT 2; pumping turns to "
            "venting",
        ),
        PlcCommand(name="OPEN_DOOR", code=5, allowed_in=vented, effect="door open"),
        PlcCommand(name="CLOSE_DOOR", code=6, allowed_in=vented, effect="door closed"),
        PlcCommand(
            name="RESET_ALARMS",
            code=7,
            while_alarmed=True,
            effect="clears latched alarms; a faulted chamber goes to evacuated (≤ 50 mTorr) "
            "or vents",
        ),
        *slot_commands(8, vented),
    )


def chamber_refusals(processed: str, *own: NamedRefusal) -> tuple[NamedRefusal, ...]:
    """A chamber map's refusal reasons: the batch block's (`batch_refusals`: 12, a plain load
    of a wafer the chamber `processed` last) and the tool's `own` (9 and up)."""
    return batch_refusals("the chamber's present state", processed, *own)
