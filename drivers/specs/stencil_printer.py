"""The stencil printer's contract: a printer PLC on Modbus (docs/protocols/stencil-printer.md).

One wafer or panel on the printer's stage under a clamped stencil, a squeegee head, a
separation axis and a solder paste inspection (SPI) camera. The print job block (the paste, the
stencil's thickness and aperture, the stroke) is declared here once; the driver, the simulated
printer and the page's tables read it from here.
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
    CYCLE_CHANGES,
    STAGE_CHANGES,
    stage_commands,
    stage_refusals,
    wafer_id_block,
    wafer_id_parameter,
    wafer_loaded,
)
from ..roles.ball_mounter import CycleResult
from ..roles.stencil_printer import PrinterPhase, SolderPaste
from .core import ExpectedIdentity, Made, Range, ToolSpec

#: The codes of the pastes, as the map numbers them.
PASTE_CODES = ((1, SolderPaste.SNPB_EUTECTIC.value), (2, SolderPaste.SAC305.value))

SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="stencil_printer",
    role="stencil_printer",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="SP-1", firmware="1.0"),
    doc="stencil printer PLC (solder paste through a stencil, SPI) on Modbus TCP/RTU",
    status=(
        PlcStatus(name="PHASE", register=0, codes=enum_codes(PrinterPhase)),
        *ALARM_AND_INTERLOCK_STATUS,
        PlcStatus(
            name="STEP_REMAINING",
            register=3,
            unit="s",
            scale=10,
            doc="left in the running print cycle (0 when none)",
        ),
        PlcStatus(
            name="ELAPSED",
            register=4,
            words=2,
            unit="s",
            scale=10,
            doc="time of the running or last print cycle",
        ),
        PlcStatus(
            name="CYCLES_COMPLETED",
            register=6,
            doc="counter of finished print cycles (any result), wraps at 65536",
        ),
        PlcStatus(name="LAST_RESULT", register=7, codes=enum_codes(CycleResult)),
        wafer_loaded(8),
        PlcStatus(
            name="DEPOSITS",
            register=9,
            words=2,
            doc="of the last print's SPI: deposits measured (bumps printed)",
            trace="deposits",
        ),
        PlcStatus(
            name="TRANSFER_EFFICIENCY",
            register=11,
            unit="%",
            scale=10,
            doc="of the last print's SPI: mean deposit volume over its aperture's volume "
            "(its area times the stencil's thickness; the printer is told nothing of what "
            "stands in it)",
            trace="transfer_efficiency",
        ),
        PlcStatus(
            name="MIN_TRANSFER_EFFICIENCY",
            register=12,
            unit="%",
            scale=10,
            doc="of the last print's SPI: the smallest deposit's transfer efficiency",
        ),
        PlcStatus(
            name="DEPOSIT_VOLUME",
            register=13,
            words=2,
            unit="nl",
            scale=1000,
            doc="of the last print's SPI: mean paste volume of a deposit (counts are pl)",
        ),
        PlcStatus(
            name="INSUFFICIENT",
            register=15,
            words=2,
            doc="of the last print's SPI: deposits under 50 % of their aperture's volume",
        ),
        PlcStatus(
            name="EXCESSIVE",
            register=17,
            words=2,
            doc="of the last print's SPI: deposits over 150 % of their aperture's volume",
        ),
        refused_register_status(19, "a job register, 300, or 301"),
        command_error_status(20),
        serial_number_status(21),
        wafer_id_block(29, "the loaded wafer's or panel's id, empty when none"),
    ),
    setpoints=(
        PlcSetpoint(
            name="stencil_thickness_um",
            unit="um",
            machine_range=Range(10, 300),
            process_limit=Range(25, 200),
            register=200,
            doc="the stencil foil's thickness (the stencil fitted; est window)",
        ),
        PlcSetpoint(
            name="aperture_um",
            unit="um",
            machine_range=Range(20, 1000),
            process_limit=Range(40, 800),
            register=201,
            doc="the round aperture's diameter over each bump (est window)",
        ),
        PlcSetpoint(
            name="squeegee_force_n",
            unit="N",
            machine_range=Range(0, 300),
            process_limit=Range(20, 150),
            register=202,
            scale=10,
            doc="the squeegee's down force (est window: 0.2-0.5 N per mm of a 300 mm blade)",
        ),
        PlcSetpoint(
            name="squeegee_speed_mm_s",
            unit="mm/s",
            machine_range=Range(1, 300),
            process_limit=Range(10, 150),
            register=203,
            doc="the squeegee's stroke speed (est window)",
        ),
        PlcSetpoint(
            name="separation_speed_mm_s",
            unit="mm/s",
            machine_range=Range(0.1, 20),
            process_limit=Range(0.5, 10),
            register=204,
            scale=10,
            doc="how fast the stage drops from the stencil after the stroke (est window)",
        ),
    ),
    parameters=(
        PlcParameter(name="paste", register=205, codes=PASTE_CODES, doc="the solder paste"),
        wafer_id_parameter("the wafer's or panel's id"),
    ),
    commands=(
        *stage_commands(
            workpiece="workpiece",
            holder="on the stage",
            loaded="workpiece on the stage under the stencil",
            emptied="stage empty",
        ),
        PlcCommand(
            name="PRINT",
            code=3,
            allowed_in=("ready",),
            interlocks=("door_closed", "wafer_present", "stencil_clamped"),
            conditions="the job block in range (4), bumps on the workpiece (9)",
            effect="printing → ready; paste on every bump, the SPI registers; CYCLES_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=4,
            while_alarmed=True,
            effect="squeegee raised, stage lowered (→ ready); a running print ends with "
            "LAST_RESULT 2, leaving what it printed so far",
        ),
        PlcCommand(
            name="RESET_ALARMS",
            code=5,
            while_alarmed=True,
            effect="clears latched alarms; a faulted printer is ready",
        ),
    ),
    alarms=(
        BitAlarm(
            code="SQUEEGEE_STALL",
            bit=0,
            text="the squeegee head stopped during a stroke; the print stops",
        ),
    ),
    interlocks=(
        BitInterlock(name="door_closed", made=Made.STEP, bit=0, doc="the safety door is closed"),
        BitInterlock(
            name="wafer_present", made=Made.STEP, bit=1, doc="a workpiece is on the stage"
        ),
        BitInterlock(
            name="stencil_clamped", made=Made.SETUP, bit=2, doc="a stencil is fitted and clamped"
        ),
    ),
    refusals=stage_refusals(
        "the printer's present phase",
        NamedRefusal(name="NO_BUMPS", code=9, text="the workpiece carries no bumps to print on"),
        workpiece="workpiece",
        holder="on the stage",
    ),
    wire=PlcMap(
        status_registers=21,
        command_register=300,
        parameter_register=301,
        setpoint_block="job",
        counted_changes=(*STAGE_CHANGES, *CYCLE_CHANGES),
    ),
)
