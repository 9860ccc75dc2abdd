"""The deposition tool's contract: a batch vacuum deposition chamber PLC on Modbus
(docs/protocols/deposition.md).

A batch of wafer slots in one chamber with sputter targets, an e-beam evaporator's pockets and
a PECVD electrode (its sources), a crystal monitor and two gauges (a convection/capacitance
gauge from atmosphere down, an ion gauge for the high vacuum). A recipe of up to 8 steps, each
a group of registers repeated at a fixed stride, after a base pressure the chamber must reach.
The chamber block (state, door, slots, pump-down, vent) is the plasma cleaner's.
"""

from __future__ import annotations

from typing import Any

from ..families.modbus_plc import (
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
from ..roles.deposition import ChamberState, LastResult, Material, Method, ProcessGas
from .core import ExpectedIdentity, Range, ToolSpec

#: The methods, materials and gases as the map codes them (a step's block, the sources, the
#: actual values); 0 is "none" where the map reads one.
METHOD_CODES = ((1, Method.SPUTTER.value), (2, Method.EVAPORATE.value), (3, Method.CVD.value))
MATERIAL_CODES = tuple((code, material.value) for code, material in enumerate(Material, 1))
GAS_CODES = tuple((code, gas.value) for code, gas in enumerate(ProcessGas))
MAX_STEPS = 8
MAX_SLOTS = 8
MAX_SOURCES = 12
STEP_STRIDE = 10
#: The ion gauge's top: at or above 1e-3 Torr it reads this (it is off above it).
ION_GAUGE_TOP_UTORR = 1000.0


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


def _coded(name: str, offset: int, codes: tuple[tuple[int, str], ...], doc: str) -> PlcParameter:
    return PlcParameter(
        name=name,
        register=210 + offset,
        stride=STEP_STRIDE,
        repeat=MAX_STEPS,
        codes=codes,
        doc=doc,
    )


SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="deposition",
    role="deposition",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="TF-3", firmware="1.0"),
    doc="batch thin-film deposition chamber (sputter, e-beam evaporation, PECVD) PLC on "
    "Modbus TCP/RTU",
    status=(
        PlcStatus(name="CHAMBER_STATE", register=0, codes=enum_codes(ChamberState)),
        PlcStatus(name="ALARMS", register=1, doc="bit field, see *Alarms*"),
        PlcStatus(name="INTERLOCKS", register=2, doc="bit field, 1 = closed, see *Interlocks*"),
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
        PlcStatus(name="DOOR_CLOSED", register=19, codes=((0, "open"), (1, "closed"))),
        PlcStatus(name="SLOT_CAPACITY", register=20, doc=f"number of wafer slots (1-{MAX_SLOTS})"),
        PlcStatus(
            name="SLOTS_OCCUPIED", register=21, doc="bit field, bit n = slot n holds a wafer"
        ),
        PlcStatus(
            name="REFUSED_REGISTER",
            register=22,
            doc="the address the last refusal concerned (a recipe register, 300 or 301)",
        ),
        PlcStatus(
            name="COMMAND_ERROR", register=23, doc="why the last write was refused, see *Errors*"
        ),
        PlcStatus(
            name="CRYSTAL_LIFE",
            register=24,
            unit="%",
            doc="crystal monitor: life left of its quartz crystal (100 new, 0 failed)",
        ),
        PlcStatus(name="SERIAL_NUMBER", register=30, words=8, text=True),
        PlcStatus(
            name="SLOT_WAFER_ID",
            register=40,
            words=8,
            text=True,
            stride=8,
            repeat=MAX_SLOTS,
            doc="the id of the wafer in slot i, empty when the slot is free",
        ),
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
            machine_range=Range(0.1, 50),
            scale=10,
            register=201,
            doc="the high vacuum the chamber must reach before the first step",
        ),
        _step("power_w", "W", 0, 3000, 2, doc="DC (sputter) or RF (CVD) power of step i"),
        _step("rate_nm_s", "nm/s", 0, 5, 3, scale=100, doc="evaporation rate of step i (crystal)"),
        _step("pressure_mtorr", "mTorr", 0, 2000, 4, scale=10, doc="process pressure of step i"),
        _step("flow_sccm", "sccm", 0, 1000, 6, doc="gas flow of step i"),
        _step("time_s", "s", 1, 3600, 7, scale=10, doc="duration (or time limit) of step i"),
        _step(
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
        _coded("method", 0, METHOD_CODES, "method of step i"),
        _coded("material", 1, MATERIAL_CODES, "material of step i"),
        _coded("gas", 5, GAS_CODES, "gas of step i"),
        PlcParameter(name="slot", doc="slot number, 0 to SLOT_CAPACITY - 1"),
        PlcParameter(name="wafer_id", words=8, text=True, doc="the wafer's id"),
    ),
    commands=(
        PlcCommand(
            name="PUMP_DOWN",
            code=1,
            allowed_in=("vented",),
            interlocks=("door_closed",),
            effect="pumping → evacuated at ≤ 50 mTorr; the turbo pump goes on to high vacuum",
        ),
        PlcCommand(
            name="VENT",
            code=2,
            allowed_in=("evacuated", "pumping"),
            effect="venting with N2 → vented (60 s)",
        ),
        PlcCommand(
            name="START_RECIPE",
            code=3,
            allowed_in=("evacuated",),
            interlocks=("door_closed", "base_pressure", "process_gas", "cooling_water", "exhaust"),
            conditions="recipe in range (4), each step fits its method (10) and has a source (9)",
            effect="processing → evacuated; RECIPES_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=4,
            while_alarmed=True,
            effect="power off, gas off; a run ends with LAST_RESULT 2; pumping turns to venting",
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
        BitInterlock(name="door_closed", bit=0, doc="the door is closed"),
        BitInterlock(
            name="base_pressure",
            bit=1,
            doc="the high vacuum is at or below the recipe's base pressure",
        ),
        BitInterlock(name="process_gas", bit=2, doc="the Ar and silane gas supplies are present"),
        BitInterlock(name="cooling_water", bit=3, doc="the sources' cooling water flows"),
        BitInterlock(name="exhaust", bit=4, doc="the toxic-gas exhaust and scrubber run"),
        BitInterlock(name="power_permissive", bit=5, doc="no alarm latched and the door closed"),
    ),
    refusals=plc_refusals(
        "the chamber's present state",
        NamedRefusal(name="SLOT_OCCUPIED", code=5, text="slot already holds a wafer"),
        NamedRefusal(name="SLOT_EMPTY", code=6, text="slot is empty"),
        NamedRefusal(
            name="BAD_WAFER_ID",
            code=7,
            text="wafer id not printable ASCII, or already loaded, or coated here before "
            "(no rework)",
        ),
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
    ),
)
