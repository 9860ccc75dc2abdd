"""The deposition tool's contract: a batch vacuum deposition chamber PLC on Modbus
(docs/protocols/deposition.md).

A batch of wafer slots in one chamber with sputter targets, an e-beam evaporator's pockets and
a PECVD electrode (its sources), a crystal monitor and two gauges (a convection/capacitance
gauge from atmosphere down, an ion gauge for the high vacuum). A recipe of up to 8 steps, each
a group of registers repeated at a fixed stride, after a base pressure the chamber must reach.
The chamber block (state, door, slots, pump-down, vent) is the plasma cleaner's.
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
    NamedRefusal,
    PlcMap,
    PlcSetpoint,
    PlcStatus,
    command_error_status,
    enum_codes,
    refused_register_status,
    serial_number_status,
)
from ..roles.deposition import (
    ULTIMATE_PRESSURE_UTORR,
    ChamberState,
    LastResult,
    Material,
    Method,
    ProcessGas,
)
from .core import ExpectedIdentity, Made, Range, ToolSpec

#: The methods, materials and gases as the map codes them (a step's block, the sources, the
#: actual values); 0 is "none" where the map reads one.
METHOD_CODES = ((1, Method.SPUTTER.value), (2, Method.EVAPORATE.value), (3, Method.CVD.value))
MATERIAL_CODES = tuple((code, material.value) for code, material in enumerate(Material, 1))
GAS_CODES = tuple((code, gas.value) for code, gas in enumerate(ProcessGas))
MAX_SLOTS = 8
MAX_SOURCES = 12
#: The ion gauge's top: at or above 1e-3 Torr it reads this (it is off above it).
ION_GAUGE_TOP_UTORR = 1000.0


SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="deposition",
    role="deposition",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="TF-3", firmware="1.0"),
    doc="batch thin-film deposition chamber (sputter, e-beam evaporation, PECVD) PLC on "
    "Modbus TCP/RTU",
    status=(
        PlcStatus(name="CHAMBER_STATE", register=0, codes=enum_codes(ChamberState)),
        *ALARM_AND_INTERLOCK_STATUS,
        PlcStatus(
            name="PRESSURE",
            register=3,
            words=2,
            unit="mTorr",
            scale=10,
            trace="pressure",
            doc="chamber pressure, convection/capacitance gauge (atmosphere = 7600000)",
        ),
        PlcStatus(
            name="HIGH_VACUUM",
            register=5,
            words=2,
            unit="uTorr",
            scale=100,
            trace="high_vacuum",
            doc=f"ion gauge; reads {ION_GAUGE_TOP_UTORR * 100:.0f} (its top, 1e-3 Torr) at or "
            "above it",
        ),
        PlcStatus(
            name="SOURCE_POWER",
            register=7,
            unit="W",
            trace="source_power",
            doc="DC (sputter), e-beam (evaporate) or RF (CVD) power delivered",
        ),
        PlcStatus(name="GAS_FLOW", register=8, unit="sccm", trace="gas_flow", doc="measured"),
        PlcStatus(name="METHOD_ACTUAL", register=9, codes=((0, "none"), *METHOD_CODES)),
        PlcStatus(name="MATERIAL_ACTUAL", register=10, codes=((0, "none"), *MATERIAL_CODES)),
        PlcStatus(
            name="STEP_INDEX",
            register=11,
            doc="1-based step running (the last step after a completed run), 0 none",
        ),
        PlcStatus(
            name="STEP_REMAINING",
            register=12,
            unit="s",
            scale=10,
            doc="a thickness step: to its end point at the present rate",
        ),
        PlcStatus(
            name="ELAPSED",
            register=13,
            words=2,
            unit="s",
            scale=10,
            doc="process time of the current/last run",
        ),
        PlcStatus(
            name="FILM_THICKNESS",
            register=15,
            unit="nm",
            scale=10,
            trace="film_thickness",
            doc="crystal monitor: the film of the step running (or of the last step)",
        ),
        PlcStatus(
            name="DEPOSITION_RATE",
            register=16,
            unit="nm/s",
            scale=100,
            trace="deposition_rate",
            doc="crystal monitor: the rate now",
        ),
        PlcStatus(
            name="RECIPES_COMPLETED",
            register=17,
            doc="counter of finished runs (any result), wraps at 65536",
        ),
        PlcStatus(name="LAST_RESULT", register=18, codes=enum_codes(LastResult)),
        door_status(19),
        *slot_status(20, MAX_SLOTS),
        refused_register_status(22, "a recipe register, 300 or 301"),
        command_error_status(23),
        PlcStatus(
            name="CRYSTAL_LIFE",
            register=24,
            unit="%",
            doc="crystal monitor: life left of its quartz crystal (100 new, 0 failed)",
        ),
        serial_number_status(30),
        slot_ids(40, MAX_SLOTS),
        PlcStatus(
            name="SOURCE_METHOD",
            register=104,
            stride=2,
            repeat=MAX_SOURCES,
            codes=((0, "none"), *METHOD_CODES),
            doc="how source i deposits (0: no source at position i)",
        ),
        PlcStatus(
            name="SOURCE_MATERIAL",
            register=105,
            stride=2,
            repeat=MAX_SOURCES,
            codes=((0, "none"), *MATERIAL_CODES),
            doc="what source i deposits",
        ),
        PlcStatus(
            name="STEP_THICKNESS",
            register=128,
            stride=1,
            repeat=MAX_STEPS,
            unit="nm",
            scale=10,
            doc="crystal monitor: the film step i laid in the last run",
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
        PlcSetpoint(
            name="base_pressure_utorr",
            unit="uTorr",
            # a register step (1 / scale) above what the pump reaches, which it never passes
            machine_range=Range(ULTIMATE_PRESSURE_UTORR + 0.1, 50),
            scale=10,
            register=201,
            doc="the high vacuum the chamber must reach before the first step; above the "
            f"{ULTIMATE_PRESSURE_UTORR:g} uTorr the turbo pump reaches and never passes",
        ),
        step_setpoint("power_w", "W", 0, 3000, 2, doc="DC (sputter) or RF (CVD) power of step i"),
        step_setpoint(
            "rate_nm_s", "nm/s", 0, 5, 3, scale=100, doc="evaporation rate of step i (crystal)"
        ),
        step_setpoint(
            "pressure_mtorr", "mTorr", 0, 2000, 4, scale=10, doc="process pressure of step i"
        ),
        step_setpoint("flow_sccm", "sccm", 0, 1000, 6, doc="gas flow of step i"),
        step_setpoint(
            "time_s", "s", 1, 3600, 7, scale=10, doc="duration (or time limit) of step i"
        ),
        step_setpoint(
            "thickness_nm",
            "nm",
            0,
            5000,
            8,
            scale=10,
            doc="crystal end point of step i (0: the step is timed)",
        ),
    ),
    parameters=(
        step_parameter("method", 0, METHOD_CODES, "method of step i"),
        step_parameter("material", 1, MATERIAL_CODES, "material of step i"),
        step_parameter("gas", 5, GAS_CODES, "gas of step i"),
        *slot_parameters(),
    ),
    commands=chamber_commands(
        start_interlocks=(
            "door_closed",
            "base_pressure",
            "process_gas",
            "cooling_water",
            "exhaust",
        ),
        start_conditions="recipe in range (4), each step fits its method (10) and has a source (9)",
        pump_down_effect="pumping → evacuated at ≤ 50 mTorr; the turbo pump goes on to high vacuum",
        vent_effect="venting with N2 → vented (60 s)",
        energy="power",
    ),
    alarms=(
        BitAlarm(code="ARCING", bit=0, text="arc rate on the source above its limit; power off"),
        BitAlarm(
            code="BASE_PRESSURE_NOT_REACHED",
            bit=1,
            text="50 mTorr not reached within the pump-down time",
        ),
        BitAlarm(code="GAS_FLOW", bit=2, text="gas flow outside its tolerance"),
        BitAlarm(code="PRESSURE_CONTROL", bit=3, text="chamber pressure outside its tolerance"),
        BitAlarm(
            code="DOOR_OPENED_IN_PROCESS", bit=4, text="door interlock opened during processing"
        ),
        BitAlarm(code="CRYSTAL_FAILED", bit=5, text="crystal monitor lost its reading; power off"),
        BitAlarm(
            code="END_POINT_NOT_REACHED",
            bit=6,
            text="a step's thickness not reached within its time limit",
        ),
        BitAlarm(code="COOLING_WATER", bit=7, text="source cooling water lost during processing"),
    ),
    interlocks=(
        BitInterlock(name="door_closed", made=Made.STEP, bit=0, doc="the door is closed"),
        BitInterlock(
            name="base_pressure",
            made=Made.STEP,
            bit=1,
            doc="the high vacuum is at or below the recipe's base pressure",
        ),
        BitInterlock(
            name="process_gas",
            made=Made.SUPPLY,
            bit=2,
            doc="the Ar and silane gas supplies are present",
        ),
        BitInterlock(
            name="cooling_water", made=Made.SUPPLY, bit=3, doc="the sources' cooling water flows"
        ),
        BitInterlock(
            name="exhaust", made=Made.SUPPLY, bit=4, doc="the toxic-gas exhaust and scrubber run"
        ),
        BitInterlock(
            name="power_permissive",
            made=Made.STEP,
            bit=5,
            doc="no alarm latched and the door closed",
        ),
    ),
    refusals=chamber_refusals(
        "coated",
        NamedRefusal(
            name="NO_SOURCE", code=9, text="no source installed for a step's method and material"
        ),
        NamedRefusal(
            name="STEP_MISMATCH",
            code=10,
            text="a step's power, rate, pressure, gas or flow does not fit its method",
        ),
    ),
    wire=PlcMap(
        status_registers=25,
        command_register=300,
        parameter_register=301,
        setpoint_block="recipe",
        counted_changes=(*CHAMBER_CHANGES, "METHOD_ACTUAL", "MATERIAL_ACTUAL"),
    ),
)
