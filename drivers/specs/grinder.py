"""The grinder's contract (`docs/protocols/grinder.md`), bound to the SCPI family.

Every header, setpoint range, alarm, interlock and refusal of the grinder is declared here
once; the driver (`drivers/grinder.py`), the simulated tool (`sim_instruments/grinder.py`) and
the page's tables read it.
"""

from __future__ import annotations

from ..families.scpi_wire import (
    ScpiCommand,
    ScpiInterlock,
    ScpiPrecondition,
    ScpiReply,
    ScpiReplyField,
    ScpiSetpoint,
    ScpiWire,
    reply_command,
    short_form,
    standard_refusals,
)
from ..roles.grinder import CycleResult, GrinderStatus, GrindPhase
from .core import (
    RELOAD_DOC,
    Alarm,
    ExpectedIdentity,
    Made,
    Parameter,
    Range,
    Refusal,
    StatusVariable,
    ToolSpec,
)

#: The resolutions the in-process thickness gauge comes with, a tool option (um).
FINEST_GAUGE_RESOLUTION_UM = 0.1
COARSEST_GAUGE_RESOLUTION_UM = 1.0


def gauge_decimals(resolution_um: float) -> int:
    """The decimals a gauge of `resolution_um` writes its reading with: its step's (0.1: 1)."""
    return len(f"{resolution_um:g}".partition(".")[2])


#: While a cycle runs, the setpoints, the chuck and the wafer stay as they are and no other
#: cycle starts: what those commands need first, a settings conflict naming the command
#: (`{header}`, its own: `ScpiCommand.own_fields`).
GRINDING = ScpiPrecondition(code=-221, detail="{header} not allowed while grinding")
#: What a load and a cycle's start need next: no alarm latched, the grinder's own error 202
#: (`{alarms}`: the latched alarms, alphabetical, `,` between them, as `SYST:ALAR?` answers
#: them).
ALARM_ACTIVE = ScpiPrecondition(code=202, message="Alarm active", detail="{alarms}")
#: What the chuck must give a command (`ScpiCommand.preconditions`), each refused in its words:
#: a wafer already on it and its vacuum on are settings conflicts (-221, `{wafer}` the wafer on
#: the chuck), an empty chuck the grinder's own error 203, its message the words.
WAFER_ON_CHUCK = ScpiPrecondition(code=-221, detail="wafer {wafer} is on the chuck")
VACUUM_ON = ScpiPrecondition(code=-221, detail="chuck vacuum is on; release it first")
NO_WAFER = ScpiPrecondition(code=203, message="No wafer on chuck")
#: The plain load, and the rework load, which takes a wafer this tool processed last.
LOAD_HEADER = "WAFer:LOAD"
RELOAD_HEADER = "WAFer:RELoad"
#: What a plain load needs of its wafer, after what it needs of the chuck: not one this tool
#: processed last (`{processed}`: the line's account of it, the wafer, what this tool did
#: to it and when), which the rework load takes.
PROCESSED_LAST = ScpiPrecondition(code=-221, detail=f"{{processed}} ({short_form(RELOAD_HEADER)})")

#: A gauge's reading as the grinder writes it: the reply of `MEAS:THIC?` (and of `MEAS:SUBS?`,
#: the substrate's gauge) and `GRIN:STAT?`'s thickness field, whose name it has. On the gauge's
#: grid to its step's decimals; none, SCPI's not-a-number, while the gauge has failed.
GAUGE_READING = ScpiReplyField(
    name="thickness_um",
    kind=float,
    decimals=gauge_decimals(FINEST_GAUGE_RESOLUTION_UM),
    decimals_of=f"the gauge's step ({gauge_decimals(FINEST_GAUGE_RESOLUTION_UM)} of the "
    f"finest, {FINEST_GAUGE_RESOLUTION_UM:g} µm; "
    f"{gauge_decimals(COARSEST_GAUGE_RESOLUTION_UM)} of "
    f"{COARSEST_GAUGE_RESOLUTION_UM:g} µm)",
    absent_when="the gauge has failed",
    doc="total thickness on the chuck, µm, as `MEAS:THIC?` (on the gauge's grid)",
)

