"""The dispenser's contract on its ASCII host link (docs/protocols/dispenser.md).

Read by the driver (`drivers/dispenser.py`), the simulated dispenser, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. Like the
coater's and the wet bench's, every command word is a GEM remote command in waiting and every
status key a status variable.
"""

from __future__ import annotations

from ..families.ascii_host_wire import (
    SETUP,
    HostCommand,
    HostInterlock,
    HostLink,
    HostParameter,
    HostRefusal,
    HostReply,
    HostReplyField,
    HostSetpoint,
    HostStatus,
    host_link_controls,
    host_link_parameters,
    host_link_queries,
    host_link_refusals,
    job_counters,
    one_wafer_transfer,
    reply_query,
    state_status,
)
from ..roles.dispenser import DispenserState, FillMaterial, FillResult, SealResin, SealResult
from .core import Alarm, ExpectedIdentity, Made, Range, ToolSpec

JET_INTERLOCKS = ("door_closed", "jet_air")

#: `FILL?`: the last fill job, as the camera measured it hole by hole (volumes in nl; `WORST`
#: the largest |filler + terminal - hole| / hole).
FILL_REPLY = HostReply(
    query="FILL?",
    result=FillResult,
    fields=(
        HostReplyField(key="WAFER", name="wafer_id"),
        HostReplyField(key="MATERIAL", name="material", kind=FillMaterial),
        HostReplyField(key="HOLES", name="holes", kind=int),
        HostReplyField(key="HOLE", name="hole_volume_nl", kind=float, decimals=3),
        HostReplyField(key="FILL", name="fill_volume_nl", kind=float, decimals=3),
        HostReplyField(key="TERMINAL", name="terminal_volume_nl", kind=float, decimals=3),
        HostReplyField(key="OVER", name="overfilled", kind=int),
        HostReplyField(key="UNDER", name="underfilled", kind=int),
        HostReplyField(key="WORST", name="worst_error", kind=float, decimals=3),
    ),
)
#: `SEAL?`: the last seal job, die by die (`HEIGHT` in um, `VOLUME` per die in ul).
SEAL_REPLY = HostReply(
    query="SEAL?",
    result=SealResult,
    fields=(
        HostReplyField(key="WAFER", name="wafer_id"),
        HostReplyField(key="RESIN", name="resin", kind=SealResin),
        HostReplyField(key="DIES", name="dies", kind=int),
        HostReplyField(key="HEIGHT", name="height_um", kind=float),
        HostReplyField(key="VOLUME", name="volume_ul", kind=float, decimals=2),
        HostReplyField(key="EXPOSED", name="exposed", kind=int),
    ),
)

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="dispenser",
    role="dispenser",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="DP-1", firmware="1.0"),
    doc="jetting dispenser (hole fill by volume, sealing resin around dies) on a TCP host link",
    setpoints=(
        HostSetpoint(
            name="fill_volume_nl",
            unit="nl",
            machine_range=Range(0.01, 50),
            process_limit=Range(0.05, 20),
            placeholder="<nl>",
            label="fill volume",
            wire_unit="nl",
            decimals=3,
            doc="volume jetted into each hole (est window: a jet dot is 0.5-20 nl)",
        ),
        HostSetpoint(
            name="terminal_volume_nl",
            unit="nl",
            machine_range=Range(0, 50),
            process_limit=Range(0, 20),
            placeholder="<nl>",
            label="terminal volume",
            wire_unit="nl",
            decimals=3,
            doc="room left per hole for the terminal inserted later; the camera checks "
            "filler + terminal against each hole's volume",
        ),
        HostSetpoint(
            name="seal_height_um",
            unit="um",
            machine_range=Range(10, 3000),
            process_limit=Range(50, 2000),
            placeholder="<um>",
            label="seal height",
            wire_unit="um",
            decimals=1,
            doc="the sealing resin's top above the substrate around the dies (est window)",
        ),
    ),
    parameters=host_link_parameters(
        HostParameter(
            name="wafer", placeholder="<panel>", doc="panel or wafer id, 1-16 characters"
        ),
        HostParameter(
            name="material",
            placeholder="<material>",
            doc=", ".join(f"`{m.value}`" for m in FillMaterial),
        ),
        HostParameter(
            name="resin", placeholder="<resin>", doc=", ".join(f"`{r.value}`" for r in SealResin)
        ),
    ),
    status=(
        state_status(DispenserState),
        HostStatus(key="WAFER", name="wafer_id", doc="panel or wafer on the stage, `-` when none"),
        *job_counters("job"),
    ),
    commands=(
        *host_link_queries("OK DOOR=<0/1> AIR=<0/1>"),
        *one_wafer_transfer(
            "door_closed",
            "the conveyor takes the panel (or wafer) onto the stage and clamps it",
            "the conveyor returns the loaded panel to its magazine",
        ),
        HostCommand(
            name="FILL",
            parameters=("material", "fill_volume_nl", "terminal_volume_nl"),
            allowed_in=SETUP,
            interlocks=JET_INTERLOCKS,
            query="FILL?",
            doc="jets the volume of filler into every drilled through-hole, then measures each "
            "hole's fill (a panel with holes)",
        ),
        HostCommand(
            name="SEAL",
            parameters=("resin", "seal_height_um"),
            allowed_in=SETUP,
            interlocks=JET_INTERLOCKS,
            query="SEAL?",
            doc="dispenses the resin around every die up to the height (a panel with dies)",
        ),
        reply_query(FILL_REPLY, "the last fill job, see below"),
        reply_query(SEAL_REPLY, "the last seal job, see below"),
        *host_link_controls("the safe state: closes the jet valve, parks the gantry"),
    ),
    alarms=(
        Alarm(code="DOOR_OPENED", text="the safety door was opened during a job"),
        Alarm(code="AIR_LOST", text="the jet valve's supply air was lost during a job"),
    ),
    interlocks=(
        HostInterlock(
            key="DOOR", name="door_closed", made=Made.STEP, doc="the safety door is closed"
        ),
        HostInterlock(
            key="AIR",
            name="jet_air",
            made=Made.SUPPLY,
            doc="the jet valve's and the syringe's supply air is up",
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a number, bad panel id, unknown material or resin",
        "not allowed while a job runs; a panel already loaded; a panel the dispenser "
        "processed last, by `LOAD` (`RELOAD` takes it as a rework)",
        HostRefusal(code=7, name="NO_WAFER", text="no panel on the stage, or not the one named"),
        HostRefusal(code=8, name="NO_HOLES", text="`FILL` on a workpiece without drilled holes"),
        HostRefusal(code=9, name="NO_DIES", text="`SEAL` on a workpiece without dies"),
    ),
    wire=HostLink(replies=(FILL_REPLY, SEAL_REPLY)),
)
