"""The laser's contract (`docs/protocols/laser.md`), bound to the SCPI family.

Every header, setpoint range, alarm and refusal of the laser (a command's state refusals in
their words: `NO_WAFER`, …) is declared here once; the driver (`drivers/laser.py`), the
simulated tool (`sim_instruments/laser.py`) and the page's tables read it. The mnemonics of
the parameters (`METal`, `VACuum`, …) sit beside the role's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..families.scpi_wire import (
    MnemonicReplyField,
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
from ..roles.laser import (
    Atmosphere,
    DrillMode,
    FaceUp,
    JobKind,
    JobProgress,
    JobState,
    LaserSource,
)
from .core import (
    RELOAD_DOC,
    Alarm,
    ExpectedIdentity,
    Made,
    Parameter,
    Range,
    StatusVariable,
    ToolSpec,
)

FLUENCE = Range(0.01, 20)

SETPOINTS = (
    ScpiSetpoint(
        name="rep_rate_khz", unit="kHz", machine_range=Range(20, 200), header=":SOURce:FREQuency",
        wire_scale=1000, wire_unit="Hz", tool_default=100, doc="pulse repetition rate (sent in Hz)",
    ),
    ScpiSetpoint(
        name="drill_fluence_j_cm2", unit="J/cm2", machine_range=FLUENCE,
        process_limit=Range(1, 10), header=":SOURce:FLUence",
        doc="fluence when drilling: the resin ablation window (polymer threshold 0.76 J/cm²)",
    ),
    ScpiSetpoint(
        name="clean_fluence_j_cm2", unit="J/cm2", machine_range=FLUENCE,
        process_limit=Range(0.05, 0.30), header=":SOURce:FLUence",
        doc="fluence when cleaning: below the metal's ablation threshold",
    ),
    ScpiSetpoint(
        name="fluence_j_cm2", unit="J/cm2", machine_range=FLUENCE,
        process_limit=Range(0.05, 10), header=":SOURce:FLUence",
        tool_default=0.2, doc="fluence when cleaning with `allow_metal_damage=True`",
    ),
    ScpiSetpoint(
        name="uv_via_diameter_um", unit="um", machine_range=Range(5, 80),
        process_limit=Range(10, 50), header=":DRILl:DIAMeter", tool_default=30,
        doc="via diameter, UV source",
    ),
    ScpiSetpoint(
        name="co2_via_diameter_um", unit="um", machine_range=Range(40, 200),
        process_limit=Range(50, 150), header=":DRILl:DIAMeter", tool_default=100,
        doc="via diameter, CO2 source",
    ),
    ScpiSetpoint(
        name="via_depth_um", unit="um", machine_range=Range(0.1, 500),
        process_limit=Range(1, 200), header=":DRILl:DEPTh", tool_default=10,
        doc="target depth in `DEPTh` mode",
    ),
    ScpiSetpoint(
        name="clean_pulses", unit="pulses", machine_range=Range(1, 10_000),
        process_limit=Range(1, 1000), header=":CLEan:PULSes", integer=True,
        tool_default=50, doc="pulses per site when cleaning",
    ),
)  # fmt: skip

#: Mnemonics on the wire (long forms; the tool answers the short forms).
ATMOSPHERE_MNEMONICS = {
    Atmosphere.AIR: "AIR",
    Atmosphere.REDUCED_PRESSURE: "VACuum",
    Atmosphere.NITROGEN: "NITRogen",
    Atmosphere.ARGON: "ARGon",
    Atmosphere.FORMING_GAS: "FGAS",
}
FACE_MNEMONICS = {FaceUp.FRONT: "FRONt", FaceUp.BACK: "BACK"}
DRILL_MODE_MNEMONICS = {DrillMode.TO_METAL: "METal", DrillMode.TO_DEPTH: "DEPTh"}
JOB_KIND_MNEMONICS = {JobKind.DRILL: "DRILl", JobKind.CLEAN: "CLEan"}
JOB_STATE_MNEMONICS = {
    JobState.IDLE: "IDLE",
    JobState.RUNNING: "RUNNing",
    JobState.DONE: "DONE",
    JobState.ABORTED: "ABORted",
    JobState.FAULTED: "FAULted",
}
OPEN, CLOSED = "OPEN", "CLOSe"


#: Where a job is, as both job replies give it.
JOB_STATE = MnemonicReplyField(
    name="state",
    kind=JobState,
    mnemonics=JOB_STATE_MNEMONICS,
    doc="`IDLE` no job since power-up, `RUNN` running, `DONE` every site scanned, `ABOR` "
    "aborted (`:ABOR`, emission off, shutter closed, `*RST`), `FAUL` faulted (an alarm)",
)

#: `:JOB:PROG?`: the running or last job's progress, read into the role's `JobProgress`.
JOB_PROGRESS_REPLY = ScpiReply(
    query=":JOB:PROGress?",
    result=JobProgress,
    fields=(
        JOB_STATE,
        ScpiReplyField(name="sites_done", kind=int, doc="sites scanned"),
        ScpiReplyField(name="sites_total", kind=int, doc="sites selected for the job"),
        ScpiReplyField(name="elapsed_s", kind=float, decimals=3, doc="process time so far, s"),
        ScpiReplyField(
            name="remaining_s",
            kind=float,
            decimals=3,
            doc="process time still to go, s (0 once the job has ended)",
        ),
    ),
)


@dataclass(frozen=True)
class LastJob:
    """The tool's last job as `:JOB:RES?` gives it, which the driver turns into the result of
    the job it ran (`DrillResult`, `CleanResult`)."""

    kind: JobKind | None
    state: JobState
    sites_done: int
    sites_at_metal: int
    time_s: float


#: `:JOB:RES?`: the last job's outcome.
LAST_JOB_REPLY = ScpiReply(
    query=":JOB:RESult?",
    result=LastJob,
    fields=(
        MnemonicReplyField(
            name="kind",
            kind=JobKind,
            mnemonics=JOB_KIND_MNEMONICS,
            absent_when="no job has run yet",
            doc="what the job did: drill or clean",
        ),
        JOB_STATE,
        ScpiReplyField(name="sites_done", kind=int, doc="sites scanned"),
        ScpiReplyField(name="sites_at_metal", kind=int, doc="sites where the beam reached metal"),
        ScpiReplyField(name="time_s", kind=float, decimals=3, doc="process time, s"),
    ),
)


@dataclass(frozen=True)
class SourceHardware:
    """What the hardware of one source is and allows."""

    model: str
    spot_diameter_um: float
    max_power_w: float
    #: The setpoint of its via diameters (range and tool default).
    via_diameter: str


SOURCES = {
    LaserSource.UV_355: SourceHardware("LV-355", 20.0, 10.0, "uv_via_diameter_um"),
    LaserSource.CO2_9400: SourceHardware("LC-94", 60.0, 100.0, "co2_via_diameter_um"),
    LaserSource.CO2_10600: SourceHardware("LC-106", 60.0, 100.0, "co2_via_diameter_um"),
}

#: The source of a laser that names none (a simulated one built without `source=`): the line's
#: laser is UV. Its model is the spec's identity, the other sources' its other models.
DEFAULT_SOURCE = LaserSource.UV_355


def per_source(value: Callable[[LaserSource, SourceHardware], float]) -> str:
    """What a query of the source answers on each source, as the page's reply column gives it
    (`` `20` (UV), `60` (CO2) ``), from `SOURCES`: the values are stated there alone."""
    kinds: dict[str, list[str]] = {}
    for source, hardware in SOURCES.items():
        sources = kinds.setdefault(f"`{value(source, hardware):g}`", [])
        sources += [source.kind] * (source.kind not in sources)
    return ", ".join(f"{text} ({'/'.join(sources)})" for text, sources in kinds.items())


#: Site indices in one `:JOB:SIT:ADD` line; the tool accepts up to this many.
SITES_PER_COMMAND = 100

#: How the laser refuses a command its state does not allow, an interlock's too: SCPI's
#: settings conflict. What the state must allow follows, each refused in its words
#: (`ScpiPrecondition`); a command lists its own, in the order the tool checks them.
SETTINGS_CONFLICT = -221
#: The door: a wafer goes on or off the chuck through it.
DOOR_CLOSED = ScpiPrecondition(code=SETTINGS_CONFLICT, detail="enclosure door closed")
#: A wafer to unload, turn over, select sites of, or scan.
NO_WAFER = ScpiPrecondition(code=SETTINGS_CONFLICT, detail="no wafer on the chuck")
#: A load needs the chuck empty (`{wafer}`: the wafer on it).
WAFER_ON_CHUCK = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="wafer {wafer} already on the chuck"
)
#: The rework load, which alone takes a wafer this tool processed last.
RELOAD_HEADER = ":WAFer:RELoad"
#: A plain load refuses a wafer this tool processed last, naming the rework load
#: (`{processed}`: what the tool says of the wafer: its id, what this tool did to it and when;
#: the field the grinder's `PROCESSED_LAST` names it by too).
PROCESSED_LAST = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail=f"{{processed}} ({short_form(RELOAD_HEADER)})"
)
#: An alarm latched: no emission, no job, until `:SYST:ALAR:CLE`.
ALARM_ACTIVE = ScpiPrecondition(code=SETTINGS_CONFLICT, detail="alarm active; clear alarms first")
#: The door stays shut while the beam could leave: emission on, or the shutter open.
EMISSION_ON = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="emission on; switch it off before opening the enclosure"
)
SHUTTER_OPEN = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="shutter open; close it before opening the enclosure"
)
#: A job's start: none running, the gas settled (`{atmosphere}`: the role's value, `Ar`), no
#: jet under reduced pressure, some site selected.
JOB_RUNNING = ScpiPrecondition(code=SETTINGS_CONFLICT, detail="job running")
ATMOSPHERE_NOT_READY = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="atmosphere {atmosphere} not ready"
)
JET_UNDER_REDUCED_PRESSURE = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="gas jet under reduced pressure"
)
NO_SITES = ScpiPrecondition(code=SETTINGS_CONFLICT, detail="no sites selected")
#: While a job runs, what it runs with stays as it is: the source's and the job's settings,
#: the atmosphere and gas, the site selection, the face up (`{setting}`: what would change,
#: `gas jet`, each command's own: its `precondition_fields`).
JOB_HOLDS_SETTINGS = ScpiPrecondition(
    code=SETTINGS_CONFLICT, detail="job running; {setting} cannot change"
)

#: The interlocks, in the order `:SYST:INT?` answers them, each with the words the tool
#: refuses a command it guards in while it is open (the open ones' joined by `,`).
INTERLOCKS = (
    ScpiInterlock(
        name="enclosure_closed",
        made=Made.STEP,
        refusal="enclosure open",
        doc="the door is closed and its switch reads closed",
    ),
    ScpiInterlock(
        name="emission_enabled",
        made=Made.STEP,
        refusal="emission off",
        doc="emission is on",
    ),
    ScpiInterlock(
        name="shutter_open",
        made=Made.STEP,
        refusal="shutter closed",
        doc="the beam shutter is open",
    ),
)

COMMANDS = (
    ScpiCommand(
        name="wavelength", header=":SOURce:WAVelength", form="query",
        reply=per_source(lambda source, _: source.wavelength_nm), doc="the source, nm (fixed)",
    ),
    ScpiCommand(
        name="spot", header=":SOURce:SPOT[:DIAMeter]", form="query",
        reply=per_source(lambda _, hardware: hardware.spot_diameter_um),
        doc="focused spot diameter, µm",
    ),
    ScpiCommand(
        name="frequency", header=":SOURce:FREQuency", form="both", syntax="<f>",
        parameters=("rep_rate_khz",), preconditions=(JOB_HOLDS_SETTINGS,),
        precondition_fields={"setting": "frequency"}, doc="pulse repetition rate, Hz",
    ),
    ScpiCommand(
        name="fluence", header=":SOURce:FLUence", form="both", syntax="<F>",
        parameters=("fluence_j_cm2",), preconditions=(JOB_HOLDS_SETTINGS,),
        precondition_fields={"setting": "fluence"}, doc="fluence per pulse, J/cm²",
    ),
    ScpiCommand(
        name="power", header=":SOURce:POWer", form="query", reply="W",
        doc="average power the settings ask for: F x spot area x f",
    ),
    ScpiCommand(
        name="power_maximum", header=":SOURce:POWer:MAXimum", form="query",
        reply=per_source(lambda _, hardware: hardware.max_power_w),
        doc="the source's maximum, W; a fluence or frequency that would exceed it is refused "
        "(-222)",
    ),
    ScpiCommand(
        name="measured_power", header=":MEASure:POWer", form="query", reply="W",
        doc="measured average power (0 with emission off)",
    ),
    ScpiCommand(
        name="emission", header=":OUTPut[:STATe]", form="both", syntax="ON|OFF",
        reply="`1`/`0`", interlocks=("enclosure_closed",), preconditions=(ALARM_ACTIVE,),
        doc="emission enable; OFF, always taken, also closes the shutter and aborts a running "
        "job",
    ),
    ScpiCommand(
        name="shutter", header=":OUTPut:SHUTter", form="both", syntax="OPEN|CLOSe",
        reply="`OPEN`/`CLOS`", interlocks=("enclosure_closed",),
        doc="beam shutter; CLOSe, always taken, aborts a running job",
    ),
    ScpiCommand(
        name="door", header=":ENCLosure:DOOR", form="both", syntax="OPEN|CLOSe",
        reply="`OPEN`/`CLOS`", preconditions=(EMISSION_ON, SHUTTER_OPEN),
        doc="the enclosure door, closed at the start; OPEN only with the beam kept in",
    ),
    ScpiCommand(
        name="wafer_load", header=":WAFer:LOAD", syntax='"<id>"[,FRONt|BACK]',
        parameters=("wafer_id", "face_up"),
        preconditions=(DOOR_CLOSED, WAFER_ON_CHUCK, PROCESSED_LAST),
        doc="wafer on the chuck, the given face up towards the beam (default `FRONt`); id a "
        "quoted string (-104 bare) of 1-16 printable ASCII without space, `,`, `;` or `\"` "
        "(-224). Clears the site selection",
    ),
    ScpiCommand(
        name="wafer_reload", header=RELOAD_HEADER, syntax='"<id>"[,FRONt|BACK]',
        parameters=("wafer_id", "face_up"), preconditions=(DOOR_CLOSED, WAFER_ON_CHUCK),
        doc=f"`:WAF:LOAD` as a rework: {RELOAD_DOC}",
    ),
    ScpiCommand(
        name="wafer_unload", header=":WAFer:UNLoad", preconditions=(DOOR_CLOSED, NO_WAFER),
        doc="chuck empty",
    ),
    ScpiCommand(
        name="wafer", header=":WAFer[:ID]", form="query", reply='`"<id>"`, `""` when empty',
        doc="the wafer on the chuck",
    ),
    ScpiCommand(
        name="wafer_flip", header=":WAFer:FLIP", preconditions=(JOB_HOLDS_SETTINGS, NO_WAFER),
        precondition_fields={"setting": "flip"},
        doc="turn the loaded wafer over on the chuck (the flipper; the door may stay closed), "
        "so its other face lies up. Clears the site selection",
    ),
    ScpiCommand(
        name="wafer_face", header=":WAFer:FACE", form="query", reply="`FRON`/`BACK`",
        doc="the face of the loaded wafer that lies up: what a job drills or cleans. With "
        "the back of a tape panel up, `DRIL` opens its solder resist (the outermost back "
        "resin) and `CLE` cleans the metal in those openings; with its front up and no resin "
        "there, `DRIL` drills the tape at its through-hole sites, down to the metal layer",
    ),
    ScpiCommand(
        name="atmosphere", header=":PROCess:ATMosphere", form="both", syntax="<a>",
        preconditions=(JOB_HOLDS_SETTINGS,), precondition_fields={"setting": "atmosphere"},
        overlapped=True,
        doc="the gas around the wafer: `AIR`, `VACuum` (reduced pressure), `NITRogen`, "
        "`ARGon`, `FGAS` (forming gas, H2 in N2/Ar: reducing); a change starts a vent, "
        "pump-down or purge (`:ABOR` ends `*OPC?`'s wait for it; the gas goes on settling)",
    ),
    ScpiCommand(
        name="atmosphere_ready", header=":PROCess:ATMosphere:READy", form="query",
        reply="`1`/`0`", doc="the atmosphere has settled (see *Timing*)",
    ),
    ScpiCommand(
        name="jet", header=":PROCess:JET", form="both", syntax="ON|OFF",
        preconditions=(JOB_HOLDS_SETTINGS,), precondition_fields={"setting": "gas jet"},
        doc="assist gas jet onto the surface (peels residue)",
    ),
    ScpiCommand(
        name="suction", header=":PROCess:SUCTion", form="both", syntax="ON|OFF",
        preconditions=(JOB_HOLDS_SETTINGS,), precondition_fields={"setting": "suction"},
        doc="suction nozzle (carries the removed residue away)",
    ),
    ScpiCommand(
        name="sites", header=":JOB:SITes", syntax="ALL",
        preconditions=(JOB_HOLDS_SETTINGS, NO_WAFER), precondition_fields={"setting": "sites"},
        doc="select every site of the loaded wafer",
    ),
    ScpiCommand(
        name="sites_clear", header=":JOB:SITes:CLEar", preconditions=(JOB_HOLDS_SETTINGS,),
        precondition_fields={"setting": "sites"}, doc="select no site",
    ),
    ScpiCommand(
        name="sites_add", header=":JOB:SITes:ADD", syntax="<i>[,<i>…]",
        preconditions=(JOB_HOLDS_SETTINGS, NO_WAFER), precondition_fields={"setting": "sites"},
        doc=f"add up to {SITES_PER_COMMAND} sites (0 … n-1) to the selection (after `ALL`, "
        "starts a new list); out of range -222, twice -224",
    ),
    ScpiCommand(
        name="sites_count", header=":JOB:SITes:COUNt", form="query", reply="sites",
        doc="how many sites are selected",
    ),
    ScpiCommand(
        name="drill_mode", header=":DRILl:MODE", form="both", syntax="METal|DEPTh",
        preconditions=(JOB_HOLDS_SETTINGS,), precondition_fields={"setting": "drill mode"},
        doc="drill each via to the metal under the resin, or to `:DRIL:DEPT`; default `MET`",
    ),
    ScpiCommand(
        name="drill_depth", header=":DRILl:DEPTh", form="both", syntax="<d>",
        parameters=("via_depth_um",), preconditions=(JOB_HOLDS_SETTINGS,),
        precondition_fields={"setting": "drill depth"}, doc="target depth in `DEPTh` mode, µm",
    ),
    ScpiCommand(
        name="drill_diameter", header=":DRILl:DIAMeter", form="both", syntax="<d>",
        parameters=("uv_via_diameter_um", "co2_via_diameter_um"),
        preconditions=(JOB_HOLDS_SETTINGS,), precondition_fields={"setting": "via diameter"},
        doc="via diameter, µm: UV / CO2 source",
    ),
    ScpiCommand(
        name="clean_pulses", header=":CLEan:PULSes", form="both", syntax="<n>",
        parameters=("clean_pulses",), preconditions=(JOB_HOLDS_SETTINGS,),
        precondition_fields={"setting": "pulses"}, doc="pulses per site when cleaning",
    ),
    ScpiCommand(
        name="job_start", header=":JOB:STARt", syntax="DRILl|CLEan",
        overlapped=True, interlocks=tuple(interlock.name for interlock in INTERLOCKS),
        preconditions=(
            JOB_RUNNING, ALARM_ACTIVE, NO_WAFER, ATMOSPHERE_NOT_READY, JET_UNDER_REDUCED_PRESSURE,
            NO_SITES,
        ),
        doc="scan the selected sites",
    ),
    reply_command(
        JOB_PROGRESS_REPLY, "job_progress",
        "the running or last job's progress (the fields: below), e.g. "
        "`RUNN,1200,8352,3.061,18.237`",
    ),
    reply_command(LAST_JOB_REPLY, "job_result", "the last job's outcome (the fields: below)"),
)  # fmt: skip

#: What the driver's status read asks, in this order, in one exchange: the commands by name,
#: their queries joined into one compound query (IEEE 488.2: units joined by `;`, the replies
#: joined by `;` on one line), which the driver parses by these names (decision 0018).
STATUS_QUERIES = (
    "door", "shutter", "atmosphere", "wafer", "emission", "atmosphere_ready", "jet", "suction",
    "frequency", "fluence", "power", "measured_power", "job_progress",
)  # fmt: skip
#: What each poll of a job's wait reads, the same way: its progress and the measured power.
JOB_POLL_QUERIES = ("job_progress", "measured_power")

SPEC = ToolSpec(
    kind="laser",
    role="laser",
    family="scpi",
    identity=ExpectedIdentity(
        vendor="packline",
        model=SOURCES[DEFAULT_SOURCE].model,
        firmware="1.0",
        other_models=tuple(
            hardware.model for source, hardware in SOURCES.items() if source is not DEFAULT_SOURCE
        ),
    ),
    doc="pulsed laser for via drilling and bump cleaning, SCPI over a socket",
    setpoints=SETPOINTS,
    status=(
        StatusVariable(name="power", unit="W", trace="power", doc="`:MEAS:POW?`"),
        StatusVariable(name="progress", unit="%", trace="progress", doc="from `:JOB:PROG?`"),
        StatusVariable(name="sites_done", unit="sites", trace="sites_done", doc="`:JOB:PROG?`"),
    ),
    commands=COMMANDS,
    parameters=(
        Parameter(name="wafer_id", doc="1-16 printable ASCII, quoted"),
        Parameter(name="face_up", doc="`FRONt` or `BACK`: the face towards the beam"),
    ),
    alarms=(
        Alarm(
            code="INTERLOCK_OPEN",
            text="enclosure opened while emitting; emission switched off",
        ),
        Alarm(
            code="POWER_TOLERANCE",
            text="measured power outside ±5 % of its setpoint; emission switched off",
        ),
    ),
    interlocks=INTERLOCKS,
    refusals=standard_refusals(),
    wire=ScpiWire(
        error_query=":SYSTem:ERRor[:NEXT]",
        alarm_query=":SYSTem:ALARm",
        alarm_clear=":SYSTem:ALARm:CLEar",
        interlock_query=":SYSTem:INTerlock",
        abort=":ABORt",
        interlock_error=SETTINGS_CONFLICT,
        interlock_reply="flags",
        replies=(JOB_PROGRESS_REPLY, LAST_JOB_REPLY),
    ),
)