#: `GRIN:STAT?`: the cycle in one line, the grinder's status. On the GEM face each field is the
#: status variable of its name (the thickness the gauge's, with its validity apart).
STATUS_REPLY = ScpiReply(
    query="GRINd:STATus?",
    result=GrinderStatus,
    fields=(
        ScpiReplyField(
            name="phase",
            kind=GrindPhase,
            doc="where the cycle is: `COARSE` the coarse wheel, `FINE` the fine wheel, `POLISH` "
            "the polishing pad; `FAULT` an alarm is latched",
        ),
        GAUGE_READING,
        ScpiReplyField(
            name="spindle_rpm",
            kind=float,
            shortest=True,
            doc="actual wheel spindle speed, rpm (0 when not grinding)",
        ),
        ScpiReplyField(
            name="chuck_rpm",
            kind=float,
            shortest=True,
            doc="actual chuck speed, rpm (0 when not grinding)",
        ),
        ScpiReplyField(
            name="feed_um_s",
            kind=float,
            shortest=True,
            doc="Z feed of the active wheel, µm/s (0 when polishing: the pad is "
            "pressure-controlled, and when not grinding)",
        ),
        ScpiReplyField(
            name="spindle_load_pct", kind=float, doc="spindle load, % of rated spindle current"
        ),
        ScpiReplyField(
            name="progress_pct",
            kind=float,
            doc="share of the cycle's removal done (start thickness to target), %",
        ),
        ScpiReplyField(name="cycle_time_s", kind=float, doc="time of the current or last cycle, s"),
        ScpiReplyField(
            name="cycle_count",
            kind=int,
            doc="cycles ended since the tool started, whatever their result",
        ),
        ScpiReplyField(name="last_result", kind=CycleResult, doc="how the last cycle ended"),
    ),
    gem_prefix="",
)


def _place(field: str) -> str:
    """Where the `STATUS_REPLY` field `field` stands, as a status variable's doc says it."""
    names = [entry.name for entry in STATUS_REPLY.fields]
    return f"field {names.index(field) + 1} of `GRIN:STAT?`"


#: The header of the cycle's target thickness, which its start needs sent.
TARGET_HEADER = "GRINd:TARGet"

#: Recipe setpoints in the order the driver sends them, with their defaults in the tool.
SETPOINTS = (
    ScpiSetpoint(
        name="spindle_rpm", unit="rpm", machine_range=Range(1000, 6000),
        process_limit=Range(3500, 5500), header="SPINdle:SPEEd",
        tool_default=4500,
        doc="both wheel spindles; a fraction of an rpm is taken (`4500.5` reads back `4500.5`), "
        "unlike the dicing saw's whole rpm",
    ),
    ScpiSetpoint(
        name="chuck_rpm", unit="rpm", machine_range=Range(50, 400),
        process_limit=Range(100, 300), header="CHUCk:SPEEd", tool_default=200, doc="chuck rotation",
    ),
    ScpiSetpoint(
        name="coarse_feed_um_s", unit="um/s", machine_range=Range(0.5, 20),
        process_limit=Range(5, 10), header="GRINd:COARse:FEED",
        tool_default=8, doc="Z feed of the coarse wheel",
    ),
    ScpiSetpoint(
        name="fine_feed_um_s", unit="um/s", machine_range=Range(0.05, 2),
        process_limit=Range(0.1, 0.5), header="GRINd:FINE:FEED",
        tool_default=0.3, doc="Z feed of the fine wheel",
    ),
    ScpiSetpoint(
        name="fine_allowance_um", unit="um", machine_range=Range(0, 200),
        process_limit=Range(5, 100), header="GRINd:FINE:ALLowance",
        tool_default=30,
        doc="what the fine wheel removes (it takes over this far above target + polish allowance)",
    ),
    ScpiSetpoint(
        name="polish_allowance_um", unit="um", machine_range=Range(0, 10),
        process_limit=Range(0, 5), header="POLish:ALLowance",
        tool_default=2, doc="what the polishing pad removes; 0 skips polishing",
    ),
    ScpiSetpoint(
        name="target_thickness_um", unit="um", machine_range=Range(20, 2000),
        process_limit=Range(50, 1500), header=TARGET_HEADER,
        doc="total thickness at the end of the cycle; not set in the tool until sent "
        "(`9.91E+37`)",
    ),
    ScpiSetpoint(
        name="substrate_remaining_um", unit="um", machine_range=Range(50, 2000),
        doc="driver-side check, not sent: silicon a back grind must leave (est)",
    ),
    ScpiSetpoint(
        name="front_remaining_um", unit="um", machine_range=Range(10, 2000),
        doc="driver-side check, not sent: resin and bump features a front grind must leave "
        "above the substrate (est)",
    ),
)  # fmt: skip

