"""The dicing saw's contract on its ASCII host link (docs/protocols/dicing-saw.md).

Read by the driver (`drivers/dicing_saw.py`), the simulated saw, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. The replies
of `WORK?`, `BLADE?` and `RESULT?` (`WORK_REPLY`, `BLADE_REPLY`, `RESULT_REPLY`) are read by
the GEM face's driver and simulator too.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..families.ascii_host_wire import (
    SETUP,
    HostCommand,
    HostInterlock,
    HostLink,
    HostParameter,
    HostPrecondition,
    HostRefusal,
    HostReply,
    HostReplyField,
    HostSetpoint,
    HostStatus,
    host_commands,
    host_link_controls,
    host_link_parameters,
    host_link_queries,
    host_link_refusals,
    reply_query,
    state_status,
)
from ..roles.dicing_saw import BladeStatus, CutOutcome, DicingResult, MountedWorkpiece, SawState
from .core import RELOAD_DOC, Alarm, ExpectedIdentity, Made, Range, ToolSpec

SPINDLE_INTERLOCKS = ("cover_closed", "spindle_air")
DRESS_INTERLOCKS = ("cover_closed", "spindle_air", "cutting_water")
CUT_INTERLOCKS = ("cover_closed", "spindle_air", "cutting_water", "chuck_vacuum")
#: The refusal of a command on the mounted workpiece with none mounted.
NO_WORKPIECE = "NO_WORKPIECE"
#: What a command on the mounted workpiece answers with none mounted.
ON_THE_WORKPIECE = (NO_WORKPIECE,)
#: The refusal of a command that turns the blade while it is broken.
BLADE_BROKEN = "BLADE_BROKEN"
#: What a command that turns the blade answers while it is broken.
WITH_THE_BLADE = (BLADE_BROKEN,)
#: The precondition a mount refuses while a workpiece is mounted.
ALREADY_MOUNTED = "ALREADY_MOUNTED"
#: The precondition a blade change refuses while the spindle turns or is set to.
SPINDLE_TURNING = "SPINDLE_TURNING"
#: The precondition a command that cuts with the blade refuses before the spindle runs at its
#: set speed.
SPINDLE_NOT_AT_SPEED = "SPINDLE_NOT_AT_SPEED"
#: What a command that cuts with the blade answers before the spindle runs at its set speed:
#: checked after the command's interlocks, as the readiness of its motion (conventions.md).
AT_SPEED = (SPINDLE_NOT_AT_SPEED,)
#: Where a command's interlocks come in what the saw judges of it (`judged_in_order`).
INTERLOCKS = "INTERLOCKS"

#: `WORK?`: the workpiece on the chuck as the alignment found it: its die (unit) size, the
#: diameter of the circle it fits in (a panel's diagonal) and its stack, substrate and resin;
#: `NONE` with the chuck empty. On the GEM face each field is the status variable of its name.
WORK_REPLY = HostReply(
    query="WORK?",
    result=MountedWorkpiece,
    fields=(
        HostReplyField(key="ID", name="workpiece_id", doc="mounted workpiece id"),
        HostReplyField(
            key="DIE_X",
            name="die_width_mm",
            doc="die (unit) width as the alignment found it, mm",
            kind=float,
            decimals=4,
        ),
        HostReplyField(
            key="DIE_Y",
            name="die_height_mm",
            doc="die (unit) height as the alignment found it, mm",
            kind=float,
            decimals=4,
        ),
        HostReplyField(
            key="DIAMETER",
            name="diameter_mm",
            doc="diameter, mm (a panel's: its diagonal)",
            kind=float,
            decimals=3,
        ),
        HostReplyField(
            key="STACK", name="stack_um", doc="stack (substrate + resin), um", kind=float
        ),
    ),
    gem_prefix="",
)
#: `BLADE?`: the installed blade (there is always one, broken or not), the kerf it cuts at the
#: set spindle speed (none with the spindle stopped: a blade at rest cuts nothing) and its
#: wear. On the GEM face the thickness and the flag are `blade_` status variables and the
#: dressing interval is the equipment constant the host sets.
BLADE_REPLY = HostReply(
    query="BLADE?",
    result=BladeStatus,
    fields=(
        HostReplyField(
            key="THICKNESS",
            name="thickness_um",
            kind=float,
            doc="blade thickness, um",
            gem_variable="blade_thickness_um",
        ),
        HostReplyField(
            key="KERF",
            name="kerf_um",
            kind=float,
            absent_when="the set spindle speed is 0 (`SPINDLE_SET=0`)",
            doc="the kerf it cuts at the set spindle speed, um",
        ),
        HostReplyField(
            key="SINCE_DRESS",
            name="cut_since_dressing_mm",
            doc="cut length since the last dressing, mm",
            kind=float,
        ),
        HostReplyField(
            key="INTERVAL",
            name="dressing_interval_mm",
            doc="dressing interval, mm",
            kind=float,
            gem_constant=True,
        ),
        HostReplyField(
            key="RADIAL_WEAR",
            name="radial_wear_um",
            doc="radial wear since installation, um",
            kind=float,
            decimals=2,
        ),
        HostReplyField(
            key="BROKEN",
            name="broken",
            kind=bool,
            doc="the blade is broken",
            gem_variable="blade_broken",
        ),
    ),
    gem_prefix="",
    answers_none=False,
)
#: `RESULT?`: how the last cut job ended. `DEPTH` is its shallowest line into the tape
#: (negative: it stopped above the tape); it and the kerf are measured of the lines cut, so a
#: cut that cut none (faulted at its first line) has neither, where 0 would read as a line
#: cut to the top of the tape.
NO_LINE_CUT = "no line was cut"
RESULT_REPLY = HostReply(
    query="RESULT?",
    result=DicingResult,
    fields=(
        HostReplyField(key="WORK", name="workpiece_id", doc="the cut's workpiece"),
        HostReplyField(key="OUTCOME", name="outcome", doc="how the cut ended", kind=CutOutcome),
        HostReplyField(key="LINES", name="lines_cut", doc="lines cut", kind=int),
        HostReplyField(key="TOTAL", name="lines_total", doc="lines planned", kind=int),
        HostReplyField(
            key="LENGTH", name="cut_length_mm", doc="cut length in material, mm", kind=float
        ),
        HostReplyField(
            key="KERF",
            name="kerf_width_um",
            kind=float,
            absent_when=NO_LINE_CUT,
            doc="kerf of the lines cut, um",
        ),
        HostReplyField(
            key="DEPTH",
            name="cut_depth_into_tape_um",
            kind=float,
            absent_when=NO_LINE_CUT,
            doc="shallowest depth below the tape top of any line cut, um (negative: above the "
            "tape)",
        ),
        HostReplyField(
            key="FRONT",
            name="chipping_front_um",
            kind=float,
            absent_when=NO_LINE_CUT,
            doc="largest front chipping, um",
        ),
        HostReplyField(
            key="BACK",
            name="chipping_back_um",
            kind=float,
            absent_when=NO_LINE_CUT,
            doc="largest back chipping, um",
        ),
        HostReplyField(key="UNITS", name="singulated_units", doc="units cut free", kind=int),
        HostReplyField(key="TIME", name="process_time_s", doc="process time, s", kind=float),
    ),
    gem_prefix="result_",
)

#: The saw's setpoints, whose wire forms its read-back queries answer with (`FEED?`, `DEPTH?`,
#: `INDEX?`).
SETPOINTS = (
    HostSetpoint(
        name="spindle_krpm",
        unit="krpm",
        machine_range=Range(20, 60),
        placeholder="<rpm>",
        label="spindle speed",
        wire_unit="rpm",
        wire_scale=1000,
        decimals=0,
        doc="spindle speed (rpm on the wire; ramps at 10 krpm/s)",
    ),
    HostSetpoint(
        name="feed_mm_s",
        unit="mm/s",
        machine_range=Range(1, 300),
        process_limit=Range(10, 100),
        placeholder="<mm/s>",
        label="feed",
        wire_unit="mm/s",
        doc="table feed speed (the limit: silicon)",
    ),
    HostSetpoint(
        name="depth_into_tape_um",
        unit="um",
        machine_range=Range(0, 70),
        exclusive_minimum=True,
        process_limit=Range(10, 50),
        placeholder="<um>",
        label="depth",
        wire_unit="um",
        doc="blade tip depth below the top of the 90 um tape",
    ),
    HostSetpoint(
        name="pitch_mm",
        unit="mm",
        machine_range=Range(0.1, 200),
        process_limit=Range(0.1, 100),
        placeholder="<pitch>",
        label="pitch",
        wire_unit="mm",
        decimals=4,
        doc="street pitch of a channel",
    ),
    HostSetpoint(
        name="offset_mm",
        unit="mm",
        machine_range=Range(-100, 100),
        placeholder="<offset>",
        label="offset",
        wire_unit="mm",
        decimals=4,
        doc="a channel's offset from the aligned street",
    ),
    HostSetpoint(
        name="blade_thickness_um",
        unit="um",
        machine_range=Range(10, 60),
        process_limit=Range(15, 50),
        placeholder="<um>",
        label="blade thickness",
        wire_unit="um",
        doc="thickness of the newly installed blade",
    ),
    HostSetpoint(
        name="dressing_interval_mm",
        unit="mm",
        machine_range=Range(100, 1_000_000),
        process_limit=Range(100, 500_000),
        placeholder="<mm>",
        label="dressing interval",
        wire_unit="mm",
        doc="cut length between dressings",
    ),
)
_SETPOINT = {setpoint.name: setpoint for setpoint in SETPOINTS}

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="dicing_saw",
    role="dicing_saw",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="DS-2", firmware="1.0"),
    doc="dicing saw on an RS-232 host link (or a serial device server)",
    setpoints=SETPOINTS,
    parameters=host_link_parameters(
        HostParameter(name="workpiece", placeholder="<id>", doc="workpiece id, 1-16 characters"),
        HostParameter(name="channel", placeholder="<ch>", doc="channel `1` (along X) or `2`"),
    ),
    status=(
        state_status(SawState),
        HostStatus(key="WORK", name="workpiece_id", doc="mounted workpiece id, `-` when none"),
        HostStatus(
            key="LINE",
            name="lines_done",
            unit="lines",
            trace="lines_done",
            doc="lines of the current (or last) cut done",
        ),
        HostStatus(key="LINES", name="lines_total", unit="lines", doc="lines of that cut"),
        HostStatus(
            key="SPINDLE",
            name="spindle_rpm",
            unit="rpm",
            trace="spindle_speed",
            doc="actual spindle speed",
        ),
        HostStatus(key="SPINDLE_SET", name="spindle_set_rpm", unit="rpm", doc="set speed"),
        HostStatus(key="CUTS", name="cuts_completed", doc="completed cuts since power-up"),
        HostStatus(key="DRESSES", name="dressings_completed", doc="completed dressings"),
    ),
    commands=(
        *host_link_queries("OK COVER=<0/1> WATER=<0/1> AIR=<0/1> VACUUM=<0/1>", holder="WORK"),
        reply_query(WORK_REPLY, "mounted workpiece"),
        reply_query(BLADE_REPLY, "the blade"),
        reply_query(RESULT_REPLY, "last cut"),
        HostCommand(
            name="MOUNT",
            parameters=("workpiece",),
            allowed_in=SETUP,
            preconditions=(ALREADY_MOUNTED,),
            query="WORK?",
            doc="the chuck holds the frame, the alignment finds the streets; the street map "
            "returns to the die size with offset 0",
        ),
        HostCommand(
            name="REMOUNT",
            parameters=("workpiece",),
            allowed_in=SETUP,
            preconditions=(ALREADY_MOUNTED,),
            query="WORK?",
            doc=f"`MOUNT` as a rework: {RELOAD_DOC}",
        ),
        HostCommand(
            name="UNMOUNT",
            allowed_in=SETUP,
            preconditions=ON_THE_WORKPIECE,
            query="WORK?",
            doc="frees the chuck",
        ),
        HostCommand(
            name="BLADE",
            parameters=("blade_thickness_um",),
            allowed_in=SETUP,
            preconditions=(SPINDLE_TURNING,),
            query="BLADE?",
            doc="a new blade is installed: wear restarts at zero",
        ),
        HostCommand(
            name="INTERVAL",
            parameters=("dressing_interval_mm",),
            allowed_in=SETUP,
            query="BLADE?",
            doc="sets the dressing interval",
        ),
        HostCommand(
            name="SPINDLE",
            parameters=("spindle_krpm",),
            allowed_in=SETUP,
            interlocks=SPINDLE_INTERLOCKS,
            preconditions=WITH_THE_BLADE,
            query="STAT?",
            doc="sets the spindle speed; ramps at 10 krpm/s",
        ),
        HostCommand(
            name="SPINDLE OFF",
            allowed_in=("IDLE", "FAULT"),
            query="STAT?",
            doc="stops the spindle (not while cutting or dressing)",
        ),
        HostCommand(
            name="FEED",
            parameters=("feed_mm_s",),
            allowed_in=SETUP,
            query="FEED?",
            doc="sets the table feed speed",
        ),
        HostCommand(
            name="FEED?", reply=f"OK {_SETPOINT['feed_mm_s'].form}", doc="the feed speed set, mm/s"
        ),
        HostCommand(
            name="INDEX",
            parameters=("channel", "pitch_mm", "offset_mm"),
            allowed_in=SETUP,
            query="INDEX?",
            doc="sets a channel's street pitch and offset",
        ),
        HostCommand(
            name="INDEX?",
            parameters=("channel",),
            reply=f"OK <ch> {_SETPOINT['pitch_mm'].form} {_SETPOINT['offset_mm'].form}",
            doc="a channel's pitch and offset, mm (the pitch: the one `INDEX` set since the last "
            "`MOUNT`, else the mounted die's size; `-` with neither)",
        ),
        HostCommand(
            name="DEPTH",
            parameters=("depth_into_tape_um",),
            allowed_in=SETUP,
            query="DEPTH?",
            doc="sets the blade tip depth into the tape",
        ),
        HostCommand(
            name="DEPTH?",
            reply=f"OK {_SETPOINT['depth_into_tape_um'].form}",
            doc="the depth set, um below the tape top",
        ),
        HostCommand(
            name="CUT",
            allowed_in=SETUP,
            interlocks=CUT_INTERLOCKS,
            preconditions=(*ON_THE_WORKPIECE, *WITH_THE_BLADE, *AT_SPEED),
            query="STAT?",
            doc="starts the cut",
        ),
        HostCommand(
            name="DRESS",
            allowed_in=SETUP,
            interlocks=DRESS_INTERLOCKS,
            preconditions=(*WITH_THE_BLADE, *AT_SPEED),
            query="STAT?",
            doc="dresses the blade",
        ),
        *host_link_controls(
            "the safe state: stops a cut or dress, raises the blade, stops the spindle"
        ),
    ),
    alarms=(
        Alarm(code="BLADE_BROKEN", text="blade broken; spindle stopped, install a new blade"),
        Alarm(code="CUT_DEPTH", text="height check: the cut did not reach the tape"),
        Alarm(
            code="COVER_OPENED",
            text="cover opened during motion (a cut, a dressing, the spindle turning); spindle "
            "stopped",
        ),
        Alarm(code="WATER_FLOW", text="cutting water flow lost during a cut"),
        Alarm(code="SPINDLE_AIR", text="spindle air pressure lost; spindle stopped"),
        Alarm(code="VACUUM_LOST", text="chuck vacuum lost: the frame is no longer held"),
    ),
    interlocks=(
        HostInterlock(key="COVER", name="cover_closed", made=Made.STEP, doc="the cover is shut"),
        HostInterlock(
            key="WATER", name="cutting_water", made=Made.SUPPLY, doc="cutting water flows"
        ),
        HostInterlock(
            key="AIR", name="spindle_air", made=Made.SUPPLY, doc="spindle air pressure is up"
        ),
        HostInterlock(
            key="VACUUM", name="chuck_vacuum", made=Made.STEP, doc="a frame is mounted and held"
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a "
        "number, a decimal for a whole number, bad workpiece id, channel not 1/2",
        "not allowed while cutting or dressing; what a command needs of the chuck or the "
        "spindle (its `accepted in` above); a workpiece this saw processed last, by `MOUNT` "
        "(`REMOUNT` takes it as a rework)",
        HostRefusal(
            code=7, name=NO_WORKPIECE, text="an empty chuck", words="no workpiece is mounted"
        ),
        HostRefusal(
            code=8,
            name=BLADE_BROKEN,
            text="a broken blade (`BLADE` installs a new one)",
            words="blade is broken; install a new blade",
        ),
    ),
    wire=HostLink(
        unit_after_range=True,
        preconditions=(
            HostPrecondition(
                name=ALREADY_MOUNTED,
                refusal="WRONG_STATE",
                unmet="a workpiece mounted (`UNMOUNT` first)",
                words="{workpiece} is mounted; UNMOUNT first",
            ),
            HostPrecondition(
                name=SPINDLE_TURNING,
                refusal="WRONG_STATE",
                unmet="the spindle turning or set to turn (`SPINDLE OFF` first)",
                words="spindle is turning; SPINDLE OFF first",
            ),
            HostPrecondition(
                name=SPINDLE_NOT_AT_SPEED,
                refusal="WRONG_STATE",
                unmet="the spindle not at speed (stopped, or still ramping to its set speed)",
                words="spindle is not at speed",
            ),
        ),
        replies=(WORK_REPLY, BLADE_REPLY, RESULT_REPLY),
    ),
)
#: The saw's host-link commands by name.
HOST_COMMANDS = {command.name: command for command in host_commands(SPEC)}


def judged_in_order(command: str) -> tuple[str, ...]:
    """What the saw judges of its `command` once its state takes it, in the order of the
    family's error precedence (conventions.md), the first unmet its refusal: the command's
    preconditions on what it works on (the workpiece, the blade, the spindle at rest), then its
    interlocks (`INTERLOCKS`, where it needs any), then the readiness of the motion it starts
    (`AT_SPEED`). The simulated saw refuses in this order and both drivers judge in it what
    they read before they send the command, so every face names the same first reason."""
    declared = HOST_COMMANDS[command]
    interlocks = (INTERLOCKS,) if declared.interlocks else ()
    works_on = tuple(name for name in declared.preconditions if name not in AT_SPEED)
    readiness = tuple(name for name in declared.preconditions if name in AT_SPEED)
    return (*works_on, *interlocks, *readiness)


def unmet_preconditions(
    *,
    workpiece_id: str | None,
    blade_broken: bool,
    spindle_krpm: float,
    spindle_set_krpm: float,
    at_speed: bool,
) -> dict[str, bool]:
    """Whether each precondition of the saw's commands is unmet, by name, in a saw showing the
    mounted `workpiece_id` (None: none), its blade, its spindle's actual and set speed and
    whether it runs `at_speed` (the saw's own judgement, or a driver's within its tolerance)."""
    return {
        NO_WORKPIECE: workpiece_id is None,
        ALREADY_MOUNTED: workpiece_id is not None,
        BLADE_BROKEN: blade_broken,
        SPINDLE_TURNING: spindle_krpm > 0 or spindle_set_krpm > 0,
        SPINDLE_NOT_AT_SPEED: not at_speed,
    }


def first_unmet(
    command: str, unmet: Mapping[str, bool], interlocks: Mapping[str, bool]
) -> str | None:
    """The first of what the saw judges of `command` (`judged_in_order`) that is unmet: a
    precondition's name, by `unmet` (`unmet_preconditions`), or `INTERLOCKS` when one the
    command needs is open in `interlocks` (by name, True closed); None when all are met."""
    needed = HOST_COMMANDS[command].interlocks
    for name in judged_in_order(command):
        met = all(interlocks[each] for each in needed) if name == INTERLOCKS else not unmet[name]
        if not met:
            return name
    return None
