"""The ball mounter's contract: a ball-mount cell PLC on Modbus (docs/protocols/ball-mounter.md).

One wafer or panel on the cell's stage under a flux unit (stencil printer or pin-transfer
head), a ball head over a ball-alignment mask, and an inspection camera. The job block (the
ball map with its side, the flux and the balls) is declared here once; the driver, the
simulated cell and the page's tables read it from here. Real ball mounters speak SECS/GEM; this
map is the cell PLC's, so a GEM tool dictionary can bind the same role later.
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
from ..roles.ball_mounter import (
    MAX_MAP_POSITIONS,
    BallAlloy,
    BallMounterPhase,
    CycleResult,
    FluxMethod,
    Side,
)
from .core import ExpectedIdentity, Made, Range, ToolSpec

#: The codes of the job block's coded values, as the map numbers them.
SIDE_CODES = ((1, Side.FRONT.value), (2, Side.BACK.value))
FLUX_METHOD_CODES = ((1, FluxMethod.PRINT.value), (2, FluxMethod.PIN_TRANSFER.value))
ALLOY_CODES = (
    (1, BallAlloy.SAC305.value),
    (2, BallAlloy.SNPB_EUTECTIC.value),
    (3, BallAlloy.HIGH_LEAD.value),
)

SPEC: ToolSpec[PlcMap] = ToolSpec(
    kind="ball_mounter",
    role="ball_mounter",
    family="modbus_plc",
    identity=ExpectedIdentity(vendor="packline", model="BM-1", firmware="1.0"),
    doc="ball-mount cell PLC (flux, solder balls, inspection) on Modbus TCP/RTU",
    status=(
        PlcStatus(name="PHASE", register=0, codes=enum_codes(BallMounterPhase)),
        *ALARM_AND_INTERLOCK_STATUS,
        PlcStatus(
            name="STEP_REMAINING",
            register=3,
            unit="s",
            scale=10,
            doc="left in the running cycle (0 when none)",
        ),
        PlcStatus(
            name="ELAPSED",
            register=4,
            words=2,
            unit="s",
            scale=10,
            doc="time of the running or last cycle",
        ),
        PlcStatus(
            name="CYCLES_COMPLETED",
            register=6,
            doc="counter of finished flux, mount and inspection cycles (any result), wraps at "
            "65536",
        ),
        PlcStatus(name="LAST_RESULT", register=7, codes=enum_codes(CycleResult)),
        wafer_loaded(8),
        PlcStatus(
            name="FLUX_APPLIED",
            register=9,
            codes=((0, "no"), (1, "yes")),
            doc="flux lies on the loaded workpiece's mapped sites",
        ),
        PlcStatus(
            name="BALLS_PLACED",
            register=10,
            words=2,
            doc="balls the last mount cycle set down",
            trace="balls_placed",
        ),
        PlcStatus(
            name="SITES_INSPECTED",
            register=12,
            words=2,
            doc="mapped sites the last inspection looked at",
        ),
        PlcStatus(
            name="MISSING_BALLS",
            register=14,
            words=2,
            doc="of the last inspection: mapped sites without a ball",
        ),
        PlcStatus(
            name="EXTRA_BALLS",
            register=16,
            words=2,
            doc="of the last inspection: a second ball on a site, or a ball off the map",
        ),
        PlcStatus(
            name="BRIDGED_BALLS",
            register=18,
            words=2,
            doc="of the last inspection: balls touching a neighbour",
        ),
        refused_register_status(20, "a job register, 300, or 301"),
        command_error_status(21),
        serial_number_status(22),
        wafer_id_block(30, "the loaded wafer's or panel's id, empty when none"),
    ),
    setpoints=(
        PlcSetpoint(
            name="ball_diameter_um",
            unit="um",
            machine_range=Range(100, 760),
            register=200,
            doc="the solder balls' diameter",
        ),
        PlcSetpoint(
            name="flux_thickness_um",
            unit="um",
            machine_range=Range(5, 200),
            register=220,
            scale=10,
            doc="the flux amount: the printed or transferred deposit's thickness",
        ),
    ),
    parameters=(
        PlcParameter(name="alloy", register=201, codes=ALLOY_CODES, doc="the balls' solder"),
        PlcParameter(
            name="side",
            register=202,
            codes=SIDE_CODES,
            doc="the side of the workpiece under the heads",
        ),
        PlcParameter(
            name="ball_map",
            register=203,
            words=MAX_MAP_POSITIONS // 16,
            bits=True,
            doc="bit p set: site position p of every unit gets flux and a ball",
        ),
        PlcParameter(
            name="flux_method", register=219, codes=FLUX_METHOD_CODES, doc="how flux is applied"
        ),
        wafer_id_parameter("the wafer's or panel's id"),
    ),
    commands=(
        *stage_commands(
            workpiece="workpiece",
            holder="on the stage",
            loaded="workpiece on the stage, no flux on it",
            emptied="stage empty",
        ),
        PlcCommand(
            name="APPLY_FLUX",
            code=3,
            allowed_in=("ready",),
            interlocks=("door_closed", "wafer_present"),
            conditions="side, map and flux block in range (4), a map bit set (9)",
            effect="fluxing → ready; flux on the open mapped sites, FLUX_APPLIED 1; "
            "CYCLES_COMPLETED +1. A map with no open site on the workpiece (every mapped site "
            "under resin) still completes the cycle (LAST_RESULT 1) but fluxes nothing: "
            "FLUX_APPLIED stays 0 and MOUNT_BALLS is refused 10",
        ),
        PlcCommand(
            name="MOUNT_BALLS",
            code=4,
            allowed_in=("ready",),
            interlocks=("door_closed", "wafer_present", "ball_supply"),
            conditions="side, map and ball block in range (4), a map bit set (9), flux applied "
            "(10), no balls on the other side (11)",
            effect="mounting → ready; a ball on every fluxed open mapped site that holds it, "
            "BALLS_PLACED; CYCLES_COMPLETED +1",
        ),
        PlcCommand(
            name="REPAIR_BALLS",
            code=8,
            allowed_in=("ready",),
            interlocks=("door_closed", "wafer_present", "ball_supply"),
            conditions="as MOUNT_BALLS (4, 9, 10, 11)",
            effect="mounting → ready; the single-ball head picks the second ball off every "
            "mapped site that caught one and sets a ball on every fluxed open mapped site still "
            "without one, BALLS_PLACED (the balls set); CYCLES_COMPLETED +1",
        ),
        PlcCommand(
            name="INSPECT",
            code=5,
            allowed_in=("ready",),
            interlocks=("wafer_present",),
            conditions="side and map in range (4), a map bit set (9)",
            effect="inspecting → ready; SITES_INSPECTED, MISSING_BALLS, EXTRA_BALLS, "
            "BRIDGED_BALLS against the map; CYCLES_COMPLETED +1",
        ),
        PlcCommand(
            name="ABORT",
            code=6,
            while_alarmed=True,
            effect="heads raised, vacuum off (→ ready); a running cycle ends with LAST_RESULT 2, "
            "leaving what it did so far",
        ),
        PlcCommand(
            name="RESET_ALARMS",
            code=7,
            while_alarmed=True,
            effect="clears latched alarms; a faulted cell is ready",
        ),
    ),
    alarms=(
        BitAlarm(
            code="HEAD_VACUUM_LOST",
            bit=0,
            text="the ball head lost its vacuum while mounting; the cycle stops",
        ),
        BitAlarm(
            code="FLUX_SQUEEGEE_JAM",
            bit=1,
            text="the flux unit's squeegee or pin head stopped while fluxing",
        ),
    ),
    interlocks=(
        BitInterlock(name="door_closed", made=Made.STEP, bit=0, doc="the safety door is closed"),
        BitInterlock(
            name="wafer_present", made=Made.STEP, bit=1, doc="a workpiece is on the stage"
        ),
        BitInterlock(
            name="ball_supply", made=Made.SUPPLY, bit=2, doc="the ball reservoir holds balls"
        ),
    ),
    refusals=stage_refusals(
        "the cell's present phase",
        NamedRefusal(name="EMPTY_MAP", code=9, text="the ball map has no bit set"),
        NamedRefusal(name="NO_FLUX", code=10, text="no flux on the workpiece; apply flux first"),
        NamedRefusal(
            name="OTHER_SIDE", code=11, text="the workpiece carries balls on its other side"
        ),
        workpiece="workpiece",
        holder="on the stage",
    ),
    wire=PlcMap(
        status_registers=22,
        command_register=300,
        parameter_register=301,
        setpoint_block="job",
        counted_changes=(*STAGE_CHANGES, *CYCLE_CHANGES, "FLUX_APPLIED"),
    ),
)