#: What a cycle's start needs of its target, once the chuck holds a wafer (`NO_WAFER`): sent,
#: and below the gauge's reading (`{target}` as sent, µm; `{reading}` as `MEAS:THIC?` answers).
TARGET_NOT_SET = ScpiPrecondition(code=-221, detail=f"{short_form(TARGET_HEADER)} not set")
TARGET_NOT_BELOW_READING = ScpiPrecondition(
    code=-221, detail="target {target} um not below the gauge reading {reading} um"
)

COMMANDS = (
    reply_command(STATUS_REPLY, "status", "the cycle in one line (the fields: below)"),
    ScpiCommand(
        name="gauge_resolution", header="GAUGe:RESolution", form="query",
        reply=f"`{FINEST_GAUGE_RESOLUTION_UM:g}` (the finest; the simulated grinder's default)",
        doc="resolution of the in-process gauge, µm (a tool option, "
        f"{FINEST_GAUGE_RESOLUTION_UM:g}-{COARSEST_GAUGE_RESOLUTION_UM:g} µm)",
    ),
    ScpiCommand(
        name="thickness", header="MEASure:THICkness", form="query",
        decimals=GAUGE_READING.decimals,
        doc="in-process gauge: total thickness on the chuck, µm, on the gauge's grid (rounded "
        "down), to its step's decimals (the reply's form is the finest gauge's); `0.0` with no "
        "wafer; `9.91E+37` when the gauge has failed",
    ),
    ScpiCommand(
        name="substrate", header="MEASure:SUBStrate", form="query",
        decimals=GAUGE_READING.decimals,
        doc="non-contact (IR) gauge: the substrate (silicon) alone, µm, through resin and "
        "tape; same grid and conventions",
    ),
    ScpiCommand(
        name="wafer_load", header=LOAD_HEADER, syntax='"<id>",FRONT|BACK',
        parameters=("wafer_id", "side"),
        preconditions=(GRINDING, ALARM_ACTIVE, WAFER_ON_CHUCK, VACUUM_ON, PROCESSED_LAST),
        doc="the workpiece lies on the chuck with that side facing the wheel. FRONT: resin "
        "top, bump tops and die backs are ground (000:f); BACK: the substrate is thinned "
        "(front on the chuck, under tape). `\"<id>\"`: a quoted string (-104 bare) of 1-16 "
        "printable ASCII characters without space, `,`, `;` or `\"` (-224)",
    ),
    ScpiCommand(
        name="wafer_reload", header=RELOAD_HEADER, syntax='"<id>",FRONT|BACK',
        parameters=("wafer_id", "side"),
        preconditions=(GRINDING, ALARM_ACTIVE, WAFER_ON_CHUCK, VACUUM_ON),
        doc=f"`{short_form(LOAD_HEADER)}` as a rework: {RELOAD_DOC}",
    ),
    ScpiCommand(
        name="wafer_unload", header="WAFer:UNLoad", preconditions=(GRINDING, NO_WAFER, VACUUM_ON),
        doc="the chuck emptied (also with an alarm latched, to recover the wafer)",
    ),
    ScpiCommand(
        name="wafer", header="WAFer", form="query", reply='`"<id>",FRONT|BACK` or `NONE`',
        doc="the workpiece on the chuck",
    ),
    ScpiCommand(
        name="vacuum", header="CHUCk:VACuum", form="both", syntax="ON|OFF|1|0",
        reply="`1`/`0`", preconditions=(GRINDING,),
        doc="chuck vacuum; the query answers the valve, whether it holds is the "
        "`chuck_vacuum` interlock",
    ),
    *(
        ScpiCommand(
            name=setpoint.name, header=setpoint.header, form="both", syntax="<n>",
            parameters=(setpoint.name,), preconditions=(GRINDING,),
            doc=f"{setpoint.unit}, {setpoint.meaning}",
        )
        for setpoint in SETPOINTS
        if setpoint.header
    ),
    ScpiCommand(
        name="start", header="GRINd:STARt",
        overlapped=True,
        interlocks=("chuck_vacuum", "wafer_present", "grinding_water"),
        preconditions=(GRINDING, ALARM_ACTIVE, NO_WAFER, TARGET_NOT_SET, TARGET_NOT_BELOW_READING),
        doc="runs COARSE → FINE → POLISH → IDLE with the setpoints as they are now",
    ),
)  # fmt: skip

