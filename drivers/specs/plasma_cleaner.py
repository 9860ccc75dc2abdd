"""The plasma cleaner's contract: a batch plasma chamber PLC on Modbus
(docs/protocols/plasma-cleaner.md).

A batch of wafer slots in one chamber; a recipe of steps (gas, flow, pressure, RF power, time),
each step a group of registers repeated at a fixed stride. The ranges the chamber accepts (the
gas flow among them) are declared here once.
"""

from __future__ import annotations

from ..families.batch_map import door_status, slot_ids, slot_parameters, slot_status
from ..families.chamber_map import (
    CHAMBER_CHANGES,
    MAX_STEPS,
    chamber_commands,
    chamber_refusals,
    step_parameter,
    step_setpoint,
)
from ..families.plc_map import (
    ALARM_AND_INTERLOCK_STATUS,
    BitAlarm,
    BitInterlock,
    PlcMap,
    PlcSetpoint,
    PlcStatus,
    command_error_status,
    enum_codes,
    serial_number_status,
)
from ..roles.plasma_cleaner import ChamberState, Gas, LastResult
from .core import ExpectedIdentity, Made, Range, ToolSpec

#: The gases as the map codes them (GAS of a step, GAS_ACTUAL).
GAS_CODES = (
    (1, Gas.O2.value),
    (2, Gas.AR.value),
    (3, Gas.FORMING_GAS.value),
    (4, Gas.CF4_O2.value),
)
MAX_SLOTS = 8


SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="plasma_cleaner",
    role="plasma_cleaner",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="PC-4", firmware="1.0"),
    doc="batch plasma chamber PLC on Modbus TCP/RTU",
    status=(
        PlcStatus(name="CHAMBER_STATE", register=0, codes=enum_codes(ChamberState)),
        *ALARM_AND_INTERLOCK_STATUS,
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
        door_status(15),
        *slot_status(16, MAX_SLOTS),
        PlcStatus(name="BASE_PRESSURE", register=18, unit="mTorr", doc="what the pump reaches"),
        command_error_status(19),
        serial_number_status(20),
        slot_ids(40, MAX_SLOTS),
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
        step_setpoint("flow_sccm", "sccm", 20, 300, 1, doc="gas flow of step i"),
        step_setpoint("pressure_mtorr", "mTorr", 50, 500, 2, doc="chamber pressure of step i"),
        step_setpoint("rf_power_w", "W", 100, 1000, 3, doc="RF power of step i (13.56 MHz)"),
        step_setpoint("time_s", "s", 30, 600, 4, scale=10, doc="duration of step i"),
    ),
    parameters=(
        step_parameter(
            "gas",
            0,
            GAS_CODES,
            "gas of step i (forming gas: H2 4-10 % in Ar; CF4/O2: CF4 with about 10 % O2)",
        ),
        *slot_parameters(),
    ),
    commands=chamber_commands(
        start_interlocks=("door_closed", "base_pressure", "gas_supply"),
        start_conditions="recipe in range (4)",
        pump_down_effect="pumping → evacuated when ≤ 50 mTorr",
        vent_effect="venting → vented (30 s)",
        energy="RF",
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
        BitInterlock(name="door_closed", made=Made.STEP, bit=0, doc="the door is closed"),
        BitInterlock(
            name="base_pressure", made=Made.STEP, bit=1, doc="the chamber is at or below 50 mTorr"
        ),
        BitInterlock(
            name="gas_supply", made=Made.SUPPLY, bit=2, doc="the process gas supply is present"
        ),
        BitInterlock(
            name="rf_permissive", made=Made.STEP, bit=3, doc="no alarm latched and the door closed"
        ),
    ),
    refusals=chamber_refusals("cleaned"),
    wire=PlcMap(
        status_registers=20,
        command_register=300,
        parameter_register=301,
        setpoint_block="recipe",
        counted_changes=(*CHAMBER_CHANGES, "GAS_ACTUAL"),
    ),
)
