"""The laminator's contract: a vacuum laminator PLC on Modbus (docs/protocols/laminator.md).

One wafer on a heated platen in a vacuum chamber, with a press and a peel unit. The job block
(the sheet and the press recipe) is declared here once, as the setpoints and the support kind
with their registers; the driver, the simulated tool and the page's tables read it from here.
"""

from __future__ import annotations

from ..families.plc_map import (
    ALARM_AND_INTERLOCK_STATUS,
    BitAlarm,
    BitInterlock,
    NamedRefusal,
    PlcCommand,
    PlcMap,
    PlcParameter,
    PlcSetpoint,
    PlcStatus,
    command_error_status,
    enum_codes,
    refused_register_status,
    serial_number_status,
)
from ..families.stage_map import (
    STAGE_CHANGES,
    stage_commands,
    stage_refusals,
    wafer_id_block,
    wafer_id_parameter,
    wafer_loaded,
)
from ..roles.laminator import FOIL_STEP_UM, JobResult, LaminatorPhase, SupportKind
from .core import ExpectedIdentity, Made, Range, ToolSpec

#: The support kinds as the map codes them (SUPPORT_KIND, SUPPORT_ON_WAFER).
SUPPORT_CODES = ((1, SupportKind.FILM.value), (2, SupportKind.METAL_FILM.value))

#: How the PLC keeps a job's extremes (the last three status registers).
_JOB_EXTREME = ", from START_JOB, on every scan (0 before the first job)"
#: The job's extremes the PLC keeps, in their registers' order (read once at a job's end).
JOB_EXTREMES = ("JOB_PEAK_TEMPERATURE", "JOB_BEST_VACUUM", "JOB_PEAK_PRESS")

SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="laminator",
    role="laminator",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="VL-2", firmware="1.0"),
    doc="vacuum laminator PLC for adhesive resin sheets on Modbus TCP/RTU",
    status=(
        PlcStatus(name="PHASE", register=0, codes=enum_codes(LaminatorPhase)),
        *ALARM_AND_INTERLOCK_STATUS,
        PlcStatus(
            name="PLATEN_TEMPERATURE", register=3, unit="degC", scale=10, trace="temperature"
        ),
        PlcStatus(
            name="CHAMBER_PRESSURE",
            register=4,
            words=2,
            unit="Pa",
            trace="vacuum",
            doc="atmosphere = 101325",
        ),
        PlcStatus(
            name="PRESS_PRESSURE",
            register=6,
            unit="MPa",
            scale=1000,
            trace="press_pressure",
            doc="applied by the press (0 when not pressing)",
        ),
        PlcStatus(
            name="STEP_REMAINING",
            register=7,
            unit="s",
            scale=10,
            doc="left in the present phase (0 when unknown or none)",
        ),
        PlcStatus(
            name="ELAPSED",
            register=8,
            words=2,
            unit="s",
            scale=10,
            doc="time of the running or last job",
        ),
        PlcStatus(
            name="PROGRESS",
            register=10,
            unit="%",
            trace="progress",
            doc="of the running or last job, kept after it ends (100 when it completed)",
        ),
        PlcStatus(
            name="JOBS_COMPLETED",
            register=11,
            doc="counter of finished jobs (any result), wraps at 65536",
        ),
        PlcStatus(name="LAST_RESULT", register=12, codes=enum_codes(JobResult)),
        wafer_loaded(13),
        PlcStatus(
            name="SUPPORT_ON_WAFER",
            register=14,
            codes=((0, "none"), *SUPPORT_CODES),
            doc="the support on the loaded wafer",
        ),
        PlcStatus(
            name="PEEL_BELOW",
            register=15,
            unit="degC",
            scale=10,
            doc="the platen must be below this to peel (the tool's setting)",
        ),
        refused_register_status(18, "a job register, 300, or 301"),
        command_error_status(19),
        serial_number_status(20),
        wafer_id_block(30, "the loaded wafer's id, empty when none"),
        PlcStatus(
            name="JOB_PEAK_TEMPERATURE",
            register=38,
            unit="degC",
            scale=10,
            doc=f"the hottest the platen was in the running or last job{_JOB_EXTREME}",
        ),
        PlcStatus(
            name="JOB_BEST_VACUUM",
            register=39,
            words=2,
            unit="Pa",
            doc=f"the lowest the chamber pressure was in the running or last job{_JOB_EXTREME}",
        ),
        PlcStatus(
            name="JOB_PEAK_PRESS",
            register=41,
            unit="MPa",
            scale=1000,
            doc=f"the most the press applied in the running or last job{_JOB_EXTREME}",
        ),
    ),
    setpoints=(
        PlcSetpoint(
            name="resin_thickness_um",
            unit="um",
            machine_range=Range(20, 100),
            register=200,
            scale=10,
            doc="the sheet's resin layer",
        ),
        PlcSetpoint(
            name="vacuum_pa",
            unit="Pa",
            machine_range=Range(50, 500),
            register=202,
            doc="the chamber pressure to reach and hold",
        ),
        PlcSetpoint(
            name="vacuum_hold_s",
            unit="s",
            machine_range=Range(10, 60),
            register=203,
            doc="held at the vacuum before heating and pressing",
        ),
        PlcSetpoint(
            name="temperature_c",
            unit="degC",
            machine_range=Range(60, 130),
            register=204,
            scale=10,
            doc="platen setpoint",
        ),
        PlcSetpoint(
            name="press_pressure_mpa",
            unit="MPa",
            machine_range=Range(0.2, 1.0),
            register=205,
            scale=1000,
            doc="press pressure",
        ),
        PlcSetpoint(
            name="press_time_s",
            unit="s",
            machine_range=Range(20, 180),
            register=206,
            doc="press time",
        ),
        PlcSetpoint(
            name="cool_to_c",
            unit="degC",
            machine_range=Range(30, 60),
            register=207,
            scale=10,
            doc="the job (or COOL) ends when the platen is at or below it",
        ),
        PlcSetpoint(
            name="foil_thickness_um",
            unit="um",
            machine_range=Range(0, 20),
            register=208,
            scale=round(1 / FOIL_STEP_UM),
            doc="the metal-film support's foil, which stays on the resin (0 with a film support)",
        ),
    ),
    parameters=(
        PlcParameter(
            name="support_kind",
            register=201,
            codes=SUPPORT_CODES,
            doc="film is peeled (001:7), metal film stays (001:10)",
        ),
        wafer_id_parameter("the wafer's id"),
    ),
    commands=(
        *stage_commands(
            workpiece="wafer",
            holder="on the platen",
            loaded="wafer on the platen",
            emptied="platen empty",
        ),
        PlcCommand(
            name="START_JOB",
            code=3,
            allowed_in=("ready",),
            interlocks=("lid_closed", "wafer_present"),
            conditions="job block in range (4), a foil with a metal-film support and none with "
            "a film (4, at 208)",
            effect="evacuating → vacuum hold → heating → pressing → venting → cooling → ready; "
            "JOBS_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=4,
            while_alarmed=True,
            effect="heater off, press released, chamber vented (venting → ready); a running job "
            "ends with LAST_RESULT 2; cooling or peeling stops",
        ),
        PlcCommand(
            name="COOL",
            code=5,
            parameters=("cool_to_c",),
            allowed_in=("ready",),
            effect="forced cooling (cooling → ready) until the platen is at or below the target",
        ),
        PlcCommand(
            name="PEEL_SUPPORT",
            code=6,
            allowed_in=("ready",),
            interlocks=("peel_temperature",),
            conditions="a wafer (6) with a support (10) that is a film (9)",
            effect="peeling → ready; the wafer's support is then none",
        ),
        PlcCommand(
            name="RESET_ALARMS",
            code=7,
            while_alarmed=True,
            effect="clears latched alarms; a faulted tool vents (venting → ready)",
        ),
    ),
    alarms=(
        BitAlarm(
            code="VACUUM_NOT_REACHED",
            bit=0,
            text="chamber vacuum not reached within the evacuation time",
        ),
        BitAlarm(
            code="OVER_TEMPERATURE",
            bit=1,
            text="platen above its over-temperature trip; heater off",
        ),
    ),
    interlocks=(
        BitInterlock(name="lid_closed", made=Made.STEP, bit=0, doc="the lid is closed"),
        BitInterlock(name="wafer_present", made=Made.STEP, bit=1, doc="a wafer is on the platen"),
        BitInterlock(
            name="peel_temperature", made=Made.STEP, bit=2, doc="the platen is below PEEL_BELOW"
        ),
    ),
    refusals=stage_refusals(
        "the laminator's present phase",
        NamedRefusal(
            name="SUPPORT_STAYS",
            code=9,
            text="the support is a metal film, which stays on the wafer",
        ),
        NamedRefusal(name="NO_SUPPORT", code=10, text="no film support on the wafer to peel"),
        workpiece="wafer",
        holder="on the platen",
    ),
    wire=PlcMap(
        status_registers=20,
        command_register=300,
        parameter_register=301,
        setpoint_block="job",
        counted_changes=(*STAGE_CHANGES, "JOBS_COMPLETED", "LAST_RESULT", "SUPPORT_ON_WAFER"),
    ),
)