SPEC = ToolSpec(
    kind="grinder",
    role="grinder",
    family="scpi",
    identity=ExpectedIdentity(vendor="packline", model="GR-2", firmware="1.0"),
    doc="in-feed grinder (coarse wheel, fine wheel, polishing pad, in-process gauge)",
    setpoints=SETPOINTS,
    status=(
        StatusVariable(name="thickness", unit="um", trace="thickness", doc=_place("thickness_um")),
        StatusVariable(
            name="spindle_rpm", unit="rpm", trace="spindle_speed", doc=_place("spindle_rpm")
        ),
        StatusVariable(name="chuck_rpm", unit="rpm", doc=_place("chuck_rpm")),
        StatusVariable(name="feed_um_s", unit="um/s", trace="feed", doc=_place("feed_um_s")),
        StatusVariable(
            name="spindle_load_pct",
            unit="%",
            trace="spindle_load",
            doc=_place("spindle_load_pct"),
        ),
        StatusVariable(name="progress_pct", unit="%", trace="progress", doc=_place("progress_pct")),
        StatusVariable(name="cycle_time_s", unit="s", doc=_place("cycle_time_s")),
    ),
    commands=COMMANDS,
    parameters=(
        Parameter(
            name="wafer_id", doc='a quoted string: 1-16 printable ASCII without space , ; or "'
        ),
        Parameter(name="side", doc="FRONT or BACK: the side facing the wheel"),
    ),
    alarms=(
        Alarm(
            code="WHEEL_LOAD",
            text="spindle load above its limit (feed too fast for the wheel, or a glazed "
            "wheel); feed stopped and wheel retracted",
        ),
        Alarm(
            code="GAUGE_FAULT",
            text="in-process thickness gauge gives no valid reading; feed stopped",
        ),
        Alarm(
            code="INTERLOCK_OPENED",
            text="chuck vacuum or grinding water lost during the cycle; feed stopped",
        ),
    ),
    interlocks=(
        ScpiInterlock(
            name="chuck_vacuum",
            made=Made.STEP,
            refusal="chuck_vacuum",
            doc="vacuum on and holding a workpiece (guards spindles, chuck rotation and feed)",
        ),
        ScpiInterlock(
            name="wafer_present",
            made=Made.STEP,
            refusal="wafer_present",
            doc="a workpiece lies on the chuck (guards the cycle)",
        ),
        ScpiInterlock(
            name="grinding_water",
            made=Made.SUPPLY,
            refusal="grinding_water",
            doc="grinding water flows (guards spindles and feed)",
        ),
    ),
    refusals=standard_refusals(
        Refusal(
            code=201,
            text="Interlock open: `GRIN:STAR` with an interlock open; the detail names them",
        ),
        Refusal(
            code=202,
            text=f"{ALARM_ACTIVE.message}: `WAF:LOAD`/`WAF:REL`/`GRIN:STAR` with an alarm "
            "latched; the detail names them",
        ),
        Refusal(
            code=203,
            text=f"{NO_WAFER.message}: `GRIN:STAR`, `WAF:UNL` on an empty chuck",
        ),
    ),
    wire=ScpiWire(interlock_error=201, interlock_reply="named", replies=(STATUS_REPLY,)),
)
