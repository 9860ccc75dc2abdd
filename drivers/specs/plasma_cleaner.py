"""The plasma cleaner's contract: a batch plasma chamber PLC on Modbus
(docs/protocols/plasma-cleaner.md).

A batch of wafer slots in one chamber; a recipe of steps (gas, flow, pressure, RF power, time),
each step a group of registers repeated at a fixed stride. The ranges the chamber accepts (the
gas flow among them) are declared here once.
"""

from __future__ import annotations

from typing import Any

from ..families.plc_map import (
    BitAlarm,
    BitInterlock,
    NamedRefusal,
    PlcCommand,
    PlcMap,
    PlcParameter,
    PlcSetpoint,
    PlcStatus,
    enum_codes,
    plc_refusals,
)
from ..roles.plasma_cleaner import ChamberState, Gas, LastResult
from .core import ExpectedIdentity, Range, ToolSpec

#: The gases as the map codes them (GAS of a step, GAS_ACTUAL).
GAS_CODES = ((1, Gas.O2.value), (2, Gas.AR.value), (3, Gas.FORMING_GAS.value))
MAX_STEPS = 8
MAX_SLOTS = 8
STEP_STRIDE = 10


def _step(
    name: str, unit: str, low: float, high: float, offset: int, **binding: Any
) -> PlcSetpoint:
    return PlcSetpoint(
        name=name,
        unit=unit,
        machine_range=Range(low, high),
        register=210 + offset,
        stride=STEP_STRIDE,
        repeat=MAX_STEPS,
        **binding,
    )


SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="plasma_cleaner",
    role="plasma_cleaner",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="PC-4", firmware="1.0"),
    doc="batch plasma chamber PLC on Modbus TCP/RTU",
    status=(
        PlcStatus(name="CHAMBER_STATE", register=0, codes=enum_codes(ChamberState)),
        PlcStatus(name="ALARMS", register=1, doc="bit field, see *Alarms*"),
        PlcStatus(name="INTERLOCKS", register=2, doc="bit field, 1 = closed, see *Interlocks*"),
        PlcStatus(
            name="PRESSURE",
            register=3,
            words=2,
            unit="mTorr",
            trace="pressure",
            doc="chamber pressure (atmosphere = 760000)",
        ),
        PlcStatus(name="RF_FORWARD", register=5, unit="W", trace="rf_forward"),
        PlcStatus(name="RF_REFLECTED", register=6, unit="W", trace="rf_reflected"),
        PlcStatus(name="GAS_FLOW", register=7, unit="sccm", trace="gas_flow", doc="measured"),
        PlcStatus(name="GAS_ACTUAL", register=8, codes=((0, "none"), *GAS_CODES)),
        PlcStatus(
            name="STEP_INDEX",
            register=9,
            doc="1-based step running (the last step after a completed run), 0 none",
        ),
        PlcStatus(name="STEP_REMAINING", register=10, unit="s", scale=10),
        PlcStatus(
            name="ELAPSED",
            register=11,
            words=2,
            unit="s",
            scale=10,
            doc="process time of the current/last run",
        ),
        PlcStatus(
            name="RECIPES_COMPLETED",
            register=13,
            doc="counter of finished runs (any result), wraps at 65536",
        ),
        PlcStatus(name="LAST_RESULT", register=14, codes=enum_codes(LastResult)),
        PlcStatus(name="DOOR_CLOSED", register=15, codes=((0, "open"), (1, "closed"))),
        PlcStatus(name="SLOT_CAPACITY", register=16, doc=f"number of wafer slots (1-{MAX_SLOTS})"),
        PlcStatus(
            name="SLOTS_OCCUPIED", register=17, doc="bit field, bit n = slot n holds a wafer"
        ),
        PlcStatus(name="BASE_PRESSURE", register=18, unit="mTorr", doc="what the pump reaches"),
        PlcStatus(
            name="COMMAND_ERROR", register=19, doc="why the last write was refused, see *Errors*"
        ),
        PlcStatus(name="SERIAL_NUMBER", register=20, words=8, text=True),
        PlcStatus(
            name="SLOT_WAFER_ID",
            register=40,
            words=8,
            text=True,
            stride=8,
            repeat=MAX_SLOTS,
            doc="the id of the wafer in slot i, empty when the slot is free",
        ),
    ),
    setpoints=(
        PlcSetpoint(
            name="steps",
            unit="steps",
            machine_range=Range(1, MAX_STEPS),
            integer=True,
            register=200,
            doc="STEP_COUNT: the recipe's steps",
        ),
        _step("flow_sccm", "sccm", 20, 300, 1, doc="gas flow of step i"),
        _step("pressure_mtorr", "mTorr", 50, 500, 2, doc="chamber pressure of step i"),
        _step("rf_power_w", "W", 100, 1000, 3, doc="RF power of step i (13.56 MHz)"),
        _step("time_s", "s", 30, 600, 4, scale=10, doc="duration of step i"),
    ),
    parameters=(
        PlcParameter(
            name="gas",
            register=210,
            stride=STEP_STRIDE,
            repeat=MAX_STEPS,
            codes=GAS_CODES,
            doc="gas of step i (forming gas: H2 4-10 % in Ar)",
        ),
        PlcParameter(name="slot", doc="slot number, 0 to SLOT_CAPACITY - 1"),
        PlcParameter(name="wafer_id", words=8, text=True, doc="the wafer's id"),
    ),
    commands=(
        PlcCommand(
            name="PUMP_DOWN",
            code=1,
            allowed_in=("vented",),
            interlocks=("door_closed",),
            effect="pumping → evacuated when ≤ 50 mTorr",
        ),
        PlcCommand(
            name="VENT",
            code=2,
            allowed_in=("evacuated", "pumping"),
            effect="venting → vented (30 s)",
        ),
        PlcCommand(
            name="START_RECIPE",
            code=3,
            allowed_in=("evacuated",),
            interlocks=("door_closed", "base_pressure", "gas_supply"),
            conditions="recipe in range (4)",
            effect="processing → evacuated; RECIPES_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=4,
            while_alarmed=True,
            effect="RF off, gas off; a run ends with LAST_RESULT 2; pumping turns to venting",
        ),
        PlcCommand(name="OPEN_DOOR", code=5, allowed_in=("vented",), effect="door open"),
        PlcCommand(name="CLOSE_DOOR", code=6, allowed_in=("vented",), effect="door closed"),
        PlcCommand(
            name="RESET_ALARMS",
            code=7,
            while_alarmed=True,
            effect="clears latched alarms; a faulted chamber goes to evacuated (≤ 50 mTorr) "
            "or vents",
        ),
        PlcCommand(
            name="LOAD_WAFER",
            code=8,
            parameters=("slot", "wafer_id"),
            allowed_in=("vented",),
            conditions="door open (2), slot exists (4) and is free (5), id printable ASCII "
            "not already loaded (7)",
            effect="wafer in slot",
        ),
        PlcCommand(
            name="UNLOAD_WAFER",
            code=9,
            parameters=("slot",),
            allowed_in=("vented",),
            conditions="door open (2), slot exists (4) and holds a wafer (6)",
            effect="slot free",
        ),
    ),
    alarms=(
        BitAlarm(
            code="REFLECTED_POWER",
            bit=0,
            text="RF reflected power above its limit; RF switched off",
        ),
        BitAlarm(
            code="BASE_PRESSURE_NOT_REACHED",
            bit=1,
            text="base pressure not reached within the pump-down time",
        ),
        BitAlarm(code="GAS_FLOW", bit=2, text="gas flow outside its tolerance"),
        BitAlarm(code="PRESSURE_CONTROL", bit=3, text="chamber pressure outside its tolerance"),
        BitAlarm(
            code="DOOR_OPENED_IN_PROCESS", bit=4, text="door interlock opened during processing"
        ),
    ),
    interlocks=(
        BitInterlock(name="door_closed", bit=0, doc="the door is closed"),
        BitInterlock(name="base_pressure", bit=1, doc="the chamber is at or below 50 mTorr"),
        BitInterlock(name="gas_supply", bit=2, doc="the process gas supply is present"),
        BitInterlock(name="rf_permissive", bit=3, doc="no alarm latched and the door closed"),
    ),
    refusals=plc_refusals(
        "the chamber's present state",
        NamedRefusal(name="SLOT_OCCUPIED", code=5, text="slot already holds a wafer"),
        NamedRefusal(name="SLOT_EMPTY", code=6, text="slot is empty"),
        NamedRefusal(
            name="BAD_WAFER_ID",
            code=7,
            text="wafer id not printable ASCII, or already loaded, or cleaned here before "
            "(no rework)",
        ),
    ),
    wire=PlcMap(
        status_registers=20,
        command_register=300,
        parameter_register=301,
        setpoint_block="recipe",
    ),
)
